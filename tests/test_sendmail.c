/*
 * Unit tests for src/sendmail.c: real programs (small /bin/sh scripts
 * written here) take the messages; what they received, and how their exit
 * status and standard error are read.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "sendmail.h"

static char dir[64];
static FILE *texts; /* every message of a test, one after the other, as a run writes them */

static const char *
tpath(const char *name)
{
	static char p[4][160];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *data;
	long len;

	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	data = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(fread(data, 1, (size_t)len, fp), (size_t)len);
	data[len] = '\0';
	fclose(fp);
	if (n != NULL)
		*n = (size_t)len;
	return data;
}

/* An executable script PATH holding body. */
static const char *
script(const char *name, const char *body)
{
	const char *path = tpath(name);
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	ck_assert_int_eq(chmod(path, 0700), 0);
	return path;
}

static void
setup(void)
{
	strcpy(dir, "/tmp/test_sendmail.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	texts = tmpfile();
	ck_assert_ptr_nonnull(texts);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	fclose(texts);
}

static char *rcpts[] = {"ann@example.org", "-bob@example.org"};

/* A message of text, written to the end of texts and delivered from there. */
static struct outmsg
msg(const char *text)
{
	size_t n = strlen(text);
	off_t at;

	ck_assert_int_eq(fseeko(texts, 0, SEEK_END), 0);
	at = ftello(texts);
	ck_assert_int_ge(at, 0);
	ck_assert_uint_eq(fwrite(text, 1, n, texts), n);
	ck_assert_int_eq(fflush(texts), 0); /* deliver reads with pread: the writer flushes */
	return (struct outmsg){.file = texts,
	                       .offset = at,
	                       .len = n,
	                       .envelope_from = "tidings@example.org",
	                       .rcpt = rcpts,
	                       .nrcpt = 2};
}

/* The arguments follow sendmail's convention; the message arrives with LF line ends. */
START_TEST(arguments_and_lf_message)
{
	char out[200], args[200];
	const char *prog;
	char *argv[2];
	struct outmsg m = msg("From: a@b\r\nSubject: x\r\n\r\nline\r\n.\r\nbare\rcr\r\n");
	struct err e = {0};
	char *got;

	snprintf(out, sizeof out, "%s", tpath("out"));
	snprintf(args, sizeof args, "%s", tpath("args"));
	{
		char body[600];

		snprintf(body, sizeof body, "printf '%%s\\n' \"$@\" > '%s'; cat > '%s'", args, out);
		prog = script("prog", body);
	}
	argv[0] = (char *)prog;
	argv[1] = "-Cconf";
	ck_assert_int_eq(sendmail_deliver(argv, 2, 60, &m, 1, NULL, &e), 0);
	ck_assert_int_eq(m.status, DELIVERY_ACCEPTED);
	got = slurp(args, NULL);
	ck_assert_str_eq(got, "-Cconf\n-oi\n-f\ntidings@example.org\n--\nann@example.org\n"
	                      "-bob@example.org\n");
	free(got);
	got = slurp(out, NULL);
	ck_assert_str_eq(got, "From: a@b\nSubject: x\n\nline\n.\nbare\rcr\n");
	free(got);
}
END_TEST

/* A message from a file, larger than a chunk, with a CRLF across each chunk boundary. */
START_TEST(file_message_across_chunks)
{
	FILE *fp = tmpfile();
	size_t len = 0, n;
	char body[300], *got, *argv[1];
	struct outmsg m;
	struct err e = {0};

	ck_assert_ptr_nonnull(fp);
	fputs("junk", fp); /* the message starts at an offset */
	for (int i = 0; i < 40000; i++) {
		fputs("abc\r\n", fp); /* 5 bytes: CRs fall on every chunk edge sooner or later */
		len += 5;
	}
	snprintf(body, sizeof body, "cat > '%s'", tpath("out"));
	argv[0] = (char *)script("prog", body);
	ck_assert_int_eq(fflush(fp), 0);
	m = msg("");
	m.file = fp;
	m.offset = 4;
	m.len = len;
	ck_assert_int_eq(sendmail_deliver(argv, 1, 60, &m, 1, NULL, &e), 0);
	ck_assert_int_eq(m.status, DELIVERY_ACCEPTED);
	got = slurp(tpath("out"), &n);
	ck_assert_uint_eq(n, 40000 * 4);
	for (size_t i = 0; i < n; i += 4)
		ck_assert_msg(memcmp(got + i, "abc\n", 4) == 0, "at %zu", i);
	free(got);
	fclose(fp);
}
END_TEST

static const struct {
	const char *body;
	enum delivery_status want;
	const char *detail; /* what the detail must hold */
} exits[] = {
    {"cat >/dev/null; echo 'msmtp: server said: 451 try later' >&2; "
     "echo second line >&2; exit 75",
     DELIVERY_TEMPFAIL, "exited with status 75: msmtp: server said: 451 try later"},
    {"cat >/dev/null; exit 71", DELIVERY_TEMPFAIL, "exited with status 71: (it said nothing)"},
    {"cat >/dev/null; printf 'no such user\\033[31m\\n' >&2; exit 67", DELIVERY_PERMFAIL,
     "exited with status 67: no such user?[31m"},
    {"cat >/dev/null; exit 69", DELIVERY_PERMFAIL, "exited with status 69"},
    /* msmtp's codes for a name that does not resolve and a network failure */
    {"cat >/dev/null; echo 'msmtp: cannot locate host mx' >&2; exit 68", DELIVERY_TEMPFAIL,
     "exited with status 68: msmtp: cannot locate host mx"},
    {"cat >/dev/null; exit 74", DELIVERY_TEMPFAIL, "exited with status 74"},
    {"cat >/dev/null; exit 76", DELIVERY_PERMFAIL, "exited with status 76"},
    {"cat >/dev/null; kill -9 $$", DELIVERY_TEMPFAIL, "was killed by signal 9"},
    /* It quits without reading a megabyte: no SIGPIPE death, and no success. */
    {"exit 0", DELIVERY_TEMPFAIL, "exited before reading the whole message"},
    {"echo refused >&2; exit 78", DELIVERY_PERMFAIL, "exited with status 78: refused"},
};

START_TEST(exit_status_and_stderr)
{
	size_t big = 1u << 20;
	char *data = malloc(big + 1), *argv[1];
	struct outmsg m;
	struct err e = {0};

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < big; i++)
		data[i] = i % 80 == 79 ? '\n' : 'x';
	data[big] = '\0';
	argv[0] = (char *)script("prog", exits[_i].body);
	m = msg(data);
	ck_assert_int_eq(sendmail_deliver(argv, 1, 60, &m, 1, NULL, &e), 0);
	ck_assert_int_eq(m.status, exits[_i].want);
	ck_assert_msg(strstr(m.detail, exits[_i].detail) != NULL, "%s", m.detail);
	ck_assert_msg(strstr(m.detail, "second line") == NULL, "%s", m.detail);
	free(data);
}
END_TEST

