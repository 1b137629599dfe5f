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

This module also holds :class:`TextBuilder` and the cell/line helpers the other readers use, so
that every reader renders text, blocks and tables the same way.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import regex

from pipeline.document import Block, Table, TableRow
from pipeline.normalize import normalize
from pipeline.layout import caption_line
from pipeline.readers import ReaderError, ReadResult

# ---------------------------------------------------------------------------------------------
# Shared rendering helpers (used by pipeline.readers.pdf and pipeline.readers.html as well)
# ---------------------------------------------------------------------------------------------

# Characters after which/before which a line break or a layout gap means "no space": CJK
# ideographs, CJK and full-width punctuation, kana. Between two of these Chinese writes nothing.
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f"
                  r"\U00020000-\U0002fa1f“”‘’…—·]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]")


def needs_space(left: str, right: str) -> bool:
    """Whether text ending in ``left`` and text starting with ``right`` need a space between them
    when they are joined across a line break or a layout gap.

    Only two Latin words (or a word and a number) are separated; a CJK character on either side
    means no space (``2024`` + ``年度`` → ``2024年度``), and a number broken after its decimal
    point stays whole.

    >>> needs_space("年", "度"), needs_space("2024", "年"), needs_space("PDF", "file")
    (False, False, True)
    """
    if not left or not right:
        return False
    a, b = left[-1], right[0]
    if _CJK.match(a) or _CJK.match(b) or a.isspace() or b.isspace():
        return False
    if a in ".,-/" and b.isdigit():  # 3402. / 07 or 2024- / 05: one number wrapped
        return False
    return bool(_LATIN_WORD.match(a) or a in ",;:!?)") and bool(_LATIN_WORD.match(b) or b in "(")


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines of one paragraph or cell the Chinese way (see :func:`needs_space`).

    >>> join_lines(["村级组织覆盖", "数", "for each", "row"])
    '村级组织覆盖数for each row'
    """
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        out += (" " if needs_space(out, line) else "") + line
    return out


def clean_cell(value: str | None) -> str:
    """One table cell as it goes into a grid and into the text: ``None`` (a merged-over cell) is
    ``''``; wrapped lines inside the cell are joined the Chinese way; tabs and runs of spaces
    become one space, because the rendering uses tabs between cells and newlines between rows.

    >>> clean_cell("资金支付准确\\n率"), clean_cell(None), clean_cell(" a\\tb ")
    ('资金支付准确率', '', 'a b')
    """
    if value is None:
        return ""
    text = join_lines(str(value).replace("\r", "\n").split("\n"))
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


# A section marker opening a paragraph (一、 （二） 第三部分), for heading levels in sources whose
# structure is only visual (PDF, HTML); the level itself comes from the docx reader's rule.
_LEADING_MARKER = regex.compile(r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[)）]"
                                r"|第[一二三四五六七八九十百\d]+[章部节篇](?:分)?)")
HEADING_MAX_CHARS = 40


def heading_level(text: str) -> int | None:
    """Level of a short paragraph that starts with a section marker (``一、`` 1, ``（一）`` 2), else
    ``None``. A long paragraph, or one with a sentence in it, that merely starts with a marker is
    body text with a run-in title (``（一）项目概况。本项目…``).

    >>> heading_level("二、主要成效"), heading_level("（一）单位构成"), heading_level("（二）目标。保障。")
    (1, 2, None)
    """
    from pipeline.readers.docx import marker_level  # one rule for every reader

    text = text.strip()
    m = _LEADING_MARKER.match(text)
    if m is None or len(text) > HEADING_MAX_CHARS or regex.search(r"[。；;！？!?]", text[:-1]):
        return None
    return marker_level(m.group(0))


class TextBuilder:
    """Accumulates a reader's output so that every offset is right by construction.

    Blocks are separated by one newline; a table is rendered one row per line with cells joined by
    a tab, and each :class:`TableRow` keeps the offsets of its line.

    >>> b = TextBuilder()
    >>> _ = b.add_paragraph("一、基本情况", where="page=1", kind="heading")
    >>> t = b.add_table([["指标", "得分"], ["满意度", "10"]], where="page=1")
    >>> r = b.result({})
    >>> r.text
    '一、基本情况\\n指标\\t得分\\n满意度\\t10'
    >>> r.text[t.rows[1].start:t.rows[1].end]
    '满意度\\t10'
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []
        self.tables: list[Table] = []

    def _append(self, text: str) -> int:
        """Append ``text`` as a new block; returns its start offset."""
        if self._parts:
            self._parts.append("\n")
            self._length += 1
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start

    def add_paragraph(self, text: str, where: str, kind: str = "paragraph",
                      level: int | None = None) -> Block | None:
        """Add one paragraph (or heading); newlines inside ``text`` are kept as line breaks.
        Blank text adds nothing and returns ``None``."""
        text = text.strip("\n")
        if not text.strip():
            return None
        start = self._append(text)
        block = Block(kind=kind, start=start, end=start + len(text), where=where, level=level)
        self.blocks.append(block)
        return block

    def add_table(self, grid: list[list[str]], where: str | list[str],
                  caption: str | None = None) -> Table:
        """Add a table from a grid of already cleaned cells (see :func:`clean_cell`): one line and
        one ``table`` block per row. ``where`` is the provenance of every row, or a list with one
        entry per row (a PDF table continued over a page break has rows on two pages)."""
        table_id = f"t{len(self.tables)}"
        wheres = where if isinstance(where, list) else [where] * len(grid)
        rows: list[TableRow] = []
        for index, (cells, row_where) in enumerate(zip(grid, wheres)):
            line = "\t".join(cells)
            start = self._append(line)
            rows.append(TableRow(index=index, cells=list(cells), start=start,
                                 end=start + len(line)))
            self.blocks.append(Block(kind="table", start=start, end=start + len(line),
                                     where=row_where, table_id=table_id))
        table = Table(table_id=table_id, rows=rows, start=rows[0].start if rows else self._length,
                      end=rows[-1].end if rows else self._length, caption=caption, rendering="grid")
        self.tables.append(table)
        return table

    def caption_above(self) -> str | None:
        """The caption of a table about to be added: one of the two paragraphs right above it
        when it reads like one (``附件1-2``, ``附表2``, ``Sheet1`` …: the vocabulary of
        ``patterns/layout.yaml``, shared with the text layout and the docx reader)."""
        text = self.text
        for block in reversed(self.blocks[-2:]):
            if block.kind == "table":
                break
            line = text[block.start:block.end]
            if len(line) <= 60 and caption_line().search(normalize(line)):
                return line.strip()
        return None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def result(self, metadata: dict[str, str], ocr: bool = False) -> ReadResult:
        return ReadResult(text=self.text, blocks=self.blocks, tables=self.tables,
                          metadata=metadata, ocr=ocr)


