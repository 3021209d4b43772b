/* Unit tests for src/mend.c: encodings, references, control bytes and the
 * markers, through feed_parse() and directly. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "mend.h"
#include "util.h"

static struct feed f;
static struct err e;

static int
parse(const char *doc, const char *url)
{
	memset(&e, 0, sizeof e);
	return feed_parse(doc, strlen(doc), url, &f, &e);
}

static void
teardown(void)
{
	feed_free(&f);
}

/* Every byte sequence is valid UTF-8. */
static int
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		int n = *p < 0x80             ? 0
		        : (*p & 0xE0) == 0xC0 ? 1
		        : (*p & 0xF0) == 0xE0 ? 2
		        : (*p & 0xF8) == 0xF0 ? 3
		                              : -1;

		if (n < 0 || (n == 1 && *p < 0xC2))
			return 0;
		for (p++; n > 0; n--, p++)
			if ((*p & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

START_TEST(entities_survive)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel><title>A&nbsp;B</title>\n"
	    "<item><title>caf&eacute; &mdash; &unknown; &amp; &#233;&#x00E9;</title>\n"
	    "<link>http://example.org/?a=1&b=2&amp;c=3</link>\n"
	    "<description>x &copy; y</description></item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.title, "A\xC2\xA0"
	                          "B");
	ck_assert_str_eq(f.items[0].title, "caf\xC3\xA9 \xE2\x80\x94 &unknown; & \xC3\xA9\xC3\xA9");
	ck_assert_str_eq(f.items[0].link, "http://example.org/?a=1&b=2&c=3");
	ck_assert_str_eq(f.items[0].summary, "x \xC2\xA9 y");
}
END_TEST

START_TEST(entities_survive_after_an_error)
{
	/* libxml2 recover drops &amp; and &lt; after its first error */
	static const char doc[] =
	    "<rss version=\"2.0\"><channel><item><title>a</b> broken</title></item>\n"
	    "<item><title>x &amp; y &lt;z&gt;</title></item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[1].title, "x & y <z>");
}
END_TEST

/*
 * Text with references or non-ASCII reaches libxml2 as CDATA; these are
 * the characters that must not read differently there.
 */
START_TEST(text_reads_the_same_as_cdata)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel>\n"
	    "<item><title a='x>y' b=\"&amp;\">caf&eacute; ]&#93;&gt; x&#10;y&#13;z&#9;w</title>\n"
	    "<description>&lt;p&gt;na&#xEF;ve&lt;/p&gt;\r\n &#x1F600; a]]b <?pi x?>&quot;q&quot;"
	    "<![CDATA[<b>]]> <!-- c --> t&#xFFFE;u\xEF\xBF\xBEv\r</description></item>\n"
	    "<item><title>x</b></title></item>\n"
	    "</channel></rss>\n";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].title, "caf\xC3\xA9 ]]> x y z w");
	/* CR LF and a lone CR read as LF; the invalid reference and U+FFFE are dropped */
	ck_assert_str_eq(f.items[0].summary,
	                 "<p>na\xC3\xAFve</p>\n \xF0\x9F\x98\x80 a]]b \"q\"<b>  tuv\n");
	/* a reference to LF does not count as a line: the first error is on line 4 */
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_ptr_nonnull(strstr(f.warning, "line 4:"));
}
END_TEST

START_TEST(references_to_cr_and_tab_are_kept)
{
	static const char doc[] = "<rss><channel><item><description>\xC3\xA9&#13;&#9;&#x0D;\r\n"
	                          "&#10;&#93;</description></item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.items[0].summary, "\xC3\xA9\r\t\r\n\n]");
	ck_assert_ptr_null(f.warning);
}
END_TEST

START_TEST(cdata_end_in_text_is_text)
{
	/* libxml2 calls it an error and drops the text before it in the run */
	static const char doc[] = "<rss><channel><item><title>a ]]> b</title>"
	                          "<description>\xC3\xA9 ]]&gt; ]]> c</description></item>"
	                          "</channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.items[0].title, "a ]]> b");
	ck_assert_str_eq(f.items[0].summary, "\xC3\xA9 ]]> ]]> c");
}
END_TEST

