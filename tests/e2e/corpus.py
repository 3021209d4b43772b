#!/usr/bin/env python3
"""tidings parse --json over the whole feed corpus, scored against
feedparser's reading of it (tests/data/corpus/compare.py): fail below 99%."""
import os
import re
import subprocess
import sys
import tempfile

THRESHOLD = 99.0


def main():
    top = os.environ.get("TOP_SRCDIR", ".")
    tidings = os.environ.get("TIDINGS", "./tidings")
    corpus = os.path.join(top, "tests", "data", "corpus")
    feeds = sorted(os.path.join(corpus, "feeds", f)
                   for f in os.listdir(os.path.join(corpus, "feeds")))
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
