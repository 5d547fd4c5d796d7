#!/usr/bin/env bash
# Prints the line coverage of TandemCore from a finished `swift test --enable-code-coverage` run and fails below the
# threshold (90% unless COVERAGE_MIN says otherwise).
#
#   swift test --enable-code-coverage && Ops/coverage-core.sh            # the package in the current directory
#   Ops/coverage-core.sh /work/dev/core --scratch-path .build-x           # another package; extra args go to swift
set -euo pipefail

package="${1:-.}"
shift || true
minimum="${COVERAGE_MIN:-90}"
cd "$package"

# The toolchain's own llvm-cov: a system one may not read this compiler's profile format.
llvm_cov="$(dirname "$(readlink -f "$(command -v swift)")")/llvm-cov"
[[ -x "$llvm_cov" ]] || llvm_cov="$(command -v llvm-cov || true)"
[[ -x "$llvm_cov" ]] || { echo "coverage-core: llvm-cov not found next to swift or on PATH" >&2; exit 2; }

bin="$(swift build --show-bin-path "$@")"
profile="$bin/codecov/default.profdata"
tests="$(find "$bin" -maxdepth 1 -name '*PackageTests.xctest' | head -n 1)"
[[ -f "$profile" && -n "$tests" ]] || {
    echo "coverage-core: no coverage data in $bin; run 'swift test --enable-code-coverage' first" >&2
    exit 2
}

mapfile -t sources < <(find -L Sources/TandemCore -name '*.swift' | sort)
"$llvm_cov" report "$tests" -instr-profile "$profile" "${sources[@]}" | awk -v minimum="$minimum" '
    $1 == "TOTAL" {
        lines = $8; missed = $9
        percent = lines > 0 ? 100 * (lines - missed) / lines : 0
        printf "TandemCore line coverage: %.2f%% (%d of %d lines; minimum %s%%)\n", percent, lines - missed, lines, minimum
        found = 1
        exit !(percent >= minimum)
    }
    END { if (!found) { print "coverage-core: no TOTAL line from llvm-cov" > "/dev/stderr"; exit 2 } }
'
