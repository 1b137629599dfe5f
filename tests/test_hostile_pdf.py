"""Hostile PDFs (issue 10; made by tests/hostile_files.py): too many pages or too much drawing
work are refused before any page is laid out, in well under a second, with the limit they went
over; the committed PDFs pass the checks in a few milliseconds."""
from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from pipeline.batch import process_file
from pipeline.readers.pdf_check import check_pdf
from tests import hostile_files

HERE = Path(__file__).parent
COMMITTED_PDFS = sorted((HERE / "fixtures" / "rendered").rglob("*.pdf")) \
    + [HERE / "fixtures" / "generated" / "report_text.pdf"]


# maker -> (the limit it goes over, what its errors row says)
REFUSED = {
    "path_bomb": ("operators", "page 1 draws 2,000,001 operators (over 200,000"),
    "form_bomb": ("operators", "page 1 draws 1,001,000 operators"),
    "content_bomb": ("operators", "the content of page 1 unpacks to over 16 MiB"),
    "many_pages": ("pages", "it has over 300 pages (its page tree counts 2,000)"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile_pdf")
    makers = [m for m in hostile_files.MAKERS if m.__name__ in REFUSED]
    return {make.__name__: make(folder) for make in makers}


@pytest.mark.parametrize("name", REFUSED)
def test_a_hostile_pdf_is_refused_quickly_with_its_limit(hostile: dict[str, Path],
                                                          name: str) -> None:
    limit, says = REFUSED[name]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = process_file(hostile[name])
    seconds = time.perf_counter() - started
    assert result.error is not None and result.error["exceeded_limit"] == limit
    assert says in result.error["message"] and result.error["stage"] == "read"
    # (measured: 0.05 to 0.5 s; before the checks up to 81 s, and 3.3 GB for the path bomb)
    assert seconds < 5, f"{name} took {seconds:.1f} s to refuse"
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200, f"{name}: the process grew by {grown_mib:.0f} MiB"


@pytest.mark.parametrize("path", COMMITTED_PDFS, ids=lambda p: p.name)
def test_a_committed_pdf_passes_the_checks_in_milliseconds(path: Path) -> None:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        started = time.perf_counter()
        check_pdf(pdf.doc, path.name)
        seconds = time.perf_counter() - started
    assert seconds < 0.5, f"{path.name}: {seconds * 1000:.0f} ms (measured: 1 to 10 ms)"
