/* confedit: appending and cutting feed sections, every other byte kept. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "confedit.h"

static char *
removed(const char *text, const char *name, int *rc)
{
	struct buf out = BUF_INIT;
	struct err e = {0};

	*rc = confedit_remove(text, strlen(text), name, &out, &e);
	return *rc < 0 ? (buf_free(&out), NULL) : buf_steal(&out);
}

static char *
added(const char *text, const struct feed_spec *spec)
{
	struct buf out = BUF_INIT;
	struct err e = {0};

	ck_assert_int_eq(confedit_add(text, strlen(text), spec, &out, &e), 0);
	return buf_steal(&out);
}

START_TEST(add_appends_and_keeps_the_rest)
{
	const char *text = "from = \"a@example.org\"  # mine\nfeed x { url = \"http://x/\" }";
	struct feed_spec spec = {"hn", "https://news.example/rss", "Hacker \"News\"", " a, b ,,c"};
	char *s = added(text, &spec);

	ck_assert(strncmp(s, text, strlen(text)) == 0);
	ck_assert_str_eq(s + strlen(text), "\n\nfeed hn {\n"
	                                   "\turl   = \"https://news.example/rss\"\n"
	                                   "\ttitle = \"Hacker \\\"News\\\"\"\n"
	                                   "\ttags  = {\"a\", \"b\", \"c\"}\n"
	                                   "}\n");
	free(s);
	/* A name that is no plain word is quoted; $ is escaped (libconfuse expands ${X}). */
	spec = (struct feed_spec){"my feed", "http://x/${HOME}", NULL, NULL};
	s = added("", &spec);
	ck_assert_str_eq(s, "feed \"my feed\" {\n\turl   = \"http://x/\\${HOME}\"\n}\n");
	free(s);
}
END_TEST

START_TEST(remove_cuts_just_the_section)
{
	const char *text = "# feeds\n"
	                   "feed a {\n  url = \"http://a/\"  # not feed b {\n}\n"
	                   "feed b {\n  url = \"http://b/}\"\n  tags = {\"x\", 'y}'}\n"
	                   "  /* } */\n}\n"
	                   "subscription s { feeds = {\"a\"} }\n";
	int rc;
	char *s = removed(text, "b", &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(s, "# feeds\n"
	                    "feed a {\n  url = \"http://a/\"  # not feed b {\n}\n"
	                    "subscription s { feeds = {\"a\"} }\n");
	free(s);
	/* A quoted title; a section sharing its line keeps the line's other text. */
	s = removed("feed \"my feed\" { url = \"u\" } # end\nfeed c {}\n", "my feed", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(s, " # end\nfeed c {}\n");
	free(s);
	/* add, then remove: the file as it was. */
	{
		const char *orig = "x = 1\n\nfeed a { url = \"u\" }\n";
		struct feed_spec spec = {"hn", "http://x/", "T", "a"};
		char *with = added(orig, &spec);

		s = removed(with, "hn", &rc);
		ck_assert_str_eq(s, orig);
		free(s);
		free(with);
	}
	/* The last line without a newline. */
	s = removed("x = 1\nfeed c { url = \"u\" }", "c", &rc);
	ck_assert_str_eq(s, "x = 1\n");
	free(s);
}
END_TEST

START_TEST(remove_finds_only_top_level_feeds)
{
	int rc;

	/* "feed b" inside a comment, a string or another section is not the section. */
	ck_assert_ptr_null(removed("# feed b { }\nx = \"feed b {}\"\n", "b", &rc));
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_null(removed("feed bb { url = \"u\" }\n", "b", &rc));
	ck_assert_ptr_null(removed("feed b { url = \"u\"\n", "b", &rc));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("confedit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, add_appends_and_keeps_the_rest);
	tcase_add_test(tc, remove_cuts_just_the_section);
	tcase_add_test(tc, remove_finds_only_top_level_feeds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
