#!/usr/bin/python3
"""httpd: the HTTP server every tidings test talks to (127.0.0.1 only).

As a module:

    from httpd import Server
    with Server(root="some/dir") as srv:        # port 0: a free port
        srv.add("/feed.xml", b"<rss>...</rss>")  # in-memory files win over root
        url = srv.url("/feed.xml")
        ...
        srv.stats()["count"]["/feed.xml"]        # requests served per path

As a script (for C tests and manual use):

    httpd.py [--root DIR] [--port N] [--port-file F] [--tls-port-file F2]
             [--stop-on-eof] [-v]

writes the port to F (atomically) once listening, and with --stop-on-eof
exits when its standard input closes (the test that started it died).
With --tls-port-file (or Server(tls=True)) a second, HTTPS listener serves
the same files and counts into the same statistics, with a self-signed
certificate for localhost / 127.0.0.1 made at start (needs the openssl
command); a client must skip verification or trust srv.cert_file.

An in-memory file may be added under a path with a query ("/feed/?paged=2"):
that request target is served as it is, and another query on the same path
gets 404, as WordPress answers ?paged=N past its last page.  The requests
statistic is the log of request targets in the order they arrived.

Files (from memory or under root) are served with a strong ETag and a
Last-Modified, answer If-None-Match / If-Modified-Since with 304, and are
gzip-encoded when the client accepts gzip.  Fault endpoints, all under /_/:

    /_/status/CODE[?retry_after=V]     that status, a short text body
    /_/redirect/CODE/REST              CODE with Location: /REST (chains compose)
    /_/redirect/CODE?to=URL            CODE with Location: URL (e.g. file:///etc/passwd)
    /_/loop                            301 to itself, forever
    /_/slow/SECS/REST                  sleep SECS, then serve /REST
    /_/drip?n=N&delay=S                N bytes (Content-Length N), one every S seconds
    /_/big?size=N                      N bytes, chunked, no Content-Length
    /_/bomb?size=N                     gzip of N zero bytes (small on the wire)
    /_/echo                            the request headers as JSON
    /_/hang                            accept, read the request, never answer

Statistics (these requests are not counted):

    /_stats        JSON: count and status per path, max_active (concurrent
                   requests, overall and per Host header), connections,
                   requests (path + conditional/encoding/agent headers)
    /_stats.txt    the same as "key ... value" lines, easy to scan from C
    /_reset        clear the statistics
"""

import argparse
import email.utils
import gzip
import hashlib
import http.server
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REASONS = http.server.BaseHTTPRequestHandler.responses
LOGGED_HEADERS = ("If-None-Match", "If-Modified-Since", "Accept-Encoding",
                  "User-Agent", "Host")


