/*
 * feed: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 into struct feed.
 *
 * The document goes through three steps:
 *   1. decode: find the real encoding (BOM, declaration, or a lie caught by
 *      invalid UTF-8) and convert everything to valid UTF-8;
 *   2. mend: rewrite every entity reference as a character reference (HTML
 *      names like &nbsp; included), escape bare '&', drop control bytes.
 *      libxml2 in recover mode drops unknown entities, and after its first
 *      error it silently drops even &amp; and &lt;; character references
 *      always survive;
 *   3. a SAX2 push parse (RECOVER, never entity expansion: the handler has no
 *      getEntity, so DTD entities, external or internal, are never expanded)
 *      that keeps only the fields an item needs.
 */
#include "feed.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <libxml/parser.h>
#include <libxml/uri.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "date.h"

#define DOC_MAX   (64u << 20) /* bytes of document */
#define MAX_DEPTH 128         /* deeper elements are ignored */
#define MAX_FIELD (4u << 20)  /* bytes of one captured text */
#define MAX_ITEMS 100000
#define MARKER_LINES_MAX 1000000  /* newlines one marker carries (a PI must stay under 10 MB) */
#define MAX_TAGS  64
#define MAX_ENCL  16
#define MAX_LINKS 16
#define CHUNK     (256u << 10) /* push-parser chunk */
#define NELEM(a)  (sizeof(a) / sizeof((a)[0]))

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

