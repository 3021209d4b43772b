#!/usr/bin/python3
"""html-edge.py: HTML snippets for bench/html-bench.c -x, to check that a
change to src/html.c keeps its output byte for byte.

    bench/html-edge.py tests/test_html.c > /tmp/edge.html

Writes raw snippets separated by lines "%%": every C string literal with a
"<" in the given test sources (adjacent literals joined), then hand-made
cases for the corners of the serialiser and the text renderer (quotes and
"&{" in attributes, control characters, empty and void elements, the
formatting newlines libxml2 adds between blocks, unwrapped elements, deep
nesting, invalid UTF-8) and some generated garbage.
"""
import re
import sys

SEP = b"\n%%\n"


def c_literals(src):
    """The C string literals of src, adjacent ones joined, as bytes."""
    out = []
    tok = re.compile(r'"((?:[^"\\\n]|\\.)*)"|(\s+)|(.)', re.S)
    cur = None
    for m in tok.finditer(src):
        if m.group(1) is not None:
            b = bytes(m.group(1), "utf-8").decode("unicode_escape").encode("latin-1")
            cur = b if cur is None else cur + b
        elif m.group(2) is not None:
            continue
        else:
            if cur is not None:
                out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return [s for s in out if b"<" in s]


HAND = [
    '<p><a href="http://x.org/a+b$c[d]\'(e)*!~;,=">t</a></p>',
    '<a href="  http://x.org/a b?q=1&amp;r=2#f g">sp</a>',
    '<a href="http://x.org/&{a}">brace</a><a href="http://x.org/a%zz">pct</a>',
    '<a href="http://[::1]:8080/x">v6</a> <a href="HTTP://X.ORG">up</a>',
    '<img alt="he said &quot;hi&quot; it\'s" src="http://x.org/i.png">',
    '<img alt=\'only "double"\' src="http://x.org/i.png" title="a&b<c>d">',
    '<p title="&{foo}">t</p><p title="<!-- c -->x">u</p><p title="&{no close">v</p>',
    '<p title="x<!--y">w</p><p alt="">e</p><p title>b</p>',
    '<p>ctl \x01\x02\x0b\x0c\x1f\x7f cr\r\nlf tab\tend &amp;&lt;&gt; "q" \'a\'</p>',
    '<ul><li></li><li>a</li><li></ul><ol><li>x<li>y</ol><p></p><td></td>',
    '<figure></figure><figure><img src="http://x/i.png" alt="i"><figcaption>c</figcaption></figure>',
    '<div></div><br><hr><br/><hr/>text<hr><p>a</p><hr>',
    '<div><p>a</p><p>b</p></div><div>\n<p>a</p>\n</div>',
    '<table><tr><td>1</td><td>2</td></tr><tr><th>3</th></tr></table>',
    '<table width=100 height="2"><thead><tr><th colspan=2 rowspan="x" width="12" '
    'height="3">h</th></tr></thead><tbody><tr><td width>c</td></tr></tbody>'
    '<tfoot><tr><td>f</td></tr></tfoot></table>',
    '<pre><b>x</b>\n<i>y</i>\n\n  z\r\n</pre><pre>\nlead</pre>',
    '<p><div>x</div><div>y</div></p><blockquote><p>q</p><p>r</p></blockquote>',
    '<section><p>a</p><p>b</p></section><font><p>a</p>text</font>',
    '<div><ins><p>a</p><p>b</p></ins><del><div>c</div><div>d</div></del></div>',
    '<div><span><p>a</p></span><p>b</p></div><div><p>a</p>t<p>b</p></div>',
    '<a href="mailto:x@y.org">x@y.org</a> <a href="/rel?utm_source=x&a=1#f">r</a>',
    '<a name="n">anchor</a><a href="http://x.org/">x.org</a> <a href="http://x.org/">'
    'http://x.org/</a> <a href="http://x.org">http://x.org</a>',
    '<a href=x><a href=y>nested</a></a><a href="http://a/"><img src="http://a/i.png" '
    'alt="i"></a><a href="http://a/"><img src="http://a/i.png"></a>',
    '<a href="http://a/">one <p>two</p> three</a> <a href="http://a/">again</a>',
    '<img src="http://x/i.png" width="1px"><img src="http://x/i.png" width=" 0">'
    '<img src="http://x/i.png" width="01" height="abc"><img src="mailto:a@b">',
    '<img src="http://stats.wordpress.com/g.gif"><img src="http://a.feedsportal.com/x">'
    '<img src="http://u@pixel.wp.com:80/x"><img src="http://feedsportal.com/x">',
    '<img alt><img alt="" src="http://x/i.png"><img src="" alt="e">',
    '<p>a&nbsp;b\xc2\xa0c \xc3\xa9\xe2\x80\x99 x\xc2y \xff\xfe \xc0\x80 \xed\xa0\x80 z</p>',
    '<li>loose</li><dd>d</dd><dt>t</dt><dl><dt>a</dt><dd>b</dd></dl>',
    '<h1>h</h1><h2>h</h2><h3>h</h3><h4>h</h4><h5>h</h5><h6>h</h6>',
    '<q>q</q><s>s</s><u>u</u><sub>1</sub><sup>2</sup><small>s</small><kbd>k</kbd>'
    '<abbr title="t">a</abbr><cite>c</cite><code>c</code><em>e</em><strong>s</strong>',
    '<caption>c</caption><p><caption>c</caption></p><table><caption>c</caption></table>',
    '<![CDATA[x]]><p>a<?pi x?>b</p><!DOCTYPE html><p>c</p>',
    '<textarea>t</textarea><select><option>o</option></select><title>tt</title><p>x</p>',
    '<details><summary>s</summary><p>d</p></details><center>c</center><main>m</main>',
    '<ul><li>a<ul><li>b<ol><li>c</li><li>d</li></ol></li></ul></li></ul>',
    '<blockquote><blockquote><p>deep quote with a rather long line that has to be '
    'wrapped somewhere around seventy-two columns, and more words</p></blockquote></blockquote>',
    '<p>' + 'word ' * 40 + 'http://x.org/' + 'a' * 90 + ' end</p>',
    '<p>' + '\xc3\xa9' * 100 + ' ' + '\xc3\xbc' * 30 + '</p>',
    '<p>line<br>break<br><br><br>after</p><p><br></p><p> <br> x </p>',
    '<div>' * 250 + 'deep' + '</div>' * 250,
    '<blockquote><ul><li>' * 30 + 'x',
    '<p style="x" class="y" id="z" onclick="a" data-x="b" lang="fr" dir="rtl">attrs</p>',
    '<td colspan="2" rowspan="3">c</td><th width="5" height="6">h</th>',
    '<table><tr><td><table><tr><td>in</td></tr></table></td></tr></table>',
    '<body><p>b</p></body><html><p>h</p></html>',
    '<p>a</p>\n\n<p>b</p>\n<ul>\n<li>x</li>\n</ul>\n',
    '<div><br><br></div><div><hr><hr></div><div><img src="http://x/a.png"><img src="http://x/b.png"></div>',
    '<pre>a<br>b<script>s</script>c</pre>',
    '<a href="http://x.org/?utm_a=1&utm_b=2">u</a><a href="http://x.org/?a&&b&utm_c">v</a>',
    '<a href="https:">e</a><a href="https:///x">t</a><a href="mailto:">m</a><a href="http:x">h</a>',
    '<a href="java\nscript:alert(1)">j</a><a href="\x01http://x.org/">c</a>',
    '<a href="http://x.org/\xc3\xa9?\xc3\xa9#\xc3\xa9">u8</a><a href="http://x.org/a\\b^c`d{e|f}g">bs</a>',
    '<p>a\x00b\xc3\xa9\x00</p><p>0123456789abc\x00defghijklmnopqrstuvwxyz\xff0123456789</p>',
    '0123456789abcdef\xc3\xa90123456789abcdef\xe2\x82\xac\xf0\x9f\x98\x800123456789\xc3',
    ''.join('<a href="%s">u</a><img src="%s">' % (u, u) for u in [
        "http://x.org:/a", "http://x.org:x/", "http://1.2.3.4/", "http://1.2.3.4x/",
        "http://x.org/a#b#c", "http://x.org/a[1]", "http://u@x.org/", "http://u:p@x.org:1/",
        "http://x.org/%41%4a", "http://x.org/%4", "http://x.org:99999999/", "http://x!y.org/",
        "http://x.org/a#[b]", "http://-x-/", "http://x.org/a?b?c#d?e/f", "//x.org/p",
        "HTTPS://X.ORG:443", "http://x.org?", "http://x.org#", "http://x.org/;p=1?q#f"]),
    '',
    ' ',
    'plain text only',
    '<',
    '&',
]


def garbage():
    out = []
    for i in range(3000):
        out.append("<%c\x01%c>&#%d;<!--" % (chr(ord('a') + i % 26), chr(i & 0xff), i * 7919))
    return "".join(out)


def main():
    snips = []
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            snips += c_literals(f.read())
    # The hand cases are bytes written as \xNN (UTF-8 and not): latin-1.
    snips += [s.encode("latin-1") for s in HAND]
    snips.append(garbage().encode("latin-1"))
    sys.stdout.buffer.write(SEP.join(snips))


if __name__ == "__main__":
    main()
