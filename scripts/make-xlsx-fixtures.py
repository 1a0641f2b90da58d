#!/usr/bin/env python3
"""Makes the workbooks the xlsx tests read, the way offices and carriers make them.

    pip install openpyxl msoffcrypto-tool      # and Debian's libreoffice for the LibreOffice-saved files
    python3 scripts/make-xlsx-fixtures.py [OUT]   # default (or -) Tests/AllowanceLedgerTests/Golden/xlsx

openpyxl writes what Python tools write (shared strings, formulas without cached values); LibreOffice re-saves some of
them as Calc does and converts one to .xls; a few files are written by hand (inline strings, a prefixed namespace,
sparse rows without references, the 1904 date system, error values) and a few are hostile (a path outside the archive,
a zip bomb, an entity declaration). The output is committed; rerun this when a case is added.
"""
import csv
import datetime
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import openpyxl
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Font

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else os.path.join(ROOT, "Tests", "AllowanceLedgerTests", "Golden", "xlsx")
HEADER = ["national_id", "full_name", "date_of_birth", "gender", "commune_code", "category", "payment_method", "carrier", "msisdn"]
FIXED = datetime.datetime(2026, 12, 1, 8, 0, 0)


def register_rows():
    with open(os.path.join(ROOT, "samples", "register.csv"), encoding="utf-8") as f:
        return list(csv.DictReader(f))


def save(workbook, name):
    workbook.properties.created = FIXED
    workbook.properties.modified = FIXED
    path = os.path.join(OUT, name)
    workbook.save(path)
    return path


def typed_register():
    """The register as an office keeps it: a title, a note sheet first, dates as dates, phones as numbers."""
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Hướng dẫn"
    notes["A1"] = "Điền danh sách ở trang sau. Không sửa dòng tiêu đề."
    ws = wb.create_sheet("Danh sách")
    ws["A1"] = "DANH SÁCH ĐỐI TƯỢNG HƯỞNG TRỢ CẤP XÃ HỘI HÀNG THÁNG"
    ws.merge_cells("A1:I1")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "Xã Minh Phú (tên xã là ví dụ)"
    ws.merge_cells("A2:I2")
    ws.append([])
    ws.append(HEADER)
    for index, row in enumerate(register_rows()):
        values = [row[c] for c in HEADER]
        birth = datetime.datetime.strptime(row["date_of_birth"], "%Y-%m-%d")
        if index % 3 == 0:
            values[2] = birth
        elif index % 3 == 1:
            values[2] = birth.strftime("%d/%m/%Y")
        msisdn = row["msisdn"]
        if msisdn and index % 2 == 0:
            digits = msisdn[1:] if msisdn.startswith("0") else msisdn
            values[8] = int(digits)
        if row["carrier"] == "VIETTEL" and index % 4 == 1:
            values[7] = "Viettel Money"
        if index == 1:
            values[1] = CellRichText([TextBlock(InlineFont(b=True), row["full_name"].split(" ")[0] + " "),
                                      " ".join(row["full_name"].split(" ")[1:])])
        ws.append(values)
        cell = ws.cell(row=ws.max_row, column=3)
        if isinstance(values[2], datetime.datetime):
            cell.number_format = "dd/mm/yyyy"
    ws.append([])
    ws.append([None] * 9)
    return save(wb, "register-typed.xlsx")


def damaged_register():
    """Lines a spreadsheet broke: IDs kept as numbers, an error value, a formula nobody calculated."""
    rows = register_rows()[:6]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(HEADER)
    for index, row in enumerate(rows):
        values = [row[c] for c in HEADER]
        if index == 0:
            values[0] = int(values[0])
        elif index == 1:
            values[0] = "5.11612E+10"
        elif index == 2:
            values[1] = "#N/A"
        elif index == 3:
            values[1] = "=UPPER(B2)"
        ws.append(values)
        if index == 2:
            ws.cell(row=ws.max_row, column=2).data_type = "e"
    return save(wb, "register-damaged.xlsx")


def date1904_register():
    rows = register_rows()[:3]
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        values = [row[c] for c in HEADER]
        values[2] = datetime.datetime.strptime(row["date_of_birth"], "%Y-%m-%d")
        ws.append(values)
        ws.cell(row=ws.max_row, column=3).number_format = "yyyy-mm-dd"
    return save(wb, "register-1904.xlsx")


