"""The Scrapy spider of one portal, and the settings that make it polite.

Scrapy does the crawling: robots.txt (``ROBOTSTXT_OBEY``), one request at a time per host
with at least the portal's delay between two (``CONCURRENT_REQUESTS_PER_DOMAIN``,
``DOWNLOAD_DELAY`` without jitter, AutoThrottle on top, which only ever slows down), retries of
timeouts, lost connections and 5xx answers (``RETRY_HTTP_CODES``: no 4xx), bounded redirects,
the size cap (``download_maxsize``), and a job folder (``JOBDIR``) whose request queue survives
a stop. Two small middlewares add what it lacks: a pause before each retry, doubled each time
(:class:`Backoff`), and ``If-None-Match`` / ``If-Modified-Since`` from the last time a file was
collected (:class:`ConditionalRequests`; Scrapy's HTTP cache would keep a second copy of every
file, and under RFC 2616's heuristics would not even ask again for weeks).

The spider reads what the portal's family file describes: listing items (links whose title
says they are reports), the pager, item pages (the article, its attachments) and decodes every
page from its bytes (:func:`pipeline.readers.html.decode_html`), whatever the header says.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError

from pipeline.crawl.files import (RawFiles, document_type, item_folder, looks_like_html, sha256,
                                  text_hash)
from pipeline.portals import Portal
from pipeline.readers.html import decode_html, iso_date, page_fields

ALREADY_COLLECTED = "already collected by this job"


def settings(portal: Portal, job: str) -> dict[str, Any]:
    """Scrapy's settings for crawling ``portal`` with its job folder ``job``."""
    polite = portal.politeness
    return {
        "BOT_NAME": "jixiao",
        "USER_AGENT": portal.user_agent,
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": "jixiao",
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": polite.concurrency,
        "DOWNLOAD_DELAY": polite.delay,
        "DOWNLOAD_DELAY_JITTER": 0,  # the delay is a floor, not an average
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": polite.delay,
        "AUTOTHROTTLE_MAX_DELAY": max(60.0, polite.delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_TIMEOUT": polite.timeout,
        "RETRY_TIMES": polite.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524],
        "REDIRECT_MAX_TIMES": polite.max_redirects,
        "DOWNLOAD_MAXSIZE": int(polite.max_file_mb * 2**20),
        "DOWNLOAD_WARNSIZE": 0,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",  # every answer is a manifest row (and a progress line) already
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",
        "JOBDIR": job,
        # the spider says what was asked already (PortalSpider.want): Scrapy's filter would drop
        # the second step of a redirect loop without a word, and its JOBDIR file counts a
        # request lost in flight as done
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        "DOWNLOADER_MIDDLEWARES": {"pipeline.crawl.spider.ConditionalRequests": 560,
                                   "pipeline.crawl.spider.Backoff": 540},
    }


class Backoff:
    """Wait before a retry: the portal's ``backoff`` seconds, doubled for each next retry."""

    def __init__(self, base: float):
        self.base = base

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.spider.portal.politeness.backoff)

    async def process_request(self, request, spider=None):
        tries = request.meta.get("retry_times", 0)
        if tries and self.base:
            await asyncio.sleep(self.base * 2 ** (tries - 1))
        return None


class ConditionalRequests:
    """Ask for a file only if it changed since it was collected (its ETag / Last-Modified)."""

    def __init__(self, files: RawFiles):
        self.files = files

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.spider.files)

    def process_request(self, request, spider=None):
        if request.meta.get("kind") != "file":
            return None
        if self.files.collected(request.url) and not request.meta.get("retry_times"):
            # asked twice (once from a stopped run's queue, once from a page read again)
            raise IgnoreRequest(ALREADY_COLLECTED)
        before = self.files.previous(request.url)
        if before:
            if before.get("etag"):
                request.headers.setdefault("If-None-Match", before["etag"])
            if before.get("last_modified"):
                request.headers.setdefault("If-Modified-Since", before["last_modified"])
        return None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _select(response, selector: str):
    return response.xpath(selector) if selector.lstrip().startswith(("/", "(")) else response.css(selector)


def _hrefs(selected) -> Iterator[str]:
    for node in selected:
        href = node.attrib.get("href") if hasattr(node, "attrib") and node.attrib else None
        value = href if href is not None else node.get()
        if value and not value.lstrip().lower().startswith(("javascript:", "mailto:", "#")):
            yield value.strip()


def _links(page, selected) -> Iterator[tuple[str, Any]]:
    """(absolute http(s) URL, the link) of each selected link of ``page``."""
    for link in selected:
        for href in _hrefs([link]):
            url = page.urljoin(href)
            if urlsplit(url).scheme in ("http", "https"):
                yield url, link


