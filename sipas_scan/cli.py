"""Command line: argument parsing only. Exceptions become exit codes here."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from sipas_scan.errors import BadArgsError, ExitCode, InputFileError, SipasError, SurveyDefinitionError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Print, scan, review and score SIPAS paper surveys.")
survey_app = typer.Typer(no_args_is_help=True, help="Survey definitions: check and inspect.")
app.add_typer(survey_app, name="survey")

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_LEDGER = "sipas-ledger.sqlite"

SecretOption = Annotated[str | None, typer.Option(
    "--secret", help="Key that signs the form codes (default: $SIPAS_SECRET). Never printed.",
    show_default=False)]
LedgerOption = Annotated[Path, typer.Option(
    "--ledger", envvar="SIPAS_LEDGER",
    help="The issued-serials ledger shared by all print runs of a round.")]


def _say(message: str) -> None:
    typer.echo(message)


def _index_text(scores) -> str:
    """The survey's top index over everyone, with its interval, in one line."""
    root = scores.survey.index.id
    value, interval = scores.all.indices[root], scores.all.intervals[root]
    if value.value is None:
        return f"{root}: no respondent answered the satisfaction questions"
    if interval.low is None:
        return f"{root} = {value.value:.2f} % (n = {value.n}, no interval)"
    return f"{root} = {value.value:.2f} % (95 % interval {interval.low:.2f}-{interval.high:.2f}, n = {value.n})"


