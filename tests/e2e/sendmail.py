"""deliver = "sendmail": through a real msmtp (its own msmtprc, written here)
relaying to the aiosmtpd harness on 127.0.0.1, and through small scripts
that fail: what the program does not accept is not recorded."""
import os
import re
import time

from e2e import items_in, main, parse_message, parts, q, qlist, seed_bytes
from smtpd import SmtpServer

MSMTP = "/usr/bin/msmtp"
GUIDS = [g.decode().replace("&amp;", "&")
         for g in re.findall(rb"<guid[^>]*>(.*?)</guid>", seed_bytes())]



def msmtp_to_harness(t, **kw):
    """A harness server and an msmtp configuration that relays to it."""
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp"), **kw).start()
    rc = os.path.join(t.dir, "msmtprc")
    with open(rc, "w") as fh:
        fh.write(f"account default\nhost 127.0.0.1\nport {t.smtp.port}\ntls off\nauth off\n"
                 f"from tidings@example.org\ntimeout 20\n")
    os.chmod(rc, 0o600)
    return f"{MSMTP} -C {rc}"


def script(t, name, body):
    path = os.path.join(t.dir, name)
    with open(path, "w") as fh:
        fh.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o700)
    return path


def item_lines(t):
    if not os.path.exists(t.state_path):
        return []
    return [ln for ln in t.state_lines() if ln.startswith("item\t")]


def test_msmtp_relays_with_the_right_envelope(t):
    assert os.access(MSMTP, os.X_OK), "msmtp is not installed (see .ci/packages)"
    url = t.serve("/feed.xml", seed_bytes())
    prog = msmtp_to_harness(t)
    t.config({"inodes": url}, {"team": {"to": qlist(["Ann <ann@example.org>",
                                                      "bob@example.org"])}},
             deliver="sendmail", extra="sendmail = " + q(prog))
    t.run("run")
    got = t.smtp.messages()
    assert sorted((m["mail_from"], tuple(m["rcpt_tos"])) for m in got) == [
        ("tidings@example.org", ("ann@example.org",)),
        ("tidings@example.org", ("bob@example.org",))], got
    for m in got:
        msg = parse_message(m["data"])  # strict: msmtp's CRLF message parses clean
        assert items_in(msg["Subject"]) == 9, msg["Subject"]
        assert [a.addr_spec for a in msg["To"].addresses] == m["rcpt_tos"], msg["To"]
        assert b"\r\n" in m["data"] and b"\r\r" not in m["data"] and b"\n\n" not in m["data"]
        text, html = parts(msg)
        assert "Bulletproof" in text or len(text) > 100, text[:200]
    assert len(item_lines(t)) == 9, t.state_lines()
    t.run("run")
    assert len(t.smtp.messages()) == 2


def test_msmtp_refused_recipient_is_retried(t):
    url = t.serve("/feed.xml", seed_bytes())
    prog = msmtp_to_harness(t, rcpt={"bob@example.org": "451"})
    t.config({"inodes": url}, {"team": {"to": qlist(["ann@example.org", "bob@example.org"])}},
             deliver="sendmail", extra="sendmail = " + q(prog))
    # msmtp exits 69 (EX_UNAVAILABLE) for any refused recipient, 4xx or 5xx: the
    # exit status is what tidings goes by.  Either way bob's items stay pending.
    r = t.run("run", expect=69)
    assert ("digest to bob@example.org not delivered: /usr/bin/msmtp exited with status 69: "
            "msmtp: recipient address bob@example.org not accepted by the server") in r.err, r.err
    assert [m["rcpt_tos"] for m in t.smtp.messages()] == [["ann@example.org"]]
    assert all(ln.endswith("\tann@example.org") for ln in item_lines(t)), t.state_lines()
    t.smtp.opts["rcpt"] = {}
    t.run("run")
    got = t.smtp.messages()
    assert [m["rcpt_tos"] for m in got] == [["ann@example.org"], ["bob@example.org"]], got
    assert len(item_lines(t)) == 9 and all(len(ln.split("\t")) == 6 for ln in item_lines(t))


