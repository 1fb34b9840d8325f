"""The console's security, over plain HTTP: no console API route answers without a
session; a write without the session's CSRF token is refused and changes nothing; one
account's session sees nothing of another's; sign-out and the idle timeout end the
session; the cookie and the security headers; no path escapes the front end's directory;
and console calls are the API's own handlers (same validation, same errors)."""
import http.client
import json
import os
import tempfile
import time
import unittest

import botocore.exceptions

from consolehttp import ConsoleClient
from ddserver import Server, write_credentials

ALICE = ("alice", "AKIAALICE00000000001", "alice/secret+key/0000000000000000000000", "111111111111")
BOB = ("bob", "AKIABOB0000000000002", "bob-secret-key-000000000000000000000000", "222222222222")

ROUTES = [
    ("GET", "/console/api/session"),
    ("DELETE", "/console/api/session"),
    ("POST", "/console/api/iot/ListThings"),
    ("POST", "/console/api/iot/CreateThing"),
    ("POST", "/console/api/iot/DescribeAccountAuditConfiguration"),
    ("POST", "/console/api/iot/UpdateAccountAuditConfiguration"),
    ("POST", "/console/api/iot/ListAuditFindings"),
    ("POST", "/console/api/iot/StartAuditMitigationActionsTask"),
    ("POST", "/console/api/iam/CreateRole"),
    ("POST", "/console/api/sns/ListTopics"),
    ("GET", "/console/api/iot/ListThings"),
    ("POST", "/console/api/nosuch/Thing"),
]


class ConsoleSecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddconsole-")
        path = os.path.join(cls.tmp, "credentials")
        write_credentials(path, [ALICE, BOB])
        os.environ["IOTDEFENDER_CONSOLE_IDLE_SECONDS"] = "5"
        try:
            cls.srv = Server(credentials=path).start()
        finally:
            del os.environ["IOTDEFENDER_CONSOLE_IDLE_SECONDS"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def client(self, i=None):
        c = ConsoleClient(self.srv.url)
        if i is not None:
            c.sign_in(self.srv.key(i))
        return c

    def test_every_route_refuses_without_session(self):
        anon = self.client()
        for method, path in ROUTES:
            status, out = anon.json(method, path, {} if method != "GET" else None)
            self.assertEqual(status, 401, (method, path, out))
            self.assertEqual(out["__type"], "NotAuthorizedException")
        # a made-up cookie is no session either
        forged = self.client()
        for cookie in ("dd_console=" + "a" * 64, "dd_console=" + "A" * 64, "dd_console=../../x", "dd_console="):
            status, out = forged.json("POST", "/console/api/iot/ListThings", {},
                                      headers={"Cookie": cookie, "X-CSRF-Token": "a" * 64})
            self.assertEqual(status, 401, cookie)
        # the application shell is public but holds no account data
        status, headers, body = anon.request("GET", "/console/")
        self.assertEqual(status, 200)
        self.assertIn(b'<div id="root">', body)
        self.assertNotIn(ALICE[3].encode(), body)

    def test_sign_in_checks_the_secret(self):
        c = self.client()
        for ak, sk in ((ALICE[1], ALICE[2][:-1] + "1"), (ALICE[1], ""), ("AKIAUNKNOWN000000000", ALICE[2]),
                       (ALICE[1], BOB[2]), (ALICE[1], ALICE[2] + "x")):
            status, headers, raw = c.request("POST", "/console/api/session",
                                             {"accessKeyId": ak, "secretAccessKey": sk}, csrf=False)
            self.assertIn(status, (400, 403), (ak, sk))
            self.assertNotIn("Set-Cookie", headers)
        self.assertIsNone(c.cookie())
        status, out = c.json("POST", "/console/api/session", b"not json", csrf=False)
        self.assertEqual(status, 400)
        # the right pair opens a session of that account; the secret is not echoed
        status, headers, raw = c.request("POST", "/console/api/session",
                                         {"accessKeyId": ALICE[1], "secretAccessKey": ALICE[2]}, csrf=False)
        self.assertEqual(status, 200)
        out = json.loads(raw)
        self.assertEqual(out["account"], ALICE[3])
        self.assertEqual(len(out["csrfToken"]), 64)
        self.assertNotIn(ALICE[2], raw.decode())
        cookie = headers["Set-Cookie"]
        self.assertRegex(cookie, r"^dd_console=[0-9a-f]{64}; ")
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/console"):
            self.assertIn(flag, cookie)
        self.assertNotIn("Secure", cookie)  # plain http here
        # behind a TLS-terminating proxy the cookie is Secure
        status, headers, raw = c.request("POST", "/console/api/session",
                                         {"accessKeyId": ALICE[1], "secretAccessKey": ALICE[2]}, csrf=False,
                                         headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(status, 200)
        self.assertIn("; Secure", headers["Set-Cookie"])

    def test_write_without_csrf_is_refused(self):
        c = self.client(0)
        other = self.client(0)  # the same account, another session: another token
        self.assertNotEqual(c.csrf, other.csrf)
        cases = [None, "", "0" * 64, other.csrf, c.csrf[:-1], c.csrf.upper()]
        for tok in cases:
            headers = {} if tok is None else {"X-CSRF-Token": tok}
            status, out = c.json("POST", "/console/api/iot/CreateThing", {"thingName": "csrf-victim"},
                                 csrf=False, headers=headers)
            self.assertEqual(status, 403, tok)
            self.assertEqual(out["__type"], "AccessDeniedException")
        # a cross-site Origin is refused even with the token
        status, out = c.json("POST", "/console/api/iot/CreateThing", {"thingName": "csrf-victim"},
                             headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        # nothing was created
        names = [t["thingName"] for t in self.srv.client("iot", 0).list_things()["things"]]
        self.assertNotIn("csrf-victim", names)
        # with the token (and a same-origin Origin) it works
        host = self.srv.url.split("://", 1)[1]
        status, out = c.call("iot", "CreateThing", {"thingName": "csrf-ok"}, headers={"Origin": "http://" + host})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["thingName"], "csrf-ok")
        # sign-out needs the token too
        status, out = c.json("DELETE", "/console/api/session", csrf=False)
        self.assertEqual(status, 403)
        status, out = c.json("GET", "/console/api/session")
        self.assertEqual(status, 200)

    def test_accounts_are_isolated(self):
        a, b = self.client(0), self.client(1)
        self.assertEqual(a.session["account"], ALICE[3])
        self.assertEqual(b.session["account"], BOB[3])
        status, out = a.call("iot", "CreateThing", {"thingName": "alice-only"})
        self.assertEqual(status, 200)
        self.assertIn(":%s:" % ALICE[3], out["thingArn"])
        status, out = a.call("iam", "CreateRole", {"RoleName": "AliceRole", "AssumeRolePolicyDocument": json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]})})
        self.assertEqual(status, 200, out)
        status, out = b.call("iot", "ListThings")
        self.assertEqual(status, 200)
        self.assertNotIn("alice-only", [t["thingName"] for t in out["things"]])
        status, out = b.call("iot", "DescribeThing", {"thingName": "alice-only"})
        self.assertEqual(status, 404)
        self.assertEqual(out["__type"], "ResourceNotFoundException")
        status, out = b.call("iam", "ListRoles")
        self.assertEqual(status, 200)
        self.assertNotIn("AliceRole", [r["RoleName"] for r in out["Roles"]])
        # bob's cookie with alice's token is no use, and the reverse
        status, out = b.call("iot", "ListThings", headers={"X-CSRF-Token": a.csrf})
        self.assertEqual(status, 403)
        # the region is a parameter (a valid name, else refused)
        status, out = a.json("POST", "/console/api/iot/ListThings?region=eu-west-1", {})
        self.assertEqual(status, 200)
        status, out = a.json("POST", "/console/api/iot/ListThings?region=../../x", {})
        self.assertEqual(status, 400)

    def test_sign_out_and_idle_timeout_end_the_session(self):
        c = self.client(0)
        cookie = c.cookie()
        status, headers, raw = c.request("DELETE", "/console/api/session")
        self.assertEqual(status, 200)
        self.assertIn("Max-Age=0", headers["Set-Cookie"])
        # the old cookie, replayed, is dead
        for path in ("/console/api/session", "/console/api/iot/ListThings"):
            status, out = c.json("POST" if "iot" in path else "GET", path, {} if "iot" in path else None,
                                 headers={"Cookie": "dd_console=" + cookie})
            self.assertEqual(status, 401, path)
        # idle timeout (5 s in this server): a session in use outlives it, an idle one ends
        d = self.client(0)
        for _ in range(4):
            time.sleep(1.5)
            self.assertEqual(d.call("iot", "ListThings")[0], 200)
        time.sleep(6.5)
        self.assertEqual(d.call("iot", "ListThings")[0], 401)

    def test_headers_and_static_files(self):
        c = self.client()
        status, headers, body = c.request("GET", "/console/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        csp = headers["Content-Security-Policy"]
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp.split("script-src", 1)[1].split(";")[0])
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        # no inline script in the shell; every script and stylesheet is a same-origin file
        html = body.decode()
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)[^>]*>")
        import re
        assets = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', html)
        self.assertTrue(any(a.endswith(".js") for a in assets), html)
        for a in assets:
            status, h, b = c.request("GET", a)
            self.assertEqual(status, 200, a)
            want = "text/javascript" if a.endswith(".js") else "text/css"
            self.assertTrue(h["Content-Type"].startswith(want), (a, h["Content-Type"]))
            self.assertIn("immutable", h["Cache-Control"])
        # client-side routes get the shell; a missing asset is 404, not the shell
        status, h, b = c.request("GET", "/console/audit/results/abc/DEVICE_CERTIFICATE_SHARED_CHECK")
        self.assertEqual(status, 200)
        self.assertIn(b'<div id="root">', b)
        self.assertEqual(c.request("GET", "/console/assets/nope.js")[0], 404)
        # /console redirects to /console/
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.request("GET", "/console")
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 301)
        self.assertEqual(r.getheader("Location"), "/console/")
        # nothing outside the front end's directory, however the path is spelled
        secret = ALICE[2].encode()
        for path in ("/console/../credentials", "/console/assets/../../credentials",
                     "/console/assets/..%2f..%2f..%2fcredentials", "/console/%2e%2e/%2e%2e/credentials",
                     "/console/assets/....//....//credentials", "/console//etc/passwd",
                     "/console/assets/.%2e/index.html", "/console/.vite/manifest.json",
                     "/console/assets/%00", "/console/assets\\..\\..\\credentials"):
            conn.request("GET", path)
            r = conn.getresponse()
            b = r.read()
            self.assertNotIn(secret, b, path)
            self.assertNotIn(b"root:x:0:0", b, path)
            self.assertIn(r.status, (200, 400, 403, 404), path)
            if r.status == 200:
                self.assertIn(b'<div id="root">', b, path)  # only ever the shell
        conn.close()
        # pages are read with GET only
        self.assertEqual(c.request("POST", "/console/index.html", b"")[0], 405)

    def test_console_calls_are_the_apis_handlers(self):
        c = self.client(0)
        iot = self.srv.client("iot", 0, validate=False)
        # the same bad input gets the same code and message as through the API
        bad = {"actionName": "bad name!", "roleArn": "arn:aws:iam::111111111111:role/x",
               "actionParams": {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}}
        status, out = c.call("iot", "CreateMitigationAction", bad)
        self.assertEqual(status, 400)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            iot.create_mitigation_action(**bad)
        err = cm.exception.response["Error"]
        self.assertEqual(out["__type"], err["Code"])
        self.assertEqual(out["message"], err["Message"])
        self.assertIn("actionName", out["message"])
        # a thing name with markup is refused by the API's own validation
        status, out = c.call("iot", "CreateThing", {"thingName": "<img src=x onerror=alert(1)>"})
        self.assertEqual(status, 400)
        self.assertIn("thingName", out["message"])
        # an unknown operation or service, and a body that is not an object
        self.assertEqual(c.call("iot", "NoSuchOperation")[0], 404)
        self.assertEqual(c.call("nosuch", "ListThings")[0], 404)
        status, out = c.json("POST", "/console/api/iot/ListThings", b"[1,2]")
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "SerializationException")
        # success returns the API's own output: what the console created, boto3 sees
        status, out = c.call("iot", "CreateThing", {"thingName": "via-console", "attributePayload": {
            "attributes": {"room": "lab"}}})
        self.assertEqual(status, 200)
        self.assertEqual(iot.describe_thing(thingName="via-console")["attributes"], {"room": "lab"})
        status, out = c.call("iot", "DescribeThing", {"thingName": "via-console"})
        self.assertEqual(out["attributes"], {"room": "lab"})
        # a not-found error keeps its AWS status
        status, out = c.call("iot", "DescribeThing", {"thingName": "nobody"})
        self.assertEqual((status, out["__type"]), (404, "ResourceNotFoundException"))


if __name__ == "__main__":
    unittest.main()
