/*
 * Unit tests for src/testmail.c, `tidings test-mail`: one message per
 * recipient through each chosen subscription's own delivery, to an mbox
 * and over SMTP to tests/harness/smtpd.py on 127.0.0.1; the subscriptions
 * -S picks; the exit status a run would have (75 to retry, 69 refused);
 * nothing recorded.  tests/e2e/conveniences.py runs the binary.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cli.h"
#include "testkit.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

struct fixture {
	char dir[32];
	char conf[64];
	char mbox[64];
	char state_dir[64];
};

/*
 * A config in a fresh folder: deliver (mbox when NULL) and smtp_port for
 * an smtp section; first has two recipients, second one and its own
 * delivery when second_deliver is set.
 */
static void
fx_init(struct fixture *fx, const char *deliver, int smtp_port, const char *second_deliver)
{
	const char *top = getenv("TOP_SRCDIR");
	struct buf text = BUF_INIT;

	strcpy(fx->dir, "/tmp/ttestmail.XXXXXX");
	tk_mkdtemp(fx->dir);
	snprintf(fx->conf, sizeof fx->conf, "%s/t.conf", fx->dir);
	snprintf(fx->mbox, sizeof fx->mbox, "%s/mbox", fx->dir);
	snprintf(fx->state_dir, sizeof fx->state_dir, "%s/st", fx->dir);
	buf_printf(&text,
	           "from = \"Tidings <tidings@example.org>\"\nstate = \"%s/state\"\n"
	           "templates = \"%s/templates\"\n",
	           fx->state_dir, top != NULL && *top ? top : TOP_SRCDIR);
	if (deliver != NULL)
		buf_printf(&text, "deliver = \"%s\"\n", deliver);
	else
		buf_printf(&text, "deliver = \"mbox:%s\"\n", fx->mbox);
	if (smtp_port > 0)
		buf_printf(&text,
		           "smtp {\n host = \"127.0.0.1\"\n port = %d\n tls = \"none\"\n"
		           " timeout = 60\n}\n",
		           smtp_port);
	buf_adds(&text, "subscription first {\n to = {\"Ann Example <ann@example.org>\", "
	                "\"bob@example.org\"}\n}\n"
	                "subscription second {\n to = {\"carol@example.org\"}\n");
	if (second_deliver != NULL)
		buf_printf(&text, " deliver = \"%s\"\n", second_deliver);
	ck_assert_int_eq(buf_adds(&text, "}\n"), 0);
	tk_write(fx->conf, buf_str(&text));
	buf_free(&text);
}

/* Nothing recorded: the state's folder was never made; then the folder goes. */
static void
fx_done(struct fixture *fx)
{
	struct stat st;

	ck_assert_msg(stat(fx->state_dir, &st) < 0, "test-mail made %s", fx->state_dir);
	tk_rm_rf(fx->dir);
}

/* `tidings -c CONF test-mail [-S sub]...` (subs NULL-terminated). */
static struct tk_result
test_mail(const struct fixture *fx, int quiet, const char *const *subs)
{
	struct cli c = {.config_path = fx->conf, .quiet = quiet};
	struct tk_result r;

	for (; subs != NULL && *subs != NULL; subs++)
		ck_assert_int_eq(strv_push(&c.subs, *subs), 0);
	tk_run_cmd(cmd_test_mail, &c, &r);
	strv_free(&c.subs);
	return r;
}

#define SUBS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The text with quoted-printable's soft line breaks undone. */
static char *
unwrapped(const char *text)
{
	struct buf b = BUF_INIT;

	for (const char *p = text; p != NULL && *p; p++) {
		if (p[0] == '=' && p[1] == '\n')
			p++;
		else if (p[0] == '=' && p[1] == '\r' && p[2] == '\n')
			p += 2;
		else
			buf_addc(&b, *p);
	}
	return buf_steal(&b);
}

START_TEST(mbox_one_message_per_recipient)
{
	struct fixture fx;
	struct tk_result r;
	char want[512], *mbox, *plain;

	fx_init(&fx, NULL, 0, NULL);
	r = test_mail(&fx, 0, NULL);
	ck_assert_int_eq(r.status, 0);
	/* the first subscription only, when none is named */
	snprintf(want, sizeof want,
	         "subscription first: test message to ann@example.org accepted (mbox %s)\n"
	         "subscription first: test message to bob@example.org accepted (mbox %s)\n",
	         fx.mbox, fx.mbox);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);

	mbox = tk_slurp(fx.mbox);
	ck_assert_ptr_nonnull(mbox);
	ck_assert_int_eq(strncmp(mbox, "From tidings@example.org ", 25), 0);
	ck_assert_int_eq(tk_count(mbox, "\nFrom tidings@example.org "), 1);
	ck_assert_int_eq(tk_count(mbox, "\nSubject: tidings test message\n"), 2);
	/* each sees only itself, with its display name */
	ck_assert_int_eq(tk_count(mbox, "\nTo: \"Ann Example\" <ann@example.org>\n"), 1);
	ck_assert_int_eq(tk_count(mbox, "\nTo: bob@example.org\n"), 1);
	ck_assert_int_eq(tk_count(mbox, "carol"), 0);
	plain = unwrapped(mbox);
	snprintf(want, sizeof want,
	         "`tidings test-mail` through mbox %s to the recipients of\n"
	         "the subscription 'first'.  Nothing was fetched or recorded.\n",
	         fx.mbox);
	ck_assert_int_eq(tk_count(plain, want), 2);
	free(plain);
	free(mbox);

	/* -q: the same messages, nothing said */
	r = test_mail(&fx, 1, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);
	mbox = tk_slurp(fx.mbox);
	ck_assert_int_eq(tk_count(mbox, "Subject: tidings test message\n"), 4);
	free(mbox);
	fx_done(&fx);
}
END_TEST

