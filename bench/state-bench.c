/*
 * state-bench: the state file at scale.
 *
 *   state-bench gen PATH     write a state of 1,000,000 delivered ids
 *                            (1,000 feeds x 100 ids x 10 subscriptions)
 *   state-bench run IN OUT   load IN, look every id up once, save to OUT
 *
 * state-bench.sh times "run" against cp of the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state.h"

#define NFEEDS 1000
#define NIDS   100
#define NSUBS  10
#define NOW    1764115200 /* 2025-11-26 */

static void
feed_url(char *buf, size_t n, int f)
{
	snprintf(buf, n, "https://blog%04d.example.org/feeds/all.atom.xml", f);
}

static void
item_id(char *buf, size_t n, int f, int i)
{
	snprintf(buf, n, "tag:blog%04d.example.org,2025:/posts/%06d-some-title", f, i);
}

static void
sub_name(char *buf, size_t n, int s)
{
	snprintf(buf, n, "reader%02d", s);
}

static int
gen(const char *path)
{
	struct state *st = state_new();
	struct err e = {0};
	char url[128], id[128], sub[32];

	if (st == NULL)
		return 1;
	for (int f = 0; f < NFEEDS; f++) {
		struct feed_state *fs;

		feed_url(url, sizeof url, f);
		if ((fs = state_feed(st, url, 1)) == NULL ||
		    state_set_str(&fs->etag, "\"5f1c-61a2b3c4d5e6f\"") < 0 ||
		    state_set_str(&fs->last_modified, "Wed, 26 Nov 2025 06:00:00 GMT") < 0)
			return 1;
		fs->last_fetch = NOW;
		fs->last_status = 200;
		for (int i = 0; i < NIDS; i++) {
			item_id(id, sizeof id, f, i);
			for (int s = 0; s < NSUBS; s++) {
				sub_name(sub, sizeof sub, s);
				if (state_record(st, sub, url, id, NOW - (time_t)i * 3600) < 0)
					return 1;
			}
		}
	}
	if (state_save(st, path, &e) < 0) {
		fprintf(stderr, "state-bench: %s\n", e.msg);
		return 1;
	}
	state_free(st);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
run(const char *in, const char *out)
{
	double t0 = now_s(), t1, t2, t3;
	struct state *st;
	struct err e = {0};
	char url[128], id[128], sub[32];
	size_t found = 0;

	if (state_load(in, &st, &e) < 0) {
		fprintf(stderr, "state-bench: %s\n", e.msg);
		return 1;
	}
	t1 = now_s();
	for (int s = 0; s < NSUBS; s++) {
		sub_name(sub, sizeof sub, s);
		for (int f = 0; f < NFEEDS; f++) {
			char *digits;

			feed_url(url, sizeof url, f);
			/* snprintf per id would cost more than the lookup: patch the digits. */
			item_id(id, sizeof id, f, 0);
			digits = strstr(id, "/posts/") + 7;
			for (int i = 0; i < NIDS; i++) {
				for (int k = 5, v = i; k >= 0; k--, v /= 10)
					digits[k] = (char)('0' + v % 10);
				found += (size_t)state_delivered(st, sub, url, id);
			}
		}
	}
	if (found != (size_t)NFEEDS * NIDS * NSUBS) {
		fprintf(stderr, "state-bench: found %zu ids of %d\n", found, NFEEDS * NIDS * NSUBS);
		return 1;
	}
	t2 = now_s();
	if (state_save(st, out, &e) < 0) {
		fprintf(stderr, "state-bench: %s\n", e.msg);
		return 1;
	}
	state_free(st);
	t3 = now_s();
	if (getenv("STATE_BENCH_PHASES"))
		fprintf(stderr, "load %.3fs  lookups %.3fs  save %.3fs\n", t1 - t0, t2 - t1,
		        t3 - t2);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2]);
	if (argc == 4 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv[3]);
	fprintf(stderr, "usage: state-bench gen PATH | run IN OUT\n");
	return 64;
}
