/* Unit tests for src/polling.c: the polling policy, pure functions. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "polling.h"

#define T0 1700000000 /* 2023-11-14 22:13:20 UTC */

static void
fs_clear(struct feed_state *fs)
{
	free(fs->url);
	free(fs->etag);
	free(fs->last_modified);
	free(fs->last_error);
	free(fs->moved_to);
	memset(fs, 0, sizeof *fs);
}

static struct fetch_result
result(enum fetch_outcome o, long status, const char *error)
{
	struct fetch_result r;

	memset(&r, 0, sizeof r);
	r.outcome = o;
	r.http_status = status;
	if (error != NULL)
		strcpy(r.error, error);
	return r;
}

START_TEST(reported_once_at_threshold_and_recovered_once)
{
	struct feed_state fs = {0};
	struct fetch_result bad = result(FETCH_FAILED, 0, "connection refused");
	struct fetch_result ok = result(FETCH_NOT_MODIFIED, 304, NULL);
	char msg[512];

	ck_assert_int_eq(poll_update(&fs, &bad, T0, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(fs.failures, 1);
	ck_assert_int_eq(fs.first_failure, T0);
	ck_assert_str_eq(fs.last_error, "connection refused");
	ck_assert_int_eq(poll_update(&fs, &bad, T0 + 60, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_int_eq(poll_update(&fs, &bad, T0 + 120, 3, msg, sizeof msg), POLL_REPORT_FAILING);
	ck_assert_str_eq(msg, "failing since 2023-11-14 22:13: connection refused");
	ck_assert_int_eq(fs.first_failure, T0);
	ck_assert_int_eq(fs.last_fetch, T0 + 120);
	/* Further failures say nothing more. */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(poll_update(&fs, &bad, T0 + 180 + i, 3, msg, sizeof msg),
		                 POLL_REPORT_NONE);
	ck_assert_int_eq(fs.failures, 8);
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 600, 3, msg, sizeof msg),
	                 POLL_REPORT_RECOVERED);
	ck_assert_str_eq(msg, "working again after 8 failed fetches since 2023-11-14 22:13");
	ck_assert_int_eq(fs.failures, 0);
	ck_assert_int_eq(fs.first_failure, 0);
	ck_assert_ptr_null(fs.last_error);
	ck_assert_int_eq(fs.last_status, 304);
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 700, 3, msg, sizeof msg), POLL_REPORT_NONE);
	fs_clear(&fs);
}
END_TEST

