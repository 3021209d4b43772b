#include "template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/*
 * Bounds for hostile or broken templates: sections nested in one template,
 * and render frames (sections plus partials, which may recurse).
 */
#define MAX_NEST           100
#define MAX_DEPTH          200
#define MAX_DELIM          15
#define MAX_PARTIALS       256 /* compiled (name, indentation) pairs per template */
#define DEFAULT_MAX_OUTPUT ((size_t)1 << 30)
#define DEFAULT_MAX_STEPS  200000000ULL
#define FLUSH_AT           ((size_t)64 << 10) /* rendering to a file: write out in pieces this big */

/* ---- values ---- */

struct tval {
	enum tv_kind kind;
	long long i; /* TV_BOOL, TV_INT */
	char *s;     /* TV_STR, TV_NUM; a scalar set in place keeps it for the next string */
	size_t slen;
	size_t scap;     /* bytes at s, when owned */
	int borrowed;    /* s belongs to the caller: not freed */
	struct tval **v; /* TV_LIST, TV_MAP */
	char **k;        /* TV_MAP keys, parallel to v */
	uint64_t *kh;    /* their hashes: a lookup compares these first */
	size_t n, cap;
	size_t hint;     /* TV_MAP: the slot after the one last set in place */
	size_t kept;     /* TV_LIST: v[n..kept) are elements kept for tv_push_map */
	tv_make_fn make; /* lazy TV_LIST: makes element i of n on demand */
	void *make_arg;
	void (*free_arg)(void *);
	struct tval *spare;     /* lazy TV_LIST: a made element no longer in use, to be made anew */
	struct tval **spare_at; /* lazy TV_LIST: &spare, or the caller's, shared with other lists */
	int fd;                 /* TV_STR kept in a file: slen bytes at off of fd */
	off_t off;
};

static struct tval *
tv_new(enum tv_kind kind)
{
	struct tval *v = calloc(1, sizeof *v);

	if (v != NULL) {
		v->kind = kind;
		v->fd = -1;
	}
	return v;
}

struct tval *
tv_null(void)
{
	return tv_new(TV_NULL);
}

struct tval *
tv_bool(int b)
{
	struct tval *v = tv_new(TV_BOOL);

	if (v != NULL)
		v->i = b != 0;
	return v;
}

struct tval *
tv_int(long long n)
{
	struct tval *v = tv_new(TV_INT);

	if (v != NULL)
		v->i = n;
	return v;
}

struct tval *
tv_num(const char *text)
{
	struct tval *v;

	if (text == NULL)
		return tv_null();
	if ((v = tv_strn(text, strlen(text))) == NULL)
		return NULL;

	v->kind = TV_NUM;
	return v;
}

struct tval *
tv_strn(const char *s, size_t n)
{
	struct tval *v;
	char *copy;

	if (s == NULL)
		return tv_null();
	if ((copy = str_ndup(s, n)) == NULL)
		return NULL;
	if ((v = tv_new(TV_STR)) == NULL) {
		free(copy);
		return NULL;
	}
	v->s = copy;
	v->slen = n;
	v->scap = n + 1;
	return v;
}

struct tval *
tv_str(const char *s)
{
	return s != NULL ? tv_strn(s, strlen(s)) : tv_null();
}

struct tval *
tv_str_owned(char *s)
{
	struct tval *v;

	if (s == NULL)
		return NULL;
	if ((v = tv_new(TV_STR)) == NULL) {
		free(s);
		return NULL;
	}
	v->s = s;
	v->slen = strlen(s);
	v->scap = v->slen + 1;
	return v;
}

struct tval *
tv_str_borrowed(const char *s, size_t n)
{
	struct tval *v;

	if (s == NULL)
		return tv_null();
	if ((v = tv_new(TV_STR)) != NULL) {
		v->s = (char *)s;
		v->slen = n;
		v->borrowed = 1;
	}
	return v;
}

struct tval *
tv_str_file(int fd, off_t off, size_t n)
{
	struct tval *v = tv_new(TV_STR);

	if (v != NULL) {
		v->fd = fd;
		v->off = off;
		v->slen = n;
	}
	return v;
}

struct tval *
tv_lazy_list_shared(size_t n, tv_make_fn make, void *arg, void (*free_arg)(void *),
                    struct tval **spare)
{
	struct tval *v = tv_new(TV_LIST);

