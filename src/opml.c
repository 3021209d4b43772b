/*
 * opml: OPML import (to feed sections) and export (from the config).
 */
#include "opml.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cli.h"
#include "date.h"

#define OPML_MAX_BYTES (16 * 1024 * 1024)
#define OPML_MAX_DEPTH 32
#define SLUG_MAX       40

struct importer {
	FILE *out;
	struct strv names; /* given so far, to keep them unique */
	struct strv urls;  /* seen so far: a feed listed twice is printed once */
	size_t count;
};

char *
opml_slug(const char *title)
{
	struct buf b = BUF_INIT;
	int dash = 0;

	for (const char *p = title ? title : ""; *p && b.len < SLUG_MAX; p++) {
		unsigned char c = (unsigned char)*p;

		if (isalnum(c) && c < 0x80) {
			if (dash && b.len > 0)
				buf_addc(&b, '-');
			buf_addc(&b, (char)tolower(c));
			dash = 0;
		} else {
			dash = 1;
		}
	}
	if (b.len == 0)
		buf_adds(&b, "feed");
	return buf_steal(&b);
}

static int
has_ascii_alnum(const char *s)
{
	for (; s && *s; s++)
		if (isalnum((unsigned char)*s) && (unsigned char)*s < 0x80)
			return 1;
	return 0;
}

/* The name: from the title, else from the URL's host (without www.). */
static char *
unique_name(struct importer *im, const char *title, const char *url)
{
	char *base, *name, *host = NULL;
	const char *p;

	if (!has_ascii_alnum(title) && (p = strstr(url, "://")) != NULL) {
		p += 3;
		if (strncasecmp(p, "www.", 4) == 0)
			p += 4;
		host = str_ndup(p, strcspn(p, "/:?#"));
	}
	base = opml_slug(host ? host : title);
	free(host);

	if (base == NULL)
		return NULL;
	name = str_dup(base);
	for (int n = 2; name && strv_contains_icase(&im->names, name); n++) {
		free(name);
		name = str_printf("%s-%d", base, n);
	}
	free(base);
	if (name && strv_push(&im->names, name) < 0) {
		free(name);
		return NULL;
	}
	return name;
}

/*
 * The bytes of the control character at s that the output leaves out, or
 * 0: ctl_len's (C0, DEL, C1 as UTF-8) and tab, newline and CR as well.
 */
static size_t
dropped_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;

	if (*p == '\0')
		return 0;
	k = ctl_len(p, strnlen(s, 2));
	return k > 0 ? k : *p < 0x20;
}

/* A libconfuse double-quoted string: \ " and $ escaped, controls dropped. */
static void
put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	while (*s) {
		size_t k = dropped_len(s);

		if (k > 0) {
			s += k;
			continue;
		}
		if (*s == '"' || *s == '\\' || *s == '$')
			fputc('\\', out);
		fputc(*s++, out);
	}
	fputc('"', out);
}

static char *
attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *r, *t;

	if (v == NULL)
		return NULL;
	t = str_trim((char *)v);
	r = *t ? str_dup(t) : NULL;
	xmlFree(v);
	return r;
}

static void
add_tag(struct strv *tags, const char *t)
{
	char *copy = str_dup(t), *s;

	if (copy == NULL)
		return;
	s = str_trim(copy);
	if (*s && !strv_contains_icase(tags, s))
		strv_push(tags, s);
	free(copy);
}

static void
print_feed(struct importer *im, xmlNode *n, const char *url, const struct strv *folders)
{
	char *title = attr(n, "title"), *text = attr(n, "text"), *cat = attr(n, "category");
	const char *t = title ? title : text;
	struct strv tags = STRV_INIT;
	char *name;

	if (strv_contains_icase(&im->urls, url))
		goto out;
	strv_push(&im->urls, url);
	for (size_t i = 0; i < folders->n; i++)
		add_tag(&tags, folders->v[i]);
	/* OPML 2.0: "category" is a comma-separated list of slash paths. */
	for (char *c = cat ? strtok(cat, ",") : NULL; c; c = strtok(NULL, ",")) {
		char *slash = strrchr(c, '/');

		add_tag(&tags, slash ? slash + 1 : c);
	}
	if ((name = unique_name(im, t, url)) == NULL)
		goto out;
	fprintf(im->out, "feed %s {\n\turl = ", name);
	put_quoted(im->out, url);
	if (t) {
		fputs("\n\ttitle = ", im->out);
		put_quoted(im->out, t);
	}
	if (tags.n) {
		fputs("\n\ttags = {", im->out);
		for (size_t i = 0; i < tags.n; i++) {
			if (i)
				fputs(", ", im->out);
			put_quoted(im->out, tags.v[i]);
		}
		fputc('}', im->out);
	}
	fputs("\n}\n", im->out);
	im->count++;
	free(name);
out:
	strv_free(&tags);
	free(title);
	free(text);
	free(cat);
}

