#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ctest lint.order_nulls: SQLite sorts NULL first in ascending order, PostgreSQL last, so an
ORDER BY on a column that may be NULL gives the two stores different listings (and
different paging). Every ORDER BY in src/store/dd_store_*.c must sort only columns that
cannot be NULL there: declared NOT NULL (or in the primary key) in the schema the SQLite
migrations build, or filtered with `<column> IS NOT NULL` in the same statement; a column
of a LEFT JOIN counts as nullable. A term that handles NULL itself (`NULLS FIRST/LAST`,
`coalesce(`, `IS NULL`, `CASE`) is accepted. Terms that name no column of the tables in
the statement (expressions) are not checked.

Prints `file:line: ORDER BY <column> may be NULL (<table>)` and exits 1 on a violation.
usage: check_order_nulls.py DD_SCHEMA_DUMP [ROOT]"""
import glob
import os
import re
import sqlite3
import subprocess
import sys


def schema(prog):
    out = subprocess.run([prog, "sqlite"], check=True, capture_output=True).stdout
    parts = out.split(b"\0")
    db = sqlite3.connect(":memory:")
    for p in parts[:-1]:
        db.executescript(p.decode())
    cols = {}
    for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for _cid, name, _typ, notnull, _dflt, pk in db.execute("PRAGMA table_info('%s')" % t):
            cols[(t, name)] = bool(notnull) or pk > 0
    return cols


def statements(path):
    """(line, SQL text) of every string literal run that holds ORDER BY: adjacent literals
    joined, macro arguments between them dropped."""
    src = open(path).read()
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"(?:\s*(?:\\\s*)?(?:[A-Za-z_][A-Za-z_0-9]*(?:\([^()]*\))?\s*)?"(?:[^"\\\n]|\\.)*")*', src):
        text = "".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0)))
        if "ORDER BY" in text:
            yield src.count("\n", 0, m.start()) + 1, text


NULL_SAFE = re.compile(r"NULLS (FIRST|LAST)|coalesce\(|IS NULL|CASE ", re.I)


def check(cols, root):
    bad = []
    for path in sorted(glob.glob(os.path.join(root, "src", "store", "dd_store_*.c"))):
        if "schema" in os.path.basename(path):
            continue
        for line, sql in statements(path):
            tables = re.findall(r"\b(LEFT\s+(?:OUTER\s+)?JOIN|JOIN|FROM)\s+([a-z_]+)(?:\s+(?:AS\s+)?([a-z]\w*))?", sql, re.I)
            for ob in re.findall(r"ORDER BY (.*?)(?=\s+LIMIT\b|\)|\s+FOR UPDATE\b|$)", sql):
                for term in ob.split(","):
                    term = term.strip()
                    if not term or NULL_SAFE.search(term):
                        continue
                    word = re.match(r"\(?([a-z_][\w.]*)", term, re.I)
                    if not word:
                        continue
                    alias, _, col = word.group(1).rpartition(".")
                    for kind, table, al in tables:
                        if al in ("WHERE", "ON", "USING", "JOIN", "LEFT", "ORDER", "GROUP", "LIMIT"):
                            al = ""
                        if alias and alias not in (al, table):
                            continue
                        if (table, col) not in cols:
                            continue
                        nullable = not cols[(table, col)] or kind.upper().startswith("LEFT")
                        filtered = re.search(r"\b%s\s+IS NOT NULL" % re.escape(word.group(1)), sql, re.I)
                        if nullable and not filtered:
                            bad.append("%s:%d: ORDER BY %s may be NULL (%s): SQLite sorts NULL first, PostgreSQL last"
                                       % (os.path.relpath(path, root), line, word.group(1), table))
    return bad


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    bad = check(schema(sys.argv[1]), root)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
