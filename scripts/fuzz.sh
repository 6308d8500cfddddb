#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS (default 600) on a copy of its
# checked-in corpus, in parallel on the machine's cores, and records the
# outcome as a row of bench/RESULTS.md's last section (the fuzz table). Exits non-zero if any target
# found a crash; crashing inputs are left in fuzz-out/<target>/.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/fuzz-out"
mkdir -p "$out"
status=0
pids=()
targets=()
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  short=${name#fuzz_}
  work="$out/$name"
  mkdir -p "$work/corpus"
  cp -n "$root/tests/fuzz/corpus/$short/"* "$work/corpus/" 2>/dev/null || true
  dict=()
  [ -f "$root/tests/fuzz/$short.dict" ] && dict=(-dict="$root/tests/fuzz/$short.dict")
  echo "fuzz: $name for ${seconds}s" >&2
  ( cd "$work" && ASAN_OPTIONS=detect_leaks=1 "$root/$bin" "${dict[@]}" -max_total_time="$seconds" \
      -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 corpus >"$work/log" 2>&1 ) &
  pids+=($!)
  targets+=("$name")
done
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$out/${targets[$i]}/log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: ${targets[$i]}: clean, $runs runs in ${seconds}s" >&2
    echo "| ${targets[$i]} | $(date -u +%Y-%m-%d) | ${seconds}s | $runs | clean |" >>"$root/bench/RESULTS.md"
  else
    echo "fuzz: ${targets[$i]}: FAILED, see $out/${targets[$i]}/log" >&2
    echo "| ${targets[$i]} | $(date -u +%Y-%m-%d) | ${seconds}s | - | crash (see log) |" >>"$root/bench/RESULTS.md"
    status=1
  fi
done
exit $status
