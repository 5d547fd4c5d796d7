#!/usr/bin/env bash
# Benchmark (not a test): how configuration validation grows with a select field's size (issue 14 §3). Validates a
# model field with N values and value maps of N entries at N = 10,000, 30,000 and 60,000 (or the sizes given), and
# prints each time with its ratio to the smallest N's, measured in the same run. Target: the time ratio follows the N
# ratio (growth exponent near 1; quadratic validation shows 2). Builds the release product tandem-bench-config in a
# scratch path of its own (.build-bench).
#
#   Ops/bench/config.sh                  # N = 10000 30000 60000, median of 3 runs each
#   Ops/bench/config.sh 1000 8000        # other sizes
#   CONFIG_BENCH_RUNS=5 Ops/bench/config.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
swift build -c release -j 2 --scratch-path .build-bench --product tandem-bench-config >&2
"$(swift build -c release --scratch-path .build-bench --show-bin-path)/tandem-bench-config" "$@"
