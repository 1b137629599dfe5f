"""Report-level facts: who reports, where, on which year, what kind, when, how it scored, and the
headline money figures (收入/支出合计, 基本支出, 项目支出, 预算执行率).

One pure entry point, :func:`extract_report_facts`. Every vocabulary (title words, organisation
endings, score and grade phrases, key-figure labels, date contexts) is data in
``patterns/report.yaml``; the division table behind province/city inference is
``patterns/divisions.tsv`` via :mod:`pipeline.divisions`.

Where things are read, in order of trust (each fact's ``rule`` says which one answered):

* **title block** — the short lines around the report title before the first heading
  (``重庆市璧山区广普镇人民政府`` / ``2024年度整体支出绩效自评报告``);
* **signature block** — the last short lines of the body (unit name, then a date);
* **portal header** — ``发布机构``, ``发布日期/成文日期``, ``欢迎来到…网站``;
* **running text** — the first division-prefixed organisation, the most frequent township.

Everything matches on ``doc.norm`` (same offsets as ``doc.text``), so every span slices the source.
"""
from __future__ import annotations

import datetime
import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import regex

from extractors.budget_form import BudgetRow, read_budget_row
from extractors.indicators import extract_group_points
from pipeline import divisions
from pipeline.document import Amount, Document, Fact, Indicator, Percentage, Section
from pipeline.patterns import alternation, compile_verbose, load_yaml, require

REPORT_FIELDS = ("unit_name", "province", "city", "county", "township", "fiscal_year",
                 "report_kind", "report_date", "total_score", "grade")
KEY_FIGURES = ("income_total", "expenditure_total", "basic_expenditure", "project_expenditure",
               "budget_execution_rate")
# The 统计用区划代码 of the unit's places (12 digits each), and which code table they come from
DIVISION_CODES = ("province_code", "city_code", "county_code", "township_code", "division_scheme")
# The parts of a total listed after it (其中…), which only the checks read: 人员经费 and 公用经费
# of 基本支出 (or of the total with 项目支出), and each source of 收入合计 (one income_part each)
PART_FIGURES = ("personnel_expenditure", "public_expenditure", "income_part")
# The cells of a scoring form's 年度资金总额 row (money in yuan), which only the checks read
FORM_FIGURES = ("form_budget", "form_executed", "form_execution_rate", "form_budget_points")
# Every field a fact may have: the reports columns, plus what only the checks read: the parts of
# totals, the form's cells, the grade bands the report states (优≥90;良≥80;中≥60;差≥0) and the
# points of each indicator group a label prints (产出指标（50分）, one group_points fact each)
FACT_FIELDS = (REPORT_FIELDS + DIVISION_CODES + KEY_FIGURES + PART_FIGURES + FORM_FIGURES
               + ("grade_bands", "group_points"))
# The money figures, in the order a clause's label is tried against them
MONEY_FIGURES = ("basic_expenditure", "project_expenditure", "income_total", "expenditure_total")
_CJK_ONLY = regex.compile(r"[\u4e00-\u9fff()]+")
_NUMBER = regex.compile(r"\d+(?:\.\d+)?")
_YEAR = re.compile(r"20\d\d")  # where an Arabic date may begin (a cheap scan before the date regex)
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}


# --------------------------------------------------------------------------------------------
# Patterns (loaded and compiled once)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Label:
    rule: str
    rank: int
    pattern: regex.Pattern[str]


@dataclass(frozen=True)
class _ScorePattern:
    rule: str
    pattern: regex.Pattern[str]
    requires: regex.Pattern[str] | None  # the match must also contain this
    largest: bool                        # take the largest value, not the first
    anywhere: bool = False               # search the appended material too, not only the body


@dataclass(frozen=True)
class _Patterns:
    first_heading: regex.Pattern[str]
    head_max: int
    max_line: int
    file_caption: regex.Pattern[str]
    boilerplate: regex.Pattern[str]
    channel_line: regex.Pattern[str]     # a line that is only a portal channel's name
    addressed_title: regex.Pattern[str]  # 关于…: the org line below the title is the addressee
    title_line: regex.Pattern[str]
    title_requires: regex.Pattern[str]
    title_rejects: regex.Pattern[str]
    org_suffix_end: regex.Pattern[str]
    gov_tails: tuple[str, ...]          # 人民政府, 办事处: where a government's name ends
    org_rejects: regex.Pattern[str]
    place_prefix: regex.Pattern[str]
    mask: regex.Pattern[str]
    running_org: regex.Pattern[str]
    running_before: regex.Pattern[str]
    running_after: regex.Pattern[str]
    running_window: int
    form_label: regex.Pattern[str]
    publisher: regex.Pattern[str]
    site_name: regex.Pattern[str]
    title_prefix: regex.Pattern[str]
    title_infix: regex.Pattern[str]
    township_text: regex.Pattern[str]
    township_generic: frozenset[str]
    township_not_before: frozenset[str]
    township_min_count: int
    township: regex.Pattern[str]
    year: regex.Pattern[str]
    whole_words: regex.Pattern[str]
    project_words: regex.Pattern[str]
    whole_body: regex.Pattern[str]
    date: regex.Pattern[str]
    date_line: regex.Pattern[str]
    portal_date: regex.Pattern[str]
    portal_rank: dict[str, int]
    date_rejects: regex.Pattern[str]
    signature_window: int
    signature_lines: int
    signature_max: int
    scores: tuple[_ScorePattern, ...]
    score_reject: regex.Pattern[str]
    score_rows: frozenset[str]
    grade: regex.Pattern[str]
    kf_context: int
    kf_clause: regex.Pattern[str]
    kf_triggers: regex.Pattern[str]
    rate_words: re.Pattern[str]
    kf_rejects: regex.Pattern[str]
    rate_rejects: regex.Pattern[str]
    funds: tuple[tuple[str, str], ...]
    labels: dict[str, tuple[_Label, ...]]
    components_word: str
    parts: dict[str, tuple[_Label, ...]]  # the labels of the parts of a total (PART_FIGURES)
    parts_rejects: regex.Pattern[str]
    grade_band: regex.Pattern[str]
    grade_band_grade_first: regex.Pattern[str]
    grade_band_open_end: regex.Pattern[str]
    grade_bands_min: int


def _words(data: dict[str, Any], key: str, where: str) -> str:
    return alternation(list(data[key]), f"report.yaml:{where}.{key}")


