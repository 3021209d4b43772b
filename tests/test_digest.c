/*
 * Unit tests for src/digest.c: the data the shipped templates get, from
 * items built here (no fetch, no state): the headline and default subject,
 * meta lines, which base relative links resolve against, the -v line
 * for a cut item, and items made in the values of the item before.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "html.h"
#include "wrap.h"
#include "spool.h"

#define MAX_ITEMS 16

struct fixture {
	struct config cfg;
	struct sub_conf sub;
	struct feed_conf fc[3];
	struct feed feed[3];
	struct source src[3];
	struct item items[3][MAX_ITEMS];
	struct pick pick[3 * MAX_ITEMS];
	struct picks picks;
};

static void
fixture_init(struct fixture *f, const char *sub_name)
{
	static char *names[] = {"tidbits", "lwn", "inodes"};
	static char *urls[] = {"http://example.org/tidbits.xml", "http://example.org/lwn.xml",
	                       "http://example.org/inodes.xml"};

	memset(f, 0, sizeof *f);
	f->cfg.from = "Tidings <tidings@example.org>";
	f->cfg.templates_dir = TOP_SRCDIR "/templates";
	f->cfg.fetch.report_after = 3;
	f->cfg.subs = &f->sub;
	f->cfg.nsubs = 1;
	f->sub.name = (char *)sub_name;
	f->sub.subject = "[{{subscription}}] {{headline}}";
	f->sub.template = "digest";
	f->sub.full_items_per_feed = 10;
	for (int i = 0; i < 3; i++) {
		f->fc[i].name = names[i];
		f->fc[i].url = urls[i];
		f->src[i].conf = &f->fc[i];
		f->src[i].feed = &f->feed[i];
	}
	f->cfg.feeds = f->fc;
	f->cfg.nfeeds = 3;
	f->picks.v = f->pick;
}

/* An item of feed k, shown in the digest. */
static struct item *
add_item(struct fixture *f, int k, const char *title, const char *content)
{
	struct item *it = &f->items[k][f->feed[k].nitems++];
	struct pick *p = &f->pick[f->picks.n++];

	it->id = str_printf("%s-%zu", f->fc[k].name, f->feed[k].nitems);
	it->title = (char *)title;
	it->link = str_printf("http://example.org/%s/%zu.html", f->fc[k].name, f->feed[k].nitems);
	it->content = (char *)content;
	it->published = 1229508000 + (time_t)f->picks.n * 60;
	it->has_date = 1;
	*p = (struct pick){it, (size_t)k, PICK_SHOW, NULL};
	f->picks.nshow++;
	return it;
}

static void
fixture_free(struct fixture *f)
{
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < f->feed[k].nitems; i++) {
			free(f->items[k][i].id);
			free(f->items[k][i].link);
		}
}

struct rendered {
	char *subject, *text, *html;
};

static char *
slurp(FILE *fp, size_t len)
{
	char *s = malloc(len + 1);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, len, fp), len);
	s[len] = '\0';
	return s;
}

/* One digest of f's picks with templates t and spool c. */
static struct rendered
render_with(struct fixture *f, struct digest_templates *t, struct spool *c)
{
	struct digest_output out;
	struct err e = {0};
	struct digest_input in = {
	    .cfg = &f->cfg,
	    .sub = &f->sub,
	    .src = f->src,
	    .nsrc = 3,
	    .picks = &f->picks,
	    .spool = c,
	    .now = 1229600000,
	};
	struct rendered r;

	ck_assert_msg(digest_render(&in, t, &out, &e) == 0, "%s", e.msg);
	r.subject = buf_steal(&out.subject);
	r.text = slurp(out.text, out.text_len);
	r.html = slurp(out.html, out.html_len);
	digest_output_free(&out);
	return r;
}

static struct rendered
render(struct fixture *f, FILE *log)
{
	struct digest_templates *t = NULL;
	struct spool *c = NULL;
	struct err e = {0};
	struct rendered r;

	ck_assert_msg(digest_templates_load(&f->cfg, &t, &e) == 0, "%s", e.msg);
	ck_assert_msg(spool_new(&c, log, &e) == 0, "%s", e.msg);
	r = render_with(f, t, c);
	spool_free(c);
	digest_templates_free(t);
	return r;
}

static void
rendered_free(struct rendered *r)
{
	free(r->subject);
	free(r->text);
	free(r->html);
}

static void
has(const char *s, const char *needle)
{
	ck_assert_msg(strstr(s, needle) != NULL, "missing [%s] in [%s]", needle, s);
}

