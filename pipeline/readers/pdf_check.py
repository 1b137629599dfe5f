"""A PDF's size, checked before any page of it is laid out (issue 10): its pages and the drawing
work in them.

pdfminer lays a page out by running every operator of its content streams in Python (5 to 35 µs
an operator, measured on pages of ``q Q``, ``cm`` and ``m l S``) and keeps an object of about
1.8 KB for each path it draws: a 28 MB PDF of two million path operators still ran after ten
minutes, at 8 GB. That work is known before it is done: the page tree says how many pages there
are, the content streams say how many operators each page runs. :func:`check_pdf` counts them,
inflating each content stream with a bound (never more bytes than the limit), and refuses a PDF
over a limit with a :class:`ReaderError` that names it (:data:`pipeline.limits.LIMITS`).

The limits are far above real reports, which have 5 to 60 pages, and pages of at most about
3,000 operators and 33 KB of content (the committed renderings):

- ``MAX_PAGES`` 300: five times the longest report; at ~30 text pages/s, 10 s of reading.
- ``MAX_PAGE_OPERATORS`` 200,000: over 60 times the busiest page; 1 to 7 s and at most ~300 MB
  to lay out one page (a vector chart or map of tens of thousands of paths still passes).
- ``MAX_OPERATORS`` 2,000,000 in the whole PDF: 300 pages of 6,000; 15 to 70 s of layout (its
  memory is a page's: each page's objects are freed after it).
- ``MAX_PAGE_CONTENT_BYTES`` 16 MiB and ``MAX_CONTENT_BYTES`` 64 MiB of unpacked content: what
  the operator counts do not see (comments, long strings, inline images) and what bounds the
  inflating itself; a report's pages have 10 to 33 KB each.

A page's work includes the form XObjects it draws (``/Fm0 Do``), each time it draws them.
Content streams are inflated here with ``zlib``'s ``max_length``; the rare other filters of
content streams (LZW, RunLength) are decoded by pdfminer, as the layout would decode them. What
this does not bound: pdfminer's own inflating of object and xref streams while it opens the file
(the worker's memory limit does: ``jixiao run --file-memory``).

The check takes 1.4 to 9 ms on each committed rendering (6 to 36 pages, about 0.3 ms a page;
``bench/bench_readers.py``), under 1 % of reading them; the objects it parses are pdfminer's
cached ones, which the layout then uses.
"""
from __future__ import annotations

import itertools
import re
import string
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pipeline.readers import ReaderError

MAX_PAGES = 300
MAX_PAGE_OPERATORS = 200_000
MAX_OPERATORS = 2_000_000
MAX_PAGE_CONTENT_BYTES = 16 * 2**20
MAX_CONTENT_BYTES = 64 * 2**20
# Form XObjects drawn inside forms: deeper nesting than this is not counted further (pdfminer
# has no limit of its own; real forms nest one or two deep).
MAX_FORM_DEPTH = 8

# An operator is a token that starts with a letter (or ' or "): numbers start with a digit, a
# sign or a point, names with ``/``. A token starts after white space or after the end of an
# array, string or dictionary. To count them in C, content is translated to one class a byte
# (" " for where a token may start, "a" for a letter, "0" for anything else) and the starts of
# words, b" a", are counted. A word inside a literal string (``(two words)``) counts too, which
# only errs on the safe side.
_TOKEN_START = b"\x00\t\n\x0c\r )>]}"  # PDF's white space, and closing delimiters
_LETTERS = string.ascii_letters.encode() + b"'\""
_CLASSES = bytes(ord(" ") if b in _TOKEN_START else ord("a") if b in _LETTERS else ord("0")
                 for b in range(256))
# Drawing a form or an image: ``/Fm0 Do``
_DO = re.compile(rb"/([^\s()<>\[\]{}/%]+)\s*Do(?![^\s()<>\[\]{}/%])")


def _operators(content: bytes) -> int:
    """How many operators ``content`` runs (see ``_CLASSES``).

    >>> _operators(b"BT /F1 12 Tf [(x)]TJ ET 1 1 m 2 2 l S")
    7
    """
    return (b" " + content).translate(_CLASSES).count(b" a")


@dataclass
class _Work:
    """What laying out some content will cost: its operators and unpacked bytes."""

    operators: int = 0
    content_bytes: int = 0

    def add(self, other: _Work, times: int = 1) -> None:
        self.operators += times * other.operators
        self.content_bytes += times * other.content_bytes

    def over_page_limits(self) -> bool:
        return self.operators > MAX_PAGE_OPERATORS or self.content_bytes > MAX_PAGE_CONTENT_BYTES


