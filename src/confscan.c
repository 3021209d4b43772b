/*
 * confscan: the second reading of a config file, and where things were set.
 * See confscan.h for why libconfuse needs it.
 */
#include "confscan.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX      512 /* "section/title/option#index" */
#define TYPO_LEN_MAX 64  /* a longer name is compared with nothing */

struct confscan_where { /* where a value was set */
	char *key;      /* "section/title/option#index" */
	char *file;
	int line;
};

struct confscan_block { /* where a section starts */
	char *kind;
	char *title; /* "" when untitled */
	char *file;
	int line;
};

/* --- reporting ------------------------------------------------------- */

void
confscan_emit(struct confscan *L, const char *file, int line, int warning, const char *msg)
{
	struct buf b = BUF_INIT, shown = BUF_INIT;
	const char *p = msg;
	size_t i;
	int oom = 0;

	while (*p) {
		for (i = 0; i < L->secrets.n; i++) {
			size_t n = strlen(L->secrets.v[i]);

			if (n && strncmp(p, L->secrets.v[i], n) == 0)
				break;
		}
		if (i < L->secrets.n) {
			oom |= buf_adds(&b, "***") < 0;
			p += strlen(L->secrets.v[i]);
		} else {
			oom |= buf_addc(&b, *p) < 0;
			p++;
		}
	}
	/* One line per problem, whatever the value held, and nothing a terminal obeys. */
	oom |= buf_add_printable(&shown, file ? file : L->path) < 0;
	oom |= buf_printf(&shown, ":%d: %s", line, warning ? "warning: " : "") < 0;
	oom |= buf_add_printable(&shown, buf_str(&b)) < 0;
	if (L->diag && oom)
		fprintf(L->diag, "out of memory (a message about line %d is lost)\n", line);
	else if (L->diag)
		fprintf(L->diag, "%s\n", buf_str(&shown));
	buf_free(&b);
	buf_free(&shown);
	if (!warning)
		L->nerr++;
}

void
confscan_say(struct confscan *L, const char *file, int line, int warning, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	confscan_emit(L, file, line, warning, msg);
}

/* Optimal string alignment distance: a swap of two letters costs one. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[3][TYPO_LEN_MAX + 1];

	if (la > TYPO_LEN_MAX || lb > TYPO_LEN_MAX)
		return 99;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *pp = d[(i + 1) % 3];

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

/* The closest of names[] to s, if it is close enough to be a typo. */
static const char *
nearest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t len = strlen(s), bestd = len < 6 ? 2 : 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = distance(s, names[i]);

		if (d < bestd) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}

/* " (did you mean 'x'?)" when name looks like a typo of x in names[], else
 * "".  out holds CONFSCAN_HINT_MAX bytes. */
const char *
confscan_did_you_mean(char *out, const char *name, const char *const *names, size_t n)
{
	const char *best = nearest(name, names, n);

	if (best == NULL)
		return "";
	snprintf(out, CONFSCAN_HINT_MAX, " (did you mean '%s'?)", best);
	return out;
}

/* names[] (64 of them) gets the option names of opts; returns how many. */
size_t
confscan_opt_names(const cfg_opt_t *opts, const char **names)
{
	size_t n;

	for (n = 0; n < CONFSCAN_NAMES_MAX && opts[n].name; n++)
		names[n] = opts[n].name;
	return n;
}
/* --- where values were set ------------------------------------------ */

static void
make_key(char *key, const char *sec, const char *title, const char *opt, unsigned idx)
{
	snprintf(key, KEY_MAX, "%s/%s/%s#%u", sec, title ? title : "", opt, idx);
}

static int
where_is(const void *entries, uint32_t idx, const void *key)
{
	return strcmp(((const struct confscan_where *)entries)[idx].key, key) == 0;
}

/* The index of key in L->w, or SIZE_MAX. */
static size_t
where_find(const struct confscan *L, const char *key)
{
	uint32_t i = hashset_find(&L->wi, hash64_str(key), where_is, L->w, key);

	return i == HASHSET_NONE ? SIZE_MAX : i;
}

