"""The store whole (issue 10): whatever stops a writer, the dataset folder holds a whole dataset.

The writer (``tests/store_writer.py``: the flow's calls on the store, in a process of its own) is
killed at every one of its operations and at moments nobody chose, and its disk fills up at
chosen points; ``jixiao run`` meets another writer, a read-only folder and a full disk. Each time
the dataset is whole (:func:`whole`): the database opens and every report in it has its text, its
kept source and only rows of its own; the Parquet files are one version, the previous one or the
database's, never some of each; a run again completes it and reads only what is missing; a
failure exits non-zero saying why. Small disks are tmpfs mounts in a user namespace of their own
(``unshare -rm``), where root can also remount a folder read-only.
"""
from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.batch import chunks, discover, file_digest, pipeline_version, process_chunk
from pipeline.dataset import (CURRENT, EXPORTS, MATRIX, PENDING, REPORT_TABLES, SCHEMAS, Store,
                              StoreError, read_table)
from pipeline.paths import source_name
from tests import store_writer
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parents[1]
JIXIAO = Path(sys.executable).with_name("jixiao")
TABLES = [*SCHEMAS, MATRIX]
# What a whole dataset never has, as queries on its tables (the database's, or the Parquet files')
BROKEN = {
    "a report without its text": "SELECT report_id FROM reports EXCEPT SELECT report_id FROM texts",
    "a text without its report": "SELECT report_id FROM texts EXCEPT SELECT report_id FROM reports",
    "a report without its kept source":
        "SELECT report_id FROM reports EXCEPT SELECT report_id FROM sources WHERE is_primary",
    "a file read whose report is not there": "SELECT report_id FROM files WHERE status IN "
        "('ok', 'duplicate') EXCEPT SELECT report_id FROM reports",
    **{f"{table} rows of a report that is not there":
       f"SELECT report_id FROM {table} EXCEPT SELECT report_id FROM reports"
       for table in REPORT_TABLES if table not in ("reports", "texts")},
}


def namespaces_work() -> bool:
    try:
        check = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return check.returncode == 0


needs_namespace = pytest.mark.skipif(not namespaces_work(),
                                     reason="no user and mount namespace here (unshare -rm) for a "
                                            "small or read-only disk")


def in_namespace(script: str, **env: str | Path) -> subprocess.CompletedProcess:
    """Run a shell script as root of a user and mount namespace of its own, where it can mount
    small disks and remount them read-only; ``env`` are its variables, with ``$PYTHON`` and
    ``$JIXIAO``."""
    variables = {**os.environ, "PYTHON": sys.executable, "JIXIAO": str(JIXIAO),
                 **{k: str(v) for k, v in env.items()}}
    return subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env=variables, timeout=600)


def problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [what for what, query in BROKEN.items() if con.execute(query).fetchall()]


def counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def whole(out: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Assert that the dataset in ``out`` is whole; return the row counts of its database and of
    its Parquet files. Every table of a version is there, and when the database has no changes
    the Parquet files lack (no ``.jixiao.export-pending``) the two agree."""
    db = duckdb.connect(str(out / "jixiao.duckdb"), read_only=True)  # replays the WAL, in memory
    try:
        tables = [t for t in TABLES if db.execute("SELECT count(*) FROM information_schema.tables "
                                                  "WHERE table_name = ?", [t]).fetchall()[0][0]]
        assert set(SCHEMAS) <= set(tables), f"not in the database: {set(SCHEMAS) - set(tables)}"
        assert problems(db) == [], f"the database has {problems(db)}"
        in_db = counts(db, tables)
    finally:
        db.close()
    files = [out / f"{t}.parquet" for t in TABLES]
    assert all(f.exists() for f in files), [f.name for f in files if not f.exists()]
    pq = duckdb.connect()
    for table in TABLES:
        pq.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{out / table}.parquet')")
    assert problems(pq) == [], f"the Parquet files have {problems(pq)}"
    in_parquet = counts(pq, TABLES)
    pq.close()
    if not (out / PENDING).exists():
        assert in_parquet == in_db
    return in_db, in_parquet


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The input (the seeds, and seed 000 again under another name), its chunks of two files
    extracted once for the writer, a dataset of the first chunk (``base``) and the dataset of all
    of them written after it without a stop (``reference``)."""
    tmp = tmp_path_factory.mktemp("store-whole")
    raw = tmp / "raw"
    raw.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for seed in seeds:
        shutil.copy(seed, raw / seed.name)
    shutil.copy(seeds[0], raw / "000_again.txt")
    files, _ = discover([raw])
    version = pipeline_version()
    extracted = []
    for batch in chunks([source_name(f) for f in files], 2):
        chunk = process_chunk(batch)
        rows = []  # as flows._file_rows makes them
        for source, report_id in chunk.outcomes:
            sha256, size = file_digest(source)
            rows.append({"source": source, "sha256": sha256, "size": size,
                         "pipeline_version": version, "report_id": report_id,
                         "status": "ok" if report_id else "failed"})
        extracted.append((chunk, rows))
    (tmp / "chunks.pkl").write_bytes(pickle.dumps(extracted))
    paths = {"raw": raw, "chunks": tmp / "chunks.pkl", "base": tmp / "base",
             "reference": tmp / "reference", "tmp": tmp}
    store_writer.write(paths["base"], extracted[:1])
    shutil.copytree(paths["base"], paths["reference"], symlinks=True)
    store_writer.write(paths["reference"], extracted)
    return paths


def writer(out: Path, chunks_file: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.store_writer", str(out), str(chunks_file),
                           *options], capture_output=True, text=True, cwd=ROOT, timeout=300)


