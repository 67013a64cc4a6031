"""Scan runs as a batch script sees them. Two runs on one database share the
work: neither aborts, every page is read once, a run that died leaves its
files to the next. The exit status says when files could not be read or no
scan was found; export --flags lists those files; paths are stored absolute.
Inputs are made here: the session's printed forms, one PNG per page."""

import csv
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import cli_env, run, run_scan

from conftest import TEST_SECRET, write_grey_pages
from sipas_scan.reading.sources import file_sha256
from sipas_scan.store import migrate
from sipas_scan.store.db import CLAIM_STALE_S, Store

# Both runs import everything first and start at the same instant: what
# races is the scan, not Python's start-up.
LAUNCH = """
import sys, time
import sipas_scan.scan
from sipas_scan.cli import main
start = float(sys.argv[1])
sys.argv = ["sipas-scan", *sys.argv[2:]]
time.sleep(max(0.0, start - time.time()))
main()
"""

OPEN_STORE = """
import sys, time
from pathlib import Path
from sipas_scan.store.db import Store
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
with Store(Path(sys.argv[2])) as store:
    print(store.db.execute("PRAGMA user_version").fetchone()[0])
"""


@pytest.fixture(scope="module")
def scans(printed, tmp_path_factory) -> Path:
    """Every page of the session's printed batch (3 forms) as its own PNG."""
    summary, print_dir = printed
    folder = tmp_path_factory.mktemp("pages") / "scans"
    folder.mkdir()
    return write_grey_pages(print_dir / "forms.pdf", folder, summary.pages, "p{:02d}.png")


def _scan_args(scans: Path, db: Path, printed) -> list[str]:
    return ["scan", str(scans), "--db", str(db), "--ledger", str(printed[1].parent / "ledger.sqlite"), "--no-ocr", "--workers", "1"]


def _start(args: list[str], at: float, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCH, str(at), *args],
        cwd=cwd,
        env=cli_env(TEST_SECRET),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def _pages_read(stdout: str) -> int:
    return int(re.search(r"Read (\d+) pages", stdout).group(1))


def _check_every_page_stored_once(db: Path, pages: int) -> None:
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*), count(DISTINCT source_id || ':' || page_index) FROM pages").fetchone() == (pages, pages)
        assert con.execute("SELECT count(*) FROM sources WHERE status = 'done'").fetchone()[0] == pages
        assert con.execute("SELECT count(*) FROM claims").fetchone()[0] == 0  # nothing left held
        # The forms stored were derived from every page, whichever run wrote them last.
        assert con.execute("SELECT count(*) FROM forms").fetchone()[0] == 3


def test_a_new_database_opened_by_ten_processes_at_once_is_migrated_once(tmp_path):
    db = tmp_path / "new.sqlite"
    at = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_STORE, str(at), str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(10)
    ]
    results = [_finish(p) for p in processes]
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert {out.strip() for _, out, _ in results} == {str(migrate.sqlite_user_version())}


def test_two_scans_started_together_share_the_files_and_read_each_page_once(scans, printed, tmp_path):
    db = tmp_path / "results.sqlite"
    at = time.time() + 3.0
    runs = [_start(_scan_args(scans, db, printed), at, tmp_path) for _ in range(2)]
    results = [_finish(p) for p in runs]
    for code, _, err in results:
        assert code == 0, err
        assert "Traceback" not in err and "error" not in err, err
    read = [_pages_read(out) for _, out, _ in results]
    assert sum(read) == 12, read  # every page once, by one run or the other
    _check_every_page_stored_once(db, 12)


