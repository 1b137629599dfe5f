"""Reading Excel workbooks (.xlsx with openpyxl, .xls with xlrd) into a :class:`ReadResult`.

Self-evaluation tables (自评表) are often published as workbooks: one sheet per table, KPI tables
with merged cells for 一级指标/二级指标. Every sheet that has content becomes one
:class:`~pipeline.document.Table` (a real cell grid) preceded by a caption line with the sheet name.

Conventions, shared with the PDF and HTML readers:

* **merged cells**: the value stays in the top-left cell of the merged range; every other cell of
  the range is ``''`` (this is what both libraries report, and what a person reading the grid row by
  row expects: the 一级指标 ``产出指标`` appears once, in the first row it spans);
* cells are rendered as displayed where the display changes the meaning: a percentage format shows
  ``0.985`` as ``98.50%``; dates become ISO dates; other numbers are written plainly (``3402.07``,
  ``20``), without thousands separators;
* formulas give their cached result (what Excel or WPS last computed); a formula never computed
  (a workbook written by a script) reads as ``''``;
* hidden sheets are skipped (templates keep drop-down lists there) and listed in
  ``metadata["hidden_sheets"]``; fully empty rows are dropped and the grid is cropped to the cells
  with content.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.readers import ReaderError, ReadResult, file_head
from pipeline.readers.text import TextBuilder, clean_cell


def trim_grid(grid: list[list[str]]) -> tuple[list[list[str]], list[int], int]:
    """Drop fully empty rows and crop the columns to those with content; rows are padded to one
    width so the result is rectangular. Returns the grid, the sheet row number (from 1) of each
    row kept, and the sheet column index (from 0) of the grid's first column.

    >>> trim_grid([["", "", ""], ["", "a", ""], ["", "", "b"]])
    ([['a', ''], ['', 'b']], [2, 3], 1)
    """
    numbered = [(n, row) for n, row in enumerate(grid, 1) if any(cell for cell in row)]
    if not numbered:
        return [], [], 0
    width = max(len(row) for _, row in numbered)
    rows = [row + [""] * (width - len(row)) for _, row in numbered]
    used = [c for c in range(width) if any(row[c] for row in rows)]
    return [row[used[0]:used[-1] + 1] for row in rows], [n for n, _ in numbered], used[0]


def column_letter(index: int) -> str:
    """Excel's name of a column (from 0): ``A`` … ``Z``, ``AA`` ….

    >>> column_letter(0), column_letter(25), column_letter(27)
    ('A', 'Z', 'AB')
    """
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


# ---------------------------------------------------------------------------------------------
# Cell values
# ---------------------------------------------------------------------------------------------

def format_number(value: float | int) -> str:
    """A number as a person would type it: no ``.0`` on integers, no binary noise, no exponent.

    >>> format_number(20.0), format_number(3402.07), format_number(0.1 + 0.2), format_number(1e16)
    ('20', '3402.07', '0.3', '10000000000000000')
    """
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if float(value).is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


def _percent_decimals(number_format: str) -> int | None:
    """Decimals of a percentage number format (``0.00%`` → 2), ``None`` if not a percentage."""
    # strip quoted literals and bracketed colours/conditions before looking for '%'
    bare = re.sub(r'"[^"]*"|\[[^\]]*\]', "", number_format or "")
    if "%" not in bare:
        return None
    m = re.search(r"\.(0+)", bare.split("%")[0])
    return len(m.group(1)) if m else 0


def format_value(value: Any, number_format: str = "General") -> str:
    """One cell value as text (see the module docstring for the conventions).

    >>> format_value(0.985, "0.00%"), format_value(dt.datetime(2025, 5, 30)), format_value(None)
    ('98.50%', '2025-05-30', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (int, float)):
        decimals = _percent_decimals(number_format)
        if decimals is not None:
            return f"{value * 100:.{decimals}f}%"
        return format_number(value)
    return clean_cell(str(value))


