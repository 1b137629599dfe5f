"""The ``jixiao`` command line: a thin click layer over the library.

Library errors become messages and exit codes here and nowhere else. Prefect is imported only by
``jixiao run``; ``jixiao extract`` and ``jixiao evaluate`` never load it, so they start fast.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pipeline.batch import FileResult

DEFAULT_RAW = "data/raw"
DEFAULT_OUT = "data/processed"
# pipeline.bounded.Bounds' defaults, here so that --help does not import the pipeline
DEFAULT_FILE_TIMEOUT = 300
DEFAULT_FILE_MEMORY = 1536


def _bounds_options(command):
    """The ``--file-timeout`` and ``--file-memory`` options of a command that reads files."""
    command = click.option(
        "--file-memory", type=click.IntRange(min=0), default=DEFAULT_FILE_MEMORY, show_default=True,
        metavar="MIB", help="Stop reading a file that adds more than this memory to its worker "
        "process (0: no limit); it becomes an errors row with exceeded_limit = 'memory'.")(command)
    return click.option(
        "--file-timeout", type=click.FloatRange(min=0), default=DEFAULT_FILE_TIMEOUT,
        show_default=True, metavar="SECONDS", help="Stop reading a file after this long (0: no "
        "limit); it becomes an errors row with exceeded_limit = 'time'.")(command)


def _bounds(file_timeout: float, file_memory: int):
    """The :class:`pipeline.bounded.Bounds` of the options (0 lifts a limit)."""
    from pipeline.bounded import Bounds

    return Bounds(seconds=file_timeout or None, memory_mb=file_memory or None)


class DatasetNotWritten(click.ClickException):
    """The dataset could not be written: ``jixiao run`` exits 3 (1 means files failed)."""

    exit_code = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jixiao")
def main() -> None:
    """jixiao (绩效): Chinese government performance self-evaluation reports into a tidy dataset.

    \b
    Typical use:
      jixiao run                       # data/raw -> data/processed (DuckDB + Parquet)
      jixiao extract report.txt        # one JSON line per report, no Prefect
      jixiao evaluate --gold tests/data/gold --docs tests/data/seeds
      jixiao sql "SELECT unit_name, total_score FROM reports"
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Dataset folder: jixiao.duckdb and one Parquet file per table.")
@click.option("--ocr/--no-ocr", default=True, show_default=True,
              help="Read scanned PDF pages with OCR (RapidOCR, ~1-3 s a page on one core).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes of the local Dask cluster  [default: the cores]")
@click.option("--dask", "address", metavar="ADDRESS", default=None,
              help="Run on an existing Dask cluster (tcp://host:8786) instead of a local one.")
@click.option("--in-process", is_flag=True,
              help="No cluster: one worker thread in this process (debugging, tiny batches).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None,
              help="Files per task  [default: about 2 s of work each (at most 150; e.g. 66 PDFs, 1 .doc), fewer so that each worker gets several]")
