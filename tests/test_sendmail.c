/*
 * Unit tests for src/sendmail.c: real programs (small /bin/sh scripts
 * written here) take the messages; what they received, and how their exit
 * status and standard error are read.
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

#include "sendmail.h"

static char dir[64];

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
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *rcpts[] = {"ann@example.org", "-bob@example.org"};

static struct outmsg
msg(const char *data)
{
	return (struct outmsg){.data = data,
	                       .len = strlen(data),
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
	ck_assert_int_eq(sendmail_deliver(argv, 2, &m, 1, NULL, &e), 0);
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
	m = msg("");
	m.data = NULL;
	m.file = fp;
	m.offset = 4;
	m.len = len;
	ck_assert_int_eq(sendmail_deliver(argv, 1, &m, 1, NULL, &e), 0);
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
	ck_assert_int_eq(sendmail_deliver(argv, 1, &m, 1, NULL, &e), 0);
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

	ck_assert_int_eq(sendmail_deliver(argv, 2, m, 2, NULL, &e), -1);
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
	ck_assert_int_eq(sendmail_deliver(argv, 1, m, 3, NULL, &e), 0);
	ck_assert_int_eq(m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(m[1].status, DELIVERY_TEMPFAIL);
	ck_assert_int_eq(m[2].status, DELIVERY_ACCEPTED);
	got = slurp(tpath("out"), NULL);
	ck_assert_str_eq(got, "first\nthird\n");
	free(got);
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
	tcase_add_loop_test(tc, exit_status_and_stderr, 0, sizeof exits / sizeof exits[0]);
	tcase_add_test(tc, missing_program);
	tcase_add_test(tc, one_run_per_message);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