@functools.lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    data = load_yaml("report.yaml")
    require(data, "head", "title_line", "title_line_requires", "title_line_rejects", "unit",
            "township", "fiscal_year", "report_kind", "date", "total_score", "grade",
            "key_figures", "grade_bands", where="report.yaml")
    head, unit, date, kf = data["head"], data["unit"], data["date"], data["key_figures"]
    require(head, "max_chars", "first_heading", "boilerplate_words", "channel_lines", "addressed_title",
            "max_line_chars",
            where="report.yaml:head")
    require(unit, "org_suffixes", "org_rejects", "place_name_prefixes", "mask_chars", "running_text_suffixes",
            "running_text_tails", "running_text_rejects_before", "running_text_rejects_after",
            "running_text_window",
            "form_label", "publisher", "site_name", "title_prefix", "title_infix",
            "township_in_text_suffixes", "township_generic_chars", "township_not_before", "township_min_count",
            where="report.yaml:unit")
    require(date, "value", "line_labels", "portal", "portal_labels", "reject_context",
            "signature_lines", "signature_max_line_chars", where="report.yaml:date")
    require(kf, "context_chars", "clause_breaks", "connectors", "reject_context", "funds",
            "labels", "components_word", "trigger_words", "rate_reject_context", "parts",
            "parts_reject_context", where="report.yaml:key_figures")
    bands = data["grade_bands"]
    require(bands, "band", "band_grade_first", "open_ends", "min_bands",
            where="report.yaml:grade_bands")
    date_value = data["date"]["value"]
    connectors = kf["connectors"]

    def figure_labels(entries: list[dict[str, str]], figure: str) -> tuple[_Label, ...]:
        if not entries:
            raise ValueError(f"report.yaml: no labels for key figure {figure}")
        # searched backwards (?r): a label must end where the number begins
        return tuple(
            _Label(e["id"], rank, compile_verbose(f"(?r)(?:{e['regex']})\n{connectors}\n$",
                                                  f"report.yaml:{e['id']}"))
            for rank, e in enumerate(entries))

    labels = {f: figure_labels(kf["labels"].get(f) or [], f) for f in KEY_FIGURES}
    parts = {f: figure_labels(kf["parts"].get(f) or [], f) for f in PART_FIGURES}
    kind = data["report_kind"]
    suffixes = _words(unit, "org_suffixes", "unit")
    return _Patterns(
        first_heading=compile_verbose(head["first_heading"], "report.yaml:head.first_heading"),
        head_max=int(head["max_chars"]),
        max_line=int(head["max_line_chars"]),
        file_caption=compile_verbose(head["file_caption"], "report.yaml:head.file_caption"),
        boilerplate=regex.compile(_words(head, "boilerplate_words", "head")),
        channel_line=regex.compile(r"[ \t]*(?:" + _words(head, "channel_lines", "head") + r")[ \t]*"),
        addressed_title=compile_verbose(head["addressed_title"], "report.yaml:head.addressed_title"),
        title_line=compile_verbose(data["title_line"], "report.yaml:title_line"),
        title_requires=compile_verbose(data["title_line_requires"], "report.yaml:title_requires"),
        title_rejects=regex.compile(_words(data, "title_line_rejects", "")),
        org_suffix_end=regex.compile(suffixes + "$"),
        gov_tails=tuple(str(t) for t in unit["running_text_tails"]),
        org_rejects=regex.compile(_words(unit, "org_rejects", "unit")),
        place_prefix=regex.compile(_words(unit, "place_name_prefixes", "unit")),
        mask=regex.compile(_words(unit, "mask_chars", "unit")),
        # a name from a division onwards: the shortest run of CJK up to an unmistakable ending
        running_org=regex.compile(r"[\u4e00-\u9fff]{1,16}?"
                                  + _words(unit, "running_text_suffixes", "unit")
                                  + _words(unit, "running_text_tails", "unit") + "?"),
        running_before=regex.compile(_words(unit, "running_text_rejects_before", "unit") + "$"),
        running_after=regex.compile(_words(unit, "running_text_rejects_after", "unit")),
        running_window=int(unit["running_text_window"]),
        form_label=compile_verbose(unit["form_label"], "report.yaml:unit.form_label"),
        publisher=compile_verbose(unit["publisher"], "report.yaml:unit.publisher"),
        site_name=compile_verbose(unit["site_name"], "report.yaml:unit.site_name"),
        title_prefix=compile_verbose(unit["title_prefix"], "report.yaml:unit.title_prefix"),
        title_infix=compile_verbose(unit["title_infix"].replace("ORG_SUFFIX", suffixes),
                                    "report.yaml:unit.title_infix"),
        township_text=regex.compile(_words(unit, "township_in_text_suffixes", "unit")),
        township_generic=frozenset(unit["township_generic_chars"]),
        township_not_before=frozenset(unit["township_not_before"]),
        township_min_count=int(unit["township_min_count"]),
        township=compile_verbose(data["township"], "report.yaml:township"),
        year=compile_verbose(data["fiscal_year"]["year"], "report.yaml:fiscal_year.year"),
        whole_words=regex.compile(_words(kind, "whole_words", "report_kind")),
        project_words=regex.compile(_words(kind, "project_words", "report_kind")),
        whole_body=regex.compile(_words(kind, "whole_body_words", "report_kind")),
        date=compile_verbose(date_value, "report.yaml:date.value"),
        date_line=compile_verbose(
            r"(?:" + _words(date, "line_labels", "date") + r"[ \t]*[:]?[ \t]*)?(?:"
            + date_value + "\n)[ \t]*", "report.yaml:date.line"),
        portal_date=compile_verbose(
            "(?:" + date["portal"].replace("PORTAL_LABELS", _words(date, "portal_labels", "date"))
            + f"\n)(?P<when>{date_value}\n)", "report.yaml:date.portal"),
        portal_rank={w: i for i, w in enumerate(date["portal_labels"])},
        date_rejects=regex.compile(_words(date, "reject_context", "date")),
        signature_window=int(date["signature_window"]),
        signature_lines=int(date["signature_lines"]),
        signature_max=int(date["signature_max_line_chars"]),
        scores=tuple(_ScorePattern(
            p["id"], compile_verbose(p["regex"], f"report.yaml:{p['id']}"),
            compile_verbose(p["requires"], f"report.yaml:{p['id']}.requires")
            if p.get("requires") else None, p.get("pick") == "largest", bool(p.get("anywhere")))
            for p in data["total_score"]["patterns"]),
        score_reject=compile_verbose(data["total_score"]["reject_context"],
                                     "report.yaml:total_score.reject_context"),
        score_rows=frozenset(data["total_score"]["table_row_labels"]),
        grade=compile_verbose(data["grade"]["regex"], "report.yaml:grade"),
        kf_context=int(kf["context_chars"]),
        # the clause before a number: everything back to the last clause break
        kf_clause=regex.compile("(?r)[^" + regex.escape(str(kf["clause_breaks"])) + "]*"),
        kf_triggers=regex.compile(_words(kf, "trigger_words", "key_figures")),
        # the trigger words the rate's labels are written with (执行率): a percentage with none
        # of them before it, nor in its label, is not looked at further
        rate_words=re.compile("|".join(
            re.escape(w) for w in kf["trigger_words"]
            if any(w in e["regex"] for e in kf["labels"]["budget_execution_rate"]))),
        kf_rejects=regex.compile(_words(kf, "reject_context", "key_figures")),
        rate_rejects=regex.compile(_words(kf, "rate_reject_context", "key_figures")),
        funds=tuple((str(k), str(v)) for k, v in kf["funds"].items()),
        labels=labels,
        components_word=str(kf["components_word"]),
        parts=parts,
        parts_rejects=regex.compile(_words(kf, "parts_reject_context", "key_figures")),
        grade_band=compile_verbose(bands["band"], "report.yaml:grade_bands.band"),
        grade_band_grade_first=compile_verbose(bands["band_grade_first"],
                                               "report.yaml:grade_bands.band_grade_first"),
        grade_band_open_end=regex.compile(alternation(bands["open_ends"],
                                                      "report.yaml:grade_bands.open_ends")),
        grade_bands_min=int(bands["min_bands"]),
    )


