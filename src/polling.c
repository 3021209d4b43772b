/*
 * poll: when to fetch a feed, and what its fetch results mean to the user.
 *
 * A reported move is remembered in moved_to, which only a good fetch
 * changes: a failure in between must not make the same move news again.
 */
#include "polling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

static void
fmt_time(char *dst, size_t sz, time_t t)
{
	if (date_format_local(t, dst, sz) < 0)
		snprintf(dst, sz, "@%lld", (long long)t);
}

/* Replace *dst with a copy of v (NULL clears); on OOM *dst ends up NULL. */
static void
set_str(char **dst, const char *v)
{
	char *copy = v != NULL ? str_dup(v) : NULL;

	free(*dst);
	*dst = copy;
}

int
poll_due(const struct feed_state *fs, time_t interval, time_t now, char *why, size_t whysz)
{
	char when[64];

	if (whysz > 0)
		why[0] = '\0';
	if (fs == NULL)
		return 1;
	if (fs->gone) {
		snprintf(why, whysz, "gone (HTTP 410): not polled any more");
		return 0;
	}
	if (fs->retry_after > now) {
		fmt_time(when, sizeof when, fs->retry_after);
		snprintf(why, whysz, "the server asked to wait until %s", when);
		return 0;
	}
	/* A last fetch in the future means the clock moved back: poll. */
	if (interval > 0 && fs->last_fetch > 0 && fs->last_fetch <= now &&
	    now - fs->last_fetch < interval) {
		fmt_time(when, sizeof when, fs->last_fetch + interval);
		snprintf(why, whysz, "interval not elapsed: next poll after %s", when);
		return 0;
	}
	return 1;
}

static enum poll_report
on_success(struct feed_state *fs, const struct fetch_result *r, int report_after, char *msg,
           size_t msgsz)
{
	enum poll_report rep = POLL_REPORT_NONE;
	char since[64];
	size_t used;

	if (fs->failures >= report_after) {
		fmt_time(since, sizeof since, fs->first_failure);
		snprintf(msg, msgsz, "working again after %d failed fetch%s since %s", fs->failures,
		         fs->failures == 1 ? "" : "es", since);
		rep = POLL_REPORT_RECOVERED;
	}
	fs->failures = 0;
	fs->first_failure = 0;
	fs->retry_after = 0;
	fs->gone = 0;
	if (r->outcome == FETCH_OK) {
		set_str(&fs->etag, r->etag);
		set_str(&fs->last_modified, r->last_modified);
	}
	set_str(&fs->last_error, NULL);
	if (str_eq(fs->moved_to, r->moved_to))
		return rep;
	if (r->moved_to == NULL) {
		set_str(&fs->moved_to, NULL);
		return rep;
	}
	/* Moving matters more than recovering: say both, report the move. */
	used = rep == POLL_REPORT_NONE ? 0 : strlen(msg);
	snprintf(msg + used, msgsz - used,
	         "%smoved permanently to %s; update the config: url = \"%s\"", used ? "; " : "",
	         r->moved_to, r->moved_to);
	set_str(&fs->moved_to, r->moved_to);
	return POLL_REPORT_MOVED;
}

static enum poll_report
on_failure(struct feed_state *fs, const struct fetch_result *r, time_t now, int report_after,
           char *msg, size_t msgsz)
{
	char since[64], until[64];

	if (fs->failures == 0 || fs->first_failure == 0)
		fs->first_failure = now;
	fs->failures++;
	set_str(&fs->last_error, r->error[0] ? r->error : "failed");
	fs->retry_after = r->outcome == FETCH_RETRY_LATER ? r->retry_after : 0;
	if (fs->failures != report_after)
		return POLL_REPORT_NONE;
	fmt_time(since, sizeof since, fs->first_failure);
	if (fs->retry_after > now) {
		fmt_time(until, sizeof until, fs->retry_after);
		snprintf(msg, msgsz, "failing since %s: %s (asked to retry after %s)", since,
		         fs->last_error ? fs->last_error : r->error, until);
	} else {
		snprintf(msg, msgsz, "failing since %s: %s", since,
		         fs->last_error ? fs->last_error : r->error);
	}
	return POLL_REPORT_FAILING;
}

enum poll_report
poll_update(struct feed_state *fs, const struct fetch_result *r, time_t now, int report_after,
            char *msg, size_t msgsz)
{
	int was_gone = fs->gone;

	if (msgsz > 0)
		msg[0] = '\0';
	if (report_after < 1)
		report_after = 1;
	fs->last_fetch = now;
	fs->last_status = r->http_status;
	switch (r->outcome) {
	case FETCH_OK:
	case FETCH_NOT_MODIFIED: return on_success(fs, r, report_after, msg, msgsz);
	case FETCH_GONE:
		fs->gone = 1;
		fs->retry_after = 0;
		set_str(&fs->last_error, r->error[0] ? r->error : "HTTP 410 Gone");
		if (was_gone)
			return POLL_REPORT_NONE;
		snprintf(msg, msgsz,
		         "gone (HTTP 410): the server says it was removed for good; "
		         "it will not be polled again: delete it from the config");
		return POLL_REPORT_GONE;
	case FETCH_RETRY_LATER:
	case FETCH_FAILED:
	default: return on_failure(fs, r, now, report_after, msg, msgsz);
	}
}
