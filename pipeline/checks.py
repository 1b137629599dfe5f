"""Consistency checks on what was extracted from one report: the analyst's safety net.

Checks flag; they never drop or correct a figure. Each check is one small pure function of the
report's records (:class:`Report`), registered in :data:`CHECKS`, and returns :class:`Check`
results with a ``severity``:

* ``info``: the figures agree (the check ran and passed);
* ``warn``: the document is internally inconsistent, as real reports often are (rounding, full
  marks printed beside a lower total, a township the division table cannot place);
* ``fail``: an impossible value (a score above its maximum, a negative rate).

``expected`` and ``found`` say what was compared, and ``records`` which amounts, indicators and
facts were involved (by table, key and span), so an analyst can go from a check to the sentences.
A check that has nothing to compare (a figure missing) emits nothing.

>>> from pipeline.document import Fact
>>> [(c.check_name, c.severity) for c in check_report([Fact("budget_execution_rate", 104.0)], [], [], [])]
[('budget_execution_rate_range', 'warn')]
"""
from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.document import Amount, Fact, Indicator, Percentage

# 0.05万元: the rounding of figures printed to two decimals of 万元 (2207.79 + 1194.27 = 3402.06
# against a printed 3402.07).
MONEY_TOLERANCE_YUAN = 500.0
MONEY_TOLERANCE_SHARE = 0.001  # or 0.1% of the total, whichever is larger
SCORE_TOLERANCE = 0.05
FULL_MARKS = 100.0
SEVERITIES = ("info", "warn", "fail")
# The national default grade bands of 绩效自评 (财预〔2020〕10号): 优 ≥ 90, 良 80–90, 中 60–80, 差 < 60.
DEFAULT_GRADE_BANDS = ((90.0, "优"), (80.0, "良"), (60.0, "中"), (0.0, "差"))
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')  # what a JSON string must escape


@dataclass(frozen=True)
class Ref:
    """A record a check looked at: ``table`` (facts / indicators / amounts / percentages), its
    ``key`` (the field, the indicator's name, the amount as printed) and its span in the report's
    text (-1 when inferred). Key ``*`` stands for all the report's rows of that table that the
    check sums (its scored indicators), which a query joins by ``report_id``."""

    table: str
    key: str
    start: int = -1
    end: int = -1


@dataclass
class Check:
    """The outcome of one check on one report."""

    check_name: str
    severity: str                     # info / warn / fail
    message: str
    expected: str | None = None       # what the figures should be
    found: str | None = None          # what the report prints
    records: list[Ref] = field(default_factory=list)

    def records_json(self) -> str:
        """``records`` as the JSON the ``checks`` table stores (DuckDB reads it with ``->>``).

        Written by hand: it runs for every check of every report, where ``json.dumps`` of a few
        small objects costs more than the check.

        >>> json.loads(Check("x", "info", "", records=[Ref("facts", 'a"b', 1, 2)]).records_json())
        [{'table': 'facts', 'key': 'a"b', 'start': 1, 'end': 2}]
        """
        return "[" + ", ".join(
            '{"table": "%s", "key": %s, "start": %d, "end": %d}'
            % (r.table, json.dumps(r.key, ensure_ascii=False) if _NEEDS_ESCAPE.search(r.key)
               else f'"{r.key}"', r.start, r.end) for r in self.records) + "]"


@dataclass
class Report:
    """What the checks read: the report's facts and records."""

    facts: list[Fact]
    amounts: list[Amount] = field(default_factory=list)
    percentages: list[Percentage] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    text: str = ""   # the analysis text the records' spans point into (doc.norm)

    def fact(self, name: str) -> Fact | None:
        return self.by_field.get(name)

    @functools.cached_property
    def by_field(self) -> dict[str, Fact]:
        """The first fact with a value of each field."""
        out: dict[str, Fact] = {}
        for f in self.facts:
            if f.value is not None:
                out.setdefault(f.field, f)
        return out

    def number(self, name: str) -> float | None:
        f = self.fact(name)
        try:
            return None if f is None else float(f.value)
        except (TypeError, ValueError):
            return None


ALL_INDICATORS = Ref("indicators", "*")


def _ref(f: Fact) -> Ref:
    return Ref("facts", f.field, f.start, f.end)


def _iref(i: Indicator) -> Ref:
    return Ref("indicators", i.name, i.start, i.end)


