"""The budget row of a scoring form: planned, budget, executed, points, rate and score.

A 项目支出绩效自评表 opens with its money::

    项目资金（万元） | 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分
    年度资金总额     | 50         | 48         | 46.5       | 10   | 96.88% | 9.69

The header (column labels in ``patterns/budget_form.yaml``) gives the columns and their order;
the row label (年度资金总额) opens the row; its cells are read in that order, however the page
prints them: separated by ``|``, tabs, line breaks or spaces, with ``—`` for an empty cell, or
run together with nothing between them (``年度资金总额:202010100.00%10``). A run-together row is
split where the numbers agree with each other: the rate ends at its ``%`` and equals executed /
budget (``20 20 10 100.00% 10``: budget 20, executed 20, points 10, rate 100, score 10). A row whose
cells cannot be placed without guessing gives nothing.

>>> from pipeline.ingest import document_from_text
>>> doc = document_from_text("项目资金(万元) 年初预算数 全年预算数 全年执行数 分值 执行率 得分\\n"
...                          "年度资金总额 50 48 46.5 10 96.88% 9.69\\n其中:当年财政拨款 50\\n", "x.txt")
>>> row = read_budget_row(doc)
>>> row.value("executed"), row.value("rate"), row.multiplier
(46.5, 96.88, 10000)
"""
from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import regex

from pipeline.document import Document
from pipeline.patterns import alternation, compile_verbose, load_yaml, require

COLUMNS = ("planned", "budget", "executed", "points", "rate", "score")
_CLEAN = re.compile(r"\d+(?:\.\d+)?%?")
_EMPTY = re.compile(r"[—–\-/]*")
_TOKEN = re.compile(r"\S+")
_RUN_TOGETHER = re.compile(r"[ \t:]*([0-9.]+%[0-9.]*)")  # cells glued up to and after the rate's %
_NUMBER_TEXT = re.compile(r"(?:0|[1-9]\d*)(?:\.\d{1,4})?")
# A rate computed from rounded amounts may differ from the printed one by this much (points).
_RATE_TOLERANCE = 0.6


@dataclass(frozen=True)
class Cell:
    """One number of the row: its value and where it was read (``doc.text[start:end]``)."""

    column: str
    value: float
    start: int
    end: int


@dataclass(frozen=True)
class BudgetRow:
    """The cells of a form's 年度资金总额 row; ``multiplier`` turns its money into yuan."""

    cells: tuple[Cell, ...]
    multiplier: int
    rule: str            # budget_form.separated or budget_form.run_together

    def cell(self, column: str) -> Cell | None:
        return next((c for c in self.cells if c.column == column), None)

    def value(self, column: str) -> float | None:
        c = self.cell(column)
        return None if c is None else c.value


@dataclass(frozen=True)
class _Patterns:
    row_label: regex.Pattern[str]
    row_core: str                      # what every row label contains: searched before the regex
    row_reach: int                     # the longest row label's length
    row_end: regex.Pattern[str]
    column_label: re.Pattern[str]
    executed_label: re.Pattern[str]    # the labels of the executed column alone
    column_of: dict[str, str]
    header_window: int
    yuan_unit: regex.Pattern[str]
    default_multiplier: int


@functools.lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    data = load_yaml("budget_form.yaml")
    where = "budget_form.yaml"
    require(data, "row_labels", "row_ends", "columns", "header_window", "yuan_unit",
            "default_multiplier", where=where)
    row_words = tuple(str(w) for w in data["row_labels"])
    row_core = _common_part(row_words)
    if not row_core:
        raise ValueError(f"{where}: the row labels must share some text (资金总额, 年度资金总额 …)")
    unknown = set(data["columns"]) - set(COLUMNS)
    if not data["columns"].get("executed"):
        raise ValueError(f"{where}: columns.executed needs at least one label (全年执行数 …)")
    if unknown:
        raise ValueError(f"{where}: unknown columns {sorted(unknown)} (known: {COLUMNS})")
    column_of = {str(label): column for column, labels in data["columns"].items()
                 for label in labels}
    return _Patterns(
        row_label=regex.compile(alternation(data["row_labels"], f"{where}:row_labels")),
        row_core=row_core,
        row_reach=max(map(len, row_words)),
        row_end=regex.compile(alternation(data["row_ends"], f"{where}:row_ends")),
        # plain words, searched with the standard library's re (cheaper than regex here)
        column_label=re.compile("|".join(map(re.escape, sorted(column_of, key=len, reverse=True)))),
        column_of=column_of,
        executed_label=re.compile("|".join(map(re.escape, data["columns"]["executed"]))),
        header_window=int(data["header_window"]),
        yuan_unit=compile_verbose(data["yuan_unit"], f"{where}:yuan_unit"),
        default_multiplier=int(data["default_multiplier"]),
    )


