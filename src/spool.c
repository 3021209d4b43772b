#include "spool.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "hashset.h"
#include "html.h"

/*
 * An item's HTML past this is cut (and the cut shown, with a link to the
 * rest): a megabyte is a short book, and a digest is read in a mail client.
 */
#define CONTENT_MAX (1u << 20)

/*
 * What relative references in an item resolve against: its xml:base, else
 * its own link (so "#section" stays on its page), else the feed's URL.
 * The parser gives the feed's URL as the base when no xml:base is in
 * effect (feed_parse is given fc->url): that is no xml:base.
 */
static const char *
item_base(const struct item *it, const struct feed_conf *fc)
{
	if (it->base != NULL && !str_eq(it->base, fc->url))
		return it->base;
	return it->link != NULL ? it->link : fc->url;
}

/*
 * Item content lives in a spool file, not in memory: a run with sixty
 * thousand new items reads two hundred megabytes of it.  An item is either
 * rendered there already, or its raw content is stashed there to be
 * rendered if a digest shows it in full.  The spool keeps where each
 * item's pieces are.  Links are stored NUL-separated.
 */
struct rendered {
	const struct item *item; /* NULL: empty slot */
	off_t off;               /* rendered: HTML, text, links; else the raw content */
	uint32_t len;            /* rendered: the HTML's length; else the raw content's */
	uint32_t text_len;
	uint32_t links_len;
	uint32_t done; /* rendered */
};

/* Slots are 32 bytes: a run of 60,000 items keeps 130,000 of them. */
#define LEN_MAX      UINT32_MAX
#define text_off(r)  ((r)->off + (off_t)(r)->len)
#define links_off(r) (text_off(r) + (off_t)(r)->text_len)

struct spool {
	struct rendered *slot;
	size_t cap; /* a power of two */
	size_t n;
	FILE *file;
	off_t end;            /* bytes written to the spool */
	int unflushed;        /* written since the last fflush: pread would miss it */
	int broken;           /* errno of a failed write: the spool is not to be trusted */
	const char *dir;      /* where the spool is, for errors */
	FILE *log;            /* -v: cut and unspooled items are told here; or NULL */
	struct buf raw;       /* a stashed item's content, read back */
	pthread_mutex_t lock; /* parse threads prerender and stash at once */
	/* The memo: the reading side's alone (one thread, after the parse threads). */
	struct memo_entry *memo;
	size_t nmemo, capmemo;
	struct hashset memo_index;
	size_t memo_bytes, memo_max;
};

/* What a digest made of an item, kept for the next digest (spool_memo). */
struct memo_entry {
	const struct item *item;
	int kind;
	size_t n;
	char *p;
};

/* One item's rendering, before it goes to the spool. */
struct rendering {
	struct buf html, text;
	struct strv links;
};

int
spool_new(struct spool **out, FILE *log, struct err *e)
{
	struct spool *c = calloc(1, sizeof *c);

	*out = c;
	if (c == NULL)
		return err_oom(e);
	pthread_mutex_init(&c->lock, NULL);
	c->memo_max = SPOOL_MEMO_MAX;
	c->dir = temp_dir();
	c->log = log;
	if ((c->file = temp_file("rendered items", e)) == NULL)
		return -1;
	return 0;
}

void
spool_free(struct spool *c)
{
	if (c == NULL)
		return;
	if (c->file != NULL)
		fclose(c->file);
	buf_free(&c->raw);
	pthread_mutex_destroy(&c->lock);
	for (size_t i = 0; i < c->nmemo; i++)
		free(c->memo[i].p);
	free(c->memo);
	hashset_free(&c->memo_index);
	free(c->slot);
	free(c);
}

static struct rendered *
cache_slot(struct spool *c, const struct item *it)
{
	uint64_t h = hash64(&it, sizeof it);
	size_t i = h & (c->cap - 1);

	while (c->slot[i].item != NULL && c->slot[i].item != it)
		i = (i + 1) & (c->cap - 1);
	return &c->slot[i];
}

