"""The Prefect flow under Prefect's test harness: a mixed batch with bad files, re-run idempotence."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.dataset import SCHEMAS, read_table
from tests.conftest import SEEDS


@pytest.fixture(scope="module", autouse=True)
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def make_batch(folder: Path) -> Path:
    raw = folder / "raw"
    raw.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy(seed, raw / seed.name)
    (raw / "empty.txt").write_bytes(b"")
    (raw / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    (raw / "unknown.txt").write_bytes(bytes([0x81, 0x30]) * 10 + b"\xff\xfe\xfd" * 30)
    (raw / "notes.txt").write_text("买菜：土豆、西红柿。记得给猫喂食。\n", encoding="utf-8")
    (raw / "report.docx").write_bytes(b"PK\x03\x04")
    return raw


def test_task_runs_through_fn() -> None:
    from flows import extract_report

    result = extract_report.fn(str(sorted(SEEDS.glob("*.txt"))[0]))
    assert result.error is None
    assert result.rows["reports"][0]["n_amounts"] > 0


def test_flow_processes_a_mixed_batch_and_reruns_idempotently(tmp_path: Path) -> None:
    from flows import process_reports

    raw = make_batch(tmp_path)
    out = tmp_path / "out"
    summary = process_reports(paths=[str(raw)], out=str(out))
    assert summary["files"] == 8 and summary["processed"] == 3 and summary["failed"] == 5
    reports = read_table(out, "reports")
    assert sorted(Path(s).name for s in reports["source"]) == sorted(p.name for p in sorted(SEEDS.glob("*.txt"))[:3])
    errors = read_table(out, "errors").set_index(read_table(out, "errors")["source"].map(lambda s: Path(s).name))
    assert "empty" in errors.loc["empty.txt", "message"]
    assert "binary" in errors.loc["scan.txt", "message"]
    assert "encoding" in errors.loc["unknown.txt", "message"]
    assert "structure" in errors.loc["notes.txt", "message"]
    assert "docx" in errors.loc["report.docx", "message"]
    assert (out / "jixiao.duckdb").exists()
    before = {t: read_table(out, t) for t in SCHEMAS}
    process_reports(paths=[str(raw)], out=str(out))
    for table in SCHEMAS:
        pd.testing.assert_frame_equal(read_table(out, table), before[table])


def test_a_later_batch_adds_without_losing(tmp_path: Path) -> None:
    from flows import process_reports

    seeds = sorted(SEEDS.glob("*.txt"))
    out = tmp_path / "out"
    process_reports(paths=[str(seeds[0])], out=str(out))
    process_reports(paths=[str(seeds[1]), str(tmp_path / "missing.txt")], out=str(out))
    assert len(read_table(out, "reports")) == 2
    assert list(read_table(out, "errors")["stage"]) == ["discover"]
