#!/usr/bin/env python3
"""Benchmark: how fast and how much memory, per way of running jixiao, on one text corpus.

    python3 dev.py bench                                   # after bench_extract.py and bench_readers.py
    .venv/bin/python bench/bench_run.py                    # 2000 reports, peaks for 200 as well
    .venv/bin/python bench/bench_run.py --reports 500 --also-small 0 --modes floor,extract,inproc

One corpus of ``--reports`` distinct text reports (``bench/corpus.py``: copies of the seeds, each
with a line of its own) is run five ways, each in a fresh process tree:

  a. ``floor``   read every file and run one regex over it (a process pinned to one core);
  b. ``extract`` ``pipeline.batch.process_file`` over every file (pinned to one core, no Prefect,
                 nothing written): what one core of extraction is worth;
  c. ``inproc``  ``jixiao run --in-process --quiet`` (the installed .venv/bin/jixiao);
  d. ``dask1``   ``jixiao run --workers 1 --quiet`` (a local Dask cluster of one worker process);
  e. ``dask2``   ``jixiao run --workers 2 --quiet``.

c-e get a fresh ``--out`` and ``PREFECT_HOME`` (so a temporary Prefect server with a new
database, as on a first run) and are not pinned: the flow process, the Prefect server and the Dask
workers share the machine's cores. For each: wall seconds, reports/s, the peak over time of the
summed PSS and of the summed RSS of the process and all its descendants (psutil, sampled every
``--interval`` s by a thread of this process: PSS shares a page between the processes mapping it,
RSS counts it in every one, so summed RSS overstates a tree of forked workers), the peak PSS of
each kind of process (the command, the Prefect server, the workers), and CPU seconds of the tree
(the larger of ``wait4``'s rusage and the sampler's last CPU time of each process).

Prefect's start-up is paid once per run, not per report, so c-e are shown twice: the whole
command, and its flow run (Running to Completed by the timestamps in the run's Prefect database:
Dask cluster start, discovery and hashing, the chunks, the writes and the Parquet export; not the
imports, the server's start or the shutdown). The start-up is also measured alone (a process that
imports ``flows``, enters :func:`flows.prefect_api` with a fresh ``PREFECT_HOME`` and leaves it,
``--startup-rounds`` times), and ``--task-runs`` empty task runs go through a temporary server:
what a task run costs the flow, and how many per second the server records.

Then: the datasets of c, d and e are compared table by table (same rows, order-insensitive, and
same order), their row counts against what extraction alone produced, a second ``--in-process``
run over the unchanged corpus must read nothing (the content-hash cache), and the single writer
is timed: the rows of c's dataset are written again into a fresh store, ``--store-chunk`` reports
per :meth:`pipeline.dataset.Store.write` (what the flow does per chunk), ``--store-copies`` times
over (renamed copies with texts of their own, to see whether a write slows as the store grows),
then :meth:`Store.export` (the Parquet files) is timed. Anything wrong (an exit code, a count, a
dataset that differs) is listed under PROBLEMS and the exit code is 1.

Every child imports jixiao from a copy of ``pipeline``, ``extractors``, ``flows.py`` and
``patterns`` taken when the bench starts (``PYTHONPATH``, ahead of the editable install), so an
edit to the checkout while the bench runs cannot mix code versions or defeat the cache check;
``--live`` measures the checkout as it is instead.

The machine is shared: a busy neighbour slows every wall figure, so the load average before and
after is printed; CPU seconds are the steadier figure. Temporary corpora and datasets are deleted
at the end (``--keep DIR`` keeps them there instead). The default run takes about 4-5 minutes
on 2 cores and never starts more than 2 Dask workers.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
PYTHON = Path(sys.executable)
JIXIAO = ROOT / ".venv" / "bin" / "jixiao"
MODES = ("floor", "extract", "extract2", "inproc", "dask1", "dask2")
WORKERS = {"floor": 1, "extract": 1, "extract2": 2, "inproc": 1, "dask1": 1, "dask2": 2}
LABELS = {"floor": "a. floor: read + 1 regex (1 core)",
          "extract": "b. extraction alone (1 core)",
          "extract2": "b2. extraction alone ×2, one per core",
          "inproc": "c. jixiao run --in-process",
          "dask1": "d. jixiao run --workers 1",
          "dask2": "e. jixiao run --workers 2"}
JIXIAO_ARGS = {"inproc": ["--in-process"], "dask1": ["--workers", "1"], "dask2": ["--workers", "2"]}
# set by the bench for its children when it measures a snapshot of the code (--snapshot)
CODE_ENV = "JIXIAO_BENCH_CODE"
# one regex for the floor: a money amount, the commonest fact
FLOOR_PATTERN = r"\d+(?:\.\d+)?\s*[万亿]?元"
MIB = 2 ** 20


# --------------------------------------------------------------------------------------------
# Measuring a process tree
# --------------------------------------------------------------------------------------------

def process_kind(proc: Any, root_pid: int) -> str:
    """Which part of a run a process is: the command itself (``main``), the Prefect server, a
    worker process (multiprocessing / Dask), or something else it started."""
    if proc.pid == root_pid:
        return "main"
    try:
        cmdline = " ".join(proc.cmdline())
    except Exception:
        return "other"
    if "uvicorn" in cmdline or "prefect.server" in cmdline:
        return "server"
    if "resource_tracker" in cmdline:
        return "other"
    if "multiprocessing" in cmdline or "distributed" in cmdline:
        return "worker"
    return "other"


class TreeSampler(threading.Thread):
    """Samples the summed PSS and RSS of a process and all its descendants every ``interval``
    seconds until :meth:`stop`. Keeps the peaks of the sums, the peak of each kind of process
    (:func:`process_kind`), how many processes the tree had, and each process's last CPU time
    (so the tree's CPU seconds count processes nobody waited for)."""

    def __init__(self, pid: int, interval: float):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = 0
        self.peak_by_kind: dict[str, int] = {}
        self.max_procs = 0
        self.samples = 0
        self.cpu: dict[int, float] = {}
        self._kinds: dict[int, str] = {}
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._done.is_set():
            try:
                tree = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            pss = rss = alive = 0
            by_kind: dict[str, int] = {}
            for proc in tree:
                try:
                    info = proc.memory_full_info()
                    times = proc.cpu_times()
                    if proc.pid not in self._kinds:
                        self._kinds[proc.pid] = process_kind(proc, self.pid)
                except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                    continue
                kind = self._kinds[proc.pid]
                pss += info.pss
                rss += info.rss
                by_kind[kind] = by_kind.get(kind, 0) + info.pss
                self.cpu[proc.pid] = times.user + times.system
                alive += 1
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            for kind, value in by_kind.items():
                self.peak_by_kind[kind] = max(self.peak_by_kind.get(kind, 0), value)
            self.max_procs = max(self.max_procs, alive)
            self.samples += 1
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


@dataclass
class Measured:
    """One process tree's run: its exit code, output, wall and CPU seconds, memory peaks."""

    command: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_pss_mib: float
    peak_rss_mib: float
    max_procs: int
    samples: int
    peak_pss_by_kind_mib: dict[str, float]
    sampled_cpu_s: float
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)


