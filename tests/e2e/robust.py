"""The delivery promises of docs/design.md ("State file"), held by the real binary:
runs killed at random instants lose nothing and never leave a partial state;
one run at a time; a corrupt state stops the run untouched; every kind of
SMTP failure leaves its items pending for the next good run, which delivers
them exactly once; the state file is private."""
import os
import random
import re
import signal
import stat
import subprocess
import time

from e2e import TIDINGS, VALGRIND, main, parse_message, parts, q, qlist, seed_bytes
from smtpd import SmtpServer

# Fixed unless asked otherwise, printed so that a failure can be replayed.
SEED = int(os.environ.get("ROBUST_SEED", "0") or 0) or random.SystemRandom().randrange(1, 1 << 30)
print(f"# ROBUST_SEED={SEED}")


# ---- a feed of numbered items ----

def item_xml(n):
    day = 1 + n % 28
    return (f"<item><title>rbitem-{n:04d} news</title>"
            f"<link>http://example.org/items/{n}</link>"
            f"<guid isPermaLink=\"false\">urn:rbitem:{n}</guid>"
            f"<pubDate>Thu, {day:02d} Oct 2026 10:00:00 +0000</pubDate>"
            f"<description>Body of item {n}.</description></item>")


def feed_xml(numbers):
    """Newest first, as feeds are."""
    items = "".join(item_xml(n) for n in sorted(numbers, reverse=True))
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>"
            "<title>Robust</title><link>http://example.org/</link>"
            "<description>numbered items</description>" + items + "</channel></rss>\n")


NUM = re.compile(rb"rbitem-(\d{4})")


def items_in_message(msg):
    """The item numbers a complete digest carries (text and HTML agree)."""
    text, html = parts(msg)
    in_text = {int(n) for n in NUM.findall(text.encode())}
    in_html = {int(n) for n in NUM.findall(html.encode())}
    assert in_text == in_html, (in_text, in_html)
    assert in_text, "a digest with no item"
    return in_text


