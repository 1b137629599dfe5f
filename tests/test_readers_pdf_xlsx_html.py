"""The PDF, workbook and HTML readers on real files.

Inputs are real files: the committed ones in ``tests/fixtures/generated/`` were made from a vendored
seed report with LibreOffice and qpdf by :func:`build_fixtures` (regenerate them with
``.venv/bin/python tests/test_readers_pdf_xlsx_html.py --regenerate``); scans, workbooks, damaged
files and portal pages are made inside the tests.
"""
from __future__ import annotations

import functools
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

for _module in ("pdfplumber", "openpyxl", "xlrd", "trafilatura"):
    pytest.importorskip(_module, reason=f"{_module} is not installed (see the readers' pins)")

from pipeline.readers import ReaderError, ReadResult  # noqa: E402
from pipeline.readers.html import decode_html, read_html  # noqa: E402
from pipeline.readers.pdf import read_pdf  # noqa: E402
from pipeline.readers.xlsx import read_workbook  # noqa: E402

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "generated"
SEED = HERE / "data" / "seeds" / "000_d3cc648647006a27.txt"
TEXT_PDF = FIXTURES / "report_text.pdf"
ENCRYPTED_PDF = FIXTURES / "encrypted.pdf"
XLS = FIXTURES / "kpi_table.xls"

RUNNING_HEADER = "重庆市璧山区广普镇人民政府2024年度整体支出绩效自评报告"
SEED_CHARS = 2600  # about two pages of the seed go into the text PDF

KPI_HEADER = ["一级指标", "二级指标", "三级指标", "指标值", "分值", "得分"]
# The KPI table of the text PDF: long enough to run over a page break (its header row repeats).
PDF_KPI_ROWS = [
    ["产出指标", "数量指标", f"{name}", target, "5", score]
    for name, target, score in [
        ("村级组织覆盖数", "≥14个", "5"), ("安全隐患处理数", "≥100个", "5"),
        ("补贴补助发放人次", "≥2000人次", "5"), ("森林防火通道建设", "≥1.4公里", "4.5"),
        ("入户庭院路建设", "≥2.5公里", "5"), ("垃圾桶更换数", "≥150个", "5"),
        ("绿化带维护面积", "≥1.5万平方米", "5"), ("矛盾纠纷化解数", "≥800起", "5"),
    ]
] + [
    ["产出指标", "质量指标", name, target, "5", score]
    for name, target, score in [
        ("资金支付准确率", "100%", "5"), ("补贴补助发放达标率", "100%", "5"),
        ("市政设施维护率", "≥95%", "5"), ("预决算编制准确率", "100%", "4"),
    ]
] + [
    ["效益指标", "社会效益指标", name, target, "10", score]
    for name, target, score in [
        ("群众满意度", "≥90%", "10"), ("社会治安稳定率", "≥95%", "10"),
        ("重大安全事故发生数", "0起", "10"), ("信访事项办结率", "≥95%", "9.5"),
    ]
] + [["满意度指标", "服务对象满意度指标", f"第{i}季度群众满意度", "≥90%", "2", "2"]
     for i in range(1, 9)]

# The merged-cell KPI sheet: (row, column) → value; merged ranges as in 自评表 templates.
XLSX_ROWS = [
    ["2024年度项目支出绩效自评表", None, None, None, None, None],
    KPI_HEADER,
    ["产出指标", "数量指标", "村级组织覆盖数", "≥14个", 20, 20],
    [None, "质量指标", "资金支付准确率", 1.0, 20, 19.5],
    [None, "时效指标", "资金拨付及时率", 0.985, 10, 9.8],
    ["效益指标", "社会效益指标", "群众满意度\n（问卷调查）", "≥90%", 10, 10],
    ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", 10, 10],
    [None, None, None, None, None, None],
    ["合计", None, None, None, 70, 69.3],
]
XLSX_MERGES = ["A1:F1", "A3:A5", "A9:D9"]
XLSX_GRID = [
    ["2024年度项目支出绩效自评表", "", "", "", "", ""],
    KPI_HEADER,
    ["产出指标", "数量指标", "村级组织覆盖数", "≥14个", "20", "20"],
    ["", "质量指标", "资金支付准确率", "100%", "20", "19.5"],
    ["", "时效指标", "资金拨付及时率", "98.50%", "10", "9.8"],
    ["效益指标", "社会效益指标", "群众满意度（问卷调查）", "≥90%", "10", "10"],
    ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "10", "10"],
    ["合计", "", "", "", "70", "69.3"],
]


# ---------------------------------------------------------------------------------------------
# Building the inputs
# ---------------------------------------------------------------------------------------------

# Flat ODF (.fodt) documents that LibreOffice turns into test PDFs
ODF_NAMESPACES = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                  'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
                  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                  'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
                  'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"')
ODF_FONT = "Noto Serif CJK SC"


def _seed_paragraphs() -> tuple[list[str], list[str]]:
    """(title lines, body paragraphs) of the seed's first ~two pages."""
    lines = [ln.strip() for ln in SEED.read_text(encoding="utf-8").splitlines() if ln.strip()]
    body, size = [], 0
    for line in lines[2:]:
        body.append(line)
        size += len(line)
        if size > SEED_CHARS:
            break
    return lines[:2], body


