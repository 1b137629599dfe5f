"""One way through: document -> sections -> extractors -> checks -> table rows.

``extract_document`` is the whole per-report job as a pure function; ``extract_path`` adds reading
the file. Neither imports Prefect: the fast CLI command (``jixiao extract``) and the benchmark call
them directly, and ``flows.py`` wraps them in tasks.
"""
from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from extractors.amounts import extract_amounts
from extractors.canonical import canonical_columns
from extractors.indicators import extract_indicators
from extractors.percentages import extract_percentages
from extractors.report_facts import DIVISION_CODES, KEY_FIGURES, REPORT_FIELDS, extract_report_facts
from pipeline.checks import Check, check_report
from pipeline.document import Amount, Document, Fact, Indicator, Percentage, Section
from pipeline.ingest import IngestError, read_document
from pipeline.sections import segment

# What a portal page says about itself (pipeline/readers/html.py), kept in ``reports``.
PAGE_FIELDS = ("title", "published", "publisher", "index_no", "doc_no", "attachments")
# Line breaks, for line=N of a text report (stdlib ``re`` lists them twice as fast as ``regex``).
_NEWLINE = re.compile(r"\n")
# A figure's sentence ends at a full stop, semicolon or line break (Chinese prose has no spaces).
_SENTENCE_END = regex.compile(r"[。;；!！?？\n]")
# The same, searched backwards from the end of the range: the last sentence end before a figure.
_LAST_SENTENCE_END = regex.compile(r"[。;；!！?？\n]", regex.REVERSE)


# A report prints at most a few hundred amounts and percentages (a seed: 7 to 118 signs). A text with
# more % and 元 signs than this is refused before any extractor runs: each figure becomes a row
# with its sentence, and half a million of them would take gigabytes to hold.
MAX_FIGURE_SIGNS = 50_000


class TooManyFigures(IngestError):
    """A text with more figure signs than :data:`MAX_FIGURE_SIGNS`: not a report."""

    stage = "extract"


@dataclass
class Extraction:
    """Everything read from one report, each record with its provenance."""

    document: Document
    sections: list[Section] = field(default_factory=list)
    amounts: list[Amount] = field(default_factory=list)
    percentages: list[Percentage] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def fact(self, name: str) -> Any:
        """The value of report fact ``name``, or None."""
        for f in self.facts:
            if f.field == name:
                return f.value
        return None


def extract_document(doc: Document) -> Extraction:
    """Run every extractor on a document.

    >>> from pipeline.ingest import document_from_text
    >>> ex = extract_document(document_from_text("一、基本情况\\n支出合计100万元，执行率98%。", "x.txt"))
    >>> [a.value_yuan for a in ex.amounts], [p.value for p in ex.percentages]
    ([1000000.0], [98.0])
    """
    signs = doc.norm.count("%") + doc.norm.count("元")  # (norm has ％ as %)
    if signs > MAX_FIGURE_SIGNS:
        raise TooManyFigures(f"the text holds {signs:,} percent and yuan signs (over "
                             f"{MAX_FIGURE_SIGNS:,}; a report prints a few hundred): not read",
                             limit="figures")
    sections = segment(doc)
    amounts = extract_amounts(doc)
    percentages = extract_percentages(doc)
    indicators = extract_indicators(doc, sections)
    facts = extract_report_facts(doc, sections, amounts, percentages, indicators)
    checks = check_report(facts, amounts, percentages, indicators, doc.norm)
    return Extraction(doc, sections, amounts, percentages, indicators, facts, checks)


def extract_path(path: str | Path, ocr: bool = True) -> Extraction:
    """Read and extract one report file; raises :class:`pipeline.ingest.IngestError` or
    :class:`pipeline.readers.ReaderError` on bad input. ``ocr=False``: scanned pages are not read."""
    return extract_document(read_document(path, ocr=ocr))


class _SectionIndex:
    """Which section a character offset falls in: the innermost heading's canonical kind."""

    def __init__(self, doc: Document, sections: list[Section]):
        self.body_end = doc.body_end
        self.starts = [s.start for s in sections]
        self.sections = sections

    def kind(self, offset: int) -> str | None:
        if offset >= self.body_end:
            return "appendix"
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0:
            return None
        inner = self.sections[i]
        if inner.level == 2 and inner.canonical is None:
            for s in reversed(self.sections[:i]):
                if s.level == 1:
                    return s.canonical
        return inner.canonical


class _Provenance:
    """Where an offset was read in the source: the ``where`` of the block that holds it
    (``page=3``, ``paragraph=12``, ``table=2 row=4``, ``sheet=自评表``), or ``line=N`` for a
    plain-text report, which has no blocks."""

    def __init__(self, doc: Document):
        self.blocks = sorted(doc.blocks, key=lambda b: b.start)
        self.starts = [b.start for b in self.blocks]
        self.newlines = [] if self.blocks else [m.start() for m in _NEWLINE.finditer(doc.text)]

    def where(self, offset: int) -> str | None:
        if offset < 0:
            return None
        if not self.blocks:
            return f"line={bisect.bisect_left(self.newlines, offset) + 1}"
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0 or offset > self.blocks[i].end:
            return None
        return self.blocks[i].where


