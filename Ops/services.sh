#!/usr/bin/env bash
# Local services for development, tests and the demo: PostgreSQL 15 and Redis 7 on loopback.
#
#   Ops/services.sh start     install (apt-get) if missing, start both, print `export` lines
#   Ops/services.sh stop      stop only what this script started (pid files)
#   Ops/services.sh status    say what runs
#   Ops/services.sh env       print the `export` lines only
#
# Use:  eval "$(Ops/services.sh start)"
# Idempotent, non-interactive; run as root. Ports: TANDEM_PG_PORT (5433), TANDEM_REDIS_PORT (6390).
# State (data, logs, sockets, the generated password) lives in $TANDEM_SERVICES_DIR, which this script owns. By
# default that is var/services in the repository — unless other users cannot enter the repository's folder (a clone
# in a 0700 home folder such as /root/tandem): PostgreSQL runs as the user `postgres`, which must reach its files, so
# the state then lives in /var/lib/tandem-dev/<hash of the repository's path>/services (Ops/lib/common.sh,
# tandem_state_dir). `start` and `status` say where.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/Ops/lib/common.sh"
DIR=${TANDEM_SERVICES_DIR:-$(tandem_state_dir "$ROOT" services)}
PG_PORT=${TANDEM_PG_PORT:-5433}
REDIS_PORT=${TANDEM_REDIS_PORT:-6390}
PG_USER=tandem
PG_DB=tandem
PGBIN=/usr/lib/postgresql/15/bin

log() { echo "services: $*" >&2; }
# As the user postgres, from / (the caller's working folder may be one postgres cannot enter).
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

install_packages() {
    local missing=()
    [ -x "$PGBIN/initdb" ] || missing+=(postgresql-15)
    command -v pgbench >/dev/null || missing+=(postgresql-contrib)
    [ -f /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [ -f /usr/include/hiredis/hiredis.h ] || missing+=(libhiredis-dev)
    [ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] || missing+=(libcurl4-openssl-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=300 update -q >&2
        apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-upgrade "${missing[@]}" >&2
    fi
}

pg_password() {
    if [ ! -f "$DIR/pg/password" ]; then
        mkdir -p "$DIR/pg"
        head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/pg/password"
        chmod 600 "$DIR/pg/password"
    fi
    cat "$DIR/pg/password"
}

pg_running() {
    [ -f "$DIR/pg/data/postmaster.pid" ] && kill -0 "$(head -1 "$DIR/pg/data/postmaster.pid")" 2>/dev/null
}

start_pg() {
    local pw
    pw=$(pg_password)
    chown postgres:postgres "$DIR/pg"
    chmod 700 "$DIR/pg"
    if [ ! -f "$DIR/pg/data/PG_VERSION" ]; then
        log "initialising PostgreSQL in $DIR/pg/data"
        echo "$pw" >"$DIR/pg/pwfile"
        chown postgres "$DIR/pg/pwfile" "$DIR/pg/password"
        as_postgres "$PGBIN/initdb" -D "$DIR/pg/data" -U postgres --pwfile="$DIR/pg/pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >&2
        rm -f "$DIR/pg/pwfile"
    fi
    if ! pg_running; then
        log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
        as_postgres "$PGBIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w -t 60 \
            -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $DIR/pg -c max_connections=200" start >&2
    fi
    local psql=(as_postgres psql -h "$DIR/pg" -p "$PG_PORT" -U postgres -qtA -v ON_ERROR_STOP=1)
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != 1 ]; then
        "${psql[@]}" -c "CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$pw'" >&2
    fi
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
        "${psql[@]}" -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >&2
    fi
}

redis_running() {
    [ -f "$DIR/redis/redis.pid" ] && kill -0 "$(cat "$DIR/redis/redis.pid")" 2>/dev/null
}

start_redis() {
    mkdir -p "$DIR/redis"
    if ! redis_running; then
        log "starting Redis on 127.0.0.1:$REDIS_PORT"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
            --pidfile "$DIR/redis/redis.pid" --dir "$DIR/redis" --logfile "$DIR/redis/redis.log" \
            --save '' --appendonly no >&2
        for _ in $(seq 1 100); do
            redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
            sleep 0.05
        done
    fi
}

print_env() {
    local pw
    pw=$(pg_password)
    echo "export TANDEM_DATABASE_URL='postgresql://$PG_USER:$pw@127.0.0.1:$PG_PORT/$PG_DB'"
    echo "export TANDEM_REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'"
    echo "export TANDEM_PG_ADMIN_URL='postgresql://postgres:$pw@127.0.0.1:$PG_PORT/postgres'"
}

stop_all() {
    if pg_running; then
        log "stopping PostgreSQL"
        as_postgres "$PGBIN/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >&2 || true
    fi
    if redis_running; then
        log "stopping Redis"
        kill "$(cat "$DIR/redis/redis.pid")" || true
        for _ in $(seq 1 100); do redis_running || break; sleep 0.05; done
    fi
}

case "${1:-start}" in
start)
    [ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
    install_packages
    (umask 022 && mkdir -p "$DIR")  # others may enter every folder it makes (postgres must reach $DIR/pg)
    case "$DIR" in "$ROOT"/*) ;; *) log "state in $DIR" ;; esac
    start_pg
    start_redis
    print_env
    ;;
stop) stop_all ;;
env) print_env ;;
status)
    echo "state: $DIR"
    pg_running && echo "postgresql: running on 127.0.0.1:$PG_PORT" || echo "postgresql: stopped"
    redis_running && echo "redis: running on 127.0.0.1:$REDIS_PORT" || echo "redis: stopped"
    ;;
*)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
