#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ctest pg.schema: the PostgreSQL migrations (src/store/dd_store_schema_pg.c) must build the
same schema as SQLite's (src/store/dd_store_schema.c). Both arrays come from the compiled
store (tests/pg/dd_schema_dump). SQLite's are applied with Python's sqlite3 as the server
applies them; PostgreSQL's through psql -v ON_ERROR_STOP=1 -c (one simple-protocol query per
migration, as the driver's PQexec) into a fresh database, following the driver's protocol
(advisory lock, dd_schema_version, one transaction per migration).
Then, for every table: the columns in order with their type class (integer, text, nocase
text, blob), NOT NULL, default and auto-increment; the primary key in order; the number of
CHECK constraints; every index (name, table, columns, unique, partial); every trigger (name,
table, event). The change journal's triggers are also run: the same statements on both must
write the same journal rows, with a current ts. Rows stored before migration 7 (regions)
must come out of it the same on both.

usage: schema_compare.py DD_SCHEMA_DUMP [SERVER_URL | --url-file FILE]; without a URL it
starts its own cluster with scripts/pg_tmp.sh."""
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def dump(prog, what):
    out = subprocess.run([prog, what], check=True, capture_output=True).stdout
    parts = out.split(b"\0")
    assert parts[-1] == b"", "dd_schema_dump output must end with a NUL"
    return [p.decode() for p in parts[:-1]]


class Pg:
    """psql against one database of the server at url."""

    def __init__(self, url):
        self.url = url

    def run(self, sql, check=True):
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-f", "-"],
                           input=sql, capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("psql failed (%d): %s\n--- SQL ---\n%s" % (p.returncode, p.stderr, sql[:3000]))
        return p

    def exec(self, sql):
        """sql as one simple-protocol query (psql -c sends it with one PQexec, as the driver
        does: no psql variables or backslash commands)."""
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-c", sql],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("psql failed (%d): %s\n--- SQL ---\n%s" % (p.returncode, p.stderr, sql[:3000]))

    def rows(self, sql):
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-d", self.url,
                            "-c", sql], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("psql failed: %s\n%s" % (p.stderr, sql))
        return [tuple(line.split("\x1f")) for line in p.stdout.splitlines() if line != ""]


def with_db(url, name):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


# ---- SQLite ----------------------------------------------------------------------------
def sqlite_schema(con):
    s = {"tables": {}, "indexes": {}, "triggers": {}}
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for t in tables:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (t,)).fetchone()[0]
        nocase = set(re.findall(r"\b(\w+) TEXT (?:NOT NULL )?(?:PRIMARY KEY )?COLLATE NOCASE", sql))
        cols, pk = [], []
        for cid, name, typ, notnull, dflt, pkpos in con.execute("PRAGMA table_info(%s)" % t):
            typ = typ.upper()
            cls = {"INTEGER": "integer", "TEXT": "text", "BLOB": "blob"}[typ]
            if cls == "text" and name in nocase:
                cls = "nocase"
            auto = bool(pkpos) and typ == "INTEGER" and re.search(
                r"\b%s INTEGER PRIMARY KEY AUTOINCREMENT" % name, sql) is not None
            cols.append((name, cls, bool(notnull) or pkpos > 0, dflt, auto))
            if pkpos:
                pk.append((pkpos, name))
        checks = len(re.findall(r"\bCHECK\s*\(", sql))
        s["tables"][t] = {"columns": cols, "pk": [n for _, n in sorted(pk)], "checks": checks}
        for _, iname, unique, origin, partial in con.execute("PRAGMA index_list(%s)" % t):
            if origin != "c":  # primary key and UNIQUE-constraint indexes are compared as keys
                continue
            icols = [r[2] for r in con.execute("PRAGMA index_info(%s)" % iname)]
            s["indexes"][iname] = (t, icols, bool(unique), bool(partial))
    for name, tbl, sql in con.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"):
        m = re.search(r"\b(AFTER|BEFORE|INSTEAD OF) (INSERT|UPDATE|DELETE)( OF ([\w, ]+?))? ON", sql)
        s["triggers"][name] = (tbl, m.group(1), m.group(2), (m.group(4) or "").strip())
    return s


def sqlite_apply(con, migrations, upto=None):
    v = con.execute("PRAGMA user_version").fetchone()[0]
    for i in range(v, upto if upto is not None else len(migrations)):
        con.executescript("BEGIN;" + migrations[i] + ";PRAGMA user_version=%d;COMMIT;" % (i + 1))


# ---- PostgreSQL --------------------------------------------------------------------------
def pg_apply(pg, migrations, lock, version_table, upto=None):
    pg.exec("BEGIN;" + lock + ";" + version_table + "COMMIT;")
    v = int(pg.rows("SELECT version FROM dd_schema_version WHERE id = 1")[0][0])
    for i in range(v, upto if upto is not None else len(migrations)):
        pg.exec("BEGIN;\n" + lock + ";\n" + migrations[i] +
                "\nUPDATE dd_schema_version SET version = %d WHERE id = 1;\nCOMMIT;\n" % (i + 1))


def pg_schema(pg):
    s = {"tables": {}, "indexes": {}, "triggers": {}, "bad_collation": []}
    for t, in pg.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                      " AND table_type = 'BASE TABLE' AND table_name <> 'dd_schema_version'"):
        s["tables"][t] = {"columns": [], "pk": [], "checks": 0}
    for t, name, dtype, domain, nullable, dflt, ident, coll in pg.rows(
            "SELECT c.table_name, c.column_name, c.data_type, coalesce(c.domain_name, ''), c.is_nullable,"
            " coalesce(c.column_default, '\x01'), c.is_identity, coalesce(co.collname, '')"
            " FROM information_schema.columns c"
            " JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_name))::regclass AND a.attname = c.column_name"
            " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
            " WHERE c.table_schema = current_schema() AND c.table_name <> 'dd_schema_version'"
            " ORDER BY c.table_name, c.ordinal_position"):
        if t not in s["tables"]:
            continue  # a view
        cls = {"bigint": "integer", "bytea": "blob"}.get(dtype)
        if domain == "dd_text":
            cls = "text"
        elif domain == "dd_nocase":
            cls = "nocase"
        if cls is None:
            cls = "unexpected type %s %s" % (dtype, domain)
        if cls in ("text", "nocase") and coll != "C":
            s["bad_collation"].append("%s.%s has collation %r, not \"C\"" % (t, name, coll))
        dflt = None if dflt == "\x01" else re.sub(r"::[\w ]+$", "", dflt)
        s["tables"][t]["columns"].append((name, cls, nullable == "NO", dflt, ident == "YES"))
    for t, col in pg.rows(
            "SELECT k.table_name, k.column_name FROM information_schema.table_constraints c"
            " JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name"
            " AND k.table_schema = c.table_schema AND k.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND c.constraint_type = 'PRIMARY KEY'"
            " ORDER BY k.table_name, k.ordinal_position"):
        if t in s["tables"]:
            s["tables"][t]["pk"].append(col)
    for t, n in pg.rows("SELECT r.relname, count(*) FROM pg_constraint x JOIN pg_class r ON r.oid = x.conrelid"
                        " JOIN pg_namespace ns ON ns.oid = r.relnamespace"
                        " WHERE ns.nspname = current_schema() AND x.contype = 'c' GROUP BY r.relname"):
        if t in s["tables"]:
            s["tables"][t]["checks"] = int(n)
    for iname, tbl, unique, partial, icols in pg.rows(
            "SELECT i.relname, t.relname, x.indisunique, x.indpred IS NOT NULL,"
            " (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)"
            "  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE n.nspname = current_schema() AND NOT x.indisprimary AND t.relname <> 'dd_schema_version'"):
        s["indexes"][iname] = (tbl, icols.split(","), unique == "t", partial == "t")
    for name, tbl, timing, event, cols in pg.rows(
            "SELECT t.tgname, c.relname, CASE WHEN t.tgtype & 2 <> 0 THEN 'BEFORE' ELSE 'AFTER' END,"
            " CASE WHEN t.tgtype & 4 <> 0 THEN 'INSERT' WHEN t.tgtype & 8 <> 0 THEN 'DELETE' ELSE 'UPDATE' END,"
            " coalesce((SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a"
            "  WHERE a.attrelid = c.oid AND a.attnum = ANY(t.tgattr)), '')"
            " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND NOT t.tgisinternal"):
        s["triggers"][name] = (tbl, timing, event, cols)
    return s


def diff(a, b):
    """Differences between the SQLite schema a and the PostgreSQL schema b, as lines."""
    out = []
    for t in sorted(set(a["tables"]) | set(b["tables"])):
        if t not in b["tables"]:
            out.append("table %s: in SQLite only" % t)
            continue
        if t not in a["tables"]:
            out.append("table %s: in PostgreSQL only" % t)
            continue
        ta, tb = a["tables"][t], b["tables"][t]
        if [c[0] for c in ta["columns"]] != [c[0] for c in tb["columns"]]:
            out.append("table %s: columns %s (SQLite) vs %s (PostgreSQL)"
                       % (t, [c[0] for c in ta["columns"]], [c[0] for c in tb["columns"]]))
        for ca in ta["columns"]:
            cb = next((c for c in tb["columns"] if c[0] == ca[0]), None)
            if cb is not None and ca != cb:
                out.append("table %s column %s: %s (SQLite) vs %s (PostgreSQL)"
                           " [name, type, not null, default, auto-increment]" % (t, ca[0], ca, cb))
        if ta["pk"] != tb["pk"]:
            out.append("table %s: primary key %s (SQLite) vs %s (PostgreSQL)" % (t, ta["pk"], tb["pk"]))
        if ta["checks"] != tb["checks"]:
            out.append("table %s: %d CHECK constraints (SQLite) vs %d (PostgreSQL)" % (t, ta["checks"], tb["checks"]))
    for what in ("indexes", "triggers"):
        for n in sorted(set(a[what]) | set(b[what])):
            if a[what].get(n) != b[what].get(n):
                out.append("%s %s: %s (SQLite) vs %s (PostgreSQL)" % (what[:-2] if what == "indexes" else "trigger",
                                                                     n, a[what].get(n), b[what].get(n)))
    out += b["bad_collation"]
    return out


# Rows stored before the regions migration, with two IoT ARNs of different regions naming
# the same resource (one row must remain, the one SQLite's INSERT OR REPLACE keeps).
BEFORE_REGIONS = """
INSERT INTO things(account, name, thing_id, created) VALUES ('111122223333', 't1', 'id1', 5);
INSERT INTO policy_targets(account, policy_name, target) VALUES
 ('111122223333', 'p', 'arn:aws:iot:eu-west-1:111122223333:cert/abc'),
 ('111122223333', 'p', 'arn:aws:iot:us-east-1:111122223333:cert/abc'),
 ('111122223333', 'p', 'ARN:AWS:IOT:ap-south-1:111122223333:cert/def'),
 ('111122223333', 'p', 'us-east-1:identity-1');
