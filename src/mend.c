/*
 * mend: a fetched document made fit for libxml2 (steps 1 and 2 of feed.c's three).
 *
 *   1. decode: find the real encoding (BOM, declaration, or a lie caught by
 *      invalid UTF-8) and convert everything to valid UTF-8;
 *   2. mend: rewrite every entity reference as a character reference (HTML
 *      names like &nbsp; included), escape bare '&', drop control bytes.
 *      libxml2 in recover mode drops unknown entities, and after its first
 *      error it silently drops even &amp; and &lt;; character references
 *      always survive.
 */
#include "mend.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swar.h"

#define MARKER_LINES_MAX 1000000 /* newlines one marker carries (a PI must stay under 10 MB) */
#define XML_DECL_MAX     512     /* bytes the <?xml ... ?> declaration is looked for in */
#define ENCODING_MAX     40      /* bytes of an encoding's name, NUL included */
#define CHARREF_MAX      12      /* bytes of "&#x" and the digits a character reference may have */
#define ENTITY_NAME_MAX  32      /* characters of an entity's name */
#define SPANS_FIRST      64      /* markers the mender first makes room for */
#define NELEM(a)         (sizeof(a) / sizeof((a)[0]))

/* ---- HTML named entities (HTML 4, as browsers and feeds use them) ---- */

struct entity {
	const char *name;
	int cp;
};

/* clang-format off */
static const struct entity entities[] = {
	{"AElig", 198}, {"Aacute", 193}, {"Acirc", 194}, {"Agrave", 192}, {"Alpha", 913},
	{"Aring", 197}, {"Atilde", 195}, {"Auml", 196}, {"Beta", 914}, {"Ccedil", 199},
	{"Chi", 935}, {"Dagger", 8225}, {"Delta", 916}, {"ETH", 208}, {"Eacute", 201},
	{"Ecirc", 202}, {"Egrave", 200}, {"Epsilon", 917}, {"Eta", 919}, {"Euml", 203},
	{"Gamma", 915}, {"Iacute", 205}, {"Icirc", 206}, {"Igrave", 204}, {"Iota", 921},
	{"Iuml", 207}, {"Kappa", 922}, {"Lambda", 923}, {"Mu", 924}, {"Ntilde", 209},
	{"Nu", 925}, {"OElig", 338}, {"Oacute", 211}, {"Ocirc", 212}, {"Ograve", 210},
	{"Omega", 937}, {"Omicron", 927}, {"Oslash", 216}, {"Otilde", 213}, {"Ouml", 214},
	{"Phi", 934}, {"Pi", 928}, {"Prime", 8243}, {"Psi", 936}, {"Rho", 929},
	{"Scaron", 352}, {"Sigma", 931}, {"THORN", 222}, {"Tau", 932}, {"Theta", 920},
	{"Uacute", 218}, {"Ucirc", 219}, {"Ugrave", 217}, {"Upsilon", 933}, {"Uuml", 220},
	{"Xi", 926}, {"Yacute", 221}, {"Yuml", 376}, {"Zeta", 918}, {"aacute", 225},
	{"acirc", 226}, {"acute", 180}, {"aelig", 230}, {"agrave", 224}, {"alefsym", 8501},
	{"alpha", 945}, {"amp", 38}, {"and", 8743}, {"ang", 8736}, {"apos", 39},
	{"aring", 229}, {"asymp", 8776}, {"atilde", 227}, {"auml", 228}, {"bdquo", 8222},
	{"beta", 946}, {"brvbar", 166}, {"bull", 8226}, {"cap", 8745}, {"ccedil", 231},
	{"cedil", 184}, {"cent", 162}, {"chi", 967}, {"circ", 710}, {"clubs", 9827},
	{"cong", 8773}, {"copy", 169}, {"crarr", 8629}, {"cup", 8746}, {"curren", 164},
	{"dArr", 8659}, {"dagger", 8224}, {"darr", 8595}, {"deg", 176}, {"delta", 948},
	{"diams", 9830}, {"divide", 247}, {"eacute", 233}, {"ecirc", 234}, {"egrave", 232},
	{"empty", 8709}, {"emsp", 8195}, {"ensp", 8194}, {"epsilon", 949}, {"equiv", 8801},
	{"eta", 951}, {"eth", 240}, {"euml", 235}, {"euro", 8364}, {"exist", 8707},
	{"fnof", 402}, {"forall", 8704}, {"frac12", 189}, {"frac14", 188}, {"frac34", 190},
	{"frasl", 8260}, {"gamma", 947}, {"ge", 8805}, {"gt", 62}, {"hArr", 8660},
	{"harr", 8596}, {"hearts", 9829}, {"hellip", 8230}, {"iacute", 237}, {"icirc", 238},
	{"iexcl", 161}, {"igrave", 236}, {"image", 8465}, {"infin", 8734}, {"int", 8747},
	{"iota", 953}, {"iquest", 191}, {"isin", 8712}, {"iuml", 239}, {"kappa", 954},
	{"lArr", 8656}, {"lambda", 955}, {"lang", 9001}, {"laquo", 171}, {"larr", 8592},
	{"lceil", 8968}, {"ldquo", 8220}, {"le", 8804}, {"lfloor", 8970}, {"lowast", 8727},
	{"loz", 9674}, {"lrm", 8206}, {"lsaquo", 8249}, {"lsquo", 8216}, {"lt", 60},
	{"macr", 175}, {"mdash", 8212}, {"micro", 181}, {"middot", 183}, {"minus", 8722},
	{"mu", 956}, {"nabla", 8711}, {"nbsp", 160}, {"ndash", 8211}, {"ne", 8800},
	{"ni", 8715}, {"not", 172}, {"notin", 8713}, {"nsub", 8836}, {"ntilde", 241},
	{"nu", 957}, {"oacute", 243}, {"ocirc", 244}, {"oelig", 339}, {"ograve", 242},
	{"oline", 8254}, {"omega", 969}, {"omicron", 959}, {"oplus", 8853}, {"or", 8744},
	{"ordf", 170}, {"ordm", 186}, {"oslash", 248}, {"otilde", 245}, {"otimes", 8855},
	{"ouml", 246}, {"para", 182}, {"part", 8706}, {"permil", 8240}, {"perp", 8869},
	{"phi", 966}, {"pi", 960}, {"piv", 982}, {"plusmn", 177}, {"pound", 163},
	{"prime", 8242}, {"prod", 8719}, {"prop", 8733}, {"psi", 968}, {"quot", 34},
	{"rArr", 8658}, {"radic", 8730}, {"rang", 9002}, {"raquo", 187}, {"rarr", 8594},
	{"rceil", 8969}, {"rdquo", 8221}, {"real", 8476}, {"reg", 174}, {"rfloor", 8971},
	{"rho", 961}, {"rlm", 8207}, {"rsaquo", 8250}, {"rsquo", 8217}, {"sbquo", 8218},
	{"scaron", 353}, {"sdot", 8901}, {"sect", 167}, {"shy", 173}, {"sigma", 963},
	{"sigmaf", 962}, {"sim", 8764}, {"spades", 9824}, {"sub", 8834}, {"sube", 8838},
	{"sum", 8721}, {"sup", 8835}, {"sup1", 185}, {"sup2", 178}, {"sup3", 179},
	{"supe", 8839}, {"szlig", 223}, {"tau", 964}, {"there4", 8756}, {"theta", 952},
	{"thetasym", 977}, {"thinsp", 8201}, {"thorn", 254}, {"tilde", 732}, {"times", 215},
	{"trade", 8482}, {"uArr", 8657}, {"uacute", 250}, {"uarr", 8593}, {"ucirc", 251},
	{"ugrave", 249}, {"uml", 168}, {"upsih", 978}, {"upsilon", 965}, {"uuml", 252},
	{"weierp", 8472}, {"xi", 958}, {"yacute", 253}, {"yen", 165}, {"yuml", 255},
	{"zeta", 950}, {"zwj", 8205}, {"zwnj", 8204},
};
/* clang-format on */

