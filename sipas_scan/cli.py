"""Command line: argument parsing only. Exceptions become exit codes here."""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from sipas_scan import __version__
from sipas_scan.errors import BadArgsError, ExitCode, InputFileError, OutputFileError, SipasError, SurveyDefinitionError

# What each exit status means; shown by --help and in the README.
EXIT_CODE_MEANINGS = {
    ExitCode.ok: "done",
    ExitCode.bad_args: "bad command line: unknown option, missing or invalid value",
    ExitCode.input_file: "an input file or folder is missing, unreadable or malformed (scan: files not read, "
    "listed by export --flags; or no scan found)",
    ExitCode.missing_dependency: "a system program, font or language pack is not installed",
    ExitCode.invalid_survey: "the survey definition does not validate",
    ExitCode.secret: "no signing secret, one too short, or the wrong one",
    ExitCode.ledger: "the issued-serials ledger cannot be used",
    ExitCode.output_file: "an output cannot be written: it exists, or its folder does not",
    ExitCode.other_error: "anything else (a bug: please report it)",
}


def exit_code_lines() -> list[str]:
    return [f"{int(code):>3}  {EXIT_CODE_MEANINGS.get(code, code.name.replace('_', ' '))}" for code in ExitCode]


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Print, scan, review and score SIPAS paper surveys.\n\n-v/--verbose and -q/--quiet may stand anywhere on the line.",
    epilog="\b\nExit status:\n" + "\n".join(exit_code_lines()),
)
survey_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Survey definitions: check and inspect.")
app.add_typer(survey_app, name="survey")

DEFAULT_LEDGER = "sipas-ledger.sqlite"
GLOBAL_FLAGS = ("-v", "--verbose", "-q", "--quiet")

SecretOption = Annotated[
    str | None,
    typer.Option(
        "--secret", metavar="KEY", help="Key that signs the form codes (default: $SIPAS_SECRET). Never printed.", show_default=False
    ),
]
# A ledger: a SQLite file or a server's URL (see sipas_scan.printing.ledger).
LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        envvar="SIPAS_LEDGER",
        metavar="FILE|URL",
        show_default=False,
        help="The issued-serials ledger shared by all print runs of a round: a file, or a postgresql:// URL (or $SIPAS_LEDGER).",
    ),
]
# A results database: a SQLite file or a server's URL (see sipas_scan.store.engine).
DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="SIPAS_DB",
        metavar="FILE|URL",
        show_default=False,
        help="The results database: a SQLite file, or postgresql://user@host/db (or $SIPAS_DB).",
    ),
]
# Flags take no value: an empty metavar keeps help from showing a type for them.
FLAG = ""
_quiet = False


def _say(message: str) -> None:
    if not _quiet:
        typer.echo(message)


def _output_file(path: Path, option: str, example: str) -> Path:
    """A file to write: its folder must exist (a typo should not grow folders)
    and it must not be a folder."""
    if path.is_dir():
        raise OutputFileError(f"{path}: is a folder; give {option} a file name, e.g. {path / example}")
    if not path.parent.is_dir():
        raise OutputFileError(f"{path}: folder {path.parent} does not exist; create it first or give {option} another path")
    return path


def _database(db: str, *, new: bool = False) -> Path | str:
    """--db as the store takes it: a URL as given, or a file that exists
    (``new``: a file that may be created)."""
    from sipas_scan.dbfile import is_url

    if is_url(db):
        return db
    path = Path(db)
    if new:
        return _output_file(path, "--db", "results.sqlite")
    if not path.is_file():
        raise InputFileError(f"{db}: no such database")
    return path


def _invocation() -> str:
    """How the user ran sipas-scan, so a printed hint can be run as printed."""
    script = Path(sys.argv[0])
    if script.name == "sipas-scan":
        on_path = shutil.which("sipas-scan")
        if on_path and Path(on_path).resolve() == script.resolve():
            return "sipas-scan"
        try:
            return shlex.quote(str(script.resolve().relative_to(Path.cwd())))
        except ValueError:
            return shlex.quote(str(script.resolve()))
    return f"{shlex.quote(sys.executable)} -m sipas_scan"


# typer prints an argument's Python type (<list[Path]>) beside its name; the
# metavar every argument here is given already says what to type.
_typer_argument_type = typer.core.TyperArgument.display_type_rich
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None if self.metavar else _typer_argument_type(self, ctx)  # type: ignore[method-assign]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sipas-scan {__version__}")
        raise typer.Exit()


