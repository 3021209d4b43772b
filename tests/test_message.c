/* Unit tests for src/message.c */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "message.h"

#define CHUNK (64 * 1024) /* message.c reads and writes in such steps */

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

/*
 * The message written with message_write to a temporary file, appended
 * to out as read back: what was written, even when it failed.
 */
static int
build(const struct message_spec *m, struct buf *out, char *mid, size_t size, struct err *e)
{
	FILE *f = tmpfile();
	size_t written = 0;
	int r;

	ck_assert_ptr_nonnull(f);
	r = message_write(m, f, &written, mid, size, e);
	ck_assert_int_eq(fflush(f), 0);
	rewind(f);
	ck_assert_int_eq(buf_grow(out, written), 0);
	ck_assert_uint_eq(fread(out->data + out->len, 1, written, f), written);
	out->len += written;
	out->data[out->len] = '\0';
	ck_assert_int_eq(fgetc(f), EOF); /* nothing beyond what it says it wrote */
	fclose(f);
	return r;
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
	/* A lone CR, ESC, BEL, DEL and C1 (U+009B) are control characters: dropped. */
	ck_assert_int_eq(message_qp_encode("\xc3\xa9\r", 3, &b), 0);
	ck_assert_str_eq(b.data, "=C3=A9");
	buf_reset(&b);
	ck_assert_int_eq(message_qp_encode("a\x1b]0;x\x07"
	                                   "b\x7f\xc2\x9b"
	                                   "c\xc2\xa0",
	                                   14, &b),
	                 0);
	ck_assert_str_eq(b.data, "a]0;xbc=C2=A0");
	buf_reset(&b);
	memset(line, 'x', sizeof line);
	ck_assert_int_eq(message_qp_encode(line, sizeof line, &b), 0);
	ck_assert_uint_le(longest_line(b.data, &bare), 76);
	ck_assert_int_eq(bare, 0);
	/* 200 x in lines of 75 plus the soft break */
	ck_assert_str_eq(b.data + 75, "=\r\n"
	                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                              "xxxxxxxxxxxxxxxxxxxxxxxxx=\r\n"
	                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
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
	ck_assert_int_eq(
	    message_encode_header(
	        "Subject",
	        "one two three four five six seven eight nine ten eleven twelve thirteen "
	        "fourteen",
	        &b),
	    0);
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
	    .from = "Tidings B\xc3\xb8t <tidings@example.org>",
	    .to = to,
	    .nto = 2,
	    .subject = "Hello",
	    .date = 0,
	    .list_id = "john.example.org",
	    .list_unsubscribe = "mailto:o@example.org?subject=unsubscribe",
	    .text = "text\n",
	    .text_len = 5,
	    .html = "<b>x</b>",
	    .html_len = 8,
	};
	struct buf b = BUF_INIT;
	struct err e = {0};
	char mid[128], *bnd;
	int bare;

	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), 0);
	ck_assert_uint_eq(strlen(mid), strlen("<0123456789abcdef01234567.0@example.org>"));
	ck_assert(strstr(mid, ".0@example.org>") != NULL);
	ck_assert_ptr_nonnull(strstr(b.data,
	                             "From: =?UTF-8?B?VGlkaW5ncyBCw7h0?= "
	                             "<tidings@example.org>\r\nTo: a@example.org, b@example.org\r\n"
	                             "Subject: Hello\r\nDate: "));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nList-Id: <john.example.org>\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(b.data, "\r\nList-Unsubscribe: <mailto:o@example.org?subject=unsubscribe>\r\n"));
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

