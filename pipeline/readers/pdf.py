"""Reading PDF reports (pdfplumber, with RapidOCR for scanned pages) into a :class:`ReadResult`.

What a PDF gives is glyphs with positions, not paragraphs. This reader rebuilds the text a person
reads:

1. **Tables** are found per page with pdfplumber's ``find_tables`` (ruled tables, the way Word and
   WPS print 自评表) and read into grids; their glyphs are then left out of the running text so no
   figure is read twice. A table continued on the next page (nothing between; as wide, or with
   as many columns) is joined into one: the columns of the two pieces are lined up by their
   x positions (each page's rulings may divide the table differently, merged cells keep their
   text in the first column they span), a repeated header row is dropped, and a row broken over
   the page break (the last row's cells filled to their edges, the first row of the next page
   with text only in those columns) is made whole again.
2. **Lines** are rebuilt from glyphs. A gap between two glyphs becomes a space only between Latin
   words: PDF producers widen the spacing around digits in Chinese text (``机构 5个``), which is
   layout, not a character.
3. **Running headers, footers and page numbers** are removed: lines in the top or bottom band of
   the page whose text (digits ignored) recurs at the same height on most pages, and page-number
   lines there (``- 3 -``, ``第 3 页``, ``3/12``, a bare number).
4. **Paragraphs**: wrapped lines are joined the Chinese way (no space between CJK characters);
   a new paragraph starts when the previous line stops short of the right margin (short by more
   than the line's first unbreakable unit would have needed: ``盖。``, ``2795.16``, ``行“四``, as
   flush-left text wraps such a unit whole), the line is indented or centred, the previous line
   is centred or right-aligned (a signature, a date), the font size changes, the vertical gap is
   wide, or the line starts with a section marker (``一、``, ``（二）``). Margins are measured
   per paper format (portrait text pages, landscape 自评表 pages). A paragraph continues across a
   page break.
5. **Scanned pages** (no text layer, but an image or vector drawing) and **garbled pages** (a
   text layer that does not read: fonts without a Unicode map, see :func:`garbled_share`) are
   rendered and read with RapidOCR (models ship inside ``rapidocr-onnxruntime``; nothing is
   downloaded); the OCR lines go through steps 3 and 4 like text lines and ``ReadResult.ocr`` is
   set. Tables on these pages are read as text lines, not grids. OCR takes about 4 s a page on
   one core, so a PDF with more such pages than :data:`OCR_MAX_PAGES` is refused (before any OCR
   runs) instead of taking hours.

Before any page is laid out, :func:`pipeline.readers.pdf_check.check_pdf` refuses a PDF of too
many pages or too much drawing work (the limits are there).

``Block.where`` is ``page=N`` (1-based; a paragraph that runs over a page break has the page it
starts on, a table row the page it is on). ``metadata`` has ``pages``, ``ocr_pages`` (``"2,3"``)
when OCR ran, ``garbled_pages`` when some pages' text layer did not read (they are OCRed, or
skipped with ``ocr=False``), and ``skipped_scanned_pages`` when scanned pages were skipped with
``ocr=False``.

Known limits: a vertically merged cell whose text runs on to the next page leaves that rest in the
next page's first row; tables without ruling lines are read as text lines; a table on a scanned
page is read as text lines.
"""
from __future__ import annotations

import functools
import os
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.readers import ReaderError, ReadResult
from pipeline.readers.pdf_check import check_pdf
from pipeline.readers.text import TextBuilder, clean_cell, heading_level, join_lines, needs_space

# A page is "scanned" when it has fewer real glyphs than this (a stamped page number on a scan
# must not stop OCR) and something drawn on it.
MIN_TEXT_CHARS = 5
# A page's text layer is garbled when at least this share of its glyphs do not read (see
# garbled_share): a Chinese report's page has none of them, one with a symbol font's bullets a
# few per cent, a page whose CJK font has no Unicode map over half (digits and Latin text may
# still read).
GARBLED_SHARE = 0.3
# Pages one PDF may have OCRed, unless the environment variable JIXIAO_OCR_MAX_PAGES says
# otherwise: the longest reports have about 60 pages, which OCR reads in about 4 minutes on one
# core (0.27 pages/s, bench/RESULTS.md); the 2,000-page scan of issue 10 would take two hours.
OCR_MAX_PAGES = 60
OCR_MAX_PAGES_VARIABLE = "JIXIAO_OCR_MAX_PAGES"
# OCR input: RapidOCR shrinks images to 2000 px on the long side, so rendering larger only wastes
# time; 200 dpi caps small pages.
OCR_MAX_SIDE_PX = 2000
OCR_MAX_DPI = 200
# Lines on the pages of one paper format needed to measure its own margins (fewer: the margins
# of the main format are used, shifted to the page width).
MIN_FORMAT_LINES = 20
# Header/footer band: the top and bottom share of the page height where running lines live.
BAND = 0.12

