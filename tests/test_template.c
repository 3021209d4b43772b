/* Unit tests for src/template.c: the Mustache spec, errors, the shipped templates */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "template.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

/* The core spec modules; every case must pass.  Optional ~modules are skipped. */
static const char *const spec_files[] = {
    "interpolation", "sections", "inverted", "comments", "partials", "delimiters",
};
#define SPEC_CASES 136 /* 42 + 34 + 22 + 12 + 12 + 14 in the bundled spec */

static char *
path_of(const char *rel)
{
	const char *top = getenv("TOP_SRCDIR");

	return str_printf("%s/%s", top != NULL && *top ? top : TOP_SRCDIR, rel);
}

static char *
slurp(const char *rel)
{
	char *path = path_of(rel);
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ck_assert_int_eq(buf_add(&b, chunk, n), 0);
	fclose(f);
	free(path);
	return buf_steal(&b);
}

static char *
map_partial(const char *name, void *arg)
{
	const char *s = tv_text(tv_get(arg, name));

	return s != NULL ? str_dup(s) : NULL;
}

/* Run one spec case; 0 if rendered == expected, else print why. */
static int
run_case(const char *file, const struct tval *tc)
{
	const char *name = tv_text(tv_get(tc, "name"));
	const char *src = tv_text(tv_get(tc, "template"));
	const char *want = tv_text(tv_get(tc, "expected"));
	struct tval *partials = tv_get(tc, "partials");
	struct tpl *t;
	struct buf out = BUF_INIT;
	struct err e = {0};
	int ok;

	ck_assert(name != NULL && src != NULL && want != NULL);
	if (tpl_compile(src, name, map_partial, partials, &t, &e) < 0) {
		printf("FAIL %s: %s: compile: %s\n", file, name, e.msg);
		return -1;
	}
	/* Twice: a compiled template renders many times with the same result. */
	for (int round = 0; round < 2; round++) {
		buf_reset(&out);
		ok = tpl_render(t, tv_get(tc, "data"), ESCAPE_HTML, &out, &e) == 0 &&
		     strcmp(buf_str(&out), want) == 0;
		if (!ok) {
			printf("FAIL %s: %s (round %d)\n  want [%s]\n  got  [%s] %s\n", file, name,
			       round, want, buf_str(&out), e.msg);
			break;
		}
	}
	buf_free(&out);
	tpl_free(t);
	return ok ? 0 : -1;
}

START_TEST(mustache_spec)
{
	char err[256], rel[128];
	int passed = 0, failed = 0;

	for (size_t f = 0; f < sizeof spec_files / sizeof spec_files[0]; f++) {
		struct tval *spec, *tests;
		char *path;

		snprintf(rel, sizeof rel, "tests/data/mustache-spec/%s.json", spec_files[f]);
		path = path_of(rel);
		spec = json_load_file(path, err, sizeof err);
		ck_assert_msg(spec != NULL, "%s: %s", path, err);
		free(path);
		tests = tv_get(spec, "tests");
		ck_assert_int_eq(tv_kind(tests), TV_LIST);
		for (size_t i = 0; i < tv_len(tests); i++) {
			if (run_case(spec_files[f], tv_at(tests, i)) == 0)
				passed++;
			else
				failed++;
		}
		tv_free(spec);
	}
	printf("mustache spec: %d cases passed, %d failed "
	       "(optional ~dynamic-names and ~inheritance skipped, not counted)\n",
	       passed, failed);
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(passed, SPEC_CASES);
}
END_TEST

static void
expect_error(const char *src, const char *msg)
{
	struct tpl *t = NULL;
	struct err e = {0};

	ck_assert_msg(tpl_compile(src, "digest.html", NULL, NULL, &t, &e) == -1, "%s", src);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(e.msg, msg);
}

START_TEST(errors_name_positions)
{
	expect_error("a\n  {{#feeds}}\nx\n", "digest.html:2:3: unclosed section 'feeds'");
	expect_error("{{#a}}{{#b}}{{/b}}", "digest.html:1:1: unclosed section 'a'");
	expect_error("x\n\n   {{/items}}", "digest.html:3:4: unexpected closing tag 'items'");
	expect_error("{{#a}}\n{{/b}}",
	             "digest.html:2:1: unexpected closing tag 'b' (open section is 'a')");
	expect_error("ok\n{{=<%>=}}", "digest.html:2:1: bad delimiter '<%>'");
	expect_error("{{= <% =}}", "digest.html:1:1: bad delimiter '<%'");
	expect_error("ab {{x", "digest.html:1:4: unclosed tag");
	expect_error("ab {{{x}}", "digest.html:1:4: unclosed tag");
	/* Columns count characters, not bytes. */
	expect_error("\xc3\xa9t\xc3\xa9 {{/x}}", "digest.html:1:5: unexpected closing tag 'x'");
	expect_error("{{}}", "digest.html:1:1: empty tag");
}
END_TEST

