"""A writer for tests/test_store_whole.py: what ``process_reports`` does with the store, in a
process of its own that a test can kill, at a chosen point or at any moment.

``python -m tests.store_writer OUT CHUNKS [options]`` opens the store of OUT, writes each chunk of
the pickled list CHUNKS (``(chunk, files rows)`` pairs, extracted beforehand) whose files are not
all done yet, one transaction each, and exports when the Parquet files are behind, exactly as the
flow does. It prints ``wrote N`` for each chunk written, and exits 3 printing ``error MESSAGE``
on a :class:`pipeline.dataset.StoreError`.

Every operation on disk (a DuckDB statement, a file-system call) is counted, and a test picks
the points it acts at by what they do (``--trace FILE``: one line per operation, its number and
what it is, with paths relative to OUT). Just before the K-th operation:

- ``--kill-at K`` sends this process SIGKILL;
- ``--fill-at K`` fills the disk, as another program could;
- ``--pause-at K`` prints ``paused`` and waits for a line on stdin (holding the store meanwhile).

``--snapshots DIR`` copies the dataset folder into ``DIR/<K>`` before each operation K that finds
it changed: what a kill at that moment would leave on disk (a kill loses only the process's
memory), for a test to check every one.
"""
from __future__ import annotations

import argparse
import os
import pickle
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, Callable

FILE_OPERATIONS = ("replace", "symlink", "link", "unlink", "mkdir", "rmdir", "fsync", "chmod")
FILLER = ".filler"


class Operations:
    """Counts the operations on disk in ``out`` and does what the options ask before each."""

    def __init__(self, out: Path, options: argparse.Namespace):
        self.out = out
        self.count = 0
        self.options = options
        self.trace = open(options.trace, "w", encoding="utf-8") if options.trace else None
        self.seen: object = None
        self.copying = False

    def __call__(self, what: str) -> None:
        if self.copying:  # the snapshot's own calls
            return
        self.count += 1
        if self.trace:
            what = " ".join(what.replace(f"{self.out}/", "").split())  # paths in the folder
            self.trace.write(f"{self.count}\t{what[:160]}\n")
            self.trace.flush()
        if self.options.snapshots:
            self.snapshot()
        if self.count == self.options.fill_at:
            fill_disk(self.out)
        if self.count == self.options.pause_at:
            print("paused", flush=True)
            sys.stdin.readline()
        if self.count == self.options.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def snapshot(self) -> None:
        """Copy the folder, if it changed since the last copy."""
        state = sorted((str(path), os.readlink(path) if path.is_symlink() else
                        (path.lstat().st_size, path.lstat().st_mtime_ns))
                       for path in self.out.rglob("*") if not path.is_dir() or path.is_symlink())
        if state == self.seen:
            return
        self.seen = state
        self.copying = True
        try:
            shutil.copytree(self.out, self.options.snapshots / f"{self.count:04d}", symlinks=True)
        finally:
            self.copying = False

    def counted(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def operation(*args: Any, **kwargs: Any) -> Any:
            self(f"{name} {' '.join(str(a) for a in args)}")
            return call(*args, **kwargs)
        return operation

    def install(self) -> None:
        """Count every DuckDB statement and every file-system call of the store."""
        import duckdb

        for name in FILE_OPERATIONS:
            setattr(os, name, self.counted(f"os.{name}", getattr(os, name)))
        shutil.rmtree = self.counted("shutil.rmtree", shutil.rmtree)
        connect = duckdb.connect
        duckdb.connect = lambda *args, **kwargs: _Counted(connect(*args, **kwargs), self)


class _Counted:
    """A DuckDB connection whose statements are counted."""

    def __init__(self, con: Any, operations: Operations):
        self._con = con
        self._operations = operations

    def execute(self, query: str, *args: Any) -> Any:
        self._operations(f"execute {query}")
        return self._con.execute(query, *args)

    def sql(self, query: str) -> Any:
        self._operations(f"sql {query}")
        return self._con.sql(query)

    def close(self) -> None:
        self._operations("close")
        self._con.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def fill_disk(folder: Path, leave: int = 0) -> None:
    """Write a file in ``folder`` until only ``leave`` bytes of its disk are free."""
    disk = os.statvfs(folder)
    size = max(0, disk.f_bavail * disk.f_frsize - leave)
    with open(folder / FILLER, "wb") as fh:
        try:
            while size > 0:
                size -= fh.write(b"\0" * min(size, 2**20))
        except OSError:  # the disk was fuller than it said
            pass


def write(out: Path, chunks: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    """The store's part of ``flows.process_reports``, on chunks extracted beforehand."""
    from pipeline.batch import pipeline_version
    from pipeline.dataset import Store

    with Store(out) as store:
        done = store.done(pipeline_version())
        for number, (chunk, files) in enumerate(chunks, 1):
            if all(done.get(f["source"]) == f["sha256"] for f in files):
                continue
            store.write(chunk.rows, chunk.errors, files)
            print("wrote", number, flush=True)
        if store.needs_export:
            store.link_scoring_forms()
            store.export()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("chunks", type=Path)
    parser.add_argument("--first", type=int, help="write only the first chunks")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--fill-at", type=int)
    parser.add_argument("--pause-at", type=int)
    parser.add_argument("--trace", type=Path)
    parser.add_argument("--snapshots", type=Path)
    parser.add_argument("--min-free", type=int, help="pipeline.dataset.MIN_FREE for this run")
    args = parser.parse_args()
    from pipeline import dataset

    if args.min_free is not None:
        dataset.MIN_FREE = args.min_free
    chunks = pickle.loads(args.chunks.read_bytes())[:args.first]
    Operations(args.out, args).install()
    try:
        write(args.out, chunks)
    except dataset.StoreError as exc:
        print("error", exc, flush=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
