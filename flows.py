"""Prefect flows of jixiao.

``process_reports`` discovers report files, skips those already read by this pipeline version
(same content hash), sends the rest to workers in chunks (one task run a chunk, named after it) and
writes each chunk into the dataset's store as it finishes, in one transaction: memory does not grow
with the batch, and a run that is killed loses at most the chunks in flight. The work itself is
library code in ``pipeline/``; this module only orchestrates it.

Where the tasks run is the task runner's business (:func:`task_runner`): a local Dask cluster of
one process per core (what ``jixiao run`` uses by default), an existing Dask cluster
(``address``), or one thread in this process (``in_process``; also the flow's own default when it
is called as a plain function or from a deployment).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.batch import (MAX_CHUNK_FILES, Chunk, chunks, discover, error_row, file_digest,
                            pipeline_version, plan_chunks, process_chunk)
from pipeline.bounded import Bounds, die_with_parent
from pipeline.dataset import Store, StoreError
from pipeline.paths import raw_path, source_name
from pipeline.progress import Progress

# Small batches are split so that every worker gets a few chunks (pipeline.batch.plan_chunks
# sizes them by the work they hold)
CHUNKS_PER_WORKER = 4
# Chunks sent ahead per worker: enough to keep workers busy, few enough that finished results do
# not pile up in memory.
IN_FLIGHT_PER_WORKER = 2
FAILED_ARTIFACT_ROWS = 1000
LOGGED_FAILURES = 20


# No cache key to compute and no result to persist: the store is where results go, and a file
# already read is skipped by its content hash before any task is submitted.
class BatchFailed(Exception):
    """Some files of a batch failed (the rest is in the dataset); ``summary`` says which and why.

    What a Failed ``process_reports`` run raises, or holds as its result."""

    def __init__(self, message: str, summary: dict[str, Any]):
        super().__init__(message)
        self.summary = summary

    def __reduce__(self):
        return BatchFailed, (str(self), self.summary)


@task(name="extract-chunk", retries=0, cache_policy=NO_CACHE, persist_result=False)
def extract_chunk(paths: list[str], ocr: bool = True, file_timeout: float | None = None,
                  file_memory: int | None = None) -> Chunk:
    """Extract a chunk of files, each within ``file_timeout`` seconds and ``file_memory`` MiB
    (:class:`pipeline.bounded.Bounds`; bad input comes back as error rows, not exceptions)."""
    return process_chunk(paths, ocr=ocr, bounds=Bounds(seconds=file_timeout, memory_mb=file_memory))


def _runner_workers() -> int:
    """How many tasks the flow's task runner runs at once."""
    from prefect.context import FlowRunContext

    runner = getattr(FlowRunContext.get(), "task_runner", None)
    if hasattr(type(runner), "client"):  # a Dask cluster: its threads, all workers together
        with contextlib.suppress(Exception):
            return max(1, sum(runner.client.nthreads().values()))
    return max(1, getattr(runner, "_max_workers", None) or getattr(runner, "max_workers", None) or 1)


def _file_rows(chunk: Chunk, digests: dict[str, tuple[str, int]], version: str) -> list[dict[str, Any]]:
    """The ``files`` rows of a finished chunk."""
    rows = []
    for source, report_id in chunk.outcomes:
        sha, size = digests[source]
        rows.append({"source": source, "sha256": sha, "size": size, "pipeline_version": version,
                     "report_id": report_id, "status": "ok" if report_id else "failed"})
    return rows


@flow(name="process_reports", log_prints=False, persist_result=False,
      task_runner=ThreadPoolTaskRunner(max_workers=1))
