"""Set-up shared by the caller-authorization tests (33-caller-authorization through the
APIs, 82-console-iam through the console): a server whose credentials file holds the
roots of two accounts (alice in ACCT, bob in OTHER), seed 001's three Device Defender
permission policies (account id and role names filled in), and IAM users created with
inline policies and an access key."""
import json
import os
import tempfile

from ddserver import Server, write_credentials

ACCT = "111111111111"
OTHER = "222222222222"
REGION = "us-east-1"

# (profile, access key id, secret, account) of the credentials file
ALICE = ("alice", "AKIAALICE00000000001", "alice/secret+key/0000000000000000000000", ACCT)
BOB = ("bob", "AKIABOB0000000000002", "bob-secret-key-000000000000000000000000", OTHER)

# seed 001, "Give IAM users or groups permission to run AWS IoT Device Defender audit commands"
UPDATE_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "iot:UpdateAccountAuditConfiguration"
      ],
      "Resource": [
        "*"
      ]
    },
    {
      "Effect": "Allow",
      "Action": [
        "iam:PassRole"
      ],
      "Resource": [
        "arn:aws:iam::111111111111:role/AuditRole",
        "arn:aws:iam::111111111111:role/AuditNotifyRole"
      ]
    }
  ]
}"""
# the same without the iam:PassRole statement
UPDATE_POLICY_NO_PASSROLE = json.dumps({"Version": "2012-10-17", "Statement": [
    json.loads(UPDATE_POLICY)["Statement"][0]]})
RUN_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "iot:DescribeAccountAuditConfiguration",
        "iot:DeleteAccountAuditConfiguration",
        "iot:StartOnDemandAuditTask",
        "iot:CancelAuditTask",
        "iot:DescribeAuditTask",
        "iot:ListAuditTasks",
        "iot:ListScheduledAudits",
        "iot:ListAuditFindings"
      ],
      "Resource": [
        "*"
      ]
    }
  ]
}"""
SCHEDULED_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "iot:CreateScheduledAudit",
        "iot:UpdateScheduledAudit",
        "iot:DeleteScheduledAudit",
        "iot:DescribeScheduledAudit"
      ],
      "Resource": [
          "arn:aws:iot:us-east-1:111111111111:scheduledaudit/weekly-ops"
      ]
    }
  ]
}"""


def start_server(prefix):
    """Starts a server on a new credentials file with ALICE and BOB, in a new temporary
    directory named with prefix; returns (that directory, the started Server)."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    path = os.path.join(tmp, "credentials")
    write_credentials(path, [ALICE, BOB])
    return tmp, Server(credentials=path).start()


def create_user(iam, name, *policies):
    """Creates IAM user name through the client iam, with the given inline policies (named
    p0, p1, ...) and one access key; returns the key (AccessKeyId, SecretAccessKey)."""
    iam.create_user(UserName=name)
    for i, p in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName="p%d" % i, PolicyDocument=p)
    return iam.create_access_key(UserName=name)["AccessKey"]
