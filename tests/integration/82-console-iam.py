"""IAM users in the console. Over plain HTTP: a user signs in with its access key id and
secret (checked as SigV4 checks them: a wrong secret, an unknown, deleted or inactive key
is refused, the inactive one saying so); every console call runs as that user under the
API's own authorization (seed 001's read-only audit policy reads the configuration and the
findings and is refused the update with AWS's AccessDeniedException message; iam:PassRole
too; a group policy applies); /console/api/permissions answers what the user may call, as
SigV4 requests find it; a session ends when its key is made inactive or deleted; a user
reaches nothing of another account. In a real browser (headless chromium): that user sees
the audit, its check and the non-compliant resources, no navigation to the pages it may
not list, the audit settings read-only with Save disabled, and a denied page shows the
API's AccessDeniedException message instead of breaking."""
import importlib
import json
import time
import unittest

import boto3
import botocore.config
import botocore.exceptions

from auditfleet import audit_role, enable, wait_task
from consolehttp import ConsoleClient
from iamusers import ACCT, ALICE, RUN_POLICY, SCHEDULED_POLICY, UPDATE_POLICY_NO_PASSROLE, create_user, start_server

console80 = importlib.import_module("80-console")

OPS = [("iot", op) for op in (
    "ListAuditTasks", "DescribeAuditTask", "StartOnDemandAuditTask", "CancelAuditTask", "ListAuditFindings",
    "DescribeAccountAuditConfiguration", "UpdateAccountAuditConfiguration", "ListScheduledAudits",
    "CreateScheduledAudit", "ListAuditSuppressions", "ListMitigationActions", "CreateMitigationAction",
    "ListAuditMitigationActionsTasks")] + [("iam", "CreateRole"), ("iam", "ListUsers")]
RUN_ALLOWS = {"ListAuditTasks", "DescribeAuditTask", "StartOnDemandAuditTask", "CancelAuditTask",
              "ListAuditFindings", "DescribeAccountAuditConfiguration", "ListScheduledAudits"}


def denial(user, action, resource="*", account=ACCT):
    return "User: arn:aws:iam::%s:user/%s is not authorized to perform: %s on resource: %s" % (
        account, user, action, resource)


class ConsoleIamHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.srv = start_server("ddconsole-iam-")
        cls.iam = cls.srv.client("iam")
        cls.iot = cls.srv.client("iot")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def user(self, name, *policies):
        return create_user(self.iam, name, *policies)

    def console(self, key):
        c = ConsoleClient(self.srv.url)
        c.sign_in({"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]})
        return c

    def sign_in_fails(self, ak, sk):
        c = ConsoleClient(self.srv.url)
        status, out = c.json("POST", "/console/api/session", {"accessKeyId": ak, "secretAccessKey": sk}, csrf=False)
        self.assertIsNone(c.cookie())
        return status, out

    def permissions(self, c, ops, region=None):
        status, out = c.json("POST", "/console/api/permissions" + ("?region=" + region if region else ""),
                             {"operations": [dict(service=s, operation=o, **({"input": i} if i else {}))
                                             for s, o, i in ops]})
        self.assertEqual(status, 200, out)
        return out["results"]

    def test_read_only_user(self):
        key = self.user("Auditor", RUN_POLICY)
        c = self.console(key)
        self.assertEqual(c.session["userName"], "Auditor")
        self.assertEqual(c.session["arn"], "arn:aws:iam::%s:user/Auditor" % ACCT)
        self.assertEqual(c.session["account"], ACCT)
        self.assertFalse(c.session["root"])
        self.assertEqual(c.session["accessKeyId"], key["AccessKeyId"])
        # the same view as GET /console/api/session
        status, out = c.json("GET", "/console/api/session")
        self.assertEqual((status, out["userName"], out["root"]), (200, "Auditor", False))
        # allowed: the configuration and the audits
        status, cfg = c.call("iot", "DescribeAccountAuditConfiguration")
        self.assertEqual(status, 200, cfg)
        self.assertIn("auditCheckConfigurations", cfg)
        status, out = c.call("iot", "ListAuditTasks", {"startTime": 0, "endTime": int(time.time()) + 60})
        self.assertEqual((status, out["tasks"]), (200, []))
        # refused, with AWS's code and message, and nothing changed
        before = self.iot.describe_account_audit_configuration()["auditCheckConfigurations"]
        status, out = c.call("iot", "UpdateAccountAuditConfiguration",
                             {"auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {"enabled": True}}})
        self.assertEqual(status, 403, out)
        self.assertEqual(out["__type"], "AccessDeniedException")
        self.assertEqual(out["message"], denial("Auditor", "iot:UpdateAccountAuditConfiguration"))
        self.assertEqual(self.iot.describe_account_audit_configuration()["auditCheckConfigurations"], before)
        self.assertFalse(before.get("LOGGING_DISABLED_CHECK", {}).get("enabled", False))
        status, out = c.call("iot", "DescribeThing", {"thingName": "lamp"})
        self.assertEqual((status, out["message"]),
                         (403, denial("Auditor", "iot:DescribeThing", "arn:aws:iot:us-east-1:%s:thing/lamp" % ACCT)))
        status, out = c.call("iam", "CreateRole", {"RoleName": "Sneaky", "AssumeRolePolicyDocument": "{}"})
        self.assertEqual((status, out["__type"]), (403, "AccessDenied"))
        self.assertEqual(out["message"], denial("Auditor", "iam:CreateRole", "arn:aws:iam::%s:role/Sneaky" % ACCT))
        status, out = c.call("sns", "ListTopics")
        self.assertEqual((status, out["__type"]), (403, "AuthorizationError"))
        # the same answer as its signed requests
        boto = boto3.client("iot", endpoint_url=self.srv.url, region_name="us-east-1",
                            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            boto.update_account_audit_configuration(
                auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}})
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         denial("Auditor", "iot:UpdateAccountAuditConfiguration"))

        # what the page may show: exactly what its policy allows
        res = self.permissions(c, [(s, o, None) for s, o in OPS])
        self.assertEqual([(r["service"], r["operation"]) for r in res], OPS)
        for r in res:
            self.assertEqual(r["allowed"], r["service"] == "iot" and r["operation"] in RUN_ALLOWS, r)
        byop = {r["operation"]: r for r in res}
        self.assertEqual((byop["UpdateAccountAuditConfiguration"]["action"],
                          byop["UpdateAccountAuditConfiguration"]["resource"]),
                         ("iot:UpdateAccountAuditConfiguration", "*"))
        self.assertEqual(byop["CreateRole"]["resource"], "arn:aws:iam::%s:role/*" % ACCT)
        # and each answer agrees with the call itself
        for s, o in (("iot", "ListAuditSuppressions"), ("iot", "ListMitigationActions"), ("iot", "ListScheduledAudits")):
            status, out = c.call(s, o, {})
            self.assertEqual(status == 200, byop[o]["allowed"], (o, status, out))
        # the root's session may call everything
        root = ConsoleClient(self.srv.url)
        root.sign_in(self.srv.key(0))
        self.assertTrue(root.session["root"])
        self.assertNotIn("userName", root.session)
        self.assertTrue(all(r["allowed"] for r in self.permissions(root, [(s, o, None) for s, o in OPS])))

    def test_permissions_endpoint_rules(self):
        key = self.user("Scheduler", SCHEDULED_POLICY)
        c = self.console(key)
        # the resource comes from the input, as for a call: the one schedule the policy names
        res = self.permissions(c, [("iot", "CreateScheduledAudit", {"scheduledAuditName": "weekly-ops"}),
                                   ("iot", "CreateScheduledAudit", {"scheduledAuditName": "other"}),
                                   ("iot", "DeleteScheduledAudit", {"scheduledAuditName": "weekly-ops"}),
                                   ("iot", "ListScheduledAudits", None)])
        self.assertEqual([r["allowed"] for r in res], [True, False, True, False])
        self.assertEqual(res[0]["resource"], "arn:aws:iot:us-east-1:%s:scheduledaudit/weekly-ops" % ACCT)
        # another region is another resource
        res = self.permissions(c, [("iot", "CreateScheduledAudit", {"scheduledAuditName": "weekly-ops"})],
                               region="eu-west-1")
        self.assertEqual((res[0]["allowed"], res[0]["resource"]),
                         (False, "arn:aws:iot:eu-west-1:%s:scheduledaudit/weekly-ops" % ACCT))
        # malformed requests
        for body in ({}, {"operations": "iot"}, {"operations": [{"service": "iot"}]},
                     {"operations": [{"service": "i/o", "operation": "X"}]},
                     {"operations": [{"service": "iot", "operation": "ListThings", "input": []}]},
                     {"operations": [{"service": "iot", "operation": "ListThings"}] * 201}):
            status, out = c.json("POST", "/console/api/permissions", body)
            self.assertEqual((status, out["__type"]), (400, "InvalidRequestException"), body)
        status, out = c.json("POST", "/console/api/permissions?region=EU", {"operations": []})
        self.assertEqual(status, 400)
        # a session and its CSRF token are needed, as for every call
        status, _ = ConsoleClient(self.srv.url).json("POST", "/console/api/permissions", {"operations": []})
        self.assertEqual(status, 401)
        status, _ = c.json("POST", "/console/api/permissions", {"operations": []}, csrf=False)
        self.assertEqual(status, 403)
        status, _ = c.json("GET", "/console/api/permissions")
        self.assertEqual(status, 405)

    def test_passrole_and_group_policy(self):
        role = audit_role(self.srv)
        c = self.console(self.user("Updater", UPDATE_POLICY_NO_PASSROLE))
        status, out = c.call("iot", "UpdateAccountAuditConfiguration", {"roleArn": role})
        self.assertEqual((status, out["message"]), (403, denial("Updater", "iam:PassRole", role)))
        res = self.permissions(c, [("iot", "UpdateAccountAuditConfiguration", {"roleArn": role}),
                                   ("iot", "UpdateAccountAuditConfiguration", None)])
        self.assertEqual([r["allowed"] for r in res], [False, True])
        # a group's policy applies to its members, in the console too, and stops with membership
        c2 = self.console(self.user("Member"))
        self.assertEqual(c2.call("iot", "ListAuditTasks", {"startTime": 0, "endTime": 10})[0], 403)
        self.iam.create_group(GroupName="ConsoleAuditors")
        self.iam.put_group_policy(GroupName="ConsoleAuditors", PolicyName="run", PolicyDocument=RUN_POLICY)
        self.iam.add_user_to_group(GroupName="ConsoleAuditors", UserName="Member")
        self.assertEqual(c2.call("iot", "ListAuditTasks", {"startTime": 0, "endTime": 10})[0], 200)
        self.assertTrue(self.permissions(c2, [("iot", "ListAuditTasks", None)])[0]["allowed"])
        self.iam.remove_user_from_group(GroupName="ConsoleAuditors", UserName="Member")
        self.assertEqual(c2.call("iot", "ListAuditTasks", {"startTime": 0, "endTime": 10})[0], 403)

    def test_key_states(self):
        key = self.user("Keyed", RUN_POLICY)
        ak, sk = key["AccessKeyId"], key["SecretAccessKey"]
        # a wrong secret, another key's secret, an unknown key: one answer, no cookie
        for a, s in ((ak, sk[:-1] + ("x" if sk[-1] != "x" else "y")), (ak, ALICE[2]), ("AKIANOSUCHKEY0000000", sk),
                     (ak, sk + "x")):
            status, out = self.sign_in_fails(a, s)
            self.assertEqual((status, out["__type"], out["message"]),
                             (403, "UnrecognizedClientException", "The access key id or secret access key is not valid."))
        c = self.console(key)
        self.assertEqual(c.call("iot", "DescribeAccountAuditConfiguration")[0], 200)
        # made inactive: the open session ends at its next call, and sign-in says why
        self.iam.update_access_key(UserName="Keyed", AccessKeyId=ak, Status="Inactive")
        status, out = c.call("iot", "DescribeAccountAuditConfiguration")
        self.assertEqual((status, out["__type"]), (401, "NotAuthorizedException"))
        self.assertIn("was deleted or made inactive", out["message"])
        self.assertEqual(c.json("GET", "/console/api/session")[0], 401)  # the session is gone
        status, out = self.sign_in_fails(ak, sk)
        self.assertEqual((status, out["__type"]), (403, "InvalidClientTokenId"))
        self.assertEqual(out["message"], "The access key %s is inactive. An administrator must make it Active "
                                         "(UpdateAccessKey) before it can sign in." % ak)
        # an inactive key with a wrong secret learns nothing about the key
        self.assertEqual(self.sign_in_fails(ak, "x" * 40)[1]["__type"], "UnrecognizedClientException")
        self.iam.update_access_key(UserName="Keyed", AccessKeyId=ak, Status="Active")
        c = self.console(key)
        self.assertEqual(c.call("iot", "DescribeAccountAuditConfiguration")[0], 200)
        # deleted: the session ends, and the key is unknown from then on
        self.iam.delete_access_key(UserName="Keyed", AccessKeyId=ak)
        self.assertEqual(c.call("iot", "DescribeAccountAuditConfiguration")[0], 401)
        self.assertEqual(self.sign_in_fails(ak, sk)[1]["__type"], "UnrecognizedClientException")

    def test_accounts_isolated(self):
        everything = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                          "Resource": "*"}]})
        self.srv.client("iot", 1).create_thing(thingName="bobs-lamp")
        c = self.console(self.user("Admin", everything))
        self.assertEqual(c.session["account"], ACCT)
        status, out = c.call("iot", "DescribeThing", {"thingName": "bobs-lamp"})
        self.assertEqual((status, out["__type"]), (404, "ResourceNotFoundException"))
        status, out = c.call("iot", "CreateThing", {"thingName": "admins-lamp"})
        self.assertEqual(status, 200, out)
        self.assertEqual(self.iot.describe_thing(thingName="admins-lamp")["thingName"], "admins-lamp")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.srv.client("iot", 1).describe_thing(thingName="admins-lamp")
        # IAM calls act in the user's own account
        status, out = c.call("iam", "GetUser", {"UserName": "Admin"})
        self.assertEqual(out["User"]["Arn"], "arn:aws:iam::%s:user/Admin" % ACCT)


