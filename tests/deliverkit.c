/* deliverkit: see deliverkit.h. */
#include "deliverkit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "message.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

#define SMTPD_OPTS_MAX 24 /* tk_server_start passes up to 25 options */

static char certs[64];

int
certs_make(void)
{
	char cmd[256];

	strcpy(certs, "/tmp/tdeliver-certs.XXXXXX");
	if (mkdtemp(certs) == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/harness/certs.py %s >/dev/null",
	         TOP_SRCDIR, certs);
	return system(cmd) == 0 ? 0 : -1;
}

void
certs_remove(void)
{
	tk_rm_rf(certs);
}

const char *
certs_dir(void)
{
	return certs;
}

void
smtpd_start(struct tk_server *s, const char *const *opts)
{
	const char *argv[SMTPD_OPTS_MAX] = {"--certs-dir", certs};
	int i = 2;

	for (int j = 0; opts != NULL && opts[j] != NULL && i < SMTPD_OPTS_MAX - 1; j++)
		argv[i++] = opts[j];
	argv[i] = NULL;
	tk_server_start(s, "smtpd.py", "--dir", argv);
}

void
outmsg_text(struct outmsg *m, FILE *f, const char *text, size_t n)
{
	ck_assert_int_eq(fseeko(f, 0, SEEK_END), 0);
	m->file = f;
	m->offset = ftello(f);
	m->len = n;
	ck_assert_int_ge(m->offset, 0);
	ck_assert_uint_eq(fwrite(text, 1, n, f), n);
	ck_assert_int_eq(fflush(f), 0);
}

/* The n bytes of f from offset, read back (malloc'd, NUL-terminated). */
static char *
read_back(FILE *f, off_t offset, size_t n)
{
	char *p = malloc(n + 1);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(fileno(f), p, n, offset), (ssize_t)n);
	p[n] = '\0';
	return p;
}

static void
fx_smtp(struct fixture *f, const struct tk_server *s, const char *host, int tls)
{
	f->cfg.deliver = DELIVER_SMTP;
	f->cfg.smtp.host = (char *)host;
	f->cfg.smtp.port = s != NULL ? s->port : 1;
	f->cfg.smtp.tls = tls ? TLS_STARTTLS : TLS_NONE;
	f->cfg.smtp.verify = 1;
	f->cfg.smtp.timeout = 5;
	snprintf(f->ca, sizeof f->ca, "%s/ca.pem", certs);
	f->cfg.smtp.ca_file = f->ca;
}

void
fx_init(struct fixture *f, const struct tk_server *s, const char *host, int tls)
{
	static char *to1[] = {"rcpt@example.org"};
	struct message_spec spec = {
	    .from = "Tidings <tidings@example.org>",
	    .to = to1,
	    .nto = 1,
	    .date = 1700000000,
	    .text = "hello\n.\nFrom here\n",
	    .text_len = 18,
	    .html = "<p>hello</p>\n",
	    .html_len = 13,
	};
	char mid[128];
	struct err e = {0};
	off_t at = 0;

	memset(f, 0, sizeof *f);
	fx_smtp(f, s, host, tls);
	f->rcpt[0] = "rcpt@example.org";
	f->rcpt[1] = "second@example.org";
	f->file = tmpfile();
	ck_assert_ptr_nonnull(f->file);
	for (int i = 0; i < 2; i++) {
		spec.subject = i == 0 ? "Digest one" : "Digest two";
		f->m[i] = (struct outmsg){.file = f->file,
		                          .offset = at,
		                          .envelope_from = "tidings@example.org",
		                          .rcpt = f->rcpt,
		                          .nrcpt = 1};
		ck_assert_msg(message_write(&spec, f->file, &f->m[i].len, mid, sizeof mid, &e) == 0,
		              "%s", e.msg);
		f->text[i] = read_back(f->file, at, f->m[i].len);
		at += (off_t)f->m[i].len;
	}
	f->log = open_memstream(&f->logtext, &f->loglen);
	ck_assert_ptr_nonnull(f->log);
}

void
fx_free(struct fixture *f)
{
	fclose(f->log);
	free(f->logtext);
	fclose(f->file);
	free(f->text[0]);
	free(f->text[1]);
}

int
fx_run(struct fixture *f, size_t n, struct err *e)
{
	int r = deliver(&f->cfg, f->m, n, f->log, e);

	fflush(f->log);
	return r;
}

/* ---- a big message, cut by deliver's reads at awkward places ---- */

