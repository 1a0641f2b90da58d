#!/usr/bin/env python3
"""Writes a register or result CSV as an xlsx workbook shaped the way Excel saves one: every text in a shared-strings
table (Excel's form; openpyxl's streaming mode writes inline strings instead, three times the sheet), a title row above
the header, dates as date cells (1900 system, dd/mm/yyyy), amounts and phone numbers as numbers (the 0 dropped),
national IDs and references as text.

    python3 scripts/csv-to-xlsx.py IN.csv OUT.xlsx [--inline]     # standard library only

Streams the rows; the shared strings are held once in memory, as Excel holds them. `--inline` writes inline strings,
as openpyxl's write-only mode and some reporting tools do.
"""
import csv
import datetime
import sys
import zipfile
from xml.sax.saxutils import escape

source, target = sys.argv[1], sys.argv[2]
inline = "--inline" in sys.argv[3:]
EPOCH = datetime.date(1899, 12, 30)
KINDS = {"date_of_birth": "date", "completed_at": "time", "amount": "number", "msisdn": "number"}


def column(index):
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def main():
    strings, order = {}, []

    def text(ref, value):
        if inline:
            return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        index = strings.get(value)
        if index is None:
            index = strings[value] = len(order)
            order.append(value)
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    info = lambda name: zipfile.ZipInfo(name, date_time=(2026, 12, 1, 0, 0, 0))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        sheet_info = info("xl/worksheets/sheet1.xml")
        sheet_info.compress_type = zipfile.ZIP_DEFLATED
        with open(source, encoding="utf-8-sig", newline="") as f, z.open(sheet_info, "w", force_zip64=True) as out:
            reader = csv.reader(f)
            header = next(reader)
            kinds = [KINDS.get(name, "text") for name in header]
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
                      b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            out.write(('<row r="1">' + text("A1", "DANH SÁCH (tệp sinh để đo tốc độ)") + '</row>').encode())
            out.write(('<row r="2">' + "".join(text(column(i) + "2", name) for i, name in enumerate(header)) + '</row>').encode())
            rows = []
            for number, row in enumerate(reader, start=3):
                cells = []
                for i, (kind, value) in enumerate(zip(kinds, row)):
                    ref = f"{column(i)}{number}"
                    if value == "":
                        continue
                    if kind == "date" and len(value) == 10 and value[4] == "-":
                        day = (datetime.date.fromisoformat(value) - EPOCH).days
                        cells.append(f'<c r="{ref}" s="1"><v>{day}</v></c>')
                    elif kind == "time" and len(value) >= 19 and value[4] == "-":
                        moment = datetime.datetime.fromisoformat(value[:19].replace(" ", "T"))
                        serial = (moment.date() - EPOCH).days + (moment.hour * 3600 + moment.minute * 60 + moment.second) / 86400
                        cells.append(f'<c r="{ref}" s="2"><v>{serial!r}</v></c>')
                    elif kind == "number" and value.isdigit():
                        cells.append(f'<c r="{ref}"><v>{int(value)}</v></c>')
                    else:
                        cells.append(text(ref, value))
                rows.append(f'<row r="{number}">' + "".join(cells) + "</row>")
                if len(rows) == 2000:
                    out.write("".join(rows).encode())
                    rows = []
            out.write("".join(rows).encode())
            out.write(b"</sheetData></worksheet>")
        parts = {
            "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
            "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Danh sách" sheetId="1" r:id="rId1"/></sheets></workbook>',
            "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm:ss"/></numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="165" applyNumberFormat="1"/></cellXfs></styleSheet>',
        }
        for name, body in parts.items():
            z.writestr(info(name), body, compress_type=zipfile.ZIP_DEFLATED)
        shared = info("xl/sharedStrings.xml")
        shared.compress_type = zipfile.ZIP_DEFLATED
        with z.open(shared, "w", force_zip64=True) as out:
            out.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                      f'count="{len(order)}" uniqueCount="{len(order)}">'.encode())
            for start in range(0, len(order), 5000):
                out.write("".join(f"<si><t>{escape(value)}</t></si>" for value in order[start:start + 5000]).encode())
            out.write(b"</sst>")


main()