@_bounds_options
@click.option("--quiet", "-q", is_flag=True, help="No progress, only the summary.")
def run(paths: tuple[Path, ...], out_dir: Path, ocr: bool, workers: int | None,
        address: str | None, in_process: bool, chunk_size: int | None, file_timeout: float,
        file_memory: int, quiet: bool) -> None:
    """Process report files or folders (default: data/raw) with the Prefect flow.

    Reads .txt (any encoding), .docx, .doc/.wps/.et (through LibreOffice), .pdf (scans with OCR),
    .xlsx/.xls and .html pages; a folder mixing them gives one dataset.

    \b
    Files go to workers in chunks and each finished chunk is written to OUT's
    store in one transaction, so memory stays flat and a run that is stopped
    keeps what it finished: run it again and it reads only what is missing.
    A file already read (same content, same jixiao version) is not read again.
    Re-running replaces a report's rows; reports from earlier runs are kept.

    \b
    Each file is read in a worker process of its own that is stopped when the
    file goes over --file-timeout or --file-memory: one hostile file costs the
    batch at most those, and becomes an errors row saying which limit it hit.

    \b
    One writer at a time: a second run on the same OUT stops at once, naming
    the process that writes (the Parquet files can be read meanwhile, the
    database once the run ends). OUT is checked before anything is read (writable, room for a
    new Parquet export). The Parquet files are replaced all at once, after they
    are checked against the database: a run that is killed, or fills the disk,
    leaves the previous ones.

    \b
    Prefect: reports to PREFECT_API_URL when it is set (a long-lived server:
    `jixiao server`), else to a temporary local server for the run.

    Exit status: 0 when every file was read, 1 when any failed (the errors table
    says why), 2 for bad arguments (a path that does not exist), 3 when the
    dataset could not be written (OUT not writable, a full disk, another run
    writing it): what earlier runs and chunks wrote is kept.
    """
    # Arrow's own allocator keeps what it freed; the system's gives it back (flat memory per chunk)
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if address and (workers or in_process):
        raise click.UsageError("--dask runs on an existing cluster: it takes no --workers or --in-process")
    if workers and in_process:
        raise click.UsageError("--in-process runs one worker: it takes no --workers")
    from pipeline.dataset import Store, StoreError

    try:  # a dataset that cannot be written fails now, not after the extraction
        Store(out_dir).close()
    except StoreError as exc:
        raise DatasetNotWritten(str(exc)) from exc
    _quiet_prefect()
    import flows

    from pipeline.paths import source_name

    inputs = [source_name(p) for p in paths] or [DEFAULT_RAW]  # printable: a flow parameter
    if not paths and not Path(DEFAULT_RAW).exists():
        raise click.UsageError(f"no PATHS given and no {DEFAULT_RAW} folder here")
    where = address or ("this process" if in_process else
                        f"{workers or flows.available_cores()} local worker process(es)")
    click.echo(f"jixiao: {', '.join(inputs)} -> {out_dir} on {where} (starting Prefect)…", err=True)
    with _until_stopped():
        with flows.session(workers=workers, address=address, in_process=in_process) as runner:
            ok, summary = flows.run(inputs, str(out_dir), ocr=ocr, runner=runner,
                                    chunk_size=chunk_size, progress=not quiet,
                                    bounds=_bounds(file_timeout, file_memory))
    tables = summary["tables"]
    click.echo(f"{summary['files']} file(s): {summary['read']} read, {summary['skipped']} unchanged "
               f"since an earlier run, {summary['failed']} failed; dataset in {out_dir}")
    click.echo("  " + ", ".join(f"{name} {count}" for name, count in tables.items()))
    if summary["failed"]:
        for err in summary["failures"][:10]:
            click.echo(f"  failed: {err['source']}: {err['message']} ({err['stage']})", err=True)
        click.echo("  see the errors table for what failed and why "
                   f"(jixiao sql --out {out_dir} \"SELECT * FROM errors\")", err=True)
    sys.exit(0 if ok else 1)


def _quiet_prefect() -> None:
    """Prefect's settings for a command-line run: warnings only, no telemetry, and time for the
    temporary server's first database migration on a fresh machine."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DASK_DISTRIBUTED__LOGGING__DISTRIBUTED", "warning")


_stopped_said = False


def _say_stopped(signum: int) -> None:
    import signal

    global _stopped_said
    if _stopped_said:
        return
    _stopped_said = True
    click.echo(f"jixiao: stopped by {signal.Signals(signum).name}; the chunks written so far are kept: "
               "run the same command again to complete the dataset", err=True)


def _termination_signal(exc: BaseException) -> int | None:
    """The signal number if ``exc`` is, or was raised while handling, Prefect's SIGTERM exception
    (during a flow run Prefect turns SIGTERM into ``TerminationSignal``, which can surface wrapped
    in whatever was running when it arrived)."""
    from prefect.exceptions import TerminationSignal

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, TerminationSignal):
            return exc.signal
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


class _Stops:
    """Which termination signal reached this process, whoever handled it: Python writes every
    signal's number to the wakeup file descriptor, even when Prefect's own handler (installed
    for the flow run) is the one that ran."""

    def __init__(self, read_fd: int):
        self._read_fd = read_fd

    def received(self) -> int | None:
        import signal

        try:
            seen = os.read(self._read_fd, 512)
        except BlockingIOError:
            return None
        for number in seen:
            if number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                return number
        return None


@contextlib.contextmanager
def _until_stopped():
    """The body of a run: a signal ends it like Ctrl-C (exit 128 + the signal, saying what is
    kept), and a dataset that cannot be written (a full disk, a run that took the lock after our
    check) exits 3."""
    from pipeline.dataset import StoreError

    with _stop_on_sigterm() as stops:
        try:
            yield
        except StoreError as exc:
            raise DatasetNotWritten(str(exc)) from exc
        except BaseException as exc:
            stopped_by = stops.received() or _termination_signal(exc)
            if stopped_by is None:
                raise
            _say_stopped(stopped_by)
            raise SystemExit(128 + stopped_by) from exc


@contextlib.contextmanager
def _stop_on_sigterm():
    """SIGTERM (and SIGHUP) end the run like Ctrl-C: the cleanup that stops the worker cluster and
    the temporary Prefect server runs, instead of the process vanishing and leaving them behind.
    Yields a :class:`_Stops` that says whether one arrived."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        _say_stopped(signum)
        raise SystemExit(128 + signum)

    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield _Stops(read_fd)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(read_fd)
        os.close(write_fd)


