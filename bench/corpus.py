#!/usr/bin/env python3
"""A corpus of distinct report files for the benchmarks, made from the bundled reports.

    .venv/bin/python bench/corpus.py --out /tmp/corpus --reports 2000 --formats txt
    .venv/bin/python bench/corpus.py --out /tmp/mixed --reports 300 --seed 7   # every format

The sources are the seed reports (``data/raw/*.txt``) and their renderings
(``tests/fixtures/rendered/``: ``.docx .doc .pdf .html .xlsx``, and the scanned PDF under
``rendered/scan``, format name ``scan``). Copy ``n`` of a source gets one line of its own,
``jixiao bench copy s<seed> n<n>`` (ASCII, so any encoding and the PDF base fonts can carry it;
no amount, percentage or heading in it), put where a reader of that format finds it:

- ``txt``: appended as a last line, in the file's own encoding (UTF-8, GB18030, UTF-16 by BOM);
- ``docx``: a paragraph before the body's closing section properties in ``word/document.xml``;
- ``xlsx``: a row below the last row of the first worksheet (inline string in column A);
- ``html``: a ``<p>`` after the article's last paragraph (the first ``</p>`` that closes a
  ``<div>``), else before ``</body>``;
- ``pdf`` / ``scan``: an incremental update (objects appended after ``%%EOF``, a new xref
  section whose trailer points back with ``/Prev``) that adds one last page with the line in
  Helvetica; the original pages, their bytes and their text are untouched;
- ``doc``: Word 97 is a compound file whose text sits in a piece table; editing it safely is not
  worth a benchmark, so a ``.doc`` copy differs **in bytes only** (the modified time of the
  compound file's root storage, a metadata field): its text, hence its ``report_id``, is the source's, and a dataset
  keeps one report per source and counts the other copies as duplicates (the file-hash cache
  still cannot skip them, so each copy is converted and read).

Every other copy has a text of its own: neither the content-hash cache nor ``report_id`` can
short-cut it. The same arguments give the same bytes (``--seed`` changes the order of the sources
in each round and the copy lines).
"""
from __future__ import annotations

import argparse
import io
import random
import re
import struct
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = ROOT / "data" / "raw"
RENDERED = ROOT / "tests" / "fixtures" / "rendered"
FORMATS = ("txt", "docx", "doc", "pdf", "scan", "html", "xlsx")


class CorpusError(ValueError):
    """A source cannot be varied, or the arguments are wrong."""


@dataclass(frozen=True)
class Source:
    """A bundled report file the corpus copies: its format name and path."""

    format: str
    path: Path

    @property
    def suffix(self) -> str:
        return ".pdf" if self.format == "scan" else f".{self.format}"


def sources(formats: tuple[str, ...] | list[str] = FORMATS) -> list[Source]:
    """The bundled files of the chosen formats, sorted by format (in ``formats`` order) and name.

    >>> [s.format for s in sources(["scan"])]
    ['scan']
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise CorpusError(f"unknown format(s) {', '.join(unknown)}: choose from {', '.join(FORMATS)}")
    found: list[Source] = []
    for fmt in formats:
        if fmt == "txt":
            paths = sorted(SEEDS_DIR.glob("*.txt"))
        elif fmt == "scan":
            paths = sorted((RENDERED / "scan").glob("*.pdf"))
        else:
            paths = sorted(RENDERED.glob(f"*.{fmt}"))
        if not paths:
            raise CorpusError(f"no bundled {fmt} report (looked in {SEEDS_DIR} and {RENDERED})")
        found.extend(Source(fmt, p) for p in paths)
    return found


def copy_line(seed: int, number: int) -> str:
    """The line that makes copy ``number`` distinct.

    >>> copy_line(0, 7)
    'jixiao bench copy s0 n7'
    """
    return f"jixiao bench copy s{seed} n{number}"


# ---------------------------------------------------------------------------------------------
# One function per format: (source bytes, line, copy number) -> bytes of a valid file
# ---------------------------------------------------------------------------------------------

def vary_txt(data: bytes, line: str, number: int) -> bytes:
    """Append ``line`` as a last line, in the file's encoding (UTF-16 by its BOM, else the ASCII
    line is the same bytes in UTF-8 and GB18030) and with its line ending."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        newline = "\r\n" if "\r\n".encode(codec) in data else "\n"
        tail = data.decode(codec)[-1:] if len(data) > 2 else ""
        lead = "" if tail in ("\n", "") else newline
        return data + (lead + line + newline).encode(codec)
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    lead = b"" if data.endswith(b"\n") or not data else newline
    return data + lead + line.encode("ascii") + newline