START_TEST(nesting_is_bounded)
{
	struct buf src = BUF_INIT, out = BUF_INIT;
	struct tpl *t;
	struct err e = {0};

	for (int i = 0; i < 5000; i++)
		buf_adds(&src, "{{#a}}");
	ck_assert_int_eq(tpl_compile(buf_str(&src), "deep", NULL, NULL, &t, &e), -1);
	ck_assert(strstr(e.msg, "nested too deeply") != NULL);
	buf_free(&src);

	/* A partial that includes itself forever is an error, not a crash. */
	ck_assert_int_eq(tpl_compile("{{>self}}", "loop", map_partial, NULL, &t, &e), 0);
	{
		struct tval *parts = tv_map();

		tv_set_str(parts, "self", "x{{>self}}");
		tpl_free(t);
		ck_assert_int_eq(tpl_compile("{{>self}}", "loop", map_partial, parts, &t, &e), 0);
		ck_assert_int_eq(tpl_render(t, NULL, ESCAPE_NONE, &out, &e), -1);
		ck_assert(strstr(e.msg, "nested too deeply") != NULL);

		tv_free(parts);
	}
	/* Nested loops multiply: the work limits stop them quickly. */
	{
		struct tval *d = tv_map(), *l = tv_list();

		for (int i = 0; i < 10; i++)
			tv_push(l, tv_int(i));
		tv_set(d, "l", l);
		tpl_free(t);
		ck_assert_int_eq(tpl_compile("{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{.}}"
		                             "{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}",
		                             "loop", NULL, NULL, &t, &e),
		                 0);
		tpl_set_limits(t, 1 << 20, 100000);
		ck_assert_int_eq(tpl_render(t, d, ESCAPE_NONE, &out, &e), -1);
		ck_assert_str_eq(e.msg, "loop: rendering takes too much time");
		tpl_free(t);
		ck_assert_int_eq(tpl_compile("{{#l}}{{#l}}{{#l}}0123456789{{/l}}{{/l}}{{/l}}",
		                             "loop", NULL, NULL, &t, &e),
		                 0);
		tpl_set_limits(t, 1000, 100000);
		buf_reset(&out);
		ck_assert_int_eq(tpl_render(t, d, ESCAPE_NONE, &out, &e), -1);
		ck_assert_str_eq(e.msg, "loop: rendering takes too much space");
		tpl_set_limits(t, 20000, 100000);
		buf_reset(&out);
		ck_assert_int_eq(tpl_render(t, d, ESCAPE_NONE, &out, &e), 0);
		ck_assert_uint_eq(out.len, 10000);
		tv_free(d);
	}
	tpl_free(t);
	buf_free(&out);
}
END_TEST

START_TEST(values_and_modes)
{
	struct tval *d = tv_map(), *l = tv_list();
	struct buf out = BUF_INIT;
	struct err e = {0};

	ck_assert_int_eq(tv_set_str(d, "s", "<b>'q'</b> & \"x\""), 0);
	ck_assert_int_eq(tv_set_int(d, "zero", 0), 0);
	ck_assert_int_eq(tv_set_int(d, "n", -42), 0);
	ck_assert_int_eq(tv_set_str(d, "empty", ""), 0);
	ck_assert_int_eq(tv_set_str(d, "nil", NULL), 0);
	ck_assert_int_eq(tv_set(d, "num", tv_num("1.50")), 0);
	ck_assert_int_eq(tv_push(l, tv_str("a")), 0);
	ck_assert_int_eq(tv_push(l, tv_int(2)), 0);
	ck_assert_int_eq(tv_set(d, "l", l), 0);
	ck_assert_int_eq(tv_set_bool(d, "t", 1), 0);
	ck_assert_int_eq(tv_set_str(d, "s2", "replaced"), 0);
	ck_assert_int_eq(tv_set_str(d, "s2", "again"), 0);
	ck_assert_uint_eq(tv_len(d), 9);
	ck_assert_int_eq(tv_set(d, "nil2", tv_str(NULL)), 0);
	ck_assert_int_eq(tv_kind(tv_get(d, "nil2")), TV_NULL);
	ck_assert_str_eq(tv_text(tv_get(d, "s2")), "again");
	/* Failing container operations still take ownership (no leak under ASan). */
	ck_assert_int_eq(tv_push(d, tv_str("not a list")), -1);
	ck_assert_int_eq(tv_set(l, "k", tv_str("not a map")), -1);

	ck_assert_int_eq(tpl_render_string("{{s}}|{{{s}}}|{{&s}}", "t", d, ESCAPE_HTML, &out, &e),
	                 0);
	ck_assert_str_eq(buf_str(&out), "&lt;b&gt;&#39;q&#39;&lt;/b&gt; &amp; &quot;x&quot;|"
	                                "<b>'q'</b> & \"x\"|<b>'q'</b> & \"x\"");
	buf_reset(&out);
	ck_assert_int_eq(tpl_render_string("{{s}}", "t", d, ESCAPE_NONE, &out, &e), 0);
	ck_assert_str_eq(buf_str(&out), "<b>'q'</b> & \"x\"");
	buf_reset(&out);
	ck_assert_int_eq(tpl_render_string("{{#zero}}z{{/zero}}{{^zero}}Z{{/zero}}"
	                                   "{{#empty}}e{{/empty}}{{^empty}}E{{/empty}}"
	                                   "{{#nil}}n{{/nil}}{{#missing}}m{{/missing}}"
	                                   "{{#n}}{{.}}{{/n}} {{num}} {{t}} "
	                                   "{{#l}}<{{.}}>{{/l}} {{#s2}}{{.}}{{/s2}}",
	                                   "t", d, ESCAPE_NONE, &out, &e),
	                 0);
	ck_assert_str_eq(buf_str(&out), "ZE-42 1.50 true <a><2> again");
	buf_free(&out);
	tv_free(d);
}
END_TEST

