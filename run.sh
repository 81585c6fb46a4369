#!/usr/bin/env bash
# Runs the whole system on this machine: builds, starts (or reuses) a private PostgreSQL cluster,
# then the Sandbox provider, the Api (with its in-process job server) and the web app on loopback ports.
# Ctrl-C stops everything it started; data stays (in .local/, or where it says).
# With ConnectionStrings__Aggregator set, that database is used and no cluster is started.
set -euo pipefail
cd "$(dirname "$0")"
repo=$PWD
config=Release
local_dir=$repo/.local
mkdir -p "$local_dir"

say() { printf '%s\n' "$*"; }
fail() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK (dotnet) is not on PATH; install .NET 10 first."
command -v curl >/dev/null 2>&1 || fail "curl is needed to wait for the services; apt-get install curl."

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port=$1
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}

pg_dir=""
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n $pg_dir ]]; then
    deploy/local/pgcluster.sh stop "$pg_dir" || true
    say "Stopped. PostgreSQL data kept in $pg_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Database: the configured one, else a private cluster from the machine's PostgreSQL binaries.
if [[ -z ${ConnectionStrings__Aggregator:-} ]]; then
  if ! deploy/local/pgcluster.sh check >/dev/null 2>&1; then
    fail "no database: PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin.
  Either install them (apt-get install postgresql) or point ConnectionStrings__Aggregator at a PostgreSQL 15+ database."
  fi
  pg_dir=$local_dir/postgres
  if [[ $(id -u) -eq 0 ]]; then
    # PostgreSQL runs as an unprivileged user, who may not be able to enter a repository under a private home.
    owner=postgres; id postgres >/dev/null 2>&1 || owner=aggregator-pg
    if id "$owner" >/dev/null 2>&1 && ! runuser -u "$owner" -- test -x "$local_dir" 2>/dev/null; then
      pg_dir=/var/tmp/aggregator-$(printf '%s' "$repo" | sha256sum | cut -c1-12)/postgres
      mkdir -p "$(dirname "$pg_dir")"; chmod 755 "$(dirname "$pg_dir")"
    fi
    chmod 755 "$local_dir"
  fi
  pg_port=$(free_port 55432)
  say "Starting PostgreSQL (data in $pg_dir) on 127.0.0.1:$pg_port ..."
  deploy/local/pgcluster.sh start "$pg_dir" "$pg_port"
  # Two roles, as in production: the owner (the cluster's superuser here) creates the database and migrates it; the
  # services connect as an ordinary role that owns nothing, so PostgreSQL's row-level security holds for them.
  deploy/local/pgcluster.sh role "$pg_dir" "$pg_port" aggregator_app || fail "could not create the database role aggregator_app"
  export ConnectionStrings__AggregatorOwner="Host=127.0.0.1;Port=$pg_port;Username=aggregator;Database=aggregator"
  export ConnectionStrings__Aggregator="Host=127.0.0.1;Port=$pg_port;Username=aggregator_app;Database=aggregator"
else
  say "Using the database in ConnectionStrings__Aggregator (no local cluster started)."
fi

# 2. Build the three services.
say "Building ..."
dotnet build src/Sandbox/Aggregator.Sandbox.csproj -c "$config" -nologo -v quiet -clp:ErrorsOnly >"$local_dir/build-sandbox.log" 2>&1 \
  || { cat "$local_dir/build-sandbox.log" >&2; fail "the Sandbox did not build"; }
dotnet build src/Api/Aggregator.Api.csproj -c "$config" -nologo -v quiet -clp:ErrorsOnly >"$local_dir/build-api.log" 2>&1 \
  || { cat "$local_dir/build-api.log" >&2; fail "the Api did not build"; }
dotnet build src/Web/Aggregator.Web.csproj -c "$config" -nologo -v quiet -clp:ErrorsOnly >"$local_dir/build-web.log" 2>&1 \
  || { cat "$local_dir/build-web.log" >&2; fail "the web app did not build"; }

