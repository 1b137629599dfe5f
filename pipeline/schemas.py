"""What every column of the dataset means and may hold, checked with pandera when a table is written.

:data:`TABLES` documents each table and column in English and Chinese and states its rules: which
columns are required, ranges (``0 ≤ value ≤ 1000`` for a percentage, ``0 ≤ score ≤ max_score``),
allowed values, the shape of codes (12 digits for a 统计用区划代码). :func:`validate` checks rows
against them with pandera before the store inserts them (:meth:`pipeline.dataset.Store.write`):

* a row of a record table (sections, amounts, percentages, indicators, facts, checks …) that
  breaks a rule is not written; it becomes an ``errors`` row (stage ``schema``) naming the table,
  column, value and rule, and the rest is written;
* a ``reports`` row keeps the report: the value that breaks a rule is written as null instead,
  with the same ``errors`` row (dropping the report would drop every figure read from it).

``SCHEMA.md`` is generated from :data:`TABLES` (``python -m pipeline.schemas > SCHEMA.md``); a
test keeps it in step. pandera is imported only when something is validated.
"""
from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.ingest import FORMATS as READER_FORMATS
from pipeline.limits import LIMITS
from pipeline.sections import KINDS

# The largest amount a report of a county or a township can state, in yuan (10 trillion; a whole
# province's budget is far below it): a larger one is a misreading, not a figure.
MAX_YUAN = 1e13
MAX_PERCENT = 1000.0
SECTION_KINDS = KINDS
FORMATS = ("txt", *dict.fromkeys(READER_FORMATS.values()))  # what ingest gives a document
CODE = r"^\d{12}$"


@dataclass(frozen=True)
class Col:
    """One column: what it means (English, Chinese) and what it may hold."""

    en: str
    zh: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    pattern: str | None = None
    unique: bool = False

    def rules(self) -> str:
        """The rules in words, as SCHEMA.md prints them.

        >>> Col("", "", required=True, min=0, max=1000).rules()
        'required; 0 ≤ value ≤ 1000'
        """
        out = ["required"] if self.required else []
        if self.unique:
            out.append("unique")
        if self.min is not None and self.max is not None:
            out.append(f"{self.min:g} ≤ value ≤ {self.max:g}")
        elif self.min is not None:
            out.append(f"≥ {self.min:g}")
        elif self.max is not None:
            out.append(f"≤ {self.max:g}")
        if self.values:
            out.append("one of " + ", ".join(f"`{v}`" for v in self.values))
        if self.pattern:
            out.append(f"matches `{self.pattern}`")
        return "; ".join(out)


@dataclass(frozen=True)
class Table:
    en: str
    zh: str
    columns: dict[str, Col]
    # rules across columns: (the rule in words, a function of the frame: true where a row is ok)
    row_rules: tuple[tuple[str, Callable[[Any], Any]], ...] = ()


def _span(what: str) -> dict[str, Col]:
    return {"start": Col(f"offset where the {what} starts in `texts.text`", "起始字符位置", min=-1),
            "end": Col(f"offset where it ends (`text[start:end]` is what was read)", "结束字符位置",
                       min=-1)}


_RID = Col("the report (a hash of its decoded text)", "报告编号（正文哈希）", required=True)
_RULE = Col("the pattern rule that read it (patterns/)", "提取规则")
_PROVENANCE = Col("where in the source file: line=N, page=N, paragraph=N, table=N row=R, sheet=NAME",
             "在原文件中的位置")
_SECTION = Col("the kind of section it stands in", "所在章节类型", values=SECTION_KINDS)
_SENTENCE = Col("the sentence it was read from", "所在句子")
_LABEL = Col("what it measures, read from the words before it", "指标名称（前文标签）")
_SPAN_ORDER = ("start ≤ end",
               lambda df: df["start"].isna() | df["end"].isna() | (df["start"] <= df["end"]))

