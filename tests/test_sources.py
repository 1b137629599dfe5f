"""One report, several sources: real renderings of a seed (tests/fixtures/rendered) written into a
real store become one ``reports`` row with a ``sources`` row per file, whatever order and
however many chunks they arrive in; distinct reports are never merged."""
from __future__ import annotations

import functools
import itertools
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.batch import Chunk, process_chunk, process_file
from pipeline.dataset import Store, read_table
from pipeline.sources import NEAR_TEXT, comparable_text, match_key, similarity
from tests.conftest import SAMPLE_DOCS, SEEDS

RENDERED = Path(__file__).resolve().parent / "fixtures" / "rendered"
SEED = "004_d31b608c1de2d819"  # the seed rendered as .docx, .pdf and .html
RENDERINGS = [SEEDS / f"{SEED}.txt"] + [RENDERED / f"{SEED}.{ext}" for ext in ("docx", "pdf", "html")]
COMPARED = ["report_id", "source", "format", "total_score", "n_amounts"]


@functools.lru_cache(maxsize=None)
def chunk_of(*paths: Path) -> Chunk:
    return process_chunk(list(paths))


def write_chunks(out: Path, batches: list[list[Path]]) -> dict[str, pd.DataFrame]:
    """Write each batch as one chunk (as ``jixiao run`` does) and return the tables compared."""
    with Store(out) as store:
        for batch in batches:
            chunk = chunk_of(*batch)
            files = [{"source": s, "sha256": "0" * 64, "size": 1, "pipeline_version": "v",
                      "report_id": rid, "status": "ok" if rid else "failed"} for s, rid in chunk.outcomes]
            store.write(chunk.rows, chunk.errors, files)
        store.export()
    tables = {t: read_table(out, t) for t in ("reports", "sources", "files", "amounts")}
    tables["reports"] = tables["reports"][COMPARED]
    tables["sources"] = tables["sources"].drop(columns="fetched_at")
    tables["files"] = tables["files"].sort_values("source").reset_index(drop=True)
    return tables


def test_a_docx_and_its_pdf_in_one_chunk_are_one_report_with_two_sources(tmp_path: Path) -> None:
    docx, pdf = RENDERED / "003_cbba9d689f5f66a1.docx", RENDERED / "003_cbba9d689f5f66a1.pdf"
    tables = write_chunks(tmp_path, [[pdf, docx]])
    [report] = tables["reports"].to_dict("records")
    assert report["source"] == str(docx) and report["format"] == "docx"  # Word over PDF
    sources = tables["sources"].set_index("source")
    assert list(sources.index) == [str(docx), str(pdf)]
    assert (sources["report_id"] == report["report_id"]).all()
    assert sources.loc[str(docx), ["is_primary", "matched_by"]].tolist() == [True, "self"]
    assert sources.loc[str(pdf), ["is_primary", "matched_by"]].tolist() == [False, "near_text"]
    assert sources.loc[str(pdf), "similarity"] >= 0.99
    assert sources.loc[str(pdf), "text_id"] != report["report_id"]  # its own text, not the kept one
    # the kept values are the docx's: every amount was read in a paragraph or table, none on a page
    assert tables["amounts"]["provenance"].str.match(r"^(paragraph|table)=").all()
    files = tables["files"].set_index("source")
    assert files["status"].to_dict() == {str(docx): "ok", str(pdf): "duplicate"}
    assert (files["report_id"] == report["report_id"]).all()


def test_the_second_format_added_in_a_later_run_gives_the_same_dataset(tmp_path: Path) -> None:
    docx, pdf = RENDERED / "003_cbba9d689f5f66a1.docx", RENDERED / "003_cbba9d689f5f66a1.pdf"
    together = write_chunks(tmp_path / "together", [[docx, pdf]])
    for first, second in ((pdf, docx), (docx, pdf)):
        out = tmp_path / f"{first.suffix}-first"
        write_chunks(out, [[first]])
        later = write_chunks(out, [[second]])
        for table, df in together.items():
            pd.testing.assert_frame_equal(later[table], df, obj=table)
        again = write_chunks(out, [[first], [second]])  # both read again: nothing doubles
        for table, df in together.items():
            pd.testing.assert_frame_equal(again[table], df, obj=table)


ORDERS = [list(p) for p in itertools.permutations(RENDERINGS)][::5]


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "-".join(p.suffix[1:] for p in o))
def test_four_renderings_in_any_order_and_chunks_keep_the_docx(tmp_path: Path, order: list[Path]) -> None:
    expected = write_chunks(tmp_path / "one-chunk", [RENDERINGS])
    got = write_chunks(tmp_path / "one-by-one", [[p] for p in order])
    for table in ("reports", "files", "amounts"):
        pd.testing.assert_frame_equal(got[table], expected[table], obj=table)
    sources = got["sources"].set_index("source")
    assert sources.index.tolist() == sorted(map(str, RENDERINGS))
    assert sources[sources["is_primary"]].index.tolist() == [str(RENDERED / f"{SEED}.docx")]
    assert (sources["similarity"] >= NEAR_TEXT).all() and sources["report_id"].nunique() == 1
    assert got["reports"]["source"].tolist() == [str(RENDERED / f"{SEED}.docx")]