def process_reports(paths: list[str] | None = None, out: str = "data/processed", ocr: bool = True,
                    chunk_size: int | None = None, progress: bool = False,
                    file_timeout: float | None = Bounds.seconds,
                    file_memory: int | None = Bounds.memory_mb) -> Any:
    """Process report files and folders into the dataset in ``out``; returns a summary.

    Defaults: ``data/raw`` in, ``data/processed`` out; ``ocr=False`` leaves scanned PDF pages
    unread (a PDF that is only a scan becomes an ``errors`` row); ``chunk_size`` files go to each
    task (default: chunks sized by the work in them, :func:`pipeline.batch.plan_chunks`);
    ``progress`` shows files done, rate and failures on stderr; each file is read in a worker
    process that is stopped when the file takes over ``file_timeout`` seconds or adds over
    ``file_memory`` MiB (None: no limit; :mod:`pipeline.bounded`). When any file failed the run ends Failed, with the failed files as a table artifact,
    and raises (or, with ``return_state=True``, holds) :class:`BatchFailed` carrying the summary.
    """
    logger = get_run_logger()
    files, discover_errors = discover([raw_path(p) for p in (paths or ["data/raw"])])
    digests = _digests(files, discover_errors)
    version = pipeline_version()
    failures: list[dict[str, str]] = list(discover_errors)
    duplicates = 0
    with Store(out) as store:
        done = store.done(version)
        todo = [s for s in digests if done.get(s) != digests[s][0]]
        workers = _runner_workers()
        batches = (list(chunks(todo, chunk_size)) if chunk_size
                   else plan_chunks(todo, workers, CHUNKS_PER_WORKER))
        logger.info("%d file(s): %d already in %s, %d to read in %d chunk(s) of up to %d on %d worker(s)",
                    len(files), len(files) - len(todo), out, len(todo), len(batches),
                    max(map(len, batches), default=0), workers)
        bar = Progress(len(todo), enabled=progress)
        orphans: list[str] = []
        bounds = {"file_timeout": file_timeout, "file_memory": file_memory}
        for batch, chunk in _extract_in_chunks(batches, ocr, workers * IN_FLIGHT_PER_WORKER, bounds):
            written = store.write(chunk.rows, chunk.errors, _file_rows(chunk, digests, version))
            duplicates += written.duplicates
            orphans += written.orphans
            failures.extend(chunk.errors)
            bar.update(len(batch), failed=len(chunk.errors))
        bar.close()
        # other renderings of a report whose kept file changed: read again, now on their own
        again = sorted(set(orphans) & set(digests))
        if again:
            logger.info("%d file(s) read again: their report's kept file changed", len(again))
        for _, chunk in _extract_in_chunks(list(chunks(again, MAX_CHUNK_FILES)), ocr,
                                           workers * IN_FLIGHT_PER_WORKER, bounds):
            written = store.write(chunk.rows, chunk.errors, _file_rows(chunk, digests, version))
            duplicates += written.duplicates
            failures.extend(chunk.errors)
        if discover_errors:
            store.write({}, discover_errors, [])
        if store.needs_export:  # this run wrote, or an earlier one was stopped before exporting
            store.link_pages()
            store.link_scoring_forms()
            store.export()
        counts = store.counts()
    summary = {"files": len(files), "skipped": len(files) - len(todo), "read": len(todo),
               "processed": len(todo) - (len(failures) - len(discover_errors)),
               "failed": len(failures), "duplicates": duplicates, "tables": counts,
               "out": str(out), "failures": failures}
    for err in failures[:LOGGED_FAILURES]:
        logger.warning("%s: %s (%s)", err["source"], err["message"], err["stage"])
    if len(failures) > LOGGED_FAILURES:
        logger.warning("… and %d more failed file(s): see the errors table", len(failures) - LOGGED_FAILURES)
    if failures:
        _publish_failures(failures)
        message = f"{len(failures)} of {len(files)} file(s) failed"
        return Failed(message=message, data=BatchFailed(message, summary))
    return Completed(message=f"{len(files)} file(s) processed", data=summary)


def _digests(files: list[Path], errors: list[dict[str, str]]) -> dict[str, tuple[str, int]]:
    """``source -> (sha256, size)`` of every readable file; an unreadable one is an error row."""
    digests = {}
    for path in files:
        try:
            digests[source_name(path)] = file_digest(path)
        except OSError as exc:
            errors.append(error_row(source_name(path), "discover",
                                    f"cannot read the file: {exc.strerror}"))
    return digests


def _extract_in_chunks(batches: list[list[str]], ocr: bool, window: int,
                       bounds: dict[str, Any]) -> Iterator[tuple[list[str], Chunk]]:
    """Submit the chunks to the task runner (each file within ``bounds``: the ``file_timeout``
    and ``file_memory`` of :func:`extract_chunk`), at most ``window`` at a time, and yield each
    ``(files, chunk)`` as it finishes. A chunk whose task failed (its worker died, say) yields
    an error row for each of its files instead of ending the run."""
    pending = iter(enumerate(batches, 1))
    in_flight: dict[Any, list[str]] = {}

    def submit_next() -> None:
        for number, batch in pending:
            name = f"chunk {number}/{len(batches)}: {Path(batch[0]).name} ({len(batch)} files)"
            in_flight[extract_chunk.with_options(task_run_name=name).submit(batch, ocr=ocr, **bounds)] = batch
            return

    for _ in range(window):
        submit_next()
    while in_flight:
        future = next(iter(as_completed(list(in_flight))))
        batch = in_flight.pop(future)
        submit_next()
        try:
            chunk = future.result()
        except Exception as exc:  # the task itself failed: nothing of the chunk was read
            message = f"the task reading this file's chunk failed: {type(exc).__name__}: {exc}"
            errors = [error_row(source, "worker", message) for source in batch]
            chunk = Chunk({}, errors, [(source, None) for source in batch])
        del future  # its result is in the store now; do not keep it
        yield batch, chunk


