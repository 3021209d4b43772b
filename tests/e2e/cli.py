"""End-to-end: the command line itself (help, version, usage errors), and a
configuration error reaching the exit status.  The commands' own work is
tested by their modules."""
import os
import subprocess
import sys
import tempfile
import unittest

TIDINGS = os.environ.get("TIDINGS", "./tidings")
COMMANDS = ["run", "check", "feeds", "preview", "catch-up", "parse",
            "import-opml", "export-opml", "add", "remove", "test-mail"]


def tidings(*args, cwd=None):
    return subprocess.run([TIDINGS, *args], capture_output=True, text=True,
                          timeout=20, cwd=cwd)


class Help(unittest.TestCase):
    def test_every_command_has_help(self):
        for cmd in COMMANDS:
            for args in ([cmd, "--help"], [cmd, "-h"], ["--help", cmd]):
                r = tidings(*args)
                self.assertEqual(r.returncode, 0, args)
                self.assertIn("usage: tidings", r.stdout, args)
                self.assertIn(cmd, r.stdout.splitlines()[0], args)
                self.assertEqual(r.stderr, "", args)

    def test_command_help_lists_only_its_options(self):
        r = tidings("preview", "--help")
        self.assertIn("--html FILE", r.stdout)
        self.assertNotIn("--json", r.stdout)
        r = tidings("parse", "--help")
        self.assertIn("--json", r.stdout)
        self.assertNotIn("--html", r.stdout)

    def test_general_help(self):
        r = tidings("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in COMMANDS:
            self.assertIn("  " + cmd + " ", r.stdout)
        self.assertIn("78 configuration error", r.stdout)

    def test_version(self):
        r = tidings("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^tidings \d+\.\d+\.\d+\n$")


class UsageErrors(unittest.TestCase):
    CASES = [
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["-x", "check"], "unknown option '-x'"),
        (["check", "-c"], "option needs a value: '-c'"),
        (["parse", "--html", "out.html", "feed.xml"], "--html does not go with 'parse'"),
        (["check", "--json"], "--json does not go with 'check'"),
        (["--to", "a@example.org"], "--to goes only with --since or preview"),
        (["run", "--to", "a@example.org", "-S", "x"], "--to goes only with"),
        (["check", "extra"], "unexpected operand 'extra'"),
        (["export-opml", "x"], "unexpected operand 'x'"),
        (["preview", "a", "b"], "unexpected operand 'b'"),
        (["catch-up", "a", "b"], "unexpected operand 'b'"),
        (["import-opml"], "one operand needed"),
        (["import-opml", "a", "b"], "unexpected operand 'b'"),
        (["parse"], "operands needed"),
        (["-v", "-q", "check"], "-v and -q contradict"),
        (["feeds", "-n"], "--dry-run does not go with 'feeds'"),
        (["import-opml", "-c", "x.conf", "f.opml"], "--config does not go with 'import-opml'"),
        (["add", "name"], "operands needed"),
        (["add", "a", "http://x/", "extra"], "unexpected operand 'extra'"),
        (["remove"], "one operand needed"),
        (["run", "--tags", "a"], "--tags does not go with 'run'"),
        (["test-mail", "x"], "unexpected operand 'x'"),
        (["--version", "extra"], "unexpected operand 'extra'"),
        (["preview", "--to", "a@b.c, d@e.f"], "--to takes one email address, not 'a@b.c, d@e.f'"),
        (["preview", "--to", "a\x1b[2J@b.c"], "--to takes one email address, not 'a\\x1B[2J@b.c'"),
    ]

    def test_usage_errors_exit_64_with_one_line(self):
        for args, msg in self.CASES:
            r = tidings(*args)
            self.assertEqual(r.returncode, 64, (args, r.stderr))
            self.assertEqual(r.stdout, "", args)
            lines = r.stderr.splitlines()
            self.assertEqual(len(lines), 1, (args, r.stderr))
            self.assertIn(msg, lines[0], args)
            self.assertIn("--help'", lines[0], args)


class ParseExit(unittest.TestCase):
    def test_network_trouble_is_temporary(self):
        """A server that cannot be reached may be back later: 75, not 66
        (which stays for a file that is not there)."""
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]   # closed once the with ends: refused
        r = tidings("parse", f"http://127.0.0.1:{port}/feed.xml")
        self.assertEqual(r.returncode, 75, r.stderr)
        r = tidings("parse", "/nonexistent/feed.xml")
        self.assertEqual(r.returncode, 66, r.stderr)