# --------------------------------------------------------------------------------------------
# Lines of the head and tail
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    """A non-empty line: ``text`` is the stripped content of ``norm[start:end]``."""

    start: int
    end: int
    text: str


def _lines(norm: str, start: int, end: int) -> list[_Line]:
    out = []
    pos = start
    while pos < end:
        nl = norm.find("\n", pos, end)
        stop = end if nl < 0 else nl
        raw = norm[pos:stop]
        stripped = raw.strip(" \t\r\u3000\xa0")
        if stripped:
            lead = len(raw) - len(raw.lstrip(" \t\r\u3000\xa0"))
            out.append(_Line(pos + lead, pos + lead + len(stripped), stripped))
        pos = stop + 1
    return out


def _tail_lines(norm: str, body_end: int, count: int, max_chars: int) -> list[_Line]:
    """The last ``count`` non-empty lines of the body, stopping at the first long (prose) line."""
    window = max(0, body_end - 60 * count - 200)
    lines = _lines(norm, window, body_end)[-count:]
    kept: list[_Line] = []
    for line in reversed(lines):
        if len(line.text) > max_chars:
            break
        kept.append(line)
    return list(reversed(kept))


def _head_end(doc: Document, sections: list[Section], pat: _Patterns) -> int:
    """Where the head (portal furniture and title block) ends: the first level-1 heading."""
    limit = min(len(doc.norm), doc.body_end, pat.head_max)
    m = pat.first_heading.search(doc.norm, 0, limit)
    end = m.start() if m else limit
    for s in sections:
        if s.level == 1 and 0 <= s.start < end:
            end = doc.norm.rfind("\n", 0, s.start) + 1
            break
    return end


def _with_file_captions(head: list[_Line], norm: str, head_end: int, pat: _Patterns) -> list[_Line]:
    """``head`` plus, as lines of their own, the file names in document-sharing captions
    (``《…自评报告.doc》由会员分享``): the name is the title the page does not print otherwise."""
    captions = [_Line(m.start("title"), m.end("title"), m.group("title").strip())
                for m in pat.file_caption.finditer(norm, 0, head_end)]
    return sorted(head + captions, key=lambda line: line.start) if captions else head


def _is_boilerplate(line: _Line, pat: _Patterns) -> bool:
    return bool(pat.boilerplate.search(line.text)) or bool(pat.channel_line.fullmatch(line.text))


def _is_title(line: _Line, pat: _Patterns) -> bool:
    t = line.text
    return (len(t) <= pat.max_line and bool(pat.title_line.search(t))
            and bool(pat.title_requires.search(t)) and not pat.title_rejects.search(t)
            and not _is_boilerplate(line, pat))


# --------------------------------------------------------------------------------------------
# Unit name
# --------------------------------------------------------------------------------------------

def _org_name(name: str, pat: _Patterns) -> bool:
    """Whether ``name`` reads as an organisation: CJK only, an organisation's ending, no form
    words, not masked."""
    return (2 <= len(name) <= 30 and bool(_CJK_ONLY.fullmatch(name))
            and bool(pat.org_suffix_end.search(name)) and not pat.org_rejects.search(name)
            and not pat.mask.search(name) and not name.startswith(("(", ")")))


def _org_in_line(line: _Line, pat: _Patterns) -> tuple[str, int] | None:
    """An organisation line (optionally bracketed, ``（绥宁县长铺镇人民政府）``) → (name, offset)."""
    text = line.text
    while len(text) > 2 and text[0] in "(【[" and text[-1] in ")】]":
        text = text[1:-1].strip()
    if _org_name(text, pat):
        return text, line.start + line.text.find(text)
    return None


def _org_before_year(line: _Line, pat: _Patterns) -> tuple[str, int, str] | None:
    """(name, start, rule) of the unit printed with the year on a title line: before it
    (``鸡飞镇2022年…自评报告``) or between it and the subject (``2023年度XX局部门整体支出…``)."""
    for rule, pattern in (("unit.title_prefix", pat.title_prefix),
                          ("unit.title_infix", pat.title_infix)):
        m = pattern.search(line.text)
        if not m:
            continue
        name = _org_head(m.group("name"), pat)
        if name:
            start = line.start + m.start("name") if line.start >= 0 else -1
            return name, start, rule
    return None


def _org_head(name: str, pat: _Patterns) -> str | None:
    """``name`` when it reads as an organisation, else its longest beginning that does and ends
    in a government's own suffix (``忠县金声乡人民政府转移支付`` → ``忠县金声乡人民政府``).

    A title that opens with a county or city and then its subject (``无为市危房改造转移支付``)
    is that place's own report: the unit is the place (its government).

    >>> _org_head("忠县金声乡人民政府转移支付", _patterns()), _org_head("无为市危房改造转移支付", _patterns())
    ('忠县金声乡人民政府', '无为市')
    """
    if _org_name(name, pat):
        return name
    for tail in pat.gov_tails:
        end = name.rfind(tail)
        if end > 0 and _org_name(name[:end + len(tail)], pat):
            return name[:end + len(tail)]
    hits, rest = divisions.parse_prefix(name)
    if (hits and not any(h.short for h in hits) and hits[-1].level in {"county", "city"}
            and len(name) - rest >= 2 and rest == hits[-1].end):
        return name[:rest]
    return None


def _fact(field: str, value: Any, doc: Document, start: int, end: int, rule: str) -> Fact:
    """A fact read at ``doc.text[start:end]`` (span trimmed of spaces); -1/-1 when inferred."""
    if start < 0:
        return Fact(field, value, -1, -1, "", rule)
    while end > start and doc.text[end - 1].isspace():
        end -= 1
    while start < end and doc.text[start].isspace():
        start += 1
    return Fact(field, value, start, end, doc.text[start:end], rule)


def _neighbours(lines: list[_Line], i: int, pat: _Patterns) -> list[_Line]:
    """The title block around title line ``i``: up to 3 short lines above it (nearest first),
    then up to 2 below, stopping at prose or portal furniture. Below a 关于… title (a 公文 to a
    superior) stands the addressee, so nothing below it counts."""
    block: list[_Line] = []
    above = lines[i - 1].text if i > 0 else ""
    addressed = bool(pat.addressed_title.match(lines[i].text) or pat.addressed_title.match(above))
    for step, count in ((-1, 3), (1, 0 if addressed else 2)):
        j = i + step
        while 0 <= j < len(lines) and abs(j - i) <= count:
            if len(lines[j].text) > pat.max_line or _is_boilerplate(lines[j], pat):
                break
            block.append(lines[j])
            j += step
    return block


