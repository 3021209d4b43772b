/* Unit tests for src/hashset.c: the shared hash-to-index table. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashset.h"
#include "util.h"

static int
str_at_eq(const void *entries, uint32_t idx, const void *key)
{
	return strcmp(((char *const *)entries)[idx], key) == 0;
}

/* Many keys, growing from empty: each found at its own index, absent ones not found. */
START_TEST(finds_what_was_added)
{
	enum { N = 5000 };
	static char keys[N][16];
	char *v[N] = {0}, other[16];
	struct hashset h = {0};

	ck_assert_uint_eq(hashset_find(&h, 1, str_at_eq, v, "x"), HASHSET_NONE);
	for (uint32_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "key-%u", i);
		v[i] = keys[i];
		ck_assert_int_eq(hashset_add(&h, hash64_str(v[i]), i), 0);
	}
	ck_assert_uint_eq(h.n, N);
	ck_assert_uint_ge(h.cap, 2 * N); /* at most half full */
	for (uint32_t i = 0; i < N; i++) {
		ck_assert_uint_eq(hashset_find(&h, hash64_str(v[i]), str_at_eq, v, v[i]), i);
		snprintf(other, sizeof other, "other-%u", i);
		ck_assert_uint_eq(hashset_find(&h, hash64_str(other), str_at_eq, v, other),
		                  HASHSET_NONE);
	}
	hashset_free(&h);
	ck_assert_ptr_null(h.slot);
	ck_assert_uint_eq(h.cap, 0);
}
END_TEST

/* Keys whose hashes collide (all the same) are told apart by the equality. */
START_TEST(collisions_use_the_equality)
{
	char *v[] = {"a", "b", "c", "d"};
	struct hashset h = {0};

	for (uint32_t i = 0; i < 4; i++)
		ck_assert_int_eq(hashset_add(&h, 42, i), 0);
	for (uint32_t i = 0; i < 4; i++)
		ck_assert_uint_eq(hashset_find(&h, 42, str_at_eq, v, v[i]), i);
	ck_assert_uint_eq(hashset_find(&h, 42, str_at_eq, v, "e"), HASHSET_NONE);
	ck_assert_uint_eq(hashset_find(&h, 43, str_at_eq, v, "a"), HASHSET_NONE);
	hashset_free(&h);
}
END_TEST

START_TEST(reserve_then_add_does_not_grow)
{
	struct hashset h = {0};
	struct hashset_slot *before;

	ck_assert_int_eq(hashset_reserve(&h, 100), 0);
	ck_assert_uint_eq(h.cap, 256);
	before = h.slot;
	for (uint32_t i = 0; i < 100; i++)
		ck_assert_int_eq(hashset_add(&h, (uint64_t)i * 0x9e3779b97f4a7c15ULL, i), 0);
	ck_assert_ptr_eq(h.slot, before);
	ck_assert_int_eq(hashset_add(&h, 7, HASHSET_NONE), -1); /* not an index */
	hashset_free(&h);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hashset");
	TCase *tc = tcase_create("hashset");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, finds_what_was_added);
	tcase_add_test(tc, collisions_use_the_equality);
	tcase_add_test(tc, reserve_then_add_does_not_grow);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
