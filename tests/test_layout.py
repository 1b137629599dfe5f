"""Appended tables in both flattened renderings, and where the narrative ends (body_end)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.ingest import document_from_text, read_document
from tests.conftest import SAMPLE_DOCS, SAMPLE_GOLD, SEED_GOLD, SEEDS, gold_case

TABBED = ("正文最后一段。\n\nSheet1\n\n\t\t一级指标\t\t二级指标\t\t三级指标\t\t分值\n\n"
          "\t\t产出指标\t\t数量指标\t\t培训次数\t\t5\n\n\t\t\t\t\t\t满意度\t\t5\n")
CELL_PER_LINE = ("正文。\n附件1-2\n自评表\n\t一级指标\n\t三级指标\n\t分值\n\n\t产出指标\n\t培训\n次数\n\t10\n\n"
                 "\t\n\t满意度\n\t5\n")


def test_tabbed_table_cells_and_caption() -> None:
    doc = document_from_text(TABBED, "t.txt")
    assert doc.body_end == TABBED.index("Sheet1")
    [table] = doc.tables
    assert table.caption == "Sheet1" and table.rendering == "tabbed"
    assert [c for c in table.rows[1].cells if c] == ["产出指标", "数量指标", "培训次数", "5"]
    assert doc.text[table.rows[1].start:table.rows[1].end].strip().startswith("产出指标")
    assert table.rows[2].cells[:6] == ["", "", "", "", "", ""]  # merged cells stay empty


def test_cell_per_line_table_with_continuation_lines() -> None:
    doc = document_from_text(CELL_PER_LINE, "t.txt")
    assert doc.body_end == CELL_PER_LINE.index("附件1-2")
    [table] = doc.tables
    assert table.rendering == "cell_per_line"
    assert table.rows[1].cells == ["", "产出指标", "培训\n次数", "10"]
    assert table.rows[2].cells == ["", "", "满意度", "5"]


def test_enclosure_list_is_not_an_attachment() -> None:
    text = "七、结论\n正文。\n附件：1.部门整体支出绩效评价基础数据表\n2.部门整体支出绩效自评表\n某某镇人民政府\n"
    assert document_from_text(text, "t.txt").body_end == len(text)


def test_inline_attachment_form_starts_the_appendix() -> None:
    text = "标题 元数据 附件: 项目支出绩效自评表 (2022年度) 项目名称 委托业务项目"
    assert document_from_text(text, "t.txt").body_end == text.index("附件")


@pytest.mark.parametrize("doc_path,gold_path", [
    gold_case("test_body_end_matches_gold", doc, doc, gold) for doc, gold in [
        *[(p, SEED_GOLD / f"{p.stem}.json") for p in sorted(SEEDS.glob("*.txt"))],
        *[(p, SAMPLE_GOLD / f"{p.stem}.json") for p in sorted(SAMPLE_DOCS.glob("*.txt"))]]])
def test_body_end_matches_gold(doc_path: Path, gold_path: Path) -> None:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    assert read_document(doc_path).body_end == gold["body_end"]
