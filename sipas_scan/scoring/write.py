"""The CSV outputs of ``score``.

indices.csv: exactly the columns of docs/formats.md ``unit,index,value,n``. An index
nobody could be counted for (n = 0, e.g. F5 in a village where nobody gave
feedback) has no value, so it has no row rather than an empty number.
The extras go to their own files so indices.csv never changes shape:
intervals.csv, other_indices.csv and, with --compare, compare.csv.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from sipas_scan.scoring.compare import INDICES_COLUMNS, Change
from sipas_scan.scoring.compute import Scores
from sipas_scan.scoring.intervals import MIN_RESPONDENTS


def percent(value: float | None) -> str:
    """Two decimals, as docs/formats.md asks; '' when there is no value."""
    return "" if value is None else f"{value:.2f}"


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_indices(path: Path, scores: Scores) -> Path:
    return _write(path, INDICES_COLUMNS, (
        (unit.key, index, percent(value.value), value.n)
        for unit in scores.units for index, value in unit.indices.items() if value.value is not None))


def write_intervals(path: Path, scores: Scores) -> Path:
    """The 95 % interval of SIPAS, areas and factors, and whether the unit has
    enough respondents (MIN_RESPONDENTS) to publish."""
    return _write(path, ("unit", "index", "value", "low", "high", "n", "publishable"), (
        (unit.key, index, percent(unit.indices[index].value), percent(interval.low), percent(interval.high),
         unit.indices[index].n, "yes" if unit.indices[index].n >= MIN_RESPONDENTS else "no")
        for unit in scores.units for index, interval in unit.intervals.items()
        if unit.indices[index].value is not None))


def write_other_indices(path: Path, scores: Scores) -> Path:
    return _write(path, ("unit", "question", "option", "label", "value", "n"), (
        (unit.key, share.question, share.code, share.label, percent(share.value), share.n)
        for unit in scores.units for shares in unit.others.values() for share in shares
        if share.value is not None))


def write_compare(path: Path, changes: list[Change]) -> Path:
    """Change in percentage points per unit and index."""
    return _write(path, ("unit", "index", "value", "previous", "change", "n", "previous_n"), (
        (c.unit, c.index, percent(c.value), percent(c.previous), percent(c.change), c.n, c.previous_n)
        for c in changes))
