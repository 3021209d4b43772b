#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 200

struct jp {
	const char *start, *s, *end;
	char *err;
	size_t errlen;
	int depth;
};

static struct tval *value(struct jp *p);

static struct tval *
fail(struct jp *p, const char *what)
{
	if (p->err[0] == '\0')
		snprintf(p->err, p->errlen, "%s at offset %td", what, p->s - p->start);
	return NULL;
}

static void
ws(struct jp *p)
{
	while (p->s < p->end && *p->s != '\0' && strchr(" \t\r\n", *p->s) != NULL)
		p->s++;
}

static int
lit(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0)
		return 0;
	p->s += n;
	return 1;
}

static int
hex4(struct jp *p, unsigned *out)
{
	unsigned v = 0;

	if (p->end - p->s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *p->s++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | cp >> 12;
		u[1] = 0x80 | (cp >> 6 & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		u[0] = 0xf0 | cp >> 18;
		u[1] = 0x80 | (cp >> 12 & 0x3f);
		u[2] = 0x80 | (cp >> 6 & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	return buf_add(b, u, n);
}

static char *
string(struct jp *p)
{
	struct buf b = BUF_INIT;
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

	p->s++;
	while (p->s < p->end && *p->s != '"') {
		char c = *p->s++;
		const char *m;
		unsigned cp, lo;

		if (c != '\\') {
			buf_addc(&b, c);
			continue;
		}
		if (p->s >= p->end)
			break;
		c = *p->s++;
		if (c == 'u') {
			if (hex4(p, &cp) < 0)
				goto bad;
			if (cp >= 0xd800 && cp < 0xdc00 && lit(p, "\\u") && hex4(p, &lo) == 0)
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			utf8(&b, cp);
			continue;
		}
		for (m = esc; *m && *m != c; m += 2)
			;
		if (*m == '\0')
			goto bad;
		buf_addc(&b, m[1]);
	}
	if (p->s >= p->end)
		goto bad;
	p->s++;
	return buf_steal(&b);
bad:
	buf_free(&b);
	fail(p, "bad string");
	return NULL;
}

/* Integers stay integers; other numbers print in their shortest exact form. */
static struct tval *
number(struct jp *p)
{
	const char *start = p->s;
	char *end, text[64];
	double d;
	long long ll;

	errno = 0;
	ll = strtoll(start, &end, 10);
	if (end > start && (end >= p->end || strchr(".eE", *end) == NULL || *end == '\0') &&
	    errno == 0) {
		p->s = end;
		return tv_int(ll);
	}
	d = strtod(start, &end);
	if (end == start)
		return fail(p, "bad number");
	p->s = end;
	if (d == (long long)d && d > -1e15 && d < 1e15)
		return tv_int((long long)d);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof text, "%.*g", prec, d);
		if (strtod(text, NULL) == d)
			break;
	}
	return tv_num(text);
}

static struct tval *
container(struct jp *p, int is_map)
{
	struct tval *c = is_map ? tv_map() : tv_list();
	char close = is_map ? '}' : ']';

	if (c == NULL || ++p->depth > MAX_DEPTH)
		goto bad;
	p->s++;
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		p->depth--;
		return c;
	}
	for (;;) {
		char *key = NULL;
		struct tval *v;
		int r;

		ws(p);
		if (is_map) {
			if (p->s >= p->end || *p->s != '"' || (key = string(p)) == NULL)
				goto bad;
			ws(p);
			if (!lit(p, ":")) {
				free(key);
				goto bad;
			}
		}
		if ((v = value(p)) == NULL) {
			free(key);
			goto bad;
		}
		r = is_map ? tv_set(c, key, v) : tv_push(c, v);
		free(key);
		if (r < 0)
			goto bad;
		ws(p);
		if (lit(p, ","))
			continue;
		if (p->s < p->end && *p->s == close) {
			p->s++;
			p->depth--;
			return c;
		}
		goto bad;
	}
bad:
	tv_free(c);
	return fail(p, is_map ? "bad object" : "bad array");
}

static struct tval *
value(struct jp *p)
{
	char *s;

	ws(p);
	if (p->s >= p->end)
		return fail(p, "unexpected end");
	switch (*p->s) {
	case '{': return container(p, 1);
	case '[': return container(p, 0);
	case '"':
		if ((s = string(p)) == NULL)
			return NULL;
		return tv_str_owned(s);
	default: break;
	}
	if (lit(p, "true"))
		return tv_bool(1);
	if (lit(p, "false"))
		return tv_bool(0);
	if (lit(p, "null"))
		return tv_null();
	return number(p);
}

struct tval *
json_parse(const char *s, size_t n, char *err, size_t errlen)
{
	struct jp p = {s, s, s + n, err, errlen, 0};
	struct tval *v;

	err[0] = '\0';
	if ((v = value(&p)) == NULL)
		return NULL;
	ws(&p);
	if (p.s != p.end) {
		tv_free(v);
		return fail(&p, "trailing data");
	}
	return v;
}

struct tval *
json_load_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	struct tval *v;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	v = json_parse(buf_str(&b), b.len, err, errlen);
	buf_free(&b);
	return v;
}
