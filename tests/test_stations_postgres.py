"""Several scanning stations on one PostgreSQL database, as separate
processes from the command line: what they store and derive together is
what one scan of the same stacks into SQLite exports, also when the same
stacks are given to both at once and when a station is killed (SIGKILL)
mid-run and run again."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from test_cli import cli_env

from conftest import TEST_SECRET, same_as_one_sqlite_scan
from sipas_scan.store import results
from sipas_scan.store.db import Store
from sipas_scan.store.engine import dispose_engines


@pytest.fixture
def database(postgres_cluster):
    url = postgres_cluster.create_database(f"s{uuid.uuid4().hex[:12]}")
    yield url
    dispose_engines()


def _station(office_scan: Path, url: str, inputs: list[Path], cwd: Path, workers: int = 1) -> subprocess.Popen:
    args = ["scan", *map(str, inputs), "--db", url, "--ledger", str(office_scan / "ledger.sqlite"), "--no-ocr"]
    args += ["--workers", str(workers)]
    return subprocess.Popen(
        [sys.executable, "-m", "sipas_scan", *args],
        cwd=cwd,
        env=cli_env(TEST_SECRET),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, killed as one
    )


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sipas_scan", *args], capture_output=True, text=True, cwd=cwd, env=cli_env(TEST_SECRET), timeout=300
    )


def _finish(station: subprocess.Popen) -> str:
    out, err = station.communicate(timeout=300)
    assert station.returncode == 0, err
    return out


def test_two_stations_at_once_on_the_same_stacks_store_what_one_scan_does(office_scan, database, tmp_path):
    """Each station is given both stacks, in opposite orders: they start on
    different files and meet on the same ones; every file is read once. One
    station reads with two worker processes, forked beside the store's open
    connection."""
    stacks = sorted((office_scan / "sim" / "scans").iterdir())
    assert len(stacks) >= 2
    first = _station(office_scan, database, stacks, tmp_path, workers=2)
    second = _station(office_scan, database, stacks[::-1], tmp_path)
    outputs = [_finish(first), _finish(second)]
    assert all("Read " in out for out in outputs)
    same_as_one_sqlite_scan(database, office_scan, tmp_path)
    with Store(database) as pg, Store(office_scan / "results.sqlite") as lite:
        assert results.form_statuses(pg) == results.form_statuses(lite)
        assert pg.page_image(1).key.startswith("sha256:") and pg.page_image(1).read()[:2] == b"\xff\xd8"
    assert not list(tmp_path.glob("*.pages"))  # nothing beside the stations: the images are in the database


def test_a_station_killed_mid_run_and_run_again_stores_what_one_scan_does(office_scan, database, tmp_path):
    stacks = sorted((office_scan / "sim" / "scans").iterdir())
    station = _station(office_scan, database, stacks, tmp_path)
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and station.poll() is None:
        time.sleep(0.1)
        try:
            with Store(database) as store:
                stored = store.db.query("SELECT count(*) FROM pages").scalar()
        except Exception:  # noqa: BLE001 - the database is still being created
            continue
        if stored >= 5:
            break
    assert station.poll() is None, "the station ended before it could be killed"
    os.killpg(station.pid, signal.SIGKILL)  # the station and its readers, as a machine switched off
    station.communicate(timeout=30)
    with Store(database) as store:
        assert store.db.query("SELECT count(*) FROM pages").scalar() >= 5
        assert store.db.query("SELECT count(*) FROM claims").scalar() == 1  # left behind by the dead run
    # Killed on this machine: the next run sees the claiming process is gone and takes its file.
    rerun = _finish(_station(office_scan, database, stacks, tmp_path))
    assert "Read " in rerun
    same_as_one_sqlite_scan(database, office_scan, tmp_path)


def test_the_issued_serials_ledger_in_the_shared_database(database, tmp_path):
    """`--ledger URL`: print runs anywhere continue one numbering, and scan,
    returns and the review app read the issued households from it."""
    from conftest import make_households, write_grey_pages, write_households
    from sipas_scan.printing.ledger import Ledger, check_ledger

    households = write_households(tmp_path / "households.csv", make_households(2))

    run = functools.partial(_cli, tmp_path)

    first = run("print", "sipas-household", "--households", str(households), "--out", "run1", "--ledger", database)
    assert first.returncode == 0, first.stderr
    assert "(new)" in first.stdout and "postgresql" in first.stdout and "***" not in first.stdout
    again = run("print", "sipas-household", "--households", str(households), "--out", "run2", "--ledger", database)
    assert again.returncode == 0 and "2 of 2 households already held a serial" in again.stderr
    assert check_ledger(database) == 4
    with Ledger(database) as ledger:
        numbers = [int(serial[:-1]) for serial in ledger.issued("sipas-household")]  # the last digit checks the rest
        assert numbers == [1, 2, 3, 4]
    pages = write_grey_pages(tmp_path / "run2" / "forms.pdf", tmp_path, 4, "p{}.png")
    scanned = run("scan", *(str(pages / f"p{n}.png") for n in range(1, 5)), "--db", database, "--ledger", database, "--no-ocr")
    assert scanned.returncode == 0, scanned.stderr
    with Store(database) as store:
        ((serial, household, issued),) = store.db.query("SELECT serial, household_code, issued FROM forms").all()
    with Ledger(database) as ledger:
        assert issued == 1 and household == ledger.issued("sipas-household")[serial].household.household_code
        assert list(ledger.issued("sipas-household")).index(serial) == 2  # the second run's first form
    returned = run("returns", "--db", database, "--ledger", database, "--out", "returns")
    assert returned.returncode == 0, returned.stderr


def test_a_laptops_ledger_file_copied_into_the_shared_database(database, printed, tmp_path):
    from conftest import make_households, write_households
    from sipas_scan.printing.ledger import Ledger

    summary, _ = printed

    run = functools.partial(_cli, tmp_path)

    copied = run("db", "copy", str(summary.ledger), database)
    assert copied.returncode == 0, copied.stderr
    assert "Copied the ledger: 1 print runs, 3 issued serials" in copied.stdout
    with Ledger(summary.ledger) as file, Ledger(database) as shared:
        assert shared.issued("sipas-household") == file.issued("sipas-household")
    refused = run("db", "copy", str(summary.ledger), database)
    assert refused.returncode == 7 and "already holds 1 print runs" in refused.stderr
    # Printing into the shared ledger goes on after the copied serials.
    households = write_households(tmp_path / "more.csv", make_households(1))
    more = run("print", "sipas-household", "--households", str(households), "--out", "more", "--ledger", database)
    assert more.returncode == 0, more.stderr
    with Ledger(database) as shared:
        assert [int(serial[:-1]) for serial in shared.issued("sipas-household")] == [1, 2, 3, 4]
