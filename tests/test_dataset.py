"""The dataset: Parquet per table plus DuckDB, merged by report id so re-runs never duplicate and
earlier reports are never lost."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.dataset import SCHEMAS, error_row, read_table, write_dataset


def report_rows(report_id: str, source: str, amounts: list[float]) -> dict[str, list[dict]]:
    return {
        "reports": [{"report_id": report_id, "source": source, "format": "txt", "unit_name": "某镇人民政府",
                     "fiscal_year": 2024, "total_score": 95.5}],
        "amounts": [{"report_id": report_id, "start": 10 * i, "end": 10 * i + 6, "text": f"{v}万元",
                     "value_yuan": v * 10000, "unit": "万元", "section": "finance"}
                    for i, v in enumerate(amounts)],
        "texts": [{"report_id": report_id, "source": source, "text": "正文"}],
    }


def test_writes_parquet_and_duckdb_with_every_table(tmp_path: Path) -> None:
    counts = write_dataset(tmp_path, report_rows("r1", "a.txt", [1.5, 2.0]))
    assert counts["reports"] == 1 and counts["amounts"] == 2 and counts["indicators"] == 0
    for table in SCHEMAS:
        assert (tmp_path / f"{table}.parquet").exists()
    con = duckdb.connect(str(tmp_path / "jixiao.duckdb"), read_only=True)
    assert con.execute("SELECT sum(value_yuan) FROM amounts").fetchone()[0] == 35000.0
    assert con.execute("SELECT count(*) FROM indicators").fetchone()[0] == 0
    assert con.execute("SELECT fiscal_year FROM reports").fetchone()[0] == 2024
    con.close()


def test_rerun_replaces_instead_of_duplicating(tmp_path: Path) -> None:
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.5, 2.0]))
    first = {t: read_table(tmp_path, t) for t in SCHEMAS}
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.5, 2.0]))
    for table in SCHEMAS:
        pd.testing.assert_frame_equal(read_table(tmp_path, table), first[table])


def test_other_reports_are_kept_and_changed_files_replaced(tmp_path: Path) -> None:
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    write_dataset(tmp_path, report_rows("r2", "b.txt", [2.0, 3.0]))
    assert sorted(read_table(tmp_path, "reports")["report_id"]) == ["r1", "r2"]
    # a.txt edited: new content, new id; the old report of a.txt goes
    write_dataset(tmp_path, report_rows("r3", "a.txt", [4.0]))
    reports = read_table(tmp_path, "reports")
    assert sorted(reports["report_id"]) == ["r2", "r3"]
    assert sorted(read_table(tmp_path, "amounts")["value_yuan"]) == [20000.0, 30000.0, 40000.0]


def test_a_failing_file_keeps_what_was_there(tmp_path: Path) -> None:
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    write_dataset(tmp_path, {}, [error_row("a.txt", "ingest", "the file is empty")])
    assert list(read_table(tmp_path, "reports")["report_id"]) == ["r1"]
    errors = read_table(tmp_path, "errors")
    assert list(errors["message"]) == ["the file is empty"]
    # the same error twice is one row; a later success clears it
    write_dataset(tmp_path, {}, [error_row("a.txt", "ingest", "the file is empty")])
    assert len(read_table(tmp_path, "errors")) == 1
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    assert read_table(tmp_path, "errors").empty


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=5),
       label=st.one_of(st.none(), texts), text=texts)
def test_write_then_read_round_trips(tmp_path: Path, values: list[float], label: str | None,
                                     text: str) -> None:
    rows = report_rows("rx", "x.txt", values)
    for row in rows["amounts"]:
        row["label"], row["text"] = label, text
    out = tmp_path / "ds"
    write_dataset(out, rows)
    back = read_table(out, "amounts")
    assert list(back["value_yuan"]) == [v * 10000 for v in values]  # rows come back in span order
    assert all((pd.isna(x) and label is None) or x == label for x in back["label"])
    assert all(x == text for x in back["text"])
