/*
 * conftree: the parsed configuration, and the parser filling it from
 * confscan's tokens.  See conftree.h.
 */
#include "conftree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FRAMES_MAX 4 /* root and its sections: the schema nests no deeper */

struct ct_loc {
	const char *file; /* interned in the tree, or NULL: never set */
	int line;
};

struct ct_slot {
	const char *s;    /* a string option's value */
	long n;           /* an integer's, or a boolean's 0 or 1 */
	struct ct_loc at; /* where value i was set last */
};

struct ct_opt {
	const cfg_opt_t *def;
	/* The values (strings owned), n of them.  Their places outlive them:
	 * a list set again keeps those beyond its new end, a section replaced
	 * keeps them all (nat of them), as libconfuse's callers saw them. */
	struct ct_slot *v; /* strings in the tree's chunks */
	unsigned n, nat, cap;
	struct ct_sec **sec; /* a section option's sections, in file order */
	unsigned nsec, capsec;
	int reset; /* the next value replaces the values (defaults, or after `=`) */
	int dflt;  /* holds the schema's default (not copied: thousands of sections have it) */
};

struct ct_sec {
	const char *kind;
	const char *title;  /* NULL when untitled; in the tree's chunks */
	struct ct_loc at;   /* where it starts: its first block, else line 1 of the top file */
	int placed;         /* at is its first block's */
	struct ct_opt *opt; /* one per schema option */
	unsigned nopt;
};

/* --- the tree ------------------------------------------------------------ */

static int
grow(void **v, unsigned *cap, unsigned need, size_t size)
{
	unsigned c = *cap ? *cap : 1;
	void *nv;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if ((nv = realloc(*v, (size_t)c * size)) == NULL)
		return -1;
	*v = nv;
	*cap = c;
	return 0;
}

static void sec_free(struct ct_sec *s);

static void
opt_clear(struct ct_opt *o)
{
	o->n = 0;
	o->dflt = 0;
}

static int sec_defaults(struct conftree *T, struct ct_sec *s, const cfg_opt_t *schema);

/* A new section of kind at file:line, in the tree's chunks. */
static struct ct_sec *
sec_new(struct conftree *T, const char *kind, const char *file, int line)
{
	struct ct_sec *s = confscan_mem_alloc(&T->mem, sizeof *s);

	if (s) {
		s->kind = kind;
		s->at = (struct ct_loc){.file = file, .line = line};
	}
	return s;
}

/* The option's default, as libconfuse's cfg_init_defaults() gives it: a
 * plain section made empty, no list and no titled section, else one value
 * (the schema's, read from there). */
static int
opt_default(struct conftree *T, struct ct_opt *o)
{
	const cfg_opt_t *d = o->def;
	struct ct_sec *s;

	o->reset = 1;
	if (d->type == CFGT_SEC && !(d->flags & CFGF_MULTI)) {
		if (grow((void **)&o->sec, &o->capsec, 1, sizeof *o->sec) < 0 ||
		    (s = sec_new(T, d->name, T->path, 1)) == NULL)
			return -1;
		o->sec[o->nsec++] = s;
		return sec_defaults(T, s, d->subopts);
	}
	o->dflt = d->type != CFGT_SEC && d->type != CFGT_FUNC && !(d->flags & CFGF_LIST);
	return 0;
}

/* s gets its options from schema, at their defaults (kept: where they were set). */
static int
sec_defaults(struct conftree *T, struct ct_sec *s, const cfg_opt_t *schema)
{
	unsigned n = 0;

	while (schema[n].name)
		n++;
	if (s->opt == NULL) {
		if ((s->opt = confscan_mem_alloc(&T->mem, (n ? n : 1) * sizeof *s->opt)) == NULL)
			return -1;
		s->nopt = n;
	}
	for (unsigned i = 0; i < n; i++) {
		struct ct_opt *o = &s->opt[i];

		o->def = &schema[i];
		opt_clear(o);
		for (unsigned k = 0; k < o->nsec; k++)
			sec_free(o->sec[k]);
		free(o->sec);
		o->sec = NULL;
		o->nsec = o->capsec = 0;
		if (opt_default(T, o) < 0)
			return -1;
	}
	return 0;
}

