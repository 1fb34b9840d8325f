"""IAM subset against the real server with boto3 and the aws CLI: roles, trust policies,
inline and managed policies, AWS managed policies, errors (DeleteConflict,
MalformedPolicyDocument, NoSuchEntity, EntityAlreadyExists, LimitExceeded) and
isolation between two accounts."""
import json
import os
import tempfile
import unittest

import botocore.exceptions

from ddserver import Server, write_credentials

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
DOC = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iot:UpdateCertificate"], "Resource": "*"}]}
AUDIT_ARN = "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit"
MANAGED = ["AWSIoTDeviceDefenderAudit",
           "AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction",
           "AWSIoTDeviceDefenderReplaceDefaultPolicyMitigationAction",
           "AWSIoTDeviceDefenderUpdateCACertMitigationAction",
           "AWSIoTDeviceDefenderUpdateDeviceCertMitigationAction",
           "AWSIoTDeviceDefenderEnableIoTLoggingMitigationAction",
           "AWSIoTDeviceDefenderPublishFindingsToSNSMitigationAction",
           "AWSIoTLogging"]


def code(exc):
    return exc.exception.response["Error"]["Code"]


class IamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddiam-")
        cls.creds = os.path.join(cls.tmp, "credentials")
        write_credentials(cls.creds, [
            ("a", "AKIAAAAAAAAAAAAAAAA1", "secretA/secretA/secretA/secretA/secretA1", "111111111111"),
            ("b", "AKIABBBBBBBBBBBBBBB2", "secretB/secretB/secretB/secretB/secretB2", "222222222222"),
        ])
        cls.srv = Server(credentials=cls.creds).start()
        cls.iam = cls.srv.client("iam")
        cls.iam_b = cls.srv.client("iam", i=1)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_role_lifecycle(self):
        r = self.iam.create_role(RoleName="LifeRole", Path="/svc/", Description="d",
                                 MaxSessionDuration=7200, AssumeRolePolicyDocument=json.dumps(TRUST),
                                 Tags=[{"Key": "k", "Value": "v"}])["Role"]
        self.assertEqual(r["Arn"], "arn:aws:iam::111111111111:role/svc/LifeRole")
        self.assertRegex(r["RoleId"], r"^AROA[A-Z0-9]{17}$")
        self.assertEqual(r["AssumeRolePolicyDocument"], TRUST)  # botocore decodes the URL-encoded JSON
        self.assertEqual(r["CreateDate"].year >= 2024, True)
        g = self.iam.get_role(RoleName="liferole")["Role"]  # names are case-insensitive
        self.assertEqual(g["RoleName"], "LifeRole")
        self.assertEqual(g["MaxSessionDuration"], 7200)
        self.assertEqual(g["Description"], "d")
        self.assertEqual(g["Tags"], [{"Key": "k", "Value": "v"}])
        names = [x["RoleName"] for x in self.iam.list_roles(PathPrefix="/svc/")["Roles"]]
        self.assertEqual(names, ["LifeRole"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.create_role(RoleName="LifeRole", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.assertEqual(code(e), "EntityAlreadyExists")
        new_trust = dict(TRUST)
        new_trust["Statement"] = [dict(TRUST["Statement"][0], Principal={"Service": ["iot.amazonaws.com", "lambda.amazonaws.com"]})]
        self.iam.update_assume_role_policy(RoleName="LifeRole", PolicyDocument=json.dumps(new_trust))
        self.assertEqual(self.iam.get_role(RoleName="LifeRole")["Role"]["AssumeRolePolicyDocument"], new_trust)
        self.iam.tag_role(RoleName="LifeRole", Tags=[{"Key": "k2", "Value": "v2"}])
        self.iam.untag_role(RoleName="LifeRole", TagKeys=["k"])
        self.assertEqual(self.iam.list_role_tags(RoleName="LifeRole")["Tags"], [{"Key": "k2", "Value": "v2"}])
        self.iam.delete_role(RoleName="LifeRole")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.get_role(RoleName="LifeRole")
        self.assertEqual(code(e), "NoSuchEntity")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_inline_policies_and_delete_conflict(self):
        self.iam.create_role(RoleName="InlineRole", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.iam.put_role_policy(RoleName="InlineRole", PolicyName="P1", PolicyDocument=json.dumps(DOC))
        got = self.iam.get_role_policy(RoleName="InlineRole", PolicyName="P1")
        self.assertEqual(got["PolicyDocument"], DOC)
        self.assertEqual(self.iam.list_role_policies(RoleName="InlineRole")["PolicyNames"], ["P1"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.delete_role(RoleName="InlineRole")
        self.assertEqual(code(e), "DeleteConflict")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)
        self.iam.attach_role_policy(RoleName="InlineRole", PolicyArn=AUDIT_ARN)
        self.iam.delete_role_policy(RoleName="InlineRole", PolicyName="P1")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.delete_role(RoleName="InlineRole")
        self.assertEqual(code(e), "DeleteConflict")
        self.assertIn("detach", e.exception.response["Error"]["Message"])
        self.iam.detach_role_policy(RoleName="InlineRole", PolicyArn=AUDIT_ARN)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.detach_role_policy(RoleName="InlineRole", PolicyArn=AUDIT_ARN)
        self.assertEqual(code(e), "NoSuchEntity")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.delete_role_policy(RoleName="InlineRole", PolicyName="P1")
        self.assertEqual(code(e), "NoSuchEntity")
        self.iam.delete_role(RoleName="InlineRole")

    def test_malformed_documents(self):
        cases = [
            "not json",
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "sts:AssumeRole"}]}),
            json.dumps({"Version": "2012-10-17", "Statement": [dict(TRUST["Statement"][0], Resource="*")]}),
        ]
        for doc in cases:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.iam.create_role(RoleName="BadTrust", AssumeRolePolicyDocument=doc)
            self.assertEqual(code(e), "MalformedPolicyDocument", doc)
            self.assertTrue(e.exception.response["Error"]["Message"])
        self.iam.create_role(RoleName="DocRole", AssumeRolePolicyDocument=json.dumps(TRUST))
        for doc in ["{", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
                    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*",
                                                                        "Resource": "*", "Principal": "*"}]})]:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.iam.put_role_policy(RoleName="DocRole", PolicyName="X", PolicyDocument=doc)
            self.assertEqual(code(e), "MalformedPolicyDocument", doc)
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.iam.create_policy(PolicyName="BadDoc", PolicyDocument=doc)
            self.assertEqual(code(e), "MalformedPolicyDocument", doc)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.update_assume_role_policy(RoleName="DocRole", PolicyDocument="[]")
        self.assertEqual(code(e), "MalformedPolicyDocument")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.put_role_policy(RoleName="NoSuchRole", PolicyName="X", PolicyDocument=json.dumps(DOC))
        self.assertEqual(code(e), "NoSuchEntity")
        self.iam.delete_role(RoleName="DocRole")

    def test_aws_managed_policies(self):
        pols = self.iam.list_policies(Scope="AWS")["Policies"]
        names = {p["PolicyName"] for p in pols}
        for n in MANAGED:
            self.assertIn(n, names)
        for n in MANAGED:
            arn = "arn:aws:iam::aws:policy/service-role/" + n
            p = self.iam.get_policy(PolicyArn=arn)["Policy"]
            self.assertEqual(p["Arn"], arn)
            self.assertEqual(p["Path"], "/service-role/")
            v = self.iam.get_policy_version(PolicyArn=arn, VersionId=p["DefaultVersionId"])["PolicyVersion"]
            self.assertIsInstance(v["Document"], dict)
            self.assertTrue(v["IsDefaultVersion"])
        doc = self.iam.get_policy_version(PolicyArn=AUDIT_ARN, VersionId="v3")["PolicyVersion"]["Document"]
        actions = doc["Statement"][0]["Action"]
        self.assertIn("iam:GetRolePolicy", actions)
        self.assertIn("cognito-identity:GetIdentityPoolRoles", actions)
        sns_doc = self.iam.get_policy_version(
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderPublishFindingsToSNSMitigationAction",
            VersionId="v1")["PolicyVersion"]["Document"]
        self.assertEqual(sns_doc["Statement"][0]["Action"], ["sns:Publish"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/Nope")
        self.assertEqual(code(e), "NoSuchEntity")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.delete_policy(PolicyArn=AUDIT_ARN)
        self.assertEqual(code(e), "InvalidInput")

    def test_customer_managed_policies(self):
        p = self.iam.create_policy(PolicyName="CustPol", Path="/team/", PolicyDocument=json.dumps(DOC),
                                   Description="mine")["Policy"]
        arn = p["Arn"]
        self.assertEqual(arn, "arn:aws:iam::111111111111:policy/team/CustPol")
        self.assertEqual(p["DefaultVersionId"], "v1")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.create_policy(PolicyName="CustPol", PolicyDocument=json.dumps(DOC))
        self.assertEqual(code(e), "EntityAlreadyExists")
        local = [x["Arn"] for x in self.iam.list_policies(Scope="Local")["Policies"]]
        self.assertEqual(local, [arn])
        self.iam.create_role(RoleName="CustRole", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.iam.attach_role_policy(RoleName="CustRole", PolicyArn=arn)
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 1)
        attached = [x["Arn"] for x in self.iam.list_policies(Scope="All", OnlyAttached=True)["Policies"]]
        self.assertEqual(attached, [arn])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.delete_policy(PolicyArn=arn)
        self.assertEqual(code(e), "DeleteConflict")
        doc2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iot:*", "Resource": "*"}]}
        v2 = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc2), SetAsDefault=True)
        self.assertEqual(v2["PolicyVersion"]["VersionId"], "v2")
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v2")
        self.assertEqual(self.iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"], doc2)
        self.assertEqual(self.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"], DOC)
        vs = [v["VersionId"] for v in self.iam.list_policy_versions(PolicyArn=arn)["Versions"]]
        self.assertEqual(sorted(vs), ["v1", "v2"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
        self.assertEqual(code(e), "DeleteConflict")
        for _ in range(3):
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC))
        self.assertEqual(code(e), "LimitExceeded")
        self.iam.detach_role_policy(RoleName="CustRole", PolicyArn=arn)
        for v in ["v1", "v3", "v4", "v5"]:
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)
        self.iam.delete_policy(PolicyArn=arn)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.get_policy(PolicyArn=arn)
        self.assertEqual(code(e), "NoSuchEntity")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.attach_role_policy(RoleName="CustRole", PolicyArn=arn)
        self.assertEqual(code(e), "NoSuchEntity")
        self.iam.delete_role(RoleName="CustRole")

    def test_paging(self):
        for i in range(7):
            self.iam.create_role(RoleName="Page%02d" % i, Path="/paging/", AssumeRolePolicyDocument=json.dumps(TRUST))
        seen, marker = [], None
        while True:
            kw = {"PathPrefix": "/paging/", "MaxItems": 3}
            if marker:
                kw["Marker"] = marker
            r = self.iam.list_roles(**kw)
            seen += [x["RoleName"] for x in r["Roles"]]
            if not r.get("IsTruncated"):
                break
            marker = r["Marker"]
        self.assertEqual(seen, ["Page%02d" % i for i in range(7)])
        paginated = [x["RoleName"] for page in self.iam.get_paginator("list_roles").paginate(
            PathPrefix="/paging/", PaginationConfig={"PageSize": 2}) for x in page["Roles"]]
        self.assertEqual(paginated, seen)
        for i in range(7):
            self.iam.delete_role(RoleName="Page%02d" % i)

    def test_cross_account_isolation(self):
        self.iam.create_role(RoleName="OnlyA", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.iam.put_role_policy(RoleName="OnlyA", PolicyName="P", PolicyDocument=json.dumps(DOC))
        arn = self.iam.create_policy(PolicyName="OnlyAPol", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam_b.get_role(RoleName="OnlyA")
        self.assertEqual(code(e), "NoSuchEntity")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam_b.get_role_policy(RoleName="OnlyA", PolicyName="P")
        self.assertEqual(code(e), "NoSuchEntity")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam_b.get_policy(PolicyArn=arn)
        self.assertEqual(code(e), "NoSuchEntity")
        self.assertNotIn("OnlyA", [r["RoleName"] for r in self.iam_b.list_roles()["Roles"]])
        self.assertEqual(self.iam_b.list_policies(Scope="Local")["Policies"], [])
        # account B can have its own role of the same name, and attach an AWS managed policy
        self.iam_b.create_role(RoleName="OnlyA", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.assertEqual(self.iam_b.get_role(RoleName="OnlyA")["Role"]["Arn"], "arn:aws:iam::222222222222:role/OnlyA")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam_b.attach_role_policy(RoleName="OnlyA", PolicyArn=arn)
        self.assertEqual(code(e), "NoSuchEntity")
        self.iam_b.attach_role_policy(RoleName="OnlyA", PolicyArn=AUDIT_ARN)
        self.assertEqual(self.iam.get_policy(PolicyArn=AUDIT_ARN)["Policy"]["AttachmentCount"], 0)
        self.assertEqual(self.iam_b.get_policy(PolicyArn=AUDIT_ARN)["Policy"]["AttachmentCount"], 1)
        self.iam_b.detach_role_policy(RoleName="OnlyA", PolicyArn=AUDIT_ARN)
        self.iam_b.delete_role(RoleName="OnlyA")
        self.assertEqual(self.iam.get_role(RoleName="OnlyA")["Role"]["Arn"], "arn:aws:iam::111111111111:role/OnlyA")
        self.iam.delete_role_policy(RoleName="OnlyA", PolicyName="P")
        self.iam.delete_role(RoleName="OnlyA")
        self.iam.delete_policy(PolicyArn=arn)

    def test_cli_v2(self):
        out = self.srv.aws("iam", "create-role", "--role-name", "V2Role", "--assume-role-policy-document",
                           json.dumps(TRUST), v2=True)
        self.assertEqual(out["Role"]["AssumeRolePolicyDocument"], TRUST)
        self.srv.aws("iam", "attach-role-policy", "--role-name", "V2Role", "--policy-arn", AUDIT_ARN, v2=True)
        self.assertEqual(self.srv.aws("iam", "get-role", "--role-name", "V2Role", "--query", "Role.Arn",
                                      "--output", "text", v2=True), "arn:aws:iam::111111111111:role/V2Role")
        p = self.srv.aws("iam", "delete-role", "--role-name", "V2Role", v2=True, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("DeleteConflict", p.stderr)
        self.srv.aws("iam", "detach-role-policy", "--role-name", "V2Role", "--policy-arn", AUDIT_ARN, v2=True)
        self.srv.aws("iam", "delete-role", "--role-name", "V2Role", v2=True)


if __name__ == "__main__":
    unittest.main()