def _publish_failures(failures: list[dict[str, str]]) -> None:
    """The failed files as a table artifact on the flow run (shown in the Prefect UI)."""
    from prefect.artifacts import create_table_artifact

    table = [{"source": e["source"], "stage": e["stage"], "message": e["message"]}
             for e in failures[:FAILED_ARTIFACT_ROWS]]
    more = len(failures) - len(table)
    create_table_artifact(key="failed-files", table=table,
                          description=f"{len(failures)} file(s) failed"
                          + (f" (first {len(table)} shown)" if more > 0 else ""))


def task_runner(workers: int | None = None, address: str | None = None, in_process: bool = False):
    """The task runner for :func:`process_reports`.

    - ``address``: an existing Dask cluster (``tcp://host:8786``); its workers must have jixiao
      installed and reach the Prefect API (run a Prefect server, see the README);
    - ``in_process``: one worker thread in this process;
    - otherwise a local Dask cluster of ``workers`` processes (default: the cores), one thread
      each, so extraction uses every core instead of threads contending for the GIL.
    """
    if in_process:
        return ThreadPoolTaskRunner(max_workers=1)
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    _fork_workers_from_preloaded_server()
    return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                          cluster_kwargs=_local_cluster_kwargs(workers or available_cores()))


def _local_cluster_kwargs(workers: int) -> dict[str, Any]:
    """``workers`` processes of one thread each, no dashboard."""
    return {"n_workers": workers, "threads_per_worker": 1, "processes": True,
            "dashboard_address": None}


def _fork_workers_from_preloaded_server() -> None:
    """Start local Dask workers from a forkserver that has imported :mod:`pipeline.preload`, so
    they share one copy of the extraction models (Dask's default, spawn, loads one per worker)."""
    from multiprocessing import forkserver

    import dask
    from distributed.utils import get_mp_context

    dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})
    context = get_mp_context()  # on first use Dask sets the forkserver's preload list: add ours
    preload = list(forkserver._forkserver._preload_modules)
    if "pipeline.preload" not in preload:
        context.set_forkserver_preload(preload + ["pipeline.preload"])


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _api_answers(url: str, timeout: float = 5) -> str | None:
    """None when the Prefect API at ``url`` answers its health check, else why not."""
    import httpx

    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        return str(exc) or type(exc).__name__
    return None


@contextlib.contextmanager
def prefect_api(startup_timeout: float = 180) -> Iterator[str]:
    """The Prefect API this run reports to: ``PREFECT_API_URL`` when it is set and answers, else a
    temporary local server started here (and stopped on exit, SIGTERM included; on Linux it also
    dies with this process if that is killed). Yields the API URL.

    The URL is put in the environment, so worker processes report to the same server instead of
    each starting their own.
    """
    from prefect.settings import PREFECT_API_URL

    configured = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
    if configured:
        problem = _api_answers(configured)
        if problem is None:
            with _api_url(configured):
                yield configured
            return
        print(f"jixiao: the Prefect API at {configured} does not answer ({problem}); "
              "using a temporary local server instead", file=sys.stderr)
    with _temporary_server(startup_timeout) as url, _api_url(url):
        yield url


# What Prefect's own temporary server runs (prefect.server.api.server.SubprocessASGIServer). It is
# started here rather than through that class because importing prefect.server costs this process
# about 80 MB and 2.5 s that the run never uses, and the class gives no way to add a death signal.
_SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
_PORT_IN_USE = 3  # uvicorn's exit status when it cannot bind


