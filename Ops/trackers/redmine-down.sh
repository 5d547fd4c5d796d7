#!/usr/bin/env bash
# Stop the Redmine started by redmine-up.sh (only the pid in its pid file, and
# only if that pid is still a puma bound to our port).
# Usage: lab/redmine-down.sh [PORT] [--purge]   (--purge also deletes the state dir)
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$LAB_DIR/../lib/common.sh"  # tandem_state_dir: var/trackers, or /var/lib/tandem-dev/<hash>/trackers
VAR_DIR="${TANDEM_TRACKERS_DIR:-$(tandem_state_dir "$(cd "$LAB_DIR/../.." && pwd)" trackers)}"
PURGE=0; ARGS=()
for a in "$@"; do [[ "$a" == --purge ]] && PURGE=1 || ARGS+=("$a"); done
PORT="${ARGS[0]:-${REDMINE_PORT:-3310}}"
STATE="${REDMINE_STATE_DIR:-$VAR_DIR/redmine-$PORT}"
PIDFILE="$STATE/puma.pid"
exec "$LAB_DIR/stop-pidfile.sh" redmine "$STATE" "$PIDFILE" "puma.*127.0.0.1:$PORT" "$PURGE"
