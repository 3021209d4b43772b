/*
 * fetch: every feed of a run over one libcurl multi handle.
 *
 * Only the transfers the limits allow are in the multi handle at a time
 * (see refill()), so 1,000 feeds never mean 1,000 easy handles.  Each
 * transfer is turned into a fetch_result and handed to done() the moment
 * it ends; the body buffer is then given away or freed.
 */
#include "fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#define MAX_REDIRS      5
#define LOW_SPEED_BYTES 10L         /* below this many bytes/s ... */
#define LOW_SPEED_MAX   30L         /* ... for this long (at most), give up */
#define RETRY_DEFAULT   3600        /* 429/503 without a usable Retry-After */
#define RETRY_MAX       (7 * 86400) /* never believe a longer wait */

struct xfer {
	CURL *h; /* only while running */
	const struct fetch_request *req;
	uint64_t host; /* host_key() of the URL */
	int started;   /* running or done: no longer waiting */
	struct curl_slist *hdrs;
	struct buf body;
	size_t max; /* decoded bytes allowed */
	int too_big;
	int perm_hops;  /* 301/308 seen in the redirect chain */
	int other_hops; /* any other redirect status seen */
	long low_speed_time;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	curl_off_t cl = -1;

	if (n > x->max - x->body.len) {
		x->too_big = 1;
		return 0;
	}
	/* Content-Length (if any) is only a hint: a first allocation, capped. */
	if (x->body.cap == 0 &&
	    curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
	    cl > 0 && (uint64_t)cl <= x->max && buf_grow(&x->body, (size_t)cl) == -1)
		return 0;
	if (buf_add(&x->body, p, n) == -1)
		return 0;
	return n;
}

/* Status lines only: they tell which redirects the chain went through. */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	char line[32];
	int code;

	if (n < 10 || strncmp(p, "HTTP/", 5) != 0)
		return n;
	memcpy(line, p, n < sizeof line - 1 ? n : sizeof line - 1);
	line[n < sizeof line - 1 ? n : sizeof line - 1] = '\0';
	if (sscanf(line, "HTTP/%*s %d", &code) != 1 || code < 300 || code > 399 || code == 304)
		return n;
	if (code == 301 || code == 308)
		x->perm_hops++;
	else
		x->other_hops++;
	return n;
}

/* snprintf for messages, where truncating a long detail is fine. */
static void say(char *dst, size_t sz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(char *dst, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, sz, fmt, ap);
	va_end(ap);
}

static const struct {
	long code;
	const char *text;
} reasons[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {418, "I'm a teapot"},
    {421, "Misdirected Request"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {511, "Network Authentication Required"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {204, "No Content"},
};

static void
http_error(char *dst, size_t sz, long code)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		if (reasons[i].code == code) {
			say(dst, sz, "HTTP %ld %s", code, reasons[i].text);
			return;
		}
	}
	say(dst, sz, "HTTP %ld", code);
}

/* The host part of the URL a transfer ended at, for messages. */
static void
final_host(CURL *h, char *dst, size_t sz)
{
	char *url = NULL, *host = NULL;
	CURLU *u;

	say(dst, sz, "?");
	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL)
		return;
	if ((u = curl_url()) == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		say(dst, sz, "%s", host);
	curl_free(host);
	curl_url_cleanup(u);
}

static void
timeout_error(struct xfer *x, const struct fetch_options *opt, char *dst, size_t sz)
{
	long code = 0;
	double total = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME, &total);
	if (strstr(x->errbuf, "too slow") != NULL) {
		if (code == 0)
			say(dst, sz, "no response after %ld s", x->low_speed_time);
		else
			say(dst, sz, "stalled: under %ld bytes/s for %ld s", LOW_SPEED_BYTES,
			    x->low_speed_time);
	} else if (strncasecmp(x->errbuf, "Connection timed out", 20) == 0 ||
	           strncasecmp(x->errbuf, "Failed to connect", 17) == 0) {
		say(dst, sz, "could not connect within %ld s", opt->connect_timeout);
	} else if (strncasecmp(x->errbuf, "Resolving timed out", 19) == 0) {
		say(dst, sz, "resolving the host name timed out");
	} else {
		say(dst, sz, "timed out after %ld s",
		    opt->timeout > 0 ? opt->timeout : (long)(total + 0.5));
	}
}

static int
is_tls_error(CURLcode rc)
{
	static const CURLcode tls[] = {
	    CURLE_SSL_CONNECT_ERROR,        CURLE_PEER_FAILED_VERIFICATION,
	    CURLE_SSL_CERTPROBLEM,          CURLE_SSL_CIPHER,
	    CURLE_SSL_CACERT_BADFILE,       CURLE_SSL_ISSUER_ERROR,
	    CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
	    CURLE_SSL_CRL_BADFILE,          CURLE_SSL_SHUTDOWN_FAILED,
	    CURLE_SSL_ENGINE_NOTFOUND,      CURLE_SSL_ENGINE_SETFAILED,
	    CURLE_SSL_ENGINE_INITFAILED,    CURLE_USE_SSL_FAILED,
	};

	for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++)
		if (tls[i] == rc)
			return 1;
	return 0;
}

