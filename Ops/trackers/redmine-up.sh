#!/usr/bin/env bash
# Bring up a local Redmine 5.0 (Debian package) on 127.0.0.1 with the REST API
# enabled, a project, and API keys. Idempotent: re-running while it is up just
# re-prints the exports.
#
# Adapted from shared/trackers/redmine-up.sh: state under <repo>/var/trackers.
# Usage:  eval "$(Ops/trackers/redmine-up.sh [PORT])"   # default port 3310
# Env:    REDMINE_PORT (default 3310), TANDEM_TRACKERS_DIR (<repo>/var/trackers, or
#         /var/lib/tandem-dev/<hash>/trackers for a repository others cannot enter: up.sh),
#         REDMINE_STATE_DIR (default <trackers dir>/redmine-<port>), REDMINE_PROJECT (default sync),
#         REDMINE_ADMIN_PASSWORD (default admin-lab-pw),
#         REDMINE_USER2_PASSWORD (default alice-lab-pw), REDMINE_START_TIMEOUT (120)
# Stdout: only `export NAME=value` lines. Progress goes to stderr.
# Stop:   Ops/trackers/redmine-down.sh [PORT] [--purge]
set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$LAB_DIR/../lib/common.sh"  # tandem_state_dir: var/trackers, or /var/lib/tandem-dev/<hash>/trackers
VAR_DIR="${TANDEM_TRACKERS_DIR:-$(tandem_state_dir "$(cd "$LAB_DIR/../.." && pwd)" trackers)}"
PORT="${1:-${REDMINE_PORT:-3310}}"
HOST=127.0.0.1
STATE="${REDMINE_STATE_DIR:-$VAR_DIR/redmine-$PORT}"
PROJECT="${REDMINE_PROJECT:-sync}"
ADMIN_PW="${REDMINE_ADMIN_PASSWORD:-admin-lab-pw}"
USER2_PW="${REDMINE_USER2_PASSWORD:-alice-lab-pw}"
TIMEOUT="${REDMINE_START_TIMEOUT:-120}"
APP="$STATE/app"
INST="$APP/instances/default"
PIDFILE="$STATE/puma.pid"
ENVFILE="$STATE/env.sh"
BASE="http://$HOST:$PORT"

log() { printf '[redmine-up %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "port must be numeric: $PORT"

pid_alive() { # pid file points at a live puma bound to our port (not a reused pid)
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "puma.*$HOST:$PORT"
}
api_ok() { # $1 = api key
  [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Redmine-API-Key: $1" \
        "$BASE/users/current.json")" == 200 ]]
}

# ---- fast path: already up ------------------------------------------------
if pid_alive && [[ -f "$ENVFILE" ]]; then
  # shellcheck disable=SC1090
  key="$(. "$ENVFILE"; echo "$REDMINE_API_KEY")"
  if api_ok "$key"; then
    log "already running (pid $(cat "$PIDFILE")) on $BASE"
    cat "$ENVFILE"
    exit 0
  fi
  log "pid $(cat "$PIDFILE") alive but API not answering yet; will wait"
fi

