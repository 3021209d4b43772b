/*
 * message: builds the digest as RFC 5322 + MIME text, CRLF throughout.
 *
 * Header text from feeds goes through header_clean() (controls become
 * spaces, broken UTF-8 becomes U+FFFD) and then either plain folding or
 * RFC 2047 "B" encoded words split on character boundaries.  Bodies are
 * quoted-printable, so no line exceeds 76 octets and the boundary, which
 * contains "=_", can never occur inside a part.
 */
#include "message.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "date.h"
#include "swar.h"

#define LINE_MAX_HDR 76          /* fold header lines at this width */
#define QP_LINE      76          /* RFC 2045 limit, soft break included */
#define EW_OVERHEAD  12          /* strlen("=?UTF-8?B?") + strlen("?=") */
#define PART_CHUNK   (64 * 1024) /* part text encoded, and output written, per step */

static const char hexd[] = "0123456789ABCDEF";

/*
 * Header text made safe: every control character (CR and LF included,
 * C1 too) becomes a space so nothing can start a new header; invalid UTF-8
 * becomes U+FFFD.  Returns a malloc'd string or NULL.
 */
static char *
header_clean(const char *s)
{
	struct buf b = BUF_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, l;
	int r = 0;

	while (i < n && r == 0) {
		if (p[i] < 0x20 || p[i] == 0x7f || ctl_len(p + i, n - i) == 2) {
			r = buf_addc(&b, ' ');
			i += p[i] == 0xc2 ? 2 : 1;
		} else if ((l = utf8_len(p + i, n - i)) == 0) {
			r = buf_adds(&b, "\xef\xbf\xbd");
			i++;
		} else {
			r = buf_add(&b, p + i, l);
			i += l;
		}
	}
	if (r != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/*
 * Plain folding is used only when it round-trips exactly: printable
 * ASCII, no "=?" (would look like an encoded word), single spaces, no
 * space at either end, and every word short enough to fit on a line.
 */
static int
header_plain_ok(const char *s, size_t namelen)
{
	size_t word = 0;
	const char *p;

	if (*s == ' ' || (*s != '\0' && s[strlen(s) - 1] == ' '))
		return 0;
	if (strstr(s, "=?") != NULL || strstr(s, "  ") != NULL)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x7f)
			return 0;
		word = *p == ' ' ? 0 : word + 1;
		if (word + namelen + 2 > LINE_MAX_HDR)
			return 0;
	}
	return 1;
}

static int
fold_plain(const char *s, size_t col, struct buf *out)
{
	const char *p = s, *sp;
	size_t wl;

	while (*p != '\0') {
		sp = strchr(p + 1, ' ');
		wl = sp != NULL ? (size_t)(sp - p) : strlen(p);
		/* a word starting with its space; fold before the space */
		if (col + wl > LINE_MAX_HDR && p != s) {
			if (buf_adds(out, "\r\n") != 0)
				return -1;
			col = 0;
		}
		if (buf_add(out, p, wl) != 0)
			return -1;
		col += wl;
		p += wl;
	}
	return 0;
}

static int
base64_add(struct buf *out, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	char q[4];
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		if (buf_add(out, q, 4) != 0)
			return -1;
	}
	return 0;
}

/*
 * Encoded words for clean UTF-8 text s, the first starting at column col;
 * phrase: s is a display name.
 * Each word holds whole characters and every line stays within
 * LINE_MAX_HDR columns; words are separated by CRLF SP, which decoders
 * drop between adjacent encoded words.
 */
