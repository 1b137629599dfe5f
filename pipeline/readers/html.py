"""Reading portal pages (HTML) into a :class:`ReadResult`: the article, its tables, its metadata.

Government portals publish self-evaluation reports as article pages: the report is the article,
wrapped in navigation, breadcrumbs and an information box (信息公开 metadata: 索引号, 发布机构,
发布日期, 文号 …), often with the signed original attached as .pdf/.doc/.xls.

* **Decoding** trusts the bytes, not the HTTP header (portals routinely serve GBK pages as
  ``charset=utf-8``): a byte-order mark; then valid UTF-8 with non-ASCII bytes (GBK text is
  practically never valid UTF-8, while meta tags copied between templates do lie); then the page's
  own ``<meta charset>`` if the bytes decode with it; then detection. GB2312 and GBK are decoded as
  GB18030, their superset, so rare characters in names (人名、地名生僻字) survive.
* **Metadata** comes from the page's meta tags (``ArticleTitle``, ``PubDate``, ``ContentSource``,
  the TRS/Hanweb CMS convention) and its information box, read label by label (``索引号：…`` in one
  cell or ``[ 索引号 ]`` and the value in the next). Keys: ``title``, ``published`` (ISO date),
  ``publisher``, ``index_no``, ``doc_no``, and ``written`` (成文日期) when given; ``attachments``
  (absolute URLs, one a line) with ``attachment_names`` (the link texts, line for line);
  ``encoding``, ``format`` and ``url``.
* **Main content** is extracted by trafilatura, after the information box has been cut out of the
  page (trafilatura would otherwise keep it as a table). Its XML output keeps paragraphs, line
  breaks and tables (``rowspan``/``colspan`` follow the merged-cell convention of the other
  readers: the value in the top-left cell, ``''`` in the others). The title is put first when the
  article does not start with it, as the report's heading.

``Block.where`` is ``title``, ``paragraph=N`` (N counts the article's paragraphs from 1) or
``table=N,row=R`` (both from 1), as in the docx reader.
"""
from __future__ import annotations

import codecs
import datetime as dt
import re
from typing import Any
from urllib.parse import urljoin

import regex

from pipeline.readers import ReaderError, ReadResult
from pipeline.readers.text import TextBuilder, clean_cell, heading_level

# Information-box labels that give a metadata field, and the field each gives. Spaces (often
# &nbsp; or full-width) may pad a label: 索 引 号, 文　　号.
_FIELD_LABELS: dict[str, str] = {
    "索引号": "index_no",
    "发布机构": "publisher", "发文机关": "publisher",
    "发布日期": "published", "发布时间": "published",
    "成文日期": "written",
    "文号": "doc_no", "发文字号": "doc_no",
    "标题": "title",
    "来源": "source", "信息来源": "source",
}
# Labels that only mark a box as an information box (their values are not kept).
_BOX_ONLY_LABELS = ["主题分类", "体裁分类", "组配分类", "服务对象", "有效性", "公开方式", "公开范围",
                    "公开时限", "公开目录", "主题词", "浏览量", "浏览次数", "阅读次数", "阅读", "点击",
                    "生成日期", "所属机构", "作者", "字体", "字号"]


def _label_alternation(labels: list[str]) -> str:
    # longest first, so 发文字号 is not read as 文号 and 信息来源 not as 来源
    spaced = [r"[ \u3000\u00a0]*".join(map(re.escape, label))
              for label in sorted(labels, key=len, reverse=True)]
    return "|".join(spaced)


_LABEL = regex.compile(
    r"[\[【]?[ \u3000\u00a0]*"                                      # [ 索引号 ]   【发布日期】
    rf"(?P<label>{_label_alternation(list(_FIELD_LABELS) + _BOX_ONLY_LABELS)})"
    r"[ \u3000\u00a0]*[\]】]?[ \u3000\u00a0]*[:：]?[ \u3000\u00a0]*"  # the colon is optional
)
_NO_VALUE = {"", "无", "-", "—", "/", "暂无", "null", "none"}