def measure(command: list[str], env: dict[str, str] | None = None, interval: float = 0.15,
            cwd: Path = ROOT) -> Measured:
    """Run ``command`` (its own session, so the whole tree can be stopped on Ctrl-C) and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd,
                                start_new_session=True)
        sampler = TreeSampler(proc.pid, interval)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            sampler.stop()
            raise
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        with contextlib.suppress(ProcessLookupError, PermissionError):  # anything the command left behind in its session
            os.killpg(proc.pid, signal.SIGTERM)
        out.seek(0)
        err.seek(0)
        return Measured(command, proc.returncode, wall, usage.ru_utime + usage.ru_stime,
                        sampler.peak_pss / MIB, sampler.peak_rss / MIB, sampler.max_procs,
                        sampler.samples, {k: v / MIB for k, v in sampler.peak_by_kind.items()},
                        sum(sampler.cpu.values()), out.read().decode("utf-8", "replace"),
                        err.read().decode("utf-8", "replace"))


def _last_json(m: Measured) -> dict[str, Any]:
    if m.returncode != 0:
        raise SystemExit(f"{' '.join(m.command)} failed ({m.returncode}):\n{m.stderr[-3000:]}")
    return json.loads(m.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# The children (this file run with --child …)
# --------------------------------------------------------------------------------------------

def code_root() -> Path:
    """Where the children import jixiao from: the bench's snapshot, else this checkout."""
    return Path(os.environ.get(CODE_ENV) or ROOT)


def _use_code() -> None:
    """Import jixiao from :func:`code_root` (before the editable install's finder)."""
    sys.path.insert(0, str(code_root()))
    import pipeline

    if not Path(pipeline.__file__).resolve().is_relative_to(code_root().resolve()):
        raise SystemExit(f"pipeline was imported from {pipeline.__file__}, not from {code_root()}")


def _pin(core: int | None = None) -> None:
    """Run on the first core this process may use, or on core number ``core`` of them."""
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[core]})
        return
    sys.path.insert(0, str(BENCH))
    from bench_extract import pin_to_one_core

    pin_to_one_core()


def child_floor(corpus: Path) -> dict[str, Any]:
    """Read every file of ``corpus`` and count one regex's matches: the cost of touching the data."""
    _pin()
    pattern = re.compile(FLOOR_PATTERN)
    t0 = time.perf_counter()
    files = sorted(p for p in corpus.iterdir() if p.is_file())
    matches = chars = 0
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        chars += len(text)
        matches += sum(1 for _ in pattern.finditer(text))
    return {"reports": len(files), "seconds": time.perf_counter() - t0, "matches": matches,
            "chars": chars}


def child_extract(corpus: Path, part: int | None = None, parts: int = 1) -> dict[str, Any]:
    """``process_file`` over every file after the shared models are loaded; rows per table.

    With ``part``: only every ``parts``-th file from number ``part`` on, pinned to core ``part``
    (b2 runs ``parts`` of these side by side)."""
    _pin(part)
    _use_code()
    t_import = time.perf_counter()
    from pipeline.batch import discover, process_file, warm

    warm()
    warm_s = time.perf_counter() - t_import
    files, _ = discover([corpus])
    if part is not None:
        files = files[part::parts]
    rows: dict[str, int] = {}
    failed = 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    for path in files:
        result = process_file(path)
        if result.error:
            failed += 1
        for table, table_rows in result.rows.items():
            rows[table] = rows.get(table, 0) + len(table_rows)
    return {"reports": len(files), "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - cpu0, "import_and_warm_s": warm_s,
            "failed": failed, "rows": rows}


