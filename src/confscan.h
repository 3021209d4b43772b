/*
 * confscan: each config file read once, as libconfuse's lexer reads it.
 *
 * confscan_read() reads a file into tokens with their real lines (the
 * parser's input: conftree.h) and names on the way what a parser stopping
 * at the first error would not: every unknown option (with a "did you
 * mean"), every unset variable, every section defined twice and every
 * unclosed brace.  confscan_say() prints one "file:line: message" line,
 * passwords masked.  One struct confscan per load, nothing global.
 *
 * The rest serves only the libconfuse parser of the differential test
 * (tests/confuse_legacy.c): confscan_file() keeps a map of libconfuse's
 * line numbers (3.3 miscounts them after comments) back to real ones, and
 * confscan_where_set() / confscan_locate() note where libconfuse set each
 * value.
 */
#ifndef TIDINGS_CONFSCAN_H
#define TIDINGS_CONFSCAN_H

#include <confuse.h>
#include <stdint.h>
#include <stdio.h>

#include "hashset.h"
#include "util.h"

#define CONFSCAN_MAX_BYTES (1024 * 1024) /* a larger file is no configuration */
#define CONFSCAN_HINT_MAX  96            /* " (did you mean '...'?)", a name of at most 64 */
#define CONFSCAN_NAMES_MAX 64            /* option names of one section, for the hint */

/* A token as libconfuse's lexer would give it: 'S' a string (text: its
 * value, escapes and ${VAR} done; NULL when memory ran out), 'C' a
 * comment (text: trimmed), '.' a byte the lexer drops, else one of
 * = + ( ) { } , ('+' is "+=").  line: where it starts; eline: where it
 * ends (a quoted string may span lines). */
struct confscan_tok {
	int type;
	char *text;
	int line, eline;
	int unclosed; /* a string the file ends in: its quote, else 0 */
	int vlines;   /* line ends inside its ${...}: libconfuse's lexer counts none */
	char *bad;    /* an escape libconfuse's lexer refuses: its message, else NULL */
	int bad_line; /* and where */
};

/* Strings side by side in chunks of memory, freed all at once. */
struct confscan_chunk {
	struct confscan_chunk *next;
	size_t used, cap;
	char data[];
};

char *confscan_mem_dup(struct confscan_chunk **mem, const char *p, size_t n);
void *confscan_mem_alloc(struct confscan_chunk **mem, size_t n);
void confscan_mem_free(struct confscan_chunk **mem);

struct confscan_toks {
	struct confscan_tok *v;
	size_t n, cap;
	int eof_line;               /* the file's last line: where an end too early is */
	struct confscan_chunk *mem; /* the texts: take it to keep them */
};

void confscan_toks_free(struct confscan_toks *k);

/* One load's scan.  Fill diag, path and schema (confscan_init); the rest
 * is the scanner's. */
struct confscan {
	FILE *diag;               /* or NULL: count the problems only */
	const char *path;         /* the top file: where a problem without a place is */
	cfg_opt_t *schema;        /* the top-level options */
	int nerr;                 /* problems said (warnings are not counted) */
	int dupes;                /* sections defined twice, so far */
	struct confscan_where *w; /* where each value was set */
	size_t nw, capw;
	struct hashset wi;        /* w by key: thousands of feeds look values up once each */
	struct confscan_block *b; /* where each section starts */
	size_t nb, capb;
	struct hashset bi;             /* b by kind and title */
	struct confscan_linemap *maps; /* one per file read */
	size_t nmaps, capmaps;
	struct strv secrets;        /* passwords seen: never printed */
	struct confscan_toks *sink; /* the tokens of the file being read go here */
	struct confscan_chunk *mem; /* the blocks' strings */
	char *last_file;            /* the last block's file (in mem) */
};

void confscan_init(struct confscan *S, const char *path, cfg_opt_t *schema, FILE *diag);
void confscan_free(struct confscan *S);

/* Read and scan one file: 0; 1 when it is no configuration file at all (too
 * large, or holding a NUL byte: said, and it must not be parsed); -1 (with
 * errno) when it cannot be read. */
int confscan_file(struct confscan *S, const char *path);
/* The same, and the file's tokens appended to out (the parser's input,
 * see conftree.h); no line map is kept. */
int confscan_read(struct confscan *S, const char *path, struct confscan_toks *out);
/* Was path scanned already (an include loop)? */
int confscan_has_read(const struct confscan *S, const char *path);

/* Say msg at file:line (file NULL: the top file), passwords masked,
 * control characters escaped; an error (not a warning) counts in nerr. */
void confscan_emit(struct confscan *S, const char *file, int line, int warning, const char *msg);
void confscan_say(struct confscan *S, const char *file, int line, int warning, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The real line of what libconfuse numbers lib in file. */
int confscan_real_line(const struct confscan *S, const char *file, int lib);
/* Value idx of option opt in section sec (titled title, or NULL) was set at file:line. */
void confscan_where_set(struct confscan *S, const char *sec, const char *title, const char *opt,
                        unsigned idx, const char *file, int line);
/* Was that value set in a file (not a default)? */
int confscan_was_set(const struct confscan *S, const char *sec, const char *title, const char *opt,
                     unsigned idx);
/* Where to point for a value (opt NULL: for its section): where it was set,
 * else where its section starts, else line 1 of the top file. */
void confscan_locate(const struct confscan *S, const char *sec, const char *title, const char *opt,
                     unsigned idx, const char **file, int *line);
/* Has the scanner named an unknown option at file:line (libconfuse need not)? */
int confscan_unknown_named(const struct confscan *S, const char *file, int line);

/* " (did you mean 'x'?)" when name looks like a typo of x in names[], else
 * "".  out holds CONFSCAN_HINT_MAX bytes. */
const char *confscan_did_you_mean(char *out, const char *name, const char *const *names, size_t n);
/* names[] (CONFSCAN_NAMES_MAX of them) gets the option names of opts; returns how many. */
size_t confscan_opt_names(const cfg_opt_t *opts, const char **names);

#endif
