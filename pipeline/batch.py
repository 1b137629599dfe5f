"""A batch of report files: discovery, chunks, per-file processing that never raises, and combining.

These are the library calls the Prefect flow wraps in tasks (``flows.py``); they are usable without
Prefect as well. Nothing here imports pandas or Prefect: a worker process that only extracts stays
small.
"""
from __future__ import annotations

import datetime as dt
import errno
import functools
import hashlib
import os
import stat
import threading
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from pipeline import bounded
from pipeline.bounded import Bounds
from pipeline.ingest import IngestError, special_kind
from pipeline.limits import checked
from pipeline.paths import raw_path, source_name
from pipeline.readers import ReaderError

# Formats of a scoring form (自评表) published as a spreadsheet next to its report.
WORKBOOK_FORMATS = {"xlsx", "xls", "et"}
# Which rendering of a report a scoring form is linked to when a portal item has several.
_NARRATIVE_PREFERENCE = ("docx", "doc", "wps", "html", "pdf", "txt")
_ROOT = Path(__file__).resolve().parent.parent


def error_row(source: str, stage: str, message: str,
              limit: str | None = None) -> dict[str, str | None]:
    """An ``errors`` row; its id is a hash of its content, so a repeated failure is one row.
    ``limit``: the name of the limit (:data:`pipeline.limits.LIMITS`) the file went over, if that
    is why it failed.

    >>> error_row("a.txt", "ingest", "the file is empty")["error_id"]
    'e2a63a15aa279bc6'
    >>> error_row("a.pdf", "read", "over 60 s", limit="time")["exceeded_limit"]
    'time'
    """
    key = f"{source}\x00{stage}\x00{message}" + (f"\x00{limit}" if limit else "")
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return {"error_id": digest, "source": source, "stage": stage, "message": message,
            "exceeded_limit": checked(limit)}


@functools.lru_cache(maxsize=1)
def pipeline_version() -> str:
    """The version of what reads reports: jixiao's version plus a hash of its code and pattern
    files, so a result cached by an older rule set is never taken for a current one.

    >>> len(pipeline_version().split("+")[1])
    12
    """
    from pipeline.patterns import PATTERNS_DIR

    digest = hashlib.sha256()
    files = [p for pkg in ("pipeline", "extractors") for p in (_ROOT / pkg).rglob("*.py")]
    files += [p for p in Path(PATTERNS_DIR).rglob("*") if p.is_file() and p.suffix != ".py"]
    for path in sorted(files, key=lambda p: (p.parent.name, p.name)):
        if "__pycache__" not in path.parts:
            digest.update(path.name.encode() + b"\x00" + path.read_bytes())
    try:
        release = metadata.version("jixiao")
    except metadata.PackageNotFoundError:
        release = "0"
    return f"{release}+{digest.hexdigest()[:12]}"


