"""Fleet indexing through boto3 and the aws CLI v2 (issue 15): the indexing configuration,
SearchIndex over a fleet of 3,000 things built through the API (types, attributes, static
and nested groups, versions, connectivity from connection events) with a query corpus
whose expected results are computed here in Python from the fleet as built, paging and
limits, the aggregations (statistics, cardinality, percentiles, buckets) against values
computed here, invalid queries (InvalidQueryException naming the problem), an index that
is OFF (ResourceNotFoundException), per-account and per-region isolation, AWS_ThingGroups,
dynamic thing groups on the same grammar, and the aws CLI's shipped examples."""
import json
import math
import os
import random
import shutil
import tempfile
import unittest

import botocore.exceptions

from auditfleet import post_events
from ddserver import Server, write_credentials

N_THINGS = 3000
TYPES = ["LightBulb", "Sensor", "Gateway"]
SITES = ["north", "south", "east", "west", "north-east"]
GROUPS = ["g-a", "g-b", "g-c"]
T0 = 1764400000000


def err(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("no error from %s %r" % (fn.__name__, kw))


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def percentile(values, p):
    """Linear between closest ranks (AWS's shipped get-percentiles example is reproduced by it)."""
    v = sorted(values)
    rank = p / 100.0 * (len(v) - 1)
    k = int(math.floor(rank))
    return v[k] + (rank - k) * (v[k + 1] - v[k]) if k + 1 < len(v) else v[-1]


def build_fleet():
    """The fleet as a list of dicts, deterministic."""
    rnd = random.Random(15)
    prefixes = ["dev", "sensor", "lamp", "gw"]
    fleet = []
    for i in range(N_THINGS):
        name = "%s-%04d" % (prefixes[i % 4], i)
        attrs = {}
        if i % 10 != 3:
            attrs["site"] = SITES[rnd.randrange(len(SITES))]
        if i % 7 != 0:
            t = rnd.randrange(0, 1200)
            attrs["temp"] = str(t // 10) if t % 3 else "%d.5" % (t // 10)
        if i % 5 != 0:
            attrs["model"] = "m%d" % rnd.randrange(0, 40)
        if i % 9 == 0:
            attrs["fw"] = rnd.choice(["1.2.3", "1.2.9", "1.3.0", "2.0.0"])
        typ = None if i % 6 == 5 else TYPES[i % 3]
        groups = sorted(g for g in GROUPS if rnd.random() < 0.3)
        if "g-a" in groups and rnd.random() < 0.3:
            groups.append("g-a-child")
        groups.sort()
        updates = 0 if i % 4 else (1 if i % 8 else 2)
        conn = None
        if i % 3 == 0:
            conn = ("connect", T0 + i, None)
        elif i % 3 == 1 and i % 2 == 0:
            conn = ("disconnect", T0 + i, "CLIENT_INITIATED_DISCONNECT" if i % 4 else "SERVER_INITIATED_DISCONNECT")
        fleet.append({"name": name, "attrs": attrs, "type": typ, "groups": groups, "version": 1 + updates,
                      "updates": updates, "conn": conn})
    return fleet


class FleetIndexingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddcreds-")
        path = os.path.join(cls.tmp, "credentials")
        write_credentials(path, [
            ("alice", "AKIAALICE00000000001", "alice/secret+key/0000000000000000000000", "111111111111"),
            ("bob", "AKIABOB0000000000002", "bob-secret-key-000000000000000000000000", "222222222222"),
        ])
        cls.srv = Server(credentials=path).start()
        cls.iot = cls.srv.client("iot")
        iot = cls.iot
        # before any configuration, the thing index does not exist
        cls.before = err(iot.search_index, indexName="AWS_Things", queryString="thingName:*")
        cls.fleet = build_fleet()
        for t in TYPES:
            iot.create_thing_type(thingTypeName=t)
        for g in GROUPS:
            iot.create_thing_group(thingGroupName=g, thingGroupProperties={
                "thingGroupDescription": "group %s" % g, "attributePayload": {"attributes": {"tier": g[-1]}}})
        iot.create_thing_group(thingGroupName="g-a-child", parentGroupName="g-a")
        for t in cls.fleet:
            kw = {"thingName": t["name"]}
            if t["attrs"]:
                kw["attributePayload"] = {"attributes": t["attrs"]}
            if t["type"]:
                kw["thingTypeName"] = t["type"]
            t["id"] = iot.create_thing(**kw)["thingId"]
            for _ in range(t["updates"]):
                iot.update_thing(thingName=t["name"], attributePayload={"attributes": t["attrs"], "merge": True})
            for g in t["groups"]:
                iot.add_thing_to_thing_group(thingGroupName=g, thingName=t["name"])
        events = []
        for t in cls.fleet:
            if t["conn"]:
                ev, ts, reason = t["conn"]
                if ev == "disconnect":
                    events.append({"event": "connect", "clientId": t["name"], "principal": "p", "timestamp": ts - 500})
                e = {"event": ev, "clientId": t["name"], "principal": "p", "timestamp": ts}
                if reason:
                    e["reason"] = reason
                events.append(e)
        for k in range(0, len(events), 500):
            status, body = post_events(cls.srv, events[k:k + 500])
            assert status == 200, (status, body)
        iot.update_indexing_configuration(
            thingIndexingConfiguration={"thingIndexingMode": "REGISTRY", "thingConnectivityIndexingMode": "STATUS",
                                        "customFields": [{"name": "attributes.temp", "type": "Number"}]},
            thingGroupIndexingConfiguration={"thingGroupIndexingMode": "ON"})

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def search_all(self, query, index="AWS_Things", page=100, client=None):
        iot = client or self.iot
        out, token, pages = [], None, 0
        while True:
            kw = {"indexName": index, "queryString": query, "maxResults": page}
            if token:
                kw["nextToken"] = token
            r = iot.search_index(**kw)
            docs = r.get("things" if index == "AWS_Things" else "thingGroups", [])
            self.assertLessEqual(len(docs), page)
            out += docs
            pages += 1
            token = r.get("nextToken")
            if not token:
                return out, pages
            self.assertEqual(len(docs), page)

    def expect(self, pred):
        return sorted(t["name"] for t in self.fleet if pred(t))

    # ---- configuration ----

    def test_index_off_before_configuration(self):
        self.assertEqual(self.before, ("ResourceNotFoundException", "Index AWS_Things does not exist."))

    def test_configuration_round_trip(self):
        cfg = self.iot.get_indexing_configuration()
        t = cfg["thingIndexingConfiguration"]
        self.assertEqual(t["thingIndexingMode"], "REGISTRY")
        self.assertEqual(t["thingConnectivityIndexingMode"], "STATUS")
        self.assertEqual(t["customFields"], [{"name": "attributes.temp", "type": "Number"}])
        managed = {f["name"]: f["type"] for f in t["managedFields"]}
        self.assertEqual(managed["thingName"], "String")
        self.assertEqual(managed["registry.version"], "Number")
        self.assertEqual(managed["connectivity.connected"], "Boolean")
        self.assertNotIn("shadow.version", managed)
        g = cfg["thingGroupIndexingConfiguration"]
        self.assertEqual(g["thingGroupIndexingMode"], "ON")
        self.assertIn({"name": "parentGroupNames", "type": "String"}, g["managedFields"])
        self.assertEqual(self.iot.list_indices()["indexNames"], ["AWS_Things", "AWS_ThingGroups"])
        d = self.iot.describe_index(indexName="AWS_Things")
        self.assertEqual((d["indexStatus"], d["schema"]), ("ACTIVE", "REGISTRY_AND_CONNECTIVITY_STATUS"))
        self.assertEqual(self.iot.describe_index(indexName="AWS_ThingGroups")["schema"], "THING_GROUPS")

    def test_configuration_validation(self):
        iot = self.iot
        for cfg, needle in (
                ({"thingIndexingMode": "OFF", "thingConnectivityIndexingMode": "STATUS"}, "thingConnectivityIndexingMode"),
                ({"thingIndexingMode": "REGISTRY", "namedShadowIndexingMode": "ON"}, "namedShadowIndexingMode"),
                ({"thingIndexingMode": "REGISTRY", "customFields": [{"name": "attributes.a", "type": "Number"},
                                                                    {"name": "attributes.a", "type": "String"}]},
                 "given twice"),
                ({"thingIndexingMode": "REGISTRY", "customFields": [{"name": "thingName", "type": "String"}]},
                 "managed field"),
                ({"thingIndexingMode": "REGISTRY", "customFields": [{"name": "attributes.a"}]}, "type"),
                ({"thingIndexingMode": "SOMETIMES"}, "thingIndexingMode")):
            code, msg = err(iot.update_indexing_configuration, thingIndexingConfiguration=cfg)
            self.assertEqual(code, "InvalidRequestException", cfg)
            self.assertIn(needle, msg, cfg)
        # nothing changed
        self.assertEqual(iot.get_indexing_configuration()["thingIndexingConfiguration"]["customFields"],
                         [{"name": "attributes.temp", "type": "Number"}])

    # ---- SearchIndex: the query corpus ----

    def corpus(self):
        f = self.fleet
        one = f[42]
        conn_ts = T0 + 1500
        return [
            ("thingName:%s" % one["name"], lambda t: t["name"] == one["name"]),
            ("thingName:sensor*", lambda t: t["name"].startswith("sensor")),
            ("thingName:*7", lambda t: t["name"].endswith("7")),
            ("thingName:*-01*", lambda t: "-01" in t["name"]),
            ("thingName:dev-00?4", lambda t: t["name"].startswith("dev-00") and len(t["name"]) == 8
             and t["name"].endswith("4")),
            ('thingName:"%s"' % one["name"], lambda t: t["name"] == one["name"]),
            ("thingId:%s" % one["id"], lambda t: t["name"] == one["name"]),
            ('attributes.site:"north-east"', lambda t: t["attrs"].get("site") == "north-east"),
            ("attributes.site:north", lambda t: t["attrs"].get("site") == "north"),
            ("attributes.site:north*", lambda t: t["attrs"].get("site", "").startswith("north")),
            ("attributes.temp:[20 TO 30]", lambda t: num(t["attrs"].get("temp")) is not None
             and 20 <= num(t["attrs"]["temp"]) <= 30),
            ("attributes.temp:{20 TO 30}", lambda t: num(t["attrs"].get("temp")) is not None
             and 20 < num(t["attrs"]["temp"]) < 30),
            ("attributes.temp:[20 TO 30}", lambda t: num(t["attrs"].get("temp")) is not None
             and 20 <= num(t["attrs"]["temp"]) < 30),
            ("attributes.temp:[* TO 10]", lambda t: num(t["attrs"].get("temp")) is not None
             and num(t["attrs"]["temp"]) <= 10),
            ("attributes.temp:[100 TO *]", lambda t: num(t["attrs"].get("temp")) is not None
             and num(t["attrs"]["temp"]) >= 100),
            ("attributes.temp>100", lambda t: num(t["attrs"].get("temp")) is not None and num(t["attrs"]["temp"]) > 100),
            ("attributes.temp>=100", lambda t: num(t["attrs"].get("temp")) is not None
             and num(t["attrs"]["temp"]) >= 100),
            ("attributes.temp<5", lambda t: num(t["attrs"].get("temp")) is not None and num(t["attrs"]["temp"]) < 5),
            ("attributes.temp<=5", lambda t: num(t["attrs"].get("temp")) is not None and num(t["attrs"]["temp"]) <= 5),
            ("attributes.temp:42", lambda t: num(t["attrs"].get("temp")) == 42),
            ("attributes.temp:42.5", lambda t: num(t["attrs"].get("temp")) == 42.5),
            ("attributes.model:[m10 TO m20]", lambda t: "m10" <= t["attrs"].get("model", "") <= "m20"),
            ("attributes.model>m35", lambda t: t["attrs"].get("model", "") > "m35"),
            ("attributes.fw:1.2*", lambda t: t["attrs"].get("fw", "").startswith("1.2")),
            ("attributes.fw:*", lambda t: "fw" in t["attrs"]),
            ("NOT attributes.model:*", lambda t: "model" not in t["attrs"]),
            ("thingTypeName:Sensor", lambda t: t["type"] == "Sensor"),
            ("thingTypeName:Light*", lambda t: (t["type"] or "").startswith("Light")),
            ("NOT thingTypeName:Sensor", lambda t: t["type"] != "Sensor"),
            ("thingTypeName:Sensor AND attributes.site:north", lambda t: t["type"] == "Sensor"
             and t["attrs"].get("site") == "north"),
            ("thingTypeName:Sensor attributes.site:south", lambda t: t["type"] == "Sensor"
             and t["attrs"].get("site") == "south"),
            ("thingTypeName:Sensor OR thingTypeName:Gateway", lambda t: t["type"] in ("Sensor", "Gateway")),
            ("(thingTypeName:Sensor OR thingTypeName:Gateway) AND NOT attributes.site:north",
             lambda t: t["type"] in ("Sensor", "Gateway") and t["attrs"].get("site") != "north"),
            ("thingTypeName:Sensor OR thingTypeName:Gateway AND attributes.site:east",
             lambda t: t["type"] == "Sensor" or (t["type"] == "Gateway" and t["attrs"].get("site") == "east")),
            ("NOT (thingName:dev* OR thingName:gw*) AND attributes.temp<50",
             lambda t: not t["name"].startswith(("dev", "gw")) and num(t["attrs"].get("temp")) is not None
             and num(t["attrs"]["temp"]) < 50),
            ("thingGroupNames:g-a", lambda t: "g-a" in t["groups"]),
            ("thingGroupNames:g-a-*", lambda t: "g-a-child" in t["groups"]),
            ("thingGroupNames:g-b AND thingGroupNames:g-c", lambda t: "g-b" in t["groups"] and "g-c" in t["groups"]),
            ("NOT thingGroupNames:*", lambda t: not t["groups"]),
            ("registry.version:2", lambda t: t["version"] == 2),
            ("registry.version>1", lambda t: t["version"] > 1),
            ("registry.version:[1 TO 2]", lambda t: 1 <= t["version"] <= 2),
            ("connectivity.connected:true", lambda t: bool(t["conn"]) and t["conn"][0] == "connect"),
            ("connectivity.connected:false", lambda t: not t["conn"] or t["conn"][0] == "disconnect"),
            ("connectivity.disconnectReason:SERVER_INITIATED_DISCONNECT",
             lambda t: bool(t["conn"]) and t["conn"][2] == "SERVER_INITIATED_DISCONNECT"),
            ("connectivity.timestamp>%d" % conn_ts, lambda t: bool(t["conn"]) and t["conn"][1] > conn_ts),
            ("connectivity.connected:true AND thingTypeName:LightBulb AND attributes.temp:[50 TO *]",
             lambda t: bool(t["conn"]) and t["conn"][0] == "connect" and t["type"] == "LightBulb"
             and num(t["attrs"].get("temp")) is not None and num(t["attrs"]["temp"]) >= 50),
        ]

    def test_query_corpus(self):
        for query, pred in self.corpus():
            with self.subTest(query=query):
                docs, _ = self.search_all(query)
                got = [d["thingName"] for d in docs]
                self.assertEqual(got, self.expect(pred))

    def test_every_construct_has_matches(self):
        # a corpus entry matching nothing (or everything) would test little
        for query, pred in self.corpus():
            n = len(self.expect(pred))
            self.assertGreater(n, 0, query)
            self.assertLess(n, N_THINGS, query)

    def test_document_shape(self):
        by = {t["name"]: t for t in self.fleet}
        docs, _ = self.search_all("thingName:dev-00*")
        self.assertEqual(len(docs), 25)
        for d in docs:
            t = by[d["thingName"]]
            self.assertEqual(d["thingId"], t["id"])
            self.assertEqual(d.get("thingTypeName"), t["type"])
            self.assertEqual(d.get("thingGroupNames", []), t["groups"])
            self.assertEqual(d.get("attributes", {}), t["attrs"])
            c = d["connectivity"]
            if t["conn"]:
                self.assertEqual(c["connected"], t["conn"][0] == "connect")
                self.assertEqual(c["timestamp"], t["conn"][1])
                self.assertEqual(c.get("disconnectReason"), t["conn"][2])
            else:
                self.assertEqual(c, {"connected": False})
            self.assertNotIn("shadow", d)

    def test_paging(self):
        docs, pages = self.search_all("thingName:*", page=100)
        self.assertEqual(pages, N_THINGS // 100)
        self.assertEqual([d["thingName"] for d in docs], sorted(t["name"] for t in self.fleet))
        docs, pages = self.search_all("thingTypeName:Sensor", page=37)
        self.assertEqual([d["thingName"] for d in docs], self.expect(lambda t: t["type"] == "Sensor"))
        self.assertEqual(pages, math.ceil(len(docs) / 37))
        r = self.iot.search_index(queryString="thingName:*")  # default page and default index
        self.assertEqual(len(r["things"]), 100)
        self.assertIn("nextToken", r)
        code, msg = err(self.iot.search_index, queryString="thingName:*", maxResults=101)
        self.assertEqual(code, "InvalidRequestException")
        self.assertIn("maxResults", msg)
        code, _ = err(self.iot.search_index, queryString="thingName:*", nextToken="not-a-token")
        self.assertEqual(code, "InvalidRequestException")

    def test_invalid_queries(self):
        for query, needle in (
                ("thingName:", "expected a value"),
                ('thingName:"abc', "unterminated quoted value"),
                ("(thingName:a", "expected ')'"),
                ("thingName:a)", "unbalanced ')'"),
                ("attributes.temp:[1 TO", "expected a value"),
                ("attributes.temp:[1 20]", "expected TO"),
                ("attributes.temp:abc", "attributes.temp is a number"),
                ("attributes.temp:4*", "attributes.temp is a number"),
                ("connectivity.connected:maybe", "is a boolean"),
                ("connectivity.connected>1", "is a boolean"),
                ("shadow.reported.color:red", "not indexed"),
                ("deviceDefender.violations:1", "not indexed"),
                ("color:red", "color is not a field of index AWS_Things"),
                ("thingName:a AND", "expected a term after AND"),
                ("OR thingName:a", "expected a term before OR"),
                ("thingName", "expected ':' or a comparison after field thingName"),
                ("(" * 40 + "thingName:a" + ")" * 40, "nested more than 32"),
                ("thingName:" + "a" * 5000, "longer than 4096"),
                (" OR ".join("thingName:t%d" % i for i in range(130)), "more than 128 terms")):
            with self.subTest(query=query[:60]):
                for fn in (self.iot.search_index, self.iot.get_statistics):
                    code, msg = err(fn, queryString=query)
                    self.assertEqual(code, "InvalidQueryException")
                    self.assertIn(needle, msg)
                    self.assertIn("Invalid query", msg)
        p = self.srv.aws("iot", "search-index", "--query-string", "thingName:", v2=True, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidQueryException", p.stderr)

    def test_depth_and_terms_within_bounds(self):
        q = "(" * 32 + "thingName:dev-0000" + ")" * 32
        self.assertEqual([d["thingName"] for d in self.iot.search_index(queryString=q)["things"]], ["dev-0000"])
        q = " OR ".join("thingName:dev-%04d" % i for i in range(0, 512, 4))  # 128 terms
        docs, _ = self.search_all(q)
        self.assertEqual(len(docs), 128)

    # ---- aggregations ----

    def temps(self, pred):
        return [num(t["attrs"]["temp"]) for t in self.fleet if pred(t) and num(t["attrs"].get("temp")) is not None]

    def test_statistics(self):
        pred = lambda t: t["type"] == "Sensor"
        v = self.temps(pred)
        s = self.iot.get_statistics(queryString="thingTypeName:Sensor", aggregationField="attributes.temp")["statistics"]
        n = len(v)
        mean = sum(v) / n
        var = sum(x * x for x in v) / n - mean * mean
        self.assertEqual(s["count"], n)
        self.assertAlmostEqual(s["sum"], sum(v), places=6)
        self.assertAlmostEqual(s["average"], mean, places=9)
        self.assertEqual((s["minimum"], s["maximum"]), (min(v), max(v)))
        self.assertAlmostEqual(s["sumOfSquares"], sum(x * x for x in v), places=4)
        self.assertAlmostEqual(s["variance"], var, places=6)
        self.assertAlmostEqual(s["stdDeviation"], math.sqrt(var), places=6)
        # no field: the count of matching things; a string field: the count of things having it
        self.assertEqual(self.iot.get_statistics(queryString="thingTypeName:Sensor")["statistics"],
                         {"count": len(self.expect(pred))})
        self.assertEqual(self.iot.get_statistics(queryString="thingTypeName:Sensor",
                                                 aggregationField="attributes.site")["statistics"],
                         {"count": len(self.expect(lambda t: pred(t) and "site" in t["attrs"]))})
        self.assertEqual(self.iot.get_statistics(queryString="registry.version:3",
                                                 aggregationField="registry.version")["statistics"]["sum"],
                         3.0 * len(self.expect(lambda t: t["version"] == 3)))

    def test_cardinality(self):
        c = self.iot.get_cardinality(queryString="thingName:lamp*", aggregationField="attributes.model")["cardinality"]
        self.assertEqual(c, len({t["attrs"]["model"] for t in self.fleet
                                 if t["name"].startswith("lamp") and "model" in t["attrs"]}))
        c = self.iot.get_cardinality(queryString="thingName:*", aggregationField="thingGroupNames")["cardinality"]
        self.assertEqual(c, 4)

    def test_percentiles(self):
        v = self.temps(lambda t: t["name"].startswith("gw"))
        ps = [0, 1, 10, 25, 50, 75, 90, 99.5, 100]
        r = self.iot.get_percentiles(queryString="thingName:gw*", aggregationField="attributes.temp",
                                     percents=ps)["percentiles"]
        self.assertEqual([x["percent"] for x in r], ps)
        for x, p in zip(r, ps):
            self.assertAlmostEqual(x["value"], percentile(v, p), places=9)
        r = self.iot.get_percentiles(queryString="thingName:gw*", aggregationField="attributes.temp")["percentiles"]
        self.assertEqual([x["percent"] for x in r], [1, 5, 25, 50, 75, 95, 99])
        self.assertEqual(self.iot.get_percentiles(queryString="thingName:nothing*", aggregationField="attributes.temp",
                                                  percents=[50])["percentiles"], [])

    def test_buckets(self):
        r = self.iot.get_buckets_aggregation(queryString="thingTypeName:Gateway", aggregationField="attributes.site",
                                             bucketsAggregationType={"termsAggregation": {"maxBuckets": 3}})
        matched = self.expect(lambda t: t["type"] == "Gateway")
        counts = {}
        for t in self.fleet:
            if t["type"] == "Gateway" and "site" in t["attrs"]:
                counts[t["attrs"]["site"]] = counts.get(t["attrs"]["site"], 0) + 1
        want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        self.assertEqual(r["totalCount"], len(matched))
        self.assertEqual([(b["keyValue"], b["count"]) for b in r["buckets"]], want)
        r = self.iot.get_buckets_aggregation(queryString="thingName:*", aggregationField="connectivity.connected",
                                             bucketsAggregationType={"termsAggregation": {"maxBuckets": 10}})
        up = len(self.expect(lambda t: bool(t["conn"]) and t["conn"][0] == "connect"))
        self.assertEqual({b["keyValue"]: b["count"] for b in r["buckets"]}, {"true": up, "false": N_THINGS - up})

    def test_aggregation_errors(self):
        iot = self.iot
        code, msg = err(iot.get_percentiles, queryString="thingName:*", aggregationField="attributes.site", percents=[50])
        self.assertEqual(code, "InvalidAggregationException")
        self.assertIn("Number", msg)
        code, msg = err(iot.get_statistics, queryString="thingName:*", aggregationField="shadow.reported.x")
        self.assertEqual(code, "InvalidAggregationException")
        self.assertIn("not indexed", msg)
        code, _ = err(iot.get_cardinality, queryString="thingName:*")
        self.assertEqual(code, "InvalidAggregationException")
        code, _ = err(self.srv.client("iot", validate=False).get_buckets_aggregation, queryString="thingName:*",
                      aggregationField="attributes.site",
                      bucketsAggregationType={"termsAggregation": {"maxBuckets": 0}})
        self.assertEqual(code, "InvalidRequestException")
        code, _ = err(iot.get_statistics, indexName="NoSuchIndex", queryString="thingName:*")
        self.assertEqual(code, "ResourceNotFoundException")

    # ---- thing groups index ----

    def test_thing_groups_index(self):
        docs, _ = self.search_all("thingGroupName:g-*", index="AWS_ThingGroups")
        self.assertEqual([d["thingGroupName"] for d in docs], ["g-a", "g-a-child", "g-b", "g-c"])
        by = {d["thingGroupName"]: d for d in docs}
        self.assertEqual(by["g-a-child"]["parentGroupNames"], ["g-a"])
        self.assertEqual(by["g-b"]["thingGroupDescription"], "group g-b")
        self.assertEqual(by["g-b"]["attributes"], {"tier": "b"})
        self.assertNotIn("parentGroupNames", by["g-b"])
        docs, _ = self.search_all("parentGroupNames:g-a", index="AWS_ThingGroups")
        self.assertEqual([d["thingGroupName"] for d in docs], ["g-a-child"])
        docs, _ = self.search_all("attributes.tier:[b TO c] AND NOT thingGroupDescription:*c", index="AWS_ThingGroups")
        self.assertEqual([d["thingGroupName"] for d in docs], ["g-b"])
        code, msg = err(self.iot.search_index, indexName="AWS_ThingGroups", queryString="thingName:x")
        self.assertEqual(code, "InvalidQueryException")
        self.assertIn("AWS_ThingGroups", msg)

    # ---- dynamic thing groups: the same grammar ----

    def test_dynamic_groups_share_the_grammar(self):
        iot = self.iot
        q = "thingName:sensor-0* AND attributes.temp:[20 TO 60} AND NOT attributes.site:\"north-east\""
        iot.create_dynamic_thing_group(thingGroupName="dyn-warm", queryString=q)
        try:
            members, token = [], None
            while True:
                kw = {"thingGroupName": "dyn-warm", "maxResults": 250}
                if token:
                    kw["nextToken"] = token
                r = iot.list_things_in_thing_group(**kw)
                members += r["things"]
                token = r.get("nextToken")
                if not token:
                    break
            want = self.expect(lambda t: t["name"].startswith("sensor-0") and num(t["attrs"].get("temp")) is not None
                               and 20 <= num(t["attrs"]["temp"]) < 60 and t["attrs"].get("site") != "north-east")
            self.assertEqual(sorted(members), want)
            self.assertGreater(len(want), 10)
            # the dynamic group is a thing group of its members in the index too
            docs, _ = self.search_all("thingGroupNames:dyn-warm")
            self.assertEqual([d["thingName"] for d in docs], want)
            # SearchIndex and the dynamic group agree on the same query
            docs, _ = self.search_all(q)
            self.assertEqual([d["thingName"] for d in docs], want)
        finally:
            iot.delete_dynamic_thing_group(thingGroupName="dyn-warm")
        code, msg = err(iot.create_dynamic_thing_group, thingGroupName="dyn-bad",
                        queryString="connectivity.connected:true")
        self.assertEqual(code, "InvalidQueryException")
        self.assertIn("cannot be used in a dynamic thing group query", msg)
        code, msg = err(iot.create_dynamic_thing_group, thingGroupName="dyn-bad", queryString='thingName:"a')
        self.assertEqual(code, "InvalidQueryException")

    # ---- isolation ----

    def test_account_and_region_isolation(self):
        bob = self.srv.client("iot", 1)
        code, _ = err(bob.search_index, queryString="thingName:*")
        self.assertEqual(code, "ResourceNotFoundException")
        bob.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
        bob.create_thing(thingName="bob-1", attributePayload={"attributes": {"site": "north"}})
        self.assertEqual([d["thingName"] for d in bob.search_index(queryString="attributes.site:north")["things"]],
                         ["bob-1"])
        # bob's configuration has no connectivity: its fields are not indexed for bob
        code, msg = err(bob.search_index, queryString="connectivity.connected:true")
        self.assertEqual(code, "InvalidQueryException")
        self.assertIn("thingConnectivityIndexingMode is OFF", msg)
        west = self.srv.client("iot", 0, region="us-west-2")
        code, _ = err(west.search_index, queryString="thingName:*")
        self.assertEqual(code, "ResourceNotFoundException")
        self.assertEqual(west.get_indexing_configuration()["thingIndexingConfiguration"]["thingIndexingMode"], "OFF")
        west.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
        west.create_thing(thingName="west-1")
        self.assertEqual([d["thingName"] for d in west.search_index(queryString="thingName:*")["things"]], ["west-1"])
        self.assertEqual(self.iot.get_statistics(queryString="thingName:*")["statistics"]["count"], N_THINGS)


class ShippedExamplesTest(unittest.TestCase):
    """The aws CLI's shipped examples for these commands (their outputs are AWS's own),
    through the aws CLI v2, on a server of their own."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def aws(self, *args):
        return self.srv.aws("iot", *args, v2=True)

    def test_examples(self):
        # get-indexing-configuration.rst: the default configuration
        self.assertEqual(self.aws("get-indexing-configuration"), {
            "thingIndexingConfiguration": {"thingIndexingMode": "OFF", "thingConnectivityIndexingMode": "OFF"},
            "thingGroupIndexingConfiguration": {"thingGroupIndexingMode": "OFF"}})
        # update-indexing-configuration.rst: no output
        self.assertIsNone(self.aws("update-indexing-configuration", "--thing-indexing-configuration",
                                   "thingIndexingMode=REGISTRY_AND_SHADOW,thingConnectivityIndexingMode=STATUS"))
        # search-index.rst: things of type LightBulb, in the example's shape
        self.aws("create-thing-type", "--thing-type-name", "LightBulb")
        for g in ("LightBulbs", "DeadBulbs"):
            self.aws("create-thing-group", "--thing-group-name", g)
        for name in ("MyLightBulb", "ThirdBulb", "MyOtherLightBulb"):
            self.aws("create-thing", "--thing-name", name, "--thing-type-name", "LightBulb",
                     "--attribute-payload", "attributes={model=123,wattage=75}")
        self.aws("create-thing", "--thing-name", "NotABulb")
        for g in ("LightBulbs", "DeadBulbs"):
            self.aws("add-thing-to-thing-group", "--thing-group-name", g, "--thing-name", "MyLightBulb")
        out = self.aws("search-index", "--index-name", "AWS_Things", "--query-string", "thingTypeName:LightBulb")
        things = {t["thingName"]: t for t in out["things"]}
        self.assertEqual(sorted(things), ["MyLightBulb", "MyOtherLightBulb", "ThirdBulb"])
        t = dict(things["MyLightBulb"])
        t.pop("thingId")
        self.assertEqual(t, {"thingName": "MyLightBulb", "thingTypeName": "LightBulb",
                             "thingGroupNames": ["DeadBulbs", "LightBulbs"],
                             "attributes": {"model": "123", "wattage": "75"}, "connectivity": {"connected": False}})
        self.assertNotIn("thingGroupNames", things["ThirdBulb"])
        # get-statistics.rst: the number of things not connected
        for i in range(2):
            self.aws("create-thing", "--thing-name", "Extra%d" % i)
        self.assertEqual(self.aws("get-statistics", "--index-name", "AWS_Things", "--query-string",
                                  "connectivity.connected:false"), {"statistics": {"count": 6}})
        # get-cardinality.rst and get-percentiles.rst: the ten temperature sensors
        temps = [70, 71, 72, 73, 74, 75, 47, 97, 98, 99]
        racks = ["Rack1", "Rack1", "Rack2", "Rack2", "Rack3", "Rack4", "Rack5", "Rack6", "Rack6", "Rack6"]
        normal = ["true"] * 6 + ["false"] * 4
        for i in range(10):
            self.aws("create-thing", "--thing-name", "TempSensor%d" % i, "--attribute-payload",
                     "attributes={temperature=%d,rackId=%s,stateNormal=%s}" % (temps[i], racks[i], normal[i]))
        self.assertEqual(self.aws("get-cardinality", "--aggregation-field", "attributes.rackId", "--query-string",
                                  "thingName:TempSensor* AND attributes.stateNormal:false"), {"cardinality": 2})
        self.aws("update-indexing-configuration", "--thing-indexing-configuration", json.dumps({
            "thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS",
            "customFields": [{"name": "attributes.temperature", "type": "Number"}]}))
        out = self.aws("get-percentiles", "--aggregation-field", "attributes.temperature", "--query-string",
                       "thingName:TempSensor*", "--percents", "10", "25", "50", "75", "90")
        got = [(p["percent"], round(p["value"], 9)) for p in out["percentiles"]]
        self.assertEqual(got, [(10.0, 67.7), (25.0, 71.25), (50.0, 73.5), (75.0, 91.5), (90.0, 98.1)])
        # buckets (no shipped example): the racks of the sensors
        out = self.aws("get-buckets-aggregation", "--query-string", "thingName:TempSensor*", "--aggregation-field",
                       "attributes.rackId", "--buckets-aggregation-type", "termsAggregation={maxBuckets=2}")
        self.assertEqual(out, {"totalCount": 10, "buckets": [{"keyValue": "Rack6", "count": 3},
                                                              {"keyValue": "Rack1", "count": 2}]})
        # shadows are not kept: their fields are answered as not indexed
        p = self.srv.aws("iot", "search-index", "--query-string", "shadow.reported.color:red", v2=True, check=False)
        self.assertIn("InvalidQueryException", p.stderr)
        self.assertIn("not indexed", p.stderr)
        # turning the index OFF removes it
        self.aws("update-indexing-configuration", "--thing-indexing-configuration", "thingIndexingMode=OFF")
        p = self.srv.aws("iot", "search-index", "--query-string", "thingName:*", v2=True, check=False)
        self.assertIn("ResourceNotFoundException", p.stderr)
        self.assertIn("Index AWS_Things does not exist", p.stderr)


if __name__ == "__main__":
    unittest.main()