/*
 * An OPML file comes from elsewhere: only http and https feeds are taken
 * (a javascript: or file: URL would be fetched, or read, as if the user
 * had written it).  A skipped one is said in a comment, escaped.
 */
static int
feed_url_ok(struct importer *im, const char *url)
{
	struct buf shown = BUF_INIT;

	if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0)
		return 1;
	buf_add_printable(&shown, url);
	fprintf(im->out, "# skipped, not an http or https URL: %s\n", buf_str(&shown));
	buf_free(&shown);
	return 0;
}

static void
walk(struct importer *im, xmlNode *n, struct strv *folders, int depth)
{
	for (; n; n = n->next) {
		char *url, *label;

		if (n->type != XML_ELEMENT_NODE ||
		    !xmlStrEqual(n->name, (const xmlChar *)"outline"))
			continue;
		if ((url = attr(n, "xmlUrl")) != NULL) {
			if (feed_url_ok(im, url))
				print_feed(im, n, url, folders);
			free(url);
			continue;
		}
		if (depth >= OPML_MAX_DEPTH)
			continue;
		label = attr(n, "title");
		if (label == NULL)
			label = attr(n, "text");
		if (label && strv_push_owned(folders, label) == 0) {
			walk(im, n->children, folders, depth + 1);
			free(folders->v[--folders->n]);
		} else {
			free(label);
			walk(im, n->children, folders, depth + 1);
		}
	}
}

int
opml_import(const char *data, size_t len, const char *label, FILE *out, struct err *e)
{
	struct importer im = {out, STRV_INIT, STRV_INIT, 0};
	struct strv folders = STRV_INIT;
	xmlDoc *doc;
	xmlNode *root, *n;

	if (len > OPML_MAX_BYTES)
		return err_set(e, EX_DATAERR, "%s: larger than %d bytes", label, OPML_MAX_BYTES);
	if (len == 0) /* libxml2 fails it without recording an error */
		return err_set(e, EX_DATAERR, "%s: empty file", label);
	/* else an error that records none would report an earlier document's */
	xmlResetLastError();
	doc = xmlReadMemory(data, (int)len, NULL, NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *x = xmlGetLastError();

		if (x == NULL)
			return err_set(e, EX_DATAERR, "%s: not well-formed XML", label);
		return err_set(e, EX_DATAERR, "%s:%d: not well-formed XML%s%s", label, x->line,
		               x->message ? ": " : "", x->message ? str_trim(x->message) : "");
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !xmlStrEqual(root->name, (const xmlChar *)"opml")) {
		xmlFreeDoc(doc);
		return err_set(e, EX_DATAERR, "%s: not OPML (no <opml> root element)", label);
	}
	fprintf(out, "# Feeds from %s (tidings import-opml)\n", label);
	for (n = root->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)"body"))
			walk(&im, n->children, &folders, 0);
	fprintf(out, "# %zu feed%s\n", im.count, im.count == 1 ? "" : "s");
	strv_free(&folders);
	strv_free(&im.names);
	strv_free(&im.urls);
	xmlFreeDoc(doc);
	return 0;
}

/* s as an attribute's value: escaped, control characters left out.  -1 when out of memory. */
static int
put_xml(FILE *out, const char *s)
{
	struct buf b = BUF_INIT;
	int r = 0;

	while (r == 0 && *s) {
		size_t n = 0;

		while (s[n] != '\0' && dropped_len(s + n) == 0)
			n++;
		r = buf_add_html_escaped(&b, s, n, HTML_ESC_QUOT);
		s += n;
		s += dropped_len(s);
	}
	if (r == 0)
		fputs(buf_str(&b), out);
	buf_free(&b);
	return r;
}

