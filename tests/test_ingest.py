"""Reading report bytes: encodings detected (not assumed), artefacts blanked without moving offsets,
and bad input refused with a message a person can act on."""
from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.ingest import (BinaryFileError, EmptyFileError, UnknownEncodingError,
                             UnsupportedFormatError, decode, document_from_text, read_document)
from pipeline.normalize import normalize
from pipeline.readers import ReaderError

TEXT = "重庆市璧山区广普镇人民政府\n一、基本情况\n收入合计3402.07万元，占100%。\n"


@dataclass
class EncodingExample:
    name: str
    data: bytes
    encoding: str


ENCODINGS = [
    EncodingExample("utf-8", TEXT.encode("utf-8"), "utf-8"),
    EncodingExample("utf-8 with BOM", codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    EncodingExample("gb18030", TEXT.encode("gb18030"), "gb18030"),
    EncodingExample("gbk", TEXT.encode("gbk"), "gb18030"),
    EncodingExample("utf-16 with BOM", TEXT.encode("utf-16"), "utf-16"),
    EncodingExample("utf-16-le without BOM", TEXT.encode("utf-16-le"), "utf-16-le"),
    EncodingExample("utf-16-be without BOM", TEXT.encode("utf-16-be"), "utf-16-be"),
]


@pytest.mark.parametrize("example", ENCODINGS, ids=lambda e: e.name)
def test_encodings_are_detected(example: EncodingExample) -> None:
    text, encoding = decode(example.data)
    assert text == TEXT
    assert encoding == example.encoding


def test_long_gbk_report_is_not_mistaken(seed_paths: list[Path]) -> None:
    original = seed_paths[0].read_text(encoding="utf-8")
    text, encoding = decode(original.encode("gbk", errors="ignore"))
    assert encoding == "gb18030"
    assert text[:20] == original.encode("gbk", errors="ignore").decode("gbk")[:20]


@pytest.mark.parametrize("data,error,words", [
    (b"", EmptyFileError, "empty"),
    (b"  \r\n\t ", EmptyFileError, "empty"),
    (bytes(range(256)) * 40, BinaryFileError, "binary"),
    (b"PK\x03\x04" + b"\x00\x01\x02" * 500, BinaryFileError, "binary"),
    (bytes([0x81, 0x30]) * 10 + b"\xff\xfe\xfd" * 30 + b"abc", UnknownEncodingError, "encoding"),
])
def test_bad_bytes_are_refused_with_a_reason(data: bytes, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        decode(data)


def _real_texts() -> list[Path]:
    from tests.conftest import SAMPLE_DOCS, SEEDS

    return sorted(SEEDS.glob("*.txt")) + sorted(SAMPLE_DOCS.glob("*.txt"))[:10]


@pytest.mark.parametrize("codec", ["utf_16_le", "utf_16_be"])
@pytest.mark.parametrize("path", _real_texts(), ids=lambda p: p.stem)
def test_utf16_without_bom_is_decoded(path: Path, codec: str) -> None:
    """Hostile tests (issue 10): 13 of 15 Chinese reports in UTF-16 without BOM were refused as
    binary (CJK code units have few NUL bytes for the NUL test to see)."""
    text = path.read_text(encoding="utf-8")
    assert decode(text.encode(codec)) == (text, codec.replace("_", "-"))


def test_stray_nul_bytes_do_not_make_a_report_binary() -> None:
    """Three stray NULs made a report "binary" (issue 10); they are dropped (no UTF-8 or GB18030
    character contains a NUL byte)."""
    for codec, name in (("utf-8", "utf-8"), ("gb18030", "gb18030")):
        data = (TEXT * 20).encode(codec)
        spoiled = data[:10] + b"\x00" + data[10:400] + b"\x00\x00" + data[400:]
        assert decode(spoiled) == (TEXT * 20, name)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_still_binary(seed: int) -> None:
    import random

    data = random.Random(seed).randbytes(6000)
    with pytest.raises((BinaryFileError, UnknownEncodingError)):
        decode(data)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "report.pptx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormatError, match=r"'\.pptx'.*\.docx .*\.pdf"):
        read_document(path)


@pytest.mark.parametrize("name, content", [("report.docx", b""), ("report.pdf", b"")])
def test_empty_structured_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(EmptyFileError, match="empty"):
        read_document(path)


def test_structured_formats_go_to_their_reader(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ReaderError, match="docx|Word"):
        read_document(path)


def test_artefacts_are_blanked_and_offsets_kept() -> None:
    text = "（一）机构组成\n[bookmark: _GoBack]三是评价结果应用机制尚未健全。１２３％"
    norm = normalize(text)
    assert len(norm) == len(text)
    assert "bookmark" not in norm
    assert norm.index("三是") == text.index("三是")
    assert norm.endswith("123%") and text.endswith("１２３％")
    assert norm.startswith("(一)")


def test_document_keeps_the_decoded_text(seed_paths: list[Path]) -> None:
    doc = read_document(seed_paths[0])
    assert doc.text == seed_paths[0].read_text(encoding="utf-8")
    assert len(doc.norm) == len(doc.text)
    assert doc.report_id == document_from_text(doc.text, "elsewhere.txt").report_id
