/*
 * smtp: SMTP delivery through libcurl's SMTP (see docs/decisions.md, "One
 * SMTP transport: libcurl").
 *
 * Each message is one curl transfer; at most smtp.sessions run at once on
 * one multi handle, which keeps their connections and hands an idle one
 * to the next message, so a session carries message after message on one
 * connection (curl sends no RSET and makes no probe connection).
 *
 * curl reports a transfer as one result code; what the server said to
 * each command (AUTH's mechanism and reply, SIZE's limit, each RCPT's
 * reply) is read from its debug stream.  Nothing from that stream is ever
 * printed: after AUTH the client's lines are credentials.
 *
 * A transfer that fails on a reused connection with 421, 452 or no reply
 * at all is the server ending a session (OpenSMTPD's 100 messages per
 * session, an idle timeout, a restart): curl closes that connection and
 * the message goes again on a new one.
 */
#include "smtp.h"

#include <curl/curl.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#define RETRIES 3 /* new sessions one message may take */

/* Sizes of what is kept (longer text is cut; it only goes into messages). */
#define REPLY_MAX    256 /* a server reply, one line */
#define REFUSALS_MAX 300 /* the refused recipients with their replies */
#define MECH_MAX     24  /* the mechanism AUTH named */
#define OFFERED_MAX  120 /* the mechanisms EHLO's AUTH line offered */
#define HOST_MAX     256 /* a host name: ours, or the EHLO name */
#define ADDR_MAX     600 /* "<address>" for MAIL FROM and RCPT TO */
#define WHERE_MAX    300 /* "host:port", for messages */
#define URL_MAX      600 /* smtp[s]://host:port/ehlo-name */
#define OPTIONS_MAX  64  /* curl's login options (the AUTH mechanisms) */

#define MS_PER_S 1000L
#define POLL_MS  1000 /* the longest wait for the sockets before curl looks again */

enum verb { V_NONE, V_EHLO, V_AUTH, V_MAIL, V_RCPT, V_DATA, V_OTHER };

/* One message's transfer and what its debug stream showed. */
struct xfer {
	struct outmsg *m;
	struct pool *p;
	struct curl_slist *rcpts;
	CURL *h;    /* while in the multi handle */
	size_t pos; /* bytes handed to curl */
	int tries;
	enum verb verb; /* the last command sent */
	int awaiting;   /* it, or the text after 354, has no reply yet */
	size_t rcpt_at; /* replies to RCPT so far */
	int rcpt_ok, rcpt_temp, rcpt_refused;
	char refusals[REFUSALS_MAX];
	int mail_code; /* reply to MAIL, 0 before */
	int last_code;
	char last_reply[REPLY_MAX];
	char auth_mech[MECH_MAX];   /* the mechanism AUTH named */
	char auth_reply[REPLY_MAX]; /* the failing reply to AUTH */
	int auth_ok;
	char auth_offered[OFFERED_MAX]; /* the EHLO AUTH line's mechanisms */
	long long size_limit;           /* EHLO SIZE, 0 when none */
	int quit;                       /* curl sent QUIT: what follows is not the message's */
	int saw_ehlo;                   /* this transfer opened its session */
	int no_auth;                    /* user set, the session's MAIL came without AUTH */
	char errbuf[CURL_ERROR_SIZE];
	struct err read_error;
};

struct pool {
	const struct smtp_conf *sc;
	FILE *log;
	char url[URL_MAX];
	char where[WHERE_MAX];
	char login_options[OPTIONS_MAX];
	CURLM *multi;
	struct xfer *x;
	size_t n;
	size_t *queue; /* messages waiting, a ring of n */
	size_t head, count;
	size_t active;
	size_t sessions;    /* at most this many at once */
	int stop;           /* a session failed as a whole: start no more */
	struct err failure; /* why */
	int answered;       /* messages the server gave a verdict on */
	int hook_stopped;   /* an accepted hook failed: nothing more is sent */
	int warned;
};