static void
where_set(struct confscan *L, const char *key, const char *file, int line)
{
	struct confscan_where *w;
	size_t i = where_find(L, key);

	if (i == SIZE_MAX) {
		if (L->nw == L->capw) {
			size_t cap = L->capw ? L->capw * 2 : 64;

			if ((w = realloc(L->w, cap * sizeof *w)) == NULL)
				return; /* only a line number is lost */
			L->w = w;
			L->capw = cap;
		}
		i = L->nw;
		if ((L->w[i].key = str_dup(key)) == NULL)
			return;
		if (i > UINT32_MAX - 1 || hashset_add(&L->wi, hash64_str(key), (uint32_t)i) < 0) {
			free(L->w[i].key);
			return;
		}
		L->w[i].file = NULL;
		L->nw++;
	}
	free(L->w[i].file);
	L->w[i].file = str_dup(file);
	L->w[i].line = line;
}

void
confscan_where_set(struct confscan *S, const char *sec, const char *title, const char *opt,
                   unsigned idx, const char *file, int line)
{
	char key[KEY_MAX];

	make_key(key, sec, title, opt, idx);
	where_set(S, key, file, line);
}

int
confscan_was_set(const struct confscan *S, const char *sec, const char *title, const char *opt,
                 unsigned idx)
{
	char key[KEY_MAX];

	make_key(key, sec, title, opt, idx);
	return where_find(S, key) != SIZE_MAX;
}

static void
unknown_key(char *key, const char *file, int line)
{
	snprintf(key, KEY_MAX, "?unknown/%d/%s", line, file);
}

int
confscan_unknown_named(const struct confscan *S, const char *file, int line)
{
	char key[KEY_MAX];

	unknown_key(key, file, line);
	return where_find(S, key) != SIZE_MAX;
}

static uint64_t
block_hash(const char *kind, const char *title)
{
	return hash64_str(kind) * 1099511628211u ^ hash64_str(title);
}

struct block_key {
	const char *kind, *title;
};

static int
block_is(const void *entries, uint32_t idx, const void *key)
{
	const struct confscan_block *b = &((const struct confscan_block *)entries)[idx];
	const struct block_key *k = key;

	return strcmp(b->kind, k->kind) == 0 && strcmp(b->title, k->title) == 0;
}

static const struct confscan_block *
block_find(const struct confscan *L, const char *kind, const char *title)
{
	struct block_key k = {.kind = kind, .title = title ? title : ""};
	uint32_t i = hashset_find(&L->bi, block_hash(kind, k.title), block_is, L->b, &k);

	return i == HASHSET_NONE ? NULL : &L->b[i];
}

/* Where to point for a value: where it was set, else its section, else line 1. */
void
confscan_locate(const struct confscan *L, const char *sec, const char *title, const char *opt,
                unsigned idx, const char **file, int *line)
{
	char key[KEY_MAX];
	const struct confscan_block *b;
	size_t i;

	if (opt) {
		make_key(key, sec, title, opt, idx);
		if ((i = where_find(L, key)) != SIZE_MAX && L->w[i].file) {
			*file = L->w[i].file;
			*line = L->w[i].line;
			return;
		}
	}
	if ((b = block_find(L, sec, title)) != NULL) {
		*file = b->file;
		*line = b->line;
		return;
	}
	*file = L->path;
	*line = 1;
}
/* --- the scanner ------------------------------------------------------ */

struct tok {
	int type; /* 'S' a string, else the punctuation */
	char *text;
	int line;
};

/* ${NAME} or ${NAME:-default} from the environment onto out: 0, -1 when out of memory. */
static int
check_var(struct confscan *L, const char *file, int line, const char *s, size_t n, struct buf *out)
{
	char *name = str_ndup(s, n), *colon;
	const char *v;
	int rc = 0;

	if (name == NULL)
		return -1;
	colon = strchr(name, ':');
	if (colon && colon[1] == '-') {
		*colon = '\0';
		v = getenv(name);
		rc = buf_adds(out, v ? v : colon + 2);
	} else if ((v = getenv(name)) != NULL) {
		rc = buf_adds(out, v);
	} else {
		confscan_say(L, file, line, 0,
		             "${%s} is not set in the environment "
		             "(write ${%s:-default} for a fallback)",
		             name, name);
	}
	free(name);
	return rc;
}