# meta name (lower-cased) → metadata key, in order of preference per key
_META_NAMES: dict[str, str] = {
    "articletitle": "title", "og:title": "title",
    "pubdate": "published", "publishdate": "published", "firstpublishedtime": "published",
    "article:published_time": "published",
    "contentsource": "publisher",
}

_ATTACHMENT_HREF = re.compile(r"\.(?:docx?|pdf|xlsx?|wps)(?=$|[?#&])", re.IGNORECASE)

# Lines of page furniture that trafilatura sometimes keeps on portal pages.
_FURNITURE_LINE = regex.compile(r"""^[ \u3000]*(?:
      (?:您现在的位置|您当前的位置|当前位置)[ \u3000]*[:：]     # breadcrumbs
    | [【\[]?[ \u3000]*字[体号][ \u3000]*[:：]                   # 【字体：大 中 小】
    | (?:打印本页|关闭窗口|打印|关闭|返回顶部|分享到?)[ \u3000]*[:：]?[ \u3000]*$
    | 扫一扫在手机(?:上)?(?:打开|查看)当前页
    | (?:主办|承办)(?:单位)?[ \u3000]*[:：]                     # the page footer (a layout
    | (?:版权所有|Copyright|©)                                   # table's cell is a line now)
    | .{0,80}(?:ICP备|公网安备).{0,40}$
    )""", regex.VERBOSE)

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")

_BINARY_MAGIC = {b"%PDF": "a PDF", b"PK\x03\x04": "a zip package (.docx/.xlsx)",
                 b"\xd0\xcf\x11\xe0": "an Office 97-2003 file (.doc/.xls)"}


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------

def _canonical_encoding(name: str) -> str | None:
    """Python codec name for a declared charset; the GB family maps to GB18030."""
    try:
        codec = codecs.lookup(name.strip().strip("\"'"))
    except LookupError:
        return None
    if codec.name in ("gb2312", "gbk", "gb18030", "cp936", "hz"):
        return "gb18030"
    return codec.name


def decode_html(data: bytes) -> tuple[str, str]:
    """Decode page bytes, whatever the server said; returns ``(text, encoding)``.

    >>> decode_html('<meta charset="gb2312"><p>绩效自评</p>'.encode("gbk"))[1]
    'gb18030'
    >>> decode_html('<meta charset="gbk"><p>绩效自评</p>'.encode("utf-8"))[1]
    'utf-8'
    """
    for bom, bom_encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                              (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(bom_encoding, errors="replace"), bom_encoding
    if not data.isascii():
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    head = data[:4096].decode("latin-1")
    declared = re.search(r"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", head, re.IGNORECASE)
    encoding = _canonical_encoding(declared.group(1)) if declared else None
    for candidate in (encoding, "gb18030"):
        if candidate:
            try:
                return data.decode(candidate), candidate
            except (UnicodeDecodeError, LookupError):
                pass
    from charset_normalizer import from_bytes  # only for pages nothing above could decode

    best = from_bytes(data, cp_isolation=["utf_8", "gb18030", "big5"]).best()
    if best is not None:
        return str(best), best.encoding
    # damaged bytes (a page cut off mid-character): keep what decodes
    return data.decode(encoding or "gb18030", errors="replace"), f"{encoding or 'gb18030'}+replace"


# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------

def iso_date(value: str) -> str | None:
    """The first date in ``value`` as ``YYYY-MM-DD``, or ``None``.

    >>> iso_date("2025年5月30日 09:12"), iso_date("发布时间：2022-04-15 14:54"), iso_date("无")
    ('2025-05-30', '2022-04-15', None)
    """
    m = _DATE.search(value)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def _clean_value(value: str) -> str:
    return re.sub(r"[ \u3000\u00a0\t\r\n]+", " ", value).strip(" ：:|【】[]")


def _text_nodes(tree: Any) -> list[Any]:
    """The page's visible text nodes in document order (lxml smart strings, which know their
    element)."""
    return [t for t in tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)"
                                  " and not(ancestor::noscript)]") if t.strip()]


