"""Checkboxes: measure the ink in each box and decide what it says.

Pure functions on the aligned page's darkness map (8 px/mm). A box decision
is a record: its state, a confidence from the measurement's margin to the
nearest threshold, and the metrics behind it (SDAPS style). Thresholds adapt
to the page (the noise floor of its empty boxes) and live in one dataclass a
scanner calibration profile can adjust.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.layout import FieldLayout, Rect
from sipas_scan.reading.reference import darkness_level
from sipas_scan.survey.model import join_codes

BoxState = Literal["empty", "marked", "filled", "doubtful"]
INK_LEVEL = darkness_level(0.2)  # a pixel is ink when this much darker than its paper
INSET_MM = 0.6           # measured inside the printed border by this much
RING_INNER_MM = 1.0      # an answer circled around the box: ink between these
RING_OUTER_MM = 3.2      # distances outside the border
OVERFLOW_CONFIDENCE = 0.5
CLEAR_MARK_FACTOR = 2.0  # a box this many times over the marked limit is a clear mark
RING_DOMINANCE = 2.0     # one circle this much inkier than the next is the one meant
STRAY_RATIO = 4.0        # a light box beside a mark this many times inkier is a stray touch
STRAY_CONFIDENCE = 0.6   # an answer read past a stray touch is less sure
MISALIGNED_OFFSET_MM = 0.95 * defs.BOX_SEARCH_MM  # never reached on clean or office scans (432 forms each)
OVERFLOW_TRACE = 0.008   # ink inside a box that, with ink around it, is worth a look


@dataclass(frozen=True)
class Thresholds:
    """Coverage (share of inked pixels inside a box) limits."""

    empty: float = 0.025      # below: empty
    marked: float = 0.06      # from here: marked
    fill_doubt: float = 0.80  # from here to ``filled``: a heavy cross or a fill (thick crosses reach 0.77)
    filled: float = 0.92      # from here: filled in completely (a cancelled answer)
    ring: float = 0.04        # ink around an empty box (after removing the print) that suggests a circle
    overflow_ring: float = 0.025  # a little ink inside and this much around: a tick that overflowed its box
    noise_margin: float = 0.015  # the empty limit sits this far above the page's noise floor

    def for_page(self, coverages: list[float]) -> Thresholds:
        """Raise the empty/marked limits above this page's noise floor."""
        if not coverages:
            return self
        floor = float(np.median(coverages))
        empty = max(self.empty, floor + self.noise_margin)
        return replace(self, empty=empty, marked=max(self.marked, empty + 0.03))


@dataclass(frozen=True)
class BoxReading:
    code: str
    state: BoxState
    confidence: float
    coverage: float
    ring: float
    offset_mm: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class FieldReading:
    field_id: str
    value: str
    confidence: float
    flags: tuple[str, ...] = ()
    boxes: tuple[BoxReading, ...] = field(default_factory=tuple)


_OPENING = np.ones((2, 2), np.uint8)


def _px(value_mm: float) -> int:
    return int(round(value_mm * defs.READ_PX_PER_MM))


@functools.cache
def _frame_kernel() -> np.ndarray:
    """A box's printed outline, to find where the box really is."""
    size = _px(defs.BOX_SIZE_MM)
    kernel = np.zeros((size + 1, size + 1), np.float32)
    cv2.rectangle(kernel, (0, 0), (size, size), 1.0, thickness=2)
    return kernel - kernel.mean()


def locate_box(dark: np.ndarray, box: Rect) -> tuple[int, int, int]:
    """The box's top-left (x, y) in px after a local search for its printed
    outline, and its side in px."""
    x, y = _px(box[0]), _px(box[1])
    side = _px(defs.BOX_SIZE_MM)
    search = _px(defs.BOX_SEARCH_MM)
    y0, x0 = max(0, y - search), max(0, x - search)
    window = dark[y0:y + side + search + 1, x0:x + side + search + 1]
    kernel = _frame_kernel()
    if window.shape[0] < kernel.shape[0] or window.shape[1] < kernel.shape[1]:
        return x, y, side
    scores = cv2.matchTemplate(window.astype(np.float32), kernel, cv2.TM_CCORR)
    _, _, _, best = cv2.minMaxLoc(scores)
    return x0 + best[0], y0 + best[1], side


def measure_box(dark: np.ndarray, added: np.ndarray, box: Rect) -> tuple[float, float, tuple[float, float]]:
    """(coverage inside the box, ink share in the ring around it, offset of the
    found box from the layout in mm)."""
    x, y, side = locate_box(dark, box)
    inset = _px(INSET_MM)
    inside = dark[y + inset:y + side - inset + 1, x + inset:x + side - inset + 1]
    # Opening drops hairs and dust a pixel wide; pen strokes (>= 0.25 mm, 2 px) stay.
    inked = cv2.morphologyEx((inside > INK_LEVEL).astype(np.uint8), cv2.MORPH_OPEN, _OPENING)
    coverage = float(inked.mean()) if inked.size else 0.0
    r_in, r_out = _px(RING_INNER_MM), _px(RING_OUTER_MM)
    wy0, wx0 = max(0, y - r_out), max(0, x - r_out)
    ring = added[wy0:y + side + r_out + 1, wx0:x + side + r_out + 1]
    mask = np.ones(ring.shape, bool)
    mask[max(0, y - r_in - wy0):y + side + r_in + 1 - wy0, max(0, x - r_in - wx0):x + side + r_in + 1 - wx0] = False
    ring_share = float((ring[mask] > INK_LEVEL).mean()) if mask.any() else 0.0
    offset = ((x - box[0] * defs.READ_PX_PER_MM) / defs.READ_PX_PER_MM,
              (y - box[1] * defs.READ_PX_PER_MM) / defs.READ_PX_PER_MM)
    return coverage, ring_share, offset