def _num(x: float) -> str:
    return f"{x:g}"


def _facts(r: Report, *names: str) -> list[Ref]:
    return [_ref(f) for n in names if (f := r.fact(n)) is not None]


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

def _money_parts(name: str, what: str, total: Fact, parts: list[Fact],
                 complete: bool = True) -> list[Check]:
    """The parts of a money total against it (within 0.05万元 or 0.1%); ``what`` names the parts
    in the message. Parts of a list that may leave some out (``complete`` false) are only judged
    when they add up to more than the total."""
    whole = float(total.value)  # type: ignore[arg-type]
    summed = sum(float(p.value) for p in parts)  # type: ignore[arg-type]
    diff = summed - whole
    refs = [_ref(total)] + [_ref(p) for p in parts]
    if abs(diff) <= max(MONEY_TOLERANCE_YUAN, MONEY_TOLERANCE_SHARE * abs(whole)):
        return [Check(name, "info", f"{what} match the total", f"{whole:.2f}", f"{summed:.2f}", refs)]
    if diff < 0 and not complete:
        return []  # the list may leave a part out
    return [Check(name, "warn", f"{what} = {summed:.2f} yuan, but the total is {whole:.2f} yuan "
                  f"(difference {diff:+.2f})", f"{whole:.2f}", f"{summed:.2f}", refs)]


def _money_facts(r: Report, *names: str) -> list[Fact] | None:
    """The facts of ``names``, or None when one is missing or not a number."""
    facts = [r.fact(n) for n in names]
    if any(f is None or r.number(f.field) is None for f in facts):
        return None
    return facts  # type: ignore[return-value]


def check_expenditure_components(r: Report) -> list[Check]:
    """基本支出 + 项目支出 ≈ 支出合计 (within 0.05万元 or 0.1%).

    >>> fs = [Fact("expenditure_total", 100.0), Fact("basic_expenditure", 60.0),
    ...       Fact("project_expenditure", 40.0)]
    >>> check_expenditure_components(Report(fs))[0].severity
    'info'
    """
    facts = _money_facts(r, "expenditure_total", "basic_expenditure", "project_expenditure")
    if facts is None:
        return []
    return _money_parts("expenditure_components", "basic + project expenditure", facts[0], facts[1:])


def check_basic_expenditure_parts(r: Report) -> list[Check]:
    """人员经费 + 公用经费 ≈ 基本支出, when the 其中 list of 基本支出 names them; when they are
    listed with 项目支出 under the total (``支出799.12万元。其中:人员经费…,公用经费…,项目支出…``),
    the three ≈ 支出合计. Same tolerance as :func:`check_expenditure_components`.

    >>> under = "part.personnel.under_basic_expenditure"
    >>> fs = [Fact("basic_expenditure", 1e6), Fact("personnel_expenditure", 7e5, rule=under),
    ...       Fact("public_expenditure", 2e5, rule=under)]
    >>> c = check_basic_expenditure_parts(Report(fs))[0]
    >>> c.severity, c.expected, c.found
    ('warn', '1000000.00', '900000.00')
    """
    parts = _money_facts(r, "personnel_expenditure", "public_expenditure")
    if parts is None or parts[0].rule.rpartition(".under_")[2] != parts[1].rule.rpartition(".under_")[2]:
        return []
    under = parts[0].rule.rpartition(".under_")[2]
    if under == "basic_expenditure" and (total := r.fact("basic_expenditure")) is not None:
        return _money_parts("basic_expenditure_parts", "personnel + public expenditure", total, parts)
    project = r.fact("project_expenditure")
    if under == "expenditure_total" and (total := r.fact("expenditure_total")) is not None \
            and project is not None and _listed_together(r.text, parts + [project]):
        return _money_parts("basic_expenditure_parts", "personnel + public + project expenditure",
                            total, parts + [project])
    return []


def _listed_together(text: str, facts: list[Fact]) -> bool:
    """The facts stand in one sentence of ``text`` (one 其中 list), in the order given."""
    starts = [f.start for f in facts]
    return (bool(text) and 0 <= starts[0] and starts == sorted(starts)
            and "。" not in text[starts[0]:starts[-1]] and "\n" not in text[starts[0]:starts[-1]])


