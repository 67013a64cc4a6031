"""Records CSV (docs/formats.md) and the flags CSV, from the store.

Review decisions override machine readings; nothing else changes a value.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sipas_scan.errors import BadArgsError
from sipas_scan.records import write_records
from sipas_scan.store.db import Store
from sipas_scan.store.decisions import is_answer_key
from sipas_scan.survey import find_survey

# blocking: 1 holds the form for review; 0 records how an answer was given
# (a cancellation done as the form says, a circled box) or a harmless rescan.
FLAG_COLUMNS = ("survey", "form_id", "field", "reason", "confidence", "detail", "source", "page", "image", "blocking")


def export_records(db_path: Path, out: Path, survey_id: str | None = None) -> int:
    """Write the records CSV; returns the number of forms written."""
    with Store(db_path) as store:
        surveys = [r[0] for r in store.db.execute("SELECT DISTINCT survey FROM forms ORDER BY survey")]
        if survey_id:
            surveys = [s for s in surveys if s == survey_id]
        if len(surveys) > 1:
            raise BadArgsError(f"the database holds several surveys ({', '.join(surveys)}): choose one with --survey")
        if not surveys:
            return write_records(out, (), ())
        survey = find_survey(surveys[0])
        field_ids = survey.field_ids()
        answers: dict[str, dict[str, str]] = {}
        for serial, field_id, value in store.db.execute(
                "SELECT serial, field_id, value FROM answers WHERE survey = ?", (survey.id,)):
            answers.setdefault(serial, {})[field_id] = value
        for (decided_survey, serial, key), value in store.decisions().items():
            if decided_survey == survey.id and is_answer_key(key):
                answers.setdefault(serial, {})[key] = value
        rows = store.db.execute(
            "SELECT serial, household_code, province, district, commune, village, status FROM forms"
            " WHERE survey = ? ORDER BY serial", (survey.id,)).fetchall()
        return write_records(out, field_ids,
                             ([*row, *(answers.get(row[0], {}).get(fid, "") for fid in field_ids)] for row in rows))


def export_flags(db_path: Path, out: Path) -> int:
    with Store(db_path) as store:
        rows = store.db.execute(
            "SELECT f.survey, f.serial, f.field_id, f.reason, f.confidence, f.detail, s.path, p.page_index + 1,"
            " p.image_path, f.blocking FROM flags f LEFT JOIN pages p ON p.id = f.page_id"
            " LEFT JOIN sources s ON s.id = p.source_id ORDER BY f.survey, f.serial, f.field_id, f.reason").fetchall()
        quarantined = store.db.execute(
            "SELECT p.survey, p.serial, '', 'quarantined:' || p.reason, 0, p.detail, s.path, p.page_index + 1,"
            " p.image_path, 1 FROM pages p JOIN sources s ON s.id = p.source_id WHERE p.status = 'quarantined'"
            " ORDER BY s.path, p.page_index").fetchall()
        with out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(FLAG_COLUMNS)
            writer.writerows(rows)
            writer.writerows(quarantined)
        return len(rows) + len(quarantined)
