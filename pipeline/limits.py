"""The limits one file is held to, by name: what an ``errors`` row's ``exceeded_limit`` says.

A file that goes over one of them is refused with an ``errors`` row naming the limit, and the
rest of the batch goes on. The cheap ones are checked before a file is parsed (its size, a zip
archive's entries and unpacked size, a sheet's cells, a PDF's pages and drawing operators); time
and memory are enforced from outside the parser, by the worker process that reads the file
(:mod:`pipeline.bounded`).
"""
from __future__ import annotations

# name -> what it bounds (the values are in the module that checks each)
LIMITS: dict[str, str] = {
    "time": "seconds one file may take to read and extract (jixiao run --file-timeout)",
    "memory": "memory one file may add to the worker reading it (jixiao run --file-memory)",
    "size": "bytes of the file",
    "entries": "files inside a zip-based document (.docx, .xlsx)",
    "unpacked": "bytes a zip-based document unpacks to, and its compression ratio",
    "cells": "cells and rows of a sheet, and the area of one merged range",
    "pages": "pages of a PDF",
    "operators": "drawing operators and content bytes of a PDF",
    "ocr_pages": "pages of a PDF that OCR reads, scanned or garbled (JIXIAO_OCR_MAX_PAGES)",
    "figures": "percent and yuan signs in one text (a report prints hundreds, not tens of thousands)",
}


def checked(limit: str | None) -> str | None:
    """``limit`` if it is a known limit's name (or None); a typo fails where it is raised.

    >>> checked("time"), checked(None)
    ('time', None)
    """
    if limit is not None and limit not in LIMITS:
        raise ValueError(f"unknown limit {limit!r}: one of {', '.join(LIMITS)}")
    return limit
