#!/usr/bin/env bash
# Times `allowance reconcile` of a generated carrier result file against a batch in which every beneficiary is on
# mobile money (N items, about N lines: 97 % paid, 2 % failed and a few of every exception), in the carrier's order and
# then, on a copy of the same ledger, the same file sorted by reference; then `ledger verify`. Each step is a whole
# process with /usr/bin/time -v, in a release build (scripts/bench-lib.sh). Default N = 1,000,000.
#
#   scripts/bench-reconcile.sh [N] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
WORK="${2:-$(mktemp -d /tmp/allowance-reconcile.XXXXXX)}"
STEP_WIDTH=34
source scripts/bench-lib.sh

setup_month
LINES=$(($(wc -l < "$WORK/results.csv") - 1))
cp "$DB" "$WORK/before-reconcile.sqlite"

printf '%-34s %10s %12s %12s\n' "step (N=$N, $LINES lines)" "wall s" "lines/s" "peak RSS MB"
ROWS="$LINES"

sort_by_reference "$WORK/results.csv" "$WORK/results-sorted.csv"
cp "$WORK/before-reconcile.sqlite" "$WORK/sorted.sqlite"
step "reconcile, sorted by reference" "$BIN" reconcile 1 "$WORK/results-sorted.csv" --by auditor --db "$WORK/sorted.sqlite"
SORTED_WALL="$WALL"
step "reconcile, carrier's order" "$BIN" reconcile 1 "$WORK/results.csv" --by auditor
echo "carrier's order ÷ sorted: $(awk -v a="$WALL" -v b="$SORTED_WALL" 'BEGIN { printf "%.2f", a / b }')"
step "reconcile again (already imported)" "$BIN" reconcile 1 "$WORK/results.csv" --by auditor
step "ledger verify" "$BIN" ledger verify
echo "work folder: $WORK (before-reconcile.sqlite is the ledger before the first run)"
