"""What the report is built from: the records, their scores, last year's
changes, the forms printed per commune (from the ledger, when given), the
settings (issuer, target), and the index nodes it lists under the root."""

from __future__ import annotations

from dataclasses import dataclass, field

from sipas_scan.report.settings import ReportSettings
from sipas_scan.scoring.compare import Change
from sipas_scan.scoring.compute import Scores
from sipas_scan.scoring.records_in import RecordSet
from sipas_scan.survey import IndexNode, Survey


@dataclass(frozen=True)
class ReportInput:
    records: RecordSet
    scores: Scores
    year: int
    changes: list[Change] | None = None
    previous_name: str = ""
    # Forms printed per (district, commune), from the issued-serials ledger;
    # None when no ledger was given (no return rate then).
    printed: dict[tuple[str, str], int] | None = None
    settings: ReportSettings = field(default_factory=ReportSettings)


def index_nodes(survey: Survey) -> list[IndexNode]:
    return list(survey.index.walk())[1:] if survey.index else []
