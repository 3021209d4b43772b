/*
 * Unit tests for src/deliver.c: real deliveries to tests/harness/smtpd.py
 * (started here on a free 127.0.0.1 port), to an mbox and to a maildir.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "message.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static char certs_dir[64];

struct srv {
	pid_t pid;
	int port;
	char dir[64];
};

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char tmp[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		ck_assert_int_eq(buf_add(&b, tmp, n), 0);
	fclose(f);
	return buf_steal(&b);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while (hay != NULL && (hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* Start smtpd.py with the given options (NULL-terminated). */
static void
srv_start(struct srv *s, const char *const *opts)
{
	const char *argv[32];
	char portfile[96], *txt;
	int i = 0, j, tries;

	strcpy(s->dir, "/tmp/tdeliver.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(portfile, sizeof portfile, "%s/port", s->dir);
	argv[i++] = "/usr/bin/python3";
	argv[i++] = TOP_SRCDIR "/tests/harness/smtpd.py";
	argv[i++] = "--dir";
	argv[i++] = s->dir;
	argv[i++] = "--port-file";
	argv[i++] = portfile;
	argv[i++] = "--certs-dir";
	argv[i++] = certs_dir;
	for (j = 0; opts != NULL && opts[j] != NULL && i < 31; j++)
		argv[i++] = opts[j];
	argv[i] = NULL;
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		/* die with the test, even when an assertion ends it early */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	/* Python starts slowly on a loaded machine: wait as long as it lives,
	 * up to five minutes (a guard against a hang, not a speed test). */
	for (tries = 0; tries < 6000; tries++) {
		if ((txt = slurp(portfile)) != NULL) {
			s->port = atoi(txt);
			free(txt);
			return;
		}
		ck_assert_msg(waitpid(s->pid, NULL, WNOHANG) == 0, "smtpd.py exited before listening");
		usleep(50000);
	}
	ck_abort_msg("smtpd.py did not start in five minutes");
}

static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static void
srv_stop(struct srv *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	rm_rf(s->dir);
}

static char *
srv_file(const struct srv *s, const char *name)
{
	char p[160];

	snprintf(p, sizeof p, "%s/%s", s->dir, name);
	return slurp(p);
}

struct fixture {
	struct config cfg;
	struct buf data[2];
	struct outmsg m[2];
	char *rcpt[2];
	char *logtext;
	size_t loglen;
	FILE *log;
	char ca[96];
};

static void
fx_init(struct fixture *f, const struct srv *s, const char *host, int tls)
{
	static char *to1[] = {"rcpt@example.org"};
	struct message_spec spec = {
		.from = "Tidings <tidings@example.org>", .to = to1, .nto = 1,
		.subject = "Digest", .date = 1700000000,
		.text = "hello\n.\nFrom here\n", .text_len = 18,
		.html = "<p>hello</p>\n", .html_len = 13,
	};
	char mid[128];
	struct err e = {0};
	int i;

	memset(f, 0, sizeof *f);
	f->cfg.deliver = DELIVER_SMTP;
	f->cfg.smtp.host = (char *)host;
	f->cfg.smtp.port = s != NULL ? s->port : 1;
	f->cfg.smtp.tls = tls ? TLS_STARTTLS : TLS_NONE;
	f->cfg.smtp.verify = 1;
	f->cfg.smtp.timeout = 5;
	snprintf(f->ca, sizeof f->ca, "%s/ca.pem", certs_dir);
	f->cfg.smtp.ca_file = f->ca;
	f->rcpt[0] = "rcpt@example.org";
	f->rcpt[1] = "second@example.org";
	for (i = 0; i < 2; i++) {
		spec.subject = i == 0 ? "Digest one" : "Digest two";
		ck_assert_int_eq(message_build(&spec, &f->data[i], mid, sizeof mid, &e), 0);
		f->m[i].data = f->data[i].data;
		f->m[i].len = f->data[i].len;
		f->m[i].envelope_from = "tidings@example.org";
		f->m[i].rcpt = f->rcpt;
		f->m[i].nrcpt = 1;
	}
	f->log = open_memstream(&f->logtext, &f->loglen);
	ck_assert_ptr_nonnull(f->log);
}

static void
fx_free(struct fixture *f)
{
	fclose(f->log);
	free(f->logtext);
	buf_free(&f->data[0]);
	buf_free(&f->data[1]);
}

static int
run(struct fixture *f, size_t n, struct err *e)
{
	int r = deliver(&f->cfg, f->m, n, f->log, e);

	fflush(f->log);
	return r;
}

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(smtp_plain)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *got, *log;

	srv_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	got = srv_file(&s, "msg-1.eml");
	ck_assert_ptr_nonnull(got);
	/* the server got our text byte for byte: no header added or lost */
	ck_assert_str_eq(got, f.m[0].data);
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"mail_from\": \"tidings@example.org\""), 1);
	ck_assert_int_eq(count(log, "\"rcpt_tos\": [\"rcpt@example.org\"]"), 1);
	free(got);
	free(log);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_two_messages_one_session)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *log, *m2;

	srv_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[1].nrcpt = 2;
	ck_assert_int_eq(run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(f.m[1].status, DELIVERY_ACCEPTED);
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"event\": \"message\", \"session\": 1,"), 2);
	ck_assert_int_eq(count(log, "\"event\": \"ehlo\""), 1);
	m2 = srv_file(&s, "msg-2.eml");
	ck_assert_int_eq(count(m2, "Subject: Digest two\r\n"), 1);
	ck_assert_int_eq(count(log, "\"second@example.org\"]"), 1);
	free(log);
	free(m2);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_starttls_ok)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *log;
	int round;

	srv_start(&s, OPTS("--starttls", "--require-starttls"));
	/* two TLS sessions in one process: libesmtp's cached-ctx bug */
	for (round = 0; round < 2; round++) {
		fx_init(&f, &s, round == 0 ? "localhost" : "127.0.0.1", 1);
		ck_assert_int_eq(run(&f, 1, &e), 0);
		ck_assert_msg(f.m[0].status == DELIVERY_ACCEPTED, "%s", f.m[0].detail);
		fx_free(&f);
	}
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"tls\": true, \"authenticated\": false"), 2);
	/* SNI for the name, none for the IP address */
	ck_assert_int_eq(count(log, "\"event\": \"sni\", \"name\": \"localhost\""), 1);
	ck_assert_int_eq(count(log, "\"event\": \"sni\""), 2);
	ck_assert_int_eq(count(log, "\"event\": \"sni\", \"name\": null"), 1);
	free(log);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_starttls_not_offered)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char want[64], *log;

	srv_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 1);
	ck_assert_int_eq(run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	snprintf(want, sizeof want, "127.0.0.1:%d does not offer STARTTLS", s.port);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"event\": \"mail\""), 0);
	free(log);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_cert_for_other_name)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *log;
	int round;

	srv_start(&s, OPTS("--starttls", "--cert", "other"));
	for (round = 0; round < 2; round++) {
		fx_init(&f, &s, round == 0 ? "localhost" : "127.0.0.1", 1);
		ck_assert_int_eq(run(&f, 1, &e), -1);
		ck_assert_int_eq(e.code, EX_UNAVAILABLE);
		ck_assert_msg(strstr(e.msg, "TLS with ") == e.msg, "%s", e.msg);
		ck_assert_msg(strstr(e.msg, "certificate verification failed") != NULL &&
		    strstr(e.msg, "name") != NULL, "%s", e.msg);
		ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
		fx_free(&f);
	}
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"event\": \"mail\""), 0);
	free(log);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_self_signed)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *got;

	srv_start(&s, OPTS("--starttls", "--cert", "self"));
	fx_init(&f, &s, "localhost", 1);
	ck_assert_int_eq(run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	ck_assert_msg(strstr(e.msg, "certificate verification failed") != NULL,
	    "%s", e.msg);
	fx_free(&f);
	ck_assert_ptr_null(srv_file(&s, "msg-1.eml"));

	fx_init(&f, &s, "localhost", 1);
	f.cfg.smtp.verify = 0;
	f.cfg.smtp.ca_file = NULL;
	ck_assert_int_eq(run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_msg(strstr(f.logtext, "warning: smtp localhost:") != NULL &&
	    strstr(f.logtext, "verify = false") != NULL, "%s", f.logtext);
	got = srv_file(&s, "msg-1.eml");
	ck_assert_ptr_nonnull(got);
	free(got);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_auth_ok)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *log;

	srv_start(&s, OPTS("--starttls", "--auth", "me:s3cret", "--auth-required"));
	fx_init(&f, &s, "localhost", 1);
	f.cfg.smtp.user = "me";
	f.cfg.smtp.password = "s3cret";
	ck_assert_int_eq(run(&f, 1, &e), 0);
	ck_assert_msg(f.m[0].status == DELIVERY_ACCEPTED, "%s", f.m[0].detail);
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"user\": \"me\", \"ok\": true"), 1);
	ck_assert_int_eq(count(log, "\"tls\": true, \"authenticated\": true"), 1);
	ck_assert_ptr_null(strstr(f.logtext, "s3cret"));
	free(log);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_auth_wrong_password)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char want[128], *log;

	/* the server does not require AUTH: unauthenticated mail would pass */
	srv_start(&s, OPTS("--starttls", "--auth", "me:s3cret"));
	fx_init(&f, &s, "localhost", 1);
	f.cfg.smtp.user = "me";
	f.cfg.smtp.password = "wrong";
	ck_assert_int_eq(run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	/* the mechanism and the server's words */
	snprintf(want, sizeof want,
	    "authentication failed for user me at localhost:%d: AUTH PLAIN: 535 ", s.port);
	ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "Authentication credentials invalid") != NULL,
	    "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	ck_assert_ptr_null(strstr(f.logtext, "wrong"));
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"ok\": false"), 1);
	ck_assert_int_eq(count(log, "\"event\": \"mail\""), 0);
	ck_assert_int_eq(count(log, "\"event\": \"message\""), 0);
	free(log);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_auth_required_not_configured)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *log;

	srv_start(&s, OPTS("--auth-required"));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PERMFAIL);
	ck_assert_msg(strstr(f.m[0].detail, "refused the sender: 530 ") != NULL,
	    "%s", f.m[0].detail);
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"event\": \"message\""), 0);
	free(log);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_auth_configured_not_offered)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *log;

	srv_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.user = "me";
	f.cfg.smtp.password = "pw";
	ck_assert_int_eq(run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_UNAVAILABLE);
	ck_assert_msg(strstr(e.msg, "server does not offer AUTH") != NULL, "%s", e.msg);
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"event\": \"message\""), 0);
	free(log);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_greeting_421)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};

	srv_start(&s, OPTS("--mode", "greet421"));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_msg(strstr(e.msg, ": 421 4.3.2 Service not available") != NULL,
	    "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

static void
rcpt_case(const char *code, int nrcpt, enum delivery_status want, const char *detail)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char opt[64], *got;

	snprintf(opt, sizeof opt, "rcpt@example.org=%s", code);
	srv_start(&s, OPTS("--rcpt", opt));
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[0].nrcpt = (size_t)nrcpt;
	ck_assert_int_eq(run(&f, 1, &e), 0);
	ck_assert_int_eq(f.m[0].status, want);
	ck_assert_msg(strstr(f.m[0].detail, detail) != NULL, "%s", f.m[0].detail);
	got = srv_file(&s, "msg-1.eml");
	if (want == DELIVERY_ACCEPTED)
		ck_assert_ptr_nonnull(got);
	else
		ck_assert_ptr_null(got);
	free(got);
	fx_free(&f);
	srv_stop(&s);
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
	struct srv s;
	struct fixture f;
	struct err e = {0};

	srv_start(&s, OPTS("--data-code", code));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, want);
	ck_assert_int_eq(f.m[1].status, want);
	ck_assert_msg(strstr(f.m[0].detail, detail) != NULL, "%s", f.m[0].detail);
	ck_assert_ptr_null(srv_file(&s, "msg-1.eml"));
	fx_free(&f);
	srv_stop(&s);
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
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *log;

	srv_start(&s, OPTS("--mode", "dropdata"));
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(run(&f, 2, &e), -1);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_msg(strstr(e.msg, "connection lost") != NULL, "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	ck_assert_int_eq(f.m[1].status, DELIVERY_PENDING);
	log = srv_file(&s, "log.jsonl");
	ck_assert_int_eq(count(log, "\"event\": \"dropped\""), 1);
	free(log);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_dropped_after_first)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	char *got;

	srv_start(&s, OPTS("--mode", "dropdata", "--drop-after", "1"));
	fx_init(&f, &s, "127.0.0.1", 0);
	/* the server ends the session after one message: a new one takes the next */
	ck_assert_int_eq(run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_msg(f.m[1].status == DELIVERY_ACCEPTED, "%s", f.m[1].detail);
	got = srv_file(&s, "msg-1.eml");
	ck_assert_str_eq(got, f.m[0].data);
	free(got);
	got = srv_file(&s, "msg-2.eml");
	ck_assert_str_eq(got, f.m[1].data);
	free(got);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(smtp_closed_port)
{
	struct fixture f;
	struct err e = {0};
	struct srv s = {0};
	int fd;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;

	/* a port that was free a moment ago */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	s.port = ntohs(sa.sin_port);
	close(fd);
	fx_init(&f, &s, "127.0.0.1", 0);
	ck_assert_int_eq(run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_msg(strstr(e.msg, "cannot connect to 127.0.0.1:") == e.msg &&
	    strstr(e.msg, "Connection refused") != NULL, "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	fx_free(&f);
}
END_TEST

START_TEST(smtp_never_greets)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	struct timespec t0, t1;
	double secs;

	srv_start(&s, OPTS("--mode", "nogreet"));
	fx_init(&f, &s, "127.0.0.1", 0);
	f.cfg.smtp.timeout = 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(run(&f, 1, &e), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* smtp.timeout bounds the wait for the greeting, which libesmtp would
	 * otherwise stretch to RFC 5321's five minutes; the upper bound is
	 * loose so that a loaded machine cannot fail it. */
	ck_assert_msg(secs >= 1.5 && secs < 60, "took %.1f s", secs);
	ck_assert_int_eq(e.code, EX_TEMPFAIL);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	fx_free(&f);
	srv_stop(&s);
}
END_TEST

START_TEST(mbox_appends_mboxrd)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64], *txt;
	struct config cfg;
	struct outmsg m[2];
	char *rcpt[] = {"r@example.org"};
	struct err e = {0};
	const char *a = "Subject: one\r\n\r\nFrom me\r\n>From you\r\nx From y\r\n";
	const char *b = "Subject: two\r\n\r\nbody";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/mbox", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = path;
	memset(m, 0, sizeof m);
	m[0].data = a;
	m[0].len = strlen(a);
	m[1].data = b;
	m[1].len = strlen(b);
	m[0].envelope_from = m[1].envelope_from = "t@example.org";
	m[0].rcpt = m[1].rcpt = rcpt;
	m[0].nrcpt = m[1].nrcpt = 1;
	ck_assert_int_eq(deliver(&cfg, m, 1, NULL, &e), 0);
	ck_assert_int_eq(m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(deliver(&cfg, m + 1, 1, NULL, &e), 0);
	ck_assert_int_eq(m[1].status, DELIVERY_ACCEPTED);
	txt = slurp(path);
	ck_assert_ptr_nonnull(txt);
	ck_assert_ptr_null(strchr(txt, '\r'));
	ck_assert_int_eq(count(txt, "\nFrom t@example.org "), 1);
	ck_assert(strncmp(txt, "From t@example.org ", 19) == 0);
	ck_assert_ptr_nonnull(strstr(txt, "\n\n>From me\n>>From you\nx From y\n\nFrom t@"));
	ck_assert_ptr_nonnull(strstr(txt, "Subject: two\n\nbody\n\n"));
	ck_assert_int_eq(txt[strlen(txt) - 1], '\n');
	free(txt);

	cfg.deliver_path = "/nonexistent/dir/mbox";
	ck_assert_int_eq(deliver(&cfg, m, 1, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_CANTCREAT);
	ck_assert_int_eq(m[0].status, DELIVERY_PENDING);
	rm_rf(dir);
}
END_TEST

START_TEST(maildir_new_file)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", md[64], p[400], *txt;
	struct config cfg;
	struct outmsg m[2];
	char *rcpt[] = {"r@example.org"};
	struct err e = {0};
	const char *a = "Subject: one\r\n\r\nFrom me\r\n";
	struct dirent *de;
	DIR *d;
	int files = 0;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(md, sizeof md, "%s/Mail", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MAILDIR;
	cfg.deliver_path = md;
	memset(m, 0, sizeof m);
	m[0].data = m[1].data = a;
	m[0].len = m[1].len = strlen(a);
	m[0].envelope_from = m[1].envelope_from = "t@example.org";
	m[0].rcpt = m[1].rcpt = rcpt;
	m[0].nrcpt = m[1].nrcpt = 1;
	ck_assert_int_eq(deliver(&cfg, m, 2, NULL, &e), 0);
	ck_assert_int_eq(m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(m[1].status, DELIVERY_ACCEPTED);
	snprintf(p, sizeof p, "%s/cur", md);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	snprintf(p, sizeof p, "%s/new", md);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		files++;
		snprintf(p, sizeof p, "%s/new/%s", md, de->d_name);
		txt = slurp(p);
		/* maildir is not mbox: no From_ line, no quoting, LF ends */
		ck_assert_str_eq(txt, "Subject: one\n\nFrom me\n");
		free(txt);
	}
	closedir(d);
	ck_assert_int_eq(files, 2);
	snprintf(p, sizeof p, "%s/tmp", md);
	d = opendir(p);
	files = 0;
	while ((de = readdir(d)) != NULL)
		files += de->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(files, 0);
	rm_rf(dir);
}
END_TEST

/* ---- messages in files: the same bytes as messages in memory ---- */

#define CHUNK (64 * 1024)  /* deliver.c reads, sends and writes in such steps */

/* Lines until b reaches at, the last one ending in a LF exactly there. */
static void
lines_to(struct buf *b, size_t at)
{
	static const char *const starts[] = {
		"From here ", ">From there ", ">>From x", ".", "..", "", "x From y ",
		"Fro", "From", " From ", ">", "plain ",
	};
	const char *st;
	size_t i = 0, l;

	while (b->len + 2 < at) {
		st = starts[i % 12];
		if (b->len + strlen(st) + 2 > at)
			st = "";
		ck_assert_int_eq(buf_adds(b, st), 0);
		for (l = (i * 37) % 300; l > 0 && b->len + 2 < at; l--)
			ck_assert_int_eq(buf_addc(b, (char)('a' + l % 26)), 0);
		ck_assert_int_eq(buf_adds(b, "\r\n"), 0);
		i++;
	}
	/* one byte short: a bare LF ends the last line */
	if (b->len + 1 == at)
		ck_assert_int_eq(buf_addc(b, '\n'), 0);
	ck_assert_uint_eq(b->len, at);
}

/*
 * A message of about 5 chunks, cut by deliver's reads at multiples of
 * CHUNK: a CRLF split across the first, a ">From " line across the
 * second, a "From " line starting right at the third.
 */
static void
big_message(struct buf *b)
{
	ck_assert_int_eq(buf_adds(b, "From: Tidings <tidings@example.org>\r\n"
	    "To: rcpt@example.org\r\nSubject: big\r\n"
	    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	    "Message-ID: <big.1700000000@example.org>\r\n\r\n"), 0);
	lines_to(b, CHUNK - 9);
	ck_assert_int_eq(buf_adds(b, "12345678\r\n"), 0);   /* CR at CHUNK-1, LF at CHUNK */
	lines_to(b, 2 * CHUNK - 3);
	ck_assert_int_eq(buf_adds(b, ">>From the middle\r\n"), 0);
	lines_to(b, 3 * CHUNK);
	ck_assert_int_eq(buf_adds(b, "From the start of a chunk\r\n.\r\n"), 0);
	lines_to(b, 5 * CHUNK + 1234);
	ck_assert(memcmp(b->data + CHUNK - 1, "\r\n", 2) == 0);
	ck_assert(memcmp(b->data + 2 * CHUNK - 1, "From", 4) == 0);
	ck_assert(memcmp(b->data + 3 * CHUNK - 2, "\r\nFrom the", 10) == 0);
}

/* A file holding text and junk after it, its offset left at the end. */
static FILE *
message_file(const char *text, size_t n)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, n, f), n);
	ck_assert_int_ge(fputs("JUNK AFTER THE MESSAGE\r\n", f), 0);
	ck_assert_int_eq(fflush(f), 0);
	return f;
}

