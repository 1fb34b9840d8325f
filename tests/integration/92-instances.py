"""Several `serve` instances on one store (serve --shared-data-dir, short --lease-seconds):
on-demand audits, mitigation tasks and their SNS messages started through either
instance all run exactly once; a SIGKILLed instance's large audit is finished by the other
after its lease expired, with the finding counts of a single-instance run; a scheduled
audit fires once per due day across the instances; a server without the flag is refused
while the shared ones run."""
import calendar
import collections
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import botocore.exceptions

import ddserver
from auditfleet import audit_role, enable, wait_task, all_findings, signed, post_events, TRUST
from ddserver import Server
from mitig_fleet import role, allow, wait_mtask
from sns_helpers import Subscriber, subscribe_confirmed, FAST

LEASE_S = 2
PERMISSIVE = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
CHECKS = ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"]
NPOLICIES = 10


class Instances(unittest.TestCase):
    def pair(self, extra=(), env=None, lease_s=LEASE_S):
        """Two instances, a and b, on one fresh data directory, leases of lease_s seconds."""
        d = tempfile.mkdtemp(prefix="ddinst-")
        self.addCleanup(shutil.rmtree, d, True)
        args = ["--shared-data-dir", "--lease-seconds", str(lease_s)] + ddserver.LOCAL_OUTBOUND + list(extra)
        out = []
        for name in ("a", "b"):
            s = Server(d, extra_args=args, log_name="serve-%s.log" % name, env=env, log_level="info")
            self.addCleanup(s.cleanup)
            out.append(s.start())
        return out

    @staticmethod
    def instance_id(srv):
        m = re.search(r"lease: instance ([0-9a-f]{32})", srv.read_log_all())
        return m.group(1) if m else None

    @staticmethod
    def story(task, *servers):
        """The lines of the servers' logs about task, and their lease and store warnings."""
        return "\n".join("%s: %s" % (os.path.basename(s.log_path), line) for s in servers
                         for line in s.read_log_all().splitlines()
                         if task in line or " warn " in line or " error " in line)[-20000:]

    @staticmethod
    def started(srv, kind="audit"):
        """Task ids whose run started in srv (its log)."""
        if kind == "audit":  # a shard of a task: "<task>/<shard>"
            return ["%s/%s" % m for m in re.findall(r"audit: task ([0-9a-f]{32}) shard (\d+)/\d+ of account",
                                                    srv.read_log_all())]
        return re.findall(r"mitigation: task (\S+) of \S+ started", srv.read_log_all())


def start_audit(iot):
    """StartOnDemandAuditTask, waiting while 10 are already in progress (the limit)."""
    deadline = time.time() + 120
    while True:
        try:
            return iot.start_on_demand_audit_task(targetCheckNames=CHECKS)["taskId"]
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "LimitExceededException" or time.time() > deadline:
                raise
            time.sleep(0.2)


