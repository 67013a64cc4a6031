"""Respondents: what each household answers and how it marks the paper.

Pure: a survey, a profile and a random generator in; a FilledForm out. The
truth of each field is what a careful person reading the paper would record:
the code marked, however it is marked (ticked, crossed, slashed, a blob in
the box, the box circled); a cancelled mark (box filled, or only half filled
in an unclear cancel) does not count, the other code marked does; two marks
on a single-choice question are both kept, as ``1;3``, and listed as an
anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from sipas_scan.simulate.comments import COMMENTS
from sipas_scan.simulate.profiles import RespondentProfile
from sipas_scan.survey import Question, Survey
from sipas_scan.survey.model import join_codes

# What the respondent means by a mark: "mark" an answer the usual way (the
# pen's hand decides: tick, cross, slash, blob or loop), "fill" a box to
# cancel it, "half-fill" a cancel given up half way, "circle" an answer by
# someone who otherwise does not.
MarkStyle = Literal["mark", "fill", "half-fill", "circle"]


@dataclass(frozen=True)
class Mark:
    field_id: str
    code: str
    style: MarkStyle


@dataclass(frozen=True)
class Anomaly:
    kind: str  # multiple | over-max | cancelled | skip-rule | circled
    field_id: str
    detail: str = ""
    code: str = ""  # cancelled: the code filled in
    half: bool = False  # cancelled: the box only half filled, an unclear cancel


@dataclass
class FilledForm:
    marks: list[Mark] = field(default_factory=list)
    comments: dict[str, str] = field(default_factory=dict)
    truth: dict[str, str] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)


def _filter_targets(survey: Survey) -> set[str]:
    return {q.applies_if.question for q in survey.fields() if q.applies_if}


def _pick(rng: np.random.Generator, options: tuple[str, ...], weights: list[float] | None = None) -> str:
    if weights is None:
        return str(options[rng.integers(len(options))])
    p = np.asarray(weights, dtype=float)
    return str(options[rng.choice(len(options), p=p / p.sum())])


def _rating(rng: np.random.Generator, question: Question, satisfied: float) -> str:
    """A satisfaction-scale answer: positive codes with chance ``satisfied``."""
    codes = question.codes
    positive = [c for c in codes if c in question.positive]
    others = [c for c in codes if c not in question.positive]
    if rng.random() < satisfied or not others:
        # The higher positive code is a little rarer than the lower one.
        return _pick(rng, tuple(positive), [0.6, 0.4] if len(positive) == 2 else None)
    # Among the rest, the middle ('neutral') is the most common complaint.
    weights = [1.0 + i for i in range(len(others))]
    return _pick(rng, tuple(others), weights)


def fill_form(survey: Survey, profile: RespondentProfile, rng: np.random.Generator) -> FilledForm:
    """Answers of one respondent, honouring the skip rules and the maximums
    except where the profile makes them break them on purpose."""
    form = FilledForm()
    satisfied = float(np.clip(rng.beta(8 * profile.satisfied_rate, 8 * (1 - profile.satisfied_rate)), 0, 1))
    targets = _filter_targets(survey)
    violate_skip = rng.random() < profile.skip_violation_rate
    answers: dict[str, list[str]] = {}

    for question in survey.fields():
        if question.applies_if and not question.applies_if.holds(";".join(answers.get(question.applies_if.question, []))):
            if violate_skip:
                answers[question.id] = [_rating(rng, question, satisfied) if question.positive else _pick(rng, question.codes)]
                form.anomalies.append(
                    Anomaly("skip-rule", question.id, f"answered although {question.applies_if.question} says it does not apply")
                )
            continue
        if question.kind == "text":
            if rng.random() < profile.comment_rate:
                count = 1 + int(rng.random() < 0.4)
                chosen = rng.choice(len(COMMENTS), size=count, replace=False)
                form.comments[question.id] = " ".join(COMMENTS[i] for i in chosen)
            continue
        if rng.random() < profile.blank_rate:
            continue
        if question.kind == "multi":
            limit = question.max_choices or len(question.options)
            k = int(rng.integers(1, min(limit, 3) + 1))
            answers[question.id] = [str(c) for c in rng.choice(question.codes, size=k, replace=False)]
        elif question.id in targets:
            enabling = {
                c for q in survey.fields() if q.applies_if and q.applies_if.question == question.id for c in q.applies_if.codes
            }
            inside = [c for c in question.codes if c in enabling]
            outside = [c for c in question.codes if c not in enabling]
            pool = inside if (rng.random() < profile.feedback_rate or not outside) else outside
            answers[question.id] = [_pick(rng, tuple(pool))]
        elif question.positive:
            answers[question.id] = [_rating(rng, question, satisfied)]
        else:
            answers[question.id] = [_pick(rng, question.codes)]

    _break_rules(survey, profile, rng, answers, form)
    for field_id, codes in answers.items():
        for code in codes:
            form.marks.append(Mark(field_id, code, "mark"))
    form.marks = _apply_special_marks(form)
    for field_id, codes in answers.items():
        form.truth[field_id] = join_codes(codes)
    form.truth.update(form.comments)
    return form


def _answered_singles(survey: Survey, answers: dict[str, list[str]]) -> list[Question]:
    return [q for q in survey.fields() if q.kind == "single" and len(answers.get(q.id, [])) == 1 and len(q.options) > 1]


def _break_rules(
    survey: Survey, profile: RespondentProfile, rng: np.random.Generator, answers: dict[str, list[str]], form: FilledForm
) -> None:
    """The deliberate anomalies: each touches a different question."""
    used: set[str] = set()

    def choose(candidates: list[Question]) -> Question | None:
        free = [q for q in candidates if q.id not in used]
        if not free:
            return None
        chosen = free[rng.integers(len(free))]
        used.add(chosen.id)
        return chosen

    if rng.random() < profile.double_mark_rate and (q := choose(_answered_singles(survey, answers))):
        extra = _pick(rng, tuple(c for c in q.codes if c not in answers[q.id]))
        answers[q.id].append(extra)
        form.anomalies.append(Anomaly("multiple", q.id, f"two marks: {join_codes(answers[q.id])}"))
    if rng.random() < profile.over_max_rate:
        multis = [q for q in survey.fields() if q.kind == "multi" and q.max_choices is not None and q.max_choices < len(q.options)]
        if (q := choose(multis)) and q.max_choices is not None:
            k = min(len(q.options), q.max_choices + 1 + int(rng.integers(2)))
            answers[q.id] = [str(c) for c in rng.choice(q.codes, size=k, replace=False)]
            form.anomalies.append(Anomaly("over-max", q.id, f"{k} marks, at most {q.max_choices}"))
    if rng.random() < profile.cancel_rate and (q := choose(_answered_singles(survey, answers))):
        cancelled = answers[q.id][0]
        answers[q.id] = [_pick(rng, tuple(c for c in q.codes if c != cancelled))]
        form.anomalies.append(
            Anomaly("cancelled", q.id, f"{cancelled} filled in (cancelled), {answers[q.id][0]} marked", code=cancelled)
        )
    if rng.random() < profile.circle_rate and (q := choose(_answered_singles(survey, answers))):
        form.anomalies.append(Anomaly("circled", q.id, f"{answers[q.id][0]} circled instead of ticked"))
    # Drawn only where the profile has it, so the other profiles' respondents
    # answer as they always did for a seed.
    if (
        profile.unclear_cancel_rate
        and rng.random() < profile.unclear_cancel_rate
        and (q := choose(_answered_singles(survey, answers)))
    ):
        cancelled = answers[q.id][0]
        answers[q.id] = [_pick(rng, tuple(c for c in q.codes if c != cancelled))]
        form.anomalies.append(
            Anomaly(
                "cancelled", q.id, f"{cancelled} half filled (unclear cancel), {answers[q.id][0]} marked", code=cancelled, half=True
            )
        )


def _apply_special_marks(form: FilledForm) -> list[Mark]:
    """Turn the anomalies into the marks that show them on paper."""
    marks = list(form.marks)
    for anomaly in form.anomalies:
        if anomaly.kind == "cancelled":
            marks.append(Mark(anomaly.field_id, anomaly.code, "half-fill" if anomaly.half else "fill"))
        elif anomaly.kind == "circled":
            marks = [Mark(m.field_id, m.code, "circle") if m.field_id == anomaly.field_id else m for m in marks]
    return marks


def circling_by_habit(form: FilledForm) -> FilledForm:
    """The form of a respondent who circles every answer: a circled answer
    is then just how this person answers, not an anomaly."""
    return replace(
        form,
        marks=[replace(m, style="mark") if m.style == "circle" else m for m in form.marks],
        anomalies=[a for a in form.anomalies if a.kind != "circled"],
    )
