/* Unit tests for src/html.c: the sanitiser against hostile HTML, HTML to text */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>

#include "html.h"
#include "wrap.h"

#define BASE "http://ex.org/blog/2024/post.html"

/* The HTML part html_render gives. */
static char *
sanitize(const char *html, const char *base)
{
	struct buf out = BUF_INIT, text = BUF_INIT;
	struct strv links = STRV_INIT;
	struct err e = {0};

	ck_assert_msg(html_render(html, strlen(html), base, 72, 1, &out, &text, &links, &e) == 0,
	              "%s", e.msg);
	buf_free(&text);
	strv_free(&links);
	return buf_steal(&out);
}

/* The text part html_render gives. */
static char *
to_text(const char *html, int width, int first_ref, struct strv *links)
{
	struct buf out = BUF_INIT, part = BUF_INIT;
	struct err e = {0};

	ck_assert_msg(
	    html_render(html, strlen(html), BASE, width, first_ref, &part, &out, links, &e) == 0,
	    "%s", e.msg);
	buf_free(&part);
	return buf_steal(&out);
}

static void
has(const char *s, const char *needle)
{
	ck_assert_msg(strstr(s, needle) != NULL, "missing [%s] in [%s]", needle, s);
}

static void
lacks(const char *s, const char *needle)
{
	ck_assert_msg(strcasestr(s, needle) == NULL, "found [%s] in [%s]", needle, s);
}

/* Nothing that can run, load or submit anything may survive. */
static void
harmless(const char *s)
{
	static const char *const bad[] = {
	    "<script",   "</script",    "javascript",  "vbscript", "onerror",   "onload",
	    "onclick",   "onmouseover", "<iframe",     "<style",   "style=\"b", "<form",
	    "<input",    "<button",     "<svg",        "<math",    "<object",   "<embed",
	    "<meta",     "<link",       "<base",       "data:",    "<!--",      "<frame",
	    "<template", "<noscript",   "expression(", "alert",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		lacks(s, bad[i]);
}

static const char *const cases[][2] = {
    {"<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"},
    {"<p>a<SCRIPT SRC=//evil/x.js></SCRIPT>b</p>", "<p>ab</p>"},
    {"<style>p{color:red}</style><p>t</p>", "<p>t</p>"},
    {"<p>x<iframe src=\"http://evil/\">inner</iframe>y</p>",
     "<p>x<div><a href=\"http://evil/\">[embed] http://evil/</a></div>y</p>"},
    {"<p>a<svg onload=alert(1)><circle r=1 /></svg>b</p>", "<p>ab</p>"},
    {"<p>a<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>b</p>", "<p>ab</p>"},
    {"<img src=\"pic.png\" onerror=\"alert(1)\" alt=\"p\">", "alt=\"p\""},
    {"<p onclick=\"alert(1)\" style=\"background:url(javascript:alert(1))\">t</p>", "<p>t</p>"},
    {"<a href=\"javascript:alert(1)\">j</a>", "<a>j</a>"},
    {"<a href=\"jav&#x09;ascript:alert(1)\">j</a>", "<a>j</a>"},
    {"<a href=\"jav&#x0A;ascript:alert(1)\">j</a>", "<a>j</a>"},
    {"<a href=\" JaVaScRiPt:alert(1)\">j</a>", "<a>j</a>"},
    {"<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
     "alert(1)\">j</a>",
     "<a>j</a>"},
    {"<a href=\"&#1;javascript:alert(1)\">j</a>", "j</a>"},
    {"<a href=\"vbscript:msgbox(1)\">v</a>", "<a>v</a>"},
    {"<a href=\"data:text/html;base64,PHNjcmlwdD4=\">d</a>", "<a>d</a>"},
    {"<p><img src=\"data:image/svg+xml;base64,PHN2Zz4=\">x</p>", "<p>x</p>"},
    {"<p>a<!-- <script>alert(1)</script> -->b</p>", "<p>ab</p>"},
    {"<p>a<!--[if IE]><script>alert(1)</script><![endif]-->b</p>", "<p>ab</p>"},
    {"<p>a<!--[if gte mso 9]><xml><o:x/></xml><![endif]-->b</p>", "<p>ab</p>"},
    {"<p>a<!-- unclosed <script>alert(1)</script>", "<p>a"},
    {"<p>a<!-- <!-- nested --> <script>alert(1)</script> -->b</p>", "<p>a"},
    {"<form action=\"http://evil/\"><input name=p><button>go</button></form><p>t</p>", "<p>t</p>"},
    {"<object data=\"x.swf\"><embed src=\"x.swf\"></object><p>t</p>", "<p>t</p>"},
    {"<meta http-equiv=\"refresh\" content=\"0;url=http://evil/\"><p>t</p>", "<p>t</p>"},
    {"<base href=\"http://evil/\"><a href=\"x\">x</a>",
     "<a href=\"http://ex.org/blog/2024/x\">x</a>"},
    {"<div><p>unclosed <b>bold <i>both", "<div><p>unclosed <b>bold <i>both</i></b></p></div>"},
    {"<p>1x1<img src=\"http://ex.org/p.gif\" width=\"1\" height=\"1\"></p>", "<p>1x1</p>"},
    {"<p>0<img src=\"http://ex.org/p.gif\" width=\"0\"></p>", "<p>0</p>"},
    {"<p>px<img src=\"http://ex.org/p.gif\" height=\"1px\"></p>", "<p>px</p>"},
    {"<p>fb<img src=\"http://feeds.feedburner.com/~r/blog/~4/abc\"></p>", "<p>fb</p>"},
    {"<p>wp<img src=\"https://pixel.wp.com/b.gif?host=x\"></p>", "<p>wp</p>"},
    {"<p>ga<img src=\"https://www.google-analytics.com/collect?x\"></p>", "<p>ga</p>"},
    {"<p>dc<img src=\"https://AD.DoubleClick.net/x.gif\"></p>", "<p>dc</p>"},
    {"<p><font color=red face=x>unwrapped</font> <blink>b</blink></p>", "<p>unwrapped b</p>"},
    {"<p><a href=\"http://ok.org/\" target=_blank rel=x class=c id=i>ok</a></p>",
     "<p><a href=\"http://ok.org/\">ok</a></p>"},
    {"<noscript><p>ns</p></noscript><template><p>tp</p></template><p>t</p>", "<p>t</p>"},
    {"<video src=\"v.mp4\" poster=\"p.png\"></video><audio src=\"a.mp3\"></audio><p>t</p>",
     "<p>t</p>"},
    {"<table><tr><td colspan=\"2\" onmouseover=\"x\" width=\"50%\">c</td></tr></table>",
     "<td colspan=\"2\">c</td>"},
};

START_TEST(sanitize_hostile)
{

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = sanitize(cases[i][0], BASE);

		harmless(s);
		has(s, cases[i][1]);
		free(s);
	}
}
END_TEST

