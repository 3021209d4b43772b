/*
 * feed: the item model and the parser that fills it.
 *
 * feed_parse() reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 (and JSON Feed) from
 * memory, never touching the network, and returns plain data.  A document
 * that is broken but readable is parsed as far as possible and says so in
 * feed.warning; one that is not a feed at all is an error.
 */
#ifndef TIDINGS_FEED_H
#define TIDINGS_FEED_H

#include <stddef.h>
#include <time.h>

#include "util.h"

struct enclosure {
	char *url;
	char *type;        /* may be NULL */
	long long length;  /* -1 when unknown */
};

/* A link of an item besides its link and its enclosures (Atom rel="related", "replies"...). */
struct item_link {
	char *url;         /* absolute */
	char *rel;         /* never NULL ("alternate" when none was given) */
	char *type;        /* may be NULL */
	char *title;       /* may be NULL */
};

struct item {
	char *id;          /* identity (guid, atom id, rdf:about, link, or a hash); never NULL */
	char *title;       /* plain text, entities decoded; never NULL ("" if none) */
	char *link;        /* absolute URL, or NULL */
	char *author;      /* or NULL */
	char *content;     /* HTML, unsanitised: content:encoded / atom content, else the summary; or NULL */
	char *summary;     /* HTML: description / atom summary; or NULL */
	char *base;        /* URL that relative references in content resolve against; or NULL */
	time_t published;  /* published, else updated */
	int has_date;      /* 0: published is meaningless */
	int packed;        /* its strings (not content, summary, enclosures, duration, thumbnail,
	                      links) are in the feed's pack */
	char **tags;       /* categories, trimmed, duplicates removed */
	size_t ntags;
	struct enclosure *enclosures;
	size_t nenclosures;
	char *duration;    /* itunes:duration as written ("1:02:03", "3723"), or NULL */
	char *thumbnail;   /* media:thumbnail (else itunes:image) URL, absolute; or NULL */
	struct item_link *links; /* every other link the item gives */
	size_t nlinks;
};

struct feed {
	char *format;      /* "rss20", "rss10", "rss09x", "atom10", "atom03", "json11" */
	char *title;       /* or NULL */
	char *link;        /* or NULL */
	time_t updated;    /* 0 when unknown */
	char *warning;     /* non-fatal problem met while parsing, or NULL */
	struct item *items;
	size_t nitems;
	char *pack;        /* feed_pack: the items' strings in one block, or NULL */
	/* Where older items are (history.c pages through them); absolute URLs or NULL. */
	char *next;        /* RFC 5005 paged feed: atom:link rel="next"; JSON Feed next_url */
	char *prev_archive; /* RFC 5005 archived feed: atom:link rel="prev-archive" */
	char *generator;   /* <generator>'s text, or NULL ("WordPress" takes ?paged=N) */
};

/*
 * Parse len bytes of data fetched from url (used for xml:base-less
 * relative links; may be NULL).  On success fill *out (free with
 * feed_free) and return 0; on failure return -1 with e saying why
 * ("not a feed: an HTML page", "empty document", ...).
 */
int feed_parse(const char *data, size_t len, const char *url, struct feed *out, struct err *e);
void feed_free(struct feed *f);

/*
 * Free parts of a parsed item its user no longer needs (a big run keeps
 * tens of thousands of items): the content and summary; what only a
 * digest shows (title, link, author, base, enclosures, duration, thumbnail,
 * links: NULL after, title too); the tags; the base alone (once the content is rendered).  The id
 * and the date always stay.
 */
enum item_part { ITEM_CONTENT = 1, ITEM_SHOWN = 2, ITEM_TAGS = 4, ITEM_BASE = 8 };
void item_release(struct item *it, unsigned parts);

/*
 * Move the strings the items still have (id, title, link, author, base,
 * tags) into one block: tens of thousands of small allocations become
 * one, which saves their bookkeeping and the holes that freed content
 * leaves between them.  Released parts of packed items are not given
 * back.  -1 when out of memory (the feed is unchanged).
 */
int feed_pack(struct feed *f);

#endif
