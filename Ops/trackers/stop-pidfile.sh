#!/usr/bin/env bash
# Shared by redmine-down.sh and roundup-down.sh: stop the process in PIDFILE only if its command line still
# matches PATTERN (so a reused pid is never killed), then remove the pid file and env.sh; with PURGE=1 the state dir.
# Usage: stop-pidfile.sh NAME STATE PIDFILE PATTERN PURGE
set -euo pipefail
NAME=$1 STATE=$2 PIDFILE=$3 PATTERN=$4 PURGE=$5
log() { printf '[%s-down] %s\n' "$NAME" "$*" >&2; }

if [[ -f "$PIDFILE" ]]; then
  pid="$(cat "$PIDFILE")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "$PATTERN"; then
    log "stopping pid $pid"
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then log "still alive, SIGKILL $pid"; kill -KILL "$pid"; fi
  else
    log "pid file $PIDFILE is stale (pid $pid is not ours); not killing anything"
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