/* One recipient: the To header keeps the display name, quoted or RFC 2047-encoded. */
START_TEST(to_keeps_display_name)
{
	static const struct {
		const char *to, *want;
	} cases[] = {
	    {"Ann <ann@example.org>", "\r\nTo: \"Ann\" <ann@example.org>\r\n"},
	    {"\"Doe, J.\" <j@example.org>", "\r\nTo: \"Doe, J.\" <j@example.org>\r\n"},
	    {"Ren\xc3\xa9"
	     "e <r@example.org>",
	     "\r\nTo: =?UTF-8?B?UmVuw6ll?= <r@example.org>\r\n"},
	    {"plain@example.org", "\r\nTo: plain@example.org\r\n"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *to[] = {(char *)cases[i].to};
		struct message_spec m = {
		    .from = "t@example.org",
		    .to = to,
		    .nto = 1,
		    .subject = "s",
		    .text = "",
		    .html = "",
		};
		struct buf b = BUF_INIT;
		struct err e = {0};
		char mid[128];

		ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), 0);
		ck_assert_msg(strstr(b.data, cases[i].want) != NULL, "%s", b.data);
		buf_free(&b);
	}
}
END_TEST

/* A title of a megabyte makes a Subject of 250 characters and an ellipsis, folded. */
START_TEST(subject_is_capped)
{
	static char *to[] = {"b@example.org"};
	static const char *const words[] = {"word ", "caf\xc3\xa9 ", "\xf0\x9f\x98\x80"};
	struct message_spec m = {
	    .from = "t@example.org",
	    .to = to,
	    .nto = 1,
	    .date = 0,
	    .text = "text\n",
	    .text_len = 5,
	    .html = "<b>x</b>",
	    .html_len = 8,
	};
	struct buf b = BUF_INIT, big = BUF_INIT;
	struct err e = {0};
	char mid[128], *subj, *end;
	int bare, lines = 0;

	while (big.len < 1000000)
		ck_assert_int_eq(buf_adds(&big, words[_i]), 0);
	m.subject = big.data;
	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), 0);
	ck_assert_uint_le(longest_line(b.data, &bare), 78);
	subj = strstr(b.data, "\r\nSubject: ");
	ck_assert_ptr_nonnull(subj);
	end = strstr(subj, "\r\nDate: ");
	ck_assert_ptr_nonnull(end);
	for (char *p = subj + 2; p < end; p = strstr(p, "\r\n") + 2)
		lines++;
	/* 250 characters (4 bytes each at most): under 2 KB encoded, in lines of 78 */
	ck_assert_int_le(lines, 30);
	ck_assert_int_le(end - subj, 2000);
	/* the last encoded word holds the ellipsis (U+2026, base64 4oCm or QP) */
	if (_i == 0)
		ck_assert_msg(strstr(subj, "4oCm?=") != NULL || strstr(subj, "=E2=80=A6") != NULL,
		              "%.*s", (int)(end - subj), subj);
	buf_free(&b);
	/* a subject of exactly 250 characters is kept whole */
	buf_reset(&big);
	for (int i = 0; i < 250; i++)
		ck_assert_int_eq(buf_addc(&big, 'a' + i % 26), 0);
	m.subject = big.data;
	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), 0);
	ck_assert_ptr_null(strstr(b.data, "4oCm"));
	buf_free(&b);
	buf_free(&big);
}
END_TEST

START_TEST(build_refuses_bad_input)
{
	static char *bad_to[] = {"\xc3\xbc@example.org"};
	static char *good_to[] = {"a@example.org"};
	struct message_spec m = {
	    .from = "t@example.org",
	    .to = bad_to,
	    .nto = 1,
	    .subject = "s",
	    .text = "",
	    .html = "",
	};
	struct buf b = BUF_INIT;
	struct err e = {0};
	char mid[128];

	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_uint_eq(b.len, 0);
	m.to = good_to;
	m.list_unsubscribe = "javascript:alert(1)";
	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), -1);
	ck_assert_str_eq(e.msg, "bad List-Unsubscribe: javascript:alert(1)");
	m.list_unsubscribe = "https://example.org/u>\r\nBcc: x@y";
	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), -1);
	m.list_unsubscribe = NULL;
	m.list_id = "a b";
	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), -1);
	m.list_id = NULL;
	m.from = "nobody";
	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), -1);
	ck_assert_uint_eq(b.len, 0);
	m.from = "t@example.org";
	ck_assert_int_eq(build(&m, &b, mid, 10, &e), -1);
	ck_assert_int_eq(build(&m, &b, mid, sizeof mid, &e), 0);
	buf_free(&b);
}
END_TEST