def check_pdf(document: Any, name: str) -> None:
    """Refuse a PDF whose pages or drawing work are over the limits above, before any layout.

    ``document`` is pdfminer's ``PDFDocument`` (``pdfplumber.PDF.doc``: its xref is read, no page
    is parsed yet); ``name`` is the file name the messages use. Raises :class:`ReaderError` with
    ``limit`` ``"pages"`` or ``"operators"``; returns None for a PDF within them.

    >>> check_pdf(pdfplumber.open("path_bomb.pdf").doc, "path_bomb.pdf")  # doctest: +SKIP
    Traceback (most recent call last):
    ReaderError: path_bomb.pdf is refused: page 1 draws 2,000,001 operators (over 200,000; ...
    """
    from pdfminer.pdfpage import PDFPage

    pages = list(itertools.islice(PDFPage.create_pages(document), MAX_PAGES + 1))
    if len(pages) > MAX_PAGES:
        declared = _declared_pages(document)
        counted = f" (its page tree counts {declared:,})" if declared > MAX_PAGES else ""
        raise ReaderError(f"{name} is refused: it has over {MAX_PAGES} pages{counted}; a report "
                          f"has 5 to 60", limit="pages")
    total = _Work()
    forms: dict[int, _Work] = {}  # a form's work by object id: counted once, added as drawn
    for number, page in enumerate(pages, 1):
        work = _content_work(page.contents, page.resources, forms, depth=0)
        if work.content_bytes > MAX_PAGE_CONTENT_BYTES:
            raise ReaderError(f"{name} is refused: the content of page {number} unpacks to over "
                              f"{MAX_PAGE_CONTENT_BYTES // 2**20} MiB (a report page has a few "
                              f"dozen KB)", limit="operators")
        if work.operators > MAX_PAGE_OPERATORS:
            raise ReaderError(f"{name} is refused: page {number} draws {work.operators:,} "
                              f"operators (over {MAX_PAGE_OPERATORS:,}; a report page has a few "
                              f"thousand)", limit="operators")
        total.add(work)
        if total.content_bytes > MAX_CONTENT_BYTES:
            raise ReaderError(f"{name} is refused: the content of its pages 1 to {number} unpacks "
                              f"to over {MAX_CONTENT_BYTES // 2**20} MiB (a report has a few MB "
                              f"at most)", limit="operators")
        if total.operators > MAX_OPERATORS:
            raise ReaderError(f"{name} is refused: its pages 1 to {number} draw "
                              f"{total.operators:,} operators (over {MAX_OPERATORS:,}; a report "
                              f"has a few hundred thousand at most)", limit="operators")


def _declared_pages(document: Any) -> int:
    """The page count the page tree's root declares (``/Count``), 0 when it has none."""
    from pdfminer.pdftypes import resolve1

    root = resolve1(document.catalog.get("Pages"))
    count = resolve1(root.get("Count")) if isinstance(root, dict) else None
    return count if isinstance(count, int) else 0


def _content_work(streams: list[Any], resources: Any, forms: dict[int, _Work],
                  depth: int) -> _Work:
    """The work of content ``streams`` (a page's, or a form's) and of the forms they draw,
    which are looked up in ``resources``. Stops inflating past the page limits: over them, the
    page is refused whatever the exact figure."""
    from pdfminer.pdftypes import PDFStream, resolve1
    from pdfminer.psparser import LIT

    content = bytearray()
    for stream in streams:
        stream = resolve1(stream)
        if isinstance(stream, PDFStream):
            content += _unpacked(stream, MAX_PAGE_CONTENT_BYTES + 1 - len(content))
        if len(content) > MAX_PAGE_CONTENT_BYTES:
            break
    work = _Work(operators=_operators(content), content_bytes=len(content))
    if work.over_page_limits() or depth >= MAX_FORM_DEPTH:
        return work
    resources = resolve1(resources)
    xobjects = resolve1(resources.get("XObject")) if isinstance(resources, dict) else None
    if not isinstance(xobjects, dict):
        return work
    for drawn, times in Counter(_DO.findall(content)).items():
        form = resolve1(xobjects.get(_name(drawn)))
        if not isinstance(form, PDFStream) or resolve1(form.get("Subtype")) is not LIT("Form"):
            continue  # an image: the layout does not parse its pixels
        if form.objid not in forms:
            forms[form.objid] = _Work()  # a form that draws itself is not counted in a loop
            # a form without resources of its own uses those of the content that draws it
            forms[form.objid] = _content_work([form], form.get("Resources") or resources,
                                              forms, depth + 1)
        work.add(forms[form.objid], times)
        if work.over_page_limits():  # (a thousand forms of 16 MiB each are not all inflated)
            break
    return work


def _name(token: bytes) -> str:
    """A name as pdfminer keys it in a dictionary: ``#xx`` escapes resolved, read as UTF-8.

    >>> _name(b"Fm#201")
    'Fm 1'
    """
    raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), token)
    return raw.decode("utf-8", "replace")


def _unpacked(stream: Any, max_bytes: int) -> bytes:
    """The decoded bytes of a content stream, at most ``max_bytes`` of them: a decompression
    bomb stops there."""
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, resolve1

    if stream.rawdata is None:  # decoded already
        return bytes(stream.data[:max_bytes])
    data = stream.rawdata
    if stream.decipher:  # an encrypted PDF (one that opens without a password)
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    filters = [resolve1(f) for f, _params in stream.get_filters()]
    if any(f not in LITERALS_FLATE_DECODE for f in filters):
        return stream.get_data()[:max_bytes]  # LZW, RunLength, ASCII85 …: pdfminer decodes them
    for _flate in filters:  # Flate once (nearly always), or more often
        data = _inflate(data, max_bytes)
    return data[:max_bytes]


def _inflate(data: bytes, max_bytes: int) -> bytes:
    """What zlib ``data`` inflates to, at most ``max_bytes``. Damaged data gives what inflated
    before the damage, as pdfminer reads it (so a bomb with a broken end is still measured).

    >>> len(_inflate(zlib.compress(bytes(10**6)), 1000)), _inflate(b"not zlib", 1000)
    (1000, b'')
    """
    if max_bytes <= 0:  # (zlib reads a max_length of 0 as no limit)
        return b""
    inflate = zlib.decompressobj()
    out = bytearray()
    piece = 1 << 16  # input fed in pieces: what came before a damaged piece is kept
    for start in range(0, len(data), piece):
        try:
            out += inflate.decompress(data[start:start + piece], max_bytes - len(out))
        except zlib.error:
            break
        if len(out) >= max_bytes or inflate.eof:
            break
    return bytes(out)