/* What of s the tree's chunks do not hold: the arrays of its sections. */
static void
sec_free(struct ct_sec *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->nopt; i++) {
		struct ct_opt *o = &s->opt[i];

		for (unsigned k = 0; k < o->nsec; k++)
			sec_free(o->sec[k]);
		free(o->sec);
		o->sec = NULL;
		o->nsec = o->capsec = 0;
	}
}

static struct ct_opt *
find(const struct ct_sec *s, const char *name)
{
	for (unsigned i = 0; s && i < s->nopt; i++) {
		const char *n = s->opt[i].def->name;

		/* config.c asks with the schema's own literals, mostly. */
		if (n == name || (n[0] == name[0] && strcmp(n, name) == 0))
			return &s->opt[i];
	}
	return NULL;
}

const char *
conftree_file(struct conftree *T, const char *file)
{
	for (size_t i = T->files.n; i-- > 0;)
		if (strcmp(T->files.v[i], file) == 0)
			return T->files.v[i];
	return strv_push(&T->files, file) < 0 ? NULL : T->files.v[T->files.n - 1];
}

int
conftree_init(struct conftree *T, cfg_opt_t *schema, const char *path)
{
	*T = (struct conftree){.schema = schema};
	if ((T->path = conftree_file(T, path)) == NULL ||
	    (T->root = sec_new(T, "root", T->path, 1)) == NULL)
		return -1;
	return sec_defaults(T, T->root, schema);
}

void
conftree_free(struct conftree *T)
{
	sec_free(T->root);
	confscan_mem_free(&T->mem);
	strv_free(&T->files);
	*T = (struct conftree){0};
}

/* The section of option o titled title, if there is one. */
static struct ct_sec *
titled(const struct ct_opt *o, const char *title)
{
	for (unsigned i = 0; i < o->nsec; i++)
		if (str_eq(o->sec[i]->title, title))
			return o->sec[i];
	return NULL;
}

struct ct_sec *
conftree_section(struct conftree *T, struct ct_sec *in, const char *name, const char *title,
                 int search, const char *file, int line)
{
	struct ct_opt *o;
	struct ct_sec *s;

	if ((o = find(in, name)) == NULL || o->def->type != CFGT_SEC)
		return NULL;
	if (!(o->def->flags & CFGF_MULTI)) { /* the one made with the defaults */
		s = o->sec[0];
		if (!s->placed)
			s->at = (struct ct_loc){.file = file, .line = line};
		s->placed = 1;
		return s;
	}
	if (search && title && (s = titled(o, title)) != NULL) /* replaced, in its place */
		return sec_defaults(T, s, o->def->subopts) < 0 ? NULL : s;
	if (grow((void **)&o->sec, &o->capsec, o->nsec + 1, sizeof *o->sec) < 0 ||
	    (s = sec_new(T, o->def->name, file, line)) == NULL)
		return NULL;
	s->placed = 1;
	if ((title && (s->title = confscan_mem_dup(&T->mem, title, strlen(title))) == NULL) ||
	    sec_defaults(T, s, o->def->subopts) < 0) {
		sec_free(s);
		return NULL;
	}
	o->sec[o->nsec++] = s;
	return s;
}

/* Room for slot idx, its place known (or NULL).  Slots live in the tree's
 * chunks: outgrown ones stay there, unused, until the tree goes. */
static int
slot(struct conftree *T, struct ct_opt *o, unsigned idx)
{
	if (idx >= o->cap) {
		unsigned cap = o->cap ? o->cap * 2 : 1;
		struct ct_slot *v;

		while (cap <= idx)
			cap *= 2;
		if ((v = confscan_mem_alloc(&T->mem, cap * sizeof *v)) == NULL)
			return -1;
		if (o->nat)
			memcpy(v, o->v, o->nat * sizeof *v);
		o->v = v;
		o->cap = cap;
	}
	while (o->nat <= idx)
		o->v[o->nat++].at = (struct ct_loc){.file = NULL};
	return 0;
}