START_TEST(sanitize_urls)
{
	char *s;

	s = sanitize("<a href=\"http://x.org/p?utm_source=rss&amp;id=3&amp;utm_medium=feed"
	             "&amp;UTM_Campaign=c#frag\">a</a>",
	             BASE);
	has(s, "href=\"http://x.org/p?id=3#frag\"");
	free(s);
	s = sanitize("<a href=\"https://x.org/p?utm_source=rss&amp;utm_medium=feed\">a</a>", BASE);
	has(s, "href=\"https://x.org/p\"");
	free(s);
	s = sanitize("<a href=\"http://x.org/?autm_x=1\">a</a>", BASE);
	has(s, "href=\"http://x.org/?autm_x=1\"");
	free(s);

	s = sanitize("<a href=\"../img/a.html\">r</a><img src=\"//cdn.ex.org/i.png\">"
	             "<a href=\"#c\">f</a><a href=\"?page=2\">q</a><a href=\"/root\">r</a>"
	             "<a href=\"mailto:me@ex.org\">m</a><a href=\"HTTPS://EX.org/\">u</a>"
	             "<img src=\"a b/é.png\" alt=\"s\">",
	             BASE);
	has(s, "href=\"http://ex.org/blog/img/a.html\"");
	has(s, "src=\"http://cdn.ex.org/i.png\"");
	has(s, "href=\"http://ex.org/blog/2024/post.html#c\"");
	has(s, "href=\"http://ex.org/blog/2024/post.html?page=2\"");
	has(s, "href=\"http://ex.org/root\"");
	has(s, "href=\"mailto:me@ex.org\"");
	has(s, "href=\"https://EX.org/\"");
	has(s, "src=\"http://ex.org/blog/2024/a%20b/%C3%A9.png\"");
	free(s);

	/* Without a base a relative URL cannot be made absolute: it goes. */
	s = sanitize("<p><a href=\"rel.html\">r</a><img src=\"i.png\">x</p>", NULL);
	ck_assert_str_eq(s, "<p><a>r</a>x</p>");
	free(s);
	s = sanitize("<a href=\"ftp://x.org/f\">f</a><a href=\"file:///etc/passwd\">p</a>"
	             "<a href=\"http:evil\">h</a>",
	             BASE);
	lacks(s, "href");
	free(s);
}
END_TEST