/* Code point of &name; (name NUL-terminated), or -1. */
static int
entity_lookup(const char *name)
{
	const struct entity *e;

	e = bsearch(name, entities, sizeof entities / sizeof entities[0], sizeof entities[0],
	            entity_cmp);
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

/* Append code point cp as UTF-8; surrogates and out-of-range become U+FFFD. */
static int
put_utf8(struct buf *b, unsigned long cp)
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

/*
 * Eight bytes at a time: the scans below look at a word and find the
 * first byte of interest in it, rather than testing byte by byte.  Each
 * mask has the high bit of every byte that matches, exactly (no carries
 * from one byte into the next), so the lowest set bit is the first match.
 */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The word at p with its first byte in the low bits, whatever the host. */
static inline uint64_t
load_le64(const void *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* Index of the first byte flagged in mask m (not 0). */
static inline size_t
first_flagged(uint64_t m)
{
	return (size_t)__builtin_ctzll(m) / 8;
}

/* Bytes of x that are zero. */
static inline uint64_t
zero_bytes(uint64_t x)
{
	return ~(((x & ~HIGHS) + ~HIGHS) | x) & HIGHS;
}

/* Bytes of x below 0x20 (control bytes). */
static inline uint64_t
control_bytes(uint64_t x)
{
	return ~(((x & ~HIGHS) + 0x60 * ONES) | x) & HIGHS;
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
			uint64_t high = load_le64(p + i) & HIGHS;

			if (high == 0) {
				i += 8;
				continue;
			}
			i += first_flagged(high);
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
		if (buf_add(out, p + done, i - done) < 0 || put_utf8(out, cp1252(p[i])) < 0)
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
			if (put_utf8(out, 0xFFFD) < 0)
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
	end = memmem(p, n < 512 ? n : 512, "?>", 2);
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

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(enc, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Make the document (data, len) valid UTF-8, using tmp for the copy if one is needed.
 * A note for feed.warning goes into warn.
 */
static int
decode(const char **data, size_t *len, struct buf *tmp, char *warn, size_t wsize)
{
	const unsigned char *p = (const unsigned char *)*data;
	size_t n = *len;
	char enc[40];
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

/*
 * Length of a well-formed character reference at p ("&#123;", "&#x1F;"),
 * or 0.
 */
static size_t
charref_len(const char *p, size_t n)
{
	size_t i = 2;
	int hex;

	if (n < 4 || p[1] != '#')
		return 0;
	hex = p[2] == 'x' || p[2] == 'X';
	i += hex;
	while (i < n && i < 12 &&
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
	char name[33];
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
	while (i < n && i <= 32 && (isalnum((unsigned char)p[i]) || (i > 1 && p[i] == '_')))
		i++;
	if (i == 1 || i >= n || p[i] != ';' || !is_name_start((unsigned char)p[1]))
		return -1;
	memcpy(name, p + 1, i - 1);
	name[i - 1] = '\0';
	*len = i + 1;
	for (size_t k = 0; k < NELEM(xml5); k++)
		if (strcmp(name, xml5[k].name) == 0)
			return xml5[k].cp;
	return entity_lookup(name);
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

	if ((k = charref_len(p, n)) > 0) {
		*err |= put(out, p, k);
		return k;
	}
	if ((cp = named_ref(p, n, &k)) >= 0x80) {
		*err |= put_utf8(out, (unsigned long)cp);
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
		for (uint64_t m = control_bytes(load_le64(p + i)); m; m &= m - 1)
			if (stop[(unsigned char)p[i + first_flagged(m)]] == 1)
				return i + first_flagged(m);
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
		uint64_t x = load_le64(p + i);
		uint64_t m =
		    control_bytes(x) | zero_bytes(x ^ ('&' * ONES)) | zero_bytes(x ^ ('<' * ONES));

		for (; m; m &= m - 1)
			if (is_stop(p, i + first_flagged(m), n))
				return i + first_flagged(m);
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
	int depth;         /* elements open, as far as the mender can tell */
	int lost;          /* met markup it does not model: only mend from here on */
	int gathering;     /* text is going to the side buffer */
	size_t start;      /* where the text being gathered starts in side */
	size_t lines;      /* newlines in it */
	struct buf side;   /* text of markers the walker has not read yet */
	struct span *span; /* the text in side of markers span_base.. */
	size_t nspan, cap_span; /* markers made so far (the next id); room in span */
	size_t span_base;  /* the id of span[0]: markers read are dropped */
	size_t next;     /* the first marker the walker has not read */
	size_t side0;    /* side.len when this chunk began */
	char target[32]; /* the markers' PI target */
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
		size_t cap = m->cap_span ? m->cap_span * 2 : 64;
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
	uint64_t eight = gathering ? 0 : HIGHS;
	uint64_t bracket = gathering ? 0 : ']' * ONES;

	for (; i + 8 <= n; i += 8) {
		uint64_t x = load_le64(p + i);
		uint64_t m = control_bytes(x) | zero_bytes(x ^ ('<' * ONES)) |
		             zero_bytes(x ^ ('&' * ONES)) | (x & eight) |
		             (gathering ? zero_bytes(x ^ (0xEF * ONES)) : zero_bytes(x ^ bracket));

		for (; m; m &= m - 1) {
			unsigned char c = (unsigned char)p[i + first_flagged(m)];

			if (c != '\t' && c != '\n')
				return i + first_flagged(m);
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

	if ((k = charref_len(p, n)) > 0) {
		if (is_xml_char(v = charref_value(p, k))) {
			gather(m);
			*err |= put_utf8(&m->side, v); /* a reference to LF is not a line */
		} else {
			*err |= release(m, out);
			*err |= put(out, p, k);
		}
		return k;
	}
	gather(m);
	if ((cp = named_ref(p, n, &k)) >= 0) {
		*err |= put_utf8(&m->side, (unsigned long)cp);
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

/* Append mended text to out until it holds about limit bytes; 0 at the end. */
static int
mend_some(struct mender *m, struct buf *out, size_t limit)
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

/* Drop the side text the walker has read (between chunks: nothing is being gathered). */
static void
side_trim(struct mender *m)
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

static void
mender_init(struct mender *m, const char *doc, size_t n)
{
	char nonce[17];

	memset(m, 0, sizeof *m);
	m->p = doc;
	m->n = n;
	random_hex(nonce, 8);  /* a feed cannot guess it, so cannot forge a marker */
	snprintf(m->target, sizeof m->target, "tidings%s", nonce);
	while (m->i < n && isspace((unsigned char)doc[m->i]))
		m->i++; /* blank lines before the XML declaration */
}

static void
mender_free(struct mender *m)
{
	buf_free(&m->side);
	free(m->span);
}

/* ---- step 3: the SAX2 walk ---- */

enum fam {
	F_OTHER,
	F_RSS,
	F_ATOM,
	F_DC,
	F_DCTERMS,
	F_CONTENT,
	F_RDF,
	F_XHTML,
	F_XML,
	F_ITUNES,
	F_MEDIA,
};

static const struct {
	const char *uri;
	enum fam fam;
} namespaces[] = {
    {"http://purl.org/rss/1.0/", F_RSS},
    {"http://my.netscape.com/rdf/simple/0.9/", F_RSS},
    {"http://backend.userland.com/rss2", F_RSS},
    {"http://blogs.law.harvard.edu/tech/rss", F_RSS},
    {"http://www.w3.org/2005/Atom", F_ATOM},
    {"http://purl.org/atom/ns#", F_ATOM},
    {"http://purl.org/dc/elements/1.1/", F_DC},
    {"http://purl.org/dc/terms/", F_DCTERMS},
    {"http://purl.org/rss/1.0/modules/content/", F_CONTENT},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", F_RDF},
    {"http://www.w3.org/1999/xhtml", F_XHTML},
    {"http://www.w3.org/XML/1998/namespace", F_XML},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", F_ITUNES},
    {"http://search.yahoo.com/mrss/", F_MEDIA},
};

/* What an element's text is for. */
enum field {
	FL_NONE,
	FL_TITLE,
	FL_DCTITLE,
	FL_LINK,
	FL_GUID,
	FL_ATOMID,
	FL_SUMMARY,
	FL_CONTENT,
	FL_PUBLISHED,
	FL_UPDATED,
	FL_CATEGORY,
	FL_AUTHOR,
	FL_AUTHOR_BOX,
	FL_ATOMLINK,
	FL_ATOMCAT,
	FL_ENCLOSURE,
	FL_KEYWORDS,
	FL_GENERATOR,
	FL_DURATION,
	FL_THUMBNAIL,
	FL_ITUNES_IMAGE,
	FL_MEDIA_GROUP,
	FL_MEDIA_DESC,
};

/* Children of an item (or entry), and of the channel (or feed). */
struct fieldname {
	enum fam fam;
	const char *name;
	enum field field;
};

/* clang-format off */
static const struct fieldname item_fields[] = {
	{F_RSS, "title", FL_TITLE}, {F_ATOM, "title", FL_TITLE}, {F_DC, "title", FL_DCTITLE},
	{F_RSS, "link", FL_LINK}, {F_ATOM, "link", FL_ATOMLINK},
	{F_RSS, "guid", FL_GUID}, {F_ATOM, "id", FL_ATOMID},
	{F_RSS, "description", FL_SUMMARY}, {F_ATOM, "summary", FL_SUMMARY},
	{F_CONTENT, "encoded", FL_CONTENT}, {F_ATOM, "content", FL_CONTENT},
	{F_RSS, "pubDate", FL_PUBLISHED}, {F_ATOM, "published", FL_PUBLISHED},
	{F_ATOM, "issued", FL_PUBLISHED}, {F_DCTERMS, "issued", FL_PUBLISHED},
	{F_DC, "date", FL_UPDATED}, {F_ATOM, "updated", FL_UPDATED},
	{F_ATOM, "modified", FL_UPDATED}, {F_DCTERMS, "modified", FL_UPDATED},
	{F_RSS, "category", FL_CATEGORY}, {F_DC, "subject", FL_CATEGORY},
	{F_ATOM, "category", FL_ATOMCAT},
	{F_RSS, "author", FL_AUTHOR}, {F_DC, "creator", FL_AUTHOR},
	{F_ATOM, "author", FL_AUTHOR_BOX}, {F_RSS, "enclosure", FL_ENCLOSURE},
	{F_ITUNES, "keywords", FL_KEYWORDS}, {F_MEDIA, "keywords", FL_KEYWORDS},
	{F_ITUNES, "duration", FL_DURATION}, {F_MEDIA, "thumbnail", FL_THUMBNAIL},
	{F_ITUNES, "image", FL_ITUNES_IMAGE}, {F_MEDIA, "group", FL_MEDIA_GROUP},
	{F_MEDIA, "description", FL_MEDIA_DESC}, {F_MEDIA, "category", FL_CATEGORY},
};

static const struct fieldname feed_fields[] = {
	{F_RSS, "title", FL_TITLE}, {F_ATOM, "title", FL_TITLE}, {F_DC, "title", FL_DCTITLE},
	{F_RSS, "link", FL_LINK}, {F_ATOM, "link", FL_ATOMLINK},
	{F_RSS, "lastBuildDate", FL_UPDATED}, {F_RSS, "pubDate", FL_PUBLISHED},
	{F_DC, "date", FL_UPDATED}, {F_ATOM, "updated", FL_UPDATED},
	{F_ATOM, "modified", FL_UPDATED},
	{F_RSS, "generator", FL_GENERATOR}, {F_ATOM, "generator", FL_GENERATOR},
};
/* clang-format on */

/* How captured text reads. */
enum kind { K_TEXT, K_HTML, K_XHTML };

enum role { R_NONE, R_CHANNEL, R_ITEM, R_AUTHOR, R_SKIPTAG, R_MEDIA_GROUP };

struct frame {
	const xmlChar *name; /* local name, from libxml2's dictionary */
	unsigned char fam;
	unsigned char role;
	char *base; /* in effect here; owned when own_base */
	int own_base;
};

/* An item being read, with everything its identity and date may need. */
struct draft {
	struct item it;
	char *guid, *atom_id, *about, *dctitle;
	char *guid_href, *id_href;       /* the link each stands for, resolved where it stood */
	char *media_desc, *itunes_image; /* fallbacks for the summary and the thumbnail */
	int guid_permalink;
	int link_typed; /* its link came from an Atom link with a type */
	int have_pub, have_upd;
	time_t pub, upd;
	struct strv tags;
	size_t slot; /* its place in feed.items, kept in document order */
	int level;
	struct draft *outer; /* the item this one is (illegally) nested in */
};

struct walk {
	xmlParserCtxtPtr ctxt;
	struct mender *m; /* its side buffer holds the text of markers */
	struct feed *f;
	struct err *e;
	int failed; /* not a feed, or out of memory: stop */
	int atom;   /* root is an Atom feed */
	int depth;  /* open elements */
	int chan;   /* level of channel/feed, or -1 */
	struct frame stack[MAX_DEPTH];
	struct draft *d; /* item being read, or NULL */
	int item;        /* its level */
	int nesting;     /* drafts open */
	size_t cap_items;
	int dropped; /* items past MAX_ITEMS */
	/* feed-level dates and title fallback */
	int have_fpub, have_fupd;
	time_t fpub, fupd;
	char *fdctitle;
	/* the text being captured */
	enum field cap; /* FL_NONE when not capturing */
	int cap_level;
	int cap_feed; /* a channel field, not an item's */
	enum kind cap_kind;
	int cap_markup; /* serialise child elements */
	struct buf text;
	/*
	 * An end tag that does not match the open element: libxml2 closes the
	 * open element whatever the tag says.  mismatch holds the tag's name
	 * until the end callback; debt counts elements the walk closed that
	 * libxml2 still thinks open (their end callbacks are ignored).
	 */
	char mismatch[64];
	int debt;
	/*
	 * A feed inside an XHTML page (<html><body><feed ...>): 1 while in the
	 * page before the feed, 2 after it; skip is the feed's depth, which
	 * the walk counts as level 0.
	 */
	int in_page;
	int skip;
	int held; /* items cut short by the end of the document */
	/* first XML error, for the warning */
	int nerr;
	int err_line;
	int err_code;
	char err_msg[160];
};

static int
oom(struct walk *w)
{
	if (!w->failed) {
		err_oom(w->e);
		w->failed = 1;
		xmlStopParser(w->ctxt);
	}
	return -1;
}

static enum fam
fam_of(const struct walk *w, const xmlChar *uri)
{
	if (uri == NULL || *uri == '\0')
		return w->atom ? F_ATOM : F_RSS;
	for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
		if (strcmp((const char *)uri, namespaces[i].uri) == 0)
			return namespaces[i].fam;
	return F_OTHER;
}

static enum field
lookup_field(const struct fieldname *t, size_t n, enum fam fam, const xmlChar *name)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].fam == fam && strcmp(t[i].name, (const char *)name) == 0)
			return t[i].field;
	return FL_NONE;
}

/*
 * An attribute value as libxml2 hands it to SAX2 without NOENT: each "&"
 * that came from a character reference (the mender makes "&amp;" one) is
 * given back as "&#38;", to be re-parsed by a tree builder.  Undo that.
 */
static char *
attr_value(const xmlChar *from, const xmlChar *to)
{
	size_t n = (size_t)(to - from), k = 0;
	const char *s = (const char *)from;
	char *v = malloc(n + 1);

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		v[k++] = s[i];
		if (s[i] == '&' && n - i >= 5 && memcmp(s + i, "&#38;", 5) == 0)
			i += 4;
	}
	v[k] = '\0';
	return v;
}

/* Attribute value by local name (and namespace family), copied, or NULL. */
static char *
attr(const struct walk *w, int nattr, const xmlChar **a, const char *name, enum fam fam)
{
	for (int i = 0; i < nattr; i++, a += 5) {
		if (strcmp((const char *)a[0], name) != 0)
			continue;
		if (fam != F_OTHER && (a[2] == NULL || fam_of(w, a[2]) != fam))
			continue;
		if (fam == F_OTHER && a[2] != NULL && *a[2])
			continue;
		return attr_value(a[3], a[4]);
	}
	return NULL;
}

/* href resolved against base; never NULL unless out of memory. */
static char *
resolve(const char *href, const char *base)
{
	xmlChar *u;
	char *r;

	if (base == NULL || *base == '\0')
		return str_dup(href);
	u = xmlBuildURI((const xmlChar *)href, (const xmlChar *)base);
	if (u == NULL)
		return str_dup(href);
	r = str_dup((const char *)u);
	xmlFree(u);
	return r;
}

static char *
trimmed(const char *s)
{
	size_t n;

	while (*s && isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return str_ndup(s, n);
}

/* White space runs become one space, ends trimmed; in place. */
static void
squeeze(char *s)
{
	char *o = s;
	int sp = 0;

	for (char *p = s; *p; p++) {
		if (isspace((unsigned char)*p)) {
			sp = o != s;
			continue;
		}
		if (sp)
			*o++ = ' ';
		sp = 0;
		*o++ = *p;
	}
	*o = '\0';
}

static int
breaks_words(const char *tag)
{
	static const char *const names[] = {"br", "p", "div", "li", "tr", "td", "h1", "h2", "h3"};
	size_t n;

	tag += tag[1] == '/' ? 2 : 1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		n = strlen(names[i]);
		if (strncasecmp(tag, names[i], n) == 0 && !isalnum((unsigned char)tag[n]))
			return 1;
	}
	return 0;
}

/* HTML to plain text: tags dropped, references decoded (for titles). */
static char *
html_text(const char *s)
{
	struct buf b = BUF_INIT;
	char name[33];
	int no_gt = 0;  /* no '>' left: stop looking (a title of "<a<a<a..." stays linear) */

	/* buf_add of nothing terminates: the result is "" when s holds only tags */
	if (buf_grow(&b, strlen(s)) < 0 || buf_add(&b, "", 0) < 0)
		return NULL;
	while (*s) {
		if (*s == '<' && !no_gt &&
		    (isalpha((unsigned char)s[1]) || s[1] == '/' || s[1] == '!')) {
			const char *e = strchr(s, '>');

			no_gt = e == NULL;

			if (e != NULL) {
				/* block-level tags separate words; inline ones do not */
				if (breaks_words(s))
					buf_addc(&b, ' ');
				s = e + 1;
				continue;
			}
		}
		if (*s == '&') {
			/* a reference is short: never measure the rest of the text */
			size_t k = charref_len(s, strnlen(s, 16)), i = 1;

			if (k > 0) {
				int hex = s[2] == 'x' || s[2] == 'X';

				put_utf8(&b, strtoul(s + 2 + hex, NULL, hex ? 16 : 10));
				s += k;
				continue;
			}
			while (isalnum((unsigned char)s[i]) && i < 32)
				i++;
			if (s[i] == ';' && i > 1) {
				int cp;

				memcpy(name, s + 1, i - 1);
				name[i - 1] = '\0';
				if ((cp = entity_lookup(name)) >= 0) {
					put_utf8(&b, (unsigned long)cp);
					s += i + 1;
					continue;
				}
			}
		}
		buf_addc(&b, *s++);
	}
	return buf_steal(&b);
}

/* Text as HTML: & < > " escaped. */
static char *
html_escape(const char *s)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "");
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_adds(&b, "&amp;"); break;
		case '<': buf_adds(&b, "&lt;"); break;
		case '>': buf_adds(&b, "&gt;"); break;
		case '"': buf_adds(&b, "&quot;"); break;
		default: buf_addc(&b, *s);
		}
	}
	return buf_steal(&b);
}

/*
 * Plain text (s, owned) as HTML whose line breaks stay (a video's
 * description is written in lines): escaped, each newline a <br>.
 */
static char *
text_to_html(char *s)
{
	char *e = s ? html_escape(s) : NULL, *p;
	struct buf b = BUF_INIT;
	int r = 0;

	free(s);
	if (e == NULL || strchr(e, '\n') == NULL)
		return e;
	for (char *at = e; r == 0 && *at; at = p + (*p != '\0')) {
		p = strchrnul(at, '\n');
		r = buf_add(&b, at, (size_t)(p - at));
		if (r == 0 && *p == '\n')
			r = buf_adds(&b, "<br>\n");
	}
	free(e);
	if (r < 0)
		buf_free(&b);
	return r < 0 ? NULL : buf_steal(&b);
}

static enum kind
kind_of(const char *type, const char *mode)
{
	if (mode != NULL && strcmp(mode, "xml") == 0)
		return K_XHTML;
	if (type == NULL)
		return mode != NULL && strcmp(mode, "escaped") == 0 ? K_HTML : K_TEXT;
	if (strcmp(type, "html") == 0 || strstr(type, "html") != NULL) {
		if (strcmp(type, "xhtml") == 0 || strstr(type, "xhtml") != NULL)
			return mode != NULL && strcmp(mode, "escaped") == 0 ? K_HTML : K_XHTML;
		return K_HTML;
	}
	return K_TEXT;
}

static int
add_tag(struct strv *tags, const char *raw)
{
	char *t = trimmed(raw);

	if (t == NULL)
		return -1;
	squeeze(t);
	if (*t == '\0' || tags->n >= MAX_TAGS || strv_contains_icase(tags, t)) {
		free(t);
		return 0;
	}
	return strv_push_owned(tags, t);
}

static int
add_enclosure(struct draft *d, char *url, char *type, char *length)
{
	struct enclosure *en, *v;

	if (url == NULL || *url == '\0' || d->it.nenclosures >= MAX_ENCL) {
		free(url);
		free(type);
		free(length);
		return 0;
	}
	v = realloc(d->it.enclosures, (d->it.nenclosures + 1) * sizeof *v);
	if (v == NULL) {
		free(url);
		free(type);
		free(length);
		return -1;
	}
	d->it.enclosures = v;
	en = &v[d->it.nenclosures++];
	en->url = url;
	en->type = type;
	en->length = length && isdigit((unsigned char)*length) ? strtoll(length, NULL, 10) : -1;
	free(length);
	return 0;
}

/* Another link of the item; takes url, rel, type and title (which may be NULL). */
static int
add_link(struct draft *d, char *url, char *rel, char *type, char *title)
{
	struct item_link *v;

	if (url == NULL || *url == '\0' || d->it.nlinks >= MAX_LINKS ||
	    (rel == NULL && (rel = str_dup("alternate")) == NULL) ||
	    (v = realloc(d->it.links, (d->it.nlinks + 1) * sizeof *v)) == NULL) {
		int full = url != NULL && (*url == '\0' || d->it.nlinks >= MAX_LINKS);

		free(url);
		free(rel);
		free(type);
		free(title);
		return full ? 0 : -1;
	}
	d->it.links = v;
	v[d->it.nlinks++] = (struct item_link){url, rel, type, title};
	return 0;
}

/* A packed item's strings belong to its feed's pack: let go of them, do not free them. */
static void
drop(char **p, int packed)
{
	if (!packed)
		free(*p);
	*p = NULL;
}

void
item_release(struct item *it, unsigned parts)
{
	if (parts & ITEM_CONTENT) {
		free(it->content);
		free(it->summary);
		it->content = it->summary = NULL;
	}
	if (parts & (ITEM_SHOWN | ITEM_BASE))
		drop(&it->base, it->packed);
	if (parts & ITEM_SHOWN) {
		drop(&it->title, it->packed);
		drop(&it->link, it->packed);
		drop(&it->author, it->packed);
		for (size_t i = 0; i < it->nenclosures; i++) {
			free(it->enclosures[i].url);
			free(it->enclosures[i].type);
		}
		free(it->enclosures);
		it->enclosures = NULL;
		it->nenclosures = 0;
		for (size_t i = 0; i < it->nlinks; i++) {
			free(it->links[i].url);
			free(it->links[i].rel);
			free(it->links[i].type);
			free(it->links[i].title);
		}
		free(it->links);
		it->links = NULL;
		it->nlinks = 0;
		free(it->duration);
		free(it->thumbnail);
		it->duration = it->thumbnail = NULL;
	}
	if (parts & ITEM_TAGS) {
		for (size_t i = 0; !it->packed && i < it->ntags; i++)
			free(it->tags[i]);
		if (!it->packed)
			free(it->tags);
		it->tags = NULL;
		it->ntags = 0;
	}
}

static void
item_free(struct item *it)
{
	item_release(it, ITEM_CONTENT | ITEM_SHOWN | ITEM_TAGS);
	drop(&it->id, it->packed);
}

/* ---- packing ---- */

static size_t
str_room(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static size_t
item_room(const struct item *it)
{
	size_t n = it->ntags * sizeof *it->tags;

	n += str_room(it->id) + str_room(it->title) + str_room(it->link) + str_room(it->author) +
	     str_room(it->base);
	for (size_t i = 0; i < it->ntags; i++)
		n += str_room(it->tags[i]);
	return n;
}

/* Copy *p to the pack at *at and free the original. */
static void
move_str(char **p, char **at)
{
	size_t n = str_room(*p);

	if (*p == NULL)
		return;
	memcpy(*at, *p, n);
	free(*p);
	*p = *at;
	*at += n;
}

static void
pack_item(struct item *it, char ***arrays, char **strings)
{
	if (it->ntags > 0) {
		char **tags = *arrays;

		memcpy(tags, it->tags, it->ntags * sizeof *tags);
		free(it->tags);
		it->tags = tags;
		*arrays += it->ntags;
		for (size_t i = 0; i < it->ntags; i++)
			move_str(&it->tags[i], strings);
	}
	move_str(&it->id, strings);
	move_str(&it->title, strings);
	move_str(&it->link, strings);
	move_str(&it->author, strings);
	move_str(&it->base, strings);
	it->packed = 1;
}

int
feed_pack(struct feed *f)
{
	size_t room = 0, ntags = 0;
	char **arrays, *strings;

	if (f->pack != NULL)
		return 0;
	for (size_t i = 0; i < f->nitems; i++) {
		room += item_room(&f->items[i]);
		ntags += f->items[i].ntags;
	}
	if (room == 0 || (f->pack = malloc(room)) == NULL)
		return room == 0 ? 0 : -1;
	/* The tag arrays first, where pointers are aligned; then the strings. */
	arrays = (char **)(void *)f->pack;
	strings = f->pack + ntags * sizeof *arrays;
	for (size_t i = 0; i < f->nitems; i++)
		pack_item(&f->items[i], &arrays, &strings);
	return 0;
}

static void
draft_free(struct draft *d)
{
	if (d == NULL)
		return;
	item_free(&d->it);
	free(d->guid);
	free(d->atom_id);
	free(d->guid_href);
	free(d->id_href);
	free(d->about);
	free(d->dctitle);
	free(d->media_desc);
	free(d->itunes_image);
	strv_free(&d->tags);
	free(d);
}

static int
is_http(const char *s)
{
	return str_has_prefix(s, "http://") || str_has_prefix(s, "https://");
}

/* "sha:" and 16 hex digits over title, date and (when both are empty) content. */
static char *
hash_id(const struct item *it)
{
	struct buf b = BUF_INIT;
	char *id;

	buf_printf(&b, "%s\037%lld", it->title, it->has_date ? (long long)it->published : 0LL);
	if (*it->title == '\0' && !it->has_date)
		buf_printf(&b, "\037%s\037%s", it->link ? it->link : "",
		           it->content ? it->content : "");
	if (b.data == NULL)
		return NULL;
	id = str_printf("sha:%016llx", (unsigned long long)hash64(b.data, b.len));
	buf_free(&b);
	return id;
}

static int
is_blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* Make room for an item in document order; it is filled when it ends. */
static int
begin_item(struct walk *w, int level, int nattr, const xmlChar **a)
{
	struct draft *d;
	struct item *v;

	if (w->nesting >= 8)
		return 0; /* items in items in items...: the inner ones are ignored */
	if (w->f->nitems >= MAX_ITEMS) {
		w->dropped++;
		return 0;
	}
	if (w->f->nitems == w->cap_items) {
		size_t cap = w->cap_items ? w->cap_items * 2 : 16;

		if ((v = realloc(w->f->items, cap * sizeof *v)) == NULL)
			return oom(w);
		w->f->items = v;
		w->cap_items = cap;
	}
	if ((d = calloc(1, sizeof *d)) == NULL)
		return oom(w);
	memset(&w->f->items[w->f->nitems], 0, sizeof *v);
	d->slot = w->f->nitems++;
	d->level = level;
	d->outer = w->d;
	d->about = attr(w, nattr, a, "about", F_RDF);
	w->d = d;
	w->item = level;
	w->nesting++;
	return 1;
}

/* Move a finished draft into its slot. */
static int
finish_item(struct walk *w)
{
	struct draft *d = w->d;
	struct item *it = &d->it;

	w->d = d->outer;
	w->item = d->outer ? d->outer->level : -1;
	w->nesting--;
	if (it->title == NULL) {
		it->title = d->dctitle ? d->dctitle : str_dup("");
		d->dctitle = NULL;
		if (it->title == NULL)
			goto nomem;
	}
	if (d->have_pub || d->have_upd) {
		it->has_date = 1;
		it->published = d->have_pub ? d->pub : d->upd;
	}
	/* as feedparser: a permalink guid or an Atom id is the link if there is none */
	if (it->link == NULL && d->guid_href != NULL)
		it->link = d->guid_href, d->guid_href = NULL;
	if (it->link == NULL && d->guid == NULL && d->id_href != NULL)
		it->link = d->id_href, d->id_href = NULL;
	if (d->guid && *d->guid)
		it->id = d->guid, d->guid = NULL;
	else if (d->atom_id && *d->atom_id)
		it->id = d->atom_id, d->atom_id = NULL;
	else if (d->about && *d->about)
		it->id = d->about, d->about = NULL;
	else if (it->link && *it->link)
		it->id = str_dup(it->link);
	else
		it->id = hash_id(it);
	if (it->id == NULL)
		goto nomem;
	/* an empty content:encoded is no content: the description stands in */
	if (it->content != NULL && is_blank(it->content)) {
		free(it->content);
		it->content = NULL;
	}
	if (it->summary == NULL && d->media_desc != NULL)
		it->summary = d->media_desc, d->media_desc = NULL;
	if (it->thumbnail == NULL && d->itunes_image != NULL)
		it->thumbnail = d->itunes_image, d->itunes_image = NULL;
	if (it->content == NULL && it->summary != NULL &&
	    (it->content = str_dup(it->summary)) == NULL)
		goto nomem;
	it->tags = d->tags.v;
	it->ntags = d->tags.n;
	d->tags = (struct strv)STRV_INIT;
	w->f->items[d->slot] = *it;
	memset(it, 0, sizeof *it);
	draft_free(d);
	return 0;
nomem:
	draft_free(d);
	return oom(w);
}

static int
set_once(char **dst, char *s)
{
	if (s == NULL)
		return -1;
	if (*dst == NULL)
		*dst = s;
	else
		free(s);
	return 0;
}

/* s (owned) with its markup read as HTML or escaped as text, as kind says. */
static char *
as_text(char *s, enum kind k)
{
	char *v = k == K_TEXT ? s : html_text(s);

	if (v != s)
		free(s);
	if (v != NULL)
		squeeze(v);
	return v;
}

static char *
as_html(char *s, enum kind k)
{
	char *v = k == K_TEXT ? html_escape(s) : s;

	if (v != s)
		free(s);
	return v;
}

/* s (owned) trimmed and squeezed, or NULL when empty (*nomem: or out of memory). */
static char *
as_word(char *s, int *nomem)
{
	char *v = trimmed(s);

	free(s);
	*nomem = v == NULL;
	if (v != NULL)
		squeeze(v);
	if (v != NULL && *v == '\0') {
		free(v);
		v = NULL;
	}
	return v;
}

static int
store_date(struct walk *w, struct draft *d, enum field f, char *s)
{
	int pub = f == FL_PUBLISHED;
	int *have = d ? (pub ? &d->have_pub : &d->have_upd) : (pub ? &w->have_fpub : &w->have_fupd);
	time_t *dst = d ? (pub ? &d->pub : &d->upd) : (pub ? &w->fpub : &w->fupd);
	time_t t;

	if (!*have && date_parse(s, &t) == 0) {
		*have = 1;
		*dst = t;
	}
	free(s);
	return 0;
}

static int
store_tags(struct draft *d, enum field f, char *s)
{
	char *save;
	int r = 0;

	if (f == FL_CATEGORY)
		r = add_tag(&d->tags, s);
	else
		for (char *t = strtok_r(s, ",", &save); t && r == 0; t = strtok_r(NULL, ",", &save))
			r = add_tag(&d->tags, t);
	free(s);
	return r;
}

static int
store_body(struct walk *w, struct draft *d, enum field f, char *s, const char *base)
{
	if ((s = as_html(s, w->cap_kind)) == NULL)
		return -1;
	/* the content's base wins over the summary's */
	if (base != NULL && (d->it.base == NULL || (f == FL_CONTENT && d->it.content == NULL))) {
		free(d->it.base);
		if ((d->it.base = str_dup(base)) == NULL) {
			free(s);
			return -1;
		}
	}
	return set_once(f == FL_SUMMARY ? &d->it.summary : &d->it.content, s);
}

/* A scheme other than http(s) (urn:, tag:, mailto:): RFC 3986's scheme syntax. */
static int
other_scheme(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*s))
		return 0;
	while (isalnum((unsigned char)s[n]) || (s[n] != '\0' && strchr("+-.", s[n]) != NULL))
		n++;
	return s[n] == ':' && !is_http(s);
}

/*
 * A guid or an Atom id (s, owned); the first one counts.  Unless
 * isPermaLink="false", it is also the link an item without one has, as
 * feedparser and RSS 2.0 read it: resolved against the base where it stands.
 * One in another scheme (urn:, tag:) names no page a reader could open.
 */
static int
store_id(struct draft *d, enum field f, char *s, const char *base)
{
	char **id = f == FL_GUID ? &d->guid : &d->atom_id;
	char *v = trimmed(s), *href;

	free(s);
	if (v == NULL)
		return -1;
	if (*id != NULL) {
		free(v);
		return 0;
	}
	*id = v;
	if (*v == '\0' || (f == FL_GUID && !d->guid_permalink))
		return 0;
	/* an absolute URL is kept as written, without the cost of resolving it */
	if ((href = is_http(v) ? str_dup(v) : resolve(v, base)) == NULL)
		return -1;
	if (other_scheme(href)) {
		free(href);
		return 0;
	}
	*(f == FL_GUID ? &d->guid_href : &d->id_href) = href;
	return 0;
}

/* Store captured text s (owned) as field f of the item or the feed. */
static int
store(struct walk *w, enum field f, char *s, const char *base)
{
	struct draft *d = w->cap_feed ? NULL : w->d;
	int nomem;
	char *v;

	switch (f) {
	case FL_TITLE: return set_once(d ? &d->it.title : &w->f->title, as_text(s, w->cap_kind));
	case FL_DCTITLE: return set_once(d ? &d->dctitle : &w->fdctitle, as_text(s, K_TEXT));
	case FL_LINK:
		if ((v = as_word(s, &nomem)) == NULL)
			return nomem ? -1 : 0;
		s = resolve(v, base);
		free(v);
		return set_once(d ? &d->it.link : &w->f->link, s);
	case FL_GUID:
	case FL_ATOMID: return store_id(d, f, s, base);
	case FL_SUMMARY:
	case FL_CONTENT: return store_body(w, d, f, s, base);
	case FL_PUBLISHED:
	case FL_UPDATED: return store_date(w, d, f, s);
	case FL_CATEGORY:
	case FL_KEYWORDS: return store_tags(d, f, s);
	case FL_AUTHOR:
	case FL_DURATION:
		if ((v = as_word(s, &nomem)) == NULL)
			return nomem ? -1 : 0;
		return set_once(f == FL_AUTHOR ? &d->it.author : &d->it.duration, v);
	case FL_GENERATOR:
		if ((v = as_word(s, &nomem)) == NULL)
			return nomem ? -1 : 0;
		return set_once(&w->f->generator, v);
	case FL_MEDIA_DESC:
		v = trimmed(s);
		free(s);
		if (v != NULL && *v == '\0') {
			free(v);
			return 0;
		}
		return set_once(&d->media_desc, text_to_html(v));
	default: free(s); return 0;
	}
}

static void
start_capture(struct walk *w, enum field f, int level, int feed, enum kind k)
{
	w->cap = f;
	w->cap_level = level;
	w->cap_feed = feed;
	w->cap_kind = k;
	w->cap_markup = f == FL_SUMMARY || f == FL_CONTENT;
	buf_reset(&w->text);
}

static void
end_capture(struct walk *w)
{
	char *s;
	const char *base = w->stack[w->cap_level].base;
	enum field f = w->cap;

	w->cap = FL_NONE;
	/* an exact-size copy; the capture buffer is kept for the next field */
	if ((s = str_ndup(buf_str(&w->text), w->text.len)) == NULL) {
		oom(w);
		return;
	}
	if (store(w, f, s, base) < 0)
		oom(w);
}

/* Void HTML elements: serialised as <br> with no end tag. */
static int
is_void(const char *name)
{
	static const char *const v[] = {
	    "area",  "base", "br",   "col",   "embed",  "hr",    "img",
	    "input", "link", "meta", "param", "source", "track", "wbr",
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (strcmp(name, v[i]) == 0)
			return 1;
	return 0;
}

static void
text_append(struct walk *w, const char *s, size_t n, int escape)
{
	struct buf *b = &w->text;

	/* Past the bound the rest is dropped, not the whole run: the digest tells of the cut. */
	if (b->len >= MAX_FIELD)
		return;
	if (b->len + n > MAX_FIELD) {
		n = MAX_FIELD - b->len;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;  /* not inside a UTF-8 sequence */
	}
	if (!escape) {
		if (buf_add(b, s, n) < 0)
			oom(w);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int r;

		switch (s[i]) {
		case '&': r = buf_add(b, "&amp;", 5); break;
		case '<': r = buf_add(b, "&lt;", 4); break;
		case '>': r = buf_add(b, "&gt;", 4); break;
		case '"': r = buf_add(b, "&quot;", 6); break;
		default: r = buf_addc(b, s[i]);
		}
		if (r < 0) {
			oom(w);
			return;
		}
	}
}

static void
markup_start(struct walk *w, struct frame *fr, const xmlChar *name, int nattr, const xmlChar **a,
             int level)
{
	char *v;

	/* the <div> that wraps Atom xhtml content is not part of it */
	if (w->cap_kind == K_XHTML && level == w->cap_level + 1 && fr->fam == F_XHTML &&
	    strcmp((const char *)name, "div") == 0) {
		fr->role = R_SKIPTAG;
		return;
	}
	text_append(w, "<", 1, 0);
	text_append(w, (const char *)name, strlen((const char *)name), 0);
	for (int i = 0; i < nattr; i++, a += 5) {
		text_append(w, " ", 1, 0);
		text_append(w, (const char *)a[0], strlen((const char *)a[0]), 0);
		text_append(w, "=\"", 2, 0);
		if ((v = attr_value(a[3], a[4])) == NULL) {
			oom(w);
			return;
		}
		text_append(w, v, strlen(v), 1);
		free(v);
		text_append(w, "\"", 1, 0);
	}
	text_append(w, ">", 1, 0);
	if (is_void((const char *)name))
		fr->role = R_SKIPTAG;
}

static void
markup_end(struct walk *w, const struct frame *fr, const xmlChar *name)
{
	if (fr->role == R_SKIPTAG)
		return;
	text_append(w, "</", 2, 0);
	text_append(w, (const char *)name, strlen((const char *)name), 0);
	text_append(w, ">", 1, 0);
}

static int
root(struct walk *w, const xmlChar *name, const xmlChar *uri, int nattr, const xmlChar **a)
{
	const char *n = (const char *)name;
	char *v;
	int atom03;

	if (strcmp(n, "rss") == 0 || strcmp(n, "channel") == 0) {
		v = attr(w, nattr, a, "version", F_OTHER);
		w->f->format = str_dup(v && str_has_prefix(v, "0.9") ? "rss09x" : "rss20");
		free(v);
	} else if (strcasecmp(n, "RDF") == 0) {
		w->f->format = str_dup("rss10");
	} else if (strcmp(n, "entry") == 0 && fam_of(w, uri) == F_ATOM) {
		/* an Atom entry document: one item, no feed around it */
		w->atom = 1;
		w->f->format = str_dup("atom10");
	} else if (strcmp(n, "feed") == 0) {
		v = attr(w, nattr, a, "version", F_OTHER);
		w->atom = 1;
		w->chan = 0;
		atom03 = (uri && strcmp((const char *)uri, "http://purl.org/atom/ns#") == 0) ||
		         (v && strcmp(v, "0.3") == 0);
		w->f->format = str_dup(atom03 ? "atom03" : "atom10");
		free(v);
	} else if (strcasecmp(n, "html") == 0) {
		w->in_page = 1; /* a feed may be inside: see on_start */
		return 0;
	} else {
		err_set(w->e, EX_DATAERR, "not a feed: an XML document with root <%.40s>", n);
		return -1;
	}
	if (w->f->format == NULL)
		return oom(w);
	if (strcmp(n, "channel") == 0)
		w->chan = 0;
	return 0;
}

static int
push_base(struct walk *w, struct frame *fr, const struct frame *parent, int nattr,
          const xmlChar **a)
{
	char *b = attr(w, nattr, a, "base", F_XML);

	fr->base = parent ? parent->base : w->stack[0].base;
	fr->own_base = 0;
	if (b == NULL)
		return 0;
	fr->base = resolve(b, fr->base);
	free(b);
	if (fr->base == NULL)
		return -1;
	fr->own_base = 1;
	return 0;
}

static void
atom_link(struct walk *w, int nattr, const xmlChar **a, const char *base, int feed)
{
	char *rel = attr(w, nattr, a, "rel", F_OTHER), *href = attr(w, nattr, a, "href", F_OTHER);
	char *type = attr(w, nattr, a, "type", F_OTHER), *len, *u;
	char **dst = feed ? &w->f->link : &w->d->it.link;
	int alt;

	if (href == NULL)
		goto out;
	if (feed && rel != NULL && (strcmp(rel, "next") == 0 || strcmp(rel, "prev-archive") == 0)) {
		char **page = rel[0] == 'n' ? &w->f->next : &w->f->prev_archive;

		if (*page == NULL && (*page = resolve(href, base)) == NULL)
			oom(w);
		goto out;
	}
	alt = (rel == NULL || strcmp(rel, "alternate") == 0) &&
	      (type == NULL || strstr(type, "html") != NULL);
	if (alt && !feed && w->atom && *dst != NULL && type != NULL && !w->d->link_typed) {
		/* one that says it is HTML beats an untyped one (as feedparser reads it) */
		if (add_link(w->d, *dst, NULL, NULL, NULL) < 0)
			oom(w);
		*dst = NULL;
	}
	if (alt && *dst == NULL) {
		if ((*dst = resolve(href, base)) == NULL)
			oom(w);
		if (!feed)
			w->d->link_typed = type != NULL;
	} else if (!feed && rel != NULL && strcmp(rel, "enclosure") == 0) {
		len = attr(w, nattr, a, "length", F_OTHER);
		u = resolve(href, base);
		if (add_enclosure(w->d, u, type, len) < 0)
			oom(w);
		type = NULL;
	} else if (!feed) {
		/* feedparser keeps every link: so does the item, for the digest to show */
		if (add_link(w->d, resolve(href, base), rel, type,
		             attr(w, nattr, a, "title", F_OTHER)) < 0)
			oom(w);
		rel = type = NULL;
	}
out:
	free(rel);
	free(href);
	free(type);
}

static void
rss_enclosure(struct walk *w, int nattr, const xmlChar **a, const char *base)
{
	char *url = attr(w, nattr, a, "url", F_OTHER), *u = NULL;

	if (url != NULL)
		u = resolve(url, base);
	free(url);
	if (add_enclosure(w->d, u, attr(w, nattr, a, "type", F_OTHER),
	                  attr(w, nattr, a, "length", F_OTHER)) < 0)
		oom(w);
}

/* The first URL of its kind (a thumbnail, an image): attribute name, resolved. */
static void
media_url(struct walk *w, int nattr, const xmlChar **a, const char *name, const char *base,
          char **dst)
{
	char *url;

	if (*dst != NULL || (url = attr(w, nattr, a, name, F_OTHER)) == NULL)
		return;
	if (*url != '\0' && (*dst = resolve(url, base)) == NULL)
		oom(w);
	free(url);
}

/* Returns 1 when the category is in the element's text instead. */
static int
atom_category(struct walk *w, int nattr, const xmlChar **a)
{
	char *t = attr(w, nattr, a, "term", F_OTHER);

	if (t == NULL || str_empty(t)) {
		free(t);
		t = attr(w, nattr, a, "label", F_OTHER);
	}
	if (t == NULL || str_empty(t)) {
		free(t);
		return 1;
	}
	if (add_tag(&w->d->tags, t) < 0)
		oom(w);
	free(t);
	return 0;
}

/*
 * How an Atom text construct reads (type, Atom 0.3 mode); -1 when there is
 * nothing to read here (content src="...", or base64 media).
 */
static int
atom_kind(const struct walk *w, int nattr, const xmlChar **a, enum kind *k)
{
	char *src = attr(w, nattr, a, "src", F_OTHER);
	char *type, *mode;
	int skip;

	if (src != NULL) {
		free(src);
		return -1;
	}
	type = attr(w, nattr, a, "type", F_OTHER);
	mode = attr(w, nattr, a, "mode", F_OTHER);
	*k = kind_of(type, mode);
	skip = type != NULL && *k == K_TEXT && strcmp(type, "text") != 0 &&
	       !str_has_prefix(type, "text/");
	free(type);
	free(mode);
	return skip ? -1 : 0;
}

/* A child of the item or channel: what it holds, and start reading it. */
static void
field_start(struct walk *w, struct frame *fr, const xmlChar *name, int nattr, const xmlChar **a,
            int level, int feed)
{
	enum field f;
	enum kind k = K_TEXT;
	char *perma, *href;

	if (feed)
		f = lookup_field(feed_fields, NELEM(feed_fields), fr->fam, name);
	else
		f = lookup_field(item_fields, NELEM(item_fields), fr->fam, name);
	switch (f) {
	case FL_NONE: return;
	case FL_ATOMLINK: atom_link(w, nattr, a, fr->base, feed); return;
	case FL_LINK:
		/* an RSS <link href=".."/> is read as Atom's, as feedparser reads it */
		if ((href = attr(w, nattr, a, "href", F_OTHER)) == NULL)
			break;
		free(href);
		atom_link(w, nattr, a, fr->base, feed);
		return;
	case FL_ATOMCAT:
		if (!atom_category(w, nattr, a))
			return;
		f = FL_CATEGORY;
		break;
	case FL_ENCLOSURE: rss_enclosure(w, nattr, a, fr->base); return;
	case FL_THUMBNAIL: media_url(w, nattr, a, "url", fr->base, &w->d->it.thumbnail); return;
	case FL_ITUNES_IMAGE: media_url(w, nattr, a, "href", fr->base, &w->d->itunes_image); return;
	case FL_MEDIA_GROUP: fr->role = R_MEDIA_GROUP; return;
	case FL_AUTHOR_BOX: fr->role = R_AUTHOR; return;
	case FL_GUID:
		perma = attr(w, nattr, a, "isPermaLink", F_OTHER);
		w->d->guid_permalink = perma == NULL || strcasecmp(perma, "false") != 0;
		free(perma);
		break;
	case FL_SUMMARY:
	case FL_CONTENT:
	case FL_TITLE:
		/* RSS bodies are HTML, RSS titles text; Atom says which */
		if (fr->fam != F_ATOM)
			k = f == FL_TITLE ? K_TEXT : K_HTML;
		else if (atom_kind(w, nattr, a, &k) < 0)
			return;
		break;
	default: break;
	}
	start_capture(w, f, level, feed, k);
}

/* The root of a feed, met inside an XHTML page. */
static int
is_feed_root(const struct walk *w, const xmlChar *name, const xmlChar *uri)
{
	const char *n = (const char *)name;

	return (strcmp(n, "feed") == 0 && fam_of(w, uri) == F_ATOM) || strcmp(n, "rss") == 0 ||
	       (strcmp(n, "RDF") == 0 && fam_of(w, uri) == F_RDF);
}

static void
on_start(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri, int nns,
         const xmlChar **ns, int nattr, int ndef, const xmlChar **a)
{
	struct walk *w = ctx;
	int level = w->depth++;
	struct frame *fr;

	(void)prefix;
	(void)nns;
	(void)ns;
	(void)ndef;
	if (w->in_page == 1 && level > 0 && is_feed_root(w, name, uri)) {
		w->in_page = 0;
		w->skip = level;
		w->depth -= level;
		level = 0;
	}
	if (w->failed || level >= MAX_DEPTH || (level > 0 && w->in_page))
		return;
	fr = &w->stack[level];
	fr->name = name;
	fr->role = R_NONE;
	fr->fam = (unsigned char)fam_of(w, uri);
	if (level == 0 && w->f->format == NULL && root(w, name, uri, nattr, a) < 0) {
		w->failed = 1;
		xmlStopParser(w->ctxt);
		return;
	}
	if (level == 0)
		fr->fam = (unsigned char)fam_of(w, uri);
	if (push_base(w, fr, level ? &w->stack[level - 1] : NULL, nattr, a) < 0) {
		oom(w);
		return;
	}
	if (level == 0 && w->chan == 0)
		fr->role = R_CHANNEL;
	if (level == 0 && strcmp((const char *)name, "entry") != 0)
		return;
	if (w->cap != FL_NONE) {
		if (w->cap_markup)
			markup_start(w, fr, name, nattr, a, level);
		return;
	}
	if ((fr->fam == F_RSS && strcmp((const char *)name, "item") == 0) ||
	    (fr->fam == F_ATOM && strcmp((const char *)name, "entry") == 0)) {
		/* nested items are read as items of their own, as feedparser does */
		if (begin_item(w, level, nattr, a) > 0)
			fr->role = R_ITEM;
		return;
	}
	if (w->d == NULL) {
		if (fr->fam == F_RSS && strcmp((const char *)name, "channel") == 0) {
			fr->role = R_CHANNEL;
			w->chan = level;
		} else if (w->chan >= 0 && level == w->chan + 1) {
			field_start(w, fr, name, nattr, a, level, 1);
		}
		return;
	}
	if (level == w->item + 1 ||
	    (level == w->item + 2 && w->stack[level - 1].role == R_MEDIA_GROUP))
		field_start(w, fr, name, nattr, a, level, 0);
	else if (level == w->item + 2 && w->stack[level - 1].role == R_AUTHOR &&
	         fr->fam == F_ATOM && strcmp((const char *)name, "name") == 0)
		start_capture(w, FL_AUTHOR, level, 0, K_TEXT);
}

/* The innermost open element named name (a local name), or -1. */
static int
open_named(const struct walk *w, const char *name)
{
	const char *local = strrchr(name, ':');

	local = local ? local + 1 : name;
	for (int k = (w->depth < MAX_DEPTH ? w->depth : MAX_DEPTH) - 1; k >= 0; k--)
		if (w->stack[k].name != NULL && strcmp((const char *)w->stack[k].name, local) == 0)
			return k;
	return -1;
}

static void close_top(struct walk *w);

/*
 * An element ends.  After a mismatched end tag ("<p>a<br></summary>") the
 * walk closes everything up to the element the tag names, as a browser
 * would, instead of leaving the summary open to swallow every later entry
 * (libxml2 closes only the innermost element).
 */
static void
on_end(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
	struct walk *w = ctx;
	int k;

	(void)prefix;
	(void)uri;
	if (w->in_page) {
		w->mismatch[0] = '\0';
		close_top(w);
		return;
	}
	if (w->mismatch[0] != '\0') {
		k = open_named(w, w->mismatch);
		w->mismatch[0] = '\0';
		if (k >= 0) {
			w->debt += w->depth - k - 1;
			while (w->depth > k)
				close_top(w);
			return;
		}
	} else if (w->debt > 0 &&
	           (w->depth <= 0 ||
	            (w->depth <= MAX_DEPTH && w->stack[w->depth - 1].name != NULL &&
	             strcmp((const char *)name, (const char *)w->stack[w->depth - 1].name) != 0))) {
		w->debt--; /* an element the walk closed already */
		return;
	}
	close_top(w);
}

static void
close_top(struct walk *w)
{
	int level = w->depth - 1;
	struct frame *fr;

	if (level < 0) {
		/* the page around a feed: back to its own depth count */
		if (w->skip > 0) {
			w->depth = w->skip - 1;
			w->skip = 0;
			w->in_page = 2;
		}
		return;
	}
	w->depth = level;
	if (w->in_page)
		return;
	if (w->failed || level >= MAX_DEPTH)
		return;
	fr = &w->stack[level];
	if (w->cap != FL_NONE) {
		if (level == w->cap_level)
			end_capture(w);
		else if (w->cap_markup && level > w->cap_level)
			markup_end(w, fr, fr->name);
	}
	if (fr->role == R_ITEM && w->d != NULL && level == w->item && finish_item(w) < 0)
		return;
	if (fr->own_base)
		free(fr->base);
	fr->base = NULL;
	fr->own_base = 0;
}

static void
on_text(void *ctx, const xmlChar *s, int n)
{
	struct walk *w = ctx;

	if (w->cap != FL_NONE && !w->failed)
		text_append(w, (const char *)s, (size_t)n, w->cap_kind == K_XHTML);
}

/* A marker of the mender: its text, read as libxml2 would have read it. */
static void
on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	struct walk *w = ctx;
	struct mender *m = w->m;
	unsigned long id;
	char *end;

	if (data == NULL || strcmp((const char *)target, m->target) != 0)
		return;
	id = strtoul((const char *)data, &end, 10);
	if (end == (const char *)data || id < m->next || id >= m->nspan)
		return;
	m->next = id + 1;
	id -= m->span_base;
	if (m->span[id].len > 0)
		on_text(w, (const xmlChar *)m->side.data + m->span[id].off, (int)m->span[id].len);
}

static void
on_error(void *ctx, xmlErrorPtr err)
{
	struct walk *w = ctx;
	size_t n;

	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	if (err->code == XML_ERR_TAG_NAME_MISMATCH && err->str2 != NULL)
		snprintf(w->mismatch, sizeof w->mismatch, "%s", err->str2);
	if (w->nerr++ > 0)
		return;
	w->err_line = err->line;
	w->err_code = err->code;
	snprintf(w->err_msg, sizeof w->err_msg, "%s", err->message ? err->message : "?");
	n = strlen(w->err_msg);
	while (n && isspace((unsigned char)w->err_msg[n - 1]))
		w->err_msg[--n] = '\0';
}

static xmlSAXHandler sax_handler = {
    .initialized = XML_SAX2_MAGIC,
    .startElementNs = on_start,
    .endElementNs = on_end,
    .characters = on_text,
    .ignorableWhitespace = on_text, /* the same callback: libxml2 skips its blank test */
    .cdataBlock = on_text,
    .processingInstruction = on_pi,
    .serror = on_error,
};

/*
 * The document ended inside elements: close what is open.  An item still
 * open was cut short (a truncated download): it is held back, not kept,
 * since its id may come from a cut link and its content is damaged; the
 * next fetch, whole, delivers it.
 */
static void
close_open(struct walk *w)
{
	if (w->cap != FL_NONE && !w->failed)
		end_capture(w);
	while (w->d != NULL) {
		struct draft *d = w->d;

		w->d = d->outer;
		w->held++;
		draft_free(d);
	}
	for (int i = 0; i < w->depth && i < MAX_DEPTH; i++)
		if (w->stack[i].own_base) {
			free(w->stack[i].base);
			w->stack[i].own_base = 0;
		}
}

/* The items array grew by doubling: give back the spare room, kept for the whole run. */
static void
fit_items(struct feed *f)
{
	struct item *v;

	if (f->nitems > 0 && (v = realloc(f->items, f->nitems * sizeof *v)) != NULL)
		f->items = v;
}

/* Drop slots never filled (only after a failure). */
static void
compact(struct feed *f)
{
	size_t k = 0;

	for (size_t i = 0; i < f->nitems; i++)
		if (f->items[i].id != NULL)
			f->items[k++] = f->items[i];
		else
			item_free(&f->items[i]);
	f->nitems = k;
}

/* Feed the mended document to the parser a chunk at a time. */
static void
sax_run(struct walk *w, struct mender *m)
{
	struct buf chunk = BUF_INIT;
	int more;

	do {
		buf_reset(&chunk);
		if ((more = mend_some(m, &chunk, CHUNK)) < 0) {
			oom(w);
			break;
		}
		xmlParseChunk(w->ctxt, chunk.data ? chunk.data : "", (int)chunk.len, !more);
		side_trim(m);
	} while (more && !w->failed && w->ctxt->instate != XML_PARSER_EOF);
	if (more > 0 && !w->failed)
		xmlParseChunk(w->ctxt, NULL, 0, 1);
	buf_free(&chunk);
}

/* After a successful walk: the warning and the feed-level fields. */
static void
sax_finish(struct walk *w, int open, char *warn, size_t wsize)
{
	struct feed *f = w->f;
	size_t k = strlen(warn);

	if (w->dropped)
		snprintf(warn + k, wsize - k, "%sonly the first %d items kept", k ? "; " : "",
		         MAX_ITEMS);
	else if (w->nerr && open > 0 && w->err_code == XML_ERR_DOCUMENT_END)
		snprintf(warn + k, wsize - k, "%struncated XML: it ends with %d elements open",
		         k ? "; " : "", open);
	else if (w->nerr && open > 0)
		snprintf(warn + k, wsize - k,
		         "%struncated or broken XML: %d elements left open; first error at line "
		         "%d: %s",
		         k ? "; " : "", open, w->err_line, w->err_msg);
	else if (w->nerr)
		snprintf(warn + k, wsize - k, "%sbroken XML at line %d: %s", k ? "; " : "",
		         w->err_line, w->err_msg);
	k = strlen(warn);
	if (w->held)
		snprintf(warn + k, wsize - k, "%s%d item%s cut short held back", k ? "; " : "",
		         w->held, w->held > 1 ? "s" : "");
	if (f->title == NULL && w->fdctitle != NULL) {
		f->title = w->fdctitle;
		w->fdctitle = NULL;
	}
	if (f->title != NULL && *f->title == '\0') {
		free(f->title);
		f->title = NULL;
	}
	f->updated = w->have_fupd ? w->fupd : w->have_fpub ? w->fpub : 0;
}

static int
sax_parse(struct mender *m, const char *url, struct feed *f, struct err *e, char *warn,
          size_t wsize)
{
	int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT | XML_PARSE_NOERROR |
	           XML_PARSE_NOWARNING | XML_PARSE_RECOVER | XML_PARSE_IGNORE_ENC;
	struct walk *w;
	int rc, open;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return err_oom(e);
	w->f = f;
	w->e = e;
	w->m = m;
	w->chan = -1;
	w->stack[0].base = (char *)url;
	w->ctxt = xmlCreatePushParserCtxt(&sax_handler, w, NULL, 0, NULL);
	if (w->ctxt == NULL) {
		free(w);
		return err_oom(e);
	}
	xmlCtxtUseOptions(w->ctxt, opts);
	sax_run(w, m);
	open = w->depth;
	if (w->f->format == NULL && !w->failed) {
		err_set(e, EX_DATAERR, "not a feed: %s",
		        w->in_page ? "an HTML page"
		        : w->nerr  ? "not XML"
		                   : "no root element");
		w->failed = 1;
	}
	close_open(w);
	compact(f);
	rc = w->failed ? -1 : 0;
	if (rc == 0)
		sax_finish(w, open, warn, wsize);
	free(w->fdctitle);
	buf_free(&w->text);
	/* a DTD's entity declarations land in a document even for SAX */
	if (w->ctxt->myDoc != NULL)
		xmlFreeDoc(w->ctxt->myDoc);
	xmlFreeParserCtxt(w->ctxt);
	free(w);
	return rc;
}

/* ---- JSON Feed 1.0/1.1 ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

/* A parsed JSON value; object members keep their keys in k. */
struct jv {
	enum jtype t;
	char *s;  /* J_STR: the UTF-8 text; J_NUM: the number as written */
	size_t n; /* members of J_ARR and J_OBJ */
	struct jv *v;
	char **k;
};

struct jp {
	const char *p, *end;
	int depth;
};

#define JSON_MAX_DEPTH   64
#define JSON_MAX_MEMBERS 200000

static void
jv_free(struct jv *j)
{
	for (size_t i = 0; i < j->n; i++) {
		jv_free(&j->v[i]);
		if (j->k)
			free(j->k[i]);
	}
	free(j->v);
	free(j->k);
	free(j->s);
	memset(j, 0, sizeof *j);
}

static void
jp_space(struct jp *p)
{
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r'))
		p->p++;
}

static int
hex4(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return -1;
		v = v * 16 + (unsigned long)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
	}
	*out = v;
	return 0;
}

static int
jp_string(struct jp *p, char **out)
{
	struct buf b = BUF_INIT;
	unsigned long cp, lo;

	p->p++; /* the opening quote */
	buf_adds(&b, "");
	while (p->p < p->end && *p->p != '"') {
		const char *run = p->p;

		while (p->p < p->end && *p->p != '"' && *p->p != '\\')
			p->p++;
		if (buf_add(&b, run, (size_t)(p->p - run)) < 0)
			goto fail;
		if (p->p >= p->end || *p->p == '"')
			break;
		if (p->end - p->p < 2)
			goto fail;
		switch (p->p[1]) {
		case 'b': buf_addc(&b, '\b'); break;
		case 'f': buf_addc(&b, '\f'); break;
		case 'n': buf_addc(&b, '\n'); break;
		case 'r': buf_addc(&b, '\r'); break;
		case 't': buf_addc(&b, '\t'); break;
		case 'u':
			if (p->end - p->p < 6 || hex4(p->p + 2, &cp) < 0)
				goto fail;
			p->p += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && p->end - p->p >= 8 && p->p[2] == '\\' &&
			    p->p[3] == 'u' && hex4(p->p + 4, &lo) == 0 && lo >= 0xDC00 &&
			    lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p->p += 6;
			}
			/* a NUL would end the string early: dropped, not the whole feed */
			if (cp != 0 && put_utf8(&b, cp) < 0)
				goto fail;
			break;
		default: buf_addc(&b, p->p[1]); break; /* \" \\ \/ and leniency */
		}
		p->p += 2;
	}
	if (p->p >= p->end || b.data == NULL)
		goto fail;
	p->p++;
	*out = buf_steal(&b);
	return *out ? 0 : -1;
fail:
	buf_free(&b);
	return -1;
}

