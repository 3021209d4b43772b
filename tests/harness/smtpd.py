"""SMTP test server for tidings' tests (127.0.0.1 only), on aiosmtpd.

As a module:
    from smtpd import SmtpServer
    with SmtpServer(folder, starttls=True, auth="me:secret") as srv:
        ... send to 127.0.0.1:srv.port ...
        srv.messages()   # list of dicts: mail_from, rcpt_tos, data (bytes), session
        srv.events()     # every logged event (connect, ehlo, auth, message, ...)

As a script (for C tests):
    smtpd.py --dir FOLDER --port-file FILE [options]
prints the port to FILE once listening, writes each accepted message to
FOLDER/msg-N.eml and one JSON object per event to FOLDER/log.jsonl, and
stops on SIGTERM.

Options (keyword arguments of SmtpServer in brackets):
  --starttls            offer STARTTLS with the test CA's cert [starttls]
  --cert KIND           server (CA-signed, localhost+127.0.0.1), other
                        (CA-signed for other.example), self (self-signed) [cert]
  --require-starttls    refuse everything before STARTTLS [require_starttls]
  --auth USER:PASS      offer AUTH PLAIN and LOGIN [auth]
  --auth-required       530 without AUTH [auth_required]
  --rcpt ADDR=CODE      answer CODE to RCPT TO:<ADDR> (451, 550) [rcpt]
  --data-code CODE      answer CODE after DATA (451, 554) [data_code]
  --mode MODE           smtp (default), greet421, nogreet (accepts TCP, never
                        speaks), dropdata (drops the connection mid-DATA),
                        raw (a plain-socket server with the options below),
                        ehloforever (answers EHLO with 250-x lines, 100 a
                        second, forever),
                        drip (sends its greeting a byte every 2 s) [mode]
  --limit K             raw: 452 4.5.3 to MAIL after K messages in a session
                        (OpenSMTPD's per-session limit) [limit]
  --close-after K       raw: close the connection after K messages [close_after]
  --mechs "M1 M2"       raw: AUTH mechanisms offered, in that order; PLAIN,
                        LOGIN and XOAUTH2 are checked against --auth (the
                        bearer token is the password), others fail [mechs]
  --size-limit N        raw: offer SIZE N; 552 to MAIL with a larger SIZE= [size_limit]
  --tls13               TLS 1.3 only, with session tickets [tls13]
  --implicit-tls        TLS from the first byte (port 465 style) [implicit_tls]
  --delay SECONDS       wait this long before answering the end of DATA
                        (the message is saved first) [delay]
  --certs-dir DIR       where the test CA and certificates are made (or
                        reused); default FOLDER/certs.  ca.pem is the CA [certs_dir]
"""
import argparse
import asyncio
import base64
import itertools
import json
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import time
import warnings

warnings.filterwarnings("ignore")
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import certs  # noqa: E402

MESSAGES = {
    "421": "421 4.3.2 Service not available, closing channel",
    "451": "451 4.3.0 Local error in processing, try again",
    "550": "550 5.1.1 No such user here",
    "554": "554 5.6.0 Message rejected as spam",
}


