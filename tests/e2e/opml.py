"""End-to-end: import-opml on exports of other readers, export-opml, and
the round trip (import what export printed: same URLs, titles and tags)."""
import os
import re
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

TIDINGS = os.environ.get("TIDINGS", "./tidings")
DATA = os.path.join(os.environ.get("TOP_SRCDIR", "."), "tests", "data", "opml")
HEAD = 'from = "Tidings <t@example.org>"\ndeliver = "stdout"\n'


def tidings(*args):
    return subprocess.run([TIDINGS, *args], capture_output=True, text=True,
                          timeout=20)


def sections(text):
    """feed sections printed by import-opml -> {name: {url, title, tags}}"""
    feeds = {}
    unq = lambda s: re.sub(r'\\(.)', r'\1', s)
    for m in re.finditer(r'^feed ([a-z0-9-]+) \{\n(.*?)^\}$', text, re.M | re.S):
        body = m.group(2)
        url = re.search(r'^\turl = "((?:[^"\\]|\\.)*)"$', body, re.M)
        title = re.search(r'^\ttitle = "((?:[^"\\]|\\.)*)"$', body, re.M)
        tags = re.search(r'^\ttags = \{(.*)\}$', body, re.M)
        feeds[m.group(1)] = {
            "url": unq(url.group(1)),
            "title": unq(title.group(1)) if title else None,
            "tags": [unq(t) for t in re.findall(r'"((?:[^"\\]|\\.)*)"',
                                                tags.group(1))] if tags else [],
        }
    return feeds


def opml_feeds(path_or_text, is_text=False):
    """(url, title) of every outline with an xmlUrl, however nested; a URL
    listed twice counts once (import keeps the first)."""
    root = ET.fromstring(path_or_text) if is_text else ET.parse(path_or_text).getroot()
    feeds = {}
    for o in root.iter("outline"):
        if o.get("xmlUrl") and o.get("xmlUrl") not in feeds:
            feeds[o.get("xmlUrl")] = o.get("title") or o.get("text") or None
    return set(feeds.items())


