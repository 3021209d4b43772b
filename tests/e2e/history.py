"""History end to end (issue 17): --since pages back through a WordPress
feed, an RFC 5005 archive chain and an RFC 5005 paged feed; first-run per
(subscription, feed); catch-up --feed; preview of every subscription; what
first-run did, with -v.  Real binary, real HTTP (tests/harness/pages.py)."""
import collections
import os
import re
import time

from e2e import main, parts, q
from httpd import Server
from pages import archive_chain, paged, wordpress

DAY = 86400
TITLE = re.compile(r"^[a-z]+-\d\d$")


def since_arg(days):
    """A --since date `days` ago (RFC 3339, UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - days * DAY))


def headings(msg):
    """Every item title in a digest's text part (each follows a rule of dashes)."""
    text, _ = parts(msg)
    lines = text.splitlines()
    return [lines[i + 1].strip() for i, l in enumerate(lines[:-1])
            if l == "-" * 72 and TITLE.match(lines[i + 1].strip())]


def log(t, prefix):
    """Request targets under prefix, in order."""
    return [r["path"] for r in t.http.stats()["requests"] if r["path"].startswith(prefix)]


def three_feeds(t):
    srv = t.http_server()
    wp = wordpress(srv, "/wp", count=25, every=7)
    arch = archive_chain(srv, "/arch", count=30, every=5)
    pg = paged(srv, "/paged", count=40, every=3)
    return wp, arch, pg


def config_three(t, wp, arch, pg, extra=""):
    t.config({"wp": (wp.url, {"user-agent": q("wp-agent/1")}), "arch": arch.url,
              "paged": pg.url},
             {"me": {"full-items-per-feed": 0}},
             extra="fetch {\n  per-host = 1\n" + extra + "}\n")


def test_since_pages_back_each_kind_of_history(t):
    wp, arch, pg = three_feeds(t)
    config_three(t, wp, arch, pg)
    # A normal run never pages.
    t.run("run")
    assert sorted(log(t, "/")) == sorted([wp.pages[0], arch.pages[0], pg.pages[0]]), log(t, "/")
    with open(t.state_path, "rb") as fh:
        state = fh.read()
    t.http.reset()
    os.unlink(t.mbox_path)

    r = t.run("run", "-v", "--since", since_arg(100))
    msgs = t.mbox()
    assert len(msgs) == 1, len(msgs)
    got = headings(msgs[0])
    want = wp.titles(100) | arch.titles(100) | pg.titles(100)
    assert len(want) == 15 + 20 + 34, len(want)
    assert set(got) == want, (sorted(set(got) - want), sorted(want - set(got)))
    dup = [k for k, n in collections.Counter(got).items() if n > 1]
    assert not dup, dup
    # Each feed paged back until a page reached past the date, and no further.
    assert log(t, "/wp/") == wp.pages[:2], log(t, "/wp/")
    assert log(t, "/arch/") == arch.pages[:3], log(t, "/arch/")
    assert log(t, "/paged/") == pg.pages[:4], log(t, "/paged/")
    assert "feed wp: 1 older pages" in r.err, r.err
    # Polite: one request at a time to the host (per-host = 1), the feed's user-agent.
    s = t.http.stats()
    assert max(s["max_active_host"].values()) == 1, s["max_active_host"]
    agents = {r["headers"].get("User-Agent") for r in s["requests"] if r["path"].startswith("/wp/")}
    assert agents == {"wp-agent/1"}, agents
    # Plain GETs: an old page has no validator.
    assert not any("If-None-Match" in r["headers"] for r in s["requests"]), s["requests"]
    # The state is untouched.
    with open(t.state_path, "rb") as fh:
        assert fh.read() == state


def test_since_before_everything_ends_at_404_archive_start_and_a_loop(t):
    wp, arch, pg = three_feeds(t)
    config_three(t, wp, arch, pg)
    r = t.run("run", "-v", "--since", since_arg(1000))
    got = headings(t.mbox()[0])
    assert sorted(got) == sorted(wp.titles() | arch.titles() | pg.titles()), r.err
    # WordPress: pages 1-3, then ?paged=4 answers 404.
    assert log(t, "/wp/") == wp.pages + ["/wp/feed/?paged=4"], log(t, "/wp/")
    assert t.http.stats()["status"]["/wp/feed/?paged=4"] == {"404": 1}
    # The archive chain to its first document, each once.
    assert log(t, "/arch/") == arch.pages, log(t, "/arch/")
    # The paged feed's last page links back to its first: not fetched again.
    assert log(t, "/paged/") == pg.pages, log(t, "/paged/")
    assert "feed paged: 3 older pages" in r.err, r.err
    assert "older items are missing" not in r.err, r.err


