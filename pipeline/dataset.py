"""The dataset's store: a DuckDB database that batches append to, with Parquet exported from it.

``jixiao.duckdb`` in the dataset folder is the store of record. Each chunk of finished files is
written in one transaction (:meth:`Store.write`), so a run that is killed keeps every chunk it
committed, the tables always agree with each other, and the next run only does what is missing
(the ``files`` table records each file's content hash and the pipeline version that read it). At
the end of a run :meth:`Store.export` writes one Parquet file per table, as a new version that is
checked against the database and then replaces the previous one in a single rename.

The dataset stays whole whatever stops a writer:

- one writer at a time: a :class:`Store` holds the folder's lock (``.jixiao.lock``) while it is
  open, and a second one is refused at once, naming the process that writes;
- the folder is checked before anything is read: writable, and room for a new export beside the
  current one;
- a kill keeps what was committed (DuckDB's WAL) and the previous Parquet version; the next run
  exports again (``.jixiao.export-pending`` marks a database the Parquet files are behind);
- a full disk or any failure of the database or the export is a :class:`StoreError`, with the
  previous Parquet version and every committed chunk kept.

Rows are keyed by ``report_id`` (a hash of the report's decoded text):

- a report read again replaces its rows, and a file whose content changed replaces its old report;
- one report in several files (the same text under two names, or a .docx and its .pdf: the same
  unit, year and kind and near-identical text, :mod:`pipeline.sources`) is one ``reports`` row
  with a ``sources`` row for each file. Its values are those of the file
  :func:`pipeline.sources.preference` puts first (Word, then html, txt, PDF, OCR; then the name
  that sorts first), whatever order the files arrive in; the other files' rows are not kept and
  their ``files`` status is ``duplicate``. The other renderings of a report whose kept file
  changed are read again (:attr:`Written.orphans`);
- a file that fails keeps the rows it had and gets an ``errors`` row; any attempt on a file (failed
  or not) replaces that file's earlier ``errors`` rows.

The database is written in DuckDB's v1.5.0 storage format, which the current DuckDB (2.x) and the
release before it (1.5) both open.
"""
from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from pipeline.batch import error_row, link_scoring_forms
from pipeline.sources import NEAR_TEXT, comparable_text, match_key, preference, similarity

__all__ = ["SCHEMAS", "SORT_KEYS", "MATRIX", "matrix_schema", "DATABASE", "STORAGE_VERSION", "Store", "StoreError", "error_row",
           "arrow_table", "frame", "read_table", "write_dataset"]

# Column order and dtypes of every table: empty tables still get a schema, and a column's type never
# depends on which reports happened to be in a batch.
S, I, F, B = "string", "Int64", "float64", "boolean"
SCHEMAS: dict[str, dict[str, str]] = {
    "reports": {"report_id": S, "source": S, "format": S, "encoding": S, "n_chars": I,
                "body_end": I, "unit_name": S, "province": S, "city": S, "county": S,
                "township": S, "province_code": S, "city_code": S, "county_code": S,
                "township_code": S, "division_scheme": S, "fiscal_year": I, "report_kind": S, "report_date": S,
                "total_score": F, "grade": S, "income_total": F, "expenditure_total": F,
                "basic_expenditure": F, "project_expenditure": F, "budget_execution_rate": F,
                "n_sections": I, "n_amounts": I, "n_percentages": I, "n_indicators": I,
                "n_checks_failed": I, "ocr": B, "title": S, "published": S, "publisher": S,
                "index_no": S, "doc_no": S, "attachments": S, "linked_report_id": S,
                "portal": S, "page_url": S},
    "sections": {"report_id": S, "seq": I, "level": I, "number": S, "title": S, "canonical": S,
                 "start": I, "end": I, "title_start": I, "rule": S, "provenance": S},
    "amounts": {"report_id": S, "start": I, "end": I, "text": S, "value_yuan": F, "unit": S,
                "label": S, "section": S, "sentence": S, "rule": S, "provenance": S},
    "percentages": {"report_id": S, "start": I, "end": I, "text": S, "value": F, "label": S,
                    "section": S, "sentence": S, "rule": S, "provenance": S},
    "indicators": {"report_id": S, "name": S, "level1": S, "level2": S, "target": S, "actual": S,
                   "max_score": F, "score": F, "origin": S, "start": I, "end": I, "table_id": S,
                   "row_index": I, "rule": S, "canonical_id": S, "canonical_name": S,
                   "canonical_group": S, "match_score": F, "provenance": S},
    "facts": {"report_id": S, "field": S, "value": S, "start": I, "end": I, "text": S, "rule": S},
    "checks": {"report_id": S, "check_name": S, "severity": S, "expected": S, "found": S,
               "message": S, "records": S},
    "texts": {"report_id": S, "source": S, "text": S},
    # one row per file that holds a report (pipeline.sources): the file whose values the report
    # keeps (is_primary) and the other renderings of it, with how each was matched to it
    "sources": {"report_id": S, "source": S, "format": S, "text_id": S, "published": S,
                "fetched_at": S, "is_primary": B, "matched_by": S, "similarity": F},
    "errors": {"error_id": S, "source": S, "stage": S, "message": S, "exceeded_limit": S},
    # one row per URL a crawl of a portal asked for (pipeline.crawl), its last answer
    "fetches": {"url": S, "portal": S, "kind": S, "item_url": S, "item_title": S, "item_date": S,
                "published": S, "publisher": S, "fetched_at": S, "http_status": I, "etag": S,
                "last_modified": S, "sha256": S, "size": I, "stored_path": S, "outcome": S,
                "reason": S},
    # one row per file a run has seen: what it held (sha256 of the bytes), which pipeline version
    # read it and what came of it (ok / duplicate / failed); a file whose hash and version match
    # an ok or duplicate row is not read again. report_id: the report it is a source of
    "files": {"source": S, "sha256": S, "size": I, "pipeline_version": S, "report_id": S,
              "status": S},
}
SORT_KEYS: dict[str, list[str]] = {
    "reports": ["report_id"], "sections": ["report_id", "seq"],
    "amounts": ["report_id", "start"], "percentages": ["report_id", "start"],
    "indicators": ["report_id", "origin", "table_id", "row_index", "start", "name"],
    "facts": ["report_id", "field"], "checks": ["report_id", "check_name"],
    "texts": ["report_id"], "sources": ["report_id", "source"],
    "errors": ["source", "stage", "message"], "files": ["source"], "fetches": ["portal", "url"],
}
# The wide table built from reports and indicators at each export (Store.build_indicator_matrix):
# one row per report; per canonical indicator of patterns/indicator_taxonomy.yaml, its score,
# max_score and actual as <id>_score, <id>_max_score, <id>_actual.
MATRIX = "indicator_matrix"
MATRIX_KEYS: dict[str, str] = {"report_id": S, "unit_name": S, "province": S, "city": S,
                               "county": S, "township": S, "township_code": S, "fiscal_year": I,
                               "report_kind": S}
