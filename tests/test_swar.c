/* Unit tests for src/swar.h: every mask against a byte-by-byte reference */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "swar.h"

/* The mask a byte loop gives: 0x80 in byte i (memory order) when pred(b[i]). */
static uint64_t
reference(const unsigned char *b, int (*pred)(unsigned char, unsigned char), unsigned char c)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < 8; i++)
		if (pred(b[i], c))
			m |= (uint64_t)0x80 << (8 * i);
	return m;
}

static int
is_below(unsigned char b, unsigned char c)
{
	return b < c;
}

static int
is_at_least(unsigned char b, unsigned char c)
{
	return b >= c;
}

static int
is_eq(unsigned char b, unsigned char c)
{
	return b == c;
}

static int
is_high(unsigned char b, unsigned char c)
{
	(void)c;
	return b >= 0x80;
}

static int
is_cont(unsigned char b, unsigned char c)
{
	(void)c;
	return (b & 0xc0) == 0x80;
}

/*
 * got must be want; checked without Check's per-assertion bookkeeping,
 * which would make the millions of comparisons here slow.
 */
#define SAME(got, want, w, c)                                                                      \
	do {                                                                                       \
		uint64_t got_ = (got), want_ = (want);                                             \
		if (got_ != want_)                                                                 \
			ck_abort_msg("%s: %016llx, want %016llx (c %02x, word %016llx)", #got,     \
			             (unsigned long long)got_, (unsigned long long)want_, c,       \
			             (unsigned long long)swar_load(w));                            \
	} while (0)

/* Every function on w (8 bytes), against the reference, for the byte c. */
static void
check_word(const unsigned char *w, unsigned char c)
{
	uint64_t x = swar_load(w);

	SAME(swar_eq(x, c), reference(w, is_eq, c), w, c);
	SAME(swar_zero(x), reference(w, is_eq, 0), w, c);
	SAME(swar_high(x), reference(w, is_high, 0), w, c);
	SAME(swar_cont(x), reference(w, is_cont, 0), w, c);
	if (c <= 0x80)
		SAME(swar_below(x, c), reference(w, is_below, c), w, c);
	if (c >= 0x80)
		SAME(swar_at_least(x, c), reference(w, is_at_least, c), w, c);
}

START_TEST(load_puts_the_first_byte_low)
{
	static const unsigned char b[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

	ck_assert_uint_eq(swar_load(b), 0x0807060504030201ULL);
	/* Unaligned too. */
	ck_assert_uint_eq(swar_load(b + 1), 0x0908070605040302ULL);
}
END_TEST

/*
 * One byte of every value at byte 0, at byte 7 and between, in words of
 * each background (NUL, space, DEL, 0x80, 0xff, a letter), for the bytes
 * that sit at the masks' edges.
 */
START_TEST(masks_are_exact_at_every_position)
{
	static const unsigned char backgrounds[] = {0x00, 0x20, 0x7f, 0x80, 0xff, 'a'};
	static const unsigned char cs[] = {0x00, 0x01, 0x20, 0x26, 0x3c, 0x7f, 0x80,
	                                   0x81, 0xc2, 0xe1, 0xef, 0xfe, 0xff};

	for (size_t bg = 0; bg < sizeof backgrounds; bg++)
		for (unsigned pos = 0; pos < 8; pos++)
			for (unsigned v = 0; v < 256; v++)
				for (size_t k = 0; k < sizeof cs; k++) {
					unsigned char w[8];

					memset(w, backgrounds[bg], 8);
					w[pos] = (unsigned char)v;
					check_word(w, cs[k]);
				}
}
END_TEST

/* Words of random bytes, where marks sit next to each other (borrows). */
START_TEST(masks_are_exact_on_random_words)
{
	uint64_t seed = 88172645463325252ULL;

	for (int round = 0; round < 20000; round++) {
		unsigned char w[8];

		for (unsigned i = 0; i < 8; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			/* Half the bytes from a few values, so that they repeat. */
			w[i] = (seed & 1) ? (unsigned char)(seed >> 8)
			                  : "\0 \x1f\x20<&\x7f\x80\xc2\xe1\xff"[(seed >> 8) % 11];
		}
		for (unsigned c = 0; c < 256; c += 17)
			check_word(w, (unsigned char)c);
		check_word(w, 0x80);
	}
}
END_TEST

START_TEST(first_and_count)
{
	unsigned char w[8];
	uint64_t m;

	memset(w, 'a', 8);
	/* No match: no marks, none counted. */
	ck_assert_uint_eq(swar_eq(swar_load(w), 'b'), 0);
	ck_assert_uint_eq(swar_count(0), 0);
	ck_assert_uint_eq(swar_count(SWAR_HIGHS), 8);
	for (unsigned pos = 0; pos < 8; pos++) {
		memset(w, 'a', 8);
		w[pos] = 'b';
		m = swar_eq(swar_load(w), 'b');
		ck_assert_uint_eq(swar_first(m), pos);
		ck_assert_uint_eq(swar_count(m), 1);
		/* A second match after it leaves the first first. */
		w[7] = 'b';
		m = swar_eq(swar_load(w), 'b');
		ck_assert_uint_eq(swar_first(m), pos);
		ck_assert_uint_eq(swar_count(m), pos == 7 ? 1 : 2);
	}
	memcpy(w,
	       "\x80\xff"
	       "ab\x80"
	       "c\xff\x01",
	       8);
	ck_assert_uint_eq(swar_count(swar_high(swar_load(w))), 4);
	ck_assert_uint_eq(swar_first(swar_high(swar_load(w))), 0);
	ck_assert_uint_eq(swar_first(swar_zero(swar_load("abcdefg"))), 7);
}
END_TEST

START_TEST(head_keeps_the_first_bytes)
{
	for (unsigned k = 0; k <= 8; k++) {
		uint64_t h = swar_head(SWAR_HIGHS, k);

		ck_assert_uint_eq(swar_count(h), k);
		if (k > 0)
			ck_assert_uint_eq(swar_first(h), 0);
		ck_assert_uint_eq(swar_head(0, k), 0);
	}
	/* Marks at bytes 2 and 5: the first 5 bytes hold one. */
	ck_assert_uint_eq(swar_count(swar_head(swar_eq(swar_load("ab.de.gh"), '.'), 5)), 1);
	ck_assert_uint_eq(swar_count(swar_head(swar_eq(swar_load("ab.de.gh"), '.'), 6)), 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("swar");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, load_puts_the_first_byte_low);
	tcase_add_test(tc, masks_are_exact_at_every_position);
	tcase_add_test(tc, masks_are_exact_on_random_words);
	tcase_add_test(tc, first_and_count);
	tcase_add_test(tc, head_keeps_the_first_bytes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
