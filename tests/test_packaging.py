"""The wheel: it holds every package and every pattern file, and works installed, outside the clone.

The wheel is built from a copy of the source (a ``build/`` left in the clone by an earlier build
would put stale files into the wheel and hide a package missing from pyproject.toml), installed
with ``--no-deps`` into a fresh venv that sees the dev venv's dependencies but not jixiao's
editable install, and run from a folder outside the repository.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = sorted((ROOT / "data" / "raw").glob("*.txt"))
# What the build reads; the rest of the clone (tests, data, the venv) stays out of the copy.
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
              ".hypothesis", ".mypy_cache", "data", "tests", "bench")
# What pip says when the build isolation cannot reach the registry for setuptools and wheel.
OFFLINE = ("NewConnectionError", "Failed to establish a new connection", "Network is unreachable",
           "Temporary failure in name resolution", "No matching distribution found for setuptools",
           "No matching distribution found for wheel")
TOP_LEVEL = {"pipeline", "extractors", "flows.py", "jixiao_patterns"}


def _source_files(folder: str, pattern: str = "*") -> list[str]:
    """Files under ``ROOT/folder`` as paths relative to ROOT (no byte-code)."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob(pattern)
                  if p.is_file() and "__pycache__" not in p.parts)


def _builds_offline() -> bool:
    """Whether the dev venv's setuptools can build a wheel itself: from 70.1 it can, before it
    needs the ``wheel`` package (setuptools 65.5, the one Python 3.11's venv brings, has no
    bdist_wheel of its own)."""
    try:
        major, minor = (int(p) for p in metadata.version("setuptools").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    if (major, minor) >= (70, 1):
        return True
    try:
        metadata.version("wheel")
    except metadata.PackageNotFoundError:
        return False
    return (major, minor) >= (65, 0)  # pyproject's [build-system] asks for setuptools>=65


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel`` of a copy of the source; without build isolation when the venv can build."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    offline = _builds_offline()
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(work / "dist"),
               "--disable-pip-version-check", "-q"]
    if offline:
        command.append("--no-build-isolation")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 and not offline and any(sign in output for sign in OFFLINE):
        pytest.skip("no wheel builder: the venv's setuptools needs the 'wheel' package to build a "
                    "wheel and pip could not fetch it (no network): " + output.strip()[-300:])
    assert proc.returncode == 0, output[-3000:]
    (built,) = (work / "dist").glob("jixiao-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel installed and the dev venv's dependencies visible, minus jixiao.

    The dependencies are not reinstalled: a ``.pth`` file points at a folder of links to every
    entry of the dev venv's site-packages except jixiao's own (the editable install's ``.pth``
    and finder, its dist-info, any installed copy of its packages). Python does not run ``.pth``
    files found in a folder a ``.pth`` added, but leaving them out makes that plain.
    """
    work = tmp_path_factory.mktemp("venv")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    deps = work / "deps"
    deps.mkdir()
    dev_sites = {Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    for dev_site in sorted(dev_sites):
        for entry in dev_site.iterdir():
            name = entry.name
            if (name in TOP_LEVEL or name.startswith(("__editable__", "jixiao-", "jixiao."))
                    or name.endswith(".pth") or (deps / name).exists()):
                continue
            (deps / name).symlink_to(entry, target_is_directory=entry.is_dir())
    (site / "jixiao-test-deps.pth").write_text(f"{deps}\n", encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, timeout=300)
    return venv


def _env(home: Path, venv: Path) -> dict[str, str]:
    """The environment of a command run in the fresh venv: nothing that points back at the clone,
    no Prefect settings from outside, and a writable PREFECT_HOME of its own."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("PREFECT_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PREFECT_HOME"] = str(home / "prefect-home")
    return env


def test_wheel_holds_every_package_module_and_pattern_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = _source_files("pipeline", "*.py") + _source_files("extractors", "*.py") + ["flows.py"]
    assert [m for m in modules if m not in names] == []
    assert any(m.startswith("pipeline/readers/") for m in modules)
    patterns = _source_files("patterns")
    assert "patterns/jieba_userdict.txt" in patterns and "patterns/divisions.tsv" in patterns
    missing = [p for p in patterns if "jixiao_" + p not in names]
    assert missing == [], "pattern files not in the wheel"
    # Only our own names land in site-packages (no generic top-level 'patterns' or 'tests').
    tops = {n.split("/")[0] for n in names} - {n.split("/")[0] for n in names if ".dist-info/" in n}
    assert tops == TOP_LEVEL


def test_installed_wheel_runs_its_own_code_on_its_own_patterns(fresh_venv: Path,
                                                               tmp_path: Path) -> None:
    probe = ("import json, sys, importlib.metadata as md\n"
             "import pipeline, pipeline.readers, extractors, flows, jixiao_patterns\n"
             "from pipeline.patterns import PATTERNS_DIR\n"
             "from pipeline.divisions import TABLE\n"
             "print(json.dumps({'files': [m.__file__ for m in (pipeline, pipeline.readers, extractors,"
             " flows, jixiao_patterns)] + [str(PATTERNS_DIR), str(TABLE)],"
             " 'dist': str(md.distribution('jixiao').locate_file('')), 'path': sys.path,"
             " 'finders': [repr(f) for f in sys.meta_path]}))\n")
    python = fresh_venv / "bin" / "python"
    proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env=_env(tmp_path, fresh_venv), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout)
    site = Path(found["dist"]).resolve()
    assert site.is_relative_to(fresh_venv.resolve())
    for file in found["files"]:
        assert Path(file).resolve().is_relative_to(site), file
    assert Path(found["files"][-1]).is_file()
    assert not [p for p in found["path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert not [f for f in found["finders"] if "editable" in f.lower()]


def test_installed_jixiao_extracts_the_bundled_reports(fresh_venv: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(fresh_venv / "bin" / "jixiao"), "extract", *map(str, RAW)],
                          capture_output=True, text=True, cwd=tmp_path,
                          env=_env(tmp_path, fresh_venv), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["report"]["source"] for r in records] == [str(p) for p in RAW]
    for record in records:
        assert record["sections"] and record["amounts"], record["report"]["source"]


def test_installed_jixiao_runs_the_flow(fresh_venv: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    shutil.copytree(ROOT / "data" / "raw", tmp_path / "raw-copy")
    proc = subprocess.run([str(fresh_venv / "bin" / "jixiao"), "run", "raw-copy", "--out", "out"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env=_env(tmp_path, fresh_venv), timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert pq.read_metadata(tmp_path / "out" / "reports.parquet").num_rows == len(RAW) == 5