def _unit_from_title_block(lines: list[_Line], pat: _Patterns) -> tuple[str, int, str] | None:
    """The unit printed on a title line (``鸡飞镇2022年…报告``) or on a line of its own around it
    (``重庆市璧山区广普镇人民政府`` above, ``（绥宁县长铺镇人民政府）`` below)."""
    titles = [i for i, line in enumerate(lines) if _is_title(line, pat)]
    for i in reversed(titles):  # the title nearest the body first
        found = _org_before_year(lines[i], pat)
        if found:
            return found
        for line in _neighbours(lines, i, pat):
            found = _org_in_line(line, pat) or _org_before_year(line, pat)
            if found:
                return found[0], found[1], "unit.title_block"
    return None


def _unit_from_running_text(doc: Document, head_end: int, pat: _Patterns
                            ) -> tuple[str, int, str] | None:
    """The first organisation named from a division onwards near the start of the body
    (``…文件要求,阿拉善左旗乌力吉苏木人民政府开展…``), not the issuer of a cited notice."""
    norm = doc.norm
    stop = min(doc.body_end, len(norm), head_end + pat.running_window)
    for hit in divisions.find_names(norm, 0, stop):
        opened = norm.rfind("《", 0, hit.start)
        if opened >= 0 and norm.find("》", opened, hit.start) < 0:
            continue  # inside a cited title: the issuer of a notice, not the reporting unit
        if pat.running_before.search(norm, max(0, hit.start - 3), hit.start):
            continue
        m = pat.running_org.match(norm, hit.start, min(len(norm), hit.start + 24))
        if not m or pat.running_after.match(norm, m.end()) or pat.mask.search(m.group(0)):
            continue
        if not _org_name(m.group(0), pat):
            continue
        return m.group(0), m.start(), "unit.running_text"
    return None


def _unit_from_township_counts(doc: Document, pat: _Patterns) -> tuple[str, int, str] | None:
    """The township the text keeps naming (``松木塘镇地处…``, ``松木塘镇共有…``), when nothing
    else names the unit: the most frequent X镇/X街道/X苏木/X乡, the longest of equal counts."""
    norm = doc.norm[:doc.body_end]
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for m in pat.township_text.finditer(norm):
        if m.group(0) == "乡" and norm[m.end():m.end() + 1] in pat.township_not_before:
            continue
        for length in range(2, 5):
            s = m.start() - length
            if s < 0:
                break
            stem = norm[s:m.start()]
            if not _CJK_ONLY.fullmatch(stem) or "(" in stem or ")" in stem:
                break
            if stem[0] in pat.township_generic:
                continue
            name = stem + m.group(0)
            counts[name] += 1
            first.setdefault(name, s)
    best = [(n, c) for n, c in counts.items() if c >= pat.township_min_count]
    if not best:
        return None
    name, _ = max(best, key=lambda nc: (nc[1], len(nc[0]), -first[nc[0]]))
    return name, first[name], "unit.township_in_text"


def _unit_name(doc: Document, head: list[_Line], tail: list[_Line], head_end: int,
               pat: _Patterns) -> tuple[str, int, str] | None:
    """(name, start, rule) of the reporting unit, from the most trusted place that names it."""
    found = _unit_from_title_block(head, pat)
    if found:
        return found
    forms = [m for m in pat.form_label.finditer(doc.norm) if _org_name(m.group("name"), pat)]
    if forms and forms[0].start() < head_end:  # a cover page's 部门(单位)名称
        return forms[0].group("name"), forms[0].start("name"), "unit.cover_field"
    for line in reversed(tail):
        org = _org_in_line(line, pat)
        if org:
            return org[0], org[1], "unit.signature"
    if forms:  # an appended or stand-alone form's 实施单位/单位名称 cell
        return forms[0].group("name"), forms[0].start("name"), "unit.form_field"
    meta_title = (doc.metadata.get("title") or "").strip()
    found = _org_before_year(_Line(-1, -1, meta_title), pat) if meta_title else None
    if found:
        return found[0], -1, "metadata.title"
    window = doc.norm[:min(len(doc.norm), pat.head_max)]
    m = pat.publisher.search(window)
    if m and not pat.mask.search(m.group("name")):
        return m.group("name"), m.start("name"), "unit.portal_publisher"
    if doc.metadata.get("publisher"):
        return doc.metadata["publisher"], -1, "metadata.publisher"
    m = pat.site_name.search(window)
    if m and not pat.mask.search(m.group("name")):
        return m.group("name"), m.start("name"), "unit.portal_site_name"
    return _unit_from_running_text(doc, head_end, pat) or _unit_from_township_counts(doc, pat)


# --------------------------------------------------------------------------------------------
# Place: province, city, county, township
# --------------------------------------------------------------------------------------------

def _place_facts(doc: Document, unit: tuple[str, int, str] | None, pat: _Patterns
                 ) -> list[Fact]:
    """Province/city/county/township of the unit.

    A division printed in the unit's name wins (重庆市璧山区…, 保山市林业和草原局); a unit whose
    name has none (鸡飞镇) takes the county the page names (发布机构, the text). Province and city
    are then looked up from the county (or city) in the division table, with the text as the
    tie-breaker between same-named counties.
    """
    if unit is None:
        return []
    name, start, _rule = unit
    skip = pat.place_prefix.match(name)  # 中共渠县委员会: the place follows 中共
    lead = skip.end() if skip else 0
    hits, rest = divisions.parse_prefix(name[lead:])
    hits = [divisions.NameHit(h.name, h.start + lead, h.end + lead, h.level, h.divisions, h.short)
            for h in hits]
    rest += lead
    printed: dict[str, divisions.NameHit] = {}
    for hit in hits:
        printed.setdefault(hit.level, hit)

    def span(hit: divisions.NameHit) -> tuple[int, int]:
        return (start + hit.start, start + hit.end) if start >= 0 else (-1, -1)

    # the text that breaks ties between same-named places (its start, before appended forms)
    hint = doc.norm[:min(len(doc.norm), doc.body_end, 6000)]
    county_hit, county_span, county_rule = printed.get("county"), (-1, -1), "unit_name.county"
    if county_hit is not None:
        county_span = span(county_hit)
    elif not printed:
        county_hit, county_rule = _county_from_text(doc, hint, pat)
        if county_hit is not None:
            county_span = (county_hit.start, county_hit.end)
    county_name = None
    if county_hit is not None:
        county_name = county_hit.divisions[0].county if county_hit.short else county_hit.name
    division = None
    if county_name or printed:
        division = divisions.resolve(
            county=county_name,
            city=printed["city"].name if "city" in printed else None,
            province=printed["province"].name if "province" in printed else None,
            text_hint=hint)
    township_m = pat.township.match(name, rest if hits else 0)  # right after the divisions
    township = None
    if township_m:
        township = _township(township_m.group("name"), division, hint,
                             county_fixed=county_hit is not None and "county" in printed)
        if township is not None and (division is None or division.level != "county"
                                     or township.county != division.county):
            division, county_name = township, township.county  # the township tells the county
            county_span, county_rule = (-1, -1), "divisions.township_to_county"
    facts: list[Fact] = []
    for level in ("province", "city"):
        hit = printed.get(level)
        inferred = getattr(division, level) if division is not None else None
        if hit is not None:
            s, e = span(hit)
            facts.append(_fact(level, inferred or hit.name, doc, s, e, f"unit_name.{level}"))
        elif inferred:
            via = "township" if township is division else "county" if county_name else "city"
            facts.append(Fact(level, inferred, -1, -1, "", f"divisions.{via}_to_{level}"))
    if county_name:
        value = division.county if division is not None and division.county else county_name
        facts.append(_fact("county", value, doc, county_span[0], county_span[1], county_rule))
    if township_m:
        offset = township_m.start("name")
        s = start + offset if start >= 0 else -1
        official = township.township if township is not None else township_m.group("name")
        facts.append(_fact("township", official, doc, s, s + len(township_m.group("name")),
                           "unit_name.township"))
    if division is None and "province" in printed:
        division = printed["province"].divisions[0]  # only the province is known
    facts += _code_facts(township or division)
    return facts


