"""How the report writes numbers, intervals, index nodes and unit levels
(Vietnamese style: decimal comma, thousands dot, '–' for no value)."""

from __future__ import annotations

from sipas_scan.scoring.intervals import Interval
from sipas_scan.survey import IndexNode

BY_LABELS = {"province": "tỉnh", "district": "huyện", "commune": "xã", "village": "thôn"}


def pct(value: float | None, digits: int = 2) -> str:
    """Vietnamese style: decimal comma, '–' when there is no value."""
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


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
