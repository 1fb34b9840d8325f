"""Certificates for test_audit_checks_api, made at test time with the openssl CLI in a
temporary directory: self-signed CAs (fresh or from a given private key, any validity),
an intermediate CA, device certificates (fresh or given key, any notBefore / notAfter),
the AWS proof-of-possession certificate, revocations and CRLs. Each CA is a directory
usable by `openssl ca` (ca.pem, ca.key, index.txt, serial, crlnumber, openssl.cnf)."""
import datetime
import os
import shutil
import subprocess
import tempfile

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

CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
LEAF_EXT = "basicConstraints=critical,CA:FALSE\n"


def asn1_time(dt):
    """GeneralizedTime as `openssl ca -startdate/-enddate` accepts it."""
    return dt.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")


def days_from_now(days):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)


def read(path):
    with open(path) as f:
        return f.read()


class Pki:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ddchecksapi-pki-")
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

    def key(self):
        k = self.path("key.pem")
        self.openssl("genrsa", "-out", k, "2048")
        return k

    def csr(self, key, cn):
        c = self.path("req.csr")
        self.openssl("req", "-new", "-key", key, "-out", c, "-subj", "/O=ChecksApi/CN=%s" % cn)
        return c

    def _ca_dir(self, key):
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
        if key:
            shutil.copy(key, os.path.join(d, "ca.key"))
        else:
            self.openssl("genrsa", "-out", os.path.join(d, "ca.key"), "2048")
        return d

    def root(self, cn, key=None, days=365):
        """A self-signed CA valid `days` days from now, with a fresh key or the private key
        file `key`; returns its directory."""
        d = self._ca_dir(key)
        self.openssl("req", "-x509", "-new", "-key", os.path.join(d, "ca.key"), "-out",
                     os.path.join(d, "ca.pem"), "-days", str(days), "-subj", "/O=ChecksApi/CN=%s" % cn,
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return d

    def intermediate(self, parent, cn):
        d = self._ca_dir(None)
        pem = self.sign(parent, self.csr(os.path.join(d, "ca.key"), cn), CA_EXT)
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
            args += ["-startdate", asn1_time(start)]
        if end:
            args += ["-enddate", asn1_time(end)]
        self.openssl(*args)
        return out

    def leaf(self, ca, cn, key=None, start=None, end=None):
        """A device certificate signed by CA directory `ca` (fresh key unless `key`);
        `start` / `end` are datetimes for notBefore / notAfter (default now / +365 days)."""
        return self.sign(ca, self.csr(key or self.key(), cn), LEAF_EXT, start, end)

    def verification(self, ca, code):
        """AWS proof of possession: CN = the registration code, signed by the CA's key."""
        return self.leaf(ca, code)

    def revoke(self, ca, cert):
        self.openssl("ca", "-config", os.path.join(ca, "openssl.cnf"), "-revoke", cert)

    def crl(self, ca):
        out = self.path("crl.pem")
        self.openssl("ca", "-config", os.path.join(ca, "openssl.cnf"), "-gencrl", "-out", out)
        return out

    def ca_pem(self, ca):
        return read(os.path.join(ca, "ca.pem"))
