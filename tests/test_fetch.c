/*
 * Unit tests for src/fetch.c against tests/harness/httpd.py, which main()
 * starts on 127.0.0.1 (a free port) and which exits when this process does.
 * Every fault is fetched in a batch with a good feed, to show the others
 * in the same fetch_all() run are unaffected.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "testkit.h"

#ifndef TEST_TOP_SRCDIR
#define TEST_TOP_SRCDIR "."
#endif
#ifndef TEST_PYTHON3
#define TEST_PYTHON3 "/usr/bin/python3"
#endif

#define MAXREQ 16
#define FEED_A                                                                                     \
	"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>A</title>"                    \
	"<item><title>one</title><guid>a1</guid></item></channel></rss>\n"
#define FEED_B                                                                                     \
	"<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"                      \
	"<title>B</title></feed>\n"

static int port;
static int tls_port;
static char root[64] = "/tmp/tidings-test-fetch-XXXXXX";
static pid_t server_pid;
static int server_stdin = -1;

/* What the done callback saw, per request (userdata is the index). */
struct seen {
	int called;
	int order; /* 1 = first to complete */
	enum fetch_outcome outcome;
	long status;
	char *body;
	size_t len;
	char *etag, *last_modified, *moved_to;
	time_t retry_after;
	char error[256];
};

struct batch {
	struct fetch_request req[MAXREQ];
	char url[MAXREQ][512];
	struct seen got[MAXREQ];
	size_t n;
	int completed;
	int leave_body; /* do not take the body: fetch_all frees it */
};

static struct fetch_options
options(void)
{
	struct fetch_options o = {
	    /* Generous: only the tests about timeouts set short ones (the
	     * harness answers slowly on a loaded machine). */
	    .timeout = 30, .connect_timeout = 10, .parallel = 8,
	    .per_host = 4, .max_size = 1 << 20,   .user_agent = "tidings-test/1",
	};
	return o;
}

static struct fetch_request *add(struct batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Add a request; a fmt starting with "/" is a path on the test server. */
static struct fetch_request *
add(struct batch *b, const char *fmt, ...)
{
	struct fetch_request *r = &b->req[b->n];
	char path[400];
	va_list ap;

	ck_assert_uint_lt(b->n, MAXREQ);
	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	if (path[0] == '/')
		snprintf(b->url[b->n], sizeof b->url[0], "http://127.0.0.1:%d%s", port, path);
	else
		snprintf(b->url[b->n], sizeof b->url[0], "%s", path);
	memset(r, 0, sizeof *r);
	r->url = b->url[b->n];
	r->userdata = (void *)b->n;
	b->n++;
	return r;
}

static void
on_done(const struct fetch_request *req, struct fetch_result *res, void *arg)
{
	struct batch *b = arg;
	size_t i = (size_t)req->userdata;
	struct seen *s = &b->got[i];

	ck_assert_ptr_eq(req, &b->req[i]);
	s->called++;
	s->order = ++b->completed;
	s->outcome = res->outcome;
	s->status = res->http_status;
	s->len = res->len;
	s->retry_after = res->retry_after;
	s->etag = res->etag ? strdup(res->etag) : NULL;
	s->last_modified = res->last_modified ? strdup(res->last_modified) : NULL;
	s->moved_to = res->moved_to ? strdup(res->moved_to) : NULL;
	snprintf(s->error, sizeof s->error, "%s", res->error);
	if (res->body != NULL) {
		ck_assert_int_eq(res->body[res->len], '\0');
		if (b->leave_body) {
			s->body = strdup(res->body);
		} else {
			s->body = res->body; /* take it */
			res->body = NULL;
		}
	}
}

static void
run(struct batch *b, const struct fetch_options *o)
{
	struct err e = {0};

	ck_assert_int_eq(fetch_all(b->req, b->n, o, on_done, b, &e), 0);
	for (size_t i = 0; i < b->n; i++)
		ck_assert_msg(b->got[i].called == 1, "%s: done called %d times", b->url[i],
		              b->got[i].called);
}

static void
batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->got[i].body);
		free(b->got[i].etag);
		free(b->got[i].last_modified);
		free(b->got[i].moved_to);
	}
	memset(b, 0, sizeof *b);
}

