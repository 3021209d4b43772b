/*
 * htmlparse: feed HTML to libxml2's HTML parser within bounds.
 *
 * htmlparse() gives libxml2 valid UTF-8 (each bad byte U+FFFD, NULs gone),
 * at most 25,000 tags (the rest cut, and a last paragraph says so), and
 * tells where libxml2 halted on nesting deeper than 256 levels, so that
 * the loss is told, not silent.  htmlparse_cut_point() says where to cut
 * HTML to a byte bound.
 */
#ifndef TIDINGS_HTMLPARSE_H
#define TIDINGS_HTMLPARSE_H

#include <stddef.h>

#include <libxml/HTMLparser.h>

#include "util.h"

/*
 * The document of len bytes of html; NULL with *failed 0 when it is empty
 * (len 0, or nothing parsed).  *failed is 1, and e says why, when it is
 * too large for libxml2 or out of memory.  *halted is where libxml2 stopped
 * (a byte offset plus one), or 0 when it read everything.  Free with
 * xmlFreeDoc.
 */
htmlDocPtr htmlparse(const char *html, size_t len, struct err *e, int *failed, size_t *halted);

/* The body element of doc (may be NULL), or NULL. */
xmlNodePtr htmlparse_body(htmlDocPtr doc);

/*
 * Where to cut len bytes of html to at most max bytes: before the last tag
 * that starts in the last 8 KB, else at a character's start.  len if it
 * fits.
 */
size_t htmlparse_cut_point(const char *html, size_t len, size_t max);

#endif