# Two scans started together, and the claims a run leaves or takes over, are
# checked below; a run started while another reads is left to `-m slow`.
@pytest.mark.slow
def test_a_scan_started_while_another_reads_takes_only_what_is_left(scans, printed, tmp_path):
    db = tmp_path / "results.sqlite"
    first = _start(_scan_args(scans, db, printed), 0.0, tmp_path)
    deadline = time.time() + 120
    while time.time() < deadline:  # the first run is storing pages
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    if con.execute("SELECT count(*) FROM pages").fetchone()[0] >= 2:
                        break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.2)
    second = _start(_scan_args(scans, db, printed), 0.0, tmp_path)
    results = [_finish(first), _finish(second)]
    for code, _, err in results:
        assert code == 0, err
    read = [_pages_read(out) for _, out, _ in results]
    assert sum(read) == 12 and read[1] < 12, read
    _check_every_page_stored_once(db, 12)
    # Run again: nothing left to read.
    code, out, _ = _finish(_start(_scan_args(scans, db, printed), 0.0, tmp_path))
    assert code == 0 and _pages_read(out) == 0


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _claim(db: Path, scan: Path, pid: int, renewed_at: float) -> None:
    with Store(db) as store, store.transaction() as con:
        con.execute(
            "INSERT INTO claims (sha256, owner, host, pid, renewed_at) VALUES (?, ?, ?, ?, ?)",
            (file_sha256(scan), f"test:{pid}", socket.gethostname(), pid, renewed_at),
        )


