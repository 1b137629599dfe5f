"""The .docx reader: real list markers, real table grids, damaged files and zip bombs refused.

The seed fixtures in ``tests/fixtures/rendered/`` are the five seed reports rendered as Word files
by ``tests/fixtures/render_seeds.py``: headings numbered by Word (``numbering.xml``), not typed, and
the appended tables as real Word tables with merged cells. The small hand-written packages below
(``EXAMPLES``) pin one numbering or body rule each.
"""
from __future__ import annotations

import functools
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline.ingest import read_document
from pipeline.normalize import normalize
from pipeline.readers import ReaderError, ReadResult
from pipeline.readers.convert import convert_with_libreoffice, converted, soffice_path
from pipeline.readers.docx import read_docx
from tests.conftest import SEED_GOLD, SEEDS

RENDERED = Path(__file__).parent / "fixtures" / "rendered"
STEMS = sorted(p.stem for p in SEEDS.glob("*.txt"))
CN = "一二三四五六七八九十"


@functools.lru_cache(maxsize=None)
def rendered(stem: str) -> ReadResult:
    return read_docx(RENDERED / f"{stem}.docx")


def _gold(stem: str) -> dict[str, Any]:
    gold: dict[str, Any] = json.loads((SEED_GOLD / f"{stem}.json").read_text(encoding="utf-8"))
    return gold


def _headings(result: ReadResult, level: int) -> list[str]:
    return [result.text[b.start:b.end] for b in result.blocks
            if b.kind == "heading" and b.level == level]


# ---------------------------------------------------------------------------------------------
# The seeds rendered as Word files
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stem", STEMS)
def test_level1_headings_get_their_real_markers(stem: str) -> None:
    """Every level-1 gold heading is a heading block starting with its Chinese marker, including
    the ones the seeds' text conversion printed as ``2、`` or ``4、``."""
    level1 = [s for s in _gold(stem)["sections"] if s["level"] == 1]
    headings = _headings(rendered(stem), 1)
    assert len(headings) == len(level1)
    for ordinal, (text, section) in enumerate(zip(headings, level1, strict=True)):
        assert text.startswith(f"{CN[ordinal]}、{section['title']}"), (text, section)


@pytest.mark.parametrize("stem", STEMS)
def test_level2_headings_count_again_under_each_level1(stem: str) -> None:
    expected, counter = [], 0
    for section in _gold(stem)["sections"]:
        if section["level"] == 1:
            counter = 0
            continue
        counter += 1
        expected.append(f"（{CN[counter - 1]}）{section['title']}")
    headings = _headings(rendered(stem), 2)
    assert len(headings) == len(expected)
    for text, want in zip(headings, expected, strict=True):
        assert text.startswith(want), (text, want)


def test_the_markers_come_from_numbering_not_from_the_text() -> None:
    """The fixture is what it claims: a reader that ignores numbering.xml finds no marker."""
    with zipfile.ZipFile(RENDERED / "000_d3cc648647006a27.docx") as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
        numbering = archive.read("word/numbering.xml").decode("utf-8")
    assert ">主要成效<" in xml and "二、" not in xml and "（一）" not in xml
    assert 'w:val="chineseCounting"' in numbering and 'w:val="%1、"' in numbering


def test_heading_styles_named_the_chinese_way_are_headings() -> None:
    """Seed 002 was 'saved by WPS': styles 标题 1/标题 2 with styleIds 1/2."""
    with zipfile.ZipFile(RENDERED / "002_cd3eff31d36cdc54.docx") as archive:
        assert 'w:val="标题 1"' in archive.read("word/styles.xml").decode("utf-8")
    result = rendered("002_cd3eff31d36cdc54")
    assert _headings(result, 1)[0] == "一、基本情况"
    assert result.metadata["application"].startswith("WPS Office")


def _squash(cells: list[str]) -> list[str]:
    """Cells compared as the analysis text sees them, without whitespace (the seeds break long
    cells over lines where Word wraps them), trailing empty cells dropped."""
    out = [re.sub(r"\s+", "", normalize(cell)) for cell in cells]
    while out and not out[-1]:
        out.pop()
    return out