/* The stored form, computed the plain way: LF ends, mboxrd quoting. */
static void
stored_form(const char *p, size_t n, int mbox, struct buf *out)
{
	const char *end = p + n, *nl;
	size_t l, k;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		for (k = 0; mbox && k < l && p[k] == '>'; k++)
			;
		if (mbox && l - k >= 5 && memcmp(p + k, "From ", 5) == 0)
			ck_assert_int_eq(buf_addc(out, '>'), 0);
		ck_assert_int_eq(buf_add(out, p, l), 0);
		ck_assert_int_eq(buf_addc(out, '\n'), 0);
		p = nl != NULL ? nl + 1 : end;
	}
	if (mbox)
		ck_assert_int_eq(buf_addc(out, '\n'), 0);
}

/* An mbox text without the From_ lines' dates, which tick. */
static void
undate(char *s)
{
	char *p = s, *nl;

	while ((p = strstr(p, "From t@example.org ")) != NULL) {
		if (p != s && p[-1] != '\n') {
			p++;
			continue;
		}
		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		memmove(p + 19, nl, strlen(nl) + 1);
		p += 19;
	}
}

/* Large texts equal (Check cannot print them): where they part, if not. */
static void
same_text(const char *got, const char *want, size_t n)
{
	size_t i;

	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	ck_assert_msg(i == n && got[n] == '\0', "texts differ at byte %zu of %zu: "
	    "\"%.40s\"", i, n, got + i);
}