MATRIX_VALUES: dict[str, str] = {"score": F, "max_score": F, "actual": S}


def matrix_schema() -> dict[str, str]:
    """The columns of indicator_matrix and their dtypes (they follow the taxonomy)."""
    from extractors.canonical import canonical_entries

    schema = dict(MATRIX_KEYS)
    for entry in canonical_entries():
        for value, kind in MATRIX_VALUES.items():
            schema[f"{entry.canonical_id}_{value}"] = kind
    return schema


# tables whose rows belong to a report (deleted and re-inserted with it); a report's sources are
# rows of files, which move to another report when it is merged into that one
REPORT_TABLES = [t for t in SCHEMAS if "report_id" in SCHEMAS[t] and t not in ("files", "sources")]
DATABASE = "jixiao.duckdb"
# In the dataset folder: the writers' lock (it holds the pid of the writer), the Parquet versions
# with the link to the current one, and a mark that the database has changes the Parquet lacks
LOCK = ".jixiao.lock"
EXPORTS = ".jixiao.parquet"
CURRENT = "current"
PENDING = ".jixiao.export-pending"
# free space a write needs beyond the size of the current Parquet export
MIN_FREE = 16 * 2**20
STORAGE_VERSION = "v1.5.0"
# the newest storage version number (in the file header) that DuckDB 1.5 reads; 2.0 writes 69
NEWEST_READABLE_BY_1_5 = 68
MEMORY_LIMIT = "128MB"
CACHE_AFTER_WRITE = "16MB"
_SQL_TYPES = {S: "VARCHAR", I: "BIGINT", F: "DOUBLE", B: "BOOLEAN"}


class StoreError(RuntimeError):
    """The dataset folder cannot be opened or written (a reason a person can act on)."""


_HELD: set[int] = set()  # the file descriptors of the folder locks this process holds


