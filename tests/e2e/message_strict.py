"""Messages from message_write() (through tests/msgtool) parse cleanly with
Python's email package, strict and default policies, and round-trip."""
import email
import email.policy
import os
import re
import subprocess
import sys
import tempfile

BUILD = os.environ.get("TOP_BUILDDIR", ".")
SRC = os.environ.get("TOP_SRCDIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# our tests/harness/smtpd.py, not the standard library's old smtpd module
sys.path.insert(0, os.path.join(SRC, "tests", "harness"))
MSGTOOL = os.path.join(BUILD, "tests", "msgtool")

SUBJECTS = [
    "Plain ASCII subject",
    "Emoji 😀🎉 and a ZWJ family 👨‍👩‍👧",
    "עברית: שלום עולם — مرحبا بالعالم",
    ("A long title, " * 40)[:500],
    "é" * 500,
    "x" * 500,
    "\r\nBcc: x@y",
    "Hi\nBcc: victim@example.org\r\nX-Evil: 1",
    "literal =?utf-8?q?x?= here",
    "=?utf-8?q?x?=",
    "  leading and  double  spaces ",
    "tab\there and \x01 soh \x7f del \x1b[31m",
    "",
]

BODIES = [
    "Hello,\nworld.\n",
    ".\n..\n...\nline\n.\n",
    ("y" * 1500 + "\n") * 3,
    "From the start\nFrom here\n>From quoted\n",
    "trailing spaces   \ntrailing tab\t\nünïcödé = equals =\n",
    "no final newline",
    "From ",
    "soft " * 400 + "\n" + "=" * 300 + "\n" + "\u00e9" * 300,
]


def clean(s):
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7f else c for c in s)


