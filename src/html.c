#include "html.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

#include "htmlparse.h"
#include "swar.h"
#include "url.h"
#include "wrap.h"

/*
 * Deeper element nesting than this is dropped: no stack runs out on
 * garbage.  libxml2 stops parsing past 256 levels (htmlparse() says where), so
 * everything it builds is kept.
 */
#define MAX_DEPTH     260
#define IMG_STYLE     "max-width:100%;height:auto"
#define DOC_URLS_MIN  16 /* a document's first room for cleaned URLs */
#define VIDEO_ID_MAX  64 /* bytes of a player's video ID */
#define REF_SIZE      32 /* bytes of a "[N]" reference, NUL included */
#define REF_SLOTS_MIN 64 /* the reference hash's first size (a power of two) */

enum {
	F_KEEP = 1 << 0,  /* allowed in sanitised HTML */
	F_DROP = 1 << 1,  /* removed with its content (sanitised and text) */
	F_BLOCK = 1 << 2, /* text: a paragraph, blank lines around */
	F_LINE = 1 << 3,  /* text: on its own line */
	F_LIST = 1 << 4,  /* ul, ol */
	F_QUOTE = 1 << 5, /* blockquote */
	F_PRE = 1 << 6,   /* pre */
	/* How libxml2's htmlNodeDump writes a kept element (its htmlElemDesc;
	 * tests/test_html.c checks these against the libxml2 in use). */
	F_LX = 1 << 8,       /* known to htmlTagLookup */
	F_LXBLOCK = 1 << 9,  /* not inline: newlines around it */
	F_LXVOID = 1 << 10,  /* empty: no end tag */
	F_LXNOEND = 1 << 11, /* saveEndTag: no end tag when it has no children */
	/* The elements the code treats one by one. */
	F_A = 1 << 12,
	F_IMG = 1 << 13,
	F_BR = 1 << 14,
	F_LI = 1 << 15,
	F_OL = 1 << 16,
	F_CELL = 1 << 17, /* td, th */
	F_TABLE = 1 << 18,
	F_ROW = 1 << 19,   /* tr: text, one line with its cells " | " apart */
	F_VIDEO = 1 << 20, /* an embedded player: a link to what it plays */
	F_HEAD = 1 << 21,  /* h1..h6: demoted below the digest's item titles */
	/* Void in HTML5 but not to libxml2 2.9, which nests whatever follows
	 * inside them: unwrapped (the element goes, what follows stays). */
	F_VOID = 0,
	LX_I = F_LX,
	LX_B = F_LX | F_LXBLOCK,
};

/* Sorted by name for bsearch.  Elements not listed are unwrapped. */
static const struct elem {
	const char *name;
	int flags;
} elems[] = {
    {"a", F_KEEP | LX_I | F_A},
    {"abbr", F_KEEP | LX_I},
    {"address", F_BLOCK},
    {"applet", F_DROP},
    {"article", F_BLOCK},
    {"aside", F_BLOCK},
    {"audio", F_DROP},
    {"b", F_KEEP | LX_I},
    {"base", F_DROP},
    {"blockquote", F_KEEP | F_BLOCK | F_QUOTE | LX_B},
    {"br", F_KEEP | LX_I | F_LXVOID | F_BR},
    {"button", F_DROP},
    {"canvas", F_DROP},
    {"caption", F_KEEP | F_LINE | LX_B},
    {"center", F_BLOCK},
    {"cite", F_KEEP | LX_I},
    {"code", F_KEEP | LX_I},
    {"dd", F_KEEP | F_LINE | LX_B},
    {"del", F_KEEP | LX_I},
    {"details", F_BLOCK},
    {"dialog", F_DROP},
    {"div", F_KEEP | F_BLOCK | LX_B},
    {"dl", F_KEEP | F_BLOCK | LX_B},
    {"dt", F_KEEP | F_LINE | LX_B},
    {"em", F_KEEP | LX_I},
    {"embed", F_VIDEO},
    {"figcaption", F_KEEP | F_LINE},
    {"figure", F_KEEP | F_BLOCK},
    {"footer", F_BLOCK},
    {"form", F_DROP},
    {"frame", F_DROP},
    {"frameset", F_DROP},
    {"h1", F_KEEP | F_BLOCK | LX_B | F_HEAD},
    {"h2", F_KEEP | F_BLOCK | LX_B | F_HEAD},
    {"h3", F_KEEP | F_BLOCK | LX_B | F_HEAD},
    {"h4", F_KEEP | F_BLOCK | LX_B | F_HEAD},
    {"h5", F_KEEP | F_BLOCK | LX_B | F_HEAD},
    {"h6", F_KEEP | F_BLOCK | LX_B | F_HEAD},
    {"head", F_DROP},
    {"header", F_BLOCK},
    {"hr", F_KEEP | F_BLOCK | LX_B | F_LXVOID},
    {"i", F_KEEP | LX_I},
    {"iframe", F_VIDEO},
    {"img", F_KEEP | LX_I | F_LXVOID | F_IMG},
    {"input", F_DROP},
    {"ins", F_KEEP | LX_I},
    {"kbd", F_KEEP | LX_I},
    {"li", F_KEEP | F_LINE | LX_B | F_LXNOEND | F_LI},
    {"link", F_DROP},
    {"main", F_BLOCK},
    {"math", F_DROP},
    {"meta", F_DROP},
    {"nav", F_BLOCK},
    {"noembed", F_DROP},
    {"noframes", F_DROP},
    {"noscript", F_DROP},
    {"object", F_VIDEO},
    {"ol", F_KEEP | F_BLOCK | F_LIST | LX_B | F_OL},
    {"option", F_DROP},
    {"p", F_KEEP | F_BLOCK | LX_B},
    {"param", F_DROP},
    {"pre", F_KEEP | F_BLOCK | F_PRE | LX_B},
    {"q", F_KEEP | LX_I},
    {"s", F_KEEP | LX_I},
    {"script", F_DROP},
    {"section", F_BLOCK},
    {"select", F_DROP},
    {"small", F_KEEP | LX_I},
    {"source", F_VOID},
    {"span", F_KEEP | LX_I},
    {"strong", F_KEEP | LX_I},
    {"style", F_DROP},
    {"sub", F_KEEP | LX_I},
    {"summary", F_LINE},
    {"sup", F_KEEP | LX_I},
    {"svg", F_DROP},
    {"table", F_KEEP | F_BLOCK | LX_B | F_TABLE},
    {"tbody", F_KEEP | LX_B},
    {"td", F_KEEP | F_LINE | LX_B | F_CELL},
    {"template", F_DROP},
    {"textarea", F_DROP},
    {"tfoot", F_KEEP | LX_B},
    {"th", F_KEEP | F_LINE | LX_B | F_CELL},
    {"thead", F_KEEP | LX_B},
    {"title", F_DROP},
    {"tr", F_KEEP | F_LINE | LX_B | F_ROW},
    {"track", F_VOID},
    {"u", F_KEEP | LX_I},
    {"ul", F_KEEP | F_BLOCK | F_LIST | LX_B},
    {"video", F_VIDEO},
};

