"""What blind re-entry (review/qc.py) reads and writes: the samples drawn,
the forms in them and the answers entered again."""

from __future__ import annotations

from sipas_scan.records import FormStatus
from sipas_scan.store.db import Store, now


def accepted_forms_not_sampled(store: Store) -> list[tuple[str, str]]:
    """(survey, serial) of every accepted form no sample holds yet, in order."""
    return [
        tuple(r)
        for r in store.db.query(
            "SELECT survey, serial FROM forms WHERE status = :status AND (survey, serial) NOT IN"
            " (SELECT survey, serial FROM qc_forms) ORDER BY survey, serial",
            status=str(FormStatus.ACCEPTED),
        )
    ]


def add_sample(store: Store, supervisor: str, seed: int, forms: list[tuple[str, str]]) -> int:
    """Record a sample drawn with ``seed`` and the (survey, serial) of its forms; returns its id."""
    with store.transaction() as db:
        sample_id = db.query(
            "INSERT INTO qc_samples (drawn_by, at, seed) VALUES (:by, :at, :seed) RETURNING id", by=supervisor, at=now(), seed=seed
        ).scalar_one()
        db.many(
            "INSERT INTO qc_forms (sample_id, survey, serial) VALUES (:sample_id, :survey, :serial)",
            [{"sample_id": sample_id, "survey": survey, "serial": serial} for survey, serial in forms],
        )
    return sample_id


def sampled_forms(store: Store) -> list[tuple[int, str, str]]:
    """(sample id, survey, serial) of every form drawn, in order."""
    return store.db.rows("SELECT sample_id, survey, serial FROM qc_forms ORDER BY sample_id, survey, serial")


def in_sample(store: Store, sample_id: int, survey: str, serial: str) -> bool:
    return (
        store.db.query(
            "SELECT 1 FROM qc_forms WHERE sample_id = :sample_id AND survey = :survey AND serial = :serial",
            sample_id=sample_id,
            survey=survey,
            serial=serial,
        ).first()
        is not None
    )


def entered(store: Store) -> set[tuple[int, str, str, str]]:
    """(sample id, survey, serial, field id) of every answer entered again."""
    return {tuple(r) for r in store.db.query("SELECT sample_id, survey, serial, field_id FROM qc_entries")}


def add_entry(
    store: Store, sample_id: int, survey: str, serial: str, field_id: str, value: str, machine_value: str, reviewer: str
) -> None:
    """An answer entered again beside the machine's; a second entry of it is ignored."""
    with store.transaction() as db:
        db.query(
            "INSERT INTO qc_entries (sample_id, survey, serial, field_id, value, machine_value, reviewer, at)"
            " VALUES (:sample_id, :survey, :serial, :field_id, :value, :machine_value, :reviewer, :at)"
            " ON CONFLICT DO NOTHING",
            sample_id=sample_id,
            survey=survey,
            serial=serial,
            field_id=field_id,
            value=value,
            machine_value=machine_value,
            reviewer=reviewer,
            at=now(),
        )


def counts(store: Store) -> tuple[int, int, int]:
    """(forms sampled, answers entered again, entries that disagree with the machine)."""
    forms = store.db.query("SELECT count(*) FROM qc_forms").scalar_one()
    entries, disagreements = store.db.query(
        "SELECT count(*), coalesce(sum(CASE WHEN value != machine_value THEN 1 ELSE 0 END), 0) FROM qc_entries"
    ).one()
    return forms, entries, disagreements
