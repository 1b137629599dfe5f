"""Consistency checks (pipeline/checks.py): each fires on an inconsistent report and passes (info)
on a consistent one; a check with nothing to compare is not emitted."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pipeline.checks import Check, check_report
from pipeline.document import Fact, Indicator


@dataclass(frozen=True)
class Example:
    name: str
    facts: dict[str, float | str | int]
    indicators: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)  # check_name -> severity
    absent: tuple[str, ...] = ()                              # checks that must not be emitted


def _run(example: Example) -> dict[str, Check]:
    facts = [Fact(k, v) for k, v in example.facts.items()]
    indicators = [Indicator(name, max_score=mx, score=sc) for name, mx, sc in example.indicators]
    return {c.check_name: c for c in check_report(facts, [], [], indicators)}


# Built from the seeds' own figures.
SEEDS = [
    # gold 000: 2207.79 + 1194.27 = 3402.06 against 3402.07万元 (0.01万 rounding) → ok
    Example("rounding_within_tolerance",
            {"expenditure_total": 34020700.0, "basic_expenditure": 22077900.0,
             "project_expenditure": 11942700.0},
            expected={"expenditure_components": "info"}),
    # gold 000: every indicator printed with full marks (sum 100) but 综合得分 99.09 → warn
    Example("full_marks_beside_lower_total", {"total_score": 99.09},
            [("a", 60.0, 60.0), ("b", 40.0, 40.0)],
            expected={"indicator_score_sum": "warn", "max_score_sum": "info",
                      "indicator_score_within_max": "info", "total_score_range": "info"}),
    # gold 001: scores sum to the stated 93.8; the unscored KPI table's weights are ignored
    Example("scored_family_only", {"total_score": 93.8},
            [("a", 50.0, 45.0), ("b", 50.0, 48.8), ("kpi", 90.0, None)],
            expected={"indicator_score_sum": "info", "max_score_sum": "info"}),
    Example("grade_matches_score", {"total_score": 95.5, "grade": "优"},
            expected={"grade_matches_score": "info"}),
    Example("report_written_the_year_after", {"fiscal_year": 2023, "report_date": "2024-03-27"},
            expected={"fiscal_year_plausible": "info"}),
    # a project form: indicators worth 90, the 年度资金总额 row's 分值 10
    Example("form_budget_points_count", {"form_budget_points": 10.0},
            [("a", 50.0, None), ("b", 40.0, None)], expected={"max_score_sum": "info"}),
    Example("rate_in_range", {"budget_execution_rate": 98.5},
            expected={"budget_execution_rate_range": "info"}),
]

INCONSISTENT = [
    Example("components_do_not_add_up",
            {"expenditure_total": 10_000_000.0, "basic_expenditure": 6_000_000.0,
             "project_expenditure": 3_000_000.0},
            expected={"expenditure_components": "warn"}),
    Example("scores_do_not_add_up", {"total_score": 90.0}, [("a", 50.0, 50.0), ("b", 50.0, 50.0)],
            expected={"indicator_score_sum": "warn"}),
    # gold 002: '补贴资金发放及时率（01分）' awarded 10 → score above maximum
    Example("score_above_max", {}, [("补贴资金发放及时率", 1.0, 10.0)],
            expected={"indicator_score_within_max": "fail"}),
    Example("max_scores_not_100", {}, [("a", 60.0, None), ("b", 31.0, None)],
            expected={"max_score_sum": "warn"}),
    Example("rate_above_100", {"budget_execution_rate": 104.2},
            expected={"budget_execution_rate_range": "warn"}),
    Example("rate_negative", {"budget_execution_rate": -1.0},
            expected={"budget_execution_rate_range": "fail"}),
    Example("score_above_100", {"total_score": 120.0}, expected={"total_score_range": "fail"}),
    # issue 8: a grade that the national default bands do not give for the score
    Example("grade_does_not_match_score", {"total_score": 85.0, "grade": "优"},
            expected={"grade_matches_score": "warn"}),
    Example("report_dated_before_its_year", {"fiscal_year": 2023, "report_date": "2022-04-01"},
            expected={"fiscal_year_plausible": "warn"}),
    # issue 8: a township the division table does not resolve is flagged, never guessed
    Example("township_not_resolved", {"township": "城关镇"}, expected={"township_resolved": "warn"}),
]

NOT_APPLICABLE = [
    Example("nothing_to_compare", {"expenditure_total": 1.0},
            absent=("expenditure_components", "budget_execution_rate_range")),
    Example("township_resolved_has_its_code",
            {"township": "广普镇", "township_code": "500120106000"}, absent=("township_resolved",)),
    Example("no_township", {"county": "渠县"}, absent=("township_resolved",)),
    Example("no_scored_indicators", {"total_score": 95.0}, [("a", None, None)],
            expected={"total_score_range": "info"},
            absent=("indicator_score_sum", "indicator_score_within_max", "max_score_sum")),
]


@pytest.mark.parametrize("example", SEEDS + INCONSISTENT + NOT_APPLICABLE, ids=lambda e: e.name)
def test_check_statuses(example: Example) -> None:
    got = {name: c.severity for name, c in _run(example).items()}
    assert {name: got.get(name) for name in example.expected} == example.expected
    assert not set(example.absent) & set(got)


def test_failed_check_says_why() -> None:
    checks = _run(INCONSISTENT[0])
    check = checks["expenditure_components"]
    assert "9000000.00" in check.message and "-1000000.00" in check.message
    assert (check.expected, check.found) == ("10000000.00", "9000000.00")
    assert [r.key for r in check.records] == ["expenditure_total", "basic_expenditure",
                                              "project_expenditure"]


def test_checks_are_pure() -> None:
    facts = [Fact("total_score", 90.0)]
    indicators = [Indicator("a", max_score=100.0, score=90.0)]
    first = check_report(facts, [], [], indicators)
    assert check_report(facts, [], [], indicators) == first
    assert facts == [Fact("total_score", 90.0)]


def test_every_check_row_points_at_the_records_it_compared() -> None:
    """records_json is what the checks table stores: the facts and indicators compared, by key
    and span, so an analyst can go from a failed check to the sentences."""
    import json

    facts = [Fact("total_score", 90.0, 10, 14, "90分", "score.composite")]
    indicators = [Indicator("a", max_score=50.0, score=50.0, start=100, end=120),
                  Indicator("b", max_score=50.0, score=50.0, start=130, end=150)]
    [check] = [c for c in check_report(facts, [], [], indicators)
               if c.check_name == "indicator_score_sum"]
    assert check.severity == "warn" and (check.expected, check.found) == ("90", "100")
    records = json.loads(check.records_json())
    assert records[0] == {"table": "facts", "key": "total_score", "start": 10, "end": 14}
    assert records[1] == {"table": "indicators", "key": "*", "start": -1, "end": -1}  # all summed
    # a check about some indicators names each of them, with its span
    indicators[1].score = 60.0
    [over] = [c for c in check_report(facts, [], [], indicators)
              if c.check_name == "indicator_score_within_max"]
    assert [(r["key"], r["start"]) for r in json.loads(over.records_json())] == [("b", 130)]


def test_checks_are_registered_once_and_named_uniquely() -> None:
    from pipeline.checks import CHECKS

    assert len(CHECKS) == len(set(CHECKS))
    assert all(c.__doc__ for c in CHECKS)  # each says what it checks, with an example


def test_the_seeds_get_exactly_the_inconsistencies_they_contain() -> None:
    """Issue 8: on the five real seeds, the checks flag the three inconsistencies the documents
    hold, and nothing on their consistent figures."""
    from pipeline.extract import extract_path
    from tests.conftest import SEEDS as SEED_DIR

    flagged = {(path.name[:3], c.check_name, c.severity, c.expected, c.found)
               for path in sorted(SEED_DIR.glob("*.txt"))
               for c in extract_path(path).checks if c.severity != "info"}
    assert flagged == {
        # indicator scores printed with full marks (sum 100) beside 综合得分 99.09
        ("000", "indicator_score_sum", "warn", "99.09", "100"),
        # 补贴资金发放及时率（01分） awarded 10: the points' digits transposed
        ("002", "points_typo", "warn", "10", "01"),
        # "基本支出共计2023.37万元，其中…项目支出448.17万元": the total called 基本支出
        ("003", "label_contradicts_figure", "warn", "expenditure_total", "基本支出"),
        # found by group_points (issue 8): the form prints 产出指标（50分） above rows worth
        # 10+10+10+5+10+5+10+10 = 70 and 效益指标（30分） above two rows of 10 (its 生态效益 and
        # 可持续影响 rows are empty): the groups' points (50+30+10, with 10 for the budget row)
        # disagree with their rows' (70+20+10)
        ("003", "group_points", "warn", "50", "70"),
        ("003", "group_points", "warn", "30", "20"),
    }


@pytest.mark.parametrize("text,severities", [
    # seed 000's own figures: consistent
    ("支出合计3402.07万元，其中：基本支出2207.79万元，占64.9%；项目支出1194.27万元，占35.1%。",
     ["info", "info"]),
    # shares listed together that add up to 100% but do not fit their amounts
    ("其中：基本支出2207.79万元，占60.9%；项目支出1194.27万元，占39.1%。", ["warn", "warn"]),
    # a share of another whole (占决算报表支出的) that fits no total of the report: not judged
    ("支出合计1599.38万元。其中：工资福利支出1059.39万元，占决算报表支出的60.24%。", []),
])
def test_stated_shares_against_their_amounts(text: str, severities: list[str]) -> None:
    from pipeline.extract import extract_document
    from pipeline.ingest import document_from_text

    checks = extract_document(document_from_text("一、基本情况\n" + text, "x.txt")).checks
    assert [c.severity for c in checks if c.check_name == "share_matches_amounts"] == severities


# Issue 8's further checks, on real wording through the real extraction: (check, severity,
# expected, found) of every row of the checks named.
PARTS_AND_RATES = [
    # sample h02: 支出 and its 其中 list of 人员经费, 公用经费 and 项目支出 (434.89 + 77.4 + 286.83)
    ("h02_spending_listed_under_the_total",
     "2、支出:799.12万元。其中:人员经费支出434.89万元,公用经费支出77.4万元,项目支出286.83万元。",
     [("basic_expenditure_parts", "info", "7991200.00", "7991200.00")]),
    ("basic_expenditure_parts_do_not_add_up",
     "基本支出1132.68万元，其中：人员经费1059.39万元，日常公用经费53.29万元。",
     [("basic_expenditure_parts", "warn", "11326800.00", "11126800.00")]),
    # seed 001: 调整后财政拨款收入 and its two funds
    ("seed_001_income_by_fund",
     "调整后财政拨款收入1599.38万元。其中：一般公共预算财政拨款收入1493.56万元，占93.38%；"
     "政府性基金预算财政拨款收入105.82万元，占6.62%。",
     [("income_parts", "info", "15993800.00", "15993800.00")]),
    ("income_parts_exceed_the_total",
     "收入合计500万元，其中：财政拨款收入450万元，上年结转100万元。",
     [("income_parts", "warn", "5000000.00", "5500000.00")]),
    # a 其中 list may name only some sources: falling short is not judged; a change is no part
    ("income_parts_may_leave_some_out",
     "收入合计500万元，其中：财政拨款收入450万元，同比增加30万元。", []),
    # a total whose 其中 list is two sentences away (h02's 收入): not read as its parts
    ("income_list_not_right_after_its_total",
     "1、收入:792.22万元。同比上年度增加189.25万元。其中:财政拨款收入700万元。", []),
]

FORM_HEADER = "项目资金(万元) 年初预算数 全年预算数 全年执行数 分值 执行率 得分\n"
FORMS = [
    ("h27_form_rate_agrees",
     FORM_HEADER + "年度资金总额 20 20 20 10 100.00% 10\n其中:当年财政拨款 20\n",
     [("execution_rate_matches", "info", "100.00", "100")]),
    ("form_rate_disagrees",
     FORM_HEADER + "年度资金总额 50 48.00 46.50 10 96.50% 9.65\n其中:当年财政拨款 50\n",
     [("execution_rate_matches", "warn", "96.88", "96.5")]),
    # h25: a form printed with zeros has no rate to compare
    ("form_without_budget",
     FORM_HEADER + "年度资金总额 0 0 0 10 0 0\n其中:当年财政拨款 90\n", []),
]

GRADES = [
    # the report's own bands make 85 a 优 (the national defaults would say 良)
    ("stated_bands_used",
     "评价结果：85分（含）以上为优，75（含）-85分为良，60（含）-75分为中，60分以下为差。"
     "综合得分85分，评价等级为优。",
     [("grade_matches_score", "info", "优", "优")]),
    ("stated_bands_contradicted",
     "90分（含）以上为优，80（含）-90分为良，60（含）-80分为中，60分以下为差。综合得分85分，评价等级为优。",
     [("grade_matches_score", "warn", "良", "优")]),
    # two bands are no scheme: the national defaults apply
    # seed 003's wording: the grade first, its band in brackets; 优 printed for the band 优秀
    ("grade_first_bands_and_a_short_grade",
     "综合评价等级分为优秀（大于90分）、良好（80-90分）、较差（60-80分）、 差（小于60分）。"
     "综合得分95分，评价等级为优。",
     [("grade_matches_score", "info", "优秀", "优")]),
    ("grade_first_bands_graded_wrong",
     "综合评价等级分为优秀（大于90分）、良好（80-90分）、较差（60-80分）、 差（小于60分）。"
     "综合得分85分，评价等级为优。",
     [("grade_matches_score", "warn", "良好", "优")]),
    ("too_few_bands_read_as_defaults",
     "85分以上为优，60分以下为差。综合得分85分，评价等级为优。",
     [("grade_matches_score", "warn", "良", "优")]),
]


def _checks_of(text: str, names: set[str]) -> list[tuple[str, str, str | None, str | None]]:
    from pipeline.extract import extract_document
    from pipeline.ingest import document_from_text

    checks = extract_document(document_from_text("一、基本情况\n" + text, "x.txt")).checks
    return [(c.check_name, c.severity, c.expected, c.found) for c in checks if c.check_name in names]


@pytest.mark.parametrize("name,text,rows", PARTS_AND_RATES + FORMS + GRADES,
                         ids=[e[0] for e in PARTS_AND_RATES + FORMS + GRADES])
def test_parts_rates_and_grades(name: str, text: str, rows: list[tuple[str, str, str, str]]) -> None:
    names = {"basic_expenditure_parts", "income_parts", "execution_rate_matches",
             "grade_matches_score"}
    assert _checks_of(text, names) == rows


@pytest.mark.parametrize("path,expected", [
    # sample h27: 产出指标(70分), 效益指标(20分), 满意度指标(10分) over rows worth as much
    ("samples/docs/h27.txt", [("info", "70", "70"), ("info", "20", "20"), ("info", "10", "10")]),
    # seed 003: the groups' points disagree with their rows (see the seeds' test above)
    ("seeds/003_cbba9d689f5f66a1.txt", [("warn", "50", "70"), ("warn", "30", "20"),
                                        ("info", "10", "10")]),
])
def test_group_points_against_their_rows(path: str, expected: list[tuple[str, str, str]]) -> None:
    from pipeline.extract import extract_path
    from tests.conftest import DATA

    checks = extract_path(DATA / path).checks
    assert [(c.severity, c.expected, c.found) for c in checks
            if c.check_name == "group_points"] == expected


def test_seed_003_is_graded_under_the_bands_it_states() -> None:
    from pipeline.extract import extract_path
    from tests.conftest import DATA

    ex = extract_path(DATA / "seeds" / "003_cbba9d689f5f66a1.txt")
    assert ex.fact("grade_bands") == "优秀≥90;良好≥80;较差≥60;差≥0"
    assert [(c.severity, c.expected, c.found) for c in ex.checks
            if c.check_name == "grade_matches_score"] == [("info", "优秀", "优")]
