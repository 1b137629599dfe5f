"""Performance indicators (绩效指标): one row per distinct indicator of a report.

One pure entry point, :func:`extract_indicators`. Every vocabulary (column names of the tables,
group words of the 指标体系, score phrases, value units) is data in ``patterns/indicators.yaml``.

Where indicators are read, and what each record's ``rule`` says:

* **tables** (``table.kpi`` / ``table.scoring``): the appended 自评表 (一级/二级/三级指标, 指标值,
  实际完成值, 分值, 得分 …) and 打分表 (三级指标, 指标分值, 自评得分). The header row is found by its
  column names; merged (empty) level cells are carried down; a row split in two by the text
  converter is joined again (``+joined``); a row whose 三级 cell repeats its 二级 name is read
  one cell to the right (``+shifted``).
* **flattened forms** (``table.flattened``): a 自评表 turned into one line of space-separated
  cells (``一级指标 二级指标 三级指标 年度指标值 … 产出指标(50分) 数量指标 X ≥50个 50 8 8``).
* **prose** (``prose.<score sentence id>``): numbered items carrying their points,
  ``1.资金拨付及时率（3分）`` … ``该指标得分为3分`` or ``“目标设置”指标满分4分，自评得分4分``;
  group headings (``1.项目决策（12分）`` followed by ``（1）…`` items, ``社会效益指标：``) give
  level1/level2 to the items under them; target lists (``prose.target_list``: ``1.xxx`` then
  ``指标值：好``).
* **stated results** (``prose.result``): only when nothing above was found, sentences of a
  project report that state an indicator's result (``案件查处率100%``, ``…均达100%``).

The same indicator printed several times (two renderings of one table, a table row repeated by
the prose) becomes one record: the table row, with its missing ``actual`` filled from the prose.

Patterns run on ``doc.norm``; values are sliced from ``doc.text`` so they read as printed.
"""
from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import regex

from pipeline.document import Document, Fact, Indicator, Section, Table, TableRow
from pipeline.patterns import PatternError, alternation, compile_verbose, load_yaml, require

# A number as printed in a cell: 1,059.39 / 1.25 / -3.
_NUMBER = regex.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?")
# A name must contain a word character (a row of numbers or dashes is not an indicator).
_HAS_WORD = regex.compile(r"[\p{Han}A-Za-z]")
_DIGIT = regex.compile(r"\d")
# Layout whitespace next to a CJK character or punctuation is not part of a name.
_LAYOUT_SPACE = regex.compile(r"\s+(?=[\p{Han}\p{P}\p{S}])|(?<=[\p{Han}\p{P}\p{S}])\s+")
# What the gold scorer ignores when it compares names: whitespace and common punctuation.
_KEY_DROP = regex.compile(r"[\s\"'“”‘’「」《》()（）:：,，.。、;；]")
_LINE = regex.compile(r"[^\n]*")
_SPACES = regex.compile(r"\s+")
_NON_DIGIT = regex.compile(r"\D")
_TOKEN = regex.compile(r"[^ \t\n]+")
# A header cell's trailing note: 全年预算数(A), 得分(10分).
_TRAILING_NOTE = regex.compile(r"\([^()]*\)\s*$")
# Clause delimiters of the normalised text (prose results never cross them).
_CLAUSE_BREAK = ",;。:!?\n"
# The longest paragraph an item may have after its heading.
_MAX_BLOCK = 3000
_MAX_LOOKBACK = 600


# --------------------------------------------------------------------------------------------
# Patterns (loaded and compiled once)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Patterns:
    level1_words: frozenset[str]
    level2_words: frozenset[str]
    points_suffix: regex.Pattern[str]
    header: dict[str, str]
    name_label: regex.Pattern[str]  # any label of the name column, whitespace allowed inside it
    value_fields: tuple[str, ...]
    dash_cells: frozenset[str]
    not_indicators: frozenset[str]
    operators: frozenset[str]
    flattened_header: regex.Pattern[str]
    points_heading: regex.Pattern[str]
    needles: dict[str, re.Pattern[str]]
    needle_within: dict[str, int]
    group_label: regex.Pattern[str]
    numbered_line: regex.Pattern[str]
    score_sentences: tuple[tuple[str, regex.Pattern[str]], ...]
    target_item: regex.Pattern[str]
    section_line: regex.Pattern[str]
    value: regex.Pattern[str]
    value_after: regex.Pattern[str]
    value_before: regex.Pattern[str]
    measure_endings: tuple[str, ...]
    measure_min: int
    threshold_before: tuple[str, ...]
    threshold_after: tuple[str, ...]
    results_context: regex.Pattern[str]
    results_endings: tuple[str, ...]
    results_verb_end: regex.Pattern[str]
    results_lead: regex.Pattern[str]
    results_reject: regex.Pattern[str]
    results_max_name: int
    rt_header: regex.Pattern[str]     # run-together form: column labels back to back
    rt_needle: re.Pattern[str]        # a name-column label: every such header holds one
    rt_label: regex.Pattern[str]      # one column label
    rt_category: regex.Pattern[str]   # a category word, with its points
    group_points: regex.Pattern[str]  # a category word with its own points: 产出指标（50分）
    rt_units: str                     # alternation of the units a value cell ends with
    rt_end: regex.Pattern[str]
    rt_max_name: int
    rt_max_phrase: int
    target_actual: regex.Pattern[str]
    line_opening: regex.Pattern[str]  # a list marker and a category word opening a line


def _words(data: dict[str, Any], key: str, where: str) -> str:
    return alternation([str(w) for w in data[key]], f"indicators.yaml:{where}{key}")


def _needle(pattern: str, where: str) -> re.Pattern[str]:
    """A needle (what every line of a kind holds: ``分)``, ``指标`` …), validated like every
    pattern-file regex, compiled with the standard library's ``re``: needles are searched
    through the whole report, and on such short patterns ``re`` is up to twice as fast as
    ``regex``. A needle ``re`` cannot compile is a :class:`PatternError`."""
    compile_verbose(pattern, where)
    try:
        return re.compile(pattern, re.VERBOSE)
    except re.error as exc:
        raise PatternError(f"{where}: {exc}") from exc