/* ---- streaming: parts from files == parts from memory, byte for byte ---- */

struct rng {
	uint64_t s;
};

static uint32_t
rnd(struct rng *r, uint32_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 32) % n;
}

/*
 * Quoted-printable the obvious way, one byte at a time, as message.c
 * promises it: CRLF or LF ends a line (written CRLF); control characters
 * (a CR not before LF, C1 as UTF-8 too) are dropped; a byte stands for
 * itself when it is printable ASCII but '=', not the 'F' of "From ", not
 * a '.' at a line start, and a space or tab only when what follows is not
 * the end of its line; every other byte is "=XX"; a line holds at most 75
 * characters, then "=" and CRLF (a soft break), never inside an "=XX".
 */
static int
ref_literal(const unsigned char *p, size_t i, size_t n, size_t col)
{
	if (p[i] == ' ' || p[i] == '\t')
		return i + 1 < n && p[i + 1] != '\n' &&
		       !(p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n');
	if (p[i] < 33 || p[i] > 126 || p[i] == '=')
		return 0;
	if (n - i >= 5 && memcmp(p + i, "From ", 5) == 0)
		return 0;
	return p[i] != '.' || col != 0;
}

/* (Check's assertions cost a system call each: none per byte here.) */
static void
ref_qp(const void *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = s;
	size_t col = 0, width;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')) {
			i += p[i] == '\r';
			r |= buf_adds(out, "\r\n");
			col = 0;
			continue;
		}
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			i++;
			continue;
		}
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			continue;
		width = ref_literal(p, i, n, col) ? 1 : 3;
		if (col + width > 75) { /* a soft break */
			r |= buf_adds(out, "=\r\n");
			col = 0;
			width = ref_literal(p, i, n, col) ? 1 : 3;
		}
		if (width == 1)
			r |= buf_addc(out, (char)p[i]);
		else
			r |= buf_addc(out, '=') | buf_addc(out, hex[p[i] >> 4]) |
			     buf_addc(out, hex[p[i] & 15]);
		col += width;
	}
	if (r != 0)
		ck_abort_msg("out of memory");
}

/* message_qp_encode(s) is ref_qp(s), appended to what out holds (one assertion: cheap). */
static void
check_qp(const void *s, size_t n)
{
	struct buf got = BUF_INIT, want = BUF_INIT;
	int r = buf_adds(&got, "pre") | buf_adds(&want, "pre");
	size_t at = 0;

	r |= message_qp_encode(s, n, &got);
	ref_qp(s, n, &want);
	while (at < got.len && at < want.len && got.data[at] == want.data[at])
		at++;
	at = at > 80 ? at - 80 : 0;
	ck_assert_msg(r == 0 && got.len == want.len && memcmp(got.data, want.data, got.len) == 0 &&
	                  got.data[got.len] == '\0',
	              "input of %zu bytes, from output byte %zu: got\n%.160s\nwant\n%.160s", n, at,
	              got.data + at, want.data + at);
	buf_free(&got);
	buf_free(&want);
}

/* Text up to offset `at`, padded so the next bytes land exactly there. */
static void
pad_to(struct buf *b, size_t at)
{
	while (b->len + 1 < at)
		ck_assert_int_eq(buf_addc(b, b->len % 61 == 60 ? '\n' : 'p'), 0);
	if (b->len < at)
		ck_assert_int_eq(buf_addc(b, '\n'), 0);
}

/* What QP cares about at a line start or end, in random order. */
static void
random_lines(struct rng *r, struct buf *b, size_t upto)
{
	static const char *const pieces[] = {
	    "From ", "From",     ".",    "..", "=",   " ", "\t",      "\r",  "\r\n",
	    "\n",    "\xc3\xa9", "\xff", "F",  "Fro", "x", "abc def", "<p>", "\0",
	};
	size_t k;

	while (b->len < upto) {
		k = rnd(r, sizeof pieces / sizeof pieces[0]);
		ck_assert_int_eq(buf_add(b, pieces[k], k == 17 ? 1 : strlen(pieces[k])), 0);
		if (rnd(r, 8) == 0)
			for (k = rnd(r, 120); k > 0; k--)
				ck_assert_int_eq(buf_addc(b, (char)('a' + rnd(r, 26))), 0);
	}
}

