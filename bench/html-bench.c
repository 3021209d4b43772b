/*
 * html-bench: html_render over every item of some feeds, to measure it and
 * to check that a change leaves its output byte for byte the same.
 *
 *   html-bench [-n REPEAT] [-d] [-x SNIPPETS] FEED...
 *
 * The feeds are parsed once with feed_parse; then each item's content (else
 * its summary) is rendered REPEAT times (default 1) as the digest does it
 * (base: the item's base, else its link, else the feed's file:// URL; width
 * 72; references from 1).  -d dumps, once, the html and text parts and the
 * links of each item, and also html_render's HTML part alone and its text
 * part alone (width 40, references from 7, no base), text_wrap of that text part
 * (width 20) and of the raw HTML (width 30) and url_clean of the item
 * link, so that a diff of two dumps shows any change.  -x adds the HTML
 * snippets of a file (raw bytes, separated by lines "%%", made by
 * bench/html-edge.py), each rendered with base BASE and with none.
 * Not built by make:
 *
 *   B=/tmp/build-htmlfast; gcc -D_GNU_SOURCE -O2 -g -std=gnu11 -I src -I $B \
 *     -I /usr/include/libxml2 -o /tmp/html-bench bench/html-bench.c \
 *     src/html.c $B/libtidings.a -lxml2 -lcurl
 *   /tmp/html-bench -d feeds/... > before.txt     (diff with after.txt)
 *   valgrind --tool=callgrind /tmp/html-bench -n 1 feeds/...
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "html.h"
#include "url.h"
#include "wrap.h"
#include "util.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(&b, chunk, n) < 0)
			break;
	fclose(f);
	*len = b.len;
	return buf_steal(&b);
}

static void
dump_links(const char *what, const struct strv *l, size_t from)
{
	printf("--%s\n", what);
	for (size_t i = from; i < l->n; i++)
		printf("%s\n", l->v[i]);
}

#define BASE "http://ex.org/blog/2024/post.html"

static int
render_html(const char *html, size_t len, const char *base, const char *link, int dump)
{
	struct buf h = BUF_INIT, t = BUF_INIT, other = BUF_INIT;
	struct strv links = STRV_INIT, scratch = STRV_INIT;
	struct err e;
	char *u;
	int r;

	r = html_render(html, len, base, 72, 1, &h, &t, &links, &e);
	if (dump) {
		printf("--render %d\n--html\n%s\n--text\n%s\n", r, buf_str(&h), buf_str(&t));
		dump_links("links", &links, 0);
		buf_reset(&h);
		buf_reset(&t);
		/* The HTML part alone, then the text part alone, as before. */
		r = html_render(html, len, base, 72, 1, &h, &other, &scratch, &e);
		printf("--sanitize %d\n%s\n", r, buf_str(&h));
		buf_reset(&other);
		r = html_render(html, len, NULL, 40, 7, &other, &t, &links, &e);
		printf("--to_text %d\n%s\n", r, buf_str(&t));
		dump_links("links2", &links, 0);
		/* text_wrap over text with quotes, lists and long lines, and over raw HTML. */
		buf_reset(&h);
		text_wrap(buf_str(&t), 20, &h);
		printf("--wrap20\n%s\n", buf_str(&h));
		buf_reset(&h);
		u = str_ndup(html, len);
		text_wrap(u != NULL ? u : "", 30, &h);
		free(u);
		printf("--wrap30\n%s\n", buf_str(&h));
		u = url_clean(link, base);
		printf("--clean %s\n", u ? u : "(null)");
		free(u);
	}
	buf_free(&h);
	buf_free(&t);
	buf_free(&other);
	strv_free(&links);
	strv_free(&scratch);
	return r;
}

static int
render(const struct item *it, const char *furl, int dump)
{
	const char *html = it->content ? it->content : it->summary ? it->summary : "";
	const char *base = it->base ? it->base : it->link ? it->link : furl;

	return render_html(html, strlen(html), base, it->link, dump);
}

/* Each snippet of the file, with a base and without. */
static void
snippets(const char *path, int dump)
{
	size_t len = 0, i = 0, k;
	char *s = slurp(path, &len), *end;
	int n = 0;

	if (s == NULL) {
		fprintf(stderr, "%s: not read\n", path);
		return;
	}
	while (i < len) {
		end = memmem(s + i, len - i, "\n%%\n", 4);
		k = end != NULL ? (size_t)(end - (s + i)) : len - i;
		if (dump)
			printf("== %s %d\n", path, n);
		render_html(s + i, k, BASE, "http://ex.org/a?utm_x=1", dump);
		if (dump)
			printf("== %s %d nobase\n", path, n);
		render_html(s + i, k, NULL, "/rel", dump);
		n++;
		i += k + (end != NULL ? 4 : 0);
	}
	free(s);
}

int
main(int argc, char **argv)
{
	int repeat = 1, dump = 0, c;
	struct feed *feeds;
	char **urls;
	const char *x = NULL;
	int nf;

	while ((c = getopt(argc, argv, "n:dx:")) != -1) {
		if (c == 'n')
			repeat = atoi(optarg);
		else if (c == 'd')
			dump = 1;
		else if (c == 'x')
			x = optarg;
		else
			return 64;
	}
	nf = argc - optind;
	feeds = calloc(nf > 0 ? nf : 1, sizeof *feeds);
	urls = calloc(nf > 0 ? nf : 1, sizeof *urls);
	if (feeds == NULL || urls == NULL)
		return 71;
	for (int i = 0; i < nf; i++) {
		const char *path = argv[optind + i];
		size_t len = 0;
		char *data = slurp(path, &len);
		struct err e;

		urls[i] = str_printf("file://%s", path);
		if (data == NULL || feed_parse(data, len, urls[i], &feeds[i], &e) < 0)
			fprintf(stderr, "%s: not parsed\n", path);
		free(data);
	}
	if (dump)
		repeat = 1;
	for (int k = 0; k < repeat; k++) {
		if (x != NULL)
			snippets(x, dump);
		for (int i = 0; i < nf; i++)
			for (size_t j = 0; j < feeds[i].nitems; j++) {
				if (dump)
					printf("== %s %zu\n", argv[optind + i], j);
				render(&feeds[i].items[j], urls[i], dump);
			}
	}
	for (int i = 0; i < nf; i++) {
		feed_free(&feeds[i]);
		free(urls[i]);
	}
	free(feeds);
	free(urls);
	return 0;
}