static void
assert_ok(const struct batch *b, size_t i, const char *body)
{
	const struct seen *s = &b->got[i];

	ck_assert_msg(s->outcome == FETCH_OK, "%s: outcome %d (%s)", b->url[i], s->outcome,
	              s->error);
	ck_assert_ptr_nonnull(s->body);
	ck_assert_str_eq(s->body, body);
	ck_assert_uint_eq(s->len, strlen(body));
}

static void
assert_failed(const struct batch *b, size_t i, enum fetch_outcome o, const char *error)
{
	const struct seen *s = &b->got[i];

	ck_assert_msg(s->outcome == o, "%s: outcome %d, want %d (%s)", b->url[i], s->outcome, o,
	              s->error);
	ck_assert_str_eq(s->error, error);
	ck_assert_ptr_null(s->body);
}

/* The server's statistics as text ("key ... value" lines). */
static char *
server_stats(void)
{
	struct batch b = {0};
	struct fetch_options o = options();
	char *text;

	add(&b, "/_stats.txt");
	run(&b, &o);
	ck_assert_int_eq(b.got[0].outcome, FETCH_OK);
	text = b.got[0].body;
	b.got[0].body = NULL;
	batch_free(&b);
	return text;
}

/* The number after "key " on its line in the stats text, or -1. */
static long
stat_in(const char *text, const char *key)
{
	char *all, *p, want[512];
	long v = -1;

	snprintf(want, sizeof want, "\n%s ", key);
	ck_assert_ptr_nonnull(all = str_printf("\n%s", text));
	if ((p = strstr(all, want)) != NULL)
		v = strtol(p + strlen(want), NULL, 10);
	free(all);
	return v;
}

static long
stat_of(const char *key)
{
	char *text = server_stats();
	long v = stat_in(text, key);

	free(text);
	return v;
}

static int
stats_contain(const char *line)
{
	char *text = server_stats();
	int found = strstr(text, line) != NULL;

	free(text);
	return found;
}

static void
server_reset(void)
{
	struct batch b = {0};
	struct fetch_options o = options();

	add(&b, "/_reset");
	run(&b, &o);
	ck_assert_int_eq(b.got[0].outcome, FETCH_OK);
	batch_free(&b);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(ok_gzip_validators_and_304)
{
	struct batch b = {0};
	struct fetch_options o = options();
	char want[256];
	char *etag, *lm;

	server_reset();
	add(&b, "/a.xml");
	add(&b, "/b.xml")->user_agent = "per-feed/2";
	run(&b, &o);
	assert_ok(&b, 0, FEED_A);
	assert_ok(&b, 1, FEED_B);
	ck_assert_int_eq(b.got[0].status, 200);
	ck_assert_ptr_nonnull(b.got[0].etag);
	ck_assert_ptr_nonnull(b.got[0].last_modified);
	ck_assert_ptr_null(b.got[0].moved_to);
	ck_assert(stats_contain("header /a.xml Accept-Encoding deflate, gzip"));
	ck_assert(stats_contain("header /a.xml User-Agent tidings-test/1\n"));
	ck_assert(stats_contain("header /b.xml User-Agent per-feed/2\n"));
	etag = strdup(b.got[0].etag);
	lm = strdup(b.got[0].last_modified);
	batch_free(&b);

	/* Conditional GET: by ETag, then by Last-Modified alone. */
	add(&b, "/a.xml")->etag = etag;
	add(&b, "/a.xml?lm")->last_modified = lm;
	add(&b, "/b.xml");
	run(&b, &o);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(b.got[i].outcome, FETCH_NOT_MODIFIED);
		ck_assert_int_eq(b.got[i].status, 304);
		ck_assert_ptr_null(b.got[i].body);
		ck_assert_uint_eq(b.got[i].len, 0);
		ck_assert_str_eq(b.got[i].error, "");
	}
	assert_ok(&b, 2, FEED_B);
	snprintf(want, sizeof want, "header /a.xml If-None-Match %s\n", etag);
	ck_assert(stats_contain(want));
	snprintf(want, sizeof want, "header /a.xml?lm If-Modified-Since %s\n", lm);
	ck_assert(stats_contain(want));
	ck_assert_int_eq(stat_of("status /a.xml 304"), 1);
	ck_assert_int_eq(stat_of("status /a.xml?lm 304"), 1);
	batch_free(&b);

	/* A validator with a line break is never sent (header injection). */
	add(&b, "/a.xml?inj")->etag = "\"x\"\r\nX-Evil: 1";
	run(&b, &o);
	assert_ok(&b, 0, FEED_A);
	ck_assert(!stats_contain("X-Evil"));
	ck_assert(!stats_contain("header /a.xml?inj If-None-Match"));
	batch_free(&b);
	free(etag);
	free(lm);
}
END_TEST