def check_income_parts(r: Report) -> list[Check]:
    """The income sources the 其中 list after 收入合计 names (财政拨款收入, 其他收入, 上年结转 …) add
    up to it. A 其中 list may name only some sources: parts that fall short are not judged, parts
    that exceed the total are.

    >>> fs = [Fact("income_total", 1e6)] + [
    ...     Fact("income_part", v, rule="part.income_source.under_income_total") for v in (6e5, 6e5)]
    >>> c = check_income_parts(Report(fs))[0]
    >>> c.severity, c.expected, c.found
    ('warn', '1000000.00', '1200000.00')
    """
    total = r.fact("income_total")
    parts = [f for f in r.facts if f.field == "income_part" and f.rule.endswith(".under_income_total")]
    if total is None or r.number("income_total") is None or not parts:
        return []
    return _money_parts("income_parts", "the income sources listed", total, parts, complete=False)


def _printed_decimals(f: Fact) -> int:
    """How many decimals a fact's number was printed with (``96.88%`` → 2; unknown → 0)."""
    m = re.search(r"\d+(?:\.(\d+))?", f.text)
    return len(m.group(1) or "") if m else 0


def _printed_half_unit(f: Fact) -> float:
    """Half the last printed digit of a money fact, in yuan: the rounding its value may carry
    (``46.5`` 万元 → 500)."""
    m = re.search(r"\d+(?:\.\d+)?", f.text.replace(",", ""))
    printed = float(m.group(0)) if m else 0.0
    scale = float(f.value) / printed if printed else 1.0  # type: ignore[arg-type]
    return 0.5 * 10 ** -_printed_decimals(f) * scale


def check_execution_rate_matches(r: Report) -> list[Check]:
    """A scoring form's 执行率 equals its 全年执行数 / 全年预算数 (年度资金总额 row), within the
    precision printed: half the rate's last digit plus what the rounding of the amounts allows.

    >>> fs = [Fact("form_budget", 480000.0, 0, 2, "48"), Fact("form_executed", 465000.0, 3, 7, "46.5"),
    ...       Fact("form_execution_rate", 96.88, 8, 13, "96.88")]
    >>> check_execution_rate_matches(Report(fs))[0].severity
    'info'
    """
    facts = _money_facts(r, "form_budget", "form_executed", "form_execution_rate")
    if facts is None:
        return []
    budget, executed, rate = facts
    b, e, printed = float(budget.value), float(executed.value), float(rate.value)  # type: ignore[arg-type]
    db, de = _printed_half_unit(budget), _printed_half_unit(executed)
    if b - db <= 0:
        return []  # no budget (a form printed with zeros): no rate to compare
    computed = e / b * 100
    slack = 0.5 * 10 ** -_printed_decimals(rate)
    low, high = max(0.0, e - de) / (b + db) * 100 - slack, (e + de) / (b - db) * 100 + slack
    refs = [_ref(f) for f in facts]
    if low <= printed <= high:
        return [Check("execution_rate_matches", "info", "the execution rate is executed / budget",
                      f"{computed:.2f}", _num(printed), refs)]
    return [Check("execution_rate_matches", "warn",
                  f"executed / budget = {e:.2f} / {b:.2f} yuan = {computed:.2f}%, the form prints "
                  f"{printed:g}%", f"{computed:.2f}", _num(printed), refs)]


# Rules of report facts that took a figure printed under a contradicting label (extractors/
# report_facts.py): the rule id, and the label the document printed.
MISLABELLED = {"expenditure.basic_includes_project": "基本支出"}


def check_label_contradicts_figure(r: Report) -> list[Check]:
    """A figure printed under a label its own breakdown contradicts: the total spending called
    基本支出 although its 其中 list includes 项目支出. The figure is kept as what it is (the
    total); the document's wording is named.

    >>> fs = [Fact("expenditure_total", 20233700.0, 5, 14, "2023.37万元",
    ...            "expenditure.basic_includes_project")]
    >>> c = check_label_contradicts_figure(Report(fs))[0]
    >>> c.severity, c.expected, c.found
    ('warn', 'expenditure_total', '基本支出')
    """
    out = []
    for f in r.facts:
        printed = MISLABELLED.get(f.rule)
        if printed is not None:
            out.append(Check("label_contradicts_figure", "warn",
                             f"the report calls {f.text or f.value} {printed}, but its breakdown "
                             f"(其中 … 项目支出) makes it the {f.field}",
                             f.field, printed, [_ref(f)]))
    return out


