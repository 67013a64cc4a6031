"""What the report is built from: the records, their scores, last year's
changes, and the index nodes (factors, sub-factors) it lists under the root."""

from __future__ import annotations

from dataclasses import dataclass

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


def index_nodes(survey: Survey) -> list[IndexNode]:
    return list(survey.index.walk())[1:] if survey.index else []
