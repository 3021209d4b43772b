"""What a digest shows of an item, with the real binary: embedded video as
a link, headings below the item title, table rows as lines, CJK wrapped,
fragment links on the item's own page, content cut visibly (and -v says
so), control characters stopped at every exit, meta lines without a bare
separator, and a subject that says what the digest holds.  Each feed here
is built by the test in the shape the problem was seen in."""
import json
import re
import subprocess
import unicodedata

from e2e import TIDINGS, main, parts

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>{title}</title><link>http://example.org/</link><description>d</description>
{items}
</channel></rss>
"""


def item(n, title, content, link=None, date=True, author=None):
    link = link or f"http://example.org/posts/{n}.html"
    return (f"<item><title>{title}</title><link>{link}</link>"
            f"<guid isPermaLink=\"false\">item-{n}</guid>"
            + (f"<pubDate>Wed, 17 Dec 2008 1{n % 10}:00:00 +0000</pubDate>" if date else "")
            + (f"<dc:creator>{author}</dc:creator>" if author else "")
            + f"<content:encoded><![CDATA[{content}]]></content:encoded></item>")


def feed(title, *items):
    return RSS.format(title=title, items="\n".join(items)).encode("utf-8")


def digest(t, feeds, sub="news", args=("run",), sub_opts=None):
    urls = {name: t.serve(f"/{name}.xml", body) for name, body in feeds.items()}
    t.config(urls, {sub: sub_opts or {}})
    r = t.run(*args)
    msgs = t.mbox()
    assert len(msgs) == 1, len(msgs)
    text, html = parts(msgs[0])
    return msgs[0], text.replace("\r\n", "\n"), html, r


def columns(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


CJK = ("東京都は、新しい交通計画を発表しました。「未来の都市」は二〇三〇年までに完成する予定です。"
       "市民の意見を聞きながら、段階的に整備を進めるということです。") * 4

BODY = """<p>A post with a video, watch it here:
<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ?rel=0"
 frameborder="0" allowfullscreen></iframe></p>
