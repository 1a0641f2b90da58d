#!/usr/bin/env bash
# Builds three months (September to November 2026) of a generated office whose mobile-money coverage grows each
# month (cash beneficiaries linking accounts), writes the non-cash HTML report over the three months, and renders it
# with Debian's headless chromium to docs/noncash-report.png (the picture in the README).
#
#   scripts/report-picture.sh [WORKDIR]      (needs: apt-get install chromium fonts-noto-core)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-$(mktemp -d /tmp/allowance-picture.XXXXXX)}"
mkdir -p "$WORK"
swift build --product allowance >/dev/null
BIN="$(swift build --show-bin-path)/allowance"
export ALLOWANCE_DB="$WORK/ledger.sqlite"
rm -f "$ALLOWANCE_DB" "$ALLOWANCE_DB-wal" "$ALLOWANCE_DB-shm"

ALLOWANCE_NOW=2026-09-01T08:00:00Z "$BIN" init --office "UBND xã Tân Phú (dữ liệu mẫu)" >/dev/null
ALLOWANCE_NOW=2026-09-01T08:00:00Z "$BIN" generate register --count 3000 --seed 7 --mobile-percent 35 --out "$WORK/register.csv" >/dev/null
ALLOWANCE_NOW=2026-09-01T08:00:00Z "$BIN" beneficiary import "$WORK/register.csv" --skip-invalid --by officer >/dev/null 2>&1 || true

# Every NTH cash beneficiary links a Viettel account: the register file rewritten, imported as an update.
link_accounts() {
    local nth="$1" offset="$2" out="$3"
    awk -F, -v OFS=, -v nth="$nth" -v offset="$offset" 'NR == 1 { print; next }
        $7 == "cash" && (NR % nth) == 0 { $7 = "mobile_money"; $8 = "VIETTEL"; $9 = sprintf("09%08d", offset + NR) } { print }' \
        "$WORK/register.csv" > "$out"
    cp "$out" "$WORK/register.csv"
}

month() {
    local period="$1" batch="$2" day="${1}-20T08:00:00Z"
    ALLOWANCE_NOW="$day" "$BIN" batch create --period "$period" --by officer >/dev/null
    ALLOWANCE_NOW="$day" "$BIN" batch approve "$batch" --by head >/dev/null
    ALLOWANCE_NOW="$day" "$BIN" fund --amount 5000000000 --reference "QD-$period" --by head >/dev/null
    ALLOWANCE_NOW="$day" "$BIN" batch export "$batch" --out "$WORK/instructions-$period.csv" --by officer >/dev/null
    ALLOWANCE_NOW="$day" "$BIN" batch settle-cash "$batch" --all --by officer >/dev/null
    ALLOWANCE_NOW="$day" "$BIN" generate results --batch "$batch" --seed "$batch" --out "$WORK/results-$period.csv" >/dev/null
    ALLOWANCE_NOW="$day" "$BIN" reconcile "$batch" "$WORK/results-$period.csv" --by auditor >/dev/null 2>&1 || [ $? -eq 2 ]
}

month 2026-09 1
link_accounts 3 10000000 "$WORK/register-10.csv"
ALLOWANCE_NOW=2026-10-01T08:00:00Z "$BIN" beneficiary import "$WORK/register-10.csv" --skip-invalid --by officer >/dev/null 2>&1 || true
month 2026-10 2
link_accounts 2 20000000 "$WORK/register-11.csv"
ALLOWANCE_NOW=2026-11-01T08:00:00Z "$BIN" beneficiary import "$WORK/register-11.csv" --skip-invalid --by officer >/dev/null 2>&1 || true
month 2026-11 3

ALLOWANCE_NOW=2026-11-30T08:00:00Z "$BIN" report noncash --from 2026-09 --to 2026-11 --format html --out "$WORK/noncash.html" >/dev/null
ALLOWANCE_NOW=2026-11-30T08:00:00Z "$BIN" report noncash --from 2026-09 --to 2026-11
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=820,1500 \
    --screenshot="$PWD/docs/noncash-report.png" "file://$WORK/noncash.html" >/dev/null 2>&1
echo "wrote docs/noncash-report.png from $WORK/noncash.html"