def _scored(indicators: list[Indicator]) -> list[Indicator]:
    return [i for i in indicators if i.score is not None]


def check_indicator_score_sum(r: Report) -> list[Check]:
    """The indicators' scores add up to the stated total score (综合得分).

    >>> inds = [Indicator("a", max_score=50, score=45), Indicator("b", max_score=50, score=50)]
    >>> check_indicator_score_sum(Report([Fact("total_score", 95.0)], indicators=inds))[0].severity
    'info'
    """
    total = r.number("total_score")
    scored = _scored(r.indicators)
    if total is None or not scored:
        return []
    summed = round(sum(float(i.score or 0.0) for i in scored), 4)
    refs = _facts(r, "total_score") + [ALL_INDICATORS]
    if abs(summed - total) <= SCORE_TOLERANCE:
        return [Check("indicator_score_sum", "info", "indicator scores add up to the total score",
                      _num(total), _num(summed), refs)]
    return [Check("indicator_score_sum", "warn",
                  f"indicator scores add up to {summed:g}, the report states {total:g}",
                  _num(total), _num(summed), refs)]


def check_indicator_scores_within_max(r: Report) -> list[Check]:
    """No indicator is awarded more than it is worth (score ≤ max_score). Points that look like a
    typo of the score's order (``01分`` beside a score of 10) are named as such.

    >>> c = check_indicator_scores_within_max(Report([], indicators=[
    ...     Indicator("补贴资金发放及时率", max_score=1, score=10)]))[0]
    >>> c.severity, "typo" in c.message
    ('fail', True)
    """
    rated = [i for i in r.indicators if i.score is not None and i.max_score is not None]
    if not rated:
        return []
    over = [i for i in rated if float(i.score or 0) > float(i.max_score or 0) + 1e-9]
    if not over:
        return [Check("indicator_score_within_max", "info",
                      "no indicator scores above its maximum", None, None, [ALL_INDICATORS])]
    parts = []
    for i in over[:5]:
        score, points = float(i.score or 0), float(i.max_score or 0)
        typo = points > 0 and score == points * 10 and points < 10
        parts.append(f"{i.name} ({score:g} > {points:g}"
                     + (f"; the points look like a typo of {score:g}" if typo else "") + ")")
    return [Check("indicator_score_within_max", "fail",
                  f"{len(over)} indicator(s) score above their maximum: " + ", ".join(parts),
                  "; ".join(f"≤ {float(i.max_score or 0):g}" for i in over),
                  "; ".join(_num(float(i.score or 0)) for i in over), [_iref(i) for i in over])]


def check_points_typo(r: Report) -> list[Check]:
    """Points printed with their digits transposed (``（01分）`` beside a score of 10) were read as
    the score's order (10); the document's typo is named, so the corrected figure is not silent.

    >>> check_points_typo(Report([], indicators=[Indicator("补贴资金发放及时率", max_score=10, score=10,
    ...                                                    rule="prose.points_heading.points_typo")]))[0].severity
    'warn'
    """
    typos = [i for i in r.indicators if i.rule.endswith(".points_typo")]
    if not typos:
        return []
    return [Check("points_typo", "warn",
                  "points printed with transposed digits, read as the score's order: "
                  + ", ".join(f"{i.name} ({float(i.max_score or 0):g} 分)" for i in typos),
                  "; ".join(_num(float(i.max_score or 0)) for i in typos),
                  # the digits as printed: the extractor read them back reversed (01 → 10)
                  "; ".join(_num(float(i.max_score or 0))[::-1] for i in typos),
                  [_iref(i) for i in typos])]


def check_max_score_sum(r: Report) -> list[Check]:
    """The indicators' maximum scores (分值) add up to 100.

    When some indicators are scored, only those are summed: a report can also carry an unscored
    target table whose weights (权重) follow another scheme. A project form's 年度资金总额 row has
    points of its own (分值 10 beside indicators worth 90): they count when they make up 100.

    >>> check_max_score_sum(Report([], indicators=[Indicator("a", max_score=60),
    ...                                            Indicator("b", max_score=30)]))[0].severity
    'warn'
    """
    pool = [i for i in _scored(r.indicators) if i.max_score is not None] or \
        [i for i in r.indicators if i.max_score is not None]
    if not pool:
        return []
    summed = round(sum(float(i.max_score or 0.0) for i in pool), 4)
    refs = [ALL_INDICATORS]
    budget_points = r.number("form_budget_points")
    if budget_points is not None and abs(summed + budget_points - FULL_MARKS) <= SCORE_TOLERANCE:
        # a project form gives the execution rate its own points (10) beside the indicators' 90
        summed = round(summed + budget_points, 4)
        refs += _facts(r, "form_budget_points")
    if abs(summed - FULL_MARKS) <= SCORE_TOLERANCE:
        return [Check("max_score_sum", "info", "indicator maximum scores add up to 100",
                      _num(FULL_MARKS), _num(summed), refs)]
    return [Check("max_score_sum", "warn", f"indicator maximum scores add up to {summed:g}, not 100",
                  _num(FULL_MARKS), _num(summed), refs)]


