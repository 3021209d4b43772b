/*
 * spool: a big run in little memory (docs/decisions.md).
 *
 * As each feed is parsed, the plan says what the digests may need of each
 * item: nothing, its content, or its rendering.  The spool renders the
 * likely-shown items at once (sanitised HTML, text, links) into a
 * temporary file, stashes the others' raw content there, and frees the
 * content from memory; a digest reads an item back, rendering a stashed
 * one then.  Once the digests are made, items keep only what recording
 * needs.  Parse threads may plan, render and stash at once; reading back
 * is for one thread, after them.
 */
#ifndef TIDINGS_SPOOL_H
#define TIDINGS_SPOOL_H

#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "feed.h"
#include "select.h"
#include "state.h"
#include "util.h"

/* Digests wrap text, an item's rendered text too, to this many columns. */
#define TEXT_WIDTH 72

struct spool;

/*
 * A new spool file in $TMPDIR.  With a log (-v), an item whose content is
 * cut (over a megabyte of HTML, or nested too deep) is told there, and so
 * is an item the spool could not take (it stays in memory).
 */
int spool_new(struct spool **out, FILE *log, struct err *e);
void spool_free(struct spool *s);

/* What the digests may need of an item. */
enum spool_need { NEED_NOTHING, NEED_CONTENT, NEED_RENDERED };

/* What the plan reads: which subscriptions run, and how they select. */
struct spool_plan {
	const struct config *cfg;
	const int *sub_selected; /* per subscription */
	const struct state *st;  /* read: hold the lock of whoever writes it */
	struct select_params select;
};

/*
 * Each item's need: content if a selected subscription may show it,
 * rendering if among the first full-items-per-feed of one, newest first.
 * NULL when out of memory.  Free it.
 */
unsigned char *spool_plan(const struct spool_plan *p, const struct feed_conf *fc,
                          const struct feed *f);
/*
 * Render or stash each item as planned, release from memory what it no
 * longer needs, and pack what stays.  An item the spool cannot take stays
 * whole in memory (and is told on the log); so does every item when need
 * is NULL (the plan ran out of memory).
 */
void spool_keep(struct spool *s, struct feed *f, const struct feed_conf *fc,
                const unsigned char *need);

/*
 * One item's content (else its summary) into the spool, so the caller may
 * free both (its other fields must stay): render renders it now, stash
 * only stores it, to be rendered if a digest shows the item in full.
 */
int spool_render(struct spool *s, const struct item *it, const struct feed_conf *fc, struct err *e);
int spool_stash(struct spool *s, const struct item *it, struct err *e);

/* An item's rendering, in the spool file: read with pread(2). */
struct spooled {
	int fd;
	off_t html_off, text_off, links_off;
	size_t html_len, text_len, links_len; /* links: NUL-terminated URLs, one after the other */
};

/*
 * The item's rendering, made now if it was stashed or never given to the
 * spool (then from its fields).
 */
int spool_read(struct spool *s, const struct item *it, const struct feed_conf *fc,
               struct spooled *out, struct err *e);
/* Its links read back: out holds links_len bytes and a NUL (what it held before is gone). */
int spool_links(const struct spool *s, const struct spooled *r, struct buf *out, struct err *e);

/*
 * The memo: what a digest made of an item (kind is the caller's: with its
 * body or not), kept for the next digest that shows it; a digest shows an
 * item again and again.  Up to SPOOL_MEMO_MAX bytes in all, first come
 * first kept: digests walk items in much the same order, and evicting the
 * least recently used would, once they are more than the bound holds,
 * drop each one just before it is asked for again.  The reading side's,
 * like spool_read; freed with the spool.
 */
#define SPOOL_MEMO_MAX ((size_t)1 << 20)
/* What was kept for (it, kind), its *len bytes; or NULL. */
const char *spool_memo(const struct spool *s, const struct item *it, int kind, size_t *len);
/* Keep n bytes for (it, kind), not kept yet: 1, or 0 past the bound, or -1 out of memory. */
int spool_memo_keep(struct spool *s, const struct item *it, int kind, const void *p, size_t n);
/* Another bound than SPOOL_MEMO_MAX (tests). */
void spool_memo_bound(struct spool *s, size_t max);

/* The digests are made: each item keeps its id and date, no more. */
void spool_keep_for_recording(struct feed *f);
/* Freed pages back to the system, before recording allocates its own. */
void spool_trim(void);

#endif