static void
add_block(struct confscan *L, const char *kind, const char *title, const char *file, int line)
{
	static const char *const known[] = {"feed", "subscription", "smtp", "fetch"};
	const struct confscan_block *old;
	struct confscan_block *nb;
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(kind, known[i]) == 0)
			break;
	if (i == sizeof known / sizeof known[0])
		return;
	if ((old = block_find(L, kind, title)) != NULL) {
		char at[PATH_MAX + 64];

		L->dupes++;
		if (strcmp(old->file, file) == 0)
			snprintf(at, sizeof at, "line %d", old->line);
		else
			snprintf(at, sizeof at, "%s:%d", old->file, old->line);
		if (*title)
			confscan_say(L, file, line, 0,
			             "duplicate %s name '%s' (the first is at %s)", kind, title,
			             at);
		else
			confscan_say(L, file, line, 0,
			             "a second %s {} block (the first is at %s): "
			             "keep one, libconfuse would merge them silently",
			             kind, at);
		return;
	}
	if (L->nb == L->capb) {
		size_t cap = L->capb ? L->capb * 2 : 32;

		if ((nb = realloc(L->b, cap * sizeof *nb)) == NULL)
			return;
		L->b = nb;
		L->capb = cap;
	}
	nb = &L->b[L->nb];
	nb->kind = confscan_mem_dup(&L->mem, kind, strlen(kind));
	nb->title = confscan_mem_dup(&L->mem, title, strlen(title));
	nb->file = str_eq(file, L->last_file) ? L->last_file
	                                      : confscan_mem_dup(&L->mem, file, strlen(file));
	nb->line = line;
	if (nb->kind && nb->title && nb->file && L->nb < UINT32_MAX - 1 &&
	    hashset_add(&L->bi, block_hash(kind, title), (uint32_t)L->nb) == 0) {
		L->last_file = nb->file;
		L->nb++;
	}
}

/* The scanner follows libconfuse's grammar just enough to name every
 * unknown option, where libconfuse stops at the first one. */
enum { G_NAME, G_AFTER_NAME, G_TITLE, G_VALUE, G_LIST, G_ARGS, G_LOST };

#define GRAMMAR_DEPTH 8

struct grammar {
	int state;
	int depth;
	cfg_opt_t *ctx[GRAMMAR_DEPTH]; /* NULL inside an unknown section */
	cfg_opt_t *opt;                /* the option just named */
};

static void
unknown_option(struct confscan *L, const char *file, int line, cfg_opt_t *opts, const char *name)
{
	const char *names[CONFSCAN_NAMES_MAX];
	char key[KEY_MAX], hint[CONFSCAN_HINT_MAX];

	confscan_say(L, file, line, 0, "no such option '%s'%s", name,
	             confscan_did_you_mean(hint, name, names, confscan_opt_names(opts, names)));
	unknown_key(key, file, line);
	where_set(L, key, file, line);
}

static void
grammar_enter(struct grammar *g)
{
	cfg_opt_t *sub = g->opt && g->opt->type == CFGT_SEC ? g->opt->subopts : NULL;

	if (g->depth + 1 >= GRAMMAR_DEPTH) {
		g->state = G_LOST;
		return;
	}
	g->ctx[++g->depth] = sub;
	g->state = G_NAME;
}

