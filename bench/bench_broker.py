#!/usr/bin/env python3
"""bench_broker: the broker with and without the iotdefender plugin.

Starts `iotdefender serve` and the real Mosquitto twice on the same TLS listener settings
(`iotdefender broker-config`): once with the plugin, once without it (anonymous, no
authorization). Prints:
  - QoS 0 publish throughput: P mosquitto_pub -l publishers (N messages each) into one
    mosquitto_sub counting what arrives; messages/s through the broker, with and without
    the plugin, in R alternating rounds (BENCH_ROUNDS, default 3), each round's ratio and
    the median ratio (target: with >= 80 % of without);
  - the ACL check's own time inside the broker (the plugin's ACL callback, Publish and
    Receive, measured by the plugin with plugin_opt_acl_timing in a separate run of N/4
    messages per publisher): p50/p99/max;
  - connect latency (CONNECT to CONNACK, TLS included, paho-mqtt, sequential) p50/p99
    with and without the plugin, and connects/s;
  - the disconnect delay after UpdateCertificate INACTIVE, p50/p99/max over K devices
    (target p99 <= 1 s).
Not run in CI (numbers depend on the machine); run with `make bench` or directly:
  nice -n 19 python3 bench/bench_broker.py [N] [P] [K]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
if not os.environ.get("IOTDEFENDER_BIN"):
    os.environ["IOTDEFENDER_BIN"] = os.path.join(HERE, "..", "build", "iotdefender")

import broker_helpers as tb  # noqa: E402
from ddserver import Server  # noqa: E402


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class EditedBroker(tb.Broker):
    """The broker-config listener, its configuration edited by edit() before mosquitto
    starts."""

    def edit(self, conf):
        return conf

    def start(self):
        real = tb.Broker.start(self)
        self.stop()
        with open(self.conf) as f:
            conf = f.read()
        with open(self.conf, "w") as f:
            f.write(self.edit(conf))
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([tb.MOSQUITTO, "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                tb.socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return real
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")


class PlainBroker(EditedBroker):
    """The same listener without the plugin: every TLS client is accepted and allowed."""

    def edit(self, conf):
        return re.sub(r"(?m)^plugin.*\n", "", conf).replace("allow_anonymous false", "allow_anonymous true")


class TimedBroker(EditedBroker):
    """The broker with the plugin, which times each ACL check and logs p50/p99 at exit."""

    def edit(self, conf):
        return re.sub(r"(?m)^(plugin_opt_data_dir .*)$", r"\1\nplugin_opt_acl_timing true", conf)


def tls_args(broker, cert, cid):
    return ["-h", "127.0.0.1", "-p", str(broker.port), "--cafile", broker.server_ca, "--cert", cert.crt,
            "--key", cert.key, "-i", cid]


def cpu_seconds(pid):
    """User + system CPU seconds of process pid so far (0 when unreadable)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def throughput(broker, certs, n, p, tmp):
    """(messages delivered, messages/s, broker CPU microseconds per delivered message)."""
    out = os.path.join(tmp, "sub-%d.out" % broker.port)
    total = n * p
    with open(out, "wb") as f:
        sub = subprocess.Popen(["mosquitto_sub"] + tls_args(broker, certs[0], "bench-sub") +
                               ["-t", "bench/#", "-q", "0", "-C", str(total), "-W", "120"], stdout=f)
    time.sleep(1.0)
    cpu0 = cpu_seconds(broker.proc.pid)
    payload = os.path.join(tmp, "payload.txt")
    with open(payload, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n" * n)
    t0 = time.time()
    pubs = []
    for k in range(p):
        with open(payload, "rb") as f:
            pubs.append(subprocess.Popen(["mosquitto_pub"] + tls_args(broker, certs[1 + k], "bench-pub-%d" % k) +
                                         ["-t", "bench/%d" % k, "-q", "0", "-l"], stdin=f))
    for q in pubs:
        q.wait()
    # the subscriber exits after `total` messages; QoS 0 may drop some under load
    last, last_change = -1, time.time()
    while sub.poll() is None and time.time() - last_change < 2.0:
        got = os.path.getsize(out) // 33
        if got != last:
            last, last_change = got, time.time()
        time.sleep(0.02)
    t1 = time.time() if sub.poll() is not None else last_change
    if sub.poll() is None:
        sub.terminate()
        sub.wait()
    got = os.path.getsize(out) // 33
    cpu = cpu_seconds(broker.proc.pid) - cpu0
    return got, got / (t1 - t0), 1e6 * cpu / max(got, 1)


def connects(broker, cert, k):
    lat = []
    t0 = time.time()
    for i in range(k):
        d = tb.Device(broker, cert, "bench-conn-%d" % i)
        s = time.time()
        rc = d.connect()
        lat.append(time.time() - s)
        if rc != 0:
            raise RuntimeError("connect refused: %r" % rc)
        d.close()
    return lat, k / (time.time() - t0)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    p = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    if tb.SKIP:
        print("bench_broker: skipped:", tb.SKIP)
        return 0
    tmp = tempfile.mkdtemp(prefix="ddbench-broker-")
    srv = Server().start()
    try:
        iot = srv.client("iot")
        iot.create_policy(policyName="Bench", policyDocument=tb.OPEN_POLICY)
        tb.BrokerFixture.srv, tb.BrokerFixture.iot, tb.BrokerFixture.tmp = srv, iot, tmp
        certs = [tb.BrokerFixture.cert(policy="Bench") for _ in range(p + 2)]
        rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
        ratios, cpu_ratios = [], []
        for r in range(rounds):
            rates, cpus = {}, {}
            for name, cls in (("without plugin", PlainBroker), ("with plugin", tb.Broker)):
                b = cls(srv.data_dir, tmp).start()
                try:
                    got, rate, cpu = throughput(b, certs, n, p, tmp)
                    rates[name], cpus[name] = rate, cpu
                    line = "round %d %-15s QoS0 %d/%d messages delivered, %.0f msg/s, broker CPU %.2f us/message" % (
                        r + 1, name, got, n * p, rate, cpu)
                    if r == 0:
                        lat, cps = connects(b, certs[-1], k)
                        line += "; connect p50 %.1f ms p99 %.1f ms, %.1f connects/s" % (
                            1000 * pct(lat, 50), 1000 * pct(lat, 99), cps)
                    print(line, flush=True)
                finally:
                    b.stop()
            ratios.append(rates["with plugin"] / rates["without plugin"])
            cpu_ratios.append(cpus["without plugin"] / max(cpus["with plugin"], 1e-9))
            print("round %d throughput with plugin / without: %.0f %%; CPU per message without / with: %.0f %%"
                  % (r + 1, 100 * ratios[-1], 100 * cpu_ratios[-1]), flush=True)
        print("throughput with plugin / without, median of %d rounds: %.0f %% (rounds: %s; target >= 80 %%)"
              % (rounds, 100 * pct(ratios, 50), ", ".join("%.0f %%" % (100 * x) for x in ratios)))
        print("broker CPU per message without / with plugin, median: %.0f %% (the throughput a CPU-bound broker"
              " keeps with the plugin)" % (100 * pct(cpu_ratios, 50)))
        # the ACL check's own time, measured by the plugin
        b = TimedBroker(srv.data_dir, tmp).start()
        try:
            throughput(b, certs, max(n // 4, 1), p, tmp)
        finally:
            b.stop()
        m = re.search(r"ACL checks: (\d+), p50 <= (\d+) ns, p99 <= (\d+) ns, max (\d+) ns", b.read_log())
        if m:
            print("ACL check in the broker (%s checks): p50 <= %.2f us, p99 <= %.2f us, max %.1f us"
                  % (m.group(1), int(m.group(2)) / 1000.0, int(m.group(3)) / 1000.0, int(m.group(4)) / 1000.0))
        else:
            print("ACL check timing: not reported by the plugin")
        # disconnect delay after deactivation
        b = tb.Broker(srv.data_dir, tmp).start()
        delays = []
        try:
            for i in range(k):
                c = tb.BrokerFixture.cert(policy="Bench")
                d = tb.Device(b, c, "bench-kick-%d" % i)
                if d.connect() != 0:
                    raise RuntimeError("connect refused")
                t0 = time.time()
                iot.update_certificate(certificateId=c.id, newStatus="INACTIVE")
                if not d.gone.wait(10):
                    raise RuntimeError("not disconnected")
                delays.append(d.gone_at - t0)
                d.close()
        finally:
            b.stop()
        print("disconnect after UpdateCertificate INACTIVE (%d devices): p50 %.0f ms p99 %.0f ms max %.0f ms (target p99 <= 1000 ms)"
              % (k, 1000 * pct(delays, 50), 1000 * pct(delays, 99), 1000 * max(delays)))
        return 0
    finally:
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
