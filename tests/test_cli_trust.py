"""Commands a user can trust (issue 13, points 8-12), driven from the command
line: options checked before anything changes, nothing deleted that a command
did not create, one-line errors that say what to do, the conventions of
well-liked command-line tools, and an install that works anywhere."""

import csv
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from test_cli import run, run_print
from typer.testing import CliRunner

from conftest import TEST_SECRET, make_households, write_households
from sipas_scan import __version__
from sipas_scan.cli import EXIT_CODE_MEANINGS, app
from sipas_scan.demo import MARKER, prepare_folder
from sipas_scan.errors import ExitCode
from sipas_scan.records import PREFIX
from sipas_scan.scoring.records_in import read_records
from sipas_scan.survey import load_survey

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("sipas-scan: error: "), result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# 8. The demo checks every option first and deletes nothing it did not create.


def test_demo_refuses_a_bad_profile_before_touching_the_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("ghi chú của tôi", encoding="utf-8")
    before = tree(out)
    result = run("demo", "--out", "mine", "--profile", "nosuch", cwd=tmp_path)
    one_line_error(result, 2, "unknown --profile 'nosuch'", "clean, office, hard")
    assert tree(out) == before
    one_line_error(run("demo", "--villages", "-1", cwd=tmp_path), 2, "--villages")
    assert not (tmp_path / "output").exists()


def test_demo_refuses_a_folder_it_did_not_make(tmp_path):
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "data.csv").write_text("a,b\n", encoding="utf-8")
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    before = tree(out)
    one_line_error(run("demo", "--out", "mine", "--per-village", "1", cwd=tmp_path), 8, "not made by the demo", "nothing was changed")
    assert tree(out) == before and not (out / MARKER).exists()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    one_line_error(run("demo", "--out", "file", cwd=tmp_path), 8, "is a file")
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"