/* What {{x}} writes of x. */
static const char *
rendered(const struct tval *d, const char *src, struct buf *out)
{
	struct err e = {0};

	buf_reset(out);
	ck_assert_msg(tpl_render_string(src, "t", d, ESCAPE_NONE, out, &e) == 0, "%s", e.msg);
	return buf_str(out);
}

START_TEST(integers_written_whole)
{
	struct tval *d = tv_map();
	struct buf out = BUF_INIT;

	ck_assert_int_eq(tv_set_int(d, "min", LLONG_MIN), 0);
	ck_assert_int_eq(tv_set_int(d, "max", LLONG_MAX), 0);
	ck_assert_int_eq(tv_set_int(d, "zero", 0), 0);
	ck_assert_int_eq(tv_set_int(d, "neg", -7), 0);
	ck_assert_int_eq(tv_set_int(d, "ten", 10), 0);
	ck_assert_str_eq(rendered(d, "{{min}} {{max}} {{zero}} {{neg}} {{ten}}", &out),
	                 "-9223372036854775808 9223372036854775807 0 -7 10");
	buf_free(&out);
	tv_free(d);
}
END_TEST

/* Setting a key again changes its value in place, whatever kind it held. */
START_TEST(values_set_in_place)
{
	struct tval *d = tv_map(), *v, *list;
	struct buf out = BUF_INIT;
	char mine[] = "borrowed";
	FILE *fp = tmpfile();

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs("0123456789", fp) >= 0 && fflush(fp) == 0, 1);
	ck_assert_int_eq(tv_set_str(d, "x", "short"), 0);
	v = tv_get(d, "x");
	ck_assert_int_eq(tv_set_int(d, "x", 12), 0);
	ck_assert_str_eq(rendered(d, "{{x}}", &out), "12");
	ck_assert_int_eq(tv_set_strn(d, "x", "a longer string than before", 6), 0);
	ck_assert_str_eq(tv_text(tv_get(d, "x")), "a long");
	ck_assert_int_eq(tv_set_bool(d, "x", 0), 0);
	ck_assert_str_eq(rendered(d, "{{#x}}yes{{/x}}{{^x}}no{{/x}}", &out), "no");
	ck_assert_int_eq(tv_set_file(d, "x", fileno(fp), 2, 5), 0);
	ck_assert_ptr_null(tv_text(tv_get(d, "x")));
	ck_assert_str_eq(rendered(d, "[{{x}}]", &out), "[23456]");
	ck_assert_int_eq(tv_set_str(d, "x", NULL), 0);
	ck_assert_int_eq(tv_kind(tv_get(d, "x")), TV_NULL);
	ck_assert_ptr_eq(tv_get(d, "x"), v); /* the same value all along */
	/* A borrowed string is left to its owner; a list gives way to a scalar. */
	ck_assert_int_eq(tv_set(d, "b", tv_str_borrowed(mine, strlen(mine))), 0);
	ck_assert_int_eq(tv_set_str(d, "b", "own"), 0);
	ck_assert_str_eq(mine, "borrowed");
	ck_assert_int_eq(tv_set(d, "l", tv_list()), 0);
	ck_assert_int_eq(tv_set_int(d, "l", 3), 0);
	ck_assert_str_eq(rendered(d, "{{b}} {{l}}", &out), "own 3");
	/* A scalar gives way to a list. */
	ck_assert_ptr_nonnull(list = tv_set_list(d, "b"));
	ck_assert_int_eq(tv_kind(tv_get(d, "b")), TV_LIST);
	ck_assert_ptr_null(tv_set_list(list, "not a map"));
	ck_assert_int_eq(tv_set_int(list, "k", 1), -1);
	buf_free(&out);
	tv_free(d);
	fclose(fp);
}
END_TEST

