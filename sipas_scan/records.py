"""The records CSV of docs/formats.md: one row per form.

Written by ``export`` (what was read) and by ``simulate`` (the truth), so
both come from here and cannot drift apart.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path

PREFIX = ("form_id", "household_code", "province", "district", "commune", "village", "status")


class FormStatus(StrEnum):
    """A form's status: stored, exported and read back as its value."""

    ACCEPTED = "accepted"  # read with no doubt left
    NEEDS_REVIEW = "needs_review"  # a doubt waits for a person
    RESOLVED = "resolved"  # every doubt settled by a reviewer
    REJECTED = "rejected"  # a reviewer ruled the form out


STATUSES = tuple(FormStatus)
# Columns after the fields (docs/formats.md): the fields whose value a reviewer
# set or confirmed, and the form-level notes (identified-by-hand), each
# ';'-joined. A file without them (older exports, simulated truth) is read
# as "nothing reviewed, no notes".
REVIEWED = "reviewed"
FORM_FLAGS = "form_flags"
SUFFIX = (REVIEWED, FORM_FLAGS)


def record_header(field_ids: Sequence[str], suffix: Sequence[str] = ()) -> list[str]:
    """The PREFIX columns, one per field, then the ``suffix`` columns."""
    return [*PREFIX, *field_ids, *suffix]


def write_records(path: Path, field_ids: Sequence[str], rows: Iterable[Sequence[str]], suffix: Sequence[str] = ()) -> int:
    """Header (``record_header``), then ``rows``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(record_header(field_ids, suffix))
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
