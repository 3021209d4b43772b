#!/usr/bin/env python3
"""Run bench/smtp-bench.c (deliver() alone) against a real server.

    PYTHONPATH=tests/harness python3 bench/smtp-bench.py postfix BENCH N SESSIONS...
        a private Postfix (tests/harness/postfix.py: STARTTLS, Cyrus sasldb
        AUTH, Maildir delivery); needs root
    PYTHONPATH=tests/harness python3 bench/smtp-bench.py sink BENCH N SESSIONS...
        Postfix's smtp-sink on 127.0.0.1 (no TLS, no AUTH)

BENCH is the compiled smtp-bench; each SESSIONS value is one run.
"""
import os
import subprocess
import sys
import tempfile
import time

from postfix import PASSWORD, REALM, USER, Postfix
from smtpd import free_port


def bench(cmd, tag):
    r = subprocess.run(cmd, capture_output=True, text=True)
    print(f"{tag}: {r.stdout.strip()} {r.stderr.strip()}".strip(), flush=True)


def main():
    kind, prog, n, sessions = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3], sys.argv[4:]
    if kind == "sink":
        port = free_port()
        sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody",
                                 f"127.0.0.1:{port}", "256"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        try:
            for s in sessions:
                bench([prog, "127.0.0.1", str(port), n, s], f"smtp-sink n={n} sessions={s}")
        finally:
            sink.terminate()
        return
    with tempfile.TemporaryDirectory() as d, Postfix(os.path.join(d, "pf")) as pf:
        for s in sessions:
            bench([prog, "localhost", str(pf.port), n, s, pf.ca, f"{USER}@{REALM}", PASSWORD],
                  f"postfix n={n} sessions={s}")
        pf.wait_messages(int(n) * len(sessions), timeout=600)
        print(f"postfix delivered {len(pf.maildir_files())} into the Maildir")


if __name__ == "__main__":
    main()
