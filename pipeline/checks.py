"""Consistency checks on what was extracted from one report.

Checks flag; they never drop or correct a figure. Each returns a :class:`Check` with status
``ok``, ``warn`` (the document is internally inconsistent, as real reports often are: rounding,
full marks printed beside a lower total) or ``fail`` (an impossible value: a score above its
maximum, a negative rate). A check that has nothing to compare (a figure missing) is not emitted.

>>> from pipeline.document import Fact
>>> [c.status for c in check_report([Fact("budget_execution_rate", 104.0)], [], [], [])]
['warn']
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.document import Amount, Fact, Indicator, Percentage

# 0.05万元: the rounding of figures printed to two decimals of 万元 (2207.79 + 1194.27 = 3402.06
# against a printed 3402.07).
MONEY_TOLERANCE_YUAN = 500.0
MONEY_TOLERANCE_SHARE = 0.001  # or 0.1% of the total, whichever is larger
SCORE_TOLERANCE = 0.05
FULL_MARKS = 100.0


@dataclass
class Check:
    """The outcome of one consistency check: ``status`` is ``ok``, ``warn`` or ``fail``;
    ``values`` holds the numbers compared, so an analyst can see why without re-reading."""

    check: str
    status: str
    message: str
    values: dict[str, Any] = field(default_factory=dict)


def _value(facts: list[Fact], name: str) -> float | None:
    for f in facts:
        if f.field == name and f.value is not None:
            try:
                return float(f.value)
            except (TypeError, ValueError):
                return None
    return None


def check_expenditure_components(facts: list[Fact]) -> list[Check]:
    """基本支出 + 项目支出 ≈ 支出合计 (within 0.05万元 or 0.1%).

    >>> fs = [Fact("expenditure_total", 100.0), Fact("basic_expenditure", 60.0),
    ...       Fact("project_expenditure", 40.0)]
    >>> check_expenditure_components(fs)[0].status
    'ok'
    """
    total = _value(facts, "expenditure_total")
    basic = _value(facts, "basic_expenditure")
    project = _value(facts, "project_expenditure")
    if total is None or basic is None or project is None:
        return []
    diff = basic + project - total
    tolerance = max(MONEY_TOLERANCE_YUAN, MONEY_TOLERANCE_SHARE * abs(total))
    values = {"expenditure_total": total, "basic_expenditure": basic,
              "project_expenditure": project, "difference": round(diff, 2)}
    if abs(diff) <= tolerance:
        return [Check("expenditure_components", "ok",
                      "basic + project expenditure match the total", values)]
    return [Check("expenditure_components", "warn",
                  f"basic + project expenditure = {basic + project:.2f} yuan, but the total is "
                  f"{total:.2f} yuan (difference {diff:+.2f})", values)]


def _scored(indicators: list[Indicator]) -> list[Indicator]:
    return [i for i in indicators if i.score is not None]


def check_indicator_score_sum(facts: list[Fact], indicators: list[Indicator]) -> list[Check]:
    """The indicators' scores add up to the stated total score (综合得分).

    >>> from pipeline.document import Indicator
    >>> inds = [Indicator("a", max_score=50, score=45), Indicator("b", max_score=50, score=50)]
    >>> check_indicator_score_sum([Fact("total_score", 95.0)], inds)[0].status
    'ok'
    """
    total = _value(facts, "total_score")
    scored = _scored(indicators)
    if total is None or not scored:
        return []
    summed = round(sum(float(i.score or 0.0) for i in scored), 4)
    values = {"total_score": total, "indicator_score_sum": summed, "n_indicators": len(scored)}
    if abs(summed - total) <= SCORE_TOLERANCE:
        return [Check("indicator_score_sum", "ok", "indicator scores add up to the total score",
                      values)]
    return [Check("indicator_score_sum", "warn",
                  f"indicator scores add up to {summed:g}, the report states {total:g}", values)]


def check_indicator_scores_within_max(indicators: list[Indicator]) -> list[Check]:
    """No indicator is awarded more than it is worth (score ≤ max_score).

    >>> from pipeline.document import Indicator
    >>> check_indicator_scores_within_max([Indicator("a", max_score=1, score=10)])[0].status
    'fail'
    """
    rated = [i for i in indicators if i.score is not None and i.max_score is not None]
    if not rated:
        return []
    over = [i for i in rated if float(i.score or 0) > float(i.max_score or 0) + 1e-9]
    if not over:
        return [Check("indicator_score_within_max", "ok",
                      "no indicator scores above its maximum", {"n_indicators": len(rated)})]
    names = ", ".join(f"{i.name} ({i.score:g} > {i.max_score:g})" for i in over[:5])
    return [Check("indicator_score_within_max", "fail",
                  f"{len(over)} indicator(s) score above their maximum: {names}",
                  {"indicators": [i.name for i in over], "n_indicators": len(rated)})]


def check_max_score_sum(indicators: list[Indicator]) -> list[Check]:
    """The indicators' maximum scores (分值) add up to 100.

    When some indicators are scored, only those are summed: a report can also carry an unscored
    target table whose weights (权重) follow another scheme.

    >>> from pipeline.document import Indicator
    >>> check_max_score_sum([Indicator("a", max_score=60), Indicator("b", max_score=30)])[0].status
    'warn'
    """
    pool = [i for i in _scored(indicators) if i.max_score is not None] or \
        [i for i in indicators if i.max_score is not None]
    if not pool:
        return []
    summed = round(sum(float(i.max_score or 0.0) for i in pool), 4)
    values = {"max_score_sum": summed, "n_indicators": len(pool)}
    if abs(summed - FULL_MARKS) <= SCORE_TOLERANCE:
        return [Check("max_score_sum", "ok", "indicator maximum scores add up to 100", values)]
    return [Check("max_score_sum", "warn",
                  f"indicator maximum scores add up to {summed:g}, not 100", values)]


def check_rates_and_scores_in_range(facts: list[Fact]) -> list[Check]:
    """预算执行率 within 0–100% (above 100 is possible but suspect: warn; below 0: fail) and the
    total score within 0–100.

    >>> check_rates_and_scores_in_range([Fact("budget_execution_rate", -3.0)])[0].status
    'fail'
    """
    checks = []
    rate = _value(facts, "budget_execution_rate")
    if rate is not None:
        if rate < 0:
            checks.append(Check("budget_execution_rate_range", "fail",
                                f"budget execution rate {rate:g}% is negative", {"rate": rate}))
        elif rate > 100:
            checks.append(Check("budget_execution_rate_range", "warn",
                                f"budget execution rate {rate:g}% is above 100%", {"rate": rate}))
        else:
            checks.append(Check("budget_execution_rate_range", "ok",
                                "budget execution rate within 0–100%", {"rate": rate}))
    score = _value(facts, "total_score")
    if score is not None:
        ok = 0 <= score <= FULL_MARKS
        checks.append(Check("total_score_range", "ok" if ok else "fail",
                            "total score within 0–100" if ok else
                            f"total score {score:g} is outside 0–100", {"total_score": score}))
    return checks


def check_township_resolved(facts: list[Fact]) -> list[Check]:
    """A township named by the unit but not found in the township table is flagged, not guessed
    (a name borne by several townships with no county to tell them apart, a township merged away
    since the table's vintage, a misprint).

    >>> check_township_resolved([Fact("township", "城关镇")])[0].status
    'warn'
    >>> check_township_resolved([Fact("township", "广普镇"), Fact("township_code", "500120106000")])
    []
    """
    township = next((f for f in facts if f.field == "township" and f.value), None)
    if township is None or any(f.field == "township_code" and f.value for f in facts):
        return []
    return [Check("township_resolved", "warn",
                  f"the township {township.value} is not in the division table under the unit's "
                  "county (or its name is shared and no county tells which): no township code",
                  {"township": township.value})]


def check_report(facts: list[Fact], amounts: list[Amount], percentages: list[Percentage],
                 indicators: list[Indicator]) -> list[Check]:
    """Every applicable consistency check of one report, in a fixed order.

    ``amounts`` and ``percentages`` are accepted so that checks on them can be added without
    changing callers; the current checks use the facts and indicators.

    >>> from pipeline.document import Indicator
    >>> facts = [Fact("total_score", 90.0)]
    >>> inds = [Indicator("a", max_score=100, score=90)]
    >>> [(c.check, c.status) for c in check_report(facts, [], [], inds)]
    [('indicator_score_sum', 'ok'), ('indicator_score_within_max', 'ok'),
     ('max_score_sum', 'ok'), ('total_score_range', 'ok')]
    """
    return (check_expenditure_components(facts)
            + check_indicator_score_sum(facts, indicators)
            + check_indicator_scores_within_max(indicators)
            + check_max_score_sum(indicators)
            + check_rates_and_scores_in_range(facts)
            + check_township_resolved(facts))
