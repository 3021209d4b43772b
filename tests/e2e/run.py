"""The run end to end: subscriptions by tag, dedup, new items, max-items,
--since, first-run, --dry-run, preview, catch-up (real binary, real HTTP)."""
import os
import re

from e2e import main, parts, q, qlist, seed_bytes

TITLES = {
    "vpn": "Mac OS X L2TP VPN to Cisco IOS",
    "cup": "Melbourne Cup Dip2",
    "sfd": "SFD2006",
    "lca": "linux.conf.au brings about another change",
    "iptables": "iptables evilness",
    "thinking": "ThinkingLinux",
    "datacentre": "Open Source in the Data Centre",
    "tcp": "TCP Window Scaling and kernel 2.6.17+",
    "vmware": "VMware Consolidated Backup",
}


def items_of(xml):
    return re.findall(rb"<item>.*?</item>", xml, re.S)


def without_items(xml, n):
    """The feed with its n newest (first) items removed."""
    for it in items_of(xml)[:n]:
        xml = xml.replace(it, b"", 1)
    return xml


def headings(text):
    """The item titles of a text part: each follows a rule of dashes."""
    lines = text.splitlines()
    return [lines[i + 1] for i, l in enumerate(lines[:-1]) if l == "-" * 72]


def titles_in(msg):
    text, html = parts(msg)
    heads = headings(text)
    found = {k for k, t in TITLES.items() if any(h.startswith(t) for h in heads)}
    assert len(found) == len(heads), (found, heads)
    for k in found:
        assert TITLES[k].replace("&", "&amp;") in html, k
    return found


def by_recipient(msgs):
    out = {}
    for m in msgs:
        out.setdefault(str(m["To"]), []).append(m)
    return out


def test_tag_subscriptions_get_exactly_their_items(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {
        "net": {"tags": qlist(["networking"])},
        "vmware": {"tags": qlist(["VMware"])},
        "linux": {"tags": qlist(["linux"]), "exclude-tags": qlist(["presentations"])},
        "all": {},
    })
    t.run("run")
    got = by_recipient(t.mbox())
    assert set(got) == {"net@example.org", "vmware@example.org", "linux@example.org",
                        "all@example.org"}, got.keys()
    assert all(len(v) == 1 for v in got.values())
    assert titles_in(got["net@example.org"][0]) == {"vpn", "cup"}
    assert titles_in(got["vmware@example.org"][0]) == {"vmware"}
    assert titles_in(got["linux@example.org"][0]) == {"iptables", "tcp"}
    assert titles_in(got["all@example.org"][0]) == set(TITLES)
    # A second run sends nothing more.
    t.run("run")
    assert len(t.mbox()) == 4


def test_item_through_two_feeds_appears_once(t):
    seed = seed_bytes()
    first = items_of(seed)[0]
    other = re.sub(rb"<item>.*</item>", b"", seed, flags=re.S).replace(
        b"</channel>", first + b"</channel>")
    a = t.serve("/a.xml", seed)
    b = t.serve("/b.xml", other)
    t.config({"a": a, "b": b}, {"all": {}})
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 1
    text, _ = parts(msgs[0])
    # Once as an item (the first line, the headline, may name it too).
    body = text.split("\n", 1)[1]
    assert body.count(TITLES["vpn"]) == 1, text
    t.run("run")
    assert len(t.mbox()) == 1


def test_feed_that_gains_two_items_sends_just_those(t):
    seed = seed_bytes()
    t.serve("/feed.xml", without_items(seed, 2))
    t.config({"inodes": t.http.url("/feed.xml")}, {"all": {}})
    t.run("run")
    assert titles_in(t.mbox()[0]) == set(TITLES) - {"vpn", "cup"}
    t.serve("/feed.xml", seed)
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 2
    assert titles_in(msgs[1]) == {"vpn", "cup"}


