/*
 * journal: what makes a run's recording safe before and while it sends.
 *
 * Before anything is delivered, journal_preflight proves the state can be
 * written: a temporary file in the state's folder, with room for the new
 * state, created, filled and fsynced (then removed).  A state that cannot
 * be saved would otherwise send the same digest on every run.
 *
 * While digests are delivered, each accepted digest's records go to
 * STATE.journal (beside the state file), appended and fsynced before the
 * next digest is sent, so a crash repeats at most the digest in flight.
 * The next load replays the journal through state_record_to; once the state
 * is saved the journal is removed.  A run that changed only its feeds'
 * fetch records (every feed answered 304) appends those to the journal
 * instead of rewriting the whole state.  The format is in tidings-state(5).
 */
#ifndef TIDINGS_JOURNAL_H
#define TIDINGS_JOURNAL_H

#include <stddef.h>
#include <time.h>

#include "state.h"
#include "util.h"

struct journal;

/*
 * Prove the state at state_path can be saved with room extra bytes beyond
 * its present size.  -1 with EX_CANTCREAT or EX_IOERR and one line.
 */
int journal_preflight(const char *link_path, size_t room, struct err *e);

/*
 * Replay STATE.journal into st, if there is one: each committed group's
 * records through state_record_to (a group cut short by a crash was never
 * committed, and its digest is the one in flight).  -1 (EX_IOERR, file:line)
 * if it is corrupt.
 */
int journal_replay(const char *state_path, struct state *st, struct err *e);

/* Open STATE.journal for appending (created 0600 if missing). */
int journal_open(const char *state_path, struct journal **out, struct err *e);
/*
 * One record of the group being built (nothing is written yet): delivered
 * to rcpt of sub, or to the subscription as a whole when rcpt is NULL
 * (state_record_to's meaning).  -1 on OOM.
 */
int journal_add(struct journal *j, const char *sub, const char *rcpt, const char *feed_url,
                const char *id, time_t when);
/* Write the group and its commit line, then fsync. */
int journal_commit(struct journal *j, struct err *e);
/*
 * A run that changed nothing but its feeds' fetch records (state_feeds_only_changed):
 * append those records to STATE.journal as one group, instead of rewriting
 * the state file.  1 when done; 0 when the journal holds enough of them
 * already (then save the state whole, which removes the journal); -1 on
 * error (EX_CANTCREAT, EX_IOERR).
 */
int journal_save_feeds(const char *state_path, struct state *st, struct err *e);
/* Close (NULL is fine); what it holds stays for the next load. */
void journal_close(struct journal *j);
/* The state holding everything was saved: remove STATE.journal, if any. */
int journal_remove(const char *state_path, struct err *e);

#endif
