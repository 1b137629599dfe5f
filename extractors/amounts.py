"""Money expressions (金额): every figure with a money unit, its value in yuan, unit and label.

One pure entry point, :func:`extract_amounts`. The units, the measure words that make a bare
``万`` a count, the Chinese numerals and the regexes are data in ``patterns/money.yaml``; each rule
there has an id (``money.arabic``, ``money.range_first`` …) that every record keeps in ``rule``.

Matching runs on ``doc.norm`` (full-width digits and punctuation folded, same offsets as
``doc.text``), so every span slices the source: ``doc.text[a.start:a.end] == a.text``.

What counts as money (see the example tables in ``tests/test_amounts.py``):

* a figure with 元/千元/万元/亿元 in Arabic or Chinese numerals (``3402.07万元``, ``三千五百万元``);
* a bare ``万``/``亿`` when the clause names money and no measure word follows (``资金66万``;
  not ``3.5万余条``, ``1.6万平方米``);
* each end of a range (``800-1000元`` → ``800`` and ``1000元``, the first taking the second's unit).

Values are computed in decimal arithmetic and converted to float once, so ``3402.07万元`` is
exactly ``34020700.0``.

This module also holds the helpers the percentage extractor shares: Chinese numerals, rule
compilation, the windows the rules run on, and overlap resolution.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import regex

from extractors.labels import head_word, label_before
from pipeline.document import Amount, Document
from pipeline.patterns import PatternError, alternation, compile_verbose, load_yaml, require

_MONEY = "money.yaml"
_PIECE = regex.compile(r"\{([a-z_]+)\}")
_ASCII_DIGITS = "0123456789"

# The rules only run on short windows around the characters every match must contain (元/万/亿
# for money, % and 百分之 for percentages), starting where the run of characters a figure is
# written with begins: with the `regex` module, trying the rules at every digit of a report is
# several times slower than the rest of the extraction. A figure may start at most WINDOW_BEFORE
# characters before its anchor; the rules' look-aheads (a measure word after 万, 元旦 after 元,
# the numeral after 百分之) need at most WINDOW_AFTER characters after it.
WINDOW_BEFORE = 40
WINDOW_AFTER = 12


# --------------------------------------------------------------------------------------------
# Shared helpers (also used by extractors/percentages.py)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChineseNumerals:
    """The values of Chinese numeral characters, read from ``patterns/money.yaml``."""

    digits: Mapping[str, int]
    multipliers: Mapping[str, int]
    sections: Mapping[str, int]
    point: str

    @property
    def chars(self) -> frozenset[str]:
        """Every character a Chinese numeral is written with."""
        return frozenset([*self.digits, *self.multipliers, *self.sections, self.point])

    def pieces(self) -> dict[str, str]:
        """Regex character classes of the numeral characters, as pieces the rules may use."""
        def char_class(chars: Iterable[str]) -> str:
            return "[" + "".join(regex.escape(c) for c in sorted(chars)) + "]"

        return {"chinese_digit": char_class(self.digits),
                "chinese_multiplier": char_class(self.multipliers),
                "chinese_section": char_class(self.sections),
                "chinese_point": char_class(self.point),
                "chinese_char": char_class(self.chars)}

    def parse(self, numeral: str) -> Decimal | None:
        """The value of a Chinese numeral, or None when it is not one.

        >>> numerals().parse("十二亿三千万"), numerals().parse("九十五点五")
        (Decimal('1230000000'), Decimal('95.5'))
        """
        whole, _, fraction = numeral.partition(self.point)
        if not whole or any(c not in self.digits for c in fraction):
            return None
        value = self._parse_whole(whole)
        if value is None:
            return None
        if fraction:
            return Decimal(f"{value}.{''.join(str(self.digits[c]) for c in fraction)}")
        return Decimal(value)

    def _parse_whole(self, whole: str) -> int | None:
        if all(c in self.digits for c in whole):
            # Digit by digit (二〇二四 → 2024): no multipliers, so place value is positional.
            return int("".join(str(self.digits[c]) for c in whole))
        total = section = number = 0
        for c in whole:
            if c in self.digits:
                number = self.digits[c]
            elif c in self.multipliers:
                # 十五 = 15: a multiplier with no digit before it counts one of itself.
                section += (number or 1) * self.multipliers[c]
                number = 0
            elif c in self.sections:
                unit = self.sections[c]
                if unit >= max(self.sections.values()):
                    # 亿 scales everything before it (一万亿 = 10^12).
                    total = (total + section + number) * unit
                else:
                    # 万 scales its own section only (十二亿三千万 = 12亿 + 3000万).
                    total += (section + number) * unit
                section = number = 0
            else:
                return None
        return total + section + number


@functools.lru_cache(maxsize=1)
def numerals() -> ChineseNumerals:
    """The Chinese numeral table of ``patterns/money.yaml`` (loaded once)."""
    data = load_yaml(_MONEY)
    require(data, "chinese_digits", "chinese_multipliers", "chinese_sections", "chinese_point",
            where=_MONEY)
    tables = {key: _int_table(data, key) for key in
              ("chinese_digits", "chinese_multipliers", "chinese_sections")}
    point = str(data["chinese_point"])
    if len(point) != 1:
        raise PatternError(f"{_MONEY}: chinese_point must be one character")
    return ChineseNumerals(tables["chinese_digits"], tables["chinese_multipliers"],
                           tables["chinese_sections"], point)


def _int_table(data: dict[str, Any], key: str) -> dict[str, int]:
    table = data[key]
    if not isinstance(table, dict) or not all(
            isinstance(k, str) and len(k) == 1 and isinstance(v, int) for k, v in table.items()):
        raise PatternError(f"{_MONEY}: {key!r} must map single characters to integers")
    return dict(table)


def decimal_table(data: dict[str, Any], key: str, where: str) -> dict[str, Decimal]:
    """A ``word: number`` mapping from a pattern file, as Decimals (units and their multipliers)."""
    require(data, key, where=where)
    table = data[key]
    if not isinstance(table, dict):
        raise PatternError(f"{where}: {key!r} must be a mapping of word to number")
    out = {}
    for word, number in table.items():
        if not isinstance(word, str) or not word or not isinstance(number, (int, float)):
            raise PatternError(f"{where}: {key!r}: bad entry {word!r}: {number!r}")
        out[word] = Decimal(str(number))
    return out


def word_list_of(data: dict[str, Any], key: str, where: str) -> list[str]:
    """A non-empty list of words from a pattern file."""
    require(data, key, where=where)
    words = data[key]
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise PatternError(f"{where}: {key!r} must be a list of non-empty words")
    return list(words)


def expand_pieces(pattern: str, pieces: Mapping[str, str], where: str) -> str:
    """Replace each ``{name}`` in a regex by the named piece (pieces may use pieces), each as a
    non-capturing group.

    >>> expand_pieces("{arabic}%", {"arabic": "[0-9]+"}, "test")
    '(?:[0-9]+\\n)%'
    """
    def piece(match: regex.Match[str]) -> str:
        name = match.group(1)
        if name not in pieces:
            raise PatternError(f"{where}: unknown piece {{{name}}}")
        # The piece may end with a comment: close the group on a line of its own.
        return "(?:" + pieces[name].rstrip("\n") + "\n)"

    for _depth in range(5):
        if not _PIECE.search(pattern):
            return pattern
        pattern = _PIECE.sub(piece, pattern)
    raise PatternError(f"{where}: pieces nested too deeply (a piece that uses itself?)")


@dataclass(frozen=True)
class Rule:
    """One rule of a pattern file: its id, its compiled regex, and whether a record spans the
    whole match or only its number (``span: number``, the first end of a range: 800 of
    800-1000元)."""

    rule_id: str
    pattern: regex.Pattern[str]
    number_only: bool = False


def compile_rules(data: dict[str, Any], pieces: Mapping[str, str], where: str) -> tuple[Rule, ...]:
    """Compile the ``rules`` list of a pattern file (each ``{id, regex}``), pieces expanded."""
    require(data, "rules", where=where)
    rules = []
    for entry in data["rules"]:
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("regex"):
            raise PatternError(f"{where}: each rule needs an id and a regex, got {entry!r}")
        rule_where = f"{where}:{entry['id']}"
        pattern = compile_verbose(expand_pieces(str(entry["regex"]), pieces, rule_where), rule_where)
        if "number" not in pattern.groupindex:
            raise PatternError(f"{rule_where}: the regex needs a (?P<number>…) group")
        span = entry.get("span", "match")
        if span not in ("match", "number"):
            raise PatternError(f"{rule_where}: span must be 'match' or 'number', got {span!r}")
        rules.append(Rule(str(entry["id"]), pattern, number_only=span == "number"))
    return tuple(rules)


def anchor_windows(text: str, anchor: regex.Pattern[str],
                   figure_chars: frozenset[str]) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` windows of ``text`` the rules run on: from where the run of
    ``figure_chars`` before each ``anchor`` match begins (at most WINDOW_BEFORE back) to
    WINDOW_AFTER characters after it.

    >>> anchor_windows("共计800-1000元。" + "x" * 50, regex.compile("元"), frozenset("0123456789-"))
    [(2, 23)]
    """
    windows: list[tuple[int, int]] = []
    for match in anchor.finditer(text):
        lo = match.start()
        limit = max(0, lo - WINDOW_BEFORE)
        while lo > limit and text[lo - 1] in figure_chars:
            lo -= 1
        hi = min(len(text), match.end() + WINDOW_AFTER)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (min(lo, windows[-1][0]), hi)
        else:
            windows.append((lo, hi))
    return windows


