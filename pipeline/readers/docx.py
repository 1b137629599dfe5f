"""Reading Word ``.docx`` reports into a :class:`~pipeline.readers.ReadResult`.

The package is read with the standard library (``zipfile`` + ``xml.etree``) rather than
python-docx, because what matters most here is exactly what python-docx does not do: resolving
**list numbering**. Government offices number their headings with Word's automatic numbering
(``一、`` and ``（一）`` are ``chineseCounting`` list levels); the marker is not in the paragraph
text but computed from ``numbering.xml``. A reader that ignores numbering turns ``二、主要成效`` into
``主要成效`` (or a converter turns it into ``2、``), and the section finder loses the outline.

What the reader produces:

* ``text``: body paragraphs and tables in document order (the body XML is walked, so a table sits
  where it sits between paragraphs), blocks joined by ``'\\n'``. Auto-numbered paragraphs get their
  real marker prepended (``二、``, ``（二）``, ``3.``); a tab or space that Word puts after the number
  becomes a space only between Latin words (``一、基本情况``, not ``一、 基本情况``), as in the PDF
  reader. Tabs inside a paragraph become a space, because tabs separate table cells in ``text``.
* tables: rendered one row per line, cells joined by ``'\\t'``; each :class:`Table` is the real cell
  grid. **Merged cells**: the value stays in the top-left cell of the merged range and every other
  cell of the range is ``''`` (horizontal ``gridSpan`` and vertical ``vMerge`` alike). This is the
  convention of the xlsx and pdf readers too. Cells are cleaned with
  :func:`~pipeline.readers.xlsx.clean_cell` (wrapped lines joined the Chinese way). A nested table
  is flattened into its cell's text.
* blocks: ``heading`` (level from the paragraph style ``Heading 1/2`` · ``标题 1/2`` or its outline
  level, else from the numbering marker's shape in the official hierarchy of GB/T 9704: ``一、`` is
  level 1, ``（一）`` level 2), ``paragraph``, and one ``table`` block per table row.
  ``Block.where`` is ``paragraph=N`` (N counts the body's paragraphs from 1, empty ones included, so
  it is the paragraph's position in the file) or ``table=N,row=R`` (both from 1).
* metadata: the core and app properties (``title``, ``author``, ``created``, ``application`` …),
  ``format``, ``paragraphs``, ``tables``, and counts of what was deliberately not read:
  ``text_boxes_skipped`` (text boxes and shapes: their anchor position says nothing about reading
  order, and Word stores each one twice, as DrawingML and as a VML fallback),
  ``embedded_objects_skipped`` (OLE objects such as embedded Excel sheets),
  ``pictures_skipped`` and ``toc_paragraphs_skipped`` (a table of contents repeats every heading
  with a page number). Headers, footers, footnotes and comments are not read.

A damaged file, a ``.doc`` or an encrypted file saved under a ``.docx`` name, a zip bomb, and a
document without any text (pictures of scanned pages pasted into Word) raise
:class:`~pipeline.readers.ReaderError` (see :func:`open_zip_safely`).
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET


from pipeline.readers import ReaderError, ReadResult, file_head
from pipeline.readers.text import TextBuilder, clean_cell, marker_level, needs_space

# Zip-bomb limits. Real reports are a few MB; XML compresses 5-20x, images not at all.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_MEMBERS = 10_000
# A member must be at least this big before its own ratio is judged: a tiny part can have any
# ratio without harm, and a bomb needs size.
RATIO_MIN_MEMBER_BYTES = 1024 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_W_TRANSITIONAL = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_REL_TYPES = ("officeDocument", "styles", "numbering", "core-properties", "extended-properties")

# Style names that make a paragraph a heading: Word's built-in "heading 1" (any case, also the
# styleId "Heading1"), and the Chinese names WPS and Chinese Word write.
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*\d$", re.IGNORECASE)



# ---------------------------------------------------------------------------------------------
# The package: safe opening and reading
# ---------------------------------------------------------------------------------------------

def open_zip_safely(path: str | Path, kind: str = "Word document (.docx)") -> zipfile.ZipFile:
    """Open an OOXML package after checking it is a zip and not a zip bomb.

    Refused with :class:`ReaderError`: a file that is not a zip (with a hint when it is an OLE2
    file: a ``.doc`` or a password-protected document), a damaged zip, more than
    ``MAX_MEMBERS`` members, more than ``MAX_UNCOMPRESSED_BYTES`` uncompressed, or a compression
    ratio above ``MAX_COMPRESSION_RATIO`` (of the whole archive or of one member, once it unpacks
    to 1 MB or more: a small part can have any ratio without harm). The sizes checked are the
    ones the archive declares; :func:`read_member` refuses a member that inflates past its
    declared size, so a lying header does not get through either.

    >>> with open_zip_safely("tests/fixtures/rendered/000_d3cc648647006a27.docx") as archive:
    ...     "word/document.xml" in archive.namelist()
    True
    """
    path = Path(path)
    magic = file_head(path)
    if magic.startswith(_OLE2_MAGIC):
        raise ReaderError(f"{path.name} is not a {kind}: it is an OLE2 file, i.e. a Word 97-2003 "
                          f".doc (or .wps/.xls) under the wrong name, or a password-protected "
                          f"document. Convert it with convert_with_libreoffice(), or remove the "
                          f"password and save it again")
    if not magic:
        raise ReaderError(f"{path.name} is empty (0 bytes), not a {kind}")
    if not (magic.startswith(_ZIP_MAGIC) or magic.startswith(_EMPTY_ZIP_MAGIC)):
        raise ReaderError(f"{path.name} is not a {kind}: it is not a zip archive, as every "
                          f"OOXML file is (damaged, truncated, or another format under that name)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise ReaderError(f"{path.name} is a damaged {kind}: its zip structure cannot be read "
                          f"({exc})") from exc
    try:
        _check_bomb(path.name, archive.infolist())
    except ReaderError:
        archive.close()
        raise
    return archive


def _check_bomb(name: str, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise ReaderError(f"{name} is refused: it holds {len(members)} files (a report has a few "
                          f"dozen; more than {MAX_MEMBERS} is a zip bomb or not a document)",
                          limit="entries")
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ReaderError(f"{name} is refused: it would unpack to {total / 2**20:.0f} MB, over the "
                          f"{MAX_UNCOMPRESSED_BYTES // 2**20} MB limit (a zip bomb, or a document "
                          f"made of huge images)", limit="unpacked")
    if total > RATIO_MIN_MEMBER_BYTES and total > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise ReaderError(f"{name} is refused as a zip bomb: {packed} compressed bytes would "
                          f"unpack to {total} (ratio {total / max(packed, 1):.0f}, limit "
                          f"{MAX_COMPRESSION_RATIO})", limit="unpacked")
    for m in members:
        if m.file_size >= RATIO_MIN_MEMBER_BYTES and \
                m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
            raise ReaderError(f"{name} is refused as a zip bomb: its member {m.filename} would "
                              f"unpack from {m.compress_size} to {m.file_size} bytes (ratio "
                              f"{m.file_size / max(m.compress_size, 1):.0f}, limit "
                              f"{MAX_COMPRESSION_RATIO})", limit="unpacked")


def read_member(archive: zipfile.ZipFile, member: str, source: str) -> bytes:
    """The bytes of one package member, never more than it declares (see :func:`open_zip_safely`).

    Raises :class:`ReaderError` when the member is missing, encrypted, damaged (CRC) or inflates
    past its declared size.
    """
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise ReaderError(f"{source} is a damaged document: the part {member} is missing") from None
    try:
        with archive.open(info) as handle:
            # one byte more than declared tells a lying header from an honest one
            data = handle.read(info.file_size + 1)
    except Exception as exc:
        # BadZipFile (bad CRC, bad header), zlib.error (corrupt deflate stream), EOFError
        # (truncated), NotImplementedError (unsupported compression), RuntimeError (encrypted)
        raise ReaderError(f"{source} is a damaged document: the part {member} cannot be "
                          f"unpacked ({type(exc).__name__}: {exc})") from exc
    if len(data) > info.file_size:
        raise ReaderError(f"{source} is refused as a zip bomb: the part {member} unpacks past "
                          f"the {info.file_size} bytes its header declares", limit="unpacked")
    return data


def _parse_xml(data: bytes, member: str, source: str) -> ET.Element:
    # OOXML parts never carry a DTD; refusing one rules out entity-expansion attacks without
    # depending on the expat version's own limits.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ReaderError(f"{source} is refused: its part {member} declares a DTD or entities, "
                          f"which Word never writes")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ReaderError(f"{source} is a damaged document: the part {member} is not well-formed "
                          f"XML ({exc})") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


class _Package:
    """The parts of a .docx that the reader uses, located through the relationships."""

    def __init__(self, archive: zipfile.ZipFile, source: str) -> None:
        self.archive = archive
        self.source = source
        self.names = set(archive.namelist())
        root_rels = self._rels("_rels/.rels", "")
        main = root_rels.get("officeDocument", "word/document.xml")
        if main not in self.names:
            raise ReaderError(f"{source} is not a Word document: it has no main document part "
                              f"({main}); is it an .xlsx or .pptx under a .docx name?")
        self.main = main
        self.core = root_rels.get("core-properties", "docProps/core.xml")
        self.app = root_rels.get("extended-properties", "docProps/app.xml")
        doc_rels = self._rels(posixpath.join(posixpath.dirname(main), "_rels",
                                             posixpath.basename(main) + ".rels"),
                              posixpath.dirname(main))
        self.styles = doc_rels.get("styles")
        self.numbering = doc_rels.get("numbering")

    def _rels(self, rels_part: str, base: str) -> dict[str, str]:
        """Relationship type suffix (``styles``, ``numbering`` …) → part name."""
        if rels_part not in self.names:
            return {}
        found: dict[str, str] = {}
        for rel in self.xml(rels_part):
            kind = rel.get("Type", "").rsplit("/", 1)[-1]
            target = rel.get("Target", "")
            if kind not in _REL_TYPES or rel.get("TargetMode") == "External" or not target:
                continue
            part = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join(base, target))
            found.setdefault(kind, part)
        return found

    def xml(self, part: str) -> ET.Element:
        return _parse_xml(read_member(self.archive, part, self.source), part, self.source)

    def optional_xml(self, part: str | None) -> ET.Element | None:
        return self.xml(part) if part and part in self.names else None


# ---------------------------------------------------------------------------------------------
# Styles and list numbering
# ---------------------------------------------------------------------------------------------

@dataclass
class _Style:
    name: str
    based_on: str | None = None
    num_id: str | None = None
    ilvl: int | None = None
    outline: int | None = None


@dataclass
class _Level:
    """One level of a list definition (``w:lvl``)."""

    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    restart: int | None = None  # w:lvlRestart: 0 = never restart, N = restart after level N
    legal: bool = False  # w:isLgl: show every referenced level as a decimal number
    suffix: str = "tab"


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class _Ns:
    """Qualified names in the document's WordprocessingML namespace (transitional or strict)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    @functools.lru_cache(maxsize=None)  # noqa: B019 - one instance per namespace, few names
    def __call__(self, name: str) -> str:
        return f"{{{self.uri}}}{name}"

    def val(self, element: ET.Element | None, child: str | None = None,
            attr: str = "val") -> str | None:
        """``w:val`` of ``element`` (or of its child ``w:<child>``), ``None`` when absent."""
        if element is not None and child is not None:
            element = element.find(self(child))
        return element.get(self(attr)) if element is not None else None

    def on(self, element: ET.Element | None, child: str) -> bool:
        """Whether a toggle property (``<w:vanish/>``, ``<w:vanish w:val="0"/>``) is on."""
        found = element.find(self(child)) if element is not None else None
        return found is not None and found.get(self("val"), "true") not in ("0", "false", "off")


