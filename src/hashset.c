/*
 * hashset: a hash-to-index table with the caller's equality.  See
 * hashset.h.
 */
#include "hashset.h"

#include <stdlib.h>

#define MIN_CAP 16

static void
place(struct hashset_slot *slot, size_t cap, uint64_t hash, uint32_t idx1)
{
	size_t mask = cap - 1, i;

	for (i = hash & mask; slot[i].idx1 != 0; i = (i + 1) & mask)
		continue;
	slot[i] = (struct hashset_slot){.hash = hash, .idx1 = idx1};
}

int
hashset_reserve(struct hashset *h, size_t n)
{
	size_t cap = h->cap ? h->cap : MIN_CAP;
	struct hashset_slot *slot;

	while (cap / 2 < n) {
		if (cap > SIZE_MAX / 2 / sizeof *slot)
			return -1;
		cap *= 2;
	}
	if (cap == h->cap)
		return 0;
	if ((slot = calloc(cap, sizeof *slot)) == NULL)
		return -1;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slot[i].idx1 != 0)
			place(slot, cap, h->slot[i].hash, h->slot[i].idx1);
	free(h->slot);
	h->slot = slot;
	h->cap = cap;
	return 0;
}

uint32_t
hashset_find(const struct hashset *h, uint64_t hash, hashset_eq eq, const void *entries,
             const void *key)
{
	size_t mask = h->cap - 1, i;

	if (h->cap == 0)
		return HASHSET_NONE;
	for (i = hash & mask; h->slot[i].idx1 != 0; i = (i + 1) & mask)
		if (h->slot[i].hash == hash && eq(entries, h->slot[i].idx1 - 1, key))
			return h->slot[i].idx1 - 1;
	return HASHSET_NONE;
}

int
hashset_add(struct hashset *h, uint64_t hash, uint32_t idx)
{
	if (idx >= HASHSET_NONE - 1 || hashset_reserve(h, h->n + 1) < 0)
		return -1;
	place(h->slot, h->cap, hash, idx + 1);
	h->n++;
	return 0;
}

void
hashset_free(struct hashset *h)
{
	free(h->slot);
	*h = (struct hashset){0};
}
