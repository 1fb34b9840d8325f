"""The audit engine through boto3 and the aws CLI: account configuration (merge, seed
aliases, validation), on-demand tasks (limits, cancel, list, resume after a restart, a
SIGKILL during a large audit), suppressions, scheduled audits on a moved clock."""
import calendar
import datetime
import json
import time
import unittest

import botocore.exceptions

from auditfleet import audit_role, enable, wait_task, all_findings, signed, post_events
import ddserver
from ddserver import Server

PERMISSIVE = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class AuditConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.iot = cls.srv.client("iot")
        cls.role = audit_role(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_describe_update_merge_aliases(self):
        cfg = self.iot.describe_account_audit_configuration()
        checks = cfg["auditCheckConfigurations"]
        self.assertEqual(len(checks), 17)
        self.assertFalse(any(c["enabled"] for c in checks.values()))
        self.assertEqual(checks["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["configuration"],
                         {"CERT_EXPIRATION_THRESHOLD_IN_DAYS": "30"})
        # seed alias in, API name out
        self.iot.update_account_audit_configuration(
            roleArn=self.role,
            auditCheckConfigurations={"DEVICE_CERT_APPROACHING_EXPIRATION_CHECK": {
                "enabled": True, "configuration": {"CERT_EXPIRATION_THRESHOLD_IN_DAYS": "60"}}})
        self.iot.update_account_audit_configuration(
            auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}})
        cfg = self.iot.describe_account_audit_configuration()
        checks = cfg["auditCheckConfigurations"]
        self.assertEqual(cfg["roleArn"], self.role)
        self.assertTrue(checks["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["enabled"])  # merged, not replaced
        self.assertEqual(checks["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["configuration"],
                         {"CERT_EXPIRATION_THRESHOLD_IN_DAYS": "60"})
        self.assertTrue(checks["LOGGING_DISABLED_CHECK"]["enabled"])
        self.assertNotIn("DEVICE_CERT_APPROACHING_EXPIRATION_CHECK", checks)

    def test_validation(self):
        c, m = code(self.iot.update_account_audit_configuration,
                    auditCheckConfigurations={"NOT_A_CHECK": {"enabled": True}})
        self.assertEqual((c, m), ("InvalidRequestException", "Request contains an invalid Audit Check Name."))
        c, m = code(self.iot.update_account_audit_configuration,
                    auditCheckConfigurations={"DEVICE_CERTIFICATE_AGE_CHECK": {
                        "enabled": True, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "5"}}})
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("CERT_AGE_THRESHOLD_IN_DAYS", m)
        c, m = code(self.iot.update_account_audit_configuration,
                    roleArn="arn:aws:iam::%s:role/Missing" % self.srv.key()["account_id"])
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("does not exist", m)
        iam = self.srv.client("iam")
        iam.create_role(RoleName="NotTrusted", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}))
        c, m = code(self.iot.update_account_audit_configuration,
                    roleArn="arn:aws:iam::%s:role/NotTrusted" % self.srv.key()["account_id"])
        self.assertIn("does not trust iot.amazonaws.com", m)
        # a check that is not enabled
        c, m = code(self.iot.start_on_demand_audit_task, targetCheckNames=["CONFLICTING_CLIENT_IDS_CHECK"])
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("not enabled", m)