def _box_fields(nodes: list[Any]) -> tuple[dict[str, str], list[Any]]:
    """Fields of the information box, and the text nodes that carried a label.

    A node that starts with a label holds ``label value`` pairs (``索引号：X 发布机构：Y``); a
    label left without a value takes the next node when that node is close by (in the same table
    row, list item or line: a common ancestor at most two levels up that is small, not the page)
    and is not itself a label.
    A value that cannot be what its label says (an 索引号 without a digit) is not kept.
    """
    fields: dict[str, str] = {}
    label_nodes = []
    waiting: tuple[str, list[Any]] | None = None  # (field, the label's nearest ancestors)

    def keep(key: str, value: str) -> None:
        if value.lower() in _NO_VALUE or len(value) > 120:
            return
        if key in ("index_no", "doc_no", "published", "written") and not re.search(r"\d", value):
            return
        fields.setdefault(key, value)

    for node in nodes:
        # a node may begin with the closing bracket of the previous item: 】 【发布时间:…】
        stripped = str(node).strip().lstrip("】]|｜·,，;； \u3000\u00a0")
        first = _LABEL.match(stripped)
        if first is None:
            if waiting is not None and set(_ancestors(node)) & set(waiting[1]):
                keep(waiting[0], _clean_value(stripped))
            waiting = None
            continue
        label_nodes.append(node)
        waiting = None
        matches = list(_LABEL.finditer(stripped))
        for i, m in enumerate(matches):
            value_end = matches[i + 1].start() if i + 1 < len(matches) else len(stripped)
            key = _FIELD_LABELS.get(re.sub(r"[ \u3000\u00a0]", "", m.group("label")))
            value = _clean_value(stripped[m.end():value_end])
            if key is None:
                continue
            if value.lower() in _NO_VALUE:
                if i == len(matches) - 1:
                    near = [a for a in _ancestors(node)[:3]
                            if a.tag not in ("body", "html") and len(a.text_content()) <= 300]
                    waiting = (key, near)
            else:
                keep(key, value)
    return fields, label_nodes


def _ancestors(node: Any) -> list[Any]:
    """The element holding a text node, then its ancestors up to the root."""
    element = node.getparent()
    if element is not None and node.is_tail:
        element = element.getparent()
    chain = []
    while element is not None:
        chain.append(element)
        element = element.getparent()
    return chain