def test_the_same_text_under_two_names_gets_a_source_row_each(tmp_path: Path) -> None:
    seed = SEEDS / "000_d3cc648647006a27.txt"
    shutil.copy(seed, tmp_path / "a.txt")
    shutil.copy(seed, tmp_path / "b.txt")
    tables = write_chunks(tmp_path / "out", [[tmp_path / "b.txt"], [tmp_path / "a.txt"]])
    assert tables["reports"]["source"].tolist() == [str(tmp_path / "a.txt")]
    sources = tables["sources"].set_index("source")
    assert sources["matched_by"].to_dict() == {str(tmp_path / "a.txt"): "self",
                                               str(tmp_path / "b.txt"): "same_text"}
    assert sources["text_id"].nunique() == 1


def test_distinct_reports_of_one_unit_year_and_kind_stay_two(tmp_path: Path) -> None:
    # seed 002 made into a report of seed 000's unit and year: the same key, another text
    other = SEEDS / "000_d3cc648647006a27.txt"
    text = (SEEDS / "002_cd3eff31d36cdc54.txt").read_text(encoding="utf-8")
    (tmp_path / "same_key.txt").write_text(
        text.replace("重庆市璧山区人民政府青杠街道办事处", "重庆市璧山区广普镇人民政府")
        .replace("青杠街道", "广普镇").replace("2023年", "2024年"), encoding="utf-8")
    [a, b] = [process_file(p).rows for p in (other, tmp_path / "same_key.txt")]
    assert match_key(a["reports"][0]) == match_key(b["reports"][0]) is not None
    tables = write_chunks(tmp_path / "out", [[other, tmp_path / "same_key.txt"]])
    assert len(tables["reports"]) == 2
    assert tables["sources"]["is_primary"].all()
    assert set(tables["files"]["status"]) == {"ok"}


def test_the_other_rendering_of_a_report_whose_kept_file_changed_is_read_again(tmp_path: Path) -> None:
    docx = tmp_path / "item.docx"
    pdf = RENDERED / "003_cbba9d689f5f66a1.pdf"
    shutil.copy(RENDERED / "003_cbba9d689f5f66a1.docx", docx)
    out = tmp_path / "out"
    write_chunks(out, [[docx, pdf]])
    shutil.copy(RENDERED / "000_d3cc648647006a27.docx", docx)  # the file now holds another report
    chunk = process_chunk([docx])
    with Store(out) as store:
        written = store.write(chunk.rows, chunk.errors, [])
        assert written.orphans == [str(pdf)]
        assert store.con.execute("SELECT count(*) FROM sources WHERE source = ?",
                                 [str(pdf)]).fetchall() == [(0,)]
        again = process_chunk([pdf])
        store.write(again.rows, again.errors, [])
        assert sorted(r[0] for r in store.con.execute("SELECT source FROM reports").fetchall()) \
            == sorted([str(docx), str(pdf)])


def test_a_dataset_from_before_the_sources_table_lists_each_reports_file(tmp_path: Path) -> None:
    write_chunks(tmp_path, [[SEEDS / "000_d3cc648647006a27.txt"]])
    with Store(tmp_path) as store:
        store.con.execute("DROP TABLE sources")
    with Store(tmp_path) as store:
        rows = store.con.execute("SELECT source, is_primary, matched_by FROM sources").fetchall()
    assert rows == [(str(SEEDS / "000_d3cc648647006a27.txt"), True, "self")]


# -- the threshold, against the figures pipeline/sources.py states ------------------------------

@functools.lru_cache(maxsize=None)
def comparable(path: Path) -> tuple[str, str | None]:
    rows = process_file(path).rows
    return comparable_text(rows["texts"][0]["text"]), rows["reports"][0]["report_kind"]


RENDERED_PAIRS = [(SEEDS / f"{p.stem}.txt", p) for p in sorted(RENDERED.glob("*.*"))
                  if p.suffix in (".docx", ".pdf", ".html")]


@pytest.mark.parametrize("seed, rendering", RENDERED_PAIRS, ids=lambda p: p.name)
def test_a_seed_and_its_rendering_are_near_identical(seed: Path, rendering: Path) -> None:
    assert similarity(comparable(seed)[0], comparable(rendering)[0]) >= 0.99


def test_distinct_reports_of_one_kind_are_far_below_the_threshold() -> None:
    docs = sorted(SEEDS.glob("*.txt")) + sorted(SAMPLE_DOCS.glob("*"))
    closest = max(similarity(comparable(a)[0], comparable(b)[0])
                  for a, b in itertools.combinations(docs, 2) if comparable(a)[1] == comparable(b)[1])
    assert 0.3 < closest < 0.5 < NEAR_TEXT