def complete_mbox_messages(path):
    """Messages of an mbox that a kill may have cut short: only whole ones
    (closing MIME boundary present) count as received."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as fh:
        data = fh.read()
    out = []
    for chunk in re.split(rb"(?:^|\n)From [^\n]*\n", data)[1:]:
        raw = chunk.replace(b"\n>From ", b"\nFrom ")
        raw = re.sub(rb"\r?\n", b"\r\n", raw.rstrip(b"\n")) + b"\r\n"
        m = re.search(rb'boundary="?([^";\r\n]+)"?', raw)
        if m is None or b"--" + m.group(1) + b"--" not in raw:
            continue   # cut by a kill: the run that wrote it did not record it
        out.append(parse_message(raw))
    return out


def one_line(r):
    """The single stderr line of a failed run."""
    assert r.err.endswith("\n") and r.err.count("\n") == 1, repr(r.err)
    assert r.err.startswith("tidings: "), repr(r.err)
    return r.err[len("tidings: "):-1]


def state_items(t):
    """The (sub, feed, id) triples recorded in the state."""
    if not os.path.exists(t.state_path):
        return set()
    with open(t.state_path, "rb") as fh:
        lines = fh.read().split(b"\n")
    return {tuple(l.split(b"\t")[1:4]) for l in lines if l.startswith(b"item\t")}


def read_bytes(path):
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def temps(t):
    base = os.path.basename(t.state_path) + ".tmp."
    return [n for n in os.listdir(t.dir) if n.startswith(base)]


def cmd(t, *args):
    c = [TIDINGS, "-c", t.conf_path] + list(args)
    return VALGRIND.split() + c if VALGRIND else c


# ---- 1. kill at random instants ----

def kill_loop(t, iterations, digests, per_iter=2):
    """Grow the feed, start a run, SIGKILL it after a random delay; the state
    must stay whole and only grow.  At the end clean runs; then every item
    ever served must have arrived at least once.  digests() gives the item
    numbers of each digest received so far."""
    rng = random.Random(SEED)
    served = set(range(1, 4))
    t.serve("/feed.xml", feed_xml(served))
    # One clean run first: how long a run takes here sets the kill window.
    t0 = time.monotonic()
    r = t.run("run")
    window = min(0.3, 1.5 * (time.monotonic() - t0))
    assert r.err == "", r.err
    nxt, killed, ran, deadline = 4, 0, 0, time.monotonic() + 25
    for i in range(iterations):
        if time.monotonic() > deadline:
            break
        ran += 1
        for _ in range(rng.randint(0, per_iter)):
            served.add(nxt)
            nxt += 1
        t.serve("/feed.xml", feed_xml(served))
        before = read_bytes(t.state_path)
        old_items = state_items(t)
        p = subprocess.Popen(cmd(t, "run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0, window))
        p.send_signal(signal.SIGKILL)
        out, err = p.communicate(timeout=30)
        if p.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert p.returncode == 0 and err == b"", (i, p.returncode, err)
        after = read_bytes(t.state_path)
        f = t.run("feeds")   # the state still loads, whatever the instant
        assert f.err == "", f.err
        assert after is not None and after.startswith(b"tidings-state 2\n"), after
        if after != before:
            # The new file, whole: its end record counts its records.
            lines = after.rstrip(b"\n").split(b"\n")
            assert after.endswith(b"\n") and lines[-1].startswith(b"end\t"), lines[-1]
            assert old_items <= state_items(t), "items vanished from the state"
        assert len(temps(t)) <= 1, temps(t)
    # Clean runs until nothing more comes (max-items may hold some back).
    for _ in range(len(served)):
        n = len(digests())
        r = t.run("run")
        assert r.err == "", r.err
        if len(digests()) == n:
            break
    assert temps(t) == [], temps(t)
    got = digests()
    union = set().union(*got)
    assert served <= union, f"lost items: {sorted(served - union)} (seed {SEED})"
    assert union <= served, sorted(union - served)
    # All recorded: another run sends nothing.
    t.run("run")
    assert len(digests()) == len(got)
    twice = sum(len(d) for d in got) - len(union)
    print(f"# kill loop: {ran} runs, {killed} killed mid-run (window {window * 1000:.0f} ms),"
          f" {len(served)} items in {len(got)} digests, {twice} sent again")
    assert killed > 0, "no run was killed: the window missed every run"


def test_kill_loop_mbox_loses_nothing(t):
    # max-items makes runs hold items (and the feed's new validators) back.
    t.config({"f": t.serve("/feed.xml", feed_xml([]))}, {"all": {"max-items": "2"}})

    kill_loop(t, 30, lambda: [items_in_message(m) for m in complete_mbox_messages(t.mbox_path)])


def test_kill_loop_smtp_loses_nothing(t):
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp")).start()
    t.config({"f": t.serve("/feed.xml", feed_xml([]))}, {"all": {}}, deliver="smtp",
             smtp={"host": q("127.0.0.1"), "port": str(t.smtp.port), "tls": q("none"),
                   "timeout": "10"})

    kill_loop(t, 20, lambda: [items_in_message(parse_message(m["data"]))
                              for m in t.smtp.messages()])


def test_kill_loop_repeats_at_most_the_digest_in_flight(t):
    """Several subscriptions over a slow SMTP server (each DATA answered
    after 0.15 s): a run killed at any instant repeats at most the one
    digest it had in flight, since every accepted digest is journaled
    before the next is sent; and nothing is lost."""
    subs = [f"s{i}" for i in range(6)]
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp"), delay=0.15).start()
    t.config({"f": t.serve("/feed.xml", feed_xml([]))}, {s: {} for s in subs},
             deliver="smtp", smtp={"host": q("127.0.0.1"), "port": str(t.smtp.port),
                                   "tls": q("none"), "timeout": "10"})
    rng = random.Random(SEED)
    served, nxt = set(range(1, 3)), 3
    t.serve("/feed.xml", feed_xml(served))
    t0 = time.monotonic()
    t.run("run")
    window = time.monotonic() - t0   # a whole run: six digests in turn
    assert len(t.smtp.messages()) == len(subs)

    def received():
        """(sub, items) of every digest so far, in order."""
        return [(m["rcpt_tos"][0].split("@")[0], items_in_message(parse_message(m["data"])))
                for m in t.smtp.messages()]
    killed, deadline = 0, time.monotonic() + 40
    for i in range(12):
        if time.monotonic() > deadline:
            break
        served.add(nxt)
        nxt += 1
        t.serve("/feed.xml", feed_xml(served))
        p = subprocess.Popen(cmd(t, "run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.2 * window, window))
        p.send_signal(signal.SIGKILL)
        out, err = p.communicate(timeout=30)
        killed += p.returncode == -signal.SIGKILL
        assert p.returncode in (0, -signal.SIGKILL), (p.returncode, err)
    for _ in range(3):
        t.run("run")
    t.run("run")
    got = received()
    seen, repeats = set(), 0
    for sub, items in got:
        pairs = {(sub, n) for n in items}
        repeats += bool(pairs & seen)
        seen |= pairs
    want = {(s, n) for s in subs for n in served}
    assert want <= seen, f"lost: {sorted(want - seen)} (seed {SEED})"
    print(f"# in-flight kill loop: {killed} killed, {len(got)} digests, {repeats} repeated")
    assert killed > 0, "no run was killed"
    assert repeats <= killed, f"{repeats} digests repeated over {killed} kills (seed {SEED})"


# ---- 2. one run at a time ----

def test_second_run_exits_75_at_once_while_first_holds_the_lock(t):
    t.serve("/feed.xml", feed_xml(range(1, 6)))
    # The first run holds the lock for 8 s; the second must be done before
    # it ends (not wait for it), which leaves a loaded machine 8 s to start it.
    t.config({"f": t.http.url("/_/slow/8/feed.xml")}, {"all": {}})
    lock = t.state_path + ".lock"
    first = subprocess.Popen(cmd(t, "run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 60
        while (read_bytes(lock) or b"").strip() != str(first.pid).encode():
            assert time.monotonic() < end and first.poll() is None, "no pid in the lock"
            time.sleep(0.02)
        r = t.run("run", expect=75)
        assert one_line(r) == f"another tidings run holds {lock} (pid {first.pid})", r.err
        assert first.poll() is None, "the second run waited for the first"
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0 and err == b"", (first.returncode, err)
    msgs = t.mbox()
    assert len(msgs) == 1 and items_in_message(msgs[0]) == set(range(1, 6))
    # The second run changed nothing; the lock is free again.
    assert read_bytes(lock) == b"", read_bytes(lock)
    t.run("run")
    assert len(t.mbox()) == 1


# ---- 3. corrupt state ----

def corrupt_cases(good):
    """(name, bytes, line the error must name) made from a good state file."""
    lines = good.split(b"\n")
    assert lines[-1] == b"" and lines[-2].startswith(b"end\t"), lines[-2:]
    n = len(lines) - 1              # lines in the file
    item = next(i for i, l in enumerate(lines) if l.startswith(b"item\t"))
    garbled_time = lines[:]
    f = garbled_time[item].split(b"\t")
    f[4] = b"2026-13-45T99:00:00Z"
    garbled_time[item] = b"\t".join(f)
    short = lines[:]
    short[item] = b"\t".join(short[item].split(b"\t")[:4])
    nul = lines[:]
    nul[item] = nul[item].replace(b"urn:", b"ur\0n:", 1)
    return [
        ("cut mid-line", good[:len(good) - len(lines[-2]) - 8], n - 1),
        ("no end record", b"\n".join(lines[:-2]) + b"\n", n),
        ("bad count", b"\n".join(lines[:-2] + [b"end\t999", b""]), n),
        ("bad time", b"\n".join(garbled_time), item + 1),
        ("missing field", b"\n".join(short), item + 1),
        ("NUL byte", b"\n".join(nul), item + 1),
        ("bad version", b"tidings-state 9" + good[len(b"tidings-state 2"):], 1),
        ("not a state", b"\x00\xff garbage \x01\n", 1),
        ("empty", b"", 1),
    ]


def test_corrupt_state_stops_the_run_and_is_left_as_is(t):
    t.serve("/feed.xml", feed_xml(range(1, 4)))
    t.config({"f": t.http.url("/feed.xml")}, {"all": {}})
    t.run("run")
    assert len(t.mbox()) == 1
    good = read_bytes(t.state_path)
    t.serve("/feed.xml", feed_xml(range(1, 7)))   # something new to send
    mbox = read_bytes(t.mbox_path)
    bad = []
    for name, data, line in corrupt_cases(good):
        with open(t.state_path, "wb") as fh:
            fh.write(data)
        os.chmod(t.state_path, 0o600)
        r = t.run("run", expect=None)
        msg = r.err[len("tidings: "):-1] if r.err.startswith("tidings: ") else r.err
        want = f"{t.state_path}:{line}: "
        problems = []
        if r.returncode != 74:
            problems.append(f"exit {r.returncode}")
        if r.err.count("\n") != 1 or not msg.startswith(want):
            problems.append(f"stderr {r.err!r}, wanted {want!r}...")
        if read_bytes(t.state_path) != data:
            problems.append("state file changed")
        if read_bytes(t.mbox_path) != mbox:
            problems.append("something was sent")
        if problems:
            bad.append(f"{name}: " + "; ".join(problems))
        # tidings feeds refuses it the same way
        f = t.run("feeds", expect=None)
        if f.returncode != 74 or not f.err.startswith(f"tidings: {want}"):
            bad.append(f"{name}: feeds: exit {f.returncode}, {f.err!r}")
    assert not bad, "\n".join(bad)
    # Put the good file back: the run goes on where it stopped.
    with open(t.state_path, "wb") as fh:
        fh.write(good)
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 2 and items_in_message(msgs[1]) == {4, 5, 6}


def test_every_cut_of_the_state_file_is_refused(t):
    """A state cut anywhere (at each line end, and at random offsets) is
    refused with its line number, never read as a smaller state."""
    a = t.serve("/a.xml", feed_xml(range(1, 5)))
    b = t.serve("/b.xml", feed_xml(range(10, 13)))
    t.config({"a": a, "b": b}, {"all": {}, "some": {"feeds": qlist(["b"])}})
    t.run("run")
    good = read_bytes(t.state_path)
    ends = [i + 1 for i, c in enumerate(good) if c == 0x0a][:-1]
    rng = random.Random(SEED)
    cuts = sorted(set(ends + [0] + rng.sample(range(1, len(good)), 25)))
    bad = []
    for cut in cuts:
        data = good[:cut]
        with open(t.state_path, "wb") as fh:
            fh.write(data)
        r = t.run("feeds", expect=None)
        want = data.count(b"\n") + 1   # the cut line, or where "end" should be
        if r.returncode != 74 or not r.err.startswith(f"tidings: {t.state_path}:{want}: ") \
                or r.err.count("\n") != 1:
            bad.append(f"cut at {cut}: exit {r.returncode}, {r.err!r} (wanted line {want})")
        if read_bytes(t.state_path) != data:
            bad.append(f"cut at {cut}: file changed")
    assert not bad, "\n".join(bad)


def test_unreadable_state_stops_the_run(t):
    t.serve("/feed.xml", feed_xml(range(1, 4)))
    t.config({"f": t.http.url("/feed.xml")}, {"all": {}})
    os.mkdir(t.state_path)            # a folder where the file should be
    r = t.run("run", expect=74)
    assert one_line(r) == f"{t.state_path}:1: Is a directory", r.err
    assert os.path.isdir(t.state_path) and os.listdir(t.state_path) == []
    assert t.mbox() == []


# ---- 4. SMTP failures ----

def tls_smtp(t, **kw):
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp"), starttls=True, require_starttls=True,
                        auth="me:s3cret", auth_required=True, **kw).start()
    return {"host": q("localhost"), "port": str(t.smtp.port), "tls": q("starttls"),
            "ca-file": q(t.smtp.ca), "user": q("me"), "password": q("s3cret"), "timeout": "10"}


def raw_smtp(t, mode, timeout=10):
    """A misbehaving server (no STARTTLS: plain, on loopback)."""
    srv = SmtpServer(os.path.join(t.dir, "raw-" + mode), mode=mode).start()
    return srv, {"host": q("127.0.0.1"), "port": str(srv.port), "tls": q("none"),
                 "timeout": str(timeout)}


def setup_feed(t):
    return t.serve("/feed.xml", feed_xml(range(1, 6)))


def recorded(t):
    return {i[2] for i in state_items(t)}


def good_run_delivers_pending_once(t, url, subs, pending, others=0):
    """A good TLS+AUTH server: one run delivers the pending items once, the next nothing."""
    if t.smtp is None:
        good = tls_smtp(t)
    else:
        t.smtp.opts.update(rcpt={}, data_code=None)
        good = tls_smtp_conf(t)
    t.config({"f": url}, subs, deliver="smtp", smtp=good)
    n0 = len(t.smtp.messages())
    r = t.run("run")
    assert r.err == "", r.err
    msgs = t.smtp.messages()[n0:]
    assert len(msgs) == 1, msgs
    assert items_in_message(parse_message(msgs[0]["data"])) == pending
    assert recorded(t) >= {f"urn:rbitem:{n}".encode() for n in pending}
    t.run("run")
    assert len(t.smtp.messages()) == n0 + 1


def tls_smtp_conf(t):
    return {"host": q("localhost"), "port": str(t.smtp.port), "tls": q("starttls"),
            "ca-file": q(t.smtp.ca), "user": q("me"), "password": q("s3cret"), "timeout": "10"}


ALL = set(range(1, 6))


def test_smtp_451_at_data_is_temporary_and_stays_pending(t):
    url = setup_feed(t)
    t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=tls_smtp(t, data_code="451"))
    r = t.run("run", expect=75)
    assert one_line(r) == (f"subscription john: digest not delivered: localhost:{t.smtp.port} "
                           "refused the message: 451 4.3.0 Local error in processing, "
                           "try again"), r.err
    assert t.smtp.messages() == []
    assert recorded(t) == set()
    good_run_delivers_pending_once(t, url, {"john": {}}, ALL)


def test_smtp_550_at_rcpt_of_only_recipient_is_permanent_and_stays_pending(t):
    url = setup_feed(t)
    t.config({"f": url}, {"john": {}}, deliver="smtp",
             smtp=tls_smtp(t, rcpt={"john@example.org": "550"}))
    r = t.run("run", expect=69)
    assert one_line(r) == ("subscription john: digest not delivered: refused for john@example.org: "
                           "550 5.1.1 No such user here"), r.err
    assert t.smtp.messages() == []
    assert recorded(t) == set()
    good_run_delivers_pending_once(t, url, {"john": {}}, ALL)


def test_smtp_dropped_mid_data_is_temporary_and_stays_pending(t):
    url = setup_feed(t)
    srv, conf = raw_smtp(t, "dropdata")
    try:
        t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=conf)
        r = t.run("run", expect=75)
        assert "dropped" in {e["event"] for e in srv.events()}, srv.events()
    finally:
        srv.stop()
    assert one_line(r).startswith(f"127.0.0.1:{srv.port}: connection lost ("), r.err
    assert recorded(t) == set()
    good_run_delivers_pending_once(t, url, {"john": {}}, ALL)


def test_smtp_421_greeting_is_temporary(t):
    url = setup_feed(t)
    srv, conf = raw_smtp(t, "greet421")
    try:
        t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=conf)
        r = t.run("run", expect=75)
    finally:
        srv.stop()
    assert one_line(r) == (f"127.0.0.1:{srv.port}: 421 4.3.2 Service not available, "
                           "closing channel"), r.err
    assert recorded(t) == set()
    good_run_delivers_pending_once(t, url, {"john": {}}, ALL)


def test_smtp_server_that_never_greets_times_out(t):
    url = setup_feed(t)
    srv, conf = raw_smtp(t, "nogreet", timeout=2)
    try:
        t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=conf)
        t0 = time.monotonic()
        r = t.run("run", expect=75, timeout=120)
        took = time.monotonic() - t0
    finally:
        srv.stop()
    # Without smtp.timeout libesmtp would wait five minutes (RFC 5321); the
    # bound is loose so that a loaded machine cannot fail it.
    assert took < 60, f"the run took {took:.1f} s with smtp timeout = 2"
    print(f"# never greets, timeout = 2: the run took {took:.1f} s")
    assert one_line(r).startswith(f"127.0.0.1:{srv.port}: timed out: no complete exchange "
                                  "within timeout = 2 s"), r.err
    assert recorded(t) == set()
    good_run_delivers_pending_once(t, url, {"john": {}}, ALL)


def test_smtp_starttls_required_but_not_offered_sends_nothing(t):
    url = setup_feed(t)
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp"), auth="me:s3cret").start()
    conf = {"host": q("127.0.0.1"), "port": str(t.smtp.port), "tls": q("starttls"),
            "user": q("me"), "password": q("s3cret"), "timeout": "10"}
    t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=conf)
    r = t.run("run", expect=69)
    assert one_line(r) == f"127.0.0.1:{t.smtp.port} does not offer STARTTLS", r.err
    assert t.smtp.messages() == []
    evs = [e["event"] for e in t.smtp.events()]
    assert "auth" not in evs and "mail" not in evs, evs   # the password never went out
    assert recorded(t) == set()
    t.smtp.stop()
    t.smtp = None
    good_run_delivers_pending_once(t, url, {"john": {}}, ALL)


def test_smtp_one_refused_recipient_of_two_subscriptions(t):
    """Per subscription: the accepted digest is recorded, the refused one is not."""
    url = setup_feed(t)
    subs = {"john": {}, "mary": {}}
    t.config({"f": url}, subs, deliver="smtp", smtp=tls_smtp(t, rcpt={"mary@example.org": "451"}))
    r = t.run("run", expect=75)
    assert one_line(r) == ("subscription mary: digest not delivered: refused for mary@example.org: "
                           "451 4.3.0 Local error in processing, try again"), r.err
    assert len(t.smtp.messages()) == 1
    subs_recorded = {i[0] for i in state_items(t)}
    assert subs_recorded == {b"john"}, subs_recorded
    good_run_delivers_pending_once(t, url, subs, ALL)
    assert t.smtp.messages()[-1]["rcpt_tos"] == ["mary@example.org"]


def test_smtp_one_of_two_recipients_refused_is_reported(t):
    """The server takes the digest (250 after DATA) for john but refused
    bad@ at RCPT with 550: the digest counts as accepted and is recorded
    (re-sending would reach john twice), but the refusal is a problem: one
    line on stderr and exit 69, not a silent success."""
    url = setup_feed(t)
    subs = {"john": {"to": qlist(["john@example.org", "bad@example.org"])}}
    t.config({"f": url}, subs, deliver="smtp", smtp=tls_smtp(t, rcpt={"bad@example.org": "550"}))
    r = t.run("run", expect=None)
    got = t.smtp.messages()
    assert [m["rcpt_tos"] for m in got] == [["john@example.org"]], got
    assert len(state_items(t)) == 5, state_items(t)
    # e.g. "subscription john: refused for bad@example.org: 550 5.1.1 No such user here"
    assert r.returncode == 69 and r.err.count("\n") == 1 and \
        r.err.startswith("tidings: subscription john: ") and \
        "bad@example.org" in r.err and "550 5.1.1 No such user here" in r.err, \
        f"a refused recipient went unreported: exit {r.returncode}, stderr {r.err!r}"


def test_connection_lost_after_first_digest_goes_on_in_a_new_session(t):
    """The server takes one digest per session (250) and drops the line in
    the next one's DATA: tidings opens a new session for the second, and
    both are recorded."""
    url = setup_feed(t)
    subs = {"john": {}, "mary": {}}
    srv = SmtpServer(os.path.join(t.dir, "raw"), mode="dropdata", drop_after=1).start()
    try:
        t.config({"f": url}, subs, deliver="smtp",
                 smtp={"host": q("127.0.0.1"), "port": str(srv.port), "tls": q("none"),
                       "timeout": "10"})
        t.run("run")
        took = [m["rcpt_tos"] for m in srv.messages()]
        conns = [e for e in srv.events() if e["event"] == "connect"]
    finally:
        srv.stop()
    assert sorted(took) == [["john@example.org"], ["mary@example.org"]], took
    assert len(conns) == 2, conns
    assert {i[0] for i in state_items(t)} == {b"john", b"mary"}, state_items(t)


def test_mbox_write_failure_leaves_no_half_message_and_loses_nothing(t):
    """Appending to the mbox fails midway (file size limit): exit 74, the mbox
    cut back to its old size, nothing recorded; the next run delivers.  The
    first digest is large (a hundred items) so the limit leaves room for the
    run's temporary files and the state, not for a second digest in the mbox."""
    import resource
    old_items = list(range(1000, 1100))
    t.serve("/feed.xml", feed_xml(list(range(1, 3)) + old_items))
    t.config({"f": t.http.url("/feed.xml")}, {"all": {}})
    t.run("run")
    old = read_bytes(t.mbox_path)
    old_state = state_items(t)
    t.serve("/feed.xml", feed_xml(list(range(1, 6)) + old_items))
    cap = len(old) + 200

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
    r = subprocess.run(cmd(t, "run"), capture_output=True, preexec_fn=limit)
    err = r.stderr.decode()
    assert r.returncode == 74, (r.returncode, err)
    assert err == f"tidings: cannot write mbox {t.mbox_path}: File too large\n", err
    assert read_bytes(t.mbox_path) == old, "half a message left in the mbox"
    assert state_items(t) == old_state
    t.run("run")
    msgs = t.mbox()
    assert len(msgs) == 2 and items_in_message(msgs[1]) == {3, 4, 5}


