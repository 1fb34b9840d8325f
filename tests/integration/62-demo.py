"""`iotdefender demo` on a fresh directory prints the lab's findings grouped by check,
mitigates the shared certificate, and leaves a data directory `serve` can open."""
import os
import shutil
import subprocess
import tempfile
import unittest

from ddserver import BIN, Server, store_env


class DemoTest(unittest.TestCase):
    def test_demo(self):
        base = tempfile.mkdtemp(prefix="dddemo-")
        d = os.path.join(base, "lab")
        try:
            p = subprocess.run([BIN, "demo", "--data-dir", d], capture_output=True, text=True, timeout=300,
                               env=store_env(d))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            out = p.stdout
            noncompliant = out.split("== Non-compliant checks")[1].split("== Other checks")[0]
            for check in ("DEVICE_CERTIFICATE_SHARED_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                          "LOGGING_DISABLED_CHECK", "DEVICE_CERTIFICATE_EXPIRING_CHECK",
                          "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "CONFLICTING_CLIENT_IDS_CHECK",
                          "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"):
                self.assertIn(check, noncompliant)
            self.assertIn("policyVersionIdentifier LabDevicePolicy (version 1)", noncompliant)
            self.assertIn("COMPLETED: 7 noncompliant, 10 compliant, 0 failed", out)
            if "not available in this build" not in out:
                self.assertIn("is now INACTIVE", out)
            # a second run replaces the previous demo directory
            p2 = subprocess.run([BIN, "demo", "--data-dir", d], capture_output=True, text=True, timeout=300,
                                env=store_env(d))
            self.assertEqual(p2.returncode, 0, p2.stderr)
            # serve opens the lab: the audit and its findings are there
            with Server(data_dir=d) as srv:
                iot = srv.client("iot")
                import datetime
                now = datetime.datetime.now(datetime.timezone.utc)
                tasks = iot.list_audit_tasks(startTime=now - datetime.timedelta(hours=1), endTime=now + datetime.timedelta(hours=1))["tasks"]
                self.assertEqual(len(tasks), 1)
                f = iot.list_audit_findings(taskId=tasks[0]["taskId"], checkName="LOGGING_DISABLED_CHECK")["findings"]
                self.assertEqual(len(f), 1)
            # a directory the demo did not make is refused
            other = os.path.join(base, "other")
            os.mkdir(other)
            p3 = subprocess.run([BIN, "demo", "--data-dir", other], capture_output=True, text=True, timeout=60,
                                env=store_env(other))
            self.assertNotEqual(p3.returncode, 0)
            self.assertIn("was not made by the demo", p3.stderr)
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
