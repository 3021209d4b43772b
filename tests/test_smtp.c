/*
 * Unit tests for src/smtp.c: real deliveries to tests/harness/smtpd.py
 * (started here on a free 127.0.0.1 port), through deliver() as a run
 * sends them and through smtp_deliver() itself.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "deliverkit.h"
#include "smtp.h"

START_TEST(smtp_plain)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *got, *log;

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(fx_run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	got = tk_server_file(&s, "msg-1.eml");
	ck_assert_ptr_nonnull(got);
	/* the server got our text byte for byte: no header added or lost */
	ck_assert_str_eq(got, f.text[0]);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"mail_from\": \"tidings@example.org\""), 1);
	ck_assert_int_eq(tk_count(log, "\"rcpt_tos\": [\"rcpt@example.org\"]"), 1);
	free(got);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_two_messages_one_session)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log, *m2;

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[1].nrcpt = 2;
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(f.m[1].status, DELIVERY_ACCEPTED);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"message\", \"session\": 1,"), 2);
	ck_assert_int_eq(tk_count(log, "\"event\": \"ehlo\""), 1);
	m2 = tk_server_file(&s, "msg-2.eml");
	ck_assert_int_eq(tk_count(m2, "Subject: Digest two\r\n"), 1);
	ck_assert_int_eq(tk_count(log, "\"second@example.org\"]"), 1);
	free(log);
	free(m2);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_starttls_ok)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log;
	int round;

	smtpd_start(&s, OPTS("--starttls", "--require-starttls"));
	/* two TLS sessions in one process: libesmtp's cached-ctx bug */
	for (round = 0; round < 2; round++) {
		fx_init(&f, &s, round == 0 ? "localhost" : "127.0.0.1", 1);
		ck_assert_int_eq(fx_run(&f, 1, &e), 0);
		ck_assert_msg(f.m[0].status == DELIVERY_ACCEPTED, "%s", f.m[0].detail);
		fx_free(&f);
	}
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"tls\": true, \"authenticated\": false"), 2);
	/* SNI for the name, none for the IP address */
	ck_assert_int_eq(tk_count(log, "\"event\": \"sni\", \"name\": \"localhost\""), 1);
	ck_assert_int_eq(tk_count(log, "\"event\": \"sni\""), 2);
	ck_assert_int_eq(tk_count(log, "\"event\": \"sni\", \"name\": null"), 1);
	free(log);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_starttls_not_offered)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char want[64], *log;

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 1);
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	snprintf(want, sizeof want, "127.0.0.1:%d does not offer STARTTLS", s.port);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"mail\""), 0);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_cert_for_other_name)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log;
	int round;

	smtpd_start(&s, OPTS("--starttls", "--cert", "other"));
	for (round = 0; round < 2; round++) {
		fx_init(&f, &s, round == 0 ? "localhost" : "127.0.0.1", 1);
		ck_assert_int_eq(fx_run(&f, 1, &e), -1);
		ck_assert_int_eq(e.code, EX_UNAVAILABLE);
		ck_assert_msg(strstr(e.msg, "TLS with ") == e.msg, "%s", e.msg);
		ck_assert_msg(strstr(e.msg, "certificate verification failed") != NULL &&
		                  strstr(e.msg, "name") != NULL,
		              "%s", e.msg);
		ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
		fx_free(&f);
	}
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"mail\""), 0);
	free(log);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_self_signed)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *got;

	smtpd_start(&s, OPTS("--starttls", "--cert", "self"));
	fx_init(&f, &s, "localhost", 1);
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	ck_assert_msg(strstr(e.msg, "certificate verification failed") != NULL, "%s", e.msg);
	fx_free(&f);
	ck_assert_ptr_null(tk_server_file(&s, "msg-1.eml"));

	fx_init(&f, &s, "localhost", 1);
	f.cfg.smtp.verify = 0;
	f.cfg.smtp.ca_file = NULL;
	ck_assert_int_eq(fx_run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_msg(strstr(f.logtext, "warning: smtp localhost:") != NULL &&
	                  strstr(f.logtext, "verify = false") != NULL,
	              "%s", f.logtext);
	got = tk_server_file(&s, "msg-1.eml");
	ck_assert_ptr_nonnull(got);
	free(got);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_auth_ok)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log;

	smtpd_start(&s, OPTS("--starttls", "--auth", "me:s3cret", "--auth-required"));
	fx_init(&f, &s, "localhost", 1);
	f.cfg.smtp.user = "me";
	f.cfg.smtp.password = "s3cret";
	ck_assert_int_eq(fx_run(&f, 1, &e), 0);
	ck_assert_msg(f.m[0].status == DELIVERY_ACCEPTED, "%s", f.m[0].detail);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"user\": \"me\", \"ok\": true"), 1);
	ck_assert_int_eq(tk_count(log, "\"tls\": true, \"authenticated\": true"), 1);
	ck_assert_ptr_null(strstr(f.logtext, "s3cret"));
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_auth_wrong_password)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char want[128], *log;

	/* the server does not require AUTH: unauthenticated mail would pass */
	smtpd_start(&s, OPTS("--starttls", "--auth", "me:s3cret"));
	fx_init(&f, &s, "localhost", 1);
	f.cfg.smtp.user = "me";
	f.cfg.smtp.password = "wrong";
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	/* the mechanism and the server's words */
	snprintf(want, sizeof want,
	         "authentication failed for user me at localhost:%d: AUTH PLAIN: 535 ", s.port);
	ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "Authentication credentials invalid") != NULL, "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	ck_assert_ptr_null(strstr(f.logtext, "wrong"));
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"ok\": false"), 1);
	ck_assert_int_eq(tk_count(log, "\"event\": \"mail\""), 0);
	ck_assert_int_eq(tk_count(log, "\"event\": \"message\""), 0);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_auth_required_not_configured)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log;

	smtpd_start(&s, OPTS("--auth-required"));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(fx_run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PERMFAIL);
	ck_assert_msg(strstr(f.m[0].detail, "refused the sender: 530 ") != NULL, "%s",
	              f.m[0].detail);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"message\""), 0);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_auth_configured_not_offered)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log;

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.user = "me";
	f.cfg.smtp.password = "pw";
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	ck_assert_msg(strstr(e.msg, "server does not offer AUTH") != NULL, "%s", e.msg);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"message\""), 0);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_greeting_421)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};

	smtpd_start(&s, OPTS("--mode", "greet421"));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_msg(strstr(e.msg, ": 421 4.3.2 Service not available") != NULL, "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

static void
rcpt_case(const char *code, int nrcpt, enum delivery_status want, const char *detail)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char opt[64], *got;

	snprintf(opt, sizeof opt, "rcpt@example.org=%s", code);
	smtpd_start(&s, OPTS("--rcpt", opt));
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[0].nrcpt = (size_t)nrcpt;
	ck_assert_int_eq(fx_run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, want);
	ck_assert_msg(strstr(f.m[0].detail, detail) != NULL, "%s", f.m[0].detail);
	got = tk_server_file(&s, "msg-1.eml");
	if (want == DELIVERY_ACCEPTED)
		ck_assert_ptr_nonnull(got);
	else
		ck_assert_ptr_null(got);
	free(got);
	fx_free(&f);
	tk_server_stop(&s);
}

