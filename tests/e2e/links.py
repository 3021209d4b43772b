"""Every link of an item reaches the digest whole: an href in the HTML
part, a URL in the text part, and no href holding "#38;" (an "&amp;"
decoded twice, which turned "?id=5&lang=en" into a fragment).  The feeds
are the shapes that lost links: an Atom link with "&amp;", html content
with "&amp;amp;" in an href, xhtml content with two "&amp;" in one href,
and the same in RSS."""
import re

from e2e import main, parts

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Alerts</title><id>urn:alerts</id>
<updated>2024-01-01T00:00:00Z</updated>
<entry><title>Amp in the link</title><id>urn:1</id><updated>2024-01-01T00:00:00Z</updated>
<link href="http://example.org/post?id=5&amp;lang=en"/>
<content type="html">&lt;p&gt;&lt;a href="http://example.org/x?a=1&amp;amp;b=2"&gt;one&lt;/a&gt;&lt;/p&gt;</content>
</entry>
<entry><title>Amps in xhtml</title><id>urn:2</id><updated>2024-01-02T00:00:00Z</updated>
<link href="http://example.org/p2?id=6&amp;lang=de"/>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>
<a href="http://example.org/y?a=1&amp;b=2&amp;c=3">two</a> and
<a href="http://example.org/z?q=1&amp;r=2">three</a></p></div></content>
</entry>
</feed>
"""

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>R</title><link>http://example.org/</link><description>d</description>
<item><title>RSS amps</title><link>http://example.org/r?id=7&amp;lang=fr</link>
<guid isPermaLink="false">r-1</guid><pubDate>Wed, 03 Jan 2024 00:00:00 +0000</pubDate>
<description>&lt;a href="http://example.org/w?u=1&amp;amp;v=2"&gt;four&lt;/a&gt;</description></item>
</channel></rss>
"""

LINKS = ["http://example.org/post?id=5&lang=en", "http://example.org/x?a=1&b=2",
         "http://example.org/p2?id=6&lang=de", "http://example.org/y?a=1&b=2&c=3",
         "http://example.org/z?q=1&r=2", "http://example.org/r?id=7&lang=fr",
         "http://example.org/w?u=1&v=2"]


def test_every_link_is_an_href_and_a_url(t):
    t.config({"atom": t.serve("/atom.xml", ATOM), "rss": t.serve("/rss.xml", RSS)}, {"all": {}})
    t.run("run")
    text, html = parts(t.mbox()[0])
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*)"', html)]
    bad = [h for h in hrefs if "#38;" in h or "&#38;" in h]
    assert not bad, bad
    for url in LINKS:
        assert url in hrefs, (url, hrefs)
        assert url in text, (url, text)
    assert "#38;" not in text


if __name__ == "__main__":
    main(globals())
