"""Hardening and fidelity (issue 14): error paths that must not read freed memory,
identifiers of another account that must never be rebound to the caller's resource of
the same name, the errors the botocore model declares for each operation, the shape of
TestAuthorization, ListThingGroups' recursive/parentGroup semantics, and Debian weak-key
blocklists loaded out of the box. Two accounts share one server."""
import json
import os
import subprocess
import tempfile
import unittest

import botocore.exceptions

import ddserver
from auditfleet import audit_role, enable, signed, wait_task
from checksapi_pki import Pki, read
from ddserver import Server, write_credentials

A, B = "111111111111", "222222222222"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})


class FidelityBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddfid-")
        path = os.path.join(cls.tmp, "credentials")
        write_credentials(path, [
            ("alice", "AKIAALICE00000000001", "alice-secret-key-0000000000000000000000", A),
            ("bob", "AKIABOB0000000000002", "bob-secret-key-000000000000000000000000", B),
        ])
        cls.srv = Server(credentials=path).start()
        cls.iot = cls.srv.client("iot", 0)
        cls.iot_b = cls.srv.client("iot", 1)
        cls.iam = cls.srv.client("iam", 0)
        cls.iam_b = cls.srv.client("iam", 1)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def err(self, fn, **kw):
        """(code, HTTP status, message, whole response) of a call that must fail."""
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        r = cm.exception.response
        return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", ""), r

    def role(self, name, i=0):
        iam = self.iam_b if i else self.iam
        try:
            return iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            return iam.get_role(RoleName=name)["Role"]["Arn"]


class UseAfterFreeTest(FidelityBase):
    """Item 1: the error message of a refused request is built before its parsed body is
    freed (the ASan build aborts the server on a use after free, so the status and the
    exact message both prove it)."""

    def test_role_service_usage_bad_value_names_the_service(self):
        arn = self.role("UsageRole")
        for svc in ("s3", "x" * 64, "dynamodb"):
            status, out = signed(self.srv, "POST", "/role-service-usage",
                                 json.dumps({"roleArn": arn, "services": {"iot": 1, svc: "yesterday"}}).encode())
            self.assertEqual(status, 400, out)
            self.assertEqual(out.get("message"), "services.%s must be epoch milliseconds." % svc, out)
        # the server is still up and the good form still works
        status, out = signed(self.srv, "POST", "/role-service-usage",
                             json.dumps({"roleArn": arn, "services": {"s3": 1700000000000}}).encode())
        self.assertEqual((status, out), (200, {"imported": 1}))

    def test_audit_config_bad_configuration_key(self):
        code, status, msg, _ = self.err(
            self.iot.update_account_audit_configuration,
            auditCheckConfigurations={"DEVICE_CERTIFICATE_EXPIRING_CHECK": {
                "enabled": True, "configuration": {"NOT_A_KEY": "30"}}})
        self.assertEqual((code, status), ("InvalidRequestException", 400))
        self.assertIn("NOT_A_KEY", msg)


