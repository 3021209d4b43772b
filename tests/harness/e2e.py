"""e2e: what every end-to-end test of the real tidings binary needs.

    from e2e import Case, main
    def test_something(t):            # t is a Case: a temp dir + helpers
        t.serve("/feed.xml", data)    # the HTTP harness, on 127.0.0.1
        t.config(feeds=..., subs=...)
        r = t.run("run")              # the binary; asserts the exit status
        msgs = t.mbox()               # messages parsed with email's strict policy
    if __name__ == "__main__": main(globals())

Each test_* function runs in a fresh Case; failures are collected and the
script exits 1 if any test failed (automake counts the script once).
"""
import email
import email.policy
import mailbox
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

TIDINGS = os.environ.get("TIDINGS", "tidings")
SRCDIR = os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SEED = os.path.join(SRCDIR, "conf", "example-feed.xml")
TEMPLATES = os.path.join(SRCDIR, "templates")
VALGRIND = os.environ.get("TIDINGS_VALGRIND")  # e.g. "valgrind --error-exitcode=99 -q"


def seed_bytes():
    with open(SEED, "rb") as fh:
        return fh.read()


def q(s):
    """A libconfuse double-quoted string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def qlist(xs):
    return "{" + ", ".join(q(x) for x in xs) + "}"


class Case:
    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="tidings-e2e-")
        self.http = None
        self.smtp = None
        self.mbox_path = os.path.join(self.dir, "out.mbox")
        self.state_path = os.path.join(self.dir, "state")
        self.conf_path = os.path.join(self.dir, "tidings.conf")

    def close(self):
        if self.http:
            self.http.stop()
        if self.smtp:
            self.smtp.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- servers --
    def serve(self, path, body, **kw):
        self.http_server().add(path, body, **kw)
        return self.http.url(path)

    def http_server(self):
        """The HTTP harness server (started on first use)."""
        if self.http is None:
            from httpd import Server
            self.http = Server()
            self.http.start()
        return self.http

    # -- config --
    def config(self, feeds, subs, deliver=None, extra="", smtp=None):
        """feeds: {name: url or (url, {opt: value})}; subs: {name: {opt: value}}."""
        lines = ['from = "Tidings <tidings@example.org>"',
                 "state = " + q(self.state_path),
                 "templates = " + q(TEMPLATES),
                 "deliver = " + q(deliver or "mbox:" + self.mbox_path)]
        if smtp:
            lines.append("smtp {\n" + "\n".join(f"  {k} = {v}" for k, v in smtp.items()) + "\n}")
        lines.append(extra)
        for name, spec in feeds.items():
            url, opts = (spec, {}) if isinstance(spec, str) else spec
            body = [f"  url = {q(url)}"] + [f"  {k} = {v}" for k, v in opts.items()]
            lines.append(f"feed {name} {{\n" + "\n".join(body) + "\n}")
        for name, opts in subs.items():
            opts = dict(opts)
            opts.setdefault("to", qlist([f"{name}@example.org"]))
            opts.setdefault("first-run", q("0"))
            body = [f"  {k} = {v}" for k, v in opts.items()]
            lines.append(f"subscription {name} {{\n" + "\n".join(body) + "\n}")
        with open(self.conf_path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        return self.conf_path

    # -- the binary --
    def run(self, *args, expect=0, env=None, timeout=120):
        cmd = [TIDINGS, "-c", self.conf_path] + list(args)
        if VALGRIND:
            cmd = VALGRIND.split() + cmd
        r = subprocess.run(cmd, capture_output=True, timeout=timeout,
                           env=dict(os.environ, **(env or {})))
        r.out = r.stdout.decode("utf-8", "replace")
        r.err = r.stderr.decode("utf-8", "replace")
        if expect is not None and r.returncode != expect:
            raise AssertionError(f"{' '.join(args) or 'run'}: exit {r.returncode}, wanted {expect}\n"
                                 f"stderr: {r.err}\nstdout: {r.out[:2000]}")
        return r

    # -- reading results --
    def mbox(self, path=None):
        path = path or self.mbox_path
        if not os.path.exists(path):
            return []
        with open(path, "rb") as fh:
            return parse_mbox(fh.read())

    def state_lines(self):
        with open(self.state_path, encoding="utf-8") as fh:
            return fh.read().splitlines()


def items_in(subject):
    """How many items a default subject announces: "[sub] N new: ..." or "[sub] Title"."""
    m = re.match(r"\[[^\]]*\] (\d+) new: ", str(subject))
    assert m or str(subject).startswith("["), subject
    return int(m.group(1)) if m else 1


def parse_message(raw):
    """Parse with the strict policy: a defect is a failed test."""
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    return msg


def parse_mbox(data):
    msgs, cur = [], None
    for line in data.split(b"\n"):
        if line.startswith(b"From "):
            if cur is not None:
                msgs.append(cur)
            cur = []
            continue
        if cur is not None:
            if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                line = line[1:]  # mboxrd
            cur.append(line)
    if cur is not None:
        msgs.append(cur)
    out = []
    for lines in msgs:
        while lines and lines[-1] == b"":
            lines.pop()
        out.append(parse_message(b"\r\n".join(lines) + b"\r\n"))
    return out


def parts(msg):
    """(text, html) of a digest, decoded."""
    assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
    text = html = None
    for p in msg.iter_parts():
        if p.get_content_type() == "text/plain":
            text = p.get_content()
        elif p.get_content_type() == "text/html":
            html = p.get_content()
    assert text is not None and html is not None, "both parts"
    return text, html


def main(tests):
    names = [n for n in sorted(tests) if n.startswith("test_") and callable(tests[n])]
    only = sys.argv[1:]
    failed = 0
    for n in names:
        if only and n not in only:
            continue
        t = Case(n)
        try:
            tests[n](t)
            print(f"ok - {n}")
        except Exception:
            failed += 1
            print(f"FAIL - {n}")
            traceback.print_exc(file=sys.stdout)
        finally:
            t.close()
    print(f"{len(names) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
