"""Seed 002 ("Getting started with AWS IoT Device Defender"), the IAM and SNS parts run
verbatim with the aws CLI: Step 1 (the three roles, trust policies, the attached AWS
managed policy, the inline policies, `get-role --query Role.Arn --output text`), Step 6
(list-topics, create-topic, subscribe) and the IAM and SNS commands of "Cleaning Up
Resources". The script text below is copied unchanged from the seed; only the `aws iot`
commands between them are left out (they belong to other test files). Runs with CLI v1
(on PATH, AWS_ENDPOINT_URL) and with Debian's CLI v2 through a wrapper that passes
--endpoint-url (v2.9 predates AWS_ENDPOINT_URL)."""
import os
import re
import stat
import subprocess
import tempfile
import unittest

from ddserver import AWS_V2, Server

STEP1 = r"""# Create IoT Device Defender Audit role
aws iam create-role \
  --role-name AWSIoTDeviceDefenderAuditRole \
  --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Principal": {
          "Service": "iot.amazonaws.com"
        },
        "Action": "sts:AssumeRole"
      }
    ]
  }'

# Attach the AWSIoTDeviceDefenderAudit policy to the role
aws iam attach-role-policy \
  --role-name AWSIoTDeviceDefenderAuditRole \
  --policy-arn arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit

# Store the role ARN for later use
AUDIT_ROLE_ARN=$(aws iam get-role --role-name AWSIoTDeviceDefenderAuditRole --query 'Role.Arn' --output text)
echo "Audit Role ARN: $AUDIT_ROLE_ARN"

# Create IoT Logging role
aws iam create-role \
  --role-name AWSIoTLoggingRole \
  --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Principal": {
          "Service": "iot.amazonaws.com"
        },
        "Action": "sts:AssumeRole"
      }
    ]
  }'

# Create an inline policy for the logging role
aws iam put-role-policy \
  --role-name AWSIoTLoggingRole \
  --policy-name AWSIoTLoggingRolePolicy \
  --policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Action": [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:PutMetricFilter",
          "logs:PutRetentionPolicy",
          "logs:GetLogEvents",
          "logs:DescribeLogStreams"
        ],
        "Resource": [
          "arn:aws:logs:*:*:*"
        ]
      }
    ]
  }'

# Store the logging role ARN for later use
LOGGING_ROLE_ARN=$(aws iam get-role --role-name AWSIoTLoggingRole --query 'Role.Arn' --output text)
echo "Logging Role ARN: $LOGGING_ROLE_ARN"

# Create IoT Mitigation Action role
aws iam create-role \
  --role-name IoTMitigationActionErrorLoggingRole \
  --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Principal": {
          "Service": "iot.amazonaws.com"
        },
        "Action": "sts:AssumeRole"
      }
    ]
  }'

# Create an inline policy for the mitigation action role
aws iam put-role-policy \
  --role-name IoTMitigationActionErrorLoggingRole \
  --policy-name IoTMitigationActionErrorLoggingRolePolicy \
  --policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Action": [
          "iot:UpdateCACertificate",
          "iot:UpdateCertificate",
          "iot:SetV2LoggingOptions",
          "iot:SetLoggingOptions",
          "iot:AddThingToThingGroup",
          "iot:PublishToTopic",
          "iam:PassRole"
        ],
        "Resource": "*"
      }
    ]
  }'

# Store the mitigation role ARN for later use
MITIGATION_ROLE_ARN=$(aws iam get-role --role-name IoTMitigationActionErrorLoggingRole --query 'Role.Arn' --output text)
echo "Mitigation Role ARN: $MITIGATION_ROLE_ARN"
"""

STEP6 = r"""# Check if SNS topic already exists
SNS_TOPICS=$(aws sns list-topics)
if echo "$SNS_TOPICS" | grep -q "IoTDDNotifications"; then
  echo "SNS topic 'IoTDDNotifications' already exists, using existing topic..."
  TOPIC_ARN=$(echo "$SNS_TOPICS" | grep -o '"TopicArn": "[^"]*IoTDDNotifications' | cut -d'"' -f4)
else
  echo "Creating SNS topic for notifications..."
  SNS_RESULT=$(aws sns create-topic --name "IoTDDNotifications")
  TOPIC_ARN=$(echo "$SNS_RESULT" | grep -o '"TopicArn": "[^"]*' | cut -d'"' -f4)
  echo "SNS topic created with ARN: $TOPIC_ARN"
fi

"""

STEP6_EMAIL = r"""# Subscribe an email address to the SNS topic (replace with your email)
aws sns subscribe \
  --topic-arn "$TOPIC_ARN" \
  --protocol email \
  --notification-endpoint "your-email@example.com"

echo "Check your email to confirm the subscription"
"""

