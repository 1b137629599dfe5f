"""The document model and the records every stage adds to it.

A :class:`Document` holds the decoded source text (``text``) and an analysis text (``norm``) of
exactly the same length: normalisation only ever replaces one character by one character (full-width
digits and punctuation to ASCII, conversion artefacts such as ``[bookmark: _GoBack]`` to spaces), so
an offset found in ``norm`` is an offset into ``text`` and ``text[start:end]`` is what was read.

Records are plain dataclasses; each keeps its span (or table/row reference) and the id of the rule
that produced it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def content_id(text: str) -> str:
    """Stable id of a report: the first 16 hex digits of the SHA-256 of its decoded text.

    >>> content_id("abc")
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class TableRow:
    """One row of a table: its cells as printed, and where the row starts in the text."""

    index: int
    cells: list[str]
    start: int
    end: int


@dataclass
class Table:
    """A table read from the document: a cell grid plus provenance.

    ``table_id`` is the table's ordinal in the document (``t0``, ``t1`` …); for text reports
    ``start``/``end`` delimit the rendering in the text.
    """

    table_id: str
    rows: list[TableRow]
    start: int
    end: int
    caption: str | None = None
    rendering: str = "tabbed"  # tabbed | cell_per_line | grid (a real cell grid from docx/xlsx)


@dataclass
class Block:
    """One block of a structured source (docx, pdf, xlsx, html) in reading order.

    ``kind`` is ``heading``, ``paragraph`` or ``table``; ``start``/``end`` delimit the block in the
    document text; ``where`` is its provenance in the source (``page=3``, ``paragraph=12``,
    ``table=2``, ``sheet=Sheet1``); ``level`` is the heading level when the source says it.
    """

    kind: str
    start: int
    end: int
    where: str
    level: int | None = None
    table_id: str | None = None


@dataclass
class Document:
    """A decoded report: the text offsets refer to, its normalised twin, and what layout found.

    ``norm`` has the same length as ``text``; ``body_end`` is where the narrative ends and appended
    tables or attachments begin (``len(text)`` when there are none).
    """

    source: str
    format: str
    text: str
    norm: str
    encoding: str
    report_id: str
    tables: list[Table] = field(default_factory=list)
    body_end: int = -1
    metadata: dict[str, str] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    ocr: bool = False

    def __post_init__(self) -> None:
        if len(self.norm) != len(self.text):
            raise ValueError("norm must be a char-for-char twin of text")
        if self.body_end < 0:
            self.body_end = len(self.text)


@dataclass
class Section:
    """A level-1 or level-2 heading; ``start`` is the offset of its marker, ``end`` of its extent."""

    seq: int
    level: int
    number: str | None
    title: str
    canonical: str | None
    start: int
    end: int
    title_start: int = -1
    rule: str = ""


@dataclass
class Amount:
    """A money expression: ``text`` is ``doc.text[start:end]``; ``value_yuan`` in yuan."""

    start: int
    end: int
    text: str
    value_yuan: float
    unit: str
    label: str | None = None
    rule: str = ""


@dataclass
class Percentage:
    """A percentage: ``value`` in percent (98.5, not 0.985)."""

    start: int
    end: int
    text: str
    value: float
    label: str | None = None
    rule: str = ""


@dataclass
class Indicator:
    """A performance indicator (绩效指标) row.

    ``origin`` is ``prose`` (``start``/``end`` span the text it was read from) or ``table``
    (``table_id``/``row_index`` point at the row; ``start``/``end`` span that row in the text).
    """

    name: str
    level1: str | None = None
    level2: str | None = None
    target: str | None = None
    actual: str | None = None
    max_score: float | None = None
    score: float | None = None
    origin: str = "prose"
    start: int = -1
    end: int = -1
    table_id: str | None = None
    row_index: int | None = None
    rule: str = ""


@dataclass
class Fact:
    """One report-level fact (unit name, county, total score, key figure …) with its provenance.

    ``start``/``end`` are -1 when the value was inferred rather than read (for example the
    province of a county, looked up in the administrative-division table); ``rule`` says how.
    """

    field: str
    value: str | int | float | None
    start: int = -1
    end: int = -1
    text: str = ""
    rule: str = ""