/* Server text for one line of output: no CR, LF or other controls. */
static void
clean_copy(char *dst, size_t size, const char *src, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < size; i++) {
		if (src[i] == '\r' || src[i] == '\n')
			continue;
		dst[j++] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
	}
	dst[j] = '\0';
}

/* ---- the EHLO name ---- */

static int
fqdn(char *dst, size_t size)
{
	struct addrinfo hints, *res;
	char host[HOST_MAX];
	int ok;

	if (gethostname(host, sizeof host) != 0)
		return 0;
	host[sizeof host - 1] = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (strchr(host, '.') == NULL && getaddrinfo(host, NULL, &hints, &res) == 0) {
		if (res->ai_canonname != NULL)
			snprintf(host, sizeof host, "%s", res->ai_canonname);
		freeaddrinfo(res);
	}
	ok = strchr(host, '.') != NULL && host[strlen(host) - 1] != '.';
	if (ok)
		snprintf(dst, size, "%s", host);
	return ok;
}

void
smtp_helo_name(const struct smtp_conf *sc, const char *from, char *dst, size_t size)
{
	const char *at = from != NULL ? strrchr(from, '@') : NULL;

	if (sc->helo != NULL)
		snprintf(dst, size, "%s", sc->helo);
	else if (fqdn(dst, size))
		return;
	else if (at != NULL && strchr(at, '.') != NULL)
		snprintf(dst, size, "%s", at + 1);
	else
		snprintf(dst, size, "localhost.localdomain");
}

/* ---- the protocol as curl's debug stream shows it ---- */

static enum verb
verb_of(const char *s, size_t n)
{
	static const struct {
		const char *word;
		enum verb v;
	} verbs[] = {{"EHLO", V_EHLO}, {"HELO", V_EHLO}, {"AUTH", V_AUTH},
	             {"MAIL", V_MAIL}, {"RCPT", V_RCPT}, {"DATA", V_DATA}};

	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (n >= 4 && strncasecmp(s, verbs[i].word, 4) == 0)
			return verbs[i].v;
	return V_OTHER;
}

/* A command went out: note which, and AUTH's mechanism (never its data). */
static void
saw_command(struct xfer *x, const char *s, size_t n)
{
	const struct smtp_conf *sc = x->p->sc;
	size_t k;

	if (x->quit)
		return;
	x->awaiting = 1;
	if (x->verb == V_AUTH && x->last_code == 334)
		return; /* a SASL response line: a secret */
	if (n >= 4 && strncasecmp(s, "QUIT", 4) == 0) {
		x->quit = 1; /* curl ending the connection: not this message's story */
		x->awaiting = 0;
		return;
	}
	x->verb = verb_of(s, n);
	x->saw_ehlo |= x->verb == V_EHLO;
	if (x->verb == V_AUTH && n > 5) {
		for (k = 0; 5 + k < n && k + 1 < sizeof x->auth_mech && s[5 + k] != ' ' &&
		            s[5 + k] != '\r';
		     k++)
			x->auth_mech[k] = s[5 + k];
		x->auth_mech[k] = '\0';
	}
	if (x->verb == V_MAIL && sc->user != NULL && x->saw_ehlo && !x->auth_ok)
		x->no_auth = 1;
}

static void
saw_ehlo_line(struct xfer *x, const char *text, size_t n)
{
	if (n > 5 && strncasecmp(text, "SIZE ", 5) == 0)
		x->size_limit = strtoll(text + 5, NULL, 10);
	else if (n > 5 && strncasecmp(text, "AUTH ", 5) == 0)
		clean_copy(x->auth_offered, sizeof x->auth_offered, text + 5, n - 5);
}

static void
saw_rcpt_reply(struct xfer *x, int code)
{
	const struct outmsg *m = x->m;
	size_t len = strlen(x->refusals);

	if (x->rcpt_at >= m->nrcpt)
		return;
	if (code / 100 == 2)
		x->rcpt_ok++;
	else {
		x->rcpt_refused++;
		x->rcpt_temp += code / 100 == 4;
		snprintf(x->refusals + len, sizeof x->refusals - len, "%srefused for %s: %s",
		         len > 0 ? "; " : "", m->rcpt[x->rcpt_at], x->last_reply);
	}
	x->rcpt_at++;
}