static int jp_value(struct jp *p, struct jv *j);

/* Members of an array or object, up to the closing bracket. */
static int
jp_members(struct jp *p, struct jv *j, char close)
{
	size_t cap = 0;

	p->p++;
	jp_space(p);
	if (p->p < p->end && *p->p == close) {
		p->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		if (j->n >= JSON_MAX_MEMBERS)
			return -1;
		if (j->n == cap) {
			struct jv *v;
			char **k;

			cap = cap ? cap * 2 : 8;
			if ((v = realloc(j->v, cap * sizeof *v)) == NULL)
				return -1;
			j->v = v;
			if (close == '}') {
				if ((k = realloc(j->k, cap * sizeof *k)) == NULL)
					return -1;
				j->k = k;
			}
		}
		jp_space(p);
		if (close == '}') {
			if (p->p >= p->end || *p->p != '"' || jp_string(p, &key) < 0)
				return -1;
			jp_space(p);
			if (p->p >= p->end || *p->p != ':') {
				free(key);
				return -1;
			}
			p->p++;
			j->k[j->n] = key;
		}
		memset(&j->v[j->n], 0, sizeof j->v[0]);
		j->n++;
		if (jp_value(p, &j->v[j->n - 1]) < 0)
			return -1;
		jp_space(p);
		if (p->p < p->end && *p->p == ',') {
			p->p++;
			continue;
		}
		if (p->p < p->end && *p->p == close) {
			p->p++;
			return 0;
		}
		return -1;
	}
}

