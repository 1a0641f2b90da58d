#!/usr/bin/env bash
# Times `allowance audit export` and `audit verify` of a reconciled month in which every beneficiary is on mobile
# money (N items, about N result lines), masked and full, each as a whole process with /usr/bin/time -v, in a release
# build (scripts/bench-lib.sh). Default N = 1,000,000. The month is set up as scripts/bench-reconcile.sh does.
#
#   scripts/bench-audit.sh [N] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
WORK="${2:-$(mktemp -d /tmp/allowance-audit.XXXXXX)}"
STEP_WIDTH=34
source scripts/bench-lib.sh

setup_month
"$BIN" reconcile 1 "$WORK/results.csv" --by auditor >/dev/null 2>&1 || [ $? -eq 2 ]
rm -rf "$WORK/key" "$WORK/export-masked" "$WORK/export-full"
"$BIN" audit keygen --out "$WORK/key" >/dev/null

printf '%-34s %10s %12s %12s\n' "step (N=$N items)" "wall s" "items/s" "peak RSS MB"
step "audit export (masked)" "$BIN" audit export --out "$WORK/export-masked" --key "$WORK/key" --by auditor
step "audit verify (masked)" "$BIN" audit verify "$WORK/export-masked" --key "$WORK/key"
step "audit export (full)" "$BIN" audit export --out "$WORK/export-full" --key "$WORK/key" --pii full --by auditor
step "audit verify (full: seals too)" "$BIN" audit verify "$WORK/export-full" --key "$WORK/key"
du -sh "$WORK/export-masked" | awk '{print "export size: " $1}'
echo "work folder: $WORK"
