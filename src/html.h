/*
 * html: make feed HTML safe for mail, and readable as plain text.
 *
 * html_sanitize() keeps an allowlist of elements and attributes, resolves
 * URLs against base, allows only http, https and mailto, drops tracking
 * pixels and utm_* parameters, and fits images to the column.
 * html_to_text() renders HTML as wrapped plain text with numbered link
 * references ("[1]") whose URLs it returns in order.
 */
#ifndef TIDINGS_HTML_H
#define TIDINGS_HTML_H

#include <stddef.h>

#include "util.h"

int html_sanitize(const char *html, size_t len, const char *base, struct buf *out, struct err *e);

/*
 * Append the text to out, wrapped at width columns (never inside a word or
 * URL).  Link URLs go to links, numbered from first_ref: the first link
 * is "[first_ref]".
 */
int html_to_text(const char *html, size_t len, const char *base, int width, int first_ref,
                 struct buf *out, struct strv *links, struct err *e);

/* Wrap plain text at width columns, never breaking a word or URL. */
int text_wrap(const char *text, int width, struct buf *out);

#endif
