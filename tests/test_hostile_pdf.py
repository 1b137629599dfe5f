"""Hostile PDFs (issue 10; made by tests/hostile_files.py): too many pages, too much drawing work
or too many pages to OCR are refused before any page is laid out or OCRed, in well under a
second, with the limit they went over; a text layer that does not read is OCRed instead; the
committed PDFs pass the checks in a few milliseconds and read as before."""
from __future__ import annotations

import importlib.util
import resource
import time
from pathlib import Path

import pytest

from pipeline.batch import process_file
from pipeline.readers import ReaderError, ReadResult
from pipeline.readers.pdf import GARBLED_SHARE, garbled_share, read_pdf
from pipeline.readers.pdf_check import check_pdf
from tests import hostile_files

HERE = Path(__file__).parent
COMMITTED_PDFS = sorted((HERE / "fixtures" / "rendered").rglob("*.pdf")) \
    + [HERE / "fixtures" / "generated" / "report_text.pdf"]
OCR_INSTALLED = importlib.util.find_spec("rapidocr_onnxruntime") is not None


# maker -> (the limit it goes over, what its errors row says)
REFUSED = {
    "path_bomb": ("operators", "page 1 draws 2,000,001 operators (over 200,000"),
    "form_bomb": ("operators", "page 1 draws 1,001,000 operators"),
    "content_bomb": ("operators", "the content of page 1 unpacks to over 16 MiB"),
    "many_pages": ("pages", "it has over 300 pages (its page tree counts 2,000)"),
    "many_scanned_pages": ("ocr_pages", "more than 60 of its pages need OCR"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile_pdf")
    makers = [m for m in hostile_files.MAKERS if m.__name__ in REFUSED] \
        + list(hostile_files.READ_BY_OCR)
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
    # (measured: 0.05 to 0.5 s; before the checks up to 91 s, and 3.3 GB for the path bomb)
    assert seconds < 5, f"{name} took {seconds:.1f} s to refuse"
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200, f"{name}: the process grew by {grown_mib:.0f} MiB"


def test_the_ocr_page_cap_is_set_by_the_environment(hostile: dict[str, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIXIAO_OCR_MAX_PAGES", "5")
    with pytest.raises(ReaderError, match="more than 5 of its pages need OCR") as refused:
        read_pdf(hostile["many_scanned_pages"])
    assert refused.value.limit == "ocr_pages"
    monkeypatch.setenv("JIXIAO_OCR_MAX_PAGES", "many")
    with pytest.raises(ValueError, match="JIXIAO_OCR_MAX_PAGES must be a whole number"):
        read_pdf(hostile["many_scanned_pages"])


def test_the_ocr_page_cap_is_a_parameter_too(hostile: dict[str, Path]) -> None:
    with pytest.raises(ReaderError, match="more than 10 of its pages need OCR .11 by page 11"):
        read_pdf(hostile["many_scanned_pages"], max_ocr_pages=10)


def test_pages_to_ocr_are_not_capped_when_ocr_is_off(hostile: dict[str, Path]) -> None:
    with pytest.raises(ReaderError, match="has no text layer .a scan. and OCR is disabled"):
        read_pdf(hostile["many_scanned_pages"], ocr=False)


@pytest.mark.parametrize("path", COMMITTED_PDFS, ids=lambda p: str(p.relative_to(HERE)))
def test_a_committed_pdf_passes_the_checks_in_milliseconds(path: Path) -> None:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        started = time.perf_counter()
        check_pdf(pdf.doc, path.name)
        seconds = time.perf_counter() - started
    assert seconds < 0.5, f"{path.name}: {seconds * 1000:.0f} ms (measured: 1 to 10 ms)"


# -- a text layer that does not read ----------------------------------------------------------

# (a page's glyphs as pdfminer gives them, whether the page is garbled): real pages, the page of
# garbled_text_layer.pdf, and the other ways a text layer comes out unreadable
GLYPHS = [
    (list("收入预算：2024年度收入合计3402.07万元"), False),             # a report's text layer
    (list("（一）项目背景、内容。") + ["\uf0b7"], False),               # a Wingdings bullet (PUA)
    (list("3402.07 2207.79 100% 98.5%"), False),                       # a page of figures
    (list("指标值：≥90%，得分10分，×、÷、°、±"), False),                 # signs in Latin-1 kept
    ([f"(cid:{n})" for n in range(1, 40)], True),                       # garbled_text_layer.pdf
    ([f"(cid:{n})" for n in range(1, 9)] + list("3336.96"), True),      # CJK lost, digits read
    (list("\ue000\ue001\ue002\ue003。"), True),                         # glyphs mapped to PUA
    (list("¸ß¶È²ÆÕþ×Ê½ð"), True),                                      # GBK read as Latin-1
]


@pytest.mark.parametrize("glyphs, garbled", GLYPHS, ids=lambda g: "".join(g)[:12]
                         if isinstance(g, list) else str(g))
def test_a_garbled_text_layer_is_told_from_a_real_one(glyphs: list[str], garbled: bool) -> None:
    glyphs = [g for g in glyphs if g.strip()]
    assert (garbled_share(glyphs) >= GARBLED_SHARE) is garbled


@pytest.fixture(scope="module")
def garbled_read(hostile: dict[str, Path]) -> ReadResult | ReaderError:
    """The garbled page read with OCR (about 5 to 10 s), or the error when OCR is missing."""
    try:
        return read_pdf(hostile["garbled_text_layer"])
    except ReaderError as exc:
        return exc


@pytest.mark.skipif(not OCR_INSTALLED, reason="rapidocr-onnxruntime is not installed")
def test_a_garbled_page_is_read_by_ocr(garbled_read: ReadResult | ReaderError) -> None:
    assert isinstance(garbled_read, ReadResult), garbled_read
    assert garbled_read.ocr is True
    assert garbled_read.metadata["garbled_pages"] == "1" == garbled_read.metadata["ocr_pages"]
    assert "安排经费3336.96万元" in garbled_read.text
    assert "(cid:" not in garbled_read.text


@pytest.mark.skipif(OCR_INSTALLED, reason="rapidocr-onnxruntime is installed")
def test_a_garbled_page_without_ocr_installed_says_what_is_needed(
        garbled_read: ReadResult | ReaderError) -> None:
    assert isinstance(garbled_read, ReaderError)
    assert "text without a Unicode map" in str(garbled_read) and "rapidocr" in str(garbled_read)


def test_a_garbled_page_is_skipped_when_ocr_is_off(hostile: dict[str, Path]) -> None:
    with pytest.raises(ReaderError, match=r"no text layer that reads \(fonts without a Unicode "
                                          r"map on page 1\) and OCR is disabled"):
        read_pdf(hostile["garbled_text_layer"], ocr=False)


def test_a_readable_pdf_has_no_garbled_pages() -> None:
    result = read_pdf(HERE / "fixtures" / "generated" / "report_text.pdf", ocr=False)
    assert "garbled_pages" not in result.metadata and result.ocr is False