def _portal_options(command):
    """The options of a command that collects from portals."""
    for option in reversed([
        click.option("--portal", "portal_names", multiple=True, metavar="NAME",
                     help="A portal to collect from (repeat for several)  [default: every enabled "
                     "portal]"),
        click.option("--portals", "portals_dir", default=None,
                     type=click.Path(file_okay=False, exists=True, path_type=Path),
                     help="Folder of portal files  [default: the packaged patterns/portals]"),
        click.option("--raw", "raw_dir", default=DEFAULT_RAW, show_default=True,
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Where collected files go (<raw>/<portal>/…; crawl state in "
                     "<raw>/.crawl/)."),
        click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
                     type=click.Path(file_okay=False, path_type=Path), help="Dataset folder."),
    ]):
        command = option(command)
    return command


def _checked_portals(portals_dir: Path | None, names: tuple[str, ...]) -> list[str]:
    from pipeline.portals import PortalError, load

    try:
        portals = load(portals_dir, list(names) or None)
    except PortalError as exc:
        raise click.ClickException("the portal files have mistakes (jixiao portals check):\n"
                                   + "\n".join(f"  {p}" for p in exc.problems)) from exc
    if not portals:
        raise click.ClickException(f"no enabled portal in {portals_dir or 'patterns/portals'}: "
                                   "add one (see the README, 'Collecting from portals')")
    return [p.name for p in portals]


@main.command()
@_portal_options
@click.option("--ocr/--no-ocr", default=True, show_default=True,
              help="Read scanned PDF pages with OCR.")
