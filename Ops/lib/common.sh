# Shared by the Ops scripts (source it): the tandem binary and a fresh database on the configured server.

# tandem_state_dir ROOT NAME: where the Ops scripts keep NAME's state (services, trackers) for the clone at ROOT.
# PostgreSQL runs as `postgres` and roundup-server as `nobody`, so their files must be reachable by other users:
# ROOT/var/NAME when every folder from / down to ROOT/var lets others enter it (mode o+x), else — a clone in a 0700 home
# folder such as /root/tandem, run as root — /var/lib/tandem-dev/<first 12 hex digits of the SHA-256 of ROOT's
# physical path>/NAME (the callers make it, 0755, and say so). Not as root, nothing changes user: always ROOT/var/NAME.
tandem_state_dir() {
    local root path mode
    root=$(cd "$1" && pwd -P)
    path=$root
    [ -d "$root/var" ] && path=$root/var
    while :; do
        mode=$(stat -c %a "$path")
        if (((${mode: -1} & 1) == 0)) && [ "$(id -u)" = 0 ]; then
            echo "/var/lib/tandem-dev/$(printf '%s' "$root" | sha256sum | cut -c1-12)/$2"
            return 0
        fi
        [ "$path" = / ] && break
        path=$(dirname "$path")
    done
    echo "${1%/}/var/$2"
}

# Sets BIN: $TANDEM_BIN, or the debug build (built first). Needs a `log` function.
tandem_binary() {
    BIN=${TANDEM_BIN:-}
    if [ -z "$BIN" ]; then
        swift build --product tandem 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' >&2 || { log "build failed"; exit 1; }
        BIN=$(swift build --show-bin-path)/tandem
    fi
}

# fresh_database PREFIX: creates PREFIX_<random> on $TANDEM_DATABASE_URL's server; sets SERVER_URL (the original URL),
# NAME and DB_URL (same server and query string). The caller drops it.
fresh_database() {
    SERVER_URL=$TANDEM_DATABASE_URL
    NAME=$1_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
    local base=${SERVER_URL%%\?*} query=""
    [ "$base" != "$SERVER_URL" ] && query="?${SERVER_URL#*\?}"
    DB_URL="${base%/*}/$NAME$query"
    psql -q "$SERVER_URL" -c "CREATE DATABASE $NAME" >/dev/null
}

# free_port: prints a free TCP port on loopback.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# start_simulator TANDEM LOGFILE [ARGS...]: starts `TANDEM simulate --port 0 ARGS` in the background, logging to LOGFILE;
# sets SIM (its URL) and SIM_PID. Exits the script when it does not start within 10 s.
start_simulator() {
    local bin=$1 logfile=$2
    shift 2
    "$bin" simulate --port 0 "$@" >"$logfile" 2>&1 &
    SIM_PID=$!
    SIM=""
    for _ in $(seq 1 100); do
        SIM=$(sed -n 's/^simulator listening on \(http:[^ ]*\).*/\1/p' "$logfile")
        [ -n "$SIM" ] && return 0
        sleep 0.1
    done
    cat "$logfile" >&2
    echo "the simulator did not start" >&2
    exit 1
}

# wait_for_server PORT PID LOGFILE: waits (up to 20 s) until the server on PORT answers /health/live; exits the script,
# showing LOGFILE, when process PID ends first.
wait_for_server() {
    local port=$1 pid=$2 logfile=$3
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || {
            echo "the server exited:" >&2
            cat "$logfile" >&2
            exit 1
        }
        sleep 0.2
    done
}
