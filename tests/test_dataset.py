"""The dataset: Parquet per table plus DuckDB, merged by report id so re-runs never duplicate and
earlier reports are never lost."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import pytest
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.dataset import SCHEMAS, Store, StoreError, error_row, read_table, write_dataset
from pipeline.schemas import MAX_YUAN


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
# amounts within the schema's range (pipeline/schemas.py: |value_yuan| ≤ MAX_YUAN; beyond it a
# value is an errors row, tests/test_schemas.py)
@given(values=st.lists(st.floats(min_value=-MAX_YUAN / 1e4, max_value=MAX_YUAN / 1e4, width=64),
                       max_size=5),
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


# --- the store: one transaction per chunk, duplicates independent of order, old clients, crashes

def file_row(source: str, report_id: str | None, status: str = "ok") -> dict:
    return {"source": source, "sha256": "0" * 64, "size": 1, "pipeline_version": "v",
            "report_id": report_id, "status": status}


@pytest.mark.parametrize("order", [("a.txt", "b.txt"), ("b.txt", "a.txt")])
def test_the_same_text_under_two_names_is_kept_under_the_first_whatever_the_order(
        tmp_path: Path, order: tuple[str, str]) -> None:
    with Store(tmp_path) as store:
        for source in order:  # two chunks, finishing in either order
            store.write(report_rows("r1", source, [1.0]), [], [file_row(source, "r1")])
        store.export()
    assert list(read_table(tmp_path, "reports")["source"]) == ["a.txt"]
    assert list(read_table(tmp_path, "texts")["source"]) == ["a.txt"]
    assert len(read_table(tmp_path, "amounts")) == 1
    files = read_table(tmp_path, "files").set_index("source")["status"].to_dict()
    assert files == {"a.txt": "ok", "b.txt": "duplicate"}


def test_a_failed_write_leaves_every_table_as_it_was(tmp_path: Path, monkeypatch) -> None:
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    with Store(tmp_path) as store:
        real_insert = Store._insert
        calls = []

        def crash_on_third_table(self, table, rows):
            calls.append(table)
            if len(calls) == 3:
                raise OSError("disk full")
            real_insert(self, table, rows)

        monkeypatch.setattr(Store, "_insert", crash_on_third_table)
        with pytest.raises(OSError):
            store.write(report_rows("r2", "b.txt", [2.0, 3.0]), [], [file_row("b.txt", "r2")])
        monkeypatch.setattr(Store, "_insert", real_insert)
        assert store.counts() == {**{t: 0 for t in SCHEMAS}, "reports": 1, "amounts": 1, "texts": 1,
                                  "indicator_matrix": 1, "sources": 1}


def test_the_database_opens_in_duckdb_1_5_and_2(tmp_path: Path) -> None:
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.5]))
    db = tmp_path / "jixiao.duckdb"
    header = db.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    # storage version numbers: 64-68 are read by DuckDB 1.x (1.5 reads up to 68), 69 is 2.0's
    assert int.from_bytes(header[12:20], "little") <= 68
    write_dataset(tmp_path, report_rows("r2", "b.txt", [2.5]))  # appending keeps the format
    assert int.from_bytes(db.read_bytes()[12:20], "little") <= 68
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 2
    con.close()


def test_an_older_duckdb_release_reads_the_database(tmp_path: Path) -> None:
    """The release before the current one (1.5), installed beside the test: a real old client."""
    import subprocess
    import sys

    write_dataset(tmp_path / "ds", report_rows("r1", "a.txt", [1.5, 2.0]))
    target = tmp_path / "duckdb-1.5"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--disable-pip-version-check", "--target", str(target), "duckdb==1.5.*"],
                         capture_output=True, text=True, timeout=300)
    if pip.returncode != 0:
        pytest.skip(f"duckdb 1.5 could not be installed from the package index: {pip.stderr[-300:]}")
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(duckdb.__version__, con.execute('SELECT sum(value_yuan) FROM amounts').fetchone()[0])")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ds" / "jixiao.duckdb")],
                          capture_output=True, text=True, env={"PYTHONPATH": str(target)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    version, total = proc.stdout.split()
    assert version.startswith("1.5.") and float(total) == 35000.0


def test_a_dataset_of_the_previous_layout_is_upgraded(tmp_path: Path) -> None:
    # before the store: Parquet tables plus a DuckDB file rebuilt from them in 2.0's format
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    (tmp_path / "jixiao.duckdb").unlink()
    con = duckdb.connect(str(tmp_path / "jixiao.duckdb"))  # DuckDB 2's default storage
    for table in ("reports", "amounts", "texts"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{tmp_path / table}.parquet')")
    con.close()
    write_dataset(tmp_path, report_rows("r2", "b.txt", [2.0]))
    assert sorted(read_table(tmp_path, "reports")["report_id"]) == ["r1", "r2"]
    assert int.from_bytes((tmp_path / "jixiao.duckdb").read_bytes()[12:20], "little") <= 68


def test_columns_of_an_older_version_are_added_and_renamed_ones_dropped(tmp_path: Path) -> None:
    """A dataset written before issue 8 has checks(check, status, message) and reports without
    the division codes: opening it gives every table exactly today's columns."""
    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    con = duckdb.connect(str(tmp_path / "jixiao.duckdb"))
    con.execute("DROP TABLE checks")
    con.execute("CREATE TABLE checks (report_id VARCHAR, \"check\" VARCHAR, status VARCHAR, "
                "message VARCHAR)")
    con.execute("INSERT INTO checks VALUES ('r1', 'max_score_sum', 'ok', 'old row')")
    con.execute("ALTER TABLE reports DROP COLUMN township_code")
    con.close()
    rows = report_rows("r2", "b.txt", [2.0])
    rows["checks"] = [{"report_id": "r2", "check_name": "max_score_sum", "severity": "info",
                       "expected": "100", "found": "100", "message": "ok", "records": "[]"}]
    write_dataset(tmp_path, rows)
    con = duckdb.connect(str(tmp_path / "jixiao.duckdb"), read_only=True)
    for table, schema in SCHEMAS.items():
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        assert sorted(cols) == sorted(schema), table
    con.close()
    checks = read_table(tmp_path, "checks")
    assert list(checks.columns) == list(SCHEMAS["checks"])
    assert checks.set_index("report_id").loc["r2", "severity"] == "info"