static void
grammar_step(struct confscan *L, struct grammar *g, const char *file, int type, const char *text,
             int line)
{
	cfg_opt_t *opts = g->ctx[g->depth];

	switch (g->state) {
	case G_NAME:
		if (type == '}' && g->depth > 0) {
			g->depth--;
		} else if (type == 'S' && text) {
			g->opt = NULL;
			for (size_t i = 0; opts && opts[i].name; i++)
				if (opts[i].name[0] == text[0] && strcmp(opts[i].name, text) == 0)
					g->opt = &opts[i];
			if (opts && g->opt == NULL)
				unknown_option(L, file, line, opts, text);
			g->state = G_AFTER_NAME;
		} else {
			g->state = G_LOST;
		}
		break;
	case G_AFTER_NAME:
		if (type == '=' || type == '+')
			g->state = G_VALUE;
		else if (type == '(')
			g->state = G_ARGS;
		else if (type == '{')
			grammar_enter(g);
		else
			g->state = type == 'S' ? G_TITLE : G_LOST;
		break;
	case G_TITLE:
		if (type == '{')
			grammar_enter(g);
		else
			g->state = G_LOST;
		break;
	case G_VALUE: g->state = type == 'S' ? G_NAME : type == '{' ? G_LIST : G_LOST; break;
	case G_LIST:
		if (type == '}')
			g->state = G_NAME;
		break;
	case G_ARGS:
		if (type == ')')
			g->state = G_NAME;
		break;
	default: break; /* lost: libconfuse will say why */
	}
}

#define CHUNK_BYTES 65536

/* A copy of p[0..n) in the chunks *mem, or NULL when out of memory. */
char *
confscan_mem_dup(struct confscan_chunk **mem, const char *p, size_t n)
{
	struct confscan_chunk *c = *mem;
	char *r;

	if (c == NULL || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > CHUNK_BYTES ? n + 1 : CHUNK_BYTES;

		if ((c = malloc(sizeof *c + cap)) == NULL)
			return NULL;
		*c = (struct confscan_chunk){.next = *mem, .cap = cap};
		*mem = c;
	}
	r = c->data + c->used;
	memcpy(r, p, n);
	r[n] = '\0';
	c->used += n + 1;
	return r;
}

/* n zeroed bytes in the chunks *mem, aligned for any object, or NULL. */
void *
confscan_mem_alloc(struct confscan_chunk **mem, size_t n)
{
	enum { ALIGN = _Alignof(max_align_t) };
	struct confscan_chunk *c = *mem;
	size_t at = 0;

	if (c) /* the offset of the next aligned address */
		at = c->used + (ALIGN - (uintptr_t)(c->data + c->used) % ALIGN) % ALIGN;
	if (c == NULL || at > c->cap || c->cap - at < n) {
		size_t cap = n + ALIGN > CHUNK_BYTES ? n + ALIGN : CHUNK_BYTES;

		if ((c = malloc(sizeof *c + cap)) == NULL)
			return NULL;
		*c = (struct confscan_chunk){.next = *mem, .cap = cap};
		*mem = c;
		at = (ALIGN - (uintptr_t)c->data % ALIGN) % ALIGN;
	}
	c->used = at + n;
	return memset(c->data + at, 0, n);
}

void
confscan_mem_free(struct confscan_chunk **mem)
{
	while (*mem) {
		struct confscan_chunk *next = (*mem)->next;

		free(*mem);
		*mem = next;
	}
}

/* A token's text: b's bytes (b emptied), else p[0..n); in the sink's
 * chunks when there is a sink, else malloc'ed. */
static char *
tok_text(struct confscan *L, struct buf *b, const char *p, size_t n)
{
	char *r;

	if (b) {
		p = b->data ? b->data : "";
		n = b->len;
	}
	if (L->sink == NULL && b)
		return buf_steal(b);
	r = L->sink ? confscan_mem_dup(&L->sink->mem, p, n) : str_ndup(p, n);
	if (b)
		buf_reset(b);
	return r;
}

static int
sink_push(struct confscan_toks *k, int type, char *text, int line, int eline)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		struct confscan_tok *v = realloc(k->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] =
	    (struct confscan_tok){.type = type, .text = text, .line = line, .eline = eline};
	return 0;
}

void
confscan_toks_free(struct confscan_toks *k)
{
	confscan_mem_free(&k->mem);
	free(k->v);
	*k = (struct confscan_toks){0};
}

