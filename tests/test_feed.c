/* Unit tests for src/feed.c: formats, identity, links, tags, content, and
 * the breakage real feeds carry. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "util.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static struct feed f;
static struct err e;

static int
parse(const char *doc, const char *url)
{
	memset(&e, 0, sizeof e);
	return feed_parse(doc, strlen(doc), url, &f, &e);
}

static void
teardown(void)
{
	feed_free(&f);
}

static int
has_tag(const struct item *it, const char *tag)
{
	for (size_t i = 0; i < it->ntags; i++)
		if (strcmp(it->tags[i], tag) == 0)
			return 1;
	return 0;
}

static const char rss20[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
    "     xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "<channel><title>Example &amp; Co</title><link>http://example.org/</link>\n"
    "<lastBuildDate>Wed, 25 Nov 2026 10:00:00 GMT</lastBuildDate>\n"
    "<item><title>First</title><link>/posts/1</link>\n"
    " <guid isPermaLink=\"false\">post-1</guid>\n"
    " <pubDate>Tue, 16 Dec 2008 07:45:46 +0000</pubDate>\n"
    " <description>&lt;p&gt;short&lt;/p&gt;</description>\n"
    " <content:encoded><![CDATA[<p>long & full</p>]]></content:encoded>\n"
    " <category> Linux </category><category>linux</category><category>Net</category>\n"
    " <dc:subject>net</dc:subject><dc:subject>Cup</dc:subject>\n"
    " <author>john@example.org (John)</author>\n"
    " <enclosure url=\"/a.mp3\" type=\"audio/mpeg\" length=\"1234\"/>\n"
    "</item>\n"
    "<item><title>Second</title><description>only a summary</description>\n"
    " <dc:date>2008-12-17T10:00:00+01:00</dc:date></item>\n"
    "</channel></rss>\n";

START_TEST(rss20_fields)
{
	const struct item *it;

	ck_assert_int_eq(parse(rss20, "https://example.org/feed.xml"), 0);
	ck_assert_str_eq(f.format, "rss20");
	ck_assert_str_eq(f.title, "Example & Co");
	ck_assert_str_eq(f.link, "http://example.org/");
	ck_assert_int_eq(f.updated, 1795600800);
	ck_assert_ptr_null(f.warning);
	ck_assert_uint_eq(f.nitems, 2);
	it = &f.items[0];
	ck_assert_str_eq(it->id, "post-1");
	ck_assert_str_eq(it->title, "First");
	ck_assert_str_eq(it->link, "https://example.org/posts/1");
	ck_assert_int_eq(it->has_date, 1);
	ck_assert_int_eq(it->published, 1229413546);
	ck_assert_str_eq(it->content, "<p>long & full</p>");
	ck_assert_str_eq(it->summary, "<p>short</p>");
	ck_assert_str_eq(it->author, "john@example.org (John)");
	ck_assert_uint_eq(it->ntags, 3);
	ck_assert_str_eq(it->tags[0], "Linux");
	ck_assert(has_tag(it, "Net") && has_tag(it, "Cup") && !has_tag(it, "net"));
	ck_assert_uint_eq(it->nenclosures, 1);
	ck_assert_str_eq(it->enclosures[0].url, "https://example.org/a.mp3");
	ck_assert_str_eq(it->enclosures[0].type, "audio/mpeg");
	ck_assert_int_eq(it->enclosures[0].length, 1234);
	it = &f.items[1];
	/* no guid, no link: a hash of title and date */
	ck_assert(strncmp(it->id, "sha:", 4) == 0 && strlen(it->id) == 20);
	ck_assert_ptr_null(it->link);
	ck_assert_int_eq(it->published, 1229504400);
	/* content falls back to the summary */
	ck_assert_str_eq(it->content, "only a summary");
	ck_assert_str_eq(it->base, "https://example.org/feed.xml");
	ck_assert_str_eq(it->summary, "only a summary");
}
END_TEST

START_TEST(hash_id_is_stable)
{
	char *first;

	ck_assert_int_eq(parse(rss20, NULL), 0);
	first = strdup(f.items[1].id);
	feed_free(&f);
	ck_assert_int_eq(parse(rss20, "http://elsewhere.example/"), 0);
	ck_assert_str_eq(f.items[1].id, first);
	free(first);
}
END_TEST