@app.callback()
def _setup(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", metavar=FLAG, help="Log progress details to stderr.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", metavar=FLAG, help="Print only warnings and errors (no summary, no progress bar).")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", metavar=FLAG, callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    global _quiet
    if verbose and quiet:
        raise BadArgsError("-v/--verbose and -q/--quiet contradict each other; give one")
    _quiet = quiet
    if quiet:
        from sipas_scan import progress

        progress.SHOWN = False
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command("print")
def print_command(
    survey: Annotated[
        str,
        typer.Argument(
            metavar="SURVEY", help="Survey definition file, or the name of a bundled one (sipas-household, sipas-national-2023)."
        ),
    ],
    households: Annotated[Path, typer.Option("--households", metavar="FILE", help="Households CSV (see README).")],
    out: Annotated[Path, typer.Option("--out", metavar="FOLDER", help="Folder for forms.pdf, layout.json and delivery lists.")],
    secret: SecretOption = None,
    ledger: LedgerOption = None,
    workers: Annotated[int, typer.Option(metavar="N", help="Worker processes (default: all cores).")] = 0,
) -> None:
    """Print one numbered questionnaire per household, with delivery lists per village.

    Without --ledger the serials go to ./sipas-ledger.sqlite, and the command says so.

    \b
    Example:
      sipas-scan print sipas-household --households households.csv --out print-2025 --ledger sipas-ledger.sqlite
    """
    from sipas_scan.printing.batch import print_batch
    from sipas_scan.printing.codes import load_secret
    from sipas_scan.printing.ledger import ledger_location, ledger_name

    if ledger is None:
        state = "an existing ledger" if Path(DEFAULT_LEDGER).exists() else "a new ledger"
        typer.echo(
            f"sipas-scan: note: no --ledger given: the serials go to {Path(DEFAULT_LEDGER).absolute()} ({state} in the "
            "working folder); give --ledger to choose the round's ledger",
            err=True,
        )
    location = ledger_location(ledger or DEFAULT_LEDGER)
    summary = print_batch(survey, households, out, load_secret(secret), location, workers=workers or None)
    _say(
        f"Printed {summary.forms} forms ({summary.pages} pages, {summary.pages_per_form} per form), "
        f"serials {summary.first_serial}..{summary.last_serial}, in {summary.seconds:.1f} s "
        f"({summary.pages / summary.seconds:.0f} pages/s)"
    )
    _say(f"  forms:          {summary.pdf} ({summary.pdf_bytes / 1e6:.1f} MB)")
    _say(f"  layout:         {out / 'layout.json'}")
    _say(f"  delivery lists: {out / 'delivery'} ({summary.villages} villages), manifest {out / 'manifest.csv'}")
    _say(
        f"  ledger:         {ledger_name(summary.ledger)} "
        + ("(new)" if summary.ledger_was_new else f"({summary.serials_before} serials issued before this run)")
    )
    if summary.reprinted:
        shown = ", ".join(summary.reprinted[:5]) + (" ..." if len(summary.reprinted) > 5 else "")
        typer.echo(
            f"sipas-scan: warning: {len(summary.reprinted)} of {summary.forms} households already held a serial "
            f"of this survey ({shown}) and now hold one more; 'sipas-scan returns' counts a household as "
            "returned when any of its forms comes back",
            err=True,
        )


@app.command("sample")
def sample_command(
    register: Annotated[Path, typer.Argument(metavar="FILE", help="Household register CSV (same columns as the households CSV).")],
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Households CSV to write.")],
    per_village: Annotated[int, typer.Option("--per-village", metavar="N", help="Households to draw in each village.")] = 27,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed: the same seed gives the same draw.")] = 1,
) -> None:
    """Draw a reproducible random sample of households per village.

    \b
    Example:
      sipas-scan sample register.csv --per-village 27 --seed 2025 --out households.csv
    """
    from sipas_scan.printing.sample import sample_register

    summary = sample_register(register, per_village, seed, _output_file(out, "--out", "households.csv"))
    _say(f"Drew {summary.drawn} households in {summary.villages} villages (seed {seed}) -> {out}")
    for village, count in summary.short_villages:
        _say(f"  note: {village} has only {count} households; all are taken")


@app.command("simulate")
def simulate_command(
    print_dir: Annotated[Path, typer.Argument(metavar="FOLDER", help="Folder written by 'sipas-scan print'.")],
    out: Annotated[Path, typer.Option("--out", metavar="FOLDER", help="Folder for scans/, truth.csv and anomalies.csv.")],
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="The same seed gives the same bytes.")] = 1,
    profile: Annotated[str, typer.Option("--profile", metavar="clean|office|hard", help="How hard the scans are.")] = "office",
    fmt: Annotated[str, typer.Option("--format", metavar="pdf|tiff|png|jpeg", help="File format of the scans.")] = "pdf",
    workers: Annotated[int, typer.Option(metavar="N", help="Worker processes (default: all cores).")] = 0,
) -> None:
    """Fill in printed forms as households would and scan them as a clerk would, with the truth.

    \b
    Example:
      sipas-scan simulate print-2025 --out sim --profile office --seed 1
    """
    from sipas_scan.simulate.stacks import simulate_returns

    summary = simulate_returns(print_dir, out, seed=seed, profile=profile, fmt=fmt, workers=workers or None)
    _say(
        f"Simulated {summary.forms_returned} of {summary.forms_issued} forms returned: {summary.pages} pages "
        f"in {len(summary.stacks)} stacks ({profile}, seed {seed}) -> {out / 'scans'}"
    )
    _say(f"  truth: {summary.truth}; {summary.anomalies} deliberate anomalies: {summary.anomalies_file}")


