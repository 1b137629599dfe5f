"""Reading a source file into a :class:`~pipeline.document.Document`.

Text reports arrive in whatever encoding the portal served: UTF-8 with or without BOM, GB18030/GBK,
UTF-16. The encoding is detected (BOM, strict UTF-8, UTF-16 without BOM by its NUL pattern, then
charset-normalizer restricted to the encodings Chinese portals use), never assumed.

Every other format has a reader in :mod:`pipeline.readers` (``FORMATS`` maps a file ending to
it); a reader returns the same text + blocks + table grids, so everything downstream is
format-agnostic. A reader's module (and its third-party library) is imported only when a file of
that format is read: ``jixiao extract`` on text reports stays fast.
"""
from __future__ import annotations

import codecs
import stat
from pathlib import Path

import regex

from pipeline.document import Document, content_id
from pipeline.limits import checked
from pipeline.normalize import normalize
from pipeline.paths import source_name
from pipeline.readers import ReadResult

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
# file ending -> the ``format`` a document gets (the reader is chosen by format in _read_structured)
FORMATS = {
    ".docx": "docx", ".docm": "docx",
    ".doc": "doc", ".wps": "wps", ".rtf": "doc", ".odt": "doc",
    ".pdf": "pdf",
    ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".et": "et", ".ods": "et",
    ".html": "html", ".htm": "html", ".shtml": "html", ".xhtml": "html",
}
MAX_BYTES = 50 * 1024 * 1024
_CHINESE_ENCODINGS = ["utf_8", "gb18030", "big5", "utf_16"]


class IngestError(Exception):
    """A file that cannot become a document; ``stage``, the message and ``limit`` (the name of
    the limit of :data:`pipeline.limits.LIMITS` it went over, if that is why) go to the errors
    table."""

    stage = "ingest"

    def __init__(self, message: str, limit: str | None = None):
        super().__init__(message)
        self.limit = checked(limit)


class EmptyFileError(IngestError):
    pass


class BinaryFileError(IngestError):
    pass


class UnknownEncodingError(IngestError):
    pass


class UnsupportedFormatError(IngestError):
    pass


