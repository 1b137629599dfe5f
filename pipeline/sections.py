"""Segmenting a report into its level-1 and level-2 sections (headings in ``patterns/headings.yaml``).

A 绩效自评报告 numbers its top headings ``一、二、三、`` and the ones under them ``（一）（二）``;
``1.``/``1、``/``（1）`` are items further down. Word-to-text conversion loses list numbering, so a
report may print ``一、 … 2、 … 三、 … 4、`` (``2、``/``4、`` standing for ``二、``/``四、``) or
``（一） … （2） … （3）``. A marker alone therefore does not say what a line is: :func:`segment`
reads the candidate heading lines top to bottom and keeps a small state machine — the next expected
level-1 and level-2 number, whether a ``（一）`` sequence is open under the current level-1 heading,
and which item runs (``1、 2、 3、``) have been seen since the last heading — and accepts an Arabic
marker as a heading only where it continues the Chinese sequence and does not continue an item run.

Headings are only sought before ``doc.body_end`` (appended tables hold captions and list items, not
narrative headings) and only at the start of a line: a portal's one-line auto-summary that repeats
the report opening (``…报告 一、基本情况 …``) holds no heading.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import regex

from pipeline.document import Document, Section
from pipeline.patterns import PatternError, alternation, compile_verbose, load_yaml, require

KINDS = ("basic_info", "finance", "achievements", "evaluation", "conclusion", "problems",
         "suggestions", "result_use", "other", "appendix")
FAMILIES = ("part", "cn_top", "cn_paren", "ar_top", "ar_paren", "enclosure")

# Tier of each marker family: P (第一部分) above A (一、) above B (（一）). The Arabic families are the
# lost-number stand-ins of the Chinese ones of the same tier.
_TIER = {"part": "P", "cn_top": "A", "ar_top": "A", "cn_paren": "B", "ar_paren": "B"}
_TIERS = ("P", "A", "B")
_CHINESE_FAMILIES = frozenset({"part", "cn_top", "cn_paren"})
# A Chinese number may skip ahead this far (一、 二、 四、 when 三、 was lost entirely) and still
# continue the sequence; further jumps are list items or noise.
_MAX_SKIP = 2
# A document with at least this many 第N部分 headings is divided into parts: those are level 1,
# 一、 level 2, and （一） level 3 (not recorded).
_MIN_PARTS = 2
# How much of a line's end is searched for a table-of-contents leader and page number.
_TOC_TAIL = 40
# What ends the heading phrase of a marker in the middle of a run-on line
_PHRASE_END = re.compile(r"[\s,.;:!?。、]")
# What a table of contents' title contains (目录, 目 录): a cheap test before the line scan
_TOC_HINT = re.compile(r"目[ \t]*录")
# What every Chinese marker (一、 （一）) contains: a cheap test before the run-on line scan
_INLINE_HINT = re.compile(r"[一二三四五六七八九十][ \t]*[、.]|\([ \t]*[一二三四五六七八九十]")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_number(numeral: str) -> int:
    """The value of a Chinese numeral from 一 to 九十九 (0 when it is not one).

    >>> [chinese_number(s) for s in ("一", "十", "十二", "二十", "二十三", "x")]
    [1, 10, 12, 20, 23, 0]
    """
    if not numeral:
        return 0
    if "十" not in numeral:
        return _CN_DIGITS.get(numeral, 0) if len(numeral) == 1 else 0
    tens, _, units = numeral.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return 0
    high = _CN_DIGITS.get(tens, 0) if tens else 1
    low = _CN_DIGITS.get(units, 0) if units else 0
    if (tens and not high) or (units and not low):
        return 0
    return high * 10 + low


# ------------------------------------------------------------------------------------------------
# Patterns
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Lexicon:
    """Canonical-kind keywords, stored reversed so that a left-to-right search finds the keyword
    that ends last (the head of a Chinese noun phrase)."""

    level1: regex.Pattern[str]
    level2: regex.Pattern[str]
    kind_of: dict[str, str]
    conjunctions: regex.Pattern[str]
    generic_suffixes: tuple[str, ...]
    descriptive: tuple[str, ...]
    fallback_first: str
    fallback_other: str


@dataclass(frozen=True)
class _Patterns:
    candidate: re.Pattern[str]
    toc_line: re.Pattern[str]
    title_end: re.Pattern[str]
    title_trailing: frozenset[str]
    artefact_punct: frozenset[str]
    artefact_max_title: int
    artefact_level1_standalone: bool
    restart_after: regex.Pattern[str]
    appendix_heading: regex.Pattern[str]
    inline: re.Pattern[str]          # a Chinese marker anywhere (run-on lines)
    inline_after: re.Pattern[str]     # what may stand just before an inline marker, up to it
    inline_finals: re.Pattern[str]    # a word that ends an inline heading's title
    inline_min_line: int              # run_on.min_line_chars: a line this long may be run-on
    inline_max_title: int
    toc_title: re.Pattern[str]        # the 目录 line opening a table of contents
    toc_page: re.Pattern[str]         # a page number ending a table-of-contents entry
    toc_max_entry: int
    file_name_title: re.Pattern[str]  # a "heading" that is a file name (….doc)
    unnumbered: re.Pattern[str]       # a line that may be a heading whose number was lost
    final_at_end: re.Pattern[str]     # a title ending in a heading word (run_on.title_finals)


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", str(word))


def _compile_re(pattern: str, where: str) -> re.Pattern[str]:
    """A per-line pattern, validated like every pattern file regex, compiled with the standard
    library's ``re`` (it runs once or twice for every candidate line, where ``re`` is cheaper)."""
    compile_verbose(pattern, where)
    try:
        return re.compile(pattern, re.VERBOSE | re.MULTILINE)
    except re.error as exc:
        raise PatternError(f"{where}: {exc}") from exc


