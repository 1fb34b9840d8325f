"""Domain configurations as stored state (issue 15) through boto3 and the aws CLI v2: the
shipped create / describe / list / update / delete examples, AWS's ARN form, the
serviceType filter and paging, updates (status and its change date, authorizer set and
removed), the rule that an ENABLED configuration is not deleted, the limit of 10, tags and
the model's errors. No endpoint serves them (docs/CONTROL_PLANE.md)."""
import time
import unittest

import botocore.exceptions

from ddserver import Server

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class DomainConfigurationsTest(unittest.TestCase):
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
        c = self.aws("iot", "create-domain-configuration", "--domain-configuration-name", "additionalDataDomain",
                     "--service-type", "DATA")
        self.assertEqual(c["domainConfigurationName"], "additionalDataDomain")
        self.assertRegex(c["domainConfigurationArn"],
                         r"^arn:aws:iot:us-east-1:%s:domainconfiguration/additionalDataDomain/[A-Za-z]{5}$" % self.account)
        d = self.iot.describe_domain_configuration(domainConfigurationName="additionalDataDomain")
        self.assertEqual(d["domainConfigurationArn"], c["domainConfigurationArn"])
        self.assertEqual(d["serverCertificates"], [])
        self.assertEqual(d["domainConfigurationStatus"], "ENABLED")
        self.assertEqual(d["serviceType"], "DATA")
        self.assertEqual(d["domainType"], "AWS_MANAGED")
        self.assertLess(abs(d["lastStatusChangeDate"].timestamp() - time.time()), 600)
        lst = self.aws("iot", "list-domain-configurations", "--service-type", "DATA")["domainConfigurations"]
        self.assertIn({"domainConfigurationName": "additionalDataDomain",
                       "domainConfigurationArn": c["domainConfigurationArn"], "serviceType": "DATA"}, lst)
        p = self.aws("iot", "delete-domain-configuration", "--domain-configuration-name", "additionalDataDomain",
                     check=False)
        self.assertIn("InvalidRequestException", p.stderr)
        self.assertIn("disable it", p.stderr)
        u = self.aws("iot", "update-domain-configuration", "--domain-configuration-name", "additionalDataDomain",
                     "--domain-configuration-status", "DISABLED")
        self.assertEqual(u, {"domainConfigurationName": "additionalDataDomain",
                             "domainConfigurationArn": c["domainConfigurationArn"]})
        d2 = self.iot.describe_domain_configuration(domainConfigurationName="additionalDataDomain")
        self.assertEqual(d2["domainConfigurationStatus"], "DISABLED")
        self.assertGreaterEqual(d2["lastStatusChangeDate"], d["lastStatusChangeDate"])
        self.assertIsNone(self.aws("iot", "delete-domain-configuration", "--domain-configuration-name",
                                   "additionalDataDomain"))
        cc, _ = code(self.iot.describe_domain_configuration, domainConfigurationName="additionalDataDomain")
        self.assertEqual(cc, "ResourceNotFoundException")
        cc, _ = code(self.iot.delete_domain_configuration, domainConfigurationName="additionalDataDomain")
        self.assertEqual(cc, "ResourceNotFoundException")

    def test_custom_domain_update_tags_limit(self):
        iot = self.srv.client("iot", region="eu-west-1")
        r = iot.create_domain_configuration(domainConfigurationName="custom", domainName="iot.example.com",
                                            serverCertificateArns=[CERT], serviceType="DATA",
                                            authorizerConfig={"defaultAuthorizerName": "auth1",
                                                              "allowAuthorizerOverride": True},
                                            tlsConfig={"securityPolicy": "IoTSecurityPolicy_TLS13_1_2_2022_10"},
                                            authenticationType="CUSTOM_AUTH", applicationProtocol="HTTPS",
                                            tags=[{"Key": "env", "Value": "dev"}])
        d = iot.describe_domain_configuration(domainConfigurationName="custom")
        self.assertEqual(d["domainName"], "iot.example.com")
        self.assertEqual(d["domainType"], "CUSTOMER_MANAGED")
        self.assertEqual([s["serverCertificateArn"] for s in d["serverCertificates"]], [CERT])
        self.assertEqual(d["authorizerConfig"], {"defaultAuthorizerName": "auth1", "allowAuthorizerOverride": True})
        self.assertEqual(d["authenticationType"], "CUSTOM_AUTH")
        self.assertEqual(d["applicationProtocol"], "HTTPS")
        self.assertEqual(iot.list_tags_for_resource(resourceArn=r["domainConfigurationArn"])["tags"],
                         [{"Key": "env", "Value": "dev"}])
        iot.update_domain_configuration(domainConfigurationName="custom", removeAuthorizerConfig=True,
                                        tlsConfig={"securityPolicy": "IoTSecurityPolicy_TLS12_1_2_2022_10"})
        d = iot.describe_domain_configuration(domainConfigurationName="custom")
        self.assertNotIn("authorizerConfig", d)
        self.assertEqual(d["tlsConfig"], {"securityPolicy": "IoTSecurityPolicy_TLS12_1_2_2022_10"})
        self.assertEqual(d["domainConfigurationStatus"], "ENABLED")
        c, _ = code(iot.update_domain_configuration, domainConfigurationName="custom", removeAuthorizerConfig=True,
                    authorizerConfig={"defaultAuthorizerName": "a"})
        self.assertEqual(c, "InvalidRequestException")
        c, _ = code(iot.update_domain_configuration, domainConfigurationName="nope", domainConfigurationStatus="DISABLED")
        self.assertEqual(c, "ResourceNotFoundException")
        c, _ = code(iot.create_domain_configuration, domainConfigurationName="custom")
        self.assertEqual(c, "ResourceAlreadyExistsException")
        c, _ = code(iot.create_domain_configuration, domainConfigurationName="nocert", domainName="x.example.com")
        self.assertEqual(c, "InvalidRequestException")
        # serviceType filter, paging, the limit of 10 per account and region
        for i in range(9):
            iot.create_domain_configuration(domainConfigurationName="d%d" % i,
                                            serviceType="JOBS" if i % 3 == 0 else "DATA")
        c, m = code(iot.create_domain_configuration, domainConfigurationName="eleventh")
        self.assertEqual(c, "LimitExceededException")
        jobs = [x["domainConfigurationName"] for x in iot.list_domain_configurations(serviceType="JOBS")["domainConfigurations"]]
        self.assertEqual(jobs, ["d0", "d3", "d6"])
        p1 = iot.list_domain_configurations(pageSize=4)
        p2 = iot.list_domain_configurations(pageSize=4, marker=p1["nextMarker"])
        p3 = iot.list_domain_configurations(pageSize=4, marker=p2["nextMarker"])
        self.assertNotIn("nextMarker", p3)
        allnames = [x["domainConfigurationName"] for p in (p1, p2, p3) for x in p["domainConfigurations"]]
        self.assertEqual(allnames, ["custom"] + ["d%d" % i for i in range(9)])
        # isolated by region
        self.assertEqual([x for x in self.iot.list_domain_configurations()["domainConfigurations"]
                          if x["domainConfigurationName"] == "custom"], [])
        iot.update_domain_configuration(domainConfigurationName="custom", domainConfigurationStatus="DISABLED")
        iot.delete_domain_configuration(domainConfigurationName="custom")
        c, _ = code(iot.list_tags_for_resource, resourceArn=r["domainConfigurationArn"])
        self.assertEqual(c, "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main()