@functools.lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    data = load_yaml("indicators.yaml")
    require(data, "categories", "points_suffix", "table", "flattened_header", "list_marker",
            "points_heading", "group_label", "score_sentences", "target_item", "section_line",
            "value", "needles", "measure_endings", "measure_min_chars", "value_gap_chars",
            "threshold_before", "threshold_after", "results", "group_points",
            where="indicators.yaml")
    cats, table, results = data["categories"], data["table"], data["results"]
    require(cats, "level1", "level2", where="indicators.yaml:categories")
    require(table, "header", "value_fields", "dash_cells", "not_indicators", "operators",
            where="indicators.yaml:table")
    require(results, "context", "name_endings", "verbs", "lead_words", "own_unit", "reject_names",
            "max_name_chars", where="indicators.yaml:results")
    run_together = data.get("run_together") or {}
    require(run_together, "units", "end_words", "max_name_chars", "max_phrase_chars",
            where="indicators.yaml:run_together")
    header: dict[str, str] = {}
    for field_name, labels in table["header"].items():
        if not labels:
            raise PatternError(f"indicators.yaml: header field {field_name!r} has no labels")
        for label in labels:
            header[_key(str(label))] = str(field_name)
    if "name" not in header.values():
        raise PatternError("indicators.yaml: the header lexicon needs a 'name' field")
    marker = data["list_marker"]
    category = alternation([*cats["level1"], *cats["level2"]], "indicators.yaml:categories")
    column_labels = "|".join(regex.escape(k) for k in sorted(header, key=len, reverse=True))
    units = alternation([str(u) for u in run_together["units"]], "indicators.yaml:run_together.units")
    value = data["value"]
    gap = int(data["value_gap_chars"])
    # between a name and its value: a few letters, never a digit, space or punctuation
    gap_re = r"[^\W\d_]{0,%d}?" % gap
    return _Patterns(
        level1_words=frozenset(_key(w) for w in cats["level1"]),
        level2_words=frozenset(_key(w) for w in cats["level2"]),
        points_suffix=compile_verbose(data["points_suffix"], "indicators.yaml:points_suffix"),
        header=header,
        # 三级\n指标: a label wrapped in its cell still names the column
        name_label=regex.compile("|".join(r"\s*".join(regex.escape(c) for c in k)
                                          for k, v in header.items() if v == "name")),
        value_fields=tuple(table["value_fields"]),
        dash_cells=frozenset(str(c) for c in table["dash_cells"]),
        not_indicators=frozenset(_key(str(w)) for w in table["not_indicators"]),
        operators=frozenset(str(w) for w in table["operators"]),
        flattened_header=compile_verbose(data["flattened_header"],
                                         "indicators.yaml:flattened_header"),
        points_heading=compile_verbose(data["points_heading"].replace("{marker}", marker),
                                       "indicators.yaml:points_heading"),
        needles={k: _needle(v, f"indicators.yaml:needles.{k}") for k, v in data["needles"].items()},
        needle_within={str(k): int(v) for k, v in (data.get("needle_within") or {}).items()},
        group_label=compile_verbose(data["group_label"].replace("{marker}", marker)
                                    .replace("{category}", category),
                                    "indicators.yaml:group_label"),
        # a short numbered line without points: the heading of an item scored as 该指标得分…
        numbered_line=compile_verbose(
            r"(?m) ^ [ \t]* (?P<marker> " + marker + r" ) [ \t]*"
            r" (?P<name> [^\n。,;:]{2,40}? ) [ \t]* $", "indicators.yaml:numbered_line"),
        score_sentences=tuple((str(s["id"]), compile_verbose(s["regex"],
                                                             f"indicators.yaml:{s['id']}"))
                              for s in data["score_sentences"]),
        target_item=compile_verbose(data["target_item"], "indicators.yaml:target_item"),
        section_line=compile_verbose(data["section_line"], "indicators.yaml:section_line"),
        value=compile_verbose(value, "indicators.yaml:value"),
        value_after=compile_verbose(gap_re + "\n" + value, "indicators.yaml:value(after)"),
        value_before=compile_verbose(value + "\n" + gap_re + r"\Z",
                                     "indicators.yaml:value(before)"),
        measure_endings=tuple(sorted((str(w) for w in data["measure_endings"]),
                                     key=len, reverse=True)),
        measure_min=int(data["measure_min_chars"]),
        threshold_before=tuple(str(w) for w in data["threshold_before"]),
        threshold_after=tuple(str(w) for w in data["threshold_after"]),
        results_context=regex.compile(_words(results, "context", "results.")),
        results_endings=tuple(str(w) for w in results["name_endings"]),
        results_verb_end=regex.compile(_words(results, "verbs", "results.") + r"\Z"),
        results_lead=regex.compile(r"\A(?:[我本全]" + _words(results, "own_unit", "results.") + "|"
                                   + _words(results, "lead_words", "results.") + ")+"),
        results_reject=compile_verbose(results["reject_names"], "indicators.yaml:reject_names"),
        results_max_name=int(results["max_name_chars"]),
        rt_header=regex.compile("(?:" + column_labels + "){3,}"),
        rt_label=regex.compile(column_labels),
        rt_needle=re.compile("|".join(re.escape(k) for k, v in header.items() if v == "name")),
        rt_category=regex.compile("(?:" + category + r")(?:\(\d{1,3}(?:\.\d{1,2})?分\))?"),
        group_points=compile_verbose(data["group_points"].replace("{category}", category),
                                     "indicators.yaml:group_points"),
        rt_units=units,
        rt_end=regex.compile(alternation([str(w) for w in run_together["end_words"]],
                                         "indicators.yaml:run_together.end_words")),
        rt_max_name=int(run_together["max_name_chars"]),
        rt_max_phrase=int(run_together["max_phrase_chars"]),
        target_actual=compile_verbose(results["target_actual"].replace("{units}", units),
                                      "indicators.yaml:results.target_actual"),
        line_opening=regex.compile(r"[ \t]*(?:" + marker + r")?[ \t]*(?P<category>" + category
                                   + r")?[ \t]*[。.:]?[ \t]*", regex.VERBOSE),
    )


# --------------------------------------------------------------------------------------------
# Small text helpers
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8192)
def _key(text: str) -> str:
    """The comparison form of a name: NFKC, without whitespace and common punctuation.

    >>> _key("“管理制度 健全性”（4分）")
    '管理制度健全性4分'
    """
    return _KEY_DROP.sub("", unicodedata.normalize("NFKC", text))


def _printed(doc: Document, start: int, end: int) -> str:
    """``doc.text[start:end]`` as printed, without conversion artefacts, stripped.

    Artefacts (``[bookmark: _GoBack]``) are the characters the analysis text blanked to spaces.
    """
    return _without_artefacts(doc.text[start:end], doc.norm[start:end])


def _without_artefacts(text: str, norm: str) -> str:
    """``text`` (stripped) without the characters its analysis twin ``norm`` blanked."""
    # an artefact is blanked to spaces: text without a space in its twin has none
    if text != norm and " " in norm and any(n == " " and not t.isspace()
                                            for t, n in zip(text, norm)):
        text = "".join(t for t, n in zip(text, norm) if not (n == " " and not t.isspace()))
    return text.strip()


@functools.lru_cache(maxsize=4096)
def _clean_name(name: str) -> str:
    """A name without layout whitespace: ``'8.  预算执行率'`` spaces, wrapped cell lines.

    >>> _clean_name("服务对象\\n满意度 ")
    '服务对象满意度'
    """
    name = _LAYOUT_SPACE.sub("", name.strip())
    return _SPACES.sub(" ", name).strip(" 。.;；,，:：")


@functools.lru_cache(maxsize=4096)
def _clean_level(label: str) -> str:
    """A group name without its points suffix or any whitespace: ``数量   指标`` → ``数量指标``."""
    if not label:
        return ""
    if "分" in label:
        label = _patterns().points_suffix.sub("", label)
    return _SPACES.sub("", label).strip("。.:：")


def _number(cell: str) -> float | None:
    m = _NUMBER.search(cell)
    return float(m.group(0).replace(",", "")) if m else None


@functools.lru_cache(maxsize=4096)
def _category_level(name: str) -> int | None:
    """1 for a 一级 category word, 2 for a 二级 one, None otherwise."""
    pats = _patterns()
    k = _key(pats.points_suffix.sub("", name) if "分" in name else name)
    if k in pats.level1_words:
        return 1
    if k in pats.level2_words:
        return 2
    return None


def _enter_category(word: str, level1: str | None, level2: str | None,
                    pats: _Patterns) -> tuple[str | None, str | None] | None:
    """The (level1, level2) after category word ``word`` in a form's rows, or None when ``word``
    is no category. A 一级 word opens a new level1 when it carries points or none is open;
    otherwise (成本指标 under 产出指标(50分), 满意度指标 after 满意度指标(10分)) it is the 二级."""
    lvl = _category_level(word)
    if lvl is None:
        return None
    if lvl == 1 and (pats.points_suffix.search(word) or level1 is None):
        return _clean_level(word), None
    return level1, _clean_level(word)


