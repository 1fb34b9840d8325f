#!/usr/bin/env python3
"""Checks the layer and naming rules of docs/ARCHITECTURE.md on the sources:
- a file may include only headers of its own layer or of the layers below it (cli ->
  server | plugin -> api -> core -> store -> base), never the other way, and `sqlite3`
  and libpq appear only in src/store/ (`file:line: <layer> includes <header> (<layer>)`);
- names follow files: every non-static function defined in src/ starts with its file's
  base name (`dd_store_things_get` in dd_store_things.c), except the layer-internal `dd__`
  names, the Mosquitto plugin entry points, and the backend-neutral statement interface
  of src/store/dd_store_int.h that each store backend implements (dd_db_*, dd_stmt_*,
  dd_bind_*, dd_col_*, dd_step_done) (`file:line: <function> does not start with <base>`).
Exits 1 if there is any violation. Usage: scripts/check_layers.py [ROOT]. Run by ctest as
lint.layers."""
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

# ---- names follow files -------------------------------------------------------------
PENDING = set()
STORE_INTERFACE = ("dd_db_", "dd_stmt_", "dd_bind_", "dd_col_", "dd_step_done")


def blank(m):
    return re.sub(r"[^\n]", " ", m.group(0))


def strip_c(src):
    """The source with comments, strings, characters and preprocessor lines blanked
    (line breaks kept, so offsets keep their line numbers)."""
    src = re.sub(r"/\*.*?\*/", blank, src, flags=re.S)
    src = re.sub(r"//[^\n]*", blank, src)
    src = re.sub(r'"(\\.|[^"\\\n])*"', blank, src)
    src = re.sub(r"'(\\.|[^'\\\n])*'", blank, src)
    return re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", blank, src, flags=re.M)


HEAD = re.compile(r"\b([A-Za-z_]\w*)\s*\(([^()]|\([^()]*\))*\)\s*(?:DD_\w+(?:\([^)]*\))?\s*)*$")


def definitions(text):
    """(name, line) of every non-static function defined at file scope."""
    s = strip_c(text)
    out, depth, start = [], 0, 0
    for i, ch in enumerate(s):
        if ch == "{":
            if depth == 0:
                head = s[start:i]
                m = HEAD.search(head)
                pre = head[:m.start()] if m else ""
                if m and pre.strip() and "=" not in pre and not re.search(r"\bstatic\b", pre) \
                        and not re.search(r"\b(struct|enum|union)\s*$", pre.strip()):
                    out.append((m.group(1), s.count("\n", 0, start + m.start(1)) + 1))
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                start = i + 1
        elif ch == ";" and depth == 0:
            start = i + 1
    return out


def name_ok(rel, base, name):
    if name.startswith(base) or name.startswith("dd__") or name in PENDING:
        return True
    if rel.startswith("src/plugin/") and name.startswith("mosquitto_plugin_"):
        return True
    return rel.startswith("src/store/") and name.startswith(STORE_INTERFACE)


for dirpath, _, files in os.walk(os.path.join(ROOT, "src")):
    for f in sorted(files):
        if not f.endswith(".c"):
            continue
        rel = os.path.relpath(os.path.join(dirpath, f), ROOT)
        with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for name, line in definitions(text):
            if not name_ok(rel, f[:-2], name):
                bad.append(f"{rel}:{line}: {name} does not start with {f[:-2]}")

for b in bad:
    print(b)
print(f"{len(bad)} layer or naming violation(s)")
sys.exit(1 if bad else 0)