struct pair {
	struct buf text;        /* the message, CRLF */
	FILE *f;
	struct outmsg m[2];     /* [0] in memory, [1] the same in a file */
	char *rcpt[1];
};

static void
pair_init(struct pair *p, int final_crlf)
{
	memset(p, 0, sizeof *p);
	big_message(&p->text);
	if (!final_crlf)
		ck_assert_int_eq(buf_adds(&p->text, "no final newline\r"), 0);
	p->f = message_file(p->text.data, p->text.len);
	p->rcpt[0] = "rcpt@example.org";
	p->m[0].data = p->text.data;
	p->m[1].file = p->f;
	p->m[0].len = p->m[1].len = p->text.len;
	p->m[0].envelope_from = p->m[1].envelope_from = "t@example.org";
	p->m[0].rcpt = p->m[1].rcpt = p->rcpt;
	p->m[0].nrcpt = p->m[1].nrcpt = 1;
}

static void
pair_free(struct pair *p)
{
	fclose(p->f);
	buf_free(&p->text);
}

static char *
mbox_of(struct outmsg *m, size_t n, const char *path)
{
	struct config cfg;
	struct err e = {0};
	char *txt;

	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = (char *)path;
	ck_assert_msg(deliver(&cfg, m, n, NULL, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(m[0].status, DELIVERY_ACCEPTED);
	txt = slurp(path);
	ck_assert_ptr_nonnull(txt);
	unlink(path);
	undate(txt);
	return txt;
}

START_TEST(file_message_mbox)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64], *from_mem, *from_file;
	struct buf want = BUF_INIT;
	struct pair p;

	pair_init(&p, _i);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/mbox", dir);
	from_mem = mbox_of(&p.m[0], 1, path);
	from_file = mbox_of(&p.m[1], 1, path);
	ck_assert_int_eq(buf_adds(&want, "From t@example.org \n"), 0);
	stored_form(p.text.data, p.text.len, 1, &want);
	same_text(from_mem, want.data, want.len);
	same_text(from_file, want.data, want.len);
	ck_assert_ptr_nonnull(strstr(from_file, "\n>>>From the middle\n"));
	ck_assert_ptr_nonnull(strstr(from_file, "\n12345678\n"));
	ck_assert_ptr_null(strstr(from_file, "JUNK"));
	free(from_mem);
	free(from_file);
	/* both kinds in one delivery */
	from_mem = mbox_of(p.m, 2, path);
	same_text(from_mem + want.len, want.data, want.len);
	from_mem[want.len] = '\0';
	same_text(from_mem, want.data, want.len);
	free(from_mem);
	buf_free(&want);
	pair_free(&p);
	rm_rf(dir);
}
END_TEST

