#!/usr/bin/env bash
# Start the real trackers Tandem's connector tests run against, on loopback only:
# Redmine 5.0 (Debian package) and a stock Roundup 2.6 classic tracker (PyPI).
# Installs what is missing (apt-get / pip, non-interactively; needs root the first
# time), keeps all state under <repo>/var/trackers (gitignored) with pid files, and
# is idempotent: re-running while both are up takes well under a second.
# roundup-server runs as `nobody` when started as root, so its files must be reachable
# by other users: from a clone in a folder they cannot enter (a 0700 home folder such
# as /root/tandem) the state goes to /var/lib/tandem-dev/<hash of the repository's
# path>/trackers instead (Ops/lib/common.sh, tandem_state_dir).
#
# Usage:  eval "$(Ops/trackers/up.sh)"
# Stdout: only `export NAME=value` lines (TANDEM_REDMINE_*, TANDEM_ROUNDUP_*);
#         progress goes to stderr.
# Env:    TANDEM_REDMINE_PORT (3310), TANDEM_ROUNDUP_PORT (8930), TANDEM_TRACKERS_DIR.
# Stop:   Ops/trackers/down.sh [--purge]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/common.sh"  # tandem_state_dir: var/trackers, or /var/lib/tandem-dev/<hash>/trackers
export TANDEM_TRACKERS_DIR="${TANDEM_TRACKERS_DIR:-$(tandem_state_dir "$(cd "$HERE/../.." && pwd)" trackers)}"
RM_PORT="${TANDEM_REDMINE_PORT:-3310}"
RU_PORT="${TANDEM_ROUNDUP_PORT:-8930}"
(umask 022 && mkdir -p "$TANDEM_TRACKERS_DIR")  # nobody (roundup-server) must be able to enter it
t0=$SECONDS

# Both at once: Redmine's apt-get dominates (about 60-90 s from nothing); Roundup's
# pip install runs meanwhile. apt-get waits for the dpkg lock if both need it.
rm_out="$TANDEM_TRACKERS_DIR/redmine-up.out"; ru_out="$TANDEM_TRACKERS_DIR/roundup-up.out"
"$HERE/redmine-up.sh" "$RM_PORT" >"$rm_out" & rm_pid=$!
"$HERE/roundup-up.sh" "$RU_PORT" >"$ru_out" & ru_pid=$!
rm_rc=0; ru_rc=0
wait "$rm_pid" || rm_rc=$?
wait "$ru_pid" || ru_rc=$?
if ((rm_rc || ru_rc)); then
  printf '[trackers-up] failed: redmine rc=%s, roundup rc=%s\n' "$rm_rc" "$ru_rc" >&2
  exit 1
fi

( # shellcheck disable=SC1090
  . "$rm_out"; . "$ru_out"
  cat <<OUT
export TANDEM_REDMINE_URL=$REDMINE_URL
export TANDEM_REDMINE_API_KEY=$REDMINE_API_KEY
export TANDEM_REDMINE_PROJECT=$REDMINE_PROJECT
export TANDEM_REDMINE_MARKER_FIELD=$REDMINE_EXTERNAL_ID_CF
export TANDEM_ROUNDUP_URL=$ROUNDUP_URL
export TANDEM_ROUNDUP_USER=$ROUNDUP_USER
export TANDEM_ROUNDUP_PASSWORD=$ROUNDUP_PASSWORD
export TANDEM_ROUNDUP_USER2=$ROUNDUP_USER2
export TANDEM_ROUNDUP_PASSWORD2=$ROUNDUP_USER2_PASSWORD
export TANDEM_SECRET_REDMINE_API_KEY=$REDMINE_API_KEY
export TANDEM_SECRET_ROUNDUP_PASSWORD=$ROUNDUP_PASSWORD
OUT
)
printf '[trackers-up] both up after %ss\n' "$((SECONDS - t0))" >&2
