"""Mitigation actions through boto3: definitions and every validation of MITIGATION.md;
audit mitigation actions tasks with each action's real effect (certificates INACTIVE,
things in the group and the 10-group limit, the blank default policy version and the
5-version limit, v2 logging on, the finding delivered to a confirmed local HTTP
subscriber), a role lacking a permission (FAILED with the permission named, the rest of
that finding SKIPPED, other findings still mitigated, task FAILED), suppressed findings
SKIPPED, the reason-code filter, cancel, clientRequestToken idempotency, every mapping
and target validation error, the list filters, and a task queued by a server without
workers resumed by the next one."""
import json
import os
import time
import unittest

import botocore.exceptions

from auditfleet import TRUST
import ddserver
from ddserver import Server
from mitig_fleet import Certs, allow, role, device_cert, ca_cert, run_audit, wait_mtask, executions
from sns_helpers import Subscriber, subscribe_confirmed, FAST

WIDE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
CHECKS = ["DEVICE_CERTIFICATE_EXPIRING_CHECK", "CA_CERTIFICATE_EXPIRING_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
          "LOGGING_DISABLED_CHECK"]
EC2_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
FULL = ["iot:UpdateCertificate", "iot:UpdateCACertificate", "iot:ListPrincipalThings", "iot:AddThingToThingGroup",
        "iot:CreatePolicyVersion", "iot:SetV2LoggingOptions", "iam:PassRole", "sns:Publish"]


