"""The IoT registry through the real clients: Debian's aws CLI v2 and boto3, asserting
the returned values (issue 2 acceptance)."""
import json
import unittest

import botocore.exceptions

from ddserver import Server

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": "arn:aws:iot:us-east-1:*:client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": "arn:aws:iot:us-east-1:*:topic/devices/${iot:ClientId}/*"},
    ],
})


class RegistryCliV2Test(unittest.TestCase):
    """The issue's flow with /usr/bin/aws (CLI v2)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def aws(self, *a, **kw):
        return self.srv.aws(*a, v2=True, **kw)

    def test_flow(self):
        t = self.aws("iot", "create-thing", "--thing-name", "sensor-1",
                     "--attribute-payload", '{"attributes":{"room":"lab"}}')
        self.assertEqual(t["thingName"], "sensor-1")
        self.assertTrue(t["thingArn"].endswith(":thing/sensor-1"))
        account = self.srv.key()["account_id"]
        self.assertEqual(t["thingArn"], "arn:aws:iot:us-east-1:%s:thing/sensor-1" % account)

        d = self.aws("iot", "describe-thing", "--thing-name", "sensor-1")
        self.assertEqual(d["attributes"], {"room": "lab"})
        self.assertEqual(d["version"], 1)
        self.assertEqual(d["thingId"], t["thingId"])

        kc = self.aws("iot", "create-keys-and-certificate", "--set-as-active")
        cert_arn, cert_id = kc["certificateArn"], kc["certificateId"]
        self.assertRegex(cert_id, "^[0-9a-f]{64}$")
        self.assertIn("BEGIN CERTIFICATE", kc["certificatePem"])
        self.assertIn("PRIVATE KEY", kc["keyPair"]["PrivateKey"])

        self.aws("iot", "attach-thing-principal", "--thing-name", "sensor-1", "--principal", cert_arn)
        pr = self.aws("iot", "list-thing-principals", "--thing-name", "sensor-1")
        self.assertEqual(pr["principals"], [cert_arn])
        pt = self.aws("iot", "list-principal-things", "--principal", cert_arn)
        self.assertEqual(pt["things"], ["sensor-1"])

        p = self.aws("iot", "create-policy", "--policy-name", "DevicePolicy", "--policy-document", POLICY)
        self.assertEqual(p["policyVersionId"], "1")
        for v in range(2, 6):
            pv = self.aws("iot", "create-policy-version", "--policy-name", "DevicePolicy",
                          "--policy-document", POLICY)
            self.assertEqual(pv["policyVersionId"], str(v))
            self.assertFalse(pv["isDefaultVersion"])
        sixth = self.aws("iot", "create-policy-version", "--policy-name", "DevicePolicy",
                         "--policy-document", POLICY, check=False)
        self.assertNotEqual(sixth.returncode, 0)
        self.assertIn("VersionsLimitExceededException", sixth.stderr)
        versions = self.aws("iot", "list-policy-versions", "--policy-name", "DevicePolicy")["policyVersions"]
        self.assertEqual(len(versions), 5)
        self.assertEqual([v["versionId"] for v in versions if v["isDefaultVersion"]], ["1"])

        self.aws("iot", "attach-policy", "--policy-name", "DevicePolicy", "--target", cert_arn)
        targets = self.aws("iot", "list-targets-for-policy", "--policy-name", "DevicePolicy")
        self.assertEqual(targets["targets"], [cert_arn])
        attached = self.aws("iot", "list-attached-policies", "--target", cert_arn)
        self.assertEqual([x["policyName"] for x in attached["policies"]], ["DevicePolicy"])

        self.aws("iot", "set-v2-logging-options", "--role-arn",
                 "arn:aws:iam::%s:role/IoTLogging" % account, "--default-log-level", "WARN")
        lo = self.aws("iot", "get-v2-logging-options")
        self.assertEqual(lo["defaultLogLevel"], "WARN")
        self.assertEqual(lo["roleArn"], "arn:aws:iam::%s:role/IoTLogging" % account)
        self.assertFalse(lo["disableAllLogs"])

        self.aws("iot", "update-certificate", "--certificate-id", cert_id, "--new-status", "INACTIVE")
        dc = self.aws("iot", "describe-certificate", "--certificate-id", cert_id)
        self.assertEqual(dc["certificateDescription"]["status"], "INACTIVE")

        ra = self.aws("iot", "create-role-alias", "--role-alias", "DeviceRole",
                      "--role-arn", "arn:aws:iam::%s:role/DeviceRole" % account)
        self.assertEqual(ra["roleAliasArn"], "arn:aws:iot:us-east-1:%s:rolealias/DeviceRole" % account)
        dra = self.aws("iot", "describe-role-alias", "--role-alias", "DeviceRole")["roleAliasDescription"]
        self.assertEqual(dra["credentialDurationSeconds"], 3600)
        self.assertEqual(dra["roleArn"], "arn:aws:iam::%s:role/DeviceRole" % account)

    def test_eleven_groups(self):
        self.aws("iot", "create-thing", "--thing-name", "grouped")
        for i in range(11):
            self.aws("iot", "create-thing-group", "--thing-group-name", "g%02d" % i)
        for i in range(10):
            self.aws("iot", "add-thing-to-thing-group", "--thing-group-name", "g%02d" % i, "--thing-name", "grouped")
        r = self.aws("iot", "add-thing-to-thing-group", "--thing-group-name", "g10", "--thing-name", "grouped", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("InvalidRequestException", r.stderr)
        self.assertIn("more than 10", r.stderr)
        groups = self.aws("iot", "list-thing-groups-for-thing", "--thing-name", "grouped")["thingGroups"]
        self.assertEqual(sorted(g["groupName"] for g in groups), ["g%02d" % i for i in range(10)])


class RegistryBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.iot = cls.srv.client("iot")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def err(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response

    def test_things_update_list_delete(self):
        iot = self.iot
        iot.create_thing(thingName="a1", attributePayload={"attributes": {"color": "red", "n": "1"}})
        iot.create_thing(thingName="a2", attributePayload={"attributes": {"color": "blue"}})
        # idempotent create; conflicting create
        self.assertEqual(iot.create_thing(thingName="a2", attributePayload={"attributes": {"color": "blue"}})["thingName"], "a2")
        e = self.err(iot.create_thing, thingName="a2", attributePayload={"attributes": {"color": "green"}})
        self.assertEqual(e["Error"]["Code"], "ResourceAlreadyExistsException")
        iot.update_thing(thingName="a1", attributePayload={"attributes": {"n": "", "size": "L"}, "merge": True})
        d = iot.describe_thing(thingName="a1")
        self.assertEqual(d["attributes"], {"color": "red", "size": "L"})
        self.assertEqual(d["version"], 2)
        e = self.err(iot.update_thing, thingName="a1", expectedVersion=1, attributePayload={"attributes": {}})
        self.assertEqual(e["Error"]["Code"], "VersionConflictException")
        reds = iot.list_things(attributeName="color", attributeValue="red")["things"]
        self.assertEqual([t["thingName"] for t in reds], ["a1"])
        e = self.err(iot.describe_thing, thingName="nope")
        self.assertEqual(e["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 404)
        iot.delete_thing(thingName="a2")
        self.assertEqual(self.err(iot.describe_thing, thingName="a2")["Error"]["Code"], "ResourceNotFoundException")

    def test_validation(self):
        raw = self.srv.client("iot", validate=False)
        e = self.err(raw.create_thing, thingName="bad name!")
        self.assertEqual(e["Error"]["Code"], "InvalidRequestException")
        self.assertIn("thingName", e["Error"]["Message"])
        e = self.err(raw.set_v2_logging_options, defaultLogLevel="LOUD")
        self.assertEqual(e["Error"]["Code"], "InvalidRequestException")
        self.assertIn("defaultLogLevel", e["Error"]["Message"])
        e = self.err(raw.list_things, maxResults=0)
        self.assertEqual(e["Error"]["Code"], "InvalidRequestException")
        e = self.err(self.iot.create_policy, policyName="bad", policyDocument='{"Statement": 5}')
        self.assertEqual(e["Error"]["Code"], "MalformedPolicyException")
        e = self.err(self.iot.list_things, nextToken="not-a-token")
        self.assertEqual(e["Error"]["Code"], "InvalidRequestException")

    def test_pagination(self):
        for i in range(7):
            self.iot.create_thing(thingName="page-%d" % i)
        names, token = [], None
        while True:
            kw = {"maxResults": 3}
            if token:
                kw["nextToken"] = token
            r = self.iot.list_things(**kw)
            names += [t["thingName"] for t in r["things"]]
            token = r.get("nextToken")
            if not token:
                break
        self.assertEqual([n for n in names if n.startswith("page-")], ["page-%d" % i for i in range(7)])
        all_names = [t["thingName"] for p in self.iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 2}) for t in p["things"]]
        self.assertEqual(sorted(set(all_names)), sorted(all_names))

    def test_dynamic_group(self):
        iot = self.iot
        iot.create_thing(thingName="dyn-hot", attributePayload={"attributes": {"temp": "90"}})
        iot.create_thing(thingName="dyn-cold", attributePayload={"attributes": {"temp": "10"}})
        iot.create_dynamic_thing_group(thingGroupName="hot", queryString="attributes.temp>50")
        self.assertEqual(iot.list_things_in_thing_group(thingGroupName="hot")["things"], ["dyn-hot"])
        iot.update_thing(thingName="dyn-cold", attributePayload={"attributes": {"temp": "70"}, "merge": True})
        self.assertEqual(sorted(iot.list_things_in_thing_group(thingGroupName="hot")["things"]), ["dyn-cold", "dyn-hot"])
        e = self.err(iot.add_thing_to_thing_group, thingGroupName="hot", thingName="dyn-cold")
        self.assertEqual(e["Error"]["Code"], "InvalidRequestException")
        e = self.err(iot.create_dynamic_thing_group, thingGroupName="broken", queryString="attributes.temp>")
        self.assertEqual(e["Error"]["Code"], "InvalidQueryException")

    def test_group_hierarchy_and_policy_inheritance(self):
        iot = self.iot
        iot.create_thing_group(thingGroupName="parent")
        iot.create_thing_group(thingGroupName="child", parentGroupName="parent")
        d = iot.describe_thing_group(thingGroupName="child")
        self.assertEqual(d["thingGroupMetadata"]["parentGroupName"], "parent")
        self.assertEqual([g["groupName"] for g in d["thingGroupMetadata"]["rootToParentThingGroups"]], ["parent"])
        iot.create_policy(policyName="GroupPolicy", policyDocument=POLICY)
        iot.attach_policy(policyName="GroupPolicy", target=d["thingGroupArn"].replace("child", "parent"))
        pols = iot.list_attached_policies(target=d["thingGroupArn"], recursive=True)["policies"]
        self.assertEqual([p["policyName"] for p in pols], ["GroupPolicy"])
        self.assertEqual(iot.list_attached_policies(target=d["thingGroupArn"])["policies"], [])
        e = self.err(iot.delete_thing_group, thingGroupName="parent")
        self.assertEqual(e["Error"]["Code"], "InvalidRequestException")

    def test_policy_lifecycle(self):
        iot = self.iot
        iot.create_policy(policyName="Life", policyDocument=POLICY)
        iot.create_policy_version(policyName="Life", policyDocument=POLICY, setAsDefault=True)
        self.assertEqual(iot.get_policy(policyName="Life")["defaultVersionId"], "2")
        e = self.err(iot.delete_policy_version, policyName="Life", policyVersionId="2")
        self.assertEqual(e["Error"]["Code"], "DeleteConflictException")
        e = self.err(iot.delete_policy, policyName="Life")
        self.assertEqual(e["Error"]["Code"], "DeleteConflictException")
        iot.set_default_policy_version(policyName="Life", policyVersionId="1")
        iot.delete_policy_version(policyName="Life", policyVersionId="2")
        iot.delete_policy(policyName="Life")
        self.assertEqual(self.err(iot.get_policy, policyName="Life")["Error"]["Code"], "ResourceNotFoundException")

    def test_logging_and_levels(self):
        iot = self.iot
        e = self.err(iot.get_v2_logging_options)
        self.assertEqual(e["Error"]["Code"], "NotConfiguredException")
        iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP", "targetName": "parent"}, logLevel="DEBUG")
        lv = iot.list_v2_logging_levels()["logTargetConfigurations"]
        self.assertEqual(lv, [{"logTarget": {"targetType": "THING_GROUP", "targetName": "parent"}, "logLevel": "DEBUG"}])
        iot.delete_v2_logging_level(targetType="THING_GROUP", targetName="parent")
        self.assertEqual(iot.list_v2_logging_levels()["logTargetConfigurations"], [])

    def test_tags(self):
        arn = self.iot.create_thing_group(thingGroupName="tagged", tags=[])["thingGroupArn"]
        self.iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a"}])
        self.iot.untag_resource(resourceArn=arn, tagKeys=["team"])
        self.assertEqual(self.iot.list_tags_for_resource(resourceArn=arn)["tags"], [{"Key": "env", "Value": "prod"}])


if __name__ == "__main__":
    unittest.main()
