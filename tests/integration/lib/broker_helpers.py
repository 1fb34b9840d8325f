"""Helpers of the broker tests: certificates, the real Mosquitto with the plugin on free
ports, paho-mqtt devices, the metrics reader, and the BrokerFixture test base."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from ddserver import Server, free_port, BIN, query, store_env
from mitig_fleet import role, allow, run_audit, wait_mtask

try:
    import paho.mqtt.client as mqtt
except ImportError:  # Debian's python3-paho-mqtt, when python3 is not Debian's
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        mqtt = None

MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None)
PLUGIN = os.path.join(os.path.dirname(os.path.abspath(BIN)), "iotdefender_plugin.so")
SKIP = None
if not MOSQUITTO:
    SKIP = "mosquitto is not installed (scripts/setup.sh installs mosquitto and python3-paho-mqtt)"
elif mqtt is None:
    SKIP = "paho-mqtt is not installed (scripts/setup.sh installs python3-paho-mqtt)"
elif not os.path.exists(PLUGIN):
    SKIP = "the plugin was not built (mosquitto-dev missing when cmake ran): " + PLUGIN

R = "arn:aws:iot:us-east-1:*:"
THING_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": R + "client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": R + "topic/things/${iot:Connection.Thing.ThingName}/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": R + "topicfilter/things/${iot:Connection.Thing.ThingName}/*"},
    {"Effect": "Allow", "Action": "iot:Publish", "Resource": R + "topic/cid/${iot:ClientId}"},
    {"Effect": "Allow", "Action": "iot:RetainPublish", "Resource": R + "topic/things/${iot:Connection.Thing.ThingName}/keep"},
    {"Effect": "Deny", "Action": "iot:Publish", "Resource": R + "topic/things/${iot:Connection.Thing.ThingName}/secret"},
    {"Effect": "Deny", "Action": "iot:Receive", "Resource": R + "topic/things/${iot:Connection.Thing.ThingName}/hidden"},
]})
OPEN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


class Cert:
    def __init__(self, d, cid, pem, key, arn=None):
        self.id, self.arn = cid, arn
        self.crt = os.path.join(d, cid[:16] + ".crt")
        self.key = os.path.join(d, cid[:16] + ".key")
        with open(self.crt, "w") as f:
            f.write(pem)
        with open(self.key, "w") as f:
            f.write(key)
        os.chmod(self.key, 0o600)


class Broker:
    """mosquitto -c <the config broker-config prints>, stopped by its PID."""

    def __init__(self, data_dir, tmp, data_dir_override=None, region=None):
        self.data_dir, self.tmp, self.override, self.region = data_dir, tmp, data_dir_override, region
        self.proc = None

    def start(self):
        self.port = free_port()
        conf = subprocess.run([BIN, "broker-config", "--data-dir", self.data_dir, "--port", str(self.port)] +
                              (["--region", self.region] if self.region else []),
                              check=True, capture_output=True, text=True, env=store_env(self.data_dir)).stdout
        if self.override:
            conf = re.sub(r"(?m)^plugin_opt_data_dir .*$", "plugin_opt_data_dir " + self.override, conf)
        self.conf = os.path.join(self.tmp, "mosquitto-%d.conf" % self.port)
        with open(self.conf, "w") as f:
            f.write(conf)
        self.server_ca = re.search(r"(?m)^# (\S+server-ca\.pem)\.$", conf).group(1)
        env = dict(os.environ)
        asan = [l.split("=>")[1].split()[0] for l in subprocess.run(
            ["ldd", PLUGIN], capture_output=True, text=True).stdout.splitlines() if "libasan" in l and "=>" in l]
        if asan:  # a sanitizer build of the plugin needs its runtime loaded first
            env["LD_PRELOAD"] = asan[0]
            env["ASAN_OPTIONS"] = os.environ.get("DD_BROKER_ASAN_OPTIONS", "detect_leaks=0")
        self.log_path = os.path.join(self.tmp, "mosquitto-%d.log" % self.port)
        self.log = open(self.log_path, "wb")
        # the plugin's store is that of the data directory it is given (the override's own,
        # empty, database on PostgreSQL, as the override has no SQLite file)
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=store_env(self.override or self.data_dir, env))
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: " + self.read_log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start: " + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None


class Device:
    """One paho-mqtt client over TLS with a client certificate."""

    def __init__(self, broker, cert, client_id, will=None):
        self.c = mqtt.Client(client_id=client_id, clean_session=True)
        self.c.tls_set(ca_certs=broker.server_ca, certfile=cert.crt, keyfile=cert.key)
        if will:
            self.c.will_set(*will)
        self.broker, self.client_id = broker, client_id
        self.rc = None
        self.acked = threading.Event()
        self.gone = threading.Event()
        self.gone_at = None
        self.msgs = []
        self.granted = {}
        self.subacked = threading.Condition()
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = lambda c, u, m: self.msgs.append((m.topic, m.payload, m.retain))
        self.c.on_subscribe = self._on_subscribe

    def _on_connect(self, c, u, flags, rc):
        self.rc = rc
        self.acked.set()
        if rc != 0:
            c.disconnect()

    def _on_disconnect(self, c, u, rc):
        self.gone_at = time.time()
        self.gone.set()
        c.disconnect()  # no automatic reconnect

    def _on_subscribe(self, c, u, mid, granted):
        with self.subacked:
            self.granted[mid] = granted
            self.subacked.notify_all()

    def connect(self, timeout=10):
        """CONNACK code (0 accepted, 5 not authorized), or 'closed' when the broker hung up."""
        try:
            self.c.connect("127.0.0.1", self.broker.port, keepalive=30)
        except OSError as e:
            return "closed: %s" % e
        self.c.loop_start()
        deadline = time.time() + timeout
        while time.time() < deadline and not self.acked.is_set() and not self.gone.is_set():
            time.sleep(0.01)
        return self.rc if self.rc is not None else "closed"

    def subscribe(self, topic):
        r, mid = self.c.subscribe(topic, qos=1)
        with self.subacked:
            self.subacked.wait_for(lambda: mid in self.granted, timeout=5)
        return self.granted.get(mid, (None,))[0]

    def publish(self, topic, payload=b"x", retain=False):
        info = self.c.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish()

    def topics(self):
        return [m[0] for m in self.msgs]

    def close(self):
        try:
            self.c.disconnect()
        finally:
            self.c.loop_stop()


METRICS_TOKEN = "broker-metrics-token"


def broker_metrics(srv, region="us-east-1"):
    """The iotdefender_broker_* samples of region from GET /metrics: {name: value}."""
    import urllib.request
    req = urllib.request.Request(srv.url + "/metrics", headers={"Authorization": "Bearer " + METRICS_TOKEN})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'(?m)^iotdefender_broker_(\w+)\{region="([^"]+)"\} (\S+)$', text):
        if m.group(2) == region:
            out[m.group(1)] = float(m.group(3))
    return out


def wait_for(pred, timeout=5, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


class BrokerFixture(unittest.TestCase):
    """The server, a registered CA, policies and one Mosquitto with the plugin, shared by
    the broker tests (and bench/bench_broker.py); the tests are in 70-broker.py."""
    SERVER_ARGS = ()  # more `serve` options (a subclass sharing the data directory)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddbroker-")
        cls.srv, cls.broker, cls.devices = None, None, []
        try:
            cls.start_fixture()
        except BaseException:  # tearDownClass does not run after a failed setUpClass
            cls.tearDownClass()
            raise

    @classmethod
    def start_fixture(cls):
        cls.srv = Server(extra_args=["--metrics-token", METRICS_TOKEN] + list(cls.SERVER_ARGS)).start()
        cls.iot = cls.srv.client("iot")
        cls.acct = cls.srv.key()["account_id"]
        cls.iot.create_policy(policyName="ThingPolicy", policyDocument=THING_POLICY)
        cls.iot.create_policy(policyName="OpenPolicy", policyDocument=OPEN_POLICY)
        # a registered CA and a device certificate it issued, registered with it
        d = cls.tmp
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                d + "/ca.key", "-out", d + "/ca.crt", "-days", "30", "-subj", "/CN=broker test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/dev.key",
                "-out", d + "/dev.csr", "-subj", "/CN=ca-dev")
        openssl("x509", "-req", "-in", d + "/dev.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
                "-CAcreateserial", "-out", d + "/dev.crt", "-days", "30")
        def read(p):
            with open(p) as f:
                return f.read()
        ca_pem = read(d + "/ca.crt")
        cls.ca_id = cls.iot.register_ca_certificate(caCertificate=ca_pem, certificateMode="SNI_ONLY",
                                                    setAsActive=True)["certificateId"]
        r = cls.iot.register_certificate(certificatePem=read(d + "/dev.crt"), caCertificatePem=ca_pem,
                                         status="ACTIVE")
        cls.ca_dev = Cert(d, r["certificateId"], read(d + "/dev.crt"), read(d + "/dev.key"), r["certificateArn"])
        cls.iot.attach_policy(policyName="OpenPolicy", target=r["certificateArn"])
        cls.broker = Broker(cls.srv.data_dir, cls.tmp).start()
        cls.observer_cert = cls.cert(policy="OpenPolicy")
        cls.devices = []

    @classmethod
    def tearDownClass(cls):
        for dev in cls.devices:
            try:
                dev.close()
            except Exception:
                pass
        if cls.broker:
            cls.broker.stop()
        if cls.srv:
            cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def cert(cls, policy=None, thing=None, active=True, cli=False):
        if cli:
            r = cls.srv.aws("iot", "create-keys-and-certificate", "--set-as-active" if active else "--no-set-as-active",
                            v2=True)
        else:
            r = cls.iot.create_keys_and_certificate(setAsActive=active)
        c = Cert(cls.tmp, r["certificateId"], r["certificatePem"], r["keyPair"]["PrivateKey"], r["certificateArn"])
        if policy:
            cls.iot.attach_policy(policyName=policy, target=c.arn)
        if thing:
            cls.iot.create_thing(thingName=thing)
            cls.iot.attach_thing_principal(thingName=thing, principal=c.arn)
        return c

    def device(self, cert, client_id, **kw):
        d = Device(self.broker, cert, client_id, **kw)
        self.devices.append(d)
        return d

    def observer(self, client_id, topic="#"):
        o = self.device(self.observer_cert, client_id)
        self.assertEqual(o.connect(), 0)
        self.assertEqual(o.subscribe(topic), 1)
        return o

    def events(self, client_id):
        return query(self.srv.data_dir, "SELECT event, certificate_id, reason, source_ip, ts FROM connection_events"
                     " WHERE client_id = ? ORDER BY seq", (client_id,))

    def regions_of(self, client_id):
        """The account_region keys the connection events of client_id are stored under."""
        return sorted(r[0] for r in query(
            self.srv.data_dir, "SELECT DISTINCT account_region FROM connection_events WHERE client_id = ?", (client_id,)))

    def change_ts(self, kind, subject):
        return query(self.srv.data_dir, "SELECT max(ts) FROM changes WHERE kind = ? AND subject = ?",
                     (kind, subject))[0][0]
