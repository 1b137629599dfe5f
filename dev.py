#!/usr/bin/env python3
"""Set up and run jixiao with nothing but Python 3.11 and pip.

    python3 dev.py run      # create .venv from requirements.lock, then process data/raw -> data/processed
    python3 dev.py test     # same set-up, then the whole test suite
    python3 dev.py bench    # same set-up, then the benchmarks (extraction, then the format readers)
    python3 dev.py setup    # only the set-up

The virtual environment is (re)built when requirements.lock or pyproject.toml changes; extra
arguments are passed on (``python3 dev.py test -k amounts``, ``python3 dev.py run my/reports``).
Standard library only: this file runs before anything is installed.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".jixiao-lock-stamp"


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup() -> None:
    """Create .venv and install the locked dependencies plus jixiao itself (editable)."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"jixiao needs Python 3.11 (this is {sys.version.split()[0]}): run it as python3.11 dev.py …")
    want = _lock_digest()
    if STAMP.exists() and STAMP.read_text() == want and (BIN / "jixiao").exists():
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv …", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("dev.py: installing requirements.lock …", file=sys.stderr)
    subprocess.run(pip + ["-r", str(ROOT / "requirements.lock")], check=True)
    subprocess.run(pip + ["--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    if command not in ("setup", "run", "test", "bench"):
        print(f"dev.py: unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    setup()
    os.chdir(ROOT)
    if command == "setup":
        return 0
    if command == "run":
        return subprocess.call([str(BIN / "jixiao"), "run", *rest])
    if command == "bench":
        return (subprocess.call([str(BIN / "python"), "bench/bench_extract.py", *rest])
                or subprocess.call([str(BIN / "python"), "bench/bench_readers.py"])
                or subprocess.call([str(BIN / "python"), "bench/bench_run.py"]))
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
