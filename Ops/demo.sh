#!/usr/bin/env bash
# The main job: from a fresh Debian machine (as root), bring Tandem up on loopback and show it syncing.
#   PostgreSQL + Redis, a real Redmine and a real Roundup; build; migrate; apply the example integration
#   (Redmine bugs <-> Roundup issues); a coordinator and two workers; sample issues on both sides, synced live;
#   a comment each way; a change previewed with --dry-run; the configuration exported again.
# Everything binds to 127.0.0.1 and is left running; `Ops/demo.sh stop` stops it all.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
mkdir -p var/demo
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
started=$SECONDS
stop_cluster() {
    if [ -f var/demo/cluster.pids ]; then
        while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done < var/demo/cluster.pids
        rm -f var/demo/cluster.pids
    fi
}
if [ "${1:-}" = stop ]; then
    stop_cluster
    Ops/trackers/down.sh || true
    Ops/services.sh stop
    exit 0
fi
stop_cluster
pids=()
# On failure, stop what this run started; on success, leave it running.
trap '[ $? -ne 0 ] && for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done' EXIT

step "1/8 PostgreSQL 15 and Redis 7 on loopback"
services_env=$(Ops/services.sh start)
eval "$services_env"
echo "database: ${TANDEM_DATABASE_URL%%:*}://…@${TANDEM_DATABASE_URL##*@}   redis: $TANDEM_REDIS_URL"

step "2/8 real trackers: Redmine 5 and Roundup 2.6 (installed on first run; fresh state each demo)"
Ops/trackers/down.sh --purge >/dev/null 2>&1 || true
trackers_env=$(Ops/trackers/up.sh)
eval "$trackers_env"
echo "redmine: $TANDEM_REDMINE_URL   roundup: $TANDEM_ROUNDUP_URL"

step "3/8 build tandem"
if [ -n "${TANDEM_BIN:-}" ]; then TANDEM=$TANDEM_BIN; else
    swift build --product tandem 2>&1 | grep -E 'error|warning: |Build' || true
    TANDEM="$(swift build --product tandem --show-bin-path)/tandem"
fi
[ -x "$TANDEM" ] || { echo "build failed" >&2; exit 1; }

step "4/8 a fresh demo database, master key, migrations, the example integration"
psql "$TANDEM_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS tandem_demo WITH (FORCE)" -c "CREATE DATABASE tandem_demo OWNER tandem" 2>&1 | grep -v NOTICE || true
export TANDEM_DATABASE_URL="${TANDEM_DATABASE_URL%/*}/tandem_demo"
redis-cli -p "${TANDEM_REDIS_PORT:-6390}" --scan --pattern 'demo:*' | xargs -r redis-cli -p "${TANDEM_REDIS_PORT:-6390}" del >/dev/null
if [ ! -s var/demo/master.key ]; then "$TANDEM" keys generate > var/demo/master.key; chmod 600 var/demo/master.key; fi
export TANDEM_MASTER_KEY_FILE="$ROOT/var/demo/master.key"
"$TANDEM" migrate
"$TANDEM" apply -f docs/examples/redmine-roundup.yaml --actor demo
"$TANDEM" repositories list

step "5/8 a coordinator and two workers"
"$TANDEM" coordinator --prefix demo: --id demo-coordinator >var/demo/coordinator.log 2>&1 & pids+=($!)
"$TANDEM" worker --prefix demo: --id demo-worker-1 --concurrency 4 >var/demo/worker-1.log 2>&1 & pids+=($!)
"$TANDEM" worker --prefix demo: --id demo-worker-2 --concurrency 4 >var/demo/worker-2.log 2>&1 & pids+=($!)
HTTP_PORT=${TANDEM_HTTP_PORT:-8080}
"$TANDEM" server --prefix demo: --port "$HTTP_PORT" >var/demo/server.log 2>&1 & pids+=($!)
printf '%s\n' "${pids[@]}" > var/demo/cluster.pids
sleep 3
"$TANDEM" workers --prefix demo: || true

redmine() { curl -sf -H "X-Redmine-API-Key: $TANDEM_REDMINE_API_KEY" -H 'Content-Type: application/json' "$@"; }
roundup() {
    curl -sf -u "$TANDEM_ROUNDUP_USER:$TANDEM_ROUNDUP_PASSWORD" -H 'X-Requested-With: rest' \
        -H "Origin: ${TANDEM_ROUNDUP_URL%/*}" -H 'Content-Type: application/json' "$@"
}
pair_of() { psql "$TANDEM_DATABASE_URL" -qtAc "SELECT $2 FROM artifact_pairs WHERE $1 = '$3'"; }
wait_pair() {  # side-column id → the twin's id, waiting up to 120 s
    local twin="" t0=$SECONDS
    for _ in $(seq 1 120); do
        twin=$(pair_of "$1" "$2" "$3")
        [ -n "$twin" ] && break
        pairs=$(psql "$TANDEM_DATABASE_URL" -qtAc "SELECT count(*) FROM artifact_pairs")
        printf '\r  waiting for %s %s: %3d s, %s pairs so far' "$1" "$3" $((SECONDS - t0)) "$pairs" >&2
        sleep 1
    done
    printf '\r%60s\r' '' >&2
    echo "$twin"
}

