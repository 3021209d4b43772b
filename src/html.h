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
 * is "[first_ref]".  Blocks are separated by a blank line; the text has no
 * trailing newline.  Links whose text is their URL get no reference; the
 * same URL twice gets the same number.
 */
int html_to_text(const char *html, size_t len, const char *base, int width, int first_ref,
                 struct buf *out, struct strv *links, struct err *e);

/*
 * Both at once, parsing the HTML once (about twice as fast as calling
 * html_sanitize and html_to_text): the same results as the two calls.
 */
int html_render(const char *html, size_t len, const char *base, int width, int first_ref,
                struct buf *html_out, struct buf *text_out, struct strv *links, struct err *e);

/*
 * The URL as a digest may link it: resolved against base (may be NULL),
 * only http, https and mailto, utm_* parameters removed.  NULL if not
 * allowed.  Caller frees.  For item and feed links put in templates.
 */
char *html_clean_url(const char *url, const char *base);

/*
 * Wrap plain text at width columns, never breaking a word or URL.  Existing
 * line breaks stay; a long line starting with "> " or a list marker keeps
 * that prefix (or its indentation) on its continuation lines.
 */
int text_wrap(const char *text, int width, struct buf *out);

#endif
