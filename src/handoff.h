/*
 * handoff: run fetch's done() callbacks on a second thread, so that
 * parsing and rendering one feed overlap the downloads of the others.
 *
 * handoff_result() is the fetch_done_fn to give fetch_all(): it moves the
 * result (body, validators) into a queue of at most `depth` results and
 * returns; the worker hands each to done() in arrival order.  When the
 * queue is full the fetching thread waits, so memory stays bounded.
 * done() runs only on the worker: what it touches needs no lock as long
 * as the fetching thread leaves it alone until handoff_finish() returns.
 */
#ifndef TIDINGS_HANDOFF_H
#define TIDINGS_HANDOFF_H

#include <stddef.h>

#include "fetch.h"
#include "util.h"

struct handoff;

int handoff_start(struct handoff **out, size_t depth, fetch_done_fn done, void *arg,
                  struct err *e);
void handoff_result(const struct fetch_request *req, struct fetch_result *res, void *handoff);
/* Let the worker finish the queue, then stop it and free everything. */
void handoff_finish(struct handoff *h);

#endif
