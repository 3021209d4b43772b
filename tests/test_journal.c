/*
 * Unit tests for src/journal.c: what an accepted digest writes, what a
 * crash leaves, what the next load replays, and the proof that the state
 * can be written.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "journal.h"
#include "state.h"

static char dir[64], state_path[128], journal_path[160];

static void
setup(void)
{
	strcpy(dir, "/tmp/tjournal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state_path, sizeof state_path, "%s/state", dir);
	snprintf(journal_path, sizeof journal_path, "%s.journal", state_path);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
append_raw(const char *text)
{
	FILE *f = fopen(journal_path, "a");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static struct state *
replayed(void)
{
	struct state *st = state_new();
	struct err e = {0};

	ck_assert_ptr_nonnull(st);
	ck_assert_msg(journal_replay(state_path, st, &e) == 0, "%s", e.msg);
	return st;
}

/* Committed groups are replayed; a group a crash cut short is not. */
START_TEST(committed_groups_only)
{
	static const char odd[] = "tab\there, newline\nthere, 100% \x7f";
	struct journal *j;
	struct state *st;
	struct err e = {0};

	st = replayed(); /* no journal: nothing, no error */
	ck_assert_uint_eq(state_nids(st), 0);
	state_free(st);
	ck_assert_int_eq(journal_open(state_path, &j, &e), 0);
	ck_assert_int_eq(journal_add(j, "john", NULL, "http://a/feed", "1", 1000), 0);
	ck_assert_int_eq(journal_add(j, "john", NULL, "http://a/feed", odd, 1000), 0);
	ck_assert_int_eq(journal_commit(j, &e), 0);
	ck_assert_int_eq(journal_add(j, "mary", NULL, "http://a/feed", "1", 1000), 0);
	journal_close(j); /* a crash before the commit: the group is not written */
	append_raw("item\tmary\t-\thttp:%2F%2Fa/feed\t2\t1000\n"); /* nor is one cut before its
	                                                              commit line */
	st = replayed();
	ck_assert_uint_eq(state_nids(st), 2);
	ck_assert(state_delivered(st, "john", "http://a/feed", "1"));
	ck_assert(state_delivered(st, "john", "http://a/feed", odd));
	ck_assert(!state_delivered(st, "mary", "http://a/feed", "1"));
	ck_assert(state_sub_known(st, "john"));
	ck_assert(!state_sub_known(st, "mary"));
	state_free(st);
	/* A torn last line too; and the next run's groups are not glued onto it. */
	append_raw("commit\nitem\tmary\t-\thttp://a/fe");
	ck_assert_int_eq(journal_open(state_path, &j, &e), 0);
	ck_assert_int_eq(journal_add(j, "mary", NULL, "http://a/feed", "3", 1000), 0);
	/* One recipient's own record: the subscription as a whole does not have it. */
	ck_assert_int_eq(journal_add(j, "mary", "bob@example.org", "http://a/feed", "4", 1000), 0);
	ck_assert_int_eq(journal_commit(j, &e), 0);
	journal_close(j);
	st = replayed();
	ck_assert(state_delivered(st, "mary", "http://a/feed", "2"));
	ck_assert(state_delivered(st, "mary", "http://a/feed", "3"));
	ck_assert(state_delivered_to(st, "mary", "bob@example.org", "http://a/feed", "4"));
	ck_assert(!state_delivered_to(st, "mary", "ann@example.org", "http://a/feed", "4"));
	ck_assert(!state_delivered(st, "mary", "http://a/feed", "4"));
	ck_assert_uint_eq(state_nids(st), 5);
	state_free(st);
	ck_assert_int_eq(journal_remove(state_path, &e), 0);
	ck_assert_int_eq(access(journal_path, F_OK), -1);
	ck_assert_int_eq(journal_remove(state_path, &e), 0); /* none: fine */
}
END_TEST

/* A saved state of two feeds, fetched once, and one item; loaded again. */
static struct state *
saved_state(void)
{
	struct state *st = state_new();
	struct feed_state *fs;
	struct err e = {0};

	ck_assert_ptr_nonnull(st);
	for (int i = 0; i < 2; i++) {
		fs = state_feed(st, i == 0 ? "http://a/feed" : "http://b/feed", 1);
		ck_assert_ptr_nonnull(fs);
		fs->last_fetch = 1000;
		fs->last_status = 200;
		ck_assert_ptr_nonnull(fs->etag = strdup("\"v1\""));
	}
	ck_assert_int_eq(state_record(st, "john", "http://a/feed", "1", 1000), 0);
	ck_assert_msg(state_save(st, state_path, &e) == 0, "%s", e.msg);
	state_free(st);
	ck_assert_msg(state_load(state_path, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_replay(state_path, st, &e) == 0, "%s", e.msg);
	return st;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 16);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(s);
	(void)!fread(s, 1, (1 << 16) - 1, f);
	fclose(f);
	return s;
}