/* The next token (text NULL: out of memory); -1 when out of memory. */
static int
push_tok(struct confscan *L, struct grammar *g, const char *file, struct tok t[3], int type,
         char *text, int line, int eline)
{
	grammar_step(L, g, file, type, text, line);
	if (L->sink == NULL)
		free(t[0].text); /* else it is in the sink's chunks */
	else if (sink_push(L->sink, type, text, line, eline) < 0)
		return -1;
	t[0] = t[1];
	t[1] = t[2];
	t[2].type = type;
	t[2].text = text;
	t[2].line = line;
	if (type == 'S' && t[1].type == '=' && t[0].type == 'S' && t[0].text &&
	    strcmp(t[0].text, "password") == 0 && text && *text)
		return strv_push(&L->secrets, text); /* else it could be printed */
	return type == 'S' && text == NULL ? -1 : 0;
}

/* libconfuse 3.3 counts lines wrong: a # or // comment adds two lines, a
 * block comment one.  The scanner keeps, per real line, the number
 * libconfuse will give it, to translate its numbers back. */
struct confscan_linemap {
	char *file;
	int *lib; /* lib[real line] */
	int n, cap;
};

struct scan {
	struct confscan *L;
	const char *file;
	int line; /* the real one */
	int lib;  /* libconfuse's */
	struct confscan_linemap *map;
	int oom;      /* a token was cut short: said at the end */
	int unclosed; /* the quote of a string the file ends in */
	int vlines;   /* line ends inside ${...} in the token being read */
	char *bad;    /* the first escape libconfuse refuses in it: the message */
	int bad_line;
};

/* What the parser is to know of the string token just read. */
static void
mark_last(struct scan *S)
{
	struct confscan_toks *k = S->L->sink;

	if (k && k->n > 0) {
		k->v[k->n - 1].unclosed = S->unclosed;
		k->v[k->n - 1].vlines = S->vlines;
		k->v[k->n - 1].bad = S->bad;
		k->v[k->n - 1].bad_line = S->bad_line;
	}
	S->vlines = 0;
	S->bad = NULL;
}

static void
add(struct scan *S, struct buf *out, const char *p, size_t n)
{
	if (buf_add(out, p, n) < 0)
		S->oom = 1;
}

static void
newline(struct scan *S)
{
	S->line++;
	S->lib++;
	if (S->map == NULL)
		return;
	if (S->line >= S->map->cap) {
		int cap = S->map->cap ? S->map->cap * 2 : 256;
		int *v = realloc(S->map->lib, (size_t)cap * sizeof *v);

		if (v == NULL)
			return; /* lines only */
		S->map->lib = v;
		S->map->cap = cap;
	}
	S->map->lib[S->line] = S->lib;
	S->map->n = S->line + 1;
}

int
confscan_real_line(const struct confscan *L, const char *file, int lib)
{
	const struct confscan_linemap *m = NULL;
	int lo = 2, hi, mid;

	/* A file scanned twice: its last map, the one libconfuse is reading. */
	for (size_t i = L->nmaps; i-- > 0 && m == NULL;)
		if (strcmp(L->maps[i].file, file) == 0)
			m = &L->maps[i];
	if (m == NULL || m->n < 2)
		return lib;
	/* The last real line that libconfuse numbers lib or less (lib[] does not
	 * decrease), else line 1. */
	hi = m->n - 1;
	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if (m->lib[mid] > lib)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return hi < 2 ? 1 : hi;
}

static struct confscan_linemap *
new_map(struct confscan *L, const char *file)
{
	struct confscan_linemap *m;

	if (L->nmaps == L->capmaps) {
		size_t cap = L->capmaps ? L->capmaps * 2 : 8;

		if ((m = realloc(L->maps, cap * sizeof *m)) == NULL)
			return NULL;
		L->maps = m;
		L->capmaps = cap;
	}
	m = &L->maps[L->nmaps];
	memset(m, 0, sizeof *m);
	if ((m->file = str_dup(file)) == NULL)
		return NULL;
	L->nmaps++;
	return m;
}

static void
skip_var(struct scan *S, const char **pp, const char *close, struct buf *out)
{
	const char *p = *pp;

	if (check_var(S->L, S->file, S->line, p + 2, (size_t)(close - p - 2), out) < 0)
		S->oom = 1;
	for (; p <= close; p++)
		if (*p == '\n') {
			newline(S);
			S->vlines++;
		}
	*pp = p;
}

