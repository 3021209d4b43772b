/*
 * config: read tidings.conf with libconfuse and check it whole.
 *
 * libconfuse parses; we add what it lacks.  A small scanner reads each file
 * first (libconfuse expands an unset ${VAR} to "" silently, merges a second
 * smtp {} block silently, and keeps no line numbers once it is done), then
 * validate callbacks note where every value was set, and the checks run on
 * the parsed tree so that every problem is reported, each at its file:line.
 */
#include "config.h"
#include "deliver.h"
#include "message.h"

#include <confuse.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "message.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/tidings"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_BYTES   (1024 * 1024)
#define KEY_MAX            512
#define HINT_MAX           96 /* " (did you mean '...'?)", a name of at most 64 */
#define PASSWORD_MAX       4096

struct where {     /* where a value was set */
	char *key; /* "section/title/option#index" */
	char *file;
	int line;
};

struct block { /* where a section starts */
	char *kind;
	char *title; /* "" when untitled */
	char *file;
	int line;
};

/* An open-addressing table of indexes into an array (struct where or
 * struct block): a config of thousands of feeds looks values up by key
 * once per value, which a linear search made quadratic. */
struct hidx {
	struct hslot {
		uint64_t hash;
		size_t i; /* index + 1; 0: empty */
	} *slot;
	size_t cap, n; /* cap: 0 or a power of two */
};

struct loader {
	FILE *diag;
	cfg_t *root;
	const char *path;
	int nerr;
	struct where *w;
	size_t nw, capw;
	struct hidx wi; /* w by key */
	struct block *b;
	size_t nb, capb;
	struct hidx bi; /* b by kind and title */
	struct strv secrets;  /* passwords seen by the scanner: never printed */
	const void *last_val; /* a list's closing brace re-runs the callback */
	cfg_opt_t *schema;    /* the top-level options, for the scanner */
	struct linemap *maps; /* one per file read */
	size_t nmaps, capmaps;
};

/* libconfuse callbacks carry no user pointer, and its lexer is global
 * anyway: the load in progress is reached through this one pointer. */
static struct loader *active;

static int where_has(const struct loader *L, const char *key);
static size_t opt_names(const cfg_opt_t *opts, const char **names);
static const char *did_you_mean(char *out, const char *name, const char *const *names, size_t n);
static int real_line(const struct loader *L, const char *file, int lib);

/* --- reporting ------------------------------------------------------- */

static void
emit(struct loader *L, const char *file, int line, int warning, const char *msg)
{
	struct buf b = BUF_INIT, shown = BUF_INIT;
	const char *p = msg;
	size_t i;

	while (*p) {
		for (i = 0; i < L->secrets.n; i++) {
			size_t n = strlen(L->secrets.v[i]);

			if (n && strncmp(p, L->secrets.v[i], n) == 0)
				break;
		}
		if (i < L->secrets.n) {
			buf_adds(&b, "***");
			p += strlen(L->secrets.v[i]);
		} else {
			buf_addc(&b, *p);
			p++;
		}
	}
	/* One line per problem, whatever the value held, and nothing a terminal obeys. */
	buf_add_printable(&shown, file ? file : L->path);
	buf_printf(&shown, ":%d: %s", line, warning ? "warning: " : "");
	buf_add_printable(&shown, buf_str(&b));
	if (L->diag)
		fprintf(L->diag, "%s\n", buf_str(&shown));
	buf_free(&b);
	buf_free(&shown);
	if (!warning)
		L->nerr++;
}

static void __attribute__((format(printf, 5, 6)))
say(struct loader *L, const char *file, int line, int warning, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(L, file, line, warning, msg);
}

/* Optimal string alignment distance: a swap of two letters costs one. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[3][65];

	if (la > 64 || lb > 64)
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
 * "".  out holds HINT_MAX bytes. */
static const char *
did_you_mean(char *out, const char *name, const char *const *names, size_t n)
{
	const char *best = nearest(name, names, n);

	if (best == NULL)
		return "";
	snprintf(out, HINT_MAX, " (did you mean '%s'?)", best);
	return out;
}

/* names[] (64 of them) gets the option names of opts; returns how many. */
static size_t
opt_names(const cfg_opt_t *opts, const char **names)
{
	size_t n;

	for (n = 0; n < 64 && opts[n].name; n++)
		names[n] = opts[n].name;
	return n;
}

static const char *
cur_file(cfg_t *c)
{
	/* A plain section (smtp) made by cfg_init() has no file name. */
	if (c && c->filename)
		return c->filename;
	if (active && active->root && active->root->filename)
		return active->root->filename;
	return active ? active->path : "?";
}

static void
on_cfg_error(cfg_t *c, const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX], key[KEY_MAX], hint[HINT_MAX];
	const char *name = NULL, *names[64];
	int line;
	va_list cp;

	if (active == NULL)
		return;
	va_copy(cp, ap);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (strcmp(fmt, "no such option '%s'") == 0)
		name = va_arg(cp, const char *);
	va_end(cp);
	line = real_line(active, cur_file(c), c ? c->line : 0);
	if (name) {
		/* The scanner has named it already, with every other one. */
		snprintf(key, sizeof key, "?unknown/%d/%s", line, cur_file(c));
		if (where_has(active, key))
			return;
		if (c && c->opts) {
			size_t l = strlen(msg);

			snprintf(msg + l, sizeof msg - l, "%s",
			         did_you_mean(hint, name, names, opt_names(c->opts, names)));
		}
	}
	emit(active, cur_file(c), line, 0, msg);
}

/* --- where values were set ------------------------------------------ */

static void
make_key(char *key, const char *sec, const char *title, const char *opt, unsigned idx)
{
	snprintf(key, KEY_MAX, "%s/%s/%s#%u", sec, title ? title : "", opt, idx);
}

/* The entries of h whose hash is hash, in turn: start with *pos = 0; each
 * call returns an index, or SIZE_MAX when there are no more. */
static size_t
hidx_next(const struct hidx *h, uint64_t hash, size_t *pos)
{
	size_t mask = h->cap - 1, k;

	if (h->cap == 0)
		return SIZE_MAX;
	for (; h->slot[k = (hash + *pos) & mask].i; ++*pos)
		if (h->slot[k].hash == hash) {
			++*pos;
			return h->slot[k].i - 1;
		}
	return SIZE_MAX;
}

static void
hidx_place(struct hslot *slot, size_t cap, uint64_t hash, size_t i)
{
	size_t k = hash & (cap - 1);

	while (slot[k].i)
		k = (k + 1) & (cap - 1);
	slot[k].hash = hash;
	slot[k].i = i + 1;
}

/* Index entry i under hash; -1 when out of memory. */
static int
hidx_add(struct hidx *h, uint64_t hash, size_t i)
{
	if ((h->n + 1) * 2 > h->cap) { /* at most half full: probes stay short */
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct hslot *s = calloc(cap, sizeof *s);

		if (s == NULL)
			return -1;
		for (size_t k = 0; k < h->cap; k++)
			if (h->slot[k].i)
				hidx_place(s, cap, h->slot[k].hash, h->slot[k].i - 1);
		free(h->slot);
		h->slot = s;
		h->cap = cap;
	}
	hidx_place(h->slot, h->cap, hash, i);
	h->n++;
	return 0;
}

/* The index of key in L->w, or SIZE_MAX. */
static size_t
where_find(const struct loader *L, const char *key)
{
	uint64_t hash = hash64_str(key);
	size_t pos = 0, i;

	while ((i = hidx_next(&L->wi, hash, &pos)) != SIZE_MAX)
		if (strcmp(L->w[i].key, key) == 0)
			return i;
	return SIZE_MAX;
}