static int
note_at(struct conftree *T, struct ct_opt *o, unsigned idx, const char *file, int line)
{
	if (slot(T, o, idx) < 0)
		return -1;
	o->v[idx].at = (struct ct_loc){.file = file, .line = line};
	return 0;
}

int
conftree_set_at(struct conftree *T, struct ct_sec *s, const char *name, unsigned idx,
                const char *file, int line)
{
	struct ct_opt *o = find(s, name);

	return o ? note_at(T, o, idx, file, line) : -1;
}

/* The value after the reset an `=` asks for. */
static int
append(struct conftree *T, struct ct_opt *o, const char *str, long n)
{
	if (o->reset) {
		opt_clear(o);
		o->reset = 0;
	}
	o->dflt = 0;
	if (slot(T, o, o->n) < 0)
		return -1;
	o->v[o->n].s = str;
	o->v[o->n++].n = n;
	return 0;
}

int
conftree_append(struct conftree *T, struct ct_sec *s, const char *name, const char *str, long n)
{
	struct ct_opt *o = find(s, name);
	char *copy = NULL;

	if (o == NULL || (str && (copy = confscan_mem_dup(&T->mem, str, strlen(str))) == NULL))
		return -1;
	return append(T, o, copy, n);
}

/* --- reading it ------------------------------------------------------------ */

const char *
ct_title(const struct ct_sec *s)
{
	return s ? s->title : NULL;
}

unsigned
ct_size(const struct ct_sec *s, const char *name)
{
	const struct ct_opt *o = find(s, name);

	return o == NULL ? 0 : o->def->type == CFGT_SEC ? o->nsec : o->dflt ? 1 : o->n;
}

const char *
ct_getnstr(const struct ct_sec *s, const char *name, unsigned idx)
{
	const struct ct_opt *o = find(s, name);

	if (o == NULL || o->def->type != CFGT_STR)
		return NULL;
	if (o->dflt)
		return idx == 0 ? o->def->def.string : NULL;
	return idx < o->n ? o->v[idx].s : NULL;
}

const char *
ct_getstr(const struct ct_sec *s, const char *name)
{
	return ct_getnstr(s, name, 0);
}

long
ct_getint(const struct ct_sec *s, const char *name)
{
	const struct ct_opt *o = find(s, name);

	if (o == NULL || o->def->type != CFGT_INT)
		return 0;
	return o->dflt ? o->def->def.number : o->n ? o->v[0].n : 0;
}

int
ct_getbool(const struct ct_sec *s, const char *name)
{
	const struct ct_opt *o = find(s, name);

	if (o == NULL || o->def->type != CFGT_BOOL)
		return 0;
	return o->dflt ? (int)o->def->def.boolean : o->n ? (int)o->v[0].n : 0;
}

struct ct_sec *
ct_getnsec(const struct ct_sec *s, const char *name, unsigned idx)
{
	const struct ct_opt *o = find(s, name);

	return o && idx < o->nsec ? o->sec[idx] : NULL;
}

struct ct_sec *
ct_getsec(const struct ct_sec *s, const char *name)
{
	return ct_getnsec(s, name, 0);
}

int
ct_was_set(const struct ct_sec *s, const char *name, unsigned idx)
{
	const struct ct_opt *o = find(s, name);

	return o && idx < o->nat && o->v[idx].at.file != NULL;
}

void
ct_locate(const struct ct_sec *s, const char *name, unsigned idx, const char **file, int *line)
{
	const struct ct_opt *o = name ? find(s, name) : NULL;

	if (o && idx < o->nat && o->v[idx].at.file) {
		*file = o->v[idx].at.file;
		*line = o->v[idx].at.line;
		return;
	}
	*file = s->at.file;
	*line = s->at.line;
}

/* --- the parser ------------------------------------------------------------ */

