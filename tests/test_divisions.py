"""The administrative-division lookup (pipeline/divisions.py over patterns/divisions.tsv)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from pipeline import divisions


@dataclass(frozen=True)
class Case:
    county: str | None
    city: str | None
    province: str | None
    hint: str | None
    expected: tuple[str, str | None, str | None] | None  # (province, city, county) or None


# Counties of the seed and sample reports.
SEEDS = [
    Case("渠县", None, None, None, ("四川省", "达州市", "渠县")),
    Case("璧山区", None, None, None, ("重庆市", None, "璧山区")),
    Case("丰都县", None, None, None, ("重庆市", None, "丰都县")),
    Case("绥宁县", None, None, None, ("湖南省", "邵阳市", "绥宁县")),
    Case("昌宁县", None, None, None, ("云南省", "保山市", "昌宁县")),
    Case("阿拉善左旗", None, None, None, ("内蒙古自治区", "阿拉善盟", "阿拉善左旗")),
    Case("贵池区", "池州市", None, None, ("安徽省", "池州市", "贵池区")),
    Case(None, "保山市", None, None, ("云南省", "保山市", None)),  # a city-level unit
]

TRICKY = [
    Case("璧山", None, None, None, ("重庆市", None, "璧山区")),       # short form, unambiguous
    Case("仙桃市", None, None, None, ("湖北省", None, "仙桃市")),     # 省直辖县: no prefecture
    Case("海淀区", None, None, None, ("北京市", None, "海淀区")),     # municipality
    Case("城关区", None, None, None, None),                           # several 城关区: ambiguous
    Case("城关区", None, "甘肃省", None, ("甘肃省", "兰州市", "城关区")),
    Case("城关区", None, None, "兰州市城关区财政局", ("甘肃省", "兰州市", "城关区")),
    Case("朝阳区", None, None, "吉林省长春市", ("吉林省", "长春市", "朝阳区")),
    Case("无此县", None, None, None, None),                           # unknown
    Case("渠县", "保山市", None, None, None),                         # contradicting names
    Case(None, "红河州", None, None, ("云南省", "红河哈尼族彝族自治州", None)),  # 自治州 alias
]

BUGS_FOUND: list[Case] = [
    # The old Chongqing counties renamed in 2016 are missing from cpca's snapshot; supplemented.
    Case("武隆区", None, None, None, ("重庆市", None, "武隆区")),
    Case("武隆县", None, None, None, ("重庆市", None, "武隆县")),
]


@pytest.mark.parametrize("case", SEEDS + TRICKY + BUGS_FOUND,
                         ids=lambda c: f"{c.county or ''}/{c.city or ''}/{c.province or ''}")
def test_resolve(case: Case) -> None:
    found = divisions.resolve(county=case.county, city=case.city, province=case.province,
                              text_hint=case.hint)
    got = None if found is None else (found.province, found.city, found.county)
    assert got == case.expected


def test_table_loads_once_and_has_every_level() -> None:
    table = divisions.load_divisions()
    assert divisions.load_divisions() is table  # cached
    levels = {row.level for row in table.rows}
    assert levels == {"province", "city", "county"}
    assert len([r for r in table.rows if r.level == "county"]) > 2800


@pytest.mark.parametrize("name,level,short", [
    ("璧山区", "county", "璧山"), ("石柱土家族自治县", "county", "石柱"), ("渠县", "county", None),
    ("内蒙古自治区", "province", "内蒙古"), ("广西壮族自治区", "province", "广西"),
    ("保山市", "city", "保山"), ("阿拉善盟", "city", "阿拉善"),
])
def test_short_name(name: str, level: str, short: str | None) -> None:
    assert divisions.short_name(name, level) == short


@pytest.mark.parametrize("unit,names,rest", [
    ("重庆市璧山区广普镇人民政府", ["重庆市", "璧山区"], "广普镇人民政府"),
    ("重庆市璧山区人民政府青杠街道办事处", ["重庆市", "璧山区"], "人民政府青杠街道办事处"),
    ("池州市贵池区棠溪镇人民政府", ["池州市", "贵池区"], "棠溪镇人民政府"),
    ("南县政协", ["南县"], "政协"),
    ("保山市林业和草原局", ["保山市"], "林业和草原局"),
    ("鸡飞镇", [], "鸡飞镇"),
    ("璧山广普镇人民政府", ["璧山"], "广普镇人民政府"),     # unambiguous short form + township
    ("公安局", [], "公安局"),                               # not 公安县 + 局
    ("东城街道办事处", [], "东城街道办事处"),               # not 东城区 + 街道
])
def test_parse_prefix(unit: str, names: list[str], rest: str) -> None:
    hits, pos = divisions.parse_prefix(unit)
    assert [h.name for h in hits] == names
    assert unit[pos:] == rest


def test_find_names_spans_slice_back() -> None:
    text = "根据《阿拉善左旗财政局关于…》要求,阿拉善左旗乌力吉苏木人民政府开展"
    hits = divisions.find_names(text)
    assert [h.name for h in hits] == ["阿拉善左旗", "阿拉善左旗"]
    assert all(text[h.start:h.end] == h.name for h in hits)


def test_short_name_needs_a_locating_word() -> None:
    assert [h.divisions[0].county for h in divisions.short_name_hits("松木塘镇地处桃江偏远乡镇")] == ["桃江县"]
    assert divisions.short_name_hits("桃江偏远乡镇") == []


def test_committed_tables_are_what_the_build_script_makes() -> None:
    """Rebuilt from the verified package tarball (when it is cached here: the build fetches it
    from the npm registry, which CI does not reach) the tables are byte-identical."""
    pytest.importorskip("cpca")
    from scripts import build_divisions as build

    if not build.CACHE.is_file():
        pytest.skip(f"{build.CACHE} not cached (run scripts/build_divisions.py once)")
    if not build.MCA_CACHE.is_file():
        pytest.skip(f"{build.MCA_CACHE} not cached (run scripts/build_divisions.py once)")
    texts = build.build(build.fetch_tarball(build.CACHE), build.fetch_mca_wheel(build.MCA_CACHE))
    for path, text in zip((build.DIVISIONS_OUT, build.TOWNSHIPS_OUT, build.ALIASES_OUT), texts):
        assert path.read_text(encoding="utf-8") == text, path


def test_tables_state_their_source_and_vintage() -> None:
    from scripts import build_divisions as build

    for path in (build.DIVISIONS_OUT, build.TOWNSHIPS_OUT):
        head = path.read_text(encoding="utf-8")[:1200]
        assert f"{build.PACKAGE} {build.VERSION}" in head
        assert "2023-06-30" in head and "统计用区划代码" in head


def test_build_refuses_a_tarball_that_is_not_the_published_one() -> None:
    from scripts import build_divisions as build

    with pytest.raises(SystemExit, match="integrity mismatch"):
        build.verify(b"not the package")


def test_every_township_hangs_from_a_known_division() -> None:
    table = divisions.load_townships()  # raises on an unknown parent code
    rows = {r for rows in table.by_key.values() for r in rows}  # an alias repeats its township
    assert len(rows) > 41_000
    assert len({code for code, _, _ in rows}) == len(rows)
    assert all(len(code) == 12 and code.isdigit() for code, _, _ in rows)


def test_a_newer_name_resolves_to_the_township_it_was() -> None:
    """凉水河乡 became 凉水河镇 after 2023 (the civil-affairs table of 2025-12-31 lists the 镇):
    a recent report's name finds the 2023 code; the aliases state their source and vintage."""
    from scripts import build_divisions as build

    county = divisions.resolve(county="青龙满族自治县")
    town = divisions.resolve_township("凉水河镇", within=county)
    assert (town.code, town.township) == ("130321218000", "凉水河乡")
    head = build.ALIASES_OUT.read_text(encoding="utf-8")[:800]
    assert f"{build.MCA_PACKAGE} {build.MCA_VERSION}" in head and "2025-12-31" in head
    # never a downgrade: a 镇 printed as a 乡 is not the 镇
    assert divisions.resolve_township("凉水河乡", within=divisions.resolve(county="丹江口市")) is None