def test_smtp_failure_is_retried_next_run_even_within_the_feed_interval(t):
    """A digest refused with 451 is "retry later, nothing was lost": the next
    run must deliver it, though the feed's interval has not elapsed."""
    url = setup_feed(t)
    feeds = {"f": (url, {"interval": q("1h")})}
    t.config(feeds, {"john": {}}, deliver="smtp", smtp=tls_smtp(t, data_code="451"))
    t.run("run", expect=75)
    assert t.smtp.messages() == [] and recorded(t) == set()
    t.smtp.opts.update(data_code=None)
    r = t.run("run", expect=None)
    got = t.smtp.messages()
    assert r.returncode == 0 and r.err == "", (r.returncode, r.err)
    assert len(got) == 1, ("the pending digest waits for the interval (1h) instead of "
                           "being retried: %d messages" % len(got))
    assert items_in_message(parse_message(got[0]["data"])) == ALL
    t.run("run")
    assert len(t.smtp.messages()) == 1


def test_state_over_the_file_size_limit_sends_nothing(t):
    """The state could not be saved (file size limit): before anything is
    sent the run proves it can, so one line names the file, nothing is sent,
    the old state is intact and no temp file is left; the next run sends the
    digest once.  The state is made large (900 old ids) so that the limit,
    half its size, still lets the run write its small digest to temporary
    files."""
    import resource
    url = t.serve("/feed.xml", feed_xml(list(range(1, 6)) + list(range(1000, 1900))))
    t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=tls_smtp(t))
    t.run("run")
    old = read_bytes(t.state_path)
    t.serve("/feed.xml", feed_xml(range(1, 9)))

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(old) // 2, len(old) // 2))
    for _ in range(3):
        r = subprocess.run(cmd(t, "run"), capture_output=True, preexec_fn=limit)
        err = r.stderr.decode()
        assert r.returncode == 74, (r.returncode, err)
        assert re.fullmatch(r"tidings: the state cannot be saved, nothing was sent: cannot "
                            rf"write {re.escape(t.state_path)}\.tmp\.\w{{6}}: "
                            r"File too large\n", err), err
        assert len(t.smtp.messages()) == 1
        assert read_bytes(t.state_path) == old
        assert temps(t) == [], temps(t)
    t.run("run")
    got = t.smtp.messages()
    assert len(got) == 2, len(got)
    assert items_in_message(parse_message(got[1]["data"])) == {6, 7, 8}, \
        items_in_message(parse_message(got[1]["data"]))
    t.run("run")
    assert len(t.smtp.messages()) == 2


