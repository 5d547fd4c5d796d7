#!/usr/bin/env bash
# Benchmark (not a test): median time of one TandemCore sync decision on a 50-field artifact with comments.
# Target: at most 20 µs. Builds the release product tandem-bench-core in a scratch path of its own (.build-bench).
#
#   Ops/bench/core.sh                 # in the repository root
#   Ops/bench/core.sh /work/dev/core  # another package that declares tandem-bench-core
set -euo pipefail

package="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
shift || true
cd "$package"
swift build -c release -j 2 --scratch-path .build-bench --product tandem-bench-core "$@" >&2
"$(swift build -c release --scratch-path .build-bench --show-bin-path)/tandem-bench-core"
