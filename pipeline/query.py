"""``jixiao sql``: one read-only query on a dataset, safe to run on data nobody chose.

The dataset's DuckDB file is opened read-only with DuckDB's own guards on, then locked:

* ``enable_external_access = false``: no file outside the database is read or written
  (``read_text('/etc/shadow')``, ``glob('~/*')``, ``COPY … TO``, ``EXPORT DATABASE``, ``ATTACH``),
  and no extension is installed or loaded from disk or the network;
* extension auto-install and auto-load off, ``lock_configuration = true`` (a query cannot ``SET``
  them back), a memory limit and a thread count;
* exactly one statement, and it must be a query (``SELECT``, ``WITH``, ``FROM``, ``SHOW``,
  ``DESCRIBE``, ``SUMMARIZE``, ``EXPLAIN``); anything else is refused with a clear message;
* a time limit (the query is interrupted).

Values are printed as an aligned table (CJK characters count two columns), as CSV or as JSON. On
the table and on a terminal, control and bidirectional-override characters are shown escaped
(``\\x1b``, ``\\u202e``), so a value cannot move the cursor or reverse the line it is printed on;
JSON escapes them as JSON does (``\\u202e``), which reads back as the same string.
"""
from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

MEMORY_LIMIT = "2GB"
THREADS = 2
ALLOWED = ("SELECT", "EXPLAIN")
MAX_CELL = 60          # display columns of a table cell before it is cut with …
FETCH = 1000           # rows fetched at a time
# Characters that act on the terminal or reorder the line: C0/C1 controls, DEL, and the Unicode
# bidirectional controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM).
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


class QueryError(ValueError):
    """A query refused or failed (a message a person can act on)."""


def connect(db: Path) -> Any:
    """The dataset's database, read-only and locked down (see the module docstring)."""
    import duckdb

    if not db.is_file():
        raise QueryError(f"no dataset in {db.parent}: run `jixiao run --out {db.parent}` first")
    try:
        return duckdb.connect(str(db), read_only=True, config={
            "enable_external_access": False, "autoinstall_known_extensions": False,
            "autoload_known_extensions": False, "allow_community_extensions": False,
            "memory_limit": MEMORY_LIMIT, "threads": THREADS, "lock_configuration": True})
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():  # a jixiao run has it open for writing
            raise QueryError(f"{db} is being written (by a jixiao run, or another program): query "
                             f"it when that ends; the Parquet files in {db.parent} can be read "
                             "meanwhile") from exc
        raise QueryError(f"cannot open {db}: {exc}") from exc


def check_statement(con: Any, query: str) -> None:
    """Refuse anything but exactly one query.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> check_statement(con, "SELECT 1")
    >>> check_statement(con, "SELECT 1; SELECT 2")
    Traceback (most recent call last):
    ...
    pipeline.query.QueryError: one statement at a time (this has 2)
    >>> check_statement(con, "COPY (SELECT 1) TO 'x.csv'")
    Traceback (most recent call last):
    ...
    pipeline.query.QueryError: only queries are run (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN): this is a COPY statement
    """
    import duckdb

    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {exc}") from exc
    if len(statements) != 1:
        raise QueryError("no statement" if not statements
                         else f"one statement at a time (this has {len(statements)})")
    kind = statements[0].type.name
    if kind not in ALLOWED:
        raise QueryError("only queries are run (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, "
                         f"EXPLAIN): this is a {kind} statement")


def run(con: Any, query: str, timeout: float) -> tuple[list[str], Iterator[tuple]]:
    """The column names and the rows (fetched lazily) of one checked query, interrupted after
    ``timeout`` seconds."""
    import duckdb

    check_statement(con, query)
    timer = threading.Timer(timeout, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        result = con.execute(query)
        columns = [d[0] for d in result.description or []]
    except duckdb.InterruptException as exc:
        raise QueryError(f"the query ran longer than {timeout:g} s and was stopped") from exc
    except duckdb.Error as exc:
        timer.cancel()
        raise QueryError(f"SQL error: {exc}") from exc

    def rows() -> Iterator[tuple]:
        try:
            while batch := result.fetchmany(FETCH):
                yield from batch
        except duckdb.InterruptException as exc:
            raise QueryError(f"the query ran longer than {timeout:g} s and was stopped") from exc
        except duckdb.Error as exc:
            raise QueryError(f"SQL error: {exc}") from exc
        finally:
            timer.cancel()
    return columns, rows()


def escape(text: str) -> str:
    """Control and bidirectional-control characters as visible escapes.

    >>> escape("a\\x1b[2Jb\\u202ec\\td")
    'a\\\\x1b[2Jb\\\\u202ec\\\\td'
    >>> escape("预算执行率 98%")
    '预算执行率 98%'
    """
    if text.isprintable() and not _BIDI.intersection(text):
        return text
    out = []
    for ch in text:
        if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii") if ord(ch) < 0x10000
                       else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def width(text: str) -> int:
    """Columns a string takes on a terminal: wide and full-width characters take two.

    >>> width("abc"), width("渠县宝城镇"), width("ｱ")
    (3, 10, 1)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.10g}"
    return escape(str(value))


def _cut(text: str, limit: int) -> str:
    if width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def write_table(columns: Sequence[str], rows: Iterator[tuple], out: TextIO, max_rows: int) -> int:
    """An aligned table of at most ``max_rows`` rows; returns how many rows were left out.

    >>> buf = io.StringIO()
    >>> write_table(["county", "n"], iter([("渠县", 1), ("璧山区", 12)]), buf, 10)
    0
    >>> print(buf.getvalue(), end="")
    county  n
    ------  --
    渠县    1
    璧山区  12
    """
    shown, more = [], 0
    for row in rows:
        if len(shown) < max_rows:
            shown.append([_cut(_cell(v), MAX_CELL) for v in row])
        else:
            more += 1
    heads = [_cut(escape(c), MAX_CELL) for c in columns]
    widths = [max([width(h)] + [width(r[i]) for r in shown]) for i, h in enumerate(heads)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths)).rstrip()

    out.write(line(heads) + "\n")
    out.write(line(["-" * w for w in widths]) + "\n")
    for r in shown:
        out.write(line(r) + "\n")
    return more


def _plain(value: Any) -> Any:
    """A value JSON can hold."""
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time, decimal.Decimal)):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def write_json(columns: Sequence[str], rows: Iterator[tuple], out: TextIO) -> None:
    """One JSON object per row, one per line (JSON Lines); every character is kept, controls
    and bidi controls as JSON escapes.

    >>> buf = io.StringIO()
    >>> write_json(["t"], iter([("渠县\\u202e",)]), buf)
    >>> buf.getvalue()
    '{"t": "渠县\\\\u202e"}\\n'
    """
    for row in rows:
        text = json.dumps({c: _plain(v) for c, v in zip(columns, row)}, ensure_ascii=False,
                          default=str)
        out.write("".join(f"\\u{ord(ch):04x}" if ch in _BIDI else ch for ch in text) + "\n")


def write_csv(columns: Sequence[str], rows: Iterator[tuple], out: TextIO, terminal: bool) -> None:
    """CSV with a header; on a terminal, controls shown escaped (to a file or pipe, as they are)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = ["" if v is None else str(_plain(v)) for v in row]
        writer.writerow([escape(c) for c in cells] if terminal else cells)
