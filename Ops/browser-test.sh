#!/usr/bin/env bash
# The web UI in a real browser: headless Chromium (Debian) driven by Selenium (PyPI). Logs in, creates an integration
# through the forms, sees a REAL failed item (the right collection maps the model's status to a field the simulated
# repository refuses), fixes the mapping in the collection form, retries the item and sees it done, then opens the
# metrics page and checks its SVG chart has bars. Screenshots of every step go to var/test-output/browser/.
#
#   Ops/browser-test.sh              build if needed, start what is missing, run, clean up; non-zero on any failure
#   TANDEM_BIN=path/to/tandem        use this binary instead of building
#   TANDEM_BROWSER_KEEP=1            keep the database afterwards
#   TANDEM_BROWSER_HEADED=1          show the browser (needs a display)
#
# It installs chromium and chromium-driver with apt-get and selenium with pip only when they are missing, starts
# PostgreSQL and Redis through Ops/services.sh unless TANDEM_DATABASE_URL and TANDEM_REDIS_URL are set, creates a fresh
# database (dropped afterwards), `tandem simulate`, `tandem apply` of two memory repositories on the simulator, a model
# and two collections, a first admin with the CLI, and a coordinator, a worker and `tandem server` on free ports.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/var/test-output/browser
WORK=$ROOT/var/browser-test
rm -rf "$OUT" "$WORK"
mkdir -p "$OUT" "$WORK"
log() { echo "browser-test: $*" >&2; }
started=$SECONDS

# --- tools: chromium + chromedriver (apt), selenium (pip), only when missing ---
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    log "installing chromium and chromium-driver"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
fi
if ! python3 -c 'import selenium' >/dev/null 2>&1; then
    log "installing selenium"
    # As Ops/api-fuzz.sh installs schemathesis; a system Python that refuses (PEP 668) gets --break-system-packages.
    python3 -m pip install -q selenium >&2 || python3 -m pip install -q --break-system-packages selenium >&2
fi

if [ -z "${TANDEM_DATABASE_URL:-}" ] || [ -z "${TANDEM_REDIS_URL:-}" ]; then
    eval "$(Ops/services.sh start)"
fi

source "$ROOT/Ops/lib/common.sh"
tandem_binary

fresh_database tandem_browser
PREFIX="tandem-browser-$NAME:"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "${TANDEM_BROWSER_KEEP:-0}" = 1 ]; then
        log "kept database $NAME"
    else
        psql -q "$SERVER_URL" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -u "$TANDEM_REDIS_URL" --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli -u "$TANDEM_REDIS_URL" del >/dev/null 2>&1 || true
    fi
    rm -f "$WORK/password"
}
trap cleanup EXIT

# --- the simulator ---
start_simulator "$BIN" "$WORK/simulator.log"
pids+=("$SIM_PID")

# --- database, key, configuration (no integration: the browser creates it), first admin ---
export TANDEM_DATABASE_URL=$DB_URL
"$BIN" keys generate >"$WORK/master.key"
chmod 600 "$WORK/master.key"
export TANDEM_MASTER_KEY_FILE=$WORK/master.key
"$BIN" migrate >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }
cat >"$WORK/config.yaml" <<YAML
version: 1
settings:
  changeDetectionInterval: 2s
  fullScanEnabled: false
repositories:
  - name: left
    type: memory
    url: $SIM/repos/left
  - name: right
    type: memory
    url: $SIM/repos/right
models:
  - name: Item
    fields:
      - name: title
        type: string
        required: true
      - name: status
        type: single-select
        values: [open, in-progress, done]
collections:
  - name: left-items
    repository: left
    artifactType: task
    projects: [left]
    model: Item
    fields:
      - field: title
        modelField: title
      - field: status
        modelField: status
  # The mistake the test fixes through the form: the memory repository has no field "state".
  - name: right-items
    repository: right
    artifactType: task
    projects: [right]
    model: Item
    fields:
      - field: title
        modelField: title
      - field: state
        modelField: status
YAML
"$BIN" apply -f "$WORK/config.yaml" --actor browser-test >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }
head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$WORK/password"
"$BIN" users add browser-admin --role admin --password-file "$WORK/password" >>"$WORK/setup.log" 2>&1

# --- coordinator, worker, server ---
"$BIN" coordinator --prefix "$PREFIX" --id browser-coordinator >"$WORK/coordinator.log" 2>&1 &
pids+=($!)
"$BIN" worker --prefix "$PREFIX" --id browser-worker --concurrency 4 >"$WORK/worker.log" 2>&1 &
pids+=($!)
PORT=$(free_port)
"$BIN" server --host 127.0.0.1 --port "$PORT" --prefix "$PREFIX" >"$WORK/server.log" 2>&1 &
server_pid=$!
pids+=($server_pid)
wait_for_server "$PORT" "$server_pid" "$WORK/server.log"
log "server on port $PORT, simulator $SIM, database $NAME (setup $((SECONDS - started)) s)"

status=0
TANDEM_UI_URL="http://127.0.0.1:$PORT" TANDEM_UI_USER=browser-admin TANDEM_UI_PASSWORD_FILE="$WORK/password" \
    TANDEM_SIMULATOR_URL="$SIM" TANDEM_SCREENSHOTS="$OUT" \
    python3 Ops/browser/test_ui.py || status=$?
errors=$(grep -cE 'Unexpected error in the web UI' "$WORK/server.log" || true)
[ "$errors" = 0 ] || { log "the server logged $errors unexpected web UI errors"; status=1; }
cp "$WORK"/*.log "$OUT/" 2>/dev/null || true
log "$([ "$status" = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s; screenshots and logs: $OUT"
exit "$status"