START_TEST(one_item_subject_is_its_title)
{
	struct fixture f;
	struct rendered r;

	fixture_init(&f, "sysadmin");
	f.feed[0].title = "John's Tidbits";
	add_item(&f, 0, "Melbourne Cup Dip2", "<p>x</p>");
	r = render(&f, NULL);
	ck_assert_str_eq(r.subject, "[sysadmin] Melbourne Cup Dip2");
	ck_assert_msg(strncmp(r.text, "Melbourne Cup Dip2\nsysadmin: 1 new item, ", 41) == 0, "%s",
	              r.text);
	has(r.html, ">Melbourne Cup Dip2</h1>");
	rendered_free(&r);
	fixture_free(&f);
}
END_TEST

START_TEST(one_feed_subject_names_feed_and_first_title)
{
	struct fixture f;
	struct rendered r;
	char title[9][32];

	fixture_init(&f, "sysadmin");
	f.feed[0].title = "John's Tidbits";
	for (int i = 0; i < 9; i++) {
		snprintf(title[i], sizeof title[i], "Melbourne Cup Dip%d", i + 2);
		add_item(&f, 0, title[i], "<p>x</p>");
	}
	r = render(&f, NULL);
	ck_assert_str_eq(r.subject,
	                 "[sysadmin] 9 new: John's Tidbits \xe2\x80\x94 Melbourne Cup Dip2, +8");
	rendered_free(&r);
	fixture_free(&f);
}
END_TEST

/* Several feeds: each with its count, as many as fit 78 columns (CJK counts two). */
START_TEST(several_feeds_fit_78_columns)
{
	struct fixture f;
	struct rendered r;

	fixture_init(&f, "all");
	f.feed[0].title =
	    "\xe6\x9d\xb1\xe4\xba\xac\xe6\x96\xb0\xe8\x81\x9e\xe3\x83\x8b\xe3\x83\xa5"
	    "\xe3\x83\xbc\xe3\x82\xb9\xe9\x80\x9f\xe5\xa0\xb1"; /* 東京新聞ニュース速報 */
	f.feed[1].title = "LWN.net";
	f.feed[2].title = "inodes, yet another long name for a feed";
	add_item(&f, 0, "a", "<p>x</p>");
	add_item(&f, 0, "b", "<p>x</p>");
	add_item(&f, 1, "c", "<p>x</p>");
	add_item(&f, 2, "d", "<p>x</p>");
	r = render(&f, NULL);
	ck_assert_str_eq(r.subject, "[all] 4 new: \xe6\x9d\xb1\xe4\xba\xac\xe6\x96\xb0\xe8\x81\x9e"
	                            "\xe3\x83\x8b\xe3\x83\xa5\xe3\x83\xbc\xe3\x82\xb9\xe9\x80\x9f"
	                            "\xe5\xa0\xb1 (2), LWN.net (1), +1 more feeds");
	ck_assert_uint_le(text_columns(r.subject, strlen(r.subject)), 78);
	rendered_free(&r);
	fixture_free(&f);
}
END_TEST

/* Date, author and tags with separators only between those present. */
START_TEST(meta_line_has_no_bare_separator)
{
	struct fixture f;
	struct rendered r;
	struct item *it;
	char *tags[] = {"linux", "net"};

	fixture_init(&f, "s");
	it = add_item(&f, 0, "Undated", "<p>x</p>");
	it->has_date = 0;
	it->author = "Jane Roe";
	it->tags = tags;
	it->ntags = 2;
	it = add_item(&f, 0, "Bare", "<p>y</p>");
	it->has_date = 0;
	r = render(&f, NULL);
	has(r.text, "\nUndated\nJane Roe | linux, net\nhttp://example.org/tidbits/1.html\n");
	has(r.text, "\nBare\nhttp://example.org/tidbits/2.html\n");
	has(r.html, ">Jane Roe \xc2\xb7 linux, net</p>");
	ck_assert_ptr_null(strstr(r.text, "\n | "));
	rendered_free(&r);
	fixture_free(&f);
}
END_TEST

/* "#frag" and relative links resolve on the item's page; an xml:base wins. */
START_TEST(relative_links_resolve_against_the_item)
{
	struct fixture f;
	struct rendered r;
	struct item *it;

	fixture_init(&f, "s");
	it = add_item(&f, 0, "Own page",
	              "<p><a href=\"#part-2\">part 2</a> <a href=\"x.png\">x</a></p>");
	it->base = f.fc[0].url; /* what the parser gives without an xml:base */
	it = add_item(&f, 0, "With base", "<p><a href=\"#top\">top</a></p>");
	it->base = "http://base.example/dir/page.html";
	r = render(&f, NULL);
	has(r.html, "href=\"http://example.org/tidbits/1.html#part-2\"");
	has(r.html, "href=\"http://example.org/tidbits/x.png\"");
	has(r.text, "http://example.org/tidbits/1.html#part-2");
	has(r.html, "href=\"http://base.example/dir/page.html#top\"");
	ck_assert_ptr_null(strstr(r.html, "tidbits.xml#"));
	rendered_free(&r);
	fixture_free(&f);
}
END_TEST