START_TEST(sanitize_images_and_output)
{
	char *s;
	int count = 0;

	s = sanitize("<p>x<img src=\"a.png\" width=\"600\" height=\"400\" alt=\"A\" "
	             "style=\"width:9000px\" class=\"big\"></p>",
	             BASE);
	has(s, "<img");
	has(s, "src=\"http://ex.org/blog/2024/a.png\"");
	has(s, "width=\"600\"");
	has(s, "style=\"max-width:100%;height:auto\"");
	lacks(s, "9000");
	lacks(s, "class");
	for (const char *p = s; (p = strstr(p, "style=")) != NULL; p++)
		count++;
	ck_assert_int_eq(count, 1);
	free(s);

	/* UTF-8 kept; invalid bytes become U+FFFD, never pass through. */
	s = sanitize("<p>caf\xc3\xa9 \xff\xfe x\xe9y &eacute;&#8217;&nbsp;.</p>", BASE);
	has(s, "caf\xc3\xa9");
	has(s, "\xef\xbf\xbd");
	has(s, "\xc3\xa9\xe2\x80\x99");
	lacks(s, "\xff");
	free(s);

	s = sanitize("", BASE);
	ck_assert_str_eq(s, "");
	free(s);
	s = sanitize("<head><title>only head</title></head>", BASE);
	ck_assert_str_eq(s, "");
	free(s);
	s = sanitize("plain <b>text</b> &amp; more", BASE);
	ck_assert_str_eq(s, "<p>plain <b>text</b> &amp; more</p>");
	free(s);

	/* libxml2 2.9 nests what follows a void <embed>/<source> inside it:
	 * that content must survive, the element itself must not (an embed
	 * becomes a link to what it shows). */
	s = sanitize("<p>a</p><embed src=\"x.swf\"><p>after</p>", BASE);
	has(s, "after");
	lacks(s, "<embed");
	has(s,
	    "<a href=\"http://ex.org/blog/2024/x.swf\">[embed] http://ex.org/blog/2024/x.swf</a>");
	free(s);
	s = sanitize("<picture><source srcset=\"b.webp\"><img src=\"b.png\" alt=\"B\"></picture>",
	             BASE);
	has(s, "src=\"http://ex.org/blog/2024/b.png\"");
	lacks(s, "source");
	free(s);
}
END_TEST

START_TEST(garbage_and_depth)
{
	struct buf in = BUF_INIT, out = BUF_INIT, text = BUF_INIT;
	struct strv links = STRV_INIT;
	struct err e = {0};
	clock_t t0 = clock();

	for (int i = 0; i < 100000; i++)
		buf_adds(&in, "<div><a href=x>");
	buf_adds(&in, "deep");
	ck_assert_int_eq(html_render(in.data, in.len, BASE, 72, 1, &out, &text, &links, &e), 0);
	ck_assert(strstr(buf_str(&out), "deep") == NULL || out.len > 0);
	buf_reset(&in);
	buf_reset(&out);
	buf_reset(&text);
	for (int i = 0; i < 20000; i++)
		buf_adds(&in, "<blockquote><ul><li>");
	ck_assert_int_eq(html_render(in.data, in.len, BASE, 72, 1, &out, &text, &links, &e), 0);
	buf_reset(&in);
	buf_reset(&out);
	buf_reset(&text);
	for (int i = 0; i < 3000; i++)
		buf_printf(&in, "<%c\x01%c>&#%d;<!--", 'a' + i % 26, i & 0xff, i * 7919);
	ck_assert_int_eq(html_render(in.data, in.len, BASE, 72, 1, &out, &text, &links, &e), 0);
	ck_assert_msg((double)(clock() - t0) / CLOCKS_PER_SEC < 10, "too slow");
	buf_free(&in);
	buf_free(&out);
	buf_free(&text);
	strv_free(&links);
}
END_TEST

START_TEST(text_blocks)
{
	struct strv links = STRV_INIT;
	char *s = to_text("<h2>Heading &amp; co</h2><p>First <b>bold</b>\n  paragraph.</p>"
	                  "<ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul>"
	                  "<ol><li>first</li><li>second</li></ol>"
	                  "<blockquote><p>quoted</p><p>again</p></blockquote>"
	                  "<pre>  code &lt;x&gt;\n    indented</pre>"
	                  "<p>a<br>b<script>alert(1)</script><style>p{}</style></p>"
	                  "<p>x&nbsp;y &eacute; &#8217; &lt;tag&gt;</p>"
	                  "<p><img src=\"c.png\" alt=\"a cat\"><img src=\"p.gif\"></p>"
	                  "<p><img src=\"d.png\"><img src=\"t.gif\" width=\"1\" height=\"1\">"
	                  "<img src=\"https://pixel.wp.com/g.gif\"> "
	                  "<a href=\"/big\"><img src=\"thumb.png\"></a></p>",
	                  72, 1, &links);

	ck_assert_str_eq(s, "Heading & co\n"
	                    "\n"
	                    "First bold paragraph.\n"
	                    "\n"
	                    "- one\n"
	                    "- two\n"
	                    "  - inner\n"
	                    "\n"
	                    "1. first\n"
	                    "2. second\n"
	                    "\n"
	                    "> quoted\n"
	                    ">\n"
	                    "> again\n"
	                    "\n"
	                    "  code <x>\n"
	                    "    indented\n"
	                    "\n"
	                    "a\n"
	                    "b\n"
	                    "\n"
	                    "x y \xc3\xa9 \xe2\x80\x99 <tag>\n"
	                    "\n"
	                    "[image: a cat] [1] [image] [2]\n"
	                    "\n"
	                    "[image] [3] [image] [4]");
	/* Images are referenced like links, even without alt text; a linked
	 * image is the link's text; tracking pixels and trackers stay out. */
	ck_assert_uint_eq(links.n, 4);
	ck_assert_str_eq(links.v[0], "http://ex.org/blog/2024/c.png");
	ck_assert_str_eq(links.v[1], "http://ex.org/blog/2024/p.gif");
	ck_assert_str_eq(links.v[2], "http://ex.org/blog/2024/d.png");
	ck_assert_str_eq(links.v[3], "http://ex.org/big");
	free(s);
	strv_free(&links);
}
END_TEST