def _meta_fields(tree: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    for meta in tree.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        key = _META_NAMES.get(name)
        content = _clean_value(meta.get("content") or "")
        if key and content:
            fields.setdefault(key, content)
    return fields


def _remove_info_boxes(label_nodes: list[Any]) -> None:
    """Cut the information box(es) out of the page so the article text does not carry them.

    From each label, climb to the largest ancestor that is still box-like: at most 800
    characters, made only of short pieces with no sentence in them (an article paragraph stops the
    climb), and holding two labels at least.
    """
    removed: set[Any] = set()
    for node in label_nodes:
        box = None
        for element in _ancestors(node):
            if element.tag in ("body", "html"):
                break
            text = element.text_content()
            pieces = [p for p in text.split("\n") if p.strip()]
            if len(text) > 800 or "。" in text or any(len(p.strip()) > 80 for p in pieces):
                break
            if len(list(_LABEL.finditer(text))) >= 2:
                box = element
        if box is not None and box not in removed and box.getparent() is not None:
            removed.add(box)
            box.getparent().remove(box)


def _attachments(tree: Any, url: str | None) -> list[tuple[str, str]]:
    """(absolute URL, link text) of every linked document, in page order, once each."""
    base = url or ""
    for element in tree.iter("base"):
        if element.get("href"):
            base = urljoin(base, element.get("href").strip())
            break
    seen, found = set(), []
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript:", "mailto:")):
            continue
        if not _ATTACHMENT_HREF.search(href):
            continue
        absolute = urljoin(base, href) if base else href
        if absolute not in seen:
            seen.add(absolute)
            found.append((absolute, _clean_value(link.text_content())))
    return found


# ---------------------------------------------------------------------------------------------
# Layout tables
# ---------------------------------------------------------------------------------------------

# Older county portals lay the page out in tables: a frame table (navigation cell, content cell),
# often a table for the article inside it, whose one cell holds the whole report as lines split by
# <br>. Read as data, the report would become one cell and lose its headings. A data table (a
# 绩效自评表: 一级指标/二级指标/分值/得分) is a grid of many short cells; a layout table puts its
# text in one cell, or stacks paragraphs in one column.

# One cell holding this share of the table's text (the rest being a navigation column, a title or
# a date line) is the page's content, not a value in a grid.
LAYOUT_CELL_SHARE = 0.6
# ... when it holds paragraphs: this many lines (split by <br> or block elements) at least. A
# data cell is a value or a phrase, at most a short list (目标1、目标2).
LAYOUT_CELL_LINES = 3
# A cell of at most this many characters is a grid value (a label, a score, a percentage) ...
DATA_CELL_CHARS = 20
# ... and this many such cells (two indicator rows of a scoring form of six columns) make a grid,
# whatever one long cell holds (a 年度总体目标 can outweigh the form's short cells). Cells that are
# only links (a navigation column) are not counted: they are page furniture.
DATA_MIN_SHORT_CELLS = 12

_BLOCK_TAGS = frozenset({"p", "div", "table", "tr", "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2",
                         "h3", "h4", "h5", "h6", "blockquote", "pre", "center", "section",
                         "article", "form", "hr"})
_SKIPPED_TAGS = frozenset({"script", "style", "noscript"})
_BLANK = " \t\r\n\u3000\u00a0"


def _element_lines(element: Any) -> list[str]:
    """Non-blank lines of a page element as a browser breaks them: at ``<br>`` and around block
    elements (nested tables included)."""
    parts: list[str] = []

    def visit(node: Any) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""  # comments, processing instructions
        if tag in _SKIPPED_TAGS:
            return
        block = tag in _BLOCK_TAGS or tag == "br"
        if block:
            parts.append("\n")
        if tag:
            parts.append(node.text or "")
        for child in node:
            visit(child)
            parts.append(child.tail or "")
        if block:
            parts.append("\n")

    visit(element)
    return [line for line in "".join(parts).split("\n") if line.strip(_BLANK)]


def _own(table: Any, tags: tuple[str, ...]) -> list[Any]:
    """Descendants of ``table`` with one of ``tags`` that belong to it, not to a nested table."""
    found = []
    for element in table.iter(*tags):
        holder = element.getparent()
        while holder is not None and holder.tag != "table":
            holder = holder.getparent()
        if holder is table:
            found.append(element)
    return found


def is_layout_table(table: Any) -> bool:
    """Whether a page ``<table>`` (an lxml element) lays the page out rather than holding data.

    Layout: one cell holds most of the table's text (:data:`LAYOUT_CELL_SHARE`) as paragraphs
    (:data:`LAYOUT_CELL_LINES` lines or more, nested tables counted) and the rest is not a grid of
    short cells (:data:`DATA_MIN_SHORT_CELLS`); or the table is one column, a cell with text a row
    at most (a title over a date line over the report, a footer, a box round one text), where no
    cell is a value of another. Anything else, a scoring form above all, is data.

    >>> from lxml import html
    >>> frame = html.fromstring("<table><tr><td><a href='/'>首页</a></td><td>一、基本情况<br>"
    ...                         "（一）部门职能<br>负责全县农业发展。</td></tr></table>")
    >>> form = html.fromstring("<table><tr><td>一级指标</td><td>分值</td><td>得分</td></tr>"
    ...                        "<tr><td>产出指标</td><td>20</td><td>19.5</td></tr></table>")
    >>> is_layout_table(frame), is_layout_table(form)
    (True, False)
    """
    rows = [[cell for cell in row if cell.tag in ("td", "th")] for row in _own(table, ("tr",))]
    cells = [cell for row in rows for cell in row]
    lines = {id(cell): _element_lines(cell) for cell in cells}
    size = {id(cell): len(_fold("".join(lines[id(cell)]))) for cell in cells}
    total = sum(size.values())
    if total == 0:
        return False
    if all(sum(1 for cell in row if size[id(cell)]) <= 1 for row in rows):
        return True  # one column (or one cell): a stack of lines, no cell gives another a meaning
    filled = [cell for cell in cells if size[id(cell)]]

    def navigation(cell: Any) -> bool:
        links = "".join(_fold(a.text_content()) for a in cell.iter("a"))
        return len(links) >= size[id(cell)]

    short = [cell for cell in filled if size[id(cell)] <= DATA_CELL_CHARS and not navigation(cell)]
    main = max(filled, key=lambda cell: size[id(cell)])
    return (size[id(main)] >= LAYOUT_CELL_SHARE * total and len(lines[id(main)]) >= LAYOUT_CELL_LINES
            and len(short) < DATA_MIN_SHORT_CELLS)


def _unwrap_layout_tables(tree: Any) -> None:
    """Turn the page's layout tables into plain blocks (a ``<div>`` a table, a row, a cell), so
    that their text is read as the article's paragraphs, each ``<br>`` line a line of its own, and
    a data table nested in a layout cell stays a table where it stands.

    Every table is judged before any is changed (a frame's content cell holds the article table).
    Cells keep their ``class`` and ``id``, which help trafilatura find the content.
    """
    layout = [table for table in tree.iter("table") if is_layout_table(table)]
    for table in layout:
        parts = _own(table, ("caption", "thead", "tbody", "tfoot", "tr", "td", "th"))
        cells = [element for element in parts if element.tag in ("td", "th", "caption")]
        for element in [table, *parts]:
            kept = {k: v for k, v in element.attrib.items() if k in ("class", "id")}
            element.attrib.clear()
            element.attrib.update(kept)
            element.tag = "div"
        for cell in cells:
            _wrap_lines(cell)


def _wrap_lines(cell: Any) -> None:
    """Put each line of a layout cell's own text (the runs between ``<br>`` and block children)
    in a ``<p>`` of its own: a paragraph to trafilatura, even when it falls back to its baseline
    extraction on a short page. Blank runs (``<br><br>``, ``&nbsp;`` indents) are dropped; block
    children (a nested data table, a ``<p>``) stay as they are."""
    from lxml import html as lxml_html

    sequence: list[Any] = []
    run_text, run_nodes = cell.text or "", []

    def flush() -> None:
        text = run_text + "".join((node.text_content() if isinstance(node.tag, str) else "")
                                  + (node.tail or "") for node in run_nodes)
        if not text.strip(_BLANK):
            return
        paragraph = lxml_html.Element("p")
        paragraph.text = run_text
        paragraph.extend(run_nodes)
        sequence.append(paragraph)

    children = list(cell)
    for child in children:
        cell.remove(child)
    cell.text = None
    for child in children:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br" or tag in _BLOCK_TAGS:
            flush()
            run_text, run_nodes = child.tail or "", []
            child.tail = None
            if tag != "br":
                sequence.append(child)
        else:
            run_nodes.append(child)
    flush()
    cell.extend(sequence)


# ---------------------------------------------------------------------------------------------
# Article
# ---------------------------------------------------------------------------------------------

def _lines(element: Any) -> list[str]:
    """Text of a trafilatura XML element, split at its ``<lb/>`` line breaks."""
    parts: list[str] = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag not in ("table", "list"):
            parts.append(_lines_joined(child))
        parts.append(child.tail or "")
    return "".join(parts).split("\n")


def _lines_joined(element: Any) -> str:
    return "\n".join(_lines(element))


def _grid(table: Any) -> list[list[str]]:
    grid = [[clean_cell(_lines_joined(cell)) for cell in row.iter("cell")]
            for row in table.iter("row")]
    grid = [row for row in grid if any(row)]
    width = max((len(row) for row in grid), default=0)
    return [row + [""] * (width - len(row)) for row in grid]


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text)


