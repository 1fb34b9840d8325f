"""Topic rules as stored state (issue 15) through boto3 and the aws CLI v2: the shipped
create/get/list examples, SQL checked syntactically (SqlParseException naming line and
column), enable / disable / replace / delete, the topic and ruleDisabled filters, paging,
tags from x-amz-tagging, and UnauthorizedException for a missing rule. Nothing executes
rules (docs/CONTROL_PLANE.md)."""
import json
import os
import tempfile
import unittest

import botocore.exceptions

from ddserver import Server

SNS_ACTION = {"sns": {"targetArn": "arn:aws:sns:us-east-1:123456789012:MyRPiLowMoistureTopic",
                      "roleArn": "arn:aws:iam::123456789012:role/service-role/MyRPiLowMoistureTopicRole",
                      "messageFormat": "RAW"}}
PLANT = {"sql": "SELECT * FROM '$aws/things/MyRPi/shadow/update/accepted' WHERE state.reported.moisture = 'low'\n",
         "description": "Sends an alert whenever soil moisture level readings are too low.",
         "ruleDisabled": False, "awsIotSqlVersion": "2016-03-23", "actions": [SNS_ACTION]}

GOOD_SQL = [
    "SELECT * FROM 'a/b'",
    "select temperature AS t, topic(2) as dev, timestamp() FROM 'sensors/+/data' where temperature > 50 AND NOT (humidity < 10.5)",
    "SELECT VALUE state.reported FROM '$aws/things/+/shadow/update/accepted'",
    "SELECT {'a': 1, \"b\": [1, 2, x.y[0]]} AS obj, CASE color WHEN 'red' THEN 1 ELSE 0 END c FROM 'x/#'",
    "SELECT (SELECT VALUE v FROM readings WHERE v > 1) AS big, -a * (b + c) % 3 || 'x' FROM '#' WHERE a IS NOT NULL OR b <> 2",
    "SELECT get(arr, 0).name, cast(t AS String) FROM 'a'",
]
BAD_SQL = [
    ("SELEC * FROM 'a'", "expected SELECT"),
    ("SELECT * 'a'", "expected FROM"),
    ("SELECT * FROM a/b", "topic filter"),
    ("SELECT * FROM 'a/#/b'", "'#' must be the last level"),
    ("SELECT * FROM 'a/b+'", "'+' must be a whole level"),
    ("SELECT * FROM 'a' WHERE", "expected an expression"),
    ("SELECT a, FROM 'a'", "expected an expression"),
    ("SELECT (a FROM 'a'", "expected ')'"),
    ("SELECT * FROM 'a' WHERE x = 'unterminated", "unterminated string"),
    ("SELECT * FROM 'a' extra", "unexpected text"),
    ("SELECT * FROM 'a' WHERE a IS 3", "after IS"),
    ("SELECT CASE WHEN a THEN 1 FROM 'a'", "expected END"),
]


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error")