_PAGE_NUMBER = re.compile(r"""^\s*(?:
      [-—–－]?\s*\d{1,4}\s*[-—–－]?                    # 3   - 3 -   —3—
    | 第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?  # 第 3 页   第3页 共12页
    | \d{1,4}\s*/\s*\d{1,4}                             # 3/12
    | (?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?  # Page 3 of 12
    )\s*$""", re.VERBOSE | re.IGNORECASE)

# Section markers that always open a paragraph even after a full-width line.
_SECTION_START = re.compile(r"""^(?:
      [一二三四五六七八九十]{1,3}、(?![一二三四五六七八九十]) # 一、 (not 一、二季度)
    | [（(][一二三四五六七八九十]{1,3}[)）]            # （一）
    | 第[一二三四五六七八九十]{1,3}[章节部分]           # 第一部分
    | \d{1,2}、(?!\d)                                  # 1、
    )""", re.VERBOSE)

# Line-breaking rules (禁则): punctuation that never starts a line and openers that never end one.
# A line wrapped before a unit of text "unit + its closing punctuation" had no room for it.
_NO_LINE_START = set("、，。．：；！？）］｝」』】》〉”’…‥—～％‰·,.;:!?)]}%")
_NO_LINE_END = set("（［｛「『【《〈“‘([{")
_QUOTES = set("“”‘’\"'")

_BOLD_FONT = re.compile(r"bold|heavy|black|semibold|demi|黑体|hei", re.IGNORECASE)


@dataclass
class _Line:
    """One visual line of text on a page, in PDF points (origin top-left)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # font size (for OCR lines: estimated from the box height)
    bold: bool
    page: int
    ocr: bool = False
    # width of the line's first unbreakable unit (a CJK character with the punctuation that may
    # not start a line, or a Latin word / number): what would have had to fit at the end of the
    # previous line for it to continue there
    lead: float = 0.0

    @property
    def size_tolerance(self) -> float:
        """Relative size difference that counts as a change of font: OCR box heights vary by
        ±20 % along one paragraph, glyph sizes from a text layer do not vary at all."""
        return 0.4 if self.ocr else 0.15


@dataclass
class _PageTable:
    grid: list[list[str]]
    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom
    page: int
    row_pages: list[int] = field(default_factory=list)  # set when continued on later pages
    # x of the column boundaries (one more than the columns), to line the table up with its
    # continuation on the next page, whose rulings may divide it differently
    cols: list[float] = field(default_factory=list)
    # columns whose cell in the last row is filled to its right and bottom edges: text that may
    # go on in the first row of the continuation (a row broken over the page break)
    last_full: set[int] = field(default_factory=set)

    @property
    def top(self) -> float:
        return self.bbox[1]


@dataclass
class _Page:
    number: int
    width: float
    height: float
    lines: list[_Line] = field(default_factory=list)
    tables: list[_PageTable] = field(default_factory=list)
    ocr: bool = False


# ---------------------------------------------------------------------------------------------
# Text layer
# ---------------------------------------------------------------------------------------------

def _inside(obj: dict[str, Any], bboxes: list[tuple[float, float, float, float]]) -> bool:
    """Whether an object's centre lies in one of the boxes (x0, top, x1, bottom)."""
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in bboxes)


