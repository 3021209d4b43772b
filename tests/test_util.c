/* Unit tests for src/util.c */
#include <check.h>
#include <errno.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "util.h"

START_TEST(buf_appends_and_terminates)
{
	struct buf b = BUF_INIT;

	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_adds(&b, "abc"), 0);
	ck_assert_int_eq(buf_printf(&b, "-%d-", 42), 0);
	ck_assert_int_eq(buf_addc(&b, 'z'), 0);
	ck_assert_str_eq(b.data, "abc-42-z");
	ck_assert_uint_eq(b.len, 8);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_adds(&b, "0123456789"), 0);
	ck_assert_uint_eq(b.len, 10008);
	ck_assert_uint_eq(strlen(b.data), 10008);
	buf_free(&b);
}
END_TEST

START_TEST(err_set_formats_and_prefixes)
{
	struct err e = {0};

	ck_assert_int_eq(err_set(&e, EX_DATAERR, "bad %s", "thing"), -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_str_eq(e.msg, "bad thing");
	err_prefix(&e, "feed %s", "x");
	ck_assert_str_eq(e.msg, "feed x: bad thing");
	ck_assert_int_eq(err_set(NULL, 1, "ignored"), -1);
}
END_TEST

/* ESC, BEL, DEL and C1 go; tab, newline, CRLF and other text stay. */
START_TEST(controls_are_stripped)
{
	char s[] = "a\x1b]0;pwned\x07"
	           "b\tc\nd\r\ne\rf\x7f"
	           "g\xc2\x9b"
	           "h\xc2\xa0i\xc3\xa9";
	char title[] = "\x1b]0;x\x07";
	struct err e;
	FILE *f = tmpfile();
	char got[64] = "";

	ck_assert_str_eq(str_strip_controls(s), "a]0;pwnedb\tc\nd\r\nefgh\xc2\xa0i\xc3\xa9");
	ck_assert_uint_eq(ctl_len((const unsigned char *)"\xc2\x85", 2), 2);
	ck_assert_uint_eq(ctl_len((const unsigned char *)"\r", 1), 1);
	err_set(&e, 1, "feed %s: bad\nline", title);
	ck_assert_str_eq(e.msg, "feed ]0;x: bad line");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs_clean("x\x1b[2Jy\xc2\x9d"
	                             "z\n",
	                             f),
	                 0);
	rewind(f);
	ck_assert_ptr_nonnull(fgets(got, sizeof got, f));
	ck_assert_str_eq(got, "x[2Jyz\n");
	fclose(f);
}
END_TEST

START_TEST(strings)
{
	char s[] = "  \t hello world \n";
	struct strv v = STRV_INIT;

	ck_assert_str_eq(str_trim(s), "hello world");
	ck_assert(str_ieq("Linux", "lINUX"));
	ck_assert(!str_ieq("Linux", "Linu"));
	ck_assert(str_empty(" \t"));
	ck_assert(!str_empty(" x"));
	ck_assert(str_eq(NULL, NULL));
	ck_assert(!str_eq("a", NULL));
	ck_assert_int_eq(strv_push(&v, "Networking"), 0);
	ck_assert(strv_contains_icase(&v, "networking"));
	ck_assert(!strv_contains_icase(&v, "net"));
	strv_free(&v);
	ck_assert(hash64_str("a") != hash64_str("b"));
}
END_TEST

START_TEST(files_paths_and_randomness)
{
	char path[] = "/tmp/tidings-test-util-XXXXXX", a[17], b[17];
	struct buf buf = BUF_INIT;
	int fd = mkstemp(path);
	char *d;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hello\n", 6), 6);
	close(fd);
	ck_assert_int_eq(buf_read_file(&buf, path, 100), 0);
	ck_assert_str_eq(buf.data, "hello\n");
	buf_reset(&buf);
	ck_assert_int_eq(buf_read_file(&buf, path, 5), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(buf_read_file(&buf, "/nonexistent/x", 5), -1);
	ck_assert_int_eq(errno, ENOENT);
	unlink(path);
	buf_free(&buf);
	ck_assert_str_eq(d = path_dir("/etc/tidings.conf"), "/etc");
	free(d);
	ck_assert_str_eq(d = path_dir("/x"), "/");
	free(d);
	ck_assert_str_eq(d = path_dir("x"), ".");
	free(d);
	random_hex(a, 8);
	random_hex(b, 8);
	ck_assert_uint_eq(strlen(a), 16);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(printable_escapes)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_add_printable(&b, "caf\xc3\xa9 \x1b[2J\x7f\xff\xc2\x85\xc2\xa0\n"), 0);
	ck_assert_str_eq(buf_str(&b), "caf\xc3\xa9 \\x1B[2J\\x7F\\xFF\\xC2\\x85\xc2\xa0\\x0A");
	buf_free(&b);
}
END_TEST

/* One HTML escaper: & < > " always, ' on request; the rest, NULs included, as they are. */
START_TEST(html_escaped)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_add_html_escaped(&b, "a&b<c>d\"e'f", 11, HTML_ESC_QUOT), 0);
	ck_assert_str_eq(buf_str(&b), "a&amp;b&lt;c&gt;d&quot;e'f");
	buf_reset(&b);
	ck_assert_int_eq(buf_add_html_escaped(&b, "'x'&", 4, HTML_ESC_APOS), 0);
	ck_assert_str_eq(buf_str(&b), "&#39;x&#39;&amp;");
	buf_reset(&b);
	ck_assert_int_eq(buf_add_html_escaped(&b, "<a\0b>", 3, HTML_ESC_QUOT), 0);
	ck_assert_uint_eq(b.len, 6);
	ck_assert(memcmp(b.data, "&lt;a\0", 6) == 0);
	buf_free(&b);
	ck_assert_int_eq(buf_add_html_escaped(&b, "", 0, HTML_ESC_QUOT), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	buf_free(&b);
}
END_TEST

START_TEST(squeezed)
{
	char s[] = " \t a  b\n\nc \r\n", t[] = "   ", u[] = "x";

	str_squeeze(s);
	str_squeeze(t);
	str_squeeze(u);
	ck_assert_str_eq(s, "a b c");
	ck_assert_str_eq(t, "");
	ck_assert_str_eq(u, "x");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, buf_appends_and_terminates);
	tcase_add_test(tc, err_set_formats_and_prefixes);
	tcase_add_test(tc, strings);
	tcase_add_test(tc, controls_are_stripped);
	tcase_add_test(tc, files_paths_and_randomness);
	tcase_add_test(tc, printable_escapes);
	tcase_add_test(tc, html_escaped);
	tcase_add_test(tc, squeezed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
