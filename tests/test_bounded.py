"""Each file in a killable worker (pipeline.bounded, issue 10): a file over its time or memory
limit, or whose worker dies, is an errors row naming the limit and the stage, and the next file
is read by a fresh worker as if nothing had happened."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.batch import process_chunk, process_file, warm
from pipeline.bounded import NO_BOUNDS, Bounds, Sandbox, supported
from tests.conftest import SEEDS

pytestmark = pytest.mark.skipif(not supported(), reason="bounded workers need fork and /proc")


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A text of 48,000 percentages (under the figure limit) and 3 MB of prose: three seconds
    of work or so (a seed takes a tenth of that), and a hundred MiB of rows."""
    path = tmp_path_factory.mktemp("slow") / "many_percentages.txt"
    path.write_text("一、基本情况\n" + "执行率1%，" * 48_000 + "\n" + "资金管理制度健全规范，" * 300_000,
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module", autouse=True)
def warmed() -> None:
    warm()  # the workers are forked from a process that holds the models, as in a run


def _seed() -> Path:
    return sorted(SEEDS.glob("*.txt"))[0]


def test_a_file_over_its_time_limit_is_an_errors_row_and_the_next_file_is_read(slow: Path) -> None:
    with Sandbox(Bounds(seconds=1, memory_mb=None)) as box:
        started = time.monotonic()
        over = box.process(slow)
        took = time.monotonic() - started
        after = box.process(_seed())
    assert over.error is not None and over.error["exceeded_limit"] == "time", over.error
    assert over.error["stage"] in {"read", "extract", "rows"}
    assert "time limit of 1 s reached while" in over.error["message"]
    assert 1 <= took < 2, f"the worker was stopped after {took:.1f} s"
    assert after.error is None and after.rows == process_file(_seed()).rows


def test_a_file_over_its_memory_limit_is_an_errors_row(slow: Path) -> None:
    with Sandbox(Bounds(seconds=None, memory_mb=20)) as box:
        over = box.process(slow)
        after = box.process(_seed())
    assert over.error is not None and over.error["exceeded_limit"] == "memory", over.error
    assert "memory limit of 20 MiB reached while" in over.error["message"]
    assert after.error is None and after.rows["reports"][0]["report_id"]


def test_a_file_within_its_limits_gives_what_it_gives_unbounded(slow: Path) -> None:
    with Sandbox(Bounds()) as box:
        bounded = [box.process(p) for p in [slow, *sorted(SEEDS.glob("*.txt"))]]
    with Sandbox(NO_BOUNDS) as box:  # read in this process
        unbounded = [box.process(p) for p in [slow, *sorted(SEEDS.glob("*.txt"))]]
    assert [r.rows for r in bounded] == [r.rows for r in unbounded]
    assert not [r.error for r in bounded if r.error]


def test_a_worker_that_dies_is_an_errors_row_saying_how(slow: Path) -> None:
    def crash_the_worker() -> None:
        time.sleep(0.3)
        os.kill(box.pid, signal.SIGKILL)  # as the out-of-memory killer does

    with Sandbox(Bounds(seconds=30)) as box:
        box.process(_seed())  # the worker exists: the thread kills it
        killer = threading.Thread(target=crash_the_worker)
        killer.start()
        died = box.process(slow)
        killer.join()
        after = box.process(_seed())
    assert died.error is not None and died.error["exceeded_limit"] is None
    assert "the worker reading this file died while" in died.error["message"]
    assert "killed by SIGKILL" in died.error["message"]
    assert after.error is None


def test_a_worker_killed_between_files_is_replaced_without_a_failure() -> None:
    with Sandbox(Bounds()) as box:
        box.process(_seed())
        os.kill(box.pid, signal.SIGKILL)
        time.sleep(0.2)
        after = box.process(_seed())
    assert after.error is None


def test_a_chunk_holding_files_over_their_limits_reads_the_rest(slow: Path) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    chunk = process_chunk([str(seeds[0]), str(slow), str(seeds[1]), str(slow), str(seeds[2])],
                          bounds=Bounds(seconds=1))
    assert [e["exceeded_limit"] for e in chunk.errors] == ["time", "time"]
    assert [source for source, report_id in chunk.outcomes if report_id] == \
        [str(s) for s in seeds[:3]]


def test_jixiao_extract_holds_each_file_to_its_limits(slow: Path) -> None:
    cli = Path(sys.executable).with_name("jixiao")
    done = subprocess.run([str(cli), "extract", "--file-timeout", "1", str(slow), str(_seed())],
                          capture_output=True, text=True, timeout=120)
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert done.returncode == 1
    assert first["exceeded_limit"] == "time" and "time limit" in first["error"]
    assert "error" not in second and second["report"]["source"] == str(_seed())


def test_the_command_line_defaults_are_the_bounds_defaults() -> None:
    from pipeline import cli

    assert (cli.DEFAULT_FILE_TIMEOUT, cli.DEFAULT_FILE_MEMORY) == (Bounds().seconds, Bounds().memory_mb)


def test_jixiao_run_on_dask_workers_stops_a_file_at_its_limit(slow: Path, tmp_path: Path) -> None:
    """The workers are forked inside a Dask worker process (a daemon of the nanny, with threads
    of its own): the bound holds there too, and the rest of the batch is in the dataset."""
    import duckdb

    from tests.test_run import JIXIAO, env_for

    raw = tmp_path / "raw"
    raw.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        (raw / seed.name).write_bytes(seed.read_bytes())
    (raw / slow.name).write_bytes(slow.read_bytes())
    out = tmp_path / "out"
    done = subprocess.run([str(JIXIAO), "run", str(raw), "--out", str(out), "--workers", "1",
                           "--file-timeout", "1", "-q"], capture_output=True, text=True,
                          env=env_for(tmp_path), timeout=600)
    assert done.returncode == 1, done.stderr[-2000:]
    con = duckdb.connect(str(out / "jixiao.duckdb"), read_only=True)
    errors = con.execute("SELECT source, stage, exceeded_limit FROM errors").fetchall()
    reports = con.execute("SELECT count(*) FROM reports").fetchone()[0]
    con.close()
    assert [(Path(s).name, limit) for s, _, limit in errors] == [(slow.name, "time")]
    assert reports == len(list(SEEDS.glob("*.txt")))