def _read_styles(root: ET.Element | None, w: _Ns) -> tuple[dict[str, _Style], str | None]:
    styles: dict[str, _Style] = {}
    default = None
    if root is None:
        return styles, None
    for el in root.iter(w("style")):
        if el.get(w("type")) not in ("paragraph", "numbering"):
            continue
        style_id = el.get(w("styleId"), "")
        ppr = el.find(w("pPr"))
        numpr = ppr.find(w("numPr")) if ppr is not None else None
        styles[style_id] = _Style(
            name=w.val(el, "name") or style_id,
            based_on=w.val(el, "basedOn"),
            num_id=w.val(numpr, "numId"),
            ilvl=_int(w.val(numpr, "ilvl")),
            outline=_int(w.val(ppr, "outlineLvl")),
        )
        if el.get(w("type")) == "paragraph" and el.get(w("default")) in ("1", "true", "on"):
            default = style_id
    return styles, default


class _StyleSheet:
    """Paragraph style look-ups through the ``basedOn`` chain."""

    def __init__(self, styles: dict[str, _Style], default: str | None) -> None:
        self.styles = styles
        self.default = default

    def chain(self, style_id: str | None) -> list[_Style]:
        chain, seen = [], set()
        current = style_id if style_id in self.styles else self.default
        while current and current in self.styles and current not in seen:
            seen.add(current)
            chain.append(self.styles[current])
            current = self.styles[current].based_on
        return chain

    def name(self, style_id: str | None) -> str:
        chain = self.chain(style_id)
        return chain[0].name if chain else ""

    def heading_level(self, style_id: str | None) -> int | None:
        """Level of a heading style: by its name, else the outline level along its chain."""
        chain = self.chain(style_id)
        if not chain:
            return None
        m = _HEADING_STYLE.match(chain[0].name.strip()) or \
            _HEADING_STYLE.match((style_id or "").strip())
        if m:
            return int(m.group(1))
        for style in chain:
            if style.outline is not None:
                return style.outline + 1 if style.outline < 9 else None
        return None

    def numbering(self, style_id: str | None) -> tuple[str | None, int | None]:
        """(numId, ilvl) a paragraph inherits from its style."""
        num_id, ilvl = None, None
        for style in self.chain(style_id):
            if num_id is None and style.num_id is not None:
                num_id = style.num_id
            if ilvl is None and style.ilvl is not None:
                ilvl = style.ilvl
        return num_id, ilvl


