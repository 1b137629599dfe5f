#!/usr/bin/env python3
"""Derive ``patterns/divisions.tsv`` from the administrative-division table bundled in ``cpca``.

``cpca`` (https://github.com/DQinYuan/chinese_province_city_area_mapper, MIT) ships
``cpca/resources/adcodes.csv`` (adcode, name, longitude, latitude): the 2021 national division
codes of every province, prefecture and county. The adcode carries the hierarchy (2 digits province,
4 digits prefecture, 6 digits county), so one pass turns it into rows of full official names:

    adcode  province  city    county
    511725  四川省    达州市  渠县        (a county)
    500120  重庆市            璧山区      (a district of a municipality: no prefecture)
    429004  湖北省            仙桃市      (省直辖县: no prefecture)
    530500  云南省    保山市              (a prefecture row, so city-level units resolve)
    530000  云南省                        (a province row)

``cpca`` is a development dependency only: the pipeline reads the committed TSV, never cpca.

Rebuild (from the repository root)::

    .venv/bin/python scripts/build_divisions.py            # writes patterns/divisions.tsv
    .venv/bin/python scripts/build_divisions.py --check    # exit 1 if the committed file is stale
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "patterns" / "divisions.tsv"

# Prefecture-level codes that are containers, not cities: their counties get an empty city.
# (重庆 500100 "市辖区" and 500200 "县"; 省直辖县级行政区划 41/42/46/65 90; municipalities' 市辖区.)
PSEUDO_CITY_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# County-level "市辖区" rows only stand for "the city's own districts" and name no place.
PSEUDO_COUNTY_NAMES = {"市辖区"}
MUNICIPALITIES = {"11", "12", "31", "50"}  # 北京 天津 上海 重庆: counties sit directly under them

# Renames after the cpca snapshot that this genre of reports uses (Chongqing reports are common).
# The old names stay in the table too: older reports print them. (adcode, province, city, county)
SUPPLEMENT = [
    ("500155", "重庆市", "", "梁平区"),  # 梁平县 → 梁平区 (2016)
    ("500156", "重庆市", "", "武隆区"),  # 武隆县 → 武隆区 (2016)
]

HEADER = """\
# Administrative divisions of China: adcode, province, city (prefecture), county — full official
# names. city is empty for counties directly under a municipality (北京/天津/上海/重庆) and for
# 省直辖县; county is empty on prefecture rows (and both on province rows).
# Source: cpca 0.5.5, cpca/resources/adcodes.csv (2021 national division codes), plus the few
# renames listed in scripts/build_divisions.py SUPPLEMENT. Generated — do not edit by hand.
# Rebuild: .venv/bin/python scripts/build_divisions.py
"""


def read_cpca_adcodes() -> list[tuple[str, str]]:
    """(6-digit adcode, name) rows of cpca's adcodes.csv, in file order."""
    raw = resources.files("cpca.resources").joinpath("adcodes.csv").read_text(encoding="utf-8")
    return [(row["adcode"][:6], row["name"].strip()) for row in csv.DictReader(io.StringIO(raw))]


def build_rows(adcodes: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """Rows (adcode, province, city, county), sorted by adcode.

    >>> build_rows([("510000", "四川省"), ("511700", "达州市"), ("511725", "渠县")])[-1]
    ('511725', '四川省', '达州市', '渠县')
    """
    names = dict(adcodes)
    rows: dict[str, tuple[str, str, str, str]] = {}
    for code, name in adcodes:
        province = names.get(code[:2] + "0000", "")
        if not province or code[:2] in {"71", "81", "82"}:
            continue  # Taiwan, Hong Kong, Macau: no county-level rows in this genre
        if code.endswith("0000"):
            rows[code] = (code, province, "", "")
            continue
        city_name = names.get(code[:4] + "00", "")
        is_pseudo_city = city_name in PSEUDO_CITY_NAMES or code[:2] in MUNICIPALITIES
        if code.endswith("00"):
            if not is_pseudo_city:
                rows[code] = (code, province, name, "")
            continue
        if name in PSEUDO_COUNTY_NAMES:
            continue
        rows[code] = (code, province, "" if is_pseudo_city else city_name, name)
    for row in SUPPLEMENT:
        rows.setdefault(row[0], row)
    return [rows[k] for k in sorted(rows)]


def render(rows: list[tuple[str, str, str, str]]) -> str:
    lines = [HEADER.rstrip("\n"), "adcode\tprovince\tcity\tcounty"]
    lines += ["\t".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="only compare with the committed file")
    args = ap.parse_args(argv)
    text = render(build_rows(read_cpca_adcodes()))
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{args.out} is stale: rebuild it")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10)) - HEADER.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