static unsigned
hex_digit(char c)
{
	return isdigit((unsigned char)c) ? (unsigned)(c - '0')
	                                 : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
}

/* An escape libconfuse's lexer refuses (the parse ends there): the first of a string is kept
 * for the parser, which says it in order. */
static void
refuse_escape(struct scan *S, const char *what, const char *esc, size_t n)
{
	struct confscan_toks *k = S->L->sink;
	char msg[128];
	int len;

	if (k == NULL || S->bad != NULL)
		return; /* libconfuse itself parses after confscan_file */
	len = snprintf(msg, sizeof msg, "%s '%.*s'", what, n > 64 ? 64 : (int)n, esc);
	if ((S->bad = confscan_mem_dup(&k->mem, msg, (size_t)len)) == NULL)
		S->oom = 1;
	S->bad_line = S->line;
}

/*
 * libconfuse's escapes in a double-quoted string: \n and the like, \xHH,
 * \ooo.  The scanner must read a title as libconfuse does, or its
 * section is not found and errors point at line 1.  Its lexer refuses a
 * run of digits longer than the octal escape it starts (\9, \19, \0123)
 * and an octal escape over \377.  Returns the bytes the escape after the
 * backslash takes, 0 if it is none of these.
 */
static size_t
dq_escape(struct scan *S, const char *p, const char *end, struct buf *out)
{
	static const char from[] = "ntrfbeav", to[] = "\n\t\r\f\b\033\a\v";
	const char *c = strchr(from, *p);
	unsigned v = 0;
	size_t n = 0, digits = 0;

	if (*p != '\0' && c != NULL) {
		add(S, out, &to[c - from], 1);
		return 1;
	}
	if (*p == 'x') {
		for (; n < 2 && p + 1 + n < end && isxdigit((unsigned char)p[1 + n]); n++)
			v = v * 16 + hex_digit(p[1 + n]);
		if (n > 0)
			add(S, out, &(char){(char)v}, 1);
		return n > 0 ? n + 1 : 0;
	}
	while (n < 3 && p + n < end && p[n] >= '0' && p[n] <= '7')
		v = v * 8 + (unsigned)(p[n++] - '0');
	while (p + digits < end && isdigit((unsigned char)p[digits]))
		digits++;
	if (digits > n)
		refuse_escape(S, "bad escape sequence", p - 1, digits + 1);
	else if (v > 0xff)
		refuse_escape(S, "invalid octal number", p - 1, n + 1);
	else if (n > 0)
		add(S, out, &(char){(char)v}, 1);
	return digits > n ? digits : n;
}

static const char *
scan_quoted(struct scan *S, const char *p, const char *end, struct buf *out)
{
	char q = *p++;
	const char *s;
	size_t n;

	while (p < end && *p != q) {
		if (*p == '\\' && p + 1 < end) {
			if (p[1] == '\n')
				newline(S);
			else if (q == '"' && (n = dq_escape(S, p + 1, end, out)) > 0)
				p += n - 1;
			else if (q == '\'' && p[1] != '\'' && p[1] != '\\')
				add(S, out, p, 2); /* single quotes keep other backslashes */
			else
				add(S, out, p + 1, 1);
			p += 2;
			continue;
		}
		if (q == '"' && p[0] == '$' && p + 1 < end && p[1] == '{') {
			const char *close = memchr(p, '}', (size_t)(end - p));

			if (close) {
				skip_var(S, &p, close, out);
				continue;
			}
		}
		if (*p == '\n')
			newline(S);
		s = p++; /* and the plain bytes after it, at once */
		while (p < end && *p != q && *p != '\\' && *p != '$' && *p != '\n')
			p++;
		add(S, out, s, (size_t)(p - s));
	}
	S->unclosed = p < end ? 0 : q;
	return p < end ? p + 1 : p;
}

