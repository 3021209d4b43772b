"""The conveniences of issue 18 end to end (real binary, harness servers on
127.0.0.1): add / remove editing the config, a paused feed, proxies,
parse FEED, test-mail over real SMTP, and the progress line on a terminal."""
import os
import pty
import re
import select
import subprocess

from e2e import TIDINGS, main, parse_message, q, qlist, seed_bytes
from httpd import Server
from smtpd import SmtpServer


def read_bytes(path):
    with open(path, "rb") as fh:
        return fh.read()


def one_line(r):
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    return lines[0]


def feed_with(title, n):
    items = "".join(f"<item><title>{title} item {i}</title><guid>urn:{title}:{i}</guid>"
                    f"<pubDate>Thu, 0{1 + i % 8} Oct 2026 10:00:00 +0000</pubDate></item>"
                    for i in range(n, 0, -1))
    return (f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>"
            f"<link>http://example.org/</link>{items}</channel></rss>")


# ---- add / remove ----

def test_add_appends_a_feed_that_runs_and_remove_restores_the_file(t):
    seed = t.serve("/feed.xml", seed_bytes())
    other = t.serve("/other.xml", feed_with("Other", 2))
    t.config({"inodes": seed}, {"all": {}})
    before = read_bytes(t.conf_path)
    r = t.run("add", "other", other, "--tags", "x, y", "--title", "Other \"news\"")
    assert r.out == f"feed other added to {t.conf_path}\n", r.out
    after = read_bytes(t.conf_path)
    assert after.startswith(before), "the rest of the file is kept byte for byte"
    assert b'title = "Other \\"news\\""' in after and b'tags  = {"x", "y"}' in after, after
    assert "2 feeds" in t.run("check").out
    t.run("run")
    (msg,) = t.mbox()
    text = msg.get_body(("plain",)).get_content()
    assert "Other item 2" in text and 'Other "news"' in text, text
    assert "| x, y" in text, "the added tags are the feed's"
    r = t.run("remove", "other")
    assert r.out == f"feed other removed from {t.conf_path}\n"
    assert read_bytes(t.conf_path) == before


def test_add_refuses_in_one_line_and_leaves_the_file(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"all": {}})
    os.chmod(t.conf_path, 0o640)
    before, mtime = read_bytes(t.conf_path), os.stat(t.conf_path).st_mtime_ns
    cases = [(["inodes", url], "a feed named 'inodes' is already in"),
             (["new", "gopher://example.org/"], "only http, https and file URLs"),
             (["new", "http://[::1/"], "does not parse"),
             (["new", url, "--title", "a\nb"], "--title is empty or holds a control"),
             (["", url], "the name is empty")]
    for args, msg in cases:
        r = t.run("add", *args, expect=None)
        assert r.returncode == 65, (args, r.returncode, r.err)
        assert msg in one_line(r), (args, r.err)
        assert read_bytes(t.conf_path) == before, args
        assert os.stat(t.conf_path).st_mtime_ns == mtime, args
    # Nothing left beside it; the mode survives an edit.
    assert sorted(os.listdir(t.dir)) == ["tidings.conf"], os.listdir(t.dir)
    t.run("add", "new", url + "?2")
    assert os.stat(t.conf_path).st_mode & 0o777 == 0o640


def test_remove_refuses_unknown_and_explicitly_subscribed_feeds(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"a": url, "b": url + "?b"}, {"s": {"feeds": qlist(["a"])}})
    before = read_bytes(t.conf_path)
    r = t.run("remove", "nope", expect=65)
    assert "no feed named 'nope'" in one_line(r)
    r = t.run("remove", "a", expect=65)
    assert "subscription 's'" in one_line(r) and "feeds" in one_line(r), r.err
    assert read_bytes(t.conf_path) == before
    t.run("remove", "b")
    assert b"feed b" not in read_bytes(t.conf_path)
    assert "1 feed," in t.run("check").out


def test_remove_edits_the_included_file_that_defines_the_feed(t):
    url = t.serve("/feed.xml", seed_bytes())
    inc = os.path.join(t.dir, "feeds.conf")
    with open(inc, "w") as fh:
        fh.write(f"# mine\nfeed keep {{ url = {q(url)} }}\n\nfeed drop {{\n"
                 f"  url = {q(url + '?d')}  # a }} in a comment\n}}\n")
    t.config({}, {"all": {}}, extra='include("feeds.conf")')
    main_before = read_bytes(t.conf_path)
    r = t.run("remove", "drop")
    assert r.out == f"feed drop removed from {inc}\n", r.out
    assert read_bytes(t.conf_path) == main_before
    assert read_bytes(inc) == f"# mine\nfeed keep {{ url = {q(url)} }}\n".encode()
    assert "1 feed," in t.run("check").out


