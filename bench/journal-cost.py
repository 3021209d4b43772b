#!/usr/bin/env python3
"""The cost of making each accepted digest durable (STATE.journal).

    bench/journal-cost.py TIDINGS [BASELINE_TIDINGS] [SUBS] [DELIVER]

SUBS subscriptions (default 1000) read one file: feed of 5 items; DELIVER
is "maildir" (default) or "mbox".  A first run records the items; the
feed then gets 5 new ones and the second run, which sends SUBS digests,
is timed.  With a baseline binary (a build without the journal) both are
timed, three times each, and the medians compared."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def feed(path, tag):
    items = "".join(f"<item><title>item {i}</title><link>http://example.org/{i}</link>"
                    f"<guid>urn:{tag}:{i}</guid><description>body {i}</description></item>"
                    for i in range(5))
    with open(path, "w") as f:
        f.write('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                '<link>http://example.org/</link><description>d</description>'
                f"{items}</channel></rss>")


def one(tidings, subs, deliver):
    d = tempfile.mkdtemp(prefix="journal-cost-")
    try:
        out = f"maildir:{d}/Maildir" if deliver == "maildir" else f"mbox:{d}/mbox"
        conf = [f'from = "T <t@example.org>"', f'templates = "{SRC}/templates"',
                f'state = "{d}/state"', f'deliver = "{out}"',
                f'feed f {{\n url = "file://{d}/feed.xml"\n}}']
        conf += [f'subscription s{i} {{\n to = {{"s{i}@example.org"}}\n first-run = "0"\n}}'
                 for i in range(subs)]
        with open(f"{d}/conf", "w") as f:
            f.write("\n".join(conf) + "\n")
        feed(f"{d}/feed.xml", "a")
        subprocess.run([tidings, "-c", f"{d}/conf", "run"], check=True)
        feed(f"{d}/feed.xml", "b")
        t0 = time.monotonic()
        subprocess.run([tidings, "-c", f"{d}/conf", "run"], check=True)
        return time.monotonic() - t0
    finally:
        shutil.rmtree(d)


def main():
    binaries = [b for b in sys.argv[1:3] if not b.isdigit() and b not in ("mbox", "maildir")]
    subs = next((int(a) for a in sys.argv[1:] if a.isdigit()), 1000)
    deliver = "mbox" if "mbox" in sys.argv[1:] else "maildir"
    medians = []
    for b in binaries:
        times = [one(b, subs, deliver) for _ in range(3)]
        medians.append(statistics.median(times))
        print(f"{b}: {subs} digests to {deliver}: " +
              " ".join(f"{t:.2f}" for t in times) + f" s (median {medians[-1]:.2f})")
    if len(medians) == 2:
        print(f"ratio {medians[0] / medians[1]:.2f}")


if __name__ == "__main__":
    main()