def _rezip(data: bytes, member: str, edit: Callable[[str], str]) -> bytes:
    """The zip ``data`` with ``member`` (UTF-8 XML) replaced by ``edit(member text)``; every other
    entry, the entry order, names, dates and compression are kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = src.namelist()
        if member not in names:
            raise CorpusError(f"no {member} in the file")
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == member:
                body = edit(body.decode("utf-8")).encode("utf-8")
            dst.writestr(info, body, compress_type=info.compress_type)
    return out.getvalue()


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vary_docx(data: bytes, line: str, number: int) -> bytes:
    """A paragraph holding ``line`` at the end of the body (before the body's ``<w:sectPr>``)."""
    paragraph = f"<w:p><w:r><w:t>{_xml_text(line)}</w:t></w:r></w:p>"

    def edit(xml: str) -> str:
        end = xml.rfind("</w:body>")
        if end < 0:
            raise CorpusError("word/document.xml has no </w:body>")
        sect = xml.rfind("<w:sectPr", 0, end)
        # the body's own sectPr is its last child; a sectPr inside a paragraph is a section break
        at = sect if sect >= 0 and "</w:p>" not in xml[sect:end] else end
        return xml[:at] + paragraph + xml[at:]

    return _rezip(data, "word/document.xml", edit)


def _first_sheet(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = sorted((n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                        key=lambda n: int(re.findall(r"\d+", n)[-1]))
    if not sheets:
        raise CorpusError("the workbook has no xl/worksheets/sheetN.xml")
    return sheets[0]


def vary_xlsx(data: bytes, line: str, number: int) -> bytes:
    """A row below the last row of the first worksheet, ``line`` in column A as an inline string
    (the ``<dimension>`` grows to include it)."""

    def edit(xml: str) -> str:
        rows = [int(r) for r in re.findall(r'<row\b[^>]*\br="(\d+)"', xml)]
        new = (max(rows) if rows else 0) + 1
        row = (f'<row r="{new}"><c r="A{new}" t="inlineStr"><is><t>{_xml_text(line)}</t></is>'
               f"</c></row>")
        if "</sheetData>" in xml:
            xml = xml.replace("</sheetData>", row + "</sheetData>", 1)
        elif "<sheetData/>" in xml:
            xml = xml.replace("<sheetData/>", f"<sheetData>{row}</sheetData>", 1)
        else:
            raise CorpusError("the first worksheet has no <sheetData>")
        return re.sub(r'(<dimension ref="[A-Z]+\d+:[A-Z]+)(\d+)"',
                      lambda m: f'{m.group(1)}{max(int(m.group(2)), new)}"', xml, count=1)

    return _rezip(data, _first_sheet(data), edit)


def vary_html(data: bytes, line: str, number: int) -> bytes:
    """A ``<p>`` with ``line`` after the article's last paragraph (the first ``</p>`` followed by
    ``</div>``), else before ``</body>``, else at the end; ASCII, so any declared charset reads it."""
    paragraph = f"\n<p>{_xml_text(line)}</p>".encode("ascii")
    m = re.search(rb"</p>\s*</div>", data, flags=re.I)
    if m:
        at = m.start() + len(b"</p>")
    else:
        body = data.lower().rfind(b"</body>")
        at = body if body >= 0 else len(data)
    return data[:at] + paragraph + data[at:]


# PDF ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Ref:
    """An indirect reference to an object this update adds (written as ``N 0 R``)."""

    objid: int


def _pdf_name(name: str) -> str:
    return "/" + "".join(c if 0x21 <= ord(c) <= 0x7e and c not in "()<>[]{}/%#" else f"#{ord(c):02X}"
                         for c in name)


def _pdf_value(value: Any) -> str:
    """A pdfminer object (as parsed) written back as PDF syntax."""
    from pdfminer.pdftypes import PDFObjRef, PDFStream
    from pdfminer.psparser import PSKeyword, PSLiteral

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, (bytes, bytearray)):
        return "<" + bytes(value).hex().upper() + ">"
    if isinstance(value, str):
        return "<" + value.encode("utf-8").hex().upper() + ">"
    if isinstance(value, PSLiteral):
        name = value.name.decode("latin-1") if isinstance(value.name, bytes) else str(value.name)
        return _pdf_name(name)
    if isinstance(value, PSKeyword):
        return value.name.decode("latin-1") if isinstance(value.name, bytes) else str(value.name)
    if isinstance(value, (PDFObjRef, _Ref)):
        return f"{value.objid} 0 R"  # pdfminer keeps no generation; LibreOffice and Pillow use 0
    if isinstance(value, list):
        return "[" + " ".join(_pdf_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "<<" + "".join(f"{_pdf_name(str(k))} {_pdf_value(v)}" for k, v in value.items()) + ">>"
    if isinstance(value, PDFStream):
        raise CorpusError("a stream cannot be written inline")
    raise CorpusError(f"cannot write a {type(value).__name__} back into a PDF")


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def vary_pdf(data: bytes, line: str, number: int) -> bytes:
    """An incremental update adding a last page (the size of the last page) with ``line`` in
    Helvetica, high in the body (outside the header and footer bands); the page tree's root gets
    the new page as its last kid. Only new bytes are appended: the original pages are unchanged.

    Needs a PDF with a classic xref table at its last ``startxref`` (what LibreOffice and Pillow
    write); a cross-reference stream raises :class:`CorpusError`.
    """
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    starts = re.findall(rb"startxref\s+(\d+)", data[-2048:])
    if not starts:
        raise CorpusError("no startxref at the end of the PDF")
    prev = int(starts[-1])
    if not data[prev:prev + 4] == b"xref":
        raise CorpusError("the PDF ends with a cross-reference stream, not an xref table")
    doc = PDFDocument(PDFParser(io.BytesIO(data)))
    trailer = doc.xrefs[0].get_trailer()
    pages_ref = doc.catalog["Pages"]
    pages = dict(resolve1(pages_ref))
    last = list(PDFPage.create_pages(doc))[-1]
    x0, y0, x1, y1 = (float(v) for v in last.mediabox)
    size = int(resolve1(trailer["Size"]))
    font, content, page = size, size + 1, size + 2
    stream = (f"BT /FJB 11 Tf {x0 + 0.15 * (x1 - x0):.1f} {y0 + 0.75 * (y1 - y0):.1f} Td "
              f"{_pdf_string(line)} Tj ET").encode("ascii")
    pages["Kids"] = list(resolve1(pages["Kids"])) + [_Ref(page)]
    pages["Count"] = int(resolve1(pages["Count"])) + 1
    objects = [
        (font, b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>"),
        (content, f"<</Length {len(stream)}>>\nstream\n".encode() + stream + b"\nendstream"),
        (page, (f"<</Type/Page/Parent {_pdf_value(pages_ref)}/MediaBox [{x0:g} {y0:g} {x1:g} {y1:g}]"
                f"/Resources <</Font <</FJB {font} 0 R>>/ProcSet [/PDF /Text]>>"
                f"/Contents {content} 0 R>>").encode()),
        (pages_ref.objid, _pdf_value(pages).encode()),
    ]
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, int] = {}
    for num, body in objects:
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n"
    for num in sorted(offsets):
        out += f"{num} 1\n{offsets[num]:010d} 00000 n \n".encode()
    new_trailer = {"Size": size + 3, "Root": trailer["Root"], "Prev": prev}
    for key in ("Info", "ID"):
        if key in trailer:
            new_trailer[key] = trailer[key]
    out += f"trailer\n{_pdf_value(new_trailer)}\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


# .doc ------------------------------------------------------------------------------------------

_CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# 2024-01-01T00:00:00Z as a Windows FILETIME (100 ns ticks since 1601-01-01)
_FILETIME_2024 = 133485408000000000


def _root_entry_offset(data: bytes) -> int:
    """File offset of the root storage's directory entry in a compound file (OLE2, [MS-CFB]):
    the first entry of the first directory sector."""
    if not data.startswith(_CFB_MAGIC):
        raise CorpusError("not a compound file (OLE2) .doc")
    sector = 1 << struct.unpack_from("<H", data, 30)[0]
    at = (struct.unpack_from("<I", data, 48)[0] + 1) * sector
    entry = data[at:at + 128]
    if len(entry) < 128 or entry[66] != 5 or entry[:20].decode("utf-16-le", "replace") != "Root Entry":
        raise CorpusError("the compound file's first directory entry is not its Root Entry")
    return at


def vary_doc(data: bytes, line: str, number: int) -> bytes:
    """The same Word 97 document with its root storage's modified time (a FILETIME the
    compound-file format allows on the root, which readers do not interpret) set to
    2024-01-01 plus ``number`` seconds: other bytes, the same text (see the module docstring)."""
    at = _root_entry_offset(data) + 108  # Name 64, length 2, type, colour, 3 ids, CLSID, state, created
    out = bytearray(data)
    struct.pack_into("<Q", out, at, _FILETIME_2024 + number * 10_000_000)
    return bytes(out)


VARY: dict[str, Callable[[bytes, str, int], bytes]] = {
    "txt": vary_txt, "docx": vary_docx, "doc": vary_doc, "pdf": vary_pdf, "scan": vary_pdf,
    "html": vary_html, "xlsx": vary_xlsx,
}
# formats whose copies have the source's text (bytes differ, report_id does not)
BYTES_ONLY = frozenset({"doc"})


def make_corpus(out: str | Path, reports: int, formats: tuple[str, ...] | list[str] = FORMATS,
                seed: int = 0) -> list[Path]:
    """Write ``reports`` distinct files into the folder ``out`` (created; it must be empty) and
    return their paths, in order.

    Sources are taken round by round (every source once a round, in an order shuffled by
    ``seed``), so the formats are as evenly mixed as the bundled files allow. File ``n`` is
    ``<n:06d>_<source stem>[_scan].<suffix>``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in make_corpus(d, 2, ["txt"])]
    ['000000_002_cd3eff31d36cdc54.txt', '000001_001_de8ade2d5ebbdf4b.txt']
    """
    if reports < 0:
        raise CorpusError(f"--reports must be at least 0, got {reports}")
    folder = Path(out)
    if folder.exists() and any(folder.iterdir()):
        raise CorpusError(f"{folder} is not empty: give a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    pool = sources(formats)
    blobs = {s: s.path.read_bytes() for s in pool}
    rng = random.Random(seed)
    written: list[Path] = []
    order: list[Source] = []
    for number in range(reports):
        if not order:
            order = list(pool)
            rng.shuffle(order)
        source = order.pop(0)
        tag = "_scan" if source.format == "scan" else ""
        path = folder / f"{number:06d}_{source.path.stem}{tag}{source.suffix}"
        try:
            path.write_bytes(VARY[source.format](blobs[source], copy_line(seed, number), number))
        except CorpusError as exc:
            raise CorpusError(f"{source.path}: {exc}") from exc
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path, help="folder to create (new or empty)")
    ap.add_argument("--reports", required=True, type=int, help="how many files to write")
    ap.add_argument("--formats", default=",".join(FORMATS),
                    help=f"comma-separated, from {','.join(FORMATS)} (default: all)")
    ap.add_argument("--seed", type=int, default=0, help="varies the order and the copy lines")
    args = ap.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    try:
        paths = make_corpus(args.out, args.reports, formats, args.seed)
    except CorpusError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 2
    kinds = Counter(p.name.rsplit(".", 1)[1] if "_scan." not in p.name else "scan" for p in paths)
    mib = sum(p.stat().st_size for p in paths) / 2**20
    print(f"wrote {len(paths)} files ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; "
          f"{mib:.1f} MiB) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
