#!/usr/bin/env bash
# The benchmark of issue 6: at each size N (default 10,000, 100,000 and 1,000,000 beneficiaries, all on mobile money so
# that the result file is full size), times every step of a month as a whole process with /usr/bin/time -v, in a
# release build, RUNS times (default 3) on a fresh ledger, and reports the median wall time, rows per second and the
# peak RSS. The result file is in a carrier's order (`generate results`' default: by completion time across its
# payment workers); the same file sorted by reference is reconciled too, on a copy of the same ledger, and the ratio
# of the two printed (issue 17). Side by side on the carrier-ordered file it times the reconciliation's
# classification done by the sqlite3 CLI and, when `pip install duckdb` has been done, by DuckDB (scripts/baseline/).
# Prints the table and writes docs/BENCHMARKS.md with the machine's description.
#
#   scripts/bench.sh [--runs R] [N ...]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3
SIZES=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        *) SIZES+=("$1"); shift ;;
    esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)
WORK="$(mktemp -d /tmp/allowance-bench.XXXXXX)"
N=0
source scripts/bench-lib.sh
HAVE_DUCKDB=0
python3 -c "import duckdb" 2>/dev/null && HAVE_DUCKDB=1

declare -A WALLS PEAKS ROWS
# measure KEY ROWS COMMAND…: times the command (bench-lib's `timed`) and keeps its wall seconds and peak RSS under KEY.
measure() {
    local key="$1" rows="$2"; shift 2
    timed "$@"
    WALLS[$key]="${WALLS[$key]:-} $WALL"
    PEAKS[$key]=$(( ${PEAKS[$key]:-0} > RSS ? ${PEAKS[$key]:-0} : RSS ))
    ROWS[$key]="$rows"
}

for N in "${SIZES[@]}"; do
    "$BIN" generate register --count "$N" --seed 42 --mobile-percent 100 --out "$WORK/register-$N.csv" >/dev/null
    for run in $(seq 1 "$RUNS"); do
        echo "N=$N run $run/$RUNS" >&2
        export ALLOWANCE_DB="$WORK/ledger-$N.sqlite"
        rm -rf "$ALLOWANCE_DB" "$ALLOWANCE_DB-wal" "$ALLOWANCE_DB-shm" "$WORK/audit-$N" "$WORK/key-$N"
        measure "$N|import" "$N" "$BIN" beneficiary import "$WORK/register-$N.csv" --by officer
        measure "$N|create" "$N" "$BIN" batch create --period 2026-11 --by officer
        measure "$N|approve" "$N" "$BIN" batch approve 1 --by head
        "$BIN" fund --amount 999999999999999 --reference bench --by head >/dev/null
        measure "$N|export" "$N" "$BIN" batch export 1 --out "$WORK/instructions-$N.csv" --by officer
        if [ ! -f "$WORK/results-$N.csv" ]; then
            "$BIN" generate results --batch 1 --seed 42 --out "$WORK/results-$N.csv" >/dev/null
            sort_by_reference "$WORK/results-$N.csv" "$WORK/results-$N-sorted.csv"
        fi
        LINES=$(($(wc -l < "$WORK/results-$N.csv") - 1))
        # The sorted file on a copy of the ledger as it stands before reconciling; the month goes on with the carrier's.
        SORTED_DB="$WORK/ledger-$N-sorted.sqlite"
        rm -f "$SORTED_DB" "$SORTED_DB-wal" "$SORTED_DB-shm"
        sqlite3 "$ALLOWANCE_DB" ".backup '$SORTED_DB'"
        measure "$N|reconcile" "$LINES" "$BIN" reconcile 1 "$WORK/results-$N.csv" --by auditor
        measure "$N|reconcile-sorted" "$LINES" "$BIN" reconcile 1 "$WORK/results-$N-sorted.csv" --by auditor --db "$SORTED_DB"
        rm -f "$SORTED_DB" "$SORTED_DB-wal" "$SORTED_DB-shm"
        measure "$N|verify" "$N" "$BIN" ledger verify
        "$BIN" audit keygen --out "$WORK/key-$N" >/dev/null
        measure "$N|audit-export" "$N" "$BIN" audit export --out "$WORK/audit-$N" --key "$WORK/key-$N" --by auditor
        measure "$N|audit-verify" "$N" "$BIN" audit verify "$WORK/audit-$N" --key "$WORK/key-$N"
        measure "$N|report" "$N" "$BIN" report noncash --from 2025-12 --to 2026-11 --format json
        measure "$N|sqlite3" "$LINES" bash scripts/baseline/sqlite3-classify.sh "$WORK/instructions-$N.csv" "$WORK/results-$N.csv"
        if [ "$HAVE_DUCKDB" = 1 ]; then
            measure "$N|duckdb" "$LINES" python3 scripts/baseline/duckdb-classify.py "$WORK/instructions-$N.csv" "$WORK/results-$N.csv"
        fi
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
wall() { echo "${WALLS[$1]:-}" | median; }
sum() { awk -v a="$1" -v b="$2" -v c="${3:-0}" 'BEGIN { printf "%.2f", a + b + c }'; }