static int
entity_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct entity *)e)->name);
}

int
mend_entity(const char *name)
{
	const struct entity *e;

	e = bsearch(name, entities, NELEM(entities), sizeof entities[0], entity_cmp);
	return e ? e->cp : -1;
}

/* Append n bytes to b: buf_add without a call when they fit, as they nearly always do. */
static inline int
put(struct buf *b, const char *s, size_t n)
{
	if (b->cap - b->len <= n)
		return buf_add(b, s, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
mend_put_utf8(struct buf *b, unsigned long cp)
{
	unsigned char s[4];
	size_t n;

	if ((cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF)
		cp = 0xFFFD;
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xC0 | cp >> 6);
		s[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xE0 | cp >> 12);
		s[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		s[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (unsigned char)(0xF0 | cp >> 18);
		s[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
		s[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		s[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return put(b, (const char *)s, n);
}

/* windows-1252 0x80-0x9F; the five holes read as latin-1 (C1 controls). */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178,
};

static unsigned long
cp1252(unsigned char c)
{
	return c >= 0x80 && c < 0xA0 ? cp1252_high[c - 0x80] : c;
}

/* ---- step 1: decode to UTF-8 ---- */

/*
 * Copy valid UTF-8 as is and read each invalid byte as windows-1252 (a
 * superset of latin-1): a "UTF-8" feed with stray latin-1 bytes keeps both
 * its real UTF-8 and its accents.  all1252 converts every byte instead.
 * Returns 1 when something was converted, 0 when the input was fine (out
 * untouched), -1 on OOM.
 */
static int
to_utf8_1252(const char *in, size_t n, int all1252, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, done = 0, k;

	while (i < n) {
		/* ASCII eight bytes at a time, then straight to the first other byte */
		if (i + 8 <= n) {
			uint64_t high = swar_high(swar_load(p + i));

			if (high == 0) {
				i += 8;
				continue;
			}
			i += swar_first(high);
		} else if (p[i] < 0x80) {
			i++;
			continue;
		}
		/* two-byte sequences (Latin accents) without a call */
		if (!all1252 && p[i] >= 0xC2 && p[i] <= 0xDF && i + 1 < n &&
		    (p[i + 1] & 0xC0) == 0x80) {
			i += 2;
			continue;
		}
		if (!all1252 && (k = utf8_len(p + i, n - i)) > 0) {
			i += k;
			continue;
		}
		if (out->data == NULL && buf_grow(out, n + n / 8) < 0)
			return -1;
		if (buf_add(out, p + done, i - done) < 0 || mend_put_utf8(out, cp1252(p[i])) < 0)
			return -1;
		done = ++i;
	}
	if (out->data == NULL)
		return 0;
	return buf_add(out, p + done, n - done) < 0 ? -1 : 1;
}

static int
to_utf8_iconv(const char *in, size_t n, const char *from, struct buf *out)
{
	iconv_t cd = iconv_open("UTF-8", from);
	char *ip = (char *)in, *op;
	size_t il = n, ol;

	if (cd == (iconv_t)-1)
		return -1;
	while (il > 0) {
		if (buf_grow(out, il * 2 + 16) < 0)
			break;
		op = out->data + out->len;
		ol = out->cap - out->len - 1;
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			out->len = (size_t)(op - out->data);
			if (errno == E2BIG)
				continue;
			/* invalid or truncated sequence: U+FFFD, skip a byte */
			if (mend_put_utf8(out, 0xFFFD) < 0)
				break;
			ip++;
			il--;
			continue;
		}
		out->len = (size_t)(op - out->data);
	}
	iconv_close(cd);
	if (il > 0)
		return -1;
	return buf_add(out, "", 0);
}

/* The encoding named in <?xml ... encoding="X"?>, lower-cased, or "". */
static void
declared_encoding(const char *p, size_t n, char *enc, size_t size)
{
	const char *end, *q;
	size_t k = 0;

	enc[0] = '\0';
	if (n < 6 || memcmp(p, "<?xml", 5) != 0)
		return;
	end = memmem(p, n < XML_DECL_MAX ? n : XML_DECL_MAX, "?>", 2);
	if (end == NULL)
		return;
	q = memmem(p, (size_t)(end - p), "encoding", 8);
	if (q == NULL)
		return;
	q += 8;
	while (q < end && (*q == ' ' || *q == '=' || *q == '\t' || *q == '\r' || *q == '\n'))
		q++;
	if (q >= end || (*q != '"' && *q != '\''))
		return;
	for (q++; q < end && *q != '"' && *q != '\'' && k + 1 < size; q++)
		enc[k++] = (char)tolower((unsigned char)*q);
	enc[k] = '\0';
}

static int
is_latin1_name(const char *enc)
{
	static const char *const names[] = {
	    "iso-8859-1",   "iso8859-1", "iso_8859-1", "latin1",   "latin-1", "l1",
	    "windows-1252", "cp1252",    "x-cp1252",   "us-ascii", "ascii",
	};

	for (size_t i = 0; i < NELEM(names); i++)
		if (strcmp(enc, names[i]) == 0)
			return 1;
	return 0;
}

int
mend_decode(const char **data, size_t *len, struct buf *tmp, char *warn, size_t wsize)
{
	const unsigned char *p = (const unsigned char *)*data;
	size_t n = *len;
	char enc[ENCODING_MAX];
	int r;

	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		p += 3;
		n -= 3;
		enc[0] = '\0'; /* a UTF-8 BOM beats the declaration */
	} else if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF) ||
	                      (p[0] == '<' && p[1] == 0) || (p[0] == 0 && p[1] == '<'))) {
		const char *from = (p[0] == 0xFF || p[0] == '<') ? "UTF-16LE" : "UTF-16BE";

		if (p[0] == 0xFF || p[0] == 0xFE) {
			p += 2;
			n -= 2;
		}
		if (to_utf8_iconv((const char *)p, n, from, tmp) < 0)
			return -1;
		*data = tmp->data;
		*len = tmp->len;
		return 0;
	} else {
		const unsigned char *q = p;

		while (q < p + n && isspace(*q))
			q++;
		declared_encoding((const char *)q, n - (size_t)(q - p), enc, sizeof enc);
	}
	/* "UTF-16" with neither BOM nor NUL bytes cannot be: read it as UTF-8 */
	if (enc[0] == '\0' || strcmp(enc, "utf-8") == 0 || strcmp(enc, "utf8") == 0 ||
	    str_has_prefix(enc, "utf-16") || str_has_prefix(enc, "utf16")) {
		r = to_utf8_1252((const char *)p, n, 0, tmp);
		if (r > 0)
			snprintf(warn, wsize, "invalid UTF-8 read as windows-1252");
	} else if (is_latin1_name(enc)) {
		r = to_utf8_1252((const char *)p, n, 1, tmp);
	} else {
		r = to_utf8_iconv((const char *)p, n, enc, tmp);
		if (r == 0)
			r = 1;
		else if (tmp->data == NULL) {
			snprintf(warn, wsize, "unknown encoding \"%s\" read as UTF-8", enc);
			r = to_utf8_1252((const char *)p, n, 0, tmp);
		}
	}
	if (r < 0)
		return -1;
	*data = r > 0 ? tmp->data : (const char *)p;
	*len = r > 0 ? tmp->len : n;
	return 0;
}

/* ---- step 2: mend references and bytes libxml2 would drop ---- */

static int
is_name_start(int c)
{
	return isalpha(c) || c == '_';
}

size_t
mend_charref_len(const char *p, size_t n)
{
	size_t i = 2;
	int hex;

	if (n < 4 || p[1] != '#')
		return 0;
	hex = p[2] == 'x' || p[2] == 'X';
	i += hex;
	while (i < n && i < CHARREF_MAX &&
	       (hex ? isxdigit((unsigned char)p[i]) : isdigit((unsigned char)p[i])))
		i++;
	if (i == 2 + (size_t)hex || i >= n || p[i] != ';')
		return 0;
	return i + 1;
}

/* "&#N;" without printf: this runs for every &amp; and &lt; of a feed. */
static int
put_charref(struct buf *b, unsigned cp)
{
	char s[16], *q = s + sizeof s;

	*--q = ';';
	do
		*--q = (char)('0' + cp % 10);
	while ((cp /= 10) > 0);
	*--q = '#';
	*--q = '&';
	return put(b, q, (size_t)(s + sizeof s - q));
}

/*
 * The character a named reference at p ("&amp;", "&eacute;") stands for,
 * with its length in *len; -1 when it is not one (a bare '&', an unknown name).
 */
static int
named_ref(const char *p, size_t n, size_t *len)
{
	static const struct entity xml5[] = {
	    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
	};
	char name[ENTITY_NAME_MAX + 1];
	size_t i = 1;

	/* the escaped markup of a description: no copy, no search */
	if (n >= 4 && p[2] == 't' && p[3] == ';' && (p[1] == 'l' || p[1] == 'g')) {
		*len = 4;
		return p[1] == 'l' ? '<' : '>';
	}
	if (n >= 5 && memcmp(p + 1, "amp;", 4) == 0) {
		*len = 5;
		return '&';
	}
	while (i < n && i <= ENTITY_NAME_MAX &&
	       (isalnum((unsigned char)p[i]) || (i > 1 && p[i] == '_')))
		i++;
	if (i == 1 || i >= n || p[i] != ';' || !is_name_start((unsigned char)p[1]))
		return -1;
	memcpy(name, p + 1, i - 1);
	name[i - 1] = '\0';
	*len = i + 1;
	for (size_t k = 0; k < NELEM(xml5); k++)
		if (strcmp(name, xml5[k].name) == 0)
			return xml5[k].cp;
	return mend_entity(name);
}

/*
 * Rewrite the reference (or bare '&') at p; returns the bytes consumed.
 * A named character that cannot be markup is written as UTF-8 directly;
 * the rest become character references, which libxml2 never drops.
 */
static size_t
mend_amp(const char *p, size_t n, struct buf *out, int *err)
{
	size_t k;
	int cp;

	if ((k = mend_charref_len(p, n)) > 0) {
		*err |= put(out, p, k);
		return k;
	}
	if ((cp = named_ref(p, n, &k)) >= 0x80) {
		*err |= mend_put_utf8(out, (unsigned long)cp);
		return k;
	}
	if (cp >= 0) {
		*err |= put_charref(out, (unsigned)cp);
		return k;
	}
	/* bare '&' or an unknown entity: keep its text */
	*err |= put(out, "&#38;", 5);
	return 1;
}

/* Bytes the mender stops at: '&', '<', and the control bytes XML forbids. */
/* clang-format off */
static const unsigned char stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1,  /* 0x00-0x0F: all but \t \n \r */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x10-0x1F */
	['&'] = 2, ['<'] = 2,
};
/* clang-format on */