@app.callback()
def _setup(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details to stderr.")] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command("print")
def print_command(
    survey: Annotated[str, typer.Argument(help="Survey definition file, or its name in forms/.")],
    households: Annotated[Path, typer.Option("--households", help="Households CSV (see README).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for forms.pdf, layout.json and delivery lists.")],
    secret: SecretOption = None,
    ledger: LedgerOption = Path(DEFAULT_LEDGER),
    workers: Annotated[int, typer.Option(help="Worker processes (default: all cores).")] = 0,
) -> None:
    """Print one numbered questionnaire per household, with delivery lists per village."""
    from sipas_scan.printing.batch import print_batch
    from sipas_scan.printing.codes import load_secret

    summary = print_batch(survey, households, out, load_secret(secret), ledger, workers=workers or None)
    _say(f"Printed {summary.forms} forms ({summary.pages} pages, {summary.pages_per_form} per form), "
         f"serials {summary.first_serial}..{summary.last_serial}, in {summary.seconds:.1f} s "
         f"({summary.pages / summary.seconds:.0f} pages/s)")
    _say(f"  forms:          {summary.pdf} ({summary.pdf_bytes / 1e6:.1f} MB)")
    _say(f"  layout:         {out / 'layout.json'}")
    _say(f"  delivery lists: {out / 'delivery'} ({summary.villages} villages), manifest {out / 'manifest.csv'}")
    _say(f"  ledger:         {summary.ledger}")


@app.command("sample")
def sample_command(
    register: Annotated[Path, typer.Argument(help="Household register CSV (same columns as the households CSV).")],
    out: Annotated[Path, typer.Option("--out", help="Households CSV to write.")],
    per_village: Annotated[int, typer.Option("--per-village", help="Households to draw in each village.")] = 27,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same draw.")] = 1,
) -> None:
    """Draw a reproducible random sample of households per village."""
    from sipas_scan.printing.sample import sample_register

    summary = sample_register(register, per_village, seed, out)
    _say(f"Drew {summary.drawn} households in {summary.villages} villages (seed {seed}) -> {out}")
    for village, count in summary.short_villages:
        _say(f"  note: {village} has only {count} households; all are taken")


@app.command("simulate")
def simulate_command(
    print_dir: Annotated[Path, typer.Argument(help="Folder written by 'sipas-scan print'.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for scans/, truth.csv and anomalies.csv.")],
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same bytes.")] = 1,
    profile: Annotated[str, typer.Option("--profile", help="clean | office | hard")] = "office",
    fmt: Annotated[str, typer.Option("--format", help="pdf | tiff | png | jpeg")] = "pdf",
    workers: Annotated[int, typer.Option(help="Worker processes (default: all cores).")] = 0,
) -> None:
    """Fill in printed forms as households would and scan them as a clerk would, with the truth."""
    from sipas_scan.simulate.stacks import simulate_returns

    summary = simulate_returns(print_dir, out, seed=seed, profile=profile, fmt=fmt, workers=workers or None)
    _say(f"Simulated {summary.forms_returned} of {summary.forms_issued} forms returned: {summary.pages} pages "
         f"in {len(summary.stacks)} stacks ({profile}, seed {seed}) -> {out / 'scans'}")
    _say(f"  truth: {summary.truth}; {summary.anomalies} deliberate anomalies: {summary.anomalies_file}")


@app.command("scan")
def scan_command(
    inputs: Annotated[list[Path], typer.Argument(help="Scanned files or folders (PDF, TIFF, PNG, JPEG).")],
    db: Annotated[Path, typer.Option("--db", help="The results database (SQLite; created if new).")],
    secret: SecretOption = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", envvar="SIPAS_LEDGER",
                                                help="Issued-serials ledger, to catch forms never issued.")] = None,
    survey: Annotated[str | None, typer.Option("--survey", help="Accept only this survey id.")] = None,
    no_ocr: Annotated[bool, typer.Option("--no-ocr", help="Send every comment to review instead of OCR.")] = False,
    calibration: Annotated[str | None, typer.Option(
        "--calibration", help="Scanner profile (name in --calibration-dir, or a .json file) made by "
                              "'sipas-scan calibrate read': the box thresholds are set for that scanner.",
        show_default=False)] = None,
    calibration_dir: Annotated[Path, typer.Option("--calibration-dir", help="Folder of scanner profiles.")]
        = Path("calibration"),
    workers: Annotated[int, typer.Option(help="Worker processes (default: all cores).")] = 0,
    retry_quarantined: Annotated[bool, typer.Option(
        "--retry-quarantined", help="Read again every quarantined page of the files given that no reviewer has "
                                    "decided on (pages whose code failed verification or that could not be decoded "
                                    "are read again on every run anyway).")] = False,
) -> None:
    """Read scanned returns into the database; running it again adds nothing twice."""
    from sipas_scan.calibration.profile import load_profile, thresholds_for_profile
    from sipas_scan.errors import SecretError
    from sipas_scan.printing.codes import load_secret
    from sipas_scan.reading.marks import Thresholds
    from sipas_scan.reading.page import ReadOptions
    from sipas_scan.reading.pipeline import scan_inputs

    profile = load_profile(calibration, calibration_dir) if calibration else None
    thresholds = thresholds_for_profile(profile) if profile else Thresholds()
    if ledger is None and Path(DEFAULT_LEDGER).is_file():
        ledger = Path(DEFAULT_LEDGER)
    if ledger is None:
        typer.echo("sipas-scan: warning: no --ledger: forms never issued cannot be told apart", err=True)
    if profile and not profile.fit:
        typer.echo(f"sipas-scan: warning: scanner profile {profile.summary()}", err=True)
    options = ReadOptions(load_secret(secret), survey=survey, thresholds=thresholds, run_ocr=not no_ocr)
    if profile:
        _say(f"Scanner profile {profile.name}: a box is empty below {thresholds.empty * 100:.1f} % ink, "
             f"marked from {thresholds.marked * 100:.1f} %")
    summary = scan_inputs(inputs, db, options, workers=workers or None, ledger_path=ledger,
                          retry_quarantined=retry_quarantined)
    rate = summary.pages_read / summary.seconds if summary.seconds else 0.0
    _say(f"Read {summary.pages_read} pages from {summary.files - summary.files_skipped} files "
         f"({summary.files_skipped} already read) in {summary.seconds:.1f} s ({rate:.1f} pages/s)")
    forms = summary.forms
    _say(f"  forms: {sum(forms.values())} ({forms['accepted']} accepted, {forms['needs_review']} to review, "
         f"{forms['resolved']} resolved, {forms['rejected']} rejected)")
    if summary.quarantined:
        _say("  quarantined pages: " + ", ".join(f"{n} {reason}" for reason, n in summary.quarantined.most_common()))
    if summary.pages_retried:
        _say(f"  read again: {summary.pages_retried} quarantined pages whose cause can change")
    for path, first in summary.duplicates:
        _say(f"  read once: {path} is the same file as {first}")
    for path, reason in summary.failed_files:
        _say(f"  not read: {reason}" if reason.startswith(path) else f"  not read: {path}: {reason}")
    if summary.wrong_secret:
        raise SecretError(f"the code of every page read ({summary.failed_verification}) failed verification: wrong "
                          "secret? Scan again with the secret the forms were printed with; these pages will be "
                          "read again")


