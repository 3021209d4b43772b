/*
 * html: make feed HTML safe for mail, and readable as plain text.
 *
 * html_render() parses the HTML once and gives both parts.  The HTML part
 * keeps an allowlist of elements and attributes, resolves URLs against
 * base, allows only http, https and mailto, drops tracking pixels and
 * utm_* parameters, and fits images to the column.  The text part is the
 * HTML as wrapped plain text with numbered link references ("[1]") whose
 * URLs it returns in order.
 */
#ifndef TIDINGS_HTML_H
#define TIDINGS_HTML_H

#include <stddef.h>

#include "util.h"

/*
 * Append the sanitised HTML to html_out, and to text_out the text wrapped
 * at width columns (never inside a word or URL).  Link URLs go to links,
 * numbered from first_ref: the first link is "[first_ref]".  Blocks are
 * separated by a blank line; the text has no trailing newline.  Links
 * whose text is their URL get no reference; the same URL twice gets the
 * same number.
 */
int html_render(const char *html, size_t len, const char *base, int width, int first_ref,
                struct buf *html_out, struct buf *text_out, struct strv *links, struct err *e);

/*
 * An item's content rendered as html_render does, with a bound: the first
 * max bytes (0: all), cut before a tag.  Content left out, past the bound
 * or past the 256 levels of nesting libxml2 parses, is told at the end of
 * both parts as "[cut: N KB more at LINK]" (the link cleaned, left out if
 * none) and its bytes are put in cut.
 */
struct html_item {
	int width;        /* of the text */
	int first_ref;    /* the first link's number */
	const char *link; /* the item's link, or NULL */
	size_t max;       /* bytes of HTML rendered at most; 0: no bound */
	size_t cut;       /* out: bytes left out */
	int too_deep;     /* out: cut by the nesting, not by max */
};

int html_render_item(const char *html, size_t len, const char *base, struct html_item *item,
                     struct buf *html_out, struct buf *text_out, struct strv *links, struct err *e);

#endif
