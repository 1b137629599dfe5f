"""Normalisation of the analysis text (pipeline/normalize.py): what each rule does to real report
text, that the twin keeps the source's length (offsets are shared), and that the fast path (only
the few changeable characters of a text are looked up and replaced) gives exactly what one
``str.translate`` pass over the rule table gives, for every character."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.normalize import _UNCHANGED_PUNCTUATION, FoldTable, _rules, fold, normalize
from tests.conftest import SAMPLE_DOCS, SEEDS

# (source text, analysis twin): lines of the vendored seeds and samples, and what they become.
SEED_LINES = [
    ("实际规模（㎡）", "实际规模(㎡)"),              # （） fold; ㎡ -> "m2" is not 1:1 and stays
    ("89.1万元，1—12月预算执行总", "89.1万元,1-12月预算执行总"),   # ， by NFKC, — by the map
    ("\t长铺镇人民政府\u3000", "\t长铺镇人民政府 "),   # ideographic space by the map
    ("[bookmark: _GoBack]三是评价结果应用", " " * 19 + "三是评价结果应用"),  # artefact blanked
    ("2. [bookmark: _GoBack]政务信息公开率（", "2. " + " " * 19 + "政务信息公开率("),
]
# What the rules are for, in figures as portals print them.
RULES = [
    ("３４０２．０７万元", "3402.07万元"),          # full-width digits, full-width full stop (map)
    ("执行率９８．５％", "执行率98.5%"),
    ("①资金到位率", "1资金到位率"),                 # a circled digit is one character under NFKC
    ("㈠基本情况", "㈠基本情况"),                    # NFKC gives "(一)": three characters, kept
    ("ﬁnance", "ﬁnance"),                           # the ligature's NFKC is "fi": kept
    ("800～1000元", "800~1000元"),
    ("第一行\r\n第二行", "第一行\n\n第二行"),        # \r is a line break of its own
    ("。、“”《》【】…·", "。、“”《》【】…·"),       # Chinese punctuation NFKC leaves alone
    ("&NULL&项目", "      项目"),                    # a LibreOffice artefact
    ("︱—", "—-"),  # NFKC makes ︱ an em dash, which is not replaced again; the real — is
]


@pytest.mark.parametrize(("source", "expected"), SEED_LINES + RULES)
def test_normalize_example(source: str, expected: str) -> None:
    assert normalize(source) == expected
    assert len(normalize(source)) == len(source)


def test_seed_lines_are_real() -> None:
    texts = [p.read_text(encoding="utf-8") for p in [*SEEDS.glob("*.txt"), *SAMPLE_DOCS.glob("*")]]
    for source, _ in SEED_LINES:
        assert any(source in text for text in texts), source


def _one_pass(text: str) -> str:
    """The definition: every character replaced by its table entry, in one pass."""
    return text.translate(_rules().table)


def test_fast_path_equals_one_pass_on_every_bmp_character() -> None:
    bmp = "".join(chr(c) for c in range(0x10000))
    for i in range(0, len(bmp), 4096):
        chunk = bmp[i:i + 4096]
        assert fold(chunk) == _one_pass(chunk)


def test_fast_path_equals_one_pass_on_the_reports() -> None:
    for path in [*SEEDS.glob("*.txt"), *SAMPLE_DOCS.glob("*")]:
        text = path.read_text(encoding="utf-8")
        assert fold(text) == _one_pass(text), path.name


def test_characters_assumed_unchanged_are_unchanged() -> None:
    # the fast path never looks at them: it relies on NFKC leaving them alone
    for code in range(0x4E00, 0xA000):
        assert unicodedata.normalize("NFKC", chr(code)) == chr(code)
    for char in _UNCHANGED_PUNCTUATION:
        folded = unicodedata.normalize("NFKC", char)
        assert folded == char or len(folded) != 1, char


def test_fold_table_resolves_and_remembers() -> None:
    table = FoldTable({ord("—"): "-"})
    assert "—（５）㎡ab".translate(table) == "-(5)㎡ab"
    assert table[ord("（")] == "(" and table[ord("㎡")] == "㎡" and table[ord("a")] == "a"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("０９（）％．—–︱﹘～\u3000\u00a0\r\n\t 一二万元"
                                              "[bookmark: _GoBack]&NULL㎡①")), max_size=60)
       | st.text(max_size=60))
def test_same_length_and_same_as_one_pass(text: str) -> None:
    assert len(normalize(text)) == len(text)
    assert fold(text) == _one_pass(text)