def _fodt(title: list[str], body: list[str], with_table: bool = True) -> str:
    """A flat ODF text document the way offices lay reports out: centred bold title, justified
    paragraphs with a two-character first-line indent at 1.5 line spacing, a running header, a
    ``- N -`` page-number footer, and a ruled KPI table whose header row repeats on each page and
    whose first column merges the rows of one 一级指标."""
    def p(style: str, text: str) -> str:
        return f'<text:p text:style-name="{style}">{html.escape(text)}</text:p>'

    def cell(text: str, rows_spanned: int = 1) -> str:
        span = f' table:number-rows-spanned="{rows_spanned}"' if rows_spanned > 1 else ""
        return (f'<table:table-cell table:style-name="C" office:value-type="string"{span}>'
                f'{p("TC", text)}</table:table-cell>')

    def row(cells: list[str]) -> str:
        # rows kept whole at page breaks (Word: 允许跨行断页 off); rows that break are tested
        # on a table of their own (test_pdf_generated_table_with_rows_broken_over_pages_…)
        return '<table:table-row table:style-name="R">' + "".join(cells) + "</table:table-row>"

    merged = 8  # the 8 产出·数量 rows share one merged 一级指标 cell
    body_rows = []
    for i, kpi in enumerate(PDF_KPI_ROWS):
        if i == 0:
            first = cell(kpi[0], rows_spanned=merged)
        elif i < merged:
            first = "<table:covered-table-cell/>"
        else:
            first = cell(kpi[0])
        body_rows.append(row([first] + [cell(c) for c in kpi[1:]]))
    table = ('<table:table table:name="KPI" table:style-name="T">'
             '<table:table-column table:number-columns-repeated="6"/>'
             f"<table:table-header-rows>{row([cell(c) for c in KPI_HEADER])}"
             "</table:table-header-rows>"
             + "".join(body_rows) + "</table:table>")
    content = [p("Title", t) for t in title] + [p("Body", t) for t in body]
    if with_table:
        content += [p("Body", "附表：部门整体支出绩效指标完成情况"), table,
                    p("Body", "以上为本单位2024年度绩效自评情况，收入合计3402.07万元。")]
    ns, font = ODF_NAMESPACES, ODF_FONT
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<office:document {ns} office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls><style:font-face style:name="{font}" svg:font-family="&apos;{font}&apos;"/></office:font-face-decls>
<office:styles><style:style style:name="Standard" style:family="paragraph"><style:text-properties style:font-name="{font}" style:font-name-asian="{font}" fo:font-size="12pt" style:font-size-asian="12pt"/></style:style></office:styles>
<office:automatic-styles>
<style:style style:name="Title" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:text-align="center" fo:margin-bottom="0.3cm"/><style:text-properties fo:font-size="18pt" style:font-size-asian="18pt" fo:font-weight="bold" style:font-weight-asian="bold"/></style:style>
<style:style style:name="Body" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:text-align="justify" fo:text-indent="24pt" fo:line-height="150%"/></style:style>
<style:style style:name="TC" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:font-size="10.5pt" style:font-size-asian="10.5pt"/></style:style>
<style:style style:name="HF" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:text-align="center"/><style:text-properties fo:font-size="9pt" style:font-size-asian="9pt"/></style:style>
<style:style style:name="T" style:family="table"><style:table-properties style:width="16cm" table:align="margins"/></style:style>
<style:style style:name="R" style:family="table-row"><style:table-row-properties fo:keep-together="always"/></style:style>
<style:style style:name="C" style:family="table-cell"><style:table-cell-properties fo:border="0.5pt solid #000000" fo:padding="0.1cm"/></style:style>
<style:page-layout style:name="PL"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="2.5cm" fo:margin-right="2.5cm"/><style:header-style/><style:footer-style/></style:page-layout>
</office:automatic-styles>
<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="PL">
<style:header>{p("HF", RUNNING_HEADER)}</style:header>
<style:footer><text:p text:style-name="HF">- <text:page-number text:select-page="current">1</text:page-number> -</text:p></style:footer>
</style:master-page></office:master-styles>
<office:body><office:text>{"".join(content)}</office:text></office:body></office:document>'''


def _soffice_convert(source: Path, fmt: str, out_dir: Path) -> Path:
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is needed to build this fixture")
    with tempfile.TemporaryDirectory() as profile:  # a private profile: no clash with other runs
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", fmt, "--outdir", str(out_dir), str(source)],
                       check=True, capture_output=True, timeout=180)
    return out_dir / f"{source.stem}.{fmt.split(':')[0]}"


def _kpi_workbook(path: Path) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "绩效自评表"
    for values in XLSX_ROWS:
        sheet.append(values)
    for merged in XLSX_MERGES:
        sheet.merge_cells(merged)
    sheet["D4"].number_format = "0%"
    sheet["D5"].number_format = "0.00%"
    hidden = workbook.create_sheet("下拉选项")  # templates keep drop-down lists on hidden sheets
    hidden.sheet_state = "hidden"
    hidden["A1"] = "产出指标"
    workbook.create_sheet("Sheet3")  # an empty sheet
    workbook.save(path)
    return path


def build_fixtures(out_dir: Path = FIXTURES) -> None:
    """(Re)build the committed fixtures; needs LibreOffice and qpdf."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        title, body = _seed_paragraphs()
        source = work / "report_text.fodt"
        source.write_text(_fodt(title, body), encoding="utf-8")
        shutil.copy(_soffice_convert(source, "pdf", work), out_dir / TEXT_PDF.name)
        short = work / "short.fodt"
        short.write_text(_fodt(title, body[:3], with_table=False), encoding="utf-8")
        plain = _soffice_convert(short, "pdf", work)
        subprocess.run(["qpdf", "--encrypt", "jixiao", "owner-secret", "256", "--", str(plain),
                        str(out_dir / ENCRYPTED_PDF.name)], check=True)
        workbook = _kpi_workbook(work / "kpi_table.xlsx")
        shutil.copy(_soffice_convert(workbook, "xls:MS Excel 97", work), out_dir / XLS.name)


def _fixture(path: Path) -> Path:
    if path.exists():
        return path
    if shutil.which("soffice") is None or shutil.which("qpdf") is None:
        pytest.skip(f"{path.name} is missing and LibreOffice/qpdf are not here to build it")
    build_fixtures()
    return path


# ---------------------------------------------------------------------------------------------
# Invariants every reader keeps
# ---------------------------------------------------------------------------------------------

def assert_consistent(result: ReadResult, where_pattern: str) -> None:
    """Blocks in reading order inside the text, rows rendered as tab-joined cells at their offsets,
    provenance in the reader's format."""
    previous_end = -1
    for block in result.blocks:
        assert previous_end < block.start <= block.end <= len(result.text)
        assert re.fullmatch(where_pattern, block.where), block.where
        previous_end = block.end
    for table in result.tables:
        assert table.rendering == "grid"
        width = len(table.rows[0].cells)
        for row in table.rows:
            assert len(row.cells) == width
            assert result.text[row.start:row.end] == "\t".join(row.cells)
            assert not any("\n" in c or "\t" in c for c in row.cells)
        table_blocks = [b for b in result.blocks if b.table_id == table.table_id]
        assert [(b.start, b.end) for b in table_blocks] == [(r.start, r.end) for r in table.rows]


# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def text_pdf() -> ReadResult:
    return read_pdf(_fixture(TEXT_PDF))


def test_pdf_paragraphs_come_back_whole_without_inserted_spaces(text_pdf: ReadResult) -> None:
    title, body = _seed_paragraphs()
    lines = text_pdf.text.splitlines()
    # every paragraph of the seed is one line of the text: wrapped lines (and page breaks) were
    # joined with nothing between Chinese characters, and no paragraph was run into another.
    # (The seed's one space, in "2、 主要成效", is Word's list-number gap and goes too.)
    for paragraph in title + body:
        assert re.sub(r"\s", "", paragraph) in lines
    assert "内设机构5个，即：基层治理综合指挥室、党的建设办公室" in text_pdf.text
    assert not re.search(r"[\u4e00-\u9fff，。：；、] +[\u4e00-\u9fff0-9]"
                         r"|[0-9%] +[\u4e00-\u9fff，。]", text_pdf.text)


def test_pdf_running_header_and_page_numbers_are_removed(text_pdf: ReadResult) -> None:
    assert RUNNING_HEADER not in text_pdf.text.splitlines()
    lines = text_pdf.text.splitlines()
    assert not any(re.fullmatch(r"\s*-?\s*\d+\s*-?\s*", line) for line in lines)
    assert int(text_pdf.metadata["pages"]) >= 3


def test_pdf_table_is_one_grid_across_the_page_break(text_pdf: ReadResult) -> None:
    [table] = text_pdf.tables
    assert table.rows[0].cells == KPI_HEADER
    # the header row repeated on the next page is not read again as data
    assert [row.cells[2:] for row in table.rows[1:]] == [kpi[2:] for kpi in PDF_KPI_ROWS]
    # the merged 一级指标 cell: value in the top-left cell, '' in the cells it covers
    assert [row.cells[0] for row in table.rows[1:9]] == ["产出指标"] + [""] * 7
    pages = {b.where for b in text_pdf.blocks if b.table_id == table.table_id}
    assert len(pages) == 2, "the fixture's table should run over a page break"
    # the table's text is not also read as paragraphs
    assert text_pdf.text.count("村级组织覆盖数") == 1
    assert text_pdf.text.count("一级指标") == 1


def test_pdf_blocks_have_page_provenance_and_headings(text_pdf: ReadResult) -> None:
    assert_consistent(text_pdf, r"page=\d+")
    assert text_pdf.ocr is False
    headings = {text_pdf.text[b.start:b.end]: b.level for b in text_pdf.blocks
                if b.kind == "heading"}
    assert headings["一、基本情况"] == 1 and headings["（一）单位构成"] == 2
    assert "重庆市璧山区广普镇人民政府" in headings  # the bold, larger title
    last = text_pdf.blocks[-1]
    assert text_pdf.text[last.start:last.end] == "以上为本单位2024年度绩效自评情况，收入合计3402.07万元。"


@pytest.fixture(scope="module")
def scanned_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scan: pages 1-2 of the text PDF rendered to 150 dpi greyscale images, wrapped in a PDF
    (the way a scanner's PDF is: one image a page, no text layer)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(_fixture(TEXT_PDF)))
    images = [document[i].render(scale=150 / 72).to_pil().convert("L") for i in (0, 1)]
    document.close()
    path = tmp_path_factory.mktemp("scan") / "scan.pdf"
    images[0].save(path, resolution=150, save_all=True, append_images=images[1:])
    return path


@pytest.fixture(scope="module")
def scanned_result(scanned_pdf: Path) -> ReadResult:
    return read_pdf(scanned_pdf)  # OCR takes a few seconds a page: read once for all tests


def test_scanned_pdf_is_read_by_ocr(scanned_result: ReadResult) -> None:
    result = scanned_result
    assert result.ocr is True and result.metadata["ocr_pages"] == "1,2"
    assert "收入预算：2024年度收入合计3402.07万元" in result.text
    assert "基本支出2207.79万元" in result.text
    assert "重庆市璧山区广普镇人民政府统筹设置内设机构5个" in result.text
    assert_consistent(result, r"page=[12]")


def test_scanned_pdf_loses_headers_and_keeps_paragraphs(scanned_result: ReadResult) -> None:
    lines = scanned_result.text.splitlines()
    assert RUNNING_HEADER not in lines
    assert not any(re.fullmatch(r"\s*[-—]?\s*\d+\s*[-—]?\s*", ln) for ln in lines)
    # OCR lines are joined into the seed's paragraphs as well as text lines are: most of the
    # seed's paragraphs on these pages come back as whole lines (OCR may miss a stop or a digit)
    title, body = _seed_paragraphs()
    on_pages = [re.sub(r"\s", "", p) for p in title + body[:11]]
    assert sum(p in lines for p in on_pages) >= 0.7 * len(on_pages)


def test_scan_with_ocr_disabled_raises(scanned_pdf: Path) -> None:
    with pytest.raises(ReaderError, match="has no text layer .a scan. and OCR is disabled"):
        read_pdf(scanned_pdf, ocr=False)


def test_encrypted_pdf_raises() -> None:
    with pytest.raises(ReaderError, match="encrypted"):
        read_pdf(_fixture(ENCRYPTED_PDF))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_pdf_raises(tmp_path: Path, damage: str) -> None:
    data = _fixture(TEXT_PDF).read_bytes()
    content = {"truncated": data[:4000], "garbage": b"%PDF-1.7\n\x00\x01 not really",
               "empty": b""}[damage]
    path = tmp_path / f"{damage}.pdf"
    path.write_bytes(content)
    with pytest.raises(ReaderError, match="not a readable PDF|could not be parsed"):
        read_pdf(path)


def test_missing_pdf_raises(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="cannot read"):
        read_pdf(tmp_path / "absent.pdf")


# ---------------------------------------------------------------------------------------------
# PDF: layouts of real reports (tests/fixtures/rendered: seed reports exported by LibreOffice
# from Word files: flush-left text, portrait text pages with landscape 自评表 pages, tables
# whose rows break over pages)
# ---------------------------------------------------------------------------------------------

RENDERED = HERE / "fixtures" / "rendered"


@functools.cache
def _rendered(stem: str) -> ReadResult:
    path = RENDERED / f"{stem}.pdf"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return read_pdf(path, ocr=False)


def _paragraphs(result: ReadResult) -> list[str]:
    return [result.text[b.start:b.end] for b in result.blocks if b.table_id is None]


@pytest.mark.parametrize("stem,whole", [
    # flush-left text wraps a unit that does not fit whole: the line before stops up to a few
    # ems short of the margin and the paragraph still goes on
    ("000_d3cc648647006a27", "统筹设置内设机构5个，即：基层治理综合指挥室"),  # 即： (no ： first)
    ("000_d3cc648647006a27", "实现基本公共服务全覆盖。"),  # 盖。 alone on the next page
    ("002_cd3eff31d36cdc54", "基本支出2795.16万元，项目支出5052.54万元"),  # a number is one unit
    ("002_cd3eff31d36cdc54", "营养补贴15468人次89.837万元"),
    ("003_cbba9d689f5f66a1", "实行“四包一”责任制"),  # no break at a quotation mark
    ("003_cbba9d689f5f66a1", "全镇8个社区全年共评选“平安家庭户"),
    # a line starting 一、二季度 is not a heading 一、
    ("002_cd3eff31d36cdc54", "2023年一、二季度耕地流出非粮化整改29宗"),
    # portrait text pages, landscape table pages: each paper format has its own margins
    ("001_de8ade2d5ebbdf4b", "调整后财政拨款收入1599.38万元。其中：一般公共预算"),
    ("001_de8ade2d5ebbdf4b", "一是落实政策。宣传、落实好党的路线、方针、政策和国家的法律、法规"),
])
def test_pdf_wrapped_lines_join_into_their_paragraph(stem: str, whole: str) -> None:
    result = _rendered(stem)
    assert any(whole in para for para in _paragraphs(result)), whole
    # and nowhere (a report may say it twice) is it broken into two paragraphs
    assert result.text.replace("\n", "").count(whole) == result.text.count(whole)


@pytest.mark.parametrize("stem,alone,then", [
    # the right-aligned signature and date close the report; the attachment label at the top
    # of the next page is apart from them, though the date line reaches the right margin
    ("003_cbba9d689f5f66a1", "绥宁县长铺镇人民政府", "2024年12月31日"),
    ("003_cbba9d689f5f66a1", "2024年12月31日", "附件1-1"),
])
def test_pdf_right_aligned_line_is_a_paragraph_of_its_own(stem: str, alone: str,
                                                          then: str) -> None:
    paragraphs = _paragraphs(_rendered(stem))
    i = len(paragraphs) - 1 - paragraphs[::-1].index(alone)
    assert paragraphs[i + 1] == then


def _tables_with(result: ReadResult, cell: str) -> list:
    tables = [t for t in result.tables if any(cell in r.cells for r in t.rows)]
    assert tables, cell
    return tables


@pytest.mark.parametrize("stem,same_column", [
    # a table over three landscape pages whose rulings divide it into 24, 12 and 13 columns:
    # 三级指标 of rows on each page
    ("001_de8ade2d5ebbdf4b", ["便民服务中心入驻人数", "平安建设宣传活动开展场次",
                              "工作长效机制健全性", "项目经费"]),
    # the 部门预算绩效自评打分表, 14 columns on one page and 9 on the next
    ("001_de8ade2d5ebbdf4b", ["支持中小企业发展", "采购执行率", "目标偏离", "实现效果"]),
])
def test_pdf_table_continued_with_other_rulings_is_one_aligned_grid(
        stem: str, same_column: list[str]) -> None:
    result = _rendered(stem)
    for table in _tables_with(result, same_column[0]):  # the report has its 自评表 twice
        rows = {c: r.cells for r in table.rows for c in r.cells if c in same_column}
        assert set(rows) == set(same_column)
        columns = {c: rows[c].index(c) for c in same_column}
        assert len(set(columns.values())) == 1, columns
    assert_consistent(result, r"page=\d+")


@pytest.mark.parametrize("stem,whole,parts", [
    # a row broken over the page break: its cells' text goes on in the next page's first row
    ("001_de8ade2d5ebbdf4b", "防灾应急、消防演练活动开展次数", ["防灾应急、消防演", "练活动开展次数"]),
    ("001_de8ade2d5ebbdf4b", "村（社区）第一书记、驻村队员出勤率",
     ["村（社区）第一书", "记、驻村队员出勤率"]),
    ("001_de8ade2d5ebbdf4b", "保障人民群众的知情权、参与权和表达权",
     ["保障人民群众的知情", "权、参与权和表达权"]),
])
def test_pdf_table_row_broken_over_pages_is_one_row(stem: str, whole: str,
                                                    parts: list[str]) -> None:
    result = _rendered(stem)
    tables = _tables_with(result, whole)
    assert len(tables) == 2  # the report has its 自评表 twice, broken at other rows
    for table in tables:
        [row] = [r for r in table.rows if whole in r.cells]
        assert "≥" in row.cells or "定性" in row.cells  # the values of the row stay with it
    assert not any(p in r.cells for t in result.tables for r in t.rows for p in parts)


# Rows of a generated table whose rows may break over pages: a long 三级指标 in a narrow column
# (four lines), and two kinds of rows that merge different columns, so that the rulings of a
# page depend on which rows are on it. Expected grid: merged cells keep their text in the first
# column they span.
BROKEN_ROWS = 36


def _broken_table_fodt() -> tuple[str, list[list[str]]]:
    def p(text: str) -> str:
        return f'<text:p text:style-name="TC">{html.escape(text)}</text:p>'

    def cell(text: str, span: int = 1) -> str:
        spanned = f' table:number-columns-spanned="{span}"' if span > 1 else ""
        return (f'<table:table-cell table:style-name="C" office:value-type="string"{spanned}>'
                f'{p(text)}</table:table-cell>' + "<table:covered-table-cell/>" * (span - 1))

    rows, expected = [], []
    for i in range(BROKEN_ROWS):
        name = f"第{i + 1}项重点工作任务的完成情况及群众满意程度综合评价指标"
        if i < BROKEN_ROWS // 2:
            cells = [cell(name), cell(f"≥{90 + i % 10}%", 2), cell("10"), cell("无")]
            expected.append([name, f"≥{90 + i % 10}%", "", "10", "无"])
        else:
            cells = [cell(name), cell(f"≥{i}"), cell("次"), cell("5", 2)]
            expected.append([name, f"≥{i}", "次", "5", ""])
        rows.append('<table:table-row table:style-name="R">' + "".join(cells)
                    + "</table:table-row>")
    ns, font = ODF_NAMESPACES, ODF_FONT
    document = f'''<?xml version="1.0" encoding="UTF-8"?>
