/*
 * select: which items a subscription gets from this run's feeds.
 *
 * Pure logic over parsed feeds and the state: tags (any-of, none-of,
 * case-insensitive), not yet delivered, the same item through two feeds
 * once, the first-run rule, "since DATE", and the max-items cap (the
 * oldest go first, so a capped backlog drains without skipping anything).
 */
#ifndef TIDINGS_SELECT_H
#define TIDINGS_SELECT_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "feed.h"
#include "state.h"
#include "util.h"

/* One configured feed and what this run read from it (feed NULL: nothing). */
struct source {
	const struct feed_conf *conf;
	const struct feed *feed;
};

enum select_mode {
	SELECT_NEW,   /* a run: items not yet delivered */
	SELECT_SINCE, /* --since: every item dated on or after since, delivered or not */
	SELECT_ALL,   /* catch-up: every current item, to be recorded */
};

struct select_params {
	enum select_mode mode;
	time_t now;
	time_t since;
	const char
	    *rcpt; /* SELECT_NEW: what this bare address still lacks; NULL: the subscription */
};

enum pick_kind {
	PICK_SHOW,      /* goes into the digest; recorded once it is accepted */
	PICK_DUPLICATE, /* the same item through another feed; recorded with the digest */
	PICK_OLD,       /* first run, older than first-run: recorded, never sent */
};

struct pick {
	const struct item *item;
	size_t source; /* index into the sources */
	enum pick_kind kind;
	const struct item *dup_of; /* PICK_DUPLICATE: the item shown instead */
};

struct picks {
	struct pick *v;
	size_t n;
	size_t cap;
	size_t nshow;
	size_t undated;   /* SELECT_SINCE: left out for lacking a date */
	size_t held_back; /* new items beyond max-items, left for the next run */
};

/* Does the subscription read this feed (its feeds list, or every feed)? */
int select_sub_reads_feed(const struct sub_conf *sub, const struct feed_conf *fc);

/* Does an item with these tags (plus its feed's) pass the subscription's filters? */
int select_tags_match(const struct sub_conf *sub, const struct item *it,
                      const struct feed_conf *fc);

/*
 * Does the first-run rule apply to what sub reads from this feed?  It
 * does the first time the pair sees items: while the state holds no id
 * of the feed for sub (a new subscription, a feed added to one, or one
 * that was down on the subscription's first run).
 */
int select_first_run(const struct sub_conf *sub, const struct feed_conf *fc, const struct state *st,
                     const struct select_params *p);

/*
 * Could sub be shown this item in this run, before duplicates and
 * max-items are weighed?  Lets a run render only what a digest may need.
 * first_run: select_first_run() of the pair, asked once per feed.
 */
int select_may_show(const struct sub_conf *sub, const struct item *it, const struct feed_conf *fc,
                    const struct state *st, const struct select_params *p, int first_run);

/*
 * Fill out with the picks of sub; the PICK_SHOW ones are sorted for the
 * digest: by source (config order), newest first, undated last.
 */
int select_items(const struct sub_conf *sub, const struct source *src, size_t nsrc,
                 const struct state *st, const struct select_params *p, struct picks *out,
                 struct err *e);
void picks_free(struct picks *p);

#endif