START_TEST(markup_the_mender_cannot_follow)
{
	/* an unquoted attribute, an internal subset, a PI holding a "<": from there the
	 * mender only mends; a DOCTYPE without a subset it follows */
	static const char *const docs[] = {
	    "<rss><channel><item x=1><title>a &amp; b "
	    "&nbsp;\xC3\xA9</title></item></channel></rss>",
	    "<!DOCTYPE rss [<!ENTITY x \"<b>y</b>\">]><rss><channel><item>"
	    "<title>a &amp; b &nbsp;\xC3\xA9</title></item></channel></rss>",
	    "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" "
	    "\"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n<rss version=\"0.91\">"
	    "<channel><item><title>a &amp; b &nbsp;\xC3\xA9</title></item></channel></rss>",
	    "<?xml-stylesheet href=\"a.xsl?x=1&y=2\"?><rss><channel><item><?pi <b>?>"
	    "<title>a &amp; b &nbsp;\xC3\xA9</title></item></channel></rss>",
	};

	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		ck_assert_int_eq(parse(docs[i], NULL), 0);
		ck_assert_uint_eq(f.nitems, 1);
		ck_assert_str_eq(f.items[0].title, "a & b \xC2\xA0\xC3\xA9");
		feed_free(&f);
	}
}
END_TEST

START_TEST(long_text_across_chunks)
{
	/* 700 KB of text the mender wraps: its sections close at each chunk's end */
	size_t n = 100000, len;
	char *doc = malloc(n * 7 + 200), *want = malloc(n * 3 + 1), *d = doc;

	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_nonnull(want);
	d += sprintf(d, "<rss><channel><item><description>");
	for (size_t i = 0; i < n; i++) {
		memcpy(d, "\xC3\xA9&amp;", 7);
		d += 7;
		memcpy(want + i * 3, "\xC3\xA9&", 3);
	}
	want[n * 3] = '\0';
	d += sprintf(d, "</description></item></channel></rss>");
	len = (size_t)(d - doc);
	ck_assert_int_eq(feed_parse(doc, len, NULL, &f, &e), 0);
	ck_assert_str_eq(f.items[0].summary, want);
	ck_assert_ptr_null(f.warning);
	free(doc);
	free(want);
}
END_TEST

START_TEST(forged_markers_are_ignored)
{
	/* the mender's markers are PIs with a per-document nonce: a feed cannot forge one */
	static const char doc[] = "<rss><channel><item><title>\xC3\xA9<?tidings 0?>"
	                          "<?tidings0000000000000000 0?>&amp;</title>"
	                          "<description>x<?tidings0000000000000001 1?>y</description>"
	                          "</item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.items[0].title, "\xC3\xA9&");
	ck_assert_str_eq(f.items[0].summary, "xy");
}
END_TEST

START_TEST(bom_and_blank_lines)
{
	static const char doc[] = "\xEF\xBB\xBF\n\n  \n<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                          "<rss version=\"2.0\"><channel><title>T</title>"
	                          "<item><title>\xC3\xA9t\xC3\xA9</title></item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.title, "T");
	ck_assert_str_eq(f.items[0].title, "\xC3\xA9t\xC3\xA9");
	ck_assert_ptr_null(f.warning);
}
END_TEST

