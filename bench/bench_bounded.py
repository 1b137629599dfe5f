#!/usr/bin/env python3
"""Benchmark: what reading each file in a killable worker (pipeline.bounded) costs, and what
real files need of its limits.

    .venv/bin/python bench/bench_bounded.py                 # about a minute
    .venv/bin/python bench/bench_bounded.py --reports 600 --rounds 3

1. **Overhead.** A corpus of ``--reports`` text reports and one of every format
   (``bench/corpus.py``) is read by :func:`pipeline.batch.process_file` in this process and by a
   :class:`pipeline.bounded.Sandbox` (a forked worker per file stream, results sent back
   pickled), alternately, ``--rounds`` times, on one core (``taskset``-like affinity): wall and
   CPU seconds of this process and its children for each, and the ratio.
2. **Headroom.** Each real file the tests read (the rendered seeds in every format, the scanned
   PDF through OCR, the ``.doc`` through LibreOffice) is read by a fresh worker while a thread
   samples the memory of the worker and of what it started every 10 ms: the peak it added, and
   the seconds it took, against the default :class:`pipeline.bounded.Bounds`.

Figures go to stdout; the exit status is 1 when a real file goes over a default limit.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline.batch import process_file, warm  # noqa: E402
from pipeline.bounded import Bounds, Sandbox, process_tree, resident_bytes  # noqa: E402

RENDERED = ROOT / "tests" / "fixtures" / "rendered"
SEEDS = ROOT / "tests" / "data" / "seeds"
MIB = 2**20


def _cpu() -> float:
    """CPU seconds of this process and of its ended children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def overhead(files: list[Path], rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, cpu) seconds per round of reading ``files`` directly and in a sandbox."""
    times: dict[str, list[tuple[float, float]]] = {"direct": [], "sandbox": []}
    for _ in range(rounds):
        for mode in times:
            wall, cpu = time.perf_counter(), _cpu()
            if mode == "direct":
                for path in files:
                    process_file(path)
            else:
                with Sandbox(Bounds()) as box:  # closed: its CPU is counted as a child's
                    for path in files:
                        box.process(path)
            times[mode].append((time.perf_counter() - wall, _cpu() - cpu))
    return times


def headroom(path: Path) -> tuple[float, float, str | None]:
    """(peak MiB added, seconds, error message) of reading ``path`` in a fresh worker."""
    with Sandbox(Bounds(seconds=None, memory_mb=10**6)) as box:
        box.process(min(SEEDS.glob("*.txt")))  # a worker that has read a report, as in a run
        child = box.pid
        base = resident_bytes(process_tree(child))
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.01):
                peak[0] = max(peak[0], resident_bytes(process_tree(child)) - base)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        result = box.process(path)
        took = time.perf_counter() - started
        done.set()
        sampler.join()
    return peak[0] / MIB, took, result.error and result.error["message"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=300, help="text reports of the corpus")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    from corpus import make_corpus

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    warm()
    print(f"load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        make_corpus(Path(tmp) / "txt", args.reports, formats=["txt"])
        make_corpus(Path(tmp) / "mixed", 60, formats=["txt", "docx", "pdf", "html", "xlsx"])
        for name in ("txt", "mixed"):
            files = sorted(p for p in (Path(tmp) / name).rglob("*") if p.is_file())
            times = overhead(files, args.rounds)
            for mode, rounds in times.items():
                walls = ", ".join(f"{w:.2f}" for w, _ in rounds)
                cpus = ", ".join(f"{c:.2f}" for _, c in rounds)
                print(f"{name:6} {len(files):4} files  {mode:8} wall s {walls}   cpu s {cpus}")
            ratio = min(c for _, c in times["sandbox"]) / min(c for _, c in times["direct"])
            print(f"{name:6} sandbox / direct, best CPU: {ratio:.2f}×")
    defaults = Bounds()
    worst = 0.0
    print(f"\nheadroom against the defaults ({defaults.memory_mb} MiB, {defaults.seconds:g} s):")
    for path in sorted(RENDERED.rglob("*.*")):
        grown, took, error = headroom(path)
        worst = max(worst, grown / defaults.memory_mb, took / defaults.seconds)
        print(f"  {str(path.relative_to(RENDERED)):40} +{grown:6.0f} MiB  {took:6.2f} s"
              + (f"  ERROR {error}" if error else ""))
    print(f"load {os.getloadavg()[0]:.2f}")
    print(f"closest to a default limit: {worst:.0%} of it")
    return 1 if worst > 1 else 0


if __name__ == "__main__":
    sys.exit(main())
