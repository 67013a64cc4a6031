"""The issued-serials ledger is never guessed: a wrong --ledger stops scan
before any page is read, no command quietly uses a ledger left in the working
folder, a reprint is announced and returns counts households, not serials.
Inputs are made here from the session's printed forms."""

import csv
import shutil
import sqlite3
from pathlib import Path

import pytest
from test_cli import run, run_print, run_scan

from conftest import TEST_SECRET
from sipas_scan.printing.ledger import LedgerError, check_ledger
from sipas_scan.store.db import Store


@pytest.fixture(scope="module")
def first_form(first_form_pages, tmp_path_factory) -> Path:
    """The first printed form's four pages in a folder named scans."""
    folder = tmp_path_factory.mktemp("form") / "scans"
    shutil.copytree(first_form_pages, folder)
    return folder


def _ledger(printed) -> Path:
    return printed[1].parent / "ledger.sqlite"


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_wrong_ledger_stops_scan_before_any_page_is_read(first_form, tmp_path):
    shutil.copytree(first_form, tmp_path / "scans")
    (tmp_path / "households.csv").write_text("province,district\nLạng Sơn,Cao Lộc\n", encoding="utf-8")
    (tmp_path / "empty.sqlite").write_bytes(b"")
    (tmp_path / "folder.sqlite").mkdir()
    with Store(tmp_path / "other-results.sqlite"):
        pass
    cases = {
        "ledgr.sqlite": "no such ledger",  # a typo
        "households.csv": "not an SQLite file",
        "empty.sqlite": "an empty file",
        "other-results.sqlite": "a results database",
        "folder.sqlite": "not a file",
    }
    for given, says in cases.items():
        with pytest.raises(LedgerError, match=says):
            check_ledger(tmp_path / given)
    # From the command line (a process each, so two of them): exit code 7, one line, nothing read.
    for given in ("ledgr.sqlite", "other-results.sqlite"):
        says = cases[given]
        result = run(
            "scan", "scans", "--db", "r.sqlite", "--ledger", given, "--no-ocr", "--workers", "1", cwd=tmp_path, env_secret=TEST_SECRET
        )
        assert result.returncode == 7, (given, result.stderr)
        line = _one_line(result.stderr)
        assert line.startswith(f"sipas-scan: error: {given}: ") and says in line, line
        assert "Read" not in result.stdout
        assert not (tmp_path / "r.sqlite").exists()  # nothing was read, nothing created
    assert (tmp_path / "empty.sqlite").read_bytes() == b""  # the check changes nothing
    assert not (tmp_path / "ledgr.sqlite").exists()


def test_scan_never_uses_a_ledger_left_in_the_working_folder(printed, first_form, tmp_path):
    shutil.copytree(first_form, tmp_path / "scans")
    shutil.copy(_ledger(printed), tmp_path / "sipas-ledger.sqlite")
    args = ("scan", "scans", "--db", "r.sqlite", "--no-ocr", "--workers", "1")
    result = run(*args, cwd=tmp_path, env_secret=TEST_SECRET)
    assert result.returncode == 0, result.stderr
    assert "no --ledger" in result.stderr and "sipas-ledger.sqlite in this folder is not used unless given" in result.stderr
    with sqlite3.connect(tmp_path / "r.sqlite") as con:
        assert con.execute("SELECT household_code, village FROM forms").fetchall() == [("", "")]
    # Given, it is used: the form gets its household and village.
    result = run(*args, "--ledger", "sipas-ledger.sqlite", cwd=tmp_path, env_secret=TEST_SECRET)
    assert result.returncode == 0, result.stderr
    assert "no --ledger" not in result.stderr
    with sqlite3.connect(tmp_path / "r.sqlite") as con:
        assert con.execute("SELECT household_code, village FROM forms").fetchall() == [("HGD0000", "Thôn Bản Vằn 1")]


