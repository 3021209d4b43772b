/*
 * poll: the per-feed polling policy, pure functions over a feed's record.
 *
 * poll_due() says whether a feed may be fetched now (not gone, not asked to
 * wait by the server, its interval elapsed).  poll_update() applies a fetch
 * result to the record and says what, if anything, the user must hear about
 * it -- each event exactly once: a feed failing report_after times in a row,
 * recovering after that, moving permanently, or gone.
 */
#ifndef TIDINGS_POLL_H
#define TIDINGS_POLL_H

#include <stddef.h>
#include <time.h>

#include "fetch.h"
#include "state.h"

enum poll_report {
	POLL_REPORT_NONE,
	POLL_REPORT_FAILING,   /* failures just reached report_after */
	POLL_REPORT_RECOVERED, /* a reported failure streak ended */
	POLL_REPORT_MOVED,     /* permanent redirect to a new URL, first time */
	POLL_REPORT_GONE,      /* 410, first time */
};

/*
 * 1 if the feed should be fetched now, 0 if not with the reason in why
 * ("gone (HTTP 410) ...", "the server asked to wait until ...", "polled
 * at ..., next after ...").  fs may be NULL (never fetched: due).
 * interval <= 0 means no interval.
 */
int poll_due(const struct feed_state *fs, time_t interval, time_t now, char *why, size_t whysz);

/*
 * Apply r, fetched at now, to fs: last_fetch, last_status, last_error,
 * failures / first_failure, retry_after, gone, on FETCH_OK the new
 * validators (a 304 keeps the old ones), and after any good fetch moved_to
 * (a failed fetch leaves it: the move stays reported once).  The caller decides when to commit
 * the record.  Returns what to tell the user, with the text (to be
 * prefixed with the feed's name) in msg; POLL_REPORT_NONE leaves msg "".
 * report_after < 1 counts as 1.  On out of memory a string field may be
 * left NULL (a lost validator only costs a full download).
 */
enum poll_report poll_update(struct feed_state *fs, const struct fetch_result *r, time_t now,
                             int report_after, char *msg, size_t msgsz);

#endif
