#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine (as root): installs what it needs, starts PostgreSQL, Redis and
# the real trackers on loopback, checks formatting, builds, runs every test, prints TandemCore's coverage.
#
#   Ops/test.sh                 everything
#   Ops/test.sh --filter REGEX  only matching tests (services still start)
#   TANDEM_E2E=0                skip the cluster's end-to-end and fault suites (in-memory, processes, real trackers)
#   TANDEM_E2E_REAL_QUIET_SECONDS=N   the real-tracker test's quiet period (default 600: the issue's ten minutes)
#   TANDEM_SKIP_FORMAT=1        skip the formatting check
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
mkdir -p var
if [ "${1:-}" = "--e2e" ]; then shift; fi  # the end-to-end suites run by default now
step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "system packages and local services"
services_env=$(Ops/services.sh start)
eval "$services_env"
export TANDEM_DATABASE_URL TANDEM_REDIS_URL TANDEM_PG_ADMIN_URL

if [ -x Ops/trackers/up.sh ]; then
    step "real trackers (Redmine, Roundup) on loopback"
    trackers_env=$(Ops/trackers/up.sh)
    eval "$trackers_env"
fi

if [ "${TANDEM_SKIP_FORMAT:-0}" != 1 ]; then
    step "formatting (.swift-format)"
    # Formatting a copy of the tree must change nothing: the committed code is already formatted.
    copy=$(mktemp -d)
    cp -r Sources Tests Package.swift .swift-format "$copy"/
    (cd "$copy" && swift format format --in-place --recursive --parallel Sources Tests Package.swift)
    if ! diff -r -q Sources "$copy/Sources" >/dev/null || ! diff -r -q Tests "$copy/Tests" >/dev/null || ! diff -q Package.swift "$copy/Package.swift" >/dev/null; then
        diff -r -u Sources "$copy/Sources" | head -40 >&2 || true
        echo "not formatted: run  swift format format --in-place --recursive Sources Tests Package.swift" >&2
        rm -rf "$copy"
        exit 1
    fi
    rm -rf "$copy"
fi

step "build"
swift build --build-tests --enable-code-coverage 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Linking|Applying)' || { echo "build failed" >&2; exit 1; }

step "tests"
args=(--skip-build --enable-code-coverage)
if [ "${1:-}" = "--filter" ]; then args+=(--filter "$2"); fi
set +e
swift test "${args[@]}" 2>&1 | tee var/test.log | grep -vE '^(◇|↳)|started\.$|^Test Case .* (started|passed)'
status=${PIPESTATUS[0]}
set -e

if [ "${1:-}" != "--filter" ]; then
    step "drill: a worker killed under a real supervisor (supervisord) comes back"
    Ops/drills/supervisord.sh || { echo "supervisord drill failed" >&2; status=1; }
    step "drill: services and trackers started from a clone in a 0700 folder (as in /root/tandem)"
    Ops/drills/private-home.sh || { echo "private-home drill failed" >&2; status=1; }
    step "REST API fuzzing (schemathesis against /api/openapi.json): zero 5xx, zero schema violations"
    TANDEM_BIN="$(swift build --show-bin-path)/tandem" Ops/api-fuzz.sh || { echo "API fuzzing failed" >&2; status=1; }
    step "web UI in a real browser (headless Chromium + Selenium): log in, create an integration, retry a failed item, metrics chart"
    TANDEM_BIN="$(swift build --show-bin-path)/tandem" Ops/browser-test.sh || { echo "browser test failed" >&2; status=1; }
fi

if [ -x Ops/coverage-core.sh ] && [ "${1:-}" != "--filter" ]; then
    step "TandemCore line coverage"
    Ops/coverage-core.sh "$ROOT" || status=1
fi

step "done in $((SECONDS - started)) s"
# swift-testing's own totals (its per-test lines can interleave when tests run in parallel, so they are not counted).
summary=$(grep -E 'Test run with [0-9]+ tests? in [0-9]+ suites?' var/test.log | tail -1 | sed -E 's/^[^T]*//' || true)
failed=$(grep -cE '✘ Test .* failed after' var/test.log || true)
echo "swift-testing: ${summary:-no summary (see var/test.log)}; tests failed: $failed"
exit "$status"
