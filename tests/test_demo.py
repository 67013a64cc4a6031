"""The demo end to end, as `./run demo` runs it, on a small sample: every
stage's output exists and what was read matches what was ticked.

The demo runs once for this module (its tests share the run); the second run
on the same folder and the office-profile run are slow tests."""

import csv
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import cli_env

from sipas_scan.demo import DEMO_ENTRIES, MARKER
from sipas_scan.report.pipeline import score_records
from sipas_scan.survey import load_survey

SCRIPT = Path(sys.executable).with_name("sipas-scan")


def _rows(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as f:
        return {r["form_id"]: r for r in csv.DictReader(f)}


def run_demo(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The demo as ./run demo starts it: through the installed script."""
    command = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "sipas_scan"]
    return subprocess.run([*command, "demo", *args], cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One small clean demo run, a form in each of six villages: (its output, the results folder)."""
    cwd = tmp_path_factory.mktemp("demo")
    result = run_demo(cwd, "--per-village", "1", "--villages", "6", "--profile", "clean", "--seed", "11")
    assert result.returncode == 0, result.stderr
    return result, cwd / "output" / "demo"


def test_small_demo_runs_the_whole_chain_and_reads_the_truth(demo, tmp_path):
    result, out = demo
    for step in (
        "1. sample:   6 households in 6 villages",
        "2. print:    6 forms",
        "3. simulate: 6 of 6 forms",
        "4. scan:",
        "5. export:",
        "6. score:    6 of 6 forms scored",
        "7. returns:  6 of 6 forms received",
        "Summary:",
    ):
        assert step in result.stdout, step

    truth = _rows(out / "returns" / "truth.csv")
    records = _rows(out / "records.csv")
    assert len(truth) == 6 and list(records) == list(truth)
    for form_id, expected in truth.items():
        row = records[form_id]
        assert row["status"] == "accepted", form_id  # clean scans: nothing to review
        for column, value in expected.items():
            if column == "t1":  # handwriting: OCR text, transcribed in review
                assert bool(row[column]) == bool(value), form_id
            elif column in row and column != "status":
                assert row[column] == value, (form_id, column)

    # The indices of what was read are those of what was ticked.
    from_truth = score_records(out / "returns" / "truth.csv", load_survey(None), tmp_path / "truth-scores")
    assert (out / "results" / "indices.csv").read_text(encoding="utf-8") == from_truth.indices.read_text(encoding="utf-8")
    assert f"SIPAS = {from_truth.scores.all.indices['SIPAS'].value:.2f} %" in result.stdout
    assert (out / "results" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "results" / "report.html").is_file()

    with (out / "returns-report" / "returns.csv").open(encoding="utf-8") as f:
        returns = list(csv.DictReader(f))
    (total,) = [r for r in returns if r["level"] == "all"]
    assert len([r for r in returns if r["level"] == "village"]) == 6
    assert (total["printed"], total["received"], total["accepted"], total["missing"]) == ("6", "6", "6", "0")
    for name in ("missing.csv", "not_issued.csv"):
        assert (out / "returns-report" / name).is_file()


def test_demo_keeps_its_secret_private_and_marks_its_folder(demo):
    result, out = demo
    secret_file = out / ".secret"
    assert secret_file.stat().st_mode & 0o077 == 0
    assert secret_file.read_text() not in result.stdout + result.stderr
    assert (out / MARKER).is_file()
    # A rerun clears exactly what a run writes: every entry is on the demo's list.
    for entry in out.iterdir():
        assert entry.name == MARKER or re.sub(r"-(wal|shm|journal)$", "", entry.name) in DEMO_ENTRIES, entry.name


def test_demo_closing_hint_runs_as_printed(demo):
    result, out = demo
    lines = result.stdout.rstrip().splitlines()
    add, review = (shlex.split(line) for line in lines[-2:])
    assert add[add.index("users") + 1] == "add" and "review" in review
    program = add[: add.index("users")]
    assert shutil.which(program[0]) or Path(program[0]).is_file(), program
    assert review[: len(program)] == program
    cwd = out.parent.parent  # where the demo ran: its paths are relative to it
    for option in ("--db", "--ledger"):
        assert (cwd / review[review.index(option) + 1]).is_file(), option
    # The add command as printed (it asks for a password; here it comes on stdin).
    added = subprocess.run(
        [*add, "--password-stdin"], input="a long test password\n", cwd=cwd, capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert added.returncode == 0, added.stderr
    listed = subprocess.run(
        [*program, "users", "list", "--db", str(out / "results.sqlite")], capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert listed.stdout.startswith("supervisor\tsupervisor")


@pytest.mark.slow
def test_office_demo_runs_twice_in_its_folder_keeping_a_users_note(tmp_path):
    note = tmp_path / "output" / "demo" / "my-notes.txt"
    for run in range(2):
        result = run_demo(tmp_path, "--per-village", "1", "--profile", "office")
        assert result.returncode == 0, result.stderr
        if run == 0:
            note.write_text("ghi chú của tôi", encoding="utf-8")
    assert note.read_text(encoding="utf-8") == "ghi chú của tôi"
    out = tmp_path / "output" / "demo"
    records = _rows(out / "records.csv")
    truth = _rows(out / "returns" / "truth.csv")
    assert set(records) == set(truth)
    for form_id, row in records.items():  # what the machine accepted agrees with the truth
        if row["status"] == "accepted":
            assert {k: v for k, v in row.items() if k in truth[form_id] and k not in ("t1", "status")} == {
                k: v for k, v in truth[form_id].items() if k not in ("t1", "status")
            }
