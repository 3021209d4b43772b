#include "select.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "hashset.h"

/*
 * The ids and links shown in this digest so far, each with its item, so a
 * duplicate knows which item it stands in for.
 */
struct seen_entry {
	const char *key;
	const struct item *item;
};

struct seen {
	struct seen_entry *v;
	size_t n, cap;
	struct hashset set;
};

/* Room for the ids and links of expect items: the set never grows. */
static int
seen_init(struct seen *s, size_t expect)
{
	*s = (struct seen){.cap = 2 * expect + 1};
	if ((s->v = calloc(s->cap, sizeof *s->v)) == NULL || hashset_reserve(&s->set, s->cap) < 0)
		return -1;
	return 0;
}

static void
seen_free(struct seen *s)
{
	free(s->v);
	hashset_free(&s->set);
}

static int
seen_eq(const void *entries, uint32_t idx, const void *key)
{
	return strcmp(((const struct seen_entry *)entries)[idx].key, key) == 0;
}

static const struct seen_entry *
seen_find(const struct seen *s, const char *key)
{
	uint32_t i = hashset_find(&s->set, hash64_str(key), seen_eq, s->v, key);

	return i == HASHSET_NONE ? NULL : &s->v[i];
}

/* The item already shown under key, or NULL after adding it as it. */
static const struct item *
seen_add(struct seen *s, const char *key, const struct item *it)
{
	const struct seen_entry *e = seen_find(s, key);

	if (e != NULL)
		return e->item;
	/* Reserved for: cannot fail (n < cap holds, two keys an item). */
	if (s->n < s->cap && hashset_add(&s->set, hash64_str(key), (uint32_t)s->n) == 0)
		s->v[s->n++] = (struct seen_entry){.key = key, .item = it};
	return NULL;
}

static int
item_has_tag(const struct item *it, const struct feed_conf *fc, const char *tag)
{
	for (size_t i = 0; i < it->ntags; i++)
		if (str_ieq(it->tags[i], tag))
			return 1;
	return strv_contains_icase(&fc->tags, tag);
}

int
select_tags_match(const struct sub_conf *sub, const struct item *it, const struct feed_conf *fc)
{
	int any = sub->tags.n == 0;

	for (size_t i = 0; !any && i < sub->tags.n; i++)
		any = item_has_tag(it, fc, sub->tags.v[i]);
	if (!any)
		return 0;
	for (size_t i = 0; i < sub->exclude_tags.n; i++)
		if (item_has_tag(it, fc, sub->exclude_tags.v[i]))
			return 0;
	return 1;
}

int
select_sub_reads_feed(const struct sub_conf *sub, const struct feed_conf *fc)
{
	return sub->feeds.n == 0 || strv_contains_icase(&sub->feeds, fc->name);
}

static int
picks_push(struct picks *p, const struct item *it, size_t source, enum pick_kind kind,
           const struct item *dup_of)
{
	struct pick *v;
	size_t cap;

	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 32;
		v = realloc(p->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct pick){it, source, kind, dup_of};
	if (kind == PICK_SHOW)
		p->nshow++;
	return 0;
}

/* What to do with one matching item; -1 means leave it out. */
static int
classify(const struct sub_conf *sub, const struct item *it, const char *feed_url,
         const struct state *st, const struct select_params *p, int first_run)
{
	switch (p->mode) {
	case SELECT_SINCE: return it->has_date && it->published >= p->since ? PICK_SHOW : -1;
	case SELECT_ALL: return state_delivered(st, sub->name, feed_url, it->id) ? -1 : PICK_OLD;
	case SELECT_NEW: break;
	}
	if (state_delivered_to(st, sub->name, p->rcpt, feed_url, it->id))
		return -1;
	if (first_run && sub->first_run > 0 &&
	    (!it->has_date || it->published < p->now - sub->first_run))
		return PICK_OLD;
	return PICK_SHOW;
}

int
select_first_run(const struct sub_conf *sub, const struct feed_conf *fc, const struct state *st,
                 const struct select_params *p)
{
	return p->mode == SELECT_NEW && sub->first_run > 0 &&
	       !state_pair_known(st, sub->name, fc->url);
}

int
select_may_show(const struct sub_conf *sub, const struct item *it, const struct feed_conf *fc,
                const struct state *st, const struct select_params *p, int first_run)
{
	if (!select_sub_reads_feed(sub, fc) || !select_tags_match(sub, it, fc))
		return 0;
	if (p->mode == SELECT_SINCE && !it->has_date)
		return 0;
	return classify(sub, it, fc->url, st, p, first_run) == PICK_SHOW;
}