START_TEST(cp1252_lie)
{
	/* declared UTF-8, written in windows-1252: e-acute, curly quotes, euro */
	static const char doc[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<rss version=\"2.0\"><channel><title>Caf\xE9</title>"
	    "<item><title>\x93quoted\x94 \x80 5</title></item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.title, "Caf\xC3\xA9");
	ck_assert_str_eq(f.items[0].title, "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC 5");
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_ptr_nonnull(strstr(f.warning, "UTF-8"));
}
END_TEST

START_TEST(latin1_declared)
{
	static const char doc[] =
	    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
	    "<rss "
	    "version=\"2.0\"><channel><item><title>F\xF6rderung</title></item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.items[0].title, "F\xC3\xB6rderung");
}
END_TEST

START_TEST(utf16_label_on_utf8)
{
	static const char doc[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n"
	    "<rss version=\"2.0\"><channel><item><title>\xC3\xA9t\xC3\xA9</title>"
	    "</item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.items[0].title, "\xC3\xA9t\xC3\xA9");
}
END_TEST

START_TEST(utf16)
{
	static const char src[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss version=\"2.0\"><channel>"
	    "<item><title>wide</title></item></channel></rss>";
	char doc[2 * sizeof src + 2];
	size_t n = 0;

	doc[n++] = (char)0xFF;
	doc[n++] = (char)0xFE;
	for (size_t i = 0; i + 1 < sizeof src; i++) {
		doc[n++] = src[i];
		doc[n++] = 0;
	}
	ck_assert_int_eq(feed_parse(doc, n, NULL, &f, &e), 0);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_str_eq(f.items[0].title, "wide");
}
END_TEST

START_TEST(garbage_bytes_never_reach_output)
{
	char doc[600];
	int n;

	n = snprintf(doc, sizeof doc, "<rss><channel><item><title>");
	for (int c = 1; c < 256; c++)
		if (c != '<' && c != '&')
			doc[n++] = (char)c;
	n += snprintf(doc + n, sizeof doc - (size_t)n, "</title></item></channel></rss>");
	ck_assert_int_eq(feed_parse(doc, (size_t)n, NULL, &f, &e), 0);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert(valid_utf8(f.items[0].title));
	ck_assert(strchr(f.items[0].title, '\x01') == NULL);
}
END_TEST

START_TEST(control_bytes_dropped_in_cdata)
{
	static const char doc[] = "<rss><channel><item><description><![CDATA[a\x01"
	                          "b\x02"
	                          "c\td\n"
	                          "e\x1f"
	                          "0123456789abcdef\x0b]]></description></item>"
	                          "</channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.items[0].summary, "abc\td\ne0123456789abcdef");
}
END_TEST

/* Texts the mender moves aside, past 100,000 of them and past a million lines in one. */
START_TEST(many_and_long_side_texts)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title>"
	             "<guid>a</guid><description>");
	for (int i = 0; i < 100010; i++)
		buf_adds(&b, "\xc3\xa9<b/>"); /* each text with a non-ASCII byte is a marker */
	buf_adds(&b, "</description></item><item><title>b \xc3\xa9</title><guid>b</guid>"
	             "<description>x &amp; y");
	for (int i = 0; i < 1200000; i++)
		buf_addc(&b, '\n');
	buf_adds(&b, "end</description></item><item><title>c</title><guid>c</guid></item>"
	             "</channel></rss>");
	ck_assert_int_eq(feed_parse(b.data, b.len, NULL, &f, &e), 0);
	ck_assert_ptr_null(f.warning);
	ck_assert_uint_eq(f.nitems, 3);
	ck_assert_str_eq(f.items[1].title, "b \xc3\xa9");
	ck_assert_str_eq(f.items[2].title, "c");
	buf_free(&b);
}
END_TEST

/* The entity table, character references and UTF-8 out, as the parsers use them. */
START_TEST(references_and_utf8)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(mend_entity("eacute"), 233);
	ck_assert_int_eq(mend_entity("zwnj"), 8204);
	ck_assert_int_eq(mend_entity("unknown"), -1);
	ck_assert_uint_eq(mend_charref_len("&#233;x", 7), 6);
	ck_assert_uint_eq(mend_charref_len("&#x1F600;", 9), 9);
	ck_assert_uint_eq(mend_charref_len("&#;", 3), 0);
	ck_assert_uint_eq(mend_charref_len("&#12", 4), 0);
	ck_assert_int_eq(mend_put_utf8(&b, 0xE9), 0);
	ck_assert_int_eq(mend_put_utf8(&b, 0xD800), 0); /* a surrogate: U+FFFD */
	ck_assert_int_eq(mend_put_utf8(&b, 0x1F600), 0);
	ck_assert_str_eq(b.data, "\xC3\xA9\xEF\xBF\xBD\xF0\x9F\x98\x80");
	buf_free(&b);
}
END_TEST

