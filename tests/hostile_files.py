"""Hostile files for the tests (issue 10), made on demand, small on disk and huge or endless when
parsed naively. ``python tests/hostile_files.py DIR`` writes them all into DIR.

Each maker takes a folder, writes one file and returns its path.
"""
from __future__ import annotations

import io
import re
import sys
import zipfile
import zlib
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


# -- PDFs (issue 10): drawing work, pages, OCR pages, a text layer without Unicode maps ---------
# Written as raw PDF bytes (no PDF writer is installed), except the garbled text layer, which is a
# real page (a committed rendering) with its fonts' ToUnicode maps blanked out.

_RENDERED_PDF = Path(__file__).parent / "fixtures" / "rendered" / "004_d31b608c1de2d819.pdf"


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1; object 1 is the catalog), with its xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)  # 20 bytes an entry
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, attrs: bytes = b"", compress: bool = True) -> bytes:
    """A stream object holding ``data`` (Flate-compressed unless ``compress`` is false)."""
    if compress:
        data, attrs = zlib.compress(data, 9), attrs + b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), attrs, data)


def _pages(count: int, page: bytes, extra: list[bytes]) -> bytes:
    """A PDF of ``count`` A4 pages, each with the attributes ``page`` (which may refer to the
    objects ``extra``, numbered from 3 + count)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                 b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)]
                + [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] %s >>" % page] * count
                + extra)


def path_bomb(folder: Path) -> Path:
    """One page drawing 2,000,001 path operators (666,667 strokes of ``m l S``): 9 MB of content
    stream in 18 KB on disk."""
    content = _stream(b"1 1 m 2 2 l S\n" * 666_667)
    path = folder / "path_bomb.pdf"
    path.write_bytes(_pages(1, b"/Contents 4 0 R", [content]))
    return path


def form_bomb(folder: Path) -> Path:
    """One page drawing a form of 1,000 path operators 1,000 times: a million operators that
    are not in the page's own content stream."""
    form = _stream(b"1 1 m 2 2 l S\n" * 333 + b"n", b" /Type /XObject /Subtype /Form "
                   b"/BBox [0 0 10 10]")
    content = _stream(b"/Fm0 Do\n" * 1000)
    path = folder / "form_bomb.pdf"
    path.write_bytes(_pages(1, b"/Resources << /XObject << /Fm0 4 0 R >> >> /Contents 5 0 R",
                            [form, content]))
    return path


def content_bomb(folder: Path) -> Path:
    """One page whose content stream inflates to 64 MiB of white space (64 KB on disk)."""
    path = folder / "content_bomb.pdf"
    path.write_bytes(_pages(1, b"/Contents 4 0 R", [_stream(b" " * (64 * 2**20))]))
    return path


def many_pages(folder: Path) -> Path:
    """2,000 blank pages."""
    path = folder / "many_pages.pdf"
    path.write_bytes(_pages(2000, b"", []))
    return path


def many_scanned_pages(folder: Path) -> Path:
    """A scan of 100 pages, each page one image (the same 8 x 8 grey one: small on disk)."""
    count = 100
    image = _stream(bytes([128]) * 64, b" /Type /XObject /Subtype /Image /Width 8 /Height 8 "
                    b"/ColorSpace /DeviceGray /BitsPerComponent 8", compress=False)
    content = _stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    page = b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R" % (3 + count, 4 + count)
    path = folder / "many_scanned_pages.pdf"
    path.write_bytes(_pages(count, page, [image, content]))
    return path


def garbled_text_layer(folder: Path) -> Path:
    """The first page of a rendered report with its fonts' ToUnicode maps removed: it still
    shows Chinese text, but its text layer reads ``(cid:1)(cid:2)…`` (the way PDFs from some
    printer drivers and typesetting systems come). The references are blanked out with spaces,
    so every offset in the xref table stays right."""
    import pypdfium2

    source = pypdfium2.PdfDocument(str(_RENDERED_PDF))
    first_page = pypdfium2.PdfDocument.new()
    first_page.import_pages(source, [0])
    buffer = io.BytesIO()
    first_page.save(buffer)
    first_page.close()
    source.close()
    data = re.sub(rb"/ToUnicode\s+\d+\s+\d+\s+R", lambda m: b" " * len(m.group()),
                  buffer.getvalue())
    path = folder / "garbled_text_layer.pdf"
    path.write_bytes(data)
    return path


# refused files go with the others; a garbled text layer is read (by OCR), not refused
MAKERS += (path_bomb, form_bomb, content_bomb, many_pages, many_scanned_pages)
READ_BY_OCR = (garbled_text_layer,)
# -- end of PDFs --------------------------------------------------------------------------------


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    target.mkdir(parents=True, exist_ok=True)
    for make in MAKERS + READ_BY_OCR:
        print(make(target))
