/*
 * Unit tests for src/deliver.c: deliveries to an mbox, a maildir and
 * stdout, and what every transport promises (the accepted hook, SMTP to
 * tests/harness/smtpd.py on a free 127.0.0.1 port among them).  The SMTP
 * transport's own tests are in test_smtp.c.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "deliverkit.h"

/* A folder for the test, and cfg delivering to the mbox path there. */
static void
mbox_setup(char *dir, char *path, size_t size, struct config *cfg)
{
	tk_mkdtemp(dir);
	snprintf(path, size, "%s/mbox", dir);
	memset(cfg, 0, sizeof *cfg);
	cfg->deliver = DELIVER_MBOX;
	cfg->deliver_path = path;
}

/* m[0..n) made of texts, appended to mf, from t@example.org to rcpt. */
static void
messages_of(struct outmsg *m, FILE *mf, const char *const *texts, size_t n, char **rcpt)
{
	ck_assert_ptr_nonnull(mf);
	memset(m, 0, n * sizeof *m);
	for (size_t i = 0; i < n; i++) {
		outmsg_text(&m[i], mf, texts[i], strlen(texts[i]));
		m[i].envelope_from = "t@example.org";
		m[i].rcpt = rcpt;
		m[i].nrcpt = 1;
	}
}

START_TEST(mbox_appends_mboxrd)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64], *txt;
	struct config cfg;
	struct outmsg m[2];
	char *rcpt[] = {"r@example.org"};
	struct err e = {0};
	const char *texts[] = {"Subject: one\r\n\r\nFrom me\r\n>From you\r\nx From y\r\n",
	                       "Subject: two\r\n\r\nbody"};
	FILE *mf = tmpfile();

	mbox_setup(dir, path, sizeof path, &cfg);
	messages_of(m, mf, texts, 2, rcpt);
	ck_assert_int_eq(deliver(&cfg, m, 1, NULL, &e), 0);
	ck_assert_int_eq(m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(deliver(&cfg, m + 1, 1, NULL, &e), 0);
	ck_assert_int_eq(m[1].status, DELIVERY_ACCEPTED);
	txt = tk_slurp(path);
	ck_assert_ptr_nonnull(txt);
	ck_assert_ptr_null(strchr(txt, '\r'));
	ck_assert_int_eq(tk_count(txt, "\nFrom t@example.org "), 1);
	ck_assert(strncmp(txt, "From t@example.org ", 19) == 0);
	ck_assert_ptr_nonnull(strstr(txt, "\n\n>From me\n>>From you\nx From y\n\nFrom t@"));
	ck_assert_ptr_nonnull(strstr(txt, "Subject: two\n\nbody\n\n"));
	ck_assert_int_eq(txt[strlen(txt) - 1], '\n');
	free(txt);

	cfg.deliver_path = "/nonexistent/dir/mbox";
	ck_assert_int_eq(deliver(&cfg, m, 1, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_CANTCREAT);
	ck_assert_int_eq(m[0].status, DELIVERY_PENDING);
	fclose(mf);
	tk_rm_rf(dir);
}
END_TEST

/*
 * A file takes the messages once they are written: all of them; those
 * written before the run failed; all but one passed over (its digest
 * could not be made).
 */
START_TEST(mbox_takes_what_was_written)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64], *txt;
	struct config cfg;
	struct outmsg m[3];
	struct writer w;
	char *rcpt[] = {"r@example.org"};
	struct err e = {0};
	const char *text[] = {"Subject: one\r\n\r\nfirst\r\n", "Subject: two\r\n\r\nsecond\r\n",
	                      "Subject: three\r\n\r\nthird\r\n"};
	const char *body[] = {"\n\nfirst\n", "\n\nsecond\n", "\n\nthird\n"};
	size_t written = _i == 1 ? 1 : 3, skipped = _i == 2 ? 1 : 3;
	FILE *mf = tmpfile();

	mbox_setup(dir, path, sizeof path, &cfg);
	messages_of(m, mf, text, 3, rcpt);
	if (skipped < 3)
		m[skipped].len = 0; /* the writer publishes it as never written */
	writer_start(&w, m, 3, written, NULL);
	ck_assert_msg(deliver(&cfg, m, 3, NULL, &e) == 0, "%s", e.msg);
	writer_join(&w);
	txt = tk_slurp(path);
	ck_assert_ptr_nonnull(txt);
	for (size_t i = 0; i < 3; i++) {
		int in = i < written && i != skipped;

		ck_assert_int_eq(m[i].status, in ? DELIVERY_ACCEPTED : DELIVERY_PENDING);
		ck_assert(in || strcmp(m[i].detail, OUTMSG_UNWRITTEN) == 0);
		ck_assert((strstr(txt, body[i]) != NULL) == in);
	}
	ck_assert_int_eq(tk_count(txt, "From t@example.org "), (int)written - (skipped < 3));
	free(txt);
	fclose(mf);
	tk_rm_rf(dir);
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
	FILE *mf = tmpfile();

	tk_mkdtemp(dir);
	snprintf(md, sizeof md, "%s/Mail", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MAILDIR;
	cfg.deliver_path = md;
	memset(m, 0, sizeof m);
	ck_assert_ptr_nonnull(mf);
	outmsg_text(&m[0], mf, a, strlen(a));
	outmsg_text(&m[1], mf, a, strlen(a));
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
		txt = tk_slurp(p);
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
	fclose(mf);
	tk_rm_rf(dir);
}
END_TEST

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
	txt = tk_slurp(path);
	ck_assert_ptr_nonnull(txt);
	unlink(path);
	undate(txt);
	return txt;
}

