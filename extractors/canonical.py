"""Canonical indicators: the taxonomy id of an indicator's printed name.

The same indicator is printed as 群众满意度, 社会群众满意度 or 辖区群众满意度; an analyst comparing
townships needs one id for all three. The taxonomy (``patterns/indicator_taxonomy.yaml``) lists
each canonical indicator with its usual name and aliases. A printed name is

1. normalised (spaces, punctuation, bracketed asides and a trailing 指标 dropped, variants such as
   满意率 compared as 满意度)
   and looked up among the names and aliases: ``match_score`` 100;
2. else compared with rapidfuzz's ratio to every name and alias that ends with the same measure:
   the longest of the taxonomy's ``heads`` (满意度, 及时率, 执行率 …) it ends with, or else its last
   jieba word (with the word before it when that is a single character, 受害 + 率). The best one
   scoring at least the taxonomy's threshold is taken. Two indicators that measure different
   things (开工率 and 完工率, 森林受害率 and 森林受害面积) are never compared, and a name that is
   only a measure (满意度, 完成率) is never fuzzy-matched: it places nothing.

>>> match("辖区群众满意度").canonical_id, match("辖区群众满意度").match_score
('satisfaction_public', 100.0)
>>> m = match("辖区内群众满意度")
>>> m.canonical_id, m.canonical_name, m.match_score >= 75
('satisfaction_public', '群众满意度', True)
>>> match("及时完工率").canonical_id, match("森林受害面积").canonical_id
('timely_completion', 'forest_damage_area')
>>> match("航道疏浚里程") is None
True
"""
from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import regex

from pipeline.patterns import PatternError, load_yaml, require

TAXONOMY = "indicator_taxonomy.yaml"
_ID = regex.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Canonical:
    """A printed indicator name placed in the taxonomy."""

    canonical_id: str
    canonical_name: str
    canonical_group: str
    match_score: float      # 100 for a listed name or alias, else rapidfuzz's ratio to the closest


@dataclass(frozen=True)
class _Entry:
    canonical_id: str
    canonical_name: str
    canonical_group: str


@dataclass(frozen=True)
class _Rules:
    """How printed names are compared (the taxonomy's ``match`` block)."""

    threshold: float
    heads: tuple[str, ...]                   # longest first
    drop: regex.Pattern[str]
    asides: regex.Pattern[str]
    suffixes: tuple[str, ...]
    variants: tuple[tuple[str, str], ...]    # (printed, compared as)

    def key(self, name: str) -> str:
        """A printed name as the taxonomy compares it.

        >>> taxonomy().rules.key("项目（工程）验收合格率 ")
        '项目验收合格率'
        >>> taxonomy().rules.key("工资发放及时率率"), taxonomy().rules.key("群众满意度指标")
        ('工资发放及时率', '群众满意度')
        """
        text = self.asides.sub("", self.drop.sub("", unicodedata.normalize("NFKC", name)))
        for printed, compared in self.variants:
            text = text.replace(printed, compared)
        for suffix in self.suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
        return text

    def head(self, key: str) -> str:
        """The measure a normalised name ends with.

        >>> [taxonomy().rules.head(k) for k in ("辖区居民满意度", "森林受害率", "水标尺宽度")]
        ['满意度', '受害率', '宽度']
        """
        for head in self.heads:
            if key.endswith(head):
                return head
        from extractors.labels import segment

        words = segment(key) or [key]
        if len(words[-1]) == 1 and len(words) > 1:
            return words[-2] + words[-1]
        return words[-1]


@dataclass(frozen=True)
class Taxonomy:
    rules: _Rules
    entries: tuple[_Entry, ...]
    by_key: dict[str, _Entry]                       # normalised name or alias -> its indicator
    by_head: dict[str, tuple[tuple[str, ...], tuple[_Entry, ...]]]  # head -> keys, their entries

    @property
    def threshold(self) -> float:
        return self.rules.threshold


