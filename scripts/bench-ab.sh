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
OLD="$(realpath "$1")" NEW="$(realpath "$2")" N="${3:-1000000}" ROUNDS="${4:-2}"
cd "$(dirname "$0")/.."
WORK="$(mktemp -d /tmp/allowance-ab.XXXXXX)"
# bench-lib's `timed` (a whole process under /usr/bin/time -v; reconcile's exit 2 counts as done) and its fixed clock.
source scripts/bench-lib.sh
# The register and result file come from a month the new build makes (bench-lib's setup_month); both builds number
# the batch and its items alike.
BIN="$NEW"
setup_month

# wall COMMAND…: the command's wall seconds.
wall() { timed "$@"; echo "$WALL"; }
for round in $(seq 1 "$ROUNDS"); do
    for which in old new; do
        BIN="$OLD"; [ "$which" = new ] && BIN="$NEW"
        export ALLOWANCE_DB="$WORK/$which.sqlite"
        rm -rf "$ALLOWANCE_DB" "$ALLOWANCE_DB-wal" "$ALLOWANCE_DB-shm" "$WORK/audit-$which" "$WORK/key-$which"
        sync
        i=$(wall "$BIN" beneficiary import "$WORK/register.csv" --by officer)
        c=$(wall "$BIN" batch create --period 2026-11 --by officer)
        a=$(wall "$BIN" batch approve 1 --by head)
        "$BIN" fund --amount 999999999999999 --reference bench --by officer >/dev/null
        e=$(wall "$BIN" batch export 1 --out "$WORK/instructions-$which.csv" --by officer)
        r=$(wall "$BIN" reconcile 1 "$WORK/results.csv" --by auditor)
        v=$(wall "$BIN" ledger verify)
        p=$(wall "$BIN" report noncash --from 2025-12 --to 2026-11 --format json)
        "$BIN" audit keygen --out "$WORK/key-$which" >/dev/null
        x=$(wall "$BIN" audit export --out "$WORK/audit-$which" --key "$WORK/key-$which" --by auditor)
        y=$(wall "$BIN" audit verify "$WORK/audit-$which" --key "$WORK/key-$which")
        echo "$which round $round: import $i create $c approve $a export $e reconcile $r verify $v report $p audit-export $x audit-verify $y"
    done
done
echo "work folder: $WORK"
