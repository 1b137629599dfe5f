"""A fixture government portal on localhost: three county sites of three CMS families, with the
behaviours real county servers have, served over real HTTP by the standard library.

* ``trs`` on 127.0.0.1: TRS WCM, listing ``index.html`` / ``index_1.html`` / ``index_2.html`` (the
  pager written by ``createPageHTML``), articles ``…/202404/t20240424_N.html``: a report inline in
  UTF-8 with its 自评表 .xlsx; a report inline in GBK served as ``charset=utf-8`` with a lying
  ``<meta>``; a cover page with a .pdf and a .doc; an item under ``/private/`` (robots.txt
  disallows it); two items that are not reports; an article whose attachments fail (503 twice
  then 200, a hang, a 404, a redirect loop, a file over the 1 MiB cap); an ETag'd .docx.
* ``gd_post`` on 127.0.0.2: the Guangdong platform, ``index.html`` → ``index_2.html`` (下一页),
  articles ``content/post_N.html``: a report inline, a cover with a .wps and an .et, and the same
  .pdf under two URLs (the second with a hostile ``Content-Disposition`` name).
* ``vsb`` on 127.0.0.3: VSB, ``cwgk.htm`` → ``cwgk/2.htm`` → ``cwgk/1.htm`` (下页), articles
  ``info/N/N.htm``: a report in an old table-layout frame (a layout ``<td>``, lines joined by
  ``<br>``) in GBK with a wrong header, and a cover whose .xls comes from ``download.jsp``.

Every request is a :class:`Record` of :attr:`FixturePortal.log`.
"""
from __future__ import annotations

import hashlib
import html
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

TESTS = Path(__file__).resolve().parent
SEEDS = TESTS / "data" / "seeds"
RENDERED = TESTS / "fixtures" / "rendered"
GENERATED = TESTS / "fixtures" / "generated"
HOSTS = {"trs": "127.0.0.1", "gd_post": "127.0.0.2", "vsb": "127.0.0.3"}
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
HANG_SECONDS = 30
LAST_MODIFIED = "Mon, 22 Apr 2024 08:00:00 GMT"
TYPES = {"pdf": "application/pdf", "doc": "application/msword",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "xls": "application/vnd.ms-excel", "wps": "application/octet-stream",
         "et": "application/octet-stream"}


@dataclass
class Record:
    """One request the fixture received."""

    host: str
    method: str
    path: str
    headers: dict[str, str]
    status: int | None = None
    started: float = 0.0
    ended: float | None = None