START_TEST(short_streak_recovers_silently)
{
	struct feed_state fs = {0};
	struct fetch_result bad = result(FETCH_FAILED, 500, "HTTP 500 Internal Server Error");
	struct fetch_result ok = result(FETCH_OK, 200, NULL);
	char msg[512];

	ck_assert_int_eq(poll_update(&fs, &bad, T0, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_int_eq(fs.last_status, 500);
	ck_assert_int_eq(poll_update(&fs, &bad, T0 + 1, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 2, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_int_eq(fs.failures, 0);
	/* A new streak starts at its own first failure. */
	ck_assert_int_eq(poll_update(&fs, &bad, T0 + 3600, 1, msg, sizeof msg),
	                 POLL_REPORT_FAILING);
	ck_assert_int_eq(fs.first_failure, T0 + 3600);
	/* report_after 0 behaves as 1. */
	fs_clear(&fs);
	ck_assert_int_eq(poll_update(&fs, &bad, T0, 0, msg, sizeof msg), POLL_REPORT_FAILING);
	fs_clear(&fs);
}
END_TEST

START_TEST(validators_only_on_ok)
{
	struct feed_state fs = {0};
	struct fetch_result ok = result(FETCH_OK, 200, NULL);
	struct fetch_result nm = result(FETCH_NOT_MODIFIED, 304, NULL);
	struct fetch_result bad = result(FETCH_FAILED, 404, "HTTP 404 Not Found");
	char msg[256];

	ok.etag = "\"v1\"";
	ok.last_modified = "Tue, 14 Nov 2023 22:13:20 GMT";
	poll_update(&fs, &ok, T0, 3, msg, sizeof msg);
	ck_assert_str_eq(fs.etag, "\"v1\"");
	ck_assert_str_eq(fs.last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
	nm.etag = "\"other\"";
	poll_update(&fs, &nm, T0 + 1, 3, msg, sizeof msg);
	ck_assert_str_eq(fs.etag, "\"v1\"");
	poll_update(&fs, &bad, T0 + 2, 3, msg, sizeof msg);
	ck_assert_str_eq(fs.etag, "\"v1\"");
	ck_assert_str_eq(fs.last_error, "HTTP 404 Not Found");
	/* A server that stops sending validators clears them. */
	ok.etag = NULL;
	ok.last_modified = NULL;
	poll_update(&fs, &ok, T0 + 3, 3, msg, sizeof msg);
	ck_assert_ptr_null(fs.etag);
	ck_assert_ptr_null(fs.last_modified);
	fs_clear(&fs);
}
END_TEST

START_TEST(moved_reported_once_per_target)
{
	struct feed_state fs = {0};
	struct fetch_result ok = result(FETCH_OK, 200, NULL);
	char msg[512];

	ok.moved_to = "http://new.example/feed";
	ck_assert_int_eq(poll_update(&fs, &ok, T0, 3, msg, sizeof msg), POLL_REPORT_MOVED);
	ck_assert_str_eq(msg, "moved permanently to http://new.example/feed; "
	                      "update the config: url = \"http://new.example/feed\"");
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 1, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(fs.failures, 0);
	/* A different target is news again. */
	ok.moved_to = "http://newer.example/feed";
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 2, 3, msg, sizeof msg), POLL_REPORT_MOVED);
	ck_assert(strstr(msg, "url = \"http://newer.example/feed\"") != NULL);
	/* Once the redirect is gone, nothing is remembered. */
	ok.moved_to = NULL;
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 3, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_ptr_null(fs.last_error);
	ck_assert_ptr_null(fs.moved_to);
	fs_clear(&fs);
}
END_TEST

/* A failure between two fetches showing the same move must not make it news again. */
START_TEST(moved_reported_once_across_a_failure)
{
	struct feed_state fs = {0};
	struct fetch_result ok = result(FETCH_OK, 200, NULL);
	struct fetch_result bad = result(FETCH_FAILED, 0, "connection refused");
	char msg[512];
	int reports = 0;

	ok.moved_to = "http://new.example/feed";
	reports += poll_update(&fs, &ok, T0, 3, msg, sizeof msg) == POLL_REPORT_MOVED;
	ck_assert_str_eq(fs.moved_to, "http://new.example/feed");
	ck_assert_ptr_null(fs.last_error);
	ck_assert_int_eq(poll_update(&fs, &bad, T0 + 60, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_str_eq(fs.last_error, "connection refused");
	ck_assert_str_eq(fs.moved_to, "http://new.example/feed");
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 120, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_str_eq(msg, "");
	ck_assert_ptr_null(fs.last_error);
	ck_assert_str_eq(fs.moved_to, "http://new.example/feed");
	ck_assert_int_eq(reports, 1);
	/* A 304 through the same move says nothing either. */
	ok = result(FETCH_NOT_MODIFIED, 304, NULL);
	ok.moved_to = "http://new.example/feed";
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 180, 3, msg, sizeof msg), POLL_REPORT_NONE);
	fs_clear(&fs);
}
END_TEST

START_TEST(moved_while_recovering_says_both)
{
	struct feed_state fs = {0};
	struct fetch_result bad = result(FETCH_FAILED, 0, "timed out after 30 s");
	struct fetch_result ok = result(FETCH_OK, 200, NULL);
	char msg[512];

	ck_assert_int_eq(poll_update(&fs, &bad, T0, 1, msg, sizeof msg), POLL_REPORT_FAILING);
	ok.moved_to = "https://x.example/f";
	ck_assert_int_eq(poll_update(&fs, &ok, T0 + 5, 1, msg, sizeof msg), POLL_REPORT_MOVED);
	ck_assert(strncmp(msg,
	                  "working again after 1 failed fetch since 2023-11-14 22:13; "
	                  "moved permanently to ",
	                  80) == 0);
	ck_assert(strstr(msg, "url = \"https://x.example/f\"") != NULL);
	fs_clear(&fs);
}
END_TEST

START_TEST(gone_reported_once_and_never_due)
{
	struct feed_state fs = {0};
	struct fetch_result gone = result(FETCH_GONE, 410, "HTTP 410 Gone");
	char msg[512], why[256];

	ck_assert_int_eq(poll_update(&fs, &gone, T0, 3, msg, sizeof msg), POLL_REPORT_GONE);
	ck_assert(strncmp(msg, "gone (HTTP 410)", 15) == 0);
	ck_assert_int_eq(fs.gone, 1);
	ck_assert_int_eq(fs.last_status, 410);
	ck_assert_int_eq(poll_update(&fs, &gone, T0 + 1, 3, msg, sizeof msg), POLL_REPORT_NONE);
	ck_assert_int_eq(poll_due(&fs, 0, T0 + 86400 * 365, why, sizeof why), 0);
	ck_assert_str_eq(why, "gone (HTTP 410): not polled any more");
	fs_clear(&fs);
}
END_TEST

START_TEST(retry_after_respected)
{
	struct feed_state fs = {0};
	struct fetch_result busy = result(FETCH_RETRY_LATER, 429, "HTTP 429 Too Many Requests");
	char msg[512], why[256];

	busy.retry_after = T0 + 120;
	ck_assert_int_eq(poll_update(&fs, &busy, T0, 1, msg, sizeof msg), POLL_REPORT_FAILING);
	ck_assert_str_eq(msg, "failing since 2023-11-14 22:13: HTTP 429 Too Many Requests "
	                      "(asked to retry after 2023-11-14 22:15)");
	ck_assert_int_eq(fs.retry_after, T0 + 120);
	ck_assert_int_eq(poll_due(&fs, 0, T0 + 119, why, sizeof why), 0);
	ck_assert_str_eq(why, "the server asked to wait until 2023-11-14 22:15");
	ck_assert_int_eq(poll_due(&fs, 0, T0 + 120, why, sizeof why), 1);
	ck_assert_str_eq(why, "");
	/* Any later answer replaces the wait. */
	busy = result(FETCH_FAILED, 0, "connection refused");
	poll_update(&fs, &busy, T0 + 200, 5, msg, sizeof msg);
	ck_assert_int_eq(fs.retry_after, 0);
	fs_clear(&fs);
}
END_TEST

START_TEST(interval_respected)
{
	struct feed_state fs = {0};
	char why[256];

	ck_assert_int_eq(poll_due(NULL, 3600, T0, why, sizeof why), 1);
	ck_assert_int_eq(poll_due(&fs, 3600, T0, why, sizeof why), 1);
	fs.last_fetch = T0;
	ck_assert_int_eq(poll_due(&fs, 3600, T0 + 3599, why, sizeof why), 0);
	ck_assert_str_eq(why, "interval not elapsed: next poll after 2023-11-14 23:13");
	ck_assert_int_eq(poll_due(&fs, 3600, T0 + 3600, why, sizeof why), 1);
	ck_assert_int_eq(poll_due(&fs, 0, T0 + 1, why, sizeof why), 1);
	/* The clock went back: poll rather than wait for it. */
	ck_assert_int_eq(poll_due(&fs, 3600, T0 - 100, why, sizeof why), 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("poll");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	setenv("TZ", "UTC", 1);
	tcase_add_test(tc, reported_once_at_threshold_and_recovered_once);
	tcase_add_test(tc, short_streak_recovers_silently);
	tcase_add_test(tc, validators_only_on_ok);
	tcase_add_test(tc, moved_reported_once_per_target);
	tcase_add_test(tc, moved_reported_once_across_a_failure);
	tcase_add_test(tc, moved_while_recovering_says_both);
	tcase_add_test(tc, gone_reported_once_and_never_due);
	tcase_add_test(tc, retry_after_respected);
	tcase_add_test(tc, interval_respected);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
