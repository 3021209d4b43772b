/* Unit tests for src/select.c: tags, dedup, first-run, since, max-items. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

#define DAY 86400
static const time_t NOW = 1700000000;

static char *no_tags[] = {NULL};

static struct item
mk(const char *id, const char *link, time_t age, char **tags)
{
	struct item it;
	size_t n = 0;

	memset(&it, 0, sizeof it);
	it.id = (char *)id;
	it.title = (char *)id;
	it.link = (char *)link;
	it.published = NOW - age;
	it.has_date = age >= 0;
	while (tags[n])
		n++;
	it.tags = tags;
	it.ntags = n;
	return it;
}

static void
strv_of(struct strv *sv, const char *const *v)
{
	memset(sv, 0, sizeof *sv);
	for (; v && *v; v++)
		ck_assert_int_eq(strv_push(sv, *v), 0);
}

static struct sub_conf
sub(const char *name, const char *const *tags, const char *const *excl, long max_items)
{
	struct sub_conf s;

	memset(&s, 0, sizeof s);
	s.name = (char *)name;
	strv_of(&s.tags, tags);
	strv_of(&s.exclude_tags, excl);
	s.max_items = max_items;
	s.first_run = 0;
	return s;
}

static void
sub_free(struct sub_conf *s)
{
	strv_free(&s->tags);
	strv_free(&s->exclude_tags);
	strv_free(&s->feeds);
}

static struct state *
empty_state(void)
{
	struct state *st = NULL;
	struct err e;

	ck_assert_int_eq(state_load("/nonexistent/tidings-test/state", &st, &e), 0);
	return st;
}

static size_t
count_kind(const struct picks *p, enum pick_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].kind == k;
	return n;
}

static char *t_net[] = {"Networking", "linux", NULL};
static char *t_lin[] = {" Linux ", NULL};
static char *t_pres[] = {"linux", "presentations", NULL};

START_TEST(tags_any_of_and_none_of_case_insensitive)
{
	struct feed_conf fc = {.name = "f", .url = "http://x/f"};
	struct item a = mk("a", NULL, 1, t_net), b = mk("b", NULL, 1, t_lin),
	            c = mk("c", NULL, 1, t_pres);
	struct sub_conf s1 = sub("s1", (const char *[]){"NETWORKING", NULL}, NULL, 0);
	struct sub_conf s2 =
	    sub("s2", (const char *[]){"linux", NULL}, (const char *[]){"Presentations", NULL}, 0);
	struct sub_conf all = sub("all", NULL, NULL, 0);

	ck_assert(select_tags_match(&s1, &a, &fc));
	ck_assert(!select_tags_match(&s1, &b, &fc));
	ck_assert(select_tags_match(&s2, &a, &fc));
	ck_assert(!select_tags_match(&s2, &c, &fc));
	ck_assert(select_tags_match(&all, &c, &fc));
	/* Feed tags count as item tags. */
	ck_assert_int_eq(strv_push(&fc.tags, "networking"), 0);
	ck_assert(select_tags_match(&s1, &b, &fc));
	strv_free(&fc.tags);
	sub_free(&s1);
	sub_free(&s2);
	sub_free(&all);
}
END_TEST

START_TEST(same_item_through_two_feeds_once)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"},
	                 fb = {.name = "b", .url = "http://x/b"};
	struct item ia[] = {mk("id1", "http://x/1", 10, no_tags),
	                    mk("id2", "http://x/2", 5, no_tags)};
	struct item ib[] = {mk("other", "http://x/1", 10, no_tags), mk("id2", NULL, 5, no_tags),
	                    mk("id3", NULL, 1, no_tags)};
	struct feed a = {.items = ia, .nitems = 2}, b = {.items = ib, .nitems = 3};
	struct source src[] = {{&fa, &a}, {&fb, &b}};
	struct sub_conf s = sub("s", NULL, NULL, 0);
	struct select_params p = {SELECT_NEW, NOW, 0, NULL};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	ck_assert_int_eq(state_sub_touch(st, "s"), 0);
	ck_assert_int_eq(select_items(&s, src, 2, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 3);
	ck_assert_uint_eq(count_kind(&out, PICK_DUPLICATE), 2);
	/* Shown first, grouped by feed in config order, newest first. */
	ck_assert_str_eq(out.v[0].item->id, "id2");
	ck_assert_str_eq(out.v[1].item->id, "id1");
	ck_assert_str_eq(out.v[2].item->id, "id3");
	picks_free(&out);
	state_free(st);
	sub_free(&s);
}
END_TEST