<office:document {ns} office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls><style:font-face style:name="{font}" svg:font-family="&apos;{font}&apos;"/></office:font-face-decls>
<office:styles><style:style style:name="Standard" style:family="paragraph"><style:text-properties style:font-name="{font}" style:font-name-asian="{font}" fo:font-size="12pt" style:font-size-asian="12pt"/></style:style></office:styles>
<office:automatic-styles>
<style:style style:name="TC" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:font-size="10.5pt" style:font-size-asian="10.5pt"/></style:style>
<style:style style:name="T" style:family="table"><style:table-properties style:width="16cm" table:align="margins" style:may-break-between-rows="true"/></style:style>
<style:style style:name="CA" style:family="table-column"><style:table-column-properties style:column-width="3cm"/></style:style>
<style:style style:name="CB" style:family="table-column"><style:table-column-properties style:column-width="3.25cm"/></style:style>
<style:style style:name="R" style:family="table-row"><style:table-row-properties fo:keep-together="auto"/></style:style>
<style:style style:name="C" style:family="table-cell"><style:table-cell-properties fo:border="0.5pt solid #000000" fo:padding="0.1cm"/></style:style>
<style:page-layout style:name="PL"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="2.5cm" fo:margin-right="2.5cm"/></style:page-layout>
</office:automatic-styles>
<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="PL"/></office:master-styles>
<office:body><office:text><text:p text:style-name="Standard">附表：绩效指标完成情况</text:p><table:table table:name="KPI" table:style-name="T"><table:table-column table:style-name="CA"/><table:table-column table:style-name="CB" table:number-columns-repeated="4"/>{"".join(rows)}</table:table></office:text></office:body></office:document>'''
    return document, expected


def test_pdf_generated_table_with_rows_broken_over_pages_and_changing_rulings(
        tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is needed to make this PDF and is not installed")
    document, expected = _broken_table_fodt()
    source = tmp_path / "broken_rows.fodt"
    source.write_text(document, encoding="utf-8")
    pdf = _soffice_convert(source, "pdf", tmp_path)
    import pdfplumber

    with pdfplumber.open(pdf) as opened:  # the fixture does what it should
        widths = [len(t.extract()[0]) for page in opened.pages for t in page.find_tables()]
        firsts = [t.extract()[0][0] or "" for page in opened.pages for t in page.find_tables()]
    assert len(widths) >= 3 and len(set(widths)) > 1, "rulings should change from page to page"
    assert any(not f.startswith("第") for f in firsts[1:]), "a row should break over a page"
    result = read_pdf(pdf)
    [table] = result.tables
    assert [row.cells for row in table.rows] == expected
    assert_consistent(result, r"page=\d+")


def test_pdf_letter_spaced_text_comes_back_without_spaces(tmp_path: Path) -> None:
    """Issue 7: a text layer with a gap or a space glyph between every character (letter-spaced
    titles, 目 录 typed with spaces, justified lines) reads as the words, so headings and amounts
    are found."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is needed to make this PDF and is not installed")
    body = "一、基本情况\n本单位2023年收入合计3402.07万元，支出合计3311.5万元。"
    spaced = "二 、 存 在 的 问 题"  # typed with a space between every character
    ns, font = ODF_NAMESPACES, ODF_FONT
    paragraphs = "".join(f'<text:p text:style-name="Wide">{html.escape(line)}</text:p>'
                         for line in body.splitlines())
    paragraphs += f'<text:p text:style-name="Standard">{html.escape(spaced)}</text:p>'
    source = tmp_path / "spaced.fodt"
    source.write_text(f'''<?xml version="1.0" encoding="UTF-8"?>
