"""Properties of the amount and percentage extractors on arbitrary text: they never raise, every
span slices back to its text, spans do not overlap, and values are finite numbers."""
from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.amounts import extract_amounts
from extractors.labels import _segmenter, label_before
from extractors.percentages import extract_percentages
from pipeline.ingest import document_from_text

# Pieces of the genre, so that the rules actually fire, mixed with arbitrary characters.
PIECES = ["万元", "万", "元", "亿元", "亿", "千元", "万余元", "余", "%", "％", "‰", "百分之", "九十",
          "三千五百", "十二亿", "壹", "点", "3402.07", "1,059.39", "，", ",", "73", ".", "*", "-", "—",
          "至", "～", "800", "0", "人次", "平方米", "资金", "基本支出", "预算执行率达", "其中：", "为",
          "\t", "\n", " ", "　", "９０", "（", "[bookmark: _GoBack]", "数十", "元旦", "9" * 30]
report_like = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)),
                       max_size=40).map("".join)
cjk_digits = st.text(alphabet=st.sampled_from(list("0123456789.,万元亿千百十九五零%％百分之资金为 \t\n")),
                     max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(report_like, cjk_digits, st.text(max_size=200)))
def test_extractors_never_raise_and_spans_slice_back(text: str) -> None:
    doc = document_from_text(text, "prop.txt")
    for records in (extract_amounts(doc), extract_percentages(doc)):
        for record in records:
            assert 0 <= record.start < record.end <= len(text)
            assert text[record.start:record.end] == record.text
            assert record.rule
            assert record.label is None or isinstance(record.label, str)
        assert all(a.end <= b.start for a, b in zip(records, records[1:]))
    # negative only where the figure printed a minus sign of its own (结余-5.2万元)
    for record, value in [*((a, a.value_yuan) for a in extract_amounts(doc)),
                          *((p, p.value) for p in extract_percentages(doc))]:
        assert math.isfinite(value)
        assert value >= 0 or doc.norm[record.start] == "-"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40), start=st.integers(min_value=-5, max_value=50))
def test_label_before_never_raises(text: str, start: int) -> None:
    label = label_before(text, start)
    assert label is None or (isinstance(label, str) and label)


# Characters of the genre's prose, so that dictionary words (and the user dictionary's terms) occur.
fiscal_han = st.text(alphabet=st.sampled_from(list("基本支出项目收入预算执行率满意度财政拨款一般公共政府性基金"
                                                   "年初调整后人员经费公用低保救助金发放达为占共计约是了的其中"
                                                   "参保城市化首次超过完成全镇常住人口惠及群众")),
                     min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(phrase=fiscal_han)
def test_label_segmentation_is_jiebas(phrase: str) -> None:
    # labels.py computes jieba's route itself for speed; it must agree with jieba.
    segmenter = _segmenter()
    assert segmenter.words(phrase) == list(segmenter.tokenizer.cut(phrase, HMM=False))


def test_extractors_are_deterministic() -> None:
    text = "其中：基本支出2207.79万元，占64.9%；资金66万，每户800-1000元，百分之九十以上。"
    first = (extract_amounts(document_from_text(text, "a.txt")),
             extract_percentages(document_from_text(text, "a.txt")))
    second = (extract_amounts(document_from_text(text, "b.txt")),
              extract_percentages(document_from_text(text, "b.txt")))
    assert first == second