def test_add_and_remove_refuse_a_broken_config(t):
    t.config({}, {"all": {}}, extra="froom = 1")
    before = read_bytes(t.conf_path)
    r = t.run("add", "x", "http://127.0.0.1:9/x", expect=78)
    assert "fix it first" in one_line(r)
    assert read_bytes(t.conf_path) == before


# ---- active = false ----

def test_paused_feed_is_not_fetched_nor_offered_and_keeps_its_state(t):
    a = t.serve("/a.xml", feed_with("Alpha", 2))
    b = t.serve("/b.xml", feed_with("Beta", 2))
    t.config({"a": a, "b": b}, {"all": {}})
    t.run("run")
    state = t.state_lines()
    t.http.add("/a.xml", feed_with("Alpha", 3))
    t.http.add("/b.xml", feed_with("Beta", 3))
    t.http.reset()
    t.config({"a": a, "b": (b, {"active": "false"})}, {"all": {}})
    t.run("run")
    assert "/b.xml" not in t.http.stats()["count"], "a paused feed is not fetched"
    msgs = t.mbox()
    assert len(msgs) == 2
    text = msgs[1].get_body(("plain",)).get_content()
    assert "Alpha item 3" in text and "Beta" not in text, text
    assert [line for line in t.state_lines() if "/b.xml" in line] == \
        [line for line in state if "/b.xml" in line], "its state is kept"
    row = [line for line in t.run("feeds").out.splitlines() if line.startswith("b ")]
    assert "paused" in row[0], row
    assert "paused (active = false): b" in t.run("check").out
    # Active again: what it gained meanwhile arrives, nothing twice.
    t.config({"a": a, "b": b}, {"all": {}})
    t.run("run")
    text = t.mbox()[2].get_body(("plain",)).get_content()
    assert "Beta item 3" in text and "Beta item 2" not in text, text


# ---- proxies ----

def test_proxy_from_config_feed_and_environment(t):
    origin = t.serve("/feed.xml", seed_bytes())
    proxy = Server().start()
    try:
        proxy.add("/feed.xml", seed_bytes())
        purl = proxy.url("/").rstrip("/")

        def through_proxy():
            return proxy.stats()["count"].get(origin, 0)

        def direct():
            return t.http.stats()["count"].get("/feed.xml", 0)

        # fetch.proxy: every feed goes through it (absolute-URI requests).
        t.config({"f": origin}, {"all": {}}, extra=f"fetch {{ proxy = {q(purl)} }}")
        t.run("catch-up")
        assert (through_proxy(), direct()) == (1, 0)
        # A feed's own proxy = "" goes direct, whatever fetch.proxy says.
        t.config({"f": (origin, {"proxy": q("")})}, {"all": {}},
                 extra=f"fetch {{ proxy = {q(purl)} }}")
        t.run("catch-up")
        assert (through_proxy(), direct()) == (1, 1)
        # Unset, the environment's http_proxy is used; fetch.proxy = "" turns it off.
        env = {"http_proxy": purl, "no_proxy": ""}
        t.config({"f": origin}, {"all": {}})
        t.run("catch-up", env=env)
        assert (through_proxy(), direct()) == (2, 1)
        t.config({"f": origin}, {"all": {}}, extra='fetch { proxy = "" }')
        t.run("catch-up", env=env)
        assert (through_proxy(), direct()) == (2, 2)
        # parse FEED goes the way its run would.
        t.config({"f": origin}, {"all": {}}, extra=f"fetch {{ proxy = {q(purl)} }}")
        t.run("parse", "f")
        assert through_proxy() == 3
    finally:
        proxy.stop()


def test_bad_proxy_is_a_config_error(t):
    t.config({"f": ("http://127.0.0.1:9/x", {"proxy": q("ftp://p:21")})}, {"all": {}})
    r = t.run("check", expect=78)
    assert re.search(r"tidings.conf:\d+: proxy \"ftp://p:21\"", r.err), r.err


# ---- parse FEED ----

def test_parse_lists_a_configured_feed_by_name(t):
    url = t.serve("/feed.xml", feed_with("Gamma", 1))
    t.config({"gamma": url}, {"all": {}})
    r = t.run("parse", "gamma")
    assert r.out.startswith(f"Gamma (rss20, 1 item) from {url}\n"), r.out
    assert "Gamma item 1" in r.out
    # A file of that name wins; an unknown name stays a missing file (66).
    with open(os.path.join(t.dir, "gamma"), "w") as fh:
        fh.write(feed_with("Local", 2))
    r = subprocess.run([TIDINGS, "-c", t.conf_path, "parse", "gamma"], capture_output=True,
                       text=True, cwd=t.dir, timeout=60)
    assert "Local (rss20, 2 items)" in r.stdout, r.stdout
    r = t.run("parse", "nosuch", expect=66)
    assert "nosuch: No such file or directory" in one_line(r)
    r = t.run("parse", "-c", os.path.join(t.dir, "missing.conf"), "gamma", expect=78)