START_TEST(subscriptions_named_with_S)
{
	struct fixture fx;
	struct tk_result r;
	char want[512], *mbox;

	fx_init(&fx, NULL, 0, NULL);
	r = test_mail(&fx, 0, SUBS("second", "first"));
	ck_assert_int_eq(r.status, 0);
	/* in the order named */
	snprintf(want, sizeof want,
	         "subscription second: test message to carol@example.org accepted (mbox %s)\n"
	         "subscription first: test message to ann@example.org accepted (mbox %s)\n"
	         "subscription first: test message to bob@example.org accepted (mbox %s)\n",
	         fx.mbox, fx.mbox, fx.mbox);
	ck_assert_str_eq(r.out, want);
	tk_result_free(&r);
	mbox = tk_slurp(fx.mbox);
	ck_assert_ptr_nonnull(mbox);
	ck_assert_int_eq(tk_count(mbox, "\nTo: carol@example.org\n"), 1);
	ck_assert_int_eq(tk_count(mbox, "the subscription 'second'."), 1);
	free(mbox);

	/* an unknown name: nothing sent at all, though another one is known */
	ck_assert_int_eq(remove(fx.mbox), 0);
	r = test_mail(&fx, 0, SUBS("first", "nope"));
	ck_assert_int_eq(r.status, EX_USAGE);
	snprintf(want, sizeof want, "tidings: no subscription named 'nope' in %s\n", fx.conf);
	ck_assert_str_eq(r.err, want);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_null(tk_slurp(fx.mbox));
	tk_result_free(&r);
	fx_done(&fx);
}
END_TEST

START_TEST(config_without_subscriptions)
{
	struct fixture fx;
	struct tk_result r;
	char want[256];

	fx_init(&fx, NULL, 0, NULL);
	tk_write(fx.conf, "from = \"Tidings <tidings@example.org>\"\ndeliver = \"stdout\"\n");
	r = test_mail(&fx, 0, NULL);
	ck_assert_int_eq(r.status, EX_CONFIG);
	snprintf(want, sizeof want, "tidings: %s has no subscription to send a test to\n", fx.conf);
	ck_assert_str_eq(r.err, want);
	ck_assert_str_eq(r.out, "");
	tk_result_free(&r);

	/* a config that does not load: its own error, 78 */
	tk_write(fx.conf, "from = \"Tidings <tidings@example.org>\"\nbogus = 1\n");
	r = test_mail(&fx, 0, NULL);
	ck_assert_int_eq(r.status, EX_CONFIG);
	ck_assert_msg(strstr(r.err, fx.conf) != NULL, "%s", r.err);
	tk_result_free(&r);
	fx_done(&fx);
}
END_TEST

/* A subscription's own delivery is the one tested: here stdout, the message itself. */
START_TEST(subscriptions_own_delivery)
{
	struct fixture fx;
	struct tk_result r;

	fx_init(&fx, NULL, 0, "stdout");
	r = test_mail(&fx, 0, SUBS("second"));
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(tk_count(r.out, "\nTo: carol@example.org\n"), 1);
	ck_assert_int_eq(tk_count(r.out, "\nSubject: tidings test message\n"), 1);
	ck_assert_int_eq(tk_count(r.out, "through stdout to the recipients of"), 1);
	/* no "accepted" line mixed into the message */
	ck_assert_int_eq(tk_count(r.out, "accepted"), 0);
	ck_assert_ptr_null(tk_slurp(fx.mbox));
	tk_result_free(&r);
	fx_done(&fx);
}
END_TEST

