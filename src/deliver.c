/*
 * deliver: SMTP through libesmtp 1.1, or mbox / maildir / stdout files.
 *
 * libesmtp needs working around (see the notes in the design folder):
 *  - we always hand it our own SSL_CTX (its cached one is a use-after-free
 *    on the second session), capped at TLS 1.2 (TLS 1.3 tickets can hang
 *    it), with SNI set from an info callback and the host name or IP
 *    address enforced by OpenSSL's X509_VERIFY_PARAM;
 *  - a failed AUTH is not fatal to it: it would go on and send MAIL
 *    unauthenticated.  The monitor callback watches the AUTH replies and,
 *    on failure (or on MAIL without a successful AUTH), shuts the socket
 *    down so nothing more is sent;
 *  - connect() has no timeout, so a non-blocking probe connect bounded by
 *    smtp.timeout runs first.  After that every wait for the server is
 *    bounded by smtp.timeout (libesmtp's per-phase timeouts); the whole
 *    session is therefore bounded per command, not as one deadline.
 */
#include "deliver.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define FD_TRACK 1024
#define CHUNK (64 * 1024)  /* message text read, sent or written per step */

struct sess {
	const struct smtp_conf *sc;
	FILE *log;
	char where[300];                /* "host:port" */
	int starttls_missing;
	char tls_error[256];
	int auth_wanted, auth_ok, auth_failed, in_auth;
	char auth_text[256];
	char last_reply[256];           /* last server line outside AUTH */
	unsigned char fd_before[FD_TRACK / 8];
	char *user, *pass;
	struct err read_error;          /* the first message that could not be read */
	int stopped;                    /* an accepted hook said stop: nothing more goes out */
};

/* What message_cb needs: the message, and the session to stop. */
struct msgarg {
	struct sess *ss;
	struct outmsg *m;
	int failed;                     /* its text could not be supplied */
	int notified;                   /* its accepted hook ran */
};

static void
set_detail(struct outmsg *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_detail(struct outmsg *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->detail, sizeof m->detail, fmt, ap);
	va_end(ap);
}

/* Server text for one line of output: no CR, LF or other controls. */
static void
clean_copy(char *dst, size_t size, const char *src, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 1 < size; i++) {
		if (src[i] == '\r' || src[i] == '\n') {
			if (i + 1 < n && j > 0 && dst[j - 1] != ' ')
				dst[j++] = ' ';
			continue;
		}
		dst[j++] = (unsigned char)src[i] < 0x20 ? ' ' : src[i];
	}
	while (j > 0 && dst[j - 1] == ' ')
		j--;
	dst[j] = '\0';
}

/* The same for a status text libesmtp may leave NULL. */
static void
clean_text(char *dst, size_t size, const char *src)
{
	clean_copy(dst, size, src != NULL ? src : "", src != NULL ? strlen(src) : 0);
}

static int
is_ip_literal(const char *h)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

/* ---- connection probe: libesmtp's connect() has no timeout ---- */

static int
probe_one(const struct addrinfo *ai, int ms, int *err)
{
	struct pollfd pfd;
	socklen_t sl = sizeof *err;
	int fd, r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r < 0 && errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			r = poll(&pfd, 1, ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			*err = ETIMEDOUT;
			r = -1;
		} else if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &sl) == 0)
			r = *err == 0 ? 0 : -1;
		else {
			*err = errno;
			r = -1;
		}
	} else if (r < 0)
		*err = errno;
	close(fd);
	return r;
}

