# Shared by the Ops scripts (source it): the tandem binary and a fresh database on the configured server.

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
