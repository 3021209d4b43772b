"""What the man pages promise, held by the real binary (issue 18, item 3):
feed tags in {{tags}}, gone and moved feeds in the digest footer, a server
slow to answer but within fetch.timeout, the feeds table's columns, and
counts that say "1 item"."""
import os
import re

from e2e import main, q, qlist, seed_bytes


def one_item_feed(title, category=None):
    cat = f"<category>{category}</category>" if category else ""
    return (f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>"
            f"<link>http://example.org/</link><item><title>{title} one</title>"
            f"<guid>urn:{title}:1</guid>{cat}"
            f"<pubDate>Thu, 01 Oct 2026 10:00:00 +0000</pubDate></item></channel></rss>")


def text_of(msg):
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_feed_tags_show_in_item_tags(t):
    plain = t.serve("/plain.xml", one_item_feed("Plain"))
    tagged = t.serve("/tagged.xml", one_item_feed("Tagged", "own"))
    t.config({"plain": (plain, {"tags": qlist(["work"])}),
              "tagged": (tagged, {"tags": qlist(["work", "OWN"])})},
             {"work": {"tags": qlist(["work"])}})
    t.run("run")
    (msg,) = t.mbox()
    text = text_of(msg)
    assert re.search(r"^\S.* \| work$", text, re.M), text
    # The item's own tag first; a feed tag it already has (any case) is not repeated.
    assert re.search(r"^\S.* \| own, work$", text, re.M), text
    html = msg.get_body(("html",)).get_content()
    assert "own, work" in html


def test_gone_and_moved_feeds_stay_in_the_footer(t):
    good = t.serve("/good.xml", one_item_feed("Good"))
    t.serve("/new.xml", one_item_feed("Moved"))
    gone = t.http.url("/_/status/410")
    moved = t.http.url("/_/redirect/301/new.xml")
    t.config({"good": good, "gone": gone, "moved": moved}, {"all": {}})
    r = t.run("run")
    assert "feed gone: gone (HTTP 410)" in r.err and "feed moved: moved permanently" in r.err
    for run in range(2):
        if run:     # a later digest still lists them: they need a person
            t.http.add("/good.xml", one_item_feed("Good").replace("urn:Good:1", "urn:Good:2"))
            r = t.run("run")
            assert r.err == "", "each notice on stderr once: " + r.err
        text = text_of(t.mbox()[-1])
        footer = text.split("Feeds with problems:", 1)[1]
        assert "- gone: gone (HTTP 410): delete it from the config" in footer, footer
        assert f"- moved: moved permanently to {t.http.url('/new.xml')}" in footer, footer
    assert len(t.mbox()) == 2


def test_server_answering_within_the_timeout_is_fetched(t):
    """fetch.timeout bounds the whole transfer: a server silent for 4 of 6
    seconds was given up after 3 ("no response after 3 s")."""
    t.serve("/feed.xml", one_item_feed("Slow"))
    t.config({"slow": t.http.url("/_/slow/4/feed.xml")}, {"all": {}},
             extra="fetch { timeout = 6\n report-after = 1 }")
    r = t.run("run")
    assert r.err == "", r.err
    assert "Slow one" in text_of(t.mbox()[0])


def test_feeds_table_keeps_its_columns(t):
    good = t.serve("/good.xml", one_item_feed("Good"))
    t.config({"good": good,
              "a-rather-long-feed-name": t.http.url("/_/status/503"),
              "nf": t.http.url("/_/status/404")}, {"all": {}})
    t.run("run")
    lines = t.run("feeds").out.splitlines()
    head = lines[0]
    assert "HTTP 503 Service Unavailable" in t.run("feeds").out
    for col in ("LAST FETCH", "STATUS", "URL"):
        at = head.index(col)
        for line in lines[1:]:
            assert line[at - 2:at] == "  " and line[at] != " ", (col, line)
    for line in lines[1:]:
        assert line[head.index("URL"):].startswith("http://127.0.0.1:"), line


def test_counts_say_one_item(t):
    path = os.path.join(t.dir, "one.xml")
    with open(path, "w") as fh:
        fh.write(one_item_feed("Solo"))
    t.config({"solo": "file://" + path}, {"all": {}})
    r = t.run("parse", path)
    assert "(rss20, 1 item) from" in r.out, r.out
    r = t.run("run", "-v")
    assert "feed solo: 1 item\n" in r.err, r.err
    assert "digest of 1 item for 1 recipient," in r.err, r.err
    assert "1 items" not in r.err + r.out


def test_since_counts_one_undated_item(t):
    body = one_item_feed("Dated").replace(
        "</channel>", "<item><title>Undated</title><guid>urn:u</guid></item></channel>")
    url = t.serve("/feed.xml", body)
    t.config({"f": url}, {"all": {}})
    t.run("--since", "2026-01-01")
    text = text_of(t.mbox()[0])
    assert "1 item without a date was left out." in text, text


if __name__ == "__main__":
    main(globals())
