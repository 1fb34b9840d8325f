"""Seed 002 end to end: seed002_flow.sh (Steps 1-7 and "Cleaning Up Resources", copied
unchanged from the seed) runs as one bash script against a fresh server, once with aws
CLI v1 and once with Debian's CLI v2. An `aws` wrapper first on PATH selects the CLI
(v2 gets --endpoint-url, which 2.9 needs) and, right after Step 5's
list-audit-mitigation-actions-tasks (before Step 7 sets logging itself), snapshots
get-v2-logging-options so the test can see what the mitigation action did. The test
then checks the script's output and the server's state: LOGGING_DISABLED_CHECK found,
EnableErrorLoggingAction created and applied by a COMPLETED task, logging enabled by
it, and everything cleaned up."""
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from ddserver import AWS_V2, Server

HERE = os.path.dirname(os.path.abspath(__file__))
FLOW = os.path.join(HERE, "lib", "seed002_flow.sh")

WRAPPER = r"""#!/bin/bash
%(cmd)s "$@"
rc=$?
if [ "$1 $2" = "iot list-audit-mitigation-actions-tasks" ]; then
  %(cmd)s iot get-v2-logging-options > "$SEED002_PROBE/logging_after_step5.json" 2>&1
fi
exit $rc
"""


class Seed002Flow(unittest.TestCase):
    def flow(self, v2):
        tmp = tempfile.mkdtemp(prefix="ddseed002-")
        try:
            with Server() as srv:
                if v2:
                    cmd = '%s --endpoint-url "$AWS_ENDPOINT_URL"' % AWS_V2
                else:
                    real = shutil.which("aws", path=os.environ.get("PATH", "").replace("/usr/bin", "/nonexistent"))
                    self.assertTrue(real, "aws CLI v1 not found on PATH")
                    cmd = real
                shim = os.path.join(tmp, "aws")
                with open(shim, "w") as f:
                    f.write(WRAPPER % {"cmd": cmd})
                os.chmod(shim, stat.S_IRWXU)
                env = srv.env()
                env["PATH"] = tmp + os.pathsep + env["PATH"]
                env["SEED002_PROBE"] = tmp
                day_before = time.strftime("%Y-%m-%d")
                p = subprocess.run(["bash", FLOW], env=env, capture_output=True, text=True, timeout=400, cwd=tmp)
                day_after = time.strftime("%Y-%m-%d")
                out, err = p.stdout, p.stderr
                self.assertEqual(p.returncode, 0, out + err)
                self.assertNotIn("An error occurred", err, out + err)
                acct = srv.key()["account_id"]
                # Step 1
                self.assertIn("Mitigation Role ARN: arn:aws:iam::%s:role/IoTMitigationActionErrorLoggingRole\n" % acct, out)
                # Step 3: the audit found LOGGING_DISABLED_CHECK
                self.assertIn("Audit task completed successfully", out)
                m = re.search(r"^Found non-compliant finding with ID: (\S+)$", out, re.M)
                self.assertTrue(m, out)
                finding = m.group(1)
                iot = srv.client("iot")
                f = iot.describe_audit_finding(findingId=finding)["finding"]
                self.assertEqual(f["checkName"], "LOGGING_DISABLED_CHECK")
                self.assertEqual(f["nonCompliantResource"]["resourceType"], "ACCOUNT_SETTINGS")
                # Step 4: the action was created (and describe printed it)
                self.assertIn('"actionName": "EnableErrorLoggingAction"', out)
                self.assertIn('"actionType": "ENABLE_IOT_LOGGING"', out)
                # Step 5: the task ran to COMPLETED within the seed's 10 seconds
                self.assertIn("Mitigation actions task started successfully", out)
                m = re.search(r"^Starting mitigation actions task with ID: (MitigationTask-\d+)$", out, re.M)
                self.assertTrue(m, out)
                mtask = m.group(1)
                listed = out[out.index("Mitigation tasks:"):]
                listed = json.loads(listed[listed.index("{"):listed.index("\n}") + 2])
                # the seed lists from `date -d today` (local midnight): a run that crosses
                # midnight between starting the task and listing it lists nothing, rightly
                seen = [(t["taskId"], t["taskStatus"]) for t in listed["tasks"]]
                if day_before == day_after:
                    self.assertEqual(seen, [(mtask, "COMPLETED")])
                else:
                    self.assertIn(seen, ([], [(mtask, "COMPLETED")]))
                wide = iot.list_audit_mitigation_actions_tasks(startTime=time.time() - 2 * 86400, endTime=time.time() + 60)
                self.assertEqual([(t["taskId"], t["taskStatus"]) for t in wide["tasks"]], [(mtask, "COMPLETED")])
                d = iot.describe_audit_mitigation_actions_task(taskId=mtask)
                self.assertEqual(d["taskStatus"], "COMPLETED")
                self.assertEqual(d["target"], {"findingIds": [finding]})
                self.assertEqual(d["taskStatistics"]["LOGGING_DISABLED_CHECK"]["succeededFindingsCount"], 1)
                ex = iot.list_audit_mitigation_actions_executions(taskId=mtask, findingId=finding)["actionsExecutions"]
                self.assertEqual([(e["actionName"], e["status"]) for e in ex], [("EnableErrorLoggingAction", "COMPLETED")])
                # what the mitigation did, seen before Step 7 set logging itself
                with open(os.path.join(tmp, "logging_after_step5.json")) as fh:
                    probe = json.load(fh)
                self.assertEqual(probe["roleArn"], "arn:aws:iam::%s:role/AWSIoTLoggingRole" % acct)
                self.assertEqual(probe["defaultLogLevel"], "ERROR")
                self.assertFalse(probe.get("disableAllLogs", False))
                # Step 6 and 7
                self.assertIn("SNS topic created with ARN: arn:aws:sns:us-east-1:%s:IoTDDNotifications\n" % acct, out)
                self.assertIn("AWS IoT v2 logging enabled successfully", out)
                # Cleaning Up Resources
                self.assertIn("V2 logging disabled successfully", out)
                self.assertIn("Cleanup completed successfully", out)
                self.assertEqual(iot.get_v2_logging_options()["defaultLogLevel"], "DISABLED")
                self.assertEqual(iot.list_mitigation_actions()["actionIdentifiers"], [])
                self.assertEqual(srv.client("iam").list_roles()["Roles"], [])
                self.assertEqual(srv.client("sns").list_topics()["Topics"], [])
                # a second audit now finds logging disabled again (Cleanup turned it off)
                cfg = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
                self.assertTrue(cfg["LOGGING_DISABLED_CHECK"]["enabled"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_cli_v1(self):
        self.flow(v2=False)

    def test_cli_v2(self):
        self.flow(v2=True)


if __name__ == "__main__":
    unittest.main()
