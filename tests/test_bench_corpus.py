"""The benchmark corpus (bench/corpus.py): every copy distinct, and still a report of its format.

Each copy is read by ``pipeline.batch.process_file`` and must give what its source gives (same
number of rows in every table) under a new ``report_id`` (new text), except ``.doc`` copies, which
differ in bytes only (see the corpus docstring). The scanned PDF is not OCR-read here (about 5 s a
page on one core): its copy is checked with pdfplumber, like every PDF copy, to open and give the
source's pages unchanged plus the copy line on a new last page.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

from pipeline.batch import FileResult, process_file
from pipeline.readers.convert import soffice_path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
sys.modules["bench_corpus"] = corpus
_spec.loader.exec_module(corpus)

COPIES = 2  # of each format: 14 files


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source_of(copy: Path) -> Path:
    """The bundled file a corpus file was copied from (``<n>_<stem>[_scan].<suffix>``)."""
    name = copy.name.split("_", 1)[1]
    if name.endswith("_scan.pdf"):
        return corpus.RENDERED / "scan" / name.replace("_scan", "")
    return (corpus.SEEDS_DIR if name.endswith(".txt") else corpus.RENDERED) / name


def _counts(result: FileResult) -> dict[str, int]:
    assert result.error is None, result.error
    return {table: len(rows) for table, rows in result.rows.items()}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    base = tmp_path_factory.mktemp("corpus")
    return {fmt: corpus.make_corpus(base / fmt, COPIES, [fmt], seed=3) for fmt in corpus.FORMATS}


def test_every_file_is_distinct(files: dict[str, list[Path]]) -> None:
    paths = [p for group in files.values() for p in group]
    assert len(paths) == COPIES * len(corpus.FORMATS)
    assert len({_sha(p) for p in paths}) == len(paths)
    assert not {_sha(p) for p in paths} & {_sha(s.path) for s in corpus.sources()}


def test_two_copies_of_one_source_differ(tmp_path: Path) -> None:
    n = len(corpus.sources())
    paths = corpus.make_corpus(tmp_path / "mixed", 2 * n, seed=1)
    assert len({_sha(p) for p in paths}) == 2 * n
    by_source: dict[Path, int] = {}
    for p in paths:
        by_source[_source_of(p)] = by_source.get(_source_of(p), 0) + 1
    assert set(by_source.values()) == {2}  # every bundled file twice, each copy its own bytes


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    a = corpus.make_corpus(tmp_path / "a", 9, ["txt", "docx", "pdf", "html", "xlsx"], seed=5)
    b = corpus.make_corpus(tmp_path / "b", 9, ["txt", "docx", "pdf", "html", "xlsx"], seed=5)
    c = corpus.make_corpus(tmp_path / "c", 9, ["txt", "docx", "pdf", "html", "xlsx"], seed=6)
    assert [p.name for p in a] == [p.name for p in b]
    assert [_sha(p) for p in a] == [_sha(p) for p in b]
    assert {_sha(p) for p in a}.isdisjoint(_sha(p) for p in c)


def test_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(corpus.CorpusError, match="not empty"):
        corpus.make_corpus(tmp_path, 1, ["txt"])


@pytest.mark.parametrize("fmt", [f for f in corpus.FORMATS if f != "scan"])
def test_copies_read_like_their_source(files: dict[str, list[Path]], fmt: str) -> None:
    if fmt == "doc" and soffice_path() is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-writer-nogui")
    for copy in files[fmt]:
        got, source = process_file(copy), process_file(_source_of(copy))
        assert _counts(got) == _counts(source), copy.name
        same_text = got.rows["reports"][0]["report_id"] == source.rows["reports"][0]["report_id"]
        assert same_text == (fmt in corpus.BYTES_ONLY), copy.name


@pytest.mark.parametrize("fmt", ["pdf", "scan"])
def test_pdf_copies_keep_their_pages_and_add_one(files: dict[str, list[Path]], fmt: str) -> None:
    import pdfplumber

    for n, copy in enumerate(files[fmt]):
        with pdfplumber.open(copy) as got, pdfplumber.open(_source_of(copy)) as source:
            assert len(got.pages) == len(source.pages) + 1
            for mine, theirs in zip(got.pages, source.pages):
                assert mine.extract_text() == theirs.extract_text()
                assert len(mine.images) == len(theirs.images)
            assert got.pages[-1].extract_text() == corpus.copy_line(3, n)


def test_docstring_examples() -> None:
    import doctest

    assert doctest.testmod(corpus).failed == 0