static int
jp_value(struct jp *p, struct jv *j)
{
	static const struct {
		const char *word;
		enum jtype t;
	} words[] = {{"null", J_NULL}, {"true", J_BOOL}, {"false", J_BOOL}};
	const char *start;
	int r;

	jp_space(p);
	if (p->p >= p->end)
		return -1;
	switch (*p->p) {
	case '"': j->t = J_STR; return jp_string(p, &j->s);
	case '[':
	case '{':
		if (++p->depth > JSON_MAX_DEPTH)
			return -1;
		j->t = *p->p == '[' ? J_ARR : J_OBJ;
		r = jp_members(p, j, *p->p == '[' ? ']' : '}');
		p->depth--;
		return r;
	default: break;
	}
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = strlen(words[i].word);

		if ((size_t)(p->end - p->p) >= n && memcmp(p->p, words[i].word, n) == 0) {
			j->t = words[i].t;
			p->p += n;
			return 0;
		}
	}
	start = p->p;
	while (p->p < p->end &&
	       (isdigit((unsigned char)*p->p) || (*p->p && strchr("+-.eE", *p->p))))
		p->p++;
	if (p->p == start)
		return -1;
	j->t = J_NUM;
	return (j->s = str_ndup(start, (size_t)(p->p - start))) ? 0 : -1;
}

