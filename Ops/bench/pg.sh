#!/usr/bin/env bash
# Single-row INSERT throughput: Tandem's Postgres client (libpq, prepared statements, pool) against
# `pgbench -M prepared` on the same statement, same table, same server, in the same run.
#
#   Ops/bench/pg.sh                       # 3 runs of 5 s each per setup, medians and ratios
#   PG_BENCH_MODES=durable Ops/bench/pg.sh   # only the server's own commit settings
#   PG_BENCH_SECONDS=10 PG_BENCH_RUNS=5 Ops/bench/pg.sh
#
# Needs the local services (Ops/services.sh start) or TANDEM_DATABASE_URL. Builds release into
# .build-bench-pg (PG_BENCH_PACKAGE_DIR picks another package directory that declares tandem-bench-pg).
# Not a test: numbers depend on the machine. Target: the client at >= 0.8x pgbench.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PACKAGE_DIR=${PG_BENCH_PACKAGE_DIR:-$ROOT}
SECONDS_PER_RUN=${PG_BENCH_SECONDS:-5}
RUNS=${PG_BENCH_RUNS:-3}
TABLE=bench_pg_insert

if [ -z "${TANDEM_DATABASE_URL:-}" ]; then
    eval "$("$ROOT/Ops/services.sh" env)"
fi
URL=$TANDEM_DATABASE_URL
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

echo "building tandem-bench-pg (release)..." >&2
swift build -c release --package-path "$PACKAGE_DIR" --scratch-path "$PACKAGE_DIR/.build-bench-pg" \
    --product tandem-bench-pg >&2
BIN="$PACKAGE_DIR/.build-bench-pg/release/tandem-bench-pg"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql "$URL" -qAtc "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1 || true' EXIT
psql "$URL" -qAt -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS $TABLE" -c "CREATE TABLE $TABLE (k bigint, v bigint)" >/dev/null
cat >"$WORK/insert.sql" <<SQL
\set k random(1, 1000000000)
\set v random(1, 1000000000)
INSERT INTO $TABLE (k, v) VALUES (:k, :v);
SQL

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

server=$(psql "$URL" -qAtc "SELECT current_setting('server_version') || ', fsync=' || current_setting('fsync')")
echo "PostgreSQL $server; $(nproc) cores; statement: INSERT INTO $TABLE (k, v) VALUES (\$1, \$2)"
echo "each figure: median of $RUNS runs of ${SECONDS_PER_RUN}s (runs of ours and pgbench interleaved)"
BASE_PGOPTIONS=$PGOPTIONS
# "durable": the server's commit settings (the commit fsync dominates); "async-commit": synchronous_commit=off
# for both clients (CPU-bound: shows per-statement client overhead). PG_BENCH_MODES picks.
for mode in ${PG_BENCH_MODES:-durable async-commit}; do
    case $mode in
    durable) export PGOPTIONS="$BASE_PGOPTIONS" ;;
    async-commit) export PGOPTIONS="$BASE_PGOPTIONS -c synchronous_commit=off" ;;
    *) echo "unknown mode $mode" >&2 && exit 2 ;;
    esac
    echo
    echo "mode: $mode (synchronous_commit=$(psql "$URL" -qAtc "SHOW synchronous_commit"))"
    printf '%-12s %16s %16s %8s   %s\n' connections "tandem inserts/s" "pgbench tps" ratio "runs (tandem | pgbench)"
    for connections in 1 8; do
        threads=1
        [ "$connections" -gt 1 ] && threads=2
        ours=()
        theirs=()
        for _ in $(seq "$RUNS"); do
            ours+=("$(TANDEM_DATABASE_URL=$URL "$BIN" --table "$TABLE" --connections "$connections" --seconds "$SECONDS_PER_RUN" |
                sed -n 's/^inserts_per_second=\([0-9.]*\).*/\1/p')")
            theirs+=("$(pgbench -n -M prepared -f "$WORK/insert.sql" -c "$connections" -j "$threads" -T "$SECONDS_PER_RUN" "$URL" 2>/dev/null |
                sed -n 's/^tps = \([0-9.]*\).*/\1/p')")
        done
        ours_median=$(printf '%s\n' "${ours[@]}" | median)
        theirs_median=$(printf '%s\n' "${theirs[@]}" | median)
        ratio=$(awk -v a="$ours_median" -v b="$theirs_median" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
        printf '%-12s %16.0f %16.0f %7sx   %s | %s\n' "$connections" "$ours_median" "$theirs_median" "$ratio" \
            "$(printf '%.0f ' "${ours[@]}")" "$(printf '%.0f ' "${theirs[@]}")"
    done
done
