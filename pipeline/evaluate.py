"""Scoring extractions against hand-made gold annotations (the format of ``gold/FORMAT.md``).

For each kind of fact it counts true positives, predictions and gold items, and keeps what was
missed or spurious, so a change can be judged by what it fixed and what it broke. The matching rules
follow FORMAT.md: spans overlap and values agree (amounts, percentages, only before ``body_end``);
headings agree in level, start (within 12 characters) and title; indicators agree by name.

``by_value`` scores a rendering of an annotated report (docx, pdf, html …) whose offsets do not
refer to the gold's text, as ``score.py --by-value`` does: amounts and percentages match by value
(those read in appended tables, section ``appendix``, left out), headings by title.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import regex

from pipeline.extract import KEY_FIGURES, REPORT_FIELDS, Extraction, extract_path, section_kinds

_PUNCT = regex.compile(r"[\s\"'“”‘’「」《》()（）:：,，.。、;；]")
INDICATOR_FIELDS = ("max_score", "score", "target", "actual")


def norm_text(value: Any) -> str:
    """Text for comparison: NFKC, without spaces and punctuation.

    >>> norm_text("（一） 基本情况。")
    '一基本情况'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(value)))


def same_value(gold: Any, pred: Any) -> bool:
    """Numbers equal within rounding, text equal after :func:`norm_text`, None equals None only."""
    if gold is None or pred is None:
        return gold is None and pred is None
    if isinstance(gold, (int, float)) and not isinstance(gold, bool):
        try:
            return abs(float(gold) - float(pred)) <= max(0.005, 1e-6 * abs(float(gold)))
        except (TypeError, ValueError):
            return False
    if regex.fullmatch(r"\d{4}-\d{2}-\d{2}", str(gold)):
        pred = str(pred)[:10]
    return norm_text(gold) == norm_text(pred)