@functools.lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    data = load_yaml("headings.yaml")
    where = "headings.yaml"
    require(data, "markers", "toc_line", "toc", "file_name_title", "unnumbered",
            "title_terminators", "title_trailing", "artefacts", "restart_after",
            "appendix_heading", where=where)
    toc = data["toc"]
    require(toc, "title", "page_number", "max_entry_chars", where=f"{where}:toc")
    markers = data["markers"]
    require(markers, *FAMILIES, where=f"{where}:markers")
    branches = []
    for family in FAMILIES:
        fragment = markers[family]
        compiled = compile_verbose(fragment, f"{where}:markers.{family}")
        if family != "enclosure" and "num" not in compiled.groupindex:
            raise PatternError(f"{where}:markers.{family}: needs a group (?P<num>…)")
        # group names must be unique in the combined pattern: num → cn_top_num …
        fragment = fragment.replace("(?P<num>", f"(?P<{family}_num>")
        fragment = fragment.replace("(?P<punct>", f"(?P<{family}_punct>")
        branches.append(f"(?P<{family}>\n{fragment}\n)")
    # One pass over the text finds every candidate line: a marker after the line's indentation.
    # This scan touches every character of every report, so it is compiled with the standard
    # library's `re`, about twice as fast as `regex` here (the fragments use no regex-only syntax).
    try:
        candidate = re.compile("^[ \\t]*(?:\n" + "\n|".join(branches) + "\n)",
                               re.VERBOSE | re.MULTILINE)
    except re.error as exc:
        raise PatternError(f"{where}:markers: {exc}") from exc
    # The same Chinese markers anywhere in a line, for run-on pages (see run_on in headings.yaml)
    run_on = data.get("run_on") or {}
    require(run_on, "min_line_chars", "max_title_chars", "after", "title_finals", where=f"{where}:run_on")
    inline = re.compile("|".join(b for b, family in zip(branches, FAMILIES)
                                 if family in ("cn_top", "cn_paren")), re.VERBOSE)
    finals = "|".join(re.escape(_fold(w)) for w in sorted(run_on["title_finals"], key=len, reverse=True))
    terminators = str(data["title_terminators"])
    colon = re.escape(str(data.get("title_colon", ":")))
    title_end = re.compile("[" + re.escape(terminators) + "]|" + colon + r"(?=[ \t]*\S)")
    artefacts = data["artefacts"]
    require(artefacts, "level1_punct", "max_title_chars", where=f"{where}:artefacts")
    return _Patterns(
        candidate=candidate,
        toc_line=_compile_re(data["toc_line"], f"{where}:toc_line"),
        title_end=title_end,
        title_trailing=frozenset(str(data["title_trailing"])),
        artefact_punct=frozenset(_fold(p) for p in artefacts["level1_punct"]),
        artefact_max_title=int(artefacts["max_title_chars"]),
        artefact_level1_standalone=bool(artefacts.get("level1_standalone", True)),
        restart_after=regex.compile(data["restart_after"], regex.VERBOSE | regex.MULTILINE),
        appendix_heading=compile_verbose(data["appendix_heading"], f"{where}:appendix_heading"),
        inline=inline,
        # what stands before an inline marker, then (spaces and) the marker's first character
        inline_after=_compile_re("(?:" + run_on["after"] + ")[ \t]*(?=[一二三四五六七八九十(])",
                                 f"{where}:run_on.after"),
        inline_finals=re.compile(finals),
        inline_min_line=int(run_on["min_line_chars"]),
        inline_max_title=int(run_on["max_title_chars"]),
        toc_title=_compile_re(toc["title"], f"{where}:toc.title"),
        toc_page=_compile_re(toc["page_number"], f"{where}:toc.page_number"),
        toc_max_entry=int(toc["max_entry_chars"]),
        file_name_title=_compile_re(data["file_name_title"], f"{where}:file_name_title"),
        unnumbered=_compile_re(data["unnumbered"], f"{where}:unnumbered"),
        final_at_end=re.compile("(?:" + finals + ")$"),
    )