/* The text of item title's block in a text part: up to the next item's rule. */
static char *
item_block(const char *text, const char *title)
{
	char *at = strstr(text, title), *end;

	ck_assert_ptr_nonnull(at);
	end = strstr(at, "\n------");
	return str_ndup(at, end != NULL ? (size_t)(end - at) : strlen(at));
}

/*
 * An item's values are made in those of the item before: each shows only
 * its own, and a digest made again (from the spool's memo) is the same.
 */
START_TEST(each_item_shows_only_its_own)
{
	struct fixture f;
	struct digest_templates *t = NULL;
	struct spool *c = NULL;
	struct rendered r, again;
	struct item *it;
	struct err e = {0};
	char *tags[] = {"linux"}, *block;
	struct enclosure encl = {"http://a.example/ep.mp3", "audio/mpeg", 31000000};

	fixture_init(&f, "s");
	it =
	    add_item(&f, 0, "Rich",
	             "<p><a href=\"http://a.example/1\">1</a> <a href=\"http://a.example/2\">2</a> "
	             "<a href=\"http://a.example/3\">3</a></p>");
	it->author = "Jane Roe";
	it->tags = tags;
	it->ntags = 1;
	it->enclosures = &encl;
	it->nenclosures = 1;
	add_item(&f, 0, "Plain", "<p><a href=\"http://b.example/only\">only</a></p>");
	add_item(&f, 1, "Bare", "<p>no links</p>");
	ck_assert_msg(digest_templates_load(&f.cfg, &t, &e) == 0, "%s", e.msg);
	ck_assert_msg(spool_new(&c, NULL, &e) == 0, "%s", e.msg);
	r = render_with(&f, t, c);
	block = item_block(r.text, "\nRich\n");
	has(block, "Jane Roe | linux");
	has(block, "Enclosure: http://a.example/ep.mp3 (audio/mpeg, 31 MB)");
	has(block, "[3] http://a.example/3");
	free(block);
	block = item_block(r.text, "\nPlain\n");
	has(block, "[1] http://b.example/only\n");
	ck_assert_ptr_null(strstr(block, "[2]"));
	ck_assert_ptr_null(strstr(block, "Jane Roe"));
	ck_assert_ptr_null(strstr(block, "Enclosure"));
	free(block);
	block = item_block(r.text, "\nBare\n");
	ck_assert_ptr_null(strstr(block, "[1]"));
	free(block);
	/* One enclosure in the HTML part too. */
	ck_assert_ptr_nonnull(block = strstr(r.html, "&#9654;"));
	ck_assert_ptr_null(strstr(block + 1, "&#9654;"));
	again = render_with(&f, t, c);
	ck_assert_str_eq(again.text, r.text);
	ck_assert_str_eq(again.html, r.html);
	rendered_free(&again);
	rendered_free(&r);
	spool_free(c);
	digest_templates_free(t);
	fixture_free(&f);
}
END_TEST

/* A cut item: the notice in both parts, one -v line naming feed and item. */
START_TEST(cut_item_is_told_on_the_log)
{
	struct fixture f;
	struct rendered r;
	struct buf big = BUF_INIT;
	FILE *log = tmpfile();
	char line[512] = "";

	ck_assert_ptr_nonnull(log);
	fixture_init(&f, "s");
	buf_adds(&big, "<p>");
	for (int i = 0; i < 150000; i++)
		buf_adds(&big, "ten bytes ");
	buf_adds(&big, "</p>");
	add_item(&f, 1, "Huge \x1b]0;x\x07post", big.data);
	r = render(&f, log);
	has(r.text, " KB more at http://example.org/lwn/1.html]");
	has(r.html, " KB more at <a href=\"http://example.org/lwn/1.html\">");
	rewind(log);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, log));
	ck_assert_str_eq(line, "tidings: feed lwn: item \"Huge ]0;xpost\": 441 KB of its content "
	                       "left out (over the 1024 KB an item shows)\n");
	ck_assert_ptr_null(fgets(line, sizeof line, log));
	fclose(log);
	buf_free(&big);
	rendered_free(&r);
	fixture_free(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, one_item_subject_is_its_title);
	tcase_add_test(tc, one_feed_subject_names_feed_and_first_title);
	tcase_add_test(tc, several_feeds_fit_78_columns);
	tcase_add_test(tc, meta_line_has_no_bare_separator);
	tcase_add_test(tc, relative_links_resolve_against_the_item);
	tcase_add_test(tc, each_item_shows_only_its_own);
	tcase_add_test(tc, cut_item_is_told_on_the_log);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