def as_nobody():
    """For a root run: drop to nobody, whom permissions do stop."""
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def test_read_only_state_folder_sends_nothing(t):
    """A state folder the run cannot write to (its lock file still can be):
    one line, nothing sent, however many runs; writable again, the digest
    comes once.  Root ignores permissions, so as root the binary runs as
    nobody (the case folder is handed to nobody)."""
    url = setup_feed(t)
    sdir = os.path.join(t.dir, "st")
    os.mkdir(sdir)
    t.state_path = os.path.join(sdir, "state")
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp")).start()
    t.config({"f": url}, {"john": {}}, deliver="smtp",
             smtp={"host": q("127.0.0.1"), "port": str(t.smtp.port), "tls": q("none")})
    root = os.geteuid() == 0
    if root:
        for d, _, files in os.walk(t.dir):
            for n in [d] + [os.path.join(d, f) for f in files]:
                os.chown(n, 65534, 65534)
    drop = as_nobody if root else None
    subprocess.run(cmd(t, "catch-up"), check=True, preexec_fn=drop)
    t.serve("/feed.xml", feed_xml(range(1, 9)))
    old = read_bytes(t.state_path)
    os.chmod(sdir, 0o500)
    try:
        for _ in range(3):
            r = subprocess.run(cmd(t, "run"), capture_output=True, preexec_fn=drop)
            err = r.stderr.decode()
            assert r.returncode == 73, (r.returncode, err)
            assert re.fullmatch(r"tidings: the state cannot be saved, nothing was sent: cannot "
                                rf"create {re.escape(t.state_path)}\.tmp\.\w{{6}}: "
                                r"Permission denied\n", err), err
            assert t.smtp.messages() == []
    finally:
        os.chmod(sdir, 0o700)
    assert read_bytes(t.state_path) == old
    r = subprocess.run(cmd(t, "run"), capture_output=True, preexec_fn=drop)
    assert r.returncode == 0, r.stderr
    got = t.smtp.messages()
    assert len(got) == 1 and items_in_message(parse_message(got[0]["data"])) == {6, 7, 8}
    subprocess.run(cmd(t, "run"), check=True, preexec_fn=drop)
    assert len(t.smtp.messages()) == 1