/* A reply line came in. */
static void
saw_reply(struct xfer *x, const char *s, size_t n)
{
	int code, last;

	if (n < 3 || s[0] < '1' || s[0] > '5' || x->quit)
		return;
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	last = n == 3 || s[3] != '-';
	if (x->verb == V_EHLO && n > 4)
		saw_ehlo_line(x, s + 4, n - 4 - (s[n - 1] == '\n') - (n > 5 && s[n - 2] == '\r'));
	if (!last)
		return;
	x->last_code = code;
	x->awaiting = code == 354;
	clean_copy(x->last_reply, sizeof x->last_reply, s, n);
	switch (x->verb) {
	case V_AUTH:
		if (code == 235)
			x->auth_ok = 1;
		else if (code != 334)
			snprintf(x->auth_reply, sizeof x->auth_reply, "%s", x->last_reply);
		break;
	case V_MAIL: x->mail_code = code; break;
	case V_RCPT: saw_rcpt_reply(x, code); break;
	default: break;
	}
}

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct xfer *x = arg;

	(void)h;
	if (type == CURLINFO_HEADER_OUT)
		saw_command(x, data, size);
	else if (type == CURLINFO_HEADER_IN)
		saw_reply(x, data, size);
	return 0;
}

/* ---- the message text ---- */

static size_t
read_cb(char *dst, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t room = size * nitems, want = x->m->len - x->pos, got = 0;
	ssize_t r;

	/* AUTH was wanted but never happened: send no text unauthenticated */
	if (x->no_auth)
		return CURL_READFUNC_ABORT;
	if (want > room)
		want = room;
	while (got < want) {
		r = outmsg_piece(x->m, &x->pos, dst + got, want - got, &x->read_error);
		if (r < 0)
			return CURL_READFUNC_ABORT; /* never a short, complete-looking text */
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* ---- one transfer ---- */

static void
xfer_reset(struct xfer *x)
{
	struct outmsg *m = x->m;
	struct pool *p = x->p;
	struct curl_slist *r = x->rcpts;
	int tries = x->tries;

	memset(x, 0, sizeof *x);
	x->m = m;
	x->p = p;
	x->rcpts = r;
	x->tries = tries;
}

static CURL *
xfer_handle(struct pool *p, struct xfer *x, long timeout_ms)
{
	const struct smtp_conf *sc = p->sc;
	CURL *h = curl_easy_init();
	char from[ADDR_MAX];

	if (h == NULL)
		return NULL;
	snprintf(from, sizeof from, "<%s>", x->m->envelope_from);
	curl_easy_setopt(h, CURLOPT_URL, p->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, x->rcpts);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->m->len);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, x);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, x);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_USE_SSL,
	                 sc->tls == TLS_STARTTLS ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, sc->verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, sc->verify ? 2L : 0L);
	if (sc->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, sc->ca_file);
	if (sc->user != NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, sc->user);
		curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, p->login_options);
		if (sc->auth == SMTP_AUTH_XOAUTH2)
			curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, sc->password);
		else
			curl_easy_setopt(h, CURLOPT_PASSWORD, sc->password);
	}
	return h;
}

/*
 * The mechanisms allowed (curl takes CRAM-MD5, then PLAIN, then LOGIN
 * among those offered); never NTLM, GSSAPI or DIGEST-MD5, which fail
 * with a plain password or are obsolete.
 */
static const struct {
	const char *options, *names;
} mechanisms[] = {
    [SMTP_AUTH_ANY] = {.options = "AUTH=CRAM-MD5;AUTH=PLAIN;AUTH=LOGIN",
                       .names = "CRAM-MD5 PLAIN LOGIN"},
    [SMTP_AUTH_PLAIN] = {.options = "AUTH=PLAIN", .names = "PLAIN"},
    [SMTP_AUTH_LOGIN] = {.options = "AUTH=LOGIN", .names = "LOGIN"},
    [SMTP_AUTH_CRAM_MD5] = {.options = "AUTH=CRAM-MD5", .names = "CRAM-MD5"},
    [SMTP_AUTH_XOAUTH2] = {.options = "AUTH=XOAUTH2", .names = "XOAUTH2"},
};