class Import(unittest.TestCase):
    def test_thunderbird_nested_folders(self):
        r = tidings("import-opml", os.path.join(DATA, "thunderbird.opml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        feeds = sections(r.stdout)
        self.assertEqual(list(feeds), ["lwn-net", "kernel-newbies", "lwn-net-2",
                                       "john-s-tidbits-bulletproof", "price-5-only",
                                       "example-jp"])
        self.assertEqual(feeds["lwn-net"]["tags"], ["Linux"])
        self.assertEqual(feeds["kernel-newbies"]["tags"], ["Linux", "Kernel"])
        self.assertEqual(feeds["kernel-newbies"]["url"],
                         "https://kernelnewbies.org/FrontPage?action=rss_rc")
        self.assertEqual(feeds["price-5-only"]["title"], 'Price: $5 "only"')
        self.assertEqual(feeds["price-5-only"]["url"], "https://example.org/atom.xml?a=1&b=2")
        self.assertEqual(feeds["price-5-only"]["tags"], ["Sysadmin & Networking"])
        self.assertEqual(feeds["example-jp"]["title"], "日本語ニュース")
        self.assertEqual(feeds["example-jp"]["tags"], [])
        self.assertIn("# 6 feeds", r.stdout)

    def test_newsboat_flat(self):
        r = tidings("import-opml", os.path.join(DATA, "newsboat.opml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        feeds = sections(r.stdout)
        # The repeated xkcd URL is printed once; a feed without a title is
        # named after its host.
        self.assertEqual(list(feeds), ["xkcd-com", "rust-blog", "debian-org"])
        self.assertIsNone(feeds["debian-org"]["title"])

    def test_import_output_is_a_valid_config(self):
        r = tidings("import-opml", os.path.join(DATA, "thunderbird.opml"))
        with tempfile.TemporaryDirectory() as d:
            conf = os.path.join(d, "t.conf")
            with open(conf, "w") as f:
                f.write(HEAD + r.stdout)
            e = tidings("-c", conf, "export-opml")
            self.assertEqual(e.returncode, 0, e.stderr)
            self.assertEqual(e.stderr, "")

    def test_only_http_and_https_feeds_are_taken(self):
        """javascript:, file: and other schemes are skipped, each said in an
        escaped comment; the output is still a valid config."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.opml")
            with open(path, "w") as f:
                f.write('<opml version="2.0"><body>'
                        '<outline text="a" xmlUrl="javascript:alert(1)"/>'
                        '<outline text="b" xmlUrl="file:///etc/passwd"/>'
                        '<outline text="c" xmlUrl="gopher://x/&#10;feed evil { url = &quot;x&quot; }"/>'
                        '<outline text="d" xmlUrl="HTTPS://example.org/feed"/>'
                        '</body></opml>')
            r = tidings("import-opml", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual([f["url"] for f in sections(r.stdout).values()],
                             ["HTTPS://example.org/feed"])
            self.assertIn("# skipped, not an http or https URL: javascript:alert(1)\n", r.stdout)
            self.assertIn("# skipped, not an http or https URL: file:///etc/passwd\n", r.stdout)
            self.assertIn("gopher://x/\\x0Afeed evil", r.stdout)
            conf = os.path.join(d, "t.conf")
            with open(conf, "w") as f:
                f.write(HEAD + r.stdout)
            e = tidings("-c", conf, "export-opml")
            self.assertEqual(e.returncode, 0, e.stderr)
            self.assertEqual(e.stdout.count("xmlUrl="), 1, e.stdout)

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.opml")
            with open(path, "w") as f:
                f.write("<html><body>not opml</body></html>")
            r = tidings("import-opml", path)
            self.assertEqual(r.returncode, 65)
            self.assertIn("not OPML", r.stderr)
            with open(path, "w") as f:
                f.write("<opml><body><outline")
            r = tidings("import-opml", path)
            self.assertEqual(r.returncode, 65)
            self.assertIn("not well-formed", r.stderr)
            with open(path, "w") as f:
                pass
            r = tidings("import-opml", path)
            self.assertEqual(r.returncode, 65)
            self.assertEqual(r.stderr, f"tidings: {path}: empty file\n")
            # An external entity is never fetched nor expanded.
            with open(path, "w") as f:
                f.write('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM '
                        '"file:///etc/passwd">]><opml><body><outline text="&x;" '
                        'xmlUrl="https://a.example/"/></body></opml>')
            r = tidings("import-opml", path)
            self.assertNotIn("root:", r.stdout)
        r = tidings("import-opml", "/nonexistent.opml")
        self.assertEqual(r.returncode, 66)


class Export(unittest.TestCase):
    def roundtrip(self, source):
        original = opml_feeds(source)
        imported = tidings("import-opml", source)
        self.assertEqual(imported.returncode, 0, imported.stderr)
        with tempfile.TemporaryDirectory() as d:
            conf = os.path.join(d, "t.conf")
            with open(conf, "w") as f:
                f.write(HEAD + imported.stdout)
            exported = tidings("-c", conf, "export-opml")
            self.assertEqual(exported.returncode, 0, exported.stderr)
            again_path = os.path.join(d, "again.opml")
            with open(again_path, "w") as f:
                f.write(exported.stdout)
            root = ET.fromstring(exported.stdout)
            self.assertEqual(root.get("version"), "2.0")
            again = tidings("import-opml", again_path)
        # The same feeds (URL and title) went through; a feed without a
        # title comes back titled with its name.
        got = opml_feeds(exported.stdout, is_text=True)
        self.assertEqual({u for u, _ in got}, {u for u, _ in original})
        titled = {(u, t) for u, t in original if t}
        self.assertTrue(titled <= got, titled - got)
        first, second = sections(imported.stdout), sections(again.stdout)
        self.assertEqual(sorted(first), sorted(second))  # the same names
        for name, feed in first.items():
            match = [f for f in second.values() if f["url"] == feed["url"]]
            self.assertEqual(len(match), 1, feed)
            self.assertEqual(match[0]["tags"], feed["tags"], feed)
            if feed["title"]:
                self.assertEqual(match[0]["title"], feed["title"])
        return root

    def test_roundtrip_thunderbird(self):
        root = self.roundtrip(os.path.join(DATA, "thunderbird.opml"))
        # One folder per first tag; untagged feeds at the top level.
        body = root.find("body")
        folders = [o.get("text") for o in body if not o.get("xmlUrl")]
        self.assertEqual(folders, ["Linux", "Sysadmin & Networking"])
        self.assertEqual([o.get("xmlUrl") for o in body if o.get("xmlUrl")],
                         ["https://example.jp/rss"])

    def test_roundtrip_newsboat(self):
        self.roundtrip(os.path.join(DATA, "newsboat.opml"))

    def test_export_of_file_url(self):
        with tempfile.TemporaryDirectory() as d:
            conf = os.path.join(d, "t.conf")
            with open(conf, "w") as f:
                f.write(HEAD + 'feed local {\n url = "file:feeds/a.xml"\n tags = {"x"}\n}\n')
            r = tidings("-c", conf, "export-opml")
            self.assertEqual(r.returncode, 0, r.stderr)
            real = os.path.realpath(d)
            self.assertIn('xmlUrl="file://%s/feeds/a.xml"' % real, r.stdout)
            self.assertIn('category="x"', r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
