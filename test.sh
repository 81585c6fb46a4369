#!/usr/bin/env bash
# Runs every test suite: first installs what a fresh machine of this kind may lack (idempotent; Debian
# packages need root, or sudo), then `dotnet test` with any arguments given (e.g. -- --filter-class "*Merge*").
set -euo pipefail
cd "$(dirname "$0")"

fail() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }
command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK (dotnet) is not on PATH; install .NET 10 first."

missing=()
# The tests run a throwaway PostgreSQL cluster from the machine's binaries when there is no Docker engine.
bash deploy/local/pgcluster.sh check >/dev/null 2>&1 || missing+=(postgresql)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The browser tests drive Debian's Chromium through Playwright (no browser is downloaded); fonts for readable pages.
if [[ -z ${AGGREGATOR_CHROMIUM:-} && ! -x /usr/bin/chromium ]]; then missing+=(chromium); fi
# (grep reads all of fc-list's output: with -q it could stop early and fail the pipe under pipefail.)
fc-list 2>/dev/null | grep -i "liberation" >/dev/null || missing+=(fonts-liberation)
# The telemetry tests scrape the Api and a Worker with a real Prometheus.
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
# The contract checks (openapi/) run Redocly and openapi-typescript from a pinned local npm install.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || fail "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})."
    sudo=(sudo -n) # never waits for a password: fails with a message instead
  fi
  printf 'test.sh: installing %s\n' "${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

exec dotnet test "$@"
