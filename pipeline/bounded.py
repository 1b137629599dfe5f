"""Each file read in a worker process that can be killed: time and memory bounded from outside.

A parser that loops on a hostile file, or builds gigabytes from a few kilobytes, cannot be trusted
to stop itself, so no parser is asked to. :class:`Sandbox` forks a child process that reads files
one at a time; the process that forked it waits for each answer, watches the child's memory (its
resident set and that of the programs it started, such as LibreOffice) and kills the whole tree
when the file goes over :class:`Bounds`. The file gets an ``errors`` row naming the limit
(``exceeded_limit`` ``time`` or ``memory``), the stage it had reached and what it had reached,
and the next file gets a fresh child. A child that dies on its own (a crash in a C library) is an
``errors`` row too.

The child is forked from a process that has loaded the extraction models, so it starts in about
a millisecond and shares those pages. Memory is counted from the child's size when the file is
sent (what it holds between files is the model, not the file); a child that has grown by more
than the limit between files is replaced before the next one. As a backstop against one huge
allocation between two looks, the child's address space is capped at twice the limit above its
size at birth (``RLIMIT_AS``): such an allocation fails there with a ``MemoryError``, reported
the same way.

Linux only (``fork``, ``/proc``); elsewhere, or with :data:`NO_BOUNDS`, a :class:`Sandbox` reads
files in the calling process, unbounded.
"""
from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.batch import FileResult

# How often the parent looks at the child's clock and memory while it reads a file.
POLL_SECONDS = 0.02
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MIB = 2**20


@dataclass(frozen=True)
class Bounds:
    """What one file may cost: ``seconds`` of wall time to read and extract, and ``memory_mb``
    MiB of memory added to the worker reading it. None lifts that limit.

    The defaults leave real reports well inside them (``bench/bench_bounded.py``): a text PDF
    of the test corpus takes at most 2 s and a few MiB, a .doc through LibreOffice 7 s and
    170 MiB, and OCR is what needs the room: 900 MiB at its peak on every page (RapidOCR's ONNX
    models and their buffers; the peak does not grow with the pages) and 3-4 s a page. A file
    that needs more is refused with a row saying so; the options of ``jixiao run`` change them.
    """

    seconds: float | None = 300.0
    memory_mb: int | None = 1536

    @property
    def bounded(self) -> bool:
        return self.seconds is not None or self.memory_mb is not None


NO_BOUNDS = Bounds(seconds=None, memory_mb=None)


def supported() -> bool:
    """Whether files can be read in a killable child here (Linux: fork and /proc)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process it started, their children and so on (Linux's
    ``/proc/PID/task/PID/children``; a process that is gone has none)."""
    tree = [pid]
    for current in tree:  # grows while it is walked
        with contextlib.suppress(OSError, ValueError):
            with open(f"/proc/{current}/task/{current}/children", "rb") as fh:
                tree.extend(int(p) for p in fh.read().split())
    return tree


def resident_bytes(pids: list[int]) -> int:
    """Resident memory of the processes ``pids``, in bytes (0 for one that is gone)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * _PAGE
    return total


def die_with_parent() -> None:  # pragma: no cover - runs in a child process
    """Ask Linux to send SIGTERM to this process when its parent dies (even by SIGKILL)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# What the worker was doing at each stage, for the errors row's message.
_DOING = {"read": "reading the file", "extract": "extracting its figures",
          "rows": "making its table rows"}


