"""Progress of a long run on stderr: a bar in a terminal, a line per step elsewhere (logs, CI)."""
from __future__ import annotations

import sys
import time


class Progress:
    """Files done, rate and failures so far.

    In a terminal this is a rich progress bar; otherwise a line is printed at most every
    ``every`` seconds (and at the end), so a log of a long run stays readable.
    """

    def __init__(self, total: int, enabled: bool = True, every: float = 5.0):
        self.total, self.done, self.failed = total, 0, 0
        self.enabled = enabled and total > 0
        self.every = every
        self.started = self.last = time.monotonic()
        self._bar = None
        if self.enabled and sys.stderr.isatty():
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                       TimeRemainingColumn)

            self._bar = Bar(TextColumn("reading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]:.1f} files/s"),
                            TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn(),
                            transient=False)
            self._task = self._bar.add_task("files", total=total, rate=0.0, failed=0)
            self._bar.start()

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def update(self, files: int, failed: int = 0) -> None:
        """``files`` more are done, ``failed`` of them failed."""
        self.done += files
        self.failed += failed
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, rate=self.rate, failed=self.failed)
        elif time.monotonic() - self.last >= self.every or self.done == self.total:
            self.last = time.monotonic()
            print(f"[{self.done}/{self.total}] files read, {self.rate:.1f} files/s, "
                  f"{self.failed} failed", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
