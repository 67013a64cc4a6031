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

from sipas_scan.layout import survey_and_layout
from sipas_scan.store import qc as stored
from sipas_scan.store.db import Store
from sipas_scan.store.queue import answer, answers_of

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
    candidates = stored.accepted_forms_not_sampled(store)
    chosen = random.Random(seed).sample(candidates, min(forms, len(candidates)))
    return stored.add_sample(store, supervisor, seed, sorted(chosen))


def next_task(store: Store, after: str | None = None) -> QcTask | None:
    """The first choice answer of a sampled form that nobody has re-entered."""
    entered = stored.entered(store)
    for sample_id, survey_id, serial in stored.sampled_forms(store):
        survey, _ = survey_and_layout(survey_id)
        answers = {field_id: page_id for field_id, (_, page_id) in answers_of(store, survey_id, serial).items()}
        for question in survey.fields():
            page_id = answers.get(question.id)
            if question.kind == "text" or page_id is None:
                continue
            task = QcTask(sample_id, survey_id, serial, question.id, page_id)
            if (sample_id, survey_id, serial, question.id) not in entered and task.ident != after:
                return task
    return None


def task_of(store: Store, sample_id: int, survey: str, serial: str, field_id: str) -> QcTask:
    """A task of a drawn sample; LookupError if the form is not in that sample
    or has no such answer."""
    if not stored.in_sample(store, sample_id, survey, serial):
        raise LookupError(f"{serial} is not in sample {sample_id}")
    found = answer(store, survey, serial, field_id)
    if found is None or found[1] is None:
        raise LookupError(f"{serial} has no answer {field_id}")
    return QcTask(sample_id, survey, serial, field_id, found[1])


def record_entry(store: Store, task: QcTask, value: str, reviewer: str) -> None:
    found = answer(store, task.survey, task.serial, task.field_id)
    stored.add_entry(store, task.sample_id, task.survey, task.serial, task.field_id, value, found[0] if found else "", reviewer)


def summary(store: Store) -> QcSummary:
    forms, entered, disagreements = stored.counts(store)
    low, high = wilson_interval(disagreements, entered)
    return QcSummary(forms, entered, disagreements, disagreements / entered if entered else 0.0, low, high)