def trim_grid(grid: list[list[str]]) -> list[list[str]]:
    """Drop fully empty rows and crop the columns to those with content; rows are padded to one
    width so the result is rectangular.

    >>> trim_grid([["", "", ""], ["", "a", ""], ["", "", "b"]])
    [['a', ''], ['', 'b']]
    """
    rows = [row for row in grid if any(cell for cell in row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    used = [c for c in range(width) if any(row[c] for row in rows)]
    return [row[used[0]:used[-1] + 1] for row in rows]


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


def _sheets_xlsx(path: Path) -> tuple[list[tuple[str, list[list[str]]]], list[str]]:
    """(visible sheets as (name, grid), hidden sheet names) of an .xlsx/.xlsm file."""
    import openpyxl  # imported here: the PDF and HTML readers import this module's helpers

    try:
        # read_only=False because merged ranges are only known to a fully loaded sheet;
        # data_only=True gives cached formula results instead of formula text
        workbook = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors … on damaged files
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
    table, one row per line with tab-separated cells; ``Block.where`` is ``sheet=NAME``.
    Raises :class:`ReaderError` for a file that is not a workbook, a damaged or encrypted one,
    and a workbook with no cell that has content.

    >>> r = read_workbook("tests/fixtures/generated/kpi_table.xls")  # doctest: +SKIP
    >>> r.tables[0].caption, r.tables[0].rows[0].cells[:3]            # doctest: +SKIP
    ('绩效自评表', ['一级指标', '二级指标', '三级指标'])
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise ReaderError(f"cannot read {path.name}: {exc.strerror}") from exc
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
        grid = trim_grid(grid)
        if not grid:
            continue
        where = f"sheet={name}"
        builder.add_paragraph(name, where=where)
        builder.add_table(grid, where=where, caption=name)
        read.append(name)
    if not read:
        raise ReaderError(f"{path.name} has no cells with content (sheets: "
                          f"{', '.join(n for n, _ in sheets) or 'none'}"
                          f"{'; hidden: ' + ', '.join(hidden) if hidden else ''})")
    metadata = {"format": fmt, "sheets": "\n".join(read)}
    if hidden:
        metadata["hidden_sheets"] = "\n".join(hidden)
    return builder.result(metadata)
