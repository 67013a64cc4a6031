"""Tables in the formats analysts open: CSV (optionally with a byte-order
mark, for Excel on Windows), XLSX, SPSS .sav and Stata .dta.

A table is columns with labels, optional value labels, and rows of plain
values; the writers know nothing of surveys. XLSX is written with
XlsxWriter (write-only, fast, low memory; openpyxl reads it back in the
tests); .sav and .dta with pyreadstat, which carries variable and value
labels into both.

Numbers are rounded for people where a column says so (``decimals``):
confidences to 3 decimals rather than 0.7440000000000001.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sipas_scan.errors import BadArgsError

FORMATS = ("csv", "xlsx", "sav", "dta")
# Stata: a variable label holds at most 80 characters, a string value 2045 bytes
# (longer ones would need strL); SPSS: a variable label at most 256 bytes.
STATA_LABEL_CHARS = 80
SPSS_LABEL_BYTES = 255
STATA_STRING_BYTES = 2045
_STATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Column:
    name: str
    label: str = ""
    # "text" values are written as they are; "number" values are numbers
    # (int or float; None when blank), rounded to ``decimals`` if given.
    kind: str = "text"
    value_labels: dict[int, str] = field(default_factory=dict)  # code -> label
    decimals: int | None = None
    width: float = 0  # XLSX column width in characters; 0 = from the contents


@dataclass(frozen=True)
class DataTable:
    name: str  # sheet name / file stem
    columns: tuple[Column, ...]
    rows: list[tuple[object, ...]]
    title: str = ""  # a file label (SPSS, Stata)

    def rounded(self) -> list[tuple[object, ...]]:
        rounding = [(i, c.decimals) for i, c in enumerate(self.columns) if c.decimals is not None]
        if not rounding:
            return self.rows
        rows = []
        for row in self.rows:
            values = list(row)
            for i, decimals in rounding:
                value = values[i]
                if isinstance(value, float):
                    values[i] = round(value, decimals)
            rows.append(tuple(values))
        return rows


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise BadArgsError(f"--format {name}: expected one of {', '.join(FORMATS)}")
    return name


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value: object) -> object:
    """A text cell Excel would run as a formula (a transcribed comment that
    begins with "=" or "@") is kept as text by a leading apostrophe, which
    Excel does not show. Numbers stay numbers."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_csv(table: DataTable, path: Path, *, excel: bool = False) -> Path:
    """UTF-8; with ``excel``, a byte-order mark first, which is how Excel on
    Windows knows the file is UTF-8 (it shows mojibake otherwise), and text
    that Excel would take for a formula kept as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in table.columns])
        for row in table.rounded():
            cells = ["" if v is None else v for v in row]
            writer.writerow([excel_safe(v) for v in cells] if excel else cells)
    return path


def write_xlsx(tables: Sequence[DataTable], path: Path) -> Path:
    """One sheet per table: bold header row frozen, a filter on it, columns sized."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
    try:
        head = workbook.add_format({"bold": True, "bg_color": "#DFE8F1", "text_wrap": True, "valign": "top"})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        for table in tables:
            sheet = workbook.add_worksheet(table.name[:31])
            for col, column in enumerate(table.columns):
                sheet.write_string(0, col, column.name, head)
            for row_index, row in enumerate(table.rounded(), start=1):
                for col, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    if isinstance(value, bool):
                        sheet.write_boolean(row_index, col, value)
                    elif isinstance(value, int | float):
                        sheet.write_number(row_index, col, value)
                    else:
                        sheet.write_string(row_index, col, str(value))
            for col, column in enumerate(table.columns):
                longest = max((len(str(row[col])) for row in table.rows[:500] if row[col] is not None), default=0)
                width = column.width or min(max(len(column.name), longest) + 2, 60)
                sheet.set_column(col, col, width, wrap if width >= 40 else None)
            sheet.freeze_panes(1, 0)
            if table.rows:
                sheet.autofilter(0, 0, len(table.rows), len(table.columns) - 1)
    finally:
        workbook.close()
    return path