@functools.lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    data = load_yaml("headings.yaml")
    where = "headings.yaml"
    require(data, "kinds", "conjunctions", "generic_suffixes", "level1_fallback", where=where)
    kinds: dict[str, Any] = data["kinds"]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise PatternError(f"{where}: unknown canonical kinds {sorted(unknown)}")
    kind_of: dict[str, str] = {}
    level2_words: list[str] = []
    level1_words: list[str] = []
    for kind, spec in kinds.items():
        require(spec, "words", where=f"{where}:kinds.{kind}")
        for key, bucket in (("words", level2_words), ("level1_words", level1_words)):
            for word in spec.get(key) or []:
                folded = _fold(word).strip()
                if folded in kind_of:
                    raise PatternError(f"{where}: keyword {folded!r} is listed under both "
                                       f"{kind_of[folded]} and {kind}")
                kind_of[folded] = kind
                bucket.append(folded)
    fallback = data["level1_fallback"]
    require(fallback, "first", "other", where=f"{where}:level1_fallback")
    if not {fallback["first"], fallback["other"]} <= set(KINDS):
        raise PatternError(f"{where}: level1_fallback names an unknown kind")

    def reversed_alternation(words: list[str], name: str) -> regex.Pattern[str]:
        return regex.compile(alternation([w[::-1] for w in words], f"{where}:{name}"))

    return _Lexicon(
        level1=reversed_alternation(level2_words + level1_words, "kinds(level 1)"),
        level2=reversed_alternation(level2_words, "kinds(level 2)"),
        kind_of=kind_of,
        conjunctions=compile_verbose(data["conjunctions"], f"{where}:conjunctions"),
        generic_suffixes=tuple(sorted((_fold(s) for s in data["generic_suffixes"]),
                                      key=len, reverse=True)),
        descriptive=tuple(_fold(s) for s in data.get("level2_descriptive") or []),
        fallback_first=str(fallback["first"]),
        fallback_other=str(fallback["other"]),
    )