START_TEST(redirects)
{
	struct batch b = {0};
	struct fetch_options o = options();
	char want[256];

	add(&b, "/_/redirect/301/_/redirect/308/a.xml");
	add(&b, "/_/redirect/302/a.xml");
	add(&b, "/_/redirect/301/_/redirect/302/_/redirect/301/a.xml");
	add(&b, "/_/loop");
	add(&b, "/_/redirect/301?to=file:///etc/passwd");
	add(&b, "/b.xml");
	add(&b, "/_/redirect/308/_/status/404");
	run(&b, &o);
	assert_ok(&b, 0, FEED_A);
	snprintf(want, sizeof want, "http://127.0.0.1:%d/a.xml", port);
	ck_assert_str_eq(b.got[0].moved_to, want);
	assert_ok(&b, 1, FEED_A);
	ck_assert_ptr_null(b.got[1].moved_to);
	assert_ok(&b, 2, FEED_A);
	ck_assert_ptr_null(b.got[2].moved_to);
	assert_failed(&b, 3, FETCH_FAILED, "too many redirects (more than 5)");
	assert_failed(&b, 4, FETCH_FAILED, "redirected to a URL that is not http or https");
	assert_ok(&b, 5, FEED_B);
	/* A move to a dead end is no move. */
	assert_failed(&b, 6, FETCH_FAILED, "HTTP 404 Not Found");
	ck_assert_ptr_null(b.got[6].moved_to);
	batch_free(&b);
}
END_TEST

START_TEST(http_errors)
{
	struct batch b = {0};
	struct fetch_options o = options();
	time_t t0 = time(NULL), t1, when = t0 + 7200;
	char date[64];
	struct tm tm;

	/* An HTTP date two hours ahead, spaces encoded for the query. */
	gmtime_r(&when, &tm);
	strftime(date, sizeof date, "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", &tm);

	add(&b, "/_/status/404");
	add(&b, "/_/status/410");
	add(&b, "/_/status/429?retry_after=120");
	add(&b, "/_/status/503?retry_after=Wed,%%2021%%20Oct%%202037%%2007:28:00%%20GMT");
	add(&b, "/_/status/503");
	add(&b, "/_/status/500");
	add(&b, "/a.xml");
	add(&b, "/_/status/429?retry_after=soon");
	add(&b, "/no/such/file.xml");
	add(&b, "/_/status/503?retry_after=%s", date);
	run(&b, &o);
	t1 = time(NULL);
	assert_failed(&b, 0, FETCH_FAILED, "HTTP 404 Not Found");
	ck_assert_int_eq(b.got[0].status, 404);
	assert_failed(&b, 1, FETCH_GONE, "HTTP 410 Gone");
	assert_failed(&b, 2, FETCH_RETRY_LATER, "HTTP 429 Too Many Requests");
	ck_assert_int_ge(b.got[2].retry_after, t0 + 120);
	ck_assert_int_le(b.got[2].retry_after, t1 + 120);
	assert_failed(&b, 3, FETCH_RETRY_LATER, "HTTP 503 Service Unavailable");
	/* No wait longer than a week is believed. */
	ck_assert_int_ge(b.got[3].retry_after, t0 + 7 * 86400);
	ck_assert_int_le(b.got[3].retry_after, t1 + 7 * 86400);
	assert_failed(&b, 9, FETCH_RETRY_LATER, "HTTP 503 Service Unavailable");
	ck_assert_int_eq(b.got[9].retry_after, when);
	/* No (or no usable) Retry-After: an hour. */
	assert_failed(&b, 4, FETCH_RETRY_LATER, "HTTP 503 Service Unavailable");
	ck_assert_int_ge(b.got[4].retry_after, t0 + 3600);
	ck_assert_int_le(b.got[4].retry_after, t1 + 3600);
	assert_failed(&b, 5, FETCH_FAILED, "HTTP 500 Internal Server Error");
	assert_ok(&b, 6, FEED_A);
	assert_failed(&b, 7, FETCH_RETRY_LATER, "HTTP 429 Too Many Requests");
	ck_assert_int_ge(b.got[7].retry_after, t0 + 3600);
	assert_failed(&b, 8, FETCH_FAILED, "HTTP 404 Not Found");
	for (size_t i = 0; i < b.n; i++)
		if (b.got[i].outcome != FETCH_RETRY_LATER)
			ck_assert_int_eq(b.got[i].retry_after, 0);
	batch_free(&b);
}
END_TEST