static int
probe(const struct sess *ss, struct err *e)
{
	struct addrinfo hints, *res, *ai;
	char port[16];
	int r, err = ECONNREFUSED;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	snprintf(port, sizeof port, "%d", ss->sc->port);
	r = getaddrinfo(ss->sc->host, port, &hints, &res);
	if (r != 0)
		return err_set(e, r == EAI_AGAIN ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "cannot resolve SMTP server %s: %s", ss->sc->host, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (probe_one(ai, (int)(ss->sc->timeout * 1000), &err) == 0)
			break;
	freeaddrinfo(res);
	if (ai == NULL)
		return err_set(e, EX_TEMPFAIL, "cannot connect to %s: %s",
		    ss->where, err == ETIMEDOUT ? "connection timed out" : strerror(err));
	return 0;
}

/* ---- shutting the session's socket when AUTH did not succeed ---- */

static void
fds_snapshot(unsigned char *bits)
{
	int fd;

	memset(bits, 0, FD_TRACK / 8);
	for (fd = 0; fd < FD_TRACK; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			bits[fd / 8] |= (unsigned char)(1u << fd % 8);
}

/*
 * libesmtp gives no handle on its socket: it is the stream socket opened
 * since the session started whose peer has the server's port.
 */
static void
kill_connection(struct sess *ss)
{
	struct sockaddr_storage sa;
	socklen_t sl;
	int fd, type, port;

	for (fd = 3; fd < FD_TRACK; fd++) {
		if (ss->fd_before[fd / 8] & (1u << fd % 8))
			continue;
		sl = sizeof type;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0 ||
		    type != SOCK_STREAM)
			continue;
		sl = sizeof sa;
		if (getpeername(fd, (struct sockaddr *)&sa, &sl) != 0)
			continue;
		if (sa.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
		else if (sa.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
		else
			continue;
		if (port == ss->sc->port)
			shutdown(fd, SHUT_RDWR);
	}
}

static void
auth_fail(struct sess *ss, const char *text, size_t n)
{
	if (!ss->auth_failed)
		clean_copy(ss->auth_text, sizeof ss->auth_text, text, n);
	ss->auth_failed = 1;
	ss->in_auth = 0;
	kill_connection(ss);
}

/* ---- the message text, a piece at a time, from memory or its file ---- */

/*
 * The next piece of m from *pos, at most CHUNK bytes: a pointer into
 * m->data, or into buf (CHUNK bytes) read from m->file.  pread leaves the
 * FILE's own position alone; the caller has flushed what it wrote.
 * Returns the piece's length, 0 at the end, -1 when m cannot be read.
 */
static ssize_t
msg_piece(const struct outmsg *m, size_t *pos, char *buf, const char **p,
          struct err *e)
{
	size_t want = m->len - *pos;
	ssize_t got;

	if (want > CHUNK)
		want = CHUNK;
	if (want == 0)
		return 0;
	if (m->data != NULL) {
		*p = m->data + *pos;
		*pos += want;
		return (ssize_t)want;
	}
	do
		got = pread(fileno(m->file), buf, want, m->offset + (off_t)*pos);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return err_set(e, EX_IOERR, "cannot read the message: %s",
		    strerror(errno));
	if (got == 0)
		return err_set(e, EX_IOERR, "cannot read the message: its file "
		    "ends at byte %zu of %zu", *pos, m->len);
	*p = buf;
	*pos += (size_t)got;
	return got;
}

/* libesmtp free()s it: one block, with room for a piece of a file. */
struct cbstate {
	size_t pos;
	char buf[];
};

/*
 * libesmtp takes a NULL piece for the end of the message and would end
 * the DATA there, so a message it cannot have must never look complete:
 * the session is cut instead, and the server drops the partial text.
 */
static void
supply_failed(struct msgarg *a, const struct err *why)
{
	if (a->ss->read_error.code == 0)
		a->ss->read_error = *why;
	a->failed = 1;
	kill_connection(a->ss);
}

static const char *
message_cb(void **ctx, int *len, void *arg)
{
	struct msgarg *a = arg;
	struct cbstate *st = *ctx;
	const char *p = NULL;
	struct err e = {0};
	ssize_t n;

	if (st == NULL) {
		st = malloc(sizeof *st + (a->m->data == NULL ? CHUNK : 0));
		if (st == NULL) {
			err_oom(&e);
			supply_failed(a, &e);
			if (len != NULL)
				*len = 0;
			return NULL;
		}
		st->pos = 0;
		*ctx = st;
	}
	if (len == NULL) {
		/* rewind: libesmtp may read the message more than once */
		st->pos = 0;
		return NULL;
	}
	n = msg_piece(a->m, &st->pos, st->buf, &p, &e);
	if (n < 0) {
		supply_failed(a, &e);
		n = 0;
		p = NULL;
	}
	*len = (int)n;
	return p;
}

/*
 * Sees the protocol in plaintext.  It never logs anything: after AUTH the
 * client lines are credentials.
 */
static void
monitor_cb(const char *buf, int buflen, int writing, void *arg)
{
	struct sess *ss = arg;
	size_t n = buflen > 0 ? (size_t)buflen : 0;
	int code;

	if (writing == SMTP_CB_WRITING) {
		if (n >= 5 && strncasecmp(buf, "AUTH ", 5) == 0)
			ss->in_auth = 1;
		else if (n >= 10 && strncasecmp(buf, "MAIL FROM:", 10) == 0) {
			ss->in_auth = 0;
			if (ss->auth_wanted && !ss->auth_ok)
				auth_fail(ss, "server does not offer AUTH",
				    strlen("server does not offer AUTH"));
		}
		return;
	}
	if (writing != SMTP_CB_READING || n < 3)
		return;
	code = (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
	if (!ss->in_auth) {
		clean_copy(ss->last_reply, sizeof ss->last_reply, buf, n);
		return;
	}
	if (code == 334)
		return;
	if (code == 235) {
		ss->auth_ok = 1;
		ss->in_auth = 0;
		return;
	}
	auth_fail(ss, buf, n);
}

static int
interact_cb(auth_client_request_t req, char **result, int fields, void *arg)
{
	struct sess *ss = arg;
	int i;

	if (ss->auth_failed)
		return 0;
	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = ss->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = ss->pass;
		else
			result[i] = (char *)"";
	}
	return 1;
}

static void
tls_warn(struct sess *ss, const char *what)
{
	if (ss->log != NULL)
		fprintf(ss->log, "tidings: warning: smtp %s: %s; accepted because "
		    "verify = false\n", ss->where, what);
}

static void message_sent(struct sess *ss, smtp_message_t sm);

static void
event_cb(smtp_session_t s, int ev, void *arg, ...)
{
	struct sess *ss = arg;
	va_list ap;
	int *ok;
	long vfy;
	SSL *ssl;

	(void)s;
	va_start(ap, arg);
	switch (ev) {
	case SMTP_EV_EXTNA_STARTTLS:
		ss->starttls_missing = 1;
		break;
	case SMTP_EV_MESSAGESENT:
		message_sent(ss, va_arg(ap, smtp_message_t));
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		vfy = va_arg(ap, long);
		ok = va_arg(ap, int *);
		if (!ss->sc->verify) {
			*ok = 1;
			tls_warn(ss, X509_verify_cert_error_string(vfy));
		} else
			snprintf(ss->tls_error, sizeof ss->tls_error,
			    "certificate verification failed: %s",
			    X509_verify_cert_error_string(vfy));
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		if (!ss->sc->verify) {
			*ok = 1;
			tls_warn(ss, "no certificate");
		} else
			snprintf(ss->tls_error, sizeof ss->tls_error,
			    "server sent no certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		(void)va_arg(ap, const char *);
		ssl = va_arg(ap, SSL *);
		/*
		 * libesmtp matches DNS names only.  OpenSSL already checked
		 * the name or IP address (X509_VERIFY_PARAM), so its verdict
		 * is the one that counts.
		 */
		if (!ss->sc->verify) {
			*ok = 1;
			tls_warn(ss, "certificate is for another name");
		} else if (SSL_get_verify_result(ssl) == X509_V_OK)
			*ok = 1;
		else
			snprintf(ss->tls_error, sizeof ss->tls_error,
			    "certificate does not match %s", ss->sc->host);
		break;
	default:
		break;
	}
	va_end(ap);
}

/* libesmtp sends no SNI: add it when the handshake starts. */
static void
info_cb(const SSL *cssl, int where, int ret)
{
	SSL *ssl = (SSL *)cssl;
	const char *host;

	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_START) || SSL_is_server(ssl))
		return;
	host = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (host != NULL && SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) == NULL)
		SSL_set_tlsext_host_name(ssl, host);
}

int
deliver_ca_file_ok(const char *path)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok = ctx != NULL && SSL_CTX_load_verify_locations(ctx, path, NULL) == 1;

	SSL_CTX_free(ctx);
	return ok;
}