START_TEST(smtp_one_message_per_recipient)
{
	struct tk_server s;
	struct fixture fx;
	struct tk_result r;
	char want[512], *log, *m1, *m2, *plain;

	tk_server_start(&s, "smtpd.py", "--dir", NULL);
	fx_init(&fx, "smtp", s.port, NULL);
	r = test_mail(&fx, 0, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	snprintf(want, sizeof want,
	         "subscription first: test message to ann@example.org accepted "
	         "(smtp 127.0.0.1:%d (no TLS))\n"
	         "subscription first: test message to bob@example.org accepted "
	         "(smtp 127.0.0.1:%d (no TLS))\n",
	         s.port, s.port);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);

	/* the envelope: the bare From address, one recipient each */
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"mail_from\": \"tidings@example.org\""), 2);
	ck_assert_int_eq(tk_count(log, "\"rcpt_tos\": [\"ann@example.org\"]"), 1);
	ck_assert_int_eq(tk_count(log, "\"rcpt_tos\": [\"bob@example.org\"]"), 1);
	m1 = tk_server_file(&s, "msg-1.eml");
	m2 = tk_server_file(&s, "msg-2.eml");
	ck_assert(m1 != NULL && m2 != NULL);
	ck_assert_int_eq(tk_count(m1, "\r\nTo: \"Ann Example\" <ann@example.org>\r\n"), 1);
	ck_assert_int_eq(tk_count(m2, "\r\nTo: bob@example.org\r\n"), 1);
	ck_assert_int_eq(tk_count(m1, "\r\nSubject: tidings test message\r\n"), 1);
	plain = unwrapped(m1);
	snprintf(want, sizeof want, "through smtp 127.0.0.1:%d (no TLS) to the recipients of\r\n",
	         s.port);
	ck_assert_msg(strstr(plain, want) != NULL, "%s", plain);
	free(plain);
	free(m1);
	free(m2);
	free(log);
	fx_done(&fx);
	tk_server_stop(&s);
}
END_TEST

/*
 * What the server says gives the exit status a run would have: 75 when
 * it may pass, 69 when refused, and a refusal outranks a deferral.
 */
START_TEST(smtp_refusals)
{
	static const struct {
		const char *opts[5];
		int status;
		int bob_refused; /* ann always is */
	} cases[] = {
	    {{"--data-code", "451"}, EX_TEMPFAIL, 1},
	    {{"--rcpt", "ann@example.org=550"}, EX_UNAVAILABLE, 0},
	    {{"--rcpt", "ann@example.org=451"}, EX_TEMPFAIL, 0},
	    {{"--rcpt", "ann@example.org=451", "--rcpt", "bob@example.org=550"}, EX_UNAVAILABLE, 1},
	};
	const char *const *opts = cases[_i].opts;
	const char *ann_refused =
	    "tidings: subscription first: test message to ann@example.org not delivered: ";
	struct tk_server s;
	struct fixture fx;
	struct tk_result r;

	tk_server_start(&s, "smtpd.py", "--dir", opts);
	fx_init(&fx, "smtp", s.port, NULL);
	r = test_mail(&fx, 0, NULL);
	ck_assert_msg(r.status == cases[_i].status, "%d: %s", r.status, r.err);
	ck_assert_int_eq(tk_count(r.err, "\n"), 1 + cases[_i].bob_refused);
	ck_assert_msg(strncmp(r.err, ann_refused, strlen(ann_refused)) == 0, "%s", r.err);
	ck_assert_int_eq(tk_count(r.err, "\ntidings: subscription first: test message to "
	                                 "bob@example.org not delivered: "),
	                 cases[_i].bob_refused);
	ck_assert_int_eq(tk_count(r.out, "bob@example.org accepted"), !cases[_i].bob_refused);
	ck_assert_int_eq(tk_count(r.out, "ann@example.org accepted"), 0);
	tk_result_free(&r);
	fx_done(&fx);
	tk_server_stop(&s);
}
END_TEST

/* No server at all: each message a failed delivery that may pass (75). */
START_TEST(smtp_closed_port)
{
	struct fixture fx;
	struct tk_result r;
	char want[128];

	fx_init(&fx, "smtp", tk_closed_port(), NULL);
	r = test_mail(&fx, 0, SUBS("second"));
	ck_assert_int_eq(r.status, EX_TEMPFAIL);
	ck_assert_int_eq(tk_count(r.err, "\n"), 1);
	snprintf(want, sizeof want, "tidings: ");
	ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0 && strstr(r.err, "127.0.0.1") != NULL,
	              "%s", r.err);
	ck_assert_str_eq(r.out, "");
	tk_result_free(&r);
	fx_done(&fx);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("testmail");
	TCase *tf = tcase_create("files");
	TCase *tc = tcase_create("smtp");
	SRunner *sr;
	int failed;

	tcase_add_test(tf, mbox_one_message_per_recipient);
	tcase_add_test(tf, subscriptions_named_with_S);
	tcase_add_test(tf, config_without_subscriptions);
	tcase_add_test(tf, subscriptions_own_delivery);
	tcase_add_test(tc, smtp_one_message_per_recipient);
	tcase_add_loop_test(tc, smtp_refusals, 0, 4);
	tcase_add_test(tc, smtp_closed_port);
	suite_add_tcase(s, tf);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
