#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time. Usage: fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
BUILD="${1:-build-fuzz}"; SECS="${2:-60}"
cd "$(dirname "$0")/.."
for f in "$BUILD"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  mkdir -p "fuzz-corpus/$name"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  echo "== $name for ${SECS}s"
  "$f" -max_total_time="$SECS" -rss_limit_mb=4096 "fuzz-corpus/$name" "${seeds[@]}"
done
