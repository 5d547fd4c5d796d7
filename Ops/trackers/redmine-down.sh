#!/usr/bin/env bash
# Stop the Redmine started by redmine-up.sh (only the pid in its pid file, and
# only if that pid is still a puma bound to our port).
# Usage: lab/redmine-down.sh [PORT] [--purge]   (--purge also deletes the state dir)
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VAR_DIR="${TANDEM_TRACKERS_DIR:-$(cd "$LAB_DIR/../.." && pwd)/var/trackers}"
PURGE=0; ARGS=()
for a in "$@"; do [[ "$a" == --purge ]] && PURGE=1 || ARGS+=("$a"); done
PORT="${ARGS[0]:-${REDMINE_PORT:-3310}}"
STATE="${REDMINE_STATE_DIR:-$VAR_DIR/redmine-$PORT}"
PIDFILE="$STATE/puma.pid"
log() { printf '[redmine-down] %s\n' "$*" >&2; }

if [[ -f "$PIDFILE" ]]; then
  pid="$(cat "$PIDFILE")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "puma.*127.0.0.1:$PORT"; then
    log "stopping puma pid $pid"
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then log "still alive, SIGKILL $pid"; kill -KILL "$pid"; fi
  else
    log "pid file $PIDFILE is stale (pid $pid is not our puma); not killing anything"
  fi
  rm -f "$PIDFILE"
else
  log "no pid file at $PIDFILE; nothing to stop"
fi
rm -f "$STATE/env.sh"
if ((PURGE)); then
  case "$STATE" in ""|/) log "refusing to purge '$STATE'"; exit 1;; esac
  log "removing $STATE"; rm -rf "$STATE"
fi