START_TEST(rss10_rdf)
{
	static const char doc[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
	    " xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
	    "<channel rdf:about=\"http://example.org/\"><title>RDF site</title>\n"
	    "<link>http://example.org/</link>\n"
	    "<items><rdf:Seq><rdf:li "
	    "resource=\"http://example.org/1\"/></rdf:Seq></items></channel>\n"
	    "<item rdf:about=\"http://example.org/1\"><title>One</title>\n"
	    "<link>http://example.org/1.html</link><dc:date>2017-06-13T09:00:00+00:00</dc:date>\n"
	    "<dc:subject>Debian</dc:subject><description>d</description></item>\n"
	    "<item rdf:about=\"urn:x:2\"><title>Two</title></item>\n"
	    "</rdf:RDF>\n";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.format, "rss10");
	ck_assert_str_eq(f.title, "RDF site");
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].id, "http://example.org/1");
	ck_assert_str_eq(f.items[0].link, "http://example.org/1.html");
	ck_assert_int_eq(f.items[0].published, 1497344400);
	ck_assert(has_tag(&f.items[0], "Debian"));
	ck_assert_str_eq(f.items[1].id, "urn:x:2");
	ck_assert_int_eq(f.items[1].has_date, 0);
}
END_TEST

START_TEST(rss09x_link_is_id)
{
	static const char doc[] = "<rss version=\"0.91\"><channel><title>Old</title>\n"
	                          "<item><title>A</title><link>http://example.org/a</link></item>\n"
	                          "</channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.format, "rss09x");
	ck_assert_str_eq(f.items[0].id, "http://example.org/a");
}
END_TEST

START_TEST(guid_permalink_is_link)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel>\n"
	    "<item><guid>http://example.org/p/1</guid></item>\n"
	    "<item><guid isPermaLink=\"false\">http://example.org/p/2</guid></item>\n"
	    "</channel></rss>";

	ck_assert_int_eq(parse(doc, "http://other.example/"), 0);
	ck_assert_str_eq(f.items[0].link, "http://example.org/p/1");
	ck_assert_ptr_null(f.items[1].link);
	ck_assert_str_eq(f.items[1].id, "http://example.org/p/2");
}
END_TEST

