#!/usr/bin/env bash
# Checks what deploy/ and docker-compose.yml hold without a Docker engine or a cluster (CI runs it from .ci/run):
#   - the Kubernetes manifests, rendered with kubectl kustomize and validated offline (kubernetes/validate.sh);
#   - the Prometheus configuration (promtool check config) and the Grafana dashboard's queries (promtool check rules);
#   - docker-compose.yml, resolved by Debian's docker-compose with and without the observability profile.
# First installs what a fresh Debian machine lacks (docker-compose, prometheus for promtool, nodejs and npm; as root or
# with sudo); kubectl must be there already (Debian's is too old for kustomize components).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { printf 'deploy/check.sh: %s\n' "$*" >&2; exit 1; }

missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || fail "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})."
    sudo=(sudo -n)
  fi
  printf 'deploy/check.sh: installing %s\n' "${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

deploy/kubernetes/validate.sh

promtool check config --syntax-only deploy/observability/prometheus.yml >/dev/null || fail "deploy/observability/prometheus.yml is not a valid Prometheus configuration"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for dashboard in deploy/observability/grafana/dashboards/*.json; do
  node deploy/observability/check-dashboard.mjs "$dashboard" >"$work/rules.yml"
  promtool check rules "$work/rules.yml" >/dev/null || { promtool check rules "$work/rules.yml" >&2; fail "$dashboard has a query PromQL does not parse"; }
done
echo "prometheus.yml and the Grafana dashboard: valid"

# docker-compose.yml with throwaway secrets (the real ones are made by deploy/docker/secrets.sh in .local/compose).
AGGREGATOR_COMPOSE_SECRETS=$work/compose deploy/docker/secrets.sh >/dev/null
# (Debian's docker-compose 1.29 lists profiled services with or without --profile, so the list is printed once.)
AGGREGATOR_COMPOSE_SECRETS=$work/compose docker-compose config -q || fail "docker-compose.yml does not resolve"
AGGREGATOR_COMPOSE_SECRETS=$work/compose docker-compose --profile observability config -q \
  || fail "docker-compose.yml does not resolve with the observability profile"
echo "docker-compose.yml (also with --profile observability): resolves; services:" \
  $(AGGREGATOR_COMPOSE_SECRETS=$work/compose docker-compose --profile observability config --services | sort)
