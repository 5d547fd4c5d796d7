#!/usr/bin/env bash
# Bring up a local Roundup 2.6 tracker ("classic" template, sqlite) on 127.0.0.1
# with its REST API at <url>/rest/. Idempotent: re-running while it is up just
# re-prints the exports.
#
# Adapted from shared/trackers/roundup-up.sh: state under <repo>/var/trackers, and
# a stock classic tracker (no extra property, no extra REST endpoint). Started as
# root, roundup-server runs as `nobody`, which must reach the tracker and the venv:
# from a repository in a folder others cannot enter (a 0700 home folder) the state
# goes to /var/lib/tandem-dev/<hash of the repository's path>/trackers instead
# (Ops/lib/common.sh, tandem_state_dir), and what this script makes is world-readable.
# Usage:  eval "$(Ops/trackers/roundup-up.sh [PORT])"   # default port 8930
# Env:    ROUNDUP_PORT (8930), ROUNDUP_TRACKER (tracker name in the URL, "lab"),
#         TANDEM_TRACKERS_DIR (<repo>/var/trackers, see above), ROUNDUP_STATE_DIR
#         (<trackers dir>/roundup-<port>), ROUNDUP_VENV (<trackers dir>/roundup-venv),
#         ROUNDUP_VERSION (2.6.0), ROUNDUP_ADMIN_PASSWORD (admin-lab-pw),
#         ROUNDUP_USER2_PASSWORD (alice-lab-pw), ROUNDUP_EXTID (0; 1 adds an
#         issue.extid String property),
#         ROUNDUP_PBKDF2_ROUNDS (1000; Roundup default 250000 = ~0.3 s per
#         authenticated request), ROUNDUP_API_FAILED_LOGIN_LIMIT (0 = off),
#         ROUNDUP_START_TIMEOUT (60), PYTHON (python3)
# Stdout: only `export NAME=value` lines. Progress goes to stderr.
# Stop:   Ops/trackers/roundup-down.sh [PORT] [--purge]
set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$LAB_DIR/../lib/common.sh"  # tandem_state_dir: var/trackers, or /var/lib/tandem-dev/<hash>/trackers
VAR_DIR="${TANDEM_TRACKERS_DIR:-$(tandem_state_dir "$(cd "$LAB_DIR/../.." && pwd)" trackers)}"
PORT="${1:-${ROUNDUP_PORT:-8930}}"
HOST=127.0.0.1
NAME="${ROUNDUP_TRACKER:-lab}"
STATE="${ROUNDUP_STATE_DIR:-$VAR_DIR/roundup-$PORT}"
VENV="${ROUNDUP_VENV:-$VAR_DIR/roundup-venv}"
VERSION="${ROUNDUP_VERSION:-2.6.0}"
ADMIN_PW="${ROUNDUP_ADMIN_PASSWORD:-admin-lab-pw}"
USER2_PW="${ROUNDUP_USER2_PASSWORD:-alice-lab-pw}"
EXTID="${ROUNDUP_EXTID:-0}"
TIMEOUT="${ROUNDUP_START_TIMEOUT:-60}"
# PBKDF2 rounds for stored passwords. Roundup's default 250000 costs ~0.3 s of
# CPU on EVERY Basic-auth REST request here (REST is stateless); 1000 is the
# enforced minimum. Only affects passwords hashed after install (admin, alice).
ROUNDS="${ROUNDUP_PBKDF2_ROUNDS:-1000}"
PY="${PYTHON:-python3}"
TRK="$STATE/tracker"
PIDFILE="$STATE/server.pid"
ENVFILE="$STATE/env.sh"
ORIGIN="http://$HOST:$PORT"
URL="$ORIGIN/$NAME"
ADMIN=("$VENV/bin/roundup-admin" -i "$TRK")

log() { printf '[roundup-up %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ "$PORT" =~ ^[0-9]+$ ]] || die "port must be numeric: $PORT"
[[ "$NAME" =~ ^[A-Za-z0-9_-]+$ ]] || die "tracker name must be URL-safe: $NAME"
export TZ=UTC
umask 022  # nobody (roundup-server) reads the venv and enters the state folders

pid_alive() { # pid file points at a live roundup-server on our port (not a reused pid)
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "roundup-server.*-p $PORT "
}
rest_ok() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' -u "admin:$ADMIN_PW" "$URL/rest/data/issue?@page_size=1")" == 200 ]]
}

# ---- fast path: already up ------------------------------------------------
if pid_alive && [[ -f "$ENVFILE" ]] && rest_ok; then
  log "already running (pid $(cat "$PIDFILE")) at $URL"
  cat "$ENVFILE"; exit 0
fi

# ---- 1. roundup in a venv (PyPI) ----------------------------------------------
command -v curl >/dev/null || { log "apt-get install curl"; apt-get -o DPkg::Lock::Timeout=300 update -qq >&2; apt-get -o DPkg::Lock::Timeout=300 install -y -qq curl >&2; }
if [[ ! -x "$VENV/bin/roundup-server" ]] || \
   [[ "$("$VENV/bin/roundup-admin" -v 2>/dev/null | cut -d' ' -f1)" != "$VERSION" ]]; then
  log "pip install roundup==$VERSION into $VENV (~10-20 s)"
  if ! "$PY" -m venv "$VENV" >&2; then
    [[ $(id -u) == 0 ]] || die "python venv module missing"
    apt-get -o DPkg::Lock::Timeout=300 update -qq >&2; DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq python3-venv >&2
    "$PY" -m venv "$VENV" >&2
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "roundup==$VERSION" >&2
fi

