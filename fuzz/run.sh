#!/usr/bin/env bash
# Runs libFuzzer targets one after another, each for a bounded time, at the lowest CPU
# priority, and prints one summary line per target: seconds, executions (libFuzzer's
# stat::number_of_executed_units), corpus size and findings (crash/leak/timeout/oom files).
# Usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]   (no TARGET: every fuzz_* in BUILD_DIR)
# The working corpus grows in fuzz-corpus/<target>, logs go to fuzz-logs/<target>.log,
# reproducers to fuzz-artifacts/<target>/. Exit status 1 when any target found something.
set -uo pipefail
BUILD="${1:-build-fuzz}"; SECS="${2:-60}"
shift $(( $# > 2 ? 2 : $# ))
cd "$(dirname "$0")/.."
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$BUILD"/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
summary=(); found=0
for name in "${targets[@]}"; do
  f="$BUILD/$name"
  [ -x "$f" ] || { echo "missing $f" >&2; found=1; continue; }
  mkdir -p "fuzz-corpus/$name" "fuzz-logs" "fuzz-artifacts/$name"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  before=$(ls "fuzz-artifacts/$name" | wc -l)
  echo "== $name for ${SECS}s (log: fuzz-logs/$name.log)"
  start=$(date +%s)
  nice -n 19 "$f" -max_total_time="$SECS" -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="fuzz-artifacts/$name/" "fuzz-corpus/$name" "${seeds[@]}" \
    > "fuzz-logs/$name.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz-logs/$name.log" | tail -1)
  corpus=$(ls "fuzz-corpus/$name" | wc -l)
  after=$(ls "fuzz-artifacts/$name" | wc -l)
  new=$(( after - before ))
  [ $rc -ne 0 ] || [ $new -ne 0 ] && found=1
  line="$name: ${secs}s, execs ${execs:-?}, corpus $corpus, findings $new (exit $rc)"
  echo "$line"; summary+=("$line")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $found
