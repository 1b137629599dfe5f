"""Shared fixtures: the vendored seeds, samples and gold (tests run from a clone alone)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
SEEDS = DATA / "seeds"
SEED_GOLD = DATA / "gold"
SAMPLE_DOCS = DATA / "samples" / "docs"
SAMPLE_GOLD = DATA / "samples" / "gold"
SHARED = Path(__file__).resolve().parents[2] / "shared"
KNOWN_MISSES: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).with_name("known_misses.json")).read_text(encoding="utf-8"))


def gold_case(test: str, doc: Path, *values: Any) -> Any:
    """A ``pytest.param`` of a per-document gold test, id'd by the document, and marked as a
    strict xfail when ``tests/known_misses.json`` lists the document for that test."""
    why = KNOWN_MISSES.get(test, {}).get(doc.stem)
    marks = [pytest.mark.xfail(strict=True, reason=f"known miss (issue 7): {why}")] if why else []
    return pytest.param(*values, id=doc.stem, marks=marks)


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))
