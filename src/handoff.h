/*
 * handoff: run fetch's done() callbacks on worker threads, so that
 * parsing and rendering feeds overlap the downloads of the others.
 *
 * handoff_result() is the fetch_done_fn to give fetch_all(): it moves the
 * result (body, validators) into a queue of at most `depth` results and
 * returns; the workers take them in arrival order and hand each to done().
 * When the queue is full the fetching thread waits, so memory stays
 * bounded.  done() runs on up to nworkers threads at once (in order when
 * there is one): what it shares between calls it must lock.
 */
#ifndef TIDINGS_HANDOFF_H
#define TIDINGS_HANDOFF_H

#include <stddef.h>

#include "fetch.h"
#include "util.h"

struct handoff;

/* Workers for a run: one per processor, at most HANDOFF_WORKERS_MAX. */
size_t handoff_workers(void);

int handoff_start(struct handoff **out, size_t depth, size_t nworkers, fetch_done_fn done,
                  void *arg, struct err *e);
void handoff_result(const struct fetch_request *req, struct fetch_result *res, void *handoff);
/* Let the workers finish the queue, then stop them and free everything. */
void handoff_finish(struct handoff *h);

#endif
