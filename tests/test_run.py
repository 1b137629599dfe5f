"""``jixiao run`` as a user and a scheduler run it: exit codes, and stopping it halfway.

Each test runs the installed command in its own process, with its own Prefect home, on a corpus
big enough to be stopped in the middle (distinct copies of the bundled reports).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import SEEDS
from tests.test_flow import assert_same_dataset, make_batch

JIXIAO = Path(sys.executable).with_name("jixiao")
ROOT = Path(__file__).resolve().parents[1]


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return dict(env, PREFECT_HOME=str(tmp_path / "prefect-home"))


def corpus(folder: Path, n: int) -> Path:
    """``n`` distinct reports: the seeds, each copy with a line of its own."""
    folder.mkdir()
    seeds = [p.read_bytes() for p in sorted(SEEDS.glob("*.txt"))]
    for i in range(n):
        (folder / f"{i:05d}.txt").write_bytes(seeds[i % len(seeds)] + f"\n副本{i}\n".encode())
    return folder


def test_a_path_that_does_not_exist_is_exit_2_before_prefect_starts() -> None:
    code = ("import sys\nfrom pipeline.cli import main\n"
            "sys.argv = ['jixiao', 'run', 'data/raww']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "print('CODE', code, 'prefect' in sys.modules, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert "CODE 2 False" in proc.stderr, proc.stderr
    assert "data/raww" in proc.stderr and "does not exist" in proc.stderr


def test_a_batch_with_failed_files_exits_1_and_says_which(tmp_path: Path) -> None:
    raw = make_batch(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([str(JIXIAO), "run", str(raw), "--out", str(out), "--workers", "1"],
                          capture_output=True, text=True, env=env_for(tmp_path), timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "8 file(s): 8 read, 0 unchanged since an earlier run, 5 failed" in proc.stdout
    assert "failed: " in proc.stderr and "empty.txt" in proc.stderr
    assert "[8/8] files read" in proc.stderr  # progress, even when stderr is not a terminal


def start_run(raw: Path, out: Path, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([str(JIXIAO), "run", str(raw), "--out", str(out), "--workers", "2",
                             "--chunk-size", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env_for(tmp_path))


def wait_for_progress(proc: subprocess.Popen) -> None:
    """Until the run has written some chunks (its first progress line) but not all."""
    for line in proc.stderr:
        if line.startswith("["):
            done, total = line[1:].split("]")[0].split("/")
            assert int(done) < int(total), "the run finished before it could be stopped"
            return
    raise AssertionError(f"the run ended before making progress: {proc.wait()}")


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def gone(processes: list[psutil.Process], timeout: float = 30) -> list[str]:
    """The command lines of those still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.5)
    return [" ".join(p.cmdline())[-120:] for p in alive]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """A corpus and the dataset of an uninterrupted run over it."""
    tmp = tmp_path_factory.mktemp("reference")
    raw = corpus(tmp / "raw", 2500)
    out = tmp / "out"
    proc = subprocess.run([str(JIXIAO), "run", str(raw), "--out", str(out), "-q"],
                          capture_output=True, text=True, env=env_for(tmp), timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return raw, out


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_run_stopped_halfway_then_run_again_gives_the_uninterrupted_dataset(
        tmp_path: Path, reference: tuple[Path, Path], stop: signal.Signals) -> None:
    raw, expected = reference
    out = tmp_path / "out"
    proc = start_run(raw, out, tmp_path)
    try:
        wait_for_progress(proc)
        children = descendants(proc.pid)
        assert any("uvicorn" in " ".join(c.cmdline()) for c in children)  # the temporary server
        proc.send_signal(stop)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == (-signal.SIGKILL if stop == signal.SIGKILL else 128 + signal.SIGTERM), \
        proc.stderr.read()[-3000:]
    # nothing of the run is left behind: not the Prefect server, not the Dask workers
    assert gone(children) == []
    again = subprocess.run([str(JIXIAO), "run", str(raw), "--out", str(out)], capture_output=True,
                           text=True, env=env_for(tmp_path), timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    skipped = int(again.stdout.split(" read, ")[1].split(" unchanged")[0])
    assert 0 < skipped < 2500  # the chunks written before the stop were kept, not read again
    assert_same_dataset(out, expected)
