/*
 * conftree: tidings.conf parsed into a tree of typed values, each with the
 * file:line it was set at.
 *
 * conftree_parse() reads the tokens confscan yields (one reading of each
 * file) with libconfuse's grammar and semantics: the schema is a
 * cfg_opt_t array (only its declarations: names, types, flags and
 * defaults; no libconfuse code runs), integers are read by strtol(base 0)
 * with libconfuse's range error, booleans are the six words yes/no,
 * true/false, on/off, `=` replaces and `+=` appends to a list, a titled
 * section repeated replaces the first one in its place, include() reads a
 * file in place (ten deep at most), and the first syntax error stops the
 * parse with libconfuse's own message.  The accessors are shaped like
 * libconfuse's (cfg_getstr() is ct_getstr(), ...) so config.c reads the
 * tree as it read libconfuse's.  Nothing global: one tree per load.
 */
#ifndef TIDINGS_CONFTREE_H
#define TIDINGS_CONFTREE_H

#include <confuse.h>

#include "confscan.h"
#include "util.h"

#define CONFTREE_INCLUDE_MAX 10 /* libconfuse's MAX_INCLUDE_DEPTH */

struct ct_sec;

struct conftree {
	struct ct_sec *root;
	cfg_opt_t *schema;
	const char *path;           /* the top file: where a place-less value is */
	struct strv files;          /* every file read: the values' file names point here */
	struct confscan_chunk *mem; /* the strings: titles and values */
};

/* How a load parses, for conftree_parse() and the differential test's
 * libconfuse parser alike. */
struct conftree_load {
	struct confscan *scan; /* messages go through it */
	cfg_opt_t *schema;     /* the top-level options */
	const char *path;      /* the top file, absolute */
	/* include()'s file name made a path (~, relative to base_file): NULL when it cannot be. */
	char *(*resolve)(const char *name, const char *base_file);
};

/* Parse ld->path into T (made here; conftree_free() it whatever the
 * result): 0 parsed; 1 not (the error is said); -1 (errno) when the top
 * file cannot be read, or memory ran out (ENOMEM). */
int conftree_parse(struct conftree *T, const struct conftree_load *ld);
typedef int (*conftree_parser)(struct conftree *T, const struct conftree_load *ld);
void conftree_free(struct conftree *T);

/* --- building a tree (conftree_parse, and the differential test) --- */
int conftree_init(struct conftree *T, cfg_opt_t *schema, const char *path);
/* The interned copy of file (NULL when out of memory). */
const char *conftree_file(struct conftree *T, const char *file);
/* A new section name in section in, placed at file:line (titled: appended,
 * or with search, replacing the one of that title as libconfuse does;
 * untitled: the one there is), or NULL when out of memory. */
struct ct_sec *conftree_section(struct conftree *T, struct ct_sec *in, const char *name,
                                const char *title, int search, const char *file, int line);
/* Append a value to option name (its value: str for a string, n for an
 * integer or a boolean); set_at: also note where. 0, or -1 out of memory. */
int conftree_append(struct conftree *T, struct ct_sec *s, const char *name, const char *str,
                    long n);
/* Value idx of option name was set at file:line (file interned). */
int conftree_set_at(struct conftree *T, struct ct_sec *s, const char *name, unsigned idx,
                    const char *file, int line);

/* --- reading it, as with libconfuse --- */
const char *ct_title(const struct ct_sec *s);
unsigned ct_size(const struct ct_sec *s, const char *name);
const char *ct_getnstr(const struct ct_sec *s, const char *name, unsigned idx);
const char *ct_getstr(const struct ct_sec *s, const char *name);
long ct_getint(const struct ct_sec *s, const char *name);
int ct_getbool(const struct ct_sec *s, const char *name);
struct ct_sec *ct_getnsec(const struct ct_sec *s, const char *name, unsigned idx);
struct ct_sec *ct_getsec(const struct ct_sec *s, const char *name);
/* Where to point for a value (name NULL: for its section): where it was
 * set, else where its section starts, else line 1 of the top file. */
/* Was value idx of name set in a file (not a default)? */
int ct_was_set(const struct ct_sec *s, const char *name, unsigned idx);
void ct_locate(const struct ct_sec *s, const char *name, unsigned idx, const char **file,
               int *line);

#endif
