#!/usr/bin/env bash
# The search benchmarks of issue 6, all in one run on this machine:
#   1. vectors: BENCH_VECTORS (100,000) texts on 200 topics embedded by ONE's
#      embedder (384 dimensions) and 1,000 queries: the exact search, then
#      ONE's HNSW index (util/hnsw.c; M 16, efConstruction 200) at several
#      ef, latency and recall@10 against the exact top 10; then FAISS's
#      IndexHNSWFlat (Debian's libfaiss-dev) with the same M, efConstruction
#      and metric on the same vectors, one thread, queries one at a time.
#      ONE's latency at the smallest ef reaching recall 0.95 is compared with
#      FAISS's at the smallest ef reaching the same recall.
#   2. full text: BENCH_MESSAGES (1,000,000) messages written through the
#      store into a new database, then 500 queries of one to three words:
#      ONE's search over all messages and within one conversation, against
#      the same FTS5 query run raw on the same table.
# Prints a table and writes it between <!-- bench:search --> markers in
# bench/RESULTS.md.
set -euo pipefail
build=${1:-build-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_VECTORS:-100000}
messages=${BENCH_MESSAGES:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$root/$build/faiss_hnsw" ] || { echo "bench: faiss_hnsw was not built (libfaiss-dev?)" >&2; exit 1; }

echo "bench: $n vectors: ONE" >&2
"$root/$build/bench_search" vectors "$work" "$n" 1000 >"$work/one.jsonl"
echo "bench: $n vectors: FAISS" >&2
OMP_NUM_THREADS=1 "$root/$build/faiss_hnsw" "$work" 384 >"$work/faiss.jsonl"
echo "bench: $messages messages: full text" >&2
"$root/$build/bench_search" fts "$work/fts.db" "$messages" 500 >"$work/fts.jsonl"

table=$(python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
def rows(name):
    return [json.loads(l) for l in open(f"{w}/{name}")]
one, faiss, fts = rows("one.jsonl"), rows("faiss.jsonl"), rows("fts.jsonl")
exact = next(r for r in one if r["what"] == "exact")
build = next(r for r in one if r["what"] == "build")
fbuild = next(r for r in faiss if r["what"] == "faiss_build")
ours = [r for r in one if r["what"] == "hnsw"]
theirs = [r for r in faiss if r["what"] == "faiss_hnsw"]
pick = next((r for r in ours if r["recall"] >= 0.95), ours[-1])
peer = next((r for r in theirs if r["recall"] >= pick["recall"]), theirs[-1])
load = next(r for r in fts if r["what"] == "fts_load")
q = next(r for r in fts if r["what"] == "fts")
print("| measure | ONE | baseline | ratio | target |")
print("|---|---:|---:|---:|---:|")
print(f"| exact search, {exact['n']:,} x {exact['dim']} (ms a query) | {exact['ms_per_query']:.2f} | - | - | - |")
print(f"| HNSW recall@10 (ef {pick['ef']}) | {pick['recall']:.3f} | - | - | >= 0.95 |")
print(f"| HNSW query at that recall (ms) | {pick['ms_per_query']:.3f} | {peer['ms_per_query']:.3f} (FAISS HNSW, ef {peer['ef']}, recall {peer['recall']:.3f}) | {pick['ms_per_query'] / peer['ms_per_query']:.2f} | <= 2 |")
print(f"| HNSW build (s) | {build['seconds']:.1f} | {fbuild['seconds']:.1f} (FAISS) | {build['seconds'] / fbuild['seconds']:.2f} | - |")
print(f"| full-text query over {load['messages']:,} messages (ms) | {q['one_all_ms']:.3f} | {q['raw_all_ms']:.3f} (raw FTS5 on the same table) | {q['one_all_ms'] / q['raw_all_ms']:.2f} | - |")
print(f"| full-text query within one conversation (ms) | {q['one_conversation_ms']:.3f} | - | - | - |")
print()
print("Recall against ef (ONE / FAISS): " + "; ".join(
    f"{a['ef']}: {a['recall']:.3f} in {a['ms_per_query']:.3f} ms / {b['recall']:.3f} in {b['ms_per_query']:.3f} ms"
    for a, b in zip(ours, theirs)) + f". Index memory (ONE): {build['mb']:.0f} MB. Messages written "
    f"through the store with their search rows in {load['seconds']:.0f} s.")
PY
)
echo "$table"
when="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m), SQLite $(pkg-config --modversion sqlite3)"
section=$(printf '<!-- bench:search -->\n%s.\n\n%s\n<!-- /bench:search -->' "$when" "$table")
python3 - "$root/bench/RESULTS.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
if '<!-- bench:search -->' in text:
    text = re.sub(r'<!-- bench:search -->.*?<!-- /bench:search -->', lambda m: section, text, flags=re.S)
else:
    text += '\n' + section + '\n'
open(path, 'w').write(text)
PY
echo "bench: results written to bench/RESULTS.md" >&2