INSERT INTO thing_principals(account, thing_name, principal, type) VALUES
 ('111122223333', 't1', 'arn:aws:iot:eu-west-1:111122223333:cert/abc', 'EXCLUSIVE_THING'),
 ('111122223333', 't1', 'arn:aws:iot:us-west-2:111122223333:cert/abc', 'NON_EXCLUSIVE_THING');
INSERT INTO tags(account, resource_arn, key, value) VALUES
 ('111122223333', 'arn:aws:iot:eu-west-1:111122223333:thing/t1', 'k', 'eu'),
 ('111122223333', 'arn:aws:iot:us-east-1:111122223333:thing/t1', 'k', 'us'),
 ('111122223333', 'arn:aws:iot:eu-west-1:111122223333:thing/t1', 'k2', 'only');
INSERT INTO audit_tasks(account, task_id, task_type, status, region, start_ms, checks, window_start_ms)
 VALUES ('111122223333', 'task1', 'ON_DEMAND_AUDIT_TASK', 'COMPLETED', 'us-east-1', 7, '[]', 6);
INSERT INTO connection_events(account, event, client_id, ts) VALUES ('111122223333', 'CONNECT', 'c1', 9);
INSERT INTO connection_events(account, event, client_id, ts) VALUES ('111122223333', 'DISCONNECT', 'c1', 10);
"""
AFTER_REGIONS = [
    "SELECT account_region, name, thing_id, created FROM things ORDER BY 1, 2",
    "SELECT account_region, policy_name, target FROM policy_targets ORDER BY 1, 2, 3",
    "SELECT account_region, thing_name, principal, type FROM thing_principals ORDER BY 1, 2, 3",
    "SELECT account_region, resource_arn, key, value FROM tags ORDER BY 1, 2, 3",
    "SELECT account_region, task_id, status, start_ms FROM audit_tasks ORDER BY 1, 2",
    "SELECT seq, account_region, event, client_id, ts FROM connection_events ORDER BY seq",
]

# Statements (the dialect both share) that fire every change-journal trigger, and some that
# must not (an UPDATE leaving a status as it was, an UPDATE of another column). Each that
# writes a journal row changes one row: the order of the rows of one statement is the
# table's scan order, which the two engines need not share.
R = "'111122223333/us-east-1'"
JOURNAL_DML = """
INSERT INTO certificates(account_region, id, status, pem, owner, created, modified, generation_id)
 VALUES ({r}, 'c1', 'ACTIVE', 'pem', 'o', 1, 1, 'g'), ({r}, 'c2', 'ACTIVE', 'pem', 'o', 1, 1, 'g');
