/*
 * Unit tests for src/parsecmd.c, `tidings parse`: the listing of a file
 * byte for byte (text and --json), control characters kept from the
 * terminal, a configured feed by name, fetches from tests/harness/httpd.py
 * (base URL, HTTP statuses, the size cap), and the exit status of several
 * operands (66 over 75 over 65).  The corpus tests (tests/e2e/corpus*.py)
 * compare --json against other parsers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "testkit.h"

#define RSS                                                                                        \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<rss version=\"2.0\"><channel><title>Local &amp; Co</title>"                              \
	"<link>http://example.org/</link>\n"                                                       \
	"<item><title>First</title><link>/posts/1</link>"                                          \
	"<guid isPermaLink=\"false\">urn:one</guid>\n"                                             \
	"<pubDate>Thu, 01 Oct 2026 10:00:00 +0000</pubDate>"                                       \
	"<category>news</category><category>tech</category>\n"                                     \
	"<enclosure url=\"http://example.org/a.mp3\" length=\"1\" type=\"audio/mpeg\"/></item>\n"  \
	"<item><description>no title here</description>"                                           \
	"<guid isPermaLink=\"false\">urn:two</guid></item>\n"                                      \
	"</channel></rss>\n"

/* RSS's listing, after its first line; LINK is the first item's link. */
#define RSS_ITEMS(LINK)                                                                            \
	"\n2026-10-01T10:00:00Z  First\n"                                                          \
	"    link: " LINK "\n"                                                                     \
	"    enclosure: http://example.org/a.mp3\n"                                                \
	"    id:   urn:one\n"                                                                      \
	"    tags: news, tech\n"                                                                   \
	"\n(no date)  (untitled)\n"                                                                \
	"    id:   urn:two\n"

/* Feed text full of controls: ESC, BEL, DEL and the C1 CSI (U+009B). */
#define NOISY                                                                                      \
	"{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"J\\u001b[31mred\","      \
	" \"items\": [{\"id\": \"x\\u001b]0;pwn\\u0007\", \"title\": "                             \
	"\"a\\u0007b\\u009bc\\u007fd\","                                                           \
	" \"url\": \"https://e.example/\\u001b[2J\", \"tags\": [\"t\\u001bag\"]}]}"

struct fixture {
	char dir[32];
	char path[64]; /* dir/NAME, from fx_file */
};

static void
fx_init(struct fixture *fx)
{
	strcpy(fx->dir, "/tmp/tparse.XXXXXX");
	tk_mkdtemp(fx->dir);
}

/* Write text to dir/name; fx->path names it. */
static const char *
fx_file(struct fixture *fx, const char *name, const char *text)
{
	snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, name);
	tk_write(fx->path, text);
	return fx->path;
}

/* `tidings [-c config] parse [--json] args...` (args NULL-terminated). */
static struct tk_result
parse(const char *config, int json, const char *const *args)
{
	struct cli c = {.config_path = config, .json = json, .argv = (char **)args};
	struct tk_result r;

	while (args[c.argc] != NULL)
		c.argc++;
	tk_run_cmd(cmd_parse, &c, &r);
	return r;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(lists_a_file)
{
	struct fixture fx;
	struct tk_result r;
	char want[1024];

	fx_init(&fx);
	fx_file(&fx, "feed.xml", RSS);
	r = parse(NULL, 0, ARGS(fx.path));
	ck_assert_int_eq(r.status, 0);
	/* a file has no base URL: the relative link stays as written */
	snprintf(want, sizeof want, "Local & Co (rss20, 2 items) from %s\n" RSS_ITEMS("%s"),
	         fx.path, "/posts/1");
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);

	r = parse(NULL, 1, ARGS(fx.path));
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(
	    r.out, "{\"file\": \"feed.xml\", \"error\": null, \"feed_title\": \"Local & Co\", "
	           "\"items\": [{\"id\": \"urn:one\", \"title\": \"First\", \"link\": "
	           "\"/posts/1\", \"published\": 1790848800, \"categories\": [\"news\", "
	           "\"tech\"], \"links\": [\"/posts/1\", \"http://example.org/a.mp3\"]}, "
	           "{\"id\": \"urn:two\", \"title\": \"\", \"link\": null, \"published\": "
	           "null, \"categories\": [], \"links\": []}]}\n");
	tk_result_free(&r);
	tk_rm_rf(fx.dir);
}
END_TEST

