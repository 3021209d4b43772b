#include "wrap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swar.h"

/* Columns taken by n bytes of UTF-8 (one per character). */
static size_t
cols(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

void
wrap_put_line(struct wrap_lines *l, const char *prefix, size_t plen, const char *s, size_t n)
{
	if (n == 0)
		while (plen > 0 && prefix[plen - 1] == ' ')
			plen--;
	l->last_empty = n == 0;
	if ((l->n++ > 0 && buf_addc(l->out, '\n') < 0) || buf_add(l->out, prefix, plen) < 0 ||
	    buf_add(l->out, s, n) < 0)
		l->oom = 1;
}

/* Start a line (not empty) with its prefix; its text follows. */
static void
line_start(struct wrap_lines *l, const char *prefix, size_t plen)
{
	l->last_empty = 0;
	if ((l->n++ > 0 && buf_addc(l->out, '\n') < 0) || buf_add(l->out, prefix, plen) < 0)
		l->oom = 1;
}

/* Where the word at s ends (the next space, or end), and its columns in *wc. */
static const char *
word_span(const char *s, const char *end, size_t *wc)
{
	size_t c = 0;

	for (; end - s >= 8; s += 8) {
		uint64_t v = swar_load(s), sp = swar_eq(v, ' '), cont = swar_cont(v);

		if (sp != 0) {
			/* The word ends in these 8 bytes. */
			size_t k = swar_first(sp);

			*wc = c + k - swar_count(swar_head(cont, (unsigned)k));
			return s + k;
		}
		c += 8 - swar_count(cont);
	}
	for (; s < end && *s != ' '; s++)
		c += ((unsigned char)*s & 0xc0) != 0x80;
	*wc = c;
	return s;
}

/*
 * Greedy word wrap of one line of text (words split at spaces) into lines
 * of at most width columns, prefixed with first and then rest.  A word
 * longer than the width stays whole on a line of its own.  Written
 * straight to the output, word by word.
 */
static void
wrap_words(struct wrap_lines *l, const char *s, size_t n, const char *first, size_t flen,
           const char *rest, size_t rlen, int width)
{
	const char *pre = first, *end = s + n, *run = s, *prev = s;
	size_t plen = flen, col = cols(first, flen);
	int words = 0;

	/* Words one space apart are written as one run of the input. */
	while (s < end) {
		const char *w;
		size_t wc;

		while (s < end && *s == ' ')
			s++;
		if (s == end)
			break;
		w = word_span(s, end, &wc);
		if (words > 0 && width > 0 && col + 1 + wc > (size_t)width) {
			if (buf_add(l->out, run, prev - run) < 0)
				l->oom = 1;
			pre = rest;
			plen = rlen;
			col = cols(rest, rlen);
			words = 0;
		}
		if (words == 0) {
			line_start(l, pre, plen);
			run = s;
		} else if (s != prev + 1) {
			if (buf_add(l->out, run, prev - run) < 0 || buf_addc(l->out, ' ') < 0)
				l->oom = 1;
			run = s;
		}
		col += wc + (words > 0);
		words++;
		s = prev = w;
	}
	if (words == 0)
		wrap_put_line(l, pre, plen, "", 0);
	else if (buf_add(l->out, run, prev - run) < 0)
		l->oom = 1;
}

/*
 * Where the (avail + 1)th character from s starts (end if there are not
 * that many), or NULL if two spaces in a row come before it.
 */
static const char *
fit(const char *s, const char *end, size_t avail)
{
	uint64_t prev = 0; /* 0x80: the byte before is a space */
	size_t c = 0;

	for (; end - s >= 8; s += 8) {
		uint64_t v = swar_load(s), sp = swar_eq(v, ' ');
		size_t k = 8 - swar_count(swar_cont(v));

		if (c + k > avail)
			break;
		if ((sp & ((sp << 8) | prev)) != 0)
			return NULL;
		prev = sp >> 56;
		c += k;
	}
	for (; s < end; s++) {
		int sp = *s == ' ';

		if (sp && prev)
			return NULL;
		prev = sp;
		if (((unsigned char)*s & 0xc0) != 0x80 && c++ == avail)
			return s;
	}
	return end;
}

/* Wide characters (CJK): two columns, lines may break between them. */

/* East Asian Wide and Fullwidth ranges (UAX #11), the common ones. */
static const struct range {
	unsigned lo, hi;
} wide_ranges[] = {
    {0x1100, 0x115f}, {0x2e80, 0x303e},   {0x3041, 0x33ff},   {0x3400, 0x4dbf},
    {0x4e00, 0x9fff}, {0xa000, 0xa4cf},   {0xa960, 0xa97f},   {0xac00, 0xd7a3},
    {0xf900, 0xfaff}, {0xfe10, 0xfe19},   {0xfe30, 0xfe6f},   {0xff00, 0xff60},
    {0xffe0, 0xffe6}, {0x1f300, 0x1f64f}, {0x1f900, 0x1f9ff}, {0x20000, 0x3fffd},
};

/*
 * UAX #14: no break before closing punctuation and small kana (CL, CP,
 * NS, EX, IS), none after opening punctuation (OP).
 */
static const unsigned no_break_before[] = {
    '!',    ')',    ',',    '.',    ':',    ';',    '?',    ']',    '}',    0x2019, 0x201d, 0x2026,
    0x3001, 0x3002, 0x3005, 0x3009, 0x300b, 0x300d, 0x300f, 0x3011, 0x3015, 0x3017, 0x3019, 0x301b,
    0x301e, 0x301f, 0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087, 0x308e,
    0x309b, 0x309c, 0x309d, 0x309e, 0x30a1, 0x30a3, 0x30a5, 0x30a7, 0x30a9, 0x30c3, 0x30e3, 0x30e5,
    0x30e7, 0x30ee, 0x30f5, 0x30f6, 0x30fb, 0x30fc, 0x30fd, 0x30fe, 0xff01, 0xff09, 0xff0c, 0xff0e,
    0xff1a, 0xff1b, 0xff1f, 0xff3d, 0xff5d, 0xff60, 0xff61, 0xff63, 0xff64,
};
static const unsigned no_break_after[] = {
    '(',    '[',    '{',    0x2018, 0x201c, 0x3008, 0x300a, 0x300c, 0x300e, 0x3010,
    0x3014, 0x3016, 0x3018, 0x301a, 0x301d, 0xff08, 0xff3b, 0xff5b, 0xff5f, 0xff62,
};

static int
in_list(unsigned c, const unsigned *v, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid] == c)
			return 1;
		if (v[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
is_wide(unsigned c)
{
	for (size_t i = 0; i < sizeof wide_ranges / sizeof wide_ranges[0] && c >= wide_ranges[i].lo;
	     i++)
		if (c <= wide_ranges[i].hi)
			return 1;
	return 0;
}

/* The character at s (n bytes left) and its length; a bad byte is one U+FFFD. */
static unsigned
decode(const unsigned char *s, size_t n, size_t *len)
{
	size_t k = utf8_len(s, n);

	*len = k > 0 ? k : 1;
	switch (k) {
	case 1: return s[0];
	case 2: return (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu);
	case 3: return (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
	case 4:
		return (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 |
		       (s[3] & 0x3fu);
	default: return 0xfffd;
	}
}

/*
 * A wide character lines may break beside: not Hangul, whose words are
 * space-separated (Korean breaks at spaces, "keep-all" in CSS terms).
 */
static int
is_ideographic(unsigned c)
{
	return is_wide(c) && !(c >= 0xac00 && c <= 0xd7a3) && !(c >= 0x1100 && c <= 0x115f) &&
	       !(c >= 0x1f300 && c < 0x20000); /* nor emoji: "x😀y" is one word */
}

/* May a line break between a and b (neither a space)?  Next to an ideograph. */
static int
break_between(unsigned a, unsigned b)
{
	return (is_ideographic(a) || is_ideographic(b)) &&
	       !in_list(b, no_break_before, sizeof no_break_before / sizeof no_break_before[0]) &&
	       !in_list(a, no_break_after, sizeof no_break_after / sizeof no_break_after[0]);
}

/*
 * Could the line hold a wide character?  Their UTF-8 lead bytes: E1
 * (Hangul Jamo), E3..ED, EF and F0; E2 only from U+2E80 (second byte BA
 * on).  Other text (dashes and quotes are E2 80) keeps the fast wrap.
 */
static int
maybe_wide(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		/* 8 bytes at a time with no byte from 0xE1 on: ASCII, Latin, Greek, Cyrillic. */
		if (n - i >= 8 && swar_at_least(swar_load(u + i), 0xe1) == 0) {
			i += 8;
			continue;
		}
		if (u[i] >= 0xe1 && u[i] <= 0xf0 &&
		    (u[i] != 0xe2 || (i + 1 < n && u[i + 1] >= 0xba)) && u[i] != 0xee)
			return 1;
		i++;
	}
	return 0;
}

/* Columns of n bytes: wide characters take two. */
static size_t
cols_wide(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t c = 0, k;

	for (size_t i = 0; i < n; i += k)
		c += is_wide(decode(u + i, n - i, &k)) ? 2 : 1;
	return c;
}

/*
 * Greedy wrap of a line holding wide characters: breaks at spaces and, by
 * UAX #14's rules for ideographs, between characters next to a wide one;
 * wide characters count two columns.  A run with no break longer than the
 * line stays whole.
 */
static void
wrap_wide(struct wrap_lines *l, const char *text, size_t tn, const char *first, size_t flen,
          const char *rest, size_t rlen, int width)
{
	struct buf one = BUF_INIT; /* the words one space apart, as wrap_words has them */
	const unsigned char *u;
	const char *pre = first, *s;
	size_t plen = flen, i = 0, n;
	int lines = 0;

	for (size_t k = 0; k < tn; k++)
		if ((text[k] != ' ' || (one.len > 0 && one.data[one.len - 1] != ' ')) &&
		    buf_addc(&one, text[k]) < 0)
			l->oom = 1;
	s = buf_str(&one);
	n = one.len;
	u = (const unsigned char *)s;

	while (i < n) {
		size_t pc = cols_wide(pre, plen), start, col = 0, brk = 0, k, end;
		size_t avail = width <= 0 ? SIZE_MAX : pc < (size_t)width ? (size_t)width - pc : 0;
		unsigned prev = ' ';

		while (i < n && u[i] == ' ')
			i++;
		if (i == n)
			break;
		start = i;
		for (end = n; i < n; i += k) {
			unsigned c = decode(u + i, n - i, &k);
			size_t w = c == ' ' ? 1 : is_wide(c) ? 2 : 1;

			if (i > start && c == ' ' && prev != ' ')
				brk = i;
			else if (i > start && c != ' ' && prev != ' ' && break_between(prev, c))
				brk = i;
			if (c != ' ' && col + w > avail && brk > start) {
				end = brk;
				break;
			}
			col += w;
			prev = c;
		}
		i = end;
		while (end > start && u[end - 1] == ' ')
			end--;
		line_start(l, pre, plen);
		if (buf_add(l->out, s + start, end - start) < 0)
			l->oom = 1;
		lines++;
		pre = rest;
		plen = rlen;
	}
	if (lines == 0)
		wrap_put_line(l, pre, plen, "", 0);
	buf_free(&one);
}

/*
 * Greedy word wrap as wrap_words does it, for the usual text of words one
 * space apart: then a line is a run of the input, up to the last space
 * before the first character that does not fit.  At anything else (spaces
 * at the ends, two in a row) wrap_words carries on from the line start.
 */
void
wrap_line(struct wrap_lines *l, const char *s, size_t n, const char *first, size_t flen,
          const char *rest, size_t rlen, int width)
{
	const char *end = s + n, *pre = first;
	size_t plen = flen;

	if (maybe_wide(s, n)) {
		wrap_wide(l, s, n, first, flen, rest, rlen, width);
		return;
	}
	if (width > 0 && n > 0 && s[0] != ' ' && end[-1] != ' ') {
		while (s < end) {
			size_t pc = cols(pre, plen);
			size_t avail = pc < (size_t)width ? (size_t)width - pc : 0;
			const char *q = fit(s, end, avail), *r;

			if (q == NULL)
				break;
			if (q == end)
				r = end;
			else if (*q == ' ')
				r = q;
			else if ((r = memrchr(s, ' ', q - s)) == NULL &&
			         (r = memchr(q, ' ', end - q)) == NULL)
				r = end; /* one word longer than the line */
			line_start(l, pre, plen);
			if (buf_add(l->out, s, r - s) < 0)
				l->oom = 1;
			pre = rest;
			plen = rlen;
			if (r == end)
				return;
			s = r + 1;
			if (*s == ' ')
				break;
		}
	}
	wrap_words(l, s, end - s, pre, plen, rest, rlen, width);
}

/* The quote marks and indentation a wrapped line repeats, and a list marker. */
static void
line_prefix(const char *s, size_t n, size_t *plen, size_t *mlen)
{
	size_t i = 0, m;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '>'))
		i++;
	*plen = i;
	*mlen = 0;
	if (i + 1 < n && (s[i] == '-' || s[i] == '*') && s[i + 1] == ' ') {
		*mlen = 2;
		return;
	}
	for (m = i; m < n && m - i < 4 && s[m] >= '0' && s[m] <= '9'; m++)
		;
	if (m > i && m + 1 < n && s[m] == '.' && s[m + 1] == ' ')
		*mlen = m + 2 - i;
}

int
text_wrap(const char *text, int width, struct buf *out)
{
	struct wrap_lines l = {.out = out};
	const char *s = text;

	if (buf_add(out, "", 0) < 0)
		return -1;
	while (*s) {
		size_t n = strcspn(s, "\n"), k = n, plen, mlen;

		if (k > 0 && s[k - 1] == '\r')
			k--;
		while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
			k--;
		if (width <= 0 || (cols(s, k) <= (size_t)width && !maybe_wide(s, k))) {
			wrap_put_line(&l, "", 0, s, k);
		} else {
			char *first, *rest;

			line_prefix(s, k, &plen, &mlen);
			first = str_ndup(s, plen + mlen);
			rest = str_printf("%.*s%*s", (int)plen, s, (int)mlen, "");
			if (first == NULL || rest == NULL)
				l.oom = 1;
			else
				wrap_line(&l, s + plen + mlen, k - plen - mlen, first,
				          strlen(first), rest, strlen(rest), width);
			free(first);
			free(rest);
		}
		s += n;
		if (*s == '\n') {
			s++;
			if (*s == '\0')
				wrap_put_line(&l, "", 0, "", 0);
		}
	}
	return l.oom ? -1 : 0;
}

size_t
text_columns(const char *s, size_t n)
{
	return cols_wide(s, n);
}
