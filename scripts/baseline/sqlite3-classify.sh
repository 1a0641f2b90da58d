#!/usr/bin/env bash
# The baseline with the sqlite3 CLI: .import both files into a fresh in-memory database, then classify.
#   scripts/baseline/sqlite3-classify.sh INSTRUCTIONS.csv RESULTS.csv
set -euo pipefail
sql="$(dirname "$0")/classify.sql"
sqlite3 :memory: <<SQL
CREATE TABLE instr(reference TEXT, msisdn TEXT, account_name TEXT, amount TEXT, narrative TEXT);
CREATE TABLE res(reference TEXT, msisdn TEXT, amount TEXT, status TEXT, carrier_txn_id TEXT, completed_at TEXT, reason_code TEXT, reason_text TEXT);
.import --csv --skip 1 $1 instr
.import --csv --skip 1 $2 res
CREATE INDEX instr_reference ON instr(reference);
CREATE INDEX res_reference ON res(reference);
.read $sql
SQL
