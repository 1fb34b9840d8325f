#!/usr/bin/env bash
# Runs every benchmark and prints its figures. Usage: bench/run.sh BUILD_DIR
set -euo pipefail
BUILD="${1:-build}"
cd "$(dirname "$0")/.."
status=0
for b in "$BUILD"/bench_*; do
  case "$b" in *.py) continue;; esac
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" || status=1
done
for p in bench/bench_*.py; do
  [ -f "$p" ] || continue
  echo "== $(basename "$p")"
  IOTDEFENDER_BIN="$BUILD/iotdefender" DD_LOADGEN="$BUILD/dd_loadgen" python3 "$p" || status=1
done
exit $status
