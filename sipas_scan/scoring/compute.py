"""Every index of every unit: the ALL row, then one per group of ``--by``.

How units combine into ALL is a setting (docs/formats.md):
``pooled`` (default) applies the formula to all respondents at once, exactly
as the Lạng Sơn scheme writes it; ``mean`` takes the plain mean of the sub-units'
indices (what the national figure appears to use), the sub-units being the
``--by`` groups, or villages when no ``--by`` is given. A group's own indices
are always pooled over its respondents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipas_scan.errors import BadArgsError
from sipas_scan.scoring.indices import (
    IndexValue,
    OptionShare,
    criterion_index,
    mean_of_units,
    mean_or_none,
    option_shares,
    other_questions,
    respondent_shares,
)
from sipas_scan.scoring.intervals import NO_INTERVAL, Interval, bootstrap_interval, publishable
from sipas_scan.scoring.records_in import RecordSet
from sipas_scan.scoring.units import ALL, Unit, all_unit, group_units
from sipas_scan.survey import IndexNode, Survey

COMBINE_METHODS = ("pooled", "mean")
DEFAULT_COMBINE = "pooled"
# Sub-units of --combine mean when no --by is given: the sampling unit.
DEFAULT_MEAN_UNIT = "village"


@dataclass(frozen=True)
class UnitScores:
    key: str
    label: str
    respondents: int
    # Index nodes (SIPAS, areas, factors) in hierarchy order, then criteria.
    indices: dict[str, IndexValue]
    intervals: dict[str, Interval]
    others: dict[str, list[OptionShare]] = field(default_factory=dict)

    @property
    def publishable(self) -> bool:
        return publishable(self.respondents)


@dataclass(frozen=True)
class Scores:
    survey: Survey
    combine: str
    by: str | None
    mean_unit: str | None  # the column whose units are averaged (combine = mean)
    units: list[UnitScores]

    @property
    def all(self) -> UnitScores:
        return self.units[0]

    @property
    def groups(self) -> list[UnitScores]:
        return self.units[1:]


def root_index(survey: Survey) -> IndexNode:
    """The survey's index tree; a survey without one cannot be scored or reported."""
    if survey.index is None:
        raise BadArgsError(f"survey '{survey.id}' defines no index: nothing to score")
    return survey.index


def index_nodes(survey: Survey) -> list[IndexNode]:
    return list(root_index(survey).walk())


def _score_unit(survey: Survey, unit: Unit) -> UnitScores:
    answers = [record.answers for record in unit.records]
    indices: dict[str, IndexValue] = {}
    intervals: dict[str, Interval] = {}
    for node in index_nodes(survey):
        shares = respondent_shares(survey, node, answers)
        indices[node.id] = IndexValue(mean_or_none(shares), len(shares))
        intervals[node.id] = bootstrap_interval([shares]) if shares else NO_INTERVAL
    for criterion in root_index(survey).all_criteria():
        indices[criterion] = criterion_index(survey, criterion, answers)
    others = {q.id: option_shares(survey, q.id, answers) for q in other_questions(survey)}
    return UnitScores(unit.key, unit.label, len(unit.records), indices, intervals, others)


def _mean_of_subunits(survey: Survey, pooled_all: UnitScores, subunits: list[Unit], scored: list[UnitScores]) -> UnitScores:
    """ALL as the mean of the sub-units' indices, its interval from a
    bootstrap within each sub-unit."""
    indices = {key: mean_of_units([s.indices[key] for s in scored]) for key in pooled_all.indices}
    intervals = {}
    for node in index_nodes(survey):
        strata = [respondent_shares(survey, node, [r.answers for r in unit.records]) for unit in subunits]
        intervals[node.id] = bootstrap_interval(strata, combine="mean") if any(strata) else NO_INTERVAL
    return UnitScores(ALL, pooled_all.label, pooled_all.respondents, indices, intervals, pooled_all.others)


def score(record_set: RecordSet, *, by: str | None = None, combine: str = DEFAULT_COMBINE) -> Scores:
    """The ALL unit first, then each group of ``by``."""
    if combine not in COMBINE_METHODS:
        raise BadArgsError(f"--combine {combine}: expected one of {', '.join(COMBINE_METHODS)}")
    survey = record_set.survey
    everyone = _score_unit(survey, all_unit(record_set.counted))
    groups = group_units(record_set, by) if by else []
    scored_groups = [_score_unit(survey, unit) for unit in groups]
    mean_unit = None
    if combine == "mean":
        mean_unit = by or DEFAULT_MEAN_UNIT
        subunits = groups if by else group_units(record_set, DEFAULT_MEAN_UNIT)
        scored_subunits = scored_groups if by else [_score_unit(survey, unit) for unit in subunits]
        everyone = _mean_of_subunits(survey, everyone, subunits, scored_subunits)
    return Scores(survey, combine, by, mean_unit, [everyone, *scored_groups])
