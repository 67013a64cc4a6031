"""The deliberate anomalies of a simulated return, and anomalies.csv.

Benches and tests read anomalies.csv to check that the reader caught what
the simulator planted: its columns, their meaning and its row order are a
contract (the same seed gives the same bytes).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class AnomalyKind(StrEnum):
    # Faults of the stacks, in the order anomalies.csv lists them.
    NOT_RETURNED = "not-returned"
    MISSING_PAGE = "missing-page"
    DUPLICATE_PAGE = "duplicate-page"
    PHOTOCOPY = "photocopy"
    FORGED = "forged"
    STRAY_PAGE = "stray-page"
    BLANK_PAGE = "blank-page"
    UPSIDE_DOWN = "upside-down"
    OUT_OF_ORDER = "out-of-order"
    # Respondents' mistakes (simulate.respondents), listed after them by name.
    CANCELLED = "cancelled"
    CIRCLED = "circled"
    MULTIPLE = "multiple"
    OVER_MAX = "over-max"
    SKIP_RULE = "skip-rule"


STACK_FAULTS = (
    AnomalyKind.NOT_RETURNED,
    AnomalyKind.MISSING_PAGE,
    AnomalyKind.DUPLICATE_PAGE,
    AnomalyKind.PHOTOCOPY,
    AnomalyKind.FORGED,
    AnomalyKind.STRAY_PAGE,
    AnomalyKind.BLANK_PAGE,
    AnomalyKind.UPSIDE_DOWN,
    AnomalyKind.OUT_OF_ORDER,
)
ANOMALY_COLUMNS = ("kind", "stack", "position", "serial", "page", "field", "detail")


@dataclass(frozen=True)
class Anomaly:
    """One deliberate anomaly and where it can be seen."""

    kind: AnomalyKind
    serial: str = ""  # the form's serial (a forged form: the serial it carries)
    stack: str = ""  # stem of the file holding it ("" when no file does: a lost page, a form not returned)
    position: str = ""  # 1-based page indices within that file, ";"-separated
    page: int | None = None  # page of the form
    field: str = ""  # the question, for a respondent's mistake
    detail: str = ""
    copy: int = 0  # a photocopy: which one (1, 2, ...)
    forged_number: int = 0  # a forged form: the serial number its code was altered to

    @property
    def first_position(self) -> int:
        return int(self.position.split(";")[0]) if self.position else 0

    def row(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "stack": self.stack,
            "position": self.position,
            "serial": self.serial,
            "page": "" if self.page is None else str(self.page),
            "field": self.field,
            "detail": self.detail,
        }


def positions_text(positions: Iterable[int]) -> str:
    return ";".join(map(str, positions))


def _listing_order(anomaly: Anomaly) -> tuple:
    """Stack faults first, in their own order, then respondents' mistakes by
    kind; within a kind by file, first page there, and serial."""
    rank = STACK_FAULTS.index(anomaly.kind) if anomaly.kind in STACK_FAULTS else len(STACK_FAULTS)
    return rank, anomaly.kind.value, anomaly.stack, anomaly.first_position, anomaly.serial


def write_anomalies(path: Path, anomalies: Iterable[Anomaly]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=ANOMALY_COLUMNS)
        writer.writeheader()
        for anomaly in sorted(anomalies, key=_listing_order):
            writer.writerow(anomaly.row())
    return path
