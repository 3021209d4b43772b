/*
 * json: a small JSON reader for the tests, building template value trees
 * (struct tval) from the Mustache spec files.  Objects become maps, arrays
 * lists; integers tv_int, other numbers tv_num in their shortest form.
 */
#ifndef TIDINGS_TEST_JSON_H
#define TIDINGS_TEST_JSON_H

#include <stddef.h>

#include "template.h"

/* NULL on a syntax error (or OOM), with a message in err. */
struct tval *json_parse(const char *s, size_t n, char *err, size_t errlen);
struct tval *json_load_file(const char *path, char *err, size_t errlen);

#endif