/* A list refilled keeps its maps and hands them out again; the rest stay out of sight. */
START_TEST(lists_refilled)
{
	struct tval *d = tv_map(), *list, *m, *first;
	struct buf out = BUF_INIT;

	ck_assert_ptr_nonnull(list = tv_set_list(d, "l"));
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(m = tv_push_map(list));
		ck_assert_int_eq(tv_set_int(m, "n", i + 1), 0);
		ck_assert_int_eq(tv_set_str(m, "s", "abc"), 0);
	}
	first = tv_at(list, 0);
	ck_assert_str_eq(rendered(d, "{{#l}}{{n}}{{s}} {{/l}}", &out), "1abc 2abc 3abc ");
	ck_assert_ptr_eq(tv_set_list(d, "l"), list);
	ck_assert_uint_eq(tv_len(list), 0);
	ck_assert_str_eq(rendered(d, "{{#l}}x{{/l}}{{^l}}empty{{/l}}", &out), "empty");
	ck_assert_ptr_eq(m = tv_push_map(list), first);
	ck_assert_int_eq(tv_set_int(m, "n", 9), 0);
	ck_assert_int_eq(tv_set_str(m, "s", "z"), 0);
	ck_assert_uint_eq(tv_len(list), 1);
	ck_assert_str_eq(rendered(d, "{{#l}}{{n}}{{s}} {{/l}}", &out), "9z ");
	/* A push puts its value in place of a kept map (freed: no leak under ASan). */
	ck_assert_int_eq(tv_push(list, tv_str("pushed")), 0);
	ck_assert_ptr_nonnull(m = tv_push_map(list));
	ck_assert_int_eq(tv_set_int(m, "n", 5), 0);
	ck_assert_int_eq(tv_set_str(m, "s", "y"), 0);
	ck_assert_str_eq(rendered(d, "{{#l}}{{n}}{{s}}{{.}} {{/l}}", &out), "9z pushed 5y ");
	tv_set_list(d, "l");
	tv_free(d); /* the kept maps with it */
	buf_free(&out);
}
END_TEST

/* The data the run module builds for the shipped digest templates. */
static struct tval *
digest_data(void)
{
	struct tval *d = tv_map(), *feeds = tv_list(), *f = tv_map(), *items = tv_list();
	struct tval *it = tv_map(), *links = tv_list(), *ln = tv_map(), *more = tv_list();
	struct tval *m = tv_map(), *probs = tv_list(), *pr = tv_map();

	tv_set_str(d, "subscription", "john");
	tv_set_str(d, "headline", "3 new: John's <Tidbits> \xe2\x80\x94 Hello, +2");
	tv_set_str(d, "date", "Tue, 04 Nov 2008 10:30:00 +0000");
	tv_set_int(d, "count", 3);
	tv_set_bool(d, "plural", 1);
	tv_set_str(d, "owner", "Tidings <tidings@example.org>");
	tv_set_str(d, "unsubscribe", "mailto:owner@example.org");
	tv_set_str(f, "title", "John's <Tidbits>");
	tv_set_str(f, "link", "http://inodes.org/");
	tv_set_int(f, "count", 2);
	tv_set_str(it, "title", "Hello <script>alert(1)</script>");
	tv_set_str(it, "title_text", "Hello <script>alert(1)</script>");
	tv_set_bool(it, "has_text", 1);
	tv_set_bool(it, "has_links", 1);
	tv_set_str(it, "link", "http://inodes.org/2008/11/hello");
	tv_set_str(it, "date", "2008-11-04 10:12");
	tv_set_str(it, "author", "John Ferlito");
	tv_set_str(it, "tags", "linux, networking");
	tv_set_str(it, "meta", "2008-11-04 10:12 | John Ferlito | linux, networking");
	tv_set_str(it, "meta_dot",
	           "2008-11-04 10:12 \xc2\xb7 John Ferlito \xc2\xb7 linux, networking");
	tv_set_str(it, "html", "<p>Body <b>bold</b> <a href=\"http://x.org/\">x</a></p>");
	tv_set_str(it, "text", "Body bold x [1]");
	tv_set_int(ln, "n", 1);
	tv_set_str(ln, "url", "http://x.org/");
	tv_push(links, ln);
	tv_set(it, "links", links);
	tv_push(items, it);
	tv_set(f, "items", items);
	tv_set_str(m, "title", "An older post");
	tv_set_str(m, "link", "http://inodes.org/2008/10/older");
	tv_set_str(m, "date", "2008-10-01 08:00");
	tv_push(more, m);
	tv_set(f, "more", more);
	tv_set_bool(f, "has_more", 1);
	tv_push(feeds, f);
	tv_set(d, "feeds", feeds);
	tv_set_str(pr, "feed", "broken");
	tv_set_str(pr, "error", "HTTP 404");
	tv_set_str(pr, "since", "2008-11-01 00:00");
	tv_push(probs, pr);
	tv_set(d, "problems", probs);
	tv_set_bool(d, "has_problems", 1);
	return d;
}

