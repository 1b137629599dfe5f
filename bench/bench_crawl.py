#!/usr/bin/env python3
"""Benchmark: what a crawl of a large portal costs, against the floor its politeness sets.

    .venv/bin/python bench/bench_crawl.py                 # 200 items, delay 0.1 s
    .venv/bin/python bench/bench_crawl.py --items 500 --delay 0.2

The fixture portal of the tests (tests/portal_fixture.py) gets ``--items`` more report items on
its TRS site, each a cover page with one small PDF of its own. The TRS portal is crawled twice
by the real crawler process (``python -m pipeline.crawl``), the second time with the first
crawl's manifest as what the dataset knows (ETags, hashes), as ``jixiao scrape`` passes it.
Printed for each crawl: wall seconds, requests the server received, the politeness floor
(requests × delay: one host, one request at a time), bytes the server sent, the peak resident
memory of the crawl process (``ru_maxrss`` of the child), and the outcomes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.portal_fixture import FixturePortal  # noqa: E402


def crawl(portal: FixturePortal, folder: Path, delay: float) -> dict:
    seen = len(portal.log)
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "pipeline.crawl", "bench", "--raw",
                              str(folder / "raw"), "--portals", str(folder / "portals")], cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest so far
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"the crawl exited with {child.returncode}")
    wall = time.monotonic() - started
    job = folder / "raw" / ".crawl" / "bench" / "job"
    rows = [json.loads(line) for line in (job / "fetches.jsonl").read_text().splitlines()]
    # what the dataset would hold next time: this crawl's rows (crawl.finish would remove the job)
    (folder / "raw" / ".crawl" / "bench" / "known.json").write_text(json.dumps(rows))
    (job / "fetches.jsonl").unlink()
    log = portal.log[seen:]
    sent = sum(len(portal.routes[("trs", r.path)].body) for r in log
               if r.status == 200 and ("trs", r.path) in portal.routes)
    return {"wall": wall, "requests": len(log), "floor": len(log) * delay, "sent": sent,
            "peak_mib": usage.ru_maxrss / 1024, "outcomes": dict(Counter(r["outcome"] for r in rows))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    with FixturePortal() as portal, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in range(args.items):
            portal.add_item("trs", f"测试县第{n}单位2023年度部门整体支出绩效自评报告", "2025-04-20",
                            attachments=[(f"r{n}.pdf", b"%PDF-1.4\n%" + str(n).encode() * 200, "pdf")])
        (folder / "portals").mkdir()
        (folder / "portals" / "bench.yaml").write_text(
            portal.portal_yaml("trs", delay=args.delay, timeout=0.5, retries=0,
                               max_listing_pages=100).replace("fixture-trs", "bench"))
        print(f"portal: {args.items} extra items on one host, delay {args.delay} s")
        for name in ("first crawl", "second crawl"):
            r = crawl(portal, folder, args.delay)
            print(f"{name:>12}: {r['wall']:6.1f} s wall, {r['requests']} requests (floor "
                  f"{r['floor']:.1f} s), {r['sent'] / 2**20:.2f} MiB sent, peak RSS of the crawl "
                  f"process {r['peak_mib']:.0f} MiB; {r['outcomes']}")


if __name__ == "__main__":
    main()
