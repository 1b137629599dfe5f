"""Portal pages laid out in tables (older county sites): the report is read as an article.

The pages are real HTML bytes in the layout those sites use: a frame table (navigation cell,
content cell), a table for the article inside it whose one cell holds the report as lines split by
``<br>`` (``<br><br>``, ``&nbsp;`` and full-width indents), sometimes a scoring form
(绩效自评表) inside the same cell. The frame must give paragraphs with headings of their own; the
form must stay a table.
"""
from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("trafilatura", reason="trafilatura is not installed (see the readers' pins)")

from lxml import html as lxml_html  # noqa: E402

from extractors.amounts import extract_amounts  # noqa: E402
from extractors.indicators import extract_indicators  # noqa: E402
from pipeline.document import Document  # noqa: E402
from pipeline.ingest import document_from_read  # noqa: E402
from pipeline.readers import ReadResult  # noqa: E402
from pipeline.readers.html import is_layout_table, read_html  # noqa: E402
from pipeline.sections import segment  # noqa: E402

PAGE_URL = "http://www.example.gov.cn/xxgk/czzj/2025/0530/t20250530_1234.html"
TITLE = "某县农业农村局2024年度部门整体支出绩效自评报告"

# The report as the CMS stored it: one line a <br>, indents as the office typed them.
REPORT_LINES = [
    "一、基本情况",
    "&nbsp;&nbsp;&nbsp;&nbsp;（一）部门职能",
    "　　负责全县农业农村发展规划的拟订和实施，统筹推进乡村振兴和农业产业发展工作。",
    "　　（二）预算收支情况",
    "　　2024年度收入合计1234.56万元，其中财政拨款收入1200.00万元，其他收入34.56万元。",
    "　　支出合计1234.56万元，其中基本支出800.12万元，项目支出434.44万元。",
    "二、绩效评价情况",
    "　　（一）预算执行情况",
    "　　全年预算执行率为98.5%，资金支付及时，未发现挤占挪用资金情况。",
    "　　（二）绩效目标完成情况",
    "　　完成高标准农田建设2.1万亩，农作物良种覆盖率达到96%，群众满意度达到95%。",
    "　　主办全县农民丰收节等活动3场，参与群众5000余人次。",  # not the footer's 主办：
    "三、存在的问题",
    "　　部分项目前期准备不足，支出进度偏慢，绩效目标设置不够细化。",
    "四、改进措施",
    "　　加强预算执行监控，细化绩效目标，确保资金及时发挥效益。",
]
SIGNATURE = ["某县农业农村局", "2025年5月30日"]

# A project scoring form (项目支出绩效自评表) as the office pasted it into the editor.
FORM = """<table border="1" cellspacing="0" cellpadding="0" width="100%">
<tr><td>一级指标</td><td>二级指标</td><td>三级指标</td><td>指标值</td><td>分值</td><td>得分</td></tr>
<tr><td rowspan="2">产出指标</td><td>数量指标</td><td>高标准农田建设面积</td><td>≥2万亩</td>
<td>20</td><td>20</td></tr>
<tr><td>质量指标</td><td>项目验收合格率</td><td>100%</td><td>20</td><td>19.5</td></tr>
<tr><td>效益指标</td><td>满意度指标</td><td>群众满意度</td><td>≥90%</td><td>10</td><td>9</td></tr>
</table>"""
FORM_GRID = [
    ["一级指标", "二级指标", "三级指标", "指标值", "分值", "得分"],
    ["产出指标", "数量指标", "高标准农田建设面积", "≥2万亩", "20", "20"],
    ["", "质量指标", "项目验收合格率", "100%", "20", "19.5"],
    ["效益指标", "满意度指标", "群众满意度", "≥90%", "10", "9"],
]


def frame_page(content: str, charset: str = "gb2312") -> str:
    """A page of an old county portal: a frame table (banner row; navigation cell and content
    cell) with the article's own table in the content cell (title, date line, the report)."""
    nav = "<br>".join(f'<a href="/{path}/">{name}</a>' for path, name in
                      [("", "首页"), ("zwgk", "政务公开"), ("bmdt", "部门动态"),
                       ("tzgg", "通知公告"), ("zcfg", "政策法规"), ("hdjl", "互动交流")])
    return f"""<html><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{TITLE}_某县人民政府</title></head>
<body leftmargin="0" topmargin="0">
<table width="1002" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td colspan="2"><img src="/images/banner.jpg" width="1002" height="120"></td></tr>
<tr><td width="220" valign="top" class="left">{nav}</td>
<td width="782" valign="top">
<table width="96%" border="0" align="center" cellpadding="0" cellspacing="0">
<tr><td height="40" align="center" class="bt"><b>{TITLE}</b></td></tr>
<tr><td align="center" class="date">发布时间：2025-05-30&nbsp;&nbsp;来源：某县农业农村局&nbsp;&nbsp;点击数：</td></tr>
<tr><td class="nr">{content}</td></tr>
</table></td></tr></table>
<table width="1002" align="center"><tr><td align="center">版权所有：某县人民政府办公室
&nbsp;备案号：某ICP备05000000号</td></tr><tr><td align="center">主办：某县人民政府办公室</td></tr>
</table>
</body></html>"""