@app.command("scan")
def scan_command(
    inputs: Annotated[list[Path], typer.Argument(metavar="FILE", help="Scanned files or folders (PDF, TIFF, PNG, JPEG).")],
    db: DbOption,
    secret: SecretOption = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            metavar="FILE|URL",
            envvar="SIPAS_LEDGER",
            help="Issued-serials ledger (a file or URL), to catch forms never issued.",
        ),
    ] = None,
    survey: Annotated[str | None, typer.Option("--survey", metavar="ID", help="Accept only this survey id.")] = None,
    no_ocr: Annotated[bool, typer.Option("--no-ocr", metavar=FLAG, help="Send every comment to review instead of OCR.")] = False,
    calibration: Annotated[
        str | None,
        typer.Option(
            "--calibration",
            metavar="NAME",
            help="Scanner profile (name in --calibration-dir, or a .json file) made by "
            "'sipas-scan calibrate read': the box thresholds are set for that scanner.",
            show_default=False,
        ),
    ] = None,
    calibration_dir: Annotated[Path, typer.Option("--calibration-dir", metavar="FOLDER", help="Folder of scanner profiles.")] = Path(
        "calibration"
    ),
    workers: Annotated[int, typer.Option(metavar="N", help="Worker processes (default: all cores).")] = 0,
    retry_quarantined: Annotated[
        bool,
        typer.Option(
            "--retry-quarantined",
            metavar=FLAG,
            help="Read again every quarantined page of the files given that no reviewer has "
            "decided on (pages whose code failed verification or that could not be decoded "
            "are read again on every run anyway).",
        ),
    ] = False,
) -> None:
    """Read scanned returns into the database; running it again adds nothing twice.

    \b
    Example:
      sipas-scan scan village-1.pdf batch-2/ --db results.sqlite --ledger sipas-ledger.sqlite
    """
    from sipas_scan.calibration.profile import load_profile, thresholds_for_profile
    from sipas_scan.errors import SecretError
    from sipas_scan.printing.codes import load_secret
    from sipas_scan.reading.marks import Thresholds
    from sipas_scan.reading.page import ReadOptions
    from sipas_scan.records import FormStatus
    from sipas_scan.scan import scan_inputs

    database = _database(db, new=True)
    profile = load_profile(calibration, calibration_dir) if calibration else None
    thresholds = thresholds_for_profile(profile) if profile else Thresholds()
    if ledger is None:
        # Never a ledger found in the working folder: it may be another round's.
        unused = f" ({DEFAULT_LEDGER} in this folder is not used unless given)" if Path(DEFAULT_LEDGER).exists() else ""
        typer.echo(
            "sipas-scan: warning: no --ledger: forms never issued cannot be told apart and forms carry no "
            f"household or village{unused}",
            err=True,
        )
    if profile and not profile.fit:
        typer.echo(f"sipas-scan: warning: scanner profile {profile.summary()}", err=True)
    options = ReadOptions(load_secret(secret), survey=survey, thresholds=thresholds, run_ocr=not no_ocr)
    if profile:
        _say(
            f"Scanner profile {profile.name}: a box is empty below {thresholds.empty * 100:.1f} % ink, "
            f"marked from {thresholds.marked * 100:.1f} %"
        )
    summary = scan_inputs(
        inputs, database, options, workers=workers or None, ledger_path=_ledger(ledger), retry_quarantined=retry_quarantined
    )
    rate = summary.pages_read / summary.seconds if summary.seconds else 0.0
    _say(
        f"Read {summary.pages_read} pages from {summary.files - summary.files_skipped - len(summary.elsewhere)} files "
        f"({summary.files_skipped} already read) in {summary.seconds:.1f} s ({rate:.1f} pages/s)"
    )
    forms = summary.forms_stored
    _say(
        f"  forms: {sum(forms.values())} ({forms[FormStatus.ACCEPTED]} accepted, {forms[FormStatus.NEEDS_REVIEW]} to review, "
        f"{forms[FormStatus.RESOLVED]} resolved, {forms[FormStatus.REJECTED]} rejected); "
        f"{sum(summary.forms.values())} derived by this run"
    )
    if summary.quarantined:
        _say("  quarantined pages: " + ", ".join(f"{n} {reason}" for reason, n in summary.quarantined.most_common()))
    if summary.placed:
        _say(f"  given their form by their place in the stack (held for a person to confirm): {summary.placed} pages")
    if summary.disputed:
        _say(f"  printed serial contradicted by their place in the stack (quarantined for a person): {summary.disputed} pages")
    if summary.pages_retried:
        _say(f"  read again: {summary.pages_retried} quarantined pages whose cause can change")
    for path, first in summary.duplicates:
        _say(f"  read once: {path} is the same file as {first}")
    for path, reason in summary.failed_files:
        _say(f"  not read: {reason}" if reason.startswith(path) else f"  not read: {path}: {reason}")
    for path, pid in summary.elsewhere:
        _say(f"  left to another scan run (process {pid}) reading it now: {path}")
    if summary.wrong_secret:
        raise SecretError(
            f"the code of every page read ({summary.failed_verification}) failed verification: wrong "
            "secret? Scan again with the secret the forms were printed with; these pages will be "
            "read again"
        )
    if summary.failed_files:
        raise InputFileError(
            f"{len(summary.failed_files)} file(s) or folder(s) could not be read (listed above; "
            "'sipas-scan export --flags' lists them too); everything else was read"
        )
    if summary.files == 0:
        raise InputFileError("no scans found in the inputs given (PDF, TIFF, PNG or JPEG files, or folders of them)")


