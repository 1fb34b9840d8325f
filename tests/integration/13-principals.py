"""Principals through boto3 and the aws CLI v2 (issue 15): ListThingPrincipalsV2 and
ListPrincipalThingsV2 with thingPrincipalType (values, filter, paging), and the deprecated
AttachPrincipalPolicy / DetachPrincipalPolicy / ListPrincipalPolicies /
ListPolicyPrincipals (x-amzn-iot-principal / x-amzn-iot-policy headers), which share
AttachPolicy's attachments."""
import json
import unittest

import botocore.exceptions

from ddserver import Server

POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class PrincipalsTest(unittest.TestCase):
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

    def cert(self):
        return self.iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]

    def test_v2_listings(self):
        iot = self.iot
        for n in ("dev-a", "dev-b", "dev-c"):
            iot.create_thing(thingName=n)
        c1, c2, c3 = self.cert(), self.cert(), self.cert()
        iot.attach_thing_principal(thingName="dev-a", principal=c1, thingPrincipalType="EXCLUSIVE_THING")
        iot.attach_thing_principal(thingName="dev-a", principal=c2)
        iot.attach_thing_principal(thingName="dev-a", principal=c3, thingPrincipalType="NON_EXCLUSIVE_THING")
        iot.attach_thing_principal(thingName="dev-b", principal=c2)
        iot.attach_thing_principal(thingName="dev-c", principal=c2)
        objs = iot.list_thing_principals_v2(thingName="dev-a")["thingPrincipalObjects"]
        self.assertEqual(sorted((o["principal"], o["thingPrincipalType"]) for o in objs),
                         sorted([(c1, "EXCLUSIVE_THING"), (c2, "NON_EXCLUSIVE_THING"), (c3, "NON_EXCLUSIVE_THING")]))
        # (Debian's aws CLI v2 predates the V2 listings: boto3 for them, the CLI for the v1 view)
        excl = iot.list_thing_principals_v2(thingName="dev-a",
                                            thingPrincipalType="EXCLUSIVE_THING")["thingPrincipalObjects"]
        self.assertEqual(excl, [{"principal": c1, "thingPrincipalType": "EXCLUSIVE_THING"}])
        p1 = iot.list_thing_principals_v2(thingName="dev-a", maxResults=2)
        self.assertEqual(len(p1["thingPrincipalObjects"]), 2)
        p2 = iot.list_thing_principals_v2(thingName="dev-a", maxResults=2, nextToken=p1["nextToken"])
        self.assertEqual(len(p2["thingPrincipalObjects"]), 1)
        self.assertNotIn("nextToken", p2)
        self.assertEqual(sorted(o["principal"] for o in p1["thingPrincipalObjects"] + p2["thingPrincipalObjects"]),
                         sorted([c1, c2, c3]))
        c, _ = code(iot.list_thing_principals_v2, thingName="nope")
        self.assertEqual(c, "ResourceNotFoundException")

        self.assertEqual(sorted(self.aws("iot", "list-thing-principals", "--thing-name", "dev-a")["principals"]),
                         sorted([c1, c2, c3]))
        things = iot.list_principal_things_v2(principal=c2)["principalThingObjects"]
        self.assertEqual(things, [{"thingName": n, "thingPrincipalType": "NON_EXCLUSIVE_THING"}
                                  for n in ("dev-a", "dev-b", "dev-c")])
        r = iot.list_principal_things_v2(principal=c2, maxResults=2)
        self.assertEqual([o["thingName"] for o in r["principalThingObjects"]], ["dev-a", "dev-b"])
        r = iot.list_principal_things_v2(principal=c2, maxResults=2, nextToken=r["nextToken"])
        self.assertEqual([o["thingName"] for o in r["principalThingObjects"]], ["dev-c"])
        self.assertEqual(iot.list_principal_things_v2(principal=c1, thingPrincipalType="NON_EXCLUSIVE_THING")
                         ["principalThingObjects"], [])
        missing = "arn:aws:iot:us-east-1:%s:cert/%s" % (self.account, "0" * 64)
        c, _ = code(iot.list_principal_things_v2, principal=missing)
        self.assertEqual(c, "ResourceNotFoundException")
        raw = self.srv.client("iot", validate=False)
        c, m = code(raw.list_thing_principals_v2, thingName="dev-a", maxResults=251)
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("maxResults", m)

    def test_deprecated_policy_calls(self):
        iot = self.iot
        for i in range(4):
            iot.create_policy(policyName="pp-%d" % i, policyDocument=POLICY)
        cert = self.cert()
        other = self.cert()
        iot.create_thing_group(thingGroupName="tg")
        tg_arn = "arn:aws:iot:us-east-1:%s:thinggroup/tg" % self.account
        self.assertIsNone(self.aws("iot", "attach-principal-policy", "--policy-name", "pp-0", "--principal", cert))
        for i in (1, 2):
            iot.attach_principal_policy(policyName="pp-%d" % i, principal=cert)
        iot.attach_policy(policyName="pp-3", target=cert)  # the newer name, same attachments
        iot.attach_principal_policy(policyName="pp-0", principal=other)
        iot.attach_policy(policyName="pp-0", target=tg_arn)
        names = lambda r: [p["policyName"] for p in r["policies"]]
        r = iot.list_principal_policies(principal=cert)
        self.assertEqual(names(r), ["pp-0", "pp-1", "pp-2", "pp-3"])
        self.assertEqual(r["policies"][0]["policyArn"], "arn:aws:iot:us-east-1:%s:policy/pp-0" % self.account)
        self.assertEqual([p["policyName"] for p in iot.list_attached_policies(target=cert)["policies"]],
                         ["pp-0", "pp-1", "pp-2", "pp-3"])
        # paging both ways
        r = iot.list_principal_policies(principal=cert, pageSize=3)
        self.assertEqual(names(r), ["pp-0", "pp-1", "pp-2"])
        r = iot.list_principal_policies(principal=cert, pageSize=3, marker=r["nextMarker"])
        self.assertEqual(names(r), ["pp-3"])
        self.assertNotIn("nextMarker", r)
        r = iot.list_principal_policies(principal=cert, pageSize=3, ascendingOrder=False)
        self.assertEqual(names(r), ["pp-3", "pp-2", "pp-1"])
        r = iot.list_principal_policies(principal=cert, pageSize=3, ascendingOrder=False, marker=r["nextMarker"])
        self.assertEqual(names(r), ["pp-0"])
        cli = self.aws("iot", "list-principal-policies", "--principal", cert, "--no-ascending-order")
        self.assertEqual(names(cli), ["pp-3", "pp-2", "pp-1", "pp-0"])
        # principals of a policy: certificates, not the thing group
        pr = self.aws("iot", "list-policy-principals", "--policy-name", "pp-0")["principals"]
        self.assertEqual(pr, sorted([cert, other]))
        self.assertEqual(iot.list_policy_principals(policyName="pp-0", pageSize=1)["principals"], [min(cert, other)])
        c, _ = code(iot.list_policy_principals, policyName="nope")
        self.assertEqual(c, "ResourceNotFoundException")
        # errors of the model
        c, _ = code(iot.attach_principal_policy, policyName="nope", principal=cert)
        self.assertEqual(c, "ResourceNotFoundException")
        missing = "arn:aws:iot:us-east-1:%s:cert/%s" % (self.account, "0" * 64)
        c, _ = code(iot.attach_principal_policy, policyName="pp-0", principal=missing)
        self.assertEqual(c, "ResourceNotFoundException")
        c, _ = code(iot.list_principal_policies, principal=missing)
        self.assertEqual(c, "ResourceNotFoundException")
        # detach with the old name, seen by the new
        self.aws("iot", "detach-principal-policy", "--policy-name", "pp-1", "--principal", cert)
        iot.detach_principal_policy(policyName="pp-3", principal=cert)
        self.assertEqual([p["policyName"] for p in iot.list_attached_policies(target=cert)["policies"]],
                         ["pp-0", "pp-2"])
        self.assertEqual(iot.list_targets_for_policy(policyName="pp-0")["targets"], sorted([cert, other, tg_arn]))


if __name__ == "__main__":
    unittest.main()
