#include "htmlparse.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>

#include "swar.h"

/* NODEFDTD: no DTD node, which nothing here reads. */
#define PARSE_OPTS                                                                                 \
	(HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_RECOVER |       \
	 HTML_PARSE_NODEFDTD)

/* A valid character that is not NUL (NULs are dropped), or 0. */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
	return s[0] != 0 ? utf8_len(s, n) : 0;
}

/* How many bytes from s on are valid UTF-8 without NULs: ASCII 8 at a time. */
static size_t
utf8_valid_prefix(const unsigned char *u, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (n - i >= 8) {
			uint64_t v = swar_load(u + i);

			/* No byte with the high bit set, and none zero. */
			if ((swar_high(v) | swar_zero(v)) == 0) {
				i += 8;
				continue;
			}
		}
		if ((k = utf8_char(u + i, n - i)) == 0)
			break;
		i += k;
	}
	return i;
}

/*
 * libxml2 passes invalid UTF-8 through unchanged: give it a copy where each
 * bad byte is U+FFFD and NULs are gone.  NULL when s is fine as it is.
 */
static char *
utf8_fixed(const char *s, size_t n, size_t *outn, int *oom)
{
	const unsigned char *u = (const unsigned char *)s;
	struct buf b = BUF_INIT;
	size_t i = utf8_valid_prefix(u, n), k;

	if (i == n)
		return NULL;
	if (buf_add(&b, s, i) < 0)
		goto oom;
	while (i < n) {
		if ((k = utf8_char(u + i, n - i)) > 0) {
			if (buf_add(&b, s + i, k) < 0)
				goto oom;
			i += k;
			continue;
		}
		if (u[i] != 0 && buf_adds(&b, "\xef\xbf\xbd") < 0)
			goto oom;
		i++;
	}
	*outn = b.len;
	return buf_steal(&b);
oom:
	buf_free(&b);
	*oom = 1;
	return NULL;
}

/*
 * Tags an item may have.  libxml2's tree costs some 300 bytes a tag: an
 * item of 100,000 images took 168 MB.  Past this many tags the content is
 * cut (and says so), which keeps an item's tree near 8 MB.
 */
#define TAGS_MAX 25000
#define CUT_NOTE "[The rest of this item was cut: it has more than 25,000 tags.]"

/* The length of html up to its TAGS_MAX-th tag, or len. */
static size_t
within_tag_limit(const char *html, size_t len)
{
	const char *p = html, *end = html + len;

	for (size_t n = 0; (p = memchr(p, '<', (size_t)(end - p))) != NULL; p++)
		if (++n > TAGS_MAX)
			return (size_t)(p - html);
	return len;
}

/* Say where the content was cut, as a last paragraph. */
static void
add_cut_note(htmlDocPtr doc)
{
	xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL, body = NULL, p;

	for (xmlNodePtr c = root != NULL ? root->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "body"))
			body = c;
	if (body != NULL && (p = xmlNewDocNode(doc, NULL, BAD_CAST "p", BAD_CAST CUT_NOTE)) != NULL)
		xmlAddChild(body, p);
}

/*
 * libxml2 stops parsing an element nested past 256 levels (without
 * HTML_PARSE_HUGE, which is never used): the rest of the document is lost.
 * Where that happened is kept (plus one) in the size_t at _private, so the
 * loss is told, not silent.
 */
static void
start_element(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	htmlParserCtxtPtr c = ctx;
	const xmlParserInput *in = c->input;
	size_t at = in != NULL ? in->consumed + (size_t)(in->cur - in->base) : 0;
	size_t *halted = c->_private;

	xmlSAX2StartElement(ctx, name, atts);
	if (c->disableSAX && halted != NULL && *halted == 0)
		*halted = at + 1;
}

/* htmlReadMemory(s, n, NULL, "UTF-8", PARSE_OPTS), telling where a halt came. */
static htmlDocPtr
read_html(const char *s, int n, size_t *halted)
{
	htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt(s, n);
	xmlCharEncodingHandlerPtr utf8 = xmlFindCharEncodingHandler("UTF-8");
	htmlDocPtr doc;

	if (ctxt == NULL)
		return NULL;
	htmlCtxtUseOptions(ctxt, PARSE_OPTS);
	if (utf8 != NULL) {
		xmlSwitchToEncoding(ctxt, utf8);
		if (ctxt->input->encoding != NULL)
			xmlFree((xmlChar *)ctxt->input->encoding);
		ctxt->input->encoding = xmlStrdup((const xmlChar *)"UTF-8");
	}
	ctxt->sax->startElement = start_element;
	ctxt->_private = halted;
	htmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	htmlFreeParserCtxt(ctxt);
	return doc;
}

htmlDocPtr
htmlparse(const char *html, size_t len, struct err *e, int *failed, size_t *halted)
{
	size_t fixn = 0, whole = len;
	int oom = 0;
	char *fix;
	htmlDocPtr doc;

	*failed = 0;
	*halted = 0;
	if (len > INT_MAX) {
		*failed = 1;
		err_set(e, EX_DATAERR, "HTML too large (%zu bytes)", len);
		return NULL;
	}
	if (len == 0)
		return NULL;
	len = within_tag_limit(html, len);
	fix = utf8_fixed(html, len, &fixn, &oom);
	if (oom) {
		*failed = 1;
		err_oom(e);
		return NULL;
	}
	doc = read_html(fix ? fix : html, fix ? (int)fixn : (int)len, halted);
	/* Where it halted, in the caller's bytes (about: a fixed copy differs a little). */
	if (*halted > 0 && fix != NULL)
		*halted = *halted - 1 < len ? *halted : len;
	free(fix);
	if (len < whole)
		add_cut_note(doc);
	return doc;
}

xmlNodePtr
htmlparse_body(htmlDocPtr doc)
{
	xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

	for (xmlNodePtr c = root != NULL ? root->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "body"))
			return c;
	return NULL;
}

/*
 * Where to cut html to at most max bytes: before the last tag that starts
 * in the last 8 KB, else at a character's start.
 */
#define CUT_WINDOW 8192 /* a cut goes before a tag in the bound's last 8 KB */

size_t
htmlparse_cut_point(const char *html, size_t len, size_t max)
{
	size_t n = max, low = max > CUT_WINDOW ? max - CUT_WINDOW : 0;
	const char *lt;

	if (len <= max)
		return len;
	if ((lt = memrchr(html + low, '<', max - low)) != NULL && lt > html)
		return (size_t)(lt - html);
	while (n > 0 && ((unsigned char)html[n] & 0xc0) == 0x80)
		n--;
	return n;
}
