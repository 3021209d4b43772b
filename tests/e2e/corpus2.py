#!/usr/bin/env python3
"""tidings parse --json over tests/data/corpus2 (82 feeds from npm and Debian packages
the project had never parsed), scored against feedparser's reading of them
(tests/data/corpus2/reference.jsonl) with tests/data/corpus/compare.py.

Fails when tidings crashes or drops a feed, when agreement falls below
THRESHOLD, when a field differs that tests/data/corpus2/explained.tsv does
not list (every listed difference is explained in docs/parsing.md), when
a listed difference is gone (the list must follow the parser), or when a
link feedparser reads for an item is missing from tidings' item (its link,
enclosures and other links: "links" in the JSON)."""
import json
import os
import re
import subprocess
import sys
import tempfile

THRESHOLD = 99.25  # of 2666 fields; every field below 100% is in explained.tsv


def same_url(a, b):
    a, b = (a or "").strip(), (b or "").strip()
    return a == b or (a and b and (a.endswith(b) or b.endswith(a)))


def main():
    top = os.environ.get("TOP_SRCDIR", ".")
    tidings = os.environ.get("TIDINGS", "./tidings")
    corpus = os.path.join(top, "tests", "data", "corpus2")
    feeds = sorted(os.path.join(corpus, "feeds", f)
                   for f in os.listdir(os.path.join(corpus, "feeds")))
    run = subprocess.run([tidings, "parse", "--json"] + feeds, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=300)
    lines = [l for l in run.stdout.decode("utf-8").splitlines() if l.strip()]
    if run.returncode not in (0, 65) or len(lines) != len(feeds):
        print(f"tidings parse exited {run.returncode} with {len(lines)} lines for "
              f"{len(feeds)} feeds\n{run.stderr.decode('utf-8', 'replace')}")
        return 1
    problems = []
    ours = {json.loads(l)["file"]: json.loads(l) for l in lines}
    with open(os.path.join(corpus, "reference.jsonl"), encoding="utf-8") as fh:
        ref = {o["file"]: o for o in map(json.loads, filter(str.strip, fh))}
    # every link feedparser reads for an item is one of the item's URLs
    for name, r in sorted(ref.items()):
        oitems = ours[name]["items"]
        for k, ri in enumerate(r["items"]):
            have = oitems[k]["links"] if k < len(oitems) else []
            for href in ri.get("links", []):
                if not any(same_url(href, h) for h in have):
                    problems.append(f"{name} item {k}: link {href} missing from {have}")
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False,
                                     encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    try:
        cmp = subprocess.run([sys.executable, os.path.join(top, "tests", "data", "corpus",
                                                           "compare.py"),
                              os.path.join(corpus, "reference.jsonl"), out.name,
                              "--show", "100000"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    finally:
        os.unlink(out.name)
    report = cmp.stdout.decode("utf-8", "replace")
    print("\n".join(l for l in report.splitlines() if not l.startswith("  differs:")))
    m = re.search(r"^agreement: ([0-9.]+)%", report, re.M)
    if cmp.returncode != 0 or m is None:
        print("compare.py failed\n" + report)
        return 1
    if float(m.group(1)) < THRESHOLD:
        problems.append(f"agreement {m.group(1)}% is below {THRESHOLD}%")
    differs = {tuple(json.loads(l.split("differs: ", 1)[1])[:3])
               for l in report.splitlines() if l.startswith("  differs: ")}
    with open(os.path.join(corpus, "explained.tsv"), encoding="utf-8") as fh:
        explained = {(f, int(i), fld) for f, i, fld, *_ in
                     (l.rstrip("\n").split("\t") for l in fh if not l.startswith("#"))}
    for d in sorted(differs - explained):
        problems.append(f"unexplained difference: {d}")
    for d in sorted(explained - differs):
        problems.append(f"explained.tsv lists a difference that is gone: {d}")
    for p in problems:
        print("FAIL:", p)
    print(f"{len(ours)} feeds parsed, {len(differs)} fields differ, all explained"
          if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