START_TEST(smtp_rcpt_451)
{
	rcpt_case("451", 1, DELIVERY_TEMPFAIL, "refused for rcpt@example.org: 451 4.3.0");
}
END_TEST

START_TEST(smtp_rcpt_550)
{
	rcpt_case("550", 1, DELIVERY_PERMFAIL, "refused for rcpt@example.org: 550 5.1.1");
	/* one of two refused: delivered, the refusal still reported */
	rcpt_case("550", 2, DELIVERY_ACCEPTED, "refused for rcpt@example.org: 550 5.1.1");
}
END_TEST

static void
data_case(const char *code, enum delivery_status want, const char *detail)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};

	smtpd_start(&s, OPTS("--data-code", code));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, want);
	ck_assert_int_eq(f.m[1].status, want);
	ck_assert_msg(strstr(f.m[0].detail, detail) != NULL, "%s", f.m[0].detail);
	ck_assert_ptr_null(tk_server_file(&s, "msg-1.eml"));
	fx_free(&f);
	tk_server_stop(&s);
}

START_TEST(smtp_data_451)
{
	data_case("451", DELIVERY_TEMPFAIL, "refused the message: 451 4.3.0 Local error");
}
END_TEST

START_TEST(smtp_data_554)
{
	data_case("554", DELIVERY_PERMFAIL, "refused the message: 554 5.6.0 Message rejected");
}
END_TEST