/* No control character reaches the terminal: not from the feed, not from an operand. */
START_TEST(controls_never_reach_the_terminal)
{
	struct fixture fx;
	struct tk_result r;
	char want[512];

	fx_init(&fx);
	fx_file(&fx, "noisy.json", NOISY);
	r = parse(NULL, 0, ARGS(fx.path));
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof want,
	         "J[31mred (json11, 1 item) from %s\n"
	         "\n(no date)  abcd\n"
	         "    link: https://e.example/[2J\n"
	         "    id:   x]0;pwn\n"
	         "    tags: tag\n",
	         fx.path);
	ck_assert_str_eq(r.out, want);
	tk_result_free(&r);

	/* --json escapes them instead, DEL and C1 included */
	r = parse(NULL, 1, ARGS(fx.path));
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out,
	                 "{\"file\": \"noisy.json\", \"error\": null, \"feed_title\": "
	                 "\"J\\u001b[31mred\", \"items\": [{\"id\": \"x\\u001b]0;pwn\\u0007\", "
	                 "\"title\": \"a\\u0007b\\u009bc\\u007fd\", \"link\": "
	                 "\"https://e.example/\\u001b[2J\", \"published\": null, \"categories\": "
	                 "[\"t\\u001bag\"], \"links\": [\"https://e.example/\\u001b[2J\"]}]}\n");
	tk_result_free(&r);

	snprintf(want, sizeof want, "%s/a\033[2Jb\007", fx.dir);
	r = parse(NULL, 0, ARGS(want));
	ck_assert_int_eq(r.status, EX_NOINPUT);
	snprintf(want, sizeof want, "tidings: %s/a[2Jb: No such file or directory\n", fx.dir);
	ck_assert_str_eq(r.err, want);
	tk_result_free(&r);
	tk_rm_rf(fx.dir);
}
END_TEST

/* The parser's warning: a line under the title, or on stderr with --json. */
START_TEST(warning_shown)
{
	struct fixture fx;
	struct tk_result r;
	char want[256];

	fx_init(&fx);
	fx_file(
	    &fx, "w.xml",
	    "<?xml version=\"1.0\" encoding=\"x-bogus\"?><rss version=\"2.0\">"
	    "<channel><title>W</title><item><title>t</title><guid isPermaLink=\"false\">g</guid>"
	    "</item></channel></rss>");
	r = parse(NULL, 0, ARGS(fx.path));
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof want,
	         "W (rss20, 1 item) from %s\n"
	         "  warning: unknown encoding \"x-bogus\" read as UTF-8\n"
	         "\n(no date)  t\n    id:   g\n",
	         fx.path);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);
	r = parse(NULL, 1, ARGS(fx.path));
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof want,
	         "tidings: %s: warning: unknown encoding \"x-bogus\" read as UTF-8\n", fx.path);
	ck_assert_str_eq(r.err, want);
	ck_assert_int_eq(tk_count(r.out, "\"feed_title\": \"W\""), 1);
	tk_result_free(&r);
	tk_rm_rf(fx.dir);
}
END_TEST

