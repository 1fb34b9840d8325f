#!/usr/bin/env python3
"""bench_mitigation: how fast an audit mitigation actions task deactivates certificates.

Registers one short-lived device certificate through the API, stops the server and clones
its row in the store into N certificates (default 100,000; the API would take minutes),
restarts, runs DEVICE_CERTIFICATE_EXPIRING_CHECK (N+1 findings), then times a task that
applies an UPDATE_DEVICE_CERTIFICATE action to every finding of the audit, from
StartAuditMitigationActionsTask until the task is COMPLETED. Prints executions per
second from the task's own startTime and endTime (the client polls once a second, so
its wall time is also printed); the target is the whole task in at most 10 s.

Usage: bench_mitigation.py [N]   (IOTDEFENDER_BIN selects the binary)"""
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))

from ddserver import Server  # noqa: E402
from mitig_fleet import Certs, allow, role, device_cert, wait_mtask  # noqa: E402
from auditfleet import audit_role, enable, wait_task  # noqa: E402


def clone_certificates(db_path, n):
    con = sqlite3.connect(db_path)
    cols = [r[1] for r in con.execute("PRAGMA table_info(certificates)")]
    sel = ", ".join("printf('%064x', 1000000 + k)" if c == "id" else c for c in cols)
    con.execute("WITH RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < ?)"
                " INSERT INTO certificates(%s) SELECT %s FROM certificates, seq" % (", ".join(cols), sel), (n,))
    con.commit()
    con.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    if not os.environ.get("IOTDEFENDER_BIN"):
        os.environ["IOTDEFENDER_BIN"] = os.path.join(HERE, "..", "build", "iotdefender")
    import ddserver
    ddserver.BIN = os.environ["IOTDEFENDER_BIN"]
    srv = Server()
    certs = Certs()
    try:
        srv.start()
        device_cert(srv, certs, days=5)
        audit = audit_role(srv)
        enable(srv, audit, ["DEVICE_CERTIFICATE_EXPIRING_CHECK"])
        mrole = role(srv, "DeactivateRole", allow("iot:UpdateCertificate"))
        srv.client("iot").create_mitigation_action(
            actionName="Deactivate", roleArn=mrole,
            actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        srv.stop()
        t0 = time.time()
        clone_certificates(os.path.join(srv.data_dir, "iotdefender.db"), n)
        print("bench_mitigation: %d certificates cloned into the store in %.1f s" % (n, time.time() - t0))
        srv.start()
        iot = srv.client("iot")
        t0 = time.time()
        task = iot.start_on_demand_audit_task(targetCheckNames=["DEVICE_CERTIFICATE_EXPIRING_CHECK"])["taskId"]
        a = wait_task(srv, task, timeout=600)
        found = a["auditDetails"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["nonCompliantResourcesCount"]
        print("bench_mitigation: audit found %d expiring certificates in %.1f s" % (found, time.time() - t0))
        t0 = time.time()
        iot.start_audit_mitigation_actions_task(
            taskId="bench", target={"auditTaskId": task},
            auditCheckToActionsMapping={"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["Deactivate"]},
            clientRequestToken="bench")
        started = time.time() - t0
        t = wait_mtask(srv, "bench", timeout=600, poll=1.0)
        elapsed = time.time() - t0
        st = t["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]
        ok = st["succeededFindingsCount"]
        left = srv.client("iot").list_certificates(pageSize=250)["certificates"]
        active = sum(1 for c in left if c["status"] == "ACTIVE")
        print("bench_mitigation: task %s, %d of %d findings mitigated, start call %.2f s, total %.2f s"
              % (t["taskStatus"], ok, st["totalFindingsCount"], started, elapsed))
        server = (t["endTime"] - t["startTime"]).total_seconds()
        print("bench_mitigation: %.0f executions/s (server-side startTime..endTime %.2f s; target: %d in <= 10 s: %s);"
              " ACTIVE left in the first page: %d"
              % (ok / server, server, found, "met" if server <= 10 and ok == found else "NOT met", active))
        return 0 if t["taskStatus"] == "COMPLETED" and ok == found else 1
    finally:
        certs.cleanup()
        srv.cleanup()


if __name__ == "__main__":
    sys.exit(main())