static const char atom10[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://example.org/blog/\">\n"
    "<title type=\"html\">Dive &lt;em&gt;into&lt;/em&gt; mark</title>\n"
    "<link rel=\"alternate\" href=\"/\"/><link rel=\"self\" href=\"/feed.atom\"/>\n"
    "<updated>2005-07-31T12:29:29Z</updated>\n"
    "<entry><title>Atom draft-07 snapshot</title>\n"
    " <link rel=\"enclosure\" type=\"audio/mpeg\" length=\"1337\" "
    "href=\"audio/ph34r_my_podcast.mp3\"/>\n"
    " <link rel=\"alternate\" type=\"text/html\" href=\"2005/04/02/atom\"/>\n"
    " <id>tag:example.org,2003:3.2397</id>\n"
    " <updated>2005-07-31T12:29:29Z</updated><published>2003-12-13T08:29:29-04:00</published>\n"
    " <category term=\"atom\"/><category label=\"Specs\"/><category term=\" ATOM \"/>\n"
    " <author><name>Mark Pilgrim</name></author>\n"
    " <summary>a &lt; b</summary>\n"
    " <content type=\"xhtml\" xml:base=\"http://diveintomark.org/\">"
    "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><i>[Update: The Atom draft is finished.]</i>"
    "<br/>a &amp; b</p></div></content>\n"
    "</entry>\n"
    "<entry xml:base=\"/other/\"><title type=\"text\">x &lt; y</title>"
    "<summary type=\"html\">&lt;b&gt;s&lt;/b&gt;</summary>"
    "<link href=\"page\"/><id>urn:uuid:1</id><updated>2005-07-31T12:29:29Z</updated>"
    "<content type=\"text\">1 &lt; 2 &amp; 3</content></entry>\n"
    "</feed>\n";

START_TEST(atom10_fields)
{
	const struct item *it;

	ck_assert_int_eq(parse(atom10, "http://ignored.example/feed"), 0);
	ck_assert_str_eq(f.format, "atom10");
	ck_assert_str_eq(f.title, "Dive into mark");
	ck_assert_str_eq(f.items[0].title, "Atom draft-07 snapshot");
	ck_assert_str_eq(f.link, "http://example.org/");
	ck_assert_int_eq(f.updated, 1122812969);
	ck_assert_uint_eq(f.nitems, 2);
	it = &f.items[0];
	ck_assert_str_eq(it->id, "tag:example.org,2003:3.2397");
	ck_assert_str_eq(it->link, "http://example.org/blog/2005/04/02/atom");
	/* published beats updated */
	ck_assert_int_eq(it->published, 1071318569);
	ck_assert_uint_eq(it->ntags, 2);
	ck_assert(has_tag(it, "atom") && has_tag(it, "Specs"));
	ck_assert_str_eq(it->author, "Mark Pilgrim");
	ck_assert_str_eq(it->summary, "a &lt; b");
	/* xhtml: serialised, without the wrapping div */
	ck_assert_str_eq(it->content,
	                 "<p><i>[Update: The Atom draft is finished.]</i><br>a &amp; b</p>");
	ck_assert_str_eq(it->base, "http://diveintomark.org/");
	ck_assert_uint_eq(it->nenclosures, 1);
	ck_assert_str_eq(it->enclosures[0].url,
	                 "http://example.org/blog/audio/ph34r_my_podcast.mp3");
	ck_assert_int_eq(it->enclosures[0].length, 1337);
	it = &f.items[1];
	ck_assert_str_eq(it->title, "x < y");
	/* nested xml:base resolves against the outer one */
	ck_assert_str_eq(it->link, "http://example.org/other/page");
	ck_assert_str_eq(it->id, "urn:uuid:1");
	ck_assert_str_eq(it->summary, "<b>s</b>");
	/* type="text" becomes escaped HTML */
	ck_assert_str_eq(it->content, "1 &lt; 2 &amp; 3");
	ck_assert_int_eq(it->published, 1122812969);
}
END_TEST

START_TEST(atom03)
{
	static const char doc[] =
	    "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>Old Atom</title>\n"
	    "<entry><title>E</title><link rel=\"alternate\" type=\"text/html\" "
	    "href=\"http://e.example/1\"/>\n"
	    "<id>tag:e,2004:1</id><issued>2004-01-01T00:00:00Z</"
	    "issued><modified>2004-01-02T00:00:00Z</modified>\n"
	    "<content type=\"text/html\" "
	    "mode=\"escaped\">&lt;b&gt;bold&lt;/b&gt;</content></entry></feed>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_str_eq(f.format, "atom03");
	ck_assert_str_eq(f.items[0].link, "http://e.example/1");
	ck_assert_int_eq(f.items[0].published, 1072915200);
	ck_assert_str_eq(f.items[0].content, "<b>bold</b>");
}
END_TEST

START_TEST(html_title_of_only_tags)
{
	/* found by the fuzzer: an empty result of html_text was not terminated */
	static const char doc[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	    "<title type=\"html\">&lt;br&gt;</title>"
	    "<entry><title type=\"text/html\">&lt;b&gt;&lt;/b&gt;</title></entry>"
	    "</feed>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_ptr_null(f.title);
	ck_assert_str_eq(f.items[0].title, "");
}
END_TEST

START_TEST(atom_entry_document)
{
	static const char doc[] =
	    "<entry xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"html\">"
	    "Al&lt;b&gt;o&lt;/b&gt;ne&lt;br/&gt;again &amp;amp; &amp;eacute;</title><id>urn:a</id>"
	    "<updated>2009-08-31T18:55:12Z</updated></entry>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.nitems, 1);
	/* html title: inline tags join, <br> separates, entities decoded */
	ck_assert_str_eq(f.items[0].title, "Alone again & \xC3\xA9");
	ck_assert_str_eq(f.items[0].id, "urn:a");
}
END_TEST

/* RSS 2.0: isPermaLink defaults to true, so a guid is a URL, relative ones too */
START_TEST(guid_resolves_as_link)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel>\n"
	    "<item><guid>posts/7</guid></item>\n"
	    "<item xml:base=\"https://cdn.example/a/\"><guid> b </guid></item>\n"
	    "<item><guid>urn:uuid:42</guid></item>\n"
	    "<item><guid>tag:example.org,2024:1</guid></item>\n"
	    "<item><guid isPermaLink=\"false\">posts/8</guid></item>\n"
	    "<item><guid>posts/9</guid><link>http://blog.example/nine</link></item>\n"
	    "</channel></rss>";

	ck_assert_int_eq(parse(doc, "http://blog.example/feed/"), 0);
	ck_assert_uint_eq(f.nitems, 6);
	ck_assert_str_eq(f.items[0].link, "http://blog.example/feed/posts/7");
	ck_assert_str_eq(f.items[0].id, "posts/7");
	ck_assert_str_eq(f.items[1].link, "https://cdn.example/a/b");
	ck_assert_ptr_null(f.items[2].link);
	ck_assert_str_eq(f.items[2].id, "urn:uuid:42");
	ck_assert_ptr_null(f.items[3].link);
	ck_assert_ptr_null(f.items[4].link);
	ck_assert_str_eq(f.items[5].link, "http://blog.example/nine");
	feed_free(&f);
	/* a file has no URL: the guid stays as written, as a relative <link> does */
	ck_assert_int_eq(
	    parse("<rss><channel><item><guid>dzpodclean</guid></item></channel></rss>", NULL), 0);
	ck_assert_str_eq(f.items[0].link, "dzpodclean");
}
END_TEST

/* An OPDS navigation entry: a relative Atom id and no alternate link */
START_TEST(atom_relative_id_is_link)
{
	static const char doc[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>root.xml</id><title>C</title>\n"
	    "<entry><title>First</title><id>main.xml</id>"
	    "<link rel=\"subsection\" href=\"acquisition/main.xml\"/></entry>\n"
	    "<entry><title>Book</title><id>urn:uuid:135d0478</id></entry>\n"
	    "</feed>";

	ck_assert_int_eq(parse(doc, "http://cat.example/opds/root.xml"), 0);
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].link, "http://cat.example/opds/main.xml");
	ck_assert_ptr_null(f.items[1].link);
}
END_TEST