def _line_text(chars: list[dict[str, Any]]) -> str:
    """Text of one line from its glyphs (left to right), spacing decided by :func:`needs_space`.

    A real space glyph is kept between Latin words; a layout gap wider than 1.5 em (a form's
    label and value) is kept as one space whatever the script. Gaps are measured beyond the
    line's tracking (the gap most of its glyphs keep): a letter-spaced line (``收 入 3 4 0 2``
    in the text layer) reads ``收入3402``.
    """
    glyphs = [ch for ch in chars if ch["text"] and not ch["text"].isspace()]
    gaps = sorted(b["x0"] - a["x1"] for a, b in zip(glyphs, glyphs[1:]))
    tracking = max(0.0, gaps[len(gaps) // 2]) if len(gaps) >= 4 else 0.0
    if glyphs and tracking > max(float(glyphs[0].get("size") or 0), 1.0):
        tracking = 0.0  # gaps of more than an em are columns (a form row), not letter spacing
    out = ""
    prev: dict[str, Any] | None = None
    pending_space = False
    for ch in chars:
        glyph = ch["text"]
        if not glyph or glyph.isspace():
            pending_space = pending_space or prev is not None
            continue
        if prev is not None and out:
            size = max(float(ch.get("size") or 0), 1.0)
            gap = ch["x0"] - prev["x1"] - tracking
            if gap > 1.5 * size:
                out += " "
            elif (pending_space or gap > 0.15 * size) and needs_space(out, glyph):
                out += " "
        out += glyph
        prev, pending_space = ch, False
    return out


def _lead_length(glyphs: list[str]) -> int:
    """How many of a line's first glyphs form its first unbreakable unit: a Latin word or number
    (``2795.16``) or one CJK character, with the punctuation after it that may not start a line
    (``盖。``, ``个，``), opening brackets with what follows them, and quotation marks with what
    is on both sides of them (Unicode line breaking does not break at a ``“`` or ``”``:
    ``行“四包一”责``). ``''`` stands for a space."""
    n = len(glyphs)

    def word(i: int) -> int:
        """End of the unit starting at ``i``: openers, then a Latin word or one character."""
        while i < n and glyphs[i] in _NO_LINE_END:
            i += 1
        if i < n and glyphs[i].isascii() and glyphs[i].isalnum():
            while i < n and glyphs[i] and glyphs[i].isascii() and not glyphs[i].isspace() \
                    and glyphs[i] not in _NO_LINE_END and glyphs[i] not in _QUOTES:
                i += 1
            return i
        return min(i + 1, n)

    i = 0
    while i < n and not glyphs[i]:
        i += 1
    i = word(i)
    while i < n and glyphs[i]:
        if glyphs[i] in _NO_LINE_END:  # an opening quote: glued to what follows it
            i = word(i + 1)
        elif glyphs[i] in _QUOTES:  # a closing (or straight) quote: to both sides
            i += 1
            if i < n and glyphs[i] and glyphs[i] not in _NO_LINE_START | _QUOTES:
                i = word(i)
        elif glyphs[i] in _NO_LINE_START:
            i += 1
        else:
            break
    return min(i, n)


def _estimated_lead(text: str, size: float) -> float:
    """The width of a line's first unit (see :func:`_lead_length`) when there are no glyph
    positions (OCR): full-width characters take an em, others half an em."""
    glyphs = [g if not g.isspace() else "" for g in text]
    return sum(size if ord(g or " ") > 0x2000 else 0.5 * size
               for g in glyphs[:_lead_length(glyphs)])


def _text_lines(page: Any, exclude: list[tuple[float, float, float, float]]) -> list[_Line]:
    """Lines of a page's text layer, outside the given table boxes, top to bottom."""
    visible = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, exclude))
    lines = []
    for raw in visible.extract_text_lines(return_chars=True, strip=True):
        chars = sorted(raw["chars"], key=lambda c: c["x0"])
        text = _line_text(chars)
        if not text:
            continue
        glyphs = [c for c in chars if c["text"].strip()]
        sizes = [float(c.get("size") or 0) for c in glyphs] or [10.0]
        bold = all(_BOLD_FONT.search(str(c.get("fontname", ""))) for c in glyphs)
        # the first unit's extent, up to the first real space glyph
        lead_chars = chars[:_lead_length([c["text"] if c["text"].strip() else ""
                                          for c in chars])]
        lead_glyphs = [c for c in lead_chars if c["text"].strip()]
        lead = lead_glyphs[-1]["x1"] - lead_glyphs[0]["x0"] if lead_glyphs else 0.0
        lines.append(_Line(text=text, x0=raw["x0"], x1=raw["x1"], top=raw["top"],
                           bottom=raw["bottom"], size=statistics.median(sizes), bold=bold,
                           page=page.page_number, lead=lead))
    return lines


def _full_cells(page: Any, cells: list[Any]) -> set[int]:
    """Indexes of the cells (bboxes, or None where a merged cell goes on) whose last text line
    reaches the cell's right edge and its bottom: the text may go on past the cell's end."""
    full = set()
    chars = [c for c in page.chars if c["text"].strip()]
    for j, cell in enumerate(cells):
        if cell is None:
            continue
        x0, top, x1, bottom = cell
        inside = [c for c in chars if x0 <= (c["x0"] + c["x1"]) / 2 <= x1
                  and top <= (c["top"] + c["bottom"]) / 2 <= bottom]
        if not inside:
            continue
        last_top = max(c["top"] for c in inside)
        last = [c for c in inside if c["top"] > last_top - 2]
        size = statistics.median(float(c.get("size") or 10) for c in last)
        if x1 - max(c["x1"] for c in last) < 1.5 * size + 3 \
                and bottom - max(c["bottom"] for c in last) < size + 3:
            full.add(j)
    return full


