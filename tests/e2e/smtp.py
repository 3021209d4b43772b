"""The first slice over real SMTP: the seed feed served over HTTP, a digest
sent with STARTTLS and AUTH to the aiosmtpd harness, parsed with Python's
email package; a second run sends nothing; the state holds the nine ids.
Then delivery failures: what is refused stays pending, what is accepted is
recorded."""
import os
import re

from e2e import main, parse_message, parts, q, qlist, seed_bytes
from smtpd import SmtpServer

GUIDS = [g.decode().replace("&amp;", "&")
         for g in re.findall(rb"<guid[^>]*>(.*?)</guid>", seed_bytes())]
TITLES = [t.decode() for t in re.findall(rb"<item>\s*<title>(.*?)</title>", seed_bytes(), re.S)]


def start_smtp(t, **kw):
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp"), starttls=True, require_starttls=True,
                        auth="me:s3cret", auth_required=True, **kw).start()
    return {"host": q("localhost"), "port": str(t.smtp.port), "tls": q("starttls"),
            "ca-file": q(t.smtp.ca), "user": q("me"), "password": q("s3cret"), "timeout": "20"}


def test_digest_over_starttls_and_auth_then_nothing(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    t.config({"inodes": url}, {"john": {}}, deliver="smtp", smtp=smtp)
    t.run("run")
    got = t.smtp.messages()
    assert len(got) == 1, got
    m = got[0]
    assert m["tls"] and m["authenticated"], m
    assert m["rcpt_tos"] == ["john@example.org"]
    msg = parse_message(m["data"])
    # The default subject names the subscription, the feed and its first item.
    assert re.fullmatch(r"\[john\] 9 new: John's Tidbits » Bulletproof — .+, \+8",
                        msg["Subject"]), msg["Subject"]
    for h in ("From", "To", "Date", "Message-ID", "MIME-Version", "List-Id"):
        assert msg[h], h
    assert msg["Auto-Submitted"] == "auto-generated"
    text, html = parts(msg)
    for title in TITLES:
        plain = title.replace("&#8211;", "\u2013").replace("&#8217;", "\u2019")
        assert plain in text, title
        assert plain.replace("&", "&amp;") in html or plain in html, title
    for line in m["data"].split(b"\r\n"):
        assert len(line) <= 998
    # A second run sends nothing.
    t.run("run")
    assert len(t.smtp.messages()) == 1
    state = "\n".join(t.state_lines())
    assert state.startswith("tidings-state 2")
    for g in GUIDS:
        assert g in state, g
    assert len(GUIDS) == 9


def test_refused_digest_stays_pending_accepted_one_is_recorded(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t, rcpt={"bad@example.org": "451"})
    t.config({"inodes": url}, {"good": {}, "bad": {"to": qlist(["bad@example.org"])}},
             deliver="smtp", smtp=smtp)
    r = t.run("run", expect=75)
    assert "subscription bad" in r.err and "451" in r.err, r.err
    assert len(t.smtp.messages()) == 1
    # The next good run delivers the pending digest and nothing to "good".
    t.smtp.opts["rcpt"] = {}
    t.run("run")
    got = t.smtp.messages()
    assert len(got) == 2, got
    assert got[1]["rcpt_tos"] == ["bad@example.org"]
    assert parse_message(got[1]["data"])["Subject"].startswith("[bad] 9 new: ")


def test_server_down_loses_nothing(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    t.config({"inodes": url}, {"john": {}}, deliver="smtp",
             smtp=dict(smtp, port="1"))  # nothing listens on port 1
    r = t.run("run", expect=75)
    assert "localhost" in r.err, r.err
    t.config({"inodes": url}, {"john": {}}, deliver="smtp", smtp=smtp)
    t.run("run")
    assert len(t.smtp.messages()) == 1


def test_wrong_password_is_an_error_and_nothing_is_recorded(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    t.config({"inodes": url}, {"john": {}}, deliver="smtp", smtp=dict(smtp, password=q("wrong")))
    r = t.run("run", expect=69)
    assert "authentication failed for user me" in r.err, r.err
    assert "wrong" not in r.err
    assert t.smtp.messages() == []
    t.config({"inodes": url}, {"john": {}}, deliver="smtp", smtp=smtp)
    t.run("run")
    assert len(t.smtp.messages()) == 1


if __name__ == "__main__":
    main(globals())