/* The element's flags: a binary search over short names, compared inline. */
static int
elem_flags(const xmlNode *n)
{
	const unsigned char *k = n->name;
	size_t lo = 0, hi = sizeof elems / sizeof elems[0];

	if (k == NULL)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const unsigned char *e = (const unsigned char *)elems[mid].name;
		size_t i = 0;
		int d;

		while (k[i] == e[i] && k[i] != '\0')
			i++;
		d = k[i] - e[i];
		if (d == 0)
			return elems[mid].flags;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int
is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/*
 * buf_add with the common case (it fits) inline: the renderers append a few
 * bytes at a time, millions of times in a big run.
 */
static inline int
add(struct buf *b, const char *p, size_t n)
{
	if (b->data == NULL || b->cap - b->len <= n)
		return buf_add(b, p, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* ---- one document's URLs ---- */

/*
 * What the two renderings of one document share.  Its base made ready
 * once, and each link's and image's URL cleaned once for both parts: a
 * node's cleaned URL is kept in its _private (url_none when it has none),
 * the strings here.
 */
struct doc {
	const char *base;
	char *pbase; /* url_prepare(base), or NULL */
	int ready;   /* pbase is set */
	char **v;
	size_t n, cap;
	int oom;
};

static const char url_none[] = "";

static void
doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	free(d->pbase);
}

/*
 * An attribute's value as xmlGetProp gives it ("" when it has none), but
 * without a copy when it is one text node; *tofree is the copy otherwise.
 */
static const char *
attr_value(const xmlAttr *a, xmlChar **tofree)
{
	const xmlNode *c = a->children;

	*tofree = NULL;
	if (c == NULL)
		return "";
	if (c->next == NULL && (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE))
		return c->content != NULL ? (const char *)c->content : "";
	*tofree = xmlNodeListGetString(a->doc, a->children, 1);
	return *tofree != NULL ? (const char *)*tofree : "";
}

/* The value of n's attribute name, or NULL if it has none (see attr_value). */
static const char *
prop(const xmlNode *n, const char *name, xmlChar **tofree)
{
	*tofree = NULL;
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, name) == 0)
			return attr_value(a, tofree);
	return NULL;
}

/* A 0 or 1 pixel wide or high image (as written, "1px" too) is a tracker. */
static int
img_pixel(const xmlNode *n)
{
	static const char *const dims[] = {"width", "height"};
	int bad = 0;

	for (size_t i = 0; i < 2 && !bad; i++) {
		xmlChar *tofree;
		const char *s = prop(n, dims[i], &tofree);

		if (s != NULL) {
			while (*s == ' ')
				s++;
			bad = *s >= '0' && *s <= '9' && strtol(s, NULL, 10) <= 1;
		}
		xmlFree(tofree);
	}
	return bad;
}

/*
 * The cleaned URL of an a (its href) or an img (where the image may be
 * shown from, in either part: http(s) only, never a pixel or a tracker),
 * or NULL.  Owned by d.
 */
/* Keep url (may be NULL) with the document's strings; NULL if out of memory. */
static const char *
doc_keep(struct doc *d, char *url)
{
	if (url != NULL && d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : DOC_URLS_MIN;
		char **v = realloc(d->v, cap * sizeof *v);

		if (v == NULL) {
			free(url);
			d->oom = 1;
			return NULL;
		}
		d->v = v;
		d->cap = cap;
	}
	if (url != NULL)
		d->v[d->n++] = url;
	return url;
}

static void
doc_ready(struct doc *d)
{
	if (!d->ready) {
		d->pbase = d->base != NULL && *d->base != '\0' ? url_prepare(d->base) : NULL;
		d->ready = 1;
	}
}

static const char *
node_url(struct doc *d, xmlNodePtr n, int img)
{
	xmlChar *tofree = NULL;
	const char *raw;
	char *url = NULL;

	if (n->_private != NULL)
		return n->_private != url_none ? n->_private : NULL;
	doc_ready(d);
	if (img) {
		if (!img_pixel(n) && (raw = prop(n, "src", &tofree)) != NULL &&
		    (url = url_clean_prepared(raw, d->pbase)) != NULL &&
		    (str_has_prefix(url, "mailto:") || url_tracker_host(url))) {
			free(url);
			url = NULL;
		}
	} else if ((raw = prop(n, "href", &tofree)) != NULL) {
		url = url_clean_prepared(raw, d->pbase);
	}
	xmlFree(tofree);
	url = (char *)doc_keep(d, url);
	n->_private = url != NULL ? url : (void *)url_none;
	return url;
}

/* ---- embedded players ---- */

/*
 * Players whose embed URL names the video: the page to watch it on (the
 * ID appended) and a thumbnail ("%s": the ID), or NULL.  Matched after
 * the scheme, case-insensitively.
 */
