"""Schemas (pipeline/schemas.py): every table validated with pandera on write; a value that breaks
a rule is an errors row naming the column and value and the rest is written; SCHEMA.md follows
the schemas."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.dataset import SCHEMAS, Store, arrow_table, write_dataset
from pipeline.schemas import TABLES, schema_markdown
from tests.conftest import SAMPLE_DOCS

ROOT = Path(__file__).resolve().parents[1]


def test_schema_md_is_generated_from_the_schemas() -> None:
    assert (ROOT / "SCHEMA.md").read_text(encoding="utf-8") == schema_markdown(), \
        "SCHEMA.md is stale: python -m pipeline.schemas > SCHEMA.md"


def test_every_column_is_documented_in_english_and_chinese() -> None:
    assert list(TABLES) == list(SCHEMAS)
    for table, spec in TABLES.items():
        assert list(spec.columns) == list(SCHEMAS[table]), table
        assert all(c.en and c.zh for c in spec.columns.values()), table


def _rows() -> dict[str, list[dict]]:
    good = {"report_id": "r1", "source": "a.txt", "format": "txt", "fiscal_year": 2023,
            "county_code": "500120000000", "total_score": 92.5}
    bad = {"report_id": "r2", "source": "b.txt", "format": "txt", "fiscal_year": 1850,
           "township_code": "5001201", "total_score": 91.0}
    return {
        "reports": [good, bad],
        "amounts": [
            {"report_id": "r1", "start": 0, "end": 6, "text": "100万元", "value_yuan": 1e6},
            {"report_id": "r2", "start": 10, "end": 16, "text": "1e24元", "value_yuan": 1e24},
            {"report_id": "r2", "start": 20, "end": 26, "text": "50万元", "value_yuan": 5e5},
        ],
        "percentages": [{"report_id": "r2", "start": 30, "end": 25, "text": "98%", "value": 98.0}],
        "indicators": [
            {"report_id": "r1", "name": "群众满意度", "max_score": 10.0, "score": 9.0},
            {"report_id": "r1", "name": "预算执行率", "max_score": 10.0, "score": 12.0},
            {"report_id": "r1", "name": "政务信息公开率", "max_score": None, "score": 5.0},
        ],
        "checks": [{"report_id": "r1", "check_name": "x", "severity": "serious", "records": "[]"}],
        "texts": [{"report_id": "r1", "source": "a.txt", "text": "正文"},
                  {"report_id": "r2", "source": "b.txt", "text": "正文二"}],
    }


def _query(out: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(out / "jixiao.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_row_that_breaks_a_schema_is_an_errors_row_and_the_rest_is_written(tmp_path: Path) -> None:
    counts = write_dataset(tmp_path, _rows())
    # the impossible values are gone, everything else is there
    assert _query(tmp_path, "SELECT text FROM amounts ORDER BY start") == [("100万元",), ("50万元",)]
    assert counts["percentages"] == 0 and counts["checks"] == 0
    assert _query(tmp_path, "SELECT name FROM indicators ORDER BY name") == [("政务信息公开率",),
                                                                            ("群众满意度",)]
    # a report keeps its row; only the value that breaks a rule is null
    assert _query(tmp_path, "SELECT report_id, fiscal_year, township_code, total_score FROM reports "
                            "ORDER BY 1") == [("r1", 2023, None, 92.5), ("r2", None, None, 91.0)]
    errors = _query(tmp_path, "SELECT source, stage, message FROM errors ORDER BY message")
    assert {e[1] for e in errors} == {"schema"}
    messages = "\n".join(f"{s}: {m}" for s, _, m in errors)
    for expected in ("b.txt: amounts.value_yuan = 1e+24", "b.txt: reports.fiscal_year = 1850",
                     "b.txt: reports.township_code = '5001201'", "b.txt: a percentages row",
                     "start ≤ end", "a.txt: a indicators row breaks the schema (score ≤ max_score)",
                     "name=预算执行率", "a.txt: checks.severity = 'serious'"):
        assert expected in messages, expected
    assert len(errors) == 6


def test_rows_sent_as_arrow_tables_are_validated_too(tmp_path: Path) -> None:
    rows = _rows()
    arrow = {t: (r if t == "reports" else arrow_table(t, r)) for t, r in rows.items()}
    assert isinstance(arrow["amounts"], pa.Table)
    with Store(tmp_path) as store:
        written = store.write(arrow)
        assert written.refused == 6 and written.reports == 2
        assert store.counts()["amounts"] == 2


def test_a_consistent_dataset_has_no_schema_errors(tmp_path: Path) -> None:
    rows = _rows()
    rows["reports"][1].update(fiscal_year=2023, township_code="500120103000")
    rows["amounts"] = rows["amounts"][:1]
    rows["percentages"][0]["end"] = 33
    rows["indicators"][1]["score"] = 8.0
    rows["checks"][0]["severity"] = "warn"
    write_dataset(tmp_path, rows)
    assert _query(tmp_path, "SELECT count(*) FROM errors") == [(0,)]


def test_a_real_page_with_a_misread_figure_keeps_the_rest(tmp_path: Path) -> None:
    """h27's run-together budget row (2020 | 10 | 100.00%) is read as a percentage of
    202010100%: the schema refuses it, and the report's other figures are written."""
    from pipeline.batch import process_file

    path = SAMPLE_DOCS / "h27.txt"
    rows = process_file(path).rows
    assert any(p["value"] > 1000 for p in rows["percentages"])
    with Store(tmp_path) as store:
        written = store.write(rows)
        kept = store.con.execute("SELECT count(*), max(value) FROM percentages").fetchall()[0]
        errors = store.con.execute("SELECT message FROM errors").fetchall()
    assert written.reports == 1 and written.refused == len(errors) >= 1
    assert kept[0] == len(rows["percentages"]) - len(errors) and kept[1] <= 1000
    assert all("percentages.value" in m for (m,) in errors)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_an_empty_table_validates(table: str) -> None:
    from pipeline.dataset import frame
    from pipeline.schemas import validate

    assert validate(table, frame(table, [])) == []


