/*
 * Unit tests for src/conftree.c: the parse of a small schema of its own,
 * its values, their lines, and libconfuse's rules the differential test
 * (test_confdiff) may not reach: include() ten deep, `+=`, a titled
 * section repeated, ${VAR} unset, bad integers and booleans, escapes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confkit.h"
#include "conftree.h"

struct tree {
	cfg_opt_t sec[5], top[6];
	struct confscan scan;
	struct conftree T;
	char *diag;
	size_t len;
	FILE *out;
	char path[PATH_MAX * 2];
	int rc;
};

static char *
resolve(const char *name, const char *base_file)
{
	(void)base_file;
	return str_printf("%s/%s", tc_dir, name);
}

/* Parse tc_dir/t.conf holding text with a schema of each kind of option. */
static void
parse(struct tree *t, const char *text)
{
	cfg_opt_t sec[] = {CFG_STR("url", NULL, CFGF_NONE), CFG_STR_LIST("tags", NULL, CFGF_NONE),
	                   CFG_INT("n", 7, CFGF_NONE), CFG_BOOL("on", cfg_true, CFGF_NONE),
	                   CFG_END()};
	cfg_opt_t top[] = {CFG_STR("name", "dflt", CFGF_NONE),
	                   CFG_INT("port", 25, CFGF_NONE),
	                   CFG_BOOL("verify", cfg_false, CFGF_NONE),
	                   CFG_FUNC("include", NULL),
	                   CFG_SEC("feed", t->sec, CFGF_MULTI | CFGF_TITLE),
	                   CFG_END()};
	struct conftree_load ld = {.scan = &t->scan, .schema = t->top, .resolve = resolve};

	memcpy(t->sec, sec, sizeof sec);
	memcpy(t->top, top, sizeof top);
	tc_put("t.conf", text, 0644);
	snprintf(t->path, sizeof t->path, "%s/t.conf", tc_dir);
	ld.path = t->path;
	t->out = open_memstream(&t->diag, &t->len);
	ck_assert_ptr_nonnull(t->out);
	confscan_init(&t->scan, t->path, t->top, t->out);
	t->rc = conftree_parse(&t->T, &ld);
	fflush(t->out);
}

static void
done(struct tree *t)
{
	conftree_free(&t->T);
	confscan_free(&t->scan);
	fclose(t->out);
	free(t->diag);
}

static int
line_of(const struct ct_sec *s, const char *opt, unsigned idx)
{
	const char *file;
	int line;

	ct_locate(s, opt, idx, &file, &line);
	return line;
}

START_TEST(values_defaults_and_lines)
{
	struct tree t;
	struct ct_sec *f;

	parse(&t,
	      "port = 0x1f\nverify = ON\n\nfeed a {\n url = \"u\"\n tags = {\"x\",\n \"y\"}\n}\n");
	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.diag, "");
	ck_assert_str_eq(ct_getstr(t.T.root, "name"), "dflt");
	ck_assert_int_eq(ct_getint(t.T.root, "port"), 31);
	ck_assert_int_eq(ct_getbool(t.T.root, "verify"), 1);
	ck_assert_int_eq(line_of(t.T.root, "verify", 0), 2);
	ck_assert(!ct_was_set(t.T.root, "name", 0));
	ck_assert_int_eq(line_of(t.T.root, "name", 0), 1); /* the root: line 1 */
	ck_assert_uint_eq(ct_size(t.T.root, "feed"), 1);
	f = ct_getnsec(t.T.root, "feed", 0);
	ck_assert_str_eq(ct_title(f), "a");
	ck_assert_int_eq(ct_getint(f, "n"), 7);
	ck_assert_int_eq(ct_getbool(f, "on"), 1);
	ck_assert_uint_eq(ct_size(f, "tags"), 2);
	ck_assert_str_eq(ct_getnstr(f, "tags", 1), "y");
	ck_assert_int_eq(line_of(f, "tags", 1), 7);
	ck_assert_int_eq(line_of(f, "n", 0), 4); /* a default: where its section starts */
	done(&t);
}
END_TEST