def _looks_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM, by its NULs: every other byte is NUL for ASCII-heavy text."""
    if len(data) < 4 or len(data) % 2:
        return None
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = len(data) // 2
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf_16_le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf_16_be"
    return None


def _utf16_chinese(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without BOM whose text is Chinese: CJK code units have no NUL byte, so the NUL
    test above misses it. Each byte order is tried strictly; the text is taken when it reads as
    Chinese (:func:`_reads_as_chinese`), which random bytes decoded as UTF-16 do not.

    >>> _utf16_chinese("一、基本情况：本镇共有村民委员会十二个。".encode("utf_16_be"))[1]
    'utf-16-be'
    >>> _utf16_chinese(bytes(range(256)) * 4) is None
    True
    """
    if len(data) < 8 or len(data) % 2:
        return None
    for codec in ("utf_16_le", "utf_16_be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _reads_as_chinese(text):
            return text, codec.replace("_", "-")
    return None


def _reads_as_chinese(text: str) -> bool:
    """Whether a decoded text is plausibly a Chinese report: mostly CJK ideographs, nearly all of
    them common ones (GB2312, which holds the 6,763 characters in everyday use), and almost no
    control characters. Bytes of another encoding decoded as UTF-16 land anywhere in the 21 k
    ideographs, only a third of which are common."""
    sample = text[:4000]
    if _cjk_share(sample) < 0.3:
        return False
    han = _CJK_CHAR.findall(sample)
    common = sum(1 for ch in han if _is_common_han(ch))
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\f\v")
    return common >= 0.9 * len(han) and controls <= 0.001 * len(sample)


def _is_common_han(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


# A text file may carry a few stray NUL bytes (an editor's or a converter's slip); more than this
# share of them is a binary file.
MAX_STRAY_NUL_SHARE = 0.01


# CJK Unified Ideographs, the characters a Chinese report is mostly made of.
_CJK_CHAR = regex.compile(r"[\u4e00-\u9fff]")
# Control bytes that plain text does not contain: all below space except \t \n \v \f \r.
_CONTROL_BYTES = bytes(range(0, 9)) + bytes(range(14, 32))
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)


def _cjk_share(text: str) -> float:
    """The share of CJK ideographs among the characters that are not white space.

    >>> _cjk_share("基本情况 abcd")
    0.5
    """
    if not text:
        return 0.0
    cjk = len(_CJK_CHAR.findall(text))
    # str.split() splits at exactly the characters for which str.isspace() is true
    non_space = sum(map(len, text.split()))
    return cjk / max(1, non_space)


def _is_binary(data: bytes) -> bool:
    """Whether the first 8 KiB hold a NUL or more than 10% control bytes.

    >>> _is_binary(b"PK\\x03\\x04\\x14\\x00"), _is_binary("一、基本情况\\n".encode())
    (True, False)
    """
    sample = data[:8192]
    if b"\x00" not in sample:
        # deleting all the other bytes leaves the control bytes: counted in C, not in a loop
        control = len(sample.translate(None, _NOT_CONTROL_BYTES))
        return control > 0.1 * len(sample)
    return True


def decode(data: bytes) -> tuple[str, str]:
    """Decode report bytes; returns ``(text, encoding)``. Raises an :class:`IngestError` subclass.

    >>> decode("基本情况".encode("gb18030"))
    ('基本情况', 'gb18030')
    """
    if not data.strip(b" \t\r\n\x00"):
        raise EmptyFileError("the file is empty (no text to read)")
    for bom, enc in ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF32_LE, "utf_32"),
                     (codecs.BOM_UTF32_BE, "utf_32"), (codecs.BOM_UTF16_LE, "utf_16"),
                     (codecs.BOM_UTF16_BE, "utf_16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc.replace("_sig", "-sig").replace("_", "-")
            except UnicodeDecodeError as exc:
                raise UnknownEncodingError(f"the file starts with a {enc} byte-order mark but does "
                                           f"not decode as {enc}: {exc.reason}") from exc
    utf16 = _looks_utf16(data)
    if utf16:
        try:
            return data.decode(utf16), utf16.replace("_", "-")
        except UnicodeDecodeError:
            pass
    binary = _is_binary(data)
    found = _utf16_chinese(data) if binary else None
    if found is not None:
        return found
    nuls = data.count(0)
    if 0 < nuls <= MAX_STRAY_NUL_SHARE * len(data):
        data = data.replace(b"\x00", b"")  # stray NULs: never part of a UTF-8 or GB18030 character
        binary = _is_binary(data)
    if binary:
        raise BinaryFileError("the file is binary, not text (for .docx/.pdf/.xls files, a reader for "
                              "that format is needed; save it as text or use a supported format)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if _cjk_share(text) > 0.2:
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # imported only for the rare undecided file

    best = from_bytes(data, cp_isolation=_CHINESE_ENCODINGS).best()
    if best is not None and _cjk_share(str(best)) > 0.2:
        return str(best), best.encoding.replace("_", "-")
    raise UnknownEncodingError("could not detect the text encoding (tried UTF-8, UTF-16, GB18030, "
                               "Big5): re-save the file as UTF-8")


def document_from_text(text: str, source: str, fmt: str = "txt", encoding: str = "utf-8",
                       metadata: dict[str, str] | None = None) -> Document:
    """Build a document from already-decoded text.

    >>> document_from_text("一、基本情况", "x.txt").norm
    '一、基本情况'
    """
    from pipeline.layout import find_tables_and_body_end

    doc = Document(source=source, format=fmt, text=text, norm=normalize(text), encoding=encoding,
                   report_id=content_id(text), metadata=dict(metadata or {}))
    doc.tables, doc.body_end = find_tables_and_body_end(doc.norm)
    return doc


def document_from_read(result: ReadResult, source: str, fmt: str) -> Document:
    """Build a document from what a structured reader returned: its text, blocks and real table
    grids (the text layout is not guessed again), its metadata and OCR flag."""
    from pipeline.layout import body_end_of_structured

    if not result.text.strip():
        raise EmptyFileError("the file has no text (nothing to read in it)")
    doc = Document(source=source, format=fmt, text=result.text, norm=normalize(result.text),
                   encoding=result.metadata.get("encoding", ""),
                   report_id=content_id(result.text), tables=list(result.tables),
                   metadata=dict(result.metadata), blocks=list(result.blocks), ocr=result.ocr)
    doc.body_end = body_end_of_structured(doc.norm, doc.blocks, doc.tables)
    return doc


def _read_structured(path: Path, fmt: str, ocr: bool) -> ReadResult:
    """Run the reader of ``fmt`` on ``path`` (legacy office formats through LibreOffice)."""
    if fmt == "docx":
        from pipeline.readers.docx import read_docx
        return read_docx(path)
    if fmt in ("doc", "wps"):
        from pipeline.readers.convert import converted
        from pipeline.readers.docx import read_docx
        with converted(path, to="docx") as docx:
            return read_docx(docx)
    if fmt == "et":
        from pipeline.readers.convert import converted
        from pipeline.readers.xlsx import read_workbook
        with converted(path, to="xlsx") as xlsx:
            return read_workbook(xlsx)
    if fmt in ("xlsx", "xls"):
        from pipeline.readers.xlsx import read_workbook
        return read_workbook(path)
    if fmt == "pdf":
        from pipeline.readers.pdf import read_pdf
        return read_pdf(path, ocr=ocr)
    if fmt == "html":
        from pipeline.readers.html import read_html
        return read_html(path.read_bytes(), url=None)
    raise UnsupportedFormatError(f"no reader for format {fmt!r}")


def read_document(path: str | Path, ocr: bool = True) -> Document:
    """Read one report file into a document. Raises an :class:`IngestError` with a message a
    person can act on (empty, binary, unknown encoding, unsupported format, too large), or a
    :class:`~pipeline.readers.ReaderError` (damaged, encrypted, a scan with ``ocr=False`` …).

    ``ocr=False`` leaves scanned PDF pages unread instead of running OCR on them."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES and suffix not in FORMATS:
        known = " ".join(sorted({".txt", *FORMATS}))
        raise UnsupportedFormatError(f"unsupported format {suffix!r}: jixiao reads {known}")
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError(f"cannot read the file: {exc.strerror}") from exc
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block, /dev/zero never end
        raise IngestError(f"not a regular file ({special_kind(info.st_mode)}): refused")
    size = info.st_size
    if size > MAX_BYTES:
        raise IngestError(f"the file is {size // 2**20} MiB; reports over {MAX_BYTES // 2**20} MiB "
                          f"are refused", limit="size")
    if suffix in FORMATS:
        if size == 0:
            raise EmptyFileError("the file is empty (0 bytes)")
        fmt = FORMATS[suffix]
        return document_from_read(_read_structured(path, fmt, ocr), source_name(path), fmt)
    text, encoding = decode(path.read_bytes())
    return document_from_text(text, source_name(path), "txt", encoding)


def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words.

    >>> special_kind(stat.S_IFIFO)
    'a FIFO'
    """
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"