static int
cache_grow(struct spool *c)
{
	size_t cap = c->cap ? c->cap * 2 : 1024;
	struct rendered *old = c->slot, *slot = calloc(cap, sizeof *slot);
	size_t oldcap = c->cap;

	if (slot == NULL)
		return -1;
	c->slot = slot;
	c->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].item != NULL)
			*cache_slot(c, old[i].item) = old[i];
	free(old);
	return 0;
}

static int
spool_add(struct spool *c, const void *p, size_t n, struct err *e)
{
	if (!c->broken && n > 0 && fwrite(p, 1, n, c->file) != n) {
		/* Kept: later calls, other threads' too, must tell the same reason. */
		c->broken = errno ? errno : EIO;
	}
	if (c->broken)
		return err_set(e, EX_IOERR, "%s: cannot write the rendered items: %s", c->dir,
		               strerror(c->broken));
	c->end += (off_t)n;
	c->unflushed = 1;
	return 0;
}

static int
spool_item(struct spool *c, struct rendered *r, const struct rendering *g, struct err *e)
{
	if (g->html.len > LEN_MAX || g->text.len > LEN_MAX)
		return err_set(e, EX_DATAERR, "an item over 4 GB");
	r->off = c->end;
	r->len = (uint32_t)g->html.len;
	if (spool_add(c, g->html.data, g->html.len, e) < 0)
		return -1;
	r->text_len = (uint32_t)g->text.len;
	if (spool_add(c, g->text.data, g->text.len, e) < 0)
		return -1;
	r->links_len = 0;
	for (size_t i = 0; i < g->links.n; i++) {
		size_t n = strlen(g->links.v[i]) + 1;

		if (spool_add(c, g->links.v[i], n, e) < 0)
			return -1;
		if (n > LEN_MAX - r->links_len)
			return err_set(e, EX_DATAERR, "an item with over 4 GB of links");
		r->links_len += (uint32_t)n;
	}
	return 0;
}

/* The item's slot, made if it had none. */
static struct rendered *
slot_for(struct spool *c, const struct item *it, struct err *e)
{
	struct rendered *r = c->cap > 0 ? cache_slot(c, it) : NULL;

	if (r != NULL && r->item == it)
		return r;
	if ((c->n + 1) * 10 > c->cap * 7 && cache_grow(c) < 0) {
		err_oom(e);
		return NULL;
	}
	if ((r = cache_slot(c, it))->item == NULL) {
		memset(r, 0, sizeof *r);
		r->item = it;
		c->n++;
	}
	return r;
}

static const char *
raw_content(const struct item *it)
{
	return it->content ? it->content : it->summary ? it->summary : "";
}

static void
rendering_free(struct rendering *g)
{
	buf_free(&g->html);
	buf_free(&g->text);
	strv_free(&g->links);
}

/* -v: one line naming the feed and the item whose content was cut. */
static void
tell_cut(FILE *log, const struct item *it, const struct feed_conf *fc, const struct html_item *hi)
{
	if (log == NULL)
		return;
	flockfile(log);
	fputs("tidings: feed ", log);
	fputs_clean(fc->name, log);
	fputs(": item \"", log);
	fputs_clean(it->title[0] ? it->title : it->id, log);
	fprintf(log, "\": %zu KB of its content left out (", (hi->cut + 1023) / 1024);
	if (hi->too_deep)
		fputs("nested over 256 levels deep)\n", log);
	else
		fprintf(log, "over the %u KB an item shows)\n", CONTENT_MAX >> 10);
	funlockfile(log);
}

/* The costly part, outside the lock: sanitise and turn into text. */
static int
render(struct spool *c, struct rendering *g, const char *html, size_t len, const struct item *it,
       const struct feed_conf *fc, struct err *e)
{
	struct html_item hi = {
	    .width = TEXT_WIDTH,
	    .first_ref = 1,
	    .link = it->link,
	    .max = CONTENT_MAX,
	};

	memset(g, 0, sizeof *g);
	if (html_render_item(html, len, item_base(it, fc), &hi, &g->html, &g->text, &g->links, e) <
	    0) {
		rendering_free(g);
		return -1;
	}
	if (hi.cut > 0)
		tell_cut(c->log, it, fc, &hi);
	return 0;
}

