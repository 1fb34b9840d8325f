"""Helpers for audit tests: an audit role trusted by IoT with the AWS managed audit
policy, enabling checks, waiting for tasks, and signed calls to our extension routes."""
import json
import time
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
AUDIT_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit"


def audit_role(srv, name="AuditRole", i=0):
    iam = srv.client("iam", i)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=AUDIT_POLICY_ARN)
    return arn


def enable(srv, role_arn, checks, i=0, configs=None):
    iot = srv.client("iot", i)
    cfg = {c: {"enabled": True} for c in checks}
    for k, v in (configs or {}).items():
        cfg[k]["configuration"] = v
    iot.update_account_audit_configuration(roleArn=role_arn, auditCheckConfigurations=cfg)


def wait_task(srv, task_id, timeout=120, i=0):
    iot = srv.client("iot", i)
    deadline = time.time() + timeout
    while time.time() < deadline:
        t = iot.describe_audit_task(taskId=task_id)
        if t["taskStatus"] != "IN_PROGRESS":
            return t
        time.sleep(0.1)
    raise AssertionError("task %s still in progress" % task_id)


def all_findings(srv, i=0, **kw):
    iot = srv.client("iot", i)
    out = []
    for page in iot.get_paginator("list_audit_findings").paginate(**kw):
        out += page["findings"]
    return out


def signed(srv, method, path, body=b"", i=0, service="iot"):
    """A SigV4-signed request to one of our extension routes; returns (status, json)."""
    k = srv.key(i)
    url = srv.url + path
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(k["aws_access_key_id"], k["aws_secret_access_key"]),
                            service, "us-east-1").add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=body, headers=dict(p.headers), method=method)
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def post_events(srv, events, i=0):
    body = "\n".join(json.dumps(e) for e in events).encode()
    return signed(srv, "POST", "/connection-events", body, i)