# ---------------------------------------------------------------------------------------------
# The two workbook formats
# ---------------------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# The most cells a workbook may hold, counted before it is parsed: in its sheets' XML, and in the
# area of each merged range (openpyxl makes an object for every cell a range covers: one range
# A1:XFD1048576 in a 5 KB file is 17 billion of them). A scoring form has a few thousand.
MAX_CELLS = 500_000
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"')
_CELL = re.compile(rb"<(?:\w+:)?(?:c|row)[\s>/]")  # a cell or a row: each costs an object


def _column_number(letters: bytes) -> int:
    """>>> _column_number(b"A"), _column_number(b"XFD")
    (1, 16384)
    """
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def check_workbook_size(path: Path) -> None:
    """Refuse an .xlsx before it is parsed when it is a zip bomb (the docx reader's limits) or
    holds more than ``MAX_CELLS`` cells in its sheets or under one merged range. The sheets' XML
    is streamed, a megabyte at a time, within the zip-bomb limits."""
    from pipeline.readers.docx import open_zip_safely

    with open_zip_safely(path, kind="Excel workbook (.xlsx)") as archive:
        for member in archive.infolist():
            if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                continue
            cells, tail = 0, b""
            with archive.open(member) as fh:
                while chunk := fh.read(1 << 20):
                    data = tail + chunk
                    cells += sum(1 for m in _CELL.finditer(data) if m.end() > len(tail))
                    for m in _MERGE.finditer(data):
                        if m.end() <= len(tail):
                            continue  # seen in the previous megabyte
                        first_col, first_row, last_col, last_row = m.groups()
                        area = ((abs(_column_number(last_col or first_col) - _column_number(first_col)) + 1)
                                * (abs(int(last_row or first_row) - int(first_row)) + 1))
                        if area > MAX_CELLS:
                            ref = m.group(0).split(b'"')[1].decode()
                            raise ReaderError(f"{path.name} is refused: its merged range {ref} "
                                              f"covers {area:,} cells (over {MAX_CELLS:,}; a form "
                                              f"has a few thousand)", limit="cells")
                    if cells > MAX_CELLS:
                        raise ReaderError(f"{path.name} is refused: its sheet {member.filename} "
                                          f"holds over {MAX_CELLS:,} cells and rows (a form has a "
                                          f"few thousand)", limit="cells")
                    tail = data[-200:]


def _sheets_xlsx(path: Path) -> tuple[list[tuple[str, list[list[str]]]], list[str]]:
    """(visible sheets as (name, grid), hidden sheet names) of an .xlsx/.xlsm file, after
    :func:`check_workbook_size`. openpyxl parses with defusedxml (installed with jixiao): a DTD
    or an entity is refused, never expanded."""
    import openpyxl  # imported here: the PDF and HTML readers import this module's helpers

    check_workbook_size(path)
    try:
        # read_only=False because merged ranges are only known to a fully loaded sheet;
        # data_only=True gives cached formula results instead of formula text
        workbook = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors … on damaged files
        if _caused_by_entities(exc):
            raise ReaderError(f"{path.name} is refused: its XML declares entities or a DTD "
                              f"(a workbook never needs them; an entity bomb does)") from exc
        raise ReaderError(f"{path.name} could not be opened as an .xlsx workbook "
                          f"({type(exc).__name__}: {exc})") from exc
    sheets, hidden = [], []
    for ws in workbook.worksheets:
        if ws.sheet_state != "visible":
            hidden.append(ws.title)
            continue
        grid = [[format_value(cell.value, cell.number_format) for cell in row]
                for row in ws.iter_rows()]
        sheets.append((ws.title, grid))
    workbook.close()
    return sheets, hidden