@app.command("export")
def export_command(
    db: Annotated[Path, typer.Option("--db", help="The results database.")],
    out: Annotated[Path, typer.Option("--out", help="Records CSV to write.")],
    flags: Annotated[Path | None, typer.Option("--flags", help="Also write one row per flag here.")] = None,
    survey: Annotated[str | None, typer.Option("--survey", help="Survey id, if the database holds several.")] = None,
) -> None:
    """Write the records CSV (one row per form) and, optionally, the flags."""
    from sipas_scan.export import export_flags, export_records

    if not db.is_file():
        raise InputFileError(f"{db}: no such database")
    count = export_records(db, out, survey)
    _say(f"Wrote {count} forms to {out}")
    if flags:
        _say(f"Wrote {export_flags(db, flags)} flags to {flags}")


@survey_app.command("check")
def survey_check(survey: Annotated[str, typer.Argument(help="Survey definition file or name.")]) -> None:
    """Validate a survey definition and list every problem with its line."""
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
    _say(f"{loaded.source_path}: survey '{loaded.id}' version {loaded.version}: {len(loaded.fields())} fields, "
         f"{criteria} criteria in the index, {layout.page_count} pages: OK")


@survey_app.command("layout")
def survey_layout(
    survey: Annotated[str, typer.Argument(help="Survey definition file or name.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write layout.json.")],
) -> None:
    """Write a survey's layout.json without printing forms."""
    from sipas_scan.layout import layout_survey
    from sipas_scan.survey import load_survey

    layout_survey(load_survey(survey)).write_json(out)
    _say(f"Wrote {out}")


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Results folder (replaced).")] = Path("output/demo"),
    per_village: Annotated[int, typer.Option("--per-village", help="Households drawn in each village.")] = 4,
    villages: Annotated[int, typer.Option("--villages", help="Use only the register's first N villages (0: all).")]
        = 0,
    seed: Annotated[int, typer.Option("--seed")] = 2024,
    profile: Annotated[str, typer.Option("--profile", help="Simulated returns: clean | office | hard")] = "office",
) -> None:
    """The whole chain on bundled sample data: sample, print, simulate returns, scan, export, score, returns."""
    from sipas_scan.export import export_flags, export_records
    from sipas_scan.printing.batch import print_batch
    from sipas_scan.printing.codes import load_secret
    from sipas_scan.printing.households import read_households
    from sipas_scan.printing.sample import draw_sample, write_households
    from sipas_scan.reading.page import ReadOptions
    from sipas_scan.reading.pipeline import scan_inputs
    from sipas_scan.report.pipeline import ScoreOptions, score_records
    from sipas_scan.returns import write_returns
    from sipas_scan.simulate.stacks import simulate_returns
    from sipas_scan.survey import load_survey

    if villages < 0:
        raise BadArgsError("--villages must be 0 (all) or more")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # The demo makes its own throw-away secret, kept beside its results
    # (readable by the owner only) so later steps can verify its forms.
    secret_file = out / ".secret"
    with os.fdopen(os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(secrets.token_urlsafe(32))
    secret = load_secret(secret_file.read_text(encoding="utf-8"))
    register = read_households(PACKAGE_DATA / "sample_register.csv")
    if villages:
        kept = set(list(dict.fromkeys(h.village_key for h in register))[:villages])
        register = [h for h in register if h.village_key in kept]
    drawn, summary = draw_sample(register, per_village, seed)
    households = out / "households.csv"
    write_households(households, drawn)
    _say(f"1. sample:   {summary.drawn} households in {summary.villages} villages -> {households}")
    printed = print_batch(None, households, out / "print", secret, out / "ledger.sqlite")
    _say(f"2. print:    {printed.forms} forms, {printed.pages} pages in {printed.seconds:.1f} s "
         f"({printed.pages / printed.seconds:.0f} pages/s) -> {printed.pdf}, delivery lists in {out / 'print' / 'delivery'}")
    simulated = simulate_returns(out / "print", out / "returns", seed=seed, profile=profile)
    _say(f"3. simulate: {simulated.forms_returned} of {simulated.forms_issued} forms returned, {simulated.pages} scanned "
         f"pages ({profile}) -> {out / 'returns' / 'scans'}; truth {simulated.truth}")
    scanned = scan_inputs([out / "returns" / "scans"], out / "results.sqlite", ReadOptions(secret),
                          ledger_path=out / "ledger.sqlite")
    forms = scanned.forms
    pages_per_second = scanned.pages_read / scanned.seconds if scanned.seconds else 0.0
    _say(f"4. scan:     {scanned.pages_read} pages in {scanned.seconds:.1f} s "
         f"({pages_per_second:.1f} pages/s): {forms['accepted']} forms accepted, "
         f"{forms['needs_review']} to review; {sum(scanned.quarantined.values())} pages quarantined"
         + (f" ({', '.join(f'{n} {r}' for r, n in scanned.quarantined.most_common())})" if scanned.quarantined else ""))
    export_records(out / "results.sqlite", out / "records.csv")
    export_flags(out / "results.sqlite", out / "flags.csv")
    _say(f"5. export:   {out / 'records.csv'} (records), {out / 'flags.csv'} (what reviewers will see)")
    # Scored before review, as an analyst would see it: forms still to review are left out.
    scored = score_records(out / "records.csv", load_survey(None), out / "results", ScoreOptions())
    sipas = _index_text(scored.scores)
    _say(f"6. score:    {len(scored.records.counted)} of {scored.records.total} forms scored (the others await review): "
         f"{sipas} -> {out / 'results'}")
    returned = write_returns(out / "results.sqlite", out / "ledger.sqlite", out / "returns-report")
    t = returned.report.total
    _say(f"7. returns:  {t.received} of {t.printed} forms received ({t.return_rate:.1f} %), {t.missing} missing, "
         f"{t.incomplete} with pages missing, {len(returned.village_pdfs)} villages to visit again "
         f"-> {returned.returns_csv.parent}")
    _say("")
    _say(f"Results in {out}:")
    for name, what in (("print/forms.pdf", "the numbered forms; delivery lists in print/delivery/"),
                       ("returns/scans/", "the simulated scans; returns/truth.csv holds what was really ticked"),
                       ("results.sqlite", "the results database (page images in results.sqlite.pages/)"),
                       ("records.csv", "one row per form; flags.csv: the doubts reviewers will settle"),
                       ("results/indices.csv", "SIPAS, factor and criterion indices; intervals.csv, other_indices.csv"),
                       ("results/report.pdf", "the SIPAS report (also report.html)"),
                       ("returns-report/returns.csv", "received per village and commune; missing.csv: households "
                                                      "to visit again, villages/*.pdf: collection lists")):
        _say(f"  {name:<27} {what}")
    _say(f"Summary: {scanned.pages_read} pages read at {pages_per_second:.1f} pages/s; {forms['accepted']} forms "
         f"accepted, {forms['needs_review']} to review; {sipas}")
    _say(f"To settle the doubts: sipas-scan users add NAME --role supervisor --db {out / 'results.sqlite'}, then "
         f"sipas-scan review --db {out / 'results.sqlite'} --ledger {out / 'ledger.sqlite'} (http://127.0.0.1:8750/)")


calibrate_app = typer.Typer(no_args_is_help=True, help="Scanner calibration: print the sheet, measure its scan.")
app.add_typer(calibrate_app, name="calibrate")


@calibrate_app.command("print")
def calibrate_print(
    out: Annotated[Path, typer.Option("--out", help="Calibration sheet PDF to write.")] = Path("calibration-sheet.pdf"),
) -> None:
    """Write the calibration sheet: print it at 100 %, then scan it as the forms will be scanned."""
    from sipas_scan.calibration.render import write_sheet

    write_sheet(out)
    _say(f"Wrote {out}: print at 100 % (actual size), scan with the forms' settings, then "
         "'sipas-scan calibrate read SCAN --name SCANNER'")


@calibrate_app.command("read")
def calibrate_read(
    scan: Annotated[Path, typer.Argument(help="The scanned calibration sheet (PDF, TIFF, PNG or JPEG; first page).")],
    name: Annotated[str, typer.Option("--name", help="Name of the scanner and setting, e.g. canon-200-grey.")],
    directory: Annotated[Path, typer.Option("--dir", help="Folder of scanner profiles.")] = Path("calibration"),
    dpi: Annotated[float | None, typer.Option("--dpi", help="Resolution the scanner was set to (default: as the file says).",
                                              show_default=False)] = None,
) -> None:
    """Measure a scanned calibration sheet, say whether the setting is fit for reading, save the profile."""
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
    db: Annotated[Path, typer.Option("--db", help="The results database.")],
    ledger: LedgerOption = Path(DEFAULT_LEDGER),
    out: Annotated[Path, typer.Option("--out", help="Folder for returns.csv, missing.csv, not_issued.csv and "
                                                    "per-village collection lists.")] = Path("returns"),
    survey: Annotated[str | None, typer.Option("--survey", help="Only this survey id.")] = None,
) -> None:
    """Forms printed, received, accepted, to review and missing per village, and whom to visit again."""
    from sipas_scan.returns import write_returns

    summary = write_returns(db, ledger, out, survey=survey)
    t = summary.report.total
    _say(f"Returns: {t.printed} printed, {t.received} received ({t.return_rate:.1f} %): {t.accepted} accepted, "
         f"{t.to_review} to review, {t.rejected} rejected; {t.missing} missing, {t.incomplete} with pages missing; "
         f"{len(summary.report.not_issued)} never issued")
    _say(f"  per village and commune: {summary.returns_csv}")
    _say(f"  households to visit again: {summary.missing_csv} and {len(summary.village_pdfs)} collection lists "
         f"in {out / 'villages'}")
    if summary.report.not_issued:
        _say(f"  forms never issued (not in the ledger): {summary.not_issued_csv}")


