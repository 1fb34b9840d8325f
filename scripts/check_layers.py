#!/usr/bin/env python3
"""Checks the layer rule of docs/ARCHITECTURE.md on the sources: a file may include only
headers of its own layer or of the layers below it (cli -> server | plugin -> api -> core ->
store -> base), never the other way, and `sqlite3` and libpq appear only in src/store/. Prints each
violation as `file:line: <layer> includes <header> (<layer>)` and exits 1 if there is any.
Usage: scripts/check_layers.py [ROOT]. Run by ctest as lint.layers."""
import os, re, sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
RANK = {"base": 0, "store": 1, "core": 2, "api": 3, "server": 4, "plugin": 4, "cli": 5}
# The public headers in include/dd/ belong to the layer that implements them.
PUBLIC = {
    "common.h": "base", "buf.h": "base", "metrics.h": "base",
    "store.h": "store", "region.h": "base",
    "ctx.h": "api",
}

def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "src" and parts[1] in RANK:
        return parts[1]
    if parts[0] == "include" and parts[1] == "dd":
        return PUBLIC.get(parts[2], "core")
    return None

def resolve(inc, rel):
    for cand in (os.path.join("src", inc), os.path.join("include", inc),
                 os.path.join(os.path.dirname(rel), inc)):
        if os.path.exists(os.path.join(ROOT, cand)):
            return os.path.normpath(cand)
    return None

bad = []
for top in ("src", "include"):
    for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), ROOT)
            me = layer_of(rel)
            if me is None:
                continue
            with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    code = not line.lstrip().startswith(("*", "/*", "//"))
                    if "sqlite3" in line and me != "store" and code:
                        bad.append(f"{rel}:{n}: sqlite3 outside src/store/")
                    if ("libpq-fe.h" in line or re.search(r"\bPQ[a-z]+\(", line)) and me != "store" and code:
                        bad.append(f"{rel}:{n}: libpq outside src/store/")
                    m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                    if not m:
                        continue
                    target = resolve(m.group(1), rel)
                    if target is None:
                        continue
                    other = layer_of(target)
                    if other is None or other == me:
                        continue
                    if RANK[other] > RANK[me] or (RANK[other] == RANK[me]):
                        bad.append(f"{rel}:{n}: {me} includes {target} ({other})")
for b in bad:
    print(b)
print(f"{len(bad)} layer violation(s)")
sys.exit(1 if bad else 0)