/* An operand that is no file may name a feed of -c's config; a file: feed is read. */
START_TEST(configured_feed_by_name)
{
	struct fixture fx;
	struct tk_result r;
	char conf[64], feed[64], text[512];

	fx_init(&fx);
	snprintf(feed, sizeof feed, "%s", fx_file(&fx, "feed.xml", RSS));
	snprintf(text, sizeof text,
	         "from = \"t@example.org\"\ndeliver = \"stdout\"\n"
	         "feed local {\n url = \"file://%s\"\n}\n",
	         feed);
	snprintf(conf, sizeof conf, "%s", fx_file(&fx, "t.conf", text));
	r = parse(conf, 0, ARGS("local"));
	ck_assert_int_eq(r.status, 0);
	snprintf(text, sizeof text, "Local & Co (rss20, 2 items) from %s\n", feed);
	ck_assert_msg(strncmp(r.out, text, strlen(text)) == 0, "%s", r.out);
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);

	/* a name the config does not have stays a missing file */
	r = parse(conf, 0, ARGS("nosuch"));
	ck_assert_int_eq(r.status, EX_NOINPUT);
	ck_assert_str_eq(r.err, "tidings: nosuch: No such file or directory\n");
	ck_assert_str_eq(r.out, "");
	tk_result_free(&r);

	/* -c given and broken: the config's error, 78 */
	fx_file(&fx, "t.conf", "from = \"t@example.org\"\nbogus = 1\n");
	r = parse(conf, 0, ARGS("local"));
	ck_assert_int_eq(r.status, EX_CONFIG);
	ck_assert_msg(strstr(r.err, conf) != NULL, "%s", r.err);
	ck_assert_str_eq(r.out, "");
	tk_result_free(&r);
	tk_rm_rf(fx.dir);
}
END_TEST

START_TEST(fetches_over_http)
{
	struct tk_server s;
	struct tk_result r;
	char path[128], url[128], base[64], want[1024];

	tk_server_start(&s, "httpd.py", "--root", (const char *const[]){"--stop-on-eof", NULL});
	snprintf(path, sizeof path, "%s/feed.xml", s.dir);
	tk_write(path, RSS);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", s.port);
	snprintf(url, sizeof url, "%s/feed.xml", base);
	r = parse(NULL, 0, ARGS(url));
	ck_assert_int_eq(r.status, 0);
	/* the URL is the base of the item's relative link */
	snprintf(path, sizeof path, "%s/posts/1", base);
	snprintf(want, sizeof want, "Local & Co (rss20, 2 items) from %s\n" RSS_ITEMS("%s"), url,
	         path);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);

	/* redirects are followed; --json names a URL whole */
	snprintf(url, sizeof url, "%s/_/redirect/301/feed.xml", base);
	r = parse(NULL, 1, ARGS(url));
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof want,
	         "{\"file\": \"%s\", \"error\": null, \"feed_title\": \"Local & Co\"", url);
	ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "%s", r.out);
	snprintf(want, sizeof want, "\"link\": \"%s/posts/1\"", base);
	ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
	tk_result_free(&r);
	tk_server_stop(&s);
}
END_TEST

/* What a server answers decides the exit status: 75 may pass, 66 will not, 65 is bad data. */
START_TEST(http_failures)
{
	static const struct {
		const char *target, *msg;
		int status;
	} cases[] = {
	    {"/missing.xml", "HTTP status 404", EX_NOINPUT},
	    {"/_/status/410", "HTTP status 410", EX_NOINPUT},
	    {"/_/status/503", "HTTP status 503", EX_TEMPFAIL},
	    {"/_/status/429", "HTTP status 429", EX_TEMPFAIL},
	    {"/page.html", "not a feed: an HTML page", EX_DATAERR},
	    {"/_/big?size=10500000", "larger than 10 MB", EX_DATAERR},
	    {"/_/redirect/302?to=file:///etc/passwd", "", EX_NOINPUT},
	};
	struct tk_server s;
	struct tk_result r;
	char path[128], url[160], want[256];

	tk_server_start(&s, "httpd.py", "--root", (const char *const[]){"--stop-on-eof", NULL});
	snprintf(path, sizeof path, "%s/page.html", s.dir);
	tk_write(path, "<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s.port, cases[i].target);
		r = parse(NULL, 0, ARGS(url));
		ck_assert_msg(r.status == cases[i].status, "%s: %d %s", url, r.status, r.err);
		snprintf(want, sizeof want, "tidings: %s: %s", url, cases[i].msg);
		ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
		ck_assert_int_eq(tk_count(r.err, "\n"), 1);
		ck_assert_str_eq(r.out, "");
		tk_result_free(&r);
	}
	/* A redirect to FTP (which libcurl would follow by default) is refused,
	 * not tried: an input that is not there (66), not a failed fetch (75). */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/_/redirect/302?to=ftp://127.0.0.1:%d/f.xml",
	         s.port, tk_closed_port());
	r = parse(NULL, 0, ARGS(url));
	ck_assert_msg(r.status == EX_NOINPUT, "%d %s", r.status, r.err);
	tk_result_free(&r);
	tk_server_stop(&s);
}
END_TEST