/* A program that does not exist stops the delivery with a clear error. */
START_TEST(missing_program)
{
	char *argv[] = {"/nonexistent/sendmail", "-t"};
	struct outmsg m[2] = {msg("x\r\n"), msg("y\r\n")};
	struct err e = {0};

	ck_assert_int_eq(sendmail_deliver(argv, 2, 60, m, 2, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_CONFIG);
	ck_assert_str_eq(e.msg, "sendmail = \"/nonexistent/sendmail\": cannot run it: No such file "
	                        "or directory");
	ck_assert_int_eq(m[0].status, DELIVERY_PENDING);
	ck_assert_int_eq(m[1].status, DELIVERY_PENDING);
}
END_TEST

/* Each message gets its own run; one refusal leaves the others alone. */
START_TEST(one_run_per_message)
{
	char body[300], *argv[1];
	struct outmsg m[3] = {msg("first\r\n"), msg("refuse me\r\n"), msg("third\r\n")};
	struct err e = {0};
	char *got;

	snprintf(body, sizeof body,
	         "m=$(cat); case \"$m\" in refuse*) echo no >&2; exit 75;; esac; "
	         "echo \"$m\" >> '%s'",
	         tpath("out"));
	argv[0] = (char *)script("prog", body);
	ck_assert_int_eq(sendmail_deliver(argv, 1, 60, m, 3, NULL, &e), 0);
	ck_assert_int_eq(m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(m[1].status, DELIVERY_TEMPFAIL);
	ck_assert_int_eq(m[2].status, DELIVERY_ACCEPTED);
	got = slurp(tpath("out"), NULL);
	ck_assert_str_eq(got, "first\nthird\n");
	free(got);
}
END_TEST

/* A writer thread, as a run's: m[0]; once the program has had it, m[1] passed over; m[2]. */
struct writer {
	struct outgate gate;
	struct outmsg *m;
	const char *out; /* where the program writes */
	int saw_first;   /* the program ran for m[0] before m[1] was written */
};

/* Does the file at path hold exactly want (no assertion: it may not be there yet)? */
static int
holds(const char *path, const char *want)
{
	char buf[64];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strcmp(buf, want) == 0;
}

static void *
writer_main(void *arg)
{
	const struct timespec tick = {0, 20 * 1000 * 1000};
	struct writer *w = arg;

	outgate_publish(&w->gate, &w->m[0], w->m[0].offset, w->m[0].len);
	for (int i = 0; i < 3000 && !(w->saw_first = holds(w->out, "first\n")); i++)
		nanosleep(&tick, NULL); /* a minute at most: a bound, not a measure */
	outgate_publish(&w->gate, &w->m[1], 0, 0);
	outgate_publish(&w->gate, &w->m[2], w->m[2].offset, w->m[2].len);
	outgate_close(&w->gate);
	return NULL;
}

/*
 * Each message goes to the program as soon as it is written; one passed
 * over (its digest could not be made) is left unsent, and the rest go.
 */
START_TEST(messages_run_as_they_are_written)
{
	char body[300], *argv[1];
	struct outmsg m[3] = {msg("first\r\n"), msg("second\r\n"), msg("third\r\n")};
	char out[256];
	struct writer w = {.m = m, .out = out};
	struct err e = {0};
	pthread_t t;
	char *got;

	snprintf(out, sizeof out, "%s", tpath("out"));
	snprintf(body, sizeof body, "cat >> '%s'", out);
	argv[0] = (char *)script("prog", body);
	ck_assert_int_eq(outgate_init(&w.gate), 0);
	for (size_t i = 0; i < 3; i++) {
		m[i].gate = &w.gate;
		m[i].seq = i;
	}
	ck_assert_int_eq(pthread_create(&t, NULL, writer_main, &w), 0);
	ck_assert_int_eq(sendmail_deliver(argv, 1, 60, m, 3, NULL, &e), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(w.saw_first, "the first message did not go before the next was written");
	ck_assert_int_eq(m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(m[1].status, DELIVERY_PENDING);
	ck_assert_str_eq(m[1].detail, OUTMSG_UNWRITTEN);
	ck_assert_int_eq(m[2].status, DELIVERY_ACCEPTED);
	got = slurp(tpath("out"), NULL);
	ck_assert_str_eq(got, "first\nthird\n");
	free(got);
	outgate_destroy(&w.gate);
}
END_TEST

/* An ignored SIGCHLD, inherited from whoever started tidings, loses no exit status. */
START_TEST(ignored_sigchld_keeps_the_status)
{
	char *argv[1];
	struct outmsg m = msg("x\r\n");
	struct err e = {0};

	ck_assert_ptr_ne(signal(SIGCHLD, SIG_IGN), SIG_ERR);
	argv[0] = (char *)script("prog", "cat >/dev/null; echo later >&2; exit 75");
	ck_assert_int_eq(sendmail_deliver(argv, 1, 60, &m, 1, NULL, &e), 0);
	ck_assert_int_eq(m.status, DELIVERY_TEMPFAIL);
	ck_assert_msg(strstr(m.detail, "exited with status 75: later") != NULL, "%s", m.detail);
	ck_assert_ptr_eq(signal(SIGCHLD, SIG_DFL), SIG_IGN); /* put back as it was */
}
END_TEST

/*
 * Programs that never finish, each stuck in another place: the run ends
 * after the timeout with the program gone (reaped), and the message is to
 * be tried again.  Each writes its pid first.
 */
static const char *const hangs[] = {
    /* reads nothing of a message larger than the pipe: the write waits */
    "echo $$ > \"$PIDFILE\"; exec sleep 1000",
    /* takes the message, closes its stderr, and never exits */
    "echo $$ > \"$PIDFILE\"; cat >/dev/null; exec 2>&-; exec sleep 1000",
    /* ignores SIGTERM: only SIGKILL ends it */
    "echo $$ > \"$PIDFILE\"; trap '' TERM; cat >/dev/null; while :; do sleep 1; done",
};

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(hung_program_times_out)
{
	size_t big = 1u << 20;
	char *data = malloc(big + 1), *argv[1], want[300], *pid;
	struct outmsg m;
	struct err e = {0};
	double start, took;

	ck_assert_ptr_nonnull(data);
	memset(data, 'x', big);
	data[big] = '\0';
	ck_assert_int_eq(setenv("PIDFILE", tpath("pid"), 1), 0);
	argv[0] = (char *)script("prog", hangs[_i]);
	m = msg(data);
	start = seconds();
	ck_assert_int_eq(sendmail_deliver(argv, 1, 2, &m, 1, NULL, &e), 0);
	took = seconds() - start;
	ck_assert_msg(took >= 1.9 && took < 30, "took %.1f s", took);
	ck_assert_int_eq(m.status, DELIVERY_TEMPFAIL);
	snprintf(want, sizeof want, "sendmail: %s did not finish within 2 s", argv[0]);
	ck_assert_str_eq(m.detail, want);
	pid = slurp(tpath("pid"), NULL);
	/* gone, not even a zombie: it was reaped */
	ck_assert_int_eq(kill((pid_t)atol(pid), 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	free(pid);
	free(data);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sendmail");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, arguments_and_lf_message);
	tcase_add_test(tc, file_message_across_chunks);
	tcase_add_test(tc, messages_run_as_they_are_written);
	tcase_add_loop_test(tc, exit_status_and_stderr, 0, sizeof exits / sizeof exits[0]);
	tcase_add_test(tc, missing_program);
	tcase_add_test(tc, one_run_per_message);
	tcase_add_test(tc, ignored_sigchld_keeps_the_status);
	tcase_add_loop_test(tc, hung_program_times_out, 0, sizeof hangs / sizeof hangs[0]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
