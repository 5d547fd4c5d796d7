#!/usr/bin/env bash
# Stop the trackers started by up.sh: only the pids in their pid files, and only if
# those are still the servers on our ports. --purge also deletes their state.
# Usage:  Ops/trackers/down.sh [--purge]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/common.sh"  # tandem_state_dir: var/trackers, or /var/lib/tandem-dev/<hash>/trackers
export TANDEM_TRACKERS_DIR="${TANDEM_TRACKERS_DIR:-$(tandem_state_dir "$(cd "$HERE/../.." && pwd)" trackers)}"
rc=0
"$HERE/redmine-down.sh" "${TANDEM_REDMINE_PORT:-3310}" "$@" || rc=1
"$HERE/roundup-down.sh" "${TANDEM_ROUNDUP_PORT:-8930}" "$@" || rc=1
exit $rc