/* A listener that accepts (in the kernel) and never answers; *fd to close. */
static int
silent_port(int *fd)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*fd, 0);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(*fd, 8), 0);
	ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

START_TEST(network_faults)
{
	struct batch b = {0};
	struct fetch_options o = options();
	double t0, took;
	int silent_fd;

	/* The low-speed limit is 10 bytes/s for 3 s; libcurl checks the speed
	 * once a second, so it fires after 3-4 s, before 6 s.  The good feeds
	 * have those 3 s to answer, on a loaded machine too. */
	o.timeout = 6;
	o.stall_timeout = 3;
	add(&b, "http://127.0.0.1:%d/feed", tk_closed_port());
	add(&b, "http://127.0.0.1:%d/feed", silent_port(&silent_fd));
	add(&b, "/_/drip?n=10&delay=1");
	add(&b, "/_/drip?n=250&delay=0.04");
	add(&b, "/_/slow/0.2/b.xml");
	add(&b, "/a.xml");
	add(&b, "http://[::1/");
	t0 = now_s();
	run(&b, &o);
	took = now_s() - t0;
	close(silent_fd);
	assert_failed(&b, 0, FETCH_FAILED, "connection refused");
	ck_assert_int_eq(b.got[0].status, 0);
	assert_failed(&b, 1, FETCH_FAILED, "no response after 3 s");
	assert_failed(&b, 2, FETCH_FAILED, "stalled: under 10 bytes/s for 3 s");
	ck_assert_int_eq(b.got[2].status, 200);
	assert_failed(&b, 3, FETCH_FAILED, "timed out after 6 s");
	assert_ok(&b, 4, FEED_B);
	assert_ok(&b, 5, FEED_A);
	ck_assert_int_eq(b.got[6].outcome, FETCH_FAILED);
	ck_assert(strncmp(b.got[6].error, "malformed URL", 13) == 0);
	/* Concurrent: the whole batch takes about one timeout (6 s), not the
	 * sum of the failures' (over 12 s): wide apart, so load cannot blur it. */
	ck_assert_msg(took < 12, "took %.1f s", took);
	/* Each result arrives as its transfer ends: good feeds first. */
	ck_assert_int_lt(b.got[5].order, b.got[1].order);
	ck_assert_int_lt(b.got[4].order, b.got[3].order);
	batch_free(&b);
}
END_TEST

START_TEST(size_cap_on_decoded_bytes)
{
	struct batch b = {0};
	struct fetch_options o = options();

	o.max_size = 100000;
	add(&b, "/_/big?size=1000000");
	add(&b, "/_/bomb?size=20000000");
	add(&b, "/a.xml");
	add(&b, "/_/big?size=100000");
	add(&b, "/_/big?size=100001");
	b.leave_body = 1;
	run(&b, &o);
	assert_failed(&b, 0, FETCH_FAILED, "larger than 100000 bytes");
	assert_failed(&b, 1, FETCH_FAILED, "larger than 100000 bytes");
	assert_ok(&b, 2, FEED_A);
	ck_assert_int_eq(b.got[3].outcome, FETCH_OK);
	ck_assert_uint_eq(b.got[3].len, 100000);
	ck_assert_uint_eq(strlen(b.got[3].body), 100000);
	assert_failed(&b, 4, FETCH_FAILED, "larger than 100000 bytes");
	batch_free(&b);
}
END_TEST

