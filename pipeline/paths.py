r"""File names as the dataset stores them: any byte sequence, printable and reversible.

A POSIX file name is bytes; Python decodes the bytes that are not UTF-8 to lone surrogates
(``os.fsdecode``), which no UTF-8 text, Arrow string or DuckDB value can hold: a folder with one
such name used to fail at every write. :func:`source_name` is what every table's ``source`` holds:

* a name that is printable UTF-8 text without a backslash is itself (nearly every name), its
  spelling normalised (``./a//b.txt`` is ``a/b.txt``: one file, one name);
* otherwise each byte that is not UTF-8 is written ``\xNN``, a character that does not print
  (a newline, a control) ``\uNNNN``, and a backslash ``\\``, so that the stored name is printable
  and :func:`raw_path` gives back the exact name.
"""
from __future__ import annotations

import os
from pathlib import Path

_HEX = frozenset("0123456789abcdefABCDEF")
_LENGTHS = {"x": 2, "u": 4, "U": 8}   # digits after \x, \u, \U


def source_name(path: str | os.PathLike[str]) -> str:
    r"""The stored, printable name of a path.

    >>> source_name("./data//raw/a.txt")
    'data/raw/a.txt'
    >>> print(source_name(os.fsdecode(b"raw/\xb1\xa8.txt")))
    raw/\xb1\xa8.txt
    >>> print(source_name("dir\\a\nb.txt"))
    dir\\a\u000ab.txt
    """
    text = os.path.normpath(os.fspath(path))
    if "\\" not in text and text.isprintable():
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif "\udc80" <= ch <= "\udcff":  # a byte that os.fsdecode could not decode
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def raw_path(source: str | os.PathLike[str]) -> Path:
    r"""The path a stored name stands for (the inverse of :func:`source_name`); a path object is
    taken as it is.

    >>> raw = os.fsdecode(b"raw/\xb1\xa8.txt")
    >>> raw_path(source_name(raw)) == Path(raw)
    True
    >>> raw_path(source_name("dir\\a\nb.txt")) == Path("dir\\a\nb.txt")
    True
    """
    if not isinstance(source, str):
        return Path(source)
    if "\\" not in source:
        return Path(source)
    out, i = [], 0
    while i < len(source):
        ch = source[i]
        kind = source[i + 1] if ch == "\\" and i + 1 < len(source) else ""
        if kind == "\\":
            out.append("\\")
            i += 2
            continue
        digits = source[i + 2:i + 2 + _LENGTHS.get(kind, 0)]
        if kind in _LENGTHS and len(digits) == _LENGTHS[kind] and set(digits) <= _HEX:
            code = int(digits, 16)
            out.append(chr(0xDC00 + code) if kind == "x" else chr(code))
            i += 2 + len(digits)
            continue
        out.append(ch)
        i += 1
    return Path("".join(out))