START_TEST(lists_append_and_reset)
{
	struct tree t;
	struct ct_sec *f;

	parse(&t, "feed a {\n tags += \"x\"\n tags += {\"y\", \"z\"}\n}\n"
	          "feed b {\n tags = {\"x\", \"y\"}\n tags = {\"w\"}\n}\n"
	          "feed c {\n tags = {\"x\"}\n tags = {}\n}\n");
	ck_assert_int_eq(t.rc, 0);
	f = ct_getnsec(t.T.root, "feed", 0);
	ck_assert_uint_eq(ct_size(f, "tags"), 3);
	ck_assert_str_eq(ct_getnstr(f, "tags", 2), "z");
	f = ct_getnsec(t.T.root, "feed", 1);
	ck_assert_uint_eq(ct_size(f, "tags"), 1);
	ck_assert_str_eq(ct_getnstr(f, "tags", 0), "w");
	ck_assert_int_eq(line_of(f, "tags", 0), 7);
	f = ct_getnsec(t.T.root, "feed", 2);
	ck_assert_uint_eq(ct_size(f, "tags"), 0);
	done(&t);
	parse(&t, "name += \"x\"\n");
	ck_assert_int_eq(t.rc, 1);
	ck_assert(tc_has_line(t.diag, "t.conf", 1, "attempt to append to non-list option 'name'"));
	done(&t);
}
END_TEST

START_TEST(titled_section_repeated_replaces_in_place)
{
	struct tree t;
	struct ct_sec *f;

	parse(&t, "feed a { url = \"1\" n = 3 }\nfeed b { url = \"2\" }\nfeed a { url = \"3\" }\n");
	ck_assert_int_eq(t.rc, 0);
	ck_assert(
	    tc_has_line(t.diag, "t.conf", 3, "duplicate feed name 'a' (the first is at line 1)"));
	ck_assert_uint_eq(ct_size(t.T.root, "feed"), 2);
	f = ct_getnsec(t.T.root, "feed", 0);
	ck_assert_str_eq(ct_title(f), "a");
	ck_assert_str_eq(ct_getstr(f, "url"), "3");
	ck_assert_int_eq(ct_getint(f, "n"), 7); /* the first's values are gone */
	ck_assert_int_eq(line_of(f, "url", 0), 3);
	ck_assert_int_eq(line_of(f, NULL, 0), 1); /* the section: its first block */
	done(&t);
}
END_TEST

START_TEST(unset_variable_and_escapes)
{
	struct tree t;

	unsetenv("TIDINGS_TEST_UNSET");
	parse(&t, "name = \"<${TIDINGS_TEST_UNSET}>\"\nfeed a { url = "
	          "\"\\t\\x41\\101\\\"\\\\\\q\" tags = {'it\\'s \\n'} }\n");
	ck_assert_int_eq(t.rc, 0);
	ck_assert(tc_has_line(t.diag, "t.conf", 1, "${TIDINGS_TEST_UNSET} is not set"));
	ck_assert_str_eq(ct_getstr(t.T.root, "name"), "<>");
	ck_assert_str_eq(ct_getstr(ct_getsec(t.T.root, "feed"), "url"), "\tAA\"\\q");
	ck_assert_str_eq(ct_getnstr(ct_getsec(t.T.root, "feed"), "tags", 0), "it's \\n");
	done(&t);
}
END_TEST

