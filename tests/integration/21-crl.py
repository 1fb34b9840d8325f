"""CRLs: a root and an intermediate CA built with the openssl CLI are registered with device
certificates; CRLs imported through POST /crl-import (PEM and DER) revoke one device
certificate and the intermediate, and POST /crl-status shows the derived revocation facts;
a CRL signed by the wrong key is refused with a clear message. A CRL served over HTTP on
127.0.0.1 through a certificate's distribution point is fetched (off the request thread,
POST /crl-refresh only queues) once and then cached; an unreachable distribution point is
recorded as visible state (with a generic error text) without failing. The
admin command `iotdefender crl import` is exercised when the binary has it wired."""
import base64
import http.server
import json
import os
import subprocess
import threading
import time
import unittest

import ddserver
import pki_helpers as tc


class CrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = tc.Pki()
        cls.server = ddserver.Server(extra_args=ddserver.LOCAL_OUTBOUND).start()
        cls.iot = cls.server.client("iot")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pki.cleanup()

    def register_ca(self, ca):
        code = self.iot.get_registration_code()["registrationCode"]
        v = tc.read(self.pki.verification(ca, code))
        return self.iot.register_ca_certificate(caCertificate=tc.read(os.path.join(ca, "ca.pem")),
                                                verificationCertificate=v, setAsActive=True)["certificateId"]

    def register(self, path):
        return self.iot.register_certificate(certificatePem=tc.read(path), setAsActive=True)["certificateId"]

    def status(self, **body):
        code, out = tc.signed_post(self.server, "/crl-status", body)
        self.assertEqual(code, 200, out)
        return out

    def test_import_chain_revocation(self):
        root = self.pki.root("CRL Root CA")
        inter = self.pki.intermediate(root, "CRL Intermediate CA")
        root_id, inter_id = self.register_ca(root), self.register_ca(inter)
        d1p, d2p = self.pki.leaf(inter, "crl-dev-1"), self.pki.leaf(inter, "crl-dev-2")
        d3p = self.pki.leaf(root, "crl-dev-3")
        d1, d2, d3 = self.register(d1p), self.register(d2p), self.register(d3p)
        self.assertEqual(self.status(caCertificateId=root_id)["revokedCertificates"], [])

        # The intermediate revokes device 1; the root revokes the intermediate.
        self.pki.revoke(inter, d1p)
        self.pki.revoke(root, os.path.join(inter, "ca.pem"))
        code, out = tc.signed_post(self.server, "/crl-import",
                                   {"caCertificateId": inter_id, "crlPem": tc.read(self.pki.crl(inter))})
        self.assertEqual(code, 200, out)
        self.assertEqual(out["revokedCount"], 1)
        self.assertEqual(out["caCertificateId"], inter_id)
        with open(self.pki.crl(root, der=True), "rb") as f:
            der = base64.b64encode(f.read()).decode()
        code, out = tc.signed_post(self.server, "/crl-import", {"caCertificateId": root_id, "crlDer": der})
        self.assertEqual(code, 200, out)

        st = self.status()
        mine = [c for c in st["crls"] if c["caCertificateId"] in (root_id, inter_id)]
        self.assertEqual(len(mine), 2)
        self.assertTrue(all(c["valid"] for c in mine))
        revoked = {c["certificateId"]: c for c in st["revokedCertificates"]}
        self.assertIn(d1, revoked)
        self.assertNotIn(d2, revoked)
        self.assertNotIn(d3, revoked)
        self.assertEqual(revoked[d1]["revokedByCaCertificateId"], inter_id)
        self.assertEqual(revoked[d1]["serial"], self.pki.serial(d1p))
        cas = {c["certificateId"]: c for c in st["revokedCACertificates"]}
        self.assertIn(inter_id, cas)
        self.assertNotIn(root_id, cas)
        self.assertEqual(cas[inter_id]["revokedByCaCertificateId"], root_id)
        chain = {c["certificateId"]: c["revokedCaCertificateId"] for c in st["intermediateCARevoked"]}
        self.assertEqual(chain.get(d1), inter_id)
        self.assertEqual(chain.get(d2), inter_id)
        self.assertNotIn(d3, chain)
        self.assertNotIn(root_id, chain)

    def test_wrong_key_and_unknown_ca_refused(self):
        root = self.pki.root("Signed Root CA")
        root_id = self.register_ca(root)
        impostor = self.pki.root("Signed Root CA")  # same name, other key
        code, out = tc.signed_post(self.server, "/crl-import",
                                   {"caCertificateId": root_id, "crlPem": tc.read(self.pki.crl(impostor))})
        self.assertEqual(code, 400, out)
        self.assertEqual(out.get("__type", out.get("code", "")).split("#")[-1] or "InvalidRequestException",
                         "InvalidRequestException")
        self.assertIn("signature does not verify", out.get("message", out.get("Message", "")))
        other = self.pki.root("Some Other CA")
        code, out = tc.signed_post(self.server, "/crl-import",
                                   {"caCertificateId": root_id, "crlPem": tc.read(self.pki.crl(other))})
        self.assertEqual(code, 400)
        self.assertIn("issued by", out.get("message", out.get("Message", "")))
        code, out = tc.signed_post(self.server, "/crl-import", {"caCertificateId": "ab" * 32,
                                                                "crlPem": tc.read(self.pki.crl(root))})
        self.assertEqual(code, 404)
        code, out = tc.signed_post(self.server, "/crl-import", {"caCertificateId": root_id, "crlPem": "garbage"})
        self.assertEqual(code, 400)
        self.assertIn("could not be parsed", out.get("message", out.get("Message", "")))
        self.assertEqual(self.status(caCertificateId=root_id)["crls"], [])

    def test_http_distribution_point_fetched_once(self):
        hits = []
        body = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                data = body.get(self.path)
                if data is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        t = threading.Thread(target=httpd.serve_forever, daemon=True)
        t.start()
        try:
            base = "http://127.0.0.1:%d" % httpd.server_address[1]
            ca = self.pki.root("Fetched Root CA")
            ca_id = self.register_ca(ca)
            devp = self.pki.leaf(ca, "fetched-dev", crl_url=base + "/ca.crl")
            dev = self.register(devp)
            okp = self.pki.leaf(ca, "fetched-ok", crl_url=base + "/ca.crl")
            self.register(okp)
            broken = self.pki.leaf(ca, "broken-dp", crl_url=base + "/missing.crl")
            self.register(broken)
            self.pki.revoke(ca, devp)
            with open(self.pki.crl(ca, der=True), "rb") as f:
                body["/ca.crl"] = f.read()

            # The refresh queues the fetches and answers at once; /crl-status tells when
            # they are done (pendingFetches 0).
            code, r1 = tc.signed_post(self.server, "/crl-refresh", {})
            self.assertEqual(code, 200, r1)
            self.assertEqual(r1["urls"], 2)
            self.assertEqual(r1["queued"] + r1["alreadyQueued"], 2)
            self.assertEqual(r1["notQueued"], 0)
            st = wait_fetched(self, urls=2)
            code, r2 = tc.signed_post(self.server, "/crl-refresh", {})
            self.assertEqual(r2["cached"], 1)
            self.assertEqual(r2["queued"], 0)
            self.assertEqual(r2["backoff"], 1)
            self.assertEqual(wait_fetched(self)["pendingFetches"], 0)
            self.assertEqual(hits.count("/ca.crl"), 1)
            self.assertEqual(hits.count("/missing.crl"), 1)

            self.assertIn(dev, [c["certificateId"] for c in st["revokedCertificates"]])
            fetches = {f["url"]: f for f in st["fetches"]}
            ok = fetches[base + "/ca.crl"]
            self.assertEqual(ok["caCertificateId"], ca_id)
            self.assertEqual(ok["fetchCount"], 1)
            self.assertNotIn("lastError", ok)
            self.assertIn("cachedUntil", ok)
            bad = fetches[base + "/missing.crl"]
            # generic: an API caller learns nothing about what answered (the log has it)
            self.assertEqual(bad["lastError"], "the endpoint could not be reached")
            self.assertEqual(bad["failureCount"], 1)
            crl = [c for c in st["crls"] if c["caCertificateId"] == ca_id][0]
            self.assertEqual(crl["source"], base + "/ca.crl")
        finally:
            httpd.shutdown()
            httpd.server_close()


