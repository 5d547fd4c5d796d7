#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis (PyPI) against the OpenAPI document the server serves at /api/openapi.json:
# positive and negative data for every operation, all checks. Passes only with zero 5xx answers and zero schema
# violations.
#
#   Ops/api-fuzz.sh                  build if needed, start what is missing, fuzz, clean up
#   TANDEM_FUZZ_EXAMPLES=N           examples per operation (default 60)
#   TANDEM_BIN=path/to/tandem        use this binary instead of building
#   TANDEM_FUZZ_KEEP=1               keep the database afterwards (to read its audit log)
#
# It starts PostgreSQL and Redis through Ops/services.sh unless TANDEM_DATABASE_URL and TANDEM_REDIS_URL are set,
# creates a fresh database (dropped afterwards), runs `tandem migrate`, makes a first admin and an API token with the
# CLI, starts `tandem server` on a free port, seeds test data (Ops/lib/fuzz-data.sh: entities, jobs, pairs, failed
# items, and the schemathesis.toml that hands their names and ids to the operations), and runs `st run` with the
# token. Reports go to var/api-fuzz/. It ends with the operations that still got only 404s, or whose valid data
# was always refused.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/var/api-fuzz
mkdir -p "$OUT"
log() { echo "api-fuzz: $*" >&2; }

if [ -z "${TANDEM_DATABASE_URL:-}" ] || [ -z "${TANDEM_REDIS_URL:-}" ]; then
    eval "$(Ops/services.sh start)"
fi

if ! command -v st >/dev/null 2>&1; then
    log "installing schemathesis"
    pip install -q schemathesis >&2
fi

source "$ROOT/Ops/lib/common.sh"
tandem_binary

fresh_database tandem_fuzz

server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "${TANDEM_FUZZ_KEEP:-0}" = 1 ]; then
        log "kept database $NAME"
    else
        psql -q "$SERVER_URL" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -f "$OUT/password" "$OUT/schemathesis.toml"
}
trap cleanup EXIT

export TANDEM_DATABASE_URL=$DB_URL
TANDEM_MASTER_KEY=$("$BIN" keys generate)
export TANDEM_MASTER_KEY
"$BIN" migrate >&2
head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$OUT/password"
"$BIN" users add fuzz-admin --role admin --password-file "$OUT/password" >&2
# Token ids are small integers: move ours out of reach, so that revoking "token 1" does not revoke it mid-run.
psql -q "$DB_URL" -c "SELECT setval('api_tokens_id_seq', 1000000)" >/dev/null
TOKEN=$("$BIN" tokens create --user fuzz-admin --name schemathesis)

PORT=$(free_port)
"$BIN" server --host 127.0.0.1 --port "$PORT" --prefix "tandem-fuzz-$NAME:" >"$OUT/server.log" 2>&1 &
server_pid=$!
wait_for_server "$PORT" "$server_pid" "$OUT/server.log"
log "server on port $PORT, database $NAME"

# Repositories, models, collections, integrations, background jobs, pairs and failed items to reach, and
# var/api-fuzz/schemathesis.toml, which hands their names and ids to the operations that take them.
source "$ROOT/Ops/lib/fuzz-data.sh"
seed_fuzz_data "http://127.0.0.1:$PORT" "$TOKEN" "$DB_URL" "$OUT/password" "$OUT" || { log "seeding the fuzz database failed"; exit 1; }