def read_html(data: bytes, url: str | None = None) -> ReadResult:
    """Read one portal page: article text with tables, page metadata, attachment links.

    ``url`` (the page's address) makes attachment links absolute and helps trafilatura. Raises
    :class:`ReaderError` when the bytes are not an HTML page or the page has no article.

    >>> page = ('<html><head><meta name="ArticleTitle" content="某局2024年度绩效自评报告">'
    ...         '</head><body><table><tr><td>索引号：</td><td>001/2025-01</td>'
    ...         '<td>发布日期：</td><td>2025年5月30日</td></tr></table><div><p>一、基本情况</p>'
    ...         '<p>' + '本单位2024年度收入合计3402.07万元，全部为财政拨款收入。' * 8 + '</p>'
    ...         '<a href="zpb.xlsx">自评表</a></div></body></html>')
    >>> r = read_html(page.encode("gbk"), url="http://www.example.gov.cn/zwgk/t1.html")
    >>> r.metadata["index_no"], r.metadata["published"], r.metadata["attachments"]
    ('001/2025-01', '2025-05-30', 'http://www.example.gov.cn/zwgk/zpb.xlsx')
    >>> r.text.splitlines()[:2]
    ['某局2024年度绩效自评报告', '一、基本情况']
    """
    import trafilatura
    from lxml import etree

    where = url or "the page"
    for magic, kind in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise ReaderError(f"{where} is {kind}, not an HTML page")
    html_text, encoding = decode_html(data)
    tree = trafilatura.load_html(html_text)
    if tree is None:
        raise ReaderError(f"{where} could not be parsed as HTML")

    metadata: dict[str, str] = {"format": "html", "encoding": encoding}
    if url:
        metadata["url"] = url
    box, label_nodes = _box_fields(_text_nodes(tree))
    meta = _meta_fields(tree)
    attachments = _attachments(tree, url)
    link_texts = {_fold(a.text_content()) for a in tree.iter("a")}
    _remove_info_boxes(label_nodes)
    _unwrap_layout_tables(tree)

    xml = trafilatura.extract(tree, url=url, output_format="xml", include_tables=True,
                              include_comments=False, include_links=False, include_images=False,
                              include_formatting=False, with_metadata=True, favor_recall=True,
                              deduplicate=False)
    doc = etree.fromstring(xml.encode("utf-8")) if xml else None
    main = doc.find("main") if doc is not None else None

    metadata.update(_page_fields(box, meta, doc))
    if attachments:
        metadata["attachments"] = "\n".join(link for link, _ in attachments)
        metadata["attachment_names"] = "\n".join(name for _, name in attachments)

    builder = TextBuilder()
    title = metadata.get("title", "")
    if main is not None:
        _article(main, builder, title)
    if not _is_article(builder, link_texts):
        linked = (f"; it links {len(attachments)} attachment(s): "
                  + ", ".join(link for link, _ in attachments[:3])) if attachments else ""
        raise ReaderError(f"{where}: no article text found (a listing, an empty page, or a page "
                          f"whose report is only in an attachment{linked})")
    return builder.result(metadata)


