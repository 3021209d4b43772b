/* Unit tests for src/confscan.c: the second reading of a config file.
 * Through config_load: the line numbers libconfuse loses or miscounts,
 * hostile files, escaped titles.  Directly: unknown options, duplicate
 * sections, the line map, where values were set, masked passwords. */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "confkit.h"
#include "confscan.h"

static int
count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Hundreds of feeds (the look-ups are hashed, the line numbers searched):
 * every message still names its line, past comments that libconfuse
 * miscounts. */
START_TEST(many_feeds_keep_their_lines)
{
	struct config cfg;
	struct err e = {0};
	struct buf b = BUF_INIT;
	char *diag = NULL;

	buf_adds(&b, HEAD);
	for (int i = 0; i < 300; i++) /* feed i: lines 4 + 5i (comment) to 8 + 5i */
		buf_printf(
		    &b, "# c\nfeed f%d {\n url = \"http://a.example/%d\"\n interval = \"%s\"\n}\n",
		    i, i, i == 150 ? "1y" : "1h");
	buf_adds(&b,
	         "feed f7 { url = \"http://b.example/\" }\n"
	         "subscription s {\n to = {\"a@b.example\"}\n feeds = {\"f299\", \"f2999\"}\n}\n");
	ck_assert_int_eq(tc_load(buf_str(&b), &cfg, &diag, &e), -1);
	ck_assert_msg(tc_has_line(diag, "t.conf", 757, "interval = \"1y\": not a duration"), "%s",
	              diag);
	ck_assert_msg(
	    tc_has_line(diag, "t.conf", 1504, "duplicate feed name 'f7' (the first is at line 40)"),
	    "%s", diag);
	ck_assert_msg(tc_has_line(diag, "t.conf", 1507,
	                          "subscription 's': no feed named 'f2999' (did you mean 'f299'?)"),
	              "%s", diag);
	free(diag);
	buf_free(&b);
}
END_TEST

