/*
 * fetch: every feed of a run over one libcurl multi handle.
 *
 * fetch_all() runs the requests concurrently within the configured limits
 * and calls done() for each as soon as its transfer ends, so the caller
 * can parse one feed while the others are still downloading.
 *
 * Limits: at most `parallel` transfers run at once and at most `per_host`
 * to one scheme://host:port (0: no per-host limit); the rest wait their
 * turn, and a transfer's timeout starts when it starts.  max_size counts
 * decoded bytes (0: no limit).  HTTP/2 is used where TLS offers it.
 *
 * Results: moved_to is set only when every redirect on the way was a
 * 301/308 and the final answer was 2xx or 304.  A 429/503 without a usable
 * Retry-After gets retry_after = now + 1 hour; no wait beyond 7 days is
 * believed.  error is one short line for a person ("HTTP 404 Not Found",
 * "connection refused", "timed out after 30 s", "larger than N bytes",
 * "TLS: ...", "could not resolve host x").  Validators are returned for
 * 2xx and 304 answers.  fetch_all() frees whatever done() leaves in res.
 */
#ifndef TIDINGS_FETCH_H
#define TIDINGS_FETCH_H

#include <stddef.h>
#include <time.h>

#include "util.h"

/*
 * Seconds a server has to accept the connection (or the whole timeout, if
 * shorter): one that is up answers in well under a second, and a dead one
 * must not hold a run of a thousand feeds for the whole timeout.
 */
#define FETCH_CONNECT_TIMEOUT 10L

struct fetch_options {
	long timeout;           /* seconds for a whole transfer */
	long connect_timeout;   /* seconds */
	int parallel;           /* transfers at once */
	int per_host;           /* transfers at once to one host */
	size_t max_size;        /* bytes after decompression */
	const char *user_agent; /* default User-Agent */
	long stall_timeout;     /* seconds under 10 bytes/s before giving up; 0: the
	                           timeout, at most 30 s */
	const char *proxy;      /* default proxy URL, "" for none; NULL: libcurl's
	                           (the http_proxy, https_proxy, all_proxy variables) */
};

struct fetch_request {
	const char *url;
	const char *etag; /* validators from the state, or NULL */
	const char *last_modified;
	const char *user_agent; /* per-feed override, or NULL */
	const char *proxy;      /* per-feed override ("" for none), or NULL */
	int insecure;           /* skip TLS verification */
	int allow_file;         /* the config names a file:// URL */
	void *userdata;         /* the caller's */
};

enum fetch_outcome {
	FETCH_OK,           /* 2xx with a body */
	FETCH_NOT_MODIFIED, /* 304 */
	FETCH_GONE,         /* 410 */
	FETCH_RETRY_LATER,  /* 429/503: see retry_after */
	FETCH_FAILED,       /* anything else: see error */
};

struct fetch_result {
	enum fetch_outcome outcome;
	long http_status; /* 0 when no HTTP response */
	char *body;       /* NUL-terminated; the callback may take it (set NULL) */
	size_t len;
	char *etag; /* new validators, or NULL */
	char *last_modified;
	char *moved_to;     /* permanent redirect (301/308) target, or NULL */
	time_t retry_after; /* absolute time, or 0 */
	char error[256];    /* why, when FETCH_FAILED / GONE / RETRY_LATER */
};

typedef void (*fetch_done_fn)(const struct fetch_request *req, struct fetch_result *res, void *arg);

/* 0 when every request ran (each has its own outcome), -1 when none could. */
int fetch_all(const struct fetch_request *reqs, size_t n, const struct fetch_options *opt,
              fetch_done_fn done, void *arg, struct err *e);

#endif
