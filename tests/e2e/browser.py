"""The HTML part of a digest in a real browser: Debian's headless Chromium.

The seed feed plus one hostile item (script, event handlers, javascript:
links, a 3000 px image, a 1x1 tracking pixel, a wide table...) goes through
`tidings preview`; a copy of the HTML part, with a probe script added at
the end, is loaded in Chromium at a 1200 px window and in a 375 px frame
(headless Chromium will not make a window narrower than 500 px, so the
phone width is an iframe of a wrapper page).  The probe writes what it
measured into the DOM as JSON (<pre id=tidings-probe-results>), and
--dump-dom prints it.  Checked: no script, no on* attribute and no
javascript:/data: URL reached the page, nothing from the digest ran, every
image is at most the column's width, the column at most 640 px, no
element makes the page scroll sideways, an embedded YouTube player is a
"[video]" link to its watch page, and an item's own h1/h2 render smaller
than the item titles.

Images load from a server of this test on 127.0.0.1 that Chromium uses
as its HTTP proxy (host names never resolve), so the page lays out with
real image sizes and nothing leaves the machine (Chromium's own background
requests, made despite --disable-background-networking, end there too).

Chromium is required: without it this test FAILS (apt-get install
chromium).
"""
import http.server
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import zlib

from e2e import main, parse_message, parts, seed_bytes

CHROMIUM_NAMES = ("chromium", "chromium-browser")
COLUMN_MAX = 640
WIDE, PHONE = 1200, 375

HOSTILE = """
<p>Hostile item <script>window.tidingsPwned = 1; document.title = "pwned";</script>text.</p>
<p onclick="window.tidingsPwned = 2" onmouseover="window.tidingsPwned = 3">Handlers.</p>
<img src="http://images.example/broken.png" onerror="window.tidingsPwned = 4" alt="broken">
<p><img src="http://images.example/wide-3000.png" width="3000" height="150" alt="wide"
  style="width:3000px;max-width:none"></p>
<p><img src="http://tracker.example/pixel.gif" width="1" height="1" alt=""></p>
<p><img src="http://images.example/natural-800.png" alt="natural size"></p>
<p><a href="javascript:window.tidingsPwned=5">js link</a>
  <a href="JaVaScRiPt:window.tidingsPwned=6">mixed case</a>
  <a href=" &#x6A;avascript:window.tidingsPwned=7">entity</a>
  <a href="java&#x09;script:window.tidingsPwned=8">tab</a>
  <a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">data</a>
  <a href="http://example.org/ok" onclick="window.tidingsPwned=9">fine link</a></p>
<iframe src="http://evil.example/frame"></iframe>
<object data="http://evil.example/x.swf"></object>
<svg onload="window.tidingsPwned=10"><script>window.tidingsPwned=11</script></svg>
<style>body { display: none }</style>
<form action="javascript:window.tidingsPwned=12"><input name=q autofocus onfocus="window.tidingsPwned=13"></form>
<div style="width:3000px;position:fixed;top:0;left:0">fixed and wide</div>
<table width="3000"><tr><td>a table that asks for 3000 px</td></tr></table>
<pre>a pre with a very long line: 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789</pre>
<p>averyveryverylongwordwithoutanybreakopportunityatallaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</p>
<p>http://example.org/a/very/long/url/without/spaces/that/goes/on/and/on/and/on/and/on/and/on/and/on/and/on</p>
<embed src="http://evil.example/y.swf" onload="window.tidingsPwned=14">
<h1>An item heading</h1><p>under it</p><h2>A second heading</h2>
<p>watch it here: <iframe width="560" height="315"
  src="https://www.youtube.com/embed/dQw4w9WgXcQ" allowfullscreen></iframe></p>
"""

HOSTILE_ITEM = ("<item><title>Hostile HTML with a title word too long for a phone: "
                "Donaudampfschifffahrtselektrizitaetenhauptbetriebswerkbauunterbeamtengesellschaft"
                "</title>"
                "<link>http://example.org/hostile</link>"
                "<guid isPermaLink=\"false\">tidings-test-hostile-1</guid>"
                "<pubDate>Wed, 17 Dec 2008 10:00:00 +0000</pubDate>"
                "<content:encoded><![CDATA[" + HOSTILE + "]]></content:encoded></item>")

