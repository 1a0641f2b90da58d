"""The baseline with DuckDB (pip install duckdb): both files read as text, then the same classification.

    python3 scripts/baseline/duckdb-classify.py INSTRUCTIONS.csv RESULTS.csv
"""
import pathlib
import sys

import duckdb

instructions, results = sys.argv[1], sys.argv[2]
db = duckdb.connect()
db.execute(f"CREATE TABLE instr AS SELECT * FROM read_csv('{instructions}', header = true, all_varchar = true)")
db.execute(f"CREATE TABLE res AS SELECT * FROM read_csv('{results}', header = true, all_varchar = true, strict_mode = false, null_padding = true)")
sql = (pathlib.Path(__file__).parent / "classify.sql").read_text()
for outcome, count in db.execute(sql).fetchall():
    print(f"{outcome}|{count}")
