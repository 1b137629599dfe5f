#!/usr/bin/env python3
"""Score every rendering of the seeds (tests/fixtures/rendered) against the seeds' gold.

For each format (docx, doc, pdf, scanned pdf, xlsx, html) the renderings are scored by value
(``jixiao evaluate --by-value --present-only``) next to the text version of the same reports, and
the difference is printed. A workbook holds only a report's scoring form, so only its indicators
are comparable.

    .venv/bin/python scripts/score_renderings.py [--verbose] [FORMAT …]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.evaluate import Evaluation, evaluate, format_report  # noqa: E402

RENDERED = ROOT / "tests" / "fixtures" / "rendered"
SEEDS = ROOT / "tests" / "data" / "seeds"
GOLD = ROOT / "tests" / "data" / "gold"
MEASURES = ("amounts_f1", "percentages_f1", "indicators_f1", "sections_l1_f1")


def renderings() -> dict[str, list[Path]]:
    """Rendered files by format name (``scan`` for the image-only PDFs)."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(RENDERED.glob("*.*")):
        groups.setdefault(path.suffix.lstrip("."), []).append(path)
    groups["scan"] = sorted((RENDERED / "scan").glob("*.pdf"))
    return groups


def score(files: list[Path]) -> Evaluation:
    """Score ``files`` (one folder, one file a stem) by value against the gold of their stems."""
    with tempfile.TemporaryDirectory(prefix="jixiao-renderings-") as tmp:
        for f in files:
            shutil.copy(f, Path(tmp) / f.name)
        return evaluate(GOLD, tmp, by_value=True, present_only=True)


def compare(files: list[Path]) -> tuple[dict[str, float], dict[str, float], Evaluation]:
    """(rendering's scores, text version's scores, rendering's evaluation)."""
    ev = score(files)
    text = score([SEEDS / f"{f.stem}.txt" for f in files])
    return ev.summary(), text.summary(), ev


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("formats", nargs="*", help="formats to score (default: all)")
    ap.add_argument("--verbose", action="store_true", help="print what each rendering missed")
    args = ap.parse_args(argv)
    for fmt, files in renderings().items():
        if args.formats and fmt not in args.formats:
            continue
        got, text, ev = compare(files)
        cells = " ".join(f"{m}={got[m]:.3f}({got[m] - text[m]:+.3f})" for m in MEASURES)
        print(f"{fmt:5s} n={len(files)} {cells}")
        if args.verbose:
            print(format_report(ev))
    return 0


if __name__ == "__main__":
    sys.exit(main())