static char *
render_shipped(const char *file, const struct tval *d, enum escape_mode mode)
{
	char *src = slurp(file);
	struct tpl *t;
	struct buf out = BUF_INIT;
	struct err e = {0};

	ck_assert_msg(tpl_compile(src, file, NULL, NULL, &t, &e) == 0, "%s", e.msg);
	ck_assert_msg(tpl_render(t, d, mode, &out, &e) == 0, "%s", e.msg);
	tpl_free(t);
	free(src);
	return buf_steal(&out);
}

static void
has(const char *text, const char *needle)
{
	ck_assert_msg(strstr(text, needle) != NULL, "missing [%s] in:\n%s", needle, text);
}

START_TEST(shipped_text_template)
{
	struct tval *d = digest_data();
	char *s = render_shipped("templates/digest.txt", d, ESCAPE_NONE);
	const char *line;
	const char *head = "3 new: John's <Tidbits> \xe2\x80\x94 Hello, +2\njohn: 3 new items, Tue";

	ck_assert_msg(strncmp(s, head, strlen(head)) == 0, "%s", s);
	has(s, "\n2008-11-04 10:12 | John Ferlito | linux, networking\n");
	has(s, "Tue, 04 Nov 2008 10:30:00 +0000");
	has(s, "John's <Tidbits>");
	has(s, "http://inodes.org/\n");
	has(s, "Hello <script>alert(1)</script>");
	has(s, "2008-11-04 10:12");
	has(s, "John Ferlito");
	has(s, "linux, networking");
	has(s, "Body bold x [1]");
	has(s, "[1] http://x.org/");
	has(s, "Also new:");
	has(s, "An older post");
	has(s, "http://inodes.org/2008/10/older");
	has(s, "broken");
	has(s, "HTTP 404");
	has(s, "You receive this because you are subscribed as 'john'\n"
	       "at Tidings <tidings@example.org>.");
	ck_assert(strstr(s, "<p>") == NULL);
	ck_assert(strstr(s, "**") == NULL && strstr(s, "##") == NULL);
	/* No line longer than 78 columns from the template itself. */
	for (line = s; *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		ck_assert_msg(n <= 78, "long line: %.*s", (int)n, line);
		line += n + (nl != NULL);
	}
	if (getenv("SHOW_DIGEST") != NULL)
		fputs(s, stdout);
	free(s);
	tv_free(d);
}
END_TEST