def wait_fetched(test, timeout=30, urls=0):
    """Polls POST /crl-status until no CRL fetch of the account is queued or running and
    at least `urls` distribution points have a recorded state (the state can be read a
    moment after the pending count drops)."""
    deadline = time.time() + timeout
    while True:
        st = test.status()
        if (st["pendingFetches"] == 0 and len(st["fetches"]) >= urls) or time.time() > deadline:
            test.assertEqual(st["pendingFetches"], 0, "CRL fetches still pending after %ds" % timeout)
            return st
        time.sleep(0.05)


def admin_wired():
    p = subprocess.run([ddserver.BIN, "crl", "--help"], capture_output=True, text=True)
    return p.returncode == 0 and "crl import" in p.stdout


@unittest.skipUnless(admin_wired(), "the crl admin verb is not wired into this iotdefender binary")
class CrlAdminTest(unittest.TestCase):
    def test_admin_import(self):
        pki = tc.Pki()
        s = ddserver.Server(extra_args=ddserver.LOCAL_OUTBOUND).start()
        try:
            iot = s.client("iot")
            ca = pki.root("Admin Root CA")
            code = iot.get_registration_code()["registrationCode"]
            ca_id = iot.register_ca_certificate(caCertificate=tc.read(os.path.join(ca, "ca.pem")),
                                                verificationCertificate=tc.read(pki.verification(ca, code)),
                                                setAsActive=True)["certificateId"]
            devp = pki.leaf(ca, "admin-dev")
            dev = iot.register_certificate(certificatePem=tc.read(devp), setAsActive=True)["certificateId"]
            pki.revoke(ca, devp)
            acct = s.key()["account_id"]
            env = ddserver.store_env(s.data_dir)
            args = [ddserver.BIN, "crl", "import", "--data-dir", s.data_dir, "--account", acct,
                    "--ca-certificate-id", ca_id]
            p = subprocess.run(args + [pki.crl(ca)], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("1 revoked", p.stdout)
            code, st = tc.signed_post(s, "/crl-status", {})
            self.assertEqual([c["certificateId"] for c in st["revokedCertificates"]], [dev])
            wrong = pki.crl(pki.root("Admin Root CA"))
            p = subprocess.run(args + [wrong], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 1)
            self.assertIn("signature does not verify", p.stderr)
            # --region (default us-east-1): the CA is registered in us-east-1 only
            p = subprocess.run(args + ["--region", "us-east-1", pki.crl(ca)], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = subprocess.run(args + ["--region", "eu-west-1", pki.crl(ca)], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 1)
            self.assertIn("is not registered in %s/eu-west-1" % acct, p.stderr)
            p = subprocess.run(args + ["--region", "eu:west", pki.crl(ca)], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 2)
            self.assertIn("--region", p.stderr)
            p = subprocess.run([ddserver.BIN, "crl", "status", "--data-dir", s.data_dir, "--account", acct,
                                "--region", "eu-west-1"], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["revokedCertificates"], [])
        finally:
            s.cleanup()
            pki.cleanup()


if __name__ == "__main__":
    unittest.main()