class ExactlyOnceTest(Instances):
    def test_audits_mitigations_and_notifications_once(self):
        sub = Subscriber().start()
        self.addCleanup(sub.stop)
        a, b = self.pair(env=FAST)
        self.assertNotEqual(self.instance_id(a), self.instance_id(b))
        self.assertIsNotNone(self.instance_id(a))
        iots = [a.client("iot"), b.client("iot")]
        iot = iots[0]
        for k in range(NPOLICIES):
            iot.create_policy(policyName="Wide-%d" % k, policyDocument=PERMISSIVE)
        sns = b.client("sns")
        topic = sns.create_topic(Name="Findings")["TopicArn"]
        subscribe_confirmed(sns, topic, sub)
        arole = audit_role(a)
        sns_role = a.client("iam").create_role(RoleName="AuditSns", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        enable(a, arole, CHECKS)
        iot.update_account_audit_configuration(auditNotificationTargetConfigurations={
            "SNS": {"targetArn": topic, "roleArn": sns_role, "enabled": True}})

        # 20 on-demand audits, started alternately through a and b
        tasks = [start_audit(iots[k % 2]) for k in range(20)]
        self.assertEqual(len(set(tasks)), 20)
        for k, t in enumerate(tasks):
            try:
                st = wait_task(a if k % 2 else b, t, timeout=180)
            except AssertionError as e:
                raise AssertionError("%s; what the instances logged of it:\n%s" % (e, self.story(t, a, b))) from None
            self.assertEqual(st["taskStatus"], "COMPLETED", st)
            self.assertEqual(st["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["nonCompliantResourcesCount"],
                             NPOLICIES)
        # each ran once, in one of the instances, and both took part
        ran_a, ran_b = self.started(a), self.started(b)
        self.assertEqual(sorted(ran_a + ran_b), sorted(t + "/0" for t in tasks), "a task ran twice or not at all")
        self.assertTrue(ran_a and ran_b, "one instance ran every audit: a %d, b %d" % (len(ran_a), len(ran_b)))
        # findings: exactly NPOLICIES + 1 per task, no duplicate, the same seen through a and b
        per_task = {}
        for t in tasks:
            fa = all_findings(a, taskId=t)
            fb = all_findings(b, taskId=t)
            self.assertEqual(sorted(f["findingId"] for f in fa), sorted(f["findingId"] for f in fb))
            keys = [(f["checkName"], json.dumps(f["nonCompliantResource"]["resourceIdentifier"], sort_keys=True))
                    for f in fa]
            self.assertEqual(len(keys), NPOLICIES + 1, keys)
            self.assertEqual(len(set(keys)), len(keys), "duplicated findings")
            per_task[t] = fa
        now = datetime.datetime.now(datetime.timezone.utc)
        listed = iot.list_audit_tasks(startTime=now - datetime.timedelta(hours=1), endTime=now + datetime.timedelta(minutes=1),
                                      taskType="ON_DEMAND_AUDIT_TASK")["tasks"]
        self.assertEqual(sorted(x["taskId"] for x in listed), sorted(tasks))

        # 5 mitigation tasks (PUBLISH_FINDING_TO_SNS on the permissive policies of 5 audits)
        mrole = role(a, "MitigRole", allow("sns:Publish", "iot:*"))
        iot.create_mitigation_action(actionName="Publish", roleArn=mrole,
                                     actionParams={"publishFindingToSnsParams": {"topicArn": topic}})
        mtasks = []
        for k in range(5):
            tid = "mtask-%d" % k
            iots[k % 2].start_audit_mitigation_actions_task(
                taskId=tid, target={"auditTaskId": tasks[k]},
                auditCheckToActionsMapping={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["Publish"]},
                clientRequestToken=tid)
            mtasks.append(tid)
        for k, tid in enumerate(mtasks):
            st = wait_mtask(b if k % 2 else a, tid, timeout=120)
            self.assertEqual(st["taskStatus"], "COMPLETED", st)
            stats = st["taskStatistics"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
            self.assertEqual(stats["succeededFindingsCount"], NPOLICIES, stats)
            self.assertEqual(stats["failedFindingsCount"], 0, stats)
            ex = []
            for f in per_task[tasks[k]]:
                if f["checkName"] == "IOT_POLICY_OVERLY_PERMISSIVE_CHECK":
                    ex += iot.list_audit_mitigation_actions_executions(taskId=tid, findingId=f["findingId"])[
                        "actionsExecutions"]
            self.assertEqual(len(ex), NPOLICIES)
            self.assertEqual({e["status"] for e in ex}, {"COMPLETED"})
        ran = self.started(a, "mitigation") + self.started(b, "mitigation")
        self.assertEqual(sorted(ran), sorted(mtasks), "a mitigation task ran twice or not at all")

        # SNS: one summary per audit, one message per (mitigation task, finding), nothing twice
        def counts(s):
            audits, finds = collections.Counter(), collections.Counter()
            for _, m in s.messages("Notification"):
                body = json.loads(m["Message"])
                if "mitigationActionsTaskId" in body:
                    finds[(body["mitigationActionsTaskId"], body["findingId"])] += 1
                else:
                    audits[body["taskId"]] += 1
            return audits, finds
        sub.wait(lambda s: sum(counts(s)[0].values()) >= 20 and sum(counts(s)[1].values()) >= 5 * NPOLICIES,
                 timeout=60)
        time.sleep(1.5)  # a duplicate would arrive meanwhile
        audits, finds = counts(sub)
        self.assertEqual(sorted(audits), sorted(tasks))
        self.assertEqual(set(audits.values()), {1}, audits)
        self.assertEqual(len(finds), 5 * NPOLICIES)
        self.assertEqual(set(finds.values()), {1}, finds)
        ids = [m["MessageId"] for _, m in sub.messages("Notification")]
        self.assertEqual(len(ids), len(set(ids)))

    def test_unshared_server_is_refused(self):
        a, _ = self.pair()
        lone = Server(a.data_dir, log_name="serve-lone.log")
        self.addCleanup(lone.cleanup)
        with self.assertRaises(RuntimeError) as cm:
            lone.start()
        self.assertIn("in use by another iotdefender process", str(cm.exception))


class KillTest(Instances):
    N = 40000

    def fleet(self, srv):
        """N client ids taken over (CONFLICTING_CLIENT_IDS_CHECK finds each one)."""
        base = int(time.time() * 1000) - 3600 * 1000
        cert = "%064x" % 7
        for start in range(0, self.N, 20000):
            events = []
            for k in range(start, start + 20000):
                events.append({"event": "connect", "clientId": "dup-%d" % k, "certificateId": cert,
                               "timestamp": base + k})
                events.append({"event": "disconnect", "clientId": "dup-%d" % k, "certificateId": cert,
                               "timestamp": base + k + 1, "reason": "takeover"})
            status, body = post_events(srv, events)
            self.assertEqual(status, 200, body)

    def test_sigkill_mid_audit_other_instance_finishes(self):
        a, b = self.pair()
        self.fleet(a)
        check = "CONFLICTING_CLIENT_IDS_CHECK"
        enable(a, audit_role(a), [check, "LOGGING_DISABLED_CHECK"])
        task = a.client("iot").start_on_demand_audit_task(targetCheckNames=[check, "LOGGING_DISABLED_CHECK"])["taskId"]
        # kill the instance that took it, while it runs
        deadline = time.time() + 30
        runner = None
        while runner is None and time.time() < deadline:
            for s in (a, b):
                if task + "/0" in self.started(s):
                    runner = s
            time.sleep(0.02)
        self.assertIsNotNone(runner, "no instance started the task")
        other = b if runner is a else a
        runner.kill()
        t0 = time.time()
        self.assertEqual(other.client("iot").describe_audit_task(taskId=task)["taskStatus"], "IN_PROGRESS",
                         "the audit ended before the kill; the fleet is too small to test the take-over")
        st = wait_task(other, task, timeout=300)
        took = time.time() - t0
        self.assertEqual(st["taskStatus"], "COMPLETED", st)
        self.assertGreaterEqual(took, LEASE_S - 0.5, "taken over before the lease expired")
        self.assertIn(task + "/0", self.started(other))
        got = st["auditDetails"][check]["nonCompliantResourcesCount"]
        f = all_findings(other, taskId=task, checkName=check, PaginationConfig={"PageSize": 250})
        keys = [json.dumps(x["nonCompliantResource"]["resourceIdentifier"], sort_keys=True) for x in f]
        self.assertEqual(len(keys), len(set(keys)), "duplicated findings after the take-over")
        # the same audit on the surviving instance alone
        ref = other.client("iot").start_on_demand_audit_task(targetCheckNames=[check, "LOGGING_DISABLED_CHECK"])["taskId"]
        rst = wait_task(other, ref, timeout=300)
        self.assertEqual(rst["taskStatus"], "COMPLETED", rst)
        for c in (check, "LOGGING_DISABLED_CHECK"):
            self.assertEqual(st["auditDetails"][c]["nonCompliantResourcesCount"],
                             rst["auditDetails"][c]["nonCompliantResourcesCount"], c)
            self.assertEqual(st["auditDetails"][c]["totalResourcesCount"],
                             rst["auditDetails"][c]["totalResourcesCount"], c)
        self.assertEqual(got, self.N)
        self.assertEqual(len(keys), self.N)


class ShardTest(Instances):
    NCERTS = 300
    SHARD = 40
    CHECKS = ["DEVICE_CERTIFICATE_AGE_CHECK", "DEVICE_CERTIFICATE_EXPIRING_CHECK", "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
              "LOGGING_DISABLED_CHECK"]

    @staticmethod
    def later(srv):
        """The service clock 400 days on: every certificate is older than the 365-day threshold."""
        ms = int(time.time() * 1000) + 400 * 86400000
        assert signed(srv, "POST", "/admin/clock", json.dumps({"nowMs": ms}).encode())[0] == 200

    def test_sharded_audit_equals_unsharded(self):
        env = {"IOTDEFENDER_AUDIT_SHARD_SIZE": self.SHARD, "IOTDEFENDER_AUDIT_POLL_MS": 50}
        # nobody is killed here: a lease long enough that a heartbeat held up by a loaded
        # machine does not let the other instance take over a running shard (that is the
        # kill test's case), so each shard must run exactly once
        a, b = self.pair(env=env, extra=["--test-clock"], lease_s=10)
        iot = a.client("iot")
        tmp = tempfile.mkdtemp(prefix="ddshard-")
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        tmp + "/k.pem", "-out", tmp + "/r.csr", "-subj", "/CN=shard"], check=True, capture_output=True)
        with open(tmp + "/r.csr") as fh:
            csr = fh.read()
        # one certificate per call from the same request (new serial, new id): fast
        ids = [iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=k % 10 != 0)["certificateId"]
               for k in range(self.NCERTS)]
        active = sum(1 for k in range(self.NCERTS) if k % 10 != 0)
        enable(a, audit_role(a), self.CHECKS)
        for s in (a, b):
            self.later(s)
        task = iot.start_on_demand_audit_task(targetCheckNames=self.CHECKS)["taskId"]
        st = wait_task(a, task, timeout=120)
        self.assertEqual(st["taskStatus"], "COMPLETED", st)
        nshards = (self.NCERTS + self.SHARD - 1) // self.SHARD
        ran = self.started(a) + self.started(b)
        self.assertEqual(sorted(ran), sorted("%s/%d" % (task, k) for k in range(nshards)),
                         "a shard ran twice or not at all")
        print("\nshards run: a %d, b %d" % (len([r for r in self.started(a) if r.startswith(task)]),
                                          len([r for r in self.started(b) if r.startswith(task)])))
        exp = st["auditDetails"]["DEVICE_CERTIFICATE_AGE_CHECK"]
        self.assertEqual(exp["totalResourcesCount"], active)
        self.assertEqual(exp["nonCompliantResourcesCount"], active)
        self.assertEqual(exp["checkRunStatus"], "COMPLETED_NON_COMPLIANT")
        kq = st["auditDetails"]["DEVICE_CERTIFICATE_KEY_QUALITY_CHECK"]
        self.assertEqual(kq["totalResourcesCount"], active)
        f = all_findings(b, taskId=task, checkName="DEVICE_CERTIFICATE_AGE_CHECK")
        found = sorted(x["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"] for x in f)
        self.assertEqual(found, sorted(c for k, c in enumerate(ids) if k % 10 != 0))
        # the same audit, unsharded (one shard of every certificate), on a single instance
        for s in (a, b):
            s.stop()
        one = Server(a.data_dir, extra_args=["--shared-data-dir", "--test-clock"], log_name="serve-one.log",
                     log_level="info", env={"IOTDEFENDER_AUDIT_SHARD_SIZE": 1000000})
        self.addCleanup(one.cleanup)
        one.start()
        self.later(one)
        ref = one.client("iot").start_on_demand_audit_task(targetCheckNames=self.CHECKS)["taskId"]
        rst = wait_task(one, ref, timeout=120)
        self.assertEqual(self.started(one), [ref + "/0"])
        for c in self.CHECKS:
            for k in ("checkRunStatus", "totalResourcesCount", "nonCompliantResourcesCount"):
                self.assertEqual(st["auditDetails"][c][k], rst["auditDetails"][c][k], (c, k))
        self.assertEqual(len(all_findings(one, taskId=ref)), len(all_findings(one, taskId=task)))