START_TEST(text_links)
{
	struct strv links = STRV_INIT;
	char *s;

	strv_push(&links, "http://earlier.org/");
	s = to_text("<p>See <a href=\"/a?utm_source=rss&amp;k=1\">the post</a>, "
	            "<a href=\"http://example.org/\">example.org</a>, "
	            "<a href=\"mailto:me@ex.org\">me@ex.org</a>, "
	            "<a href=\"https://b.org/x\">b</a>, "
	            "<a href=\"javascript:alert(1)\">js</a>, "
	            "<a href=\"/a?k=1\">again</a> and "
	            "<a href=\"https://b.org/y\"><img src=\"i.png\" alt=\"pic\"></a>.</p>",
	            72, 5, &links);
	ck_assert_str_eq(s, "See the post [5], example.org, me@ex.org, b [6], js, again [5] and\n"
	                    "[image: pic] [7].");
	ck_assert_uint_eq(links.n, 4);
	ck_assert_str_eq(links.v[0], "http://earlier.org/");
	ck_assert_str_eq(links.v[1], "http://ex.org/a?k=1");
	ck_assert_str_eq(links.v[2], "https://b.org/x");
	ck_assert_str_eq(links.v[3], "https://b.org/y");
	free(s);
	strv_free(&links);
}
END_TEST

static void
lines_fit(const char *s, int width)
{
	for (const char *line = s; *line;) {
		size_t n = strcspn(line, "\n");

		/* Only a single word (no space) may be longer than the width. */
		if (n > (size_t)width)
			ck_assert_msg(memchr(line, ' ', n) == NULL ||
			                  memchr(line, ' ', n) == line + n - 1 || line[0] == '>',
			              "line too long: %.*s", (int)n, line);
		line += n + (line[n] == '\n');
	}
}

START_TEST(text_wraps_never_breaking_urls)
{
	struct strv links = STRV_INIT;
	char url[121], *s, html[1024];
	const char *p;

	memcpy(url, "https://example.org/", 20);
	memset(url + 20, 'x', 100);
	url[120] = '\0';
	snprintf(html, sizeof html,
	         "<p>Some words before the long address so that it does not fit on the line "
	         "%s and then some words after it which go on and on for a while.</p>"
	         "<blockquote>Quoted words that also run past the seventy-two column limit "
	         "of the plain text part of the digest message.</blockquote>",
	         url);
	s = to_text(html, 72, 1, &links);
	ck_assert((p = strstr(s, url)) != NULL);
	ck_assert(p[-1] == '\n' && p[120] == '\n');
	lines_fit(s, 72);
	has(s, "\n> Quoted words");
	has(s, "\n> plain text part");
	free(s);
	strv_free(&links);
}
END_TEST

/* What libxml2's own htmlNodeDump writes for the body of html. */
static char *
libxml2_dump(const char *html)
{
	htmlDocPtr doc = htmlReadMemory(html, (int)strlen(html), NULL, "UTF-8",
	                                HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                                    HTML_PARSE_NONET | HTML_PARSE_RECOVER);
	xmlNodePtr body = xmlDocGetRootElement(doc)->children;
	xmlBufferPtr xb = xmlBufferCreate();
	char *r;

	while (body != NULL && strcmp((const char *)body->name, "body") != 0)
		body = body->next;
	ck_assert_ptr_nonnull(body);
	for (xmlNodePtr c = body->children; c != NULL; c = c->next)
		htmlNodeDump(xb, doc, c);
	r = strdup((const char *)xmlBufferContent(xb));
	xmlBufferFree(xb);
	xmlFreeDoc(doc);
	return r;
}

/*
 * The sanitiser writes HTML itself: for input it leaves as it is (allowed
 * elements and attributes, no URLs), byte for byte what htmlNodeDump
 * writes, for every allowed element in block and inline places.
 */
