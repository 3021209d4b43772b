/*
 * history: a feed's older pages, for "everything since DATE".
 *
 * A feed lists only its newest items.  When --since reaches past the
 * oldest of them, history_extend() fetches older pages, one feed's pages
 * one after the other (each page names the next), all feeds' at once
 * through fetch_all (so the per-host limit and each feed's user-agent
 * hold), and appends their items to the feed:
 *
 *   - RFC 5005 paged feeds: atom:link rel="next" (also inside RSS), and
 *     JSON Feed's next_url;
 *   - RFC 5005 archived feeds: atom:link rel="prev-archive";
 *   - WordPress (its <generator> names WordPress), which has no links but
 *     takes ?paged=N (&paged=N when the URL has a query).
 *
 * A feed's paging stops at the first page whose oldest item is older than
 * since, at a 404 or 410, at a page URL already fetched or a page with no
 * new item, at a page with no older link, or after max_pages pages.
 * Pages are plain GETs: an old page has no stored validator (and a 304
 * would have no body to read).  Items are added once each (by id), and
 * those dated before since are dropped (no digest could show them).
 */
#ifndef TIDINGS_HISTORY_H
#define TIDINGS_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "feed.h"
#include "fetch.h"
#include "util.h"

enum history_stop {
	HISTORY_NOT_NEEDED, /* the feed itself reaches back to since */
	HISTORY_REACHED,    /* a page reached back to since */
	HISTORY_END,        /* no older page: no link, 404 or 410 */
	HISTORY_REPEAT,     /* a page already fetched, or one with nothing new */
	HISTORY_MAX_PAGES,  /* max_pages pages fetched and more were wanted */
	HISTORY_FAILED,     /* a page could not be fetched or parsed: see detail */
};

struct history_feed {
	const char *url;        /* the feed's URL (WordPress pages derive from it) */
	const char *user_agent; /* per-feed override, or NULL */
	const char *proxy;      /* per-feed override ("" for none), or NULL */
	int insecure;
	int allow_file;
	struct feed *feed; /* its first page, parsed; older items are appended */
	/* results */
	size_t pages; /* older pages fetched and read */
	size_t added; /* items they added */
	enum history_stop stop;
	char detail[300]; /* HISTORY_FAILED: "URL: why" */
};

/*
 * Page back each of the n feeds until since (see above).  -1 only when no
 * page could be fetched at all (out of memory, libcurl failed); each
 * feed's own outcome is in its stop.
 */
int history_extend(struct history_feed *hf, size_t n, time_t since, int max_pages,
                   const struct fetch_options *opt, struct err *e);

/* What stop means, for a person: "reached DATE", "no older page", ... */
const char *history_stop_text(enum history_stop s);

/* The parts, exposed for the tests. */

/* The ids a feed's pages met: a hash set of copies. */
struct history_id_slot {
	char *id; /* NULL: empty */
	uint64_t hash;
};

struct history_ids {
	struct history_id_slot *slot;
	size_t cap; /* slots: 0 or a power of two, never more than half used */
	size_t n;
	size_t work; /* slots probed so far, moves included: the cost, for the tests */
};

/* Add a copy of id: 1 if new, 0 if there already, -1 on OOM. */
int history_ids_add(struct history_ids *s, const char *id);
void history_ids_free(struct history_ids *s);

/* Does the page reach past since?  1 if its oldest dated item is on or after it. */
int history_wants_older(const struct feed *page, time_t since);
/* Does the generator name WordPress? */
int history_is_wordpress(const struct feed *f);
/* url with paged=n added as its last query parameter (before any #fragment); NULL on OOM. */
char *history_wordpress_page(const char *url, int n);

#endif