def child_startup() -> dict[str, Any]:
    """Time Prefect's start-up as ``jixiao run`` pays it: import ``flows`` (with the CLI's Prefect
    settings), enter :func:`flows.prefect_api` with no ``PREFECT_API_URL`` (a temporary server),
    leave it."""
    _use_code()
    t0 = time.perf_counter()
    from pipeline.cli import _quiet_prefect

    _quiet_prefect()
    import flows

    t1 = time.perf_counter()
    api = flows.prefect_api()
    api.__enter__()
    t2 = time.perf_counter()
    api.__exit__(None, None, None)
    t3 = time.perf_counter()
    return {"import_s": t1 - t0, "server_start_s": t2 - t1, "server_stop_s": t3 - t2,
            "startup_s": t3 - t0}


def child_task_runs(task_runs: int) -> dict[str, Any]:
    """``task_runs`` empty task runs of one flow (4 threads) through a temporary Prefect server:
    what a task run costs the flow (its wall time, less a flow of 2 tasks) and how fast the
    server records them (until its database holds every one as COMPLETED: Prefect 3 sends task
    run states as events, which the server writes after the flow has moved on)."""
    _use_code()
    from pipeline.cli import _quiet_prefect

    _quiet_prefect()
    import flows
    from prefect import flow, task
    from prefect.settings import PREFECT_HOME
    from prefect.task_runners import ThreadPoolTaskRunner

    @task
    def noop(i: int) -> int:
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
    def many(n: int) -> int:
        return sum(f.result() for f in [noop.submit(i) for i in range(n)])

    def recorded(flow_run_id: str) -> int:
        con = sqlite3.connect(f"file:{Path(PREFECT_HOME.value()) / 'prefect.db'}?mode=ro", uri=True)
        try:
            return con.execute("SELECT count(*) FROM task_run WHERE flow_run_id IN (?, ?) AND "
                               "state_type = 'COMPLETED'",
                               [flow_run_id, flow_run_id.replace("-", "")]).fetchone()[0]
        finally:
            con.close()

    with flows.prefect_api():
        many(2)  # warm-up: the client's first connection
        t = time.perf_counter()
        many(2)  # a flow run's own cost, to subtract
        small_s = time.perf_counter() - t
        t = time.perf_counter()
        state = many(task_runs, return_state=True)
        seconds = time.perf_counter() - t
        flow_run_id = str(state.state_details.flow_run_id)
        seen = 0
        while time.perf_counter() - t < 300:
            seen = recorded(flow_run_id)
            if seen >= task_runs:
                break
            time.sleep(0.1)
        recorded_s = time.perf_counter() - t
    return {"task_runs": task_runs, "seconds": seconds, "flow_of_2_s": small_s,
            "per_task_run_s": (seconds - small_s) / max(1, task_runs - 2),
            "recorded": seen, "recorded_s": recorded_s}


def child_store(dataset: Path, out: Path, chunk: int, copies: int) -> dict[str, Any]:
    """Write the rows of ``dataset`` (an exported jixiao dataset) into a new store in ``out``,
    ``chunk`` reports per :meth:`Store.write`, ``copies`` times over (each copy with renamed
    report ids and sources), then time the scoring-form links and the Parquet export."""
    _pin()
    _use_code()
    import pyarrow.parquet as pq

    from pipeline.dataset import REPORT_TABLES, SCHEMAS, Store

    by_report: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for table in REPORT_TABLES:
        for row in pq.read_table(dataset / f"{table}.parquet").to_pylist():
            by_report.setdefault(row["report_id"], {}).setdefault(table, []).append(row)
    files = {r["report_id"]: r for r in pq.read_table(dataset / "files.parquet").to_pylist()}
    order = sorted(by_report, key=lambda rid: by_report[rid]["reports"][0]["source"])
    writes: list[dict[str, float]] = []
    with Store(out) as store:
        for copy in range(copies):
            def renamed(row: dict[str, Any], table: str) -> dict[str, Any]:
                if not copy:
                    return row
                new = dict(row, report_id=f"{row['report_id']}~{copy}")
                if new.get("source"):
                    new["source"] = f"{new['source']}~{copy}"
                if table == "texts":  # a text of its own, or compression would fold the copies
                    new["text"] = f"{new['text']}\n~{copy}"
                return new

            for start in range(0, len(order), chunk):
                ids = order[start:start + chunk]
                rows: dict[str, list[dict[str, Any]]] = {}
                for rid in ids:
                    for table, table_rows in by_report[rid].items():
                        rows.setdefault(table, []).extend(renamed(r, table) for r in table_rows)
                file_rows = [renamed(files[rid], "files") for rid in ids if rid in files]
                n_rows = sum(len(v) for v in rows.values())
                t = time.perf_counter()
                store.write(rows, [], file_rows)
                writes.append({"reports": len(ids), "rows": n_rows, "seconds": time.perf_counter() - t})
        t = time.perf_counter()
        store.link_scoring_forms()
        link_s = time.perf_counter() - t
        t = time.perf_counter()
        store.export()
        export_s = time.perf_counter() - t
        counts = store.counts()
    sizes = {t: (out / f"{t}.parquet").stat().st_size for t in SCHEMAS}
    seconds = [w["seconds"] for w in writes]
    tenth = max(1, len(seconds) // 10)
    return {"reports": sum(w["reports"] for w in writes), "rows": sum(w["rows"] for w in writes),
            "writes": len(writes), "chunk": chunk, "write_s": sum(seconds),
            "median_write_s": statistics.median(seconds),
            "first_tenth_mean_s": statistics.mean(seconds[:tenth]),
            "last_tenth_mean_s": statistics.mean(seconds[-tenth:]),
            "link_s": link_s, "export_s": export_s, "counts": counts,
            "parquet_mib": sum(sizes.values()) / MIB,
            "duckdb_mib": (out / "jixiao.duckdb").stat().st_size / MIB}


# --------------------------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------------------------

def _child(*args: str) -> list[str]:
    return [str(PYTHON), str(Path(__file__).resolve()), "--child", *args]


def child_env() -> dict[str, str]:
    """This process's environment, plus the snapshot's import path when there is one."""
    env = dict(os.environ)
    snapshot = os.environ.get(CODE_ENV)
    if snapshot:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (snapshot, env.get("PYTHONPATH")) if p)
    return env