def _read_level(el: ET.Element, w: _Ns) -> _Level:
    return _Level(
        start=_int(w.val(el, "start"), 1) or 0,
        fmt=w.val(el, "numFmt") or "decimal",
        text=w.val(el, "lvlText") or "",
        restart=_int(w.val(el, "lvlRestart")),
        legal=w.on(el, "isLgl"),
        suffix=w.val(el, "suff") or "tab",
    )


@dataclass
class _List:
    """A list instance (``w:num``): its definition, overrides, and the counter key it uses."""

    abstract_id: str
    levels: dict[int, _Level]
    start_overrides: dict[int, int] = field(default_factory=dict)


class Numbering:
    """The list definitions of ``numbering.xml`` and the running counters of a document.

    Word numbers every list instance (``w:num``) that points at the same definition
    (``w:abstractNum``) in one sequence, unless the instance restarts it with a ``startOverride``;
    a level restarts after a higher level is used (``w:lvlRestart`` can say otherwise).

    >>> n = Numbering.from_levels({0: ("chineseCounting", "%1、"), 1: ("chineseCounting", "（%2）")})
    >>> [n.marker("1", i)[0] for i in (0, 1, 1, 0, 1)]
    ['一、', '（一）', '（二）', '二、', '（一）']
    """

    def __init__(self, lists: dict[str, _List]) -> None:
        self.lists = lists
        self.counters: dict[str, dict[int, int]] = {}

    @classmethod
    def from_levels(cls, levels: dict[int, tuple[str, str]]) -> Numbering:
        """One list (numId ``1``) from ``{ilvl: (numFmt, lvlText)}``, for tests and examples."""
        return cls({"1": _List("0", {i: _Level(fmt=f, text=t) for i, (f, t) in levels.items()})})

    @classmethod
    def parse(cls, root: ET.Element | None, w: _Ns, styles: _StyleSheet) -> Numbering:
        if root is None:
            return cls({})
        abstracts: dict[str, dict[int, _Level]] = {}
        style_links: dict[str, str] = {}
        for el in root.findall(w("abstractNum")):
            aid = el.get(w("abstractNumId"), "")
            abstracts[aid] = {_int(lvl.get(w("ilvl")), 0) or 0: _read_level(lvl, w)
                              for lvl in el.findall(w("lvl"))}
            link = w.val(el, "numStyleLink")
            if link:
                style_links[aid] = link
        nums: dict[str, str] = {}
        overrides: dict[str, ET.Element] = {}
        for el in root.findall(w("num")):
            nid = el.get(w("numId"), "")
            nums[nid] = w.val(el, "abstractNumId") or ""
            overrides[nid] = el

        def definition(aid: str, depth: int = 0) -> tuple[str, dict[int, _Level]]:
            # numStyleLink: the definition is the one of the list that the numbering style uses
            if aid in style_links and depth < 5:
                linked_num, _ = styles.numbering(style_links[aid])
                if linked_num in nums and nums[linked_num] != aid:
                    return definition(nums[linked_num], depth + 1)
            return aid, abstracts.get(aid, {})

        lists: dict[str, _List] = {}
        for nid, aid in nums.items():
            key, levels = definition(aid)
            levels = dict(levels)
            starts: dict[int, int] = {}
            for ov in overrides[nid].findall(w("lvlOverride")):
                ilvl = _int(ov.get(w("ilvl")), 0) or 0
                lvl = ov.find(w("lvl"))
                if lvl is not None:
                    levels[ilvl] = _read_level(lvl, w)
                start = _int(w.val(ov, "startOverride"))
                if start is not None:
                    starts[ilvl] = start
            # an instance that restarts numbering counts on its own; the others share the
            # definition's counters (that is how "continue numbering" works in Word)
            lists[nid] = _List(abstract_id=f"num:{nid}" if starts else f"abs:{key}",
                               levels=levels, start_overrides=starts)
        return cls(lists)

    def marker(self, num_id: str | None, ilvl: int | None) -> tuple[str, str] | None:
        """Advance the counters for one numbered paragraph; return ``(marker, suffix)`` or
        ``None`` when the paragraph shows no number (numId 0, unknown list, a bullet)."""
        if not num_id or num_id == "0" or num_id not in self.lists:
            return None
        lst = self.lists[num_id]
        ilvl = min(max(ilvl or 0, 0), 8)
        level = lst.levels.get(ilvl)
        if level is None:
            return None
        counters = self.counters.setdefault(lst.abstract_id, {})
        if ilvl in counters:
            value = counters[ilvl] + 1
        else:
            value = lst.start_overrides.get(ilvl, level.start)
        counters[ilvl] = value
        for deeper in [d for d in counters if d > ilvl]:
            restart = lst.levels.get(deeper, _Level()).restart
            # default: restart after any higher level; lvlRestart N: only after levels 1..N
            if restart is None or (restart > 0 and ilvl < restart):
                del counters[deeper]
        if level.fmt == "bullet":
            return None  # a bullet glyph (often a Wingdings private-use character) is not content

        def number(match: re.Match[str]) -> str:
            ref = int(match.group(1)) - 1
            ref_level = lst.levels.get(ref, _Level())
            ref_value = counters.get(ref, lst.start_overrides.get(ref, ref_level.start))
            fmt = "decimal" if level.legal and ref_level.fmt != "none" else ref_level.fmt
            return format_number(ref_value, fmt)

        text = re.sub(r"%([1-9])", number, level.text)
        return (text, level.suffix) if text.strip() else None


