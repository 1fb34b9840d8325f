"""Caller authorization: IAM users, groups and access keys through boto3 and the aws CLI
v2; STS GetCallerIdentity; every request of an IAM user authorized by its identity
policies, with seed 001's three Device Defender permission policies verbatim (account id
and role names filled in), iam:PassRole, Deny over Allow, inactive and deleted keys, a
group policy that stops applying when the user leaves the group, and account isolation."""
import json
import os
import subprocess
import tempfile
import time
import unittest

import boto3
import botocore.config
import botocore.exceptions

from auditfleet import audit_role, signed
from ddserver import AWS_V2, BIN, ON_PG, Server
from iamusers import (ACCT, OTHER, REGION, RUN_POLICY, SCHEDULED_POLICY, UPDATE_POLICY, UPDATE_POLICY_NO_PASSROLE,
                      create_user, start_server)

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def err(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"], \
            e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("no error")


class AuthzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.srv = start_server("ddcreds-")
        cls.iam = cls.srv.client("iam")
        cls.iot = cls.srv.client("iot")
        cls.role = audit_role(cls.srv)  # AuditRole
        cls.iam.create_role(RoleName="AuditNotifyRole", AssumeRolePolicyDocument=TRUST)
        cls.iam.create_role(RoleName="OtherRole", AssumeRolePolicyDocument=TRUST)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def user(self, name, *policies, iam=None):
        """Creates user name with the given inline policies and an access key; returns the key."""
        return create_user(iam or self.iam, name, *policies)

    def client(self, service, key, region=REGION):
        return boto3.client(service, endpoint_url=self.srv.url, region_name=region,
                            aws_access_key_id=key["AccessKeyId"],
                            aws_secret_access_key=key["SecretAccessKey"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))

    # ---- IAM users, groups, keys ------------------------------------------------
    def test_users_and_keys_api(self):
        iam = self.iam
        u = iam.create_user(UserName="Carol", Path="/ops/")["User"]
        self.assertEqual(u["Arn"], "arn:aws:iam::%s:user/ops/Carol" % ACCT)
        self.assertTrue(u["UserId"].startswith("AIDA"))
        self.assertEqual(err(iam.create_user, UserName="carol")[0], "EntityAlreadyExists")
        self.assertEqual(iam.get_user(UserName="carol")["User"]["UserName"], "Carol")
        self.assertIn("Carol", [x["UserName"] for x in iam.list_users()["Users"]])
        self.assertEqual([x["UserName"] for x in iam.list_users(PathPrefix="/ops/")["Users"]], ["Carol"])
        k1 = iam.create_access_key(UserName="Carol")["AccessKey"]
        self.assertEqual(len(k1["SecretAccessKey"]), 40)
        self.assertTrue(k1["AccessKeyId"].startswith("AKIA"))
        k2 = iam.create_access_key(UserName="Carol")["AccessKey"]
        code, msg, status = err(iam.create_access_key, UserName="Carol")
        self.assertEqual((code, status), ("LimitExceeded", 409))
        meta = iam.list_access_keys(UserName="Carol")["AccessKeyMetadata"]
        self.assertEqual(sorted(m["AccessKeyId"] for m in meta), sorted([k1["AccessKeyId"], k2["AccessKeyId"]]))
        self.assertNotIn("SecretAccessKey", meta[0])
        iam.update_access_key(UserName="Carol", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
        st = {m["AccessKeyId"]: m["Status"] for m in iam.list_access_keys(UserName="Carol")["AccessKeyMetadata"]}
        self.assertEqual(st[k1["AccessKeyId"]], "Inactive")
        self.assertEqual(err(iam.update_access_key, UserName="Carol", AccessKeyId="AKIANOPE000000000000",
                             Status="Active")[:3:2], ("NoSuchEntity", 404))
        code, msg, status = err(iam.delete_user, UserName="Carol")
        self.assertEqual((code, status), ("DeleteConflict", 409))
        for k in (k1, k2):
            iam.delete_access_key(UserName="Carol", AccessKeyId=k["AccessKeyId"])
        iam.put_user_policy(UserName="Carol", PolicyName="p", PolicyDocument=RUN_POLICY)
        self.assertEqual(json.loads(json.dumps(iam.get_user_policy(UserName="Carol", PolicyName="p")["PolicyDocument"])),
                         json.loads(RUN_POLICY))
        self.assertEqual(iam.list_user_policies(UserName="Carol")["PolicyNames"], ["p"])
        self.assertEqual(err(iam.delete_user, UserName="Carol")[0], "DeleteConflict")
        iam.delete_user_policy(UserName="Carol", PolicyName="p")
        parn = iam.create_policy(PolicyName="CarolManaged", PolicyDocument=RUN_POLICY)["Policy"]["Arn"]
        iam.attach_user_policy(UserName="Carol", PolicyArn=parn)
        self.assertEqual(iam.list_attached_user_policies(UserName="Carol")["AttachedPolicies"],
                         [{"PolicyName": "CarolManaged", "PolicyArn": parn}])
        self.assertEqual(err(iam.delete_policy, PolicyArn=parn)[0], "DeleteConflict")
        self.assertEqual(err(iam.delete_user, UserName="Carol")[0], "DeleteConflict")
        iam.detach_user_policy(UserName="Carol", PolicyArn=parn)
        iam.create_group(GroupName="CarolGroup")
        iam.add_user_to_group(GroupName="CarolGroup", UserName="Carol")
        g = iam.get_group(GroupName="CarolGroup")
        self.assertEqual([x["UserName"] for x in g["Users"]], ["Carol"])
        self.assertEqual([x["GroupName"] for x in iam.list_groups_for_user(UserName="Carol")["Groups"]], ["CarolGroup"])
        self.assertEqual(err(iam.delete_user, UserName="Carol")[0], "DeleteConflict")
        self.assertEqual(err(iam.delete_group, GroupName="CarolGroup")[0], "DeleteConflict")
        iam.put_group_policy(GroupName="CarolGroup", PolicyName="gp", PolicyDocument=RUN_POLICY)
        self.assertEqual(iam.list_group_policies(GroupName="CarolGroup")["PolicyNames"], ["gp"])
        iam.attach_group_policy(GroupName="CarolGroup", PolicyArn=parn)
        self.assertEqual(len(iam.list_attached_group_policies(GroupName="CarolGroup")["AttachedPolicies"]), 1)
        iam.detach_group_policy(GroupName="CarolGroup", PolicyArn=parn)
        iam.delete_group_policy(GroupName="CarolGroup", PolicyName="gp")
        self.assertEqual(err(iam.get_group_policy, GroupName="CarolGroup", PolicyName="gp")[0], "NoSuchEntity")
        iam.remove_user_from_group(GroupName="CarolGroup", UserName="Carol")
        iam.delete_group(GroupName="CarolGroup")
        iam.delete_user(UserName="Carol")
        iam.delete_policy(PolicyArn=parn)
        code, msg, status = err(iam.get_user, UserName="Carol")
        self.assertEqual((code, status), ("NoSuchEntity", 404))
        # the store holding the secrets is the owner's only (on PostgreSQL, the server's to protect)
        if not ON_PG:
            self.assertEqual(os.stat(os.path.join(self.srv.data_dir, "iotdefender.db")).st_mode & 0o777, 0o600)
        self.assertEqual(err(iam.put_user_policy, UserName="Nobody", PolicyName="p",
                             PolicyDocument=RUN_POLICY)[0], "NoSuchEntity")
        self.assertEqual(err(iam.put_user_policy, UserName="Nobody", PolicyName="p",
                             PolicyDocument="{}")[0], "MalformedPolicyDocument")

    def test_caller_identity(self):
        sts = self.srv.client("sts")
        me = sts.get_caller_identity()
        self.assertEqual((me["Account"], me["Arn"], me["UserId"]), (ACCT, "arn:aws:iam::%s:root" % ACCT, ACCT))
        key = self.user("Ident")  # no policy at all: GetCallerIdentity needs none
        me = self.client("sts", key).get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:iam::%s:user/Ident" % ACCT)
        self.assertEqual(me["Account"], ACCT)
        self.assertEqual(me["UserId"], self.iam.get_user(UserName="Ident")["User"]["UserId"])
        # the same through the aws CLI v2
        env = dict(self.srv.env(0))
        env.update({"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]})
        p = subprocess.run([AWS_V2, "--endpoint-url", self.srv.url, "sts", "get-caller-identity"],
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["Arn"], "arn:aws:iam::%s:user/Ident" % ACCT)
        root = self.srv.aws("sts", "get-caller-identity", v2=True)
        self.assertEqual(root["Arn"], "arn:aws:iam::%s:root" % ACCT)

    def test_cli_v2_create_user(self):
        out = self.srv.aws("iam", "create-user", "--user-name", "CliUser", v2=True)
        self.assertEqual(out["User"]["UserName"], "CliUser")
        self.assertEqual(out["User"]["Arn"], "arn:aws:iam::%s:user/CliUser" % ACCT)
        self.assertEqual(self.iam.get_user(UserName="CliUser")["User"]["UserId"], out["User"]["UserId"])

    # ---- seed 001's policies ------------------------------------------------------
    def test_seed_run_policy(self):
        iot = self.client("iot", self.user("Runner", RUN_POLICY))
        time.sleep(0)
        cfg = iot.describe_account_audit_configuration()
        self.assertIn("auditCheckConfigurations", cfg)
        code, msg, status = err(iot.update_account_audit_configuration,
                                auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}})
        self.assertEqual((code, status), ("AccessDeniedException", 403))
        self.assertEqual(msg, "User: arn:aws:iam::%s:user/Runner is not authorized to perform: "
                              "iot:UpdateAccountAuditConfiguration on resource: *" % ACCT)
        # the root enables a check so that an audit can start
        self.iot.update_account_audit_configuration(
            roleArn=self.role, auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}})
        tid = iot.start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])["taskId"]
        self.assertEqual(iot.describe_audit_task(taskId=tid)["taskType"], "ON_DEMAND_AUDIT_TASK")
        self.assertIn(tid, [t["taskId"] for t in iot.list_audit_tasks(
            startTime=time.time() - 3600, endTime=time.time() + 3600)["tasks"]])
        try:
            iot.cancel_audit_task(taskId=tid)
        except botocore.exceptions.ClientError as e:  # it may have finished already
            self.assertEqual(e.response["Error"]["Code"], "InvalidRequestException")
        iot.list_audit_findings(taskId=tid)
        iot.list_scheduled_audits()
        # not in the policy
        self.assertEqual(err(iot.list_things)[0], "AccessDeniedException")
        self.assertEqual(err(iot.describe_thing, thingName="t")[1],
                         "User: arn:aws:iam::%s:user/Runner is not authorized to perform: iot:DescribeThing"
                         " on resource: arn:aws:iot:us-east-1:%s:thing/t" % (ACCT, ACCT))
        code, msg, status = err(self.client("iam", self.user("Runner2", RUN_POLICY)).list_users)
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("is not authorized to perform: iam:ListUsers on resource: *", msg)
        code, msg, status = err(self.client("sns", self.user("Runner3", RUN_POLICY)).list_topics)
        self.assertEqual((code, status), ("AuthorizationError", 403))
        self.assertEqual(msg, "User: arn:aws:iam::%s:user/Runner3 is not authorized to perform: sns:ListTopics"
                              " on resource: *" % ACCT)

    def test_seed_update_policy_passrole(self):
        nopass = self.client("iot", self.user("Updater1", UPDATE_POLICY_NO_PASSROLE))
        code, msg, status = err(nopass.update_account_audit_configuration, roleArn=self.role)
        self.assertEqual((code, status), ("AccessDeniedException", 403))
        self.assertEqual(msg, "User: arn:aws:iam::%s:user/Updater1 is not authorized to perform: iam:PassRole"
                              " on resource: %s" % (ACCT, self.role))
        # without a role to pass, the update needs no PassRole
        nopass.update_account_audit_configuration(
            auditCheckConfigurations={"CA_CERTIFICATE_EXPIRING_CHECK": {"enabled": True}})
        ok = self.client("iot", self.user("Updater2", UPDATE_POLICY))
        ok.update_account_audit_configuration(roleArn=self.role)
        notify = "arn:aws:iam::%s:role/AuditNotifyRole" % ACCT
        other = "arn:aws:iam::%s:role/OtherRole" % ACCT
        code, msg, _ = err(ok.update_account_audit_configuration, roleArn=self.role,
                           auditNotificationTargetConfigurations={"SNS": {
                               "targetArn": "arn:aws:sns:us-east-1:%s:t" % ACCT, "roleArn": other,
                               "enabled": True}})
        self.assertEqual(code, "AccessDeniedException")
        self.assertTrue(msg.endswith("iam:PassRole on resource: " + other), msg)
        # the notification role of the seed's policy may be passed (the handler may still
        # refuse the target itself, but not for authorization)
        try:
            ok.update_account_audit_configuration(
                roleArn=self.role, auditNotificationTargetConfigurations={"SNS": {
                    "targetArn": "arn:aws:sns:us-east-1:%s:t" % ACCT, "roleArn": notify, "enabled": True}})
        except botocore.exceptions.ClientError as e:
            self.assertNotEqual(e.response["Error"]["Code"], "AccessDeniedException")
        # the update policy grants nothing else
        self.assertEqual(err(ok.describe_account_audit_configuration)[0], "AccessDeniedException")

    def test_seed_scheduled_policy(self):
        iot = self.client("iot", self.user("Scheduler", SCHEDULED_POLICY))
        self.iot.update_account_audit_configuration(
            roleArn=self.role, auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}})
        arn = iot.create_scheduled_audit(scheduledAuditName="weekly-ops", frequency="WEEKLY", dayOfWeek="MON",
                                         targetCheckNames=["LOGGING_DISABLED_CHECK"])["scheduledAuditArn"]
        self.assertEqual(arn, "arn:aws:iot:us-east-1:%s:scheduledaudit/weekly-ops" % ACCT)
        self.assertEqual(iot.describe_scheduled_audit(scheduledAuditName="weekly-ops")["frequency"], "WEEKLY")
        iot.update_scheduled_audit(scheduledAuditName="weekly-ops", frequency="DAILY")
        code, msg, _ = err(iot.create_scheduled_audit, scheduledAuditName="other-audit", frequency="DAILY",
                           targetCheckNames=["LOGGING_DISABLED_CHECK"])
        self.assertEqual(code, "AccessDeniedException")
        self.assertTrue(msg.endswith("iot:CreateScheduledAudit on resource: "
                                     "arn:aws:iot:us-east-1:%s:scheduledaudit/other-audit" % ACCT), msg)
        # the resource ARN names us-east-1: another region is another resource
        west = self.client("iot", self.iam.create_access_key(UserName="Scheduler")["AccessKey"], "us-west-2")
        self.assertEqual(err(west.create_scheduled_audit, scheduledAuditName="weekly-ops", frequency="DAILY",
                             targetCheckNames=["LOGGING_DISABLED_CHECK"])[0], "AccessDeniedException")
        iot.delete_scheduled_audit(scheduledAuditName="weekly-ops")
        self.assertEqual(err(iot.list_scheduled_audits)[0], "AccessDeniedException")

    # ---- evaluation rules ---------------------------------------------------------
    def test_deny_beats_allow_and_variables(self):
        allow_all = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
        deny = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "iot:DeleteThing", "Resource": "*"}]})
        iot = self.client("iot", self.user("Denied", allow_all, deny))
        iot.create_thing(thingName="deny-me")
        self.assertEqual(err(iot.delete_thing, thingName="deny-me")[0], "AccessDeniedException")
        self.iot.describe_thing(thingName="deny-me")  # still there
        # ${aws:username} in a resource
        own = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iot:CreateThing", "iot:DescribeThing"],
             "Resource": "arn:aws:iot:*:*:thing/${aws:username}-*"}]})
        iot = self.client("iot", self.user("Dana", own))
        iot.create_thing(thingName="Dana-1")
        self.assertEqual(err(iot.create_thing, thingName="Eve-1")[0], "AccessDeniedException")
        # the managed policy attached to a user applies too
        key = self.user("Managed")
        iot = self.client("iot", key)
        self.assertEqual(err(iot.list_things)[0], "AccessDeniedException")
        parn = self.iam.create_policy(PolicyName="ListThingsOnly", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:ListThings",
                                                    "Resource": "*"}]}))["Policy"]["Arn"]
        self.iam.attach_user_policy(UserName="Managed", PolicyArn=parn)
        iot.list_things()
        self.iam.detach_user_policy(UserName="Managed", PolicyArn=parn)
        self.assertEqual(err(iot.list_things)[0], "AccessDeniedException")

    def test_source_ip_and_mitigation_passrole(self):
        pol = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:ListThings", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}},
            {"Effect": "Allow", "Action": "iot:ListThingGroups", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
            {"Effect": "Allow", "Action": ["iot:CreateMitigationAction", "iot:UpdateMitigationAction"],
             "Resource": "arn:aws:iot:us-east-1:%s:mitigationaction/*" % ACCT},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::%s:role/Mit*" % ACCT}]})
        iot = self.client("iot", self.user("Networked", pol))
        iot.list_things()  # we come from 127.0.0.1
        self.assertEqual(err(iot.list_thing_groups)[0], "AccessDeniedException")
        self.iam.create_role(RoleName="MitRole", AssumeRolePolicyDocument=TRUST)
        params = {"updateCACertificateParams": {"action": "DEACTIVATE"}}
        iot.create_mitigation_action(actionName="deact", roleArn="arn:aws:iam::%s:role/MitRole" % ACCT,
                                     actionParams=params)
        code, msg, _ = err(iot.create_mitigation_action, actionName="deact2",
                           roleArn="arn:aws:iam::%s:role/OtherRole" % ACCT, actionParams=params)
        self.assertEqual(code, "AccessDeniedException")
        self.assertTrue(msg.endswith("iam:PassRole on resource: arn:aws:iam::%s:role/OtherRole" % ACCT), msg)
        self.assertEqual(err(iot.update_mitigation_action, actionName="deact",
                             roleArn="arn:aws:iam::%s:role/OtherRole" % ACCT)[0], "AccessDeniedException")
        iot.update_mitigation_action(actionName="deact", roleArn="arn:aws:iam::%s:role/MitRole" % ACCT)
        # the root needs no PassRole
        self.iot.update_mitigation_action(actionName="deact", roleArn="arn:aws:iam::%s:role/OtherRole" % ACCT)

    def test_inactive_and_deleted_keys(self):
        key = self.user("Keyed", RUN_POLICY)
        iot = self.client("iot", key)
        iot.describe_account_audit_configuration()
        self.iam.update_access_key(UserName="Keyed", AccessKeyId=key["AccessKeyId"], Status="Inactive")
        code, msg, status = err(iot.describe_account_audit_configuration)
        self.assertEqual((code, status), ("UnrecognizedClientException", 403))
        self.assertEqual(msg, "The security token included in the request is invalid.")
        code, msg, status = err(self.client("iam", key).list_users)
        self.assertEqual((code, status), ("InvalidClientTokenId", 403))
        self.iam.update_access_key(UserName="Keyed", AccessKeyId=key["AccessKeyId"], Status="Active")
        iot.describe_account_audit_configuration()
        self.iam.delete_access_key(UserName="Keyed", AccessKeyId=key["AccessKeyId"])
        self.assertEqual(err(iot.describe_account_audit_configuration)[0], "UnrecognizedClientException")
        # a wrong secret for a known key
        bad = dict(key, SecretAccessKey="x" * 40)
        key2 = self.iam.create_access_key(UserName="Keyed")["AccessKey"]
        bad["AccessKeyId"] = key2["AccessKeyId"]
        self.assertEqual(err(self.client("iot", bad).describe_account_audit_configuration)[0],
                         "InvalidSignatureException")

    def test_group_policy_membership(self):
        key = self.user("Member")
        iot = self.client("iot", key)
        self.assertEqual(err(iot.list_audit_tasks, startTime=0, endTime=time.time())[0], "AccessDeniedException")
        self.iam.create_group(GroupName="Auditors")
        self.iam.put_group_policy(GroupName="Auditors", PolicyName="run", PolicyDocument=RUN_POLICY)
        self.iam.add_user_to_group(GroupName="Auditors", UserName="Member")
        iot.list_audit_tasks(startTime=0, endTime=time.time())
        self.iam.remove_user_from_group(GroupName="Auditors", UserName="Member")
        self.assertEqual(err(iot.list_audit_tasks, startTime=0, endTime=time.time())[0], "AccessDeniedException")
        # a managed policy attached to the group
        self.iam.create_group(GroupName="Auditors2")
        self.iam.attach_group_policy(GroupName="Auditors2",
                                     PolicyArn="arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit")
        self.iam.add_user_to_group(GroupName="Auditors2", UserName="Member")
        iot.list_certificates()  # AWSIoTDeviceDefenderAudit allows iot:ListCertificates
        self.assertEqual(err(iot.create_thing, thingName="x")[0], "AccessDeniedException")

    def test_accounts_isolated(self):
        key = self.user("Alien", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        iot = self.client("iot", key)
        iot.create_thing(thingName="alien-thing")
        bob_iot = self.srv.client("iot", 1)
        self.assertEqual(err(bob_iot.describe_thing, thingName="alien-thing")[0], "ResourceNotFoundException")
        bob_iam = self.srv.client("iam", 1)
        self.assertEqual(err(bob_iam.get_user, UserName="Alien")[0], "NoSuchEntity")
        # Bob's user of the same name, with no policy, acts in Bob's account only and may do nothing
        bkey = self.user("Alien", iam=bob_iam)
        self.assertEqual(self.client("sts", bkey).get_caller_identity()["Account"], OTHER)
        self.assertEqual(err(self.client("iot", bkey).describe_thing, thingName="alien-thing")[0],
                         "AccessDeniedException")
        # even allowed everything, a user acts in its own account only: another account's ARN
        # names nothing it can reach
        bob_iot.create_thing(thingName="bobs-thing")
        code = err(iot.list_tags_for_resource,
                   resourceArn="arn:aws:iot:us-east-1:%s:thing/bobs-thing" % OTHER)[0]
        self.assertIn(code, ("ResourceNotFoundException", "InvalidRequestException"))
        self.assertEqual(err(iot.describe_thing, thingName="bobs-thing")[0], "ResourceNotFoundException")
        # and the server's extension routes (ingestion, administration) are the root's only
        import urllib.request
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method="POST", url=self.srv.url + "/admin/clock", data=b"{}",
                         headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "iot", REGION).add_auth(req)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(urllib.request.Request(req.url, data=req.body, headers=dict(req.headers),
                                                          method="POST"), timeout=10)
        self.assertIn(cm.exception.code, (404, 405))


class DateConditionTest(unittest.TestCase):
    """The Date condition operators on aws:CurrentTime and aws:EpochTime, read from the
    service clock (moved with --test-clock's POST /admin/clock)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=["--test-clock"]).start()
        cls.iam = cls.srv.client("iam")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def set_clock(self, ms):
        self.assertEqual(signed(self.srv, "POST", "/admin/clock", json.dumps({"nowMs": ms}).encode())[0], 200)

    def test_before_and_after_a_past_date(self):
        acct = self.srv.key()["account_id"]
        pol = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "UntilPast", "Effect": "Allow", "Action": "iot:ListThings", "Resource": "*",
             "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
            {"Sid": "FromPast", "Effect": "Allow", "Action": "iot:ListThingGroups", "Resource": "*",
             "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
            {"Sid": "EpochWindow", "Effect": "Allow", "Action": "iot:ListPolicies", "Resource": "*",
             "Condition": {"DateGreaterThanEquals": {"aws:EpochTime": 1546300800},      # 2019-01-01
                           "DateLessThan": {"aws:EpochTime": "2019-12-31T00:00:00+01:00"}}}]})
        self.iam.create_user(UserName="Timed")
        self.iam.put_user_policy(UserName="Timed", PolicyName="timed", PolicyDocument=pol)
        key = self.iam.create_access_key(UserName="Timed")["AccessKey"]
        iot = boto3.client("iot", endpoint_url=self.srv.url, region_name=REGION,
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                           config=botocore.config.Config(retries={"max_attempts": 1}))
        # now (after 2020): allowed only after the date
        code, msg, status = err(iot.list_things)
        self.assertEqual((code, status), ("AccessDeniedException", 403))
        self.assertEqual(msg, "User: arn:aws:iam::%s:user/Timed is not authorized to perform: "
                              "iot:ListThings on resource: *" % acct)
        self.assertEqual(iot.list_thing_groups()["thingGroups"], [])
        self.assertEqual(err(iot.list_policies)[0], "AccessDeniedException")
        # the service clock in mid-2019: the other way round, and inside the epoch window
        try:
            self.set_clock(1561939200 * 1000)  # 2019-07-01T00:00:00Z
            self.assertEqual(iot.list_things()["things"], [])
            self.assertEqual(err(iot.list_thing_groups)[0], "AccessDeniedException")
            self.assertEqual(iot.list_policies()["policies"], [])
            # the very instant of the date: LessThan is strict, GreaterThan too
            self.set_clock(1577836800 * 1000)
            self.assertEqual(err(iot.list_things)[0], "AccessDeniedException")
            self.assertEqual(err(iot.list_thing_groups)[0], "AccessDeniedException")
            self.set_clock(1577836800 * 1000 - 1000)
            iot.list_things()
        finally:
            self.set_clock(int(time.time() * 1000))
        self.assertEqual(err(iot.list_things)[0], "AccessDeniedException")
        # a policy whose date is not a date is refused as IAM does
        code, msg, status = err(self.iam.put_user_policy, UserName="Timed", PolicyName="bad", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:ListThings", "Resource": "*",
                                                    "Condition": {"DateLessThan": {"aws:CurrentTime": "soon"}}}]}))
        self.assertEqual((code, status), ("MalformedPolicyDocument", 400))
        self.assertIn("is not a date", msg)


class SecretsAtRestTest(unittest.TestCase):
    """IAM users' secrets are sealed in the store under <data-dir>/iam-secrets.key: no file
    but the key file lets one recover a secret, an old store's clear secrets are sealed at
    start, the key can be rotated offline, and a store without its key file refuses the
    keys (and nothing else)."""

    def files_without(self, root, needle):
        for dirpath, _, names in os.walk(root):
            for n in names:
                with open(os.path.join(dirpath, n), "rb") as f:
                    self.assertNotIn(needle.encode(), f.read(), os.path.join(dirpath, n))

    @unittest.skipIf(ON_PG, "the test reads, rewrites and copies the SQLite database file; on PostgreSQL the "
                     "sealing is the same code (test_iam_secrets) and the rows live in the server")
    def test_sealed_store_migration_rotation(self):
        import sqlite3
        import shutil
        srv = Server().start()
        try:
            iam = srv.client("iam")
            iam.create_user(UserName="Sealed")
            iam.put_user_policy(UserName="Sealed", PolicyName="p", PolicyDocument=RUN_POLICY)
            key = iam.create_access_key(UserName="Sealed")["AccessKey"]
            iot = boto3.client("iot", endpoint_url=srv.url, region_name=REGION,
                               aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
            iot.describe_account_audit_configuration()
            keyfile = os.path.join(srv.data_dir, "iam-secrets.key")
            self.assertEqual(os.stat(keyfile).st_mode & 0o777, 0o600)
            srv.stop()
            # nothing in the data directory but the key file holds the secret, even with
            # the WAL still there; the database row is the sealed form
            self.files_without(srv.data_dir, key["SecretAccessKey"])
            db = os.path.join(srv.data_dir, "iotdefender.db")
            with sqlite3.connect(db) as c:
                stored = c.execute("SELECT secret FROM iam_access_keys WHERE access_key = ?",
                                   (key["AccessKeyId"],)).fetchone()[0]
            self.assertTrue(stored.startswith("v1:"), stored)
            self.assertNotIn(key["SecretAccessKey"], stored)
            # a store written before sealing: the clear secret is sealed at the next start
            with sqlite3.connect(db) as c:
                c.execute("UPDATE iam_access_keys SET secret = ? WHERE access_key = ?",
                          (key["SecretAccessKey"], key["AccessKeyId"]))
            srv.start()
            iot = boto3.client("iot", endpoint_url=srv.url, region_name=REGION,
                               aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
            iot.describe_account_audit_configuration()
            srv.stop()
            self.assertIn("sealed 1 IAM access key secret", srv.read_log())
            self.files_without(srv.data_dir, key["SecretAccessKey"])
            # rotation, offline: another key id, the access key still works
            with open(keyfile) as f:
                old_key = f.read()
            p = subprocess.run([BIN, "iam-key", "rotate", "--data-dir", srv.data_dir],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("re-sealed 1 secret(s) under the new key", p.stdout)
            with open(keyfile) as f:
                self.assertNotEqual(f.read(), old_key)
            self.assertEqual(os.stat(keyfile).st_mode & 0o777, 0o600)
            srv.start()
            iot = boto3.client("iot", endpoint_url=srv.url, region_name=REGION,
                               aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
            iot.describe_account_audit_configuration()
            # while the server runs, rotation is refused
            p = subprocess.run([BIN, "iam-key", "rotate", "--data-dir", srv.data_dir],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1)
            self.assertIn("stop the server first", p.stderr)
            srv.stop()
            # the database alone (here: with another key file) opens no secret: the user's
            # key is refused as an unknown one, the root's keys still work
            other = tempfile.mkdtemp(prefix="ddtest-copy-")
            shutil.copy(db, os.path.join(other, "iotdefender.db"))
            shutil.copy(os.path.join(srv.data_dir, "credentials"), os.path.join(other, "credentials"))
            copy = Server(data_dir=other).start()
            try:
                bad = boto3.client("iot", endpoint_url=copy.url, region_name=REGION,
                                   aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
                self.assertEqual(err(bad.describe_account_audit_configuration)[0], "UnrecognizedClientException")
                copy.client("iot").describe_account_audit_configuration()
            finally:
                copy.stop()
            self.assertIn("cannot be used until the iam-secrets.key they were sealed under is put back",
                          copy.read_log())
            # with the right key file back in place, it works there too
            shutil.copy(keyfile, os.path.join(other, "iam-secrets.key"))
            copy.start()
            try:
                good = boto3.client("iot", endpoint_url=copy.url, region_name=REGION,
                                    aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
                good.describe_account_audit_configuration()
            finally:
                copy.cleanup()
                shutil.rmtree(other, ignore_errors=True)
            # a key file others may read stops the server from starting
            os.chmod(keyfile, 0o644)
            with self.assertRaises(RuntimeError) as cm:
                srv.start()
            self.assertIn("are too open", str(cm.exception))
            os.chmod(keyfile, 0o600)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