# Runs in the browser after the page (and its images) loaded.  It is the
# only script the page may hold; it writes its findings into the DOM.
PROBE = r"""
<script id="tidings-probe">
/* Inside a box that scrolls sideways (an item's div), width is fine. */
function scrolls(el, stop) {
  for (; el && el !== stop; el = el.parentElement)
    if (/^(auto|scroll|hidden|clip)$/.test(getComputedStyle(el).overflowX))
      return true;
  return false;
}
window.addEventListener("load", function () {
  var r = {innerWidth: window.innerWidth};
  var h1 = document.querySelector("h1");
  var col = h1 ? h1.parentElement : null;
  var colRect = col ? col.getBoundingClientRect() : null;
  r.column = colRect ? colRect.width : -1;
  r.columnRight = colRect ? colRect.right : -1;
  r.images = Array.prototype.map.call(document.images, function (im) {
    var b = im.getBoundingClientRect();
    return {src: im.getAttribute("src"), width: b.width, right: b.right,
            natural: im.naturalWidth, complete: im.complete};
  });
  r.scripts = Array.prototype.filter.call(document.querySelectorAll("script"),
    function (s) { return s.id !== "tidings-probe"; }).map(function (s) {
      return s.outerHTML.slice(0, 120); });
  r.handlers = [];
  r.badUrls = [];
  var all = document.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {
    var el = all[i];
    for (var j = 0; j < el.attributes.length; j++) {
      var a = el.attributes[j], v = a.value.replace(/[\s\u0000-\u001f]+/g, "").toLowerCase();
      if (/^on/i.test(a.name))
        r.handlers.push(el.tagName + " " + a.name);
      if (/^(href|src|action|formaction|xlink:href|data|poster|background)$/i.test(a.name) &&
          /^(javascript|vbscript|data):/.test(v))
        r.badUrls.push(el.tagName + " " + a.name + "=" + a.value.slice(0, 60));
    }
  }
  r.overflow = [];
  if (colRect) {
    for (var k = 0; k < all.length; k++) {
      var e = all[k], b = e.getBoundingClientRect();
      if (e.id === "tidings-probe-results" || b.width === 0)
        continue;
      if ((b.right > colRect.right + 1 || b.left < colRect.left - 1) && col.contains(e) &&
          !scrolls(e.parentElement, col))
        r.overflow.push(e.tagName + " " + Math.round(b.left) + ".." + Math.round(b.right));
    }
  }
  r.scrollWidth = document.documentElement.scrollWidth;
  /* Embedded video: a link "[video] URL"; item headings against item titles. */
  r.videoLinks = Array.prototype.filter.call(document.links, function (a) {
    return /^\[video\] /.test(a.textContent); }).map(function (a) {
      return a.getAttribute("href"); });
  var size = function (el) { return parseFloat(getComputedStyle(el).fontSize); };
  r.titleSizes = Array.prototype.map.call(document.querySelectorAll("td > h3"), size);
  r.itemHeadings = Array.prototype.map.call(
    document.querySelectorAll("td > div h1, td > div h2, td > div h3, td > div h4, td > div h5, td > div h6"),
    function (h) { return {text: h.textContent, size: size(h)}; });
  r.ran = window.tidingsPwned === undefined ? null : window.tidingsPwned;
  r.title = document.title;
  var pre = document.createElement("pre");
  pre.id = "tidings-probe-results";
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
  if (window.parent !== window)
    window.parent.document.body.setAttribute("data-probe-done", "1");
});
</script>
"""

# The phone: the digest in a 375 px frame; its results are copied out.
WRAPPER = """<!DOCTYPE html>
<html><body style="margin:0">
<iframe id="phone" src="digest.html" style="width:%dpx;height:900px;border:0"></iframe>
<script>
window.addEventListener("load", function () {
  var d = document.getElementById("phone").contentDocument;
  var r = d && d.getElementById("tidings-probe-results");
  var pre = document.createElement("pre");
  pre.id = "tidings-probe-results";
  pre.textContent = r ? r.textContent : "no access to the frame";
  document.body.appendChild(pre);
});
</script></body></html>
""" % PHONE


def png(width, height):
    """A grey PNG of that size, made here (stdlib only)."""
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


GIF_1X1 = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
           b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


class ImageProxy:
    """Chromium's HTTP proxy: every image URL gets a real image, by name."""

    def __init__(self):
        images = {"wide": png(3000, 150), "pixel": GIF_1X1, "": png(800, 300)}
        self.requests = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.requests.append(self.path)
                key = next(k for k in ("wide", "pixel", "") if k in self.path.rsplit("/", 1)[-1])
                body = images[key]
                self.send_response(200)
                self.send_header("Content-Type", "image/gif" if key == "pixel" else "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_CONNECT(self):  # https: refused, the image stays broken
                proxy.requests.append("CONNECT " + self.path)
                self.send_error(403)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def chromium_binary():
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium is not installed: this test needs Debian's headless Chromium "
                         "(apt-get install chromium)")


