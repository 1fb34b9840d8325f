"""Durability: stop and restart serve (SIGTERM, then SIGKILL): everything is still there,
and a nextToken taken before the restart still works."""
import unittest

from ddserver import Server


class RestartTest(unittest.TestCase):
    def test_restart_keeps_data_and_tokens(self):
        srv = Server().start()
        try:
            iot = srv.client("iot")
            for i in range(5):
                iot.create_thing(thingName="r-%d" % i, attributePayload={"attributes": {"i": str(i)}})
            iot.create_thing_group(thingGroupName="rg")
            iot.add_thing_to_thing_group(thingGroupName="rg", thingName="r-1")
            iot.create_policy(policyName="rp", policyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}')
            first = iot.list_things(maxResults=2)
            self.assertEqual([t["thingName"] for t in first["things"]], ["r-0", "r-1"])
            token = first["nextToken"]

            srv.stop()  # SIGTERM: clean shutdown
            srv.start()
            iot = srv.client("iot")
            second = iot.list_things(maxResults=2, nextToken=token)
            self.assertEqual([t["thingName"] for t in second["things"]], ["r-2", "r-3"])
            self.assertEqual(iot.describe_thing(thingName="r-4")["attributes"], {"i": "4"})
            self.assertEqual(iot.list_things_in_thing_group(thingGroupName="rg")["things"], ["r-1"])

            iot.create_thing(thingName="r-after-kill")
            srv.kill()  # SIGKILL: committed writes survive
            srv.start()
            iot = srv.client("iot")
            self.assertEqual(iot.describe_thing(thingName="r-after-kill")["thingName"], "r-after-kill")
            self.assertEqual(iot.get_policy(policyName="rp")["defaultVersionId"], "1")
            third = iot.list_things(maxResults=2, nextToken=second["nextToken"])
            self.assertEqual([t["thingName"] for t in third["things"]], ["r-4", "r-after-kill"])
        finally:
            srv.cleanup()

    def test_sigterm_exits_cleanly(self):
        srv = Server().start()
        try:
            srv.client("iot").create_thing(thingName="x")
            srv.proc.terminate()
            self.assertEqual(srv.proc.wait(timeout=15), 0)
            self.assertIn("stopped cleanly", srv.read_log())
        finally:
            srv.proc = None
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
