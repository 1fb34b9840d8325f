"""One tenant cannot stall the others (docs/OUTBOUND.md, "Fairness"). Account A floods the
server: certificates whose 32 CRL distribution points point at a local TCP listener that
accepts and never answers (allowed with --outbound-allow 127.0.0.0/8), six threads posting
/crl-refresh in a loop, and six queued audits with a revocation check (each waits up to
5 s for A's fetches). Meanwhile account B's ListThings stays fast (p99 printed, < 1 s),
B's one-check audit completes within a few seconds instead of queueing behind A's six,
and B's own CRL fetch from a working distribution point completes while A's are stuck.
Likewise A's SNS subscribers that never answer hold at most half the delivery workers, so
B's subscription confirmation is delivered at once."""
import http.server
import os
import socket
import tempfile
import threading
import time
import unittest

import ddserver
import pki_helpers as tc
from auditfleet import audit_role, enable, wait_task
from ddserver import Server, write_credentials
from sns_helpers import Subscriber, env


class BlackHole:
    """Accepts TCP connections on 127.0.0.1 and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopping = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            c.close()


def p99(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


class FairnessTest(unittest.TestCase):
    def test_account_b_unaffected_by_a_flood(self):
        tmp = tempfile.mkdtemp(prefix="ddfair-")
        creds = os.path.join(tmp, "credentials")
        write_credentials(creds, [
            ("a", "AKIAFLOOD00000000001", "flood-secret-key-0000000000000000000000", "111111111111"),
            ("b", "AKIAVICTIM0000000002", "victim-secret-key-000000000000000000000", "222222222222"),
        ])
        pki = tc.Pki()
        hole = BlackHole()
        ca_b = pki.root("Fair B Root CA")
        with open(pki.crl(ca_b, der=True), "rb") as f:
            crl_b = f.read()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(crl_b)))
                self.end_headers()
                self.wfile.write(crl_b)

            def log_message(self, *a):
                pass

        crl_srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=crl_srv.serve_forever, daemon=True).start()
        stop = threading.Event()
        flooders = []
        srv = Server(credentials=creds, extra_args=ddserver.LOCAL_OUTBOUND).start()
        try:
            iot_a, iot_b = srv.client("iot", 0), srv.client("iot", 1)

            def register_ca(iot, ca):
                code = iot.get_registration_code()["registrationCode"]
                return iot.register_ca_certificate(caCertificate=tc.read(os.path.join(ca, "ca.pem")),
                                                   verificationCertificate=tc.read(pki.verification(ca, code)),
                                                   setAsActive=True)["certificateId"]

            # A: two certificates with 16 black-hole distribution points each.
            ca_a = pki.root("Fair A Root CA")
            register_ca(iot_a, ca_a)
            key = pki.key()
            for c in range(2):
                urls = ",".join("URI:http://127.0.0.1:%d/a%d-%d.crl" % (hole.port, c, i) for i in range(16))
                pem = pki.sign(ca_a, pki.csr(key, "flood-%d" % c),
                               "basicConstraints=critical,CA:FALSE\ncrlDistributionPoints=%s\n" % urls)
                iot_a.register_certificate(certificatePem=tc.read(pem), setAsActive=True)
            # B: one certificate whose distribution point works, one thing, one check.
            ca_b_id = register_ca(iot_b, ca_b)
            pem = pki.leaf(ca_b, "victim", crl_url="http://127.0.0.1:%d/b.crl" % crl_srv.server_address[1])
            iot_b.register_certificate(certificatePem=tc.read(pem), setAsActive=True)
            iot_b.create_thing(thingName="victim-thing")
            enable(srv, audit_role(srv, i=1), ["LOGGING_DISABLED_CHECK"], i=1)
            enable(srv, audit_role(srv, i=0), ["REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK"], i=0)

            # The flood: refreshes in a loop and six revocation audits queued by A.
            code, first = tc.signed_post(srv, "/crl-refresh", {}, i=0)
            self.assertEqual(code, 200, first)
            self.assertEqual(first["urls"], 32)
            self.assertEqual(first["queued"], 32)
            refreshes = []

            def flood():
                while not stop.is_set():
                    t0 = time.time()
                    c, r = tc.signed_post(srv, "/crl-refresh", {}, i=0)
                    refreshes.append(time.time() - t0)
                    assert c == 200, r
            for _ in range(6):
                t = threading.Thread(target=flood, daemon=True)
                t.start()
                flooders.append(t)
            a_tasks = [iot_a.start_on_demand_audit_task(
                targetCheckNames=["REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK"])["taskId"] for _ in range(6)]
            time.sleep(1.0)

            # B's one-check audit, queued after A's six.
            t0 = time.time()
            b_task = iot_b.start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])["taskId"]
            # B's CRL fetch while A's 32 are stuck.
            code, rb = tc.signed_post(srv, "/crl-refresh", {}, i=1)
            self.assertEqual((code, rb["queued"]), (200, 1), rb)
            t_crl = time.time()
            crl_done = None
            lat = []
            deadline = time.time() + 8
            b_done = None
            while time.time() < deadline or b_done is None or crl_done is None:
                s = time.time()
                names = [t["thingName"] for t in iot_b.list_things()["things"]]
                lat.append(time.time() - s)
                self.assertEqual(names, ["victim-thing"])
                if b_done is None and iot_b.describe_audit_task(taskId=b_task)["taskStatus"] != "IN_PROGRESS":
                    b_done = time.time() - t0
                if crl_done is None:
                    c, st = tc.signed_post(srv, "/crl-status", {}, i=1)
                    # done when nothing is pending and the CRL is stored (it can be read a
                    # moment after the pending count drops)
                    if st["pendingFetches"] == 0 and ca_b_id in [x["caCertificateId"] for x in st["crls"]]:
                        crl_done = time.time() - t_crl
                if time.time() > deadline + 30:
                    break
            # A's queue is still busy: the flood really was going on the whole time.
            code, st_a = tc.signed_post(srv, "/crl-status", {}, i=0)
            a_pending = st_a["pendingFetches"]
            a_running = sum(1 for t in a_tasks if iot_a.describe_audit_task(taskId=t)["taskStatus"] == "IN_PROGRESS")
            stop.set()
            for t in flooders:
                t.join(timeout=70)
            print("\nfairness: B ListThings n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms; B one-check audit %.2f s; "
                  "B CRL fetch %.2f s; A: %d refreshes (p99 %.1f ms), %d fetches pending, %d of 6 audits still "
                  "in progress" % (len(lat), 1000 * sorted(lat)[len(lat) // 2], 1000 * p99(lat), 1000 * max(lat),
                                   b_done or -1, crl_done or -1, len(refreshes), 1000 * p99(refreshes or [0]),
                                   a_pending, a_running), flush=True)
            self.assertIsNotNone(b_done, "B's audit did not complete")
            self.assertLess(b_done, 5.0)
            self.assertEqual(wait_task(srv, b_task, i=1)["taskStatus"], "COMPLETED")
            self.assertIsNotNone(crl_done, "B's CRL fetch did not complete")
            self.assertLess(crl_done, 5.0)
            self.assertLess(p99(lat), 1.0)
            self.assertGreater(a_pending, 0)
            self.assertGreater(a_running, 0)
            self.assertGreater(len(refreshes), 10)
            self.assertLess(p99(refreshes), 1.0)  # refresh answers at once
        finally:
            stop.set()
            for t in flooders:
                t.join(timeout=70)
            srv.cleanup()
            hole.close()
            crl_srv.shutdown()
            crl_srv.server_close()
            pki.cleanup()

    def test_sns_slow_subscribers_of_a_leave_workers_for_b(self):
        """A's eight subscriptions to a silent listener hold at most half the SNS delivery
        workers (each delivery times out after 15 s); B's confirmation arrives at once."""
        tmp = tempfile.mkdtemp(prefix="ddfair-")
        creds = os.path.join(tmp, "credentials")
        write_credentials(creds, [
            ("a", "AKIAFLOOD00000000001", "flood-secret-key-0000000000000000000000", "111111111111"),
            ("b", "AKIAVICTIM0000000002", "victim-secret-key-000000000000000000000", "222222222222"),
        ])
        hole = BlackHole()
        sub = Subscriber().start()
        try:
            with env(IOTDEFENDER_SNS_WORKERS=4, IOTDEFENDER_SNS_TIMEOUT_MS=15000, IOTDEFENDER_SNS_POLL_MS=50), \
                    Server(credentials=creds, extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                sns_a, sns_b = srv.client("sns", 0), srv.client("sns", 1)
                ta = sns_a.create_topic(Name="slow")["TopicArn"]
                for i in range(8):
                    sns_a.subscribe(TopicArn=ta, Protocol="http", Endpoint="http://127.0.0.1:%d/a%d" % (hole.port, i))
                deadline = time.time() + 10
                while len(hole.conns) < 2 and time.time() < deadline:
                    time.sleep(0.05)
                tb = sns_b.create_topic(Name="fast")["TopicArn"]
                t0 = time.time()
                sns_b.subscribe(TopicArn=tb, Protocol="http", Endpoint=sub.url)
                sub.wait(lambda s: s.messages("SubscriptionConfirmation"), timeout=30)
                took = time.time() - t0
                held = len(hole.conns)
                print("\nfairness: B's SNS confirmation after %.2f s while A's deliveries hold %d connection(s)"
                      % (took, held), flush=True)
                self.assertLess(took, 5.0)
                self.assertEqual(held, 2)  # A never had more than 2 of the 4 workers
        finally:
            sub.stop()
            hole.close()


if __name__ == "__main__":
    unittest.main()
