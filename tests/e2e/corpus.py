#!/usr/bin/env python3
"""tidings parse --json over the whole feed corpus, scored against
feedparser's reading of it (tests/data/corpus/compare.py): fail below 99%."""
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

THRESHOLD = 99.0


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def check_cli(tidings, corpus):
    """Exit statuses, the text listing, and a URL served on 127.0.0.1."""
    seed = os.path.join(corpus, "feeds", "seed__inodes-tag-bulletproof.xml")
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "page.html")
        with open(page, "w") as fh:
            fh.write("<!DOCTYPE html><html><body>not a feed</body></html>")
        with open(os.path.join(tmp, "feed.xml"), "wb") as fh, open(seed, "rb") as src:
            fh.write(src.read())
        handler = functools.partial(QuietHandler, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            def run(*args):
                return subprocess.run([tidings, "parse"] + list(args), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=60)
            r = run(seed)
            out = r.stdout.decode("utf-8")
            if r.returncode != 0 or "Mac OS X L2TP VPN to Cisco IOS" not in out \
                    or "tags: General, Bulletproof, cisco, mac os x, networking" not in out:
                problems.append(f"text listing: rc {r.returncode}\n{out[:500]}")
            r = run("--json", base + "/feed.xml")
            obj = json.loads(r.stdout.decode("utf-8").splitlines()[0])
            if r.returncode != 0 or len(obj["items"]) != 9 or obj["error"] is not None:
                problems.append(f"URL: rc {r.returncode} {obj}")
            r = run("--json", page, seed)
            lines = r.stdout.decode("utf-8").splitlines()
            if r.returncode != 65 or len(lines) != 2 or \
                    json.loads(lines[0])["error"] != "not a feed: an HTML page" or \
                    b"not a feed: an HTML page" not in r.stderr:
                problems.append(f"HTML page: rc {r.returncode} {lines} {r.stderr!r}")
            r = run(os.path.join(tmp, "missing.xml"), seed)
            if r.returncode != 66 or b"missing.xml" not in r.stderr:
                problems.append(f"missing file: rc {r.returncode} {r.stderr!r}")
            r = run()
            if r.returncode != 64:
                problems.append(f"no operand: rc {r.returncode}")
        finally:
            server.shutdown()
    for p in problems:
        print("FAIL:", p)
    return not problems


def main():
    top = os.environ.get("TOP_SRCDIR", ".")
    tidings = os.environ.get("TIDINGS", "./tidings")
    corpus = os.path.join(top, "tests", "data", "corpus")
    feeds = sorted(os.path.join(corpus, "feeds", f)
                   for f in os.listdir(os.path.join(corpus, "feeds")))
    if not check_cli(tidings, corpus):
        return 1
    if len(feeds) != 93:
        print(f"expected 93 corpus feeds, found {len(feeds)}")
        return 1
    run = subprocess.run([tidings, "parse", "--json"] + feeds,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    lines = [l for l in run.stdout.decode("utf-8").splitlines() if l.strip()]
    if len(lines) != len(feeds):
        print(f"tidings printed {len(lines)} lines for {len(feeds)} feeds")
        print(run.stderr.decode("utf-8", "replace"))
        return 1
    if run.returncode not in (0, 65):
        print(f"tidings parse exited {run.returncode}")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False,
                                     encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    try:
        cmp = subprocess.run([sys.executable, os.path.join(corpus, "compare.py"),
                              os.path.join(corpus, "reference.jsonl"), out.name,
                              "--show", "40"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    finally:
        os.unlink(out.name)
    report = cmp.stdout.decode("utf-8", "replace")
    print(report)
    m = re.search(r"^agreement: ([0-9.]+)%", report, re.M)
    if cmp.returncode != 0 or m is None:
        print("compare.py failed")
        return 1
    if float(m.group(1)) < THRESHOLD:
        print(f"agreement {m.group(1)}% is below {THRESHOLD}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