# ------------------------------------------------------------------------------------------------
# Canonical kinds
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def canonical_kind(title: str, level: int, first_level1: bool = False) -> str | None:
    """The canonical kind a heading title names (rules and keywords in ``patterns/headings.yaml``).

    Level 1 always gets a kind (``first_level1`` picks the fallback for an unknown opening
    heading); level 2 gets one only when a kind keyword is the head of the title.

    >>> canonical_kind("绩效评价情况及结论", 1), canonical_kind("部门预算绩效分析", 1)
    ('evaluation', 'evaluation')
    >>> canonical_kind("项目资金到位情况分析", 2), canonical_kind("完成收入任务成效", 2)
    ('finance', None)
    """
    lex = _lexicon()
    folded = _fold(title)
    if level != 1 and any(mark in folded for mark in lex.descriptive):
        return None  # a slogan-like sub-heading ("抓基层党建，群众工作走深走实") names no part
    for part in lex.conjunctions.split(folded):
        part = part.strip()
        if not part:
            continue
        if level == 1:
            found = lex.level1.search(part[::-1])
            if found:
                return lex.kind_of[found.group(0)[::-1]]
            continue
        variants = [part] + [part[:-len(s)] for s in lex.generic_suffixes
                             if part.endswith(s) and len(part) > len(s)]
        for variant in variants:
            found = lex.level2.match(variant[::-1])
            if found:
                return lex.kind_of[found.group(0)[::-1]]
    if level == 1:
        return lex.fallback_first if first_level1 else lex.fallback_other
    return None


# ------------------------------------------------------------------------------------------------
# Candidate heading lines
# ------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Candidate:
    """A line that starts with a heading marker; whether it is a heading is decided later."""

    family: str
    printed: str          # the number as printed (一, 2), "" for an enclosure line
    value: int            # its value (一 → 1)
    punct: str            # the punctuation after an Arabic number (、 or .)
    start: int            # offset of the marker
    line_start: int
    title_start: int
    title: str
    run_on: bool          # the heading phrase is followed on its line by its paragraph
    inline: bool = False  # found in the middle of a run-on line, not at a line start


def _clean_title(doc: Document, start: int, end: int, trailing: frozenset[str]) -> str:
    """``doc.text[start:end]`` without trailing punctuation/spaces and without conversion
    artefacts. Both are found in ``norm`` (folded, artefacts blanked), whose offsets are the
    text's."""
    norm = doc.norm
    while end > start and norm[end - 1] in trailing:
        end -= 1
    text = doc.text[start:end]
    if " " in norm[start:end]:
        text = "".join(t for t, n in zip(text, norm[start:end]) if not (n == " " and not t.isspace()))
    return text.strip()


def _candidates(doc: Document, pat: _Patterns) -> list[_Candidate]:
    """Every line before ``body_end`` that starts with a heading marker, in document order."""
    norm = doc.norm
    limit = max(0, min(doc.body_end, len(norm)))
    found: list[_Candidate] = []
    tocs = _toc_spans(doc, pat, limit) if _TOC_HINT.search(norm) else []
    for m in pat.candidate.finditer(norm, 0, limit):
        family = m.lastgroup or ""  # the family's wrapping group is the last to close
        start, marker_end = m.start(family), m.end(family)
        if tocs and any(a <= start < b for a, b in tocs):
            continue  # an entry of a table of contents
        line_end = norm.find("\n", marker_end)
        if line_end < 0:
            line_end = len(norm)
        line_start = m.start()
        if family == "enclosure":
            found.append(_Candidate(family, "", 0, "", start, line_start, marker_end, "", False))
            continue
        if norm.count("\t", marker_end, line_end) >= 2:
            continue  # a flattened table row, not a heading line
        # a table-of-contents entry ends with a dot leader and a page number; looking at the
        # line's tail only keeps long run-on paragraphs from being scanned twice
        if pat.toc_line.search(norm, max(marker_end, line_end - _TOC_TAIL), line_end):
            continue
        printed = m.group(f"{family}_num")
        value = int(printed) if printed.isdigit() else chinese_number(printed)
        if value <= 0:
            continue
        rest = norm[marker_end:line_end]
        title_start = marker_end + len(rest) - len(rest.lstrip(" \t"))
        title_line_end = line_end
        if title_start >= line_end:
            # "一、" alone on its line: the title is the next line, if that is not a heading too
            nxt = line_end + 1
            nxt_end = norm.find("\n", nxt)
            nxt_end = len(norm) if nxt_end < 0 else nxt_end
            nxt_line = norm[nxt:nxt_end].strip()
            if (nxt < limit and 0 < len(nxt_line) <= pat.artefact_max_title
                    and not pat.candidate.match(norm, nxt)):
                title_start = nxt + len(norm[nxt:nxt_end]) - len(norm[nxt:nxt_end].lstrip())
                title_line_end = nxt_end
        stop = pat.title_end.search(norm, title_start, title_line_end)
        title_end = stop.start() if stop else title_line_end
        run_on = bool(stop) and bool(norm[stop.end():title_line_end].strip())
        title = _clean_title(doc, title_start, title_end, pat.title_trailing)
        if "." in title and pat.file_name_title.search(title):
            continue  # a file name printed as a line (三、绩效分析及评价结论.doc)
        punct_group = f"{family}_punct"
        punct = (m.group(punct_group) or "") if punct_group in pat.candidate.groupindex else ""
        found.append(_Candidate(family, printed, value, punct, start, line_start,
                                title_start, title, run_on))
    inline = _inline_candidates(doc, pat, limit)
    if inline:
        found = sorted(found + inline, key=lambda c: c.start)
    return found