def prefect_env(home: Path) -> dict[str, str]:
    """The environment of a ``jixiao run`` that starts its own temporary Prefect server, with its
    database in ``home``."""
    env = {k: v for k, v in child_env().items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    return env


def take_snapshot(work: Path) -> Path:
    """Copy the code that reads reports (``pipeline``, ``extractors``, ``flows.py`` and the pattern
    files, as the package ``jixiao_patterns``) into ``work/code``: every mode then measures the same
    code even if the checkout is edited while the bench runs (and the cache sees one version)."""
    code = work / "code"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pipeline", "extractors"):
        shutil.copytree(ROOT / name, code / name, ignore=ignore)
    shutil.copytree(ROOT / "patterns", code / "jixiao_patterns", ignore=ignore)
    shutil.copy2(ROOT / "flows.py", code / "flows.py")
    return code


def child_version() -> dict[str, str]:
    """The pipeline version of the code the children import."""
    _use_code()
    import pipeline
    from pipeline.batch import pipeline_version

    return {"version": pipeline_version(), "pipeline": str(Path(pipeline.__file__).parent)}


def flow_run_times(home: Path) -> dict[str, Any]:
    """The flow run's and the task runs' times from the Prefect database in ``home``."""
    db = home / "prefect.db"
    if not db.exists():
        return {}

    def ts(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        flows = con.execute("SELECT state_type, start_time, end_time FROM flow_run").fetchall()
        tasks = con.execute("SELECT state_type, start_time, end_time FROM task_run").fetchall()
    finally:
        con.close()
    out: dict[str, Any] = {"flow_runs": len(flows), "task_runs": len(tasks),
                           "task_states": sorted({t[0] for t in tasks if t[0]})}
    spans = [(ts(b), ts(e)) for _, b, e in tasks if b and e]
    if spans:
        out["task_run_mean_s"] = statistics.mean((e - b).total_seconds() for b, e in spans)  # type: ignore[operator]
    if flows and flows[0][1] and flows[0][2]:
        start, end = ts(flows[0][1]), ts(flows[0][2])
        out["flow_state"] = flows[0][0]
        out["flow_run_s"] = (end - start).total_seconds()  # type: ignore[operator]
        if spans:
            out["lead_s"] = (min(b for b, _ in spans) - start).total_seconds()  # type: ignore[operator]
            out["tail_s"] = (end - max(e for _, e in spans)).total_seconds()  # type: ignore[operator]
    return out


def parse_summary(stdout: str) -> dict[str, int]:
    """The counts in ``jixiao run``'s summary line."""
    m = re.search(r"(\d+) file\(s\): (\d+) read, (\d+) unchanged since an earlier run, (\d+) failed",
                  stdout)
    if not m:
        return {}
    return dict(zip(("files", "read", "unchanged", "failed"), map(int, m.groups())))


def run_jixiao(mode: str, corpus: Path, work: Path, interval: float, out: Path | None = None,
               home: Path | None = None) -> dict[str, Any]:
    """``jixiao run`` in ``mode`` over ``corpus``, measured; a fresh out and PREFECT_HOME unless given."""
    out = out or work / f"out-{mode}-{corpus.name}"
    home = home or work / f"prefect-{mode}-{corpus.name}"
    cmd = [str(JIXIAO), "run", str(corpus), "--out", str(out), "--quiet", *JIXIAO_ARGS[mode]]
    m = measure(cmd, env=prefect_env(home), interval=interval)
    return {"measured": m, "summary": parse_summary(m.stdout), "prefect": flow_run_times(home),
            "out": out}


def compare_datasets(outs: dict[str, Path]) -> list[str]:
    """Lines saying, table by table, whether the datasets in ``outs`` hold the same rows
    (order-insensitive: EXCEPT ALL both ways) and in the same order."""
    import duckdb
    import pyarrow.parquet as pq

    _use_code()
    from pipeline.dataset import SCHEMAS

    names = list(outs)
    ref = names[0]
    lines = []
    con = duckdb.connect()
    all_same = True
    for table in SCHEMAS:
        paths = {n: outs[n] / f"{table}.parquet" for n in names}
        if not all(p.exists() for p in paths.values()):
            lines.append(f"  {table:12s} MISSING in {', '.join(n for n, p in paths.items() if not p.exists())}")
            all_same = False
            continue
        counts = {n: con.execute(f"SELECT count(*) FROM read_parquet('{p}')").fetchone()[0]
                  for n, p in paths.items()}
        verdicts = []
        for other in names[1:]:
            a, b = paths[ref], paths[other]
            diff = sum(con.execute(f"SELECT count(*) FROM (SELECT * FROM read_parquet('{x}') EXCEPT ALL "
                                   f"SELECT * FROM read_parquet('{y}'))").fetchone()[0]
                       for x, y in ((a, b), (b, a)))
            ordered = pq.read_table(a).equals(pq.read_table(b))
            same = diff == 0 and counts[ref] == counts[other]
            all_same &= same
            columns = "" if same else " in " + ", ".join(
                c for c in SCHEMAS[table] if con.execute(
                    f'SELECT count(*) FROM (SELECT "{c}" FROM read_parquet(\'{a}\') EXCEPT ALL '
                    f'SELECT "{c}" FROM read_parquet(\'{b}\'))').fetchone()[0])
            verdicts.append(f"{other}: {'same rows' if same else f'{diff} rows differ{columns}'}"
                            f"{', same order' if ordered else ', other order'}")
        lines.append(f"  {table:12s} {' / '.join(f'{counts[n]}' for n in names):>20s} rows   "
                     + "; ".join(verdicts))
    lines.insert(0, f"datasets of {', '.join(names)} (rows {' / '.join(names)}; compared with {ref}): "
                 + ("IDENTICAL" if all_same else "DIFFERENT"))
    versions = {n: versions_in(outs[n]) for n in names}
    if len(set().union(*versions.values())) == 1:
        lines.append(f"  (every run read the files with pipeline version {next(iter(versions[ref]))})")
    else:
        lines.append("  (the pipeline version differs between the runs: "
                     + "; ".join(f"{n} {', '.join(sorted(v))}" for n, v in versions.items())
                     + ": the code was edited while the bench ran, so the files table differs)")
    return lines


def versions_in(out: Path) -> set[str]:
    """The pipeline versions in a dataset's ``files`` table."""
    import pyarrow.parquet as pq

    path = out / "files.parquet"
    return set(pq.read_table(path, columns=["pipeline_version"]).column(0).to_pylist()) if path.exists() else set()


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0],
            "load": os.getloadavg(), "date": datetime.now().astimezone().isoformat(timespec="seconds")}


