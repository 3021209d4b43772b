/*
 * state: the state file, its lock, and the tables it loads into.
 *
 * Memory layout, chosen for a million delivered ids in well under 200 MB:
 * feed URLs and subscription names are interned once and referred to by
 * index; each delivered id is a fixed-size struct item (40 bytes) whose
 * bytes live in one arena; an open-addressing table of 64-bit slots (a
 * 32-bit hash and an item index) finds an item by (subscription, feed, id).
 * Items of one feed are chained so that pruning a feed never walks the
 * others.  About 110 bytes an id in all, for ids of 55 bytes.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "date.h"
#include "idset.h"
#include "recio.h"
#include "statefile.h"

#define STATE_MAGIC   "tidings-state "
#define STATE_VERSION 2
/*
 * Between a subscription's name and one of its recipients in a recipient
 * key ("SUB\x1fADDR" in the subs table): neither a subscription name nor
 * an address can hold it, so the split is unambiguous.
 */
#define RCPT_SEP  '\x1f'
#define KEY_STACK 512
#define NONE      UINT32_MAX
/* First sizes of the growing arrays: a small state never regrows them. */
#define NAMES_MIN 16
#define ITEMS_MIN 1024
#define ITAB_MIN  1024
#define ARENA_MIN (1u << 16)
/* presize looks for the end record in the last END_TAIL bytes, and trusts */
/* its count up to one record per END_TAIL bytes of file. */
#define END_TAIL     48
#define STATE_HEADER "tidings-state 2\n# tidings state: see tidings-state(5)\n"

struct feed {
	struct feed_state fs;    /* first: callers hold &feed->fs */
	struct feed_state saved; /* as in the file (no url): callers change fs behind our back */
	uint32_t head;           /* first item of this feed, or NONE */
	uint32_t nitems;
};

struct item {
	int64_t first_seen, last_seen;
	uint64_t off; /* of the id bytes in the arena */
	uint32_t len, sub, feed;
	uint32_t next; /* in the feed's chain, or the free list */
};

/* An id in the arena, shared by the records of every subscription that got it. */
struct shared_id {
	uint64_t off;
	uint32_t len, feed;
};

/* Interned strings, found through a hashset. */
struct name {
	char *key;
	struct feed *feed; /* feeds only; its fs.url is key */
	uint32_t sub;   /* subs: NONE for a subscription; for a recipient key, its subscription */
	uint32_t nrcpt; /* subs: a subscription's recipient keys */
};

struct names {
	struct name *v;
	size_t n, cap;
	struct hashset set;
};

struct state {
	struct names feeds;
	struct names subs;
	struct item *items;
	size_t nitems, capitems, live;
	uint32_t freelist;
	uint64_t *itab; /* SLOT(hash, item index) */
	size_t nitab;
	char *arena;
	size_t alen, acap;
	/*
	 * The ids this process recorded, by (feed, id), so that the same id
	 * recorded for many subscriptions is in the arena once.
	 */
	struct shared_id *shared;
	size_t nshared, capshared;
	struct hashset shared_set;
	/* The last names looked up: callers ask about one feed many times in a row. */
	uint32_t hint_sub, hint_feed, hint_rcpt;
	size_t nrcpt_keys; /* recipient keys in subs: none, no per-recipient lookups */
	/* Which (sub, feed) pairs hold an id, a bit each: built when first asked, dropped on
	 * change. */
	unsigned char *pairs;
	size_t pairs_subs, pairs_feeds;
	/*
	 * Whether the save has anything to write: an item added, dropped or
	 * changed since the file was read, or a name added (names are never
	 * dropped: their counts tell), or a feed record changed (see
	 * feed_changed).  A state not read from a file is dirty.
	 */
	int dirty;
	size_t saved_feeds, saved_subs;
	struct stat file;      /* the file read or written last (st_nlink 0: none) */
	struct deferred *rest; /* state_open: the item records, not read yet */
};

static void deferred_free(struct deferred *d);

/* ---------- small helpers ---------- */

/*
 * Lookups hit the big arrays at random: ask for huge pages so that a
 * million ids cost a cache miss each, not a TLB miss too.  Only a hint.
 */
static void
hint_huge(void *p, size_t n)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t to = ((uintptr_t)p + n) & ~(huge - 1);

	if (to > from)
		(void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}

static int
grow(void **p, size_t *cap, size_t need, size_t size, size_t min)
{
	size_t c = *cap ? *cap : min;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return -1;
		c *= 2;
	}
	q = realloc(*p, c * size);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = c;
	hint_huge(q, c * size);
	return 0;
}

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint32_t
item_hash(uint32_t sub, uint32_t feed, const char *id, size_t len)
{
	uint64_t k = ((uint64_t)sub << 32 | feed) * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)mix64(hash64(id, len) ^ k);
}

static const char *
item_id(const struct state *st, const struct item *it)
{
	return st->arena + it->off;
}

/* ---------- interned names ---------- */

static int
name_eq(const void *entries, uint32_t idx, const void *key)
{
	return strcmp(((const struct name *)entries)[idx].key, key) == 0;
}

static uint32_t
names_find(const struct names *t, const char *s)
{
	return hashset_find(&t->set, hash64_str(s), name_eq, t->v, s);
}

/* Index a copy of s; its index, or NONE on OOM. */
static uint32_t
names_add(struct names *t, const char *s, struct feed *feed)
{
	struct name *nm;

	if (t->n >= NONE - 1 ||
	    grow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v, NAMES_MIN) < 0)
		return NONE;
	nm = &t->v[t->n];
	if ((nm->key = str_dup(s)) == NULL)
		return NONE;
	if (hashset_add(&t->set, hash64_str(s), (uint32_t)t->n) < 0) {
		free(nm->key);
		return NONE;
	}
	*nm = (struct name){.key = nm->key, .feed = feed, .sub = NONE};
	return (uint32_t)t->n++;
}

static uint32_t
names_intern(struct names *t, const char *s, struct feed *feed)
{
	uint32_t idx = names_find(t, s);

	return idx != NONE ? idx : names_add(t, s, feed);
}

static void
names_free(struct names *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	hashset_free(&t->set);
}

/* ---------- feeds and subscriptions ---------- */

static uint32_t
feed_add(struct state *st, const char *url)
{
	struct feed *f = calloc(1, sizeof *f);
	uint32_t idx;

	if (f == NULL)
		return NONE;
	f->head = NONE;
	if ((idx = names_add(&st->feeds, url, f)) == NONE) {
		free(f);
		return NONE;
	}
	f->fs.url = st->feeds.v[idx].key;
	return idx;
}

static uint32_t
feed_intern(struct state *st, const char *url)
{
	uint32_t idx = names_find(&st->feeds, url);

	return idx != NONE ? idx : feed_add(st, url);
}

static struct feed *
feed_at(const struct state *st, uint32_t idx)
{
	return st->feeds.v[idx].feed;
}

/* ---------- items ---------- */

/*
 * A table slot: the key's hash above, item index + 1 below; 0 is empty.
 * Not the shared hashset: its 16-byte slots would double this table (a
 * million ids: 16 MB more), it cannot delete, and its equality is a call
 * per candidate on the path every lookup and load takes.
 */
