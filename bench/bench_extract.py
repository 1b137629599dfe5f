#!/usr/bin/env python3
"""Benchmark: reports/second for extraction (``jixiao extract``'s work) on one core.

    python3 dev.py bench                       # 200 copies of each bundled seed
    .venv/bin/python bench/bench_extract.py --copies 50 --no-prefect
    .venv/bin/python bench/bench_extract.py --baseline HEAD~1 --no-prefect   # before/after

Each copy is a distinct document (a line is appended, so ids and caches cannot short-cut it); the
work timed per report is decode + normalise + layout + sections + every extractor + checks + rows,
i.e. everything but writing the dataset. Prefect's start-up (import, and running an empty flow in a
fresh process) is reported separately, because it is paid once per run, not per report.

``--baseline REF`` measures the code of git ref REF side by side with the working tree: REF is
checked out in a temporary ``git worktree`` under /tmp, and the same benchmark (same seeds, from
this tree's ``data/raw``) runs in a fresh subprocess per tree, pinned to the same core, for
``--rounds`` alternating rounds (the order flips every round, so neither tree always runs on a
cooler or hotter machine). The table gives reports/s by wall time and by CPU time
(``time.process_time``) and the median and p95 wall milliseconds per report. The machine is shared
(2 cores, other people's jobs), so wall time includes waiting for the core while CPU time counts
only the work: **CPU time is the more reliable figure**. The worktree is removed afterwards.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = ROOT / "data" / "raw"


def pin_to_one_core() -> None:
    """Run this process on the first core it may use (a no-op where the OS cannot pin)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def bench_extract(copies: int, seeds_dir: Path = SEEDS_DIR) -> dict[str, Any]:
    """Time decode -> rows on ``copies`` copies of every seed in ``seeds_dir``, in this process.

    Returns totals (``reports``, ``seconds`` wall, ``cpu_seconds``, ``chars``), rates and the wall
    time of each report (``per_report_s``), from which the median and p95 are computed.
    """
    from pipeline.extract import extract_document, to_rows
    from pipeline.ingest import decode, document_from_text

    seeds = [p.read_bytes() for p in sorted(seeds_dir.glob("*.txt"))]
    if not seeds:
        sys.exit(f"no seeds in {seeds_dir}")
    # warm-up: pattern compilation, jieba dictionary, divisions table
    for data in seeds:
        to_rows(extract_document(document_from_text(decode(data)[0], "warmup.txt")))
    batch = [data + f"\n副本{i}\n".encode() for i in range(copies) for data in seeds]
    chars = 0
    per_report = []
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for n, data in enumerate(batch):
        t = time.perf_counter()
        text, _ = decode(data)
        rows = to_rows(extract_document(document_from_text(text, f"copy{n}.txt")))
        per_report.append(time.perf_counter() - t)
        chars += len(text)
        assert rows["reports"]
    cpu_seconds = time.process_time() - cpu0
    elapsed = time.perf_counter() - t0
    return {"reports": len(batch), "seconds": elapsed, "cpu_seconds": cpu_seconds, "chars": chars,
            "per_report_s": per_report,
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def summarise(run: dict[str, Any]) -> dict[str, float]:
    """Rates and per-report percentiles of one run (or of several runs pooled)."""
    per_report = sorted(run["per_report_s"])
    return {"reports": run["reports"], "seconds": run["seconds"], "cpu_seconds": run["cpu_seconds"],
            "reports_per_s": run["reports"] / run["seconds"],
            "cpu_reports_per_s": run["reports"] / run["cpu_seconds"],
            "chars_per_s": run["chars"] / run["seconds"],
            "median_ms": statistics.median(per_report) * 1000,
            "p95_ms": per_report[max(0, int(0.95 * len(per_report)) - 1)] * 1000,
            "max_rss_mib": run["max_rss_mib"]}


def pool(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of the same tree as one: totals added, per-report times concatenated."""
    return {"reports": sum(r["reports"] for r in runs), "seconds": sum(r["seconds"] for r in runs),
            "cpu_seconds": sum(r["cpu_seconds"] for r in runs),
            "chars": sum(r["chars"] for r in runs),
            "per_report_s": [t for r in runs for t in r["per_report_s"]],
            "max_rss_mib": max(r["max_rss_mib"] for r in runs)}


def extract_line(s: dict[str, float]) -> str:
    """The summary line other scripts parse ("extract: N reports in S s on one core = R reports/s")."""
    return (f"extract: {s['reports']} reports in {s['seconds']:.2f} s on one core = "
            f"{s['reports_per_s']:.1f} reports/s ({s['chars_per_s'] / 1e6:.2f} M chars/s); "
            f"median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms per report; "
            f"max RSS {s['max_rss_mib']:.0f} MiB; CPU {s['cpu_seconds']:.2f} s = "
            f"{s['cpu_reports_per_s']:.1f} reports/s")


def bench_prefect_startup() -> dict[str, float]:
    python = sys.executable
    t = time.perf_counter()
    subprocess.run([python, "-c", "import prefect"], check=True, cwd=ROOT)
    import_s = time.perf_counter() - t
    code = ("from prefect import flow\n@flow\ndef empty():\n    return 1\nassert empty() == 1\n")
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    t = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, cwd=ROOT, env=env, capture_output=True)
    flow_s = time.perf_counter() - t
    return {"import_prefect_s": import_s, "empty_flow_process_s": flow_s}


# --------------------------------------------------------------------------------------------
# Side by side with a git ref
# --------------------------------------------------------------------------------------------

def _git(*args: str) -> str:
    """Run git in this checkout; exits with git's message when it fails."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def run_worker(tree: Path, copies: int) -> dict[str, Any]:
    """Benchmark the code in ``tree`` in a fresh, pinned subprocess; returns its raw run."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(tree),
           "--copies", str(copies)]
    done = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the benchmark failed in {tree}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def _use_tree_patterns(tree: Path) -> None:
    """Make the package ``jixiao_patterns`` (the pattern files, see pyproject.toml) the tree's own
    ``patterns/`` folder: the editable install maps that name to the main checkout, so a baseline
    tree would otherwise be measured with today's patterns. A tree from before the package
    existed finds ``patterns/`` beside its ``pipeline/`` by itself."""
    init = tree / "patterns" / "__init__.py"
    if not init.is_file():
        return
    spec = importlib.util.spec_from_file_location("jixiao_patterns", init,
                                                  submodule_search_locations=[str(init.parent)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["jixiao_patterns"] = module
    spec.loader.exec_module(module)


def worker(tree: Path, copies: int) -> None:
    """``--worker TREE``: import the pipeline and its patterns from TREE (not from the installed
    checkout), run :func:`bench_extract` on this tree's seeds, print the raw run as one JSON line."""
    pin_to_one_core()
    sys.path.insert(0, str(tree))  # before the editable install's finder, which points at ROOT
    _use_tree_patterns(tree)
    run = bench_extract(copies)
    import extractors
    import pipeline
    import pipeline.patterns

    used = {"pipeline": pipeline.__file__, "extractors": extractors.__file__,
            "patterns": str(getattr(pipeline.patterns, "PATTERNS_DIR", tree))}
    for name, where in used.items():
        if not Path(where or "").resolve().is_relative_to(tree.resolve()):
            sys.exit(f"{name} was read from {where}, not from {tree}")
    print(json.dumps(run))


def side_by_side(ref: str, copies: int, rounds: int) -> dict[str, float]:
    """Benchmark ``ref`` (in a temporary worktree) and the working tree in alternating rounds;
    print the comparison table and return the working tree's pooled summary."""
    commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    holder = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    baseline_tree = holder / "baseline"
    try:
        _git("worktree", "add", "--detach", str(baseline_tree), commit)
        trees = {"baseline": baseline_tree, "current": ROOT}
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "current": []}
        for n in range(rounds):
            order = ["baseline", "current"] if n % 2 == 0 else ["current", "baseline"]
            for name in order:
                runs[name].append(run_worker(trees[name], copies))
                s = summarise(runs[name][-1])
                print(f"  round {n + 1}/{rounds} {name:8s}: {s['reports_per_s']:6.1f} reports/s "
                      f"wall, {s['cpu_reports_per_s']:6.1f} CPU", file=sys.stderr)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(baseline_tree)], cwd=ROOT,
                       check=False, capture_output=True)
        shutil.rmtree(holder, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False, capture_output=True)
    before, after = summarise(pool(runs["baseline"])), summarise(pool(runs["current"]))
    # the median round is what a reader should quote; the pooled rate weighs slow rounds in too
    rate = {name: statistics.median(summarise(r)["reports_per_s"] for r in runs[name])
            for name in runs}
    cpu_rate = {name: statistics.median(summarise(r)["cpu_reports_per_s"] for r in runs[name])
                for name in runs}
    rows = [("reports/s, wall (median round)", rate["baseline"], rate["current"], True),
            ("reports/s, CPU (median round)", cpu_rate["baseline"], cpu_rate["current"], True),
            ("reports/s, wall (pooled)", before["reports_per_s"], after["reports_per_s"], True),
            ("reports/s, CPU (pooled)", before["cpu_reports_per_s"], after["cpu_reports_per_s"],
             True),
            ("median ms per report (wall)", before["median_ms"], after["median_ms"], False),
            ("p95 ms per report (wall)", before["p95_ms"], after["p95_ms"], False)]
    label = f"baseline {commit[:10]}"
    print(f"{rounds} alternating rounds of {after['reports'] // rounds} reports per tree, "
          f"each in its own process pinned to one core")
    print(f"{'':32s} {label:>20s} {'current tree':>14s} {'ratio':>8s}")
    for name, b, a, higher_is_better in rows:
        ratio = a / b if higher_is_better else b / a  # > 1 means the current tree is faster
        print(f"{name:32s} {b:20.2f} {a:14.2f} {ratio:7.2f}x")
    print("(ratio > 1: the current tree is faster; CPU time is the more reliable figure on a "
          "shared machine)")
    return after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=200, help="copies of each seed (default 200)")
    ap.add_argument("--no-prefect", action="store_true", help="skip the Prefect start-up measurement")
    ap.add_argument("--baseline", metavar="REF",
                    help="also benchmark git ref REF (a temporary worktree) side by side")
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternating rounds per tree with --baseline (default 5)")
    ap.add_argument("--worker", metavar="TREE", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.copies)
        return
    if args.baseline:
        print(extract_line(side_by_side(args.baseline, args.copies, args.rounds)))
    else:
        pin_to_one_core()
        sys.path.insert(0, str(ROOT))
        print(extract_line(summarise(bench_extract(args.copies))))
    if not args.no_prefect:
        p = bench_prefect_startup()
        print(f"prefect start-up (paid once per run): import {p['import_prefect_s']:.2f} s; "
              f"a process running an empty flow {p['empty_flow_process_s']:.2f} s")


if __name__ == "__main__":
    main()