START_TEST(smtp_dropped_mid_data)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log;

	smtpd_start(&s, OPTS("--mode", "dropdata"));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(fx_run(&f, 2, &e), -1);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_msg(strstr(e.msg, "connection lost") != NULL, "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	ck_assert_int_eq(f.m[1].status, DELIVERY_PENDING);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"dropped\""), 1);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_dropped_after_first)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *got;

	smtpd_start(&s, OPTS("--mode", "dropdata", "--drop-after", "1"));
	fx_init(&f, &s, "127.0.0.1", 0);
	/* the server ends the session after one message: a new one takes the next */
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_msg(f.m[1].status == DELIVERY_ACCEPTED, "%s", f.m[1].detail);
	got = tk_server_file(&s, "msg-1.eml");
	ck_assert_str_eq(got, f.text[0]);
	free(got);
	got = tk_server_file(&s, "msg-2.eml");
	ck_assert_str_eq(got, f.text[1]);
	free(got);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(smtp_closed_port)
{
	struct fixture f;
	struct err e = {0};
	struct tk_server s = {.port = tk_closed_port()};

	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_msg(strstr(e.msg, "cannot connect to 127.0.0.1:") == e.msg &&
	                  strstr(e.msg, "Connection refused") != NULL,
	              "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	fx_free(&f);
}
END_TEST

START_TEST(smtp_never_greets)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	struct timespec t0, t1;
	double secs;

	smtpd_start(&s, OPTS("--mode", "nogreet"));
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.timeout = 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* smtp.timeout bounds the wait for the greeting, which libesmtp would
	 * otherwise stretch to RFC 5321's five minutes; the upper bound is
	 * loose so that a loaded machine cannot fail it. */
	ck_assert_msg(secs >= 1.5 && secs < 60, "took %.1f s", secs);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

START_TEST(file_message_smtp)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	struct pair p;
	char *got;
	int i;

	pair_init(&p, 1);
	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	for (i = 0; i < 2; i++) {
		f.m[i].file = p.m[i].file;
		f.m[i].offset = p.m[i].offset;
		f.m[i].len = p.m[i].len;
	}
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(f.m[i].status == DELIVERY_ACCEPTED, "%s", f.m[i].detail);
		got = tk_server_file(&s, i == 0 ? "msg-1.eml" : "msg-2.eml");
		ck_assert_ptr_nonnull(got);
		/* byte for byte, dot-stuffing undone by the server */
		same_text(got, p.text.data, p.text.len);
		free(got);
	}
	fx_free(&f);
	pair_free(&p);
	tk_server_stop(&s);
}
END_TEST

/*
 * A run sends each digest as soon as it is written: the writer publishes
 * the second only once the server holds the first.  With 2 sessions too,
 * where the sender must keep the first transfer going while it waits for
 * the second message.
 */
START_TEST(messages_go_out_as_they_are_written)
{
	struct tk_server s;
	struct fixture f;
	struct writer w;
	struct err e = {0};
	char *got[2];

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.sessions = 1 + _i;
	writer_start(&w, f.m, 2, 2, &s);
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	writer_join(&w);
	ck_assert_msg(w.saw[1], "the first message was not sent before the second was written");
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(f.m[i].status == DELIVERY_ACCEPTED, "%s", f.m[i].detail);
		got[i] = tk_server_file(&s, i == 0 ? "msg-1.eml" : "msg-2.eml");
		ck_assert_ptr_nonnull(got[i]);
	}
	ck_assert_str_eq(got[0], f.text[0]);
	ck_assert_str_eq(got[1], f.text[1]);
	free(got[0]);
	free(got[1]);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

/*
 * The run failed after the first digest: that one goes, the second waits
 * unsent; or the first was passed over (2 sessions): the second goes.
 */