/* ---- verdicts ---- */

static int
is_tls_error(CURLcode rc)
{
	static const CURLcode tls[] = {CURLE_SSL_CONNECT_ERROR,
	                               CURLE_PEER_FAILED_VERIFICATION,
	                               CURLE_SSL_CACERT_BADFILE,
	                               CURLE_SSL_CERTPROBLEM,
	                               CURLE_SSL_CIPHER,
	                               CURLE_SSL_ISSUER_ERROR,
	                               CURLE_SSL_PINNEDPUBKEYNOTMATCH,
	                               CURLE_SSL_INVALIDCERTSTATUS,
	                               CURLE_SSL_SHUTDOWN_FAILED,
	                               CURLE_SSL_ENGINE_INITFAILED};

	for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++)
		if (rc == tls[i])
			return 1;
	return 0;
}

/* The session failed as a whole: no further message is tried. */
static void session_failed(struct pool *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
session_failed(struct pool *p, int code, const char *fmt, ...)
{
	va_list ap;

	p->stop = 1;
	if (p->failure.code != 0)
		return;
	p->failure.code = code;
	va_start(ap, fmt);
	vsnprintf(p->failure.msg, sizeof p->failure.msg, fmt, ap);
	va_end(ap);
}

static void
auth_failed(struct pool *p, const struct xfer *x)
{
	const char *user = p->sc->user;

	if (x->no_auth)
		session_failed(
		    p, EX_UNAVAILABLE,
		    "authentication failed for user %s at %s: server does not offer AUTH", user,
		    p->where);
	else if (x->auth_mech[0] == '\0')
		session_failed(
		    p, EX_UNAVAILABLE,
		    "authentication failed for user %s at %s: the server offers AUTH %s, "
		    "none of %s",
		    user, p->where, x->auth_offered[0] ? x->auth_offered : "(none)",
		    mechanisms[p->sc->auth].names);
	else
		session_failed(
		    p, EX_UNAVAILABLE, "authentication failed for user %s at %s: AUTH %s: %s", user,
		    p->where, x->auth_mech, x->auth_reply[0] ? x->auth_reply : x->last_reply);
}

/* Failures that are the session's, not the message's; 1 if rc is one. */
static int
session_verdict(struct pool *p, struct xfer *x, CURL *h, CURLcode rc)
{
	const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	long oserr = 0;

	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		session_failed(p, EX_TEMPFAIL, "cannot connect to %s: %s", p->where,
		               oserr != 0 ? strerror((int)oserr) : why);
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION)
		session_failed(p, EX_UNAVAILABLE,
		               "TLS with %s failed: certificate verification failed: %s", p->where,
		               why);
	else if (is_tls_error(rc))
		session_failed(p, EX_UNAVAILABLE, "TLS with %s failed: %s", p->where, why);
	else if (rc == CURLE_USE_SSL_FAILED)
		session_failed(p, EX_UNAVAILABLE, "%s does not offer STARTTLS", p->where);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		session_failed(
		    p, EX_TEMPFAIL,
		    "%s: timed out: no complete exchange within timeout = %ld s (last: %s)",
		    p->where, p->sc->timeout, x->last_reply[0] ? x->last_reply : "no reply");
	else if (rc == CURLE_LOGIN_DENIED || x->no_auth || (x->auth_mech[0] != '\0' && !x->auth_ok))
		auth_failed(p, x);
	else if (x->mail_code == 0 && x->last_code != 0 && !x->awaiting)
		session_failed(p, x->last_code / 100 == 5 ? EX_UNAVAILABLE : EX_TEMPFAIL, "%s: %s",
		               p->where, x->last_reply);
	else if (x->awaiting || x->mail_code == 0)
		session_failed(p, EX_TEMPFAIL, "%s: connection lost (%s)", p->where, why);
	else
		return 0;
	return 1;
}

