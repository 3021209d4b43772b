/* Unit tests for src/jsonfeed.c: JSON Feed 1.0/1.1, through feed_parse() and directly. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "jsonfeed.h"
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

START_TEST(json_feed)
{
	static const char doc[] =
	    "\n{\"version\": \"https://jsonfeed.org/version/1.1\",\n"
	    " \"title\": \"J\\u00e9 \\ud83d\\ude00\", \"home_page_url\": "
	    "\"https://example.org/\",\n"
	    " \"items\": [\n"
	    "  {\"id\": \"2\", \"content_text\": \"a & <b>\", \"url\": \"/second\",\n"
	    "   \"title\": \"Second\", \"date_published\": \"2010-02-07T14:04:00-05:00\",\n"
	    "   \"tags\": [\"A\", \" a \", \"B\"], \"authors\": [{\"name\": \"Jo\"}],\n"
	    "   \"attachments\": [{\"url\": \"x.mp3\", \"mime_type\": \"audio/mpeg\", "
	    "\"size_in_bytes\": 123}]},\n"
	    "  {\"id\": 1, \"content_html\": \"<p>Hi</p>\", \"url\": \"https://e.example/1\",\n"
	    "   \"date_modified\": \"2010-02-07T00:00:00Z\"},\n"
	    "  {\"summary\": \"s < t\"}, 42]}";
	const struct item *it;

	ck_assert_int_eq(parse(doc, "https://example.org/feed.json"), 0);
	ck_assert_str_eq(f.format, "json11");
	ck_assert_str_eq(f.title, "J\xC3\xA9 \xF0\x9F\x98\x80");
	ck_assert_str_eq(f.link, "https://example.org/");
	ck_assert_uint_eq(f.nitems, 3);
	it = &f.items[0];
	ck_assert_str_eq(it->id, "2");
	ck_assert_str_eq(it->title, "Second");
	ck_assert_str_eq(it->link, "https://example.org/second");
	ck_assert_int_eq(it->published, 1265569440);
	ck_assert_str_eq(it->content, "a &amp; &lt;b&gt;");
	ck_assert_uint_eq(it->ntags, 2);
	ck_assert_str_eq(it->author, "Jo");
	ck_assert_uint_eq(it->nenclosures, 1);
	ck_assert_str_eq(it->enclosures[0].url, "https://example.org/x.mp3");
	ck_assert_int_eq(it->enclosures[0].length, 123);
	it = &f.items[1];
	ck_assert_str_eq(it->id, "1");
	ck_assert_str_eq(it->content, "<p>Hi</p>");
	ck_assert_int_eq(it->published, 1265500800);
	it = &f.items[2];
	ck_assert(strncmp(it->id, "sha:", 4) == 0);
	ck_assert_str_eq(it->content, "s &lt; t");
}
END_TEST

/* A JSON Feed holding \u0000 loses that character, not the feed; image and duration read */
START_TEST(json_nul_is_dropped)
{
	static const char doc[] =
	    "{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"N\\u0000ul\",\n"
	    " \"items\": [{\"id\": \"a\\u0000b\", \"title\": \"x\\u0000y\", \"content_text\": "
	    "\"t\",\n"
	    "   \"image\": \"/i.jpg\", \"attachments\": [{\"url\": \"/e.mp3\", "
	    "\"mime_type\": \"audio/mpeg\", \"duration_in_seconds\": 3723}]}]}";

	ck_assert_int_eq(parse(doc, "https://j.example/feed.json"), 0);
	ck_assert_str_eq(f.title, "Nul");
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_str_eq(f.items[0].id, "ab");
	ck_assert_str_eq(f.items[0].title, "xy");
	ck_assert_str_eq(f.items[0].thumbnail, "https://j.example/i.jpg");
	ck_assert_str_eq(f.items[0].duration, "3723");
	ck_assert_str_eq(f.items[0].enclosures[0].url, "https://j.example/e.mp3");
}
END_TEST

/* gofeed's samples write JSON Feed's version bare; Blogger's GData JSON is no feed */
START_TEST(json_bare_version)
{
	ck_assert_int_eq(parse("{\"version\": \"1.1\", \"title\": \"t\", \"items\": "
	                       "[{\"id\": \"1\", \"url\": \"https://j.example/1\"}]}",
	                       NULL),
	                 0);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_str_eq(f.items[0].link, "https://j.example/1");
	feed_free(&f);
	ck_assert_int_eq(parse("{\"version\": \"1.0\", \"encoding\": \"UTF-8\", \"feed\": "
	                       "{\"entry\": [{\"title\": {\"$t\": \"x\"}}]}}",
	                       NULL),
	                 -1);
	ck_assert_str_eq(e.msg, "not a feed: JSON, but not a JSON Feed");
}
END_TEST

START_TEST(json_not_a_feed)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(parse("{\"version\": 1, \"items\": []}", NULL), -1);
	ck_assert_str_eq(e.msg, "not a feed: JSON, but not a JSON Feed");
	ck_assert_int_eq(
	    parse("{\"version\": \"https://jsonfeed.org/version/1\", \"items\": [", NULL), -1);
	ck_assert_str_eq(e.msg, "not a feed: broken JSON");
	for (int i = 0; i < 100000; i++)
		buf_addc(&b, '[');
	ck_assert_int_eq(feed_parse(b.data, b.len, NULL, &f, &e), -1);
	ck_assert_str_eq(e.msg, "not a feed: broken JSON");
	buf_free(&b);
}
END_TEST

/* jsonfeed_parse on its own: a zeroed feed filled, relative links resolved. */
START_TEST(jsonfeed_parse_alone)
{
	static const char doc[] = "{\"version\": \"https://jsonfeed.org/version/1\", "
	                          "\"next_url\": \"?page=2\", \"items\": "
	                          "[{\"id\": \"x\", \"title\": \" a \\n b \", \"url\": \"p\"}]}";

	memset(&f, 0, sizeof f);
	ck_assert_int_eq(jsonfeed_parse(doc, sizeof doc - 1, "https://j.example/f.json", &f, &e),
	                 0);
	ck_assert_str_eq(f.next, "https://j.example/f.json?page=2");
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_str_eq(f.items[0].title, "a b");
	ck_assert_str_eq(f.items[0].link, "https://j.example/p");
	ck_assert_ptr_null(f.items[0].content);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("jsonfeed");
	TCase *tc = tcase_create("jsonfeed");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, json_feed);
	tcase_add_test(tc, json_nul_is_dropped);
	tcase_add_test(tc, json_bare_version);
	tcase_add_test(tc, json_not_a_feed);
	tcase_add_test(tc, jsonfeed_parse_alone);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
