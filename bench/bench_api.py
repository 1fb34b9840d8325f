#!/usr/bin/env python3
"""API throughput, iotdefender `serve` against `moto_server`, both on 127.0.0.1, driven by
the C load generator (dd_loadgen), every request SigV4-signed, keep-alive connections:
  1. the mixed workload: CreateThing + DescribeThing + ListThings;
  2. DescribeThing only (issue 12's target: >= 100x moto_server), each thread describing
     one thing it created before the clock started.
Prints requests per second for both servers, the ratio, and the server's CPU time per
request (user + system of the server process, from /proc: a figure that holds up better
than requests/s on a machine shared with other work).

env: IOTDEFENDER_BIN, DD_LOADGEN, BENCH_ITERATIONS (default 2000 per thread for
iotdefender), BENCH_DESCRIBE_ITERATIONS (default 5000 per thread), BENCH_THREADS (default
4), BENCH_MOTO_ITERATIONS (default 150 per thread, both phases)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
import ddserver  # noqa: E402


def same_cpu_share(pid):
    """moto_server runs in a session of its own (so that it can be stopped as a group), and
    Linux schedules each session as a group (sched_autogroup): give its group the nice value
    of ours, so that when this benchmark's session is favoured (see docs/BENCHMARKS.md) moto
    is too, as the iotdefender server in our session is."""
    try:
        with open("/proc/self/autogroup") as f:
            nice = f.read().split()[-1]
        with open("/proc/%d/autogroup" % pid, "w") as f:
            f.write(nice)
    except (OSError, IndexError):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU seconds of process pid so far (0 when unreadable)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def loadgen(port, ak, sk, threads, iters, prefix, mode="mixed"):
    lg = os.environ.get("DD_LOADGEN", os.path.join(HERE, "..", "build", "dd_loadgen"))
    out = subprocess.run([lg, "127.0.0.1", str(port), ak, sk, str(threads), str(iters), prefix, mode],
                         capture_output=True, text=True, timeout=1800)
    line = out.stdout.strip()
    if out.returncode != 0:
        raise RuntimeError("loadgen failed: %s %s" % (line, out.stderr))
    fields = dict(kv.split("=") for kv in line.split())
    return float(fields["rps"]), int(fields["requests"])


def measured(pid, port, ak, sk, threads, iters, prefix, mode):
    """One loadgen run: (requests/s, requests, server CPU microseconds per request)."""
    c0 = cpu_seconds(pid)
    rps, n = loadgen(port, ak, sk, threads, iters, prefix, mode)
    return rps, n, 1e6 * (cpu_seconds(pid) - c0) / max(n, 1)


def main():
    threads = int(os.environ.get("BENCH_THREADS", "4"))
    iters = int(os.environ.get("BENCH_ITERATIONS", "2000"))
    d_iters = int(os.environ.get("BENCH_DESCRIBE_ITERATIONS", "5000"))
    moto_iters = int(os.environ.get("BENCH_MOTO_ITERATIONS", "150"))

    srv = ddserver.Server().start()
    try:
        k = srv.key()
        ak, sk = k["aws_access_key_id"], k["aws_secret_access_key"]
        # warm-up, then the measured runs
        loadgen(srv.port, ak, sk, threads, 50, "warm")
        dd_rps, dd_n, dd_cpu = measured(srv.proc.pid, srv.port, ak, sk, threads, iters, "bench", "mixed")
        loadgen(srv.port, ak, sk, threads, 200, "dwarm", "describe")
        dd_drps, dd_dn, dd_dcpu = measured(srv.proc.pid, srv.port, ak, sk, threads, d_iters, "dbench", "describe")
    finally:
        srv.cleanup()
    print("iotdefender mixed: %d requests, %.0f requests/s (%d threads), %.0f us server CPU per request"
          % (dd_n, dd_rps, threads, dd_cpu))
    print("iotdefender DescribeThing: %d requests, %.0f requests/s (%d threads), %.0f us server CPU per request"
          % (dd_dn, dd_drps, threads, dd_dcpu))

    moto = shutil.which("moto_server")
    if not moto:
        print("moto_server not found: ratio not measured")
        return
    port = free_port()
    p = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    same_cpu_share(p.pid)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/moto-api/" % port, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        loadgen(port, "AKIDMOTO", "secret", threads, 10, "warm")
        moto_rps, moto_n, moto_cpu = measured(p.pid, port, "AKIDMOTO", "secret", threads, moto_iters, "bench", "mixed")
        loadgen(port, "AKIDMOTO", "secret", threads, 10, "dwarm", "describe")
        moto_drps, moto_dn, moto_dcpu = measured(p.pid, port, "AKIDMOTO", "secret", threads, moto_iters, "dbench",
                                                 "describe")
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=15)
    print("moto_server mixed: %d requests, %.0f requests/s (%d threads), %.0f us server CPU per request"
          % (moto_n, moto_rps, threads, moto_cpu))
    print("moto_server DescribeThing: %d requests, %.0f requests/s (%d threads), %.0f us server CPU per request"
          % (moto_dn, moto_drps, threads, moto_dcpu))
    print("ratio iotdefender/moto, mixed: %.1fx" % (dd_rps / moto_rps))
    print("ratio iotdefender/moto, DescribeThing: %.1fx requests/s (target >= 100x), %.1fx less CPU per request"
          % (dd_drps / moto_drps, moto_dcpu / max(dd_dcpu, 1e-9)))


if __name__ == "__main__":
    main()
