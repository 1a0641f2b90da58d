# The common form, built in as `--profile generic`; this file documents it and can be copied to start a new
# carrier's profile. Every key but name is optional; a column's own field name always matches too.
name = generic
description = The common result-file form
delimiter = ,
date_format = iso8601
column.reference = reference
column.msisdn = msisdn
column.amount = amount
column.status = status
column.carrier_txn_id = carrier_txn_id
column.completed_at = completed_at
column.reason_code = reason_code
column.reason_text = reason_text
