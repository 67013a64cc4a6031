"""The CSV outputs of ``score``.

indices.csv: exactly the columns of docs/formats.md ``unit,index,value,n``. An index
nobody could be counted for (n = 0, e.g. F5 in a village where nobody gave
feedback) has no value, so it has no row rather than an empty number.
The extras go to their own files so indices.csv never changes shape:
intervals.csv, other_indices.csv and, with --compare, compare.csv.
With --format, the same tables also as XLSX, SPSS or Stata files, numbers
as numbers (rounded to 2 decimals) and columns labelled in Vietnamese.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from sipas_scan.outputs.tables import Column, DataTable, write_table, write_xlsx
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


INTERVALS_COLUMNS = ("unit", "index", "value", "low", "high", "n", "publishable")
OTHER_COLUMNS = ("unit", "question", "option", "label", "value", "n")
COMPARE_COLUMNS = ("unit", "index", "value", "previous", "change", "n", "previous_n")
Number = Callable[[float | None], object]  # how a share is written: text for CSV, a rounded number for office formats


def _indices_rows(scores: Scores, number: Number) -> Iterator[tuple]:
    for unit in scores.units:
        for index, value in unit.indices.items():
            if value.value is not None:
                yield unit.key, index, number(value.value), value.n


def _intervals_rows(scores: Scores, number: Number, publishable: Callable[[bool], object]) -> Iterator[tuple]:
    for unit in scores.units:
        for index, interval in unit.intervals.items():
            value = unit.indices[index]
            if value.value is not None:
                yield (
                    unit.key,
                    index,
                    number(value.value),
                    number(interval.low),
                    number(interval.high),
                    value.n,
                    publishable(value.n >= MIN_RESPONDENTS),
                )


def _other_rows(scores: Scores, number: Number) -> Iterator[tuple]:
    for unit in scores.units:
        for shares in unit.others.values():
            for share in shares:
                if share.value is not None:
                    yield unit.key, share.question, share.code, share.label, number(share.value), share.n


def _compare_rows(changes: list[Change], number: Number) -> Iterator[tuple]:
    for c in changes:
        yield c.unit, c.index, number(c.value), number(c.previous), number(c.change), c.n, c.previous_n


def write_indices(path: Path, scores: Scores) -> Path:
    return _write(path, INDICES_COLUMNS, _indices_rows(scores, percent))


def write_intervals(path: Path, scores: Scores) -> Path:
    """The 95 % interval of SIPAS, areas and factors, and whether the unit has
    enough respondents (MIN_RESPONDENTS) to publish."""
    return _write(path, INTERVALS_COLUMNS, _intervals_rows(scores, percent, lambda enough: "yes" if enough else "no"))


def write_other_indices(path: Path, scores: Scores) -> Path:
    return _write(path, OTHER_COLUMNS, _other_rows(scores, percent))


def write_compare(path: Path, changes: list[Change]) -> Path:
    """Change in percentage points per unit and index."""
    return _write(path, COMPARE_COLUMNS, _compare_rows(changes, percent))


# ---- the same tables in office formats (score --format) --------------------

_LABELS = {
    "unit": "Đơn vị",
    "index": "Chỉ số",
    "value": "Giá trị (%)",
    "n": "Số người trả lời",
    "low": "Cận dưới khoảng tin cậy 95% (%)",
    "high": "Cận trên khoảng tin cậy 95% (%)",
    "publishable": "Đủ số người trả lời để công bố (1 có, 0 không)",
    "question": "Câu hỏi",
    "option": "Mã phương án",
    "label": "Phương án",
    "previous": "Giá trị năm trước (%)",
    "change": "Thay đổi (điểm %)",
    "previous_n": "Số người trả lời năm trước",
}
_NUMBERS = {"value", "n", "low", "high", "publishable", "previous", "change", "previous_n"}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _data_table(name: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> DataTable:
    columns = tuple(
        Column(h, _LABELS.get(h, h), "number" if h in _NUMBERS else "text", {0: "không", 1: "có"} if h == "publishable" else {})
        for h in header
    )
    return DataTable(name, columns, [tuple(row) for row in rows], title=f"SIPAS: {name}")


def score_tables(scores: Scores, changes: list[Change] | None) -> list[DataTable]:
    """indices, intervals, other_indices and (with changes) compare, with numbers as numbers."""
    tables = [
        _data_table("indices", INDICES_COLUMNS, _indices_rows(scores, _round)),
        _data_table("intervals", INTERVALS_COLUMNS, _intervals_rows(scores, _round, int)),
        _data_table("other_indices", OTHER_COLUMNS, _other_rows(scores, _round)),
    ]
    if changes is not None:
        tables.append(_data_table("compare", COMPARE_COLUMNS, _compare_rows(changes, _round)))
    return tables


def write_tables(out: Path, scores: Scores, changes: list[Change] | None, formats: Sequence[str]) -> list[Path]:
    """The tables in each of ``formats`` besides CSV: one workbook
    (indices.xlsx, a sheet per table), or one .sav/.dta file per table."""
    written: list[Path] = []
    tables = score_tables(scores, changes) if any(f != "csv" for f in formats) else []
    for fmt in dict.fromkeys(formats):
        if fmt == "csv":
            continue
        if fmt == "xlsx":
            written.append(write_xlsx(tables, out / "indices.xlsx"))
        else:
            written += [write_table(table, out / f"{table.name}.{fmt}", fmt) for table in tables]
    return written
