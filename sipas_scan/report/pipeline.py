"""The ``score`` command's story: read the records, score them, compare with
last year, write the tables, then the report as PDF, HTML and Word."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sipas_scan.printing.ledger import LedgerLocation
from sipas_scan.report.content import ReportInput, build_report
from sipas_scan.report.docx import write_docx
from sipas_scan.report.html import write_html
from sipas_scan.report.pdf import write_pdf
from sipas_scan.report.settings import ReportSettings
from sipas_scan.scoring.compare import compare, read_indices
from sipas_scan.scoring.compute import DEFAULT_COMBINE, Scores, score
from sipas_scan.scoring.intervals import MIN_RESPONDENTS
from sipas_scan.scoring.records_in import RecordSet, read_records
from sipas_scan.scoring.write import write_compare, write_indices, write_intervals, write_other_indices, write_tables
from sipas_scan.survey import Survey


@dataclass(frozen=True)
class ScoreOptions:
    by: str | None = None
    combine: str = DEFAULT_COMBINE
    compare_with: Path | None = None
    year: int | None = None
    # The issued-serials ledger: forms printed per commune, for the return rate.
    ledger: LedgerLocation | None = None
    settings: ReportSettings = field(default_factory=ReportSettings)
    # Also the tables in these office formats (xlsx, sav, dta); csv is always written.
    formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreSummary:
    records: RecordSet
    scores: Scores
    indices: Path
    pdf: Path
    html: Path
    compare: Path | None
    # Units (incl. ALL) with fewer respondents than MIN_RESPONDENTS.
    small_units: list[str]
    docx: Path | None = None
    tables: list[Path] = field(default_factory=list)


def printed_per_commune(ledger: LedgerLocation, survey_id: str) -> dict[tuple[str, str], int]:
    """Forms issued per (district, commune) for one survey."""
    from sipas_scan.returns import read_issued  # the ledger side of returns; only needed with --ledger

    printed: Counter[tuple[str, str]] = Counter()
    for form in read_issued(ledger, survey_id).values():
        _province, district, commune, _village = form.household.village_key
        printed[(district, commune)] += 1
    return dict(printed)


def score_records(records_csv: Path, survey: Survey, out: Path, options: ScoreOptions = ScoreOptions()) -> ScoreSummary:
    records = read_records(records_csv, survey)
    # Read last year's file and the ledger before writing anything, so a bad one costs nothing.
    previous = read_indices(options.compare_with) if options.compare_with else None
    printed = printed_per_commune(options.ledger, survey.id) if options.ledger else None
    scores = score(records, by=options.by, combine=options.combine)
    out.mkdir(parents=True, exist_ok=True)
    indices = write_indices(out / "indices.csv", scores)
    write_intervals(out / "intervals.csv", scores)
    write_other_indices(out / "other_indices.csv", scores)
    changes = compare(scores, previous) if previous is not None else None
    compare_path = write_compare(out / "compare.csv", changes) if changes is not None else None
    tables = write_tables(out, scores, changes, options.formats)
    year = options.year or options.settings.year or datetime.date.today().year
    report = build_report(
        ReportInput(
            records, scores, year, changes, options.compare_with.name if options.compare_with else "", printed, options.settings
        )
    )
    pdf = write_pdf(report, out / "report.pdf")
    html = write_html(report, out / "report.html")
    docx = write_docx(report, out / "report.docx")
    small = [u.key for u in scores.units if u.respondents < MIN_RESPONDENTS]
    return ScoreSummary(records, scores, indices, pdf, html, compare_path, small, docx, tables)