/* libconfuse's parser states (cfg_parse_internal), by what comes next. */
enum {
	P_NAME,      /* an option name, or a section's '}' */
	P_EQUALS,    /* = or += */
	P_VALUE,     /* a value, or a list's '}' */
	P_LIST,      /* a list's '{', or its one value */
	P_SEP,       /* a list's ',' or '}' */
	P_BRACE,     /* a section's '{' */
	P_TITLE,     /* a section's title */
	P_PAREN,     /* a function's '(' */
	P_ARG,       /* a function's argument or ')' */
	P_ARG_COMMA, /* a function's ',' or ')' */
};

struct frame {
	struct ct_sec *sec;
	int state;
	struct ct_opt *opt;  /* the option named */
	const char *at_file; /* where its name is: a section starts there */
	int at_line;
	const char *title;
	unsigned nvals; /* values in the list so far */
};

struct parser {
	struct conftree *T;
	const struct conftree_load *ld;
	struct frame f[FRAMES_MAX];
	int depth;
	const char *file; /* the file being read (interned) */
	int line;         /* where the token read ends: libconfuse's place for a problem */
	int lexline;      /* where libconfuse's lexer had it end (${...}'s lines not counted) */
	int includes;     /* files included and still open */
	struct strv args; /* a function's arguments */
	int failed;       /* said, or out of memory: the parse is over */
};

static void __attribute__((format(printf, 2, 3))) fail(struct parser *P, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	confscan_emit(P->ld->scan, P->file, P->line, 0, msg);
	P->failed = 1;
}

/* A string option's value (the token's text, kept with the tree's), or a
 * typed one, as libconfuse's cfg_setopt() reads it. */
static void
set_value(struct parser *P, struct frame *fr, const struct confscan_tok *t)
{
	static const char *const yes[] = {"true", "on", "yes"}, *const no[] = {"false", "off",
	                                                                       "no"};
	struct ct_opt *o = fr->opt;
	char *end, *text = t->text;
	long n = 0;
	int b = -1;

	if (o->def->type == CFGT_INT) {
		errno = 0;
		n = strtol(text, &end, 0);
		if (*end != '\0')
			return fail(P, "invalid integer value for option '%s'", o->def->name);
		if (errno == ERANGE)
			return fail(P, "integer value for option '%s' is out of range",
			            o->def->name);
	} else if (o->def->type == CFGT_BOOL) {
		for (size_t i = 0; i < 3 && b < 0; i++)
			b = strcasecmp(text, yes[i]) == 0  ? 1
			    : strcasecmp(text, no[i]) == 0 ? 0
			                                   : -1;
		if (b < 0)
			return fail(P, "invalid boolean value for option '%s'", o->def->name);
		n = b;
	}
	if (append(P->T, o, o->def->type == CFGT_STR ? text : NULL, n) < 0 ||
	    note_at(P->T, o, o->n - 1, P->file, P->line) < 0)
		P->failed = 1;
}

/* The token as libconfuse's messages quote it. */
static const char *
tok_text(const struct confscan_tok *t)
{
	static const char punct[] = "{}()=,";
	static const char *const text[] = {"{", "}", "(", ")", "=", ","};
	const char *p;

	if (t->type == 'S' || t->type == 'C')
		return t->text;
	if (t->type == '+')
		return "+=";
	p = strchr(punct, t->type);
	return p ? text[p - punct] : "";
}

static void parse_toks(struct parser *P, const char *file, struct confscan_toks *k);

