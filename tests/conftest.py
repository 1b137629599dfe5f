"""Shared fixtures: the vendored seeds, samples and gold (tests run from a clone alone)."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SEEDS = DATA / "seeds"
SEED_GOLD = DATA / "gold"
SAMPLE_DOCS = DATA / "samples" / "docs"
SAMPLE_GOLD = DATA / "samples" / "gold"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))
