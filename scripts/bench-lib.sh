# Shared by the benchmark scripts (sourced, not run): builds the release binary into .build-release, apart from the
# debug build, and times one step as a whole process.
#
# Before sourcing, set WORK (a folder) and N (a default row count); afterwards BIN is the binary, ALLOWANCE_DB a
# fresh ledger in WORK and ALLOWANCE_NOW a fixed clock. `timed COMMAND…` sets WALL and RSS; `step NAME COMMAND…`
# prints wall seconds, ROWS/wall (ROWS defaults to N) and peak RSS; `setup_month` makes N's exported month.
set -euo pipefail
mkdir -p "$WORK"
swift build -c release --scratch-path .build-release --product allowance >/dev/null
BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/allowance"
DB="$WORK/bench.sqlite"
rm -f "$DB" "$DB-wal" "$DB-shm"
export ALLOWANCE_DB="$DB" ALLOWANCE_NOW="2026-11-25T08:00:00Z"
STEP_WIDTH="${STEP_WIDTH:-28}"

# timed COMMAND…: runs it as a whole process under /usr/bin/time -v; sets WALL (seconds) and RSS (peak, MB).
timed() {
    local status=0
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || status=$?
    # reconcile exits 2 when the file has exceptions, which generated files have on purpose.
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then echo "failed: $*" >&2; cat "$WORK/err.txt" >&2; exit 1; fi
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.txt")
    RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
}

step() {
    local name="$1"; shift
    timed "$@"
    printf "%-${STEP_WIDTH}s %10.2f %12.0f %12s\n" "$name" "$WALL" "$(awk -v n="${ROWS:-$N}" -v w="$WALL" 'BEGIN { print (w > 0 ? n / w : 0) }')" "$RSS"
}

# sort_by_reference FILE OUT: the same result file with its data lines sorted by reference (the batch's order), each
# reference's lines in the order the file has them; the header (with its BOM) stays first.
sort_by_reference() {
    { head -n 1 "$1"; tail -n +2 "$1" | LC_ALL=C sort -s -t, -k1,1; } > "$2"
}

# A month of N beneficiaries, every one on mobile money, exported, with its generated result file (seed 42, in a
# carrier's order) in $WORK/results.csv, not yet reconciled.
setup_month() {
    "$BIN" generate register --count "$N" --seed 42 --mobile-percent 100 --out "$WORK/register.csv" >/dev/null
    "$BIN" beneficiary import "$WORK/register.csv" --by officer >/dev/null
    "$BIN" batch create --period 2026-11 --by officer >/dev/null
    "$BIN" batch approve 1 --by head >/dev/null
    "$BIN" fund --amount 999999999999999 --reference bench --by officer >/dev/null
    "$BIN" batch export 1 --out "$WORK/instructions.csv" --by officer >/dev/null
    "$BIN" generate results --batch 1 --seed 42 --out "$WORK/results.csv" >/dev/null
}
