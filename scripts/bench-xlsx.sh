#!/usr/bin/env bash
# Times the same register imported as CSV and as xlsx, and the same batch's instructions written as CSV and as xlsx,
# alternately on fresh ledgers, release build (issue 21's targets: import ≤ 2×, write ≤ 3× the CSV form).
#
#   scripts/bench-xlsx.sh [N] [RUNS]     # default 1,000,000 beneficiaries, 3 runs; python3 (standard library)
#
# The workbook is made from the same register by scripts/csv-to-xlsx.py in Excel's shape (shared strings, a title row,
# dates as date cells, phone numbers as numbers); a second one with inline strings (openpyxl's streaming form, a sheet
# three times larger) is timed too.
set -euo pipefail
N="${1:-1000000}" RUNS="${2:-3}"
cd "$(dirname "$0")/.."
WORK="$(mktemp -d /tmp/allowance-xlsx.XXXXXX)"
source scripts/bench-lib.sh
"$BIN" generate register --count "$N" --seed 7 --mobile-percent 100 --out "$WORK/register.csv" >/dev/null
python3 scripts/csv-to-xlsx.py "$WORK/register.csv" "$WORK/register.xlsx"
python3 scripts/csv-to-xlsx.py "$WORK/register.csv" "$WORK/register.inline" --inline
printf "register: %s bytes as CSV, %s as xlsx, %s with inline strings\n" "$(stat -c %s "$WORK/register.csv")" \
    "$(stat -c %s "$WORK/register.xlsx")" "$(stat -c %s "$WORK/register.inline")"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$WORK/import-csv.txt"; : > "$WORK/import-xlsx.txt"; : > "$WORK/import-inline.txt"; : > "$WORK/export-csv.txt"; : > "$WORK/export-xlsx.txt"
for run in $(seq 1 "$RUNS"); do
    for form in csv xlsx inline; do
        export ALLOWANCE_DB="$WORK/$form.sqlite"
        rm -f "$ALLOWANCE_DB" "$ALLOWANCE_DB-wal" "$ALLOWANCE_DB-shm"
        sync
        timed "$BIN" beneficiary import "$WORK/register.$form" --by officer
        echo "$WALL $RSS" >> "$WORK/import-$form.txt"
        printf "run %s  import %-4s %8.2f s %6s MB\n" "$run" "$form" "$WALL" "$RSS"
    done
done
# The instruction file of one approved batch, written both ways from the same ledger.
export ALLOWANCE_DB="$WORK/csv.sqlite"
"$BIN" batch create --period 2026-11 --by officer >/dev/null
"$BIN" batch approve 1 --by head >/dev/null
"$BIN" fund --amount 999999999999999 --reference bench --by officer >/dev/null
for run in $(seq 1 "$RUNS"); do
    for form in csv xlsx; do
        timed "$BIN" batch export 1 --out "$WORK/instructions.$form" --by officer
        echo "$WALL $RSS" >> "$WORK/export-$form.txt"
        printf "run %s  export %-4s %8.2f s %6s MB  (%s bytes)\n" "$run" "$form" "$WALL" "$RSS" "$(stat -c %s "$WORK/instructions.$form")"
    done
done
ic=$(cut -d' ' -f1 "$WORK/import-csv.txt" | median); ix=$(cut -d' ' -f1 "$WORK/import-xlsx.txt" | median)
ii=$(cut -d' ' -f1 "$WORK/import-inline.txt" | median)
ec=$(cut -d' ' -f1 "$WORK/export-csv.txt" | median); ex=$(cut -d' ' -f1 "$WORK/export-xlsx.txt" | median)
printf "\nN = %s, median of %s\n" "$N" "$RUNS"
printf "import   CSV %6.2f s  xlsx %6.2f s  ratio %.2f (target ≤ 2)   peak RSS xlsx %s MB\n" "$ic" "$ix" "$(awk -v a="$ix" -v b="$ic" 'BEGIN{print a/b}')" "$(cut -d' ' -f2 "$WORK/import-xlsx.txt" | sort -n | tail -1)"
printf "import   inline strings %6.2f s  ratio %.2f\n" "$ii" "$(awk -v a="$ii" -v b="$ic" 'BEGIN{print a/b}')"
printf "export   CSV %6.2f s  xlsx %6.2f s  ratio %.2f (target ≤ 3)   peak RSS xlsx %s MB\n" "$ec" "$ex" "$(awk -v a="$ex" -v b="$ec" 'BEGIN{print a/b}')" "$(cut -d' ' -f2 "$WORK/export-xlsx.txt" | sort -n | tail -1)"
rm -rf "$WORK"
