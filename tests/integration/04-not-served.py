"""A real IoT operation this server does not serve answers 501 NotImplementedException
naming the operation (issue 15 item 7), distinct from ResourceNotFoundException, through
boto3 and the aws CLI v2; a path no IoT operation has still answers 404."""
import unittest

import botocore.exceptions

from auditfleet import signed
from ddserver import Server


def error(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class NotServedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.iot = cls.srv.client("iot")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_boto3_names_the_operation(self):
        for fn, kw, op in ((self.iot.describe_stream, {"streamId": "s1"}, "DescribeStream"),
                           (self.iot.list_fleet_metrics, {}, "ListFleetMetrics"),
                           (self.iot.describe_fleet_metric, {"metricName": "m1"}, "DescribeFleetMetric"),
                           (self.iot.list_streams, {}, "ListStreams"),
                           (self.iot.list_ota_updates, {}, "ListOTAUpdates")):
            status, code, msg = error(fn, **kw)
            self.assertEqual(status, 501, op)
            self.assertEqual(code, "NotImplementedException", op)
            self.assertIn(op, msg)
            self.assertIn("not supported", msg)

    def test_served_operations_unchanged(self):
        status, code, _ = error(self.iot.describe_thing, thingName="nope")
        self.assertEqual((status, code), (404, "ResourceNotFoundException"))
        self.iot.create_thing(thingName="t1")
        self.assertEqual(self.iot.describe_thing(thingName="t1")["thingName"], "t1")

    def test_cli_v2(self):
        p = self.srv.aws("iot", "list-streams", v2=True, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("NotImplementedException", p.stderr)
        self.assertIn("ListStreams", p.stderr)

    def test_unknown_path_is_404(self):
        status, body = signed(self.srv, "GET", "/no-such-resource/x")
        self.assertEqual(status, 404)
        status, body = signed(self.srv, "GET", "/streams/s1/no-such-suffix/x/y")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