def test_failing_program_is_not_recorded(t):
    url = t.serve("/feed.xml", seed_bytes())
    got = os.path.join(t.dir, "got")
    prog = script(t, "fake-sendmail",
                  f'cat > "{got}.$$"; echo "fake-sendmail: queue full, try later" >&2; '
                  f'echo more >&2; exit 75')
    t.config({"inodes": url}, {"ann": {}}, deliver="sendmail", extra="sendmail = " + q(prog))
    r = t.run("run", expect=75)
    assert r.err == ("tidings: subscription ann: digest not delivered: " + prog +
                     " exited with status 75: fake-sendmail: queue full, try later\n"), r.err
    assert item_lines(t) == [], t.state_lines()
    # It did get the message, with LF line ends.
    (name,) = [n for n in os.listdir(t.dir) if n.startswith("got.")]
    with open(os.path.join(t.dir, name), "rb") as fh:
        data = fh.read()
    assert b"\r" not in data and b"\nSubject: " in data, data[:300]
    assert items_in(parse_message(data.replace(b"\n", b"\r\n"))["Subject"]) == 9
    # A program that takes the message: recorded.
    script(t, "fake-sendmail", "cat >/dev/null")
    t.run("run")
    assert len(item_lines(t)) == 9


def test_program_quitting_early_is_no_crash(t):
    # A digest far larger than a pipe holds: the program quits with most of it unread.
    words = " ".join(f"word{i}" for i in range(60000))
    feed = ("<?xml version='1.0'?><rss version='2.0'><channel><title>Big</title>"
            "<link>http://example.org/</link><description>d</description>"
            f"<item><title>Huge</title><guid>urn:huge</guid><description>{words}"
            "</description></item></channel></rss>")
    url = t.serve("/feed.xml", feed)
    prog = script(t, "quitter", "exit 0")
    t.config({"inodes": url}, {"ann": {}}, deliver="sendmail", extra="sendmail = " + q(prog))
    r = t.run("run", expect=75)  # not killed by SIGPIPE
    assert r.err == ("tidings: subscription ann: digest not delivered: " + prog +
                     " exited before reading the whole message: (it said nothing)\n"), r.err
    assert item_lines(t) == [], t.state_lines()


def test_hung_program_is_stopped_after_smtp_timeout(t):
    # msmtp stuck on a dead server: smtp.timeout bounds each run, and the lock is let go.
    url = t.serve("/feed.xml", seed_bytes())
    pidfile = os.path.join(t.dir, "pid")
    prog = script(t, "stuck", f'echo $$ > "{pidfile}"; cat >/dev/null; exec sleep 1000')
    t.config({"inodes": url}, {"ann": {}}, deliver="sendmail", smtp={"timeout": 2},
             extra="sendmail = " + q(prog))
    start = time.monotonic()
    r = t.run("run", expect=75, timeout=60)
    assert time.monotonic() - start < 30
    assert r.err == ("tidings: subscription ann: digest not delivered: sendmail: " + prog +
                     " did not finish within 2 s\n"), r.err
    with open(pidfile) as fh:
        pid = int(fh.read())
    try:
        os.kill(pid, 0)
        raise AssertionError(f"the program (pid {pid}) still runs")
    except ProcessLookupError:
        pass
    assert item_lines(t) == [], t.state_lines()
    script(t, "stuck", "cat >/dev/null")
    t.run("run")
    assert len(item_lines(t)) == 9


def test_missing_program_is_a_clear_error(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"ann": {}}, deliver="sendmail",
             extra='sendmail = "/nonexistent/sendmail -t"')
    r = t.run("run", expect=78)
    lines = r.err.strip().split("\n")
    assert re.match(r'^.*tidings\.conf:\d+: sendmail = "/nonexistent/sendmail -t": '
                    r'/nonexistent/sendmail: No such file or directory$', lines[0]), r.err
    # A bare name is looked up in PATH when it runs.
    t.config({"inodes": url}, {"ann": {}}, deliver="sendmail",
             extra='sendmail = "no-such-sendmail-here -t"')
    r = t.run("run", expect=78)
    assert r.err == ('tidings: sendmail = "no-such-sendmail-here": cannot run it: '
                     "No such file or directory\n"), r.err
    assert item_lines(t) == []


if __name__ == "__main__":
    main(globals())
