#!/usr/bin/env bash
# Queue benchmark (issue 3): no-op jobs per second end to end (enqueue → admitted dequeue → ack)
# with 1 and with 2 consumer processes, beside `redis-benchmark -c 1 -t ping` measured in the same
# run, as ratios; then the event-rate limiter's accuracy over 3 minutes under backlog.
#
#   Ops/bench/queue.sh [--jobs N] [--limiter-seconds S] [--quick]
#
# --quick: the limiter runs 30 s instead of 180 s. Redis: $TANDEM_REDIS_URL (default
# redis://127.0.0.1:6390). Builds the drill in release mode in $PACKAGE_DIR (default: this repo).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
package="${PACKAGE_DIR:-$(cd "$here/../.." && pwd)}"
url="${TANDEM_REDIS_URL:-redis://127.0.0.1:6390}"
jobs=100000
limiter_seconds=180
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) jobs="$2"; shift 2 ;;
        --limiter-seconds) limiter_seconds="$2"; shift 2 ;;
        --quick) limiter_seconds=30; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

hostport="${url#redis://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=6379
auth=()
userinfo="${url#redis://}"
if [[ "$userinfo" == *@* ]]; then userinfo="${userinfo%%@*}"; auth=(-a "${userinfo#*:}" --no-auth-warning); fi

echo "building tandem-queue-drill (release) in $package"
(cd "$package" && swift build -c release --product tandem-queue-drill >/dev/null)
drill="$package/.build/release/tandem-queue-drill"

ping_rate() {
    redis-benchmark -h "$host" -p "$port" "${auth[@]}" -c 1 -t ping -n 100000 -q 2>/dev/null \
        | tr '\r' '\n' | awk '/PING_MBULK: [0-9.]+ requests per second/ { print int($2) }' | tail -1
}
bench_line() { "$drill" bench --url "$url" --consumers "$1" --jobs "$jobs"; }

echo "== throughput: $jobs no-op jobs, PING measured before and after each run =="
for consumers in 1 2; do
    before=$(ping_rate)
    line=$(bench_line "$consumers")
    after=$(ping_rate)
    echo "  $line"
    rate=$(echo "$line" | sed -n 's/.*jobs_per_s=\([0-9]*\).*/\1/p')
    ping=$(( (before + after) / 2 ))
    awk -v c="$consumers" -v r="$rate" -v p="$ping" -v b="$before" -v a="$after" 'BEGIN {
        printf "consumers=%d  jobs/s=%d  redis-benchmark -c 1 PING/s=%d (before %d, after %d)  ratio=%.2fx (target >= 1.0x)\n", c, r, p, b, a, r / p }'
done

echo "== limiter accuracy: 200 events/min, backlog, 2 consumer processes, ${limiter_seconds} s =="
"$drill" limiter --url "$url" --seconds "$limiter_seconds" --rate 200
