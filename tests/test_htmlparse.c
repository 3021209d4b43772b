/* Unit tests for src/htmlparse.c: HTML into libxml2 within bounds */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "htmlparse.h"

/* The text of the body of html (parsed whole), and where the parser halted. */
static char *
body_text(const char *html, size_t len, size_t *halted)
{
	struct err e = {0};
	int failed = 1;
	htmlDocPtr doc = htmlparse(html, len, &e, &failed, halted);
	xmlNodePtr body = htmlparse_body(doc);
	xmlChar *x;
	char *s;

	ck_assert_int_eq(failed, 0);
	ck_assert_ptr_nonnull(body);
	x = xmlNodeGetContent(body);
	s = strdup((const char *)x);
	xmlFree(x);
	xmlFreeDoc(doc);
	return s;
}

START_TEST(bad_utf8_and_nuls_are_mended)
{
	static const char html[] = "<p>a\0b\xff"
	                           "c\xc3\xa9</p>";
	size_t halted;
	char *s = body_text(html, sizeof html - 1, &halted);

	ck_assert_str_eq(s, "ab\xef\xbf\xbd"
	                    "c\xc3\xa9");
	ck_assert_uint_eq(halted, 0);
	free(s);
}
END_TEST

START_TEST(tags_past_the_limit_are_cut_and_told)
{
	struct buf in = BUF_INIT;
	size_t halted;
	char *s;

	for (int i = 0; i < 25010; i++)
		ck_assert_int_eq(buf_adds(&in, "<b>x</b>"), 0);
	ck_assert_int_eq(buf_adds(&in, "<p>END</p>"), 0);
	s = body_text(in.data, in.len, &halted);
	ck_assert_ptr_null(strstr(s, "END"));
	ck_assert_ptr_nonnull(strstr(s, "it has more than 25,000 tags.]"));
	free(s);
	/* Within the limit: whole, and nothing said. */
	in.len = 0;
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_adds(&in, "<b>x</b>"), 0);
	ck_assert_int_eq(buf_adds(&in, "<p>END</p>"), 0);
	s = body_text(in.data, in.len, &halted);
	ck_assert_ptr_nonnull(strstr(s, "END"));
	ck_assert_ptr_null(strstr(s, "25,000"));
	free(s);
	buf_free(&in);
}
END_TEST

START_TEST(a_halt_on_deep_nesting_is_told)
{
	struct buf in = BUF_INIT;
	size_t halted, at;
	char *s;

	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(buf_adds(&in, "<div>"), 0);
	ck_assert_int_eq(buf_adds(&in, "shallow"), 0);
	s = body_text(in.data, in.len, &halted);
	ck_assert_uint_eq(halted, 0);
	free(s);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(buf_adds(&in, "<div>"), 0);
	at = in.len;
	ck_assert_int_eq(buf_adds(&in, "deep"), 0);
	s = body_text(in.data, in.len, &halted);
	ck_assert_uint_gt(halted, 0);
	ck_assert_uint_le(halted - 1, at);
	ck_assert_ptr_null(strstr(s, "deep"));
	free(s);
	buf_free(&in);
}
END_TEST

START_TEST(empty_and_too_large)
{
	struct err e = {0};
	int failed = 1;
	size_t halted = 1;

	ck_assert_ptr_null(htmlparse("", 0, &e, &failed, &halted));
	ck_assert_int_eq(failed, 0);
	ck_assert_uint_eq(halted, 0);
	/* Refused before a byte is read. */
	ck_assert_ptr_null(htmlparse("", (size_t)INT_MAX + 1, &e, &failed, &halted));
	ck_assert_int_eq(failed, 1);
	ck_assert_ptr_nonnull(strstr(e.msg, "HTML too large"));
	ck_assert_ptr_null(htmlparse_body(NULL));
}
END_TEST

START_TEST(cut_points)
{
	static const char html[] = "<p>one</p><p>two \xc3\xa9\xc3\xa9</p>";
	static const char text[] = "ab\xc3\xa9\xc3\xa9";
	size_t len = sizeof html - 1;

	/* It fits: all of it. */
	ck_assert_uint_eq(htmlparse_cut_point(html, len, len), len);
	ck_assert_uint_eq(htmlparse_cut_point(html, len, 1000), len);
	/* Before the last tag that starts within the bound. */
	ck_assert_uint_eq(htmlparse_cut_point(html, len, 12), 10);
	ck_assert_uint_eq(htmlparse_cut_point(html, len, 8), 6);
	/* No tag (but the first): at a character's start, never inside one. */
	ck_assert_uint_eq(htmlparse_cut_point(text, sizeof text - 1, 3), 2);
	ck_assert_uint_eq(htmlparse_cut_point(text, sizeof text - 1, 4), 4);
	ck_assert_uint_eq(htmlparse_cut_point(html, len, 2), 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("htmlparse");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, bad_utf8_and_nuls_are_mended);
	tcase_add_test(tc, tags_past_the_limit_are_cut_and_told);
	tcase_add_test(tc, a_halt_on_deep_nesting_is_told);
	tcase_add_test(tc, empty_and_too_large);
	tcase_add_test(tc, cut_points);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
