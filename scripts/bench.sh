#!/usr/bin/env bash
# Runs the benchmarks built in BUILD and writes their tables into
# bench/RESULTS.md, between the markers of each benchmark's section, with the
# date and the machine. BENCH_N sets the store benchmark's message count.
set -euo pipefail
build=${1:-build-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
results="$root/bench/RESULTS.md"
n=${BENCH_N:-200000}
table=$("$root/$build/bench_store" "$n")
echo "$table"
when="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m), SQLite $(pkg-config --modversion sqlite3)"
section=$(printf '<!-- bench:store -->\n%s messages; %s.\n\n%s\n<!-- /bench:store -->' "$n" "$when" "$table")
python3 - "$results" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
new = re.sub(r'<!-- bench:store -->.*?<!-- /bench:store -->', lambda m: section, text, flags=re.S)
open(path, 'w').write(new)
PY
echo "bench: results written to bench/RESULTS.md" >&2