@dataclass(frozen=True)
class TownshipCase:
    name: str
    within: str | None          # a county name to search in, or None for the whole country
    hint: str | None
    expected: tuple[str, str | None, str | None, str] | None  # province, city, county, township


TOWNSHIPS = [
    # townships of the seeds and samples
    TownshipCase("广普镇", "璧山区", None, ("重庆市", None, "璧山区", "广普镇")),
    TownshipCase("三堂街镇", None, None, ("湖南省", "益阳市", "桃江县", "三堂街镇")),
    TownshipCase("松木塘镇", None, None, ("湖南省", "益阳市", "桃江县", "松木塘镇")),
    TownshipCase("鸡飞镇", None, None, ("云南省", "保山市", "昌宁县", "鸡飞镇")),
    TownshipCase("草市街道", "青羊区", None, ("四川省", "成都市", "青羊区", "草市街街道")),
    TownshipCase("草市街道", None, None, ("四川省", "成都市", "青羊区", "草市街街道")),  # printed so
    TownshipCase("东城街道", None, "广东省东莞市东城街道",                 # a county-less city
                 ("广东省", "东莞市", None, "东城街道")),
]

TOWNSHIP_TRAPS = [
    TownshipCase("城关镇", None, None, None),                # 88 of them: never guessed
    TownshipCase("草市乡", None, None, None),                # 草市镇 and 草市街街道: other kinds
    TownshipCase("三堂街镇", None, "云南省保山市", None),    # the text names somewhere else
    TownshipCase("广普镇", "渠县", None, None),              # not in that county
    TownshipCase("无此镇", None, None, None),
]