def section_kinds(ex: Extraction, records: list[Any]) -> list[str | None]:
    """The canonical section kind each record (anything with ``start``) was read in."""
    index = _SectionIndex(ex.document, ex.sections)
    return [index.kind(r.start) for r in records]


def sentence_at(text: str, start: int, end: int, limit: int = 160) -> str:
    """The sentence around ``text[start:end]`` (bounded to ``limit`` chars each side).

    >>> sentence_at("收入100万元。支出90万元，占90%。", 9, 13)
    '支出90万元，占90%。'
    >>> len(sentence_at("1%" * 10000, 10000, 10002))   # no sentence end anywhere: still bounded
    322
    """
    # the last sentence end in the ``limit`` chars before the figure; when there is none the
    # sentence starts ``limit`` chars back (not at the start of the text: a text without a
    # sentence end would give every figure a copy of all that comes before it)
    m = _LAST_SENTENCE_END.search(text, max(0, start - limit), start)
    left = m.start() if m else max(0, start - limit) - 1
    m = _SENTENCE_END.search(text, end, min(len(text), end + limit))
    right = m.end() if m else min(len(text), end + limit)
    return text[left + 1:right].strip()


def _clean(value: Any) -> Any:
    return None if value == "" else value


@functools.cache
def _field_names(record_type: type) -> tuple[str, ...]:
    """The field names of a record dataclass, in declaration order (computed once per class)."""
    return tuple(f.name for f in dataclasses.fields(record_type))


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields as a dict, like :func:`dataclasses.asdict` but shallow.

    ``asdict`` deep-copies every value recursively, which was most of ``to_rows``'s time; records
    hold only str/int/float/None, so the shallow dict has the same content.

    >>> _fields(Amount(0, 5, "100万元", 1e6, "万元"))
    {'start': 0, 'end': 5, 'text': '100万元', 'value_yuan': 1000000.0, 'unit': '万元', 'label': None, 'rule': ''}
    """
    names = _field_names(record.__class__)
    values = vars(record)
    # The generated __init__ sets the fields in declaration order, so the instance dict already
    # is the row; a record that was given another attribute is read field by field instead.
    if len(values) == len(names) and tuple(values) == names:
        return values.copy()
    return {name: getattr(record, name) for name in names}


def to_rows(ex: Extraction) -> dict[str, list[dict[str, Any]]]:
    """Flatten an extraction into rows of the dataset tables (see :mod:`pipeline.dataset`)."""
    doc = ex.document
    rid = doc.report_id
    where = _SectionIndex(doc, ex.sections)
    prov = _Provenance(doc)
    report: dict[str, Any] = {"report_id": rid, "source": doc.source, "format": doc.format,
                              "encoding": doc.encoding or None, "n_chars": len(doc.text),
                              "body_end": doc.body_end}
    for name in PAGE_FIELDS:
        report[name] = _clean(doc.metadata.get(name))
    for name in REPORT_FIELDS + DIVISION_CODES + KEY_FIGURES:
        report[name] = _clean(ex.fact(name))
    report.update(n_sections=len(ex.sections), n_amounts=len(ex.amounts),
                  n_percentages=len(ex.percentages), n_indicators=len(ex.indicators),
                  n_checks_failed=sum(1 for c in ex.checks if c.severity != "info"),
                  ocr=doc.ocr)
    rows: dict[str, list[dict[str, Any]]] = {"reports": [report]}
    rows["sections"] = [{"report_id": rid, **_fields(s), "provenance": prov.where(s.start)}
                        for s in ex.sections]
    rows["amounts"] = [{"report_id": rid, **_fields(a), "section": where.kind(a.start),
                        "sentence": sentence_at(doc.text, a.start, a.end),
                        "provenance": prov.where(a.start)} for a in ex.amounts]
    rows["percentages"] = [{"report_id": rid, **_fields(p),
                            "section": where.kind(p.start),
                            "sentence": sentence_at(doc.text, p.start, p.end),
                            "provenance": prov.where(p.start)}
                           for p in ex.percentages]
    rows["indicators"] = [{"report_id": rid, **_fields(i), **canonical_columns(i.name),
                           "provenance": prov.where(i.start)}
                          for i in ex.indicators]
    rows["facts"] = [{"report_id": rid, **_fields(f),
                      "value": None if f.value is None else str(f.value)} for f in ex.facts]
    rows["checks"] = [{"report_id": rid, "check_name": c.check_name, "severity": c.severity,
                       "expected": c.expected, "found": c.found, "message": c.message,
                       "records": c.records_json()} for c in ex.checks]
    rows["texts"] = [{"report_id": rid, "source": doc.source, "text": doc.text}]
    # the file as one source of its report; the store decides which report it joins
    rows["sources"] = [{"report_id": rid, "source": doc.source, "format": doc.format,
                        "text_id": rid, "published": report["published"]}]
    return rows