# Steps as the issue's targets name them: create + approve + export, audit export + verify, each the sum of medians.
declare -A STEP_WALL STEP_RSS STEP_ROWS
for N in "${SIZES[@]}"; do
    for step in import reconcile reconcile-sorted verify report sqlite3 duckdb; do
        [ -n "${WALLS[$N|$step]:-}" ] || continue
        STEP_WALL[$N|$step]=$(wall "$N|$step"); STEP_RSS[$N|$step]=${PEAKS[$N|$step]}; STEP_ROWS[$N|$step]=${ROWS[$N|$step]}
    done
    STEP_WALL[$N|batch]=$(sum "$(wall "$N|create")" "$(wall "$N|approve")" "$(wall "$N|export")")
    STEP_RSS[$N|batch]=$(printf '%s\n' "${PEAKS[$N|create]}" "${PEAKS[$N|approve]}" "${PEAKS[$N|export]}" | sort -n | tail -1)
    STEP_ROWS[$N|batch]=$N
    STEP_WALL[$N|audit]=$(sum "$(wall "$N|audit-export")" "$(wall "$N|audit-verify")")
    STEP_RSS[$N|audit]=$(printf '%s\n' "${PEAKS[$N|audit-export]}" "${PEAKS[$N|audit-verify]}" | sort -n | tail -1)
    STEP_ROWS[$N|audit]=$N
done

STEPS=(import batch reconcile verify audit report)
declare -A LABEL=([import]="register import" [batch]="batch create + approve + export" [reconcile]="reconcile, carrier's order (postings included)"
    [reconcile-sorted]="reconcile, the same file sorted by reference"
    [verify]="ledger verify" [audit]="audit export + verify" [report]="non-cash report, 12 months"
    [sqlite3]="baseline: sqlite3 CLI classification" [duckdb]="baseline: DuckDB classification")
