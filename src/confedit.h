/*
 * confedit: `tidings add` and `tidings remove`, edits of the config file's
 * text that leave every other byte as it was.
 *
 * confedit_add() appends a feed section to the text; confedit_remove()
 * cuts one out.  Both work on the text alone (no file), so the commands
 * can check the result loads before it replaces the file, atomically
 * (a temporary file beside it, fsync, rename).
 */
#ifndef TIDINGS_CONFEDIT_H
#define TIDINGS_CONFEDIT_H

#include <stddef.h>

#include "util.h"

struct feed_spec {
	const char *name;
	const char *url;
	const char *title; /* or NULL */
	const char *tags;  /* "a,b" or NULL */
};

/* text + a feed section for spec, in out (text unchanged, one newline ensured between). */
int confedit_add(const char *text, size_t len, const struct feed_spec *spec, struct buf *out,
                 struct err *e);

/*
 * text without the section `feed NAME { ... }` (its whole lines when
 * nothing else shares them).  -1 with EX_DATAERR when there is none at
 * the top level of this text.
 */
int confedit_remove(const char *text, size_t len, const char *name, struct buf *out, struct err *e);

#endif