def _toc_spans(doc: Document, pat: _Patterns, limit: int) -> list[tuple[int, int]]:
    """(start, end) of each table of contents: its 目录 line and the entry lines below it.

    The entries end at a line too long to be one, or where the first entry's title comes again
    (the real heading, when the entries carry no page numbers).
    """
    norm = doc.norm
    spans = []
    for m in pat.toc_title.finditer(norm, 0, limit):
        pos, end, first = m.end() + 1, m.end(), None
        while pos < limit:
            line_end = norm.find("\n", pos)
            line_end = limit if line_end < 0 or line_end > limit else line_end
            entry = pat.toc_page.sub("", norm[pos:line_end]).strip()
            if entry:
                if len(entry) > pat.toc_max_entry:
                    break
                marker = pat.candidate.match(entry)
                title = entry[marker.end():].strip() if marker else entry
                if first is None:
                    first = title
                elif title == first:
                    break
                end = line_end
            pos = line_end + 1
        if first is not None:
            spans.append((m.start(), end))
    return spans


def _long_lines(norm: str, limit: int, min_chars: int) -> list[tuple[int, str]]:
    """(start, text) of the lines of ``norm[:limit]`` at least ``min_chars`` long (one split:
    twice as fast as a line regex on a report of short paragraphs)."""
    out, pos = [], 0
    for line in norm[:limit].split("\n"):
        if len(line) >= min_chars:
            out.append((pos, line))
        pos += len(line) + 1
    return out


def _inline_candidates(doc: Document, pat: _Patterns, limit: int) -> list[_Candidate]:
    """Chinese markers in the middle of run-on lines (at least ``run_on.min_line_chars`` long)
    that follow a sentence end or a heading phrase and open a short heading phrase."""
    norm = doc.norm
    found: list[_Candidate] = []
    for line_start, line in _long_lines(norm, limit, pat.inline_min_line):
        line_end = line_start + len(line)
        # a marker at the line's start (after its indentation) is a line-start candidate already
        text_start = line_start + len(line) - len(line.lstrip(" \t"))
        if not _INLINE_HINT.search(norm, text_start + 1, line_end):
            continue  # no Chinese marker anywhere in the line (most long paragraphs)
        # only a marker right after a sentence end or a heading phrase can open a heading: find
        # those places first (rarer than markers), then the marker there
        markers = [m for lead in pat.inline_after.finditer(norm, text_start + 1, line_end)
                   if (m := pat.inline.match(norm, lead.end(), line_end))]
        for i, m in enumerate(markers):
            title_start = m.end()
            while title_start < line_end and norm[title_start] in " \t":
                title_start += 1
            window_end = min(line_end, title_start + pat.inline_max_title)
            nxt = markers[i + 1].start() if i + 1 < len(markers) else line_end
            window_end = min(window_end, nxt)
            # a space or a punctuation mark ends the phrase
            stop = _PHRASE_END.search(norm, title_start, window_end)
            window_end = stop.start() if stop else window_end
            ends = [f.end() for f in pat.inline_finals.finditer(norm, title_start, window_end)]
            if not ends:
                continue
            # the phrase runs up to its last heading word, or up to the next marker right after it
            title_end = nxt if nxt <= window_end and not norm[ends[-1]:nxt].strip() else ends[-1]
            family = m.lastgroup or ""
            printed = m.group(f"{family}_num")
            title = _clean_title(doc, title_start, title_end, pat.title_trailing)
            found.append(_Candidate(family, printed, chinese_number(printed), "", m.start(family),
                                    m.start(family), title_start, title, True, inline=True))
    return found