static const struct jv *
jget(const struct jv *o, const char *key, enum jtype t)
{
	if (o == NULL || o->t != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->k[i], key) == 0)
			return o->v[i].t == t ? &o->v[i] : NULL;
	return NULL;
}

static const char *
jstr(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key, J_STR);

	return v ? v->s : NULL;
}

static int
json_attachments(const struct jv *a, const char *url, struct item *it)
{
	struct draft d;
	int r = 0;

	memset(&d, 0, sizeof d);
	for (size_t i = 0; a != NULL && i < a->n && r == 0; i++) {
		const struct jv *size = jget(&a->v[i], "size_in_bytes", J_NUM);
		const char *type = jstr(&a->v[i], "mime_type"), *s = jstr(&a->v[i], "url");

		/* add_enclosure frees what it is given, NULLs included */
		const struct jv *secs = jget(&a->v[i], "duration_in_seconds", J_NUM);

		r = add_enclosure(&d, s ? resolve(s, url) : NULL, type ? str_dup(type) : NULL,
		                  size ? str_dup(size->s) : NULL);
		if (r == 0 && secs != NULL && it->duration == NULL &&
		    (it->duration = str_dup(secs->s)) == NULL)
			r = -1;
	}
	it->enclosures = d.it.enclosures;
	it->nenclosures = d.it.nenclosures;
	return r;
}

