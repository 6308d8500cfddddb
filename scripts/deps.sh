#!/usr/bin/env bash
# Installs the Debian packages ONE needs to build, test and fuzz, only when
# some are missing. Called by `make run` and `make test` so that each works
# alone on a fresh Debian 12 machine. Safe to run again: it does nothing
# when everything is present.
set -euo pipefail

# Libraries and tools ONE builds against, and what the test suite uses.
pkgs=(
  build-essential cmake pkg-config
  libsqlite3-dev sqlite3
  libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
  libsodium-dev libzip-dev
  libcriterion-dev
  clang libclang-rt-14-dev
  zip unzip python3
  chromium fonts-noto-color-emoji nodejs
)
# the web app's browser tests install playwright-core with npm, which some
# nodejs packages bring and Debian's does not
command -v npm >/dev/null || pkgs+=(npm)
[ "${ONE_DEPS_EXTRA:-}" = "" ] || read -r -a extra <<<"$ONE_DEPS_EXTRA"
pkgs+=("${extra[@]:-}")

missing=()
for p in "${pkgs[@]}"; do
  [ -n "$p" ] || continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
