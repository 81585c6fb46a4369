#!/usr/bin/env bash
# Run once by the postgres image on a new data directory: the role the Api and Workers connect as. It logs in, owns
# nothing and is no superuser, so row-level security holds for it; the owner (POSTGRES_USER) migrates and grants it
# what it needs on each start.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v app_password="${AGGREGATOR_APP_DB_PASSWORD:?}" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE aggregator_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'app_password';
SQL