static SSL_CTX *
make_ctx(const struct smtp_conf *sc, struct err *e)
{
	X509_VERIFY_PARAM *vp;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int r;

	if (ctx == NULL)
		return err_set(e, EX_SOFTWARE, "cannot create a TLS context"), NULL;
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	if (sc->ca_file != NULL)
		r = SSL_CTX_load_verify_locations(ctx, sc->ca_file, NULL);
	else
		r = SSL_CTX_set_default_verify_paths(ctx);
	if (r != 1) {
		SSL_CTX_free(ctx);
		return err_set(e, EX_CONFIG, "cannot load CA certificates from %s",
		    sc->ca_file != NULL ? sc->ca_file : "the system store"), NULL;
	}
	vp = SSL_CTX_get0_param(ctx);
	if (is_ip_literal(sc->host)) {
		if (sc->verify)
			X509_VERIFY_PARAM_set1_ip_asc(vp, sc->host);
	} else {
		SSL_CTX_set_app_data(ctx, sc->host);
		SSL_CTX_set_info_callback(ctx, info_cb);
		if (sc->verify) {
			X509_VERIFY_PARAM_set_hostflags(vp,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			X509_VERIFY_PARAM_set1_host(vp, sc->host, 0);
		}
	}
	return ctx;
}

/* ---- statuses ---- */

#define STOPPED_DETAIL "not sent: the message before it could not be recorded"

/* m is accepted: run its hook.  -1: the caller stops delivering. */
static int
accepted(struct outmsg *m)
{
	m->status = DELIVERY_ACCEPTED;
	return m->accepted != NULL ? m->accepted(m, m->arg) : 0;
}

/* After a hook said stop: the messages not sent. */
static void
mark_stopped(struct outmsg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		msgs[i].status = DELIVERY_PENDING;
		set_detail(&msgs[i], "%s", STOPPED_DETAIL);
	}
}

struct rcpt_walk {
	char buf[512];
	size_t len;
	int refused, temp, accepted;
};