/*
 * A part built to hit the read boundaries (multiples of CHUNK): at each
 * of the first five, one of a CRLF, "From ", a space or tab before its
 * line end, "=", "." or CR CR LF, placed across the boundary or right at
 * it; then a line of 2.5 chunks; random lines around them.
 */
static void
adversarial_part(struct rng *r, struct buf *b, int final_lf)
{
	static const char *const at_edge[] = {
	    "\r\n", "From you\n", " \r\n", "\t\n", "=\r\n", ".\n", "\r\r\n",
	};
	size_t i, k, edge;

	for (i = 1; i <= 5; i++) {
		ck_assert_uint_lt(b->len, i * CHUNK - 3000);
		random_lines(r, b, i * CHUNK - 3000);
		k = rnd(r, sizeof at_edge / sizeof at_edge[0]);
		edge = i * CHUNK - rnd(r, (uint32_t)strlen(at_edge[k]));
		pad_to(b, edge - 1);
		ck_assert_int_eq(buf_addc(b, 'y'), 0); /* no line start here */
		ck_assert_int_eq(buf_adds(b, at_edge[k]), 0);
	}
	/* a line of 2.5 chunks, with a space before its CRLF */
	for (k = 0; k < CHUNK * 5 / 2; k++)
		ck_assert_int_eq(buf_addc(b, k % 77 == 0 ? '.' : 'L'), 0);
	ck_assert_int_eq(buf_adds(b, " \r\n.\nFrom x\n"), 0);
	random_lines(r, b, b->len + rnd(r, 5000));
	while (b->len > 0 && b->data[b->len - 1] == '\n' && !final_lf)
		b->len--;
	if (final_lf)
		ck_assert_int_eq(buf_addc(b, '\n'), 0);
}

/*
 * Every column a line can reach before each byte QP treats specially, and
 * each way its line can go on: prefixes of 0-80 bytes (plain, or with
 * escapes and dots shifting the column by 3 or 1), then the byte, then
 * an end of line, more text or nothing.
 */
START_TEST(qp_matches_reference_at_columns)
{
	static const char *const fill = "x=.\xc3\xa9";
	static const char *const at[] = {
	    " ",    "\t", "=",    ".",    "..", "F",  "From ", "From", "\xc3\xa9", "\xc2\x85",
	    "\xc2", "\r", "\x01", "\x7f", "x",  "xy", " \t",   "\t ",  "\r\r",
	};
	static const char *const after[] = {"",  "\n", "\r\n",   "\r",    "y",
	                                    " ", ".",  "\r\r\n", "\x01\n"};
	char in[160];
	size_t len, l, k;

	for (size_t pre = 0; pre <= 80; pre++)
		for (size_t f = 0; f < 4; f++)
			for (size_t a = 0; a < sizeof at / sizeof at[0]; a++)
				for (size_t z = 0; z < sizeof after / sizeof after[0]; z++) {
					/* f = 0: all x; f = 1..3: every fifth byte from fill */
					for (len = 0; len < pre; len++)
						in[len] = f > 0 && len % 5 == 4 ? fill[f] : 'x';
					l = strlen(at[a]);
					memcpy(in + len, at[a], l);
					k = strlen(after[z]);
					memcpy(in + len + l, after[z], k);
					check_qp(in, len + l + k);
				}
}
END_TEST

