"""The hot paths of the per-report job were rewritten for speed (bench/bench_extract.py); each is
pinned here to the plain definition it replaced, on the vendored reports and on generated text,
so that a later edit cannot change an output while keeping it fast.

Each ``_reference_*`` function is the earlier, straightforward code.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.indicators import _header_labels
from extractors.indicators import _patterns as indicator_patterns
from pipeline.extract import _fields, extract_document, sentence_at
from pipeline.ingest import _cjk_share, _is_binary, document_from_text
from pipeline.layout import _cells, _paragraphs, find_tables_and_body_end
from pipeline.normalize import normalize
from tests.conftest import SAMPLE_DOCS, SEEDS

REPORTS = [p.read_text(encoding="utf-8") for p in [*sorted(SEEDS.glob("*.txt")),
                                                     *sorted(SAMPLE_DOCS.glob("*"))]]
# Text made of what the layout and sentence rules look at: line breaks, blank lines of spaces,
# tabs of flattened tables, captions, sentence ends.
layout_like = st.lists(st.sampled_from(["\n", "\n\n", " ", "\u3000", "\t", "\t\t", "一、概况", "正文",
                                        "附件1\n", "Sheet1\n", "。", ";", "\r", "\x0b", "\x85",
                                        "\u2028", "指标\t得分"]), max_size=40).map("".join)


# --------------------------------------------------------------------------------------------
# pipeline/layout.py
# --------------------------------------------------------------------------------------------

_PARAGRAPHS = regex.compile(r"[^\n]*(?:\n(?![ \u3000]*(?:\n|$))[^\n]*)*")


def _reference_paragraphs(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _PARAGRAPHS.finditer(text):
        body = m.group(0)
        if body.strip():
            lead = len(body) - len(body.lstrip("\n"))
            spans.append((m.start() + lead, m.end()))
    return spans


def _reference_cells(para: str) -> tuple[list[str], str] | None:
    if para.count("\t") < 2:
        return None
    lines = para.split("\n")
    tab_lines = [ln for ln in lines if "\t" in ln]
    if all(ln.startswith("\t") and ln.count("\t") == 1 for ln in tab_lines):
        cells: list[str] = [""]
        for ln in lines:
            if ln.startswith("\t"):
                cells.append(ln[1:].strip())
            else:
                cells[-1] = (cells[-1] + "\n" + ln.strip()).strip()
        return cells, "cell_per_line"
    return [c.strip() for c in para.split("\t")], "tabbed"


def test_paragraphs_and_cells_of_the_reports() -> None:
    for text in REPORTS:
        norm = normalize(text)
        spans = _paragraphs(norm)
        assert spans == _reference_paragraphs(norm)
        for start, end in spans:
            assert _cells(norm[start:end]) == _reference_cells(norm[start:end])
    # the reports do hold tables of both renderings, so both branches were compared
    renderings = {t.rendering for text in REPORTS for t in find_tables_and_body_end(normalize(text))[0]}
    assert renderings == {"tabbed", "cell_per_line"}


@settings(max_examples=500, deadline=None)
@given(layout_like | st.text(max_size=40))
def test_paragraphs_and_cells_of_any_text(text: str) -> None:
    assert _paragraphs(text) == _reference_paragraphs(text)
    assert _cells(text) == _reference_cells(text)


# --------------------------------------------------------------------------------------------
# pipeline/extract.py
# --------------------------------------------------------------------------------------------

_SENTENCE_END = regex.compile(r"[。;；!！?？\n]")


def _reference_sentence_at(text: str, start: int, end: int, limit: int = 160) -> str:
    lo = max(0, start - limit)
    left = lo - 1  # no sentence end in the window: the sentence starts ``limit`` chars back
    for m in _SENTENCE_END.finditer(text, lo, start):
        left = max(left, m.start())
    m = _SENTENCE_END.search(text, end, min(len(text), end + limit))
    right = m.end() if m else min(len(text), end + limit)
    return text[left + 1:right].strip()


def test_sentences_and_rows_of_the_reports() -> None:
    for text in REPORTS:
        ex = extract_document(document_from_text(text, "x.txt"))
        figures: list[Any] = [*ex.amounts, *ex.percentages]
        for record in figures:
            assert (sentence_at(text, record.start, record.end)
                    == _reference_sentence_at(text, record.start, record.end))
        records: list[Any] = [*ex.sections, *figures, *ex.indicators, *ex.facts]
        for record in records:
            assert _fields(record) == dataclasses.asdict(record)
            assert list(_fields(record)) == list(dataclasses.asdict(record))  # column order


@settings(max_examples=300, deadline=None)
@given(layout_like, st.integers(0, 60), st.integers(0, 8), st.sampled_from([160, 5, 0]))
def test_sentence_at_any_span(text: str, start: int, length: int, limit: int) -> None:
    start = min(start, len(text))
    end = min(start + length, len(text))
    assert sentence_at(text, start, end, limit) == _reference_sentence_at(text, start, end, limit)


def test_a_record_with_an_extra_attribute_keeps_its_fields_only() -> None:
    ex = extract_document(document_from_text("一、基本情况\n支出合计100万元。", "x.txt"))
    amount = ex.amounts[0]
    amount.note = "set by a caller"  # type: ignore[attr-defined]
    assert _fields(amount) == dataclasses.asdict(amount)


# --------------------------------------------------------------------------------------------
# pipeline/ingest.py
# --------------------------------------------------------------------------------------------

def _reference_cjk_share(text: str) -> float:
    if not text:
        return 0.0
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return cjk / max(1, sum(1 for c in text if not c.isspace()))


def _reference_is_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" not in sample:
        control = sum(1 for b in sample if b < 9 or 13 < b < 32)
        return control > 0.1 * len(sample)
    return True


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.binary(max_size=300))
def test_encoding_sniffing(text: str, data: bytes) -> None:
    assert _cjk_share(text) == _reference_cjk_share(text)
    assert _is_binary(data) == _reference_is_binary(data)
    for report in REPORTS[:3]:
        assert _cjk_share(report) == _reference_cjk_share(report)
        assert _is_binary(report.encode("gb18030")) == _reference_is_binary(report.encode("gb18030"))


# --------------------------------------------------------------------------------------------
# extractors/indicators.py
# --------------------------------------------------------------------------------------------

def _reference_names_a_column(cells: list[str]) -> bool:
    """Whether a row names the indicator column, as _header_labels first decided it."""
    labels = [k for k, v in indicator_patterns().header.items() if v == "name"]
    joined = "".join(cells)
    if not any(label in joined for label in labels):
        compact = regex.sub(r"\s+", "", joined)
        if compact == joined or not any(label in compact for label in labels):
            return False
    return True


def _names_a_column(cells: list[str]) -> bool:
    return indicator_patterns().name_label.search("".join(cells)) is not None


@pytest.mark.parametrize(("cells", "named"), [
    (["", "三级指标", "指标值", "得分"], True),
    (["", "三级\n指标", "指标分值"], True),   # a label wrapped in its cell
    (["", "三 级 指 标"], True),
    (["", "指标\u3000名称", "目标值"], True),
    (["", "预算执行率", "100%", "10"], False),
    ([], False),
])
def test_a_row_names_the_indicator_column(cells: list[str], named: bool) -> None:
    assert _names_a_column(cells) == _reference_names_a_column(cells) == named
    if not named:
        assert _header_labels(cells, indicator_patterns()) == {}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["三级", "指标", "名称", "三", "级", "指", "标", "\n", " ",
                                          "\u3000", "\t", "具体", "内容", "得分", "目标值"]),
                         max_size=4).map("".join), max_size=6))
def test_header_rows_of_any_cells(cells: list[str]) -> None:
    assert _names_a_column(cells) == _reference_names_a_column(cells)
