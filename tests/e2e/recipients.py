"""Recipients over real SMTP (the aiosmtpd harness): display names reach
the To header and never the envelope; each recipient gets a message of
their own; a recipient refused for now gets the items next run, the others
do not get them twice (per-recipient state); deliver per subscription."""
import os
import re

from e2e import items_in, main, parse_message, q, qlist, seed_bytes
from smtpd import SmtpServer

GUIDS = [g.decode().replace("&amp;", "&")
         for g in re.findall(rb"<guid[^>]*>(.*?)</guid>", seed_bytes())]



def start_smtp(t, **kw):
    t.smtp = SmtpServer(os.path.join(t.dir, "smtp"), **kw).start()
    return {"host": q("127.0.0.1"), "port": str(t.smtp.port), "tls": q("none"),
            "timeout": "20"}


def with_fresh_item(feed):
    """The seed feed with one more item in front."""
    fresh = (b"<item><title>Fresh one</title><link>http://example.org/fresh</link>"
             b"<guid>urn:fresh</guid><description>new</description></item>")
    i = feed.index(b"<item>")
    return feed[:i] + fresh + feed[i:]


def item_lines(t):
    return [ln for ln in t.state_lines() if ln.startswith("item\t")]


def test_display_name_reaches_header_not_envelope(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    t.config({"inodes": url}, {"ann": {"to": qlist(["Ann Example <ann@example.org>"])}},
             deliver="smtp", smtp=smtp)
    t.run("run")
    got = t.smtp.messages()
    assert len(got) == 1, got
    assert got[0]["rcpt_tos"] == ["ann@example.org"], got[0]
    assert all(e["address"] == "ann@example.org" for e in t.smtp.events()
               if e["event"] == "rcpt"), t.smtp.events()
    msg = parse_message(got[0]["data"])
    assert msg["To"].addresses[0].display_name == "Ann Example", msg["To"]
    assert msg["To"].addresses[0].addr_spec == "ann@example.org", msg["To"]
    # Delivered, so recorded: a second run sends nothing.
    assert len(item_lines(t)) == 9, t.state_lines()
    t.run("run")
    assert len(t.smtp.messages()) == 1


def test_to_option_with_display_name(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    t.config({"inodes": url}, {"ann": {}}, deliver="smtp", smtp=smtp)
    t.run("run", "--since", "2000-01-01", "--to", "Bob B\u00f6hm <bob@example.org>")
    got = t.smtp.messages()
    assert len(got) == 1 and got[0]["rcpt_tos"] == ["bob@example.org"], got
    to = parse_message(got[0]["data"])["To"]
    assert to.addresses[0].display_name == "Bob B\u00f6hm", to
    assert "=?UTF-8?" in got[0]["data"].decode("ascii").split("\r\nTo: ")[1].split("\r\n")[0]
    r = t.run("run", "--since", "2000-01-01", "--to", "Bob <bob@example.org", expect=64)
    assert r.err.startswith("tidings: --to takes one email address, not 'Bob <bob@example.org'"), r.err
    assert r.err.count("\n") == 1, r.err


def test_bad_recipient_is_one_line_naming_file_and_line(t):
    url = t.serve("/feed.xml", seed_bytes())
    t.config({"inodes": url}, {"ann": {"to": qlist(["Ann <ann@example.org"])}})
    r = t.run("run", expect=78)
    lines = r.err.strip().split("\n")
    assert len(lines) == 2 and lines[1].endswith("tidings.conf: 1 error"), r.err
    assert re.match(r"^.*tidings\.conf:\d+: to \"Ann <ann@example.org\": not an email address$",
                    lines[0]), r.err


def test_recipients_do_not_see_each_other(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    to = ["Ann \u00c5str\u00f6m <ann@example.org>", "bob@example.org", "Carol <carol@example.org>"]
    t.config({"inodes": url}, {"team": {"to": qlist(to)}}, deliver="smtp", smtp=smtp)
    t.run("run")
    got = t.smtp.messages()
    assert sorted(m["rcpt_tos"][0] for m in got) == [
        "ann@example.org", "bob@example.org", "carol@example.org"], got
    for m in got:
        assert len(m["rcpt_tos"]) == 1, m
        me = m["rcpt_tos"][0]
        raw = m["data"].decode("ascii")
        for other in ("ann@", "bob@", "carol@"):
            assert (other in raw) == me.startswith(other), (me, other)
        msg = parse_message(m["data"])
        assert [a.addr_spec for a in msg["To"].addresses] == [me], msg["To"]
        assert items_in(msg["Subject"]) == 9, msg["Subject"]
    names = {m["rcpt_tos"][0]: parse_message(m["data"])["To"].addresses[0].display_name
             for m in got}
    assert names == {"ann@example.org": "Ann \u00c5str\u00f6m", "bob@example.org": "",
                     "carol@example.org": "Carol"}, names
    assert len({parse_message(m["data"])["Message-ID"] for m in got}) == 3
    # All three accepted: recorded for the subscription, once per item.
    assert len(item_lines(t)) == 9, t.state_lines()
    assert all(len(ln.split("\t")) == 6 for ln in item_lines(t)), t.state_lines()


def test_one_recipient_refused_for_now_gets_it_next_run(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t, rcpt={"bob@example.org": "451"})
    t.config({"inodes": url}, {"team": {"to": qlist(["Ann <ann@example.org>",
                                                      "bob@example.org"])}},
             deliver="smtp", smtp=smtp)
    r = t.run("run", expect=75)
    assert "subscription team: digest to bob@example.org not delivered" in r.err, r.err
    assert "451" in r.err, r.err
    got = t.smtp.messages()
    assert [m["rcpt_tos"] for m in got] == [["ann@example.org"]], got
    # Ann's items are Ann's alone: recorded with her address, not for the subscription.
    lines = item_lines(t)
    assert len(lines) == 9, lines
    assert all(ln.split("\t")[6] == "ann@example.org" for ln in lines), lines
    assert t.state_lines()[0] == "tidings-state 2"
    # Next run: bob is accepted; a fresh item arrived meanwhile.
    t.smtp.opts["rcpt"] = {}
    t.serve("/feed.xml", with_fresh_item(seed_bytes()))
    t.run("run")
    got = t.smtp.messages()[1:]
    by = {m["rcpt_tos"][0]: parse_message(m["data"]) for m in got}
    assert sorted(by) == ["ann@example.org", "bob@example.org"], got
    assert items_in(by["bob@example.org"]["Subject"]) == 10, by["bob@example.org"]["Subject"]
    assert items_in(by["ann@example.org"]["Subject"]) == 1, by["ann@example.org"]["Subject"]
    # Everyone has everything: the subscription's records, and nothing more to send.
    lines = item_lines(t)
    assert len(lines) == 10 and all(len(ln.split("\t")) == 6 for ln in lines), lines
    t.run("run")
    assert len(t.smtp.messages()) == 3


def test_refused_recipient_is_never_recorded(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t, rcpt={"ann@example.org": "550"})
    t.config({"inodes": url}, {"ann": {"to": qlist(["Ann <ann@example.org>"])}},
             deliver="smtp", smtp=smtp)
    r = t.run("run", expect=69)
    assert "550" in r.err, r.err
    assert item_lines(t) == [], t.state_lines()
    r = t.run("run", expect=69)
    assert item_lines(t) == [], t.state_lines()
    t.smtp.opts["rcpt"] = {}
    t.run("run")
    got = t.smtp.messages()
    assert len(got) == 1 and got[0]["rcpt_tos"] == ["ann@example.org"], got
    assert items_in(parse_message(got[0]["data"])["Subject"]) == 9


def test_an_old_state_file_counts_for_every_recipient(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    t.config({"inodes": url}, {"team": {"to": qlist(["ann@example.org"])}},
             deliver="smtp", smtp=smtp)
    t.run("run")
    # The same records as a version 1 file (as an older tidings wrote it)...
    lines = t.state_lines()
    assert lines[0] == "tidings-state 2"
    with open(t.state_path, "w") as fh:
        fh.write("\n".join(["tidings-state 1"] + lines[1:]) + "\n")
    # ... then bob joins: he gets only what is new, like ann.
    t.config({"inodes": url}, {"team": {"to": qlist(["ann@example.org", "bob@example.org"])}},
             deliver="smtp", smtp=smtp)
    t.run("run")
    assert len(t.smtp.messages()) == 1
    assert t.state_lines()[0] == "tidings-state 2"
    t.serve("/feed.xml", with_fresh_item(seed_bytes()))
    t.run("run")
    got = t.smtp.messages()[1:]
    assert sorted(m["rcpt_tos"][0] for m in got) == ["ann@example.org", "bob@example.org"]
    for m in got:
        assert items_in(parse_message(m["data"])["Subject"]) == 1


def test_deliver_per_subscription(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    maildir = os.path.join(t.dir, "Maildir")
    t.config({"inodes": url},
             {"viamail": {"deliver": q("smtp")},
              "viamaildir": {"deliver": q("maildir:" + maildir)},
              "viambox": {}},
             smtp=smtp)  # the global deliver: the mbox
    r = t.run("check")
    assert "subscription viamail" in r.out and "; deliver smtp 127.0.0.1" in r.out, r.out
    t.run("run")
    got = t.smtp.messages()
    assert [m["rcpt_tos"] for m in got] == [["viamail@example.org"]], got
    mbox = t.mbox()
    assert [m["To"] for m in mbox] == ["viambox@example.org"], [m["To"] for m in mbox]
    new = os.listdir(os.path.join(maildir, "new"))
    assert len(new) == 1, new
    with open(os.path.join(maildir, "new", new[0]), "rb") as fh:
        assert parse_message(fh.read())["To"] == "viamaildir@example.org"
    # Each was recorded for its own subscription: nothing more next run.
    t.run("run")
    assert len(t.smtp.messages()) == 1 and len(t.mbox()) == 1
    assert len(os.listdir(os.path.join(maildir, "new"))) == 1


def test_smtp_down_keeps_only_its_own_subscriptions_pending(t):
    url = t.serve("/feed.xml", seed_bytes())
    smtp = start_smtp(t)
    t.smtp.stop()
    t.config({"inodes": url}, {"viamail": {"deliver": q("smtp")}, "viambox": {}}, smtp=smtp)
    r = t.run("run", expect=75)
    assert len(t.mbox()) == 1, r.err
    assert {ln.split("\t")[1] for ln in item_lines(t)} == {"viambox"}, t.state_lines()


if __name__ == "__main__":
    main(globals())