def _page_fields(box: dict[str, str], meta: dict[str, str], doc: Any = None) -> dict[str, str]:
    """The page's title, published, publisher, index_no, doc_no and written, field by field: the
    box first (what the office filled in), then meta tags, then trafilatura's ``doc``; except the
    title, which the CMS knows exactly while a 标题 label may be any table's cell."""
    fields: dict[str, str] = {}
    for key in ("title", "published", "publisher", "index_no", "doc_no", "written"):
        first, second = (meta, box) if key == "title" else (box, meta)
        value = first.get(key) or second.get(key)
        if key == "publisher":
            value = value or box.get("source")
        if key == "title" and not value and doc is not None:
            value = doc.get("title")
        if key == "published" and not value and doc is not None:
            value = doc.get("date")
        if key in ("published", "written") and value:
            value = iso_date(value)
        if value:
            fields[key] = value
    return fields


def page_fields(html_text: str) -> dict[str, str]:
    """What a page's meta tags and information box say of it (title, published, publisher,
    index_no, doc_no, written), without extracting its article: what the crawler records of an
    item page whose report may be only in its attachments. ``html_text``: the page decoded
    (:func:`decode_html`).

    >>> page_fields('<meta name="ArticleTitle" content="某镇绩效自评报告"><table><tr><td>发布日期：'
    ...             '2024-04-24</td><td>发布机构：某镇人民政府</td></tr></table>')
    {'title': '某镇绩效自评报告', 'published': '2024-04-24', 'publisher': '某镇人民政府'}
    """
    import trafilatura

    tree = trafilatura.load_html(html_text)
    if tree is None:
        return {}
    box, _ = _box_fields(_text_nodes(tree))
    return _page_fields(box, _meta_fields(tree))