def _lock_folder(out: Path) -> int:
    """Take the writers' lock of the dataset folder ``out``, or raise :class:`StoreError` at once
    when another process holds it; returns the lock file's descriptor (for :func:`_unlock_folder`).

    The lock is ``flock`` on ``out/.jixiao.lock``: the kernel lets go of it when the process ends,
    however it ends, so a killed run never leaves the folder locked. Readers do not take it.
    """
    try:
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise StoreError(f"cannot write in the dataset folder {out}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 20, 0).decode("ascii", "replace").strip()
        os.close(fd)
        raise StoreError(f"the dataset folder {out} is being written by another jixiao run"
                         + (f" (process {holder})" if holder else "") + ": one writer at a time; "
                         "wait for it to finish, or write to another --out") from None
    _HELD.add(fd)
    with suppress(OSError):  # only for the message above: a full disk is refused after this
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _unlock_folder(fd: int) -> None:
    _HELD.discard(fd)
    os.close(fd)


def _drop_inherited_locks() -> None:
    """In a child forked from a writer: close its copies of the lock files, so that the lock goes
    when the writer ends, not when the last of its children does."""
    for fd in _HELD:
        with suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


def _reason(exc: BaseException) -> str:
    """Why a write failed, in a line: a full disk said plainly (DuckDB buries it in JSON)."""
    if getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in str(exc):
        return "the disk is full (No space left on device)"
    return str(exc)


def _current_version(exports: Path) -> str | None:
    """The name of the Parquet version ``exports/current`` points to (None: no export yet)."""
    try:
        return os.readlink(exports / CURRENT)
    except OSError:
        return None


def _replace_with_link(target: str, link: Path) -> None:
    """Make ``link`` a symbolic link to ``target`` in one rename: a reader finds the old or the new."""
    new = link.with_name(f".{link.name}.new")
    new.unlink(missing_ok=True)
    os.symlink(target, new)
    os.replace(new, link)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    """Put a folder's entries (new files, renames) on disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def frame(table: str, rows: Iterable[dict[str, Any]]):
    """Rows as a DataFrame with the table's columns and dtypes (extra keys are dropped)."""
    import pandas as pd

    schema = SCHEMAS[table]
    df = pd.DataFrame(list(rows), columns=list(schema))
    return df.astype(schema)


def read_table(out_dir: str | Path, table: str):
    """A table of an exported dataset (its Parquet file), or an empty frame with the table's schema."""
    import pandas as pd

    path = Path(out_dir) / f"{table}.parquet"
    if not path.exists():
        return frame(table, [])
    df = pd.read_parquet(path)
    for col in SCHEMAS[table]:
        if col not in df:
            df[col] = None
    return df[list(SCHEMAS[table])].astype(SCHEMAS[table])


def arrow_table(table: str, rows: list[dict[str, Any]]):
    """Rows as an Arrow table with the table's schema (missing keys are nulls, extra keys dropped).

    Columnar and compact: this is how a worker sends a chunk's rows back to the writer.
    """
    import pyarrow as pa

    kinds = {S: pa.string(), I: pa.int64(), F: pa.float64(), B: pa.bool_()}
    schema = pa.schema([(col, kinds[kind]) for col, kind in SCHEMAS[table].items()])
    return pa.Table.from_pylist(rows, schema=schema)


def _only_reports(rows: Any, ids: set[str]) -> Any:
    """The rows (dicts or an Arrow table) that belong to the reports ``ids``."""
    if isinstance(rows, list):
        return [r for r in rows if r["report_id"] in ids]
    import pyarrow as pa
    import pyarrow.compute as pc

    return rows.filter(pc.is_in(rows["report_id"], value_set=pa.array(sorted(ids), pa.string())))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + path.as_posix().replace("'", "''") + "'"


@dataclass
class Written:
    """What one :meth:`Store.write` changed: reports inserted, files that became another file's
    duplicate, errors added, and the files to read again (``orphans``: renderings of a report
    whose kept file changed, so they have no report now)."""

    reports: int = 0
    duplicates: int = 0
    errors: int = 0
    refused: int = 0   # values or rows a schema refused (each also an errors row)
    orphans: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    """A text that may be a report of the dataset: a stored report, or one of this write."""

    report_id: str
    source: str
    format: str | None
    ocr: bool | None
    key: tuple[str, int, str] | None
    stored: bool

    @classmethod
    def of(cls, report: dict[str, Any], stored: bool) -> "_Candidate":
        return cls(report["report_id"], report["source"], report.get("format"), report.get("ocr"),
                   match_key(report), stored)

    def preference(self) -> tuple[int, str]:
        return preference({"source": self.source, "format": self.format, "ocr": self.ocr})


class Store:
    """The DuckDB store of one dataset folder; use as a context manager.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out, Store(out) as store:
    ...     store.write({"reports": [{"report_id": "r1", "source": "a.txt"}]}).reports
    1
    """

    def __init__(self, out_dir: str | Path):
        self.out = Path(out_dir)
        self.path = self.out / DATABASE
        self.con: Any = None
        self._pending = False
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the dataset folder {self.out}: {exc.strerror}") from exc
        if not os.access(self.out, os.W_OK):
            raise StoreError(f"the dataset folder {self.out} is not writable (a read-only disk, or "
                             "no permission to write there)")
        self._lock: int | None = _lock_folder(self.out)
        try:
            self._check_space()
            self._upgrade_legacy()
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        """Open the database and give every table today's columns."""
        import duckdb

        # DuckDB keeps what it wrote in its buffer pool (up to 80 % of RAM by default): bound it,
        # so the writer's memory does not grow with the dataset
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": 1,
                                          "temp_directory": str(self.out / ".jixiao.tmp")})
        try:
            self.con.execute(f"ATTACH {_literal(self.path)} AS store "
                             f"(STORAGE_VERSION '{STORAGE_VERSION}')")
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():  # not a writer (they take the folder's lock first)
                raise StoreError(f"{self.path} is open in another program (a jixiao sql query, a "
                                 "notebook …): close it and run again") from exc
            raise StoreError(f"cannot open {self.path}: {_reason(exc)}") from exc
        try:
            self._migrate()
        except duckdb.Error as exc:
            raise StoreError(f"cannot update the tables of {self.path}: {_reason(exc)}") from exc

    def _migrate(self) -> None:
        """Create the tables that are missing, add new columns, drop renamed ones: all of it or,
        when stopped, none."""
        self.con.execute("USE store")
        self.con.execute("BEGIN TRANSACTION")
        existing = {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'store'").fetchall()}
        for table, schema in SCHEMAS.items():
            cols = ", ".join(f"{_quote(c)} {_SQL_TYPES[k]}" for c, k in schema.items())
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
            have = {r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'store' "
                "AND table_name = ?", [table]).fetchall()}
            for col, kind in schema.items():  # a column added in a later version of jixiao
                if col not in have:
                    self.con.execute(f"ALTER TABLE {table} ADD COLUMN {_quote(col)} {_SQL_TYPES[kind]}")
            for col in sorted(have - set(schema)):  # one a later version renamed (checks.check)
                self.con.execute(f"ALTER TABLE {table} DROP COLUMN {_quote(col)}")
        if "sources" not in existing:
            self._list_sources_of_earlier_reports()
        self.con.execute("COMMIT")

    def _check_space(self) -> None:
        """Refuse a disk without room for a new Parquet export beside the current one (and
        ``MIN_FREE`` more): better now than after the extraction."""
        disk = os.statvfs(self.out)
        free = disk.f_bavail * disk.f_frsize
        needed = MIN_FREE + sum(path.stat().st_size for path in self._table_files() if path.exists())
        if free < needed:
            raise StoreError(f"the disk of {self.out} has {free / 2**20:.1f} MiB free; the dataset "
                             f"needs at least {needed / 2**20:.1f} MiB to be written (its next "
                             "Parquet export is written beside the current one): free some space, "
                             "or choose another --out")

    def _list_sources_of_earlier_reports(self) -> None:
        """A dataset written before the ``sources`` table: each report's own file is its kept
        source, and each file kept as its exact duplicate (status ``duplicate``) another."""
        self.con.execute(
            "INSERT INTO sources BY NAME SELECT report_id, source, format, report_id AS text_id, "
            "published, true AS is_primary, 'self' AS matched_by, 1.0 AS similarity FROM reports")
        self.con.execute(
            "INSERT INTO sources BY NAME SELECT f.report_id, f.source, f.report_id AS text_id, "
            "false AS is_primary, 'same_text' AS matched_by, 1.0 AS similarity FROM files f "
            "WHERE f.status = 'duplicate' AND f.report_id IN (SELECT report_id FROM reports)")

    def _upgrade_legacy(self) -> None:
        """A dataset written by jixiao before the store (a DuckDB file rebuilt from Parquet on each
        run, in the newest storage format) is re-created from its Parquet files: beside the old
        file, which it replaces only once every table holds as many rows as its Parquet file. A
        failure (a full disk) leaves the old file and raises :class:`StoreError`."""
        import duckdb
        import pyarrow.parquet as pq

        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            header = fh.read(20)
        version = int.from_bytes(header[12:20], "little") if header[8:12] == b"DUCK" else None
        if version is not None and version <= NEWEST_READABLE_BY_1_5:
            return
        upgraded = self.path.with_name(f".{DATABASE}.upgrade")
        wal = Path(f"{upgraded}.wal")
        con = duckdb.connect()
        try:
            for leftover in (upgraded, wal):  # of an upgrade that was stopped
                leftover.unlink(missing_ok=True)
            con.execute(f"ATTACH {_literal(upgraded)} AS store (STORAGE_VERSION '{STORAGE_VERSION}')")
            expected, found = {}, {}
            for table in SCHEMAS:
                parquet = self.out / f"{table}.parquet"
                if parquet.exists():
                    con.execute(f"CREATE TABLE store.{table} AS "
                                f"SELECT * FROM read_parquet({_literal(parquet)})")
                    expected[table] = pq.read_metadata(parquet).num_rows
                    found[table] = con.execute(f"SELECT count(*) FROM store.{table}").fetchall()[0][0]
            con.execute("CHECKPOINT store")  # raises where closing would keep the WAL silently
            con.execute("DETACH store")
            if found != expected or wal.exists():
                raise StoreError(f"the upgraded database has {found} rows, its Parquet files {expected}")
        except (duckdb.Error, OSError, StoreError) as exc:
            con.close()
            upgraded.unlink(missing_ok=True)
            wal.unlink(missing_ok=True)
            raise StoreError(f"cannot upgrade {self.path} (a dataset of an earlier jixiao) from its "
                             f"Parquet files: {_reason(exc)}; the dataset is as it was") from exc
        con.close()
        Path(f"{self.path}.wal").unlink(missing_ok=True)  # the old file's, if it had one
        os.replace(upgraded, self.path)
        _fsync_folder(self.out)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (DuckDB writes its WAL into the file, or keeps the WAL for the next
        open when it cannot) and let go of the folder's lock."""
        try:
            if self.con is not None:
                self.con.close()
                self.con = None
        finally:
            if self._lock is not None:
                _unlock_folder(self._lock)
                self._lock = None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """A transaction: committed at the end, rolled back on an exception. A database error
        (a full disk …) is a :class:`StoreError`; what earlier transactions committed is kept."""
        import duckdb

        self._mark_pending()
        try:
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                with suppress(duckdb.Error):  # the database may be unusable now: the first error counts
                    self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            raise StoreError(f"cannot write the dataset in {self.out}: {_reason(exc)}. What "
                             "earlier chunks wrote is kept: run again once this is fixed (only "
                             "what is missing is read)") from exc
        self._release_cache()

    def _mark_pending(self) -> None:
        """Note on disk, before the first change, that the Parquet export is behind the database
        (a run killed before its export then exports on the next run, even with nothing to read)."""
        if self._pending:
            return
        try:
            (self.out / PENDING).touch()
            _fsync_folder(self.out)
        except OSError as exc:
            raise StoreError(f"cannot write in the dataset folder {self.out}: {exc.strerror}") from exc
        self._pending = True

    @property
    def needs_export(self) -> bool:
        """Whether the Parquet files are behind the database (or there are none yet)."""
        return (self.out / PENDING).exists() or not (self.out / EXPORTS / CURRENT).exists()

    def _release_cache(self) -> None:
        """Give back the blocks DuckDB keeps cached after a commit or an export. It holds them up
        to its memory limit, which must stay large enough for a scan of ``texts`` (one 64 MiB
        buffer to decompress them); lowering the limit for a moment is DuckDB's way to evict, and
        it keeps the writer at its size after the first chunk instead of growing by ~100 MB."""
        import duckdb

        try:
            self.con.execute(f"SET memory_limit = '{CACHE_AFTER_WRITE}'")
        except duckdb.Error:  # more than that is in use right now: nothing to give back
            pass
        finally:
            self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")

    def done(self, pipeline_version: str) -> dict[str, str]:
        """``source -> sha256`` of the files this pipeline version already read successfully."""
        return dict(self.con.execute(
            "SELECT source, sha256 FROM files WHERE pipeline_version = ? "
            "AND status IN ('ok', 'duplicate')", [pipeline_version]).fetchall())

    def write(self, rows: dict[str, list[dict[str, Any]]], errors: list[dict[str, str]] | None = None,
              files: list[dict[str, Any]] | None = None) -> Written:
        """Write the rows of some reports, the ``errors`` rows of files that failed and the
        ``files`` rows of every file attempted, in one transaction.

        ``rows`` maps table names to rows (lists of dicts as from :func:`pipeline.extract.to_rows`,
        or, except for ``reports`` and ``sources``, Arrow tables as in
        :class:`pipeline.batch.Chunk`); every report in ``rows["reports"]`` replaces what the
        dataset had for its ``report_id`` and its source. A report that is another rendering of
        one in the dataset or in this write (:mod:`pipeline.sources`) joins it: only the preferred
        rendering's rows are kept, every file gets a ``sources`` row, and a ``files`` row with
        status ``ok`` whose report is not kept under its name becomes ``duplicate``.
        """
        rows, refused = _validated(rows, files or [], errors or [])
        files, errors = rows.pop("files"), rows.pop("errors") + refused
        reports = rows.get("reports", [])
        sources = rows.get("sources")
        if sources is not None and not isinstance(sources, list):  # an Arrow table
            sources = sources.to_pylist()
        sources = sources or [
            {"report_id": r["report_id"], "source": r["source"], "format": r.get("format"),
             "text_id": r["report_id"], "published": r.get("published")} for r in reports]
        incoming: dict[str, _Candidate] = {}
        for report in sorted(reports, key=lambda r: _Candidate.of(r, False).preference()):
            incoming.setdefault(report["report_id"], _Candidate.of(report, False))
        written = Written(errors=len(errors) - len(refused), refused=len(refused))
        with self._transaction():
            heads: dict[str, tuple[str, float]] = {}
            candidates: dict[str, _Candidate] = {}
            stale: list[str] = []
            if incoming:
                # what these files held before: reports they were the kept file of
                stale = self._ids_to_replace(set(), {s["source"] for s in sources})
                candidates = self._candidates(incoming, set(stale))
                heads = self._match(candidates, rows.get("texts", []))
            inserted = {rid for rid, c in candidates.items() if not c.stored and heads[rid][0] == rid}
            merged = {rid: head for rid, (head, _) in heads.items() if head != rid}
            kept_sources = {candidates[rid].source for rid in heads if rid not in merged}
            new_sources = [self._source_row(s, candidates, heads) for s in sources
                           if s["text_id"] in heads]
            written.reports = len(inserted)
            written.duplicates = sum(1 for s in new_sources if not s["is_primary"])
            gone = sorted(set(stale) | inserted | {rid for rid in merged if candidates[rid].stored})
            if gone:
                for table in REPORT_TABLES:
                    self.con.execute(f"DELETE FROM {table} WHERE report_id IN (SELECT unnest(?))",
                                     [gone])
            for table in REPORT_TABLES:
                self._insert(table, [r for r in reports if r["report_id"] in inserted
                                     and r["source"] == candidates[r["report_id"]].source]
                             if table == "reports" else _only_reports(rows.get(table, []), inserted))
            joined = {s["source"]: s["report_id"] for s in new_sources}
            files = [dict(f, status="duplicate" if f["source"] not in kept_sources else "ok",
                          report_id=joined.get(f["source"], f["report_id"]))
                     if f.get("status") == "ok" else f for f in files]
            attempted = sorted({s["source"] for s in sources} | {e["source"] for e in errors}
                               | {f["source"] for f in files})
            if attempted:
                for table in ("errors", "files", "sources"):
                    wanted = attempted if table != "sources" else sorted({s["source"] for s in sources})
                    present = self.con.execute(
                        f"SELECT count(*) FROM {table} WHERE source IN (SELECT unnest(?))",
                        [wanted]).fetchall()[0][0]
                    if present:
                        self.con.execute(f"DELETE FROM {table} WHERE source IN (SELECT unnest(?))",
                                         [wanted])
            self._insert("errors", list({e["error_id"]: e for e in errors}.values()))
            self._insert("files", files)
            written.duplicates += self._merge_sources(candidates, heads)
            self._insert("sources", new_sources)
            written.orphans = self._drop_orphans(stale)
        return written

    def _candidates(self, incoming: dict[str, "_Candidate"], stale: set[str]) -> dict[str, "_Candidate"]:
        """The texts this write's reports are matched against, by ``report_id``: this write's own
        and the stored reports with one of their ids or their unit, year and kind (except
        ``stale``, the reports being replaced). Of a text stored under another name and written
        again, the preferred source is the candidate."""
        import pyarrow as pa

        keys = {c.key for c in incoming.values() if c.key is not None}
        self.con.register("_keys", pa.table({
            "unit_name": pa.array([k[0] for k in keys], pa.string()),
            "fiscal_year": pa.array([k[1] for k in keys], pa.int64()),
            "report_kind": pa.array([k[2] for k in keys], pa.string())}))
        stored = self.con.execute(
            "SELECT report_id, source, format, ocr, unit_name, fiscal_year, report_kind FROM reports "
            "WHERE (report_id IN (SELECT unnest(?)) OR EXISTS (SELECT 1 FROM _keys k WHERE "
            "k.unit_name = reports.unit_name AND k.fiscal_year = reports.fiscal_year "
            "AND k.report_kind = reports.report_kind)) AND report_id NOT IN (SELECT unnest(?))",
            [sorted(incoming), sorted(stale)]).fetchall()
        self.con.unregister("_keys")
        candidates = dict(incoming)
        names = ("report_id", "source", "format", "ocr", "unit_name", "fiscal_year", "report_kind")
        for row in stored:
            candidate = _Candidate.of(dict(zip(names, row)), stored=True)
            have = candidates.get(candidate.report_id)
            if have is None or candidate.preference() < have.preference():
                candidates[candidate.report_id] = candidate
        return candidates

    def _match(self, candidates: dict[str, "_Candidate"], texts: Any) -> dict[str, tuple[str, float]]:
        """``report_id -> (report_id of the report it is a rendering of, similarity)`` for every
        candidate (itself and 1.0 when it is a report of its own).

        Within each unit, year and kind, candidates are taken in order of preference: each joins
        the most similar report formed so far when that is at least ``NEAR_TEXT``, else forms one.
        Two stored reports are not compared again (they did not match when written). Texts are
        read only for groups with something new to compare."""
        heads = {rid: (rid, 1.0) for rid in candidates}
        groups: dict[tuple[str, int, str], list[_Candidate]] = {}
        for c in candidates.values():
            if c.key is not None:
                groups.setdefault(c.key, []).append(c)
        groups = {k: g for k, g in groups.items() if len(g) > 1 and not all(c.stored for c in g)}
        wanted = {c.report_id for g in groups.values() for c in g}
        if not wanted:
            return heads
        ours = _only_reports(texts, wanted)
        comparable = {r["report_id"]: comparable_text(r["text"] or "")
                      for r in (ours if isinstance(ours, list) else ours.to_pylist())}
        for rid, text in self.con.execute(
                "SELECT report_id, text FROM texts WHERE report_id IN (SELECT unnest(?))",
                [sorted(wanted - set(comparable))]).fetchall():
            comparable[rid] = comparable_text(text or "")
        for group in groups.values():
            formed: list[_Candidate] = []
            for c in sorted(group, key=_Candidate.preference):
                scores = [(similarity(comparable.get(c.report_id, ""),
                                      comparable.get(h.report_id, ""), NEAR_TEXT), h.report_id)
                          for h in formed if not (c.stored and h.stored)]
                best, head = max(scores, default=(0.0, ""))
                if best >= NEAR_TEXT:
                    # to 0.01: a third rendering is compared with the report formed when it came,
                    # which can be another rendering of it on a re-run in another order
                    heads[c.report_id] = (head, round(best, 2))
                else:
                    formed.append(c)
        return heads

    @staticmethod
    def _source_row(row: dict[str, Any], candidates: dict[str, "_Candidate"],
                    heads: dict[str, tuple[str, float]]) -> dict[str, Any]:
        """A ``sources`` row of this write: the report its text belongs to and how it got there."""
        head, score = heads[row["text_id"]]
        primary = candidates[head].source == row["source"]
        matched_by = "self" if primary else "same_text" if row["text_id"] == head else "near_text"
        return dict(row, report_id=head, is_primary=primary, matched_by=matched_by,
                    similarity=1.0 if row["text_id"] == head else score)

    def _merge_sources(self, candidates: dict[str, "_Candidate"],
                       heads: dict[str, tuple[str, float]]) -> int:
        """Point the stored ``sources`` rows of a report merged into another at that one (a file
        whose text is the merged report's gets its similarity to the report it joins), mark which
        file of each report touched is the kept one, and make the ``files`` row of a file no longer
        kept ``duplicate``. Returns how many stored files stopped being a report's kept file."""
        import pyarrow as pa

        merged = [(rid, head, score) for rid, (head, score) in heads.items() if head != rid]
        if not heads:
            return 0
        if merged:
            self.con.register("_merged", pa.table({
                "report_id": pa.array([m[0] for m in merged], pa.string()),
                "head": pa.array([m[1] for m in merged], pa.string()),
                "score": pa.array([m[2] for m in merged], pa.float64())}))
            self.con.execute(
                "UPDATE sources SET report_id = m.head, similarity = CASE WHEN sources.text_id = "
                "m.report_id THEN m.score ELSE sources.similarity END, matched_by = CASE WHEN "
                "sources.text_id = m.report_id THEN 'near_text' ELSE sources.matched_by END "
                "FROM _merged m WHERE sources.report_id = m.report_id")
            self.con.execute("UPDATE files SET report_id = m.head FROM _merged m "
                             "WHERE files.report_id = m.report_id")
            self.con.unregister("_merged")
        kept = {head: candidates[head].source for head, _ in heads.values()}
        self.con.register("_kept", pa.table({"report_id": pa.array(list(kept), pa.string()),
                                             "source": pa.array(list(kept.values()), pa.string())}))
        demoted = [r[0] for r in self.con.execute(
            "SELECT s.source FROM sources s JOIN _kept k USING (report_id) "
            "WHERE s.is_primary AND s.source <> k.source").fetchall()]
        self.con.execute(
            "UPDATE sources SET is_primary = (sources.source = k.source), matched_by = CASE "
            "WHEN sources.source = k.source THEN 'self' WHEN sources.text_id = sources.report_id "
            "THEN 'same_text' ELSE sources.matched_by END FROM _kept k "
            "WHERE sources.report_id = k.report_id")
        self.con.unregister("_kept")
        if demoted:
            self.con.execute("UPDATE files SET status = 'duplicate' WHERE status = 'ok' "
                             "AND source IN (SELECT unnest(?))", [sorted(demoted)])
        return len(demoted)

    def _drop_orphans(self, stale: list[str]) -> list[str]:
        """The files that were other renderings of a replaced report that is not in the dataset
        any more: their ``sources`` and ``files`` rows go, so that they are read again."""
        if not stale:
            return []
        orphans = [r[0] for r in self.con.execute(
            "SELECT source FROM sources WHERE report_id IN (SELECT unnest(?)) "
            "AND report_id NOT IN (SELECT report_id FROM reports) ORDER BY source", [stale]).fetchall()]
        if orphans:
            for table in ("sources", "files"):
                self.con.execute(f"DELETE FROM {table} WHERE source IN (SELECT unnest(?))", [orphans])
        return orphans

    def _ids_to_replace(self, report_ids: set[str], sources: set[str]) -> list[str]:
        """Stored reports with one of these ids, or read from one of these sources."""
        if not report_ids and not sources:
            return []
        return [r[0] for r in self.con.execute(
            "SELECT report_id FROM reports WHERE report_id IN (SELECT unnest(?)) "
            "OR source IN (SELECT unnest(?))", [sorted(report_ids), sorted(sources)]).fetchall()]

    def _insert(self, table: str, rows: Any) -> None:
        """Insert rows (a list of dicts, or an Arrow table with the table's columns)."""
        if len(rows) == 0:
            return
        self.con.register("_rows", arrow_table(table, rows) if isinstance(rows, list) else rows)
        self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        self.con.unregister("_rows")

    def write_fetches(self, rows: list[dict[str, Any]]) -> int:
        """Write a crawl's answers to ``fetches``, one row per URL: each replaces the URL's row,
        keeping what the earlier one knew of a file it no longer gives (a 404 today does not
        forget the hash, ETag and path of what was collected last year). A row a schema refuses
        is an ``errors`` row instead. Returns the rows written."""
        rows = list({(r["portal"], r["url"]): r for r in rows}.values())
        keep = ("sha256", "size", "stored_path", "etag", "last_modified")
        written = 0
        with self._transaction():
            for portal in sorted({r["portal"] for r in rows}):
                these = [r for r in rows if r["portal"] == portal]
                urls = [r["url"] for r in these]
                before = {r[0]: dict(zip(keep, r[1:])) for r in self.con.execute(
                    f"SELECT url, {', '.join(keep)} FROM fetches WHERE portal = ? AND url IN "
                    "(SELECT unnest(?))", [portal, urls]).fetchall()}
                merged = []
                for row in these:
                    old = before.get(row["url"], {})
                    if row.get("stored_path") is None and old.get("stored_path"):
                        row = {**row, **{k: row.get(k) or old[k] for k in keep}}
                    merged.append({c: row.get(c) for c in SCHEMAS["fetches"]})
                valid, refused = _validated({"fetches": merged}, [], [])
                if before:
                    self.con.execute("DELETE FROM fetches WHERE portal = ? AND url IN "
                                     "(SELECT unnest(?))", [portal, urls])
                self._insert("fetches", valid["fetches"])
                self._insert("errors", valid["errors"] + refused)
                written += len(valid["fetches"])
        return written

    def fetches(self, portal: str) -> list[dict[str, Any]]:
        """The ``fetches`` rows of a portal (what a crawl of it already knows)."""
        cursor = self.con.execute("SELECT * FROM fetches WHERE portal = ?", [portal])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def link_pages(self) -> None:
        """Give every report collected from a portal its item page: ``portal``, ``page_url``, and
        the page's ``title``, ``published`` (its date, or the listing's) and ``publisher`` where
        the file itself does not say; a page's relative attachment links are made absolute."""
        from urllib.parse import urljoin

        if not self.con.execute("SELECT count(*) FROM fetches").fetchall()[0][0]:
            return
        with self._transaction():
            self.con.execute(
                "UPDATE reports SET portal = p.portal, page_url = p.item_url, "
                "title = coalesce(reports.title, p.item_title), "
                "published = coalesce(reports.published, p.published, p.item_date), "
                "publisher = coalesce(reports.publisher, p.publisher) "
                "FROM (SELECT stored_path, any_value(portal ORDER BY url) AS portal, "
                "      any_value(item_url ORDER BY url) AS item_url, "
                "      any_value(item_title ORDER BY url) AS item_title, "
                "      any_value(published ORDER BY url) AS published, "
                "      any_value(item_date ORDER BY url) AS item_date, "
                "      any_value(publisher ORDER BY url) AS publisher "
                "      FROM fetches WHERE stored_path IS NOT NULL GROUP BY stored_path) p "
                "WHERE reports.source = p.stored_path")
            pages = self.con.execute(
                "SELECT report_id, attachments, page_url FROM reports WHERE page_url IS NOT NULL "
                "AND attachments IS NOT NULL").fetchall()
            for report_id, attachments, page_url in pages:
                absolute = "\n".join(urljoin(page_url, a) for a in attachments.split("\n"))
                if absolute != attachments:
                    self.con.execute("UPDATE reports SET attachments = ? WHERE report_id = ?",
                                     [absolute, report_id])

    def link_scoring_forms(self) -> None:
        """Link every scoring-form workbook to the report published with it
        (:func:`pipeline.batch.link_scoring_forms`), over the whole dataset."""
        reports = [dict(zip(("report_id", "source", "format", "n_sections", "linked_report_id"), r))
                   for r in self.con.execute("SELECT report_id, source, format, n_sections, "
                                             "linked_report_id FROM reports").fetchall()]
        before = {r["report_id"]: r["linked_report_id"] for r in reports}
        for r in reports:
            r["linked_report_id"] = None
        link_scoring_forms(reports)
        changed = [{"report_id": r["report_id"], "linked_report_id": r["linked_report_id"]}
                   for r in reports if r["linked_report_id"] != before[r["report_id"]]]
        if changed:
            with self._transaction():
                self.con.register("_links", arrow_table("reports", changed))
                self.con.execute("UPDATE reports SET linked_report_id = _links.linked_report_id "
                                 "FROM _links WHERE reports.report_id = _links.report_id")
                self.con.unregister("_links")

    def build_indicator_matrix(self) -> None:
        """Rebuild indicator_matrix: every report, with the score, max_score and actual of each
        canonical indicator (null where the report has none). When a report has two indicators
        with the same canonical id, the first in table order (origin, table, row, offset) is the
        one shown; ``indicators`` keeps both.

        DuckDB picks each report's indicators (one row per canonical id) and the wide rows are
        laid out here: the same pivot as ~400 filtered aggregates costs DuckDB 160-290 MiB that
        it keeps, for any number of reports."""
        import pyarrow as pa

        kinds = {S: pa.string(), I: pa.int64(), F: pa.float64()}
        keys = ", ".join(_quote(c) for c in MATRIX_KEYS)
        reports = self.con.sql(f"SELECT {keys} FROM reports ORDER BY report_id").to_arrow_table()
        row_of = {rid: i for i, rid in enumerate(reports.column("report_id").to_pylist())}
        values: dict[str, dict[int, Any]] = {}
        firsts = self.con.execute(
            f"SELECT report_id, canonical_id, {', '.join(MATRIX_VALUES)} FROM indicators "
            "WHERE canonical_id IS NOT NULL QUALIFY row_number() OVER (PARTITION BY report_id, "
            "canonical_id ORDER BY origin, table_id, row_index, start) = 1")
        while batch := firsts.fetchmany(10_000):
            for rid, cid, *found in batch:
                for value, item in zip(MATRIX_VALUES, found):
                    values.setdefault(f"{cid}_{value}", {})[row_of[rid]] = item
        columns = {c: reports.column(c) for c in MATRIX_KEYS}
        for column, kind in matrix_schema().items():
            if column not in MATRIX_KEYS:
                cells = values.get(column, {})
                columns[column] = (pa.array([cells.get(i) for i in range(len(row_of))], kinds[kind])
                                   if cells else pa.nulls(len(row_of), kinds[kind]))
        self.con.register("matrix_rows", pa.table(columns))
        try:
            with self._transaction():
                self.con.execute(f"DROP TABLE IF EXISTS {MATRIX}")
                self.con.execute(f"CREATE TABLE {MATRIX} AS SELECT * FROM matrix_rows")
        finally:
            self.con.unregister("matrix_rows")

    def counts(self) -> dict[str, int]:
        """Rows in every table."""
        return {t: self.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in [*SCHEMAS, MATRIX] if t in SCHEMAS or self._has(t)}

    def _has(self, table: str) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                                     "table_catalog = 'store' AND table_name = ?",
                                     [table]).fetchall()[0][0])

    def export(self) -> None:
        """Export every table as a new version of the dataset's Parquet files, checked before it
        replaces the current one.

        The version is a new folder in ``.jixiao.parquet/`` with one ``<table>.parquet`` per table,
        sorted by its keys (``texts`` in store order), with the permissions of a normal new file.
        Every table must be there with the database's columns and row count; then the link
        ``.jixiao.parquet/current`` is switched to it in one rename and the previous version is
        removed. ``<table>.parquet`` in the dataset folder is a link to
        ``.jixiao.parquet/current/<table>.parquet``, so a reader opens the whole previous version
        or the whole new one, never some of each. On any failure (a full disk …) the new folder is
        removed, the current version stays, and :class:`StoreError` says why.
        """
        import duckdb
        import pyarrow as pa

        exports = self.out / EXPORTS
        self.build_indicator_matrix()
        version = None
        try:
            exports.mkdir(exist_ok=True)
            self._link_tables(exports)
            self._remove_old_versions(exports)
            version = self._new_version(exports)
            self._write_tables(version)
            self._check_export(version)
            _replace_with_link(version.name, exports / CURRENT)
            _fsync_folder(exports)
        except (OSError, duckdb.Error, pa.ArrowException, StoreError) as exc:
            if version is not None and _current_version(exports) != version.name:
                shutil.rmtree(version, ignore_errors=True)
            raise StoreError(f"cannot export the dataset in {self.out} to Parquet: {_reason(exc)}. The "
                             "previous Parquet files are kept, and the database has every chunk "
                             "written: the next run exports it again") from exc
        with suppress(OSError):  # the export is done; what this leaves, the next one removes
            (self.out / PENDING).unlink(missing_ok=True)
            self._pending = False
            self._remove_old_versions(exports)

    def _table_files(self) -> list[Path]:
        """``<table>.parquet`` of every table, in the dataset folder."""
        return [self.out / f"{table}.parquet" for table in [*SCHEMAS, MATRIX]]

    def _link_tables(self, exports: Path) -> None:
        """Make each ``<table>.parquet`` a link to its file in the current version. Plain files
        (the layout before versions) first become a version of their own, by hard links, so that
        replacing them by links changes nothing a reader sees."""
        if any(path.is_file() and not path.is_symlink() for path in self._table_files()):
            adopted = self._new_version(exports)
            for path in self._table_files():
                if path.exists():
                    os.link(path, adopted / path.name)  # the file a reader opens now
            _fsync_folder(adopted)
            _replace_with_link(adopted.name, exports / CURRENT)
        for path in self._table_files():
            target = f"{EXPORTS}/{CURRENT}/{path.name}"
            if not (path.is_symlink() and os.readlink(path) == target):
                _replace_with_link(target, path)
        _fsync_folder(self.out)

    @staticmethod
    def _new_version(exports: Path) -> Path:
        """A new, empty version folder, numbered after the highest one."""
        numbers = [int(entry.name) for entry in exports.iterdir() if entry.name.isdigit()]
        version = exports / f"{max(numbers, default=0) + 1:06d}"
        version.mkdir()
        return version

    @staticmethod
    def _remove_old_versions(exports: Path) -> None:
        """Remove everything in ``exports`` but the current version: earlier versions, and what
        an export that was stopped left."""
        keep = {CURRENT, _current_version(exports)}
        for entry in exports.iterdir():
            if entry.name in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def _write_tables(self, folder: Path) -> None:
        """Write ``<table>.parquet`` of every table into ``folder``, each on disk (fsync)."""
        umask = os.umask(0)
        os.umask(umask)
        for table in [*SCHEMAS, MATRIX]:
            path = folder / f"{table}.parquet"
            if table == "texts":
                self._export_texts(path)
            else:
                order = ", ".join(f"{_quote(k)} NULLS FIRST" for k in SORT_KEYS.get(table, ["report_id"]))
                self.con.execute(f"COPY (SELECT * FROM {table} ORDER BY {order}) TO {_literal(path)} "
                                 "(FORMAT parquet)")
            self._release_cache()
            os.chmod(path, (stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP
                            | stat.S_IROTH | stat.S_IWOTH) & ~umask)
            _fsync_file(path)
        _fsync_folder(folder)

    def _check_export(self, folder: Path) -> None:
        """Raise :class:`StoreError` unless every table's file in ``folder`` has the columns and
        the row count of the table in the database."""
        import pyarrow.parquet as pq

        for table, rows in self.counts().items():
            path = folder / f"{table}.parquet"
            columns = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]
            meta = pq.read_metadata(path)
            if meta.num_rows != rows or meta.schema.names != columns:
                raise StoreError(f"{path.name} was written with {meta.num_rows} rows and the "
                                 f"columns {meta.schema.names}, the database has {rows} and {columns}")

    def _export_texts(self, path: Path, batch: int = 256) -> None:
        """The texts table (a whole report a row), streamed a few hundred reports at a time in the
        store's order: sorting it, or writing it in DuckDB's row groups, would hold many texts in
        memory at once. (Its rows are looked up by ``report_id``; their order means nothing.)"""
        import pyarrow.parquet as pq

        writer = None
        try:
            for part in self.con.sql("SELECT * FROM texts").to_arrow_reader(batch):
                if writer is None:
                    writer = pq.ParquetWriter(path, part.schema, compression="zstd")
                writer.write_batch(part)
            if writer is None:  # no texts yet: an empty file with the table's columns
                pq.write_table(arrow_table("texts", []), path)
        finally:
            if writer is not None:
                writer.close()