/* Where the next forbidden control byte is in [p+i, p+n), or n. */
static size_t
next_control(const char *p, size_t i, size_t n)
{
	for (; i + 8 <= n; i += 8)
		for (uint64_t m = swar_below(swar_load(p + i), 0x20); m; m &= m - 1)
			if (stop[(unsigned char)p[i + swar_first(m)]] == 1)
				return i + swar_first(m);
	for (; i < n; i++)
		if (stop[(unsigned char)p[i]] == 1)
			return i;
	return n;
}

/* Copy [p, p+n) dropping forbidden control bytes. */
static int
copy_clean(const char *p, size_t n, struct buf *out)
{
	size_t start = 0, i;
	int err = 0;

	while ((i = next_control(p, start, n)) < n) {
		err |= put(out, p + start, i - start);
		start = i + 1;
	}
	return err | put(out, p + start, n - start);
}

/* Where the three-byte terminator term starts in [p, p+n), or NULL. */
static const char *
find3(const char *p, size_t n, const char *term)
{
	const char *end = p + n, *q = p;

	while (end - q >= 3 && (q = memchr(q, term[0], (size_t)(end - q - 2))) != NULL) {
		if (q[1] == term[1] && q[2] == term[2])
			return q;
		q++;
	}
	return NULL;
}