def _caused_by_entities(exc: BaseException | None) -> bool:
    """Whether defusedxml refused a DTD or an entity somewhere in the exception's chain
    (openpyxl wraps it in a ValueError)."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__module__.startswith("defusedxml"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _sheets_xls(path: Path) -> tuple[list[tuple[str, list[list[str]]]], list[str]]:
    """(visible sheets as (name, grid), hidden sheet names) of a legacy .xls (BIFF) file."""
    import xlrd

    try:
        # formatting_info=True is what makes xlrd read merged ranges and number formats
        book = xlrd.open_workbook(str(path), formatting_info=True)
    except Exception as exc:  # xlrd.XLRDError, CompDocError, struct errors on damaged files
        hint = (" (an encrypted or password-protected workbook also looks like this)"
                if "workbook" in str(exc).lower() else "")
        raise ReaderError(f"{path.name} could not be opened as an .xls workbook "
                          f"({type(exc).__name__}: {exc}){hint}") from exc
    sheets, hidden = [], []
    for sheet in book.sheets():
        if sheet.visibility != 0:
            hidden.append(sheet.name)
            continue
        grid = []
        for r in range(sheet.nrows):
            row = []
            for c in range(sheet.ncols):
                cell = sheet.cell(r, c)
                row.append(_xls_value(book, cell))
            grid.append(row)
        sheets.append((sheet.name, grid))
    return sheets, hidden


def _xls_value(book: Any, cell: Any) -> str:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return format_value(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return format_number(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return format_value(bool(cell.value))
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        xf = book.xf_list[cell.xf_index] if cell.xf_index is not None else None
        fmt = book.format_map[xf.format_key].format_str if xf and xf.format_key in book.format_map \
            else "General"
        return format_value(cell.value, fmt)
    return clean_cell(str(cell.value))


def read_workbook(path: str | Path) -> ReadResult:
    """Read every visible sheet of an .xlsx or .xls workbook into a grid.

    The format is told by the file's first bytes, not its name (portals serve .xls files named
    .xlsx and the reverse). ``text`` has, per sheet, a caption line with the sheet name and then the
    table, one row per line with tab-separated cells; ``Block.where`` is ``sheet=NAME`` for the
    caption and ``sheet=NAME,row=N,cells=B3:H3`` for a row (the sheet's own row numbers).
    Raises :class:`ReaderError` for a file that is not a workbook, a damaged or encrypted one,
    and a workbook with no cell that has content.

    >>> r = read_workbook("tests/fixtures/generated/kpi_table.xls")  # doctest: +SKIP
    >>> r.tables[0].caption, r.tables[0].rows[0].cells[:3]            # doctest: +SKIP
    ('绩效自评表', ['一级指标', '二级指标', '三级指标'])
    """
    path = Path(path)
    magic = file_head(path)
    if magic.startswith(_ZIP_MAGIC):
        sheets, hidden = _sheets_xlsx(path)
        fmt = "xlsx"
    elif magic.startswith(_OLE2_MAGIC):
        sheets, hidden = _sheets_xls(path)
        fmt = "xls"
    else:
        raise ReaderError(f"{path.name} is not an Excel workbook (neither .xlsx nor .xls content)")

    builder = TextBuilder()
    read = []
    for name, grid in sheets:
        grid, row_numbers, first_col = trim_grid(grid)
        if not grid:
            continue
        builder.add_paragraph(name, where=f"sheet={name}")
        # a row's provenance: the sheet, its row number and the range of cells it was read from
        first, last = column_letter(first_col), column_letter(first_col + len(grid[0]) - 1)
        builder.add_table(grid, where=[f"sheet={name},row={n},cells={first}{n}:{last}{n}"
                                       for n in row_numbers], caption=name)
        read.append(name)
    if not read:
        raise ReaderError(f"{path.name} has no cells with content (sheets: "
                          f"{', '.join(n for n, _ in sheets) or 'none'}"
                          f"{'; hidden: ' + ', '.join(hidden) if hidden else ''})")
    metadata = {"format": fmt, "sheets": "\n".join(read)}
    if hidden:
        metadata["hidden_sheets"] = "\n".join(hidden)
    return builder.result(metadata)
