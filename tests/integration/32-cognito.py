"""Cognito identity pools against the real server with boto3 and the aws CLI: create,
describe, list with paging, update, delete, roles, validation errors, regions and
account isolation."""
import os
import shutil
import tempfile
import unittest

import botocore.exceptions

from ddserver import Server, write_credentials


def code(e):
    return e.exception.response["Error"]["Code"]


class CognitoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddcog-")
        cls.creds = os.path.join(cls.tmp, "credentials")
        write_credentials(cls.creds, [
            ("a", "AKIAAAAAAAAAAAAAAAA1", "secretA/secretA/secretA/secretA/secretA1", "111111111111"),
            ("b", "AKIABBBBBBBBBBBBBBB2", "secretB/secretB/secretB/secretB/secretB2", "222222222222"),
        ])
        cls.srv = Server(credentials=cls.creds).start()
        cls.cog = cls.srv.client("cognito-identity")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_pool_lifecycle_and_roles(self):
        p = self.cog.create_identity_pool(IdentityPoolName="fleet_pool", AllowUnauthenticatedIdentities=True,
                                          SupportedLoginProviders={"graph.facebook.com": "123"},
                                          IdentityPoolTags={"team": "iot"})
        pid = p["IdentityPoolId"]
        self.assertRegex(pid, r"^us-east-1:[0-9a-f-]{36}$")
        d = self.cog.describe_identity_pool(IdentityPoolId=pid)
        self.assertEqual(d["IdentityPoolName"], "fleet_pool")
        self.assertTrue(d["AllowUnauthenticatedIdentities"])
        self.assertEqual(d["SupportedLoginProviders"], {"graph.facebook.com": "123"})
        self.assertEqual(d["IdentityPoolTags"], {"team": "iot"})
        self.assertEqual(self.cog.get_identity_pool_roles(IdentityPoolId=pid)["Roles"], {})
        roles = {"authenticated": "arn:aws:iam::111111111111:role/CogAuth",
                 "unauthenticated": "arn:aws:iam::111111111111:role/CogUnauth"}
        self.cog.set_identity_pool_roles(IdentityPoolId=pid, Roles=roles)
        r = self.cog.get_identity_pool_roles(IdentityPoolId=pid)
        self.assertEqual(r["Roles"], roles)
        self.assertEqual(r["IdentityPoolId"], pid)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.cog.set_identity_pool_roles(IdentityPoolId=pid, Roles={"admin": roles["authenticated"]})
        self.assertEqual(code(e), "InvalidParameterException")
        u = self.cog.update_identity_pool(IdentityPoolId=pid, IdentityPoolName="renamed",
                                          AllowUnauthenticatedIdentities=False)
        self.assertEqual(u["IdentityPoolName"], "renamed")
        self.assertFalse(self.cog.describe_identity_pool(IdentityPoolId=pid)["AllowUnauthenticatedIdentities"])
        self.assertEqual(self.cog.get_identity_pool_roles(IdentityPoolId=pid)["Roles"], roles)
        self.cog.delete_identity_pool(IdentityPoolId=pid)
        for call in (self.cog.describe_identity_pool, self.cog.get_identity_pool_roles,
                     self.cog.delete_identity_pool):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                call(IdentityPoolId=pid)
            self.assertEqual(code(e), "ResourceNotFoundException")

    def test_list_paging_regions_and_accounts(self):
        ids = [self.cog.create_identity_pool(IdentityPoolName="p%d" % i, AllowUnauthenticatedIdentities=False)
               ["IdentityPoolId"] for i in range(5)]
        seen, tok = [], None
        while True:
            kw = {"MaxResults": 2}
            if tok:
                kw["NextToken"] = tok
            r = self.cog.list_identity_pools(**kw)
            seen += [p["IdentityPoolId"] for p in r["IdentityPools"]]
            tok = r.get("NextToken")
            if not tok:
                break
        self.assertEqual(sorted(seen), sorted(ids))
        eu = self.srv.client("cognito-identity", region="eu-west-1")
        self.assertEqual(eu.list_identity_pools(MaxResults=10)["IdentityPools"], [])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            eu.describe_identity_pool(IdentityPoolId=ids[0])
        self.assertEqual(code(e), "ResourceNotFoundException")
        b = self.srv.client("cognito-identity", i=1)
        self.assertEqual(b.list_identity_pools(MaxResults=10)["IdentityPools"], [])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            b.get_identity_pool_roles(IdentityPoolId=ids[0])
        self.assertEqual(code(e), "ResourceNotFoundException")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            b.set_identity_pool_roles(IdentityPoolId=ids[0], Roles={
                "authenticated": "arn:aws:iam::%s:role/x" % self.srv.key(1)["account_id"]})
        self.assertEqual(code(e), "ResourceNotFoundException")
        for i in ids:
            self.cog.delete_identity_pool(IdentityPoolId=i)

    def test_validation(self):
        with self.assertRaises(botocore.exceptions.ParamValidationError):
            self.cog.create_identity_pool(IdentityPoolName="x")
        # the server validates too (a client that skips validation)
        raw = self.srv.client("cognito-identity")
        raw.meta.events.register("provide-client-params.cognito-identity.ListIdentityPools",
                                 lambda params, **kw: params.update(MaxResults=0))
        with self.assertRaises((botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError)):
            raw.list_identity_pools(MaxResults=1)

    def test_cli(self):
        out = self.srv.aws("cognito-identity", "create-identity-pool", "--identity-pool-name", "cli_pool",
                           "--allow-unauthenticated-identities")
        pid = out["IdentityPoolId"]
        self.srv.aws("cognito-identity", "set-identity-pool-roles", "--identity-pool-id", pid, "--roles",
                     "unauthenticated=arn:aws:iam::111111111111:role/U", v2=True)
        r = self.srv.aws("cognito-identity", "get-identity-pool-roles", "--identity-pool-id", pid)
        self.assertEqual(r["Roles"], {"unauthenticated": "arn:aws:iam::111111111111:role/U"})
        self.srv.aws("cognito-identity", "delete-identity-pool", "--identity-pool-id", pid, v2=True)


if __name__ == "__main__":
    unittest.main()