@contextlib.contextmanager
def _temporary_server(startup_timeout: float) -> Iterator[str]:
    """A Prefect API server in a child process on a free local port, for the duration; yields its URL."""
    import socket
    import time

    import prefect
    from prefect.settings import get_current_settings

    env = {**os.environ, **_SERVER_ENV,
           **get_current_settings().to_environment_variables(exclude_unset=True)}
    env.pop("PREFECT_API_URL", None)
    deadline = time.monotonic() + startup_timeout
    process, url = None, ""
    try:
        while process is None:
            with contextlib.closing(socket.socket()) as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            url = f"http://127.0.0.1:{port}/api"
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                 "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "error", "--lifespan", "on"],
                env=env, preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
            while _api_answers(url, timeout=2) is not None:
                status = process.poll()
                if status == _PORT_IN_USE:  # taken between our check and its bind: another port
                    process = None
                    break
                if status is not None:
                    raise RuntimeError(f"the temporary Prefect server exited with status {status}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the temporary Prefect server did not answer within "
                                       f"{startup_timeout:.0f} s")
                time.sleep(0.1)
        yield url
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def _api_url(url: str) -> Iterator[None]:
    """``url`` as the Prefect API of this process and of the processes it starts."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            yield
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


@contextlib.contextmanager
def session(workers: int | None = None, address: str | None = None,
            in_process: bool = False) -> Iterator[Any]:
    """The Prefect API (:func:`prefect_api`) and the task runner (:func:`task_runner`) of one run;
    yields the task runner. A local Dask cluster is started beside the Prefect server, so the
    two start-ups overlap instead of adding up, and it is closed on the way out."""
    if in_process or address:
        with prefect_api():
            yield task_runner(workers=workers, address=address, in_process=in_process)
        return
    from concurrent.futures import ThreadPoolExecutor

    from prefect_dask import DaskTaskRunner

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jixiao-cluster") as pool:
        starting = pool.submit(local_cluster, workers or available_cores())
        try:
            with prefect_api():
                yield DaskTaskRunner(address=starting.result().scheduler_address)
        finally:
            with contextlib.suppress(Exception):  # it failed to start: that error is raised above
                starting.result().close()


def local_cluster(workers: int):
    """A local Dask cluster of ``workers`` processes forked from the preloaded server, one thread
    each (what ``jixiao run`` uses by default)."""
    from distributed import LocalCluster

    _fork_workers_from_preloaded_server()
    return LocalCluster(**_local_cluster_kwargs(workers))


def run(paths: list[str], out: str, ocr: bool = True, workers: int | None = None,
        address: str | None = None, in_process: bool = False, chunk_size: int | None = None,
        progress: bool = False, runner: Any = None,
        bounds: Bounds = Bounds()) -> tuple[bool, dict[str, Any]]:
    """Run :func:`process_reports` on ``runner``, or the task runner :func:`task_runner` chooses,
    each file within ``bounds``; returns (ok, summary)."""
    runner = runner or task_runner(workers=workers, address=address, in_process=in_process)
    state = process_reports.with_options(task_runner=runner)(
        paths=paths, out=out, ocr=ocr, chunk_size=chunk_size, progress=progress,
        file_timeout=bounds.seconds, file_memory=bounds.memory_mb, return_state=True)
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BatchFailed):
        return False, summary.summary
    if isinstance(summary, BaseException):  # the flow itself crashed
        raise summary
    return True, summary


# ---------------------------------------------------------------------------------------------
# Collecting from portals
# ---------------------------------------------------------------------------------------------

class CrawlFailed(Exception):
    """Some portal's crawl failed or some URL could not be collected; ``summary`` says which."""

    def __init__(self, message: str, summary: dict[str, Any]):
        super().__init__(message)
        self.summary = summary

    def __reduce__(self):
        return CrawlFailed, (str(self), self.summary)


@task(name="crawl-portal", retries=0, cache_policy=NO_CACHE, persist_result=False)
def crawl_portal(portal: str, raw: str, out: str, portals_dir: str | None = None,
                 progress: bool = False) -> dict[str, Any]:
    """Crawl one portal (in a process of its own, :func:`pipeline.crawl.crawl`) and write its
    answers to the dataset's ``fetches``; returns the files it stored and its counts."""
    from pipeline import crawl

    with Store(out) as store:  # what the dataset knows of the portal: ETags, hashes, paths
        known = store.fetches(portal)
    result = crawl.crawl(portal, raw, known=known, portals_dir=portals_dir, progress=progress)
    with Store(out) as store:
        store.write_fetches(result.rows)
    crawl.finish(result)
    return {"portal": portal, "finished": result.finished, "stored": result.stored,
            "counts": result.counts(),
            "failed": [{"url": r["url"], "outcome": r["outcome"], "reason": r["reason"]}
                       for r in result.failed]}


@flow(name="scrape_portals", log_prints=False, persist_result=False,
      task_runner=ThreadPoolTaskRunner(max_workers=1))