START_TEST(serialiser_matches_libxml2)
{
	static const char *const kept[] = {
	    "a",     "abbr",  "b",     "blockquote", "br",  "caption",    "cite",   "code",  "dd",
	    "del",   "div",   "dl",    "dt",         "em",  "figcaption", "figure", "h6",    "hr",
	    "i",     "img",   "ins",   "kbd",        "li",  "ol",         "p",      "pre",   "q",
	    "s",     "small", "span",  "strong",     "sub", "sup",        "table",  "tbody", "td",
	    "tfoot", "th",    "thead", "tr",         "u",   "ul",
	};
	static const char *const shapes[] = {
	    "<div><%1$s%2$s></%1$s><%1$s%2$s>t</%1$s><%1$s%2$s><b>a</b><i>b</i></%1$s><p>x</p></"
	    "div>",
	    "<%1$s%2$s><div>a</div><div>b</div></%1$s><%1$s%2$s><hr></%1$s><p>t</p><%1$s%2$s>x</"
	    "%1$s>",
	    "<p>in <%1$s title=\"t\"%2$s>p</%1$s> "
	    "<%1$s%2$s></%1$s></p><ul><li><%1$s%2$s>l</%1$s></li></ul>",
	    "<table><tr><td><%1$s%2$s><span>s</span><br><em>e</em></%1$s></td></tr></table>",
	    "<pre><%1$s%2$s>a\nb</%1$s><%1$s%2$s><b>c</b><b>d</b></%1$s></pre><%1$s%2$s><p>p</p></"
	    "%1$s>",
	};
	static const char *const texts[] = {
	    "<p title='a \"b\"' alt=\"c 'd' &quot;e&quot;\">q</p>",
	    "<p title=\"&{open\">u</p><p title>v</p><p title=\"\">w</p>",
	    "<p>ctl \x01\x02\x0b\x1f\x7f cr\r\nlf\ttab &amp;&lt;&gt; \"q\" 'a' caf\xc3\xa9</p>",
	    "<div>\n<p>a</p>\n</div><div><br><br></div><div><hr><hr></div><ol><li><li>x</ol>",
	    "<table width=\"1\"><tr><td colspan=\"2\" rowspan=\"3\" "
	    "height=\"4\">c</td></tr></table>",
	};
	char in[1024];

	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
			char *ours, *theirs;

			/* An image stays only with a source, and gets the style. */
			snprintf(in, sizeof in, shapes[k], kept[i],
			         strcmp(kept[i], "img") != 0
			             ? ""
			             : " src=\"http://x.org/i.png\" "
			               "style=\"max-width:100%;height:auto\"");
			ours = sanitize(in, NULL);
			theirs = libxml2_dump(in);
			ck_assert_msg(strcmp(ours, theirs) == 0, "%s:\n%s\n%s", in, ours, theirs);
			free(ours);
			free(theirs);
		}
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char *ours = sanitize(texts[i], NULL), *theirs = libxml2_dump(texts[i]);

		ck_assert_msg(strcmp(ours, theirs) == 0, "%s:\n%s\n%s", texts[i], ours, theirs);
		free(ours);
		free(theirs);
	}
}
END_TEST

/*
 * Where ours departs from libxml2's on purpose: it leaves "<!--...-->" and
 * "&{...}" raw in attribute values; feed text must not reach mail as markup.
 */
START_TEST(attribute_values_are_always_escaped)
{
	static const char *const escaped[][2] = {
	    {"<p title=\"&{<script>alert(1)</script>}\">q</p>",
	     "<p title=\"&amp;{&lt;script&gt;alert(1)&lt;/script&gt;}\">q</p>"},
	    {"<p title=\"<!--<iframe src=javascript:alert(1)>-->\">q</p>",
	     "<p title=\"&lt;!--&lt;iframe src=javascript:alert(1)&gt;--&gt;\">q</p>"},
	    {"<p title=\"&lt;!-- ssi --&gt;\">s</p>", "<p title=\"&lt;!-- ssi --&gt;\">s</p>"},
	    {"<p title=\"&{x}\">b</p>", "<p title=\"&amp;{x}\">b</p>"},
	};

	for (size_t i = 0; i < sizeof escaped / sizeof escaped[0]; i++) {
		char *ours = sanitize(escaped[i][0], NULL);

		ck_assert_msg(strstr(ours, escaped[i][1]) != NULL, "%s:\n%s", escaped[i][0], ours);
		ck_assert_ptr_null(strstr(ours, "<script"));
		ck_assert_ptr_null(strstr(ours, "<iframe"));
		free(ours);
	}
}
END_TEST

/*
 * One parse gives both parts: the HTML part is the same whatever the text's
 * width and numbering (rendering the text first leaves the tree as it
 * was), and html_render_item without a bound gives what html_render gives.
 */
