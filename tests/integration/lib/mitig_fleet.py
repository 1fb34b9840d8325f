"""Helpers for the mitigation tests: short-lived self-signed device and CA certificates
made with openssl (EC P-256, fast), roles trusted by IoT with an inline policy, audits
run to completion, and waiting for audit mitigation actions tasks."""
import json
import os
import shutil
import subprocess
import tempfile
import time

from auditfleet import TRUST, audit_role, enable, wait_task, all_findings


def allow(*actions, resource="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": resource}]})


def role(srv, name, policy=None, i=0, trust=TRUST):
    iam = srv.client("iam", i)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName=name + "Policy", PolicyDocument=policy)
    return arn


class Certs:
    """openssl in a temporary directory; every certificate is EC P-256."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ddmitig-")
        self.n = 0

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def make(self, days, ca=False):
        self.n += 1
        key = os.path.join(self.dir, "k%d.pem" % self.n)
        crt = os.path.join(self.dir, "c%d.pem" % self.n)
        ext = "basicConstraints=critical,CA:TRUE" if ca else "basicConstraints=critical,CA:FALSE"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", str(days), "-subj", "/CN=mitig-%d" % self.n,
                        "-addext", ext], check=True, capture_output=True)
        with open(crt) as f:
            return f.read()


def device_cert(srv, certs, days=5, i=0):
    """Registers a self-signed device certificate valid for `days` (ACTIVE); returns its id."""
    iot = srv.client("iot", i)
    return iot.register_certificate_without_ca(certificatePem=certs.make(days), status="ACTIVE")["certificateId"]


def ca_cert(srv, certs, days=5, i=0):
    iot = srv.client("iot", i)
    return iot.register_ca_certificate(caCertificate=certs.make(days, ca=True), certificateMode="SNI_ONLY",
                                       setAsActive=True)["certificateId"]


def run_audit(srv, checks, i=0, configs=None, role_name="AuditRole"):
    """Enables checks (creating the audit role once) and runs an on-demand audit to its end."""
    iam = srv.client("iam", i)
    try:
        arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = audit_role(srv, role_name, i)
    enable(srv, arn, checks, i, configs)
    task = srv.client("iot", i).start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
    t = wait_task(srv, task, i=i)
    assert t["taskStatus"] == "COMPLETED", t
    return task, all_findings(srv, i, taskId=task, PaginationConfig={"PageSize": 250})


def wait_mtask(srv, task_id, timeout=120, i=0, poll=0.05):
    iot = srv.client("iot", i)
    deadline = time.time() + timeout
    while time.time() < deadline:
        t = iot.describe_audit_mitigation_actions_task(taskId=task_id)
        if t["taskStatus"] != "IN_PROGRESS":
            return t
        time.sleep(poll)
    raise AssertionError("mitigation task %s still in progress" % task_id)


def executions(srv, task_id, finding_id, i=0, **kw):
    iot = srv.client("iot", i)
    out = []
    for page in iot.get_paginator("list_audit_mitigation_actions_executions").paginate(
            taskId=task_id, findingId=finding_id, **kw):
        out += page["actionsExecutions"]
    return out