def table(results: dict[str, dict[str, Any]], small: dict[str, dict[str, Any]]) -> list[str]:
    """The table: one row per measured span; two for each ``jixiao run`` mode (the whole command,
    and its flow run by Prefect's timestamps, i.e. without Prefect's start-up)."""
    def rate(key: str) -> float | None:
        r = results.get(key)
        return r["reports"] / r["seconds"] if r and r["seconds"] > 0 else None

    floor_rate, extract_rate = rate("floor"), rate("extract")
    small_n = next(iter(small.values()))["reports"] if small else None
    head = (f"{'mode':44s} {'reports':>7s} {'seconds':>8s} {'reports/s':>10s} {'×floor':>7s} "
            f"{'×extract':>8s} {'×(extract·w)':>12s} {'PSS MiB':>8s} {'RSS MiB':>8s} {'CPU s':>7s}"
            + (f" {f'PSS MiB@{small_n}':>12s}" if small else ""))
    lines = [head, "-" * len(head)]
    for key, r in results.items():
        if r["mode"] in JIXIAO_ARGS:
            rows = [(LABELS[r["mode"]] + ", whole command", r["seconds"])]
            flow_s = (r.get("prefect") or {}).get("flow_run_s")
            if flow_s:
                rows.append(("   … its flow run (no Prefect start-up)", flow_s))
        else:
            rows = [(LABELS[r["mode"]] + " (loop)", r["seconds"])]
        for n, (label, seconds) in enumerate(rows):
            per_s = r["reports"] / seconds if seconds > 0 else float("nan")
            w = WORKERS[r["mode"]]
            cells = [f"{label:44s}", f"{r['reports']:7d}", f"{seconds:8.2f}", f"{per_s:10.1f}",
                     f"{per_s / floor_rate:7.3f}" if floor_rate else f"{'':7s}",
                     f"{per_s / extract_rate:8.2f}" if extract_rate else f"{'':8s}",
                     f"{per_s / (extract_rate * w):12.2f}" if extract_rate and w > 1 else f"{'':12s}"]
            if n == 0:
                cells += [f"{r['peak_pss_mib']:8.0f}", f"{r['peak_rss_mib']:8.0f}", f"{r['cpu_s']:7.1f}"]
                if small:
                    s = small.get(key)
                    cells.append(f"{s['peak_pss_mib']:12.0f}" if s else f"{'':12s}")
            lines.append(" ".join(cells).rstrip())
    return lines