def scan(rules: tuple[Rule, ...], text: str,
         windows: list[tuple[int, int]]) -> Iterable[tuple[int, Rule, regex.Match[str]]]:
    """Every match of every rule inside the windows, with the rule's order."""
    for lo, hi in windows:
        for order, rule in enumerate(rules):
            for match in rule.pattern.finditer(text, lo, hi):
                yield order, rule, match


def first_longest(candidates: Iterable[tuple[int, int, int, Any]]) -> list[tuple[int, int, int, Any]]:
    """Resolve overlapping matches ``(start, end, rule_order, payload)``: scanning left to right,
    the longer match wins, then the earlier rule.

    >>> [c[3] for c in first_longest([(0, 3, 1, "66万"), (0, 4, 0, "66万元"), (5, 8, 0, "x")])]
    ['66万元', 'x']
    """
    kept: list[tuple[int, int, int, Any]] = []
    last_end = -1
    for cand in sorted(candidates, key=lambda c: (c[0], c[0] - c[1], c[2])):
        if cand[0] >= last_end:
            kept.append(cand)
            last_end = cand[1]
    return kept


def grouped_number_start(doc: Document, start: int, end: int) -> int:
    """Where an Arabic figure with commas really starts: after every comma that is not a
    thousands separator.

    A comma separates thousands only after a first group of 1-3 digits (``73,387.27``; in
    ``2024,300万元`` the figure is ``300万元``), and only if it was an ASCII comma or sat between
    full-width digits in the source: ``项目3个，300万元`` normalises to ``3,300万元`` but the
    Chinese comma is punctuation.
    """
    first = True
    for i in range(start, end):
        if doc.norm[i] != ",":
            continue
        if first and i - start > 3:
            start = i + 1
        elif doc.text[i] != "," and doc.text[i - 1] in _ASCII_DIGITS:
            start = i + 1
        first = False
    return start


