"""How every reader renders what it read: :class:`TextBuilder` (text, blocks and tables with
offsets right by construction) and the cell/line helpers, so that docx, pdf, xlsx and html give
the same kind of text: blocks one a line, a table one row a line with tab-separated cells, wrapped
lines joined the Chinese way (no space between CJK characters).
"""
from __future__ import annotations

import re

import regex

from pipeline.document import Block, Table, TableRow
from pipeline.layout import caption_line
from pipeline.normalize import normalize
from pipeline.readers import ReadResult


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


# Level of a numbering marker in the hierarchy of Chinese official documents (GB/T 9704-2012
# 结构层次序数: 一、 → （一） → 1. → （1）). Only the first two are section headings.
_CN_NUMERAL = "〇零一二三四五六七八九十百千两"
_MARKER_LEVELS = [
    (re.compile(rf"^(?:[{_CN_NUMERAL}]+、|第[{_CN_NUMERAL}\d]+[章部节篇](?:分)?)$"), 1),
    (re.compile(rf"^[（(][{_CN_NUMERAL}]+[)）]、?$"), 2),
]


def marker_level(marker: str) -> int | None:
    """Section level of a list marker in the official hierarchy: ``一、`` 1, ``（一）`` 2, else None.

    >>> marker_level("三、"), marker_level("（十二）"), marker_level("3."), marker_level("第一章")
    (1, 2, None, 1)
    """
    for pattern, level in _MARKER_LEVELS:
        if pattern.match(marker.strip()):
            return level
    return None


# A section marker opening a paragraph (一、 （二） 第三部分), for heading levels in sources whose
# structure is only visual (PDF, HTML); its level comes from marker_level, as in docx.
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