static void
rcpt_cb(smtp_recipient_t r, const char *mailbox, void *arg)
{
	struct rcpt_walk *w = arg;
	const smtp_status_t *st = smtp_recipient_status(r);
	char text[200];
	int n;

	if (st == NULL || st->code == 0)
		return;
	if (st->code / 100 == 2) {
		w->accepted++;
		return;
	}
	w->refused++;
	if (st->code / 100 == 4)
		w->temp++;
	clean_text(text, sizeof text, st->text);
	n = snprintf(w->buf + w->len, sizeof w->buf - w->len, "%srefused for %s: %d %s",
	    w->len > 0 ? "; " : "", mailbox, st->code, text);
	if (n > 0)
		w->len = (size_t)n + w->len < sizeof w->buf ? w->len + (size_t)n :
		    sizeof w->buf - 1;
}

static enum delivery_status
classify(int code)
{
	return code / 100 == 4 ? DELIVERY_TEMPFAIL : DELIVERY_PERMFAIL;
}

/* Refused recipients: temporary if any refusal was. */
static enum delivery_status
refusal(const struct rcpt_walk *w)
{
	return w->temp > 0 ? DELIVERY_TEMPFAIL : DELIVERY_PERMFAIL;
}

/* One message's fate; returns 1 if the server actually answered for it. */
static int
message_status(const struct sess *ss, smtp_message_t sm, struct outmsg *m)
{
	const smtp_status_t *st = smtp_message_transfer_status(sm);
	const smtp_status_t *rp = smtp_reverse_path_status(sm);
	struct rcpt_walk w;
	char text[300];

	memset(&w, 0, sizeof w);
	smtp_enumerate_recipients(sm, rcpt_cb, &w);
	if (st != NULL && st->code / 100 == 2) {
		m->status = DELIVERY_ACCEPTED;
		if (w.refused > 0) {
			m->refused = refusal(&w);
			set_detail(m, "%s", w.buf);
		}
		return 1;
	}
	if (rp != NULL && rp->code != 0 && rp->code / 100 != 2) {
		clean_text(text, sizeof text, rp->text);
		m->status = classify(rp->code);
		set_detail(m, "%s refused the sender: %d %s", ss->where, rp->code, text);
		return 1;
	}
	if (w.refused > 0 && w.accepted == 0) {
		m->status = refusal(&w);
		set_detail(m, "%s", w.buf);
		return 1;
	}
	if (st != NULL && st->code != 0) {
		clean_text(text, sizeof text, st->text);
		m->status = classify(st->code);
		set_detail(m, "%s refused the message: %d %s%s%s", ss->where,
		    st->code, text, w.refused ? "; " : "", w.buf);
		return 1;
	}
	m->status = DELIVERY_TEMPFAIL;
	set_detail(m, "%s: connection lost before the message was accepted",
	    ss->where);
	return 0;
}

/*
 * The server answered the end of DATA: an accepted message's hook runs
 * now, before the next message goes out.  A hook that says stop cuts the
 * session.
 */
static void
message_sent(struct sess *ss, smtp_message_t sm)
{
	struct msgarg *a = smtp_message_get_application_data(sm);

	if (a == NULL || a->failed || a->notified || ss->stopped)
		return;
	message_status(ss, sm, a->m);
	if (a->m->status != DELIVERY_ACCEPTED)
		return;
	a->notified = 1;
	if (accepted(a->m) != 0) {
		ss->stopped = 1;
		kill_connection(ss);
	}
}

static int
session_error(struct sess *ss, int rc, struct err *e)
{
	char buf[128];
	const char *why;
	int code = ss->last_reply[0] - '0';

	if (ss->starttls_missing)
		return err_set(e, EX_UNAVAILABLE, "%s does not offer STARTTLS",
		    ss->where);
	if (ss->tls_error[0] != '\0')
		return err_set(e, EX_UNAVAILABLE, "TLS with %s: %s", ss->where,
		    ss->tls_error);
	if (ss->auth_failed)
		return err_set(e, EX_UNAVAILABLE,
		    "authentication failed for user %s at %s: %s", ss->sc->user,
		    ss->where, ss->auth_text);
	if (ss->last_reply[0] != '\0' && (code == 4 || code == 5) &&
	    (str_has_prefix(ss->last_reply + 3, " ") ||
	    str_has_prefix(ss->last_reply + 3, "-")))
		return err_set(e, code == 4 ? EX_TEMPFAIL : EX_UNAVAILABLE,
		    "%s: %s", ss->where, ss->last_reply);
	why = smtp_strerror(smtp_errno(), buf, sizeof buf);
	return err_set(e, EX_TEMPFAIL, "%s: %s", ss->where,
	    rc == 0 ? (why ? why : "cannot connect") :
	    "connection lost or timed out");
}

