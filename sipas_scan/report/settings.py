"""Who issues the report and against what target: a small YAML file
(``score --settings``), command-line options over it, placeholders otherwise.

An administrative report (Nghị định 30/2020/NĐ-CP) names its issuing body
and the body above it, carries a number, a place and a date, and is signed;
officials fill in what the file leaves out, so every missing piece prints as
a dotted placeholder rather than an invented value.

    authority: UBND TỈNH LẠNG SƠN      # the body above the issuer
    issuer: SỞ NỘI VỤ
    issuer_abbreviation: SNV           # in "Số: .../BC-SNV"
    number: "125"                      # the document number, once given
    place: Lạng Sơn
    date: 2026-12-15
    signer: Nguyễn Văn A
    signer_title: GIÁM ĐỐC
    signing_for: ""                    # e.g. "KT. GIÁM ĐỐC" when a deputy signs
    recipients: [UBND tỉnh (để b/c), Các sở, ban, ngành, Lưu: VT]
    year: 2026
    target_percent: 95
    target_year: 2030
    target_source: Nghị quyết số 76/NQ-CP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from sipas_scan.errors import InputFileError

DOTS = "..."
DEFAULT_RECIPIENTS = ("Như trên;", "Lưu: VT.")


@dataclass(frozen=True)
class Target:
    """The government's satisfaction target in force for a survey year."""

    percent: float
    year: int
    source: str


# Nghị quyết 76/NQ-CP (2021), the state administrative reform programme
# 2021-2030: at least 90 % satisfied by 2025, at least 95 % by 2030.
TARGETS = (Target(90.0, 2025, "Nghị quyết số 76/NQ-CP"), Target(95.0, 2030, "Nghị quyết số 76/NQ-CP"))


def target_for(year: int) -> Target:
    """The first target whose deadline is not before ``year`` (the last one after 2030)."""
    return next((t for t in TARGETS if year <= t.year), TARGETS[-1])


@dataclass(frozen=True)
class ReportSettings:
    authority: str = ""
    issuer: str = ""
    issuer_abbreviation: str = ""
    number: str = ""
    place: str = ""
    date: dt.date | None = None
    signer: str = ""
    signer_title: str = ""
    signing_for: str = ""
    recipients: tuple[str, ...] = DEFAULT_RECIPIENTS
    year: int | None = None
    target_percent: float | None = None
    target_year: int | None = None
    target_source: str = ""

    def target(self, year: int) -> Target:
        default = target_for(year)
        return Target(
            self.target_percent if self.target_percent is not None else default.percent,
            self.target_year or default.year,
            self.target_source or default.source,
        )

    @property
    def number_line(self) -> str:
        abbreviation = self.issuer_abbreviation or DOTS
        return f"Số: {self.number or DOTS}/BC-{abbreviation}"

    def date_line(self, province: str = "") -> str:
        place = self.place or province or DOTS
        if self.date is None:
            return f"{place}, ngày {DOTS} tháng {DOTS} năm {DOTS}"
        # Days and months under 10 take a leading zero in the date line (NĐ 30/2020, Phụ lục I).
        return f"{place}, ngày {self.date.day:02d} tháng {self.date.month:02d} năm {self.date.year}"


_TEXT_KEYS = {
    "authority",
    "issuer",
    "issuer_abbreviation",
    "number",
    "place",
    "signer",
    "signer_title",
    "signing_for",
    "target_source",
}


def load_settings(path: Path | None, **overrides: object) -> ReportSettings:
    """The settings of ``path`` (or the defaults), then ``overrides`` that are not None."""
    settings = ReportSettings()
    if path is not None:
        settings = _read(path)
    # Each field has its own type; the dataclass checks none of them, so Any is the honest type here.
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    return replace(settings, **given)


def _read(path: Path) -> ReportSettings:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such settings file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: not a YAML settings file ({str(exc).splitlines()[0]})") from None
    if data is None:
        return ReportSettings()
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: expected 'key: value' lines")
    known = {f.name for f in fields(ReportSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputFileError(f"{path}: unknown setting(s) {', '.join(map(str, unknown))} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        try:
            values[key] = _convert(key, value)
        except (TypeError, ValueError):
            raise InputFileError(f"{path}: {key}: '{value}' is not a valid value") from None
    return ReportSettings(**values)


def _convert(key: str, value: object) -> object:
    if key in _TEXT_KEYS:
        return str(value).strip()
    if key == "recipients":
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise TypeError(key)  # e.g. "Lưu: VT" unquoted in a [..] list reads as a mapping
        return tuple(str(v) for v in value)
    if key == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if key in ("year", "target_year"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(key)
        return int(value)
    if key == "target_percent":
        if not isinstance(value, int | float | str):
            raise TypeError(key)
        number = float(value)
        if not 0 < number <= 100:
            raise ValueError(key)
        return number
    raise TypeError(key)