def test_full_state_file_system_sends_nothing(t):
    """The state's file system is full: one line, nothing sent; with room
    again the digest comes once.  As root the state lives on a small tmpfs
    filled up but for one page (the lock file can still be written, the
    state of 300 ids cannot); otherwise a file-size limit stands in for
    the full disk."""
    import resource
    url = t.serve("/feed.xml", feed_xml(list(range(1, 6)) + list(range(1000, 1300))))
    sdir = os.path.join(t.dir, "st")
    os.mkdir(sdir)
    t.state_path = os.path.join(sdir, "state")
    t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=tls_smtp(t))
    root = os.geteuid() == 0
    if root:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tidings-e2e",
                        sdir], check=True)
    try:
        t.run("catch-up")
        t.serve("/feed.xml", feed_xml(list(range(1, 9)) + list(range(1000, 1300))))
        old = read_bytes(t.state_path)
        filler = os.path.join(sdir, "filler")

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (len(old), len(old)))
        if root:
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while os.write(fd, b"x" * 4096) > 0:
                    pass
            except OSError:
                pass
            os.ftruncate(fd, os.fstat(fd).st_size - 4096)
            os.close(fd)
        for _ in range(2):
            r = subprocess.run(cmd(t, "run"), capture_output=True,
                               preexec_fn=None if root else limit)
            err = r.stderr.decode()
            assert r.returncode == 74, (r.returncode, err)
            why = "No space left on device" if root else "File too large"
            assert re.fullmatch(r"tidings: the state cannot be saved, nothing was sent: cannot "
                                rf"(create|write) {re.escape(t.state_path)}\.tmp\.\w{{6}}: "
                                rf"{why}\n", err), err
            assert t.smtp.messages() == []
            assert read_bytes(t.state_path) == old
        if root:
            os.unlink(filler)
        t.run("run")
        got = t.smtp.messages()
        assert len(got) == 1 and items_in_message(parse_message(got[0]["data"])) == {6, 7, 8}
        t.run("run")
        assert len(t.smtp.messages()) == 1
    finally:
        if root:
            subprocess.run(["umount", sdir], check=True)


