"""The gold gate: accuracy on the annotated reports must stay at or above the floors in floors.json.

Scored twice: by the in-repo evaluator (``jixiao evaluate``) on the vendored gold, and, where the
shared yardstick ``../shared/tools/score.py`` is present, by it on a dataset written the way
``jixiao run`` writes one.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.batch import combine, discover, process_file
from pipeline.dataset import write_dataset
from pipeline.evaluate import evaluate
from tests.conftest import SAMPLE_DOCS, SAMPLE_GOLD, SEED_GOLD, SEEDS, SHARED

FLOORS = json.loads((Path(__file__).with_name("floors.json")).read_text(encoding="utf-8"))
CORPORA = {"seeds": (SEED_GOLD, SEEDS), "samples": (SAMPLE_GOLD, SAMPLE_DOCS)}


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict[str, float]]:
    return {name: evaluate(gold, docs).summary() for name, (gold, docs) in CORPORA.items()}


@pytest.mark.parametrize("corpus,measure", [(c, m) for c, floors in FLOORS.items()
                                            if not c.startswith("_") for m in floors])
def test_accuracy_floor(summaries: dict[str, dict[str, float]], corpus: str, measure: str) -> None:
    assert summaries[corpus][measure] >= FLOORS[corpus][measure] - 1e-9, \
        f"{corpus} {measure} = {summaries[corpus][measure]:.3f} < floor {FLOORS[corpus][measure]}"


@pytest.mark.skipif(not (SHARED / "tools" / "score.py").exists(), reason="shared scorer not beside the repo")
@pytest.mark.parametrize("corpus", ["seeds", "samples"])
def test_shared_scorer_agrees(tmp_path: Path, corpus: str) -> None:
    gold, docs = CORPORA[corpus]
    files, _ = discover([docs])
    rows, errors = combine([process_file(f) for f in files])
    assert not errors
    write_dataset(tmp_path, rows, errors)
    proc = subprocess.run([sys.executable, str(SHARED / "tools" / "score.py"), "--gold", str(gold),
                           "--pred", str(tmp_path)], capture_output=True, text=True, check=True)
    score_line = proc.stdout.strip().splitlines()[-1]
    scores = dict(kv.split("=") for kv in score_line.split()[1:])
    for measure, floor in FLOORS[corpus].items():
        assert float(scores[measure]) >= floor - 1e-9, f"score.py {measure}={scores[measure]} < {floor}"
