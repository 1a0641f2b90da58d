#!/usr/bin/env bash
# Fuzzing (issue 7): builds `allowance-fuzz` with libFuzzer (`-sanitize=fuzzer`, linked by lld; gold fails on it)
# into .build-fuzz, then runs each fuzz target for SECONDS (default 600) from the seed corpus of samples/.
# A crash leaves its input in fuzz-findings/TARGET/ and the script exits 1; copy the input into
# Tests/FuzzRegressions/TARGET/ and the test command replays it from then on.
#
#   scripts/fuzz.sh [--seconds S] [TARGET ...]      TARGET: result-file, register, audit-verify, xlsx (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=600
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_EACH="$2"; shift 2 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(result-file register audit-verify xlsx)
swift build -c release --scratch-path .build-fuzz --product allowance-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -use-ld=lld >/dev/null
BIN=.build-fuzz/release/allowance-fuzz
WORK="$(mktemp -d /tmp/allowance-fuzz.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
status=0
for target in "${TARGETS[@]}"; do
    mkdir -p "fuzz-findings/$target" "$WORK/corpus-$target"
    "$BIN" "$target" --write-seeds "$WORK/corpus-$target"
    # Known crashes first: a fixed one must not come back.
    [ -d "Tests/FuzzRegressions/$target" ] && cp "Tests/FuzzRegressions/$target"/* "$WORK/corpus-$target/" 2>/dev/null || true
    result=0
    "$BIN" "$target" --samples samples "$WORK/corpus-$target" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="fuzz-findings/$target/" >"$WORK/$target.log" 2>&1 || result=$?
    runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$WORK/$target.log" | tail -1 || true)
    edges=$(grep -o 'cov: [0-9]*' "$WORK/$target.log" | tail -1 || true)
    if [ "$result" -ne 0 ]; then
        status=1
        echo "$target: FOUND A CRASH after ${runs:-?}; input in fuzz-findings/$target/:"
        grep -E 'Fatal error|ERROR|SUMMARY|deadly signal|Test unit written' "$WORK/$target.log" | head -8
    else
        echo "$target: ${runs:-?}, ${edges:-cov: ?} edges, corpus $(ls "$WORK/corpus-$target" | wc -l) inputs, no crash"
    fi
done
exit $status
