/*
 * idset: the ids a feed holds now, and the legacy form of ids recorded
 * before issue 14.  See idset.h.
 */
#include "idset.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LEGACY_AMP     "&#38;"
#define LEGACY_AMP_LEN 5

/*
 * Until issue 14 was fixed, an id taken from an attribute (an Atom link
 * standing in for a missing id) had each "&" written "&#38;".  Such an id
 * as recorded then: NULL when id has no "&" (or out of memory).
 */
char *
idset_legacy_form(const char *id, size_t len)
{
	struct buf b = BUF_INIT;
	const char *amp;
	int r = 0;

	if (memchr(id, '&', len) == NULL)
		return NULL;
	while ((amp = strchr(id, '&')) != NULL) {
		r |= buf_add(&b, id, (size_t)(amp - id)) | buf_add(&b, LEGACY_AMP, LEGACY_AMP_LEN);
		id = amp + 1;
	}
	r |= buf_adds(&b, id);
	if (r < 0)
		buf_free(&b);
	return r < 0 ? NULL : b.data;
}

struct idkey {
	const char *id;
	size_t len;
};

static int
id_eq(const void *entries, uint32_t idx, const void *key)
{
	const struct idset *set = entries;
	const struct idkey *k = key;

	return set->lens[idx] == k->len && memcmp(set->ids[idx], k->id, k->len) == 0;
}

int
idset_build(struct idset *set, char *const *ids, size_t n)
{
	set->ids = ids;
	if ((set->lens = calloc(n ? n : 1, sizeof *set->lens)) == NULL ||
	    hashset_reserve(&set->set, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		set->lens[i] = strlen(ids[i]);
		if (hashset_add(&set->set, hash64(ids[i], set->lens[i]), (uint32_t)i) < 0)
			return -1;
	}
	return 0;
}

static int
idset_has_exact(const struct idset *set, const char *id, size_t len)
{
	struct idkey k = {.id = id, .len = len};

	return hashset_find(&set->set, hash64(id, len), id_eq, set, &k) != HASHSET_NONE;
}

/* Is a recorded id in its legacy form (see idset_legacy_form) among the set? */
static int
idset_has_legacy(const struct idset *set, const char *id, size_t len)
{
	char *now;
	size_t k = 0;
	int found;

	if (memmem(id, len, LEGACY_AMP, LEGACY_AMP_LEN) == NULL || (now = malloc(len + 1)) == NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		now[k++] = id[i];
		if (id[i] == '&' && len - i >= LEGACY_AMP_LEN &&
		    memcmp(id + i, LEGACY_AMP, LEGACY_AMP_LEN) == 0)
			i += LEGACY_AMP_LEN - 1;
	}
	found = idset_has_exact(set, now, k);
	free(now);
	return found;
}

void
idset_free(struct idset *set)
{
	free(set->lens);
	hashset_free(&set->set);
}

int
idset_has(const struct idset *set, const char *id, size_t len)
{
	return idset_has_exact(set, id, len) || idset_has_legacy(set, id, len);
}