/* Copy a CDATA section or comment up to and including term (or to the end). */
static size_t
copy_until(const char *p, size_t n, const char *term, struct buf *out, int *err)
{
	const char *e = find3(p, n, term);
	size_t k = e ? (size_t)(e - p) + 3 : n;

	*err |= copy_clean(p, k, out);
	return k;
}

/* Whether the mender must look at p[i]: '&', "<!" (CDATA, comments), a forbidden byte. */
static inline int
is_stop(const char *p, size_t i, size_t n)
{
	unsigned char c = (unsigned char)p[i];

	if (c == '<')
		return i + 1 < n && p[i + 1] == '!';
	return stop[c] != 0;
}

/* The first i <= k < end where the mender must stop, or end. */
static size_t
next_stop(const char *p, size_t i, size_t end, size_t n)
{
	for (; i + 8 <= end; i += 8) {
		uint64_t x = swar_load(p + i);
		uint64_t m = swar_below(x, 0x20) | swar_eq(x, '&') | swar_eq(x, '<');

		for (; m; m &= m - 1)
			if (is_stop(p, i + swar_first(m), n))
				return i + swar_first(m);
	}
	for (; i < end; i++)
		if (is_stop(p, i, n))
			return i;
	return end;
}

/*
 * The mender works through the whole document a piece at a time, so the
 * parser gets it in chunks and no second copy of a large feed exists.
 *
 * Text inside elements is where libxml2 2.9 is slow: every reference is a
 * round of its own (a lookup, a parse, a callback), once a run of text has
 * met a non-ASCII character it reads the rest one character at a time, and
 * even CDATA costs it some 25 instructions a byte.  So while the mender can
 * tell where it is (it follows tags, and stops following at the first piece
 * of markup it does not model: from there on it only mends), a run of text
 * that holds references or non-ASCII does not go to libxml2 at all: the
 * mender decodes it into a side buffer and puts a marker in its place, a
 * processing instruction <?tidingsNONCE ID?> (the nonce is per document, so
 * a feed cannot forge one), and the walker reads the text when libxml2
 * reports the marker: the same characters, at the same place.  The marker
 * holds as many newlines as the text, so libxml2's line numbers stay right.
 * The mender does what libxml2 would do to such text: CR LF and CR become
 * LF, references are decoded.  What would read differently stays with
 * libxml2: references to what is not an XML character and U+FFFE/U+FFFF
 * (errors it reports and drops).  A "]]>" in text, an error after which
 * libxml2 may drop the text before it, is kept as text.  CDATA sections
 * inside elements join the text around them (libxml2 keeps their CR).
 */