def arabic_value(text: str) -> Decimal | None:
    """The value of an Arabic figure as printed (thousands separators and a space after the
    decimal point dropped), or None.

    >>> arabic_value("1,690,235.03"), arabic_value("35. 3")
    (Decimal('1690235.03'), Decimal('35.3'))
    """
    try:
        return Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        return None


def to_float(value: Decimal) -> float | None:
    """A Decimal as float, or None when it is not finite (a runaway string of digits)."""
    try:
        result = float(value)
    except (OverflowError, InvalidOperation, ValueError):
        return None
    return result if math.isfinite(result) else None


# --------------------------------------------------------------------------------------------
# Money patterns
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _MoneyPatterns:
    rules: tuple[Rule, ...]
    anchor: regex.Pattern[str]          # the last character of every unit: 元 / 万 / 亿
    figure_chars: frozenset[str]        # what a figure and its unit are written with
    units: dict[str, Decimal]           # printed unit → yuan (元, 万元, 亿元 …)
    bare_units: dict[str, Decimal]      # 万 / 亿 without 元
    money_cue: regex.Pattern[str]
    cue_window: int
    clause_ends: frozenset[str]
    chinese_not_after: tuple[str, ...]
    minus_signs: frozenset[str]
    minus_not_after: frozenset[str]

    def negative(self, norm: str, start: int) -> bool:
        """Whether the figure whose digits begin at ``start`` has a minus sign of its own.

        >>> p = _patterns()
        >>> p.negative("结余-5.2万元", 3), p.negative("800-1000元", 4), p.negative("\\n-5万元", 2)
        (True, False, False)
        """
        if start < 1 or norm[start - 1] not in self.minus_signs:
            return False
        return start >= 2 and norm[start - 2] not in self.minus_not_after