def test_the_allowed_formats_are_the_readers_formats() -> None:
    from pipeline import ingest
    from pipeline.schemas import FORMATS

    assert set(FORMATS) == {"txt", *ingest.FORMATS.values()}


def test_no_column_needs_quoting_in_sql_but_end() -> None:
    """Column names read in SQL without quotes; ``end`` is kept, as the gold format and score.py
    name a span's end (``text[start:end]``)."""
    from pipeline.dataset import matrix_schema

    reserved = {k for (k,) in duckdb.sql("SELECT keyword_name FROM duckdb_keywords() "
                                         "WHERE keyword_category = 'reserved'").fetchall()}
    columns = {c for schema in [*SCHEMAS.values(), matrix_schema()] for c in schema}
    assert "where" in reserved and columns & reserved == {"end"}


def test_an_implausible_magnitude_is_flagged_and_an_impossible_one_refused(tmp_path: Path) -> None:
    """A township's report of 5e11 yuan is a fail check (a township's budget is far below
    1e10); 2e24 yuan is beyond any report: refused by the schema (an errors row) and flagged."""
    from pipeline.batch import process_file

    path = tmp_path / "report.txt"
    path.write_text("渠县宝城镇人民政府2023年度部门整体支出绩效自评报告\n一、基本情况\n"
                    "年度支出合计500000000000元，另列2000000000000000000000000元，办公经费12.5万元。\n",
                    encoding="utf-8")
    rows = process_file(path).rows
    assert rows["reports"][0]["township"] == "宝城镇"
    with Store(tmp_path / "ds") as store:
        store.write(rows)
        amounts = store.con.execute("SELECT value_yuan FROM amounts ORDER BY start").fetchall()
        checks = store.con.execute("SELECT found FROM checks WHERE check_name = 'amount_magnitude' "
                                   "AND severity = 'fail' ORDER BY found").fetchall()
        errors = store.con.execute("SELECT message FROM errors WHERE stage = 'schema'").fetchall()
    assert amounts == [(5e11,), (125000.0,)]
    assert checks == [("2000000000000000000000000元",), ("500000000000元",)]
    assert len(errors) == 1 and "amounts.value_yuan = 2e+24" in errors[0][0]
