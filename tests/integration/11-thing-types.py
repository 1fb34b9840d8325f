"""Thing types through boto3 and the aws CLI v2 (issue 15): create (idempotent, conflict),
describe with sorted searchable attributes as in the CLI's shipped example, list filter and
paging, update, deprecate / undeprecate, things' thingTypeName (create, update, remove,
ListThings filter), and AWS's rules: a deprecated type takes no new things, a type with
things cannot be deleted, deletion only 5 minutes after deprecation on the service clock."""
import json
import time
import unittest

import botocore.exceptions

from auditfleet import signed
from ddserver import Server


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class ThingTypesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=["--test-clock"]).start()
        cls.iot = cls.srv.client("iot")
        cls.account = cls.srv.key()["account_id"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def aws(self, *a, **kw):
        return self.srv.aws(*a, v2=True, **kw)

    def set_clock(self, ms):
        self.assertEqual(signed(self.srv, "POST", "/admin/clock", json.dumps({"nowMs": ms}).encode())[0], 200)

    def test_cli_example_flow(self):
        # the shipped create-thing-type / describe-thing-type examples
        t = self.aws("iot", "create-thing-type", "--thing-type-name", "LightBulb",
                     "--thing-type-properties", "thingTypeDescription=light bulb type, searchableAttributes=wattage,model")
        self.assertEqual(t["thingTypeName"], "LightBulb")
        self.assertEqual(t["thingTypeArn"], "arn:aws:iot:us-east-1:%s:thingtype/LightBulb" % self.account)
        self.assertRegex(t["thingTypeId"], "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        d = self.aws("iot", "describe-thing-type", "--thing-type-name", "LightBulb")
        self.assertEqual(d["thingTypeId"], t["thingTypeId"])
        self.assertEqual(d["thingTypeProperties"], {"thingTypeDescription": "light bulb type",
                                                    "searchableAttributes": ["model", "wattage"]})
        self.assertFalse(d["thingTypeMetadata"]["deprecated"])
        self.assertNotIn("deprecationDate", d["thingTypeMetadata"])
        created = self.iot.describe_thing_type(thingTypeName="LightBulb")["thingTypeMetadata"]["creationDate"]
        self.assertLess(abs(created.timestamp() - time.time()), 600)
        # same properties: the same type; other properties: ResourceAlreadyExistsException
        again = self.iot.create_thing_type(thingTypeName="LightBulb", thingTypeProperties={
            "thingTypeDescription": "light bulb type", "searchableAttributes": ["model", "wattage"]})
        self.assertEqual(again["thingTypeId"], t["thingTypeId"])
        c, _ = code(self.iot.create_thing_type, thingTypeName="LightBulb",
                    thingTypeProperties={"thingTypeDescription": "other"})
        self.assertEqual(c, "ResourceAlreadyExistsException")
        p = self.aws("iot", "create-thing-type", "--thing-type-name", "Bad", "--thing-type-properties",
                     "searchableAttributes=a,b,c,d", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidRequestException", p.stderr)
        self.assertIn("searchableAttributes", p.stderr)
        c, _ = code(self.iot.describe_thing_type, thingTypeName="Nope")
        self.assertEqual(c, "ResourceNotFoundException")
        # deprecate (the shipped example prints nothing), undo
        self.assertIsNone(self.aws("iot", "deprecate-thing-type", "--thing-type-name", "LightBulb"))
        d = self.aws("iot", "describe-thing-type", "--thing-type-name", "LightBulb")
        self.assertTrue(d["thingTypeMetadata"]["deprecated"])
        self.assertIn("deprecationDate", d["thingTypeMetadata"])
        self.aws("iot", "deprecate-thing-type", "--thing-type-name", "LightBulb", "--undo-deprecate")
        d = self.aws("iot", "describe-thing-type", "--thing-type-name", "LightBulb")
        self.assertFalse(d["thingTypeMetadata"]["deprecated"])
        self.assertNotIn("deprecationDate", d["thingTypeMetadata"])
        p = self.aws("iot", "deprecate-thing-type", "--thing-type-name", "Nope", check=False)
        self.assertIn("ResourceNotFoundException", p.stderr)

    def test_list_filter_paging(self):
        for i in range(7):
            self.iot.create_thing_type(thingTypeName="page-%02d" % i, tags=[{"Key": "k", "Value": str(i)}])
        names, token, pages = [], None, 0
        while True:
            kw = {"maxResults": 3}
            if token:
                kw["nextToken"] = token
            r = self.iot.list_thing_types(**kw)
            self.assertLessEqual(len(r["thingTypes"]), 3)
            names += [t["thingTypeName"] for t in r["thingTypes"]]
            pages += 1
            token = r.get("nextToken")
            if not token:
                break
        self.assertEqual([n for n in names if n.startswith("page-")], ["page-%02d" % i for i in range(7)])
        self.assertEqual(names, sorted(names))
        one = self.iot.list_thing_types(thingTypeName="page-03")["thingTypes"]
        self.assertEqual([t["thingTypeName"] for t in one], ["page-03"])
        self.assertTrue(one[0]["thingTypeArn"].endswith(":thingtype/page-03"))
        self.assertIn("creationDate", one[0]["thingTypeMetadata"])
        cli = self.aws("iot", "list-thing-types", "--thing-type-name", "page-05")
        self.assertEqual([t["thingTypeName"] for t in cli["thingTypes"]], ["page-05"])
        self.assertEqual(self.iot.list_tags_for_resource(resourceArn=one[0]["thingTypeArn"])["tags"],
                         [{"Key": "k", "Value": "3"}])
        c, _ = code(self.iot.list_thing_types, maxResults=251)
        self.assertIn(c, ("InvalidRequestException", "ParamValidationError"))

    def test_update(self):
        self.iot.create_thing_type(thingTypeName="Upd", thingTypeProperties={"thingTypeDescription": "d1",
                                                                            "searchableAttributes": ["a"]})
        mq = {"propagatingAttributes": [{"userPropertyKey": "k1", "thingAttribute": "serial"},
                                        {"userPropertyKey": "k2", "connectionAttribute": "iot:ClientId"}]}
        self.iot.update_thing_type(thingTypeName="Upd", thingTypeProperties={"mqtt5Configuration": mq,
                                                                            "searchableAttributes": ["z", "b"]})
        p = self.iot.describe_thing_type(thingTypeName="Upd")["thingTypeProperties"]
        self.assertEqual(p, {"thingTypeDescription": "d1", "searchableAttributes": ["b", "z"],
                             "mqtt5Configuration": mq})
        c, _ = code(self.iot.update_thing_type, thingTypeName="Nope", thingTypeProperties={})
        self.assertEqual(c, "ResourceNotFoundException")
        c, _ = code(self.iot.update_thing_type, thingTypeName="Upd",
                    thingTypeProperties={"searchableAttributes": ["1", "2", "3", "4"]})
        self.assertEqual(c, "InvalidRequestException")

    def test_things_and_lifecycle(self):
        iot = self.iot
        iot.create_thing_type(thingTypeName="Sensor")
        iot.create_thing_type(thingTypeName="Gateway")
        c, _ = code(iot.create_thing, thingName="t-none", thingTypeName="NoSuchType")
        self.assertEqual(c, "ResourceNotFoundException")
        self.aws("iot", "create-thing", "--thing-name", "s1", "--thing-type-name", "Sensor")
        iot.create_thing(thingName="s2", thingTypeName="Sensor")
        iot.create_thing(thingName="g1", thingTypeName="Gateway")
        iot.create_thing(thingName="plain")
        self.assertEqual(iot.describe_thing(thingName="s1")["thingTypeName"], "Sensor")
        listed = self.aws("iot", "list-things", "--thing-type-name", "Sensor")["things"]
        self.assertEqual([t["thingName"] for t in listed], ["s1", "s2"])
        self.assertEqual({t["thingTypeName"] for t in listed}, {"Sensor"})
        # change and remove the type
        iot.update_thing(thingName="s2", thingTypeName="Gateway")
        self.assertEqual([t["thingName"] for t in iot.list_things(thingTypeName="Gateway")["things"]], ["g1", "s2"])
        self.aws("iot", "update-thing", "--thing-name", "s2", "--remove-thing-type")
        self.assertNotIn("thingTypeName", iot.describe_thing(thingName="s2"))
        c, _ = code(iot.update_thing, thingName="s2", thingTypeName="NoSuchType")
        self.assertEqual(c, "ResourceNotFoundException")
        # deprecated: no new things, existing ones keep it
        iot.deprecate_thing_type(thingTypeName="Sensor")
        c, m = code(iot.create_thing, thingName="s3", thingTypeName="Sensor")
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("deprecated", m)
        c, _ = code(iot.update_thing, thingName="plain", thingTypeName="Sensor")
        self.assertEqual(c, "InvalidRequestException")
        self.assertNotIn("thingTypeName", iot.describe_thing(thingName="plain"))
        iot.update_thing(thingName="s1", attributePayload={"attributes": {"x": "1"}})  # keeps its type
        self.assertEqual(iot.describe_thing(thingName="s1")["thingTypeName"], "Sensor")
        # deletion: not deprecated → refused; deprecated < 5 min → refused; with things → refused
        c, _ = code(iot.delete_thing_type, thingTypeName="Gateway")
        self.assertEqual(c, "InvalidRequestException")
        c, m = code(iot.delete_thing_type, thingTypeName="Sensor")
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("5 minutes", m)
        self.set_clock(int(time.time() * 1000) + 301 * 1000)
        try:
            c, m = code(iot.delete_thing_type, thingTypeName="Sensor")
            self.assertEqual(c, "InvalidRequestException")
            self.assertIn("1 thing(s)", m)
            iot.update_thing(thingName="s1", removeThingType=True)
            self.assertIsNone(self.aws("iot", "delete-thing-type", "--thing-type-name", "Sensor"))
            c, _ = code(iot.describe_thing_type, thingTypeName="Sensor")
            self.assertEqual(c, "ResourceNotFoundException")
            c, _ = code(iot.delete_thing_type, thingTypeName="Sensor")
            self.assertEqual(c, "ResourceNotFoundException")
            # undeprecated again: the delay restarts from the next deprecation
            iot.deprecate_thing_type(thingTypeName="Gateway")
            iot.deprecate_thing_type(thingTypeName="Gateway", undoDeprecate=True)
            iot.create_thing(thingName="g2", thingTypeName="Gateway")
            iot.deprecate_thing_type(thingTypeName="Gateway")
            c, m = code(iot.delete_thing_type, thingTypeName="Gateway")
            self.assertIn("5 minutes", m)
        finally:
            self.set_clock(int(time.time() * 1000))

    def test_region_and_account_isolation(self):
        self.iot.create_thing_type(thingTypeName="Iso")
        other = self.srv.client("iot", region="eu-west-1")
        c, _ = code(other.describe_thing_type, thingTypeName="Iso")
        self.assertEqual(c, "ResourceNotFoundException")
        c, _ = code(other.create_thing, thingName="x", thingTypeName="Iso")
        self.assertEqual(c, "ResourceNotFoundException")
        self.assertEqual([t["thingTypeName"] for t in other.list_thing_types()["thingTypes"]], [])


if __name__ == "__main__":
    unittest.main()