static void
set_timeouts(smtp_session_t s, long seconds)
{
	static const int which[] = {Timeout_GREETING, Timeout_ENVELOPE,
	    Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2};
	long ms = seconds > 0 ? seconds * 1000 : 60000;
	size_t i;

	if (ms < 1000)
		ms = 1000;
	for (i = 0; i < sizeof which / sizeof which[0]; i++)
		smtp_set_timeout(s, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
}

static int
setup_session(smtp_session_t s, struct sess *ss, SSL_CTX *ctx,
              auth_context_t ac, struct msgarg *args, size_t n)
{
	smtp_message_t sm;
	size_t i, j;

	if (!smtp_set_server(s, ss->where) ||
	    !smtp_set_eventcb(s, event_cb, ss) ||
	    !smtp_set_monitorcb(s, monitor_cb, ss, 0))
		return -1;
	set_timeouts(s, ss->sc->timeout);
	if (ss->sc->tls == TLS_STARTTLS) {
		if (!smtp_starttls_enable(s, Starttls_REQUIRED) ||
		    !smtp_starttls_set_ctx(s, ctx))
			return -1;
	} else if (!smtp_starttls_enable(s, Starttls_DISABLED))
		return -1;
	if (ac != NULL && !smtp_auth_set_context(s, ac))
		return -1;
	for (i = 0; i < n; i++) {
		if ((sm = smtp_add_message(s)) == NULL ||
		    !smtp_set_reverse_path(sm, args[i].m->envelope_from) ||
		    !smtp_set_messagecb(sm, message_cb, &args[i]))
			return -1;
		smtp_message_set_application_data_release(sm, &args[i], NULL);
		for (j = 0; j < args[i].m->nrcpt; j++)
			if (smtp_add_recipient(sm, args[i].m->rcpt[j]) == NULL)
				return -1;
	}
	return 0;
}

struct collect {
	const struct sess *ss;
	int answered, accepted;
};

static void
collect_cb(smtp_message_t sm, void *arg)
{
	struct collect *c = arg;
	struct msgarg *a = smtp_message_get_application_data(sm);
	struct outmsg *m = a->m;

	if (a->failed) {
		/* cut off in DATA: libesmtp's status (354) is no verdict */
		m->status = DELIVERY_TEMPFAIL;
		set_detail(m, "%s", c->ss->read_error.msg);
		return;
	}
	if (c->ss->stopped && !a->notified) {
		mark_stopped(m, 1);
		return;
	}
	c->answered += message_status(c->ss, sm, m);
	c->accepted += m->status == DELIVERY_ACCEPTED;
	/* no MESSAGESENT event seen for it: the hook runs late rather than never */
	if (m->status == DELIVERY_ACCEPTED && !a->notified) {
		a->notified = 1;
		accepted(m);
	}
}

static int
deliver_smtp(const struct config *cfg, struct outmsg *msgs, size_t n, FILE *log,
             struct err *e)
{
	struct sess ss;
	struct sigaction ign, old;
	struct collect c;
	struct msgarg *args;
	smtp_session_t s = NULL;
	auth_context_t ac = NULL;
	SSL_CTX *ctx = NULL;
	size_t i;
	int rc, r = -1;

	memset(&ss, 0, sizeof ss);
	ss.sc = &cfg->smtp;
	ss.log = log;
	snprintf(ss.where, sizeof ss.where, "%s:%d", cfg->smtp.host, cfg->smtp.port);
	if (probe(&ss, e) != 0)
		return -1;
	if ((args = calloc(n, sizeof *args)) == NULL)
		return err_oom(e);
	for (i = 0; i < n; i++) {
		args[i].ss = &ss;
		args[i].m = &msgs[i];
	}
	if (cfg->smtp.tls == TLS_STARTTLS && (ctx = make_ctx(&cfg->smtp, e)) == NULL) {
		free(args);
		return -1;
	}
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	auth_client_init();
	if ((s = smtp_create_session()) == NULL)
		goto oom;
	if (cfg->smtp.user != NULL) {
		ss.auth_wanted = 1;
		ss.user = cfg->smtp.user;
		ss.pass = cfg->smtp.password != NULL ? cfg->smtp.password : (char *)"";
		if ((ac = auth_create_context()) == NULL)
			goto oom;
		auth_set_mechanism_flags(ac, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(ac, interact_cb, &ss);
	}
	if (setup_session(s, &ss, ctx, ac, args, n) != 0)
		goto oom;
	if (log != NULL)
		fprintf(log, "tidings: smtp %s: sending %zu message%s\n", ss.where, n,
		    n == 1 ? "" : "s");
	fds_snapshot(ss.fd_before);
	rc = smtp_start_session(s);
	memset(&c, 0, sizeof c);
	c.ss = &ss;
	if ((rc != 0 || ss.stopped) && !ss.starttls_missing &&
	    ss.tls_error[0] == '\0' && !ss.auth_failed)
		smtp_enumerate_messages(s, collect_cb, &c);
	if (c.accepted == 0 && c.answered == 0) {
		/* nothing went through: the session failed as a whole */
		for (i = 0; i < n; i++)
			msgs[i].status = DELIVERY_PENDING;
		if (ss.read_error.code != 0)
			*e = ss.read_error;
		else
			session_error(&ss, rc, e);
		for (i = 0; i < n; i++)
			snprintf(msgs[i].detail, sizeof msgs[i].detail, "%s", e->msg);
		goto out;
	}
	if (log != NULL)
		fprintf(log, "tidings: smtp %s: %d of %zu accepted\n", ss.where,
		    c.accepted, n);
	r = 0;
	goto out;
oom:
	err_set(e, EX_SOFTWARE, "cannot set up the SMTP session with %s", ss.where);
out:
	if (s != NULL)
		smtp_destroy_session(s);
	if (ac != NULL)
		auth_destroy_context(ac);
	auth_client_exit();
	SSL_CTX_free(ctx);
	sigaction(SIGPIPE, &old, NULL);
	free(args);
	return r;
}

/* ---- files ---- */

/*
 * Where the stored form of messages goes (an fd, or stdout's FILE), with
 * the buffers reused from one message to the next: memory is a chunk of
 * output plus the longest line, however large the message.
 */
struct dest {
	int fd;
	FILE *fp;                       /* when not NULL, instead of fd */
	int mbox;                       /* mboxrd: From_ line, ">From " quoting */
	const char *path;               /* for errors */
	struct buf out;                 /* converted text not yet written */
	struct buf line;                /* a line the last piece did not finish */
	char *rbuf;                     /* CHUNK bytes, for messages in files */
};

enum text_result {
	TEXT_OK,
	TEXT_NOMEM,                     /* e says so */
	TEXT_READ,                      /* e says why */
	TEXT_WRITE,                     /* errno says why */
};

static void
dest_init(struct dest *d, int fd, FILE *fp, int mbox)
{
	memset(d, 0, sizeof *d);
	d->fd = fd;
	d->fp = fp;
	d->mbox = mbox;
}

static void
dest_free(struct dest *d)
{
	buf_free(&d->out);
	buf_free(&d->line);
	free(d->rbuf);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write out what is waiting once it is at least least bytes. */
static int
dest_flush(struct dest *d, size_t least)
{
	size_t n = d->out.len;

	if (n == 0 || n < least)
		return 0;
	if (d->fp != NULL ? fwrite(d->out.data, 1, n, d->fp) != n :
	    write_all(d->fd, d->out.data, n) != 0)
		return -1;
	buf_reset(&d->out);
	return 0;
}

/* One line without its LF: a CR before it dropped, quoted in mboxrd. */
static int
put_line(struct dest *d, const char *p, size_t l)
{
	size_t k;

	if (l > 0 && p[l - 1] == '\r')
		l--;
	if (d->mbox) {
		for (k = 0; k < l && p[k] == '>'; k++)
			;
		if (l - k >= 5 && memcmp(p + k, "From ", 5) == 0 &&
		    buf_addc(&d->out, '>') != 0)
			return -1;
	}
	if (buf_add(&d->out, p, l) != 0 || buf_addc(&d->out, '\n') != 0)
		return -1;
	return 0;
}

/* The lines a piece finishes; the one it does not waits in d->line. */
static int
put_piece(struct dest *d, const char *p, size_t n)
{
	const char *nl;
	size_t l;
	int r;

	while ((nl = memchr(p, '\n', n)) != NULL) {
		l = (size_t)(nl - p);
		if (d->line.len > 0) {
			r = buf_add(&d->line, p, l) != 0 ||
			    put_line(d, d->line.data, d->line.len) != 0;
			buf_reset(&d->line);
		} else
			r = put_line(d, p, l) != 0;
		if (r)
			return -1;
		p += l + 1;
		n -= l + 1;
	}
	return n > 0 ? buf_add(&d->line, p, n) : 0;
}

static int
mbox_from_line(const struct outmsg *m, struct buf *out)
{
	char date[32];
	struct tm tm;
	time_t now = time(NULL);

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
	return buf_printf(out, "From %s %s\n", str_empty(m->envelope_from) ?
	    "MAILER-DAEMON" : m->envelope_from, date);
}

/* The rest of the message once every piece is in. */
static int
put_end(struct dest *d)
{
	if (d->line.len > 0 && put_line(d, d->line.data, d->line.len) != 0)
		return -1;
	buf_reset(&d->line);
	return d->mbox ? buf_addc(&d->out, '\n') : 0;
}

static enum text_result
text_nomem(struct err *e)
{
	err_oom(e);
	return TEXT_NOMEM;
}

/*
 * The message as stored in mbox (mboxrd) or maildir, LF line ends,
 * converted and written a piece at a time.
 */
static enum text_result
file_text(const struct outmsg *m, struct dest *d, struct err *e)
{
	size_t pos = 0;
	const char *p;
	ssize_t n;

	buf_reset(&d->out);
	buf_reset(&d->line);
	if (m->data == NULL && d->rbuf == NULL && (d->rbuf = malloc(CHUNK)) == NULL)
		return text_nomem(e);
	if (d->mbox && mbox_from_line(m, &d->out) != 0)
		return text_nomem(e);
	while ((n = msg_piece(m, &pos, d->rbuf, &p, e)) > 0) {
		if (put_piece(d, p, (size_t)n) != 0)
			return text_nomem(e);
		if (dest_flush(d, CHUNK) != 0)
			return TEXT_WRITE;
	}
	if (n < 0)
		return TEXT_READ;
	if (put_end(d) != 0)
		return text_nomem(e);
	return dest_flush(d, 0) != 0 ? TEXT_WRITE : TEXT_OK;
}

/*
 * Open an mbox for appending (and reading its end): never blocking (a FIFO would wait for a
 * reader forever), and only a regular file.
 */
static int
mbox_open(const char *path, struct stat *st, struct err *e)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0)
		/* ENXIO: a FIFO without a reader */
		return err_set(e, EX_CANTCREAT, "cannot open mbox %s: %s", path,
		    errno == ENXIO ? "not a regular file" : strerror(errno));
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
	    fcntl(fd, F_SETFL, O_APPEND) != 0) {
		err_set(e, EX_CANTCREAT, "cannot open mbox %s: %s", path,
		    S_ISREG(st->st_mode) ? strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * mboxrd ends every message with a blank line; a file that does not (an
 * editor's last line without its newline) would glue our From_ line onto
 * its last line, and readers would lose the message.  A failed first
 * message truncates back to before this ending too.
 */
static int
mbox_ending(int fd, off_t size)
{
	char tail[2] = {'\n', '\n'};
	size_t want = size >= 2 ? 2 : (size_t)size;

	if (size == 0)
		return 0;
	if (pread(fd, tail + 2 - want, want, size - (off_t)want) != (ssize_t)want)
		return -1;
	if (tail[1] != '\n')
		return write_all(fd, "\n\n", 2);
	return tail[0] != '\n' ? write_all(fd, "\n", 1) : 0;
}

/*
 * Append one message and fsync it; on failure truncate back to end.
 * Returns the text result; *end moves past the message when it is in.
 */
static enum text_result
mbox_one(int fd, struct outmsg *m, struct dest *d, off_t *end, struct err *e)
{
	enum text_result t = file_text(m, d, e);
	struct stat st;

	if (t == TEXT_OK && (fsync(fd) != 0 || fstat(fd, &st) != 0))
		t = TEXT_WRITE;
	if (t == TEXT_OK) {
		*end = st.st_size;
		return t;
	}
	if (t == TEXT_WRITE)
		err_set(e, EX_IOERR, "cannot write mbox %s: %s", d->path, strerror(errno));
	/* leave no half message behind */
	if (ftruncate(fd, *end) == 0)
		fsync(fd);
	return t;
}

/*
 * Append the messages one at a time, each fsynced before the next: a
 * failure keeps the ones before it and leaves nothing of itself.
 */
static int
deliver_mbox(const char *path, struct outmsg *msgs, size_t n, struct err *e)
{
	struct dest d;
	struct flock fl;
	struct stat st;
	off_t end;
	size_t i;
	int fd, r = -1;

	if ((fd = mbox_open(path, &st, e)) < 0)
		return -1;
	dest_init(&d, fd, NULL, 1);
	d.path = path;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLKW, &fl) != 0 || flock(fd, LOCK_EX) != 0) {
		err_set(e, EX_IOERR, "cannot lock mbox %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		err_set(e, EX_IOERR, "cannot stat mbox %s: %s", path, strerror(errno));
		goto out;
	}
	end = st.st_size;
	if (mbox_ending(fd, end) != 0) {
		err_set(e, EX_IOERR, "cannot write mbox %s: %s", path, strerror(errno));
		if (ftruncate(fd, end) == 0)
			fsync(fd);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (mbox_one(fd, &msgs[i], &d, &end, e) != TEXT_OK) {
			if (i == 0)
				goto out;
			/* the earlier ones are in: report them, retry the rest */
			for (; i < n; i++) {
				msgs[i].status = DELIVERY_TEMPFAIL;
				set_detail(&msgs[i], "%s", e->msg);
			}
			break;
		}
		if (accepted(&msgs[i]) != 0) {
			mark_stopped(msgs + i + 1, n - i - 1);
			break;
		}
	}
	r = 0;
out:
	close(fd);
	dest_free(&d);
	return r;
}

/*
 * Messages go out one after the other; once one is out, a failure is
 * reported on the rest (a failed write may leave part of one behind).
 */
static int
deliver_stdout(struct outmsg *msgs, size_t n, struct err *e)
{
	struct dest d;
	enum text_result t;
	size_t i;

	dest_init(&d, -1, stdout, 1);
	for (i = 0; i < n; i++) {
		t = file_text(&msgs[i], &d, e);
		if (t == TEXT_OK && fflush(stdout) != 0)
			t = TEXT_WRITE;
		if (t == TEXT_OK && accepted(&msgs[i]) != 0) {
			mark_stopped(msgs + i + 1, n - i - 1);
			break;
		}
		if (t == TEXT_OK)
			continue;
		dest_free(&d);
		if (t == TEXT_NOMEM)
			return -1;
		if (i == 0)
			return t == TEXT_READ ? -1 : err_set(e, EX_IOERR,
			    "cannot write to stdout: %s", strerror(errno));
		for (; i < n; i++) {
			msgs[i].status = DELIVERY_TEMPFAIL;
			set_detail(&msgs[i], "%s", t == TEXT_READ ? e->msg :
			    "cannot write to stdout");
		}
		return 0;
	}
	dest_free(&d);
	return 0;
}

static int
mkdir_ok(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int
fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* time.Ppid_Rrandom.host: unique per delivery (the maildir convention). */
static void
maildir_name(char *dst, size_t size)
{
	char host[256], r[17], *p;
	struct timeval tv;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (p = host; *p != '\0'; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	random_hex(r, 8);
	gettimeofday(&tv, NULL);
	snprintf(dst, size, "%lld.M%ldP%dR%s.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
	    (int)getpid(), r, host);
}

/* Write m into tmp/ and fsync it; the file is gone again on failure. */
static int
maildir_write(const char *tmp, struct outmsg *m, struct dest *d, struct err *e)
{
	enum text_result t;
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
	d->fd = fd;
	t = file_text(m, d, e);
	if (t == TEXT_OK && fsync(fd) != 0)
		t = TEXT_WRITE;
	saved = errno;
	if (close(fd) != 0 && t == TEXT_OK) {
		t = TEXT_WRITE;
		saved = errno;
	}
	d->fd = -1;
	if (t == TEXT_OK)
		return 0;
	if (t == TEXT_WRITE)
		err_set(e, EX_IOERR, "cannot write %s: %s", tmp, strerror(saved));
	unlink(tmp);
	return -1;
}

/* 0: in; 1: in, but its hook said stop; -1: not in (e says why). */
static int
maildir_one(const char *dir, struct outmsg *m, struct dest *d, struct err *e)
{
	char name[400], *tmp = NULL, *dst = NULL, *newdir = NULL;
	int r = -1;

	maildir_name(name, sizeof name);
	tmp = str_printf("%s/tmp/%s", dir, name);
	dst = str_printf("%s/new/%s", dir, name);
	newdir = str_printf("%s/new", dir);
	if (tmp == NULL || dst == NULL || newdir == NULL) {
		err_oom(e);
		goto out;
	}
	if (maildir_write(tmp, m, d, e) != 0)
		goto out;
	if (rename(tmp, dst) != 0 || fsync_dir(newdir) != 0) {
		err_set(e, EX_IOERR, "cannot move %s to new/: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	r = accepted(m) != 0 ? 1 : 0;
out:
	free(tmp);
	free(dst);
	free(newdir);
	return r;
}

static int
maildir_dirs(const char *dir, struct err *e)
{
	static const char *const sub[] = {"tmp", "new", "cur"};
	char *p;
	size_t i;

	if (mkdir_ok(dir) != 0)
		return err_set(e, EX_CANTCREAT, "cannot create maildir %s: %s", dir,
		    strerror(errno));
	for (i = 0; i < 3; i++) {
		if ((p = str_printf("%s/%s", dir, sub[i])) == NULL)
			return err_oom(e);
		if (mkdir_ok(p) != 0) {
			err_set(e, EX_CANTCREAT, "cannot create %s: %s", p,
			    strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

static int
deliver_maildir(const char *dir, struct outmsg *msgs, size_t n, struct err *e)
{
	struct dest d;
	size_t i;
	int r;

	if (maildir_dirs(dir, e) != 0)
		return -1;
	dest_init(&d, -1, NULL, 0);
	for (i = 0; i < n; i++) {
		r = maildir_one(dir, &msgs[i], &d, e);
		if (r > 0) {
			mark_stopped(msgs + i + 1, n - i - 1);
			break;
		}
		if (r == 0)
			continue;
		if (i == 0) {
			dest_free(&d);
			return -1;
		}
		/* the earlier ones are in: report them, retry the rest */
		for (; i < n; i++) {
			msgs[i].status = DELIVERY_TEMPFAIL;
			set_detail(&msgs[i], "%s", e->msg);
		}
	}
	dest_free(&d);
	return 0;
}

int
deliver(const struct config *cfg, struct outmsg *msgs, size_t n, FILE *log,
        struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		msgs[i].status = DELIVERY_PENDING;
		msgs[i].detail[0] = '\0';
	}
	if (n == 0)
		return 0;
	switch (cfg->deliver) {
	case DELIVER_SMTP:
		return deliver_smtp(cfg, msgs, n, log, e);
	case DELIVER_MBOX:
		return deliver_mbox(cfg->deliver_path, msgs, n, e);
	case DELIVER_MAILDIR:
		return deliver_maildir(cfg->deliver_path, msgs, n, e);
	case DELIVER_STDOUT:
		return deliver_stdout(msgs, n, e);
	}
	return err_set(e, EX_SOFTWARE, "unknown delivery kind");
}
