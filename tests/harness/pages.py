"""pages: feeds with a history, served by httpd, for tests of paging back.

    from pages import wordpress, archive_chain, paged
    feed = wordpress(srv, "/wp", count=25, every=7, per_page=10)
    feed.url                 # the feed's URL
    feed.titles(max_age=100) # titles of the items younger than 100 days
    feed.pages               # request targets, newest page first

Items are dated relative to now: item i is i * every + 0.5 days old (half
a day keeps them off a date boundary) and is titled NAME-NN.  Each kind of
history a feed can offer:

    wordpress      RSS with <generator>https://wordpress.org/?v=6.4</generator>,
                   ?paged=N for older pages, 404 past the last one
    archive_chain  RFC 5005 archived feed: Atom, <link rel="prev-archive">
                   from the feed to archive documents marked <fh:archive/>
    paged          RFC 5005 paged feed in RSS: <atom:link rel="next">
"""
import email.utils
import time

DAY = 86400
ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"


class Item:
    def __init__(self, name, i, every, now):
        self.title = "%s-%02d" % (name, i)
        self.id = "urn:tidings-test:%s:%d" % (name, i)
        self.age = i * every + 0.5
        self.time = now - self.age * DAY


class Feed:
    def __init__(self, name, count, every, now=None):
        now = time.time() if now is None else now
        self.name = name
        self.items = [Item(name, i, every, now) for i in range(count)]
        self.url = None
        self.pages = []

    def titles(self, max_age=None):
        return {it.title for it in self.items if max_age is None or it.age < max_age}


def rss_item(it):
    return ("<item><title>%s</title><guid isPermaLink=\"false\">%s</guid>"
            "<link>http://example.org/%s</link><pubDate>%s</pubDate>"
            "<description>Item %s.</description></item>\n"
            % (it.title, it.id, it.title, email.utils.formatdate(it.time, usegmt=True), it.title))


def rss(title, items, generator=None, next_url=None):
    head = "<title>%s</title><link>http://example.org/</link>\n" % title
    if generator:
        head += "<generator>%s</generator>\n" % generator
    if next_url:
        head += '<atom:link rel="next" href="%s"/>\n' % next_url.replace("&", "&amp;")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="%s">'
            "<channel>\n%s%s</channel></rss>\n"
            % (ATOM, head, "".join(rss_item(it) for it in items)))


def atom_entry(it):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(it.time))
    return ('<entry><title>%s</title><id>%s</id><link href="http://example.org/%s"/>'
            "<updated>%s</updated><summary>Item %s.</summary></entry>\n"
            % (it.title, it.id, it.title, when, it.title))


def atom(title, items, prev_archive=None, archive=False):
    head = "<title>%s</title><id>urn:tidings-test:%s</id><updated>%s</updated>\n" % (
        title, title, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if archive:
        head += "<fh:archive/>\n"
    if prev_archive:
        head += '<link rel="prev-archive" href="%s"/>\n' % prev_archive
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="%s" xmlns:fh="%s">\n%s%s</feed>\n'
            % (ATOM, FH, head, "".join(atom_entry(it) for it in items)))


def chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def wordpress(srv, prefix, count, every, per_page=10, repeat_last=True, **kw):
    """A WordPress feed at PREFIX/feed/; page N repeats page N-1's last item
    (a new post shifts the pages while one reads them)."""
    f = Feed(prefix.strip("/"), count, every, **kw)
    for n, part in enumerate(chunks(f.items, per_page), 1):
        if n > 1 and repeat_last:
            part = [f.items[(n - 1) * per_page - 1]] + part
        target = prefix + "/feed/" + ("" if n == 1 else "?paged=%d" % n)
        srv.add(target, rss(f.name, part, generator="https://wordpress.org/?v=6.4.2"))
        f.pages.append(target)
    f.url = srv.url(prefix + "/feed/")
    return f


def archive_chain(srv, prefix, count, every, current=6, per_archive=10, **kw):
    """An archived feed at PREFIX/feed.xml with the newest `current` items
    (and the newest archived one again); archives PREFIX/N.xml, 1 the oldest."""
    f = Feed(prefix.strip("/"), count, every, **kw)
    older = chunks(f.items[current:], per_archive)
    names = ["%s/%d.xml" % (prefix, len(older) - k) for k in range(len(older))]
    top = f.items[:current] + f.items[current:current + 1]
    srv.add(prefix + "/feed.xml", atom(f.name, top, prev_archive=names[0] if names else None))
    f.pages.append(prefix + "/feed.xml")
    for k, part in enumerate(older):
        prev = names[k + 1] if k + 1 < len(names) else None
        srv.add(names[k], atom(f.name, part, prev_archive=prev, archive=True))
        f.pages.append(names[k])
    f.url = srv.url(prefix + "/feed.xml")
    return f


def paged(srv, prefix, count, every, per_page=10, loop=True, **kw):
    """A paged RSS feed at PREFIX/feed.xml, then ?page=N; with loop, the last
    page's next link points back at the first page."""
    f = Feed(prefix.strip("/"), count, every, **kw)
    parts = chunks(f.items, per_page)
    targets = [prefix + "/feed.xml" + ("" if n == 1 else "?page=%d" % n)
               for n in range(1, len(parts) + 1)]
    for n, part in enumerate(parts):
        nxt = targets[n + 1] if n + 1 < len(targets) else (targets[0] if loop else None)
        srv.add(targets[n], rss(f.name, part, next_url=srv.url(nxt) if nxt else None))
    f.pages = targets
    f.url = srv.url(targets[0])
    return f
