/*
 * feed: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 into struct feed (JSON Feed: jsonfeed.c).
 *
 * The document goes through three steps:
 *   1. decode (mend.c): find the real encoding and convert everything to
 *      valid UTF-8;
 *   2. mend (mend.c): rewrite entity references as ones libxml2 keeps,
 *      escape bare '&', drop control bytes, a chunk at a time;
 *   3. here: a SAX2 push parse (RECOVER, never entity expansion: the handler has no
 *      getEntity, so DTD entities, external or internal, are never expanded)
 *      that keeps only the fields an item needs.
 */
#include "feed.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "date.h"
#include "jsonfeed.h"
#include "mend.h"

#define DOC_MAX       (64u << 20)  /* bytes of document */
#define MAX_DEPTH     128          /* deeper elements are ignored */
#define MAX_FIELD     (4u << 20)   /* bytes of one captured text */
#define MAX_NESTING   8            /* items open in items: the inner ones past it are ignored */
#define CHUNK         (256u << 10) /* push-parser chunk */
#define WARN_MAX      256          /* bytes of feed.warning */
#define REF_NAME_MAX  32           /* an entity's name in a title is shorter */
#define REF_LOOKAHEAD 16           /* bytes a character reference in a title is looked for in */
#define NELEM(a)      (sizeof(a) / sizeof((a)[0]))

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
	struct mender *m; /* holds the text of markers */
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
	int dropped; /* items past FEED_ITEMS_MAX */
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

/*
 * The reference at s (an '&') decoded into b: the bytes it took, or 0 when
 * it is none (a bare '&', an unknown name).  *err set when out of memory.
 */
static size_t
title_ref(const char *s, struct buf *b, int *err)
{
	/* a reference is short: never measure the rest of the text */
	size_t k = mend_charref_len(s, strnlen(s, REF_LOOKAHEAD)), i = 1;
	char name[REF_NAME_MAX + 1];
	int cp;

	if (k > 0) {
		int hex = s[2] == 'x' || s[2] == 'X';

		*err |= mend_put_utf8(b, strtoul(s + 2 + hex, NULL, hex ? 16 : 10));
		return k;
	}
	while (isalnum((unsigned char)s[i]) && i < REF_NAME_MAX)
		i++;
	if (s[i] != ';' || i == 1)
		return 0;
	memcpy(name, s + 1, i - 1);
	name[i - 1] = '\0';
	if ((cp = mend_entity(name)) < 0)
		return 0;
	*err |= mend_put_utf8(b, (unsigned long)cp);
	return i + 1;
}

/* HTML to plain text: tags dropped, references decoded (for titles); NULL on OOM. */
static char *
html_text(const char *s)
{
	struct buf b = BUF_INIT;
	int no_gt = 0; /* no '>' left: stop looking (a title of "<a<a<a..." stays linear) */
	int err = 0;
	size_t k;

	/* buf_add of nothing terminates: the result is "" when s holds only tags */
	err = buf_grow(&b, strlen(s)) < 0 || buf_add(&b, "", 0) < 0;
	while (*s && !err) {
		if (*s == '<' && !no_gt &&
		    (isalpha((unsigned char)s[1]) || s[1] == '/' || s[1] == '!')) {
			const char *e = strchr(s, '>');

			no_gt = e == NULL;
			if (e != NULL) {
				/* block-level tags separate words; inline ones do not */
				if (breaks_words(s))
					err |= buf_addc(&b, ' ');
				s = e + 1;
				continue;
			}
		}
		if (*s == '&' && (k = title_ref(s, &b, &err)) > 0) {
			s += k;
			continue;
		}
		err |= buf_addc(&b, *s++);
	}
	if (err) {
		buf_free(&b);
		return NULL;
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
	char *e = s ? item_escaped(s) : NULL, *p;
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

	if (w->nesting >= MAX_NESTING)
		return 0; /* items in items in items...: the inner ones are ignored */
	if (w->f->nitems >= FEED_ITEMS_MAX) {
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
		it->id = item_hash_id(it);
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
		str_squeeze(v);
	return v;
}

static char *
as_html(char *s, enum kind k)
{
	char *v = k == K_TEXT ? item_escaped(s) : s;

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
		str_squeeze(v);
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
		r = item_add_tag(&d->tags, s);
	else
		for (char *t = strtok_r(s, ",", &save); t && r == 0; t = strtok_r(NULL, ",", &save))
			r = item_add_tag(&d->tags, t);
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
	if ((href = is_http(v) ? str_dup(v) : item_url(v, base)) == NULL)
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
		s = item_url(v, base);
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
			n--; /* not inside a UTF-8 sequence */
	}
	if ((escape ? buf_add_html_escaped(b, s, n, HTML_ESC_QUOT) : buf_add(b, s, n)) < 0)
		oom(w);
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
	fr->base = item_url(b, fr->base);
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

		if (*page == NULL && (*page = item_url(href, base)) == NULL)
			oom(w);
		goto out;
	}
	alt = (rel == NULL || strcmp(rel, "alternate") == 0) &&
	      (type == NULL || strstr(type, "html") != NULL);
	if (alt && !feed && w->atom && *dst != NULL && type != NULL && !w->d->link_typed) {
		/* one that says it is HTML beats an untyped one (as feedparser reads it) */
		if (item_add_link(&w->d->it, *dst, NULL, NULL, NULL) < 0)
			oom(w);
		*dst = NULL;
	}
	if (alt && *dst == NULL) {
		if ((*dst = item_url(href, base)) == NULL)
			oom(w);
		if (!feed)
			w->d->link_typed = type != NULL;
	} else if (!feed && rel != NULL && strcmp(rel, "enclosure") == 0) {
		len = attr(w, nattr, a, "length", F_OTHER);
		u = item_url(href, base);
		if (item_add_enclosure(&w->d->it, u, type, len) < 0)
			oom(w);
		type = NULL;
	} else if (!feed) {
		/* feedparser keeps every link: so does the item, for the digest to show */
		if (item_add_link(&w->d->it, item_url(href, base), rel, type,
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
		u = item_url(url, base);
	free(url);
	if (item_add_enclosure(&w->d->it, u, attr(w, nattr, a, "type", F_OTHER),
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
	if (*url != '\0' && (*dst = item_url(url, base)) == NULL)
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
	if (item_add_tag(&w->d->tags, t) < 0)
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
	const char *text;
	size_t n;

	text = mender_text(w->m, (const char *)target, (const char *)data, &n);
	if (text != NULL && n > 0)
		on_text(w, (const xmlChar *)text, (int)n);
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
		if ((more = mender_chunk(m, &chunk, CHUNK)) < 0) {
			oom(w);
			break;
		}
		xmlParseChunk(w->ctxt, chunk.data ? chunk.data : "", (int)chunk.len, !more);
		mender_trim(m);
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
		         FEED_ITEMS_MAX);
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
	struct mender *m;
	const char *p, *doc = data;
	char warn[WARN_MAX] = "";
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
	if (mend_decode(&doc, &n, &dec, warn, sizeof warn) < 0) {
		buf_free(&dec);
		return err_oom(e);
	}
	if (json) {
		rc = jsonfeed_parse(doc, n, url, out, e);
	} else if ((m = mender_new(doc, n)) == NULL) {
		rc = err_oom(e);
	} else {
		rc = sax_parse(m, url, out, e, warn, sizeof warn);
		mender_free(m);
	}
	buf_free(&dec);
	if (rc == 0 && *warn && (out->warning = str_dup(warn)) == NULL)
		rc = err_oom(e);
	if (rc < 0)
		feed_free(out);
	else if (!json)
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
