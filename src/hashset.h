/*
 * hashset: one simple open-addressing index for the tables that need no
 * more, from a 64-bit hash to a caller's index (into the caller's own
 * array of entries), with the caller's equality.
 *
 * Linear probing, at most half full, grown by doubling; each slot keeps
 * the full hash, so the equality is called only on a real candidate and
 * growing needs no rehash from the caller.  Entries are never removed
 * (rebuild the set instead).  Not for the state's big item table, which
 * packs a slot into 8 bytes and deletes in place (see state.c).
 */
#ifndef TIDINGS_HASHSET_H
#define TIDINGS_HASHSET_H

#include <stddef.h>
#include <stdint.h>

#define HASHSET_NONE UINT32_MAX

struct hashset_slot {
	uint64_t hash;
	uint32_t idx1; /* the caller's index + 1; 0: empty */
};

struct hashset {
	struct hashset_slot *slot;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

/* Is the caller's entry idx the one for key? */
typedef int (*hashset_eq)(const void *entries, uint32_t idx, const void *key);

/* Room for n entries without growing; -1 on OOM. */
int hashset_reserve(struct hashset *h, size_t n);
/* The index of the entry for key (hash, then eq), or HASHSET_NONE. */
uint32_t hashset_find(const struct hashset *h, uint64_t hash, hashset_eq eq, const void *entries,
                      const void *key);
/* Index idx under hash (the caller checked it is not there yet); -1 on OOM. */
int hashset_add(struct hashset *h, uint64_t hash, uint32_t idx);
void hashset_free(struct hashset *h);

#endif