/*
 * The server ended a session it had used before (a transfer that opened
 * its own connection is judged as it is): go again on a new one.
 */
static int
session_ended(const struct xfer *x, CURLcode rc, long new_conns)
{
	if (new_conns != 0 || x->tries >= RETRIES || rc == CURLE_OK ||
	    rc == CURLE_OPERATION_TIMEDOUT)
		return 0;
	if (x->awaiting || x->last_code == 421)
		return 1; /* the connection went away, or said it would */
	return x->last_code == 452 && (x->verb == V_MAIL || x->verb == V_RCPT);
}

static void
message_refused(struct pool *p, struct xfer *x)
{
	struct outmsg *m = x->m;
	int code = x->last_code;

	m->status = code / 100 == 5 ? DELIVERY_PERMFAIL : DELIVERY_TEMPFAIL;
	if (x->mail_code / 100 != 2 && x->mail_code != 0 && code == 552 && x->size_limit > 0)
		outmsg_detail(m, "%s refused the message of %zu bytes: the limit is %lld bytes: %s",
		              p->where, m->len, x->size_limit, x->last_reply);
	else if (x->mail_code / 100 != 2 && x->mail_code != 0)
		outmsg_detail(m, "%s refused the sender: %s", p->where, x->last_reply);
	else if (x->rcpt_refused > 0 && x->rcpt_ok == 0) {
		m->status = x->rcpt_temp > 0 ? DELIVERY_TEMPFAIL : DELIVERY_PERMFAIL;
		outmsg_detail(m, "%s", x->refusals);
	} else if (code == 552 && x->size_limit > 0)
		outmsg_detail(m, "%s refused the message of %zu bytes: the limit is %lld bytes: %s",
		              p->where, m->len, x->size_limit, x->last_reply);
	else if (code >= 400)
		outmsg_detail(m, "%s refused the message: %s", p->where, x->last_reply);
	else {
		m->status = DELIVERY_TEMPFAIL;
		outmsg_detail(m, "%s: connection lost before the message was accepted", p->where);
	}
}

static void
requeue(struct pool *p, size_t i)
{
	p->queue[(p->head + p->count) % p->n] = i;
	p->count++;
}

static void
finished(struct pool *p, struct xfer *x, CURL *h, CURLcode rc, long new_conns)
{
	struct outmsg *m = x->m;

	if (x->read_error.code != 0) {
		/* curl cut the session: the server drops the partial text */
		p->stop = 1;
		if (p->failure.code == 0)
			p->failure = x->read_error;
		return;
	}
	if (rc == CURLE_OK) {
		if (x->rcpt_refused > 0) {
			m->refused = x->rcpt_temp > 0 ? DELIVERY_TEMPFAIL : DELIVERY_PERMFAIL;
			outmsg_detail(m, "%s", x->refusals);
		}
		p->answered++;
		/* durable before the next message starts (collect runs before start_next) */
		if (outmsg_accepted(m) != 0)
			p->stop = p->hook_stopped = 1;
		return;
	}
	if (session_ended(x, rc, new_conns)) {
		x->tries++;
		/* Lost after the whole text went out: the server may have kept it. */
		if (p->log != NULL && x->verb == V_DATA && x->pos >= m->len)
			fprintf(p->log,
			        "tidings: smtp %s: the connection was lost after a message was "
			        "sent, before the server's answer: sending it again in a new "
			        "session (it may arrive twice)\n",
			        p->where);
		else if (p->log != NULL)
			fprintf(p->log,
			        "tidings: smtp %s: the server ended a session (%s): "
			        "opening another\n",
			        p->where, x->last_reply[0] ? x->last_reply : "connection closed");
		requeue(p, (size_t)(x - p->x));
		return;
	}
	if (session_verdict(p, x, h, rc))
		return;
	message_refused(p, x);
	p->answered++;
}