/* include("file"): read in place, as libconfuse's lexer does. */
static void
include(struct parser *P)
{
	struct confscan_toks k = {.v = NULL};
	const char *name = P->args.n ? P->args.v[0] : "";
	char *path;
	int rc;

	if (P->args.n != 1)
		return fail(P, "include() takes one file name");
	if ((path = P->ld->resolve(name, P->file)) == NULL)
		return fail(P, "include(\"%s\"): cannot resolve the path", name);
	/* A file read twice is a loop (or its definitions clash anyway). */
	if (confscan_has_read(P->ld->scan, path)) {
		fail(P, "include(\"%s\"): %s is already read (an include loop)", name, path);
	} else if ((rc = confscan_read(P->ld->scan, path, &k)) > 0) {
		P->failed = 1; /* no configuration at all: said */
	} else if (P->includes >= CONFTREE_INCLUDE_MAX) {
		fail(P, "includes nested too deeply");
	} else if (rc < 0) {
		fail(P, "%s: %s", path, strerror(errno));
	} else {
		P->includes++;
		parse_toks(P, path, &k);
		P->includes--;
	}
	confscan_toks_free(&k);
	free(path);
}

static void
unknown(struct parser *P, struct frame *fr, const char *name)
{
	const char *names[CONFSCAN_NAMES_MAX];
	char hint[CONFSCAN_HINT_MAX];
	size_t n = 0;

	P->failed = 1;
	/* The scanner has named it already, with every other one. */
	if (confscan_unknown_named(P->ld->scan, P->file, P->lexline))
		return;
	for (unsigned i = 0; i < fr->sec->nopt && n < CONFSCAN_NAMES_MAX; i++)
		names[n++] = fr->sec->opt[i].def->name;
	fail(P, "no such option '%s'%s", name, confscan_did_you_mean(hint, name, names, n));
}

/* libconfuse 3.3's title in a path: up to a '|', or '...' with \' and \\;
 * *len: the bytes it takes in name.  NULL when there is none. */
static char *
path_title(const char *name, size_t *len)
{
	struct buf b = BUF_INIT;
	const char *p = name + 1;

	if (*name != '\'') {
		*len = strcspn(name, "|");
		return *len ? str_ndup(name, *len) : NULL;
	}
	for (; *p && *p != '\''; p++) {
		if (*p == '\\' && p[1] != '\'' && p[1] != '\\')
			break;
		p += *p == '\\';
		if (buf_addc(&b, *p) < 0)
			break;
	}
	*len = (size_t)(p - name) + (*p == '\''); /* not past the end of an unclosed one */
	if (*p == '\'')
		return buf_steal(&b);
	buf_free(&b);
	return NULL;
}

/* The index of o's section titled title, or -1. */
static long
title_index(const struct ct_opt *o, const char *title)
{
	for (unsigned i = 0; i < o->nsec; i++)
		if (str_eq(o->sec[i]->title, title))
			return (long)i;
	return -1;
}

/* The next section on a path: name's first len bytes name an option of s. */
static struct ct_sec *
path_step(struct parser *P, struct ct_sec *s, const char **name, size_t len)
{
	char *sec = str_ndup(*name, len), *title = NULL, *end;
	struct ct_opt *o = sec ? find(s, sec) : NULL;
	long i = -1;

	if (o && o->def->type == CFGT_SEC && (*name)[len] != '=') {
		i = 0; /* "sec|opt": the first */
	} else if (o && o->def->type == CFGT_SEC && (o->def->flags & CFGF_MULTI)) {
		*name += len + 1;
		if ((title = path_title(*name, &len)) != NULL && (o->def->flags & CFGF_TITLE))
			i = title_index(o, title);
		else if (title && ((i = strtol(title, &end, 0)), *end != '\0'))
			i = -1;
	} else if (!o || o->def->type != CFGT_SEC) {
		o = NULL;
	}
	s = o && i >= 0 && (unsigned long)i < o->nsec ? o->sec[i] : NULL;
	if (s == NULL && sec && o && !(o->def->flags & CFGF_MULTI))
		unknown(P, &P->f[P->depth], sec);
	else if (s == NULL && sec && title)
		fail(P, "no sub-section '%s' in '%s'", title, sec);
	else if (s == NULL && sec)
		fail(P, "no sub-section title/index for '%s'", sec);
	*name += len;
	*name += strspn(*name, "|");
	P->failed |= s == NULL;
	free(sec);
	free(title);
	return s;
}