/*
 * A comment, skipped.  libconfuse 3.3's lexer makes it a token, which its
 * parser lets pass only where an option name may come ("unexpected token"
 * elsewhere, quoting the comment trimmed): the parser gets it too.  An
 * unclosed block comment gives none.
 */
static const char *
scan_comment(struct scan *S, const char *p, const char *end)
{
	const char *s = p, *e;
	int line = S->line, closed = 1;
	char *text;

	if (*p == '#' || p[1] == '/') {
		char mark = *p; /* all the #s or /s begin it */

		while (p < end && *p != '\n')
			p++;
		S->lib += 2;
		for (e = p; s < e && *s == mark;)
			s++;
	} else {
		for (p += 2; p < end && !(*p == '*' && p + 1 < end && p[1] == '/'); p++)
			if (*p == '\n')
				newline(S);
		closed = p < end;
		e = p;
		p = closed ? p + 2 : p;
		S->lib += 1;
		for (s += 2; e > s && e[-1] == '*';)
			e--;
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (S->L->sink == NULL || !closed)
		return p;
	if ((text = confscan_mem_dup(&S->L->sink->mem, s, (size_t)(e - s))) == NULL ||
	    sink_push(S->L->sink, 'C', text, line, S->line) < 0)
		S->oom = 1;
	return p;
}

/* The bytes that end an unquoted string (and '\0', as a strchr() found it). */
static const unsigned char unquoted_stop[256] = {
    [0] = 1,   [' '] = 1, ['#'] = 1, ['"'] = 1, ['\''] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
    ['='] = 1, ['{'] = 1, ['}'] = 1, ['('] = 1, [')'] = 1,  ['+'] = 1,  [','] = 1,  ['*'] = 1,
};

/* The file is read: what is left to say, and the tokens' window emptied. */
static void
scan_end(struct scan *S, int open_line, int depth, struct tok t[3])
{
	struct confscan *L = S->L;

	if (S->oom)
		confscan_say(L, S->file, 1, 0, "out of memory while reading the file");
	/* libconfuse takes the end of the file for the missing braces. */
	if (depth > 0)
		confscan_say(L, S->file, open_line, 0,
		             "this '{' is never closed (a '}' is missing)");
	if (L->sink)
		L->sink->eof_line = S->line;
	for (int i = 0; i < 3 && L->sink == NULL; i++)
		free(t[i].text);
}

static void
scan_text(struct confscan *L, const char *file, const char *p, size_t len)
{
	const char *end = p + len;
	struct tok t[3] = {{.text = NULL}, {.text = NULL}, {.text = NULL}};
	struct grammar g = {.state = G_NAME, .ctx = {L->schema}};
	struct confscan_linemap *map = new_map(L, file); /* also: this file is read */
	struct scan S = {.L = L, .file = file, .map = L->sink ? NULL : map};
	int depth = 0, open_line[GRAMMAR_DEPTH] = {0};
	struct buf b = BUF_INIT; /* a quoted string's bytes */

	newline(&S);
	while (p < end) {
		int start = S.line;

		if (*p == '\n') {
			newline(&S);
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
		} else if (*p == '#' ||
		           (*p == '/' && p + 1 < end && (p[1] == '/' || p[1] == '*'))) {
			p = scan_comment(&S, p, end);
		} else if (*p == '"' || *p == '\'') {
			p = scan_quoted(&S, p, end, &b);
			S.oom |= push_tok(L, &g, file, t, 'S', tok_text(L, &b, NULL, 0), start,
			                  S.line) < 0;
			mark_last(&S);
		} else if (*p == '+' && p + 1 < end && p[1] == '=') {
			S.oom |= push_tok(L, &g, file, t, '+', NULL, S.line, S.line) < 0;
			p += 2;
		} else if (strchr("{}()=,", *p)) {
			if (*p == '{' && depth < GRAMMAR_DEPTH)
				open_line[depth] = S.line;
			if (*p == '{' && depth++ == 0 && t[2].type == 'S') {
				if (t[1].type == 'S' && t[0].type != '=' && t[0].type != '+')
					add_block(L, t[1].text, t[2].text, file, t[1].line);
				else
					add_block(L, t[2].text, "", file, t[2].line);
			} else if (*p == '}' && depth > 0) {
				depth--;
			}
			S.oom |= push_tok(L, &g, file, t, *p++, NULL, S.line, S.line) < 0;
		} else if (*p == '$' && p + 1 < end && p[1] == '{' &&
		           memchr(p, '}', (size_t)(end - p))) {
			skip_var(&S, &p, memchr(p, '}', (size_t)(end - p)), &b);
			S.oom |= push_tok(L, &g, file, t, 'S', tok_text(L, &b, NULL, 0), start,
			                  S.line) < 0;
			mark_last(&S);
		} else {
			const char *s = p;

			/* libconfuse 3.3's unquoted string stops at a '*' (and so at a block
			 * comment). */
			while (p < end && !unquoted_stop[(unsigned char)*p] &&
			       !(*p == '/' && p + 1 < end && p[1] == '*'))
				p++;
			p += p == s; /* a lone + or *: libconfuse's lexer drops it */
			S.oom |= push_tok(L, &g, file, t, 'S',
			                  tok_text(L, NULL, s, (size_t)(p - s)), start, S.line) < 0;
			if (unquoted_stop[(unsigned char)*s] && L->sink && L->sink->n > 0)
				L->sink->v[L->sink->n - 1].type = '.';
		}
	}
	buf_free(&b);
	scan_end(&S, open_line[0], depth, t);
}

/* The line of the byte at off. */
static int
line_at(const char *s, size_t off)
{
	int line = 1;

	for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + off - p))) != NULL; p++)
		line++;
	return line;
}