_CN_DIGITS = "〇一二三四五六七八九"
_CN_LEGAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _chinese(n: int, digits: str = _CN_DIGITS, units: str = "十百千") -> str:
    """Chinese counting as Word writes it: 10 → 十, 11 → 十一, 20 → 二十, 105 → 一百零五
    (an inner zero is 零; 〇 is only the number 0 itself)."""
    if n < 10:
        return digits[n]
    if n >= 10_000:
        return str(n)
    out = ""
    zero = False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0])):
        d = n // power % 10
        if d:
            if zero:
                out += "零"
            out += ("" if (n < 20 and power == 10 and digits is _CN_DIGITS) else digits[d]) + unit
            zero = False
        elif out:
            zero = True
    if n % 10:
        out += ("零" if zero else "") + digits[n % 10]
    return out


def _letters(n: int) -> str:
    # Word repeats the letter: 27 → AA, 28 → BB
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)


def _roman(n: int) -> str:
    if not 0 < n < 4000:
        return str(n)
    out = ""
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"),
                           (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"),
                           (4, "IV"), (1, "I")):
        while n >= value:
            out += numeral
            n -= value
    return out


def format_number(value: int, fmt: str) -> str:
    """A list counter in a ``w:numFmt`` format; unknown formats fall back to decimal.

    >>> [format_number(n, "chineseCounting") for n in (1, 10, 11, 20, 23, 100, 105)]
    ['一', '十', '十一', '二十', '二十三', '一百', '一百零五']
    >>> format_number(3, "decimalEnclosedCircle"), format_number(12, "chineseLegalSimplified")
    ('③', '壹拾贰')
    """
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting",
               "taiwaneseCounting", "taiwaneseCountingThousand", "koreanCounting"):
        return _chinese(value) if value >= 0 else str(value)
    if fmt in ("chineseLegalSimplified", "japaneseLegal", "taiwaneseDigital"):
        return _chinese(value, _CN_LEGAL_DIGITS, "拾佰仟") if value >= 0 else str(value)
    if fmt == "ideographDigital" and value >= 0:  # digit by digit: 2024 → 二〇二四
        return "".join(_CN_DIGITS[int(d)] for d in str(value))
    if fmt == "ideographTraditional" and 1 <= value <= 10:
        return "甲乙丙丁戊己庚辛壬癸"[value - 1]
    if fmt == "ideographZodiac" and 1 <= value <= 12:
        return "子丑寅卯辰巳午未申酉戌亥"[value - 1]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= value <= 20:
        return chr(0x2460 + value - 1)
    if fmt == "decimalEnclosedParen" and 1 <= value <= 20:
        return chr(0x2474 + value - 1)
    if fmt == "decimalEnclosedFullstop" and 1 <= value <= 20:
        return chr(0x2488 + value - 1)
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in str(value))
    if fmt == "decimalZero":
        return f"{value:02d}"
    if fmt == "upperLetter":
        return _letters(value)
    if fmt == "lowerLetter":
        return _letters(value).lower()
    if fmt == "upperRoman":
        return _roman(value)
    if fmt == "lowerRoman":
        return _roman(value).lower()
    if fmt == "none":
        return ""
    return str(value)


