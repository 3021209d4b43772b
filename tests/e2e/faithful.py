#!/usr/bin/env python3
"""What a feed gives reaches the reader, once: a podcast's notes and a link
to its audio (type, size, duration) in both parts, a video's description
and thumbnail, an item's other links, links with "&" in Atom attributes
(and ids recorded with "&#38;" before that was fixed are not sent again),
and an item cut short by a truncated download held back until it is whole."""
import re

from e2e import main, parse_message, parts

PODCAST = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Night Shift Radio</title><link>https://pod.example/</link>
<item><title>Episode 12: Lighthouses</title><guid isPermaLink="false">ep12</guid>
<pubDate>Tue, 24 Nov 2026 06:00:00 +0000</pubDate>
<description>&lt;p&gt;Show notes about lighthouse keepers.&lt;/p&gt;</description>
<content:encoded></content:encoded>
<enclosure url="https://cdn.pod.example/ep12.mp3?src=rss&amp;x=1" type="audio/mpeg" length="48213504"/>
<itunes:duration>3723</itunes:duration>
</item>
<item><title>Episode 11: Fog</title><guid isPermaLink="false">ep11</guid>
<pubDate>Tue, 17 Nov 2026 06:00:00 +0000</pubDate>
<description>Notes about fog horns.</description>
<content:encoded/>
<enclosure url="https://cdn.pod.example/ep11.m4a" type="audio/x-m4a" length="1200"/>
<itunes:duration>12:05</itunes:duration>
</item>
</channel></rss>
"""

YOUTUBE = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id=UCxyz"/>
 <id>yt:channel:UCxyz</id><title>Bridge Builders</title>
 <entry>
  <id>yt:video:vid001</id><yt:videoId>vid001</yt:videoId>
  <title>Building a rope bridge</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=vid001&amp;t=10s"/>
  <link rel="related" href="https://bridges.example/notes?id=1&amp;lang=en" title="Notes"/>
  <published>2026-11-20T10:00:00+00:00</published>
  <media:group>
   <media:title>Building a rope bridge</media:title>
   <media:content url="https://www.youtube.com/v/vid001?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i1.ytimg.com/vi/vid001/hqdefault.jpg" width="480" height="360"/>
   <media:description>We tie the first knots.
Then we cross the gorge.</media:description>
  </media:group>
 </entry>
</feed>
"""


def preview(t, body):
    url = t.serve("/feed.xml", body)
    t.config({"feed": url}, {"all": {"first-run": '"0"'}})
    r = t.run("preview", "all", env={"TZ": "UTC"})
    text, html = parts(parse_message(r.stdout))
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_podcast(t):
    text, html = preview(t, PODCAST)
    for part in (text, html):
        assert "lighthouse keepers" in part and "fog horns" in part, part
        assert "audio/mpeg, 48 MB, 1:02:03" in part, part
        assert "audio/x-m4a, 1.2 KB, 12:05" in part, part
    assert "Enclosure: https://cdn.pod.example/ep12.mp3?src=rss&x=1 (audio/mpeg" in text, text
    assert 'href="https://cdn.pod.example/ep12.mp3?src=rss&amp;x=1"' in html, html
    assert 'href="https://cdn.pod.example/ep11.m4a"' in html, html
    assert "#38;" not in text + html


def test_youtube(t):
    text, html = preview(t, YOUTUBE)
    for part in (text, html):
        assert "We tie the first knots." in part and "Then we cross the gorge." in part, part
    assert "Thumbnail: https://i1.ytimg.com/vi/vid001/hqdefault.jpg" in text, text
    assert '<img src="https://i1.ytimg.com/vi/vid001/hqdefault.jpg"' in html, html
    assert 'href="https://www.youtube.com/watch?v=vid001&amp;t=10s"' in html, html
    assert "https://www.youtube.com/watch?v=vid001&t=10s" in text, text
    assert re.search(r'related: <a href="https://bridges.example/notes\?id=1&amp;lang=en">Notes</a>',
                     html), html
    assert "Notes: https://bridges.example/notes?id=1&lang=en" in text, text
    assert "#38;" not in text + html


ATOM_AMP = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Alerts</title>
<entry><title>First alert</title><link href="https://alerts.example/url?rct=j&amp;sa=t&amp;url=1"/>
<updated>2026-11-20T10:00:00Z</updated><content type="html">one</content></entry>
<entry><title>Second alert</title><link href="https://alerts.example/url?rct=j&amp;sa=t&amp;url=2"/>
<updated>2026-11-21T10:00:00Z</updated><content type="html">two</content></entry>
</feed>
"""


def test_ids_recorded_with_escaped_ampersands_are_not_resent(t):
    """State written while ids from Atom links held "&#38;" still matches."""
    url = t.serve("/feed.xml", ATOM_AMP)
    t.config({"feed": url}, {"all": {"first-run": '"0"'}})
    t.run("run")
    assert len(t.mbox()) == 1
    with open(t.state_path, encoding="utf-8") as fh:
        state = fh.read()
    assert "url?rct=j&sa=t&url=1" in state and "#38;" not in state, state
    # the state as the earlier parser wrote it
    with open(t.state_path, "w", encoding="utf-8") as fh:
        fh.write(state.replace("rct=j&sa=t&url=", "rct=j&#38;sa=t&#38;url="))
    t.run("run")
    assert len(t.mbox()) == 1, "items recorded under their old ids were sent again"


XHTML = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Notes</title>
<entry><id>tag:notes.example,2026:1</id><title>Links inside</title>
<link href="https://notes.example/1?id=5&amp;lang=en"/>
<updated>2026-11-20T10:00:00Z</updated>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
<p>See <a href="https://shop.example/item?a=1&amp;b=2&amp;c=3">the shop</a> and
<a href="https://other.example/?x=1&amp;y=2">the other</a>.</p></div></content></entry>
</feed>
"""


def test_xhtml_links_with_ampersands(t):
    """Two &amp; in an href of type="xhtml" content: the link stays, whole."""
    text, html = preview(t, XHTML)
    assert 'href="https://shop.example/item?a=1&amp;b=2&amp;c=3"' in html, html
    assert 'href="https://other.example/?x=1&amp;y=2"' in html, html
    assert 'href="https://notes.example/1?id=5&amp;lang=en"' in html, html
    assert "https://shop.example/item?a=1&b=2&c=3" in text, text
    assert "#38;" not in text + html


WHOLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>News</title><link>https://news.example/</link>
<item><title>Item one</title><link>https://news.example/one</link><guid>g-one</guid>
<description>First story.</description><pubDate>Tue, 24 Nov 2026 06:00:00 +0000</pubDate></item>
<item><title>Item two</title><link>https://news.example/two-with-a-long-slug</link>
<description>Second story, in full.</description><guid>g-two</guid>
<pubDate>Tue, 24 Nov 2026 07:00:00 +0000</pubDate></item>
</channel></rss>
"""


def test_item_cut_short_is_held_back(t):
    """A download cut inside item 2 (before its guid) sends item 1 only; item 2 comes
    whole, once, when the feed is whole."""
    cut = WHOLE[:WHOLE.index(b"in full")]
    url = t.serve("/feed.xml", cut)
    t.config({"feed": url}, {"all": {"first-run": '"0"'}})
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 1
    first = str(msgs[0])
    assert "Item one" in first and "Item two" not in first, first
    t.serve("/feed.xml", WHOLE)
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 2
    second = str(msgs[1])
    assert "Item two" in second and "Second story, in full." in second, second
    assert "Item one" not in second, second


if __name__ == "__main__":
    main(globals())