static const struct player {
	const char *embed;
	const char *watch;
	const char *thumb;
} players[] = {
    {"www.youtube.com/embed/",
     "https://www.youtube.com/watch?v=", "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"youtube.com/embed/",
     "https://www.youtube.com/watch?v=", "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"m.youtube.com/embed/",
     "https://www.youtube.com/watch?v=", "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"www.youtube-nocookie.com/embed/",
     "https://www.youtube.com/watch?v=", "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"youtube-nocookie.com/embed/",
     "https://www.youtube.com/watch?v=", "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"www.youtube.com/v/",
     "https://www.youtube.com/watch?v=", "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"www.youtube.com/watch?v=", "https://www.youtube.com/watch?v=",
     "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"youtu.be/", "https://www.youtube.com/watch?v=", "https://i.ytimg.com/vi/%s/hqdefault.jpg"},
    {"player.vimeo.com/video/", "https://vimeo.com/", NULL},
    {"www.dailymotion.com/embed/video/", "https://www.dailymotion.com/video/",
     "https://www.dailymotion.com/thumbnail/video/%s"},
    {"geo.dailymotion.com/player.html?video=", "https://www.dailymotion.com/video/",
     "https://www.dailymotion.com/thumbnail/video/%s"},
};

/* Hosts that only play video: their embeds are "[video]" as they are. */
static const char *const video_hosts[] = {
    "archive.org/embed/",
    "embed.ted.com/",
    "player.bilibili.com/",
    "player.twitch.tv/",
    "rumble.com/embed/",
    "streamable.com/",
    "www.facebook.com/plugins/video",
    "www.tiktok.com/embed/",
    "www.youtube.com/",
    "www.youtube-nocookie.com/",
};

/* What an embedded player shows, as a link: "[video]" or "[embed]", and where. */
struct video {
	const char *label;
	const char *url;
	const char *thumb; /* or NULL */
};

/* 1 if the video ID at s is one (letters, digits, - and _) ending the path. */
static size_t
video_id(const char *s)
{
	size_t n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	       (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_')
		n++;
	return n > 0 && n <= VIDEO_ID_MAX && strchr("?#&/", s[n]) != NULL ? n : 0;
}

/* A known player's embed URL made its watch URL and thumbnail; 0 if not known. */
static int
video_known(struct doc *d, const char *url, struct video *v)
{
	const char *rest = strstr(url, "://");

	if (rest == NULL)
		return 0;
	rest += 3;
	for (size_t i = 0; i < sizeof players / sizeof players[0]; i++) {
		const struct player *p = &players[i];
		size_t pl = strlen(p->embed), idn;
		char id[VIDEO_ID_MAX + 1];

		/* A playlist ("videoseries?list=") names no one video. */
		if (strncasecmp(rest, p->embed, pl) != 0 || (idn = video_id(rest + pl)) == 0 ||
		    strncmp(rest + pl, "videoseries", idn) == 0)
			continue;
		memcpy(id, rest + pl, idn);
		id[idn] = '\0';
		v->label = "[video]";
		v->url = doc_keep(d, str_printf("%s%s", p->watch, id));
		v->thumb = p->thumb != NULL ? doc_keep(d, str_printf(p->thumb, id)) : NULL;
		return v->url != NULL;
	}
	for (size_t i = 0; i < sizeof video_hosts / sizeof video_hosts[0]; i++)
		if (strncasecmp(rest, video_hosts[i], strlen(video_hosts[i])) == 0) {
			v->label = "[video]";
			return 1;
		}
	return 0;
}

/*
 * Where a player loads from: src, else what lazy loaders keep until the
 * page scrolls to it (WordPress and others leave src empty or
 * "about:blank" then).
 */
static const char *
player_src(const xmlNode *n, xmlChar **tofree)
{
	static const char *const names[] = {"src", "data-src", "data-lazy-src"};
	const char *raw = NULL;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		xmlFree(*tofree);
		raw = prop(n, names[i], tofree);
		if (raw != NULL && !str_empty(raw) && strncasecmp(raw, "about:", 6) != 0)
			return raw;
	}
	return NULL;
}

/* The source of a video element: its src, else its first source's. */
static const char *
video_src(const xmlNode *n, xmlChar **tofree)
{
	const char *raw = prop(n, "src", tofree);

	for (const xmlNode *c = n->children; raw == NULL && c != NULL; c = c->next)
		if (is_elem(c, "source"))
			raw = prop(c, "src", tofree);
	return raw;
}

/*
 * What an iframe, embed, object or video plays, as a link to watch it: 0
 * if it has no http(s) URL.  Known players' embed URLs become their watch
 * pages, with a thumbnail where the URL gives one (a video's poster).
 */
static int
video_of(struct doc *d, const xmlNode *n, struct video *v)
{
	xmlChar *tofree = NULL, *tofree2 = NULL;
	int is_video = is_elem(n, "video");
	const char *raw = is_video               ? video_src(n, &tofree)
	                  : is_elem(n, "object") ? prop(n, "data", &tofree)
	                                         : player_src(n, &tofree);
	char *url;

	doc_ready(d);
	url = raw != NULL ? url_clean_prepared(raw, d->pbase) : NULL;
	xmlFree(tofree);
	*v = (struct video){.label = is_video ? "[video]" : "[embed]"};
	if (url == NULL || str_has_prefix(url, "mailto:")) {
		free(url);
		return 0;
	}
	if ((v->url = doc_keep(d, url)) == NULL)
		return 0;
	if (video_known(d, v->url, v))
		return 1;
	if (is_video && (raw = prop(n, "poster", &tofree2)) != NULL &&
	    (url = url_clean_prepared(raw, d->pbase)) != NULL) {
		if (str_has_prefix(url, "mailto:"))
			free(url);
		else
			v->thumb = doc_keep(d, url);
	}
	xmlFree(tofree2);
	return v->url != NULL;
}

/* ---- sanitising ---- */

static void
drop(xmlNodePtr n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

static int
digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

enum { A_DROP, A_KEEP, A_URL, A_SIZE, A_SPAN };

/* What becomes of an attribute, by name. */
static int
attr_kind(const char *name)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
	    {"alt", A_KEEP},     {"colspan", A_SPAN}, {"height", A_SIZE}, {"href", A_URL},
	    {"rowspan", A_SPAN}, {"src", A_URL},      {"title", A_KEEP},  {"width", A_SIZE},
	};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (name[0] == kinds[i].name[0] && strcmp(name, kinds[i].name) == 0)
			return kinds[i].kind;
	return A_DROP;
}

/*
 * 1 if the attribute may stay.  URLs are not kept in place: the node's
 * cleaned URL is written after the others (ser_node).
 */
static int
attr_ok(int flags, const xmlAttr *a)
{
	xmlChar *tofree;
	int kind, keep;

	if (a->ns != NULL)
		return 0;
	kind = attr_kind((const char *)a->name);
	if (kind == A_KEEP)
		return 1;
	if (kind == A_DROP || kind == A_URL)
		return 0;
	if (!(flags & (kind == A_SIZE ? F_IMG | F_CELL | F_TABLE : F_CELL)))
		return 0;
	keep = digits(attr_value(a, &tofree));
	xmlFree(tofree);
	return keep;
}

static void san_children(xmlNodePtr parent, struct doc *d, int depth);

/* A new element whose cleaned URL (href or src) is url. */
static xmlNodePtr
new_linked(xmlNodePtr parent, const char *name, const char *url)
{
	xmlNodePtr e = xmlNewDocNode(parent->doc, NULL, (const xmlChar *)name, NULL);

	if (e == NULL)
		return NULL;
	e->_private = (void *)url;
	xmlAddChild(parent, e);
	return e;
}

/*
 * An embedded player becomes what it plays, linked: a thumbnail where one
 * is known, then "[video] URL" (a div in its place, whose links the
 * serialiser writes from their _private as it does any).
 */
