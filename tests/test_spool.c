/*
 * Unit tests for src/spool.c: the plan (what each item of a parsed feed
 * may be needed for), rendering and stashing into the spool file, reading
 * both back, what an item lets go of at each stage, parse threads
 * rendering and stashing into one spool at once, and the memo.  Feeds are parsed by the
 * real parser from RSS written here.
 */
#include <check.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "spool.h"
#include "state.h"

#define FEED_URL "http://example.org/feed.xml"
#define NOW      1700000000

/* Item k: dated k days after 2023-01-01, its content naming k, with a link. */
static char *
rss(int nitems)
{
	struct buf b = {0};
	int rc = buf_adds(&b, "<rss version=\"2.0\"><channel><title>t</title>");

	for (int k = 0; k < nitems; k++)
		rc |= buf_printf(&b,
		                 "<item><guid>id-%d</guid><title>Item %d</title>"
		                 "<link>http://example.org/%d.html</link>"
		                 "<category>c%d</category>"
		                 "<pubDate>%02d Jan 2023 10:00:00 GMT</pubDate>"
		                 "<description>&lt;p&gt;Body of item %d, see "
		                 "&lt;a href=\"http://example.org/more/%d\"&gt;more&lt;/a&gt;."
		                 "&lt;/p&gt;</description></item>",
		                 k, k, k, k % 2, k % 28 + 1, k, k);
	rc |= buf_adds(&b, "</channel></rss>");
	ck_assert_int_eq(rc, 0);
	return buf_steal(&b);
}

