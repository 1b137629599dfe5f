#!/usr/bin/env python3
"""Benchmark the format readers on one core: PDF text extraction and OCR in pages/second, docx in
reports/second (reading + the whole extraction), over the committed renderings of the seeds; and
the PDF size check made before any page is laid out (pipeline/readers/pdf_check.py), in ms a file.

    python3 dev.py bench                                # runs this after bench_extract.py
    .venv/bin/python bench/bench_readers.py --rounds 5 --ocr-pages 6

One core: the process is pinned to a single CPU and ONNX Runtime / OpenMP get one thread, so the
figures say what one worker of a batch gets. Each measure runs a warm-up first (imports, models).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

# before numpy / onnxruntime are imported: one thread each
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RENDERED = ROOT / "tests" / "fixtures" / "rendered"


def _pages(result) -> int:
    return int(result.metadata.get("pages", "0") or 0)


def bench_pdf_text(rounds: int) -> dict[str, float]:
    from pipeline.readers.pdf import read_pdf

    pdfs = sorted(RENDERED.glob("*.pdf"))
    read_pdf(pdfs[0])  # warm-up
    pages, t = 0, time.perf_counter()
    for _ in range(rounds):
        for path in pdfs:
            pages += _pages(read_pdf(path, ocr=False))
    elapsed = time.perf_counter() - t
    return {"pages": pages, "seconds": elapsed, "pages_per_s": pages / elapsed}


def bench_pdf_check(rounds: int) -> dict[str, float]:
    """Milliseconds of :func:`check_pdf` on each committed PDF (the best of ``rounds``: the check
    runs on a file pdfplumber has just opened, as read_pdf runs it)."""
    import pdfplumber

    from pipeline.readers.pdf_check import check_pdf

    ms: dict[str, float] = {}
    for path in sorted(RENDERED.rglob("*.pdf")):
        best = float("inf")
        for _ in range(rounds + 1):  # the first round warms up the imports
            with pdfplumber.open(path) as pdf:
                t = time.perf_counter()
                check_pdf(pdf.doc, path.name)
                best = min(best, time.perf_counter() - t)
        with pdfplumber.open(path) as pdf:
            ms[f"{path.relative_to(RENDERED)} ({len(pdf.pages)} pages)"] = best * 1000
    return ms


def bench_ocr(max_pages: int) -> dict[str, float]:
    import pdfplumber

    from pipeline.readers.pdf import _ocr_lines

    scan = sorted((RENDERED / "scan").glob("*.pdf"))[0]
    with pdfplumber.open(scan) as pdf:
        pages = pdf.pages[:max_pages]
        _ocr_lines(pages[0])  # warm-up: loads the models
        t = time.perf_counter()
        lines = sum(len(_ocr_lines(page)) for page in pages)
        elapsed = time.perf_counter() - t
    return {"pages": len(pages), "lines": lines, "seconds": elapsed,
            "pages_per_s": len(pages) / elapsed}


def bench_docx(rounds: int) -> dict[str, float]:
    from pipeline.extract import extract_document, to_rows
    from pipeline.ingest import read_document

    docs = sorted(RENDERED.glob("*.docx"))
    to_rows(extract_document(read_document(docs[0])))  # warm-up
    n, t = 0, time.perf_counter()
    for _ in range(rounds):
        for path in docs:
            assert to_rows(extract_document(read_document(path)))["reports"]
            n += 1
    elapsed = time.perf_counter() - t
    return {"reports": n, "seconds": elapsed, "reports_per_s": n / elapsed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="passes over the renderings (default 5)")
    ap.add_argument("--ocr-pages", type=int, default=6, help="scanned pages to OCR (default 6)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    checks = bench_pdf_check(args.rounds)
    print("pdf size check before parsing: " + ", ".join(f"{name} {ms:.1f} ms"
                                                       for name, ms in checks.items()))
    r = bench_pdf_text(args.rounds)
    print(f"pdf text: {r['pages']} pages in {r['seconds']:.2f} s on one core = "
          f"{r['pages_per_s']:.1f} pages/s")
    r = bench_docx(args.rounds)
    print(f"docx (read + extract): {r['reports']} reports in {r['seconds']:.2f} s on one core = "
          f"{r['reports_per_s']:.1f} reports/s")
    r = bench_ocr(args.ocr_pages)
    print(f"ocr (RapidOCR): {r['pages']} scanned pages ({r['lines']} lines) in {r['seconds']:.2f} s "
          f"on one core = {r['pages_per_s']:.2f} pages/s")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
