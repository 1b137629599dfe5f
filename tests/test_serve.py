"""`jixiao serve` registers the scheduled collection with Prefect: checked through the Prefect API
of Prefect's test harness, while the real command runs in a process of its own."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PORTAL = """\
name: some-county
title: 某某县人民政府
family: trs
start_urls: [http://127.0.0.1:9/xxgk/index.html]
"""


@pytest.fixture(scope="module")
def api_url():
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


async def _deployment(name: str):
    from prefect import get_client

    async with get_client() as client:
        return await client.read_deployment_by_name(name)


def _wait_for_deployment(name: str, server: subprocess.Popen, timeout: float = 120):
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"jixiao serve exited with {server.returncode}: {server.stderr.read()}")
        try:
            return asyncio.run(_deployment(name))
        except ObjectNotFound:
            time.sleep(0.5)
    pytest.fail(f"no deployment {name} after {timeout} s")


def test_serve_registers_the_weekly_deployment(api_url: str, tmp_path: Path) -> None:
    (tmp_path / "portals").mkdir()
    (tmp_path / "portals" / "some-county.yaml").write_text(PORTAL, encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": api_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "serve", "--portals", str(tmp_path / "portals"),
         "--portal", "some-county", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out")],
        env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deployment = _wait_for_deployment("scrape_portals/jixiao-portals", server)
        (schedule,) = deployment.schedules
        assert schedule.active
        assert schedule.schedule.cron == "0 3 * * 1"  # weekly: Mondays at 03:00
        assert schedule.schedule.timezone == "Asia/Shanghai"
        assert deployment.entrypoint == "flows.scrape_portals"  # importable wherever it runs
        assert deployment.parameters == {
            "portals": ["some-county"], "raw": str(tmp_path / "raw"),
            "out": str(tmp_path / "out"), "portals_dir": str(tmp_path / "portals")}
        assert deployment.global_concurrency_limit.limit == 1  # one run at a time
        assert server.poll() is None  # it keeps serving
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_serve_refuses_a_bad_schedule_and_a_missing_server(tmp_path: Path) -> None:
    (tmp_path / "some-county.yaml").write_text(PORTAL, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # no profile with a server URL
    command = [sys.executable, "-m", "pipeline.cli", "serve", "--portals", str(tmp_path)]
    bad = subprocess.run(command + ["--cron", "every monday"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a cron line" in bad.stderr
    alone = subprocess.run(command, env=env, capture_output=True, text=True)
    assert alone.returncode == 1 and "needs a long-lived Prefect server" in alone.stderr