static int
encode_words(const char *s, size_t col, int phrase, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, take, room, l, sp;

	if (n == 0)
		return 0;
	while (i < n) {
		if (col + EW_OVERHEAD + 8 > LINE_MAX_HDR) {
			if (buf_adds(out, "\r\n ") != 0)
				return -1;
			col = 1;
		}
		room = (LINE_MAX_HDR - col - EW_OVERHEAD) / 4 * 3;
		take = sp = 0;
		while (i + take < n) {
			l = utf8_len(p + i + take, n - i - take);
			if (l == 0)
				l = 1; /* cannot happen after header_clean */
			if (take + l > room)
				break;
			take += l;
			if (p[i + take - 1] == ' ')
				sp = take;
		}
		/*
		 * In a display name, end a word after a space when possible:
		 * some decoders (Python's) put a space between encoded words
		 * in phrases, which RFC 2047 says to drop.
		 */
		if (phrase && i + take < n && sp > 0)
			take = sp;
		if (take == 0) {
			/* no room for even one character: new line */
			if (buf_adds(out, "\r\n ") != 0)
				return -1;
			col = 1;
			continue;
		}
		if (buf_adds(out, "=?UTF-8?B?") != 0 || base64_add(out, p + i, take) != 0 ||
		    buf_adds(out, "?=") != 0)
			return -1;
		col += EW_OVERHEAD + (take + 2) / 3 * 4;
		i += take;
	}
	return 0;
}

int
message_encode_header(const char *name, const char *value, struct buf *out)
{
	char *v = header_clean(value != NULL ? value : "");
	size_t nl = strlen(name);
	int r;

	if (v == NULL)
		return -1;
	if (buf_printf(out, "%s: ", name) != 0) {
		free(v);
		return -1;
	}
	if (header_plain_ok(v, nl))
		r = fold_plain(v, nl + 2, out);
	else
		r = encode_words(v, nl + 2, 0, out);
	free(v);
	if (r != 0)
		return -1;
	return buf_adds(out, "\r\n");
}

/* Characters allowed in the ASCII addresses we send (no SMTPUTF8). */
static int
addr_char(int c, int local)
{
	if (c >= 'a' && c <= 'z')
		return 1;
	if (c >= 'A' && c <= 'Z')
		return 1;
	if (c >= '0' && c <= '9')
		return 1;
	if (c == '-' || c == '.')
		return 1;
	return local && strchr("!#$%&'*+/=?^_`{|}~", c) != NULL;
}

static int
address_valid(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n);
	size_t i, ll;

	if (at == NULL || at == a || at == a + n - 1 || n > 254)
		return 0;
	ll = (size_t)(at - a);
	if (ll > 64 || a[0] == '.' || a[ll - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (a + i == at)
			continue;
		if (!addr_char((unsigned char)a[i], a + i < at))
			return 0;
		if (a[i] == '.' && i + 1 < n && a[i + 1] == '.')
			return 0;
	}
	return at[1] != '.' && a[n - 1] != '.';
}

char *
message_address(const char *mailbox)
{
	const char *lt, *gt, *s = mailbox;
	size_t n;

	if (mailbox == NULL)
		return NULL;
	lt = strrchr(mailbox, '<');
	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL || !str_empty(gt + 1))
			return NULL;
		s = lt + 1;
		n = (size_t)(gt - s);
	} else {
		while (*s == ' ' || *s == '\t')
			s++;
		n = strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
	}
	if (!address_valid(s, n))
		return NULL;
	return str_ndup(s, n);
}

/* The display name of "Name <addr>" (malloc'd, may be ""), unquoted. */
static char *
display_name(const char *mailbox)
{
	const char *lt = strrchr(mailbox, '<');
	char *name, *t, *r, *w;
	size_t n;

	if (lt == NULL)
		return str_dup("");
	name = str_ndup(mailbox, (size_t)(lt - mailbox));
	if (name == NULL)
		return NULL;
	t = str_trim(name);
	n = strlen(t);
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		t[n - 1] = '\0';
		t++;
		for (r = w = t; *r != '\0'; r++) {
			if (*r == '\\' && r[1] != '\0')
				r++;
			*w++ = *r;
		}
		*w = '\0';
	}
	memmove(name, t, strlen(t) + 1);
	return name;
}

/* Printable ASCII that fits on the line: sent as a quoted-string. */
static int
phrase_plain_ok(const char *name, size_t col)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x7f)
			return 0;
	return strstr(name, "=?") == NULL && col + strlen(name) + 2 <= LINE_MAX_HDR;
}