def _frame(table: DataTable, *, stata: bool):
    import pandas as pd

    data = {}
    for i, column in enumerate(table.columns):
        values = [row[i] for row in table.rounded()]
        if column.kind == "number":
            # Doubles throughout (blank = system missing); pyreadstat stores
            # whole numbers with value labels as Stata integers.
            # Text in a number column (two codes on a single-choice question) is no answer here.
            data[column.name] = pd.Series([v if isinstance(v, int | float) else float("nan") for v in values], dtype="float64")
        else:
            text = ["" if v is None else str(v) for v in values]
            if stata:
                text = [_cut_bytes(t, STATA_STRING_BYTES) for t in text]
            data[column.name] = pd.Series(text, dtype="object")
    return pd.DataFrame(data, columns=[c.name for c in table.columns])


def _cut_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode("utf-8", errors="ignore") + "…"


def _cut_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _labels(table: DataTable) -> tuple[dict[str, str], dict[str, dict[float, str]]]:
    column_labels = {c.name: c.label for c in table.columns if c.label}
    value_labels = {
        c.name: {float(k): v for k, v in c.value_labels.items()} for c in table.columns if c.value_labels and c.kind == "number"
    }
    return column_labels, value_labels


def write_sav(table: DataTable, path: Path) -> Path:
    """SPSS: variable labels and value labels; labels over SPSS's 255 bytes
    are shortened (the XLSX codebook has them in full)."""
    import pyreadstat

    path.parent.mkdir(parents=True, exist_ok=True)
    full_column_labels, full_value_labels = _labels(table)
    column_labels: dict[str, str | None] = {name: _cut_bytes(label, SPSS_LABEL_BYTES) for name, label in full_column_labels.items()}
    value_labels: dict[str, dict[int | float, str]] = {
        name: {k: _cut_bytes(v, 120) for k, v in labels.items()} for name, labels in full_value_labels.items()
    }
    measure = {c.name: ("nominal" if c.value_labels else "scale") if c.kind == "number" else "nominal" for c in table.columns}
    pyreadstat.write_sav(
        _frame(table, stata=False),
        str(path),
        file_label=_cut_bytes(table.title, 64),
        column_labels=column_labels,
        variable_value_labels=value_labels,
        variable_measure=measure,
    )
    return path


def write_dta(table: DataTable, path: Path) -> Path:
    """Stata 14+ (.dta 118, UTF-8): variable labels cut to Stata's 80
    characters, value labels on the coded (numeric) variables."""
    import pyreadstat

    bad = [c.name for c in table.columns if not _STATA_NAME.match(c.name)]
    if bad:
        raise BadArgsError(f"not valid Stata variable names: {', '.join(bad[:5])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    full_column_labels, full_value_labels = _labels(table)
    column_labels: dict[str, str | None] = {name: _cut_chars(label, STATA_LABEL_CHARS) for name, label in full_column_labels.items()}
    value_labels: dict[str, dict[int | float, str]] = {
        name: {k: _cut_chars(v, 80) for k, v in labels.items()} for name, labels in full_value_labels.items()
    }
    pyreadstat.write_dta(
        _frame(table, stata=True),
        str(path),
        file_label=_cut_chars(table.title, 80),
        column_labels=column_labels,
        version=15,
        variable_value_labels=value_labels,
    )
    return path


def write_table(table: DataTable, path: Path, fmt: str, *, excel: bool = False) -> Path:
    """One table in one format (a workbook of one sheet for xlsx)."""
    if fmt == "csv":
        return write_csv(table, path, excel=excel)
    if fmt == "xlsx":
        return write_xlsx([table], path)
    if fmt == "sav":
        return write_sav(table, path)
    if fmt == "dta":
        return write_dta(table, path)
    raise BadArgsError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
