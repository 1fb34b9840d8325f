"""Helpers of the SNS tests: a local HTTP subscriber, an SMTP sink, SNS signature
verification, the server environment for fast retries, and a confirmed subscription."""
import base64
import contextlib
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import botocore.exceptions

import ddserver
from ddserver import Server, free_port, write_credentials


class Subscriber:
    """A local HTTP endpoint that records every POST (headers, parsed JSON body)."""

    def __init__(self, port=None, delay=0.0):
        self.port = port or free_port()
        self.delay = delay
        self.received = []
        self.lock = threading.Lock()
        self.httpd = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def start(self):
        sub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if sub.delay:
                    time.sleep(sub.delay)
                with sub.lock:
                    sub.received.append((dict(self.headers), body.decode()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def messages(self, type_=None):
        with self.lock:
            out = [(h, json.loads(b)) for h, b in self.received]
        return [m for m in out if type_ is None or m[1].get("Type") == type_]

    def wait(self, pred, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = pred(self)
            if r:
                return r
            time.sleep(0.05)
        raise AssertionError("timed out; received: %r" % self.received)


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that records every mail (from, rcpts, data)."""

    def __init__(self):
        self.mails = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 sink ESMTP\r\n")
                data, lines, rcpt, frm = False, [], [], None
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    if data:
                        if line in (b".\r\n", b".\n"):
                            sink.mails.append((frm, rcpt, b"".join(lines).decode()))
                            data, lines, rcpt = False, [], []
                            self.wfile.write(b"250 queued\r\n")
                        else:
                            lines.append(line[1:] if line.startswith(b"..") else line)
                        continue
                    cmd = line.strip().upper()
                    if cmd.startswith(b"MAIL FROM"):
                        frm = line.strip()[10:].decode()
                    elif cmd.startswith(b"RCPT TO"):
                        rcpt.append(line.strip()[8:].decode())
                    if cmd == b"DATA":
                        data = True
                        self.wfile.write(b"354 go ahead\r\n")
                    elif cmd == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.mails) < n:
            time.sleep(0.05)
        if len(self.mails) < n:
            raise AssertionError("got %d mails, wanted %d" % (len(self.mails), n))
        return self.mails

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def string_to_sign(m):
    if m["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join("%s\n%s\n" % (k, m[k]) for k in keys if k in m)


def verify_signature(m):
    """Verifies an SNS message's SignatureVersion 1 signature against its SigningCertURL."""
    assert m["SignatureVersion"] == "1"
    with urllib.request.urlopen(m["SigningCertURL"], timeout=5) as r:
        pem = r.read()
    data = string_to_sign(m).encode()
    sig = base64.b64decode(m["Signature"])
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:
        d = tempfile.mkdtemp()
        try:
            paths = {n: os.path.join(d, n) for n in ("c.pem", "k.pem", "s.bin", "d.bin")}
            open(paths["c.pem"], "wb").write(pem)
            open(paths["s.bin"], "wb").write(sig)
            open(paths["d.bin"], "wb").write(data)
            subprocess.run(["openssl", "x509", "-in", paths["c.pem"], "-pubkey", "-noout", "-out", paths["k.pem"]], check=True)
            subprocess.run(["openssl", "dgst", "-sha1", "-verify", paths["k.pem"], "-signature", paths["s.bin"],
                            paths["d.bin"]], check=True, capture_output=True)
        finally:
            shutil.rmtree(d)
        return
    cert = x509.load_pem_x509_certificate(pem)
    cert.public_key().verify(sig, data, padding.PKCS1v15(), hashes.SHA1())


@contextlib.contextmanager
def env(**kw):
    old = {k: os.environ.get(k) for k in kw}
    os.environ.update({k: str(v) for k, v in kw.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


FAST = dict(IOTDEFENDER_SNS_BACKOFF_MS=100, IOTDEFENDER_SNS_BACKOFF_MAX_MS=500, IOTDEFENDER_SNS_POLL_MS=50,
            IOTDEFENDER_SNS_CONNECT_TIMEOUT_MS=1000, IOTDEFENDER_SNS_TIMEOUT_MS=2000)


def subscribe_confirmed(sns, topic, sub, via_url=True):
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url)
    h, conf = sub.wait(lambda s: s.messages("SubscriptionConfirmation"))[-1]
    if via_url:
        with urllib.request.urlopen(conf["SubscribeURL"], timeout=5) as r:
            assert r.status == 200
    else:
        sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
    return h, conf