def file_digest(path: str | Path) -> tuple[str, int]:
    """sha256 (hex) and size of a file's bytes."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest(), os.fstat(fh.fileno()).st_size


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` each.

    >>> [len(c) for c in chunks(range(7), 3)]
    [3, 3, 1]
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


# Seconds one file of each kind takes to extract on one core (bench/RESULTS.md: text 3 ms, a
# page 8 ms, a text PDF 26 ms, a document LibreOffice converts ~10 s; a scanned PDF can take far
# more, which only opening it tells). What the default chunks are sized by.
SECONDS_PER_FILE = {".txt": 0.003, ".html": 0.008, ".htm": 0.008, ".shtml": 0.008,
                    ".docx": 0.02, ".xlsx": 0.02, ".xls": 0.02, ".pdf": 0.03,
                    ".doc": 10.0, ".wps": 10.0, ".et": 10.0}
UNKNOWN_SECONDS = 0.03
# A chunk should take long enough that Prefect's cost per task run (~0.1 s of submitting,
# starting and reporting it, in the flow and the worker together) is a few per cent of it.
CHUNK_SECONDS = 2.0
MAX_CHUNK_FILES = 150  # a chunk's rows are held in its worker: this bounds them


def plan_chunks(paths: Sequence[str], workers: int, per_worker: int = 4) -> list[list[str]]:
    """Consecutive chunks of ``paths``, each about ``CHUNK_SECONDS`` of work by
    ``SECONDS_PER_FILE`` (at most ``MAX_CHUNK_FILES`` files), and small enough that every one of
    ``workers`` gets about ``per_worker`` chunks when the batch is small.

    >>> [len(c) for c in plan_chunks([f"{i}.txt" for i in range(1200)], workers=2)]
    [150, 150, 150, 150, 150, 150, 150, 150]
    >>> [len(c) for c in plan_chunks([f"{i}.pdf" for i in range(300)], workers=1)]
    [66, 66, 66, 66, 36]
    >>> [len(c) for c in plan_chunks(["a.doc", "b.doc", "c.txt", "d.txt"], workers=1)]
    [1, 1, 2]
    """
    if not paths:
        return []
    cost = [SECONDS_PER_FILE.get(Path(p).suffix.lower(), UNKNOWN_SECONDS) for p in paths]
    budget = min(CHUNK_SECONDS, sum(cost) / (max(1, workers) * per_worker))
    planned: list[list[str]] = []
    current: list[str] = []
    spent = 0.0
    for path, seconds in zip(paths, cost):
        # (a sum of float costs that should equal the budget may exceed it by a rounding error)
        if current and (spent + seconds > budget * 1.0001 or len(current) >= MAX_CHUNK_FILES):
            planned.append(current)
            current, spent = [], 0.0
        current.append(path)
        spent += seconds
    planned.append(current)
    return planned


_warm_lock = threading.Lock()
_warmed = False


def warm() -> None:
    """Load the shared models (pattern files, jieba's dictionary, the division table) once in this
    process, under a lock: threads that start together must not each build their own."""
    global _warmed
    if _warmed:
        return
    with _warm_lock:
        if not _warmed:
            from pipeline.extract import extract_document, to_rows
            from pipeline.ingest import document_from_text

            sample = "一、基本情况\n某县某镇人民政府2023年度部门整体支出100万元，预算执行率98%。\n" \
                     "二、绩效指标\n群众满意度 10分 ≥90% 95% 10\n"
            to_rows(extract_document(document_from_text(sample, "warm-up.txt")))
            _warmed = True


@dataclass
class FileResult:
    """What one file gave: its dataset rows, or an ``errors`` row saying why it gave nothing."""

    source: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    error: dict[str, str] | None = None


def discover(paths: list[str | Path]) -> tuple[list[Path], list[dict[str, str]]]:
    """Expand files and folders (recursively, sorted, hidden files skipped) into report files.

    Paths that do not exist come back as ``errors`` rows rather than stopping the batch, and so do
    the entries of a folder that are not regular files (a FIFO, a device, a socket, a broken
    symbolic link or a loop of them): reading one would block or never end. A symbolic link to a
    file is read; one to a folder is not followed (it could lead anywhere, or in a circle). The
    same file reached under two spellings or through two folders is one file.
    """
    files: list[Path] = []
    errors: list[dict[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for folder, dirs, names in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if not name.startswith("."):
                        _add_entry(Path(folder) / name, files, errors)
        elif path.exists() or path.is_symlink():
            _add_entry(path, files, errors)
        else:
            errors.append(error_row(source_name(path), "discover", "no such file or folder"))
    unique: list[Path] = []
    seen: set[Path] = set()
    for p in files:  # a file named twice (or through two folders) is processed once
        real = p.resolve()
        if real not in seen:
            seen.add(real)
            unique.append(p)
    return unique, errors


def _add_entry(path: Path, files: list[Path], errors: list[dict[str, str]]) -> None:
    """A regular file (or a link to one) goes to ``files``; anything else is an ``errors`` row."""
    try:
        info = path.stat()  # follows a symbolic link
    except OSError as exc:
        why = {errno.ELOOP: "a loop of symbolic links",
               errno.ENOENT: "a broken symbolic link"}.get(exc.errno, exc.strerror)
        errors.append(error_row(source_name(path), "discover", f"cannot read the file: {why}"))
        return
    if stat.S_ISDIR(info.st_mode):
        return  # a link to a folder: not followed
    if not stat.S_ISREG(info.st_mode):
        errors.append(error_row(source_name(path), "discover",
                                f"not a regular file ({special_kind(info.st_mode)}): skipped"))
        return
    files.append(path)


def process_file(path: str | Path, ocr: bool = True,
                 on_stage: Callable[[str], None] | None = None) -> FileResult:
    """Read, extract and flatten one file. Bad input becomes ``FileResult.error``; never raises
    for a problem with the file itself (a ``MemoryError`` is let through: it is the worker's, see
    :mod:`pipeline.bounded`). ``ocr=False`` leaves scanned PDF pages unread; ``on_stage`` is told
    each stage as it begins after reading (``extract``, ``rows``)."""
    from pipeline.extract import extract_document, to_rows
    from pipeline.ingest import read_document

    stage = on_stage or (lambda _stage: None)
    source = source_name(path)
    try:
        document = read_document(path, ocr=ocr)
        stage("extract")
        extraction = extract_document(document)
        if not (extraction.sections or extraction.amounts or extraction.percentages
                or extraction.indicators):
            return FileResult(source, error=error_row(
                source, "extract", "no recognisable report structure: no numbered headings, "
                "amounts, percentages or indicators were found (is this a performance "
                "self-evaluation report?)"))
        stage("rows")
        rows = to_rows(extraction)
    except (IngestError, ReaderError) as exc:
        return FileResult(source, error=error_row(source, exc.stage, str(exc), exc.limit))
    except MemoryError:
        raise
    except Exception as exc:  # an extractor bug must not sink the batch: record it, go on
        return FileResult(source, error=error_row(source, "extract",
                                                  f"internal error {type(exc).__name__}: {exc}"))
    rows["sources"][0]["fetched_at"] = _modified(path)
    return FileResult(source, rows=rows)


def _modified(path: str | Path) -> str | None:
    """When the file was written (fetched, for a downloaded page), UTC to the second."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(int(mtime), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Chunk:
    """What a chunk of files gave, packed to travel from a worker to the writer: the ``reports``
    and ``sources`` rows as dicts, every other table as one Arrow table, the ``errors`` rows, and
    each file's outcome as ``(source, report_id or None if it failed)``."""

    rows: dict[str, Any]
    errors: list[dict[str, str]]
    outcomes: list[tuple[str, str | None]]


def process_chunk(paths: Sequence[str | Path], ocr: bool = True, bounds: Bounds = Bounds()) -> Chunk:
    """:func:`process_file` for each path, after :func:`warm`, combined and packed as a :class:`Chunk`.

    Each file is read in this thread's :class:`pipeline.bounded.Sandbox`, within ``bounds``
    (unbounded, in this process, when ``bounds`` lifts both limits or the platform has no fork).
    """
    from pipeline.dataset import arrow_table

    warm()
    # a name is sent to a worker as it is stored (printable): raw_path gives back the file's own
    box = bounded.sandbox(bounds)
    results = [box.process(raw_path(path), ocr=ocr) for path in paths]
    rows, errors = combine(results)
    packed: dict[str, Any] = {table: table_rows if table in ("reports", "sources")
                              else arrow_table(table, table_rows) for table, table_rows in rows.items()}
    outcomes = [(r.source, None if r.error else r.rows["reports"][0]["report_id"]) for r in results]
    return Chunk(packed, errors, outcomes)


def combine(results: list[FileResult]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, str]]]:
    """All rows of a batch by table, and its error rows. A report whose content repeats (the same
    text under two names) is kept once, from the source :func:`pipeline.sources.preference` puts
    first (between equal formats, the name that sorts first); every file keeps its ``sources`` row.

    >>> a = FileResult("b.txt", rows={"reports": [{"report_id": "r1", "source": "b.txt"}]})
    >>> b = FileResult("a.txt", rows={"reports": [{"report_id": "r1", "source": "a.txt"}]})
    >>> [r["source"] for r in combine([a, b])[0]["reports"]]
    ['a.txt']
    """
    from pipeline.sources import preference

    rows: dict[str, list[dict[str, Any]]] = {}
    errors = [r.error for r in sorted(results, key=lambda r: r.source) if r.error]
    seen: set[str] = set()
    read = [r for r in results if not r.error]
    for result in sorted(read, key=lambda r: preference(r.rows["reports"][0])):
        rid = result.rows["reports"][0]["report_id"]
        if rid in seen:
            rows.setdefault("sources", []).extend(result.rows.get("sources", []))
            continue
        seen.add(rid)
        for table, table_rows in result.rows.items():
            rows.setdefault(table, []).extend(table_rows)
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