def _page_tables(page: Any) -> list[_PageTable]:
    """Ruled tables of a page as cleaned grids. A one-column "table", or a one-row one with less
    than two cells filled, is a framed text box (Word draws those too), so it is left to be read
    as text; a one-row table with content in two cells is kept (the first row of a table that
    goes on over the page)."""
    tables = []
    for found in page.find_tables():
        rows = found.extract()
        kept = [i for i, row in enumerate(rows) if any(clean_cell(cell) for cell in row)]
        grid = [[clean_cell(cell) for cell in rows[i]] for i in kept]
        if not grid or max(len(row) for row in grid) < 2 \
                or len(grid) == 1 and sum(1 for cell in grid[0] if cell) < 2:
            continue
        x1 = float(found.bbox[2])
        cols = [float(col.bbox[0]) for col in found.columns] + [x1]
        last_full = _full_cells(page, found.rows[kept[-1]].cells)
        tables.append(_PageTable(grid=grid, bbox=tuple(found.bbox), page=page.page_number,
                                 cols=cols, last_full=last_full))
    return tables


def _same_columns(a: list[float], b: list[float], tolerance: float = 3.0) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b))


def _union_columns(a: list[float], b: list[float], tolerance: float = 3.0) -> list[float]:
    """The column boundaries of two pieces of one table together (boundaries closer than the
    tolerance are one)."""
    out: list[float] = []
    for x in sorted(a + b):
        if out and x - out[-1] <= tolerance:
            continue
        out.append(x)
    return out


def _column_map(cols: list[float], union: list[float]) -> list[int]:
    """For each column of a piece, the column of the union it starts in."""
    return [min(range(len(union) - 1), key=lambda k: abs(union[k] - x)) for x in cols[:-1]]


def _realign(grid: list[list[str]], cols: list[float], union: list[float]) -> list[list[str]]:
    """A piece's grid spread over the union's columns: a cell that spans several of them keeps
    its text in the first (the convention for merged cells) and leaves the others empty."""
    where = _column_map(cols, union)
    out = []
    for row in grid:
        new = [""] * (len(union) - 1)
        for j, cell in enumerate(row):
            if cell:
                k = where[j] if j < len(where) else len(new) - 1
                new[k] = join_lines([new[k], cell]) if new[k] else cell
        out.append(new)
    return out


def _continues(pending: _PageTable, item: _PageTable) -> bool:
    """Whether ``item`` is ``pending`` going on after a page break (nothing between them): on
    the next page, and as wide (rulings may split the columns differently on the two pages), or
    with as many columns."""
    if item.page != pending.page + 1:
        return False
    if len(item.grid[0]) == len(pending.grid[0]):
        return True
    return bool(pending.cols and item.cols) \
        and abs(pending.cols[0] - item.cols[0]) <= 3 and abs(pending.cols[-1] - item.cols[-1]) <= 3


def _join_tables(pending: _PageTable, item: _PageTable) -> _PageTable:
    """One table of ``pending`` and its continuation ``item``: columns lined up, the header row
    Word repeats on the new page dropped, and a row broken over the page break made whole again
    (its first part fills its cells to their edges, the rest is in cells of the same columns)."""
    first, rest = pending.grid, item.grid
    cols, last_full = pending.cols, set(pending.last_full)
    if pending.cols and item.cols and not _same_columns(pending.cols, item.cols) \
            and abs(pending.cols[0] - item.cols[0]) <= 3 \
            and abs(pending.cols[-1] - item.cols[-1]) <= 3:
        cols = _union_columns(pending.cols, item.cols)
        where = _column_map(pending.cols, cols)
        last_full = {where[j] for j in pending.last_full if j < len(where)}
        first, rest = _realign(first, pending.cols, cols), _realign(rest, item.cols, cols)
    item_full = set(item.last_full)
    if cols is not pending.cols and item.cols:
        where = _column_map(item.cols, cols)
        item_full = {where[j] for j in item.last_full if j < len(where)}
    pages_so_far = pending.row_pages or [pending.page] * len(pending.grid)
    if rest and rest[0] == first[0]:
        rest = rest[1:]
    first = [list(row) for row in first]
    if rest and first and len(rest[0]) == len(first[-1]):
        filled = {j for j, cell in enumerate(rest[0]) if cell}
        if filled and filled <= last_full and all(first[-1][j] for j in filled):
            first[-1] = [join_lines([a, b]) if b else a for a, b in zip(first[-1], rest[0])]
            rest = rest[1:]
    return _PageTable(grid=first + rest, bbox=pending.bbox, page=item.page,
                      row_pages=pages_so_far + [item.page] * len(rest), cols=cols,
                      last_full=item_full if rest else last_full | item_full)


