/*
 * feed: the parser that fills the item model (item.h).
 *
 * feed_parse() reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 (and JSON Feed) from
 * memory, never touching the network, and returns plain data.  A document
 * that is broken but readable is parsed as far as possible and says so in
 * feed.warning; one that is not a feed at all is an error.  The items'
 * stages (parsed, released, packed) are told in item.h.
 */
#ifndef TIDINGS_FEED_H
#define TIDINGS_FEED_H

#include <stddef.h>
#include <time.h>

#include "item.h"
#include "util.h"

#define FEED_ITEMS_MAX 100000 /* items a feed keeps: the first ones */

struct feed {
	char *format;   /* "rss20", "rss10", "rss09x", "atom10", "atom03", "json11" */
	char *title;    /* or NULL */
	char *link;     /* or NULL */
	time_t updated; /* 0 when unknown */
	char *warning;  /* non-fatal problem met while parsing, or NULL */
	struct item *items;
	size_t nitems;
	char *pack; /* feed_pack: the items' strings in one block, or NULL */
	/* Where older items are (history.c pages through them); absolute URLs or NULL. */
	char *next;         /* RFC 5005 paged feed: atom:link rel="next"; JSON Feed next_url */
	char *prev_archive; /* RFC 5005 archived feed: atom:link rel="prev-archive" */
	char *generator;    /* <generator>'s text, or NULL ("WordPress" takes ?paged=N) */
};

/*
 * Parse len bytes of data fetched from url (used for xml:base-less
 * relative links; may be NULL).  On success fill *out (free with
 * feed_free) and return 0; on failure return -1 with e saying why
 * ("not a feed: an HTML page", "empty document", ...).
 */
int feed_parse(const char *data, size_t len, const char *url, struct feed *out, struct err *e);
void feed_free(struct feed *f);

#endif