def _code_facts(division: divisions.Division | None) -> list[Fact]:
    """The 统计用区划代码 of every level the resolved division names (inferred: no span).

    >>> [(f.field, f.value) for f in _code_facts(divisions.resolve_township("广普镇"))][1:]
    [('county_code', '500120000000'), ('township_code', '500120106000'), ('division_scheme', 'stats2023')]
    """
    if division is None:
        return []
    facts = [Fact(f"{level}_code", code, -1, -1, "", f"divisions.{division.source}")
             for level in ("province", "city", "county", "township")
             if (code := division.code_of(level)) is not None]
    facts.append(Fact("division_scheme", division.source, -1, -1, "", "divisions.table"))
    return facts


def _township(printed: str, division: divisions.Division | None, hint: str,
              county_fixed: bool) -> divisions.Division | None:
    """The township row a unit's printed township name means.

    Within the county already known when there is one; a county printed in the unit's own name
    (``重庆市璧山区广普镇``) is final, but one only inferred from the text (the county it names
    most) yields to a township that China has only one of and whose places the text names.
    """
    if division is not None and division.level in {"county", "city"}:
        found = divisions.resolve_township(printed, within=division, text_hint=hint)
        if found is not None or county_fixed:
            return found
    return divisions.resolve_township(printed, text_hint=hint)


def _county_from_text(doc: Document, hint: str, pat: _Patterns
                      ) -> tuple[divisions.NameHit | None, str]:
    """A county for a unit whose name carries none (鸡飞镇): the portal publisher, else the county
    the text names most often, else a short name after 地处/位于 (地处桃江 → 桃江县)."""
    norm = doc.norm
    m = pat.publisher.search(norm, 0, min(len(norm), pat.head_max))
    if m:
        hits, _ = divisions.parse_prefix(m.group("name"))
        for h in hits:
            if h.level == "county":
                return divisions.NameHit(h.name, m.start("name") + h.start, m.start("name") + h.end,
                                         h.level, h.divisions, h.short), "portal_publisher.county"
    hits = divisions.find_names(norm, 0, doc.body_end)
    counties = []
    for i, h in enumerate(hits):
        if h.level != "county" or divisions.resolve(county=h.name, text_hint=hint) is None:
            continue  # ambiguous names (城区, 城关区 …) are often plain words or other places
        if len(h.name) == 2:  # 南县 inside 湖南县域: a two-character name must stand on its own
            before = norm[h.start - 1:h.start] if h.start else ""
            glued = i > 0 and hits[i - 1].end == h.start
            if not glued and before and "\u4e00" <= before <= "\u9fff":
                continue
        counties.append(h)
    if counties:
        counts = Counter(h.name for h in counties)
        best = max(counts.items(), key=lambda kv: kv[1])[0]
        return next(h for h in counties if h.name == best), "text.county"
    shorts = divisions.short_name_hits(norm, 0, doc.body_end)
    if shorts:
        return shorts[0], "text.county_short_name"
    return None, ""


# --------------------------------------------------------------------------------------------
# Fiscal year, report kind
# --------------------------------------------------------------------------------------------

def _title_block_lines(doc: Document, head: list[_Line], pat: _Patterns) -> list[_Line]:
    """The main title line first, then its neighbours, then the other title lines; else the page
    title a structured reader put in ``doc.metadata['title']`` (offsets -1)."""
    titles = [i for i, line in enumerate(head) if _is_title(line, pat)]
    if not titles:
        meta = (doc.metadata.get("title") or "").strip()
        return [_Line(-1, -1, meta)] if meta else []
    main = titles[-1]
    return [head[main], *_neighbours(head, main, pat), *(head[i] for i in reversed(titles[:-1]))]


def _fiscal_year(doc: Document, block: list[_Line], pat: _Patterns) -> Fact | None:
    """The year evaluated: from the title block, else the first year the text names (a date's
    year only when nothing else names one). A span of years (2019-2021年) means no single year."""
    for line in block:
        for m in pat.year.finditer(line.text):
            if m.group("date"):
                continue
            if m.group("y2"):
                return None
            s = line.start + m.start() if line.start >= 0 else -1
            return _fact("fiscal_year", int(m.group("y1")), doc, s, s + len(m.group(0)),
                         "year.title")
    first_date: regex.Match[str] | None = None
    for m in pat.year.finditer(doc.norm):
        line_start = doc.norm.rfind("\n", 0, m.start()) + 1
        line_end = doc.norm.find("\n", m.end())
        line = _Line(line_start, line_end, doc.norm[line_start:line_end if line_end >= 0 else None])
        if _is_boilerplate(line, pat) or ">" in line.text:
            continue  # a portal menu or breadcrumb (首页 > 2023年度预算公开)
        if m.group("date"):
            first_date = first_date or m
            continue
        if m.group("y2"):
            return None
        kind = "annual" if m.group("annual") else "plain"
        return _fact("fiscal_year", int(m.group("y1")), doc, m.start(), m.end(), f"year.body_{kind}")
    if first_date is not None:  # only dates: the year of the first one (2020年11月10日 → 2020)
        return _fact("fiscal_year", int(first_date.group("y1")), doc, first_date.start(),
                     first_date.start("date"), "year.body_date")
    return None


def _kind_of(text: str, pat: _Patterns) -> str | None:
    whole, project = pat.whole_words.search(text), pat.project_words.search(text)
    if whole and not project:
        return "整体支出"
    if project and not whole:
        return "项目支出"
    return None


def _report_kind(doc: Document, block: list[_Line], pat: _Patterns) -> Fact | None:
    """整体支出 or 项目支出: the main title line, else the title block, else the body's words."""
    if block:
        kind = _kind_of(block[0].text, pat)
        if kind:
            return _fact("report_kind", kind, doc, block[0].start, block[0].end, "kind.title")
        kind = _kind_of(" ".join(line.text for line in block), pat)
        if kind:
            return _fact("report_kind", kind, doc, block[0].start, block[0].end,
                         "kind.title_block")
    # The body's words; the appended forms only when the body says nothing (a bare form).
    for stop, where in ((doc.body_end, "body"), (len(doc.norm), "appendix")):
        m = pat.whole_body.search(doc.norm, 0, stop)
        if m:
            return _fact("report_kind", "整体支出", doc, m.start(), m.end(), f"kind.{where}_whole")
        m = pat.project_words.search(doc.norm, 0, stop)
        if m:
            return _fact("report_kind", "项目支出", doc, m.start(), m.end(), f"kind.{where}_project")
    return None


