#!/usr/bin/env python3
"""Write an RSS 2.0 feed of about SIZE bytes (default 16 MB) to stdout:
many items with escaped HTML descriptions, content:encoded in CDATA,
categories and dates, like a large real blog feed."""
import random
import sys

size = int(sys.argv[1]) if len(sys.argv) > 1 else 16 << 20
rnd = random.Random(42)
words = ("feed parser mail digest linux network kernel release security update "
         "performance memory tidings curl libxml2 atom rss caf\u00e9 na\u00efve "
         "r\u00e9sum\u00e9 \u00fcber stra\u00dfe").split()


def sentence(n):
    return " ".join(rnd.choice(words) for _ in range(n))


out = sys.stdout
head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        '<title>Big feed</title><link>https://example.org/</link>\n'
        '<description>benchmark</description>\n')
parts = [head]
total = len(head.encode())
i = 0
while total < size:
    i += 1
    para = "".join(f"&lt;p&gt;{sentence(40)} &lt;a href=&quot;https://example.org/{i}/{k}&quot;&gt;"
                   f"link&lt;/a&gt; &amp;amp; more&lt;/p&gt;\n" for k in range(3))
    item = (f"<item>\n<title>Item {i}: {sentence(6)}</title>\n"
            f"<link>https://example.org/posts/{i}?a=1&amp;b=2</link>\n"
            f'<guid isPermaLink="false">urn:example:{i}</guid>\n'
            f"<pubDate>Tue, {1 + i % 28:02d} Dec 2008 07:45:46 +0000</pubDate>\n"
            f"<dc:creator>Author {i % 17}</dc:creator>\n"
            f"<category>{rnd.choice(words)}</category><category>{rnd.choice(words)}</category>\n"
            f"<description>{para}</description>\n"
            f"<content:encoded><![CDATA[<div>{sentence(120)}</div>"
            f"<p><img src=\"/img/{i}.png\" alt=\"x\"> {sentence(60)}</p>]]></content:encoded>\n"
            "</item>\n")
    parts.append(item)
    total += len(item.encode())
parts.append("</channel>\n</rss>\n")
out.write("".join(parts))