/*
 * A run whose feeds all answered 304 changed only their fetch records:
 * the journal takes them, the state file is left as it was, and the next
 * load sees them, as saved.
 */
START_TEST(feed_records_go_to_the_journal)
{
	struct state *st = saved_state();
	struct feed_state *fs = state_feed(st, "http://a/feed", 0);
	struct err e = {0};
	struct stat before, after;
	char *file = slurp(state_path), *again;

	ck_assert_int_eq(stat(state_path, &before), 0);
	ck_assert(!state_feeds_only_changed(st, state_path)); /* nothing changed yet */
	fs->last_fetch = 2000;
	fs->last_status = 304;
	ck_assert(state_feeds_only_changed(st, state_path));
	ck_assert_int_eq(journal_save_feeds(state_path, st, &e), 1);
	ck_assert(!state_needs_save(st, state_path)); /* the journal holds it */
	state_free(st);
	ck_assert_int_eq(stat(state_path, &after), 0);
	ck_assert_int_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	ck_assert_int_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	again = slurp(state_path);
	ck_assert_str_eq(again, file);
	free(again);
	free(file);
	file = slurp(journal_path);
	ck_assert_msg(strncmp(file, "tidings-journal 2\nfeed\thttp://a/feed\t", 37) == 0, "%s",
	              file);
	ck_assert_ptr_null(strstr(file, "http://b/feed")); /* unchanged: not written */
	ck_assert_ptr_nonnull(strstr(file, "\ncommit\n"));
	free(file);

	/* A group a crash cut short is not replayed. */
	append_raw("feed\thttp://b/feed\t-\t-\t2001-01-01T00:00:00Z\t500\t1\t-\t-\t0\tboom\t-\n");
	ck_assert_msg(state_load(state_path, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_replay(state_path, st, &e) == 0, "%s", e.msg);
	fs = state_feed(st, "http://a/feed", 0);
	ck_assert_int_eq(fs->last_fetch, 2000);
	ck_assert_int_eq(fs->last_status, 304);
	ck_assert_str_eq(fs->etag, "\"v1\"");
	fs = state_feed(st, "http://b/feed", 0);
	ck_assert_int_eq(fs->last_fetch, 1000);
	ck_assert_int_eq(fs->last_status, 200);
	ck_assert(state_delivered(st, "john", "http://a/feed", "1"));
	ck_assert(!state_needs_save(st, state_path));
	/* Anything more than fetch records: the state is saved whole. */
	ck_assert_int_eq(state_record(st, "john", "http://a/feed", "2", 2000), 0);
	ck_assert(!state_feeds_only_changed(st, state_path));
	ck_assert(state_needs_save(st, state_path));
	state_free(st);
}
END_TEST

/*
 * A save whose journal outlived it (a crash between the rename and the
 * unlink): the journal's older fetch records do not take the feeds back.
 */
START_TEST(a_journal_older_than_the_file_is_not_replayed_over_it)
{
	struct state *st = saved_state();
	struct feed_state *fs = state_feed(st, "http://a/feed", 0);
	struct err e = {0};

	fs->last_fetch = 2000;
	fs->last_status = 304;
	ck_assert_int_eq(journal_save_feeds(state_path, st, &e), 1);
	/* the next run: a 500, saved whole; the journal is left behind */
	fs->last_fetch = 3000;
	fs->last_status = 500;
	fs->failures = 1;
	ck_assert_int_eq(state_record(st, "john", "http://a/feed", "2", 3000), 0);
	ck_assert_msg(state_save(st, state_path, &e) == 0, "%s", e.msg);
	state_free(st);
	ck_assert_int_eq(access(journal_path, F_OK), 0);
	ck_assert_msg(state_load(state_path, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_replay(state_path, st, &e) == 0, "%s", e.msg);
	fs = state_feed(st, "http://a/feed", 0);
	ck_assert_int_eq(fs->last_fetch, 3000);
	ck_assert_int_eq(fs->last_status, 500);
	ck_assert_int_eq(fs->failures, 1);
	state_free(st);
}
END_TEST

/* A version 1 journal (a crash left it) becomes version 2 before feed records join it. */
START_TEST(a_version_1_journal_is_upgraded_before_feed_records)
{
	struct state *st = saved_state();
	struct err e = {0};
	char *text;

	append_raw("tidings-journal 1\nitem\tmary\t-\thttp://a/feed\t9\t1000\ncommit\n");
	state_feed(st, "http://b/feed", 0)->last_fetch = 4000;
	ck_assert_int_eq(journal_save_feeds(state_path, st, &e), 1);
	state_free(st);
	text = slurp(journal_path);
	ck_assert_msg(strncmp(text, "tidings-journal 2\nitem\tmary\t", 28) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "commit\nfeed\thttp://b/feed\t"));
	free(text);
	ck_assert_msg(state_load(state_path, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_replay(state_path, st, &e) == 0, "%s", e.msg);
	ck_assert(state_delivered(st, "mary", "http://a/feed", "9"));
	ck_assert_int_eq(state_feed(st, "http://b/feed", 0)->last_fetch, 4000);
	state_free(st);
}
END_TEST

/* Once the journal holds enough feed records, the state is saved whole instead. */
START_TEST(a_full_journal_asks_for_a_save)
{
	struct state *st = saved_state();
	struct err e = {0};
	char line[200];

	append_raw("tidings-journal 2\n");
	snprintf(line, sizeof line,
	         "feed\thttp://a/feed\t-\t-\t2001-01-01T00:00:00Z\t304\t0\t-\t-\t0\t-\t-\n");
	for (int i = 0; i < 400; i++) /* 16 KB and more: the least a journal may hold */
		append_raw(line);
	append_raw("commit\n");
	state_feed(st, "http://b/feed", 0)->last_fetch = 3000;
	ck_assert(state_feeds_only_changed(st, state_path));
	ck_assert_int_eq(journal_save_feeds(state_path, st, &e), 0);
	ck_assert(state_needs_save(st, state_path));
	state_free(st);
	/* and what it holds is still read */
	ck_assert_msg(state_load(state_path, &st, &e) == 0, "%s", e.msg);
	ck_assert_msg(journal_replay(state_path, st, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(state_feed(st, "http://a/feed", 0)->last_fetch, 978307200);
	state_free(st);
}
END_TEST

/* A corrupt journal stops the load, naming file:line, like a corrupt state. */
START_TEST(corrupt_journal_is_refused)
{
	static const char *const bad[] = {
	    "not a journal\n",
	    "tidings-journal 1\nitem\ta\tb\n",
	    "tidings-journal 1\nitem\ta\tb\t%zz\t1\n",
	    "tidings-journal 1\nbogus\n",
	    "tidings-journal 1\nitem\ta\tb\tc\t1\tsix\n",
	    "tidings-journal 1\nitem\ta\tb\tc\tsoon\n",
	};
	struct state *st = state_new();
	struct err e = {0};
	char want[200];

	append_raw(bad[_i]);
	ck_assert_int_eq(journal_replay(state_path, st, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	snprintf(want, sizeof want, "%s:%d: corrupt journal: ", journal_path, _i == 0 ? 1 : 2);
	ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
	state_free(st);
}
END_TEST

/* The proof leaves nothing behind, and fails on a folder it cannot write to. */
START_TEST(preflight)
{
	struct err e = {0};
	char sub[160];

	ck_assert_msg(journal_preflight(state_path, 1 << 20, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(rmdir(dir), 0); /* empty again: the temp file is gone */
	snprintf(sub, sizeof sub, "%s/a/b/state", dir);
	ck_assert_msg(journal_preflight(sub, 0, &e) == 0, "%s", e.msg); /* folders made */
	append_raw("");
	snprintf(sub, sizeof sub, "%s/state.journal/state", dir); /* a file as a folder */
	ck_assert_int_eq(journal_preflight(sub, 0, &e), -1);
	ck_assert_msg(strstr(e.msg, "Not a directory") != NULL, "%s", e.msg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, committed_groups_only);
	tcase_add_test(tc, feed_records_go_to_the_journal);
	tcase_add_test(tc, a_full_journal_asks_for_a_save);
	tcase_add_test(tc, a_journal_older_than_the_file_is_not_replayed_over_it);
	tcase_add_test(tc, a_version_1_journal_is_upgraded_before_feed_records);
	tcase_add_loop_test(tc, corrupt_journal_is_refused, 0, 6);
	tcase_add_test(tc, preflight);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
