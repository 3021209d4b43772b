/* Unit tests for src/state.c: each promise of the state file, tried hard. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

#define T0  1700000000
#define DAY 86400

static char torture_path[4096];
static char tmpdir[4096];

/* ---------- helpers ---------- */

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/test_state.XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
tpath(const char *name)
{
	static char buf[8][4096];
	static int k;

	k = (k + 1) % 8;
	ck_assert_int_lt(snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name),
	                 (int)sizeof buf[k]);
	return buf[k];
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	cap = (size_t)ftell(f);
	rewind(f);
	data = malloc(cap + 1);
	ck_assert_ptr_nonnull(data);
	*n = fread(data, 1, cap, f);
	ck_assert_uint_eq(*n, cap);
	data[*n] = '\0';
	fclose(f);
	return data;
}

static void
spew(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static size_t
count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static struct state *
load_ok(const char *path)
{
	struct err e = {0};
	struct state *st = NULL;

	ck_assert_msg(state_load(path, &st, &e) == 0, "load: %s", e.msg);
	ck_assert_ptr_nonnull(st);
	return st;
}

static void
save_ok(struct state *st, const char *path)
{
	struct err e = {0};

	ck_assert_msg(state_save(st, path, &e) == 0, "save: %s", e.msg);
}

/* ---------- round trip ---------- */

static char long_id[200001];
static char all_bytes[256];

static const char *hostile_ids[] = {
    "plain",
    "tab\there",
    "nl\nx",
    "cr\rx",
    "%",
    "%41",
    "%%",
    "-",
    "--",
    "",
    " lead and trail ",
    "é ünïcødé 日本語",
    "\x7f",
    "back\\slash",
    "#hash",
    "end\t",
    "\n",
    "item\tsub\tfeed\tid\t-\t-",
    long_id,
    all_bytes,
};
#define NHOSTILE (sizeof hostile_ids / sizeof hostile_ids[0])

static void
fill_hostile(void)
{
	for (size_t i = 0; i < sizeof long_id - 1; i++)
		long_id[i] = (char)('a' + i % 26);
	for (int i = 1; i < 256; i++)
		all_bytes[i - 1] = (char)i;
}

START_TEST(roundtrip_hostile)
{
	const char *subs[] = {"john", "sub\twith tab", "-", "ünï"};
	const char *feeds[] = {"http://127.0.0.1/a.xml", "http://x/?a=%20&b=\t\n", "-"};
	const char *path = tpath("state");
	struct state *st = state_new(), *st2;
	struct feed_state *fs;

	fill_hostile();
	ck_assert_ptr_nonnull(st);
	for (size_t s = 0; s < 4; s++)
		for (size_t f = 0; f < 3; f++)
			for (size_t i = 0; i < NHOSTILE; i++) {
				if ((s + f + i) % 2 != 0)
					continue;
				ck_assert_int_eq(state_record(st, subs[s], feeds[f], hostile_ids[i],
				                              T0 + (time_t)i),
				                 0);
			}
	fs = state_feed(st, feeds[1], 0);
	ck_assert_ptr_nonnull(fs);
	ck_assert_int_eq(state_set_str(&fs->etag, "W/\"a\tb\""), 0);
	ck_assert_int_eq(state_set_str(&fs->last_modified, "-"), 0);
	ck_assert_int_eq(state_set_str(&fs->last_error, "line1\nline2 100%\r"), 0);
	ck_assert_int_eq(state_set_str(&fs->moved_to, "http://x/\t%20-"), 0);
	fs->last_fetch = T0 + 5;
	fs->last_status = 503;
	fs->failures = 7;
	fs->first_failure = T0 - 3 * DAY;
	fs->retry_after = T0 + 3600;
	fs->gone = 1;
	fs = state_feed(st, "http://127.0.0.1/empty.xml", 1);
	ck_assert_ptr_nonnull(fs);
	ck_assert_int_eq(state_set_str(&fs->etag, ""), 0);
	save_ok(st, path);
	st2 = load_ok(path);

	ck_assert_uint_eq(state_nids(st2), state_nids(st));
	ck_assert_uint_eq(state_nfeeds(st2), 4);
	for (size_t s = 0; s < 4; s++)
		for (size_t f = 0; f < 3; f++)
			for (size_t i = 0; i < NHOSTILE; i++) {
				int want = (s + f + i) % 2 == 0;
				int got = state_delivered(st2, subs[s], feeds[f], hostile_ids[i]);

				ck_assert_msg(got == want, "sub %zu feed %zu id %zu", s, f, i);
			}
	ck_assert(!state_delivered(st2, "john", feeds[0], "tab"));
	ck_assert(!state_delivered(st2, "john", feeds[0], "%2541"));
	ck_assert(!state_delivered(st2, "nobody", feeds[0], "plain"));
	fs = state_feed(st2, feeds[1], 0);
	ck_assert_ptr_nonnull(fs);
	ck_assert_str_eq(fs->url, feeds[1]);
	ck_assert_str_eq(fs->etag, "W/\"a\tb\"");
	ck_assert_str_eq(fs->last_modified, "-");
	ck_assert_str_eq(fs->last_error, "line1\nline2 100%\r");
	ck_assert_str_eq(fs->moved_to, "http://x/\t%20-");
	ck_assert_int_eq(fs->last_fetch, T0 + 5);
	ck_assert_int_eq(fs->last_status, 503);
	ck_assert_int_eq(fs->failures, 7);
	ck_assert_int_eq(fs->first_failure, T0 - 3 * DAY);
	ck_assert_int_eq(fs->retry_after, T0 + 3600);
	ck_assert_int_eq(fs->gone, 1);
	fs = state_feed(st2, feeds[0], 0);
	ck_assert_ptr_null(fs->etag);
	ck_assert_ptr_null(fs->last_error);
	ck_assert_ptr_null(fs->moved_to);
	ck_assert_int_eq(fs->last_fetch, 0);
	fs = state_feed(st2, "http://127.0.0.1/empty.xml", 0);
	ck_assert_ptr_nonnull(fs);
	ck_assert_str_eq(fs->etag, "");
	ck_assert_uint_eq(state_feed_nids(st2, "http://127.0.0.1/empty.xml"), 0);
	ck_assert_ptr_null(state_feed(st2, "http://127.0.0.1/never.xml", 0));
	state_free(st);
	state_free(st2);
}
END_TEST

START_TEST(file_is_readable_text)
{
	const char *path = tpath("state");
	struct state *st = state_new();
	char *data;
	size_t n;

	ck_assert_int_eq(state_record(st, "john", "http://127.0.0.1/a", "x\ty\n%", T0), 0);
	save_ok(st, path);
	data = slurp(path, &n);
	ck_assert_msg(strncmp(data, "tidings-state 2\n", 16) == 0, "%s", data);
	ck_assert_ptr_nonnull(strstr(data, "\nsub\tjohn\n"));
	ck_assert_ptr_nonnull(strstr(data, "\nitem\tjohn\thttp://127.0.0.1/a\tx%09y%0A%25\t"
	                                   "2023-11-14T22:13:20Z\t2023-11-14T22:13:20Z\n"));
	ck_assert_ptr_nonnull(strstr(data, "\nend\t3\n"));
	for (size_t i = 0; i < n; i++)
		ck_assert(data[i] == '\n' || data[i] == '\t' || data[i] >= 0x20);
	free(data);
	state_free(st);
}
END_TEST

/*
 * Every byte that needs an escape, at every offset of an 8-byte word; and a
 * line longer than one read.
 */
START_TEST(escapes_everywhere)
{
	static const char specials[] = "\x01\t\n\r\x1f%\x7f";
	const char *path = tpath("state");
	struct state *st = state_new(), *st2;
	char id[40];
	char *huge = malloc(3u << 20);
	size_t nids = 0;

	ck_assert_ptr_nonnull(huge);
	for (size_t k = 0; k < sizeof specials - 1; k++)
		for (size_t off = 0; off < 24; off++) {
			memset(id, 'a', sizeof id - 1);
			id[sizeof id - 1] = '\0';
			id[off] = specials[k];
			id[off + 1] = (char)0xc3; /* UTF-8 lead byte next to it */
			ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/e", id, T0), 0);
			nids++;
		}
	memset(huge, 'x', (3u << 20) - 1);
	huge[(3u << 20) - 1] = '\0';
	huge[1u << 20] = '\n';
	ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/e", huge, T0), 0);
	save_ok(st, path);
	st2 = load_ok(path);
	ck_assert_uint_eq(state_nids(st2), nids + 1);
	for (size_t k = 0; k < sizeof specials - 1; k++)
		for (size_t off = 0; off < 24; off++) {
			memset(id, 'a', sizeof id - 1);
			id[sizeof id - 1] = '\0';
			id[off] = specials[k];
			id[off + 1] = (char)0xc3;
			ck_assert_msg(state_delivered(st2, "s", "http://127.0.0.1/e", id),
			              "byte %02x at %zu", (unsigned char)specials[k], off);
		}
	ck_assert(state_delivered(st2, "s", "http://127.0.0.1/e", huge));
	free(huge);
	state_free(st);
	state_free(st2);
}
END_TEST

START_TEST(feed_listing)
{
	struct state *st = state_new(), *st2;
	const char *urls[] = {"http://127.0.0.1/c", "http://127.0.0.1/a", "http://127.0.0.1/b"};
	int seen[3] = {0};

	for (int i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(state_feed(st, urls[i], 1));
	ck_assert_ptr_eq(state_feed(st, urls[0], 1), state_feed(st, urls[0], 0));
	ck_assert_int_eq(state_record(st, "s", urls[1], "1", T0), 0);
	ck_assert_int_eq(state_record(st, "t", urls[1], "1", T0), 0);
	ck_assert_int_eq(state_record(st, "s", urls[1], "2", T0), 0);
	save_ok(st, tpath("state"));
	st2 = load_ok(tpath("state"));
	ck_assert_uint_eq(state_nfeeds(st2), 3);
	ck_assert_ptr_null(state_feed_at(st2, 3));
	/* After a load, in URL order. */
	ck_assert_str_eq(state_feed_at(st2, 0)->url, urls[1]);
	ck_assert_str_eq(state_feed_at(st2, 1)->url, urls[2]);
	ck_assert_str_eq(state_feed_at(st2, 2)->url, urls[0]);
	for (size_t i = 0; i < state_nfeeds(st2); i++)
		for (int j = 0; j < 3; j++)
			seen[j] += str_eq(state_feed_at(st2, i)->url, urls[j]);
	ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	ck_assert_uint_eq(state_feed_nids(st2, urls[1]), 3);
	ck_assert_uint_eq(state_feed_nids(st2, urls[0]), 0);
	ck_assert_uint_eq(state_feed_nids(st2, "http://127.0.0.1/none"), 0);
	state_free(st);
	state_free(st2);
}
END_TEST

/* Times are written as dates and read back to the second, leap days included. */
START_TEST(times_roundtrip)
{
	static const struct {
		time_t t;
		const char *text;
	} known[] = {
	    {1, "1970-01-01T00:00:01Z"},
	    {951782400, "2000-02-29T00:00:00Z"},
	    {951868799, "2000-02-29T23:59:59Z"},
	    {4107542399LL, "2100-02-28T23:59:59Z"},
	    {4107542400LL, "2100-03-01T00:00:00Z"},
	    {253402300799LL, "9999-12-31T23:59:59Z"},
	};
	const char *path = tpath("state");
	struct state *st = state_new(), *st2;
	unsigned seed = 7;
	char url[64], *data;
	size_t n;

	for (int i = 0; i < 300; i++) {
		struct feed_state *fs;

		snprintf(url, sizeof url, "http://127.0.0.1/%d", i);
		fs = state_feed(st, url, 1);
		ck_assert_ptr_nonnull(fs);
		if (i < 6) {
			fs->last_fetch = known[i].t;
			continue;
		}
		fs->last_fetch = (time_t)(rand_r(&seed) % 2000000000) + 1;
		fs->first_failure = (time_t)(rand_r(&seed) % 86400) + 1;
		fs->retry_after = fs->last_fetch + rand_r(&seed) % 1000;
	}
	save_ok(st, path);
	data = slurp(path, &n);
	for (int i = 0; i < 6; i++)
		ck_assert_msg(strstr(data, known[i].text) != NULL, "%s", known[i].text);
	st2 = load_ok(path);
	for (int i = 0; i < 300; i++) {
		struct feed_state *a, *b;

		snprintf(url, sizeof url, "http://127.0.0.1/%d", i);
		a = state_feed(st, url, 0);
		b = state_feed(st2, url, 0);
		ck_assert_ptr_nonnull(b);
		ck_assert_int_eq(a->last_fetch, b->last_fetch);
		ck_assert_int_eq(a->first_failure, b->first_failure);
		ck_assert_int_eq(a->retry_after, b->retry_after);
	}
	free(data);
	state_free(st);
	state_free(st2);
}
END_TEST

/* Same content reached in a different order gives the same bytes, and load+save is identity. */
START_TEST(save_is_deterministic)
{
	const char *a = tpath("a"), *b = tpath("b"), *c = tpath("c");
	struct state *s1 = state_new(), *s2 = state_new(), *s3;
	char id[32], *da, *db, *dc;
	size_t na, nb, nc;
	const int n = 3000;

	for (int i = 0; i < n; i++) {
		int j = (i * 7919) % n; /* a permutation of 0..n-1 */
		char feed[32], sub[8];

		snprintf(id, sizeof id, "id-%d", i);
		snprintf(feed, sizeof feed, "http://f/%d", i % 13);
		snprintf(sub, sizeof sub, "s%d", i % 3);
		ck_assert_int_eq(state_record(s1, sub, feed, id, T0 + i), 0);
		snprintf(id, sizeof id, "id-%d", j);
		snprintf(feed, sizeof feed, "http://f/%d", j % 13);
		snprintf(sub, sizeof sub, "s%d", j % 3);
		ck_assert_int_eq(state_record(s2, sub, feed, id, T0 + j), 0);
	}
	/* Pruning then re-recording reuses freed slots: order must not leak out. */
	ck_assert_int_eq(state_feed_seen(s2, "http://f/5", NULL, 0, T0 + 400 * DAY, DAY), 0);
	for (int i = 5; i < n; i += 13) {
		snprintf(id, sizeof id, "id-%d", i);
		ck_assert_int_eq(state_record(s2,
		                              i % 3 == 0   ? "s0"
		                              : i % 3 == 1 ? "s1"
		                                           : "s2",
		                              "http://f/5", id, T0 + i),
		                 0);
	}
	save_ok(s1, a);
	save_ok(s2, b);
	da = slurp(a, &na);
	db = slurp(b, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(da, db, na) == 0);
	s3 = load_ok(a);
	save_ok(s3, c);
	dc = slurp(c, &nc);
	ck_assert_uint_eq(na, nc);
	ck_assert(memcmp(da, dc, na) == 0);
	free(da);
	free(db);
	free(dc);
	state_free(s1);
	state_free(s2);
	state_free(s3);
}
END_TEST

/*
 * Ids recorded while an attribute's "&" came out as "&#38;" (an Atom link
 * standing in for an id) still match the ids the parser gives now, and
 * stay refreshed while the feed holds them.
 */
START_TEST(legacy_ampersand_ids_match)
{
	const char *f = "http://127.0.0.1/f.xml";
	const time_t ret = 90 * DAY;
	char *present[] = {"http://e.org/p?id=5&lang=en&x=1"};
	struct state *st = state_new();

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(state_record(st, "s1", f, "http://e.org/p?id=5&#38;lang=en&#38;x=1", T0),
	                 0);
	ck_assert(state_delivered(st, "s1", f, "http://e.org/p?id=5&lang=en&x=1"));
	ck_assert(state_delivered(st, "s1", f, "http://e.org/p?id=5&#38;lang=en&#38;x=1"));
	ck_assert(!state_delivered(st, "s1", f, "http://e.org/p?id=5&lang=fr&x=1"));
	ck_assert(!state_delivered(st, "s2", f, "http://e.org/p?id=5&lang=en&x=1"));
	/* the feed still holds it (in the new form): never forgotten */
	ck_assert_int_eq(state_feed_seen(st, f, present, 1, T0 + 400 * DAY, ret), 0);
	ck_assert(state_delivered(st, "s1", f, "http://e.org/p?id=5&lang=en&x=1"));
	/* gone from the feed for longer than the retention: forgotten as any other */
	ck_assert_int_eq(state_feed_seen(st, f, NULL, 0, T0 + 400 * DAY + ret + 1, ret), 0);
	ck_assert(!state_delivered(st, "s1", f, "http://e.org/p?id=5&lang=en&x=1"));
	state_free(st);
}
END_TEST

/* ---------- pruning ---------- */

START_TEST(prune_rules)
{
	const char *f = "http://127.0.0.1/f.xml", *g = "http://127.0.0.1/g.xml";
	const time_t ret = 90 * DAY, now = T0 + 200 * DAY;
	char *present[] = {"a", "new-never-delivered"};
	struct state *st = state_new(), *st2;

	/* a: present, very old.  b: absent, old.  c: absent, exactly at the limit.  d: recent. */
	ck_assert_int_eq(state_record(st, "s1", f, "a", T0), 0);
	ck_assert_int_eq(state_record(st, "s2", f, "a", T0), 0);
	ck_assert_int_eq(state_record(st, "s1", f, "b", T0), 0);
	ck_assert_int_eq(state_record(st, "s2", f, "b", T0), 0);
	ck_assert_int_eq(state_record(st, "s1", f, "c", now - ret), 0);
	ck_assert_int_eq(state_record(st, "s1", f, "d", now - DAY), 0);
	ck_assert_int_eq(state_record(st, "s1", g, "b", T0), 0);
	ck_assert_int_eq(state_feed_seen(st, f, present, 2, now, ret), 0);
	ck_assert(state_delivered(st, "s1", f, "a"));
	ck_assert(state_delivered(st, "s2", f, "a"));
	ck_assert(!state_delivered(st, "s1", f, "b"));
	ck_assert(!state_delivered(st, "s2", f, "b"));
	ck_assert(state_delivered(st, "s1", f, "c"));
	ck_assert(state_delivered(st, "s1", f, "d"));
	ck_assert(state_delivered(st, "s1", g, "b")); /* another feed: untouched */
	ck_assert(!state_delivered(st, "s1", f, "new-never-delivered"));
	ck_assert_uint_eq(state_feed_nids(st, f), 4);
	ck_assert_uint_eq(state_nids(st), 5);

	/* Present with retention 0 and ancient last-seen: still never dropped. */
	ck_assert_int_eq(state_feed_seen(st, f, present, 1, now + 1000 * DAY, 0), 0);
	ck_assert(state_delivered(st, "s1", f, "a"));
	ck_assert(state_delivered(st, "s2", f, "a"));
	ck_assert(!state_delivered(st, "s1", f, "c"));
	ck_assert(!state_delivered(st, "s1", f, "d"));
	ck_assert_uint_eq(state_feed_nids(st, f), 2);

	/* a was refreshed: it survives its feed dropping it for less than retention. */
	ck_assert_int_eq(state_feed_seen(st, f, NULL, 0, now + 1000 * DAY + ret, ret), 0);
	ck_assert(state_delivered(st, "s1", f, "a"));
	ck_assert_int_eq(state_feed_seen(st, f, NULL, 0, now + 1000 * DAY + ret + 1, ret), 0);
	ck_assert(!state_delivered(st, "s1", f, "a"));
	ck_assert_uint_eq(state_feed_nids(st, f), 0);
	/* The subscriptions stay known even with nothing left. */
	ck_assert(state_sub_known(st, "s2"));
	/* Unknown feed: nothing to do, no record created. */
	ck_assert_int_eq(state_feed_seen(st, "http://127.0.0.1/none", present, 2, now, ret), 0);
	ck_assert_ptr_null(state_feed(st, "http://127.0.0.1/none", 0));

	save_ok(st, tpath("state"));
	st2 = load_ok(tpath("state"));
	ck_assert_uint_eq(state_nids(st2), 1);
	ck_assert(state_delivered(st2, "s1", g, "b"));
	ck_assert(state_sub_known(st2, "s2"));
	state_free(st);
	state_free(st2);
}
END_TEST

/* Many ids, random pruning: the hash table's deletion must keep every survivor findable. */
/*
 * One id recorded for many subscriptions is stored once: each record must
 * still be its own, apart from the same id in another feed and from an
 * id it is a prefix of, and outlive the forgetting of the first copy.
 */
START_TEST(shared_ids_stay_apart)
{
	const char *f = "http://127.0.0.1/f", *g = "http://127.0.0.1/g", *a = tpath("a"),
	           *b = tpath("b");
	struct state *st = state_new(), *back;
	char sub[16], *da, *db;
	size_t na, nb;

	for (int i = 0; i < 50; i++) {
		snprintf(sub, sizeof sub, "s%d", i);
		ck_assert_int_eq(state_record(st, sub, f, "ab", T0), 0);
		ck_assert_int_eq(state_record(st, sub, f, "a", T0), 0);
		if (i % 2 == 0)
			ck_assert_int_eq(state_record(st, sub, g, "a", T0), 0);
	}
	for (int i = 0; i < 50; i++) {
		snprintf(sub, sizeof sub, "s%d", i);
		ck_assert_int_eq(state_delivered(st, sub, f, "a"), 1);
		ck_assert_int_eq(state_delivered(st, sub, f, "ab"), 1);
		ck_assert_int_eq(state_delivered(st, sub, f, "abc"), 0);
		ck_assert_int_eq(state_delivered(st, sub, g, "a"), i % 2 == 0);
		ck_assert_int_eq(state_delivered(st, sub, g, "ab"), 0);
	}
	/* f's records are forgotten; a later record of the same id is new, and alone. */
	ck_assert_int_eq(state_feed_seen(st, f, NULL, 0, T0 + 400 * DAY, DAY), 0);
	ck_assert_int_eq(state_delivered(st, "s0", f, "a"), 0);
	ck_assert_int_eq(state_delivered(st, "s0", g, "a"), 1);
	ck_assert_int_eq(state_record(st, "late", f, "a", T0 + 400 * DAY), 0);
	ck_assert_int_eq(state_delivered(st, "late", f, "a"), 1);
	ck_assert_int_eq(state_delivered(st, "late", f, "ab"), 0);
	ck_assert_int_eq(state_delivered(st, "s1", f, "a"), 0);
	ck_assert_uint_eq(state_nids(st), 26);
	save_ok(st, a);
	back = load_ok(a);
	ck_assert_uint_eq(state_nids(back), 26);
	ck_assert_int_eq(state_delivered(back, "late", f, "a"), 1);
	ck_assert_int_eq(state_delivered(back, "s2", g, "a"), 1);
	ck_assert_int_eq(state_delivered(back, "s3", g, "a"), 0);
	save_ok(back, b);
	da = slurp(a, &na);
	db = slurp(b, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(da, db, na) == 0);
	free(da);
	free(db);
	state_free(st);
	state_free(back);
}
END_TEST

START_TEST(prune_many)
{
	enum { N = 40000 };
	static char idbuf[N][16];
	static char *present[N];
	const char *f = "http://127.0.0.1/big.xml";
	struct state *st = state_new();
	size_t np = 0;
	unsigned seed = 12345;

	for (int i = 0; i < N; i++) {
		snprintf(idbuf[i], sizeof idbuf[i], "%d", i);
		ck_assert_int_eq(state_record(st, "s", f, idbuf[i], T0), 0);
		ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/other", idbuf[i], T0), 0);
	}
	for (int i = 0; i < N; i++)
		if (rand_r(&seed) % 3 == 0)
			present[np++] = idbuf[i];
	ck_assert_int_eq(state_feed_seen(st, f, present, np, T0 + 100, 10), 0);
	ck_assert_uint_eq(state_feed_nids(st, f), np);
	ck_assert_uint_eq(state_nids(st), N + np);
	for (size_t i = 0, k = 0; i < N; i++) {
		int is = k < np && present[k] == idbuf[i];

		ck_assert_int_eq(state_delivered(st, "s", f, idbuf[i]), is);
		ck_assert(state_delivered(st, "s", "http://127.0.0.1/other", idbuf[i]));
		k += is;
	}
	/* Re-record everything: freed slots are reused, nothing duplicates. */
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(state_record(st, "s", f, idbuf[i], T0 + 200), 0);
	ck_assert_uint_eq(state_nids(st), 2 * N);
	state_free(st);
}
END_TEST

/* ---------- first run ---------- */

START_TEST(first_run)
{
	const char *path = tpath("sub/dir/state");
	struct state *st = load_ok(path), *st2;

	ck_assert_uint_eq(state_nids(st), 0);
	ck_assert(!state_sub_known(st, "john"));
	ck_assert(!state_sub_known(st, "mary"));
	ck_assert_int_eq(state_record(st, "john", "http://127.0.0.1/a", "x", T0), 0);
	ck_assert_int_eq(state_sub_touch(st, "mary"), 0);
	ck_assert(state_sub_known(st, "john"));
	ck_assert(state_sub_known(st, "mary"));
	ck_assert(!state_sub_known(st, "Mary"));
	/* Recording twice is harmless. */
	ck_assert_int_eq(state_record(st, "john", "http://127.0.0.1/a", "x", T0 + 1), 0);
	ck_assert_uint_eq(state_nids(st), 1);
	save_ok(st, path);
	st2 = load_ok(path);
	ck_assert(state_sub_known(st2, "john"));
	ck_assert(state_sub_known(st2, "mary"));
	ck_assert(!state_sub_known(st2, "bob"));
	state_free(st);
	state_free(st2);
}
END_TEST

/* ---------- files: modes, folders, nothing before save, temp files ---------- */

START_TEST(modes_and_folders)
{
	const char *path = tpath("new/deeper/state");
	struct state *st = state_new();
	struct stat sb;

	umask(0);
	ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/a", "1", T0), 0);
	save_ok(st, path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	ck_assert_int_eq(stat(tpath("new/deeper"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(tpath("new"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0700);
	/* A file made readable by others becomes 0600 again on the next save. */
	ck_assert_int_eq(chmod(path, 0644), 0);
	save_ok(st, path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	ck_assert_uint_eq(count_entries(tpath("new/deeper"), ""), 1);
	umask(022);
	state_free(st);
}
END_TEST

START_TEST(nothing_written_before_save)
{
	const char *path = tpath("state");
	struct state *st = state_new();
	struct feed_state *fs;
	char *before, *after;
	size_t nb, na;
	char *ids[] = {"y"};

	ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/a", "x", T0), 0);
	save_ok(st, path);
	state_free(st);
	before = slurp(path, &nb);
	st = load_ok(path);
	ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/a", "y", T0), 0);
	ck_assert_int_eq(state_sub_touch(st, "t"), 0);
	fs = state_feed(st, "http://127.0.0.1/b", 1);
	ck_assert_int_eq(state_set_str(&fs->etag, "e"), 0);
	ck_assert_int_eq(state_feed_seen(st, "http://127.0.0.1/a", ids, 1, T0 + 999 * DAY, 1), 0);
	after = slurp(path, &na);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(before, after, nb) == 0);
	ck_assert_uint_eq(count_entries(tmpdir, ""), 1);
	free(after);
	state_free(st);
	/* Not even a state file for a state never saved. */
	st = load_ok(tpath("other"));
	ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/a", "x", T0), 0);
	ck_assert_int_eq(access(tpath("other"), F_OK), -1);
	free(before);
	state_free(st);
}
END_TEST

START_TEST(stale_temps_removed)
{
	const char *path = tpath("state");
	struct state *st = state_new();

	spew(tpath("state.tmp.AbC123"), "junk", 4);
	spew(tpath("state.tmp.zzzzzz"), "junk", 4);
	spew(tpath("statefile.tmp.AbC123"), "not ours", 8);
	save_ok(st, path);
	ck_assert_uint_eq(count_entries(tmpdir, "state.tmp."), 0);
	ck_assert_int_eq(access(tpath("statefile.tmp.AbC123"), F_OK), 0);
	state_free(st);
}
END_TEST

START_TEST(save_error_is_reported)
{
	struct state *st = state_new();
	struct err e = {0};

	spew(tpath("file"), "x", 1);
	ck_assert_int_eq(state_save(st, tpath("file/state"), &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_ptr_nonnull(strstr(e.msg, "file"));
	state_free(st);
}
END_TEST

/* A write that fails half-way (here: the file size limit) leaves the old file and no temp file. */
START_TEST(failed_write_keeps_old_file)
{
	const char *path = tpath("state");
	struct state *st = state_new();
	struct rlimit rl = {4096, 4096};
	struct err e = {0};
	char id[64], *before, *after;
	size_t nb, na;

	ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/a", "first", T0), 0);
	save_ok(st, path);
	before = slurp(path, &nb);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "id-%d", i);
		ck_assert_int_eq(state_record(st, "s", "http://127.0.0.1/a", id, T0), 0);
	}
	/* Check runs each test in its own process: the limit dies with it. */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(state_save(st, path, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_msg(strstr(e.msg, "cannot write") != NULL, "%s", e.msg);
	after = slurp(path, &na);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(before, after, nb) == 0);
	ck_assert_uint_eq(count_entries(tmpdir, ""), 1);
	free(before);
	free(after);
	state_free(st);
}
END_TEST

/* ---------- corruption ---------- */

static const char good[] =
    "tidings-state 1\n"
    "# comment\n"
    "feed\thttp://127.0.0.1/a\t\"e\"\t-\t2023-11-14T22:13:20Z\t200\t0\t-\t-\t0\t-\n"
    "sub\tjohn\n"
    "item\tjohn\thttp://127.0.0.1/a\tid%091\t2023-11-14T22:13:20Z\t2023-11-14T22:13:20Z\n"
    "item\tjohn\thttp://127.0.0.1/a\tid2\t2023-11-14T22:13:20Z\t2023-11-15T22:13:20Z\n"
    "end\t4\n";

#define FEED        "feed\thttp://127.0.0.1/a\t-\t-\t-\t0\t0\t-\t-\t0\t-\n"
#define SUB         "sub\tjohn\n"
#define ITEM(id, t) "item\tjohn\thttp://127.0.0.1/a\t" id "\t" t "\t" t "\n"
#define T           "2023-11-14T22:13:20Z"
#define BAD_TIME    "bad time (want YYYY-MM-DDTHH:MM:SSZ or -)"

static const struct {
	const char *text;
	int line;
	const char *why;
} corrupt[] = {
    {"", 1, "empty file"},
    {"tidings-state 1\n" FEED SUB ITEM("x", T), 5, "truncated (no end record)"},
    {"tidings-state 1\n" FEED SUB "item\tjohn\thttp://127.0.0.1/a\tx\t2023-11", 4,
     "truncated (last line has no newline)"},
    {"tidings-state 1\n" FEED SUB "end\t2", 4, "truncated (last line has no newline)"},
    {"tidings-state 1\n" FEED "hello world\n" SUB "end\t2\n", 3, "unknown record type"},
    {"tidings-state 1\n" FEED "\n"
     "end\t1\n",
     3, "empty line"},
    {"tidings-state 1\n" FEED SUB "item\tjohn\thttp://127.0.0.1/a\tx\n"
     "end\t3\n",
     4, "item record has 4 fields, want 6"},
    {"tidings-state 1\nfeed\thttp://127.0.0.1/a\t-\t-\t-\t0\t0\t-\t-\t0\n"
     "end\t1\n",
     2, "feed record has 10 fields, want 11"},
    {"tidings-state 1\nfeed\thttp://127.0.0.1/a\t-\t-\t-\t0\t0\t-\t-\t0\t-\t-\tx\n"
     "end\t1\n",
     2, "feed record has 13 fields, want 12"},
    {"tidings-state 1\nfeed\thttp://127.0.0.1/a\t-\t-\t-\tabc\t0\t-\t-\t0\t-\n"
     "end\t1\n",
     2, "bad number"},
    {"tidings-state 1\nfeed\thttp://127.0.0.1/a\t-\t-\t-\t0\t-1\t-\t-\t0\t-\n"
     "end\t1\n",
     2, "bad number"},
    {"tidings-state 1\nfeed\thttp://127.0.0.1/a\t-\t-\t-\t0\t99999999999999999\t-\t-\t0\t-\n"
     "end\t1\n",
     2, "bad number"},
    {"tidings-state 1\nfeed\thttp://127.0.0.1/a\t-\t-\t-\t0\t0\t-\t-\t2\t-\n"
     "end\t1\n",
     2, "bad number"},
    {"tidings-state 1\n" FEED SUB ITEM("x", "2023-13-14T22:13:20Z") "end\t3\n", 4, BAD_TIME},
    {"tidings-state 1\n" FEED SUB ITEM("x", "2023-02-29T22:13:20Z") "end\t3\n", 4, BAD_TIME},
    {"tidings-state 1\n" FEED SUB ITEM("x", "1700000000") "end\t3\n", 4, BAD_TIME},
    {"tidings-state 1\n" FEED SUB ITEM("x%4", T) "end\t3\n", 4, "bad %XX escape"},
    {"tidings-state 1\n" FEED SUB ITEM("x%zz", T) "end\t3\n", 4, "bad %XX escape"},
    {"tidings-state 1\n" FEED SUB ITEM("x%00", T) "end\t3\n", 4, "bad %XX escape"},
    {"tidings-state 1\n" FEED SUB ITEM("x", T) ITEM("x", T) "end\t4\n", 5, "duplicate item record"},
    {"tidings-state 1\n" FEED FEED "end\t2\n", 3, "duplicate feed record"},
    {"tidings-state 1\n" FEED ITEM("x", T) "end\t2\n", 3,
     "item of a subscription with no sub record"},
    {"tidings-state 1\n" SUB ITEM("x", T) "end\t2\n", 3, "item of a feed with no feed record"},
    {"tidings-state 1\n" FEED SUB ITEM("x", T) "end\t4\n", 5,
     "record count does not match the end record (truncated?)"},
    {"tidings-state 1\n" FEED "end\t1\n" SUB, 4, "data after the end record"},
    {"tidings-state 1\n" FEED SUB ITEM("x", T) ITEM("y", T) "end\t4\n"
                                                            "end\t4\n",
     7, "data after the end record"},
    {"<?xml version=\"1.0\"?>\n", 1, "not a tidings state file (no \"tidings-state N\" line)"},
    {"tidings-state one\nend\t0\n", 1, "not a tidings state file (no \"tidings-state N\" line)"},
    {ITEM("x", T) "end\t1\n", 1, "not a tidings state file (no \"tidings-state N\" line)"},
    {"tidings-state 3\nwhatever\tnew\n", 1,
     "written by a newer tidings (state format 3; this tidings reads 2): upgrade tidings"},
    /* A recipient field is version 2's: in a version 1 file it is garbage. */
    {"tidings-state 1\n" FEED SUB "item\tjohn\thttp://127.0.0.1/a\tx\t" T "\t" T "\tann@x.org\n"
     "end\t3\n",
     4, "item record has 7 fields, want 6"},
    {"tidings-state 2\n" FEED SUB "item\tjohn\thttp://127.0.0.1/a\tx\t" T "\t" T "\t\n"
     "end\t3\n",
     4, "empty recipient"},
    {"tidings-state 2\n" FEED "sub\tjo%1Fhn\n"
     "end\t2\n",
     3, "bad character (%1F) in a subscription name"},
    {"tidings-state 2\n" FEED SUB ITEM("x", T) ITEM("x", T) "end\t4\n", 5, "duplicate item record"},
    /* Version 2 item records are read only when asked for (state_open): the same words. */
    {"tidings-state 2\n" FEED SUB ITEM("x", "1700000000") "end\t3\n", 4, BAD_TIME},
    {"tidings-state 2\n" FEED SUB ITEM("x%zz", T) "end\t3\n", 4, "bad %XX escape"},
    {"tidings-state 2\n" FEED SUB ITEM("x", T) "end\t4\n", 5,
     "record count does not match the end record (truncated?)"},
    {"tidings-state 2\n" FEED SUB ITEM("x", T) "sub\tbob\n"
                                               "end\t4\n",
     5, "feed and sub records come before the item records"},
    {"tidings-state 2\n" FEED SUB ITEM("x", T) FEED "end\t4\n", 5,
     "feed and sub records come before the item records"},
    {"tidings-state 2\n" FEED SUB ITEM("x", T) "end\t3\n"
                                               "end\t3\n",
     6, "data after the end record"},
    {"tidings-state 2\n" FEED SUB "item\tjohn\thttp://127.0.0.1/a\tx\t" T "\t" T "\tann@x.org\n"
     "item\tjohn\thttp://127.0.0.1/a\tx\t" T "\t" T "\tann@x.org\n"
     "end\t4\n",
     5, "duplicate item record"},
};

/* e says what is wrong with corrupt[i], at its line, and its file at path is as written. */
static void
assert_refused(const char *path, int i, const struct err *e)
{
	const size_t len = strlen(corrupt[i].text);
	char want[1024], *data;
	size_t n;

	ck_assert_int_eq(e->code, EX_IOERR);
	snprintf(want, sizeof want, "%s:%d: %s", path, corrupt[i].line, corrupt[i].why);
	ck_assert_str_eq(e->msg, want);
	data = slurp(path, &n);
	ck_assert_uint_eq(n, len);
	ck_assert(memcmp(data, corrupt[i].text, len) == 0);
	free(data);
}

START_TEST(corrupt_files_refused_untouched)
{
	const char *path = tpath("state");
	struct state *st = (struct state *)&st;
	struct err e = {0};
	struct stat before, after;

	spew(path, corrupt[_i].text, strlen(corrupt[_i].text));
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_int_eq(state_load(path, &st, &e), -1);
	ck_assert_ptr_null(st);
	assert_refused(path, _i, &e);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
	          before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
	ck_assert_uint_eq(count_entries(tmpdir, ""), 1);
}
END_TEST

/* The line of text's first item record (0: none); does its last line hold an end record? */
static int
first_item_line(const char *text, int *ends)
{
	const char *last = strrchr(text, '\n'), *p = text;
	int line = 1;

	for (; last != NULL && last > text && last[-1] != '\n'; last--)
		continue;
	*ends = last != NULL && strncmp(last, "end\t", 4) == 0;
	for (; *p != '\0'; line++, p = strchr(p, '\n') + 1)
		if (strncmp(p, "item\t", 5) == 0)
			return line;
		else if (strchr(p, '\n') == NULL)
			break;
	return 0;
}

/*
 * state_open defers the item records to state_load_items: the damage of
 * a version 2 file that ends with its end record, at or after its first
 * item record, is found by state_load_items, any other by state_open,
 * each in the words and at the line state_load gives.
 */
START_TEST(corrupt_files_refused_when_opened)
{
	const char *path = tpath("state"), *text = corrupt[_i].text;
	struct state *st = NULL;
	struct err e = {0};
	int ends, item = first_item_line(text, &ends);
	int late = strncmp(text, "tidings-state 2\n", 16) == 0 && ends && item > 0 &&
	           corrupt[_i].line >= item;

	spew(path, text, strlen(text));
	ck_assert_int_eq(state_open(path, &st, &e) == 0, late);
	if (late) {
		ck_assert_ptr_nonnull(st);
		ck_assert_int_eq(state_load_items(st, &e), -1);
		memset(&e, 0, sizeof e);
		ck_assert_int_eq(state_load_items(st, &e), -1); /* and again */
		state_free(st);
	} else {
		ck_assert_ptr_null(st);
	}
	assert_refused(path, _i, &e);
}
END_TEST

/* Opened, a file's feeds and subscriptions are there; its items wait to be asked for. */
START_TEST(open_leaves_the_items_unread)
{
	static const char text[] = "tidings-state 2\n" FEED SUB ITEM("x", "1700000000") "end\t3\n";
	static const char whole[] = "tidings-state 2\n" FEED SUB ITEM("x", "1700000000");
	struct state *st = NULL;
	struct err e = {0};

	spew(tpath("state"), text, sizeof text - 1);
	ck_assert_msg(state_open(tpath("state"), &st, &e) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(state_feed(st, "http://127.0.0.1/a", 0));
	ck_assert_int_eq(state_sub_known(st, "john"), 1);
	ck_assert_int_eq(state_load_items(st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ":4: bad time"));
	state_free(st);
	/* Without its end record (truncated), a file is read whole at once. */
	spew(tpath("state"), whole, sizeof whole - 1);
	ck_assert_int_eq(state_open(tpath("state"), &st, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ":4: bad time"));
}
END_TEST

START_TEST(good_file_loads)
{
	struct state *st;

	spew(tpath("state"), good, sizeof good - 1);
	st = load_ok(tpath("state"));
	ck_assert_uint_eq(state_nids(st), 2);
	ck_assert(state_delivered(st, "john", "http://127.0.0.1/a", "id\t1"));
	ck_assert(state_delivered(st, "john", "http://127.0.0.1/a", "id2"));
	ck_assert_str_eq(state_feed(st, "http://127.0.0.1/a", 0)->etag, "\"e\"");
	ck_assert_int_eq(state_feed(st, "http://127.0.0.1/a", 0)->last_status, 200);
	state_free(st);
}
END_TEST

/*
 * Per-recipient records: ann has x, bob does not; the subscription as a
 * whole has y.  A saved state names the recipient in a seventh field, a
 * reload gives the same answers, and once the subscription's own record
 * covers x, ann's record goes at the next save.
 */
START_TEST(per_recipient_records)
{
	const char *f = "http://127.0.0.1/a", *path = tpath("state");
	struct state *st = state_new(), *st2;
	char *data;
	size_t n;

	ck_assert_ptr_nonnull(st);
	ck_assert(!state_sub_split(st, "s"));
	ck_assert_int_eq(state_record_to(st, "s", "ann@x.org", f, "x", T0), 0);
	ck_assert(state_sub_split(st, "s"));
	ck_assert(!state_sub_split(st, "t"));
	ck_assert_int_eq(state_record_to(st, "s", NULL, f, "y", T0), 0);
	ck_assert(state_sub_known(st, "s"));
	ck_assert(state_delivered_to(st, "s", "ann@x.org", f, "x"));
	ck_assert(!state_delivered_to(st, "s", "bob@x.org", f, "x"));
	ck_assert(!state_delivered(st, "s", f, "x"));
	ck_assert(!state_delivered_to(st, "s", NULL, f, "x"));
	ck_assert(state_delivered_to(st, "s", "bob@x.org", f, "y"));
	ck_assert(!state_delivered_to(st, "t", "ann@x.org", f, "x"));
	ck_assert_int_eq(state_save(st, path, &(struct err){0}), 0);
	data = slurp(path, &n);
	ck_assert_msg(strstr(data, "tidings-state 2\n") == data, "%s", data);
	ck_assert_msg(strstr(data, "\nsub\ts\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "\nitem\ts\thttp://127.0.0.1/a\tx\t2023-11-14T22:13:20Z\t"
	                           "2023-11-14T22:13:20Z\tann@x.org\n") != NULL &&
	                  strstr(data, "\nend\t4\n") != NULL,
	              "%s", data);
	free(data);
	st2 = load_ok(path);
	ck_assert(state_delivered_to(st2, "s", "ann@x.org", f, "x"));
	ck_assert(!state_delivered_to(st2, "s", "bob@x.org", f, "x"));
	ck_assert(state_delivered_to(st2, "s", "bob@x.org", f, "y"));
	ck_assert(!state_delivered(st2, "s", f, "x"));
	/* bob gets x later: the subscription's record now covers ann's. */
	ck_assert_int_eq(state_record(st2, "s", f, "x", T0 + 1), 0);
	ck_assert_int_eq(state_save(st2, path, &(struct err){0}), 0);
	data = slurp(path, &n);
	ck_assert_msg(strstr(data, "ann@x.org") == NULL && strstr(data, "\nend\t4\n") != NULL, "%s",
	              data);
	free(data);
	state_free(st);
	state_free(st2);
}
END_TEST

/* A version 1 file: its records are the subscription's, so every recipient has them. */
START_TEST(version_1_counts_for_every_recipient)
{
	struct state *st;
	char *data;
	size_t n;

	spew(tpath("state"), good, sizeof good - 1);
	st = load_ok(tpath("state"));
	ck_assert(state_delivered_to(st, "john", "ann@x.org", "http://127.0.0.1/a", "id2"));
	ck_assert(state_delivered_to(st, "john", "bob@x.org", "http://127.0.0.1/a", "id\t1"));
	ck_assert_int_eq(state_save(st, tpath("state"), &(struct err){0}), 0);
	data = slurp(tpath("state"), &n);
	/* Written back as version 2, the same records otherwise. */
	ck_assert_msg(strncmp(data, "tidings-state 2\n", 16) == 0, "%s", data);
	ck_assert_msg(strstr(data, "item\tjohn\thttp://127.0.0.1/a\tid2\t2023-11-14T22:13:20Z\t"
	                           "2023-11-15T22:13:20Z\n") != NULL,
	              "%s", data);
	free(data);
	state_free(st);
}
END_TEST

/*
 * A feed line of a file written before MOVED-TO existed has 11 fields: it
 * loads as "no move reported", and is saved with the 12th field.
 */
START_TEST(old_feed_line_loads_without_move)
{
	static const char old[] =
	    "tidings-state 1\n"
	    "feed\thttp://127.0.0.1/a\t\"e\"\t-\t2023-11-14T22:13:20Z\t503\t2\t"
	    "2023-11-14T22:13:20Z\t-\t0\tHTTP 503\n"
	    "feed\thttp://127.0.0.1/b\t-\t-\t2023-11-14T22:13:20Z\t200\t0\t-\t-\t0\t-\t"
	    "https://new.example/b%09\n"
	    "end\t2\n";
	struct state *st;
	struct feed_state *fs;
	char *data;
	size_t n;

	spew(tpath("state"), old, sizeof old - 1);
	st = load_ok(tpath("state"));
	fs = state_feed(st, "http://127.0.0.1/a", 0);
	ck_assert_ptr_nonnull(fs);
	ck_assert_ptr_null(fs->moved_to);
	ck_assert_str_eq(fs->last_error, "HTTP 503");
	ck_assert_int_eq(fs->failures, 2);
	ck_assert_int_eq(fs->gone, 0);
	fs = state_feed(st, "http://127.0.0.1/b", 0);
	ck_assert_ptr_nonnull(fs);
	ck_assert_ptr_null(fs->last_error);
	ck_assert_str_eq(fs->moved_to, "https://new.example/b\t");
	save_ok(st, tpath("state"));
	state_free(st);
	data = slurp(tpath("state"), &n);
	ck_assert_msg(strstr(data, "\t0\tHTTP 503\t-\n") != NULL, "%s", data);
	ck_assert_msg(strstr(data, "\t0\t-\thttps://new.example/b%09\n") != NULL, "%s", data);
	free(data);
	st = load_ok(tpath("state"));
	ck_assert_ptr_null(state_feed(st, "http://127.0.0.1/a", 0)->moved_to);
	ck_assert_str_eq(state_feed(st, "http://127.0.0.1/b", 0)->moved_to,
	                 "https://new.example/b\t");
	state_free(st);
}
END_TEST

/* A NUL byte in the middle of a line cannot be written by tidings: garbage. */
START_TEST(nul_byte_refused)
{
	const char text[] = "tidings-state 1\n" FEED SUB "item\tjohn\thttp://127.0.0.1/a\tx\0y\t" T
	                    "\t" T "\nend\t3\n";
	struct state *st;
	struct err e = {0};
	char want[1024];

	spew(tpath("state"), text, sizeof text - 1);
	ck_assert_int_eq(state_load(tpath("state"), &st, &e), -1);
	snprintf(want, sizeof want, "%s:4: NUL byte", tpath("state"));
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(e.code, EX_IOERR);
}
END_TEST

START_TEST(unreadable_is_error)
{
	struct state *st;
	struct err e = {0};

	ck_assert_int_eq(mkdir(tpath("adir"), 0700), 0);
	ck_assert_int_eq(state_load(tpath("adir"), &st, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_ptr_nonnull(strstr(e.msg, "adir"));
}
END_TEST

/* ---------- atomic replace under SIGKILL ---------- */

#define TORTURE_FEED  "http://127.0.0.1/torture.xml"
#define TORTURE_BATCH 100

static void
check_torture_state(const char *path, size_t *prev)
{
	struct state *st = load_ok(path);
	struct feed_state *fs;
	size_t k = state_feed_nids(st, TORTURE_FEED);
	char id[64], etag[32];

	ck_assert_uint_eq(k % TORTURE_BATCH, 0);
	ck_assert_uint_ge(k, *prev);
	ck_assert_uint_eq(state_nids(st), k + 5000);
	if (k > 0) {
		fs = state_feed(st, TORTURE_FEED, 0);
		snprintf(etag, sizeof etag, "%zu", k);
		ck_assert_ptr_nonnull(fs);
		ck_assert_str_eq(fs->etag, etag);
	}
	for (size_t i = 0; i < k + 50; i++) {
		snprintf(id, sizeof id, "tag:torture,2026:%08zu", i);
		ck_assert_int_eq(state_delivered(st, "torture", TORTURE_FEED, id), i < k);
	}
	*prev = k;
	state_free(st);
}

START_TEST(atomic_under_sigkill)
{
	char path[4096];
	struct state *st = state_new();
	struct timespec ts;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	size_t prev = 0, kills = 0, stalls = 0;
	char id[160];

	ck_assert_int_lt(snprintf(path, sizeof path, "%s/t/state", tmpdir), (int)sizeof path);
	/* Ballast so each save takes long enough to be interrupted mid-write. */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "ballast-%d-%0100d", i, i);
		ck_assert_int_eq(state_record(st, "ballast", "http://127.0.0.1/b.xml", id, T0), 0);
	}
	save_ok(st, path);
	state_free(st);
	ck_assert_msg(access(torture_path, X_OK) == 0, "no torture program at %s", torture_path);
	for (int round = 0; round < 40; round++) {
		size_t before;
		unsigned ms;
		int status;
		pid_t pid = fork();

		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			execl(torture_path, torture_path, path, (char *)NULL);
			_exit(127);
		}
		/* 1-60 ms; longer while no save completes (a slow machine, sanitizers). */
		ms = (1 + rand_r(&seed) % 60) * (1 + stalls);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "torture exited %d on its own (seed %u)",
		              WEXITSTATUS(status), seed);
		kills++;
		before = prev;
		check_torture_state(path, &prev);
		stalls = prev == before ? stalls + 1 : 0;
		/* At most the one temp file the killed save left; the next save removes it. */
		ck_assert_uint_le(count_entries(tpath("t"), "state.tmp."), 1);
	}
	ck_assert_uint_eq(kills, 40);
	ck_assert_uint_gt(prev, 0); /* some saves completed */
}
END_TEST

/* ---------- saving only what changed ---------- */

#define UF "http://127.0.0.1/u"

/* A state as a run leaves it: two items of UF for sub s (one to a recipient only), validators. */
static void
unchanged_fixture(const char *path)
{
	struct state *st = state_new();
	struct feed_state *fs;

	ck_assert_int_eq(state_record(st, "s", UF, "a", T0), 0);
	ck_assert_int_eq(state_record_to(st, "s", "r@x", UF, "b", T0), 0);
	ck_assert_ptr_nonnull(fs = state_feed(st, UF, 1));
	ck_assert_int_eq(state_set_str(&fs->etag, "\"v1\""), 0);
	fs->last_fetch = T0;
	fs->last_status = 200;
	save_ok(st, path);
	state_free(st);
}

/* Save st to path: 1 if the file was written (a new file, by rename), 0 if left alone. */
static int
rewritten(struct state *st, const char *path)
{
	struct stat a, b;

	ck_assert_int_eq(stat(path, &a), 0);
	save_ok(st, path);
	ck_assert_int_eq(stat(path, &b), 0);
	return a.st_ino != b.st_ino;
}

/*
 * A run where nothing changed (the same validators set again, every id
 * asked about, ids still present seen at a time already recorded) leaves
 * the file alone: same bytes, same inode, same mtime.
 */
START_TEST(unchanged_state_not_rewritten)
{
	const char *path = tpath("state");
	char *ids[] = {"a", "b"}, *before, *after;
	struct state *st;
	struct feed_state *fs;
	struct stat a, b;
	size_t na, nb;

	unchanged_fixture(path);
	before = slurp(path, &na);
	ck_assert_int_eq(stat(path, &a), 0);
	st = load_ok(path);
	ck_assert_int_eq(state_changed(st), 0);
	ck_assert_ptr_nonnull(fs = state_feed(st, UF, 1));
	ck_assert_int_eq(state_set_str(&fs->etag, "\"v1\""), 0);
	fs->last_fetch = T0;
	ck_assert_int_eq(state_sub_touch(st, "s"), 0);
	ck_assert_int_eq(state_pair_known(st, "s", UF), 1);
	ck_assert_int_eq(state_delivered_to(st, "s", "r@x", UF, "b"), 1);
	ck_assert_int_eq(state_record(st, "s", UF, "a", T0), 0);
	ck_assert_int_eq(state_feed_seen(st, UF, ids, 2, T0, DAY), 0);
	ck_assert_int_eq(state_changed(st), 0);
	save_ok(st, path);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_int_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	ck_assert_int_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	after = slurp(path, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(before, after, na) == 0);
	/* Saved elsewhere, it is written there. */
	save_ok(st, tpath("other"));
	ck_assert_int_eq(access(tpath("other"), F_OK), 0);
	free(before);
	free(after);
	state_free(st);
}
END_TEST

/* What a run changes, one at a time: each is written, and only once. */
static void
change_etag(struct state *st)
{
	ck_assert_int_eq(state_set_str(&state_feed(st, UF, 0)->etag, "\"v2\""), 0);
}

static void
change_last_fetch(struct state *st)
{
	state_feed(st, UF, 0)->last_fetch = T0 + 60;
}

static void
change_failures(struct state *st)
{
	state_feed(st, UF, 0)->failures = 1;
}

static void
change_new_item(struct state *st)
{
	ck_assert_int_eq(state_record(st, "s", UF, "c", T0 + 60), 0);
}

static void
change_new_recipient_item(struct state *st)
{
	ck_assert_int_eq(state_record_to(st, "s", "q@x", UF, "d", T0 + 60), 0);
}

static void
change_last_seen(struct state *st)
{
	char *ids[] = {"a", "b"};

	ck_assert_int_eq(state_feed_seen(st, UF, ids, 2, T0 + 60, DAY), 0);
}

static void
change_pruned(struct state *st)
{
	ck_assert_int_eq(state_feed_seen(st, UF, NULL, 0, T0 + 2 * DAY, DAY), 0);
}

static void
change_new_sub(struct state *st)
{
	ck_assert_int_eq(state_sub_touch(st, "t"), 0);
}

static void
change_new_feed(struct state *st)
{
	ck_assert_ptr_nonnull(state_feed(st, "http://127.0.0.1/v", 1));
}

static void (*const changes[])(struct state *) = {
    change_etag,
    change_last_fetch,
    change_failures,
    change_new_item,
    change_new_recipient_item,
    change_last_seen,
    change_pruned,
    change_new_sub,
    change_new_feed,
};

START_TEST(changed_state_rewritten)
{
	const char *path = tpath("state");
	struct state *st, *back;

	unchanged_fixture(path);
	st = load_ok(path);
	changes[_i](st);
	ck_assert_int_eq(state_changed(st), 1);
	ck_assert_int_eq(rewritten(st, path), 1);
	/* Saved, it matches its file again. */
	ck_assert_int_eq(state_changed(st), 0);
	ck_assert_int_eq(rewritten(st, path), 0);
	back = load_ok(path);
	changes[_i](back);
	ck_assert_int_eq(state_changed(back), 0); /* the change is in the file */
	state_free(back);
	state_free(st);
}
END_TEST

/* Open st from path and read its items: what state_load gives. */
static struct state *
open_ok(const char *path, int items)
{
	struct err e = {0};
	struct state *st = NULL;

	ck_assert_msg(state_open(path, &st, &e) == 0, "open: %s", e.msg);
	ck_assert_msg(!items || state_load_items(st, &e) == 0, "items: %s", e.msg);
	return st;
}

/*
 * Reading the items late changes nothing about what is saved: a state
 * opened and read is unchanged; a change made before its items were read
 * (a run's feed records, a new subscription) is still a change, and the
 * save writes it with every item, whether or not they were read.
 */
START_TEST(items_read_late_change_nothing)
{
	char path[4096];
	struct state *st, *back;
	char *before, *after;
	size_t na, nb;

	snprintf(path, sizeof path, "%s", tpath("state")); /* tpath's buffers are reused */
	unchanged_fixture(path);
	before = slurp(path, &na);
	st = open_ok(path, 1);
	ck_assert_int_eq(state_changed(st), 0);
	ck_assert_int_eq(state_delivered_to(st, "s", "r@x", UF, "b"), 1);
	ck_assert_int_eq(rewritten(st, path), 0);
	state_free(st);
	for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		if (changes[i] != change_etag && changes[i] != change_new_sub &&
		    changes[i] != change_new_feed)
			continue; /* the others are of items */
		st = open_ok(path, 0);
		changes[i](st);
		ck_assert_int_eq(state_changed(st), 1);
		ck_assert_int_eq(state_load_items(st, &(struct err){0}), 0);
		ck_assert_int_eq(state_changed(st), 1);
		state_free(st);
		st = open_ok(path, 0);
		changes[i](st);
		unlink(tpath("copy"));
		save_ok(st, tpath("copy")); /* its items unread: the save reads them */
		back = load_ok(tpath("copy"));
		ck_assert_uint_eq(state_nids(back), 2);
		ck_assert_int_eq(state_delivered(back, "s", UF, "a"), 1);
		ck_assert_int_eq(state_delivered_to(back, "s", "r@x", UF, "b"), 1);
		changes[i](back);
		ck_assert_int_eq(state_changed(back), 0);
		state_free(back);
		state_free(st);
	}
	/* Only feed records changed, items unread: the journal may take them. */
	st = open_ok(path, 0);
	change_last_fetch(st);
	ck_assert_int_eq(state_feeds_only_changed(st, path), 1);
	state_free(st);
	after = slurp(path, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(before, after, na) == 0);
	free(before);
	free(after);
}
END_TEST

/* An old form is written back in the current one though nothing changed. */
START_TEST(old_forms_rewritten)
{
	const char *path = tpath("state");
	static const char v1[] = "tidings-state 1\nfeed\thttp://f\t-\t-\t-\t0\t0\t-\t-\t0\t-\t-\n"
	                         "end\t1\n";
	static const char f11[] = "tidings-state 2\nfeed\thttp://f\t-\t-\t-\t0\t0\t-\t-\t0\t-\n"
	                          "end\t1\n";
	struct state *st;

	spew(path, v1, sizeof v1 - 1);
	st = load_ok(path);
	ck_assert_int_eq(rewritten(st, path), 1);
	state_free(st);
	spew(path, f11, sizeof f11 - 1);
	st = load_ok(path);
	ck_assert_int_eq(rewritten(st, path), 1);
	ck_assert_int_eq(rewritten(st, path), 0);
	state_free(st);
}
END_TEST

int
main(int argc, char **argv)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");
	TCase *tt = tcase_create("torture");
	const char *env = getenv("STATE_TORTURE");
	char self[4096];
	SRunner *sr;
	int failed;

	(void)argc;
	if (env != NULL && *env)
		snprintf(torture_path, sizeof torture_path, "%s", env);
	else {
		snprintf(self, sizeof self, "%s", argv[0]);
		snprintf(torture_path, sizeof torture_path, "%s/state_torture", dirname(self));
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, roundtrip_hostile);
	tcase_add_test(tc, per_recipient_records);
	tcase_add_test(tc, version_1_counts_for_every_recipient);
	tcase_add_test(tc, file_is_readable_text);
	tcase_add_test(tc, escapes_everywhere);
	tcase_add_test(tc, shared_ids_stay_apart);
	tcase_add_test(tc, feed_listing);
	tcase_add_test(tc, times_roundtrip);
	tcase_add_test(tc, save_is_deterministic);
	tcase_add_test(tc, prune_rules);
	tcase_add_test(tc, legacy_ampersand_ids_match);
	tcase_add_test(tc, prune_many);
	tcase_add_test(tc, first_run);
	tcase_add_test(tc, modes_and_folders);
	tcase_add_test(tc, unchanged_state_not_rewritten);
	tcase_add_loop_test(tc, changed_state_rewritten, 0, sizeof changes / sizeof changes[0]);
	tcase_add_test(tc, old_forms_rewritten);
	tcase_add_test(tc, items_read_late_change_nothing);
	tcase_add_test(tc, nothing_written_before_save);
	tcase_add_test(tc, stale_temps_removed);
	tcase_add_test(tc, save_error_is_reported);
	if (getenv("CK_FORK") == NULL || strcmp(getenv("CK_FORK"), "no") != 0)
		tcase_add_test(tc, failed_write_keeps_old_file);
	tcase_add_loop_test(tc, corrupt_files_refused_untouched, 0,
	                    sizeof corrupt / sizeof corrupt[0]);
	tcase_add_loop_test(tc, corrupt_files_refused_when_opened, 0,
	                    sizeof corrupt / sizeof corrupt[0]);
	tcase_add_test(tc, open_leaves_the_items_unread);
	tcase_add_test(tc, good_file_loads);
	tcase_add_test(tc, old_feed_line_loads_without_move);
	tcase_add_test(tc, nul_byte_refused);
	tcase_add_test(tc, unreadable_is_error);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tt, setup, teardown);
	tcase_add_test(tt, atomic_under_sigkill);
	suite_add_tcase(s, tt);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
