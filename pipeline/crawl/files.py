"""What a crawl collects, and what it already has: raw files on disk and the job's manifest.

Raw files go to ``<raw>/<portal>/<item>/<hash>.<type>``: ``<item>`` is named after the item
page's URL (its last path segment, made safe, and 8 hex digits of a hash of the whole URL), the
file after the first 16 hex digits of its content's sha256. Nothing the server says (a
``Content-Disposition`` name, a URL's folders) becomes a path; the server decides only the type,
and only among the types taken.

Every request's outcome is a row of the job's manifest (``fetches.jsonl`` in the job folder,
one JSON object a line, flushed as it is written), the rows the ``fetches`` table is made of:

==============  ===========================================================================
outcome         meaning
==============  ===========================================================================
new             stored: a file (or a report page) not collected before
changed         stored: the URL held other content when it was last collected
unchanged       the content is what was collected last time (same hash): not stored again
not_modified    the server answered 304 to our ETag / Last-Modified: nothing downloaded
duplicate       the same content was collected under another URL (``stored_path`` is it)
read            a listing page, or an item page that is only a cover for its attachments
disallowed      robots.txt disallows it: never requested
too_large       stopped at the portal's ``max_file_mb``
failed          the reason says why (an HTTP status, a timeout after the retries, a loop …)
==============  ===========================================================================

A URL is collected once a job: a job that is stopped (Ctrl-C, SIGTERM, or killed outright) and
started again reads its manifest and skips the files it holds, so the two runs together collect
what one would have. Listing and item pages are read again in the resumed run (they are small,
and the links they hold are what a killed run may have lost).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from pipeline.paths import source_name

MANIFEST = "fetches.jsonl"
# Outcomes after which the URL's content is on disk under stored_path
HELD = ("new", "changed", "unchanged", "not_modified", "duplicate")
STORED = ("new", "changed")
FAILED = ("failed", "too_large")
# What a Content-Type says a document is (a type is taken only when the portal takes it)
_CONTENT_TYPES = {
    "application/pdf": "pdf", "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-works": "wps", "application/kswps": "wps", "application/kset": "et",
}
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_DISPOSITION_NAME = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)


def read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """A job's manifest: the last row of each URL (a line cut short by a kill is skipped)."""
    rows: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            rows[row["url"]] = row
    return rows


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_hash(text: str) -> str:
    """The hash of a page's article text, spaces removed: a page whose counter (浏览次数) or
    navigation changed, but not its report, hashes the same.

    >>> text_hash("一、基本情况 \\n 收入") == text_hash("一、基本情况收入")
    True
    """
    return sha256(re.sub(r"\s+", "", text).encode("utf-8"))


def item_folder(url: str) -> str:
    """The folder of an item's files, from its page URL: safe characters only, and unique.

    >>> item_folder("http://x.gov.cn/xxgk/202404/t20240424_13155090.html")[:19]
    't20240424_13155090-'
    >>> item_folder("http://x.gov.cn/../../etc/passwd")[:7]
    'passwd-'
    """
    stem = _SAFE.sub("_", PurePosixPath(urlsplit(url).path).stem)[:40].strip("_") or "item"
    return f"{stem}-{hashlib.sha1(url.encode('utf-8')).hexdigest()[:8]}"


def document_type(url: str, headers: dict[str, str], body: bytes, taken: tuple[str, ...]) -> str | None:
    """The type of a downloaded document among ``taken``: from the URL's extension, else the
    extension of the name the server gives (only the extension), else the Content-Type, else
    the bytes (``%PDF``); None when it is none of them.

    >>> document_type("http://x/a.PDF", {}, b"%PDF-1.4", ("pdf",))
    'pdf'
    >>> document_type("http://x/download?id=1", {"content-disposition": 'attachment; filename="../../报告.docx"'}, b"PK", ("docx",))
    'docx'
    >>> document_type("http://x/download?id=1", {}, b"<html>", ("pdf",)) is None
    True
    """
    candidates = [PurePosixPath(urlsplit(url).path).suffix]
    name = _DISPOSITION_NAME.search(headers.get("content-disposition", ""))
    if name:
        candidates.append(PurePosixPath(name.group(1).strip()).suffix)
    for suffix in candidates:
        kind = suffix.lower().lstrip(".")
        if kind in taken:
            return kind
    kind = _CONTENT_TYPES.get(headers.get("content-type", "").split(";")[0].strip().lower())
    if kind in taken:
        return kind
    if body.startswith(b"%PDF") and "pdf" in taken:
        return "pdf"
    return None


def looks_like_html(body: bytes) -> bool:
    """An error page served in a document's place (status 200, ``<html>`` inside)."""
    return bool(_HTML_START.match(body[:512]))


class RawFiles:
    """The raw files of one portal and the manifest of the job collecting them.

    ``known``: the dataset's ``fetches`` rows of this portal (one per URL, the last outcome),
    for conditional requests and content hashes of earlier jobs."""

    def __init__(self, root: Path, job: Path, portal: str, known: list[dict[str, Any]]):
        self.root = root
        self.job = job
        self.portal = portal
        self.known = {row["url"]: row for row in known}
        self.job.mkdir(parents=True, exist_ok=True)
        path = self.job / MANIFEST
        self.done = read_manifest(path)  # a job that was stopped: what it did stays done
        self.held: dict[str, str] = {}  # sha256 -> stored path, of every file on disk
        for row in [*self.known.values(), *self.done.values()]:
            if row.get("outcome") in HELD and row.get("sha256") and row.get("stored_path"):
                self.held.setdefault(row["sha256"], row["stored_path"])
        self._out = open(path, "a", encoding="utf-8")

    def close(self) -> None:
        self._out.close()

    def collected(self, url: str) -> bool:
        """Whether this job has already got an answer for ``url`` (it is not asked again)."""
        return url in self.done

    def previous(self, url: str) -> dict[str, Any] | None:
        """The last outcome of ``url`` in an earlier job, if its file is still on disk."""
        row = self.known.get(url)
        if row and row.get("stored_path") and Path(row["stored_path"]).exists():
            return row
        return None

    def record(self, row: dict[str, Any]) -> dict[str, Any]:
        row = {"portal": self.portal, **row}
        self.done[row["url"]] = row
        self._out.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._out.flush()
        return row

    def keep(self, url: str, folder: str, digest: str, kind: str, body: bytes) -> tuple[str, str]:
        """Decide what a downloaded body is (new, changed, unchanged, duplicate) and store it
        when it is new content; returns ``(outcome, stored path)``."""
        earlier = self.done.get(url)  # this job's own answer, before it was stopped and resumed
        if _holds(earlier, digest) and earlier["outcome"] in HELD:
            return earlier["outcome"], earlier["stored_path"]
        before = self.known.get(url)
        if _holds(before, digest):
            return "unchanged", before["stored_path"]
        if digest in self.held and Path(self.held[digest]).exists():
            return "duplicate", self.held[digest]
        target = self.root / folder / f"{digest[:16]}.{kind}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False) as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(fh.name, target)
        stored = source_name(target)
        self.held[digest] = stored
        return ("changed" if before and before.get("sha256") else "new"), stored


def _holds(row: dict[str, Any] | None, digest: str) -> bool:
    """Whether ``row`` stored this content, and its file is still on disk."""
    return bool(row and row.get("sha256") == digest and row.get("stored_path")
                and Path(row["stored_path"]).exists())
