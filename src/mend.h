/*
 * mend: a fetched XML document made fit for libxml2, before feed.c walks it.
 *
 * mend_decode() makes a document valid UTF-8 whatever its encoding says.
 * A mender then hands it to the parser a chunk at a time with every entity
 * reference rewritten as one libxml2 keeps (HTML names like &nbsp;
 * included), bare '&' escaped and forbidden control bytes dropped.  Text
 * the mender can decode itself goes around libxml2, which is slow at it: a
 * marker (a processing instruction) stands in its place, and mender_text()
 * gives the text back when the parser reports the marker.
 *
 * Also the pieces of character references the parsers share: the HTML
 * entity table, character references, UTF-8 out.
 */
#ifndef TIDINGS_MEND_H
#define TIDINGS_MEND_H

#include <stddef.h>

#include "util.h"

/*
 * Make the document (*data, *len) valid UTF-8 (BOM, declaration, or a lie
 * caught by invalid UTF-8), pointing them at tmp when it needed a copy.  A
 * note for feed.warning goes into warn (wsize bytes).  -1 when out of memory.
 */
int mend_decode(const char **data, size_t *len, struct buf *tmp, char *warn, size_t wsize);

/* A mender over the n bytes at doc (decoded, kept by the caller); NULL when out of memory. */
struct mender *mender_new(const char *doc, size_t n);
/*
 * Append the next chunk of mended document to out, about limit bytes:
 * 1 when more follows, 0 at the end, -1 when out of memory.
 */
int mender_chunk(struct mender *m, struct buf *out, size_t limit);
/*
 * The text that a processing instruction (target, data) the parser met
 * stands for, *len bytes long (not NUL-terminated); NULL when it is not one
 * of this mender's markers (a feed cannot forge them) or was read before.
 */
const char *mender_text(struct mender *m, const char *target, const char *data, size_t *len);
/* Between chunks: drop the text of the markers the parser has reported. */
void mender_trim(struct mender *m);
void mender_free(struct mender *m);

/* The code point of HTML 4's &name; (name NUL-terminated, without '&' ';'), or -1. */
int mend_entity(const char *name);
/* The length of a well-formed character reference at p ("&#123;", "&#x1F;"; n bytes left), or 0. */
size_t mend_charref_len(const char *p, size_t n);
/* Append code point cp as UTF-8; surrogates and out-of-range become U+FFFD.  -1 on OOM. */
int mend_put_utf8(struct buf *b, unsigned long cp);

#endif
