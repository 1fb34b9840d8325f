#!/usr/bin/env python3
"""Instructions per request of the caller authorization, counted by callgrind: a number
that, unlike requests/s, does not depend on what else the machine runs. The server runs
under `valgrind --tool=callgrind --instr-atstart=no`; the registry workload of
bench_authz.py (dd_loadgen, DescribeThing or the mixed CreateThing/DescribeThing/ListThings)
is sent by the account root and by an IAM user with bench_authz.py's typical policy set,
instrumentation switched on for the measured requests only (callgrind_control -i), user space only.
Prints the instructions per request of each and the user's extra share.

Not part of `make bench` (a run takes minutes). By hand:
    nice -n 19 python3 bench/authz_instructions.py build [describe|mixed] [requests per thread]
"""
import configparser
import glob
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
sys.path.insert(0, HERE)
import boto3  # noqa: E402
from bench_api import loadgen  # noqa: E402
from bench_authz import setup_user  # noqa: E402

THREADS = 2


class Srv:
    """Just what setup_user needs of tests/integration/lib/ddserver.Server."""

    def __init__(self, port, key):
        self.port, self._key = port, key
        self.url = "http://127.0.0.1:%d" % port

    def key(self, i=0):
        return self._key

    def client(self, service, i=0):
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=self._key["aws_access_key_id"],
                            aws_secret_access_key=self._key["aws_secret_access_key"])


def totals(pid, outdir):
    files = sorted(glob.glob(os.path.join(outdir, "cg.%d.*" % pid)), key=lambda p: int(p.rsplit(".", 1)[1]))
    with open(files[-1]) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + files[-1])


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    mode = sys.argv[2] if len(sys.argv) > 2 else "describe"
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    os.environ.setdefault("DD_LOADGEN", os.path.join(build, "dd_loadgen"))
    data = tempfile.mkdtemp(prefix="ddbench-cg-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(data, "serve.log"), "wb")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                             "--callgrind-out-file=" + os.path.join(data, "cg.%p"),
                             os.path.join(build, "iotdefender"), "serve", "--port", str(port), "--data-dir", data,
                             "--log-level", "warn"], stdout=log, stderr=log)
    try:
        deadline = time.time() + 300
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.5)
        creds = configparser.ConfigParser()
        creds.read(os.path.join(data, "credentials"))
        key = dict(creds[creds.sections()[0]])
        srv = Srv(port, key)
        root = (key["aws_access_key_id"], key["aws_secret_access_key"])
        user = setup_user(srv)
        for who, (ak, sk) in (("root", root), ("user", user)):
            loadgen(port, ak, sk, THREADS, 30, "w" + who, mode)
        per = {}
        for rnd, who in enumerate(("root", "user", "user", "root")):
            ak, sk = root if who == "root" else user
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
            subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
            _, n = loadgen(port, ak, sk, THREADS, iters, "%s%d" % (who, rnd), mode)
            subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True)
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
            per.setdefault(who, []).append(totals(proc.pid, data) / n)
        r, u = min(per["root"]), min(per["user"])
        print("mode %s, %d threads x %d requests, best of two runs each" % (mode, THREADS, iters))
        print("root: %.0f instructions/request (runs %s)" % (r, ", ".join("%.0f" % x for x in per["root"])))
        print("IAM user: %.0f instructions/request (runs %s)" % (u, ", ".join("%.0f" % x for x in per["user"])))
        print("authorization share: %.1f %% of the user's request" % (100.0 * (u - r) / u))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if not os.environ.get("KEEP"):
            subprocess.run(["rm", "-rf", data])
        else:
            print("kept", data)


if __name__ == "__main__":
    main()
