"""Layout of a text rendering: appended tables and where the narrative ends (``body_end``).

Word-to-text converters flatten a table in one of two ways, both seen in real reports:

* **tabbed**: a row is a paragraph (rows separated by a blank line) whose cells are separated by
  tab characters, with empty cells kept as extra tabs and multi-line cells spanning lines;
* **cell_per_line**: a row is a paragraph whose every cell is a line starting with one tab
  (a line without the tab continues the previous cell).

``find_tables_and_body_end`` reads both into :class:`~pipeline.document.Table` grids whose rows keep
their offsets, so a table indicator points back at the row it came from.
"""
from __future__ import annotations

import functools
import re

import regex

from pipeline.document import Block, Table, TableRow
from pipeline.patterns import compile_verbose, load_yaml, require

# A line break followed by a blank line (spaces only, or nothing): where a paragraph ends.
# (Standard-library ``re``: it scans every report, and ``re`` is twice as fast at it as ``regex``.)
_BEFORE_BLANK_LINE = re.compile(r"\n(?=[ \u3000]*(?:\n|$))")


@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[regex.Pattern[str], regex.Pattern[str], int]:
    data = load_yaml("layout.yaml")
    require(data, "caption_line", "inline_attachment", "min_table_rows", where="layout.yaml")
    caption = regex.compile(data["caption_line"], regex.VERBOSE | regex.MULTILINE)
    inline = compile_verbose(data["inline_attachment"], "layout.yaml:inline_attachment")
    return caption, inline, int(data["min_table_rows"])


