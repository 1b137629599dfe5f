"""Collecting reports from government portals (``patterns/portals/``) with Scrapy.

:func:`crawl` runs one portal's crawl in a process of its own (``python -m pipeline.crawl``):
Scrapy's Twisted reactor then never meets Prefect's event loop, and a crawl that is stopped
or killed takes nothing else with it. The crawl's state lives in ``<raw>/.crawl/<portal>/``
(hidden, so ``jixiao run`` on the raw folder does not read it):

* ``known.json``: what the dataset already has of the portal (its ``fetches`` rows), given by
  the caller: the ETags and hashes that make a second crawl download nothing unchanged;
* ``job/``: Scrapy's ``JOBDIR`` and the job's manifest (:mod:`pipeline.crawl.files`). A job
  that ends is removed by :func:`finish` once its rows are in the dataset; one that is stopped
  is resumed by the next crawl of the portal.

Raw files go to ``<raw>/<portal>/``; :mod:`pipeline.crawl.files` says how they are named.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.crawl.files import FAILED, MANIFEST, STORED, read_manifest

STATE = ".crawl"
JOB = "job"
KNOWN = "known.json"
FINISHED = "finished"  # written in the job folder when the crawl ended by itself
INTERRUPTED = 130


class CrawlError(RuntimeError):
    """The crawl process could not run (a bad portal, a crash): nothing was collected."""


@dataclass
class Crawl:
    """What one portal's crawl (this job, with any stopped run it resumed) collected."""

    portal: str
    job: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False

    @property
    def stored(self) -> list[str]:
        """Files stored by this job: new reports, or new content at a known URL."""
        return sorted({r["stored_path"] for r in self.rows if r["outcome"] in STORED})

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["outcome"] in FAILED]

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(row["outcome"] for row in self.rows).items()))


def state_dir(raw: str | Path, portal: str) -> Path:
    return Path(raw) / STATE / portal


def crawl(portal: str, raw: str | Path = "data/raw", known: list[dict[str, Any]] | None = None,
          portals_dir: str | Path | None = None, progress: bool = False) -> Crawl:
    """Crawl one portal in a child process; returns the job's rows.

    ``known``: the dataset's ``fetches`` rows of the portal. ``progress`` passes the child's
    lines (one per answer) to stderr. A crawl stopped by a signal returns with ``finished``
    false (run it again to resume); a crawl that could not run raises :class:`CrawlError`."""
    state = state_dir(raw, portal)
    state.mkdir(parents=True, exist_ok=True)
    (state / KNOWN).write_text(json.dumps(known or [], ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, "-m", "pipeline.crawl", portal, "--raw", str(raw)]
    if portals_dir:
        command += ["--portals", str(portals_dir)]
    if progress:
        command.append("--progress")
    child = subprocess.Popen(command, stderr=None if progress else subprocess.PIPE, text=True)
    try:
        _, errors = child.communicate()
    except BaseException:  # stopped here (Ctrl-C, SIGTERM): the child stops its crawl cleanly
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        raise
    job = state / JOB
    result = Crawl(portal, job, read_rows(job), finished=(job / FINISHED).exists())
    stopped = child.returncode in (INTERRUPTED, -signal.SIGINT, -signal.SIGTERM, -signal.SIGKILL)
    if not result.finished and not stopped:
        raise CrawlError(f"the crawl of {portal} failed (exit status {child.returncode})"
                         + (f": {errors.strip().splitlines()[-1]}" if errors and errors.strip() else ""))
    return result


def read_rows(job: Path) -> list[dict[str, Any]]:
    """The job's manifest rows, the last answer for each URL."""
    return list(read_manifest(job / MANIFEST).values())


def finish(result: Crawl) -> None:
    """Remove a finished job (its rows are in the dataset now): the next crawl is a new job."""
    if result.finished:
        shutil.rmtree(result.job, ignore_errors=True)


def run_job(portal_name: str, raw: str | Path, portals_dir: str | Path | None,
            progress: bool) -> int:
    """The child's side: crawl the portal with Scrapy in this process; the exit status."""
    from scrapy.crawler import CrawlerProcess

    from pipeline import portals as portal_files
    from pipeline.crawl.files import RawFiles
    from pipeline.crawl.spider import PortalSpider, settings

    (portal,) = portal_files.load(portals_dir, [portal_name])
    state = state_dir(raw, portal.name)
    job = state / JOB
    known_path = state / KNOWN
    known = json.loads(known_path.read_text(encoding="utf-8")) if known_path.exists() else []
    files = RawFiles(Path(raw) / portal.name, job, portal.name, known)
    (job / FINISHED).unlink(missing_ok=True)
    process = CrawlerProcess(settings(portal, str(job / "scrapy")))
    crawler = process.create_crawler(PortalSpider)
    say = _say if progress else None
    process.crawl(crawler, portal=portal, files=files, progress=say)
    process.start()
    files.close()
    reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
    if reason == "finished":
        (job / FINISHED).write_text("", encoding="utf-8")
        return 0
    print(f"jixiao: the crawl of {portal.name} stopped ({reason}); run it again to resume",
          file=sys.stderr)
    return INTERRUPTED


def _say(row: dict[str, Any]) -> None:
    where = f" → {row['stored_path']}" if row["outcome"] in STORED else ""
    why = f" ({row['reason']})" if row.get("reason") and row["outcome"] not in ("read",) else ""
    print(f"  {row['outcome']:<12} {row['url']}{where}{why}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipeline.crawl",
                                     description="Crawl one portal (what jixiao scrape runs).")
    parser.add_argument("portal")
    parser.add_argument("--raw", default="data/raw")
    parser.add_argument("--portals", default=None)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    return run_job(args.portal, args.raw, args.portals, args.progress)
