/*
 * recio: the state file's text form, one record (a line of tab-separated
 * fields) at a time.  See recio.h.
 */
#include "recio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "swar.h"
#include "util.h"

#define MAX_LINE   (64u << 20) /* a longer line is garbage, not an id */
#define TIME_LEN   20          /* YYYY-MM-DDTHH:MM:SSZ */
#define NUM_DIGITS 18          /* the most rec_parse_num reads: any fits a long long */
#define NUM_ROOM   24          /* bytes for any unsigned long long in decimal */

/*
 * Bytes escaped as %XX: controls (tab and newline among them), DEL and '%'.
 * A field that is exactly "-" is written %2D, since "-" means none.
 */
static int
needs_escape(unsigned char c)
{
	return pct_escaped(c);
}

/* Does any byte of w need an escape?  Bytes >= 0x80 never do. */
static int
word_dirty(uint64_t w)
{
	return (swar_below(w, 0x20) | swar_eq(w, '%') | swar_eq(w, 0x7f)) != 0;
}

/* How many bytes from s on need no escape; eight at a time, as most fields are clean. */
static size_t
clean_prefix(const char *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		if (word_dirty(swar_load(s + i)))
			break;
	}
	while (i < n && !needs_escape((unsigned char)s[i]))
		i++;
	return i;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void
put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

static void format_clock(char *p, int64_t t);

/* "YYYY-MM-DDTHH:MM:SSZ" (20 bytes), or "-" for 0; returns the length. */
static size_t
format_time(char *p, int64_t t)
{
	int64_t y;
	unsigned m, d;

	if (t <= 0) {
		*p = '-';
		return 1;
	}
	if (t > REC_MAX_TIME)
		t = REC_MAX_TIME;
	civil_from_days(t / 86400, &y, &m, &d);
	put2(p, (unsigned)(y / 100));
	put2(p + 2, (unsigned)(y % 100));
	p[4] = '-';
	put2(p + 5, m);
	p[7] = '-';
	put2(p + 8, d);
	p[10] = 'T';
	format_clock(p, t);
	return TIME_LEN;
}

/* The "HH:MM:SSZ" part of format_time, when the date part is already in p. */
static void
format_clock(char *p, int64_t t)
{
	unsigned secs = (unsigned)(t % 86400);

	put2(p + 11, secs / 3600);
	p[13] = ':';
	put2(p + 14, secs / 60 % 60);
	p[16] = ':';
	put2(p + 17, secs % 60);
	p[19] = 'Z';
}

int
rec_parse_num(const char *s, size_t n, long long max, long long *out)
{
	long long v = 0;

	if (n == 0 || n > NUM_DIGITS || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static size_t
format_num(char *p, unsigned long long v)
{
	char tmp[NUM_ROOM];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

void
rec_flush(struct rec_out *o)
{
	size_t done = 0;
	ssize_t n;

	while (!o->err && done < o->len) {
		n = write(o->fd, o->buf + done, o->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			o->err = errno;
		else
			done += (size_t)n;
	}
	o->len = 0;
}

/* Room for n more bytes (n <= REC_OUT_CHUNK). */
static char *
rec_room(struct rec_out *o, size_t n)
{
	if (o->len + n > REC_OUT_CHUNK)
		rec_flush(o);
	return o->buf + o->len;
}

void
rec_raw(struct rec_out *o, const char *s, size_t n)
{
	while (n > 0) {
		size_t k = n < REC_OUT_CHUNK / 2 ? n : REC_OUT_CHUNK / 2;

		memcpy(rec_room(o, k), s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void
rec_tab(struct rec_out *o)
{
	*rec_room(o, 1) = '\t';
	o->len++;
}

/* A tab, then s escaped; NULL is "-". */
void
rec_field(struct rec_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, run;

	rec_tab(o);
	if (s == NULL || (n == 1 && s[0] == '-')) {
		rec_raw(o, s == NULL ? "-" : "%2D", s == NULL ? 1 : 3);
		return;
	}
	for (i = 0; i < n; i += run) {
		run = clean_prefix(s + i, n - i);
		rec_raw(o, s + i, run);
		if (i + run < n) {
			char *p = rec_room(o, 3);
			unsigned char c = (unsigned char)s[i + run];

			p[0] = '%';
			p[1] = hex[c >> 4];
			p[2] = hex[c & 15];
			o->len += 3;
			run++;
		}
	}
}

void
rec_str(struct rec_out *o, const char *s)
{
	rec_field(o, s, s ? strlen(s) : 0);
}

void
rec_time(struct rec_out *o, int64_t t)
{
	/*
	 * Times repeat (first seen = last seen, runs at one instant), and
	 * most fall on few days: compute each date once.
	 */
	if (t != o->last_t || o->last_n == 0) {
		if (o->last_n == TIME_LEN && t > 0 && t <= REC_MAX_TIME &&
		    t / 86400 == o->last_t / 86400)
			format_clock(o->last_s, t);
		else
			o->last_n = format_time(o->last_s, t);
		o->last_t = t;
	}
	rec_tab(o);
	memcpy(rec_room(o, TIME_LEN), o->last_s, o->last_n);
	o->len += o->last_n;
}

void
rec_num(struct rec_out *o, long long v)
{
	rec_tab(o);
	o->len += format_num(rec_room(o, NUM_ROOM), v < 0 ? 0 : (unsigned long long)v);
}

void
rec_eol(struct rec_out *o)
{
	*rec_room(o, 1) = '\n';
	o->len++;
}

/* The next line without its newline: 1; 0 at the end (*tail set if bytes remain); -1 on error. */
int
rec_read_line(struct rec_in *r, char **line, size_t *n, int *tail, int *err)
{
	char *nl, *bigger;
	ssize_t got;

	for (;;) {
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (nl != NULL) {
			*line = r->buf + r->pos;
			*n = (size_t)(nl - *line);
			*nl = '\0';
			r->pos += *n + 1;
			return 1;
		}
		if (r->eof) {
			*tail = r->pos < r->len;
			return 0;
		}
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		if (r->len + 1 >= r->cap) {
			if (r->cap >= MAX_LINE)
				return (void)(*err = EFBIG), -1;
			if ((bigger = realloc(r->buf, r->cap * 2)) == NULL)
				return (void)(*err = ENOMEM), -1;
			r->buf = bigger;
			r->cap *= 2;
		}
		got = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return (void)(*err = errno), -1;
		if (got == 0)
			r->eof = 1;
		/* One scan a chunk instead of one a line: NUL bytes are rare. */
		if (!r->nul && memchr(r->buf + r->len, '\0', (size_t)got) != NULL)
			r->nul = 1;
		r->len += (size_t)got;
	}
}