# ---- 2. tracker instance (classic template, sqlite) ------------------------
if [[ ! -f "$TRK/config.ini" ]]; then
  log "roundup-admin install classic sqlite -> $TRK"
  mkdir -p "$STATE"
  # key=val are [section] option overrides. mail debug: write mail to a file
  # instead of SMTP (nosy messages); logging to a file in the tracker dir.
  "${ADMIN[@]}" install classic sqlite \
    "tracker_web=$URL/,mail_domain=example.test,tracker_email=roundup@example.test,mail_host=localhost,mail_debug=$TRK/mail-debug.log,logging_filename=$TRK/roundup.log,logging_level=INFO,password_pbkdf2_default_rounds=$ROUNDS" \
    </dev/null >"$STATE/install.log" 2>&1 || { cat "$STATE/install.log" >&2; die "install failed"; }
  if [[ "$EXTID" == 1 ]]; then
    # add a free-text "extid" property to issues (remote key for sync tests)
    "$PY" - "$TRK/schema.py" <<'EOF'
import sys, re
p = sys.argv[1]; s = open(p).read()
if 'extid=' not in s:
    s2 = s.replace('status=Link("status"))', 'status=Link("status"),\n                extid=String())', 1)
    assert s2 != s, "classic schema.py layout changed"
    open(p, 'w').write(s2)
EOF
  fi
fi
# The tracker's web URL drives CSRF Origin checks and REST links: keep it in sync.
sed -i "s#^web = .*#web = $URL/#" "$TRK/config.ini"
# Lab choice: no per-username lockout after 4 failed API logins (default locks
# that user, even with the right password, for up to 10 min -> flaky tests).
sed -i "s#^api_failed_login_limit = .*#api_failed_login_limit = ${ROUNDUP_API_FAILED_LOGIN_LIMIT:-0}#" "$TRK/config.ini"
# Stock tracker: Tandem's connector must not depend on an extra REST endpoint.
rm -f "$TRK/interfaces.py"

if [[ ! -f "$TRK/db/db" ]]; then
  log "roundup-admin initialise"
  "${ADMIN[@]}" initialise "$ADMIN_PW" </dev/null >&2
fi
user_id() { "${ADMIN[@]}" table user id,username | awk -v u="$1" 'NR>1 && $2==u {print $1}'; }
if [[ -z "$(user_id alice)" ]]; then
  log "creating user alice (role User)"
  "${ADMIN[@]}" create user username=alice "password=$USER2_PW" roles=User \
    address=alice@example.test realname="Alice Lab" >/dev/null
fi
ALICE_ID="$(user_id alice)"

# ---- 3. start roundup-server ------------------------------------------------
SRV_USER=()
if [[ $(id -u) == 0 ]]; then
  # roundup-server refuses to run as root ("Can't run as root!"): drop to nobody,
  # which then needs to own the tracker dir (sqlite db, files, logs).
  SRV_USER=(-u nobody -g nogroup)
  chown -R nobody:nogroup "$TRK"
fi
if ! pid_alive; then
  rm -f "$PIDFILE"
  if curl -s -o /dev/null --max-time 2 "$ORIGIN/"; then
    die "something else already listens on $HOST:$PORT"
  fi
  log "starting roundup-server at $URL"
  # -D: stay in the foreground (we background it) but still write the pid file.
  # Redirect the whole subshell: otherwise it keeps the caller's stdout open and
  # `eval "$(roundup-up.sh)"` never returns.
  ( cd "$STATE" && exec setsid nohup "$VENV/bin/python3" "$VENV/bin/roundup-server" \
      -n "$HOST" -p "$PORT" "${SRV_USER[@]}" -l "$STATE/server.log" -d "$PIDFILE" -D "$NAME=$TRK" ) \
    >>"$STATE/server.out" 2>&1 </dev/null &
fi

t0=$SECONDS
until rest_ok; do
  if (( SECONDS - t0 > TIMEOUT )); then
    tail -20 "$STATE/server.out" >&2 || true
    die "Roundup did not answer at $URL/rest/ within ${TIMEOUT}s"
  fi
  sleep 0.25
done
for _ in $(seq 1 20); do [[ -s "$PIDFILE" ]] && break; sleep 0.1; done
log "up after $((SECONDS - t0))s: $URL (pid $(cat "$PIDFILE"))"

cat > "$ENVFILE" <<EOF
export ROUNDUP_URL=$URL
export ROUNDUP_REST_URL=$URL/rest
export ROUNDUP_ORIGIN=$ORIGIN
export ROUNDUP_USER=admin
export ROUNDUP_PASSWORD=$ADMIN_PW
export ROUNDUP_USER2=alice
export ROUNDUP_USER2_ID=$ALICE_ID
export ROUNDUP_USER2_PASSWORD=$USER2_PW
export ROUNDUP_EXTID=$EXTID
export ROUNDUP_PID=$(cat "$PIDFILE")
export ROUNDUP_STATE_DIR=$STATE
EOF
cat "$ENVFILE"
