/*
 * template: Mustache, complete to the official spec.
 *
 * Data is a small tree of values (tval).  A template is compiled once and
 * rendered many times; {{x}} is HTML-escaped when rendering in ESCAPE_HTML
 * mode and verbatim in ESCAPE_NONE mode; {{{x}}} and {{&x}} are always
 * verbatim.  Partials are looked up through a loader the caller supplies.
 */
#ifndef TIDINGS_TEMPLATE_H
#define TIDINGS_TEMPLATE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "util.h"

/* ---- values ---- */
struct tval;

struct tval *tv_null(void);
struct tval *tv_bool(int b);
struct tval *tv_int(long long n);
struct tval *tv_num(const char *text); /* a number as written, e.g. "1.5" */
struct tval *tv_str(const char *s);    /* copies s; NULL s gives tv_null() */
struct tval *tv_strn(const char *s, size_t n);
struct tval *tv_str_owned(char *s); /* takes s */
/* Refers to s (n bytes) without copying: s must outlive the value. */
struct tval *tv_str_borrowed(const char *s, size_t n);
/* n bytes at offset off of fd, read only while rendering: s may be huge. */
struct tval *tv_str_file(int fd, off_t off, size_t n);
struct tval *tv_list(void);
/*
 * A list of n elements made one at a time while a section renders it, and
 * freed right after, so a digest of many thousand items never exists as
 * one tree.  make() returns element i, or NULL with e set (the render
 * fails).  reuse, when not NULL, is an element make() returned before and
 * no longer in use: make() takes it, to fill anew (tv_set_* set a value
 * in place, allocating nothing) or to free.  free_arg(arg) runs when the
 * list is freed (also on failure).  tv_push and tv_at do not apply to it.
 */
typedef struct tval *(*tv_make_fn)(void *arg, size_t i, struct tval *reuse, struct err *e);
struct tval *tv_lazy_list(size_t n, tv_make_fn make, void *arg, void (*free_arg)(void *));
/*
 * The same, the element no longer in use kept in *spare, not in the list:
 * lists whose elements are alike share one, which outlives them (the
 * caller frees it, tv_free(*spare), once no list uses it).
 */
struct tval *tv_lazy_list_shared(size_t n, tv_make_fn make, void *arg, void (*free_arg)(void *),
                                 struct tval **spare);
struct tval *tv_map(void);
/* Container operations take ownership of v, also on failure; -1 on OOM. */
int tv_push(struct tval *list, struct tval *v);
int tv_set(struct tval *map, const char *key, struct tval *v);
/*
 * These set a scalar in place of the scalar key holds, its string memory
 * reused: refilling a map for the next element allocates nothing.
 */
int tv_set_str(struct tval *map, const char *key, const char *s); /* NULL s: tv_null */
int tv_set_strn(struct tval *map, const char *key, const char *s, size_t n);
int tv_set_file(struct tval *map, const char *key, int fd, off_t off, size_t n); /* tv_str_file */
int tv_set_int(struct tval *map, const char *key, long long n);
int tv_set_bool(struct tval *map, const char *key, int b);
/*
 * The list at key, emptied (made if key holds none); its maps are kept and
 * handed out again, in order, by tv_push_map.  NULL on OOM.
 */
struct tval *tv_set_list(struct tval *map, const char *key);
/* A map at the list's end: one kept there, as it was, or a new empty one.  NULL on OOM. */
struct tval *tv_push_map(struct tval *list);
struct tval *tv_get(const struct tval *map, const char *key);
void tv_free(struct tval *v);

/* Reading a tree back (tests, the JSON reader, callers that inspect data). */
enum tv_kind { TV_NULL, TV_BOOL, TV_INT, TV_NUM, TV_STR, TV_LIST, TV_MAP };
enum tv_kind tv_kind(const struct tval *v);         /* TV_NULL for NULL */
size_t tv_len(const struct tval *v);                /* elements of a list or map, else 0 */
struct tval *tv_at(const struct tval *v, size_t i); /* i-th element (list or map value) */
const char *tv_text(const struct tval *v);          /* string or number text, else NULL */

/* ---- templates ---- */
enum escape_mode { ESCAPE_NONE, ESCAPE_HTML };

struct tpl;

/* Return the source of partial `name` (malloc'd, caller frees) or NULL if none. */
typedef char *(*tpl_partial_fn)(const char *name, void *arg);

/*
 * Compile src; name is used in errors ("digest.html:12:5: unclosed section 'feeds'").
 * Partials are resolved and compiled when first rendered.
 */
int tpl_compile(const char *src, const char *name, tpl_partial_fn partials, void *arg,
                struct tpl **out, struct err *e);
int tpl_render(struct tpl *t, const struct tval *data, enum escape_mode mode, struct buf *out,
               struct err *e);
/*
 * Render to fp as rendering goes, in pieces of 64 KiB: memory stays small
 * however large the output.  *written (may be NULL) gets the byte count.
 */
int tpl_render_file(struct tpl *t, const struct tval *data, enum escape_mode mode, FILE *fp,
                    size_t *written, struct err *e);
void tpl_free(struct tpl *t);

/*
 * Bound the work one tpl_render() may do: bytes it appends and nodes it
 * visits (partials and nested lists can multiply both).  Past either, the
 * render fails.  Defaults: 1 GiB and 200 million.
 */
void tpl_set_limits(struct tpl *t, size_t max_output, unsigned long long max_steps);

/* Compile and render once: for templates used a single time (tests, tools). */
int tpl_render_string(const char *src, const char *name, const struct tval *data,
                      enum escape_mode mode, struct buf *out, struct err *e);

#endif