START_TEST(a_message_never_written_is_not_sent)
{
	struct tk_server s;
	struct fixture f;
	struct writer w;
	struct err e = {0};
	size_t sent = _i == 0 ? 0 : 1, unsent = 1 - sent;
	char *got;

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.sessions = 1 + _i;
	if (_i == 1)
		f.m[0].len = 0; /* published as passed over */
	writer_start(&w, f.m, 2, _i == 0 ? 1 : 2, NULL);
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	writer_join(&w);
	ck_assert_msg(f.m[sent].status == DELIVERY_ACCEPTED, "%s", f.m[sent].detail);
	ck_assert_int_eq(f.m[unsent].status, DELIVERY_PENDING);
	ck_assert_str_eq(f.m[unsent].detail, OUTMSG_UNWRITTEN);
	got = tk_server_file(&s, "msg-1.eml");
	ck_assert_str_eq(got, f.text[sent]);
	free(got);
	ck_assert_ptr_null(tk_server_file(&s, "msg-2.eml"));
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

/* A file shorter than its len: the connection is cut, nothing may pass for the whole message. */
START_TEST(file_message_short)
{
	struct err e = {0};
	struct tk_server s;
	struct fixture f;
	struct pair p;
	char *txt;

	pair_init(&p, 1);
	p.m[1].len += 100000; /* past the file's end, junk included */
	/* SMTP: the connection is cut, the server keeps nothing */
	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[0].file = p.m[1].file;
	f.m[0].offset = p.m[1].offset;
	f.m[0].len = p.m[1].len;
	ck_assert_int_eq(fx_run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_msg(strstr(e.msg, "cannot read the message: its file ends at byte ") == e.msg,
	              "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	ck_assert_ptr_null(tk_server_file(&s, "msg-1.eml"));
	fx_free(&f);
	/* after one that went through: that one counts, this one waits */
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[1].file = p.m[1].file;
	f.m[1].offset = p.m[1].offset;
	f.m[1].len = p.m[1].len;
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(f.m[1].status, DELIVERY_TEMPFAIL);
	ck_assert_msg(strstr(f.m[1].detail, "cannot read the message: its file ends") ==
	                  f.m[1].detail,
	              "%s", f.m[1].detail);
	txt = tk_server_file(&s, "msg-1.eml");
	ck_assert_str_eq(txt, f.text[0]);
	free(txt);
	ck_assert_ptr_null(tk_server_file(&s, "msg-2.eml"));
	fx_free(&f);
	pair_free(&p);
}
END_TEST

/* ---- smtp.c's own functions, called directly ---- */

/* smtp_deliver itself: what it says on the log, and each message's verdict. */
START_TEST(deliver_direct_logs)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char want[160];

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(smtp_deliver(&f.cfg.smtp, f.m, 2, f.log, &e), 0);
	fflush(f.log);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(f.m[1].status, DELIVERY_ACCEPTED);
	snprintf(want, sizeof want,
	         "tidings: smtp 127.0.0.1:%d: sending 2 messages in up to 1 session\n", s.port);
	ck_assert_msg(strstr(f.logtext, want) != NULL, "%s", f.logtext);
	snprintf(want, sizeof want, "tidings: smtp 127.0.0.1:%d: 2 of 2 accepted\n", s.port);
	ck_assert_msg(strstr(f.logtext, want) != NULL, "%s", f.logtext);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

/* A message without recipients is refused here; the others still go. */
START_TEST(no_recipients)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log, *got;

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[0].nrcpt = 0;
	ck_assert_int_eq(smtp_deliver(&f.cfg.smtp, f.m, 2, NULL, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PERMFAIL);
	ck_assert_str_eq(f.m[0].detail, "no recipients");
	ck_assert_int_eq(f.m[1].status, DELIVERY_ACCEPTED);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"message\""), 1);
	got = tk_server_file(&s, "msg-1.eml");
	ck_assert_str_eq(got, f.text[1]);
	free(got);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

/* The EHLO name: smtp.helo when set, else one with a dot; the server hears it. */
START_TEST(helo_name)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char name[256], want[400], *log;
	struct smtp_conf sc = {.helo = NULL};

	smtp_helo_name(&sc, "t@mail.example.net", name, sizeof name);
	ck_assert_msg(strchr(name, '.') != NULL && name[strlen(name) - 1] != '.', "%s", name);
	smtp_helo_name(&sc, "nodomain", name, sizeof name);
	ck_assert_msg(strchr(name, '.') != NULL, "%s", name);
	sc.helo = "client.example.net";
	smtp_helo_name(&sc, "t@mail.example.net", name, sizeof name);
	ck_assert_str_eq(name, "client.example.net");

	smtpd_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.helo = _i ? "client.example.net" : NULL;
	smtp_helo_name(&f.cfg.smtp, f.m[0].envelope_from, name, sizeof name);
	ck_assert_int_eq(fx_run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	log = tk_server_file(&s, "log.jsonl");
	snprintf(want, sizeof want, "\"event\": \"ehlo\", \"session\": 1, \"name\": \"%s\"", name);
	ck_assert_msg(tk_count(log, want) == 1, "%s not in %s", want, log);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

/* smtp.sessions = 2: both messages start at once, each on its own connection. */
START_TEST(two_sessions)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char *log;

	smtpd_start(&s, OPTS("--delay", "0.2"));
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.sessions = 2;
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(f.m[1].status, DELIVERY_ACCEPTED);
	ck_assert_msg(strstr(f.logtext, "sending 2 messages in up to 2 sessions") != NULL, "%s",
	              f.logtext);
	log = tk_server_file(&s, "log.jsonl");
	ck_assert_int_eq(tk_count(log, "\"event\": \"ehlo\""), 2);
	ck_assert_int_eq(tk_count(log, "\"event\": \"message\", \"session\": 1,"), 1);
	ck_assert_int_eq(tk_count(log, "\"event\": \"message\", \"session\": 2,"), 1);
	free(log);
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

/* A server's SIZE limit below the message: refused for good, the limit named. */
START_TEST(size_limit)
{
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	char want[200];

	smtpd_start(&s, OPTS("--mode", "raw", "--size-limit", "100"));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(fx_run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PERMFAIL);
	snprintf(want, sizeof want,
	         "127.0.0.1:%d refused the message of %zu bytes: the limit is 100 bytes: 552",
	         s.port, f.m[0].len);
	ck_assert_msg(strstr(f.m[0].detail, want) == f.m[0].detail, "%s", f.m[0].detail);
	ck_assert_ptr_null(tk_server_file(&s, "msg-1.eml"));
	fx_free(&f);
	tk_server_stop(&s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp");
	TCase *tc = tcase_create("smtp");
	SRunner *sr;
	int failed;

	if (certs_make() != 0)
		return EXIT_FAILURE;
	tcase_add_test(tc, smtp_plain);
	tcase_add_test(tc, smtp_two_messages_one_session);
	tcase_add_test(tc, smtp_starttls_ok);
	tcase_add_test(tc, smtp_starttls_not_offered);
	tcase_add_test(tc, smtp_cert_for_other_name);
	tcase_add_test(tc, smtp_self_signed);
	tcase_add_test(tc, smtp_auth_ok);
	tcase_add_test(tc, smtp_auth_wrong_password);
	tcase_add_test(tc, smtp_auth_required_not_configured);
	tcase_add_test(tc, smtp_auth_configured_not_offered);
	tcase_add_test(tc, smtp_greeting_421);
	tcase_add_test(tc, smtp_rcpt_451);
	tcase_add_test(tc, smtp_rcpt_550);
	tcase_add_test(tc, smtp_data_451);
	tcase_add_test(tc, smtp_data_554);
	tcase_add_test(tc, smtp_dropped_mid_data);
	tcase_add_test(tc, smtp_dropped_after_first);
	tcase_add_test(tc, smtp_closed_port);
	tcase_add_test(tc, smtp_never_greets);
	tcase_add_test(tc, file_message_smtp);
	tcase_add_test(tc, file_message_short);
	tcase_add_loop_test(tc, messages_go_out_as_they_are_written, 0, 2);
	tcase_add_loop_test(tc, a_message_never_written_is_not_sent, 0, 2);
	tcase_add_test(tc, deliver_direct_logs);
	tcase_add_test(tc, no_recipients);
	tcase_add_loop_test(tc, helo_name, 0, 2);
	tcase_add_test(tc, two_sessions);
	tcase_add_test(tc, size_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	certs_remove();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