@unittest.skipIf(console80.SKIP, console80.SKIP or "")
class ConsoleIamBrowserTest(console80.BrowserCase):
    """Seed 001's read-only audit user in the browser, after the root ran an audit of the
    lab's fleet (the shared certificate is non-compliant)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        role = audit_role(srv)
        enable(srv, role, ["DEVICE_CERTIFICATE_SHARED_CHECK", "LOGGING_DISABLED_CHECK"])
        iot = srv.client("iot")
        cls.task = iot.start_on_demand_audit_task(
            targetCheckNames=["DEVICE_CERTIFICATE_SHARED_CHECK", "LOGGING_DISABLED_CHECK"])["taskId"]
        wait_task(srv, cls.task)
        cls.key = create_user(srv.client("iam"), "Auditor", RUN_POLICY)

    def nav_links(self):
        return [e.text.strip() for e in self.d.find_elements(console80.By.XPATH, "//nav//a") if e.is_displayed()]

    def test_read_only_auditor(self):
        d, srv = self.d, self.srv
        d.get(srv.url + "/console/")
        self.heading("Sign in")
        # a wrong secret first: the page says so and stays on sign-in
        self.fill("Access key ID", self.key["AccessKeyId"])
        self.fill("Secret access key", "x" * 40)
        self.click_button("Sign in")
        self.see("The access key id or secret access key is not valid.")
        self.fill("Secret access key", self.key["SecretAccessKey"])
        self.click_button("Sign in")
        self.heading("Dashboard")
        self.see("User Auditor (account %s)" % srv.key(0)["account_id"])
        # the navigation offers only what the policy lets it list
        self.wait(lambda: "Results" in self.nav_links(), 60, "nav Results")
        links = self.nav_links()
        for shown in ("Results", "Schedules", "Settings"):
            self.assertIn(shown, links)
        for hidden in ("Finding suppressions", "Mitigation actions", "Action executions"):
            self.assertNotIn(hidden, links)
        self.shot("iam-dashboard")
        # sees the findings: Results, the audit, the check, its resources
        self.nav("Results")
        self.link(self.task).click()
        self.heading("Non-compliant checks")
        self.link("Device certificate shared").click()
        self.see(self.shared_cert)
        self.see("smart-lock-1")
        self.no_alert()
        self.assertEqual(self.visible("//*[self::button][normalize-space(.)='Start mitigation actions']"), None)
        self.shot("iam-check")
        # Settings: readable, but the update is not offered
        self.nav("Settings")
        self.heading("Checks")
        self.see("DEVICE_CERTIFICATE_SHARED_CHECK")
        self.see("Your policies do not allow iot:UpdateAccountAuditConfiguration")
        save = self.visible("//button[normalize-space(.)='Save']")
        self.assertIsNotNone(save)
        self.assertFalse(save.is_enabled())
        for name in ("Enable all", "Disable all", "Create role"):
            b = self.visible("//button[normalize-space(.)=%s]" % json.dumps(name))
            self.assertIsNotNone(b, name)
            self.assertFalse(b.is_enabled(), name)
        self.shot("iam-settings")
        # a page it may not list, opened by its address: the API's refusal, in the page
        d.get(srv.url + "/console/mitigation/actions")
        self.see("AccessDeniedException")
        self.see(denial("Auditor", "iot:ListMitigationActions", account=srv.key(0)["account_id"]))
        self.heading("Mitigation actions")
        self.shot("iam-denied")
        # nothing changed behind the page
        cfg = srv.client("iot").describe_account_audit_configuration()["auditCheckConfigurations"]
        self.assertTrue(cfg["DEVICE_CERTIFICATE_SHARED_CHECK"]["enabled"])
        self.assertFalse(cfg.get("CA_CERTIFICATE_EXPIRING_CHECK", {}).get("enabled", False))
        self.click_button("Sign out")
        self.heading("Sign in")


if __name__ == "__main__":
    unittest.main()
