#!/usr/bin/env bash
# API latency benchmark (issue 7): a fresh database with API_BENCH_PAIRS artifact pairs (100,000) over 4 integrations
# and API_BENCH_ACTIVITY activity rows (20,000: errors, blockers, information in every status), generated with SQL,
# and a `tandem server` on it. Measures p50/p99 of sequential requests (API_BENCH_REQUESTS each, 500) over one
# keep-alive connection for
#   pair search: by artifact id, by key, by text, first page, a later page, one integration's errors;
#   activity list: open items, one integration, text, errors page 2;
#   and, beside them, the metrics report (30 days, the load of every integration with its pair count) and the audit log;
# beside baselines measured in the same run: GET /health/live (no auth, no query), GET /api/v1/me (token check only),
# and pgbench's select-only latency on a 100,000-row table (one client). Prints each p99 as a ratio of the baselines
# and against the target p99 <= 50 ms. Medians of API_BENCH_RUNS runs (3). Not a test: nothing is asserted.
#
#   Ops/bench/api-latency.sh
#   API_BENCH_RELEASE=1 Ops/bench/api-latency.sh          build and measure the release server
#
# Knobs: API_BENCH_PAIRS, API_BENCH_ACTIVITY, API_BENCH_REQUESTS, API_BENCH_RUNS, API_BENCH_RELEASE (0), TANDEM_BIN,
# API_BENCH_SETUP_ONLY=1 (generate the data, keep the database tandem_bench_api, measure nothing: for EXPLAIN).
# Needs PostgreSQL and Redis (Ops/services.sh start, or TANDEM_DATABASE_URL, TANDEM_PG_ADMIN_URL, TANDEM_REDIS_URL),
# python3 and pgbench. Uses its own databases (tandem_bench_api, tandem_bench_api_pgbench; dropped at the end).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/Ops/lib/common.sh"
PAIRS=${API_BENCH_PAIRS:-100000}
ACTIVITY=${API_BENCH_ACTIVITY:-20000}
REQUESTS=${API_BENCH_REQUESTS:-500}
RUNS=${API_BENCH_RUNS:-3}

if [ -z "${TANDEM_DATABASE_URL:-}" ] || [ -z "${TANDEM_PG_ADMIN_URL:-}" ]; then
    eval "$("$ROOT/Ops/services.sh" env)"
