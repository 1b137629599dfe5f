"""`jixiao sql` is read-only for real (issue 10): nothing outside the database is read or written,
no extension installed, the configuration locked, one query at a time, a time limit; values are
printed aligned (CJK counted double), as CSV or JSON, with control characters escaped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.dataset import write_dataset

HOSTILE = "渠县\x1b[2J\u202e镇"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds")
    write_dataset(out, {"reports": [
        {"report_id": "r1", "source": "a.txt", "unit_name": "渠县宝城镇人民政府", "fiscal_year": 2023,
         "total_score": 93.8},
        {"report_id": "r2", "source": "b.txt", "unit_name": HOSTILE, "fiscal_year": 2022,
         "total_score": 88.0}]})
    return out


def _sql(dataset: Path, *args: str) -> tuple[int, str]:
    """Exit code and stdout (a refusal's message is on stderr: see _refused)."""
    result = CliRunner().invoke(main, ["sql", "--out", str(dataset), *args])
    return result.exit_code, result.stdout


def _refused(dataset: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["sql", "--out", str(dataset), *args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize("query, says", [
    ("COPY reports TO '{tmp}/leak.csv'", "COPY statement"),
    ("COPY (SELECT 1) TO '{tmp}/leak.parquet' (FORMAT parquet)", "COPY statement"),
    ("EXPORT DATABASE '{tmp}/leak'", "EXPORT statement"),
    ("ATTACH '{tmp}/other.duckdb' AS other", "ATTACH statement"),
    ("INSTALL httpfs", "LOAD statement"),
    ("LOAD httpfs", "LOAD statement"),
    ("SET enable_external_access = true", "SET statement"),
    ("CREATE TABLE x AS SELECT 1", "CREATE statement"),
    ("SELECT 1; SELECT 2", "one statement at a time"),
    ("SELECT 1; COPY reports TO '{tmp}/leak2.csv'", "one statement at a time"),
    ("", "no statement"),
    ("SELECT * FROM read_text('/etc/passwd')", "disabled"),
    ("SELECT * FROM glob('/root/*')", "disabled"),
    ("SELECT * FROM read_csv('/etc/hostname')", "disabled"),
    ("SELECT * FROM read_parquet('{tmp}/../*.parquet')", "disabled"),
])
def test_anything_but_one_query_on_the_database_is_refused(dataset: Path, tmp_path: Path,
                                                          query: str, says: str) -> None:
    code, output = _refused(dataset, query.format(tmp=tmp_path))
    assert code != 0 and says in output, output
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_a_query_prints_an_aligned_table_with_cjk_counted_double(dataset: Path) -> None:
    code, output = _sql(dataset, "SELECT unit_name, fiscal_year FROM reports WHERE report_id = 'r1'")
    assert code == 0
    head, rule, row = output.splitlines()
    assert head.startswith("unit_name") and rule.startswith("-" * 18)  # 渠县宝城镇人民政府: 18 columns
    assert row == "渠县宝城镇人民政府  2023"


def test_control_and_bidi_characters_are_escaped_on_the_table(dataset: Path) -> None:
    code, output = _sql(dataset, "SELECT unit_name FROM reports WHERE report_id = 'r2'")
    assert code == 0
    assert "\x1b" not in output and "\u202e" not in output
    assert "渠县\\x1b[2J\\u202e镇" in output


def test_json_lines_keep_every_character(dataset: Path) -> None:
    code, output = _sql(dataset, "--json", "SELECT report_id, unit_name, total_score FROM reports "
                                           "ORDER BY report_id")
    assert code == 0 and "\u202e" not in output
    rows = [json.loads(line) for line in output.splitlines()]
    assert rows == [{"report_id": "r1", "unit_name": "渠县宝城镇人民政府", "total_score": 93.8},
                    {"report_id": "r2", "unit_name": HOSTILE, "total_score": 88.0}]


def test_csv_to_a_pipe_is_the_data_as_it_is(dataset: Path) -> None:
    code, output = _sql(dataset, "--csv", "SELECT report_id, unit_name FROM reports ORDER BY 1")
    assert code == 0
    assert output.splitlines()[0] == "report_id,unit_name"
    assert HOSTILE in output  # CliRunner's output is not a terminal


def test_a_long_result_is_cut_on_the_table_and_whole_in_csv(dataset: Path) -> None:
    result = CliRunner().invoke(main, ["sql", "--out", str(dataset), "--max-rows", "3",
                                       "SELECT range AS n FROM range(10)"])
    assert result.exit_code == 0 and result.stdout.splitlines() == ["n", "-", "0", "1", "2"]
    assert "7 more row(s)" in result.stderr
    code, output = _sql(dataset, "--csv", "SELECT range AS n FROM range(5000)")
    assert len(output.splitlines()) == 5001


def test_a_query_that_runs_too_long_is_stopped(dataset: Path) -> None:
    code, output = _refused(dataset, "--timeout", "0.5",
                        "SELECT count(*) FROM range(100000000000) a WHERE a.range % 7 = 3")
    assert code != 0 and "stopped" in output


def test_views_of_the_dataset_and_the_catalog_still_work(dataset: Path) -> None:
    for query in ("SHOW TABLES", "DESCRIBE reports", "SUMMARIZE reports", "EXPLAIN SELECT 1",
                  "FROM reports SELECT count(*)", "WITH r AS (SELECT * FROM reports) SELECT count(*) FROM r"):
        code, output = _sql(dataset, query)
        assert code == 0, (query, output)