static int
add_quoted(struct buf *out, const char *name)
{
	const char *p;

	if (buf_addc(out, '"') != 0)
		return -1;
	for (p = name; *p != '\0'; p++) {
		if ((*p == '"' || *p == '\\') && buf_addc(out, '\\') != 0)
			return -1;
		if (buf_addc(out, *p) != 0)
			return -1;
	}
	return buf_addc(out, '"');
}

/* Columns used on the last line of out, which started at column 0. */
static size_t
last_line_len(const struct buf *out)
{
	size_t i = out->len;

	while (i > 0 && out->data[i - 1] != '\n')
		i--;
	return out->len - i;
}

/* "Name <addr>" as a header: the name quoted or encoded, then the address. */
static int
add_mailbox_header(const char *hname, const char *mailbox, struct buf *out, struct err *e)
{
	char *addr = message_address(mailbox), *name = NULL, *clean = NULL, *nm;
	size_t col = strlen(hname) + 2;
	int r = -1;

	if (addr == NULL)
		return err_set(e, EX_DATAERR, "not a valid ASCII address: %s", mailbox);
	if ((name = display_name(mailbox)) == NULL || (clean = header_clean(name)) == NULL ||
	    buf_printf(out, "%s: ", hname) != 0)
		goto oom;
	nm = str_trim(clean);
	if (*nm == '\0') {
		if (buf_adds(out, addr) != 0)
			goto oom;
	} else {
		if (phrase_plain_ok(nm, col) ? add_quoted(out, nm) != 0
		                             : encode_words(nm, col, 1, out) != 0)
			goto oom;
		/* the address goes on its own line if it would not fit */
		if (buf_adds(out, last_line_len(out) + strlen(addr) + 3 > LINE_MAX_HDR
		                      ? "\r\n <"
		                      : " <") != 0 ||
		    buf_adds(out, addr) != 0 || buf_addc(out, '>') != 0)
			goto oom;
	}
	if (buf_adds(out, "\r\n") != 0)
		goto oom;
	r = 0;
	goto out;
oom:
	r = err_oom(e);
out:
	free(addr);
	free(name);
	free(clean);
	return r;
}

static int
add_to_header(char *const *to, size_t nto, struct buf *out, struct err *e)
{
	size_t i, col = 4;
	const char *sep;
	char *a;
	int r;

	if (nto == 0)
		return err_set(e, EX_DATAERR, "message has no recipient");
	/* A digest goes to one recipient: as configured, display name and all. */
	if (nto == 1)
		return add_mailbox_header("To", to[0], out, e);
	if (buf_adds(out, "To: ") != 0)
		return err_oom(e);
	for (i = 0; i < nto; i++) {
		if ((a = message_address(to[i])) == NULL)
			return err_set(e, EX_DATAERR, "not a valid ASCII address: %s", to[i]);
		sep = "";
		if (i > 0 && col + 2 + strlen(a) > LINE_MAX_HDR) {
			sep = ",\r\n ";
			col = 1;
		} else if (i > 0) {
			sep = ", ";
			col += 2;
		}
		col += strlen(a);
		r = buf_adds(out, sep) != 0 || buf_adds(out, a) != 0;
		free(a);
		if (r)
			return err_oom(e);
	}
	return buf_adds(out, "\r\n") != 0 ? err_oom(e) : 0;
}

static int
add_date(time_t t, struct buf *out)
{
	char date[64];

	if (date_format_rfc5322(t, date, sizeof date) < 0)
		return -1;
	return buf_printf(out, "Date: %s\r\n", date);
}

/* A header value we pass through verbatim must be tame printable ASCII. */
static int
tame(const char *s, const char *extra_bad)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr(extra_bad, *s) != NULL)
			return 0;
	return 1;
}

int
message_list_unsubscribe_ok(const char *u)
{
	return tame(u, "<>\"\\,") && strlen(u) <= 900 &&
	       (str_has_prefix(u, "mailto:") || str_has_prefix(u, "https://") ||
	        str_has_prefix(u, "http://"));
}