def read_budget_row(doc: Document) -> BudgetRow | None:
    """The first form budget row of ``doc`` whose cells can be placed, or None."""
    pat = _patterns()
    norm = doc.norm
    for m in _row_labels(norm, pat):
        header_start = max(0, m.start() - pat.header_window)
        if not pat.executed_label.search(norm, header_start, m.start()):
            continue  # no 全年执行数 column: not a budget row's header (a form's 资金总额 column)
        columns = _header(norm, header_start, m.start(), pat)
        if "executed" not in columns:
            continue
        stop = pat.row_end.search(norm, m.end(), min(len(norm), m.end() + 200))
        end = stop.start() if stop else min(len(norm), m.end() + 120)
        multiplier = 1 if pat.yuan_unit.search(norm, header_start, m.start()) else \
            pat.default_multiplier
        row = _separated(norm, m.end(), end, columns, multiplier)
        if row is None:
            row = _run_together(norm, m.end(), end, columns, multiplier)
        if row is not None and row.value("executed"):
            return row
    return None


def _row_labels(norm: str, pat: _Patterns) -> list[regex.Match[str]]:
    """Every row label in ``norm``, in order. A plain search for the part all labels share
    (资金总) finds where one may stand (most reports have none); the regex confirms it there."""
    found: list[regex.Match[str]] = []
    reach = pat.row_reach
    i = norm.find(pat.row_core)
    while i >= 0:
        if not found or i >= found[-1].end():
            m = pat.row_label.search(norm, max(0, i - reach), min(len(norm), i + reach))
            if m and m.start() <= i < m.end():
                found.append(m)
        i = norm.find(pat.row_core, i + 1)
    return found


def _common_part(words: tuple[str, ...]) -> str:
    """The longest text every word contains (资金总 of 年度资金总额, 资金总额 …), or "" when none.

    >>> _common_part(("年度资金总额", "资金总额", "项目资金总计"))
    '资金总'
    """
    shortest = min(words, key=len)
    for size in range(len(shortest), 0, -1):
        for k in range(len(shortest) - size + 1):
            part = shortest[k:k + size]
            if all(part in w for w in words):
                return part
    return ""


def _header(norm: str, start: int, end: int, pat: _Patterns) -> list[str]:
    """The columns named between ``start`` and ``end``, in order (each once)."""
    columns: list[str] = []
    for m in pat.column_label.finditer(norm, start, end):
        column = pat.column_of[m.group(0)]
        if column in columns:  # a second header (another form above): start again
            columns = []
        columns.append(column)
    return columns


def _pieces(norm: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """The row's cells as (text, start, end): split at ``|`` or tabs when the row has them (empty
    cells kept), else at any white space."""
    region = norm[start:end]
    for sep in ("|", "\t"):
        if sep in region:
            out, pos = [], start
            for i, part in enumerate(region.split(sep)):
                lead = len(part) - len(part.lstrip())
                if i:  # the first part is the rest of the label's own cell
                    out.append((part.strip(), pos + lead, pos + lead + len(part.strip())))
                pos += len(part) + 1
            while out and not out[-1][0]:
                out.pop()
            return out
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(norm, start, end)
            if m.group(0) != ":"]


def _separated(norm: str, start: int, end: int, columns: list[str], multiplier: int
               ) -> BudgetRow | None:
    """A row whose cells are separated; None when one is not a plain number or a dash."""
    pieces = [(t.lstrip(":"), s + (len(t) - len(t.lstrip(":"))), e) for t, s, e in
              _pieces(norm, start, end)]
    if not pieces or any(not (_CLEAN.fullmatch(t) or _EMPTY.fullmatch(t)) for t, _, _ in pieces):
        return None
    if len(pieces) == len(columns):
        placed = list(zip(columns, pieces))
    else:
        rate_at = [i for i, (t, _, _) in enumerate(pieces) if t.endswith("%")]
        if len(rate_at) != 1 or "rate" not in columns:
            return None  # fewer cells than columns and nothing to align them by
        r, rc = rate_at[0], columns.index("rate")
        before, after = pieces[:r], pieces[r + 1:]
        if len(before) > rc or len(after) > len(columns) - rc - 1:
            return None
        placed = (list(zip(columns[rc - len(before):rc], before)) + [("rate", pieces[r])]
                  + list(zip(columns[rc + 1:], after)))
    cells = tuple(Cell(col, float(t.rstrip("%")), s, e) for col, (t, s, e) in placed
                  if _CLEAN.fullmatch(t))
    row = BudgetRow(cells, multiplier, "budget_form.separated")
    return row if _consistent(row) else None


