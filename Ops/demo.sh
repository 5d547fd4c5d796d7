#!/usr/bin/env bash
# The main job: from a fresh Debian machine (as root), bring Tandem up on loopback and show it working.
# At this stage: PostgreSQL and Redis up, build, migrate, apply the example integration (Redmine bugs <-> Roundup
# issues), list what was stored, change one setting and show the plan, export the configuration again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
mkdir -p var/demo
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
started=$SECONDS

step "1/6 PostgreSQL 15 and Redis 7 on loopback"
eval "$(Ops/services.sh start)"
export TANDEM_DATABASE_URL TANDEM_REDIS_URL
echo "database: ${TANDEM_DATABASE_URL%%:*}://…@${TANDEM_DATABASE_URL##*@}"
echo "redis:    $TANDEM_REDIS_URL"

step "2/6 build tandem"
swift build --product tandem 2>&1 | grep -E 'error|warning: |Compiling tandem|Build' || true
TANDEM="$(swift build --product tandem --show-bin-path)/tandem"
[ -x "$TANDEM" ] || { echo "build failed" >&2; exit 1; }

step "3/6 master key and migrations"
if [ ! -s var/demo/master.key ]; then "$TANDEM" keys generate > var/demo/master.key; chmod 600 var/demo/master.key; fi
export TANDEM_MASTER_KEY_FILE="$ROOT/var/demo/master.key"
"$TANDEM" migrate

step "4/6 apply the example integration (docs/examples/redmine-roundup.yaml)"
# The file names its secrets as ${ENV}; the demo supplies stand-ins (the trackers' real ones come with the live demo).
export TANDEM_REDMINE_API_KEY="${TANDEM_REDMINE_API_KEY:-demo-redmine-key}" TANDEM_ROUNDUP_PASSWORD="${TANDEM_ROUNDUP_PASSWORD:-demo-roundup-password}"
"$TANDEM" apply -f docs/examples/redmine-roundup.yaml --actor demo
"$TANDEM" repositories list

step "5/6 a change, previewed with --dry-run"
sed 's/concurrencyLimit: 4/concurrencyLimit: 8/' docs/examples/redmine-roundup.yaml > var/demo/changed.yaml
"$TANDEM" apply -f var/demo/changed.yaml --dry-run

step "6/6 export (secrets stay references) and compare with the applied file"
"$TANDEM" export -o var/demo/exported.yaml
head -n 16 var/demo/exported.yaml
if grep -q -e "$TANDEM_REDMINE_API_KEY" -e "$TANDEM_ROUNDUP_PASSWORD" var/demo/exported.yaml; then echo "a secret leaked into the export" >&2; exit 1; fi
"$TANDEM" apply -f var/demo/exported.yaml --dry-run | tail -n 1
echo
echo "Tandem's configuration is stored and round-trips (exported to var/demo/exported.yaml) in $((SECONDS - started)) s."
echo "Stop the services with: Ops/services.sh stop"