/* What one recipient lacks: ann has id1, the subscription as a whole has id2. */
START_TEST(per_recipient_selection)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"};
	struct item ia[] = {mk("id1", NULL, 10, no_tags), mk("id2", NULL, 5, no_tags),
	                    mk("id3", NULL, 1, no_tags)};
	struct feed a = {.items = ia, .nitems = 3};
	struct source src[] = {{&fa, &a}};
	struct sub_conf s = sub("s", NULL, NULL, 0);
	struct select_params p = {SELECT_NEW, NOW, 0, "ann@example.org"};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	ck_assert_int_eq(state_record_to(st, "s", "ann@example.org", "http://x/a", "id1", NOW), 0);
	ck_assert_int_eq(state_record(st, "s", "http://x/a", "id2", NOW), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 1);
	ck_assert_str_eq(out.v[0].item->id, "id3");
	picks_free(&out);
	p.rcpt = "bob@example.org";
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 2);
	ck_assert_str_eq(out.v[0].item->id, "id3"); /* newest first */
	ck_assert_str_eq(out.v[1].item->id, "id1");
	picks_free(&out);
	/* The subscription as a whole: what any recipient may still need. */
	p.rcpt = NULL;
	ck_assert(select_may_show(&s, &ia[0], &fa, st, &p, select_first_run(&s, &fa, st, &p)));
	ck_assert(!select_may_show(&s, &ia[1], &fa, st, &p, select_first_run(&s, &fa, st, &p)));
	state_free(st);
	sub_free(&s);
}
END_TEST

START_TEST(an_id_that_is_its_link_is_no_duplicate)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"};
	struct item ia[] = {mk("http://x/1", "http://x/1", 2, no_tags),
	                    mk("http://x/2", "http://x/2", 1, no_tags)};
	struct feed a = {.items = ia, .nitems = 2};
	struct source src[] = {{&fa, &a}};
	struct sub_conf s = sub("s", NULL, NULL, 0);
	struct select_params p = {SELECT_NEW, NOW, 0, NULL};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	ck_assert_int_eq(state_sub_touch(st, "s"), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 2);
	ck_assert_uint_eq(count_kind(&out, PICK_DUPLICATE), 0);
	picks_free(&out);
	state_free(st);
	sub_free(&s);
}
END_TEST

START_TEST(delivered_items_are_not_picked)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"};
	struct item ia[] = {mk("old", NULL, 10, no_tags), mk("new", NULL, 1, no_tags)};
	struct feed a = {.items = ia, .nitems = 2};
	struct source src[] = {{&fa, &a}};
	struct sub_conf s = sub("s", NULL, NULL, 0);
	struct select_params p = {SELECT_NEW, NOW, 0, NULL};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	ck_assert_int_eq(state_record(st, "s", "http://x/a", "old", NOW), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 1);
	ck_assert_str_eq(out.v[0].item->id, "new");
	picks_free(&out);
	/* Another subscription has received nothing yet. */
	s.name = "t";
	ck_assert_int_eq(state_sub_touch(st, "t"), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 2);
	picks_free(&out);
	state_free(st);
	sub_free(&s);
}
END_TEST

START_TEST(first_run_records_old_items_without_sending)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"};
	struct item ia[] = {mk("ancient", NULL, 40 * DAY, no_tags), mk("fresh", NULL, DAY, no_tags),
	                    mk("undated", NULL, -1, no_tags)};
	struct feed a = {.items = ia, .nitems = 3};
	struct source src[] = {{&fa, &a}};
	struct sub_conf s = sub("s", NULL, NULL, 0);
	struct select_params p = {SELECT_NEW, NOW, 0, NULL};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	s.first_run = 7 * DAY;
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 1);
	ck_assert_str_eq(out.v[0].item->id, "fresh");
	ck_assert_uint_eq(count_kind(&out, PICK_OLD), 2);
	picks_free(&out);
	/* first-run = 0 sends everything. */
	s.first_run = 0;
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 3);
	picks_free(&out);
	/* A known subscription is not enough: the rule is per (subscription, feed). */
	s.first_run = 7 * DAY;
	ck_assert_int_eq(state_sub_touch(st, "s"), 0);
	ck_assert_int_eq(state_record(st, "s", "http://x/other", "o", NOW), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 1);
	picks_free(&out);
	/* Once the pair holds any id, the rule no longer applies to it. */
	ck_assert_int_eq(state_record(st, "s", "http://x/a", "long-gone", NOW), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 3);
	picks_free(&out);
	/* Its ids pruned, the pair starts over. */
	ck_assert_int_eq(state_feed_seen(st, "http://x/a", NULL, 0, NOW + 100, 10), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 1);
	picks_free(&out);
	state_free(st);
	sub_free(&s);
}
END_TEST