/* Into the spool, the lock held (a stashed item stays stashed on failure). */
static int
commit(struct spool *c, const struct item *it, const struct rendering *g, struct err *e)
{
	struct rendered *r = slot_for(c, it, e), before;

	if (r == NULL)
		return -1;
	if (r->done)
		return 0;
	before = *r;
	if (spool_item(c, r, g, e) < 0) {
		*r = before;
		return -1;
	}
	r->done = 1;
	return 0;
}

static int
prerender_from(struct spool *c, const struct item *it, const char *html, size_t len,
               const struct feed_conf *fc, struct err *e)
{
	struct rendering g;
	int rc;

	if (render(c, &g, html, len, it, fc, e) < 0)
		return -1;
	pthread_mutex_lock(&c->lock);
	rc = commit(c, it, &g, e);
	pthread_mutex_unlock(&c->lock);
	rendering_free(&g);
	return rc;
}

int
spool_render(struct spool *c, const struct item *it, const struct feed_conf *fc, struct err *e)
{
	const char *html = raw_content(it);

	return prerender_from(c, it, html, strlen(html), fc, e);
}

static int
stash(struct spool *c, const struct item *it, struct err *e)
{
	struct rendered *r = slot_for(c, it, e);
	const char *html = raw_content(it);
	size_t len = strlen(html);
	off_t at = c->end;

	if (r == NULL)
		return -1;
	if (r->done || r->len > 0)
		return 0;
	if (len > LEN_MAX)
		return err_set(e, EX_DATAERR, "an item over 4 GB");
	if (spool_add(c, html, len, e) < 0)
		return -1;
	r->off = at;
	r->len = (uint32_t)len;
	return 0;
}

int
spool_stash(struct spool *c, const struct item *it, struct err *e)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = stash(c, it, e);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/*
 * Everything written is in the file, or the cause it is not.  A write that
 * stdio buffered can fail on a later call (or here) and take earlier items'
 * bytes with it: once broken, nothing read back from the spool is trusted
 * ("file too short" hid a full $TMPDIR).
 */
static int
spool_flush(struct spool *c, struct err *e)
{
	if (!c->broken && c->unflushed && fflush(c->file) != 0)
		c->broken = errno ? errno : EIO;
	if (c->broken)
		return err_set(e, EX_IOERR, "%s: cannot write the rendered items: %s", c->dir,
		               strerror(c->broken));
	c->unflushed = 0;
	return 0;
}

/* Render a stashed item from its content in the spool. */
static int
render_stashed(struct spool *c, struct rendered *r, const struct feed_conf *fc, struct err *e)
{
	buf_reset(&c->raw);
	if (spool_flush(c, e) < 0)
		return -1;
	if (buf_grow(&c->raw, r->len) < 0)
		return err_oom(e);
	if (pread(fileno(c->file), c->raw.data, r->len, r->off) != (ssize_t)r->len)
		return err_set(e, EX_IOERR, "%s: cannot read back the rendered items", c->dir);
	c->raw.len = r->len;
	c->raw.data[c->raw.len] = '\0';
	return prerender_from(c, r->item, c->raw.data, c->raw.len, fc, e);
}

/* The item's content as spooled, rendered now if it was not before. */
static const struct rendered *
rendered_item(struct spool *c, const struct item *it, const struct feed_conf *fc, struct err *e)
{
	struct rendered *r = slot_for(c, it, e);

	if (r == NULL)
		return NULL;
	if (!r->done && r->len > 0 && render_stashed(c, r, fc, e) < 0)
		return NULL;
	if (!r->done && spool_render(c, it, fc, e) < 0)
		return NULL;
	/* Looked up again: rendering may have moved the slots. */
	return spool_flush(c, e) < 0 ? NULL : cache_slot(c, it);
}

int
spool_read(struct spool *c, const struct item *it, const struct feed_conf *fc, struct spooled *out,
           struct err *e)
{
	const struct rendered *r = rendered_item(c, it, fc, e);