/* One short line a person can act on, for a transfer libcurl failed. */
static void
curl_error(struct xfer *x, CURLcode rc, const struct fetch_options *opt, char *dst, size_t sz)
{
	const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	char host[256];
	long oserr = 0, redirects = 0;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		final_host(x->h, host, sizeof host);
		say(dst, sz, "could not resolve host %s", host);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		say(dst, sz, "could not resolve the proxy: %s", why);
		break;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED) {
			say(dst, sz, "connection refused");
		} else {
			final_host(x->h, host, sizeof host);
			say(dst, sz, "could not connect to %s: %s", host,
			    oserr ? strerror((int)oserr) : why);
		}
		break;
	case CURLE_OPERATION_TIMEDOUT: timeout_error(x, opt, dst, sz); break;
	case CURLE_TOO_MANY_REDIRECTS:
		say(dst, sz, "too many redirects (more than %d)", MAX_REDIRS);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		curl_easy_getinfo(x->h, CURLINFO_REDIRECT_COUNT, &redirects);
		if (redirects > 0)
			say(dst, sz, "redirected to a URL that is not http or https");
		else
			say(dst, sz, "unsupported URL scheme: %s", why);
		break;
	case CURLE_URL_MALFORMAT: say(dst, sz, "malformed URL: %s", why); break;
	case CURLE_GOT_NOTHING:
		say(dst, sz, "the server closed the connection without answering");
		break;
	case CURLE_PARTIAL_FILE:
		say(dst, sz, "the server closed the connection before the end of the body");
		break;
	case CURLE_BAD_CONTENT_ENCODING: say(dst, sz, "bad compressed body: %s", why); break;
	case CURLE_WRITE_ERROR:
	case CURLE_OUT_OF_MEMORY: say(dst, sz, "out of memory"); break;
	case CURLE_FILE_COULDNT_READ_FILE: say(dst, sz, "cannot read the file: %s", why); break;
	default:
		if (is_tls_error(rc))
			say(dst, sz, "TLS: %s", why);
		else
			say(dst, sz, "%s", why);
		break;
	}
}

static char *
header_dup(CURL *h, const char *name)
{
	struct curl_header *hd = NULL;

	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK || hd == NULL ||
	    str_empty(hd->value))
		return NULL;
	return str_dup(hd->value);
}

/* Retry-After: delay-seconds or an HTTP date; unusable or absent: an hour. */
static time_t
retry_after(CURL *h, time_t now)
{
	struct curl_header *hd = NULL;
	const char *v;
	char *end;
	long long secs;
	time_t t;

	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return now + RETRY_DEFAULT;
	v = hd->value;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		secs = strtoll(v, &end, 10);
		if (errno != 0 || secs > RETRY_MAX)
			return now + RETRY_MAX;
		if (*end == '\0' || *end == ' ' || *end == '\t')
			return now + (time_t)secs;
	}
	if ((t = curl_getdate(v, NULL)) <= 0)
		return now + RETRY_DEFAULT;
	if (t < now)
		return now;
	return t > now + RETRY_MAX ? now + RETRY_MAX : t;
}

static int
is_file_scheme(CURL *h)
{
	char *scheme = NULL;

	return curl_easy_getinfo(h, CURLINFO_SCHEME, &scheme) == CURLE_OK && scheme != NULL &&
	       strcasecmp(scheme, "file") == 0;
}

/* Turn a finished transfer into its result (r zeroed by the caller). */
static void
classify(struct xfer *x, CURLcode rc, const struct fetch_options *opt, struct fetch_result *r)
{
	long code = 0;
	char *url = NULL;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	r->http_status = code;
	r->outcome = FETCH_FAILED;
	if (x->too_big) {
		say(r->error, sizeof r->error, "larger than %zu bytes", x->max);
		return;
	}
	if (rc != CURLE_OK) {
		curl_error(x, rc, opt, r->error, sizeof r->error);
		return;
	}
	if (is_file_scheme(x->h) || (code >= 200 && code <= 299))
		r->outcome = FETCH_OK;
	else if (code == 304)
		r->outcome = FETCH_NOT_MODIFIED;
	else if (code == 410)
		r->outcome = FETCH_GONE;
	else if (code == 429 || code == 503)
		r->outcome = FETCH_RETRY_LATER;
	if (r->outcome == FETCH_RETRY_LATER)
		r->retry_after = retry_after(x->h, time(NULL));
	if (r->outcome != FETCH_OK && r->outcome != FETCH_NOT_MODIFIED) {
		http_error(r->error, sizeof r->error, code);
		return;
	}
	if (code != 0) {
		r->etag = header_dup(x->h, "ETag");
		r->last_modified = header_dup(x->h, "Last-Modified");
	}
	/* Only a chain of permanent redirects moves the feed. */
	if (x->perm_hops > 0 && x->other_hops == 0 &&
	    curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != NULL &&
	    strcmp(url, x->req->url) != 0)
		r->moved_to = str_dup(url);
	if (r->outcome == FETCH_OK) {
		r->len = x->body.len;
		r->body = buf_steal(&x->body);
		if (r->body == NULL) {
			r->outcome = FETCH_FAILED;
			say(r->error, sizeof r->error, "out of memory");
		}
	}
}

