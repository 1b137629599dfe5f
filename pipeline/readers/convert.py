"""Converting legacy office formats with LibreOffice, so the docx and xlsx readers can read them.

Portals still publish Word 97 ``.doc``, WPS ``.wps`` and WPS spreadsheets ``.et``. Their binary
formats are not worth a reader of our own: LibreOffice converts them faithfully, list numbering
and merged cells included. ``soffice`` runs headless with a private, throw-away profile (two
LibreOffice processes sharing a profile hand work to each other, and the second call returns at
once without converting), inside a temporary directory, killed after ``timeout`` seconds.

Offline: a document can link remote content (an image by URL, a linked section, an OLE link), and
LibreOffice fetches it while converting, so a file could make this machine request any URL. The
conversion runs in a network namespace of its own with no interface up (``unshare --net``, as
root, or in a user namespace ``unshare --user --map-root-user --net`` where the kernel allows it),
so nothing can be reached, not even localhost. Where neither is allowed, the throw-away profile
still sends every request to a proxy that does not exist (127.0.0.1:9), never updates links and
blocks images from untrusted referers.
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipeline.readers import ReaderError

DEFAULT_TIMEOUT = 180  # seconds; a first start of LibreOffice with a new profile takes ~5-15 s
MAX_INPUT_BYTES = 100 * 1024 * 1024

# source suffix → the kind of document it is
_WRITER = {".doc", ".dot", ".wps", ".wpt", ".rtf", ".odt", ".docx", ".docm", ".dotx"}
_CALC = {".xls", ".xlt", ".et", ".ett", ".ods", ".xlsx", ".xlsm"}
# target → LibreOffice export filter
_FILTERS = {
    "docx": "docx:MS Word 2007 XML",
    "doc": "doc:MS Word 97",
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "pdf": "pdf",
}
_TARGETS = {"docx": _WRITER, "doc": _WRITER, "xlsx": _CALC, "pdf": _WRITER | _CALC}
# The throw-away profile's settings (registrymodifications.xcu): no network through LibreOffice's
# own settings where a network namespace is not available.
_OFFLINE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetProxyType" oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetNoProxy" oor:op="fuse"><value></value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>2</value></prop></item>
</oor:items>
"""
_INSTALL_HINT = ("install the Debian package libreoffice-writer-nogui (and "
                 "libreoffice-calc-nogui for spreadsheets): apt-get install -y "
                 "libreoffice-writer-nogui libreoffice-calc-nogui")


def soffice_path() -> str | None:
    """The LibreOffice executable on PATH (``soffice``, else ``libreoffice``), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(path: str | Path, to: str | None = None,
                             timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Convert ``path`` with LibreOffice into a new temporary directory; return the new file.

    ``to`` is ``docx``, ``xlsx``, ``doc`` or ``pdf``; ``None`` picks ``xlsx`` for spreadsheets
    (``.et``, ``.xls`` …) and ``docx`` for everything else (``.doc``, ``.wps``, ``.rtf`` …). The
    returned file is ``<tmpdir>/<stem>.<to>``; the caller removes its directory when done
    (:func:`converted` does that for you).

    Raises :class:`ReaderError` when LibreOffice is not installed (with the package to install),
    the format cannot be converted to ``to``, the conversion fails or times out (a damaged or
    password-protected file), or the input is over ``MAX_INPUT_BYTES``.

    >>> docx = convert_with_libreoffice("report.doc")  # doctest: +SKIP
    >>> docx.name                                       # doctest: +SKIP
    'report.docx'
    """
    source = Path(path)
    suffix = source.suffix.lower()
    target = to or ("xlsx" if suffix in _CALC else "docx")
    if target not in _FILTERS:
        raise ValueError(f"to must be one of {', '.join(_FILTERS)}, not {to!r}")
    if suffix not in _TARGETS[target]:
        raise ReaderError(f"{source.name}: a {suffix or 'suffix-less'} file cannot be converted "
                          f"to {target} (word-processing files convert to docx/doc/pdf, "
                          f"spreadsheets to xlsx/pdf)")
    soffice = soffice_path()
    if soffice is None:
        raise ReaderError(f"{source.name} needs LibreOffice (soffice) to be converted to "
                          f"{target}, and it is not installed: {_INSTALL_HINT}")
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise ReaderError(f"cannot read {source.name}: {exc.strerror or exc}") from exc
    if size > MAX_INPUT_BYTES:
        raise ReaderError(f"{source.name} is {size // 2**20} MB; files over "
                          f"{MAX_INPUT_BYTES // 2**20} MB are not converted", limit="size")

    workdir = Path(tempfile.mkdtemp(prefix="jixiao-lo-"))
    try:
        # LibreOffice names its output after the input: copy the input under a plain ASCII name
        # (names starting with '-' or with odd characters upset its command line) and rename
        # the output back to the source's stem afterwards.
        inbox, outbox = workdir / "in", workdir / "out"
        inbox.mkdir()
        outbox.mkdir()
        staged = inbox / f"source{suffix}"
        shutil.copyfile(source, staged)
        user = workdir / "profile" / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_OFFLINE_PROFILE, encoding="utf-8")
        command = [*offline_prefix(), soffice, "--headless", "--invisible", "--norestore",
                   "--nolockcheck",
                   "--nodefault", "--nologo",
                   f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
                   "--convert-to", _FILTERS[target], "--outdir", str(outbox), str(staged)]
        _run(command, timeout, source.name)
        produced = outbox / f"source.{target}"
        if not produced.exists() or produced.stat().st_size == 0:
            raise ReaderError(f"LibreOffice could not convert {source.name} to {target} "
                              f"(no output: the file may be damaged, password-protected or not "
                              f"really a {suffix} file)")
        result = workdir / f"{source.stem}.{target}"
        produced.rename(result)
        shutil.rmtree(inbox, ignore_errors=True)
        shutil.rmtree(workdir / "profile", ignore_errors=True)
        outbox.rmdir()
        return result
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


@functools.lru_cache(maxsize=1)
def offline_prefix() -> tuple[str, ...]:
    """The command that runs a program with no network (a network namespace of its own), or ()
    where this system allows none: ``unshare --net`` as root, else in a user namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    tries = ([unshare, "--net", "--"], [unshare, "--user", "--map-root-user", "--net", "--"])
    for prefix in tries if os.geteuid() == 0 else tries[1:]:
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return tuple(prefix)
        except (OSError, subprocess.TimeoutExpired):
            continue
    return ()


def _run(command: list[str], timeout: float, name: str) -> None:
    """Run LibreOffice in its own process group, so that a timeout kills ``soffice.bin`` too
    and not only the wrapper script that started it."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ReaderError(f"LibreOffice did not finish converting {name} within {timeout:.0f} s "
                          f"(a damaged or password-protected file makes it wait)", limit="time") from None
    if process.returncode != 0:
        detail = stderr.decode("utf-8", "replace").strip()[-500:]
        raise ReaderError(f"LibreOffice failed to convert {name} (exit {process.returncode})"
                          f"{': ' + detail if detail else ''}")


@contextlib.contextmanager
def converted(path: str | Path, to: str | None = None,
              timeout: float = DEFAULT_TIMEOUT) -> Iterator[Path]:
    """:func:`convert_with_libreoffice` as a context manager that removes the converted file.

    >>> with converted("report.wps") as docx:  # doctest: +SKIP
    ...     result = read_docx(docx)
    """
    result = convert_with_libreoffice(path, to=to, timeout=timeout)
    try:
        yield result
    finally:
        shutil.rmtree(result.parent, ignore_errors=True)