TABLES: dict[str, Table] = {
    "reports": Table("One row per report.", "每份报告一行。", {
        "report_id": Col("a hash of the decoded text: the same content has the same id",
                         "报告编号（正文哈希，内容相同则相同）", required=True, unique=True),
        "source": Col("the file it was read from", "来源文件", required=True),
        "format": Col("the file's format", "文件格式", values=FORMATS),
        "encoding": Col("the text encoding detected (text files)", "文本编码"),
        "n_chars": Col("characters of decoded text", "正文字符数", min=0),
        "body_end": Col("offset where the narrative ends and appended tables begin",
                        "正文结束位置（附表开始处）", min=0),
        "unit_name": Col("the reporting unit", "报告单位"),
        "province": Col("province, official name", "省级行政区"),
        "city": Col("prefecture-level city (null where none, as for Chongqing's counties)", "地级市"),
        "county": Col("county-level division", "县级行政区"),
        "township": Col("township, town or sub-district (乡/镇/街道)", "乡镇街道"),
        "province_code": Col("12-digit 统计用区划代码 of the province", "省级统计用区划代码", pattern=CODE),
        "city_code": Col("12-digit code of the city", "地级统计用区划代码", pattern=CODE),
        "county_code": Col("12-digit code of the county", "县级统计用区划代码", pattern=CODE),
        "township_code": Col("12-digit code of the township", "乡级统计用区划代码", pattern=CODE),
        "division_scheme": Col("which code table: stats2023 (统计用区划代码 2023), cpca (a former "
                               "county name)", "区划代码来源", values=("stats2023", "cpca")),
        "fiscal_year": Col("the year evaluated", "评价年度", min=1990, max=2100),
        "report_kind": Col("整体支出 (whole department) or 项目支出 (one project)", "报告类型",
                           values=("整体支出", "项目支出")),
        "report_date": Col("date of the report, YYYY-MM-DD", "报告日期",
                           pattern=r"^\d{4}-\d{2}-\d{2}$"),
        "total_score": Col("overall self-evaluation score", "自评总分", min=0, max=MAX_PERCENT),
        "grade": Col("grade as printed (优/良/中/差 …)", "评价等级"),
        "income_total": Col("total income, yuan", "收入合计（元）", min=-MAX_YUAN, max=MAX_YUAN),
        "expenditure_total": Col("total expenditure, yuan", "支出合计（元）", min=-MAX_YUAN,
                                 max=MAX_YUAN),
        "basic_expenditure": Col("basic expenditure, yuan", "基本支出（元）", min=-MAX_YUAN,
                                 max=MAX_YUAN),
        "project_expenditure": Col("project expenditure, yuan", "项目支出（元）", min=-MAX_YUAN,
                                   max=MAX_YUAN),
        "budget_execution_rate": Col("budget execution rate, percent", "预算执行率（%）", min=0,
                                     max=MAX_PERCENT),
        "n_sections": Col("headings found", "章节数", min=0),
        "n_amounts": Col("money expressions found", "金额数", min=0),
        "n_percentages": Col("percentages found", "百分比数", min=0),
        "n_indicators": Col("indicators found", "绩效指标数", min=0),
        "n_checks_failed": Col("checks that warned or failed", "未通过的校验数", min=0),
        "ocr": Col("whether some text was read by OCR", "是否经OCR识别"),
        "title": Col("the web page's title (for a file collected from a portal, its item "
                     "page's)", "网页标题"),
        "published": Col("the page's publication date, YYYY-MM-DD (for a collected file, its "
                         "item page's, or the listing's date)", "发布日期"),
        "publisher": Col("the page's 发布机构", "发布机构"),
        "index_no": Col("the page's 索引号", "索引号"),
        "doc_no": Col("the page's 文号", "文号"),
        "attachments": Col("the page's attachment links, one a line (absolute when the page's "
                           "URL is known)", "附件链接"),
        "linked_report_id": Col("for a scoring-form workbook, the report it belongs to",
                                "（评分表）所属报告编号"),
        "portal": Col("the portal it was collected from (patterns/portals/)", "来源网站"),
        "page_url": Col("the item page it was collected from: the report's page, or the page "
                        "that attaches it", "来源网页"),
    }),
    "sections": Table("One row per level-1 or level-2 heading.", "每个一、二级标题一行。", {
        "report_id": _RID,
        "seq": Col("order in the report", "顺序号", required=True, min=0),
        "level": Col("1 or 2", "标题级别", required=True, min=1, max=2),
        "number": Col("the numbering as printed (二、 （三）)", "编号（原样）"),
        "title": Col("the heading's words", "标题文字"),
        "canonical": Col("the kind of section", "章节类型", values=SECTION_KINDS),
        **_span("section"),
        "title_start": Col("offset of the heading's title", "标题起始位置", min=-1),
        "rule": _RULE, "provenance": _PROVENANCE,
    }, (_SPAN_ORDER,)),
    "amounts": Table("One row per money expression.", "每个金额一行。", {
        "report_id": _RID, **_span("amount"),
        "text": Col("as printed", "原文", required=True),
        "value_yuan": Col("the value in yuan", "金额（元）", min=-MAX_YUAN, max=MAX_YUAN),
        "unit": Col("the unit printed (元, 万元, 亿元)", "单位"),
        "label": _LABEL, "section": _SECTION, "sentence": _SENTENCE, "rule": _RULE,
        "provenance": _PROVENANCE,
    }, (_SPAN_ORDER,)),
    "percentages": Table("One row per percentage.", "每个百分比一行。", {
        "report_id": _RID, **_span("percentage"),
        "text": Col("as printed", "原文", required=True),
        "value": Col("the value in percent", "百分比数值", min=-MAX_PERCENT, max=MAX_PERCENT),
        "label": _LABEL, "section": _SECTION, "sentence": _SENTENCE, "rule": _RULE,
        "provenance": _PROVENANCE,
    }, (_SPAN_ORDER,)),
    "indicators": Table("One row per performance indicator (绩效指标).", "每个绩效指标一行。", {
        "report_id": _RID,
        "name": Col("the indicator as printed (三级指标)", "指标名称", required=True),
        "level1": Col("its level-1 group (产出指标 …)", "一级指标"),
        "level2": Col("its level-2 group (数量指标 …)", "二级指标"),
        "target": Col("the target value as printed", "年度指标值（目标）"),
        "actual": Col("the actual value as printed", "实际完成值"),
        "max_score": Col("points the indicator is worth", "分值", min=0, max=MAX_PERCENT),
        "score": Col("points awarded", "得分", min=0, max=MAX_PERCENT),
        "origin": Col("prose or table", "来源（正文或表格）", values=("prose", "table")),
        **_span("indicator"),
        "table_id": Col("the table it was read from", "所在表格"),
        "row_index": Col("its row in that table", "所在行", min=0),
        "rule": _RULE,
        "canonical_id": Col("its indicator in patterns/indicator_taxonomy.yaml (null: not placed)",
                            "标准指标编号"),
        "canonical_name": Col("that indicator's usual name", "标准指标名称"),
        "canonical_group": Col("that indicator's group (satisfaction, budget_management …)",
                               "标准指标类别"),
        "match_score": Col("100 for a listed name, else the fuzzy match score", "匹配得分",
                           min=0, max=100),
        "provenance": _PROVENANCE,
    }, (("score ≤ max_score", lambda df: df["score"].isna() | df["max_score"].isna()
         | (df["score"] <= df["max_score"] + 1e-9)),)),
    "facts": Table("One row per report fact: where each reports value was read, or the rule that "
                   "inferred it.", "每个报告要素一行：取值出处或推断规则。", {
        "report_id": _RID,
        "field": Col("the reports column (or a figure only the checks read)", "字段", required=True),
        "value": Col("the value, as text", "取值"),
        **_span("fact's text"),
        "text": Col("the text it was read from", "原文"),
        "rule": _RULE,
    }),
    "checks": Table("One row per consistency check of a report.", "每项一致性校验一行。", {
        "report_id": _RID,
        "check_name": Col("which check (pipeline/checks.py)", "校验名称", required=True),
        "severity": Col("info: agreed; warn: the document disagrees with itself; fail: an "
                        "impossible value", "严重程度", required=True,
                        values=("info", "warn", "fail")),
        "expected": Col("what the figures should be", "应有值"),
        "found": Col("what the report prints", "实际值"),
        "message": Col("the finding in words", "说明"),
        "records": Col("JSON list of the records compared: table, key, start, end", "涉及记录",
                       pattern=r"^\["),
    }),
    "texts": Table("One row per report: the decoded text every offset refers to.",
                   "每份报告一行：各位置所指的正文。", {
        "report_id": _RID,
        "source": Col("the file it was read from", "来源文件"),
        "text": Col("the decoded text", "正文", required=True),
    }),
    "sources": Table("One row per file that holds a report: the same report as .docx and .pdf, "
                     "or under two URLs, is one reports row with two sources.",
                     "每个含有报告的文件一行：同一报告的多个来源（格式或网址）。", {
        "report_id": Col("the report it is a source of", "所属报告编号", required=True),
        "source": Col("the file", "来源文件", required=True),
        "format": Col("the file's format", "文件格式", values=FORMATS),
        "text_id": Col("a hash of this file's own decoded text", "本文件正文哈希", required=True),
        "published": Col("the page's publication date", "发布日期"),
        "fetched_at": Col("the file's modification time, UTC", "获取时间（文件修改时间）"),
        "is_primary": Col("whether the report keeps this file's values", "是否为取值来源"),
        "matched_by": Col("self (the kept file), same_text or near_text (same unit, year and "
                          "kind, near-identical text)", "匹配方式",
                          values=("self", "same_text", "near_text")),
        "similarity": Col("similarity to the text it was matched with (0-1, to 0.01)", "文本相似度",
                          min=0, max=1),
    }),
    "errors": Table("One row per problem: a file that failed, or a value a schema refused.",
                    "每个问题一行：读取失败的文件或不符合表结构的取值。", {
        "error_id": Col("a hash of the row", "问题编号", required=True),
        "source": Col("the file", "来源文件", required=True),
        "stage": Col("where it happened (ingest, extract, schema …)", "环节", required=True),
        "message": Col("a reason a person can act on", "说明", required=True),
        "exceeded_limit": Col("the limit the file went over (time, memory, size, pages …: "
                              "pipeline/limits.py), when that is why it failed", "超出的限制",
                              values=tuple(LIMITS)),
    }),
    "fetches": Table("One row per URL a crawl of a portal asked for, with its last answer "
                     "(jixiao scrape; pipeline/crawl/files.py).",
                     "每个抓取过的网址一行（最近一次的结果）。", {
        "url": Col("the URL asked for (one row per portal and URL)", "网址", required=True),
        "portal": Col("the portal (patterns/portals/<portal>.yaml)", "网站", required=True),
        "kind": Col("listing (a listing page), page (an item page) or file (an attachment)",
                    "类型", values=("listing", "page", "file")),
        "item_url": Col("the item page the URL was found on (or is)", "所属条目网页"),
        "item_title": Col("the item's title, from its page or the listing", "条目标题"),
        "item_date": Col("the date the listing prints beside the item", "条目日期",
                         pattern=r"^\d{4}-\d{2}-\d{2}$"),
        "published": Col("the item page's 发布日期", "发布日期", pattern=r"^\d{4}-\d{2}-\d{2}$"),
        "publisher": Col("the item page's 发布机构", "发布机构"),
        "fetched_at": Col("when it was last asked for, UTC (ISO 8601)", "抓取时间", required=True),
        "http_status": Col("the HTTP status of the last answer (none: no answer)", "HTTP状态码",
                           min=100, max=599),
        "etag": Col("the file's ETag, sent back as If-None-Match", "ETag"),
        "last_modified": Col("the file's Last-Modified, sent back as If-Modified-Since", "最后修改时间"),
        "sha256": Col("sha256 of the file's bytes (of a page: of its article text, spaces "
                      "removed)", "内容哈希", pattern=r"^[0-9a-f]{64}$"),
        "size": Col("bytes", "字节数", min=0),
        "stored_path": Col("where its content is on disk (`reports.source` of what was read "
                           "from it)", "存储路径"),
        "outcome": Col("new, changed, unchanged, not_modified, duplicate, read, disallowed, "
                       "too_large or failed (pipeline/crawl/files.py)", "结果", required=True,
                       values=("new", "changed", "unchanged", "not_modified", "duplicate", "read",
                               "disallowed", "too_large", "failed")),
        "reason": Col("why it failed, was refused or was not stored", "原因"),
    }),
    "files": Table("One row per file a run has seen.", "每个处理过的文件一行。", {
        "source": Col("the file", "来源文件", required=True),
        "sha256": Col("sha256 of its bytes", "文件哈希", pattern=r"^[0-9a-f]{64}$"),
        "size": Col("bytes", "字节数", min=0),
        "pipeline_version": Col("the version of jixiao's code and patterns that read it",
                                "处理版本"),
        "report_id": Col("the report read from it", "报告编号"),
        "status": Col("ok, duplicate (its text is stored under another name) or failed",
                      "状态", values=("ok", "duplicate", "failed")),
    }),
}


