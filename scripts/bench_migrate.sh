#!/usr/bin/env bash
# The migration benchmark of issue 4, all in one run on this machine:
#   1. generate an agent-inbox snapshot (BENCH_MESSAGES messages, default
#      1,000,000; BENCH_AGENTS agents, default 100,000) and import it;
#   2. the physical limit: on a copy, raw SQL UPDATEs in one transaction do
#      the same document rewrites as the backfills (json_set on the stored
#      bodies; no validation, index upkeep, undo records or checkpoints);
#   3. on another copy, `one migrate up` with nothing else running: the
#      throughput compared with the raw SQL (and how much of it the backup is);
#   4. `one migrate up --to expand`, then `one serve`, and the API's latency
#      with nothing else running (bench_load: GET a page of 50 messages,
#      and a POST every fourth round, on BENCH_CONNS connections);
#      BENCH_BATCH (1000) and BENCH_PAUSE (0: the default rest) set
#      `migrate up --batch --pause`;
#   5. the same load while `one migrate up` runs every backfill beside the
#      server; then `one migrate verify`.
# Prints a table and writes it between <!-- bench:migrate --> markers in
# bench/RESULTS.md.
set -euo pipefail
build=${1:-build-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
messages=${BENCH_MESSAGES:-1000000}
agents=${BENCH_AGENTS:-100000}
conns=${BENCH_CONNS:-4}
idle_secs=${BENCH_IDLE_SECONDS:-20}
batch=${BENCH_BATCH:-1000}
pause=${BENCH_PAUSE:-0}
one="$root/$build/one"
load="$root/$build/bench_load"
work=$(mktemp -d)
one_pid=""
cleanup() {
  [ -n "$one_pid" ] && kill "$one_pid" 2>/dev/null && wait "$one_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[2])[sys.argv[1]])' "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "bench: generating $messages messages and $agents agents" >&2
users=$((agents / 10 > 1000 ? agents / 10 : 1000))
convs=$((messages / 20 > 100 ? messages / 20 : 100))
python3 "$root/tests/fixtures/gen_agent_inbox.py" "$work/in.zip" --seed 7 --users "$users" \
  --agents "$agents" --conversations "$convs" --messages "$messages" >&2
t0=$(now)
"$one" --db "$work/m.db" import "$work/in.zip" >/dev/null
t_import=$(elapsed "$t0" "$(now)")
docs=$(sqlite3 "$work/m.db" "select count(*) from one_documents")
echo "bench: imported $docs documents in ${t_import}s" >&2

# --- 2. the physical limit: raw SQL on a copy ---------------------------------
sqlite3 "$work/m.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$work/m.db" "$work/raw.db"
cat >"$work/raw.sql" <<'SQL'
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA cache_size=-16384;
PRAGMA temp_store=MEMORY;
BEGIN;
CREATE TEMP TABLE t AS SELECT name, number FROM one_tables;
-- backfill-created-at
UPDATE one_documents SET body = json_set(body, '$.createdAt', json_extract(body, '$._creationTime'))
 WHERE tbl IN (SELECT number FROM t WHERE name IN ('users', 'agents', 'conversations',
                                                   'conversationMessages'))
   AND json_type(body, '$.createdAt') IS NULL;
-- backfill-users
UPDATE one_documents SET body = json_set(body,
    '$.name', coalesce(json_extract(body, '$.name'),
                       nullif(substr(json_extract(body, '$.email'), 1,
                                     instr(json_extract(body, '$.email'), '@') - 1), ''),
                       json_extract(body, '$.phone'), 'Anonymous user'),
    '$.email', coalesce(json_extract(body, '$.email'), id || '@users.invalid'))
 WHERE tbl = (SELECT number FROM t WHERE name = 'users')
   AND (json_type(body, '$.name') IS NULL OR json_type(body, '$.email') IS NULL);
-- backfill-agent-prompts
UPDATE one_documents SET body = json_set(body, '$.prompt', json_extract(body, '$.personality'))
 WHERE tbl = (SELECT number FROM t WHERE name = 'agents')
   AND json_type(body, '$.prompt') IS NULL AND json_type(body, '$.personality') IS NOT NULL;
-- backfill-tools: a tools document per distinct name, then names to ids
CREATE TEMP TABLE tmap AS
  SELECT name, 'tool' || hex(randomblob(12)) AS id FROM (
    SELECT DISTINCT je.value AS name FROM one_documents d, json_each(d.body, '$.tools') je
     WHERE d.tbl = (SELECT number FROM t WHERE name = 'agents'));
CREATE UNIQUE INDEX temp.tmap_name ON tmap(name);
INSERT INTO one_documents(id, tbl, body)
  SELECT id, coalesce((SELECT number FROM t WHERE name = 'tools'), 99999),
         json_object('_id', id, '_creationTime', 0, 'name', name, 'description', name) FROM tmap;
CREATE TEMP TABLE newtools AS
  SELECT d.id AS id, json_group_array(tmap.id) AS tools
    FROM one_documents d, json_each(d.body, '$.tools') je JOIN tmap ON tmap.name = je.value
   WHERE d.tbl = (SELECT number FROM t WHERE name = 'agents')
   GROUP BY d.id;
UPDATE one_documents SET body = json_set(body, '$.tools', json(newtools.tools))
  FROM newtools WHERE one_documents.id = newtools.id;
-- backfill-director: the Director agent, and its participant row in every
-- conversation a triage agent is in (one a conversation, as ONE adds it)
CREATE TEMP TABLE director AS SELECT 'agent' || hex(randomblob(12)) AS id;
INSERT INTO one_documents(id, tbl, body)
  SELECT id, (SELECT number FROM t WHERE name = 'agents'),
         json_object('_id', id, '_creationTime', 0, 'name', 'Director', 'kind', 'system_agent',
                     'prompt', 'You are the Director of this ONE workspace.') FROM director;
CREATE TEMP TABLE triaged AS
  SELECT 'part' || hex(randomblob(12)) AS id, conv, min(added) AS added FROM (
    SELECT json_extract(body, '$.conversationId') AS conv, json_extract(body, '$.addedAt') AS added
      FROM one_documents
     WHERE tbl = (SELECT number FROM t WHERE name = 'conversationParticipants')
       AND json_extract(body, '$.kind') = 'agent' AND json_extract(body, '$.isRemoved') = 0
       AND json_extract(body, '$.agentId') IN (
         SELECT id FROM one_documents WHERE tbl = (SELECT number FROM t WHERE name = 'agents')
            AND json_extract(body, '$.systemAgentKind') = 'triage'))
   GROUP BY conv;
INSERT INTO one_documents(id, tbl, body)
  SELECT triaged.id, (SELECT number FROM t WHERE name = 'conversationParticipants'),
         json_object('_id', triaged.id, '_creationTime', 0, 'conversationId', conv,
                     'kind', 'agent', 'agentId', director.id, 'status', 'inactive',
                     'isRemoved', json('false'), 'addedAt', added)
    FROM triaged, director;
-- backfill-system-authors: an agent participant of the message's conversation
CREATE TEMP TABLE author AS
  SELECT json_extract(body, '$.conversationId') AS conv, min(id) AS pid FROM one_documents
   WHERE tbl = (SELECT number FROM t WHERE name = 'conversationParticipants')
     AND json_extract(body, '$.kind') = 'agent' GROUP BY 1;
CREATE INDEX temp.author_conv ON author(conv);
UPDATE one_documents SET body = json_set(body, '$.authorParticipantId',
    (SELECT pid FROM author WHERE conv = json_extract(one_documents.body, '$.conversationId')))
 WHERE tbl = (SELECT number FROM t WHERE name = 'conversationMessages')
   AND json_extract(body, '$.kind') = 'system' AND json_type(body, '$.authorParticipantId') IS NULL;
COMMIT;
SQL
t0=$(now)
sqlite3 "$work/raw.db" <"$work/raw.sql" >/dev/null
t_raw=$(elapsed "$t0" "$(now)")
rm -f "$work/raw.db"*
echo "bench: raw SQL rewrite ${t_raw}s" >&2

# --- 3. ONE's backfills with nothing else running: the throughput to compare ---
cp "$work/m.db" "$work/u.db"
t0=$(now)
"$one" --db "$work/u.db" migrate up --to expand --backup-dir "$work/ubackups" >/dev/null
t_expand=$(elapsed "$t0" "$(now)")
t0=$(now)
"$one" --db "$work/u.db" migrate up --batch "$batch" --backup-dir "$work/ubackups" >/dev/null
t_unloaded=$(elapsed "$t0" "$(now)")
# backups are taken between a step's end and the next one's start
t_backups=$("$one" --db "$work/u.db" migrate log | python3 -c '
import json, sys
prev, total = None, 0.0
for e in json.load(sys.stdin):
    if e["event"] == "start" and e["step"] != "expand" and prev is not None:
        total += e["at"] - prev
    if e["event"] in ("end", "start") and e["step"] == "expand":
        prev = e["at"]
    elif e["event"] == "end":
        prev = e["at"]
print(f"{total / 1000:.1f}")')
rm -rf "$work/u.db"* "$work/ubackups"
echo "bench: unloaded: expand ${t_expand}s, backfills ${t_unloaded}s (backups ${t_backups}s)" >&2

# --- 4. expand, serve, idle latency ---------------------------------------------
"$one" --db "$work/m.db" migrate up --to expand --backup-dir "$work/backups" >/dev/null
rm -rf "$work/backups"
ONE_PASSWORD='benchmark password' "$one" --db "$work/m.db" user create \
  --email bench@example.org >/dev/null
port=$(free_port)
ONE_LOG=error "$one" serve --listen "127.0.0.1:$port" --db "$work/m.db" 2>"$work/serve.log" &
one_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 300); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -XPOST "$url/api/v1/auth/signin" -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.org","password":"benchmark password"}' | \
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
conv=$(curl -sf -XPOST "$url/api/v1/conversations" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $token" -d '{"title":"Benchmark"}' | \
  python3 -c 'import json,sys; print(json.load(sys.stdin)["_id"])')
for i in $(seq 50); do
  curl -sf -XPOST "$url/api/v1/conversations/$conv/messages" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" -d "{\"content\":\"message $i\"}" >/dev/null
done
idle=$("$load" "$url" "$token" "$conv" "$conns" "$idle_secs" "$work/stop")
echo "bench: idle $idle" >&2

# --- 5. the backfills beside the server, under the same load ---------------------
"$load" "$url" "$token" "$conv" "$conns" 86400 "$work/stop" >"$work/busy.json" &
load_pid=$!
t0=$(now)
"$one" --db "$work/m.db" migrate up --batch "$batch" --pause "$pause" --backup-dir "$work/backups" \
  >/dev/null
t_migrate=$(elapsed "$t0" "$(now)")
touch "$work/stop"
wait "$load_pid"
busy=$(cat "$work/busy.json")
echo "bench: during the migration $busy" >&2
verify=$("$one" --db "$work/m.db" migrate verify | head -1)

ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$t_unloaded" "$t_raw")
work_ratio=$(python3 -c "import sys; print(f'{(float(sys.argv[1]) - float(sys.argv[3])) / float(sys.argv[2]):.2f}')" "$t_unloaded" "$t_raw" "$t_backups")
p99_idle=$(field p99_ms "$idle")
p99_busy=$(field p99_ms "$busy")
p99_ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$p99_busy" "$p99_idle")
failed=$(( $(field failed "$idle") + $(field failed "$busy") ))
table=$(cat <<TABLE
| measure | ONE | baseline | ratio | target |
|---|---:|---:|---:|---:|
| backfills, wall time, nothing else running (s) | $t_unloaded | $t_raw (raw SQL UPDATEs on a copy, one transaction) | $ratio | <= 3 |
| the same less the backup before the backfills (s) | $(python3 -c "print(f'{$t_unloaded - $t_backups:.1f}')") | $t_raw | $work_ratio | - |
| API p99 latency (ms) | $p99_busy (during the backfills) | $p99_idle (idle) | $p99_ratio | <= 2 |
| failed requests | $failed | - | - | 0 |

Also: import ${t_import}s; expand ${t_expand}s (its new indexes built in batches first); backups
${t_backups}s between the unloaded run's steps (one backup for the backfills, copied beside the first of
them while nothing else writes: docs/decisions.md); the backfills beside the
API's load took ${t_migrate}s ($conns connections on the same 2 cores); requests
$(field requests "$idle") idle and $(field requests "$busy") during them (p50 $(field p50_ms "$idle") and
$(field p50_ms "$busy") ms, max $(field max_ms "$idle") and $(field max_ms "$busy") ms); batch at most $batch
documents; $verify.
TABLE
)
echo "$table"
when="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m), SQLite $(pkg-config --modversion sqlite3)"
section=$(printf '<!-- bench:migrate -->\n%s documents (%s messages, %s agents); %s.\n\n%s\n<!-- /bench:migrate -->' \
  "$docs" "$messages" "$agents" "$when" "$table")
python3 - "$root/bench/RESULTS.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
if '<!-- bench:migrate -->' in text:
    text = re.sub(r'<!-- bench:migrate -->.*?<!-- /bench:migrate -->', lambda m: section, text, flags=re.S)
else:
    text += '\n' + section + '\n'
open(path, 'w').write(text)
PY
echo "bench: results written to bench/RESULTS.md" >&2
