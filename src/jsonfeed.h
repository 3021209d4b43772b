/*
 * jsonfeed: JSON Feed 1.0/1.1 (https://jsonfeed.org/) into the item model.
 *
 * feed_parse() hands it a document that starts with '{' or '[', already
 * valid UTF-8.  It reads the JSON with a reader of its own, bounded in depth
 * and members, so no document can exhaust the stack; a document that is not
 * JSON, or JSON that is not a JSON Feed, is an error.
 */
#ifndef TIDINGS_JSONFEED_H
#define TIDINGS_JSONFEED_H

#include <stddef.h>

#include "feed.h"
#include "util.h"

/*
 * Fill f (zeroed) from the JSON Feed of len bytes at data fetched from url
 * (relative links resolve against it; may be NULL).  0, or -1 with e saying
 * why ("not a feed: broken JSON"); f then holds what was read, for
 * feed_free.
 */
int jsonfeed_parse(const char *data, size_t len, const char *url, struct feed *f, struct err *e);

#endif
