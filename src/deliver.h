/*
 * deliver: hand finished messages to SMTP (libcurl), an mbox file, a
 * maildir, or stdout.  A message counts as accepted only when the SMTP
 * server answered 2xx after DATA, or the file was written and fsynced.
 * A message is len bytes of a file from an offset; it is sent or written a
 * chunk at a time, never loaded whole.  Each message is accepted (and its
 * accepted hook run) before the next one is sent or written.
 */
#ifndef TIDINGS_DELIVER_H
#define TIDINGS_DELIVER_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "util.h"

enum delivery_status {
	DELIVERY_PENDING, /* not attempted */
	DELIVERY_ACCEPTED,
	DELIVERY_TEMPFAIL, /* 4xx, timeout, connection trouble: retry later */
	DELIVERY_PERMFAIL, /* 5xx, refused */
};

struct outmsg {
	FILE *file;   /* the message is len bytes of this file from offset, CRLF */
	off_t offset; /* (read with pread: never loaded whole) */
	size_t len;
	const char *envelope_from; /* bare address */
	char *const *rcpt;         /* bare addresses */
	size_t nrcpt;
	enum delivery_status status;  /* set by deliver() */
	enum delivery_status refused; /* ACCEPTED, but some recipients refused it: how */
	char detail[512];             /* the server's words or the error, when not accepted */
	/*
	 * If not NULL: called once the message is accepted, before the next
	 * one is sent, so the caller can make that durable (a crash then
	 * repeats at most the message in flight).  -1 stops delivery: the
	 * messages not yet sent stay DELIVERY_PENDING, with detail set.
	 */
	int (*accepted)(struct outmsg *m, void *arg);
	void *arg;
};

/*
 * Deliver msgs as cfg says (SMTP: src/smtp.h).  Returns 0 when delivery
 * was attempted (each message has its status), -1 when nothing could be
 * (e says why, with EX_UNAVAILABLE, EX_TEMPFAIL, EX_CANTCREAT ...).  log,
 * if not NULL, hears progress (never secrets).
 */
int deliver(const struct config *cfg, struct outmsg *msgs, size_t n, FILE *log, struct err *e);

/*
 * The next piece of m from *pos, at most max bytes, read from m->file
 * into buf.  pread leaves the FILE's own position alone; the caller has
 * flushed what it wrote.  Returns the piece's length, 0 at the end, -1
 * when m cannot be read.
 */
ssize_t outmsg_piece(const struct outmsg *m, size_t *pos, char *buf, size_t max, struct err *e);

/* m->detail, printf-style, cut to its size. */
void outmsg_detail(struct outmsg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * m was accepted: mark it so and run its accepted hook.  Non-zero: the
 * hook could not make it durable, and the caller sends nothing more.
 */
int outmsg_accepted(struct outmsg *m);

#define OUTMSG_STOPPED "not sent: the message before it could not be recorded"
/* msgs[0..n) were not sent (why): DELIVERY_PENDING, detail set. */
void outmsg_not_sent(struct outmsg *msgs, size_t n, const char *why);

/* The exit status a delivery status makes: 75 to retry, 69 refused, else 0. */
int delivery_exit(enum delivery_status s);

/* Does path hold a certificate OpenSSL can verify with (as smtp's ca-file)? */
int deliver_ca_file_ok(const char *path);

#endif
