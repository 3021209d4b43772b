/*
 * parsecmd: `tidings parse [--json] FILE|URL|FEED...`, the parser on its own.
 *
 * No state: each operand is read from disk (or fetched with one plain
 * GET), parsed and listed.  An operand that is neither a URL nor an
 * existing file may name a feed of the configuration (-c, or the default
 * one), read only then: parsing a file never needs a config.  With --json, one object per feed per
 * line, the shape tests/data/corpus/compare.py documents.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cli.h"
#include "config.h"
#include "date.h"
#include "feed.h"
#include "util.h"

#define FETCH_MAX (10L << 20)
#define FILE_MAX  (64L << 20)
/* One feed fetched by hand: at most this long, the connection within CONNECT_TIMEOUT. */
#define TIMEOUT         30L
#define CONNECT_TIMEOUT 15L

static int
read_file(const char *path, struct buf *b, struct err *e)
{
	if (buf_read_file(b, path, FILE_MAX) == 0)
		return 0;
	if (errno == EFBIG)
		return err_set(e, EX_DATAERR, "larger than %ld MB", FILE_MAX >> 20);
	if (errno == ENOMEM)
		return err_oom(e);
	return err_set(e, EX_NOINPUT, "%s", strerror(errno));
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	/* MAXFILESIZE only works with a Content-Length: cap here. */
	if (b->len + n > (size_t)FETCH_MAX || buf_add(b, p, n) < 0)
		return 0;
	return size * n;
}

/* Network trouble that may pass (exit 75, try again), not a missing input (66). */
static int
transient(CURLcode rc)
{
	static const CURLcode temporary[] = {
	    CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY,
	    CURLE_COULDNT_CONNECT,      CURLE_OPERATION_TIMEDOUT,
	    CURLE_SEND_ERROR,           CURLE_RECV_ERROR,
	    CURLE_GOT_NOTHING,          CURLE_PARTIAL_FILE,
	    CURLE_SSL_CONNECT_ERROR,    CURLE_HTTP2,
	    CURLE_HTTP2_STREAM,
	};

	for (size_t i = 0; i < sizeof temporary / sizeof temporary[0]; i++)
		if (rc == temporary[i])
			return 1;
	return 0;
}

static int
fetch_url(const char *url, const char *proxy, struct buf *b, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	CURLcode rc;
	long status = 0;

	if (h == NULL)
		return err_oom(e);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TIMEOUT);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tidings/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (proxy != NULL)
		curl_easy_setopt(h, CURLOPT_PROXY, proxy);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (rc == CURLE_WRITE_ERROR && b->len + 1 > (size_t)FETCH_MAX / 2)
		return err_set(e, EX_DATAERR, "larger than %ld MB", FETCH_MAX >> 20);
	if (rc != CURLE_OK)
		return err_set(e, transient(rc) ? EX_TEMPFAIL : EX_NOINPUT, "%s",
		               *errbuf ? errbuf : curl_easy_strerror(rc));
	if (status >= 400)
		return err_set(e, status >= 500 || status == 429 ? EX_TEMPFAIL : EX_NOINPUT,
		               "HTTP status %ld", status);
	return 0;
}

static int
is_url(const char *s)
{
	return str_has_prefix(s, "http://") || str_has_prefix(s, "https://");
}