# ---------------------------------------------------------------------------------------------
# OCR
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _ocr_engine() -> Any:
    """The RapidOCR engine, loaded once per process (about half a second: three ONNX models
    shipped inside the package, so it works offline)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - an install problem, reported plainly
        raise ReaderError("this PDF has pages only OCR reads (scanned, or text without a Unicode "
                          f"map) and OCR needs rapidocr-onnxruntime, which is not installed "
                          f"({exc})") from exc
    return RapidOCR()


def _ocr_lines(page: Any) -> list[_Line]:
    """Lines of a scanned page read by OCR, in PDF points like text lines."""
    import numpy as np

    longest_in = max(float(page.width), float(page.height)) / 72
    # a whole number of dpi: detection is sensitive to the exact image size, and a fixed size
    # per page format keeps results reproducible
    dpi = int(min(OCR_MAX_DPI, OCR_MAX_SIDE_PX / longest_in))
    image = page.to_image(resolution=dpi).original.convert("RGB")
    pixels = np.asarray(image)[:, :, ::-1]  # RapidOCR follows OpenCV: BGR
    found, _elapsed = _ocr_engine()(pixels)
    scale = 72 / dpi
    boxes = []
    for points, text, _score in found or []:
        xs = [p[0] * scale for p in points]
        ys = [p[1] * scale for p in points]
        if text.strip():
            boxes.append((min(xs), max(xs), min(ys), max(ys), text.strip()))
    # OCR boxes are mostly whole lines, but a line with wide gaps comes back in pieces: pieces
    # whose vertical centres lie within half a box height of each other are one line.
    boxes.sort(key=lambda b: (b[2] + b[3]) / 2)
    rows: list[list[tuple[float, float, float, float, str]]] = []
    for box in boxes:
        centre, height = (box[2] + box[3]) / 2, box[3] - box[2]
        if rows:
            last = rows[-1]
            last_centre = statistics.mean((b[2] + b[3]) / 2 for b in last)
            if abs(centre - last_centre) < 0.5 * height:
                last.append(box)
                continue
        rows.append([box])
    lines = []
    for row in rows:
        row.sort(key=lambda b: b[0])
        height = statistics.median(b[3] - b[2] for b in row)
        size = 0.8 * height  # a box is taller than the glyphs by its padding
        text = ""
        for i, box in enumerate(row):
            if i and (box[0] - row[i - 1][1] > 1.5 * size or needs_space(text, box[4])):
                text += " "
            text += box[4]
        lines.append(_Line(text=text, x0=row[0][0], x1=row[-1][1], top=min(b[2] for b in row),
                           bottom=max(b[3] for b in row), size=size, bold=False,
                           page=page.page_number, ocr=True, lead=_estimated_lead(text, size)))
    return lines


# ---------------------------------------------------------------------------------------------
# Running headers, footers, page numbers
# ---------------------------------------------------------------------------------------------

def _drop_running_lines(pages: list[_Page]) -> None:
    """Remove running headers/footers and page numbers from every page, in place.

    A running line is in the top or bottom band of its page and, with digits ignored (so
    ``第3页`` and ``第4页`` are one), recurs at about the same height on at least 40 % of the pages
    (odd/even headers alternate) and on two at least. Page-number lines in the bands go too.
    """
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text))

    def in_band(line: _Line, page: _Page) -> bool:
        return line.bottom < page.height * BAND or line.top > page.height * (1 - BAND)

    heights: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for page in pages:
        for line in page.lines:
            if in_band(line, page):
                heights[key(line)].append((page.number, line.top))
    needed = max(2, round(0.4 * len(pages) + 0.49))
    running: set[tuple[str, int]] = set()  # (key, rounded height)
    for text_key, seen in heights.items():
        by_height = Counter(round(top / 6) for _, top in seen)  # 6 pt: same position, jitter aside
        for bucket, _count in by_height.items():
            pages_there = {n for n, top in seen if abs(round(top / 6) - bucket) <= 1}
            if len(pages_there) >= needed:
                running.add((text_key, bucket))
    for page in pages:
        kept = []
        for line in page.lines:
            if in_band(line, page):
                bucket = round(line.top / 6)
                k = key(line)
                if any((k, b) in running for b in (bucket - 1, bucket, bucket + 1)):
                    continue
                if _PAGE_NUMBER.match(line.text):
                    continue
            kept.append(line)
        page.lines = kept


# ---------------------------------------------------------------------------------------------
# Paragraphs
# ---------------------------------------------------------------------------------------------

@dataclass
class _Metrics:
    """Where a body line starts and ends on a page, its usual size and line gap."""

    left: float
    right: float
    size: float
    gap: float


def _metrics(lines: list[_Line]) -> _Metrics | None:
    if not lines:
        return None
    size = statistics.median(ln.size for ln in lines)
    body = [ln for ln in lines if abs(ln.size - size) <= ln.size_tolerance * size] or lines
    # the left margin is the leftmost start shared by several lines: continuation lines start
    # there, while on a page of short paragraphs most lines are indented first lines
    starts = Counter(round(ln.x0) for ln in body)
    enough = max(2, int(0.1 * len(body)))
    left = float(min((x for x, n in starts.items() if n >= enough), default=min(starts)))
    # the right margin: near the largest line end (one stray line aside); lines hanging a
    # punctuation mark into the margin end up to an em further, within the tolerance below
    ends = sorted(ln.x1 for ln in body)
    right = ends[int(0.95 * (len(ends) - 1))]
    gaps = [b.top - a.bottom for a, b in zip(body, body[1:])
            if a.page == b.page and b.top > a.bottom]
    gap = statistics.median(gaps) if gaps else size
    return _Metrics(left=left, right=right, size=size, gap=gap)


def _starts_paragraph(prev: _Line, line: _Line, m: _Metrics) -> bool:
    """Whether ``line`` opens a new paragraph rather than continuing ``prev``."""
    em = max(line.size, 1.0)
    # The previous line stopped short: there was room left at its end for this line's first
    # unit (text set flush left wraps a unit that does not fit whole, and a unit is a number or
    # a character with the punctuation that may not start a line, so a line may end two or three
    # ems short and still go on).
    if prev.x1 < m.right - max(1.5 * max(prev.size, 1.0), line.lead + 0.75 * em):
        return True
    if line.x0 > m.left + 0.8 * em:  # indented first line, or a centred title
        return True
    # a line set well right of the margin (far more than a first-line indent, even one typed
    # as spaces: a centred title, a right-aligned date or signature) is a paragraph of its own,
    # though it may reach the right margin
    if prev.x0 > m.left + max(4 * max(prev.size, 1.0), 0.25 * (m.right - m.left)):
        return True
    if abs(line.size - prev.size) > line.size_tolerance * max(line.size, prev.size) \
            or line.bold != prev.bold:
        return True
    if line.page == prev.page and line.top - prev.bottom > m.gap + 0.8 * em:
        return True
    return bool(_SECTION_START.match(line.text))


def _paragraphs(lines: list[_Line], metrics: dict[int, _Metrics]) -> list[list[_Line]]:
    paragraphs: list[list[_Line]] = []
    for line in lines:
        if paragraphs and not _starts_paragraph(paragraphs[-1][-1], line, metrics[line.page]):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs


# ---------------------------------------------------------------------------------------------
# The reader
# ---------------------------------------------------------------------------------------------

def _open(path: Path) -> Any:
    import pdfplumber
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        return pdfplumber.open(path)
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        name = type(cause).__name__
        if "Password" in name or "Encrypt" in name:
            raise ReaderError(f"{path.name} is encrypted (password-protected); save an unprotected "
                              f"copy to read it") from exc
        raise ReaderError(f"{path.name} is not a readable PDF (damaged or truncated: "
                          f"{name}: {cause})") from exc
    except OSError as exc:
        raise ReaderError(f"cannot read {path.name}: {exc.strerror or exc}") from exc


# Glyphs that do not read as text: pdfminer's stand-in for a glyph of a font without a Unicode
# map, "(cid:12)"; private-use characters (what some fonts map their glyphs to); C0 and C1
# controls and the replacement character; and Latin-1 letters (À to ÿ, but × and ÷), where GBK
# bytes of Chinese text read through a Latin encoding land, and which Chinese reports never use.
_UNREADABLE_GLYPH = re.compile(r"""^(?:
      \(cid:\d+\)                                         # (cid:12): no Unicode map
    | [\ue000-\uf8ff\U000f0000-\U0010ffff]                 # private use areas
    | [\x00-\x1f\x7f-\x9f\ufffd]                           # controls, replacement character
    | [\xc0-\xd6\xd8-\xf6\xf8-\xff]                        # Latin-1 letters (mojibake of GBK)
    )$""", re.VERBOSE)


def garbled_share(glyphs: list[str]) -> float:
    """The share of a page's glyphs (the text of each, white space left out) that do not read
    as text: ``(cid:N)``, private-use characters, controls, Latin-1 letters (see
    ``_UNREADABLE_GLYPH``). A page at :data:`GARBLED_SHARE` or more is read by OCR instead.

    >>> garbled_share(["(cid:1)", "(cid:2)", "1", "0"]), garbled_share(list("收入合计3402.07万元"))
    (0.5, 0.0)
    >>> garbled_share(list("¸ß¶È²ÆÕþ")) >= GARBLED_SHARE   # 高度财政 (GBK) read as Latin-1
    True
    """
    if not glyphs:
        return 0.0
    return sum(1 for glyph in glyphs if _UNREADABLE_GLYPH.match(glyph)) / len(glyphs)


def _needs_ocr(page: Any) -> str | None:
    """Why a page is to be read by OCR: ``"scanned"`` (almost no glyphs, but an image or a vector
    drawing), ``"garbled"`` (its text layer does not read, :func:`garbled_share`), or None."""
    glyphs = [ch["text"] for ch in page.chars if ch["text"].strip()]
    if len(glyphs) < MIN_TEXT_CHARS:
        return "scanned" if page.images or page.curves or page.rects else None
    return "garbled" if garbled_share(glyphs) >= GARBLED_SHARE else None


def ocr_page_cap() -> int:
    """The most pages of one PDF that OCR reads: ``JIXIAO_OCR_MAX_PAGES`` when it is set, else
    :data:`OCR_MAX_PAGES`. Raises ValueError when the variable is not a whole number.

    >>> ocr_page_cap()   # JIXIAO_OCR_MAX_PAGES not set      # doctest: +SKIP
    60
    """
    setting = os.environ.get(OCR_MAX_PAGES_VARIABLE, "").strip()
    if not setting:
        return OCR_MAX_PAGES
    if not setting.isdigit():
        raise ValueError(f"{OCR_MAX_PAGES_VARIABLE} must be a whole number of pages, not "
                         f"{setting!r}")
    return int(setting)


def read_pdf(path: str | Path, ocr: bool = True, max_ocr_pages: int | None = None) -> ReadResult:
    """Read a PDF report into text, blocks in reading order and table grids.

    ``ocr=False`` skips the pages only OCR reads (scanned or garbled) instead of running OCR on
    them (fast, for triage); if the whole PDF is then without text, :class:`ReaderError` says
    so. ``max_ocr_pages`` (default :func:`ocr_page_cap`) is the most pages OCR may read: a PDF
    with more is refused (``limit="ocr_pages"``) before any OCR runs, once its pages have been
    looked at. Too many pages or too much drawing work are refused before that
    (:func:`~pipeline.readers.pdf_check.check_pdf`); encrypted, damaged and non-PDF files raise
    :class:`ReaderError` too.

    >>> r = read_pdf("tests/fixtures/generated/report_text.pdf")   # doctest: +SKIP
    >>> r.blocks[0].where, r.ocr                                     # doctest: +SKIP
    ('page=1', False)
    """
    path = Path(path)
    cap = ocr_page_cap() if max_ocr_pages is None else max_ocr_pages
    pdf = _open(path)
    pages: list[_Page] = []
    skipped_scans: list[int] = []
    garbled: list[int] = []
    # OCR waits until every page has been looked at: a PDF over the cap is refused before it
    to_ocr: list[tuple[_Page, Any]] = []
    number = 1  # the page being read, for a message about damage
    try:
        check_pdf(pdf.doc, path.name)
        for page in pdf.pages:
            number = page.page_number
            current = _Page(number=number, width=float(page.width), height=float(page.height))
            reason = _needs_ocr(page)
            if reason == "garbled":
                garbled.append(number)
            if reason is None:
                current.tables = _page_tables(page)
                current.lines = _text_lines(page, [t.bbox for t in current.tables])
            elif not ocr:
                if reason == "scanned":
                    skipped_scans.append(number)
            else:
                to_ocr.append((current, page))
                if len(to_ocr) > cap:
                    raise ReaderError(
                        f"{path.name} is refused: more than {cap} of its pages need OCR "
                        f"({len(to_ocr)} by page {number}: scanned, or text without a Unicode "
                        f"map), over the limit of {cap} ({OCR_MAX_PAGES_VARIABLE}; OCR takes "
                        f"about 4 s a page)", limit="ocr_pages")
            pages.append(current)
            page.close()  # frees the page's parsed objects: long reports stay small in memory
        for current, page in to_ocr:  # (rendering a page needs no parsed objects)
            number = current.number
            current.lines, current.ocr = _ocr_lines(page), True
    except ReaderError:
        raise
    except Exception as exc:  # pdfminer raises many types (KeyError, struct.error …) on damage
        raise ReaderError(f"{path.name} could not be parsed at page {number}, it looks "
                          f"damaged ({type(exc).__name__}: {exc})") from exc
    finally:
        pdf.close()

    if not any(p.lines or p.tables for p in pages):
        if garbled and not ocr:
            where = f"page{'s' if len(garbled) > 1 else ''} {','.join(map(str, garbled))}"
            raise ReaderError(f"{path.name} has no text layer that reads (fonts without a Unicode "
                              f"map on {where}) and OCR is disabled; read it with ocr=True")
        if skipped_scans:
            raise ReaderError(f"{path.name} has no text layer (a scan) and OCR is disabled; "
                              f"read it with ocr=True")
        raise ReaderError(f"{path.name} has no text (blank pages"
                          f"{', even after OCR' if any(p.ocr for p in pages) else ''})")

    _drop_running_lines(pages)
    return _assemble(pages, skipped_scans, garbled)


def _assemble(pages: list[_Page], skipped_scans: list[int], garbled: list[int]) -> ReadResult:
    """Lay out paragraphs and tables of all pages, in reading order, into a :class:`ReadResult`."""
    # Margins: the pages of a text PDF of one paper format share one geometry, and a page of
    # short paragraphs alone would put its "right margin" mid-line, so text pages use the metrics
    # of all pages of their format (a report in portrait with its 自评表 on landscape pages has
    # two). A format with too few lines to tell borrows the margins of the main one, shifted by
    # the difference in page width. Scans are shifted differently from page to page: an OCR page
    # with enough lines uses its own left margin and the text width of its kind.
    def fmt(page: _Page) -> tuple[bool, int, int]:
        return page.ocr, round(page.width), round(page.height)

    by_format: dict[tuple[bool, int, int], list[_Line]] = defaultdict(list)
    for page in pages:
        by_format[fmt(page)].extend(page.lines)
    shared: dict[tuple[bool, int, int], _Metrics] = {}
    for kind in (False, True):
        formats = sorted((f for f in by_format if f[0] == kind and by_format[f]),
                         key=lambda f: -len(by_format[f]))
        if not formats:
            continue
        main = formats[0]
        shared[main] = _metrics(by_format[main])
        for f in formats[1:]:
            if len(by_format[f]) >= MIN_FORMAT_LINES:
                shared[f] = _metrics(by_format[f])
            else:
                m = shared[main]
                shared[f] = _Metrics(left=m.left, right=m.right + f[1] - main[1], size=m.size,
                                     gap=m.gap)
    metrics: dict[int, _Metrics] = {}
    for page in pages:
        common = shared.get(fmt(page))
        if common is None:
            continue
        own = _metrics(page.lines) if page.ocr and len(page.lines) >= 8 else None
        if own is not None:
            width = common.right - common.left
            own.right = max(own.right, own.left + width)
        metrics[page.number] = own or common
    body_size = {kind: statistics.median([ln.size for p in pages if p.ocr == kind
                                          for ln in p.lines] or [10.0]) for kind in (False, True)}

    # One stream of items in reading order; a table between lines breaks the paragraph.
    stream: list[_Line | _PageTable] = []
    for page in pages:
        items: list[tuple[float, int, _Line | _PageTable]] = [(ln.top, 1, ln) for ln in page.lines]
        items += [(t.top, 0, t) for t in page.tables]
        stream += [item for _, _, item in sorted(items, key=lambda i: (i[0], i[1]))]

    builder = TextBuilder()
    run: list[_Line] = []

    def flush() -> None:
        for para in _paragraphs(run, metrics):
            text = join_lines([ln.text for ln in para])
            # larger than the body by more than size noise, or bold throughout
            threshold = 1 + 2 * para[0].size_tolerance if para[0].ocr else 1.15
            level = heading_level(text)
            is_heading = level is not None or len(text) <= 60 and (
                statistics.median(ln.size for ln in para) >= threshold * body_size[para[0].ocr]
                or all(ln.bold for ln in para))
            builder.add_paragraph(text, where=f"page={para[0].page}",
                                  kind="heading" if is_heading else "paragraph", level=level)
        run.clear()

    def add_table(table: _PageTable) -> None:
        pages_of_rows = table.row_pages or [table.page] * len(table.grid)
        builder.add_table(table.grid, where=[f"page={n}" for n in pages_of_rows],
                          caption=builder.caption_above())

    pending: _PageTable | None = None
    for item in stream:
        if isinstance(item, _Line):
            if pending is not None:
                add_table(pending)
                pending = None
            run.append(item)
            continue
        flush()
        if pending is not None and _continues(pending, item):
            pending = _join_tables(pending, item)
            continue
        if pending is not None:
            add_table(pending)
        pending = item
    if pending is not None:
        add_table(pending)
    flush()

    metadata = {"pages": str(len(pages))}
    ocr_pages = [str(p.number) for p in pages if p.ocr]
    if ocr_pages:
        metadata["ocr_pages"] = ",".join(ocr_pages)
    if garbled:
        metadata["garbled_pages"] = ",".join(map(str, garbled))
    if skipped_scans:
        metadata["skipped_scanned_pages"] = ",".join(map(str, skipped_scans))
    return builder.result(metadata, ocr=bool(ocr_pages))
