"""Test certificates made with the openssl CLI (127.0.0.1 tests only).

make_certs(folder) writes, and returns the paths of:
  ca.pem / ca.key            a test CA
  server.pem / server.key    signed by the CA, SAN DNS:localhost, IP:127.0.0.1
  other.pem / other.key      signed by the CA, SAN DNS:other.example only
  self.pem / self.key        self-signed, SAN DNS:localhost, IP:127.0.0.1

Run as a script: python3 certs.py FOLDER
"""
import os
import subprocess
import sys

OPENSSL = "openssl"


def _run(*args):
    subprocess.run([OPENSSL, *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _ext(folder, name, san):
    path = os.path.join(folder, name + ".ext")
    with open(path, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=%s\n" % san)
    return path


def _leaf(folder, name, cn, san, ca=True):
    key = os.path.join(folder, name + ".key")
    pem = os.path.join(folder, name + ".pem")
    csr = os.path.join(folder, name + ".csr")
    _run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
         "-out", csr, "-subj", "/CN=" + cn)
    ext = _ext(folder, name, san)
    if ca:
        _run("x509", "-req", "-in", csr, "-CA", os.path.join(folder, "ca.pem"),
             "-CAkey", os.path.join(folder, "ca.key"), "-CAcreateserial",
             "-days", "30", "-sha256", "-extfile", ext, "-out", pem)
    else:
        _run("x509", "-req", "-in", csr, "-signkey", key, "-days", "30",
             "-sha256", "-extfile", ext, "-out", pem)
    return pem, key


def make_certs(folder):
    os.makedirs(folder, exist_ok=True)
    out = {}
    ca, cakey = os.path.join(folder, "ca.pem"), os.path.join(folder, "ca.key")
    if not os.path.exists(ca):
        _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cakey,
             "-out", ca, "-days", "30", "-subj", "/CN=tidings test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    out["ca"] = ca
    local = "DNS:localhost,IP:127.0.0.1"
    for name, cn, san, signed in (("server", "localhost", local, True),
                                  ("other", "other.example", "DNS:other.example", True),
                                  ("self", "localhost", local, False)):
        pem = os.path.join(folder, name + ".pem")
        key = os.path.join(folder, name + ".key")
        if not os.path.exists(pem):
            pem, key = _leaf(folder, name, cn, san, signed)
        out[name] = (pem, key)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: certs.py FOLDER")
    for k, v in make_certs(sys.argv[1]).items():
        print(k, v)