# ------------------------------------------------------------------------------------------------
# The numbering state machine
# ------------------------------------------------------------------------------------------------
@dataclass
class _Numbering:
    """Where the numbering stands while reading candidate lines top to bottom.

    ``expected[t]`` is the next number of tier ``t`` (P 第N部分, A 一、, B （一）); ``open[t]`` says
    whether a sequence of that tier has started under the current heading of the tier above;
    ``items`` holds, per marker family, the number of the last candidate since the last heading
    that was NOT a heading (an item run such as 1、 2、 3、); ``enclosure`` is set after 附件：.
    """

    expected: dict[str, int] = field(default_factory=lambda: {t: 1 for t in _TIERS})
    open: dict[str, bool] = field(default_factory=lambda: {t: False for t in _TIERS})
    items: dict[str, int] = field(default_factory=dict)
    enclosure: bool = False
    skipped: bool = False  # a heading skipped numbers (一、 … 三、): lost headings may stand between

    def accept(self, tier: str, value: int) -> None:
        if self.open[tier] and value > self.expected[tier]:
            self.skipped = True
        self.expected[tier] = value + 1
        self.open[tier] = True
        for lower in _TIERS[_TIERS.index(tier) + 1:]:
            self.expected[lower] = 1
            self.open[lower] = False
        self.items.clear()
        self.enclosure = False

    def reject(self, family: str, value: int) -> None:
        # Only a run counted from 1 (1、 2、 3、) is an item list. A stray repeated number
        # (（二） printed twice) must not make the next real heading look like "the next item".
        if value == 1 or self.items.get(family) == value - 1:
            self.items[family] = value


def _after_report_title(doc: Document, line_start: int, pat: _Patterns) -> bool:
    """Whether the nearest non-blank line above ``line_start`` is a report title."""
    end = line_start - 1
    for _ in range(3):
        if end <= 0:
            return False
        begin = doc.norm.rfind("\n", 0, end) + 1
        line = doc.norm[begin:end]
        if line.strip():
            return bool(pat.restart_after.fullmatch(line))
        end = begin - 1
    return False