def notes(results: dict[str, dict[str, Any]], small: dict[str, dict[str, Any]],
          startup: dict[str, Any] | None) -> list[str]:
    """The lines under the table: what each column means, where each jixiao run's time went, and
    Prefect's start-up and task-run rate measured alone."""
    lines: list[str] = []
    lines.append("seconds: a, b: the loop in the process (after imports; b after loading the "
                 "models); c-e: the whole command, then its flow run (Running to Completed by the "
                 "run's Prefect database: task runner start, discovery, chunks, writes, export).")
    lines.append("×floor, ×extract: reports/s over that mode's; ×(extract·w): over extraction "
                 "alone times the workers (parallel efficiency). PSS/RSS: peak of the sum over "
                 "the process tree; CPU s: the tree's user+system time (the larger of wait4's and "
                 "the sampler's per-process sum).")
    for key, r in results.items():
        if "inner" in r and r["mode"] == "extract":
            i = r["inner"]
            lines.append(f"b. extraction alone: CPU {i['cpu_seconds']:.2f} s = "
                         f"{i['reports'] / i['cpu_seconds']:.1f} reports/s by CPU time; imports and "
                         f"models {i['import_and_warm_s']:.2f} s; process wall {r['wall_s']:.2f} s")
        if "inner" in r and r["mode"] == "extract2":
            halves = r["inner"]["halves"]
            lines.append("b2. two extraction loops at once, one per core, half the corpus each: "
                         + ", ".join(f"{h['reports']} in {h['seconds']:.2f} s" for h in halves)
                         + ": the most any two workers can do on this machine, before any "
                         "orchestration or writing")
        if r["mode"] in JIXIAO_ARGS:
            p = r.get("prefect", {})
            less = (f"; command minus the start-up measured alone {r['seconds'] - startup['startup_s']:.2f} s"
                    if startup else "")
            lines.append(f"{LABELS[r['mode']][:2]} flow run {p.get('flow_run_s', float('nan')):.2f} s: "
                         f"{p.get('lead_s', float('nan')):.2f} s to its first task (task runner start, "
                         f"discovery, hashing), {p.get('task_runs', '?')} task runs of mean "
                         f"{p.get('task_run_mean_s', float('nan')):.2f} s, {p.get('tail_s', float('nan')):.2f} s "
                         f"after the last (write, export){less}; {r['max_procs']} processes at most")
            kinds = r["peak_pss_by_kind_mib"]
            at_small = small.get(key, {}).get("peak_pss_by_kind_mib", {})
            lines.append("   peak PSS by process: " + ", ".join(
                f"{kind} {kinds[kind]:.0f}" + (f" ({at_small[kind]:.0f} @{small[key]['reports']})"
                                               if kind in at_small else "")
                for kind in ("main", "server", "worker", "other") if kind in kinds) + " MiB")
    if startup:
        lines.append(f"Prefect start-up, measured alone (fresh PREFECT_HOME, median of "
                     f"{len(startup['rounds'])}: {', '.join(f'{x:.1f}' for x in startup['rounds'])} s): "
                     f"import flows {startup['import_s']:.2f} s + temporary server start "
                     f"{startup['server_start_s']:.2f} s + stop {startup['server_stop_s']:.2f} s = "
                     f"{startup['startup_s']:.2f} s; that process tree's peak PSS "
                     f"{startup['peak_pss_mib']:.0f} MiB")
        api = startup.get("api")
        if api:
            lines.append(f"Prefect API: a flow of {api['task_runs']} empty task runs (4 threads) "
                         f"{api['seconds']:.2f} s, a flow of 2 {api['flow_of_2_s']:.2f} s: "
                         f"{api['per_task_run_s'] * 1000:.1f} ms a task run in the flow; the temporary "
                         f"server had recorded {api['recorded']} as COMPLETED after {api['recorded_s']:.1f} s "
                         f"= {api['recorded'] / api['recorded_s']:.0f} task runs/s")

    return lines


def _row(mode: str, reports: int, seconds: float, m: Measured, **extra: Any) -> dict[str, Any]:
    # wait4 counts only descendants their parents waited for; the sampler sees every process
    # but misses up to one interval of each: the larger is the nearer
    return {"mode": mode, "reports": reports, "seconds": seconds, "wall_s": m.wall_s,
            "cpu_s": max(m.cpu_s, m.sampled_cpu_s), "peak_pss_mib": m.peak_pss_mib,
            "peak_rss_mib": m.peak_rss_mib, "peak_pss_by_kind_mib": m.peak_pss_by_kind_mib,
            "max_procs": m.max_procs, "samples": m.samples, **extra}


def bench_mode(mode: str, corpus: Path, reports: int, work: Path, interval: float) -> dict[str, Any]:
    """One mode over one corpus: its row (``seconds`` is the loop for a/b, the command for c-e)."""
    if mode in ("floor", "extract"):
        m = measure(_child(mode, str(corpus)), env=child_env(), interval=interval)
        inner = _last_json(m)
        return _row(mode, reports, inner["seconds"], m, inner=inner)
    if mode == "extract2":  # both halves at once; the span is the slower one's loop
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            ms = list(pool.map(lambda k: measure(_child("extract", str(corpus), str(k), "2"),
                                                 env=child_env(), interval=interval), (0, 1)))
        inners = [_last_json(m) for m in ms]
        inner = {"reports": sum(i["reports"] for i in inners),
                 "seconds": max(i["seconds"] for i in inners),
                 "cpu_seconds": sum(i["cpu_seconds"] for i in inners),
                 "failed": sum(i["failed"] for i in inners), "halves": inners}
        merged = ms[0]
        merged.peak_pss_mib = sum(m.peak_pss_mib for m in ms)
        merged.peak_rss_mib = sum(m.peak_rss_mib for m in ms)
        merged.cpu_s = sum(m.cpu_s for m in ms)
        merged.sampled_cpu_s = sum(m.sampled_cpu_s for m in ms)
        return _row(mode, reports, inner["seconds"], merged, inner=inner)
    run = run_jixiao(mode, corpus, work, interval)
    m = run["measured"]
    return _row(mode, reports, m.wall_s, m, returncode=m.returncode, summary=run["summary"],
                prefect=run["prefect"], out=str(run["out"]), stderr_tail=m.stderr[-2000:])


