"""docs/CONTROL_PLANE.md is generated from the botocore IoT model and the server's embedded
operations (scripts/gen_op_status.py): this fails when it is stale, and checks the doc
against the running server: a 'served' operation is routed to a handler, a 'not served'
one answers 501 NotImplementedException naming it."""
import os
import re
import subprocess
import sys
import unittest

import botocore.exceptions

from ddserver import Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OpStatusDocTest(unittest.TestCase):
    def test_doc_is_current(self):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_op_status.py"), "--check"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_doc_matches_server(self):
        rows = {}
        for line in open(os.path.join(ROOT, "docs", "CONTROL_PLANE.md")):
            m = re.match(r"\| (\w+)(?: \(deprecated by AWS\))? \| `\w+ [^`]+` \| ([a-z ]+) \|$", line)
            if m:
                rows[m.group(1)] = m.group(2)
        self.assertGreater(len(rows), 200)
        self.assertEqual(rows["CreateThingType"], "served")
        self.assertEqual(rows["CreateJob"], "stored only")
        self.assertEqual(rows["CreateStream"], "not served")
        srv = Server().start()
        try:
            iot = srv.client("iot")
            # parameterless reads: served ones answer, not served ones answer 501 naming themselves
            for op, fn in (("ListThingTypes", iot.list_thing_types), ("ListBillingGroups", iot.list_billing_groups),
                           ("ListJobs", iot.list_jobs), ("ListJobTemplates", iot.list_job_templates),
                           ("GetIndexingConfiguration", iot.get_indexing_configuration),
                           ("ListFleetMetrics", iot.list_fleet_metrics)):
                try:
                    fn()
                    got = "served"
                except botocore.exceptions.ClientError as e:
                    self.assertEqual(e.response["Error"]["Code"], "NotImplementedException", op)
                    self.assertIn(op, e.response["Error"]["Message"])
                    got = "not served"
                self.assertEqual(got, "served" if rows[op] != "not served" else "not served", op)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
