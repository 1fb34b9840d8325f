"""Helpers of the certificate tests: `Pki` drives the openssl CLI (a CA, device
certificates, CRLs), `read`, `file_arg`, and `signed_post` for our extension routes."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

import ddserver

CONF = """[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}/newcerts
certificate = {d}/ca.pem
private_key = {d}/ca.key
serial = {d}/serial
crlnumber = {d}/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
organizationName = optional
"""


class Pki:
    """Certificate authorities, certificates and CRLs made with the openssl CLI in a
    temporary directory. Each CA is a directory usable by `openssl ca`."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ddpki-")
        self.n = 0

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def openssl(self, *args):
        p = subprocess.run(["openssl"] + list(args), capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError("openssl %s failed: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def path(self, name):
        self.n += 1
        return os.path.join(self.dir, "%d-%s" % (self.n, name))

    def key(self, bits=2048):
        k = self.path("key.pem")
        self.openssl("genrsa", "-out", k, str(bits))
        return k

    def csr(self, key, cn):
        c = self.path("req.csr")
        self.openssl("req", "-new", "-key", key, "-out", c, "-subj", "/O=Acme/CN=%s" % cn)
        return c

    def root(self, cn, bits=2048):
        """A self-signed CA; returns its directory (ca.pem, ca.key inside)."""
        d = self.path("ca")
        os.makedirs(os.path.join(d, "newcerts"))
        with open(os.path.join(d, "index.txt"), "w"):
            pass
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(d, "crlnumber"), "w") as f:
            f.write("01\n")
        with open(os.path.join(d, "openssl.cnf"), "w") as f:
            f.write(CONF.format(d=d))
        self.openssl("genrsa", "-out", os.path.join(d, "ca.key"), str(bits))
        self.openssl("req", "-x509", "-new", "-key", os.path.join(d, "ca.key"), "-out",
                     os.path.join(d, "ca.pem"), "-days", "365", "-subj", "/O=Acme/CN=%s" % cn,
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return d

    def intermediate(self, parent, cn):
        d = self.root(cn)  # directory layout and a key; the certificate is replaced below
        csr = self.csr(os.path.join(d, "ca.key"), cn)
        pem = self.sign(parent, csr, "basicConstraints=critical,CA:TRUE\n"
                        "keyUsage=critical,keyCertSign,cRLSign\n")
        shutil.copy(pem, os.path.join(d, "ca.pem"))
        return d

    def sign(self, ca, csr, ext, start=None, end=None):
        out = self.path("cert.pem")
        extf = self.path("ext.cnf")
        with open(extf, "w") as f:
            f.write("[ext]\n" + ext)
        args = ["ca", "-batch", "-config", os.path.join(ca, "openssl.cnf"), "-in", csr, "-out", out,
                "-notext", "-extfile", extf, "-extensions", "ext"]
        if start:
            args += ["-startdate", start]
        if end:
            args += ["-enddate", end]
        self.openssl(*args)
        return out

    def leaf(self, ca, cn, bits=2048, crl_url=None, start=None, end=None):
        """A device certificate signed by CA directory ca; returns its path."""
        ext = "basicConstraints=critical,CA:FALSE\n"
        if crl_url:
            ext += "crlDistributionPoints=URI:%s\n" % crl_url
        return self.sign(ca, self.csr(self.key(bits), cn), ext, start, end)

    def verification(self, ca, code):
        """AWS proof of possession: a certificate with CN = registration code signed by ca."""
        return self.leaf(ca, code)

    def revoke(self, ca, cert):
        self.openssl("ca", "-config", os.path.join(ca, "openssl.cnf"), "-revoke", cert)

    def crl(self, ca, der=False):
        out = self.path("crl.pem")
        self.openssl("ca", "-config", os.path.join(ca, "openssl.cnf"), "-gencrl", "-out", out)
        if der:
            d = self.path("crl.der")
            self.openssl("crl", "-in", out, "-outform", "DER", "-out", d)
            return d
        return out

    def serial(self, cert):
        s = self.openssl("x509", "-in", cert, "-noout", "-serial").strip().split("=")[1]
        return s.lower().lstrip("0") or "0"


def read(path):
    with open(path) as f:
        return f.read()


def file_arg(path):
    return "file://" + path


def signed_post(server, path, body, i=0):
    """POST JSON to one of our extension routes, signed with SigV4 for iot."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    k = server.key(i)
    creds = Credentials(k["aws_access_key_id"], k["aws_secret_access_key"])
    data = json.dumps(body)
    req = AWSRequest(method="POST", url=server.url + path, data=data,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(creds, "iot", "us-east-1").add_auth(req)
    r = urllib.request.Request(server.url + path, data=data.encode(), headers=dict(req.headers), method="POST")
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