#define SLOT(h, idx) ((uint64_t)(h) << 32 | ((uint64_t)(idx) + 1))
#define SLOT_HASH(v) ((uint32_t)((v) >> 32))
#define SLOT_IDX(v)  ((uint32_t)(v)-1)

static uint32_t
item_find(const struct state *st, uint32_t sub, uint32_t feed, const char *id, size_t len,
          uint32_t h)
{
	size_t mask = st->nitab - 1, i;
	const struct item *it;
	uint64_t v;

	if (st->nitab == 0)
		return NONE;
	/* The hash in the slot spares a cache miss on every probe that cannot match. */
	for (i = h & mask; (v = st->itab[i]) != 0; i = (i + 1) & mask) {
		if (SLOT_HASH(v) != h)
			continue;
		it = &st->items[SLOT_IDX(v)];
		if (it->sub == sub && it->feed == feed && it->len == len &&
		    memcmp(item_id(st, it), id, len) == 0)
			return SLOT_IDX(v);
	}
	return NONE;
}

static void
itab_place(uint64_t *tab, size_t n, uint64_t v)
{
	size_t mask = n - 1, i;

	for (i = SLOT_HASH(v) & mask; tab[i] != 0; i = (i + 1) & mask)
		continue;
	tab[i] = v;
}

static int
itab_reserve(struct state *st, size_t n)
{
	size_t ns = st->nitab ? st->nitab : ITAB_MIN;
	uint64_t *t;

	while (n * 2 > ns) {
		if (ns > ((size_t)1 << 32) / 2)
			return -1;
		ns *= 2;
	}
	if (ns == st->nitab)
		return 0;
	if ((t = calloc(ns, sizeof *t)) == NULL)
		return -1;
	hint_huge(t, ns * sizeof *t);
	for (size_t i = 0; i < st->nitab; i++)
		if (st->itab[i] != 0)
			itab_place(t, ns, st->itab[i]);
	free(st->itab);
	st->itab = t;
	st->nitab = ns;
	return 0;
}

/* Backward-shift deletion keeps linear probing free of tombstones. */
static void
itab_remove(struct state *st, uint32_t idx)
{
	const struct item *it = &st->items[idx];
	uint32_t h = item_hash(it->sub, it->feed, item_id(st, it), it->len);
	size_t mask = st->nitab - 1, i, j, home;

	for (i = h & mask; st->itab[i] != SLOT(h, idx); i = (i + 1) & mask)
		continue;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (st->itab[j] == 0)
			break;
		home = SLOT_HASH(st->itab[j]) & mask;
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			st->itab[i] = st->itab[j];
			i = j;
		}
	}
	st->itab[i] = 0;
}

/* Copy an id into the arena: its offset in *off. */
static int
arena_add(struct state *st, const char *id, size_t len, uint64_t *off)
{
	if (len > UINT32_MAX ||
	    grow((void **)&st->arena, &st->acap, st->alen + len + 1, 1, ARENA_MIN) < 0)
		return -1;
	memcpy(st->arena + st->alen, id, len);
	*off = st->alen;
	st->alen += len;
	return 0;
}

struct shared_key {
	const char *arena;
	const char *id;
	size_t len;
	uint32_t feed;
};

static int
shared_eq(const void *entries, uint32_t idx, const void *key)
{
	const struct shared_id *s = (const struct shared_id *)entries + idx;
	const struct shared_key *k = key;

	return s->feed == k->feed && s->len == k->len &&
	       memcmp(k->arena + s->off, k->id, k->len) == 0;
}

/*
 * The arena's copy of feed's id, copied in if this is its first record in
 * this process: a digest sent to 2,000 subscriptions records each of its
 * ids 2,000 times.  The arena is never compacted, so an offset stays valid
 * after the item that made it is forgotten.
 */
static int
arena_share(struct state *st, uint32_t feed, const char *id, size_t len, uint64_t *off)
{
	struct shared_key key = {st->arena, id, len, feed};
	uint64_t h = mix64(hash64(id, len) ^ (uint64_t)feed * 0x9e3779b97f4a7c15ULL);
	uint32_t idx = hashset_find(&st->shared_set, h, shared_eq, st->shared, &key);

	if (idx != HASHSET_NONE) {
		*off = st->shared[idx].off;
		return 0;
	}
	if (arena_add(st, id, len, off) < 0)
		return -1;
	/* Sharing only saves room: without room for the index, the id is not shared. */
	if (st->nshared < NONE - 1 &&
	    grow((void **)&st->shared, &st->capshared, st->nshared + 1, sizeof *st->shared,
	         ITEMS_MIN) == 0 &&
	    hashset_add(&st->shared_set, h, (uint32_t)st->nshared) == 0)
		st->shared[st->nshared++] = (struct shared_id){*off, (uint32_t)len, feed};
	return 0;
}

/* A new item whose id is already in the arena at off. */
static void
pairs_drop(struct state *st)
{
	free(st->pairs);
	st->pairs = NULL;
}

static uint32_t
item_link(struct state *st, uint32_t sub, uint32_t feed, uint64_t off, size_t len, uint32_t h,
          int64_t first, int64_t last)
{
	struct feed *f = feed_at(st, feed);
	struct item *it;
	uint32_t idx;

	if (st->live >= NONE - 1 || itab_reserve(st, st->live + 1) < 0)
		return NONE;
	if (st->freelist != NONE) {
		idx = st->freelist;
		st->freelist = st->items[idx].next;
	} else {
		if (grow((void **)&st->items, &st->capitems, st->nitems + 1, sizeof *st->items,
		         ITEMS_MIN) < 0)
			return NONE;
		idx = (uint32_t)st->nitems++;
	}
	it = &st->items[idx];
	it->off = off;
	it->len = (uint32_t)len;
	it->sub = sub;
	it->feed = feed;
	it->first_seen = first;
	it->last_seen = last;
	it->next = f->head;
	f->head = idx;
	f->nitems++;
	st->live++;
	st->dirty = 1;
	pairs_drop(st);
	itab_place(st->itab, st->nitab, SLOT(h, idx));
	return idx;
}

static uint32_t
item_add(struct state *st, uint32_t sub, uint32_t feed, const char *id, size_t len, uint32_t h,
         int64_t first, int64_t last)
{
	uint64_t off;

	if (arena_share(st, feed, id, len, &off) < 0)
		return NONE;
	return item_link(st, sub, feed, off, len, h, first, last);
}

/* Forget an item the caller has already unlinked from its feed's chain. */
static void
item_forget(struct state *st, uint32_t idx)
{
	itab_remove(st, idx);
	feed_at(st, st->items[idx].feed)->nitems--;
	st->items[idx].feed = NONE;
	st->items[idx].next = st->freelist;
	st->freelist = idx;
	st->live--;
	st->dirty = 1;
	pairs_drop(st);
}

/* ---------- what changed since the load ---------- */

static void
feed_state_clear(struct feed_state *fs)
{
	free(fs->etag);
	free(fs->last_modified);
	free(fs->last_error);
	free(fs->moved_to);
	*fs = (struct feed_state){0};
}