def _validated(rows: dict[str, Any], files: list[dict[str, Any]], errors: list[dict[str, str]]
               ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The rows of every table checked against its schema (:mod:`pipeline.schemas`): the rows
    that pass, with ``files`` and ``errors`` among them, and an ``errors`` row (stage ``schema``)
    for each value refused. A refused row is left out, except in ``reports``, where the value is
    written as null; a report missing a required value is left out with all its rows."""
    from pipeline.schemas import TABLES, validate

    tables = {**rows, "files": files, "errors": errors}
    sources = {r["report_id"]: r["source"] for r in rows.get("reports", [])}
    refused: list[dict[str, str]] = []
    dropped_reports: set[str] = set()
    out: dict[str, Any] = {}
    for table, table_rows in tables.items():
        if table not in TABLES or len(table_rows) == 0:
            out[table] = table_rows
            continue
        is_list = isinstance(table_rows, list)
        df = frame(table, table_rows) if is_list else table_rows.to_pandas().astype(SCHEMAS[table])
        violations = validate(table, df)
        if not violations:
            out[table] = table_rows
            continue
        bad: set[int] = set()
        fixed = [dict(r) for r in table_rows] if table == "reports" else None
        for v in violations:
            record = df.iloc[v.row].to_dict()
            source = record.get("source") or sources.get(record.get("report_id")) or \
                str(record.get("report_id"))
            refused.append(error_row(str(source), "schema", v.message(record)))
            if fixed is not None and v.column and not TABLES[table].columns[v.column].required:
                fixed[v.row][v.column] = None
            else:
                bad.add(v.row)
                if table == "reports":
                    dropped_reports.add(record["report_id"])
        if fixed is not None:
            out[table] = [r for i, r in enumerate(fixed) if i not in bad]
        elif is_list:
            out[table] = [r for i, r in enumerate(table_rows) if i not in bad]
        else:
            import pyarrow as pa

            out[table] = table_rows.filter(pa.array([i not in bad for i in range(len(table_rows))]))
    if dropped_reports:  # their other rows would have no report
        out = {t: (_only_reports(r, set(sources) - dropped_reports)
                   if t in REPORT_TABLES and len(r) else r) for t, r in out.items()}
    return out, refused


def write_dataset(out_dir: str | Path, rows: dict[str, list[dict[str, Any]]],
                  errors: list[dict[str, str]] | None = None) -> dict[str, int]:
    """Write one batch into the dataset in ``out_dir`` and export it; returns every table's row count.

    ``rows`` maps table names to new rows (as produced by :func:`pipeline.extract.to_rows`);
    ``errors`` are ``errors`` rows for the files of this batch that failed.
    """
    with Store(out_dir) as store:
        store.write(rows, errors)
        store.link_scoring_forms()
        store.export()
        return store.counts()
