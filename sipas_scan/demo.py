"""``sipas-scan demo``: the whole chain on the bundled sample register.

The demo writes into a folder of its own. It marks that folder with a file it
writes first, so a later run knows which folder it may clear; a folder without
the mark that holds anything is someone else's and is refused untouched. Every
option is checked before anything on disk changes.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.errors import BadArgsError, OutputFileError
from sipas_scan.records import FormStatus

SAMPLE_REGISTER = Path(__file__).resolve().parent / "data" / "sample_register.csv"
MARKER = ".sipas-demo"
MARKER_TEXT = "This folder was made by 'sipas-scan demo'; a new demo run replaces what the demo wrote here.\n"
# Everything a run writes at the top of its folder: only these are cleared
# before the next run, so a note a user dropped in the folder survives.
DEMO_ENTRIES = (
    ".secret",
    "households.csv",
    "print",
    "ledger.sqlite",
    "returns",
    "results.sqlite",
    "results.sqlite.pages",  # page images of a demo made by an older version
    "records.csv",
    "flags.csv",
    "results",
    "returns-report",
)
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class DemoOptions:
    out: Path
    per_village: int = 4
    villages: int = 0
    seed: int = 2024
    profile: str = "office"


@dataclass(frozen=True)
class DemoSummary:
    out: Path
    pages_read: int
    pages_per_second: float
    accepted: int
    to_review: int
    index_text: str


def check_options(options: DemoOptions) -> None:
    """Every option, before anything is written or removed."""
    from sipas_scan.simulate.profiles import PROFILES

    if options.per_village < 1:
        raise BadArgsError("--per-village must be at least 1")
    if options.villages < 0:
        raise BadArgsError("--villages must be 0 (all) or more")
    if options.profile not in PROFILES:
        raise BadArgsError(f"unknown --profile '{options.profile}' (choose {', '.join(PROFILES)})")
    out = options.out
    if out.exists() and not out.is_dir():
        raise OutputFileError(f"{out}: is a file, not a folder; give --out a folder")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise OutputFileError(
            f"{out}: folder is not empty and was not made by the demo; nothing was changed. Give --out a new or empty folder"
        )


def prepare_folder(out: Path) -> None:
    """An empty (or demo-made) folder with the mark; clears only what an
    earlier demo run wrote there."""
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    if not marker.is_file():
        marker.write_text(MARKER_TEXT, encoding="utf-8")
        return
    for name in DEMO_ENTRIES:
        for path in (out / name, *(out / f"{name}{side}" for side in SQLITE_SIDE_FILES)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()


def index_text(scores) -> str:
    """The survey's top index over everyone, with its interval, in one line."""
    root = scores.survey.index.id
    value, interval = scores.all.indices[root], scores.all.intervals[root]
    if value.value is None:
        return f"{root}: no respondent answered the satisfaction questions"
    if interval.low is None:
        return f"{root} = {value.value:.2f} % (n = {value.n}, no interval)"
    return f"{root} = {value.value:.2f} % (95 % interval {interval.low:.2f}-{interval.high:.2f}, n = {value.n})"