static void
parse(struct feed *f, int nitems)
{
	char *xml = rss(nitems);
	struct err e = {0};

	ck_assert_msg(feed_parse(xml, strlen(xml), FEED_URL, f, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(f->nitems, (size_t)nitems);
	free(xml);
}

struct fixture {
	struct config cfg;
	struct sub_conf sub[2];
	struct feed_conf fc;
	int selected[2];
	struct state *st;
	struct spool_plan plan;
};

static void
fixture_init(struct fixture *x, long full_items)
{
	memset(x, 0, sizeof *x);
	x->fc.name = "f";
	x->fc.url = FEED_URL;
	x->cfg.feeds = &x->fc;
	x->cfg.nfeeds = 1;
	x->cfg.subs = x->sub;
	x->cfg.nsubs = 2;
	x->sub[0].name = "a";
	x->sub[0].full_items_per_feed = full_items;
	x->sub[1].name = "b"; /* would show everything in full; not selected */
	x->sub[1].full_items_per_feed = 0;
	x->selected[0] = 1;
	x->st = state_new();
	ck_assert_ptr_nonnull(x->st);
	x->plan = (struct spool_plan){
	    .cfg = &x->cfg,
	    .sub_selected = x->selected,
	    .st = x->st,
	    .select = {.mode = SELECT_NEW, .now = NOW},
	};
}

/* The pieces of what the spool holds for an item, read back as strings. */
struct readback {
	char *html, *text, *links;
	size_t links_len;
};

static char *
pread_str(int fd, off_t off, size_t len)
{
	char *s = malloc(len + 1);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pread(fd, s, len, off), (ssize_t)len);
	s[len] = '\0';
	return s;
}

static struct readback
read_back(struct spool *s, const struct item *it, const struct feed_conf *fc)
{
	struct spooled r;
	struct readback b;
	struct buf links = BUF_INIT;
	struct err e = {0};

	ck_assert_msg(spool_read(s, it, fc, &r, &e) == 0, "%s", e.msg);
	b.html = pread_str(r.fd, r.html_off, r.html_len);
	b.text = pread_str(r.fd, r.text_off, r.text_len);
	ck_assert_msg(spool_links(s, &r, &links, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(links.len, r.links_len);
	b.links = buf_steal(&links);
	b.links_len = r.links_len;
	return b;
}

static void
readback_free(struct readback *b)
{
	free(b->html);
	free(b->text);
	free(b->links);
}

START_TEST(plan_renders_the_newest_and_stashes_the_rest)
{
	struct fixture x;
	struct feed f;
	unsigned char *need;

	fixture_init(&x, 2);
	parse(&f, 5);
	need = spool_plan(&x.plan, &x.fc, &f);
	ck_assert_ptr_nonnull(need);
	/* Items 3 and 4 are the newest: rendered; the others may be shown (a cap, a duplicate). */
	ck_assert_int_eq(need[4], NEED_RENDERED);
	ck_assert_int_eq(need[3], NEED_RENDERED);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(need[k], NEED_CONTENT);
	free(need);
	feed_free(&f);
	state_free(x.st);
}
END_TEST

START_TEST(plan_needs_nothing_of_what_no_digest_shows)
{
	struct fixture x;
	struct feed f;
	unsigned char *need;

	fixture_init(&x, 0);
	parse(&f, 3);
	/* Delivered already: a run's digest leaves it out. */
	ck_assert_int_eq(state_record(x.st, "a", FEED_URL, "id-1", NOW), 0);
	need = spool_plan(&x.plan, &x.fc, &f);
	ck_assert_ptr_nonnull(need);
	ck_assert_int_eq(need[0], NEED_RENDERED); /* full-items-per-feed 0: every item in full */
	ck_assert_int_eq(need[1], NEED_NOTHING);
	ck_assert_int_eq(need[2], NEED_RENDERED);
	free(need);
	/* catch-up renders nothing. */
	x.plan.select.mode = SELECT_ALL;
	need = spool_plan(&x.plan, &x.fc, &f);
	ck_assert_ptr_nonnull(need);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(need[k], NEED_NOTHING);
	free(need);
	/* No subscription selected: nothing. */
	x.plan.select.mode = SELECT_NEW;
	x.selected[0] = 0;
	need = spool_plan(&x.plan, &x.fc, &f);
	ck_assert_ptr_nonnull(need);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(need[k], NEED_NOTHING);
	free(need);
	feed_free(&f);
	state_free(x.st);
}
END_TEST

START_TEST(keep_releases_what_each_item_no_longer_needs)
{
	struct fixture x;
	struct feed f;
	struct spool *s = NULL;
	struct err e = {0};
	const unsigned char need[] = {NEED_RENDERED, NEED_CONTENT, NEED_NOTHING};

	fixture_init(&x, 1);
	parse(&f, 3);
	ck_assert_msg(spool_new(&s, NULL, &e) == 0, "%s", e.msg);
	spool_keep(s, &f, &x.fc, need);
	for (int k = 0; k < 3; k++) {
		ck_assert_ptr_null(f.items[k].content);
		ck_assert_ptr_null(f.items[k].summary);
		ck_assert_str_eq(f.items[k].id, k == 0 ? "id-0" : k == 1 ? "id-1" : "id-2");
		ck_assert(f.items[k].has_date);
	}
	/* Shown items keep their item line; one never shown keeps id, date and tags. */
	ck_assert_str_eq(f.items[0].title, "Item 0");
	ck_assert_str_eq(f.items[1].link, "http://example.org/1.html");
	ck_assert_ptr_null(f.items[2].title);
	ck_assert_ptr_null(f.items[2].link);
	ck_assert_uint_eq(f.items[2].ntags, 1);
	/* After the digests: the id and the date, no more. */
	spool_keep_for_recording(&f);
	for (int k = 0; k < 3; k++) {
		ck_assert_ptr_null(f.items[k].title);
		ck_assert_ptr_null(f.items[k].link);
		ck_assert_uint_eq(f.items[k].ntags, 0);
		ck_assert_ptr_nonnull(f.items[k].id);
	}
	spool_free(s);
	feed_free(&f);
	state_free(x.st);
}
END_TEST

START_TEST(rendered_and_stashed_items_read_back_rendered)
{
	struct fixture x;
	struct feed f;
	struct spool *s = NULL;
	struct err e = {0};
	const unsigned char need[] = {NEED_RENDERED, NEED_CONTENT, NEED_CONTENT, NEED_RENDERED};
	struct readback b;
	char want[64];

	fixture_init(&x, 1);
	parse(&f, 4);
	ck_assert_msg(spool_new(&s, NULL, &e) == 0, "%s", e.msg);
	spool_keep(s, &f, &x.fc, need);
	/* Read out of order, stashed ones between: each its own. */
	for (int k = 3; k >= 0; k--) {
		b = read_back(s, &f.items[k], &x.fc);
		snprintf(want, sizeof want, "Body of item %d, see", k);
		ck_assert_msg(strstr(b.html, want) != NULL, "item %d html: %s", k, b.html);
		ck_assert_msg(strstr(b.html, "<p>") != NULL, "%s", b.html);
		ck_assert_msg(strstr(b.text, want) != NULL, "item %d text: %s", k, b.text);
		ck_assert_ptr_null(strchr(b.text, '<'));
		snprintf(want, sizeof want, "http://example.org/more/%d", k);
		ck_assert_str_eq(b.links, want);
		ck_assert_uint_eq(b.links_len, strlen(want) + 1);
		readback_free(&b);
	}
	spool_free(s);
	feed_free(&f);
	state_free(x.st);
}
END_TEST

START_TEST(an_item_never_spooled_renders_from_its_fields)
{
	struct fixture x;
	struct feed f;
	struct spool *s = NULL;
	struct err e = {0};
	struct readback b;

	fixture_init(&x, 1);
	parse(&f, 1);
	ck_assert_msg(spool_new(&s, NULL, &e) == 0, "%s", e.msg);
	b = read_back(s, &f.items[0], &x.fc);
	ck_assert_ptr_nonnull(strstr(b.html, "Body of item 0"));
	readback_free(&b);
	/* Rendered once: a stash afterwards changes nothing, even with the content gone. */
	item_release(&f.items[0], ITEM_CONTENT);
	ck_assert_int_eq(spool_stash(s, &f.items[0], &e), 0);
	b = read_back(s, &f.items[0], &x.fc);
	ck_assert_ptr_nonnull(strstr(b.html, "Body of item 0"));
	readback_free(&b);
	spool_free(s);
	feed_free(&f);
	state_free(x.st);
}
END_TEST

/* What an entry of n bytes costs against the bound: its bytes and 64 of bookkeeping (LP64). */
#define MEMO_ENTRY(n) ((n) + 64)

START_TEST(the_memo_keeps_until_its_bound)
{
	struct feed f;
	struct spool *s = NULL;
	struct err e = {0};
	const char *got;
	size_t len = 0;
	char big[200];

	parse(&f, 4);
	memset(big, 'x', sizeof big);
	ck_assert_msg(spool_new(&s, NULL, &e) == 0, "%s", e.msg);
	ck_assert_ptr_null(spool_memo(s, &f.items[0], 0, &len));
	/* Kept, by item and kind, as given (a copy). */
	ck_assert_int_eq(spool_memo_keep(s, &f.items[0], 0, "zero", 5), 1);
	ck_assert_int_eq(spool_memo_keep(s, &f.items[0], 1, "zero, in full", 14), 1);
	ck_assert_ptr_nonnull(got = spool_memo(s, &f.items[0], 0, &len));
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(got, "zero");
	ck_assert_ptr_nonnull(got = spool_memo(s, &f.items[0], 1, &len));
	ck_assert_str_eq(got, "zero, in full");
	ck_assert_ptr_null(spool_memo(s, &f.items[1], 0, &len));
	/* An entry larger than the whole bound is never kept. */
	spool_memo_bound(s, 150);
	ck_assert_int_eq(spool_memo_keep(s, &f.items[1], 0, big, sizeof big), 0);
	ck_assert_ptr_null(spool_memo(s, &f.items[1], 0, &len));
	/* At the bound: what is kept stays, what comes after is refused. */
	spool_memo_bound(s, MEMO_ENTRY(5) + MEMO_ENTRY(14) + MEMO_ENTRY(100) + MEMO_ENTRY(0) + 25);
	ck_assert_int_eq(spool_memo_keep(s, &f.items[1], 0, big, 100), 1);
	ck_assert_int_eq(spool_memo_keep(s, &f.items[2], 0, big, 100), 0);
	ck_assert_int_eq(spool_memo_keep(s, &f.items[3], 0, "", 0), 1);
	ck_assert_ptr_nonnull(spool_memo(s, &f.items[3], 0, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(spool_memo(s, &f.items[2], 0, &len));
	ck_assert_ptr_nonnull(got = spool_memo(s, &f.items[1], 0, &len));
	ck_assert_uint_eq(len, 100);
	ck_assert_int_eq(memcmp(got, big, 100), 0);
	ck_assert_str_eq(spool_memo(s, &f.items[0], 0, &len), "zero");
	/* Many entries: the index grows and finds each. */
	spool_memo_bound(s, SPOOL_MEMO_MAX);
	for (int k = 0; k < 1000; k++)
		ck_assert_int_eq(spool_memo_keep(s, &f.items[k % 4], k + 2, &k, sizeof k), 1);
	for (int k = 0; k < 1000; k++) {
		ck_assert_ptr_nonnull(got = spool_memo(s, &f.items[k % 4], k + 2, &len));
		ck_assert_int_eq(memcmp(got, &k, sizeof k), 0);
	}
	spool_free(s);
	feed_free(&f);
}
END_TEST

/* An item's content cut past a megabyte is told on the log, once. */
START_TEST(a_cut_item_is_told_on_the_log)
{
	struct fixture x;
	struct feed f;
	struct spool *s = NULL;
	struct err e = {0};
	FILE *log = tmpfile();
	char line[512];
	size_t big = (1u << 20) + 4096;

	ck_assert_ptr_nonnull(log);
	fixture_init(&x, 1);
	parse(&f, 1);
	free(f.items[0].content);
	f.items[0].content = malloc(big + 1);
	ck_assert_ptr_nonnull(f.items[0].content);
	memset(f.items[0].content, 'x', big);
	f.items[0].content[big] = '\0';
	ck_assert_msg(spool_new(&s, log, &e) == 0, "%s", e.msg);
	ck_assert_msg(spool_render(s, &f.items[0], &x.fc, &e) == 0, "%s", e.msg);
	rewind(log);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, log));
	ck_assert_msg(strstr(line, "tidings: feed f: item \"Item 0\": ") == line, "%s", line);
	ck_assert_ptr_null(fgets(line, sizeof line, log));
	fclose(log);
	spool_free(s);
	feed_free(&f);
	state_free(x.st);
}
END_TEST

/* A plan that ran out of memory: every item stays whole, and -v says so. */
START_TEST(without_a_plan_items_stay_whole)
{
	struct fixture x;
	struct feed f;
	struct spool *s = NULL;
	struct err e = {0};
	FILE *log = tmpfile();
	char line[512];

	ck_assert_ptr_nonnull(log);
	fixture_init(&x, 1);
	parse(&f, 2);
	ck_assert_msg(spool_new(&s, log, &e) == 0, "%s", e.msg);
	spool_keep(s, &f, &x.fc, NULL);
	ck_assert_ptr_nonnull(
	    strstr(f.items[0].content ? f.items[0].content : f.items[0].summary, "Body of item 0"));
	ck_assert_str_eq(f.items[1].title, "Item 1");
	rewind(log);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, log));
	ck_assert_str_eq(line, "tidings: feed f: out of memory: its items stay in memory\n");
	fclose(log);
	spool_free(s);
	feed_free(&f);
	state_free(x.st);
}
END_TEST

/* Parse threads: each renders or stashes its own feed's items into one spool. */
#define THREADS    4
#define PER_THREAD 60

struct worker {
	struct spool *s;
	struct feed f;
	struct feed_conf fc;
	unsigned char need[PER_THREAD];
};

static void *
keep(void *arg)
{
	struct worker *w = arg;

	spool_keep(w->s, &w->f, &w->fc, w->need);
	return NULL;
}

START_TEST(parse_threads_share_one_spool)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct spool *s = NULL;
	struct err e = {0};
	char want[64];

	xmlInitParser(); /* as main() does: libxml2 sets itself up on first use, racily */
	ck_assert_msg(spool_new(&s, NULL, &e) == 0, "%s", e.msg);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].s = s;
		w[i].fc.name = "f";
		w[i].fc.url = FEED_URL;
		parse(&w[i].f, PER_THREAD);
		for (int k = 0; k < PER_THREAD; k++)
			w[i].need[k] = (k + i) % 2 ? NEED_RENDERED : NEED_CONTENT;
	}
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, keep, &w[i]), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < PER_THREAD; k++) {
			struct readback b = read_back(s, &w[i].f.items[k], &w[i].fc);

			ck_assert_ptr_null(w[i].f.items[k].content);
			snprintf(want, sizeof want, "Body of item %d, see", k);
			ck_assert_msg(strstr(b.text, want) != NULL, "thread %d item %d: %s", i, k,
			              b.text);
			readback_free(&b);
		}
	for (int i = 0; i < THREADS; i++)
		feed_free(&w[i].f);
	spool_free(s);
}
END_TEST

static Suite *
spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, plan_renders_the_newest_and_stashes_the_rest);
	tcase_add_test(tc, plan_needs_nothing_of_what_no_digest_shows);
	tcase_add_test(tc, keep_releases_what_each_item_no_longer_needs);
	tcase_add_test(tc, rendered_and_stashed_items_read_back_rendered);
	tcase_add_test(tc, an_item_never_spooled_renders_from_its_fields);
	tcase_add_test(tc, a_cut_item_is_told_on_the_log);
	tcase_add_test(tc, without_a_plan_items_stay_whole);
	tcase_add_test(tc, parse_threads_share_one_spool);
	tcase_add_test(tc, the_memo_keeps_until_its_bound);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(spool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