def _decide(c: _Candidate, state: _Numbering, doc: Document, pat: _Patterns,
            parts: bool, arabic_top: bool = False) -> str | None:
    """The rule id under which candidate ``c`` is a heading, or None; updates ``state``.

    ``arabic_top``: the report has no Chinese-numbered top level, so ``1、``/``1.`` headings are
    its level 1 (and ``（1）`` its level 2) where they read as heading phrases.
    """
    if c.family == "enclosure":
        state.enclosure = True
        return None
    if c.family == "part" and not parts:
        return None  # a lone 第一部分 in a report numbered 一、二、 is a title, not a tier
    tier = _TIER[c.family]
    n = c.value
    expected = state.expected[tier]
    continues_items = n > 1 and state.items.get(c.family) == n - 1
    rule: str | None = None
    if arabic_top and c.family in ("ar_top", "ar_paren"):
        heading_like = (0 < len(c.title) <= pat.artefact_max_title and not c.run_on
                        and bool(pat.final_at_end.search(c.title)))
        opened = tier == "A" or state.open["A"]
        rule = (f"{c.family}:top" if heading_like and opened and n == expected
                and not continues_items else None)
    elif c.inline:
        # in a run-on line only the very next number of an open (or just opened) sequence
        opened = state.open[tier] or tier == "A" or state.open[_TIERS[_TIERS.index(tier) - 1]]
        rule = f"{c.family}:inline" if opened and n == expected and not continues_items else None
    elif c.family in _CHINESE_FAMILIES:
        if continues_items:
            rule = None  # 一、 二、 三、 listed inside a section: items, not headings
        elif not state.open[tier] or expected <= n <= expected + _MAX_SKIP:
            rule = c.family
        elif n == 1 and tier == "B":
            rule = f"{c.family}:restart"  # a new （一） run whose level-1 heading was lost
        elif n == 1 and _after_report_title(doc, c.line_start, pat):
            rule = f"{c.family}:restart"  # a second report on the same page
    else:
        # An Arabic number is a heading only where it stands for the lost Chinese number: the
        # Chinese sequence of its tier is open, it is the very next number, it does not continue
        # a run of items (1、 2、 → 3、 is an item), and it reads like a heading phrase.
        lost_number = (
            state.open[tier] and n == expected and n >= 2 and not continues_items
            and not state.enclosure
            and 0 < len(c.title) <= pat.artefact_max_title
            and (tier != "A" or c.punct in pat.artefact_punct)
            and not (tier == "A" and pat.artefact_level1_standalone and c.run_on))
        rule = f"{c.family}:lost_number" if lost_number else None
    if rule is None:
        state.reject(c.family, n)
    else:
        state.accept(tier, n)
    return rule


# ------------------------------------------------------------------------------------------------
# Segmenting
# ------------------------------------------------------------------------------------------------
def segment(doc: Document) -> list[Section]:
    """Every level-1 and level-2 heading of ``doc`` in document order.

    ``start`` is the offset of the marker (after indentation), ``end`` where the section ends (the
    next heading of the same or a higher level, else ``body_end``), ``number`` the marker's number
    as printed (``（2）`` → ``2``), ``title`` the heading phrase (up to the first ``。`` for a
    run-on heading), ``canonical`` its kind, ``rule`` the marker family that matched.
    Never raises on text; pure and deterministic.

    >>> from pipeline.ingest import document_from_text
    >>> doc = document_from_text("一、基本情况\\n（一）单位构成\\n正文。\\n2、 主要成效\\n正文。\\n", "x.txt")
    >>> [(s.level, s.number, s.title, s.canonical) for s in segment(doc)]
    [(1, '一', '基本情况', 'basic_info'), (2, '一', '单位构成', None), (1, '2', '主要成效', 'achievements')]
    """
    pat = _patterns()
    candidates = _candidates(doc, pat)
    parts = sum(1 for c in candidates if c.family == "part") >= _MIN_PARTS
    level_of = {"P": 1, "A": 2, "B": 3} if parts else {"P": 0, "A": 1, "B": 2}
    found, skipped = _accepted(candidates, doc, pat, parts, level_of, arabic_top=False)
    if (not parts and not any(c.family == "cn_top" for c, _, _ in found)
            and sum(1 for c in candidates if c.family == "ar_top") >= 2):
        arabic, arabic_skipped = _accepted(candidates, doc, pat, parts, level_of, arabic_top=True)
        if sum(1 for c, _, _ in arabic if c.family == "ar_top") >= 2:
            found, skipped = arabic, arabic_skipped
    if skipped:
        found = _with_unnumbered(found, doc, pat)

    sections: list[Section] = []
    first_level1 = True
    for c, level, rule in found:
        kind = canonical_kind(c.title, level, first_level1 and level == 1)
        if level == 1:
            first_level1 = False
        sections.append(Section(seq=len(sections), level=level, number=c.printed or None,
                                title=c.title,
                                canonical=kind, start=c.start, end=-1, title_start=c.title_start,
                                rule=rule))
    appendix = _appendix_heading(doc, pat)
    if appendix is not None:
        appendix.seq = len(sections)
        sections.append(appendix)
    _set_ends(sections, doc)
    return sections


