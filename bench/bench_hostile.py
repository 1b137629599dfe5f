#!/usr/bin/env python3
"""Benchmark: a batch of the seeds with every hostile file mixed in, as ``jixiao run`` reads it.

    .venv/bin/python bench/bench_hostile.py                # two local Dask workers
    .venv/bin/python bench/bench_hostile.py --in-process

The batch is the seed reports, every file ``tests/hostile_files.py`` makes (workbook, zip and
entity bombs, a text of percent signs, the hostile PDFs …) and the special entries a crawl can
leave in a folder: a FIFO, a link to ``/dev/zero``, a broken link, a loop of links, a report
under a name that is not UTF-8, one in UTF-16 without a byte-order mark and one with stray NUL
bytes. It is run once by ``jixiao run`` with a fresh dataset and Prefect home, while the summed
PSS of the command and everything it started is sampled (``bench_run.measure``).

Printed: the wall and CPU seconds, the peak PSS (the issue's bound: 1.5 GB), and each hostile
entry's ``errors`` row (stage, exceeded_limit, message). The exit status is 1 when the peak is
over 1.5 GB, a seed is missing from ``reports``, a hostile entry has no ``errors`` row, or the
run did not exit with 1 (some files failed).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_run import MIB, measure, prefect_env  # noqa: E402
from pipeline.paths import source_name  # noqa: E402
from tests import hostile_files  # noqa: E402

SEEDS = ROOT / "tests" / "data" / "seeds"
BOUND_BYTES = 1.5e9


def hostile_batch(folder: Path) -> tuple[list[Path], list[str]]:
    """Write the batch into ``folder``: (the seed copies that must be read, the names of the
    entries that must each give an ``errors`` row)."""
    seeds = []
    for seed in sorted(SEEDS.glob("*.txt")):
        seeds.append(Path(shutil.copy(seed, folder / seed.name)))
    hostile = [make(folder).name for make in hostile_files.MAKERS]
    os.mkfifo(folder / "a_fifo.txt")
    os.symlink("/dev/zero", folder / "zeros.txt")
    os.symlink(folder / "missing.txt", folder / "broken_link.txt")
    os.symlink(folder / "loop_b.txt", folder / "loop_a.txt")
    os.symlink(folder / "loop_a.txt", folder / "loop_b.txt")
    hostile += ["a_fifo.txt", "zeros.txt", "broken_link.txt", "loop_a.txt", "loop_b.txt"]
    text = seeds[0].read_text(encoding="utf-8")
    odd = os.fsencode(folder) + b"/\xff\xfe_name_not_utf8.txt"
    with open(odd, "wb") as fh:
        fh.write(text.replace("一、", "一、 ").encode("utf-8"))  # a text of its own
    (folder / "utf16_no_bom.txt").write_bytes(seeds[1].read_text(encoding="utf-8").encode("utf-16-le"))
    nul = seeds[2].read_bytes()
    (folder / "stray_nuls.txt").write_bytes(nul[:100] + b"\x00\x00\x00" + nul[100:] + b"\n")
    seeds += [Path(os.fsdecode(odd)), folder / "utf16_no_bom.txt", folder / "stray_nuls.txt"]
    return seeds, hostile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--in-process", action="store_true", help="jixiao run --in-process")
    parser.add_argument("--workers", type=int, default=2, help="local Dask workers (default 2)")
    parser.add_argument("--interval", type=float, default=0.1, help="sampling interval, s")
    args = parser.parse_args(argv)
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        batch, out, home = Path(tmp) / "batch", Path(tmp) / "out", Path(tmp) / "prefect"
        batch.mkdir()
        seeds, hostile = hostile_batch(batch)
        mode = ["--in-process"] if args.in_process else ["--workers", str(args.workers)]
        command = [str(ROOT / ".venv" / "bin" / "jixiao"), "run", str(batch), "--out", str(out),
                   "-q", *mode]
        print(f"load {os.getloadavg()[0]:.2f}; {len(seeds)} reports and {len(hostile)} hostile "
              f"entries; {' '.join(command[1:])}")
        m = measure(command, env=prefect_env(home), interval=args.interval)
        print(f"exit {m.returncode}, {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU, peak PSS "
              f"{m.peak_pss_mib:.0f} MiB ({m.peak_pss_mib * MIB / 1e9:.2f} GB; by process: "
              + ", ".join(f"{k} {v:.0f}" for k, v in sorted(m.peak_pss_by_kind_mib.items())) + ")")
        con = duckdb.connect(str(out / "jixiao.duckdb"), read_only=True)
        errors = con.execute("SELECT source, stage, exceeded_limit, message FROM errors "
                             "ORDER BY source").fetchall()
        read = {r[0] for r in con.execute("SELECT source FROM files WHERE status IN ('ok', 'duplicate')").fetchall()}
        con.close()
    problems = []
    for source, stage, limit, message in errors:
        print(f"  {Path(source).name:32} {stage:8} {limit or '-':10} {message[:110]}")
    failed = {Path(e[0]).name for e in errors}
    problems += [f"no errors row for {name}" for name in hostile if name not in failed]
    problems += [f"{source_name(seed)} was not read" for seed in seeds if source_name(seed) not in read]
    if m.peak_pss_mib * MIB > BOUND_BYTES:
        problems.append(f"peak PSS {m.peak_pss_mib:.0f} MiB is over 1.5 GB")
    if m.returncode != 1:
        problems.append(f"jixiao run exited {m.returncode}, not 1:\n{m.stderr[-2000:]}")
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