static int
json_tags(const struct jv *a, struct item *it)
{
	struct strv tags = STRV_INIT;
	int r = 0;

	for (size_t i = 0; a != NULL && i < a->n && r == 0; i++)
		if (a->v[i].t == J_STR)
			r = add_tag(&tags, a->v[i].s);
	it->tags = tags.v;
	it->ntags = tags.n;
	return r;
}

/* content_html, else content_text escaped, else the summary. */
static int
json_content(const struct jv *o, struct item *it)
{
	const char *s;

	if ((s = jstr(o, "summary")) != NULL && (it->summary = html_escape(s)) == NULL)
		return -1;
	if ((s = jstr(o, "content_html")) != NULL)
		it->content = str_dup(s);
	else if ((s = jstr(o, "content_text")) != NULL)
		it->content = html_escape(s);
	else if ((s = it->summary) != NULL)
		it->content = str_dup(s);
	return s != NULL && it->content == NULL ? -1 : 0;
}

static void
json_date(const struct jv *o, struct item *it)
{
	const char *s;
	time_t t;

	if (((s = jstr(o, "date_published")) != NULL && date_parse(s, &t) == 0) ||
	    ((s = jstr(o, "date_modified")) != NULL && date_parse(s, &t) == 0)) {
		it->published = t;
		it->has_date = 1;
	}
}

