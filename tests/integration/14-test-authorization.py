"""`aws iot test-authorization` through the server answers the policy authorizer cases of
tests/data/policies/examples/authorizer_cases.json: each case's policy is created and
attached to a certificate (and its thing, when the case has an attached thing), then every
request the TestAuthorization API can express (CONNECT, PUBLISH, SUBSCRIBE, RECEIVE with
a client id) is asked with the aws CLI v2 and compared with the case's verdict."""
import json
import os
import tempfile
import unittest

from ddserver import Server, write_credentials

DATA = os.environ.get("DD_TESTDATA") or os.path.join(os.path.dirname(__file__), "..", "data")
CASES = os.path.join(DATA, "policies", "examples", "authorizer_cases.json")
ACTIONS = {"iot:Connect": "CONNECT", "iot:Publish": "PUBLISH", "iot:Subscribe": "SUBSCRIBE", "iot:Receive": "RECEIVE"}


class TestAuthorizationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddauthz-")
        path = os.path.join(cls.tmp, "credentials")
        # the cases' ARNs name account 123456789012
        write_credentials(path, [("default", "AKIAAUTHZ00000000001", "authz-secret-0000000000000000000000000", "123456789012")])
        cls.srv = Server(credentials=path).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_authorizer_cases(self):
        with open(CASES) as f:
            cases = json.load(f)
        iot = self.srv.client("iot")
        asked = 0
        skipped = []
        for i, case in enumerate(cases):
            ctx = case.get("context", {})
            cert = iot.create_keys_and_certificate(setAsActive=True)
            pname = "case-%d" % i
            iot.create_policy(policyName=pname, policyDocument=json.dumps(case["policy"]))
            iot.attach_policy(policyName=pname, target=cert["certificateArn"])
            thing = ctx.get("thingName")
            attached = bool(ctx.get("isAttached")) or bool(thing)
            if thing:
                iot.create_thing(thingName=thing)
                iot.attach_thing_principal(thingName=thing, principal=cert["certificateArn"])
            for req in case["requests"]:
                action = ACTIONS.get(req["action"])
                expressible = action and not req.get("connectAttributes") and \
                    ("isAttached" not in ctx or bool(ctx["isAttached"]) == attached)
                if not expressible:
                    skipped.append("%s %s" % (case["id"], req["action"]))
                    continue
                args = ["iot", "test-authorization", "--principal", cert["certificateArn"],
                        "--auth-infos", json.dumps([{"actionType": action, "resources": [req["resource"]]}])]
                if ctx.get("clientId") is not None:
                    args += ["--client-id", ctx["clientId"]]
                res = self.srv.aws(*args, v2=True)["authResults"][0]
                want = "ALLOWED" if req["expect"] == "ALLOW" else ("EXPLICIT_DENY", "IMPLICIT_DENY")
                with self.subTest(case=case["id"], action=req["action"], resource=req["resource"]):
                    if want == "ALLOWED":
                        self.assertEqual(res["authDecision"], "ALLOWED", res)
                        self.assertEqual([p["policyName"] for p in res["allowed"]["policies"]], [pname])
                    else:
                        self.assertIn(res["authDecision"], want, res)
                asked += 1
            # detach this case's policy so the next case's thing (same name) is judged alone
            iot.detach_policy(policyName=pname, target=cert["certificateArn"])
            if thing:
                iot.detach_thing_principal(thingName=thing, principal=cert["certificateArn"])
        self.assertGreater(asked, 20)
        print("\n%d requests asked through test-authorization; not expressible in that API: %s" % (asked, skipped))


if __name__ == "__main__":
    unittest.main()
