"""Collecting from portals, end to end over real HTTP: the fixture portal (tests/portal_fixture.py:
three sites of three CMS families on 127.0.0.1-3, with every hostile behaviour a county server
has) crawled by the real Scrapy crawler into a real dataset, under Prefect's test harness.

The server's own request log is the witness: what was asked, when, with which headers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from tests.portal_fixture import FixturePortal

KEYS = ("trs", "gd_post", "vsb")
DELAY = 0.2  # the fixture portals' politeness.delay


@pytest.fixture(scope="module", autouse=True)
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def site():
    with FixturePortal() as portal:
        yield portal


def _portals_dir(site: FixturePortal, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key in KEYS:
        (folder / f"fixture-{key.replace('_', '-')}.yaml").write_text(site.portal_yaml(key),
                                                                     encoding="utf-8")
    return folder


def _scrape(folder: Path, portals: Path) -> tuple[bool, dict]:
    import flows

    return flows.scrape(None, str(folder / "raw"), str(folder / "out"), portals_dir=str(portals),
                        ocr=False)


def _query(out: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(out / "jixiao.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _counts(out: Path) -> dict[str, int]:
    tables = [r[0] for r in _query(out, "SELECT table_name FROM information_schema.tables")]
    return {t: _query(out, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


@pytest.fixture(scope="module")
def first(site, tmp_path_factory):
    """The first crawl of the three portals, and what the server saw of it."""
    folder = tmp_path_factory.mktemp("scrape")
    portals = _portals_dir(site, folder / "portals")
    seen = len(site.log)
    ok, summary = _scrape(folder, portals)
    return {"folder": folder, "portals": portals, "ok": ok, "summary": summary,
            "log": list(site.log)[seen:]}


def test_every_allowed_report_is_collected_and_read(site, first) -> None:
    out = first["folder"] / "out"
    stored = {url: (kind, path) for url, kind, path in _query(
        out, "SELECT url, kind, stored_path FROM fetches WHERE outcome IN ('new', 'duplicate')")}
    for item_url, kind, url, fmt in site.expected_reports():
        assert url in stored, f"{url} ({kind}, from {item_url}) was not collected"
        assert stored[url][1].endswith("." + fmt)
    # every stored file is read: a source of a report of the dataset (another rendering of one
    # report is a source of it too), none an error
    sources = {r[0]: r[1] for r in _query(out, "SELECT source, format FROM sources")}
    files = [r[0] for r in _query(out, "SELECT DISTINCT stored_path FROM fetches WHERE outcome = 'new'")]
    assert files and set(files) <= set(sources), set(files) - set(sources)
    assert _query(out, "SELECT source, message FROM errors") == []
    assert set(sources.values()) == {"html", "docx", "doc", "wps", "pdf", "xlsx", "xls", "et"}


def test_item_pages_give_reports_their_metadata(first) -> None:
    out = first["folder"] / "out"
    rows = _query(out, "SELECT format, portal, page_url, title, published FROM reports "
                       "WHERE portal IS NOT NULL")
    assert rows and all(page_url and page_url.startswith("http://127.0.0.") for _, _, page_url, _, _ in rows)
    assert all(published for *_, published in rows)
    attached = [r for r in rows if r[0] != "html"]
    assert attached and all(title for _, _, _, title, _ in attached)


def test_no_host_above_its_rate_or_concurrency_and_robots_obeyed(site, first) -> None:
    log = first["log"]
    hosts = {r.host for r in log}
    assert len(hosts) == 3
    for host in hosts:
        mine = sorted((r for r in log if r.host == host), key=lambda r: r.started)
        assert mine[0].path == "/robots.txt"
        gaps = [b.started - a.started for a, b in zip(mine, mine[1:])]
        assert min(gaps) >= DELAY * 0.9, (host, min(gaps))
        # a request the crawler gave up on (the hang) ends when its connection closes, which
        # Twisted does in the same instant as it sends the next request: 10 ms is no overlap
        overlaps = [(o.path, r.path) for r in mine for o in mine
                    if o is not r and o.started <= r.started < (o.ended or float("inf")) - 0.01]
        assert overlaps == [], host
        assert all(r.headers.get("User-Agent", "").startswith("jixiao/") for r in mine)
    for path in site.disallowed_paths:
        assert not any(r.path.startswith(path) for r in log), f"{path} was requested"
    assert _query(first["folder"] / "out", "SELECT count(*) FROM fetches WHERE outcome = 'disallowed'")[0][0] >= 1


def test_every_failure_is_a_row_with_its_reason(site, first) -> None:
    assert first["ok"] is False  # failures make the run fail visibly, after collecting the rest
    out = first["folder"] / "out"
    rows = {url: (outcome, status, reason) for url, outcome, status, reason in _query(
        out, "SELECT url, outcome, http_status, reason FROM fetches")}
    words = {"timeout": "no answer within", "http_404": "HTTP 404", "redirect_loop": "redirects",
             "too_large": "larger than"}
    for url, why in site.failing.items():
        outcome, _, reason = rows[url]
        assert outcome == ("too_large" if why == "too_large" else "failed"), (url, outcome)
        assert words[why] in reason, (url, reason)
    # the 404 is asked once (no retry on a 4xx); the 503s are retried with a growing pause
    log = first["log"]
    path_404 = next(u for u, w in site.failing.items() if w == "http_404").split("/", 3)[3]
    assert sum(1 for r in log if r.path == "/" + path_404) == 1
    flaky_path = "/" + site.flaky_url.split("/", 3)[3]
    tries = sorted(r.started for r in log if r.path == flaky_path)
    assert len(tries) == 3 and rows[site.flaky_url][0] == "new"
    # the pause before each retry (0.2 s, then 0.4 s) at least; the host's other requests
    # (the hang among them) may come between
    assert tries[1] - tries[0] >= 0.2 and tries[2] - tries[1] >= 0.4


def test_the_same_attachment_under_two_urls_is_stored_once(site, first) -> None:
    out = first["folder"] / "out"
    a, b = site.duplicate_urls
    rows = dict(_query(out, f"SELECT url, outcome FROM fetches WHERE url IN ('{a}', '{b}')"))
    assert sorted(rows.values()) == ["duplicate", "new"]
    paths = {r[0] for r in _query(out, f"SELECT stored_path FROM fetches WHERE url IN ('{a}', '{b}')")}
    assert len(paths) == 1
    raw = first["folder"] / "raw"
    assert not any(".." in p.name or "etc" in p.parts for p in raw.rglob("*"))


def test_a_second_run_fetches_nothing_new_and_adds_no_rows(site, first) -> None:
    out = first["folder"] / "out"
    before = _counts(out)
    seen = len(site.log)
    ok, summary = _scrape(first["folder"], first["portals"])
    log = list(site.log)[seen:]
    assert summary["stored"] == [] and summary["processed"] == {}
    outcomes = Counter(r[0] for r in _query(out, "SELECT outcome FROM fetches"))
    assert "new" not in outcomes and "changed" not in outcomes
    assert outcomes["not_modified"] >= 1
    assert any(r.status == 304 and r.path in site.etag_url for r in log)
    assert _counts(out) == before


def test_a_new_report_on_the_portal_is_collected_and_read_alone(site, first) -> None:
    out = first["folder"] / "out"
    reports = _query(out, "SELECT count(*) FROM reports")[0][0]
    site.add_item("trs", "某镇2024年度部门整体支出绩效自评报告", "2025-04-20",
                  body_text=(Path(__file__).parent / "data" / "samples" / "docs" /
                             "h03.txt").read_text(encoding="utf-8"))
    _, summary = _scrape(first["folder"], first["portals"])
    assert len(summary["stored"]) == 1 and summary["processed"]["read"] == 1
    assert _query(out, "SELECT count(*) FROM reports")[0][0] == reports + 1


def _stored(raw: Path) -> set[str]:
    return {str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file()
            and ".crawl" not in p.parts}


def test_a_crawl_killed_halfway_and_run_again_collects_the_same_files(site, first,
                                                                      tmp_path: Path) -> None:
    """SIGKILL, the hardest stop: no handler runs, Scrapy saves nothing."""
    raw = tmp_path / "raw"
    command = [sys.executable, "-m", "pipeline.crawl", "fixture-gd-post", "--raw", str(raw),
               "--portals", str(first["portals"])]
    manifest = raw / ".crawl" / "fixture-gd-post" / "job" / "fetches.jsonl"
    child = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        lines = manifest.read_text(encoding="utf-8").splitlines() if manifest.exists() else []
        if sum('"outcome": "new"' in line for line in lines) >= 2:
            break
        time.sleep(0.05)
    assert child.poll() is None, "the crawl ended before it could be killed halfway"
    child.send_signal(signal.SIGKILL)
    child.wait()
    halfway = _stored(raw)
    collected = {json.loads(line)["url"] for line in manifest.read_text(encoding="utf-8").splitlines()
                 if '"kind": "file"' in line and '"outcome": "new"' in line}
    seen = len(site.log)
    assert subprocess.run(command, stderr=subprocess.DEVNULL).returncode == 0
    assert halfway < _stored(raw) == {p for p in _stored(first["folder"] / "raw")
                                      if p.startswith("fixture-gd-post/")}
    # what the killed run had collected is not downloaded again; each URL has one file
    asked_again = {r.path for r in list(site.log)[seen:]}
    assert not {u for u in collected if "/" + u.split("/", 3)[3] in asked_again}
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    paths: dict[str, set[str]] = {}
    for row in rows:
        if row["stored_path"]:
            paths.setdefault(row["url"], set()).add(row["stored_path"])
    assert all(len(p) == 1 for p in paths.values())


def test_jixiao_scrape_stopped_by_sigterm_then_run_again(site, tmp_path: Path) -> None:
    """The README's command: stopped halfway by SIGTERM (a scheduler's stop), then run again, it
    completes the collection; a third run has nothing new. Slower politeness, to stop it halfway."""
    from prefect.settings import PREFECT_API_URL

    portals = tmp_path / "portals"
    portals.mkdir()
    (portals / "slow-vsb.yaml").write_text(site.portal_yaml("vsb", delay=1.0).replace(
        "fixture-vsb", "slow-vsb"), encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    command = [sys.executable, "-m", "pipeline.cli", "scrape", "--portal", "slow-vsb",
               "--portals", str(portals), "--raw", str(tmp_path / "raw"),
               "--out", str(tmp_path / "out"), "--no-ocr", "-q"]
    manifest = tmp_path / "raw" / ".crawl" / "slow-vsb" / "job" / "fetches.jsonl"
    stopped = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and stopped.poll() is None:
        if manifest.exists() and len(manifest.read_text(encoding="utf-8").splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert stopped.poll() is None, stopped.communicate()
    stopped.send_signal(signal.SIGTERM)
    _, err = stopped.communicate(timeout=60)
    assert stopped.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err
    assert manifest.exists()  # the job is kept, to be resumed
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "2 new or changed file(s): 2 read, 0 failed" in again.stdout
    assert not manifest.exists()  # the job ended: its rows are in the dataset
    out = tmp_path / "out"
    assert _query(out, "SELECT count(*) FROM reports WHERE portal = 'slow-vsb'")[0][0] == 2
    third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert "0 new or changed file(s)" in third.stdout


def test_pages_are_decoded_from_their_bytes_whatever_the_header_says(site, first) -> None:
    """Two pages are GBK served as charset=utf-8 (one with a lying <meta>): all read right."""
    from pipeline.ingest import read_document

    pages = _query(first["folder"] / "out", "SELECT url, stored_path FROM fetches "
                   "WHERE kind = 'page' AND stored_path IS NOT NULL")
    assert len(pages) == len([e for e in site.expected_reports() if e[1] == "page"])
    for url, path in pages:
        text = read_document(path).text
        assert "\ufffd" not in text and "绩效自评" in text, url


def test_the_old_table_layout_page_keeps_its_headings(site, first) -> None:
    """The VSB report in a layout <td>, lines joined by <br>: its headings are found."""
    from pipeline.ingest import read_document
    from pipeline.sections import segment

    frame = site.url("vsb", "/info/13206/211004.htm")
    (path,) = _query(first["folder"] / "out", f"SELECT stored_path FROM fetches WHERE url = '{frame}'")[0]
    seed = next((Path(__file__).parent / "data" / "seeds").glob("004_*.txt"))  # the page's text
    headings = [(s.level, s.title) for s in segment(read_document(path))]
    assert headings == [(s.level, s.title) for s in segment(read_document(seed))]
    assert sum(level == 1 for level, _ in headings) == 6
