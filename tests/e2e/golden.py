"""Golden digests: `tidings preview` of the seed feed and of four corpus
feeds of different kinds, text and HTML parts compared with the checked-in
files tests/data/golden/NAME.txt and NAME.html.

Only what changes from run to run is masked: the digest date (the one
RFC 5322 date in each part), the port of the local HTTP server (relative
URLs resolve against it) and, in seed-compact, since when the failing feed
fails.  Item dates render in local time, so the binary
runs with TZ=UTC.

To accept a new rendering after reading the diff:

    GOLDEN_UPDATE=1 make check TESTS=tests/e2e/golden.py

(or run this script with that variable set).  The files have LF line ends;
the parts themselves must have CRLF throughout.  On a mismatch the rendering
is also left in $TOP_BUILDDIR/tests/golden-out/ for a closer look.
"""
import difflib
import os
import re

from e2e import SEED, SRCDIR, main, parse_message, parts

GOLDEN = os.path.join(SRCDIR, "tests", "data", "golden")
CORPUS = os.path.join(SRCDIR, "tests", "data", "corpus", "feeds")
OUT = os.path.join(os.environ.get("TOP_BUILDDIR", "."), "tests", "golden-out")
UPDATE = os.environ.get("GOLDEN_UPDATE", "") not in ("", "0")

# name: (feed file, why it is here)
FEEDS = {
    "seed": (SEED, "RSS 2.0, content:encoded, pre, lists, quotes, images, nine items"),
    "atom-xhtml": (os.path.join(CORPUS, "node-feedparser__test_feeds_nondefaultnamespace-xhtml.atom.xml"),
                   "Atom, type=xhtml content in a prefixed namespace: a list of links"),
    "atom-xml-base": (os.path.join(CORPUS, "feed-rs__feed-rs_fixture_atom_atom_xml_base.xml"),
                      "Atom, a relative image resolved by xml:base; no feed link"),
    "rss10-iso8859": (os.path.join(CORPUS, "feed-rs__feed-rs_fixture_rss1_rss_1.0_iso8859.xml"),
                      "RSS 1.0 in ISO-8859-1, escaped HTML, a tracking pixel"),
    "rss20-entities": (os.path.join(CORPUS, "feed-rs__feed-rs_fixture_rss2_rss_2.0_heated.xml"),
                       "RSS 2.0 (Substack), character references, utm_ tracking parameters"),
    "seed-compact": (SEED, "the seed with full-items-per-feed = 3 (an 'Also new' list) "
                           "and a failing feed in the footer"),
}
# The footer says since when a feed fails: the time of this test's first run.
FAILING_SINCE = re.compile(r"\(since \d{4}-\d\d-\d\d \d\d:\d\d\)")

DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
DIGEST_DATE = re.compile(DAY + r", \d{1,2} " + MONTH + r" \d{4} \d\d:\d\d:\d\d [+-]\d{4}")


def mask(part, port, what):
    """The part with LF line ends, its digest date and the server port masked."""
    assert "\n" not in part.replace("\r\n", ""), f"{what}: a bare LF"
    part = part.replace("\r\n", "\n")
    dates = DIGEST_DATE.findall(part)
    assert len(dates) == 1, f"{what}: expected one digest date, found {dates}"
    part = DIGEST_DATE.sub("<DATE>", part)
    return part.replace(f"127.0.0.1:{port}", "127.0.0.1:<PORT>")


def render(t, name):
    with open(FEEDS[name][0], "rb") as fh:
        url = t.serve("/feed.xml", fh.read())
    feeds, sub, extra = {"feed": url}, {"first-run": '"0"'}, ""
    if name == "seed-compact":
        # A first run records the failure of a feed that answers 404.
        extra = "fetch {\n  report-after = 1\n}"
        t.config({"broken": t.http.url("/_/status/404")}, {"all": sub}, extra=extra)
        t.run("run", env={"TZ": "UTC"})
        feeds["broken"] = t.http.url("/_/status/404")
        sub["full-items-per-feed"] = "3"
    t.config(feeds, {"all": sub}, extra=extra)
    r = t.run("preview", "all", env={"TZ": "UTC"})
    assert r.stdout, f"preview printed nothing; stderr: {r.err}"
    text, html = parts(parse_message(r.stdout))
    text, html = mask(text, t.http.port, "text part"), mask(html, t.http.port, "HTML part")
    if name == "seed-compact":
        assert len(FAILING_SINCE.findall(text)) == len(FAILING_SINCE.findall(html)) == 1
        text, html = (FAILING_SINCE.sub("(since <FIRST-FAILURE>)", x) for x in (text, html))
    return text, html


def read(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(data)


def compare(name, ext, got):
    path = os.path.join(GOLDEN, f"{name}.{ext}")
    if UPDATE:
        write(path, got)
        print(f"# wrote {path}")
    assert os.path.exists(path), f"{path} is missing: run with GOLDEN_UPDATE=1 to create it"
    want = read(path)
    if got == want:
        return None
    write(os.path.join(OUT, f"{name}.{ext}"), got)
    diff = list(difflib.unified_diff(want.splitlines(), got.splitlines(), f"golden/{name}.{ext}",
                                     f"golden-out/{name}.{ext}", lineterm="", n=2))
    shown = "\n".join(diff[:80]) + ("\n..." if len(diff) > 80 else "")
    return f"{name}.{ext} differs from the golden file:\n{shown}"


def golden_test(name):
    def test(t):
        text, html = render(t, name)
        problems = [p for p in (compare(name, "txt", text), compare(name, "html", html)) if p]
        assert not problems, "\n".join(problems) + \
            "\n(if the new rendering is right: GOLDEN_UPDATE=1 make check TESTS=tests/e2e/golden.py)"
    test.__name__ = "test_" + name.replace("-", "_")
    test.__doc__ = FEEDS[name][1]
    return test


for _name in FEEDS:
    _t = golden_test(_name)
    globals()[_t.__name__] = _t


def test_zz_every_golden_file_has_a_feed(t):
    """A renamed or dropped feed must not leave a stale golden file behind."""
    files = sorted(os.listdir(GOLDEN))
    want = sorted(f"{n}.{e}" for n in FEEDS for e in ("txt", "html"))
    assert files == want, (files, want)


if __name__ == "__main__":
    main(globals())