def _marker_style(marker: str) -> str:
    """The numbering style of a list marker: ``1.``, ``1、``, ``(1)``, ``(一)``, ``一、``, ``①``."""
    m = _SPACES.sub("", marker)
    if m.startswith("("):
        return "(1)" if m[1:2].isdigit() else "(一)"
    if m[:1].isdigit():
        return "1" + m[-1]
    if m[:1] in "一二三四五六七八九十":
        return "一" + m[-1]
    return "①"


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

def _split_cells(text: str, rendering: str) -> list[str]:
    """A row's paragraph split into cells as ``pipeline/layout.py`` splits it (unstripped).

    Cell 0 (text before the first tab) may hold a caption that lies before the row's start; it
    is then empty here.
    """
    if rendering == "tabbed":
        return text.split("\t")
    cells = [""]
    for line in text.split("\n"):
        if line.startswith("\t"):
            cells.append(line[1:])
        else:  # a line without the tab continues the previous cell
            cells[-1] += "\n" + line
    return cells


def _split_row(doc: Document, row: TableRow,
               rendering: str) -> tuple[list[str], list[str]] | None:
    """The cells of a row in ``doc.text`` and in ``doc.norm`` (unstripped), or None when the
    split does not reproduce ``row.cells`` (a rendering this reader does not know)."""
    if rendering not in ("tabbed", "cell_per_line"):
        return None
    # normalisation never creates or removes a tab or a line break, so the printed text splits
    # at the same places as the analysis text
    text = _split_cells(doc.text[row.start:row.end], rendering)
    norm = _split_cells(doc.norm[row.start:row.end], rendering)
    if len(text) != len(row.cells) or len(norm) != len(text):
        return None
    return text, norm


class _RowCells:
    """The cells of one (possibly joined or re-aligned) table row.

    ``values`` are the analysis strings the table reader split (used for all decisions);
    :meth:`printed` slices a cell from ``doc.text`` only when its value is reported, because
    splitting every row of a long table twice would cost more than the rest of the extraction.
    """

    def __init__(self, doc: Document, rendering: str, row: TableRow) -> None:
        self.doc = doc
        self.rendering = rendering
        self.values = row.cells
        self.rows = [row]
        self.pad = 0
        self._split: dict[int, tuple[list[str], list[str]] | None] = {}

    def join(self, row: TableRow) -> None:
        """Append the cells of the second half of a split row (its cell 0 is the break)."""
        self.values = self.values + row.cells[1:]
        self.rows.append(row)

    def pad_left(self, width: int) -> None:
        """Right-align the cells to ``width`` (adding or dropping empty cells on the left)."""
        self.pad = width - len(self.values)
        if self.pad >= 0:
            self.values = [""] * self.pad + self.values
        else:
            self.values = self.values[:1] + self.values[1 - self.pad:]

    def printed(self, col: int | None) -> str:
        """Cell ``col`` as printed (artefacts removed), '' when absent."""
        if col is None or col >= len(self.values) or not self.values[col]:
            return ""
        k = col - self.pad
        row = self.rows[0]
        if k >= len(row.cells):
            k, row = k - len(row.cells) + 1, self.rows[1]
        if row.index not in self._split:
            self._split[row.index] = _split_row(self.doc, row, self.rendering)
        split = self._split[row.index]
        if split is None:
            return self.values[col].strip()
        return _without_artefacts(split[0][k], split[1][k])


def _header_labels(cells: list[str], pats: _Patterns, need_name: bool = True) -> dict[int, str]:
    """Columns of a row whose cell is a known header label, and the field each one feeds.

    With ``need_name`` a row that names no indicator column is passed over at once (most rows
    are data, and a header row always names that column)."""
    found: dict[int, str] = {}
    if need_name:
        if not pats.name_label.search("".join(cells)):
            return found
    for col, cell in enumerate(cells):
        if not cell or len(cell) > 24:
            continue
        label = _key(_TRAILING_NOTE.sub("", cell) if ")" in cell else cell)
        field_name = pats.header.get(label)
        if field_name:
            found[col] = field_name
    return found


def _has_value(found: dict[str, int], pats: _Patterns) -> bool:
    """Whether a row has a value column (target, actual, scores …) among its located fields."""
    return not found.keys().isdisjoint(pats.value_fields)  # one C call, not a generator


def _is_header(labels: dict[int, str]) -> bool:
    fields = set(labels.values())
    return ("name" in fields and bool(fields & {"target", "actual", "max_score", "score"})
            and len(labels) >= 3)


def _label_only(cells: list[str], pats: _Patterns) -> bool:
    """A row holding only group labels (``效益指标（30分）``), no indicator."""
    filled = [c for c in cells[1:] if c]
    return bool(filled) and all(_category_level(c) or pats.points_suffix.search(c)
                                for c in filled)


class _Header:
    """Which columns feed which field, and how many cells a full row has."""

    def __init__(self, columns: dict[str, list[int]], width: int) -> None:
        self.columns = columns
        self.width = width
        self._order = [(f, tuple(cols)) for f, cols in sorted(columns.items())]
        # rows read under equal headers are the same rows (see ``seen`` in _read_table)
        self.signature = tuple(self._order)

    def locate(self, cells: list[str]) -> dict[str, int]:
        """The first filled column of each field in ``cells``."""
        found: dict[str, int] = {}
        n = len(cells)
        for field_name, cols in self._order:
            for col in cols:
                if col < n and cells[col]:
                    found[field_name] = col
                    break
        return found


def _make_header(rows: list[TableRow], labels: list[dict[int, str]], i: int,
                 pats: _Patterns) -> tuple[_Header, int]:
    """The header at row ``i``, completed by a header line directly above or below it (the
    打分表 prints 自评得分 on the line above 一级指标 … 指标分值), and the first row after it."""
    merged = dict(labels[i])
    after = i + 1
    for j in (i - 1, i + 1):
        if not 0 <= j < len(rows):
            continue
        extra = _header_labels(rows[j].cells, pats, need_name=False)
        if len(extra) >= 2 and not _is_header(extra):
            after = max(after, j + 1)
            present = set(merged.values())
            for col, field_name in extra.items():
                if col not in merged and (field_name not in present or field_name == "note"):
                    merged[col] = field_name
    columns: dict[str, list[int]] = {}
    for col in sorted(merged):
        columns.setdefault(merged[col], []).append(col)
    width = max(len(rows[i].cells), max(merged) + 1)
    return _Header(columns, width), after


def _plausible(cells: list[str], header: _Header, pats: _Patterns) -> bool:
    """Whether ``cells`` read under ``header`` look like an indicator row: a worded name and
    numbers (or a dash) in the score columns."""
    found = header.locate(cells)
    if "name" not in found or not _HAS_WORD.search(cells[found["name"]]):
        return False
    for f in ("max_score", "score"):
        if f in found and cells[found[f]] not in pats.dash_cells \
                and not _NUMBER.fullmatch(cells[found[f]].strip()):
            return False
    return _has_value(found, pats)


def _value_cell(cell: str) -> str:
    """A value cell without text that spilled into it: when a row is the last of its rendering,
    the converter may glue the next line (a caption) to its last cell ('12.50\\n 附表2…')."""
    first, newline, rest = cell.partition("\n")
    if newline and _DIGIT.search(first) and _HAS_WORD.search(rest):
        cell = first
    return _LAYOUT_SPACE.sub("", cell.strip())  # a value wrapped in its cell: 每月按时\n保障


