# Result file shaped like a Viettel Money disbursement report (illustrative column names): semicolon-separated,
# Vietnamese headers, day-first times, numeric status codes.
name = viettel
description = Viettel Money disbursement result (semicolon CSV, Vietnamese headers)
delimiter = ;
date_format = dd/MM/yyyy HH:mm:ss
column.reference = Mã tham chiếu
column.msisdn = Số thuê bao
column.amount = Số tiền (VNĐ)
column.status = Trạng thái
column.carrier_txn_id = Mã GD Viettel
column.completed_at = Thời gian
column.reason_code = Mã lỗi
column.reason_text = Mô tả lỗi
status.paid = 00
status.failed = 01 | 05 | 99
status.pending = 09
status.reversed = 20