struct span {
	size_t off, len;
};

struct mender {
	const char *p;
	size_t n;
	size_t i;
	int depth;              /* elements open, as far as the mender can tell */
	int lost;               /* met markup it does not model: only mend from here on */
	int gathering;          /* text is going to the side buffer */
	size_t start;           /* where the text being gathered starts in side */
	size_t lines;           /* newlines in it */
	struct buf side;        /* text of markers the walker has not read yet */
	struct span *span;      /* the text in side of markers span_base.. */
	size_t nspan, cap_span; /* markers made so far (the next id); room in span */
	size_t span_base;       /* the id of span[0]: markers read are dropped */
	size_t next;            /* the first marker the walker has not read */
	size_t side0;           /* side.len when this chunk began */
	char target[32];        /* the markers' PI target */
};

/* The old way: mend to the end of the document (or the limit); 0 at the end. */
static int
mend_only(struct mender *m, struct buf *out, size_t limit)
{
	const char *p = m->p;
	size_t n = m->n, i = m->i, done = i;
	int err = 0;

	while (i < n && !err) {
		size_t end = n - i > limit ? i + limit : n;
		unsigned char c;

		i = next_stop(p, i, end, n);
		err |= put(out, p + done, i - done);
		done = i;
		if (i == end) {
			if (out->len >= limit)
				break;
			continue;
		}
		c = (unsigned char)p[i];
		if (c == '&') {
			i += mend_amp(p + i, n - i, out, &err);
		} else if (c != '<') {
			i++; /* a forbidden control byte */
		} else if (n - i >= 9 && memcmp(p + i, "<![CDATA[", 9) == 0) {
			i += copy_until(p + i, n - i, "]]>", out, &err);
		} else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
			i += copy_until(p + i, n - i, "-->", out, &err);
		} else {
			err |= put(out, "<", 1);
			i++;
		}
		done = i;
		if (out->len >= limit)
			break;
	}
	m->i = i;
	return err;
}