def _target(found: dict[str, int], row: _RowCells, value: str, pats: _Patterns) -> str | None:
    """Operator (性质 ≥/≤/＝) + value + unit as printed; a 定性 row's target is its value word.

    The 性质 cell is printed before the value only when it is an operator; the unit is printed
    after a number that does not already carry it."""
    if not value:
        return None
    cells = row.values
    nature = cells[found["nature"]] if "nature" in found else ""
    unit = cells[found["unit"]] if "unit" in found else ""
    op = row.printed(found["nature"]) if nature in pats.operators else ""
    if op and _key(value).startswith(_key(nature)):
        op = ""
    if unit and _DIGIT.search(value) and not _key(value).endswith(_key(unit)):
        unit = row.printed(found["unit"])
    else:
        unit = ""
    return op + value + unit


def _read_table(doc: Document, table: Table, pats: _Patterns,
                seen: dict[tuple[Any, ...], tuple[str | None, str | None]]) -> list[Indicator]:
    """Indicator rows of one table (none when it has no indicator header).

    ``seen`` remembers the rows already read, with the groups in force after them: a row printed
    again (a second rendering of the table) under the same header and groups gives nothing new.
    """
    rows = table.rows
    labels = [_header_labels(r.cells, pats) for r in rows]
    header: _Header | None = None
    kind = ""
    levels: tuple[str | None, str | None] = (None, None)
    out: list[Indicator] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        if _is_header(labels[i]):
            header, i = _make_header(rows, labels, i, pats)
            kind = "kpi" if "target" in header.columns else "scoring"
            levels = (None, None)
            continue
        if header is None:
            i += 1
            continue
        view = _RowCells(doc, table.rendering, row)
        end, used, rule = row.end, 1, f"table.{kind}"
        if table.rendering == "cell_per_line" and len(view.values) < header.width:
            # a blank line inside a cell splits a row in two paragraphs: join them again when
            # together they have exactly the header's width
            nxt = i + 1
            if (nxt < len(rows) and not _is_header(labels[nxt])
                    and len(view.values) + len(rows[nxt].cells) - 1 == header.width):
                view.join(rows[nxt])
                end, used, rule = rows[nxt].end, 2, rule + "+joined"
            elif (not _label_only(view.values, pats)
                    and not _plausible(view.values, header, pats)
                    and _plausible([""] * (header.width - len(view.values)) + view.values,
                                   header, pats)):
                # read left-aligned the row makes no sense, right-aligned it does: the cells
                # present are the right-hand ones (merged level cells on the left were dropped)
                view.pad_left(header.width)
        elif (table.rendering == "cell_per_line" and len(view.values) > header.width
                and not any(view.values[1:1 + len(view.values) - header.width])):
            view.pad_left(header.width)  # extra empty cells on the left: read right-aligned
        i += used
        key = (tuple(view.values), levels, header.signature)
        if key in seen:
            levels = seen[key]
            continue
        indicator, levels = _read_row(view, header, levels, pats)
        seen[key] = levels
        if indicator is not None:
            indicator.start, indicator.end = row.start, end
            indicator.table_id, indicator.row_index = table.table_id, row.index
            indicator.rule = rule + indicator.rule
            out.append(indicator)
    return out


def _read_row(view: _RowCells, header: _Header, levels: tuple[str | None, str | None],
              pats: _Patterns) -> tuple[Indicator | None, tuple[str | None, str | None]]:
    """One data row under ``header``: its indicator (if it is one) and the groups in force
    after it (a level cell sets its group; an empty one carries the group above down)."""
    cells = view.values
    level1, level2 = levels
    found = header.locate(cells)
    lv1 = _clean_level(cells[found["level1"]]) if "level1" in found else ""
    lv2 = _clean_level(cells[found["level2"]]) if "level2" in found else ""
    if lv1 and _key(lv1) not in pats.not_indicators and lv1 != level1:
        level1 = lv1
        if not lv2:
            level2 = None
    if lv2:
        level2 = lv2
    name_col = found.get("name")
    if name_col is None:
        # a group row outside the level columns, placed by its category word
        if _label_only(cells, pats) and not (lv1 or lv2):
            for c in cells[1:]:
                lvl = _category_level(c) if c else None
                if lvl == 1:
                    level1, level2 = _clean_level(c), None
                elif lvl == 2:
                    level2 = _clean_level(c)
        return None, (level1, level2)
    if not _has_value(found, pats):
        return None, (level1, level2)  # a row without any value: a task list, a template row
    target_col = found.get("target")
    rule = ""
    # a shifted row: its 三级 cell repeats the 二级 name and the name sits one cell right
    repeated = {_key(x) for x in (level1, level2) if x}
    if (target_col is not None and _key(cells[name_col]) in repeated
            and _HAS_WORD.search(cells[target_col]) and not _DIGIT.search(cells[target_col])):
        name_col, target_col = target_col, None
        del found["target"]
        rule = "+shifted"
    name = _clean_name(cells[name_col])
    if (not _HAS_WORD.search(name) or _key(name) in pats.not_indicators
            or not _has_value(found, pats)):
        return None, (level1, level2)
    if _category_level(name) and "score" not in found and "actual" not in found:
        return None, (level1, level2)  # an empty template row that only repeats a group word
    max_cell = cells[found["max_score"]] if "max_score" in found else ""
    score_cell = cells[found["score"]] if "score" in found else ""
    return Indicator(
        name=_clean_name(view.printed(name_col)) or name, level1=level1, level2=level2,
        target=_target(found, view, _value_cell(view.printed(target_col)), pats),
        actual=_value_cell(view.printed(found.get("actual"))) or None,
        max_score=None if max_cell in pats.dash_cells else _number(max_cell),
        score=None if score_cell in pats.dash_cells else _number(score_cell),
        origin="table", rule=rule), (level1, level2)


def _flattened_rows(doc: Document, pats: _Patterns) -> list[Indicator]:
    """Rows of a 自评表 flattened into one line of space-separated cells.

    After the header, a row is ``name target actual max score`` (empty cells vanish); group
    words between rows set level1/level2.
    """
    out: list[Indicator] = []
    norm = doc.norm
    for head in pats.flattened_header.finditer(norm):
        line_end = norm.find("\n", head.end())
        line_end = len(norm) if line_end < 0 else line_end
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(norm, head.end(),
                                                                 line_end)]
        words = [norm[s:e] for s, e in tokens]
        level1: str | None = None
        level2: str | None = None
        k = 0
        while k < len(tokens):
            word = words[k]
            levels = _enter_category(word, level1, level2, pats)
            if levels is not None:
                level1, level2 = levels
                k += 1
                continue
            if (k + 4 < len(tokens) and _HAS_WORD.search(word)
                    and _NUMBER.fullmatch(words[k + 3]) and _NUMBER.fullmatch(words[k + 4])
                    and _key(word) not in pats.not_indicators):
                s, e = tokens[k][0], tokens[k + 4][1]
                out.append(Indicator(
                    name=_clean_name(_printed(doc, *tokens[k])), level1=level1, level2=level2,
                    target=_printed(doc, *tokens[k + 1]) or None,
                    actual=_printed(doc, *tokens[k + 2]) or None,
                    max_score=_number(words[k + 3]), score=_number(words[k + 4]),
                    origin="table", start=s, end=e, rule="table.flattened"))
                k += 5
                continue
            k += 1
    return out


# The cells of a run-together row after its name, by the column they are in
_RT_NUMBER = {"max_score": r"[1-9]\d?(?:\.\d{1,2})?", "score": r"(?:0|[1-9]\d{0,2})(?:\.\d{1,2})?"}
_RT_COLUMNS = ("max_score", "target", "actual", "score")


