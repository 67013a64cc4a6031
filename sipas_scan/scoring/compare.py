"""Change from a previous round: last year's indices.csv against this year's.

indices.csv keeps exactly the columns of docs/formats.md; the change goes to
compare.csv, one row per (unit, index) found in either year.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.scoring.compute import Scores
from sipas_scan.scoring.records_in import CsvInputError, decode_csv

INDICES_COLUMNS = ("unit", "index", "value", "n")


@dataclass(frozen=True)
class PreviousValue:
    value: float
    n: int


@dataclass(frozen=True)
class Change:
    unit: str
    index: str
    value: float | None
    previous: float | None
    n: int
    previous_n: int

    @property
    def change(self) -> float | None:
        """Percentage points; None when either year lacks the index."""
        if self.value is None or self.previous is None:
            return None
        return round(self.value, 2) - round(self.previous, 2)


def read_indices(path: Path) -> dict[tuple[str, str], PreviousValue]:
    """A previous indices.csv (docs/formats.md), keyed by (unit, index)."""
    try:
        text = decode_csv(path, path.read_bytes())
    except (FileNotFoundError, IsADirectoryError):
        raise CsvInputError(path, "no such indices file") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in INDICES_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CsvInputError(path, f"missing column(s) {', '.join(missing)}: not an indices.csv", row=1, column=missing[0])
    found: dict[tuple[str, str], PreviousValue] = {}
    for row in reader:
        line = reader.line_num
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            raise CsvInputError(path, f"value '{row['value']}' is not a number", row=line, column="value") from None
        try:
            n = int(row["n"])
        except (TypeError, ValueError):
            raise CsvInputError(path, f"n '{row['n']}' is not a whole number", row=line, column="n") from None
        if not 0 <= value <= 100:
            raise CsvInputError(path, f"value {value} is not a percentage (0-100)", row=line, column="value")
        found[(row["unit"], row["index"])] = PreviousValue(value, n)
    return found


def compare(scores: Scores, previous: dict[tuple[str, str], PreviousValue]) -> list[Change]:
    """This year's units and indices in order, then any only last year had."""
    changes: list[Change] = []
    seen: set[tuple[str, str]] = set()
    for unit in scores.units:
        for index, current in unit.indices.items():
            key = (unit.key, index)
            seen.add(key)
            before = previous.get(key)
            if current.value is None and before is None:
                continue
            changes.append(
                Change(unit.key, index, current.value, before.value if before else None, current.n, before.n if before else 0)
            )
    for (unit_key, index), before in previous.items():
        if (unit_key, index) not in seen:
            changes.append(Change(unit_key, index, None, before.value, 0, before.n))
    return changes
