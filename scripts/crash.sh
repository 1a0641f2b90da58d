#!/usr/bin/env bash
# Crash injection (issue 7): SIGKILLs `allowance` at seeded random moments inside `beneficiary import`,
# `batch create`, `batch approve`, `batch export` and `reconcile`, on generated data, and checks after every kill:
#   - `PRAGMA integrity_check` is ok and `allowance ledger verify` passes;
#   - every journal entry balances and no item is settled twice;
#   - the ledger is exactly as before the command or exactly as after it (a signature of every table's rows);
#   - a ledger that says the batch was exported has its instruction file;
#   - running the command again completes (a `batch create` or `approve` that had landed refuses to run twice), and
#     leaves the ledger as an uninterrupted run does.
#
#   scripts/crash.sh [--kills K] [--seed S] [--count N] [--bin PATH] [--only I]
#
# K kill points (default 250) go round the five commands; N beneficiaries (default 20,000). The seed (default: the
# time) is printed first; `--seed S --only I` replays kill point I alone. Exits 1 when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=250 SEED="" COUNT=20000 BIN="" ONLY=""
while [ $# -gt 0 ]; do
    case "$1" in
        --kills) KILLS="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --count) COUNT="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        *) echo "usage: scripts/crash.sh [--kills K] [--seed S] [--count N] [--bin PATH] [--only I]" >&2; exit 64 ;;
    esac
done
[ -n "$SEED" ] || SEED=$(( $(date +%s) % 1000000 ))
if [ -z "$BIN" ]; then
    swift build -c release --scratch-path .build-release --product allowance >/dev/null
    BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/allowance"
fi
command -v sqlite3 >/dev/null || { echo "crash.sh needs the sqlite3 CLI (apt-get install sqlite3)" >&2; exit 1; }
WORK="$(mktemp -d /tmp/allowance-crash.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export ALLOWANCE_DB="$WORK/ledger.sqlite" ALLOWANCE_NOW="2026-11-25T08:00:00Z" ALLOWANCE_USER="officer"
echo "crash.sh: seed $SEED, $KILLS kill points, $COUNT beneficiaries (replay one: scripts/crash.sh --seed $SEED --count $COUNT --only I)"

OPS=(import create approve export reconcile)
# The command of each operation; reconcile exits 2 when the file has exceptions, which generated files have.
command_of() {
    case "$1" in
        import) echo beneficiary import "$WORK/register.csv" --by officer ;;
        create) echo batch create --period 2026-11 --by maker ;;
        approve) echo batch approve 1 --by checker ;;
        export) echo batch export 1 --out "$WORK/instructions.csv" --by officer ;;
        reconcile) echo reconcile 1 "$WORK/results.csv" --by auditor ;;
    esac
}
succeeded() { [ "$1" -eq 0 ] || { [ "$2" = reconcile ] && [ "$1" -eq 2 ]; }; }

# Every table's row count and what matters of its content, in one line: the journal's head hash (the clock is fixed,
# so a run's entries hash the same every time), each batch's seal, the outcome rows' fingerprints.
signature() {
    sqlite3 "$ALLOWANCE_DB" "
        SELECT (SELECT COUNT(*) FROM beneficiary) || ' ' || (SELECT COUNT(*) FROM beneficiary_event) || ' '
            || (SELECT COUNT(*) FROM register_import) || ' ' || (SELECT COUNT(*) FROM flag) || ' '
            || (SELECT COALESCE(group_concat(id || ':' || status || ':' || COALESCE(item_count, '-') || ':' || COALESCE(item_digest, '-'), ','), '-') FROM batch) || ' '
            || (SELECT COUNT(*) FROM batch_item) || ' '
            || (SELECT COALESCE(group_concat(state || ':' || n, ','), '-') FROM (SELECT state, COUNT(*) n FROM item_state GROUP BY state ORDER BY state)) || ' '
            || (SELECT COUNT(*) FROM journal_entry) || ' ' || (SELECT COUNT(*) FROM posting) || ' '
            || (SELECT COALESCE(SUM(ABS(amount)), 0) FROM posting) || ' '
            || (SELECT COUNT(*) FROM result_file) || ' ' || (SELECT COUNT(*) FROM result_line) || ' '
            || (SELECT COALESCE(SUM(fingerprint % 1000003), 0) FROM result_line) || ' '
            || (SELECT COALESCE(MAX(hash), '-') FROM journal_head);"
}

# The checks that hold after any kill; prints what failed.
invariants() {
    local problems=""
    local integrity
    integrity=$(sqlite3 "$ALLOWANCE_DB" "PRAGMA integrity_check;" 2>&1 | head -3)
    [ "$integrity" = "ok" ] || problems+="integrity_check: $integrity; "
    "$BIN" ledger verify >"$WORK/verify.txt" 2>&1 || problems+="ledger verify failed: $(head -3 "$WORK/verify.txt" | tr '\n' ' '); "
    local unbalanced twice
    unbalanced=$(sqlite3 "$ALLOWANCE_DB" "SELECT COUNT(*) FROM (SELECT entry_id FROM posting GROUP BY entry_id HAVING SUM(amount) <> 0);")
    [ "$unbalanced" = 0 ] || problems+="$unbalanced unbalanced entries; "
    twice=$(sqlite3 "$ALLOWANCE_DB" "SELECT COUNT(*) FROM (SELECT item_id FROM result_line WHERE effect IS NOT NULL GROUP BY item_id
                                      HAVING SUM(effect = 'settle') - SUM(effect = 'reverse') > 1);")
    [ "$twice" = 0 ] || problems+="$twice items settled twice; "
    echo "$problems"
}

