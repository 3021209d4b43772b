#!/usr/bin/python3
"""Write reference.jsonl: feedparser's reading of every file in feeds/.

usage: /usr/bin/python3 make-reference.py > reference.jsonl

Run by hand (Debian's python3-feedparser, 6.0.10) whenever a feed is added;
tests/e2e/corpus2.py only reads the result.  One JSON object per feed, in
the shape of ../corpus/reference.jsonl (compare.py reads both), plus each
item's "links": every href feedparser reads for it (links and enclosures).
"""
import calendar
import json
import os
import sys

import feedparser

HERE = os.path.dirname(os.path.abspath(__file__))


def epoch(e):
    t = e.get("published_parsed") or e.get("updated_parsed")
    return calendar.timegm(t) if t else None


def item(e):
    hrefs = [l.get("href") for l in e.get("links", []) if l.get("href")]
    hrefs += [x.get("href") for x in e.get("enclosures", []) if x.get("href")]
    return {"id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
            "published_epoch": epoch(e),
            "categories": [t.get("term") or t.get("label") for t in e.get("tags", [])
                           if t.get("term") or t.get("label")],
            "links": sorted(set(hrefs))}


def main():
    for name in sorted(os.listdir(os.path.join(HERE, "feeds"))):
        with open(os.path.join(HERE, "feeds", name), "rb") as fh:
            d = feedparser.parse(fh.read())
        exc = d.get("bozo_exception")
        print(json.dumps({"file": name, "bozo": bool(d.bozo), "format": d.get("version") or None,
                          "feed_title": d.feed.get("title"),
                          "items": [item(e) for e in d.entries],
                          "encoding": d.get("encoding"),
                          "bozo_exception": str(exc) if exc else None}, ensure_ascii=False))
    print(f"feedparser {feedparser.__version__}: {len(os.listdir(os.path.join(HERE, 'feeds')))} feeds",
          file=sys.stderr)


if __name__ == "__main__":
    main()
