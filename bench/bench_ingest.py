#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Connection-event ingestion: how many events per second the server stores through the
route the broker plugin's writer uses (POST /connection-events, one transaction per
batch), as the table grows. Starts the real server on 127.0.0.1 (IOTDEFENDER_BIN, as the
integration tests) on a fresh store and posts BENCH_INGEST_EVENTS events (default
200,000) in batches of BENCH_INGEST_BATCH (default 1,000) from one client: 2,000 client
ids, each connecting and disconnecting in turn with its own certificate, timestamps
ascending. Prints the events per second of the whole run and of its first and last
tenth, and checks the count stored.

usage: bench_ingest.py  (env: IOTDEFENDER_BIN, BENCH_INGEST_EVENTS, BENCH_INGEST_BATCH)"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))

from ddserver import Server, query  # noqa: E402
from auditfleet import post_events  # noqa: E402

CLIENTS = 2000


def batch_events(start, n):
    out = []
    for j in range(start, start + n):
        c = j % CLIENTS
        out.append({"event": "connect" if (j // CLIENTS) % 2 == 0 else "disconnect",
                    "clientId": "dev-%05d" % c, "certificateId": "%064x" % (c + 1),
                    "timestamp": 1_700_000_000_000 + j, "sourceIp": "10.0.0.1"})
    return out


def main():
    total = int(os.environ.get("BENCH_INGEST_EVENTS", "200000"))
    per = int(os.environ.get("BENCH_INGEST_BATCH", "1000"))
    if not 1 <= per <= 10000 or total < 10 * per:
        raise SystemExit("bench_ingest: BENCH_INGEST_BATCH must be 1..10000 and BENCH_INGEST_EVENTS at least"
                         " ten batches (the first and last tenth are timed)")
    bodies = []
    for start in range(0, total, per):
        bodies.append(batch_events(start, min(per, total - start)))
    srv = Server()
    try:
        srv.start()
        times = []
        t0 = time.monotonic()
        for evs in bodies:
            status, out = post_events(srv, evs)
            if status != 200 or out.get("accepted") != len(evs):
                raise SystemExit("bench_ingest: batch refused: %s %s" % (status, out))
            times.append(time.monotonic())
        wall = times[-1] - t0
        stored = query(srv.data_dir, "SELECT count(*) FROM connection_events")[0][0]
        if stored != total:
            raise SystemExit("bench_ingest: %d events stored, %d posted" % (stored, total))
        tenth = max(1, len(times) // 10)
        first = (tenth * per) / (times[tenth - 1] - t0)
        last = (tenth * per) / (times[-1] - times[-1 - tenth])
        print("ingest: %d events in batches of %d: %.1f s, %.0f events/s (first tenth %.0f/s, last tenth %.0f/s)"
              % (total, per, wall, total / wall, first, last))
    finally:
        srv.cleanup()


if __name__ == "__main__":
    main()