/* A document that is valid UTF-8 is not copied; one declared latin-1 is converted. */
START_TEST(decode_copies_only_when_needed)
{
	static const char utf8[] = "<rss>\xC3\xA9</rss>";
	static const char latin1[] = "<?xml version=\"1.0\" encoding=\"latin1\"?><rss>\xE9</rss>";
	struct buf tmp = BUF_INIT;
	char warn[128] = "";
	const char *doc = utf8;
	size_t n = sizeof utf8 - 1;

	ck_assert_int_eq(mend_decode(&doc, &n, &tmp, warn, sizeof warn), 0);
	ck_assert_ptr_eq(doc, utf8);
	ck_assert_ptr_null(tmp.data);
	doc = latin1;
	n = sizeof latin1 - 1;
	ck_assert_int_eq(mend_decode(&doc, &n, &tmp, warn, sizeof warn), 0);
	ck_assert_ptr_eq(doc, tmp.data);
	ck_assert_uint_eq(n, sizeof latin1);
	ck_assert_ptr_nonnull(strstr(doc, "<rss>\xC3\xA9</rss>"));
	ck_assert_str_eq(warn, "");
	buf_free(&tmp);
}
END_TEST

/*
 * Text the mender decodes itself leaves a marker in the chunk; the marker
 * gives the text back once, and only to its own mender.
 */
START_TEST(markers_give_their_text_once)
{
	static const char doc[] = "<rss><item><title>caf&eacute;</title></item></rss>";
	struct mender *m = mender_new(doc, sizeof doc - 1);
	struct buf out = BUF_INIT;
	char target[64], data[32];
	const char *pi, *text;
	size_t n;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mender_chunk(m, &out, 1 << 20), 0);
	pi = strstr(out.data, "<title>caf<?tidings");
	ck_assert_ptr_nonnull(pi);
	pi += strlen("<title>caf");
	ck_assert_int_eq(sscanf(pi + 2, "%63s %31[0-9]", target, data), 2);
	ck_assert_ptr_null(mender_text(m, "tidings0000000000000000", data, &n));
	text = mender_text(m, target, data, &n);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(n, 2);
	ck_assert(memcmp(text, "\xC3\xA9", 2) == 0);
	ck_assert_ptr_null(mender_text(m, target, data, &n));
	mender_trim(m);
	mender_free(m);
	buf_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mend");
	TCase *tc = tcase_create("mend");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, entities_survive);
	tcase_add_test(tc, entities_survive_after_an_error);
	tcase_add_test(tc, text_reads_the_same_as_cdata);
	tcase_add_test(tc, references_to_cr_and_tab_are_kept);
	tcase_add_test(tc, cdata_end_in_text_is_text);
	tcase_add_test(tc, markup_the_mender_cannot_follow);
	tcase_add_test(tc, long_text_across_chunks);
	tcase_add_test(tc, forged_markers_are_ignored);
	tcase_add_test(tc, bom_and_blank_lines);
	tcase_add_test(tc, cp1252_lie);
	tcase_add_test(tc, latin1_declared);
	tcase_add_test(tc, utf16_label_on_utf8);
	tcase_add_test(tc, utf16);
	tcase_add_test(tc, garbage_bytes_never_reach_output);
	tcase_add_test(tc, control_bytes_dropped_in_cdata);
	tcase_add_test(tc, many_and_long_side_texts);
	tcase_add_test(tc, references_and_utf8);
	tcase_add_test(tc, decode_copies_only_when_needed);
	tcase_add_test(tc, markers_give_their_text_once);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
