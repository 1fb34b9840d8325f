#!/usr/bin/env python3
"""Registry throughput with one and with two `serve` instances on one store, side by side,
on SQLite (one data directory, --shared-data-dir) and on PostgreSQL (one database,
--store), driven by the C load generator (dd_loadgen), every request SigV4-signed,
keep-alive connections:
  1. the mixed workload (CreateThing + DescribeThing + ListThings): writes serialize on
     the store's one writer, across processes too (SQLite's file lock, PostgreSQL's
     advisory lock);
  2. DescribeThing only (reads: each instance reads with its own connections).
The same total client load every time: BENCH_THREADS load-generator connections against
the single instance, half of them against each of the two instances, at once. Prints requests/s
(the sum over the instances), the servers' CPU time per request and, on PostgreSQL, the
database server's (its backends') CPU time, transactions (a statement outside a
transaction is one: roughly the round trips) and WAL bytes per request. The 1M-device
audit with one and two instances is bench_audit's.

PostgreSQL: BENCH_PG_URL names a server whose role may CREATE DATABASE (each run gets a
fresh database, dropped after); unset, a temporary cluster is started with
scripts/pg_tmp.sh in a temporary directory when /usr/lib/postgresql/15/bin exists (and
stopped at the end), else the PostgreSQL columns are skipped, saying why.

env: IOTDEFENDER_BIN, DD_LOADGEN, BENCH_ITERATIONS (default 2000 per thread),
BENCH_DESCRIBE_ITERATIONS (default 5000 per thread), BENCH_THREADS (default 4),
BENCH_PG_URL, PG_BINDIR."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
sys.path.insert(0, HERE)
import ddserver  # noqa: E402
from bench_api import loadgen, cpu_seconds  # noqa: E402

PG_TMP = os.path.join(HERE, "..", "scripts", "pg_tmp.sh")


def pg_cpu(pg_pid):
    """CPU seconds of the PostgreSQL server: the postmaster and its children now running
    (the servers' backends live as long as their connections, i.e. the whole run)."""
    if not pg_pid:
        return 0.0
    total = cpu_seconds(pg_pid)
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pg_pid:
            total += cpu_seconds(int(p))
    return total


def pg_counters(data_dir):
    """(transactions committed or rolled back, WAL position in bytes) of data_dir's
    database; (0, 0) on SQLite. A backend's statistics reach pg_stat_database within a
    second while it works, within 10 s once idle (PostgreSQL 15): the caller waits 11 s."""
    if not ddserver.ON_PG:
        return 0, 0
    out = ddserver._psql(ddserver.store_url(data_dir),
                         "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database();"
                         " SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint;")
    xacts, wal = out.split()
    return int(xacts), int(wal)


def run(servers, threads, iters, prefix, mode, pg_pid=None):
    """Loadgens against every server at once (threads split between them): (requests/s
    summed, requests, server CPU us per request, database server CPU us per request,
    database transactions per request, WAL bytes per request)."""
    per = max(1, threads // len(servers))
    out = [None] * len(servers)
    if ddserver.ON_PG:
        time.sleep(11)
    x0, w0 = pg_counters(servers[0].data_dir)
    c0 = [cpu_seconds(s.proc.pid) for s in servers]
    p0 = pg_cpu(pg_pid)

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
    pcpu = pg_cpu(pg_pid) - p0
    n = sum(o[1] for o in out)
    if ddserver.ON_PG:
        time.sleep(11)
    x1, w1 = pg_counters(servers[0].data_dir)
    return (sum(o[0] for o in out), n, 1e6 * cpu / max(n, 1), 1e6 * pcpu / max(n, 1), (x1 - x0) / max(n, 1),
            (w1 - w0) / max(n, 1))


def measure(ninst, threads, iters, d_iters, pg_pid=None):
    d = tempfile.mkdtemp(prefix="ddbench-inst-")
    servers = []
    try:
        for i in range(ninst):
            servers.append(ddserver.Server(d, extra_args=["--shared-data-dir"], log_name="serve-%d.log" % i).start())
        run(servers, threads, 50, "warm", "mixed")
        mixed = run(servers, threads, iters, "bench", "mixed", pg_pid)
        run(servers, threads, 200, "dwarm", "describe")
        desc = run(servers, threads, d_iters, "dbench", "describe", pg_pid)
        return mixed, desc
    finally:
        for s in servers:
            s.stop()
        ddserver.drop_store(d)
        shutil.rmtree(d, ignore_errors=True)


def pg_start():
    """(url, postmaster pid or None, cleanup) or (None, reason, None)."""
    url = os.environ.get("BENCH_PG_URL")
    if url:
        return url, None, lambda: None
    bindir = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
    if not os.path.exists(os.path.join(bindir, "initdb")):
        return None, "BENCH_PG_URL is unset and %s has no initdb (scripts/setup.sh installs postgresql-15)" % bindir, None
    d = tempfile.mkdtemp(prefix="ddbench-pg-")
    p = subprocess.run([PG_TMP, "start", d], capture_output=True, text=True, timeout=180)
    if p.returncode != 0:
        shutil.rmtree(d, ignore_errors=True)
        return None, "scripts/pg_tmp.sh start failed: %s" % p.stderr.strip()[-400:], None

    def stop():
        subprocess.run([PG_TMP, "stop", d], capture_output=True, text=True, timeout=180)
        shutil.rmtree(d, ignore_errors=True)
    pid = None
    try:
        with open(os.path.join(os.path.realpath(os.path.join(d, "data")), "postmaster.pid")) as f:
            pid = int(f.readline())
    except (OSError, ValueError):
        pass
    return p.stdout.strip(), pid, stop


def main():
    threads = int(os.environ.get("BENCH_THREADS", "4"))
    iters = int(os.environ.get("BENCH_ITERATIONS", "2000"))
    d_iters = int(os.environ.get("BENCH_DESCRIBE_ITERATIONS", "5000"))
    load0 = os.getloadavg()
    results = {}
    ddserver.STORE, ddserver.ON_PG = None, False
    for ninst in (1, 2):
        results[("sqlite", ninst)] = measure(ninst, threads, iters, d_iters)
    url, pg_pid, stop = pg_start()
    pg_skip = None
    if url is None:
        pg_skip = pg_pid
    else:
        try:
            ddserver.STORE, ddserver.ON_PG = url, True
            for ninst in (1, 2):
                results[("pg", ninst)] = measure(ninst, threads, iters, d_iters, pg_pid)
        finally:
            ddserver.STORE, ddserver.ON_PG = None, False
            stop()
    load1 = os.getloadavg()
    cols = [("sqlite", 1), ("sqlite", 2)] + ([("pg", 1), ("pg", 2)] if not pg_skip else [])
    names = {("sqlite", 1): "SQLite, one", ("sqlite", 2): "SQLite, two", ("pg", 1): "PostgreSQL, one",
             ("pg", 2): "PostgreSQL, two"}
    print(("%-30s" % ("registry, %d connections" % threads)) + "".join("%17s" % names[c] for c in cols))
    for label, idx in (("mixed requests/s", 0), ("DescribeThing requests/s", 1)):
        print(("%-30s" % label) + "".join("%17.0f" % results[c][idx][0] for c in cols))
        print(("%-30s" % "  server CPU us/request") + "".join("%17.0f" % results[c][idx][2] for c in cols))
        if not pg_skip and pg_pid:
            print(("%-30s" % "  PostgreSQL CPU us/request") +
                  "".join("%17s" % ("%.0f" % results[c][idx][3] if c[0] == "pg" else "-") for c in cols))
        if not pg_skip:
            print(("%-30s" % "  PG transactions/request") +
                  "".join("%17s" % ("%.1f" % results[c][idx][4] if c[0] == "pg" else "-") for c in cols))
            print(("%-30s" % "  PG WAL bytes/request") +
                  "".join("%17s" % ("%.0f" % results[c][idx][5] if c[0] == "pg" else "-") for c in cols))
    if pg_skip:
        print("PostgreSQL columns skipped: %s" % pg_skip)
    print("cores: %d (two instances on the same cores share them: they cannot double the figure);"
          " load average %.1f at the start, %.1f at the end" % (os.cpu_count(), load0[0], load1[0]))


if __name__ == "__main__":
    main()
