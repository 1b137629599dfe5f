"""One report, several sources: which files hold the same report, and which of them is kept.

A portal often publishes one report twice (a .docx and its .pdf, or the same page under two URLs).
Their decoded texts differ (spacing, line breaks, page furniture), so their ``report_id`` (a hash
of the text) differs too. Two texts are taken for renderings of one report when

- they are the same text (``same_text``), or
- their reports name the same ``unit_name``, ``fiscal_year`` and ``report_kind`` (none of them
  missing) and their comparable texts (:func:`comparable_text`) have an Indel similarity
  (:func:`similarity`) of at least ``NEAR_TEXT`` (``near_text``).

``NEAR_TEXT`` = 0.90, measured on real renderings (tests/fixtures/rendered, by LibreOffice from the
seeds): every seed against its .docx/.doc/.pdf/.html is 0.993–1.000, while the most similar
distinct reports of one kind (samples h07 and h14, two 忠县 units) are 0.378 and two 璧山区 town
reports on one template 0.234. The wide margin leaves room for an OCR reading (a scan of a seed is
0.98 against its text) and for a revision that corrects a few figures.

Which rendering's values are kept (:func:`preference`): the authored Word file (docx, doc, wps),
then the portal page (html), then a text conversion (txt), then a PDF with a text layer, then any
other format, then a PDF read by OCR; between equals, the source name that sorts first. The rule
only looks at the files, so the result does not depend on the order they arrive in.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["NEAR_TEXT", "comparable_text", "similarity", "preference", "match_key"]

NEAR_TEXT = 0.90
# Formats in the order their values are preferred (lower first); an OCR reading comes last.
FORMAT_PREFERENCE = ("docx", "doc", "wps", "html", "htm", "shtml", "txt", "pdf")
# Page furniture a conversion may leave on a line of its own: "- 3 -", "第3页", "第3页 共9页", "3/9", "3".
_PAGE_LINE = re.compile(r"""
    (?m)^\s*
    (?: [-—–]\s*\d+\s*[-—–]                                  # - 3 -
      | 第\s*\d+\s*页 (?:\s*[/，,]?\s*共\s*\d+\s*页)?          # 第3页, 第3页 共9页
      | \d+\s*/\s*\d+                                        # 3/9
      | \d{1,3} )                                            # a bare page number
    \s*$""", re.VERBOSE)
_SPACE = re.compile(r"\s+")


def comparable_text(text: str) -> str:
    """A report's text as compared across renderings: page-number lines and all whitespace removed.

    >>> comparable_text("一、基本情况\\n- 2 -\\n支出 合计\\n")
    '一、基本情况支出合计'
    """
    return _SPACE.sub("", _PAGE_LINE.sub("", text))


def similarity(a: str, b: str, cutoff: float = 0.0) -> float:
    """Indel similarity (1 - edits / total length) of two comparable texts, 0.0 below ``cutoff``.

    >>> round(similarity("一二三四五", "一二三四六"), 2)
    0.8
    """
    from rapidfuzz.distance import Indel

    return Indel.normalized_similarity(a, b, score_cutoff=cutoff)


def preference(source: dict[str, Any]) -> tuple[int, str]:
    """The sort key of a source (``format``, ``ocr``, ``source``): the lowest is the one kept.

    >>> sorted(["b.pdf", "a.pdf", "c.docx"], key=lambda s: preference({"source": s, "format": s[2:]}))
    ['c.docx', 'a.pdf', 'b.pdf']
    """
    fmt = source.get("format")
    if source.get("ocr"):
        rank = len(FORMAT_PREFERENCE) + 1
    else:
        rank = FORMAT_PREFERENCE.index(fmt) if fmt in FORMAT_PREFERENCE else len(FORMAT_PREFERENCE)
    return rank, source["source"]


def match_key(report: dict[str, Any]) -> tuple[str, int, str] | None:
    """``(unit_name, fiscal_year, report_kind)`` of a report, or None when one is missing (such a
    report is matched only by its exact text)."""
    key = (report.get("unit_name"), report.get("fiscal_year"), report.get("report_kind"))
    if any(v is None or v != v for v in key):  # None, or a missing value read back as NaN
        return None
    return key[0], int(key[1]), key[2]