@dataclass
class Tally:
    """Counts for one kind of fact."""

    tp: int = 0
    pred: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.pred if self.pred else (1.0 if not self.gold else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    """Tallies per kind, field accuracies, and the problems found per document."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {
        k: Tally() for k in ("amounts", "percentages", "indicators", "sections_l1", "sections_l2")})
    ratios: dict[str, list[int]] = field(default_factory=lambda: {
        k: [0, 0] for k in ("indicator_fields", "canonical", "report_fields", "key_figures")})
    problems: dict[str, list[str]] = field(default_factory=dict)
    docs: int = 0
    texts: dict[str, str] = field(default_factory=dict, repr=False)  # each document's text

    def summary(self) -> dict[str, float]:
        """The headline numbers, named as in the scorer's SCORE line."""
        out = {"amounts_f1": self.tallies["amounts"].f1,
               "percentages_f1": self.tallies["percentages"].f1,
               "indicators_f1": self.tallies["indicators"].f1,
               "indicator_fields": _ratio(self.ratios["indicator_fields"]),
               "sections_l1_f1": self.tallies["sections_l1"].f1,
               "sections_l2_f1": self.tallies["sections_l2"].f1,
               "canonical_acc": _ratio(self.ratios["canonical"]),
               "report_fields": _ratio(self.ratios["report_fields"]),
               "key_figures": _ratio(self.ratios["key_figures"])}
        return out


def _ratio(pair: list[int]) -> float:
    return pair[0] / pair[1] if pair[1] else 1.0


def _match_one_to_one(gold: list[Any], pred: list[Any], same: Callable[[Any, Any], bool],
                      tally: Tally, describe: Callable[[Any], str], problems: list[str],
                      kind: str) -> list[tuple[Any, Any]]:
    used = [False] * len(pred)
    pairs = []
    for g in gold:
        hit = next((i for i, p in enumerate(pred) if not used[i] and same(g, p)), None)
        if hit is None:
            problems.append(f"{kind} missed: {describe(g)}")
        else:
            used[hit] = True
            pairs.append((g, pred[hit]))
    for i, p in enumerate(pred):
        if not used[i]:
            problems.append(f"{kind} spurious: {describe(p)}")
    tally.tp += len(pairs)
    tally.pred += len(pred)
    tally.gold += len(gold)
    return pairs


def _describe(x: Any) -> str:
    if isinstance(x, dict):
        return f"{x.get('text') or x.get('title') or x.get('name')}@{x.get('start')}"
    return f"{getattr(x, 'text', None) or getattr(x, 'title', None) or getattr(x, 'name', '')}@{getattr(x, 'start', '')}"


def _indicator_same(g: dict[str, Any], p: Any) -> bool:
    gk, pk = norm_text(g["name"]), norm_text(p.name)
    if gk == pk:
        return True
    return bool(gk and pk and (gk in pk or pk in gk) and min(len(gk), len(pk)) / max(len(gk), len(pk)) >= 0.6)


def score_document(gold: dict[str, Any], ex: Extraction, ev: Evaluation,
                   by_value: bool = False) -> None:
    """Add one document's comparison to ``ev`` (``by_value``: ignore offsets, see the module)."""
    problems = ev.problems.setdefault(Path(gold.get("source", ex.document.source)).stem, [])
    body_end = gold.get("body_end", 10**12)
    ev.docs += 1
    for kind, value_key, pred_attr in (("amounts", "value_yuan", "value_yuan"),
                                       ("percentages", "value", "value")):
        if by_value:
            kinds = section_kinds(ex, getattr(ex, kind))
            preds = [p for p, k in zip(getattr(ex, kind), kinds) if k != "appendix"]
        else:
            preds = [p for p in getattr(ex, kind) if p.start < body_end]
        _match_one_to_one(
            gold.get(kind, []), preds,
            lambda g, p, vk=value_key, pa=pred_attr: (
                by_value or not (p.end <= g["start"] or p.start >= g["end"]))
            and abs(getattr(p, pa) - float(g[vk])) <= max(0.5e-6 * abs(float(g[vk])), 0.01),
            ev.tallies[kind], _describe, problems, kind)
    for level in (1, 2):
        gold_secs = [s for s in gold.get("sections", []) if s["level"] == level]
        pred_secs = [s for s in ex.sections if s.level == level]

        def same_section(g: dict[str, Any], p: Any) -> bool:
            gt, pt = norm_text(g["title"]), norm_text(p.title)
            near = by_value or abs(p.start - g["start"]) <= 12
            return near and bool(gt and pt and (gt in pt or pt in gt))

        for g, p in _match_one_to_one(gold_secs, pred_secs, same_section,
                                      ev.tallies[f"sections_l{level}"], _describe, problems,
                                      f"section L{level}"):
            if g.get("canonical"):
                ev.ratios["canonical"][1] += 1
                if p.canonical == g["canonical"]:
                    ev.ratios["canonical"][0] += 1
                else:
                    problems.append(f"canonical {g['title']}: gold={g['canonical']} pred={p.canonical}")
    for g, p in _match_one_to_one(gold.get("indicators", []), ex.indicators, _indicator_same,
                                  ev.tallies["indicators"], _describe, problems, "indicator"):
        for name in INDICATOR_FIELDS:
            if g.get(name) is None and name in ("target", "actual"):
                continue
            ev.ratios["indicator_fields"][1] += 1
            if same_value(g.get(name), getattr(p, name)):
                ev.ratios["indicator_fields"][0] += 1
            else:
                problems.append(f"indicator {g['name']}.{name}: gold={g.get(name)!r} "
                                f"pred={getattr(p, name)!r}")
    for name in REPORT_FIELDS:
        ev.ratios["report_fields"][1] += 1
        if same_value(gold["report"].get(name), ex.fact(name)):
            ev.ratios["report_fields"][0] += 1
        else:
            problems.append(f"report.{name}: gold={gold['report'].get(name)!r} pred={ex.fact(name)!r}")
    for name in KEY_FIGURES:
        gv = gold.get("key_figures", {}).get(name)
        if gv is None:
            continue
        ev.ratios["key_figures"][1] += 1
        pv = ex.fact(name)
        if pv is not None and abs(float(pv) - float(gv)) < max(0.5, 1e-6 * abs(gv)):
            ev.ratios["key_figures"][0] += 1
        else:
            problems.append(f"key_figures.{name}: gold={gv} pred={pv}")


class GoldError(ValueError):
    """A gold folder or document that cannot be paired or read."""


def evaluate(gold_dir: str | Path, docs_dir: str | Path, by_value: bool = False,
             present_only: bool = False) -> Evaluation:
    """Extract every document of ``docs_dir`` that has a ``<stem>.json`` in ``gold_dir`` and score it.

    A gold file whose document is missing counts as all-missed, unless ``present_only`` (scoring a
    folder that renders only some of the annotated reports). ``by_value``: see the module.
    """
    gold_dir, docs_dir = Path(gold_dir), Path(docs_dir)
    gold_files = sorted(gold_dir.glob("*.json"))
    if not gold_files:
        raise GoldError(f"no gold annotations (*.json) in {gold_dir}")
    if not docs_dir.is_dir():
        raise GoldError(f"no such documents folder: {docs_dir}")
    by_stem = {p.stem: p for p in sorted(docs_dir.iterdir()) if p.is_file()}
    ev = Evaluation()
    for gold_path in gold_files:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        doc_path = by_stem.get(gold_path.stem)
        if doc_path is None:
            if present_only:
                continue
            ev.problems.setdefault(gold_path.stem, []).append("no document with this stem")
            _count_all_missed(gold, ev)
            continue
        extraction = extract_path(doc_path)
        ev.texts[gold_path.stem] = extraction.document.text
        score_document(gold, extraction, ev, by_value=by_value)
    return ev


def _count_all_missed(gold: dict[str, Any], ev: Evaluation) -> None:
    for kind in ("amounts", "percentages", "indicators"):
        ev.tallies[kind].gold += len(gold.get(kind, []))
    for s in gold.get("sections", []):
        ev.tallies[f"sections_l{s['level']}"].gold += 1
    ev.ratios["report_fields"][1] += len(REPORT_FIELDS)
    ev.ratios["key_figures"][1] += sum(1 for v in gold.get("key_figures", {}).values() if v is not None)


_AT_OFFSET = re.compile(r"(?P<shown>[^\s:]*)@(?P<start>\d+)(?:-(?P<end>\d+))?")
CONTEXT_CHARS = 30


def in_context(text: str, problem: str, width: int = CONTEXT_CHARS) -> str | None:
    """The text around the span a problem names (``3402万元@4``, ``@310-313``), the span in 【】
    and line breaks as ⏎; None when the problem names no offset inside ``text``.

    >>> in_context("收入合计3402万元，支出2207万元。", "amounts missed: 3402万元@4", width=4)
    '收入合计【3402万元】，支出2'
    """
    m = _AT_OFFSET.search(problem)
    if not m or int(m["start"]) >= len(text):
        return None
    start = int(m["start"])
    end = int(m["end"]) if m["end"] else start + max(1, min(len(m["shown"]), 40))
    shown = [text[max(0, start - width):start], text[start:end], text[end:end + width]]
    before, span, after = (part.replace("\n", "⏎") for part in shown)
    return f"{before}【{span}】{after}"


def format_report(ev: Evaluation, verbose: bool = True, context: bool = False) -> str:
    """Human-readable result: a P/R/F1 line per kind, field accuracies, problems, and a SCORE line.
    ``context``: under each problem that names an offset, the text around it."""
    lines = []
    for kind, t in ev.tallies.items():
        lines.append(f"{kind:12s} tp={t.tp:4d} pred={t.pred:4d} gold={t.gold:4d}  "
                     f"P={t.precision:.3f} R={t.recall:.3f} F1={t.f1:.3f}")
    lines.append("  ".join(f"{k} {v[0]}/{v[1]}" for k, v in ev.ratios.items()))
    if verbose:
        for stem, problems in ev.problems.items():
            for p in problems:
                lines.append(f"  {stem}: {p}")
                around = in_context(ev.texts.get(stem, ""), p) if context else None
                if around:
                    lines.append(f"        {around}")
    lines.append("SCORE " + " ".join(f"{k}={v:.3f}" for k, v in ev.summary().items())
                 + f" docs={ev.docs}")
    return "\n".join(lines)