START_TEST(render_parts_are_independent)
{
	static const char *const more[] = {
	    "<p>See <a href=\"/a?utm_source=x\">the post</a> and <a href=\"b\">b</a>.</p>"
	    "<ul><li>one<li>two</ul><blockquote>q</blockquote><pre> x\n  y</pre>",
	    "",
	    "plain",
	    "<head><title>t</title></head>",
	};
	size_t n = sizeof cases / sizeof cases[0];

	for (size_t i = 0; i < n + sizeof more / sizeof more[0]; i++) {
		const char *in = i < n ? cases[i][0] : more[i - n];
		struct buf h1 = BUF_INIT, t1 = BUF_INIT, h2 = BUF_INIT, t2 = BUF_INIT;
		struct buf h3 = BUF_INIT, t3 = BUF_INIT;
		struct strv l1 = STRV_INIT, l2 = STRV_INIT, l3 = STRV_INIT;
		struct html_item item = {.width = 72, .first_ref = 3};
		struct err e = {0};

		ck_assert_int_eq(html_render(in, strlen(in), BASE, 72, 3, &h1, &t1, &l1, &e), 0);
		ck_assert_int_eq(html_render(in, strlen(in), BASE, 9, 1, &h2, &t2, &l2, &e), 0);
		ck_assert_int_eq(html_render_item(in, strlen(in), BASE, &item, &h3, &t3, &l3, &e),
		                 0);
		ck_assert_str_eq(buf_str(&h1), buf_str(&h2));
		ck_assert_str_eq(buf_str(&h1), buf_str(&h3));
		ck_assert_str_eq(buf_str(&t1), buf_str(&t3));
		ck_assert_uint_eq(l1.n, l2.n);
		ck_assert_uint_eq(l1.n, l3.n);
		for (size_t k = 0; k < l1.n; k++) {
			ck_assert_str_eq(l1.v[k], l2.v[k]);
			ck_assert_str_eq(l1.v[k], l3.v[k]);
		}
		ck_assert_uint_eq(item.cut, 0);
		buf_free(&h1);
		buf_free(&t1);
		buf_free(&h2);
		buf_free(&t2);
		buf_free(&h3);
		buf_free(&t3);
		strv_free(&l1);
		strv_free(&l2);
		strv_free(&l3);
	}
}
END_TEST

/* Embedded players become links to what they play, with a thumbnail where known. */
START_TEST(embedded_video_is_a_link)
{
	static const struct {
		const char *in, *watch, *thumb;
	} players[] = {
	    {"<p>watch it here: <iframe width=\"560\" "
	     "src=\"https://www.youtube.com/embed/dQw4w9WgXcQ?rel=0\" "
	     "frameborder=\"0\" allowfullscreen></iframe></p>",
	     "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
	     "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"},
	    {"<iframe src=\"//www.youtube-nocookie.com/embed/abc_DEF-123\"></iframe>",
	     "https://www.youtube.com/watch?v=abc_DEF-123",
	     "https://i.ytimg.com/vi/abc_DEF-123/hqdefault.jpg"},
	    {"<iframe src=\"https://player.vimeo.com/video/76979871?h=8272103f6e\"></iframe>",
	     "https://vimeo.com/76979871", NULL},
	    {"<object data=\"http://www.youtube.com/v/XyZ12345678\"><param name=movie></object>",
	     "https://www.youtube.com/watch?v=XyZ12345678",
	     "https://i.ytimg.com/vi/XyZ12345678/hqdefault.jpg"},
	    {"<video controls poster=\"/p.jpg\"><source src=\"/clip.mp4\" type=\"video/mp4\">No "
	     "video.</video>",
	     "http://ex.org/clip.mp4", "http://ex.org/p.jpg"},
	    {"<iframe src=\"about:blank\" "
	     "data-lazy-src=\"https://www.youtube.com/embed/LazyID_1234\"></iframe>",
	     "https://www.youtube.com/watch?v=LazyID_1234",
	     "https://i.ytimg.com/vi/LazyID_1234/hqdefault.jpg"},
	    {"<iframe src=\"https://www.youtube.com/embed/videoseries?list=PL123\"></iframe>",
	     "https://www.youtube.com/embed/videoseries?list=PL123", NULL},
	};

	for (size_t i = 0; i < sizeof players / sizeof players[0]; i++) {
		struct buf h = BUF_INIT, t = BUF_INIT, want = BUF_INIT;
		struct strv links = STRV_INIT;
		struct err e = {0};
		const char *in = players[i].in;

		ck_assert_int_eq(html_render(in, strlen(in), BASE, 72, 1, &h, &t, &links, &e), 0);
		buf_printf(&want, "[video] %s", players[i].watch);
		has(buf_str(&t), want.data);
		buf_reset(&want);
		buf_printf(&want, "<a href=\"%s\">[video] %s</a>", players[i].watch,
		           players[i].watch);
		has(buf_str(&h), want.data);
		if (players[i].thumb != NULL) {
			buf_reset(&want);
			buf_printf(&want, "<a href=\"%s\"><img alt=\"[video]\" src=\"%s\"",
			           players[i].watch, players[i].thumb);
			has(buf_str(&h), want.data);
		} else {
			lacks(buf_str(&h), "<img");
		}
		lacks(buf_str(&h), "<iframe");
		lacks(buf_str(&h), "<video");
		lacks(buf_str(&h), "<object");
		lacks(buf_str(&t), "No video");
		buf_free(&h);
		buf_free(&t);
		buf_free(&want);
		strv_free(&links);
	}
	/* A player with no http(s) source leaves nothing. */
	{
		char *s = sanitize("<p>a<iframe src=\"javascript:alert(1)\"></iframe>b</p>", BASE);

		ck_assert_str_eq(s, "<p>ab</p>");
		free(s);
	}
}
END_TEST

