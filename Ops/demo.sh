#!/usr/bin/env bash
# The main job: from a fresh Debian machine (as root), bring Tandem up on loopback and show it syncing.
#   PostgreSQL + Redis, a real Redmine and a real Roundup; build; migrate; apply the example integration
#   (Redmine bugs <-> Roundup issues); a coordinator and two workers; sample issues on both sides, synced live;
#   a comment each way; a change previewed with --dry-run; the configuration exported again.
#   It ends with the web UI's address and an admin login (a generated password, checked against the running server
#   and kept in var/demo/admin-password, mode 0600) and the CLI commands to look inside (trace, queues).
# Everything binds to 127.0.0.1 and is left running; `Ops/demo.sh stop` stops it all.
#
#   Ops/demo.sh [stop]
#   TANDEM_BIN=path/to/tandem     use this binary instead of building
#   Ports: TANDEM_HTTP_PORT (the server, 8080), TANDEM_PG_PORT (5433), TANDEM_REDIS_PORT (6390),
#          TANDEM_REDMINE_PORT (3310), TANDEM_ROUNDUP_PORT (8930); `stop` needs the same ones.
#
# Works from a clone in any folder, a 0700 home folder included: the demo's own files (var/demo) are only read by
# root, and PostgreSQL's and the trackers' state goes where their users can reach it (Ops/services.sh,
# Ops/trackers/up.sh: /var/lib/tandem-dev/<hash of the clone's path> when others cannot enter the clone).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source Ops/lib/common.sh
mkdir -p var/demo && chmod 700 var/demo
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
# The first admin, with a new password each run (the database is new too); printed once, at the end.
(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >var/demo/admin-password)
"$TANDEM" users add admin --role admin --display-name "Demo admin" --password-file var/demo/admin-password
# What the CLI needs to reach this demo (the commands printed at the end source it).
(umask 077 && {
    printf "export %s='%s'\n" TANDEM_DATABASE_URL "$TANDEM_DATABASE_URL" TANDEM_REDIS_URL "$TANDEM_REDIS_URL" \
        TANDEM_MASTER_KEY_FILE "$TANDEM_MASTER_KEY_FILE"
    printf "export PATH='%s':\"\$PATH\"\n" "$(dirname "$TANDEM")"
} >var/demo/env.sh)
# The example names the trackers' default addresses: point it at the ones started above (TANDEM_REDMINE_PORT, …).
sed -e "s#url: http://127.0.0.1:3310\$#url: $TANDEM_REDMINE_URL#" -e "s#url: http://127.0.0.1:8930/lab\$#url: $TANDEM_ROUNDUP_URL#" \
    -e "s#markerField: \"1\"#markerField: \"$TANDEM_REDMINE_MARKER_FIELD\"#" docs/examples/redmine-roundup.yaml >var/demo/integration.yaml
"$TANDEM" apply -f var/demo/integration.yaml --actor demo
"$TANDEM" repositories list

step "5/8 a coordinator and two workers"
"$TANDEM" coordinator --prefix demo: --id demo-coordinator >var/demo/coordinator.log 2>&1 & pids+=($!)
"$TANDEM" worker --prefix demo: --id demo-worker-1 --concurrency 4 >var/demo/worker-1.log 2>&1 & pids+=($!)
"$TANDEM" worker --prefix demo: --id demo-worker-2 --concurrency 4 >var/demo/worker-2.log 2>&1 & pids+=($!)
HTTP_PORT=${TANDEM_HTTP_PORT:-8080}
"$TANDEM" server --prefix demo: --port "$HTTP_PORT" >var/demo/server.log 2>&1 & pids+=($!)
printf '%s\n' "${pids[@]}" > var/demo/cluster.pids
wait_for_server "$HTTP_PORT" "${pids[3]}" var/demo/server.log
sleep 2
"$TANDEM" workers --prefix demo: || true

