#!/usr/bin/env bash
# Drill: the README's commands from a clone that other users cannot enter (a 0700 home directory, e.g. /root/tandem).
# PostgreSQL runs as `postgres` and roundup-server as `nobody`; neither may depend on reaching the clone's folder.
#
# Makes a 0700 folder, `git clone`s this repository's committed HEAD into it and, from the clone, on free ports of
# its own (TANDEM_PG_PORT, TANDEM_REDIS_PORT, TANDEM_REDMINE_PORT, TANDEM_ROUNDUP_PORT): `Ops/services.sh start`, then
# `Ops/trackers/up.sh` (Redmine and Roundup); checks PostgreSQL (a query with the printed URL), Redis (PING), Redmine
# and Roundup (their REST APIs with the printed credentials) answer; stops them all (`Ops/services.sh stop`,
# `Ops/trackers/down.sh --purge`) and removes the clone and its state (/var/lib/tandem-dev/<hash>: Ops/services.sh).
# Bounded: each step has a time limit (about 1.5 min in all, most of it Redmine's provisioning).
#
#   Ops/drills/private-home.sh
#
# Needs root (as Ops/services.sh does). The trackers must have been installed once (Ops/trackers/up.sh, which the test
# command runs first); Roundup's virtualenv is shared with this repository's (ROUNDUP_VENV) so nothing is downloaded.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/Ops/lib/common.sh"
log() { echo "private-home drill: $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root"

home=$(mktemp -d /tmp/tandem-private-home.XXXXXX)
chmod 700 "$home"
clone=$home/tandem
state_root=""
export TANDEM_PG_PORT TANDEM_REDIS_PORT TANDEM_REDMINE_PORT TANDEM_ROUNDUP_PORT
TANDEM_PG_PORT=$(free_port)
TANDEM_REDIS_PORT=$(free_port)
TANDEM_REDMINE_PORT=$(free_port)
TANDEM_ROUNDUP_PORT=$(free_port)
unset TANDEM_SERVICES_DIR TANDEM_TRACKERS_DIR TANDEM_DATABASE_URL TANDEM_REDIS_URL TANDEM_PG_ADMIN_URL
unset REDMINE_PORT REDMINE_STATE_DIR ROUNDUP_PORT ROUNDUP_STATE_DIR
# This repository's Roundup virtualenv (where Ops/trackers/up.sh put it), so the clone does not download Roundup again.
venv=$(tandem_state_dir "$ROOT" trackers)/roundup-venv
[ -x "$venv/bin/roundup-server" ] && export ROUNDUP_VENV=$venv

cleanup() {
    if [ -d "$clone" ]; then
        (cd "$clone" && timeout 60 Ops/services.sh stop) || true
        (cd "$clone" && timeout 60 Ops/trackers/down.sh --purge) >/dev/null 2>&1 || true
    fi
    rm -rf "$home"
    case "$state_root" in /var/lib/tandem-dev/?*) rm -rf "$state_root" ;; esac
}
trap cleanup EXIT
step() {  # step SECONDS DESCRIPTION COMMAND...: runs COMMAND in the clone, failing the drill after SECONDS
    local seconds=$1 what=$2
    shift 2
    (cd "$clone" && timeout "$seconds" "$@") || fail "$what"
}

git clone -q "$ROOT" "$clone"
(cd / && runuser -u nobody -- test -x "$clone") && fail "nobody can enter $clone: the drill would prove nothing"
# Where the clone's scripts keep their state: not in the clone, which postgres and nobody cannot enter.
state_root=$(dirname "$(tandem_state_dir "$clone" services)")
log "clone of $(git -C "$clone" rev-parse --short HEAD) in $clone (mode $(stat -c %a "$home")); ports pg $TANDEM_PG_PORT, redis $TANDEM_REDIS_PORT, redmine $TANDEM_REDMINE_PORT, roundup $TANDEM_ROUNDUP_PORT"

t0=$SECONDS
services_env=$(step 120 "Ops/services.sh start" Ops/services.sh start)
eval "$services_env"
[ "$(psql "$TANDEM_DATABASE_URL" -qtAc 'SELECT 1')" = 1 ] || fail "PostgreSQL does not answer on $TANDEM_PG_PORT"
[ "$(redis-cli -u "$TANDEM_REDIS_URL" ping)" = PONG ] || fail "Redis does not answer on $TANDEM_REDIS_PORT"
log "PostgreSQL and Redis answer ($((SECONDS - t0)) s)"

t0=$SECONDS
trackers_env=$(step 240 "Ops/trackers/up.sh" Ops/trackers/up.sh)
eval "$trackers_env"
curl -sf -o /dev/null -H "X-Redmine-API-Key: $TANDEM_REDMINE_API_KEY" "$TANDEM_REDMINE_URL/issues.json?limit=1" ||
    fail "Redmine does not answer at $TANDEM_REDMINE_URL"
curl -sf -o /dev/null -u "$TANDEM_ROUNDUP_USER:$TANDEM_ROUNDUP_PASSWORD" -H 'X-Requested-With: rest' \
    "$TANDEM_ROUNDUP_URL/rest/data/issue?@page_size=1" || fail "Roundup does not answer at $TANDEM_ROUNDUP_URL"
log "Redmine and Roundup answer ($((SECONDS - t0)) s)"

step 60 "Ops/services.sh stop" Ops/services.sh stop
step 60 "Ops/trackers/down.sh" Ops/trackers/down.sh --purge >/dev/null 2>&1
redis-cli -p "$TANDEM_REDIS_PORT" ping >/dev/null 2>&1 && fail "Redis still answers after Ops/services.sh stop"
psql "$TANDEM_DATABASE_URL" -qtAc 'SELECT 1' >/dev/null 2>&1 && fail "PostgreSQL still answers after Ops/services.sh stop"
log "PASSED: services and trackers started from a 0700 folder, answered and stopped"