class TopicRulesTest(unittest.TestCase):
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
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(PLANT, f)
        try:
            self.assertIsNone(self.aws("iot", "create-topic-rule", "--rule-name", "LowMoistureRule",
                                       "--topic-rule-payload", "file://" + f.name))
        finally:
            os.unlink(f.name)
        g = self.iot.get_topic_rule(ruleName="LowMoistureRule")
        self.assertEqual(g["ruleArn"], "arn:aws:iot:us-east-1:%s:rule/LowMoistureRule" % self.account)
        r = g["rule"]
        for k in ("sql", "description", "ruleDisabled", "awsIotSqlVersion", "actions"):
            self.assertEqual(r[k], PLANT[k], k)
        self.assertEqual(r["ruleName"], "LowMoistureRule")
        self.assertIn("createdAt", r)
        lst = self.aws("iot", "list-topic-rules")["rules"]
        mine = [x for x in lst if x["ruleName"] == "LowMoistureRule"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["topicPattern"], "$aws/things/MyRPi/shadow/update/accepted")
        self.assertFalse(mine[0]["ruleDisabled"])
        self.assertEqual(mine[0]["ruleArn"], g["ruleArn"])
        # disable / enable (no output), replace, delete
        self.assertIsNone(self.aws("iot", "disable-topic-rule", "--rule-name", "LowMoistureRule"))
        self.assertTrue(self.iot.get_topic_rule(ruleName="LowMoistureRule")["rule"]["ruleDisabled"])
        self.aws("iot", "enable-topic-rule", "--rule-name", "LowMoistureRule")
        self.assertFalse(self.iot.get_topic_rule(ruleName="LowMoistureRule")["rule"]["ruleDisabled"])
        self.iot.replace_topic_rule(ruleName="LowMoistureRule", topicRulePayload={
            "sql": "SELECT moisture FROM 'plants/+/moisture'", "actions": [], "ruleDisabled": True})
        r2 = self.iot.get_topic_rule(ruleName="LowMoistureRule")["rule"]
        self.assertEqual(r2["sql"], "SELECT moisture FROM 'plants/+/moisture'")
        self.assertEqual(r2["actions"], [])
        self.assertTrue(r2["ruleDisabled"])
        self.assertNotIn("description", r2)
        self.assertEqual(r2["createdAt"], r["createdAt"])
        self.aws("iot", "delete-topic-rule", "--rule-name", "LowMoistureRule")
        for fn, kw in ((self.iot.get_topic_rule, {}), (self.iot.delete_topic_rule, {}),
                       (self.iot.enable_topic_rule, {}), (self.iot.disable_topic_rule, {}),
                       (self.iot.replace_topic_rule, {"topicRulePayload": {"sql": "SELECT * FROM 'a'", "actions": []}})):
            c, _ = code(fn, ruleName="LowMoistureRule", **kw)
            self.assertEqual(c, "UnauthorizedException", fn)

    def test_sql_syntax(self):
        for i, sql in enumerate(GOOD_SQL):
            self.iot.create_topic_rule(ruleName="good_%d" % i, topicRulePayload={"sql": sql, "actions": []})
        for i, (sql, why) in enumerate(BAD_SQL):
            c, m = code(self.iot.create_topic_rule, ruleName="bad_%d" % i,
                        topicRulePayload={"sql": sql, "actions": []})
            self.assertEqual(c, "SqlParseException", sql)
            self.assertIn(why, m, sql)
            self.assertRegex(m, r"^Line 1:\d+ ", sql)
        c, _ = code(self.iot.get_topic_rule, ruleName="bad_0")
        self.assertEqual(c, "UnauthorizedException")
        self.iot.create_topic_rule(ruleName="tobreak", topicRulePayload={"sql": "SELECT * FROM 'a'", "actions": []})
        c, _ = code(self.iot.replace_topic_rule, ruleName="tobreak",
                    topicRulePayload={"sql": "SELECT * FROM", "actions": []})
        self.assertEqual(c, "SqlParseException")
        self.assertEqual(self.iot.get_topic_rule(ruleName="tobreak")["rule"]["sql"], "SELECT * FROM 'a'")
        p = self.aws("iot", "create-topic-rule", "--rule-name", "clibad", "--topic-rule-payload",
                     json.dumps({"sql": "SELECT * FROM 'a' WHERE (", "actions": []}), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SqlParseException", p.stderr)

    def test_rules_and_errors(self):
        iot = self.iot
        c, _ = code(iot.create_topic_rule, ruleName="two", topicRulePayload={
            "sql": "SELECT * FROM 'a'", "actions": [dict(SNS_ACTION, republish={"topic": "x", "roleArn": "arn:aws:iam::1:role/r"})]})
        self.assertEqual(c, "InvalidRequestException")
        c, _ = code(iot.create_topic_rule, ruleName="ver", topicRulePayload={
            "sql": "SELECT * FROM 'a'", "actions": [], "awsIotSqlVersion": "2020-01-01"})
        self.assertEqual(c, "InvalidRequestException")
        iot.create_topic_rule(ruleName="dup", topicRulePayload={"sql": "SELECT * FROM 'a'", "actions": []})
        c, _ = code(iot.create_topic_rule, ruleName="dup", topicRulePayload={"sql": "SELECT * FROM 'a'", "actions": []})
        self.assertEqual(c, "ResourceAlreadyExistsException")
        c, _ = code(iot.create_topic_rule, ruleName="bad-name", topicRulePayload={"sql": "SELECT * FROM 'a'", "actions": []})
        self.assertIn(c, ("InvalidRequestException",))

    def test_filters_paging_tags(self):
        iot = self.srv.client("iot", region="eu-west-1")
        topics = {"f_a": "home/+/temp", "f_b": "home/kitchen/temp", "f_c": "home/#", "f_d": "office/temp"}
        for n, t in topics.items():
            iot.create_topic_rule(ruleName=n, topicRulePayload={"sql": "SELECT * FROM '%s'" % t, "actions": [],
                                                                 "ruleDisabled": n == "f_d"},
                                  tags="team=iot&env=dev%20one")
        names = lambda r: [x["ruleName"] for x in r["rules"]]
        self.assertEqual(names(iot.list_topic_rules(topic="home/kitchen/temp")), ["f_a", "f_b", "f_c"])
        self.assertEqual(names(iot.list_topic_rules(topic="home/+/temp")), ["f_a", "f_c"])
        self.assertEqual(names(iot.list_topic_rules(topic="office/temp")), ["f_d"])
        self.assertEqual(names(iot.list_topic_rules(ruleDisabled=True)), ["f_d"])
        self.assertEqual(names(iot.list_topic_rules(ruleDisabled=False)), ["f_a", "f_b", "f_c"])
        p1 = iot.list_topic_rules(maxResults=3)
        self.assertEqual(names(p1), ["f_a", "f_b", "f_c"])
        p2 = iot.list_topic_rules(maxResults=3, nextToken=p1["nextToken"])
        self.assertEqual(names(p2), ["f_d"])
        self.assertNotIn("nextToken", p2)
        arn = "arn:aws:iot:eu-west-1:%s:rule/f_a" % self.account
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in iot.list_tags_for_resource(resourceArn=arn)["tags"]),
                         [("env", "dev one"), ("team", "iot")])
        # regional: us-east-1 does not see them
        self.assertEqual([x for x in names(self.iot.list_topic_rules()) if x.startswith("f_")], [])
        iot.delete_topic_rule(ruleName="f_a")
        c, _ = code(iot.list_tags_for_resource, resourceArn=arn)
        self.assertEqual(c, "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main()
