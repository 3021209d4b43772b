/*
 * confuse_legacy: libconfuse's parse of tidings.conf (the loader tidings
 * had before conftree), for the differential test only.
 */
#ifndef TIDINGS_TEST_CONFUSE_LEGACY_H
#define TIDINGS_TEST_CONFUSE_LEGACY_H

#include "conftree.h"

/* A conftree_parser: conftree_parse()'s contract, libconfuse's parse. */
int legacy_parse(struct conftree *T, const struct conftree_load *ld);

#endif