/* Random text of each kind QP meets: any bytes, its special bytes, UTF-8, lines. */
START_TEST(qp_matches_reference_random)
{
	static const char *const words[] = {
	    "caf\xc3\xa9",
	    " na\xc3\xafve",
	    "\xe2\x80\x94",
	    "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80",
	    " ",
	    "\t",
	    "\n",
	    "\r\n",
	    ". ",
	    "<a href=\"x\">",
	    "From ",
	    "word",
	    "\xc2\xa0",
	    "\xc2\x9b",
	};
	static const unsigned char special[] = {' ',  '\t', '\r', '\n', '=', '.', 'F', 0xc2,
	                                        0x85, 0xa0, 0x7f, 0x01, 'x', 'r', 'o', 'm'};
	struct rng r = {0x2545f4914f6cdd1dull};
	struct buf b = BUF_INIT;
	size_t n, k;
	int fail;

	for (int round = 0; round < 3000; round++) {
		buf_reset(&b);
		n = rnd(&r, 400);
		for (k = 0, fail = 0; k < n; k++) {
			switch (round % 4) {
			case 0: /* any byte */ fail |= buf_addc(&b, (char)rnd(&r, 256)); break;
			case 1: /* the bytes QP decides on, with plain runs between */
				fail |= buf_addc(&b, (char)special[rnd(&r, sizeof special)]);
				break;
			case 2: /* UTF-8 text and markup */
				fail |=
				    buf_adds(&b, words[rnd(&r, sizeof words / sizeof words[0])]);
				break;
			default: /* long plain runs, broken by one special byte */
				fail |= buf_addc(&b, rnd(&r, 40) != 0
				                         ? (char)('!' + rnd(&r, 94))
				                         : (char)special[rnd(&r, sizeof special)]);
			}
		}
		ck_assert_int_eq(fail, 0);
		check_qp(b.data != NULL ? b.data : "", b.len);
	}
	for (int round = 0; round < 20; round++) {
		buf_reset(&b);
		random_lines(&r, &b, rnd(&r, 20000));
		check_qp(b.data, b.len);
	}
	buf_free(&b);
}
END_TEST

/* A FILE holding junk then s, positioned at s: parts start at the offset. */
static FILE *
part_file(const struct buf *s)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs("junk before the part\n", f), 0);
	ck_assert_uint_eq(fwrite(s->data, 1, s->len, f), s->len);
	ck_assert_int_eq(fflush(f), 0);
	ck_assert_int_eq(fseek(f, 21, SEEK_SET), 0);
	return f;
}

/* The same text in place of every occurrence of the random one. */
static void
blank_out(char *s, size_t n, const char *what, size_t wl)
{
	char *p = s;

	ck_assert_uint_gt(wl, 0);
	while ((p = memmem(p, n - (size_t)(p - s), what, wl)) != NULL) {
		memset(p, 'R', wl);
		p += wl;
	}
}

/* Message-ID and boundary, the two random draws, made constant. */
static void
normalise(struct buf *b, const char *mid)
{
	char bnd[64];
	const char *p = strstr(b->data, "boundary=\"");

	ck_assert_ptr_nonnull(p);
	p += strlen("boundary=\"");
	ck_assert_uint_lt(strcspn(p, "\""), sizeof bnd);
	snprintf(bnd, sizeof bnd, "%.*s", (int)strcspn(p, "\""), p);
	blank_out(b->data, b->len, mid, strlen(mid));
	blank_out(b->data, b->len, bnd, strlen(bnd));
}