static int
add_list_headers(const struct message_spec *m, struct buf *out, struct err *e)
{
	const char *u = m->list_unsubscribe;

	if (m->list_id != NULL && *m->list_id != '\0') {
		if (!tame(m->list_id, "<>()\"\\,;:@") || strlen(m->list_id) > 200)
			return err_set(e, EX_DATAERR, "bad List-Id: %s", m->list_id);
		if (buf_printf(out, "List-Id: <%s>\r\n", m->list_id) != 0)
			return err_oom(e);
	}
	if (u != NULL && *u != '\0') {
		if (!message_list_unsubscribe_ok(u))
			return err_set(e, EX_DATAERR, "bad List-Unsubscribe: %s", u);
		if (buf_printf(out, "List-Unsubscribe: <%s>\r\n", u) != 0)
			return err_oom(e);
	}
	return 0;
}

/* Does the byte at i end its line (the next is LF or CRLF, or nothing)? */
static int
at_line_end(const unsigned char *p, size_t i, size_t n)
{
	return i + 1 == n || p[i + 1] == '\n' ||
	       (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n');
}

/* What quoted-printable does with a byte. */
enum qp_kind {
	QP_PLAIN,  /* printable ASCII but the ones below: itself */
	QP_ESCAPE, /* '=' and bytes from 0x80 (UTF-8): "=XX" */
	QP_C2,     /* with 0x80-0x9F after it a C1 control (dropped), else escaped */
	QP_DROP,   /* control characters never reach the reader */
	QP_CR,     /* before LF a line end, else a control character */
	QP_LF,     /* a line end */
	QP_BLANK,  /* space, tab: escaped at a line end, where RFC 2045 drops them */
	QP_F,      /* escaped in "From ", which starts a message in an mbox */
	QP_DOT,    /* escaped at a line start: "." alone ends SMTP's DATA */
};

#define QP_DROP4(c) [c] = QP_DROP, [c + 1] = QP_DROP, [c + 2] = QP_DROP, [c + 3] = QP_DROP
static const unsigned char qp_kinds[128] = {
    QP_DROP4(0),    QP_DROP4(4),       [8] = QP_DROP,  ['\t'] = QP_BLANK, ['\n'] = QP_LF,
    [11] = QP_DROP, [12] = QP_DROP,    ['\r'] = QP_CR, [14] = QP_DROP,    [15] = QP_DROP,
    QP_DROP4(16),   QP_DROP4(20),      QP_DROP4(24),   QP_DROP4(28),      [' '] = QP_BLANK,
    ['.'] = QP_DOT, ['='] = QP_ESCAPE, ['F'] = QP_F,   [0x7f] = QP_DROP,
};
#undef QP_DROP4

static enum qp_kind
qp_kind_of(unsigned char c)
{
	return c < 0x80 ? (enum qp_kind)qp_kinds[c] : c == 0xc2 ? QP_C2 : QP_ESCAPE;
}

/*
 * May c go in a run of bytes copied as they are?  QP_PLAIN bytes and the
 * space (qp_copy_plain() leaves out one that may end its line).
 */
static int
qp_in_run(unsigned char c)
{
	return qp_kind_of(c) == QP_PLAIN || c == ' ';
}

/* qp_in_run() for 8 bytes: a mark on each byte below ' ', from DEL on, '=', 'F', '.'. */
static inline uint64_t
qp_run_ends(uint64_t x)
{
	return swar_below(x, ' ') | (~swar_below(x, 0x7f) & SWAR_HIGHS) | swar_eq(x, '=') |
	       swar_eq(x, 'F') | swar_eq(x, '.');
}

/*
 * Copies the bytes from p on that stand for themselves, at most max of
 * the n there are, to w and says how many: 8 at a time, each 8 stored
 * before they are looked at.  Storing past the run is safe: the output
 * has room for 3 bytes an input byte, and what lands past the run is
 * overwritten by what comes next.
 */
static size_t
qp_copy_plain(const unsigned char *p, size_t max, size_t n, char *w)
{
	size_t k = 0;
	uint64_t m;

	for (; k + 8 <= max; k += 8) {
		memcpy(w + k, p + k, 8);
		if ((m = qp_run_ends(swar_load(p + k))) != 0) {
			k += swar_first(m);
			break;
		}
	}
	for (; k < max && qp_in_run(p[k]); k++)
		w[k] = (char)p[k];
	/* a space that may end its line is left to qp_byte() */
	if (k > 0 && p[k - 1] == ' ' && (k == n || p[k] == '\n' || p[k] == '\r'))
		k--;
	return k;
}

/* The output: room for the worst case is reserved before. */
struct qp_out {
	char *w;    /* the next output byte */
	size_t col; /* characters on the output line so far */
};

/* c as itself or as "=XX", after a soft break if the line has no room. */
static void
qp_put(struct qp_out *o, unsigned char c, int literal)
{
	if (o->col + (literal ? 1 : 3) > QP_LINE - 1) {
		memcpy(o->w, "=\r\n", 3);
		o->w += 3;
		o->col = 0;
	}
	if (literal) {
		*o->w++ = (char)c;
		o->col++;
		return;
	}
	o->w[0] = '=';
	o->w[1] = hexd[c >> 4];
	o->w[2] = hexd[c & 15];
	o->w += 3;
	o->col += 3;
}

/* Escapes the QP_ESCAPE bytes from p on (UTF-8 text of many scripts); says how many. */
static size_t
qp_escapes(const unsigned char *p, size_t n, struct qp_out *o)
{
	size_t k;

	for (k = 0; k < n && qp_kind_of(p[k]) == QP_ESCAPE; k++)
		qp_put(o, p[k], 0);
	return k;
}

/* Encodes the byte at i (and the LF of a CRLF, a C1's second byte); says how many it took. */
static size_t
qp_byte(const unsigned char *p, size_t i, size_t n, struct qp_out *o)
{
	int literal = 0;

	switch (qp_kind_of(p[i])) {
	case QP_DROP: return 1;
	case QP_C2:
		if (i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return 2;
		break;
	case QP_CR:
	case QP_LF:
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 1;
		memcpy(o->w, "\r\n", 2);
		o->w += 2;
		o->col = 0;
		return p[i] == '\r' ? 2 : 1;
	case QP_BLANK: literal = !at_line_end(p, i, n); break;
	case QP_F: /* "From " and "." can start a line after a soft break too */
		literal = n - i < 5 || memcmp(p + i, "From ", 5) != 0;
		break;
	case QP_DOT: /* at the line's last column it goes after a soft break */
		literal = o->col != 0 && o->col < QP_LINE - 1;
		break;
	case QP_PLAIN: /* one that did not fit on a full line */ literal = 1; break;
	case QP_ESCAPE: return qp_escapes(p + i, n - i, o);
	}
	qp_put(o, p[i], literal);
	return 1;
}

int
message_qp_encode(const char *s, size_t n, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	struct qp_out o;
	size_t i = 0, k;

	/* The worst case, reserved once: every byte escaped, plus soft breaks.
	 * Digests run to tens of megabytes; appending byte by byte cost a
	 * fifth of a whole run. */
	if (n > SIZE_MAX / 8 || buf_grow(out, n * 3 + (n * 3 / (QP_LINE - 2) + 1) * 3) != 0)
		return -1;
	o = (struct qp_out){.w = out->data + out->len};
	while (i < n) {
		/* most bytes stand for themselves anywhere: copied a run at a time */
		k = QP_LINE - 1 - o.col;
		k = qp_copy_plain(p + i, n - i < k ? n - i : k, n - i, o.w);
		o.w += k;
		o.col += k;
		i += k;
		if (i < n)
			i += qp_byte(p, i, n, &o);
	}
	out->len = (size_t)(o.w - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/*
 * Where the message goes: appended to b and written out to f whenever b
 * holds a chunk, so a message needs no more than a chunk of output.
 */
struct sink {
	struct buf *b;
	FILE *f;
	size_t written; /* bytes handed to f */
};

/* Write b out once it holds at least least bytes (any when least is 0). */
static int
sink_flush(struct sink *s, size_t least, struct err *e)
{
	size_t n;

	if (s->b->len < least || s->b->len == 0)
		return 0;
	n = fwrite(s->b->data, 1, s->b->len, s->f);
	s->written += n;
	if (n != s->b->len)
		return err_set(e, EX_IOERR, "cannot write the message: %s", strerror(errno));
	buf_reset(s->b);
	return 0;
}

static int
sink_qp(struct sink *s, const char *p, size_t n, struct err *e)
{
	if (message_qp_encode(p, n, s->b) != 0)
		return err_oom(e);
	return sink_flush(s, PART_CHUNK, e);
}

/* Bytes of p up to and including its last LF; 0 when it has none. */
static size_t
through_last_lf(const char *p, size_t n)
{
	const char *nl = n > 0 ? memrchr(p, '\n', n) : NULL;

	return nl != NULL ? (size_t)(nl - p) + 1 : 0;
}

/*
 * A part is encoded in pieces that end right after a LF (or at its end).
 * The output is the same as for the whole part: the column restarts at a
 * LF, and the encoder's look-ahead (CRLF after a space, "From ") never
 * crosses one.  How long the first piece of p may be:
 */
static size_t
piece_len(const char *p, size_t n)
{
	const char *nl;
	size_t k;

	if (n <= PART_CHUNK)
		return n;
	if ((k = through_last_lf(p, PART_CHUNK)) > 0)
		return k;
	/* a line longer than a chunk goes whole */
	nl = memchr(p + PART_CHUNK, '\n', n - PART_CHUNK);
	return nl != NULL ? (size_t)(nl - p) + 1 : n;
}

static int
part_from_memory(struct sink *s, const char *p, size_t n, struct err *e)
{
	size_t k;

	while (n > 0) {
		k = piece_len(p, n);
		if (sink_qp(s, p, k, e) != 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/*
 * The part read from f a chunk at a time; the text after the last LF
 * waits for the next read, so memory is a chunk plus the longest line.
 */
static int
part_from_file(struct sink *s, FILE *f, struct err *e)
{
	struct buf in = BUF_INIT;
	size_t got, k, old;
	int r = 0;

	do {
		if (buf_grow(&in, PART_CHUNK) != 0) {
			r = err_oom(e);
			break;
		}
		old = in.len;
		got = fread(in.data + old, 1, PART_CHUNK, f);
		in.len += got;
		if (ferror(f)) {
			r = err_set(e, EX_IOERR, "cannot read a message part: %s", strerror(errno));
			break;
		}
		/* only the new bytes can hold a LF: the carried text has none */
		if (got == 0)
			k = in.len;
		else if ((k = through_last_lf(in.data + old, got)) > 0)
			k += old;
		if (k > 0 && (r = sink_qp(s, in.data, k, e)) != 0)
			break;
		memmove(in.data, in.data + k, in.len - k);
		in.len -= k;
	} while (got > 0);
	buf_free(&in);
	return r;
}

static int
add_part(struct sink *s, const char *boundary, const char *type, const char *text, size_t n,
         FILE *f, struct err *e)
{
	if (buf_printf(s->b,
	               "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
	               "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	               boundary, type) != 0)
		return err_oom(e);
	if (f != NULL ? part_from_file(s, f, e) != 0
	              : part_from_memory(s, text, text != NULL ? n : 0, e) != 0)
		return -1;
	return buf_adds(s->b, "\r\n") != 0 ? err_oom(e) : 0;
}

/* Message-ID into message_id, a boundary into bnd (64 bytes). */
static int
draw_ids(const struct message_spec *m, char *message_id, size_t message_id_size, char *bnd,
         struct err *e)
{
	char rnd[33], *from_addr;
	const char *domain;
	int r;

	if (m->from == NULL || (from_addr = message_address(m->from)) == NULL)
		return err_set(e, EX_DATAERR, "not a valid ASCII From address: %s",
		               m->from != NULL ? m->from : "(none)");
	domain = strchr(from_addr, '@') + 1;
	random_hex(rnd, 12);
	r = snprintf(message_id, message_id_size, "<%s.%lld@%s>", rnd, (long long)m->date, domain);
	free(from_addr);
	if (r < 0 || (size_t)r >= message_id_size)
		return err_set(e, EX_SOFTWARE, "Message-ID buffer too small");
	random_hex(rnd, 12);
	snprintf(bnd, 64, "=_tidings_%s", rnd);
	return 0;
}

/* Characters a Subject keeps; a longer one is cut and ends in an ellipsis. */
#define SUBJECT_MAX 250

/*
 * A feed title can be megabytes, and a Subject of thousands of folded
 * lines helps no reader: keep SUBJECT_MAX characters (never half of one).
 */
static int
add_subject(const char *subject, struct buf *out)
{
	size_t len = strlen(subject), n = 0, l;
	char *cut;
	int r;

	for (size_t chars = 0; n < len && chars < SUBJECT_MAX; chars++) {
		l = utf8_len((const unsigned char *)subject + n, len - n);
		n += l > 0 ? l : 1;
	}
	if (n == len)
		return message_encode_header("Subject", subject, out);
	while (n > 0 && subject[n - 1] == ' ')
		n--;
	if ((cut = str_printf("%.*s\xe2\x80\xa6", (int)n, subject)) == NULL)
		return -1;
	r = message_encode_header("Subject", cut, out);
	free(cut);
	return r;
}

static int
add_headers(const struct message_spec *m, const char *message_id, struct buf *out, struct err *e)
{
	if (add_mailbox_header("From", m->from, out, e) != 0 ||
	    add_to_header(m->to, m->nto, out, e) != 0)
		return -1;
	if (add_subject(m->subject, out) != 0 || add_date(m->date, out) != 0 ||
	    buf_printf(out,
	               "Message-ID: %s\r\nMIME-Version: 1.0\r\n"
	               "Auto-Submitted: auto-generated\r\n",
	               message_id) != 0)
		return err_oom(e);
	return add_list_headers(m, out, e);
}

/*
 * The encoder behind message_write.  Nothing is
 * written to a file before the headers are known good: they stay in the
 * buffer until the first part's text fills a chunk.
 */
static int
message_emit(const struct message_spec *m, struct sink *s, char *message_id, size_t message_id_size,
             struct err *e)
{
	char bnd[64];

	if (draw_ids(m, message_id, message_id_size, bnd, e) != 0 ||
	    add_headers(m, message_id, s->b, e) != 0)
		return -1;
	if (buf_printf(s->b,
	               "Content-Type: multipart/alternative;\r\n"
	               " boundary=\"%s\"\r\n\r\nThis is a MIME message.\r\n\r\n",
	               bnd) != 0)
		return err_oom(e);
	if (add_part(s, bnd, "text/plain", m->text, m->text_len, m->text_file, e) != 0 ||
	    add_part(s, bnd, "text/html", m->html, m->html_len, m->html_file, e) != 0)
		return -1;
	if (buf_printf(s->b, "--%s--\r\n", bnd) != 0)
		return err_oom(e);
	return sink_flush(s, 0, e);
}

int
message_write(const struct message_spec *m, FILE *out, size_t *written, char *message_id,
              size_t message_id_size, struct err *e)
{
	struct buf b = BUF_INIT;
	struct sink s = {.b = &b, .f = out};
	int r;

	r = message_emit(m, &s, message_id, message_id_size, e);
	if (r == 0 && fflush(out) != 0)
		r = err_set(e, EX_IOERR, "cannot write the message: %s", strerror(errno));
	if (written != NULL)
		*written = s.written;
	buf_free(&b);
	return r;
}
