"""Portal files (pipeline/portals.py and `jixiao portals check`): the packaged families and
defaults load, a portal of a known family is a few lines, and every kind of mistake gets a
message naming its file and key."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import portals
from pipeline.portals import PortalError

GOOD = """\
name: some-county
title: 某某县人民政府
family: trs
start_urls: [https://www.example.gov.cn/xxgk/fdzdgknr/czyjs/index.html]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_families_and_defaults_load() -> None:
    found, problems = portals.check()
    assert problems == []
    assert all(p.enabled for p in found)
    family_files = sorted(p.stem for p in (portals.PORTALS_DIR / "families").glob("*.yaml"))
    assert family_files == ["gd_post", "trs", "vsb"]


def test_a_portal_of_a_known_family_takes_four_lines(tmp_path: Path) -> None:
    _write(tmp_path, "some-county.yaml", GOOD)
    (portal,) = portals.load(tmp_path)
    assert portal.family.name == "trs"
    assert portal.politeness.delay == 1.0 and portal.politeness.concurrency == 1
    assert "绩效自评" in portal.title_keywords
    assert portal.attachments == portals.ATTACHMENT_TYPES
    assert portal.user_agent.startswith("jixiao/") and "{version}" not in portal.user_agent
    assert portal.is_report("某镇2023年度部门整体支出绩效自评报告", "https://x/t1.html")
    assert not portal.is_report("2024年政府工作报告", "https://x/t2.html")


def test_overrides_and_url_patterns(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD.replace("name: some-county", "name: a")
           + "politeness: {delay: 2.5, max_file_mb: 5}\nurl_patterns: ['/jxpj/']\n"
           "attachments: [pdf]\n")
    (portal,) = portals.load(tmp_path)
    assert portal.politeness.delay == 2.5 and portal.politeness.max_file_mb == 5
    assert portal.politeness.timeout == 60  # the default kept
    assert portal.attachments == ("pdf",)
    assert portal.is_report("通知", "https://x/jxpj/t3.html")


def test_every_mistake_is_named_with_its_file_and_key(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.yaml", """\
name: Bad Name
family: nope
start_urls: [ftp://example.gov.cn/]
politness: {delay: 2}
politeness: {delay: 0, concurrency: 9, retries: 1.5}
attachments: [zip]
url_patterns: ['(']
""")
    _, problems = portals.check(tmp_path)
    expected = ["politness: unknown key", "name: must be lower-case", "family: unknown family 'nope'",
                "start_urls: not an http(s) URL: 'ftp://example.gov.cn/'",
                "attachments: unknown type 'zip'", "politeness.delay: must be a number from 0.1",
                "politeness.concurrency: must be a whole number from 1 to 4",
                "politeness.retries: must be a whole number", "url_patterns: is not a valid regular"]
    for text in expected:
        assert any(p.startswith(f"{bad}: {text}") for p in problems), (text, problems)
    assert len(problems) == len(expected)
    with pytest.raises(PortalError) as raised:
        portals.load(tmp_path)
    assert raised.value.problems == problems


def test_a_family_of_the_folder_is_checked_too(tmp_path: Path) -> None:
    _write(tmp_path, "families/mycms.yaml", """\
family: mycms
article_url: ''
listing: {items: 'ul li a[', pages: {script: 'page\\((\\d+)\\)'}}
article: {body: '//div[@class=', attachments: 'a[href]'}
""")
    _write(tmp_path, "c.yaml", GOOD.replace("family: trs", "family: mycms").replace("some-county", "c"))
    _, problems = portals.check(tmp_path)
    where = str(tmp_path / "families" / "mycms.yaml")
    for key in ("article_url", "listing.items", "article.body", "listing.pages.script",
                "listing.pages.script_url"):
        assert any(p.startswith(f"{where}: {key}:") for p in problems), (key, problems)
    # the portal of the broken family is refused, saying so
    assert any("c.yaml: family: unknown family 'mycms'" in p for p in problems)


def test_broken_yaml_and_duplicate_names(tmp_path: Path) -> None:
    _write(tmp_path, "one.yaml", GOOD)
    _write(tmp_path, "two.yaml", GOOD)
    _write(tmp_path, "three.yaml", "name: [unclosed\n")
    found, problems = portals.check(tmp_path)
    assert [p.name for p in found] == ["some-county"]
    assert any("three.yaml: is not valid YAML" in p for p in problems)
    assert any("two.yaml: name: 'some-county' is already the name" in p for p in problems)


def test_load_by_name(tmp_path: Path) -> None:
    _write(tmp_path, "some-county.yaml", GOOD)
    _write(tmp_path, "paused.yaml", GOOD.replace("some-county", "paused") + "enabled: false\n")
    assert [p.name for p in portals.load(tmp_path)] == ["some-county"]
    assert [p.name for p in portals.load(tmp_path, ["paused"])] == ["paused"]
    with pytest.raises(PortalError, match="no portal named 'elsewhere'"):
        portals.load(tmp_path, ["elsewhere"])


def test_jixiao_portals_check(tmp_path: Path) -> None:
    _write(tmp_path, "some-county.yaml", GOOD)
    jixiao = [sys.executable, "-m", "pipeline.cli", "portals", "check", "--portals", str(tmp_path)]
    ok = subprocess.run(jixiao, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "ok  some-county: 某某县人民政府, family trs" in ok.stdout
    _write(tmp_path, "broken.yaml", GOOD.replace("some-county", "broken").replace("trs", "cms9"))
    bad = subprocess.run(jixiao, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "broken.yaml: family: unknown family 'cms9'" in bad.stderr
    assert "1 mistake(s)" in bad.stderr