UPDATE certificates SET status = 'INACTIVE' WHERE id = 'c1';
UPDATE certificates SET status = 'ACTIVE' WHERE id = 'c2';
UPDATE certificates SET modified = 2;
DELETE FROM certificates WHERE id = 'c2';
INSERT INTO ca_certificates(account_region, id, status, pem, owner, created, modified, generation_id)
 VALUES ({r}, 'ca1', 'ACTIVE', 'pem', 'o', 1, 1, 'g');
UPDATE ca_certificates SET status = 'INACTIVE' WHERE id = 'ca1';
UPDATE ca_certificates SET status = 'INACTIVE' WHERE id = 'ca1';
DELETE FROM ca_certificates WHERE id = 'ca1';
INSERT INTO crls(account_region, ca_id, issuer, this_update, next_update, der, source, stored, n_revoked)
 VALUES ({r}, 'ca1', 'i', 1, 2, 'der', 's', 1, 0);
UPDATE crls SET n_revoked = 1;
INSERT INTO policies(account_region, name, default_version, next_version, created, modified, generation_id)
 VALUES ({r}, 'p1', 1, 2, 1, 1, 'g');
UPDATE policies SET default_version = 1, modified = 3 WHERE name = 'p1';
UPDATE policies SET modified = 4 WHERE name = 'p1';
INSERT INTO policy_targets(account_region, policy_name, target) VALUES ({r}, 'p1', 'arn:t1');
DELETE FROM policy_targets WHERE target = 'arn:t1';
DELETE FROM policies WHERE name = 'p1';
INSERT INTO things(account_region, name, thing_id, created) VALUES ({r}, 'th1', 'i1', 1);
UPDATE things SET version = version + 1 WHERE name = 'th1';
INSERT INTO thing_principals(account_region, thing_name, principal) VALUES ({r}, 'th1', 'arn:pr1');
DELETE FROM thing_principals WHERE principal = 'arn:pr1';
INSERT INTO thing_groups(account_region, name, group_id, created) VALUES ({r}, 'g1', 'gid1', 1), ({r}, 'g2', 'gid2', 1);
UPDATE thing_groups SET parent = 'g1' WHERE name = 'g2';
UPDATE thing_groups SET description = 'd' WHERE name = 'g1';
INSERT INTO thing_group_members(account_region, group_name, thing_name) VALUES ({r}, 'g1', 'th1');
DELETE FROM thing_group_members;
INSERT INTO settings(account_region, key, value) VALUES ({r}, 'logging', 'a');
INSERT INTO settings(account_region, key, value) VALUES ({r}, 'logging', 'b')
 ON CONFLICT(account_region, key) DO UPDATE SET value = excluded.value;
