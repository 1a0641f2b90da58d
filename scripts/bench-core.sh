#!/usr/bin/env bash
# Times the core steps as whole processes in a release build: register import, batch create, approve,
# export, reconcile of a generated result file and ledger verify, at N beneficiaries (default 1,000,000).
# Prints wall seconds, rows/s and peak RSS (scripts/bench-lib.sh).
#
#   scripts/bench-core.sh [N] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
WORK="${2:-$(mktemp -d /tmp/allowance-bench.XXXXXX)}"
source scripts/bench-lib.sh

"$BIN" generate register --count "$N" --seed 42 --out "$WORK/register.csv" >/dev/null

printf '%-28s %10s %12s %12s\n' "step (N=$N)" "wall s" "rows/s" "peak RSS MB"
step "beneficiary import" "$BIN" beneficiary import "$WORK/register.csv" --by officer
step "batch create" "$BIN" batch create --period 2026-11 --by officer
step "batch approve" "$BIN" batch approve 1 --by head
step "batch export" "$BIN" batch export 1 --out "$WORK/instructions.csv" --by officer
"$BIN" generate results --batch 1 --seed 42 --out "$WORK/results.csv" >/dev/null
step "reconcile" "$BIN" reconcile 1 "$WORK/results.csv" --by auditor
step "ledger verify" "$BIN" ledger verify
echo "work folder: $WORK"
