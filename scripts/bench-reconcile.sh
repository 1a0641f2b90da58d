#!/usr/bin/env bash
# Times `allowance reconcile` of a generated carrier result file against a batch in which every beneficiary is on
# mobile money (N items, about N lines: 97 % paid, 2 % failed and a few of every exception), then `ledger verify`,
# each as a whole process with /usr/bin/time -v, in a release build (.build-release). Default N = 1,000,000.
#
#   scripts/bench-reconcile.sh [N] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
WORK="${2:-$(mktemp -d /tmp/allowance-reconcile.XXXXXX)}"
mkdir -p "$WORK"

swift build -c release --scratch-path .build-release --product allowance >/dev/null
BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/allowance"
DB="$WORK/bench.sqlite"
rm -f "$DB" "$DB-wal" "$DB-shm"
export ALLOWANCE_DB="$DB" ALLOWANCE_NOW="2026-11-25T08:00:00Z"

"$BIN" generate register --count "$N" --seed 42 --mobile-percent 100 --out "$WORK/register.csv" >/dev/null
"$BIN" beneficiary import "$WORK/register.csv" --by officer >/dev/null
"$BIN" batch create --period 2026-11 --by officer >/dev/null
"$BIN" batch approve 1 --by head >/dev/null
"$BIN" fund --amount 999999999999999 --reference bench --by officer >/dev/null
"$BIN" batch export 1 --out "$WORK/instructions.csv" --by officer >/dev/null
"$BIN" generate results --batch 1 --seed 42 --out "$WORK/results.csv" >/dev/null
LINES=$(($(wc -l < "$WORK/results.csv") - 1))
cp "$DB" "$WORK/before-reconcile.sqlite"

printf '%-34s %10s %12s %12s\n' "step (N=$N, $LINES lines)" "wall s" "lines/s" "peak RSS MB"
step() {
    local name="$1"; shift
    local status=0
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || status=$?
    # reconcile exits 2 when the file has exceptions, which generated files have on purpose.
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then cat "$WORK/err.txt"; exit 1; fi
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
    printf '%-34s %10.2f %12.0f %12s\n' "$name" "$wall" "$(awk -v n="$LINES" -v w="$wall" 'BEGIN { print (w > 0 ? n / w : 0) }')" "$rss"
}

step "reconcile" "$BIN" reconcile 1 "$WORK/results.csv" --by auditor
step "reconcile again (already imported)" "$BIN" reconcile 1 "$WORK/results.csv" --by auditor
step "ledger verify" "$BIN" ledger verify
echo "work folder: $WORK (before-reconcile.sqlite is the ledger before the first run)"