# ---- test-mail ----

def test_test_mail_reaches_the_recipients_and_records_nothing(t):
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp")).start()
    smtp = {"host": q("127.0.0.1"), "port": str(t.smtp.port), "tls": q("none"),
            "timeout": "20"}
    t.config({"f": "http://127.0.0.1:9/never-fetched"},
             {"first": {"to": qlist(["a@example.org", "b@example.org"])},
              "second": {}}, deliver="smtp", smtp=smtp)
    r = t.run("test-mail")
    assert "subscription first: test message to a@example.org accepted" in r.out, r.out
    assert "subscription first: test message to b@example.org accepted" in r.out, r.out
    # One message each, as a run sends: recipients never see each other.
    got = sorted(t.smtp.messages(), key=lambda m: m["rcpt_tos"])
    assert [m["rcpt_tos"] for m in got] == [["a@example.org"], ["b@example.org"]], got
    for m, me in zip(got, ("a@example.org", "b@example.org")):
        msg = parse_message(m["data"])
        assert msg["Subject"] == "tidings test message"
        assert [a.addr_spec for a in msg["To"].addresses] == [me], msg["To"]
    assert "'first'" in msg.get_body(("plain",)).get_content()
    assert not os.path.exists(t.state_path), "nothing recorded"
    t.run("test-mail", "-S", "second")
    assert t.smtp.messages()[2]["rcpt_tos"] == ["second@example.org"]
    r = t.run("test-mail", "-S", "nope", expect=64)
    assert "no subscription named 'nope'" in one_line(r)


def test_test_mail_exit_status_is_the_runs(t):
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp"), data_code="451").start()
    smtp = {"host": q("127.0.0.1"), "port": str(t.smtp.port), "tls": q("none"),
            "timeout": "20"}
    t.config({}, {"first": {}}, deliver="smtp", smtp=smtp)
    r = t.run("test-mail", expect=75)
    assert "test message to first@example.org not delivered" in one_line(r), r.err


def test_test_mail_to_mbox(t):
    t.config({}, {"me": {}})
    t.run("test-mail")
    (msg,) = t.mbox()
    assert msg["To"] == "me@example.org"


def test_test_mail_goes_each_subscriptions_way(t):
    # A subscription's own deliver (here sendmail, the global one SMTP to a
    # closed port) is the one tested; the envelope gets the bare address and
    # To: the display name, as a run sends.
    got = os.path.join(t.dir, "argv")
    prog = os.path.join(t.dir, "fake-sendmail")
    with open(prog, "w") as fh:
        fh.write(f'#!/bin/sh\necho "$@" > "{got}"\ncat > "{got}.msg"\n')
    os.chmod(prog, 0o755)
    smtp = {"host": q("127.0.0.1"), "port": "9", "tls": q("none"), "timeout": "5"}
    t.config({}, {"me": {"to": qlist(["Ann Example <ann@example.org>"]), "deliver": q("sendmail")}},
             deliver="smtp", smtp=smtp, extra="sendmail = " + q(prog))
    r = t.run("test-mail")
    assert "test message to ann@example.org accepted (sendmail " + prog in r.out, r.out
    with open(got) as fh:
        assert fh.read().split()[-2:] == ["--", "ann@example.org"]
    with open(got + ".msg", "rb") as fh:
        msg = parse_message(fh.read().replace(b"\n", b"\r\n"))
    assert msg["To"].addresses[0].display_name == "Ann Example", msg["To"]


# ---- the progress line ----

def run_on_tty(t, *args):
    """The binary with stderr on a pseudo-terminal: what the terminal got."""
    master, slave = pty.openpty()
    p = subprocess.Popen([TIDINGS, "-c", t.conf_path, *args], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:     # EIO: the other end closed
            break
        if not chunk:
            break
        out += chunk
    p.stdout.read()
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, out.decode("utf-8", "replace")


def test_progress_line_on_a_terminal_only(t):
    good = t.serve("/a.xml", seed_bytes())
    t.config({"good": good, "bad": t.http.url("/_/status/404")}, {"all": {}})
    rc, tty = run_on_tty(t, "run", "-n")
    assert rc == 0, tty
    assert re.search(r"\r\x1b\[Ktidings: fetching 2/2 feeds, 1 failed", tty), repr(tty)
    assert "fetching 0/2 feeds, 0 failed" in tty, repr(tty)
    assert tty.endswith("\r\x1b[K"), "the line is cleared at the end: " + repr(tty[-40:])
    # -q on a terminal, and any run without one (cron): no such line.
    rc, tty = run_on_tty(t, "run", "-n", "-q")
    assert "fetching" not in tty and "\x1b" not in tty, repr(tty)
    r = t.run("run", "-n")
    assert "fetching" not in r.err and "\x1b" not in r.err, r.err


if __name__ == "__main__":
    main(globals())