START_TEST(shipped_html_template)
{
	struct tval *d = digest_data();
	char *s = render_shipped("templates/digest.html", d, ESCAPE_HTML);

	ck_assert_msg(strncmp(s, "<!DOCTYPE html>\n", 16) == 0, "%s", s);
	has(s, "max-width:640px");
	has(s, "Hello &lt;script&gt;alert(1)&lt;/script&gt;");
	ck_assert(strstr(s, "<script>") == NULL);
	has(s, "John&#39;s &lt;Tidbits&gt;");
	has(s, ">3 new: John&#39;s &lt;Tidbits&gt; \xe2\x80\x94 Hello, +2</h1>");
	has(s, ">2008-11-04 10:12 \xc2\xb7 John Ferlito \xc2\xb7 linux, networking</p>");
	has(s, "<p>Body <b>bold</b> <a href=\"http://x.org/\">x</a></p>");
	has(s, "href=\"http://inodes.org/2008/11/hello\"");
	has(s, "An older post");
	has(s, "HTTP 404");
	has(s, "subscribed as 'john' at Tidings &lt;tidings@example.org&gt;");
	ck_assert(strstr(s, "<style") == NULL);
	ck_assert(strstr(s, "{{") == NULL);
	if (getenv("SHOW_DIGEST") != NULL)
		fputs(s, stdout);
	free(s);

	/* Optional parts disappear when absent. */
	tv_set_bool(d, "has_problems", 0);
	tv_set(d, "problems", tv_list());
	tv_set(d, "unsubscribe", tv_null());
	s = render_shipped("templates/digest.html", d, ESCAPE_HTML);
	ck_assert(strstr(s, "HTTP 404") == NULL);
	ck_assert(strstr(s, "Unsubscribe") == NULL);
	ck_assert(strstr(s, "without a date") == NULL);
	free(s);
	s = render_shipped("templates/digest.txt", d, ESCAPE_NONE);
	ck_assert(strstr(s, "HTTP 404") == NULL);
	ck_assert(strstr(s, "unsubscribe") == NULL);
	ck_assert(strstr(s, "Everything since") == NULL);
	free(s);

	/* A --since digest says so, and counts the undated items left out. */
	tv_set_str(d, "since", "2008-10-01");
	tv_set_int(d, "undated", 2);
	tv_set_bool(d, "undated_plural", 1);
	s = render_shipped("templates/digest.txt", d, ESCAPE_NONE);
	has(s, "Everything since 2008-10-01.");
	has(s, "2 items without a date were left out.");
	free(s);
	s = render_shipped("templates/digest.html", d, ESCAPE_HTML);
	has(s, "everything since 2008-10-01");
	has(s, "2 items without a date were left out.");
	free(s);
	/* One is one item, not "1 items". */
	tv_set_int(d, "undated", 1);
	tv_set_bool(d, "undated_plural", 0);
	s = render_shipped("templates/digest.txt", d, ESCAPE_NONE);
	has(s, "1 item without a date was left out.");
	free(s);
	s = render_shipped("templates/digest.html", d, ESCAPE_HTML);
	has(s, "1 item without a date was left out.");
	free(s);
	tv_free(d);
}
END_TEST

START_TEST(json_reader)
{
	char err[128];
	const char *src = "{\"a\": [1, 1.210, -2e3, \"\\u00e9\\ud83d\\ude00\\n\", true, "
	                  "null, {}]}";
	struct tval *v = json_parse(src, strlen(src), err, sizeof err);

	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_int_eq(tv_kind(tv_at(tv_get(v, "a"), 0)), TV_INT);
	ck_assert_str_eq(tv_text(tv_at(tv_get(v, "a"), 1)), "1.21");
	ck_assert_int_eq(tv_kind(tv_at(tv_get(v, "a"), 2)), TV_INT);
	ck_assert_str_eq(tv_text(tv_at(tv_get(v, "a"), 3)), "\xc3\xa9\xf0\x9f\x98\x80\n");
	ck_assert_int_eq(tv_kind(tv_at(tv_get(v, "a"), 5)), TV_NULL);
	ck_assert_int_eq(tv_kind(tv_at(tv_get(v, "a"), 6)), TV_MAP);
	tv_free(v);
	ck_assert_ptr_null(json_parse("[1,", 3, err, sizeof err));
	ck_assert_ptr_null(json_parse("{\"a\" 1}", 7, err, sizeof err));
}
END_TEST

/* Element i of a lazy list: a map {i, sq}; counts how many are alive at once. */
struct lazy_probe {
	int alive, most_alive, made, fail_at;
};

static void
probe_done(void *arg)
{
	((struct lazy_probe *)arg)->fail_at = -2; /* marks that free_arg ran */
}

static struct tval *
make_square(void *arg, size_t i, struct tval *reuse, struct err *e)
{
	struct lazy_probe *p = arg;
	struct tval *m;

	tv_free(reuse);
	if ((int)i == p->fail_at) {
		err_set(e, 65, "element %zu cannot be made", i);
		return NULL;
	}
	m = tv_map();
	ck_assert_int_eq(tv_set_int(m, "i", (long long)i), 0);
	ck_assert_int_eq(tv_set_int(m, "sq", (long long)(i * i)), 0);
	p->made++;
	return m;
}