def _angle(line):
    text = line.decode("ascii", "replace")
    return text[text.find("<") + 1:text.rfind(">")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self, folder, starttls=False, cert="server", require_starttls=False,
                 auth=None, auth_required=False, rcpt=None, data_code=None,
                 mode="smtp", port=None, certs_dir=None, drop_after=0, limit=0,
                 close_after=0, mechs=None, size_limit=0, tls13=False, implicit_tls=False,
                 delay=0):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.opts = dict(starttls=starttls, cert=cert, require_starttls=require_starttls,
                         auth=auth, auth_required=auth_required, rcpt=rcpt or {},
                         data_code=data_code, mode=mode, drop_after=drop_after,
                         limit=limit, close_after=close_after, mechs=mechs,
                         size_limit=size_limit, tls13=tls13, implicit_tls=implicit_tls,
                         delay=delay)
        self.certs_dir = certs_dir or os.path.join(folder, "certs")
        self.port = port or free_port()
        self.ca = None
        self._lock = threading.Lock()
        self._n = itertools.count(1)
        self._msgno = itertools.count(1)
        self._sessions = {}
        self._controller = None
        self._raw = None

    # -- logging, shared by both server kinds --
    def log(self, **ev):
        with self._lock:
            with open(os.path.join(self.folder, "log.jsonl"), "a") as f:
                f.write(json.dumps(ev) + "\n")

    def events(self):
        try:
            with open(os.path.join(self.folder, "log.jsonl")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def messages(self):
        out = []
        for ev in self.events():
            if ev.get("event") == "message":
                with open(os.path.join(self.folder, ev["file"]), "rb") as f:
                    out.append(dict(ev, data=f.read()))
        return out

    def _save(self, session, data, mail_from, rcpts, **extra):
        name = "msg-%d.eml" % next(self._msgno)
        with open(os.path.join(self.folder, name), "wb") as f:
            f.write(data)
        self.log(event="message", session=session, file=name, mail_from=mail_from,
                 rcpt_tos=rcpts, **extra)

    def session_no(self, session):
        with self._lock:
            # one number per connection (STARTTLS makes a new session object)
            key = tuple(session.peer) if session.peer else id(session)
            return self._sessions.setdefault(key, len(self._sessions) + 1)

    # -- start / stop --
    def start(self):
        if self.opts["mode"] == "smtp":
            self._start_aiosmtpd()
        else:
            self._start_raw()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._raw is not None:
            self._raw_stop = True
            try:
                self._raw.close()
            except OSError:
                pass
            self._raw = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _tls_context(self):
        made = certs.make_certs(self.certs_dir)
        self.ca = made["ca"]
        pem, key = made[self.opts["cert"]]
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(pem, key)
        if self.opts["tls13"]:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        else:
            ctx.num_tickets = 0

        def sni(sslobj, name, _ctx):
            self.log(event="sni", name=name)
        ctx.sni_callback = sni
        return ctx

    def _start_aiosmtpd(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        srv = self
        o = self.opts

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                session.host_name = hostname
                srv.log(event="ehlo", session=srv.session_no(session), name=hostname,
                        tls=session.ssl is not None)
                return responses

            async def handle_MAIL(self, server, session, envelope, address, options):
                srv.log(event="mail", session=srv.session_no(session), address=address,
                        authenticated=bool(session.authenticated))
                envelope.mail_from = address
                envelope.mail_options.extend(options)
                return "250 OK"

            async def handle_RCPT(self, server, session, envelope, address, options):
                code = o["rcpt"].get(address)
                srv.log(event="rcpt", session=srv.session_no(session), address=address,
                        code=int(code) if code else 250)
                if code:
                    return MESSAGES.get(code, code + " refused")
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if o["data_code"]:
                    srv.log(event="data-refused", session=srv.session_no(session),
                            code=int(o["data_code"]))
                    return MESSAGES[o["data_code"]]
                srv._save(srv.session_no(session), envelope.original_content,
                          envelope.mail_from, envelope.rcpt_tos,
                          tls=session.ssl is not None,
                          authenticated=bool(session.authenticated))
                if o["delay"]:
                    await asyncio.sleep(o["delay"])
                return "250 Message accepted for delivery"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = False
            user = None
            if isinstance(auth_data, LoginPassword):
                user = auth_data.login.decode("utf-8", "replace")
                want = o["auth"].split(":", 1)
                ok = [user, auth_data.password.decode("utf-8", "replace")] == want
            srv.log(event="auth", session=srv.session_no(session), mechanism=mechanism,
                    user=user, ok=ok)
            # handled=False: with the default (True) aiosmtpd never replies
            return AuthResult(success=ok, handled=False)

        kw = dict(hostname="127.0.0.1", port=self.port, server_hostname="localhost",
                  ready_timeout=10)
        if o["implicit_tls"]:
            kw["ssl_context"] = self._tls_context()
        elif o["starttls"] or o["require_starttls"]:
            kw["tls_context"] = self._tls_context()
            kw["require_starttls"] = o["require_starttls"]
        if o["auth"]:
            kw["authenticator"] = authenticator
            kw["auth_required"] = o["auth_required"]
            kw["auth_require_tls"] = False
        elif o["auth_required"]:
            kw["authenticator"] = lambda *a: AuthResult(success=False, handled=False)
            kw["auth_required"] = True
            kw["auth_require_tls"] = False
        self._controller = Controller(Handler(), **kw)
        self._controller.start()

    # -- the misbehaving servers: plain sockets, one thread per client --
    def _start_raw(self):
        self._raw_stop = False
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(8)
        self._raw = s
        threading.Thread(target=self._accept_loop, args=(s,), daemon=True).start()

    def _accept_loop(self, s):
        while not self._raw_stop:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self._raw_client, args=(c,), daemon=True).start()

    def _raw_client(self, c):
        mode = self.opts["mode"]
        sess = next(self._n)
        self.log(event="connect", session=sess, mode=mode)
        f = c.makefile("rb")
        try:
            if mode == "drip":
                for b in b"220 localhost ESMTP slowly\r\n":
                    if self._raw_stop:
                        return
                    c.sendall(bytes([b]))
                    time.sleep(2)
                return
            if mode == "nogreet":
                c.recv(1024)        # wait for the client to give up
                return
            if mode == "greet421":
                c.sendall(MESSAGES["421"].encode() + b"\r\n")
                return
            c.sendall(b"220 localhost ESMTP raw test server\r\n")
            accepted, mail_from, rcpts = 0, None, []
            for line in f:
                cmd = line[:4].upper()
                self.log(event="command", session=sess,
                         line=line.decode("ascii", "replace").rstrip()
                         if cmd != b"AUTH" else "AUTH " + line.split()[1].decode())
                if cmd == b"EHLO" and mode == "ehloforever":
                    c.sendall(b"250-localhost\r\n")
                    while not self._raw_stop:    # 100 lines a second, never the last
                        c.sendall(b"250-x\r\n")
                        time.sleep(0.01)
                    return
                if cmd == b"EHLO":
                    c.sendall(self._ehlo_reply())
                elif cmd == b"AUTH":
                    self._raw_auth(c, f, sess, line)
                elif cmd == b"MAIL" and self.opts["limit"] and accepted >= self.opts["limit"]:
                    c.sendall(b"452 4.5.3 Too many messages in this session\r\n")
                elif cmd == b"MAIL" and self._too_big(line):
                    c.sendall(b"552 5.3.4 Message size exceeds fixed limit\r\n")
                elif cmd == b"DATA" and (mode != "dropdata" or self.opts["drop_after"] > accepted):
                    c.sendall(b"354 go ahead\r\n")
                    data = []
                    for dl in f:
                        if dl == b".\r\n":
                            break
                        data.append(dl[1:] if dl.startswith(b".") else dl)
                    accepted += 1
                    self._save(sess, b"".join(data), mail_from, rcpts)
                    rcpts = []
                    c.sendall(b"250 accepted\r\n")
                    if self.opts["close_after"] and accepted >= self.opts["close_after"]:
                        self.log(event="closed", session=sess)
                        return
                elif cmd == b"DATA":
                    c.sendall(b"354 go ahead\r\n")
                    f.readline()    # one line of the message, then vanish
                    self.log(event="dropped", session=sess)
                    return
                elif cmd == b"MAIL":
                    mail_from = _angle(line)
                    c.sendall(b"250 OK\r\n")
                elif cmd == b"RCPT":
                    rcpts.append(_angle(line))
                    c.sendall(b"250 OK\r\n")
                elif cmd == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    return
                else:
                    c.sendall(b"250 OK\r\n")
        except OSError:
            pass
        finally:
            f.close()
            c.close()

    def _ehlo_reply(self):
        lines = [b"localhost", b"8BITMIME"]
        if self.opts["size_limit"]:
            lines.append(b"SIZE %d" % self.opts["size_limit"])
        if self.opts["mechs"]:
            lines.append(b"AUTH " + self.opts["mechs"].encode())
        return b"".join(b"250%s%s\r\n" % (b"-" if i + 1 < len(lines) else b" ", x)
                        for i, x in enumerate(lines))

    def _too_big(self, line):
        for word in line.split()[1:]:
            if word.upper().startswith(b"SIZE="):
                return self.opts["size_limit"] and int(word[5:]) > self.opts["size_limit"]
        return False

    def _raw_auth(self, c, f, sess, line):
        """PLAIN, LOGIN and XOAUTH2 checked against --auth; others refused."""
        words = line.split()
        mech = words[1].decode().upper()
        user, pw = (self.opts["auth"] or ":").split(":", 1)

        def ask(prompt):
            c.sendall(b"334 " + base64.b64encode(prompt) + b"\r\n")
            return base64.b64decode(f.readline().strip() or b"")
        first = base64.b64decode(words[2]) if len(words) > 2 else None
        if mech == "PLAIN":
            got = (first if first is not None else ask(b"")).split(b"\0")
            ok = got[1:] == [user.encode(), pw.encode()]
        elif mech == "LOGIN":
            u = first if first is not None else ask(b"Username:")
            ok = u == user.encode() and ask(b"Password:") == pw.encode()
        elif mech == "XOAUTH2":
            got = first if first is not None else ask(b"")
            ok = got == b"user=%s\x01auth=Bearer %s\x01\x01" % (user.encode(), pw.encode())
        else:
            ok = False
        self.log(event="auth", session=sess, mechanism=mech, ok=ok)
        c.sendall(b"235 2.7.0 Authentication successful\r\n" if ok else
                  b"535 5.7.8 Authentication credentials invalid (%s)\r\n" % mech.encode())


def main(argv=None):
    ap = argparse.ArgumentParser(description="SMTP test server (127.0.0.1)")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int)
    ap.add_argument("--certs-dir")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--cert", default="server", choices=["server", "other", "self"])
    ap.add_argument("--require-starttls", action="store_true")
    ap.add_argument("--auth")
    ap.add_argument("--auth-required", action="store_true")
    ap.add_argument("--rcpt", action="append", default=[])
    ap.add_argument("--data-code", choices=["451", "554"])
    ap.add_argument("--drop-after", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--close-after", type=int, default=0)
    ap.add_argument("--mechs")
    ap.add_argument("--size-limit", type=int, default=0)
    ap.add_argument("--tls13", action="store_true")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--mode", default="smtp",
                    choices=["smtp", "greet421", "nogreet", "dropdata", "raw",
                             "ehloforever", "drip"])
    a = ap.parse_args(argv)
    rcpt = dict(r.rsplit("=", 1) for r in a.rcpt)
    srv = SmtpServer(a.dir, starttls=a.starttls, cert=a.cert,
                     require_starttls=a.require_starttls, auth=a.auth,
                     auth_required=a.auth_required, rcpt=rcpt,
                     data_code=a.data_code, mode=a.mode, port=a.port,
                     certs_dir=a.certs_dir, drop_after=a.drop_after, limit=a.limit,
                     close_after=a.close_after, mechs=a.mechs, size_limit=a.size_limit,
                     tls13=a.tls13, implicit_tls=a.implicit_tls,
                     delay=a.delay)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    srv.start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.port)
    os.rename(tmp, a.port_file)
    while not stop.wait(0.2):
        pass
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