step "6/8 new issues on both sides, synced live"
rm1=$(redmine -X POST "$TANDEM_REDMINE_URL/issues.json" \
    -d '{"issue":{"project_id":"sync","tracker_id":1,"subject":"Demo: login page crashes on submit","description":"Open /login, press Submit: 500.","priority_id":3}}' |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["issue"]["id"])')
echo "created Redmine bug #$rm1"
# Roundup's description is an issue's first message; later messages are its comments.
first=$(roundup -X POST "$TANDEM_ROUNDUP_URL/rest/data/msg" -d "{\"content\":\"Exported CSV turns é into ?.\",\"author\":\"$TANDEM_ROUNDUP_USER\"}" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["id"])')
ru1=$(roundup -X POST "$TANDEM_ROUNDUP_URL/rest/data/issue" \
    -d "{\"title\":\"Demo: export to CSV drops accents\",\"priority\":\"bug\",\"messages\":[\"$first\"]}" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["id"])')
echo "created Roundup issue$ru1"
t0=$SECONDS
twin=$(wait_pair left_id right_id "$rm1")
[ -n "$twin" ] && echo "  Redmine #$rm1  →  Roundup issue$twin   ($((SECONDS - t0)) s)" || echo "  Redmine #$rm1 not synced yet"
twin2=$(wait_pair right_id left_id "$ru1")
[ -n "$twin2" ] && echo "  Roundup issue$ru1  →  Redmine #$twin2   ($((SECONDS - t0)) s)" || echo "  Roundup issue$ru1 not synced yet"
if [ -n "$twin" ]; then
    roundup "$TANDEM_ROUNDUP_URL/rest/data/issue/$twin" |
        python3 -c 'import sys,json; a=json.load(sys.stdin)["data"]["attributes"]; print("  Roundup sees: title=%r, priority #%s, status #%s" % (a["title"], a["priority"]["id"], a["status"]["id"]))' || true
fi

step "7/8 an update and a comment, each way"
if [ -n "$twin" ]; then
    redmine -X PUT "$TANDEM_REDMINE_URL/issues/$rm1.json" -d '{"issue":{"subject":"Demo: login page crashes on submit (Chrome only)","notes":"Reproduced on Chrome 131."}}' >/dev/null
    echo "Redmine #$rm1: new title and a comment"
    for _ in $(seq 1 90); do
        title=$(roundup "$TANDEM_ROUNDUP_URL/rest/data/issue/$twin" | python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["attributes"]["title"])')
        case "$title" in *Chrome*) break ;; esac
        sleep 1
    done
    echo "  Roundup issue$twin title: $title"
fi
if [ -n "$twin2" ]; then
    msg=$(roundup -X POST "$TANDEM_ROUNDUP_URL/rest/data/msg" -d "{\"content\":\"Seen with Excel too.\",\"author\":\"$TANDEM_ROUNDUP_USER\"}" |
        python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["id"])' || true)
    etag=$(curl -sf -u "$TANDEM_ROUNDUP_USER:$TANDEM_ROUNDUP_PASSWORD" -H 'X-Requested-With: rest' -D - -o /dev/null \
        "$TANDEM_ROUNDUP_URL/rest/data/issue/$ru1" | sed -n 's/^[Ee][Tt]ag: *//p' | tr -d '\r')
    roundup -X PATCH -H "If-Match: $etag" "$TANDEM_ROUNDUP_URL/rest/data/issue/$ru1" -d "{\"@op\":\"add\",\"messages\":[\"$msg\"]}" >/dev/null || true
    echo "Roundup issue$ru1: a comment"
    for _ in $(seq 1 90); do
        notes=$(redmine "$TANDEM_REDMINE_URL/issues/$twin2.json?include=journals" | python3 -c 'import sys,json; print(sum(1 for j in json.load(sys.stdin)["issue"]["journals"] if j.get("notes")))')
        [ "$notes" -gt 0 ] && break
        sleep 1
    done
    echo "  Redmine #$twin2 comments: $notes"
fi
"$TANDEM" trace redmine "$rm1" --prefix demo: || true
psql "$TANDEM_DATABASE_URL" -c "SELECT created_from AS created_from_side, count(*) AS pairs FROM artifact_pairs GROUP BY 1"

step "8/8 a change previewed, and the configuration exported (secrets stay references)"
sed 's/concurrencyLimit: 4/concurrencyLimit: 8/' docs/examples/redmine-roundup.yaml > var/demo/changed.yaml
"$TANDEM" apply -f var/demo/changed.yaml --dry-run
"$TANDEM" export -o var/demo/exported.yaml
if grep -q -e "$TANDEM_REDMINE_API_KEY" -e "$TANDEM_ROUNDUP_PASSWORD" var/demo/exported.yaml; then echo "a secret leaked into the export" >&2; exit 1; fi
"$TANDEM" queues --prefix demo: || true
curl -sf "http://127.0.0.1:$HTTP_PORT/health" && echo || true
echo
echo "Demo done in $((SECONDS - started)) s. Still running — a coordinator, two workers and the server:"
echo "  health   http://127.0.0.1:$HTTP_PORT/health      metrics  http://127.0.0.1:$HTTP_PORT/metrics"
echo "  redmine  $TANDEM_REDMINE_URL (user admin)   roundup  $TANDEM_ROUNDUP_URL (user admin)"
echo "  logs     var/demo/*.log      explain an item:  $TANDEM trace redmine $rm1 --prefix demo:"
echo "Stop everything with:  bash Ops/demo.sh stop"