/* The item this one duplicates (same id or same link), or NULL. */
static const struct item *
shown_before(struct seen *seen, const struct item *it)
{
	const struct item *by_id = seen_add(seen, it->id, it), *by_link = NULL;

	if (it->link != NULL && it->link[0] != '\0')
		by_link = seen_add(seen, it->link, it);
	/* An id that is also the link finds the entry this item just made. */
	if (by_link == it)
		by_link = NULL;
	return by_id ? by_id : by_link;
}

static int
collect(const struct sub_conf *sub, const struct source *src, size_t nsrc, const struct state *st,
        const struct select_params *p, struct picks *out, struct seen *seen)
{
	for (size_t s = 0; s < nsrc; s++) {
		const struct feed *f = src[s].feed;
		int first_run;

		if (f == NULL || !select_sub_reads_feed(sub, src[s].conf))
			continue;
		first_run = select_first_run(sub, src[s].conf, st, p);
		for (size_t i = 0; i < f->nitems; i++) {
			const struct item *it = &f->items[i];
			const struct item *dup_of = NULL;
			int kind;

			if (!select_tags_match(sub, it, src[s].conf))
				continue;
			if (p->mode == SELECT_SINCE && !it->has_date) {
				out->undated++;
				continue;
			}
			kind = classify(sub, it, src[s].conf->url, st, p, first_run);
			if (kind < 0)
				continue;
			if (kind == PICK_SHOW && (dup_of = shown_before(seen, it)) != NULL)
				kind = PICK_DUPLICATE;
			if (picks_push(out, it, s, (enum pick_kind)kind, dup_of) < 0)
				return -1;
		}
	}
	return 0;
}

static int
cmp_date_oldest_first(const struct pick *a, const struct pick *b)
{
	if (a->item->has_date != b->item->has_date)
		return a->item->has_date ? -1 : 1; /* undated count as newest: kept for later */
	if (a->item->published != b->item->published)
		return a->item->published < b->item->published ? -1 : 1;
	return 0;
}

static int
cmp_for_cap(const void *pa, const void *pb)
{
	const struct pick *a = pa, *b = pb;

	/* Shown picks first, oldest first; then everything else. */
	if ((a->kind == PICK_SHOW) != (b->kind == PICK_SHOW))
		return a->kind == PICK_SHOW ? -1 : 1;
	return cmp_date_oldest_first(a, b);
}

static int
cmp_for_digest(const void *pa, const void *pb)
{
	const struct pick *a = pa, *b = pb;

	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	if (a->source != b->source)
		return a->source < b->source ? -1 : 1;
	if (a->item->has_date != b->item->has_date)
		return a->item->has_date ? -1 : 1;
	if (a->item->published != b->item->published)
		return a->item->published > b->item->published ? -1 : 1;
	return 0;
}

/*
 * Keep the max_items oldest shown items; the newer ones wait for the next
 * run, and so do their duplicates, or those would be recorded unsent.
 */
static int
apply_cap(const struct sub_conf *sub, struct picks *out)
{
	size_t max = (size_t)sub->max_items, keep = max;
	struct seen kept;

	if (sub->max_items <= 0 || out->nshow <= max)
		return 0;
	qsort(out->v, out->n, sizeof *out->v, cmp_for_cap);
	if (seen_init(&kept, max) < 0) {
		seen_free(&kept);
		return -1;
	}
	for (size_t i = 0; i < max; i++)
		seen_add(&kept, out->v[i].item->id, out->v[i].item);
	for (size_t i = out->nshow; i < out->n; i++) {
		const struct pick *pk = &out->v[i];

		if (pk->kind == PICK_DUPLICATE && seen_find(&kept, pk->dup_of->id) == NULL)
			continue;
		out->v[keep++] = *pk;
	}
	seen_free(&kept);
	out->held_back = out->nshow - max;
	out->nshow = max;
	out->n = keep;
	return 0;
}

int
select_items(const struct sub_conf *sub, const struct source *src, size_t nsrc,
             const struct state *st, const struct select_params *p, struct picks *out,
             struct err *e)
{
	struct seen seen;
	size_t total = 0;
	int rc;

	memset(out, 0, sizeof *out);
	for (size_t s = 0; s < nsrc; s++)
		total += src[s].feed ? src[s].feed->nitems : 0;
	if (seen_init(&seen, total) < 0) {
		seen_free(&seen);
		return err_oom(e);
	}
	rc = collect(sub, src, nsrc, st, p, out, &seen);
	seen_free(&seen);
	if (rc < 0) {
		picks_free(out);
		return err_oom(e);
	}
	if (p->mode == SELECT_NEW && apply_cap(sub, out) < 0) {
		picks_free(out);
		return err_oom(e);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_for_digest);
	return 0;
}

void
picks_free(struct picks *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}