class AuditTaskTest(unittest.TestCase):
    def test_limit_resume_cancel_list(self):
        # with no workers, tasks stay queued: the 11th is refused; a restart with workers
        # resumes every queued task
        srv = Server(extra_args=["--audit-workers", "0"]).start()
        try:
            iot = srv.client("iot")
            role = audit_role(srv)
            enable(srv, role, ["LOGGING_DISABLED_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"])
            iot.create_policy(policyName="Wide", policyDocument=PERMISSIVE)
            ids = [iot.start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])["taskId"]
                   for _ in range(10)]
            self.assertTrue(all(len(i) == 32 for i in ids))
            c, _ = code(iot.start_on_demand_audit_task, targetCheckNames=["LOGGING_DISABLED_CHECK"])
            self.assertEqual(c, "LimitExceededException")
            iot.cancel_audit_task(taskId=ids[0])
            t = iot.describe_audit_task(taskId=ids[0])
            self.assertEqual(t["taskStatus"], "CANCELED")
            self.assertEqual(t["auditDetails"]["LOGGING_DISABLED_CHECK"]["checkRunStatus"], "CANCELED")
            self.assertEqual(t["taskStatistics"]["canceledChecks"], 1)
            c, _ = code(iot.cancel_audit_task, taskId=ids[0])
            self.assertEqual(c, "InvalidRequestException")
            now = datetime.datetime.now(datetime.timezone.utc)
            listed = iot.list_audit_tasks(startTime=now - datetime.timedelta(hours=1),
                                          endTime=now + datetime.timedelta(hours=1), taskStatus="IN_PROGRESS")
            self.assertEqual(sorted(t["taskId"] for t in listed["tasks"]), sorted(ids[1:]))
            srv.stop()
            srv.extra_args = []
            srv.start()
            iot = srv.client("iot")
            for i in ids[1:]:
                t = wait_task(srv, i)
                self.assertEqual(t["taskStatus"], "COMPLETED")
                self.assertEqual(t["auditDetails"]["LOGGING_DISABLED_CHECK"]["checkRunStatus"], "COMPLETED_NON_COMPLIANT")
            self.assertEqual(iot.describe_audit_task(taskId=ids[0])["taskStatus"], "CANCELED")
            f = all_findings(srv, taskId=ids[1])
            self.assertEqual(len(f), 1)
            self.assertEqual(f[0]["nonCompliantResource"]["resourceIdentifier"], {"account": srv.key()["account_id"]})
            self.assertEqual(f[0]["severity"], "LOW")
        finally:
            srv.cleanup()

    def test_kill_during_large_audit(self):
        srv = Server().start()
        try:
            iot = srv.client("iot")
            role = audit_role(srv)
            enable(srv, role, ["CONFLICTING_CLIENT_IDS_CHECK"])
            base = int(time.time() * 1000) - 3600 * 1000
            n = 30000
            cert = "%064x" % 7
            for start in range(0, n, 15000):
                events = []
                for k in range(start, start + 15000):
                    events.append({"event": "connect", "clientId": "dup-%d" % k, "certificateId": cert, "timestamp": base + k})
                    events.append({"event": "disconnect", "clientId": "dup-%d" % k, "certificateId": cert,
                                   "timestamp": base + k + 1, "reason": "takeover"})
                status, body = post_events(srv, events)
                self.assertEqual(status, 200, body)
            task = iot.start_on_demand_audit_task(targetCheckNames=["CONFLICTING_CLIENT_IDS_CHECK"])["taskId"]
            time.sleep(0.3)
            srv.kill()
            srv.start()
            t = wait_task(srv, task, timeout=300)
            self.assertIn(t["taskStatus"], ("COMPLETED", "FAILED"))
            if t["taskStatus"] == "COMPLETED":
                self.assertEqual(t["auditDetails"]["CONFLICTING_CLIENT_IDS_CHECK"]["nonCompliantResourcesCount"], n)
            f = all_findings(srv, taskId=task, PaginationConfig={"PageSize": 250})
            keys = [json.dumps(x["nonCompliantResource"]["resourceIdentifier"], sort_keys=True) for x in f]
            self.assertEqual(len(keys), len(set(keys)), "duplicated findings after the restart")
            if t["taskStatus"] == "COMPLETED":
                self.assertEqual(len(keys), n)
        finally:
            srv.cleanup()


