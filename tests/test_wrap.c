/* Unit tests for src/wrap.c: plain text wrapped, CJK included */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "wrap.h"

START_TEST(wrap_plain_text)
{
	struct buf out = BUF_INIT;

	ck_assert_int_eq(text_wrap("short line\n\nthis is a longer line that needs wrapping here\n"
	                           "> quoted line that is long and needs wrapping\n"
	                           "- list item that is long and wraps\n"
	                           "http://example.org/a-very-long-url-here after\n",
	                           20, &out),
	                 0);
	ck_assert_str_eq(buf_str(&out), "short line\n\nthis is a longer\nline that needs\n"
	                                "wrapping here\n> quoted line that\n> is long and needs\n"
	                                "> wrapping\n- list item that is\n  long and wraps\n"
	                                "http://example.org/a-very-long-url-here\nafter\n");
	buf_reset(&out);
	ck_assert_int_eq(text_wrap("no newline at the end of this one", 10, &out), 0);
	ck_assert_str_eq(buf_str(&out), "no newline\nat the end\nof this\none");
	buf_reset(&out);
	ck_assert_int_eq(text_wrap("", 10, &out), 0);
	ck_assert_str_eq(buf_str(&out), "");
	ck_assert_int_eq(
	    text_wrap("12. \xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9 abc\r\n", 11, &out),
	    0);
	ck_assert_str_eq(buf_str(&out), "12. \xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9\n"
	                                "    abc\n");
	buf_free(&out);
}
END_TEST

/*
 * Words one space apart take wrap's fast path, more spaces its word loop:
 * both must wrap the same, whatever the widths, prefixes and characters.
 */
START_TEST(wrap_fast_path_matches_word_loop)
{
	static const char *const words[] = {
	    "a",
	    "bb",
	    "ccc",
	    "dddd",
	    "\xc3\xa9t\xc3\xa9",
	    "\xe2\x82\xac",
	    "x\xf0\x9f\x98\x80y",
	    "http://example.org/a-rather-long-url/that/does/not/fit/anywhere",
	    "w0rd",
	    "-",
	};
	static const char *const prefixes[] = {"", "> ", "> > > ", "- ", "12. "};
	unsigned seed = 1;

	for (int round = 0; round < 400; round++) {
		struct buf one = BUF_INIT, more = BUF_INIT, out1 = BUF_INIT, out2 = BUF_INIT;
		const char *pre = prefixes[round % 5];
		int n = 1 + round % 37, width = 1 + round % 41, cols = 0;

		buf_adds(&one, pre);
		buf_adds(&more, pre);
		for (int i = 0; i < n; i++) {
			const char *w;

			seed = seed * 1103515245 + 12345;
			w = words[(seed >> 16) % (sizeof words / sizeof words[0])];
			if (i > 0) {
				buf_adds(&one, " ");
				buf_adds(&more, (seed >> 8) % 5 == 0 ? "   " : " ");
			}
			buf_adds(&one, w);
			buf_adds(&more, w);
		}
		ck_assert_int_eq(text_wrap(buf_str(&one), width, &out1), 0);
		ck_assert_int_eq(text_wrap(buf_str(&more), width, &out2), 0);
		/* A line that fits is kept as it is (spaces and all): only longer ones. */
		cols = (int)text_columns(one.data, one.len);
		if (cols <= width)
			ck_assert_str_eq(buf_str(&out1), buf_str(&one));
		else
			ck_assert_msg(strcmp(buf_str(&out1), buf_str(&out2)) == 0,
			              "width %d:\n%s\n--\n%s", width, buf_str(&out1),
			              buf_str(&out2));
		buf_free(&one);
		buf_free(&more);
		buf_free(&out1);
		buf_free(&out2);
	}
}
END_TEST

/* Korean breaks at spaces only; Latin words beside ideographs stay whole. */
START_TEST(cjk_text_wraps_at_spaces_and_ideographs)
{
	struct buf out = BUF_INIT;

	ck_assert_int_eq(
	    text_wrap("\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xeb\xac\xb8\xec\x9e\xa5\xeb\x8f\x84 "
	              "\xec\x97\xac\xea\xb8\xb0\xec\x97\x90",
	              14, &out),
	    0);
	ck_assert_str_eq(
	    out.data, "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xeb\xac\xb8\xec\x9e\xa5\xeb\x8f\x84\n"
	              "\xec\x97\xac\xea\xb8\xb0\xec\x97\x90");
	buf_reset(&out);
	ck_assert_int_eq(text_wrap("abc \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae"
	                           "\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 wrapping",
	                           12, &out),
	                 0);
	ck_assert_str_eq(out.data, "abc \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\n"
	                           "\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88\nwrapping");
	buf_free(&out);
}
END_TEST

/* Line by line, as the HTML renderer writes: prefixes, empty lines, the count. */
START_TEST(lines_with_prefixes)
{
	struct buf out = BUF_INIT;
	struct wrap_lines l = {.out = &out};

	wrap_line(&l, "one two three four", 18, "- ", 2, "  ", 2, 10);
	wrap_put_line(&l, "> ", 2, "", 0);
	ck_assert_int_eq(l.last_empty, 1);
	wrap_put_line(&l, "> ", 2, "quoted", 6);
	ck_assert_int_eq(l.last_empty, 0);
	ck_assert_uint_eq(l.n, 5);
	ck_assert_int_eq(l.oom, 0);
	ck_assert_str_eq(buf_str(&out), "- one two\n  three\n  four\n>\n> quoted");
	buf_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wrap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, wrap_plain_text);
	tcase_add_test(tc, wrap_fast_path_matches_word_loop);
	tcase_add_test(tc, cjk_text_wraps_at_spaces_and_ideographs);
	tcase_add_test(tc, lines_with_prefixes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