def test_a_demo_folder_is_cleared_of_the_demos_own_files_only(tmp_path):
    out = tmp_path / "demo"
    prepare_folder(out)  # a new folder gets the mark
    assert (out / MARKER).is_file()
    for name in ("print/forms.pdf", "results.sqlite", "results.sqlite-wal", "results.sqlite.pages/1.png", ".secret"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("old run", encoding="utf-8")
    (out / "my-notes.txt").write_text("keep", encoding="utf-8")
    prepare_folder(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "my-notes.txt"]


# 9. Clear one-line errors that say what to do.


def test_export_to_a_folder_or_under_a_missing_folder_says_so(tmp_path):
    db = tmp_path / "results.sqlite"
    db.write_bytes(b"")  # the output is checked before the database is opened
    (tmp_path / "out").mkdir()
    one_line_error(
        run("export", "--db", str(db), "--out", "out", cwd=tmp_path), 8, "is a folder", "give --out a file name", "out/records.csv"
    )
    one_line_error(
        run("export", "--db", str(db), "--out", "nosuch/dir/records.csv", cwd=tmp_path),
        8,
        "folder nosuch/dir does not exist",
        "create it first",
    )
    one_line_error(run("export", "--db", str(db), "--out", "r.csv", "--flags", "nosuch/flags.csv", cwd=tmp_path), 8, "--flags")
    one_line_error(
        run("scan", str(tmp_path), "--db", "nosuch/results.sqlite", "--secret", TEST_SECRET, cwd=tmp_path),
        8,
        "folder nosuch does not exist",
    )
    one_line_error(
        run("sample", str(ROOT / "sipas_scan" / "data" / "sample_register.csv"), "--out", "nosuch/h.csv", cwd=tmp_path),
        8,
        "does not exist",
    )
    assert not (tmp_path / "nosuch").exists()


def _records_rows(n: int) -> tuple[list[str], list[list[str]]]:
    """A valid records CSV of the standard survey, every choice answered."""
    survey = load_survey(None)
    header = [*PREFIX, *survey.field_ids()]
    rows = []
    for i in range(n):
        answers = ["" if q.kind == "text" else q.codes[(i + j) % len(q.codes)] for j, q in enumerate(survey.fields())]
        rows.append([f"F{i:03d}", f"HGD{i:04d}", "Lạng Sơn", "Huyện Cao Lộc", "Xã Hợp Thành", "Thôn Bản Vằn", "accepted", *answers])
    return header, rows


def test_score_reads_a_semicolon_csv_as_excel_saves_it_in_a_vietnamese_locale(tmp_path):
    header, rows = _records_rows(6)
    rows[0][header.index("status")] = "needs_review"
    with (tmp_path / "comma.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    # Excel: ';' between cells, a BOM, CRLF, and "1;3"-style answers quoted.
    with (tmp_path / "excel.csv").open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";").writerows([header, *rows])
    survey = load_survey(None)
    comma, excel = read_records(tmp_path / "comma.csv", survey), read_records(tmp_path / "excel.csv", survey)
    assert excel.counted == comma.counted and len(excel.counted) == 5 and excel.excluded == comma.excluded
    result = run("score", "excel.csv", "--out", "results", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Scored 5 of 6 forms (excluded: 1 needs_review)" in result.stdout


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n"])
def test_score_of_an_empty_file_says_what_to_give(tmp_path, content):
    (tmp_path / "empty.csv").write_bytes(content)
    one_line_error(run("score", "empty.csv", "--out", "results", cwd=tmp_path), 3, "empty file", "'sipas-scan export'")
    assert not (tmp_path / "results").exists()


def test_calibrate_read_refuses_a_form_and_saves_no_profile(printed, tmp_path):
    _, print_dir = printed
    result = run("calibrate", "read", str(print_dir / "forms.pdf"), "--name", "office-200", "--dir", "profiles", cwd=tmp_path)
    one_line_error(result, 3, "not the calibration sheet", "no profile was saved", "sipas-scan calibrate print")
    assert not (tmp_path / "profiles").exists()


def test_survey_check_of_a_missing_file_is_an_input_error(tmp_path):
    result = run("survey", "check", "nosuch.yaml", cwd=tmp_path)
    assert result.returncode == int(ExitCode.input_file) == 3
    assert "nosuch.yaml: no such survey definition file" in result.stderr and "sipas-household" in result.stderr


def test_survey_check_reports_a_duplicate_id_beside_other_errors(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "survey: tt\ntitle: x\nsections:\n  - id: A\n    title: A\n    questions:\n"
        "      - {id: q1, kind: single, text: A, scale: nosuch}\n      - {id: q2, kind: multi, text: B}\n"
        "      - {id: q1, kind: text, text: C, lines: 99}\n",
        encoding="utf-8",
    )
    result = run("survey", "check", "s.yaml", cwd=tmp_path)
    assert result.returncode == 5
    assert "s.yaml:9: duplicate id 'q1' (first at line 7)" in result.stderr.splitlines()
    assert len(result.stderr.splitlines()) >= 3


# 10. Conventions of well-liked command-line tools.


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"sipas-scan {__version__}"


def test_verbose_and_quiet_are_accepted_anywhere(tmp_path):
    for args in (
        ["-q", "survey", "check", "sipas-household"],
        ["survey", "-q", "check", "sipas-household", "--quiet"],
    ):
        quiet = run(*args, cwd=tmp_path)
        assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", args
    verbose = run("survey", "check", "sipas-household", "-v", cwd=tmp_path)
    assert verbose.returncode == 0 and "OK" in verbose.stdout
    one_line_error(run("survey", "check", "sipas-household", "-v", "-q", cwd=tmp_path), 2, "contradict")


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_help_shows_the_exit_codes_and_every_command_an_example_without_type_placeholders(tmp_path):
    import typer

    top = run("--help", cwd=tmp_path)
    assert top.returncode == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert re.search(rf"^\s*{int(code)}  \S", top.stdout, re.MULTILINE), code
        assert f"| {int(code)} | {EXIT_CODE_MEANINGS[code]} |" in readme, code
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) >= 15
    runner = CliRunner()
    for command in commands:
        shown = runner.invoke(app, [*command, "--help"], prog_name="sipas-scan", terminal_width=200).output
        assert "Example:" in shown and f"sipas-scan {' '.join(command)} " in shown.split("Example:")[1], command
        assert not re.search(r"<[a-z]+(\[[A-Za-z]+\])?>", shown), (command, shown)


def test_readme_shows_password_stdin_for_users_add():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"\| sipas-scan users add \S+ .*--password-stdin", readme)


def test_users_add_reads_the_password_from_stdin(tmp_path):
    result = run("users", "add", "lan", "--db", "r.sqlite", "--password-stdin", cwd=tmp_path, stdin="mật khẩu đủ dài\n")
    assert result.returncode == 0, result.stderr
    assert run("users", "list", "--db", "r.sqlite", cwd=tmp_path).stdout.startswith("lan\treviewer")