def report_cell(after: str = "") -> str:
    """The report's lines, ``<br>`` between lines and ``<br><br>`` before each level-1 heading,
    then ``after`` (a form), then the signature."""
    html = ""
    for line in REPORT_LINES:
        html += ("<br><br>" if html and line[0] in "二三四" else "<br>" if html else "") + line
    return html + "<br>" + after + "<br><br>".join(SIGNATURE)


def clean(line: str) -> str:
    return line.replace("&nbsp;", "").strip("\u3000 ")


def read(data: bytes) -> tuple[ReadResult, Document]:
    result = read_html(data, url=PAGE_URL)
    return result, document_from_read(result, "frame.html", "html")


EXPECTED_SECTIONS = [
    (1, "一", "基本情况"), (2, "一", "部门职能"), (2, "二", "预算收支情况"),
    (1, "二", "绩效评价情况"), (2, "一", "预算执行情况"), (2, "二", "绩效目标完成情况"),
    (1, "三", "存在的问题"), (1, "四", "改进措施"),
]


def test_layout_frame_is_read_as_the_article_line_by_line() -> None:
    result, doc = read(frame_page(report_cell()).encode("gb18030"))
    assert result.tables == []  # neither the frame nor the article's table is data
    lines = result.text.splitlines()
    assert lines[0] == TITLE
    assert lines[1:] == [clean(line) for line in REPORT_LINES] + SIGNATURE
    heading_levels = {result.text[b.start:b.end]: b.level for b in result.blocks
                      if b.kind == "heading" and b.where != "title"}
    assert heading_levels == {"一、基本情况": 1, "（一）部门职能": 2, "（二）预算收支情况": 2,
                              "二、绩效评价情况": 1, "（一）预算执行情况": 2,
                              "（二）绩效目标完成情况": 2, "三、存在的问题": 1, "四、改进措施": 1}
    assert all(b.where == "title" or b.where.startswith("paragraph=") for b in result.blocks)
    # the page's furniture is not the report: navigation, the date line, the footer
    for furniture in ("政务公开", "通知公告", "点击数", "版权所有", "备案号"):
        assert furniture not in result.text
    # the date line is still the page's metadata
    assert result.metadata["published"] == "2025-05-30"
    # the page's <title> (the title and the site's name) is the metadata, as on any page; the
    # article's own first line is its title, not put first a second time
    assert result.metadata["title"] == f"{TITLE}_某县人民政府"
    assert lines.count(TITLE) == 1

    sections = segment(doc)
    assert [(s.level, s.number, s.title) for s in sections] == EXPECTED_SECTIONS
    basic = sections[0]
    assert "1234.56万元" in doc.text[basic.start:basic.end]
    amounts = {a.text: a.value_yuan for a in extract_amounts(doc)}
    assert amounts["1234.56万元"] == pytest.approx(12_345_600)
    assert amounts["434.44万元"] == pytest.approx(4_344_400)


def test_scoring_form_in_the_layout_cell_stays_a_table() -> None:
    cell = report_cell(after="附表：2024年度项目支出绩效自评表<br>" + FORM)
    result, doc = read(frame_page(cell).encode("gb18030"))
    [table] = result.tables
    assert [row.cells for row in table.rows] == FORM_GRID
    lines = result.text.splitlines()
    # the form is where the office put it: after the report, before the signature
    caption = lines.index("附表：2024年度项目支出绩效自评表")
    assert lines[caption + 1] == "\t".join(FORM_GRID[0])
    assert lines[-2:] == SIGNATURE
    assert [(b.where, b.table_id) for b in result.blocks if b.kind == "table"] == [
        (f"table=1,row={r}", table.table_id) for r in range(1, len(FORM_GRID) + 1)]

    sections = segment(doc)
    assert [(s.level, s.number, s.title) for s in sections][:len(EXPECTED_SECTIONS)] == \
        EXPECTED_SECTIONS
    from_table = [(i.name, i.level1, i.level2, i.max_score, i.score)
                  for i in extract_indicators(doc, sections) if i.origin == "table"]
    assert from_table == [
        ("高标准农田建设面积", "产出指标", "数量指标", 20.0, 20.0),
        ("项目验收合格率", "产出指标", "质量指标", 20.0, 19.5),
        ("群众满意度", "效益指标", "满意度指标", 10.0, 9.0),
    ]