def build(subject, text, html, frm="Tidings Bøt <tidings@example.org>",
          to=("a@example.org", "b@example.org"), env=None):
    with tempfile.TemporaryDirectory() as d:
        tp, hp = os.path.join(d, "t"), os.path.join(d, "h")
        with open(tp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        with open(hp, "w", encoding="utf-8", newline="") as f:
            f.write(html)
        e = dict(os.environ, MSG_DATE="1700000000", **(env or {}))
        r = subprocess.run([MSGTOOL, frm, subject, tp, hp, *to], env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise AssertionError("msgtool failed: %r" % r.stderr)
        return r.stdout


FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


def check_raw(raw, label):
    check(raw.endswith(b"\r\n"), label + ": ends with CRLF")
    lines = raw.split(b"\r\n")
    check(all(b"\n" not in l and b"\r" not in l for l in lines), label + ": CRLF only")
    check(max(len(l) for l in lines) <= 998, label + ": line over 998")
    head, _, body = raw.partition(b"\r\n\r\n")
    check(all(len(l) <= 78 for l in head.split(b"\r\n")), label + ": header line over 78")
    check(all(len(l) <= 76 for l in body.split(b"\r\n")), label + ": body line over 76")
    check(all(b < 0x80 for b in raw), label + ": 8-bit octet in message")
    check(not re.search(rb"^From ", raw, re.M), label + ": From_ at line start")
    check(not re.search(rb"^Bcc:", head, re.M | re.I), label + ": Bcc header injected")
    check(not re.search(rb"^X-Evil:", head, re.M | re.I), label + ": header injected")


def capped(subject):
    """A subject over 250 characters is cut there, with an ellipsis."""
    if len(subject) <= 250:
        return subject
    return subject[:250].rstrip(" ") + "\u2026"


def check_parsed(raw, subject, text, html, label):
    for pol in (email.policy.strict, email.policy.default):
        try:
            msg = email.message_from_bytes(raw, policy=pol)
        except Exception as ex:  # strict raises on any defect
            check(False, "%s: parse (%s): %r" % (label, pol, ex))
            continue
        for part in msg.walk():
            check(not part.defects, "%s: defects %r" % (label, part.defects))
        check(str(msg["Subject"]) == clean(capped(subject)),
              "%s: subject %r != %r" % (label, str(msg["Subject"]), clean(capped(subject))))
        check(msg["Bcc"] is None, label + ": Bcc present")
        check(msg["From"].addresses[0].display_name == "Tidings Bøt", label + ": From name")
        check(msg["From"].addresses[0].addr_spec == "tidings@example.org", label + ": From")
        check([a.addr_spec for a in msg["To"].addresses] ==
              ["a@example.org", "b@example.org"], label + ": To")
        check(msg["Auto-Submitted"] == "auto-generated", label + ": Auto-Submitted")
        check(msg["MIME-Version"] == "1.0", label + ": MIME-Version")
        check(re.fullmatch(r"<[0-9a-f]+\.1700000000@example\.org>", str(msg["Message-ID"])),
              label + ": Message-ID")
        check(msg["Date"].datetime.timestamp() == 1700000000, label + ": Date")
        check(msg.get_content_type() == "multipart/alternative", label + ": type")
        plain = msg.get_body(preferencelist=("plain",))
        rich = msg.get_body(preferencelist=("html",))
        check(plain["Content-Transfer-Encoding"] == "quoted-printable", label + ": QP")
        got_t = plain.get_content().replace("\r\n", "\n")
        got_h = rich.get_content().replace("\r\n", "\n")
        check(got_t == text.replace("\r\n", "\n"), "%s: text part differs" % label)
        check(got_h == html.replace("\r\n", "\n"), "%s: html part differs" % label)


def message_address(frm):
    return frm[frm.rfind("<") + 1:frm.rfind(">")] if "<" in frm else frm


def smtp_roundtrip(raw):
    """The harness as a module: what the server stores is what was sent."""
    import smtplib
    from smtpd import SmtpServer
    with tempfile.TemporaryDirectory() as d:
        with SmtpServer(d) as srv:
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
                c.sendmail("t@example.org", ["a@example.org"], raw)
            got = srv.messages()
        check(len(got) == 1 and got[0]["data"] == raw, "smtpd module round trip")
        check(got[0]["rcpt_tos"] == ["a@example.org"], "smtpd module envelope")


def main():
    n = 0
    html = "<p>Héllo &amp; <a href=\"https://example.org/?a=b\">link</a></p>\n"
    for i, s in enumerate(SUBJECTS):
        raw = build(s, BODIES[0], html)
        check_raw(raw, "subject %d" % i)
        check_parsed(raw, s, BODIES[0], html, "subject %d" % i)
        n += 1
    for i, b in enumerate(BODIES):
        raw = build("Body test", b, b)
        check_raw(raw, "body %d" % i)
        check_parsed(raw, "Body test", b, b, "body %d" % i)
        n += 1
    raw = build("x", "a\n", "b\n", env={"MSG_LIST_ID": "john.example.org",
                                         "MSG_LIST_UNSUBSCRIBE": "https://example.org/u?x=1"})
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    check(msg["List-Id"] == "<john.example.org>", "List-Id")
    check(msg["List-Unsubscribe"] == "<https://example.org/u?x=1>", "List-Unsubscribe")
    froms = [
        ('"Doe, John \\"JD\\"" <jd@example.org>', 'Doe, John "JD"'),
        ("A very long display name " * 6 + "<long@example.org>",
         ("A very long display name " * 6).strip()),
        ("Évêque 日本語\r\nBcc: x@y <e@example.org>", "Évêque 日本語  Bcc: x@y"),
        ("=?utf-8?q?x?= <q@example.org>", "=?utf-8?q?x?="),
        ("bare@example.org", ""),
    ]
    for i, (frm, name) in enumerate(froms):
        raw = build("x", "a\n", "b\n", frm=frm)
        check_raw(raw, "from %d" % i)
        for pol in (email.policy.strict, email.policy.default):
            msg = email.message_from_bytes(raw, policy=pol)
            a = msg["From"].addresses[0]
            # a phrase: runs of white space count as one
            got = " ".join(a.display_name.split(" "))
            check(" ".join(got.split()) == " ".join(name.split()),
                  "from %d: %r != %r" % (i, a.display_name, name))
            check(a.addr_spec == message_address(frm), "from %d: address" % i)
    many = ["recipient.number.%02d@subdomain.example.org" % i for i in range(12)]
    raw = build("x", "a\n", "b\n", to=many)
    check_raw(raw, "many recipients")
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    check([a.addr_spec for a in msg["To"].addresses] == many, "many recipients: To")
    smtp_roundtrip(raw)
    # refused: non-ASCII address, header injection through an address
    for bad in ("ü@example.org", "a@example.org\r\nBcc: x@y", "not an address"):
        r = subprocess.run([MSGTOOL, "t@example.org", "s", "/dev/null", "/dev/null", bad],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(r.returncode == 65 and r.stdout == b"", "address %r refused" % bad)
    print("%d messages checked, %d failures" % (n, len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