@app.command("score")
def score_command(
    records: Annotated[Path, typer.Argument(help="Records CSV written by 'sipas-scan export'.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for indices.csv and the report (PDF and HTML).")],
    survey: Annotated[str | None, typer.Option(
        "--survey", help="Survey definition file or name in forms/ (default: the standard household survey).")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Also score each value of this column (district, commune, village, a1, a2, ...).")] = None,
    compare_with: Annotated[Path | None, typer.Option(
        "--compare", help="Last round's indices.csv: the change per index and unit goes to compare.csv.")] = None,
    combine: Annotated[str, typer.Option(
        "--combine", help="How units make the whole: pooled (all respondents at once) | mean (mean of unit indices).")]
        = "pooled",
    year: Annotated[int | None, typer.Option("--year", help="Survey year in the report title (default: this year).")]
        = None,
) -> None:
    """Compute the SIPAS indices (indices.csv) and write the report (PDF and HTML)."""
    from sipas_scan.report.pipeline import ScoreOptions, score_records
    from sipas_scan.scoring.intervals import MIN_RESPONDENTS
    from sipas_scan.survey import load_survey

    summary = score_records(records, load_survey(survey), out,
                            ScoreOptions(by=by, combine=combine, compare_with=compare_with, year=year))
    excluded = ", ".join(f"{n} {status}" for status, n in sorted(summary.records.excluded.items())) or "none"
    _say(f"Scored {len(summary.records.counted)} of {summary.records.total} forms (excluded: {excluded})")
    _say(f"  {_index_text(summary.scores)}, {summary.scores.combine}")
    _say(f"  indices: {summary.indices}")
    _say(f"  report:  {summary.pdf} and {summary.html}")
    if summary.compare:
        _say(f"  change from {compare_with}: {summary.compare}")
    if summary.small_units:
        shown = ", ".join(summary.small_units[:5]) + (" ..." if len(summary.small_units) > 5 else "")
        typer.echo(f"sipas-scan: warning: {len(summary.small_units)} unit(s) have fewer than {MIN_RESPONDENTS} "
                   f"respondents, not for publication: {shown}", err=True)


users_app = typer.Typer(no_args_is_help=True, help="Reviewer accounts (kept in the results database).")
app.add_typer(users_app, name="users")
DbOption = Annotated[Path, typer.Option("--db", help="Results database (SQLite).")]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    db: DbOption,
    role: Annotated[str, typer.Option("--role", help="reviewer | supervisor")] = "reviewer",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
) -> None:
    """Add a reviewer or supervisor, or set a new password or role."""
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
    """List the accounts."""
    from sipas_scan.review.accounts import list_users
    from sipas_scan.store.db import Store

    with Store(db) as store:
        for name, role, created in list_users(store):
            _say(f"{name}\t{role}\t{created}")


