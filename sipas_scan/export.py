"""Records CSV (docs/formats.md) and the flags CSV, from the store.

Review decisions override machine readings; nothing else changes a value.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from sipas_scan.assembly.decisions import is_answer_key
from sipas_scan.errors import BadArgsError
from sipas_scan.records import SUFFIX, write_records
from sipas_scan.store import results
from sipas_scan.store.db import Store
from sipas_scan.survey import Survey, find_survey

# blocking: 1 holds the form for review; 0 records how an answer was given
# (a cancellation done as the form says, a circled box) or a harmless rescan.
FLAG_COLUMNS = ("survey", "form_id", "field", "reason", "confidence", "detail", "source", "page", "image", "blocking")


def export_survey(store: Store, survey_id: str | None = None) -> Survey | None:
    """The survey whose forms are exported: ``survey_id``, or the only one in the database."""
    surveys = store.surveys()
    if survey_id:
        surveys = [s for s in surveys if s == survey_id]
    if len(surveys) > 1:
        raise BadArgsError(f"the database holds several surveys ({', '.join(surveys)}): choose one with --survey")
    return find_survey(surveys[0]) if surveys else None


def record_rows(store: Store, survey: Survey) -> Iterator[list[str]]:
    """One records row per form of ``survey``: the PREFIX columns, a value per
    field (a review decision over the machine's reading), then SUFFIX."""
    field_ids = survey.field_ids()
    answers: dict[str, dict[str, str]] = {}
    for serial, field_id, value in results.machine_answers(store, survey.id):
        answers.setdefault(serial, {})[field_id] = value
    reviewed: dict[str, set[str]] = {}
    for (decided_survey, serial, key), value in store.decisions().items():
        if decided_survey == survey.id and is_answer_key(key):
            answers.setdefault(serial, {})[key] = value
            reviewed.setdefault(serial, set()).add(key)
    form_flags: dict[str, set[str]] = {}
    for serial, reason in results.form_flag_reasons(store, survey.id):
        form_flags.setdefault(serial, set()).add(reason)
    for row in results.form_rows(store, survey.id):
        yield [
            *row,
            *(answers.get(row[0], {}).get(fid, "") for fid in field_ids),
            ";".join(fid for fid in field_ids if fid in reviewed.get(row[0], ())),
            ";".join(sorted(form_flags.get(row[0], ()))),
        ]


def export_records(db_path: Path | str, out: Path, survey_id: str | None = None) -> int:
    """Write the records CSV; returns the number of forms written."""
    with Store(db_path) as store:
        survey = export_survey(store, survey_id)
        if survey is None:
            return write_records(out, (), ())
        return write_records(out, survey.field_ids(), record_rows(store, survey), SUFFIX)


def flag_rows(store: Store) -> list[tuple]:
    """The flags CSV's rows: the forms' flags, the quarantined pages, and one
    row per file scan could not read (and has not read since)."""
    unread = [("", "", "", f"not-read:{reason}", 0, detail, path, "", "", 1) for path, reason, detail in store.unread_files()]
    return [*results.flag_rows(store), *results.quarantined_page_rows(store), *unread]


def export_flags(db_path: Path | str, out: Path) -> int:
    with Store(db_path) as store:
        rows = flag_rows(store)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FLAG_COLUMNS)
        writer.writerows(rows)
    return len(rows)
