#!/usr/bin/env bash
# The agent runtime benchmark of issue 5, all in one run on this machine:
# BENCH_RUNS (1000) concurrent agent runs against the fake model server
# (fake_llm), which answers every call after BENCH_DELAY_MS (200): a tool
# call first, then the reply, so each run takes two model steps. First ONE
# (bench_agents: the runtime, the scheduler, the store as one serve opens
# it), then a Node peer doing the same with the Vercel AI SDK's
# generateText and one tool (bench/peer, installed from npm), against the
# same fake server. Prints a table and writes it between the
# <!-- bench:agents --> markers in bench/RESULTS.md.
set -euo pipefail
build=${1:-build-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-1000}
delay=${BENCH_DELAY_MS:-200}
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null || true; }
trap cleanup EXIT

(cd "$root/bench/peer" && npm ci --no-audit --no-fund --silent >&2)

out=$(mktemp)
"$root/$build/fake_llm" >"$out" &
fake_pid=$!
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
port=$(awk '/listening/ {print $2}' "$out")
rm -f "$out"
base="http://127.0.0.1:$port/v1"
script() {
  curl -sf -XDELETE "http://127.0.0.1:$port/_script" >/dev/null
  curl -sf -XPOST "http://127.0.0.1:$port/_script" -d "[
    {\"match\":\"\\\"role\\\":\\\"tool\\\"\",\"reply\":\"Slow delivery and hidden fees.\",\"delay_ms\":$delay,\"times\":0,
     \"usage\":{\"prompt_tokens\":400,\"completion_tokens\":20}},
    {\"tool_calls\":[{\"name\":\"listConversationParticipants\",\"arguments\":{}}],\"delay_ms\":$delay,\"times\":0,
     \"usage\":{\"prompt_tokens\":380,\"completion_tokens\":12}}]" >/dev/null
}

echo "bench: $runs runs of ONE" >&2
script
one=$("$root/$build/bench_agents" "$base" "$runs")
echo "$one" >&2
echo "bench: $runs runs of the Node peer (ai $(node -p "require('$root/bench/peer/node_modules/ai/package.json').version"))" >&2
script
peer=$(cd "$root/bench/peer" && node agents.mjs "$base" "$runs")
echo "$peer" >&2

table=$(python3 - "$one" "$peer" <<'PY'
import json, sys
one, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def row(name, key, fmt, target=""):
    a, b = one[key], peer[key]
    ratio = f"{a / b:.2f}" if b else "-"
    return f"| {name} | {fmt.format(a)} | {fmt.format(b)} | {ratio} | {target} |"
print("| measure | ONE | Node peer (AI SDK) | ONE / peer | target |")
print("|---|---:|---:|---:|---:|")
print(row("runs finished (failed)", "runs", "{}") .replace(f"| {one['runs']} |", f"| {one['runs']} ({one['failed']}) |", 1).replace(f"| {peer['runs']} |", f"| {peer['runs']} ({peer['failed']}) |", 1))
print(row("model steps", "steps", "{}"))
print(row("wall time (s)", "wall_s", "{:.2f}"))
print(row("runs per second", "runs_per_s", "{:.1f}"))
print(row("CPU time (s)", "cpu_s", "{:.2f}"))
print(row("**overhead per model step (ms)**", "overhead_ms_per_step", "{:.3f}", "< 1"))
print(row("**peak resident memory (MB)**", "peak_rss_mb", "{:.1f}", "< 100"))
PY
)
echo "$table"
when="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m)"
section=$(printf '<!-- bench:agents -->\n%s concurrent runs, model answers after %s ms; %s.\n\n%s\n<!-- /bench:agents -->' \
  "$runs" "$delay" "$when" "$table")
python3 - "$root/bench/RESULTS.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
if '<!-- bench:agents -->' in text:
    text = re.sub(r'<!-- bench:agents -->.*?<!-- /bench:agents -->', lambda m: section, text, flags=re.S)
else:
    text += '\n' + section + '\n'
open(path, 'w').write(text)
PY
echo "bench: results written to bench/RESULTS.md" >&2
