"""How the report writes numbers, intervals, index nodes and unit levels
(Vietnamese style: decimal comma, thousands dot, '–' for no value)."""

from __future__ import annotations

from sipas_scan.scoring.intervals import Interval
from sipas_scan.survey import IndexNode, Survey

BY_LABELS = {"province": "tỉnh", "district": "huyện", "commune": "xã", "village": "thôn"}


def pct(value: float | None, digits: int = 2, *, signed: bool = False) -> str:
    """Vietnamese style: decimal comma, '–' when there is no value; ``signed``
    writes a change with its sign (+1,25)."""
    return "–" if value is None else f"{value:{'+' if signed else ''}.{digits}f}".replace(".", ",")


def interval_text(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return "–"
    return f"{pct(interval.low)} – {pct(interval.high)}"


def count(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def node_label(node: IndexNode) -> str:
    return f"{node.id}. {node.label}"


def criterion_label(survey: Survey, criterion: str) -> str:
    """The criterion as the form numbers it ("4.4"), never its internal id."""
    return survey.field(criterion).label


def criterion_text(survey: Survey, criterion: str) -> str:
    """ "4.4. Kết quả giải quyết ... công bằng": the form's number and its full wording."""
    question = survey.field(criterion)
    return f"{question.label}. {question.text}"


def index_label(survey: Survey, key: str) -> str:
    """An index as a reader knows it: SIPAS and factors by their id, criteria by the form's numbering."""
    return criterion_label(survey, key) if key in survey.field_ids() else key


def by_label(survey: Survey, by: str | None) -> str:
    """The unit level in words: 'huyện' for district, 'câu A1' for a question."""
    if not by:
        return "đơn vị"
    if by in BY_LABELS:
        return BY_LABELS[by]
    if by in survey.field_ids():
        return f"câu {survey.field(by).label}"
    return by