def parquet_counts(out: Path) -> dict[str, int]:
    return whole(out)[1]


def copy_of(folder: Path, tmp_path: Path, name: str = "out") -> Path:
    shutil.copytree(folder, tmp_path / name, symlinks=True)
    return tmp_path / name


# --- a kill ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def traced(work: dict[str, Path]) -> dict[str, Path]:
    """A run of the writer after ``base``, with the trace of its operations and a copy of the
    folder before each that found it changed."""
    paths = {"out": copy_of(work["base"], work["tmp"], "traced"), "trace": work["tmp"] / "trace.txt",
             "snapshots": work["tmp"] / "snapshots"}
    paths["snapshots"].mkdir()
    run = writer(paths["out"], work["chunks"], "--trace", str(paths["trace"]),
                 "--snapshots", str(paths["snapshots"]))
    assert run.returncode == 0 and run.stdout.split() == ["wrote", "2", "wrote", "3"], run.stderr
    return paths


@pytest.fixture(scope="module")
def kill_points(traced: dict[str, Path]) -> dict[str, int]:
    """The numbers of the writer's operations to act at, by what they do."""
    ops = [line.split("\t", 1) for line in traced["trace"].read_text(encoding="utf-8").splitlines()]
    commits, writing = [], False  # of the chunks' transactions: those that write files rows
    for n, what in ops:
        writing = writing or what.startswith("execute INSERT INTO files")
        if what == "execute COMMIT" and writing:
            commits.append(int(n))
            writing = False
    copies = [int(n) for n, what in ops if what.startswith("execute COPY")]
    switch = next(int(n) for n, what in ops if what.startswith("os.replace")
                  and what.endswith(f" {EXPORTS}/{CURRENT}"))
    return {"the last chunk's commit": commits[-1], "the Parquet export": copies[len(copies) // 2],
            "the switch to the new Parquet files": switch}


def test_a_kill_at_any_point_leaves_the_dataset_whole(work: dict[str, Path],
                                                      traced: dict[str, Path]) -> None:
    """What a kill leaves is what is on disk when it comes: every copy the writer made of the
    folder before an operation (of some 200) must be whole, with the Parquet files of before the
    run or of after it, and the database somewhere in between."""
    versions = [parquet_counts(work["base"]), parquet_counts(work["reference"])]
    seen = set()
    snapshots = sorted(traced["snapshots"].iterdir())
    for snapshot in snapshots:
        in_db, in_parquet = whole(snapshot)
        assert in_parquet in versions, snapshot.name
        seen.add(versions.index(in_parquet))
        assert versions[0]["reports"] <= in_db["reports"] <= versions[1]["reports"]
    assert len(snapshots) > 20 and seen == {0, 1}
    assert parquet_counts(traced["out"]) == versions[1]


@pytest.mark.parametrize("point", ["the last chunk's commit", "the switch to the new Parquet files"])
def test_a_writer_killed_then_run_again_reads_only_what_is_missing(
        work: dict[str, Path], kill_points: dict[str, int], tmp_path: Path, point: str) -> None:
    from tests.test_flow import assert_same_dataset

    at = kill_points[point]
    out = copy_of(work["base"], tmp_path)
    killed = writer(out, work["chunks"], "--kill-at", str(at))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    _, in_parquet = whole(out)
    assert in_parquet == parquet_counts(work["base"])
    again = writer(out, work["chunks"])
    assert again.returncode == 0, again.stderr[-2000:]
    # a chunk is read again only when its commit did not happen
    assert again.stdout.split() == (["wrote", "3"] if point == "the last chunk's commit" else [])
    whole(out)
    assert not (out / PENDING).exists()
    assert_same_dataset(out, work["reference"])


def test_kills_at_any_moment_leave_the_dataset_whole(work: dict[str, Path], tmp_path: Path) -> None:
    """Kills at moments nobody chose: wherever they land (in a commit, a Parquet write …)."""
    versions = [parquet_counts(work["base"]), parquet_counts(work["reference"])]
    for delay in (1.2, 3.0):  # in the chunks' writes or in the export, as the machine goes
        out = copy_of(work["base"], tmp_path, f"after-{delay}")
        proc = subprocess.Popen([sys.executable, "-m", "tests.store_writer", str(out),
                                 str(work["chunks"])], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _, in_parquet = whole(out)
        assert in_parquet in versions, delay


# --- two writers, and readers ----------------------------------------------------------------

def test_a_second_writer_is_refused_at_once_and_the_first_loses_nothing(
        work: dict[str, Path], kill_points: dict[str, int], tmp_path: Path) -> None:
    """A writer holds the store, paused before its last commit; ``jixiao run`` on the same folder
    stops at once, naming it; the first writer then finishes with every row."""
    from tests.test_flow import assert_same_dataset

    out = copy_of(work["base"], tmp_path)
    first = subprocess.Popen([sys.executable, "-m", "tests.store_writer", str(out), str(work["chunks"]),
                              "--pause-at", str(kill_points["the last chunk's commit"])],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert first.stdout.readline().split() == ["wrote", "2"]
        assert first.stdout.readline().strip() == "paused"
        started = time.monotonic()
        second = subprocess.run([str(JIXIAO), "run", str(SEEDS), "--out", str(out)],
                                capture_output=True, text=True, timeout=120)
        assert time.monotonic() - started < 15
        assert second.returncode == 3, second.stderr
        assert (f"{out} is being written by another jixiao run (process {first.pid}): "
                "one writer at a time") in second.stderr
        assert "starting Prefect" not in second.stderr  # refused before the run began
        # readers are not held up by the lock: the Parquet files are the previous version meanwhile
        assert len(read_table(out, "reports")) == parquet_counts(work["base"])["reports"]
        query = subprocess.run([str(JIXIAO), "sql", "--out", str(out), "SELECT 1"],
                               capture_output=True, text=True, timeout=60)  # DuckDB's lock
        assert query.returncode == 1 and "is being written" in query.stderr, query.stderr
        stdout, _ = first.communicate("\n", timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0 and stdout.split() == ["wrote", "3"]
    whole(out)
    assert_same_dataset(out, work["reference"])


def test_the_lock_goes_with_the_writer_however_it_ends(work: dict[str, Path], tmp_path: Path) -> None:
    """Refused while a writer holds the folder; free once it is killed, even when a child it
    forked lives on; a program reading the database keeps writers out, and says so."""
    out = copy_of(work["base"], tmp_path)
    code = ("import os, sys, time\nfrom pipeline.dataset import Store\nstore = Store(sys.argv[1])\n"
            "child = os.fork()\nif child == 0:\n    time.sleep(60)\n    os._exit(0)\n"
            "print(child, flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
    child = int(holder.stdout.readline())
    try:
        with pytest.raises(StoreError, match=f"process {holder.pid}"):
            Store(out)
        holder.kill()
        holder.wait()
        Store(out).close()
    finally:
        holder.kill()
        holder.wait()
        os.kill(child, signal.SIGKILL)
    reader = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\ncon = duckdb.connect("
                               "sys.argv[1], read_only=True)\nprint('open', flush=True)\n"
                               "time.sleep(60)", str(out / "jixiao.duckdb")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match="is open in another program"):
            Store(out)
    finally:
        reader.kill()
        reader.wait()
    with open(out / ".jixiao.lock", "rb") as fh, Store(out):  # a writer holds it while open
        with pytest.raises(BlockingIOError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


# --- a full disk, a folder that cannot be written ----------------------------------------------

@needs_namespace
def test_a_disk_that_fills_up_fails_the_write_and_keeps_the_dataset(
        work: dict[str, Path], kill_points: dict[str, int], tmp_path: Path) -> None:
    """Another program fills the disk before the last chunk's commit, or while the Parquet files
    are written; then the space comes back, and a run completes the dataset."""
    from tests.test_flow import assert_same_dataset

    results = tmp_path / "results"
    results.mkdir()
    script = """
        mkdir -p "$DISK" && mount -t tmpfs -o size=24m none "$DISK" || exit 99
        for at in $FILL_AT; do
            rm -rf "$DISK/out" && cp -a "$BASE" "$DISK/out"
            "$PYTHON" -m tests.store_writer "$DISK/out" "$CHUNKS" --fill-at $at \
                > "$RESULTS/$at.out" 2> "$RESULTS/$at.err"
            echo $? > "$RESULTS/$at.code"
            rm -f "$DISK/out/.filler" && cp -a "$DISK/out" "$RESULTS/$at"
        done
        "$PYTHON" -m tests.store_writer "$DISK/out" "$CHUNKS" > "$RESULTS/again.out" 2>&1
        echo $? > "$RESULTS/again.code"
        cp -a "$DISK/out" "$RESULTS/again"
    """
    points = {point: kill_points[point] for point in ("the last chunk's commit", "the Parquet export")}
    proc = in_namespace(script, DISK=tmp_path / "disk", BASE=work["base"], CHUNKS=work["chunks"],
                        RESULTS=results, FILL_AT=" ".join(map(str, points.values())))
    assert proc.returncode == 0, proc.stderr
    for point, at in points.items():
        output = (results / f"{at}.out").read_text()
        assert (results / f"{at}.code").read_text().strip() == "3", \
            (point, output, (results / f"{at}.err").read_text()[-2000:])
        written = [line for line in output.splitlines() if line.startswith("wrote")]
        assert written == (["wrote 2"] if "commit" in point else ["wrote 2", "wrote 3"])
        assert "the disk is full (No space left on device)" in output
        assert ("cannot write" if "commit" in point else "cannot export") + " the dataset" in output
        in_db, in_parquet = whole(results / str(at))
        assert in_parquet == parquet_counts(work["base"]), point
        assert in_db["reports"] > in_parquet["reports"]  # what was committed is kept
        assert sorted(p.name for p in (results / str(at) / EXPORTS).iterdir()) == [
            "000001", CURRENT]  # the new version, written in part, was removed
    assert (results / "again.code").read_text().strip() == "0", (results / "again.out").read_text()
    whole(results / "again")
    assert_same_dataset(results / "again", work["reference"])


def test_a_run_whose_store_fails_exits_3_with_the_reason(tmp_path: Path, monkeypatch) -> None:
    """A :class:`StoreError` from inside the flow (a full disk, a writer that took the lock after
    the command's own check) is exit 3 and its message, after the run is shut down."""
    import contextlib

    from click.testing import CliRunner

    import flows
    from pipeline import cli

    @contextlib.contextmanager
    def no_prefect(**kwargs):
        yield None

    def disk_full(*args, **kwargs):
        raise StoreError("cannot write the dataset in out: the disk is full (No space left on device)")

    monkeypatch.setattr(cli, "_quiet_prefect", lambda: None)
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    monkeypatch.setattr(flows, "session", no_prefect)
    monkeypatch.setattr(flows, "run", disk_full)
    result = CliRunner().invoke(cli.main, ["run", str(SEEDS), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "Error: cannot write the dataset in out: the disk is full" in result.output


@needs_namespace
@pytest.mark.parametrize("disk", ["read-only", "full"])
def test_a_folder_that_cannot_be_written_fails_before_anything_is_read(
        work: dict[str, Path], tmp_path: Path, disk: str) -> None:
    """A read-only disk, or one with 1 MiB free: ``jixiao run`` exits 3 with the reason within
    seconds, before Prefect starts and any file is read, and the dataset is as it was."""
    results = tmp_path / "results"
    results.mkdir()
    make = {"read-only": 'mount -o remount,ro "$DISK"',
            "full": '"$PYTHON" -c "import sys; from pathlib import Path; from tests.store_writer '
                    'import fill_disk; fill_disk(Path(sys.argv[1]), 2**20)" "$DISK"'}[disk]
    script = f"""
        mkdir -p "$DISK" && mount -t tmpfs -o size=24m none "$DISK" || exit 99
        cp -a "$BASE" "$DISK/out" && {make} || exit 98
        start=$(date +%s%N)
        "$JIXIAO" run "$RAW" --out "$DISK/out" > "$RESULTS/stdout" 2> "$RESULTS/stderr"
        echo $? > "$RESULTS/code"
        echo $(( ($(date +%s%N) - start) / 1000000 )) > "$RESULTS/milliseconds"
        cp -a "$DISK/out" "$RESULTS/out"
    """
    proc = in_namespace(script, DISK=tmp_path / "disk", BASE=work["base"], RAW=work["raw"],
                        RESULTS=results, PREFECT_HOME=tmp_path / "prefect-home")
    assert proc.returncode == 0, proc.stderr
    stderr = (results / "stderr").read_text()
    assert (results / "code").read_text().strip() == "3", stderr
    assert {"read-only": "is not writable", "full": "MiB free"}[disk] in stderr
    assert "starting Prefect" not in stderr  # refused before the run began
    assert int((results / "milliseconds").read_text()) < 15000
    in_db, in_parquet = whole(results / "out")
    assert in_db["files"] == in_parquet["files"] == parquet_counts(work["base"])["files"]


def test_an_out_that_is_a_file_or_under_one_is_refused(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main

    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    result = CliRunner().invoke(main, ["run", str(SEEDS), "--out", str(a_file)])
    assert result.exit_code == 2 and "is a file" in result.output
    result = CliRunner().invoke(main, ["run", str(SEEDS), "--out", str(a_file / "dataset")])
    assert result.exit_code == 3 and "cannot create the dataset folder" in result.output


# --- the DuckDB file of an earlier jixiao, rebuilt on a full disk -------------------------------

@needs_namespace
def test_an_upgrade_that_runs_out_of_space_keeps_the_old_database(work: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    """A database of a jixiao from before the store is rebuilt beside itself: on a disk too small
    for both, the old file stays as it was, nothing is left beside it, and with room it upgrades."""
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    for table in SCHEMAS:  # the layout before the store: plain Parquet files, and DuckDB 2's file
        shutil.copy(work["base"] / f"{table}.parquet", legacy / f"{table}.parquet")
    con = duckdb.connect(str(legacy / "jixiao.duckdb"))
    for table in SCHEMAS:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{legacy / table}.parquet')")
    con.close()
    old = (legacy / "jixiao.duckdb").read_bytes()
    results = tmp_path / "results"
    results.mkdir()
    size = sum(p.stat().st_size for p in legacy.iterdir()) + 2**19
    script = """
        mkdir -p "$DISK" && mount -t tmpfs -o size=$SIZE none "$DISK" || exit 99
        cp -a "$LEGACY" "$DISK/out"
        "$PYTHON" -m tests.store_writer "$DISK/out" "$CHUNKS" --first 0 --min-free 0 \
            > "$RESULTS/full.out" 2>&1
        echo $? > "$RESULTS/full.code"
        cp -a "$DISK/out" "$RESULTS/full"
        mount -o remount,size=64m "$DISK"
        "$PYTHON" -m tests.store_writer "$DISK/out" "$CHUNKS" --first 0 > "$RESULTS/again.out" 2>&1
        echo $? > "$RESULTS/again.code"
        cp -a "$DISK/out" "$RESULTS/again"
    """
    proc = in_namespace(script, DISK=tmp_path / "disk", LEGACY=legacy, CHUNKS=work["chunks"],
                        RESULTS=results, SIZE=str(size))
    assert proc.returncode == 0, proc.stderr
    output = (results / "full.out").read_text()
    assert (results / "full.code").read_text().strip() == "3", output
    assert "cannot upgrade" in output and "No space left on device" in output, output
    assert (results / "full" / "jixiao.duckdb").read_bytes() == old
    assert sorted(p.name for p in (results / "full").iterdir()) == sorted(
        [".jixiao.lock", *(p.name for p in legacy.iterdir())])
    assert (results / "again.code").read_text().strip() == "0", (results / "again.out").read_text()
    in_db, in_parquet = whole(results / "again")
    assert {t: in_db[t] for t in SCHEMAS} == {t: parquet_counts(work["base"])[t] for t in SCHEMAS}
