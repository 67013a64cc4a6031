"""Units: the ALL row and the groups of ``--by`` (a place column or a question)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sipas_scan.errors import BadArgsError
from sipas_scan.scoring.records_in import Record, RecordSet

ALL = "ALL"
# The unit of records whose --by column is empty (e.g. a1 left blank).
BLANK_UNIT = "(trống)"


@dataclass(frozen=True)
class Unit:
    """``key`` goes into indices.csv (the column's value); ``label`` into the report."""

    key: str
    label: str
    records: list[Record]


def _natural(key: str) -> tuple:
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def check_by_column(record_set: RecordSet, by: str) -> None:
    survey = record_set.survey
    if by not in record_set.header:
        raise BadArgsError(f"--by {by}: no such column in {record_set.path}")
    if by in survey.field_ids() and survey.field(by).kind != "single":
        raise BadArgsError(f"--by {by}: only a single-choice question or a place column can group respondents")


def group_units(record_set: RecordSet, by: str) -> list[Unit]:
    """One unit per distinct value of ``by``, in natural order; labels of a
    question's codes come from the survey ("1 – Cấp tỉnh ...")."""
    check_by_column(record_set, by)
    survey = record_set.survey
    question = survey.field(by) if by in survey.field_ids() else None
    labels = {option.code: option.label for option in question.options} if question else {}
    groups: dict[str, list[Record]] = {}
    for record in record_set.counted:
        value = record.value(by).strip()
        if question and ";" in value:
            value = ""  # a spoiled answer says nothing about the group
        groups.setdefault(value or BLANK_UNIT, []).append(record)
    units = []
    for key in sorted(groups, key=_natural):
        label = f"{key} – {labels[key]}" if key in labels else key
        units.append(Unit(key, label, groups[key]))
    return units


def all_unit(records: Sequence[Record]) -> Unit:
    return Unit(ALL, "Toàn bộ", list(records))