/* ---- the pool ---- */

static int
start_next(struct pool *p)
{
	struct xfer *x;
	size_t i;
	CURL *h;

	i = p->queue[p->head];
	x = &p->x[i];
	xfer_reset(x);
	if ((h = xfer_handle(p, x, p->sc->timeout * MS_PER_S)) == NULL)
		return -1;
	if (curl_multi_add_handle(p->multi, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		return -1;
	}
	x->h = h;
	p->head = (p->head + 1) % p->n;
	p->count--;
	p->active++;
	return 0;
}

static void
collect(struct pool *p)
{
	struct xfer *x;
	CURLMsg *msg;
	long conns;
	int left;

	while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		conns = 1;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &conns);
		finished(p, x, msg->easy_handle, msg->data.result, conns);
		curl_multi_remove_handle(p->multi, msg->easy_handle);
		curl_easy_cleanup(msg->easy_handle);
		x->h = NULL;
		p->active--;
	}
}

/*
 * Where the next message in the queue stands.  While others are in
 * flight it is only looked at (the gate wakes the poll when it changes);
 * with none, there is nothing else to do but wait for it.
 */
static enum outmsg_state
next_state(struct pool *p)
{
	struct outmsg *m = p->x[p->queue[p->head]].m;
	enum outmsg_state s = outmsg_state(m);

	if (s == OUTMSG_NOT_YET && p->active == 0)
		s = outmsg_wait(m) == 0 ? OUTMSG_WRITTEN : OUTMSG_NEVER;
	if (s == OUTMSG_NEVER) {
		outmsg_not_sent(m, 1, OUTMSG_UNWRITTEN); /* passed over, left as it is */
		p->head = (p->head + 1) % p->n;
		p->count--;
	}
	return s;
}

static int
pump(struct pool *p, struct err *e)
{
	enum outmsg_state s = OUTMSG_WRITTEN;
	int running;

	while (p->active > 0 || (p->count > 0 && !p->stop)) {
		while (!p->stop && p->count > 0 && p->active < p->sessions &&
		       (s = next_state(p)) != OUTMSG_NOT_YET)
			if (s == OUTMSG_WRITTEN && start_next(p) != 0)
				return err_set(e, EX_SOFTWARE, "cannot set up an SMTP transfer");
		if (curl_multi_perform(p->multi, &running) != CURLM_OK)
			return err_set(e, EX_SOFTWARE, "libcurl's SMTP loop failed");
		collect(p);
		if (running > 0 && curl_multi_poll(p->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK)
			return err_set(e, EX_SOFTWARE, "libcurl's SMTP loop failed");
	}
	return 0;
}

static int
pool_init(struct pool *p, const struct smtp_conf *sc, struct outmsg *msgs, size_t n, FILE *log)
{
	char helo[HOST_MAX];
	int ip6 = strchr(sc->host, ':') != NULL;

	memset(p, 0, sizeof *p);
	p->sc = sc;
	p->log = log;
	p->n = n;
	p->sessions = sc->sessions > 0 ? (size_t)sc->sessions : 1;
	smtp_helo_name(sc, msgs[0].envelope_from, helo, sizeof helo);
	snprintf(p->where, sizeof p->where, "%s:%d", sc->host, sc->port);
	snprintf(p->url, sizeof p->url, "%s://%s%s%s:%d/%s",
	         sc->tls == TLS_IMPLICIT ? "smtps" : "smtp", ip6 ? "[" : "", sc->host,
	         ip6 ? "]" : "", sc->port, helo);
	snprintf(p->login_options, sizeof p->login_options, "%s", mechanisms[sc->auth].options);
	if ((p->x = calloc(n, sizeof *p->x)) == NULL ||
	    (p->queue = calloc(n, sizeof *p->queue)) == NULL ||
	    (p->multi = curl_multi_init()) == NULL)
		return -1;
	curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->sessions);
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)p->sessions);
	for (size_t i = 0; i < n; i++) {
		p->x[i].m = &msgs[i];
		p->x[i].p = p;
		for (size_t j = 0; j < msgs[i].nrcpt; j++) {
			char addr[ADDR_MAX];
			struct curl_slist *l;

			snprintf(addr, sizeof addr, "<%s>", msgs[i].rcpt[j]);
			if ((l = curl_slist_append(p->x[i].rcpts, addr)) == NULL)
				return -1;
			p->x[i].rcpts = l;
		}
		if (msgs[i].nrcpt > 0)
			requeue(p, i);
		else {
			msgs[i].status = DELIVERY_PERMFAIL;
			outmsg_detail(&msgs[i], "no recipients");
		}
	}
	return 0;
}

