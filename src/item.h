/*
 * item: the item model, the parts of an item both parsers build, and the
 * way a run lets go of those parts.
 *
 * struct item is what feed_parse() (RSS, Atom: feed.c; JSON Feed:
 * jsonfeed.c) makes of an entry; item_release() and feed_pack() let a big
 * run keep tens of thousands of them in little memory.  The builders
 * (item_add_*, item_url, item_escaped, item_hash_id) are for the parsers.
 */
#ifndef TIDINGS_ITEM_H
#define TIDINGS_ITEM_H

#include <stddef.h>
#include <time.h>

#include "util.h"

#define ITEM_TAGS_MAX       64 /* categories an item keeps: the first ones */
#define ITEM_ENCLOSURES_MAX 16
#define ITEM_LINKS_MAX      16

struct enclosure {
	char *url;
	char *type;       /* may be NULL */
	long long length; /* -1 when unknown */
};

/* A link of an item besides its link and its enclosures (Atom rel="related", "replies"...). */
struct item_link {
	char *url;   /* absolute */
	char *rel;   /* never NULL ("alternate" when none was given) */
	char *type;  /* may be NULL */
	char *title; /* may be NULL */
};

/*
 * An item goes through three stages; what the comments on the fields
 * promise holds while a field's part is not released.
 *
 * parsed    (feed_parse): every field as described; each string, array
 *           and struct is an allocation of its own (packed == 0).
 * released  (item_release, any time, in parts, again and again): a
 *           released part reads NULL (its counts 0) from then on, whatever
 *           its comment says: ITEM_CONTENT content and summary; ITEM_SHOWN
 *           title (NULL too), link, author, base, enclosures, duration,
 *           thumbnail, links; ITEM_TAGS tags; ITEM_BASE base alone.
 *           id, published and has_date are never released.
 * packed    (feed_pack, which packs a feed once: a run packs after the
 *           first releases): the strings left of id, title, link, author,
 *           base, and the tags (array and strings) move into the feed's
 *           pack (packed == 1);
 *           content, summary, enclosures, duration, thumbnail and links
 *           stay allocations of their own.  Releasing a packed part
 *           lets go of it (NULL) without freeing it: its bytes stay in
 *           the pack until feed_free.
 *
 * Who frees: never the user of an item, who only releases parts;
 * item_release frees what it releases unless it is in the pack;
 * feed_free frees the rest, whatever the stage.
 */
struct item {
	char *id;     /* identity (guid, atom id, rdf:about, link, or a hash); never NULL */
	char *title;  /* plain text, entities decoded; "" if none (NULL once released) */
	char *link;   /* absolute URL, or NULL */
	char *author; /* or NULL */
	/* HTML, unsanitised: content:encoded / atom content, else the summary; or NULL */
	char *content;
	char *summary;    /* HTML: description / atom summary; or NULL */
	char *base;       /* URL that relative references in content resolve against; or NULL */
	time_t published; /* published, else updated */
	int has_date;     /* 0: published is meaningless */
	int packed;       /* id, title, link, author, base, tags are in the feed's pack */
	char **tags;      /* categories, trimmed, duplicates removed */
	size_t ntags;
	struct enclosure *enclosures;
	size_t nenclosures;
	char *duration;          /* itunes:duration as written ("1:02:03", "3723"), or NULL */
	char *thumbnail;         /* media:thumbnail (else itunes:image) URL, absolute; or NULL */
	struct item_link *links; /* every other link the item gives */
	size_t nlinks;
};

/*
 * Let go of parts of an item its user no longer needs (a big run keeps
 * tens of thousands of items): the content and summary; what only a
 * digest shows; the tags; the base alone (once the content is rendered).
 * See "released" above.
 */
enum item_part { ITEM_CONTENT = 1, ITEM_SHOWN = 2, ITEM_TAGS = 4, ITEM_BASE = 8 };
void item_release(struct item *it, unsigned parts);

struct feed;
/*
 * Move the strings the items still have (id, title, link, author, base,
 * tags) into one block: tens of thousands of small allocations become
 * one, which saves their bookkeeping and the holes that freed content
 * leaves between them.  Released parts of packed items are not given
 * back.  -1 when out of memory (the feed is unchanged).
 */
int feed_pack(struct feed *f);

/* ---- for the parsers ---- */

/* Free everything the item holds, id included (feed_free does it for a feed's items). */
void item_free(struct item *it);
/* href resolved against base (NULL or "": none); NULL only when out of memory. */
char *item_url(const char *href, const char *base);
/* Plain text as HTML: & < > " escaped; NULL when out of memory. */
char *item_escaped(const char *text);
/*
 * Add a category to tags: white space squeezed, an empty one or one
 * already there (ignoring case) left out, past ITEM_TAGS_MAX left out.  -1 on OOM.
 */
int item_add_tag(struct strv *tags, const char *raw);
/*
 * Add an enclosure, taking url, type and length (each may be NULL; a NULL
 * or empty url, or one past ITEM_ENCLOSURES_MAX, is no enclosure).  -1 on OOM.
 */
int item_add_enclosure(struct item *it, char *url, char *type, char *length);
/*
 * Add another link, taking its strings (rel NULL: "alternate"; one past
 * ITEM_LINKS_MAX is left out).  -1 on OOM.
 */
int item_add_link(struct item *it, char *url, char *rel, char *type, char *title);
/*
 * The id of an item that gives none: "sha:" and 16 hex digits over its
 * title and date (and its link and content when both are empty).  NULL
 * when out of memory, never the hash of part of them.
 */
char *item_hash_id(const struct item *it);

#endif