@_bounds_options
@click.option("--quiet", "-q", is_flag=True, help="No progress, only the summary.")
def scrape(portal_names: tuple[str, ...], portals_dir: Path | None, raw_dir: Path, out_dir: Path,
           ocr: bool, file_timeout: float, file_memory: int, quiet: bool) -> None:
    """Collect new reports from government portals once, and process them into the dataset.

    \b
    Each portal (patterns/portals/<name>.yaml) is crawled politely: robots.txt
    obeyed, one request at a time per host with the portal's delay between two
    (default 1 s), retries with backoff on timeouts and 5xx (never on 4xx), a size
    cap per file. A file collected before is asked for with its ETag /
    Last-Modified and kept only if its content changed; only new or changed files
    are processed. Every answer is a row of the fetches table (its outcome, and
    why a URL failed).

    \b
    A crawl that is stopped (Ctrl-C, SIGTERM, or killed) is resumed by the next
    run: the two collect what one would have, each file once.

    Exit status: 0 when everything was collected and read, 1 when a URL or file
    failed (the fetches and errors tables say why) or a crawl was stopped, 2 for
    bad arguments or portal files with mistakes, 3 when the dataset could not be written.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    names = _checked_portals(portals_dir, portal_names)
    from pipeline.dataset import Store, StoreError

    try:
        Store(out_dir).close()
    except StoreError as exc:
        raise DatasetNotWritten(str(exc)) from exc
    _quiet_prefect()
    import flows

    click.echo(f"jixiao: collecting from {', '.join(names)} into {raw_dir}, dataset {out_dir} "
               "(starting Prefect)…", err=True)
    with _until_stopped(), flows.prefect_api():
        ok, summary = flows.scrape(names, str(raw_dir), str(out_dir),
                                   portals_dir=str(portals_dir) if portals_dir else None,
                                   ocr=ocr, progress=not quiet,
                                   bounds=_bounds(file_timeout, file_memory))
    for crawl in summary["portals"]:
        counts = ", ".join(f"{k} {v}" for k, v in crawl["counts"].items()) or "nothing"
        click.echo(f"{crawl['portal']}: {counts}" + ("" if crawl["finished"] else
                                                      " (stopped before the end: run again)"))
        for failure in crawl["failed"][:10]:
            where = f"{failure['url']}: " if failure["url"] else ""
            click.echo(f"  {failure['outcome']}: {where}{failure['reason']}", err=True)
    processed = summary["processed"]
    click.echo(f"{len(summary['stored'])} new or changed file(s)"
               + (f": {processed['processed']} read, {processed['failed']} failed"
                  if processed else "") + f"; dataset in {out_dir}")
    sys.exit(0 if ok else 1)


@main.command()
@_portal_options
@click.option("--cron", default="0 3 * * 1", show_default=True,
              help="When to collect, as a cron line (default: Mondays at 03:00).")
@click.option("--timezone", default="Asia/Shanghai", show_default=True,
              help="The time zone of --cron.")
@click.option("--name", default="jixiao-portals", show_default=True, help="The deployment's name.")
def serve(portal_names: tuple[str, ...], portals_dir: Path | None, raw_dir: Path, out_dir: Path,
          cron: str, timezone: str, name: str) -> None:
    """Register the scheduled collection with Prefect and keep serving it.

    \b
    Registers the deployment scrape_portals/NAME on the --cron schedule, then runs
    each scheduled run here (a collection, then the processing of what is new),
    until stopped with Ctrl-C. It needs a long-lived Prefect server:
      jixiao server &                                   # or any Prefect server
      export PREFECT_API_URL=http://127.0.0.1:4200/api
      jixiao serve --portal my-county
    A run can also be started at once: prefect deployment run scrape_portals/NAME
    """
    names = _checked_portals(portals_dir, portal_names)
    _quiet_prefect()
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron, timezone=timezone)
    except ValueError as exc:  # pydantic's ValidationError is one
        raise click.BadParameter(f"not a cron line and time zone: {cron!r}, {timezone!r}",
                                 param_hint="--cron") from exc
    os.environ["PREFECT_LOGGING_LEVEL"] = os.environ.get("JIXIAO_SERVE_LOG_LEVEL", "INFO")
    from prefect.settings import PREFECT_API_URL

    if not (os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()):
        raise click.ClickException("jixiao serve needs a long-lived Prefect server: start one "
                                   "(jixiao server) and set PREFECT_API_URL")
    import flows
    from prefect import serve as prefect_serve

    deployment = flows.scrape_deployment(name=name, cron=cron, timezone=timezone,
                                         portals=list(portal_names) or None, raw=str(raw_dir),
                                         out=str(out_dir),
                                         portals_dir=str(portals_dir) if portals_dir else None)
    click.echo(f"jixiao: serving scrape_portals/{name} ({cron}, {timezone}) for "
               f"{', '.join(names)}; Ctrl-C stops", err=True)
    prefect_serve(deployment, print_starting_message=False)


@main.group()
def portals() -> None:
    """The portals jixiao collects from (patterns/portals/)."""


@portals.command("check")
@click.option("--portals", "portals_dir", default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder of portal files  [default: the packaged patterns/portals]")
def portals_check(portals_dir: Path | None) -> None:
    """Validate every portal file, its family and the defaults: one line per mistake."""
    from pipeline.portals import check

    found, problems = check(portals_dir)
    for problem in problems:
        click.echo(problem, err=True)
    for portal in found:
        state = "" if portal.enabled else " (disabled)"
        click.echo(f"ok  {portal.name}: {portal.title}, family {portal.family.name}, "
                   f"{len(portal.start_urls)} start URL(s){state}")
    if problems:
        click.echo(f"{len(problems)} mistake(s)", err=True)
        sys.exit(1)
    if not found:
        click.echo("no portal files yet (see the README, 'Collecting from portals')", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4200, show_default=True, type=int, help="Port to listen on.")
def server(host: str, port: int) -> None:
    """Run a long-lived Prefect server (UI and API) for jixiao runs and deployments.

    \b
    In another terminal, point runs at it:
      export PREFECT_API_URL=http://127.0.0.1:4200/api
      jixiao run reports/
    Runs then skip starting a temporary server, and their history stays in the UI.
    """
    click.echo(f"export PREFECT_API_URL=http://{host}:{port}/api   # in the shell that runs jixiao",
               err=True)
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect) if prefect.exists() else "prefect", "server", "start",
               "--host", host, "--port", str(port)]
    os.execvp(command[0], command)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--indent", type=int, default=None, help="Pretty-print with this indent (default: one line).")
@click.option("--ocr/--no-ocr", default=True, show_default=True,
              help="Read scanned PDF pages with OCR.")
@_bounds_options
def extract(files: tuple[Path, ...], indent: int | None, ocr: bool, file_timeout: float,
            file_memory: int) -> None:
    """Print each report's extraction as one JSON line (no Prefect, no dataset written).

    A file that cannot be read prints {"source": …, "error": …, "stage": …} (and
    "exceeded_limit" when it went over one) and the exit code is 1.
    """
    from pipeline.bounded import Sandbox
    from pipeline.batch import warm

    warm()  # loaded once here, and shared by every worker forked to read a file
    failed = 0
    with Sandbox(_bounds(file_timeout, file_memory)) as box:
        for path in files:
            record = _record(box.process(path, ocr=ocr))
            failed += "error" in record
            click.echo(json.dumps(record, ensure_ascii=False, indent=indent, default=str))
    sys.exit(1 if failed else 0)


def _record(result: "FileResult") -> dict[str, object]:
    """What ``jixiao extract`` prints of a :class:`pipeline.batch.FileResult`."""
    if result.error:
        record: dict[str, object] = {"source": result.source, "error": result.error["message"],
                                     "stage": result.error["stage"]}
        if result.error.get("exceeded_limit"):
            record["exceeded_limit"] = result.error["exceeded_limit"]
        return record
    record = {table: rows for table, rows in result.rows.items() if table != "texts"}
    record["report"] = record.pop("reports")[0]
    return record


@main.command()
@click.option("--gold", "gold_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of <stem>.json annotations (gold/FORMAT.md).")
@click.option("--docs", "docs_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder holding the annotated documents (<stem>.txt …).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the summary and problems to this JSON file.")
@click.option("--quiet", is_flag=True, help="Only the per-kind lines and the SCORE line.")
@click.option("--by-value", is_flag=True,
              help="Match amounts/percentages by value and headings by title, ignoring offsets: "
                   "for docx/pdf/html renderings of the annotated reports (as score.py --by-value).")
@click.option("--present-only", is_flag=True,
              help="Score only the annotated reports that DOCS holds (not a missing one as all-missed).")
@click.option("--verbose", "-v", is_flag=True,
              help="Under each miss that has an offset, the text around it (the span in 【】).")
def evaluate(gold_dir: Path, docs_dir: Path, json_out: Path | None, quiet: bool, by_value: bool,
             present_only: bool, verbose: bool) -> None:
    """Score the pipeline against gold annotations: precision/recall/F1 per kind and what was missed."""
    from pipeline.evaluate import GoldError, evaluate as run_evaluation, format_report

    try:
        ev = run_evaluation(gold_dir, docs_dir, by_value=by_value, present_only=present_only)
    except GoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(format_report(ev, verbose=not quiet, context=verbose))
    if json_out:
        json_out.write_text(json.dumps({"summary": ev.summary(), "problems": ev.problems},
                                       ensure_ascii=False, indent=1), encoding="utf-8")


@main.command()
@click.argument("query")
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Dataset folder.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (every row) instead of a table.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per row (JSON Lines, every row) instead of a table.")
@click.option("--max-rows", type=click.IntRange(min=1), default=200, show_default=True,
              help="Rows the table shows (--csv and --json print all).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=120.0,
              show_default=True, help="Seconds before the query is stopped.")
def sql(query: str, out_dir: Path, as_csv: bool, as_json: bool, max_rows: int,
        timeout: float) -> None:
    """Run one read-only SQL QUERY on the dataset's DuckDB database.

    Tables: reports, sections, amounts, percentages, indicators, facts, checks, texts, sources,
    errors, files, fetches (what jixiao scrape asked portals for), indicator_matrix (one row
    per report, <canonical_id>_score / _max_score / _actual); SCHEMA.md documents every column.

    Only one query runs (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN): no statement
    that writes, no file outside the database read or written (COPY, EXPORT, ATTACH, read_text,
    glob …), no extension installed, no setting changed. Control characters in values are shown
    escaped on the table (and in CSV on a terminal).
    """
    from pipeline.query import QueryError, connect, run, write_csv, write_json, write_table

    if as_csv and as_json:
        raise click.UsageError("choose --csv or --json, not both")
    try:
        con = connect(out_dir / "jixiao.duckdb")
        try:
            columns, rows = run(con, query, timeout)
            if as_json:
                write_json(columns, rows, sys.stdout)
            elif as_csv:
                write_csv(columns, rows, sys.stdout, terminal=sys.stdout.isatty())
            else:
                more = write_table(columns, rows, sys.stdout, max_rows)
                if more:
                    click.echo(f"… {more} more row(s): raise --max-rows, or use --csv or --json",
                               err=True)
        finally:
            con.close()
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Dataset folder.")
@click.option("--unmatched", is_flag=True,
              help="Only the names the taxonomy does not place, with the nearest indicator.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def indicators(out_dir: Path, unmatched: bool, as_csv: bool) -> None:
    """The dataset's printed indicator names, how many reports print each, and their canonical
    indicator in patterns/indicator_taxonomy.yaml.

    Names are matched against the taxonomy as it is now, so an alias just added shows at once
    (the dataset's own canonical_id columns change on the next `jixiao run`). With --unmatched,
    the names to add to the taxonomy, most frequent first; `nearest` is the closest indicator
    that ends with the same measure and its score (below the threshold, or none).
    """
    from extractors.canonical import match, nearest
    from pipeline.dataset import read_table

    if not (out_dir / "indicators.parquet").exists():
        raise click.ClickException(f"no dataset in {out_dir}: run `jixiao run --out {out_dir}` first")
    names = read_table(out_dir, "indicators").groupby("name")["report_id"].nunique()
    rows = []
    for name, reports in names.sort_values(ascending=False, kind="stable").items():
        found = match(name)
        if unmatched and found is not None:
            continue
        near = None if found is not None else nearest(name)
        rows.append({"name": name, "reports": reports,
                     "canonical_id": found and found.canonical_id,
                     "canonical_name": found and found.canonical_name,
                     "match_score": found and found.match_score,
                     "nearest": near and f"{near[0].canonical_id} ({near[1]:g})"})
    if as_csv:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=["name", "reports", "canonical_id",
                                                        "canonical_name", "match_score", "nearest"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    if not rows:
        click.echo("every indicator name is in the taxonomy" if unmatched else "no indicators")
        return
    for r in rows:
        place = (f"{r['canonical_id']} {r['canonical_name']} ({r['match_score']:g})"
                 if r["canonical_id"] else f"unmatched; nearest: {r['nearest'] or 'none'}")
        click.echo(f"{r['reports']:>5}  {r['name']}  → {place}")
    if unmatched:
        click.echo(f"{len(rows)} unmatched name(s): add them to patterns/indicator_taxonomy.yaml "
                   "as aliases or new indicators", err=True)


if __name__ == "__main__":
    main()