/* A conditional header, unless the stored validator could inject a line. */
static int
add_validator(struct curl_slist **l, const char *name, const char *value)
{
	struct curl_slist *n;
	char *line;

	if (str_empty(value) || strpbrk(value, "\r\n") != NULL)
		return 0;
	if ((line = str_printf("%s: %s", name, value)) == NULL)
		return -1;
	n = curl_slist_append(*l, line);
	free(line);
	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

/*
 * A server silent (or slower than LOW_SPEED_BYTES) this long is given up
 * before the whole timeout, so a dead one frees its slot early; but never
 * sooner than the timeout when that is under LOW_SPEED_MAX: a server
 * may take most of a short timeout to start answering.
 */
static long
low_speed_time(const struct fetch_options *opt)
{
	long t = opt->stall_timeout > 0 ? opt->stall_timeout
	         : opt->timeout > 0     ? opt->timeout
	                                : LOW_SPEED_MAX;

	if (t < 1)
		t = 1;
	return t > LOW_SPEED_MAX ? LOW_SPEED_MAX : t;
}

/* A configured easy handle for x, or -1 (x->errbuf says why). */
static int
xfer_setup(struct xfer *x, const struct fetch_options *opt)
{
	const struct fetch_request *q = x->req;
	const char *ua = q->user_agent ? q->user_agent : opt->user_agent;
	const char *proxy = q->proxy ? q->proxy : opt->proxy;
	CURLcode rc = CURLE_OK;
	CURL *h;

	x->max = opt->max_size ? opt->max_size : SIZE_MAX - 1;
	x->low_speed_time = low_speed_time(opt);
	if ((h = x->h = curl_easy_init()) == NULL)
		goto oom;
	if (add_validator(&x->hdrs, "If-None-Match", q->etag) == -1 ||
	    add_validator(&x->hdrs, "If-Modified-Since", q->last_modified) == -1)
		goto oom;
	/* Each setopt can only fail on OOM or a bad argument: collect them. */
	rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(h, CURLOPT_URL, q->url);
	rc |= curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	                       q->allow_file ? "http,https,file" : "http,https");
	rc |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
	rc |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	/* Waiting to multiplex only pays where HTTP/2 can be negotiated (TLS):
	 * on plain http it would hold every second request until the first
	 * answer arrives. */
	if (str_has_prefix(q->url, "https:") || str_has_prefix(q->url, "HTTPS:"))
		rc |= curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, opt->connect_timeout);
	rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT, opt->timeout);
	rc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
	rc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, x->low_speed_time);
	if (ua != NULL)
		rc |= curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	/* Unset, libcurl reads the proxy variables; "" turns them off. */
	if (proxy != NULL)
		rc |= curl_easy_setopt(h, CURLOPT_PROXY, proxy);
	if (x->hdrs != NULL)
		rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	if (q->insecure) {
		rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (rc != CURLE_OK) {
		say(x->errbuf, sizeof x->errbuf, "cannot set up the transfer (bad URL?)");
		return -1;
	}
	/* Without HTTP/2 support in libcurl this fails harmlessly: keep 1.1. */
	(void)curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	return 0;
oom:
	say(x->errbuf, sizeof x->errbuf, "out of memory");
	return -1;
}

static void
xfer_free(struct xfer *x)
{
	if (x->h != NULL)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	buf_free(&x->body);
	x->h = NULL;
	x->hdrs = NULL;
}

static void
deliver(struct xfer *x, struct fetch_result *r, fetch_done_fn done, void *arg)
{
	done(x->req, r, arg);
	free(r->body);
	free(r->etag);
	free(r->last_modified);
	free(r->moved_to);
}

struct run {
	CURLM *m;
	struct xfer *x;
	size_t n;
	size_t first; /* every request before this one has started */
	size_t *act;  /* indices of the transfers running */
	size_t nact, parallel, per_host;
	const struct fetch_options *opt;
	fetch_done_fn done;
	void *arg;
};