@functools.lru_cache(maxsize=32)
def _rt_row(columns: tuple[str, ...], units: str, max_name: int, max_phrase: int) -> regex.Pattern[str]:
    """The pattern of one run-together row: a name, then a cell of each column by its shape."""
    # a number ends at its unit; one without a unit must not run into the next cell's digits
    value = (r"[≥≤><=]?(?:0|[1-9]\d*)(?:\.\d+)?(?:" + units + r"|(?!\d))"
             r"|\p{Han}{2,%d}?" % max_phrase)
    cells = "".join(f"(?P<{c}>{_RT_NUMBER[c]})" if c in _RT_NUMBER else f"(?P<{c}>{value})"
                    for c in columns)
    return regex.compile(r"(?P<name>[^\d≥≤><=%%\s|:]{2,%d}?)" % max_name + cells + r"(?!\d)")


def _run_together_rows(doc: Document, pats: _Patterns) -> list[Indicator]:
    """Rows of a 自评表 whose cells are printed with no separator (see ``run_together`` in
    patterns/indicators.yaml); the header's labels give the columns and their order."""
    out: list[Indicator] = []
    norm = doc.norm
    heads: list[regex.Match[str]] = []
    for needle in pats.rt_needle.finditer(norm):  # cheap: a header holds a name-column label
        if heads and needle.start() < heads[-1].end():
            continue
        head = pats.rt_header.search(norm, max(needle.start() - 40, heads[-1].end() if heads else 0),
                                     needle.end() + 80)
        if head and head.start() <= needle.start() < head.end():
            heads.append(head)
    for head in heads:
        fields = [pats.header[_key(m.group())] for m in pats.rt_label.finditer(norm, head.start(), head.end())]
        if "name" not in fields:
            continue
        columns = tuple(f for f in fields[fields.index("name") + 1:] if f != "note")
        if not columns or any(c not in _RT_COLUMNS for c in columns) or len(set(columns)) < len(columns):
            continue
        row = _rt_row(columns, pats.rt_units, pats.rt_max_name, pats.rt_max_phrase)
        line_end = norm.find("\n", head.end())
        line_end = len(norm) if line_end < 0 else line_end
        stop = pats.rt_end.search(norm, head.end(), line_end)
        limit = stop.start() if stop else line_end
        pos = head.end()
        level1: str | None = None
        level2: str | None = None
        while pos < limit:
            category = pats.rt_category.match(norm, pos, limit)
            if category:
                level1, level2 = _enter_category(category.group(), level1, level2, pats)
                pos = category.end()
                continue
            m = row.match(norm, pos, limit)
            if not m:
                # text the grid does not explain: the rest of a note column's label that is
                # longer than the lexicon's (未完成原因及拟采取的改进措施), a note cell
                pos += 1
                continue
            cells = {c: _printed(doc, *m.span(c)) for c in columns}
            target, actual = cells.get("target"), cells.get("actual")
            if target and actual and not regex.search(r"\d", target + actual):
                both = target + actual  # a phrase printed twice (显著提升显著提升) splits in half
                half = len(both) // 2
                if len(both) % 2 == 0 and both[:half] == both[half:]:
                    target = actual = both[:half]
            max_score = _number(cells["max_score"]) if "max_score" in cells else None
            score = _number(cells["score"]) if "score" in cells else None
            name = _clean_name(_printed(doc, *m.span("name")))
            if (max_score is None or score is None or score <= max_score) \
                    and _key(name) not in pats.not_indicators and _category_level(name) is None:
                out.append(Indicator(name=name, level1=level1, level2=level2, target=target,
                                     actual=actual, max_score=max_score, score=score,
                                     origin="table", start=m.start(), end=m.end(),
                                     rule="table.run_together"))
            pos = m.end()
    return out


# --------------------------------------------------------------------------------------------
# Achieved values in prose
# --------------------------------------------------------------------------------------------

def _measure_names(name: str, pats: _Patterns) -> list[str]:
    """The name, then its shorter suffixes that still end in a measure word, longest first.

    >>> _measure_names("城乡居民医疗保险参保率", _patterns())[-1]
    '参保率'
    """
    names = [name]
    ending = next((e for e in pats.measure_endings if name.endswith(e)), None)
    if ending:
        shortest = max(pats.measure_min, len(ending))
        names += [name[k:] for k in range(1, len(name) - shortest + 1)]
    return names


def _is_threshold(norm: str, start: int, end: int, pats: _Patterns) -> bool:
    before = norm[max(0, start - 4):start]
    after = norm[end:end + 2]
    return (any(before.endswith(w) for w in pats.threshold_before)
            or any(after.startswith(w) for w in pats.threshold_after))


def _find_actual(doc: Document, names: Iterable[str], lo: int, hi: int, pats: _Patterns,
                 sole_percentage: bool) -> str | None:
    """The indicator's own value in ``[lo, hi)`` as printed, or None.

    In order: a value right after the name or a measure suffix of it (``参保率超90%``,
    ``优良天数检测达300天``); a value right before the full name (``100%保障了设施维护率``);
    with ``sole_percentage``, the only percentage of the paragraph that is not a threshold
    (``占比0%`` beside ``偏离度在30%内``).
    """
    norm = doc.norm
    if hi <= lo:
        return None
    full = [n for n in dict.fromkeys(_key(n) for n in names) if n]
    for name in full:
        for cand in _measure_names(name, pats):
            pos = norm.find(cand, lo, hi)
            while pos >= 0:
                m = pats.value_after.match(norm, pos + len(cand), hi)
                if m:
                    return _printed(doc, *m.span("value"))
                pos = norm.find(cand, pos + 1, hi)
    for name in full:
        pos = norm.find(name, lo, hi)
        while pos >= 0:
            m = pats.value_before.search(norm, max(lo, pos - 40), pos)
            if m:
                return _printed(doc, *m.span("value"))
            pos = norm.find(name, pos + 1, hi)
    if sole_percentage:
        found = [m for m in pats.value.finditer(norm, lo, hi)
                 if norm[m.start("value"):m.end("value")].rstrip("以上下内").endswith(("%", "‰"))
                 and not _is_threshold(norm, m.start("value"), m.end("value"), pats)]
        if len(found) == 1:
            return _printed(doc, *found[0].span("value"))
    return None


# --------------------------------------------------------------------------------------------
# Prose items
# --------------------------------------------------------------------------------------------

@dataclass
class _Item:
    """A prose indicator and what it is matched to a table row by."""

    indicator: Indicator
    names: list[str] = field(default_factory=list)


@dataclass
class _Event:
    kind: str  # heading | label | target | section
    start: int
    end: int
    match: regex.Match[str] | None = None
    name: str = ""
    style: str = ""


def _levels(label1: str | None, label2: str | None, groups: list[str],
            pats: _Patterns) -> tuple[str | None, str | None]:
    """level1/level2 of an item from the category labels and the pointed group headings above
    it: a 一级 category word goes to level1, a 二级 one to level2, other group names fill the
    free levels outermost first."""
    level1, level2 = label1, label2
    for g in groups:
        lvl = _category_level(g)
        if lvl == 1 and level1 is None:
            level1 = g
        elif lvl == 2 and level2 is None:
            level2 = g
        elif lvl is None:
            if level1 is None:
                level1 = g
            elif level2 is None:
                level2 = g
    return level1, level2


def _first_score(norm: str, lo: int, hi: int,
                 pats: _Patterns) -> tuple[str, regex.Match[str]] | None:
    """The earliest score sentence in ``[lo, hi)`` (ties go to the first listed pattern)."""
    best: tuple[str, regex.Match[str]] | None = None
    for rule_id, pattern in pats.score_sentences:
        m = pattern.search(norm, lo, hi)
        if m and (best is None or m.start() < best[1].start()):
            best = (rule_id, m)
    return best


