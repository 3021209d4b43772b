/*
 * jsonfeed: JSON Feed 1.0/1.1 into struct feed, through a small JSON reader
 * of its own (bounded in depth and members).
 */
#include "jsonfeed.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "date.h"
#include "item.h"
#include "mend.h"

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

/* A parsed JSON value; object members keep their keys in k. */
struct jv {
	enum jtype t;
	char *s;  /* J_STR: the UTF-8 text; J_NUM: the number as written */
	size_t n; /* members of J_ARR and J_OBJ */
	struct jv *v;
	char **k;
};

struct jp {
	const char *p, *end;
	int depth;
};

#define JSON_MAX_DEPTH     64
#define JSON_MAX_MEMBERS   200000
#define JSON_MEMBERS_FIRST 8 /* room a list or object first gets */

static void
jv_free(struct jv *j)
{
	for (size_t i = 0; i < j->n; i++) {
		jv_free(&j->v[i]);
		if (j->k)
			free(j->k[i]);
	}
	free(j->v);
	free(j->k);
	free(j->s);
	memset(j, 0, sizeof *j);
}

static void
jp_space(struct jp *p)
{
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r'))
		p->p++;
}

static int
hex4(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return -1;
		v = v * 16 + (unsigned long)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
	}
	*out = v;
	return 0;
}

/* The \uXXXX escape at p->p (and the low surrogate after it), appended as UTF-8. */
static int
jp_unicode(struct jp *p, struct buf *b)
{
	unsigned long cp, lo;

	if (p->end - p->p < 6 || hex4(p->p + 2, &cp) < 0)
		return -1;
	p->p += 4;
	if (cp >= 0xD800 && cp < 0xDC00 && p->end - p->p >= 8 && p->p[2] == '\\' &&
	    p->p[3] == 'u' && hex4(p->p + 4, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		p->p += 6;
	}
	/* a NUL would end the string early: dropped, not the whole feed */
	return cp != 0 ? mend_put_utf8(b, cp) : 0;
}

/* What a backslash and c stand for: \b \f \n \r \t; any other c (\" \\ \/, leniency) itself. */
static char
unescaped(char c)
{
	static const char esc[256] = {
	    ['b'] = '\b', ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t'};

	return esc[(unsigned char)c] ? esc[(unsigned char)c] : c;
}

static int
jp_string(struct jp *p, char **out)
{
	struct buf b = BUF_INIT;

	p->p++; /* the opening quote */
	if (buf_adds(&b, "") < 0)
		return -1;
	while (p->p < p->end && *p->p != '"') {
		const char *run = p->p;

		while (p->p < p->end && *p->p != '"' && *p->p != '\\')
			p->p++;
		if (buf_add(&b, run, (size_t)(p->p - run)) < 0)
			goto fail;
		if (p->p >= p->end || *p->p == '"')
			break;
		if (p->end - p->p < 2)
			goto fail;
		if ((p->p[1] == 'u' ? jp_unicode(p, &b) : buf_addc(&b, unescaped(p->p[1]))) < 0)
			goto fail;
		p->p += 2;
	}
	if (p->p >= p->end)
		goto fail;
	p->p++;
	*out = buf_steal(&b);
	return *out ? 0 : -1;
fail:
	buf_free(&b);
	return -1;
}

static int jp_value(struct jp *p, struct jv *j);

/* Members of an array or object, up to the closing bracket. */
static int
jp_members(struct jp *p, struct jv *j, char close)
{
	size_t cap = 0;

	p->p++;
	jp_space(p);
	if (p->p < p->end && *p->p == close) {
		p->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		if (j->n >= JSON_MAX_MEMBERS)
			return -1;
		if (j->n == cap) {
			struct jv *v;
			char **k;

			cap = cap ? cap * 2 : JSON_MEMBERS_FIRST;
			if ((v = realloc(j->v, cap * sizeof *v)) == NULL)
				return -1;
			j->v = v;
			if (close == '}') {
				if ((k = realloc(j->k, cap * sizeof *k)) == NULL)
					return -1;
				j->k = k;
			}
		}
		jp_space(p);
		if (close == '}') {
			if (p->p >= p->end || *p->p != '"' || jp_string(p, &key) < 0)
				return -1;
			jp_space(p);
			if (p->p >= p->end || *p->p != ':') {
				free(key);
				return -1;
			}
			p->p++;
			j->k[j->n] = key;
		}
		memset(&j->v[j->n], 0, sizeof j->v[0]);
		j->n++;
		if (jp_value(p, &j->v[j->n - 1]) < 0)
			return -1;
		jp_space(p);
		if (p->p < p->end && *p->p == ',') {
			p->p++;
			continue;
		}
		if (p->p < p->end && *p->p == close) {
			p->p++;
			return 0;
		}
		return -1;
	}
}

static int
jp_value(struct jp *p, struct jv *j)
{
	static const struct {
		const char *word;
		enum jtype t;
	} words[] = {{"null", J_NULL}, {"true", J_BOOL}, {"false", J_BOOL}};
	const char *start;
	int r;

	jp_space(p);
	if (p->p >= p->end)
		return -1;
	switch (*p->p) {
	case '"': j->t = J_STR; return jp_string(p, &j->s);
	case '[':
	case '{':
		if (++p->depth > JSON_MAX_DEPTH)
			return -1;
		j->t = *p->p == '[' ? J_ARR : J_OBJ;
		r = jp_members(p, j, *p->p == '[' ? ']' : '}');
		p->depth--;
		return r;
	default: break;
	}
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = strlen(words[i].word);

		if ((size_t)(p->end - p->p) >= n && memcmp(p->p, words[i].word, n) == 0) {
			j->t = words[i].t;
			p->p += n;
			return 0;
		}
	}
	start = p->p;
	while (p->p < p->end &&
	       (isdigit((unsigned char)*p->p) || (*p->p && strchr("+-.eE", *p->p))))
		p->p++;
	if (p->p == start)
		return -1;
	j->t = J_NUM;
	return (j->s = str_ndup(start, (size_t)(p->p - start))) ? 0 : -1;
}

static const struct jv *
jget(const struct jv *o, const char *key, enum jtype t)
{
	if (o == NULL || o->t != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->k[i], key) == 0)
			return o->v[i].t == t ? &o->v[i] : NULL;
	return NULL;
}

