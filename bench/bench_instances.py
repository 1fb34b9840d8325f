#!/usr/bin/env python3
"""Registry throughput with one and with two `serve` instances on one store (one data
directory, --shared-data-dir), side by side, driven by the C load generator (dd_loadgen),
every request SigV4-signed, keep-alive connections:
  1. the mixed workload (CreateThing + DescribeThing + ListThings): writes serialize on
     the store's one writer, across processes too;
  2. DescribeThing only (reads: each instance reads with its own connections).
The same total client load both times: BENCH_THREADS client threads against the single
instance, half of them against each of the two instances, at once. Prints requests/s
(the sum over the instances) and the servers' CPU time per request. The 1M-device audit
with one and two instances is bench_audit's.

env: IOTDEFENDER_BIN, DD_LOADGEN, BENCH_ITERATIONS (default 2000 per thread),
BENCH_DESCRIBE_ITERATIONS (default 5000 per thread), BENCH_THREADS (default 4)."""
import os
import shutil
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
sys.path.insert(0, HERE)
import ddserver  # noqa: E402
from bench_api import loadgen, cpu_seconds  # noqa: E402


def run(servers, threads, iters, prefix, mode):
    """Loadgens against every server at once (threads split between them): (requests/s
    summed, requests, server CPU us per request)."""
    per = max(1, threads // len(servers))
    out = [None] * len(servers)
    c0 = [cpu_seconds(s.proc.pid) for s in servers]

    def one(i, s):
        k = s.key()
        out[i] = loadgen(s.port, k["aws_access_key_id"], k["aws_secret_access_key"], per, iters,
                         "%s%d" % (prefix, i), mode)
    ts = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(servers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if any(o is None for o in out):
        raise RuntimeError("a load generator failed")
    cpu = sum(cpu_seconds(s.proc.pid) - c for s, c in zip(servers, c0))
    n = sum(o[1] for o in out)
    return sum(o[0] for o in out), n, 1e6 * cpu / max(n, 1)


def main():
    threads = int(os.environ.get("BENCH_THREADS", "4"))
    iters = int(os.environ.get("BENCH_ITERATIONS", "2000"))
    d_iters = int(os.environ.get("BENCH_DESCRIBE_ITERATIONS", "5000"))
    results = {}
    for ninst in (1, 2):
        d = tempfile.mkdtemp(prefix="ddbench-inst-")
        servers = []
        try:
            for i in range(ninst):
                servers.append(ddserver.Server(d, extra_args=["--shared-data-dir"], log_name="serve-%d.log" % i).start())
            run(servers, threads, 50, "warm", "mixed")
            mixed = run(servers, threads, iters, "bench", "mixed")
            run(servers, threads, 200, "dwarm", "describe")
            desc = run(servers, threads, d_iters, "dbench", "describe")
            results[ninst] = (mixed, desc)
        finally:
            for s in servers:
                s.stop()
            shutil.rmtree(d, ignore_errors=True)
    print("%-28s %22s %22s" % ("registry, %d client threads" % threads, "one instance", "two instances"))
    for label, idx in (("mixed requests/s", 0), ("DescribeThing requests/s", 1)):
        one, two = results[1][idx], results[2][idx]
        print("%-28s %22.0f %22.0f   (x%.2f)" % (label, one[0], two[0], two[0] / max(one[0], 1e-9)))
        print("%-28s %22.0f %22.0f" % ("  server CPU us/request", one[2], two[2]))
    print("cores: %d (two instances on the same cores share them: they cannot double the figure)"
          % os.cpu_count())


if __name__ == "__main__":
    main()