	if (r == NULL)
		return -1;
	*out = (struct spooled){
	    .fd = fileno(c->file),
	    .html_off = r->off,
	    .html_len = r->len,
	    .text_off = text_off(r),
	    .text_len = r->text_len,
	    .links_off = links_off(r),
	    .links_len = r->links_len,
	};
	return 0;
}

int
spool_links(const struct spool *c, const struct spooled *r, struct buf *out, struct err *e)
{
	buf_reset(out);
	if (buf_grow(out, r->links_len) < 0)
		return err_oom(e);
	if (r->links_len > 0 &&
	    pread(r->fd, out->data, r->links_len, r->links_off) != (ssize_t)r->links_len)
		return err_set(e, EX_IOERR, "%s: cannot read back the rendered items", c->dir);
	out->len = r->links_len;
	out->data[out->len] = '\0';
	return 0;
}

/* ---- the memo: what digests made of items, for the next digest ---- */

struct memo_key {
	const struct item *item;
	int kind;
};

static uint64_t
memo_hash(const struct item *it, int kind)
{
	struct memo_key k;

	memset(&k, 0, sizeof k); /* the padding too: it is hashed */
	k.item = it;
	k.kind = kind;
	return hash64(&k, sizeof k);
}

static int
memo_eq(const void *entries, uint32_t idx, const void *key)
{
	const struct memo_entry *m = &((const struct memo_entry *)entries)[idx];
	const struct memo_key *k = key;

	return m->item == k->item && m->kind == k->kind;
}

const char *
spool_memo(const struct spool *c, const struct item *it, int kind, size_t *len)
{
	struct memo_key k = {it, kind};
	uint32_t i = hashset_find(&c->memo_index, memo_hash(it, kind), memo_eq, c->memo, &k);

	if (i == HASHSET_NONE)
		return NULL;
	*len = c->memo[i].n;
	return c->memo[i].p;
}

/* What an entry of n bytes costs: its bytes, its entry, its index slots (at most half full). */
static size_t
memo_cost(size_t n)
{
	return n + sizeof(struct memo_entry) + 2 * sizeof(struct hashset_slot);
}

int
spool_memo_keep(struct spool *c, const struct item *it, int kind, const void *p, size_t n)
{
	struct memo_entry *m;

	if (n > c->memo_max || c->memo_bytes > c->memo_max ||
	    memo_cost(n) > c->memo_max - c->memo_bytes)
		return 0;
	if (c->nmemo == c->capmemo) {
		size_t cap = c->capmemo ? c->capmemo * 2 : 256;

		if ((m = realloc(c->memo, cap * sizeof *m)) == NULL)
			return -1;
		c->memo = m;
		c->capmemo = cap;
	}
	m = &c->memo[c->nmemo];
	if ((m->p = malloc(n > 0 ? n : 1)) == NULL)
		return -1;
	if (hashset_add(&c->memo_index, memo_hash(it, kind), (uint32_t)c->nmemo) < 0) {
		free(m->p);
		return -1;
	}
	memcpy(m->p, p, n);
	m->item = it;
	m->kind = kind;
	m->n = n;
	c->nmemo++;
	c->memo_bytes += memo_cost(n);
	return 1;
}

void
spool_memo_bound(struct spool *c, size_t max)
{
	c->memo_max = max;
}

/* ---- the plan: what each item may be needed for ---- */

/* An item's place in a digest's feed group: newest first, undated last. */
struct by_date {
	time_t t;
	int has_date;
	size_t i;
};

static int
cmp_newest_first(const void *pa, const void *pb)
{
	const struct by_date *a = pa, *b = pb;

	if (a->has_date != b->has_date)
		return a->has_date ? -1 : 1;
	return a->t < b->t ? 1 : a->t > b->t ? -1 : 0;
}

/* Once the item is planned for: what it can let go (never shown: all but id, date, tags). */
static const unsigned no_longer_needed[] = {
    [NEED_NOTHING] = ITEM_CONTENT | ITEM_SHOWN,
    [NEED_CONTENT] = ITEM_CONTENT, /* stashed; its base renders it later */
    [NEED_RENDERED] = ITEM_CONTENT | ITEM_BASE,
};

