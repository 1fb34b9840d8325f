"""Writes the migration fixture of tests/integration/07-regions.py: a data directory made
by an iotdefender built from before regions existed (schema version 6, commit daadb51),
holding one of each regional resource, some created through eu-west-1 clients (that
server ignored the region, so their ARNs say eu-west-1). Usage:

    IOTDEFENDER_BIN=/path/to/old/iotdefender python3 make_fixture.py

It writes iotdefender.db.gz (the store, vacuumed and gzipped) and fixture.json (the names
and ids the test asserts) next to this file."""
import gzip
import json
import os
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "lib"))

from auditfleet import TRUST, AUDIT_POLICY_ARN, wait_task  # noqa: E402
from ddserver import Server, write_credentials  # noqa: E402
from mitig_fleet import allow, wait_mtask  # noqa: E402

ACCOUNT = "123456789012"
AK, SK = "AKIAREGIONSFIXTURE01", "regions-fixture-secret-key-000000000000"
WIDE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def main():
    assert os.environ.get("IOTDEFENDER_BIN"), "set IOTDEFENDER_BIN to the old binary"
    tmp = tempfile.mkdtemp(prefix="ddfixture-")
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    creds = os.path.join(tmp, "credentials")
    write_credentials(creds, [("old", AK, SK, ACCOUNT)])
    fx = {"account": ACCOUNT, "access_key": AK, "secret_key": SK}
    with Server(data_dir=data, credentials=creds) as srv:
        iam = srv.client("iam")
        us, eu = srv.client("iot", region="us-east-1"), srv.client("iot", region="eu-west-1")
        fx["audit_role"] = iam.create_role(RoleName="AuditRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.attach_role_policy(RoleName="AuditRole", PolicyArn=AUDIT_POLICY_ARN)
        fx["role_name"] = "DeviceRole"
        fx["role_arn"] = iam.create_role(RoleName="DeviceRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        mit = iam.create_role(RoleName="MitigationRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.put_role_policy(RoleName="MitigationRole", PolicyName="p",
                            PolicyDocument=allow("iot:SetV2LoggingOptions", "iam:PassRole"))
        log = iam.create_role(RoleName="LogRole", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]

        fx["thing"], fx["thing_attributes"] = "old-lamp", {"color": "red"}
        t = eu.create_thing(thingName="old-lamp", attributePayload={"attributes": fx["thing_attributes"]})
        fx["thing_tags"] = [{"Key": "team", "Value": "ops"}]
        eu.tag_resource(resourceArn=t["thingArn"], tags=fx["thing_tags"])
        c = eu.create_keys_and_certificate(setAsActive=True)
        fx["cert"] = c["certificateId"]
        eu.attach_thing_principal(thingName="old-lamp", principal=c["certificateArn"])
        fx["policy"] = "old-wide"
        us.create_policy(policyName="old-wide", policyDocument=WIDE)
        eu.attach_policy(policyName="old-wide", target=c["certificateArn"])
        fx["group"] = "old-group"
        us.create_thing_group(thingGroupName="old-group")
        us.add_thing_to_thing_group(thingGroupName="old-group", thingName="old-lamp")
        fx["role_alias"] = "old-alias"
        us.create_role_alias(roleAlias="old-alias", roleArn=fx["role_arn"])
        us.set_v2_logging_options(roleArn=log, defaultLogLevel="DISABLED")

        checks = ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"]
        us.update_account_audit_configuration(roleArn=fx["audit_role"],
                                              auditCheckConfigurations={k: {"enabled": True} for k in checks})
        fx["audit_task"] = us.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
        assert wait_task(srv, fx["audit_task"])["taskStatus"] == "COMPLETED"
        fx["findings"] = len(us.list_audit_findings(taskId=fx["audit_task"])["findings"])
        fx["scheduled_audit"] = "old-nightly"
        us.create_scheduled_audit(scheduledAuditName="old-nightly", frequency="DAILY", targetCheckNames=checks)
        fx["mitigation_action"] = "old-enable-logging"
        us.create_mitigation_action(actionName="old-enable-logging", roleArn=mit, actionParams={
            "enableIoTLoggingParams": {"roleArnForLogging": log, "logLevel": "INFO"}})
        fx["mitigation_task"] = "old-mtask"
        us.start_audit_mitigation_actions_task(
            taskId="old-mtask", target={"auditTaskId": fx["audit_task"]},
            auditCheckToActionsMapping={"LOGGING_DISABLED_CHECK": ["old-enable-logging"]}, clientRequestToken="t")
        assert wait_mtask(srv, "old-mtask")["taskStatus"] == "COMPLETED"
        fx["log_level"] = us.get_v2_logging_options()["defaultLogLevel"]
        assert fx["log_level"] == "INFO"
    db = sqlite3.connect(os.path.join(data, "iotdefender.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 6
    out = os.path.join(tmp, "vacuumed.db")
    db.execute("VACUUM INTO ?", (out,))
    db.close()
    with open(out, "rb") as src, gzip.GzipFile(os.path.join(HERE, "iotdefender.db.gz"), "wb", 9, mtime=0) as dst:
        dst.write(src.read())
    with open(os.path.join(HERE, "fixture.json"), "w") as f:
        json.dump(fx, f, indent=2, sort_keys=True)
        f.write("\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