class OtherAccountArnTest(FidelityBase):
    """Item 7: an ARN naming another account is refused, never resolved to the caller's
    resource of the same name."""

    def test_thing_group_membership_by_foreign_arn(self):
        for c in (self.iot, self.iot_b):
            c.create_thing(thingName="twin")
            c.create_thing_group(thingGroupName="twins")
        g_b = self.iot_b.describe_thing_group(thingGroupName="twins")["thingGroupArn"]
        t_b = self.iot_b.describe_thing(thingName="twin")["thingArn"]
        self.assertIn(":%s:" % B, g_b)
        for kw in ({"thingGroupArn": g_b, "thingName": "twin"}, {"thingGroupName": "twins", "thingArn": t_b}):
            for fn in (self.iot.add_thing_to_thing_group, self.iot.remove_thing_from_thing_group):
                code, status, _, _ = self.err(fn, **kw)
                self.assertEqual((code, status), ("ResourceNotFoundException", 404), kw)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName="twins")["things"], [])
        self.assertEqual(self.iot_b.list_things_in_thing_group(thingGroupName="twins")["things"], [])
        # not an ARN of that kind
        code, status, _, _ = self.err(self.iot.add_thing_to_thing_group,
                                      thingGroupArn=t_b.replace(B, A), thingName="twin")
        self.assertEqual((code, status), ("InvalidRequestException", 400))
        # the caller's own ARN still works
        g_a = self.iot.describe_thing_group(thingGroupName="twins")["thingGroupArn"]
        self.iot.add_thing_to_thing_group(thingGroupArn=g_a, thingName="twin")
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName="twins")["things"], ["twin"])

    def test_role_arns_of_another_account(self):
        self.role("Twin")
        foreign = self.role("Twin", i=1)
        self.assertIn(":%s:" % B, foreign)
        calls = [
            (self.iot.create_role_alias, {"roleAlias": "alias-foreign", "roleArn": foreign}),
            (self.iot.set_v2_logging_options, {"roleArn": foreign, "defaultLogLevel": "INFO"}),
            (self.iot.set_logging_options, {"loggingOptionsPayload": {"roleArn": foreign, "logLevel": "INFO"}}),
            (self.iot.update_account_audit_configuration, {"roleArn": foreign}),
            (self.iot.create_mitigation_action, {"actionName": "m-foreign", "roleArn": foreign, "actionParams": {
                "updateDeviceCertificateParams": {"action": "DEACTIVATE"}}}),
        ]
        for fn, kw in calls:
            code, status, msg, _ = self.err(fn, **kw)
            self.assertEqual((code, status), ("InvalidRequestException", 400), (fn, msg))
        own = self.role("Twin")
        self.iot.create_role_alias(roleAlias="alias-own", roleArn=own)
        code, _, _, _ = self.err(self.iot.update_role_alias, roleAlias="alias-own", roleArn=foreign)
        self.assertEqual(code, "InvalidRequestException")
        self.assertEqual(self.iot.describe_role_alias(roleAlias="alias-own")["roleAliasDescription"]["roleArn"], own)
        # an IAM permissions boundary of another account
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.iam.create_role(RoleName="Bounded", AssumeRolePolicyDocument=TRUST,
                                 PermissionsBoundary="arn:aws:iam::%s:policy/Boundary" % B)
        self.assertEqual((cm.exception.response["Error"]["Code"],
                          cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]), ("InvalidInput", 400))
        # extension route
        status, out = signed(self.srv, "POST", "/role-service-usage",
                             json.dumps({"roleArn": foreign, "services": {"s3": 1}}).encode())
        self.assertEqual(status, 400, out)
        self.assertIn("another account", out.get("message", ""))
        # Cognito identity pool roles
        cog = self.srv.client("cognito-identity", 0)
        pool = cog.create_identity_pool(IdentityPoolName="fidpool", AllowUnauthenticatedIdentities=True)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.set_identity_pool_roles(IdentityPoolId=pool["IdentityPoolId"], Roles={"unauthenticated": foreign})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_audit_sns_target_of_another_account(self):
        own_role = self.role("Twin")
        sns_b = self.srv.client("sns", 1)
        topic_b = sns_b.create_topic(Name="findings")["TopicArn"]
        self.assertIn(":%s:" % B, topic_b)
        code, status, msg, _ = self.err(
            self.iot.update_account_audit_configuration,
            auditNotificationTargetConfigurations={"SNS": {"targetArn": topic_b, "roleArn": own_role, "enabled": True}})
        self.assertEqual((code, status), ("InvalidRequestException", 400))
        self.assertIn("another account", msg)

    def test_policy_queries_with_foreign_certificate_arn(self):
        cert_b = self.iot_b.create_keys_and_certificate(setAsActive=True)["certificateArn"]
        for fn, kw in ((self.iot.get_effective_policies, {"principal": cert_b}),
                       (self.iot.test_authorization, {"principal": cert_b, "authInfos": [
                           {"actionType": "CONNECT", "resources": ["arn:aws:iot:us-east-1:%s:client/c" % A]}]}),
                       (self.iot.list_attached_policies, {"target": cert_b}),
                       (self.iot.attach_policy, {"policyName": "x", "target": cert_b})):
            if fn == self.iot.attach_policy:
                self.iot.create_policy(policyName="x", policyDocument=POLICY)
            code, status, _, _ = self.err(fn, **kw)
            self.assertEqual((code, status), ("ResourceNotFoundException", 404), fn)

    def test_connection_event_with_foreign_certificate_arn(self):
        cert = self.iot_b.create_keys_and_certificate(setAsActive=True)
        ev = {"event": "connect", "clientId": "c1", "principal": cert["certificateArn"], "timestamp": 1700000000000}
        status, out = signed(self.srv, "POST", "/connection-events", json.dumps(ev).encode())
        self.assertEqual(status, 400, out)
        self.assertIn("another account", out.get("message", ""))
        mine = self.iot.create_keys_and_certificate(setAsActive=True)
        ev["principal"] = mine["certificateArn"]
        status, out = signed(self.srv, "POST", "/connection-events", json.dumps(ev).encode())
        self.assertEqual((status, out), (200, {"accepted": 1}))