def test_max_pages_stops_paging_and_says_so(t):
    wp, arch, pg = three_feeds(t)
    config_three(t, wp, arch, pg, extra="  max-pages = 1\n")
    r = t.run("run", "--since", since_arg(1000))
    assert log(t, "/wp/") == wp.pages[:2], log(t, "/wp/")
    assert log(t, "/arch/") == arch.pages[:2], log(t, "/arch/")
    assert log(t, "/paged/") == pg.pages[:2], log(t, "/paged/")
    for name in ("wp", "arch", "paged"):
        assert re.search(r"feed %s: older items are missing: stopped after 1 older pages" % name,
                         r.err), r.err
    got = set(headings(t.mbox()[0]))
    assert got == {it.title for it in wp.items[:20] + arch.items[:16] + pg.items[:20]}, got


def test_broken_older_page_is_one_error_line(t):
    srv = t.http_server()
    arch = archive_chain(srv, "/arch", count=30, every=5)
    srv.add(arch.pages[2], b"<html><body>not a feed</body></html>")
    t.config({"arch": arch.url}, {"me": {"full-items-per-feed": 0}})
    r = t.run("run", "--since", since_arg(1000))
    lines = [l for l in r.err.splitlines() if "older items are missing" in l]
    assert len(lines) == 1 and arch.pages[2] in lines[0] and "not a feed" in lines[0], r.err
    assert set(headings(t.mbox()[0])) == {it.title for it in arch.items[:16]}


def test_older_pages_go_the_way_the_feed_goes(t):
    """A feed's own proxy (and its proxy = "" over fetch.proxy) holds for its older pages."""
    now = time.time()
    arch = archive_chain(t.http_server(), "/arch", count=30, every=5, now=now)
    proxy = Server().start()
    try:
        archive_chain(proxy, "/arch", count=30, every=5, now=now)   # the same pages
        purl = proxy.url("/").rstrip("/")
        origin = t.http.url("/").rstrip("/")

        def through_proxy():
            return sorted(r["path"] for r in proxy.stats()["requests"])

        t.config({"arch": (arch.url, {"proxy": q(purl)})}, {"me": {"full-items-per-feed": 0}})
        t.run("run", "--since", since_arg(1000))
        assert through_proxy() == sorted(origin + p for p in arch.pages), through_proxy()
        assert log(t, "/") == [], log(t, "/")
        assert set(headings(t.mbox()[0])) == arch.titles()
        # proxy = "": direct, whatever fetch.proxy says.
        proxy.reset()
        t.config({"arch": (arch.url, {"proxy": q("")})}, {"me": {"full-items-per-feed": 0}},
                 extra="fetch {\n  proxy = %s\n}\n" % q(purl))
        t.run("run", "-n", "--since", since_arg(1000))
        assert through_proxy() == [], through_proxy()
        assert log(t, "/") == arch.pages, log(t, "/")
    finally:
        proxy.stop()


def test_first_run_per_feed_for_an_added_feed_and_one_that_was_down(t):
    srv = t.http_server()
    lwn = wordpress(srv, "/lwn", count=8, every=5, repeat_last=False)   # 0.5 .. 35.5 days
    wp = wordpress(srv, "/wp", count=9, every=3, repeat_last=False)     # 0.5 .. 24.5 days
    subs = {"me": {"first-run": q("7d"), "full-items-per-feed": 0}}
    t.config({"lwn": lwn.url, "arch": srv.url("/arch/feed.xml")}, subs)
    r = t.run("run", "-v", expect=None)
    assert "feed arch: HTTP 404" in r.err, r.err     # down on the subscription's first run
    assert set(headings(t.mbox()[0])) == lwn.titles(7)
    # The feed that was down is up, and a feed is added to the subscription.
    arch = archive_chain(srv, "/arch", count=12, every=2, current=12)  # 0.5 .. 22.5 days
    t.config({"lwn": lwn.url, "arch": arch.url, "wp": wp.url}, subs)
    r = t.run("run", "-v")
    msgs = t.mbox()
    assert len(msgs) == 2, len(msgs)
    assert set(headings(msgs[1])) == arch.titles(7) | wp.titles(7), headings(msgs[1])
    assert "subscription me, feed wp: first run, 6 items older than 7d recorded without " \
        "sending" in r.err, r.err
    assert "subscription me, feed arch: first run, 8 items older than 7d" in r.err, r.err
    # Recorded: nothing more next time.
    t.run("run")
    assert len(t.mbox()) == 2