/* For one subscription: mark the items it may show, the first few of them as shown in full. */
static void
mark_sub(const struct spool_plan *p, const struct sub_conf *sub, const struct feed_conf *fc,
         const struct feed *f, unsigned char *need, struct by_date *order)
{
	int first_run = select_first_run(sub, fc, p->st, &p->select);
	size_t n = 0, full;

	for (size_t i = 0; i < f->nitems; i++) {
		if (!select_may_show(sub, &f->items[i], fc, p->st, &p->select, first_run))
			continue;
		order[n++] = (struct by_date){f->items[i].published, f->items[i].has_date, i};
		if (need[i] == NEED_NOTHING)
			need[i] = NEED_CONTENT;
	}
	full = sub->full_items_per_feed <= 0 ? n : (size_t)sub->full_items_per_feed;
	if (full < n)
		qsort(order, n, sizeof *order, cmp_newest_first);
	for (size_t k = 0; k < n && k < full; k++)
		need[order[k].i] = NEED_RENDERED;
}

/*
 * What the digests may need of each item: nothing (no subscription may
 * show it), its content (it may be shown), or its rendering (it will
 * likely be shown in full: among the first full-items-per-feed of a
 * subscription, newest first).  Rendering is the costly part, and it runs
 * on the parse thread; a cap or a duplicate can still bring another item
 * into full view, and that one is rendered from its stashed content.
 */
unsigned char *
spool_plan(const struct spool_plan *p, const struct feed_conf *fc, const struct feed *f)
{
	size_t n = f->nitems;
	unsigned char *need = calloc(n + 1, 1);
	struct by_date *order = calloc(n + 1, sizeof *order);

	if (need != NULL && order != NULL && p->select.mode != SELECT_ALL)
		for (size_t s = 0; s < p->cfg->nsubs; s++)
			if (p->sub_selected[s])
				mark_sub(p, &p->cfg->subs[s], fc, f, need, order);
	free(order);
	if (order == NULL) {
		free(need);
		return NULL;
	}
	return need;
}

/* -v: one line, "tidings: " first, as the run's own. */
static void __attribute__((format(printf, 2, 3))) tell(const struct spool *c, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	flockfile(c->log);
	fputs("tidings: ", c->log);
	fputs_clean(line, c->log);
	fputc('\n', c->log);
	funlockfile(c->log);
}

/*
 * A feed's items stay until the digests are made, but their content, the
 * bulk of a feed, moves to the spool: memory holds only what selection and
 * the templates' item lines need.
 */
void
spool_keep(struct spool *c, struct feed *f, const struct feed_conf *fc, const unsigned char *need)
{
	struct err e = {0};

	if (need == NULL) {
		tell(c, "feed %s: out of memory: its items stay in memory", fc->name);
		return;
	}
	for (size_t i = 0; i < f->nitems; i++) {
		struct item *it = &f->items[i];
		int rc = 0;

		if (need[i] == NEED_RENDERED)
			rc = spool_render(c, it, fc, &e);
		else if (need[i] == NEED_CONTENT)
			rc = spool_stash(c, it, &e);
		if (rc < 0) {
			/* Kept: the digest renders it from here, or fails with the cause. */
			tell(c, "feed %s: %s", fc->name, e.msg);
			continue;
		}
		item_release(it, no_longer_needed[need[i]]);
	}
	if (feed_pack(f) < 0)
		tell(c, "feed %s: out of memory: its items stay unpacked", fc->name);
}

/* ---- after the digests ---- */

void
spool_keep_for_recording(struct feed *f)
{
	for (size_t i = 0; i < f->nitems; i++)
		item_release(&f->items[i], ITEM_CONTENT | ITEM_SHOWN | ITEM_TAGS);
}

void
spool_trim(void)
{
#ifdef __GLIBC__
	/* Hand the freed pages back before recording allocates its own: peak memory is the point.
	 */
	malloc_trim(0);
#endif
}
