/*
 * confkit: what the config tests (test_config, test_confscan) share.
 * Each test gets a fresh folder, tc_dir (its real path, as messages name
 * it), holding tpl/ with two templates and an empty sub/; tc_put writes a
 * file there, tc_load loads tc_dir/t.conf with the diagnostics caught,
 * and tc_has_line looks for one "DIR/FILE:LINE: ...WHAT..." line.
 */
#ifndef TIDINGS_TEST_CONFKIT_H
#define TIDINGS_TEST_CONFKIT_H

#include <limits.h>
#include <sys/types.h>

#include "config.h"

#define HEAD "from = \"Tidings <t@example.org>\"\ntemplates = \"tpl\"\ndeliver = \"stdout\"\n"

extern char tc_dir[PATH_MAX];

/* Check fixtures: a fresh tc_dir before each test, removed after it. */
void tc_setup(void);
void tc_teardown(void);
/* tc_dir/name holding text, with mode. */
void tc_put(const char *name, const char *text, mode_t mode);
/* Load tc_dir/t.conf holding text; config_load's result, its diagnostics in *out. */
int tc_load(const char *text, struct config *cfg, char **out, struct err *e);
/* Does diag hold a line "tc_dir/file:line: ...what..."? */
int tc_has_line(const char *diag, const char *file, int line, const char *what);

#endif