	if (v == NULL) {
		if (free_arg != NULL)
			free_arg(arg);
		return NULL;
	}
	v->n = n;
	v->make = make;
	v->make_arg = arg;
	v->free_arg = free_arg;
	v->spare_at = spare != NULL ? spare : &v->spare;
	return v;
}

struct tval *
tv_lazy_list(size_t n, tv_make_fn make, void *arg, void (*free_arg)(void *))
{
	return tv_lazy_list_shared(n, make, arg, free_arg, NULL);
}

struct tval *
tv_list(void)
{
	return tv_new(TV_LIST);
}

struct tval *
tv_map(void)
{
	return tv_new(TV_MAP);
}

static int
tv_grow(struct tval *c)
{
	size_t cap = c->cap ? c->cap * 2 : 4;
	struct tval **nv;
	char **nk;
	uint64_t *nh;

	if ((nv = realloc(c->v, cap * sizeof *nv)) == NULL)
		return -1;
	c->v = nv;
	if (c->kind == TV_MAP) {
		if ((nk = realloc(c->k, cap * sizeof *nk)) == NULL)
			return -1;
		c->k = nk;
		if ((nh = realloc(c->kh, cap * sizeof *nh)) == NULL)
			return -1;
		c->kh = nh;
	}
	c->cap = cap;
	return 0;
}

int
tv_push(struct tval *list, struct tval *v)
{
	if (list == NULL || v == NULL || list->kind != TV_LIST || list->make != NULL ||
	    (list->n == list->kept && list->n == list->cap && tv_grow(list) < 0)) {
		tv_free(v);
		return -1;
	}
	if (list->n < list->kept)
		tv_free(list->v[list->n]);
	list->v[list->n++] = v;
	if (list->kept < list->n)
		list->kept = list->n;
	return 0;
}

/* The slot of key (hash h) in map, or -1. */
static long
map_find(const struct tval *map, const char *key, uint64_t h)
{
	for (size_t i = 0; i < map->n; i++)
		if (map->kh[i] == h && strcmp(map->k[i], key) == 0)
			return (long)i;
	return -1;
}

int
tv_set(struct tval *map, const char *key, struct tval *v)
{
	uint64_t h;
	char *k;
	long at;

	if (map == NULL || v == NULL || map->kind != TV_MAP)
		goto fail;
	if ((at = map_find(map, key, h = hash64_str(key))) >= 0) {
		tv_free(map->v[at]);
		map->v[at] = v;
		return 0;
	}
	if ((map->n == map->cap && tv_grow(map) < 0) || (k = str_dup(key)) == NULL)
		goto fail;
	map->k[map->n] = k;
	map->kh[map->n] = h;
	map->v[map->n++] = v;
	return 0;
fail:
	tv_free(v);
	return -1;
}

static int
is_scalar(const struct tval *v)
{
	return v->kind != TV_LIST && v->kind != TV_MAP;
}

/*
 * The slot of key in map, or -1.  A map refilled sets its keys in the
 * order it first did: the slot after the one set last (after the last
 * slot, the first) is tried first.
 */
static long
refill_slot(struct tval *map, const char *key)
{
	size_t h = map->hint < map->n ? map->hint : 0;
	long at;

	if (h < map->n && strcmp(map->k[h], key) == 0)
		at = (long)h;
	else
		at = map_find(map, key, hash64_str(key));
	map->hint = at >= 0 ? (size_t)at + 1 : 0;
	return at;
}

/*
 * The scalar key holds, to be set in place (a map refilled for the next
 * element of a lazy list allocates nothing), else a new one set there.
 * It is a null, its own string memory kept for a later string.
 */
static struct tval *
scalar_at(struct tval *map, const char *key)
{
	struct tval *v;
	long at;

	if (map == NULL || map->kind != TV_MAP)
		return NULL;
	at = refill_slot(map, key);
	if (at >= 0 && is_scalar(map->v[at])) {
		v = map->v[at];
		if (v->borrowed) {
			v->s = NULL;
			v->scap = 0;
			v->borrowed = 0;
		}
		v->kind = TV_NULL;
		v->fd = -1;
		v->slen = 0;
		return v;
	}
	return (v = tv_null()) != NULL && tv_set(map, key, v) == 0 ? v : NULL;
}

int
tv_set_strn(struct tval *map, const char *key, const char *s, size_t n)
{
	struct tval *v = scalar_at(map, key);

	if (v == NULL)
		return -1;
	if (s == NULL)
		return 0;
	if (v->scap < n + 1) {
		char *p = realloc(v->s, n + 1);

		if (p == NULL)
			return -1;
		v->s = p;
		v->scap = n + 1;
	}
	memcpy(v->s, s, n);
	v->s[n] = '\0';
	v->slen = n;
	v->kind = TV_STR;
	return 0;
}

