#!/usr/bin/env bash
# `make prod-local`: the production topology on one machine, as separate processes:
#   1. a gRPC code server  (dagster code-server start -m ntx_assets.definitions): loads the definitions
#      and launches every run as its own subprocess (DefaultRunLauncher);
#   2. dagster-webserver   (the UI), loading the location from that code server (deploy/workspace.yaml);
#   3. dagster-daemon      (run queue, backfills, sensors, schedules, run monitoring), same workspace.
# Dagster's storage and the warehouse are PostgreSQL; the instance is ntx_assets/deploy/dagster.yaml,
# copied into $PROD_DAGSTER_HOME. Ctrl-C (SIGINT) or SIGTERM stops all three with their children (runs in
# flight included): SIGTERM to each process group, SIGKILL to whatever is left after 20 s.
#
# Environment (defaults in brackets):
#   PROD_DAGSTER_HOME [.dagster_home_prod]   NTX_CODE_SERVER_HOST [127.0.0.1]  NTX_CODE_SERVER_PORT [4266]
#   UI_HOST [127.0.0.1]  UI_PORT [3000]
#   DAGSTER_PG_HOST [127.0.0.1] DAGSTER_PG_PORT [5432] DAGSTER_PG_USER [postgres] DAGSTER_PG_PASSWORD []
#   DAGSTER_PG_DB [ntx_dagster]              created if missing
#   NTX_DATABASE_URL [postgresql+psycopg://<DAGSTER_PG_USER>@<host>:<port>/ntx_warehouse, created if missing]
#   every other NTX_* setting (docs/operations.md, "Configure"), e.g. NTX_NEPSE_BASE_URL=http://127.0.0.1:8765 for the
#   stand-in (`make standin` in another terminal); unset, the code location talks to the live NEPSE.
set -euo pipefail
# Job control: every background process below leads its own process group, with SIGINT and SIGTERM at
# their defaults. (Without it bash starts background commands with SIGINT ignored, and Dagster maps
# SIGTERM onto the SIGINT handler, so they would ignore SIGTERM as well.)
set -m

cd "$(dirname "$0")/../.."
BIN=${VENV_BIN:-$PWD/.venv/bin}

export DAGSTER_HOME=${PROD_DAGSTER_HOME:-$PWD/.dagster_home_prod}
export DAGSTER_PG_HOST=${DAGSTER_PG_HOST:-127.0.0.1}
export DAGSTER_PG_PORT=${DAGSTER_PG_PORT:-5432}
export DAGSTER_PG_USER=${DAGSTER_PG_USER:-postgres}
export DAGSTER_PG_PASSWORD=${DAGSTER_PG_PASSWORD:-}
export DAGSTER_PG_DB=${DAGSTER_PG_DB:-ntx_dagster}
export NTX_CODE_SERVER_HOST=${NTX_CODE_SERVER_HOST:-127.0.0.1}
export NTX_CODE_SERVER_PORT=${NTX_CODE_SERVER_PORT:-4266}
UI_HOST=${UI_HOST:-127.0.0.1}
UI_PORT=${UI_PORT:-3000}

pg_auth="$DAGSTER_PG_USER${DAGSTER_PG_PASSWORD:+:$DAGSTER_PG_PASSWORD}"
create_databases=("$DAGSTER_PG_DB")
if [[ -z ${NTX_DATABASE_URL:-} ]]; then
  export NTX_DATABASE_URL="postgresql+psycopg://$pg_auth@$DAGSTER_PG_HOST:$DAGSTER_PG_PORT/ntx_warehouse"
  create_databases+=(ntx_warehouse)
fi

# The databases this profile names by default, on the same server as Dagster's storage.
"$BIN/python" - "${create_databases[@]}" <<'PY'
import os, sys
import psycopg
from psycopg import sql

env = os.environ
with psycopg.connect(
    host=env["DAGSTER_PG_HOST"], port=env["DAGSTER_PG_PORT"], user=env["DAGSTER_PG_USER"],
    password=env["DAGSTER_PG_PASSWORD"] or None, dbname="postgres", autocommit=True,
) as conn:
    for name in sys.argv[1:]:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"prod-local: created database {name}")
PY

mkdir -p "$DAGSTER_HOME"
cp ntx_assets/deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
# Validate the instance and create (or migrate-check) Dagster's schema once, before three processes race.
"$BIN/dagster" instance info > "$DAGSTER_HOME/instance-info.txt"

pids=()
stopping=0
# shellcheck disable=SC2317  # called from the traps below
stop() {
  ((stopping)) && return
  stopping=1
  echo "prod-local: stopping ${pids[*]:-nothing}" >&2
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "prod-local: stopped" >&2
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

"$BIN/dagster" code-server start -h "$NTX_CODE_SERVER_HOST" -p "$NTX_CODE_SERVER_PORT" \
  -m ntx_assets.definitions --location-name ntx_assets &
pids+=($!)
echo "prod-local: code server pid $! on $NTX_CODE_SERVER_HOST:$NTX_CODE_SERVER_PORT" >&2

# Wait until the code server answers with the location loaded, so the webserver's first load succeeds.
"$BIN/python" - "${pids[0]}" <<'PY'
import os, sys, time
from dagster._grpc.client import DagsterGrpcClient

pid = int(sys.argv[1])
client = DagsterGrpcClient(host=os.environ["NTX_CODE_SERVER_HOST"], port=int(os.environ["NTX_CODE_SERVER_PORT"]))
deadline = time.monotonic() + 300
while True:
    try:
        client.list_repositories()
        break
    except Exception as exc:  # not listening yet, or still loading the definitions
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit("prod-local: the code server exited during startup")
        if time.monotonic() > deadline:
            sys.exit(f"prod-local: the code server did not load within 300 s: {exc}")
        time.sleep(0.5)
print("prod-local: code server ready", file=sys.stderr)
PY

"$BIN/dagster-webserver" -w ntx_assets/deploy/workspace.yaml -h "$UI_HOST" -p "$UI_PORT" &
pids+=($!)
echo "prod-local: webserver pid $! on http://$UI_HOST:$UI_PORT" >&2
"$BIN/dagster-daemon" run -w ntx_assets/deploy/workspace.yaml &
pids+=($!)
echo "prod-local: daemon pid $!" >&2

# Run until Ctrl-C, or until one of the three exits (then stop the others: a partial topology misleads).
wait -n || true
echo "prod-local: a process exited; stopping the others" >&2
exit 1