/* libconfuse 3.3 reads a name holding a '|' or '=' as a path to an
 * option of another section: "sec|opt", "sec=title|opt". */
static struct ct_opt *
find_path(struct parser *P, struct ct_sec *s, const char *name)
{
	struct ct_opt *o;
	size_t len;

	while (*name && (len = strcspn(name, "|=")) > 0 && name[len] != '\0')
		if ((s = path_step(P, s, &name, len)) == NULL)
			return NULL;
	if ((o = find(s, name)) == NULL)
		unknown(P, &P->f[P->depth], name);
	return o;
}

/* An option name, or the '}' closing the section. */
static void
at_name(struct parser *P, struct frame *fr, const struct confscan_tok *t)
{
	const cfg_opt_t *d;

	if (t->type == '}' && P->depth > 0) {
		P->depth--;
		return;
	}
	if (t->type == '}')
		return fail(P, "unexpected closing brace");
	if (t->type != 'S')
		return fail(P, "unexpected token '%s'", tok_text(t));
	if (strpbrk(t->text, "|=") != NULL)
		fr->opt = find_path(P, fr->sec, t->text);
	else if ((fr->opt = find(fr->sec, t->text)) == NULL)
		unknown(P, fr, t->text);
	if (fr->opt == NULL)
		return;
	d = fr->opt->def;
	fr->at_file = P->file;
	fr->at_line = t->line;
	fr->state = d->type == CFGT_SEC    ? (d->flags & CFGF_TITLE ? P_TITLE : P_BRACE)
	            : d->type == CFGT_FUNC ? P_PAREN
	                                   : P_EQUALS;
}

static void
at_equals(struct parser *P, struct frame *fr, const struct confscan_tok *t)
{
	int list = (fr->opt->def->flags & CFGF_LIST) != 0;

	if (t->type == '+' && !list)
		return fail(P, "attempt to append to non-list option '%s'", fr->opt->def->name);
	if (t->type != '+' && t->type != '=')
		return fail(P, "missing equal sign after option '%s'", fr->opt->def->name);
	fr->opt->reset = t->type == '=';
	fr->state = list ? P_LIST : P_VALUE;
	fr->nvals = 0;
}

static void
at_value(struct parser *P, struct frame *fr, struct confscan_tok *t)
{
	int list = (fr->opt->def->flags & CFGF_LIST) != 0;

	if (t->type == '}' && list) {
		fr->state = P_NAME;
		if (fr->nvals == 0 && fr->opt->reset)
			opt_clear(fr->opt); /* `= {}`: the list is emptied */
		return;
	}
	if (t->type != 'S')
		return fail(P, "unexpected token '%s'", tok_text(t));
	set_value(P, fr, t);
	fr->nvals++;
	fr->state = list ? P_SEP : P_NAME;
}

static void
at_section(struct parser *P, struct frame *fr, const struct confscan_tok *t)
{
	struct ct_sec *s;

	if (t->type != '{')
		return fail(P, "missing opening brace for section '%s'", fr->opt->def->name);
	s = conftree_section(P->T, fr->sec, fr->opt->def->name, fr->title, P->ld->scan->dupes > 0,
	                     fr->at_file, fr->at_line);
	fr->title = NULL;
	fr->state = P_NAME;
	if (s == NULL || P->depth + 1 >= FRAMES_MAX) {
		P->failed = 1;
		return;
	}
	P->f[++P->depth] = (struct frame){.sec = s, .state = P_NAME};
}

static void
at_function(struct parser *P, struct frame *fr, const struct confscan_tok *t)
{
	const char *name = fr->opt->def->name;

	if (fr->state == P_PAREN) {
		if (t->type != '(')
			return fail(P, "missing parenthesis for function '%s'", name);
		strv_free(&P->args);
		fr->state = P_ARG;
	} else if (t->type == ')') {
		fr->state = P_NAME;
		include(P);
	} else if (fr->state == P_ARG && t->type == 'S') {
		if (strv_push(&P->args, t->text) < 0)
			P->failed = 1;
		fr->state = P_ARG_COMMA;
	} else if (fr->state == P_ARG_COMMA && t->type == ',') {
		fr->state = P_ARG;
	} else {
		fail(P, "syntax error in call of function '%s'", name);
	}
}

