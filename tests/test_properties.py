"""Properties of the whole per-report job on arbitrary text: it never raises, every span slices
back to its text, and every table row it produces fits the dataset schema."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.dataset import SCHEMAS, frame
from pipeline.extract import extract_document, to_rows
from pipeline.ingest import document_from_text

# Text built from the genre's own pieces, so the extractors' patterns actually fire.
PIECES = ["一、", "二、", "2、", "（一）", "（2）", "1.", "（3分）", "该指标得分为5分", "万元", "元", "亿元",
          "万", "%", "％", "百分之", "九十", "3402.07", "1,059.39", "800-1000", "满分5分，自评得分4分",
          "基本支出", "预算执行率", "\t", "\t\t", "\n", "\n\n", "Sheet1", "附件1-1", "。", "，", " ",
          "[bookmark: _GoBack]", "指标值：", "≥", "渠县", "2024年度", "得分95分", "等级为“优”"]
report_like = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=60).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(report_like, st.text(max_size=300)))
def test_extraction_never_raises_and_spans_slice_back(text: str) -> None:
    ex = extract_document(document_from_text(text, "prop.txt"))
    for record in [*ex.amounts, *ex.percentages]:
        assert text[record.start:record.end] == record.text
    for section in ex.sections:
        assert 0 <= section.start < len(text) and section.start <= section.end <= len(text)
    for indicator in ex.indicators:
        if indicator.origin == "prose":
            assert 0 <= indicator.start <= indicator.end <= len(text)
    for table, rows in to_rows(ex).items():
        assert len(frame(table, rows)) == len(rows)
    assert set(to_rows(ex)) <= set(SCHEMAS)