def test_returns_requires_the_ledger_and_never_takes_the_one_in_the_folder(printed, tmp_path):
    with Store(tmp_path / "r.sqlite"):  # a results database (what is in it does not matter here)
        pass
    result = run("returns", "--db", "r.sqlite", "--out", "returns", cwd=tmp_path)
    assert result.returncode == 2 and "--ledger is required" in _one_line(result.stderr)
    shutil.copy(_ledger(printed), tmp_path / "sipas-ledger.sqlite")  # left by another run
    result = run("returns", "--db", "r.sqlite", "--out", "returns", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "(sipas-ledger.sqlite is in this folder: --ledger sipas-ledger.sqlite)" in _one_line(result.stderr)
    assert not (tmp_path / "returns").exists()
    result = run("returns", "--db", "r.sqlite", "--ledger", "nosuch.sqlite", "--out", "returns", cwd=tmp_path)
    assert result.returncode == 7 and "nosuch.sqlite: no such ledger" in _one_line(result.stderr)
    assert not (tmp_path / "nosuch.sqlite").exists()


def test_a_reprint_is_announced_and_returns_counts_households(printed, first_form, tmp_path):
    """The session's three households printed again into their ledger (found
    in the working folder, and said so); the first household's original form
    comes back: it is returned, the other two are missing, each once."""
    root = printed[1].parent
    shutil.copy(_ledger(printed), tmp_path / "sipas-ledger.sqlite")
    result = run_print(tmp_path, root / "households.csv", "reprint", "--workers", "1", ledger=None)
    assert result.returncode == 0, result.stderr
    ledger = tmp_path / "sipas-ledger.sqlite"
    assert f"no --ledger given: the serials go to {ledger} (an existing ledger in the working folder)" in result.stderr
    assert "warning: 3 of 3 households already held a serial of this survey (HGD0000, HGD0001, HGD0002)" in result.stderr
    assert f"ledger:         {ledger} (3 serials issued before this run)" in result.stdout
    with (tmp_path / "reprint" / "manifest.csv").open(encoding="utf-8") as f:
        new_serials = {row["household_code"]: row["serial"] for row in csv.DictReader(f)}

    shutil.copytree(first_form, tmp_path / "scans")
    scanned = run_scan(tmp_path, "scans", "r.sqlite", "sipas-ledger.sqlite", "--workers", "1")
    assert scanned.returncode == 0, scanned.stderr
    result = run("returns", "--db", "r.sqlite", "--ledger", "sipas-ledger.sqlite", "--out", "returns", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Households: 3, 3 of them given a second form" in result.stdout
    assert "Returns: 6 printed, 1 received (33.3 %)" in result.stdout
    with (tmp_path / "returns" / "returns.csv").open(encoding="utf-8") as f:
        total = list(csv.DictReader(f))[-1]
    assert (total["printed"], total["households"], total["received"], total["missing"]) == ("6", "3", "1", "2")
    with (tmp_path / "returns" / "missing.csv").open(encoding="utf-8") as f:
        missing = [(row["household_code"], row["serial"], row["missing"]) for row in csv.DictReader(f)]
    # HGD0000 came back on its first serial: not missing. The others are listed once, under the serial they hold now.
    assert sorted(missing) == [("HGD0001", new_serials["HGD0001"], "form"), ("HGD0002", new_serials["HGD0002"], "form")]


def test_tally_counts_a_reprinted_household_once():
    from sipas_scan.printing.households import Household
    from sipas_scan.printing.ledger import IssuedForm
    from sipas_scan.returns import Received, tally_returns

    def form(serial: str, code: str) -> tuple[tuple[str, str], IssuedForm]:
        return ("s", serial), IssuedForm(serial, Household("P", "D", "C", "V", code))

    issued = dict(
        [form("01", "A"), form("02", "B"), form("03", "C"), form("04", "A"), form("05", "B"), form("06", "C")]
    )  # 04-06: everyone reprinted
    received = {
        ("s", "01"): Received("accepted", frozenset({1, 2})),  # A: the first form came back whole
        ("s", "03"): Received("needs_review", frozenset({1})),  # C: the first form came back half ...
        ("s", "06"): Received("rejected", frozenset({1, 2})),
    }  # ... and the reprint whole
    report = tally_returns(issued, received, {"s": 2})
    t = report.total
    assert (t.printed, t.households, t.reprinted, t.received, t.missing, t.incomplete) == (6, 3, 3, 2, 1, 0)
    assert (t.accepted, t.to_review, t.rejected, t.return_rate) == (1, 1, 0, 66.7)  # C's furthest-on form counts
    assert [(m.form.serial, m.pages) for m in report.villages[0].missing] == [("05", ())]  # B, under its latest serial


def test_print_and_review_refuse_a_file_that_is_not_a_ledger(printed, tmp_path):
    with Store(tmp_path / "results.sqlite"):
        pass
    households = str(printed[1].parent / "households.csv")
    result = run(
        "print",
        "sipas-household",
        "--households",
        households,
        "--out",
        "out",
        "--ledger",
        "results.sqlite",
        cwd=tmp_path,
        env_secret=TEST_SECRET,
    )
    assert result.returncode == 7 and "results.sqlite: not a sipas-scan ledger (a results database)" in _one_line(result.stderr)
    assert not (tmp_path / "out" / "forms.pdf").exists()
    result = run("review", "--db", "results.sqlite", "--ledger", "ledger.sqlite", cwd=tmp_path)
    assert result.returncode == 7 and "ledger.sqlite: no such ledger" in _one_line(result.stderr)
    assert not (tmp_path / "ledger.sqlite").exists()
