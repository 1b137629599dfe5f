"""The budget row of a scoring form in every text rendering (extractors/budget_form.py), and the
key figures it gives (issue 7: expenditure and execution rate from 年度资金总额)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from extractors.budget_form import read_budget_row
from pipeline.extract import extract_document
from pipeline.ingest import document_from_text

HEADER = ["项目资金(万元)", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]
ROW = ["年度资金总额", "50", "48", "46.5", "10", "96.88%", "9.69"]
NEXT = ["其中:当年财政拨款", "50", "48", "46.5", "—", "—", "—"]
EXPECTED = {"planned": 50.0, "budget": 48.0, "executed": 46.5, "points": 10.0, "rate": 96.88,
            "score": 9.69}


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    expected: dict[str, float] | None   # column -> value, or None: nothing is read
    multiplier: int = 10000


def _rows(sep: str, end: str = "\n") -> str:
    return "".join(sep.join(r) + end for r in (HEADER, ROW, NEXT))


RENDERINGS = [
    Case("pipes", _rows(" | "), EXPECTED),
    Case("tabs", _rows("\t"), EXPECTED),
    Case("one cell a line", _rows("\n"), EXPECTED),
    Case("spaces, all on one line", _rows(" ", " "), EXPECTED),
    Case("pipes with an empty cell kept in place",
         " | ".join(HEADER) + "\n| 年度资金总额 | | 48 | 46.5 | 10 | 96.88% | 9.69\n",
         {k: v for k, v in EXPECTED.items() if k != "planned"}),
    # 中江县 (h27): a doc-sharing site printed the form with no separators at all
    Case("run together",
         "资金情况(万元)全年预算数(A)全年执行数(B)分值执行率(B/A)得分年度资金总额:202010100.00%10"
         "其中:本年财政拨款2020其他资金年度总体目标",
         {"budget": 20.0, "executed": 20.0, "points": 10.0, "rate": 100.0, "score": 10.0}),
    Case("run together with decimals",
         "全年预算数全年执行数分值执行率得分年度资金总额48.546.51095.88%9.59其中",
         {"budget": 48.5, "executed": 46.5, "points": 10.0, "rate": 95.88, "score": 9.59}),
    Case("fewer cells than columns: placed around the rate",
         " ".join(HEADER) + "\n年度资金总额 48 46.5 10 96.88% 9.69\n",
         {"budget": 48.0, "executed": 46.5, "points": 10.0, "rate": 96.88, "score": 9.69}),
    Case("another template's column names",
         "资金(万元) 预算数 执行数 执行率 得分\n年度资金总额 120 118.8 99% 9.9\n",
         {"budget": 120.0, "executed": 118.8, "rate": 99.0, "score": 9.9}),
    Case("a form in yuan",
         "项目资金(元) 全年预算数 全年执行数 执行率\n年度资金总额 480000 465000 96.88%\n",
         {"budget": 480000.0, "executed": 465000.0, "rate": 96.88}, multiplier=1),
]

NOTHING = [
    # 棠溪镇 (h25): the total row is all zeros (the money sits in 本年财政拨款): not read as spent
    Case("a total row of zeros", " ".join(HEADER) + "\n年度资金总额: 0 0 0 10 0 0\n其中:本年财政拨款 90 89.974\n",
         None),
    Case("cells that disagree with the rate", " ".join(HEADER) + "\n年度资金总额 50 48 46.5 10 50% 5\n",
         None),
    Case("fewer cells and no rate to place them by",
         " ".join(HEADER) + "\n年度资金总额 48 46.5 10\n", None),
    Case("no header: the row label in prose", "年度资金总额50万元,全年执行46.5万元。", None),
    Case("run together, two readings agree as well", "全年预算数全年执行数执行率年度资金总额1111100%其中",
         None),
]


@pytest.mark.parametrize("case", RENDERINGS + NOTHING, ids=lambda c: c.name)
def test_budget_row(case: Case) -> None:
    doc = document_from_text(case.text, "form.txt")
    row = read_budget_row(doc)
    if case.expected is None:
        assert row is None or not row.value("executed")
        return
    assert row is not None
    assert {c.column: c.value for c in row.cells} == case.expected
    assert row.multiplier == case.multiplier
    for cell in row.cells:  # every cell points at the digits it was read from
        assert float(doc.text[cell.start:cell.end].rstrip("%")) == cell.value


def test_form_budget_row_gives_the_key_figures_with_provenance() -> None:
    text = ("某镇2023年度农村公路养护项目支出绩效自评报告\n一、项目概况\n本项目用于农村公路养护。\n"
            "附件\n项目支出绩效自评表\n" + _rows(" | "))
    extracted = extract_document(document_from_text(text, "x.txt"))
    facts = {f.field: f for f in extracted.facts}
    assert facts["expenditure_total"].value == 465000.0
    assert facts["budget_execution_rate"].value == 96.88
    assert facts["expenditure_total"].text == "46.5"
    assert facts["expenditure_total"].rule == "budget_form.separated.executed"


def test_prose_figures_win_over_the_form() -> None:
    text = ("某镇2023年度项目支出绩效自评报告\n一、项目概况\n全年支出合计47万元,预算执行率97.9%。\n"
            "附件\n项目支出绩效自评表\n" + _rows(" | "))
    extracted = extract_document(document_from_text(text, "x.txt"))
    facts = {f.field: f.value for f in extracted.facts}
    assert facts["expenditure_total"] == 470000.0 and facts["budget_execution_rate"] == 97.9