def _entries(data: dict) -> list[tuple[_Entry, list[str]]]:
    out = []
    for group in data["groups"]:
        require(group, "group", "indicators", where=f"{TAXONOMY}: a group")
        for item in group["indicators"]:
            require(item, "id", "name", where=f"{TAXONOMY}: an indicator of {group['group']}")
            if not _ID.fullmatch(item["id"]):
                raise PatternError(f"{TAXONOMY}: id {item['id']!r} must be lower case letters, "
                                   "digits and _ (it is a column name of indicator_matrix)")
            aliases = item.get("aliases") or []
            if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
                raise PatternError(f"{TAXONOMY}: aliases of {item['id']} must be a list of names")
            out.append((_Entry(item["id"], item["name"], group["group"]), [item["name"], *aliases]))
    return out


@functools.lru_cache(maxsize=1)
def canonical_entries() -> tuple[_Entry, ...]:
    """The taxonomy's indicators in file order (the columns of indicator_matrix), read without
    building the matcher, whose name keys need jieba's dictionary."""
    return tuple(entry for entry, _ in _entries(load_yaml(TAXONOMY)))


@functools.lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    """The taxonomy, loaded and checked once per process."""
    data = load_yaml(TAXONOMY)
    require(data, "match", "groups", where=TAXONOMY)
    rules = data["match"]
    require(rules, "threshold", "normalize", "heads", where=f"{TAXONOMY}: match")
    norm = rules["normalize"]
    match_rules = _Rules(threshold=float(rules["threshold"]),
                         heads=tuple(sorted(set(rules["heads"]), key=lambda h: (-len(h), h))),
                         drop=regex.compile(norm["drop"]), asides=regex.compile(norm["asides"]),
                         suffixes=tuple(norm.get("suffixes") or ()),
                         variants=tuple((norm.get("variants") or {}).items()))
    by_key: dict[str, _Entry] = {}
    by_head: dict[str, list[tuple[str, _Entry]]] = {}
    ids: set[str] = set()
    entries = _entries(data)
    for entry, names in entries:
        if entry.canonical_id in ids:
            raise PatternError(f"{TAXONOMY}: id {entry.canonical_id!r} is listed twice")
        ids.add(entry.canonical_id)
        for name in names:
            key = match_rules.key(name)
            other = by_key.get(key)
            if other is not None and other != entry:
                raise PatternError(f"{TAXONOMY}: {name!r} is listed under both "
                                   f"{other.canonical_id} and {entry.canonical_id}")
            by_key[key] = entry
            by_head.setdefault(match_rules.head(key), []).append((key, entry))
    return Taxonomy(rules=match_rules, entries=tuple(e for e, _ in entries), by_key=by_key,
                    by_head={h: (tuple(k for k, _ in pairs), tuple(e for _, e in pairs))
                             for h, pairs in by_head.items()})


def nearest(name: str) -> tuple[_Entry, float] | None:
    """The closest indicator of the same measure and its score, whatever the threshold (what
    ``jixiao indicators --unmatched`` suggests), or None when no listed name shares the measure."""
    from rapidfuzz import fuzz, process

    tax = taxonomy()
    key = tax.rules.key(name)
    if not key:
        return None
    entry = tax.by_key.get(key)
    if entry is not None:
        return entry, 100.0
    head = tax.rules.head(key)
    if key == head or head not in tax.by_head:
        return None
    keys, entries = tax.by_head[head]
    best = process.extractOne(key, keys, scorer=fuzz.ratio)
    return entries[best[2]], round(float(best[1]), 1)


CANONICAL_COLUMNS = ("canonical_id", "canonical_name", "canonical_group", "match_score")
_UNMATCHED = dict.fromkeys(CANONICAL_COLUMNS)


def canonical_columns(name: str | None) -> dict[str, object]:
    """The ``indicators`` columns of a printed name: its canonical id, name, group and match
    score, all null when it matches nothing.

    >>> canonical_columns("社会群众满意度")["canonical_id"], canonical_columns("xyz")["match_score"]
    ('satisfaction_public', None)
    """
    found = match(name)
    return _UNMATCHED if found is None else dict(vars(found))


@functools.lru_cache(maxsize=4096)
def match(name: str | None) -> Canonical | None:
    """The canonical indicator of a printed name, or None when the taxonomy has no close one."""
    if not name:
        return None
    found = nearest(name)
    if found is None or found[1] < taxonomy().threshold:
        return None
    entry, score = found
    return Canonical(entry.canonical_id, entry.canonical_name, entry.canonical_group, score)