static void
step(struct parser *P, struct confscan_tok *t)
{
	struct frame *fr = &P->f[P->depth];

	if (t->type == 'C' && fr->state == P_NAME)
		return; /* a comment: elsewhere, libconfuse's "unexpected token" */
	switch (fr->state) {
	case P_NAME: at_name(P, fr, t); break;
	case P_EQUALS: at_equals(P, fr, t); break;
	case P_LIST:
		if (t->type == '{')
			fr->state = P_VALUE;
		else if (t->type != 'S')
			fail(P, "unexpected token '%s'", tok_text(t));
		else
			at_value(P, fr, t), fr->state = P_NAME;
		break;
	case P_VALUE: at_value(P, fr, t); break;
	case P_SEP:
		if (t->type == ',' || t->type == '}')
			fr->state = t->type == ',' ? P_VALUE : P_NAME;
		else
			fail(P, "unexpected token '%s'", tok_text(t));
		break;
	case P_TITLE:
		if (t->type != 'S')
			return fail(P, "missing title for section '%s'", fr->opt->def->name);
		fr->title = t->text;
		fr->state = P_BRACE;
		break;
	case P_BRACE: at_section(P, fr, t); break;
	default: at_function(P, fr, t); break;
	}
}

/* k's texts are the tree's now: its values point into them. */
static void
keep_texts(struct conftree *T, struct confscan_toks *k)
{
	struct confscan_chunk **end = &k->mem;

	while (*end)
		end = &(*end)->next;
	*end = T->mem;
	T->mem = k->mem;
	k->mem = NULL;
}

static void
parse_toks(struct parser *P, const char *file, struct confscan_toks *k)
{
	const char *outer = P->file;

	if ((P->file = conftree_file(P->T, file)) == NULL) {
		P->failed = 1;
		return;
	}
	for (size_t i = 0; i < k->n && !P->failed; i++) {
		P->line = k->v[i].eline;
		P->lexline = k->v[i].eline - k->v[i].vlines;
		/* libconfuse's lexer: a '...' string left open is an error, a "..." one the end. */
		if (k->v[i].unclosed == '\'') {
			P->line = k->eof_line;
			fail(P, "unterminated string constant");
		} else if (k->v[i].unclosed) {
			break;
		} else if (k->v[i].bad != NULL) {
			P->line = k->v[i].bad_line;
			fail(P, "%s", k->v[i].bad);
		} else if (k->v[i].type == '.') {
			continue; /* a byte libconfuse's lexer drops */
		} else if (k->v[i].type == 'S' && k->v[i].text == NULL) {
			P->failed = 1; /* out of memory: the scanner said so */
		} else {
			step(P, &k->v[i]);
		}
	}
	P->file = outer;
	keep_texts(P->T, k);
}

int
conftree_parse(struct conftree *T, const struct conftree_load *ld)
{
	struct parser P = {.T = T, .ld = ld};
	struct confscan_toks k = {.v = NULL};
	int rc;

	if (conftree_init(T, ld->schema, ld->path) < 0) {
		errno = ENOMEM;
		return -1;
	}
	if ((rc = confscan_read(ld->scan, ld->path, &k)) != 0) {
		confscan_toks_free(&k);
		return rc; /* unreadable (errno), or no configuration: said */
	}
	P.f[0] = (struct frame){.sec = T->root, .state = P_NAME};
	parse_toks(&P, ld->path, &k);
	/* libconfuse takes the end of the file for the missing braces. */
	if (!P.failed && P.f[P.depth].state != P_NAME) {
		P.file = T->path;
		P.line = k.eof_line;
		fail(&P, "premature end of file");
	}
	strv_free(&P.args);
	confscan_toks_free(&k);
	return P.failed ? 1 : 0;
}
