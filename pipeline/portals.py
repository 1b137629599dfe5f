"""Government portals as data: what to crawl on each, read from ``patterns/portals/``.

* ``patterns/portals/<name>.yaml``: one portal: its ``name`` (the file's stem by default), a
  ``title``, its ``family`` (a file of ``families/``), the ``start_urls`` of its listing pages,
  and what to take: ``title_keywords`` (an item whose title holds one is a report),
  ``url_patterns`` (regexes: an item whose URL matches one is a report whatever its title),
  ``attachments`` (the types taken), ``min_report_chars`` and ``politeness`` overrides;
  ``enabled: false`` keeps a file without crawling it.
* ``patterns/portals/families/<family>.yaml``: what the sites of one content-management system
  share: ``article_url`` (a regex on an item page's URL path), the listing's ``items`` and
  ``pages`` (pager links, or the pager script and the page URLs it numbers), the article's
  ``body`` and ``attachments`` links, and ``download_url`` (attachment links without an extension).
* ``patterns/portals/defaults.yaml``: what a portal file leaves out.

A folder given with ``--portals DIR`` holds portal files; its ``families/`` and ``defaults.yaml``,
when present, come before the packaged ones. :func:`check` reads every file and returns one
message per mistake (file, key, what is wrong); :func:`load` raises :class:`PortalError` with them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline.patterns import PATTERNS_DIR

PORTALS_DIR = PATTERNS_DIR / "portals"
FAMILIES = "families"
DEFAULTS = "defaults.yaml"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Attachment types a portal may take: the formats the readers read (pipeline/ingest.py)
ATTACHMENT_TYPES = ("pdf", "doc", "docx", "wps", "xls", "xlsx", "et")
# The least delay and the most concurrency a portal file may ask for: small county servers
MIN_DELAY = 0.1
MAX_CONCURRENCY = 4

_PORTAL_KEYS = {"name", "title", "family", "start_urls", "title_keywords", "url_patterns",
                "attachments", "min_report_chars", "politeness", "enabled"}
_FAMILY_KEYS = {"family", "description", "article_url", "listing", "article"}
_LISTING_KEYS = {"items", "pages"}
_PAGES_KEYS = {"links", "script", "script_url"}
_ARTICLE_KEYS = {"body", "attachments", "download_url"}
_DEFAULT_KEYS = {"title_keywords", "attachments", "min_report_chars", "politeness", "user_agent"}
# politeness key: (type, least value, most value, what it is)
_POLITENESS: dict[str, tuple[type, float, float, str]] = {
    "delay": (float, MIN_DELAY, 3600, "seconds between two requests to one host"),
    "concurrency": (int, 1, MAX_CONCURRENCY, "requests in flight to one host"),
    "timeout": (float, 0.1, 3600, "seconds before a request is given up"),
    "retries": (int, 0, 10, "retries of a timeout or a 5xx answer"),
    "backoff": (float, 0, 3600, "seconds before the first retry"),
    "max_redirects": (int, 0, 20, "redirects followed"),
    "max_file_mb": (float, 0.01, 1024, "MiB a download may have"),
    "max_listing_pages": (int, 1, 10_000, "listing pages followed from a start URL"),
}


class PortalError(ValueError):
    """Portal files with mistakes; ``problems`` has one message per mistake."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Politeness:
    delay: float
    concurrency: int
    timeout: float
    retries: int
    backoff: float
    max_redirects: int
    max_file_mb: float
    max_listing_pages: int


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    article_url: str
    items: str
    page_links: str | None
    page_script: str | None
    page_script_url: str | None
    body: str
    attachments: str
    download_url: str | None


