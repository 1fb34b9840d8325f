"""Operating the server: the access log, GET /metrics in the Prometheus text format (with a
strict parser written here), the bearer token of /metrics, --version, the config file and
its precedence, `config check`, schema safety, backup/restore while audits write, report."""
import gzip
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from auditfleet import audit_role, enable, wait_task
from ddserver import BIN, ON_PG, PG_ONLY_SQLITE, Server, store_env, write_credentials

POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}'

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


def parse_prometheus(text):
    """A strict parser of the text exposition format 0.0.4: returns {family: {"type",
    "help", "samples": [(name, {labels}, value)]}}; raises ValueError on any deviation."""
    fams = {}
    if not text.endswith("\n"):
        raise ValueError("exposition must end with a newline")
    current = None
    for ln, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name, _, helptext = line[7:].partition(" ")
            if not METRIC_NAME.match(name):
                raise ValueError("line %d: bad HELP name" % ln)
            fams.setdefault(name, {"type": "untyped", "help": None, "samples": []})
            if fams[name]["help"] is not None:
                raise ValueError("line %d: second HELP for %s" % (ln, name))
            fams[name]["help"] = helptext
            continue
        if line.startswith("# TYPE "):
            parts = line[7:].split(" ")
            if len(parts) != 2 or parts[1] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError("line %d: bad TYPE" % ln)
            f = fams.setdefault(parts[0], {"type": "untyped", "help": None, "samples": []})
            if f["samples"]:
                raise ValueError("line %d: TYPE after samples" % ln)
            f["type"] = parts[1]
            current = parts[0]
            continue
        if line.startswith("#") or line == "":
            raise ValueError("line %d: unexpected comment or blank line" % ln)
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)\Z", line)
        if not m:
            raise ValueError("line %d: bad sample %r" % (ln, line))
        name, labels_text, value = m.group(1), m.group(3), m.group(4)
        labels = {}
        if labels_text:
            pos = 0
            while pos < len(labels_text):
                lm = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|\Z)', labels_text[pos:])
                if not lm:
                    raise ValueError("line %d: bad labels %r" % (ln, labels_text))
                if lm.group(1) in labels:
                    raise ValueError("line %d: duplicate label" % ln)
                labels[lm.group(1)] = lm.group(2)
                pos += lm.end()
        v = float(value)  # accepts +Inf, NaN
        base = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in fams and fams[name[: -len(suffix)]]["type"] == "histogram":
                base = name[: -len(suffix)]
        if base != current:
            raise ValueError("line %d: sample %s outside its family block (%s)" % (ln, name, current))
        fams[base]["samples"].append((name, labels, v))
    for name, f in fams.items():
        if f["type"] == "histogram":
            groups = {}
            for n, lab, v in f["samples"]:
                key = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
                groups.setdefault(key, {"b": [], "count": None})
                if n.endswith("_bucket"):
                    groups[key]["b"].append((float(lab["le"]), v))
                elif n.endswith("_count"):
                    groups[key]["count"] = v
            for key, g in groups.items():
                les = [le for le, _ in g["b"]]
                if les != sorted(les) or not les or les[-1] != math.inf:
                    raise ValueError("%s: buckets not ascending or no +Inf" % name)
                vals = [v for _, v in g["b"]]
                if vals != sorted(vals) or vals[-1] != g["count"]:
                    raise ValueError("%s: buckets not cumulative or +Inf != count" % name)
    return fams


def sample(fams, family, name=None, **labels):
    for n, lab, v in fams.get(family, {"samples": []})["samples"]:
        if n == (name or family) and all(lab.get(k) == x for k, x in labels.items()):
            return v
    return 0.0


def get(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def run(*args, env=None, check=True):
    full = dict(os.environ, **(env or {}))
    if "--data-dir" in args:  # on PostgreSQL, that directory's database
        full = store_env(args[args.index("--data-dir") + 1], full)
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=300, env=full)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (args, p.returncode, p.stdout, p.stderr))
    return p