redmine() { curl -sf -H "X-Redmine-API-Key: $TANDEM_REDMINE_API_KEY" -H 'Content-Type: application/json' "$@"; }
roundup() {
    curl -sf -u "$TANDEM_ROUNDUP_USER:$TANDEM_ROUNDUP_PASSWORD" -H 'X-Requested-With: rest' \
        -H "Origin: ${TANDEM_ROUNDUP_URL%/*}" -H 'Content-Type: application/json' "$@"
}
# name_of: the issue JSON on stdin (Redmine's, or Roundup's with @verbose=2) → "title, tracker …, priority …, status …",
# with the names of linked values, not their ids.
name_of() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
i = d["issue"] if "issue" in d else d["data"]["attributes"]
title = i.get("subject", i.get("title"))
links = ", ".join("%s %s" % (k, i[k]["name"]) for k in ("tracker", "priority", "status") if isinstance(i.get(k), dict))
print("%r, %s" % (title, links))'
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
echo "created Redmine #$rm1: $(redmine "$TANDEM_REDMINE_URL/issues/$rm1.json" | name_of)"
# Roundup's description is an issue's first message; later messages are its comments.
first=$(roundup -X POST "$TANDEM_ROUNDUP_URL/rest/data/msg" -d "{\"content\":\"Exported CSV turns é into ?.\",\"author\":\"$TANDEM_ROUNDUP_USER\"}" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["id"])')
ru1=$(roundup -X POST "$TANDEM_ROUNDUP_URL/rest/data/issue" \
    -d "{\"title\":\"Demo: export to CSV drops accents\",\"priority\":\"bug\",\"messages\":[\"$first\"]}" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["id"])')
echo "created Roundup issue$ru1: $(roundup "$TANDEM_ROUNDUP_URL/rest/data/issue/$ru1?@verbose=2" | name_of)"
t0=$SECONDS
twin=$(wait_pair left_id right_id "$rm1")
[ -n "$twin" ] && echo "  Redmine #$rm1  →  Roundup issue$twin   ($((SECONDS - t0)) s)" || echo "  Redmine #$rm1 not synced yet"
twin2=$(wait_pair right_id left_id "$ru1")
[ -n "$twin2" ] && echo "  Roundup issue$ru1  →  Redmine #$twin2   ($((SECONDS - t0)) s)" || echo "  Roundup issue$ru1 not synced yet"
if [ -n "$twin" ]; then echo "  Roundup issue$twin: $(roundup "$TANDEM_ROUNDUP_URL/rest/data/issue/$twin?@verbose=2" | name_of)" || true; fi
if [ -n "$twin2" ]; then echo "  Redmine #$twin2: $(redmine "$TANDEM_REDMINE_URL/issues/$twin2.json" | name_of)" || true; fi

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
sed 's/concurrencyLimit: 4/concurrencyLimit: 8/' var/demo/integration.yaml > var/demo/changed.yaml
"$TANDEM" apply -f var/demo/changed.yaml --dry-run
"$TANDEM" export -o var/demo/exported.yaml
if grep -q -e "$TANDEM_REDMINE_API_KEY" -e "$TANDEM_ROUNDUP_PASSWORD" var/demo/exported.yaml; then echo "a secret leaked into the export" >&2; exit 1; fi
"$TANDEM" queues --prefix demo: || true
curl -sf "http://127.0.0.1:$HTTP_PORT/health" && echo || true

# The login printed below, tried the way a browser does: the UI's form, then a page and the API with its cookie.
BASE="http://127.0.0.1:$HTTP_PORT"
jar=var/demo/login-check.cookies
rm -f "$jar"
login=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -c "$jar" --data-urlencode username=admin \
    --data-urlencode "password=$(cat var/demo/admin-password)" "$BASE/ui/login")
ui=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$BASE/ui")
me=$(curl -sf -b "$jar" "$BASE/api/v1/me" | python3 -c 'import sys,json; print(json.load(sys.stdin)["user"]["username"])' || true)
rm -f "$jar"
if [ "${login%% *}" != 303 ] || [ "$ui" != 200 ] || [ "$me" != admin ]; then
    echo "the admin login does not work: POST /ui/login → $login, GET /ui → $ui, /api/v1/me → '$me'" >&2
    exit 1
fi

echo
echo "Demo done in $((SECONDS - started)) s. Still running — a coordinator, two workers and the server:"
echo "  web UI   $BASE/ui"
echo "           user admin   password $(cat var/demo/admin-password)"
echo "           (login checked just now; the password is kept in $ROOT/var/demo/admin-password, mode 0600)"
echo "  health   $BASE/health      metrics  $BASE/metrics      API  $BASE/api/v1 (docs/api.md)"
echo "  redmine  $TANDEM_REDMINE_URL (user admin)   roundup  $TANDEM_ROUNDUP_URL (user admin)"
echo "  CLI      . $ROOT/var/demo/env.sh        # the demo's database, Redis and master key; tandem on PATH"
echo "           tandem trace redmine $rm1 --prefix demo:       # why an item is or is not synced"
[ -n "$twin2" ] && echo "           tandem trace roundup $ru1 --prefix demo:"
echo "           tandem queues --prefix demo:                 # per repository: depth, latency, in flight, dead, pauses"
echo "           tandem jobs list --prefix demo: --state dead   # jobs in one state"
echo "  logs     $ROOT/var/demo/*.log"
echo "Stop everything with:  bash Ops/demo.sh stop"