def test_symlinked_state_is_written_through_the_link(t):
    """A state file that is a symbolic link stays one: the file it leads to
    is replaced.  A link that leads nowhere sends nothing, with one line."""
    url = setup_feed(t)
    real_dir = os.path.join(t.dir, "real")
    os.mkdir(real_dir)
    real = os.path.join(real_dir, "state")
    link = t.state_path
    os.symlink(real, link)
    t.config({"f": url}, {"john": {}})
    r = t.run("run", expect=74)
    assert re.fullmatch(r"tidings: the state cannot be saved, nothing was sent: "
                        rf"{re.escape(link)}: a symbolic link that leads nowhere: "
                        r"No such file or directory\n", r.err), r.err
    assert t.mbox() == []
    with open(real, "w") as fh:
        fh.write("tidings-state 1\nend\t0\n")
    t.run("run")
    assert os.path.islink(link) and os.readlink(link) == real
    assert len(t.mbox()) == 1
    t.state_path = real
    assert recorded(t) == {f"urn:rbitem:{n}".encode() for n in ALL}
    t.run("run")
    assert len(t.mbox()) == 1


def test_no_room_for_temporary_files_stops_the_run_before_sending(t):
    """Rendered items and digests go through $TMPDIR: when it cannot be
    written, one line names it, nothing is sent or recorded, and the next
    run with room delivers everything."""
    url = setup_feed(t)
    t.config({"f": url}, {"john": {}}, deliver="smtp", smtp=tls_smtp(t))
    missing = os.path.join(t.dir, "no-such-dir")
    r = t.run("run", expect=73, env={"TMPDIR": missing})
    assert re.fullmatch(rf"tidings: {re.escape(missing)}: cannot make a temporary file for "
                        r"the rendered items: No such file or directory\n", r.err), r.err
    assert t.smtp.messages() == []
    assert recorded(t) == set()
    t.run("run")
    got = t.smtp.messages()
    assert len(got) == 1 and items_in_message(parse_message(got[0]["data"])) == {1, 2, 3, 4, 5}