@dataclass
class Route:
    """What a path answers: a body, or a behaviour (``flaky``, ``hang``, ``redirect``)."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    behaviour: str | None = None
    target: str | None = None
    etag: str | None = None
    calls: int = 0


def _seed(stem: str) -> str:
    return next(SEEDS.glob(f"{stem}_*.txt")).read_text(encoding="utf-8")


def _file(pattern: str, folder: Path = RENDERED) -> bytes:
    return next(folder.glob(pattern)).read_bytes()


def _paragraphs(text: str) -> str:
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


def _info_box(title: str, date: str, publisher: str) -> str:
    return (f'<table class="xxgk_table"><tr><td>索引号：</td><td>11500000MB1234567X/2024-0{len(title) % 9}</td>'
            f'<td>发布机构：</td><td>{publisher}</td></tr><tr><td>发布日期：</td><td>{date}</td>'
            f'<td>文号：</td><td>无</td></tr><tr><td>标题：</td><td colspan="3">{title}</td></tr></table>')


def _page(title: str, body: str, head: str = "", charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title>{head}</head>'
            '<body><div class="header"><a href="/">首页</a> <a href="/xxgk/">政务公开</a> '
            '<a href="/hdjl/">互动交流</a></div><div class="crumbs">当前位置：首页 &gt; 政务公开 &gt; '
            f'财政预决算</div>{body}<div class="footer">主办：测试县人民政府办公室　'
            '网站标识码：5001000001　浏览次数：1234</div></body></html>')


class FixturePortal:
    """Three fixture sites (``trs``, ``gd_post``, ``vsb``), each on its own loopback address."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.log: list[Record] = []
        self._lock = threading.Lock()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self.ports: dict[str, int] = {}
        self.expected: list[tuple[str, str, str, str]] = []
        self.disallowed_paths = ["/private/"]
        self.failing: dict[str, str] = {}
        self.flaky_url = self.etag_url = ""
        self.duplicate_urls: tuple[str, str] = ("", "")
        self.start_urls: dict[str, str] = {}
        self._trs_items: list[str] = []
        self._added = 0

    # -- serving -------------------------------------------------------------------------------

    def __enter__(self) -> "FixturePortal":
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the log is portal.log
                pass

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                portal._answer(self)

        for key, address in HOSTS.items():
            server = ThreadingHTTPServer((address, 0), Handler)
            server.daemon_threads = True
            self._servers[key] = server
            self.ports[key] = server.server_address[1]
            threading.Thread(target=server.serve_forever, name=f"fixture-{key}", daemon=True).start()
        self._build()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    def url(self, key: str, path: str) -> str:
        return f"http://{HOSTS[key]}:{self.ports[key]}{path}"

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        host = handler.server.server_address[0]
        key = next(k for k, a in HOSTS.items() if a == host)
        record = Record(host, handler.command, handler.path, dict(handler.headers.items()),
                        started=time.monotonic())
        with self._lock:
            self.log.append(record)
            route = self.routes.get((key, handler.path))
            if route is not None:
                route.calls += 1
        status, headers, body = 404, {"Content-Type": "text/html; charset=utf-8"}, \
            "<html><body>404 页面不存在</body></html>".encode("utf-8")
        if handler.path == "/robots.txt":
            status, headers, body = 200, {"Content-Type": "text/plain"}, ROBOTS
        elif route is not None:
            if route.behaviour == "hang":
                self._hang(handler)
                record.ended = time.monotonic()
                handler.close_connection = True
                return
            status, headers, body = 200, {"Content-Type": route.content_type, **route.headers}, route.body
            if route.behaviour == "flaky" and route.calls <= 2:
                status, body = 503, b"<html><body>503 Service Unavailable</body></html>"
                headers = {"Content-Type": "text/html"}
            elif route.behaviour == "redirect":
                status, headers, body = 302, {"Location": route.target}, b""
            elif route.etag:
                headers.update({"ETag": route.etag, "Last-Modified": LAST_MODIFIED})
                if handler.headers.get("If-None-Match") == route.etag or \
                        handler.headers.get("If-Modified-Since") == LAST_MODIFIED:
                    status, body = 304, b""
        record.status = status
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            try:
                handler.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client stopped (the size cap)
                handler.close_connection = True
        record.ended = time.monotonic()

    @staticmethod
    def _hang(handler: BaseHTTPRequestHandler) -> None:
        """Answer nothing until the client hangs up (or HANG_SECONDS pass)."""
        deadline = time.monotonic() + HANG_SECONDS
        conn = handler.connection
        while time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], 0.05)
            if readable:
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        return
                except OSError:
                    return

    # -- the sites -------------------------------------------------------------------------------

    def _add(self, key: str, path: str, route: Route) -> str:
        self.routes[(key, path)] = route
        return self.url(key, path)

    def _doc(self, key: str, path: str, data: bytes, kind: str, **kw: Any) -> str:
        return self._add(key, path, Route(data, TYPES[kind], **kw))

    def _build(self) -> None:
        self._build_trs()
        self._build_gd_post()
        self._build_vsb()

    def _trs_article(self, path: str, title: str, date: str, body: str, attachments: str = "",
                     charset: str = "utf-8") -> str:
        head = (f'<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{date} '
                '09:30"><meta name="ContentSource" content="测试县财政局">')
        return _page(title, f'<div class="main"><h1>{title}</h1>{_info_box(title, date, "测试县财政局")}'
                     f'<div class="TRS_Editor">{body}</div>{attachments}</div>', head, charset)

    def _build_trs(self) -> None:
        base = "/xxgk/fdzdgknr/czyjs/"
        self.start_urls["trs"] = self.url("trs", base + "index.html")

        def article(n: int, title: str, date: str, body: str, files: list[tuple[str, str]] = (),
                    encoding: str = "utf-8", folder: str = base) -> str:
            path = f"{folder}202404/t{date.replace('-', '')}_{n}.html"
            links = "".join(f'<li><a href="{href}">{html.escape(name)}</a></li>' for href, name in files)
            attached = f'<div class="fj"><p>附件：</p><ul>{links}</ul></div>' if files else ""
            page = self._trs_article(path, title, date, body, attached)
            self._add("trs", path, Route(page.encode(encoding), "text/html; charset=utf-8"))
            return path

        items: list[tuple[str, str, str]] = []  # (path, title, date)
        a = article(1001, "测试县财政局2023年度部门整体支出绩效自评报告", "2024-04-24",
                    _paragraphs(_seed("000")), [("./P020240424_zpb.xlsx", "2023年度绩效自评表.xlsx")])
        self._doc("trs", f"{base}202404/P020240424_zpb.xlsx", _file("003_*.xlsx"), "xlsx")
        self.expected += [(self.url("trs", a), "page", self.url("trs", a), "html"),
                          (self.url("trs", a), "file", self.url("trs", f"{base}202404/P020240424_zpb.xlsx"), "xlsx")]
        b = article(1002, "测试县某镇2023年度部门整体支出绩效自评报告", "2024-04-23",
                    _paragraphs(_seed("002")), encoding="gb18030")
        self.expected.append((self.url("trs", b), "page", self.url("trs", b), "html"))
        c = article(1003, "测试县教育局2023年度项目支出绩效自评报告", "2024-04-22",
                    "<p>现将《测试县教育局2023年度项目支出绩效自评报告》公开如下。</p>",
                    [("./P020240422.pdf", "项目支出绩效自评报告.pdf"), ("./P020240422.doc", "自评报告（原件）.doc")])
        self._doc("trs", f"{base}202404/P020240422.pdf", _file("002_*.pdf"), "pdf")
        self._doc("trs", f"{base}202404/P020240422.doc", _file("000_*.doc"), "doc")
        self.expected += [(self.url("trs", c), "file", self.url("trs", f"{base}202404/P020240422.{k}"), k)
                          for k in ("pdf", "doc")]
        private = article(1004, "测试县保密局2023年度部门整体支出绩效自评报告", "2024-04-21",
                          _paragraphs(_seed("004")), folder="/private/")
        notice = article(1005, "关于召开春季防火工作会议的通知", "2024-04-20",
                         "<p>各乡镇：定于4月25日召开春季防火工作会议。</p>")
        work = article(1006, "2024年政府工作报告", "2024-04-19", _paragraphs(_seed("001")[:2000]))
        fail = [("/files/flaky.docx", "flaky"), ("/files/slow.pdf", "timeout"),
                ("/files/missing.pdf", "http_404"), ("/loop/a.pdf", "redirect_loop"),
                ("/files/big.pdf", "too_large")]
        f = article(1007, "测试县水利局2023年度项目支出绩效评价报告", "2024-04-18",
                    "<p>附件为本局项目支出绩效评价报告及相关材料。</p>",
                    [(href, f"材料{i}{href[-5:]}") for i, (href, _) in enumerate(fail)])
        self.flaky_url = self._doc("trs", "/files/flaky.docx", _file("001_*.docx"), "docx", behaviour="flaky")
        self.expected.append((self.url("trs", f), "file", self.flaky_url, "docx"))
        self._add("trs", "/files/slow.pdf", Route(behaviour="hang"))
        self._add("trs", "/loop/a.pdf", Route(behaviour="redirect", target="/loop/b.pdf"))
        self._add("trs", "/loop/b.pdf", Route(behaviour="redirect", target="/loop/a.pdf"))
        self._doc("trs", "/files/big.pdf", b"%PDF-1.4\n" + b"0" * (2 * 2**20), "pdf")
        self.failing = {self.url("trs", href): why for href, why in fail if why != "flaky"}
        e = article(1008, "测试县卫健委2023年度部门整体支出绩效自评报告", "2024-04-17",
                    "<p>报告见附件。</p>", [("./P020240417.docx", "绩效自评报告.docx")])
        data = _file("004_*.docx")
        self.etag_url = self._doc("trs", f"{base}202404/P020240417.docx", data, "docx",
                                  etag=f'"{hashlib.sha1(data).hexdigest()[:12]}"')
        self.expected.append((self.url("trs", e), "file", self.etag_url, "docx"))
        titles = {a: "测试县财政局2023年度部门整体支出绩效自评报告", b: "测试县某镇2023年度部门整体支出绩效自评报告",
                  c: "测试县教育局2023年度项目支出绩效自评报告", private: "测试县保密局2023年度部门整体支出绩效自评报告",
                  notice: "关于召开春季防火工作会议的通知", work: "2024年政府工作报告",
                  f: "测试县水利局2023年度项目支出绩效评价报告", e: "测试县卫健委2023年度部门整体支出绩效自评报告"}
        self._trs_pages = [[a, b, notice, private], [c, work, f], [e]]
        self._trs_titles = titles
        self._render_trs()

    def _render_trs(self) -> None:
        base = "/xxgk/fdzdgknr/czyjs/"
        count = len(self._trs_pages)
        for n, paths in enumerate(self._trs_pages):
            lines = []
            for path in paths:
                title = self._trs_titles[path]
                short = title if len(title) <= 16 else title[:16] + "…"
                href = "." + path[len(base) - 1:] if path.startswith(base) else path
                date = path.rsplit("/t", 1)[1][:8]
                lines.append(f'<li><a href="{href}" title="{title}" target="_blank">{short}</a>'
                             f'<span>{date[:4]}-{date[4:6]}-{date[6:]}</span></li>')
            body = (f'<div class="list"><ul>{"".join(lines)}</ul></div><div class="page">'
                    f'<script>createPageHTML({count}, {n}, "index", "html");</script></div>')
            name = "index.html" if n == 0 else f"index_{n}.html"
            self._add("trs", base + name, Route(_page("财政预决算", body).encode("utf-8")))

    def add_item(self, key: str, title: str, date: str, body_text: str | None = None,
                 attachments: list[tuple[str, bytes, str]] = ()) -> str:
        """A new report at the top of the first listing page of ``key`` (only ``trs``); returns
        its page URL. ``attachments``: (file name, bytes, type)."""
        if key != "trs":
            raise ValueError("add_item adds to the trs site only")
        self._added += 1
        base = "/xxgk/fdzdgknr/czyjs/"
        path = f"{base}202504/t{date.replace('-', '')}_{2000 + self._added}.html"
        links = ""
        for name, data, kind in attachments:
            href = f"{base}202504/P{self._added}_{name}"
            self._doc("trs", href, data, kind)
            links += f'<li><a href="{href}">{name}</a></li>'
            self.expected.append((self.url("trs", path), "file", self.url("trs", href), kind))
        body = _paragraphs(body_text) if body_text else "<p>报告见附件。</p>"
        page = self._trs_article(path, title, date, body, f'<div class="fj"><ul>{links}</ul></div>')
        self._add("trs", path, Route(page.encode("utf-8")))
        if body_text:
            self.expected.append((self.url("trs", path), "page", self.url("trs", path), "html"))
        self._trs_titles[path] = title
        self._trs_pages[0].insert(0, path)
        self._render_trs()
        return self.url("trs", path)

    def change_file(self, url: str, data: bytes) -> None:
        """New bytes (and a new ETag, if it had one) at ``url``."""
        route = next(r for (k, p), r in self.routes.items() if self.url(k, p) == url)
        route.body = data
        if route.etag:
            route.etag = f'"{hashlib.sha1(data).hexdigest()[:12]}"'

    def _build_gd_post(self) -> None:
        base = "/zwgk/czxx/"
        self.start_urls["gd_post"] = self.url("gd_post", base + "index.html")

        def article(n: int, title: str, date: str, body: str, links: str = "") -> str:
            path = f"{base}content/post_{n}.html"
            page = _page(title, f'<div class="article"><h1 class="article-title">{title}</h1>'
                         f'<div class="article-head">{_info_box(title, date, "测试区财政局")}</div>'
                         f'<div class="article-content">{body}</div>{links}</div>',
                         f'<meta name="ArticleTitle" content="{title}">')
            self._add("gd_post", path, Route(page.encode("utf-8")))
            return path

        g = article(2124380, "测试区农业农村局2023年度项目支出绩效自评报告", "2024-05-10",
                    _paragraphs(_seed("003")))
        self.expected.append((self.url("gd_post", g), "page", self.url("gd_post", g), "html"))
        h = article(2124381, "测试区某街道2023年度部门整体支出绩效自评报告", "2024-05-09",
                    "<p>现予公开。</p>", '<div class="fj">附件：<a href="/attachment/0/11/11111/report.wps">'
                    '报告.wps</a> <a href="/attachment/0/11/11112/zpb.et">自评表.et</a></div>')
        wps = self._doc("gd_post", "/attachment/0/11/11111/report.wps", _file("003_*.docx"), "wps")
        et = self._doc("gd_post", "/attachment/0/11/11112/zpb.et", _file("001_*.xlsx"), "et")
        self.expected += [(self.url("gd_post", h), "file", wps, "wps"),
                          (self.url("gd_post", h), "file", et, "et")]
        pdf = _file("004_*.pdf")
        i = article(2124382, "测试区文旅局2023年度部门整体支出绩效自评报告", "2024-05-08",
                    "<p>报告见附件。</p>", '<p>附件：<a href="/attachment/0/12/12345/report.pdf">report.pdf</a></p>')
        j = article(2124383, "测试区文旅局2023年度部门整体支出绩效自评报告（重发）", "2024-05-07",
                    "<p>报告见附件。</p>", '<p>附件：<a href="/download?id=12345">绩效自评报告.pdf</a></p>')
        first = self._doc("gd_post", "/attachment/0/12/12345/report.pdf", pdf, "pdf")
        second = self._doc("gd_post", "/download?id=12345", pdf, "pdf", headers={
            "Content-Disposition": 'attachment; filename="../../etc/绩效自评报告.pdf"'.encode("utf-8").decode("latin-1")})
        self.duplicate_urls = (first, second)
        self.expected += [(self.url("gd_post", i), "file", first, "pdf"),
                          (self.url("gd_post", j), "file", second, "pdf")]
        n1 = article(2124384, "关于2024年春节期间值班安排的通知", "2024-05-06", "<p>值班安排如下。</p>")

        def listing(paths: list[str], next_page: str | None) -> bytes:
            lines = "".join(f'<li><a href="./content/{p.rsplit("/", 1)[1]}" title="{t}">{t}</a>'
                            f'<span>{d}</span></li>' for p, t, d in paths)
            pager = f'<div class="page"><a href="./{next_page}">下一页</a></div>' if next_page else ""
            return _page("财政信息", f'<div class="list"><ul>{lines}</ul></div>{pager}').encode("utf-8")

        self._add("gd_post", base + "index.html", Route(listing(
            [(g, "测试区农业农村局2023年度项目支出绩效自评报告", "2024-05-10"),
             (h, "测试区某街道2023年度部门整体支出绩效自评报告", "2024-05-09"),
             (n1, "关于2024年春节期间值班安排的通知", "2024-05-06")], "index_2.html")))
        self._add("gd_post", base + "index_2.html", Route(listing(
            [(i, "测试区文旅局2023年度部门整体支出绩效自评报告", "2024-05-08"),
             (j, "测试区文旅局2023年度部门整体支出绩效自评报告（重发）", "2024-05-07")], None)))

    def _build_vsb(self) -> None:
        self.start_urls["vsb"] = self.url("vsb", "/xxgk/cwgk.htm")
        text = _seed("004")
        lines = "<br>\n".join("&nbsp;&nbsp;" + html.escape(line.strip())
                              for line in text.splitlines() if line.strip())
        title = "测试乡2023年度部门整体支出绩效自评报告"
        frame = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                 f'<title>{title}</title></head><body><table width="1000" align="center"><tr>'
                 '<td width="200" valign="top"><a href="/">首页</a><br><a href="/xxgk.htm">信息公开</a></td>'
                 '<td valign="top"><table width="100%"><tr><td class="titlestyle">'
                 f'{title}</td></tr><tr><td>发布时间：2024-06-01　发布机构：测试乡人民政府</td></tr>'
                 '<tr><td><form name="_newscontent_fromname"><div id="vsb_content"><table width="100%">'
                 f'<tr><td class="contentstyle">{lines}</td></tr></table></div></form></td></tr>'
                 '</table></td></tr></table><table><tr><td>版权所有：测试乡人民政府</td></tr></table></body></html>')
        k = "/info/13206/211004.htm"
        self._add("vsb", k, Route(frame.encode("gb18030"), "text/html; charset=utf-8"))
        self.expected.append((self.url("vsb", k), "page", self.url("vsb", k), "html"))
        cover = ('<html><head><meta charset="utf-8"><title>测试乡2023年度项目支出绩效自评表</title></head>'
                 '<body><table><tr><td><form name="_newscontent_fromname"><div id="vsb_content">'
                 '<p>自评表见附件。</p></div></form><ul><li>附件【<a href="/system/_content/download.jsp?'
                 'urltype=news.DownloadAttachUrl&amp;owner=1&amp;wbfileid=9">项目支出绩效自评表</a>】'
                 '</li></ul></td></tr></table></body></html>')
        l_path = "/info/13206/211005.htm"
        self._add("vsb", l_path, Route(cover.encode("utf-8")))
        download = "/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1&wbfileid=9"
        self._doc("vsb", download, _file("kpi_table.xls", GENERATED), "xls")
        self.expected.append((self.url("vsb", l_path), "file", self.url("vsb", download), "xls"))
        n1 = "/info/13206/211006.htm"
        self._add("vsb", n1, Route(_page("关于开展安全生产检查的通知", "<p>各村：请开展检查。</p>").encode("utf-8")))

        def listing(rows: list[tuple[str, str, str]], next_href: str | None) -> bytes:
            cells = "".join(f'<tr><td><a href="{p}" title="{t}">{t}</a></td><td>{d}</td></tr>'
                            for p, t, d in rows)
            pager = f'<a href="{next_href}">下页</a>' if next_href else ""
            return _page("财务公开", f'<table class="winstyle">{cells}</table><div>{pager}</div>').encode("utf-8")

        self._add("vsb", "/xxgk/cwgk.htm", Route(listing(
            [(k, title, "2024-06-01")], "cwgk/2.htm")))
        self._add("vsb", "/xxgk/cwgk/2.htm", Route(listing(
            [(l_path, "测试乡2023年度项目支出绩效自评表", "2024-05-30")], "1.htm")))
        self._add("vsb", "/xxgk/cwgk/1.htm", Route(listing(
            [(n1, "关于开展安全生产检查的通知", "2024-05-20")], None)))

    # -- what a crawl should do -----------------------------------------------------------------

    def portal_yaml(self, key: str, **politeness: Any) -> str:
        polite = {"delay": 0.2, "timeout": 1.5, "retries": 2, "backoff": 0.2, "max_file_mb": 1,
                  **politeness}
        return (f"name: fixture-{key.replace('_', '-')}\ntitle: 测试县人民政府（{key}）\nfamily: {key}\n"
                f"start_urls: [{self.start_urls[key]}]\n"
                f"politeness: {{{', '.join(f'{k}: {v}' for k, v in polite.items())}}}\n")

    def expected_reports(self) -> list[tuple[str, str, str, str]]:
        """(item page URL, 'page' or 'file', URL of the report, its format) of every allowed report."""
        return list(self.expected)

    def requests(self, host: str | None = None, path_prefix: str | None = None) -> list[Record]:
        with self._lock:
            return [r for r in self.log if (host is None or r.host == host)
                    and (path_prefix is None or r.path.startswith(path_prefix))]