INSERT INTO settings(account_region, key, value) VALUES ({r}, 'logging', 'c') ON CONFLICT DO NOTHING;
INSERT INTO v2_log_levels(account_region, target_type, target_name, level) VALUES ({r}, 'THING', 'th1', 'INFO');
DELETE FROM v2_log_levels;
""".format(r=R)
JOURNAL_ROWS = "SELECT account_region, kind, subject, coalesce(arg, '') FROM changes ORDER BY seq"


def run_checks(prog, server_url):
    sq_m = dump(prog, "sqlite")
    pg_m = dump(prog, "pg")
    lock, version_table = dump(prog, "pg-protocol")
    failures = []
    if len(sq_m) != len(pg_m):
        failures.append("%d SQLite migrations but %d PostgreSQL ones (dd_store_schema_pg.c must translate each)"
                        % (len(sq_m), len(pg_m)))
    name = "dd_schema_" + secrets.token_hex(6)
    admin = Pg(server_url)
    admin.run("CREATE DATABASE %s" % name)
    tmp = tempfile.mkdtemp(prefix="ddschema-")
    try:
        pg = Pg(with_db(server_url, name))
        con = sqlite3.connect(os.path.join(tmp, "s.db"), isolation_level=None)
        n = min(len(sq_m), len(pg_m))
        # Up to the regions migration, rows stored then, the rest.
        pre = min(6, n)
        sqlite_apply(con, sq_m[:n], pre)
        pg_apply(pg, pg_m[:n], lock, version_table, pre)
        if n > 6:
            con.executescript(BEFORE_REGIONS)
            pg.run(BEFORE_REGIONS)
        sqlite_apply(con, sq_m[:n])
        pg_apply(pg, pg_m[:n], lock, version_table)
        # Applying again is a no-op (the version table says all are applied).
        pg_apply(pg, pg_m[:n], lock, version_table)
        v = pg.rows("SELECT version FROM dd_schema_version")
        if v != [(str(n),)]:
            failures.append("dd_schema_version holds %s after %d migrations" % (v, n))
        if n > 6:
            for q in AFTER_REGIONS:
                a = [tuple("" if x is None else str(x) for x in r) for r in con.execute(q)]
                b = pg.rows(q)
                if a != b:
                    failures.append("after migration 7, %s:\n  SQLite     %s\n  PostgreSQL %s" % (q, a, b))
        failures += diff(sqlite_schema(con), pg_schema(pg))
        if n >= 8:
            con.execute("DELETE FROM changes")
            pg.run("DELETE FROM changes")
            t0 = int(time.time() * 1000)
            con.executescript(JOURNAL_DML)
            pg.run(JOURNAL_DML)
            t1 = int(time.time() * 1000)
            a = [tuple("" if x is None else str(x) for x in r) for r in con.execute(JOURNAL_ROWS)]
            b = pg.rows(JOURNAL_ROWS)
            if a != b:
                failures.append("change journal rows differ:\n  SQLite     %s\n  PostgreSQL %s" % (a, b))
            if len(a) < 20:
                failures.append("the journal statements wrote only %d rows on SQLite" % len(a))
            for (ts,) in pg.rows("SELECT ts FROM changes"):
                if not t0 - 1000 <= int(ts) <= t1 + 1000:
                    failures.append("PostgreSQL journal ts %s outside [%d, %d]" % (ts, t0, t1))
                    break
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        admin.run("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, check=False)
    return n, failures


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    prog = sys.argv[1]
    url, cluster = None, None
    if len(sys.argv) == 4 and sys.argv[2] == "--url-file":
        with open(sys.argv[3]) as f:
            url = f.read().strip()
    elif len(sys.argv) == 3:
        url = sys.argv[2]
    if not url:
        cluster = tempfile.mkdtemp(prefix="ddschema-pg-")
        os.chmod(cluster, 0o755)
        url = subprocess.run([os.path.join(ROOT, "scripts", "pg_tmp.sh"), "start", cluster], check=True,
                             capture_output=True, text=True).stdout.strip()
    try:
        n, failures = run_checks(prog, url)
    finally:
        if cluster:
            subprocess.run([os.path.join(ROOT, "scripts", "pg_tmp.sh"), "stop", cluster], check=False)
            shutil.rmtree(cluster, ignore_errors=True)
    if failures:
        print("the PostgreSQL schema differs from SQLite's:")
        for f in failures:
            print("  " + f)
        return 1
    print("pg.schema: %d migrations; tables, columns, keys, indexes, triggers, journal rows and the"
          " regions data migration agree" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
