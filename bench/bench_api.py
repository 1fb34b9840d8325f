#!/usr/bin/env python3
"""API throughput: the same CreateThing + DescribeThing + ListThings workload, SigV4-signed,
against `iotdefender serve` and against `moto_server`, both on 127.0.0.1, driven by the C
load generator (dd_loadgen). Prints requests per second for both and the ratio.

env: IOTDEFENDER_BIN, DD_LOADGEN, BENCH_ITERATIONS (default 2000 per thread for
iotdefender), BENCH_THREADS (default 4), BENCH_MOTO_ITERATIONS (default 150 per thread)."""
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
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import ddserver  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadgen(port, ak, sk, threads, iters, prefix):
    lg = os.environ.get("DD_LOADGEN", os.path.join(HERE, "..", "build", "dd_loadgen"))
    out = subprocess.run([lg, "127.0.0.1", str(port), ak, sk, str(threads), str(iters), prefix],
                         capture_output=True, text=True, timeout=1800)
    line = out.stdout.strip()
    if out.returncode != 0:
        raise RuntimeError("loadgen failed: %s %s" % (line, out.stderr))
    fields = dict(kv.split("=") for kv in line.split())
    return float(fields["rps"]), int(fields["requests"])


def main():
    threads = int(os.environ.get("BENCH_THREADS", "4"))
    iters = int(os.environ.get("BENCH_ITERATIONS", "2000"))
    moto_iters = int(os.environ.get("BENCH_MOTO_ITERATIONS", "150"))

    srv = ddserver.Server().start()
    try:
        k = srv.key()
        # warm-up, then the measured run
        loadgen(srv.port, k["aws_access_key_id"], k["aws_secret_access_key"], threads, 50, "warm")
        dd_rps, dd_n = loadgen(srv.port, k["aws_access_key_id"], k["aws_secret_access_key"], threads, iters, "bench")
    finally:
        srv.cleanup()
    print("iotdefender: %d requests, %.0f requests/s (%d threads)" % (dd_n, dd_rps, threads))

    moto = shutil.which("moto_server")
    if not moto:
        print("moto_server not found: ratio not measured")
        return
    port = free_port()
    p = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/moto-api/" % port, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        loadgen(port, "AKIDMOTO", "secret", threads, 10, "warm")
        moto_rps, moto_n = loadgen(port, "AKIDMOTO", "secret", threads, moto_iters, "bench")
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=15)
    print("moto_server: %d requests, %.0f requests/s (%d threads)" % (moto_n, moto_rps, threads))
    print("ratio iotdefender/moto: %.1fx" % (dd_rps / moto_rps))


if __name__ == "__main__":
    main()