class Stats:
    """Counters shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.gen = 0
        self.reset()

    def reset(self):
        """Clear the counters; requests still in flight no longer count."""
        with self.lock:
            self.gen += 1
            self.active = 0
            self.active_host = {}
            self.count = {}
            self.status = {}
            self.max_active = 0
            self.max_active_host = {}
            self.connections = 0
            self.requests = []

    def begin(self, path, host, headers):
        with self.lock:
            self.count[path] = self.count.get(path, 0) + 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            n = self.active_host.get(host, 0) + 1
            self.active_host[host] = n
            self.max_active_host[host] = max(self.max_active_host.get(host, 0), n)
            if len(self.requests) < 10000:
                self.requests.append({"path": path, "headers": headers})
            return self.gen

    def answered(self, gen, path, code):
        """Counted before the answer goes out, so a client sees it at once."""
        with self.lock:
            if gen != self.gen:
                return
            per = self.status.setdefault(path, {})
            per[str(code)] = per.get(str(code), 0) + 1

    def end(self, gen, host):
        with self.lock:
            if gen != self.gen:
                return
            self.active -= 1
            self.active_host[host] -= 1

    def connected(self):
        with self.lock:
            self.connections += 1

    def snapshot(self):
        with self.lock:
            return {
                "count": dict(self.count),
                "status": {p: dict(s) for p, s in self.status.items()},
                "max_active": self.max_active,
                "max_active_host": dict(self.max_active_host),
                "connections": self.connections,
                "requests": list(self.requests),
            }


def stats_text(s):
    lines = ["max_active %d" % s["max_active"], "connections %d" % s["connections"]]
    lines += ["max_active_host %s %d" % kv for kv in sorted(s["max_active_host"].items())]
    lines += ["count %s %d" % kv for kv in sorted(s["count"].items())]
    for path, codes in sorted(s["status"].items()):
        lines += ["status %s %s %d" % (path, c, n) for c, n in sorted(codes.items())]
    for r in s["requests"]:
        for k, v in r["headers"].items():
            lines.append("header %s %s %s" % (r["path"], k, v))
    return "\n".join(lines) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tidings-test-httpd"
    sys_version = ""

    def setup(self):
        super().setup()
        self.server.stats.connected()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("httpd: %s\n" % (fmt % args))

    # -- plumbing -----------------------------------------------------------
    def respond(self, code):
        if getattr(self, "gen", None) is not None:
            self.server.stats.answered(self.gen, self.path, code)
        self.send_response(code)

    def send(self, code, body=b"", ctype="text/plain", headers=()):
        self.respond(code)
        for k, v in headers:
            self.send_header(k, v)
        if code != 304:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 304 and self.command != "HEAD":
            self.wfile.write(body)

    def accepts_gzip(self):
        ae = self.headers.get("Accept-Encoding", "")
        return any(t.split(";")[0].strip() == "gzip" for t in ae.split(","))

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path in ("/_stats", "/_stats.txt", "/_reset"):
            self.gen = None
            return self.stats_endpoint(url.path)
        host = self.headers.get("Host", "")
        logged = {k: self.headers[k] for k in LOGGED_HEADERS if k in self.headers}
        self.gen = self.server.stats.begin(self.path, host, logged)
        try:
            self.dispatch(url.path, urllib.parse.parse_qs(url.query))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            self.server.stats.end(self.gen, host)
            self.gen = None

    def stats_endpoint(self, path):
        if path == "/_reset":
            self.server.stats.reset()
            return self.send(200, b"ok\n")
        snap = self.server.stats.snapshot()
        if path == "/_stats":
            return self.send(200, json.dumps(snap, indent=1).encode(), "application/json")
        return self.send(200, stats_text(snap).encode())

    def dispatch(self, path, q):
        if path.startswith("/_/"):
            parts = path[3:].split("/", 1)
            fn = getattr(self, "ep_" + parts[0], None)
            if fn is not None:
                return fn(parts[1] if len(parts) > 1 else "", q)
        return self.serve_file(self.query_target(path))

    def query_target(self, path):
        """The file key for this request: its target when files were added with queries."""
        if self.path in self.server.files:
            return self.path
        if "?" in self.path and any(k.startswith(path + "?") for k in self.server.files):
            return self.path    # not there: 404
        return path

    # -- files ---------------------------------------------------------------
    def lookup(self, path):
        """(body, mtime, ctype) of an in-memory or on-disk file, or None."""
        mem = self.server.files.get(path)
        if mem is not None:
            return mem
        root = self.server.root
        if root is None:
            return None
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not full.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            body = f.read()
        ctype = "application/json" if full.endswith(".json") else "application/xml"
        return body, os.path.getmtime(full), ctype

    def serve_file(self, path):
        found = self.lookup(path)
        if found is None:
            return self.send(404, b"not found\n")
        body, mtime, ctype = found
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        lastmod = email.utils.formatdate(int(mtime), usegmt=True)
        hdrs = [("ETag", etag), ("Last-Modified", lastmod), ("Vary", "Accept-Encoding")]
        if self.not_modified(etag, int(mtime)):
            return self.send(304, headers=hdrs)
        if self.accepts_gzip():
            body = gzip.compress(body)
            hdrs.append(("Content-Encoding", "gzip"))
        self.send(200, body, ctype, hdrs)

    def not_modified(self, etag, mtime):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or "W/" + etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims is None:
            return False
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
        return mtime <= since

    # -- fault endpoints -----------------------------------------------------
    def ep_status(self, rest, q):
        code = int(rest.split("/")[0] or 500)
        hdrs = [("Retry-After", v) for v in q.get("retry_after", [])]
        self.send(code, b"%d %s\n" % (code, REASONS.get(code, ("?",))[0].encode()), headers=hdrs)

    def ep_redirect(self, rest, q):
        code, _, target = rest.partition("/")
        loc = q["to"][0] if "to" in q else "/" + target
        self.send(int(code), b"see other\n", headers=[("Location", loc)])

    def ep_loop(self, rest, q):
        self.send(301, b"again\n", headers=[("Location", "/_/loop")])

    def ep_slow(self, rest, q):
        secs, _, target = rest.partition("/")
        time.sleep(float(secs))
        self.serve_file("/" + target)

    def ep_drip(self, rest, q):
        n = int(q.get("n", ["10"])[0])
        delay = float(q.get("delay", ["1"])[0])
        self.respond(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        for _ in range(n):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(delay)

    def ep_big(self, rest, q):
        size = int(q.get("size", ["1048576"])[0])
        self.respond(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        while size > 0:
            part = chunk[:size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            size -= len(part)
        self.wfile.write(b"0\r\n\r\n")

    def ep_bomb(self, rest, q):
        size = int(q.get("size", ["52428800"])[0])
        body = self.server.bomb(size)
        self.send(200, body, "application/xml", [("Content-Encoding", "gzip")])

    def ep_echo(self, rest, q):
        self.send(200, json.dumps(dict(self.headers.items())).encode(), "application/json")

    def ep_hang(self, rest, q):
        self.close_connection = True
        while not self.server.stopping.wait(0.2):
            pass


class HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, root, verbose):
        super().__init__(addr, Handler)
        self.root = root
        self.verbose = verbose
        self.files = {}
        self.stats = Stats()
        self.stopping = threading.Event()
        self.bombs = {}

    def handle_error(self, request, client_address):
        """Clients that hang up early (size caps, timeouts) are expected."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def bomb(self, size):
        if size not in self.bombs:
            self.bombs[size] = gzip.compress(b"\0" * size, 9)
        return self.bombs[size]