def test_parquet_files_are_readable_by_others(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    finally:
        os.umask(old)
    for table in SCHEMAS:
        assert stat.S_IMODE((tmp_path / f"{table}.parquet").stat().st_mode) == 0o644


def test_a_second_writer_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    import subprocess
    import sys

    write_dataset(tmp_path, report_rows("r1", "a.txt", [1.0]))
    code = ("import sys, time; from pipeline.dataset import Store; s = Store(sys.argv[1]); "
            "print('open', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=f"{tmp_path} is being written by another jixiao "
                           rf"run \(process {holder.pid}\): one writer at a time"):
            Store(tmp_path)
    finally:
        holder.kill()
        holder.wait()


def test_the_writer_gives_back_what_duckdb_cached_after_each_chunk(tmp_path: Path, monkeypatch) -> None:
    import random

    from pipeline import dataset

    rng = random.Random(0)

    def chunk(n: int) -> dict[str, list[dict]]:  # texts that do not compress to nothing
        rows = {"reports": [], "texts": []}
        for i in range(n):
            rid = f"r{n}-{i}"
            rows["reports"].append({"report_id": rid, "source": f"{rid}.txt"})
            rows["texts"].append({"report_id": rid, "source": f"{rid}.txt", "text": "".join(
                chr(0x4E00 + rng.randrange(2000)) for _ in range(20000))})
        return rows

    def cached_mib(store: Store) -> float:
        return store.con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()[0][0] / 2**20

    with Store(tmp_path / "released") as store:
        for n in (300, 301, 302):
            store.write(chunk(n))
        released = cached_mib(store)
        limit = store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        store.export()
        assert store.counts()["texts"] == 903
    monkeypatch.setattr(dataset.Store, "_release_cache", lambda self: None)
    with Store(tmp_path / "kept") as store:
        for n in (300, 301, 302):
            store.write(chunk(n))
        kept = cached_mib(store)
    assert released <= 16 < kept, (released, kept)  # what a chunk's write leaves cached is given back
    fresh = duckdb.connect(config={"memory_limit": dataset.MEMORY_LIMIT})
    assert limit == fresh.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