@dataclass(frozen=True)
class Portal:
    name: str
    title: str
    family: Family
    start_urls: tuple[str, ...]
    title_keywords: tuple[str, ...]
    url_patterns: tuple[str, ...]
    attachments: tuple[str, ...]
    min_report_chars: int
    politeness: Politeness
    user_agent: str
    path: str
    enabled: bool = True

    def is_report(self, title: str, url: str) -> bool:
        """Whether a listing item is a report: its title holds a keyword, or its URL matches.

        >>> p = example_portal()
        >>> p.is_report("某镇2023年度部门整体支出绩效自评报告", "http://x.gov.cn/t1.html")
        True
        >>> p.is_report("关于召开春季防火工作会议的通知", "http://x.gov.cn/t2.html")
        False
        """
        return (any(word in title for word in self.title_keywords)
                or any(re.search(p, url) for p in self.url_patterns))


class _Problems:
    """Collects the mistakes of the files being read, each prefixed with its file and key."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: Path | str, key: str, message: str) -> None:
        self.messages.append(f"{path}: {key}: {message}" if key else f"{path}: {message}")


def _read_yaml(path: Path, problems: _Problems) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(path, "", f"cannot be read ({exc})")
        return None
    except yaml.YAMLError as exc:
        problems.add(path, "", f"is not valid YAML: {str(exc).splitlines()[0]}")
        return None
    if not isinstance(data, dict):
        problems.add(path, "", "must be a mapping of keys to values at the top level")
        return None
    return data


def _unknown_keys(data: dict[str, Any], allowed: set[str], path: Path, where: str,
                  problems: _Problems) -> None:
    for key in sorted(set(data) - allowed, key=str):
        problems.add(path, f"{where}{key}", f"unknown key (known: {', '.join(sorted(allowed))})")


def _selector(value: Any, path: Path, key: str, problems: _Problems) -> str | None:
    """A CSS selector, or an XPath one when it starts with / or ( : checked by compiling it."""
    if not isinstance(value, str) or not value.strip():
        problems.add(path, key, "must be a CSS selector (or an XPath starting with / or ( )")
        return None
    try:
        if value.lstrip().startswith(("/", "(")):
            from lxml import etree

            etree.XPath(value)
        else:
            from parsel.csstranslator import HTMLTranslator

            HTMLTranslator().css_to_xpath(value)
    except Exception as exc:  # cssselect's SelectorError, lxml's XPathSyntaxError
        problems.add(path, key, f"is not a valid selector ({exc}): {value!r}")
        return None
    return value


def _regex(value: Any, path: Path, key: str, problems: _Problems) -> str | None:
    if not isinstance(value, str) or not value:
        problems.add(path, key, "must be a regular expression")
        return None
    try:
        compiled = re.compile(value)
    except re.error as exc:
        problems.add(path, key, f"is not a valid regular expression ({exc}): {value!r}")
        return None
    if compiled.fullmatch(""):
        problems.add(path, key, f"matches everything (the empty string): {value!r}")
        return None
    return value


def _words(value: Any, path: Path, key: str, problems: _Problems) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip()
                                                           for w in value):
        problems.add(path, key, "must be a list of non-empty words")
        return None
    return tuple(w.strip() for w in value)


def _family(path: Path, problems: _Problems) -> Family | None:
    data = _read_yaml(path, problems)
    if data is None:
        return None
    before = len(problems.messages)
    _unknown_keys(data, _FAMILY_KEYS, path, "", problems)
    listing, article = data.get("listing"), data.get("article")
    for key, value, allowed in (("listing", listing, _LISTING_KEYS), ("article", article, _ARTICLE_KEYS)):
        if not isinstance(value, dict):
            problems.add(path, key, "missing, or not a mapping")
        else:
            _unknown_keys(value, allowed, path, f"{key}.", problems)
    listing = listing if isinstance(listing, dict) else {}
    article = article if isinstance(article, dict) else {}
    pages = listing.get("pages") or {}
    if not isinstance(pages, dict):
        problems.add(path, "listing.pages", "must be a mapping (links, script, script_url)")
        pages = {}
    _unknown_keys(pages, _PAGES_KEYS, path, "listing.pages.", problems)
    if data.get("family") != path.stem:
        problems.add(path, "family", f"must be the file's name, {path.stem!r} (found {data.get('family')!r})")
    script = pages.get("script")
    if script is not None:
        script = _regex(script, path, "listing.pages.script", problems)
        if script and not {"count", "stem", "ext"} <= set(re.compile(script).groupindex):
            problems.add(path, "listing.pages.script", "must capture the groups count, stem and ext")
        if not isinstance(pages.get("script_url"), str) or "{n}" not in pages.get("script_url", ""):
            problems.add(path, "listing.pages.script_url", "must be a URL pattern with {n} "
                         "(and {stem}, {ext}), e.g. '{stem}_{n}.{ext}'")
    family = Family(
        name=path.stem, description=str(data.get("description") or ""),
        article_url=_regex(data.get("article_url"), path, "article_url", problems) or "",
        items=_selector(listing.get("items"), path, "listing.items", problems) or "",
        page_links=(_selector(pages["links"], path, "listing.pages.links", problems)
                    if "links" in pages else None),
        page_script=script, page_script_url=pages.get("script_url"),
        body=_selector(article.get("body"), path, "article.body", problems) or "",
        attachments=_selector(article.get("attachments"), path, "article.attachments", problems) or "",
        download_url=(_regex(article["download_url"], path, "article.download_url", problems)
                      if "download_url" in article else None))
    return family if len(problems.messages) == before else None


def _politeness(value: Any, base: dict[str, Any], path: Path, problems: _Problems) -> dict[str, Any]:
    if value is None:
        return dict(base)
    if not isinstance(value, dict):
        problems.add(path, "politeness", "must be a mapping, e.g. {delay: 2}")
        return dict(base)
    out = dict(base)
    for key, given in value.items():
        if key not in _POLITENESS:
            problems.add(path, f"politeness.{key}", f"unknown key (known: {', '.join(_POLITENESS)})")
            continue
        kind, low, high, what = _POLITENESS[key]
        ok = isinstance(given, (int, float)) and not isinstance(given, bool)
        if ok and kind is int and float(given) != int(given):
            ok = False
        if not ok or not low <= given <= high:
            problems.add(path, f"politeness.{key}",
                         f"must be {'a whole number' if kind is int else 'a number'} from {low:g} "
                         f"to {high:g} ({what}), found {given!r}")
            continue
        out[key] = kind(given)
    return out


def _defaults(folder: Path, problems: _Problems) -> dict[str, Any]:
    path = folder / DEFAULTS if (folder / DEFAULTS).is_file() else PORTALS_DIR / DEFAULTS
    data = _read_yaml(path, problems) or {}
    _unknown_keys(data, _DEFAULT_KEYS, path, "", problems)
    missing = sorted(set(_POLITENESS) - set(data.get("politeness") or {}))
    if missing:
        problems.add(path, "politeness", f"must give every key; missing {', '.join(missing)}")
    data["politeness"] = _politeness(data.get("politeness"), {}, path, problems)
    return data


def _families(folder: Path, problems: _Problems) -> dict[str, Family]:
    families: dict[str, Family] = {}
    for where in (PORTALS_DIR / FAMILIES, folder / FAMILIES):  # the folder's own come last: they win
        if where.is_dir():
            for path in sorted(where.glob("*.yaml")):
                family = _family(path, problems)
                if family is not None:
                    families[family.name] = family
    return families


def _portal(path: Path, defaults: dict[str, Any], families: dict[str, Family],
            problems: _Problems) -> Portal | None:
    data = _read_yaml(path, problems)
    if data is None:
        return None
    before = len(problems.messages)
    _unknown_keys(data, _PORTAL_KEYS, path, "", problems)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME.match(name):
        problems.add(path, "name", f"must be lower-case letters, digits, - or _ (it names the folder "
                     f"data/raw/<name>), found {name!r}")
    family = families.get(data.get("family"))
    if family is None:
        problems.add(path, "family", f"unknown family {data.get('family')!r} (known: "
                     f"{', '.join(sorted(families)) or 'none'}; a family is a file of {FAMILIES}/)")
    urls = data.get("start_urls")
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not urls:
        problems.add(path, "start_urls", "must list the portal's listing pages (http:// or https:// URLs)")
        urls = []
    for url in urls:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problems.add(path, "start_urls", f"not an http(s) URL: {url!r}")
    keywords = (_words(data["title_keywords"], path, "title_keywords", problems)
                if "title_keywords" in data else tuple(defaults.get("title_keywords") or ()))
    patterns = tuple(p for p in (_regex(p, path, "url_patterns", problems)
                                 for p in (data.get("url_patterns") or [])) if p)
    attachments = data.get("attachments", defaults.get("attachments"))
    if not isinstance(attachments, list) or not attachments:
        problems.add(path, "attachments", f"must list types from: {', '.join(ATTACHMENT_TYPES)}")
        attachments = []
    for kind in attachments:
        if kind not in ATTACHMENT_TYPES:
            problems.add(path, "attachments", f"unknown type {kind!r} (jixiao reads "
                         f"{', '.join(ATTACHMENT_TYPES)})")
    min_chars = data.get("min_report_chars", defaults.get("min_report_chars", 300))
    if not isinstance(min_chars, int) or isinstance(min_chars, bool) or min_chars < 0:
        problems.add(path, "min_report_chars", f"must be a whole number ≥ 0, found {min_chars!r}")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.add(path, "enabled", f"must be true or false, found {enabled!r}")
    politeness = _politeness(data.get("politeness"), defaults["politeness"], path, problems)
    if len(problems.messages) != before or family is None:
        return None
    return Portal(name=name, title=str(data.get("title") or name), family=family,
                  start_urls=tuple(urls), title_keywords=keywords or (), url_patterns=patterns,
                  attachments=tuple(attachments), min_report_chars=min_chars,
                  politeness=Politeness(**politeness),
                  user_agent=str(defaults.get("user_agent", "jixiao")).replace("{version}", _version()),
                  path=str(path), enabled=enabled)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("jixiao")
    except metadata.PackageNotFoundError:
        return "dev"


def check(folder: str | Path | None = None) -> tuple[list[Portal], list[str]]:
    """Read every portal of ``folder`` (default: the packaged ``patterns/portals``) with the
    families and defaults it uses; returns the portals that are right and one message per mistake."""
    folder = Path(folder) if folder else PORTALS_DIR
    problems = _Problems()
    if not folder.is_dir():
        problems.add(folder, "", "no such folder of portal files")
        return [], problems.messages
    defaults = _defaults(folder, problems)
    families = _families(folder, problems)
    portals: list[Portal] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == DEFAULTS:
            continue
        portal = _portal(path, defaults, families, problems)
        if portal is not None:
            if any(p.name == portal.name for p in portals):
                problems.add(path, "name", f"{portal.name!r} is already the name of another portal")
                continue
            portals.append(portal)
    return portals, problems.messages


def load(folder: str | Path | None = None, names: list[str] | None = None) -> list[Portal]:
    """The portals named (default: every enabled one); raises :class:`PortalError` when a file
    has a mistake or a name is not a portal."""
    portals, problems = check(folder)
    if problems:
        raise PortalError(problems)
    if not names:
        return [p for p in portals if p.enabled]
    by_name = {p.name: p for p in portals}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise PortalError([f"no portal named {n!r} in {folder or PORTALS_DIR} (portals: "
                           f"{', '.join(sorted(by_name)) or 'none'})" for n in unknown])
    return [by_name[n] for n in names]


def example_portal() -> Portal:
    """A portal of the TRS family with the default settings (for examples and tests)."""
    problems = _Problems()
    defaults = _defaults(PORTALS_DIR, problems)
    family = _families(PORTALS_DIR, problems)["trs"]
    return Portal(name="example", title="示例县人民政府", family=family,
                  start_urls=("http://www.example.gov.cn/xxgk/index.html",),
                  title_keywords=tuple(defaults["title_keywords"]), url_patterns=(),
                  attachments=ATTACHMENT_TYPES, min_report_chars=defaults["min_report_chars"],
                  politeness=Politeness(**defaults["politeness"]), user_agent="jixiao", path="")
