"""Labels of figures: the thing an amount or a percentage measures, read from the words before it.

``label_before(norm, start)`` looks at a short window of the normalised text before a figure,
cuts it at the last punctuation mark, removes what is printed between a label and its figure
(达, 为, 共计, 约, a count such as ``1281人次``), segments the rest with jieba and keeps the run of
nouns that ends right before the figure::

    其中：基本支出2207.79万元        → 基本支出
    积极帮贫济困，发放低保救助金156万元 → 低保救助金
    预算执行率达98.5%              → 预算执行率

``head_word(label)`` is the last word of a label, its head noun (生态环保资金 → 资金): the amount
extractor asks it whether a bare ``万`` measures money.

Every word list is data in ``patterns/labels.yaml``; the domain dictionary that keeps fiscal terms
whole (基本支出, 财政拨款收入, 预算执行率 …) is ``patterns/jieba_userdict.txt``. jieba is loaded
lazily, once per process, into a tokenizer of our own (the global ``jieba.dt`` is left alone), and
only ever segments these short windows, never a whole report.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import regex

from pipeline.patterns import PatternError, compile_verbose, load_yaml, require, word_list

# The label is read from the run of Chinese characters that ends the phrase; digits, Latin
# letters and spaces end it (a label is a Chinese noun phrase in these reports).
_HAN_TAIL = regex.compile(r"\p{Han}+$")
_USERDICT = "jieba_userdict.txt"


@dataclass(frozen=True)
class _LabelRules:
    window: int
    max_chars: int
    min_chars: int
    boundaries: frozenset[str]
    colons: frozenset[str]
    trailing_figures: regex.Pattern[str]
    skip_words: frozenset[str]
    skip_tags: frozenset[str]
    label_tags: frozenset[str]
    change_words: frozenset[str]
    noun_suffixes: frozenset[str]
    stop_words: frozenset[str]


def _words(data: dict[str, Any], key: str) -> frozenset[str]:
    values = data[key]
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise PatternError(f"labels.yaml: {key!r} must be a list of non-empty words")
    return frozenset(values)


@functools.lru_cache(maxsize=1)
def _rules() -> _LabelRules:
    data = load_yaml("labels.yaml")
    keys = ("window", "max_chars", "min_chars", "boundaries", "colons", "trailing_figures",
            "skip_words", "skip_tags", "label_tags", "change_words", "noun_suffixes", "stop_words")
    require(data, *keys, where="labels.yaml")
    for key in ("window", "max_chars", "min_chars"):
        if not isinstance(data[key], int) or data[key] < 1:
            raise PatternError(f"labels.yaml: {key!r} must be a positive integer")
    return _LabelRules(
        window=data["window"], max_chars=data["max_chars"], min_chars=data["min_chars"],
        boundaries=_words(data, "boundaries"), colons=_words(data, "colons"),
        trailing_figures=compile_verbose(data["trailing_figures"], "labels.yaml:trailing_figures"),
        skip_words=_words(data, "skip_words"), skip_tags=_words(data, "skip_tags"),
        label_tags=_words(data, "label_tags"), change_words=_words(data, "change_words"),
        noun_suffixes=_words(data, "noun_suffixes"), stop_words=_words(data, "stop_words"))


@dataclass(frozen=True)
class _Segmenter:
    """A jieba tokenizer with the domain dictionary, and what the part-of-speech tags of its
    words say: which words are never part of a label, which are skipped before a figure.

    Only those two word sets are kept, not a table of every word's tag: the complement is the
    smaller set and saves some 30 MB.
    """

    tokenizer: Any
    log_total: float            # log of the dictionary's total word count (jieba's logtotal)
    not_label: frozenset[str]   # dictionary words whose tag is not one of label_tags
    skippable: frozenset[str]   # dictionary words whose tag is one of skip_tags

    def is_label_word(self, word: str) -> bool:
        """Whether a word is a dictionary word tagged as one of label_tags (a noun …)."""
        return bool(self.tokenizer.FREQ.get(word)) and word not in self.not_label

    def words(self, phrase: str) -> list[str]:
        """jieba's segmentation of a run of Chinese characters, without the HMM.

        The same result as ``tokenizer.cut(phrase, HMM=False)`` (a property test checks it):
        jieba's most probable route through the dictionary words of the phrase, computed here in
        one pass instead of jieba's word graph plus route, which is twice as slow on the short
        phrases labels come from. Without the HMM, unknown words fall apart into characters
        instead of being guessed, which is what the noun-suffix rule expects (参保 + 率).
        """
        freq = self.tokenizer.FREQ
        n = len(phrase)
        score = [0.0] * (n + 1)   # log probability of the best route through phrase[i:]
        word_end = [0] * n        # where the first word of that route ends
        for i in range(n - 1, -1, -1):
            best, best_end = -math.inf, i + 1
            found = False
            j, fragment = i + 1, phrase[i]
            while fragment in freq:  # jieba's dictionary also holds every word's prefixes
                count = freq[fragment]
                if count:
                    found = True
                    candidate = math.log(count) - self.log_total + score[j]
                    if candidate >= best:  # on a tie jieba keeps the longer word
                        best, best_end = candidate, j
                if j == n:
                    break
                j += 1
                fragment = phrase[i:j]
            if not found:  # a character jieba does not know is a word of its own
                best = math.log(freq.get(phrase[i]) or 1) - self.log_total + score[i + 1]
                best_end = i + 1
            score[i], word_end[i] = best, best_end
        words: list[str] = []
        i = 0
        while i < n:
            words.append(phrase[i:word_end[i]])
            i = word_end[i]
        return words


def _userdict_entries() -> list[tuple[str, int, str]]:
    entries = []
    for line in word_list(_USERDICT):
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isalpha():
            raise PatternError(f"{_USERDICT}: expected 'word freq tag', got {line!r}")
        entries.append((parts[0], int(parts[1]), parts[2]))
    return entries


@functools.lru_cache(maxsize=1)
def _segmenter() -> _Segmenter:
    import jieba  # imported here: loading jieba costs about a second, paid on first use only

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    rules = _rules()
    not_label: set[str] = set()
    skippable: set[str] = set()

    def tag_word(word: str, tag: str) -> None:
        if tag in rules.label_tags:
            not_label.discard(word)
        else:
            not_label.add(word)
        if tag in rules.skip_tags:
            skippable.add(word)
        else:
            skippable.discard(word)

    # jieba's dictionary lines are "word freq tag"; the tags are what jieba.posseg would use.
    with tokenizer.get_dict_file() as dict_file:
        for raw in dict_file:
            parts = raw.decode("utf-8").split()
            if len(parts) == 3:
                tag_word(parts[0], parts[2])
    for word, freq, tag in _userdict_entries():
        tokenizer.add_word(word, freq, tag)
        tag_word(word, tag)
    return _Segmenter(tokenizer, math.log(tokenizer.total), frozenset(not_label),
                      frozenset(skippable))


def label_before(norm: str, start: int) -> str | None:
    """The label of the figure starting at ``start`` in the normalised text, or None.

    >>> label_before("其中:基本支出2207.79万元", 7)
    '基本支出'
    """
    rules = _rules()
    if start <= 0:
        return None
    return _label_of_window(norm[max(0, start - rules.window):start])


def segment(phrase: str) -> list[str]:
    """jieba's words of a short phrase, with the domain dictionary (no HMM: unknown words fall
    apart into characters).

    >>> segment("辖区居民满意度")
    ['辖区', '居民', '满意度']
    """
    return _segmenter().words(phrase)


@functools.lru_cache(maxsize=4096)
def head_word(label: str) -> str:
    """The last word of a label: its head noun, which says what kind of thing is measured
    (Chinese noun phrases end with their head).

    >>> head_word("生态环保资金")
    '资金'
    """
    words = _segmenter().words(label)
    return words[-1] if words else label


@functools.lru_cache(maxsize=8192)
def _label_of_window(window: str) -> str | None:
    rules = _rules()
    window = rules.trailing_figures.sub("", window)
    cut = _last_boundary(window, rules)
    label = _label_of_phrase(window[cut + 1:])
    if label is None and cut >= 0 and window[cut] in rules.colons:
        # "1、收入:792.22万元": nothing between the colon and the figure, the label is before it.
        before = window[:cut]
        label = _label_of_phrase(before[_last_boundary(before, rules) + 1:])
    return label


def _last_boundary(text: str, rules: _LabelRules) -> int:
    for i in range(len(text) - 1, -1, -1):
        if text[i] in rules.boundaries or text[i] in rules.colons:
            return i
    return -1


def _label_of_phrase(phrase: str) -> str | None:
    tail = _HAN_TAIL.search(phrase.rstrip())
    # No label is longer than max_chars, plus room for a skip word or two after it: segmenting
    # more than that only costs time.
    return _label_of_words(tail.group()[-(_rules().max_chars + 3):]) if tail else None


@functools.lru_cache(maxsize=8192)
def _label_of_words(han: str) -> str | None:
    """The label ending a run of Chinese characters (预算执行率达 → 预算执行率), or None."""
    rules = _rules()
    seg = _segmenter()
    words = seg.words(han)
    # What stands between the label and the figure: 达, 为, 共计, 约, adverbs, particles.
    while words and (words[-1] in rules.skip_words or words[-1] in seg.skippable):
        words.pop()
    label: list[str] = []  # collected backwards, last word first
    for word in reversed(words):
        if word in rules.stop_words or word in rules.skip_words:
            break
        if seg.is_label_word(word) or word in rules.noun_suffixes:
            label.append(word)
        elif not label and word in rules.change_words:
            label.append(word)  # 较上年增加520.46万元: the figure is the change
        elif label and label[-1] in rules.noun_suffixes:
            label.append(word)  # 参保 + 率: a verb before a noun ending makes a noun
        else:
            break
    while label and sum(map(len, label)) > rules.max_chars:
        label.pop()  # too long: keep the words nearest the figure
    text = "".join(reversed(label))
    return text if len(text) >= rules.min_chars else None
