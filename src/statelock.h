/*
 * statelock: one run at a time over a state file.  STATE.lock, beside
 * it, is held with flock(2) for the whole run and holds the run's pid, so
 * that a second run can say whose it is; a run that dies lets go of it.
 */
#ifndef TIDINGS_STATELOCK_H
#define TIDINGS_STATELOCK_H

#include "util.h"

struct state_lock;

/* Take STATE.lock; -1 with EX_TEMPFAIL if another run holds it. */
int state_lock(const char *state_path, struct state_lock **out, struct err *e);
void state_unlock(struct state_lock *l);

#endif
