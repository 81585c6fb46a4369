#!/usr/bin/env bash
# A private PostgreSQL cluster from the machine's own binaries, for the run command and the tests.
#   pgcluster.sh check                 exit 0 when binaries are found (prints their folder)
#   pgcluster.sh start DIR PORT        initdb DIR if empty, then start it on 127.0.0.1:PORT
#   pgcluster.sh role DIR PORT NAME    create the login role NAME (no superuser, owns nothing) unless it exists
#   pgcluster.sh stop DIR              fast shutdown (data stays)
#   pgcluster.sh destroy DIR           immediate shutdown and delete DIR
# PostgreSQL refuses to run as root: as root, the cluster is owned and run by an unprivileged
# user (postgres when it exists, else a system user created for it), so DIR must be a place that
# user can reach. Trust authentication, loopback only: this is a developer's and a test's database.
set -euo pipefail

find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  local best
  best=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n $best && -x $best/initdb ]]; then
    echo "$best"
    return 0
  fi
  return 1
}

run_user() {
  if [[ $(id -u) -ne 0 ]]; then
    return 0
  fi
  if id postgres >/dev/null 2>&1; then
    echo postgres
  else
    id aggregator-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin aggregator-pg
    echo aggregator-pg
  fi
}

as_owner() {
  local user
  user=$(run_user)
  if [[ -n $user ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-}
case "$cmd" in
  check)
    find_bin
    ;;
  start)
    dir=$2 port=$3
    bin=$(find_bin) || { echo "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin" >&2; exit 3; }
    mkdir -p "$dir"
    user=$(run_user)
    [[ -n $user ]] && chown "$user" "$dir"
    chmod 700 "$dir"
    if ! as_owner test -w "$dir"; then
      echo "the PostgreSQL user '$user' cannot write $dir (a parent folder is private); choose a folder it can reach" >&2
      exit 4
    fi
    if [[ ! -f $dir/PG_VERSION ]]; then
      as_owner "$bin/initdb" -D "$dir" -U aggregator --auth=trust --encoding=UTF8 --no-locale >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 5; }
      rm -f "$dir.initdb.log"
    fi
    if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      exit 0
    fi
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=300 -c shared_buffers=256MB ${PG_EXTRA_OPTS:-}" \
      start >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 6; }
    ;;
  role)
    dir=$2 port=$3 name=$4
    [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "role name must be a plain lower-case identifier" >&2; exit 2; }
    bin=$(find_bin) || exit 3
    as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U aggregator -d postgres -c \
      "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$name') THEN CREATE ROLE $name LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS; END IF; END \$\$;" \
      >/dev/null || exit 7
    ;;
  stop)
    dir=$2
    bin=$(find_bin) || exit 0
    [[ -f $dir/postmaster.pid ]] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  destroy)
    dir=$2
    if bin=$(find_bin) && [[ -f $dir/postmaster.pid ]]; then
      as_owner "$bin/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    sed -n '2,10p' "$0" >&2
    exit 2
    ;;
esac