@pytest.mark.parametrize("stem", STEMS)
def test_tables_read_into_the_seeds_grids(stem: str) -> None:
    """Row for row, the Word tables give the grids the text layout reads from the seed: merged
    cells read as the value in the top-left cell and '' elsewhere, and cell 0 of the text
    rendering (the text before a row's first tab) is not a cell. Where text stood between two
    rows of one text table, the Word file has two tables."""
    seed = read_document(SEEDS / f"{stem}.txt")
    expected = [_squash(row.cells[1:]) for table in seed.tables for row in table.rows]
    result = rendered(stem)
    got = [_squash(row.cells) for table in result.tables for row in table.rows]
    assert got == expected
    assert len(result.tables) >= len(seed.tables)


@pytest.mark.parametrize("stem", STEMS)
def test_offsets_slice_back_to_blocks_and_rows(stem: str) -> None:
    result = rendered(stem)
    previous_end = -1
    for block in result.blocks:
        assert block.start > previous_end and result.text[block.start:block.end].strip()
        assert re.fullmatch(r"paragraph=\d+|table=\d+,row=\d+", block.where)
        previous_end = block.end
    for table in result.tables:
        width = len(table.rows[0].cells)
        for row in table.rows:
            assert len(row.cells) == width
            assert result.text[row.start:row.end] == "\t".join(row.cells)
            assert "\n" not in result.text[row.start:row.end]


def test_merged_cells_keep_the_value_top_left() -> None:
    table = rendered("001_de8ade2d5ebbdf4b").tables[0]
    grid = [row.cells for row in table.rows]
    # 部门整体绩效情况 heads the indicator rows below it (a vertical merge) …
    head = next(r for r, cells in enumerate(grid) if cells[1] == "部门整体绩效情况")
    assert grid[head + 1][1] == "" and grid[head + 2][3] == "产出指标"
    # … and 部门名称 spans the columns up to the unit name (a horizontal merge)
    name_row = next(cells for cells in grid if cells[1] == "部门名称")
    assert name_row[2:13] == [""] * 11 and name_row[13] == "渠县宝城镇人民政府"
    assert table.caption == "Sheet1" and table.rendering == "grid"


def test_metadata_comes_from_the_package() -> None:
    meta = rendered("000_d3cc648647006a27").metadata
    assert meta["title"] == "2024年度整体支出绩效自评报告"
    assert meta["author"] == "重庆市璧山区广普镇人民政府"
    assert meta["format"] == "docx" and meta["tables"] == "0"
    assert meta["created"].startswith("2025-03-01")


# ---------------------------------------------------------------------------------------------
# Hand-written packages: one rule each
# ---------------------------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DECL = (f'xmlns:w="{W}" '
         'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
         'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
         'xmlns:v="urn:schemas-microsoft-com:vml"')
_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
         '</Relationships>')
_DOC_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
             '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
             'officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship '
             'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
             'numbering" Target="numbering.xml"/></Relationships>')
# the outline list of a 公文 template: 一、 （一） 1. with the (2) level of a legal list
_NUMBERING = (
    f'<w:numbering {_DECL}>'
    '<w:abstractNum w:abstractNumId="0">'
    '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
    '<w:lvlText w:val="%1、"/><w:suff w:val="nothing"/></w:lvl>'
    '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
    '<w:lvlText w:val="（%2）"/></w:lvl>'
    '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/>'
    '</w:lvl></w:abstractNum>'
    '<w:abstractNum w:abstractNumId="1">'
    '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1"/>'
    '</w:lvl><w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
    '<w:lvlText w:val="%1.%2"/><w:isLgl/></w:lvl></w:abstractNum>'
    '<w:abstractNum w:abstractNumId="2"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
    '<w:numFmt w:val="bullet"/><w:lvlText w:val="\uf06c"/></w:lvl></w:abstractNum>'
    '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
    '<w:num w:numId="2"><w:abstractNumId w:val="0"/>'
    '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="3"/></w:lvlOverride></w:num>'
    '<w:num w:numId="3"><w:abstractNumId w:val="0"/></w:num>'
    '<w:num w:numId="4"><w:abstractNumId w:val="1"/></w:num>'
    '<w:num w:numId="5"><w:abstractNumId w:val="2"/></w:num>'
    '</w:numbering>')