/* The only file in md/new, read and removed. */
static char *
maildir_take(const char *md)
{
	char p[400], *txt = NULL;
	struct dirent *de;
	DIR *d;
	int files = 0;

	snprintf(p, sizeof p, "%s/new", md);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		files++;
		snprintf(p, sizeof p, "%s/new/%s", md, de->d_name);
		txt = slurp(p);
		unlink(p);
	}
	closedir(d);
	ck_assert_int_eq(files, 1);
	return txt;
}

START_TEST(file_message_maildir)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", md[64], *got;
	struct buf want = BUF_INIT;
	struct config cfg;
	struct err e = {0};
	struct pair p;
	int i;

	pair_init(&p, _i);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(md, sizeof md, "%s/Mail", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MAILDIR;
	cfg.deliver_path = md;
	stored_form(p.text.data, p.text.len, 0, &want);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(deliver(&cfg, &p.m[i], 1, NULL, &e) == 0, "%s", e.msg);
		ck_assert_int_eq(p.m[i].status, DELIVERY_ACCEPTED);
		got = maildir_take(md);
		same_text(got, want.data, want.len);
		ck_assert_ptr_nonnull(strstr(got, "\nFrom the start of a chunk\n"));
		free(got);
	}
	buf_free(&want);
	pair_free(&p);
	rm_rf(dir);
}
END_TEST

