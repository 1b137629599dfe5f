"""What one `jixiao run` starts around the flow (flows.session): the Prefect API and the local
Dask cluster, started side by side and both gone afterwards, whatever happened."""
from __future__ import annotations

import os
from pathlib import Path

import httpx
import psutil
import pytest


@pytest.fixture
def own_prefect_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_the_temporary_server_answers_and_is_gone_afterwards(own_prefect_home) -> None:
    import flows

    before = children()
    with flows.prefect_api() as url:
        assert httpx.get(f"{url}/health", timeout=10).json() is True
        assert os.environ["PREFECT_API_URL"] == url  # what worker processes report to
        server = children() - before
        assert server
    assert "PREFECT_API_URL" not in os.environ
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in server)


def test_an_unreachable_configured_api_falls_back_to_a_temporary_one(own_prefect_home, monkeypatch,
                                                                   capsys) -> None:
    import flows

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens on port 9
    with flows.prefect_api() as url:
        assert url != "http://127.0.0.1:9/api"
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    assert "does not answer" in capsys.readouterr().err


def test_the_local_cluster_is_closed_when_prefect_cannot_start(monkeypatch) -> None:
    import contextlib

    import flows

    started = []
    real = flows.local_cluster

    def recorded(workers):
        cluster = real(workers)
        started.append(cluster)
        return cluster

    @contextlib.contextmanager
    def broken_api():
        raise RuntimeError("the Prefect server did not start")
        yield

    monkeypatch.setattr(flows, "local_cluster", recorded)
    monkeypatch.setattr(flows, "prefect_api", broken_api)
    with pytest.raises(RuntimeError, match="did not start"):
        with flows.session(workers=1):
            pass
    assert len(started) == 1 and started[0].status.name == "closed"
