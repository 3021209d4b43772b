/*
 * Unit tests for src/statelock.c: one run at a time, the holder's pid in
 * the message, and a lock let go when its holder dies.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "statelock.h"
#include "testkit.h"

static char dir[64];

static void
setup(void)
{
	strcpy(dir, "/tmp/tstatelock.XXXXXX");
	tk_mkdtemp(dir);
}

static void
teardown(void)
{
	tk_rm_rf(dir);
}

/* A path in the test's folder (one at a time: the buffer is reused). */
static const char *
tpath(const char *name)
{
	static char buf[2][128];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

START_TEST(lock_excludes_second_run)
{
	const char *path = tpath("lockdir/state");
	struct state_lock *l = NULL, *l2 = NULL;
	struct err e = {0};
	int up[2], down[2], status;
	char c = 0, want[4200];
	struct stat sb;
	pid_t pid;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct state_lock *cl;

		if (state_lock(path, &cl, NULL) < 0)
			_exit(1);
		if (write(up[1], "L", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(2);
		state_unlock(cl);
		_exit(0);
	}
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_int_eq(state_lock(path, &l, &e), -1);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_int_eq(e.code, 75);
	snprintf(want, sizeof want, "another tidings run holds %s.lock (pid %ld)", path, (long)pid);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(stat(tpath("lockdir/state.lock"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(write(down[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Free again; and held within one process too (flock is per open file). */
	ck_assert_msg(state_lock(path, &l, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(state_lock(path, &l2, &e), -1);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	snprintf(want, sizeof want, "another tidings run holds %s.lock (pid %ld)", path,
	         (long)getpid());
	ck_assert_str_eq(e.msg, want);
	state_unlock(l);
	ck_assert_msg(state_lock(path, &l, &e) == 0, "%s", e.msg);
	state_unlock(l);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}
END_TEST

/* A run killed while holding the lock does not block the next one. */
START_TEST(lock_released_by_death)
{
	const char *path = tpath("state");
	struct state_lock *l = NULL;
	struct err e = {0};
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct state_lock *cl;

		if (state_lock(path, &cl, NULL) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_msg(state_lock(path, &l, &e) == 0, "%s", e.msg);
	state_unlock(l);
}
END_TEST

static Suite *
statelock_suite(void)
{
	Suite *s = suite_create("statelock");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lock_excludes_second_run);
	tcase_add_test(tc, lock_released_by_death);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(statelock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