int
tv_set_str(struct tval *map, const char *key, const char *s)
{
	return tv_set_strn(map, key, s, s != NULL ? strlen(s) : 0);
}

int
tv_set_file(struct tval *map, const char *key, int fd, off_t off, size_t n)
{
	struct tval *v = scalar_at(map, key);

	if (v == NULL)
		return -1;
	v->kind = TV_STR;
	v->fd = fd;
	v->off = off;
	v->slen = n;
	return 0;
}

int
tv_set_int(struct tval *map, const char *key, long long n)
{
	struct tval *v = scalar_at(map, key);

	if (v == NULL)
		return -1;
	v->kind = TV_INT;
	v->i = n;
	return 0;
}

int
tv_set_bool(struct tval *map, const char *key, int b)
{
	struct tval *v = scalar_at(map, key);

	if (v == NULL)
		return -1;
	v->kind = TV_BOOL;
	v->i = b != 0;
	return 0;
}

struct tval *
tv_set_list(struct tval *map, const char *key)
{
	struct tval *v;
	long at;

	if (map == NULL || map->kind != TV_MAP)
		return NULL;
	at = refill_slot(map, key);
	if (at >= 0 && map->v[at]->kind == TV_LIST && map->v[at]->make == NULL) {
		v = map->v[at];
		v->n = 0; /* its elements are kept, for tv_push_map */
		return v;
	}
	return (v = tv_list()) != NULL && tv_set(map, key, v) == 0 ? v : NULL;
}

struct tval *
tv_push_map(struct tval *list)
{
	struct tval *m;

	if (list != NULL && list->kind == TV_LIST && list->n < list->kept &&
	    list->v[list->n]->kind == TV_MAP)
		return list->v[list->n++];
	return (m = tv_map()) != NULL && tv_push(list, m) == 0 ? m : NULL;
}

static struct tval *
get_hashed(const struct tval *map, const char *key, uint64_t h)
{
	long at;

	if (map == NULL || map->kind != TV_MAP || (at = map_find(map, key, h)) < 0)
		return NULL;
	return map->v[at];
}

struct tval *
tv_get(const struct tval *map, const char *key)
{
	return get_hashed(map, key, hash64_str(key));
}

void
tv_free(struct tval *v)
{
	if (v == NULL)
		return;
	if (v->make != NULL) {
		if (v->free_arg != NULL)
			v->free_arg(v->make_arg);
		tv_free(v->spare);
		free(v);
		return;
	}
	for (size_t i = 0; i < (v->kept > v->n ? v->kept : v->n); i++) {
		tv_free(v->v[i]);
		if (v->k != NULL)
			free(v->k[i]);
	}
	free(v->v);
	free(v->k);
	free(v->kh);
	if (!v->borrowed)
		free(v->s);
	free(v);
}

enum tv_kind
tv_kind(const struct tval *v)
{
	return v != NULL ? v->kind : TV_NULL;
}

size_t
tv_len(const struct tval *v)
{
	return v != NULL && (v->kind == TV_LIST || v->kind == TV_MAP) ? v->n : 0;
}

struct tval *
tv_at(const struct tval *v, size_t i)
{
	return i < tv_len(v) && v->make == NULL ? v->v[i] : NULL;
}

const char *
tv_text(const struct tval *v)
{
	return v != NULL && (v->kind == TV_STR || v->kind == TV_NUM) && v->fd < 0 ? v->s : NULL;
}

/* ---- compiled templates ---- */

enum ntype { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	enum ntype type;
	const char *text; /* N_TEXT: points into tpl->src */
	size_t len;
	char *name;       /* tag name as written (trimmed) */
	char **parts;     /* dotted name split; nparts 0 is "." */
	uint64_t *hashes; /* each part's, found once here rather than at each lookup */
	size_t nparts;
	char *indent;      /* N_PARTIAL: indentation of a standalone tag */
	struct node *kids; /* sections */
	size_t nkids;
};

struct nvec {
	struct node *v;
	size_t n, cap;
};

struct pentry {
	char *name;
	char *indent;
	struct tpl *t; /* NULL: the loader had no such partial */
};

struct tpl {
	char *src;
	char *name;
	struct node *nodes;
	size_t nnodes;
	tpl_partial_fn partials;
	void *arg;
	struct pentry *pc; /* partials compiled so far (root only) */
	size_t npc, cappc;
	size_t max_output;
	unsigned long long max_steps;
};