def test_first_run_says_what_it_kept_back(t):
    srv = t.http_server()
    lwn = wordpress(srv, "/lwn", count=40, every=3, per_page=40)   # 0.5 .. 117.5 days
    t.config({"lwn": lwn.url}, {"me": {"first-run": q("7d")}})
    r = t.run("run", "-v")
    assert "tidings: subscription me, feed lwn: first run, 37 items older than 7d recorded " \
        "without sending" in r.err.splitlines(), r.err
    r = t.run("run", "-n", "-v")
    assert "first run" not in r.err, r.err


def test_catch_up_one_feed_leaves_the_others_pending(t):
    srv = t.http_server()
    a = wordpress(srv, "/a", count=3, every=1, repeat_last=False)
    b = wordpress(srv, "/b", count=3, every=1, repeat_last=False)
    t.config({"a": a.url, "b": b.url}, {"s1": {}, "s2": {}})
    t.run("catch-up")
    # New items on both feeds.
    a2 = wordpress(srv, "/a", count=5, every=1, repeat_last=False)
    b2 = wordpress(srv, "/b", count=5, every=1, repeat_last=False)
    t.run("catch-up", "--feed", "a", "-S", "s1")
    t.run("run")
    got = {str(m["To"]): set(headings(m)) for m in t.mbox()}
    new_a = new_titles(a2, a)
    new_b = new_titles(b2, b)
    assert got == {"s1@example.org": new_b, "s2@example.org": new_a | new_b}, got
    # For every subscription reading it when -S is not given.
    wordpress(srv, "/a", count=7, every=1, repeat_last=False)
    t.run("catch-up", "--feed", "a")
    t.run("run")
    assert len(t.mbox()) == 2
    r = t.run("catch-up", "--feed", "nope", expect=64)
    assert "no feed named 'nope'" in r.err, r.err


def test_catch_up_of_a_paused_feed_says_there_is_nothing_to_do(t):
    srv = t.http_server()
    a = wordpress(srv, "/a", count=3, every=1, repeat_last=False)
    t.config({"a": a.url}, {"s1": {}})
    t.run("catch-up")
    with open(t.state_path, "rb") as fh:
        state = fh.read()
    wordpress(srv, "/a", count=5, every=1, repeat_last=False)
    t.config({"a": (a.url, {"active": "false"})}, {"s1": {}})
    t.http.reset()
    r = t.run("catch-up", "--feed", "a")
    assert r.err.splitlines() == ["tidings: feed a is paused (active = false): "
                                  "nothing to catch up"], r.err
    assert t.http.stats()["count"] == {}, t.http.stats()["count"]
    with open(t.state_path, "rb") as fh:
        assert fh.read() == state
    assert t.run("catch-up", "-q", "--feed", "a").err == ""


def new_titles(now, before):
    """Titles of now's items whose ids before did not have."""
    ids = {it.id for it in before.items}
    return {it.title for it in now.items if it.id not in ids}


def test_preview_without_subscription_shows_every_subscription(t):
    srv = t.http_server()
    lwn = wordpress(srv, "/lwn", count=3, every=1)
    t.config({"lwn": lwn.url}, {"s1": {"to": "{\"s1@example.org\", \"x1@example.org\"}"},
                                "s2": {}, "s3": {"tags": "{\"none-such\"}"}})
    r = t.run("preview")
    assert r.out.startswith("From "), r.out[:200]
    # each digest once, not each recipient's copy of it
    tos = re.findall(r"^To: (\S+)", r.out, re.M)
    assert tos == ["s1@example.org", "s2@example.org"], tos
    r = t.run("preview", "s2")
    assert not r.out.startswith("From "), r.out[:200]
    assert re.findall(r"^To: (\S+)", r.out, re.M) == ["s2@example.org"]
    assert not os.path.exists(t.state_path)


if __name__ == "__main__":
    main(globals())