def _points(printed: str, score: float | None) -> float | None:
    """The points of a heading; digits transposed by a typo are read back when the awarded
    score exceeds them (``（01分）`` with 得分10分 → 10)."""
    value = _number(printed)
    if value is not None and score is not None and value < score:
        digits = _NON_DIGIT.sub("", printed)
        if len(digits) > 1 and float(digits[::-1]) >= score:
            return float(digits[::-1])
    return value


def _line_matches(pattern: regex.Pattern[str], norm: str, end: int, needle: re.Pattern[str],
                  line_above: bool = False, within: int | None = None,
                  tables: _TableSpans | None = None) -> list[regex.Match[str]]:
    """Matches of a line-anchored pattern in ``norm[:end]``, tried only at the start of lines
    holding ``needle`` (within ``within`` characters of the line start, if given; and, with
    ``line_above``, of the non-blank line above each): trying a ``(?m)^`` pattern at every
    position of a long report costs milliseconds. Lines inside ``tables`` are passed over."""
    starts: set[int] = set()
    gaps = tables.gaps if tables is not None else [(0, end)]
    hits = (h for lo, hi in gaps if lo < end for h in needle.finditer(norm, lo, min(hi, end)))
    for hit in hits:
        if tables is not None and tables.inside(hit.start()):
            continue
        line = norm.rfind("\n", 0, hit.start()) + 1
        if within is not None and hit.start() - line > within:
            continue
        starts.add(line)
        if line_above:
            above = line - 1
            while above > 0 and not norm[norm.rfind("\n", 0, above) + 1:above].strip():
                above = norm.rfind("\n", 0, above)
            if above > 0:
                starts.add(norm.rfind("\n", 0, above) + 1)
    out: list[regex.Match[str]] = []
    reached = -1
    for line in sorted(starts):
        if line < reached:
            continue
        m = pattern.match(norm, line, end)
        if m:
            out.append(m)
            reached = m.end()
    return out


class _TableSpans:
    """Where the parsed table rows lie: prose patterns never read inside them (a cell such as
    ``绩效\\n指标（90分）`` is not a heading)."""

    def __init__(self, doc: Document) -> None:
        spans = sorted((r.start, r.end) for t in doc.tables for r in t.rows)
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]
        # the text between tables (a table's rows are separated by blank lines only)
        self.gaps: list[tuple[int, int]] = []
        pos = 0
        for t in sorted(doc.tables, key=lambda t: t.start):
            if t.start > pos:
                self.gaps.append((pos, t.start))
            pos = max(pos, t.end)
        self.gaps.append((pos, len(doc.norm)))

    def inside(self, pos: int) -> bool:
        k = bisect.bisect_right(self.starts, pos) - 1
        return k >= 0 and pos < self.ends[k]

    def next_start(self, pos: int, default: int) -> int:
        k = bisect.bisect_right(self.starts, pos)
        return self.starts[k] if k < len(self.starts) else default


def _events(doc: Document, pats: _Patterns, tables: _TableSpans) -> list[_Event]:
    """Headings with points, group labels, target-list items and section lines outside the
    parsed tables (the narrative, and appended text that is not a table)."""
    norm, end = doc.norm, len(doc.norm)
    events: list[_Event] = []
    taken: set[int] = set()
    for m in _line_matches(pats.points_heading, norm, end, pats.needles["points_heading"],
                           tables=tables):
        if tables.inside(m.start()):
            continue
        name = _clean_name(_printed(doc, *m.span("name")))
        line = norm.rfind("\n", 0, m.start()) + 1
        if not _HAS_WORD.search(name):
            continue
        if _category_level(name):
            events.append(_Event("label", m.start(), m.end(), m, _clean_level(name)))
        else:
            marker = m.group("marker")
            events.append(_Event("heading", m.start("marker" if marker else "name"), m.end(), m,
                                 name, _marker_style(marker) if marker else "-"))
        taken.add(line)
    for m in _line_matches(pats.group_label, norm, end, pats.needles["group_label"],
                           within=pats.needle_within.get("group_label"), tables=tables):
        line = norm.rfind("\n", 0, m.start()) + 1
        if line not in taken and not tables.inside(m.start()):
            events.append(_Event("label", m.start(), m.end(), m,
                                 _clean_level(_printed(doc, *m.span("label")))))
            taken.add(line)
    for m in _line_matches(pats.target_item, norm, end, pats.needles["target_item"],
                           line_above=True, tables=tables):
        line = norm.rfind("\n", 0, m.start()) + 1
        name = _clean_name(_printed(doc, *m.span("name")))
        if line not in taken and _HAS_WORD.search(name) and not tables.inside(m.start()):
            events.append(_Event("target", m.start("marker"), m.end(), m, name))
            taken.add(line)
    for m in _line_matches(pats.section_line, norm, end, pats.needles["section_line"],
                           within=pats.needle_within.get("section_line"), tables=tables):
        if m.start() not in taken and not tables.inside(m.start()):
            events.append(_Event("section", m.start(), m.end(), m))
    events.sort(key=lambda e: (e.start, e.kind))
    return events


def _prose_items(doc: Document, pats: _Patterns) -> list[_Item]:
    """Scored items, quoted score lines and target-list items of the narrative."""
    norm, text_end = doc.norm, len(doc.norm)
    tables = _TableSpans(doc)
    events = _events(doc, pats, tables)
    items: list[_Item] = []
    groups: list[tuple[str, str]] = []  # (marker style, name) of the pointed group headings
    label1: str | None = None
    label2: str | None = None
    for idx, ev in enumerate(events):
        nxt = events[idx + 1] if idx + 1 < len(events) else None
        if ev.kind == "section":
            groups.clear()
            label1 = label2 = None
            continue
        if ev.kind == "label":
            lvl = _category_level(ev.name)
            if lvl == 1:
                label1, label2 = ev.name, None
            else:
                label2 = ev.name
            continue
        assert ev.match is not None
        if ev.kind == "target":
            level1, level2 = _levels(label1, label2, [g for _, g in groups], pats)
            m = ev.match
            # the achieved value is stated later in the same part (narrative or appendix)
            hi = doc.body_end if ev.start < doc.body_end else text_end
            items.append(_Item(Indicator(
                name=ev.name, level1=level1, level2=level2,
                target=_printed(doc, *m.span("value")) or None,
                actual=_find_actual(doc, [ev.name], m.end(), hi, pats, False),
                origin="prose", start=ev.start, end=ev.end, rule="prose.target_list"),
                [ev.name]))
            continue
        # a heading with points: an item, or the group of the items below it
        for k, (style, _) in enumerate(groups):
            if style == ev.style:
                del groups[k:]
                break
        block_end = min(nxt.start if nxt else text_end, ev.end + _MAX_BLOCK,
                        tables.next_start(ev.end, text_end))
        found = _first_score(norm, ev.end, block_end, pats)
        outer = {s for s, _ in groups}
        if found is None:
            # a group when the next heading is a deeper item: 1.项目决策（12分） (1)…（4分）
            is_group = (nxt is not None and nxt.kind == "heading" and nxt.style != ev.style
                        and nxt.style not in outer)
        else:
            # a group whose items print no points: a numbered line of another style comes
            # between the heading and the score sentence, which belongs to that item
            child = pats.numbered_line.search(norm, ev.end, found[1].start())
            is_group = child is not None and _marker_style(child.group("marker")) not in (
                ev.style, *outer)
        if is_group:
            groups.append((ev.style, ev.name))
            continue
        items.append(_heading_item(doc, ev, found, block_end, groups, label1, label2, pats))
    items += _loose_score_lines(doc, items, pats, tables)
    return _dedupe_items(items)