static void
pool_free(struct pool *p)
{
	for (size_t i = 0; p->x != NULL && i < p->n; i++)
		if (p->x[i].h != NULL) { /* left by an error in the loop */
			curl_multi_remove_handle(p->multi, p->x[i].h);
			curl_easy_cleanup(p->x[i].h);
		}
	if (p->multi != NULL)
		curl_multi_cleanup(p->multi);
	for (size_t i = 0; p->x != NULL && i < p->n; i++)
		curl_slist_free_all(p->x[i].rcpts);
	free(p->x);
	free(p->queue);
}

/* What the messages never tried (or cut off) are left as. */
static int
outcome(struct pool *p, struct outmsg *msgs, size_t n, struct err *e)
{
	int accepted = 0;

	for (size_t i = 0; i < n; i++)
		accepted += msgs[i].status == DELIVERY_ACCEPTED;
	if (p->log != NULL)
		fprintf(p->log, "tidings: smtp %s: %d of %zu accepted\n", p->where, accepted, n);
	if (p->answered == 0 && p->failure.code != 0) {
		*e = p->failure;
		for (size_t i = 0; i < n; i++) {
			msgs[i].status = DELIVERY_PENDING;
			outmsg_detail(&msgs[i], "%s", e->msg);
		}
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (msgs[i].status == DELIVERY_PENDING && p->hook_stopped) {
			outmsg_not_sent(&msgs[i], 1, OUTMSG_STOPPED);
		} else if (msgs[i].status == DELIVERY_PENDING &&
		           outmsg_state(&msgs[i]) == OUTMSG_NEVER) {
			outmsg_not_sent(&msgs[i], 1, OUTMSG_UNWRITTEN);
		} else if (msgs[i].status == DELIVERY_PENDING) {
			msgs[i].status = DELIVERY_TEMPFAIL;
			outmsg_detail(&msgs[i], "%s",
			              p->failure.code != 0 ? p->failure.msg
			                                   : "not sent: the session ended first");
		}
	return 0;
}

static void
wake_pool(void *multi)
{
	curl_multi_wakeup(multi);
}

int
smtp_deliver(const struct smtp_conf *sc, struct outmsg *msgs, size_t n, FILE *log, struct err *e)
{
	struct pool p;
	int r = -1;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, EX_SOFTWARE, "cannot initialise libcurl");
	if (pool_init(&p, sc, msgs, n, log) != 0) {
		err_oom(e);
		goto out;
	}
	if (log != NULL)
		fprintf(log, "tidings: smtp %s: sending %zu message%s in up to %d session%s\n",
		        p.where, n, n == 1 ? "" : "s", (int)p.sessions, p.sessions == 1 ? "" : "s");
	if (log != NULL && !sc->verify && sc->tls != TLS_NONE)
		fprintf(log,
		        "tidings: warning: smtp %s: the certificate is not checked "
		        "(verify = false)\n",
		        p.where);
	if (msgs[0].gate != NULL) /* a message written wakes the poll */
		outgate_on_change(msgs[0].gate, wake_pool, p.multi);
	if (pump(&p, e) == 0)
		r = outcome(&p, msgs, n, e);
	if (msgs[0].gate != NULL)
		outgate_on_change(msgs[0].gate, NULL, NULL);
out:
	pool_free(&p);
	curl_global_cleanup();
	return r;
}