static void
san_video(xmlNodePtr n, struct doc *d, int depth)
{
	struct video v;
	xmlNodePtr div, a, img;
	char *text;

	/*
	 * libxml2 2.9 nests what follows a (void) embed inside it: that stays,
	 * before the link (after it, a text node would merge with the next one,
	 * which san_children holds).
	 */
	if (is_elem(n, "embed")) {
		san_children(n, d, depth + 1);
		while (n->children != NULL) {
			xmlNodePtr c = n->children;

			xmlUnlinkNode(c);
			xmlAddPrevSibling(n, c);
		}
	}
	if (!video_of(d, n, &v) ||
	    (div = xmlNewDocNode(n->doc, NULL, (const xmlChar *)"div", NULL)) == NULL) {
		drop(n);
		return;
	}
	xmlReplaceNode(n, div);
	xmlFreeNode(n);
	if (v.thumb != NULL && (a = new_linked(div, "a", v.url)) != NULL &&
	    (img = new_linked(a, "img", v.thumb)) != NULL) {
		xmlNewProp(img, (const xmlChar *)"alt", (const xmlChar *)v.label);
		xmlAddChild(div, xmlNewDocNode(div->doc, NULL, (const xmlChar *)"br", NULL));
	}
	if ((text = str_printf("%s %s", v.label, v.url)) == NULL ||
	    (a = new_linked(div, "a", v.url)) == NULL)
		d->oom = 1;
	else
		xmlAddChild(a, xmlNewDocText(div->doc, (const xmlChar *)text));
	free(text);
}

/*
 * Headings inside an item sit below the digest's item title (h3 in the
 * default template): h1 and h2 become h4, h3 h5, the rest h6.
 */
static void
san_heading(xmlNodePtr n)
{
	static const char *const demoted[] = {"h4", "h4", "h5", "h6", "h6", "h6"};
	unsigned level = (unsigned)(n->name[1] - '1');

	if (level < 6)
		xmlNodeSetName(n, (const xmlChar *)demoted[level]);
}

static void
san_node(xmlNodePtr n, struct doc *d, int depth)
{
	const char *url = NULL;
	int flags;

	if (n->type == XML_TEXT_NODE)
		return;
	if (n->type != XML_ELEMENT_NODE || depth > MAX_DEPTH ||
	    ((flags = elem_flags(n)) & F_DROP)) {
		drop(n);
		return;
	}
	if (flags & F_VIDEO) {
		san_video(n, d, depth);
		return;
	}
	san_children(n, d, depth + 1);
	if (flags & F_HEAD)
		san_heading(n);
	if (!(flags & F_KEEP)) {
		/* Unknown element: keep its (already clean) children in its place. */
		while (n->children != NULL) {
			xmlNodePtr c = n->children;

			xmlUnlinkNode(c);
			xmlAddPrevSibling(n, c);
		}
		drop(n);
		return;
	}
	if (flags & (F_IMG | F_A))
		url = node_url(d, n, flags & F_IMG);
	if ((flags & F_IMG) && url == NULL) {
		drop(n);
		return;
	}
	/* Attributes are left as they are: ser_node writes those attr_ok
	 * allows, then the cleaned URL kept in n->_private (and an image's
	 * style), where xmlSetProp would have put them. */
}

static void
san_children(xmlNodePtr parent, struct doc *d, int depth)
{
	xmlNodePtr c, next;

	for (c = parent->children; c != NULL; c = next) {
		next = c->next;
		san_node(c, d, depth);
	}
}

/* ---- serialising ---- */

/*
 * The sanitised body written as libxml2 2.9's htmlNodeDump writes it (the
 * output is compared byte for byte with it), without its per-node lookups
 * and copies.  The tree holds only kept elements and text by now.
 */
struct ser {
	struct buf *out;
	struct doc *doc;
	int oom;
	struct buf val; /* an attribute value, escaped */
	struct buf url; /* ... and escaped as a URL */
};

static inline void
ser_add(struct ser *s, const char *p, size_t n)
{
	if (add(s->out, p, n) < 0)
		s->oom = 1;
}

/*
 * Per byte, what xmlEncodeEntitiesReentrant does in an HTML document:
 * copy (0), escape (1: <, >, &) or drop (2: control characters other than
 * tab, newline and carriage return).  Not util's buf_add_html_escaped:
 * this one drops control characters and copies libxml2's serialiser byte
 * for byte (the golden digests hold it to that).
 */
static const unsigned char esc_class[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
};

/*
 * Text escaped as libxml2 does; in an attribute (attr) it also keeps
 * "<!--...-->" and "&{...}" as they are.
 */
static void
ser_escape(struct ser *s, const char *p, int attr)
{
	const unsigned char *u = (const unsigned char *)p, *stop = u + strlen(p);

	for (;;) {
		const unsigned char *run = u;

		for (;;) {
			while (stop - u >= 8) {
				uint64_t v = swar_load(u), m = swar_below(v, 0x20) |
				                               swar_eq(v, '<') | swar_eq(v, '>') |
				                               swar_eq(v, '&');

				if (m != 0) {
					u += swar_first(m);
					break;
				}
				u += 8;
			}
			if (u == stop || esc_class[*u] != 0)
				break;
			u++;
		}
		if (u > run)
			ser_add(s, (const char *)run, u - run);
		if (u == stop)
			return;
		/*
		 * libxml2's serialiser leaves "<!--...-->" and "&{...}" in attribute
		 * values as they are (SSI and old JavaScript entities); feed text
		 * must not reach the mail as markup, so ours escapes them too.
		 */
		if (*u == '<')
			ser_add(s, "&lt;", 4);
		else if (*u == '>')
			ser_add(s, "&gt;", 4);
		else if (*u == '&')
			ser_add(s, "&amp;", 5);
		u++;
	}
}