CLEANUP = r"""# Delete SNS topic
aws sns delete-topic --topic-arn "$TOPIC_ARN"

# Delete IAM roles and policies
# First, check if policies exist before trying to delete them
ROLE_POLICIES=$(aws iam list-role-policies --role-name "IoTMitigationActionErrorLoggingRole" 2>&1)
if ! echo "$ROLE_POLICIES" | grep -q "NoSuchEntity"; then
  if echo "$ROLE_POLICIES" | grep -q "IoTMitigationActionErrorLoggingRolePolicy"; then
    aws iam delete-role-policy \
      --role-name "IoTMitigationActionErrorLoggingRole" \
      --policy-name "IoTMitigationActionErrorLoggingRolePolicy"
  fi
fi
aws iam delete-role --role-name "IoTMitigationActionErrorLoggingRole"

ROLE_POLICIES=$(aws iam list-role-policies --role-name "AWSIoTLoggingRole" 2>&1)
if ! echo "$ROLE_POLICIES" | grep -q "NoSuchEntity"; then
  if echo "$ROLE_POLICIES" | grep -q "AWSIoTLoggingRolePolicy"; then
    aws iam delete-role-policy \
      --role-name "AWSIoTLoggingRole" \
      --policy-name "AWSIoTLoggingRolePolicy"
  fi
fi
aws iam delete-role --role-name "AWSIoTLoggingRole"

aws iam detach-role-policy \
  --role-name "AWSIoTDeviceDefenderAuditRole" \
  --policy-arn "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit"
aws iam delete-role --role-name "AWSIoTDeviceDefenderAuditRole"

echo "Cleanup completed successfully"
"""

ROLES = ["AWSIoTDeviceDefenderAuditRole", "AWSIoTLoggingRole", "IoTMitigationActionErrorLoggingRole"]


class Seed002IamSns(unittest.TestCase):
    def run_script(self, srv, script, v2=False, env_extra=None):
        env = srv.env()
        if v2:
            d = tempfile.mkdtemp(prefix="ddawsv2-")
            shim = os.path.join(d, "aws")
            with open(shim, "w") as f:
                f.write('#!/bin/sh\nexec %s --endpoint-url "$AWS_ENDPOINT_URL" "$@"\n' % AWS_V2)
            os.chmod(shim, stat.S_IRWXU)
            env["PATH"] = d + os.pathsep + env["PATH"]
        if env_extra:
            env.update(env_extra)
        p = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300)
        return p

    def flow(self, v2):
        with Server() as srv:
            iam = srv.client("iam")
            sns = srv.client("sns")
            p = self.run_script(srv, STEP1 + "\n" + STEP6 + "\n" + STEP6_EMAIL + "\necho \"TOPIC=$TOPIC_ARN\"\n", v2=v2)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = p.stdout
            m = re.search(r"^Audit Role ARN: (arn:aws:iam::(\d{12}):role/AWSIoTDeviceDefenderAuditRole)$", out, re.M)
            self.assertTrue(m, out + p.stderr)
            acct = m.group(2)
            self.assertIn("Logging Role ARN: arn:aws:iam::%s:role/AWSIoTLoggingRole\n" % acct, out)
            self.assertIn("Mitigation Role ARN: arn:aws:iam::%s:role/IoTMitigationActionErrorLoggingRole\n" % acct, out)
            topic = "arn:aws:sns:us-east-1:%s:IoTDDNotifications" % acct
            self.assertIn("Creating SNS topic for notifications...", out)
            self.assertIn("SNS topic created with ARN: %s\n" % topic, out)
            self.assertIn("TOPIC=%s\n" % topic, out)
            self.assertIn("Check your email to confirm the subscription", out)
            self.assertNotIn("An error occurred", p.stderr)
            # the state the script built
            for r in ROLES:
                role = iam.get_role(RoleName=r)["Role"]
                self.assertEqual(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
                                 {"Service": "iot.amazonaws.com"})
            self.assertEqual([a["PolicyArn"] for a in iam.list_attached_role_policies(
                RoleName="AWSIoTDeviceDefenderAuditRole")["AttachedPolicies"]],
                ["arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit"])
            doc = iam.get_role_policy(RoleName="AWSIoTLoggingRole", PolicyName="AWSIoTLoggingRolePolicy")["PolicyDocument"]
            self.assertIn("logs:PutLogEvents", doc["Statement"][0]["Action"])
            doc = iam.get_role_policy(RoleName="IoTMitigationActionErrorLoggingRole",
                                      PolicyName="IoTMitigationActionErrorLoggingRolePolicy")["PolicyDocument"]
            self.assertIn("iam:PassRole", doc["Statement"][0]["Action"])
            subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            self.assertEqual([(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in subs],
                             [("email", "your-email@example.com", "PendingConfirmation")])

            # Step 6 again: the topic is found by list-topics and reused
            p = self.run_script(srv, STEP6 + "\necho \"TOPIC=$TOPIC_ARN\"\n", v2=v2)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("SNS topic 'IoTDDNotifications' already exists, using existing topic...", p.stdout)
            self.assertIn("TOPIC=%s\n" % topic, p.stdout)

            # Cleaning Up Resources (IAM and SNS commands)
            p = self.run_script(srv, "TOPIC_ARN=%s\n" % topic + CLEANUP, v2=v2)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("Cleanup completed successfully", p.stdout)
            self.assertNotIn("An error occurred", p.stderr)
            self.assertEqual(sns.list_topics()["Topics"], [])
            self.assertEqual(iam.list_roles()["Roles"], [])

            # running the cleanup a second time reports NoSuchEntity from the CLI, as on AWS
            p = self.run_script(srv, "TOPIC_ARN=%s\n" % topic + CLEANUP, v2=v2)
            self.assertIn("NoSuchEntity", p.stderr)

    def test_cli_v1(self):
        self.flow(v2=False)

    def test_cli_v2(self):
        self.flow(v2=True)


if __name__ == "__main__":
    unittest.main()