static int
put_feed(FILE *out, const struct feed_conf *f, const char *indent)
{
	const char *title = f->title ? f->title : f->name;
	int r = 0;

	fprintf(out, "%s<outline type=\"rss\" text=\"", indent);
	r |= put_xml(out, title);
	fputs("\" title=\"", out);
	r |= put_xml(out, title);
	fputs("\" xmlUrl=\"", out);
	r |= put_xml(out, f->url);
	fputc('"', out);
	if (f->tags.n) {
		fputs(" category=\"", out);
		for (size_t i = 0; i < f->tags.n; i++) {
			if (i)
				fputc(',', out);
			r |= put_xml(out, f->tags.v[i]);
		}
		fputc('"', out);
	}
	fputs("/>\n", out);
	return r;
}

int
opml_export(const struct config *cfg, FILE *out, struct err *e)
{
	char date[64];
	int r = 0;

	/* RFC 822, as OPML wants, without the locale's day and month names */
	if (date_format_rfc5322(time(NULL), date, sizeof date) < 0)
		date[0] = '\0';
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n"
	      "  <head>\n    <title>tidings feeds</title>\n",
	      out);
	fprintf(out, "    <dateCreated>%s</dateCreated>\n  </head>\n  <body>\n", date);
	/* A folder per first tag, in the order the tags first appear. */
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		const struct feed_conf *f = &cfg->feeds[i];
		size_t j;

		if (f->tags.n == 0)
			continue;
		for (j = 0; j < i; j++)
			if (cfg->feeds[j].tags.n && str_ieq(cfg->feeds[j].tags.v[0], f->tags.v[0]))
				break;
		if (j < i)
			continue;
		fputs("    <outline text=\"", out);
		r |= put_xml(out, f->tags.v[0]);
		fputs("\" title=\"", out);
		r |= put_xml(out, f->tags.v[0]);
		fputs("\">\n", out);
		for (j = i; j < cfg->nfeeds; j++)
			if (cfg->feeds[j].tags.n && str_ieq(cfg->feeds[j].tags.v[0], f->tags.v[0]))
				r |= put_feed(out, &cfg->feeds[j], "      ");
		fputs("    </outline>\n", out);
	}
	for (size_t i = 0; i < cfg->nfeeds; i++)
		if (cfg->feeds[i].tags.n == 0)
			r |= put_feed(out, &cfg->feeds[i], "    ");
	fputs("  </body>\n</opml>\n", out);
	if (r < 0)
		return err_oom(e);
	if (fflush(out) == EOF || ferror(out))
		return err_set(e, EX_IOERR, "writing the OPML: %s", strerror(errno));
	return 0;
}

static int
read_all(const char *path, struct buf *b, struct err *e)
{

	if (buf_read_file(b, path, OPML_MAX_BYTES) == 0)
		return 0;
	if (errno == EFBIG)
		return err_set(e, EX_DATAERR, "%s: larger than %d bytes", path, OPML_MAX_BYTES);
	if (errno == ENOMEM)
		return err_oom(e);
	if (errno != EIO && errno != EISDIR) /* it would not open */
		return err_set(e, EX_NOINPUT, "%s: %s", path, strerror(errno));
	return err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
}

int
cmd_import_opml(const struct cli *c)
{
	struct buf b = BUF_INIT;
	struct err e = {0};
	int rc = 0;

	if (c->argc != 1) {
		fprintf(stderr, "usage: tidings import-opml FILE\n");
		return EX_USAGE;
	}
	if (read_all(c->argv[0], &b, &e) < 0 ||
	    opml_import(buf_str(&b), b.len, c->argv[0], stdout, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		rc = e.code;
	} else if (fflush(stdout) == EOF) {
		fprintf(stderr, "tidings: writing: %s\n", strerror(errno));
		rc = EX_IOERR;
	}
	buf_free(&b);
	return rc;
}

int
cmd_export_opml(const struct cli *c)
{
	struct config cfg;
	struct err e = {0};
	int rc = 0;

	if (c->argc != 0) {
		fprintf(stderr, "usage: tidings [-c FILE] export-opml\n");
		return EX_USAGE;
	}
	if (config_open(c->config_path, &cfg, stderr, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		return e.code;
	}
	if (opml_export(&cfg, stdout, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		rc = e.code;
	}
	config_free(&cfg);
	return rc;
}