# The uninterrupted run: each operation's ledger before it, its signature after it, and how long it takes.
"$BIN" generate register --count "$COUNT" --seed "$SEED" --out "$WORK/register.csv" >/dev/null
"$BIN" init >/dev/null
declare -A BEFORE AFTER MILLIS
for op in "${OPS[@]}"; do
    if [ "$op" = export ]; then "$BIN" fund --amount 999999999999 --reference crash --by officer >/dev/null; fi
    if [ "$op" = reconcile ]; then "$BIN" generate results --batch 1 --seed "$SEED" --out "$WORK/results.csv" >/dev/null; fi
    cp "$ALLOWANCE_DB" "$WORK/before-$op.sqlite"
    BEFORE[$op]=$(signature)
    start=$(date +%s%N)
    status=0
    # shellcheck disable=SC2046
    "$BIN" $(command_of "$op") >/dev/null 2>&1 || status=$?
    succeeded "$status" "$op" || { echo "uninterrupted $op failed with $status" >&2; exit 1; }
    MILLIS[$op]=$(( ($(date +%s%N) - start) / 1000000 ))
    AFTER[$op]=$(signature)
    [ "${BEFORE[$op]}" != "${AFTER[$op]}" ] || { echo "uninterrupted $op changed nothing" >&2; exit 1; }
    [ -z "$(invariants)" ] || { echo "uninterrupted $op: $(invariants)" >&2; exit 1; }
done
echo "uninterrupted (ms): $(for op in "${OPS[@]}"; do printf '%s %s  ' "$op" "${MILLIS[$op]}"; done)"

RANDOM=$SEED
landed=0 finished=0 failures=0 whole=0 nothing=0
for kill in $(seq 1 "$KILLS"); do
    op=${OPS[$(( (kill - 1) % ${#OPS[@]} ))]}
    # A moment between the start and a little past the uninterrupted run's end, in milliseconds.
    delay=$(( (RANDOM * 32768 + RANDOM) % (MILLIS[$op] * 11 / 10 + 1) ))
    [ -z "$ONLY" ] || [ "$ONLY" = "$kill" ] || continue
    rm -f "$ALLOWANCE_DB" "$ALLOWANCE_DB-wal" "$ALLOWANCE_DB-shm" "$WORK/instructions.csv"
    cp "$WORK/before-$op.sqlite" "$ALLOWANCE_DB"
    # shellcheck disable=SC2046
    "$BIN" $(command_of "$op") >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -KILL "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; ran=killed; landed=$((landed + 1))
    else wait "$pid" 2>/dev/null || true; ran=finished; finished=$((finished + 1)); fi
    problems=$(invariants)
    now=$(signature)
    if [ "$now" = "${AFTER[$op]}" ]; then
        whole=$((whole + 1))
        if [ "$op" = export ] && [ ! -s "$WORK/instructions.csv" ]; then problems+="the ledger says exported but the instruction file is missing; "; fi
    elif [ "$now" = "${BEFORE[$op]}" ]; then
        nothing=$((nothing + 1))
        [ "$ran" = killed ] || problems+="the command finished but the ledger is as before; "
    else
        problems+="the ledger is neither as before nor as after: $now; "
    fi
    # Run again: it completes. Once they have landed, `batch create` refuses a second batch for the month and
    # `batch approve` a second approval; the other commands are idempotent.
    status=0
    # shellcheck disable=SC2046
    "$BIN" $(command_of "$op") >"$WORK/rerun.txt" 2>&1 || status=$?
    if { [ "$op" = create ] || [ "$op" = approve ]; } && [ "$now" = "${AFTER[$op]}" ]; then
        [ "$status" -ne 0 ] || problems+="a second batch $op succeeded; "
    else
        succeeded "$status" "$op" || problems+="the rerun failed with $status: $(head -2 "$WORK/rerun.txt" | tr '\n' ' '); "
    fi
    [ "$(signature)" = "${AFTER[$op]}" ] || problems+="after the rerun the ledger differs from an uninterrupted run; "
    if [ -n "$problems" ]; then
        failures=$((failures + 1))
        echo "FAIL kill $kill ($op, ${delay} ms, $ran): $problems replay: scripts/crash.sh --seed $SEED --count $COUNT --only $kill"
    fi
done
tried=$((landed + finished))
echo "crash.sh: $tried kill points ($landed mid-command, $finished after the command ended); ledger as after: $whole, as before: $nothing; failures: $failures (seed $SEED)"
[ "$failures" -eq 0 ]
