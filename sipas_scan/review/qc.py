"""Blind re-entry of machine-accepted forms: the measured residual error.

A supervisor draws a random sample of accepted forms; reviewers enter every
choice answer again from the image without seeing the machine's reading.
The share of answers where they disagree, with a Wilson 95 % interval, is
the error rate of the automatic reading that a province can publish.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sipas_scan.reading.page import survey_and_layout
from sipas_scan.store.db import Store, now

Z_95 = 1.959964


@dataclass(frozen=True)
class QcTask:
    sample_id: int
    survey: str
    serial: str
    field_id: str
    page_id: int

    @property
    def ident(self) -> str:
        return f"{self.sample_id}|{self.survey}|{self.serial}|{self.field_id}"


@dataclass(frozen=True)
class QcSummary:
    forms: int
    entered: int
    disagreements: int
    rate: float
    low: float
    high: float


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (0..1); (0, 1) without trials."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def draw_sample(store: Store, forms: int, supervisor: str, seed: int | None = None) -> int:
    """A simple random sample of accepted forms not sampled before; returns its id."""
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    candidates = [tuple(r) for r in store.db.execute(
        "SELECT survey, serial FROM forms WHERE status = 'accepted' AND (survey, serial) NOT IN"
        " (SELECT survey, serial FROM qc_forms) ORDER BY survey, serial")]
    chosen = random.Random(seed).sample(candidates, min(forms, len(candidates)))
    with store.transaction() as db:
        sample_id = db.execute("INSERT INTO qc_samples (drawn_by, at, seed) VALUES (?, ?, ?)",
                               (supervisor, now(), seed)).lastrowid
        db.executemany("INSERT INTO qc_forms (sample_id, survey, serial) VALUES (?, ?, ?)",
                       [(sample_id, s, serial) for s, serial in sorted(chosen)])
    return sample_id


def next_task(store: Store, after: str | None = None) -> QcTask | None:
    """The first choice answer of a sampled form that nobody has re-entered."""
    entered = {tuple(r) for r in store.db.execute("SELECT sample_id, survey, serial, field_id FROM qc_entries")}
    for sample_id, survey_id, serial in store.db.execute(
            "SELECT sample_id, survey, serial FROM qc_forms ORDER BY sample_id, survey, serial").fetchall():
        survey, _ = survey_and_layout(survey_id)
        answers = dict(store.db.execute("SELECT field_id, page_id FROM answers WHERE survey = ? AND serial = ?",
                                        (survey_id, serial)))
        for question in survey.fields():
            if question.kind == "text" or answers.get(question.id) is None:
                continue
            task = QcTask(sample_id, survey_id, serial, question.id, answers[question.id])
            if (sample_id, survey_id, serial, question.id) not in entered and task.ident != after:
                return task
    return None


def task_of(store: Store, sample_id: int, survey: str, serial: str, field_id: str) -> QcTask:
    """A task of a drawn sample; LookupError if the form is not in that sample
    or has no such answer."""
    if not store.db.execute("SELECT 1 FROM qc_forms WHERE sample_id = ? AND survey = ? AND serial = ?",
                            (sample_id, survey, serial)).fetchone():
        raise LookupError(f"{serial} is not in sample {sample_id}")
    row = store.db.execute("SELECT page_id FROM answers WHERE survey = ? AND serial = ? AND field_id = ?",
                           (survey, serial, field_id)).fetchone()
    if row is None:
        raise LookupError(f"{serial} has no answer {field_id}")
    return QcTask(sample_id, survey, serial, field_id, row[0])


def record_entry(store: Store, task: QcTask, value: str, reviewer: str) -> None:
    machine = store.db.execute("SELECT value FROM answers WHERE survey = ? AND serial = ? AND field_id = ?",
                               (task.survey, task.serial, task.field_id)).fetchone()
    with store.transaction() as db:
        db.execute("INSERT OR IGNORE INTO qc_entries (sample_id, survey, serial, field_id, value, machine_value, reviewer, at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (task.sample_id, task.survey, task.serial, task.field_id, value, machine[0] if machine else "",
                    reviewer, now()))


def summary(store: Store) -> QcSummary:
    forms = store.db.execute("SELECT count(*) FROM qc_forms").fetchone()[0]
    entered, disagreements = store.db.execute(
        "SELECT count(*), coalesce(sum(value != machine_value), 0) FROM qc_entries").fetchone()
    low, high = wilson_interval(disagreements, entered)
    return QcSummary(forms, entered, disagreements, disagreements / entered if entered else 0.0, low, high)