def test_gbk_frame_whose_meta_says_utf8_decodes() -> None:
    # a copied template declares utf-8; the bytes are GB18030 (a name beyond GB2312: 䶮)
    cell = report_cell().replace("某县农业农村局", "某县农业农村局（局长：刘䶮）", 1)
    page = frame_page(cell, charset="utf-8").replace(
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
        '<meta charset="utf-8">')
    result, doc = read(page.encode("gb18030"))
    assert result.metadata["encoding"] == "gb18030"
    lines = result.text.splitlines()
    assert "某县农业农村局（局长：刘䶮）" in lines
    assert "全年预算执行率为98.5%，资金支付及时，未发现挤占挪用资金情况。" in lines
    assert "\ufffd" not in result.text
    assert [(s.level, s.title) for s in segment(doc) if s.level == 1] == [
        (1, "基本情况"), (1, "绩效评价情况"), (1, "存在的问题"), (1, "改进措施")]


# ---------------------------------------------------------------------------------------------
# The rule, table by table: what portals put in <table> and what each is
# ---------------------------------------------------------------------------------------------

GOAL = "<br>".join(f"{n}.完成高标准农田建设任务，提高农业综合生产能力，保障粮食安全和重要农产品供给，"
                   f"带动农民增收{n}0个百分点。" for n in range(1, 5))
LAYOUT = [
    pytest.param("<table><tr><td><a href='/'>首页</a><br><a href='/a'>政务公开</a></td>"
                 "<td>一、基本情况<br>（一）部门职能<br>负责全县农业发展。</td></tr></table>",
                 id="frame-nav-and-content"),
    pytest.param("<table><tr><td>" + TITLE + "</td></tr><tr><td>发布时间：2025-05-30</td></tr>"
                 "<tr><td>一、基本情况<br>本局内设机构5个。<br>二、绩效评价情况</td></tr></table>",
                 id="article-table-title-date-body"),
    pytest.param("<table><tr><td>一、基本情况</td></tr><tr><td>本局内设机构5个，编制30名。</td></tr>"
                 "<tr><td>二、绩效评价情况</td></tr><tr><td>预算执行率为98.5%。</td></tr></table>",
                 id="one-column-of-paragraphs"),
    pytest.param("<table><tr><td><table><tr><td>标题</td></tr><tr><td>一、基本情况<p>本局内设机构5个。"
                 "</p><p>二、绩效评价情况</p></td></tr></table></td><td></td></tr></table>",
                 id="frame-around-a-nested-article-table"),
    pytest.param("<table><tr><td>版权所有：某县人民政府办公室</td></tr>"
                 "<tr><td>主办：某县人民政府办公室</td></tr></table>", id="one-column-footer"),
]
DATA = [
    pytest.param(FORM, id="scoring-form"),
    pytest.param("<table><tr><td>项目名称</td><td colspan='5'>高标准农田建设</td></tr>"
                 f"<tr><td>年度总体目标</td><td colspan='5'>{GOAL}</td></tr>"
                 + FORM[FORM.index("<tr>"):], id="form-with-a-long-goal-cell"),
    pytest.param("<table><tr><td>[ 索引号 ]</td><td>11500233709436995H/2025-00204</td></tr>"
                 "<tr><td>[ 发布机构 ]</td><td>忠县民政局</td></tr></table>", id="information-box"),
    pytest.param("<table><tr><td>项目</td><td>金额</td></tr><tr><td>基本支出</td>"
                 "<td>800.12</td></tr></table>", id="two-by-two"),
    pytest.param("<table><tr><td></td><td></td></tr></table>", id="empty"),
]


def _outer_table(html: str) -> Any:
    return lxml_html.fromstring(f"<html><body>{html}</body></html>").find(".//table")


@pytest.mark.parametrize("html", LAYOUT)
def test_layout_tables_are_recognised(html: str) -> None:
    assert is_layout_table(_outer_table(html))


@pytest.mark.parametrize("html", DATA)
def test_data_tables_are_not_layout(html: str) -> None:
    assert not is_layout_table(_outer_table(html))