@functools.lru_cache(maxsize=1)
def _patterns() -> _MoneyPatterns:
    data = load_yaml(_MONEY)
    require(data, "pieces", "money_cue_window", "minus", where=_MONEY)
    units = decimal_table(data, "units", _MONEY)
    chinese_units = decimal_table(data, "chinese_units", _MONEY)
    bare_units = decimal_table(data, "bare_units", _MONEY)
    words = {key: word_list_of(data, key, _MONEY) for key in (
        "count_words", "approx_words", "not_after_unit", "range_words", "money_cues",
        "clause_ends", "chinese_not_after")}
    pieces = {str(k): str(v) for k, v in data["pieces"].items()}
    pieces.update(numerals().pieces())
    pieces.update({
        "unit": alternation(list(units), f"{_MONEY}:units"),
        "chinese_unit": alternation(list(chinese_units), f"{_MONEY}:chinese_units"),
        "bare_unit": alternation(list(bare_units), f"{_MONEY}:bare_units"),
        "count_word": alternation(words["count_words"], f"{_MONEY}:count_words"),
        "approx": alternation(words["approx_words"], f"{_MONEY}:approx_words"),
        "not_after_unit": alternation(words["not_after_unit"], f"{_MONEY}:not_after_unit"),
        "range_word": alternation(words["range_words"], f"{_MONEY}:range_words"),
    })
    all_units = [*units, *chinese_units, *bare_units]
    # Every money match ends with a unit, so it contains the unit's last character.
    unit_ends = sorted({unit[-1] for unit in all_units})
    figure_chars = frozenset(_ASCII_DIGITS + ",. ").union(
        numerals().chars, *all_units, *words["range_words"], *words["approx_words"])
    return _MoneyPatterns(
        rules=compile_rules(data, pieces, _MONEY),
        anchor=regex.compile(alternation(unit_ends, f"{_MONEY}:units")),
        figure_chars=figure_chars, units=units, bare_units=bare_units,
        money_cue=regex.compile(alternation(words["money_cues"], f"{_MONEY}:money_cues")),
        cue_window=int(data["money_cue_window"]), clause_ends=frozenset(words["clause_ends"]),
        chinese_not_after=tuple(words["chinese_not_after"]),
        minus_signs=frozenset(data["minus"]["signs"]),
        minus_not_after=frozenset(data["minus"]["not_after"]))


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------

