"""Char-for-char normalisation of the analysis text (rules in ``patterns/normalize.yaml``).

Because every rule replaces one character by one character, the normalised text has the same
length as the source and shares its offsets: no offset map is needed.
"""
from __future__ import annotations

import functools
import unicodedata

import regex

from pipeline.patterns import compile_verbose, load_yaml, require


@functools.lru_cache(maxsize=1)
def _rules() -> tuple[dict[int, str], list[tuple[str, regex.Pattern[str]]]]:
    data = load_yaml("normalize.yaml")
    require(data, "map", where="normalize.yaml")
    table: dict[int, str] = {}
    for src, dst in data["map"].items():
        if len(src) != 1 or len(dst) != 1:
            raise ValueError(f"normalize.yaml: rule {src!r}->{dst!r} must map one char to one char")
        table[ord(src)] = dst
    artefacts = [(a["id"], compile_verbose(a["regex"], f"normalize.yaml:{a['id']}"))
                 for a in data.get("artefacts", [])]
    return table, artefacts


@functools.lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def normalize(text: str) -> str:
    """Return the analysis twin of ``text``: same length, full-width folded, artefacts blanked.

    >>> normalize("３４０２.０７万元（一）％")
    '3402.07万元(一)%'
    >>> normalize("[bookmark: _GoBack]三是")
    '                   三是'
    """
    table, artefacts = _rules()
    out = "".join(table.get(ord(c)) or (_fold(c) if ord(c) > 0x7F else c) for c in text)
    for _rule_id, pattern in artefacts:
        out = pattern.sub(lambda m: " " * len(m.group(0)), out)
    assert len(out) == len(text)
    return out