def problems_of(r: dict[str, Any], reports: int) -> list[str]:
    """What is wrong with a jixiao run's outcome (exit code, counts)."""
    if r["mode"] not in JIXIAO_ARGS:
        inner = r.get("inner", {})
        return [f"{r['mode']}: {inner['failed']} file(s) failed"] if inner.get("failed") else []
    found = []
    s = r.get("summary") or {}
    if r["returncode"] != 0:
        found.append(f"{r['mode']} ({reports}): exit code {r['returncode']}: {r['stderr_tail'][-600:]}")
    if s and (s["files"] != reports or s["read"] != reports or s["failed"]):
        found.append(f"{r['mode']} ({reports}): summary says {s}")
    if not s:
        found.append(f"{r['mode']} ({reports}): no summary line in the output")
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=2000, help="text reports in the corpus (default 2000)")
    ap.add_argument("--also-small", type=int, default=200, metavar="N",
                    help="also run every mode on N reports, for the memory peak (default 200; 0: no)")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {','.join(MODES)}")
    ap.add_argument("--interval", type=float, default=0.15, help="memory sampling period, s (default 0.15)")
    ap.add_argument("--startup-rounds", type=int, default=2,
                    help="times Prefect's start-up is measured alone; the median is used (default 2)")
    ap.add_argument("--task-runs", type=int, default=1000,
                    help="empty task runs timed through the Prefect server (default 1000; 0: no)")
    ap.add_argument("--store-chunk", type=int, default=100, help="reports per Store.write (default 100)")
    ap.add_argument("--store-copies", type=int, default=1,
                    help="write c's dataset this many times over into the store (default 1)")
    ap.add_argument("--live", action="store_true",
                    help="measure the checkout as it is while running (default: a copy taken at the "
                         "start, so edits made meanwhile do not mix code versions)")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    ap.add_argument("--keep", type=Path, help="keep corpora and datasets in this (new) folder")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        if kind == "floor":
            print(json.dumps(child_floor(Path(rest[0]))))
        elif kind == "extract":
            part = [int(rest[1]), int(rest[2])] if len(rest) > 1 else []
            print(json.dumps(child_extract(Path(rest[0]), *part)))
        elif kind == "startup":
            print(json.dumps(child_startup()))
        elif kind == "task-runs":
            print(json.dumps(child_task_runs(int(rest[0]))))
        elif kind == "version":
            print(json.dumps(child_version()))
        elif kind == "store":
            print(json.dumps(child_store(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))))
        return 0

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if any(m not in MODES for m in modes):
        ap.error(f"--modes: choose from {', '.join(MODES)}")
    if any(m in JIXIAO_ARGS for m in modes) and not JIXIAO.exists():
        ap.error(f"{JIXIAO} is missing: run python3 dev.py setup")
    sys.path.insert(0, str(BENCH))
    from corpus import make_corpus

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
    work = args.keep or Path(tempfile.mkdtemp(prefix="jixiao-bench-run-"))
    report: dict[str, Any] = {"machine_before": machine(), "reports": args.reports}
    t_start = time.perf_counter()
    try:
        if not args.live:
            os.environ[CODE_ENV] = str(take_snapshot(work))
        code = _last_json(measure(_child("version"), env=child_env(), interval=1))
        report["code"] = code
        sizes = [args.reports] + ([args.also_small] if args.also_small else [])
        corpora = {}
        for n in sizes:
            corpora[n] = work / f"corpus-{n}"
            make_corpus(corpora[n], n, ["txt"], seed=0)
        print(f"bench_run: corpora of {', '.join(map(str, sizes))} text reports in {work}; "
              f"load average {report['machine_before']['load'][0]:.2f}", file=sys.stderr)

        startup: dict[str, Any] | None = None
        if any(m in JIXIAO_ARGS for m in modes):
            rounds = []
            for n in range(max(1, args.startup_rounds)):
                m = measure(_child("startup"), env=prefect_env(work / f"prefect-startup-{n}"),
                            interval=args.interval)
                rounds.append(dict(_last_json(m), peak_pss_mib=m.peak_pss_mib, wall_s=m.wall_s))
            median = sorted(rounds, key=lambda r: r["startup_s"])[(len(rounds) - 1) // 2]
            startup = dict(median, rounds=[r["startup_s"] for r in rounds])
            if args.task_runs:
                m = measure(_child("task-runs", str(args.task_runs)),
                            env=prefect_env(work / "prefect-task-runs"), interval=args.interval)
                startup["api"] = _last_json(m)
            print(f"  prefect start-up {', '.join(f'{x:.2f}' for x in startup['rounds'])} s",
                  file=sys.stderr)
        report["startup"] = startup

        results: dict[str, dict[str, Any]] = {}
        small: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        for n in sizes:
            for mode in modes:
                r = bench_mode(mode, corpora[n], n, work, args.interval)
                (results if n == args.reports else small)[mode] = r
                problems += problems_of(r, n)
                print(f"  {mode:8s} {n:6d} reports: {r['seconds']:7.2f} s, peak PSS "
                      f"{r['peak_pss_mib']:6.0f} MiB", file=sys.stderr)
        report["results"], report["small"] = results, small

        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip() or "?"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        lines = [f"bench_run: {args.reports} text reports (bench/corpus.py, seed 0); code: "
                 + ("the checkout as it was while running" if args.live else
                    "a copy of the checkout taken at the start")
                 + f" (git {head}{' with uncommitted changes' if dirty else ''}), "
                 f"pipeline version {code['version']}", ""]
        lines += table(results, small)
        lines.append("")
        lines += notes(results, small, startup)

        jixiao_outs = {m: Path(results[m]["out"]) for m in ("inproc", "dask1", "dask2")
                       if m in results and results[m].get("returncode") == 0}
        if len(jixiao_outs) >= 2:
            lines.append("")
            lines += compare_datasets(jixiao_outs)
        for name, out in jixiao_outs.items():
            if versions_in(out) != {code["version"]}:
                problems.append(f"{name} read the files with pipeline version "
                                f"{', '.join(sorted(versions_in(out)))}, not the measured code's {code['version']}")
        if "extract" in results and jixiao_outs:
            expected = results["extract"]["inner"]["rows"]
            first = next(iter(jixiao_outs.values()))
            got = _parquet_counts(first)
            diff = {t: (expected.get(t, 0), got.get(t)) for t in expected if expected.get(t, 0) != got.get(t)}
            lines.append("rows per table: extraction alone and the dataset "
                         + ("agree" if not diff else f"DIFFER (extract, dataset): {diff}"))
            if diff:
                problems.append(f"rows per table differ between extraction alone and the dataset: {diff}")

        if "inproc" in results and results["inproc"].get("returncode") == 0:
            corpus = corpora[args.reports]
            before = versions_in(Path(results["inproc"]["out"]))
            again = run_jixiao("inproc", corpus, work, args.interval, out=Path(results["inproc"]["out"]),
                               home=work / "prefect-inproc-again")
            s, m = again["summary"], again["measured"]
            report["rerun"] = {"seconds": m.wall_s, "summary": s, "returncode": m.returncode,
                               "peak_pss_mib": m.peak_pss_mib}
            ok = s.get("read") == 0 and s.get("unchanged") == args.reports and m.returncode == 0
            after = versions_in(Path(results["inproc"]["out"]))
            edited = not ok and after != before
            lines.append(f"rerun over the unchanged corpus (--in-process, same --out): {m.wall_s:.2f} s, "
                         f"{s.get('read')} read, {s.get('unchanged')} unchanged: "
                         + ("the cache works" if ok else
                            f"the code was edited in between (pipeline version {', '.join(sorted(before))} "
                            f"-> {', '.join(sorted(after))}): not a test of the cache" if edited
                            else "UNEXPECTED"))
            if not ok and not edited:
                problems.append(f"rerun over unchanged files: {s}, exit {m.returncode}: {m.stderr[-600:]}")

            store_out = work / "store-bench"
            m = measure(_child("store", results["inproc"]["out"], str(store_out), str(args.store_chunk),
                               str(args.store_copies)), env=child_env(), interval=args.interval)
            st = _last_json(m)
            report["store"] = st
            lines.append(f"single writer: {st['reports']} reports ({st['rows']} rows) in {st['writes']} "
                         f"Store.write calls of {st['chunk']} reports: {st['write_s']:.2f} s = "
                         f"{st['reports'] / st['write_s']:.0f} reports/s; median write "
                         f"{st['median_write_s'] * 1000:.0f} ms (first tenth {st['first_tenth_mean_s'] * 1000:.0f} ms, "
                         f"last tenth {st['last_tenth_mean_s'] * 1000:.0f} ms)")
            lines.append(f"export (Store.export, {st['reports']} reports): {st['export_s']:.2f} s, "
                         f"{st['parquet_mib']:.1f} MiB of Parquet; jixiao.duckdb {st['duckdb_mib']:.1f} MiB; "
                         f"scoring-form links {st['link_s']:.2f} s")
        report["machine_after"] = machine()
        report["problems"] = problems
        lines.append("")
        lines.append(f"machine: {report['machine_before']['nproc']} CPUs ({report['machine_before']['cpu']}), "
                     f"Python {report['machine_before']['python']}; load average "
                     f"{report['machine_before']['load'][0]:.2f} before, {report['machine_after']['load'][0]:.2f} after; "
                     f"{time.perf_counter() - t_start:.0f} s in all")
        if problems:
            lines.append("PROBLEMS:")
            lines += [f"  - {p}" for p in problems]
        print("\n".join(lines))
        report["text"] = lines
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, default=_jsonable), encoding="utf-8")
        return 1 if problems else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Measured):
        d = asdict(value)
        d.pop("stdout", None)
        d["stderr"] = d["stderr"][-2000:]
        return d
    return str(value)


def _parquet_counts(out: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    return {p.stem: pq.ParquetFile(p).metadata.num_rows for p in out.glob("*.parquet")}


if __name__ == "__main__":
    sys.exit(main())
