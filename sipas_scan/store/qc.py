"""What blind re-entry (review/qc.py) reads and writes: the samples drawn,
the forms in them and the answers entered again."""

from __future__ import annotations

from sipas_scan.records import FormStatus
from sipas_scan.store.db import Store, now


def accepted_forms_not_sampled(store: Store) -> list[tuple[str, str]]:
    """(survey, serial) of every accepted form no sample holds yet, in order."""
    return [tuple(r) for r in store.db.execute(
        "SELECT survey, serial FROM forms WHERE status = ? AND (survey, serial) NOT IN"
        " (SELECT survey, serial FROM qc_forms) ORDER BY survey, serial", (FormStatus.ACCEPTED,))]


def add_sample(store: Store, supervisor: str, seed: int, forms: list[tuple[str, str]]) -> int:
    """Record a sample drawn with ``seed`` and the (survey, serial) of its forms; returns its id."""
    with store.transaction() as db:
        sample_id = db.execute("INSERT INTO qc_samples (drawn_by, at, seed) VALUES (?, ?, ?)",
                               (supervisor, now(), seed)).lastrowid
        assert sample_id is not None  # an INSERT always gives its row id
        db.executemany("INSERT INTO qc_forms (sample_id, survey, serial) VALUES (?, ?, ?)",
                       [(sample_id, survey, serial) for survey, serial in forms])
    return sample_id


def sampled_forms(store: Store) -> list[tuple[int, str, str]]:
    """(sample id, survey, serial) of every form drawn, in order."""
    return store.db.execute("SELECT sample_id, survey, serial FROM qc_forms ORDER BY sample_id, survey, serial").fetchall()


def in_sample(store: Store, sample_id: int, survey: str, serial: str) -> bool:
    return store.db.execute("SELECT 1 FROM qc_forms WHERE sample_id = ? AND survey = ? AND serial = ?",
                            (sample_id, survey, serial)).fetchone() is not None


def entered(store: Store) -> set[tuple[int, str, str, str]]:
    """(sample id, survey, serial, field id) of every answer entered again."""
    return {tuple(r) for r in store.db.execute("SELECT sample_id, survey, serial, field_id FROM qc_entries")}


def add_entry(store: Store, sample_id: int, survey: str, serial: str, field_id: str, value: str,
              machine_value: str, reviewer: str) -> None:
    """An answer entered again beside the machine's; a second entry of it is ignored."""
    with store.transaction() as db:
        db.execute("INSERT OR IGNORE INTO qc_entries (sample_id, survey, serial, field_id, value, machine_value, reviewer, at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (sample_id, survey, serial, field_id, value, machine_value, reviewer, now()))


def counts(store: Store) -> tuple[int, int, int]:
    """(forms sampled, answers entered again, entries that disagree with the machine)."""
    forms = store.db.execute("SELECT count(*) FROM qc_forms").fetchone()[0]
    entries, disagreements = store.db.execute(
        "SELECT count(*), coalesce(sum(value != machine_value), 0) FROM qc_entries").fetchone()
    return forms, entries, disagreements
