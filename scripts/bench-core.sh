#!/usr/bin/env bash
# Times the core steps as whole processes in a release build: register import, batch create, approve,
# export, reconcile of a generated result file and ledger verify, at N beneficiaries (default 1,000,000).
# Prints wall seconds, rows/s and peak RSS. The release build lives in .build-release, apart from the debug one.
#
#   scripts/bench-core.sh [N] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
WORK="${2:-$(mktemp -d /tmp/allowance-bench.XXXXXX)}"
mkdir -p "$WORK"

swift build -c release --scratch-path .build-release --product allowance >/dev/null
BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/allowance"
DB="$WORK/bench.sqlite"
rm -f "$DB" "$DB-wal" "$DB-shm"
export ALLOWANCE_DB="$DB" ALLOWANCE_NOW="2026-11-25T08:00:00Z"

"$BIN" generate register --count "$N" --seed 42 --out "$WORK/register.csv" >/dev/null

printf '%-28s %10s %12s %12s\n' "step (N=$N)" "wall s" "rows/s" "peak RSS MB"
step() {
    local name="$1"; shift
    local status=0
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || status=$?
    # reconcile exits 2 when the file has exceptions, which generated files do on purpose.
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then cat "$WORK/err.txt"; exit 1; fi
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
    printf '%-28s %10.2f %12.0f %12s\n' "$name" "$wall" "$(awk -v n="$N" -v w="$wall" 'BEGIN { print (w > 0 ? n / w : 0) }')" "$rss"
}

step "beneficiary import" "$BIN" beneficiary import "$WORK/register.csv" --by officer
step "batch create" "$BIN" batch create --period 2026-11 --by officer
step "batch approve" "$BIN" batch approve 1 --by head
step "batch export" "$BIN" batch export 1 --out "$WORK/instructions.csv" --by officer
"$BIN" generate results --batch 1 --seed 42 --out "$WORK/results.csv" >/dev/null
step "reconcile" "$BIN" reconcile 1 "$WORK/results.csv" --by auditor
step "ledger verify" "$BIN" ledger verify
echo "work folder: $WORK"
