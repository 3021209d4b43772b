"""A private Postfix instance for tidings' tests and benchmarks (127.0.0.1).

    from postfix import Postfix
    with Postfix(folder) as pf:     # needs root and the postfix, sasl2-bin packages
        ... send to localhost:pf.port, STARTTLS (CA: pf.ca), AUTH me / s3cret ...
        pf.wait_messages(3, timeout=60)
        pf.maildir_files(); pf.log()

Its own config directory (postfix -c DIR), queue and data directories, so
the system's Postfix (if any) is untouched.  smtpd listens on a free port of
127.0.0.1 with STARTTLS (the test CA's certificate for localhost), AUTH
through Cyrus SASL's sasldb (mechanisms PLAIN LOGIN CRAM-MD5 NTLM, NTLM
offered as Cyrus does by default), reject_non_fqdn_helo_hostname, and
delivers every address @example.org into the Maildir FOLDER/mail/inbox/
as the user nobody.  The log is FOLDER/maillog.
"""
import os
import pwd
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import certs  # noqa: E402
from smtpd import free_port  # noqa: E402

USER, PASSWORD, REALM = "me", "s3cret", "example.test"


def available():
    """Why a Postfix instance cannot run here, or None."""
    for tool in ("/usr/sbin/postfix", "/usr/sbin/saslpasswd2"):
        if not os.path.exists(tool):
            return f"{tool} is missing (install postfix and sasl2-bin: .ci/packages)"
    if os.geteuid() != 0:
        return "Postfix needs root to start"
    return None


class Postfix:
    def __init__(self, folder, port=None):
        self.folder = os.path.abspath(folder)
        self.etc = os.path.join(self.folder, "etc")
        self.mail = os.path.join(self.folder, "mail")
        self.port = port or free_port()
        self.ca = None
        self.started = False

    def _main_cf(self, cert, key):
        nobody = pwd.getpwnam("nobody")
        d = self.folder
        return f"""compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
myhostname = mx.example.test
mydomain = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
virtual_mailbox_domains = example.org
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
virtual_minimum_uid = 1
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = {REALM}
cyrus_sasl_config_path = {self.etc}/sasl
smtpd_helo_required = yes
smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtpd_client_connection_count_limit = 100
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
anvil_rate_time_unit = 60s
default_process_limit = 100
message_size_limit = 10240000
"""

    def _master_cf(self):
        """Debian's services, none chrooted, smtpd on our port only."""
        out = []
        with open("/etc/postfix/master.cf") as f:
            for line in f:
                w = line.split()
                if not w or line[0] in "# \t":
                    continue
                if w[0] == "smtp" and w[1] == "inet":
                    w[0] = f"127.0.0.1:{self.port}"
                if len(w) >= 8 and w[1] in ("inet", "unix", "unix-dgram", "fifo", "pass"):
                    w[4] = "n"
                    out.append(" ".join(w))
        return "\n".join(out) + "\n"

    def start(self):
        why = available()
        if why:
            raise RuntimeError("cannot run Postfix: " + why)
        for sub in ("etc/sasl", "queue", "data", "mail"):
            os.makedirs(os.path.join(self.folder, sub), exist_ok=True)
        # Postfix's own users must reach it (a test's mkdtemp folder is 0700)
        for d in (os.path.dirname(self.folder), self.folder):
            os.chmod(d, os.stat(d).st_mode | 0o755)
        made = certs.make_certs(os.path.join(self.folder, "certs"))
        self.ca = made["ca"]
        cert, key = made["server"]
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        os.chmod(os.path.join(self.folder, "certs"), 0o755)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(self._main_cf(cert, key))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(self._master_cf())
        sasldb = os.path.join(self.etc, "sasldb2")
        with open(os.path.join(self.etc, "sasl", "smtpd.conf"), "w") as f:
            f.write(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    f"mech_list: NTLM CRAM-MD5 PLAIN LOGIN\nsasldb_path: {sasldb}\n")
        subprocess.run(["/usr/sbin/saslpasswd2", "-p", "-c", "-f", sasldb, "-u", REALM, USER],
                       input=PASSWORD.encode(), check=True)
        shutil.chown(sasldb, "postfix", "postfix")
        os.chmod(sasldb, 0o640)
        for cmd in (["set-permissions"], ["start"]):
            r = subprocess.run(["/usr/sbin/postfix", "-c", self.etc] + cmd,
                               capture_output=True, text=True)
            if r.returncode != 0 and cmd == ["start"]:
                raise RuntimeError(f"postfix {cmd[0]} failed: {r.stdout}{r.stderr}{self.log()}")
        self.started = True
        self._wait_listening()
        return self

    def _wait_listening(self):
        import socket
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.recv(100)
                    s.sendall(b"QUIT\r\n")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("postfix did not start listening:\n" + self.log())

    def stop(self):
        if self.started:
            subprocess.run(["/usr/sbin/postfix", "-c", self.etc, "stop"], capture_output=True)
            self.started = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        try:
            with open(os.path.join(self.folder, "maillog"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def maildir_files(self):
        box = os.path.join(self.mail, "inbox", "new")
        try:
            return [os.path.join(box, n) for n in sorted(os.listdir(box))]
        except FileNotFoundError:
            return []

    def wait_messages(self, n, timeout=120):
        """Postfix delivers after it accepted: wait until n are in the Maildir."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.maildir_files()) >= n:
                return True
            time.sleep(0.2)
        return False
