"""Hostile workbooks (issue 10; made by tests/hostile_files.py): each is refused before it is
parsed, with a reason, in well under a second, and a batch that holds them reads the rest."""
from __future__ import annotations

import resource
import shutil
import time
from pathlib import Path

import pytest

from pipeline.batch import process_chunk
from pipeline.readers import ReaderError
from pipeline.readers.xlsx import read_workbook
from tests import hostile_files
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {make.__name__: make(folder) for make in hostile_files.MAKERS}


@pytest.mark.parametrize("name, says", [
    ("merged_range_bomb", "merged range A1:XFD1048576 covers 17,179,869,184 cells"),
    ("million_rows", "holds over 500,000 cells and rows"),
    ("entity_bomb", "declares entities or a DTD"),
    ("zip_bomb", "refused"),
])
def test_a_hostile_workbook_is_refused_quickly(hostile: dict[str, Path], name: str, says: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ReaderError, match=says):
        read_workbook(hostile[name])
    assert time.perf_counter() - started < 30
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 300, f"{name}: the process grew by {grown_mib:.0f} MiB"


def test_a_batch_with_hostile_workbooks_reads_the_rest(hostile: dict[str, Path], tmp_path: Path) -> None:
    seed = tmp_path / "report.txt"
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], seed)
    chunk = process_chunk([str(p) for p in hostile.values()] + [str(seed)])
    assert {Path(e["source"]).name for e in chunk.errors} == {p.name for p in hostile.values()}
    assert [o for o in chunk.outcomes if o[1]] and chunk.outcomes[-1][0] == str(seed)