/* Requests to one scheme://host:port share connections and the per-host limit. */
static uint64_t
host_key(const char *url)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *key;
	uint64_t k = hash64_str(url);
	CURLU *u;

	if ((u = curl_url()) == NULL)
		return k;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    (key = str_printf("%s://%s:%s", scheme, host, port)) != NULL) {
		for (char *c = key; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		k = hash64_str(key);
		free(key);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return k;
}

static size_t
host_running(const struct run *R, uint64_t key)
{
	size_t c = 0;

	for (size_t i = 0; i < R->nact; i++)
		c += R->x[R->act[i]].host == key;
	return c;
}

static void
start(struct run *R, size_t i)
{
	struct xfer *x = &R->x[i];
	struct fetch_result r;

	x->started = 1;
	if (xfer_setup(x, R->opt) == 0 && curl_multi_add_handle(R->m, x->h) == CURLM_OK) {
		R->act[R->nact++] = i;
		return;
	}
	memset(&r, 0, sizeof r);
	r.outcome = FETCH_FAILED;
	say(r.error, sizeof r.error, "%s", x->errbuf[0] ? x->errbuf : "cannot start the transfer");
	xfer_free(x);
	deliver(x, &r, R->done, R->arg);
}

/*
 * Start what the limits allow.  libcurl could queue the excess itself, but
 * a queued transfer's CURLOPT_TIMEOUT clock runs while it waits, so the
 * limits are kept here and libcurl's own only catch cross-host redirects.
 */
static void
refill(struct run *R)
{
	for (size_t i = R->first; i < R->n && R->nact < R->parallel; i++) {
		if (R->x[i].started)
			continue;
		if (R->per_host > 0 && host_running(R, R->x[i].host) >= R->per_host)
			continue;
		start(R, i);
	}
	while (R->first < R->n && R->x[R->first].started)
		R->first++;
}

/* Hand each finished transfer to the caller; how many finished. */
static size_t
reap(struct run *R)
{
	struct fetch_result r;
	struct xfer *x;
	CURLMsg *msg;
	char *priv;
	size_t finished = 0;
	int left;

	while ((msg = curl_multi_info_read(R->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)(void *)priv;
		memset(&r, 0, sizeof r);
		classify(x, msg->data.result, R->opt, &r);
		curl_multi_remove_handle(R->m, x->h);
		xfer_free(x);
		for (size_t i = 0; i < R->nact; i++) {
			if (&R->x[R->act[i]] == x) {
				R->act[i] = R->act[--R->nact];
				break;
			}
		}
		deliver(x, &r, R->done, R->arg);
		finished++;
	}
	return finished;
}

int
fetch_all(const struct fetch_request *reqs, size_t n, const struct fetch_options *opt,
          fetch_done_fn done, void *arg, struct err *e)
{
	struct run R = {.n = n, .opt = opt, .done = done, .arg = arg};
	int running = 0, rc = 0;

	if (n == 0)
		return 0;
	R.parallel = opt->parallel > 0 ? (size_t)opt->parallel : 1;
	R.per_host = opt->per_host > 0 ? (size_t)opt->per_host : 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, EX_SOFTWARE, "cannot initialise libcurl");
	if ((R.m = curl_multi_init()) == NULL || (R.x = calloc(n, sizeof *R.x)) == NULL ||
	    (R.act = calloc(R.parallel, sizeof *R.act)) == NULL) {
		rc = err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		R.x[i].req = &reqs[i];
		R.x[i].host = host_key(reqs[i].url);
	}
	curl_multi_setopt(R.m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)R.parallel);
	curl_multi_setopt(R.m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)R.per_host);
	curl_multi_setopt(R.m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	refill(&R);
	while (R.nact > 0) {
		if (curl_multi_perform(R.m, &running) != CURLM_OK) {
			rc = err_set(e, EX_SOFTWARE, "libcurl multi handle failed");
			break;
		}
		/* Slots free up only when transfers end. */
		if (reap(&R) > 0)
			refill(&R);
		if (R.nact > 0 && curl_multi_poll(R.m, NULL, 0, 1000, NULL) != CURLM_OK) {
			rc = err_set(e, EX_SOFTWARE, "libcurl multi poll failed");
			break;
		}
	}
out:
	/* Only after a multi failure can transfers remain: end them cleanly. */
	for (size_t i = 0; R.x != NULL && i < n; i++) {
		if (R.x[i].h != NULL) {
			curl_multi_remove_handle(R.m, R.x[i].h);
			xfer_free(&R.x[i]);
		}
	}
	free(R.x);
	free(R.act);
	if (R.m != NULL)
		curl_multi_cleanup(R.m);
	curl_global_cleanup();
	return rc;
}