/* Mend [from, to): a tag, a PI, a DOCTYPE, text outside the root. */
static int
mend_range(const char *p, size_t from, size_t to, struct buf *out)
{
	size_t i = from, done = from;
	int err = 0;

	while ((i = next_stop(p, i, to, to)) < to) {
		err |= put(out, p + done, i - done);
		if (p[i] == '&')
			i += mend_amp(p + i, to - i, out, &err);
		else if (p[i] == '<')
			err |= put(out, p + i++, 1); /* the "<!" of a DOCTYPE */
		else
			i++; /* a forbidden control byte */
		done = i;
	}
	return err | put(out, p + done, to - done);
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ASCII name characters: 1 may start a name, 2 may only follow. */
/* clang-format off */
static const unsigned char name_char[256] = {
	['-'] = 2, ['.'] = 2, ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2,
	['5'] = 2, ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2, [':'] = 1, ['_'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};
/* clang-format on */

static inline int
is_tag_name(int c, int first)
{
	return name_char[c] == 1 || (!first && name_char[c] == 2);
}

/*
 * The end (just past '>') of the start or end tag at p[i] == '<', if it is
 * one the mender can follow (ASCII names, quoted attribute values without
 * '<', spaces between them), else 0.  *open is what it does to the depth.
 */
static size_t
tag_end(const char *p, size_t i, size_t n, int *open)
{
	int end = i + 1 < n && p[i + 1] == '/';
	const char *q;

	i += 1 + end;
	for (size_t k = i; i < n && is_tag_name((unsigned char)p[i], i == k); i++)
		;
	if (i == n || !is_tag_name((unsigned char)p[i - 1], 0))
		return 0;
	for (;;) {
		size_t sp = i;

		while (i < n && is_space((unsigned char)p[i]))
			i++;
		if (i < n && p[i] == '>') {
			*open = end ? -1 : 1;
			return i + 1;
		}
		if (!end && n - i >= 2 && p[i] == '/' && p[i + 1] == '>') {
			*open = 0;
			return i + 2;
		}
		if (end || i == sp || i == n || !is_tag_name((unsigned char)p[i], 1))
			return 0;
		while (i < n && is_tag_name((unsigned char)p[i], 0))
			i++;
		while (i < n && is_space((unsigned char)p[i]))
			i++;
		if (i == n || p[i++] != '=')
			return 0;
		while (i < n && is_space((unsigned char)p[i]))
			i++;
		if (i == n || (p[i] != '"' && p[i] != '\''))
			return 0;
		q = memchr(p + i + 1, p[i], n - i - 1);
		if (q == NULL || memchr(p + i, '<', (size_t)(q - p) - i) != NULL)
			return 0;
		i = (size_t)(q - p) + 1;
	}
}

/* The end of a DOCTYPE without an internal subset at p[i], else 0. */
static size_t
doctype_end(const char *p, size_t i, size_t n)
{
	char quote = 0;

	for (i += 9; i < n; i++) {
		if (quote) {
			quote = p[i] == quote ? 0 : quote;
		} else if (p[i] == '"' || p[i] == '\'') {
			quote = p[i];
		} else if (p[i] == '>') {
			return i + 1;
		} else if (p[i] == '[' || p[i] == '<') {
			return 0;
		}
	}
	return 0;
}

/* The end of the processing instruction at p[i], if it holds no '<', else 0. */
static size_t
pi_end(const char *p, size_t i, size_t n)
{
	const char *q = memmem(p + i + 2, n - i - 2, "?>", 2);

	if (q == NULL || memchr(p + i + 1, '<', (size_t)(q - p) - i - 1) != NULL)
		return 0;
	return (size_t)(q - p) + 2;
}

/* The markup at p[i] == '<': copied (mended), followed, or the mender is lost. */
static int
mend_markup(struct mender *m, struct buf *out)
{
	const char *p = m->p;
	size_t n = m->n, i = m->i, e = 0;
	int err = 0, open = 0;

	if (n - i >= 9 && memcmp(p + i, "<![CDATA[", 9) == 0) {
		m->i += copy_until(p + i, n - i, "]]>", out, &err);
		return err;
	}
	if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
		m->i += copy_until(p + i, n - i, "-->", out, &err);
		return err;
	}
	if (n - i >= 9 && memcmp(p + i, "<!DOCTYPE", 9) == 0 && m->depth == 0)
		e = doctype_end(p, i, n);
	else if (n - i >= 2 && p[i + 1] == '?')
		e = pi_end(p, i, n);
	else if (n - i >= 2 && p[i + 1] != '!')
		e = tag_end(p, i, n, &open);
	if (e == 0) {
		m->lost = 1;
		return 0;
	}
	if (open > 0 || m->depth > 0)
		m->depth += open;
	m->i = e;
	return mend_range(p, i, e, out);
}

/* From here on, text goes to the side buffer. */
static void
gather(struct mender *m)
{
	if (m->gathering)
		return;
	m->gathering = 1;
	m->start = m->side.len;
	m->lines = 0;
}

/* End the text being gathered: its marker goes out. */
static int
release(struct mender *m, struct buf *out)
{
	char s[64];
	size_t at = m->nspan - m->span_base, lines = m->lines;
	int err, k;

	if (!m->gathering)
		return 0;
	m->gathering = 0;
	if (at == m->cap_span) {
		size_t cap = m->cap_span ? m->cap_span * 2 : SPANS_FIRST;
		struct span *v = realloc(m->span, cap * sizeof *v);

		if (v == NULL)
			return -1;
		m->span = v;
		m->cap_span = cap;
	}
	m->span[at].off = m->start;
	m->span[at].len = m->side.len - m->start;
	k = snprintf(s, sizeof s, "<?%s %zu", m->target, m->nspan++);
	if (k < 0 || (size_t)k >= sizeof s)
		return -1;
	err = put(out, s, (size_t)k);
	/*
	 * The marker keeps the text's lines, so libxml2's line numbers stay
	 * true; but a PI over 10 MB is an error to it (no XML_PARSE_HUGE): past
	 * a million lines in one text, later line numbers run short instead.
	 */
	if (lines > MARKER_LINES_MAX)
		lines = MARKER_LINES_MAX;
	for (size_t i = 0; i < lines; i++)
		err |= put(out, "\n", 1);
	return err | put(out, "?>", 2);
}

/* Literal text for the side buffer; its newlines count. */
static int
gather_text(struct mender *m, const char *s, size_t n)
{
	for (const char *q = s, *end = s + n; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		m->lines++;
	return put(&m->side, s, n);
}

/*
 * Where the text from p[i] needs a look: '<', '&', CR, forbidden controls,
 * ']' (when not gathering) and non-ASCII (when gathering, only 0xEF: U+FFFx).
 */
static size_t
next_in_text(const char *p, size_t i, size_t n, int gathering)
{
	for (; i + 8 <= n; i += 8) {
		uint64_t x = swar_load(p + i);
		uint64_t m = swar_below(x, 0x20) | swar_eq(x, '<') | swar_eq(x, '&') |
		             (gathering ? swar_eq(x, 0xEF) : swar_high(x) | swar_eq(x, ']'));

		for (; m; m &= m - 1) {
			unsigned char c = (unsigned char)p[i + swar_first(m)];

			if (c != '\t' && c != '\n')
				return i + swar_first(m);
		}
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '<' || c == '&' || (c < 0x20 && c != '\t' && c != '\n') ||
		    (!gathering && (c == ']' || c >= 0x80)) || (gathering && c == 0xEF))
			return i;
	}
	return n;
}

/* The value of the character reference at p, k bytes long; 0x110000 if too large. */
static unsigned long
charref_value(const char *p, size_t k)
{
	int hex = p[2] == 'x' || p[2] == 'X';
	unsigned long v = 0;

	for (size_t i = 2 + (size_t)hex; i + 1 < k && v < 0x110000; i++) {
		int c = (unsigned char)p[i];

		v = v * (hex ? 16 : 10) +
		    (unsigned long)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	return v < 0x110000 ? v : 0x110000;
}

/* Whether libxml2 reads a reference to cp as that character (else: an error, dropped). */
static int
is_xml_char(unsigned long cp)
{
	return (cp == '\t' || cp == '\n' || cp == '\r' || cp >= 0x20) &&
	       (cp < 0xD800 || cp >= 0xE000) && cp != 0xFFFE && cp != 0xFFFF && cp < 0x110000;
}

/* The reference (or bare '&') at p inside text; returns the bytes consumed. */
static size_t
text_ref(struct mender *m, const char *p, size_t n, struct buf *out, int *err)
{
	unsigned long v;
	size_t k;
	int cp;

	if ((k = mend_charref_len(p, n)) > 0) {
		if (is_xml_char(v = charref_value(p, k))) {
			gather(m);
			*err |= mend_put_utf8(&m->side, v); /* a reference to LF is not a line */
		} else {
			*err |= release(m, out);
			*err |= put(out, p, k);
		}
		return k;
	}
	gather(m);
	if ((cp = named_ref(p, n, &k)) >= 0) {
		*err |= mend_put_utf8(&m->side, (unsigned long)cp);
		return k;
	}
	*err |= put(&m->side, "&", 1); /* bare '&' or an unknown entity: keep its text */
	return 1;
}

/*
 * How much the mender has made of this chunk: markers and their text
 * (not text libxml2 has yet to reach, so that every chunk moves on).
 */
static size_t
made(const struct mender *m, const struct buf *out)
{
	return out->len + m->side.len - m->side0;
}

/* Text inside an element, up to the next '<' (or the limit). */
static int
mend_text(struct mender *m, struct buf *out, size_t limit)
{
	const unsigned char *u = (const unsigned char *)m->p;
	const char *p = m->p;
	size_t n = m->n, i = m->i, j, k;
	int err = 0;

	while (i < n && made(m, out) < limit && !err) {
		j = next_in_text(p, i, n, m->gathering);
		err |= m->gathering ? gather_text(m, p + i, j - i) : put(out, p + i, j - i);
		if ((i = j) == n || p[i] == '<')
			break;
		if (p[i] == '&') {
			i += text_ref(m, p + i, n - i, out, &err);
		} else if (u[i] >= 0x80) {
			k = utf8_len(u + i, n - i);
			if (k == 0 ||
			    (k == 3 && u[i] == 0xEF && u[i + 1] == 0xBF && u[i + 2] >= 0xBE)) {
				k = k ? k : 1;
				err |= release(m, out);
				err |= put(out, p + i, k);
			} else {
				gather(m);
				err |= put(&m->side, p + i, k);
			}
			i += k;
		} else if (stop[u[i]] == 1) {
			i++; /* a forbidden control byte */
		} else if (p[i] == '\r') {
			/* as libxml2 reads text: CR LF and CR are LF (and only an LF is a line) */
			gather(m);
			k = i + 1 < n && p[i + 1] == '\n';
			m->lines += k;
			err |= put(&m->side, "\n", 1);
			i += 1 + k;
		} else if (n - i >= 3 && memcmp(p + i, "]]>", 3) == 0) {
			gather(m);
			err |= put(&m->side, "]]>", 3);
			i += 3;
		} else {
			err |= put(out, p + i++, 1); /* ']' */
		}
	}
	m->i = i;
	return err;
}

/* Whether [p, p+n) holds U+FFFE or U+FFFF. */
static int
has_nonchar(const char *p, size_t n)
{
	const char *end = p + n;

	for (; (p = memchr(p, 0xEF, (size_t)(end - p))) != NULL; p++)
		if (end - p >= 3 && (unsigned char)p[1] == 0xBF && (unsigned char)p[2] >= 0xBE)
			return 1;
	return 0;
}

/*
 * A CDATA section at m->i inside an element joins the text being gathered
 * (libxml2 reads it as it is written, CR included); 0 when it is not one,
 * is not closed, or holds what libxml2 would stop at.
 */
static int
gather_cdata(struct mender *m, int *err)
{
	const char *p = m->p + m->i, *e;
	size_t n = m->n - m->i;

	if (m->depth == 0 || n < 12 || memcmp(p, "<![CDATA[", 9) != 0 ||
	    (e = find3(p + 9, n - 9, "]]>")) == NULL || has_nonchar(p + 9, (size_t)(e - p) - 9))
		return 0;
	gather(m);
	for (const char *q = p + 9; (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++)
		m->lines++;
	*err |= copy_clean(p + 9, (size_t)(e - p) - 9, &m->side);
	m->i += (size_t)(e - p) + 3;
	return 1;
}

int
mender_chunk(struct mender *m, struct buf *out, size_t limit)
{
	int err = 0;

	m->side0 = m->side.len;
	while (m->i < m->n && made(m, out) < limit && !err) {
		if (m->lost) {
			err |= mend_only(m, out, limit);
		} else if (m->p[m->i] == '<' && gather_cdata(m, &err)) {
			continue;
		} else if (m->p[m->i] == '<') {
			err |= release(m, out);
			err |= mend_markup(m, out);
		} else if (m->depth > 0) {
			err |= mend_text(m, out, limit);
		} else {
			/* before or after the root: mend as far as the next '<' */
			const char *lt = memchr(m->p + m->i, '<', m->n - m->i);
			size_t e = lt ? (size_t)(lt - m->p) : m->n;

			err |= mend_range(m->p, m->i, e, out);
			m->i = e;
		}
	}
	/* each chunk ends with the markers of all its text */
	err |= release(m, out);
	return err ? -1 : m->i < m->n;
}

void
mender_trim(struct mender *m)
{
	size_t read = m->next - m->span_base, left = m->nspan - m->next;
	size_t from = left > 0 ? m->span[read].off : m->side.len;

	/* Markers read are gone for good: a feed of a million texts keeps few. */
	if (read > 0 && left > 0)
		memmove(m->span, m->span + read, left * sizeof *m->span);
	m->span_base = m->next;
	if (from == 0)
		return;
	memmove(m->side.data, m->side.data + from, m->side.len - from);
	m->side.len -= from;
	for (size_t i = 0; i < left; i++)
		m->span[i].off -= from;
}

const char *
mender_text(struct mender *m, const char *target, const char *data, size_t *len)
{
	unsigned long id;
	char *end;

	if (data == NULL || strcmp(target, m->target) != 0)
		return NULL;
	id = strtoul(data, &end, 10);
	if (end == data || id < m->next || id >= m->nspan)
		return NULL;
	m->next = id + 1;
	id -= m->span_base;
	*len = m->span[id].len;
	return *len > 0 ? m->side.data + m->span[id].off : "";
}

struct mender *
mender_new(const char *doc, size_t n)
{
	struct mender *m = calloc(1, sizeof *m);
	char nonce[17];

	if (m == NULL)
		return NULL;
	m->p = doc;
	m->n = n;
	random_hex(nonce, 8); /* a feed cannot guess it, so cannot forge a marker */
	snprintf(m->target, sizeof m->target, "tidings%s", nonce);
	while (m->i < n && isspace((unsigned char)doc[m->i]))
		m->i++; /* blank lines before the XML declaration */
	return m;
}

void
mender_free(struct mender *m)
{
	if (m == NULL)
		return;
	buf_free(&m->side);
	free(m->span);
	free(m);
}