/* Every link is a URL in the text part: one in a pre too. */
START_TEST(links_in_pre_keep_their_reference)
{
	struct strv links = STRV_INIT;
	char *s =
	    to_text("<pre>see <a href=\"/code\">the code</a>\nand <a href=\"http://ex.org/b\">"
	            "http://ex.org/b</a> ok</pre><p><a href=\"/code\">again</a></p>",
	            72, 1, &links);

	ck_assert_str_eq(s, "see the code [1]\nand http://ex.org/b ok\n\nagain [1]");
	ck_assert_uint_eq(links.n, 1);
	ck_assert_str_eq(links.v[0], "http://ex.org/code");
	free(s);
	strv_free(&links);
}
END_TEST

/* An item's headings sit below the digest's item title (h3): h1, h2 -> h4, h3 -> h5, rest h6. */
START_TEST(headings_are_demoted)
{
	char *s = sanitize("<h1>A</h1><h2>B</h2><h3>C</h3><h4>D</h4><h6>F</h6><p>t</p>", BASE);

	ck_assert_str_eq(s, "<h4>A</h4>\n<h4>B</h4>\n<h5>C</h5>\n<h6>D</h6>\n<h6>F</h6>\n<p>t</p>");
	free(s);
}
END_TEST

/* A table row is one line of text, its cells " | " apart; a blank line around the table. */
START_TEST(table_rows_are_lines)
{
	struct strv links = STRV_INIT;
	char *s =
	    to_text("<p>Times:</p><table><tr><th>When</th><th>What</th></tr>"
	            "<tr><td>9:18 am</td><td>New Window</td></tr>"
	            "<tr><td>10:02 am</td><td><b>Closed</b> <i>it</i></td></tr></table><p>end</p>",
	            72, 1, &links);

	ck_assert_str_eq(
	    s, "Times:\n\nWhen | What\n9:18 am | New Window\n10:02 am | Closed it\n\nend");
	free(s);
	strv_free(&links);
}
END_TEST

static size_t
max_columns(const char *s)
{
	size_t most = 0;

	while (*s) {
		size_t n = strcspn(s, "\n"), c = text_columns(s, n);

		most = c > most ? c : most;
		s += n + (s[n] == '\n');
	}
	return most;
}

/*
 * CJK text wraps between ideographs at 72 columns (two per ideograph), never
 * before closing punctuation nor after opening; Korean at spaces.
 */
START_TEST(cjk_wraps_between_ideographs)
{
	struct buf in = BUF_INIT;
	struct strv links = STRV_INIT;
	const char *s;
	char *t;

	buf_adds(&in, "<p>");
	for (int i = 0; i < 12; i++)
		buf_adds(
		    &in,
		    "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe3\x81\xaf\xe3\x80\x81" /* 東京都は、 */
		    "\xe3\x80\x8c\xe6\x96\xb0\xe8\xa8\x88\xe7\x94\xbb\xe3\x80\x8d" /* 「新計画」 */
		    "\xe3\x82\x92\xe7\x99\xba\xe8\xa1\xa8\xe3\x80\x82"); /* を発表。 */
	buf_adds(&in, "</p>");
	t = to_text(in.data, 72, 1, &links);
	ck_assert_uint_le(max_columns(t), 72);
	ck_assert_uint_ge(max_columns(t), 70);
	ck_assert_ptr_nonnull(strchr(t, '\n'));
	for (s = t; (s = strchr(s, '\n')) != NULL; s++) {
		/* No line starts with 、 。 」 nor ends with 「. */
		ck_assert(strncmp(s + 1, "\xe3\x80\x81", 3) != 0 &&
		          strncmp(s + 1, "\xe3\x80\x82", 3) != 0 &&
		          strncmp(s + 1, "\xe3\x80\x8d", 3) != 0);
		ck_assert(s - t < 3 || strncmp(s - 3, "\xe3\x80\x8c", 3) != 0);
	}
	free(t);
	buf_free(&in);
	strv_free(&links);
}
END_TEST

static size_t
cut_render(const char *html, size_t len, size_t max, struct buf *h, struct buf *t, int *deep)
{
	struct html_item item = {
	    .width = 72, .first_ref = 1, .link = "http://ex.org/post?id=5&lang=en", .max = max};
	struct strv links = STRV_INIT;
	struct err e = {0};

	ck_assert_int_eq(html_render_item(html, len, BASE, &item, h, t, &links, &e), 0);
	strv_free(&links);
	*deep = item.too_deep;
	return item.cut;
}

/*
 * Content past the bound, or nested past libxml2's 256 levels, is cut where
 * the reader sees it: "[cut: N KB more at LINK]" in both parts.
 */