class DeclaredErrorsTest(FidelityBase):
    """Item 12: each operation answers only the errors its model declares, with AWS's
    HTTP status."""

    def test_create_thing_group_conflicts(self):
        iot = self.iot
        r = iot.create_thing_group(thingGroupName="g12", thingGroupProperties={"thingGroupDescription": "one"})
        # the same properties again: the existing group
        again = iot.create_thing_group(thingGroupName="g12", thingGroupProperties={"thingGroupDescription": "one"})
        self.assertEqual((again["thingGroupId"], again["thingGroupArn"]), (r["thingGroupId"], r["thingGroupArn"]))
        code, status, _, resp = self.err(iot.create_thing_group, thingGroupName="g12",
                                         thingGroupProperties={"thingGroupDescription": "two"})
        self.assertEqual((code, status), ("ResourceAlreadyExistsException", 409))
        self.assertEqual((resp.get("resourceId"), resp.get("resourceArn")), (r["thingGroupId"], r["thingGroupArn"]))
        code, status, _, _ = self.err(iot.create_thing_group, thingGroupName="g12-child", parentGroupName="no-such-parent")
        self.assertEqual((code, status), ("InvalidRequestException", 400))
        code, status, _, _ = self.err(iot.create_dynamic_thing_group, thingGroupName="dyn12",
                                      queryString="attributes.x = (((")
        self.assertEqual((code, status), ("InvalidQueryException", 400))
        # a thing created twice with different attributes names the existing thing
        t = iot.create_thing(thingName="t12", attributePayload={"attributes": {"a": "1"}})
        code, status, _, resp = self.err(iot.create_thing, thingName="t12", attributePayload={"attributes": {"a": "2"}})
        self.assertEqual((code, status, resp.get("resourceId"), resp.get("resourceArn")),
                         ("ResourceAlreadyExistsException", 409, t["thingId"], t["thingArn"]))

    def test_tags_of_missing_resources(self):
        iot = self.iot
        arn = iot.create_thing_group(thingGroupName="tagged12")["thingGroupArn"]
        iot.tag_resource(resourceArn=arn, tags=[{"Key": "k", "Value": "v"}])
        missing = arn.replace("tagged12", "missing12")
        for fn, kw in ((iot.tag_resource, {"tags": [{"Key": "k", "Value": "v"}]}),
                       (iot.untag_resource, {"tagKeys": ["k"]}),
                       (iot.list_tags_for_resource, {})):
            for bad in (missing, arn.replace(A, B), arn.replace("thinggroup/", "job/")):
                code, status, _, _ = self.err(fn, resourceArn=bad, **kw)
                self.assertEqual((code, status), ("ResourceNotFoundException", 404), (fn, bad))
        self.assertEqual(iot.list_tags_for_resource(resourceArn=arn)["tags"], [{"Key": "k", "Value": "v"}])
        code, status, _, _ = self.err(iot.list_tags_for_resource, resourceArn="not-an-arn")
        self.assertEqual((code, status), ("InvalidRequestException", 400))

    def test_describe_endpoint_types(self):
        for t in ("iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs"):
            self.assertTrue(self.iot.describe_endpoint(endpointType=t)["endpointAddress"])
        self.assertTrue(self.iot.describe_endpoint()["endpointAddress"])
        code, status, _, _ = self.err(self.iot.describe_endpoint, endpointType="iot:Nope")
        self.assertEqual((code, status), ("InvalidRequestException", 400))

    def test_undeclared_not_found_is_success(self):
        iot = self.iot
        cert = iot.create_keys_and_certificate(setAsActive=False)
        iot.detach_policy(policyName="NoSuchPolicy12", target=cert["certificateArn"])
        iot.create_policy(policyName="P12", policyDocument=POLICY)
        iot.detach_policy(policyName="P12", target=cert["certificateArn"])  # not attached
        iot.delete_audit_suppression(checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                                     resourceIdentifier={"policyVersionIdentifier": {"policyName": "P12",
                                                                                      "policyVersionId": "1"}})
        out = self.iot_b.get_logging_options()
        self.assertNotIn("roleArn", out)

    def test_register_certificate_twice(self):
        iot = self.iot
        cert = iot.create_keys_and_certificate(setAsActive=True)
        pem = cert["certificatePem"]
        # issued by the server's CA, which is no registered CA of the account: the duplicate
        # is still what AWS reports, before any issuer check
        for fn, kw in ((iot.register_certificate, {"certificatePem": pem}),
                       (iot.register_certificate_without_ca, {"certificatePem": pem})):
            code, status, _, resp = self.err(fn, **kw)
            self.assertEqual((code, status), ("ResourceAlreadyExistsException", 409))
            self.assertEqual((resp.get("resourceId"), resp.get("resourceArn")),
                             (cert["certificateId"], cert["certificateArn"]))

    def test_every_emitted_code_is_declared(self):
        """scripts/declared_errors.py: the codes each handler can emit vs the model."""
        import subprocess
        import sys
        script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "declared_errors.py")
        p = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("0 with undeclared codes", p.stdout)

    def test_cognito_errors_are_400(self):
        cog = self.srv.client("cognito-identity", 0)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.describe_identity_pool(IdentityPoolId="us-east-1:00000000-0000-0000-0000-000000000000")
        r = cm.exception.response
        self.assertEqual((r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]), ("ResourceNotFoundException", 400))