@app.command("export")
def export_command(
    db: DbOption,
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Records CSV to write.")],
    flags: Annotated[Path | None, typer.Option("--flags", metavar="FILE", help="Also write one row per flag here.")] = None,
    survey: Annotated[str | None, typer.Option("--survey", metavar="ID", help="Survey id, if the database holds several.")] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="csv|xlsx|sav|dta",
            help="csv (the records CSV), xlsx (records, codebook and flags sheets), sav (SPSS) or dta (Stata), with labels.",
        ),
    ] = "csv",
    excel: Annotated[bool, typer.Option("--excel", help="CSV with a byte-order mark, for Excel on Windows.")] = False,
) -> None:
    """Write the records (one row per form) and, optionally, the flags.

    \b
    Example:
      sipas-scan export --db results.sqlite --out records.csv --flags flags.csv
      sipas-scan export --db results.sqlite --out records.xlsx --format xlsx
    """
    from sipas_scan.export import export_flags
    from sipas_scan.outputs.records import export_as
    from sipas_scan.outputs.tables import check_format

    check_format(fmt)
    if excel and fmt != "csv":
        raise BadArgsError("--excel applies to --format csv only")
    database = _database(db)
    _output_file(out, "--out", f"records.{fmt}")
    if flags:
        _output_file(flags, "--flags", "flags.csv")
    count = export_as(database, out, fmt, survey_id=survey, excel=excel)
    _say(f"Wrote {count} forms to {out}")
    if flags:
        _say(f"Wrote {export_flags(database, flags)} flags to {flags}")


@survey_app.command("check")
def survey_check(survey: Annotated[str, typer.Argument(metavar="SURVEY", help="Survey definition file or name.")]) -> None:
    """Validate a survey definition and list every problem with its line.

    \b
    Example:
      sipas-scan survey check my-survey.yaml
    """
    from sipas_scan.layout import layout_survey
    from sipas_scan.survey import load_survey

    try:
        loaded = load_survey(survey)
    except SurveyDefinitionError as exc:
        for line in exc.errors:
            typer.echo(line, err=True)
        raise typer.Exit(int(exc.exit_code)) from None
    layout = layout_survey(loaded)
    criteria = len(loaded.index.all_criteria()) if loaded.index else 0
    _say(
        f"{loaded.source_path}: survey '{loaded.id}' version {loaded.version}: {len(loaded.fields())} fields, "
        f"{criteria} criteria in the index, {layout.page_count} pages: OK"
    )


