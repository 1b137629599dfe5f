"""Consistency checks (pipeline/checks.py): each fires on an inconsistent report and stays ok on a
consistent one; a check with nothing to compare is not emitted."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pipeline.checks import Check, check_report
from pipeline.document import Fact, Indicator


@dataclass(frozen=True)
class Example:
    name: str
    facts: dict[str, float | str]
    indicators: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)  # check -> status
    absent: tuple[str, ...] = ()                              # checks that must not be emitted


def _run(example: Example) -> dict[str, Check]:
    facts = [Fact(k, v) for k, v in example.facts.items()]
    indicators = [Indicator(name, max_score=mx, score=sc) for name, mx, sc in example.indicators]
    return {c.check: c for c in check_report(facts, [], [], indicators)}


# Built from the seeds' own figures.
SEEDS = [
    # gold 000: 2207.79 + 1194.27 = 3402.06 against 3402.07万元 (0.01万 rounding) → ok
    Example("rounding_within_tolerance",
            {"expenditure_total": 34020700.0, "basic_expenditure": 22077900.0,
             "project_expenditure": 11942700.0},
            expected={"expenditure_components": "ok"}),
    # gold 000: every indicator printed with full marks (sum 100) but 综合得分 99.09 → warn
    Example("full_marks_beside_lower_total", {"total_score": 99.09},
            [("a", 60.0, 60.0), ("b", 40.0, 40.0)],
            expected={"indicator_score_sum": "warn", "max_score_sum": "ok",
                      "indicator_score_within_max": "ok", "total_score_range": "ok"}),
    # gold 001: scores sum to the stated 93.8; the unscored KPI table's weights are ignored
    Example("scored_family_only", {"total_score": 93.8},
            [("a", 50.0, 45.0), ("b", 50.0, 48.8), ("kpi", 90.0, None)],
            expected={"indicator_score_sum": "ok", "max_score_sum": "ok"}),
    Example("rate_in_range", {"budget_execution_rate": 98.5},
            expected={"budget_execution_rate_range": "ok"}),
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
            expected={"total_score_range": "ok"},
            absent=("indicator_score_sum", "indicator_score_within_max", "max_score_sum")),
]


@pytest.mark.parametrize("example", SEEDS + INCONSISTENT + NOT_APPLICABLE, ids=lambda e: e.name)
def test_check_statuses(example: Example) -> None:
    got = {name: c.status for name, c in _run(example).items()}
    assert {name: got.get(name) for name in example.expected} == example.expected
    assert not set(example.absent) & set(got)


def test_failed_check_says_why() -> None:
    checks = _run(INCONSISTENT[0])
    check = checks["expenditure_components"]
    assert "9000000.00" in check.message and check.values["difference"] == -1_000_000.0


def test_checks_are_pure() -> None:
    facts = [Fact("total_score", 90.0)]
    indicators = [Indicator("a", max_score=100.0, score=90.0)]
    first = check_report(facts, [], [], indicators)
    assert check_report(facts, [], [], indicators) == first
    assert facts == [Fact("total_score", 90.0)]