fi
REDIS_URL=${TANDEM_REDIS_URL:-redis://127.0.0.1:6390}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

mode=debug
[ "${API_BENCH_RELEASE:-0}" = 1 ] && mode=release
if [ -z "${TANDEM_BIN:-}" ]; then
    echo "building tandem ($mode)..." >&2
    (cd "$ROOT" && swift build -c "$mode" --product tandem 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' >&2)
    TANDEM_BIN=$(cd "$ROOT" && swift build -c "$mode" --show-bin-path)/tandem
fi
TANDEM=$TANDEM_BIN

WORK=$(mktemp -d)
DB=tandem_bench_api
PGB=tandem_bench_api_pgbench
PREFIX="benchapi$$:"
ADMIN_URL=$TANDEM_PG_ADMIN_URL
export TANDEM_DATABASE_URL="${TANDEM_DATABASE_URL%/*}/$DB"
server=""

cleanup() {
    set +e
    [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
    redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1
    psql "$ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    psql "$ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $PGB WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# --- the database and its data ---
psql "$ADMIN_URL" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB OWNER tandem" >/dev/null
"$TANDEM" keys generate >"$WORK/master.key" 2>>"$WORK/setup.log"
chmod 600 "$WORK/master.key"
export TANDEM_MASTER_KEY_FILE="$WORK/master.key"
"$TANDEM" migrate >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; exit 1; }
echo "generating $PAIRS pairs and $ACTIVITY activity rows..." >&2
psql "$TANDEM_DATABASE_URL" -qAt -v ON_ERROR_STOP=1 -v pairs="$PAIRS" -v activity="$ACTIVITY" >/dev/null <<'SQL'
INSERT INTO repositories (name, kind, url) VALUES ('redmine', 'redmine', 'http://redmine.example'), ('roundup', 'roundup', 'http://roundup.example');
INSERT INTO models (name) VALUES ('issue');
INSERT INTO collections (name, repository_id, model_id, artifact_type, projects)
SELECT c.name, r.id, m.id, c.type, '{PROJ}' FROM (VALUES ('bugs-left', 'redmine', 'bug'), ('bugs-right', 'roundup', 'issue'),
    ('tasks-left', 'redmine', 'task'), ('tasks-right', 'roundup', 'task')) AS c(name, repository, type)
JOIN repositories r ON r.name = c.repository, models m;
INSERT INTO integrations (name, left_collection_id, right_collection_id, running)
SELECT 'integration-' || n, l.id, r.id, true FROM generate_series(1, 4) n
JOIN collections l ON l.name = CASE WHEN n % 2 = 0 THEN 'bugs-left' ELSE 'tasks-left' END
JOIN collections r ON r.name = CASE WHEN n % 2 = 0 THEN 'bugs-right' ELSE 'tasks-right' END;
-- Pairs: ids and keys as the trackers make them; one in 50 in error, one in 200 in conflict, one in 500 twinless.
INSERT INTO artifact_pairs (integration_id, left_id, right_id, left_key, right_key, left_url, right_url, left_project, right_project,
    created_from, status, status_reason, last_error, created_at, last_synced_at)
SELECT (SELECT id FROM integrations WHERE name = 'integration-' || (1 + i % 4)), i::text, (1000000 + i)::text, 'PROJ-' || i,
    'issue' || (1000000 + i), 'http://redmine.example/issues/' || i, 'http://roundup.example/issue' || (1000000 + i), 'PROJ', 'PROJ',
    CASE WHEN i % 3 = 0 THEN 'right' ELSE 'left' END,
    CASE WHEN i % 500 = 0 THEN 'twinless' WHEN i % 200 = 0 THEN 'conflict' WHEN i % 50 = 0 THEN 'error' ELSE 'ok' END,
    CASE WHEN i % 50 = 0 THEN 'the target refused a field' END, CASE WHEN i % 50 = 0 THEN 'HTTP 422: Subject cannot be blank' END,
    now() - (:pairs - i) * interval '30 seconds', now() - (i % 1000) * interval '1 minute'
FROM generate_series(1, :pairs) i;
-- Activity: mostly errors of artifacts, some blockers and notes; half done, the rest open, cleared, retrying, ignored.
INSERT INTO activity (kind, status, code, integration_id, pair_id, artifact_id, side, message, occurrences, first_seen_at, last_seen_at,
    resolved_at)
SELECT CASE WHEN j % 40 = 0 THEN 'blocker' WHEN j % 13 = 0 THEN 'info' ELSE 'error' END,
    (ARRAY['done', 'done', 'done', 'done', 'done', 'open', 'open', 'open', 'cleared', 'retrying', 'ignored'])[1 + j % 11],
    (ARRAY['sync-validation', 'timeout', 'conflict', 'permission-denied', 'artifact-gone'])[1 + j % 5],
    (SELECT id FROM integrations WHERE name = 'integration-' || (1 + p % 4)), CASE WHEN j % 40 = 0 THEN NULL ELSE p END,
    CASE WHEN j % 40 = 0 THEN NULL ELSE p::text END, CASE WHEN j % 40 = 0 THEN NULL ELSE 'left' END,
    CASE j % 5
        WHEN 0 THEN 'PROJ-' || p || ': Subject cannot be blank (HTTP 422)'
        WHEN 1 THEN 'PROJ-' || p || ': the request timed out after 30 s'
        WHEN 2 THEN 'PROJ-' || p || ': the same fields changed on both sides (status, priority); the pair is held until resolved'
        WHEN 3 THEN 'repository redmine: HTTP 403 Forbidden for user sync-bot'
        ELSE 'PROJ-' || p || ': the artifact was deleted'
    END, 1 + j % 7, now() - (:activity - j) * interval '2 minutes', now() - (:activity - j) * interval '1 minute',
    CASE WHEN j % 11 < 5 THEN now() END
FROM generate_series(1, :activity) j, LATERAL (SELECT 1 + (j * 37) % :pairs AS p) x;
ANALYZE artifact_pairs; ANALYZE activity; ANALYZE integrations;
SQL
if [ "${API_BENCH_SETUP_ONLY:-0}" = 1 ]; then
    echo "data ready in $TANDEM_DATABASE_URL (kept)" >&2
    trap - EXIT
    rm -rf "$WORK"
    exit 0
fi
head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$WORK/password"
"$TANDEM" users add bench-admin --role admin --password-file "$WORK/password" >>"$WORK/setup.log" 2>&1
TOKEN=$("$TANDEM" tokens create --user bench-admin --name bench 2>>"$WORK/setup.log")

PORT=$(free_port)
LOG_LEVEL=warning "$TANDEM" server --host 127.0.0.1 --port "$PORT" --prefix "$PREFIX" >"$WORK/server.log" 2>&1 &
server=$!
wait_for_server "$PORT" "$server" "$WORK/server.log"

# --- pgbench: select-only latency on a table of the same size, one client ---
psql "$ADMIN_URL" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $PGB WITH (FORCE)" -c "CREATE DATABASE $PGB OWNER tandem" >/dev/null
PGB_URL="${TANDEM_DATABASE_URL%/*}/$PGB"
pgbench -q -i -s 1 "$PGB_URL" >/dev/null 2>&1

# --- the client: sequential requests on one keep-alive connection; prints "name p50 p99" in ms ---
cat >"$WORK/client.py" <<'PY'
import http.client, json, sys, time
port, token, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
shapes = [line.split(" ", 1) for line in sys.stdin.read().splitlines() if line.strip()]
conn = http.client.HTTPConnection("127.0.0.1", port)
def get(path, auth=True):
    headers = {"Authorization": "Token " + token} if auth else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {body[:200]!r}")
    return body
for name, path in shapes:
    auth = name != "health"
    for _ in range(20):
        get(path, auth)  # warm-up
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        get(path, auth)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p50 = samples[len(samples) // 2]
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{name} {p50:.3f} {p99:.3f}")
PY

# A later page: the cursor 40% of the way down.
LATER=$(( PAIRS * 6 / 10 ))
SHAPES="health /health/live
me /api/v1/me
pairs-by-artifact /api/v1/pairs?artifact=$(( PAIRS / 3 + 7 ))
pairs-by-key /api/v1/pairs?key=proj-$(( PAIRS / 2 + 11 ))
pairs-by-text /api/v1/pairs?q=proj-$(( PAIRS / 40 ))
pairs-first-page /api/v1/pairs?limit=50
pairs-later-page /api/v1/pairs?limit=50&after=$LATER
pairs-errors-of-one /api/v1/pairs?integration=integration-2&status=error&limit=50
activity-open /api/v1/activity?status=open&limit=50
activity-integration /api/v1/activity?integration=integration-3&limit=50
activity-text /api/v1/activity?q=timed%20out&limit=50
activity-errors-page-2 /api/v1/activity?kind=error&status=open&limit=50&after=$(( ACTIVITY - 150 ))
metrics-30-days /api/v1/metrics
audit-first-page /api/v1/audit?limit=50"

for run in $(seq 1 "$RUNS"); do
    echo "run $run/$RUNS..." >&2
    echo "$SHAPES" | python3 "$WORK/client.py" "$PORT" "$TOKEN" "$REQUESTS" | sed "s/^/$run /" >>"$WORK/results"
    # pgbench -S: average latency of one select by primary key (ms), one client, 10 s.
    pgbench -n -S -c 1 -j 1 -T 10 "$PGB_URL" 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' | sed "s/^/$run pgbench /" \
        >>"$WORK/results"
done

pg=$(awk '$2 == "pgbench" { print $3 }' "$WORK/results" | median)
health99=$(awk '$2 == "health" { print $4 }' "$WORK/results" | median)
me99=$(awk '$2 == "me" { print $4 }' "$WORK/results" | median)
echo
echo "API latency, $mode server: $PAIRS pairs, $ACTIVITY activity rows, $REQUESTS sequential requests per shape, median of $RUNS runs"
echo "baselines: pgbench -S average ${pg} ms; GET /health/live p99 ${health99} ms; GET /api/v1/me p99 ${me99} ms"
printf '%-24s %9s %9s %12s %10s %8s\n' shape "p50 ms" "p99 ms" "p99/health" "p99/me" "<=50ms"
for name in $(echo "$SHAPES" | awk '{ print $1 }'); do
    p50=$(awk -v n="$name" '$2 == n { print $3 }' "$WORK/results" | median)
    p99=$(awk -v n="$name" '$2 == n { print $4 }' "$WORK/results" | median)
    awk -v n="$name" -v a="$p50" -v b="$p99" -v h="$health99" -v m="$me99" \
        'BEGIN { printf "%-24s %9.2f %9.2f %12.1f %10.2f %8s\n", n, a, b, b / h, b / m, (b <= 50 ? "yes" : "NO") }'
done