@survey_app.command("layout")
def survey_layout(
    survey: Annotated[str, typer.Argument(metavar="SURVEY", help="Survey definition file or name.")],
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Where to write layout.json.")],
) -> None:
    """Write a survey's layout.json without printing forms.

    \b
    Example:
      sipas-scan survey layout sipas-household --out layout.json
    """
    from sipas_scan.layout import layout_survey
    from sipas_scan.survey import load_survey

    layout_survey(load_survey(survey)).write_json(_output_file(out, "--out", "layout.json"))
    _say(f"Wrote {out}")


@app.command("demo")
def demo_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="FOLDER",
            help="Results folder: new or empty, or one an earlier demo made (what that run "
            "wrote is replaced; nothing else is touched).",
        ),
    ] = Path("output/demo"),
    per_village: Annotated[int, typer.Option("--per-village", metavar="N", help="Households drawn in each village.")] = 4,
    villages: Annotated[int, typer.Option("--villages", metavar="N", help="Use only the register's first N villages (0: all).")] = 0,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="The same seed gives the same demo.")] = 2024,
    profile: Annotated[
        str, typer.Option("--profile", metavar="clean|office|hard", help="How hard the simulated scans are.")
    ] = "office",
) -> None:
    """The whole chain on bundled sample data: sample, print, simulate returns, scan, export, score, returns.

    \b
    Example:
      sipas-scan demo --out output/demo --per-village 2 --profile hard
    """
    from sipas_scan.demo import DemoOptions, run_demo

    run_demo(DemoOptions(out=out, per_village=per_village, villages=villages, seed=seed, profile=profile), _say, command=_invocation())


calibrate_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Scanner calibration: print the sheet, measure its scan."
)
app.add_typer(calibrate_app, name="calibrate")


@calibrate_app.command("print")
def calibrate_print(
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Calibration sheet PDF to write.")] = Path(
        "calibration-sheet.pdf"
    ),
) -> None:
    """Write the calibration sheet: print it at 100 %, then scan it as the forms will be scanned.

    \b
    Example:
      sipas-scan calibrate print --out calibration-sheet.pdf
    """
    from sipas_scan.calibration.render import write_sheet

    write_sheet(_output_file(out, "--out", "calibration-sheet.pdf"))
    _say(
        f"Wrote {out}: print at 100 % (actual size), scan with the forms' settings, then "
        "'sipas-scan calibrate read SCAN --name SCANNER'"
    )


@calibrate_app.command("read")
def calibrate_read(
    scan: Annotated[Path, typer.Argument(metavar="FILE", help="The scanned calibration sheet (PDF, TIFF, PNG or JPEG; first page).")],
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Name of the scanner and setting, e.g. canon-200-grey.")],
    directory: Annotated[Path, typer.Option("--dir", metavar="FOLDER", help="Folder of scanner profiles.")] = Path("calibration"),
    dpi: Annotated[
        float | None,
        typer.Option(
            "--dpi", metavar="DPI", help="Resolution the scanner was set to (default: as the file says).", show_default=False
        ),
    ] = None,
) -> None:
    """Measure a scanned calibration sheet, say whether the setting is fit for reading, save the profile.

    \b
    Example:
      sipas-scan calibrate read scan-of-sheet.pdf --name canon-200-grey
    """
    from sipas_scan.calibration.calibrate import calibrate_scan, describe

    profile, path = calibrate_scan(scan, name, directory, dpi=dpi)
    for line in describe(profile):
        _say(f"  {line}")
    for warning in profile.warnings:
        _say(f"  warning: {warning}")
    _say(profile.summary())
    _say(f"Saved {path}")