/* A JSON string; invalid UTF-8 (which the parser never yields) becomes U+FFFD. */
static void
json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run;

	if (s == NULL) {
		fputs("null", out);
		return;
	}
	putc('"', out);
	while (*p) {
		unsigned char c;
		size_t k;

		/* plain ASCII goes out in runs */
		for (run = p; *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\'; p++)
			;
		fwrite(run, 1, (size_t)(p - run), out);
		if ((c = *p) == '\0')
			break;
		/* a NUL ends the string, so a sequence cut short is simply invalid */
		k = utf8_len(p, strnlen((const char *)p, 4));
		if (k == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else if (ctl_len(p, k) == 2) /* C1: a terminal acts on it raw */
			fprintf(out, "\\u%04x", p[1]);
		else
			fwrite(p, 1, k, out);
		p += k;
	}
	putc('"', out);
}

/* label and then n in decimal, without printf's format parsing (once per item). */
static void
put_number(FILE *out, const char *label, long long n)
{
	char s[24], *q = s + sizeof s;
	unsigned long long u = n < 0 ? 0 - (unsigned long long)n : (unsigned long long)n;

	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	if (n < 0)
		*--q = '-';
	fputs(label, out);
	fwrite(q, 1, (size_t)(s + sizeof s - q), out);
}

/* Every URL the item gives, as a JSON array's members: its link, enclosures, other links. */
static void
print_links(FILE *out, const struct item *it)
{
	int n = 0;

	if (it->link) {
		json_str(out, it->link);
		n++;
	}
	for (size_t j = 0; j < it->nenclosures; j++, n++) {
		fputs(n ? ", " : "", out);
		json_str(out, it->enclosures[j].url);
	}
	for (size_t j = 0; j < it->nlinks; j++, n++) {
		fputs(n ? ", " : "", out);
		json_str(out, it->links[j].url);
	}
}

static void
print_json(FILE *out, const char *arg, const struct feed *f, const char *error)
{
	const char *base = strrchr(arg, '/');

	fputs("{\"file\": ", out);
	json_str(out, is_url(arg) || base == NULL ? arg : base + 1);
	fputs(", \"error\": ", out);
	json_str(out, error);
	fputs(", \"feed_title\": ", out);
	json_str(out, f ? f->title : NULL);
	fputs(", \"items\": [", out);
	for (size_t i = 0; f && i < f->nitems; i++) {
		const struct item *it = &f->items[i];

		fputs(i ? ", {\"id\": " : "{\"id\": ", out);
		json_str(out, it->id);
		fputs(", \"title\": ", out);
		json_str(out, it->title);
		fputs(", \"link\": ", out);
		json_str(out, it->link);
		if (it->has_date)
			put_number(out, ", \"published\": ", (long long)it->published);
		else
			fputs(", \"published\": null", out);
		fputs(", \"categories\": [", out);
		for (size_t j = 0; j < it->ntags; j++) {
			if (j)
				fputs(", ", out);
			json_str(out, it->tags[j]);
		}
		fputs("], \"links\": [", out);
		print_links(out, it);
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

/* label, then feed text without control characters (they would drive the terminal). */
static void
put_clean(FILE *out, const char *label, const char *s)
{
	fputs(label, out);
	fputs_clean(s, out);
}

static void
print_text(FILE *out, const char *arg, const struct feed *f)
{
	char date[40];

	put_clean(out, "", f->title ? f->title : "(untitled)");
	fprintf(out, " (%s, %zu item%s) from ", f->format, f->nitems, f->nitems == 1 ? "" : "s");
	put_clean(out, "", arg);
	putc('\n', out);
	if (f->warning) {
		put_clean(out, "  warning: ", f->warning);
		putc('\n', out);
	}
	for (size_t i = 0; i < f->nitems; i++) {
		const struct item *it = &f->items[i];

		if (!it->has_date || date_format_rfc3339(it->published, date, sizeof date) < 0)
			snprintf(date, sizeof date, "(no date)");
		fprintf(out, "\n%s  ", date);
		put_clean(out, "", *it->title ? it->title : "(untitled)");
		if (it->link)
			put_clean(out, "\n    link: ", it->link);
		for (size_t j = 0; j < it->nenclosures; j++)
			put_clean(out, "\n    enclosure: ", it->enclosures[j].url);
		for (size_t j = 0; j < it->nlinks; j++) {
			put_clean(out, "\n    ", it->links[j].rel ? it->links[j].rel : "link");
			put_clean(out, ": ", it->links[j].url);
		}
		put_clean(out, "\n    id:   ", it->id);
		putc('\n', out);
		if (it->ntags) {
			fputs("    tags:", out);
			for (size_t j = 0; j < it->ntags; j++)
				put_clean(out, j ? ", " : " ", it->tags[j]);
			putc('\n', out);
		}
	}
}

/* One operand; returns its exit status.  proxy: a configured feed's, or NULL. */
static int
parse_one(const struct cli *c, const char *arg, const char *proxy)
{
	struct buf body = BUF_INIT;
	struct err e = {0};
	struct feed f;
	int rc = EX_OK;

	if ((is_url(arg) ? fetch_url(arg, proxy, &body, &e) : read_file(arg, &body, &e)) < 0 ||
	    feed_parse(body.data, body.len, is_url(arg) ? arg : NULL, &f, &e) < 0) {
		put_clean(stderr, "tidings: ", arg);
		put_clean(stderr, ": ", e.msg);
		putc('\n', stderr);
		if (c->json)
			print_json(stdout, arg, NULL, e.msg);
		buf_free(&body);
		return e.code ? e.code : EX_DATAERR;
	}
	buf_free(&body);
	if (c->json && f.warning) {
		put_clean(stderr, "tidings: ", arg);
		put_clean(stderr, ": warning: ", f.warning);
		putc('\n', stderr);
	}
	if (c->json)
		print_json(stdout, arg, &f, NULL);
	else
		print_text(stdout, arg, &f);
	feed_free(&f);
	return rc;
}

/* What operands name: a URL or path each, and the proxy a configured feed uses. */
struct targets {
	const char **what;
	const char **proxy;
	struct config cfg;
	int have_cfg;
};

static int
names_feed(const char *arg)
{
	struct stat st;

	return !is_url(arg) && stat(arg, &st) < 0 && errno == ENOENT;
}

/*
 * A missing file may be a feed's name.  Without -c, a config that does not
 * load leaves the operand a missing file (66), as it was before configs.
 */
static int
resolve(const struct cli *c, struct targets *t, int i)
{
	const char *arg = c->argv[i];
	const struct feed_conf *fc;
	struct err e = {0};

	t->what[i] = arg;
	if (!names_feed(arg))
		return EX_OK;
	if (!t->have_cfg) {
		if (config_open(c->config_path, &t->cfg, c->config_path ? stderr : NULL, &e) < 0) {
			if (c->config_path == NULL)
				return EX_OK;
			fprintf(stderr, "tidings: %s\n", e.msg);
			return e.code ? e.code : EX_CONFIG;
		}
		t->have_cfg = 1;
	}
	if ((fc = config_feed(&t->cfg, arg)) == NULL || fc->url == NULL)
		return EX_OK;
	/* A file: feed is read as a file, the others fetched as its run would (proxy). */
	t->what[i] = str_has_prefix(fc->url, "file://") ? fc->url + 7 : fc->url;
	t->proxy[i] = fc->proxy ? fc->proxy : t->cfg.fetch.proxy;
	return EX_OK;
}

/* How bad a status is: a missing input, then a failed fetch (try again), then bad data. */
static int
rank(int status)
{
	return status == EX_OK ? 0 : status == EX_NOINPUT ? 3 : status == EX_TEMPFAIL ? 2 : 1;
}

int
cmd_parse(const struct cli *c)
{
	int status = EX_OK, need_curl = 0;
	struct targets t = {0};

	if (c->argc < 1) {
		fprintf(stderr, "usage: tidings parse [--json] FILE|URL|FEED...\n");
		return EX_USAGE;
	}
	t.what = calloc((size_t)c->argc, sizeof *t.what);
	t.proxy = calloc((size_t)c->argc, sizeof *t.proxy);
	if (t.what == NULL || t.proxy == NULL)
		status = EX_OSERR;
	for (int i = 0; status == EX_OK && i < c->argc; i++)
		status = resolve(c, &t, i);
	if (status != EX_OK) {
		if (status == EX_OSERR)
			fprintf(stderr, "tidings: out of memory\n");
		goto out;
	}
	for (int i = 0; i < c->argc; i++)
		need_curl |= is_url(t.what[i]);
	if (need_curl && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "tidings: cannot initialise libcurl\n");
		status = EX_SOFTWARE;
		goto out;
	}
	for (int i = 0; i < c->argc; i++) {
		int rc = parse_one(c, t.what[i], t.proxy[i]);

		if (!c->json && i + 1 < c->argc)
			putchar('\n');
		/* an unreadable input outranks a passing failure, which outranks bad data */
		if (rank(rc) > rank(status))
			status = rank(rc) == 1 ? EX_DATAERR : rc;
	}
	if (need_curl)
		curl_global_cleanup();
	if (fflush(stdout) != 0)
		status = EX_IOERR;
out:
	if (t.have_cfg)
		config_free(&t.cfg);
	free(t.what);
	free(t.proxy);
	return status;
}