def extract_amounts(doc: Document) -> list[Amount]:
    """Every money expression in the document text, in text order.

    >>> from pipeline.ingest import document_from_text
    >>> doc = document_from_text("其中：基本支出2207.79万元，每户800-1000元。", "x.txt")
    >>> [(a.text, a.value_yuan, a.unit, a.label, a.rule) for a in extract_amounts(doc)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('2207.79万元', 22077900.0, '万元', '基本支出', 'money.arabic'),
     ('800', 800.0, '元', None, 'money.range_first'),
     ('1000元', 1000.0, '元', None, 'money.arabic')]
    """
    patterns = _patterns()
    windows = anchor_windows(doc.norm, patterns.anchor, patterns.figure_chars)
    candidates = []
    for order, rule, match in scan(patterns.rules, doc.norm, windows):
        amount = _amount(doc, rule, match, patterns)
        if amount is not None:
            candidates.append((amount.start, amount.end, order, amount))
    amounts = [c[3] for c in first_longest(candidates)]
    for amount in amounts:
        amount.label = label_before(doc.norm, amount.start)
    return amounts


def _amount(doc: Document, rule: Rule, match: regex.Match[str],
            patterns: _MoneyPatterns) -> Amount | None:
    """The record for one regex match, or None when the match is not money after all."""
    start, number_end = match.span("number")
    unit = match.group("unit")
    sign = 1
    if doc.norm[start] in _ASCII_DIGITS:
        start = grouped_number_start(doc, start, number_end)
        number = arabic_value(doc.norm[start:number_end])
        multiplier = patterns.units.get(unit) or patterns.bare_units.get(unit)
        value = number * multiplier if number is not None and multiplier is not None else None
        if not rule.number_only and patterns.negative(doc.norm, start):
            start, sign = start - 1, -1  # the sign is part of what was read
    else:
        if any(doc.norm.endswith(w, 0, start) for w in patterns.chinese_not_after):
            return None  # 数十万元, 第一元…: not a figure
        # The 万/亿 of the unit belong to the numeral: 十二亿三千 + 万元 is 十二亿三千万 yuan,
        # not (十二亿三千) × 10000.
        value = numerals().parse(doc.norm[start:number_end] + _numeral_part(unit))
    if value is None:
        return None
    if unit in patterns.bare_units and not _names_money(doc.norm, start, patterns):
        return None  # 常住人口2.3万: a bare 万 whose label names no money is a count
    yuan = to_float(value)
    if yuan is None:
        return None
    yuan *= sign
    # A range's first end (800 in 800-1000元) spans only its number, and takes the unit of the
    # second end (captured in the rule's look-ahead).
    end = number_end if rule.number_only else match.end()
    unit_start, unit_end = match.span("unit")
    return Amount(start=start, end=end, text=doc.text[start:end], value_yuan=yuan,
                  unit=doc.text[unit_start:unit_end], rule=rule.rule_id)


def has_minus_sign(norm: str, start: int) -> bool:
    """Whether the Arabic figure whose digits begin at ``start`` is negative: a minus sign of
    its own right before it (``minus`` in patterns/money.yaml; percentages use the same rule).

    >>> has_minus_sign("同比增长-3.5%", 5), has_minus_sign("5-10%", 2)
    (True, False)
    """
    return _patterns().negative(norm, start)


def _numeral_part(unit: str) -> str:
    """The numeral characters of a unit: 万 of 万元 and 余万元, nothing of 元."""
    table = numerals()
    return "".join(c for c in unit if c in table.sections or c in table.multipliers)


def _names_money(norm: str, start: int, patterns: _MoneyPatterns) -> bool:
    """Whether the figure at ``start`` is money by what is written before it: the head word of
    its label names money (生态环保资金66万, 一般公共预算：2023.37万), or a money verb stands
    right before it (共投入66万)."""
    label = label_before(norm, start)
    if label is not None and patterns.money_cue.search(head_word(label)):
        return True
    before = norm[max(0, start - patterns.cue_window):start]
    for i in range(len(before) - 1, -1, -1):
        if before[i] in patterns.clause_ends:
            before = before[i + 1:]
            break
    return patterns.money_cue.search(before) is not None
