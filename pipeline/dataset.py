"""Writing the tidy dataset: one Parquet file per table plus a DuckDB database with the same tables.

Rows are keyed by ``report_id`` (a hash of the report's decoded text), so a re-run on the same input
replaces a report's rows instead of adding duplicates, and a report already in the dataset is kept
when a later batch does not touch it. A file that fails keeps the rows it had (its error is added);
a file that succeeds clears its earlier errors.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

# Column order and dtypes of every table: empty tables still get a schema, and a column's type never
# depends on which reports happened to be in a batch.
S, I, F, B = "string", "Int64", "float64", "boolean"
SCHEMAS: dict[str, dict[str, str]] = {
    "reports": {"report_id": S, "source": S, "format": S, "encoding": S, "n_chars": I,
                "body_end": I, "unit_name": S, "province": S, "city": S, "county": S,
                "township": S, "fiscal_year": I, "report_kind": S, "report_date": S,
                "total_score": F, "grade": S, "income_total": F, "expenditure_total": F,
                "basic_expenditure": F, "project_expenditure": F, "budget_execution_rate": F,
                "n_sections": I, "n_amounts": I, "n_percentages": I, "n_indicators": I,
                "n_checks_failed": I, "ocr": B, "title": S, "published": S, "publisher": S,
                "index_no": S, "doc_no": S, "attachments": S, "linked_report_id": S},
    "sections": {"report_id": S, "seq": I, "level": I, "number": S, "title": S, "canonical": S,
                 "start": I, "end": I, "title_start": I, "rule": S, "where": S},
    "amounts": {"report_id": S, "start": I, "end": I, "text": S, "value_yuan": F, "unit": S,
                "label": S, "section": S, "sentence": S, "rule": S, "where": S},
    "percentages": {"report_id": S, "start": I, "end": I, "text": S, "value": F, "label": S,
                    "section": S, "sentence": S, "rule": S, "where": S},
    "indicators": {"report_id": S, "name": S, "level1": S, "level2": S, "target": S, "actual": S,
                   "max_score": F, "score": F, "origin": S, "start": I, "end": I, "table_id": S,
                   "row_index": I, "rule": S, "where": S},
    "facts": {"report_id": S, "field": S, "value": S, "start": I, "end": I, "text": S, "rule": S},
    "checks": {"report_id": S, "check": S, "status": S, "message": S},
    "texts": {"report_id": S, "source": S, "text": S},
    "errors": {"error_id": S, "source": S, "stage": S, "message": S},
}
SORT_KEYS: dict[str, list[str]] = {
    "reports": ["report_id"], "sections": ["report_id", "seq"],
    "amounts": ["report_id", "start"], "percentages": ["report_id", "start"],
    "indicators": ["report_id", "origin", "table_id", "row_index", "start", "name"],
    "facts": ["report_id", "field"], "checks": ["report_id", "check"],
    "texts": ["report_id"], "errors": ["source", "stage", "message"],
}
DATABASE = "jixiao.duckdb"


def error_row(source: str, stage: str, message: str) -> dict[str, str]:
    """An ``errors`` row; its id is a hash of its content, so a repeated failure is one row."""
    digest = hashlib.sha256(f"{source}\x00{stage}\x00{message}".encode()).hexdigest()[:16]
    return {"error_id": digest, "source": source, "stage": stage, "message": message}


def frame(table: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame with the table's columns and dtypes (extra keys are dropped)."""
    schema = SCHEMAS[table]
    df = pd.DataFrame(list(rows), columns=list(schema))
    return df.astype(schema)


def read_table(out_dir: Path, table: str) -> pd.DataFrame:
    """A table of an existing dataset, or an empty frame with the table's schema."""
    path = out_dir / f"{table}.parquet"
    if not path.exists():
        return frame(table, [])
    df = pd.read_parquet(path)
    for col in SCHEMAS[table]:
        if col not in df:
            df[col] = None
    return df[list(SCHEMAS[table])].astype(SCHEMAS[table])


def merge(table: str, old: pd.DataFrame, new: pd.DataFrame, replaced_ids: set[str],
          replaced_sources: set[str]) -> pd.DataFrame:
    """Old rows minus those of re-processed reports, plus the new rows, sorted and de-duplicated."""
    if table == "errors":
        keep = old[~old["source"].isin(replaced_sources)]
        key = ["error_id"]
    else:
        keep = old[~old["report_id"].isin(replaced_ids)]
        key = None
    parts = [df for df in (keep, new) if not df.empty]
    merged = pd.concat(parts, ignore_index=True) if parts else frame(table, [])
    merged = merged.astype(SCHEMAS[table])
    if key:
        merged = merged.drop_duplicates(subset=key, keep="last")
    return merged.sort_values(SORT_KEYS[table], kind="stable", na_position="first") \
        .reset_index(drop=True)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".parquet", dir=path.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_duckdb(out_dir: Path) -> Path:
    """(Re)build ``jixiao.duckdb`` in ``out_dir`` from the Parquet tables, atomically."""
    import duckdb

    target = out_dir / DATABASE
    tmp = out_dir / f".{DATABASE}.tmp"
    if tmp.exists():
        tmp.unlink()
    con = duckdb.connect(str(tmp))
    try:
        for table in SCHEMAS:
            parquet = (out_dir / f"{table}.parquet").as_posix().replace("'", "''")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{parquet}')")
    finally:
        con.close()
    os.replace(tmp, target)
    return target


def write_dataset(out_dir: str | Path, rows: dict[str, list[dict[str, Any]]],
                  errors: list[dict[str, str]] | None = None) -> dict[str, int]:
    """Merge a batch into the dataset in ``out_dir``; returns the row count of every table.

    ``rows`` maps table names to new rows (as produced by :func:`pipeline.extract.to_rows`);
    ``errors`` are ``errors`` rows for the files of this batch that failed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    new_reports = rows.get("reports", [])
    replaced_ids = {r["report_id"] for r in new_reports}
    replaced_sources = {r["source"] for r in new_reports}
    old_reports = read_table(out, "reports")
    # the same file with new content replaces its old report
    replaced_ids |= set(old_reports.loc[old_reports["source"].isin(replaced_sources), "report_id"])
    counts = {}
    for table in SCHEMAS:
        new_rows = (errors or []) if table == "errors" else rows.get(table, [])
        merged = merge(table, read_table(out, table), frame(table, new_rows), replaced_ids,
                       replaced_sources)
        _atomic_parquet(merged, out / f"{table}.parquet")
        counts[table] = len(merged)
    write_duckdb(out)
    return counts
