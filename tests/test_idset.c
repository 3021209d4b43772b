/* Unit tests for src/idset.c: a feed's ids as a set, legacy forms included. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"

static int
has(const struct idset *set, const char *id)
{
	return idset_has(set, id, strlen(id));
}

START_TEST(holds_its_ids_only)
{
	char *ids[] = {"a", "ab", "tag:x,2020:1", "", "a\tb"};
	struct idset set = {0};

	ck_assert_int_eq(idset_build(&set, ids, 5), 0);
	for (size_t i = 0; i < 5; i++)
		ck_assert_msg(has(&set, ids[i]), "%s", ids[i]);
	ck_assert(!has(&set, "b"));
	ck_assert(!has(&set, "abc"));
	ck_assert(idset_has(&set, "ab", 1)); /* the first byte alone: "a" */
	ck_assert(idset_has(&set, "abc", 2));
	idset_free(&set);
}
END_TEST

START_TEST(empty_set)
{
	struct idset set = {0};

	ck_assert_int_eq(idset_build(&set, NULL, 0), 0);
	ck_assert(!has(&set, "a"));
	ck_assert(!has(&set, ""));
	idset_free(&set);
}
END_TEST

/* An id recorded as "&#38;" (before issue 14) is in the set that holds it with "&". */
START_TEST(legacy_forms)
{
	char *ids[] = {"https://e.org/?a=1&b=2", "plain"};
	struct idset set = {0};
	char *old;

	ck_assert_int_eq(idset_build(&set, ids, 2), 0);
	ck_assert(has(&set, "https://e.org/?a=1&#38;b=2"));
	ck_assert(!has(&set, "https://e.org/?a=1&#38;b=3"));
	ck_assert(!has(&set, "plain&#38;"));
	idset_free(&set);
	ck_assert_ptr_nonnull(old = idset_legacy_form("x&y&", 4));
	ck_assert_str_eq(old, "x&#38;y&#38;");
	free(old);
	ck_assert_ptr_null(idset_legacy_form("no amp", 6));
}
END_TEST

START_TEST(many_ids)
{
	enum { N = 3000 };
	static char buf[N][24];
	char *ids[N];
	struct idset set = {0};

	for (int i = 0; i < N; i++) {
		snprintf(buf[i], sizeof buf[i], "id-%d", i * 7);
		ids[i] = buf[i];
	}
	ck_assert_int_eq(idset_build(&set, ids, N), 0);
	for (int i = 0; i < N * 7; i++) {
		char id[24];

		snprintf(id, sizeof id, "id-%d", i);
		ck_assert_int_eq(has(&set, id), i % 7 == 0);
	}
	idset_free(&set);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("idset");
	TCase *tc = tcase_create("idset");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, holds_its_ids_only);
	tcase_add_test(tc, empty_set);
	tcase_add_test(tc, legacy_forms);
	tcase_add_test(tc, many_ids);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
