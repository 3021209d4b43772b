/* handoff: results reach done() on another thread, in order, owned by it. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff.h"

struct seen {
	pthread_t fetcher;
	int on_other_thread;
	int order_ok;
	size_t calls;
	size_t bytes;
	int slow;             /* sleep in done(): the queue fills up */
	pthread_mutex_t lock; /* several workers call done() at once */
	unsigned char *times; /* per request: how many times done() saw it */
};

static void
done(const struct fetch_request *req, struct fetch_result *res, void *arg)
{
	struct seen *s = arg;
	size_t i = (size_t)(long)req->userdata;

	ck_assert_str_eq(res->etag, "\"e\"");
	if (s->slow)
		usleep(2000);
	pthread_mutex_lock(&s->lock);
	s->on_other_thread &= !pthread_equal(pthread_self(), s->fetcher);
	s->order_ok &= i == s->calls;
	s->bytes += res->len;
	s->calls++;
	if (s->times != NULL)
		s->times[i]++;
	pthread_mutex_unlock(&s->lock);
}

/* What fetch_all does: fill a result, call back, free what is left in it. */
static void
fetch_like(struct handoff *h, const struct fetch_request *req)
{
	struct fetch_result res = {0};

	res.body = strdup("<rss/>");
	res.len = 6;
	res.etag = strdup("\"e\"");
	res.last_modified = strdup("Thu, 01 Jan 2026 00:00:00 GMT");
	handoff_result(req, &res, h);
	ck_assert_ptr_null(res.body);
	ck_assert_ptr_null(res.etag);
	ck_assert_ptr_null(res.last_modified);
	free(res.body);
	free(res.etag);
	free(res.last_modified);
	free(res.moved_to);
}

static void
run(int slow, size_t depth, size_t n)
{
	struct fetch_request *reqs = calloc(n, sizeof *reqs);
	struct seen s = {pthread_self(), 1, 1, 0, 0, slow, PTHREAD_MUTEX_INITIALIZER, NULL};
	struct handoff *h;
	struct err e = {0};

	ck_assert_ptr_nonnull(reqs);
	ck_assert_int_eq(handoff_start(&h, depth, 1, done, &s, &e), 0);
	for (size_t i = 0; i < n; i++) {
		reqs[i].userdata = (void *)(long)i;
		fetch_like(h, &reqs[i]);
	}
	handoff_finish(h);
	/* Every result, each once, in the order fetch finished them, off the fetching thread. */
	ck_assert_uint_eq(s.calls, n);
	ck_assert_uint_eq(s.bytes, 6 * n);
	ck_assert(s.order_ok);
	ck_assert(s.on_other_thread);
	free(reqs);
}

START_TEST(results_arrive_in_order_on_the_worker)
{
	run(0, 8, 1000);
}
END_TEST

START_TEST(a_full_queue_makes_the_fetcher_wait)
{
	run(1, 2, 50);
}
END_TEST

/* Three workers: every result reaches done() exactly once, none on the fetcher. */
START_TEST(several_workers_see_each_result_once)
{
	size_t n = 2000;
	struct fetch_request *reqs = calloc(n, sizeof *reqs);
	struct seen s = {pthread_self(), 1, 1, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER, calloc(n, 1)};
	struct handoff *h;
	struct err e = {0};

	ck_assert_ptr_nonnull(reqs);
	ck_assert_ptr_nonnull(s.times);
	ck_assert_int_eq(handoff_start(&h, 4, 3, done, &s, &e), 0);
	for (size_t i = 0; i < n; i++) {
		reqs[i].userdata = (void *)(long)i;
		fetch_like(h, &reqs[i]);
	}
	handoff_finish(h);
	ck_assert_uint_eq(s.calls, n);
	ck_assert_uint_eq(s.bytes, 6 * n);
	ck_assert(s.on_other_thread);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(s.times[i], 1);
	free(s.times);
	free(reqs);
}
END_TEST

/* One worker per processor, never more than four. */
START_TEST(workers_follow_the_processors)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = handoff_workers();

	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, 4);
	if (cpus >= 1 && cpus <= 4)
		ck_assert_uint_eq(n, (size_t)cpus);
}
END_TEST

START_TEST(finish_without_results)
{
	struct handoff *h;
	struct seen s = {pthread_self(), 1, 1, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER, NULL};
	struct err e = {0};

	ck_assert_int_eq(handoff_start(&h, 4, 2, done, &s, &e), 0);
	handoff_finish(h);
	ck_assert_uint_eq(s.calls, 0);
	handoff_finish(NULL);
	ck_assert_int_eq(handoff_start(&h, 0, 1, done, &s, &e), -1);
	ck_assert_int_eq(handoff_start(&h, 4, 0, done, &s, &e), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("handoff");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, results_arrive_in_order_on_the_worker);
	tcase_add_test(tc, a_full_queue_makes_the_fetcher_wait);
	tcase_add_test(tc, several_workers_see_each_result_once);
	tcase_add_test(tc, finish_without_results);
	tcase_add_test(tc, workers_follow_the_processors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
