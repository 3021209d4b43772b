/* Unit tests for src/message.c */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "message.h"

/* Longest line of s (CRLF-separated), and whether every LF has its CR. */
static size_t
longest_line(const char *s, int *bare_lf)
{
	size_t max = 0, cur = 0;
	const char *start = s;

	*bare_lf = 0;
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			if (s == start || s[-1] != '\r')
				*bare_lf = 1;
			cur = 0;
			continue;
		}
		if (*s != '\r' && ++cur > max)
			max = cur;
	}
	return max;
}

START_TEST(address_extraction)
{
	char *a;

	a = message_address("Tidings <tidings@example.org>");
	ck_assert_str_eq(a, "tidings@example.org");
	free(a);
	a = message_address("\"Doe, John <x>\" <john.doe+tag@mail.example.org>");
	ck_assert_str_eq(a, "john.doe+tag@mail.example.org");
	free(a);
	a = message_address("  bare@example.org ");
	ck_assert_str_eq(a, "bare@example.org");
	free(a);
	ck_assert_ptr_null(message_address("no address"));
	ck_assert_ptr_null(message_address("üser@example.org"));
	ck_assert_ptr_null(message_address("a@example.org\r\nBcc: x@y"));
	ck_assert_ptr_null(message_address("Name <a@b> trailing"));
	ck_assert_ptr_null(message_address("a..b@example.org"));
	ck_assert_ptr_null(message_address("a b@example.org"));
	ck_assert_ptr_null(message_address("@example.org"));
	ck_assert_ptr_null(message_address(NULL));
}
END_TEST

START_TEST(qp_encoding)
{
	struct buf b = BUF_INIT;
	char line[200];
	int bare;

	ck_assert_int_eq(message_qp_encode("a=b \nc\t\r\nFrom x\n.\nd", 19, &b), 0);
	ck_assert_str_eq(b.data, "a=3Db=20\r\nc=09\r\n=46rom x\r\n=2E\r\nd");
	buf_reset(&b);
	ck_assert_int_eq(message_qp_encode("\xc3\xa9\r", 3, &b), 0);
	ck_assert_str_eq(b.data, "=C3=A9=0D");
	buf_reset(&b);
	memset(line, 'x', sizeof line);
	ck_assert_int_eq(message_qp_encode(line, sizeof line, &b), 0);
	ck_assert_uint_le(longest_line(b.data, &bare), 76);
	ck_assert_int_eq(bare, 0);
	/* 200 x in lines of 75 plus the soft break */
	ck_assert_str_eq(b.data + 75, "=\r\n" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxx=\r\n" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	buf_reset(&b);
	/* an escape is never split by a soft break */
	memset(line, '=', 100);
	ck_assert_int_eq(message_qp_encode(line, 100, &b), 0);
	ck_assert_int_eq(strncmp(b.data + 72, "=3D=\r\n=3D=3D", 12), 0);
	ck_assert_uint_eq(b.len, 300 + 3 * 3);
	buf_free(&b);
}
END_TEST

START_TEST(header_plain_and_folded)
{
	struct buf b = BUF_INIT;
	int bare;

	ck_assert_int_eq(message_encode_header("Subject", "3 new items", &b), 0);
	ck_assert_str_eq(b.data, "Subject: 3 new items\r\n");
	buf_reset(&b);
	ck_assert_int_eq(message_encode_header("Subject",
	    "one two three four five six seven eight nine ten eleven twelve thirteen "
	    "fourteen", &b), 0);
	ck_assert_str_eq(b.data, "Subject: one two three four five six seven eight nine "
	    "ten eleven twelve\r\n thirteen fourteen\r\n");
	ck_assert_uint_le(longest_line(b.data, &bare), 76);
	buf_free(&b);
}
END_TEST

START_TEST(header_encoded_words)
{
	struct buf b = BUF_INIT;
	char big[2000];
	int bare, i;

	ck_assert_int_eq(message_encode_header("Subject", "caf\xc3\xa9", &b), 0);
	ck_assert_str_eq(b.data, "Subject: =?UTF-8?B?Y2Fmw6k=?=\r\n");
	buf_reset(&b);
	/* CR LF cannot start a header: they become spaces inside a word */
	ck_assert_int_eq(message_encode_header("Subject", "\r\nBcc: x@y", &b), 0);
	ck_assert_str_eq(b.data, "Subject: =?UTF-8?B?ICBCY2M6IHhAeQ==?=\r\n");
	buf_reset(&b);
	/* a literal encoded word is itself encoded */
	ck_assert_int_eq(message_encode_header("Subject", "=?utf-8?q?x?=", &b), 0);
	ck_assert_str_eq(b.data, "Subject: =?UTF-8?B?PT91dGYtOD9xP3g/PQ==?=\r\n");
	buf_reset(&b);
	/* broken UTF-8 becomes U+FFFD */
	ck_assert_int_eq(message_encode_header("Subject", "a\xff", &b), 0);
	ck_assert_str_eq(b.data, "Subject: =?UTF-8?B?Ye+/vQ==?=\r\n");
	buf_reset(&b);
	/* 4-byte characters are never split across words */
	for (i = 0; i < 400; i++)
		memcpy(big + 4 * i, "\xf0\x9f\x98\x80", 4);
	big[1600] = '\0';
	ck_assert_int_eq(message_encode_header("Subject", big, &b), 0);
	ck_assert_uint_le(longest_line(b.data, &bare), 76);
	ck_assert_int_eq(bare, 0);
	/* 45 bytes per word at most, a multiple of 4 here: 44 bytes = 60 chars */
	ck_assert_ptr_nonnull(strstr(b.data, "\r\n =?UTF-8?B?8J+YgPCfmIDwn5iA"));
	buf_free(&b);
}
END_TEST

START_TEST(build_whole_message)
{
	static char *to[] = {"Someone <a@example.org>", "b@example.org"};
	struct message_spec m = {
		.from = "Tidings B\xc3\xb8t <tidings@example.org>", .to = to, .nto = 2,
		.subject = "Hello", .date = 0, .list_id = "john.example.org",
		.list_unsubscribe = "mailto:o@example.org?subject=unsubscribe",
		.text = "text\n", .text_len = 5, .html = "<b>x</b>", .html_len = 8,
	};
	struct buf b = BUF_INIT;
	struct err e = {0};
	char mid[128], *bnd;
	int bare;

	ck_assert_int_eq(message_build(&m, &b, mid, sizeof mid, &e), 0);
	ck_assert_uint_eq(strlen(mid), strlen("<0123456789abcdef01234567.0@example.org>"));
	ck_assert(strstr(mid, ".0@example.org>") != NULL);
	ck_assert_ptr_nonnull(strstr(b.data, "From: =?UTF-8?B?VGlkaW5ncyBCw7h0?= "
	    "<tidings@example.org>\r\nTo: a@example.org, b@example.org\r\n"
	    "Subject: Hello\r\nDate: "));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nList-Id: <john.example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "\r\nList-Unsubscribe: <mailto:o@example.org?subject=unsubscribe>\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nAuto-Submitted: auto-generated\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nMIME-Version: 1.0\r\n"));
	bnd = strstr(b.data, "boundary=\"=_tidings_");
	ck_assert_ptr_nonnull(bnd);
	ck_assert_ptr_nonnull(strstr(b.data, "charset=UTF-8\r\nContent-Transfer-Encoding: "
	    "quoted-printable\r\n\r\ntext\r\n\r\n--=_tidings_"));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\n\r\n<b>x</b>\r\n--=_tidings_"));
	ck_assert_uint_le(longest_line(b.data, &bare), 78);
	ck_assert_int_eq(bare, 0);
	ck_assert_int_eq(b.data[b.len - 1], '\n');
	buf_free(&b);
}
END_TEST