class StrandedTaskTest(unittest.TestCase):
    def test_task_left_in_progress_after_its_last_shard_is_settled(self):
        """The state an earlier version's run left when it marked its shard done, then could
        not complete the task in a second write (its lease lost in between, a store error):
        every shard DONE, every check ended, the task IN_PROGRESS and not notified. The next
        start settles it once, with the findings it had."""
        srv = Server(log_level="info").start()
        try:
            iot = srv.client("iot")
            enable(srv, audit_role(srv), ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"])
            for name in ("WideA", "WideB"):
                iot.create_policy(policyName=name, policyDocument=PERMISSIVE)
            task = iot.start_on_demand_audit_task(
                targetCheckNames=["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"])["taskId"]
            before = wait_task(srv, task)
            self.assertEqual(before["taskStatus"], "COMPLETED")
            nfind = len(all_findings(srv, taskId=task))
            self.assertEqual(nfind, 3)  # two policies, logging
            srv.stop()
            ddserver.execute(srv.data_dir, "UPDATE audit_tasks SET status = 'IN_PROGRESS', end_ms = NULL, notified = 0"
                             " WHERE task_id = ?", (task,))
            self.assertEqual(ddserver.query(srv.data_dir, "SELECT count(*) FROM audit_shards WHERE task_id = ?"
                                            " AND status <> 'DONE'", (task,)), [(0,)])
            srv.start()
            after = wait_task(srv, task, timeout=30)
            self.assertEqual(after["taskStatus"], "COMPLETED")
            self.assertEqual(after["auditDetails"], before["auditDetails"])
            self.assertEqual(len(all_findings(srv, taskId=task)), nfind)
            log = srv.read_log_all()
            self.assertEqual(log.count("audit: task %s: every shard was done, but the task was left IN_PROGRESS" % task),
                             1, log[-4000:])
            self.assertEqual(log.count("audit: task %s COMPLETED" % task), 2, log[-4000:])  # once per start
            self.assertEqual(ddserver.query(srv.data_dir, "SELECT notified FROM audit_tasks WHERE task_id = ?", (task,)),
                             [(1,)])
        finally:
            srv.cleanup()


class SuppressionTest(unittest.TestCase):
    def test_suppression_moves_the_finding(self):
        with Server() as srv:
            iot = srv.client("iot")
            role = audit_role(srv)
            enable(srv, role, ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"])
            iot.create_policy(policyName="WideA", policyDocument=PERMISSIVE)
            iot.create_policy(policyName="WideB", policyDocument=PERMISSIVE)
            rid = {"policyVersionIdentifier": {"policyName": "WideA", "policyVersionId": "1"}}
            iot.create_audit_suppression(checkName="IOT_POLICY_UNRESTRICTED_CHECK", resourceIdentifier=rid,
                                         suppressIndefinitely=True, description="known lab policy", clientRequestToken="t1")
            c, _ = code(iot.create_audit_suppression, checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                        resourceIdentifier=rid, suppressIndefinitely=True, clientRequestToken="t2")
            self.assertEqual(c, "ResourceAlreadyExistsException")
            d = iot.describe_audit_suppression(checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK", resourceIdentifier=rid)
            self.assertEqual(d["description"], "known lab policy")
            self.assertTrue(d["suppressIndefinitely"])
            self.assertEqual(len(iot.list_audit_suppressions()["suppressions"]), 1)
            task = iot.start_on_demand_audit_task(targetCheckNames=["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"])["taskId"]
            t = wait_task(srv, task)
            det = t["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
            self.assertEqual((det["totalResourcesCount"], det["nonCompliantResourcesCount"],
                              det["suppressedNonCompliantResourcesCount"]), (2, 1, 1))
            f = {x["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"]["policyName"]: x
                 for x in all_findings(srv, taskId=task)}
            self.assertTrue(f["WideA"]["isSuppressed"])
            self.assertFalse(f["WideB"]["isSuppressed"])
            self.assertEqual([x["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"]["policyName"]
                              for x in all_findings(srv, taskId=task, listSuppressedFindings=True)], ["WideA"])
            d = iot.describe_audit_finding(findingId=f["WideB"]["findingId"])["finding"]
            self.assertEqual(d["reasonForNonComplianceCode"], "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS")
            # expiry: an update to a date in the future, then delete
            iot.update_audit_suppression(checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK", resourceIdentifier=rid,
                                         expirationDate=datetime.datetime.now() + datetime.timedelta(days=2))
            d = iot.describe_audit_suppression(checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK", resourceIdentifier=rid)
            self.assertFalse(d["suppressIndefinitely"])
            self.assertIn("expirationDate", d)
            iot.delete_audit_suppression(checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK", resourceIdentifier=rid)
            c, _ = code(iot.describe_audit_suppression, checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK", resourceIdentifier=rid)
            self.assertEqual(c, "ResourceNotFoundException")


class ScheduledAuditTest(unittest.TestCase):
    def test_schedule_runs_on_moved_clock(self):
        srv = Server(extra_args=["--test-clock"]).start()
        try:
            iot = srv.client("iot")
            role = audit_role(srv)
            enable(srv, role, ["LOGGING_DISABLED_CHECK"])
            # on 2030-01-15 12:00 UTC: create a DAILY and a MONTHLY/LAST audit
            t0 = calendar.timegm((2030, 1, 15, 12, 0, 0)) * 1000
            self.assertEqual(signed(srv, "POST", "/admin/clock", json.dumps({"nowMs": t0}).encode())[0], 200)
            iot.create_scheduled_audit(scheduledAuditName="daily", frequency="DAILY",
                                       targetCheckNames=["LOGGING_DISABLED_CHECK"])
            iot.create_scheduled_audit(scheduledAuditName="month-end", frequency="MONTHLY", dayOfMonth="LAST",
                                       targetCheckNames=["LOGGING_DISABLED_CHECK"])
            self.assertEqual(iot.describe_scheduled_audit(scheduledAuditName="month-end")["dayOfMonth"], "LAST")
            for bad in ({"frequency": "WEEKLY"}, {"frequency": "DAILY", "dayOfMonth": "3"},
                        {"frequency": "MONTHLY"}):
                c, _ = code(iot.create_scheduled_audit, scheduledAuditName="bad", targetCheckNames=["LOGGING_DISABLED_CHECK"], **bad)
                self.assertEqual(c, "InvalidRequestException", bad)
            for i in range(3):
                iot.create_scheduled_audit(scheduledAuditName="extra-%d" % i, frequency="WEEKLY", dayOfWeek="SUN",
                                           targetCheckNames=["LOGGING_DISABLED_CHECK"])
            c, _ = code(iot.create_scheduled_audit, scheduledAuditName="sixth", frequency="DAILY",
                        targetCheckNames=["LOGGING_DISABLED_CHECK"])
            self.assertEqual(c, "LimitExceededException")
            for i in range(3):
                iot.delete_scheduled_audit(scheduledAuditName="extra-%d" % i)

            def sched_tasks():
                lo = datetime.datetime(2029, 1, 1, tzinfo=datetime.timezone.utc)
                hi = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)
                ts = iot.list_audit_tasks(startTime=lo, endTime=hi, taskType="SCHEDULED_AUDIT_TASK")["tasks"]
                return [iot.describe_audit_task(taskId=t["taskId"]) for t in ts]

            def wait_count(n):
                deadline = time.time() + 90
                while time.time() < deadline:
                    ts = sched_tasks()
                    if len(ts) >= n and all(t["taskStatus"] != "IN_PROGRESS" for t in ts):
                        return ts
                    time.sleep(0.2)
                return sched_tasks()

            ts = wait_count(1)  # the daily one runs today
            self.assertEqual([t["scheduledAuditName"] for t in ts], ["daily"])
            # the same day again: nothing new
            signed(srv, "POST", "/admin/clock", json.dumps({"advanceMs": 3600 * 1000}).encode())
            time.sleep(1)
            self.assertEqual(len(sched_tasks()), 1)
            # 2030-01-31 is the last day of the month: both run, once each
            t1 = calendar.timegm((2030, 1, 31, 1, 0, 0)) * 1000
            signed(srv, "POST", "/admin/clock", json.dumps({"nowMs": t1}).encode())
            ts = wait_count(3)
            names = sorted(t["scheduledAuditName"] for t in ts)
            self.assertEqual(names, ["daily", "daily", "month-end"])
            self.assertTrue(all(t["taskType"] == "SCHEDULED_AUDIT_TASK" for t in ts))
            self.assertEqual([t["taskStatus"] for t in ts], ["COMPLETED"] * 3, ts)
            signed(srv, "POST", "/admin/clock", json.dumps({"advanceMs": 60 * 1000}).encode())
            time.sleep(1)
            self.assertEqual(len(sched_tasks()), 3)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
