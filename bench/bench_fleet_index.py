#!/usr/bin/env python3
"""Fleet indexing latency: SearchIndex and GetStatistics evaluated in C over a scan of the
store (src/core/registry/dd_index.c), on a fleet built through the API (BENCH_THINGS
things, default 3000, each in 0-2 of 3 groups, a third of them connected). Prints the
median and p90 wall time per call and the server's CPU time per call (from /proc: steadier
than wall time on a shared machine), over BENCH_ROUNDS calls (default 30), of: a selective
query, the first page of a match-all query, a query that matches nothing (a full scan that
returns nothing), GetStatistics over every thing, each with connectivity indexing OFF and
STATUS (STATUS reads each thing's last connection event); and ListThings' first page of
100 as the registry's baseline. Run under `nice -n 19` on a shared machine.

env: IOTDEFENDER_BIN, BENCH_THINGS, BENCH_ROUNDS."""
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
import ddserver  # noqa: E402
from auditfleet import post_events  # noqa: E402

N = int(os.environ.get("BENCH_THINGS", "3000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))


PID = None


def cpu_ms():
    """User + system CPU time of the server process so far, in ms."""
    with open("/proc/%d/stat" % PID) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def timed(fn, **kw):
    out = []
    c0 = cpu_ms()
    for _ in range(ROUNDS):
        t = time.perf_counter()
        fn(**kw)
        out.append((time.perf_counter() - t) * 1000)
    cpu = (cpu_ms() - c0) / ROUNDS
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.9) - 1], cpu


def main():
    rnd = random.Random(1)
    with ddserver.Server() as srv:
        global PID
        PID = srv.proc.pid
        iot = srv.client("iot")
        for g in ("g-a", "g-b", "g-c"):
            iot.create_thing_group(thingGroupName=g)
        t0 = time.time()
        events = []
        for i in range(N):
            name = "dev-%05d" % i
            iot.create_thing(thingName=name, attributePayload={"attributes": {
                "site": rnd.choice(["north", "south", "east", "west"]), "temp": str(rnd.randrange(120))}})
            for g in ("g-a", "g-b", "g-c"):
                if rnd.random() < 0.3:
                    iot.add_thing_to_thing_group(thingGroupName=g, thingName=name)
            if i % 3 == 0:
                events.append({"event": "connect", "clientId": name, "principal": "p", "timestamp": 1764400000000 + i})
        for k in range(0, len(events), 500):
            post_events(srv, events[k:k + 500])
        print("fleet: %d things built in %.1f s" % (N, time.time() - t0))
        print("ListThings first page of 100: median %.2f ms, p90 %.2f ms, server CPU %.2f ms/call" % timed(iot.list_things, maxResults=100))
        for conn in ("OFF", "STATUS"):
            iot.update_indexing_configuration(thingIndexingConfiguration={
                "thingIndexingMode": "REGISTRY", "thingConnectivityIndexingMode": conn,
                "customFields": [{"name": "attributes.temp", "type": "Number"}]})
            for label, fn, kw in (
                    ("SearchIndex selective (thingName:dev-00042)", iot.search_index, {"queryString": "thingName:dev-00042"}),
                    ("SearchIndex first page of 100 (thingName:*)", iot.search_index, {"queryString": "thingName:*"}),
                    ("SearchIndex no match, full scan", iot.search_index,
                     {"queryString": "attributes.site:nowhere OR (thingGroupNames:g-a AND attributes.temp>1000)"}),
                    ("GetStatistics attributes.temp over all", iot.get_statistics,
                     {"queryString": "thingName:*", "aggregationField": "attributes.temp"})):
                print("connectivity %-6s %-48s median %7.2f ms, p90 %7.2f ms, server CPU %6.2f ms/call" % ((conn, label) + timed(fn, **kw)))


if __name__ == "__main__":
    main()
