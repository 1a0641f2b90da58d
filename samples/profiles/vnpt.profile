# Result file shaped like a VNPT Money payout export (illustrative column names): English headers, ISO 8601
# times with the +07:00 zone, its own status words.
name = vnpt
description = VNPT Money payout export (comma CSV, English headers)
delimiter = ,
date_format = iso8601
column.reference = Transaction Ref
column.msisdn = Phone Number
column.amount = Amount (VND)
column.status = Transaction Status
column.carrier_txn_id = VNPT Txn ID
column.completed_at = Completed Time
column.reason_code = Error Code
column.reason_text = Error Message
status.paid = Successful
status.failed = Declined | Expired
status.pending = In progress
status.reversed = Reversed by carrier
