"""LibreOffice offline (issue 10): a .doc that links an image by URL makes a plain LibreOffice
conversion request it; jixiao's conversion requests nothing, with its network namespace and,
where the system allows none, with its profile alone. A real HTTP server on localhost records
every request it receives."""
from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.readers import convert
from pipeline.readers.convert import convert_with_libreoffice, soffice_path

pytestmark = pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) is not installed")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4f600000000"
                    "49454e44ae426082")


@pytest.fixture()
def server() -> Iterator[tuple[int, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def _soffice(tmp: Path, *args: str) -> None:
    subprocess.run([soffice_path(), "--headless", "--norestore",
                    f"-env:UserInstallation={(tmp / 'plain-profile').as_uri()}", *args],
                   capture_output=True, timeout=180, check=True)


@pytest.fixture()
def linked_doc(tmp_path: Path, server: tuple[int, list[str]]) -> Path:
    """A Word 97 file whose picture is a link to the local server (made by LibreOffice from
    HTML, which keeps an image's URL as a link)."""
    port, requests = server
    html = tmp_path / "linked.html"
    html.write_text(f'<html><body><p>一、基本情况</p><p><img src="http://127.0.0.1:{port}/pixel.png" '
                    'width="10" height="10"></p><p>收入合计100万元。</p></body></html>',
                    encoding="utf-8")
    _soffice(tmp_path, "--convert-to", "doc:MS Word 97", "--outdir", str(tmp_path), str(html))
    requests.clear()
    return tmp_path / "linked.doc"


def test_a_plain_conversion_fetches_the_linked_image(linked_doc: Path, tmp_path: Path,
                                                     server: tuple[int, list[str]]) -> None:
    """The control: without jixiao's guards LibreOffice does request the URL."""
    _soffice(tmp_path, "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(tmp_path / "plain"),
             str(linked_doc))
    assert "/pixel.png" in server[1]


def test_jixiao_converts_without_a_request(linked_doc: Path, server: tuple[int, list[str]]) -> None:
    result = convert_with_libreoffice(linked_doc, "docx")
    assert result.exists() and server[1] == []


def test_the_profile_alone_keeps_it_offline(linked_doc: Path, server: tuple[int, list[str]],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no network namespace can be made (no unshare, no user namespaces)."""
    monkeypatch.setattr(convert, "offline_prefix", lambda: ())
    result = convert_with_libreoffice(linked_doc, "docx")
    assert result.exists() and server[1] == []
