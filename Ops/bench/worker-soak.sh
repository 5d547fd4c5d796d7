#!/usr/bin/env bash
# Worker memory soak (issue 13 §5): one consumer process (the queue drill's `consume`, the same QueueConsumer a worker
# runs) takes 1,000,000 no-op jobs; its resident memory after 10,000 jobs and after all of them is reported, and the
# script fails (exit 3) when the latter exceeds the former by more than 10 %.
#
#   Ops/bench/worker-soak.sh [--jobs N] [--warm N] [--max-growth-pct P] [--debug]
#
# --debug: build and run the drill in debug mode (much quicker to build, slower to run; the memory bound holds the
# same). Redis: $TANDEM_REDIS_URL (default redis://127.0.0.1:6390). Builds in $PACKAGE_DIR (default: this repo).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
package="${PACKAGE_DIR:-$(cd "$here/../.." && pwd)}"
url="${TANDEM_REDIS_URL:-redis://127.0.0.1:6390}"
jobs=1000000
warm=10000
growth=10
mode=release
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) jobs="$2"; shift 2 ;;
        --warm) warm="$2"; shift 2 ;;
        --max-growth-pct) growth="$2"; shift 2 ;;
        --debug) mode=debug; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

echo "building tandem-queue-drill ($mode) in $package"
(cd "$package" && swift build -c "$mode" --product tandem-queue-drill >/dev/null)
drill="$package/.build/$mode/tandem-queue-drill"

echo "== worker soak: $jobs no-op jobs through one consumer process, RSS after $warm and after $jobs (limit +$growth %) =="
"$drill" soak --url "$url" --warm "$warm" --jobs "$jobs" --max-growth-pct "$growth"
