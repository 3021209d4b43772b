#!/usr/bin/env python3
"""A config with many subscriptions, for the fixed costs of loading it.

usage: bench/gen-subs.py DIR [SUBS] [FEEDS]

Writes DIR/tidings.conf: FEEDS feeds (file: URLs to DIR/feed-N.xml, small
RSS files it also writes, each with two tags), and SUBS subscriptions of
1-3 tags each into DIR/out.mbox, as issue 20 describes (defaults 2000, 20).
Then e.g.:
  tidings -c DIR/tidings.conf check
  tidings -c DIR/tidings.conf catch-up && tidings -c DIR/tidings.conf run
"""
import os
import random
import sys

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "templates")
TAGS = ["news", "tech", "science", "art", "sport", "local", "world", "misc"]


def feed_xml(i):
    items = "".join(
        f"<item><title>Item {i}.{k}</title><link>http://example.org/{i}/{k}</link>"
        f"<guid>urn:tidings:bench:{i}:{k}</guid>"
        f"<pubDate>Mon, 0{1 + k % 9} Jan 2024 10:00:00 +0000</pubDate>"
        f"<description>Body {i} {k}</description></item>"
        for k in range(10))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {i}</title>'
            f"<link>http://example.org/{i}</link>{items}</channel></rss>\n")


def main():
    out = os.path.abspath(sys.argv[1])
    subs = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    feeds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    rnd = random.Random(20)
    os.makedirs(out, exist_ok=True)
    conf = [f'from = "Tidings <tidings@example.org>"',
            f'state = "{out}/state"',
            f'templates = "{TEMPLATES}"', f'deliver = "mbox:{out}/out.mbox"', ""]
    for i in range(feeds):
        with open(os.path.join(out, f"feed-{i}.xml"), "w") as f:
            f.write(feed_xml(i))
        tags = ", ".join(f'"{t}"' for t in (TAGS[i % 8], TAGS[(i + 3) % 8]))
        conf += [f"feed feed-{i} {{", f'\turl = "file:{out}/feed-{i}.xml"',
                 f"\ttags = {{{tags}}}", "}"]
    for i in range(subs):
        tags = ", ".join(f'"{t}"' for t in rnd.sample(TAGS, rnd.randint(1, 3)))
        conf += [f"subscription reader-{i:05d} {{",
                 f'\tto = {{"reader{i}@example.org"}}', f"\ttags = {{{tags}}}", "}"]
    with open(os.path.join(out, "tidings.conf"), "w") as f:
        f.write("\n".join(conf) + "\n")


if __name__ == "__main__":
    main()