/* Bytes xmlURIEscapeStr leaves alone in href and src: unreserved and "@/:=?;#%&,+<>". */
static const unsigned char uri_keep[256] = {
    ['a'] = 1, 1,         1,         1,         1,          1,         1,         1,
    1,         1,         1,         1,         1,          1,         1,         1,
    1,         1,         1,         1,         1,          1,         1,         1,
    1,         1,         ['A'] = 1, 1,         1,          1,         1,         1,
    1,         1,         1,         1,         1,          1,         1,         1,
    1,         1,         1,         1,         1,          1,         1,         1,
    1,         1,         1,         1,         ['0'] = 1,  1,         1,         1,
    1,         1,         1,         1,         1,          1,         ['-'] = 1, ['_'] = 1,
    ['.'] = 1, ['!'] = 1, ['~'] = 1, ['*'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1, ['@'] = 1,
    ['/'] = 1, [':'] = 1, ['='] = 1, ['?'] = 1, [';'] = 1,  ['#'] = 1, ['%'] = 1, ['&'] = 1,
    [','] = 1, ['+'] = 1, ['<'] = 1, ['>'] = 1,
};

/* An attribute value quoted as xmlBufWriteQuotedString does. */
static void
ser_quoted(struct ser *s, const char *v, size_t n)
{
	const char *q = memchr(v, '"', n);

	if (q == NULL || memchr(v, '\'', n) == NULL) {
		ser_add(s, q == NULL ? "\"" : "'", 1);
		ser_add(s, v, n);
		ser_add(s, q == NULL ? "\"" : "'", 1);
		return;
	}
	ser_add(s, "\"", 1);
	for (const char *p = v, *end = v + n; p < end; p = q + 1) {
		if ((q = memchr(p, '"', end - p)) == NULL)
			q = end;
		ser_add(s, p, q - p);
		if (q < end)
			ser_add(s, "&quot;", 6);
	}
	ser_add(s, "\"", 1);
}

/* " name=VALUE", the value escaped already in s->val. */
static void
ser_value(struct ser *s, const char *name)
{
	struct buf *v = &s->val, *u = &s->url;
	const unsigned char *p, *end;

	if (buf_add(v, "", 0) < 0) {
		s->oom = 1;
		return;
	}
	ser_add(s, " ", 1);
	ser_add(s, name, strlen(name));
	ser_add(s, "=", 1);
	if (strcmp(name, "href") != 0 && strcmp(name, "src") != 0) {
		ser_quoted(s, v->data, v->len);
		return;
	}
	/* URLs: leading blanks skipped, then escaped as xmlURIEscapeStr does. */
	buf_reset(u);
	p = (const unsigned char *)v->data + strspn(v->data, " \t\n\r");
	end = (const unsigned char *)v->data + v->len;
	while (p < end) {
		const unsigned char *run = p;
		char hex[3] = {'%', 0, 0};

		while (p < end && uri_keep[*p])
			p++;
		if (p > run && buf_add(u, run, p - run) < 0)
			s->oom = 1;
		if (p == end)
			break;
		hex[1] = "0123456789ABCDEF"[*p >> 4];
		hex[2] = "0123456789ABCDEF"[*p & 15];
		if (buf_add(u, hex, 3) < 0)
			s->oom = 1;
		p++;
	}
	if (!s->oom)
		ser_quoted(s, u->len > 0 ? u->data : "", u->len);
}

static void
ser_attr(struct ser *s, const xmlAttr *a)
{
	struct ser v = {.out = &s->val};

	if (a->children == NULL) {
		ser_add(s, " ", 1);
		ser_add(s, (const char *)a->name, strlen((const char *)a->name));
		return;
	}
	buf_reset(&s->val);
	for (const xmlNode *c = a->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
		    c->content != NULL)
			ser_escape(&v, (const char *)c->content, 1);
	s->oom |= v.oom;
	ser_value(s, (const char *)a->name);
}

/*
 * An attribute the sanitiser adds (as xmlSetProp would: one text node, at
 * the end): the cleaned URL of an a or img, and an image's style.
 */
static void
ser_attr_str(struct ser *s, const char *name, const char *value)
{
	struct ser v = {.out = &s->val};

	buf_reset(&s->val);
	ser_escape(&v, value, 1);
	s->oom |= v.oom;
	ser_value(s, name);
}

/* libxml2's formatting: a newline after a block element followed by one. */
static int
ser_nl_after(const xmlNode *n, int flags)
{
	return (flags & F_LXBLOCK) && n->next != NULL && n->next->type != XML_TEXT_NODE &&
	       n->next->type != XML_ENTITY_REF_NODE && n->parent != NULL &&
	       n->parent->name != NULL && n->parent->name[0] != 'p';
}

/* ... and inside one whose children are not a lone node or text-bounded. */
static int
ser_nl_inside(const xmlNode *n, const xmlNode *edge, int flags)
{
	return (flags & F_LXBLOCK) && edge->type != XML_TEXT_NODE &&
	       edge->type != XML_ENTITY_REF_NODE && n->children != n->last && n->name[0] != 'p';
}

static void
ser_node(struct ser *s, const xmlNode *n)
{
	const char *name = (const char *)n->name;
	size_t nlen;
	int flags;

	if (n->type == XML_TEXT_NODE) {
		if (n->content != NULL)
			ser_escape(s, (const char *)n->content, 0);
		return;
	}
	if (n->type != XML_ELEMENT_NODE)
		return;
	flags = elem_flags(n);
	nlen = strlen(name);
	ser_add(s, "<", 1);
	ser_add(s, name, nlen);
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (attr_ok(flags, a))
			ser_attr(s, a);
	if ((flags & (F_A | F_IMG)) && n->_private != NULL && n->_private != url_none) {
		ser_attr_str(s, flags & F_IMG ? "src" : "href", n->_private);
		if (flags & F_IMG)
			ser_attr_str(s, "style", IMG_STYLE);
	}
	if (flags & F_LXVOID) {
		ser_add(s, ">", 1);
	} else if (n->children == NULL) {
		if (flags & F_LXNOEND) {
			ser_add(s, ">", 1);
		} else {
			ser_add(s, "></", 3);
			ser_add(s, name, nlen);
			ser_add(s, ">", 1);
		}
	} else {
		ser_add(s, ">", 1);
		if (ser_nl_inside(n, n->children, flags))
			ser_add(s, "\n", 1);
		for (const xmlNode *c = n->children; c != NULL && !s->oom; c = c->next)
			ser_node(s, c);
		if (ser_nl_inside(n, n->last, flags))
			ser_add(s, "\n", 1);
		ser_add(s, "</", 2);
		ser_add(s, name, nlen);
		ser_add(s, ">", 1);
	}
	if (ser_nl_after(n, flags))
		ser_add(s, "\n", 1);
}

/* Sanitise the body of doc in place and append it, serialised, to out. */
static int
sanitize_doc(htmlDocPtr doc, struct doc *d, struct buf *out, struct err *e)
{
	xmlNodePtr body = htmlparse_body(doc);
	struct ser s = {.out = out, .doc = d};

	if (buf_add(out, "", 0) < 0)
		return err_oom(e);
	if (body == NULL)
		return 0;
	san_children(body, d, 0);
	for (xmlNodePtr c = body->children; c != NULL && !s.oom; c = c->next)
		ser_node(&s, c);
	buf_free(&s.val);
	buf_free(&s.url);
	return s.oom || d->oom ? err_oom(e) : 0;
}

/* ---- HTML to text ---- */

#define MAX_LISTS  32
#define MAX_INDENT 40 /* deeper quotes and lists stop moving right */

struct tx {
	struct wrap_lines l;
	struct buf para;     /* inline text of the paragraph being built */
	struct buf first;    /* the prefix of a paragraph's first line */
	int space;           /* a space is due before the next word */
	int blank;           /* a blank line is due before the next paragraph */
	struct buf indent;   /* "> " per quote, spaces per list level */
	char marker[16];     /* list marker for the next line */
	int list[MAX_LISTS]; /* per open list: next number, or 0 for ul */
	int nlist;
	struct doc *doc;
	int width;
	struct strv *links;
	size_t links0;
	int first_ref;
	size_t *ref_slot; /* this item's references by hash: index in links + 1, or 0 */
	size_t ref_cap;   /* a power of two, or 0 */
	int in_link;
	int link_broken; /* the link's paragraph was flushed inside it */
	size_t link_start;
	const char *link_url;
	int cells; /* cells so far in the table row being written */
	int oom;
};

static void
tx_add(struct tx *t, const char *s, size_t n)
{
	if (add(&t->para, s, n) < 0)
		t->oom = 1;
}

/* Inline text: a word, after a space if one is due and the paragraph has begun. */
static void
tx_word(struct tx *t, const char *s, size_t n)
{
	if (t->space && t->para.len > 0 && t->para.data[t->para.len - 1] != '\n')
		tx_add(t, " ", 1);
	t->space = 0;
	tx_add(t, s, n);
}

/* Bytes that end a word in tx_text: white space (1), 0xc2 (2, NBSP's lead byte), NUL (3). */
static const unsigned char word_end[256] = {
    3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, [' '] = 1, [0xc2] = 2,
};

/* Inline text: white space (NBSP included) collapses to one space. */
static void
tx_text(struct tx *t, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		const unsigned char *w = u;

		/*
		 * A run of words one space apart is added as it is: the
		 * same as word by word.  0xc2 starts a character unless it
		 * is NBSP (or the last byte).
		 */
		for (;;) {
			if (word_end[*w] == 0)
				w++;
			else if (*w == 0xc2 && w[1] != 0xa0 && w[1] != '\0')
				w += 2;
			else if (*w == ' ' && w > u && word_end[w[1]] == 0)
				w += 2;
			else
				break;
		}
		if (w > u) {
			tx_word(t, (const char *)u, w - u);
			u = w;
		} else if (*u == 0xc2 && u[1] != 0xa0) {
			/* A lone lead byte at the end. */
			tx_word(t, (const char *)u, 1);
			u++;
		} else {
			t->space = 1;
			u += *u == 0xc2 ? 2 : 1;
		}
	}
}

