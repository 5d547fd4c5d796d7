#!/usr/bin/env bash
# Whole-pipeline benchmark: `tandem simulate` (two shared in-memory repositories, left and right), a fresh database
# with a memory<->memory integration pointing at it, a coordinator and N worker processes. Measures
#   a. artifact syncs/s (K items seeded on the left -> K twins on the right) with 1 and 2 workers, latency 0,
#      beside `pgbench -c 1` single-row INSERT tps in the same run (the store's ceiling), as a ratio;
#   b. sync lag p50/p95 (change written at the left -> twin written at the right, from the simulator's write log)
#      at a steady 50 changes/s for 60 s, against the target "p95 < detection interval + 2 s";
#   c. syncs/s with 1, 2, 4 and 8 workers when every simulator API call takes 50 ms: speed-up and fraction of
#      linear (target >= 0.9), for updates of paired items and for creates (new twins) separately.
# Figures are medians of PIPELINE_BENCH_RUNS runs (default 3). Not a test: nothing is asserted.
#
#   Ops/bench/pipeline.sh
#   PIPELINE_BENCH_SECTIONS="throughput scaling" PIPELINE_BENCH_COUNT=500 Ops/bench/pipeline.sh
#
# Knobs (environment): PIPELINE_BENCH_SECTIONS (throughput lag scaling), PIPELINE_BENCH_RUNS (3),
# PIPELINE_BENCH_COUNT (a: items per run, 300), PIPELINE_BENCH_LAG_RATE (50), PIPELINE_BENCH_LAG_SECONDS (60),
# PIPELINE_BENCH_LAG_ITEMS (500), PIPELINE_BENCH_LAG_WORKERS (2), PIPELINE_BENCH_SCALE_WORKERS ("1 2 4 8"),
# PIPELINE_BENCH_SCALE_COUNT (c: updates per run, 300), PIPELINE_BENCH_SCALE_CREATES (c: creates per run, 60),
# PIPELINE_BENCH_LATENCY_MS (50), PIPELINE_BENCH_DETECTION
# (seconds between change detections, 1), PIPELINE_BENCH_CONCURRENCY (jobs per worker, 8), PIPELINE_BENCH_RELEASE=1
# (build release instead of debug), TANDEM_BIN / PIPELINE_BENCH_DRIVER (prebuilt binaries).
# Needs PostgreSQL and Redis (Ops/services.sh start, or TANDEM_DATABASE_URL, TANDEM_PG_ADMIN_URL, TANDEM_REDIS_URL).
# Uses its own database (tandem_bench_pipeline, dropped at the end) and Redis prefix.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/Ops/lib/common.sh"
SECTIONS=${PIPELINE_BENCH_SECTIONS:-throughput lag scaling}
RUNS=${PIPELINE_BENCH_RUNS:-3}
COUNT=${PIPELINE_BENCH_COUNT:-300}
LAG_RATE=${PIPELINE_BENCH_LAG_RATE:-50}
LAG_SECONDS=${PIPELINE_BENCH_LAG_SECONDS:-60}
LAG_ITEMS=${PIPELINE_BENCH_LAG_ITEMS:-500}
LAG_WORKERS=${PIPELINE_BENCH_LAG_WORKERS:-2}
SCALE_WORKERS=${PIPELINE_BENCH_SCALE_WORKERS:-1 2 4 8}
SCALE_COUNT=${PIPELINE_BENCH_SCALE_COUNT:-300}
SCALE_CREATES=${PIPELINE_BENCH_SCALE_CREATES:-60}
LATENCY_MS=${PIPELINE_BENCH_LATENCY_MS:-50}
DETECTION=${PIPELINE_BENCH_DETECTION:-1}
CONCURRENCY=${PIPELINE_BENCH_CONCURRENCY:-8}

if [ -z "${TANDEM_DATABASE_URL:-}" ] || [ -z "${TANDEM_PG_ADMIN_URL:-}" ]; then
    eval "$("$ROOT/Ops/services.sh" env)"