def _dedupe_items(items: list[_Item]) -> list[_Item]:
    """One prose item per (name, levels, points, score): a narrative printed twice (a page
    summary, an appended copy) gives each item once; the first copy wins."""
    seen: set[tuple[Any, ...]] = set()
    out: list[_Item] = []
    for item in sorted(items, key=lambda it: it.indicator.start):
        ind = item.indicator
        k = (_key(ind.name), _key(ind.level1 or ""), _key(ind.level2 or ""), ind.target,
             ind.max_score, ind.score)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _heading_item(doc: Document, ev: _Event, found: tuple[str, regex.Match[str]] | None,
                  block_end: int, groups: list[tuple[str, str]], label1: str | None,
                  label2: str | None, pats: _Patterns) -> _Item:
    assert ev.match is not None
    names = [ev.name]
    score: float | None = None
    max_score: float | None = None
    rule = "prose.points_heading"
    para_end = block_end
    end = block_end
    while end > ev.end and doc.norm[end - 1].isspace():
        end -= 1
    if found:
        rule_id, sm = found
        rule = f"prose.{rule_id}"
        para_end, end = sm.start(), sm.end()
        groupdict = sm.groupdict()
        if groupdict.get("name"):
            names.append(_clean_name(_printed(doc, *sm.span("name"))))
        if groupdict.get("max"):
            max_score = float(groupdict["max"])
        if groupdict.get("score"):
            score = float(groupdict["score"])
    points = _points(ev.match.group("points"), score)
    if points is not None:
        max_score = points
        if points != _number(ev.match.group("points")):
            rule += ".points_typo"  # 01分 beside 得分10分, read as 10: pipeline/checks names it
    if found and found[1].groupdict().get("full") and max_score is not None:
        score = max_score
    level1, level2 = _levels(label1, label2, [g for _, g in groups], pats)
    actual = _find_actual(doc, names, ev.match.end(), para_end, pats, True)
    return _Item(Indicator(name=ev.name, level1=level1, level2=level2, actual=actual,
                           max_score=max_score, score=score, origin="prose", start=ev.start,
                           end=max(end, ev.end), rule=rule), names)


def _loose_score_lines(doc: Document, items: list[_Item], pats: _Patterns,
                       tables: _TableSpans) -> list[_Item]:
    """Score sentences outside any item: a quoted score line names its indicator itself; a
    ``该指标得分…`` sentence takes the numbered line above it as its heading."""
    norm = doc.norm
    spans = sorted((it.indicator.start, it.indicator.end) for it in items)
    out: list[_Item] = []

    def covered(pos: int) -> bool:
        return any(s <= pos < e for s, e in spans)

    def boundary(pos: int) -> int:
        prev = [e for _, e in spans if e <= pos]
        return max([pos - _MAX_LOOKBACK, *prev])

    for rule_id, pattern in pats.score_sentences[:2]:
        for m in pattern.finditer(norm):
            if covered(m.start()) or tables.inside(m.start()):
                continue
            lo = max(0, boundary(m.start()))
            heading: regex.Match[str] | None = None
            if m.groupdict().get("name"):
                name = _clean_name(_printed(doc, *m.span("name")))
            else:
                for h in pats.numbered_line.finditer(norm, lo, m.start()):
                    heading = h
                if heading is None or pats.needles["points_heading"].search(
                        norm, heading.start(), heading.end()):
                    continue  # no heading, or one with points but no name
                name = _clean_name(_printed(doc, *heading.span("name")))
            if not _HAS_WORD.search(name) or _category_level(name):
                continue
            groupdict = m.groupdict()
            max_score = float(groupdict["max"]) if groupdict.get("max") else None
            score = float(groupdict["score"]) if groupdict.get("score") else None
            para_lo = heading.end() if heading else lo
            out.append(_Item(Indicator(
                name=name, actual=_find_actual(doc, [name], para_lo, m.start(), pats, True),
                max_score=max_score, score=score, origin="prose",
                start=heading.start("marker") if heading else m.start(), end=m.end(),
                rule=f"prose.{rule_id}"), [name]))
            spans.append((out[-1].indicator.start, m.end()))
            spans.sort()
    return out


# --------------------------------------------------------------------------------------------
# Stated results (project reports without a scored list or table)
# --------------------------------------------------------------------------------------------

_ENUMERATION = regex.compile(r"、|及|和|与")
# A stated result's name never starts with a figure nor holds a comparison: such a "name" is the
# tail of a scoring form's cells run together (10水标尺宽度10≥50厘米…)
_NOT_A_NAME = regex.compile(r"^\d|[≥≤><=]")


def _split_enumeration(name: str, pats: _Patterns) -> list[tuple[int, str]]:
    """``到位率、合格率、设施完好、运行正常的比例`` → the names it enumerates, each
    ending in a measure word (a piece that does not is the first half of the next name).
    ``及``/``和``/``与`` join two names only where the piece before them is a whole name
    (覆盖率及资金到位率; not 设施完好及运行正常的比例).

    >>> from extractors.indicators import _patterns
    >>> [n for _, n in _split_enumeration("覆盖率及资金到位率", _patterns())]
    ['覆盖率', '资金到位率']
    >>> [n for _, n in _split_enumeration("设施完好及运行正常的比例", _patterns())]
    ['设施完好及运行正常的比例']
    """
    out: list[tuple[int, str]] = []
    current_start = 0
    for sep in [*_ENUMERATION.finditer(name), None]:
        end = sep.start() if sep else len(name)
        if name[current_start:end].endswith(pats.results_endings):
            out.append((current_start, name[current_start:end]))
            current_start = sep.end() if sep else end
    return out


def _target_actual_pairs(doc: Document, ls: int, le: int, pats: _Patterns,
                         level1: str | None, level2: str | None) -> list[Indicator]:
    """``NAME指标为V实际完成值为V`` clauses of one line (see ``results.target_actual``); a
    category word opening the line (3.时效指标。) is their 二级."""
    norm = doc.norm
    opening = pats.line_opening.match(norm, ls, le)
    start = opening.end() if opening else ls
    if opening and opening.group("category"):
        level1, level2 = _enter_category(opening.group("category"), level1, level2, pats) \
            or (level1, level2)
    out: list[Indicator] = []
    for m in pats.target_actual.finditer(norm, start, le):
        name = _clean_name(_printed(doc, *m.span("name")))
        if len(name) < 2 or _NOT_A_NAME.search(name) or not _HAS_WORD.search(name):
            continue
        out.append(Indicator(name=name, level1=level1, level2=level2,
                             target=_printed(doc, *m.span("target")).strip(),
                             actual=_printed(doc, *m.span("actual")).strip(), origin="prose",
                             start=m.start("name"), end=m.end(), rule="prose.target_actual"))
    return out