START_TEST(bad_integer_and_boolean_stop_the_parse)
{
	static const struct {
		const char *text, *msg;
		int line;
	} bad[] = {
	    {"\nport = \"25x\"\n", "invalid integer value for option 'port'", 2},
	    {"port = 99999999999999999999\n", "integer value for option 'port' is out of range", 1},
	    {"\n\nverify = maybe\n", "invalid boolean value for option 'verify'", 3},
	    {"feed {\n}\n", "missing title for section 'feed'", 1},
	    {"feed a b\n", "missing opening brace for section 'feed'", 1},
	    {"}\n", "unexpected closing brace", 1},
	    {"name\n= {\n", "unexpected token '{'", 2},
	    {"name \"x\"\n", "missing equal sign after option 'name'", 1},
	    {"feed a {\n n =\n", "premature end of file", 3},
	    /* libconfuse did not count the lines inside ${...}: it said line 2 */
	    {"name = ${TIDINGS_TEST_UNSET:-\n}\nport = x\n", "invalid integer value", 3},
	    /* escapes libconfuse's lexer refuses: the value must not quietly change */
	    {"name = \"s3\\9cret\"\n", "bad escape sequence '\\9'", 1},
	    {"port = 1\nname = \"a\\19\"\n", "bad escape sequence '\\19'", 2},
	    {"name = \"a\\0123\"\n", "bad escape sequence '\\0123'", 1},
	    {"name = \"x\n\\400y\"\n", "invalid octal number '\\400'", 2},
	    {"feed \"[\\08]\" {\n}\n", "bad escape sequence '\\08'", 1},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tree t;

		parse(&t, bad[i].text);
		ck_assert_int_eq(t.rc, 1);
		ck_assert_msg(tc_has_line(t.diag, "t.conf", bad[i].line, bad[i].msg), "%s: %s",
		              bad[i].text, t.diag);
		done(&t);
	}
}
END_TEST

/* An option path with a title left open, in a token bigger than a chunk:
 * nothing is read past its end (ASan). */
START_TEST(open_title_in_a_path_reads_no_further)
{
	static const char head[] = "feed a { url = \"x\" }\n\"feed='";
	size_t n = 70000, h = sizeof head - 1;
	char *text = malloc(h + n + 16);
	struct tree t;

	ck_assert_ptr_nonnull(text);
	memcpy(text, head, h);
	memset(text + h, 'a', n);
	strcpy(text + h + n, "\" = \"x\"\n");
	parse(&t, text);
	ck_assert_int_eq(t.rc, 1);
	ck_assert(tc_has_line(t.diag, "t.conf", 2, "no sub-section"));
	done(&t);
	free(text);
}
END_TEST

START_TEST(include_nests_ten_deep)
{
	struct tree t;
	char name[32], text[64];

	/* t.conf includes i1, i1 includes i2 ... i10 sets the name. */
	for (int i = 1; i <= 11; i++) {
		snprintf(name, sizeof name, "i%d.conf", i);
		snprintf(text, sizeof text, "\ninclude(\"i%d.conf\")\n", i + 1);
		tc_put(name, i == 10 ? "name = \"deep\"\n" : text, 0644);
	}
	parse(&t, "include(\"i1.conf\")\n");
	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(ct_getstr(t.T.root, "name"), "deep");
	done(&t);
	tc_put("i10.conf", "include(\"i11.conf\")\n", 0644);
	tc_put("i11.conf", "name = \"deeper\"\n", 0644);
	parse(&t, "include(\"i1.conf\")\n");
	ck_assert_int_eq(t.rc, 1);
	ck_assert(tc_has_line(t.diag, "i10.conf", 1, "includes nested too deeply"));
	done(&t);
	parse(&t, "include(\"t.conf\")\n");
	ck_assert(tc_has_line(t.diag, "t.conf", 1, "is already read (an include loop)"));
	done(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conftree");
	TCase *tc = tcase_create("conftree");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, tc_setup, tc_teardown);
	tcase_add_test(tc, values_defaults_and_lines);
	tcase_add_test(tc, lists_append_and_reset);
	tcase_add_test(tc, titled_section_repeated_replaces_in_place);
	tcase_add_test(tc, unset_variable_and_escapes);
	tcase_add_test(tc, bad_integer_and_boolean_stop_the_parse);
	tcase_add_test(tc, open_title_in_a_path_reads_no_further);
	tcase_add_test(tc, include_nests_ten_deep);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