/* A feed's fetch record emptied, its URL kept. */
static void
feed_state_forget(struct feed_state *fs)
{
	char *url = fs->url; /* the name table's key: not freed with the record */

	feed_state_clear(fs);
	fs->url = url;
}

/* Remember fs as the file holds it; -1 on OOM. */
static int
feed_snapshot(struct feed *f)
{
	const struct feed_state *fs = &f->fs;
	struct feed_state *to = &f->saved;

	feed_state_clear(to);
	*to = (struct feed_state){
	    .last_fetch = fs->last_fetch,
	    .last_status = fs->last_status,
	    .failures = fs->failures,
	    .first_failure = fs->first_failure,
	    .retry_after = fs->retry_after,
	    .gone = fs->gone,
	};
	if (state_set_str(&to->etag, fs->etag) < 0 ||
	    state_set_str(&to->last_modified, fs->last_modified) < 0 ||
	    state_set_str(&to->last_error, fs->last_error) < 0 ||
	    state_set_str(&to->moved_to, fs->moved_to) < 0)
		return -1;
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Callers change a feed's fields in place (polling, validators): compare them with the file's. */
static int
feed_changed(const struct feed *f)
{
	const struct feed_state *fs = &f->fs, *was = &f->saved;

	return fs->last_fetch != was->last_fetch || fs->last_status != was->last_status ||
	       fs->failures != was->failures || fs->first_failure != was->first_failure ||
	       fs->retry_after != was->retry_after || fs->gone != was->gone ||
	       !str_same(fs->etag, was->etag) || !str_same(fs->last_modified, was->last_modified) ||
	       !str_same(fs->last_error, was->last_error) || !str_same(fs->moved_to, was->moved_to);
}

/* The state now matches the file: remember it so; -1 on OOM (it stays dirty). */
static int
mark_saved(struct state *st)
{
	for (size_t i = 0; i < st->feeds.n; i++)
		if (feed_snapshot(feed_at(st, (uint32_t)i)) < 0)
			return -1;
	st->saved_feeds = st->feeds.n;
	st->saved_subs = st->subs.n;
	st->dirty = 0;
	return 0;
}

/*
 * Is the file at path still the one st was read from or last written to,
 * with mode 0600?  Saving elsewhere, or over a file replaced or chmod'ed
 * since, writes.
 */
static int
file_same(const struct state *st, const char *path)
{
	struct stat sb;

	return st->file.st_nlink > 0 && stat(path, &sb) == 0 && sb.st_dev == st->file.st_dev &&
	       sb.st_ino == st->file.st_ino && sb.st_size == st->file.st_size &&
	       sb.st_mtim.tv_sec == st->file.st_mtim.tv_sec &&
	       sb.st_mtim.tv_nsec == st->file.st_mtim.tv_nsec && (sb.st_mode & 07777) == 0600;
}

int
state_changed(const struct state *st)
{
	if (st->dirty || st->feeds.n != st->saved_feeds || st->subs.n != st->saved_subs)
		return 1;
	for (size_t i = 0; i < st->feeds.n; i++)
		if (feed_changed(feed_at(st, (uint32_t)i)))
			return 1;
	return 0;
}

int
state_needs_save(const struct state *st, const char *path)
{
	return state_changed(st) || !file_same(st, path);
}

int
state_feeds_only_changed(const struct state *st, const char *path)
{
	if (st->dirty || st->feeds.n != st->saved_feeds || st->subs.n != st->saved_subs ||
	    !file_same(st, path))
		return 0;
	return state_changed(st);
}

/* ---------- the public table API ---------- */

struct state *
state_new(void)
{
	struct state *st = calloc(1, sizeof *st);

	if (st != NULL) {
		st->freelist = st->hint_rcpt = NONE;
		st->dirty = 1;
	}
	return st;
}

void
state_free(struct state *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->feeds.n; i++) {
		struct feed *f = feed_at(st, (uint32_t)i);

		free(f->fs.etag);
		free(f->fs.last_modified);
		free(f->fs.last_error);
		free(f->fs.moved_to);
		feed_state_clear(&f->saved);
		free(f);
	}
	names_free(&st->feeds);
	names_free(&st->subs);
	free(st->items);
	free(st->itab);
	free(st->arena);
	free(st->shared);
	hashset_free(&st->shared_set);
	free(st->pairs);
	deferred_free(st->rest);
	free(st);
}