def _result_statements(doc: Document, sections: list[Section],
                       pats: _Patterns) -> list[Indicator]:
    """``NAME(达到|为)?VALUE`` clauses in paragraphs that speak of targets or indicators."""
    norm, body_end = doc.norm, doc.body_end
    skip = [(s.start, s.end) for s in sections if s.canonical in ("finance", "problems",
                                                                   "suggestions")]
    out: list[Indicator] = []
    level1: str | None = None
    level2: str | None = None
    previous = ""
    for line in _LINE.finditer(norm, 0, body_end):
        ls, le = line.span()
        text = line.group(0)
        if not text.strip():
            continue
        paired = _target_actual_pairs(doc, ls, le, pats, level1, level2)
        out += paired
        if paired:
            continue
        label = pats.group_label.match(norm, ls, le)
        if label:
            lvl = _category_level(label.group("label"))
            if lvl == 1:
                level1, level2 = _clean_level(label.group("label")), None
            elif lvl == 2:
                level2 = _clean_level(label.group("label"))
        context = pats.results_context.search(text) or (
            len(previous) < 40 and pats.results_context.search(previous))
        previous = text
        if not context or any(s <= ls < e for s, e in skip):
            continue
        previous_value_end = ls
        for m in pats.value.finditer(norm, ls, le):
            vs = m.start("value")
            clause_start = max(norm.rfind(c, ls, vs) for c in _CLAUSE_BREAK) + 1
            # a clause also starts right after the value before it (经费发放率为98%覆盖率…)
            clause_start = max(clause_start, ls, previous_value_end)
            previous_value_end = m.end("value")
            head = norm[clause_start:vs]
            verb = pats.results_verb_end.search(head)
            name_end = clause_start + (verb.start() if verb else len(head))
            raw = norm[clause_start:name_end]
            lead = pats.results_lead.match(raw)
            offset = lead.end() if lead else 0
            for rel, name in _split_enumeration(raw[offset:], pats):
                name = _clean_name(name)
                if (not name or len(name) > pats.results_max_name or len(name) < 2
                        or pats.results_reject.search(name) or not _HAS_WORD.search(name)
                        or _NOT_A_NAME.search(name)):
                    continue
                start = clause_start + offset + rel
                out.append(Indicator(
                    name=_clean_name(_printed(doc, start, start + len(name))) or name,
                    level1=level1, level2=level2, actual=_printed(doc, *m.span("value")),
                    origin="prose", start=start, end=m.end("value"), rule="prose.result"))
    return out


# --------------------------------------------------------------------------------------------
# One row per indicator
# --------------------------------------------------------------------------------------------

def _same_scores(a: Indicator, b: Indicator) -> bool:
    return (a.max_score is not None and a.max_score == b.max_score
            and (a.score is None or b.score is None or a.score == b.score))


def _dedupe_rows(rows: list[Indicator]) -> list[Indicator]:
    """One row per distinct indicator: repeated renderings of a table collapse to the first.

    Rows are the same indicator when name, levels and every value agree: two projects' tables
    of one report that both list 受益群众满意度 with different values stay two rows."""
    seen: set[tuple[Any, ...]] = set()
    out: list[Indicator] = []
    for ind in rows:
        k = (_key(ind.name), _key(ind.level1 or ""), _key(ind.level2 or ""),
             _key(ind.target or ""), _key(ind.actual or ""), ind.max_score, ind.score)
        if k not in seen:
            seen.add(k)
            out.append(ind)
    return out


def _merge(rows: list[Indicator], items: list[_Item]) -> list[Indicator]:
    """Table rows plus the prose items that repeat none of them.

    A prose item repeats a row when one of its names equals the row's (normalised), or one
    contains the other at a length ratio ≥ 0.6, or — for an item the prose renames —
    when it sits between two matched neighbours at the same distance as the row and has the
    same points. The row keeps its values and takes the prose ``actual``/``target`` it lacks.
    """
    by_key: dict[str, list[int]] = {}
    for r, ind in enumerate(rows):
        by_key.setdefault(_key(ind.name), []).append(r)
    used: set[int] = set()
    matched: dict[int, int] = {}
    for ii, item in enumerate(items):
        keys = [k for k in (_key(n) for n in item.names) if k]
        hit = next((r for k in keys for r in by_key.get(k, ()) if r not in used), None)
        if hit is None:
            for r, ind in enumerate(rows):
                rk = _key(ind.name)
                if r in used or not rk:
                    continue
                if any((k in rk or rk in k) and min(len(k), len(rk)) / max(len(k), len(rk)) >= 0.6
                       for k in keys) and (ind.max_score is None or item.indicator.max_score
                                           is None or ind.max_score == item.indicator.max_score):
                    hit = r
                    break
        if hit is not None:
            matched[ii] = hit
            used.add(hit)
    for ii, item in enumerate(items):
        if ii in matched or item.indicator.score is None:
            continue
        prev = max((a for a in matched if a < ii), default=None)
        nxt = min((b for b in matched if b > ii), default=None)
        candidates = []
        if prev is not None:
            candidates.append(matched[prev] + (ii - prev))
        if nxt is not None:
            candidates.append(matched[nxt] - (nxt - ii))
        for r in candidates:
            if (0 <= r < len(rows) and r not in used and _same_scores(rows[r], item.indicator)
                    and set(_key(rows[r].name)) & set(_key(item.indicator.name))):
                matched[ii] = r
                used.add(r)
                break
    for ii, r in matched.items():
        prose = items[ii].indicator
        if rows[r].actual is None and prose.actual is not None:
            rows[r].actual = prose.actual
        if rows[r].target is None and prose.target is not None:
            rows[r].target = prose.target
    merged = rows + [it.indicator for ii, it in enumerate(items) if ii not in matched]
    return sorted(merged, key=lambda ind: (ind.start, ind.row_index or 0))


def extract_indicators(doc: Document, sections: list[Section]) -> list[Indicator]:
    """Every distinct performance indicator (绩效指标) of a report, tables preferred.

    ``sections`` (may be empty) only narrows where stated results are looked for; items and
    tables are found by their own markers.

    >>> from pipeline.ingest import document_from_text
    >>> doc = document_from_text("（一）绩效评价情况\\n1.预算执行率（10分）\\n"
    ...                          "预算执行率达98.5%，该指标得分为10分。\\n", "x.txt")
    >>> [(i.name, i.actual, i.max_score, i.score) for i in extract_indicators(doc, [])]
    [('预算执行率', '98.5%', 10.0, 10.0)]
    """
    pats = _patterns()
    rows: list[Indicator] = []
    seen: dict[tuple[Any, ...], tuple[str | None, str | None]] = {}
    for table in doc.tables:
        rows += _read_table(doc, table, pats, seen)
    rows += _flattened_rows(doc, pats)
    if not rows:  # the last resort of the grid readers: a form whose cells run together
        rows = _run_together_rows(doc, pats)
    merged = _merge(_dedupe_rows(rows), _prose_items(doc, pats))
    if not merged:
        merged = _result_statements(doc, sections, pats)
    return merged


def extract_group_points(doc: Document, indicators: list[Indicator]) -> list[Fact]:
    """The points a group label prints (``产出指标（50分）``) for a group some of ``indicators``
    belong to (level1 or level2), as ``group_points`` facts: the value is the points, ``text`` the
    label as printed, so the checks can add up the group's rows.

    >>> from pipeline.ingest import document_from_text
    >>> doc = document_from_text("产出指标（50分）\\n", "x.txt")
    >>> [(f.value, f.text) for f in extract_group_points(doc, [Indicator("a", level1="产出指标")])]
    [(50.0, '产出指标（50分）')]
    """
    pats = _patterns()
    groups = {g for i in indicators for g in (i.level1, i.level2) if g}
    if not groups or "分" not in doc.norm:
        return []
    # the label regex is tried only just before each "分)" (trying it at every offset of the
    # text cost more than the rest of this extractor)
    out = []
    for close in _POINTS_CLOSE.finditer(doc.norm):
        for m in pats.group_points.finditer(doc.norm, max(0, close.start() - _LABEL_REACH),
                                            close.end()):
            if m.end() == close.end() and _clean_level(m.group("label")) in groups:
                out.append(Fact("group_points", float(m.group("points")), m.start(), m.end(),
                                doc.text[m.start():m.end()], "indicators.group_points"))
                break
    return out


_POINTS_CLOSE = regex.compile(r"分[ \t]*\)")
_LABEL_REACH = 40  # characters before 分) a group label with its points can start
