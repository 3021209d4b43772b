/*
 * wrap: plain text in lines of a fixed width, as a mail reader shows it.
 *
 * Lines break at spaces, never inside a word or URL; beside Chinese and
 * Japanese ideographs too (UAX #14's rules for them), where wide
 * characters take two columns (UAX #11).  text_wrap() wraps whole text;
 * wrap_line() and wrap_put_line() write line by line with a prefix (quote
 * marks, indentation, a list marker), for the HTML renderer.
 */
#ifndef TIDINGS_WRAP_H
#define TIDINGS_WRAP_H

#include <stddef.h>

#include "util.h"

/*
 * Wrap plain text at width columns, never breaking a word or URL.  Existing
 * line breaks stay; a long line starting with "> " or a list marker keeps
 * that prefix (or its indentation) on its continuation lines.
 */
int text_wrap(const char *text, int width, struct buf *out);

/* Columns n bytes of UTF-8 take in a fixed-width font: wide (CJK) characters two. */
size_t text_columns(const char *s, size_t n);

/* Lines written to out, joined by "\n": the first is not preceded by one. */
struct wrap_lines {
	struct buf *out;
	size_t n;       /* lines written */
	int last_empty; /* the last line written was empty (or only quote marks) */
	int oom;        /* set when an append failed */
};

/* A line: prefix (its trailing spaces dropped when s is empty), then n bytes of s. */
void wrap_put_line(struct wrap_lines *l, const char *prefix, size_t plen, const char *s, size_t n);

/*
 * One line of text (no newline) wrapped at width columns (0: no limit)
 * into lines prefixed with first, then with rest.  A word longer than the
 * line stays whole on a line of its own.
 */
void wrap_line(struct wrap_lines *l, const char *s, size_t n, const char *first, size_t flen,
               const char *rest, size_t rlen, int width);

#endif