@pytest.mark.parametrize("case", TOWNSHIPS + TOWNSHIP_TRAPS, ids=lambda c: f"{c.name}/{c.within}")
def test_resolve_township(case: TownshipCase) -> None:
    within = divisions.resolve(county=case.within) if case.within else None
    found = divisions.resolve_township(case.name, within=within, text_hint=case.hint)
    got = None if found is None else (found.province, found.city, found.county, found.township)
    assert got == case.expected
    if found is not None:
        assert found.code_of("township") == found.code and found.code_of("province") is not None


def _tsv_rows(path) -> list[list[str]]:
    lines = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("#")]
    return lines[1:]  # after the header


def test_seed_reports_carry_the_codes_of_the_vendored_source() -> None:
    """Issue 8: every seed (all township units) has its 统计用区划代码 down to the township, and
    each code is the one the source table gives for that name under that county; when the package
    tarball is cached here, the codes are also checked against its own streets.csv."""
    from pipeline.extract import extract_path
    from scripts import build_divisions as build
    from tests.conftest import SEEDS

    counties = {(r[1], r[3]): r[0] for r in _tsv_rows(build.DIVISIONS_OUT) if r[3]}
    townships = {(r[1], r[2]): r[0] for r in _tsv_rows(build.TOWNSHIPS_OUT)}
    streets = None
    if build.CACHE.is_file():
        src = build.read_source(build.fetch_tarball(build.CACHE))
        streets = {(s["areaCode"], s["name"]): s["code"] for s in src.streets}
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 5
    for path in seeds:
        report = {f.field: f.value for f in extract_path(path).facts}
        county_code = counties[(report["province"], report["county"])]
        assert report["county_code"] == county_code, path.name
        assert report["township_code"] == townships[(county_code, report["township"])], path.name
        assert report["province_code"] == county_code[:2] + "0" * 10
        assert report["division_scheme"] == "stats2023"
        if streets is not None:
            assert streets[(county_code[:6], report["township"])] == report["township_code"][:9]