def _run_together(norm: str, start: int, end: int, columns: list[str], multiplier: int
                  ) -> BudgetRow | None:
    """A row printed with no separators (``202010100.00%10``), split where the numbers agree."""
    if "rate" not in columns or "budget" not in columns:
        return None
    m = _RUN_TOGETHER.match(norm, start, end)
    if m is None:
        return None
    text, offset = m.group(1), m.start(1)
    pct = text.index("%")
    rc = columns.index("rate")
    before_cols, after_cols = columns[:rc], columns[rc + 1:]
    tail = text[pct + 1:]  # the cell after the rate (得分), when the header has one
    if tail and not (after_cols and _number_text(tail)):
        return None
    tail_cells = [(after_cols[0], (pct + 1, len(text)))] if tail else []
    solutions: dict[tuple[tuple[str, int, int], ...], float] = {}
    for rate_start in range(pct - 1, -1, -1):
        rate = text[rate_start:pct]
        if not _number_text(rate) or float(rate) > 100:
            continue
        for parts in _splits(text[:rate_start], len(before_cols)):
            spans = []
            pos = 0
            for part in parts:
                spans.append((pos, pos + len(part)))
                pos += len(part)
            named = list(zip(before_cols[len(before_cols) - len(parts):], spans))
            cells = tuple((col, a + offset, b + offset) for col, (a, b) in
                          named + [("rate", (rate_start, pct))] + tail_cells)
            row = _row_from(norm, cells, multiplier)
            # nothing separates the cells, so the rate must agree to the precision it is printed
            # with (20 20 10 100.00%, not 2020 10 10 0.00%)
            decimals = len(rate.partition(".")[2])
            precision = 0.5 * 10 ** -decimals + 0.01
            budget, executed = row.value("budget"), row.value("executed")
            if executed and budget and float(rate) > 0 and _consistent(row, precision):
                solutions[cells] = abs(executed / budget * 100 - float(rate))
    if not solutions:
        return None
    ranked = sorted(solutions.items(), key=lambda kv: kv[1])
    if len(ranked) > 1 and ranked[1][1] - ranked[0][1] < 0.1:
        return None  # two readings agree about as well: do not guess
    return _row_from(norm, ranked[0][0], multiplier)


def _row_from(norm: str, cells: tuple[tuple[str, int, int], ...], multiplier: int) -> BudgetRow:
    return BudgetRow(tuple(Cell(col, float(norm[s:e]), s, e) for col, s, e in cells), multiplier,
                     "budget_form.run_together")


def _number_text(text: str) -> bool:
    """A number as a form prints it: no leading zero (but ``0`` and ``0.5``), one decimal point."""
    return bool(_NUMBER_TEXT.fullmatch(text))


def _splits(text: str, most: int) -> list[tuple[str, ...]]:
    """Every way of cutting ``text`` into 1..``most`` numbers (see :func:`_number_text`)."""
    out = []
    for k in range(1, min(most, len(text)) + 1):
        for cuts in itertools.combinations(range(1, len(text)), k - 1):
            parts = tuple(text[a:b] for a, b in zip((0, *cuts), (*cuts, len(text))))
            if all(_number_text(p) for p in parts):
                out.append(parts)
    return out


def _consistent(row: BudgetRow, tolerance: float = _RATE_TOLERANCE) -> bool:
    """The cells agree: points at most 100, a score at most its points, the rate executed/budget.

    >>> _consistent(BudgetRow((Cell("budget", 48, 0, 0), Cell("executed", 46.5, 0, 0),
    ...                         Cell("rate", 96.88, 0, 0)), 10000, ""))
    True
    >>> _consistent(BudgetRow((Cell("budget", 48, 0, 0), Cell("executed", 46.5, 0, 0),
    ...                         Cell("rate", 50, 0, 0)), 10000, ""))
    False
    """
    points, score = row.value("points"), row.value("score")
    if points is not None and points > 100:
        return False
    if points is not None and score is not None and score > points + 1e-9:
        return False
    budget, executed, rate = row.value("budget"), row.value("executed"), row.value("rate")
    if budget and executed is not None and rate is not None:
        return abs(executed / budget * 100 - rate) <= tolerance
    return True
