"""The command line as a user runs it: exit codes, one-line errors, outputs."""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import TEST_SECRET, make_households, write_households

ROOT = Path(__file__).resolve().parents[1]


def cli_env(secret: str | None = None) -> dict[str, str]:
    """A user's environment: no signing secret or ledger of the developer's, unless ``secret`` is given."""
    env = {k: v for k, v in os.environ.items() if k not in ("SIPAS_SECRET", "SIPAS_LEDGER")}
    if secret:
        env["SIPAS_SECRET"] = secret
    return env


def run(
    *args: str, cwd: Path, env_secret: str | None = None, command: list[str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """``sipas-scan ARGS`` (or ``command ARGS``) as a user runs it, in ``cwd``."""
    return subprocess.run(
        [*(command or [sys.executable, "-m", "sipas_scan"]), *args],
        cwd=cwd,
        env=cli_env(env_secret),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_print(cwd: Path, households: str | Path, out: str, *extra: str, ledger: str | Path | None = "l.sqlite", **kwargs):
    """``print sipas-household`` with the tests' secret."""
    args = ["print", "sipas-household", "--households", str(households), "--out", out]
    args += ["--ledger", str(ledger)] if ledger else []
    return run(*args, *extra, cwd=cwd, env_secret=TEST_SECRET, **kwargs)


def run_scan(cwd: Path, inputs: str, db: str, ledger: str | Path, *extra: str) -> subprocess.CompletedProcess:
    """``scan`` one input without OCR, with the tests' secret."""
    return run("scan", inputs, "--db", db, "--ledger", str(ledger), "--no-ocr", *extra, cwd=cwd, env_secret=TEST_SECRET)


def test_print_refuses_without_a_secret_in_one_line(tmp_path):
    households = write_households(tmp_path / "h.csv", make_households(1))
    result = run("print", "sipas-household", "--households", str(households), "--out", "out", "--ledger", "l.sqlite", cwd=tmp_path)
    assert result.returncode == 6
    assert result.stderr.strip().count("\n") == 0
    assert "no signing secret" in result.stderr
    assert not (tmp_path / "out" / "forms.pdf").exists()


def test_print_sample_and_check_end_to_end_without_showing_the_secret(tmp_path):
    register = ROOT / "sipas_scan" / "data" / "sample_register.csv"
    result = run("sample", str(register), "--per-village", "1", "--seed", "3", "--out", "h.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Drew 18 households in 18 villages" in result.stdout
    result = run(
        "print",
        str(ROOT / "sipas_scan" / "forms" / "sipas-household.yaml"),
        "--households",
        "h.csv",
        "--out",
        "batch",
        "--ledger",
        "ledger.sqlite",
        cwd=tmp_path,
        env_secret=TEST_SECRET,
    )
    assert result.returncode == 0, result.stderr
    assert "Printed 18 forms (72 pages" in result.stdout
    assert TEST_SECRET not in result.stdout + result.stderr
    for name in ("forms.pdf", "layout.json", "manifest.csv"):
        assert (tmp_path / "batch" / name).is_file()
    assert len(list((tmp_path / "batch" / "delivery").glob("*.pdf"))) == 18
    assert TEST_SECRET.encode() not in (tmp_path / "batch" / "forms.pdf").read_bytes()
    assert TEST_SECRET.encode() not in (tmp_path / "ledger.sqlite").read_bytes()
    # Printing into the same folder again is refused, not silently re-issued.
    again = run_print(tmp_path, "h.csv", "batch", ledger="ledger.sqlite")
    assert again.returncode == 8 and "already exists" in again.stderr


def test_bad_inputs_give_one_line_errors_and_distinct_exit_codes(tmp_path):
    (tmp_path / "h.csv").write_text("province,village\nP,V\n", encoding="utf-8")
    result = run(
        "print", "sipas-household", "--households", "h.csv", "--out", "o", "--ledger", "l.sqlite", cwd=tmp_path, env_secret=TEST_SECRET
    )
    assert result.returncode == 3 and "missing column(s) district, commune, household_code" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    result = run(
        "print", "nope.yaml", "--households", "h.csv", "--out", "o", "--ledger", "l.sqlite", cwd=tmp_path, env_secret=TEST_SECRET
    )
    assert result.returncode == 3 and "no such survey definition file" in result.stderr
    result = run(
        "print", "sipas-household", "--households", "h.csv", "--out", "o", "--ledger", "l.sqlite", "--secret", "short", cwd=tmp_path
    )
    assert result.returncode == 6 and "too short" in result.stderr and "short\n" not in result.stderr


def test_survey_check_lists_every_problem(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "survey: tt\ntitle: x\nsections:\n  - id: A\n    title: A\n    questions:\n"
        "      - {id: q1, kind: single, text: A}\n      - {id: q1, kind: blob, text: B}\n",
        encoding="utf-8",
    )
    result = run("survey", "check", "s.yaml", cwd=tmp_path)
    assert result.returncode == 5
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "s.yaml:7: choice question 'q1' has no options (give 'options' or 'scale')",
        "s.yaml:8: duplicate id 'q1' (first at line 7)",
        "s.yaml:8: unknown kind 'blob' (expected one of single, multi, text, grid)",
    ]
    ok = run("survey", "check", "sipas-national-2023", cwd=tmp_path)
    assert ok.returncode == 0 and "33 criteria" in ok.stdout


def test_scan_and_export_from_the_command_line(printed, first_form_pages, tmp_path):
    # The session's printed form scanned at 200 dpi: `print` and `simulate`
    # from the command line have their own tests.
    shutil.copytree(first_form_pages, tmp_path / "scans")
    shutil.copy(printed[1].parent / "ledger.sqlite", tmp_path / "l.sqlite")
    no_secret = run("scan", "scans", "--db", "r.db", cwd=tmp_path)
    assert no_secret.returncode == 6 and "no signing secret" in no_secret.stderr
    result = run("scan", "scans", "--db", "r.db", "--ledger", "l.sqlite", cwd=tmp_path, env_secret=TEST_SECRET)
    assert result.returncode == 0, result.stderr
    assert "Read 4 pages" in result.stdout and "forms: 1 (0 accepted, 1 to review" in result.stdout  # a form left blank
    assert TEST_SECRET not in result.stdout + result.stderr
    again = run("scan", "scans", "--db", "r.db", "--ledger", "l.sqlite", cwd=tmp_path, env_secret=TEST_SECRET)
    assert "Read 0 pages" in again.stdout and "already read" in again.stdout
    exported = run("export", "--db", "r.db", "--out", "records.csv", "--flags", "flags.csv", cwd=tmp_path)
    assert exported.returncode == 0 and "Wrote 1 forms" in exported.stdout
    with (tmp_path / "records.csv").open(encoding="utf-8") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["needs_review"]
    missing = run("export", "--db", "nope.db", "--out", "x.csv", cwd=tmp_path)
    assert missing.returncode == 3 and "no such database" in missing.stderr
