#include "handoff.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/*
 * Parsing a feed takes a fraction of its download: past four threads the
 * parsers wait for the network, and each holds a feed's items in memory.
 */
#define HANDOFF_WORKERS_MAX 4

struct job {
	const struct fetch_request *req;
	struct fetch_result res;
};

struct handoff {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a job was queued or taken, or the end came */
	struct job *ring;
	size_t depth, head, count;
	int closing;
	pthread_t *workers;
	size_t nworkers;
	fetch_done_fn done;
	void *arg;
};

/* What fetch_all would free after the callback, freed after ours instead. */
static void
result_free(struct fetch_result *res)
{
	free(res->body);
	free(res->etag);
	free(res->last_modified);
	free(res->moved_to);
}

size_t
handoff_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > HANDOFF_WORKERS_MAX ? HANDOFF_WORKERS_MAX : (size_t)n;
}

static void *
work(void *p)
{
	struct handoff *h = p;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct job j;

		while (h->count == 0 && !h->closing)
			pthread_cond_wait(&h->changed, &h->lock);
		if (h->count == 0)
			break;
		j = h->ring[h->head];
		h->head = (h->head + 1) % h->depth;
		h->count--;
		pthread_cond_broadcast(&h->changed);
		pthread_mutex_unlock(&h->lock);
		h->done(j.req, &j.res, h->arg);
		result_free(&j.res);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void
handoff_free(struct handoff *h)
{
	pthread_cond_destroy(&h->changed);
	pthread_mutex_destroy(&h->lock);
	free(h->workers);
	free(h->ring);
	free(h);
}

/* Stop the workers once the queue is empty, and wait for them. */
static void
stop_workers(struct handoff *h)
{
	pthread_mutex_lock(&h->lock);
	h->closing = 1;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	for (size_t i = 0; i < h->nworkers; i++)
		pthread_join(h->workers[i], NULL);
}

int
handoff_start(struct handoff **out, size_t depth, size_t nworkers, fetch_done_fn done, void *arg,
              struct err *e)
{
	struct handoff *h = calloc(1, sizeof *h);

	*out = NULL;
	if (h == NULL || depth == 0 || nworkers == 0 ||
	    (h->ring = calloc(depth, sizeof *h->ring)) == NULL ||
	    (h->workers = calloc(nworkers, sizeof *h->workers)) == NULL) {
		if (h != NULL)
			free(h->ring);
		free(h);
		return err_oom(e);
	}
	h->depth = depth;
	h->done = done;
	h->arg = arg;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->changed, NULL);
	for (; h->nworkers < nworkers; h->nworkers++)
		if (pthread_create(&h->workers[h->nworkers], NULL, work, h) != 0)
			break;
	if (h->nworkers == 0) {
		handoff_free(h);
		return err_set(e, EX_OSERR, "cannot start a thread to parse feeds");
	}
	*out = h; /* fewer threads than asked for still do the work */
	return 0;
}

void
handoff_result(const struct fetch_request *req, struct fetch_result *res, void *handoff)
{
	struct handoff *h = handoff;

	pthread_mutex_lock(&h->lock);
	while (h->count == h->depth)
		pthread_cond_wait(&h->changed, &h->lock);
	h->ring[(h->head + h->count) % h->depth] = (struct job){req, *res};
	h->count++;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	/* Ours now: fetch_all must not free them. */
	res->body = res->etag = res->last_modified = res->moved_to = NULL;
}

void
handoff_finish(struct handoff *h)
{
	if (h == NULL)
		return;
	stop_workers(h);
	handoff_free(h);
}