def test_nothing_new_leaves_the_state_file_and_journals_the_fetch(t):
    """Every feed answers 304: the state file is not rewritten; the fetch
    records go to STATE.journal, which `feeds` reads; a run with news saves
    the state whole and removes the journal."""
    seed = seed_bytes()
    t.serve("/feed.xml", without_items(seed, 1))
    t.config({"inodes": t.http.url("/feed.xml")}, {"all": {}})
    t.run("run")
    journal = t.state_path + ".journal"
    before = os.stat(t.state_path)
    assert not os.path.exists(journal)
    t.run("run")  # a 304: nothing new
    after = os.stat(t.state_path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    with open(journal, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert lines[0] == "tidings-journal 2" and lines[-1] == "commit", lines
    assert lines[1].startswith("feed\t" + t.http.url("/feed.xml") + "\t"), lines
    assert lines[1].split("\t")[5] == "304", lines
    out = t.run("feeds").out
    assert " 304 " in out, out
    assert len(t.mbox()) == 1
    t.serve("/feed.xml", seed)
    t.run("run")
    assert len(t.mbox()) == 2 and titles_in(t.mbox()[1]) == {"vpn"}
    assert not os.path.exists(journal)
    assert os.stat(t.state_path).st_ino != before.st_ino
    assert any(l.startswith("feed\t") and l.split("\t")[5] == "200" for l in t.state_lines())


def test_state_items_are_read_only_when_a_feed_has_news(t):
    """A run whose feeds all answer 304 reads the state's feed and sub
    records, not its item records: a damaged item record goes unnoticed
    until a feed has news, and then stops the run, naming file:line, before
    anything is sent.  `feeds` reads the whole file."""
    seed = seed_bytes()
    t.serve("/feed.xml", without_items(seed, 1))
    t.config({"inodes": t.http.url("/feed.xml")}, {"all": {}})
    t.run("run")
    lines = t.state_lines()
    at = next(i for i, l in enumerate(lines) if l.startswith("item\t"))
    fields = lines[at].split("\t")
    fields[4] = "yesterday"
    lines[at] = "\t".join(fields)
    with open(t.state_path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(t.state_path, "rb") as fh:
        damaged = fh.read()
    where = "%s:%d: bad time" % (t.state_path, at + 1)
    t.run("run")  # a 304: the items are not read
    assert len(t.mbox()) == 1
    r = t.run("feeds", expect=74)
    assert where in r.err, r.err
    t.serve("/feed.xml", seed)
    r = t.run("run", expect=74)
    assert where in r.err, r.err
    assert len(t.mbox()) == 1  # nothing sent
    with open(t.state_path, "rb") as fh:
        assert fh.read() == damaged


def test_max_items_drains_over_runs_without_skipping(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"all": {"max-items": "3"}})
    seen = []
    for _ in range(3):
        t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 3, len(msgs)
    for m in msgs:
        got = titles_in(m)
        assert len(got) == 3, got
        seen.extend(got)
    assert sorted(seen) == sorted(TITLES), seen
    # Oldest first: the first digest holds the three oldest items.
    assert titles_in(msgs[0]) == {"vmware", "tcp", "datacentre"}
    t.run("run")
    assert len(t.mbox()) == 3


def test_since_sends_dated_items_and_leaves_state_alone(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"all": {}})
    t.run("run")
    with open(t.state_path, "rb") as fh:
        before = fh.read()
    t.run("--since", "2008-01-01", "--to", "me@example.net")
    msgs = t.mbox()
    assert len(msgs) == 2
    assert str(msgs[1]["To"]) == "me@example.net"
    assert titles_in(msgs[1]) == {"vpn", "cup"}
    with open(t.state_path, "rb") as fh:
        assert fh.read() == before


def test_first_run_records_old_items_without_sending(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"all": {"first-run": q("30d")}})
    t.run("run")
    assert t.mbox() == []
    state = "\n".join(t.state_lines())
    for guid in re.findall(rb"<guid[^>]*>(.*?)</guid>", seed_bytes()):
        assert guid.decode().replace("&amp;", "&") in state, guid
    t.run("run")
    assert t.mbox() == []


def test_dry_run_prints_mbox_and_changes_nothing(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"all": {}})
    r = t.run("--dry-run")
    assert r.out.startswith("From "), r.out[:200]
    assert TITLES["tcp"] in r.out or "TCP Window" in r.out
    assert not os.path.exists(t.mbox_path)
    assert not os.path.exists(t.state_path) or "all" not in open(t.state_path).read()
    t.run("run")
    assert len(t.mbox()) == 1


def test_preview_renders_and_records_nothing(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"all": {}, "other": {"tags": qlist(["VMware"])}})
    r = t.run("preview", "other")
    from e2e import parse_message
    msg = parse_message(r.stdout)
    assert titles_in(msg) == {"vmware"}
    html_path = os.path.join(t.dir, "preview.html")
    t.run("preview", "all", "--html", html_path)
    with open(html_path, encoding="utf-8") as fh:
        html = fh.read()
    assert "<html" in html.lower() and "Consolidated Backup" in html
    assert not os.path.exists(t.mbox_path)
    t.run("run")
    assert len(t.mbox()) == 2


