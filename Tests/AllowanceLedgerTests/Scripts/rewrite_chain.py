#!/usr/bin/env python3
"""The review's rewrite (issue 19, path 4), as an insider with write access to the ledger file would do it.

Redirects one sealed item of an approved batch to another number, recomputes the batch's item seal and its
entitlement memo, rehashes every journal entry and the head, and restores the triggers it dropped, so that the file's
own checks (`ledger verify`) pass. Written from the README's description of the encodings, not from the project's code.

Usage: rewrite_chain.py LEDGER ITEM_ID NEW_MSISDN
"""
import hashlib
import sqlite3
import sys

path, item, msisdn = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = sqlite3.connect(path, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                      "('batch_item', 'batch', 'journal_entry', 'journal_head')").fetchall()
for name, _ in triggers:
    db.execute(f'DROP TRIGGER "{name}"')


def field(text):
    return f"{len(text.encode())}:{text}"


db.execute("UPDATE batch_item SET msisdn = ? WHERE id = ?", (msisdn, item))
(batch,) = db.execute("SELECT batch_id FROM batch_item WHERE id = ?", (item,)).fetchone()
seal = hashlib.sha256(b"allowance-batch-items/v1\n")
for row in db.execute("SELECT reference, beneficiary_id, method, carrier, msisdn, account_name, amount FROM batch_item "
                      "WHERE batch_id = ? ORDER BY seq", (batch,)):
    seal.update(("".join(field("-" if value is None else str(value)) + " " for value in row) + "\n").encode())
digest = seal.hexdigest()
period, maker, checker = db.execute("SELECT period, created_by, approved_by FROM batch WHERE id = ?", (batch,)).fetchone()
db.execute("UPDATE batch SET item_digest = ? WHERE id = ?", (digest, batch))
memo = f"Entitlements of batch {batch} for {period}, created by {maker}, approved by {checker}; items sha256 {digest}"
db.execute("UPDATE journal_entry SET memo = ? WHERE batch_id = ? AND kind = 'entitlement'", (memo, batch))

previous = "0" * 64
entries = db.execute("SELECT id, at, kind, idempotency_key, batch_id, memo, created_by FROM journal_entry ORDER BY id").fetchall()
for entry, at, kind, key, batch_id, memo, by in entries:
    text = f"allowance-ledger/v1\n{previous}\nE {entry} {field(at)} {field(kind)} {field(key)} " \
           f"{'-' if batch_id is None else batch_id} {field(by)} {field(memo)}\n"
    for leg, account, sub, beneficiary, item_id, amount in db.execute(
            "SELECT leg, account, sub_account, beneficiary_id, item_id, amount FROM posting WHERE entry_id = ? ORDER BY leg", (entry,)):
        text += f"P {leg} {field(account)} {field(sub)} {'-' if beneficiary is None else beneficiary} " \
                f"{'-' if item_id is None else item_id} {amount}\n"
    hashed = hashlib.sha256(text.encode()).hexdigest()
    db.execute("UPDATE journal_entry SET prev_hash = ?, hash = ? WHERE id = ?", (previous, hashed, entry))
    previous = hashed
db.execute("UPDATE journal_head SET hash = ? WHERE singleton = 1", (previous,))
for _, sql in triggers:
    db.execute(sql)
db.execute("COMMIT")
print(previous)