/* Podlove's RSS writes its links the Atom way, without the Atom namespace */
START_TEST(rss_link_with_href)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel><title>Podlove</title>\n"
	    "<item><title>Fiat Lux</title><link href=\"/podcast/1\"/>\n"
	    "<guid isPermaLink=\"false\">urn:uuid:3241</guid>\n"
	    "<link rel=\"enclosure\" type=\"audio/mpeg\" length=\"12345\" "
	    "href=\"http://pod.example/files/fiatlux.mp3\"/></item>\n"
	    "<item><title>Text</title><link>http://pod.example/2</link></item>\n"
	    "</channel></rss>";

	ck_assert_int_eq(parse(doc, "http://pod.example/feed"), 0);
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].link, "http://pod.example/podcast/1");
	ck_assert_uint_eq(f.items[0].nenclosures, 1);
	ck_assert_str_eq(f.items[0].enclosures[0].url, "http://pod.example/files/fiatlux.mp3");
	ck_assert_int_eq(f.items[0].enclosures[0].length, 12345);
	ck_assert_str_eq(f.items[1].link, "http://pod.example/2");
}
END_TEST

/* Flickr's RSS tags its photos in media:category, as feedparser reads it */
START_TEST(media_category_is_a_tag)
{
	static const char doc[] =
	    "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>\n"
	    "<item><title>Zarro Boogs</title><link>http://flickr.example/p/1</link>\n"
	    "<media:category scheme=\"urn:flickr:tags\">screenshot firefox rss</media:category>\n"
	    "<media:group><media:category>in group</media:category></media:group>\n"
	    "<category>plain</category></item>\n"
	    "</channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.items[0].ntags, 3);
	ck_assert(has_tag(&f.items[0], "screenshot firefox rss"));
	ck_assert(has_tag(&f.items[0], "in group"));
	ck_assert(has_tag(&f.items[0], "plain"));
}
END_TEST

START_TEST(ids_are_not_resolved)
{
	static const char doc[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://example.org/\">"
	    "<entry><id>relative/id</id><link href=\"relative/link\"/></entry></feed>";

	ck_assert_int_eq(parse(doc, "http://feed.example/x"), 0);
	ck_assert_str_eq(f.items[0].id, "relative/id");
	ck_assert_str_eq(f.items[0].link, "http://example.org/relative/link");
}
END_TEST

/* libxml2 gives SAX2 an attribute's "&" as "&#38;": links, ids made of them, xhtml hrefs */
START_TEST(ampersands_in_attributes)
{
	static const char doc[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>\n"
	    "<entry><title>a</title><link href=\"http://example.org/post?id=5&amp;lang=en\"/>\n"
	    "<link rel=\"enclosure\" href=\"http://example.org/a.mp3?x=1&amp;y=2\"/>\n"
	    "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">"
	    "<a href=\"http://x.org/?a=1&amp;b=2&amp;c=3\" title=\"&quot;q&quot; &amp;#38;\">x</a>"
	    "</div></content></entry>\n"
	    "<entry><title>b</title><link href=\"/p?a=1&b=2\"/></entry></feed>";

	ck_assert_int_eq(parse(doc, "http://example.org/feed"), 0);
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].link, "http://example.org/post?id=5&lang=en");
	ck_assert_str_eq(f.items[0].id, "http://example.org/post?id=5&lang=en");
	ck_assert_str_eq(f.items[0].enclosures[0].url, "http://example.org/a.mp3?x=1&y=2");
	ck_assert_str_eq(f.items[0].content, "<a href=\"http://x.org/?a=1&amp;b=2&amp;c=3\" "
	                                     "title=\"&quot;q&quot; &amp;#38;\">x</a>");
	ck_assert_str_eq(f.items[1].link, "http://example.org/p?a=1&b=2");
}
END_TEST