def classify(coverage: float, t: Thresholds) -> tuple[BoxState, float]:
    """State and confidence (0..1, from the distance to the nearest limit)."""
    def margin(distance: float, scale: float) -> float:
        return min(1.0, max(0.0, distance / scale))

    if coverage < t.empty:
        return "empty", margin(t.empty - coverage, t.empty)
    if coverage < t.marked:
        return "doubtful", 0.0
    if coverage < t.fill_doubt:
        return "marked", margin(min(coverage - t.marked, t.fill_doubt - coverage), 0.04)
    if coverage < t.filled:
        return "doubtful", 0.0
    return "filled", margin(coverage - t.filled, 0.1)


def _overflow(state: BoxState, confidence: float, coverage: float, ring: float,
              t: Thresholds) -> tuple[BoxState, float]:
    """Ink inside the box that carries on past its border is a tick drawn too
    big: a mark when there is enough of both, doubt when there is a little."""
    if coverage >= t.empty / 2 and ring >= t.overflow_ring:
        return "marked", OVERFLOW_CONFIDENCE
    if coverage >= OVERFLOW_TRACE and ring >= t.overflow_ring * 0.6:
        return "doubtful", 0.0
    return state, confidence


def read_fields(dark: np.ndarray, added: np.ndarray, fields: list[FieldLayout],
                thresholds: Thresholds) -> list[FieldReading]:
    """Measure every box of the page's choice fields, classify them against
    thresholds adapted to this page's empty boxes, and decide each field."""
    measured = {f.id: [(o.code, *measure_box(dark, added, o.box)) for o in f.options]
                for f in fields if f.kind != "text"}
    page_t = thresholds.for_page([m[1] for boxes in measured.values() for m in boxes])
    readings = []
    for fld in fields:
        if fld.kind == "text":
            continue
        boxes = []
        for code, coverage, ring, offset in measured[fld.id]:
            state, confidence = classify(coverage, page_t)
            if state != "marked" and coverage < page_t.marked:
                state, confidence = _overflow(state, confidence, coverage, ring, page_t)
            boxes.append(BoxReading(code, state, confidence, round(coverage, 4), round(ring, 4),
                                    (round(offset[0], 2), round(offset[1], 2))))
        readings.append(decide(fld, boxes, page_t))
    return readings


def decide(fld: FieldLayout, boxes: list[BoxReading], thresholds: Thresholds) -> FieldReading:
    """What a choice question says, with the reasons for any doubt."""
    marked = [b for b in boxes if b.state == "marked"]
    filled = [b for b in boxes if b.state == "filled"]
    doubtful = [b for b in boxes if b.state == "doubtful"]
    strays: list[BoxReading] = []
    clearest = max((b.coverage for b in marked if b.coverage >= CLEAR_MARK_FACTOR * thresholds.marked), default=0.0)
    if fld.kind == "single" and clearest:
        # Beside a clear mark, a light touch (a speck, a pen resting) is not
        # a second answer: two real marks differ in ink by less than 1.5x.
        # Only for single choice: there a second answer is void anyway.
        strays = [b for b in doubtful + marked if b.coverage < clearest and (
            b.coverage < thresholds.marked / 2
            or (b.coverage < CLEAR_MARK_FACTOR * thresholds.marked and clearest >= STRAY_RATIO * b.coverage))]
        doubtful = [b for b in doubtful if b not in strays]
        marked = [b for b in marked if b not in strays]
    flags: list[str] = []
    confidence = min([b.confidence for b in boxes if b not in strays] + ([STRAY_CONFIDENCE] if strays else []),
                     default=1.0)
    if doubtful:
        faint = [b for b in doubtful if b.coverage < thresholds.fill_doubt]
        flags.append("faint" if faint else "unclear-fill")
    if filled:
        flags.append("cancelled")
    live = marked + [b for b in doubtful if b.coverage >= thresholds.marked]
    value = join_codes([b.code for b in marked])
    if fld.kind == "single" and len(marked) > 1:
        flags.append("multiple")
    if fld.kind == "multi" and fld.max_choices and len(marked) > fld.max_choices:
        flags.append("over-max")
    if not live and not filled and not doubtful:
        rings = sorted((b for b in boxes if b.ring >= thresholds.ring), key=lambda b: b.ring, reverse=True)
        if rings:
            # Ink around a box and none inside: a circled answer. A reviewer
            # confirms it; where one ring clearly dominates it is proposed.
            flags.append("outside-box")
            if len(rings) == 1 or rings[0].ring >= RING_DOMINANCE * rings[1].ring:
                value = rings[0].code
    if any(max(abs(d) for d in b.offset_mm) >= MISALIGNED_OFFSET_MM for b in boxes):
        # A printed box found only at the edge of its search window: this part
        # of the page is not where the markers say (curled or creased paper),
        # so what was measured may be a neighbour's box.
        flags.append("misaligned")
    if flags:
        confidence = 0.0
    return FieldReading(fld.id, value, round(confidence, 3), tuple(flags), tuple(boxes))
