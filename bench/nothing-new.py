#!/usr/bin/env python3
"""nothing-new.py TIDINGS [RUNS]: the fixed cost of a run with nothing new
at 2,000 subscriptions (issue 20.4).

20 generated feeds of 38 items (file: URLs, no server), 2,000
subscriptions of one feed each, one mbox.  A first run records every item
(they are older than first-run: nothing is sent), leaving a state of
about 76,000 item records (11 MB).  Then, medians of RUNS (default 5):

  within-interval  every feed has interval = 1h: nothing is fetched, so
                   nothing in the state changes (no save needed)
  refetched        no interval: every feed is read again, unchanged; the
                   run still changes each feed's last-fetch time and the
                   last-seen time of its ids, so the state is saved

Prints wall and CPU seconds of each, and whether the state file was
rewritten (its inode changed)."""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

FEEDS, ITEMS, SUBS, PER_SUB = 20, 38, 2000, 1


def feed_xml(f):
    items = "".join(
        f"<item><title>Feed {f} item {i}</title>"
        f"<link>https://example.org/{f}/{i}</link><guid>https://example.org/{f}/{i}</guid>"
        f"<pubDate>Mon, 0{1 + i % 9} Jun 2020 10:00:00 GMT</pubDate>"
        f"<description>Item {i} of feed {f}.</description></item>\n"
        for i in range(ITEMS))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {f}</title>'
            f"<link>https://example.org/{f}</link><description>bench</description>\n"
            f"{items}</channel></rss>\n")


def config(work, interval):
    lines = [f'state = "{work}/state"', f'deliver = "mbox:{work}/out.mbox"',
             'from = "bench <bench@example.org>"',
             f'templates = "{os.path.dirname(os.path.abspath(__file__))}/../templates"']
    for f in range(FEEDS):
        lines.append(f'feed f{f} {{ url = "file:{work}/f{f}.xml"'
                     + (f' interval = "{interval}"' if interval else "") + " }")
    for s in range(SUBS):
        feeds = ", ".join(f'"f{(s + k * 7) % FEEDS}"' for k in range(PER_SUB))
        lines.append(f's{s} {{ to = {{"u{s}@example.org"}} feeds = {{{feeds}}} }}'
                     .replace(f"s{s} {{", f"subscription s{s} {{", 1))
    path = f"{work}/conf-{interval or 'none'}"
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    return path


def run(tidings, conf):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    done = subprocess.run([tidings, "-c", conf], stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{tidings} -c {conf}: exit {done.returncode}: {done.stderr.strip()}")
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    tidings = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory(prefix="nothing-new.") as work:
        for f in range(FEEDS):
            with open(f"{work}/f{f}.xml", "w") as out:
                out.write(feed_xml(f))
        within, refetch = config(work, "1h"), config(work, None)
        run(tidings, within)
        state = f"{work}/state"
        print(f"state: {os.path.getsize(state)} bytes, "
              f"{sum(1 for _ in open(state, 'rb'))} lines; mbox: "
              f"{os.path.getsize(work + '/out.mbox') if os.path.exists(work + '/out.mbox') else 0} bytes")
        for label, conf in (("within-interval", within), ("refetched", refetch)):
            walls, cpus, rewritten = [], [], 0
            for _ in range(runs):
                ino = os.stat(state).st_ino
                wall, cpu = run(tidings, conf)
                walls.append(wall)
                cpus.append(cpu)
                rewritten += os.stat(state).st_ino != ino
            print(f"{label:16} wall {statistics.median(walls):.3f} s  "
                  f"cpu {statistics.median(cpus):.3f} s  rewritten {rewritten}/{runs}")


main()