def _group_name(printed: str) -> str:
    """The group a points label names: ``产出指标（50分）`` → ``产出指标``."""
    return re.sub(r"\s+", "", re.split(r"[(（]", printed, maxsplit=1)[0])


def check_group_points(r: Report) -> list[Check]:
    """A group label's points (``产出指标（50分）``) equal the sum of its rows' 分值: the
    indicators of that level1 (or level2) group from the label on, up to the next label of a group
    of the same level (a table printed twice gives its rows once, under its first rendering).

    >>> fs = [Fact("group_points", 50.0, 0, 9, "产出指标（50分）")]
    >>> inds = [Indicator("a", level1="产出指标", max_score=20, start=10, end=20),
    ...         Indicator("b", level1="产出指标", max_score=20, start=21, end=30)]
    >>> c = check_group_points(Report(fs, indicators=inds))[0]
    >>> c.severity, c.expected, c.found
    ('warn', '50', '40')
    """
    labels = sorted((f for f in r.facts if f.field == "group_points" and f.start >= 0),
                    key=lambda f: f.start)
    if not labels:
        return []
    level_of: dict[str, int] = {}
    for i in r.indicators:
        if i.level2:
            level_of.setdefault(i.level2, 2)
        if i.level1:
            level_of[i.level1] = 1
    out = []
    for k, label in enumerate(labels):
        name = _group_name(label.text)
        level = level_of.get(name)
        if level is None:
            continue
        stop = next((f.start for f in labels[k + 1:]
                     if level_of.get(_group_name(f.text), 3) <= level), float("inf"))
        rows = [i for i in r.indicators if (i.level1 if level == 1 else i.level2) == name
                and i.end > label.start and 0 <= i.start < stop]
        if not rows or any(i.max_score is None for i in rows):
            continue
        summed = round(sum(float(i.max_score or 0.0) for i in rows), 4)
        points = float(label.value)  # type: ignore[arg-type]
        refs = [_ref(label)] + [_iref(i) for i in rows]
        if abs(summed - points) <= SCORE_TOLERANCE:
            out.append(Check("group_points", "info", f"the rows of {label.text} add up to its points",
                             _num(points), _num(summed), refs))
        else:
            out.append(Check("group_points", "warn",
                             f"the {len(rows)} rows of {label.text} are worth {summed:g} points, "
                             f"the group {points:g}", _num(points), _num(summed), refs))
    return out


# The most a report can plausibly state, in yuan: a township's whole budget is far below 100亿元,
# a county department's (or a county's) below 1万亿元. A larger figure is a misreading or a typo.
MAX_TOWNSHIP_YUAN = 1e10
MAX_REPORT_YUAN = 1e12


def check_amount_magnitude(r: Report) -> list[Check]:
    """No amount beyond what a report of its kind can hold (a township's report of 1e24 yuan).

    >>> a = [Amount(0, 6, "100万元", 1e6, "万元"), Amount(9, 17, "5000亿亿元", 5e19, "亿元")]
    >>> c = check_amount_magnitude(Report([Fact("township", "宝城镇")], amounts=a))
    >>> [(x.severity, x.found) for x in c]
    [('fail', '5000亿亿元')]
    """
    township = r.fact("township") is not None
    ceiling = MAX_TOWNSHIP_YUAN if township else MAX_REPORT_YUAN
    out = []
    for a in r.amounts:
        if a.value_yuan is not None and abs(a.value_yuan) > ceiling:
            whose = "a township's report" if township else "a report"
            out.append(Check("amount_magnitude", "fail",
                             f"{a.text} is {a.value_yuan:.4g} yuan, more than {whose} can state "
                             f"({ceiling:.0e} yuan): a misreading or a typo", f"≤ {ceiling:.0e}",
                             a.text, [Ref("amounts", a.text, a.start, a.end)]))
    return out


