#!/usr/bin/env python3
"""Writes a register or result CSV as an xlsx workbook the way Excel keeps one: shared strings, a title row above the
header, dates as date cells, amounts and phone numbers as numbers (the 0 dropped), national IDs as text.

    python3 scripts/csv-to-xlsx.py IN.csv OUT.xlsx          # pip install openpyxl

openpyxl's write-only mode streams the rows, so a million lines take a few minutes and little memory.
"""
import csv
import datetime
import sys

import openpyxl
from openpyxl.cell import WriteOnlyCell

source, target = sys.argv[1], sys.argv[2]
workbook = openpyxl.Workbook(write_only=True)
sheet = workbook.create_sheet("Danh sách")
with open(source, encoding="utf-8-sig", newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    sheet.append(["DANH SÁCH (tệp sinh để đo tốc độ)"])
    sheet.append(header)
    kinds = {"date_of_birth": "date", "completed_at": "time", "amount": "number", "msisdn": "phone"}
    columns = [kinds.get(name, "text") for name in header]
    for row in reader:
        values = []
        for kind, value in zip(columns, row):
            if kind == "date" and len(value) == 10:
                cell = WriteOnlyCell(sheet, datetime.datetime.strptime(value, "%Y-%m-%d"))
                cell.number_format = "dd/mm/yyyy"
                values.append(cell)
            elif kind == "time" and len(value) >= 19:
                cell = WriteOnlyCell(sheet, datetime.datetime.strptime(value[:19].replace(" ", "T"), "%Y-%m-%dT%H:%M:%S"))
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
                values.append(cell)
            elif kind in ("number", "phone") and value.isdigit():
                values.append(int(value))
            else:
                values.append(value)
        sheet.append(values)
workbook.properties.created = workbook.properties.modified = datetime.datetime(2026, 12, 1)
workbook.save(target)