@app.command("review")
def review_command(
    db: DbOption,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; loopback unless you say otherwise.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8750,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="Issued-serials ledger, for return rates.")] = None,
    threads: Annotated[int, typer.Option("--threads")] = 8,
    behind_proxy: Annotated[bool, typer.Option(
        "--behind-proxy", envvar="SIPAS_BEHIND_PROXY",
        help="Served through a TLS reverse proxy: cookies are marked Secure and the proxy's X-Forwarded-Proto "
             "and -Host are believed (see the README).")] = False,
) -> None:
    """The reviewers' web app: settle what the scanner doubted."""
    import waitress

    from sipas_scan.review.accounts import list_users
    from sipas_scan.review.app import create_app, exposure_warning
    from sipas_scan.store.db import Store

    if not db.is_file():
        raise InputFileError(f"{db}: no such database (run 'sipas-scan scan' first)")
    with Store(db) as store:
        if not list_users(store):
            raise BadArgsError(f"no accounts yet: add one with 'sipas-scan users add NAME --role supervisor --db {db}'")
    warning = exposure_warning(host, behind_proxy)
    if warning:
        typer.echo(f"sipas-scan: warning: {warning}", err=True)
    _say(f"Review app on http://{host}:{port}/ (Ctrl+C stops it)")
    waitress.serve(create_app(db, ledger, behind_proxy=behind_proxy), host=host, port=port, threads=threads,
                   ident="sipas-scan")


def main() -> None:
    # Typer (standalone mode) handles usage errors and exits itself; our own
    # errors arrive here as exceptions carrying their exit code.
    try:
        app()
    except SipasError as exc:
        typer.echo(f"sipas-scan: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        typer.echo("sipas-scan: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the CLI edge: one line, not a traceback
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        typer.echo(f"sipas-scan: error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(int(ExitCode.other_error))