@app.command("returns")
def returns_command(
    db: DbOption,
    ledger: LedgerOption = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="FOLDER", help="Folder for returns.csv, missing.csv, not_issued.csv and per-village collection lists."
        ),
    ] = Path("returns"),
    survey: Annotated[str | None, typer.Option("--survey", metavar="ID", help="Only this survey id.")] = None,
) -> None:
    """Forms printed, received, accepted, to review and missing per village, and whom to visit again.

    \b
    Example:
      sipas-scan returns --db results.sqlite --ledger sipas-ledger.sqlite --out returns
    """
    from sipas_scan.printing.ledger import ledger_location
    from sipas_scan.returns import write_returns

    if ledger is None:
        # Never a ledger found in the working folder: another round's would give plausible, wrong numbers.
        here = f" ({DEFAULT_LEDGER} is in this folder: --ledger {DEFAULT_LEDGER})" if Path(DEFAULT_LEDGER).exists() else ""
        raise BadArgsError(f"--ledger is required: the issued-serials ledger the forms were printed with{here}")
    summary = write_returns(_database(db), ledger_location(ledger), out, survey=survey)
    t = summary.report.total
    if t.reprinted:
        _say(f"Households: {t.households}, {t.reprinted} of them given a second form (returned when either came back)")
    _say(
        f"Returns: {t.printed} printed, {t.received} received ({t.return_rate:.1f} %): {t.accepted} accepted, "
        f"{t.to_review} to review, {t.rejected} rejected; {t.missing} missing, {t.incomplete} with pages missing; "
        f"{len(summary.report.not_issued)} never issued"
    )
    _say(f"  per village and commune: {summary.returns_csv}")
    _say(f"  households to visit again: {summary.missing_csv} and {len(summary.village_pdfs)} collection lists in {out / 'villages'}")
    if summary.report.not_issued:
        _say(f"  forms never issued (not in the ledger): {summary.not_issued_csv}")


@app.command("score")
def score_command(
    out: Annotated[Path, typer.Option("--out", metavar="FOLDER", help="Folder for indices.csv and the report (PDF and HTML).")],
    records: Annotated[
        Path | None, typer.Argument(metavar="FILE", help="Records CSV written by 'sipas-scan export' (or give --db).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="SIPAS_DB",
            metavar="FILE|URL",
            show_default=False,
            help="Score the records of this results database (a SQLite file or a URL) instead of a records CSV (or $SIPAS_DB).",
        ),
    ] = None,
    survey: Annotated[
        str | None,
        typer.Option(
            "--survey", metavar="SURVEY", help="Survey definition file or bundled name (default: the standard household survey)."
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="COLUMN", help="Also score each value of this column (district, commune, village, a1, a2, ...)."),
    ] = None,
    compare_with: Annotated[
        Path | None,
        typer.Option("--compare", metavar="FILE", help="Last round's indices.csv: the change per index and unit goes to compare.csv."),
    ] = None,
    combine: Annotated[
        str,
        typer.Option(
            "--combine",
            metavar="pooled|mean",
            help="How units make the whole: pooled (all respondents at once) | mean (mean of unit indices).",
        ),
    ] = "pooled",
    year: Annotated[
        int | None,
        typer.Option("--year", metavar="YEAR", help="Survey year in the report title (default: the settings' year, else this year)."),
    ] = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            metavar="FILE|URL",
            help="Issued-serials ledger (a file or URL): forms printed per commune and the return rate in the report.",
        ),
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            metavar="FILE",
            help="Report settings (YAML): issuing body, signer, number, place, date, target; see docs/formats.md.",
        ),
    ] = None,
    issuer: Annotated[str | None, typer.Option("--issuer", metavar="TEXT", help="Issuing body, e.g. 'Sở Nội vụ'.")] = None,
    signer: Annotated[str | None, typer.Option("--signer", metavar="NAME", help="Who signs the report.")] = None,
    number: Annotated[str | None, typer.Option("--number", metavar="TEXT", help="Document number (Số: .../BC-...).")] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format", metavar="xlsx|sav|dta", help="Also write the tables in this format (repeatable); CSV is always written."
        ),
    ] = None,
) -> None:
    """Compute the SIPAS indices (indices.csv) and write the report (PDF, HTML and Word).

    \b
    Example:
      sipas-scan score records.csv --out results --by district
      sipas-scan score --db postgresql://sipas@dbserver/sipas --out results
    """
    from sipas_scan.demo import index_text
    from sipas_scan.outputs.tables import check_format
    from sipas_scan.report.pipeline import ScoreOptions, score_records
    from sipas_scan.report.settings import load_settings
    from sipas_scan.scoring.intervals import MIN_RESPONDENTS
    from sipas_scan.survey import load_survey

    formats = tuple(check_format(f) for f in fmt or ())
    checked_ledger = _checked_ledger(ledger)
    report_settings = load_settings(settings, issuer=issuer, signer=signer, number=number)
    scored_survey = load_survey(survey)
    with tempfile.TemporaryDirectory(prefix="sipas-score-") as scratch:
        if records is None:
            if db is None:
                raise BadArgsError("give the records CSV to score, or --db to score a results database's records")
            from sipas_scan.export import export_records

            # The records exactly as 'export' writes them, then scored as a file is.
            records = Path(scratch) / "records.csv"
            export_records(_database(db), records, scored_survey.id)
        options = ScoreOptions(
            by=by,
            combine=combine,
            compare_with=compare_with,
            year=year,
            ledger=checked_ledger,
            settings=report_settings,
            formats=formats,
        )
        summary = score_records(records, scored_survey, out, options)
    excluded = ", ".join(f"{n} {status}" for status, n in sorted(summary.records.excluded.items())) or "none"
    _say(f"Scored {len(summary.records.counted)} of {summary.records.total} forms (excluded: {excluded})")
    _say(f"  {index_text(summary.scores)}, {summary.scores.combine}")
    _say(f"  indices: {summary.indices}")
    _say(f"  report:  {summary.pdf}, {summary.html} and {summary.docx}")
    for table in summary.tables:
        _say(f"  table:   {table}")
    if summary.compare:
        _say(f"  change from {compare_with}: {summary.compare}")
    if summary.small_units:
        shown = ", ".join(summary.small_units[:5]) + (" ..." if len(summary.small_units) > 5 else "")
        typer.echo(
            f"sipas-scan: warning: {len(summary.small_units)} unit(s) have fewer than {MIN_RESPONDENTS} "
            f"respondents, not for publication: {shown}",
            err=True,
        )


