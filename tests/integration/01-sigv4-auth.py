"""SigV4 authentication: every request but /health must be signed by a known key with the
right secret and a fresh timestamp; each failure gets AWS's code and 403."""
import datetime
import os
import unittest
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from ddserver import Server, sign_at


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def send(self, akid=None, secret=None, when=None, path="/things", method="GET", body=None, service="iot"):
        url = self.srv.url + path
        req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body)
        if akid:
            creds = botocore.credentials.Credentials(akid, secret)
            signer = botocore.auth.SigV4Auth(creds, service, "us-east-1")
            if when is not None:
                sign_at(signer, req, when)
            else:
                signer.add_auth(req)
        p = req.prepare()
        r = urllib.request.Request(p.url, data=body, headers=dict(p.headers), method=method)
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def test_health_is_unsigned_and_reveals_nothing(self):
        with urllib.request.urlopen(self.srv.url + "/health") as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b'{"status":"ok"}')

    def test_unsigned(self):
        status, headers, body = self.send()
        self.assertEqual(status, 403)
        self.assertEqual(headers["x-amzn-ErrorType"], "MissingAuthenticationTokenException")
        self.assertIn("x-amzn-RequestId", headers)

    def test_unknown_key(self):
        status, headers, _ = self.send("AKIANOTAKNOWNKEY0000", "whatever")
        self.assertEqual(status, 403)
        self.assertEqual(headers["x-amzn-ErrorType"], "UnrecognizedClientException")

    def test_wrong_secret(self):
        k = self.srv.key()
        secret = k["aws_secret_access_key"]
        wrong = ("y" if secret[0] == "x" else "x") + secret[1:]  # never the secret itself
        status, headers, body = self.send(k["aws_access_key_id"], wrong)
        self.assertEqual(status, 403)
        self.assertEqual(headers["x-amzn-ErrorType"], "InvalidSignatureException")
        self.assertIn(b"signature", body)

    def test_stale_timestamp(self):
        k = self.srv.key()
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        status, headers, body = self.send(k["aws_access_key_id"], k["aws_secret_access_key"], when=old)
        self.assertEqual(status, 403)
        self.assertEqual(headers["x-amzn-ErrorType"], "InvalidSignatureException")
        self.assertIn(b"Signature expired", body)

    def test_good_signature(self):
        k = self.srv.key()
        status, headers, body = self.send(k["aws_access_key_id"], k["aws_secret_access_key"])
        self.assertEqual(status, 200, body)
        self.assertIn(b'"things"', body)

    def test_tampered_body(self):
        k = self.srv.key()
        url = self.srv.url + "/things/tampered"
        req = botocore.awsrequest.AWSRequest(method="POST", url=url, data=b"{}")
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(k["aws_access_key_id"], k["aws_secret_access_key"]),
                                "iot", "us-east-1").add_auth(req)
        p = req.prepare()
        r = urllib.request.Request(p.url, data=b'{"attributePayload":{}}', headers=dict(p.headers), method="POST")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(r, timeout=10)
        self.assertEqual(cm.exception.code, 403)
        self.assertEqual(cm.exception.headers["x-amzn-ErrorType"], "InvalidSignatureException")

    def test_body_limit(self):
        # refused from the headers: the 413 comes before any of the 9 MiB is sent
        import http.client
        k = self.srv.key()
        req = botocore.awsrequest.AWSRequest(method="POST", url=self.srv.url + "/things/big", data=b"")
        req.headers["X-Amz-Content-SHA256"] = "0" * 64
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(k["aws_access_key_id"], k["aws_secret_access_key"]),
                                "iot", "us-east-1").add_auth(req)
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.putrequest("POST", "/things/big", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "127.0.0.1:%d" % self.srv.port)
        for name, value in req.headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(9 << 20))
        conn.endheaders()
        resp = conn.getresponse()
        self.assertEqual(resp.status, 413)
        self.assertEqual(resp.getheader("x-amzn-ErrorType"), "RequestEntityTooLargeException")
        conn.close()

    def test_malformed_json(self):
        k = self.srv.key()
        status, headers, body = self.send(k["aws_access_key_id"], k["aws_secret_access_key"],
                                          path="/things/badjson", method="POST", body=b'{"attributePayload": ')
        self.assertEqual(status, 400)
        self.assertEqual(headers["x-amzn-ErrorType"], "InvalidRequestException")
        self.assertIn(b"Malformed JSON", body)

    def test_cli_wrong_secret(self):
        env_bad = dict(self.srv.env())
        env_bad["AWS_SECRET_ACCESS_KEY"] = "wrong"
        import subprocess
        p = subprocess.run(["aws", "iot", "list-things"], env=env_bad, capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidSignatureException", p.stderr)


if __name__ == "__main__":
    unittest.main()