START_TEST(per_host_limit_queues)
{
	struct batch b = {0};
	struct fetch_options o = options();

	server_reset();
	o.parallel = 8;
	o.per_host = 2;
	o.timeout = 6;
	/* 14 x 1 s two at a time: 7 s, within the 6 s timeout only if the
	 * queued transfers' clocks start when they do.  Each has 2 s to spare
	 * before the low-speed limit (6 / 2 = 3 s without a byte), for a loaded
	 * machine. */
	for (int i = 0; i < 14; i++)
		add(&b, "/_/slow/1/a.xml?%d", i);
	run(&b, &o);
	for (size_t i = 0; i < b.n; i++)
		assert_ok(&b, i, FEED_A);
	ck_assert_int_eq(stat_of("max_active"), 2);
	batch_free(&b);
}
END_TEST

START_TEST(parallel_limit_and_reuse)
{
	struct batch b = {0};
	struct fetch_options o = options();
	char key[64], *stats;

	server_reset();
	o.parallel = 3;
	o.per_host = 8;
	for (int i = 0; i < 9; i++)
		add(&b, "/_/slow/0.3/b.xml?%d", i);
	run(&b, &o);
	for (size_t i = 0; i < b.n; i++)
		assert_ok(&b, i, FEED_B);
	stats = server_stats();
	ck_assert_int_eq(stat_in(stats, "max_active"), 3);
	/* Connections are reused: 3 slots, 9 requests, 3 connections. */
	ck_assert_int_le(stat_in(stats, "connections"), 3 + 1); /* + the stats request */
	snprintf(key, sizeof key, "max_active_host 127.0.0.1:%d", port);
	ck_assert_int_eq(stat_in(stats, key), 3);
	free(stats);
	batch_free(&b);

	server_reset();
	o.parallel = 1;
	for (int i = 0; i < 5; i++)
		add(&b, "/a.xml?%d", i);
	run(&b, &o);
	for (size_t i = 0; i < b.n; i++)
		assert_ok(&b, i, FEED_A);
	stats = server_stats();
	ck_assert_int_eq(stat_in(stats, "max_active"), 1);
	ck_assert_int_eq(stat_in(stats, "connections"), 1 + 1);
	free(stats);
	batch_free(&b);
}
END_TEST

START_TEST(file_urls_only_when_allowed)
{
	struct batch b = {0};
	struct fetch_options o = options();

	add(&b, "file://%s/a.xml", root)->allow_file = 1;
	add(&b, "file://%s/a.xml", root);
	add(&b, "file://%s/missing.xml", root)->allow_file = 1;
	add(&b, "/b.xml");
	run(&b, &o);
	assert_ok(&b, 0, FEED_A);
	ck_assert_int_eq(b.got[0].status, 0);
	ck_assert_int_eq(b.got[1].outcome, FETCH_FAILED);
	ck_assert(strncmp(b.got[1].error, "unsupported URL scheme", 22) == 0);
	ck_assert_int_eq(b.got[2].outcome, FETCH_FAILED);
	ck_assert(strncmp(b.got[2].error, "cannot read the file", 20) == 0);
	assert_ok(&b, 3, FEED_B);
	batch_free(&b);
}
END_TEST

START_TEST(body_freed_when_not_taken)
{
	struct batch b = {0};
	struct fetch_options o = options();
	struct err e = {0};

	b.leave_body = 1;
	add(&b, "/a.xml");
	add(&b, "/b.xml");
	run(&b, &o);
	assert_ok(&b, 0, FEED_A);
	assert_ok(&b, 1, FEED_B);
	batch_free(&b);
	ck_assert_int_eq(fetch_all(NULL, 0, &o, on_done, &b, &e), 0);
	ck_assert_int_eq(b.completed, 0);
}
END_TEST

START_TEST(many_feeds_through_the_window)
{
	static struct batch big[4];
	struct fetch_options o = options();

	/* 4 batches x 16: more requests than the window of parallel x 4. */
	o.parallel = 2;
	o.per_host = 2;
	for (int k = 0; k < 4; k++) {
		for (int i = 0; i < MAXREQ; i++)
			add(&big[k], "/%s.xml?%d", i % 2 ? "a" : "b", i);
		run(&big[k], &o);
		for (int i = 0; i < MAXREQ; i++)
			assert_ok(&big[k], i, i % 2 ? FEED_A : FEED_B);
		batch_free(&big[k]);
	}
}
END_TEST

