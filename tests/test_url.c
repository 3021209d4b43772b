/* Unit tests for src/url.c: which URLs a digest may link, and how */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/uri.h>

#include "url.h"

#define BASE "http://ex.org/blog/2024/post.html"

START_TEST(clean_url)
{
	static const char *const ok[][3] = {
	    {"http://x.org/a?utm_source=rss&b=1", NULL, "http://x.org/a?b=1"},
	    {"/item/1", "https://x.org/feed/", "https://x.org/item/1"},
	    {" HTTPS://x.org/ ", NULL, "https://x.org/"},
	    {"mailto:a@b.org", "http://x.org/", "mailto:a@b.org"},
	};
	static const char *const bad[][2] = {
	    {"javascript:alert(1)", "http://x.org/"},
	    {"java\tscript:alert(1)", NULL},
	    {"data:text/html,x", NULL},
	    {"/relative", NULL},
	    {"ftp://x.org/", NULL},
	    {"http://", NULL},
	    {"mailto:", NULL},
	    {"", NULL},
	};
	char *u;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		u = url_clean(ok[i][0], ok[i][1]);
		ck_assert_msg(u != NULL && strcmp(u, ok[i][2]) == 0, "%s -> %s", ok[i][0], u);
		free(u);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		u = url_clean(bad[i][0], bad[i][1]);
		ck_assert_msg(u == NULL, "%s -> %s", bad[i][0], u);
	}
	ck_assert_ptr_null(url_clean(NULL, NULL));
}
END_TEST

/*
 * Plain absolute URLs skip xmlBuildURI: for these (unchanged by the
 * cleaning otherwise) the result must be what xmlBuildURI gives.
 */
START_TEST(clean_url_matches_libxml2)
{
	static const char *const urls[] = {
	    "http://x.org/a",
	    "http://x.org:8080/a?b=c#d",
	    "http://x.org:/a",
	    "http://x.org:x/",
	    "http://1.2.3.4/",
	    "http://1.2.3.4x/",
	    "http://x.org/a#b#c",
	    "http://x.org/a[1]",
	    "http://[::1]/x",
	    "http://u@x.org/",
	    "http://u:p@x.org:1/",
	    "http://x.org/%41%4a",
	    "https://x.org?q",
	    "http://x.org#f",
	    "http://x.org/a?b?c#d?e/f",
	    "http://x.org/!$&'()*+,;=:@",
	    "http://x_y.org/~u/",
	    "http://x.org:99999999/",
	    "http://x.org:123456/",
	    "http://x.org/a#",
	    "http://x.org?a=1",
	    "http://x!y.org/",
	    "http://x.org/a#[b]",
	    "https://EX.ORG/P",
	    "http://-x-/",
	};

	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		xmlChar *x = xmlBuildURI((const xmlChar *)urls[i], (const xmlChar *)BASE);
		char *ours = url_clean(urls[i], BASE);

		if (x == NULL)
			ck_assert_msg(ours == NULL, "%s: %s, libxml2 NULL", urls[i], ours);
		else
			ck_assert_msg(ours != NULL && strcmp(ours, (const char *)x) == 0,
			              "%s: %s, libxml2 %s", urls[i], ours, (const char *)x);
		free(ours);
		xmlFree(x);
	}
}
END_TEST

START_TEST(trackers_by_host)
{
	static const char *const trackers[] = {
	    "http://pixel.wp.com/g.gif",
	    "https://stats.wordpress.com/x?y",
	    "http://ad.doubleclick.net/p",
	    "http://doubleclick.net/p",
	    "http://u@feeds.feedburner.com:80/~r/x",
	    "https://WWW.Google-Analytics.com/c",
	};
	static const char *const others[] = {
	    "http://example.org/a.png",        "http://notdoubleclick.net/p", "http://wp.com/x",
	    "http://example.org/pixel.wp.com", "mailto:a@pixel.wp.com",       "",
	};

	for (size_t i = 0; i < sizeof trackers / sizeof trackers[0]; i++)
		ck_assert_msg(url_tracker_host(trackers[i]), "%s", trackers[i]);
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		ck_assert_msg(!url_tracker_host(others[i]), "%s", others[i]);
}
END_TEST

START_TEST(prepare_escapes_and_drops)
{
	char *u = url_prepare(" \tjav\tascript:a b<%41%zz>\x01\xc3\xa9 \n");

	ck_assert_str_eq(u, "javascript:a%20b%3C%41%25zz%3E%C3%A9");
	free(u);
	/* A base prepared once resolves like url_clean. */
	u = url_prepare(BASE);
	ck_assert_str_eq(u, BASE);
	{
		char *a = url_clean_prepared("../x?utm_medium=m&k=v#f", u);
		char *b = url_clean("../x?utm_medium=m&k=v#f", BASE);

		ck_assert_str_eq(a, "http://ex.org/blog/x?k=v#f");
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	free(u);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, clean_url);
	tcase_add_test(tc, clean_url_matches_libxml2);
	tcase_add_test(tc, trackers_by_host);
	tcase_add_test(tc, prepare_escapes_and_drops);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
