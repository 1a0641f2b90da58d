#!/usr/bin/env bash
# Times a month's steps with two builds of `allowance`, alternately, on the same generated files: the way to tell a
# change from this machine's noise (it varies ±20 % from minute to minute).
#
#   scripts/bench-ab.sh OLD_BINARY NEW_BINARY [N] [ROUNDS]     # N beneficiaries (default 1,000,000), 2 rounds
#
# Build the old one from a worktree, e.g. `git worktree add /tmp/old COMMIT && (cd /tmp/old && swift build -c release
# --scratch-path .build-release --product allowance)`, binary in /tmp/old/.build-release/release/allowance. Each build
# makes its own ledger from the register (an older build cannot open a ledger a newer one migrated), then: create,
# approve, export, reconcile of the result file, ledger verify, the 12-month report, audit export and verify.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,10p' "$0"; exit 64; }
OLD="$1" NEW="$2" N="${3:-1000000}" ROUNDS="${4:-2}"
WORK="$(mktemp -d /tmp/allowance-ab.XXXXXX)"
export ALLOWANCE_NOW="2026-11-25T08:00:00Z"
"$NEW" generate register --count "$N" --seed 42 --mobile-percent 100 --out "$WORK/register.csv" >/dev/null
# The result file comes from a month the new build makes; both builds number the batch and its items alike.
export ALLOWANCE_DB="$WORK/setup.sqlite"
"$NEW" beneficiary import "$WORK/register.csv" --by officer >/dev/null
"$NEW" batch create --period 2026-11 --by officer >/dev/null
"$NEW" batch approve 1 --by head >/dev/null
"$NEW" fund --amount 999999999999999 --reference bench --by officer >/dev/null
"$NEW" batch export 1 --out "$WORK/setup-instructions.csv" --by officer >/dev/null
"$NEW" generate results --batch 1 --seed 42 --out "$WORK/results.csv" >/dev/null

# timed COMMAND…: wall seconds; reconcile's exit 2 (exceptions, on purpose in generated files) counts as done.
timed() {
    /usr/bin/time -f "%e" -o "$WORK/time.txt" "$@" >/dev/null 2>&1 || [ $? -eq 2 ] || { echo "failed: $*" >&2; exit 1; }
    tail -1 "$WORK/time.txt"
}
for round in $(seq 1 "$ROUNDS"); do
    for which in old new; do
        BIN="$OLD"; [ "$which" = new ] && BIN="$NEW"
        export ALLOWANCE_DB="$WORK/$which.sqlite"
        rm -rf "$ALLOWANCE_DB" "$ALLOWANCE_DB-wal" "$ALLOWANCE_DB-shm" "$WORK/audit-$which" "$WORK/key-$which"
        sync
        i=$(timed "$BIN" beneficiary import "$WORK/register.csv" --by officer)
        c=$(timed "$BIN" batch create --period 2026-11 --by officer)
        a=$(timed "$BIN" batch approve 1 --by head)
        "$BIN" fund --amount 999999999999999 --reference bench --by officer >/dev/null
        e=$(timed "$BIN" batch export 1 --out "$WORK/instructions-$which.csv" --by officer)
        r=$(timed "$BIN" reconcile 1 "$WORK/results.csv" --by auditor)
        v=$(timed "$BIN" ledger verify)
        p=$(timed "$BIN" report noncash --from 2025-12 --to 2026-11 --format json)
        "$BIN" audit keygen --out "$WORK/key-$which" >/dev/null
        x=$(timed "$BIN" audit export --out "$WORK/audit-$which" --key "$WORK/key-$which" --by auditor)
        y=$(timed "$BIN" audit verify "$WORK/audit-$which" --key "$WORK/key-$which")
        echo "$which round $round: import $i create $c approve $a export $e reconcile $r verify $v report $p audit-export $x audit-verify $y"
    done
done
echo "work folder: $WORK"