# Every check runs (the checks are chosen in var/api-fuzz/schemathesis.toml), with positive and negative data;
# positive_data_acceptance only for the operations whose valid data the schema can fully describe (the list and the
# reasons are in Ops/lib/fuzz-data.sh).
# Schemathesis reuses ids and names it has seen in answers, so it finds our own token (GET /api/v1/tokens) and user
# (GET /api/v1/users). The operations that can take those credentials away run last, each with a fresh token:
#   1. every other operation: examples, coverage (boundary and negative values) and fuzzing;
#   2. the stateful phase (sequences that follow the API's links with real ids), without those operations, and
#      without positive_data_acceptance (that phase applies no per-operation check settings);
#   3. revokeToken, revokeUserToken, updateUser, setUserPassword, deleteUser, changeOwnPassword, one at a time.
# changeOwnPassword sends our password (see Ops/lib/fuzz-data.sh); the wrong ones sent before lock the account, so it
# runs once the lock is cleared.
risky=(revokeToken revokeUserToken updateUser setUserPassword deleteUser changeOwnPassword)
exclude=()
for id in "${risky[@]}"; do exclude+=(--exclude-operation-id "$id"); done
common=(--mode all --max-examples "${TANDEM_FUZZ_EXAMPLES:-60}"
    --workers 2 --generation-deterministic --no-color --output-sanitize true)
# Run from var/api-fuzz, where schemathesis keeps its cache of failures (.schemathesis/) and finds schemathesis.toml.
st_run() { (cd "$OUT" && st run "$@"); }
# Once more when schemathesis itself broke (its summary shows an internal error, no failed check): a crash of the
# tool is not a finding about the API; a failed check never gets a second chance.
st_checked() {
    local attempt out rc
    for attempt in 1 2; do
        out=$(mktemp)
        st_run "$@" 2>&1 | tee "$out" | tee -a "$OUT/schemathesis.log"
        rc=${PIPESTATUS[0]}
        if [ "$rc" = 0 ]; then rm -f "$out"; return 0; fi
        if grep -q "❌" "$out" || ! grep -q "🚫" "$out"; then rm -f "$out"; return 1; fi
        rm -f "$out"
        log "schemathesis reported an internal error and no failed check (attempt $attempt)"
    done
    return 1
}
status=0
: >"$OUT/schemathesis.log"
set +e
st_checked "http://127.0.0.1:$PORT/api/openapi.json" --header "Authorization: Token $TOKEN" "${common[@]}" \
    --phases examples,coverage,fuzzing "${exclude[@]}" --report junit --report-junit-path "$OUT/junit-operations.xml" || status=1
st_run "http://127.0.0.1:$PORT/api/openapi.json" --header "Authorization: Token $TOKEN" "${common[@]}" \
    --phases stateful --exclude-checks positive_data_acceptance "${exclude[@]}" --report junit --report-junit-path "$OUT/junit-stateful.xml" 2>&1 | tee -a "$OUT/schemathesis.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
for id in "${risky[@]}"; do
    fresh=$("$BIN" tokens create --user fuzz-admin --name "schemathesis-$id")
    curl -sf -X PATCH -H "Authorization: Token $fresh" -H 'Content-Type: application/json' --data '{"unlock":true}' \
        "http://127.0.0.1:$PORT/api/v1/users/fuzz-admin" >/dev/null || log "could not clear fuzz-admin's lock-out"
    st_run "http://127.0.0.1:$PORT/api/openapi.json" --header "Authorization: Token $fresh" "${common[@]}" \
        --phases examples,coverage,fuzzing --include-operation-id "$id" --report junit --report-junit-path "$OUT/junit-$id.xml" 2>&1 \
        | tee -a "$OUT/schemathesis.log"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
done
set -e
# One line each for the operations schemathesis still could not get past a 404 or a validation error.
warned() {
    awk -v start="$1" 'index($0, start) == 1 { on = 1; next } on && /^[A-Z=]/ { on = 0 } on && /^  - / { print $2 " " $3 }' \
        "$OUT/schemathesis.log" | sort -u | paste -sd ',' | sed 's/,/, /g'
}
only404=$(warned "Missing test data:")
mismatch=$(warned "Schema validation mismatch:")
log "operations that got only 404s: ${only404:-none}"
log "operations whose valid data was always refused: ${mismatch:-none}"
server5xx=$(grep -cE 'Unexpected error in the API' "$OUT/server.log" || true)
log "schemathesis: $([ "$status" = 0 ] && echo passed || echo FAILED) (log: $OUT/schemathesis.log); unexpected server errors logged: $server5xx"
[ "$server5xx" = 0 ] || status=1
exit "$status"
