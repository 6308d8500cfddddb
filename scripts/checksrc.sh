#!/usr/bin/env bash
# Rejects C functions ONE does not use because they are easy to misuse:
# unbounded copies and formats, strtok's hidden state, atoi's silent errors.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|atoll|gets)[[:space:]]*\('
if grep -rnE "$banned" src --include='*.c' --include='*.h'; then
  echo "checksrc: banned function used above (use snprintf, buf_*, strtok_r, strtol)" >&2
  exit 1
fi
echo "checksrc: ok"