class ScheduledOnceTest(Instances):
    def test_scheduled_audit_fires_once_across_instances(self):
        a, b = self.pair(extra=["--test-clock"])
        iot = a.client("iot")
        enable(a, audit_role(a), ["LOGGING_DISABLED_CHECK"])
        t0 = calendar.timegm((2030, 3, 10, 12, 0, 0)) * 1000

        def clock(ms):
            for s in (a, b):
                self.assertEqual(signed(s, "POST", "/admin/clock", json.dumps({"nowMs": ms}).encode())[0], 200)
        clock(t0)
        iot.create_scheduled_audit(scheduledAuditName="daily", frequency="DAILY",
                                   targetCheckNames=["LOGGING_DISABLED_CHECK"])

        def sched_tasks():
            lo = datetime.datetime.fromtimestamp(t0 / 1000 - 86400, datetime.timezone.utc)
            hi = datetime.datetime.fromtimestamp(t0 / 1000 + 30 * 86400, datetime.timezone.utc)
            return [t["taskId"] for t in iot.list_audit_tasks(startTime=lo, endTime=hi,
                                                                taskType="SCHEDULED_AUDIT_TASK")["tasks"]]

        def wait_count(n):
            deadline = time.time() + 60
            while time.time() < deadline and len(sched_tasks()) < n:
                time.sleep(0.2)
            return sched_tasks()
        self.assertEqual(len(wait_count(1)), 1)
        # four more days, each seen by both schedulers (moving both clocks wakes both)
        for day in range(1, 5):
            clock(t0 + day * 86400000)
            self.assertEqual(len(wait_count(day + 1)), day + 1)
        time.sleep(1.5)  # a second firing would show up meanwhile
        ts = sched_tasks()
        self.assertEqual(len(ts), 5, ts)
        for t in ts:
            self.assertEqual(wait_task(a, t)["taskStatus"], "COMPLETED")


