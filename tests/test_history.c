/*
 * Unit tests for src/history.c (and the page links src/feed.c exposes).
 * Paging runs over file:// pages in a temporary folder; the end-to-end
 * test tests/e2e/history.py pages over HTTP.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"

#define DAY 86400

static char dir[64];
static time_t now;

static void
parse(const char *doc, const char *url, struct feed *f)
{
	struct err e = {0};

	ck_assert_msg(feed_parse(doc, strlen(doc), url, f, &e) == 0, "%s", e.msg);
}

START_TEST(wordpress_page_urls)
{
	static const struct {
		const char *url;
		int n;
		const char *want;
	} cases[] = {
	    {"http://x.org/tag/linux/feed/", 2, "http://x.org/tag/linux/feed/?paged=2"},
	    {"http://x.org/?feed=rss2&tag=linux", 3, "http://x.org/?feed=rss2&tag=linux&paged=3"},
	    {"http://x.org/feed?", 2, "http://x.org/feed?paged=2"},
	    {"http://x.org/feed/#top", 4, "http://x.org/feed/?paged=4#top"},
	    {"http://x.org/?a=1#b?c", 2, "http://x.org/?a=1&paged=2#b?c"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *u = history_wordpress_page(cases[i].url, cases[i].n);

		ck_assert_str_eq(u, cases[i].want);
		free(u);
	}
}
END_TEST

START_TEST(page_links_and_generator_are_parsed)
{
	struct feed f;

	parse("<rss version='2.0' xmlns:atom='http://www.w3.org/2005/Atom'><channel>"
	      "<title>t</title><generator>https://wordpress.org/?v=6.4.2</generator>"
	      "<atom:link rel='self' href='http://x.org/feed/'/>"
	      "<atom:link rel='next' href='/feed/?page=2'/>"
	      "<item><title>a</title><guid>a</guid>"
	      "<atom:link rel='next' href='http://x.org/not-this'/></item></channel></rss>",
	      "http://x.org/feed/", &f);
	ck_assert_str_eq(f.next, "http://x.org/feed/?page=2");
	ck_assert_ptr_null(f.prev_archive);
	ck_assert_int_eq(history_is_wordpress(&f), 1);
	feed_free(&f);

	parse("<feed xmlns='http://www.w3.org/2005/Atom' "
	      "xmlns:fh='http://purl.org/syndication/history/1.0'>"
	      "<title>t</title><fh:archive/><generator uri='https://gohugo.io/'>Hugo</generator>"
	      "<link rel='prev-archive' href='2009.xml'/><link href='http://x.org/'/>"
	      "<entry><id>a</id><title>a</title></entry></feed>",
	      "http://x.org/archive/2010.xml", &f);
	ck_assert_str_eq(f.prev_archive, "http://x.org/archive/2009.xml");
	ck_assert_ptr_null(f.next);
	ck_assert_str_eq(f.link, "http://x.org/");
	ck_assert_int_eq(history_is_wordpress(&f), 0);
	feed_free(&f);

	parse("{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\","
	      "\"next_url\":\"page2.json\",\"items\":[{\"id\":\"1\",\"content_text\":\"x\"}]}",
	      "http://x.org/feed.json", &f);
	ck_assert_str_eq(f.next, "http://x.org/page2.json");
	ck_assert_int_eq(history_is_wordpress(&f), 0);
	feed_free(&f);
}
END_TEST

START_TEST(wants_older_only_while_the_oldest_item_is_after_since)
{
	struct item items[3];
	struct feed f = {.items = items, .nitems = 3};

	memset(items, 0, sizeof items);
	ck_assert_int_eq(history_wants_older(&f, 100), 0); /* undated: cannot tell */
	items[0] = (struct item){.published = 300, .has_date = 1};
	items[1] = (struct item){.published = 200, .has_date = 1};
	ck_assert_int_eq(history_wants_older(&f, 100), 1);
	ck_assert_int_eq(history_wants_older(&f, 200), 1); /* on the date: older may be too */
	ck_assert_int_eq(history_wants_older(&f, 201), 0);
	f.nitems = 0;
	ck_assert_int_eq(history_wants_older(&f, 0), 0);
}
END_TEST

/* An Atom page in dir: entries named by (id, age in days); prev: the next page's file or NULL. */
static void
page(const char *file, const char *prev, const char *ids, const int *ages)
{
	char path[128], when[32];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fprintf(fp, "<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title>\n");
	if (prev != NULL)
		fprintf(fp, "<link rel='prev-archive' href='%s'/>\n", prev);
	for (size_t i = 0; ids[i] != '\0'; i++) {
		time_t t = now - (time_t)ages[i] * DAY;

		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		fprintf(fp, "<entry><id>%c</id><title>%c</title><updated>%s</updated></entry>\n",
		        ids[i], ids[i], when);
	}
	fprintf(fp, "</feed>\n");
	ck_assert_int_eq(fclose(fp), 0);
}

