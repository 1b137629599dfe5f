"""Loading the pattern files in ``patterns/``: YAML and word lists a domain expert can edit.

Each loader validates what it reads (required keys present, no empty alternation that would match
everything) and is cached, so a pattern file is read and compiled once per process.
"""
from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import Any

import regex
import yaml


class PatternError(ValueError):
    """A pattern file is missing, malformed or would match everything."""


def _patterns_dir() -> Path:
    """The folder of pattern files: the package ``jixiao_patterns`` (pyproject.toml maps the
    repository's ``patterns/`` to it), else ``patterns/`` beside ``pipeline/`` in a clone.

    Under an editable install the package *is* the repository's folder, so an edit there takes
    effect without reinstalling; in an installed wheel it is the copy in site-packages. The
    fallback is for running from a clone that was never installed (``PYTHONPATH=.``).
    """
    try:
        folder = importlib.resources.files("jixiao_patterns")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "patterns"
    if not isinstance(folder, Path):  # e.g. imported from a zip: the loaders need real files
        raise PatternError(f"the pattern files must be a folder on disk, found {folder}")
    return folder


PATTERNS_DIR = _patterns_dir()


@functools.lru_cache(maxsize=None)
def load_yaml(name: str) -> dict[str, Any]:
    """Read ``patterns/<name>`` as a YAML mapping.

    >>> "map" in load_yaml("normalize.yaml")
    True
    """
    path = PATTERNS_DIR / name
    if not path.is_file():
        raise PatternError(f"pattern file not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PatternError(f"{path}: expected a mapping at the top level")
    return data


def require(data: dict[str, Any], *keys: str, where: str) -> None:
    """Raise :class:`PatternError` unless every key is present and non-empty in ``data``."""
    for key in keys:
        if key not in data or data[key] in (None, "", [], {}):
            raise PatternError(f"{where}: missing or empty key {key!r}")


def alternation(words: list[str], where: str) -> str:
    """A regex alternation of literal words, longest first; refuses an empty list or word.

    >>> alternation(["万元", "元"], "test")
    '(?:万元|元)'
    """
    cleaned = [w for w in (str(x).strip() for x in words) if w]
    if not cleaned or len(cleaned) != len(words):
        raise PatternError(f"{where}: an alternation needs non-empty words, got {words!r}")
    ordered = sorted(set(cleaned), key=lambda w: (-len(w), w))
    return "(?:" + "|".join(regex.escape(w) for w in ordered) + ")"


def compile_verbose(pattern: str, where: str) -> regex.Pattern[str]:
    """Compile a verbose regex from a pattern file; refuses one that matches the empty string."""
    try:
        compiled = regex.compile(pattern, regex.VERBOSE)
    except regex.error as exc:
        raise PatternError(f"{where}: bad regex: {exc}") from exc
    if compiled.fullmatch(""):
        raise PatternError(f"{where}: regex matches the empty string")
    return compiled


@functools.lru_cache(maxsize=None)
def word_list(name: str) -> tuple[str, ...]:
    """Lines of ``patterns/<name>``, without blank lines and ``#`` comments."""
    path = PATTERNS_DIR / name
    if not path.is_file():
        raise PatternError(f"pattern file not found: {path}")
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line)
    if not words:
        raise PatternError(f"{path}: empty word list")
    return tuple(words)