# Operator secrets of this checkout, made once and kept in .local (never committed): the jobs dashboard's password, and
# a self-signed certificate that encrypts the Data Protection key ring (which decrypts every stored token) at rest.
saved_umask=$(umask)
umask 077
[[ -s $local_dir/operator-password ]] || head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$local_dir/operator-password"
operator_password=$(cat "$local_dir/operator-password")
keyring_cert=$local_dir/keyring.pfx
if [[ ! -s $keyring_cert ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Aggregator local key ring" \
    -keyout "$local_dir/keyring.key" -out "$local_dir/keyring.crt" >/dev/null 2>&1 \
    && openssl pkcs12 -export -inkey "$local_dir/keyring.key" -in "$local_dir/keyring.crt" -out "$keyring_cert" -passout pass: >/dev/null 2>&1 \
    || { rm -f "$local_dir/keyring.key" "$local_dir/keyring.crt" "$keyring_cert"; fail "could not make the key ring certificate with openssl"; }
  rm -f "$local_dir/keyring.key" "$local_dir/keyring.crt"
fi
umask "$saved_umask"
export DataProtection__CertificatePath=$keyring_cert DataProtection__CertificatePassword=

# 3. Start the Sandbox provider, the Api and the web app.
sandbox_port=$(free_port 5090)
api_port=$(free_port 5080)
web_port=$(free_port 5070)
sandbox_url=http://127.0.0.1:$sandbox_port
api_url=http://127.0.0.1:$api_port
web_url=http://127.0.0.1:$web_port
samples=${AGGREGATOR_FHIR_SAMPLES:-$repo/data/fhir-samples}

sandbox_bin=$repo/src/Sandbox/bin/$config/net10.0
sandbox_args=(--urls "$sandbox_url" --contentRoot "$sandbox_bin" --Sandbox:TestApi true --Sandbox:StorePath "$local_dir/sandbox-oauth.db"
  --Sandbox:Generator:People 3 --Sandbox:Generator:ExchangedShare 0.7)
if [[ ! -d $samples/r4 || ! -d $samples/dstu2 ]]; then
  fail "no sample patients at $samples (expected r4/ and dstu2/ there; AGGREGATOR_FHIR_SAMPLES may point elsewhere)"
fi
sandbox_args+=(--Sandbox:DataDir "$samples")
# A second provider of the R4 sample patients (the same facts written another EHR's way, with its ground truth), for the
# de-duplication accuracy check (README, "How the record is merged"). Rebuilt each run from a fixed seed.
second_dir=$local_dir/second-provider
api_second=()
if [[ -d $samples/r4 ]] && dotnet "$repo/src/Sandbox/bin/$config/net10.0/Aggregator.Sandbox.dll" second-provider --from "$samples" --out "$second_dir" --seed 16 \
  >"$local_dir/second-provider.log" 2>&1; then
  sandbox_args+=(--Sandbox:Personas:second:DisplayName "Second provider of the sample patients" --Sandbox:Personas:second:FhirVersions:0 R4
    --Sandbox:Personas:second:DataDir "$second_dir" --Sandbox:Personas:second:Clients:0:ClientId second-public-app
    --Sandbox:Personas:second:Clients:0:Authentication none --Sandbox:Personas:second:Clients:0:RedirectUris:0 http://127.0.0.1/v1/oauth/callback)
  # The Api's directory lists it after the three personas of its appsettings.json.
  api_second=(Sandbox__Personas__3__Name=second Sandbox__Personas__3__DisplayName="Second provider" Sandbox__Personas__3__Brand=Sandbox
    Sandbox__Personas__3__FhirVersions__0=R4 Sandbox__Personas__3__ClientId=second-public-app Sandbox__Personas__3__AuthenticationMethod=None)
fi
ASPNETCORE_ENVIRONMENT=Development dotnet "$sandbox_bin/Aggregator.Sandbox.dll" "${sandbox_args[@]}" \
  >"$local_dir/sandbox.log" 2>&1 &
pids+=($!)

api_bin=$repo/src/Api/bin/$config/net10.0
env "${api_second[@]}" ASPNETCORE_ENVIRONMENT=Development Worker__InProcess=true Sandbox__BaseUrl=$sandbox_url Api__PublicBaseUrl=$api_url Api__WebBaseUrl=$web_url \
  Operator__DashboardPassword=$operator_password \
  dotnet "$api_bin/Aggregator.Api.dll" --urls "$api_url" --contentRoot "$api_bin" > >(tee -a "$local_dir/api.log") 2>&1 &
pids+=($!)


wait_ready() {
  local name=$1 url=$2
  for _ in $(seq 1 240); do
    if curl -fsS -m 2 "$url/health/ready" >/dev/null 2>&1; then return 0; fi
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "$name stopped while starting; see .local/*.log"; done
    sleep 0.5
  done
  fail "$name did not become ready at $url within 120 s; see .local/*.log"
}
wait_ready Sandbox "$sandbox_url"
wait_ready Api "$api_url"

# 4. A ready demo tenant: a fresh key each run (keys are stored hashed; the previous one is revoked).
demo_out=$(dotnet "$api_bin/Aggregator.Api.dll" tenants demo --return-url "$api_url/demo/connected" --return-url "$web_url/app/connected" \
  2>>"$local_dir/api.log") || fail "could not create the demo tenant; see .local/api.log"
demo_key=$(printf '%s\n' "$demo_out" | tail -n 1)

# The web app (hosted Connect and the companion app) works for the demo tenant: its key stays on the server.
web_bin=$repo/src/Web/bin/$config/net10.0
ASPNETCORE_ENVIRONMENT=Development Web__ApiBaseUrl=$api_url Web__ApiKey=$demo_key \
  dotnet "$web_bin/Aggregator.Web.dll" --urls "$web_url" --contentRoot "$repo/src/Web" >"$local_dir/web.log" 2>&1 &
pids+=($!)
wait_ready Web "$web_url"
demo_tenant=$(printf '%s\n' "$demo_out" | head -n 1)
demo_login=$(curl -fsS -m 5 "$sandbox_url/_test/patients" 2>/dev/null \
  | grep -oE '"persona":"nextgen","fhirVersion":"R4"[^}]*"source":"generated"' | head -n 1 \
  | sed -E 's/.*"username":"([^"]*)".*"password":"([^"]*)".*/\1 \/ \2/' || true)

# 5. The demo patient: a generated person signs in at the Epic persona (R4) and the NextGen one (DSTU2)
#    through the sandbox's own login and consent pages; both connections sync and merge into one record.
say "Connecting the demo patient to two sandbox providers (R4 and DSTU2) and syncing ..."
if demo_patient=$(AGGREGATOR_API_KEY=$demo_key dotnet "$sandbox_bin/Aggregator.Sandbox.dll" demo connect --api "$api_url" --sandbox "$sandbox_url" \
  --patient demo-patient 2>>"$local_dir/demo.log"); then
  demo_summary=$(printf '%s\n' "$demo_patient" | head -n -1)
  demo_patient_id=$(printf '%s\n' "$demo_patient" | tail -n 1)
else
  # The services stay up; the demo patient can be connected by hand (below).
  tail -n 5 "$local_dir/demo.log" >&2
  demo_summary="The demo patient could not be connected (see .local/demo.log); connect one by hand as shown below."
  demo_patient_id="<patient id>"
fi

# 6. The demo patient's sign-in to the companion app (a 12-hour session token, as a partner's backend mints one), and a
#    hosted Connect session for them, as a partner's backend would ask for one (30 minutes, opens once).
session_token=$(curl -fsS -m 10 -X POST -H "Authorization: Bearer $demo_key" -H "Content-Type: application/json" \
  -d '{"lifetimeMinutes":720}' "$api_url/v1/patients/$demo_patient_id/session-tokens" 2>/dev/null \
  | sed -E 's/.*"token":"([^"]*)".*/\1/' || true)
connect_url=$(curl -fsS -m 10 -X POST -H "Authorization: Bearer $demo_key" -H "Content-Type: application/json" \
  -d "{\"returnUrl\":\"$api_url/demo/connected\"}" "$api_url/v1/patients/$demo_patient_id/link-sessions" 2>/dev/null \
  | sed -E 's/.*"url":"([^"]*)".*/\1/' || true)

cat <<TXT

Aggregator is running (Ctrl-C stops it; data stays).
  Api            $api_url          ready: $api_url/health/ready
  Web app        $web_url
  API docs       $api_url/docs
  Jobs dashboard $api_url/hangfire   (user operator, password $operator_password)
  Metrics        $api_url/metrics    (Prometheus text; the same sign-in)
  Sandbox EHR    $sandbox_url      FHIR: $sandbox_url/nextgen/fhir/r4/
  Database       ${pg_dir:-from ConnectionStrings__Aggregator}
  Logs           .local/api.log, .local/sandbox.log, .local/web.log, .local/demo.log

Demo: $demo_tenant
  API key        $demo_key
  $demo_summary

The demo patient's merged record (each fact once, with every source that states it):
  curl -s -H "Authorization: Bearer $demo_key" $api_url/v1/patients/$demo_patient_id/record
  curl -s -H "Authorization: Bearer $demo_key" "$api_url/v1/patients/$demo_patient_id/record/conditions?limit=5"
  curl -s -H "Authorization: Bearer $demo_key" '$api_url/fhir/r4/Patient/$demo_patient_id/\$everything'

The demo patient's companion app (sign-in link, valid 12 hours):
  $web_url/app/start?session=${session_token:-"(could not mint a session token; see .local/api.log)"}

Link more providers for the demo patient on the hosted Connect page (opens once, for 30 minutes; sandbox login ${demo_login:-see $sandbox_url/_test/patients}):
  ${connect_url:-"(could not create a link session; see .local/api.log)"}

Or connect another patient through the API (open the printed authorizeUrl in a browser):
  curl -s -X PUT -H "Authorization: Bearer $demo_key" -H "Content-Type: application/json" -d '{}' $api_url/v1/patients/my-patient
  curl -s -H "Authorization: Bearer $demo_key" "$api_url/v1/providers?q=sandbox-nextgen-r4"
  curl -s -X POST -H "Authorization: Bearer $demo_key" -H "Content-Type: application/json" \
       -d '{"providerId":"<id from above>","returnUrl":"$api_url/demo/connected"}' $api_url/v1/patients/<patient id>/connections
Measure de-duplication against the sandbox's ground truth (connects 3 generated people at 4 providers):
  AGGREGATOR_API_KEY=$demo_key dotnet $sandbox_bin/Aggregator.Sandbox.dll demo accuracy --api $api_url --sandbox $sandbox_url
TXT
if ((${#api_second[@]} > 0)); then
  cat <<TXT
Measure it against a second provider of the sample patients (per category; connects 8 patients at NextGen and 'second'):
  AGGREGATOR_API_KEY=$demo_key dotnet $sandbox_bin/Aggregator.Sandbox.dll demo second-provider-accuracy --api $api_url --sandbox $sandbox_url --truth $second_dir/truth.json
TXT
fi
# Until Ctrl-C, or until either service stops by itself.
wait -n "${pids[@]}" || true