# ---------------------------------------------------------------------------------------------
# The body
# ---------------------------------------------------------------------------------------------

@dataclass
class _Skipped:
    text_boxes: int = 0
    objects: int = 0
    pictures: int = 0
    toc: int = 0


class _Body:
    """Walks ``w:body`` in order and builds the text, blocks and tables."""

    # elements inside a paragraph whose runs are shown text (tracked insertions, links, content
    # controls, simple fields, smart tags); w:del and w:moveFrom are deleted text and not read
    _INLINE_CONTAINERS = ("hyperlink", "ins", "smartTag", "customXml", "sdtContent", "fldSimple",
                          "moveTo", "dir", "bdo")

    def __init__(self, w: _Ns, styles: _StyleSheet, numbering: Numbering) -> None:
        self.w = w
        self.styles = styles
        self.numbering = numbering
        self.out = TextBuilder()  # text, blocks and tables: every offset right by construction
        self.paragraph_count = 0
        self.skipped = _Skipped()

    # -- walking ------------------------------------------------------------------------------

    def walk(self, container: ET.Element) -> None:
        w = self.w
        for child in container:
            tag = child.tag
            if tag == w("p"):
                self.paragraph_count += 1
                self._paragraph(child)
            elif tag == w("tbl"):
                self._table(child)
            elif tag == w("sdt"):
                gallery = child.find(f"{w('sdtPr')}/{w('docPartObj')}/{w('docPartGallery')}")
                if gallery is not None and "contents" in (gallery.get(w("val")) or "").lower():
                    skipped = sum(1 for _ in child.iter(w("p")))
                    self.skipped.toc += skipped
                    self.paragraph_count += skipped  # N in paragraph=N stays the file's position
                    continue
                content = child.find(w("sdtContent"))
                if content is not None:
                    self.walk(content)
            elif tag == w("customXml"):
                self.walk(child)
            # sectPr, bookmarks, w:altChunk (content in another part) and mc:AlternateContent at
            # body level carry no body text of their own

    def _paragraph(self, p: ET.Element) -> None:
        w = self.w
        ppr = p.find(w("pPr"))
        style_id = w.val(ppr, "pStyle")
        if _TOC_STYLE.match(self.styles.name(style_id).strip()):
            # a table of contents repeats every heading with a page number
            self.skipped.toc += 1
            return
        text = self.paragraph_text(p).strip()
        numbered = self._marker(ppr, style_id)
        marker = None
        if numbered is not None:
            marker, suffix = numbered
            gap = " " if suffix in ("tab", "space") and needs_space(marker, text) else ""
            text = marker + gap + text if text else marker
        if not text.strip():
            return
        level = self.styles.heading_level(style_id)
        outline = _int(w.val(ppr, "outlineLvl"))
        if outline is not None:
            level = outline + 1 if outline < 9 else None
        if level is None and marker is not None:
            level = marker_level(marker)
        self.out.add_paragraph(text, where=f"paragraph={self.paragraph_count}",
                               kind="heading" if level else "paragraph", level=level)

    def _marker(self, ppr: ET.Element | None, style_id: str | None) -> tuple[str, str] | None:
        w = self.w
        numpr = ppr.find(w("numPr")) if ppr is not None else None
        style_num, style_ilvl = self.styles.numbering(style_id)
        num_id = w.val(numpr, "numId")
        ilvl = _int(w.val(numpr, "ilvl"))
        if num_id is None:
            num_id = style_num
        if ilvl is None:
            ilvl = style_ilvl
        if num_id is None:
            return None
        return self.numbering.marker(num_id, ilvl)

    def paragraph_text(self, p: ET.Element) -> str:
        """The shown text of a paragraph: runs in order, deleted and hidden text left out,
        drawings, text boxes and embedded objects skipped (and counted)."""
        out: list[str] = []
        self._inline(p, out)
        # a literal tab would read as a cell separator in the rendered text
        return "".join(out).replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")

    def _inline(self, element: ET.Element, out: list[str]) -> None:
        w = self.w
        for child in element:
            tag = child.tag
            if tag == w("r"):
                self._run(child, out)
            elif _namespace(tag) == w.uri and _local(tag) in self._INLINE_CONTAINERS:
                self._inline(child, out)
            elif tag == w("sdt"):
                content = child.find(w("sdtContent"))
                if content is not None:
                    self._inline(content, out)
            elif _local(tag) == "AlternateContent":
                self._count_skipped(child)

    def _run(self, r: ET.Element, out: list[str]) -> None:
        w = self.w
        if self.w.on(r.find(w("rPr")), "vanish"):
            return  # hidden text is neither shown nor printed
        for child in r:
            name = _local(child.tag) if _namespace(child.tag) == w.uri else ""
            if name == "t":
                out.append(child.text or "")
            elif name in ("tab", "ptab"):
                out.append(" ")  # tabs separate table cells in the rendered text
            elif name in ("br", "cr"):
                out.append("\n")
            elif name == "noBreakHyphen":
                out.append("-")
            elif name in ("drawing", "pict", "object") or _local(child.tag) == "AlternateContent":
                self._count_skipped(child)
            # instrText (field code), delText, fldChar, sym, footnoteReference … are not text

    def _count_skipped(self, element: ET.Element) -> None:
        w = self.w
        # Word writes a text box twice (DrawingML choice + VML fallback): count each box once
        choice = element.find(f"{{{_MC}}}Choice")
        scope = choice if choice is not None else element
        self.skipped.text_boxes += sum(1 for _ in scope.iter(w("txbxContent")))
        self.skipped.objects += sum(1 for _ in scope.iter(w("object")))
        self.skipped.pictures += sum(1 for el in scope.iter()
                                     if _local(el.tag) in ("blip", "imagedata"))

    # -- tables --------------------------------------------------------------------------------

    def _cell_text(self, tc: ET.Element) -> str:
        """A cell's paragraphs (with their list markers) joined by newlines; a nested table
        becomes one line per row with its cells separated by spaces."""
        w = self.w
        lines: list[str] = []
        for child in tc:
            if child.tag == w("p"):
                ppr = child.find(w("pPr"))
                text = self.paragraph_text(child).strip()
                numbered = self._marker(ppr, w.val(ppr, "pStyle"))
                if numbered is not None:
                    gap = " " if needs_space(numbered[0], text) else ""
                    text = numbered[0] + gap + text
                lines.append(text)
            elif child.tag == w("tbl"):
                for row in self._grid(child):
                    lines.append(" ".join(cell for cell in row if cell))
            elif child.tag == w("sdt"):
                content = child.find(w("sdtContent"))
                if content is not None:
                    lines.append(self._cell_text(content))
        return "\n".join(lines)

    def _rows(self, tbl: ET.Element) -> list[ET.Element]:
        w = self.w
        rows: list[ET.Element] = []
        for child in tbl:
            if child.tag == w("tr"):
                rows.append(child)
            elif child.tag in (w("sdt"), w("customXml")):  # rows wrapped in a content control
                content = child.find(w("sdtContent")) if child.tag == w("sdt") else child
                if content is not None:
                    rows.extend(self._rows(content))
        return rows

    def _cells(self, tr: ET.Element) -> list[ET.Element]:
        w = self.w
        cells: list[ET.Element] = []
        for child in tr:
            if child.tag == w("tc"):
                cells.append(child)
            elif child.tag in (w("sdt"), w("customXml")):
                content = child.find(w("sdtContent")) if child.tag == w("sdt") else child
                if content is not None:
                    cells.extend(self._cells(content))
        return cells

    def _grid(self, tbl: ET.Element) -> list[list[str]]:
        """The table as a rectangular grid; merged-over cells are ``''``."""
        w = self.w
        grid_cols = len(tbl.findall(f"{w('tblGrid')}/{w('gridCol')}"))
        grid: list[list[str]] = []
        for tr in self._rows(tbl):
            trpr = tr.find(w("trPr"))
            row = [""] * (_int(w.val(trpr, "gridBefore"), 0) or 0)
            for tc in self._cells(tr):
                tcpr = tc.find(w("tcPr"))
                span = max(_int(w.val(tcpr, "gridSpan"), 1) or 1, 1)
                vmerge = tcpr.find(w("vMerge")) if tcpr is not None else None
                hmerge = w.val(tcpr, "hMerge")  # legacy horizontal merge (Word 97 tables)
                # text is read even for merged-over cells so their list numbers still count
                text = clean_cell(self._cell_text(tc))
                vcontinued = vmerge is not None and vmerge.get(w("val"), "continue") == "continue"
                continued = vcontinued or hmerge == "continue"
                row.append("" if continued else text)
                row.extend([""] * (span - 1))
            row.extend([""] * (_int(w.val(trpr, "gridAfter"), 0) or 0))
            grid.append(row)
        width = max([grid_cols] + [len(row) for row in grid])
        return [row + [""] * (width - len(row)) for row in grid]

    def _table(self, tbl: ET.Element) -> None:
        grid = self._grid(tbl)
        if not grid or not any(any(row) for row in grid):
            return
        number = len(self.out.tables) + 1
        own = self.w.val(tbl.find(self.w("tblPr")), "tblCaption")  # the table's own caption
        self.out.add_table(grid, where=[f"table={number},row={i + 1}" for i in range(len(grid))],
                           caption=own.strip() if own else self.out.caption_above())


