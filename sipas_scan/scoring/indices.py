"""The SIPAS formulas (Lạng Sơn scheme, section 5.2; docs/formats.md), as pure functions.

For respondent i and an index node (SIPAS, an area, a factor):
a_i = the node's criteria that applied to i (a filter such as "c5_* only when
a5 = 1" comes from the survey definition), b_i = those answered with a
positive code (4 or 5). A blank, or a spoiled answer (two codes on a
single-choice question), counts in a_i but not in b_i.

    index = (1/n) * sum_i (b_i / a_i) * 100

over the n respondents to whom the node applied and who answered at least one
of its criteria ("n: the number of people who answered the satisfaction
questions", Lạng Sơn scheme): someone who left the whole block blank gave no rating
and is not counted as 0 %.

Answers arrive as the raw records-CSV strings, keyed by question id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sipas_scan.survey import IndexNode, Question, Survey

Answers = Mapping[str, str]


@dataclass(frozen=True)
class IndexValue:
    """A percentage (None when nobody was counted) and how many were counted."""

    value: float | None
    n: int


@dataclass(frozen=True)
class OptionShare:
    """One "other index": the share choosing ``code`` among those who answered."""

    question: str
    code: str
    label: str
    value: float | None
    n: int


def valid_codes(question: Question, raw: str) -> tuple[str, ...]:
    """The codes of an answer, or () when blank or spoiled (two codes on a
    single-choice question, more than the maximum on a multiple-choice one)."""
    if not raw:
        return ()
    codes = tuple(code.strip() for code in raw.split(";") if code.strip())
    if question.kind == "single" and len(codes) > 1:
        return ()
    if question.kind == "multi" and question.max_choices is not None and len(codes) > question.max_choices:
        return ()
    return codes


def applies(survey: Survey, question_id: str, answers: Answers) -> bool:
    """Whether the respondent had to answer ``question_id``: its filter holds,
    and so does the filter of the question it depends on (B18 hangs on B17,
    which hangs on B12 in the national form)."""
    condition = survey.field(question_id).applies_if
    if condition is None:
        return True
    if not applies(survey, condition.question, answers):
        return False
    filter_question = survey.field(condition.question)
    return condition.holds(";".join(valid_codes(filter_question, answers.get(condition.question, ""))))


def _positive(question: Question, codes: tuple[str, ...]) -> bool:
    return bool(codes) and codes[0] in question.positive


@dataclass(frozen=True)
class Tally:
    """One respondent against one node: a_i, how many of them were answered, b_i."""

    applicable: int
    answered: int
    positive: int

    @property
    def counted(self) -> bool:
        return self.answered > 0

    @property
    def share(self) -> float:
        return 100.0 * self.positive / self.applicable


def tally(survey: Survey, criteria: Sequence[str], answers: Answers) -> Tally:
    applicable = answered = positive = 0
    for criterion in criteria:
        if not applies(survey, criterion, answers):
            continue
        question = survey.field(criterion)
        codes = valid_codes(question, answers.get(criterion, ""))
        applicable += 1
        answered += bool(codes)
        positive += _positive(question, codes)
    return Tally(applicable, answered, positive)


def respondent_shares(survey: Survey, node: IndexNode, respondents: Sequence[Answers]) -> list[float]:
    """b_i / a_i * 100 for every respondent counted in ``node``, in input order."""
    criteria = node.all_criteria()
    tallies = (tally(survey, criteria, answers) for answers in respondents)
    return [t.share for t in tallies if t.counted]


def mean_or_none(values: Sequence[float]) -> float | None:
    # fsum is exactly rounded, so the order of the records cannot move the last digit.
    return math.fsum(values) / len(values) if values else None


def node_index(survey: Survey, node: IndexNode, respondents: Sequence[Answers]) -> IndexValue:
    """SIPAS, an area or a factor index, pooled over ``respondents``."""
    shares = respondent_shares(survey, node, respondents)
    return IndexValue(mean_or_none(shares), len(shares))


def criterion_index(survey: Survey, criterion: str, respondents: Sequence[Answers]) -> IndexValue:
    """Share answering positively among those who had to answer and did."""
    question = survey.field(criterion)
    answered = positive = 0
    for answers in respondents:
        if not applies(survey, criterion, answers):
            continue
        codes = valid_codes(question, answers.get(criterion, ""))
        if codes:
            answered += 1
            positive += _positive(question, codes)
    return IndexValue(100.0 * positive / answered if answered else None, answered)


def option_shares(survey: Survey, question_id: str, respondents: Sequence[Answers]) -> list[OptionShare]:
    """Every option's share among respondents who had to answer and did.
    For a multiple-choice question the shares add up to more than 100."""
    question = survey.field(question_id)
    counts = dict.fromkeys(question.codes, 0)
    answered = 0
    for answers in respondents:
        if not applies(survey, question_id, answers):
            continue
        codes = valid_codes(question, answers.get(question_id, ""))
        if not codes:
            continue
        answered += 1
        for code in set(codes):
            counts[code] += 1
    return [
        OptionShare(question_id, option.code, option.label, 100.0 * counts[option.code] / answered if answered else None, answered)
        for option in question.options
    ]


def other_questions(survey: Survey) -> list[Question]:
    """Choice questions that are not criteria of the index: their options'
    shares are the "other indices"."""
    criteria = set(survey.index.all_criteria()) if survey.index else set()
    return [q for q in survey.fields() if q.kind != "text" and q.id not in criteria]


def mean_of_units(values: Sequence[IndexValue]) -> IndexValue:
    """A higher unit as the plain mean of its sub-units' indices (each unit
    weighs the same whatever its size); n is the respondents beneath it."""
    present = [v.value for v in values if v.value is not None]
    return IndexValue(mean_or_none(present), sum(v.n for v in values))
