#!/usr/bin/env python3
"""Benchmark: reports/second for extraction (``jixiao extract``'s work) on one core.

    python3 dev.py bench                       # 200 copies of each bundled seed
    .venv/bin/python bench/bench_extract.py --copies 50 --no-prefect

Each copy is a distinct document (a line is appended, so ids and caches cannot short-cut it); the
work timed per report is decode + normalise + layout + sections + every extractor + checks + rows,
i.e. everything but writing the dataset. Prefect's start-up (import, and running an empty flow in a
fresh process) is reported separately, because it is paid once per run, not per report.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_extract(copies: int) -> dict[str, float]:
    from pipeline.extract import extract_document, to_rows
    from pipeline.ingest import decode, document_from_text

    seeds = [p.read_bytes() for p in sorted((ROOT / "data" / "raw").glob("*.txt"))]
    if not seeds:
        sys.exit("no seeds in data/raw")
    # warm-up: pattern compilation, jieba dictionary, divisions table
    for data in seeds:
        to_rows(extract_document(document_from_text(decode(data)[0], "warmup.txt")))
    batch = [data + f"\n副本{i}\n".encode() for i in range(copies) for data in seeds]
    chars = 0
    per_report = []
    t0 = time.perf_counter()
    for n, data in enumerate(batch):
        t = time.perf_counter()
        text, _ = decode(data)
        rows = to_rows(extract_document(document_from_text(text, f"copy{n}.txt")))
        per_report.append(time.perf_counter() - t)
        chars += len(text)
        assert rows["reports"]
    elapsed = time.perf_counter() - t0
    return {"reports": len(batch), "seconds": elapsed, "reports_per_s": len(batch) / elapsed,
            "chars_per_s": chars / elapsed, "median_ms": statistics.median(per_report) * 1000,
            "p95_ms": sorted(per_report)[int(0.95 * len(per_report)) - 1] * 1000,
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=200, help="copies of each seed (default 200)")
    ap.add_argument("--no-prefect", action="store_true", help="skip the Prefect start-up measurement")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    r = bench_extract(args.copies)
    print(f"extract: {r['reports']} reports in {r['seconds']:.2f} s on one core = "
          f"{r['reports_per_s']:.1f} reports/s ({r['chars_per_s'] / 1e6:.2f} M chars/s); "
          f"median {r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms per report; "
          f"max RSS {r['max_rss_mib']:.0f} MiB")
    if not args.no_prefect:
        p = bench_prefect_startup()
        print(f"prefect start-up (paid once per run): import {p['import_prefect_s']:.2f} s; "
              f"a process running an empty flow {p['empty_flow_process_s']:.2f} s")


if __name__ == "__main__":
    main()