<h1>First section</h1><p>See <a href="#second">the second section</a> and
<a href="notes.html">the notes</a>.</p>
<h2 id="second">Second section</h2>
<table><tr><th>Time</th><th>Event</th></tr>
<tr><td>9:18 am</td><td>New Window</td></tr><tr><td>9:30 am</td><td>Closed</td></tr></table>
<p>{cjk}</p>
<p>Also on <iframe src="https://player.vimeo.com/video/76979871"></iframe> and
<video src="/media/clip.mp4" poster="/media/poster.jpg">no video support</video></p>
""".format(cjk=CJK)


def test_video_headings_tables_cjk_and_fragments(t):
    body = feed("Tidbits", item(1, "A rich post", BODY, link="http://example.org/posts/one.html"))
    _, text, html, _ = digest(t, {"tidbits": body})
    watch = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    # The video: a link in both parts, the thumbnail in the HTML part.
    assert "[video] " + watch in text, text
    assert f'<a href="{watch}">[video] {watch}</a>' in html, html
    assert f'<a href="{watch}"><img alt="[video]" src="https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"' \
        in html, html
    assert "[video] https://vimeo.com/76979871" in text
    assert "[video] http://example.org/media/clip.mp4" in text
    assert 'src="http://example.org/media/poster.jpg"' in html
    assert "<iframe" not in html and "<video" not in html
    # Headings below the item title (h3): h1 -> h4, h2 -> h4.
    assert "<h4>First section</h4>" in html and "<h4 " not in html.split("First section")[0], html
    assert not re.search(r"<h[123]>", html), html
    # Fragment and relative links live on the item's page, not the feed's URL.
    assert 'href="http://example.org/posts/one.html#second"' in html, html
    assert 'href="http://example.org/posts/notes.html"' in html, html
    assert "http://example.org/posts/one.html#second" in text
    assert "/tidbits.xml#second" not in html + text
    # Table rows are lines, cells apart; a blank line around the table.
    assert "\n\nTime | Event\n9:18 am | New Window\n9:30 am | Closed\n\n" in text, text
    # CJK wraps at 72 columns, never before 、 or 。.
    cjk_lines = [line for line in text.splitlines() if "東京都" in line or "市民" in line or "計画" in line]
    assert len(cjk_lines) >= 6, text
    for line in text.splitlines():
        assert columns(line) <= 72 or " " not in line.strip() and "http" in line, line
    for line in cjk_lines:
        assert not line.startswith(("、", "。", "」")), line


def test_headline_one_item(t):
    one = feed("John's Tidbits", item(1, "Melbourne Cup Dip2", "<p>x</p>"))
    msg, text, _, _ = digest(t, {"tidbits": one}, sub="sysadmin")
    assert msg["Subject"] == "[sysadmin] Melbourne Cup Dip2", msg["Subject"]
    assert text.splitlines()[0] == "Melbourne Cup Dip2"


def test_headline_one_feed(t):
    many = feed("John's Tidbits", *[item(n, f"Melbourne Cup Dip{n + 1}", "<p>x</p>")
                                     for n in range(1, 10)])
    msg, text, html, _ = digest(t, {"tidbits": many}, sub="sysadmin")
    subject = msg["Subject"]
    assert re.fullmatch(r"\[sysadmin\] 9 new: John's Tidbits — Melbourne Cup Dip\d+, \+8", subject), subject
    assert ">9 new: John&#39;s Tidbits — Melbourne Cup Dip" in html or \
        ">9 new: John's Tidbits — Melbourne Cup Dip" in html, html[:2000]


def test_headline_several_feeds_and_long_titles(t):
    long_title = "A very long title " * 8
    feeds = {f"feed{k}": feed(f"Feed number {k} with a name", *[item(k * 10 + n, long_title + str(n), "<p>x</p>")
                                                                for n in range(k)])
             for k in range(1, 6)}
    msg, _, _, _ = digest(t, feeds, sub="all")
    subject = msg["Subject"]
    assert subject.startswith("[all] 15 new: Feed number 1 with a name (1), "), subject
    assert re.search(r", \+\d+ more feeds$", subject), subject
    assert columns(subject) <= 78, (columns(subject), subject)


def test_long_single_title_fits_78_columns(t):
    title = "Donaudampfschifffahrt " + "und noch viel mehr Worte " * 6
    msg, _, _, _ = digest(t, {"a": feed("A", item(1, title, "<p>x</p>"))}, sub="s")
    subject = msg["Subject"]
    assert subject.startswith("[s] Donaudampfschifffahrt und noch") and subject.endswith("…"), subject
    assert columns(subject) <= 78, subject


def test_undated_item_meta_line(t):
    body = feed("Plain", item(1, "No date here", "<p>x</p>", date=False, author="Jane Roe"),
                item(2, "No date, no author", "<p>y</p>", date=False))
    _, text, html, _ = digest(t, {"plain": body}, sub_opts={"full-items-per-feed": "1"})
    lines = text.splitlines()
    assert "Jane Roe" in lines, text
    assert not any(line.startswith(" | ") or line.startswith("| ") for line in lines), text
    assert ">Jane Roe</p>" in html and "> &middot;" not in html and ">·" not in html, html
    # The "also new" line of an undated item has no empty "()".
    assert "- No date, no author\n" in text and "()" not in text, text


def big_item_feed():
    chunk = "<p>" + "All work and no play makes Jack a dull boy. " * 40 + "</p>\n"
    big = chunk * (2_500_000 // len(chunk))
    deep = "<p>start</p>" + "<div>lvl " * 300 + "deep text" + "</div>" * 300 + "<p>after</p>"
    return feed("Big", item(1, "A huge post", big, link="http://example.org/huge?id=1&amp;x=2"),
                item(2, "A deep post", deep, link="http://example.org/deep"))


def test_cut_content_is_told_in_both_parts_and_under_v(t):
    _, text, html, r = digest(t, {"big": big_item_feed()}, args=("-v", "run"))
    m = re.search(r"\[cut: (\d+) KB more at http://example.org/huge\?id=1&x=2\]", text)
    assert m and 1000 < int(m.group(1)) < 1500, text[-3000:]
    assert re.search(r'<p>\[cut: \d+ KB more at <a href="http://example.org/huge\?id=1&amp;x=2">'
                     r'http://example.org/huge\?id=1&amp;x=2</a>\]</p>', html)
    assert re.search(r"\[cut: \d+ KB more at http://example.org/deep\]", text), text[-2000:]
    # What libxml2 parsed of the deep one is all there (the rest is told).
    assert text.count("lvl") > 250 and html.count("lvl") > 250, text.count("lvl")
    told = [line for line in r.err.splitlines() if "left out" in line]
    assert len(told) == 2, r.err
    assert any('feed big: item "A huge post": ' in line and "over the 1024 KB" in line for line in told), told
    assert any('item "A deep post": ' in line and "nested over 256" in line for line in told), told
    # Without -v nothing is said.
    t2 = t.run("run")
    assert "left out" not in t2.err


def test_bodies_past_the_parsers_bound_are_cut_not_dropped(t):
    # 5 MB of paragraphs, and a 6 MB <pre>: past the parser's 4 MB for one
    # field.  Each item is kept, starts as written, and its cut is told.
    para = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing. " * 40 + "</p>\n"
    body5 = para * (5_000_000 // len(para) + 1)
    pre6 = "<pre>" + ("x = 1;  // a long program line, kept as it is\n" * (6_000_000 // 46)) + "</pre>"
    feeds = {"five": feed("Five", item(1, "Five megabytes", body5, link="http://example.org/five")),
             "six": feed("Six", item(2, "A six megabyte pre", pre6, link="http://example.org/six"))}
    _, text, html, r = digest(t, feeds, args=("-v", "run"))
    assert "Lorem ipsum dolor sit amet" in text, text[:2000]
    assert "x = 1;  // a long program line" in text, text[:2000]
    assert re.search(r"\[cut: \d+ KB more at http://example.org/five\]", text), text[-2000:]
    assert re.search(r"\[cut: \d+ KB more at http://example.org/six\]", text), text[-2000:]
    assert "/pre>" not in text
    assert len([line for line in r.err.splitlines() if "left out" in line]) == 2, r.err


CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Evil \u001b]0;feed\u0007 title",
    "home_page_url": "http://example.org/",
    "items": [{
        "id": "evil-1",
        "url": "http://example.org/evil",
        "title": "\u001b]0;pwned\u0007Hello \u009b31mred\u0085 \u001b[2J",
        "date_published": "2024-01-02T03:04:05Z",
        "authors": [{"name": "Mallory\u0007"}],
        "tags": ["t\u001bag"],
        "content_html": "<p>before\u001b[2Jafter \u0007bell \u009b1mC1 &#155;ref &#127;del</p>"
                        "<pre>pre\u001b]0;x\u0007text</pre>",
    }],
}


def parse(*args, status=0):
    """tidings parse, which takes no config."""
    r = subprocess.run([TIDINGS, "parse", *args], capture_output=True, timeout=60)
    assert r.returncode == status, (r.returncode, r.stderr)
    return r


def test_control_characters_never_leave(t):
    body = json.dumps(JSON_FEED).encode("utf-8")
    path = t.dir + "/evil.json"
    with open(path, "wb") as fh:
        fh.write(body)
    # tidings parse: the text output strips them, --json escapes them.
    out = parse(path).stdout.decode("utf-8")
    assert not CONTROLS.search(out), repr(out)
    assert "]0;pwnedHello 31mred" in out and "Evil ]0;feed title" in out, out
    out = parse("--json", path).stdout.decode("utf-8")
    assert not CONTROLS.search(out), repr(out)
    got = json.loads(out)
    assert got["items"][0]["title"] == JSON_FEED["items"][0]["title"], got
    assert "\\u001b" in out and "\\u009b" in out and "\\u0007" in out, out
    # The digest: subject, both parts.
    url = t.serve("/evil.json", body, ctype="application/feed+json")
    t.config({"evil": url}, {"news": {}})
    t.run("run")
    msg = t.mbox()[0]
    text, html = parts(msg)
    text, html = text.replace("\r\n", "\n"), html.replace("\r\n", "\n")
    for what, s in (("subject", str(msg["Subject"])), ("text", text), ("html", html)):
        assert not CONTROLS.search(s), (what, repr(CONTROLS.search(s).group()), s[:3000])
    assert "]0;pwnedHello 31mred" in msg["Subject"], msg["Subject"]
    assert "before[2Jafter bell 1mC1 ref del" in text, text
    assert "pre]0;xtext" in text and "pre]0;xtext" in html


def test_parse_error_line_has_no_controls(t):
    path = t.dir + "/bad\x1b[31m.xml"
    with open(path, "wb") as fh:
        fh.write(b"\x1b]0;x\x07 is no feed")
    err = parse(path, status=65).stderr.decode("utf-8")
    assert err.startswith("tidings: ") and "bad[31m.xml: " in err, err
    assert not CONTROLS.search(err), repr(err)


if __name__ == "__main__":
    main(globals())
