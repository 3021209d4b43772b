/*
 * state: what was delivered, to whom, and how each feed last answered.
 *
 * The state file is text ("tidings-state 2" on its first line), loaded into
 * hash tables, changed in memory during a run and written back once,
 * atomically.  A run holds STATE.lock throughout (statelock.h).
 * Nothing touches the disk but state_save.  The format is in
 * tidings-state(5).
 */
#ifndef TIDINGS_STATE_H
#define TIDINGS_STATE_H

#include <stddef.h>
#include <time.h>

#include "util.h"

struct state;

/*
 * Per feed, keyed by URL.  The state owns the strings (freed with free());
 * change them with state_set_str.  url is the key: never change it.
 */
struct feed_state {
	char *url;
	char *etag;           /* or NULL */
	char *last_modified;  /* or NULL */
	time_t last_fetch;    /* 0: never */
	long last_status;     /* HTTP status of the last fetch, 0 if none */
	char *last_error;     /* or NULL when the last fetch was fine */
	int failures;         /* consecutive */
	time_t first_failure; /* start of the current failure streak, or 0 */
	time_t retry_after;   /* do not poll before this, or 0 */
	int gone;             /* 410 seen */
	char *moved_to;       /* the last permanent move reported, or NULL */
};

/* A missing file is an empty state; a corrupt one is an error naming file:line (EX_IOERR). */
int state_load(const char *path, struct state **out, struct err *e);
/*
 * state_load without the item records (most of a large file): a run whose
 * feeds all answer 304 needs only the feed and sub records.  A file
 * that does not end with its end record is read whole at once.  Call
 * state_load_items, which reads the rest (its errors as state_load's),
 * before anything that reads or records items: state_pair_known,
 * state_delivered*, state_sub_split, state_record*, state_feed_seen,
 * state_feed_nids, state_nids.  state_save reads them itself.  Once read,
 * state_load_items does nothing; once failed, it fails again.
 */
int state_open(const char *path, struct state **out, struct err *e);
int state_load_items(struct state *st, struct err *e);
/*
 * Temp file in the same folder, fsync, rename, fsync of the folder; mode
 * 0600.  A symbolic link is written through.  Nothing is written when
 * nothing changed since the load or the last save (state_changed).
 */
int state_save(struct state *st, const char *path, struct err *e);
/* Does st differ from the file it was loaded from (or last saved to)?  A new state does. */
int state_changed(const struct state *st);
/* Would state_save write (st changed, or the file at path is not the one it knows)? */
int state_needs_save(const struct state *st, const char *path);
/*
 * Did only feeds' fetch records change since the file at path was read or
 * written (a run whose feeds all answered 304)?  Then the journal can keep
 * them (journal_save_feeds) instead of a rewrite of the whole file:
 * state_write_changed_feeds writes those records to fd, in the file's
 * form, and state_feeds_saved counts them saved once they are durable;
 * state_replay_feed reads one back (line is cut up in place; path and
 * lineno name it in errors, EX_IOERR), unless the state's own record of
 * the feed is of a later fetch.
 */
int state_feeds_only_changed(const struct state *st, const char *path);
int state_write_changed_feeds(const struct state *st, int fd, struct err *e);
void state_feeds_saved(struct state *st);
int state_replay_feed(struct state *st, const char *path, size_t lineno, char *line, struct err *e);
void state_free(struct state *st);
/* Where the state at path is written: path, or where it leads if it is a symbolic link. */
int state_target(const char *path, char **out, struct err *e);
/* Remove STATE.tmp.* left by a crash; only the holder of the lock may. */
int state_remove_temps(const char *path, struct err *e);
/* mkdir -p of the state file's folder (new folders 0700). */
int state_mkdir_parent(const char *path, struct err *e);

/* The record for url, created if create is set (NULL on OOM or when absent). */
struct feed_state *state_feed(struct state *st, const char *url, int create);

/* Has subscription sub ever recorded anything? (first-run rule) */
int state_sub_known(const struct state *st, const char *sub);
/* Mark sub as known even when it recorded nothing. */
int state_sub_touch(struct state *st, const char *sub);
/*
 * Does the state hold any id of feed_url for sub?  (The first-run rule
 * is per subscription and feed.)  The first call after a change reads
 * every id once, the others cost a lookup; like state_delivered, not to be
 * called from two threads at once.
 */
int state_pair_known(const struct state *st, const char *sub, const char *feed_url);

/*
 * Delivery is recorded per subscription or per recipient of one.
 * A subscription's record (state_record) means every recipient has the
 * item, including ones added to the subscription later; a recipient's
 * record (state_record_to) means only that one does, the others still
 * wait for it (one was refused it for now).  Version 1 files hold only
 * subscription records.  A recipient's record is dropped at save once its
 * subscription's record covers the item.
 */
/* 1 if (feed_url, id) was delivered to sub as a whole (every recipient), else 0. */
int state_delivered(const struct state *st, const char *sub, const char *feed_url, const char *id);
/* 1 if rcpt (a bare address) of sub has (feed_url, id); rcpt NULL: state_delivered. */
int state_delivered_to(const struct state *st, const char *sub, const char *rcpt,
                       const char *feed_url, const char *id);
/* Has any recipient of sub records of their own?  If not, every recipient has the same items. */
int state_sub_split(const struct state *st, const char *sub);
/* Record (feed_url, id) as delivered to sub as a whole at now; -1 on OOM. */
int state_record(struct state *st, const char *sub, const char *feed_url, const char *id,
                 time_t now);
/* Record it as delivered to rcpt of sub only (rcpt NULL: state_record); -1 on OOM. */
int state_record_to(struct state *st, const char *sub, const char *rcpt, const char *feed_url,
                    const char *id, time_t now);

/*
 * The feed at feed_url was parsed at now and holds these ids: they are
 * still present (refresh their last-seen time); ids of that feed absent
 * from it and last seen more than retention seconds ago are forgotten.
 */
int state_feed_seen(struct state *st, const char *feed_url, char *const *ids, size_t nids,
                    time_t now, time_t retention);

/* An empty state (NULL on OOM). */
struct state *state_new(void);

/* Replace *field with a copy of value (NULL allowed); -1 on OOM. */
int state_set_str(char **field, const char *value);

/* Feed records in the order they were loaded or created (sorted by URL after a load). */
size_t state_nfeeds(const struct state *st);
struct feed_state *state_feed_at(struct state *st, size_t i);
/* Delivered ids recorded for feed_url, over every subscription. */
size_t state_feed_nids(const struct state *st, const char *feed_url);
/* Delivered ids recorded, over every feed and subscription. */
size_t state_nids(const struct state *st);

#endif