/* message_write's whole output, read back from the memory stream. */
static void
write_to_buf(const struct message_spec *m, struct buf *out, char *mid, size_t size)
{
	struct err e = {0};
	char *text = NULL;
	size_t len = 0, written = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_msg(message_write(m, f, &written, mid, size, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(written, len);
	ck_assert_int_eq(buf_add(out, text, len), 0);
	free(text);
}

/* The part after the header line "Content-Type: type..." in msg. */
static const char *
part_body(const struct buf *msg, const char *type, size_t *n)
{
	const char *p = strstr(msg->data, type), *end;

	ck_assert_ptr_nonnull(p);
	p = strstr(p, "\r\n\r\n");
	ck_assert_ptr_nonnull(p);
	p += 4;
	end = memmem(p, msg->len - (size_t)(p - msg->data), "\r\n--=_tidings_", 14);
	ck_assert_ptr_nonnull(end);
	*n = (size_t)(end - p);
	return p;
}

static void
check_part_is_whole_encoding(const struct buf *msg, const char *type, const struct buf *part)
{
	struct buf whole = BUF_INIT;
	const char *p;
	size_t n;

	ck_assert_int_eq(message_qp_encode(part->data, part->len, &whole), 0);
	check_qp(part->data, part->len);
	p = part_body(msg, type, &n);
	ck_assert_uint_eq(n, whole.len);
	ck_assert(memcmp(p, whole.data, n) == 0);
	buf_free(&whole);
}

START_TEST(stream_equals_build)
{
	static char *to[] = {"a@example.org"};
	struct message_spec m = {
	    .from = "Tidings <tidings@example.org>",
	    .to = to,
	    .nto = 1,
	    .subject = "Big",
	    .date = 1700000000,
	    .list_id = "l.example.org",
	};
	struct buf text = BUF_INIT, html = BUF_INIT, built = BUF_INIT;
	struct buf streamed = BUF_INIT, mixed = BUF_INIT;
	struct rng r = {0x9e3779b97f4a7c15ull + (uint64_t)_i};
	struct err e = {0};
	char mid[128], mid2[128], mid3[128];
	FILE *tf, *hf;

	adversarial_part(&r, &text, _i % 2);
	adversarial_part(&r, &html, !(_i % 2));
	m.text = text.data;
	m.text_len = text.len;
	m.html = html.data;
	m.html_len = html.len;
	ck_assert_int_eq(build(&m, &built, mid, sizeof mid, &e), 0);
	/* the pieces message.c cuts encode as the whole part would */
	check_part_is_whole_encoding(&built, "Content-Type: text/plain", &text);
	check_part_is_whole_encoding(&built, "Content-Type: text/html", &html);

	tf = part_file(&text);
	hf = part_file(&html);
	m.text_file = tf;
	m.html_file = hf;
	m.text = m.html = "ignored";
	write_to_buf(&m, &streamed, mid2, sizeof mid2);
	/* one part from memory, one from a file, still streamed */
	ck_assert_int_eq(fseek(hf, 21, SEEK_SET), 0);
	m.text = text.data;
	m.text_file = NULL;
	write_to_buf(&m, &mixed, mid3, sizeof mid3);

	normalise(&built, mid);
	normalise(&streamed, mid2);
	normalise(&mixed, mid3);
	ck_assert_uint_eq(streamed.len, built.len);
	ck_assert(memcmp(streamed.data, built.data, built.len) == 0);
	ck_assert_uint_eq(mixed.len, built.len);
	ck_assert(memcmp(mixed.data, built.data, built.len) == 0);
	fclose(tf);
	fclose(hf);
	buf_free(&text);
	buf_free(&html);
	buf_free(&built);
	buf_free(&streamed);
	buf_free(&mixed);
}
END_TEST

/* FILE parts, read whole: the same bytes as memory parts. */
START_TEST(build_from_files)
{
	static char *to[] = {"a@example.org"};
	struct message_spec m = {
	    .from = "t@example.org",
	    .to = to,
	    .nto = 1,
	    .subject = "s",
	    .text = "From here\n. \r\nend ",
	    .text_len = 18,
	    .html = "",
	    .html_len = 0,
	};
	struct buf text = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	struct err e = {0};
	char mid[128], mid2[128];
	FILE *f;

	ck_assert_int_eq(buf_add(&text, m.text, m.text_len), 0);
	ck_assert_int_eq(build(&m, &a, mid, sizeof mid, &e), 0);
	f = part_file(&text);
	m.text_file = f;
	ck_assert_int_eq(build(&m, &b, mid2, sizeof mid2, &e), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\r\n\r\n=46rom here\r\n=2E=20\r\nend=20\r\n--"));
	normalise(&a, mid);
	normalise(&b, mid2);
	ck_assert_str_eq(a.data, b.data);
	fclose(f);
	buf_free(&text);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

/* 20 MB of digest text, one line of 1 MB among them, read from a file. */
START_TEST(stream_large_part)
{
	static char *to[] = {"a@example.org"};
	struct message_spec m = {
	    .from = "t@example.org",
	    .to = to,
	    .nto = 1,
	    .subject = "s",
	    .html = "<p>x</p>",
	    .html_len = 8,
	};
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct err e = {0};
	char mid[128], line[160];
	size_t written, i = 0, n;
	FILE *tf, *of;
	int bare;

	while (text.len < 20 * 1024 * 1024) {
		n = (size_t)snprintf(line, sizeof line,
		                     "%s item %zu: caf\xc3\xa9 = "
		                     "https://example.org/%zu/a-rather-long-path-to-an-article \n",
		                     i % 7 == 0 ? "From" : "*", i, i);
		ck_assert_int_eq(buf_add(&text, line, n), 0);
		if (++i == 1000)
			for (n = 0; n < 1024 * 1024; n++)
				ck_assert_int_eq(buf_addc(&text, n % 100 == 99 ? ' ' : 'w'), 0);
	}
	tf = part_file(&text);
	m.text_file = tf;
	of = tmpfile();
	ck_assert_ptr_nonnull(of);
	ck_assert_msg(message_write(&m, of, &written, mid, sizeof mid, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(fseeko(of, 0, SEEK_END), 0);
	ck_assert_uint_eq((size_t)ftello(of), written);
	rewind(of);
	ck_assert_int_eq(buf_grow(&out, written), 0);
	ck_assert_uint_eq(fread(out.data, 1, written, of), written);
	out.len = written;
	out.data[written] = '\0';
	ck_assert_uint_le(longest_line(out.data, &bare), 78);
	ck_assert_int_eq(bare, 0);
	check_part_is_whole_encoding(&out, "Content-Type: text/plain", &text);
	ck_assert_ptr_nonnull(strstr(out.data + written - 200, "\r\n\r\n<p>x</p>\r\n--=_tidings_"));
	fclose(tf);
	fclose(of);
	buf_free(&text);
	buf_free(&out);
}
END_TEST

START_TEST(stream_errors)
{
	static char *to[] = {"a@example.org"};
	struct message_spec m = {
	    .from = "t@example.org",
	    .to = to,
	    .nto = 1,
	    .subject = "s",
	    .text = "x\n",
	    .text_len = 2,
	};
	struct err e = {0};
	char mid[128], path[] = "/tmp/tmsg.XXXXXX";
	size_t written = 99;
	FILE *full, *wronly;
	int fd;

	full = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(full);
	ck_assert_int_eq(message_write(&m, full, &written, mid, sizeof mid, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_str_eq(e.msg, "cannot write the message: No space left on device");
	fclose(full);

	/* a part that cannot be read */
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	wronly = fopen(path, "w");
	ck_assert_ptr_nonnull(wronly);
	m.html_file = wronly;
	full = tmpfile();
	ck_assert_int_eq(message_write(&m, full, &written, mid, sizeof mid, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_str_eq(e.msg, "cannot read a message part: Bad file descriptor");
	/* the headers and the text part may be out, never more than was written */
	ck_assert_int_eq(fflush(full), 0);
	ck_assert_uint_eq((size_t)ftello(full), written);
	fclose(full);
	fclose(wronly);
	unlink(path);

	/* a bad header: nothing written at all */
	m.html_file = NULL;
	m.list_id = "a b";
	full = tmpfile();
	ck_assert_int_eq(message_write(&m, full, &written, mid, sizeof mid, &e), -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_uint_eq(written, 0);
	ck_assert_int_eq(ftello(full), 0);
	fclose(full);
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
	tcase_add_test(tc, to_keeps_display_name);
	tcase_add_test(tc, qp_encoding);
	tcase_add_test(tc, qp_matches_reference_at_columns);
	tcase_add_test(tc, qp_matches_reference_random);
	tcase_add_test(tc, header_plain_and_folded);
	tcase_add_loop_test(tc, subject_is_capped, 0, 3);
	tcase_add_test(tc, header_encoded_words);
	tcase_add_test(tc, build_whole_message);
	tcase_add_test(tc, build_refuses_bad_input);
	tcase_add_loop_test(tc, stream_equals_build, 0, 4);
	tcase_add_test(tc, build_from_files);
	tcase_add_test(tc, stream_large_part);
	tcase_add_test(tc, stream_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