int
state_set_str(char **field, const char *value)
{
	char *copy = NULL;

	if (value != NULL && (copy = str_dup(value)) == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

struct feed_state *
state_feed(struct state *st, const char *url, int create)
{
	uint32_t idx = create ? feed_intern(st, url) : names_find(&st->feeds, url);

	return idx == NONE ? NULL : &feed_at(st, idx)->fs;
}

size_t
state_nfeeds(const struct state *st)
{
	return st->feeds.n;
}

struct feed_state *
state_feed_at(struct state *st, size_t i)
{
	return i < st->feeds.n ? &feed_at(st, (uint32_t)i)->fs : NULL;
}

size_t
state_feed_nids(const struct state *st, const char *feed_url)
{
	uint32_t idx = names_find(&st->feeds, feed_url);

	return idx == NONE ? 0 : feed_at(st, idx)->nitems;
}

size_t
state_nids(const struct state *st)
{
	return st->live;
}

int
state_sub_known(const struct state *st, const char *sub)
{
	return names_find(&st->subs, sub) != NONE;
}

int
state_sub_touch(struct state *st, const char *sub)
{
	return names_intern(&st->subs, sub, NULL) == NONE ? -1 : 0;
}

/*
 * One pass over the items, in memory order: walking a feed's chain for
 * each pair would miss the cache at every step (a second per run for ten
 * subscriptions over a million ids).
 */
static int
pairs_build(struct state *st)
{
	size_t nf = st->feeds.n ? st->feeds.n : 1;

	if (st->subs.n > SIZE_MAX / nf || (st->pairs = calloc(st->subs.n * nf + 1, 1)) == NULL)
		return -1;
	st->pairs_subs = st->subs.n;
	st->pairs_feeds = nf;
	for (size_t i = 0; i < st->nitems; i++) {
		uint32_t s = st->items[i].sub;

		if (st->items[i].feed == NONE)
			continue;
		/* A recipient's own record is a delivery of its subscription too. */
		if (st->subs.v[s].sub != NONE)
			s = st->subs.v[s].sub;
		st->pairs[(size_t)s * nf + st->items[i].feed] = 1;
	}
	return 0;
}

int
state_pair_known(const struct state *cst, const char *sub, const char *feed_url)
{
	/* Only the cache changes: the state as seen through the API does not. */
	struct state *st = (struct state *)cst;
	uint32_t s = names_find(&st->subs, sub), f = names_find(&st->feeds, feed_url);

	if (s == NONE || f == NONE)
		return 0;
	if (st->pairs == NULL && pairs_build(st) < 0) {
		/* Out of memory: the feed's chain, newest first. */
		for (uint32_t i = feed_at(st, f)->head; i != NONE; i = st->items[i].next)
			if (st->items[i].sub == s || st->subs.v[st->items[i].sub].sub == s)
				return 1;
		return 0;
	}
	/* A name interned since the build has no id yet (an id would have dropped the cache). */
	if (s >= st->pairs_subs || f >= st->pairs_feeds)
		return 0;
	return st->pairs[(size_t)s * st->pairs_feeds + f];
}

/* names_find, trying *hint first: a strcmp is cheaper than hashing the name. */
static uint32_t
names_find_hint(const struct names *t, const char *s, uint32_t *hint)
{
	uint32_t idx = *hint;

	if (idx < t->n && strcmp(t->v[idx].key, s) == 0)
		return idx;
	if ((idx = names_find(t, s)) != NONE)
		*hint = idx;
	return idx;
}

int
state_delivered(const struct state *cst, const char *sub, const char *feed_url, const char *id)
{
	/* Only the lookup hints change: the state as seen through the API does not. */
	struct state *st = (struct state *)cst;
	uint32_t s, f;
	size_t len = strlen(id);
	char *old;
	int found;

	if ((s = names_find_hint(&st->subs, sub, &st->hint_sub)) == NONE ||
	    (f = names_find_hint(&st->feeds, feed_url, &st->hint_feed)) == NONE)
		return 0;
	if (item_find(st, s, f, id, len, item_hash(s, f, id, len)) != NONE)
		return 1;
	if ((old = idset_legacy_form(id, len)) == NULL)
		return 0;
	len = strlen(old);
	found = item_find(st, s, f, old, len, item_hash(s, f, old, len)) != NONE;
	free(old);
	return found;
}

/*
 * "SUB\x1fRCPT" into stack (KEY_STACK bytes) or, when longer, a malloc'd
 * buffer the caller frees: *heap says which.  NULL on OOM.
 */
static char *
rcpt_key(const char *sub, const char *rcpt, char *stack, char **heap)
{
	size_t ns = strlen(sub), nr = strlen(rcpt);
	char *k = stack;

	*heap = NULL;
	if (ns + nr + 2 > KEY_STACK && (k = *heap = malloc(ns + nr + 2)) == NULL)
		return NULL;
	memcpy(k, sub, ns);
	k[ns] = RCPT_SEP;
	memcpy(k + ns + 1, rcpt, nr + 1);
	return k;
}

/* The subs index of rcpt's key under sub (created with create), or NONE. */
static uint32_t
rcpt_find(struct state *st, const char *sub, const char *rcpt, int create)
{
	char stack[KEY_STACK], *heap, *key;
	uint32_t s = names_find_hint(&st->subs, sub, &st->hint_sub), k = NONE;

	if (s == NONE && create)
		s = names_add(&st->subs, sub, NULL);
	if (s == NONE || (key = rcpt_key(sub, rcpt, stack, &heap)) == NULL)
		return NONE;
	k = names_find_hint(&st->subs, key, &st->hint_rcpt);
	if (k == NONE && create && (k = names_add(&st->subs, key, NULL)) != NONE) {
		st->subs.v[k].sub = s;
		st->subs.v[s].nrcpt++;
		st->nrcpt_keys++;
	}
	free(heap);
	return k;
}

int
state_delivered_to(const struct state *cst, const char *sub, const char *rcpt, const char *feed_url,
                   const char *id)
{
	struct state *st = (struct state *)cst; /* only the hints change */
	uint32_t k, f;
	size_t len = strlen(id);

	if (state_delivered(cst, sub, feed_url, id))
		return 1;
	if (rcpt == NULL || st->nrcpt_keys == 0 ||
	    (f = names_find_hint(&st->feeds, feed_url, &st->hint_feed)) == NONE ||
	    (k = rcpt_find(st, sub, rcpt, 0)) == NONE)
		return 0;
	return item_find(st, k, f, id, len, item_hash(k, f, id, len)) != NONE;
}

int
state_sub_split(const struct state *cst, const char *sub)
{
	struct state *st = (struct state *)cst; /* only the hints change */
	uint32_t s;

	if (st->nrcpt_keys == 0 || (s = names_find_hint(&st->subs, sub, &st->hint_sub)) == NONE)
		return 0;
	return st->subs.v[s].nrcpt > 0;
}

static void
seen_at(struct state *st, struct item *it, time_t now)
{
	if (it->last_seen < now) {
		it->last_seen = now;
		st->dirty = 1;
	}
}

/* Record (feed_url, id) under the subs entry s. */
static int
record_at(struct state *st, uint32_t s, const char *feed_url, const char *id, time_t now)
{
	uint32_t f, h, idx;
	size_t len = strlen(id);

	if ((f = names_find_hint(&st->feeds, feed_url, &st->hint_feed)) == NONE &&
	    (f = feed_add(st, feed_url)) == NONE)
		return -1;
	h = item_hash(s, f, id, len);
	if ((idx = item_find(st, s, f, id, len, h)) != NONE) {
		seen_at(st, &st->items[idx], now);
		return 0;
	}
	return item_add(st, s, f, id, len, h, now, now) == NONE ? -1 : 0;
}

int
state_record(struct state *st, const char *sub, const char *feed_url, const char *id, time_t now)
{
	uint32_t s;

	if ((s = names_find_hint(&st->subs, sub, &st->hint_sub)) == NONE &&
	    (s = names_add(&st->subs, sub, NULL)) == NONE)
		return -1;
	return record_at(st, s, feed_url, id, now);
}

int
state_record_to(struct state *st, const char *sub, const char *rcpt, const char *feed_url,
                const char *id, time_t now)
{
	uint32_t k;

	if (rcpt == NULL)
		return state_record(st, sub, feed_url, id, now);
	if ((k = rcpt_find(st, sub, rcpt, 1)) == NONE)
		return -1;
	return record_at(st, k, feed_url, id, now);
}

int
state_feed_seen(struct state *st, const char *feed_url, char *const *ids, size_t nids, time_t now,
                time_t retention)
{
	struct idset set = {0};
	struct feed *f;
	uint32_t idx, *link;
	uint32_t fi = names_find(&st->feeds, feed_url);

	if (fi == NONE)
		return 0; /* nothing delivered from it: nothing to refresh */
	if (nids >= NONE || idset_build(&set, ids, nids) < 0) {
		idset_free(&set);
		return -1;
	}
	f = feed_at(st, fi);
	for (link = &f->head; (idx = *link) != NONE;) {
		struct item *it = &st->items[idx];

		if (idset_has(&set, item_id(st, it), it->len)) {
			seen_at(st, it, now);
		} else if (now - it->last_seen > retention) {
			*link = it->next;
			item_forget(st, idx);
			continue;
		}
		link = &it->next;
	}
	idset_free(&set);
	return 0;
}

/* ---------- writing ---------- */

/* Sorting: names by strcmp, items by (subscription, feed, id). */
struct sortctx {
	const struct state *st;
	const uint32_t *subrank, *feedrank;
};

static int
cmp_name(const void *a, const void *b, void *arg)
{
	const struct names *t = arg;

	return strcmp(t->v[*(const uint32_t *)a].key, t->v[*(const uint32_t *)b].key);
}

static uint32_t *
sorted_names(const struct names *t)
{
	uint32_t *order = malloc((t->n ? t->n : 1) * sizeof *order);

	if (order == NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, t->n, sizeof *order, cmp_name, (void *)t);
	return order;
}

static uint64_t
item_key(const struct sortctx *c, const struct item *it)
{
	return (uint64_t)c->subrank[it->sub] * c->st->feeds.n + c->feedrank[it->feed];
}

static int
cmp_item(const void *a, const void *b, void *arg)
{
	const struct sortctx *c = arg;
	const struct item *x = &c->st->items[*(const uint32_t *)a];
	const struct item *y = &c->st->items[*(const uint32_t *)b];
	uint64_t kx = item_key(c, x), ky = item_key(c, y);
	int r;

	if (kx != ky)
		return kx < ky ? -1 : 1;
	r = memcmp(item_id(c->st, x), item_id(c->st, y), x->len < y->len ? x->len : y->len);
	if (r != 0)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

static void
sort_range(uint32_t *v, size_t n, struct sortctx *c)
{
	for (size_t i = 1; i < n; i++)
		if (cmp_item(&v[i - 1], &v[i], c) > 0) {
			qsort_r(v, n, sizeof *v, cmp_item, c);
			return;
		}
}

/*
 * Live items in file order.  A counting sort by (subscription, feed) does
 * most of the work in linear time; each group is then sorted by id unless
 * it already is (the usual case right after a load).
 */
static uint32_t *
sorted_items(struct sortctx *c)
{
	const struct state *st = c->st;
	size_t nb = st->subs.n * st->feeds.n, i;
	uint32_t *order = malloc((st->live ? st->live : 1) * sizeof *order);
	size_t *start;

	if (order == NULL)
		return NULL;
	if ((st->feeds.n && st->subs.n > SIZE_MAX / 8 / st->feeds.n) || nb > st->live * 4 + 4096) {
		size_t k = 0;

		for (i = 0; i < st->nitems; i++)
			if (st->items[i].feed != NONE)
				order[k++] = (uint32_t)i;
		qsort_r(order, k, sizeof *order, cmp_item, c);
		return order;
	}
	if ((start = calloc(nb + 1, sizeof *start)) == NULL) {
		free(order);
		return NULL;
	}
	for (i = 0; i < st->nitems; i++)
		if (st->items[i].feed != NONE)
			start[item_key(c, &st->items[i]) + 1]++;
	for (i = 0; i < nb; i++)
		start[i + 1] += start[i];
	for (i = 0; i < st->nitems; i++)
		if (st->items[i].feed != NONE)
			order[start[item_key(c, &st->items[i])]++] = (uint32_t)i;
	/* start[b] is now the end of group b, i.e. the start of group b + 1. */
	for (i = 0; i < nb; i++) {
		size_t from = i ? start[i - 1] : 0;

		sort_range(order + from, start[i] - from, c);
	}
	free(start);
	return order;
}

static void
write_feed(struct rec_out *o, const struct feed_state *fs)
{
	rec_raw(o, "feed", 4);
	rec_str(o, fs->url);
	rec_str(o, fs->etag);
	rec_str(o, fs->last_modified);
	rec_time(o, fs->last_fetch);
	rec_num(o, fs->last_status);
	rec_num(o, fs->failures);
	rec_time(o, fs->first_failure);
	rec_time(o, fs->retry_after);
	rec_num(o, fs->gone != 0);
	rec_str(o, fs->last_error);
	rec_str(o, fs->moved_to);
	rec_eol(o);
}

/*
 * An item record; a recipient's record gets a seventh field, and is left
 * out once the subscription's own record covers it.  1 if written.
 */
static int
write_item(struct rec_out *o, const struct state *st, const struct item *it)
{
	const struct name *nm = &st->subs.v[it->sub];
	const char *id = item_id(st, it);

	if (nm->sub != NONE && item_find(st, nm->sub, it->feed, id, it->len,
	                                 item_hash(nm->sub, it->feed, id, it->len)) != NONE)
		return 0;
	rec_raw(o, "item", 4);
	rec_str(o, nm->sub != NONE ? st->subs.v[nm->sub].key : nm->key);
	rec_str(o, st->feeds.v[it->feed].key);
	rec_field(o, id, it->len);
	rec_time(o, it->first_seen);
	rec_time(o, it->last_seen);
	if (nm->sub != NONE)
		rec_str(o, strchr(nm->key, RCPT_SEP) + 1);
	rec_eol(o);
	return 1;
}

static int
write_state(struct rec_out *o, const struct state *st)
{
	uint32_t *feeds = sorted_names(&st->feeds), *subs = sorted_names(&st->subs);
	uint32_t *subrank = malloc((st->subs.n + 1) * sizeof *subrank);
	uint32_t *feedrank = malloc((st->feeds.n + 1) * sizeof *feedrank);
	struct sortctx c = {.st = st, .subrank = subrank, .feedrank = feedrank};
	uint32_t *items = NULL;
	size_t i, records = st->feeds.n;
	int rc = -1;

	if (feeds == NULL || subs == NULL || subrank == NULL || feedrank == NULL)
		goto done;
	for (i = 0; i < st->feeds.n; i++)
		feedrank[feeds[i]] = (uint32_t)i;
	for (i = 0; i < st->subs.n; i++)
		subrank[subs[i]] = (uint32_t)i;
	if ((items = sorted_items(&c)) == NULL)
		goto done;
	rec_raw(o, STATE_HEADER, sizeof STATE_HEADER - 1);
	for (i = 0; i < st->feeds.n; i++)
		write_feed(o, &feed_at(st, feeds[i])->fs);
	for (i = 0; i < st->subs.n; i++) {
		if (st->subs.v[subs[i]].sub != NONE)
			continue; /* a recipient key: its records name it */
		rec_raw(o, "sub", 3);
		rec_str(o, st->subs.v[subs[i]].key);
		rec_eol(o);
		records++;
	}
	for (i = 0; i < st->live; i++)
		records += (size_t)write_item(o, st, &st->items[items[i]]);
	rec_raw(o, "end", 3);
	rec_num(o, (long long)records);
	rec_eol(o);
	rec_flush(o);
	rc = 0;
done:
	free(feeds);
	free(subs);
	free(subrank);
	free(feedrank);
	free(items);
	return rc;
}

int
state_write_changed_feeds(const struct state *st, int fd, struct err *e)
{
	struct rec_out o = {.fd = fd, .buf = malloc(REC_OUT_CHUNK)};

	if (o.buf == NULL)
		return err_oom(e);
	for (size_t i = 0; i < st->feeds.n; i++)
		if (feed_changed(feed_at(st, (uint32_t)i)))
			write_feed(&o, &feed_at(st, (uint32_t)i)->fs);
	rec_flush(&o);
	free(o.buf);
	if (o.err != 0)
		return err_set(e, EX_IOERR, "%s", strerror(o.err));
	return 0;
}

void
state_feeds_saved(struct state *st)
{
	for (size_t i = 0; i < st->feeds.n; i++)
		if (feed_changed(feed_at(st, (uint32_t)i)) &&
		    feed_snapshot(feed_at(st, (uint32_t)i)) < 0)
			st->dirty = 1; /* not remembered: the next save writes the file */
}

int
state_save(struct state *st, const char *link_path, struct err *e)
{
	struct rec_out o = {.fd = -1};
	struct stat written = {0};
	char *dir = NULL, *tmp = NULL, *path;
	const char *base;
	int rc = -1;

	/* Unchanged: the file holds it already, and rewriting it would cost the most of a run. */
	if (!state_needs_save(st, link_path))
		return 0;
	if (state_load_items(st, e) < 0)
		return -1; /* what was not read cannot be written back */
	/* A symlinked state is written where it leads: the link stays a link. */
	if (state_target(link_path, &path, e) < 0)
		return -1;
	if (state_mkdir_parent(path, e) < 0) {
		free(path);
		return -1;
	}
	if (state_split_path(path, &dir, &base) < 0 ||
	    (tmp = str_printf("%s%s%s", path, STATE_TMP_SUFFIX, STATE_TMP_XS)) == NULL ||
	    (o.buf = malloc(REC_OUT_CHUNK)) == NULL) {
		err_oom(e);
		goto done;
	}
	state_remove_stale_temps(dir, base);
	if ((o.fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		err_set(e, EX_IOERR, "cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (fchmod(o.fd, 0600) < 0)
		o.err = errno;
	if (!o.err && write_state(&o, st) < 0) {
		err_oom(e);
		goto fail;
	}
	if (!o.err && fsync(o.fd) < 0)
		o.err = errno;
	if (!o.err && fstat(o.fd, &written) < 0)
		written.st_nlink = 0; /* unknown: the next save writes */
	if (close(o.fd) < 0 && !o.err)
		o.err = errno;
	o.fd = -1;
	if (o.err) {
		err_set(e, EX_IOERR, "cannot write %s: %s", tmp, strerror(o.err));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		err_set(e, EX_IOERR, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	if (fsync_dir(dir) < 0) {
		err_set(e, EX_IOERR, "cannot sync folder %s: %s", dir, strerror(errno));
		goto done;
	}
	st->file = written;
	(void)mark_saved(st); /* out of memory: the next save writes again, no harm */
	rc = 0;
	goto done;
fail:
	if (o.fd >= 0)
		close(o.fd);
	unlink(tmp);
done:
	free(o.buf);
	free(tmp);
	free(dir);
	free(path);
	return rc;
}

/* ---------- reading ---------- */

#define MAX_FIELDS 12

struct loader {
	struct state *st;
	const char *path;
	size_t lineno, records;
	uint32_t last_sub, last_feed; /* item lines come in runs of one feed */
	unsigned dash;                /* bit i: field i was a bare "-" (none) */
	size_t nf;                    /* fields on the current line */
	int nul;                      /* the file holds a NUL byte somewhere */
	struct {                      /* an item line parsed but not yet indexed */
		int on;
		uint32_t sub, feed, h;
		uint64_t off;
		size_t len, lineno;
		int64_t first, last;
	} pending;
	char last_ts[20]; /* the last time parsed, and its value */
	int64_t last_t;
	int ended;
	int in_items;      /* an item record was read: no feed or sub record may follow */
	int defer;         /* stop at the first item record (state_open) */
	int replace;       /* a journal's feed records: they replace the file's */
	int upgrade;       /* an old form the save rewrites (11-field feed records) */
	long long version; /* of the file's format */
	char *held;        /* defer: the first item record, unparsed */
	size_t held_len;
	struct err *e;
};

static int
bad(struct loader *l, const char *why)
{
	return err_set(l->e, EX_IOERR, "%s:%zu: %s", l->path, l->lineno, why);
}

static int
bad_time(struct loader *l, const char *s, size_t n, int64_t *t)
{
	if (n == sizeof l->last_ts && memcmp(s, l->last_ts, n) == 0) {
		*t = l->last_t;
		return 0;
	}
	if (n == 1 && s[0] == '-')
		*t = 0;
	else if (date_parse_strict(s, n, t) < 0 || *t <= 0) /* the epoch itself is "-" */
		return bad(l, "bad time (want YYYY-MM-DDTHH:MM:SSZ or -)");
	if (n == sizeof l->last_ts) {
		memcpy(l->last_ts, s, n);
		l->last_t = *t;
	}
	return 0;
}

/* Optional string field i: a bare "-" is NULL (an escaped one, %2D, is "-"). */
static int
opt_str(struct loader *l, char **dst, char **f, size_t *n, int i)
{
	const char *s = f[i];

	if (l->dash & 1u << i)
		return 0;
	if ((*dst = str_ndup(s, n[i])) == NULL)
		return err_oom(l->e);
	return 0;
}

static int
load_feed(struct loader *l, char **f, size_t *n)
{
	struct feed_state *fs;
	long long status, failures, gone;
	int64_t t[3];
	uint32_t idx = names_find(&l->st->feeds, f[1]);

	if (idx != NONE && !l->replace)
		return bad(l, "duplicate feed record");
	if (bad_time(l, f[4], n[4], &t[0]) < 0 || bad_time(l, f[7], n[7], &t[1]) < 0 ||
	    bad_time(l, f[8], n[8], &t[2]) < 0)
		return -1;
	if (rec_parse_num(f[5], n[5], 999999, &status) < 0 ||
	    rec_parse_num(f[6], n[6], INT_MAX, &failures) < 0 ||
	    rec_parse_num(f[9], n[9], 1, &gone) < 0)
		return bad(l, "bad number");
	/* A journal older than the file (a save's leftover: the crash came before its
	 * unlink) must not take the feed back to an older fetch. */
	if (idx != NONE && l->replace && t[0] < feed_at(l->st, idx)->fs.last_fetch)
		return 0;
	if (idx == NONE && (idx = feed_add(l->st, f[1])) == NONE)
		return err_oom(l->e);
	fs = &feed_at(l->st, idx)->fs;
	feed_state_forget(fs);
	fs->last_fetch = t[0];
	fs->first_failure = t[1];
	fs->retry_after = t[2];
	fs->last_status = (long)status;
	fs->failures = (int)failures;
	fs->gone = (int)gone;
	if (opt_str(l, &fs->etag, f, n, 2) < 0 || opt_str(l, &fs->last_modified, f, n, 3) < 0 ||
	    opt_str(l, &fs->last_error, f, n, 10) < 0)
		return -1;
	/* Files written before MOVED-TO existed have 11 fields: no move. */
	if (l->nf > 11 && opt_str(l, &fs->moved_to, f, n, 11) < 0)
		return -1;
	l->upgrade |= l->nf <= 11;
	return 0;
}

static int
load_sub(struct loader *l, char **f, size_t *n)
{
	if (names_find(&l->st->subs, f[1]) != NONE)
		return bad(l, "duplicate sub record");
	if (memchr(f[1], RCPT_SEP, n[1]) != NULL)
		return bad(l, "bad character (%1F) in a subscription name");
	return names_add(&l->st->subs, f[1], NULL) == NONE ? err_oom(l->e) : 0;
}

static int
flush_pending(struct loader *l)
{
	struct state *st = l->st;
	size_t now = l->lineno;

	if (!l->pending.on)
		return 0;
	l->pending.on = 0;
	if (item_find(st, l->pending.sub, l->pending.feed, st->arena + l->pending.off,
	              l->pending.len, l->pending.h) != NONE) {
		l->lineno = l->pending.lineno;
		bad(l, "duplicate item record");
		l->lineno = now;
		return -1;
	}
	if (item_link(st, l->pending.sub, l->pending.feed, l->pending.off, l->pending.len,
	              l->pending.h, l->pending.first, l->pending.last) == NONE)
		return err_oom(l->e);
	return 0;
}

/* The recipient key of rcpt under subscription s, made on first sight. */
static uint32_t
load_rcpt(struct loader *l, uint32_t s, const char *rcpt, size_t n)
{
	uint32_t k;

	if (l->version < 2)
		return bad(l, "item record has 7 fields, want 6"), NONE;
	if (n == 0)
		return bad(l, "empty recipient"), NONE;
	if ((k = rcpt_find(l->st, l->st->subs.v[s].key, rcpt, 1)) == NONE)
		err_oom(l->e);
	return k;
}

static int
load_item(struct loader *l, char **f, size_t *n)
{
	struct state *st = l->st;
	uint32_t s = l->last_sub, fd = l->last_feed, h;
	int64_t first, last;
	uint64_t off;

	if (s == NONE || strcmp(st->subs.v[s].key, f[1]) != 0)
		s = l->last_sub = names_find(&st->subs, f[1]);
	l->in_items = 1;
	if (s == NONE)
		return bad(l, "item of a subscription with no sub record");
	if (l->nf > 6 && !(l->dash & 1u << 6) && (s = load_rcpt(l, s, f[6], n[6])) == NONE)
		return -1;
	if (fd == NONE || strcmp(st->feeds.v[fd].key, f[2]) != 0)
		fd = l->last_feed = names_find(&st->feeds, f[2]);
	if (fd == NONE)
		return bad(l, "item of a feed with no feed record");
	if (bad_time(l, f[4], n[4], &first) < 0 || bad_time(l, f[5], n[5], &last) < 0)
		return -1;
	h = item_hash(s, fd, f[3], n[3]);
	if (arena_add(st, f[3], n[3], &off) < 0)
		return err_oom(l->e);
	/*
	 * Index it only after the next line is parsed: the table slot is a
	 * cache miss, and parsing hides it.
	 */
	if (st->nitab > 0)
		__builtin_prefetch(&st->itab[h & (st->nitab - 1)]);
	if (flush_pending(l) < 0)
		return -1;
	l->pending.on = 1;
	l->pending.sub = s;
	l->pending.feed = fd;
	l->pending.h = h;
	l->pending.off = off;
	l->pending.len = n[3];
	l->pending.lineno = l->lineno;
	l->pending.first = first;
	l->pending.last = last;
	return 0;
}

static int
load_end(struct loader *l, char **f, size_t *n)
{
	long long count;

	if (rec_parse_num(f[1], n[1], LLONG_MAX / 2, &count) < 0)
		return bad(l, "bad number");
	if ((size_t)count != l->records)
		return bad(l, "record count does not match the end record (truncated?)");
	l->ended = 1;
	return 0;
}

static const struct {
	const char *name;
	size_t minfields, maxfields; /* fewer: a field added later, absent */
	int (*load)(struct loader *, char **, size_t *);
} record_types[] = {
    {"item", 6, 7, load_item},
    {"feed", 11, 12, load_feed},
    {"sub", 2, 2, load_sub},
    {"end", 2, 2, load_end},
};

static int
load_line(struct loader *l, char *line, size_t len)
{
	char *f[MAX_FIELDS + 1], *p = line, *end = line + len, *tab;
	size_t n[MAX_FIELDS + 1], nf = 0;
	long k;
	int pct;
	char msg[80];

	if (l->ended)
		return bad(l, "data after the end record");
	if (len > 0 && line[0] == '#')
		return 0;
	l->dash = 0;
	if (l->nul && strlen(line) != len)
		return bad(l, "NUL byte");
	pct = memchr(line, '%', len) != NULL;
	for (;;) {
		if (nf == MAX_FIELDS + 1)
			return bad(l, "too many fields");
		tab = memchr(p, '\t', (size_t)(end - p));
		f[nf] = p;
		n[nf] = (size_t)((tab ? tab : end) - p);
		f[nf][n[nf]] = '\0';
		if (n[nf] == 1 && f[nf][0] == '-')
			l->dash |= 1u << nf;
		if (pct && nf > 0) {
			if ((k = pct_decode(f[nf], n[nf])) < 0)
				return bad(l, "bad %XX escape");
			n[nf] = (size_t)k;
		}
		nf++;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	for (size_t i = 0; i < sizeof record_types / sizeof record_types[0]; i++) {
		if (strcmp(f[0], record_types[i].name) != 0)
			continue;
		if (nf < record_types[i].minfields || nf > record_types[i].maxfields) {
			snprintf(msg, sizeof msg, "%s record has %zu fields, want %zu", f[0], nf,
			         nf < record_types[i].minfields ? record_types[i].minfields
			                                        : record_types[i].maxfields);
			return bad(l, msg);
		}
		if (l->in_items && record_types[i].load != load_item &&
		    record_types[i].load != load_end)
			return bad(l, "feed and sub records come before the item records");
		l->nf = nf;
		if (record_types[i].load != load_end)
			l->records++;
		if (record_types[i].load != load_item && flush_pending(l) < 0)
			return -1;
		return record_types[i].load(l, f, n);
	}
	return bad(l, len == 0 ? "empty line" : "unknown record type");
}

int
state_replay_feed(struct state *st, const char *path, size_t lineno, char *line, struct err *e)
{
	struct loader l = {.st = st,
	                   .path = path,
	                   .lineno = lineno,
	                   .last_sub = NONE,
	                   .last_feed = NONE,
	                   .replace = 1,
	                   .version = STATE_VERSION,
	                   .e = e};
	uint32_t idx;

	if (strncmp(line, "feed\t", 5) != 0)
		return bad(&l, "not a feed record");
	if (load_line(&l, line, strlen(line)) < 0)
		return -1;
	/* The journal holds it: it counts as saved (load_line cut out the URL, decoded). */
	if ((idx = names_find(&st->feeds, line + 5)) != NONE && feed_snapshot(feed_at(st, idx)) < 0)
		return err_oom(e);
	return 0;
}

static int
load_header(struct loader *l, const char *line, size_t len)
{
	size_t m = strlen(STATE_MAGIC);
	long long v;
	char msg[160];

	if (len < m || memcmp(line, STATE_MAGIC, m) != 0 ||
	    rec_parse_num(line + m, len - m, INT_MAX, &v) < 0 || v == 0)
		return bad(l, "not a tidings state file (no \"tidings-state N\" line)");
	if (v > STATE_VERSION) {
		snprintf(msg, sizeof msg,
		         "written by a newer tidings (state format %lld; this tidings reads %d):"
		         " upgrade tidings",
		         v, STATE_VERSION);
		return bad(l, msg);
	}
	l->version = v;
	return 0;
}

/*
 * The lines of r from where it stands to the end: 0 when the file ends
 * with its end record.  With l->defer, the first item record stops the
 * reading (1): it is left in l->held, unparsed, for state_load_items.
 */
static int
load_lines(struct loader *l, struct rec_in *r)
{
	char *line;
	size_t len;
	int got, tail = 0, err = 0;

	while ((got = rec_read_line(r, &line, &len, &tail, &err)) == 1) {
		l->lineno++;
		l->nul = r->nul;
		if (l->defer && l->lineno > 1 && len > 5 && memcmp(line, "item\t", 5) == 0) {
			l->held = line;
			l->held_len = len;
			return 1;
		}
		if ((l->lineno == 1 ? load_header(l, line, len) : load_line(l, line, len)) < 0)
			return -1;
	}
	if (got < 0)
		return err_set(l->e, EX_IOERR, "%s:%zu: %s", l->path, l->lineno + 1, strerror(err));
	l->lineno++;
	if (tail)
		return bad(l, "truncated (last line has no newline)");
	if (l->lineno == 1)
		return bad(l, "empty file");
	if (!l->ended)
		return bad(l, "truncated (no end record)");
	return 0;
}

/*
 * The count on the end record, if the file's last line is one: a hint
 * for sizing the tables, and the sign that the file is whole.
 */
static int
end_count(int fd, long long *count)
{
	char tail[END_TAIL], *p;
	struct stat sb;
	size_t len;

	if (fstat(fd, &sb) < 0 || sb.st_size < 16)
		return -1;
	len = sb.st_size < (off_t)sizeof tail ? (size_t)sb.st_size : sizeof tail;
	if (pread(fd, tail, len, sb.st_size - (off_t)len) != (ssize_t)len || tail[len - 1] != '\n')
		return -1;
	tail[len - 1] = '\0';
	if ((p = strrchr(tail, '\n')) == NULL || strncmp(p + 1, "end\t", 4) != 0 ||
	    rec_parse_num(p + 5, strlen(p + 5), LLONG_MAX / 2, count) < 0)
		return -1;
	return 0;
}

/*
 * Size the tables once from the count on the end record, and the arena
 * from the file's size (its ids are shorter than their lines), instead
 * of growing them step by step: each step copies what came before.  Only
 * a hint: the parse checks everything, and pages never touched take no
 * memory.
 */
static void
presize(struct state *st, int fd)
{
	struct stat sb;
	long long count;

	/* A count beyond one record per END_TAIL bytes is not trusted with memory. */
	if (fstat(fd, &sb) < 0 || end_count(fd, &count) < 0 || count > sb.st_size / END_TAIL)
		return;
	if ((uintmax_t)sb.st_size < SIZE_MAX / 4)
		(void)grow((void **)&st->arena, &st->acap, (size_t)sb.st_size + 1, 1, ARENA_MIN);
	if (itab_reserve(st, (size_t)count) == 0)
		(void)grow((void **)&st->items, &st->capitems, (size_t)count, sizeof *st->items,
		           ITEMS_MIN);
}

/* The item records of a file opened with state_open, and where the reading stopped. */
struct deferred {
	struct loader l;
	struct rec_in in;  /* its fd open, l.held in its buffer */
	char *path;        /* l.path */
	struct err failed; /* the load failed: said again to every later caller */
};

static void
deferred_free(struct deferred *d)
{
	if (d == NULL)
		return;
	close(d->in.fd);
	free(d->in.buf);
	free(d->path);
	free(d);
}

/* Keep the reading where l stopped for state_load_items: 0, or -1 on OOM. */
static int
defer(struct loader *l, struct rec_in *r)
{
	struct deferred *d = calloc(1, sizeof *d);

	if (d == NULL || (d->path = str_dup(l->path)) == NULL) {
		free(d);
		return err_oom(l->e);
	}
	d->l = *l;
	d->l.path = d->path;
	d->l.defer = 0;
	d->l.e = NULL;
	d->in = *r;
	l->st->rest = d;
	return 0;
}

/*
 * Read the file on fd into l->st: the whole of it, or with l->defer up to
 * its first item record (only when its last line is the end record:
 * a truncated file is told at once).
 */
static int
load_file(struct loader *l, int fd)
{
	struct rec_in r = {.fd = fd, .buf = malloc(REC_READ_CHUNK), .cap = REC_READ_CHUNK};
	long long count;
	int rc;

	if (r.buf == NULL)
		return err_oom(l->e);
	if (l->defer && end_count(fd, &count) < 0)
		l->defer = 0;
	if (!l->defer)
		presize(l->st, fd);
	rc = load_lines(l, &r);
	/* An old form is written back whole on the next save: read it whole. */
	if (rc == 1 && l->version < STATE_VERSION) {
		l->defer = 0;
		presize(l->st, fd);
		rc = load_line(l, l->held, l->held_len) < 0 ? -1 : load_lines(l, &r);
	}
	if (rc == 1 && defer(l, &r) == 0)
		return 0; /* r's buffer and fd are the state's now */
	free(r.buf);
	return rc == 0 ? 0 : -1;
}

static int
open_state(const char *path, struct state **out, int lazy, struct err *e)
{
	struct loader l = {
	    .path = path, .last_sub = NONE, .last_feed = NONE, .defer = lazy, .e = e};
	int fd;

	*out = NULL;
	if ((l.st = state_new()) == NULL)
		return err_oom(e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			*out = l.st;
			return 0;
		}
		state_free(l.st);
		return err_set(e, EX_IOERR, "cannot open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &l.st->file) < 0)
		l.st->file.st_nlink = 0; /* unknown: the save writes */
	if (load_file(&l, fd) < 0) {
		close(fd);
		state_free(l.st);
		return -1;
	}
	if (l.st->rest == NULL)
		close(fd);
	/* A file in an older form is written back in the current one even if nothing changed. */
	if (mark_saved(l.st) < 0) {
		state_free(l.st);
		return err_oom(e);
	}
	l.st->dirty = l.upgrade || l.version < STATE_VERSION;
	*out = l.st;
	return 0;
}

int
state_open(const char *path, struct state **out, struct err *e)
{
	return open_state(path, out, 1, e);
}

int
state_load(const char *path, struct state **out, struct err *e)
{
	return open_state(path, out, 0, e);
}

/*
 * The rest of the file, after whatever the run did meanwhile: what it
 * adds is no change (the file holds it), so the counts of what is saved
 * move with it and the dirty flag is left as it was.
 */
int
state_load_items(struct state *st, struct err *e)
{
	struct deferred *d = st->rest;
	size_t subs = st->subs.n;
	int dirty = st->dirty, rc;

	if (d == NULL)
		return 0;
	if (d->failed.code != 0) {
		*e = d->failed;
		return -1;
	}
	d->l.e = e;
	presize(st, d->in.fd);
	rc = load_line(&d->l, d->l.held, d->l.held_len);
	if (rc == 0)
		rc = load_lines(&d->l, &d->in);
	d->l.e = NULL; /* the caller's */
	if (rc < 0) {
		d->failed = *e;
		return -1;
	}
	st->dirty = dirty;
	st->saved_subs += st->subs.n - subs;
	st->rest = NULL;
	deferred_free(d);
	return 0;
}
