"""Regions: IoT resources, the audit configuration, audits, findings, suppressions,
scheduled audits and mitigation actions and tasks are regional, as in AWS; IAM is global.
boto3 clients of one account in us-east-1 and eu-west-1 (and ap-northeast-1, where nothing
is created): what one region creates is invisible in the other (Describe ->
ResourceNotFoundException, List -> absent), ARNs carry the caller's region, the same name
or certificate exists in both independently, audits and mitigation tasks see and change
only their region, and IAM roles are visible from every region. The migration test opens
a data directory written by the binary before regions (tests/data/regions/, see its
README) and finds everything in us-east-1."""
import datetime
import gzip
import json
import os
import shutil
import sqlite3
import tempfile
import time
import unittest

import botocore.exceptions

from auditfleet import TRUST, AUDIT_POLICY_ARN, wait_task, all_findings
import ddserver
from ddserver import Server, write_credentials
from mitig_fleet import Certs, allow, role, wait_mtask
from sns_helpers import Subscriber, subscribe_confirmed, env, FAST

US, EU, AP = "us-east-1", "eu-west-1", "ap-northeast-1"
PERMISSIVE = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
NARROW = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "iot:Connect",
                                    "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"}]})
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "data", "regions")


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("no error from %s" % fn.__name__)


class RegionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.acct = cls.srv.key()["account_id"]
        cls.us = cls.srv.client("iot", region=US)
        cls.eu = cls.srv.client("iot", region=EU)
        cls.ap = cls.srv.client("iot", region=AP)
        cls.certs = Certs()

    @classmethod
    def tearDownClass(cls):
        cls.certs.cleanup()
        cls.srv.cleanup()

    def arn(self, region, res):
        return "arn:aws:iot:%s:%s:%s" % (region, self.acct, res)

    def test_things(self):
        us, eu = self.us, self.eu
        t = us.create_thing(thingName="lamp", attributePayload={"attributes": {"where": "us"}})
        self.assertEqual(t["thingArn"], self.arn(US, "thing/lamp"))
        self.assertEqual(code(eu.describe_thing, thingName="lamp"), "ResourceNotFoundException")
        self.assertNotIn("lamp", [x["thingName"] for x in eu.list_things()["things"]])
        self.assertEqual(code(eu.update_thing, thingName="lamp", attributePayload={"attributes": {"x": "1"}}),
                         "ResourceNotFoundException")
        # the same name in eu-west-1 is another thing
        e = eu.create_thing(thingName="lamp", attributePayload={"attributes": {"where": "eu"}})
        self.assertEqual(e["thingArn"], self.arn(EU, "thing/lamp"))
        self.assertNotEqual(e["thingId"], t["thingId"])
        self.assertEqual(eu.describe_thing(thingName="lamp")["attributes"], {"where": "eu"})
        self.assertEqual(eu.describe_thing(thingName="lamp")["thingArn"], self.arn(EU, "thing/lamp"))
        eu.delete_thing(thingName="lamp")
        self.assertEqual(us.describe_thing(thingName="lamp")["attributes"], {"where": "us"})
        self.assertEqual(us.describe_thing(thingName="lamp")["thingArn"], self.arn(US, "thing/lamp"))
        # tags follow their region's resource
        us.tag_resource(resourceArn=t["thingArn"], tags=[{"Key": "k", "Value": "us"}])
        eu.create_thing(thingName="lamp2")
        self.assertEqual(eu.list_tags_for_resource(resourceArn=self.arn(EU, "thing/lamp2"))["tags"], [])
        self.assertEqual(us.list_tags_for_resource(resourceArn=t["thingArn"])["tags"], [{"Key": "k", "Value": "us"}])

    def test_thing_groups(self):
        us, eu = self.us, self.eu
        g = us.create_thing_group(thingGroupName="floor1")
        self.assertEqual(g["thingGroupArn"], self.arn(US, "thinggroup/floor1"))
        self.assertEqual(code(eu.describe_thing_group, thingGroupName="floor1"), "ResourceNotFoundException")
        self.assertNotIn("floor1", [x["groupName"] for x in eu.list_thing_groups()["thingGroups"]])
        us.create_thing(thingName="desk")
        us.add_thing_to_thing_group(thingGroupName="floor1", thingName="desk")
        # the group and the thing exist only in us-east-1
        eu.create_thing_group(thingGroupName="floor2")
        self.assertEqual(code(eu.add_thing_to_thing_group, thingGroupName="floor2", thingName="desk"),
                         "ResourceNotFoundException")
        self.assertEqual(code(eu.list_things_in_thing_group, thingGroupName="floor1"), "ResourceNotFoundException")
        e = eu.create_thing_group(thingGroupName="floor1", thingGroupProperties={"thingGroupDescription": "eu"})
        self.assertEqual(e["thingGroupArn"], self.arn(EU, "thinggroup/floor1"))
        self.assertEqual(eu.list_things_in_thing_group(thingGroupName="floor1")["things"], [])
        self.assertEqual(us.list_things_in_thing_group(thingGroupName="floor1")["things"], ["desk"])
        # dynamic groups index only their region's things
        eu.create_thing(thingName="sensor-eu", attributePayload={"attributes": {"kind": "sensor"}})
        us.create_thing(thingName="sensor-us", attributePayload={"attributes": {"kind": "sensor"}})
        eu.create_dynamic_thing_group(thingGroupName="sensors", queryString="attributes.kind:sensor")
        self.assertEqual(eu.list_things_in_thing_group(thingGroupName="sensors")["things"], ["sensor-eu"])

    def test_policies_and_certificates(self):
        us, eu = self.us, self.eu
        p = us.create_policy(policyName="devices", policyDocument=NARROW)
        self.assertEqual(p["policyArn"], self.arn(US, "policy/devices"))
        self.assertEqual(code(eu.get_policy, policyName="devices"), "ResourceNotFoundException")
        self.assertNotIn("devices", [x["policyName"] for x in eu.list_policies()["policies"]])
        self.assertEqual(eu.create_policy(policyName="devices", policyDocument=PERMISSIVE)["policyArn"],
                         self.arn(EU, "policy/devices"))
        self.assertEqual(json.loads(us.get_policy(policyName="devices")["policyDocument"]), json.loads(NARROW))

        c = us.create_keys_and_certificate(setAsActive=True)
        cid = c["certificateId"]
        self.assertEqual(c["certificateArn"], self.arn(US, "cert/" + cid))
        self.assertEqual(code(eu.describe_certificate, certificateId=cid), "ResourceNotFoundException")
        self.assertNotIn(cid, [x["certificateId"] for x in eu.list_certificates()["certificates"]])
        self.assertEqual(code(eu.update_certificate, certificateId=cid, newStatus="INACTIVE"),
                         "ResourceNotFoundException")
        # a certificate of us-east-1 is not a principal or a target in eu-west-1
        eu.create_thing(thingName="gateway")
        self.assertEqual(code(eu.attach_thing_principal, thingName="gateway", principal=c["certificateArn"]),
                         "ResourceNotFoundException")
        self.assertEqual(code(eu.attach_policy, policyName="devices", target=c["certificateArn"]),
                         "ResourceNotFoundException")
        # the same certificate (same id: SHA-256 of the DER) registered in eu-west-1 too
        r = eu.register_certificate_without_ca(certificatePem=c["certificatePem"], status="ACTIVE")
        self.assertEqual(r["certificateId"], cid)
        self.assertEqual(r["certificateArn"], self.arn(EU, "cert/" + cid))
        eu.attach_thing_principal(thingName="gateway", principal=r["certificateArn"])
        eu.attach_policy(policyName="devices", target=r["certificateArn"])
        eu.update_certificate(certificateId=cid, newStatus="INACTIVE")
        self.assertEqual(eu.describe_certificate(certificateId=cid)["certificateDescription"]["status"], "INACTIVE")
        self.assertEqual(us.describe_certificate(certificateId=cid)["certificateDescription"]["status"], "ACTIVE")
        self.assertEqual(us.list_principal_things(principal=c["certificateArn"])["things"], [])
        self.assertEqual(eu.list_principal_things(principal=r["certificateArn"])["things"], ["gateway"])
        self.assertEqual(eu.list_attached_policies(target=r["certificateArn"])["policies"][0]["policyArn"],
                         self.arn(EU, "policy/devices"))
        self.assertEqual(us.list_attached_policies(target=c["certificateArn"])["policies"], [])

        # CA certificates: the same CA in both regions, each with its own status
        ca_pem = self.certs.make(30, ca=True)
        ca_us = us.register_ca_certificate(caCertificate=ca_pem, certificateMode="SNI_ONLY", setAsActive=True)
        self.assertEqual(code(eu.describe_ca_certificate, certificateId=ca_us["certificateId"]),
                         "ResourceNotFoundException")
        ca_eu = eu.register_ca_certificate(caCertificate=ca_pem, certificateMode="SNI_ONLY", setAsActive=False)
        self.assertEqual(ca_eu["certificateId"], ca_us["certificateId"])
        self.assertEqual(ca_eu["certificateArn"], self.arn(EU, "cacert/" + ca_us["certificateId"]))
        self.assertEqual(us.describe_ca_certificate(certificateId=ca_us["certificateId"])
                         ["certificateDescription"]["status"], "ACTIVE")
        self.assertEqual(eu.describe_ca_certificate(certificateId=ca_us["certificateId"])
                         ["certificateDescription"]["status"], "INACTIVE")

    def test_role_aliases_and_global_iam(self):
        us, eu = self.us, self.eu
        iam_us = self.srv.client("iam", region=US)
        iam_eu = self.srv.client("iam", region=EU)
        arn = iam_us.create_role(RoleName="DeviceRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        self.assertEqual(arn, "arn:aws:iam::%s:role/DeviceRole" % self.acct)
        # IAM is global: the role is visible from every region
        self.assertEqual(iam_eu.get_role(RoleName="DeviceRole")["Role"]["Arn"], arn)
        self.assertIn("DeviceRole", [r["RoleName"] for r in iam_eu.list_roles()["Roles"]])
        a = us.create_role_alias(roleAlias="cam", roleArn=arn)
        self.assertEqual(a["roleAliasArn"], self.arn(US, "rolealias/cam"))
        self.assertEqual(code(eu.describe_role_alias, roleAlias="cam"), "ResourceNotFoundException")
        self.assertNotIn("cam", eu.list_role_aliases()["roleAliases"])
        # the same alias name in eu-west-1, with the same (global) role
        e = eu.create_role_alias(roleAlias="cam", roleArn=arn, credentialDurationSeconds=1800)
        self.assertEqual(e["roleAliasArn"], self.arn(EU, "rolealias/cam"))
        self.assertEqual(eu.describe_role_alias(roleAlias="cam")["roleAliasDescription"]["credentialDurationSeconds"],
                         1800)
        self.assertEqual(us.describe_role_alias(roleAlias="cam")["roleAliasDescription"]["credentialDurationSeconds"],
                         3600)
        eu.delete_role_alias(roleAlias="cam")
        self.assertEqual(us.describe_role_alias(roleAlias="cam")["roleAliasDescription"]["roleArn"], arn)

    def test_logging_options(self):
        role_arn = role(self.srv, "LogRole")
        self.us.set_v2_logging_options(roleArn=role_arn, defaultLogLevel="INFO")
        self.assertEqual(self.us.get_v2_logging_options()["defaultLogLevel"], "INFO")
        self.assertEqual(code(self.ap.get_v2_logging_options), "NotConfiguredException")

    def test_nothing_leaks_into_a_third_region(self):
        """After the other tests' us-east-1 and eu-west-1 resources, ap-northeast-1 is empty."""
        ap = self.ap
        self.us.create_thing(thingName="only-us")
        self.us.create_policy(policyName="only-us", policyDocument=NARROW)
        self.us.create_keys_and_certificate(setAsActive=True)
        self.us.create_thing_group(thingGroupName="only-us")
        self.us.create_mitigation_action(actionName="only-us", roleArn=role(self.srv, "OnlyUsRole"),
                                         actionParams={"enableIoTLoggingParams": {
                                             "roleArnForLogging": role(self.srv, "OnlyUsLog"), "logLevel": "INFO"}})
        self.assertEqual(ap.list_things()["things"], [])
        self.assertEqual(ap.list_policies()["policies"], [])
        self.assertEqual(ap.list_certificates()["certificates"], [])
        self.assertEqual(ap.list_ca_certificates()["certificates"], [])
        self.assertEqual(ap.list_thing_groups()["thingGroups"], [])
        self.assertEqual(ap.list_role_aliases()["roleAliases"], [])
        self.assertEqual(ap.list_mitigation_actions()["actionIdentifiers"], [])
        self.assertEqual(ap.list_scheduled_audits()["scheduledAudits"], [])
        self.assertEqual(ap.list_audit_suppressions()["suppressions"], [])
        cfg = ap.describe_account_audit_configuration()
        self.assertNotIn("roleArn", cfg)
        self.assertFalse(any(c["enabled"] for c in cfg["auditCheckConfigurations"].values()))


class RegionalAuditTest(unittest.TestCase):
    """The audit and mitigation in two regions of one account."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.acct = cls.srv.key()["account_id"]
        cls.us = cls.srv.client("iot", region=US)
        cls.eu = cls.srv.client("iot", region=EU)
        iam = cls.srv.client("iam", region=US)
        cls.audit_role = iam.create_role(RoleName="AuditRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.attach_role_policy(RoleName="AuditRole", PolicyArn=AUDIT_POLICY_ARN)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def wait(self, iot, task_id):
        for _ in range(1200):
            t = iot.describe_audit_task(taskId=task_id)
            if t["taskStatus"] != "IN_PROGRESS":
                return t
            time.sleep(0.1)
        raise AssertionError("task %s still in progress" % task_id)

    def test_audit_and_mitigation_per_region(self):
        us, eu = self.us, self.eu
        checks = ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"]
        # us-east-1: a permissive policy, no logging; eu-west-1: a narrow policy, logging on
        us.create_policy(policyName="too-wide", policyDocument=PERMISSIVE)
        eu.create_policy(policyName="narrow", policyDocument=NARROW)
        eu.create_policy(policyName="narrow2", policyDocument=NARROW)
        eu.set_v2_logging_options(roleArn=role(self.srv, "EuLogRole"), defaultLogLevel="INFO")

        # the configuration is per region: the audit role (global IAM) serves both
        us.update_account_audit_configuration(roleArn=self.audit_role,
                                              auditCheckConfigurations={c: {"enabled": True} for c in checks})
        cfg = eu.describe_account_audit_configuration()
        self.assertNotIn("roleArn", cfg)
        self.assertFalse(cfg["auditCheckConfigurations"]["LOGGING_DISABLED_CHECK"]["enabled"])
        self.assertEqual(code(eu.start_on_demand_audit_task, targetCheckNames=checks), "InvalidRequestException")
        eu.update_account_audit_configuration(roleArn=self.audit_role,
                                              auditCheckConfigurations={c: {"enabled": True} for c in checks})

        t_us = us.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
        t_eu = eu.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
        d_us, d_eu = self.wait(us, t_us), self.wait(eu, t_eu)
        self.assertEqual(d_us["taskStatus"], "COMPLETED")
        self.assertEqual(d_eu["taskStatus"], "COMPLETED")
        # each audit saw only its region's policies and logging options
        pol_us = d_us["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
        pol_eu = d_eu["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
        self.assertEqual((pol_us["totalResourcesCount"], pol_us["nonCompliantResourcesCount"]), (1, 1))
        self.assertEqual((pol_eu["totalResourcesCount"], pol_eu["nonCompliantResourcesCount"]), (2, 0))
        self.assertEqual(d_us["auditDetails"]["LOGGING_DISABLED_CHECK"]["checkRunStatus"], "COMPLETED_NON_COMPLIANT")
        self.assertEqual(d_eu["auditDetails"]["LOGGING_DISABLED_CHECK"]["checkRunStatus"], "COMPLETED_COMPLIANT")

        # tasks and findings are per region
        self.assertEqual(code(eu.describe_audit_task, taskId=t_us), "ResourceNotFoundException")
        self.assertEqual(code(us.describe_audit_task, taskId=t_eu), "ResourceNotFoundException")
        now = datetime.datetime.now(datetime.timezone.utc)
        window = dict(startTime=now - datetime.timedelta(days=1), endTime=now + datetime.timedelta(days=1))
        self.assertEqual([t["taskId"] for t in us.list_audit_tasks(**window)["tasks"]], [t_us])
        self.assertEqual([t["taskId"] for t in eu.list_audit_tasks(**window)["tasks"]], [t_eu])
        f_us = all_findings(self.srv, taskId=t_us)
        self.assertEqual(sorted(f["checkName"] for f in f_us), sorted(checks))
        self.assertEqual(eu.list_audit_findings(taskId=t_us)["findings"], [])
        self.assertEqual(eu.list_audit_findings(**window)["findings"], [])
        pol_finding = [f for f in f_us if f["checkName"] == "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"][0]
        self.assertEqual(pol_finding["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"]
                         ["policyName"], "too-wide")
        self.assertEqual(code(eu.describe_audit_finding, findingId=pol_finding["findingId"]),
                         "ResourceNotFoundException")

        # suppressions and scheduled audits are per region
        us.create_audit_suppression(checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                                    resourceIdentifier={"policyVersionIdentifier": {"policyName": "too-wide",
                                                                                    "policyVersionId": "1"}},
                                    suppressIndefinitely=True, clientRequestToken="s-us")
        self.assertEqual(len(us.list_audit_suppressions()["suppressions"]), 1)
        self.assertEqual(eu.list_audit_suppressions()["suppressions"], [])
        s = us.create_scheduled_audit(scheduledAuditName="nightly", frequency="DAILY", targetCheckNames=checks)
        self.assertEqual(s["scheduledAuditArn"], "arn:aws:iot:%s:%s:scheduledaudit/nightly" % (US, self.acct))
        self.assertEqual(code(eu.describe_scheduled_audit, scheduledAuditName="nightly"), "ResourceNotFoundException")
        self.assertEqual(eu.list_scheduled_audits()["scheduledAudits"], [])

        # mitigation: an action of us-east-1 enables logging there, and only there
        mit_role = role(self.srv, "MitigationRole", allow("iot:SetV2LoggingOptions", "iam:PassRole"))
        log_role = role(self.srv, "UsLogRole")
        a = us.create_mitigation_action(actionName="turn-on-logging", roleArn=mit_role, actionParams={
            "enableIoTLoggingParams": {"roleArnForLogging": log_role, "logLevel": "WARN"}})
        self.assertEqual(a["actionArn"], "arn:aws:iot:%s:%s:mitigationaction/turn-on-logging" % (US, self.acct))
        self.assertEqual(code(eu.describe_mitigation_action, actionName="turn-on-logging"),
                         "ResourceNotFoundException")
        self.assertEqual(eu.list_mitigation_actions()["actionIdentifiers"], [])
        # neither the action nor the audit task of us-east-1 can be used from eu-west-1
        self.assertIn(code(eu.start_audit_mitigation_actions_task, taskId="eu-try",
                           target={"auditTaskId": t_us},
                           auditCheckToActionsMapping={"LOGGING_DISABLED_CHECK": ["turn-on-logging"]},
                           clientRequestToken="eu-try"),
                      ("ResourceNotFoundException", "InvalidRequestException"))
        # the same action name in eu-west-1 is another action
        e = eu.create_mitigation_action(actionName="turn-on-logging", roleArn=mit_role, actionParams={
            "enableIoTLoggingParams": {"roleArnForLogging": log_role, "logLevel": "ERROR"}})
        self.assertEqual(e["actionArn"], "arn:aws:iot:%s:%s:mitigationaction/turn-on-logging" % (EU, self.acct))
        self.assertNotEqual(e["actionId"], a["actionId"])

        us.start_audit_mitigation_actions_task(
            taskId="us-logging", target={"auditTaskId": t_us},
            auditCheckToActionsMapping={"LOGGING_DISABLED_CHECK": ["turn-on-logging"]},
            clientRequestToken="us-logging")
        self.assertEqual(code(eu.describe_audit_mitigation_actions_task, taskId="us-logging"),
                         "ResourceNotFoundException")
        m = wait_mtask(self.srv, "us-logging")
        self.assertEqual(m["taskStatus"], "COMPLETED", m)
        self.assertEqual(us.get_v2_logging_options()["defaultLogLevel"], "WARN")
        self.assertEqual(eu.get_v2_logging_options()["defaultLogLevel"], "INFO")
        self.assertEqual(eu.list_audit_mitigation_actions_tasks(**window)["tasks"], [])

        # a scheduled audit runs in its own region (due today: the scheduler starts it now)
        eu.create_scheduled_audit(scheduledAuditName="eu-nightly", frequency="DAILY", targetCheckNames=checks)
        deadline = time.time() + 60
        eu_sched = []
        while not eu_sched and time.time() < deadline:
            eu_sched = eu.list_audit_tasks(taskType="SCHEDULED_AUDIT_TASK", **window)["tasks"]
            time.sleep(0.2)
        self.assertEqual(len(eu_sched), 1, eu_sched)
        d = self.wait(eu, eu_sched[0]["taskId"])
        self.assertEqual(d["scheduledAuditName"], "eu-nightly")
        self.assertEqual(d["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["totalResourcesCount"], 2)
        self.assertEqual(code(us.describe_audit_task, taskId=eu_sched[0]["taskId"]), "ResourceNotFoundException")
        self.assertNotIn(eu_sched[0]["taskId"],
                         [t["taskId"] for t in us.list_audit_tasks(taskType="SCHEDULED_AUDIT_TASK", **window)["tasks"]])


class RegionalNotificationTest(unittest.TestCase):
    def test_notification_goes_to_the_regions_topic(self):
        """Only the audit of the region whose configuration names an SNS target notifies it."""
        sub = Subscriber().start()
        try:
            with env(**FAST), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                us, eu = srv.client("iot", region=US), srv.client("iot", region=EU)
                sns_eu = srv.client("sns", region=EU)
                topic = sns_eu.create_topic(Name="EuAudit")["TopicArn"]
                self.assertTrue(topic.startswith("arn:aws:sns:eu-west-1:"), topic)
                subscribe_confirmed(sns_eu, topic, sub)
                iam = srv.client("iam")
                audit = iam.create_role(RoleName="AuditRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
                iam.attach_role_policy(RoleName="AuditRole", PolicyArn=AUDIT_POLICY_ARN)
                sns_role = iam.create_role(RoleName="AuditSnsRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
                checks = {"LOGGING_DISABLED_CHECK": {"enabled": True}}
                us.update_account_audit_configuration(roleArn=audit, auditCheckConfigurations=checks)
                eu.update_account_audit_configuration(roleArn=audit, auditCheckConfigurations=checks,
                                                      auditNotificationTargetConfigurations={"SNS": {
                                                          "targetArn": topic, "roleArn": sns_role, "enabled": True}})
                self.assertNotIn("SNS", us.describe_account_audit_configuration()
                                 ["auditNotificationTargetConfigurations"])
                t_us = us.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
                self.assertEqual(wait_task(srv, t_us)["taskStatus"], "COMPLETED")
                t_eu = eu.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
                sub.wait(lambda s: [m for m in s.messages("Notification")
                                    if json.loads(m[1]["Message"])["taskId"] == t_eu])
                notes = [json.loads(m[1]["Message"]) for m in sub.messages("Notification")]
                self.assertEqual([n["taskId"] for n in notes], [t_eu])
                self.assertEqual(notes[0]["accountId"], srv.key()["account_id"])
        finally:
            sub.stop()


class MigrationTest(unittest.TestCase):
    """A data directory written before regions existed opens with everything in us-east-1."""

    @unittest.skipIf(ddserver.ON_PG, ddserver.PG_ONLY_SQLITE + " (a SQLite store from before regions)")
    def test_old_data_dir_is_in_us_east_1(self):
        with open(os.path.join(FIXTURE, "fixture.json")) as f:
            fx = json.load(f)
        tmp = tempfile.mkdtemp(prefix="ddregions-")
        try:
            data = os.path.join(tmp, "data")
            os.mkdir(data)
            with gzip.open(os.path.join(FIXTURE, "iotdefender.db.gz")) as src, \
                    open(os.path.join(data, "iotdefender.db"), "wb") as dst:
                shutil.copyfileobj(src, dst)
            creds = os.path.join(tmp, "credentials")
            write_credentials(creds, [("old", fx["access_key"], fx["secret_key"], fx["account"])])
            with Server(data_dir=data, credentials=creds) as srv:
                self.check_migrated(srv, fx)
            db = sqlite3.connect(os.path.join(data, "iotdefender.db"))
            cols = [r[1] for r in db.execute("PRAGMA table_info(things)")]
            self.assertEqual(cols[0], "account_region")
            self.assertEqual(db.execute("SELECT DISTINCT account_region FROM things").fetchall(),
                             [(fx["account"] + "/us-east-1",)])
            db.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def check_migrated(self, srv, fx):
        acct = fx["account"]
        us, eu = srv.client("iot", region=US), srv.client("iot", region=EU)
        arn = lambda res: "arn:aws:iot:us-east-1:%s:%s" % (acct, res)
        # every resource of the old store is in us-east-1 ...
        t = us.describe_thing(thingName=fx["thing"])
        self.assertEqual(t["thingArn"], arn("thing/" + fx["thing"]))
        self.assertEqual(t["attributes"], fx["thing_attributes"])
        self.assertEqual(us.list_thing_principals(thingName=fx["thing"])["principals"], [arn("cert/" + fx["cert"])])
        self.assertEqual(us.list_tags_for_resource(resourceArn=arn("thing/" + fx["thing"]))["tags"], fx["thing_tags"])
        self.assertEqual(us.describe_certificate(certificateId=fx["cert"])["certificateDescription"]["status"],
                         "ACTIVE")
        self.assertEqual(us.list_attached_policies(target=arn("cert/" + fx["cert"]))["policies"],
                         [{"policyName": fx["policy"], "policyArn": arn("policy/" + fx["policy"])}])
        self.assertEqual(us.list_things_in_thing_group(thingGroupName=fx["group"])["things"], [fx["thing"]])
        self.assertEqual(us.describe_role_alias(roleAlias=fx["role_alias"])["roleAliasDescription"]["roleArn"],
                         fx["role_arn"])
        self.assertEqual(us.get_v2_logging_options()["defaultLogLevel"], fx["log_level"])
        cfg = us.describe_account_audit_configuration()
        self.assertEqual(cfg["roleArn"], fx["audit_role"])
        self.assertTrue(cfg["auditCheckConfigurations"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["enabled"])
        task = us.describe_audit_task(taskId=fx["audit_task"])
        self.assertEqual(task["taskStatus"], "COMPLETED")
        self.assertEqual(len(us.list_audit_findings(taskId=fx["audit_task"])["findings"]), fx["findings"])
        self.assertEqual(us.describe_scheduled_audit(scheduledAuditName=fx["scheduled_audit"])["frequency"], "DAILY")
        self.assertEqual(us.describe_mitigation_action(actionName=fx["mitigation_action"])["actionArn"],
                         arn("mitigationaction/" + fx["mitigation_action"]))
        self.assertEqual(us.describe_audit_mitigation_actions_task(taskId=fx["mitigation_task"])["taskStatus"],
                         "COMPLETED")
        # ... IAM stays the account's ...
        self.assertEqual(srv.client("iam", region=EU).get_role(RoleName=fx["role_name"])["Role"]["Arn"],
                         fx["role_arn"])
        # ... and eu-west-1 starts empty
        self.assertEqual(code(eu.describe_thing, thingName=fx["thing"]), "ResourceNotFoundException")
        self.assertEqual(eu.list_things()["things"], [])
        self.assertEqual(eu.list_certificates()["certificates"], [])
        self.assertEqual(code(eu.describe_audit_task, taskId=fx["audit_task"]), "ResourceNotFoundException")
        # the migrated data keeps working: a new audit in us-east-1 finds the old policy
        t2 = us.start_on_demand_audit_task(targetCheckNames=["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"])["taskId"]
        d = wait_task(srv, t2)
        self.assertEqual(d["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["nonCompliantResourcesCount"], 1)


if __name__ == "__main__":
    unittest.main()
