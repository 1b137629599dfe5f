"""Every format portals publish, end to end: each rendering of the seeds scores like the text
version, a folder mixing all formats (and broken files) becomes one dataset, and ``format`` and
``provenance`` say where each value was read.

The renderings are committed fixtures (tests/fixtures/render_seeds.py made them), so only the
.doc conversion needs LibreOffice; the scanned PDF runs OCR (about a minute on one core).
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline.batch import combine, process_file
from pipeline.dataset import read_table, write_dataset
from pipeline.readers.convert import soffice_path
from scripts.score_renderings import RENDERED, compare, renderings
from tests.conftest import SEED_GOLD, SEEDS, SHARED

# A workbook holds only its report's scoring form (自评表): only indicators are comparable.
COMPARED = {"xlsx": ("indicators_f1",)}
DEFAULT_COMPARED = ("amounts_f1", "percentages_f1", "indicators_f1")
TOLERANCE = 0.02
FORMATS = sorted(renderings())


def _needs(fmt: str) -> list[pytest.MarkDecorator]:
    if fmt == "doc" and soffice_path() is None:
        return [pytest.mark.skip(reason="LibreOffice (soffice) is not installed: apt-get install -y "
                                        "libreoffice-writer-nogui")]
    return []


@functools.lru_cache(maxsize=None)
def scores(fmt: str) -> tuple[dict[str, float], dict[str, float]]:
    """(rendering's by-value scores, text version's by-value scores), computed once a format."""
    got, text, _ = compare(renderings()[fmt])
    return got, text


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=_needs(f)) for f in FORMATS])
def test_rendering_scores_within_tolerance_of_text(fmt: str) -> None:
    got, text = scores(fmt)
    for measure in COMPARED.get(fmt, DEFAULT_COMPARED):
        assert got[measure] >= text[measure] - TOLERANCE, \
            f"{fmt} {measure} = {got[measure]:.3f}, text version {text[measure]:.3f}"


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=_needs(f)) for f in ("docx", "doc")])
def test_word_renderings_recover_every_numbered_heading(fmt: str) -> None:
    got, _ = scores(fmt)
    assert got["sections_l1_f1"] == 1.0
    assert got["sections_l2_f1"] >= 0.90


def test_scanned_pdf_amounts_by_ocr() -> None:
    got, _ = scores("scan")
    assert got["amounts_f1"] >= 0.90


def test_every_seed_has_a_docx_and_a_pdf_rendering() -> None:
    stems = {p.stem for p in SEEDS.glob("*.txt")}
    assert {p.stem for p in renderings()["docx"]} == stems
    assert {p.stem for p in renderings()["pdf"]} == stems
    assert renderings()["scan"] and renderings()["html"] and renderings()["xlsx"]


# -- the shared yardstick, where it is beside the repository ------------------------------------

def _score_py(files: list[Path], out: Path, gold: Path) -> dict[str, float]:
    rows, errors = combine([process_file(f) for f in files])
    assert not errors, errors
    write_dataset(out, rows, errors)
    gold.mkdir()
    for f in files:
        shutil.copy(SEED_GOLD / f"{f.stem}.json", gold / f"{f.stem}.json")
    proc = subprocess.run([sys.executable, str(SHARED / "tools" / "score.py"), "--gold", str(gold),
                           "--pred", str(out), "--by-value"], capture_output=True, text=True,
                          check=False)
    line = proc.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:]) if k != "docs"}


@pytest.mark.skipif(not (SHARED / "tools" / "score.py").exists(),
                    reason="shared scorer not beside the repo")
@pytest.mark.parametrize("fmt", [pytest.param(f, marks=_needs(f)) for f in FORMATS if f != "scan"])
def test_shared_scorer_by_value_agrees(tmp_path: Path, fmt: str) -> None:
    files = renderings()[fmt]
    got = _score_py(files, tmp_path / "fmt", tmp_path / "gold_fmt")
    text = _score_py([SEEDS / f"{f.stem}.txt" for f in files], tmp_path / "txt", tmp_path / "gold_txt")
    for measure in COMPARED.get(fmt, DEFAULT_COMPARED):
        assert got[measure] >= text[measure] - TOLERANCE, f"score.py {fmt} {measure}"


# -- a folder of every format, broken files among them, through the Prefect flow ----------------

def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as handle:
            for _ in range(300):
                handle.write(bytes(1024 * 1024))
    return path


def _empty_workbook(path: Path) -> Path:
    import openpyxl

    openpyxl.Workbook().save(path)
    return path


LISTING = ("<html><head><meta charset='utf-8'><title>通知公告</title></head><body><ul>"
           + "".join(f"<li><a href='/t{i}.html'>关于2024年度绩效自评结果的公示{i}</a>"
                     f"<span>2025-0{i}-01</span></li>" for i in range(1, 8))
           + "</ul></body></html>")

BROKEN = {  # file name -> (how to make it, what its errors row must say)
    "corrupt.docx": (lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "zip"),
    "bomb.docx": (_zip_bomb, "MB limit"),
    "encrypted.pdf": (lambda p: shutil.copy(RENDERED.parent / "generated" / "encrypted.pdf", p),
                      "encrypted"),
    "scan-only.pdf": (lambda p: shutil.copy(RENDERED / "scan" / "004_d31b608c1de2d819.pdf", p),
                      "OCR is disabled"),
    "empty.xlsx": (_empty_workbook, "no cells with content"),
    "listing.html": (lambda p: p.write_text(LISTING, encoding="utf-8"), "no article text"),
}


@pytest.fixture(scope="module")
def mixed_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from prefect.testing.utilities import prefect_test_harness

    from flows import process_reports

    raw = tmp_path_factory.mktemp("mixed")
    item = raw / "item-003"  # one portal item: the report and its scoring form
    item.mkdir()
    shutil.copy(RENDERED / "003_cbba9d689f5f66a1.docx", item)
    shutil.copy(RENDERED / "003_cbba9d689f5f66a1.xlsx", item)
    for name in ("000_d3cc648647006a27.docx", "001_de8ade2d5ebbdf4b.pdf",
                 "004_d31b608c1de2d819.html"):
        shutil.copy(RENDERED / name, raw)
    shutil.copy(SEEDS / "002_cd3eff31d36cdc54.txt", raw)
    for name, (make, _) in BROKEN.items():
        make(raw / name)
    out = tmp_path_factory.mktemp("dataset")
    with prefect_test_harness(server_startup_timeout=120):
        state = process_reports(paths=[str(raw)], out=str(out), ocr=False, return_state=True)
    summary = state.result(raise_on_failure=False).summary
    assert state.is_failed() and summary["files"] == 6 + len(BROKEN)
    assert summary["processed"] == 6 and summary["failed"] == len(BROKEN)
    return out


def test_mixed_folder_gives_one_dataset_with_formats(mixed_dataset: Path) -> None:
    reports = read_table(mixed_dataset, "reports")
    assert sorted(reports["format"]) == ["docx", "docx", "html", "pdf", "txt", "xlsx"]
    narrative = reports[reports["format"] != "xlsx"]
    assert (narrative["n_sections"] > 0).all() and (narrative["n_amounts"] > 0).all()
    assert not reports["ocr"].any()


def test_broken_files_are_error_rows_that_say_why(mixed_dataset: Path) -> None:
    errors = read_table(mixed_dataset, "errors")
    by_file = {Path(s).name: m for s, m in zip(errors["source"], errors["message"])}
    assert set(by_file) == set(BROKEN)
    for name, (_, says) in BROKEN.items():
        assert says in by_file[name], f"{name}: {by_file[name]}"


def test_scoring_form_is_linked_to_its_report(mixed_dataset: Path) -> None:
    rows = read_table(mixed_dataset, "reports")
    form = rows[rows["format"] == "xlsx"].iloc[0]
    report = rows[rows["source"].str.endswith("003_cbba9d689f5f66a1.docx")].iloc[0]
    assert form["linked_report_id"] == report["report_id"]
    indicators = read_table(mixed_dataset, "indicators")
    from_form = indicators[indicators["report_id"] == form["report_id"]]
    assert len(from_form) >= 10 and (from_form["origin"] == "table").all()
    assert from_form["provenance"].str.startswith("sheet=").all()


def test_where_says_page_paragraph_or_line(mixed_dataset: Path) -> None:
    reports = read_table(mixed_dataset, "reports")
    amounts = read_table(mixed_dataset, "amounts").merge(reports[["report_id", "format"]])
    patterns = {"pdf": r"^page=\d+$", "docx": r"^(paragraph|table)=\d+", "txt": r"^line=\d+$",
                "html": r"^(paragraph|table|heading)"}
    for fmt, pattern in patterns.items():
        where = amounts[amounts["format"] == fmt]["provenance"]
        assert len(where) and where.str.match(pattern).all(), (fmt, where.head().tolist())


def test_page_metadata_goes_to_reports(mixed_dataset: Path) -> None:
    reports = read_table(mixed_dataset, "reports")
    page = reports[reports["format"] == "html"].iloc[0]
    assert page["title"] and "绩效" in page["title"]
    assert page["published"] and len(page["published"]) == 10


def test_readme_query_lists_the_forms_indicators_under_their_report(mixed_dataset: Path) -> None:
    import duckdb

    from tests.test_docs import SQL_EXAMPLES

    query = next(q for q in SQL_EXAMPLES if "linked_report_id" in q)
    con = duckdb.connect(str(mixed_dataset / "jixiao.duckdb"), read_only=True)
    try:
        rows = con.execute(query).fetchall()
    finally:
        con.close()
    assert len(rows) >= 10
    assert {Path(report).name for _, report, *_ in rows} == {"003_cbba9d689f5f66a1.docx"}


def test_an_ocr_read_report_is_marked_in_reports() -> None:
    [scan] = renderings()["scan"]
    result = process_file(scan)
    assert result.error is None
    [report] = result.rows["reports"]
    assert report["ocr"] is True and report["format"] == "pdf"
    assert report["n_amounts"] > 0
    assert all(a["provenance"].startswith("page=") for a in result.rows["amounts"])


@pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("source, name", [
    (RENDERED / "000_d3cc648647006a27.doc", "report.wps"),  # WPS writes Word 97 content as .wps
    (RENDERED.parent / "generated" / "kpi_table.xls", "自评表.et"),  # and Excel 97 content as .et
])
def test_wps_files_go_through_libreoffice(tmp_path: Path, source: Path, name: str) -> None:
    from pipeline.ingest import read_document

    path = tmp_path / name
    shutil.copy(source, path)
    doc = read_document(path)
    assert doc.format == path.suffix.lstrip(".")
    if doc.format == "wps":
        assert doc.text.startswith(read_document(source).text[:40])
        assert any(b.kind == "heading" and b.level == 1 for b in doc.blocks)
    else:
        direct = read_document(source)
        assert [r.cells for r in doc.tables[0].rows] == [r.cells for r in direct.tables[0].rows]
        assert doc.tables[0].rows[0].cells[0] == "2024年度项目支出绩效自评表"
