"""Hostile files for the tests (issue 10), made on demand, small on disk and huge or endless when
parsed naively. ``python tests/hostile_files.py DIR`` writes them all into DIR.

Each maker takes a folder, writes one file and returns its path.
"""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import openpyxl

_SHEET = "xl/worksheets/sheet1.xml"


def _workbook_with_sheet(path: Path, sheet_xml: bytes) -> Path:
    """A real .xlsx (made by openpyxl) whose first sheet's XML is replaced by ``sheet_xml``."""
    buffer = io.BytesIO()
    book = openpyxl.Workbook()
    book.active["A1"] = "一级指标"
    book.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in src.infolist():
            out.writestr(item.filename, sheet_xml if item.filename == _SHEET else src.read(item))
    return path


_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def merged_range_bomb(folder: Path) -> Path:
    """One merged range A1:XFD1048576 (17 billion cells) in a 5 KB file."""
    xml = (_HEAD + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
           b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
           b"</worksheet>")
    return _workbook_with_sheet(folder / "merged_bomb.xlsx", xml)


def million_rows(folder: Path) -> Path:
    """A sheet of 1,000,000 rows (compresses to about a megabyte)."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i)
                    for i in range(1, 1_000_001))
    return _workbook_with_sheet(folder / "million_rows.xlsx", _HEAD + b"<sheetData>" + rows
                                + b"</sheetData></worksheet>")


def entity_bomb(folder: Path) -> Path:
    """Billion laughs in a sheet: ten levels of entities, each ten of the one below."""
    entities = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10))
    xml = (b'<?xml version="1.0"?><!DOCTYPE worksheet [' + entities + b"]>"
           + _HEAD.split(b"?>", 1)[1] + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
           b"<t>&l9;</t></is></c></row></sheetData></worksheet>")
    return _workbook_with_sheet(folder / "entity_bomb.xlsx", xml)


def zip_bomb(folder: Path) -> Path:
    """A sheet that inflates to 300 MB of spaces (about 300 KB on disk)."""
    path = folder / "zip_bomb.xlsx"
    _workbook_with_sheet(path, _HEAD + b"<sheetData/>" + b" " * (300 * 2**20) + b"</worksheet>")
    return path


def percent_signs(folder: Path) -> Path:
    """1.1 MB of ``1%，`` under a heading: 220,000 percentages and no sentence end in sight."""
    path = folder / "percent_signs.txt"
    path.write_text("一、基本情况\n" + "1%，" * 220_000, encoding="utf-8")
    return path


MAKERS = (merged_range_bomb, million_rows, entity_bomb, zip_bomb, percent_signs)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    target.mkdir(parents=True, exist_ok=True)
    for make in MAKERS:
        print(make(target))
