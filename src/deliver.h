/*
 * deliver: hand finished messages to SMTP (libcurl), an mbox file, a
 * maildir, or stdout.  A message counts as accepted only when the SMTP
 * server answered 2xx after DATA, or the file was written and fsynced.
 * A message is len bytes of a file from an offset; it is sent or written a
 * chunk at a time, never loaded whole.  Each message is accepted (and its
 * accepted hook run) before the next one is sent or written.  Messages may
 * be delivered while later ones are still being written (an outgate).
 */
#ifndef TIDINGS_DELIVER_H
#define TIDINGS_DELIVER_H

#include <pthread.h>
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

/*
 * Messages written by one thread as another delivers them: the writer
 * publishes each one (in the order of their seq) once its text is
 * flushed to its file, and closes the gate when it has written all it
 * will, or failed.  A deliverer waits for a message before it reads it.
 */
struct outgate {
	pthread_mutex_t lock;
	pthread_cond_t published;
	size_t written;          /* messages of seq 0 .. written - 1 may be read */
	int closed;              /* no more will be */
	void (*wake)(void *arg); /* see outgate_on_change */
	void *wake_arg;
};

struct outmsg {
	FILE *file;   /* the message is len bytes of this file from offset, CRLF */
	off_t offset; /* (read with pread: never loaded whole) */
	size_t len;
	struct outgate *gate; /* if not NULL, offset and len are set when seq is published */
	size_t seq;
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

int outgate_init(struct outgate *g);
void outgate_destroy(struct outgate *g);
/* m (the next seq) is flushed to its file, len bytes from offset; 0 bytes: never will be. */
void outgate_publish(struct outgate *g, struct outmsg *m, off_t offset, size_t len);
void outgate_close(struct outgate *g);

/*
 * wake(arg) is called, from the writer's thread, whenever a message is
 * published or the gate closes, until it is set to NULL: a deliverer that
 * waits on something else (libcurl's sockets) looks again.
 */
void outgate_on_change(struct outgate *g, void (*wake)(void *arg), void *arg);

enum outmsg_state {
	OUTMSG_NOT_YET, /* still being written */
	OUTMSG_WRITTEN, /* its offset and len may be read (at once without a gate) */
	OUTMSG_NEVER,   /* passed over, or the writing ended without it */
};
/* Where m stands; never waits. */
enum outmsg_state outmsg_state(struct outmsg *m);
/*
 * Wait until m is written: 0; -1 if it never will be (left PENDING, detail
 * OUTMSG_UNWRITTEN): the delivery passes over it and goes on.
 */
int outmsg_wait(struct outmsg *m);
/*
 * Wait for all of msgs, for a way of delivery that takes them whole:
 * how many were written (the others are left as outmsg_wait leaves them,
 * and the delivery passes over them).
 */
size_t outmsg_wait_all(struct outmsg *msgs, size_t n);

/* m->detail, printf-style, cut to its size. */
void outmsg_detail(struct outmsg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * m was accepted: mark it so and run its accepted hook.  Non-zero: the
 * hook could not make it durable, and the caller sends nothing more.
 */
int outmsg_accepted(struct outmsg *m);

#define OUTMSG_STOPPED   "not sent: the message before it could not be recorded"
#define OUTMSG_UNWRITTEN "not sent: the run failed before it was written"
/* msgs[0..n) were not sent (why): DELIVERY_PENDING, detail set. */
void outmsg_not_sent(struct outmsg *msgs, size_t n, const char *why);
/* msgs[0..n) failed for now (why): DELIVERY_TEMPFAIL, but those never written stay as they are. */
void outmsg_retry_later(struct outmsg *msgs, size_t n, const char *why);

/* The exit status a delivery status makes: 75 to retry, 69 refused, else 0. */
int delivery_exit(enum delivery_status s);

/* Does path hold a certificate OpenSSL can verify with (as smtp's ca-file)? */
int deliver_ca_file_ok(const char *path);

#endif
