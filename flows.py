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
import math
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

from pipeline.batch import (Chunk, chunks, discover, error_row, file_digest, pipeline_version,
                            process_chunk)
from pipeline.dataset import Store
from pipeline.progress import Progress

# A chunk's work should dwarf Prefect's cost per task run (tens of milliseconds): 100 text reports
# take about half a second, 100 PDFs a minute. Smaller batches are split finer so every worker
# gets some.
MAX_CHUNK = 100
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
def extract_chunk(paths: list[str], ocr: bool = True) -> Chunk:
    """Extract a chunk of files (bad input comes back as error rows, not exceptions)."""
    return process_chunk(paths, ocr=ocr)


def default_chunk_size(n_files: int, workers: int) -> int:
    """Files per task: at most ``MAX_CHUNK``, and small enough that each worker gets a few chunks.

    >>> default_chunk_size(2000, 2), default_chunk_size(10, 2), default_chunk_size(0, 2)
    (100, 2, 1)
    """
    return max(1, min(MAX_CHUNK, math.ceil(n_files / (workers * CHUNKS_PER_WORKER))))


def _runner_workers() -> int:
    """How many tasks the flow's task runner runs at once."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    runner = getattr(ctx, "task_runner", None)
    client = getattr(runner, "_client", None)
    if client is not None:  # a Dask cluster: its threads, all workers together
        with contextlib.suppress(Exception):
            return max(1, sum(client.nthreads().values()))
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
                    chunk_size: int | None = None, progress: bool = False) -> Any:
    """Process report files and folders into the dataset in ``out``; returns a summary.

    Defaults: ``data/raw`` in, ``data/processed`` out; ``ocr=False`` leaves scanned PDF pages
    unread (a PDF that is only a scan becomes an ``errors`` row); ``chunk_size`` files go to each
    task (default: :func:`default_chunk_size`); ``progress`` shows files done, rate and failures
    on stderr. When any file failed the run ends Failed, with the failed files as a table artifact,
    and raises (or, with ``return_state=True``, holds) :class:`BatchFailed` carrying the summary.
    """
    logger = get_run_logger()
    files, discover_errors = discover([Path(p) for p in (paths or ["data/raw"])])
    digests = _digests(files, discover_errors)
    version = pipeline_version()
    failures: list[dict[str, str]] = list(discover_errors)
    duplicates = 0
    with Store(out) as store:
        done = store.done(version)
        todo = [s for s in digests if done.get(s) != digests[s][0]]
        workers = _runner_workers()
        size = chunk_size or default_chunk_size(len(todo), workers)
        batches = list(chunks(todo, size))
        logger.info("%d file(s): %d already in %s, %d to read in %d chunk(s) of up to %d on %d worker(s)",
                    len(files), len(files) - len(todo), out, len(todo), len(batches), size, workers)
        bar = Progress(len(todo), enabled=progress)
        for batch, chunk in _extract_in_chunks(batches, ocr, workers * IN_FLIGHT_PER_WORKER):
            written = store.write(chunk.rows, chunk.errors, _file_rows(chunk, digests, version))
            duplicates += written.duplicates
            failures.extend(chunk.errors)
            bar.update(len(batch), failed=len(chunk.errors))
        bar.close()
        if discover_errors:
            store.write({}, discover_errors, [])
        if todo or discover_errors or not (Path(out) / "reports.parquet").exists():
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
            digests[str(path)] = file_digest(path)
        except OSError as exc:
            errors.append(error_row(str(path), "discover", f"cannot read the file: {exc.strerror}"))
    return digests


def _extract_in_chunks(batches: list[list[str]], ocr: bool,
                       window: int) -> Iterator[tuple[list[str], Chunk]]:
    """Submit the chunks to the task runner, at most ``window`` at a time, and yield each
    ``(files, chunk)`` as it finishes. A chunk whose task failed (its worker died, say) yields
    an error row for each of its files instead of ending the run."""
    pending = iter(enumerate(batches, 1))
    in_flight: dict[Any, list[str]] = {}

    def submit_next() -> None:
        for number, batch in pending:
            name = f"chunk {number}/{len(batches)}: {Path(batch[0]).name} ({len(batch)} files)"
            in_flight[extract_chunk.with_options(task_run_name=name).submit(batch, ocr=ocr)] = batch
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
    n = workers or available_cores()
    _fork_workers_from_preloaded_server()
    return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                          cluster_kwargs={"n_workers": n, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None})


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


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGTERM to this process when its parent dies (even by SIGKILL)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def prefect_api(startup_timeout: float = 180) -> Iterator[str]:
    """The Prefect API this run reports to: ``PREFECT_API_URL`` when it is set and answers, else a
    temporary local server started here (and stopped on exit, SIGTERM included; on Linux it also
    dies with this process if that is killed). Yields the API URL.

    The URL is put in the environment, so worker processes report to the same server instead of
    each starting their own.
    """
    import httpx
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    configured = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
    if configured:
        try:
            httpx.get(f"{configured.rstrip('/')}/health", timeout=5).raise_for_status()
        except httpx.HTTPError as exc:
            print(f"jixiao: the Prefect API at {configured} does not answer ({exc}); "
                  "using a temporary local server instead", file=sys.stderr)
        else:
            with _api_url(configured):
                yield configured
            return
    server = SubprocessASGIServer()
    popen = subprocess.Popen
    if sys.platform.startswith("linux"):
        # Prefect starts the server with subprocess.Popen; give it a death signal for a kill -9
        subprocess.Popen = lambda *a, **kw: popen(*a, preexec_fn=_die_with_parent, **kw)  # type: ignore[misc]
    try:
        server.start(timeout=int(startup_timeout))
    finally:
        subprocess.Popen = popen  # type: ignore[misc]
    try:
        with _api_url(server.api_url):
            yield server.api_url
    finally:
        server.stop()


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


def run(paths: list[str], out: str, ocr: bool = True, workers: int | None = None,
        address: str | None = None, in_process: bool = False, chunk_size: int | None = None,
        progress: bool = False) -> tuple[bool, dict[str, Any]]:
    """Run :func:`process_reports` on the chosen task runner; returns (ok, summary)."""
    runner = task_runner(workers=workers, address=address, in_process=in_process)
    state = process_reports.with_options(task_runner=runner)(
        paths=paths, out=out, ocr=ocr, chunk_size=chunk_size, progress=progress, return_state=True)
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BatchFailed):
        return False, summary.summary
    if isinstance(summary, BaseException):  # the flow itself crashed
        raise summary
    return True, summary