users_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Reviewer accounts (kept in the results database).")
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Login name.")],
    db: DbOption,
    role: Annotated[str, typer.Option("--role", metavar="reviewer|supervisor", help="What the account may do.")] = "reviewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", metavar=FLAG, help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a reviewer or supervisor, or set a new password or role.

    \b
    Example:
      sipas-scan users add lan --role reviewer --db results.sqlite   (asks for the password)
      printf '%s\\n' "$PASSWORD" | sipas-scan users add lan --db results.sqlite --password-stdin
    """
    from sipas_scan.review.accounts import add_user
    from sipas_scan.store.db import Store

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Store(db) as store:
        add_user(store, name, role, password)
    _say(f"User {name} ({role}) saved in {db}")


@users_app.command("list")
def users_list(db: DbOption) -> None:
    """List the accounts.

    \b
    Example:
      sipas-scan users list --db results.sqlite
    """
    from sipas_scan.review.accounts import list_users
    from sipas_scan.store.db import Store

    with Store(db) as store:
        for name, role, created in list_users(store):
            _say(f"{name}\t{role}\t{created}")


@app.command("review")
def review_command(
    db: DbOption,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on; loopback unless you say otherwise.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8750,
    ledger: Annotated[
        str | None, typer.Option("--ledger", metavar="FILE|URL", help="Issued-serials ledger (a file or URL), for return rates.")
    ] = None,
    threads: Annotated[int, typer.Option("--threads", metavar="N", help="Requests served at once.")] = 8,
    behind_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-proxy",
            metavar=FLAG,
            envvar="SIPAS_BEHIND_PROXY",
            help="Served through a TLS reverse proxy: cookies are marked Secure and the proxy's X-Forwarded-Proto "
            "and -Host are believed (see the README).",
        ),
    ] = False,
    session_key_file: Annotated[
        Path | None,
        typer.Option(
            "--session-key-file",
            metavar="FILE",
            envvar="SIPAS_SESSION_KEY_FILE",
            help="A secret of 32 bytes or more that signs session cookies: give every app process serving one address "
            "the same file, and logins survive a restart (make one with: head -c 32 /dev/urandom > FILE).",
        ),
    ] = None,
) -> None:
    """The reviewers' web app: settle what the scanner doubted.

    \b
    Example:
      sipas-scan review --db results.sqlite --ledger sipas-ledger.sqlite
    """
    import waitress

    from sipas_scan.dbfile import is_url
    from sipas_scan.review.accounts import list_users
    from sipas_scan.review.app import create_app, exposure_warning
    from sipas_scan.store.db import Store

    if not is_url(db) and not Path(db).is_file():
        raise InputFileError(f"{db}: no such database (run 'sipas-scan scan' first)")
    checked_ledger = _checked_ledger(ledger)
    with Store(db) as store:
        if not list_users(store):
            raise BadArgsError(f"no accounts yet: add one with 'sipas-scan users add NAME --role supervisor --db {db}'")
    warning = exposure_warning(host, behind_proxy)
    if warning:
        typer.echo(f"sipas-scan: warning: {warning}", err=True)
    _say(f"Review app on http://{host}:{port}/ (Ctrl+C stops it)")
    session_key = _session_key(session_key_file) if session_key_file else None
    app_ = create_app(db, checked_ledger, session_key=session_key, behind_proxy=behind_proxy)
    waitress.serve(app_, host=host, port=port, threads=threads, ident="sipas-scan")


SESSION_KEY_MIN_BYTES = 32


def _session_key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the session key ({exc.strerror or exc})") from exc
    if len(key) < SESSION_KEY_MIN_BYTES:
        raise BadArgsError(
            f"{path}: a session key needs {SESSION_KEY_MIN_BYTES} bytes or more; make one with: head -c 32 /dev/urandom > {path}"
        )
    return key


db_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="The results database: migrate it, or copy it to another (SQLite to PostgreSQL)."
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(db: DbOption) -> None:
    """Bring a results database to the latest schema (opening one does it too).

    \b
    Example:
      sipas-scan db upgrade --db results.sqlite
      sipas-scan db upgrade --db postgresql://sipas@dbserver/sipas
    """
    from sipas_scan.store.db import Store

    with Store(_database(db)) as store:
        done = f"upgraded from {store.upgraded_from}" if store.upgraded_from else "already"
        _say(f"{store.where}: {done} at revision {store.revision}")


@db_app.command("copy")
def db_copy(
    source: Annotated[str, typer.Argument(metavar="SRC", help="The database to copy: a SQLite file or a URL.")],
    destination: Annotated[str, typer.Argument(metavar="DST", help="An empty database: a URL (or a new SQLite file).")],
) -> None:
    """Copy every row of a results database into an empty one, e.g. a laptop's
    SQLite file into the shared PostgreSQL database, page images included.
    Given a ledger file, copy its print runs and issued serials into a
    database that holds none (the shared ledger).

    \b
    Example:
      sipas-scan db copy results.sqlite postgresql://sipas@dbserver/sipas
      sipas-scan db copy sipas-ledger.sqlite postgresql://sipas@dbserver/sipas
    """
    from sipas_scan.dbfile import is_url
    from sipas_scan.printing.ledger import copy_ledger, is_ledger_file, ledger_location
    from sipas_scan.store.copy import copy_database

    if not is_url(source) and is_ledger_file(Path(source)):
        rows = copy_ledger(Path(source), ledger_location(destination))
        _say(f"Copied the ledger: {rows['print_runs']} print runs, {rows['issued']} issued serials")
        return
    summary = copy_database(_database(source), _database(destination, new=True))
    _say(f"Copied {summary.total} rows: " + ", ".join(f"{n} {table}" for table, n in summary.rows.items() if n))
    if summary.images_from_files:
        _say(f"  and {summary.images_from_files} page images read from the files beside the source into the database")


def _ledger(given: str | None) -> Path | str | None:
    """``--ledger`` as the ledger takes it: a file's path, or a URL."""
    from sipas_scan.printing.ledger import ledger_location

    return ledger_location(given) if given is not None else None