def error(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class MitigationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        old = {k: os.environ.get(k) for k in FAST}
        os.environ.update({k: str(v) for k, v in FAST.items()})
        try:
            cls.srv = Server(extra_args=ddserver.LOCAL_OUTBOUND).start()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        cls.certs = Certs()
        cls.sub = Subscriber().start()
        srv = cls.srv
        iot = cls.iot = srv.client("iot")
        cls.iotx = srv.client("iot", validate=False)
        sns = srv.client("sns")
        cls.acct = srv.key()["account_id"]
        names = ["deact", "things", "limit", "perm_ok", "perm_bad", "supp", "late_supp", "filter"]
        cls.dev = {n: device_cert(srv, cls.certs, days=5) for n in names}
        cls.ca = ca_cert(srv, cls.certs, days=5)
        iot.create_policy(policyName="Wide", policyDocument=WIDE)
        iot.create_policy(policyName="Wide5", policyDocument=WIDE)
        for _ in range(4):
            iot.create_policy_version(policyName="Wide5", policyDocument=WIDE)
        for g in ["Quarantine", "Quarantine2"] + ["G%d" % k for k in range(10)]:
            iot.create_thing_group(thingGroupName=g)
        iot.create_dynamic_thing_group(thingGroupName="Dyn", queryString="attributes.kind:sensor")
        for t in ("T1", "T2", "T3"):
            iot.create_thing(thingName=t)
        arn = lambda c: "arn:aws:iot:us-east-1:%s:cert/%s" % (cls.acct, c)
        iot.attach_thing_principal(thingName="T1", principal=arn(cls.dev["things"]))
        iot.attach_thing_principal(thingName="T2", principal=arn(cls.dev["things"]))
        iot.attach_thing_principal(thingName="T3", principal=arn(cls.dev["limit"]))
        for k in range(10):
            iot.add_thing_to_thing_group(thingGroupName="G%d" % k, thingName="T3")
        iot.create_audit_suppression(checkName="DEVICE_CERTIFICATE_EXPIRING_CHECK",
                                     resourceIdentifier={"deviceCertificateId": cls.dev["supp"]},
                                     suppressIndefinitely=True, clientRequestToken="s1")
        cls.topic = sns.create_topic(Name="Findings")["TopicArn"]
        subscribe_confirmed(sns, cls.topic, cls.sub)
        cls.full = role(srv, "FullRole", allow(*FULL))
        cls.log_role = role(srv, "LoggingRole")
        cls.ec2_role = role(srv, "Ec2Role", trust=EC2_TRUST)
        cls.audit, findings = run_audit(srv, CHECKS)
        cls.by_cert = {}
        for f in findings:
            rid = f["nonCompliantResource"]["resourceIdentifier"]
            key = rid.get("deviceCertificateId") or rid.get("caCertificateId") or \
                rid.get("policyVersionIdentifier", {}).get("policyName") or f["checkName"]
            cls.by_cert[key] = f
        # the suppression created after the audit is active when the task starts
        iot.create_audit_suppression(checkName="DEVICE_CERTIFICATE_EXPIRING_CHECK",
                                     resourceIdentifier={"deviceCertificateId": cls.dev["late_supp"]},
                                     suppressIndefinitely=True, clientRequestToken="s2")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.sub.stop()
        cls.certs.cleanup()
        cls.srv.cleanup()

    def fid(self, key):
        return self.by_cert[self.dev.get(key, key)]["findingId"]

    def action(self, name, params, role_arn=None):
        try:
            self.iot.delete_mitigation_action(actionName=name)
        except botocore.exceptions.ClientError:
            pass
        self.iot.create_mitigation_action(actionName=name, roleArn=role_arn or self.full, actionParams=params)
        return name

    def start(self, target, mapping, token=None):
        MitigationTest.n += 1
        tid = "task-%d" % self.n
        self.iot.start_audit_mitigation_actions_task(taskId=tid, target=target, auditCheckToActionsMapping=mapping,
                                                     clientRequestToken=token or tid)
        return tid, wait_mtask(self.srv, tid)

    # ---- definitions ---------------------------------------------------------------------
    def test_definitions_crud(self):
        iot = self.iot
        r = iot.create_mitigation_action(actionName="QuarantineAction", roleArn=self.full, actionParams={
            "addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"], "overrideDynamicGroups": True}},
            tags=[{"Key": "team", "Value": "sec"}])
        self.assertEqual(r["actionArn"], "arn:aws:iot:us-east-1:%s:mitigationaction/QuarantineAction" % self.acct)
        self.assertRegex(r["actionId"], r"^[0-9a-f-]{36}$")
        d = iot.describe_mitigation_action(actionName="QuarantineAction")
        self.assertEqual((d["actionType"], d["actionId"], d["roleArn"]), ("ADD_THINGS_TO_THING_GROUP", r["actionId"], self.full))
        self.assertEqual(d["actionParams"], {"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"],
                                                                            "overrideDynamicGroups": True}})
        c, _ = error(iot.create_mitigation_action, actionName="QuarantineAction", roleArn=self.full,
                     actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        self.assertEqual(c, "ResourceAlreadyExistsException")
        u = iot.update_mitigation_action(actionName="QuarantineAction", actionParams={
            "addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine2"], "overrideDynamicGroups": False}})
        self.assertEqual(u["actionId"], r["actionId"])
        d2 = iot.describe_mitigation_action(actionName="QuarantineAction")
        self.assertEqual(d2["actionParams"]["addThingsToThingGroupParams"]["thingGroupNames"], ["Quarantine2"])
        self.assertEqual(d2["creationDate"], d["creationDate"])
        c, m = error(iot.update_mitigation_action, actionName="QuarantineAction",
                     actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("action type", m)
        c, _ = error(iot.update_mitigation_action, actionName="Nope", roleArn=self.full)
        self.assertEqual(c, "ResourceNotFoundException")
        self.action("ListMeSns", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        names = [a["actionName"] for a in iot.list_mitigation_actions(actionType="ADD_THINGS_TO_THING_GROUP")["actionIdentifiers"]]
        self.assertIn("QuarantineAction", names)
        self.assertNotIn("ListMeSns", names)
        seen = []
        for page in iot.get_paginator("list_mitigation_actions").paginate(PaginationConfig={"PageSize": 1}):
            seen += [a["actionName"] for a in page["actionIdentifiers"]]
        self.assertEqual(seen, sorted(seen))
        self.assertIn("ListMeSns", seen)
        iot.delete_mitigation_action(actionName="QuarantineAction")
        self.assertEqual(error(iot.describe_mitigation_action, actionName="QuarantineAction")[0], "ResourceNotFoundException")
        iot.delete_mitigation_action(actionName="QuarantineAction")  # absent: no error, as AWS

    def test_definition_validation(self):
        x = self.iotx
        cases = [
            ({}, "exactly one"),
            ({"updateDeviceCertificateParams": {"action": "DEACTIVATE"},
              "updateCACertificateParams": {"action": "DEACTIVATE"}}, "exactly one"),
            ({"updateDeviceCertificateParams": {"action": "ACTIVATE"}}, "action"),
            ({"updateCACertificateParams": {"action": "REVOKE"}}, "action"),
            ({"replaceDefaultPolicyVersionParams": {"templateName": "ALLOW_ALL"}}, "templateName"),
            ({"enableIoTLoggingParams": {"roleArnForLogging": self.log_role, "logLevel": "DISABLED"}}, "logLevel"),
            ({"enableIoTLoggingParams": {"roleArnForLogging": "arn:aws:iam::%s:role/NoSuchRole" % self.acct,
                                         "logLevel": "ERROR"}}, "roleArnForLogging"),
            ({"addThingsToThingGroupParams": {"thingGroupNames": ["NoSuchGroup"]}}, "NoSuchGroup"),
            ({"addThingsToThingGroupParams": {"thingGroupNames": ["Dyn"]}}, "dynamic"),
            ({"addThingsToThingGroupParams": {"thingGroupNames": ["G%d" % k for k in range(10)] + ["Quarantine"]}},
             "thingGroupNames"),
            ({"publishFindingToSnsParams": {"topicArn": self.topic + "-nope"}}, "topicArn"),
        ]
        for params, word in cases:
            with self.subTest(params=params):
                c, m = error(x.create_mitigation_action, actionName="Bad", roleArn=self.full, actionParams=params)
                self.assertIn(c, ("InvalidRequestException", "ValidationException"))
                self.assertIn(word, m)
        ok = {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}
        for r, word in [("arn:aws:iam::%s:role/NoSuchRole" % self.acct, "does not exist"),
                        (self.ec2_role, "does not trust iot.amazonaws.com")]:
            c, m = error(x.create_mitigation_action, actionName="Bad", roleArn=r, actionParams=ok)
            self.assertEqual(c, "InvalidRequestException")
            self.assertIn(word, m)
        self.assertEqual(error(self.iot.describe_mitigation_action, actionName="Bad")[0], "ResourceNotFoundException")

    # ---- effects -------------------------------------------------------------------------
    def test_deactivate_device_and_ca_certificates(self):
        self.action("DeactDevice", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        self.action("DeactCA", {"updateCACertificateParams": {"action": "DEACTIVATE"}})
        tid, t = self.start({"findingIds": [self.fid("deact"), self.by_cert[self.ca]["findingId"]]},
                            {"DEVICE_CERT_APPROACHING_EXPIRATION_CHECK": ["DeactDevice"],
                             "CA_CERTIFICATE_EXPIRING_CHECK": ["DeactCA"]})
        self.assertEqual(t["taskStatus"], "COMPLETED")
        self.assertEqual(set(t["auditCheckToActionsMapping"]), {"DEVICE_CERTIFICATE_EXPIRING_CHECK", "CA_CERTIFICATE_EXPIRING_CHECK"})
        self.assertEqual(t["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["succeededFindingsCount"], 1)
        self.assertEqual(t["taskStatistics"]["CA_CERTIFICATE_EXPIRING_CHECK"]["succeededFindingsCount"], 1)
        self.assertEqual(self.iot.describe_certificate(certificateId=self.dev["deact"])["certificateDescription"]["status"], "INACTIVE")
        self.assertEqual(self.iot.describe_ca_certificate(certificateId=self.ca)["certificateDescription"]["status"], "INACTIVE")
        self.assertEqual({a["name"] for a in t["actionsDefinition"]}, {"DeactDevice", "DeactCA"})
        ex = executions(self.srv, tid, self.fid("deact"))
        self.assertEqual([(e["actionName"], e["status"]) for e in ex], [("DeactDevice", "COMPLETED")])
        self.assertIn("startTime", ex[0])
        self.assertIn("endTime", ex[0])

    def test_add_things_to_groups_and_the_limit(self):
        self.action("Quarantine", {"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine", "Quarantine2"]}})
        tid, t = self.start({"findingIds": [self.fid("things"), self.fid("limit")]},
                            {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["Quarantine"]})
        self.assertEqual(t["taskStatus"], "FAILED")
        st = t["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]
        self.assertEqual((st["totalFindingsCount"], st["succeededFindingsCount"], st["failedFindingsCount"]), (2, 1, 1))
        for g in ("Quarantine", "Quarantine2"):
            things = self.iot.list_things_in_thing_group(thingGroupName=g)["things"]
            self.assertEqual(sorted(things), ["T1", "T2"])
        ex = executions(self.srv, tid, self.fid("limit"))
        self.assertEqual(ex[0]["status"], "FAILED")
        self.assertIn("10", ex[0]["message"])
        # the failed execution changed nothing: T3 is still in exactly its ten groups
        self.assertEqual(len(self.iot.list_thing_groups_for_thing(thingName="T3")["thingGroups"]), 10)

    def test_blank_policy_version_and_the_version_limit(self):
        self.action("ResetPolicy", {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}})
        tid, t = self.start({"findingIds": [self.fid("Wide"), self.fid("Wide5")]},
                            {"IOT_POLICY_UNRESTRICTED_CHECK": ["ResetPolicy"]})
        self.assertEqual(t["taskStatus"], "FAILED")
        p = self.iot.get_policy(policyName="Wide")
        self.assertEqual(p["defaultVersionId"], "2")
        doc = json.loads(self.iot.get_policy_version(policyName="Wide", policyVersionId="2")["policyDocument"])
        self.assertEqual(doc["Statement"], [{"Effect": "Deny", "Action": "iot:*", "Resource": "*"}])
        ex = executions(self.srv, tid, self.fid("Wide5"))
        self.assertEqual((ex[0]["status"], ex[0]["errorCode"]), ("FAILED", "VersionsLimitExceededException"))
        self.assertEqual(len(self.iot.list_policy_versions(policyName="Wide5")["policyVersions"]), 5)
        self.assertEqual(self.iot.get_policy(policyName="Wide5")["defaultVersionId"], "1")

    def test_enable_logging(self):
        self.action("EnableLogging", {"enableIoTLoggingParams": {"roleArnForLogging": self.log_role, "logLevel": "WARN"}})
        tid, t = self.start({"findingIds": [self.fid("LOGGING_DISABLED_CHECK")]},
                            {"LOGGING_DISABLED_CHECK": ["EnableLogging"]})
        self.assertEqual(t["taskStatus"], "COMPLETED")
        lo = self.iot.get_v2_logging_options()
        self.assertEqual((lo["roleArn"], lo["defaultLogLevel"], lo["disableAllLogs"]), (self.log_role, "WARN", False))

    def test_publish_finding_to_sns(self):
        self.action("Publish", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        fid = self.fid("Wide")
        tid, t = self.start({"findingIds": [fid]}, {"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["Publish"]})
        self.assertEqual(t["taskStatus"], "COMPLETED")
        got = self.sub.wait(lambda s: [m for _, m in s.messages("Notification")
                                       if json.loads(m["Message"]).get("findingId") == fid])
        body = json.loads(got[0]["Message"])
        self.assertEqual(got[0]["TopicArn"], self.topic)
        self.assertEqual(body["checkName"], "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
        self.assertEqual(body["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"]["policyName"], "Wide")
        self.assertEqual(body["mitigationActionsTaskId"], tid)

    # ---- permissions, suppression, filter --------------------------------------------------
    def test_role_lacking_a_permission(self):
        ok_arn = "arn:aws:iot:us-east-1:%s:cert/%s" % (self.acct, self.dev["perm_ok"])
        narrow = role(self.srv, "NarrowRole", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:UpdateCertificate", "Resource": ok_arn}]}))
        self.action("NarrowDeact", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}, narrow)
        self.action("Publish2", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        self.action("EnableLogging2", {"enableIoTLoggingParams": {"roleArnForLogging": self.log_role, "logLevel": "ERROR"}})
        tid, t = self.start({"findingIds": [self.fid("perm_ok"), self.fid("perm_bad"), self.fid("LOGGING_DISABLED_CHECK")]},
                            {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["NarrowDeact", "Publish2"],
                             "LOGGING_DISABLED_CHECK": ["EnableLogging2"]})
        self.assertEqual(t["taskStatus"], "FAILED")
        st = t["taskStatistics"]
        self.assertEqual((st["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["failedFindingsCount"],
                          st["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["succeededFindingsCount"],
                          st["LOGGING_DISABLED_CHECK"]["succeededFindingsCount"]), (1, 1, 1))
        bad = executions(self.srv, tid, self.fid("perm_bad"))
        self.assertEqual([(e["actionName"], e["status"]) for e in bad], [("NarrowDeact", "FAILED"), ("Publish2", "SKIPPED")])
        self.assertEqual(bad[0]["errorCode"], "AccessDeniedException")
        self.assertIn("iot:UpdateCertificate", bad[0]["message"])
        good = executions(self.srv, tid, self.fid("perm_ok"))
        self.assertEqual([e["status"] for e in good], ["COMPLETED", "COMPLETED"])
        d = lambda k: self.iot.describe_certificate(certificateId=self.dev[k])["certificateDescription"]["status"]
        self.assertEqual((d("perm_ok"), d("perm_bad")), ("INACTIVE", "ACTIVE"))
        failed = executions(self.srv, tid, self.fid("perm_bad"), actionStatus="FAILED")
        self.assertEqual(len(failed), 1)

    def test_suppressed_findings_are_skipped(self):
        self.action("Publish3", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        self.assertTrue(self.by_cert[self.dev["supp"]]["isSuppressed"])
        self.assertFalse(self.by_cert[self.dev["late_supp"]]["isSuppressed"])
        self.action("DeactSupp", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        tid, t = self.start({"findingIds": [self.fid("supp"), self.fid("late_supp")]},
                            {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["DeactSupp", "Publish3"]})
        self.assertEqual(t["taskStatus"], "COMPLETED")
        self.assertEqual(t["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["skippedFindingsCount"], 2)
        for k in ("supp", "late_supp"):
            ex = executions(self.srv, tid, self.fid(k))
            self.assertEqual([e["status"] for e in ex], ["SKIPPED", "SKIPPED"])
            self.assertIn("suppressed", ex[0]["message"])
            self.assertEqual(self.iot.describe_certificate(certificateId=self.dev[k])["certificateDescription"]["status"], "ACTIVE")

    def test_reason_code_filter_and_list_filters(self):
        self.action("Publish4", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        mapping = {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["Publish4"], "LOGGING_DISABLED_CHECK": ["Publish4"]}
        tid, t = self.start({"auditTaskId": self.audit, "auditCheckToReasonCodeFilter": {
            "DEVICE_CERTIFICATE_EXPIRING_CHECK": ["CERTIFICATE_PAST_EXPIRATION"]}}, mapping)
        self.assertEqual(t["taskStatus"], "COMPLETED")
        self.assertEqual(t["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["totalFindingsCount"], 0)
        self.assertEqual(t["taskStatistics"]["LOGGING_DISABLED_CHECK"]["totalFindingsCount"], 0)
        tid2, t2 = self.start({"auditTaskId": self.audit, "auditCheckToReasonCodeFilter": {
            "DEVICE_CERTIFICATE_EXPIRING_CHECK": ["CERTIFICATE_APPROACHING_EXPIRATION"]}}, mapping)
        st = t2["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]
        self.assertEqual(st["totalFindingsCount"], len(self.dev))
        self.assertEqual(st["skippedFindingsCount"], 2)  # the two suppressed ones
        self.assertEqual(t2["taskStatistics"]["LOGGING_DISABLED_CHECK"]["totalFindingsCount"], 0)
        lt = lambda **kw: [x["taskId"] for x in self.iot.list_audit_mitigation_actions_tasks(
            startTime=time.time() - 3600, endTime=time.time() + 60, **kw)["tasks"]]
        self.assertIn(tid2, lt(auditTaskId=self.audit))
        self.assertIn(tid, lt(auditTaskId=self.audit))
        self.assertIn(tid2, lt(findingId=self.fid("filter")))
        self.assertNotIn(tid, lt(findingId=self.fid("filter")))
        self.assertIn(tid2, lt(taskStatus="COMPLETED"))
        self.assertNotIn(tid2, lt(taskStatus="FAILED"))
        self.assertEqual(lt(auditTaskId="0" * 32), [])

    # ---- validation of a task ----------------------------------------------------------------
    def test_mapping_and_target_validation(self):
        self.action("DeactV", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        self.action("LogV", {"enableIoTLoggingParams": {"roleArnForLogging": self.log_role, "logLevel": "ERROR"}})
        self.action("PolicyV", {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}})
        self.action("PubV", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        f = {"findingIds": [self.fid("filter")]}
        dev = "DEVICE_CERTIFICATE_EXPIRING_CHECK"
        cases = [
            (f, {"NO_SUCH_CHECK": ["PubV"]}, "invalid Audit Check Name"),
            (f, {dev: ["LogV"]}, "cannot be applied"),
            (f, {dev: ["PolicyV"]}, "cannot be applied"),
            (f, {"LOGGING_DISABLED_CHECK": ["DeactV"], dev: ["PubV"]}, "cannot be applied"),
            (f, {"CA_CERTIFICATE_EXPIRING_CHECK": ["DeactV"], dev: ["PubV"]}, "cannot be applied"),
            (f, {"CONFLICTING_CLIENT_IDS_CHECK": ["DeactV"], dev: ["PubV"]}, "cannot be applied"),
            (f, {dev: ["NoSuchAction"]}, "does not exist"),
            (f, {dev: []}, "auditCheckToActionsMapping"),
            (f, {dev: ["PubV", "DeactV", "PubV"]}, "twice"),
            (f, {dev: ["PubV"], "DEVICE_CERT_APPROACHING_EXPIRATION_CHECK": ["DeactV"]}, "twice"),
            ({"findingIds": [self.fid("filter")], "auditTaskId": self.audit}, {dev: ["PubV"]}, "either"),
            ({}, {dev: ["PubV"]}, "either"),
            ({"findingIds": [self.fid("filter")], "auditCheckToReasonCodeFilter": {dev: ["CERTIFICATE_PAST_EXPIRATION"]}},
             {dev: ["PubV"]}, "target"),
            ({"auditTaskId": self.audit, "auditCheckToReasonCodeFilter": {dev: ["NOT_A_CODE"]}}, {dev: ["PubV"]}, "NOT_A_CODE"),
            ({"auditTaskId": self.audit, "auditCheckToReasonCodeFilter": {"LOGGING_DISABLED_CHECK": ["LOGGING_DISABLED"]}},
             {dev: ["PubV"]}, "does not map"),
            ({"auditTaskId": "f" * 32}, {dev: ["PubV"]}, "does not exist"),
            ({"findingIds": ["no-such-finding"]}, {dev: ["PubV"]}, "does not exist"),
            ({"findingIds": [self.fid("LOGGING_DISABLED_CHECK")]}, {dev: ["PubV"]}, "does not map"),
            ({"findingIds": ["f%d" % k for k in range(26)]}, {dev: ["PubV"]}, "findingIds"),
        ]
        before = len(self.iot.list_audit_mitigation_actions_tasks(startTime=0, endTime=time.time() + 60)["tasks"])
        for target, mapping, word in cases:
            with self.subTest(target=target, mapping=mapping):
                c, m = error(self.iotx.start_audit_mitigation_actions_task, taskId="invalid-task", target=target,
                             auditCheckToActionsMapping=mapping, clientRequestToken="invalid")
                self.assertIn(c, ("InvalidRequestException", "ValidationException"))
                self.assertIn(word, m)
        c, m = error(self.iotx.start_audit_mitigation_actions_task, taskId="invalid-task", target=f,
                     auditCheckToActionsMapping={dev: ["PubV"] * 6}, clientRequestToken="invalid")
        self.assertIn(c, ("InvalidRequestException", "ValidationException"))
        after = len(self.iot.list_audit_mitigation_actions_tasks(startTime=0, endTime=time.time() + 60)["tasks"])
        self.assertEqual(before, after)
        self.assertEqual(error(self.iot.describe_audit_mitigation_actions_task, taskId="invalid-task")[0],
                         "ResourceNotFoundException")

    def test_idempotency(self):
        self.action("PubI", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        iot = self.iot
        kw = dict(taskId="idem", target={"findingIds": [self.fid("filter")]},
                  auditCheckToActionsMapping={"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["PubI"]}, clientRequestToken="tok-1")
        self.assertEqual(iot.start_audit_mitigation_actions_task(**kw)["taskId"], "idem")
        self.assertEqual(iot.start_audit_mitigation_actions_task(**kw)["taskId"], "idem")
        wait_mtask(self.srv, "idem")
        self.assertEqual(iot.start_audit_mitigation_actions_task(**kw)["taskId"], "idem")
        self.assertEqual(len(executions(self.srv, "idem", self.fid("filter"))), 1)
        c, m = error(iot.start_audit_mitigation_actions_task, **dict(kw, clientRequestToken="tok-2"))
        self.assertEqual(c, "TaskAlreadyExistsException")
        c, m = error(iot.start_audit_mitigation_actions_task, **dict(kw, target={"findingIds": [self.fid("supp")]}))
        self.assertEqual(c, "TaskAlreadyExistsException")
        self.assertIn("other parameters", m)
        c, m = error(iot.start_audit_mitigation_actions_task, **dict(kw, taskId="idem-other"))
        self.assertEqual(c, "TaskAlreadyExistsException")
        self.assertIn("idem", m)

    def test_cancel_of_a_finished_or_unknown_task(self):
        self.action("PubC", {"publishFindingToSnsParams": {"topicArn": self.topic}})
        tid, t = self.start({"findingIds": [self.fid("filter")]}, {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["PubC"]})
        self.assertEqual(error(self.iot.cancel_audit_mitigation_actions_task, taskId=tid)[0], "InvalidRequestException")
        self.assertEqual(error(self.iot.cancel_audit_mitigation_actions_task, taskId="nope")[0], "ResourceNotFoundException")


class QueuedTaskTest(unittest.TestCase):
    """A server started with IOTDEFENDER_MITIGATION_WORKERS=0 queues tasks: cancel one while
    IN_PROGRESS, stop the server, and the next server (with workers) runs the other."""

    def test_cancel_and_resume_after_restart(self):
        srv = Server(extra_args=ddserver.LOCAL_OUTBOUND)
        os.environ["IOTDEFENDER_MITIGATION_WORKERS"] = "0"
        try:
            srv.start()
        finally:
            os.environ.pop("IOTDEFENDER_MITIGATION_WORKERS", None)
        certs = Certs()
        try:
            iot = srv.client("iot")
            ids = [device_cert(srv, certs, days=5) for _ in range(3)]
            audit, findings = run_audit(srv, ["DEVICE_CERTIFICATE_EXPIRING_CHECK", "LOGGING_DISABLED_CHECK"])
            full = role(srv, "FullRole", allow(*FULL))
            log_role = role(srv, "LoggingRole")
            iot.create_mitigation_action(actionName="Deact", roleArn=full,
                                         actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
            iot.create_mitigation_action(actionName="Log", roleArn=full, actionParams={
                "enableIoTLoggingParams": {"roleArnForLogging": log_role, "logLevel": "INFO"}})
            mapping = {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["Deact"]}
            iot.start_audit_mitigation_actions_task(taskId="canceled", target={"auditTaskId": audit},
                                                    auditCheckToActionsMapping=mapping, clientRequestToken="c1")
            time.sleep(0.3)
            t = iot.describe_audit_mitigation_actions_task(taskId="canceled")
            self.assertEqual(t["taskStatus"], "IN_PROGRESS")
            fid = [f["findingId"] for f in findings if f["checkName"] == "DEVICE_CERTIFICATE_EXPIRING_CHECK"]
            self.assertEqual([e["status"] for e in executions(srv, "canceled", fid[0])], ["PENDING"])
            iot.cancel_audit_mitigation_actions_task(taskId="canceled")
            t = iot.describe_audit_mitigation_actions_task(taskId="canceled")
            self.assertEqual(t["taskStatus"], "CANCELED")
            self.assertIn("endTime", t)
            self.assertEqual(t["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["canceledFindingsCount"], 3)
            self.assertEqual([e["status"] for e in executions(srv, "canceled", fid[0])], ["CANCELED"])
            self.assertEqual(error(iot.cancel_audit_mitigation_actions_task, taskId="canceled")[0], "InvalidRequestException")
            iot.start_audit_mitigation_actions_task(taskId="queued", target={"auditTaskId": audit},
                                                    auditCheckToActionsMapping=dict(mapping, LOGGING_DISABLED_CHECK=["Log"]),
                                                    clientRequestToken="q1")
            srv.stop()
            srv.start()  # on a new port
            iot = srv.client("iot")
            t = wait_mtask(srv, "queued")
            self.assertEqual(t["taskStatus"], "COMPLETED")
            self.assertEqual(t["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["succeededFindingsCount"], 3)
            for c in ids:
                self.assertEqual(iot.describe_certificate(certificateId=c)["certificateDescription"]["status"], "INACTIVE")
            self.assertEqual(iot.get_v2_logging_options()["defaultLogLevel"], "INFO")
            self.assertEqual(iot.describe_audit_mitigation_actions_task(taskId="canceled")["taskStatus"], "CANCELED")
        finally:
            certs.cleanup()
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
