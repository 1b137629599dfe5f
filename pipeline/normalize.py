"""Char-for-char normalisation of the analysis text (rules in ``patterns/normalize.yaml``).

Because every rule replaces one character by one character, the normalised text has the same
length as the source and shares its offsets: no offset map is needed.

A character becomes, in this order of precedence:

1. its replacement in the ``map`` of ``normalize.yaml`` (``\\u3000`` -> space, ``—`` -> ``-`` …);
2. else, for a non-ASCII character, its NFKC form when that is ONE character (``３`` -> ``3``,
   ``（`` -> ``(``); a character whose NFKC form is longer (``㎡`` -> ``m2``) stays as it is;
3. else itself.

Then conversion artefacts (``[bookmark: _GoBack]``, ``&NULL&``) are blanked with as many spaces.

This runs on every report, so it is written for speed: most of a report is CJK ideographs and
ASCII, which no rule changes; only the few other distinct characters of a text (typically 10-30:
``，：（）０-９`` …) are looked up, and each is replaced in one pass of :meth:`str.replace`.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import regex

from pipeline.patterns import compile_verbose, load_yaml, require

# Characters that make up most of a report and that only an explicit ``map`` rule can change:
# tab, newline, printable ASCII (NFKC leaves ASCII alone) and the CJK Unified Ideographs (they
# have no NFKC decomposition; tests/test_normalize.py checks every one) ...
_UNCHANGED_RANGES = r"\t\n\x20-\x7e\u4e00-\u9fff"
# ... and the common Chinese punctuation that NFKC leaves alone (，：（） are full-width forms of
# ASCII and do change). One the map names is left out of the class when the rules are loaded.
_UNCHANGED_PUNCTUATION = "。、“”‘’《》【】…·"


class FoldTable(dict[int, str]):
    """A :meth:`str.translate` table: code point -> the one character it normalises to.

    It starts with the explicit ``map`` rules; every other character is resolved the first time
    it is asked for (``__missing__``) and remembered, so each distinct character costs one NFKC
    call per process, not one per occurrence.

    >>> table = FoldTable({ord("\\u3000"): " "})
    >>> "３４０２．５（一）\\u3000㎡".translate(table)
    '3402.5(一) ㎡'
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if code > 0x7F:
            folded = unicodedata.normalize("NFKC", char)
            # only a 1:1 fold keeps offsets: ㎡ -> "m2" or ﬁ -> "fi" would shift everything after
            result = folded if len(folded) == 1 else char
        else:
            result = char  # ASCII is already normal (the map may still name "\r" and the like)
        self[code] = result
        return result


@dataclass(frozen=True)
class _Rules:
    table: FoldTable
    # one character that a rule may change: outside the unchanged class, or named by the map
    # (stdlib ``re``: it scans a negated class about twice as fast as ``regex``)
    changeable: re.Pattern[str]
    artefacts: list[tuple[str, regex.Pattern[str]]]


@functools.lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = load_yaml("normalize.yaml")
    require(data, "map", where="normalize.yaml")
    table = FoldTable()
    for src, dst in data["map"].items():
        if len(src) != 1 or len(dst) != 1:
            raise ValueError(f"normalize.yaml: rule {src!r}->{dst!r} must map one char to one char")
        table[ord(src)] = dst
    # a map rule on a character of the ranges (say "`" -> "'") must still be found
    named = "".join(re.escape(src) for src in data["map"]
                    if re.fullmatch(f"[{_UNCHANGED_RANGES}]", src))
    punctuation = "".join(c for c in _UNCHANGED_PUNCTUATION if c not in data["map"])
    unchanged = _UNCHANGED_RANGES + re.escape(punctuation)
    changeable = f"[^{unchanged}]" + (f"|[{named}]" if named else "")
    artefacts = [(a["id"], compile_verbose(a["regex"], f"normalize.yaml:{a['id']}"))
                 for a in data.get("artefacts", [])]
    return _Rules(table, re.compile(changeable), artefacts)


def fold(text: str) -> str:
    """``text`` with every character replaced as the rules say (no artefacts blanked); the same
    as ``text.translate(table)``, but faster on Chinese text.

    >>> fold("３４０２.０７万元（一）％\\r\\n")
    '3402.07万元(一)%\\n\\n'
    >>> fold("︱")  # NFKC gives an em dash, which is not replaced again
    '—'
    """
    rules = _rules()
    changes: dict[str, str] = {}
    for char in set(rules.changeable.findall(text)):
        target = rules.table[ord(char)]
        if target != char:
            changes[char] = target
    if any(target in changes for target in changes.values()):
        # a target that is itself replaced here (︱ -> — beside — -> -) must not be replaced
        # twice, as replacing one character after another would: one translate pass instead
        return text.translate(rules.table)
    for char, target in changes.items():
        text = text.replace(char, target)
    return text


def _blank(match: regex.Match[str]) -> str:
    """As many spaces as the artefact is long, so offsets after it do not move."""
    return " " * (match.end() - match.start())


def normalize(text: str) -> str:
    """Return the analysis twin of ``text``: same length, full-width folded, artefacts blanked.

    >>> normalize("３４０２.０７万元（一）％")
    '3402.07万元(一)%'
    >>> normalize("[bookmark: _GoBack]三是")
    '                   三是'
    """
    out = fold(text)
    for _rule_id, pattern in _rules().artefacts:
        # most reports have no artefact, and a search costs less than a sub
        if pattern.search(out):
            out = pattern.sub(_blank, out)
    assert len(out) == len(text)
    return out