def dump_dom(url, window_width, proxy_port, profile):
    cmd = [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
           "--user-data-dir=" + profile, f"--window-size={window_width},900",
           "--allow-file-access-from-files",
           f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           "--dump-dom", url]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        # A guard against a hang: Chromium needs seconds of CPU, which a
        # loaded machine may stretch tenfold.
        out, err = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError(f"chromium took over 300 s on {url}")
    m = re.search(r'<pre id="tidings-probe-results">(.*?)</pre>', out.decode("utf-8", "replace"), re.S)
    assert p.returncode == 0 and m, \
        f"chromium exit {p.returncode}, no probe results\n{err.decode('utf-8', 'replace')[-1500:]}"
    text = m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"probe results are not JSON: {text[:300]}")


def digest_html(t):
    seed = seed_bytes().decode("utf-8")
    feed = seed.replace("</channel>", HOSTILE_ITEM + "</channel>", 1)
    t.serve("/feed.xml", feed.encode("utf-8"))
    t.config({"inodes": t.http.url("/feed.xml")}, {"all": {}})
    r = t.run("preview", "all", env={"TZ": "UTC"})
    _, html = parts(parse_message(r.stdout))
    assert "Hostile item" in html and "Mac OS X L2TP VPN to Cisco IOS" in html, "both items rendered"
    return html


def check(results, where, window):
    problems = []
    col = results["column"]
    if results["innerWidth"] != window:
        problems.append(f"viewport {results['innerWidth']} px, wanted {window}")
    if not 0 < col <= COLUMN_MAX:
        problems.append(f"column {col} px, wanted 1..{COLUMN_MAX}")
    if results["scripts"]:
        problems.append(f"scripts from the digest: {results['scripts']}")
    if results["handlers"]:
        problems.append(f"event handler attributes: {results['handlers']}")
    if results["badUrls"]:
        problems.append(f"javascript:/data: URLs: {results['badUrls']}")
    if results["ran"] is not None or results["title"] == "pwned":
        problems.append(f"digest code ran: marker {results['ran']}, title {results['title']!r}")
    for im in results["images"]:
        if im["width"] > col + 0.5 or im["right"] > results["columnRight"] + 0.5:
            problems.append(f"image {im['src']} is {im['width']} px in a {col} px column")
    if results["overflow"]:
        problems.append(f"elements outside the column: {results['overflow'][:10]}")
    if results["scrollWidth"] > window:
        problems.append(f"the page scrolls sideways: {results['scrollWidth']} px in {window} px")
    if "https://www.youtube.com/watch?v=dQw4w9WgXcQ" not in results["videoLinks"]:
        problems.append(f"no [video] link to the embedded video: {results['videoLinks']}")
    headings = results["itemHeadings"]
    if len(headings) < 2 or not results["titleSizes"]:
        problems.append(f"item headings or titles not found: {headings} {results['titleSizes']}")
    elif any(h["size"] >= min(results["titleSizes"]) for h in headings):
        problems.append(f"item headings not below the item titles ({min(results['titleSizes'])} px): "
                        f"{headings}")
    return [f"{where}: {p}" for p in problems]


def test_digest_html_in_chromium(t):
    chromium_binary()  # fail first, and clearly, without it
    html = digest_html(t)
    assert "</body>" in html
    page = os.path.join(t.dir, "digest.html")
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(html.replace("</body>", PROBE + "</body>", 1))
    wrapper = os.path.join(t.dir, "phone.html")
    with open(wrapper, "w", encoding="utf-8") as fh:
        fh.write(WRAPPER)
    proxy = ImageProxy()
    started = time.monotonic()
    try:
        profile = tempfile.mkdtemp(prefix="chromium-", dir=t.dir)
        wide = dump_dom("file://" + page, WIDE, proxy.port, profile)
        profile = tempfile.mkdtemp(prefix="chromium-", dir=t.dir)
        phone = dump_dom("file://" + wrapper, WIDE, proxy.port, profile)
    finally:
        proxy.stop()
    print(f"# chromium: {time.monotonic() - started:.1f} s; {WIDE} px: column {wide['column']}, "
          f"{len(wide['images'])} images; {PHONE} px: column {phone['column']}; item titles "
          f"{wide['titleSizes'][:1]} px, item headings {[h['size'] for h in wide['itemHeadings']]} px")
    problems = check(wide, f"{WIDE} px window", WIDE) + check(phone, f"{PHONE} px frame", PHONE)
    # The images really loaded (else their widths prove little), the
    # tracker was never fetched.
    loaded = [im for im in wide["images"] if im["natural"] > 0]
    if not any(im["natural"] == 3000 for im in loaded) or not any(im["natural"] == 800 for im in loaded):
        problems.append(f"images did not load through the test proxy: {wide['images']}")
    if any("pixel" in r or "tracker.example" in r for r in proxy.requests):
        problems.append(f"the tracking pixel was fetched: {proxy.requests}")
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    main(globals())