START_TEST(cut_content_is_told)
{
	struct buf in = BUF_INIT, h = BUF_INIT, t = BUF_INIT;
	int deep;
	size_t cut;

	/* One text run of 5 million characters, and a 6 MB pre. */
	buf_adds(&in, "<p>first</p><p>");
	for (int i = 0; i < 500000; i++)
		buf_adds(&in, "abcdefghij");
	buf_adds(&in, "</p><pre>");
	for (int i = 0; i < 100000; i++)
		buf_adds(&in, "pre text line of sixty characters, give or take a few ok\n");
	buf_adds(&in, "</pre>");
	cut = cut_render(in.data, in.len, 1 << 20, &h, &t, &deep);
	ck_assert_uint_gt(cut, 9 << 20);
	ck_assert_int_eq(deep, 0);
	ck_assert_uint_lt(h.len, (1 << 20) + 4096);
	has(buf_str(&t), "first");
	has(buf_str(&t), "abcdefghij");
	ck_assert_ptr_nonnull(strstr(buf_str(&t), "[cut: "));
	has(buf_str(&t), " KB more at http://ex.org/post?id=5&lang=en]");
	has(buf_str(&h), " KB more at <a href=\"http://ex.org/post?id=5&amp;lang=en\">"
	                 "http://ex.org/post?id=5&amp;lang=en</a>]</p>");
	lacks(buf_str(&h), "/pre>\n<p>[cut");
	buf_reset(&in);
	buf_reset(&h);
	buf_reset(&t);
	/* Under the bound: nothing cut, no notice. */
	buf_adds(&in, "<p>short</p>");
	ck_assert_uint_eq(cut_render(in.data, in.len, 1 << 20, &h, &t, &deep), 0);
	lacks(buf_str(&t), "[cut");
	buf_reset(&in);
	buf_reset(&h);
	buf_reset(&t);
	/* 300 levels deep: what libxml2 leaves is told, and what it parsed is all kept. */
	buf_adds(&in, "<p>start</p>");
	for (int i = 0; i < 300; i++)
		buf_printf(&in, "<div>level%d ", i);
	buf_adds(&in, "deep text");
	for (int i = 0; i < 300; i++)
		buf_adds(&in, "</div>");
	buf_adds(&in, "<p>after</p>");
	cut = cut_render(in.data, in.len, 1 << 20, &h, &t, &deep);
	ck_assert_int_eq(deep, 1);
	ck_assert_uint_gt(cut, 1000);
	has(buf_str(&t), "level250");
	has(buf_str(&h), "level250");
	has(buf_str(&t), "[cut: ");
	has(buf_str(&h), "<p>[cut: ");
	buf_free(&in);
	buf_free(&h);
	buf_free(&t);
}
END_TEST

/*
 * One item of 100,000 images: rendering is linear (each reference is
 * looked up by hash, not by scanning the ones before) and small (past
 * 25,000 tags the content is cut, and says so).  Measured in a child,
 * whose peak RSS is its own: at most 64 MB, where it took 168 MB.
 */
START_TEST(many_images_stay_small)
{
	int fds[2];
	pid_t pid;
	long peak_kb = -1;
	char verdict[128] = "";

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct buf in = BUF_INIT, h = BUF_INIT, t = BUF_INIT;
		struct strv links = STRV_INIT;
		struct err e = {0};
		struct rusage ru;
		char out[128];
		int ok;

		for (int i = 0; i < 100000; i++)
			buf_printf(
			    &in, "<p><img src=\"http://example.org/i/%d.png\" alt=\"pic %d\"></p>",
			    i, i);
		ok = html_render(in.data, in.len, BASE, 72, 1, &h, &t, &links, &e) == 0 &&
		     strstr(t.data,
		            "[The rest of this item was cut: it has more than 25,000 tags.]") &&
		     strstr(h.data, "[The rest of this item was cut") && links.n > 8000 &&
		     links.n <= 25000;
		getrusage(RUSAGE_SELF, &ru);
		snprintf(out, sizeof out, "%d %ld %zu", ok, ru.ru_maxrss, links.n);
		(void)!write(fds[1], out, strlen(out));
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_gt(read(fds[0], verdict, sizeof verdict - 1), 0);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	ck_assert_msg(verdict[0] == '1', "render or its cut note failed: %s", verdict);
	peak_kb = strtol(verdict + 2, NULL, 10);
	ck_assert_msg(peak_kb < 64 * 1024, "peak RSS %ld KB (%s)", peak_kb, verdict);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, sanitize_hostile);
	tcase_add_test(tc, sanitize_urls);
	tcase_add_test(tc, sanitize_images_and_output);
	tcase_add_test(tc, garbage_and_depth);
	tcase_add_test(tc, embedded_video_is_a_link);
	tcase_add_test(tc, headings_are_demoted);
	tcase_add_test(tc, links_in_pre_keep_their_reference);
	tcase_add_test(tc, table_rows_are_lines);
	tcase_add_test(tc, cjk_wraps_between_ideographs);
	tcase_add_test(tc, cut_content_is_told);
	tcase_add_test(tc, text_blocks);
	tcase_add_test(tc, text_links);
	tcase_add_test(tc, text_wraps_never_breaking_urls);
	tcase_add_test(tc, render_parts_are_independent);
	tcase_add_test(tc, serialiser_matches_libxml2);
	tcase_add_test(tc, attribute_values_are_always_escaped);
	tcase_add_test(tc, many_images_stay_small);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