class LogsAndMetricsTest(unittest.TestCase):
    def test_access_log_and_metrics(self):
        with Server(extra_args=["--log-level", "info", "--metrics-token", "s3cret-token"]) as srv:
            iot = srv.client("iot")
            resp = iot.create_thing(thingName="op-1")
            rid = resp["ResponseMetadata"]["RequestId"]
            with self.assertRaises(Exception) as cm:
                iot.describe_thing(thingName="missing")
            err_rid = cm.exception.response["ResponseMetadata"]["RequestId"]
            # a SigV4 refusal: unknown key
            status, _ = get(srv.url + "/things")
            self.assertEqual(status, 403)
            time.sleep(0.2)
            with open(os.path.join(srv.data_dir, "serve.log"), encoding="utf-8", errors="replace") as f:
                log = f.read()
            line = [l for l in log.splitlines() if rid in l and " access " in l]
            self.assertEqual(len(line), 1, log[-2000:])
            self.assertIn("status=200", line[0])
            self.assertIn("operation=CreateThing", line[0])
            self.assertIn("service=iot", line[0])
            self.assertIn("access_key=" + srv.key()["aws_access_key_id"], line[0])
            # the secret is nowhere in the log (stdout is not a terminal: key id only)
            self.assertNotIn(srv.key()["aws_secret_access_key"], log)
            self.assertIn("access key %s; its secret is in" % srv.key()["aws_access_key_id"], log)
            for l in log.splitlines():
                if " access " in l:
                    self.assertNotIn("Signature=", l)
            eline = [l for l in log.splitlines() if err_rid in l and " access " in l]
            self.assertEqual(len(eline), 1)
            self.assertIn("status=404", eline[0])
            self.assertIn("error=ResourceNotFoundException", eline[0])
            self.assertTrue(any("status=403" in l and "reason=" in l and "Missing Authentication Token" in l
                                for l in log.splitlines()), log[-2000:])

            # metrics: refused without or with a wrong token; parses; moves with traffic
            self.assertEqual(get(srv.url + "/metrics")[0], 401)
            self.assertEqual(get(srv.url + "/metrics", "wrong")[0], 401)
            status, text = get(srv.url + "/metrics", "s3cret-token")
            self.assertEqual(status, 200)
            fams = parse_prometheus(text)
            self.assertEqual(fams["iotdefender_http_requests_total"]["type"], "counter")
            self.assertEqual(fams["iotdefender_http_request_duration_seconds"]["type"], "histogram")
            before = sample(fams, "iotdefender_http_requests_total", service="iot", operation="ListThings", status="200")
            for _ in range(3):
                iot.list_things()
            fams2 = parse_prometheus(get(srv.url + "/metrics", "s3cret-token")[1])
            after = sample(fams2, "iotdefender_http_requests_total", service="iot", operation="ListThings", status="200")
            self.assertEqual(after - before, 3)
            self.assertEqual(sample(fams2, "iotdefender_http_requests_total", service="iot",
                                    operation="DescribeThing", status="404"), 1)
            self.assertGreaterEqual(sample(fams2, "iotdefender_http_request_duration_seconds",
                                           "iotdefender_http_request_duration_seconds_count",
                                           operation="ListThings"), 3)
            self.assertGreater(sample(fams2, "iotdefender_store_write_transaction_seconds",
                                      "iotdefender_store_write_transaction_seconds_count"), 0)
            self.assertIn("iotdefender_outbox_messages", fams2)

    def test_metrics_404_without_token_and_json_log(self):
        with Server(extra_args=["--log-level", "info", "--log-format", "json"]) as srv:
            self.assertEqual(get(srv.url + "/metrics")[0], 404)
            rid = srv.client("iot").list_things()["ResponseMetadata"]["RequestId"]
            time.sleep(0.2)
            recs = []
            with open(os.path.join(srv.data_dir, "serve.log"), encoding="utf-8") as f:
                lines = f.read().splitlines()
            for l in lines:
                if l.startswith("{"):
                    recs.append(json.loads(l))
            acc = [r for r in recs if r.get("msg") == "access" and r.get("request_id") == rid]
            self.assertEqual(len(acc), 1)
            self.assertEqual(acc[0]["status"], "200")
            self.assertEqual(acc[0]["operation"], "ListThings")