def results_workbook():
    """A carrier's result file as Excel: amounts and numbers as numbers, times as date-time cells."""
    with open(os.path.join(ROOT, "samples", "results-generic.csv"), encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        lines = list(reader)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "KetQua"
    ws["A1"] = "KẾT QUẢ CHI TRẢ"
    ws.append(header)
    for line in lines:
        values = list(line)
        for i, name in enumerate(header):
            if name == "amount" and values[i].isdigit():
                values[i] = int(values[i])
            elif name == "msisdn" and values[i].isdigit():
                values[i] = int(values[i].lstrip("0")) if values[i].startswith("0") else int(values[i])
            elif name == "completed_at" and values[i]:
                try:
                    values[i] = datetime.datetime.strptime(values[i][:19], "%Y-%m-%dT%H:%M:%S")
                except ValueError:
                    pass
        ws.append(values)
        for i, name in enumerate(header):
            if name == "completed_at" and isinstance(values[i], datetime.datetime):
                ws.cell(row=ws.max_row, column=i + 1).number_format = "dd/mm/yyyy hh:mm:ss"
    return save(wb, "results-generic.xlsx")


def formula_register():
    """Names made by formulas: openpyxl saves them uncalculated; LibreOffice's save keeps each one's value."""
    rows = register_rows()[:3]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(HEADER)
    for row in rows:
        values = [row[c] for c in HEADER]
        first, rest = values[1].split(" ", 1)
        values[1] = f'="{first}"&" {rest}"'
        ws.append(values)
    return save(wb, "register-formula.xlsx")


def macro_register(source):
    """The typed register saved as a macro-enabled workbook: the macros are a part nobody reads."""
    path = os.path.join(OUT, "register-macro.xlsm")
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in original.infolist():
            out.writestr(item, original.read(item.filename))
        info = zipfile.ZipInfo("xl/vbaProject.bin", date_time=(2026, 12, 1, 0, 0, 0))
        out.writestr(info, b"\xd0\xcf\x11\xe0" + b"Attribute VB_Name = \"Module1\"\nSub AutoOpen()\nEnd Sub\n")
    return path


def write_zip(name, parts, compression=zipfile.ZIP_DEFLATED):
    path = os.path.join(OUT, name)
    with zipfile.ZipFile(path, "w", compression) as z:
        for part, text in parts:
            info = zipfile.ZipInfo(part, date_time=(2026, 12, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, text)
    return path


CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/>
</Relationships>"""


def workbook_xml(prefix="", date1904=False):
    p = prefix + ":" if prefix else ""
    ns = f' xmlns:{prefix}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if prefix else ' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    pr = f'<{p}workbookPr date1904="true"/>' if date1904 else ""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}workbook{ns} '
            f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">{pr}'
            f'<{p}sheets><{p}sheet name="Data" sheetId="1" r:id="rId1"/></{p}sheets></{p}workbook>')


def handmade_register():
    """Inline strings, an `x:` prefix on every element, rows and cells without references, empty trailing cells,
    entities, booleans in a column nobody reads, and a CDATA name."""
    rows = register_rows()[:4]
    def cell(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;")
        return f'<x:c t="inlineStr"><x:is><x:t>{text}</x:t></x:is></x:c>'
    body = ['<x:row>' + "".join(cell(h) for h in HEADER) + cell("checked") + '</x:row>']
    for index, row in enumerate(rows):
        cells = [cell(row[c]) for c in HEADER]
        if index == 0:
            cells[1] = '<x:c t="inlineStr"><x:is><x:r><x:t>' + row["full_name"].split(" ")[0] + ' </x:t></x:r><x:r><x:t><![CDATA[' + " ".join(row["full_name"].split(" ")[1:]) + ']]></x:t></x:r></x:is></x:c>'
        if index == 1:
            cells[5] = '<x:c t="inlineStr"><x:is><x:t>&#69;LDERLY_80</x:t></x:is></x:c>' if row["category"] == "ELDERLY_80" else cells[5]
        if row["payment_method"] == "cash":
            cells = cells[:7]
        else:
            cells.append('<x:c t="b"><x:v>1</x:v></x:c>')
        body.append('<x:row>' + "".join(cells) + '</x:row>')
    sheet = ('<?xml version="1.0" encoding="UTF-8"?>\n<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<x:sheetData>' + "".join(body) + '<x:row/></x:sheetData></x:worksheet>')
    return write_zip("register-handmade.xlsx", [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                                                ("xl/workbook.xml", workbook_xml("x")), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
                                                ("xl/worksheets/sheet1.xml", sheet)])


def hostile():
    entity = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
              '<c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    base = [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS), ("xl/workbook.xml", workbook_xml()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)]
    write_zip("hostile-entities.xlsx", base + [("xl/worksheets/sheet1.xml", entity)])
    write_zip("hostile-path.xlsx", base + [("xl/worksheets/sheet1.xml", "<worksheet/>"), ("../../evil.txt", "x")])
    bomb = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + " " * (64 << 20) + '</sheetData></worksheet>')
    write_zip("hostile-bomb.xlsx", base + [("xl/worksheets/sheet1.xml", bomb)])


def libreoffice(source, target_format, name):
    """Saves `source` again through LibreOffice Calc, as an office that uses LibreOffice does."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        print(f"skipped {name}: no libreoffice (apt-get install libreoffice-calc)")
        return
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, HOME=work)
        subprocess.run([office, "--headless", "--norestore", f"-env:UserInstallation=file://{work}/profile",
                        "--convert-to", target_format, "--outdir", work, source], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        produced = os.path.join(work, os.path.splitext(os.path.basename(source))[0] + "." + target_format.split(":")[0])
        shutil.move(produced, os.path.join(OUT, name))


def encrypt(source):
    from msoffcrypto.format.ooxml import OOXMLFile
    with open(source, "rb") as plain:
        data = plain.read()
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("mat-khau-1", out)
    with open(os.path.join(OUT, "register-password.xlsx"), "wb") as f:
        f.write(out.getvalue())


def main():
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[2:] == ["--only-formula-and-macro"]:
        formula = formula_register()
        libreoffice(formula, "xlsx", "register-formula-libreoffice.xlsx")
        macro_register(os.path.join(OUT, "register-typed.xlsx"))
        return
    typed = typed_register()
    damaged_register()
    date1904_register()
    results_workbook()
    handmade_register()
    hostile()
    libreoffice(typed, "xlsx", "register-libreoffice.xlsx")
    libreoffice(typed, "xls", "register-old.xls")
    encrypt(typed)
    formula = formula_register()
    libreoffice(formula, "xlsx", "register-formula-libreoffice.xlsx")
    macro_register(typed)
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>9}  {name}")


if __name__ == "__main__":
    main()
