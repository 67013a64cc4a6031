"""Households CSV (the input to print) and the people-and-places record
that travels with every issued form."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sipas_scan.errors import InputFileError

REQUIRED_COLUMNS = ("province", "district", "commune", "village", "household_code")
OPTIONAL_COLUMNS = ("head_name", "address")


@dataclass(frozen=True)
class Household:
    province: str
    district: str
    commune: str
    village: str
    household_code: str
    head_name: str = ""
    address: str = ""

    @property
    def village_key(self) -> tuple[str, str, str, str]:
        return (self.province, self.district, self.commune, self.village)


def read_csv_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV (BOM allowed) with their line numbers; checks the header."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(f"{path}:{line}: not UTF-8 text (save the file as UTF-8 CSV)") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputFileError(f"{path}:1: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:
            raise InputFileError(f"{path}:{reader.line_num}: more values than columns")
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return rows


def read_households(path: Path) -> list[Household]:
    """Households in file order. Rejects blank codes and duplicate households."""
    rows = read_csv_rows(path, REQUIRED_COLUMNS)
    households = []
    seen: dict[tuple[str, ...], int] = {}
    for line, row in rows:
        for column in REQUIRED_COLUMNS:
            if not row.get(column):
                raise InputFileError(f"{path}:{line}: column '{column}' is empty")
        household = Household(**{k: row.get(k, "") for k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS})
        key = (*household.village_key, household.household_code)
        if key in seen:
            raise InputFileError(f"{path}:{line}: household {household.household_code} is listed twice (first at line {seen[key]})")
        seen[key] = line
        households.append(household)
    if not households:
        raise InputFileError(f"{path}: no households")
    return households
