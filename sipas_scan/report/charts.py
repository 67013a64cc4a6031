"""The report's charts as PNG bytes (matplotlib, Agg, DejaVu Sans).

Each function takes plain numbers and labels and returns PNG bytes, so the
PDF and the HTML embed the very same image. Figures are built with the
object API (no pyplot state), on the Agg canvas, in DejaVu Sans, the font
matplotlib ships, which has every Vietnamese letter; a missing glyph would
raise under the tests' warnings-as-errors.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context  # noqa: E402 - the backend must be chosen first
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sipas_scan.report.formats import pct  # noqa: E402
from sipas_scan.scoring.intervals import MIN_RESPONDENTS  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

FONT = "DejaVu Sans"
DPI = 150
WIDTH_IN = 7.0
BAR = "#2f6c9f"
BAR_LIGHT = "#a9c4dc"
BAR_PREVIOUS = "#b0b0b0"
GOOD = "#3b8b4b"
BAD = "#b5473a"
LONG_LIST = 20
MIN_RESPONDENTS_LABEL = f"dưới {MIN_RESPONDENTS} người trả lời: chỉ tham khảo"
# Value labels sit on a white patch above the lines they might meet.
_LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "pad": 0.6}
_STYLE: dict[RcKeyType, Any] = {
    "font.family": FONT,
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    low: float | None = None
    high: float | None = None
    faint: bool = False  # too few respondents to publish


def _wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _errors(bars: Sequence[Bar]) -> list[list[float]] | None:
    if not any(b.low is not None for b in bars):
        return None
    return [[b.value - b.low if b.low is not None else 0 for b in bars], [b.high - b.value if b.high is not None else 0 for b in bars]]


def _legend(figure: Figure, bars: Sequence[Bar], reference: float | None, reference_label: str) -> None:
    """What the dashed line and the light bars mean, under the chart, so no
    label is drawn over the data."""
    handles: list[Artist] = []
    if reference is not None and reference_label:
        handles.append(Line2D([], [], color=BAD, linewidth=1, linestyle="--", label=reference_label))
    if any(b.faint for b in bars):
        handles.append(Patch(color=BAR_LIGHT, label=MIN_RESPONDENTS_LABEL))
    if handles:
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=7.5)


def horizontal_bars(
    bars: Sequence[Bar],
    *,
    xlabel: str = "%",
    reference: float | None = None,
    reference_label: str = "",
    label_width: int = 48,
    xmax: float = 100,
) -> bytes:
    """One bar per item, top to bottom in the given order, value written at
    the end of each bar; ``reference`` draws a vertical line (e.g. ALL),
    explained in the legend. Labels are wrapped, never cut."""
    # A long ranking (the 22 or 33 criteria) gets a smaller type and wider
    # label lines, so it still fits a page at a readable size.
    compact = len(bars) > LONG_LIST
    labels = [_wrap(b.label, label_width + 22 if compact else label_width) for b in bars]
    with rc_context(_STYLE):
        lines = sum(label.count("\n") for label in labels)
        height = 1.1 + (0.2 if compact else 0.32) * len(bars) + (0.1 if compact else 0.12) * lines
        figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(bars)))[::-1]
        axes.barh(
            positions,
            [b.value for b in bars],
            color=[BAR_LIGHT if b.faint else BAR for b in bars],
            xerr=_errors(bars),
            error_kw={"ecolor": "#444444", "capsize": 2, "elinewidth": 0.8},
            height=0.65,
        )
        for y, bar in zip(positions, bars, strict=True):
            end = bar.high if bar.high is not None else bar.value
            axes.text(min(end, xmax) + 0.8, y, pct(bar.value, 1), va="center", fontsize=7.5, bbox=_LABEL_BOX, zorder=5)
        axes.set_yticks(positions, labels, fontsize=6.8 if compact else None)
        axes.set_xlim(0, xmax * 1.1)
        axes.set_xlabel(xlabel)
        axes.set_ylim(-0.7, len(bars) - 0.3)
        if reference is not None:
            axes.axvline(reference, color=BAD, linewidth=1, linestyle="--", zorder=4)
        _legend(figure, bars, reference, reference_label)
        return _png(figure)


def vertical_bars(
    bars: Sequence[Bar], *, ylabel: str = "%", reference: float | None = None, reference_label: str = "", label_width: int = 16
) -> bytes:
    """Few bars side by side (the factors), with their intervals."""
    with rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
        axes = figure.add_subplot()
        positions = range(len(bars))
        axes.bar(
            positions,
            [b.value for b in bars],
            color=[BAR_LIGHT if b.faint else BAR for b in bars],
            yerr=_errors(bars),
            error_kw={"ecolor": "#444444", "capsize": 3, "elinewidth": 0.8},
            width=0.6,
        )
        for x, bar in zip(positions, bars, strict=True):
            # Inside the bar, near its foot: clear of the interval's whisker
            # and of the reference line.
            axes.text(
                x,
                4,
                pct(bar.value),
                ha="center",
                va="bottom",
                fontsize=8,
                color="black" if bar.faint else "white",
                fontweight="bold",
                zorder=5,
            )
        axes.set_xticks(list(positions), [_wrap(b.label, label_width) for b in bars], fontsize=7.5)
        axes.set_ylim(0, 105)
        axes.set_ylabel(ylabel)
        if reference is not None:
            axes.axhline(reference, color=BAD, linewidth=1, linestyle="--", zorder=4)
        _legend(figure, bars, reference, reference_label)
        return _png(figure)


def stacked_shares(rows: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, label_width: int = 44) -> bytes:
    """Each row a 100 % bar split into the options' shares (a grid of
    priorities: one row per item, one colour per level)."""
    colours = ["#d9e4ef", "#8fb2d1", "#2f6c9f", "#1c4466", "#0e2233"]
    with rc_context(_STYLE):
        height = 1.2 + 0.34 * len(rows)
        figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(rows)))[::-1]
        left = [0.0] * len(rows)
        for index, (name, values) in enumerate(series):
            colour = colours[index % len(colours)]
            axes.barh(positions, values, left=left, color=colour, height=0.65, label=name)
            for y, start, value in zip(positions, left, values, strict=True):
                if value >= 8:
                    dark = index >= 2
                    axes.text(
                        start + value / 2, y, f"{value:.0f}", ha="center", va="center", fontsize=7, color="white" if dark else "black"
                    )
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(positions, [_wrap(r, label_width) for r in rows])
        axes.set_xlim(0, 100)
        axes.set_xlabel("%")
        figure.legend(loc="outside lower center", ncols=min(len(series), 4), frameon=False, fontsize=7.5)
        return _png(figure)


def grouped_change(
    labels: Sequence[str],
    previous: Sequence[float | None],
    current: Sequence[float | None],
    *,
    previous_label: str,
    current_label: str,
) -> bytes:
    """Last year's and this year's value side by side, per index."""
    with rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH_IN, 3.2), layout="constrained")
        axes = figure.add_subplot()
        width = 0.38
        xs = range(len(labels))
        before = [v if v is not None else 0 for v in previous]
        now = [v if v is not None else 0 for v in current]
        axes.bar([x - width / 2 for x in xs], before, width, color=BAR_PREVIOUS, label=previous_label)
        axes.bar([x + width / 2 for x in xs], now, width, color=BAR, label=current_label)
        for x, old, new in zip(xs, previous, current, strict=True):
            if old is not None and new is not None:
                delta = new - old
                axes.text(
                    x,
                    max(old, new) + 2,
                    pct(delta, signed=True),
                    ha="center",
                    fontsize=7.5,
                    color=GOOD if delta >= 0 else BAD,
                )
        axes.set_xticks(list(xs), list(labels))
        axes.set_ylim(0, 112)
        axes.set_ylabel("%")
        figure.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=7.5)
        return _png(figure)


def returns_bars(
    labels: Sequence[str], counted: Sequence[int], excluded: Sequence[int], *, counted_label: str, excluded_label: str
) -> bytes:
    """Forms returned per village: those scored and those left out."""
    with rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH_IN, 1.2 + 0.26 * len(labels)), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, counted, color=BAR, height=0.65, label=counted_label)
        axes.barh(positions, excluded, left=counted, color=BAR_PREVIOUS, height=0.65, label=excluded_label)
        for y, a, b in zip(positions, counted, excluded, strict=True):
            axes.text(a + b + 0.2, y, str(a + b), va="center", fontsize=7)
        axes.set_yticks(positions, [_wrap(label, 40) for label in labels])
        axes.set_xlim(0, max((a + b for a, b in zip(counted, excluded, strict=True)), default=1) * 1.12 + 1)
        axes.set_ylim(-0.7, len(labels) - 0.3)
        axes.set_xlabel("số phiếu")
        figure.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=7.5)
        return _png(figure)