START_TEST(lazy_lists)
{
	struct lazy_probe p = {0, 0, 0, -1};
	struct tval *d = tv_map();
	struct buf out = BUF_INIT;
	struct err e = {0};

	ck_assert_int_eq(tv_set(d, "l", tv_lazy_list(4, make_square, &p, probe_done)), 0);
	ck_assert_int_eq(tv_set(d, "none", tv_lazy_list(0, make_square, &p, NULL)), 0);
	ck_assert_uint_eq(tv_len(tv_get(d, "l")), 4);
	ck_assert_ptr_null(tv_at(tv_get(d, "l"), 0));
	ck_assert_int_eq(tv_push(tv_get(d, "l"), tv_int(1)), -1);
	ck_assert_int_eq(tpl_render_string("{{#l}}{{i}}:{{sq}} {{/l}}{{^none}}empty{{/none}}"
	                                   "{{#none}}x{{/none}}",
	                                   "t", d, ESCAPE_NONE, &out, &e),
	                 0);
	ck_assert_str_eq(buf_str(&out), "0:0 1:1 2:4 3:9 empty");
	ck_assert_int_eq(p.made, 4);
	/* A second pass makes them again: nothing is kept between passes. */
	buf_reset(&out);
	ck_assert_int_eq(tpl_render_string("{{#l}}{{sq}}{{/l}}", "t", d, ESCAPE_NONE, &out, &e), 0);
	ck_assert_str_eq(buf_str(&out), "0149");
	ck_assert_int_eq(p.made, 8);
	/* An element that cannot be made fails the render with its reason. */
	p.fail_at = 2;
	buf_reset(&out);
	ck_assert_int_eq(tpl_render_string("{{#l}}{{i}}{{/l}}", "t", d, ESCAPE_NONE, &out, &e), -1);
	ck_assert_str_eq(e.msg, "element 2 cannot be made");
	tv_free(d);
	ck_assert_int_eq(p.fail_at, -2);
	buf_free(&out);
}
END_TEST

/* Element i of a lazy list as make_square makes it, in the element handed back when there is one.
 */
static struct tval *
refill_square(void *arg, size_t i, struct tval *reuse, struct err *e)
{
	struct lazy_probe *p = arg;
	struct tval *m = reuse;

	if ((int)i == p->fail_at) {
		tv_free(reuse);
		err_set(e, 65, "element %zu cannot be made", i);
		return NULL;
	}
	if (m == NULL) {
		m = tv_map();
		p->made++;
	} else {
		p->alive++; /* here: how many were made anew */
	}
	ck_assert_int_eq(tv_set_int(m, "i", (long long)i), 0);
	ck_assert_int_eq(tv_set_int(m, "sq", (long long)(i * i)), 0);
	return m;
}

START_TEST(lazy_lists_reuse_their_elements)
{
	struct lazy_probe p = {0, 0, 0, -1};
	struct tval *d = tv_map();
	struct buf out = BUF_INIT;
	struct err e = {0};

	ck_assert_int_eq(tv_set(d, "l", tv_lazy_list(4, refill_square, &p, NULL)), 0);
	ck_assert_str_eq(rendered(d, "{{#l}}{{i}}:{{sq}} {{/l}}", &out), "0:0 1:1 2:4 3:9 ");
	ck_assert_int_eq(p.made, 1);
	ck_assert_int_eq(p.alive, 3);
	/* Walked inside itself: the outer element, in use, is never made anew under it. */
	p.made = p.alive = 0;
	ck_assert_str_eq(rendered(d, "{{#l}}{{i}}[{{#l}}{{i}}{{/l}}]{{sq}} {{/l}}", &out),
	                 "0[0123]0 1[0123]1 2[0123]4 3[0123]9 ");
	ck_assert_int_eq(p.made, 4); /* each inner walk starts with no spare */
	/* Failing with an element in hand frees it (no leak under ASan). */
	p.fail_at = 2;
	ck_assert_int_eq(tpl_render_string("{{#l}}{{i}}{{/l}}", "t", d, ESCAPE_NONE, &out, &e), -1);
	ck_assert_str_eq(e.msg, "element 2 cannot be made");
	tv_free(d);
	buf_free(&out);
}
END_TEST

/* Lists sharing a spare: one element made for all, never one in use. */
START_TEST(lazy_lists_share_a_spare)
{
	struct lazy_probe p = {0, 0, 0, -1};
	struct tval *d = tv_map(), *spare = NULL;
	struct buf out = BUF_INIT;

	ck_assert_int_eq(tv_set(d, "a", tv_lazy_list_shared(2, refill_square, &p, NULL, &spare)),
	                 0);
	ck_assert_int_eq(tv_set(d, "b", tv_lazy_list_shared(3, refill_square, &p, NULL, &spare)),
	                 0);
	ck_assert_str_eq(rendered(d, "{{#a}}{{i}}{{/a}} {{#b}}{{sq}}{{/b}}", &out), "01 014");
	ck_assert_int_eq(p.made, 1);
	ck_assert_ptr_nonnull(spare);
	/* b inside a: a's element in use is not b's to refill. */
	ck_assert_str_eq(rendered(d, "{{#a}}{{i}}[{{#b}}{{i}}{{/b}}]{{sq}} {{/a}}", &out),
	                 "0[012]0 1[012]1 ");
	ck_assert_int_eq(p.made, 3);
	tv_free(d);
	ck_assert_ptr_nonnull(spare); /* it outlives the lists */
	tv_free(spare);
	buf_free(&out);
}
END_TEST

