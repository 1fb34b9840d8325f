"""Acceptance test of the audit: all 17 checks against a fleet built through the API only.

Before the server starts, the shipped Debian weak-key sample list
(`data/blocklists/sha256_modulus_2048.csv`) is imported into the test's fresh data
directory with `iotdefender blocklist import --format dwk --key rsa-2048` (documented in
data/blocklists/README.md): blocklists are loaded when the server starts, there is no API
for them. Everything else goes through the APIs the server speaks (iot, iam,
cognito-identity with boto3 and the aws CLI v2) and our documented signed extension
routes (POST /crl-import, /connection-events, /role-service-usage):

- CA certificates (RegisterCACertificate, with the registration-code proof of possession
  or certificateMode SNI_ONLY): a root, an intermediate it signed, a CA valid 10 days, a
  CA on a Debian-weak key (CVE-2008-0166) and a CA on a ROCA key (CVE-2017-15361).
- Device certificates (RegisterCertificate / RegisterCertificateWithoutCA): a clean one,
  one valid 10 days, one whose notBefore is 90 days ago (age threshold configured to 30
  days), one on a ROCA key, one on a Debian-weak key, one the root revokes, one issued by
  the intermediate, three used in connection events, and an INACTIVE one expiring in 5
  days that no certificate check may count.
- A CRL of the root revoking the intermediate and one device certificate.
- Connection events: a certificate shared by two overlapping client ids, a client id
  taken over by a connection with another certificate, and a device reconnecting cleanly.
- IoT policies (one whose default version is the second, overly permissive one), Cognito
  identity pools with authenticated / unauthenticated roles, role aliases with inline
  role policies and service-usage records.

The keys come from tests/data/keys (see its SOURCES.md); certificates, CRLs and all other
keys are made with the openssl CLI at test time. Audit 1 names the checks by their API
names, audit 2 by the seed's five older names (enabled through those names too); both
must give the same 17 results and findings, reported under the API names. Audit 3 shows
LOGGING_DISABLED_CHECK compliant once v2 logging is configured (one resource per
account). Every check's checkRunStatus, totalResourcesCount and
nonCompliantResourcesCount, and every finding's resource identifier, severity and reason
code are asserted exactly."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import ddserver
from auditfleet import audit_role, post_events, signed
from checksapi_pki import Pki, days_from_now, read

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
TESTDATA = os.environ.get("DD_TESTDATA") or os.path.join(REPO, "tests", "data")
KEYS = os.path.join(TESTDATA, "keys")
# Debian-weak 2048-bit RSA private keys (expected.tsv: debian_weak yes) and a ROCA one
# (2049 bits, roca yes); tests/data/keys/SOURCES.md gives their origin.
DEBIAN_CA_KEY = os.path.join(KEYS, "debian", "badkeys-debianopenssl", "rsa2048-ssl-be32-1000-rnd.key")
DEBIAN_DEVICE_KEY = os.path.join(KEYS, "debian", "hoefling-dsa-1571", "debian-openssl-0.9.8c-x86-prng-bug-2048.key")
ROCA_KEY = os.path.join(KEYS, "roca", "privkey05.pem")
BLOCKLIST = os.path.join(REPO, "data", "blocklists", "sha256_modulus_2048.csv")

REGION = "us-east-1"
DAY_MS = 86400 * 1000

SEVERITY = {
    "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": "CRITICAL",
    "CA_CERTIFICATE_EXPIRING_CHECK": "MEDIUM",
    "CA_CERTIFICATE_KEY_QUALITY_CHECK": "CRITICAL",
    "CONFLICTING_CLIENT_IDS_CHECK": "HIGH",
    "DEVICE_CERTIFICATE_AGE_CHECK": "LOW",
    "DEVICE_CERTIFICATE_EXPIRING_CHECK": "MEDIUM",
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK": "CRITICAL",
    "DEVICE_CERTIFICATE_SHARED_CHECK": "CRITICAL",
    "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK": "CRITICAL",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": "CRITICAL",
    "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK": "MEDIUM",
    "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK": "MEDIUM",
    "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK": "CRITICAL",
    "LOGGING_DISABLED_CHECK": "LOW",
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK": "CRITICAL",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK": "MEDIUM",
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": "CRITICAL",
}
CHECKS = sorted(SEVERITY)
ALIASES = {
    "DEVICE_CERTIFICATE_EXPIRING_CHECK": "DEVICE_CERT_APPROACHING_EXPIRATION_CHECK",
    "CA_CERTIFICATE_EXPIRING_CHECK": "CA_CERT_APPROACHING_EXPIRATION_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": "IOT_POLICY_UNRESTRICTED_CHECK",
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK": "REVOKED_CA_CERT_CHECK",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK": "REVOKED_DEVICE_CERT_CHECK",
}
AGE_CONFIG = {"CERT_AGE_THRESHOLD_IN_DAYS": "30"}


def trust(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources, effect="Allow"):
    return {"Effect": effect, "Action": actions, "Resource": resources}


def deny(actions, resources):
    return allow(actions, resources, "Deny")


def key_of(ident):
    return json.dumps(ident, sort_keys=True)


class AuditChecksApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in (DEBIAN_CA_KEY, DEBIAN_DEVICE_KEY, ROCA_KEY, BLOCKLIST):
            if not os.path.exists(path):
                raise unittest.SkipTest("missing test data: " + path)
        cls.tmp = tempfile.mkdtemp(prefix="ddchecksapi-")
        cls.pki = Pki()
        cls.srv = None
        try:
            data_dir = os.path.join(cls.tmp, "data")
            os.makedirs(data_dir)
            p = subprocess.run([ddserver.BIN, "blocklist", "import", "--data-dir", data_dir, "--format", "dwk",
                                "--key", "rsa-2048", BLOCKLIST], capture_output=True, text=True, timeout=60,
                               env=ddserver.store_env(data_dir))
            if p.returncode != 0:
                raise AssertionError("blocklist import failed: " + p.stdout + p.stderr)
            cls.srv = ddserver.Server(data_dir=data_dir).start()
            cls.acct = cls.srv.key()["account_id"]
            cls.build_fleet()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv:
            cls.srv.stop()
        cls.pki.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- the fleet -------------------------------------------------------------------
    @classmethod
    def arn(cls, resource):
        return "arn:aws:iot:%s:%s:%s" % (REGION, cls.acct, resource)

    @classmethod
    def build_fleet(cls):
        srv, pki = cls.srv, cls.pki
        iot, iam, cog = srv.client("iot"), srv.client("iam"), srv.client("cognito-identity")
        now_ms = int(time.time() * 1000)
        exp = {c: {"total": None, "findings": []} for c in CHECKS}

        def finding(check, rtype, ident, code, related=None):
            exp[check]["findings"].append({"type": rtype, "id": ident, "code": code, "related": related})

        # -- CA certificates
        code = iot.get_registration_code()["registrationCode"]

        def register_ca(ca, proof=True):
            pem = pki.ca_pem(ca)
            if proof:
                proof_pem = read(pki.verification(ca, code))
                return iot.register_ca_certificate(caCertificate=pem, setAsActive=True,
                                                   verificationCertificate=proof_pem)["certificateId"]
            return iot.register_ca_certificate(caCertificate=pem, setAsActive=True,
                                               certificateMode="SNI_ONLY")["certificateId"]

        root = pki.root("Checks Root CA")
        inter = pki.intermediate(root, "Checks Intermediate CA")
        short = pki.root("Checks Short-Lived CA", days=10)
        weak_ca = pki.root("Checks Debian-Weak CA", key=DEBIAN_CA_KEY)
        roca_ca = pki.root("Checks ROCA CA", key=ROCA_KEY)
        cls.root_id = register_ca(root)
        cls.inter_id = register_ca(inter)
        cls.short_id = register_ca(short, proof=False)
        cls.weak_ca_id = register_ca(weak_ca)
        cls.roca_ca_id = register_ca(roca_ca, proof=False)
        for c in ("CA_CERTIFICATE_EXPIRING_CHECK", "CA_CERTIFICATE_KEY_QUALITY_CHECK",
                  "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK"):
            exp[c]["total"] = 5
        ca = lambda i: {"caCertificateId": i}  # noqa: E731
        finding("CA_CERTIFICATE_EXPIRING_CHECK", "CA_CERTIFICATE", ca(cls.short_id),
                "CERTIFICATE_APPROACHING_EXPIRATION")
        finding("CA_CERTIFICATE_KEY_QUALITY_CHECK", "CA_CERTIFICATE", ca(cls.weak_ca_id),
                "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166")
        finding("CA_CERTIFICATE_KEY_QUALITY_CHECK", "CA_CERTIFICATE", ca(cls.roca_ca_id),
                "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361")
        finding("REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", "CA_CERTIFICATE", ca(cls.inter_id),
                "CERTIFICATE_REVOKED_BY_ISSUER")

        # -- device certificates
        def register(path, with_ca=True, status="ACTIVE"):
            pem = read(path)
            if with_ca:
                return iot.register_certificate(certificatePem=pem, status=status)["certificateId"]
            return iot.register_certificate_without_ca(certificatePem=pem, status=status)["certificateId"]

        dev = {}
        dev["ok"] = register(pki.leaf(root, "dev-ok"))
        dev["expiring"] = register(pki.leaf(root, "dev-expiring", end=days_from_now(10)))
        dev["old"] = register(pki.leaf(root, "dev-old", start=days_from_now(-90)), with_ca=False)
        dev["roca"] = register(pki.leaf(root, "dev-roca", key=ROCA_KEY))
        dev["debian"] = register(pki.leaf(root, "dev-debian", key=DEBIAN_DEVICE_KEY), with_ca=False)
        revoked_path = pki.leaf(root, "dev-revoked")
        dev["revoked"] = register(revoked_path)
        dev["inter"] = register(pki.leaf(inter, "dev-under-intermediate"))
        dev["shared"] = register(pki.leaf(root, "dev-shared"))
        dev["conflict-a"] = register(pki.leaf(root, "dev-conflict-a"))
        dev["conflict-b"] = register(pki.leaf(root, "dev-conflict-b"), with_ca=False)
        # out of scope (INACTIVE): would be noncompliant for the expiring check otherwise
        dev["inactive"] = register(pki.leaf(root, "dev-inactive", end=days_from_now(5)), status="INACTIVE")
        cls.dev = dev
        for c in ("DEVICE_CERTIFICATE_EXPIRING_CHECK", "DEVICE_CERTIFICATE_AGE_CHECK",
                  "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
                  "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK"):
            exp[c]["total"] = 10
        d = lambda k: {"deviceCertificateId": dev[k]}  # noqa: E731
        finding("DEVICE_CERTIFICATE_EXPIRING_CHECK", "DEVICE_CERTIFICATE", d("expiring"),
                "CERTIFICATE_APPROACHING_EXPIRATION")
        finding("DEVICE_CERTIFICATE_AGE_CHECK", "DEVICE_CERTIFICATE", d("old"), "CERTIFICATE_PAST_AGE_THRESHOLD")
        finding("DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", "DEVICE_CERTIFICATE", d("roca"),
                "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361")
        finding("DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", "DEVICE_CERTIFICATE", d("debian"),
                "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166")
        finding("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "DEVICE_CERTIFICATE", d("revoked"),
                "CERTIFICATE_REVOKED_BY_ISSUER")
        finding("INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK", "DEVICE_CERTIFICATE", d("inter"),
                "INTERMEDIATE_CA_REVOKED_BY_ISSUER",
                [("ISSUER_CERTIFICATE", "issuerCertificateIdentifier", cls.inter_id)])

        # -- the root's CRL revokes the intermediate and one device certificate
        pki.revoke(root, os.path.join(inter, "ca.pem"))
        pki.revoke(root, revoked_path)
        status, out = signed(srv, "POST", "/crl-import",
                             json.dumps({"caCertificateId": cls.root_id, "crlPem": read(pki.crl(root))}).encode())
        assert status == 200 and out["revokedCount"] == 2, (status, out)

        # -- connection events (three hours ago, inside the 31-day window)
        t = now_ms - 3 * 3600 * 1000
        s = 1000

        def ev(event, client, cert, ts, reason=None):
            e = {"event": event, "clientId": client, "certificateId": dev[cert], "timestamp": ts}
            if reason:
                e["reason"] = reason
            return e

        events = [
            # one certificate, two client ids connected at the same time: shared
            ev("connect", "sensor-a", "shared", t), ev("connect", "sensor-b", "shared", t + 60 * s),
            ev("disconnect", "sensor-a", "shared", t + 600 * s, "CLIENT_INITIATED_DISCONNECT"),
            ev("disconnect", "sensor-b", "shared", t + 900 * s, "CLIENT_INITIATED_DISCONNECT"),
            # one device reconnecting with its own certificate and client id: compliant for both
            ev("connect", "lamp-1", "ok", t), ev("disconnect", "lamp-1", "ok", t + 300 * s, "CONNECTION_LOST"),
            ev("connect", "lamp-1", "ok", t + 400 * s),
            ev("disconnect", "lamp-1", "ok", t + 700 * s, "CLIENT_INITIATED_DISCONNECT"),
            # a client id taken over by a connection with another certificate (still open)
            ev("connect", "dup-client", "conflict-a", t + 1000 * s),
            ev("connect", "dup-client", "conflict-b", t + 2000 * s),
            ev("disconnect", "dup-client", "conflict-a", t + 2000 * s, "DUPLICATE_CLIENTID"),
        ]
        status, out = post_events(srv, events)
        assert status == 200 and out.get("accepted") == len(events), (status, out)
        exp["DEVICE_CERTIFICATE_SHARED_CHECK"]["total"] = 4      # shared, ok, conflict-a, conflict-b
        exp["CONFLICTING_CLIENT_IDS_CHECK"]["total"] = 4         # sensor-a, sensor-b, lamp-1, dup-client
        finding("DEVICE_CERTIFICATE_SHARED_CHECK", "DEVICE_CERTIFICATE", d("shared"),
                "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
                [("CLIENT_ID", "clientId", "sensor-b", {"CONNECTION_TIME": str(t + 60 * s),
                                                      "DISCONNECTION_TIME": str(t + 900 * s)}),
                 ("CLIENT_ID", "clientId", "sensor-a", {"CONNECTION_TIME": str(t),
                                                      "DISCONNECTION_TIME": str(t + 600 * s)})])
        finding("CONFLICTING_CLIENT_IDS_CHECK", "CLIENT_ID", {"clientId": "dup-client"},
                "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS",
                [("DEVICE_CERTIFICATE", "deviceCertificateId", dev["conflict-b"],
                  {"CONNECTION_TIME": str(t + 2000 * s)}),
                 ("DEVICE_CERTIFICATE", "deviceCertificateId", dev["conflict-a"],
                  {"CONNECTION_TIME": str(t + 1000 * s), "DISCONNECTION_TIME": str(t + 2000 * s)})])

        # -- IoT policies (documents from shared/testdata/policies/examples)
        topic, tfilter, thing = cls.arn("topic/"), cls.arn("topicfilter/"), cls.arn("thing/")
        own_shadow = doc(allow(["iot:Publish"], [topic + "$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"]))
        iot.create_policy(policyName="ChecksWide", policyDocument=own_shadow)
        v = iot.create_policy_version(policyName="ChecksWide", setAsDefault=True,
                                      policyDocument=doc(allow(["iot:*"], "*")))
        assert v["policyVersionId"] == "2" and v["isDefaultVersion"], v
        iot.create_policy(policyName="ChecksOwnShadow", policyDocument=own_shadow)
        iot.create_policy(policyName="ChecksDenyPlus", policyDocument=doc(
            deny("iot:Subscribe", tfilter + "building/+/control_room"),
            allow("iot:Subscribe", tfilter + "building/camera/*")))
        iot.create_policy(policyName="ChecksDenySubset", policyDocument=doc(
            allow("iot:Subscribe", tfilter + "building/*"),
            deny("iot:Subscribe", tfilter + "building/control_room/*"),
            allow("iot:Receive", topic + "building/*")))
        iot.create_policy(policyName="ChecksDenySubsetFixed", policyDocument=doc(
            allow("iot:Subscribe", tfilter + "building/*"),
            deny("iot:Subscribe", tfilter + "building/control_room/*"),
            allow("iot:Receive", topic + "building/*"),
            deny("iot:Receive", topic + "building/control_room/*")))
        exp["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["total"] = 5
        exp["IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK"]["total"] = 5
        def pv(name, version):
            return {"policyVersionIdentifier": {"policyName": name, "policyVersionId": version}}

        finding("IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "IOT_POLICY", pv("ChecksWide", "2"),
                "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS")
        finding("IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", "IOT_POLICY", pv("ChecksDenyPlus", "1"),
                "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT")
        finding("IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", "IOT_POLICY", pv("ChecksDenySubset", "1"),
                "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS")

        # -- Cognito identity pools and their roles
        def role(name, service, policy):
            r = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName=name + "Policy", PolicyDocument=policy)
            return r

        read_actions = ["iot:DescribeThing", "iot:ListJobExecutionsForThing", "iot:ListThingGroupsForThing",
                        "iot:ListThingPrincipals"]
        shadow_job_api = ["iot:DeleteThingShadow", "iot:GetThingShadow", "iot:UpdateThingShadow",
                          "iot:DescribeJobExecution", "iot:GetPendingJobExecutions",
                          "iot:StartNextPendingJobExecution", "iot:UpdateJobExecution"]
        cognito = "cognito-identity.amazonaws.com"
        auth_bad = role("ChecksCognitoAuthBad", cognito, doc(
            allow(read_actions, [thing + "*"]),
            allow(["iot:CreateThing", "iot:AttachThingPrincipal", "iot:UpdateThing"], [thing + "MyThing"]),
            allow(["iot:CreatePolicy", "iot:AttachPolicy"], "*")))
        auth_ok = role("ChecksCognitoAuthOk", cognito, doc(allow(read_actions, [thing + "MyThing*"])))
        unauth_bad = role("ChecksCognitoUnauthBad", cognito, doc(
            allow(read_actions, [thing + "MyThing"]), allow(shadow_job_api, [thing + "*"])))
        unauth_ok = role("ChecksCognitoUnauthOk", cognito, doc(
            allow(shadow_job_api, [thing + "MyThing1", thing + "MyThing2"])))

        def pool(name, roles):
            pid = cog.create_identity_pool(IdentityPoolName=name,
                                           AllowUnauthenticatedIdentities="unauthenticated" in roles)["IdentityPoolId"]
            cog.set_identity_pool_roles(IdentityPoolId=pid, Roles=roles)
            return pid

        cls.pools = {
            "p1": pool("checks_pool_1", {"authenticated": auth_bad, "unauthenticated": unauth_ok}),
            "p2": pool("checks_pool_2", {"authenticated": auth_ok, "unauthenticated": unauth_bad}),
            "p3": pool("checks_pool_3", {"authenticated": auth_ok}),
        }
        exp["AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"]["total"] = 3
        exp["UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"]["total"] = 2
        for c in ("ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS", "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
                  "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS"):
            finding("AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", "COGNITO_IDENTITY_POOL",
                    {"cognitoIdentityPoolId": cls.pools["p1"]}, c, [("IAM_ROLE", "iamRoleArn", auth_bad)])
        for c in ("ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS", "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"):
            finding("UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", "COGNITO_IDENTITY_POOL",
                    {"cognitoIdentityPoolId": cls.pools["p2"]}, c, [("IAM_ROLE", "iamRoleArn", unauth_bad)])

        # -- role aliases, their roles and what the roles used
        creds = "credentials.iot.amazonaws.com"
        broad = role("ChecksAliasBroad", creds, doc(allow(["s3:*"], "*"),
                                                    allow(["iam:GetRole", "dynamodb:PutItem"], "*")))
        scoped = role("ChecksAliasScoped", creds, doc(allow(
            ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::firmware-bucket/${credentials-iot:ThingName}/*")))
        broad_alias = iot.create_role_alias(roleAlias="checks-broad", roleArn=broad)["roleAliasArn"]
        scoped_alias = iot.create_role_alias(roleAlias="checks-scoped", roleArn=scoped)["roleAliasArn"]
        assert (broad_alias, scoped_alias) == (cls.arn("rolealias/checks-broad"),
                                               cls.arn("rolealias/checks-scoped")), (broad_alias, scoped_alias)
        for arn, services in ((broad, {"s3": now_ms - DAY_MS, "dynamodb": now_ms - 400 * DAY_MS}),
                              (scoped, {"s3": now_ms - 2 * DAY_MS})):
            status, out = signed(srv, "POST", "/role-service-usage",
                                 json.dumps({"roleArn": arn, "services": services}).encode())
            assert status == 200, (status, out)
        exp["IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK"]["total"] = 2
        exp["IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK"]["total"] = 2
        for c in ("ALLOWS_BROAD_ACCESS_TO_USED_SERVICES", "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES"):
            finding("IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", "ROLE_ALIAS", {"roleAliasArn": broad_alias}, c,
                    [("IAM_ROLE", "iamRoleArn", broad)])
        finding("IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", "ROLE_ALIAS", {"roleAliasArn": broad_alias},
                "ALLOWS_ACCESS_TO_UNUSED_SERVICES", [("IAM_ROLE", "iamRoleArn", broad)])

        # -- logging: nothing configured yet (one resource per account)
        exp["LOGGING_DISABLED_CHECK"]["total"] = 1
        finding("LOGGING_DISABLED_CHECK", "ACCOUNT_SETTINGS", {"account": cls.acct}, "LOGGING_DISABLED")

        cls.expected = exp
        cls.audit_role = audit_role(srv, "ChecksAuditRole")

    # ---- audits through the aws CLI v2 -------------------------------------------------
    def cli(self, *args):
        return self.srv.aws("iot", *args, v2=True)

    def run_audit(self, names):
        task = self.cli("start-on-demand-audit-task", "--target-check-names", *names)["taskId"]
        self.assertRegex(task, "^[0-9a-f]{32}$")
        deadline = time.time() + 120
        while True:
            t = self.cli("describe-audit-task", "--task-id", task)
            if t["taskStatus"] != "IN_PROGRESS" or time.time() > deadline:
                break
            time.sleep(0.3)
        self.assertEqual(t["taskStatus"], "COMPLETED", t)
        self.assertEqual(t["taskType"], "ON_DEMAND_AUDIT_TASK")
        findings = self.cli("list-audit-findings", "--task-id", task)["findings"]
        for f in findings:
            self.assertEqual(f["taskId"], task)
        t["taskId"] = task  # DescribeAuditTask does not repeat it
        return t, findings

    def observed(self, findings, check):
        out = []
        for f in findings:
            if f["checkName"] != check:
                continue
            r = f["nonCompliantResource"]
            out.append((r["resourceType"], key_of(r["resourceIdentifier"]), f["severity"],
                        f["reasonForNonComplianceCode"]))
        return sorted(out)

    def assert_audit(self, task, findings, checks):
        self.assertEqual(sorted(task["auditDetails"]), sorted(checks))
        ncompliant = 0
        for check in checks:
            with self.subTest(check=check):
                exp = self.expected[check]
                det = task["auditDetails"][check]
                resources = {key_of(f["id"]) for f in exp["findings"]}
                status = "COMPLETED_NON_COMPLIANT" if resources else "COMPLETED_COMPLIANT"
                ncompliant += not resources
                self.assertEqual(det["checkRunStatus"], status, det)
                self.assertEqual(det.get("checkCompliant"), not resources, det)
                self.assertEqual(det["totalResourcesCount"], exp["total"], det)
                self.assertEqual(det["nonCompliantResourcesCount"], len(resources), det)
                self.assertEqual(det.get("suppressedNonCompliantResourcesCount", 0), 0, det)
                want = sorted((e["type"], key_of(e["id"]), SEVERITY[check], e["code"]) for e in exp["findings"])
                self.assertEqual(self.observed(findings, check), want)
                for e in exp["findings"]:
                    if e["related"] is None:
                        continue
                    got = [f for f in findings if f["checkName"] == check
                           and key_of(f["nonCompliantResource"]["resourceIdentifier"]) == key_of(e["id"])
                           and f["reasonForNonComplianceCode"] == e["code"]]
                    self.assertEqual(len(got), 1)
                    self.assertEqual(self.related(got[0]), e["related"])
        st = task["taskStatistics"]
        self.assertEqual((st["totalChecks"], st["compliantChecks"], st["nonCompliantChecks"], st["failedChecks"]),
                         (len(checks), ncompliant, len(checks) - ncompliant, 0))
        self.assertEqual({f["checkName"] for f in findings} - set(checks), set())

    @staticmethod
    def related(finding):
        out = []
        for r in finding.get("relatedResources", []):
            ident = r["resourceIdentifier"]
            (key, value), = ident.items()
            if key == "issuerCertificateIdentifier":
                value = value["issuerId"]
            item = (r["resourceType"], key, value)
            if r.get("additionalInfo"):
                item += (r["additionalInfo"],)
            out.append(item)
        return out

    # ---- the test ----------------------------------------------------------------------
    def test_every_check_by_api_name_then_by_seed_alias(self):
        iot = self.srv.client("iot")
        # Audit 1: every check enabled and named by its API name
        iot.update_account_audit_configuration(
            roleArn=self.audit_role,
            auditCheckConfigurations={c: ({"enabled": True, "configuration": AGE_CONFIG}
                                          if c == "DEVICE_CERTIFICATE_AGE_CHECK" else {"enabled": True})
                                      for c in CHECKS})
        cfg = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
        self.assertEqual(sorted(c for c, v in cfg.items() if v["enabled"]), CHECKS)
        self.assertEqual(cfg["DEVICE_CERTIFICATE_AGE_CHECK"]["configuration"], AGE_CONFIG)
        task1, findings1 = self.run_audit(CHECKS)
        self.assertEqual(task1["taskStatistics"]["nonCompliantChecks"], 17)
        self.assert_audit(task1, findings1, CHECKS)
        self.assertEqual(len(findings1), 24)
        # the intermediate's identifier carries its subject too
        inter = [f for f in findings1
                 if f["checkName"] == "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK"][0]
        issuer = inter["relatedResources"][0]["resourceIdentifier"]["issuerCertificateIdentifier"]
        self.assertIn("Checks Intermediate CA", issuer["issuerCertificateSubject"])

        # Audit 2: the five checks with a seed name are disabled, then enabled through that
        # name (aws CLI v2), and every check is named by its seed name where it has one
        iot.update_account_audit_configuration(auditCheckConfigurations={c: {"enabled": False} for c in ALIASES})
        cfg = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
        self.assertFalse(any(cfg[c]["enabled"] for c in ALIASES))
        self.cli("update-account-audit-configuration", "--audit-check-configurations",
                 json.dumps({a: {"enabled": True} for a in ALIASES.values()}))
        cfg = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
        self.assertEqual(sorted(cfg), CHECKS)  # answered under the API names only
        self.assertEqual(sorted(c for c, v in cfg.items() if v["enabled"]), CHECKS)
        names = [ALIASES.get(c, c) for c in CHECKS]
        task2, findings2 = self.run_audit(names)
        self.assertNotEqual(task2["taskId"], task1["taskId"])
        self.assert_audit(task2, findings2, CHECKS)
        for check in CHECKS:
            with self.subTest(check=check, audit="aliases vs API names"):
                d1, d2 = task1["auditDetails"][check], task2["auditDetails"][check]
                for k in ("checkRunStatus", "totalResourcesCount", "nonCompliantResourcesCount"):
                    self.assertEqual(d1[k], d2[k])
                self.assertEqual(self.observed(findings2, check), self.observed(findings1, check))
        # the seed names are also accepted as a finding filter, answered under the API name
        f = iot.list_audit_findings(taskId=task2["taskId"], checkName="REVOKED_DEVICE_CERT_CHECK")["findings"]
        self.assertEqual([(x["checkName"], x["nonCompliantResource"]["resourceIdentifier"]) for x in f],
                         [("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
                           {"deviceCertificateId": self.dev["revoked"]})])

        # Audit 3: v2 logging configured -> the account's one resource is compliant
        iam = self.srv.client("iam")
        log_role = iam.create_role(RoleName="ChecksLoggingRole",
                                   AssumeRolePolicyDocument=trust("iot.amazonaws.com"))["Role"]["Arn"]
        iot.set_v2_logging_options(roleArn=log_role, defaultLogLevel="INFO", disableAllLogs=False)
        task3, findings3 = self.run_audit(["LOGGING_DISABLED_CHECK"])
        det = task3["auditDetails"]["LOGGING_DISABLED_CHECK"]
        self.assertEqual((det["checkRunStatus"], det["totalResourcesCount"], det["nonCompliantResourcesCount"]),
                         ("COMPLETED_COMPLIANT", 1, 0))
        self.assertEqual(findings3, [])
        self.assertEqual(task3["taskStatistics"]["compliantChecks"], 1)


if __name__ == "__main__":
    unittest.main()