# 11. Installs anywhere: the survey definitions are package data.


def test_survey_definitions_are_package_data():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["sipas_scan"]
    assert "forms/*.yaml" in data and "data/*.csv" in data
    assert not (ROOT / "forms").exists()
    assert {p.name for p in (ROOT / "sipas_scan" / "forms").glob("*.yaml")} >= {"sipas-household.yaml", "sipas-national-2023.yaml"}


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_environment_prints_and_scans_from_another_folder(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves the working tree alone
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "output", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "*.sqlite*"
        ),
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheels"), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheels").glob("sipas_scan-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stderr
    # The dependencies come from the test environment (a plain path, so its
    # editable sipas_scan is not picked up): the wheel alone brings sipas_scan.
    dependencies = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "typer").is_dir())
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (Path(site) / "test-dependencies.pth").write_text(f"{dependencies}\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import sipas_scan.survey as s; print(s.load_survey().id, s.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith("sipas-household ") and str(venv) in where.stdout
    script = [str(venv / "bin" / "sipas-scan")]
    write_households(elsewhere / "h.csv", make_households(2))
    printed = run_print(elsewhere, "h.csv", "p", command=script)
    assert printed.returncode == 0, printed.stderr
    assert run("simulate", "p", "--out", "sim", "--profile", "clean", cwd=elsewhere, command=script).returncode == 0
    scanned = run(
        "scan", "sim/scans", "--db", "r.sqlite", "--ledger", "l.sqlite", cwd=elsewhere, env_secret=TEST_SECRET, command=script
    )
    assert scanned.returncode == 0, scanned.stderr
    assert "2 accepted" in scanned.stdout
    assert run("survey", "check", "sipas-national-2023", cwd=elsewhere, command=script).returncode == 0


# 12. The README names only what is there; a LICENSE; ./run without sudo.


def test_readme_names_only_files_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout of the repository", 1)[1].split("\n## ", 1)[0]
    named = [m.group(1) for m in re.finditer(r"^    (\S+?)/?\s{2,}", layout, re.MULTILINE)]
    named += [m.group(1) for m in re.finditer(r"\b((?:sipas_scan|docs|bench|calibration|tests)/[a-z0-9_./-]+\.[a-z]+)\b", readme)]
    assert len(named) > 10
    for name in named:
        if name in ("output", "run,"):  # output/: made by the demo, not committed
            continue
        assert (ROOT / name).exists(), name
    assert (ROOT / "run").is_file() and (ROOT / ".ci" / "run").is_file()


def test_license_is_mit_as_pyproject_says():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "sipas-scan contributors" in text


def test_run_without_root_or_sudo_says_what_to_install(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "grep", "python3", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    for tool, body in (("id", "echo 1000"), ("dpkg-query", "exit 1")):  # a user; nothing installed
        (bin_dir / tool).write_text(f"#!{shutil.which('bash')}\n{body}\n", encoding="utf-8")
        (bin_dir / tool).chmod(0o755)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(ROOT / "run", checkout / "run")
    result = subprocess.run(
        [str(bin_dir / "bash"), str(checkout / "run"), "setup"],
        cwd=tmp_path,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4, result.stderr
    assert "sudo: command not found" not in result.stderr
    assert "apt-get install -y tesseract-ocr tesseract-ocr-vie" in result.stderr
    assert "no sudo" in result.stderr and not (checkout / ".venv").exists()


def test_run_shows_pip_progress():
    script = (ROOT / "run").read_text(encoding="utf-8")
    pip_lines = [line for line in script.splitlines() if "pip install" in line]
    assert pip_lines and all(" -q" not in line and "--progress-bar on" in line for line in pip_lines)


def test_a_database_refusal_is_one_line_saying_what_the_server_said():
    import sqlalchemy as sa

    from sipas_scan.cli import _described

    refused = sa.exc.ProgrammingError("INSERT INTO claims ...", {}, Exception("permission denied for table claims\nHINT: x"))
    assert _described(refused) == (
        "the database refused: permission denied for table claims (for a PostgreSQL role, see the grants in docs/postgresql.md)"
    )
    assert _described(ValueError("two\nlines")) == "ValueError: two lines"
