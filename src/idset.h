/*
 * idset: the ids a feed holds now, as a set to test recorded ids against
 * (the state refreshes the ones still there and forgets the others).
 *
 * An id recorded before issue 14 was fixed may be in its legacy form,
 * each "&" written "&#38;" (an Atom link standing in for a missing id):
 * idset_has matches it too, and idset_legacy_form gives that form of an
 * id, to look it up among the recorded ones.
 */
#ifndef TIDINGS_IDSET_H
#define TIDINGS_IDSET_H

#include <stddef.h>

#include "hashset.h"

struct idset {
	char *const *ids; /* the caller's, kept until idset_free */
	size_t *lens;
	struct hashset set;
};

/* Index the n ids (set zeroed first); -1 on OOM (idset_free it all the same). */
int idset_build(struct idset *set, char *const *ids, size_t n);
/* Is id (len bytes), or the id it stands for in its legacy form, in the set? */
int idset_has(const struct idset *set, const char *id, size_t len);
void idset_free(struct idset *set);

/* id with each "&" as "&#38;" (malloc'd); NULL when it has no "&" or on OOM. */
char *idset_legacy_form(const char *id, size_t len);

#endif