START_TEST(tls_verified_unless_insecure)
{
	struct batch b = {0};
	struct fetch_options o = options();

	ck_assert_int_gt(tls_port, 0);
	o.per_host = 2;
	add(&b, "https://127.0.0.1:%d/a.xml", tls_port);
	for (int i = 0; i < 3; i++)
		add(&b, "https://127.0.0.1:%d/_/slow/0.2/b.xml?%d", tls_port, i)->insecure = 1;
	add(&b, "/a.xml");
	add(&b, "https://127.0.0.1:%d/_/redirect/301/b.xml", tls_port)->insecure = 1;
	run(&b, &o);
	assert_failed(&b, 0, FETCH_FAILED, "TLS: SSL certificate problem: self-signed certificate");
	for (int i = 1; i <= 3; i++)
		assert_ok(&b, i, FEED_B);
	assert_ok(&b, 4, FEED_A);
	assert_ok(&b, 5, FEED_B);
	ck_assert(strncmp(b.got[5].moved_to, "https://127.0.0.1:", 18) == 0);
	batch_free(&b);
}
END_TEST

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

static void
start_server(void)
{
	const char *top = getenv("TOP_SRCDIR"), *py = getenv("PYTHON3");
	char script[1024], portfile[256], tlsportfile[256];
	int pipefd[2];
	FILE *f;

	if (top == NULL || *top == '\0')
		top = TEST_TOP_SRCDIR;
	if (py == NULL || *py == '\0')
		py = TEST_PYTHON3;
	snprintf(script, sizeof script, "%s/tests/harness/httpd.py", top);
	snprintf(portfile, sizeof portfile, "%s/port", root);
	snprintf(tlsportfile, sizeof tlsportfile, "%s/tlsport", root);
	if (pipe(pipefd) == -1 || (server_pid = fork()) == -1) {
		perror("test_fetch");
		exit(99);
	}
	if (server_pid == 0) {
		dup2(pipefd[0], 0);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(py, py, script, "--root", root, "--port-file", portfile, "--tls-port-file",
		      tlsportfile, "--stop-on-eof", (char *)NULL);
		perror(py);
		_exit(127);
	}
	close(pipefd[0]);
	server_stdin = pipefd[1];
	/* Python starts slowly on a loaded machine: wait as long as it lives,
	 * up to five minutes (a guard against a hang, not a speed test). */
	for (int i = 0; i < 6000 && port == 0; i++) {
		if ((f = fopen(portfile, "r")) != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port == 0 && waitpid(server_pid, NULL, WNOHANG) != 0)
			break;
		if (port == 0)
			usleep(50000);
	}
	/* The port file is written last, so the TLS one is there by now. */
	if (port == 0 || (f = fopen(tlsportfile, "r")) == NULL) {
		fprintf(stderr, "test_fetch: %s did not start\n", script);
		exit(99);
	}
	if (fscanf(f, "%d", &tls_port) != 1)
		tls_port = 0;
	fclose(f);
}

static void
stop_server(void)
{
	char path[256];

	close(server_stdin); /* EOF on its stdin: it exits */
	if (waitpid(server_pid, NULL, 0) == -1)
		kill(server_pid, SIGTERM);
	snprintf(path, sizeof path, "%s/port", root);
	unlink(path);
	snprintf(path, sizeof path, "%s/tlsport", root);
	unlink(path);
	snprintf(path, sizeof path, "%s/a.xml", root);
	unlink(path);
	snprintf(path, sizeof path, "%s/b.xml", root);
	unlink(path);
	rmdir(root);
}

int
main(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	/* A proxy from the environment must not see the loopback traffic. */
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	write_file("a.xml", FEED_A);
	write_file("b.xml", FEED_B);
	start_server();
	tcase_add_test(tc, ok_gzip_validators_and_304);
	tcase_add_test(tc, redirects);
	tcase_add_test(tc, http_errors);
	tcase_add_test(tc, network_faults);
	tcase_add_test(tc, size_cap_on_decoded_bytes);
	tcase_add_test(tc, per_host_limit_queues);
	tcase_add_test(tc, parallel_limit_and_reuse);
	tcase_add_test(tc, file_urls_only_when_allowed);
	tcase_add_test(tc, body_freed_when_not_taken);
	tcase_add_test(tc, many_feeds_through_the_window);
	tcase_add_test(tc, tls_verified_unless_insecure);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	stop_server();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