# ---------------------------------------------------------------------------------------------
# Metadata and the entry point
# ---------------------------------------------------------------------------------------------

_CORE_KEYS = {"title": "title", "subject": "subject", "creator": "author", "keywords": "keywords",
              "description": "description", "lastModifiedBy": "last_modified_by",
              "created": "created", "modified": "modified", "category": "category"}
_APP_KEYS = {"Application": "application", "AppVersion": "app_version", "Company": "company",
             "Pages": "pages"}


def _properties(package: _Package) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for part, keys in ((package.core, _CORE_KEYS), (package.app, _APP_KEYS)):
        try:
            root = package.optional_xml(part)
        except ReaderError:
            continue  # damaged properties do not make the document unreadable
        if root is None:
            continue
        for el in root:
            key = keys.get(_local(el.tag))
            if key and el.text and el.text.strip():
                metadata[key] = el.text.strip()
    return metadata


def read_docx(path: str | Path) -> ReadResult:
    """Read a ``.docx`` (or ``.docm``/``.dotx``) report: text with the real list markers, blocks
    with heading levels, real table grids and the file's properties (see the module docstring).

    Raises :class:`ReaderError` for a file that is not a .docx (with a hint for a .doc or an
    encrypted file), a damaged one, and zip bombs.

    >>> r = read_docx("tests/fixtures/rendered/000_d3cc648647006a27.docx")
    >>> [r.text[b.start:b.end] for b in r.blocks if b.level == 1][:2]
    ['一、基本情况', '二、主要成效']
    """
    path = Path(path)
    with open_zip_safely(path) as archive:
        package = _Package(archive, path.name)
        document = package.xml(package.main)
        uri = _namespace(document.tag)
        if _local(document.tag) != "document" or not uri:
            raise ReaderError(f"{path.name} is not a Word document (its main part is "
                              f"<{_local(document.tag)}>)")
        w = _Ns(uri or _W_TRANSITIONAL)
        styles = _StyleSheet(*_read_styles(package.optional_xml(package.styles), w))
        numbering = Numbering.parse(package.optional_xml(package.numbering), w, styles)
        metadata = _properties(package)
    body_el = document.find(w("body"))
    if body_el is None:
        raise ReaderError(f"{path.name} is a damaged Word document: it has no body")
    body = _Body(w, styles, numbering)
    body.walk(body_el)
    metadata.update(format="docx", paragraphs=str(body.paragraph_count),
                    tables=str(len(body.out.tables)))
    for key, count in (("text_boxes_skipped", body.skipped.text_boxes),
                       ("embedded_objects_skipped", body.skipped.objects),
                       ("pictures_skipped", body.skipped.pictures),
                       ("toc_paragraphs_skipped", body.skipped.toc)):
        if count:
            metadata[key] = str(count)
    if not body.out.text.strip():
        pictures = (f"; it holds {body.skipped.pictures} picture(s), perhaps scanned pages, and "
                    f"pictures in Word files are not read (OCR a PDF export instead)"
                    if body.skipped.pictures else "")
        raise ReaderError(f"{path.name} has no text to read{pictures}")
    return body.out.result(metadata)
