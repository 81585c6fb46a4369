#!/usr/bin/env bash
# Makes docker-compose's secrets once, in .local/compose (or $AGGREGATOR_COMPOSE_SECRETS), and prints the operator
# password. Idempotent: existing files are kept.
#   keyring.pfx        self-signed certificate that encrypts the Data Protection key ring at rest (the ring decrypts
#                      every stored provider token); give your own PFX by putting it here instead
#   operator-password  HTTP Basic password of the user "operator" (jobs dashboard, /metrics, Grafana)
#   operator.env       the same password as Operator__DashboardPassword, for the Api and the Workers
# Compose mounts file secrets with the file's own owner and mode, and the services run as other users (the .NET
# images' app user, Prometheus' nobody, Grafana's grafana), so the two secret files are readable by all inside a folder
# that only its owner may enter.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${AGGREGATOR_COMPOSE_SECRETS:-$repo/.local/compose}
command -v openssl >/dev/null 2>&1 || { echo "secrets.sh: openssl is needed (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$dir"
chmod 700 "$dir"
if [[ ! -s $dir/keyring.pfx ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Aggregator key ring" \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
  openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/cert.pem" -out "$dir/keyring.pfx" -passout pass: >/dev/null 2>&1
fi
chmod 644 "$dir/keyring.pfx"
if [[ ! -s $dir/operator-password ]]; then
  head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/operator-password"
fi
chmod 644 "$dir/operator-password"
password=$(cat "$dir/operator-password")
( umask 077; printf 'Operator__DashboardPassword=%s\n' "$password" >"$dir/operator.env" )
echo "Compose secrets in $dir; operator password: $password"
