#!/usr/bin/env bash
# Drill: the whole cluster under a real supervisord, from Deploy/supervisord/tandem.conf (paths rewritten to a
# scratch folder). Starts a coordinator, the server and two workers against a throw-away database and Redis prefix,
# waits for /health to say ok (a leader present), kills a worker with SIGKILL and checks supervisord brings it back
# and the server counts two workers again, then stops everything with SIGTERM and checks every program exited 0
# within stopwaitsecs.
#
#   Ops/drills/supervisord.sh [--bin PATH]     (default: .build/debug/tandem, built if missing)
#
# Needs Debian's supervisor (installed if missing) and the local services (Ops/services.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin="$ROOT/.build/debug/tandem"
[ "${1:-}" = "--bin" ] && bin=$2
log() { echo "supervisord drill: $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

command -v supervisord >/dev/null || {
    log "installing supervisor"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends supervisor >&2
}
[ -x "$bin" ] || (cd "$ROOT" && swift build --product tandem >&2)
eval "$("$ROOT/Ops/services.sh" start)"

dir=$(mktemp -d /tmp/tandem-supervisord.XXXXXX)
name="tandem_drill_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
prefix="$name:"
port=$((20000 + RANDOM % 20000))
psql "$TANDEM_DATABASE_URL" -qc "CREATE DATABASE $name" >/dev/null
ctl() { supervisorctl -c "$dir/supervisord.conf" "$@"; }
cleanup() {
    ctl shutdown >/dev/null 2>&1 || true
    sleep 1
    psql "$TANDEM_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
    redis-cli -u "$TANDEM_REDIS_URL" --scan --pattern "$prefix*" | xargs -r redis-cli -u "$TANDEM_REDIS_URL" del >/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/tandem.env" <<EOF
TANDEM_DATABASE_URL=${TANDEM_DATABASE_URL%/*}/$name
TANDEM_REDIS_URL=$TANDEM_REDIS_URL
TANDEM_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
TANDEM_HTTP_HOST=127.0.0.1
TANDEM_HTTP_PORT=$port
LOG_LEVEL=info
EOF
mkdir -p "$dir/logs"
sed -e "s#/etc/tandem/tandem.env#$dir/tandem.env#g; s#/usr/local/bin/tandem#$bin#g; s#/var/log/tandem#$dir/logs#g" \
    -e "/^user=tandem/d; s#^numprocs=4#numprocs=2#" \
    -e "s#tandem worker --id#tandem worker --prefix $prefix --id#; s#tandem coordinator'#tandem coordinator --prefix $prefix'#" \
    -e "s#tandem server'#tandem server --prefix $prefix'#" \
    "$ROOT/Deploy/supervisord/tandem.conf" >"$dir/tandem.conf"
cat >"$dir/supervisord.conf" <<EOF
[unix_http_server]
file=$dir/supervisor.sock
[supervisord]
logfile=$dir/supervisord.log
pidfile=$dir/supervisord.pid
childlogdir=$dir/logs
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$dir/supervisor.sock
[include]
files=$dir/tandem.conf
EOF

supervisord -c "$dir/supervisord.conf"
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq $((seconds * 4))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    ctl status >&2 || true
    fail "$what"
}
healthy() { curl -fs "http://127.0.0.1:$port/health" | grep -q '"status":"ok"'; }
workers() { curl -fs "http://127.0.0.1:$port/metrics" | grep -qx "tandem_workers $1"; }
wait_for 60 "/health did not become ok" healthy
wait_for 30 "the server did not count two workers" workers 2
log "cluster up: $(curl -fs "http://127.0.0.1:$port/health")"

old=$(ctl pid tandem:tandem-worker-01)
kill -9 "$old"
log "killed tandem-worker-01 (pid $old) with SIGKILL"
restarted() { local pid; pid=$(ctl pid tandem:tandem-worker-01); [ "$pid" != 0 ] && [ "$pid" != "$old" ] && kill -0 "$pid"; }
wait_for 30 "supervisord did not restart the worker" restarted
wait_for 30 "the restarted worker did not register" workers 2
log "tandem-worker-01 is back as pid $(ctl pid tandem:tandem-worker-01)"

started=$SECONDS
ctl stop 'tandem:*' >/dev/null
grep -E 'stopped: tandem-' "$dir/supervisord.log" >&2
[ "$(grep -cE 'stopped: tandem-.*\(exit status 0\)' "$dir/supervisord.log")" = 4 ] || fail "not every program exited 0 on SIGTERM"
grep -q 'stopped: .*SIGKILL' "$dir/supervisord.log" && fail "a program needed SIGKILL"
log "PASSED: all four stopped cleanly in $((SECONDS - started)) s"