class Sandbox:
    """A child process that reads files for this one, one at a time, within ``bounds``; use
    :meth:`process` as :func:`pipeline.batch.process_file` (it never raises for a bad file), and
    :meth:`close` (or a ``with`` block) when done."""

    def __init__(self, bounds: Bounds = Bounds()):
        self.bounds = bounds
        self._pid: int | None = None
        self._conn: Connection | None = None
        self._born = 0  # the child's resident memory when it was forked

    @property
    def pid(self) -> int | None:
        """The worker's process id (None when none is running)."""
        return self._pid

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def process(self, path: str | Path, ocr: bool = True) -> "FileResult":
        """Read and extract one file in the child: its :class:`pipeline.batch.FileResult`, or an
        ``errors`` row when it went over a bound or the child died."""
        from pipeline.batch import FileResult, error_row, process_file
        from pipeline.paths import source_name

        if not (self.bounds.bounded and supported()):
            return process_file(path, ocr=ocr)
        source = source_name(path)
        conn = self._ready()
        at_start = resident_bytes(process_tree(self._pid))
        limit = self.bounds.memory_mb * _MIB if self.bounds.memory_mb else None
        started = time.monotonic()
        stage = "read"
        try:
            conn.send((path, ocr))
            while True:
                if conn.poll(POLL_SECONDS):
                    kind, value = conn.recv()
                    if kind == "result":
                        return value
                    if kind == "stage":
                        stage = value
                        continue
                    self._kill()  # "memory": an allocation failed at the address-space cap
                    return FileResult(source, error=error_row(
                        source, stage, f"memory limit of {self.bounds.memory_mb} MiB reached while "
                        f"{_DOING[stage]}: an allocation went past the worker's cap (the worker "
                        f"was stopped)", limit="memory"))
                if limit is not None:
                    grown = resident_bytes(process_tree(self._pid)) - at_start
                    if grown > limit:
                        self._kill()
                        return FileResult(source, error=error_row(
                            source, stage, f"memory limit of {self.bounds.memory_mb} MiB reached "
                            f"while {_DOING[stage]}: its work had grown to {grown / _MIB:.0f} MiB "
                            f"(the worker was stopped)", limit="memory"))
                elapsed = time.monotonic() - started
                if self.bounds.seconds is not None and elapsed > self.bounds.seconds:
                    self._kill()
                    return FileResult(source, error=error_row(
                        source, stage, f"time limit of {self.bounds.seconds:g} s reached while "
                        f"{_DOING[stage]} (the worker was stopped)", limit="time"))
        except (EOFError, OSError):  # the child is gone: it crashed, or something killed it
            status = self._reap()
            return FileResult(source, error=error_row(
                source, stage, f"the worker reading this file died while {_DOING[stage]} "
                f"({_describe(status)})"))

    def close(self) -> None:
        """End the child: it is between files and leaves when its connection closes (it is
        killed if it has not within a second)."""
        if self._conn is None:
            return
        self._conn.close()
        for _ in range(100):
            if os.waitpid(self._pid, os.WNOHANG)[0]:
                self._pid = self._conn = None
                return
            time.sleep(0.01)
        self._kill()

    def _ready(self) -> Connection:
        """The connection to a live child, forked now if there is none (or it ended between
        files: something killed it) or if it has kept more than the memory limit from earlier
        files."""
        if self._conn is not None and os.waitpid(self._pid, os.WNOHANG)[0]:
            self._conn.close()
            self._pid = self._conn = None
        if self._conn is not None and self.bounds.memory_mb is not None and \
                resident_bytes([self._pid]) - self._born > self.bounds.memory_mb * _MIB:
            self.close()
        if self._conn is None:
            self._start()
        return self._conn

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; coverage does not follow a fork
            status = 1
            try:
                ours.close()
                status = _serve(Connection(theirs.detach()), self.bounds)
            finally:
                os._exit(status)
        theirs.close()
        self._pid, self._conn = pid, Connection(ours.detach())
        self._born = resident_bytes([pid])

    def _kill(self) -> None:
        """Stop the child and everything it started, now."""
        for pid in reversed(process_tree(self._pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._conn.close()
        self._reap()

    def _reap(self) -> int:
        """Wait for the ended child; its wait status."""
        self._conn.close()
        _, status = os.waitpid(self._pid, 0)
        self._pid = self._conn = None
        return status


def _describe(status: int) -> str:
    """A child's wait status in words.

    >>> _describe(9), _describe(256)
    ('killed by SIGKILL: the system may have run out of memory', 'exit status 1')
    """
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"killed by {name}" + (": the system may have run out of memory"
                                      if sig == signal.SIGKILL else "")
    return f"exit status {os.WEXITSTATUS(status)}"


def _serve(conn: Connection, bounds: Bounds) -> int:  # pragma: no cover - runs in the child
    """The child's loop: read each ``(path, ocr)`` sent, answer with its result; 0 at the end of
    the requests, 1 after a failed allocation (its heap may be in any state: it is replaced)."""
    from pipeline.batch import process_file

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent()
    gc.freeze()  # the parent's objects are shared: a collection would copy their pages here
    if bounds.memory_mb is not None:
        _cap_address_space(2 * bounds.memory_mb * _MIB)
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return 0
        path, ocr = request
        try:
            result = process_file(path, ocr=ocr, on_stage=lambda stage: conn.send(("stage", stage)))
            conn.send(("result", result))
        except MemoryError:
            conn.send(("memory", None))
            return 1


def _cap_address_space(extra: int) -> None:  # pragma: no cover - runs in the child
    """Cap this process's address space at its present size plus ``extra`` bytes."""
    import resource

    with open("/proc/self/statm", "rb") as fh:
        size = int(fh.read().split()[0]) * _PAGE
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + extra
    if hard == resource.RLIM_INFINITY or cap < hard:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


_local = threading.local()


def sandbox(bounds: Bounds) -> Sandbox:
    """This thread's :class:`Sandbox` for ``bounds`` (kept between chunks: its child is forked
    once, not once a chunk)."""
    box = getattr(_local, "sandbox", None)
    if box is None or box.bounds != bounds:
        if box is not None:
            box.close()
        box = _local.sandbox = Sandbox(bounds)
    return box