def scrape_portals(portals: list[str] | None = None, raw: str = "data/raw",
                   out: str = "data/processed", portals_dir: str | None = None, ocr: bool = True,
                   progress: bool = False, file_timeout: float | None = Bounds.seconds,
                   file_memory: int | None = Bounds.memory_mb) -> Any:
    """Collect new reports from government portals (default: every enabled portal of
    ``patterns/portals/``, or of ``portals_dir``) into ``raw``/<portal>/, then process only the
    files that are new or changed into the dataset in ``out``; returns a summary.

    Portals are crawled one after the other, each in a process of its own; a portal whose crawl
    is stopped is resumed by the next run. Any failed URL or file makes the run Failed (the rest
    is collected and processed), with :class:`CrawlFailed` holding the summary."""
    from pipeline import portals as portal_files

    logger = get_run_logger()
    names = [p.name for p in portal_files.load(portals_dir, portals)]
    crawls = []
    for name in names:
        try:
            crawls.append(crawl_portal.with_options(task_run_name=f"crawl {name}")(
                name, raw, out, portals_dir=portals_dir, progress=progress))
        except Exception as exc:  # this portal's crawl could not run: the others still do
            if isinstance(exc, StoreError):
                raise
            logger.error("%s: the crawl failed: %s", name, exc)
            crawls.append({"portal": name, "finished": False, "stored": [], "counts": {},
                           "failed": [{"url": None, "outcome": "failed",
                                       "reason": f"the crawl could not run: {exc}"}]})
            continue
        logger.info("%s: %s", name, crawls[-1]["counts"])
    stored = sorted({path for c in crawls for path in c["stored"]})
    processed: dict[str, Any] = {}
    if stored:
        state = process_reports(paths=stored, out=out, ocr=ocr, progress=progress,
                                file_timeout=file_timeout, file_memory=file_memory,
                                return_state=True)
        processed = state.result(raise_on_failure=False)
        processed = processed.summary if isinstance(processed, BatchFailed) else processed
        if isinstance(processed, BaseException):
            raise processed
    else:
        with Store(out) as store:
            if store.needs_export:
                store.link_pages()
                store.export()
    summary = {"portals": crawls, "stored": stored, "processed": processed,
               "unfinished": [c["portal"] for c in crawls if not c["finished"]]}
    failed = sum(len(c["failed"]) for c in crawls) + (processed.get("failed", 0) if processed else 0)
    if failed or summary["unfinished"]:
        message = (f"{failed} URL(s) or file(s) failed" if failed else "") + \
            (f"; crawl stopped before the end: {', '.join(summary['unfinished'])}"
             if summary["unfinished"] else "")
        return Failed(message=message.strip("; "), data=CrawlFailed(message.strip("; "), summary))
    return Completed(message=f"{len(stored)} new file(s) from {len(names)} portal(s)", data=summary)


def scrape(portals: list[str] | None, raw: str, out: str, portals_dir: str | None = None,
           ocr: bool = True, progress: bool = False, runner: Any = None,
           bounds: Bounds = Bounds()) -> tuple[bool, dict[str, Any]]:
    """Run :func:`scrape_portals` once, the new files processed on ``runner`` (default: in this
    process); returns (ok, summary)."""
    flow_ = scrape_portals
    if runner is not None:
        flow_ = scrape_portals.with_options(task_runner=runner)
    state = flow_(portals=portals, raw=raw, out=out, portals_dir=portals_dir, ocr=ocr,
                  progress=progress, file_timeout=bounds.seconds, file_memory=bounds.memory_mb,
                  return_state=True)
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, CrawlFailed):
        return False, summary.summary
    if isinstance(summary, BaseException):
        raise summary
    return True, summary


WEEKLY = "0 3 * * 1"  # Mondays at 03:00, when county servers are quiet


def scrape_deployment(name: str = "jixiao-portals", cron: str = WEEKLY,
                      portals: list[str] | None = None, raw: str = "data/raw",
                      out: str = "data/processed", portals_dir: str | None = None,
                      timezone: str = "Asia/Shanghai"):
    """The deployment of :func:`scrape_portals` on a cron schedule (default: weekly), with the
    folders made absolute (a scheduled run starts in another working directory)."""
    parameters = {"portals": portals or None, "raw": os.path.abspath(raw),
                  "out": os.path.abspath(out),
                  "portals_dir": os.path.abspath(portals_dir) if portals_dir else None}
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    # one run at a time: a slow crawl still running when the next is due makes that one wait
    return scrape_portals.to_deployment(name=name, schedule=Cron(cron, timezone=timezone),
                                        parameters=parameters, concurrency_limit=1,
                                        entrypoint_type=EntrypointType.MODULE_PATH,
                                        description="Collect new 绩效自评报告 from the portals and "
                                                    "process them into the dataset")

