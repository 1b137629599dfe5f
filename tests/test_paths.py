"""Paths as they come (issue 10): any byte sequence in a file name is stored printably and
losslessly and read back; FIFOs, devices, broken links and link loops are refused with an errors
row instead of hanging or being skipped in silence; one file under two spellings is one file."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline.batch import discover, process_chunk, process_file
from pipeline.dataset import Store
from pipeline.paths import raw_path, source_name
from tests.conftest import SEEDS

SEED = sorted(SEEDS.glob("*.txt"))[0]
# 报告.txt in GBK: bytes that are not UTF-8
GBK_NAME = os.fsdecode("报告".encode("gbk") + b".txt")


@pytest.mark.parametrize("name", [GBK_NAME, "a\\b.txt", "line\nbreak.txt", "\x1b[2J.txt",
                                  "plain 报告 (1).txt", os.fsdecode(b"\xff\xfex.txt"),
                                  "\\x41 looks escaped.txt"])
def test_every_name_is_stored_printably_and_read_back(name: str) -> None:
    stored = source_name(name)
    assert stored.isprintable() and stored.encode("utf-8")
    assert raw_path(stored) == Path(name)


def test_a_folder_with_a_name_that_is_not_utf8_is_read_and_written(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / GBK_NAME)
    files, errors = discover([tmp_path])
    assert errors == [] and [p.name for p in files] == [GBK_NAME]
    chunk = process_chunk([source_name(p) for p in files])  # as the flow sends them
    assert chunk.errors == []
    with Store(tmp_path / "ds") as store:
        store.write(chunk.rows)
        (source,) = store.con.execute("SELECT source FROM reports").fetchall()[0]
    assert source == source_name(tmp_path / GBK_NAME) and "\\xb1\\xa8" in source
    assert raw_path(source).read_bytes() == SEED.read_bytes()


def test_special_files_in_a_folder_are_errors_rows(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "report.txt")
    os.mkfifo(tmp_path / "fifo.txt")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "missing.txt")
    (tmp_path / "loop1.txt").symlink_to(tmp_path / "loop2.txt")
    (tmp_path / "loop2.txt").symlink_to(tmp_path / "loop1.txt")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # a folder loop: not followed
    (tmp_path / "link.txt").symlink_to(tmp_path / "report.txt")  # the same file again
    files, errors = discover([tmp_path])
    assert [p.name for p in files] == ["link.txt"]  # report.txt through its link, once
    why = {Path(e["source"]).name: e["message"] for e in errors}
    assert why == {"broken.txt": "cannot read the file: a broken symbolic link",
                   "fifo.txt": "not a regular file (a FIFO): skipped",
                   "loop1.txt": "cannot read the file: a loop of symbolic links",
                   "loop2.txt": "cannot read the file: a loop of symbolic links",
                   "zero.txt": "not a regular file (a character device): skipped"}


def test_a_special_file_named_directly_is_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.txt")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    for name, kind in (("fifo.txt", "a FIFO"), ("zero.txt", "a character device")):
        result = process_file(tmp_path / name)
        assert result.error is not None and kind in result.error["message"]


def test_two_spellings_of_a_path_are_one_source(tmp_path: Path) -> None:
    assert source_name("./data//raw/a.txt") == source_name("data/raw/a.txt") == "data/raw/a.txt"
    shutil.copy(SEED, tmp_path / "a.txt")
    files, _ = discover([tmp_path / "a.txt", tmp_path / "." / "a.txt", tmp_path])
    assert len(files) == 1