/* A temporary file holding s; its descriptor stays open. */
static FILE *
file_with(const char *s, size_t n)
{
	FILE *fp = tmpfile();

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(s, 1, n, fp), n);
	ck_assert_int_eq(fflush(fp), 0);
	return fp;
}

static char *
file_text(FILE *fp, size_t *n)
{
	long len;
	char *s;

	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	s = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)len, fp), (size_t)len);
	s[len] = '\0';
	*n = (size_t)len;
	return s;
}

START_TEST(file_strings_and_file_output)
{
	/* Several read chunks long, with characters to escape across chunk edges. */
	size_t big = (200 << 10) + 7, n1, n2, written;
	struct lazy_probe probe = {0, 0, 0, -1}; /* outlives every render below */
	char *text = malloc(big);
	FILE *src, *dst = tmpfile();
	struct tval *d = tv_map();
	struct buf mem = BUF_INIT;
	struct err e = {0};
	char *got;

	for (size_t i = 0; i < big; i++)
		text[i] = "ab<&\n\"c'"[i % 8];
	src = file_with(text, big);
	ck_assert_int_eq(tv_set(d, "big", tv_str_file(fileno(src), 5, big - 5)), 0);
	ck_assert_int_eq(tv_set(d, "bigs", tv_strn(text + 5, big - 5)), 0);
	ck_assert_int_eq(tv_set(d, "nothing", tv_str_file(fileno(src), 0, 0)), 0);
	ck_assert_int_eq(tv_set(d, "l", tv_lazy_list(3, make_square, &probe, NULL)), 0);

	/* In a buffer, a file-kept string renders as its in-memory twin would. */
	ck_assert_int_eq(tpl_render_string("{{big}}|{{{big}}}{{#nothing}}X{{/nothing}}", "t", d,
	                                   ESCAPE_HTML, &mem, &e),
	                 0);
	got = strdup(buf_str(&mem));
	buf_reset(&mem);
	ck_assert_int_eq(tpl_render_string("{{bigs}}|{{{bigs}}}", "t", d, ESCAPE_HTML, &mem, &e),
	                 0);
	ck_assert_uint_eq(strlen(got), mem.len);
	ck_assert(strcmp(got, buf_str(&mem)) == 0);
	free(got);

	/* To a file: the same bytes, and the count of them. */
	{
		struct tpl *t;
		const char *src_tpl = "head {{#l}}[{{sq}}]{{/l}} {{big}}|{{{big}}} tail\n";

		ck_assert_int_eq(tpl_compile(src_tpl, "t", NULL, NULL, &t, &e), 0);
		ck_assert_int_eq(tpl_render_file(t, d, ESCAPE_HTML, dst, &written, &e), 0);
		buf_reset(&mem);
		ck_assert_int_eq(tpl_render(t, d, ESCAPE_HTML, &mem, &e), 0);
		got = file_text(dst, &n1);
		ck_assert_uint_eq(n1, written);
		ck_assert_uint_eq(n1, mem.len);
		ck_assert(memcmp(got, mem.data, n1) == 0);
		free(got);
		/* The size bound counts what was already written out. */
		tpl_set_limits(t, 100 << 10, 1000);
		ck_assert_int_eq(tpl_render_file(t, d, ESCAPE_NONE, dst, &n2, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, "too much space"));
		tpl_free(t);
	}
	tv_free(d);
	buf_free(&mem);
	free(text);
	fclose(src);
	fclose(dst);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, mustache_spec);
	tcase_add_test(tc, errors_name_positions);
	tcase_add_test(tc, nesting_is_bounded);
	tcase_add_test(tc, values_and_modes);
	tcase_add_test(tc, integers_written_whole);
	tcase_add_test(tc, values_set_in_place);
	tcase_add_test(tc, lists_refilled);
	tcase_add_test(tc, shipped_text_template);
	tcase_add_test(tc, shipped_html_template);
	tcase_add_test(tc, json_reader);
	tcase_add_test(tc, lazy_lists);
	tcase_add_test(tc, lazy_lists_reuse_their_elements);
	tcase_add_test(tc, lazy_lists_share_a_spare);
	tcase_add_test(tc, file_strings_and_file_output);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