def test_full_tmpdir_says_no_space(t):
    """A full $TMPDIR is named with its cause (it once read "cannot read back
    a rendered item: file too short": a buffered spool write failed later),
    whichever file it filled: the spool, a rendered part or the message.
    File-size limits of several sizes stand in for it (they bind root too);
    as root a small tmpfs of several sizes is also filled."""
    import resource
    body = "body text here. " * 500
    items = "".join(f"<item><title>big {i}</title><link>http://example.org/{i}</link>"
                    f"<guid>urn:big:{i}</guid><description>{body}</description></item>"
                    for i in range(20))
    url = t.serve("/feed.xml", "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
                  "<title>t</title><link>http://example.org/</link><description>d</description>"
                  + items + "</channel></rss>")
    t.config({"f": url}, {"john": {}})
    tmp = os.path.join(t.dir, "tmp")
    os.mkdir(tmp)
    cases = [("limit", n) for n in (8000, 30000, 60000, 100000)]
    if os.geteuid() == 0:
        cases += [("tmpfs", size) for size in ("96k", "192k", "352k", "512k")]
    for kind, size in cases:
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        if kind == "tmpfs":
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tidings-tmp", tmp],
                           check=True)
        try:
            r = subprocess.run(cmd(t, "run"), capture_output=True,
                               env=dict(os.environ, TMPDIR=tmp),
                               preexec_fn=limit if kind == "limit" else None)
        finally:
            if kind == "tmpfs":
                subprocess.run(["umount", tmp], check=True)
        err = r.stderr.decode()
        assert r.returncode == 74, (kind, size, r.returncode, err)
        assert err.count("\n") == 1, err
        why = "No space left on device" if kind == "tmpfs" else "File too large"
        assert err.endswith(f": {why}\n") and "too short" not in err, (kind, size, err)
        assert t.mbox() == []


def test_many_subscriptions_need_few_file_descriptors(t):
    """All digests of a run share one temporary file: 120 subscriptions
    under a limit of 48 open files all get their digest."""
    import resource
    url = setup_feed(t)
    t.config({"f": url}, {f"s{i}": {} for i in range(120)})

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
    r = subprocess.run(cmd(t, "run"), capture_output=True, preexec_fn=limit)
    assert r.returncode == 0, r.stderr.decode()
    msgs = t.mbox()
    assert len(msgs) == 120 and all(items_in_message(m) == {1, 2, 3, 4, 5} for m in msgs)