/* The indentation with the list marker in place of its end, for a first line. */
static void
first_prefix(struct tx *t, struct buf *b)
{
	size_t ml = strlen(t->marker), il = t->indent.len;

	buf_reset(b);
	if (ml == 0 || ml > il) {
		if (buf_add(b, buf_str(&t->indent), il) < 0)
			t->oom = 1;
	} else if (buf_add(b, buf_str(&t->indent), il - ml) < 0 || buf_add(b, t->marker, ml) < 0) {
		t->oom = 1;
	}
}

static void
tx_emit_blank(struct tx *t)
{
	if (t->blank && t->l.n > 0 && !t->l.last_empty)
		wrap_put_line(&t->l, buf_str(&t->indent), t->indent.len, "", 0);
	t->blank = 0;
}

/* Write the paragraph built so far, wrapped; hard breaks (br) kept. */
static void
tx_flush(struct tx *t)
{
	const char *s = buf_str(&t->para), *first;
	size_t n = t->para.len, flen;
	int newlines = 0;

	t->space = 0;
	if (t->in_link)
		t->link_broken = 1;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\n'))
		s++, n--;
	if (n == 0) {
		buf_reset(&t->para);
		return;
	}
	tx_emit_blank(t);
	first_prefix(t, &t->first);
	if (t->oom)
		return;
	first = buf_str(&t->first);
	flen = t->first.len;
	t->marker[0] = '\0';
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t k = nl != NULL ? (size_t)(nl - s) : n;

		if (k == 0) {
			/* At most one empty line from a run of <br>. */
			if (newlines++ == 0)
				wrap_put_line(&t->l, buf_str(&t->indent), t->indent.len, "", 0);
		} else {
			wrap_line(&t->l, s, k, first, flen, buf_str(&t->indent), t->indent.len,
			          t->width);
			newlines = 0;
			first = buf_str(&t->indent);
			flen = t->indent.len;
		}
		s += k;
		n -= k;
		if (n > 0) {
			s++;
			n--;
		}
	}
	buf_reset(&t->para);
}

static size_t *ref_slot(const struct tx *t, const char *url);
static int ref_reserve(struct tx *t);

/*
 * "[N]", url's number among this item's references (the same for a
 * repeat), written into ref (REF_SIZE bytes); NULL when out of memory.
 */
static const char *
ref_mark(struct tx *t, const char *url, char *ref)
{
	char *p = ref + REF_SIZE;
	size_t idx, num, *slot;

	if (ref_reserve(t) < 0) {
		t->oom = 1;
		return NULL;
	}
	slot = ref_slot(t, url);
	if (*slot != 0) {
		idx = *slot - 1;
	} else {
		if (strv_push(t->links, url) < 0) {
			t->oom = 1;
			return NULL;
		}
		idx = t->links->n - 1;
		*slot = idx + 1;
	}
	num = (size_t)t->first_ref + idx - t->links0;
	*--p = '\0';
	*--p = ']';
	do
		*--p = '0' + num % 10;
	while ((num /= 10) > 0);
	*--p = '[';
	return p;
}

static int same_url(const char *text, const char *url, const char *href);

/* A link in a pre keeps its reference, " [N]" after its text, unless that is its URL. */
static void
pre_link(struct tx *t, struct buf *b, xmlNodePtr a, size_t start)
{
	const char *url = node_url(t->doc, a, 0), *mark;
	char ref[REF_SIZE], *text;

	if (url == NULL || b->len == start)
		return;
	if ((text = str_ndup(b->data + start, b->len - start)) == NULL) {
		t->oom = 1;
		return;
	}
	if (!same_url(str_trim(text), url, NULL) && (mark = ref_mark(t, url, ref)) != NULL &&
	    (buf_addc(b, ' ') < 0 || buf_adds(b, mark) < 0))
		t->oom = 1;
	free(text);
}

/* The text of a pre, br as a newline, dropped elements left out. */
static void
pre_text(struct tx *t, struct buf *b, xmlNodePtr n, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (buf_adds(b, (const char *)c->content) < 0)
				t->oom = 1;
		} else if (c->type == XML_ELEMENT_NODE) {
			int flags = elem_flags(c);
			size_t start = b->len;

			if ((flags & F_BR) && buf_addc(b, '\n') < 0)
				t->oom = 1;
			else if (!(flags & (F_BR | F_DROP | F_VIDEO)))
				pre_text(t, b, c, depth + 1);
			if ((flags & F_A) && !t->in_link)
				pre_link(t, b, c, start);
		}
	}
}

static void
tx_pre(struct tx *t, xmlNodePtr n, int depth)
{
	struct buf b = BUF_INIT;
	const char *s;
	size_t len;

	tx_flush(t);
	pre_text(t, &b, n, depth);
	s = buf_str(&b);
	len = b.len;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len > 0)
		tx_emit_blank(t);
	while (len > 0) {
		size_t w = strcspn(s, "\n");

		if (w > len)
			w = len;
		wrap_put_line(&t->l, buf_str(&t->indent), t->indent.len, s,
		              w > 0 && s[w - 1] == '\r' ? w - 1 : w);
		s += w;
		len -= w;
		if (len > 0)
			s++, len--;
	}
	buf_free(&b);
}