# ---- 1. packages ------------------------------------------------------------
PKGS=(redmine redmine-sqlite puma dbconfig-no-thanks curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "need root to apt-get install: ${missing[*]}"
  mkdir -p "$STATE"
  log "apt-get install ${missing[*]} (first time: ~40-60 s, log: $STATE/apt.log)"
  # Must not inherit BUNDLE_GEMFILE etc. (redmine's postinst runs bundler).
  # dbconfig-no-thanks: stop the package from creating its own 'default' DB;
  # --no-install-recommends: skip passenger/apache.
  if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
         env -u BUNDLE_GEMFILE -u RAILS_ENV -u REDMINE_INSTANCE DEBIAN_FRONTEND=noninteractive \
           apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"; } >"$STATE/apt.log" 2>&1; then
    tail -30 "$STATE/apt.log" >&2; die "apt-get install failed"
  fi
fi

# Only now: redmine's postinst runs `bundle install` and must not see these.
# Redmine (Rails, default_timezone :local) stores local time in the DB: pin UTC.
export TZ=UTC RAILS_ENV=production REDMINE_INSTANCE=default
export BUNDLE_GEMFILE="$APP/Gemfile" BUNDLE_SILENCE_ROOT_WARNING=1

# ---- 2. private copy of the Redmine app (all state under $STATE) -------------
# /usr/share/redmine reads its config from /etc/redmine/<instance> via
# /usr/share/redmine/instances -> /var/lib/redmine, and its Gemfile only picks
# up DB adapters from /usr/share/redmine/{config,instances/*}/database.yml.
# A 15 MB copy keeps everything (db, files, logs, Gemfile.lock) in $STATE.
DEBVER="$(dpkg-query -W -f='${Version}' redmine)"
if [[ ! -f "$APP/.debian-version" || "$(cat "$APP/.debian-version")" != "$DEBVER" ]]; then
  log "copying /usr/share/redmine ($DEBVER) to $APP"
  mkdir -p "$STATE"
  tmp="$STATE/app.new"; rm -rf "$tmp"
  cp -a /usr/share/redmine "$tmp"
  # relative symlinks (jquery etc.) would dangle in the copy: make them absolute
  while IFS= read -r l; do
    t="$(readlink -f "/usr/share/redmine/${l#"$tmp"/}" || true)"
    rm -f "$l"; [[ -n "$t" ]] && ln -s "$t" "$l"
  done < <(find "$tmp/public" -type l)
  rm -f "$tmp/instances" "$tmp/Gemfile.lock" "$tmp/config/database.yml"
  if [[ -d "$APP/instances" ]]; then mv "$APP/instances" "$tmp/instances"; fi
  rm -rf "$APP"; mv "$tmp" "$APP"
  echo "$DEBVER" > "$APP/.debian-version"
fi
mkdir -p "$INST"/{config,log,files,tmp,db,public/plugin_assets}
if [[ ! -f "$INST/config/database.yml" ]]; then
  cat > "$INST/config/database.yml" <<EOF
production:
  adapter: sqlite3
  database: $INST/db/redmine.sqlite3
  pool: 10
  timeout: 10000
EOF
fi
[[ -s "$INST/config/secret_key.txt" ]] || \
  ruby -rsecurerandom -e 'puts SecureRandom.hex(32)' > "$INST/config/secret_key.txt"
printf "gem 'sqlite3'\ngem 'puma'\n" > "$APP/Gemfile.local"
if [[ ! -f "$APP/Gemfile.lock" ]]; then
  log "bundle install --local (resolves against Debian's ruby-* packages)"
  (cd "$APP" && bundle install --local --quiet >&2)
fi

# ---- 3. schema, default data, settings, project, users ----------------------
# Skipped (saves ~10 s) when the same inputs were already provisioned into this DB.
stamp="$(printf '%s|' "$DEBVER" "$HOST:$PORT" "$PROJECT" "$ADMIN_PW" "$USER2_PW" \
          "$(sha1sum < "$LAB_DIR/redmine-provision.rb")" | sha1sum | cut -c1-40)"
if [[ -f "$STATE/provision.out" && -f "$INST/db/redmine.sqlite3" && \
      "$(cat "$STATE/provision.stamp" 2>/dev/null)" == "$stamp" ]]; then
  log "already provisioned (stamp $stamp); skipping rails runner"
  out="$(cat "$STATE/provision.out")"
else
  log "provisioning (migrate + default data + REST settings + project '$PROJECT')"
  provision() {
    cd "$APP" && RM_HOST="$HOST:$PORT" RM_PROJECT="$PROJECT" \
      RM_ADMIN_PASSWORD="$ADMIN_PW" RM_USER2_PASSWORD="$USER2_PW" \
      bundle exec rails runner "$LAB_DIR/redmine-provision.rb" 2>>"$STATE/provision.log"
  }
  # Idempotent, so a second try is safe (sqlite "database is locked" on a loaded machine).
  out="$(provision)" || { log "provisioning failed once, retrying"; out="$(provision)"; } \
    || die "provisioning failed, see $STATE/provision.log"
  printf '%s\n' "$out" > "$STATE/provision.out"
  echo "$stamp" > "$STATE/provision.stamp"
fi
val() { printf '%s\n' "$out" | sed -n "s/^$1=//p" | tail -1; }
ADMIN_KEY="$(val RM_ADMIN_API_KEY)"; [[ -n "$ADMIN_KEY" ]] || die "no API key in provisioning output"

# ---- 4. start puma ----------------------------------------------------------
if ! pid_alive; then
  rm -f "$PIDFILE"
  if curl -s -o /dev/null --max-time 2 "$BASE/"; then
    die "something else already listens on $HOST:$PORT"
  fi
  log "starting puma on $BASE"
  # One thread: sqlite lets one writer in at a time, and concurrent Rails transactions on a loaded
  # machine end in "database is locked" (HTTP 500) after the busy timeout. Requests queue instead.
  # Redirect the whole subshell (not just the last command): otherwise a bash
  # subshell keeps the caller's stdout open and `eval "$(redmine-up.sh)"` hangs.
  ( cd "$APP" && exec setsid nohup bundle exec puma --no-config -e production \
      -b "tcp://$HOST:$PORT" -t 1:1 --pidfile "$PIDFILE" config.ru ) \
    >>"$STATE/puma.log" 2>&1 </dev/null &
fi

# ---- 5. wait until the REST API answers with the admin key -----------------
t0=$SECONDS
until api_ok "$ADMIN_KEY"; do
  if (( SECONDS - t0 > TIMEOUT )); then
    tail -20 "$STATE/puma.log" >&2 || true
    die "Redmine did not answer on $BASE within ${TIMEOUT}s"
  fi
  sleep 0.5
done
log "up after $((SECONDS - t0))s: $BASE (pid $(cat "$PIDFILE"))"

cat > "$ENVFILE" <<EOF
export REDMINE_URL=$BASE
export REDMINE_API_KEY=$ADMIN_KEY
export REDMINE_ADMIN_USER=admin
export REDMINE_ADMIN_PASSWORD=$ADMIN_PW
export REDMINE_PROJECT=$(val RM_PROJECT_IDENTIFIER)
export REDMINE_PROJECT_ID=$(val RM_PROJECT_ID)
export REDMINE_EXTERNAL_ID_CF=$(val RM_EXTERNAL_ID_CF)
export REDMINE_USER2=alice
export REDMINE_USER2_ID=$(val RM_ALICE_ID)
export REDMINE_USER2_PASSWORD=$USER2_PW
export REDMINE_USER2_API_KEY=$(val RM_ALICE_API_KEY)
export REDMINE_PID=$(cat "$PIDFILE")
export REDMINE_STATE_DIR=$STATE
EOF
cat "$ENVFILE"
