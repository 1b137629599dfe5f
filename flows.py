"""Prefect flows of jixiao.

``process_reports`` discovers report files, extracts each one in a mapped task (one task run a file,
so the Prefect UI shows which file failed and why) and merges the batch into the dataset. The work
itself is library code in ``pipeline/``; this module only orchestrates it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.futures import as_completed

from pipeline.batch import FileResult, combine, discover, process_file
from pipeline.dataset import write_dataset


@task(name="extract-report", retries=0)
def extract_report(path: str, ocr: bool = True) -> FileResult:
    """Extract one report file (bad input comes back as an error row, not an exception)."""
    return process_file(path, ocr=ocr)


@task(name="write-dataset")
def write_batch(out_dir: str, results: list[FileResult], discover_errors: list[dict[str, str]]) -> dict[str, int]:
    """Merge the batch's rows and errors into the Parquet/DuckDB dataset in ``out_dir``."""
    rows, errors = combine(results)
    return write_dataset(out_dir, rows, discover_errors + errors)


@flow(name="process_reports", log_prints=False)
def process_reports(paths: list[str] | None = None, out: str = "data/processed",
                    ocr: bool = True, progress: bool = False) -> dict[str, Any]:
    """Process report files and folders into the dataset in ``out``; returns a summary.

    Defaults: ``data/raw`` in, ``data/processed`` out; ``ocr=False`` leaves scanned PDF pages
    unread (a PDF that is only a scan becomes an ``errors`` row); ``progress`` prints a line to
    stderr as each file is done.
    """
    logger = get_run_logger()
    files, discover_errors = discover([Path(p) for p in (paths or ["data/raw"])])
    logger.info("processing %d file(s) into %s", len(files), out)
    futures = extract_report.map([str(f) for f in files], ocr=unmapped(ocr))
    if progress:
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            status = f"failed: {result.error['message']}" if result.error else "ok"
            print(f"[{done}/{len(files)}] {result.source}: {status}", file=sys.stderr, flush=True)
    results = [f.result() for f in futures]  # in file order: the dataset does not depend on timing
    counts = write_batch(out, results, discover_errors)
    failed = [r.error for r in results if r.error] + discover_errors
    for err in failed:
        logger.warning("%s: %s (%s)", err["source"], err["message"], err["stage"])
    return {"files": len(files), "processed": len(files) - sum(1 for r in results if r.error),
            "failed": len(failed), "tables": counts, "out": str(out)}