/* A podcast: enclosure, duration, episode image; an empty content:encoded hides nothing */
START_TEST(podcast_episode)
{
	static const char doc[] =
	    "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"\n"
	    " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>P</"
	    "title>\n"
	    "<item><title>Ep 1</title><guid>ep1</guid>\n"
	    "<description>&lt;p&gt;Show notes&lt;/p&gt;</description><content:encoded/>\n"
	    "<enclosure url=\"/ep1.mp3\" type=\"audio/mpeg\" length=\"31337\"/>\n"
	    "<itunes:duration> 1:02:03 </itunes:duration>\n"
	    "<itunes:image href=\"/ep1.jpg\"/></item>\n"
	    "<item><title>Ep 2</title><guid>ep2</guid><description>notes 2</description>\n"
	    "<content:encoded><![CDATA[ \n ]]></content:encoded></item>\n"
	    "</channel></rss>";
	const struct item *it;

	ck_assert_int_eq(parse(doc, "https://pod.example/feed"), 0);
	ck_assert_uint_eq(f.nitems, 2);
	it = &f.items[0];
	ck_assert_str_eq(it->content, "<p>Show notes</p>");
	ck_assert_uint_eq(it->nenclosures, 1);
	ck_assert_str_eq(it->enclosures[0].url, "https://pod.example/ep1.mp3");
	ck_assert_str_eq(it->enclosures[0].type, "audio/mpeg");
	ck_assert_int_eq(it->enclosures[0].length, 31337);
	ck_assert_str_eq(it->duration, "1:02:03");
	ck_assert_str_eq(it->thumbnail, "https://pod.example/ep1.jpg");
	ck_assert_str_eq(f.items[1].content, "notes 2");
	ck_assert_ptr_null(f.items[1].duration);
}
END_TEST

/* A YouTube channel feed: the description and thumbnail are in media:group */
START_TEST(youtube_media_group)
{
	static const char doc[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	    "xmlns:yt=\"http://www.youtube.com/xml/schemas/2015\"\n"
	    " xmlns:media=\"http://search.yahoo.com/mrss/\"><title>Chan</title>\n"
	    "<entry><id>yt:video:abc</id><yt:videoId>abc</yt:videoId><title>Video &amp; "
	    "more</title>\n"
	    "<link rel=\"alternate\" href=\"https://www.youtube.com/watch?v=abc\"/>\n"
	    "<published>2026-11-20T10:00:00+00:00</published>\n"
	    "<media:group><media:title>Video &amp; more</media:title>\n"
	    "<media:content url=\"https://www.youtube.com/v/abc?version=3\" "
	    "type=\"application/x-shockwave-flash\"/>\n"
	    "<media:thumbnail url=\"https://i1.ytimg.com/vi/abc/hqdefault.jpg\" width=\"480\" "
	    "height=\"360\"/>\n"
	    "<media:description>Line one &lt;3\nLine two</media:description>\n"
	    "</media:group></entry></feed>";
	const struct item *it;

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.nitems, 1);
	it = &f.items[0];
	ck_assert_str_eq(it->title, "Video & more");
	ck_assert_str_eq(it->link, "https://www.youtube.com/watch?v=abc");
	ck_assert_str_eq(it->thumbnail, "https://i1.ytimg.com/vi/abc/hqdefault.jpg");
	ck_assert_str_eq(it->summary, "Line one &lt;3<br>\nLine two");
	ck_assert_str_eq(it->content, it->summary);
}
END_TEST