START_TEST(file_message_stdout)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64], *got;
	struct buf want = BUF_INIT;
	struct config cfg;
	struct err e = {0};
	struct pair p;
	int fd, saved;

	pair_init(&p, 1);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/out", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_STDOUT;
	/* this test runs in its own process: stdout may go to a file */
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 1), 1);
	close(fd);
	ck_assert_int_eq(deliver(&cfg, p.m, 2, NULL, &e), 0);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ck_assert_int_eq(p.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(p.m[1].status, DELIVERY_ACCEPTED);
	got = slurp(path);
	ck_assert_ptr_nonnull(got);
	undate(got);
	ck_assert_int_eq(buf_adds(&want, "From t@example.org \n"), 0);
	stored_form(p.text.data, p.text.len, 1, &want);
	same_text(got + want.len, want.data, want.len);
	got[want.len] = '\0';
	same_text(got, want.data, want.len);
	free(got);
	buf_free(&want);
	pair_free(&p);
	rm_rf(dir);
}
END_TEST

START_TEST(file_message_smtp)
{
	struct srv s;
	struct fixture f;
	struct err e = {0};
	struct pair p;
	char *got;
	int i;

	pair_init(&p, 1);
	srv_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	for (i = 0; i < 2; i++) {
		f.m[i].data = p.m[i].data;
		f.m[i].file = p.m[i].file;
		f.m[i].len = p.m[i].len;
	}
	ck_assert_int_eq(run(&f, 2, &e), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(f.m[i].status == DELIVERY_ACCEPTED, "%s", f.m[i].detail);
		got = srv_file(&s, i == 0 ? "msg-1.eml" : "msg-2.eml");
		ck_assert_ptr_nonnull(got);
		/* byte for byte, dot-stuffing undone by the server */
		same_text(got, p.text.data, p.text.len);
		free(got);
	}
	fx_free(&f);
	pair_free(&p);
	srv_stop(&s);
}
END_TEST