/* Lines until b reaches at, the last one ending in a LF exactly there. */
static void
lines_to(struct buf *b, size_t at)
{
	static const char *const starts[] = {
	    "From here ", ">From there ", ">>From x", ".",      "..", "",
	    "x From y ",  "Fro",          "From",     " From ", ">",  "plain ",
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
void
big_message(struct buf *b)
{
	ck_assert_int_eq(buf_adds(b, "From: Tidings <tidings@example.org>\r\n"
	                             "To: rcpt@example.org\r\nSubject: big\r\n"
	                             "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	                             "Message-ID: <big.1700000000@example.org>\r\n\r\n"),
	                 0);
	lines_to(b, CHUNK - 9);
	ck_assert_int_eq(buf_adds(b, "12345678\r\n"), 0); /* CR at CHUNK-1, LF at CHUNK */
	lines_to(b, 2 * CHUNK - 3);
	ck_assert_int_eq(buf_adds(b, ">>From the middle\r\n"), 0);
	lines_to(b, 3 * CHUNK);
	ck_assert_int_eq(buf_adds(b, "From the start of a chunk\r\n.\r\n"), 0);
	lines_to(b, 5 * CHUNK + 1234);
	ck_assert(memcmp(b->data + CHUNK - 1, "\r\n", 2) == 0);
	ck_assert(memcmp(b->data + 2 * CHUNK - 1, "From", 4) == 0);
	ck_assert(memcmp(b->data + 3 * CHUNK - 2, "\r\nFrom the", 10) == 0);
}

/* Large texts equal (Check cannot print them): where they part, if not. */
void
same_text(const char *got, const char *want, size_t n)
{
	size_t i;

	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	ck_assert_msg(i == n && got[n] == '\0',
	              "texts differ at byte %zu of %zu: "
	              "\"%.40s\"",
	              i, n, got + i);
}

/* A file holding junk, text and junk after it, its offset left at the end; *at: where text starts.
 */
static FILE *
message_file(const char *text, size_t n, const char *before, off_t *at)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(before, f), 0);
	*at = (off_t)strlen(before);
	ck_assert_uint_eq(fwrite(text, 1, n, f), n);
	ck_assert_int_ge(fputs("JUNK AFTER THE MESSAGE\r\n", f), 0);
	ck_assert_int_eq(fflush(f), 0);
	return f;
}

void
pair_init(struct pair *p, int final_crlf)
{
	memset(p, 0, sizeof *p);
	big_message(&p->text);
	if (!final_crlf)
		ck_assert_int_eq(buf_adds(&p->text, "no final newline\r"), 0);
	p->rcpt[0] = "rcpt@example.org";
	for (int i = 0; i < 2; i++) {
		p->f[i] = message_file(p->text.data, p->text.len, i == 0 ? "" : "JUNK BEFORE\r\n",
		                       &p->m[i].offset);
		p->m[i].file = p->f[i];
		p->m[i].len = p->text.len;
		p->m[i].envelope_from = "t@example.org";
		p->m[i].rcpt = p->rcpt;
		p->m[i].nrcpt = 1;
	}
}

void
pair_free(struct pair *p)
{
	fclose(p->f[0]);
	fclose(p->f[1]);
	buf_free(&p->text);
}

/* ---- messages delivered while they are written ---- */

/* Does s hold n messages yet?  Waits a minute at most: a bound, not a measure. */
static int
server_holds(const struct tk_server *s, size_t n)
{
	const struct timespec tick = {0, 20 * 1000 * 1000};
	char name[32];
	char *got = NULL;

	snprintf(name, sizeof name, "msg-%zu.eml", n);
	for (int i = 0; i < 3000 && (got = tk_server_file(s, name)) == NULL; i++)
		nanosleep(&tick, NULL);
	free(got);
	return got != NULL;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	const struct timespec later = {0, 20 * 1000 * 1000};

	for (size_t i = 0; i < w->written; i++) {
		nanosleep(&later, NULL); /* the deliverer gets there first, and waits */
		if (w->await != NULL && i > 0)
			w->saw[i] = server_holds(w->await, i);
		outgate_publish(&w->gate, &w->m[i], w->offset[i], w->len[i]);
	}
	outgate_close(&w->gate);
	return NULL;
}

void
writer_start(struct writer *w, struct outmsg *m, size_t n, size_t written,
             const struct tk_server *await)
{
	ck_assert_uint_le(n, WRITER_MAX);
	memset(w, 0, sizeof *w);
	w->await = await;
	ck_assert_int_eq(outgate_init(&w->gate), 0);
	w->m = m;
	w->n = n;
	w->written = written;
	for (size_t i = 0; i < n; i++) {
		w->offset[i] = m[i].offset;
		w->len[i] = m[i].len;
		m[i].offset = 0;
		m[i].len = 0;
		m[i].gate = &w->gate;
		m[i].seq = i;
	}
	ck_assert_int_eq(pthread_create(&w->thread, NULL, writer_main, w), 0);
}

void
writer_join(struct writer *w)
{
	ck_assert_int_eq(pthread_join(w->thread, NULL), 0);
	outgate_destroy(&w->gate);
}