static void
where_set(struct loader *L, const char *key, const char *file, int line)
{
	struct where *w;
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
		if (hidx_add(&L->wi, hash64_str(key), i) < 0) {
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

static int
where_has(const struct loader *L, const char *key)
{
	return where_find(L, key) != SIZE_MAX;
}

static uint64_t
block_hash(const char *kind, const char *title)
{
	return hash64_str(kind) * 1099511628211u ^ hash64_str(title);
}

static const struct block *
block_find(const struct loader *L, const char *kind, const char *title)
{
	size_t pos = 0, i;

	if (title == NULL)
		title = "";
	while ((i = hidx_next(&L->bi, block_hash(kind, title), &pos)) != SIZE_MAX)
		if (strcmp(L->b[i].kind, kind) == 0 && strcmp(L->b[i].title, title) == 0)
			return &L->b[i];
	return NULL;
}

/* Where to point for a value: where it was set, else its section, else line 1. */
static void
locate(const struct loader *L, const char *sec, const char *title, const char *opt, unsigned idx,
       const char **file, int *line)
{
	char key[KEY_MAX];
	const struct block *b;
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

static int
on_value(cfg_t *sec, cfg_opt_t *opt)
{
	char key[KEY_MAX];
	unsigned n = cfg_opt_size(opt);

	if (active == NULL || n == 0 || opt->values == NULL)
		return 0;
	if (active->last_val == opt->values[n - 1])
		return 0;
	active->last_val = opt->values[n - 1];
	make_key(key, sec->name, sec->title, opt->name, n - 1);
	where_set(active, key, cur_file(sec), real_line(active, cur_file(sec), sec->line));
	return 0; /* checks run on the whole tree, so that all are reported */
}

/* --- the scanner ------------------------------------------------------ */

struct tok {
	int type; /* 'S' a string, else the punctuation */
	char *text;
	int line;
};

static void
check_var(struct loader *L, const char *file, int line, const char *s, size_t n, struct buf *out)
{
	char *name = str_ndup(s, n), *colon;
	const char *v;

	if (name == NULL)
		return;
	colon = strchr(name, ':');
	if (colon && colon[1] == '-') {
		*colon = '\0';
		v = getenv(name);
		buf_adds(out, v ? v : colon + 2);
	} else if ((v = getenv(name)) != NULL) {
		buf_adds(out, v);
	} else {
		say(L, file, line, 0,
		    "${%s} is not set in the environment "
		    "(write ${%s:-default} for a fallback)",
		    name, name);
	}
	free(name);
}

static void
add_block(struct loader *L, const char *kind, const char *title, const char *file, int line)
{
	static const char *const known[] = {"feed", "subscription", "smtp", "fetch"};
	const struct block *old;
	struct block *nb;
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(kind, known[i]) == 0)
			break;
	if (i == sizeof known / sizeof known[0])
		return;
	if ((old = block_find(L, kind, title)) != NULL) {
		char at[64 + 4096];

		if (strcmp(old->file, file) == 0)
			snprintf(at, sizeof at, "line %d", old->line);
		else
			snprintf(at, sizeof at, "%s:%d", old->file, old->line);
		if (*title)
			say(L, file, line, 0, "duplicate %s name '%s' (the first is at %s)", kind,
			    title, at);
		else
			say(L, file, line, 0,
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
	nb->kind = str_dup(kind);
	nb->title = str_dup(title);
	nb->file = str_dup(file);
	nb->line = line;
	if (nb->kind && nb->title && nb->file &&
	    hidx_add(&L->bi, block_hash(kind, title), L->nb) == 0) {
		L->nb++;
	} else {
		free(nb->kind);
		free(nb->title);
		free(nb->file);
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
unknown_option(struct loader *L, const char *file, int line, cfg_opt_t *opts, const char *name)
{
	const char *names[64];
	char key[KEY_MAX], hint[HINT_MAX];

	say(L, file, line, 0, "no such option '%s'%s", name,
	    did_you_mean(hint, name, names, opt_names(opts, names)));
	snprintf(key, sizeof key, "?unknown/%d/%s", line, file);
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
grammar_step(struct loader *L, struct grammar *g, const char *file, int type, const char *text,
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
				if (strcmp(opts[i].name, text) == 0)
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

static void
push_tok(struct loader *L, struct grammar *g, const char *file, struct tok t[3], int type,
         char *text, int line)
{
	grammar_step(L, g, file, type, text, line);
	free(t[0].text);
	t[0] = t[1];
	t[1] = t[2];
	t[2].type = type;
	t[2].text = text;
	t[2].line = line;
	if (type == 'S' && t[1].type == '=' && t[0].type == 'S' && t[0].text &&
	    strcmp(t[0].text, "password") == 0 && text && *text)
		strv_push(&L->secrets, text);
}

/* libconfuse 3.3 counts lines wrong: a # or // comment adds two lines, a
 * block comment one.  The scanner keeps, per real line, the number
 * libconfuse will give it, to translate its numbers back. */
struct linemap {
	char *file;
	int *lib; /* lib[real line] */
	int n, cap;
};

struct scan {
	struct loader *L;
	const char *file;
	int line; /* the real one */
	int lib;  /* libconfuse's */
	struct linemap *map;
};

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

static int
real_line(const struct loader *L, const char *file, int lib)
{
	const struct linemap *m = NULL;
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

static struct linemap *
new_map(struct loader *L, const char *file)
{
	struct linemap *m;

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

	check_var(S->L, S->file, S->line, p + 2, (size_t)(close - p - 2), out);
	for (; p <= close; p++)
		if (*p == '\n')
			newline(S);
	*pp = p;
}

static unsigned
hex_digit(char c)
{
	return isdigit((unsigned char)c) ? (unsigned)(c - '0')
	                                 : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
}

/*
 * libconfuse's escapes in a double-quoted string: \n and the like, \xHH,
 * \ooo.  The scanner must read a title as libconfuse does, or its
 * section is not found and errors point at line 1.  Returns the bytes
 * the escape after the backslash takes, 0 if it is none of these.
 */
static size_t
dq_escape(const char *p, const char *end, struct buf *out)
{
	static const char from[] = "ntrfbeav", to[] = "\n\t\r\f\b\033\a\v";
	const char *c = strchr(from, *p);
	unsigned v = 0;
	size_t n = 0;

	if (*p != '\0' && c != NULL) {
		buf_addc(out, to[c - from]);
		return 1;
	}
	if (*p == 'x') {
		for (; n < 2 && p + 1 + n < end && isxdigit((unsigned char)p[1 + n]); n++)
			v = v * 16 + hex_digit(p[1 + n]);
		if (n > 0)
			buf_addc(out, (char)v);
		return n > 0 ? n + 1 : 0;
	}
	while (n < 3 && p + n < end && p[n] >= '0' && p[n] <= '7')
		v = v * 8 + (unsigned)(p[n++] - '0');
	if (n > 0)
		buf_addc(out, (char)v);
	return n;
}

static const char *
scan_quoted(struct scan *S, const char *p, const char *end, struct buf *out)
{
	char q = *p++;
	size_t n;

	while (p < end && *p != q) {
		if (*p == '\\' && p + 1 < end) {
			if (p[1] == '\n')
				newline(S);
			else if (q == '"' && (n = dq_escape(p + 1, end, out)) > 0)
				p += n - 1;
			else if (q == '\'' && p[1] != '\'' && p[1] != '\\')
				buf_add(out, p, 2); /* single quotes keep other backslashes */
			else
				buf_addc(out, p[1]);
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
		buf_addc(out, *p++);
	}
	return p < end ? p + 1 : p;
}

static void
scan_text(struct loader *L, const char *file, const char *p, size_t len)
{
	const char *end = p + len;
	struct tok t[3] = {{0, NULL, 0}, {0, NULL, 0}, {0, NULL, 0}};
	struct grammar g = {G_NAME, 0, {L->schema}, NULL};
	struct scan S = {L, file, 0, 0, new_map(L, file)};
	int depth = 0, open_line[GRAMMAR_DEPTH] = {0};

	newline(&S);
	while (p < end) {
		struct buf b = BUF_INIT;
		int start = S.line;

		if (*p == '\n') {
			newline(&S);
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
		} else if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
			while (p < end && *p != '\n')
				p++;
			S.lib += 2;
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			for (p += 2; p < end && !(*p == '*' && p + 1 < end && p[1] == '/'); p++)
				if (*p == '\n')
					newline(&S);
			p = p < end ? p + 2 : p;
			S.lib += 1;
		} else if (*p == '"' || *p == '\'') {
			p = scan_quoted(&S, p, end, &b);
			push_tok(L, &g, file, t, 'S', buf_steal(&b), start);
		} else if (*p == '+' && p + 1 < end && p[1] == '=') {
			push_tok(L, &g, file, t, '+', NULL, S.line);
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
			push_tok(L, &g, file, t, *p++, NULL, S.line);
		} else if (*p == '$' && p + 1 < end && p[1] == '{' &&
		           memchr(p, '}', (size_t)(end - p))) {
			skip_var(&S, &p, memchr(p, '}', (size_t)(end - p)), &b);
			push_tok(L, &g, file, t, 'S', buf_steal(&b), start);
		} else {
			const char *s = p;

			/* libconfuse 3.3's unquoted string stops at a '*' (and so at a block
			 * comment). */
			while (p < end && !strchr(" #\"'\t\n\r={}()+,*", *p) &&
			       !(*p == '/' && p + 1 < end && p[1] == '*'))
				p++;
			if (p == s)
				p++;
			push_tok(L, &g, file, t, 'S', str_ndup(s, (size_t)(p - s)), start);
		}
		buf_free(&b);
	}
	/* libconfuse takes the end of the file for the missing braces. */
	if (depth > 0)
		say(L, file, open_line[0], 0, "this '{' is never closed (a '}' is missing)");
	for (int i = 0; i < 3; i++)
		free(t[i].text);
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
static int
scan_file(struct loader *L, const char *path)
{
	struct buf b = BUF_INIT;
	const char *nul;

	if (buf_read_file(&b, path, CONFIG_MAX_BYTES) < 0) {
		if (errno != EFBIG) {
			buf_free(&b);
			return -1;
		}
		say(L, path, 1, 0, "larger than %d bytes: not a configuration file",
		    CONFIG_MAX_BYTES);
		buf_free(&b);
		return 1;
	}
	if (b.len > 0 && (nul = memchr(b.data, '\0', b.len)) != NULL) {
		say(L, path, line_at(b.data, (size_t)(nul - b.data)), 0,
		    "a NUL byte: not a configuration file");
		buf_free(&b);
		return 1;
	}
	scan_text(L, path, buf_str(&b), b.len);
	buf_free(&b);
	return 0;
}

/* --- paths ------------------------------------------------------------ */

static char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return str_dup(h);
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? str_dup(pw->pw_dir) : NULL;
}

/* `~` is the home folder; a relative path is relative to base_file's folder. */
static char *
path_abs(const char *v, const char *base_file)
{
	char *home, *dir, *r;

	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
		if ((home = home_dir()) == NULL)
			return NULL;
		r = str_printf("%s%s", home, v + 1);
		free(home);
		return r;
	}
	if (v[0] == '/')
		return str_dup(v);
	if ((dir = path_dir(base_file)) == NULL)
		return NULL;
	r = str_printf("%s/%s", dir, v);
	free(dir);
	return r;
}

static char *
abs_config_path(const char *path)
{
	char cwd[4096], *r;

	if ((r = realpath(path, NULL)) != NULL)
		return r;
	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return str_dup(path);
	return str_printf("%s/%s", cwd, path);
}

char *
config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	char *home, *user;

	if (x && x[0] == '/') {
		user = str_printf("%s/tidings/tidings.conf", x);
	} else {
		if ((home = home_dir()) == NULL)
			return str_dup(SYSCONFDIR "/tidings.conf");
		user = str_printf("%s/.config/tidings/tidings.conf", home);
		free(home);
	}
	if (user == NULL || access(user, F_OK) == 0)
		return user;
	if (access(SYSCONFDIR "/tidings.conf", F_OK) == 0) {
		free(user);
		return str_dup(SYSCONFDIR "/tidings.conf");
	}
	return user; /* absent: the error names the file one would create */
}

static char *
default_state_path(void)
{
	const char *x = getenv("XDG_STATE_HOME");
	char *home, *r;

	if (x && x[0] == '/')
		return str_printf("%s/tidings/state", x);
	if ((home = home_dir()) == NULL)
		return NULL;
	r = str_printf("%s/.local/state/tidings/state", home);
	free(home);
	return r;
}

static int
already_read(const struct loader *L, const char *path)
{
	for (size_t i = 0; i < L->nmaps; i++)
		if (str_eq(L->maps[i].file, path))
			return 1;
	return 0;
}

static int
on_include(cfg_t *c, cfg_opt_t *opt, int argc, const char **argv)
{
	char *path, *real;
	int rc;

	if (argc != 1) {
		cfg_error(c, "include() takes one file name");
		return 1;
	}
	if ((path = path_abs(argv[0], cur_file(c))) == NULL) {
		cfg_error(c, "include(\"%s\"): cannot resolve the path", argv[0]);
		return 1;
	}
	if ((real = realpath(path, NULL)) != NULL) {
		free(path);
		path = real;
	}
	/*
	 * A file read twice is a loop (or its definitions clash anyway): said
	 * once, here, instead of every error of the loop repeated until
	 * libconfuse finds the nesting too deep.
	 */
	if (active && already_read(active, path)) {
		cfg_error(c, "include(\"%s\"): %s is already read (an include loop)", argv[0], path);
		free(path);
		return 1;
	}
	/* Unreadable: libconfuse says so.  No configuration at all: said, and not read further. */
	if (active && scan_file(active, path) > 0) {
		free(path);
		return 1;
	}
	rc = cfg_include(c, opt, 1, (const char **)&path);
	free(path);
	return rc;
}

/* --- values ------------------------------------------------------------ */

int
config_parse_duration(const char *s, time_t *out)
{
	static const struct {
		char unit;
		long secs;
	} units[] = {
	    {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800},
	};
	char *end;
	long long n;
	long mult = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (*end == units[i].unit)
				break;
		if (i == sizeof units / sizeof units[0] || end[1] != '\0')
			return -1;
		mult = units[i].secs;
	}
	if (n > (long long)(INT32_MAX / mult) * 100) /* ~ 68 years * 100: plenty */
		return -1;
	*out = (time_t)(n * mult);
	return 0;
}

int
config_parse_size(const char *s, size_t *out)
{
	static const char units[] = "KMG";
	unsigned long long n;
	char *end;
	const char *u;
	int shift = 0;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		if ((u = strchr(units, toupper((unsigned char)*end))) == NULL || end[1] != '\0')
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (n > (SIZE_MAX >> shift))
		return -1;
	*out = (size_t)(n << shift);
	return 0;
}

/* "Name <local@domain>" or "local@domain". */
static int
address_ok(const char *s)
{
	const char *a = s, *lt, *gt, *at, *p, *e;

	if (strpbrk(s, "\r\n"))
		return 0;
	if ((lt = strrchr(s, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL || !str_empty(gt + 1))
			return 0;
		a = lt + 1;
		e = gt;
	} else {
		while (*a == ' ' || *a == '\t')
			a++;
		e = a + strlen(a);
		while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
	}
	if ((at = memchr(a, '@', (size_t)(e - a))) == NULL || at == a || at + 1 >= e)
		return 0;
	for (p = a; p < at; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-/=?^_`{|}~.", *p))
			return 0;
	if (at[1] == '.' || at[1] == '-' || e[-1] == '.' || e[-1] == '-')
		return 0;
	for (p = at + 1; p < e; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && !(*p == '.' && p[1] != '.'))
			return 0;
	return 1;
}

/* NULL when fine, else why not. */
static const char *
http_url_problem(const char *s)
{
	CURLU *u = curl_url();
	CURLUcode rc;
	char *host = NULL;
	const char *why = NULL;

	if (u == NULL)
		return "out of memory";
	rc = curl_url_set(u, CURLUPART_URL, s, 0);
	if (rc != CURLUE_OK)
		why = curl_url_strerror(rc);
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || !*host)
		why = "no host";
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

/* A file: URL names a local file; a relative one is relative to base_file. */
static char *
file_url(const char *v, const char *base_file)
{
	const char *p = v + 5;
	char *path, *r;

	if (strncmp(p, "//", 2) == 0) {
		p += 2;
		if (strncasecmp(p, "localhost/", 10) == 0)
			p += 9;
	}
	if (*p == '\0')
		return NULL;
	if ((path = path_abs(p, base_file)) == NULL)
		return NULL;
	r = str_printf("file://%s", path);
	free(path);
	return r;
}

static int
is_loopback(const char *h)
{
	return strcasecmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 ||
	       strcmp(h, "::1") == 0 || strcmp(h, "[::1]") == 0;
}

/* --- building the config ---------------------------------------------- */

struct ctx { /* one section being read */
	struct loader *L;
	cfg_t *sec;
	const char *kind; /* libconfuse section name: root, feed, ... */
	const char *title;
};

static void __attribute__((format(printf, 4, 5)))
bad(const struct ctx *x, const char *opt, unsigned idx, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	const char *file;
	int line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	locate(x->L, x->kind, x->title, opt, idx, &file, &line);
	emit(x->L, file, line, 0, msg);
}

static const char *
where_file(const struct ctx *x, const char *opt)
{
	const char *file;
	int line;

	locate(x->L, x->kind, x->title, opt, 0, &file, &line);
	return file;
}

static char *
get_str(const struct ctx *x, const char *opt)
{
	const char *v = cfg_getstr(x->sec, opt);

	return v ? str_dup(v) : NULL;
}

static char *
get_path(const struct ctx *x, const char *opt)
{
	const char *v = cfg_getstr(x->sec, opt);
	char *r;

	if (v == NULL)
		return NULL;
	if (*v == '\0') {
		bad(x, opt, 0, "%s is empty", opt);
		return NULL;
	}
	if ((r = path_abs(v, where_file(x, opt))) == NULL)
		bad(x, opt, 0, "%s '%s': cannot find the home folder", opt, v);
	return r;
}

static long
get_int(const struct ctx *x, const char *opt, long lo, long hi)
{
	long v = cfg_getint(x->sec, opt);

	if (v < lo || v > hi) {
		bad(x, opt, 0, "%s = %ld: must be from %ld to %ld", opt, v, lo, hi);
		return lo;
	}
	return v;
}

static time_t
get_duration(const struct ctx *x, const char *opt)
{
	const char *v = cfg_getstr(x->sec, opt);
	time_t t = 0;

	if (v && config_parse_duration(v, &t) < 0)
		bad(x, opt, 0, "%s = \"%s\": not a duration (a number with s, m, h, d or w)", opt,
		    v);
	return t;
}

static int
get_list(const struct ctx *x, const char *opt, struct strv *out)
{
	unsigned n = cfg_size(x->sec, opt);

	for (unsigned i = 0; i < n; i++)
		if (strv_push(out, cfg_getnstr(x->sec, opt, i)) < 0)
			return -1;
	return 0;
}

static void
check_address(const struct ctx *x, const char *opt, unsigned idx, const char *v)
{
	if (v && !address_ok(v))
		bad(x, opt, idx, "%s \"%s\": not an email address", opt, v);
}

/* "" (no proxy) or [SCHEME://]HOST[:PORT] with a scheme libcurl can proxy through. */
static char *
get_proxy(const struct ctx *x)
{
	static const char *const schemes[] = {"http://",    "https://",  "socks4://",
	                                      "socks4a://", "socks5://", "socks5h://"};
	const char *v = cfg_getstr(x->sec, "proxy");
	int known = strstr(v ? v : "", "://") == NULL;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; !known && i < sizeof schemes / sizeof schemes[0]; i++)
		known = strncasecmp(v, schemes[i], strlen(schemes[i])) == 0;
	if (!known || v[strcspn(v, " \t\r\n")] != '\0') {
		bad(x, "proxy", 0,
		    "proxy \"%s\": a proxy URL (http://HOST:PORT, socks5://HOST:PORT ...) or \"\"",
		    v);
		return NULL;
	}
	return str_dup(v);
}

static void
read_fetch(struct loader *L, cfg_t *root, struct fetch_conf *f)
{
	struct ctx x = {L, cfg_getsec(root, "fetch"), "fetch", NULL};
	const char *ms;

	f->timeout = get_int(&x, "timeout", 1, 86400);
	f->parallel = (int)get_int(&x, "parallel", 1, 1000);
	f->per_host = (int)get_int(&x, "per-host", 1, 1000);
	f->report_after = (int)get_int(&x, "report-after", 1, 1000000);
	f->max_pages = (int)get_int(&x, "max-pages", 0, 10000);
	ms = cfg_getstr(x.sec, "max-size");
	if (config_parse_size(ms, &f->max_size) < 0 || f->max_size == 0)
		bad(&x, "max-size", 0, "max-size = \"%s\": not a size (a number with K, M or G)",
		    ms);
	f->user_agent = get_str(&x, "user-agent");
	/* "tidings/VERSION", and "(+URL)" only when configure was given a home page. */
	if (f->user_agent == NULL)
		f->user_agent = PACKAGE_URL[0]
		                    ? str_printf("tidings/%s (+%s)", PACKAGE_VERSION, PACKAGE_URL)
		                    : str_dup("tidings/" PACKAGE_VERSION);
	else if (strpbrk(f->user_agent, "\r\n"))
		bad(&x, "user-agent", 0, "user-agent holds a line break");
	f->proxy = get_proxy(&x);
}

static void
read_password_file(const struct ctx *x, struct smtp_conf *s)
{
	char *path = get_path(x, "password-file"), line[PASSWORD_MAX];
	struct stat st;
	FILE *fp;

	if (path == NULL)
		return;
	fp = NULL;
	/* stat first: opening a FIFO would wait for a writer. */
	if (stat(path, &st) < 0) {
		bad(x, "password-file", 0, "password-file %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		bad(x, "password-file", 0, "password-file %s: not a regular file", path);
	} else if ((fp = fopen(path, "r")) == NULL) {
		bad(x, "password-file", 0, "password-file %s: %s", path, strerror(errno));
	} else {
		if (st.st_mode & (S_IRGRP | S_IROTH)) {
			const char *file;
			int l;

			locate(x->L, x->kind, x->title, "password-file", 0, &file, &l);
			say(x->L, file, l, 1,
			    "password-file %s is readable by others "
			    "(chmod 600 %s)",
			    path, path);
		}
		if (fgets(line, sizeof line, fp) == NULL)
			line[0] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			bad(x, "password-file", 0, "password-file %s: the first line is empty",
			    path);
		else if ((s->password = str_dup(line)) == NULL ||
		         strv_push(&x->L->secrets, line) < 0)
			bad(x, "password-file", 0, "out of memory");
		explicit_bzero(line, sizeof line);
	}
	if (fp)
		fclose(fp);
	free(path);
}

/*
 * Does the global deliver or a subscription's use kind (word: its value)?
 * *by gets the first subscription that names it itself, or NULL.
 */
static int
delivery_used(cfg_t *root, const struct config *cfg, enum deliver_kind kind, const char *word,
              cfg_t **by)
{
	unsigned ns = cfg_size(root, "subscription");
	int inherit = ns == 0;

	*by = NULL;
	for (unsigned i = 0; i < ns; i++) {
		cfg_t *sec = cfg_getnsec(root, "subscription", i);
		const char *v = cfg_getstr(sec, "deliver");

		if (v == NULL)
			inherit = 1;
		else if (strcmp(v, word) == 0 && *by == NULL)
			*by = sec;
	}
	return (inherit && cfg->deliver == kind) || *by != NULL;
}

/*
 * password-command: run by /bin/sh -c, its first line is the password (or
 * the XOAUTH2 bearer token), like msmtp's passwordeval.
 */
static void
run_password_command(const struct ctx *x, struct smtp_conf *s)
{
	const char *cmd = cfg_getstr(x->sec, "password-command");
	char line[PASSWORD_MAX];
	FILE *fp;
	int st;

	fflush(NULL);
	if ((fp = popen(cmd, "r")) == NULL) {
		bad(x, "password-command", 0, "password-command: cannot run it: %s",
		    strerror(errno));
		return;
	}
	if (fgets(line, sizeof line, fp) == NULL)
		line[0] = '\0';
	while (fgetc(fp) != EOF)
		; /* let it finish writing */
	st = pclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	if (st != 0)
		bad(x, "password-command", 0, "password-command failed (%s %d)",
		    st > 0 && WIFEXITED(st) ? "exit status" : "signal",
		    st > 0 && WIFEXITED(st) ? WEXITSTATUS(st) :
		    st > 0 && WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	else if (line[0] == '\0')
		bad(x, "password-command", 0, "password-command printed no password");
	else if ((s->password = str_dup(line)) == NULL ||
	         strv_push(&x->L->secrets, line) < 0)
		bad(x, "password-command", 0, "out of memory");
	explicit_bzero(line, sizeof line);
}

/*
 * Where the password comes from: at most one of three options.  A
 * password-command runs only when something delivers over SMTP (used): it
 * may ask a keyring or a person.
 */
static void
read_password(const struct ctx *x, struct smtp_conf *s, int used)
{
	static const char *const from[] = {"password", "password-file", "password-command"};
	const char *set = NULL;

	for (size_t i = 0; i < 3; i++) {
		if (cfg_getstr(x->sec, from[i]) == NULL)
			continue;
		if (set != NULL) {
			bad(x, from[i], 0, "set only one of password, password-file and "
			    "password-command (%s is set too)", set);
			return;
		}
		set = from[i];
	}
	if (set == NULL)
		return;
	if (set == from[0])
		s->password = get_str(x, "password");
	else if (set == from[1])
		read_password_file(x, s);
	else if (used)
		run_password_command(x, s);
	if (s->password != NULL && s->user == NULL)
		bad(x, set, 0, "a password without a user: set user too");
}

/* A table over an if-chain: the name of each value of an enum option. */
static int
pick(const struct ctx *x, const char *opt, const char *const *names, size_t n)
{
	const char *v = cfg_getstr(x->sec, opt);
	char list[200] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		if (str_eq(v, names[i]))
			return (int)i;
	for (size_t i = 0; i < n && len < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s\"%s\"",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	bad(x, opt, 0, "%s = \"%s\": must be %s", opt, v ? v : "", list);
	return 0;
}

/* EHLO names: a host name (letters, digits, '-', '.') or an address literal. */
static int
helo_ok(const char *h)
{
	if (h[0] == '[')
		return h[strlen(h) - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF.:") ==
		    strlen(h) - 2;
	return *h != '\0' && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") == strlen(h);
}

static void
read_smtp_extras(const struct ctx *x, struct smtp_conf *s)
{
	/* in the order of enum smtp_auth, from SMTP_AUTH_PLAIN */
	static const char *const auths[] = {"plain", "login", "cram-md5", "xoauth2"};
	const char *a = cfg_getstr(x->sec, "auth");

	s->sessions = (int)get_int(x, "sessions", 1, 64);
	s->auth = SMTP_AUTH_ANY;
	if (a != NULL)
		s->auth = (enum smtp_auth)(SMTP_AUTH_PLAIN + pick(x, "auth", auths, 4));
	if (a != NULL && s->user == NULL)
		bad(x, "auth", 0, "auth = \"%s\" needs user too", a);
	s->helo = get_str(x, "helo");
	if (s->helo != NULL && !helo_ok(s->helo))
		bad(x, "helo", 0, "helo = \"%s\": not a host name or [address]", s->helo);
}

static void
read_smtp(struct loader *L, cfg_t *root, struct config *cfg)
{
	struct ctx x = {L, cfg_getsec(root, "smtp"), "smtp", NULL};
	struct smtp_conf *s = &cfg->smtp;
	static const char *const tls[] = {[TLS_STARTTLS] = "starttls", [TLS_NONE] = "none",
	    [TLS_IMPLICIT] = "implicit"};
	cfg_t *by;
	int used;

	s->host = get_str(&x, "host");
	s->tls = (enum tls_mode)pick(&x, "tls", tls, 3);
	if (cfg_getint(x.sec, "port") == 0)
		s->port = s->tls == TLS_IMPLICIT ? 465 : 587;
	else
		s->port = (int)get_int(&x, "port", 1, 65535);
	s->verify = cfg_getbool(x.sec, "verify");
	s->ca_file = get_path(&x, "ca-file");
	if (s->ca_file && access(s->ca_file, R_OK) < 0)
		bad(&x, "ca-file", 0, "ca-file %s: %s", s->ca_file, strerror(errno));
	else if (s->ca_file && !deliver_ca_file_ok(s->ca_file))
		bad(&x, "ca-file", 0, "ca-file %s: no PEM certificate in it", s->ca_file);
	s->user = get_str(&x, "user");
	s->allow_plaintext = cfg_getbool(x.sec, "allow-plaintext");
	s->timeout = get_int(&x, "timeout", 1, 86400);
	used = delivery_used(root, cfg, DELIVER_SMTP, "smtp", &by);
	read_password(&x, s, used);
	if (s->user && s->password == NULL && !cfg_getstr(x.sec, "password-file") &&
	    !cfg_getstr(x.sec, "password-command"))
		bad(&x, "user", 0, "user is set but none of password, password-file and "
		    "password-command");
	read_smtp_extras(&x, s);
	if (!used)
		return;
	if (str_empty(s->host) && cfg->deliver != DELIVER_SMTP) {
		struct ctx sx = {L, by, "subscription", cfg_title(by)};

		bad(&sx, "deliver", 0, "deliver = \"smtp\" needs smtp { host = \"...\" }");
	} else if (str_empty(s->host)) {
		const char *file;
		int line;
		char key[KEY_MAX];
		int set;

		make_key(key, "root", NULL, "deliver", 0);
		set = where_has(L, key);
		locate(L, set ? "root" : "smtp", NULL, set ? "deliver" : NULL, 0, &file, &line);
		say(L, file, line, 0, "deliver = \"smtp\"%s needs smtp { host = \"...\" }",
		    set ? "" : " (the default)");
	} else if (s->tls == TLS_NONE && !s->allow_plaintext && !is_loopback(s->host)) {
		bad(&x, "tls", 0,
		    "tls = \"none\" to %s would send the password and mail in "
		    "clear: set allow-plaintext = true if you mean it",
		    s->host);
	}
}

/*
 * The mbox file or maildir is made by the run, but not the folder it goes
 * in, unless that is the state's folder (a run makes that one first).
 */
static void
check_deliver_folder(const struct ctx *x, const char *path, const char *state_path)
{
	char *dir = path_dir(path), *state_dir = state_path ? path_dir(state_path) : NULL;
	int made_by_run = str_eq(dir, state_dir);
	struct stat st;

	free(state_dir);
	if (dir == NULL || made_by_run) {
		free(dir);
		return;
	}
	if (stat(dir, &st) != 0)
		bad(x, "deliver", 0, "deliver: folder %s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		bad(x, "deliver", 0, "deliver: %s is not a folder", dir);
	free(dir);
}

/* A deliver value ("smtp", "mbox:PATH", ...) as the option opt of section x says. */
static void
parse_deliver(const struct ctx *x, const char *v, enum deliver_kind *kind, char **path,
              const char *state_path)
{
	static const struct {
		const char *word; /* the whole value, or its prefix when with_path */
		int with_path;
		enum deliver_kind kind;
	} kinds[] = {
	    {"smtp", 0, DELIVER_SMTP},         {"stdout", 0, DELIVER_STDOUT},
	    {"sendmail", 0, DELIVER_SENDMAIL}, {"mbox:", 1, DELIVER_MBOX},
	    {"maildir:", 1, DELIVER_MAILDIR},
	};

	for (size_t i = 0; v && i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].word);

		if (kinds[i].with_path ? strncmp(v, kinds[i].word, n) != 0
		                       : strcmp(v, kinds[i].word) != 0)
			continue;
		*kind = kinds[i].kind;
		if (kinds[i].with_path &&
		    (v[n] == '\0' || (*path = path_abs(v + n, where_file(x, "deliver"))) == NULL))
			bad(x, "deliver", 0, "deliver = \"%s\": no path after '%s'", v,
			    kinds[i].word);
		else if (kinds[i].with_path)
			check_deliver_folder(x, *path, state_path);
		return;
	}
	bad(x, "deliver", 0,
	    "deliver = \"%s\": must be smtp, sendmail, mbox:PATH, maildir:PATH or stdout",
	    v ? v : "");
}

static void
read_deliver(struct loader *L, cfg_t *root, struct config *cfg)
{
	struct ctx x = {L, root, "root", NULL};

	parse_deliver(&x, cfg_getstr(root, "deliver"), &cfg->deliver, &cfg->deliver_path,
	              cfg->state_path);
}

/*
 * sendmail = "PROGRAM ARGS...": split on blanks, no shell.  Checked only
 * when something delivers through it: a missing program is named here.
 */
static void
read_sendmail(struct loader *L, cfg_t *root, struct config *cfg)
{
	struct ctx x = {L, root, "root", NULL};
	const char *v = cfg_getstr(root, "sendmail"), *p, *prog;
	cfg_t *by;

	for (p = v ? v + strspn(v, " \t") : NULL; p && *p; p += strspn(p, " \t")) {
		size_t n = strcspn(p, " \t");
		char *word = str_ndup(p, n);

		if (strv_push_owned(&cfg->sendmail, word) < 0) {
			free(word);
			bad(&x, NULL, 0, "out of memory");
			return;
		}
		p += n;
	}
	if (!delivery_used(root, cfg, DELIVER_SENDMAIL, "sendmail", &by))
		return;
	if (cfg->sendmail.n == 0) {
		bad(&x, "sendmail", 0, "sendmail = \"%s\": names no program", v ? v : "");
		return;
	}
	prog = cfg->sendmail.v[0];
	if (strchr(prog, '/') != NULL && access(prog, X_OK) < 0)
		bad(&x, "sendmail", 0, "sendmail = \"%s\": %s: %s", v, prog, strerror(errno));
}

static int
valid_name(const char *s)
{
	if (str_empty(s))
		return 0;
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

static void
read_feed(struct loader *L, cfg_t *sec, struct feed_conf *f)
{
	struct ctx x = {L, sec, "feed", cfg_title(sec)};
	const char *url = cfg_getstr(sec, "url"), *why;

	f->name = str_dup(cfg_title(sec));
	locate(L, "feed", x.title, NULL, 0, (const char **)&f->file, &f->line);
	f->file = str_dup(f->file);
	if (!valid_name(f->name))
		bad(&x, NULL, 0, "feed: the name must not be empty nor hold control characters");
	if (url == NULL)
		bad(&x, NULL, 0, "feed '%s' has no url", f->name);
	else if (strncasecmp(url, "file:", 5) == 0) {
		if ((f->url = file_url(url, where_file(&x, "url"))) == NULL)
			bad(&x, "url", 0, "url \"%s\": names no file", url);
	} else if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		bad(&x, "url", 0, "url \"%s\": only http, https and file URLs are supported", url);
	} else if ((why = http_url_problem(url)) != NULL) {
		bad(&x, "url", 0, "url \"%s\" does not parse: %s", url, why);
	} else {
		f->url = str_dup(url);
	}
	f->title = get_str(&x, "title");
	if (get_list(&x, "tags", &f->tags) < 0)
		bad(&x, NULL, 0, "out of memory");
	f->interval = get_duration(&x, "interval");
	f->user_agent = get_str(&x, "user-agent");
	f->insecure = cfg_getbool(sec, "insecure");
	f->proxy = get_proxy(&x);
	f->active = cfg_getbool(sec, "active");
}

static void
check_template(const struct ctx *x, const char *dir, const char *name)
{
	static const char *const ext[] = {".txt", ".html"};

	if (name == NULL || *name == '\0' || strchr(name, '/') || strcmp(name, "..") == 0) {
		bad(x, "template", 0, "template \"%s\": a name, not a path", name ? name : "");
		return;
	}
	for (size_t i = 0; dir && i < 2; i++) {
		char *p = str_printf("%s/%s%s", dir, name, ext[i]);

		if (p && access(p, R_OK) < 0)
			bad(x, "template", 0, "template '%s': %s: %s", name, p, strerror(errno));
		free(p);
	}
}

/*
 * Each recipient's bare address, parsed once: the envelope gets it, the
 * To header the mailbox as written.  A recipient listed twice would get
 * the digest twice.
 */
static void
read_recipients(const struct ctx *x, struct sub_conf *s)
{
	for (size_t i = 0; i < s->to.n; i++) {
		char *a = message_address(s->to.v[i]);

		if (a == NULL || strpbrk(s->to.v[i], "\r\n") != NULL)
			bad(x, "to", (unsigned)i, "to \"%s\": not an email address", s->to.v[i]);
		else if (strv_contains_icase(&s->to_addr, a))
			bad(x, "to", (unsigned)i, "to \"%s\": %s is listed twice", s->to.v[i], a);
		else if (strv_push(&s->to_addr, a) < 0)
			bad(x, NULL, 0, "out of memory");
		free(a);
	}
}

static void
read_sub(struct loader *L, cfg_t *sec, struct config *cfg, struct sub_conf *s)
{
	struct ctx x = {L, sec, "subscription", cfg_title(sec)};
	const char **names;
	char hint[HINT_MAX];

	s->name = str_dup(cfg_title(sec));
	locate(L, "subscription", x.title, NULL, 0, (const char **)&s->file, &s->line);
	s->file = str_dup(s->file);
	if (!valid_name(s->name))
		bad(&x, NULL, 0,
		    "subscription: the name must not be empty nor hold control characters");
	if (get_list(&x, "to", &s->to) < 0 || get_list(&x, "feeds", &s->feeds) < 0 ||
	    get_list(&x, "tags", &s->tags) < 0 ||
	    get_list(&x, "exclude-tags", &s->exclude_tags) < 0)
		bad(&x, NULL, 0, "out of memory");
	if (s->to.n == 0)
		bad(&x, "to", 0, "subscription '%s' has no recipients: to = {\"you@example.org\"}",
		    s->name);
	read_recipients(&x, s);
	s->deliver = cfg->deliver;
	if (cfg_getstr(sec, "deliver") != NULL)
		parse_deliver(&x, cfg_getstr(sec, "deliver"), &s->deliver, &s->deliver_path,
		              cfg->state_path);
	else if (cfg->deliver_path != NULL &&
	         (s->deliver_path = str_dup(cfg->deliver_path)) == NULL)
		bad(&x, NULL, 0, "out of memory");
	names = calloc(cfg->nfeeds + 1, sizeof *names);
	for (size_t i = 0; names && i < cfg->nfeeds; i++)
		names[i] = cfg->feeds[i].name ? cfg->feeds[i].name : "";
	for (size_t i = 0; i < s->feeds.n; i++) {
		if (config_feed(cfg, s->feeds.v[i]))
			continue;
		bad(&x, "feeds", (unsigned)i, "subscription '%s': no feed named '%s'%s", s->name,
		    s->feeds.v[i],
		    names ? did_you_mean(hint, s->feeds.v[i], names, cfg->nfeeds) : "");
	}
	free(names);
	s->subject = get_str(&x, "subject");
	if (s->subject && strpbrk(s->subject, "\r\n"))
		bad(&x, "subject", 0, "subject holds a line break");
	s->template = get_str(&x, "template");
	check_template(&x, cfg->templates_dir, s->template);
	s->max_items = get_int(&x, "max-items", 0, 100000000);
	s->full_items_per_feed = get_int(&x, "full-items-per-feed", 0, 100000000);
	s->first_run = get_duration(&x, "first-run");
	s->list_unsubscribe = get_str(&x, "list-unsubscribe");
	/* The message writer's own rule: a value it would refuse fails every run. */
	if (s->list_unsubscribe && !message_list_unsubscribe_ok(s->list_unsubscribe))
		bad(&x, "list-unsubscribe", 0,
		    "list-unsubscribe \"%s\": a mailto: or http(s) URL of printable ASCII, "
		    "without spaces or <>\"\\, (900 characters at most)",
		    s->list_unsubscribe);
}

static void
read_globals(struct loader *L, cfg_t *root, struct config *cfg)
{
	struct ctx x = {L, root, "root", NULL};
	const char *from = cfg_getstr(root, "from");

	if (from == NULL)
		bad(&x, NULL, 0, "from is not set: from = \"Tidings <tidings@example.org>\"");
	check_address(&x, "from", 0, from);
	cfg->from = str_dup(from);
	cfg->state_path = get_path(&x, "state");
	if (cfg->state_path == NULL && cfg_getstr(root, "state") == NULL &&
	    (cfg->state_path = default_state_path()) == NULL)
		bad(&x, NULL, 0, "no state file: set state (HOME is not set)");
	cfg->templates_dir = get_path(&x, "templates");
	if (cfg->templates_dir == NULL && cfg_getstr(root, "templates") == NULL)
		cfg->templates_dir = str_dup(PKGDATADIR);
	cfg->retention = get_duration(&x, "state-retention");
}

static void
build(struct loader *L, cfg_t *root, struct config *cfg)
{
	unsigned nf = cfg_size(root, "feed"), ns = cfg_size(root, "subscription");

	read_globals(L, root, cfg);
	read_fetch(L, root, &cfg->fetch);
	read_deliver(L, root, cfg);
	read_sendmail(L, root, cfg);
	read_smtp(L, root, cfg);
	cfg->feeds = calloc(nf ? nf : 1, sizeof *cfg->feeds);
	cfg->subs = calloc(ns ? ns : 1, sizeof *cfg->subs);
	if (cfg->feeds == NULL || cfg->subs == NULL) {
		say(L, L->path, 1, 0, "out of memory");
		return;
	}
	for (unsigned i = 0; i < nf; i++, cfg->nfeeds++)
		read_feed(L, cfg_getnsec(root, "feed", i), &cfg->feeds[i]);
	for (unsigned i = 0; i < ns; i++, cfg->nsubs++)
		read_sub(L, cfg_getnsec(root, "subscription", i), cfg, &cfg->subs[i]);
}

/* --- the schema --------------------------------------------------------- */

static void
watch(cfg_opt_t *opts)
{
	for (; opts->name; opts++)
		if (opts->type != CFGT_SEC && opts->type != CFGT_FUNC)
			opts->validcb = on_value;
}

static void
loader_free(struct loader *L)
{
	for (size_t i = 0; i < L->nw; i++) {
		free(L->w[i].key);
		free(L->w[i].file);
	}
	free(L->w);
	free(L->wi.slot);
	for (size_t i = 0; i < L->nb; i++) {
		free(L->b[i].kind);
		free(L->b[i].title);
		free(L->b[i].file);
	}
	free(L->b);
	free(L->bi.slot);
	for (size_t i = 0; i < L->nmaps; i++) {
		free(L->maps[i].file);
		free(L->maps[i].lib);
	}
	free(L->maps);
	for (size_t i = 0; i < L->secrets.n; i++)
		explicit_bzero(L->secrets.v[i], strlen(L->secrets.v[i]));
	strv_free(&L->secrets);
}

int
config_load(const char *path, struct config *cfg, FILE *diag, struct err *e)
{
	cfg_opt_t fetch_opts[] = {CFG_INT("timeout", 30, CFGF_NONE),
	                          CFG_INT("parallel", 8, CFGF_NONE),
	                          CFG_INT("per-host", 2, CFGF_NONE),
	                          CFG_STR("max-size", "10M", CFGF_NONE),
	                          CFG_STR("user-agent", NULL, CFGF_NONE),
	                          CFG_INT("report-after", 3, CFGF_NONE),
	                          CFG_INT("max-pages", 50, CFGF_NONE),
	                          CFG_STR("proxy", NULL, CFGF_NONE),
	                          CFG_END()};
	cfg_opt_t smtp_opts[] = {CFG_STR("host", NULL, CFGF_NONE),
	                         CFG_INT("port", 0, CFGF_NONE),
	                         CFG_STR("tls", "starttls", CFGF_NONE),
	                         CFG_BOOL("verify", cfg_true, CFGF_NONE),
	                         CFG_STR("ca-file", NULL, CFGF_NONE),
	                         CFG_STR("user", NULL, CFGF_NONE),
	                         CFG_STR("password", NULL, CFGF_NONE),
	                         CFG_STR("password-file", NULL, CFGF_NONE),
	                         CFG_STR("password-command", NULL, CFGF_NONE),
	                         CFG_STR("auth", NULL, CFGF_NONE),
	                         CFG_STR("helo", NULL, CFGF_NONE),
	                         CFG_INT("sessions", 1, CFGF_NONE),
	                         CFG_BOOL("allow-plaintext", cfg_false, CFGF_NONE),
	                         CFG_INT("timeout", 60, CFGF_NONE),
	                         CFG_END()};
	cfg_opt_t feed_opts[] = {CFG_STR("url", NULL, CFGF_NONE),
	                         CFG_STR("title", NULL, CFGF_NONE),
	                         CFG_STR_LIST("tags", NULL, CFGF_NONE),
	                         CFG_STR("interval", "0", CFGF_NONE),
	                         CFG_STR("user-agent", NULL, CFGF_NONE),
	                         CFG_BOOL("insecure", cfg_false, CFGF_NONE),
	                         CFG_STR("proxy", NULL, CFGF_NONE),
	                         CFG_BOOL("active", cfg_true, CFGF_NONE),
	                         CFG_END()};
	cfg_opt_t sub_opts[] = {CFG_STR_LIST("to", NULL, CFGF_NONE),
	                        CFG_STR_LIST("feeds", NULL, CFGF_NONE),
	                        CFG_STR_LIST("tags", NULL, CFGF_NONE),
	                        CFG_STR_LIST("exclude-tags", NULL, CFGF_NONE),
	                        CFG_STR("subject", "[{{subscription}}] {{headline}}", CFGF_NONE),
	                        CFG_STR("template", "digest", CFGF_NONE),
	                        CFG_INT("max-items", 200, CFGF_NONE),
	                        CFG_INT("full-items-per-feed", 10, CFGF_NONE),
	                        CFG_STR("first-run", "7d", CFGF_NONE),
	                        CFG_STR("list-unsubscribe", NULL, CFGF_NONE),
	                        CFG_STR("deliver", NULL, CFGF_NONE),
	                        CFG_END()};
	cfg_opt_t opts[] = {CFG_STR("from", NULL, CFGF_NONE),
	                    CFG_STR("state", NULL, CFGF_NONE),
	                    CFG_STR("templates", NULL, CFGF_NONE),
	                    CFG_STR("state-retention", "90d", CFGF_NONE),
	                    CFG_STR("deliver", "smtp", CFGF_NONE),
	                    CFG_STR("sendmail", "/usr/sbin/sendmail", CFGF_NONE),
	                    CFG_FUNC("include", on_include),
	                    CFG_SEC("fetch", fetch_opts, CFGF_NONE),
	                    CFG_SEC("smtp", smtp_opts, CFGF_NONE),
	                    CFG_SEC("feed", feed_opts, CFGF_MULTI | CFGF_TITLE),
	                    CFG_SEC("subscription", sub_opts, CFGF_MULTI | CFGF_TITLE),
	                    CFG_END()};
	struct loader L = {0};
	cfg_t *root = NULL;
	int rc;

	memset(cfg, 0, sizeof *cfg);
	L.diag = diag;
	if ((cfg->path = abs_config_path(path)) == NULL || (cfg->dir = path_dir(cfg->path)) == NULL) {
		config_free(cfg);
		return err_oom(e);
	}
	L.path = cfg->path;
	L.schema = opts;
	active = &L;
	rc = scan_file(&L, cfg->path);
	if (rc > 0) {
		active = NULL;
		err_set(e, EX_CONFIG, "%s: %d error%s", cfg->path, L.nerr, L.nerr == 1 ? "" : "s");
		config_free(cfg);
		loader_free(&L);
		return -1;
	}
	if (rc < 0) {
		int saved = errno;

		active = NULL;
		/* One line, in e: the caller prints it (not in diag as well). */
		err_set(e, EX_CONFIG, "%s: %s", cfg->path, strerror(saved));
		config_free(cfg);
		loader_free(&L);
		return -1;
	}
	watch(fetch_opts);
	watch(smtp_opts);
	watch(feed_opts);
	watch(sub_opts);
	watch(opts);
	if ((root = cfg_init(opts, CFGF_NONE)) == NULL) {
		active = NULL;
		config_free(cfg);
		loader_free(&L);
		return err_oom(e);
	}
	L.root = root;
	cfg_set_error_function(root, on_cfg_error);
	/* The section cfg_init() made already copied the null error function. */
	cfg_set_error_function(cfg_getsec(root, "smtp"), on_cfg_error);
	cfg_set_error_function(cfg_getsec(root, "fetch"), on_cfg_error);
	rc = cfg_parse(root, cfg->path);
	if (rc == CFG_FILE_ERROR)
		say(&L, cfg->path, 1, 0, "cannot read: %s", strerror(errno));
	else if (rc == CFG_SUCCESS)
		build(&L, root, cfg);
	else if (L.nerr == 0)
		say(&L, cfg->path, 1, 0, "cannot parse");
	active = NULL;
	cfg_free(root);
	rc = L.nerr;
	loader_free(&L);
	if (rc > 0) {
		err_set(e, EX_CONFIG, "%s: %d error%s", cfg->path, rc, rc == 1 ? "" : "s");
		config_free(cfg);
		return -1;
	}
	return 0;
}

/* --- the rest ------------------------------------------------------------ */

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; cfg->feeds && i < cfg->nfeeds; i++) {
		struct feed_conf *f = &cfg->feeds[i];

		free(f->name);
		free(f->url);
		free(f->title);
		strv_free(&f->tags);
		free(f->user_agent);
		free(f->proxy);
		free(f->file);
	}
	for (size_t i = 0; cfg->subs && i < cfg->nsubs; i++) {
		struct sub_conf *s = &cfg->subs[i];

		free(s->name);
		strv_free(&s->to);
		strv_free(&s->to_addr);
		free(s->deliver_path);
		strv_free(&s->feeds);
		strv_free(&s->tags);
		strv_free(&s->exclude_tags);
		free(s->subject);
		free(s->template);
		free(s->list_unsubscribe);
		free(s->file);
	}
	free(cfg->feeds);
	free(cfg->subs);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->from);
	free(cfg->state_path);
	free(cfg->templates_dir);
	free(cfg->deliver_path);
	strv_free(&cfg->sendmail);
	free(cfg->fetch.user_agent);
	free(cfg->fetch.proxy);
	free(cfg->smtp.host);
	free(cfg->smtp.ca_file);
	free(cfg->smtp.user);
	free(cfg->smtp.helo);
	if (cfg->smtp.password)
		explicit_bzero(cfg->smtp.password, strlen(cfg->smtp.password));
	free(cfg->smtp.password);
	memset(cfg, 0, sizeof *cfg);
}

const struct feed_conf *
config_feed(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nfeeds; i++)
		if (str_eq(cfg->feeds[i].name, name))
			return &cfg->feeds[i];
	return NULL;
}

const struct sub_conf *
config_sub(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsubs; i++)
		if (str_eq(cfg->subs[i].name, name))
			return &cfg->subs[i];
	return NULL;
}

static void
print_list(FILE *out, const char *label, const struct strv *v, const char *none)
{
	fprintf(out, "; %s: ", label);
	if (v->n == 0)
		fputs(none, out);
	for (size_t i = 0; i < v->n; i++)
		fprintf(out, "%s%s", i ? ", " : "", v->v[i]);
}

/* "smtp HOST:PORT (...)", "mbox PATH", ... for check's summary. */
void
config_print_delivery(FILE *out, const struct config *cfg, enum deliver_kind kind,
                      const char *path)
{
	static const char *const tls[] = {"starttls", "no TLS", "implicit TLS"};

	switch (kind) {
	case DELIVER_SMTP:
		fprintf(out, "smtp %s:%d (%s%s%s)", cfg->smtp.host, cfg->smtp.port,
		        tls[cfg->smtp.tls], cfg->smtp.user ? ", as " : "",
		        cfg->smtp.user ? cfg->smtp.user : "");
		break;
	case DELIVER_MBOX: fprintf(out, "mbox %s", path); break;
	case DELIVER_MAILDIR: fprintf(out, "maildir %s", path); break;
	case DELIVER_STDOUT: fprintf(out, "stdout"); break;
	case DELIVER_SENDMAIL:
		fprintf(out, "sendmail");
		for (size_t i = 0; i < cfg->sendmail.n; i++)
			fprintf(out, " %s", cfg->sendmail.v[i]);
		break;
	}
}

void
config_summary(const struct config *cfg, FILE *out)
{
	fprintf(out, "%s: %zu feed%s, %zu subscription%s\n", cfg->path, cfg->nfeeds,
	        cfg->nfeeds == 1 ? "" : "s", cfg->nsubs, cfg->nsubs == 1 ? "" : "s");
	fprintf(out, "deliver: ");
	config_print_delivery(out, cfg, cfg->deliver, cfg->deliver_path);
	fputc('\n', out);
	for (size_t i = 0, n = 0; i < cfg->nfeeds; i++)
		if (!cfg->feeds[i].active)
			fprintf(out, "%s%s",
			        n++ ? ", " : "paused (active = false): ", cfg->feeds[i].name);
	for (size_t i = 0; i < cfg->nfeeds; i++)
		if (!cfg->feeds[i].active) {
			fputc('\n', out);
			break;
		}
	for (size_t i = 0; i < cfg->nsubs; i++) {
		const struct sub_conf *s = &cfg->subs[i];

		fprintf(out, "subscription %s", s->name);
		print_list(out, "to", &s->to, "nobody");
		print_list(out, "feeds", &s->feeds, "all");
		print_list(out, "tags", &s->tags, "all");
		print_list(out, "exclude-tags", &s->exclude_tags, "none");
		fprintf(out, "; template %s", s->template);
		if (s->deliver != cfg->deliver || !str_eq(s->deliver_path, cfg->deliver_path)) {
			fprintf(out, "; deliver ");
			config_print_delivery(out, cfg, s->deliver, s->deliver_path);
		}
		fputc('\n', out);
	}
}

int
config_open(const char *path, struct config *cfg, FILE *diag, struct err *e)
{
	char *fallback = NULL;
	int rc;

	if (path == NULL && (path = fallback = config_default_path()) == NULL)
		return err_oom(e);
	rc = config_load(path, cfg, diag, e);
	free(fallback);
	return rc;
}
