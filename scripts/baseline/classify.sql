-- The reconciliation's matching, classification only, as a user would write it with a SQL tool: both files loaded as
-- text (tables instr and res), numbers and amounts cleaned of their spellings, each result line classified, then the
-- items no line names. Counts per outcome. Used by scripts/bench.sh for the sqlite3 CLI and DuckDB side by side.
WITH r AS (
    SELECT reference, carrier_txn_id,
           replace(replace(replace(replace(replace(replace(msisdn, ' ', ''), '+', ''), '(', ''), ')', ''), '.', ''), '-', '') AS m,
           replace(replace(replace(amount, '.', ''), ',', ''), ' ', '') AS a,
           lower(trim(status)) AS s,
           row_number() OVER (PARTITION BY reference ORDER BY carrier_txn_id) AS n
    FROM res),
c AS (
    SELECT r.*, CASE WHEN substr(m, 1, 1) = '0' THEN '84' || substr(m, 2) WHEN length(m) = 9 THEN '84' || m ELSE m END AS number
    FROM r),
outcome AS (
    SELECT CASE
        WHEN i.reference IS NULL THEN 'unknown_reference'
        WHEN c.n > 1 THEN 'duplicate'
        WHEN c.a <> i.amount THEN 'amount_mismatch'
        WHEN c.number <> i.msisdn THEN 'msisdn_mismatch'
        WHEN c.s IN ('success', 'succeeded', 'ok', 'paid', 'completed', 'thành công') THEN 'paid'
        WHEN c.s IN ('failed', 'fail', 'error', 'rejected', 'thất bại') THEN 'failed'
        WHEN c.s IN ('pending', 'processing', 'đang xử lý') THEN 'pending'
        WHEN c.s IN ('reversed', 'refunded', 'hoàn tiền') THEN 'reversed'
        ELSE 'invalid_line' END AS outcome
    FROM c LEFT JOIN instr i ON i.reference = c.reference
    UNION ALL
    SELECT 'missing' FROM instr i WHERE NOT EXISTS (SELECT 1 FROM res WHERE res.reference = i.reference))
SELECT outcome, COUNT(*) FROM outcome GROUP BY outcome ORDER BY outcome;
