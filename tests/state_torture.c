/*
 * state_torture PATH: load the state, check it, record a batch of new ids,
 * save, forever.  test_state kills it with SIGKILL at random instants and
 * checks that the file is always the old or the new state, whole.
 *
 * The invariant checked on every load: feed TORTURE_FEED holds the ids
 * 0..k-1 (a prefix of what was recorded, k a multiple of TORTURE_BATCH),
 * and its etag is k, written by the same save.
 * Exit codes: 2 the state did not load, 3 the invariant broke, 4 save failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define TORTURE_SUB   "torture"
#define TORTURE_FEED  "http://127.0.0.1/torture.xml"
#define TORTURE_BATCH 100
#define TORTURE_LIMIT 10000000

static void
id_of(char *buf, size_t n, size_t i)
{
	snprintf(buf, n, "tag:torture,2026:%08zu", i);
}

int
main(int argc, char **argv)
{
	struct err e = {0};
	struct state *st;
	struct feed_state *fs;
	char id[64], etag[32];
	size_t k, i;

	if (argc != 2) {
		fprintf(stderr, "usage: state_torture PATH\n");
		return 64;
	}
	for (;;) {
		if (state_load(argv[1], &st, &e) < 0) {
			fprintf(stderr, "state_torture: %s\n", e.msg);
			return 2;
		}
		k = state_feed_nids(st, TORTURE_FEED);
		fs = state_feed(st, TORTURE_FEED, 1);
		snprintf(etag, sizeof etag, "%zu", k);
		if (fs == NULL || k % TORTURE_BATCH != 0 || (k > 0 && !str_eq(fs->etag, etag)))
			return 3;
		for (i = 0; i < k; i++) {
			id_of(id, sizeof id, i);
			if (!state_delivered(st, TORTURE_SUB, TORTURE_FEED, id))
				return 3;
		}
		if (k >= TORTURE_LIMIT)
			return 0;
		for (i = k; i < k + TORTURE_BATCH; i++) {
			id_of(id, sizeof id, i);
			time_t t = 1700000000 + (time_t)i;

			if (state_record(st, TORTURE_SUB, TORTURE_FEED, id, t) < 0)
				return 4;
		}
		snprintf(etag, sizeof etag, "%zu", k + TORTURE_BATCH);
		if (state_set_str(&fs->etag, etag) < 0 || state_save(st, argv[1], &e) < 0) {
			fprintf(stderr, "state_torture: %s\n", e.msg);
			return 4;
		}
		state_free(st);
	}
}
