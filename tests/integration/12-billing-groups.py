"""Billing groups through boto3 and the aws CLI v2 (issue 15): create (idempotent,
conflict, tags), describe, list with namePrefixFilter and paging, update with
expectedVersion, delete, add/remove things by name or ARN, at most one billing group per
thing, ListThingsInBillingGroup with paging, DescribeThing's billingGroupName."""
import unittest

import botocore.exceptions

from ddserver import Server


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class BillingGroupsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.iot = cls.srv.client("iot")
        cls.account = cls.srv.key()["account_id"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def aws(self, *a, **kw):
        return self.srv.aws(*a, v2=True, **kw)

    def test_cli_examples(self):
        # create-billing-group.rst / describe-billing-group.rst / update-billing-group.rst
        g = self.aws("iot", "create-billing-group", "--billing-group-name", "GroupOne")
        self.assertEqual(g["billingGroupName"], "GroupOne")
        self.assertEqual(g["billingGroupArn"], "arn:aws:iot:us-east-1:%s:billinggroup/GroupOne" % self.account)
        self.assertRegex(g["billingGroupId"], "^[0-9a-f-]{36}$")
        d = self.aws("iot", "describe-billing-group", "--billing-group-name", "GroupOne")
        self.assertEqual(d["billingGroupId"], g["billingGroupId"])
        self.assertEqual(d["version"], 1)
        self.assertEqual(d["billingGroupProperties"], {})
        self.assertIn("creationDate", d["billingGroupMetadata"])
        u = self.aws("iot", "update-billing-group", "--billing-group-name", "GroupOne",
                     "--billing-group-properties", "billingGroupDescription=\"Primary bulb billing group\"")
        self.assertEqual(u, {"version": 2})
        d = self.iot.describe_billing_group(billingGroupName="GroupOne")
        self.assertEqual(d["billingGroupProperties"], {"billingGroupDescription": "Primary bulb billing group"})
        self.assertEqual(d["version"], 2)
        c, _ = code(self.iot.update_billing_group, billingGroupName="GroupOne", expectedVersion=1,
                    billingGroupProperties={"billingGroupDescription": "x"})
        self.assertEqual(c, "VersionConflictException")
        self.assertEqual(self.iot.update_billing_group(billingGroupName="GroupOne", expectedVersion=2,
                                                       billingGroupProperties={})["version"], 3)
        self.assertEqual(self.iot.describe_billing_group(billingGroupName="GroupOne")["billingGroupProperties"],
                         {"billingGroupDescription": "Primary bulb billing group"})
        c, _ = code(self.iot.update_billing_group, billingGroupName="Nope", billingGroupProperties={})
        self.assertEqual(c, "ResourceNotFoundException")
        c, _ = code(self.iot.describe_billing_group, billingGroupName="Nope")
        self.assertEqual(c, "ResourceNotFoundException")
        # idempotent create, conflicting create
        self.assertEqual(self.iot.create_billing_group(billingGroupName="GroupOne", billingGroupProperties={
            "billingGroupDescription": "Primary bulb billing group"})["billingGroupId"], g["billingGroupId"])
        c, _ = code(self.iot.create_billing_group, billingGroupName="GroupOne")
        self.assertEqual(c, "ResourceAlreadyExistsException")

    def test_list_prefix_paging_tags(self):
        for i in range(6):
            self.iot.create_billing_group(billingGroupName="bg-%d" % i, tags=[{"Key": "n", "Value": str(i)}])
        self.iot.create_billing_group(billingGroupName="other")
        names, token = [], None
        while True:
            kw = {"maxResults": 4, "namePrefixFilter": "bg-"}
            if token:
                kw["nextToken"] = token
            r = self.iot.list_billing_groups(**kw)
            self.assertLessEqual(len(r["billingGroups"]), 4)
            names += [g["groupName"] for g in r["billingGroups"]]
            token = r.get("nextToken")
            if not token:
                break
        self.assertEqual(names, ["bg-%d" % i for i in range(6)])
        cli = self.aws("iot", "list-billing-groups", "--name-prefix-filter", "oth")["billingGroups"]
        self.assertEqual(cli, [{"groupName": "other",
                                "groupArn": "arn:aws:iot:us-east-1:%s:billinggroup/other" % self.account}])
        arn = "arn:aws:iot:us-east-1:%s:billinggroup/bg-2" % self.account
        self.assertEqual(self.iot.list_tags_for_resource(resourceArn=arn)["tags"], [{"Key": "n", "Value": "2"}])
        self.iot.delete_billing_group(billingGroupName="bg-2")
        c, _ = code(self.iot.list_tags_for_resource, resourceArn=arn)
        self.assertEqual(c, "ResourceNotFoundException")

    def test_membership(self):
        iot = self.iot
        iot.create_billing_group(billingGroupName="A")
        iot.create_billing_group(billingGroupName="B")
        for i in range(5):
            iot.create_thing(thingName="m%d" % i)
        # the shipped add-thing-to-billing-group example (names) and ARNs
        self.assertIsNone(self.aws("iot", "add-thing-to-billing-group", "--billing-group-name", "A",
                                   "--thing-name", "m0"))
        iot.add_thing_to_billing_group(billingGroupArn="arn:aws:iot:us-east-1:%s:billinggroup/A" % self.account,
                                       thingArn="arn:aws:iot:us-east-1:%s:thing/m1" % self.account)
        for i in (2, 3):
            iot.add_thing_to_billing_group(billingGroupName="A", thingName="m%d" % i)
        iot.add_thing_to_billing_group(billingGroupName="A", thingName="m3")  # again: no-op
        self.assertEqual(iot.describe_thing(thingName="m1")["billingGroupName"], "A")
        self.assertNotIn("billingGroupName", iot.describe_thing(thingName="m4"))
        c, m = code(iot.add_thing_to_billing_group, billingGroupName="B", thingName="m0")
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("only one billing group", m)
        c, _ = code(iot.add_thing_to_billing_group, billingGroupName="Nope", thingName="m4")
        self.assertEqual(c, "ResourceNotFoundException")
        c, _ = code(iot.add_thing_to_billing_group, billingGroupName="A", thingName="nope")
        self.assertEqual(c, "ResourceNotFoundException")
        c, _ = code(iot.add_thing_to_billing_group, billingGroupName="A")
        self.assertEqual(c, "InvalidRequestException")
        c, _ = code(iot.add_thing_to_billing_group, billingGroupArn="arn:aws:iot:us-east-1:%s:thing/A" % self.account,
                    thingName="m4")
        self.assertEqual(c, "InvalidRequestException")
        # list with paging
        r = iot.list_things_in_billing_group(billingGroupName="A", maxResults=3)
        self.assertEqual(r["things"], ["m0", "m1", "m2"])
        r2 = iot.list_things_in_billing_group(billingGroupName="A", maxResults=3, nextToken=r["nextToken"])
        self.assertEqual(r2["things"], ["m3"])
        self.assertNotIn("nextToken", r2)
        cli = self.aws("iot", "list-things-in-billing-group", "--billing-group-name", "A")
        self.assertEqual(cli["things"], ["m0", "m1", "m2", "m3"])
        c, _ = code(iot.list_things_in_billing_group, billingGroupName="Nope")
        self.assertEqual(c, "ResourceNotFoundException")
        # remove (by name, then a thing not in it: no-op), move to B
        self.aws("iot", "remove-thing-from-billing-group", "--billing-group-name", "A", "--thing-name", "m0")
        iot.remove_thing_from_billing_group(billingGroupName="B", thingName="m1")
        self.assertEqual(iot.describe_thing(thingName="m1")["billingGroupName"], "A")
        iot.add_thing_to_billing_group(billingGroupName="B", thingName="m0")
        self.assertEqual(iot.list_things_in_billing_group(billingGroupName="B")["things"], ["m0"])
        # deleting the thing or the group drops the membership
        iot.delete_thing(thingName="m2")
        self.assertEqual(iot.list_things_in_billing_group(billingGroupName="A")["things"], ["m1", "m3"])
        c, _ = code(iot.delete_billing_group, billingGroupName="A", expectedVersion=7)
        self.assertEqual(c, "VersionConflictException")
        self.aws("iot", "delete-billing-group", "--billing-group-name", "A")
        self.assertNotIn("billingGroupName", iot.describe_thing(thingName="m1"))
        iot.delete_billing_group(billingGroupName="A")  # missing: success, as AWS
        iot.create_billing_group(billingGroupName="A")
        self.assertEqual(iot.list_things_in_billing_group(billingGroupName="A")["things"], [])

    def test_isolation(self):
        self.iot.create_billing_group(billingGroupName="Iso")
        other = self.srv.client("iot", region="eu-west-1")
        c, _ = code(other.describe_billing_group, billingGroupName="Iso")
        self.assertEqual(c, "ResourceNotFoundException")
        other.create_thing(thingName="eu-thing")
        c, _ = code(other.add_thing_to_billing_group, billingGroupArn="arn:aws:iot:us-east-1:%s:billinggroup/Iso" % self.account,
                    thingName="eu-thing")
        self.assertEqual(c, "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main()