static const char *
jstr(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key, J_STR);

	return v ? v->s : NULL;
}

static int
json_attachments(const struct jv *a, const char *url, struct item *it)
{
	int r = 0;

	for (size_t i = 0; a != NULL && i < a->n && r == 0; i++) {
		const struct jv *size = jget(&a->v[i], "size_in_bytes", J_NUM);
		const char *type = jstr(&a->v[i], "mime_type"), *s = jstr(&a->v[i], "url");

		/* item_add_enclosure frees what it is given, NULLs included */
		const struct jv *secs = jget(&a->v[i], "duration_in_seconds", J_NUM);

		r = item_add_enclosure(it, s ? item_url(s, url) : NULL, type ? str_dup(type) : NULL,
		                       size ? str_dup(size->s) : NULL);
		if (r == 0 && secs != NULL && it->duration == NULL &&
		    (it->duration = str_dup(secs->s)) == NULL)
			r = -1;
	}
	return r;
}

static int
json_tags(const struct jv *a, struct item *it)
{
	struct strv tags = STRV_INIT;
	int r = 0;

	for (size_t i = 0; a != NULL && i < a->n && r == 0; i++)
		if (a->v[i].t == J_STR)
			r = item_add_tag(&tags, a->v[i].s);
	it->tags = tags.v;
	it->ntags = tags.n;
	return r;
}

/* content_html, else content_text escaped, else the summary. */
static int
json_content(const struct jv *o, struct item *it)
{
	const char *s;

	if ((s = jstr(o, "summary")) != NULL && (it->summary = item_escaped(s)) == NULL)
		return -1;
	if ((s = jstr(o, "content_html")) != NULL)
		it->content = str_dup(s);
	else if ((s = jstr(o, "content_text")) != NULL)
		it->content = item_escaped(s);
	else if ((s = it->summary) != NULL)
		it->content = str_dup(s);
	return s != NULL && it->content == NULL ? -1 : 0;
}