/* Links besides the alternate one: every one is kept, with its rel and title */
START_TEST(other_links_are_kept)
{
	static const char doc[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>\n"
	    "<entry><id>x</id><title>a</title>\n"
	    "<link rel=\"alternate\" type=\"application/pdf\" href=\"/a.pdf\"/>\n"
	    "<link href=\"/a.html\"/>\n"
	    "<link rel=\"replies\" type=\"text/html\" href=\"/a.html#comments\" title=\"3 "
	    "comments\"/>\n"
	    "<link rel=\"related\" href=\"http://other.example/?a=1&amp;b=2\"/>\n"
	    "<link href=\"/a-de.html\" hreflang=\"de\"/>\n"
	    "</entry></feed>";
	const struct item *it;

	ck_assert_int_eq(parse(doc, "http://e.example/feed"), 0);
	it = &f.items[0];
	ck_assert_str_eq(it->link, "http://e.example/a.html");
	ck_assert_uint_eq(it->nlinks, 4);
	ck_assert_str_eq(it->links[0].url, "http://e.example/a.pdf");
	ck_assert_str_eq(it->links[0].rel, "alternate");
	ck_assert_str_eq(it->links[0].type, "application/pdf");
	ck_assert_str_eq(it->links[1].url, "http://e.example/a.html#comments");
	ck_assert_str_eq(it->links[1].rel, "replies");
	ck_assert_str_eq(it->links[1].title, "3 comments");
	ck_assert_str_eq(it->links[2].url, "http://other.example/?a=1&b=2");
	ck_assert_str_eq(it->links[3].url, "http://e.example/a-de.html");
	ck_assert_ptr_null(it->links[3].title);
}
END_TEST

START_TEST(truncated_keeps_items_before_the_cut)
{
	static const char doc[] = "<rss version=\"2.0\"><channel><title>T</title>\n"
	                          "<item><title>one</title><guid>1</guid></item>\n"
	                          "<item><title>two</title><guid>2</guid></item>\n"
	                          "<item><title>thr";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].id, "1");
	ck_assert_str_eq(f.items[1].id, "2");
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_ptr_nonnull(strstr(f.warning, "truncated"));
	ck_assert_ptr_nonnull(strstr(f.warning, "1 item cut short held back"));
}
END_TEST

/*
 * Cut inside item 2 before its guid: item 2 would get an id made from its
 * cut link, be delivered damaged, then again whole.  It is held back.
 */
START_TEST(item_cut_short_is_held_back)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel><title>T</title>\n"
	    "<item><title>one</title><link>http://e.example/1</link><guid>g1</guid></item>\n"
	    "<item><title>two</title><link>http://e.example/2-a-long-sl</link>\n"
	    "<description>&lt;p&gt;half a para";
	static const char atom[] = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>\n"
	                           "<entry><id>e1</id><title>one</title></entry>\n"
	                           "<entry><title>two</title><link href=\"http://e.example/2-a-lo";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_str_eq(f.items[0].id, "g1");
	ck_assert_ptr_nonnull(strstr(f.warning, "held back"));
	feed_free(&f);
	ck_assert_int_eq(parse(atom, NULL), 0);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_str_eq(f.items[0].id, "e1");
}
END_TEST

/* Unescaped HTML in one entry (a <p> and a <br> never closed) must not swallow the rest */
START_TEST(mismatched_tags_lose_no_entries)
{
	struct buf doc = BUF_INIT;

	buf_adds(&doc, "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	               "<title>T</title>\n");
	for (int i = 0; i < 25; i++)
		buf_printf(&doc,
		           "<entry><id>urn:e%d</id><title>Entry %d</title>"
		           "<link href=\"http://e.example/%d\"/><summary type=\"html\">%s</summary>"
		           "</entry>\n",
		           i, i, i,
		           i == 4   ? "para <p>one<br> two"
		           : i == 9 ? "Look at <b>this</i> and <img src='x'> that"
		                    : "fine &lt;b&gt;text&lt;/b&gt;");
	buf_adds(&doc, "</feed>\n");
	ck_assert_int_eq(parse(doc.data, NULL), 0);
	buf_free(&doc);
	ck_assert_uint_eq(f.nitems, 25);
	for (size_t i = 0; i < 25; i++) {
		char want[32];

		snprintf(want, sizeof want, "urn:e%zu", i);
		ck_assert_str_eq(f.items[i].id, want);
		snprintf(want, sizeof want, "Entry %zu", i);
		ck_assert_str_eq(f.items[i].title, want);
	}
	ck_assert_str_eq(f.items[4].summary, "para <p>one<br> two</p>");
	ck_assert_str_eq(f.items[5].summary, "fine <b>text</b>");
	ck_assert_str_eq(f.items[24].link, "http://e.example/24");
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_ptr_nonnull(strstr(f.warning, "tag mismatch"));
	feed_free(&f);
	/* an end tag naming the root closes everything; libxml2's late ends are absorbed */
	ck_assert_int_eq(parse("<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>a</id>"
	                       "<summary type=\"html\"><p>x<b>y</feed></entry></summary>"
	                       "<entry><id>b</id></entry></p></b></x>",
	                       NULL),
	                 0);
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].id, "a");
	ck_assert_str_eq(f.items[0].summary, "<p>x<b>y</b></p>");
	ck_assert_str_eq(f.items[1].id, "b");
}
END_TEST

