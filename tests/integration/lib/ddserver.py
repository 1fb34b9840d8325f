"""Test harness: starts a real `iotdefender serve` on 127.0.0.1 on a free port with a
fresh data directory, and gives boto3 clients and aws CLI runners pointed at it. The
server is stopped by its PID (SIGTERM, then SIGKILL after a grace period).

With DD_TEST_STORE set to a PostgreSQL server URL (ctest's integration-pg.* copies set it
from the cluster scripts/pg_tmp.sh started), every data directory gets its own fresh
database on that server (dd_<random>, created through psql on first use), which the server
is started on (`--store`) and which every other command run on that data directory gets
through IOTDEFENDER_STORE (store_env); it is dropped when a server that made its own data
directory is cleaned up, the others when the test process exits. query() reads the store
directly, through sqlite3 or psql."""
import atexit
import configparser
import datetime
import json
import os
import secrets
import shutil
import sqlite3
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

BIN = os.environ.get("IOTDEFENDER_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "build", "iotdefender")
AWS_V2 = "/usr/bin/aws"
# Outbound requests (SNS deliveries, CRL fetches) refuse loopback by default; tests whose
# subscribers and CRL servers listen on 127.0.0.1 start the server with this allow-list.
LOCAL_OUTBOUND = ["--outbound-allow", "127.0.0.0/8"]


# ---- the store: SQLite in the data directory, or a PostgreSQL database per data directory
STORE = os.environ.get("DD_TEST_STORE") or None
ON_PG = STORE is not None
PG_ONLY_SQLITE = "the test reads or replaces the SQLite file iotdefender.db, which a PostgreSQL store does not have"
_databases = {}  # realpath of a data directory -> (database name, URL)


def _psql(url, sql, variables=()):
    """Runs sql (psql variables :'v1'... from variables) and returns psql's unaligned output."""
    cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"]
    for i, v in enumerate(variables, 1):
        cmd += ["-v", "v%d=%s" % (i, v)]
    p = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("psql failed (%d): %s" % (p.returncode, p.stderr))
    return p.stdout


def _with_database(url, name):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def store_url(data_dir):
    """The PostgreSQL URL of data_dir's database under DD_TEST_STORE (created on first use),
    or None on SQLite."""
    if not ON_PG:
        return None
    key = os.path.realpath(data_dir)
    if key not in _databases:
        name = "dd_" + secrets.token_hex(8)
        _psql(STORE, "CREATE DATABASE %s;" % name)
        _databases[key] = (name, _with_database(STORE, name))
    return _databases[key][1]


def store_env(data_dir, env=None):
    """The environment for an iotdefender command on data_dir: env (default os.environ)
    with IOTDEFENDER_STORE naming data_dir's database on PostgreSQL; None (inherit) on
    SQLite without env."""
    if not ON_PG:
        return env
    return dict(env if env is not None else os.environ, IOTDEFENDER_STORE=store_url(data_dir))


def drop_store(data_dir):
    """Drops data_dir's database (PostgreSQL only; nothing on SQLite)."""
    entry = _databases.pop(os.path.realpath(data_dir), None)
    if entry:
        try:
            _psql(STORE, "DROP DATABASE IF EXISTS %s WITH (FORCE);" % entry[0])
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            pass


def _drop_all():
    for key in list(_databases):
        drop_store(key)


atexit.register(_drop_all)


def _psql_text(sql, params):
    """sql with its ? placeholders as the psql variables :'v1'... that _psql binds."""
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError("%d parameters for %d placeholders" % (len(params), len(parts) - 1))
    return parts[0] + "".join(":'v%d'%s" % (i, part) for i, part in enumerate(parts[1:], 1))


def query(data_dir, sql, params=()):
    """Rows (tuples of int, str or None) of one SELECT on data_dir's store, with ?
    parameters: sqlite3 on the data directory's iotdefender.db, or psql on its database."""
    if not ON_PG:
        with sqlite3.connect(os.path.join(data_dir, "iotdefender.db"), timeout=10) as db:
            return db.execute(sql, params).fetchall()
    out = _psql(store_url(data_dir), "SELECT row_to_json(q) FROM (%s) q;" % _psql_text(sql, params),
                [str(p) for p in params])
    return [tuple(json.loads(line, object_pairs_hook=lambda kv: [v for _, v in kv])) for line in out.splitlines()
            if line]


def execute(data_dir, sql, params=()):
    """Runs one statement that returns no rows (an UPDATE, with ? parameters) on data_dir's
    store, whose server is stopped; returns nothing."""
    if not ON_PG:
        with sqlite3.connect(os.path.join(data_dir, "iotdefender.db"), timeout=10) as db:
            db.execute(sql, params)
        return
    _psql(store_url(data_dir), _psql_text(sql, params) + ";", [str(p) for p in params])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running iotdefender. Use as a context manager or call start()/stop()."""

    def __init__(self, data_dir=None, credentials=None, extra_args=(), log_name="serve.log", env=None,
                 log_level="warn"):
        """data_dir: an existing directory to serve (kept at cleanup); several servers on
        one directory (each with --shared-data-dir) need their own log_name. env: extra
        environment variables of the server process."""
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="ddtest-")
        self.credentials = credentials
        self.extra_args = list(extra_args)
        self.log_name = log_name
        self.extra_env = dict(env or {})
        self.log_level = log_level
        self.proc = None
        self.port = None

    def start(self):
        self.port = free_port()
        args = [BIN, "serve", "--port", str(self.port), "--data-dir", self.data_dir, "--log-level", self.log_level]
        if self.credentials:
            args += ["--credentials", self.credentials]
        if ON_PG:
            args += ["--store", store_url(self.data_dir)]
        args += self.extra_args
        self.log = open(self.log_path, "ab")
        penv = None
        if self.extra_env:
            penv = dict(os.environ)
            penv.update({k: str(v) for k, v in self.extra_env.items()})
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=store_env(self.data_dir, penv))
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("iotdefender exited: " + self.read_log())
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("iotdefender did not start: " + self.read_log())
        creds = configparser.ConfigParser()
        creds.read(self.credentials or os.path.join(self.data_dir, "credentials"))
        self.keys = [dict(creds[s]) for s in creds.sections()]
        return self

    @property
    def log_path(self):
        return os.path.join(self.data_dir, self.log_name)

    def read_log(self):
        """The log's last 4,000 characters ("" when it cannot be read)."""
        try:
            return self.read_log_all()[-4000:]
        except OSError:
            return ""

    def read_log_all(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
            self.check_sanitizers()
        self.proc = None

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "ERROR: ThreadSanitizer")

    def check_sanitizers(self):
        """In a sanitizer build the server reports memory errors, leaks (at exit) and
        undefined behaviour on its stderr, which goes to serve.log: a report fails the
        test that ran the server, even though the process itself was stopped by us."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return
        for mark in self.SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                raise AssertionError("the server's sanitizer reported: " + text[max(0, i - 200):i + 3000])

    def kill(self):
        self.stop(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.own_dir:
            drop_store(self.data_dir)
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # ---- clients -----------------------------------------------------------------
    def key(self, i=0):
        return self.keys[i]

    def env(self, i=0, region="us-east-1"):
        """Environment for the aws CLI (v1 honours AWS_ENDPOINT_URL too)."""
        k = self.key(i)
        e = dict(os.environ)
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            e.pop(var, None)
        e.update({
            "AWS_ACCESS_KEY_ID": k["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": k["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_PAGER": "",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_MAX_ATTEMPTS": "1",
        })
        return e

    def client(self, service, i=0, region="us-east-1", validate=True):
        import boto3
        import botocore.config
        k = self.key(i)
        return boto3.client(
            service, endpoint_url=self.url, region_name=region,
            aws_access_key_id=k["aws_access_key_id"],
            aws_secret_access_key=k["aws_secret_access_key"],
            config=botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=validate))

    def aws(self, *args, v2=False, i=0, check=True):
        """Runs the aws CLI (v1 from PATH, or Debian's v2) and returns parsed JSON output
        (or the text when it is not JSON). Raises on a non-zero exit when check."""
        cmd = [AWS_V2, "--endpoint-url", self.url] if v2 else ["aws"]
        cmd += list(args)
        p = subprocess.run(cmd, env=self.env(i), capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        if not check:
            return p
        out = p.stdout.strip()
        if not out:
            return None
        try:
            return json.loads(out)
        except ValueError:
            return out


def write_credentials(path, accounts):
    """accounts: list of (profile, access_key, secret, account_id)."""
    with open(path, "w") as f:
        for prof, ak, sk, acct in accounts:
            f.write("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naccount_id = %s\n\n"
                    % (prof, ak, sk, acct))
    os.chmod(path, 0o600)


def sign_at(signer, request, when):
    """Signs request with botocore's signer as if the clock read `when` (a naive UTC
    datetime): botocore takes its timestamp from datetime.datetime, swapped for the call."""
    orig = datetime.datetime

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

        @classmethod
        def now(cls, tz=None):
            return when.replace(tzinfo=tz) if tz else when

    datetime.datetime = Fixed
    try:
        signer.add_auth(request)
    finally:
        datetime.datetime = orig
