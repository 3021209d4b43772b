/*
 * fetch-bench: fetch_all() alone over a list of URLs, bodies discarded, so
 * the fetch phase can be compared with curl-floor on the same URLs.
 *
 *   fetch-bench URLS_FILE [PARALLEL [PER_HOST]]
 *
 * Prints "fetched N (ok K, 304 M, failed F), BYTES bytes, S s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch.h"

struct tally {
	size_t ok, not_modified, failed, bytes;
};

static void
done(const struct fetch_request *req, struct fetch_result *res, void *arg)
{
	struct tally *t = arg;

	(void)req;
	t->bytes += res->len;
	if (res->outcome == FETCH_OK)
		t->ok++;
	else if (res->outcome == FETCH_NOT_MODIFIED)
		t->not_modified++;
	else
		t->failed++;
}

int
main(int argc, char **argv)
{
	struct fetch_options opt = {30, 10, 8, 8, 64 << 20, "tidings-bench"};
	struct fetch_request *reqs = NULL;
	struct tally t = {0};
	struct timespec a, b;
	struct err e = {0};
	char line[4096];
	size_t n = 0, cap = 0;
	FILE *fp;

	if (argc < 2 || (fp = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: fetch-bench URLS_FILE [PARALLEL [PER_HOST]]\n");
		return 64;
	}
	if (argc > 2)
		opt.parallel = opt.per_host = atoi(argv[2]);
	if (argc > 3)
		opt.per_host = atoi(argv[3]);
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((reqs = realloc(reqs, cap * sizeof *reqs)) == NULL)
				return 71;
		}
		memset(&reqs[n], 0, sizeof reqs[n]);
		if ((reqs[n++].url = strdup(line)) == NULL)
			return 71;
	}
	fclose(fp);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (fetch_all(reqs, n, &opt, done, &t, &e) < 0) {
		fprintf(stderr, "fetch-bench: %s\n", e.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("fetched %zu (ok %zu, 304 %zu, failed %zu), %zu bytes, %.3f s\n", n, t.ok,
	       t.not_modified, t.failed, t.bytes,
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	for (size_t i = 0; i < n; i++)
		free((char *)reqs[i].url);
	free(reqs);
	return 0;
}
