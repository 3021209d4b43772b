"""End to end through a real Postfix 3.7 (tests/harness/postfix.py): its
own instance on 127.0.0.1, STARTTLS with the test CA, AUTH through Cyrus
sasldb offering NTLM first, reject_non_fqdn_helo_hostname, delivery into a
Maildir read here.  Needs root and the postfix and sasl2-bin packages
(.ci/packages): without them it is reported as SKIP (exit 77), and in CI
(TIDINGS_REQUIRE_POSTFIX=1, set by .ci/run) as FAIL."""
import email
import os
import sys

from e2e import main, q, seed_bytes
from postfix import PASSWORD, REALM, USER, Postfix, available


def test_digests_through_postfix_starttls_sasldb_fqdn_helo(t):
    with Postfix(os.path.join(t.dir, "postfix")) as pf:
        url = t.serve("/feed.xml", seed_bytes())
        smtp = {"host": q("localhost"), "port": str(pf.port), "tls": q("starttls"),
                "ca-file": q(pf.ca), "user": q(f"{USER}@{REALM}"), "password": q(PASSWORD),
                "timeout": "60"}
        subs = {f"s{i}": {} for i in range(3)}
        # the restriction is on: a bare host name is refused
        t.config({"inodes": url}, subs, deliver="smtp", smtp=dict(smtp, helo=q("vm")))
        r = t.run("run", expect=69)
        assert "need fully-qualified hostname" in r.err, r.err
        # the default EHLO name passes it
        t.config({"inodes": url}, subs, deliver="smtp", smtp=smtp)
        t.run("run")
        assert pf.wait_messages(3, timeout=120), pf.log()[-3000:]
        got = sorted(email.message_from_bytes(open(f, "rb").read())["To"]
                     for f in pf.maildir_files())
        assert got == [f"s{i}@example.org" for i in range(3)], got
        log = pf.log()
        # one connection per session: no probe ("lost connection after CONNECT")
        assert "lost connection after CONNECT" not in log, log
        assert "sasl_method=NTLM" not in log and "sasl_method=" in log, log
        assert "TLS connection established from localhost" in log, log


if __name__ == "__main__":
    why = available()
    if why:
        # .ci/run sets TIDINGS_REQUIRE_POSTFIX: there it fails, never skips
        print(f"cannot run Postfix: {why}")
        sys.exit(1 if os.environ.get("TIDINGS_REQUIRE_POSTFIX") else 77)
    main(globals())