fi
REDIS_URL=${TANDEM_REDIS_URL:-redis://127.0.0.1:6390}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

mode=debug
[ "${PIPELINE_BENCH_RELEASE:-0}" = 1 ] && mode=release
if [ -z "${TANDEM_BIN:-}" ] || [ -z "${PIPELINE_BENCH_DRIVER:-}" ]; then
    echo "building tandem and tandem-bench-pipeline ($mode)..." >&2
    (cd "$ROOT" && swift build -c "$mode" --product tandem >&2 && swift build -c "$mode" --product tandem-bench-pipeline >&2)
    bin=$(cd "$ROOT" && swift build -c "$mode" --show-bin-path)
fi
TANDEM=${TANDEM_BIN:-$bin/tandem}
DRIVER=${PIPELINE_BENCH_DRIVER:-$bin/tandem-bench-pipeline}

WORK=$(mktemp -d)
DB=tandem_bench_pipeline
PREFIX="benchpipe$$:"
export TANDEM_DATABASE_URL="${TANDEM_DATABASE_URL%/*}/$DB"
pids=()
workers=()

cleanup() {
    set +e
    for pid in "${workers[@]}" "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${workers[@]}" "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1
    psql "$TANDEM_PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }  # the value of key=value (exact key)

# --- the simulator, the database, the integration, the coordinator ---
start_simulator "$TANDEM" "$WORK/simulator.log" --latency-ms 0
pids+=("$SIM_PID")

psql "$TANDEM_PG_ADMIN_URL" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB OWNER tandem" >/dev/null
"$TANDEM" keys generate >"$WORK/master.key" 2>>"$WORK/setup.log"
chmod 600 "$WORK/master.key"
export TANDEM_MASTER_KEY_FILE="$WORK/master.key"
"$TANDEM" migrate >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }

collection() {  # name repository
    cat <<YAML
  - name: $1
    repository: $2
    artifactType: task
    projects: [demo]
    model: Task
    fields:
      - field: title
        modelField: title
      - field: status
        modelField: status
        valueMap:
          - repository: open
            model: New
          - repository: in-progress
            model: In Progress
          - repository: done
            model: Done
      - field: priority
        modelField: priority
        valueMap:
          - repository: low
            model: Low
          - repository: normal
            model: Normal
          - repository: high
            model: High
YAML
}
repository() {  # name
    cat <<YAML
  - name: $1
    type: memory
    url: $SIM/repos/$1
    eventRateLimit:
      eventsPerMinute: 1000000
      scope: all
    concurrencyLimit: 1000
YAML
}
{
    cat <<YAML
version: 1
settings:
  changeDetectionInterval: ${DETECTION}s
  fullScanEnabled: false
  maxConcurrencyPerIntegration: 1000
repositories:
$(repository left)
$(repository right)
models:
  - name: Task
    fields:
      - name: title
        type: string
        required: true
      - name: status
        type: single-select
        values: [New, In Progress, Done]
      - name: priority
        type: single-select
        values: [Low, Normal, High]
collections:
$(collection left-tasks left)
$(collection right-tasks right)
integrations:
  - name: bench
    left: left-tasks
    right: right-tasks
    running: true
    comments: none
    routes:
      - from: left
        sourceProjects: [demo]
        targetProject: demo
      - from: right
        sourceProjects: [demo]
        targetProject: demo
    conflicts:
      default: left-dominates
    schedule:
      changeDetection:
        interval: ${DETECTION}s
      fullScanEnabled: false
YAML
} >"$WORK/bench.yaml"
"$TANDEM" apply -f "$WORK/bench.yaml" --actor bench >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }
"$TANDEM" coordinator --prefix "$PREFIX" --id bench-coordinator >"$WORK/coordinator.log" 2>&1 &
pids+=($!)

