"""Two access keys in two accounts: neither can list, describe, attach or delete the
other's things, certificates or policies."""
import json
import os
import tempfile
import unittest

import botocore.exceptions

from ddserver import Server, write_credentials

POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})


class IsolationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddcreds-")
        path = os.path.join(cls.tmp, "credentials")
        write_credentials(path, [
            ("alice", "AKIAALICE00000000001", "alice/secret+key/0000000000000000000000", "111111111111"),
            ("bob", "AKIABOB0000000000002", "bob-secret-key-000000000000000000000000", "222222222222"),
        ])
        cls.srv = Server(credentials=path).start()
        cls.a = cls.srv.client("iot", 0)
        cls.b = cls.srv.client("iot", 1)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def code(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"]

    def test_isolation(self):
        a, b = self.a, self.b
        ta = a.create_thing(thingName="shared-name")
        self.assertIn(":111111111111:", ta["thingArn"])
        a.create_policy(policyName="AlicePolicy", policyDocument=POLICY)
        cert = a.create_keys_and_certificate(setAsActive=True)
        a.attach_thing_principal(thingName="shared-name", principal=cert["certificateArn"])

        # bob sees nothing of alice's
        self.assertEqual(b.list_things()["things"], [])
        self.assertEqual(b.list_policies()["policies"], [])
        self.assertEqual(b.list_certificates()["certificates"], [])
        self.assertEqual(self.code(b.describe_thing, thingName="shared-name"), "ResourceNotFoundException")
        self.assertEqual(self.code(b.get_policy, policyName="AlicePolicy"), "ResourceNotFoundException")
        self.assertEqual(self.code(b.describe_certificate, certificateId=cert["certificateId"]), "ResourceNotFoundException")
        self.assertEqual(self.code(b.update_certificate, certificateId=cert["certificateId"], newStatus="INACTIVE"),
                         "ResourceNotFoundException")
        self.assertEqual(self.code(b.delete_policy, policyName="AlicePolicy"), "ResourceNotFoundException")
        self.assertEqual(self.code(b.attach_policy, policyName="AlicePolicy", target=cert["certificateArn"]),
                         "ResourceNotFoundException")
        # bob's own policy cannot be attached to alice's certificate either
        b.create_policy(policyName="BobPolicy", policyDocument=POLICY)
        self.assertEqual(self.code(b.attach_policy, policyName="BobPolicy", target=cert["certificateArn"]),
                         "ResourceNotFoundException")
        self.assertEqual(self.code(b.list_thing_principals, thingName="shared-name"), "ResourceNotFoundException")
        # bob may create the same thing name in his own account, independent of alice's
        tb = b.create_thing(thingName="shared-name", attributePayload={"attributes": {"owner": "bob"}})
        self.assertIn(":222222222222:", tb["thingArn"])
        b.delete_thing(thingName="shared-name")
        # alice's thing, policy and certificate are untouched
        self.assertEqual(a.describe_thing(thingName="shared-name")["attributes"], {})
        self.assertEqual(a.get_policy(policyName="AlicePolicy")["policyName"], "AlicePolicy")
        self.assertEqual(a.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]["status"], "ACTIVE")
        self.assertEqual(a.list_thing_principals(thingName="shared-name")["principals"], [cert["certificateArn"]])


if __name__ == "__main__":
    unittest.main()