START_TEST(unreadable_or_huge)
{
	struct config cfg;
	struct err e = {0};
	struct buf b = BUF_INIT;
	char *diag = NULL;

	ck_assert_int_eq(config_load(tc_dir, &cfg, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_CONFIG);
	ck_assert_ptr_nonnull(strstr(e.msg, ": Is a directory"));
	buf_adds(&b, HEAD);
	while (b.len <= 1024 * 1024)
		buf_adds(&b, "# padding padding padding padding padding padding\n");
	ck_assert_int_eq(tc_load(buf_str(&b), &cfg, &diag, &e), -1);
	ck_assert_msg(
	    tc_has_line(diag, "t.conf", 1, "larger than 1048576 bytes: not a configuration file"),
	    "%s", diag);
	free(diag);
	buf_free(&b);
}
END_TEST

/*
 * Hostile files: /dev/zero is refused after its first megabyte (it was
 * read forever), NUL bytes stop the load at once (libconfuse took
 * quadratic time on them), and what is echoed is escaped.
 */
START_TEST(hostile_files)
{
	struct config cfg;
	struct err e = {0};
	char path[PATH_MAX * 2], *diag = NULL;
	size_t len;
	FILE *fp, *d;

	d = open_memstream(&diag, &len);
	ck_assert_int_eq(config_load("/dev/zero", &cfg, d, &e), -1);
	fclose(d);
	ck_assert_int_eq(e.code, EX_CONFIG);
	ck_assert_str_eq(diag,
	                 "/dev/zero:1: larger than 1048576 bytes: not a configuration file\n");
	free(diag);

	snprintf(path, sizeof path, "%s/t.conf", tc_dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(HEAD "\n\n", fp);
	for (int i = 0; i < 40000; i++)
		fputc('\0', fp);
	ck_assert_int_eq(fclose(fp), 0);
	d = open_memstream(&diag, &len);
	ck_assert_int_eq(config_load(path, &cfg, d, &e), -1);
	fclose(d);
	ck_assert_int_eq(count_lines(diag), 1);
	ck_assert_msg(tc_has_line(diag, "t.conf", count_lines(HEAD) + 3,
	                          "a NUL byte: not a configuration file"),
	              "%s", diag);
	free(diag);

	ck_assert_int_eq(tc_load(HEAD "fr\xffom\x1b[31m\xc2\x9b = 1\n", &cfg, &diag, &e), -1);
	ck_assert_msg(strstr(diag, "'fr\\xFFom\\x1B[31m\\xC2\\x9B'") != NULL, "%s", diag);
	ck_assert_ptr_null(strchr(diag, 0x1b));
	ck_assert_ptr_null(strchr(diag, 0xff));
	free(diag);
}
END_TEST

/* A title with escapes is found where it is (it was reported at line 1). */
START_TEST(escaped_titles_keep_their_line)
{
	static const char *const conf[] = {
	    HEAD "\nsubscription \"a\\nb\" {\n to = {\"x@example.org\"}\n}\n",
	    HEAD "\nsubscription \"a\\x41\\102\" {\n}\n",
	    HEAD "\nsubscription 'a\\nb' {\n}\n",
	};
	static const char *const want[] = {
	    "subscription: the name must not be empty nor hold control characters",
	    "subscription 'aAB' has no recipients",
	    "subscription 'a\\nb' has no recipients",
	};
	struct config cfg;
	struct err e = {0};
	char *diag = NULL;

	ck_assert_int_eq(tc_load(conf[_i], &cfg, &diag, &e), -1);
	ck_assert_msg(tc_has_line(diag, "t.conf", count_lines(HEAD) + 2, want[_i]), "%s", diag);
	free(diag);
}
END_TEST

/* A scan of its own: dir/NAME holding text, against a small schema. */
struct own {
	cfg_opt_t sec[3], top[4];
	struct confscan S;
	char *diag, path[PATH_MAX * 2];
	size_t len;
	FILE *out;
};

static int
scan(struct own *o, const char *name, const char *text)
{
	*o = (struct own){
	    .sec = {CFG_STR("url", NULL, CFGF_NONE), CFG_STR_LIST("tags", NULL, CFGF_NONE),
	            CFG_END()},
	    .top = {CFG_STR("password", NULL, CFGF_NONE),
	            CFG_SEC("feed", o->sec, CFGF_MULTI | CFGF_TITLE),
	            CFG_SEC("smtp", o->sec, CFGF_NONE), CFG_END()},
	};
	tc_put(name, text, 0644);
	snprintf(o->path, sizeof o->path, "%s/%s", tc_dir, name);
	o->out = open_memstream(&o->diag, &o->len);
	ck_assert_ptr_nonnull(o->out);
	confscan_init(&o->S, o->path, o->top, o->out);
	return confscan_file(&o->S, o->path);
}

static void
own_free(struct own *o)
{
	confscan_free(&o->S);
	fclose(o->out);
	free(o->diag);
}

/* Every unknown option is named with its line (libconfuse names only the first). */
START_TEST(unknown_options_each_named)
{
	struct own o;

	ck_assert_int_eq(scan(&o, "u.conf",
	                      "paswsord = \"x\"\nfeed a {\n urll = \"u\"\n tags = {}\n"
	                      " colour = 1\n}\n"),
	                 0);
	fflush(o.out);
	ck_assert_int_eq(o.S.nerr, 3);
	ck_assert_msg(tc_has_line(o.diag, "u.conf", 1,
	                          "no such option 'paswsord' (did you mean 'password'?)"),
	              "%s", o.diag);
	ck_assert_msg(
	    tc_has_line(o.diag, "u.conf", 3, "no such option 'urll' (did you mean 'url'?)"), "%s",
	    o.diag);
	ck_assert_msg(tc_has_line(o.diag, "u.conf", 5, "no such option 'colour'"), "%s", o.diag);
	ck_assert_ptr_null(strstr(o.diag, "colour' (did"));
	ck_assert(confscan_unknown_named(&o.S, o.path, 3));
	ck_assert(!confscan_unknown_named(&o.S, o.path, 4));
	ck_assert(confscan_has_read(&o.S, o.path));
	ck_assert(!confscan_has_read(&o.S, "/nonexistent"));
	own_free(&o);
}
END_TEST

/* Sections: where each starts, a second one of a title or of smtp {} said. */
START_TEST(sections_and_duplicates)
{
	struct own o;
	const char *file;
	int line;

	ck_assert_int_eq(scan(&o, "d.conf",
	                      "feed a { url = \"u\" }\n\nfeed \"b c\" {\n}\n"
	                      "smtp {}\nfeed a {}\nsmtp {\n}\n"),
	                 0);
	fflush(o.out);
	ck_assert_int_eq(o.S.dupes, 2);
	ck_assert_int_eq(o.S.nerr, 2);
	ck_assert_msg(
	    tc_has_line(o.diag, "d.conf", 6, "duplicate feed name 'a' (the first is at line 1)"),
	    "%s", o.diag);
	ck_assert_msg(
	    tc_has_line(o.diag, "d.conf", 7, "a second smtp {} block (the first is at line 5)"),
	    "%s", o.diag);
	confscan_locate(&o.S, "feed", "b c", NULL, 0, &file, &line);
	ck_assert_str_eq(file, o.path);
	ck_assert_int_eq(line, 3);
	confscan_locate(&o.S, "feed", "b c", "url", 0, &file, &line); /* unset: its section */
	ck_assert_int_eq(line, 3);
	confscan_locate(&o.S, "feed", "nope", NULL, 0, &file, &line); /* unknown: line 1 */
	ck_assert_int_eq(line, 1);
	own_free(&o);
}
END_TEST

/* Values: where they were set, by section, title, option and index. */
START_TEST(where_values_were_set)
{
	struct own o;
	const char *file;
	int line;

	ck_assert_int_eq(scan(&o, "w.conf", "feed a {\n tags = {\"x\",\n \"y\"}\n}\n"), 0);
	ck_assert(!confscan_was_set(&o.S, "feed", "a", "tags", 1));
	confscan_where_set(&o.S, "feed", "a", "tags", 1, "other.conf", 3);
	confscan_where_set(&o.S, "root", NULL, "password", 0, o.path, 9);
	ck_assert(confscan_was_set(&o.S, "feed", "a", "tags", 1));
	ck_assert(!confscan_was_set(&o.S, "feed", "a", "tags", 0));
	confscan_locate(&o.S, "feed", "a", "tags", 1, &file, &line);
	ck_assert_str_eq(file, "other.conf");
	ck_assert_int_eq(line, 3);
	confscan_locate(&o.S, "feed", "a", "tags", 0, &file, &line);
	ck_assert_int_eq(line, 1);
	confscan_where_set(&o.S, "feed", "a", "tags", 1, o.path, 2); /* set again: the last wins */
	confscan_locate(&o.S, "feed", "a", "tags", 1, &file, &line);
	ck_assert_str_eq(file, o.path);
	ck_assert_int_eq(line, 2);
	confscan_locate(&o.S, "root", NULL, "password", 0, &file, &line);
	ck_assert_int_eq(line, 9);
	own_free(&o);
}
END_TEST

/* libconfuse 3.3 counts a # or // comment as two lines, a block comment as one. */
START_TEST(line_map_undoes_miscounts)
{
	struct own o;

	ck_assert_int_eq(scan(&o, "l.conf", "# a\n// b\n/* c\n d */\nfeed a {\n}\n"), 0);
	/* Real line 5 is libconfuse's 5 + 2 + 2 + 1 = 10. */
	ck_assert_int_eq(confscan_real_line(&o.S, o.path, 10), 5);
	ck_assert_int_eq(confscan_real_line(&o.S, o.path, 11), 6);
	ck_assert_int_eq(confscan_real_line(&o.S, o.path, 1), 1);
	ck_assert_int_eq(confscan_real_line(&o.S, "/not/scanned", 10), 10);
	own_free(&o);
}
END_TEST

/* A password the scanner saw is masked in every message; control characters escaped. */
START_TEST(messages_mask_passwords)
{
	struct own o;

	ck_assert_int_eq(scan(&o, "p.conf", "password = \"hunter2\"\n"), 0);
	confscan_say(&o.S, NULL, 4, 0, "bad: %s and \x1b[1m", "hunter2");
	confscan_say(&o.S, "x.conf", 2, 1, "just a warning");
	fflush(o.out);
	ck_assert_int_eq(o.S.nerr, 1);
	ck_assert_msg(tc_has_line(o.diag, "p.conf", 4, "bad: *** and \\x1B[1m"), "%s", o.diag);
	ck_assert_ptr_nonnull(strstr(o.diag, "x.conf:2: warning: just a warning\n"));
	ck_assert_ptr_null(strstr(o.diag, "hunter2"));
	own_free(&o);
}
END_TEST

/* An unset ${VAR} is said (libconfuse makes it ""); ${VAR:-default} is not. */
START_TEST(unset_variables_said)
{
	struct own o;

	unsetenv("TIDINGS_TEST_UNSET");
	ck_assert_int_eq(scan(&o, "v.conf",
	                      "feed a {\n url = \"${TIDINGS_TEST_UNSET:-x}\"\n"
	                      " tags = {\"${TIDINGS_TEST_UNSET}\"}\n}\n"),
	                 0);
	fflush(o.out);
	ck_assert_int_eq(o.S.nerr, 1);
	ck_assert_msg(tc_has_line(o.diag, "v.conf", 3, "${TIDINGS_TEST_UNSET} is not set"), "%s",
	              o.diag);
	own_free(&o);
}
END_TEST

START_TEST(did_you_mean)
{
	static const char *const names[] = {"subscription", "feed", "state-retention"};
	char hint[CONFSCAN_HINT_MAX];

	ck_assert_str_eq(confscan_did_you_mean(hint, "fede", names, 3), " (did you mean 'feed'?)");
	ck_assert_str_eq(confscan_did_you_mean(hint, "subscriptoin", names, 3),
	                 " (did you mean 'subscription'?)");
	ck_assert_str_eq(confscan_did_you_mean(hint, "colour", names, 3), "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("confscan");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, tc_setup, tc_teardown);
	tcase_add_test(tc, many_feeds_keep_their_lines);
	tcase_add_test(tc, unreadable_or_huge);
	tcase_add_test(tc, hostile_files);
	tcase_add_loop_test(tc, escaped_titles_keep_their_line, 0, 3);
	tcase_add_test(tc, unknown_options_each_named);
	tcase_add_test(tc, sections_and_duplicates);
	tcase_add_test(tc, where_values_were_set);
	tcase_add_test(tc, line_map_undoes_miscounts);
	tcase_add_test(tc, messages_mask_passwords);
	tcase_add_test(tc, unset_variables_said);
	tcase_add_test(tc, did_you_mean);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