/* One JSON Feed item into it (zeroed); 0 or -1 (out of memory). */
static int
json_item(const struct jv *o, const char *url, struct item *it)
{
	const struct jv *v, *a;
	const char *s;

	s = jstr(o, "title");
	if ((it->title = str_dup(s ? s : "")) == NULL)
		return -1;
	squeeze(it->title);
	if ((s = jstr(o, "url")) != NULL && *s && (it->link = resolve(s, url)) == NULL)
		return -1;
	if ((s = jstr(o, "image")) != NULL && *s && (it->thumbnail = resolve(s, url)) == NULL)
		return -1;
	json_date(o, it);
	if (json_content(o, it) < 0)
		return -1;
	if ((a = jget(o, "authors", J_ARR)) != NULL && a->n > 0)
		s = jstr(&a->v[0], "name");
	else
		s = jstr(jget(o, "author", J_OBJ), "name");
	if (s != NULL && *s && (it->author = str_dup(s)) == NULL)
		return -1;
	if (json_tags(jget(o, "tags", J_ARR), it) < 0 ||
	    json_attachments(jget(o, "attachments", J_ARR), url, it) < 0)
		return -1;
	/* identity: id (a string, or a number as written), url, hash */
	if ((s = jstr(o, "id")) != NULL && *s)
		it->id = str_dup(s);
	else if ((v = jget(o, "id", J_NUM)) != NULL)
		it->id = str_dup(v->s);
	else if (it->link != NULL)
		it->id = str_dup(it->link);
	else
		it->id = hash_id(it);
	return it->id ? 0 : -1;
}

