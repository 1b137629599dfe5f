"""The Prefect flow under Prefect's test harness: a mixed batch with bad files, the content-hash
cache, chunked task runs, failures a scheduler can see, and the same dataset on a Dask cluster."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from flows import BatchFailed
from pipeline.dataset import SCHEMAS, SORT_KEYS, read_table
from tests.conftest import SEEDS

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"
RENDERED = Path(__file__).resolve().parent / "fixtures" / "rendered"


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


def dataset(out: Path) -> dict[str, pd.DataFrame]:
    """Every table, in key order (row order in a Parquet file is not part of the dataset)."""
    tables = {}
    for table in SCHEMAS:
        df = read_table(out, table)
        cols = SORT_KEYS[table] + [c for c in df.columns if c not in SORT_KEYS[table]]
        tables[table] = df.sort_values(cols, kind="stable", na_position="first").reset_index(drop=True)
    return tables


def assert_same_dataset(a: Path, b: Path) -> None:
    left, right = dataset(a), dataset(b)
    for table in SCHEMAS:
        pd.testing.assert_frame_equal(left[table], right[table], obj=table)


def test_task_runs_through_fn() -> None:
    from flows import extract_chunk

    seeds = sorted(SEEDS.glob("*.txt"))[:2]
    chunk = extract_chunk.fn([str(p) for p in seeds])
    assert [source for source, _ in chunk.outcomes] == [str(p) for p in seeds]
    assert all(rid for _, rid in chunk.outcomes) and not chunk.errors
    assert chunk.rows["reports"][0]["n_amounts"] > 0
    assert chunk.rows["amounts"].num_rows == sum(r["n_amounts"] for r in chunk.rows["reports"])


def test_flow_fails_visibly_on_bad_files_and_reads_only_what_changed(tmp_path: Path) -> None:
    from prefect.artifacts import Artifact
    from prefect.client.orchestration import get_client

    from flows import process_reports

    raw = make_batch(tmp_path)
    out = tmp_path / "out"
    state = process_reports(paths=[str(raw)], out=str(out), chunk_size=3, return_state=True)
    assert state.is_failed() and "5 of 8 file(s) failed" in state.message
    summary = state.result(raise_on_failure=False).summary
    assert summary["files"] == 8 and summary["processed"] == 3 and summary["failed"] == 5
    reports = read_table(out, "reports")
    assert sorted(Path(s).name for s in reports["source"]) == sorted(p.name for p in sorted(SEEDS.glob("*.txt"))[:3])
    errors = read_table(out, "errors")
    errors = errors.set_index(errors["source"].map(lambda s: Path(s).name))
    assert "empty" in errors.loc["empty.txt", "message"]
    assert "binary" in errors.loc["scan.txt", "message"]
    assert "encoding" in errors.loc["unknown.txt", "message"]
    assert "structure" in errors.loc["notes.txt", "message"]
    assert "docx" in errors.loc["report.docx", "message"]
    assert (out / "jixiao.duckdb").exists()
    # the failed files are a table artifact of the run; the chunks are task runs named after them
    artifact = Artifact.get("failed-files")
    assert artifact is not None and "report.docx" in str(artifact.data)
    with get_client(sync_client=True) as client:
        names = {t.name for t in client.read_task_runs() if t.flow_run_id == state.state_details.flow_run_id}
    assert names == {"chunk 1/3: 000_d3cc648647006a27.txt (3 files)",
                     "chunk 2/3: empty.txt (3 files)", "chunk 3/3: scan.txt (2 files)"}
    files = read_table(out, "files").set_index("source")
    assert list(files["status"].value_counts().sort_index().items()) == [("failed", 5), ("ok", 3)]

    before = dataset(out)
    (raw / "notes.txt").unlink()
    changed = sorted(raw.glob("0*.txt"))[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n附件：无\n", encoding="utf-8")
    with pytest.raises(BatchFailed) as failed:  # called as a function, a failed batch raises
        process_reports(paths=[str(raw)], out=str(out))
    again = failed.value.summary
    # two unchanged reports are not read again; the edited one and the failures are
    assert again["skipped"] == 2 and again["read"] == 5 and again["failed"] == 4
    after = dataset(out)
    assert len(after["reports"]) == 3
    assert set(after["reports"]["report_id"]) ^ set(before["reports"]["report_id"]) != set()
    unchanged = before["reports"][before["reports"]["source"] != str(changed)]
    assert set(unchanged["report_id"]) <= set(after["reports"]["report_id"])


def test_a_rerun_gives_the_same_dataset(tmp_path: Path) -> None:
    from flows import process_reports

    seeds = sorted(SEEDS.glob("*.txt"))
    out = tmp_path / "out"
    first = process_reports(paths=[str(s) for s in seeds], out=str(out))
    assert first["read"] == 5 and first["failed"] == 0
    before = dataset(out)
    second = process_reports(paths=[str(s) for s in seeds], out=str(out))
    assert second["skipped"] == 5 and second["read"] == 0
    for table in SCHEMAS:
        pd.testing.assert_frame_equal(dataset(out)[table], before[table], obj=table)


def test_a_run_stopped_before_its_export_exports_on_the_next_run(tmp_path: Path,
                                                                 monkeypatch) -> None:
    """A run that committed its chunks and was killed before its export: the next run has nothing
    to read, and still exports, so that the Parquet files catch up with the database."""
    from flows import process_reports
    from pipeline.dataset import Store

    seeds = [str(s) for s in sorted(SEEDS.glob("*.txt"))[:2]]
    out = tmp_path / "out"
    process_reports(paths=seeds[:1], out=str(out))
    with monkeypatch.context() as patch:
        patch.setattr(Store, "export", lambda self: None)  # as if killed before it
        process_reports(paths=seeds, out=str(out))
    assert len(read_table(out, "reports")) == 1
    again = process_reports(paths=seeds, out=str(out))
    assert again["read"] == 0 and len(read_table(out, "reports")) == 2


def test_a_later_batch_adds_without_losing(tmp_path: Path) -> None:
    from flows import process_reports

    seeds = sorted(SEEDS.glob("*.txt"))
    out = tmp_path / "out"
    process_reports(paths=[str(seeds[0])], out=str(out))
    state = process_reports(paths=[str(seeds[1]), str(tmp_path / "missing.txt")], out=str(out),
                            return_state=True)
    assert state.is_failed()
    assert len(read_table(out, "reports")) == 2
    assert list(read_table(out, "errors")["stage"]) == ["discover"]


def mixed_corpus(folder: Path) -> Path:
    """Seeds, samples, two renderings and a copy of a seed under another name (a duplicate)."""
    corpus = folder / "corpus"
    for sub, files in {"seeds": sorted(SEEDS.glob("*.txt")),
                       "samples": sorted((SAMPLES / "docs").glob("*"))[:12],
                       "rendered": [RENDERED / "004_d31b608c1de2d819.html",
                                    RENDERED / "001_de8ade2d5ebbdf4b.docx"]}.items():
        (corpus / sub).mkdir(parents=True)
        for f in files:
            shutil.copy(f, corpus / sub / f.name)
    shutil.copy(sorted(SEEDS.glob("*.txt"))[2], corpus / "seeds" / "zz_copy.txt")
    return corpus


def test_dask_with_two_workers_gives_exactly_the_single_process_dataset(tmp_path: Path) -> None:
    import flows

    corpus = mixed_corpus(tmp_path)
    serial, on_dask = tmp_path / "serial", tmp_path / "dask"
    with flows.prefect_api():
        ok_serial, s1 = flows.run([str(corpus)], str(serial), in_process=True)
        ok_dask, s2 = flows.run([str(corpus)], str(on_dask), workers=2, chunk_size=3)
    assert ok_serial and ok_dask, (s1["failures"], s2["failures"])
    assert s1["read"] == s2["read"] == len(list(corpus.rglob("*.*")))
    # the copy, and the seeds 004 and 001 whose .html and .docx renderings are kept instead
    assert s1["duplicates"] == s2["duplicates"] == 3
    assert_same_dataset(serial, on_dask)
    files = read_table(on_dask, "files").set_index("source")
    assert files.loc[str(corpus / "seeds" / "zz_copy.txt"), "status"] == "duplicate"


def test_a_chunk_whose_task_fails_becomes_error_rows_and_the_run_goes_on(tmp_path: Path,
                                                                          monkeypatch) -> None:
    import flows
    from pipeline.batch import process_chunk

    seeds = sorted(SEEDS.glob("*.txt"))

    def dies_on_the_second_seed(paths, ocr=True, bounds=None):
        if str(seeds[1]) in paths:
            raise MemoryError("worker out of memory")
        return process_chunk(paths, ocr=ocr, bounds=bounds)

    monkeypatch.setattr(flows, "process_chunk", dies_on_the_second_seed)
    out = tmp_path / "out"
    state = flows.process_reports(paths=[str(s) for s in seeds], out=str(out), chunk_size=2,
                                  return_state=True)
    summary = state.result(raise_on_failure=False).summary
    assert state.is_failed() and summary["failed"] == 2 and summary["processed"] == 3
    errors = read_table(out, "errors")
    assert set(errors["source"]) == {str(seeds[0]), str(seeds[1])}
    assert set(errors["stage"]) == {"worker"} and errors["message"].str.contains("MemoryError").all()
    # the failed files are read again next time, and then succeed
    monkeypatch.setattr(flows, "process_chunk", process_chunk)
    again = flows.process_reports(paths=[str(s) for s in seeds], out=str(out))
    assert again["read"] == 2 and again["failed"] == 0 and read_table(out, "errors").empty


def test_a_report_fed_in_two_formats_over_two_runs_is_one_report_with_two_sources(
        tmp_path: Path) -> None:
    from flows import process_reports

    raw, out = tmp_path / "raw", str(tmp_path / "out")
    raw.mkdir()
    pdf, docx = raw / "003.pdf", raw / "003.docx"
    shutil.copy(RENDERED / "003_cbba9d689f5f66a1.pdf", pdf)
    assert process_reports(paths=[str(raw)], out=out)["tables"]["reports"] == 1
    shutil.copy(RENDERED / "003_cbba9d689f5f66a1.docx", docx)  # the Word file published later
    summary = process_reports(paths=[str(raw)], out=out)
    assert summary["read"] == 1 and summary["duplicates"] == 1
    assert read_table(out, "reports")["source"].tolist() == [str(docx)]
    sources = read_table(out, "sources").set_index("source")
    assert sources["is_primary"].to_dict() == {str(docx): True, str(pdf): False}
    assert sources["fetched_at"].notna().all()
    again = process_reports(paths=[str(raw)], out=out)  # nothing new: nothing read, nothing doubled
    assert again["read"] == 0 and again["tables"]["sources"] == 2
    # the Word file is replaced by another report: the PDF is read again and is a report of its own
    shutil.copy(RENDERED / "000_d3cc648647006a27.docx", docx)
    summary = process_reports(paths=[str(raw)], out=out)
    assert summary["tables"]["reports"] == 2 and summary["tables"]["sources"] == 2
    assert sorted(read_table(out, "reports")["source"]) == [str(docx), str(pdf)]
    assert set(read_table(out, "files")["status"]) == {"ok"}