def caption_line() -> regex.Pattern[str]:
    """The caption of an appended table or sheet (``附件1-2``, ``附表2``, ``Sheet1`` …), from
    ``patterns/layout.yaml``: shared by the text layout and the structured readers."""
    return _patterns()[0]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of blank-line-separated paragraphs (non-empty ones only).

    A paragraph runs from a line to the line break before the next blank line; the blank line
    itself starts the next paragraph, so a blank line of spaces is part of the paragraph below it
    (an empty one is not).

    >>> text = "一、概况\\n正文\\n\\n\\t指标\\n  \\n二、问题"
    >>> [text[s:e] for s, e in _paragraphs(text)]
    ['一、概况\\n正文', '\\t指标', '  \\n二、问题']
    """
    # One search for the breaks, instead of a regex that also matches every paragraph's text:
    # most of a report is paragraph text, which this way is sliced once instead of matched,
    # grouped and sliced again (three times faster).
    spans = []
    start = 0
    ends = [m.start() for m in _BEFORE_BLANK_LINE.finditer(text)]
    for end in [*ends, len(text)]:
        body = text[start:end]
        if body.strip():
            lead = len(body) - len(body.lstrip("\n"))
            spans.append((start + lead, end))
        start = end + 1
    return spans


def _cells(para: str) -> tuple[list[str], str] | None:
    """Split one paragraph into cells, or None when it is not a table row.

    In both renderings cell 0 is the text before the first tab (usually empty, or a caption).
    """
    tabs = para.count("\t")
    if tabs < 2:
        return None
    # cell_per_line when every tab starts a line (then no line holds two): counted, not split
    if tabs == para.count("\n\t") + para.startswith("\t"):
        cells: list[str] = [""]
        for ln in para.split("\n"):
            if ln.startswith("\t"):
                cells.append(ln[1:].strip())
            else:
                cells[-1] = (cells[-1] + "\n" + ln.strip()).strip()
        return cells, "cell_per_line"
    return list(map(str.strip, para.split("\t"))), "tabbed"


def find_tables(norm: str) -> list[Table]:
    """Read every flattened table in the analysis text into a cell grid.

    A table is a run of at least ``min_table_rows`` consecutive row paragraphs of one rendering;
    a caption line directly above it (``Sheet1``, ``附件1-2`` …) is kept as its caption.
    """
    caption_re, _inline, min_rows = _patterns()
    tables: list[Table] = []
    run: list[TableRow] = []
    run_kind = ""

    def close() -> None:
        nonlocal run, run_kind
        if len(run) >= min_rows:
            tables.append(Table(table_id=f"t{len(tables)}", rows=run, start=run[0].start,
                                end=run[-1].end, rendering=run_kind))
        run, run_kind = [], ""

    for start, end in _paragraphs(norm):
        # a row has two tabs or more: most paragraphs are prose, and are not even sliced
        parsed = _cells(norm[start:end]) if norm.count("\t", start, end) >= 2 else None
        if parsed is None:
            # a title line between a caption and its table does not break the run of rows
            if run and end - start > 200:
                close()
            elif run and "\n" in norm[start:end].strip():
                close()
            continue
        cells, kind = parsed
        if run and kind != run_kind:
            close()
        run_kind = kind
        # lines before the first tabbed line (a caption, a title) are cell 0, not the row's start
        first_tab = norm.find("\t", start, end)
        row_start = norm.rfind("\n", start, first_tab) + 1 or start
        run.append(TableRow(index=len(run), cells=cells, start=row_start, end=end))
    close()
    for table in tables:
        before = norm[max(0, table.start - 300):table.start]
        for m in caption_re.finditer(before):
            table.caption = m.group(0).strip()
    return tables


def _first_caption(norm: str, before: int) -> int | None:
    """Where the first caption line (``附件1``, ``Sheet1`` …) before offset ``before`` starts."""
    m = _patterns()[0].search(norm, 0, before)
    return None if m is None else m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))


def _cut_at_inline_attachment(norm: str, body_end: int) -> int:
    """An attachment that starts inline (``附件: …自评表``) before ``body_end`` ends the body."""
    inline = _patterns()[1].search(norm, 0, body_end)
    return inline.start() if inline else body_end


def find_tables_and_body_end(norm: str) -> tuple[list[Table], int]:
    """Tables of the document and ``body_end``: the offset where appended material begins.

    That is the first caption line that has a table after it, else the first table's start, else an
    inline attachment (``附件: …自评表``), else ``len(norm)``.

    >>> find_tables_and_body_end("一、基本情况\\n正文。\\n附件1\\n\\t指标\\t得分\\n\\n\\t满意度\\t10")[1]
    11
    """
    tables = find_tables(norm)
    body_end = len(norm)
    if tables:
        body_end = _first_caption(norm, tables[0].start)
        if body_end is None:
            body_end = tables[0].start
    return tables, _cut_at_inline_attachment(norm, body_end)


def body_end_of_structured(norm: str, blocks: list[Block], tables: list[Table]) -> int:
    """``body_end`` of a document read from a structured format (docx, pdf, xlsx, html), whose
    tables are real grids rather than guessed from the text.

    The appended material is the trailing run of tables: from the first caption line (``附件1``,
    ``Sheet1`` …) that has a table after it, else from the first table after which no paragraph of
    prose follows (short title lines between tables do not count), together with up to two short
    title lines right above it. A table in the middle of the narrative (a budget table in
    ``二、``) is not appended material. An inline attachment (``附件: …自评表``) ends the body too.

    >>> from pipeline.document import Block
    >>> norm = "一、基本情况\\n正文。\\n附表1\\n指标\\t得分"
    >>> body_end_of_structured(norm, [Block("paragraph", 0, 6, "p"), Block("paragraph", 7, 10, "p"),
    ...     Block("paragraph", 11, 14, "p"), Block("table", 15, 20, "t", table_id="t0")],
    ...     [Table("t0", [], 15, 20)])
    11
    """
    body_end = len(norm)
    if tables:
        caption = _first_caption(norm, min(t.start for t in tables) + 1)
        if caption is not None:
            body_end = caption
        else:
            def is_title(block: Block) -> bool:
                line = norm[block.start:block.end]
                return len(line) <= TITLE_MAX_CHARS and not _PROSE_END.search(line)

            trailing: int | None = None  # the first block of the run of tables at the end
            for i in range(len(blocks) - 1, -1, -1):
                if blocks[i].kind == "table":
                    trailing = i
                elif not is_title(blocks[i]):
                    break
            if trailing is not None:
                first = trailing  # with up to two title lines right above it
                while (first > max(trailing - 2, 0) and blocks[first - 1].kind != "table"
                       and is_title(blocks[first - 1])):
                    first -= 1
                body_end = blocks[first].start
    return _cut_at_inline_attachment(norm, body_end)


# A line that ends a sentence is prose, not a table's title; nor is a line longer than this.
_PROSE_END = regex.compile(r"[。;!?]\s*$")
TITLE_MAX_CHARS = 60
