#!/usr/bin/env bash
# The HTTP benchmark of issue 3, all in one run on this machine:
#   - GET a page of 50 messages from `one serve`, with wrk;
#   - POST messages (each a durable transaction), with wrk;
#   - nginx serving a static file of the same size as the page: the ceiling
#     for HTTP here, measured with the same wrk settings;
#   - 1,000 stream subscribers on one conversation: latency from a POST to
#     the message arriving on every stream (bench_sse).
# Prints a table and writes it between <!-- bench:http --> markers in
# bench/RESULTS.md. BENCH_SECONDS (5 a measurement), BENCH_ROUNDS (5),
# BENCH_CONNS (32), BENCH_SUBS (1000), BENCH_POSTS (50) tune it.
set -euo pipefail
build=${1:-build-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-5}
conns=${BENCH_CONNS:-32}
subs=${BENCH_SUBS:-1000}
posts=${BENCH_POSTS:-50}
threads=$(nproc)
work=$(mktemp -d)
one_pid=""
raw_pid=""
nginx_pid=""
cleanup() {
  [ -n "$one_pid" ] && kill "$one_pid" 2>/dev/null && wait "$one_pid" 2>/dev/null || true
  [ -n "$raw_pid" ] && kill "$raw_pid" 2>/dev/null && wait "$raw_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

port=$(free_port)
# one serve with its default threads (2 a core for requests, a pool of 64
# or more for writes): what a user gets
ONE_LOG=error "$root/$build/one" serve --listen "127.0.0.1:$port" --db "$work/bench.db" \
  2>"$work/serve.log" &
one_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done

token=$(curl -sf -XPOST "$url/api/v1/auth/signup" -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.org","password":"benchmark password"}' | json_field token)
auth="Authorization: Bearer $token"
conv=$(curl -sf -XPOST "$url/api/v1/conversations" -H 'Content-Type: application/json' -H "$auth" \
  -d '{"title":"Benchmark"}' | json_field _id)
for i in $(seq 50); do
  curl -sf -XPOST "$url/api/v1/conversations/$conv/messages" -H 'Content-Type: application/json' \
    -H "$auth" -d "{\"content\":\"message $i of the page, with @[Nobody] and some words to read\"}" >/dev/null
done
page="$url/api/v1/conversations/$conv/messages?limit=50"
curl -sf "$page" -H "$auth" >"$work/page.json"
size=$(stat -c %s "$work/page.json")

# a second one serve on the same database with its page cache off
# (ONE_PAGE_CACHE=0): every read renders the page from the store, the
# figure for a conversation written to between its reads
rport=$(free_port)
ONE_LOG=error ONE_PAGE_CACHE=0 "$root/$build/one" serve --listen "127.0.0.1:$rport" \
  --db "$work/bench.db" 2>"$work/serve-raw.log" &
raw_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$rport/healthz" >/dev/null && break; sleep 0.1; done
raw_page="http://127.0.0.1:$rport/api/v1/conversations/$conv/messages?limit=50"

# nginx on the same machine, serving a file of the page's size
nport=$(free_port)
mkdir -p "$work/www" "$work/nginx"
cp "$work/page.json" "$work/www/page.json"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $threads;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  server { listen 127.0.0.1:$nport; root $work/www; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nport/page.json" >/dev/null && break; sleep 0.1; done

rate() { grep -o 'Requests/sec: *[0-9.]*' | grep -o '[0-9.]*$'; }
p99() { grep -E '^ +99%' | awk '{print $2}'; }
run_wrk() { wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@"; }

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"content":"a benchmark message"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
# Rounds of nginx then ONE's page read, back to back: on a shared machine
# the load changes from one moment to the next, so each round's ratio is
# taken against the nginx run just before it, and the round with the
# median ratio is reported. Then rounds of posts (the median reported),
# after every read, so that each read round sees the same database.
ratios=()
uratios=()
for r in $(seq "$rounds"); do
  n_out[$r]=$(run_wrk "http://127.0.0.1:$nport/page.json")
  g_out[$r]=$(run_wrk -H "$auth" "$page")
  u_out[$r]=$(run_wrk -H "$auth" "$raw_page")
  nr=$(echo "${n_out[$r]}" | rate)
  gr=$(echo "${g_out[$r]}" | rate)
  ur=$(echo "${u_out[$r]}" | rate)
  ratios+=("$(python3 -c "print(f'{$gr / $nr:.4f}')") $r")
  uratios+=("$(python3 -c "print(f'{$ur / $nr:.4f}')") $r")
  echo "bench: round $r: nginx $nr req/s, page $gr req/s, page uncached $ur req/s" >&2
done
# the uncached server is done: posts are measured with one server, as before
kill "$raw_pid" 2>/dev/null && wait "$raw_pid" 2>/dev/null || true
raw_pid=""
for r in $(seq "$rounds"); do
  p_out[$r]=$(run_wrk -s "$work/post.lua" "$url/api/v1/conversations/$conv/messages")
  echo "bench: round $r: posts $(echo "${p_out[$r]}" | rate)/s" >&2
done
mid=$(printf '%s\n' "${ratios[@]}" | sort -n | awk -v n="$rounds" 'NR == int((n + 1) / 2) {print $2}')
nginx_out=${n_out[$mid]}
get_out=${g_out[$mid]}
umid=$(printf '%s\n' "${uratios[@]}" | sort -n | awk -v n="$rounds" 'NR == int((n + 1) / 2) {print $2}')
raw_out=${u_out[$umid]}
raw_ratio=$(printf '%s\n' "${uratios[@]}" | sort -n | awk -v n="$rounds" 'NR == int((n + 1) / 2) {printf "%.2f", $1}')
all_uratios=$(printf '%s\n' "${uratios[@]}" | sort -n | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1}')
pmid=$(for r in $(seq "$rounds"); do echo "$(echo "${p_out[$r]}" | rate) $r"; done | sort -n |
       awk -v n="$rounds" 'NR == int((n + 1) / 2) {print $2}')
post_out=${p_out[$pmid]}
all_ratios=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1}')
all_posts=$(for r in $(seq "$rounds"); do echo "${p_out[$r]}" | rate; done | sort -n |
            awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}')

# streams: a fresh conversation so the subscribers read only the benchmark
conv2=$(curl -sf -XPOST "$url/api/v1/conversations" -H 'Content-Type: application/json' -H "$auth" \
  -d '{"title":"Streams"}' | json_field _id)
sse_out=$("$root/$build/bench_sse" 127.0.0.1 "$port" "$token" "$conv2" "$subs" "$posts")

n_rate=$(echo "$nginx_out" | rate)
g_rate=$(echo "$get_out" | rate)
p_rate=$(echo "$post_out" | rate)
ratio=$(python3 -c "print(f'{$g_rate / $n_rate:.2f}')")
sse_p50=$(echo "$sse_out" | grep -o 'p50_ms=[0-9.]*' | cut -d= -f2)
sse_p99=$(echo "$sse_out" | grep -o 'p99_ms=[0-9.]*' | cut -d= -f2)
sse_max=$(echo "$sse_out" | grep -o 'max_ms=[0-9.]*' | cut -d= -f2)
sse_missed=$(echo "$sse_out" | grep -o 'missed=[0-9]*' | cut -d= -f2)
sync=${ONE_SYNC:-full}

table=$(cat <<TABLE
| measure | result | p99 latency | target |
|---|---|---|---|
| nginx, static file of ${size} bytes (ceiling) | ${n_rate} req/s | $(echo "$nginx_out" | p99) | - |
| GET a page of 50 messages | ${g_rate} req/s (**${ratio}x nginx**; rounds: ${all_ratios}) | $(echo "$get_out" | p99) | >= 0.40x nginx |
| the same with the page cache off (ONE_PAGE_CACHE=0) | $(echo "$raw_out" | rate) req/s (${raw_ratio}x nginx; rounds: ${all_uratios}) | $(echo "$raw_out" | p99) | - |
| POST a message (durable, sync=${sync}) | **${p_rate} posts/s** (rounds: ${all_posts}) | $(echo "$post_out" | p99) | >= 5000/s |
| ${subs} stream subscribers, ${posts} posts | p50 ${sse_p50} ms, **p99 ${sse_p99} ms**, max ${sse_max} ms, ${sse_missed} missed | - | p99 < 50 ms |
TABLE
)
echo "$table"
when="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t$threads -c$conns -d${secs}s, $rounds rounds (the median shown), one serve with default threads"
section=$(printf '<!-- bench:http -->\n%s.\n\n%s\n<!-- /bench:http -->' "$when" "$table")
python3 - "$root/bench/RESULTS.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
if '<!-- bench:http -->' in text:
    text = re.sub(r'<!-- bench:http -->.*?<!-- /bench:http -->', lambda m: section, text, flags=re.S)
else:
    marker = '<!-- /bench:store -->'
    text = text.replace(marker, marker + '\n\n## HTTP API (issue 3)\n\n' + section, 1)
open(path, 'w').write(text)
PY
echo "bench: HTTP results written to bench/RESULTS.md" >&2
