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
	tcase_add_loop_test(tc, corrupt_journal_is_refused, 0, 6);
	tcase_add_test(tc, preflight);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
