# Shared by the benchmark scripts (sourced, not run): builds the release binary into .build-release, apart from the
# debug build, and times one step as a whole process.
#
# Before sourcing, set WORK (a folder) and N (a default row count); afterwards BIN is the binary, ALLOWANCE_DB a
# fresh ledger in WORK and ALLOWANCE_NOW a fixed clock. `step NAME COMMAND…` prints wall seconds, ROWS/wall (ROWS
# defaults to N) and peak RSS.
set -euo pipefail
mkdir -p "$WORK"
swift build -c release --scratch-path .build-release --product allowance >/dev/null
BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/allowance"
DB="$WORK/bench.sqlite"
rm -f "$DB" "$DB-wal" "$DB-shm"
export ALLOWANCE_DB="$DB" ALLOWANCE_NOW="2026-11-25T08:00:00Z"
STEP_WIDTH="${STEP_WIDTH:-28}"

step() {
    local name="$1"; shift
    local status=0
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || status=$?
    # reconcile exits 2 when the file has exceptions, which generated files have on purpose.
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then cat "$WORK/err.txt"; exit 1; fi
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
    printf "%-${STEP_WIDTH}s %10.2f %12.0f %12s\n" "$name" "$wall" "$(awk -v n="${ROWS:-$N}" -v w="$wall" 'BEGIN { print (w > 0 ? n / w : 0) }')" "$rss"
}