from broker_helpers import BrokerFixture, Broker, Device, SKIP as BROKER_SKIP, wait_for  # noqa: E402


@unittest.skipIf(BROKER_SKIP, BROKER_SKIP)
class TwoBrokersTest(BrokerFixture):
    """Two serve instances and two brokers on one store."""
    SERVER_ARGS = ("--shared-data-dir",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv_b = Server(cls.srv.data_dir, extra_args=["--shared-data-dir"], log_name="serve-b.log").start()
        cls.broker_b = Broker(cls.srv.data_dir, cls.tmp).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker_b.stop()
        cls.srv_b.cleanup()
        super().tearDownClass()

    def device_on(self, broker, cert, client_id):
        d = Device(broker, cert, client_id)
        self.devices.append(d)
        return d

    def test_deactivate_through_a_disconnects_on_broker_b_within_1s(self):
        c = self.cert(policy="ThingPolicy", thing="pump-b")
        dev = self.device_on(self.broker_b, c, "pump-b")
        self.assertEqual(dev.connect(), 0)
        t0 = time.time()
        self.iot.update_certificate(certificateId=c.id, newStatus="INACTIVE")  # through instance a
        self.assertTrue(dev.gone.wait(5), "still connected to broker b 5 s after UpdateCertificate INACTIVE")
        delay = dev.gone_at - t0
        print("\nbroker b: UpdateCertificate INACTIVE through serve a -> client disconnected in %.3f s" % delay)
        self.assertLessEqual(delay, 1.0)
        self.assertEqual(self.device_on(self.broker, c, "pump-b").connect(), 5)  # refused by broker a too
        self.assertEqual(self.device_on(self.broker_b, c, "pump-b").connect(), 5)
        # and reactivated through instance b: both brokers accept it again
        self.srv_b.client("iot").update_certificate(certificateId=c.id, newStatus="ACTIVE")
        self.assertTrue(wait_for(lambda: self.device_on(self.broker, c, "pump-b").connect(timeout=3) == 0, timeout=5))

    def test_both_brokers_record_into_one_store(self):
        c = self.cert(policy="ThingPolicy", thing="fan-a")
        d = self.cert(policy="ThingPolicy", thing="fan-b")
        da = self.device_on(self.broker, c, "fan-a")
        db = self.device_on(self.broker_b, d, "fan-b")
        self.assertEqual(da.connect(), 0)
        self.assertEqual(db.connect(), 0)
        da.close()
        db.close()
        self.assertTrue(wait_for(lambda: [e[0] for e in self.events("fan-a")] == ["connect", "disconnect"] and
                                 [e[0] for e in self.events("fan-b")] == ["connect", "disconnect"], timeout=10),
                        (self.events("fan-a"), self.events("fan-b")))
        self.assertEqual([e[1] for e in self.events("fan-a")], [c.id, c.id])
        self.assertEqual([e[1] for e in self.events("fan-b")], [d.id, d.id])
        seqs = [r[0] for r in ddserver.query(
            self.srv.data_dir, "SELECT seq FROM connection_events WHERE client_id IN ('fan-a', 'fan-b')")]
        self.assertEqual(len(seqs), 4)
        self.assertEqual(len(set(seqs)), 4, "connection event ids collide between the brokers")


if __name__ == "__main__":
    unittest.main()