/* A file shorter than its len: nothing may pass for the whole message. */
START_TEST(file_message_short)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[96], md[64], *txt;
	struct config cfg;
	struct err e = {0};
	struct srv s;
	struct fixture f;
	struct pair p;

	pair_init(&p, 1);
	p.m[1].len += 100000;   /* past the file's end, junk included */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&cfg, 0, sizeof cfg);

	/* mbox: what was there stays, the one before it stays, nothing of it is added */
	snprintf(path, sizeof path, "%s/mbox", dir);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = path;
	ck_assert_int_eq(deliver(&cfg, p.m, 1, NULL, &e), 0);
	ck_assert_int_eq(deliver(&cfg, p.m + 1, 1, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_msg(strstr(e.msg, "cannot read the message: its file ends at byte ")
	    == e.msg, "%s", e.msg);
	ck_assert_int_eq(deliver(&cfg, p.m, 2, NULL, &e), 0);
	ck_assert_int_eq(p.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(p.m[1].status, DELIVERY_TEMPFAIL);
	ck_assert_msg(strstr(p.m[1].detail, "cannot read the message: its file ends at byte ")
	    == p.m[1].detail, "%s", p.m[1].detail);
	txt = slurp(path);
	ck_assert_int_eq(count(txt, "\nFrom t@example.org "), 1);
	ck_assert(strncmp(txt, "From t@example.org ", 19) == 0);
	ck_assert_int_eq(strlen(txt) % 2, 0);  /* two whole copies of one message */
	ck_assert(memcmp(txt, txt + strlen(txt) / 2, 5) == 0);
	free(txt);

	/* maildir: no file in new/ or tmp/ */
	snprintf(md, sizeof md, "%s/Mail", dir);
	cfg.deliver = DELIVER_MAILDIR;
	cfg.deliver_path = md;
	ck_assert_int_eq(deliver(&cfg, &p.m[1], 1, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	snprintf(path, sizeof path, "%s/new", md);
	ck_assert_int_eq(rmdir(path), 0);
	snprintf(path, sizeof path, "%s/tmp", md);
	ck_assert_int_eq(rmdir(path), 0);

	/* SMTP: the connection is cut, the server keeps nothing */
	srv_start(&s, NULL);
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[0].data = NULL;
	f.m[0].file = p.f;
	f.m[0].len = p.m[1].len;
	ck_assert_int_eq(run(&f, 1, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_msg(strstr(e.msg, "cannot read the message: its file ends at byte ")
	    == e.msg, "%s", e.msg);
	ck_assert_int_eq(f.m[0].status, DELIVERY_PENDING);
	ck_assert_ptr_null(srv_file(&s, "msg-1.eml"));
	fx_free(&f);
	/* after one that went through: that one counts, this one waits */
	fx_init(&f, &s, "127.0.0.1", 0);
	f.m[1].data = NULL;
	f.m[1].file = p.f;
	f.m[1].len = p.m[1].len;
	ck_assert_int_eq(run(&f, 2, &e), 0);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(f.m[1].status, DELIVERY_TEMPFAIL);
	ck_assert_msg(strstr(f.m[1].detail, "cannot read the message: its file ends")
	    == f.m[1].detail, "%s", f.m[1].detail);
	txt = srv_file(&s, "msg-1.eml");
	ck_assert_str_eq(txt, f.m[0].data);
	free(txt);
	ck_assert_ptr_null(srv_file(&s, "msg-2.eml"));
	fx_free(&f);
	srv_stop(&s);
	pair_free(&p);
	rm_rf(dir);
}
END_TEST

/* An mbox whose last line has no newline: it gets one, and the blank line mboxrd wants. */
START_TEST(mbox_unterminated)
{
	static const char *const before[] = {"half a line", "a line\n", "two\n\n", ""};
	static const char *const after[] = {"half a line\n\nFrom t@", "a line\n\nFrom t@",
	    "two\n\nFrom t@", "From t@"};
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64], *txt;
	struct config cfg;
	struct outmsg m;
	char *rcpt[] = {"r@example.org"};
	struct err e = {0};
	const char *a = "Subject: one\r\n\r\nbody\r\n";
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/mbox", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = path;
	memset(&m, 0, sizeof m);
	m.data = a;
	m.len = strlen(a);
	m.envelope_from = "t@example.org";
	m.rcpt = rcpt;
	m.nrcpt = 1;
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(before[_i], f);
	fclose(f);
	ck_assert_int_eq(deliver(&cfg, &m, 1, NULL, &e), 0);
	ck_assert_int_eq(m.status, DELIVERY_ACCEPTED);
	txt = slurp(path);
	ck_assert_msg(strncmp(txt, after[_i], strlen(after[_i])) == 0, "%s", txt);
	ck_assert_int_eq(count(txt, "\nbody\n\n"), 1);
	free(txt);
	rm_rf(dir);
}
END_TEST

/* A FIFO (or any file that is not regular) is refused at once, not waited on. */
START_TEST(mbox_fifo_refused)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64];
	struct config cfg;
	struct outmsg m;
	char *rcpt[] = {"r@example.org"};
	struct err e = {0};

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = path;
	memset(&m, 0, sizeof m);
	m.data = "Subject: x\r\n\r\nx\r\n";
	m.len = strlen(m.data);
	m.envelope_from = "t@example.org";
	m.rcpt = rcpt;
	m.nrcpt = 1;
	ck_assert_int_eq(deliver(&cfg, &m, 1, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_CANTCREAT);
	ck_assert_msg(strstr(e.msg, "not a regular file") != NULL, "%s", e.msg);
	cfg.deliver_path = dir;  /* a folder */
	ck_assert_int_eq(deliver(&cfg, &m, 1, NULL, &e), -1);
	ck_assert_int_eq(m.status, DELIVERY_PENDING);
	rm_rf(dir);
}
END_TEST

/* What the accepted hook saw: how many messages were out when it ran. */
struct hook_log {
	const char *path;       /* an mbox to count, or the server's folder */
	const struct srv *s;
	int calls;
	int seen[2];
	int stop_after;         /* say stop on this call (1-based), 0: never */
};

static int
stored_now(const struct hook_log *h)
{
	char *txt;
	int n;

	if (h->s != NULL) {
		txt = srv_file(h->s, "msg-2.eml");
		n = txt != NULL ? 2 : (txt = srv_file(h->s, "msg-1.eml")) != NULL ? 1 : 0;
	} else {
		txt = slurp(h->path);
		n = count(txt, "Subject: Digest ");
	}
	free(txt);
	return n;
}

static int
hook(struct outmsg *m, void *arg)
{
	struct hook_log *h = arg;

	ck_assert_int_eq(m->status, DELIVERY_ACCEPTED);
	if (h->calls < 2)
		h->seen[h->calls] = stored_now(h);
	h->calls++;
	return h->calls == h->stop_after ? -1 : 0;
}

/*
 * Each accepted message is announced before the next goes out (a crash
 * then repeats at most the one in flight); a hook that says stop keeps
 * the rest from going out.  Loop: 0 SMTP, 1 mbox; stop or not.
 */
START_TEST(accepted_hook_each_message)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64];
	struct srv s;
	struct fixture f;
	struct err e = {0};
	struct hook_log h;
	int smtp = _i < 2, stop = _i % 2;

	memset(&h, 0, sizeof h);
	h.stop_after = stop ? 1 : 0;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/mbox", dir);
	if (smtp)
		srv_start(&s, OPTS("--delay", "0.2"));
	fx_init(&f, smtp ? &s : NULL, "127.0.0.1", 0);
	if (smtp)
		h.s = &s;
	else {
		f.cfg.deliver = DELIVER_MBOX;
		f.cfg.deliver_path = path;
		h.path = path;
	}
	for (int i = 0; i < 2; i++) {
		f.m[i].accepted = hook;
		f.m[i].arg = &h;
	}
	ck_assert_int_eq(run(&f, 2, &e), 0);
	ck_assert_int_eq(h.calls, stop ? 1 : 2);
	ck_assert_int_eq(h.seen[0], 1);
	ck_assert_int_eq(f.m[0].status, DELIVERY_ACCEPTED);
	if (stop) {
		ck_assert_int_eq(f.m[1].status, DELIVERY_PENDING);
		ck_assert_msg(strstr(f.m[1].detail, "not sent") != NULL, "%s", f.m[1].detail);
		ck_assert_int_eq(stored_now(&h), 1);
	} else {
		ck_assert_int_eq(h.seen[1], 2);
		ck_assert_int_eq(f.m[1].status, DELIVERY_ACCEPTED);
	}
	fx_free(&f);
	if (smtp)
		srv_stop(&s);
	rm_rf(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("smtp");
	TCase *tf = tcase_create("files");
	SRunner *sr;
	char cmd[256];
	int failed;

	strcpy(certs_dir, "/tmp/tdeliver-certs.XXXXXX");
	if (mkdtemp(certs_dir) == NULL)
		return EXIT_FAILURE;
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/harness/certs.py %s >/dev/null",
	    TOP_SRCDIR, certs_dir);
	if (system(cmd) != 0)
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
	tcase_add_test(tf, mbox_appends_mboxrd);
	tcase_add_test(tf, maildir_new_file);
	tcase_add_loop_test(tf, file_message_mbox, 0, 2);
	tcase_add_loop_test(tf, file_message_maildir, 0, 2);
	tcase_add_test(tf, file_message_stdout);
	tcase_add_test(tc, file_message_smtp);
	tcase_add_test(tc, file_message_short);
	tcase_add_loop_test(tf, mbox_unterminated, 0, 4);
	tcase_add_test(tf, mbox_fifo_refused);
	tcase_add_loop_test(tc, accepted_hook_each_message, 0, 4);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tf);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_rf(certs_dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
