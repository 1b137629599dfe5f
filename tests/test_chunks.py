"""How a batch is cut into chunks (pipeline.batch.plan_chunks): by the work the files hold."""
from __future__ import annotations

import math

import pytest

from pipeline.batch import CHUNK_SECONDS, MAX_CHUNK_FILES, SECONDS_PER_FILE, plan_chunks


def cost(chunk: list[str]) -> float:
    return sum(SECONDS_PER_FILE[name[name.rindex("."):]] for name in chunk)


@pytest.mark.parametrize("n,workers", [(1, 1), (7, 2), (2000, 2), (20000, 2), (100000, 16)])
def test_every_file_is_in_one_chunk_in_order(n: int, workers: int) -> None:
    paths = [f"r{i:06d}.txt" for i in range(n)]
    planned = plan_chunks(paths, workers)
    assert [p for chunk in planned for p in chunk] == paths
    assert all(chunk for chunk in planned)


def test_a_large_text_batch_gets_chunks_of_a_few_seconds_and_at_most_the_file_cap() -> None:
    planned = plan_chunks([f"r{i:06d}.txt" for i in range(20000)], workers=2)
    assert all(len(c) <= MAX_CHUNK_FILES and cost(c) <= CHUNK_SECONDS * 1.001 for c in planned)
    assert len(planned) == math.ceil(20000 / MAX_CHUNK_FILES)  # full chunks of text files


def test_a_small_batch_gives_every_worker_several_chunks() -> None:
    planned = plan_chunks([f"r{i}.txt" for i in range(200)], workers=2, per_worker=4)
    assert len(planned) == 8 and {len(c) for c in planned} == {25}


def test_slow_formats_get_small_chunks_and_fast_ones_large() -> None:
    paths = [f"a{i:03d}.pdf" for i in range(300)] + [f"b{i:03d}.doc" for i in range(3)] \
        + [f"c{i:04d}.txt" for i in range(3000)]
    planned = plan_chunks(paths, workers=2)
    by_kind = {kind: [len(c) for c in planned if c[0].endswith(kind)] for kind in (".pdf", ".doc", ".txt")}
    assert max(by_kind[".doc"]) == 1  # one LibreOffice conversion is already seconds of work
    assert max(by_kind[".pdf"]) == int(CHUNK_SECONDS / SECONDS_PER_FILE[".pdf"])
    assert max(by_kind[".txt"]) == MAX_CHUNK_FILES
    assert all(cost(c) <= CHUNK_SECONDS * 1.001 for c in planned if len(c) > 1)


def test_an_empty_batch_has_no_chunks() -> None:
    assert plan_chunks([], workers=4) == []