static void
json_date(const struct jv *o, struct item *it)
{
	const char *s;
	time_t t;

	if (((s = jstr(o, "date_published")) != NULL && date_parse(s, &t) == 0) ||
	    ((s = jstr(o, "date_modified")) != NULL && date_parse(s, &t) == 0)) {
		it->published = t;
		it->has_date = 1;
	}
}

/* One JSON Feed item into it (zeroed); 0 or -1 (out of memory). */
static int
json_item(const struct jv *o, const char *url, struct item *it)
{
	const struct jv *v, *a;
	const char *s;

	s = jstr(o, "title");
	if ((it->title = str_dup(s ? s : "")) == NULL)
		return -1;
	str_squeeze(it->title);
	if ((s = jstr(o, "url")) != NULL && *s && (it->link = item_url(s, url)) == NULL)
		return -1;
	if ((s = jstr(o, "image")) != NULL && *s && (it->thumbnail = item_url(s, url)) == NULL)
		return -1;
	json_date(o, it);
	if (json_content(o, it) < 0)
		return -1;
	if ((a = jget(o, "authors", J_ARR)) != NULL && a->n > 0)
		s = jstr(&a->v[0], "name");
	else
		s = jstr(jget(o, "author", J_OBJ), "name");
	if (s != NULL && *s && (it->author = str_dup(s)) == NULL)
		return -1;
	if (json_tags(jget(o, "tags", J_ARR), it) < 0 ||
	    json_attachments(jget(o, "attachments", J_ARR), url, it) < 0)
		return -1;
	/* identity: id (a string, or a number as written), url, hash */
	if ((s = jstr(o, "id")) != NULL && *s)
		it->id = str_dup(s);
	else if ((v = jget(o, "id", J_NUM)) != NULL)
		it->id = str_dup(v->s);
	else if (it->link != NULL)
		it->id = str_dup(it->link);
	else
		it->id = item_hash_id(it);
	return it->id ? 0 : -1;
}

/*
 * JSON Feed's version is its spec's URL; some feeds (and gofeed's samples)
 * write it bare, "1.1".  A Blogger GData "1.0" document has no items array.
 */
static int
json_feed_version(const char *v)
{
	static const char *const ok[] = {"https://jsonfeed.org/version/",
	                                 "http://jsonfeed.org/version/"};
	static const char *const bare[] = {"1", "1.0", "1.1"};

	if (v == NULL)
		return 0;
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (str_has_prefix(v, ok[i]))
			return 1;
	for (size_t i = 0; i < sizeof bare / sizeof *bare; i++)
		if (strcmp(v, bare[i]) == 0)
			return 1;
	return 0;
}

int
jsonfeed_parse(const char *data, size_t len, const char *url, struct feed *f, struct err *e)
{
	struct jp p = {.p = data, .end = data + len, .depth = 0};
	struct jv top;
	const struct jv *items;
	const char *s;
	int rc = 0;

	memset(&top, 0, sizeof top);
	if (jp_value(&p, &top) < 0 || top.t != J_OBJ) {
		jv_free(&top);
		return err_set(e, EX_DATAERR, "not a feed: broken JSON");
	}
	s = jstr(&top, "version");
	items = jget(&top, "items", J_ARR);
	if (!json_feed_version(s) || items == NULL) {
		jv_free(&top);
		return err_set(e, EX_DATAERR, "not a feed: JSON, but not a JSON Feed");
	}
	if ((f->format = str_dup("json11")) == NULL ||
	    ((s = jstr(&top, "title")) && (f->title = str_dup(s)) == NULL) ||
	    ((s = jstr(&top, "home_page_url")) && (f->link = item_url(s, url)) == NULL) ||
	    ((s = jstr(&top, "next_url")) && (f->next = item_url(s, url)) == NULL))
		rc = err_oom(e);
	if (rc == 0 && items->n > 0) {
		size_t n = items->n < FEED_ITEMS_MAX ? items->n : FEED_ITEMS_MAX;

		if ((f->items = calloc(n, sizeof *f->items)) == NULL)
			rc = err_oom(e);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (items->v[i].t != J_OBJ)
				continue;
			if (json_item(&items->v[i], url, &f->items[f->nitems]) < 0) {
				item_free(&f->items[f->nitems]);
				rc = err_oom(e);
			} else {
				f->nitems++;
			}
		}
	}
	jv_free(&top);
	return rc;
}