/*
 * Several operands: each listed (a blank line between), and the exit
 * status is the worst: a missing input (66) over a failed fetch (75)
 * over bad data (65).  A closed port on 127.0.0.1 is a failed fetch.
 */
START_TEST(worst_status_of_several)
{
	struct fixture fx;
	struct tk_result r;
	char good[64], bad[64], missing[64], closed[64], want[512];
	const char *json_start = "{\"file\": \"missing.xml\", \"error\": \"No such file or "
	                         "directory\", \"feed_title\": null, \"items\": []}\n"
	                         "{\"file\": \"good.xml\", \"error\": null, ";

	fx_init(&fx);
	snprintf(good, sizeof good, "%s", fx_file(&fx, "good.xml", RSS));
	snprintf(bad, sizeof bad, "%s", fx_file(&fx, "bad.txt", "plain text"));
	snprintf(missing, sizeof missing, "%s/missing.xml", fx.dir);
	snprintf(closed, sizeof closed, "http://127.0.0.1:%d/feed.xml", tk_closed_port());

	r = parse(NULL, 0, ARGS(closed));
	ck_assert_int_eq(r.status, EX_TEMPFAIL);
	snprintf(want, sizeof want, "tidings: %s: ", closed);
	ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
	ck_assert_int_eq(tk_count(r.err, "\n"), 1);
	tk_result_free(&r);

	r = parse(NULL, 0, ARGS(good, bad, good));
	ck_assert_int_eq(r.status, EX_DATAERR);
	/* both good ones listed whole, a blank line after the first */
	snprintf(want, sizeof want, "Local & Co (rss20, 2 items) from %s\n" RSS_ITEMS("%s"), good,
	         "/posts/1");
	ck_assert_int_eq(strncmp(r.out, want, strlen(want)), 0);
	ck_assert_int_eq(r.out[strlen(want)], '\n');
	ck_assert_str_eq(r.out + r.out_len - strlen(want), want);
	snprintf(want, sizeof want, "tidings: %s: not a feed: not XML\n", bad);
	ck_assert_str_eq(r.err, want);
	tk_result_free(&r);

	r = parse(NULL, 0, ARGS(bad, closed, good));
	ck_assert_int_eq(r.status, EX_TEMPFAIL);
	tk_result_free(&r);
	r = parse(NULL, 0, ARGS(missing, closed, bad));
	ck_assert_int_eq(r.status, EX_NOINPUT);
	ck_assert_int_eq(tk_count(r.err, "\n"), 3);
	tk_result_free(&r);

	/* --json: one object per operand, the error in it */
	r = parse(NULL, 1, ARGS(missing, good));
	ck_assert_int_eq(r.status, EX_NOINPUT);
	ck_assert_msg(strncmp(r.out, json_start, strlen(json_start)) == 0, "%s", r.out);
	tk_result_free(&r);

	r = parse(NULL, 0, (const char *const[]){NULL});
	ck_assert_int_eq(r.status, EX_USAGE);
	ck_assert_str_eq(r.err, "usage: tidings parse [--json] FILE|URL|FEED...\n");
	tk_result_free(&r);
	tk_rm_rf(fx.dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("parsecmd");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	/* A proxy from the environment must not see the loopback traffic. */
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	tcase_add_test(tc, lists_a_file);
	tcase_add_test(tc, controls_never_reach_the_terminal);
	tcase_add_test(tc, warning_shown);
	tcase_add_test(tc, configured_feed_by_name);
	tcase_add_test(tc, fetches_over_http);
	tcase_add_test(tc, http_failures);
	tcase_add_test(tc, worst_status_of_several);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
