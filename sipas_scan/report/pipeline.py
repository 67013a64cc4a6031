"""The ``score`` command's story: read the records, score them, compare with
last year, write the CSVs, then the report as PDF and HTML."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.report.content import ReportInput, build_report
from sipas_scan.report.html import write_html
from sipas_scan.report.pdf import write_pdf
from sipas_scan.scoring.compare import compare, read_indices
from sipas_scan.scoring.compute import DEFAULT_COMBINE, Scores, score
from sipas_scan.scoring.intervals import MIN_RESPONDENTS
from sipas_scan.scoring.records_in import RecordSet, read_records
from sipas_scan.scoring.write import write_compare, write_indices, write_intervals, write_other_indices
from sipas_scan.survey import Survey


@dataclass(frozen=True)
class ScoreOptions:
    by: str | None = None
    combine: str = DEFAULT_COMBINE
    compare_with: Path | None = None
    year: int | None = None


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


def score_records(records_csv: Path, survey: Survey, out: Path, options: ScoreOptions = ScoreOptions()) -> ScoreSummary:
    records = read_records(records_csv, survey)
    # Read last year's file before writing anything, so a bad one costs nothing.
    previous = read_indices(options.compare_with) if options.compare_with else None
    scores = score(records, by=options.by, combine=options.combine)
    out.mkdir(parents=True, exist_ok=True)
    indices = write_indices(out / "indices.csv", scores)
    write_intervals(out / "intervals.csv", scores)
    write_other_indices(out / "other_indices.csv", scores)
    changes = compare(scores, previous) if previous is not None else None
    compare_path = write_compare(out / "compare.csv", changes) if changes is not None else None
    year = options.year or datetime.date.today().year
    report = build_report(ReportInput(records, scores, year, changes,
                                      options.compare_with.name if options.compare_with else ""))
    pdf = write_pdf(report, out / "report.pdf")
    html = write_html(report, out / "report.html")
    small = [u.key for u in scores.units if u.respondents < MIN_RESPONDENTS]
    return ScoreSummary(records, scores, indices, pdf, html, compare_path, small)
