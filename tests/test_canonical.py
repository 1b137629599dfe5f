"""Canonical indicators (extractors/canonical.py, patterns/indicator_taxonomy.yaml): the same
indicator under one id across reports, found by fuzzy matching within a measure, never guessed
across measures; `jixiao indicators --unmatched`; the indicator_matrix table."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from extractors.canonical import match, nearest, taxonomy
from pipeline.cli import main
from pipeline.dataset import matrix_schema, write_dataset
from tests.conftest import SAMPLE_GOLD, SEED_GOLD


def _gold_names() -> list[str]:
    names = set()
    for path in [*SEED_GOLD.glob("*.json"), *SAMPLE_GOLD.glob("*.json")]:
        names.update(i["name"] for i in json.loads(path.read_text(encoding="utf-8"))["indicators"])
    return sorted(names)


def test_every_indicator_of_the_seeds_and_samples_has_a_canonical_id() -> None:
    names = _gold_names()
    assert len(names) > 150
    unplaced = [n for n in names if match(n) is None]
    assert unplaced == []


# Printed names of the same indicator in different reports: one id.
SAME = {
    "satisfaction_public": ["群众满意度", "社会群众满意度", "辖区群众满意度", "辖区内群众满意度",
                            "社会公众满意度（%）", "群众满意率"],
    "satisfaction_recipients": ["服务对象满意度", "受益对象满意度", "受益群众满意度",
                                "服务对象满意度指标"],
    "satisfaction_staff": ["单位职工满意度", "职工、干部满意度", "干部职工满意度"],
    "budget_execution_rate": ["预算执行率", "部门整体预算执行率", "预算执行率（%）"],
    "acceptance_rate": ["项目(工程)验收合格率", "项目（工程）验收合格率", "工程质量验收合格率"],
    "three_public_expenses_control": ["三公经费控制率", "“三公”经费控制率"],
    "wage_payment_timeliness": ["工资发放及时率", "工资发放及时率率"],
}


@pytest.mark.parametrize("canonical_id", sorted(SAME))
def test_same_meaning_names_share_one_id(canonical_id: str) -> None:
    assert {n: match(n).canonical_id for n in SAME[canonical_id]} == \
        dict.fromkeys(SAME[canonical_id], canonical_id)


def test_a_listed_name_scores_100_and_a_fuzzy_one_its_ratio() -> None:
    assert match("社会群众满意度").match_score == 100.0
    fuzzy = match("辖区内群众满意度")
    assert taxonomy().threshold <= fuzzy.match_score < 100.0
    assert (fuzzy.canonical_name, fuzzy.canonical_group) == ("群众满意度", "satisfaction")


# Names that look alike but measure different things, or that are too vague: never placed
# together, never guessed.
@pytest.mark.parametrize("name, not_id", [
    ("及时(按期)完工率", "timely_start"),        # 完工 is not 开工
    ("森林受害面积", "forest_damage_rate"),      # an area is not a rate
    ("采购执行率", "budget_execution_rate"),
    ("服务对象满意度", "satisfaction_public"),   # recipients are not the public
    ("单位职工满意度", "satisfaction_public"),
])
def test_different_measures_are_kept_apart(name: str, not_id: str) -> None:
    assert match(name) is not None and match(name).canonical_id != not_id


@pytest.mark.parametrize("name", ["满意度", "教师满意度", "航道疏浚里程", "", "  "])
def test_vague_or_unknown_names_are_not_placed(name: str) -> None:
    assert match(name) is None


def test_the_nearest_indicator_is_offered_below_the_threshold() -> None:
    entry, score = nearest("教师满意度")
    assert entry.canonical_group == "satisfaction" and score < taxonomy().threshold
    assert nearest("航道疏浚里程") is None  # no listed name ends with its measure


def test_every_id_is_a_column_name_and_listed_once() -> None:
    ids = [e.canonical_id for e in taxonomy().entries]
    assert len(ids) == len(set(ids))
    schema = matrix_schema()
    assert all(f"{i}_score" in schema and f"{i}_actual" in schema for i in ids)


def _indicator(report_id: str, name: str, max_score: float, score: float, actual: str,
               table_id: str, row_index: int, canonical_id: str) -> dict[str, object]:
    return {"report_id": report_id, "name": name, "max_score": max_score, "score": score,
            "actual": actual, "origin": "table", "table_id": table_id, "row_index": row_index,
            "canonical_id": canonical_id}


def _dataset(out: Path) -> None:
    rows = {
        "reports": [{"report_id": r, "source": f"{r}.txt", "unit_name": u, "fiscal_year": 2023}
                    for r, u in (("r1", "甲镇人民政府"), ("r2", "乙镇人民政府"), ("r3", "丙镇人民政府"))],
        "indicators": [
            _indicator("r1", "群众满意度", 10.0, 9.5, "95%", "t1", 3, "satisfaction_public"),
            _indicator("r2", "辖区群众满意度", 5.0, 5.0, "98%", "t1", 7, "satisfaction_public"),
            _indicator("r2", "社会群众满意度", 5.0, 4.0, "90%", "t2", 1, "satisfaction_public"),
            _indicator("r2", "预算执行率", 10.0, 8.7, "87%", "t1", 1, "budget_execution_rate"),
            {"report_id": "r2", "name": "某项不在分类里的指标", "score": 1.0, "origin": "prose"},
        ],
    }
    write_dataset(out, rows)


def test_indicator_matrix_has_one_row_per_report_and_a_column_per_indicator(tmp_path: Path) -> None:
    _dataset(tmp_path)
    con = duckdb.connect(str(tmp_path / "jixiao.duckdb"), read_only=True)
    got = con.execute("SELECT report_id, satisfaction_public_score, satisfaction_public_actual, "
                      "budget_execution_rate_score FROM indicator_matrix ORDER BY report_id").fetchall()
    columns = [r[0] for r in con.execute("DESCRIBE indicator_matrix").fetchall()]
    con.close()
    # r3 has no indicators and still has its row; r2's first 群众满意度 in table order is shown
    assert got == [("r1", 9.5, "95%", None), ("r2", 5.0, "98%", 8.7), ("r3", None, None, None)]
    assert columns == list(matrix_schema())
    parquet = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'indicator_matrix.parquet'}'").fetchall()
    assert parquet == [(3,)]


def test_indicators_command_lists_unmatched_names_with_counts(tmp_path: Path) -> None:
    _dataset(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["indicators", "--out", str(tmp_path), "--unmatched"])
    assert result.exit_code == 0, result.output
    assert "某项不在分类里的指标" in result.output and "群众满意度" not in result.output
    every = runner.invoke(main, ["indicators", "--out", str(tmp_path), "--csv"])
    lines = every.output.splitlines()
    assert lines[0] == "name,reports,canonical_id,canonical_name,match_score,nearest"
    assert "群众满意度,1,satisfaction_public,群众满意度,100.0," in lines
    empty = runner.invoke(main, ["indicators", "--out", str(tmp_path / "none")])
    assert empty.exit_code != 0 and "no dataset" in empty.output


def test_a_pipeline_run_gives_every_seed_indicator_its_id(tmp_path: Path) -> None:
    from pipeline.batch import process_file
    from tests.conftest import SEEDS

    rows = [r for path in sorted(SEEDS.glob("*.txt"))
            for r in process_file(path).rows["indicators"]]
    assert rows and all(r["canonical_id"] and r["match_score"] >= taxonomy().threshold
                        for r in rows)
    public = {r["name"] for r in rows if r["canonical_id"] == "satisfaction_public"}
    assert public == {"群众满意度", "社会群众满意度", "辖区群众满意度"}