def check_rate_range(r: Report) -> list[Check]:
    """预算执行率 within 0–100% (above 100 is possible but suspect: warn; below 0: fail).

    >>> check_rate_range(Report([Fact("budget_execution_rate", -3.0)]))[0].severity
    'fail'
    """
    rate = r.number("budget_execution_rate")
    if rate is None:
        return []
    refs = _facts(r, "budget_execution_rate")
    if rate < 0:
        return [Check("budget_execution_rate_range", "fail",
                      f"budget execution rate {rate:g}% is negative", "0–100", _num(rate), refs)]
    if rate > 100:
        return [Check("budget_execution_rate_range", "warn",
                      f"budget execution rate {rate:g}% is above 100%", "0–100", _num(rate), refs)]
    return [Check("budget_execution_rate_range", "info", "budget execution rate within 0–100%",
                  "0–100", _num(rate), refs)]


def check_total_score_range(r: Report) -> list[Check]:
    """The total score within 0–100.

    >>> check_total_score_range(Report([Fact("total_score", 120.0)]))[0].severity
    'fail'
    """
    score = r.number("total_score")
    if score is None:
        return []
    ok = 0 <= score <= FULL_MARKS
    return [Check("total_score_range", "info" if ok else "fail",
                  "total score within 0–100" if ok else f"total score {score:g} is outside 0–100",
                  "0–100", _num(score), _facts(r, "total_score"))]


def grade_for(score: float, bands: tuple[tuple[float, str], ...] = DEFAULT_GRADE_BANDS) -> str:
    """The grade a total score gets under ``bands`` (lowest score of each grade, best first).

    >>> grade_for(95.5), grade_for(89.99), grade_for(60), grade_for(12)
    ('优', '良', '中', '差')
    """
    return next((grade for floor, grade in bands if score >= floor), bands[-1][1])


def parse_grade_bands(value: str) -> tuple[tuple[float, str], ...]:
    """The bands of a ``grade_bands`` fact (``优≥90;良≥80;中≥60;差≥0``), best first.

    >>> parse_grade_bands("优秀≥85;良好≥75;合格≥60;不合格≥0")
    ((85.0, '优秀'), (75.0, '良好'), (60.0, '合格'), (0.0, '不合格'))
    """
    bands = [(float(floor), grade) for grade, _, floor in
             (band.partition("≥") for band in value.split(";"))]
    return tuple(sorted(bands, key=lambda b: -b[0]))


def _band_grade(printed: str, grades: set[str]) -> str | None:
    """The band a printed grade names: itself, or the one band grade it is the short form or the
    long form of (优 for 优秀, 良好 for 良), or None.

    >>> _band_grade("优", {"优秀", "良好", "较差", "差"}), _band_grade("差", {"较差", "差"})
    ('优秀', '差')
    >>> _band_grade("良好", {"优", "良", "中", "差"}), _band_grade("合格", {"优", "良"})
    ('良', None)
    """
    if printed in grades:
        return printed
    named = [g for g in grades if g.startswith(printed) or printed.startswith(g)]
    return named[0] if len(named) == 1 else None


def check_grade_matches_score(r: Report) -> list[Check]:
    """The grade agrees with the total score: under the bands the report states for itself
    (``90分（含）以上为优，80（含）-90分为良…``, a ``grade_bands`` fact), else under the national
    default bands (优/良/中/差). A grade printed in its short or long form (优 beside bands of
    优秀) is that band; a grade the bands do not name (合格) is not judged.

    >>> fs = [Fact("total_score", 85.0), Fact("grade", "优")]
    >>> c = check_grade_matches_score(Report(fs))[0]
    >>> c.severity, c.expected, c.found
    ('warn', '良', '优')
    >>> check_grade_matches_score(Report(fs + [Fact("grade_bands", "优≥85;良≥75;中≥60;差≥0")]))[0].severity
    'info'
    """
    score, grade = r.number("total_score"), r.fact("grade")
    if score is None or grade is None or not 0 <= score <= FULL_MARKS:
        return []
    stated = r.fact("grade_bands")
    bands = parse_grade_bands(str(stated.value)) if stated is not None else DEFAULT_GRADE_BANDS
    printed = str(grade.value).strip()
    band = _band_grade(printed, {g for _, g in bands})
    if band is None:
        return []  # not a grade of these bands
    expected = grade_for(score, bands)
    refs = _facts(r, "total_score", "grade", "grade_bands")
    if band == expected:
        return [Check("grade_matches_score", "info", "the grade matches the total score",
                      expected, printed, refs)]
    scheme = (f"the bands the report states ({stated.value})" if stated is not None
              else "the national default bands (优 ≥ 90, 良 ≥ 80, 中 ≥ 60)")
    return [Check("grade_matches_score", "warn",
                  f"a total score of {score:g} is graded {expected} under {scheme}, the report "
                  f"says {printed}", expected, printed, refs)]


