"""The ``jixiao`` command line: a thin click layer over the library.

Library errors become messages and exit codes here and nowhere else. Prefect is imported only by
``jixiao run``; ``jixiao extract`` and ``jixiao evaluate`` never load it, so they start fast.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

DEFAULT_RAW = "data/raw"
DEFAULT_OUT = "data/processed"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jixiao")
def main() -> None:
    """jixiao (绩效): Chinese government performance self-evaluation reports into a tidy dataset.

    \b
    Typical use:
      jixiao run                       # data/raw -> data/processed (Parquet + DuckDB)
      jixiao extract report.txt        # one JSON line per report, no Prefect
      jixiao evaluate --gold tests/data/gold --docs tests/data/seeds
      jixiao sql "SELECT unit_name, total_score FROM reports"
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Dataset folder: one Parquet file per table and jixiao.duckdb.")
@click.option("--ocr/--no-ocr", default=True, show_default=True,
              help="Read scanned PDF pages with OCR (RapidOCR, ~1-3 s a page on one core).")
@click.option("--quiet", "-q", is_flag=True, help="No progress line per file, only the summary.")
def run(paths: tuple[Path, ...], out_dir: Path, ocr: bool, quiet: bool) -> None:
    """Process report files or folders (default: data/raw) with the Prefect flow.

    Reads .txt (any encoding), .docx, .doc/.wps/.et (through LibreOffice), .pdf (scans with OCR),
    .xlsx/.xls and .html pages; a folder mixing them gives one dataset.

    Every table is merged into OUT by report id (a hash of the report text): re-running on the same
    files replaces their rows, reports from earlier runs are kept, and files that cannot be read
    get a row in the errors table while the rest of the batch goes on.
    """
    import os

    # Prefect's temporary local server migrates its database on first use: allow it time on a
    # fresh machine, and keep it quiet (no telemetry, warnings only).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows import process_reports

    inputs = [str(p) for p in paths] or [DEFAULT_RAW]
    click.echo(f"jixiao: processing {', '.join(inputs)} -> {out_dir} (starting Prefect)…", err=True)
    summary = process_reports(paths=inputs, out=str(out_dir), ocr=ocr, progress=not quiet)
    tables = summary["tables"]
    click.echo(f"{summary['processed']} of {summary['files']} file(s) processed, "
               f"{summary['failed']} failed; dataset in {out_dir}")
    click.echo("  " + ", ".join(f"{name} {count}" for name, count in tables.items()))
    if summary["failed"]:
        click.echo("  see the errors table for what failed and why "
                   f"(jixiao sql --out {out_dir} \"SELECT * FROM errors\")")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--indent", type=int, default=None, help="Pretty-print with this indent (default: one line).")
@click.option("--ocr/--no-ocr", default=True, show_default=True,
              help="Read scanned PDF pages with OCR.")
def extract(files: tuple[Path, ...], indent: int | None, ocr: bool) -> None:
    """Print each report's extraction as one JSON line (no Prefect, no dataset written).

    A file that cannot be read prints {"source": …, "error": …} and the exit code is 1.
    """
    from pipeline.batch import process_file

    failed = 0
    for path in files:
        result = process_file(path, ocr=ocr)
        if result.error:
            failed += 1
            record: dict[str, object] = {"source": result.source, "error": result.error["message"],
                                         "stage": result.error["stage"]}
        else:
            record = {table: rows for table, rows in result.rows.items() if table != "texts"}
            record["report"] = record.pop("reports")[0]
        click.echo(json.dumps(record, ensure_ascii=False, indent=indent, default=str))
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--gold", "gold_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of <stem>.json annotations (gold/FORMAT.md).")
@click.option("--docs", "docs_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder holding the annotated documents (<stem>.txt …).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the summary and problems to this JSON file.")
@click.option("--quiet", is_flag=True, help="Only the per-kind lines and the SCORE line.")
@click.option("--by-value", is_flag=True,
              help="Match amounts/percentages by value and headings by title, ignoring offsets: "
                   "for docx/pdf/html renderings of the annotated reports (as score.py --by-value).")
@click.option("--present-only", is_flag=True,
              help="Score only the annotated reports that DOCS holds (not a missing one as all-missed).")
def evaluate(gold_dir: Path, docs_dir: Path, json_out: Path | None, quiet: bool, by_value: bool,
             present_only: bool) -> None:
    """Score the pipeline against gold annotations: precision/recall/F1 per kind and what was missed."""
    from pipeline.evaluate import GoldError, evaluate as run_evaluation, format_report

    try:
        ev = run_evaluation(gold_dir, docs_dir, by_value=by_value, present_only=present_only)
    except GoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(format_report(ev, verbose=not quiet))
    if json_out:
        json_out.write_text(json.dumps({"summary": ev.summary(), "problems": ev.problems},
                                       ensure_ascii=False, indent=1), encoding="utf-8")


@main.command()
@click.argument("query")
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Dataset folder.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def sql(query: str, out_dir: Path, as_csv: bool) -> None:
    """Run a read-only SQL QUERY on the dataset's DuckDB database.

    Tables: reports, sections, amounts, percentages, indicators, facts, checks, texts, errors.
    """
    import duckdb

    db = out_dir / "jixiao.duckdb"
    if not db.exists():
        raise click.ClickException(f"no dataset in {out_dir}: run `jixiao run --out {out_dir}` first")
    con = duckdb.connect(str(db), read_only=True)
    try:
        df = con.execute(query).fetchdf()
    except duckdb.Error as exc:
        raise click.ClickException(f"SQL error: {exc}") from exc
    finally:
        con.close()
    if as_csv:
        click.echo(df.to_csv(index=False), nl=False)
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.max_columns", 30,
                               "display.width", 200, "display.max_colwidth", 60):
            click.echo(df.to_string(index=False))


if __name__ == "__main__":
    main()
