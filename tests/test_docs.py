"""The README is tested: every command is documented, and its example commands and SQL run."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.batch import combine, discover, process_file
from pipeline.cli import main
from pipeline.dataset import write_dataset
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
JIXIAO = Path(sys.executable).with_name("jixiao")
SQL_EXAMPLES = re.findall(r"```sql\n(.*?)```", README, re.S)
EXAMPLES = [line.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```", README, re.S)
            for line in block.splitlines() if line.startswith(".venv/bin/jixiao")]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds")
    files, _ = discover([SEEDS])
    write_dataset(out, *combine([process_file(f) for f in files]))
    return out


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:
        assert f"`jixiao {name}" in README, f"jixiao {name} is not documented in README.md"


def test_quick_start_commands_are_the_ones_ci_runs() -> None:
    assert "python3 dev.py run" in README and "python3 dev.py test" in README
    assert "dev.py test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("command", EXAMPLES)
def test_readme_example_runs(command: str, dataset: Path) -> None:
    argv = shlex.split(command)
    argv[0] = str(JIXIAO)
    if argv[1] == "sql":
        argv += ["--out", str(dataset)]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()


def test_readme_sql_slices_back_to_the_text(dataset: Path) -> None:
    import duckdb

    query = next(q for q in SQL_EXAMPLES if "substr" in q)
    con = duckdb.connect(str(dataset / "jixiao.duckdb"), read_only=True)
    rows = con.execute(query).fetchall()
    con.close()
    assert len(rows) == 5
    assert all(text == sliced for text, _label, _sentence, sliced in rows)


@pytest.mark.parametrize("query", SQL_EXAMPLES)
def test_readme_sql_runs(query: str, dataset: Path) -> None:
    import duckdb

    con = duckdb.connect(str(dataset / "jixiao.duckdb"), read_only=True)
    try:
        con.execute(query).fetchall()
    finally:
        con.close()