# An article has a table, or prose: enough characters outside links and a sentence stop.
# (On a listing page trafilatura falls back to the whole body: links, dates and pager.)
MIN_ARTICLE_CHARS = 30
_SENTENCE_END = re.compile(r"[。；！？]")


def _is_article(builder: TextBuilder, link_texts: set[str]) -> bool:
    if builder.tables:
        return True
    text = builder.text
    prose = "".join(text[b.start:b.end] for b in builder.blocks if b.where != "title")
    folded = _fold(prose)
    for link in sorted((t for t in link_texts if len(t) >= 2), key=len, reverse=True):
        folded = folded.replace(link, "")
    cjk = sum(1 for ch in folded if "\u4e00" <= ch <= "\u9fff")
    return cjk >= MIN_ARTICLE_CHARS and bool(_SENTENCE_END.search(folded))


# A page title is often the article's title and the site's name (某局…报告_某县人民政府, …|…); the
# article's first line without that suffix is the title all the same. A line this short could be
# any word the title begins with.
MIN_TITLE_CHARS = 8
_SITE_SUFFIX = regex.compile(r"[ \u3000]*[_|｜\-—–][^\n]{1,40}")


def _article(main: Any, builder: TextBuilder, title: str) -> None:
    """Lay out trafilatura's ``<main>`` into blocks, the title first if the article lacks it."""
    units: list[tuple[str, Any]] = []  # ("line", (text, is_head)) or ("table", element)

    def walk(element: Any) -> None:
        for child in element:
            if child.tag == "table":
                units.append(("table", child))
            elif child.tag in ("list", "div", "quote"):
                if child.text and child.text.strip():
                    units.append(("line", (child.text, False)))
                walk(child)
            else:  # p, head, item, code …
                for line in _lines(child):
                    units.append(("line", (line, child.tag == "head")))
            if child.tail and child.tail.strip():
                units.append(("line", (child.tail, False)))

    walk(main)
    first_lines = [_clean_line(payload[0]) for kind, payload in units if kind == "line"][:3]
    opening = _fold("".join(first_lines))
    if title and _fold(title) not in opening and not any(
            _SITE_SUFFIX.fullmatch(title[len(line):]) for line in first_lines
            if len(line) >= MIN_TITLE_CHARS and title.startswith(line)):
        builder.add_paragraph(title, where="title", kind="heading")

    paragraph = table_no = 0
    for kind, payload in units:
        if kind == "table":
            grid = _grid(payload)
            if not grid:
                continue
            table_no += 1
            row_where = [f"table={table_no},row={r + 1}" for r in range(len(grid))]
            builder.add_table(grid, where=row_where, caption=builder.caption_above())
            continue
        text, is_head = payload
        line = _clean_line(text)
        if not line or _FURNITURE_LINE.match(line):
            continue
        paragraph += 1
        level = heading_level(line)
        builder.add_paragraph(line, where=f"paragraph={paragraph}",
                              kind="heading" if level or is_head else "paragraph", level=level)


def _clean_line(text: str) -> str:
    # leading full-width spaces are the first-line indent (　　一、…), not content
    return re.sub(r"[ \t\u00a0]+", " ", text).strip(" \u3000\u00a0\t\r\n")