def _accepted(candidates: list[_Candidate], doc: Document, pat: _Patterns, parts: bool,
              level_of: dict[str, int], arabic_top: bool
              ) -> tuple[list[tuple[_Candidate, int, str]], bool]:
    """(candidate, level, rule) of every candidate the numbering accepts, top to bottom, and
    whether some accepted heading skipped numbers."""
    state = _Numbering()
    found: list[tuple[_Candidate, int, str]] = []
    for c in candidates:
        rule = _decide(c, state, doc, pat, parts, arabic_top)
        if rule is not None and 1 <= level_of[_TIER[c.family]] <= 2:
            found.append((c, level_of[_TIER[c.family]], rule))
    return found, state.skipped


def _with_unnumbered(found: list[tuple[_Candidate, int, str]], doc: Document, pat: _Patterns
                     ) -> list[tuple[_Candidate, int, str]]:
    """``found`` plus the unnumbered headings standing where the numbering of a level skips.

    Between two headings of one sequence numbered ``a`` and ``b`` (``（一）`` and ``（四）``, with
    no heading of a higher level between them), ``b - a - 1`` numbers are missing; when exactly
    that many lines between them read as headings (``unnumbered`` in headings.yaml), they are the
    lost ones, at the same level.
    """
    added: list[tuple[_Candidate, int, str]] = []
    last: dict[int, tuple[_Candidate, int, str]] = {}  # the latest heading of each level
    for item in found:
        c, level, _rule = item
        prev = last.get(level)
        last[level] = item
        for lower in [lv for lv in last if lv > level]:
            del last[lower]  # a new heading closes the sequences below it
        if prev is None or prev[0].family != c.family:
            continue
        missing = c.value - prev[0].value - 1
        if not 0 < missing <= _MAX_SKIP:
            continue
        after_prev = doc.norm.find("\n", prev[0].title_start)
        if after_prev < 0 or after_prev >= c.line_start:
            continue
        lines = [m for m in pat.unnumbered.finditer(doc.norm, after_prev, c.line_start)
                 if pat.final_at_end.search(m.group("title"))
                 and not pat.restart_after.fullmatch(m.group(0))]
        if len(lines) != missing:
            continue
        for m in lines:
            start = m.start("lead") if m.group("lead") else m.start("title")
            title = _clean_title(doc, m.start("title"), m.end("title"), pat.title_trailing)
            added.append((_Candidate(c.family, "", 0, "", start, m.start(), m.start("title"),
                                     title, False), level, f"{c.family}:unnumbered"))
    if not added:
        return found
    return sorted(found + added, key=lambda f: f[0].start)


def _appendix_heading(doc: Document, pat: _Patterns) -> Section | None:
    """The attachment heading that opens the appended material (``附件: 项目支出绩效自评表…``)."""
    if not 0 <= doc.body_end < len(doc.text):
        return None
    m = pat.appendix_heading.match(doc.norm, doc.body_end)
    if m is None:
        return None
    title = doc.text[m.start("title"):m.end("title")]
    return Section(seq=0, level=1, number=None, title=title, canonical="appendix",
                   start=m.start(), end=len(doc.text), title_start=m.start("title"),
                   rule="appendix_heading")


def _set_ends(sections: list[Section], doc: Document) -> None:
    """A section ends where the next heading of the same or a higher level starts, else at
    ``body_end`` (or the end of the text for the appendix)."""
    body_end = doc.body_end if 0 <= doc.body_end <= len(doc.text) else len(doc.text)
    for i, s in enumerate(sections):
        end = body_end if s.start < body_end else len(doc.text)
        for later in sections[i + 1:]:
            if later.level <= s.level:
                end = later.start
                break
        s.end = max(end, s.start)