class TLSServer(HTTPServer):
    """HTTPS; the handshake runs in the request's thread, not the accept loop."""

    def __init__(self, addr, root, verbose, ctx):
        super().__init__(addr, root, verbose)
        self.ctx = ctx

    def get_request(self):
        sock, addr = super().get_request()
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            super().finish_request(request, client_address)
        except (ssl.SSLError, OSError):
            pass    # a client that rejected our certificate: expected


def make_cert(folder):
    """A self-signed EC certificate for localhost and 127.0.0.1."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "7",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Server:
    """A started-on-demand test server on 127.0.0.1 (see the module doc)."""

    def __init__(self, root=None, host="127.0.0.1", port=0, verbose=False, tls=False):
        if not host.startswith("127."):
            raise ValueError("tests only listen on 127.0.0.0/8")
        self.httpd = HTTPServer((host, port), root, verbose)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.servers = [self.httpd]
        self.tls_port = None
        self.cert_file = None
        self.tmp = None
        if tls:
            self.tmp = tempfile.mkdtemp(prefix="tidings-httpd-")
            self.cert_file, key = make_cert(self.tmp)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert_file, key)
            ctx.set_alpn_protocols(["http/1.1"])
            https = TLSServer((host, 0), root, verbose, ctx)
            https.files = self.httpd.files       # one set of files ...
            https.stats = self.httpd.stats       # ... and of statistics
            https.stopping = self.httpd.stopping
            self.tls_port = https.server_address[1]
            self.servers.append(https)

    def start(self):
        for s in self.servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.stopping.set()
        for s in self.servers:
            s.shutdown()
            s.server_close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path="/", tls=False):
        if tls:
            return "https://%s:%d%s" % (self.host, self.tls_port, path)
        return "http://%s:%d%s" % (self.host, self.port, path)

    def add(self, path, body, ctype="application/xml", mtime=None):
        """Serve body (bytes or str) at path; mtime drives Last-Modified."""
        if isinstance(body, str):
            body = body.encode()
        self.httpd.files[path] = (body, time.time() if mtime is None else mtime, ctype)

    def stats(self):
        return self.httpd.stats.snapshot()

    def reset(self):
        self.httpd.stats.reset()


def write_port(path, port):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description="tidings test HTTP server (127.0.0.1)")
    ap.add_argument("--root", help="serve files under this folder")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--tls-port-file", help="also serve HTTPS; write its port here")
    ap.add_argument("--stop-on-eof", action="store_true",
                    help="exit when standard input reaches end of file")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))   # clean up on kill
    srv = Server(a.root, a.host, a.port, a.verbose, tls=bool(a.tls_port_file)).start()
    if a.tls_port_file:
        write_port(a.tls_port_file, srv.tls_port)
    if a.port_file:
        write_port(a.port_file, srv.port)   # last: the signal that all is up
    else:
        print(srv.port, flush=True)
    try:
        if a.stop_on_eof:
            while sys.stdin.buffer.read(4096):
                pass
        else:
            threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    srv.stop()


if __name__ == "__main__":
    main()