declare -A TARGET=([import]=15 [batch]=10 [reconcile]=5 [verify]=5 [audit]=10 [report]=2)
BIG="${SIZES[-1]}"
MID=""
[ ${#SIZES[@]} -ge 2 ] && MID="${SIZES[-2]}"

{
    echo "# Benchmarks"
    echo
    echo "Measured $(date -u +%Y-%m-%d) with \`scripts/bench.sh --runs $RUNS ${SIZES[*]}\`: each step a whole process under"
    echo "\`/usr/bin/time -v\`, release build, fresh ledger per run, median of $RUNS runs (wall seconds), peak RSS the largest over the runs."
    echo "Every beneficiary is on mobile money so that the result file is full size (generated, seed 42, in a carrier's order)."
    echo
    echo "Machine: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;"
    echo "$(. /etc/os-release && echo "$PRETTY_NAME"); $(swift --version 2>&1 | head -1); SQLite $(sqlite3 --version | cut -d' ' -f1)$( [ "$HAVE_DUCKDB" = 1 ] && echo "; DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)')")."
    echo
    printf '| step |'; for N in "${SIZES[@]}"; do printf ' N = %s: wall s | rows/s | peak MB |' "$N"; done; printf ' target at N = 1,000,000 |\n'
    printf '| --- |'; for N in "${SIZES[@]}"; do printf ' ---: | ---: | ---: |'; done; printf ' --- |\n'
    for step in "${STEPS[@]}" reconcile-sorted sqlite3 duckdb; do
        [ -n "${STEP_WALL[$BIG|$step]:-}" ] || continue
        printf '| %s |' "${LABEL[$step]}"
        for N in "${SIZES[@]}"; do
            w="${STEP_WALL[$N|$step]}"
            printf ' %s | %s | %s |' "$w" "$(awk -v r="${STEP_ROWS[$N|$step]}" -v w="$w" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')" "${STEP_RSS[$N|$step]}"
        done
        if [ -n "${TARGET[$step]:-}" ] && [ "$BIG" = 1000000 ]; then
            verdict=$(awk -v w="${STEP_WALL[$BIG|$step]}" -v t="${TARGET[$step]}" 'BEGIN { print (w <= t ? "met" : "**not met**") }')
            printf ' ≤ %s s: %s |\n' "${TARGET[$step]}" "$verdict"
        else
            printf ' |\n'
        fi
    done
    echo
    r="${STEP_WALL[$BIG|reconcile]}"
    echo "Reconcile at N = $BIG: ${r} s; the sqlite3 CLI's classification ${STEP_WALL[$BIG|sqlite3]} s (ratio $(awk -v a="$r" -v b="${STEP_WALL[$BIG|sqlite3]}" 'BEGIN { printf "%.1f", a / b }')×)$(
        [ -n "${STEP_WALL[$BIG|duckdb]:-}" ] && echo ", DuckDB's ${STEP_WALL[$BIG|duckdb]} s (ratio $(awk -v a="$r" -v b="${STEP_WALL[$BIG|duckdb]}" 'BEGIN { printf "%.1f", a / b }')×; target ≤ 4×)")."
    s="${STEP_WALL[$BIG|reconcile-sorted]}"
    echo "The same lines sorted by reference: ${s} s; the carrier's order takes $(awk -v a="$r" -v b="$s" 'BEGIN { printf "%.2f", a / b }')× as long (target ≤ 1.15×)."
    echo "The baselines only classify (load both files, clean spellings with SQL, join, count outcomes); ours also parses"
    echo "every quirk, records one outcome row per line, posts and hashes the settlements and moves the item states, in one transaction."
    echo
    max=0; for step in "${STEPS[@]}"; do max=$(( ${STEP_RSS[$BIG|$step]} > max ? ${STEP_RSS[$BIG|$step]} : max )); done
    echo "Peak memory of any step at N = $BIG: ${max} MB (target ≤ 300 MB)."
    if [ -n "$MID" ]; then
        echo
        printf 'Growth, time at N = %s ÷ time at N = %s (target ≤ 12): ' "$BIG" "$MID"
        for step in "${STEPS[@]}"; do
            printf '%s %s; ' "${LABEL[$step]}" "$(awk -v a="${STEP_WALL[$BIG|$step]}" -v b="${STEP_WALL[$MID|$step]}" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"
        done
        echo
    fi
    echo
    # The parts the targets sum, and every run's wall seconds at the largest N: what to aim at next, and how noisy the
    # machine was (a step's runs often differ by 20 % here).
    echo "Parts at N = $BIG (medians): batch create $(wall "$BIG|create") s, approve $(wall "$BIG|approve") s, export $(wall "$BIG|export") s;" \
        "audit export $(wall "$BIG|audit-export") s, audit verify $(wall "$BIG|audit-verify") s."
    printf 'Every run at N = %s (wall s):' "$BIG"
    for key in import create approve export reconcile reconcile-sorted verify audit-export audit-verify report sqlite3 duckdb; do
        [ -n "${WALLS[$BIG|$key]:-}" ] && printf ' %s%s;' "$key" "${WALLS[$BIG|$key]}"
    done
    echo
    # What earlier runs measured stays below the newest run: the history is kept by hand under its heading.
    if [ -f docs/BENCHMARKS.md ] && grep -q '^## History' docs/BENCHMARKS.md; then
        echo
        sed -n '/^## History/,$p' docs/BENCHMARKS.md
    fi
} > "$WORK/BENCHMARKS.md"
mkdir -p docs
cp "$WORK/BENCHMARKS.md" docs/BENCHMARKS.md
cat docs/BENCHMARKS.md
echo "work folder: $WORK" >&2