def _checked_ledger(given: str | None) -> Path | str | None:
    """``--ledger`` as ``_ledger`` gives it, once it is known to be a ledger."""
    from sipas_scan.printing.ledger import check_ledger

    location = _ledger(given)
    if location is not None:
        check_ledger(location)
    return location


def hoist_global_flags(args: list[str]) -> list[str]:
    """-v/-q may stand anywhere on the line (as with git or pip); the parser
    wants them before the command. Nothing after a bare '--' is touched."""
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
    return flags + [a for a in args[:end] if a not in GLOBAL_FLAGS] + args[end:]


def main() -> None:
    # Typer (standalone mode) handles usage errors and exits itself; our own
    # errors arrive here as exceptions carrying their exit code.
    try:
        app(args=hoist_global_flags(sys.argv[1:]), prog_name="sipas-scan")
    except SipasError as exc:
        typer.echo(f"sipas-scan: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        typer.echo("sipas-scan: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the CLI edge: one line, not a traceback
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        typer.echo(f"sipas-scan: error: {_described(exc)}", err=True)
        sys.exit(int(ExitCode.other_error))


def _described(exc: Exception) -> str:
    """One line for an unexpected failure. The database's own refusals
    (a role without a grant, a server gone) say what the server said."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    if orig is not None:
        first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        return f"the database refused: {first} (for a PostgreSQL role, see the grants in docs/postgresql.md)"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