class CheckProvesWhatRunsNeed(unittest.TestCase):
    """`check` fails, naming file:line, on what would fail every run."""
    SRC = os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))

    def conf(self, d, extra, sub_extra=""):
        path = os.path.join(d, "t.conf")
        with open(path, "w") as f:
            f.write('from = "a@example.org"\ntemplates = "%s"\nstate = "%s"\n%s\n'
                    'feed x { url = "https://x.example/feed" }\n'
                    'subscription me {\n  to = {"me@example.org"}\n%s}\n'
                    % (os.path.join(self.SRC, "templates"), os.path.join(d, "st", "state"),
                       extra, sub_extra))
        return path

    def fails(self, path, cmd, line, what, code=78):
        r = tidings("-c", path, cmd)
        self.assertEqual(r.returncode, code, (cmd, r.stderr))
        self.assertIn(f"{path}:{line}: {what}", r.stderr, cmd)

    def test_missing_mbox_folder(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.conf(d, f'deliver = "mbox:{d}/nowhere/mbox"')
            for cmd in ("check", "run"):
                self.fails(path, cmd, 4, f"deliver: folder {d}/nowhere: No such file or directory")

    def test_ca_file_that_is_no_certificate(self):
        with tempfile.TemporaryDirectory() as d:
            ca = os.path.join(d, "ca.pem")
            with open(ca, "w") as f:
                f.write("not a certificate\n")
            path = self.conf(d, 'smtp {\n  host = "localhost"\n  ca-file = "%s"\n}' % ca)
            for cmd in ("check", "run"):
                self.fails(path, cmd, 6, f"ca-file {ca}: no PEM certificate in it")

    def test_list_unsubscribe_the_message_writer_refuses(self):
        with tempfile.TemporaryDirectory() as d:
            path = self.conf(d, 'deliver = "stdout"',
                             '  list-unsubscribe = "mailto:a@example.org?subject=un subscribe"\n')
            for cmd in ("check", "run"):
                self.fails(path, cmd, 8, 'list-unsubscribe "mailto:a@example.org?subject=un')

    def test_state_folder_that_cannot_be_written(self):
        """As root (which permissions do not stop) the folder is a read-only tmpfs."""
        with tempfile.TemporaryDirectory() as d:
            st = os.path.join(d, "st")
            os.mkdir(st)
            path = self.conf(d, 'deliver = "stdout"')
            root = os.geteuid() == 0
            if root:
                subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tidings-cli", st],
                               check=True)
            else:
                os.chmod(st, 0o500)
            try:
                r = tidings("-c", path, "check")
            finally:
                if root:
                    subprocess.run(["umount", st], check=True)
                os.chmod(st, 0o700)
            self.assertEqual(r.returncode, 73, r.stderr)
            self.assertRegex(r.stderr, rf"^tidings: {path}: the state cannot be saved: cannot "
                             rf"create {st}/state\.tmp\.\w{{6}}: "
                             r"(Read-only file system|Permission denied)\n$")


class ConfigErrors(unittest.TestCase):
    def test_config_error_exits_78_with_file_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.conf")
            with open(path, "w") as f:
                f.write('from = "a@example.org"\n# a comment\nfroom = "x"\n'
                        'feed a {\n  url = "gopher://x/"\n  tgas = {"b"}\n}\n')
            r = tidings("-c", path, "export-opml")
            self.assertEqual(r.returncode, 78)
            self.assertEqual(r.stdout, "")
            self.assertIn(path + ":3: no such option 'froom' (did you mean 'from'?)",
                          r.stderr)
            self.assertIn(path + ":6: no such option 'tgas' (did you mean 'tags'?)",
                          r.stderr)

    def test_missing_config_exits_78(self):
        r = tidings("-c", "/nonexistent/tidings.conf", "export-opml")
        self.assertEqual(r.returncode, 78)
        self.assertIn("/nonexistent/tidings.conf", r.stderr)

    def test_default_config_path(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "tidings"))
            with open(os.path.join(d, "tidings", "tidings.conf"), "w") as f:
                f.write('from = "a@example.org"\ndeliver = "stdout"\n'
                        'feed x { url = "https://x.example/feed" }\n')
            env = dict(os.environ, XDG_CONFIG_HOME=d)
            r = subprocess.run([TIDINGS, "export-opml"], capture_output=True,
                               text=True, env=env, timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('xmlUrl="https://x.example/feed"', r.stdout)


class ManPages(unittest.TestCase):
    """The built man pages name this build's paths, the ones the binary uses."""
    BUILD = os.environ.get("TOP_BUILDDIR", ".")

    def page(self, name):
        with open(os.path.join(self.BUILD, "man", name)) as f:
            return f.read()

    def test_paths_are_the_builds(self):
        # --help names the system-wide config the binary falls back to.
        help_text = tidings("--help").stdout
        sysconf = help_text.split("then ", 1)[1].split("tidings.conf")[0]
        for name in ("tidings.1", "tidings.conf.5"):
            text = self.page(name)
            self.assertIn(sysconf + "tidings.conf", text, name)
            self.assertNotRegex(text, r"@[A-Z]+@", name)
        self.assertIn("/share/tidings/digest.txt", self.page("tidings.1"))

    def test_version_is_the_builds(self):
        version = tidings("--version").stdout.split()[1]
        for name in ("tidings.1", "tidings.conf.5", "tidings-state.5"):
            self.assertIn('"tidings %s"' % version, self.page(name), name)


class ShippedConfigs(unittest.TestCase):
    """The configs in conf/ pass `check` (the example against the repo's
    templates: installed, it uses the installed ones)."""
    SRC = os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))

    def test_example_conf_checks(self):
        r = tidings("-c", os.path.join(self.SRC, "conf", "example.conf"), "check")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 feed, 1 subscription", r.stdout)

    def test_tidings_conf_example_checks(self):
        with tempfile.TemporaryDirectory() as d:
            conf = os.path.join(d, "tidings.conf")
            with open(os.path.join(self.SRC, "conf", "tidings.conf.example")) as f:
                text = f.read()
            with open(conf, "w") as f:
                f.write(text + '\ntemplates = "%s"\n' % os.path.join(self.SRC, "templates"))
            r = tidings("-c", conf, "check")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("subscription john", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