def test_file_size_limit_is_an_error_line_not_a_kill(t):
    """Past RLIMIT_FSIZE a write fails (SIGXFSZ is ignored): one line naming
    the folder and the cause, exit 74, nothing recorded."""
    import resource
    t.serve("/feed.xml", feed_xml(range(1, 400)))
    t.config({"f": t.http.url("/feed.xml")}, {"all": {"max-items": "0"}})

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
    r = subprocess.run(cmd(t, "run"), capture_output=True, preexec_fn=limit)
    err = r.stderr.decode()
    assert r.returncode == 74, (r.returncode, err)
    assert err.count("\n") == 1 and "File too large" in err and "/" in err, err
    assert recorded(t) == set()
    t.run("run")
    assert len(t.mbox()) == 1


def test_stale_temp_file_of_a_crashed_save_is_removed(t):
    t.serve("/feed.xml", feed_xml(range(1, 3)))
    t.config({"f": t.http.url("/feed.xml")}, {"all": {}})
    stale = t.state_path + ".tmp.AbC123"
    with open(stale, "wb") as fh:
        fh.write(b"tidings-state 1\nfeed\thalf")
    other = t.state_path + ".tmp.keep"     # not the temp-name shape: not ours
    with open(other, "wb") as fh:
        fh.write(b"x")
    t.run("run")
    assert not os.path.exists(stale)
    assert os.path.exists(other)
    assert len(t.mbox()) == 1


def test_catch_up_and_dry_run_refuse_a_corrupt_state_too(t):
    t.serve("/feed.xml", feed_xml(range(1, 3)))
    t.config({"f": t.http.url("/feed.xml")}, {"all": {}})
    data = b"tidings-state 1\nsub\tall\n"
    with open(t.state_path, "wb") as fh:
        fh.write(data)
    for args in (("catch-up",), ("run", "--dry-run"), ("preview",)):
        r = t.run(*args, expect=74)
        assert one_line(r) == f"{t.state_path}:3: truncated (no end record)", (args, r.err)
        assert r.out == "", (args, r.out[:200])
        assert read_bytes(t.state_path) == data
    assert t.mbox() == []


def test_items_held_back_by_max_items_come_next_run_even_within_the_interval(t):
    """Same promise for max-items: "the rest wait for the next one"."""
    url = setup_feed(t)
    t.config({"f": (url, {"interval": q("1h")})}, {"all": {"max-items": "2"}})
    for _ in range(3):
        t.run("run")
    got = [items_in_message(m) for m in t.mbox()]
    assert got == [{1, 2}, {3, 4}, {5}], ("held-back items wait for the interval (1h) "
                                          f"instead of the next run: {got}")


# ---- 5. permissions ----

def test_state_and_lock_are_private_whatever_the_umask(t):
    t.serve("/feed.xml", feed_xml(range(1, 3)))
    t.config({"f": t.http.url("/feed.xml")}, {"all": {}})
    r = subprocess.run(cmd(t, "run"), capture_output=True, umask=0)
    assert r.returncode == 0 and r.stderr == b"", (r.returncode, r.stderr)
    for path in (t.state_path, t.state_path + ".lock"):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600, f"{path}: {oct(mode)}"
    # A state made readable by others is private again after the next run.
    os.chmod(t.state_path, 0o644)
    t.serve("/feed.xml", feed_xml(range(1, 4)))
    t.run("run")
    assert stat.S_IMODE(os.stat(t.state_path).st_mode) == 0o600
    # Missing folders above the state are made 0700.
    deep = os.path.join(t.dir, "a", "b", "state")
    with open(t.conf_path) as fh:
        conf = fh.read().replace(q(t.state_path), q(deep))
    with open(t.conf_path, "w") as fh:
        fh.write(conf)
    r = subprocess.run(cmd(t, "run"), capture_output=True, umask=0)
    assert r.returncode == 0 and r.stderr == b"", (r.returncode, r.stderr)
    for d in (os.path.join(t.dir, "a"), os.path.join(t.dir, "a", "b")):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, (d, oct(os.stat(d).st_mode))
    assert stat.S_IMODE(os.stat(deep).st_mode) == 0o600


def test_run_that_changes_nothing_leaves_the_state_file_alone(t):
    """Every feed inside its interval: nothing is fetched, nothing changes,
    and the state file keeps its bytes, inode and mtime.  A run with
    something new replaces it."""
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": (url, {"interval": q("1h")})}, {"all": {}})
    t.run("run")
    assert len(t.mbox()) == 1

    def snapshot():
        with open(t.state_path, "rb") as fh:
            data = fh.read()
        sb = os.stat(t.state_path)
        return data, sb.st_ino, sb.st_mtime_ns

    before = snapshot()
    t.run("run")
    assert snapshot() == before
    assert len(t.mbox()) == 1
    other = t.serve("/other.xml", seed_bytes())
    t.config({"inodes": (url, {"interval": q("1h")}), "other": other}, {"all": {}})
    t.run("run")
    after = snapshot()
    assert after[1] != before[1] and after[0] != before[0]
    assert other.encode() in after[0]


if __name__ == "__main__":
    main(globals())