class TestAuthorizationShapeTest(FidelityBase):
    """Item 13: every auth result carries allowed and denied (implicit and explicit)."""

    def test_containers_always_present(self):
        iot = self.iot
        cert = iot.create_keys_and_certificate(setAsActive=True)
        iot.create_policy(policyName="AllowConnect13", policyDocument=POLICY)
        iot.create_policy(policyName="DenyPublish13", policyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iot:Publish", "Resource": "*"}]}))
        for p in ("AllowConnect13", "DenyPublish13"):
            iot.attach_policy(policyName=p, target=cert["certificateArn"])
        res = iot.test_authorization(principal=cert["certificateArn"], authInfos=[
            {"actionType": "CONNECT", "resources": ["arn:aws:iot:us-east-1:%s:client/c1" % A]},
            {"actionType": "PUBLISH", "resources": ["arn:aws:iot:us-east-1:%s:topic/t" % A]},
            {"actionType": "SUBSCRIBE", "resources": ["arn:aws:iot:us-east-1:%s:topicfilter/t" % A]},
        ])["authResults"]
        names = lambda c: [p["policyName"] for p in c["policies"]]
        self.assertEqual([r["authDecision"] for r in res], ["ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY"])
        for r in res:
            self.assertEqual(set(r["denied"]), {"implicitDeny", "explicitDeny"}, r)
            self.assertIn("policies", r["allowed"])
        self.assertEqual((names(res[0]["allowed"]), names(res[0]["denied"]["implicitDeny"]),
                          names(res[0]["denied"]["explicitDeny"])), (["AllowConnect13"], [], []))
        self.assertEqual((names(res[1]["allowed"]), names(res[1]["denied"]["explicitDeny"])), ([], ["DenyPublish13"]))
        self.assertEqual(names(res[2]["allowed"]), [])
        self.assertEqual(names(res[2]["denied"]["explicitDeny"]), [])


class ListThingGroupsTest(FidelityBase):
    """Item 14: recursive and parentGroup."""

    def test_recursive_and_parent(self):
        iot = self.iot_b
        iot.create_thing_group(thingGroupName="r14")
        iot.create_thing_group(thingGroupName="r14-a", parentGroupName="r14")
        iot.create_thing_group(thingGroupName="r14-a-x", parentGroupName="r14-a")
        iot.create_thing_group(thingGroupName="r14-b", parentGroupName="r14")
        iot.create_thing_group(thingGroupName="s14")

        def names(**kw):
            out, tok = [], None
            while True:
                r = iot.list_thing_groups(maxResults=2, **(dict(kw, nextToken=tok) if tok else kw))
                out += [g["groupName"] for g in r["thingGroups"]]
                tok = r.get("nextToken")
                if not tok:
                    return out

        allg = ["r14", "r14-a", "r14-a-x", "r14-b", "s14"]
        self.assertEqual(names(namePrefixFilter="r14"), allg[:4])
        self.assertEqual(names(), allg)
        self.assertEqual(names(recursive=True), allg)
        self.assertEqual(names(recursive=False), ["r14", "s14"])
        self.assertEqual(names(parentGroup="r14"), ["r14-a", "r14-b"])
        self.assertEqual(names(parentGroup="r14", recursive=False), ["r14-a", "r14-b"])
        self.assertEqual(names(parentGroup="r14", recursive=True), ["r14-a", "r14-a-x", "r14-b"])
        self.assertEqual(names(parentGroup="r14", recursive=True, namePrefixFilter="r14-a"), ["r14-a", "r14-a-x"])
        self.assertEqual(names(parentGroup="r14-a-x", recursive=True), [])
        code, status, _, _ = self.err(iot.list_thing_groups, parentGroup="nope14")
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))
        # the aws CLI's --no-recursive
        out = self.srv.aws("iot", "list-thing-groups", "--no-recursive", i=1)
        self.assertEqual([g["groupName"] for g in out["thingGroups"]], ["r14", "s14"])


HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
KEYS = os.path.join(os.environ.get("DD_TESTDATA") or os.path.join(REPO, "tests", "data"), "keys")
# a Debian-weak 2048-bit RSA key (tests/data/keys/expected.tsv) and the shipped sample list
DEBIAN_KEY = os.path.join(KEYS, "debian", "hoefling-dsa-1571", "debian-openssl-0.9.8c-x86-prng-bug-2048.key")
SAMPLE_2048 = os.path.join(REPO, "data", "blocklists", "sha256_modulus_2048.csv")
KQ = "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK"


class DebianBlocklistTest(unittest.TestCase):
    """Item 17: the shipped sample lists work in a fresh data directory without an import;
    keys no complete list covers are reported as not checked (the check's message and the
    log), never as clean; an import while the server runs takes effect at once."""

    def setUp(self):
        self.pki = Pki()
        self.srv = Server().start()
        self.addCleanup(self.srv.cleanup)
        self.addCleanup(self.pki.cleanup)

    def audit(self):
        iot = self.srv.client("iot")
        tid = iot.start_on_demand_audit_task(targetCheckNames=[KQ])["taskId"]
        t = wait_task(self.srv, tid)
        findings = iot.list_audit_findings(taskId=tid)["findings"]
        return t["auditDetails"][KQ], sorted((f["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"],
                                              f["reasonForNonComplianceCode"]) for f in findings)

    def test_shipped_lists_not_checked_and_live_import(self):
        iot = self.srv.client("iot")
        enable(self.srv, audit_role(self.srv), [KQ])
        root = self.pki.root("Fidelity CA")
        reg = lambda path: iot.register_certificate_without_ca(  # noqa: E731
            certificatePem=read(path), status="ACTIVE")["certificateId"]
        weak = reg(self.pki.leaf(root, "weak", key=DEBIAN_KEY))
        good = reg(self.pki.leaf(root, "good"))
        eck = self.pki.path("ec.key")
        self.pki.openssl("ecparam", "-genkey", "-name", "secp384r1", "-noout", "-out", eck)
        ec = reg(self.pki.leaf(root, "ec", key=eck))

        # out of the box: the shipped sample finds the weak key; the other two keys are not
        # covered by any complete list, and the check says so
        details, found = self.audit()
        self.assertEqual(found, [(weak, "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166")])
        self.assertEqual((details["checkRunStatus"], details["totalResourcesCount"]), ("COMPLETED_NON_COMPLIANT", 3))
        msg = details.get("message", "")
        self.assertIn("2 of 3 certificates were NOT checked for CVE-2008-0166", msg)
        self.assertIn("RSA-2048", msg)
        self.assertIn("EC-secp384r1", msg)
        self.assertIn("not checked for CVE-2008-0166", self.srv.read_log())
        self.assertEqual(iot.describe_certificate(certificateId=good)["certificateDescription"]["status"], "ACTIVE")

        # an import while the server runs counts from the next audit and registration on
        p = subprocess.run([ddserver.BIN, "blocklist", "import", "--data-dir", self.srv.data_dir, "--format", "dwk",
                            "--key", "rsa-2048", SAMPLE_2048], capture_output=True, text=True, timeout=60,
                           env=ddserver.store_env(self.srv.data_dir))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        details, found = self.audit()
        self.assertEqual(found, [(weak, "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166")])
        self.assertIn("1 of 3 certificates were NOT checked", details.get("message", ""))
        self.assertNotIn("RSA-2048", details["message"])
        self.assertIn("EC-secp384r1", details["message"])
        # a certificate registered now is judged against the imported list
        weak2 = reg(self.pki.leaf(root, "weak-again", key=DEBIAN_KEY))
        _, found = self.audit()
        self.assertIn((weak2, "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166"), found)
        iot.update_certificate(certificateId=ec, newStatus="INACTIVE")
        details, _ = self.audit()
        self.assertNotIn("message", details)


if __name__ == "__main__":
    unittest.main()