/*
 * Read and scan one file: 0; 1 when it is no configuration file at all
 * (too large, or holding a NUL byte: said, and nothing more is to be read:
 * libconfuse would read /dev/zero forever and NULs in quadratic time);
 * -1 (with errno) when it cannot be read.
 */
int
confscan_file(struct confscan *L, const char *path)
{
	return confscan_read(L, path, NULL);
}

int
confscan_read(struct confscan *L, const char *path, struct confscan_toks *out)
{
	struct buf b = BUF_INIT;
	const char *nul;

	if (buf_read_file(&b, path, CONFSCAN_MAX_BYTES) < 0) {
		if (errno != EFBIG) {
			buf_free(&b);
			return -1;
		}
		confscan_say(L, path, 1, 0, "larger than %d bytes: not a configuration file",
		             CONFSCAN_MAX_BYTES);
		buf_free(&b);
		return 1;
	}
	if (b.len > 0 && (nul = memchr(b.data, '\0', b.len)) != NULL) {
		confscan_say(L, path, line_at(b.data, (size_t)(nul - b.data)), 0,
		             "a NUL byte: not a configuration file");
		buf_free(&b);
		return 1;
	}
	L->sink = out;
	scan_text(L, path, buf_str(&b), b.len);
	L->sink = NULL;
	buf_free(&b);
	return 0;
}
int
confscan_has_read(const struct confscan *L, const char *path)
{
	for (size_t i = 0; i < L->nmaps; i++)
		if (str_eq(L->maps[i].file, path))
			return 1;
	return 0;
}

void
confscan_init(struct confscan *S, const char *path, cfg_opt_t *schema, FILE *diag)
{
	*S = (struct confscan){.diag = diag, .path = path, .schema = schema};
}

void
confscan_free(struct confscan *S)
{
	for (size_t i = 0; i < S->nw; i++) {
		free(S->w[i].key);
		free(S->w[i].file);
	}
	free(S->w);
	hashset_free(&S->wi);
	confscan_mem_free(&S->mem); /* the blocks' strings */
	free(S->b);
	hashset_free(&S->bi);
	for (size_t i = 0; i < S->nmaps; i++) {
		free(S->maps[i].file);
		free(S->maps[i].lib);
	}
	free(S->maps);
	for (size_t i = 0; i < S->secrets.n; i++)
		explicit_bzero(S->secrets.v[i], strlen(S->secrets.v[i]));
	strv_free(&S->secrets);
	*S = (struct confscan){0};
}
