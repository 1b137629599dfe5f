"""Example table for ``extract_percentages``: snippets and the percentages expected in them.

SEEDS are real snippets from the seed and sample reports; TRICKY are forms of the genre the seeds
do not show (百分之 in Chinese or Arabic numerals, ranges, full-width ％, per-mille, percentage
points); BUGS_FOUND pin mistakes found while building the extractor; HARD_XFAIL are known
failures, strict so that a fix is noticed.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from extractors.percentages import extract_percentages
from pipeline.ingest import document_from_text


@dataclass(frozen=True)
class Example:
    """A snippet and every percentage expected in it, in text order, as (text, value);
    ``labels``, when given, are the expected labels, ``rules`` the rule ids."""

    text: str
    expected: list[tuple[str, float]]
    labels: list[str | None] | None = None
    rules: list[str] | None = None


SEEDS = [
    Example("收入预算：2024年度收入合计3402.07万元，较上年决算数增加520.46万元，增加18.06%，",
            [("18.06%", 18.06)]),
    Example("其中：基本支出2207.79万元，占64.9%；项目支出1194.27万元，占35.1%。",
            [("64.9%", 64.9), ("35.1%", 35.1)]),
    Example("城乡居民医疗保险参保19360人，职工医保参保3645人，参保率超93%，低保、特困、计生等特殊人员参保率100%。",
            [("93%", 93.0), ("100%", 100.0)], labels=["参保率", "人员参保率"]),
    Example("全年共计排查各项矛盾纠纷一百多起，通过努力，就地处置的占百分之九十以上，",
            [("百分之九十", 90.0)], rules=["percent.baifenzhi"]),
    Example("森林受害面积93.24公顷,低于控制指标1169.76公顷;森林受害率0.0738‰,低于控制指标0.8262个千分点。",
            []),
    Example("2020年我国城市化率首次超过60%,开始进入深度城市化阶段,", [("60%", 60.0)],
            labels=["城市化率"]),
    Example("来访信访件6件，领导接访事件273件，信访案件结案率达95%以上，该指标绩效评价得分为10分。",
            [("95%", 95.0)], labels=["案件结案率"]),
    Example("指标值：90%\n", [("90%", 90.0)], labels=["指标值"]),
    Example("涉及预算总金额282.86万元，1—12月预算执行总体进度为100%，其中：预算结余率大于10%的项目共计0个。",
            [("100%", 100.0), ("10%", 10.0)], labels=["预算执行总体", "预算结余率"]),
    Example("已完成预期指标值的数量指标27个，部门项目中已完成的数量指标偏离度在30%内的指标占比0%。",
            [("30%", 30.0), ("0%", 0.0)], labels=["数量指标偏离度", "指标占比"]),
    Example("全市林地面积145.29万公顷,森林面积133.14万公顷,森林覆盖率达69.83%,森林蓄积1.26亿立方米。",
            [("69.83%", 69.83)], labels=["森林覆盖率"]),
    Example("改善牧民生活条件,使牧民满意度达到95%以上,促进社会和谐发展。", [("95%", 95.0)],
            labels=["牧民满意度"]),
    Example("改造后房屋人畜分离、卫生厕所等基本卫生条件有基本保障的比例、改造后入住率均达100%。",
            [("100%", 100.0)], labels=["入住率"]),
    Example("项目,项目全年预算数*元,执行数*元,完成预算的100%。", [("100%", 100.0)]),
]

TRICKY = [
    Example("预算执行率达98.5%", [("98.5%", 98.5)], labels=["预算执行率"],
            rules=["percent.arabic"]),
    Example("满意度达90％", [("90％", 90.0)], labels=["满意度"]),  # full-width ％
    Example("百分之九十五点五", [("百分之九十五点五", 95.5)]),
    Example("百分之百", [("百分之百", 100.0)]),
    Example("百分之零点五", [("百分之零点五", 0.5)]),
    Example("百分之95以上", [("百分之95", 95.0)], rules=["percent.baifenzhi_arabic"]),
    Example("百分之", []),
    Example("百分之十几", []),  # "ten-odd percent" is no figure
    Example("增长5-10%", [("5", 5.0), ("10%", 10.0)], rules=["percent.range_first", "percent.arabic"]),
    Example("增长5%-10%", [("5%", 5.0), ("10%", 10.0)]),
    Example("控制在3%～5%之间", [("3%", 3.0), ("5%", 5.0)]),
    Example("目标值≥ 90 %", [("90 %", 90.0)]),
    Example("完成率分别为95，100%", [("100%", 100.0)]),  # a Chinese comma is no thousands separator
    # the sign is kept (issue 10: a dropped sign turns a fall into a rise)
    Example("增长率为-5.2%", [("-5.2%", -5.2)], labels=["增长率"]),
    Example("控制在3%-5%之间", [("3%", 3.0), ("5%", 5.0)]),  # a range, not -5%
    Example("提高5个百分点", []),
    Example("受害率0.9‰", []),
    Example("千分之三", []),
    Example("1,200%", [("1,200%", 1200.0)]),
    Example("%", []),
]

BUGS_FOUND = [
    # jieba tags 率 as a verb: the label of 城市化率 was lost.
    Example("城市化率首次超过60%", [("60%", 60.0)], labels=["城市化率"]),
    # A masked figure before % must not lend its digits: 78.*%.
    Example("执行数78.*%", []),
]

HARD_XFAIL = [
    # A Chinese numeral followed by %.
    Example("完成九十%", [("九十%", 90.0)]),
    # A range in Chinese numerals after 百分之: the second end has no 百分之 of its own.
    Example("百分之五到十", [("百分之五", 5.0), ("十", 10.0)]),
]


def _cases() -> list[object]:
    return [*SEEDS, *TRICKY, *BUGS_FOUND,
            *[pytest.param(e, marks=pytest.mark.xfail(strict=True)) for e in HARD_XFAIL]]


@pytest.mark.parametrize("example", _cases(), ids=lambda e: e.text[:24])
def test_percentages(example: Example) -> None:
    doc = document_from_text(example.text, "example.txt")
    percentages = extract_percentages(doc)
    for percentage in percentages:
        assert doc.text[percentage.start:percentage.end] == percentage.text
        assert percentage.rule.startswith("percent.")
    assert [(p.text, p.value) for p in percentages] == example.expected
    if example.labels is not None:
        assert [p.label for p in percentages] == example.labels
    if example.rules is not None:
        assert [p.rule for p in percentages] == example.rules