def _check(col: Col) -> list[Any]:
    import pandera.pandas as pa

    checks = []
    if col.min is not None:
        checks.append(pa.Check.ge(col.min))
    if col.max is not None:
        checks.append(pa.Check.le(col.max))
    if col.values:
        checks.append(pa.Check.isin(col.values))
    if col.pattern:
        checks.append(pa.Check.str_matches(col.pattern))
    return checks


@functools.lru_cache(maxsize=None)
def pandera_schema(table: str) -> Any:
    """The pandera schema of a table (its dtypes from :data:`pipeline.dataset.SCHEMAS`)."""
    import pandera.pandas as pa

    from pipeline.dataset import SCHEMAS

    spec = TABLES[table]
    columns = {name: pa.Column(SCHEMAS[table][name], _check(col), nullable=not col.required,
                               unique=col.unique, required=True)
               for name, col in spec.columns.items()}
    wide = [pa.Check(rule, name=name) for name, rule in spec.row_rules]
    return pa.DataFrameSchema(columns, checks=wide, strict=True, ordered=True)


@dataclass(frozen=True)
class Violation:
    """A value a schema refused: which table, row (its position in the rows given), column, value
    and rule."""

    table: str
    row: int
    column: str | None
    value: Any
    rule: str

    def message(self, row: dict[str, Any]) -> str:
        where = ", ".join(f"{k}={row[k]}" for k in ("report_id", "name", "field", "text", "start")
                          if row.get(k) not in (None, "") and not _missing(row.get(k)))[:200]
        what = f"{self.table}.{self.column} = {self.value!r}" if self.column else f"a {self.table} row"
        nulled = self.table == "reports" and self.column \
            and not TABLES["reports"].columns[self.column].required
        fate = "written as null" if nulled else "not written"
        return f"{what} breaks the schema ({self.rule}) and was {fate}" + (
            f" [{where}]" if where else "")


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def validate(table: str, df: Any) -> list[Violation]:
    """The values of a DataFrame (in the table's columns and dtypes) that break its schema.

    >>> from pipeline.dataset import frame
    >>> df = frame("percentages", [{"report_id": "r", "start": 0, "end": 4, "text": "98%", "value": 98.0},
    ...                            {"report_id": "r", "start": 9, "end": 21, "text": "202010100%",
    ...                             "value": 202010100.0}])
    >>> [(v.row, v.column, v.value) for v in validate("percentages", df)]
    [(1, 'value', 202010100.0)]
    """
    import pandera.errors

    if table not in TABLES or len(df) == 0:
        return []
    try:
        pandera_schema(table).validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        return _violations(table, df, exc.failure_cases)
    return []