def check_fiscal_year_plausible(r: Report) -> list[Check]:
    """The year evaluated fits the report's date: a report on year Y is written in Y or in the
    next two years, never before Y ends.

    >>> fs = [Fact("fiscal_year", 2023), Fact("report_date", "2022-04-01")]
    >>> check_fiscal_year_plausible(Report(fs))[0].severity
    'warn'
    """
    year, date = r.number("fiscal_year"), r.fact("report_date")
    if year is None or date is None or not str(date.value)[:4].isdigit():
        return []
    written = int(str(date.value)[:4])
    refs = _facts(r, "fiscal_year", "report_date")
    expected = f"{int(year)}–{int(year) + 2}"
    if int(year) <= written <= int(year) + 2:
        return [Check("fiscal_year_plausible", "info", "the report is dated after the year it "
                      "evaluates", expected, str(date.value), refs)]
    return [Check("fiscal_year_plausible", "warn",
                  f"a report on {int(year)} dated {date.value}: the year or the date is wrong",
                  expected, str(date.value), refs)]


# What stands between an amount and the share stated for it: "2207.79万元，占64.9%",
# "466.70万元，占决算报表支出的29.18%".
_SHARE_GAP = re.compile(r"[,，、 \t]*占[^\d。;；,，%]{0,12}")


def _share_pairs(r: Report) -> list[list[tuple[Amount, Percentage]]]:
    """Runs of (amount, the share stated right after it) in one sentence, in text order."""
    runs: list[list[tuple[Amount, Percentage]]] = []
    if "占" not in r.text:
        return runs
    # the extractors return their records in text order, without overlaps
    by_end = [a for a in r.amounts if a.end >= 0]
    ends = [a.end for a in by_end]
    if ends != sorted(ends):
        by_end.sort(key=lambda a: a.end)
        ends.sort()
    for p in r.percentages:
        k = r.text.rfind("占", max(0, p.start - 14), p.start)  # most percentages are no share
        if k < 0:
            continue
        i = bisect.bisect_right(ends, k) - 1
        if i < 0 or not _SHARE_GAP.fullmatch(r.text, by_end[i].end, p.start):
            continue
        a = by_end[i]
        last = runs[-1][-1][1] if runs else None
        if last is not None and a.start - last.end < 80 and "。" not in r.text[last.end:a.start]:
            runs[-1].append((a, p))
        else:
            runs.append([(a, p)])
    return runs