START_TEST(file_message_mbox)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[64], *from_alone, *from_between;
	struct buf want = BUF_INIT;
	struct pair p;

	pair_init(&p, _i);
	tk_mkdtemp(dir);
	snprintf(path, sizeof path, "%s/mbox", dir);
	from_alone = mbox_of(&p.m[0], 1, path);
	from_between = mbox_of(&p.m[1], 1, path);
	ck_assert_int_eq(buf_adds(&want, "From t@example.org \n"), 0);
	stored_form(p.text.data, p.text.len, 1, &want);
	same_text(from_alone, want.data, want.len);
	same_text(from_between, want.data, want.len);
	ck_assert_ptr_nonnull(strstr(from_between, "\n>>>From the middle\n"));
	ck_assert_ptr_nonnull(strstr(from_between, "\n12345678\n"));
	ck_assert_ptr_null(strstr(from_between, "JUNK"));
	free(from_alone);
	free(from_between);
	/* both in one delivery */
	from_alone = mbox_of(p.m, 2, path);
	same_text(from_alone + want.len, want.data, want.len);
	from_alone[want.len] = '\0';
	same_text(from_alone, want.data, want.len);
	free(from_alone);
	buf_free(&want);
	pair_free(&p);
	tk_rm_rf(dir);
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
		txt = tk_slurp(p);
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
	tk_mkdtemp(dir);
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
	tk_rm_rf(dir);
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
	tk_mkdtemp(dir);
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
	got = tk_slurp(path);
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
	tk_rm_rf(dir);
}
END_TEST
/* A file shorter than its len: nothing may pass for the whole message (SMTP: test_smtp.c). */
START_TEST(file_message_short)
{
	char dir[] = "/tmp/tdeliver.XXXXXX", path[96], md[64], *txt;
	struct config cfg;
	struct err e = {0};
	struct pair p;

	pair_init(&p, 1);
	p.m[1].len += 100000; /* past the file's end, junk included */
	tk_mkdtemp(dir);
	memset(&cfg, 0, sizeof cfg);

	/* mbox: what was there stays, the one before it stays, nothing of it is added */
	snprintf(path, sizeof path, "%s/mbox", dir);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = path;
	ck_assert_int_eq(deliver(&cfg, p.m, 1, NULL, &e), 0);
	ck_assert_int_eq(deliver(&cfg, p.m + 1, 1, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_msg(strstr(e.msg, "cannot read the message: its file ends at byte ") == e.msg,
	              "%s", e.msg);
	ck_assert_int_eq(deliver(&cfg, p.m, 2, NULL, &e), 0);
	ck_assert_int_eq(p.m[0].status, DELIVERY_ACCEPTED);
	ck_assert_int_eq(p.m[1].status, DELIVERY_TEMPFAIL);
	ck_assert_msg(strstr(p.m[1].detail, "cannot read the message: its file ends at byte ") ==
	                  p.m[1].detail,
	              "%s", p.m[1].detail);
	txt = tk_slurp(path);
	ck_assert_int_eq(tk_count(txt, "\nFrom t@example.org "), 1);
	ck_assert(strncmp(txt, "From t@example.org ", 19) == 0);
	ck_assert_int_eq(strlen(txt) % 2, 0); /* two whole copies of one message */
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

	pair_free(&p);
	tk_rm_rf(dir);
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
	FILE *f, *mf = tmpfile();

	tk_mkdtemp(dir);
	snprintf(path, sizeof path, "%s/mbox", dir);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = path;
	memset(&m, 0, sizeof m);
	ck_assert_ptr_nonnull(mf);
	outmsg_text(&m, mf, a, strlen(a));
	m.envelope_from = "t@example.org";
	m.rcpt = rcpt;
	m.nrcpt = 1;
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(before[_i], f);
	fclose(f);
	ck_assert_int_eq(deliver(&cfg, &m, 1, NULL, &e), 0);
	ck_assert_int_eq(m.status, DELIVERY_ACCEPTED);
	txt = tk_slurp(path);
	ck_assert_msg(strncmp(txt, after[_i], strlen(after[_i])) == 0, "%s", txt);
	ck_assert_int_eq(tk_count(txt, "\nbody\n\n"), 1);
	free(txt);
	fclose(mf);
	tk_rm_rf(dir);
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
	const char *a = "Subject: x\r\n\r\nx\r\n";
	FILE *mf = tmpfile();

	tk_mkdtemp(dir);
	snprintf(path, sizeof path, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_MBOX;
	cfg.deliver_path = path;
	memset(&m, 0, sizeof m);
	ck_assert_ptr_nonnull(mf);
	outmsg_text(&m, mf, a, strlen(a));
	m.envelope_from = "t@example.org";
	m.rcpt = rcpt;
	m.nrcpt = 1;
	ck_assert_int_eq(deliver(&cfg, &m, 1, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_CANTCREAT);
	ck_assert_msg(strstr(e.msg, "not a regular file") != NULL, "%s", e.msg);
	cfg.deliver_path = dir; /* a folder */
	ck_assert_int_eq(deliver(&cfg, &m, 1, NULL, &e), -1);
	ck_assert_int_eq(m.status, DELIVERY_PENDING);
	fclose(mf);
	tk_rm_rf(dir);
}
END_TEST

/* What the accepted hook saw: how many messages were out when it ran. */
struct hook_log {
	const char *path; /* an mbox to count, or the server's folder */
	const struct tk_server *s;
	int calls;
	int seen[2];
	int stop_after; /* say stop on this call (1-based), 0: never */
};

static int
stored_now(const struct hook_log *h)
{
	char *txt;
	int n;

	if (h->s != NULL) {
		txt = tk_server_file(h->s, "msg-2.eml");
		n = txt != NULL ? 2 : (txt = tk_server_file(h->s, "msg-1.eml")) != NULL ? 1 : 0;
	} else {
		txt = tk_slurp(h->path);
		n = tk_count(txt, "Subject: Digest ");
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
	struct tk_server s;
	struct fixture f;
	struct err e = {0};
	struct hook_log h;
	int smtp = _i < 2, stop = _i % 2;

	memset(&h, 0, sizeof h);
	h.stop_after = stop ? 1 : 0;
	tk_mkdtemp(dir);
	snprintf(path, sizeof path, "%s/mbox", dir);
	if (smtp)
		smtpd_start(&s, OPTS("--delay", "0.2"));
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
	ck_assert_int_eq(fx_run(&f, 2, &e), 0);
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
		tk_server_stop(&s);
	tk_rm_rf(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("every transport");
	TCase *tf = tcase_create("files");
	SRunner *sr;
	int failed;

	if (certs_make() != 0)
		return EXIT_FAILURE;
	tcase_add_test(tf, mbox_appends_mboxrd);
	tcase_add_loop_test(tf, mbox_takes_what_was_written, 0, 3);
	tcase_add_test(tf, maildir_new_file);
	tcase_add_loop_test(tf, file_message_mbox, 0, 2);
	tcase_add_loop_test(tf, file_message_maildir, 0, 2);
	tcase_add_test(tf, file_message_stdout);
	tcase_add_test(tf, file_message_short);
	tcase_add_loop_test(tf, mbox_unterminated, 0, 4);
	tcase_add_test(tf, mbox_fifo_refused);
	tcase_add_loop_test(tc, accepted_hook_each_message, 0, 4);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tf);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	certs_remove();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}