class ConfigTest(unittest.TestCase):
    def test_version(self):
        p = run("--version")
        self.assertRegex(p.stdout, r"^iotdefender \d+\.\d+\.\d+\n\Z")

    def test_help_lists_every_env_variable(self):
        text = run("serve", "--help").stdout
        src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
        names = set()
        for root, _, files in os.walk(src):
            for f in files:
                if f.endswith(".c"):
                    with open(os.path.join(root, f)) as fh:
                        names |= set(re.findall(r'"(IOTDEFENDER_[A-Z_]+)"', fh.read()))
        self.assertTrue(names)
        for n in names:
            self.assertIn(n, text)

    def test_config_file_precedence(self):
        d = tempfile.mkdtemp(prefix="ddcfg-")
        try:
            cfg = os.path.join(d, "iotdefender.conf")
            with open(cfg, "w") as f:
                f.write("# test\nthreads = 3\nidle-timeout = 40\nlog-format = json\nsns-workers = 2\n")
            out = run("config", "check", cfg, env={"IOTDEFENDER_IDLE_TIMEOUT": "50"}).stdout
            self.assertIn("threads = 3  # config file", out)
            self.assertIn("idle-timeout = 50  # environment", out)
            self.assertIn("port = 7878  # default", out)
            with open(os.path.join(d, "bad.conf"), "w") as f:
                f.write("threads = 2\n\nno-such-key = 1\n")
            p = run("config", "check", os.path.join(d, "bad.conf"), check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("bad.conf:3: unknown key 'no-such-key'", p.stderr)
            with open(os.path.join(d, "long.conf"), "w") as f:
                f.write("bind = " + "1" * 5000 + "\n")
            p = run("config", "check", os.path.join(d, "long.conf"), check=False)
            self.assertIn("long.conf:1: line longer than", p.stderr)
            # serve: the file's port loses to the harness's --port flag; the file's
            # metrics-token is used, and loses to the environment's
            with open(cfg, "w") as f:
                f.write("port = 1\nmetrics-token = file-token\n")
            with Server(extra_args=["--config", cfg]) as srv:
                self.assertEqual(get(srv.url + "/metrics", "file-token")[0], 200)
            os.environ["IOTDEFENDER_METRICS_TOKEN"] = "env-token"
            try:
                with Server(extra_args=["--config", cfg]) as srv:
                    self.assertEqual(get(srv.url + "/metrics", "file-token")[0], 401)
                    self.assertEqual(get(srv.url + "/metrics", "env-token")[0], 200)
                with Server(extra_args=["--config", cfg, "--metrics-token", "flag-token"]) as srv:
                    self.assertEqual(get(srv.url + "/metrics", "env-token")[0], 401)
                    self.assertEqual(get(srv.url + "/metrics", "flag-token")[0], 200)
            finally:
                del os.environ["IOTDEFENDER_METRICS_TOKEN"]
        finally:
            shutil.rmtree(d, ignore_errors=True)


def db_findings(path, account_column="account_region"):
    """{task_id: finding count} of the COMPLETED audit tasks of a database file."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        self_check = con.execute("PRAGMA integrity_check").fetchone()[0]
        rows = con.execute(("SELECT t.task_id, (SELECT count(*) FROM audit_findings f WHERE f.{0} = t.{0}"
                            " AND f.task_id = t.task_id) FROM audit_tasks t WHERE t.status = 'COMPLETED'")
                           .format(account_column)).fetchall()
        return self_check, dict(rows)
    finally:
        con.close()


class BackupReportTest(unittest.TestCase):
    def fleet(self, srv, n=150):
        iot = srv.client("iot")
        for i in range(n):
            iot.create_policy(policyName="wide-%03d" % i, policyDocument=POLICY)
        role = audit_role(srv)
        enable(srv, role, ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"])
        return iot

    @unittest.skipIf(ON_PG, PG_ONLY_SQLITE + " (backup and restore copy that file)")
    def test_backup_while_auditing_restore_and_report(self):
        d = tempfile.mkdtemp(prefix="ddbak-")
        try:
            with Server(extra_args=["--metrics-token", "t"]) as srv:
                iot = self.fleet(srv)
                backups, errors = [], []
                stop = threading.Event()

                def backup_loop():
                    k = 0
                    while not stop.is_set():
                        path = os.path.join(d, "b%03d.db" % k)
                        p = run("backup", "--data-dir", srv.data_dir, path, check=False)
                        if p.returncode:
                            errors.append(p.stderr)
                        else:
                            backups.append(path)
                        k += 1

                t = threading.Thread(target=backup_loop)
                t.start()
                tasks = []
                try:
                    for _ in range(4):
                        tid = iot.start_on_demand_audit_task(
                            targetCheckNames=["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"])["taskId"]
                        tasks.append(tid)
                        self.assertEqual(wait_task(srv, tid)["taskStatus"], "COMPLETED")
                finally:
                    stop.set()
                    t.join()
                self.assertEqual(errors, [])
                self.assertGreater(len(backups), 1)
                live = os.path.join(srv.data_dir, "iotdefender.db")
                _, live_counts = db_findings(live)
                for tid in tasks:
                    self.assertGreaterEqual(live_counts[tid], 150)
                for b in backups:
                    ok, counts = db_findings(b)
                    self.assertEqual(ok, "ok")
                    for tid, n in counts.items():
                        self.assertEqual(n, live_counts[tid], "backup %s task %s" % (b, tid))
                fams = parse_prometheus(get(srv.url + "/metrics", "t")[1])
                self.assertEqual(sample(fams, "iotdefender_tasks_total", kind="audit", status="COMPLETED"), 4)
                self.assertGreaterEqual(sample(fams, "iotdefender_audit_findings_written_total"), 4 * 150)
                # a backup into an existing file is refused
                p = run("backup", "--data-dir", srv.data_dir, backups[0], check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("already exists", p.stderr)
                # restore is refused while the server holds the directory
                p = run("restore", "--data-dir", srv.data_dir, backups[-1], check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("stop the server first", p.stderr)
                final = os.path.join(d, "final.db")
                run("backup", "--data-dir", srv.data_dir, final)
                shutil.copy(os.path.join(srv.data_dir, "credentials"), os.path.join(d, "credentials"))

                # report: latest completed audit by default, every format
                text = run("report", "--data-dir", srv.data_dir).stdout
                self.assertIn("Audit " + tasks[-1], text)
                self.assertIn("IOT_POLICY_OVERLY_PERMISSIVE_CHECK", text)
                self.assertIn("policyVersionIdentifier wide-000 (version 1)", text)
                rep = json.loads(run("report", "--data-dir", srv.data_dir, "--task-id", tasks[0],
                                     "--format", "json").stdout)
                self.assertEqual(rep["taskId"], tasks[0])
                byname = {c["checkName"]: c for c in rep["checks"]}
                self.assertEqual(len(byname["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["findings"]), 150)
                self.assertEqual(sum(len(c["findings"]) for c in rep["checks"]), live_counts[tasks[0]])
                self.assertEqual(byname["LOGGING_DISABLED_CHECK"]["severity"], "LOW")
                self.assertEqual(rep["checks"][0]["severity"], "CRITICAL")
                csv_out = run("report", "--data-dir", srv.data_dir, "--format", "csv").stdout
                rows = csv_out.strip().splitlines()
                self.assertTrue(rows[0].startswith("task_id,check_name,"))
                self.assertEqual(sum(1 for r in rows if ",IOT_POLICY_OVERLY_PERMISSIVE_CHECK," in r), 150)
                html = run("report", "--data-dir", srv.data_dir, "--format", "html").stdout
                self.assertIn("<td>LOGGING_DISABLED_CHECK</td>", html)
                self.assertIn("wide-149", html)
                self.assertNotEqual(run("report", "--data-dir", srv.data_dir, "--task-id", "nope", check=False).returncode, 0)

            # restore into a fresh directory and serve it: every finding is there
            fresh = os.path.join(d, "fresh")
            out = run("restore", "--data-dir", fresh, final).stdout
            self.assertIn("restored", out)
            shutil.copy(os.path.join(d, "credentials"), os.path.join(fresh, "credentials"))
            os.chmod(os.path.join(fresh, "credentials"), 0o600)
            with Server(data_dir=fresh) as srv2:
                for tid in tasks:
                    n = 0
                    for page in srv2.client("iot").get_paginator("list_audit_findings").paginate(taskId=tid):
                        n += len(page["findings"])
                    self.assertEqual(n, live_counts[tid])
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_audit_run(self):
        with Server() as srv:
            self.fleet(srv, n=3)
            srv.stop()
            p = run("audit", "run", "--data-dir", srv.data_dir)
            self.assertIn("2 of 2 checks done", p.stderr)
            self.assertIn("IOT_POLICY_OVERLY_PERMISSIVE_CHECK", p.stdout)
            self.assertIn("wide-002", p.stdout)
            srv.start()
            p = run("audit", "run", "--data-dir", srv.data_dir, check=False)
            self.assertNotEqual(p.returncode, 0)


class InstallTest(unittest.TestCase):
    def test_install_tree(self):
        """`cmake --install` of the build under test (what `make install` runs) into a
        temporary prefix: binary, sandboxed unit pointing at it, a valid default config."""
        build = os.path.dirname(os.path.abspath(BIN))
        if not os.path.exists(os.path.join(build, "cmake_install.cmake")):
            self.skipTest("the binary is not in a CMake build directory")
        root = tempfile.mkdtemp(prefix="ddinstall-")
        try:
            p = subprocess.run(["cmake", "--install", build], capture_output=True, text=True, timeout=120,
                               env=dict(os.environ, DESTDIR=root))
            self.assertEqual(p.returncode, 0, p.stderr)
            installed = [os.path.join(r, f) for r, _, fs in os.walk(root) for f in fs]
            exes = [f for f in installed if f.endswith("/bin/iotdefender")]
            self.assertEqual(len(exes), 1, installed)
            exe = exes[0]
            prefix = exe[len(root):-len("/bin/iotdefender")]  # the configured PREFIX
            self.assertTrue(os.access(exe, os.X_OK))
            self.assertRegex(subprocess.run([exe, "--version"], capture_output=True, text=True).stdout,
                             r"^iotdefender \d+\.\d+\.\d+")
            with open(root + prefix + "/lib/systemd/system/iotdefender.service") as f:
                unit = f.read()
            for line in ("DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=iotdefender"):
                self.assertIn(line + "\n", unit)
            self.assertIn("ExecStart=" + prefix + "/bin/iotdefender serve --config ", unit)
            self.assertTrue(os.path.exists(root + prefix + "/share/doc/iotdefender/OPERATIONS.md"))
            confs = [f for f in installed if f.endswith("/iotdefender/iotdefender.conf")]
            self.assertIn("--config " + confs[0][len(root):] + " ", unit)
            self.assertEqual(len(confs), 1)
            out = subprocess.run([exe, "config", "check", confs[0]], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("log-level = info  # config file", out.stdout)
        finally:
            shutil.rmtree(root, ignore_errors=True)


class SchemaTest(unittest.TestCase):
    @unittest.skipIf(ON_PG, PG_ONLY_SQLITE + " (its user_version, and a backup file before migrating)")
    def test_newer_schema_refused_and_backup_before_migrating(self):
        srv = Server(data_dir=tempfile.mkdtemp(prefix="ddschema-"))
        srv.own_dir = True
        srv.start()
        srv.client("iot").create_thing(thingName="keep")
        srv.stop()
        db = os.path.join(srv.data_dir, "iotdefender.db")
        con = sqlite3.connect(db)
        (current,) = con.execute("PRAGMA user_version").fetchone()
        con.execute("PRAGMA user_version = %d" % (current + 7))
        con.commit()
        con.close()
        try:
            with self.assertRaises(RuntimeError) as cm:
                srv.start()
            msg = str(cm.exception)
            self.assertIn("schema version is %d, newer than this binary's %d" % (current + 7, current), msg)
            # an older schema is backed up before it is migrated: a store written by the
            # binary before regions (schema 6; tests/data/regions, see its README)
            srv.cleanup()
            fixture = os.path.join(os.path.dirname(__file__), "..", "data", "regions")
            with open(os.path.join(fixture, "fixture.json")) as f:
                fx = json.load(f)
            data = tempfile.mkdtemp(prefix="ddschema-old-")
            with gzip.open(os.path.join(fixture, "iotdefender.db.gz")) as src, \
                    open(os.path.join(data, "iotdefender.db"), "wb") as dst:
                shutil.copyfileobj(src, dst)
            creds = os.path.join(data, "credentials")
            write_credentials(creds, [("old", fx["access_key"], fx["secret_key"], fx["account"])])
            srv = Server(data_dir=data, credentials=creds)
            srv.own_dir = True
            srv.start()
            self.assertEqual(srv.client("iot").describe_thing(thingName=fx["thing"])["thingName"], fx["thing"])
            bdir = os.path.join(srv.data_dir, "backups")
            names = os.listdir(bdir)
            self.assertEqual(len(names), 1)
            self.assertRegex(names[0], r"^iotdefender-6-\d{8}T\d{6}Z\.db$")
            ok, _ = db_findings(os.path.join(bdir, names[0]), account_column="account")

        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