def test_a_live_claim_is_left_to_its_run_and_a_dead_or_stale_one_taken_over(scans, printed, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("p01.png", "p02.png"):
        (batch / name).write_bytes((scans / name).read_bytes())
    db = tmp_path / "results.sqlite"
    args = _scan_args(batch, db, printed)
    # p01 is held by a live run (this test's process), p02 by a run killed before it finished.
    _claim(db, batch / "p01.png", os.getpid(), time.time())
    _claim(db, batch / "p02.png", _dead_pid(), time.time())
    code, out, err = _finish(_start(args, 0.0, tmp_path))
    assert code == 0, err
    assert _pages_read(out) == 1
    assert f"left to another scan run (process {os.getpid()}) reading it now: {batch / 'p01.png'}" in out
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT path FROM sources").fetchall() == [(str(batch / "p02.png"),)]
        # The live run's claim stays; the dead run's was taken over and dropped when its file was done.
        assert con.execute("SELECT pid FROM claims").fetchall() == [(os.getpid(),)]
        # A claim nobody renewed for too long is stale even when its process id is alive.
        con.execute("UPDATE claims SET renewed_at = ?", (time.time() - CLAIM_STALE_S - 1,))
    code, out, err = _finish(_start(args, 0.0, tmp_path))
    assert code == 0, err
    assert _pages_read(out) == 1 and "left to another" not in out
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM pages").fetchone()[0] == 2


# ---- exit status, files not read, absolute paths ---------------------------


def _flags(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_scan_exit_status_and_export_flags_name_the_files_not_read(scans, printed, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "p01.png").write_bytes((scans / "p01.png").read_bytes())
    (batch / "p02.png").write_bytes(b"not an image at all")
    (batch / "p03.png").symlink_to(tmp_path / "moved-away.png")
    args = ("scan", "batch", "--db", "r.sqlite", "--ledger", str(printed[1].parent / "ledger.sqlite"), "--no-ocr", "--workers", "1")
    result = run(*args, cwd=tmp_path, env_secret=TEST_SECRET)
    assert result.returncode == 3, result.stderr
    assert "Read 1 pages" in result.stdout  # the good page is stored all the same
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("sipas-scan: error: 2 file(s) or folder(s) could not be read") and "export --flags" in error
    with sqlite3.connect(tmp_path / "r.sqlite") as con:
        assert con.execute("SELECT path FROM sources").fetchall() == [(str(batch / "p01.png"),)]  # absolute
        assert {r[0] for r in con.execute("SELECT path FROM source_failures")} == {str(batch / "p02.png"), str(batch / "p03.png")}
    exported = run("export", "--db", "r.sqlite", "--out", "records.csv", "--flags", "flags.csv", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    not_read = {row["source"]: row for row in _flags(tmp_path / "flags.csv") if row["reason"].startswith("not-read:")}
    assert set(not_read) == {str(batch / "p02.png"), str(batch / "p03.png")}
    assert not_read[str(batch / "p02.png")]["reason"] == "not-read:not-an-image"
    assert "dangling symbolic link" in not_read[str(batch / "p03.png")]["detail"]
    assert all(row["blocking"] == "1" and row["form_id"] == "" for row in not_read.values())

    # Put right, read on the next run: the exit status is clean and the files are no longer listed.
    (batch / "p02.png").write_bytes((scans / "p02.png").read_bytes())
    (batch / "p03.png").unlink()
    (tmp_path / "moved-away.png").write_bytes((scans / "p03.png").read_bytes())
    (batch / "p03.png").symlink_to(tmp_path / "moved-away.png")
    result = run(*args, cwd=tmp_path, env_secret=TEST_SECRET)
    assert result.returncode == 0, result.stderr
    assert "Read 2 pages" in result.stdout
    run("export", "--db", "r.sqlite", "--out", "records.csv", "--flags", "flags.csv", cwd=tmp_path)
    assert not [row for row in _flags(tmp_path / "flags.csv") if row["reason"].startswith("not-read:")]
    # Nothing new to read is no failure: running again on the same files (the contract) exits 0.
    again = run(*args, cwd=tmp_path, env_secret=TEST_SECRET)
    assert again.returncode == 0 and "Read 0 pages" in again.stdout, again.stderr


def test_scan_finding_no_scan_at_all_exits_non_zero(printed, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("không phải bản quét", encoding="utf-8")
    result = run_scan(tmp_path, "empty", "r.sqlite", str(printed[1].parent / "ledger.sqlite"))
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == (
        "sipas-scan: error: no scans found in the inputs given (PDF, TIFF, PNG or JPEG files, or folders of them)"
    )


@pytest.mark.slow
def test_two_scans_of_office_stacks_seconds_apart_give_what_one_scan_gives(office_scan, tmp_path):
    """The session's office stacks (multi-page files, forgeries, strays),
    read by two runs with worker pools, the second started while the first
    reads: each page read once, and the same forms and answers as one run."""
    db = tmp_path / "results.sqlite"
    args = ["scan", str(office_scan / "sim" / "scans"), "--db", str(db), "--ledger", str(office_scan / "ledger.sqlite")]
    args += ["--no-ocr", "--workers", "2"]
    first = _start(args, 0.0, tmp_path)
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            with sqlite3.connect(db) as con:
                if con.execute("SELECT count(*) FROM pages").fetchone()[0] >= 3:
                    break
        except sqlite3.OperationalError:
            pass
    second = _start(args, 0.0, tmp_path)
    results = [_finish(first), _finish(second)]
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    with sqlite3.connect(db) as con, sqlite3.connect(office_scan / "results.sqlite") as alone:
        stored = con.execute("SELECT count(*) FROM pages").fetchone()[0]
        assert stored == alone.execute("SELECT count(*) FROM pages").fetchone()[0]
        # No page read twice, but for a quarantine whose cause can change (a
        # forged code may be a wrong secret): one run stored before the other
        # started is tried again, by design, and gives the same verdict.
        retried = con.execute("SELECT count(*) FROM pages WHERE reason = 'forged-code'").fetchone()[0]
        assert stored <= sum(_pages_read(out) for _, out, _ in results) <= stored + retried
        for query in (
            "SELECT survey, serial, status FROM forms ORDER BY 1, 2",
            "SELECT survey, serial, field_id, value FROM answers ORDER BY 1, 2, 3",
            "SELECT survey, serial, field_id, reason FROM flags ORDER BY 1, 2, 3, 4",
        ):
            assert con.execute(query).fetchall() == alone.execute(query).fetchall(), query
