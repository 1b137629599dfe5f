"""A batch of report files: discovery, per-file processing that never raises, and combining rows.

These are the library calls the Prefect flow wraps in tasks (``flows.py``); they are usable without
Prefect as well.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.dataset import error_row
from pipeline.ingest import IngestError
from pipeline.readers import ReaderError

# Formats of a scoring form (自评表) published as a spreadsheet next to its report.
WORKBOOK_FORMATS = {"xlsx", "xls", "et"}
# Which rendering of a report a scoring form is linked to when a portal item has several.
_NARRATIVE_PREFERENCE = ("docx", "doc", "wps", "html", "pdf", "txt")


@dataclass
class FileResult:
    """What one file gave: its dataset rows, or an ``errors`` row saying why it gave nothing."""

    source: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    error: dict[str, str] | None = None


def discover(paths: list[str | Path]) -> tuple[list[Path], list[dict[str, str]]]:
    """Expand files and folders (recursively, sorted, hidden files skipped) into report files.

    Paths that do not exist come back as ``errors`` rows rather than stopping the batch.
    """
    files: list[Path] = []
    errors: list[dict[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(error_row(str(path), "discover", "no such file or folder"))
    unique: list[Path] = []
    seen: set[Path] = set()
    for p in files:  # a file named twice (or through two folders) is processed once
        if p.resolve() not in seen:
            seen.add(p.resolve())
            unique.append(p)
    return unique, errors


def process_file(path: str | Path, ocr: bool = True) -> FileResult:
    """Read, extract and flatten one file. Bad input becomes ``FileResult.error``; never raises
    for a problem with the file itself. ``ocr=False`` leaves scanned PDF pages unread."""
    from pipeline.extract import extract_path, to_rows

    source = str(path)
    try:
        extraction = extract_path(path, ocr=ocr)
    except (IngestError, ReaderError) as exc:
        return FileResult(source, error=error_row(source, exc.stage, str(exc)))
    except Exception as exc:  # an extractor bug must not sink the batch: record it, go on
        return FileResult(source, error=error_row(source, "extract",
                                                  f"internal error {type(exc).__name__}: {exc}"))
    if not (extraction.sections or extraction.amounts or extraction.percentages
            or extraction.indicators):
        return FileResult(source, error=error_row(
            source, "extract", "no recognisable report structure: no numbered headings, amounts, "
            "percentages or indicators were found (is this a performance self-evaluation report?)"))
    return FileResult(source, rows=to_rows(extraction))


def combine(results: list[FileResult]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, str]]]:
    """All rows of a batch by table, and its error rows. A report whose content repeats (the same
    text under two names) is kept once, under the first name."""
    rows: dict[str, list[dict[str, Any]]] = {}
    errors: list[dict[str, str]] = []
    seen: set[str] = set()
    for result in results:
        if result.error:
            errors.append(result.error)
            continue
        rid = result.rows["reports"][0]["report_id"]
        if rid in seen:
            continue
        seen.add(rid)
        for table, table_rows in result.rows.items():
            rows.setdefault(table, []).extend(table_rows)
    link_scoring_forms(rows.get("reports", []))
    return rows, errors


def link_scoring_forms(reports: list[dict[str, Any]]) -> None:
    """Set ``linked_report_id`` of every scoring-form workbook (a spreadsheet with no narrative
    sections) to the report it was published with: a report of the same portal item, that is in
    the same folder, with the same file stem or, failing that, the folder's only report.

    >>> rows = [{"report_id": "r1", "source": "item/report.docx", "format": "docx", "n_sections": 9},
    ...         {"report_id": "w1", "source": "item/自评表.xlsx", "format": "xlsx", "n_sections": 0}]
    >>> link_scoring_forms(rows); rows[1]["linked_report_id"]
    'r1'
    """
    narratives: dict[Path, list[dict[str, Any]]] = {}
    for row in reports:
        if row.get("format") not in WORKBOOK_FORMATS and (row.get("n_sections") or 0) > 0:
            narratives.setdefault(Path(row["source"]).parent, []).append(row)
    for row in reports:
        if row.get("format") not in WORKBOOK_FORMATS or (row.get("n_sections") or 0) > 0:
            continue
        path = Path(row["source"])
        siblings = narratives.get(path.parent, [])
        same_stem = [r for r in siblings if Path(r["source"]).stem == path.stem]
        candidates = same_stem or (siblings if len({Path(r["source"]).stem for r in siblings}) == 1
                                   else [])
        if candidates:
            best = min(candidates, key=lambda r: _NARRATIVE_PREFERENCE.index(r["format"])
                       if r["format"] in _NARRATIVE_PREFERENCE else len(_NARRATIVE_PREFERENCE))
            row["linked_report_id"] = best["report_id"]