_STYLES = (
    f'<w:styles {_DECL}>'
    '<w:style w:type="paragraph" w:default="1" w:styleId="a"><w:name w:val="Normal"/></w:style>'
    '<w:style w:type="paragraph" w:styleId="1"><w:name w:val="标题 1"/><w:basedOn w:val="a"/>'
    '<w:pPr><w:numPr><w:numId w:val="1"/></w:numPr><w:outlineLvl w:val="0"/></w:pPr></w:style>'
    '<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/><w:basedOn w:val="a"/>'
    '<w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr></w:pPr></w:style>'
    '<w:style w:type="paragraph" w:styleId="TOC1"><w:name w:val="toc 1"/></w:style>'
    '</w:styles>')


def docx_bytes(body: str, numbering: str = _NUMBERING, styles: str = _STYLES) -> bytes:
    """A minimal .docx package around ``body`` (the children of ``w:body``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/_rels/document.xml.rels", _DOC_RELS)
        archive.writestr("word/document.xml", f'<w:document {_DECL}><w:body>{body}</w:body>'
                                              f'</w:document>')
        archive.writestr("word/styles.xml", styles)
        archive.writestr("word/numbering.xml", numbering)
    return buffer.getvalue()


def p(text: str, num: tuple[int, int] | None = None, style: str | None = None,
      runs: str | None = None) -> str:
    """A paragraph: list (numId, ilvl), style id, and either plain text or raw runs."""
    ppr = ""
    if style or num:
        ppr = "<w:pPr>" + (f'<w:pStyle w:val="{style}"/>' if style else "") + (
            f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>'
            if num else "") + "</w:pPr>"
    return f"<w:p>{ppr}{runs if runs is not None else f'<w:r><w:t>{text}</w:t></w:r>'}</w:p>"


def tc(text: str = "", props: str = "") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{p(text)}</w:tc>"


@dataclass
class Example:
    name: str
    body: str
    lines: list[str]  # the text, line by line
    levels: list[int | None] = field(default_factory=list)  # heading level per block, if given
    metadata: dict[str, str] = field(default_factory=dict)


EXAMPLES = [
    Example("outline: 一、 then （一） restarting under each level 1, decimal items below",
            p("基本情况", (1, 0)) + p("单位构成", (1, 1)) + p("职能职责", (1, 1))
            + p("安全", (1, 2)) + p("主要成效", (1, 0)) + p("多措并举", (1, 1)),
            ["一、基本情况", "（一）单位构成", "（二）职能职责", "1.安全", "二、主要成效",
             "（一）多措并举"],
            [1, 2, 2, None, 1, 2]),
    Example("two list instances of one definition continue each other",
            p("甲", (1, 0)) + p("乙", (3, 0)) + p("丙", (1, 0)), ["一、甲", "二、乙", "三、丙"]),
    Example("startOverride restarts a list at its value",
            p("甲", (1, 0)) + p("乙", (2, 0)) + p("丙", (2, 0)), ["一、甲", "三、乙", "四、丙"]),
    Example("numbering inherited from the style 标题 1 (styleId 1), level from its name",
            p("基本情况", style="1") + p("单位构成", style="2") + p("正文。"),
            ["一、基本情况", "（一）单位构成", "正文。"], [1, 2, None]),
    Example("numId 0 on the paragraph switches the style's numbering off",
            p("附件", style="1", runs=None).replace(
                '<w:pStyle w:val="1"/>', '<w:pStyle w:val="1"/><w:numPr><w:numId w:val="0"/>'
                                         '</w:numPr>'), ["附件"], [1]),
    Example("isLgl shows a chineseCounting parent as a decimal (%1.%2)",
            p("总则", (4, 0)) + p("范围", (4, 1)) + p("术语", (4, 1)),
            ["1总则", "1.1范围", "1.2术语"]),
    Example("a bullet is not a marker", p("要点", (5, 0)), ["要点"], [None]),
    Example("text boxes, deleted, hidden and field-code text are not read; inserted text is",
            p("", runs='<w:r><w:t>正文</w:t></w:r><w:r><mc:AlternateContent><mc:Choice '
                       'Requires="wps"><w:drawing><wps:txbx><w:txbxContent>' + p("框内")
                       + '</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback>'
                       '<w:pict><v:textbox><w:txbxContent>' + p("框内") + '</w:txbxContent>'
                       '</v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>'
                       '<w:del><w:r><w:delText>删去</w:delText></w:r></w:del>'
                       '<w:ins><w:r><w:t>插入</w:t></w:r></w:ins>'
                       '<w:r><w:rPr><w:vanish/></w:rPr><w:t>隐藏</w:t></w:r>'
                       '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE '
                       '</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
                       '<w:r><w:t>3</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
                       '<w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink>'),
            ["正文插入3链接"], metadata={"text_boxes_skipped": "1"}),
    Example("a tab inside a paragraph is a space, a line break a newline",
            p("", runs="<w:r><w:t>单位：</w:t><w:tab/><w:t>万元</w:t><w:br/><w:t>次行</w:t></w:r>"),
            ["单位： 万元", "次行"]),
    Example("a table between paragraphs: gridBefore, gridSpan and vMerge in one grid",
            p("前") + "<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>"
            "<w:tr>" + tc("一级指标", '<w:vMerge w:val="restart"/>')
            + tc("二级", '<w:gridSpan w:val="2"/>') + "</w:tr>"
            "<w:tr>" + tc("", "<w:vMerge/>") + tc("a") + tc("b") + "</w:tr>"
            "<w:tr><w:trPr><w:gridBefore w:val=\"1\"/></w:trPr>" + tc("c") + tc("d") + "</w:tr>"
            "</w:tbl>" + p("后"),
            ["前", "一级指标\t二级\t", "\ta\tb", "\tc\td", "后"], [None, None, None, None, None]),
    Example("a table of contents is left out",
            '<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/>'
            '</w:docPartObj></w:sdtPr><w:sdtContent>' + p("一、基本情况 ……… 1", style="TOC1")
            + '</w:sdtContent></w:sdt>' + p("正文"), ["正文"],
            metadata={"toc_paragraphs_skipped": "1"}),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example(example: Example, tmp_path: Path) -> None:
    path = tmp_path / "example.docx"
    path.write_bytes(docx_bytes(example.body))
    result = read_docx(path)
    assert result.text.split("\n") == example.lines
    if example.levels:
        assert [b.level for b in result.blocks] == example.levels
    for key, value in example.metadata.items():
        assert result.metadata.get(key) == value


def test_table_blocks_say_table_and_row(tmp_path: Path) -> None:
    path = tmp_path / "t.docx"
    path.write_bytes(docx_bytes(EXAMPLES[-2].body))
    result = read_docx(path)
    assert [b.where for b in result.blocks] == ["paragraph=1", "table=1,row=1", "table=1,row=2",
                                                "table=1,row=3", "paragraph=2"]
    assert [row.cells for row in result.tables[0].rows] == [["一级指标", "二级", ""],
                                                            ["", "a", "b"], ["", "c", "d"]]


# ---------------------------------------------------------------------------------------------
# Files that must be refused
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"PK\x03\x04" + b"\x00garbage" * 50, "damaged"),
    (b"this is a text file saved with a .docx name\n" * 5, "not a zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, ".doc"),
    (b"", "empty"),
], ids=["bad zip", "text", "ole2 (.doc or encrypted)", "empty"])
def test_corrupt_files_are_refused(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(content)
    with pytest.raises(ReaderError, match=re.escape(message)):
        read_docx(path)


def test_a_truncated_docx_is_refused(tmp_path: Path) -> None:
    data = (RENDERED / "000_d3cc648647006a27.docx").read_bytes()
    path = tmp_path / "truncated.docx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderError, match="damaged"):
        read_docx(path)


def test_a_document_of_pictures_only_says_so(tmp_path: Path) -> None:
    path = tmp_path / "scan.docx"
    picture = ('<w:r><w:drawing><a:graphic xmlns:a="http://schemas.openxmlformats.org/'
               'drawingml/2006/main"><a:blip/></a:graphic></w:drawing></w:r>')
    path.write_bytes(docx_bytes(p("", runs=picture) * 2))
    with pytest.raises(ReaderError, match=r"no text to read; it holds 2 picture"):
        read_docx(path)


def test_a_package_without_a_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ReaderError, match="no main document part"):
        read_docx(path)


def test_a_dtd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lol.docx"
    body = docx_bytes(p("x"))
    with zipfile.ZipFile(path, "w") as out, zipfile.ZipFile(io.BytesIO(body)) as src:
        for name in src.namelist():
            data = src.read(name)
            if name == "word/document.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>' + data
            out.writestr(name, data)
    with pytest.raises(ReaderError, match="DTD"):
        read_docx(path)


def _zeros_member(archive: zipfile.ZipFile, name: str, megabytes: int) -> None:
    chunk = bytes(1024 * 1024)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as handle:
        for _ in range(megabytes):
            handle.write(chunk)


@pytest.mark.parametrize("megabytes, message", [(20, "ratio"), (250, "MB limit")],
                         ids=["compression ratio", "total size"])
def test_zip_bombs_are_refused(megabytes: int, message: str, tmp_path: Path) -> None:
    """A small archive of a huge zero-filled member: refused from the declared sizes, before
    anything is inflated."""
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", _RELS)
        _zeros_member(archive, "word/document.xml", megabytes)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ReaderError, match=message):
        read_docx(path)


def test_a_member_inflating_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    """A bomb whose headers lie about its size gets no further than the size it declares."""
    document = f'<w:document {_DECL}><w:body>{p("x" * 5000)}</w:body></w:document>'.encode()
    path = tmp_path / "liar.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document)
    data = bytearray(path.read_bytes())
    real = len(document).to_bytes(4, "little")
    for at in [m.start() for m in re.finditer(re.escape(real), data)]:
        data[at:at + 4] = (100).to_bytes(4, "little")  # local and central headers both say 100
    path.write_bytes(bytes(data))
    with pytest.raises(ReaderError):
        read_docx(path)


# ---------------------------------------------------------------------------------------------
# LibreOffice conversion
# ---------------------------------------------------------------------------------------------

needs_soffice = pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) is not "
                                   "installed: apt-get install -y libreoffice-writer-nogui")


@needs_soffice
def test_a_doc_converts_and_keeps_its_numbering() -> None:
    with converted(RENDERED / "000_d3cc648647006a27.doc") as docx:
        assert docx.suffix == ".docx" and docx.stem == "000_d3cc648647006a27"
        result = read_docx(docx)
    assert not docx.parent.exists()
    assert _headings(result, 1) == ["一、基本情况", "二、主要成效", "三、绩效评价情况及结论",
                                    "四、需要重点关注的问题", "五、工作建议"]


@needs_soffice
def test_a_damaged_doc_fails_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    with pytest.raises(ReaderError, match="LibreOffice"):
        convert_with_libreoffice(path, timeout=120)


def test_without_soffice_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.setattr("pipeline.readers.convert.shutil.which", lambda name: None)
    path = tmp_path / "report.wps"
    path.write_bytes(b"x")
    with pytest.raises(ReaderError, match="libreoffice-writer-nogui"):
        convert_with_libreoffice(path)


def test_a_spreadsheet_is_not_converted_to_docx(tmp_path: Path) -> None:
    path = tmp_path / "table.et"
    path.write_bytes(b"x")
    with pytest.raises(ReaderError, match="xlsx"):
        convert_with_libreoffice(path, to="docx")