def run_demo(options: DemoOptions, say: Callable[[str], None], command: str = "sipas-scan") -> DemoSummary:
    """Sample, print, simulate returns, scan, export, score and tally returns;
    one line per step through ``say``. ``command`` is how the user runs
    sipas-scan, for the closing hint."""
    check_options(options)
    from sipas_scan.export import export_flags, export_records
    from sipas_scan.printing.batch import print_batch
    from sipas_scan.printing.codes import load_secret
    from sipas_scan.printing.households import read_households
    from sipas_scan.printing.sample import draw_sample, write_households
    from sipas_scan.reading.page import ReadOptions
    from sipas_scan.report.pipeline import ScoreOptions, score_records
    from sipas_scan.returns import write_returns
    from sipas_scan.scan import scan_inputs
    from sipas_scan.simulate.stacks import simulate_returns
    from sipas_scan.survey import load_survey

    out, seed, profile = options.out, options.seed, options.profile
    prepare_folder(out)
    # The demo makes its own throw-away secret, kept beside its results
    # (readable by the owner only) so later steps can verify its forms.
    secret_file = out / ".secret"
    with os.fdopen(os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(secrets.token_urlsafe(32))
    secret = load_secret(secret_file.read_text(encoding="utf-8"))
    register = read_households(SAMPLE_REGISTER)
    if options.villages:
        kept = set(list(dict.fromkeys(h.village_key for h in register))[: options.villages])
        register = [h for h in register if h.village_key in kept]
    drawn, summary = draw_sample(register, options.per_village, seed)
    households = out / "households.csv"
    write_households(households, drawn)
    say(f"1. sample:   {summary.drawn} households in {summary.villages} villages -> {households}")
    printed = print_batch(None, households, out / "print", secret, out / "ledger.sqlite")
    say(
        f"2. print:    {printed.forms} forms, {printed.pages} pages in {printed.seconds:.1f} s "
        f"({printed.pages / printed.seconds:.0f} pages/s) -> {printed.pdf}, delivery lists in {out / 'print' / 'delivery'}"
    )
    simulated = simulate_returns(out / "print", out / "returns", seed=seed, profile=profile)
    say(
        f"3. simulate: {simulated.forms_returned} of {simulated.forms_issued} forms returned, {simulated.pages} scanned "
        f"pages ({profile}) -> {out / 'returns' / 'scans'}; truth {simulated.truth}"
    )
    scanned = scan_inputs([out / "returns" / "scans"], out / "results.sqlite", ReadOptions(secret), ledger_path=out / "ledger.sqlite")
    forms = scanned.forms_stored
    pages_per_second = scanned.pages_read / scanned.seconds if scanned.seconds else 0.0
    say(
        f"4. scan:     {scanned.pages_read} pages in {scanned.seconds:.1f} s "
        f"({pages_per_second:.1f} pages/s): {forms[FormStatus.ACCEPTED]} forms accepted, "
        f"{forms[FormStatus.NEEDS_REVIEW]} to review; {sum(scanned.quarantined.values())} pages quarantined"
        + (f" ({', '.join(f'{n} {r}' for r, n in scanned.quarantined.most_common())})" if scanned.quarantined else "")
    )
    export_records(out / "results.sqlite", out / "records.csv")
    export_flags(out / "results.sqlite", out / "flags.csv")
    say(f"5. export:   {out / 'records.csv'} (records), {out / 'flags.csv'} (what reviewers will see)")
    # Scored before review, as an analyst would see it: forms still to review are left out.
    scored = score_records(out / "records.csv", load_survey(None), out / "results", ScoreOptions(ledger=out / "ledger.sqlite"))
    sipas = index_text(scored.scores)
    say(
        f"6. score:    {len(scored.records.counted)} of {scored.records.total} forms scored (the others await review): "
        f"{sipas} -> {out / 'results'}"
    )
    returned = write_returns(out / "results.sqlite", out / "ledger.sqlite", out / "returns-report")
    t = returned.report.total
    say(
        f"7. returns:  {t.received} of {t.printed} forms received ({t.return_rate:.1f} %), {t.missing} missing, "
        f"{t.incomplete} with pages missing, {len(returned.village_pdfs)} villages to visit again "
        f"-> {returned.returns_csv.parent}"
    )
    say("")
    say(f"Results in {out}:")
    for name, what in (
        ("print/forms.pdf", "the numbered forms; delivery lists in print/delivery/"),
        ("returns/scans/", "the simulated scans; returns/truth.csv holds what was really ticked"),
        ("results.sqlite", "the results database, the aligned page images included"),
        ("records.csv", "one row per form; flags.csv: the doubts reviewers will settle"),
        ("results/indices.csv", "SIPAS, factor and criterion indices; intervals.csv, other_indices.csv"),
        ("results/report.pdf", "the SIPAS report (also report.html, and report.docx to edit and sign)"),
        (
            "returns-report/returns.csv",
            "received per village and commune; missing.csv: households to visit again, villages/*.pdf: collection lists",
        ),
    ):
        say(f"  {name:<27} {what}")
    say(
        f"Summary: {scanned.pages_read} pages read at {pages_per_second:.1f} pages/s; {forms[FormStatus.ACCEPTED]} forms "
        f"accepted, {forms[FormStatus.NEEDS_REVIEW]} to review; {sipas}"
    )
    database, ledger = shlex.quote(str(out / "results.sqlite")), shlex.quote(str(out / "ledger.sqlite"))
    say("To settle the doubts, add a supervisor (it asks for a password), start the review app and open http://127.0.0.1:8750/:")
    say(f"  {command} users add supervisor --role supervisor --db {database}")
    say(f"  {command} review --db {database} --ledger {ledger}")
    return DemoSummary(
        out=out,
        pages_read=scanned.pages_read,
        pages_per_second=pages_per_second,
        accepted=forms[FormStatus.ACCEPTED],
        to_review=forms[FormStatus.NEEDS_REVIEW],
        index_text=sipas,
    )
