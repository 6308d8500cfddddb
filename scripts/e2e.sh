#!/usr/bin/env bash
# Runs the web app's end-to-end tests (tests/e2e/web.test.mjs) with Node's
# test runner: playwright-core from npm (installed into tests/e2e by
# `npm ci` when missing or older than the lock file) driving Debian's
# chromium. Called by ctest (e2e_web) as: e2e.sh ONE_BINARY FAKE_LLM OUT_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
one=$1 fake=$2 out=$3
e2e="$root/tests/e2e"
command -v node >/dev/null || { echo "e2e: node is missing (scripts/deps.sh installs nodejs)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "e2e: no chromium at ${CHROMIUM:-/usr/bin/chromium} (scripts/deps.sh installs it)" >&2; exit 1; }
if [ ! -d "$e2e/node_modules/playwright-core" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; then
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
mkdir -p "$out"
cd "$e2e"
ONE_BINARY="$one" ONE_FAKE_LLM="$fake" E2E_OUT="$out" node --test --test-reporter=spec web.test.mjs
echo "e2e: screenshots in $out" >&2