<office:document {ns} office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls><style:font-face style:name="{font}" svg:font-family="&apos;{font}&apos;"/></office:font-face-decls>
<office:styles><style:style style:name="Standard" style:family="paragraph"><style:text-properties style:font-name="{font}" style:font-name-asian="{font}" fo:font-size="12pt" style:font-size-asian="12pt"/></style:style></office:styles>
<office:automatic-styles><style:style style:name="Wide" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:letter-spacing="0.25cm"/></style:style></office:automatic-styles>
<office:body><office:text>{paragraphs}</office:text></office:body></office:document>''', encoding="utf-8")
    pdf = _soffice_convert(source, "pdf", tmp_path)
    import pdfplumber

    with pdfplumber.open(pdf) as opened:  # the fixture does what it should: gaps of ~0.6 em
        chars = [c for c in opened.pages[0].chars if c["text"].strip()][:6]
    gaps = [b["x0"] - a["x1"] for a, b in zip(chars, chars[1:])]
    assert min(gaps) > 0.4 * float(chars[0]["size"])
    text = read_pdf(pdf).text
    assert "一、基本情况" in text and "收入合计3402.07万元" in text
    assert "二、存在的问题" in text
    from pipeline.extract import extract_document
    from pipeline.ingest import document_from_text

    extracted = extract_document(document_from_text(text, "spaced.txt"))
    assert [s.title for s in extracted.sections] == ["基本情况", "存在的问题"]
    assert 34020700 in [round(a.value_yuan) for a in extracted.amounts]


def test_pdf_one_row_table_at_the_page_foot_starts_the_table_of_the_next_page() -> None:
    result = _rendered("003_cbba9d689f5f66a1")
    [table] = _tables_with(result, "单位名称")
    assert table.rows[0].cells[:2] == ["单位名称", "长铺镇人民政府"]
    assert table.rows[1].cells[0] == "年度预算申请（万元）"
    assert "单位名称" not in "".join(_paragraphs(result))


@pytest.mark.parametrize("text,unit", [
    ("盖。", "盖。"), ("个，即：", "个，"), ("2795.16万元", "2795.16"), ("（2.17公里）", "（2.17"),
    ("“实”字当头", "“实”字"), ("行“四包一”责任制", "行“四"), ("PDF file", "PDF"), ("", ""),
])
def test_pdf_first_unit_of_a_line(text: str, unit: str) -> None:
    from pipeline.readers.pdf import _lead_length

    glyphs = [g if not g.isspace() else "" for g in text]
    assert text[:_lead_length(glyphs)] == unit


# ---------------------------------------------------------------------------------------------
# Workbooks
# ---------------------------------------------------------------------------------------------

def test_xlsx_merged_kpi_table_reads_into_the_expected_grid(tmp_path: Path) -> None:
    result = read_workbook(_kpi_workbook(tmp_path / "kpi.xlsx"))
    [table] = result.tables
    assert [row.cells for row in table.rows] == XLSX_GRID
    assert table.caption == "绩效自评表"
    assert result.text.startswith("绩效自评表\n2024年度项目支出绩效自评表\t")
    assert result.metadata == {"format": "xlsx", "sheets": "绩效自评表", "hidden_sheets": "下拉选项"}
    assert_consistent(result, r"sheet=绩效自评表(,row=\d+,cells=[A-Z]+\d+:[A-Z]+\d+)?")


def test_xls_reads_like_the_xlsx() -> None:
    result = read_workbook(_fixture(XLS))
    assert result.metadata["format"] == "xls"
    [table] = result.tables
    assert [row.cells for row in table.rows] == XLSX_GRID
    assert_consistent(result, r"sheet=绩效自评表(,row=\d+,cells=[A-Z]+\d+:[A-Z]+\d+)?")


def test_xlsx_dates_and_sheets_in_order(tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "基本信息"
    workbook.active.append(["填报日期", dt.datetime(2025, 3, 31), "预算数（万元）", 3402.07])
    second = workbook.create_sheet("附件1-2")
    second.append(["项目名称", "执行率"])
    second.append(["村级组织运转", 0.9])
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    result = read_workbook(path)
    assert [t.caption for t in result.tables] == ["基本信息", "附件1-2"]
    assert result.tables[0].rows[0].cells == ["填报日期", "2025-03-31", "预算数（万元）", "3402.07"]
    assert result.tables[1].rows[1].cells == ["村级组织运转", "0.9"]
    assert_consistent(result, r"sheet=(基本信息|附件1-2)(,row=\d,cells=A\d:[BD]\d)?")
    rows = [b.where for b in result.blocks if b.kind == "table"]
    assert rows == ["sheet=基本信息,row=1,cells=A1:D1", "sheet=附件1-2,row=1,cells=A1:B1",
                    "sheet=附件1-2,row=2,cells=A2:B2"]


def test_xlsx_row_provenance_is_the_sheets_own_cells(tmp_path: Path) -> None:
    """Empty rows and columns around a table are cropped, but a row still says where it is."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "自评表"
    sheet["C3"], sheet["D3"] = "指标", "得分"
    sheet["C5"], sheet["D5"] = "满意度", 10
    path = tmp_path / "offset.xlsx"
    workbook.save(path)
    result = read_workbook(path)
    assert [r.cells for r in result.tables[0].rows] == [["指标", "得分"], ["满意度", "10"]]
    assert [b.where for b in result.blocks if b.kind == "table"] == [
        "sheet=自评表,row=3,cells=C3:D3", "sheet=自评表,row=5,cells=C5:D5"]


def test_empty_workbook_raises(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "empty.xlsx"
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Sheet2")
    workbook.save(path)
    with pytest.raises(ReaderError, match="has no cells with content"):
        read_workbook(path)


def test_not_a_workbook_raises(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes("一、基本情况".encode())
    with pytest.raises(ReaderError, match="not an Excel workbook"):
        read_workbook(path)
    path.write_bytes(b"PK\x03\x04 a damaged zip")
    with pytest.raises(ReaderError, match="damaged Excel workbook"):
        read_workbook(path)


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

PAGE_URL = "http://www.zhongxian.gov.cn/bm/mzj/zwgk/202505/t20250530_14673626.html"
ARTICLE = ("<p>忠县民政局</p><p>一、基本情况</p>"
           "<p>　　（一）项目概况。2024年度收入合计3402.07万元，其中财政拨款收入3402.07万元，占100%。"
           "支出合计3402.07万元，其中基本支出2207.79万元，项目支出1194.27万元。</p>"
           "<p>　　（二）绩效目标。保障困难群众基本生活，特困人员救助供养覆盖率100%。<br>"
           "　　（三）资金使用情况。资金支付准确率100%，群众满意度96%。</p>"
           "<p>二、绩效指标完成情况</p>"
           '<table border="1"><tr><th>一级指标</th><th>二级指标</th><th>三级指标</th><th>指标值</th>'
           "<th>分值</th><th>得分</th></tr>"
           '<tr><td rowspan="2">产出指标</td><td>数量指标</td><td>村级组织覆盖数</td><td>≥14个</td>'
           "<td>20</td><td>20</td></tr>"
           "<tr><td>质量指标</td><td>资金支付准确率</td><td>100%</td><td>20</td><td>19.5</td></tr>"
           "</table>"
           "<p>三、存在问题及改进措施</p>"
           "<p>　　部分项目支出进度偏慢，下一步将加强预算执行监控，确保资金及时发挥效益。</p>")


def portal_page(charset: str, box: str, article: str = ARTICLE, head: str = "") -> str:
    """A portal article page in the layout of Chongqing's county sites (cf. sample h07)."""
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>忠县民政局2024年度资金绩效自评报告_忠县人民政府</title>{head}</head><body>
<div class="top"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/bm/">部门</a>
<a href="/hd/">互动交流</a> <a href="/fw/">政务服务</a></div>
<div class="crumb">您当前的位置：<a href="/">首页</a> &gt; <a href="/bm/">部门</a> &gt; 民政局 &gt;
预算/决算</div>
{box}
<div class="article"><h1>忠县民政局2024年度资金绩效自评报告</h1>
<div class="tools">【字体：<a>大</a> <a>中</a> <a>小</a>】
<a href="javascript:window.print()">打印本页</a></div>
<div class="TRS_Editor">{article}
<p>附件：<a href="./P020250530123456.xlsx">1.忠县民政局2024年度项目支出绩效自评表.xlsx</a></p>
<p><a href="/uploadfiles/202505/P020250530999.PDF">2.自评报告（盖章版）.pdf</a>
<a href="download.jsp?filename=附件3.doc&amp;id=7">附件3</a> <a href="/zwgk/list.html">更多</a></p>
</div></div>
<div class="footer">主办：忠县人民政府办公室 版权所有 渝ICP备05003300号 <a href="/about.html">网站地图</a></div>
</body></html>"""


TABLE_BOX = """<table class="xxgk">
<tr><td>[ 索引号 ]</td><td>11500233709436995H/2025-00204</td><td>[ 发文字号 ]</td><td></td></tr>
<tr><td>[ 主题分类 ]</td><td>财政</td><td>[ 体裁分类 ]</td><td>财政预算、决算</td></tr>
<tr><td>[ 发布机构 ]</td><td>忠县民政局</td><td>[ 有效性 ]</td><td>有效</td></tr>
<tr><td>[ 成文日期 ]</td><td>2025-05-30</td><td>[ 发布日期 ]</td><td>2025-05-30</td></tr>
</table>"""
LIST_BOX = """<div class="info"><ul>
<li>索 引 号：11500233709436995H/2025-00204</li><li>发布机构：忠县民政局</li>
<li>文　　号：忠民发〔2025〕12号</li><li>发布日期：2025年05月30日</li>
</ul></div>"""


@pytest.mark.parametrize("charset", ["gb2312", "utf-8"])
def test_gbk_page_decodes_and_its_box_is_metadata_not_text(charset: str) -> None:
    # GBK bytes, whether the page declares gb2312 or (a copied template) utf-8; the HTTP header
    # is never consulted
    data = portal_page(charset, TABLE_BOX).encode("gbk")
    result = read_html(data, url=PAGE_URL)
    assert result.metadata["encoding"] == "gb18030"
    assert result.metadata["title"] == "忠县民政局2024年度资金绩效自评报告"
    assert result.metadata["published"] == "2025-05-30"
    assert result.metadata["publisher"] == "忠县民政局"
    assert result.metadata["index_no"] == "11500233709436995H/2025-00204"
    assert "doc_no" not in result.metadata  # the box has the label with no number
    lines = result.text.splitlines()
    assert lines[:3] == ["忠县民政局2024年度资金绩效自评报告", "忠县民政局", "一、基本情况"]
    assert "（三）资金使用情况。资金支付准确率100%，群众满意度96%。" in lines  # <br> keeps lines
    for boilerplate in ("索引号", "发布机构", "主题分类", "您当前的位置", "首页", "版权所有",
                        "打印本页", "字体", "ICP"):
        assert boilerplate not in result.text
    assert_consistent(result, r"title|paragraph=\d+|table=\d+,row=\d+")


def test_page_tables_keep_their_grid() -> None:
    result = read_html(portal_page("gb2312", TABLE_BOX).encode("gbk"), url=PAGE_URL)
    [table] = result.tables
    assert [row.cells for row in table.rows] == [
        KPI_HEADER,
        ["产出指标", "数量指标", "村级组织覆盖数", "≥14个", "20", "20"],
        ["", "质量指标", "资金支付准确率", "100%", "20", "19.5"],  # rowspan: '' below the value
    ]


def test_attachments_are_listed_absolute() -> None:
    result = read_html(portal_page("gb2312", TABLE_BOX).encode("gbk"), url=PAGE_URL)
    assert result.metadata["attachments"].splitlines() == [
        "http://www.zhongxian.gov.cn/bm/mzj/zwgk/202505/P020250530123456.xlsx",
        "http://www.zhongxian.gov.cn/uploadfiles/202505/P020250530999.PDF",
        "http://www.zhongxian.gov.cn/bm/mzj/zwgk/202505/download.jsp?filename=附件3.doc&id=7",
    ]
    assert result.metadata["attachment_names"].splitlines()[0] == "1.忠县民政局2024年度项目支出绩效自评表.xlsx"


def test_list_box_and_meta_tags() -> None:
    head = ('<meta name="ArticleTitle" content="忠县民政局2024年度资金绩效自评报告（修订）">'
            '<meta name="PubDate" content="2025-06-02 09:30">'
            '<meta name="ContentSource" content="忠县民政局办公室">')
    result = read_html(portal_page("utf-8", LIST_BOX, head=head).encode("utf-8"))
    assert result.metadata["encoding"] == "utf-8"
    assert result.metadata["doc_no"] == "忠民发〔2025〕12号"
    assert result.metadata["index_no"] == "11500233709436995H/2025-00204"
    # what the office filled in the box wins over the CMS meta tags; the meta tags fill the gaps
    assert result.metadata["published"] == "2025-05-30"
    assert result.metadata["publisher"] == "忠县民政局"
    assert result.metadata["title"] == "忠县民政局2024年度资金绩效自评报告（修订）"
    assert "忠民发" not in result.text and "索引号" not in result.text
    # no url: attachment links stay as the page wrote them
    assert result.metadata["attachments"].splitlines()[0] == "./P020250530123456.xlsx"


LISTING = """<html><head><meta charset="utf-8"><title>预算/决算_忠县民政局</title></head><body>
<div class="top"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>
<div class="crumb">您当前的位置：首页 &gt; 部门 &gt; 民政局 &gt; 预算/决算</div>
<ul class="list">
<li><a href="t20250530_1.html">忠县民政局2024年度资金绩效自评报告</a><span>2025-05-30</span></li>
<li><a href="t20250412_2.html">忠县民政局2025年部门预算</a><span>2025-04-12</span></li>
<li><a href="t20240601_3.html">忠县民政局2023年度部门决算</a><span>2024-06-01</span></li>
</ul><div class="page">共3条 1/1页 首页 上一页 下一页 尾页</div>
<div class="footer">主办：忠县人民政府办公室 版权所有</div></body></html>"""


def test_an_empty_label_does_not_take_a_distant_value() -> None:
    # the box's last label has no value; the next text on the page is the article's title
    box = ('<div class="info"><span>索引号：</span><span>001/2025-01</span>'
           '<span>文号：</span></div>')
    page = portal_page("utf-8", box).replace("<h1>忠县民政局2024年度资金绩效自评报告</h1>",
                                              "<h1>关于2025年第3号绩效自评的报告</h1>")
    result = read_html(page.encode("utf-8"))
    assert result.metadata["index_no"] == "001/2025-01"
    assert "doc_no" not in result.metadata


def test_page_without_article_raises() -> None:
    with pytest.raises(ReaderError, match="no article text found"):
        read_html(LISTING.encode("utf-8"), url=PAGE_URL)


def test_binary_served_as_html_raises() -> None:
    with pytest.raises(ReaderError, match="is a PDF, not an HTML page"):
        read_html(b"%PDF-1.7 ...", url=PAGE_URL)


@pytest.mark.parametrize("data,encoding", [
    ("<p>绩效自评报告</p>".encode("gbk"), "gb18030"),  # no declaration at all
    ('<meta charset="gbk"><p>绩效自评报告</p>'.encode("utf-8"), "utf-8"),  # the meta tag lies
    ("\ufeff<p>绩效自评报告</p>".encode("utf-8"), "utf-8-sig"),
    ('<meta charset="big5"><p>績效自評報告</p>'.encode("big5"), "big5"),
    ('<meta charset="gb2312"><p>䶮生僻字</p>'.encode("gb18030"), "gb18030"),  # beyond GB2312
])
def test_decoding(data: bytes, encoding: str) -> None:
    text, found = decode_html(data)
    assert found == encoding
    assert "绩效自评报告" in text or "績效自評報告" in text or "䶮生僻字" in text


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        build_fixtures()
        print(f"fixtures written to {FIXTURES}")