def check_share_matches_amounts(r: Report) -> list[Check]:
    """A stated share (``基本支出2207.79万元，占64.9%``) matches the ratio of its amount to the
    whole. The whole is the sum of the amounts when the shares listed together add up to 100%
    (then a share that does not fit is flagged); else a total of the report (支出合计, 收入合计):
    a share that fits one is confirmed, one that fits none may be of another whole (占决算报表
    支出的) and is not judged.

    >>> text = "支出合计100万元，其中：基本支出60万元，占60%；项目支出40万元，占45%。"
    >>> def span(t, after=0): i = text.index(t, after); return i, i + len(t)
    >>> amounts = [Amount(*span("60万元"), "60万元", 600000.0, "万元"),
    ...            Amount(*span("40万元"), "40万元", 400000.0, "万元")]
    >>> pcts = [Percentage(*span("60%"), "60%", 60.0), Percentage(*span("45%"), "45%", 45.0)]
    >>> facts = [Fact("expenditure_total", 1000000.0)]
    >>> [(c.severity, c.expected, c.found) for c in
    ...  check_share_matches_amounts(Report(facts, amounts, pcts, text=text))]
    [('info', '60.00', '60')]
    >>> text = "其中：基本支出60万元，占55%；项目支出40万元，占45%。"       # listed: they add up to 100
    >>> amounts = [Amount(*span("60万元"), "60万元", 600000.0, "万元"),
    ...            Amount(*span("40万元"), "40万元", 400000.0, "万元")]
    >>> pcts = [Percentage(*span("55%"), "55%", 55.0), Percentage(*span("45%"), "45%", 45.0)]
    >>> [(c.severity, c.expected, c.found) for c in
    ...  check_share_matches_amounts(Report([], amounts, pcts, text=text))]
    [('warn', '60.00', '55'), ('warn', '40.00', '45')]
    """
    out = []
    totals = [v for name in ("expenditure_total", "income_total")
              if (v := r.number(name)) is not None and v > 0]
    for run in _share_pairs(r):
        # shares listed together that make 100%: their whole is the sum of their amounts
        listed = len(run) >= 2 and abs(sum(p.value for _, p in run) - 100.0) <= 0.2
        wholes = [sum(a.value_yuan for a, _ in run)] if listed else totals
        for a, p in run:
            if not wholes or p.value >= 100.0:
                continue
            decimals = len(p.text.rstrip("%").partition(".")[2])
            tolerance = 0.5 * 10 ** -decimals + 0.06
            ratios = [a.value_yuan / w * 100 for w in wholes]
            best = min(ratios, key=lambda x: abs(x - p.value))
            if not listed and abs(best - p.value) > tolerance:
                continue  # fits no total: its whole is something else (占决算报表支出的 …)
            refs = [Ref("amounts", a.text, a.start, a.end), Ref("percentages", p.text, p.start, p.end)]
            if abs(best - p.value) <= tolerance:
                out.append(Check("share_matches_amounts", "info",
                                 f"{a.text} is {p.text} of the whole", f"{best:.2f}",
                                 _num(p.value), refs))
            else:
                out.append(Check("share_matches_amounts", "warn",
                                 f"{a.text} is {best:.2f}% of the whole, the report says {p.text}",
                                 f"{best:.2f}", _num(p.value), refs))
    return out


def check_township_resolved(r: Report) -> list[Check]:
    """A township named by the unit but not found in the township table is flagged, not guessed
    (a name borne by several townships with no county to tell them apart, a township merged away
    since the table's vintage, a misprint).

    >>> check_township_resolved(Report([Fact("township", "城关镇")]))[0].severity
    'warn'
    >>> check_township_resolved(Report([Fact("township", "广普镇"),
    ...                                 Fact("township_code", "500120106000")]))
    []
    """
    township = r.fact("township")
    if township is None or r.fact("township_code") is not None:
        return []
    return [Check("township_resolved", "warn",
                  f"the township {township.value} is not in the division table under the unit's "
                  "county (or its name is shared and no county tells which): no township code",
                  "a township code", None, [_ref(township)])]


# Every check, in the order its rows are written. A new check is a function of a Report added here.
CHECKS: list[Callable[[Report], list[Check]]] = [
    check_expenditure_components,
    check_basic_expenditure_parts,
    check_income_parts,
    check_label_contradicts_figure,
    check_share_matches_amounts,
    check_indicator_score_sum,
    check_indicator_scores_within_max,
    check_points_typo,
    check_max_score_sum,
    check_group_points,
    check_amount_magnitude,
    check_rate_range,
    check_execution_rate_matches,
    check_total_score_range,
    check_grade_matches_score,
    check_fiscal_year_plausible,
    check_township_resolved,
]


def check_report(facts: list[Fact], amounts: list[Amount], percentages: list[Percentage],
                 indicators: list[Indicator], text: str = "") -> list[Check]:
    """Every applicable check of one report, in the order of :data:`CHECKS`; ``text`` is the
    analysis text (``doc.norm``) the records point into.

    >>> facts = [Fact("total_score", 90.0)]
    >>> inds = [Indicator("a", max_score=100, score=90)]
    >>> [(c.check_name, c.severity) for c in check_report(facts, [], [], inds)]
    [('indicator_score_sum', 'info'), ('indicator_score_within_max', 'info'),
     ('max_score_sum', 'info'), ('total_score_range', 'info')]
    """
    report = Report(facts, amounts, percentages, indicators, text)
    return [c for check in CHECKS for c in check(report)]

