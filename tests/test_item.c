/* Unit tests for src/item.c: building an item's parts, its hash id, and
 * releasing and packing items. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "item.h"
#include "util.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static struct feed f;
static struct err e;

static void
teardown(void)
{
	feed_free(&f);
}

static int
has_tag(const struct item *it, const char *tag)
{
	for (size_t i = 0; i < it->ntags; i++)
		if (strcmp(it->tags[i], tag) == 0)
			return 1;
	return 0;
}

/* Items keep their strings after packing, release parts without freeing them, and free cleanly. */
START_TEST(pack_and_release)
{
	struct buf b = BUF_INIT;
	char chunk[4096], **ids, **titles, **first_tags;
	size_t n, nitems;
	FILE *fp =
	    fopen(TOP_SRCDIR "/tests/data/corpus/feeds/seed__inodes-tag-bulletproof.xml", "rb");

	ck_assert_ptr_nonnull(fp);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	ck_assert_int_eq(
	    feed_parse(b.data, b.len, "http://inodes.org/tag/bulletproof/feed/", &f, &e), 0);
	buf_free(&b);
	nitems = f.nitems;
	ids = calloc(nitems, sizeof *ids);
	titles = calloc(nitems, sizeof *titles);
	first_tags = calloc(nitems, sizeof *first_tags);
	for (size_t i = 0; i < nitems; i++) {
		ids[i] = strdup(f.items[i].id);
		titles[i] = strdup(f.items[i].title);
		first_tags[i] = f.items[i].ntags ? strdup(f.items[i].tags[0]) : NULL;
	}
	/* The content goes first, as a run does; then everything is packed. */
	item_release(&f.items[0], ITEM_CONTENT);
	ck_assert_ptr_null(f.items[0].content);
	ck_assert_ptr_null(f.items[0].summary);
	ck_assert_int_eq(feed_pack(&f), 0);
	ck_assert_ptr_nonnull(f.pack);
	for (size_t i = 0; i < nitems; i++) {
		ck_assert(f.items[i].packed);
		ck_assert_str_eq(f.items[i].id, ids[i]);
		ck_assert_str_eq(f.items[i].title, titles[i]);
		if (first_tags[i] != NULL)
			ck_assert_str_eq(f.items[i].tags[0], first_tags[i]);
	}
	ck_assert(has_tag(&f.items[0], "networking") && has_tag(&f.items[0], "cisco"));
	ck_assert_str_eq(f.items[0].link,
	                 "http://inodes.org/2008/12/16/mac-os-x-l2tp-vpn-to-cisco-ios/");
	ck_assert_int_eq(feed_pack(&f), 0); /* twice is once */
	/* Released parts of packed items are let go, not freed (ASan would say). */
	item_release(&f.items[1], ITEM_SHOWN | ITEM_TAGS | ITEM_CONTENT);
	ck_assert_ptr_null(f.items[1].title);
	ck_assert_ptr_null(f.items[1].tags);
	ck_assert_uint_eq(f.items[1].ntags, 0);
	ck_assert_str_eq(f.items[1].id, ids[1]);
	item_release(&f.items[2], ITEM_BASE);
	ck_assert_ptr_null(f.items[2].base);
	ck_assert_str_eq(f.items[2].title, titles[2]);
	for (size_t i = 0; i < nitems; i++) {
		free(ids[i]);
		free(titles[i]);
		free(first_tags[i]);
	}
	free(ids);
	free(titles);
	free(first_tags);
}
END_TEST

/* The hash id reads title and date; link and content only when both are empty. */
START_TEST(hash_id_reads_title_and_date)
{
	struct item it = {
	    .title = "T", .published = 1000, .has_date = 1, .link = "l", .content = "c"};
	char *id[5];

	id[0] = item_hash_id(&it);
	it.link = it.content = "other";
	id[1] = item_hash_id(&it); /* the same: title and date say who it is */
	it.has_date = 0;
	id[2] = item_hash_id(&it);
	it.title = "";
	id[3] = item_hash_id(&it); /* neither title nor date: the link and content count */
	it.link = "l";
	id[4] = item_hash_id(&it);
	for (int i = 0; i < 5; i++)
		ck_assert_ptr_nonnull(id[i]);
	ck_assert_uint_eq(strlen(id[0]), 20);
	ck_assert(strncmp(id[0], "sha:", 4) == 0);
	ck_assert_str_eq(id[0], id[1]);
	ck_assert_str_ne(id[1], id[2]);
	ck_assert_str_ne(id[2], id[3]);
	ck_assert_str_ne(id[3], id[4]);
	for (int i = 0; i < 5; i++)
		free(id[i]);
}
END_TEST

/* Tags: squeezed, no duplicates ignoring case, none empty, at most ITEM_TAGS_MAX. */
START_TEST(tags_enclosures_links_are_bounded)
{
	struct strv tags = STRV_INIT;
	struct item it = {0};
	char name[16];

	ck_assert_int_eq(item_add_tag(&tags, "  mac \n os  x "), 0);
	ck_assert_int_eq(item_add_tag(&tags, "MAC OS X"), 0);
	ck_assert_int_eq(item_add_tag(&tags, " \t "), 0);
	ck_assert_uint_eq(tags.n, 1);
	ck_assert_str_eq(tags.v[0], "mac os x");
	for (int i = 0; i < 2 * ITEM_TAGS_MAX; i++) {
		snprintf(name, sizeof name, "t%d", i);
		ck_assert_int_eq(item_add_tag(&tags, name), 0);
	}
	ck_assert_uint_eq(tags.n, ITEM_TAGS_MAX);
	strv_free(&tags);
	ck_assert_int_eq(item_add_enclosure(&it, str_dup("u"), str_dup("t"), str_dup("12x")), 0);
	ck_assert_int_eq(item_add_enclosure(&it, str_dup(""), NULL, NULL), 0);
	ck_assert_int_eq(item_add_enclosure(&it, NULL, str_dup("t"), NULL), 0);
	ck_assert_uint_eq(it.nenclosures, 1);
	ck_assert_int_eq(it.enclosures[0].length, 12);
	for (int i = 0; i < 2 * ITEM_LINKS_MAX; i++)
		ck_assert_int_eq(item_add_link(&it, str_dup("u"), NULL, NULL, NULL), 0);
	ck_assert_uint_eq(it.nlinks, ITEM_LINKS_MAX);
	ck_assert_str_eq(it.links[0].rel, "alternate");
	item_free(&it);
}
END_TEST

START_TEST(urls_and_escaped_text)
{
	char *u = item_url("../b?x=1", "http://e.example/a/c/feed");
	char *v = item_url("/abs", NULL);
	char *h = item_escaped("a & <b> \"q\" 'y'");

	ck_assert_str_eq(u, "http://e.example/a/b?x=1");
	ck_assert_str_eq(v, "/abs");
	ck_assert_str_eq(h, "a &amp; &lt;b&gt; &quot;q&quot; 'y'");
	free(u);
	free(v);
	free(h);
	h = item_escaped("");
	ck_assert_str_eq(h, "");
	free(h);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("item");
	TCase *tc = tcase_create("item");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, pack_and_release);
	tcase_add_test(tc, hash_id_reads_title_and_date);
	tcase_add_test(tc, tags_enclosures_links_are_bounded);
	tcase_add_test(tc, urls_and_escaped_text);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