START_TEST(build_refuses_bad_input)
{
	static char *bad_to[] = {"\xc3\xbc@example.org"};
	static char *good_to[] = {"a@example.org"};
	struct message_spec m = {
		.from = "t@example.org", .to = bad_to, .nto = 1, .subject = "s",
		.text = "", .html = "",
	};
	struct buf b = BUF_INIT;
	struct err e = {0};
	char mid[128];

	ck_assert_int_eq(message_build(&m, &b, mid, sizeof mid, &e), -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_uint_eq(b.len, 0);
	m.to = good_to;
	m.list_unsubscribe = "javascript:alert(1)";
	ck_assert_int_eq(message_build(&m, &b, mid, sizeof mid, &e), -1);
	ck_assert_str_eq(e.msg, "bad List-Unsubscribe: javascript:alert(1)");
	m.list_unsubscribe = "https://example.org/u>\r\nBcc: x@y";
	ck_assert_int_eq(message_build(&m, &b, mid, sizeof mid, &e), -1);
	m.list_unsubscribe = NULL;
	m.list_id = "a b";
	ck_assert_int_eq(message_build(&m, &b, mid, sizeof mid, &e), -1);
	m.list_id = NULL;
	m.from = "nobody";
	ck_assert_int_eq(message_build(&m, &b, mid, sizeof mid, &e), -1);
	ck_assert_uint_eq(b.len, 0);
	m.from = "t@example.org";
	ck_assert_int_eq(message_build(&m, &b, mid, 10, &e), -1);
	ck_assert_int_eq(message_build(&m, &b, mid, sizeof mid, &e), 0);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, address_extraction);
	tcase_add_test(tc, qp_encoding);
	tcase_add_test(tc, header_plain_and_folded);
	tcase_add_test(tc, header_encoded_words);
	tcase_add_test(tc, build_whole_message);
	tcase_add_test(tc, build_refuses_bad_input);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
