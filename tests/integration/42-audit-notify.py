"""Audit notification: when a task ends, the seed-001 payload is published to the SNS
topic of the account's audit configuration; a local HTTP subscriber receives it and the
test validates it against seed 001's JSON schema (with the current check names)."""
import json
import unittest

import jsonschema

from auditfleet import audit_role, enable, wait_task, TRUST
import ddserver
from ddserver import Server
from sns_helpers import Subscriber, subscribe_confirmed, verify_signature, env, FAST

CHECKS = ["LOGGING_DISABLED_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "DEVICE_CERTIFICATE_EXPIRING_CHECK"]

# seed 001 "payload JSON schema", with the check-name enum replaced by the API names
SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "accountId": {"type": "string"},
        "taskId": {"type": "string"},
        "taskStatus": {"type": "string", "enum": ["FAILED", "CANCELED", "COMPLETED"]},
        "taskType": {"type": "string", "enum": ["SCHEDULED_AUDIT_TASK", "ON_DEMAND_AUDIT_TASK"]},
        "scheduledAuditName": {"type": "string"},
        "failedChecksCount": {"type": "integer"},
        "canceledChecksCount": {"type": "integer"},
        "nonCompliantChecksCount": {"type": "integer"},
        "compliantChecksCount": {"type": "integer"},
        "totalChecksCount": {"type": "integer"},
        "taskStartTime": {"type": "integer"},
        "auditDetails": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "checkName": {"type": "string", "enum": CHECKS},
                    "checkRunStatus": {"type": "string", "enum": ["FAILED", "CANCELED", "COMPLETED_COMPLIANT",
                                                                  "COMPLETED_NON_COMPLIANT"]},
                    "nonCompliantResourcesCount": {"type": "integer"},
                    "totalResourcesCount": {"type": "integer"},
                    "message": {"type": "string"},
                    "errorCode": {"type": "string", "enum": ["INSUFFICIENT_PERMISSIONS", "AUDIT_CHECK_DISABLED"]},
                },
                "required": ["checkName", "checkRunStatus", "nonCompliantResourcesCount", "totalResourcesCount"],
            },
        },
    },
    "required": ["accountId", "taskId", "taskStatus", "taskType", "failedChecksCount", "canceledChecksCount",
                 "nonCompliantChecksCount", "compliantChecksCount", "totalChecksCount", "taskStartTime",
                 "auditDetails"],
}


class AuditNotificationTest(unittest.TestCase):
    def test_completion_notification(self):
        sub = Subscriber().start()
        try:
            with env(**FAST), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                iot, sns, iam = srv.client("iot"), srv.client("sns"), srv.client("iam")
                topic = sns.create_topic(Name="AuditNotifications")["TopicArn"]
                subscribe_confirmed(sns, topic, sub)
                role = audit_role(srv)
                sns_role = iam.create_role(RoleName="AuditSnsRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
                enable(srv, role, CHECKS)
                iot.update_account_audit_configuration(auditNotificationTargetConfigurations={
                    "SNS": {"targetArn": topic, "roleArn": sns_role, "enabled": True}})
                cfg = iot.describe_account_audit_configuration()
                self.assertEqual(cfg["auditNotificationTargetConfigurations"]["SNS"]["targetArn"], topic)
                iot.create_policy(policyName="Wide", policyDocument=json.dumps({
                    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
                task = iot.start_on_demand_audit_task(targetCheckNames=CHECKS)["taskId"]
                t = wait_task(srv, task)
                _, note = sub.wait(lambda s: s.messages("Notification"))[-1]
                verify_signature(note)
                self.assertEqual(note["TopicArn"], topic)
                payload = json.loads(note["Message"])
                jsonschema.validate(payload, SCHEMA)
                self.assertEqual(payload["accountId"], srv.key()["account_id"])
                self.assertEqual(payload["taskId"], task)
                self.assertEqual(payload["taskStatus"], "COMPLETED")
                self.assertEqual(payload["taskType"], "ON_DEMAND_AUDIT_TASK")
                self.assertEqual(payload["totalChecksCount"], 3)
                self.assertEqual(payload["nonCompliantChecksCount"], 2)
                self.assertEqual(payload["compliantChecksCount"], 1)
                self.assertEqual(payload["taskStartTime"], round(t["taskStartTime"].timestamp() * 1000))
                details = {d["checkName"]: d for d in payload["auditDetails"]}
                self.assertEqual(details["LOGGING_DISABLED_CHECK"]["checkRunStatus"], "COMPLETED_NON_COMPLIANT")
                self.assertEqual(details["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["nonCompliantResourcesCount"], 1)
                self.assertEqual(details["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["checkRunStatus"], "COMPLETED_COMPLIANT")
                # exactly one notification for the task
                self.assertEqual(len(sub.messages("Notification")), 1)
        finally:
            sub.stop()


if __name__ == "__main__":
    unittest.main()