/* A feed inside an XHTML page is read; the page around it is not */
START_TEST(feed_inside_an_xhtml_page)
{
	static const char doc[] =
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>x</title></head><body>\n"
	    "<p>My feed:</p>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Wrapped</title>\n"
	    "<entry><id>urn:1</id><title>One</title><link href=\"/1\"/></entry>\n"
	    "<entry><id>urn:2</id><title>Two</title><summary>a &amp; b</summary></entry>\n"
	    "</feed>\n"
	    "<div><entry><id>urn:3</id><title>Not an entry</title></entry></div>\n"
	    "</body></html>";

	ck_assert_int_eq(parse(doc, "http://w.example/page"), 0);
	ck_assert_str_eq(f.format, "atom10");
	ck_assert_str_eq(f.title, "Wrapped");
	ck_assert_uint_eq(f.nitems, 2);
	ck_assert_str_eq(f.items[0].link, "http://w.example/1");
	ck_assert_str_eq(f.items[1].summary, "a &amp; b");
	feed_free(&f);
	ck_assert_int_eq(
	    parse("<html><body><p>no feed here, only <feed>ing tips</p></body></html>", NULL), -1);
	ck_assert_str_eq(e.msg, "not a feed: an HTML page");
}
END_TEST

START_TEST(html_page_is_an_error)
{
	ck_assert_int_eq(parse("<!DOCTYPE html>\n<html><head><title>Hi</title></head>"
	                       "<body><p>hello</body></html>",
	                       NULL),
	                 -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_str_eq(e.msg, "not a feed: an HTML page");
	ck_assert_int_eq(
	    parse("<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">"
	          "<body/></html>",
	          NULL),
	    -1);
	ck_assert_str_eq(e.msg, "not a feed: an HTML page");
	ck_assert_int_eq(parse("<catalog><book/></catalog>", NULL), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a feed"));
	ck_assert_int_eq(parse("{\"version\": \"https://jsonfeed.org/version/1.1\"}", NULL), -1);
	ck_assert_str_eq(e.msg, "not a feed: JSON, but not a JSON Feed");
	ck_assert_ptr_nonnull(strstr(e.msg, "not a feed"));
	ck_assert_int_eq(parse("just some text", NULL), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a feed"));
}
END_TEST

START_TEST(empty_is_an_error)
{
	ck_assert_int_eq(parse("", NULL), -1);
	ck_assert_str_eq(e.msg, "not a feed: empty document");
	ck_assert_int_eq(parse(" \n\t\n", NULL), -1);
	ck_assert_str_eq(e.msg, "not a feed: empty document");
	ck_assert_int_eq(feed_parse(NULL, 0, NULL, &f, &e), -1);
	ck_assert_int_eq(parse("<?xml version=\"1.0\"?>\n", NULL), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a feed"));
}
END_TEST

START_TEST(xxe_is_not_expanded)
{
	char path[] = "/tmp/tidings-xxe-XXXXXX", doc[1024];
	const char *secret = "SECRET-b7f3c1";
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(secret, fp);
	fclose(fp);
	snprintf(doc, sizeof doc,
	         "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://%s\">"
	         "<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>\n"
	         "<rss version=\"2.0\"><channel><title>&xxe;</title>"
	         "<item><title>a &xxe; b</title><description>&xxe;</description></item>"
	         "</channel></rss>",
	         path, path);
	ck_assert_int_eq(parse(doc, NULL), 0);
	unlink(path);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert(f.title == NULL || strstr(f.title, secret) == NULL);
	ck_assert(strstr(f.items[0].title, secret) == NULL);
	ck_assert(f.items[0].summary == NULL || strstr(f.items[0].summary, secret) == NULL);
}
END_TEST

START_TEST(billion_laughs_is_bounded)
{
	static const char doc[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n"
	    "<!ENTITY lol \"lol\">\n"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n<rss version=\"2.0\"><channel><item><title>&lol9;</title>"
	    "<description>&lol9;&lol9;</description></item></channel></rss>";
	clock_t t0 = clock();

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_uint_lt(strlen(f.items[0].title), 100);
	ck_assert(f.items[0].summary == NULL || strlen(f.items[0].summary) < 100);
	ck_assert_int_lt(clock() - t0, CLOCKS_PER_SEC);
}
END_TEST

START_TEST(deep_nesting_is_bounded)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<rss version=\"2.0\"><channel><item><title>deep</title><description>");
	for (int i = 0; i < 5000; i++)
		buf_adds(&b, "<div>");
	buf_adds(&b, "x");
	for (int i = 0; i < 5000; i++)
		buf_adds(&b, "</div>");
	buf_adds(&b, "</description></item></channel></rss>");
	ck_assert_int_eq(feed_parse(b.data, b.len, NULL, &f, &e), 0);
	ck_assert_uint_eq(f.nitems, 1);
	ck_assert_str_eq(f.items[0].title, "deep");
	buf_free(&b);
}
END_TEST

START_TEST(nested_items_are_items)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel>"
	    "<item><title>outer</title><item/><link>http://e.example/o</link></item>"
	    "<item><title>next</title></item></channel></rss>";

	ck_assert_int_eq(parse(doc, NULL), 0);
	ck_assert_uint_eq(f.nitems, 3);
	ck_assert_str_eq(f.items[0].title, "outer");
	ck_assert_str_eq(f.items[0].link, "http://e.example/o");
	ck_assert_str_eq(f.items[1].title, "");
	ck_assert_str_eq(f.items[2].title, "next");
}
END_TEST

START_TEST(seed_feed)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *fp =
	    fopen(TOP_SRCDIR "/tests/data/corpus/feeds/seed__inodes-tag-bulletproof.xml", "rb");

	ck_assert_ptr_nonnull(fp);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	ck_assert_int_eq(
	    feed_parse(b.data, b.len, "http://inodes.org/tag/bulletproof/feed/", &f, &e), 0);
	buf_free(&b);
	ck_assert_str_eq(f.format, "rss20");
	ck_assert_uint_eq(f.nitems, 9);
	ck_assert_ptr_null(f.warning);
	ck_assert_str_eq(f.items[0].id, "http://inodes.org/blog/?p=108");
	ck_assert_str_eq(f.items[0].title, "Mac OS X L2TP VPN to Cisco IOS");
	ck_assert_str_eq(f.items[0].link,
	                 "http://inodes.org/2008/12/16/mac-os-x-l2tp-vpn-to-cisco-ios/");
	ck_assert_int_eq(f.items[0].published, 1229413546);
	ck_assert_uint_eq(f.items[0].ntags, 5);
	ck_assert(has_tag(&f.items[0], "networking") && has_tag(&f.items[0], "mac os x") &&
	          has_tag(&f.items[0], "cisco") && has_tag(&f.items[0], "Bulletproof"));
	ck_assert_str_eq(f.items[1].id, "http://inodes.org/blog/?p=80");
	ck_assert(has_tag(&f.items[1], "cup") && has_tag(&f.items[1], "Sysadmin"));
	ck_assert_str_eq(f.items[8].id,
	                 "http://inodes.org/blog/2006/08/23/vmware-consolidated-backup/");
	ck_assert(has_tag(&f.items[8], "VMware"));
	for (size_t i = 0; i < f.nitems; i++)
		ck_assert_ptr_nonnull(f.items[i].content);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("feed");
	TCase *tc = tcase_create("feed");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, rss20_fields);
	tcase_add_test(tc, guid_resolves_as_link);
	tcase_add_test(tc, atom_relative_id_is_link);
	tcase_add_test(tc, rss_link_with_href);
	tcase_add_test(tc, media_category_is_a_tag);
	tcase_add_test(tc, hash_id_is_stable);
	tcase_add_test(tc, rss10_rdf);
	tcase_add_test(tc, rss09x_link_is_id);
	tcase_add_test(tc, guid_permalink_is_link);
	tcase_add_test(tc, atom10_fields);
	tcase_add_test(tc, atom03);
	tcase_add_test(tc, html_title_of_only_tags);
	tcase_add_test(tc, atom_entry_document);
	tcase_add_test(tc, ids_are_not_resolved);
	tcase_add_test(tc, ampersands_in_attributes);
	tcase_add_test(tc, podcast_episode);
	tcase_add_test(tc, youtube_media_group);
	tcase_add_test(tc, other_links_are_kept);
	tcase_add_test(tc, truncated_keeps_items_before_the_cut);
	tcase_add_test(tc, item_cut_short_is_held_back);
	tcase_add_test(tc, html_page_is_an_error);
	tcase_add_test(tc, mismatched_tags_lose_no_entries);
	tcase_add_test(tc, feed_inside_an_xhtml_page);
	tcase_add_test(tc, empty_is_an_error);
	tcase_add_test(tc, xxe_is_not_expanded);
	tcase_add_test(tc, billion_laughs_is_bounded);
	tcase_add_test(tc, deep_nesting_is_bounded);
	tcase_add_test(tc, nested_items_are_items);
	tcase_add_test(tc, seed_feed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
