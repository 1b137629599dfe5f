"""The jixiao command line: help everywhere, extract without Prefect, evaluate, run and sql."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import SEED_GOLD, SEEDS

ROOT = Path(__file__).resolve().parents[1]
JIXIAO = Path(sys.executable).with_name("jixiao")


@pytest.mark.parametrize("command", [[], ["run"], ["extract"], ["evaluate"], ["sql"], ["server"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4


def test_extract_prints_one_json_line_per_report_without_importing_prefect() -> None:
    seeds = [str(p) for p in sorted(SEEDS.glob("*.txt"))[:2]]
    code = ("import sys\nfrom pipeline.cli import main\n"
            f"sys.argv = ['jixiao', 'extract', *{seeds!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "heavy = [m for m in ('prefect', 'spacy') if m in sys.modules]\n"
            "print('HEAVY', heavy, code, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY [] 0" in proc.stderr, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert record["report"]["source"] == seeds[0]
    assert {"sections", "amounts", "percentages", "indicators", "facts"} <= set(record)
    assert all(a["text"] for a in record["amounts"])


def test_extract_reports_a_bad_file_and_exits_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = CliRunner().invoke(main, ["extract", str(empty)])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"].startswith("the file is empty")


def test_evaluate_prints_scores_and_misses(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(main, ["evaluate", "--gold", str(SEED_GOLD), "--docs", str(SEEDS),
                                       "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("SCORE amounts_f1=")
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["amounts_f1"] > 0.9


def test_evaluate_verbose_shows_each_miss_in_its_text(tmp_path: Path) -> None:
    docs, gold = tmp_path / "docs", tmp_path / "gold"
    docs.mkdir()
    gold.mkdir()
    seed = sorted(SEEDS.glob("*.txt"))[0]
    (docs / seed.name).write_bytes(seed.read_bytes())
    annotation = json.loads((SEED_GOLD / f"{seed.stem}.json").read_text(encoding="utf-8"))
    text = seed.read_text(encoding="utf-8")
    made_up = text.index("。") + 1  # a made-up gold amount where the pipeline finds none
    annotation["amounts"].append({"start": made_up, "end": made_up + 2, "text": text[made_up:made_up + 2],
                                  "value_yuan": 1.0, "unit": "元"})
    (gold / f"{seed.stem}.json").write_text(json.dumps(annotation, ensure_ascii=False), encoding="utf-8")
    plain = CliRunner().invoke(main, ["evaluate", "--gold", str(gold), "--docs", str(docs)])
    verbose = CliRunner().invoke(main, ["evaluate", "--gold", str(gold), "--docs", str(docs), "--verbose"])
    assert plain.exit_code == verbose.exit_code == 0, verbose.output
    miss = f"amounts missed: {text[made_up:made_up + 2]}@{made_up}"
    assert miss in plain.output and "【" not in plain.output
    lines = verbose.output.splitlines()
    shown = lines[next(i for i, line in enumerate(lines) if miss in line) + 1]
    assert f"。【{text[made_up:made_up + 2]}】" in shown.replace("⏎", "\n")


def test_evaluate_refuses_a_folder_without_gold(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", "--gold", str(tmp_path), "--docs", str(SEEDS)])
    assert result.exit_code != 0 and "no gold annotations" in result.output


def test_run_then_sql_through_the_installed_command(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "prefect-home"))
    proc = subprocess.run([str(JIXIAO), "run", str(SEEDS), "--out", str(out)], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "5 file(s): 5 read, 0 unchanged since an earlier run, 0 failed" in proc.stdout
    proc = subprocess.run([str(JIXIAO), "sql", "--out", str(out), "--csv",
                           "SELECT count(*) AS n, count(DISTINCT report_id) AS ids FROM reports"],
                          capture_output=True, text=True)
    assert proc.stdout.splitlines() == ["n,ids", "5,5"]


def test_sql_without_dataset_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sql", "--out", str(tmp_path), "SELECT 1"])
    assert result.exit_code != 0 and "jixiao run" in result.output