def _violations(table: str, df: Any, cases: Any) -> list[Violation]:
    out: dict[tuple[int, str | None, str], Violation] = {}  # a row check may be listed per column
    for case in cases.itertuples(index=False):
        if case.index is None or _missing(case.index):
            # a problem of the whole frame (a missing column, a wrong dtype): a bug, not a value
            raise TypeError(f"{table}: {case.check} failed on {case.column}: {case.failure_case}")
        row = int(case.index)
        column = None if case.schema_context == "DataFrameSchema" else case.column
        value = df.iloc[row][column] if column else None
        value = value.item() if hasattr(value, "item") else value  # a numpy scalar
        out.setdefault((row, column, str(case.check)),
                       Violation(table, row, column, value, str(case.check)))
    return list(out.values())


def schema_markdown() -> str:
    """SCHEMA.md: every table and column, in English and Chinese, with its type and rules."""
    from extractors.canonical import taxonomy
    from pipeline.dataset import MATRIX_KEYS, SCHEMAS

    types = {"string": "text", "Int64": "integer", "float64": "number", "boolean": "true/false"}
    lines = ["# The jixiao dataset (数据字典)", "",
             "Generated from `pipeline/schemas.py` by `python -m pipeline.schemas > SCHEMA.md`; "
             "do not edit by hand (a test compares them).", "",
             "Each table is `<table>.parquet` in the dataset folder and a table of `jixiao.duckdb`. "
             "Rows are checked against these rules when written: a row that breaks one is an "
             "`errors` row (stage `schema`) naming the column and value, and the rest is written "
             "(in `reports`, the value is written as null instead).", ""]
    for name, spec in TABLES.items():
        lines += [f"## `{name}`", "", f"{spec.en} {spec.zh}", "",
                  "| column | type | meaning | 含义 | rules |", "| --- | --- | --- | --- | --- |"]
        for col, c in spec.columns.items():
            lines.append(f"| `{col}` | {types[SCHEMAS[name][col]]} | {c.en} | {c.zh} | {c.rules()} |")
        for rule, _ in spec.row_rules:
            lines.append(f"| (row) | | every row: {rule} | 每行：{rule} | |")
        lines.append("")
    lines += ["## `indicator_matrix`", "",
              "One row per report: the same indicator across townships in one query. Built from "
              "`reports` and `indicators` at each export. 每份报告一行，每个标准指标三列。", "",
              "| column | type | meaning | 含义 |", "| --- | --- | --- | --- |"]
    for col, kind in MATRIX_KEYS.items():
        c = TABLES["reports"].columns[col]
        lines.append(f"| `{col}` | {types[kind]} | {c.en} | {c.zh} |")
    lines += ["| `<id>_score` | number | the score of canonical indicator `<id>` (the first in "
              "table order when a report prints it twice) | 该标准指标的得分 |",
              "| `<id>_max_score` | number | its points | 分值 |",
              "| `<id>_actual` | text | its actual value as printed | 实际完成值 |", "",
              f"`<id>` is each of the {len(taxonomy().entries)} ids of "
              "`patterns/indicator_taxonomy.yaml`: `jixiao indicators` lists them with the names "
              "they match.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(schema_markdown())