/* Page back from dir/top.xml; the ids the feed ends with, in order. */
static enum history_stop
extend(time_t since_days, int max_pages, char *ids, size_t *pages, char *detail)
{
	static const struct fetch_options opt = {
	    .timeout = 30, .connect_timeout = 10, .parallel = 2, .per_host = 1};
	char url[128];
	struct history_feed hf = {0};
	struct feed f;
	struct err e = {0};
	struct buf b = BUF_INIT;

	snprintf(url, sizeof url, "file://%s/top.xml", dir);
	ck_assert_int_eq(buf_read_file(&b, url + 7, 1 << 20), 0);
	parse(buf_str(&b), url, &f);
	buf_free(&b);
	hf.url = url;
	hf.allow_file = 1;
	hf.feed = &f;
	ck_assert_int_eq(history_extend(&hf, 1, now - since_days * DAY, max_pages, &opt, &e), 0);
	for (size_t i = 0; i < f.nitems; i++)
		ids[i] = f.items[i].id[0];
	ids[f.nitems] = '\0';
	*pages = hf.pages;
	if (detail != NULL)
		snprintf(detail, 300, "%s", hf.detail);
	feed_free(&f);
	return hf.stop;
}

START_TEST(pages_back_to_the_date_once_each)
{
	static const int top[] = {1, 2, 3}, p2[] = {3, 4, 5}, p1[] = {6, 7, 8};
	char ids[64], detail[300];
	size_t pages;

	page("top.xml", "p2.xml", "abc", top);
	page("p2.xml", "p1.xml", "cde", p2); /* c again: once in the result */
	page("p1.xml", NULL, "fgh", p1);

	ck_assert_int_eq(extend(2, 50, ids, &pages, NULL), HISTORY_NOT_NEEDED);
	ck_assert_str_eq(ids, "abc");
	ck_assert_uint_eq(pages, 0);

	ck_assert_int_eq(extend(4, 50, ids, &pages, NULL), HISTORY_REACHED);
	ck_assert_str_eq(ids, "abcd"); /* e is older than the date: dropped */
	ck_assert_uint_eq(pages, 1);

	ck_assert_int_eq(extend(100, 50, ids, &pages, NULL), HISTORY_END);
	ck_assert_str_eq(ids, "abcdefgh");
	ck_assert_uint_eq(pages, 2);

	ck_assert_int_eq(extend(100, 1, ids, &pages, NULL), HISTORY_MAX_PAGES);
	ck_assert_str_eq(ids, "abcde");
	ck_assert_uint_eq(pages, 1);

	/* A chain that comes back to a page already read ends there. */
	page("p1.xml", "top.xml", "fgh", p1);
	ck_assert_int_eq(extend(100, 50, ids, &pages, NULL), HISTORY_REPEAT);
	ck_assert_str_eq(ids, "abcdefgh");

	/* A page that cannot be read ends the paging with its URL and why. */
	page("p1.xml", "gone.xml", "fgh", p1);
	ck_assert_int_eq(extend(100, 50, ids, &pages, detail), HISTORY_FAILED);
	ck_assert_str_eq(ids, "abcdefgh");
	ck_assert_ptr_nonnull(strstr(detail, "/gone.xml: cannot read the file"));
}
END_TEST

/* Many ids: each found again, and the work grows with their number, not its square. */
START_TEST(ids_set_stays_linear)
{
	enum { N = 200000 };
	struct history_ids s = {0};
	char id[32];

	/* Newest first, as feeds list them. */
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof id, "tag:x.org,2024:%d", N - i);
		ck_assert_int_eq(history_ids_add(&s, id), 1);
	}
	ck_assert_uint_eq(s.n, N);
	/*
	 * About 3.5 N here (probes while at most half full, and each id moved
	 * about once as the table doubles); a sorted array moves ~N*N/2 ids.
	 */
	ck_assert_msg(s.work < 4 * (size_t)N, "work %zu for %d ids", s.work, N);
	for (int i = 0; i < N; i += 997) {
		snprintf(id, sizeof id, "tag:x.org,2024:%d", N - i);
		ck_assert_int_eq(history_ids_add(&s, id), 0);
	}
	ck_assert_int_eq(history_ids_add(&s, "tag:x.org,2024:0"), 1);
	ck_assert_int_eq(history_ids_add(&s, ""), 1);
	ck_assert_int_eq(history_ids_add(&s, ""), 0);
	ck_assert_uint_eq(s.n, N + 2);
	history_ids_free(&s);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/tidings-history-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	now = time(NULL);
}

static void
teardown(void)
{
	static const char *files[] = {"top.xml", "p2.xml", "p1.xml"};
	char path[128];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, wordpress_page_urls);
	tcase_add_test(tc, page_links_and_generator_are_parsed);
	tcase_add_test(tc, wants_older_only_while_the_oldest_item_is_after_since);
	tcase_add_test(tc, pages_back_to_the_date_once_each);
	tcase_add_test(tc, ids_set_stays_linear);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
