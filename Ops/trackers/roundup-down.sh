#!/usr/bin/env bash
# Stop the roundup-server started by roundup-up.sh (only the pid in its pid file,
# and only if that pid is still a roundup-server on our port).
# Usage: lab/roundup-down.sh [PORT] [--purge]   (--purge also deletes the state dir;
#        the shared venv ROUNDUP_VENV is kept)
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$LAB_DIR/../lib/common.sh"  # tandem_state_dir: var/trackers, or /var/lib/tandem-dev/<hash>/trackers
VAR_DIR="${TANDEM_TRACKERS_DIR:-$(tandem_state_dir "$(cd "$LAB_DIR/../.." && pwd)" trackers)}"
PURGE=0; ARGS=()
for a in "$@"; do [[ "$a" == --purge ]] && PURGE=1 || ARGS+=("$a"); done
PORT="${ARGS[0]:-${ROUNDUP_PORT:-8930}}"
STATE="${ROUNDUP_STATE_DIR:-$VAR_DIR/roundup-$PORT}"
PIDFILE="$STATE/server.pid"
exec "$LAB_DIR/stop-pidfile.sh" roundup "$STATE" "$PIDFILE" "roundup-server.*-p $PORT " "$PURGE"
