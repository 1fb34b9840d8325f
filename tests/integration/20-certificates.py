"""Device and CA certificates through the real clients (aws CLI v2 and boto3): server-issued
certificates, the registration code and CA proof of possession with a CA built by the
openssl CLI, device certificate registration and its refusals (expired, RSA-1024, wrong
signature, unknown CA), status rules (REVOKED is final), delete rules, paging and
cross-account isolation. `Pki` (also used by 21-crl.py) drives the openssl CLI."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
import ddserver

from pki_helpers import (CONF, Pki, file_arg, read, signed_post)  # noqa: F401


class CertificatesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = Pki()
        cls.server = ddserver.Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pki.cleanup()

    def cli(self, *args, **kw):
        return self.server.aws("iot", *args, v2=True, **kw)

    def cli_error(self, *args):
        p = self.server.aws("iot", *args, v2=True, check=False)
        self.assertNotEqual(p.returncode, 0, "expected a failure: %s" % " ".join(args))
        return p.stderr

    def register_ca(self, ca, active=True):
        code = self.cli("get-registration-code")["registrationCode"]
        v = self.pki.verification(ca, code)
        args = ["register-ca-certificate", "--ca-certificate", file_arg(os.path.join(ca, "ca.pem")),
                "--verification-certificate", file_arg(v)]
        if active:
            args.append("--set-as-active")
        return self.cli(*args)["certificateId"]

    def test_create_describe_deactivate(self):
        r = self.cli("create-keys-and-certificate", "--set-as-active")
        cid = r["certificateId"]
        self.assertRegex(cid, "^[0-9a-f]{64}$")
        self.assertTrue(r["certificateArn"].endswith(":cert/" + cid))
        self.assertIn("BEGIN CERTIFICATE", r["certificatePem"])
        self.assertIn("BEGIN PUBLIC KEY", r["keyPair"]["PublicKey"])
        self.assertIn("BEGIN RSA PRIVATE KEY", r["keyPair"]["PrivateKey"])
        d = self.cli("describe-certificate", "--certificate-id", cid)["certificateDescription"]
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(d["certificateId"], cid)
        self.assertEqual(d["certificatePem"], r["certificatePem"])
        self.assertEqual(d["ownedBy"], self.server.key()["account_id"])
        self.assertEqual(d["customerVersion"], 1)
        self.assertEqual(d["certificateMode"], "DEFAULT")
        for k in ("creationDate", "lastModifiedDate", "generationId", "validity"):
            self.assertIn(k, d)
        self.assertIsNone(self.cli("update-certificate", "--certificate-id", cid, "--new-status", "INACTIVE"))
        d2 = self.cli("describe-certificate", "--certificate-id", cid)["certificateDescription"]
        self.assertEqual(d2["status"], "INACTIVE")
        self.assertEqual(d2["customerVersion"], 2)
        self.assertNotEqual(d2["generationId"], d["generationId"])

    def test_boto3_create_from_csr_and_inactive_default(self):
        iot = self.server.client("iot")
        csr = read(self.pki.csr(self.pki.key(), "csr-device"))
        r = iot.create_certificate_from_csr(certificateSigningRequest=csr)
        d = iot.describe_certificate(certificateId=r["certificateId"])["certificateDescription"]
        self.assertEqual(d["status"], "INACTIVE")
        self.assertEqual(d["certificatePem"], r["certificatePem"])
        weak = read(self.pki.csr(self.pki.key(1024), "weak"))
        with self.assertRaises(iot.exceptions.InvalidRequestException) as e:
            iot.create_certificate_from_csr(certificateSigningRequest=weak)
        self.assertIn("2048", str(e.exception))

    def test_external_ca_and_device_certificates(self):
        ca = self.pki.root("Integration Root CA")
        ca_id = self.register_ca(ca)
        d = self.cli("describe-ca-certificate", "--certificate-id", ca_id)["certificateDescription"]
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(d["autoRegistrationStatus"], "DISABLE")
        self.assertTrue(d["certificateArn"].endswith(":cacert/" + ca_id))
        self.assertIn(ca_id, [c["certificateId"] for c in self.cli("list-ca-certificates")["certificates"]])
        # With the CA given, and found by issuer.
        dev1 = self.pki.leaf(ca, "device-1")
        r1 = self.cli("register-certificate", "--certificate-pem", file_arg(dev1),
                      "--ca-certificate-pem", file_arg(os.path.join(ca, "ca.pem")), "--set-as-active")
        dev2 = self.pki.leaf(ca, "device-2")
        r2 = self.cli("register-certificate", "--certificate-pem", file_arg(dev2), "--status", "INACTIVE")
        by_ca = self.cli("list-certificates-by-ca", "--ca-certificate-id", ca_id)["certificates"]
        self.assertEqual(sorted(c["certificateId"] for c in by_ca), sorted([r1["certificateId"], r2["certificateId"]]))
        d1 = self.cli("describe-certificate", "--certificate-id", r1["certificateId"])["certificateDescription"]
        self.assertEqual(d1["caCertificateId"], ca_id)
        self.assertEqual(d1["status"], "ACTIVE")
        # Duplicate.
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(dev1))
        self.assertIn("ResourceAlreadyExistsException", err)
        # A CA cannot be deleted while ACTIVE.
        err = self.cli_error("delete-ca-certificate", "--certificate-id", ca_id)
        self.assertIn("CertificateStateException", err)
        # An INACTIVE CA no longer admits registrations.
        self.cli("update-ca-certificate", "--certificate-id", ca_id, "--new-status", "INACTIVE")
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(self.pki.leaf(ca, "device-3")))
        self.assertIn("CertificateStateException", err)
        self.cli("delete-ca-certificate", "--certificate-id", ca_id)
        err = self.cli_error("describe-ca-certificate", "--certificate-id", ca_id)
        self.assertIn("ResourceNotFoundException", err)

    def test_ca_registration_rules(self):
        ca = self.pki.root("Proof Root CA")
        # Without a verification certificate only SNI_ONLY is accepted.
        err = self.cli_error("register-ca-certificate", "--ca-certificate", file_arg(os.path.join(ca, "ca.pem")))
        self.assertIn("InvalidRequestException", err)
        self.assertIn("SNI_ONLY", err)
        code = self.cli("get-registration-code")["registrationCode"]
        self.assertRegex(code, "^[0-9a-f]{64}$")
        self.assertEqual(code, self.cli("get-registration-code")["registrationCode"])
        # A verification certificate with the wrong CN, or signed by another key.
        wrong_cn = self.pki.verification(ca, "not-the-code")
        err = self.cli_error("register-ca-certificate", "--ca-certificate", file_arg(os.path.join(ca, "ca.pem")),
                             "--verification-certificate", file_arg(wrong_cn))
        self.assertIn("RegistrationCodeValidationException", err)
        other = self.pki.root("Proof Root CA")  # same name, different key
        forged = self.pki.verification(other, code)
        err = self.cli_error("register-ca-certificate", "--ca-certificate", file_arg(os.path.join(ca, "ca.pem")),
                             "--verification-certificate", file_arg(forged))
        self.assertIn("CertificateValidationException", err)
        # A leaf is not a CA.
        leaf = self.pki.leaf(ca, "not-a-ca")
        err = self.cli_error("register-ca-certificate", "--ca-certificate", file_arg(leaf),
                             "--certificate-mode", "SNI_ONLY")
        self.assertIn("CertificateValidationException", err)
        r = self.cli("register-ca-certificate", "--ca-certificate", file_arg(os.path.join(ca, "ca.pem")),
                     "--certificate-mode", "SNI_ONLY", "--allow-auto-registration")
        d = self.cli("describe-ca-certificate", "--certificate-id", r["certificateId"])["certificateDescription"]
        self.assertEqual(d["certificateMode"], "SNI_ONLY")
        self.assertEqual(d["status"], "INACTIVE")
        self.assertEqual(d["autoRegistrationStatus"], "ENABLE")

    def test_refusals(self):
        ca = self.pki.root("Refusal Root CA")
        self.register_ca(ca)
        expired = self.pki.leaf(ca, "expired", start="20200101000000Z", end="20210101000000Z")
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(expired))
        self.assertIn("CertificateValidationException", err)
        self.assertIn("expired", err)
        err = self.cli_error("register-certificate-without-ca", "--certificate-pem", file_arg(expired))
        self.assertIn("CertificateValidationException", err)
        future = self.pki.leaf(ca, "future", start="20400101000000Z", end="20410101000000Z")
        err = self.cli_error("register-certificate-without-ca", "--certificate-pem", file_arg(future))
        self.assertIn("not yet valid", err)
        weak = self.pki.leaf(ca, "weak", bits=1024)
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(weak))
        self.assertIn("CertificateValidationException", err)
        self.assertIn("1024-bit RSA", err)
        # Signed by another key under the same CA name.
        impostor = self.pki.root("Refusal Root CA")
        forged = self.pki.leaf(impostor, "forged")
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(forged),
                             "--ca-certificate-pem", file_arg(os.path.join(ca, "ca.pem")))
        self.assertIn("CertificateValidationException", err)
        self.assertIn("signature does not verify", err)
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(forged))
        self.assertIn("signature does not verify", err)
        # Unknown CA.
        stranger = self.pki.root("Unknown Root CA")
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(self.pki.leaf(stranger, "x")))
        self.assertIn("CertificateValidationException", err)
        self.assertIn("No registered CA certificate", err)
        err = self.cli_error("register-certificate", "--certificate-pem", file_arg(self.pki.leaf(stranger, "y")),
                             "--ca-certificate-pem", file_arg(os.path.join(stranger, "ca.pem")))
        self.assertIn("not registered", err)
        # Garbage.
        junk = self.pki.path("junk.pem")
        with open(junk, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        err = self.cli_error("register-certificate-without-ca", "--certificate-pem", file_arg(junk))
        self.assertIn("CertificateValidationException", err)

    def test_without_ca_revoked_is_final_and_delete_rules(self):
        iot = self.server.client("iot")
        ca = self.pki.root("Unregistered Root")
        pem = read(self.pki.leaf(ca, "no-ca-device"))
        r = iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")
        cid = r["certificateId"]
        d = iot.describe_certificate(certificateId=cid)["certificateDescription"]
        self.assertEqual(d["certificateMode"], "SNI_ONLY")
        self.assertNotIn("caCertificateId", d)
        # ACTIVE cannot be deleted.
        with self.assertRaises(iot.exceptions.CertificateStateException):
            iot.delete_certificate(certificateId=cid)
        with self.assertRaises(iot.exceptions.InvalidRequestException):
            iot.update_certificate(certificateId=cid, newStatus="PENDING_TRANSFER")
        iot.update_certificate(certificateId=cid, newStatus="REVOKED")
        for st in ("ACTIVE", "INACTIVE", "REVOKED"):
            with self.assertRaises(iot.exceptions.CertificateStateException):
                iot.update_certificate(certificateId=cid, newStatus=st)
        self.assertEqual(iot.describe_certificate(certificateId=cid)["certificateDescription"]["status"], "REVOKED")
        # Attached to a thing: DeleteConflictException until detached.
        arn = r["certificateArn"]
        iot.create_thing(thingName="cert-thing")
        iot.attach_thing_principal(thingName="cert-thing", principal=arn)
        with self.assertRaises(iot.exceptions.DeleteConflictException):
            iot.delete_certificate(certificateId=cid)
        iot.detach_thing_principal(thingName="cert-thing", principal=arn)
        # A policy attached: conflict unless forceDelete.
        iot.create_policy(policyName="cert-pol", policyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}))
        iot.attach_policy(policyName="cert-pol", target=arn)
        with self.assertRaises(iot.exceptions.DeleteConflictException):
            iot.delete_certificate(certificateId=cid)
        iot.delete_certificate(certificateId=cid, forceDelete=True)
        with self.assertRaises(iot.exceptions.ResourceNotFoundException):
            iot.describe_certificate(certificateId=cid)
        self.assertEqual(iot.list_targets_for_policy(policyName="cert-pol")["targets"], [])

    def test_list_paging_and_order(self):
        iot = self.server.client("iot")
        ids = [iot.create_keys_and_certificate()["certificateId"] for _ in range(5)]
        seen, marker = [], None
        while True:
            kw = {"pageSize": 2, "ascendingOrder": True}
            if marker:
                kw["marker"] = marker
            r = iot.list_certificates(**kw)
            seen += [c["certificateId"] for c in r["certificates"]]
            marker = r.get("nextMarker")
            if not marker:
                break
        self.assertEqual([i for i in seen if i in ids], ids)
        desc = [c["certificateId"] for c in iot.list_certificates(pageSize=250)["certificates"]]
        self.assertEqual([i for i in desc if i in ids], list(reversed(ids)))
        self.assertEqual(sorted(seen), sorted(desc))
        with self.assertRaises(iot.exceptions.InvalidRequestException):
            iot.list_certificates(marker="bm90LWEtdG9rZW4=")


class CrossAccountTest(unittest.TestCase):
    def test_other_account_cannot_touch_certificates(self):
        d = tempfile.mkdtemp(prefix="ddcreds-")
        try:
            path = os.path.join(d, "credentials")
            ddserver.write_credentials(path, [
                ("a", "AKIAAAAAAAAAAAAAAAA1", "secretA/secretA/secretA", "111111111111"),
                ("b", "AKIABBBBBBBBBBBBBBB2", "secretB/secretB/secretB", "222222222222"),
            ])
            with ddserver.Server(credentials=path) as s:
                a, b = s.client("iot", 0), s.client("iot", 1)
                cid = a.create_keys_and_certificate(setAsActive=True)["certificateId"]
                with self.assertRaises(b.exceptions.ResourceNotFoundException):
                    b.describe_certificate(certificateId=cid)
                with self.assertRaises(b.exceptions.ResourceNotFoundException):
                    b.update_certificate(certificateId=cid, newStatus="INACTIVE")
                with self.assertRaises(b.exceptions.ResourceNotFoundException):
                    b.delete_certificate(certificateId=cid)
                self.assertEqual(b.list_certificates()["certificates"], [])
                self.assertNotEqual(a.get_registration_code()["registrationCode"],
                                    b.get_registration_code()["registrationCode"])
                d1 = a.describe_certificate(certificateId=cid)["certificateDescription"]
                self.assertEqual(d1["status"], "ACTIVE")
                self.assertEqual(d1["ownedBy"], "111111111111")
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
