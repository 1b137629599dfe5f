"""Percentages (百分比): every figure with ``%`` or written ``百分之…``, its value in percent and label.

One pure entry point, :func:`extract_percentages`. The regexes are data in
``patterns/percent.yaml`` (the values of Chinese numerals are those of ``patterns/money.yaml``);
each rule has an id (``percent.arabic``, ``percent.baifenzhi`` …) kept in the record's ``rule``.

Matching runs on ``doc.norm``, where ``％`` and ``﹪`` are already ``%``; spans slice the source.
The span is the figure only: operators are left out (``超93%`` → ``93%``, ``95%以上`` → ``95%``,
``百分之九十以上`` → ``百分之九十``). Per-mille (``‰``) and percentage points (``个百分点``) are not
percentages.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

from extractors.amounts import (Rule, anchor_windows, arabic_value, compile_rules, first_longest,
                                grouped_number_start, has_minus_sign, numerals, scan, to_float,
                                word_list_of)
from extractors.labels import label_before
from pipeline.document import Document, Percentage
from pipeline.patterns import alternation, load_yaml, require

_PERCENT = "percent.yaml"
_ASCII_DIGITS = "0123456789"


@dataclass(frozen=True)
class _PercentPatterns:
    rules: tuple[Rule, ...]
    anchor: regex.Pattern[str]       # what every match contains: % or 百分之
    figure_chars: frozenset[str]     # what the figure before a % is written with


@functools.lru_cache(maxsize=1)
def _patterns() -> _PercentPatterns:
    data = load_yaml(_PERCENT)
    require(data, "pieces", where=_PERCENT)
    anchors = word_list_of(data, "anchors", _PERCENT)
    range_words = word_list_of(data, "range_words", _PERCENT)
    pieces = {str(k): str(v) for k, v in data["pieces"].items()}
    pieces.update(numerals().pieces())
    pieces["range_word"] = alternation(range_words, f"{_PERCENT}:range_words")
    return _PercentPatterns(
        rules=compile_rules(data, pieces, _PERCENT),
        anchor=regex.compile(alternation(anchors, f"{_PERCENT}:anchors")),
        figure_chars=frozenset(_ASCII_DIGITS + ",. ").union(*range_words))


def extract_percentages(doc: Document) -> list[Percentage]:
    """Every percentage in the document text, in text order.

    >>> from pipeline.ingest import document_from_text
    >>> doc = document_from_text("预算执行率达98.5%，就地处置的占百分之九十以上。", "x.txt")
    >>> [(p.text, p.value, p.label, p.rule) for p in extract_percentages(doc)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('98.5%', 98.5, '预算执行率', 'percent.arabic'),
     ('百分之九十', 90.0, None, 'percent.baifenzhi')]
    """
    patterns = _patterns()
    windows = anchor_windows(doc.norm, patterns.anchor, patterns.figure_chars)
    candidates = []
    for order, rule, match in scan(patterns.rules, doc.norm, windows):
        percentage = _percentage(doc, rule, match)
        if percentage is not None:
            candidates.append((percentage.start, percentage.end, order, percentage))
    percentages = [c[3] for c in first_longest(candidates)]
    for percentage in percentages:
        percentage.label = label_before(doc.norm, percentage.start)
    return percentages


def _percentage(doc: Document, rule: Rule, match: regex.Match[str]) -> Percentage | None:
    """The record for one regex match, or None when its number cannot be read."""
    start, end = match.span()
    number_start, number_end = match.span("number")
    if doc.norm[number_start] in _ASCII_DIGITS:
        fixed = grouped_number_start(doc, number_start, number_end)
        if start == number_start:
            start = fixed  # the figure itself starts the match: 95，100% is 100%
        elif fixed != number_start:
            return None  # 百分之 followed by a figure that is really two figures
        value = arabic_value(doc.norm[fixed:number_end])
        if start == fixed and not rule.number_only and value is not None \
                and has_minus_sign(doc.norm, start):
            start, value = start - 1, -value  # 同比增长-3.5%: the sign is part of the figure
    else:
        value = numerals().parse(doc.norm[number_start:number_end])
    percent = to_float(value) if value is not None else None
    if percent is None:
        return None
    if rule.number_only:
        end = number_end  # 5 in 5-10%: the number only; it takes the % of the second end
    return Percentage(start=start, end=end, text=doc.text[start:end], value=percent,
                      rule=rule.rule_id)