start_workers() {  # count
    for i in $(seq 1 "$1"); do
        "$TANDEM" worker --prefix "$PREFIX" --id "bench-worker-$i" --concurrency "$CONCURRENCY" >"$WORK/worker-$i.log" 2>&1 &
        workers+=($!)
    done
    # warm-up (untimed): every worker connected, the pipeline primed
    "$DRIVER" throughput --simulator "$SIM" --count 20 --timeout 120 >/dev/null
    "$DRIVER" quiesce --simulator "$SIM" >/dev/null
}
stop_workers() {
    for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${workers[@]}"; do wait "$pid" 2>/dev/null || true; done
    workers=()
}
set_latency() { curl -sf -X PUT -H 'Content-Type: application/json' -d "{\"milliseconds\": $1}" "$SIM/latency" >/dev/null; }
pgbench_tps() {
    psql "$TANDEM_DATABASE_URL" -qAt -c "CREATE TABLE IF NOT EXISTS bench_pipeline_insert (k bigint, v bigint)" >/dev/null
    printf '%s\n' '\set k random(1, 1000000000)' '\set v random(1, 1000000000)' \
        'INSERT INTO bench_pipeline_insert (k, v) VALUES (:k, :v);' >"$WORK/insert.sql"
    pgbench -n -M prepared -f "$WORK/insert.sql" -c 1 -j 1 -T 5 "$TANDEM_DATABASE_URL" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

echo "Tandem pipeline benchmark: $(nproc) cores, $mode build, simulator $SIM, change detection every ${DETECTION}s,"
echo "worker --concurrency $CONCURRENCY, repository limits 1,000,000 events/min and 1000 at once; medians of $RUNS runs"

# --- a. throughput at latency 0, beside pgbench ---
if [[ " $SECTIONS " == *" throughput "* ]]; then
    echo
    echo "== a. syncs/s through the whole pipeline, latency 0: $COUNT items seeded on the left -> $COUNT twins on the right =="
    printf '%-8s %16s %16s %12s %8s   %s\n' workers "syncs/s (e2e)" "syncs/s (steady)" "pgbench tps" ratio "runs: e2e | steady | pgbench"
    for n in 1 2; do
        start_workers "$n"
        e2e=()
        steady=()
        pg=()
        for _ in $(seq "$RUNS"); do
            line=$("$DRIVER" throughput --simulator "$SIM" --count "$COUNT")
            e2e+=("$(echo "$line" | field items_per_s)")
            steady+=("$(echo "$line" | field steady_items_per_s)")
            "$DRIVER" quiesce --simulator "$SIM" >/dev/null
            pg+=("$(pgbench_tps)")
        done
        stop_workers
        e=$(printf '%s\n' "${e2e[@]}" | median)
        s=$(printf '%s\n' "${steady[@]}" | median)
        p=$(printf '%s\n' "${pg[@]}" | median)
        ratio=$(awk -v a="$e" -v b="$p" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
        printf '%-8s %16.1f %16.1f %12.0f %7sx   %s| %s| %s\n' "$n" "$e" "$s" "$p" "$ratio" \
            "$(printf '%.1f ' "${e2e[@]}")" "$(printf '%.1f ' "${steady[@]}")" "$(printf '%.0f ' "${pg[@]}")"
    done
    echo "(ratio: end-to-end syncs/s over pgbench -c 1 single-row INSERT tps; each sync writes several rows)"
fi

# --- b. lag at a steady change rate ---
if [[ " $SECTIONS " == *" lag "* ]]; then
    echo
    echo "== b. sync lag at $LAG_RATE changes/s for ${LAG_SECONDS}s over $LAG_ITEMS items, $LAG_WORKERS workers, latency 0 =="
    start_workers "$LAG_WORKERS"
    line=$("$DRIVER" lag --simulator "$SIM" --rate "$LAG_RATE" --seconds "$LAG_SECONDS" --items "$LAG_ITEMS")
    stop_workers
    echo "  $line"
    p50=$(echo "$line" | field p50_s)
    p95=$(echo "$line" | field p95_s)
    awk -v p50="$p50" -v p95="$p95" -v d="$DETECTION" 'BEGIN {
        printf "lag p50=%.2fs p95=%.2fs; target p95 < %.0fs (detection %ss + 2s): %s\n", p50, p95, d + 2, d, (p95 < d + 2 ? "met" : "NOT met") }'
fi

# --- c. scaling with slow repositories ---
if [[ " $SECTIONS " == *" scaling "* ]]; then
    echo
    echo "== c. syncs/s with ${LATENCY_MS} ms per simulator API call: $SCALE_COUNT updates of paired items, $SCALE_CREATES creates, per run =="
    # The pool of paired items the updates change, made at latency 0 (untimed).
    start_workers 2
    "$DRIVER" updates --simulator "$SIM" --count "$SCALE_COUNT" --pool scale-pool >/dev/null
    stop_workers
    set_latency "$LATENCY_MS"
    printf '%-8s %14s %9s %10s %14s %9s %10s   %s\n' workers "updates/s" speed-up "of linear" "creates/s" speed-up "of linear" "runs: updates | creates"
    base_u=""
    for n in $SCALE_WORKERS; do
        start_workers "$n"
        ups=()
        creates=()
        for _ in $(seq "$RUNS"); do
            ups+=("$("$DRIVER" updates --simulator "$SIM" --count "$SCALE_COUNT" --pool scale-pool --timeout 600 | field steady_items_per_s)")
            "$DRIVER" quiesce --simulator "$SIM" >/dev/null
            creates+=("$("$DRIVER" throughput --simulator "$SIM" --count "$SCALE_CREATES" --timeout 600 | field steady_items_per_s)")
            "$DRIVER" quiesce --simulator "$SIM" >/dev/null
        done
        stop_workers
        u=$(printf '%s\n' "${ups[@]}" | median)
        c=$(printf '%s\n' "${creates[@]}" | median)
        [ -z "$base_u" ] && base_u=$u && base_c=$c && base_n=$n
        awk -v n="$n" -v u="$u" -v c="$c" -v bu="$base_u" -v bc="$base_c" -v bn="$base_n" \
            -v runs="$(printf '%.1f ' "${ups[@]}")| $(printf '%.1f ' "${creates[@]}")" 'BEGIN {
            su = (bu > 0 ? u / bu : 0); sc = (bc > 0 ? c / bc : 0)
            printf "%-8d %14.1f %8.2fx %10.2f %14.1f %8.2fx %10.2f   %s\n", n, u, su, su / (n / bn), c, sc, sc / (n / bn), runs }'
    done
    set_latency 0
    echo "(steady rates, 10% -> 90% of the items; fraction of linear = speed-up / (workers / ${base_n}); target >= 0.9)"
fi