struct parser {
	const char *src;
	size_t len;
	size_t pos;
	char open[MAX_DELIM + 1], close[MAX_DELIM + 2];
	size_t olen, clen;
	const char *name;
	struct err *e;
	int nest;
};

static void
nodes_free(struct node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].nparts; j++)
			free(v[i].parts[j]);
		free(v[i].parts);
		free(v[i].hashes);
		free(v[i].name);
		free(v[i].indent);
		nodes_free(v[i].kids, v[i].nkids);
	}
	free(v);
}

static struct node *
nvec_add(struct nvec *nv)
{
	if (nv->n == nv->cap) {
		size_t cap = nv->cap ? nv->cap * 2 : 8;
		struct node *p = realloc(nv->v, cap * sizeof *p);

		if (p == NULL)
			return NULL;
		nv->v = p;
		nv->cap = cap;
	}
	memset(&nv->v[nv->n], 0, sizeof nv->v[0]);
	return &nv->v[nv->n++];
}

/* "NAME:LINE:COL: message", LINE and COL counted from 1, COL in characters. */
static int perr(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, size_t off, const char *fmt, ...)
{
	int line = 1, col = 1;
	char what[256];
	va_list ap;

	for (size_t i = 0; i < off && i < p->len; i++) {
		if (p->src[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)p->src[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return err_set(p->e, EX_DATAERR, "%s:%d:%d: %s", p->name, line, col, what);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_space(char c)
{
	return is_blank(c) || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char *
trimmed(const char *s, size_t n)
{
	while (n > 0 && is_space(*s))
		s++, n--;
	while (n > 0 && is_space(s[n - 1]))
		n--;
	return str_ndup(s, n);
}

static int
split_name(struct node *nd)
{
	const char *s = nd->name, *dot;
	size_t n = 1;

	if (strcmp(s, ".") == 0)
		return 0;
	for (const char *c = s; *c; c++)
		n += *c == '.';
	if ((nd->parts = calloc(n, sizeof *nd->parts)) == NULL ||
	    (nd->hashes = calloc(n, sizeof *nd->hashes)) == NULL)
		return -1;
	for (;;) {
		dot = strchr(s, '.');
		nd->parts[nd->nparts] = str_ndup(s, dot ? (size_t)(dot - s) : strlen(s));
		if (nd->parts[nd->nparts] == NULL)
			return -1;
		nd->hashes[nd->nparts] = hash64_str(nd->parts[nd->nparts]);
		nd->nparts++;
		if (dot == NULL)
			return 0;
		s = dot + 1;
	}
}

static int
set_delims(struct parser *p, const char *d, size_t at)
{
	size_t a = 0, b;

	while (d[a] && !is_space(d[a]))
		a++;
	b = a;
	while (d[b] && is_space(d[b]))
		b++;
	if (a == 0 || a > MAX_DELIM || d[b] == '\0' || strlen(d + b) > MAX_DELIM ||
	    strpbrk(d + b, " \t\r\n\f\v") != NULL || memchr(d, '=', a) != NULL ||
	    strchr(d + b, '=') != NULL)
		return perr(p, at, "bad delimiter '%s'", d);
	memcpy(p->open, d, a);
	p->open[a] = '\0';
	p->olen = a;
	strcpy(p->close, d + b);
	p->clen = strlen(p->close);
	return 0;
}

/*
 * If the tag at [q, end) is alone on its line (only blanks around it), return
 * 1 and the start of its line and the start of the next line.  The line must
 * begin after the previous tag, so two tags on one line are never standalone.
 */
static int
standalone(const struct parser *p, size_t q, size_t end, size_t *ls, size_t *next)
{
	size_t i = q;

	while (i > p->pos && is_blank(p->src[i - 1]))
		i--;
	if (i > p->pos ? p->src[i - 1] != '\n' : (i > 0 && p->src[i - 1] != '\n'))
		return 0;
	*ls = i;
	while (end < p->len && is_blank(p->src[end]))
		end++;
	if (end < p->len && p->src[end] == '\r' && end + 1 < p->len && p->src[end + 1] == '\n')
		end += 2;
	else if (end < p->len && p->src[end] == '\n')
		end++;
	else if (end != p->len)
		return 0;
	*next = end;
	return 1;
}

static int
add_text(struct nvec *out, const char *s, size_t n)
{
	struct node *nd;

	if (n == 0)
		return 0;
	if ((nd = nvec_add(out)) == NULL)
		return -1;
	nd->type = N_TEXT;
	nd->text = s;
	nd->len = n;
	return 0;
}

static int parse_block(struct parser *p, struct nvec *out, const char *section, size_t sec_at);

/* One tag whose content (type character removed) is name; q is where it starts. */
static int
parse_tag(struct parser *p, struct nvec *out, char type, char *name, size_t q, size_t ls,
          int *closed, const char *section)
{
	struct node *nd;
	struct nvec kids = {NULL, 0, 0};
	int r;

	if (type == '!')
		return 0;
	if (type == '=')
		return set_delims(p, name, q);
	if (*name == '\0')
		return perr(p, q, "empty tag");
	if (type == '/') {
		if (section == NULL)
			return perr(p, q, "unexpected closing tag '%s'", name);
		if (strcmp(section, name) != 0)
			return perr(p, q, "unexpected closing tag '%s' (open section is '%s')",
			            name, section);
		*closed = 1;
		return 0;
	}
	if ((nd = nvec_add(out)) == NULL)
		return err_oom(p->e);
	if ((nd->name = str_dup(name)) == NULL || split_name(nd) < 0)
		return err_oom(p->e);
	switch (type) {
	case '#':
	case '^':
		nd->type = type == '#' ? N_SECTION : N_INVERTED;
		if (p->nest >= MAX_NEST)
			return perr(p, q, "sections nested too deeply at '%s'", name);
		p->nest++;
		r = parse_block(p, &kids, nd->name, q);
		p->nest--;
		/* out->v may have moved while the section was parsed: reload nd. */
		nd = &out->v[out->n - 1];
		nd->kids = kids.v;
		nd->nkids = kids.n;
		return r;
	case '>':
		nd->type = N_PARTIAL;
		nd->indent = str_ndup(p->src + ls, ls <= q ? q - ls : 0);
		return nd->indent != NULL ? 0 : err_oom(p->e);
	case '&':
	case '{': nd->type = N_RAW; return 0;
	default: nd->type = N_VAR; return 0;
	}
}

/* Parse until the end, or until the closing tag of section. */
static int
parse_block(struct parser *p, struct nvec *out, const char *section, size_t sec_at)
{
	for (;;) {
		const char *q, *end, *body;
		char type, endmark[MAX_DELIM + 3], *name;
		size_t qo, eo, ls = 0, next = 0;
		int st, closed = 0, r;

		q = memmem(p->src + p->pos, p->len - p->pos, p->open, p->olen);
		if (q == NULL) {
			if (add_text(out, p->src + p->pos, p->len - p->pos) < 0)
				return err_oom(p->e);
			p->pos = p->len;
			if (section != NULL)
				return perr(p, sec_at, "unclosed section '%s'", section);
			return 0;
		}
		qo = q - p->src;
		body = q + p->olen;
		type = body < p->src + p->len ? *body : '\0';
		if (strchr("#^/!>=&{", type) != NULL && type != '\0')
			body++;
		else
			type = 'v';
		/* {{{x}}} closes with "}" + delimiter, {{=a b=}} with "=" + delimiter. */
		snprintf(endmark, sizeof endmark, "%s%s",
		         type == '{'   ? "}"
		         : type == '=' ? "="
		                       : "",
		         p->close);
		end = memmem(body, p->src + p->len - body, endmark, strlen(endmark));
		if (end == NULL)
			return perr(p, qo, "unclosed tag");
		eo = end - p->src + strlen(endmark);
		st = strchr("#^/!>=", type) != NULL && standalone(p, qo, eo, &ls, &next);
		if (add_text(out, p->src + p->pos, (st ? ls : qo) - p->pos) < 0)
			return err_oom(p->e);
		p->pos = st ? next : eo;
		if ((name = trimmed(body, end - body)) == NULL)
			return err_oom(p->e);
		r = parse_tag(p, out, type, name, qo, st ? ls : qo, &closed, section);
		free(name);
		if (r < 0 || closed)
			return r;
	}
}

static int
compile(const char *src, size_t len, const char *name, struct tpl **out, struct err *e)
{
	struct tpl *t = calloc(1, sizeof *t);
	struct parser p;
	struct nvec nv = {NULL, 0, 0};
	int r;

	*out = NULL;
	if (t == NULL || (t->src = str_ndup(src, len)) == NULL ||
	    (t->name = str_dup(name != NULL ? name : "template")) == NULL) {
		tpl_free(t);
		return err_oom(e);
	}
	memset(&p, 0, sizeof p);
	p.src = t->src;
	p.len = len;
	p.name = t->name;
	p.e = e;
	strcpy(p.open, "{{");
	strcpy(p.close, "}}");
	p.olen = p.clen = 2;
	r = parse_block(&p, &nv, NULL, 0);
	t->nodes = nv.v;
	t->nnodes = nv.n;
	if (r < 0) {
		tpl_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

int
tpl_compile(const char *src, const char *name, tpl_partial_fn partials, void *arg, struct tpl **out,
            struct err *e)
{
	if (compile(src, strlen(src), name, out, e) < 0)
		return -1;
	(*out)->partials = partials;
	(*out)->arg = arg;
	(*out)->max_output = DEFAULT_MAX_OUTPUT;
	(*out)->max_steps = DEFAULT_MAX_STEPS;
	return 0;
}

void
tpl_set_limits(struct tpl *t, size_t max_output, unsigned long long max_steps)
{
	t->max_output = max_output;
	t->max_steps = max_steps;
}

void
tpl_free(struct tpl *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->npc; i++) {
		free(t->pc[i].name);
		free(t->pc[i].indent);
		tpl_free(t->pc[i].t);
	}
	free(t->pc);
	nodes_free(t->nodes, t->nnodes);
	free(t->src);
	free(t->name);
	free(t);
}

/* ---- rendering ---- */

struct rctx {
	struct tpl *root;
	enum escape_mode mode;
	struct buf *out;
	struct err *e;
	const struct tval **stack;
	size_t n, cap;
	int depth;
	size_t out_end;           /* output size at which it is too large */
	unsigned long long steps; /* nodes still allowed */
	FILE *sink;               /* rendering to a file: out is only a window */
	size_t flushed;           /* bytes already written to sink */
	char *chunk;              /* FLUSH_AT bytes for reading file-kept strings */
};

/* Rendering to a file, hand out what has piled up. */
static int
flush_out(struct rctx *c, size_t at_least)
{
	if (c->sink == NULL || c->out->len < at_least)
		return 0;
	if (fwrite(c->out->data, 1, c->out->len, c->sink) != c->out->len)
		return err_set(c->e, EX_IOERR, "%s: cannot write the rendered output: %s",
		               c->root->name, strerror(errno));
	c->flushed += c->out->len;
	c->out->len = 0;
	return 0;
}

static size_t
out_size(const struct rctx *c)
{
	return c->flushed + c->out->len;
}

static int
push(struct rctx *c, const struct tval *v)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		const struct tval **s = realloc(c->stack, cap * sizeof *s);

		if (s == NULL)
			return err_oom(c->e);
		c->stack = s;
		c->cap = cap;
	}
	c->stack[c->n++] = v;
	return 0;
}

/* The first part is looked up through the context stack, the rest inside it. */
static const struct tval *
lookup(const struct rctx *c, const struct node *nd)
{
	const struct tval *v = NULL;

	if (nd->nparts == 0)
		return c->n > 0 ? c->stack[c->n - 1] : NULL;
	for (size_t i = c->n; i-- > 0;) {
		if ((v = get_hashed(c->stack[i], nd->parts[0], nd->hashes[0])) != NULL)
			break;
	}
	for (size_t j = 1; v != NULL && j < nd->nparts; j++)
		v = get_hashed(v, nd->parts[j], nd->hashes[j]);
	return v;
}

/* Falsey: missing, null, false, empty list, empty string, the number zero. */
static int
truthy(const struct tval *v)
{
	if (v == NULL)
		return 0;
	switch (v->kind) {
	case TV_NULL: return 0;
	case TV_BOOL:
	case TV_INT: return v->i != 0;
	case TV_NUM: return strtod(v->s, NULL) != 0;
	case TV_STR: return v->slen > 0;
	case TV_LIST: return v->n > 0; /* a lazy list knows its length */
	case TV_MAP: return 1;
	}
	return 0;
}

/*
 * A value as {{x}} writes it, escaped (' too: a template may quote an
 * attribute with it), or as {{{x}}} does.
 */
static int
add_value(struct buf *b, const char *s, size_t n, int escape)
{
	return escape ? buf_add_html_escaped(b, s, n, HTML_ESC_APOS) : buf_add(b, s, n);
}

/* A string kept in a file goes out a chunk at a time. */
static int
put_file_value(struct rctx *c, const struct tval *v, int escape)
{
	size_t done = 0;

	if (c->chunk == NULL && (c->chunk = malloc(FLUSH_AT)) == NULL)
		return err_oom(c->e);
	while (done < v->slen) {
		size_t want = v->slen - done < FLUSH_AT ? v->slen - done : FLUSH_AT;
		ssize_t got = pread(v->fd, c->chunk, want, v->off + (off_t)done);

		if (got <= 0)
			return err_set(c->e, EX_IOERR, "%s: cannot read back a rendered item: %s",
			               c->root->name, got < 0 ? strerror(errno) : "file too short");
		if (add_value(c->out, c->chunk, (size_t)got, escape) < 0)
			return err_oom(c->e);
		done += (size_t)got;
		if (out_size(c) > c->out_end)
			return err_set(c->e, EX_DATAERR, "%s: rendering takes too much space",
			               c->root->name);
		if (flush_out(c, FLUSH_AT) < 0)
			return -1;
	}
	return 0;
}

/* n in decimal, ending at end: what snprintf's %lld writes, at a tenth of its cost. */
static char *
int_text(long long n, char *end)
{
	unsigned long long u = n < 0 ? 0 - (unsigned long long)n : (unsigned long long)n;

	do
		*--end = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	if (n < 0)
		*--end = '-';
	return end;
}

static int
put_value(struct rctx *c, const struct tval *v, int escape)
{
	char num[32];
	const char *s = NULL;
	size_t n = 0;

	if (v == NULL)
		return 0;
	if (v->kind == TV_STR && v->fd >= 0)
		return put_file_value(c, v, escape);
	switch (v->kind) {
	case TV_STR:
	case TV_NUM:
		s = v->s;
		n = v->slen;
		break;
	case TV_INT:
		s = int_text(v->i, num + sizeof num);
		n = (size_t)(num + sizeof num - s);
		break;
	case TV_BOOL:
		s = v->i ? "true" : "false";
		n = strlen(s);
		break;
	default: return 0;
	}
	if (add_value(c->out, s, n, escape) < 0)
		return err_oom(c->e);
	return 0;
}

/* A copy of src with indent put at the start of every line. */
static char *
indented(const char *src, const char *indent)
{
	struct buf b = BUF_INIT;
	const char *s = src;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);

		if (buf_adds(&b, indent) < 0 || buf_add(&b, s, n) < 0) {
			buf_free(&b);
			return NULL;
		}
		s += n;
	}
	return buf_steal(&b);
}

static int
get_partial(struct rctx *c, const struct node *nd, struct tpl **out)
{
	struct tpl *root = c->root;
	struct pentry *pe;
	char *src, *ind;
	int r = 0;

	for (size_t i = 0; i < root->npc; i++) {
		if (strcmp(root->pc[i].name, nd->name) == 0 &&
		    strcmp(root->pc[i].indent, nd->indent) == 0) {
			*out = root->pc[i].t;
			return 0;
		}
	}
	if (root->npc >= MAX_PARTIALS)
		return err_set(c->e, EX_DATAERR, "%s: too many partials (recursion?)", root->name);
	if (root->npc == root->cappc) {
		size_t cap = root->cappc ? root->cappc * 2 : 4;

		if ((pe = realloc(root->pc, cap * sizeof *pe)) == NULL)
			return err_oom(c->e);
		root->pc = pe;
		root->cappc = cap;
	}
	*out = NULL;
	src = root->partials != NULL ? root->partials(nd->name, root->arg) : NULL;
	if (src != NULL) {
		ind = *nd->indent ? indented(src, nd->indent) : src;
		if (ind == NULL)
			r = err_oom(c->e);
		else
			r = compile(ind, strlen(ind), nd->name, out, c->e);
		if (ind != src)
			free(ind);
		free(src);
		if (r < 0)
			return -1;
	}
	pe = &root->pc[root->npc];
	pe->t = *out;
	pe->name = str_dup(nd->name);
	pe->indent = str_dup(nd->indent);
	if (pe->name == NULL || pe->indent == NULL) {
		free(pe->name);
		free(pe->indent);
		tpl_free(*out);
		return err_oom(c->e);
	}
	root->npc++;
	return 0;
}

static int render_nodes(struct rctx *c, const struct node *v, size_t n);

/*
 * Element i of a lazy list, made for this pass only: one element of a
 * long list lives at a time.  The list's spare, if it has one, is handed
 * to make() to be made anew.  An element in use is never a spare: a list
 * walked inside itself (or inside one sharing its spare) makes a new one.
 */
static struct tval *
make_element(const struct tval *list, size_t i, struct err *e)
{
	struct tval *reuse = *list->spare_at; /* the spare is not part of the list's value */

	*list->spare_at = NULL;
	return list->make(list->make_arg, i, reuse, e);
}

/* A made element no longer in use: the list's spare, unless it has one. */
static void
give_back(const struct tval *list, struct tval *made)
{
	if (*list->spare_at == NULL)
		*list->spare_at = made;
	else
		tv_free(made);
}

static int
render_section(struct rctx *c, const struct node *nd)
{
	const struct tval *v = lookup(c, nd);
	int r = 0;

	if (nd->type == N_INVERTED)
		return truthy(v) ? 0 : render_nodes(c, nd->kids, nd->nkids);
	if (!truthy(v))
		return 0;
	if (v->kind != TV_LIST) {
		if (push(c, v) < 0)
			return -1;
		r = render_nodes(c, nd->kids, nd->nkids);
		c->n--;
		return r;
	}
	for (size_t i = 0; i < v->n && r == 0; i++) {
		struct tval *made = NULL;

		if (v->make != NULL && (made = make_element(v, i, c->e)) == NULL)
			return -1;
		if (push(c, made != NULL ? made : v->v[i]) < 0) {
			tv_free(made);
			return -1;
		}
		r = render_nodes(c, nd->kids, nd->nkids);
		c->n--;
		if (made != NULL)
			give_back(v, made);
	}
	return r;
}

static int
render_nodes(struct rctx *c, const struct node *v, size_t n)
{
	struct tpl *p;
	int r = 0;

	if (++c->depth > MAX_DEPTH) {
		c->depth--;
		return err_set(c->e, EX_DATAERR, "%s: sections or partials nested too deeply",
		               c->root->name);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (c->steps-- == 0 || out_size(c) > c->out_end) {
			r = err_set(c->e, EX_DATAERR, "%s: rendering takes too much %s",
			            c->root->name, out_size(c) > c->out_end ? "space" : "time");
			break;
		}
		if ((r = flush_out(c, FLUSH_AT)) < 0)
			break;
		switch (v[i].type) {
		case N_TEXT:
			if (buf_add(c->out, v[i].text, v[i].len) < 0)
				r = err_oom(c->e);
			break;
		case N_VAR:
		case N_RAW:
			r = put_value(c, lookup(c, &v[i]),
			              v[i].type == N_VAR && c->mode == ESCAPE_HTML);
			break;
		case N_SECTION:
		case N_INVERTED: r = render_section(c, &v[i]); break;
		case N_PARTIAL:
			r = get_partial(c, &v[i], &p);
			if (r == 0 && p != NULL)
				r = render_nodes(c, p->nodes, p->nnodes);
			break;
		}
	}
	c->depth--;
	return r;
}

static int
render(struct tpl *t, const struct tval *data, enum escape_mode mode, struct buf *out, FILE *sink,
       size_t *written, struct err *e)
{
	struct rctx c;
	int r;

	memset(&c, 0, sizeof c);
	c.root = t;
	c.mode = mode;
	c.out = out;
	c.e = e;
	c.sink = sink;
	c.out_end = out->len + t->max_output;
	c.steps = t->max_steps;
	if (data != NULL && push(&c, data) < 0)
		return -1;
	r = render_nodes(&c, t->nodes, t->nnodes);
	if (r == 0)
		r = flush_out(&c, 0);
	if (written != NULL)
		*written = out_size(&c);
	free(c.stack);
	free(c.chunk);
	/* Leave out NUL-terminated even when nothing was written. */
	if (r == 0 && buf_add(out, "", 0) < 0)
		r = err_oom(e);
	return r;
}

int
tpl_render(struct tpl *t, const struct tval *data, enum escape_mode mode, struct buf *out,
           struct err *e)
{
	return render(t, data, mode, out, NULL, NULL, e);
}

int
tpl_render_file(struct tpl *t, const struct tval *data, enum escape_mode mode, FILE *fp,
                size_t *written, struct err *e)
{
	struct buf window = BUF_INIT;
	int r = render(t, data, mode, &window, fp, written, e);

	buf_free(&window);
	return r;
}

int
tpl_render_string(const char *src, const char *name, const struct tval *data, enum escape_mode mode,
                  struct buf *out, struct err *e)
{
	struct tpl *t;
	int r;

	if (tpl_compile(src, name, NULL, NULL, &t, e) < 0)
		return -1;
	r = tpl_render(t, data, mode, out, e);
	tpl_free(t);
	return r;
}