START_TEST(since_takes_dated_items_delivered_or_not)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"};
	struct item ia[] = {mk("before", NULL, 10 * DAY, no_tags), mk("after", NULL, DAY, no_tags),
	                    mk("undated", NULL, -1, no_tags)};
	struct feed a = {.items = ia, .nitems = 3};
	struct source src[] = {{&fa, &a}};
	struct sub_conf s = sub("s", NULL, NULL, 1);
	struct select_params p = {SELECT_SINCE, NOW, NOW - 5 * DAY, NULL};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	ck_assert_int_eq(state_record(st, "s", "http://x/a", "after", NOW), 0);
	ck_assert_int_eq(select_items(&s, src, 1, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 1);
	ck_assert_str_eq(out.v[0].item->id, "after");
	ck_assert_uint_eq(out.undated, 1);
	picks_free(&out);
	state_free(st);
	sub_free(&s);
}
END_TEST

START_TEST(max_items_sends_the_oldest_and_keeps_the_rest)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"},
	                 fb = {.name = "b", .url = "http://x/b"};
	struct item ia[] = {mk("a1", NULL, 1, no_tags), mk("a5", "http://l/5", 5, no_tags),
	                    mk("a9", "http://l/9", 9, no_tags)};
	struct item ib[] = {mk("b5", "http://l/5", 5, no_tags), mk("b1", "http://l/1", 1, no_tags),
	                    mk("b9", "http://l/9b", 9, no_tags)};
	struct feed a = {.items = ia, .nitems = 3}, b = {.items = ib, .nitems = 3};
	struct source src[] = {{&fa, &a}, {&fb, &b}};
	struct sub_conf s = sub("s", NULL, NULL, 2);
	struct select_params p = {SELECT_NEW, NOW, 0, NULL};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	ck_assert_int_eq(state_sub_touch(st, "s"), 0);
	ck_assert_int_eq(select_items(&s, src, 2, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.nshow, 2);
	ck_assert_uint_eq(out.held_back, 3); /* a1, a5, b1 wait */
	/* The two oldest: a9 and b9; b5 (same link as a5) waits with a5. */
	ck_assert_str_eq(out.v[0].item->id, "a9");
	ck_assert_str_eq(out.v[1].item->id, "b9");
	ck_assert_uint_eq(count_kind(&out, PICK_DUPLICATE), 0);
	picks_free(&out);
	state_free(st);
	sub_free(&s);
}
END_TEST

START_TEST(catch_up_picks_everything_undelivered)
{
	struct feed_conf fa = {.name = "a", .url = "http://x/a"};
	struct item ia[] = {mk("x", NULL, 1, no_tags), mk("y", NULL, 100 * DAY, no_tags)};
	struct feed a = {.items = ia, .nitems = 2};
	struct source src[] = {{&fa, &a}, {&fa, NULL}};
	struct sub_conf s = sub("s", NULL, NULL, 1);
	struct select_params p = {SELECT_ALL, NOW, 0, NULL};
	struct state *st = empty_state();
	struct picks out;
	struct err e;

	ck_assert_int_eq(state_record(st, "s", "http://x/a", "x", NOW), 0);
	ck_assert_int_eq(select_items(&s, src, 2, st, &p, &out, &e), 0);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_uint_eq(out.nshow, 0);
	ck_assert_str_eq(out.v[0].item->id, "y");
	ck_assert_int_eq(out.v[0].kind, PICK_OLD);
	picks_free(&out);
	state_free(st);
	sub_free(&s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("select");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, tags_any_of_and_none_of_case_insensitive);
	tcase_add_test(tc, same_item_through_two_feeds_once);
	tcase_add_test(tc, per_recipient_selection);
	tcase_add_test(tc, an_id_that_is_its_link_is_no_duplicate);
	tcase_add_test(tc, delivered_items_are_not_picked);
	tcase_add_test(tc, first_run_records_old_items_without_sending);
	tcase_add_test(tc, since_takes_dated_items_delivered_or_not);
	tcase_add_test(tc, max_items_sends_the_oldest_and_keeps_the_rest);
	tcase_add_test(tc, catch_up_picks_everything_undelivered);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