/*
 * JSON Feed's version is its spec's URL; some feeds (and gofeed's samples)
 * write it bare, "1.1".  A Blogger GData "1.0" document has no items array.
 */
static int
json_feed_version(const char *v)
{
	static const char *const ok[] = {"https://jsonfeed.org/version/",
	                                 "http://jsonfeed.org/version/"};
	static const char *const bare[] = {"1", "1.0", "1.1"};

	if (v == NULL)
		return 0;
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (str_has_prefix(v, ok[i]))
			return 1;
	for (size_t i = 0; i < sizeof bare / sizeof *bare; i++)
		if (strcmp(v, bare[i]) == 0)
			return 1;
	return 0;
}

static int
json_feed(const char *data, size_t len, const char *url, struct feed *f, struct err *e)
{
	struct jp p = {data, data + len, 0};
	struct jv top;
	const struct jv *items;
	const char *s;
	int rc = 0;

	memset(&top, 0, sizeof top);
	if (jp_value(&p, &top) < 0 || top.t != J_OBJ) {
		jv_free(&top);
		return err_set(e, EX_DATAERR, "not a feed: broken JSON");
	}
	s = jstr(&top, "version");
	items = jget(&top, "items", J_ARR);
	if (!json_feed_version(s) || items == NULL) {
		jv_free(&top);
		return err_set(e, EX_DATAERR, "not a feed: JSON, but not a JSON Feed");
	}
	if ((f->format = str_dup("json11")) == NULL ||
	    ((s = jstr(&top, "title")) && (f->title = str_dup(s)) == NULL) ||
	    ((s = jstr(&top, "home_page_url")) && (f->link = resolve(s, url)) == NULL) ||
	    ((s = jstr(&top, "next_url")) && (f->next = resolve(s, url)) == NULL))
		rc = err_oom(e);
	if (rc == 0 && items->n > 0) {
		size_t n = items->n < MAX_ITEMS ? items->n : MAX_ITEMS;

		if ((f->items = calloc(n, sizeof *f->items)) == NULL)
			rc = err_oom(e);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (items->v[i].t != J_OBJ)
				continue;
			if (json_item(&items->v[i], url, &f->items[f->nitems]) < 0) {
				item_free(&f->items[f->nitems]);
				rc = err_oom(e);
			} else {
				f->nitems++;
			}
		}
	}
	jv_free(&top);
	return rc;
}

/* ---- the entry point ---- */

static const char *
first_byte(const char *p, size_t n)
{
	const char *end = p + n;

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p < end ? p : NULL;
}

static int
looks_like_html(const char *p, size_t n)
{
	static const char *const starts[] = {"<!doctype html", "<html", "<head", "<body"};

	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		size_t k = strlen(starts[i]);

		if (n >= k && strncasecmp(p, starts[i], k) == 0)
			return 1;
	}
	return 0;
}

/* An HTML page that may hold a feed inside (<html><body><feed xmlns=...>): the walk looks. */
static int
holds_feed(const char *p, size_t n)
{
	static const char *const roots[] = {"<feed", "<rss", "<rdf:RDF"};

	for (size_t i = 0; i < NELEM(roots); i++) {
		const char *at = memmem(p, n, roots[i], strlen(roots[i]));
		size_t k = at ? (size_t)(at - p) + strlen(roots[i]) : n;

		if (k < n && (isspace((unsigned char)p[k]) || p[k] == '>'))
			return 1;
	}
	return 0;
}

int
feed_parse(const char *data, size_t len, const char *url, struct feed *out, struct err *e)
{
	struct buf dec = BUF_INIT;
	struct mender m;
	const char *p, *doc = data;
	char warn[256] = "";
	size_t n = len;
	int rc, json;

	memset(out, 0, sizeof *out);
	if (data == NULL || (p = first_byte(data, len)) == NULL)
		return err_set(e, EX_DATAERR, "not a feed: empty document");
	if (len > DOC_MAX)
		return err_set(e, EX_DATAERR, "not a feed: document over %u MB", DOC_MAX >> 20);
	if (looks_like_html(p, len - (size_t)(p - data)) &&
	    !holds_feed(p, len - (size_t)(p - data)))
		return err_set(e, EX_DATAERR, "not a feed: an HTML page");
	json = *p == '{' || *p == '[';
	if (*p != '<' && (unsigned char)*p < 0x80 && !json)
		return err_set(e, EX_DATAERR, "not a feed: not XML");
	if (decode(&doc, &n, &dec, warn, sizeof warn) < 0) {
		buf_free(&dec);
		return err_oom(e);
	}
	if (json) {
		rc = json_feed(doc, n, url, out, e);
		buf_free(&dec);
		if (rc == 0 && *warn && (out->warning = str_dup(warn)) == NULL)
			rc = err_oom(e);
		if (rc < 0)
			feed_free(out);
		return rc;
	}
	mender_init(&m, doc, n);
	rc = sax_parse(&m, url, out, e, warn, sizeof warn);
	mender_free(&m);
	buf_free(&dec);
	if (rc == 0 && *warn && (out->warning = str_dup(warn)) == NULL)
		rc = err_oom(e);
	if (rc < 0)
		feed_free(out);
	else
		fit_items(out);
	return rc;
}

void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nitems; i++)
		item_free(&f->items[i]);
	free(f->items);
	free(f->pack);
	free(f->format);
	free(f->title);
	free(f->link);
	free(f->warning);
	free(f->next);
	free(f->prev_archive);
	free(f->generator);
	memset(f, 0, sizeof *f);
}
