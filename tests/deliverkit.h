/*
 * deliverkit: what the delivery tests (test_deliver, test_smtp) share.
 * The harness SMTP server (tests/harness/smtpd.py, started by testkit,
 * with certificates from tests/harness/certs.py), and messages the way
 * production has them: written with message_write (or as raw text) to a
 * temporary file and delivered from there.
 */
#ifndef TIDINGS_TEST_DELIVERKIT_H
#define TIDINGS_TEST_DELIVERKIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "deliver.h"
#include "testkit.h"

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The certificates every server and client of the process use: made once, removed at the end. */
int certs_make(void);
void certs_remove(void);
const char *certs_dir(void);

/*
 * tk_server_start() of smtpd.py with these certificates and the given
 * options (NULL-terminated, or NULL); tk_server_stop() ends it, and
 * tk_server_file() reads its msg-1.eml, log.jsonl.
 */
void smtpd_start(struct tk_server *s, const char *const *opts);

/* text appended to f (flushed), and m made to deliver it from there. */
void outmsg_text(struct outmsg *m, FILE *f, const char *text, size_t n);

/*
 * Two digests ("Digest one", "Digest two") written with message_write to
 * one file, as a run writes them, to rcpt@example.org (m[1] may take
 * second@example.org too with nrcpt = 2), delivered by SMTP to s (or port
 * 1 when s is NULL) on host, with STARTTLS if tls.
 */
struct fixture {
	struct config cfg;
	FILE *file;
	char *text[2]; /* each message's bytes, as delivered */
	struct outmsg m[2];
	char *rcpt[2];
	char *logtext;
	size_t loglen;
	FILE *log;
	char ca[96];
};

void fx_init(struct fixture *f, const struct tk_server *s, const char *host, int tls);
void fx_free(struct fixture *f);
/* deliver() the first n messages, the log flushed. */
int fx_run(struct fixture *f, size_t n, struct err *e);

#define CHUNK (64 * 1024) /* deliver.c reads, sends and writes in such steps */

/*
 * m[0..n) handed to their delivery by a writer thread, as a run hands
 * its digests over while it writes the next: their offset and len are
 * cleared until the writer publishes them, one a little after the other,
 * the first `written` of them; then it closes the gate.
 */
#define WRITER_MAX 4
struct writer {
	struct outgate gate;
	struct outmsg *m;
	size_t n, written;
	off_t offset[WRITER_MAX];
	size_t len[WRITER_MAX]; /* 0: published as passed over */
	/*
	 * If not NULL: before publishing message i > 0, wait (a minute at
	 * most) until this server holds i messages; saw[i] says whether it
	 * did, so that each went out before the next was written.
	 */
	const struct tk_server *await;
	int saw[WRITER_MAX];
	pthread_t thread;
};

void writer_start(struct writer *w, struct outmsg *m, size_t n, size_t written,
                  const struct tk_server *await);
void writer_join(struct writer *w);

/*
 * A message of about 5 chunks, cut by deliver's reads at multiples of
 * CHUNK: a CRLF split across the first, a ">From " line across the
 * second, a "From " line starting right at the third.
 */
void big_message(struct buf *b);
/* Large texts equal (Check cannot print them): where they part, if not. */
void same_text(const char *got, const char *want, size_t n);

/*
 * The big message (without its final CRLF unless final_crlf) in two
 * files: m[0] alone in its file, m[1] between junk in another.
 */
struct pair {
	struct buf text; /* the message, CRLF */
	FILE *f[2];
	struct outmsg m[2];
	char *rcpt[1];
};

void pair_init(struct pair *p, int final_crlf);
void pair_free(struct pair *p);

#endif
