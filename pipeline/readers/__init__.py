"""Readers of structured report formats (docx, pdf, xlsx, html): what each returns and raises.

Every reader turns one source file into a :class:`ReadResult`: the text that offsets refer to,
its blocks in reading order, the real cell grids of its tables and the file's metadata. A file
that cannot be read raises :class:`ReaderError` with a message a person can act on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.document import Block, Table
from pipeline.limits import checked


class ReaderError(Exception):
    """A source file that a reader cannot read (damaged, encrypted, too large, a zip bomb, a tool
    missing); the message says what is wrong and what to do, and goes to the ``errors`` table.

    It is deliberately not an ``IngestError``: ``pipeline.ingest`` may import the readers, and the
    reverse import would be circular. ``stage`` plays the same role. ``limit`` names the limit
    of :data:`pipeline.limits.LIMITS` the file went over, when that is why it is refused.
    """

    stage = "read"

    def __init__(self, message: str, limit: str | None = None):
        super().__init__(message)
        self.limit = checked(limit)


@dataclass
class ReadResult:
    """What a reader got from one file.

    ``text`` is the document text every offset refers to: blocks joined by ``'\\n'``, a table
    rendered one row per line with its cells joined by ``'\\t'``. ``blocks`` delimit paragraphs,
    headings and table rows in ``text``; ``tables`` are the real cell grids (each row keeps the
    offsets of its line); ``metadata`` holds what the file says about itself (title, author, dates,
    producing application, …); ``ocr`` is true when some text was recognised from images.
    """

    text: str
    blocks: list[Block] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    ocr: bool = False


def file_head(path: Path, size: int = 8) -> bytes:
    """The first ``size`` bytes of a file (its magic number: a format is told by its content, not
    its name); :class:`ReaderError` when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise ReaderError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
