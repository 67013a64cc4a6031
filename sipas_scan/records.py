"""The records CSV of docs/formats.md: one row per form.

Written by ``export`` (what was read) and by ``simulate`` (the truth), so
both come from here and cannot drift apart.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

PREFIX = ("form_id", "household_code", "province", "district", "commune", "village", "status")
STATUSES = ("accepted", "needs_review", "resolved", "rejected")


def write_records(path: Path, field_ids: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Header, then ``rows`` (the PREFIX columns followed by one value per field)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*PREFIX, *field_ids])
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