# --------------------------------------------------------------------------------------------
# Report date
# --------------------------------------------------------------------------------------------

def _cn_number(s: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 三十一 → 31."""
    if "十" in s:
        tens, _, units = s.partition("十")
        return ((_CN_DIGITS.get(tens, 1) if tens else 1) * 10
                + (_CN_DIGITS.get(units, 0) if units else 0))
    return _CN_DIGITS.get(s, 0)


def _iso(m: regex.Match[str]) -> str | None:
    try:
        if m.group("y"):
            y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        else:
            y = int("".join(str(_CN_DIGITS.get(c, 0)) for c in m.group("cy")))
            mo, d = _cn_number(m.group("cm")), _cn_number(m.group("cd"))
        return datetime.date(y, mo, d).isoformat()
    except (ValueError, TypeError):
        return None


def _date_line(line: _Line, pat: _Patterns) -> str | None:
    m = pat.date_line.fullmatch(line.text)
    if m and not pat.date_rejects.search(line.text):
        return _iso(m)
    return None


def _inline_signature_date(doc: Document, pat: _Patterns) -> Fact | None:
    """The date of a signature run into the text (``…中江县水利局2022年12月30日绩效目标自评表…``):
    the last date near the end of the body that directly follows an organisation's name."""
    norm = doc.norm
    end = doc.body_end if 0 <= doc.body_end <= len(norm) else len(norm)
    # the appended form may begin right after the signature: look a little past body_end too
    stop = min(len(norm), end + 200)
    found = None
    for y in _YEAR.finditer(norm, max(0, end - pat.signature_window), stop):
        d = pat.date.match(norm, y.start())
        if d is None or not d.group("d") or not pat.org_suffix_end.search(norm, max(0, d.start() - 12),
                                                             d.start()):
            continue
        before = norm[max(0, d.start() - 30):d.start()]
        if pat.date_rejects.search(before[-8:]) or pat.date_rejects.match(norm, d.end()):
            continue  # 县财政局2022年12月30日印发了: another event
        iso = _iso(d)
        if iso:
            found = (iso, d)
    if found is None:
        return None
    iso, d = found
    return _fact("report_date", iso, doc, d.start(), d.end(), "date.signature_inline")


def _report_date(doc: Document, head: list[_Line], tail: list[_Line], pat: _Patterns
                 ) -> Fact | None:
    """The date printed on the report (signature, under the title), else the portal page date."""
    for line in reversed(tail):
        iso = _date_line(line, pat)
        if iso:
            return _fact("report_date", iso, doc, line.start, line.end, "date.signature")
    inline = _inline_signature_date(doc, pat)
    if inline is not None:
        return inline
    for i, line in enumerate(head):
        # a date alone on its line under a portal label ([ 成文日期 ] / 2025-05-30) is the page's
        if _is_boilerplate(line, pat) or (i and _is_boilerplate(head[i - 1], pat)):
            continue
        iso = _date_line(line, pat)
        if iso:
            return _fact("report_date", iso, doc, line.start, line.end, "date.under_title")
    window = doc.norm[:min(len(doc.norm), pat.head_max)]
    portal = []
    for m in pat.portal_date.finditer(window):
        iso = _iso(m)
        if iso:
            portal.append((pat.portal_rank.get(m.group("label"), 99), m.start(), iso, m))
    if portal:
        _, _, iso, m = min(portal, key=lambda p: (p[0], p[1]))
        return _fact("report_date", iso, doc, m.start("when"), m.end("when"), "date.portal")
    published = doc.metadata.get("published")
    if published:
        m = pat.date.search(published)
        iso = _iso(m) if m else None
        if iso:
            return Fact("report_date", iso, -1, -1, "", "metadata.published")
    return None


# --------------------------------------------------------------------------------------------
# Total score and grade
# --------------------------------------------------------------------------------------------

def _total_score(doc: Document, pat: _Patterns) -> Fact | None:
    """The overall score (综合得分99.09分, 满分100分，自评得分93.8分, 最终得分85.82): prose first,
    else the total row of an appended scoring form."""
    body = doc.norm[:doc.body_end]
    for sp in pat.scores:
        found: list[tuple[float, regex.Match[str]]] = []
        for m in sp.pattern.finditer(doc.norm if sp.anywhere else body):
            if pat.score_reject.search(m.group(0)) or pat.score_reject.search(
                    body, max(0, m.start() - 6), m.start()):
                continue
            if sp.requires is not None and not sp.requires.search(m.group(0)):
                continue
            value = float(m.group("value"))
            if 0 < value <= 100:
                found.append((value, m))
                if not sp.largest:
                    break
        if found:
            value, m = max(found, key=lambda vm: vm[0]) if sp.largest else found[0]
            return _fact("total_score", value, doc, m.start("value"), m.end("value"), sp.rule)
    for table in doc.tables:
        for row in table.rows:
            cells = [c.strip() for c in row.cells if c and c.strip()]
            if cells and cells[0] in pat.score_rows:
                numbers = [float(c) for c in cells[1:] if _NUMBER.fullmatch(c)]
                if numbers and 0 < numbers[-1] <= 100:
                    return Fact("total_score", numbers[-1], row.start, row.end,
                                doc.text[row.start:row.end], "score.table_total_row")
    return None


def _grade(doc: Document, pat: _Patterns) -> Fact | None:
    """The grade word as printed after 等级为/绩效为 (优, 良, 优秀, 良好 …)."""
    m = pat.grade.search(doc.norm, 0, doc.body_end)
    if m:
        return _fact("grade", m.group("grade"), doc, m.start("grade"), m.end("grade"),
                     "grade.phrase")
    return None


# --------------------------------------------------------------------------------------------
# Key figures
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    figure: str
    value: float
    rank: int
    fund: str | None
    start: int
    end: int
    in_body: bool
    rule: str


def _clause_before(norm: str, start: int, pat: _Patterns) -> str:
    """The text from the last clause break (。，；、…) up to ``start``, at most kf_context chars."""
    m = pat.kf_clause.search(norm, max(0, start - pat.kf_context), start)
    return m.group(0) if m else ""


def _classify(norm: str, start: int, label: str | None, figures: tuple[str, ...],
              pat: _Patterns) -> tuple[str, int, str, str | None] | None:
    """(figure, rank, rule, fund) for the number at ``start``: the label ending its clause."""
    clause = _clause_before(norm, start, pat)
    rejects = pat.rate_rejects if figures == ("budget_execution_rate",) else pat.kf_rejects
    sources = [(clause, 0, "")]
    if not pat.kf_triggers.search(clause):
        # The label the amounts extractor assigned (a table's header, a heading) is a fallback
        # for numbers whose own clause names nothing; when the clause does name something
        # (按规定执行率, 已经支出) and it is not a key figure, the label must not overrule it.
        sources.append((label or "", 10, ".from_label"))
    for text, penalty, suffix in sources:
        if not text or not pat.kf_triggers.search(text) or rejects.search(text):
            continue
        for figure in figures:
            for lab in pat.labels[figure]:
                if lab.pattern.search(text):
                    fund = next((key for key, word in pat.funds if word in text), None)
                    return figure, lab.rank + penalty, lab.rule + suffix, fund
    return None


def _sentence_after(norm: str, end: int) -> int:
    stops = [i for i in (norm.find("。", end), norm.find("\n", end)) if i >= 0]
    return min(stops) if stops else len(norm)


def _pick(cands: list[_Candidate]) -> list[_Candidate]:
    """The chosen candidate(s): all-funds best rank first; else one per fund (to be summed)."""
    if not cands:
        return []
    pool = [c for c in cands if c.in_body] or cands
    all_funds = [c for c in pool if c.fund is None]
    if all_funds:
        return [min(all_funds, key=lambda c: (c.rank, c.start))]
    per_fund: dict[str, _Candidate] = {}
    for c in sorted(pool, key=lambda c: (c.rank, c.start)):
        per_fund.setdefault(c.fund or "", c)
    return list(per_fund.values())


def _figure_fact(doc: Document, figure: str, chosen: list[_Candidate]) -> Fact | None:
    if not chosen:
        return None
    if len(chosen) == 1:
        c = chosen[0]
        return _fact(figure, round(c.value, 2), doc, c.start, c.end, c.rule)
    total = round(sum(c.value for c in chosen), 2)
    return Fact(figure, total, -1, -1, "", f"{chosen[0].rule}.sum_of_funds")


def _key_figures(doc: Document, amounts: list[Amount], percentages: list[Percentage],
                 indicators: list[Indicator], kind: str | None, pat: _Patterns) -> list[Fact]:
    """Headline figures from labelled amounts/percentages (body before appended forms).

    The all-funds figure wins over fund-specific ones (一般公共预算…); fund-specific totals of
    different funds are summed when no all-funds total is printed; 基本/项目支出 are taken from the
    "其中" list under the chosen total when there is one; the spending total is the sum of its
    components when only the components are printed.
    """
    norm = doc.norm
    money_figures = MONEY_FIGURES
    cands: list[_Candidate] = []
    for a in sorted(amounts, key=lambda a: a.start):
        if not (0 <= a.start < len(norm)) or a.value_yuan is None:
            continue  # a record that points nowhere or carries no value cannot be a figure
        found = _classify(norm, a.start, a.label, money_figures, pat)
        if found:
            figure, rank, rule, fund = found
            if rule == "income.received" and kind == "项目支出":
                continue  # a project's funds received are not the unit's income
            cands.append(_Candidate(figure, float(a.value_yuan), rank, fund, a.start, a.end,
                                    a.start < doc.body_end, rule))
    # "基本支出共计2023.37万元，其中人员经费…，项目支出448.17万元": a 基本支出 whose components
    # include 项目支出 is the total spending, mislabelled.
    projects = [c for c in cands if c.figure == "project_expenditure"]
    fixed = []
    for c in cands:
        if c.figure == "basic_expenditure":
            stop = _sentence_after(norm, c.end)
            where = norm.find(pat.components_word, c.end, stop)
            if where >= 0 and any(where < p.start < stop for p in projects):
                c = _Candidate("expenditure_total", c.value, 0, c.fund, c.start, c.end, c.in_body,
                               "expenditure.basic_includes_project")
        fixed.append(c)
    cands = fixed
    by_figure = {f: [c for c in cands if c.figure == f] for f in money_figures}
    facts: list[Fact] = []
    income = _figure_fact(doc, "income_total", _pick(by_figure["income_total"]))
    chosen_total = _pick(by_figure["expenditure_total"])
    expenditure = _figure_fact(doc, "expenditure_total", chosen_total)
    components: dict[str, Fact | None] = {}
    for figure in ("basic_expenditure", "project_expenditure"):
        pool = by_figure[figure]
        fact = None
        if len(chosen_total) == 1:  # prefer the components listed under the chosen total
            t = chosen_total[0]
            stop = _sentence_after(norm, t.end)
            where = norm.find(pat.components_word, t.end, stop)
            inside = [c for c in pool if where >= 0 and where < c.start < stop]
            if inside:
                fact = _fact(figure, round(inside[0].value, 2), doc, inside[0].start, inside[0].end,
                             inside[0].rule + ".under_total")
        if fact is None:
            chosen = _pick(pool)
            fact = _figure_fact(doc, figure, chosen[:1])
        components[figure] = fact
    basic, project = components["basic_expenditure"], components["project_expenditure"]
    if expenditure is None and basic is not None and project is not None:
        expenditure = Fact("expenditure_total", round(float(basic.value) + float(project.value), 2),
                           -1, -1, "", "expenditure.sum_of_components")
    form = read_budget_row(doc)
    if expenditure is None and form is not None:
        expenditure = _form_fact(doc, "expenditure_total", form, "executed")
    facts += [f for f in (income, expenditure, basic, project) if f is not None]
    spending = ("personnel_expenditure", "public_expenditure")
    facts += (_listed_parts(doc, amounts, basic, spending, pat)
              or _listed_parts(doc, amounts, expenditure, spending, pat))
    facts += _listed_parts(doc, amounts, income, ("income_part",), pat)
    rates = []
    context = pat.kf_context
    for p in sorted(percentages, key=lambda p: p.start):
        if not pat.rate_words.search(norm, max(0, p.start - context), p.start) and not (
                p.label and pat.rate_words.search(p.label)):
            continue  # no word a rate's label is written with: cannot be the execution rate
        if 0 <= p.start < len(norm) and p.value is not None:
            found = _classify(norm, p.start, p.label, ("budget_execution_rate",), pat)
            if found:
                rates.append(_Candidate("budget_execution_rate", float(p.value), found[1], None,
                                        p.start, p.end, p.start < doc.body_end, found[2]))
    rate = _figure_fact(doc, "budget_execution_rate", _pick(rates)[:1])
    if rate is None:
        for ind in indicators:  # an indicator 预算执行率 whose achieved value is a percentage
            if ind.actual and _classify(ind.name, len(ind.name), None, ("budget_execution_rate",),
                                        pat):
                m = _NUMBER.search(ind.actual)
                if m and "%" in ind.actual:
                    rate = Fact("budget_execution_rate", float(m.group(0)), ind.start, ind.end,
                                doc.text[ind.start:ind.end] if ind.start >= 0 else "",
                                "rate.indicator_actual")
                    break
    if rate is None and form is not None:
        rate = _form_fact(doc, "budget_execution_rate", form, "rate")
    if rate is not None:
        facts.append(rate)
    if form is not None:
        # the row's own cells, which the checks compare (executed / budget against the rate; the
        # execution rate's own points, 10 of the form's 100)
        for figure, column in (("form_budget", "budget"), ("form_executed", "executed"),
                               ("form_execution_rate", "rate"), ("form_budget_points", "points")):
            if (cell_fact := _form_fact(doc, figure, form, column)) is not None:
                facts.append(cell_fact)
    return facts


def _list_after(norm: str, end: int, pat: _Patterns) -> tuple[int, int] | None:
    """The span of the 其中 list of the figure ending at ``end``: in the figure's sentence, or
    opening the next one (``收入合计3402.07万元，较上年…。其中：财政拨款收入…``)."""
    stop = _sentence_after(norm, end)
    where = norm.find(pat.components_word, end, stop)
    if where < 0 and norm.startswith("。", stop):
        nxt = stop + 1
        while nxt < len(norm) and norm[nxt] in " \t":
            nxt += 1
        if norm.startswith(pat.components_word, nxt):
            where = nxt
    return None if where < 0 else (where, _sentence_after(norm, where))


def _listed_parts(doc: Document, amounts: list[Amount], total: Fact | None,
                  figures: tuple[str, ...], pat: _Patterns) -> list[Fact]:
    """The parts of ``total`` its 其中 list names (``其中人员经费1236.95万元，公用经费338.26万元``), as
    facts of ``figures`` whose rule says which total listed them (``part.personnel.under_…``).
    A figure other than income_part is taken once; a clause about a change (同比…增加) is no part.

    >>> from pipeline.ingest import document_from_text
    >>> from extractors.amounts import extract_amounts
    >>> doc = document_from_text("收入合计100万元。其中:财政拨款收入90万元,同比增加5万元,其他收入10万元。", "x")
    >>> total = Fact("income_total", 1000000.0, 4, 10, "100万元", "income.total")
    >>> [(f.value, f.rule) for f in _listed_parts(doc, extract_amounts(doc), total, ("income_part",),
    ...                                          _patterns())]
    [(900000.0, 'part.income_source.under_income_total'), (100000.0, 'part.income_source.under_income_total')]
    """
    if total is None or total.start < 0:
        return []
    span = _list_after(doc.norm, total.end, pat)
    if span is None:
        return []
    out: list[Fact] = []
    for a in sorted(amounts, key=lambda a: a.start):
        if not span[0] < a.start < span[1] or a.value_yuan is None:
            continue
        clause = _clause_before(doc.norm, a.start, pat)
        if pat.parts_rejects.search(clause):
            continue
        for figure in figures:
            if figure != "income_part" and any(f.field == figure for f in out):
                continue
            lab = next((lab for lab in pat.parts[figure] if lab.pattern.search(clause)), None)
            if lab is not None:
                out.append(_fact(figure, round(float(a.value_yuan), 2), doc, a.start, a.end,
                                 f"{lab.rule}.under_{total.field}"))
                break
    return out


_BAND_REACH = 160  # characters either side of an open end (以上, 小于 …) a statement of bands spans


def _grade_bands(doc: Document, pat: _Patterns) -> Fact | None:
    """The grade bands the report states, best first, as ``优≥90;良≥80;中≥60;差≥0`` (the grades
    as printed, with the lowest score of each): at least ``min_bands`` bands in one sentence, each
    of another grade and floor.

    >>> from pipeline.ingest import document_from_text
    >>> doc = document_from_text("评价结果:90分(含)以上为优,80(含)-90分为良,60(含)-80分为中,60分以下为差。", "x")
    >>> _grade_bands(doc, _patterns()).value
    '优≥90;良≥80;中≥60;差≥0'
    >>> doc = document_from_text("等级分为优秀（大于90分）、良好（80-90分）、较差（60-80分）、差（小于60分）。", "x")
    >>> _grade_bands(doc, _patterns()).value
    '优秀≥90;良好≥80;较差≥60;差≥0'
    """
    norm = doc.norm
    # every statement of bands has an open-ended band (90分以上, 小于60分): only the text around
    # one is searched (a grade word such as 中 is everywhere)
    merged: list[list[int]] = []   # the windows around the open ends, overlapping ones joined
    for end in pat.grade_band_open_end.finditer(norm):
        lo, hi = max(0, end.start() - _BAND_REACH), end.end() + _BAND_REACH
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    runs: list[list[regex.Match[str]]] = []
    matches = sorted([m for lo, hi in merged for band in (pat.grade_band, pat.grade_band_grade_first)
                      for m in band.finditer(norm, lo, hi)], key=lambda m: m.start())
    for m in matches:
        if runs and m.start() < runs[-1][-1].end():
            continue  # the same band read both ways
        if runs and m.start() - runs[-1][-1].end() <= 6 and not any(
                c in "。\n" for c in norm[runs[-1][-1].end():m.start()]):
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in runs:
        bands = {m.group("grade"): 0.0 if m.group("below") is not None
                 else float(m.group("low")) for m in run}
        floors = sorted(bands.values(), reverse=True)
        if len(run) < pat.grade_bands_min or len(bands) < len(run) or len(set(floors)) < len(run):
            continue  # not clearly a scheme: a grade or a floor given twice
        value = ";".join(f"{g}≥{v:g}" for g, v in sorted(bands.items(), key=lambda b: -b[1]))
        return _fact("grade_bands", value, doc, run[0].start(), run[-1].end(), "grade_bands.stated")
    return None


def _form_fact(doc: Document, figure: str, row: BudgetRow, column: str) -> Fact | None:
    """A key figure read from a scoring form's 年度资金总额 row (money in yuan)."""
    cell = row.cell(column)
    if cell is None:
        return None
    value = cell.value * row.multiplier if column != "rate" else cell.value
    return _fact(figure, round(value, 2), doc, cell.start, cell.end, f"{row.rule}.{column}")


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

def extract_report_facts(doc: Document, sections: list[Section], amounts: list[Amount],
                         percentages: list[Percentage], indicators: list[Indicator]) -> list[Fact]:
    """Report-level facts of one document, each with the span it was read from and its rule.

    Fields (omitted when not found): unit_name, province, city, county, township, fiscal_year
    (int), report_kind (整体支出/项目支出), report_date (ISO), total_score, grade, income_total,
    expenditure_total, basic_expenditure, project_expenditure (yuan), budget_execution_rate
    (percent). Inferred values (a county's province) have start = end = -1.

    >>> from pipeline.ingest import document_from_text
    >>> doc = document_from_text("渠县宝城镇人民政府\\n关于2024年绩效自评的报告\\n一、基本情况\\n", "x.txt")
    >>> {f.field: f.value for f in extract_report_facts(doc, [], [], [], [])}["city"]
    '达州市'
    """
    pat = _patterns()
    norm = doc.norm
    body_end = max(0, min(doc.body_end, len(norm)))
    head_end = _head_end(doc, sections, pat)
    head = _with_file_captions(_lines(norm, 0, head_end), norm, head_end, pat)
    tail = _tail_lines(norm, body_end, pat.signature_lines, pat.signature_max)
    block = _title_block_lines(doc, head, pat)

    facts: list[Fact] = []
    unit = _unit_name(doc, head, tail, head_end, pat)
    if unit is not None:
        name, start, rule = unit
        facts.append(_fact("unit_name", name, doc, start, start + len(name), rule))
    facts += _place_facts(doc, unit, pat)
    kind = _report_kind(doc, block, pat)
    for fact in (_fiscal_year(doc, block, pat), kind, _report_date(doc, head, tail, pat),
                 _total_score(doc, pat), _grade(doc, pat), _grade_bands(doc, pat)):
        if fact is not None:
            facts.append(fact)
    facts += _key_figures(doc, amounts, percentages, indicators,
                          str(kind.value) if kind else None, pat)
    facts += extract_group_points(doc, indicators)
    order = {name: i for i, name in enumerate(FACT_FIELDS)}
    return sorted(facts, key=lambda f: order.get(f.field, len(order)))