/* Link text that only repeats the URL ("example.org/x", "x@y.org") needs no reference. */
static int
same_url(const char *text, const char *url, const char *href)
{
	const char *rest = strstr(url, "://");
	size_t tl = strlen(text);

	if (strcmp(text, url) == 0 || (href != NULL && strcmp(text, href) == 0))
		return 1;
	if (str_has_prefix(url, "mailto:") && strcmp(text, url + 7) == 0)
		return 1;
	if (strlen(url) == tl + 1 && url[tl] == '/' && strncmp(text, url, tl) == 0)
		return 1;
	if (rest == NULL)
		return 0;
	rest += 3;
	return strcmp(text, rest) == 0 ||
	       (strlen(rest) == tl + 1 && rest[tl] == '/' && strncmp(text, rest, tl) == 0);
}

/* The slot of url in the reference hash: where it is, or the empty one it would take. */
static size_t *
ref_slot(const struct tx *t, const char *url)
{
	size_t mask = t->ref_cap - 1, k = (size_t)hash64_str(url) & mask;

	while (t->ref_slot[k] != 0 && strcmp(t->links->v[t->ref_slot[k] - 1], url) != 0)
		k = (k + 1) & mask;
	return &t->ref_slot[k];
}

/* Room for one more reference (half full at most); -1 on OOM. */
static int
ref_reserve(struct tx *t)
{
	size_t n = t->links->n - t->links0, oldcap = t->ref_cap, *old = t->ref_slot;

	if ((n + 1) * 2 <= t->ref_cap)
		return 0;
	t->ref_cap = oldcap ? oldcap * 2 : REF_SLOTS_MIN;
	if ((t->ref_slot = calloc(t->ref_cap, sizeof *t->ref_slot)) == NULL) {
		t->ref_slot = old;
		t->ref_cap = oldcap;
		return -1;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i] != 0)
			*ref_slot(t, t->links->v[old[i] - 1]) = old[i];
	free(old);
	return 0;
}

/*
 * " [N]": url's number among this item's references, the same for a
 * repeat.  Looked up by hash: an item of 100,000 images made the linear
 * search quadratic.
 */
static void
tx_ref(struct tx *t, const char *url)
{
	char ref[REF_SIZE];
	const char *p = ref_mark(t, url, ref);

	if (p == NULL)
		return;
	t->space = t->para.len > 0;
	tx_text(t, p);
}

/*
 * An image: its alt text, or a mark where it stands, and a reference to it
 * unless it is a link's content (the link's reference follows) or a
 * tracking pixel.
 */
static void
tx_image(struct tx *t, xmlNodePtr n, int depth)
{
	xmlChar *tofree;
	const char *alt = prop(n, "alt", &tofree);
	int has_alt = alt != NULL && !str_empty(alt);
	const char *url = node_url(t->doc, n, 1);

	(void)depth;
	if (url != NULL || has_alt) {
		t->space = 1;
		/* Piece by piece is the same as "[image: ALT]" at once. */
		if (has_alt) {
			tx_text(t, "[image: ");
			tx_text(t, alt);
			tx_text(t, "]");
		} else {
			tx_text(t, "[image]");
		}
		if (url != NULL && !t->in_link)
			tx_ref(t, url);
		t->space = 1;
	}
	xmlFree(tofree);
}

static void
tx_link_end(struct tx *t, const char *href)
{
	size_t start = t->link_broken ? t->para.len : t->link_start;
	char *text;

	t->in_link = 0;
	if (start > t->para.len)
		start = t->para.len;
	text = str_ndup(buf_str(&t->para) + start, t->para.len - start);
	if (text == NULL) {
		t->oom = 1;
		return;
	}
	if ((*str_trim(text) == '\0' && !t->link_broken) ||
	    same_url(str_trim(text), t->link_url, href)) {
		free(text);
		return;
	}
	free(text);
	tx_ref(t, t->link_url);
}

static void tx_children(struct tx *t, xmlNodePtr n, int depth);

/*
 * An embedded player: "[video] URL" as a paragraph of its own, after what
 * libxml2 nested in a (void) embed, as in san_video.
 */
static void
tx_video(struct tx *t, xmlNodePtr n, int depth)
{
	struct video v;

	if (is_elem(n, "embed"))
		tx_children(t, n, depth + 1);
	if (!video_of(t->doc, n, &v))
		return;
	tx_flush(t);
	t->blank = 1;
	tx_text(t, v.label);
	t->space = 1;
	tx_text(t, v.url);
	tx_flush(t);
	t->blank = 1;
}

static void
tx_br(struct tx *t, xmlNodePtr n, int depth)
{
	(void)n;
	(void)depth;
	tx_add(t, "\n", 1);
	t->space = 0;
}

/* A table row: one line, its cells " | " apart. */
static void
tx_row(struct tx *t, xmlNodePtr n, int depth)
{
	int cells = t->cells;

	tx_flush(t);
	t->cells = 0;
	tx_children(t, n, depth + 1);
	tx_flush(t);
	t->cells = cells;
}

static void
tx_pre_block(struct tx *t, xmlNodePtr n, int depth)
{
	tx_pre(t, n, depth + 1);
	t->blank = 1;
}

/* A link: its text, then its reference (see tx_link_end); inside a link, only its text. */
static void
tx_link(struct tx *t, xmlNodePtr n, int depth)
{
	xmlChar *tofree;
	const char *href;

	if (t->in_link) {
		tx_children(t, n, depth + 1);
		return;
	}
	href = prop(n, "href", &tofree);
	t->link_url = node_url(t->doc, n, 0);
	if (t->link_url != NULL) {
		t->in_link = 1;
		t->link_broken = 0;
		t->link_start = t->para.len;
	}
	tx_children(t, n, depth + 1);
	if (t->link_url != NULL && t->in_link)
		tx_link_end(t, href);
	xmlFree(tofree);
}

/* A table cell: after the row's first, " | " goes before it, on the row's line. */
static void
tx_cell(struct tx *t, xmlNodePtr n, int depth)
{
	if (t->cells++ > 0) {
		t->space = 1;
		tx_text(t, "|");
		t->space = 1;
	}
	tx_children(t, n, depth + 1);
	t->space = 1;
}

static void
tx_list_item(struct tx *t, xmlNodePtr n, int depth)
{
	int *num = t->nlist > 0 && t->nlist <= MAX_LISTS ? &t->list[t->nlist - 1] : NULL;
	size_t old = t->indent.len, ml;

	tx_flush(t);
	if (num != NULL && *num > 0)
		snprintf(t->marker, sizeof t->marker, "%d. ", (*num)++);
	else
		strcpy(t->marker, "- ");
	ml = strlen(t->marker);
	if (t->indent.len < MAX_INDENT && add(&t->indent, "                ", ml) < 0)
		t->oom = 1;
	tx_children(t, n, depth + 1);
	tx_flush(t);
	t->marker[0] = '\0';
	t->indent.len = old;
	if (t->indent.data != NULL)
		t->indent.data[old] = '\0';
}