def _link_title(link) -> str:
    text = re.sub(r"\s+", " ", " ".join(link.css("::text").getall())).strip()
    title = (link.attrib.get("title") or "").strip()
    return title if len(title) > len(text) else text


def _row_date(link) -> str | None:
    """The date printed on a listing line beside its link (the item page's date)."""
    row = link.xpath("ancestor::*[self::li or self::tr or self::dd or self::p][1]")
    return iso_date(" ".join((row[0] if row else link).css("::text").getall()))


class PortalSpider(scrapy.Spider):
    """Listing pages → item pages → attachments of one portal, each answer a manifest row."""

    name = "jixiao-portal"

    def __init__(self, portal: Portal, files: RawFiles, progress: Any = None, **kwargs):
        super().__init__(**kwargs)
        self.portal = portal
        self.files = files
        self.progress = progress or (lambda row: None)
        self.article_url = re.compile(portal.family.article_url)
        self.download_url = re.compile(portal.family.download_url) if portal.family.download_url else None
        self._asked: set[str] = set()

    async def start(self):
        for url in self.portal.start_urls:
            if self.want(url, "listing"):
                yield self._request(url, "listing", self.parse_listing, {"page": 1})

    # -- requests and rows -------------------------------------------------------------------

    def _request(self, url: str, kind: str, callback, meta: dict[str, Any],
                 item: dict | None = None) -> scrapy.Request:
        self._asked.add(url)
        meta = {**meta, "kind": kind, "item": item or {}}
        if kind == "file":
            meta["handle_httpstatus_list"] = [304]
            meta["allow_offsite"] = True  # attachments may live on the portal's file server
        return scrapy.Request(url, callback=callback, errback=self.failed, meta=meta,
                              dont_filter=True)

    def want(self, url: str, kind: str) -> bool:
        """Whether to ask for ``url``: not if this process asked already, nor if it is a file
        this job collected before it was stopped (listing and item pages are read again by a
        resumed job: the links a stopped run had not followed yet are on them)."""
        if url in self._asked:
            return False
        return kind != "file" or not self.files.collected(url)

    def _row(self, response_or_request, outcome: str, **fields: Any) -> dict[str, Any]:
        meta = response_or_request.meta
        item = meta.get("item") or {}
        request = getattr(response_or_request, "request", None) or response_or_request
        # the URL as linked, not where its redirects led (it is what the next crawl asks for)
        row = {"url": linked_url(request), "kind": meta.get("kind"),
               "item_url": item.get("url"), "item_title": item.get("title"),
               "item_date": item.get("date"), "published": item.get("published"),
               "publisher": item.get("publisher"), "fetched_at": _now(), "http_status": None,
               "etag": None, "last_modified": None, "sha256": None, "size": None,
               "stored_path": None, "outcome": outcome, "reason": None}
        row.update(fields)
        row = self.files.record(row)
        self.progress(row)
        return row

    # -- listing pages -----------------------------------------------------------------------

    def parse_listing(self, response):
        page = _decoded(response)
        if page is None:
            self._row(response, "failed", http_status=response.status,
                      reason="not an HTML page (a listing page was expected)")
            return
        for url, link in _links(page, _select(page, self.portal.family.items) or page.css("a[href]")):
            title = _link_title(link)
            if not self.portal.is_report(title, url):
                continue
            item = {"url": response.url, "title": title, "date": _row_date(link)}
            if self._is_file(url, title):
                if self.want(url, "file"):
                    yield self._request(url, "file", self.parse_file, {}, item)
            elif (self.article_url.search(urlsplit(url).path) or any(
                    re.search(p, url) for p in self.portal.url_patterns)) and self.want(url, "page"):
                yield self._request(url, "page", self.parse_article, {},
                                    {"url": url, "title": title, "date": item["date"]})
        self._row(response, "read", http_status=response.status)
        if response.meta["page"] >= self.portal.politeness.max_listing_pages:
            return
        for url in self._pages(page):
            if self.want(url, "listing"):
                yield self._request(url, "listing", self.parse_listing,
                                {"page": response.meta["page"] + 1})

    def _pages(self, page) -> Iterator[str]:
        family = self.portal.family
        if family.page_links:
            for href in _hrefs(_select(page, family.page_links)):
                yield page.urljoin(href)
        if family.page_script:
            for call in re.finditer(family.page_script, page.text):
                count = int(call.group("count"))
                for n in range(1, min(count, self.portal.politeness.max_listing_pages)):
                    yield page.urljoin(family.page_script_url.format(
                        stem=call.group("stem"), ext=call.group("ext"), n=n))

    def _is_file(self, url: str, text: str) -> bool:
        path = urlsplit(url).path.lower()
        if any(path.endswith("." + kind) for kind in self.portal.attachments):
            return True
        if any(text.lower().endswith("." + kind) for kind in self.portal.attachments):
            return True
        return bool(self.download_url and self.download_url.search(url))

    # -- item pages --------------------------------------------------------------------------

    def parse_article(self, response):
        page = _decoded(response)
        if page is None:
            self._row(response, "failed", http_status=response.status,
                      reason="not an HTML page (an item page was expected)")
            return
        fields = page_fields(page.text)
        item = {**response.meta["item"], "url": linked_url(response),
                "title": fields.get("title") or response.meta["item"].get("title"),
                "published": fields.get("published"), "publisher": fields.get("publisher")}
        for url, link in _links(page, _select(page, self.portal.family.attachments)):
            if self._is_file(url, _link_title(link)) and self.want(url, "file"):
                yield self._request(url, "file", self.parse_file, {}, item)
        body = _select(page, self.portal.family.body)
        text = " ".join(body[0].css("::text").getall()) if body else ""
        response.meta["item"] = item
        if len(re.sub(r"\s+", "", text)) < self.portal.min_report_chars:
            self._row(response, "read", http_status=response.status, reason="a cover page: "
                      "its report is in its attachments" if body else "no article body found")
            return
        digest = text_hash(text)
        outcome, stored = self.files.keep(item["url"], item_folder(item["url"]), digest, "html",
                                          response.body)
        self._row(response, outcome, http_status=response.status, sha256=digest,
                  size=len(response.body), stored_path=stored)

    # -- files -------------------------------------------------------------------------------

    def parse_file(self, response):
        headers = {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
                   for k, v in response.headers.items()}
        validators = {"etag": headers.get("etag"), "last_modified": headers.get("last-modified")}
        if response.status == 304:
            before = self.files.previous(linked_url(response)) or {}
            self._row(response, "not_modified", http_status=304, sha256=before.get("sha256"),
                      size=before.get("size"), stored_path=before.get("stored_path"),
                      **{k: v or before.get(k) for k, v in validators.items()})
            return
        kind = document_type(response.url, headers, response.body, self.portal.attachments)
        if kind is None or looks_like_html(response.body):
            what = "an HTML page" if looks_like_html(response.body) else \
                f"a {headers.get('content-type') or 'file of no stated type'}"
            self._row(response, "failed", http_status=response.status, size=len(response.body),
                      reason=f"the server answered with {what}, not a document of the types "
                             f"taken ({', '.join(self.portal.attachments)})", **validators)
            return
        item = response.meta["item"]
        digest = sha256(response.body)
        outcome, stored = self.files.keep(linked_url(response), item_folder(item.get("url") or response.url),
                                          digest, kind, response.body)
        self._row(response, outcome, http_status=response.status, sha256=digest,
                  size=len(response.body), stored_path=stored, **validators)

    # -- failures ----------------------------------------------------------------------------

    def failed(self, failure):
        request = failure.request
        if failure.check(HttpError):
            status = failure.value.response.status
            tries = request.meta.get("retry_times", 0)
            again = f" (after {tries} retries)" if tries else ""
            self._row(request, "failed", http_status=status, reason=f"HTTP {status}{again}")
        elif failure.check(IgnoreRequest):
            message = str(failure.value)
            if message == ALREADY_COLLECTED:
                return
            if "robots" in message.lower():
                self._row(request, "disallowed", reason="disallowed by the site's robots.txt")
            elif "redirect" in message.lower():
                self._row(request, "failed", reason=f"more than {self.portal.politeness.max_redirects}"
                          " redirects (a redirect loop?)")
            else:
                self._row(request, "failed", reason=message or "request ignored")
        elif failure.check(DownloadCancelledError, CancelledError):
            self._row(request, "too_large", reason=f"larger than the portal's cap of "
                      f"{self.portal.politeness.max_file_mb:g} MiB: {failure.value}")
        elif failure.check(DownloadTimeoutError, TimeoutError):
            self._row(request, "failed", reason=f"no answer within {self.portal.politeness.timeout:g} s"
                      f" (after {self.portal.politeness.retries} retries)")
        else:
            self._row(request, "failed", reason=f"{type(failure.value).__name__}: {failure.value}")


def linked_url(response_or_request) -> str:
    """The URL as it was linked, not where its redirects led: what the manifest records, and what
    the next crawl asks for."""
    request = getattr(response_or_request, "request", None) or response_or_request
    return (request.meta.get("redirect_urls") or [request.url])[0]


def _decoded(response):
    """The response as an HTML page decoded from its bytes (not its header), or None."""
    if looks_like_binary(response.body):  # a document where a page was expected
        return None
    _, encoding = decode_html(response.body)
    if encoding.endswith("+replace"):
        encoding = encoding.split("+")[0]
    return scrapy.http.HtmlResponse(url=response.url, body=response.body, encoding=encoding,
                                    request=response.request, status=response.status)


def looks_like_binary(body: bytes) -> bool:
    return body[:4] in (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