def test_catch_up_records_everything_and_sends_nothing(t):
    url = t.serve("/feed.xml", without_items(seed_bytes(), 1))
    t.config({"inodes": url}, {"all": {}})
    t.run("catch-up")
    assert t.mbox() == []
    t.serve("/feed.xml", seed_bytes())
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 1 and titles_in(msgs[0]) == {"vpn"}


def numbered_feed(feed, numbers):
    """RSS with items feed-N, dated N days into 2026, each with its own body."""
    items = "".join(
        f"<item><title>item {feed}-{n}</title><link>http://example.org/{feed}/{n}</link>"
        f"<guid>urn:{feed}:{n}</guid>"
        f"<pubDate>{n:02d} Jan 2026 10:00:00 +0000</pubDate>"
        f"<description>&lt;p&gt;Body of {feed}-{n}, &lt;a href=\"/{feed}/{n}/more\"&gt;more"
        f"&lt;/a&gt;.&lt;/p&gt;</description></item>"
        for n in sorted(numbers, reverse=True))
    return (f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{feed}</title>"
            f"<link>http://example.org/{feed}/</link>{items}</channel></rss>").encode()


def test_many_feeds_parsed_at_once_lose_and_repeat_nothing(t):
    """Forty feeds, parsed by several threads as they arrive: every item is
    in the digest once, in full, with its body and its link, in both parts."""
    feeds = {f"f{i:02d}": t.serve(f"/f{i:02d}.xml", numbered_feed(f"f{i:02d}", range(1, 6)))
             for i in range(40)}
    t.config(feeds, {"all": {"max-items": "0"}})
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 1
    text, html = parts(msgs[0])
    for name in feeds:
        for n in range(1, 6):
            body = f"Body of {name}-{n},"
            assert text.count(body) == 1 and html.count(body) == 1, (body, text.count(body))
            assert f"/{name}/{n}/more" in text, (name, n)  # its link reference
    assert len(t.state_lines()) >= 200
    t.run("run")
    assert len(t.mbox()) == 1


def test_item_shown_in_full_after_the_cap_is_rendered_from_its_stash(t):
    """Only the newest items of a feed are rendered while it is parsed; a cap
    that keeps the oldest brings others into full view, and they must come
    with their bodies all the same."""
    url = t.serve("/feed.xml", numbered_feed("x", range(1, 7)))
    t.config({"x": url}, {"all": {"max-items": "3", "full-items-per-feed": "2"}})
    t.run("run")
    text, html = parts(t.mbox()[0])
    # The three oldest, newest first: 3 and 2 in full, 1 as a title line only.
    for n in (3, 2):
        assert f"Body of x-{n}," in text and f"Body of x-{n}," in html, n
    assert "Body of x-1," not in text and "item x-1" in text
    for n in (4, 5, 6):
        assert f"item x-{n}" not in text


def test_two_feeds_with_one_url_poll_safely(t):
    """Two feeds may name one URL: each asks with its own validators (one's
    answer replaces them in the state while the other waits its turn)."""
    url = t.serve("/feed.xml", seed_bytes())
    other = t.serve("/other.xml", numbered_feed("o", range(1, 4)))
    feeds = {"a": url, "c": other, "d": (other, {}), "b": url}
    t.config(feeds, {"all": {}}, extra="fetch {\n  parallel = 1\n}")
    t.run("run")
    heads = headings(parts(t.mbox()[0])[0])
    assert len(heads) == len(TITLES) + 3, heads   # each item once, though read twice
    assert {h for h in heads if h.startswith("item o-")} == {"item o-1", "item o-2", "item o-3"}
    t.serve("/feed.xml", seed_bytes())
    t.run("run")
    t.run("run")
    assert len(t.mbox()) == 1


def test_unknown_subscription_is_a_usage_error(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"all": {}})
    r = t.run("-S", "nobody", expect=64)
    assert "nobody" in r.err


def test_broken_feed_is_reported_and_others_still_delivered(t):
    good = t.serve("/feed.xml", seed_bytes())
    bad = t.serve("/broken.xml", b"<html><body>not a feed</body></html>", ctype="text/html")
    t.config({"good": good, "bad": (bad, {})}, {"all": {}}, extra="fetch { report-after = 1 }")
    r = t.run("run")
    assert "bad" in r.err and r.err.count("\n") == 1, r.err
    assert len(t.mbox()) == 1


if __name__ == "__main__":
    main(globals())
