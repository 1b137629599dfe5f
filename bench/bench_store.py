#!/usr/bin/env python3
"""Benchmark: what the schema validation on write costs the store's single writer.

    .venv/bin/python bench/bench_store.py                      # 400 reports, chunks of 20, 5 rounds
    .venv/bin/python bench/bench_store.py --reports 2000 --chunk 100

The rows of the seeds and the sample pages are extracted once (``process_file``), then copied
under new report ids and sources until there are ``--reports`` of them, and sent to workers'
Arrow form (:func:`pipeline.dataset.arrow_table`, as :class:`pipeline.batch.Chunk` carries them).
Each round writes them ``--chunk`` reports per :meth:`Store.write` into a fresh store twice: as
the flow does (every table validated by :mod:`pipeline.schemas`), and with the validation
replaced by a pass-through; the order alternates every round, so neither side always runs on a
cooler machine. Printed: the CPU seconds (``time.process_time``) and wall seconds of the writes
per side, the median of the rounds, and the ratio. No export: it does not validate.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import dataset  # noqa: E402
from pipeline.batch import process_file  # noqa: E402
from pipeline.dataset import REPORT_TABLES, Store, arrow_table  # noqa: E402


def _corpus(n: int) -> list[dict[str, list[dict]]]:
    paths = sorted((ROOT / "tests" / "data" / "seeds").glob("*.txt"))
    paths += sorted((ROOT / "tests" / "data" / "samples" / "docs").glob("*.txt"))
    bases = [process_file(p).rows for p in paths]
    out = []
    for i in range(n):
        base = bases[i % len(bases)]
        rid, source = f"bench{i:06d}", f"copy{i:06d}/{Path(base['reports'][0]['source']).name}"
        out.append({t: [dict(r, report_id=rid, **({"source": source} if "source" in r else {}))
                        for r in rows] for t, rows in base.items()})
    return out


def _chunks(corpus: list[dict], size: int) -> list[dict]:
    chunks = []
    for at in range(0, len(corpus), size):
        part = corpus[at:at + size]
        rows = {t: [r for rep in part for r in rep.get(t, [])] for t in REPORT_TABLES}
        chunks.append({t: (rows[t] if t == "reports" else arrow_table(t, rows[t])) for t in rows})
    return chunks


def _write(chunks: list[dict], validate: bool) -> tuple[float, float, int]:
    real = dataset._validated
    if not validate:
        dataset._validated = lambda rows, files, errors: ({**rows, "files": files,
                                                          "errors": errors}, [])
    try:
        with tempfile.TemporaryDirectory(prefix="bench_store.") as out, Store(out) as store:
            cpu, wall, refused = time.process_time(), time.perf_counter(), 0
            for chunk in chunks:
                refused += store.write(chunk).refused
            return time.process_time() - cpu, time.perf_counter() - wall, refused
    finally:
        dataset._validated = real


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=400)
    ap.add_argument("--chunk", type=int, default=20, help="reports per Store.write (default 20)")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    chunks = _chunks(_corpus(a.reports), a.chunk)
    _write(chunks[:1], True)  # imports pandera and warms both paths
    _write(chunks[:1], False)
    results: dict[bool, list[tuple[float, float, int]]] = {True: [], False: []}
    for rnd in range(a.rounds):
        for validate in ((True, False) if rnd % 2 == 0 else (False, True)):
            results[validate].append(_write(chunks, validate))
    print(f"{a.reports} reports, {len(chunks)} writes of {a.chunk}, {a.rounds} rounds (median)")
    for validate, label in ((False, "without validation"), (True, "validated (as run)")):
        cpu = statistics.median(r[0] for r in results[validate])
        wall = statistics.median(r[1] for r in results[validate])
        print(f"  {label:20} CPU {cpu:6.2f} s  wall {wall:6.2f} s  "
              f"{a.reports / cpu:7.0f} reports/CPU-s  refused {results[validate][0][2]}")
    ratio = statistics.median(r[0] for r in results[True]) / statistics.median(r[0] for r in results[False])
    per_write = (statistics.median(r[0] for r in results[True])
                 - statistics.median(r[0] for r in results[False])) / len(chunks) * 1000
    print(f"  validation: ×{ratio:.2f} CPU, {per_write:.1f} ms per write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