/*
 * Elements written their own way, by the first of their flags found here;
 * the others are blocks, lines or inline (tx_block).
 */
static const struct {
	int flag;
	void (*write)(struct tx *t, xmlNodePtr n, int depth);
} tx_own[] = {
    {F_BR, tx_br},     {F_IMG, tx_image}, {F_LI, tx_list_item},  {F_VIDEO, tx_video},
    {F_CELL, tx_cell}, {F_ROW, tx_row},   {F_PRE, tx_pre_block}, {F_A, tx_link},
};

/*
 * A block, a line or an inline element: its children, with the gaps,
 * quote marks and list numbers it makes.
 */
static void
tx_block(struct tx *t, xmlNodePtr n, int flags, int depth)
{
	size_t old = t->indent.len;

	if (flags & (F_BLOCK | F_LINE)) {
		tx_flush(t);
		/* A list inside a list item continues it without a gap. */
		if ((flags & F_BLOCK) && !((flags & F_LIST) && t->nlist > 0))
			t->blank = 1;
	}
	if (flags & F_QUOTE) {
		/* The gap before a quote is outside it: no lone ">" line. */
		tx_emit_blank(t);
		if (t->indent.len < MAX_INDENT && buf_adds(&t->indent, "> ") < 0)
			t->oom = 1;
	}
	if (flags & F_LIST) {
		if (t->nlist < MAX_LISTS)
			t->list[t->nlist] = flags & F_OL ? 1 : 0;
		t->nlist++;
	}
	tx_children(t, n, depth + 1);
	if (flags & (F_BLOCK | F_LINE))
		tx_flush(t);
	if (flags & F_LIST)
		t->nlist--;
	if ((flags & F_BLOCK) && !((flags & F_LIST) && t->nlist > 0))
		t->blank = 1;
	t->indent.len = old;
	if (t->indent.data != NULL)
		t->indent.data[old] = '\0';
}

static void
tx_elem(struct tx *t, xmlNodePtr n, int depth)
{
	int flags = elem_flags(n);

	if (flags & F_DROP)
		return;
	for (size_t i = 0; i < sizeof tx_own / sizeof tx_own[0]; i++)
		if (flags & tx_own[i].flag) {
			tx_own[i].write(t, n, depth);
			return;
		}
	tx_block(t, n, flags, depth);
}

static void
tx_children(struct tx *t, xmlNodePtr n, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	for (xmlNodePtr c = n->children; c != NULL && !t->oom; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			tx_text(t, (const char *)c->content);
		else if (c->type == XML_ELEMENT_NODE)
			tx_elem(t, c, depth);
	}
}

static int
text_doc(htmlDocPtr doc, struct doc *d, int width, int first_ref, struct buf *out,
         struct strv *links, struct err *e)
{
	xmlNodePtr body = htmlparse_body(doc);
	struct tx t;

	memset(&t, 0, sizeof t);
	t.l.out = out;
	t.doc = d;
	t.width = width;
	t.links = links;
	t.links0 = links->n;
	t.first_ref = first_ref;
	if (buf_add(out, "", 0) < 0 || buf_add(&t.indent, "", 0) < 0)
		t.oom = 1;
	if (body != NULL && !t.oom) {
		tx_children(&t, body, 0);
		tx_flush(&t);
	}
	buf_free(&t.para);
	buf_free(&t.first);
	buf_free(&t.indent);
	free(t.ref_slot);
	if (t.oom || t.l.oom || d->oom)
		return err_oom(e);
	return 0;
}

/*
 * "[cut: N KB more at LINK]" after both renderings: the reader sees that
 * the item goes on, and where.
 */
static int
cut_notice(struct doc *d, const char *link, size_t cut, size_t text0, struct buf *html_out,
           struct buf *text_out)
{
	char *url = link != NULL ? url_clean_prepared(link, d->pbase) : NULL;
	char kb[64];
	struct ser s = {.out = html_out, .doc = d};

	snprintf(kb, sizeof kb, "[cut: %zu KB more", (cut + 1023) / 1024);
	ser_add(&s, "\n<p>", 4);
	ser_add(&s, kb, strlen(kb));
	if (url != NULL) {
		ser_add(&s, " at <a", 6);
		ser_attr_str(&s, "href", url);
		ser_add(&s, ">", 1);
		ser_escape(&s, url, 0);
		ser_add(&s, "</a>", 4);
	}
	ser_add(&s, "]</p>", 5);
	if (buf_adds(text_out, text_out->len > text0 ? "\n\n" : "") < 0 ||
	    buf_adds(text_out, kb) < 0 ||
	    (url != NULL && (buf_adds(text_out, " at ") < 0 || buf_adds(text_out, url) < 0)) ||
	    buf_addc(text_out, ']') < 0)
		s.oom = 1;
	free(url);
	buf_free(&s.val);
	buf_free(&s.url);
	return s.oom ? -1 : 0;
}

/* Both renderings from one parse; the cut told at their ends when notice is set. */
static int
render_both(const char *html, size_t len, const char *base, struct html_item *item, int notice,
            struct buf *html_out, struct buf *text_out, struct strv *links, struct err *e)
{
	struct doc d = {.base = base};
	int failed, r;
	size_t n = item->max > 0 ? htmlparse_cut_point(html, len, item->max) : len, halted,
	       text0 = text_out->len;
	htmlDocPtr doc = htmlparse(html, n, e, &failed, &halted);

	if (failed)
		return -1;
	item->cut = halted > 0 ? len - (halted - 1) : len - n;
	item->too_deep = halted > 0;
	/* The text first: sanitising changes the tree.  Both share d's URLs. */
	r = text_doc(doc, &d, item->width, item->first_ref, text_out, links, e);
	if (r == 0)
		r = sanitize_doc(doc, &d, html_out, e);
	if (r == 0 && notice && item->cut > 0 &&
	    cut_notice(&d, item->link, item->cut, text0, html_out, text_out) < 0)
		r = err_oom(e);
	xmlFreeDoc(doc);
	doc_free(&d);
	return r;
}

int
html_render_item(const char *html, size_t len, const char *base, struct html_item *item,
                 struct buf *html_out, struct buf *text_out, struct strv *links, struct err *e)
{
	return render_both(html, len, base, item, 1, html_out, text_out, links, e);
}

int
html_render(const char *html, size_t len, const char *base, int width, int first_ref,
            struct buf *html_out, struct buf *text_out, struct strv *links, struct err *e)
{
	struct html_item item = {.width = width, .first_ref = first_ref};

	/* What libxml2 parsed, nothing said of the rest. */
	return render_both(html, len, base, &item, 0, html_out, text_out, links, e);
}
