"""Pen marks drawn as a person draws them, onto an ink layer.

The ink layer is a float32 array (H, W) of ink coverage in 0..1 at the page
raster; ``apply_ink`` lays it onto the page in the pen's colour. Box and page
coordinates are pixels; sizes given in mm are converted with ``px_per_mm``.

A mark's shape is one of MarkShape: what a respondent draws to answer
(tick, cross, slash, blob, loop round the box, a tick whose long arm runs
into the next box) or to cancel (the box filled, or only half filled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

SUBPIXEL_BITS = 4  # cv2 drawing with 1/16-pixel precision
_SCALE = 1 << SUBPIXEL_BITS

BLUE_INK = (35, 55, 150)
BLACK_INK = (25, 25, 32)
PENCIL = (95, 95, 100)

MarkShape = Literal["tick", "cross", "slash", "blob", "loop", "reach", "fill", "half-fill"]
# The usual ways to answer; a respondent keeps to one of these (the "hand").
Hand = Literal["tick", "cross", "slash", "blob", "loop"]
HANDS: tuple[Hand, ...] = ("tick", "cross", "slash", "blob", "loop")
# What a hand sometimes draws instead: never a loop, since one circled answer
# among ticks is the listed 'circled' anomaly, not a passing variation.
OTHER_MARKS: tuple[Hand, ...] = ("tick", "cross", "slash", "blob")

BLOB_DIAMETER_MM = (1.5, 4.0)  # a filled dot or blob, always inside the 5 mm box
BLOB_BULGE = 1.11  # its outline reaches at most this far past the ellipse
WIDE_LOOP_SIDE_MM = (2.0, 3.5)  # a wide loop passes this far left and right of the box (its bumps add ~0.5)
WIDE_LOOP_TOP_MM = (0.8, 1.5)  # ... and this far above and below, or further if it must to clear the corners,
WIDE_LOOP_MAX_TOP_MM = 2.0  # but never further than this: rows of boxes are 2.6-3 mm apart
WIDE_LOOP_CORNER_CLEARANCE_MM = 0.5
TIGHT_LOOP_RADIUS = (0.95, 1.3)  # a tight loop's half-axes / the box's half-size: on or across the edge
LOOP_TURNS = (0.75, 1.05)  # 1.5 pi (open, a gap left) to 2.1 pi (closed, the ends overlap)
LOOP_CENTRE_JITTER_MM = 0.3  # standard deviation, cut off at 0.5 mm
LOOP_TILT_DEG = 5.0  # standard deviation, cut off at 10 degrees
LOOP_POINTS = 72


@dataclass(frozen=True)
class Pen:
    colour: tuple[int, int, int]  # RGB
    opacity: float  # 1 for ink, ~0.35-0.6 for light pencil
    stroke_mm: float
    size: float  # mark size relative to the box
    hand: Hand  # the respondent's usual mark
    offset_mm: float  # how far marks wander from the box centre
    overflow_rate: float
    bleed_mm: float = 0.0  # felt tip: how far ink soaks into the paper around a stroke
    other_mark_rate: float = 0.0  # per mark: one of OTHER_MARKS instead of the usual
    reach_rate: float = 0.0  # per tick: the long arm runs on into the next box of the row
    wide_loops: bool = True  # loops well outside the box rather than tight on its edge


def new_ink_layer(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def _patch(layer: np.ndarray, points: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """A small zeroed uint8 canvas covering ``points`` (+ margin), the points
    moved into it, and its top-left corner in the layer. Drawing on a patch
    instead of a page-sized mask keeps a mark's cost independent of the dpi."""
    h, w = layer.shape
    x0 = int(max(0, np.floor(points[:, 0].min() - margin)))
    y0 = int(max(0, np.floor(points[:, 1].min() - margin)))
    x1 = int(min(w, np.ceil(points[:, 0].max() + margin) + 1))
    y1 = int(min(h, np.ceil(points[:, 1].max() + margin) + 1))
    canvas = np.zeros((max(1, y1 - y0), max(1, x1 - x0)), dtype=np.uint8)
    return canvas, points - (x0, y0), (x0, y0)


def _bleed_margin(bleed_px: float) -> float:
    return 3 * bleed_px + 1


def _merge(layer: np.ndarray, canvas: np.ndarray, corner: tuple[int, int], strength: float = 1.0, bleed_px: float = 0.0) -> None:
    if bleed_px > 0.2:
        # Felt-tip ink soaks sideways into the paper: a soft fringe round a
        # core that stays fully dark (the blur is stretched back up).
        canvas = cv2.convertScaleAbs(cv2.GaussianBlur(canvas, (0, 0), bleed_px), alpha=1.6)
    x0, y0 = corner
    region = layer[y0 : y0 + canvas.shape[0], x0 : x0 + canvas.shape[1]]
    np.maximum(region, canvas[: region.shape[0], : region.shape[1]].astype(np.float32) * (strength / 255.0), out=region)


def _stroke(layer: np.ndarray, points: np.ndarray, width_px: float, bleed_px: float = 0.0) -> None:
    """An anti-aliased polyline; points (N, 2) in pixel x, y."""
    canvas, local, corner = _patch(layer, points, width_px + 2 + _bleed_margin(bleed_px))
    pts = np.round(local * _SCALE).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [pts], False, 255, thickness=max(1, int(round(width_px))), lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    _merge(layer, canvas, corner, bleed_px=bleed_px)


def _fill(layer: np.ndarray, polygon: np.ndarray, strength: float, bleed_px: float = 0.0) -> None:
    """An anti-aliased filled polygon; points (N, 2) in pixel x, y."""
    canvas, local, corner = _patch(layer, polygon, 2 + _bleed_margin(bleed_px))
    cv2.fillPoly(canvas, [np.round(local * _SCALE).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    _merge(layer, canvas, corner, strength=strength, bleed_px=bleed_px)


def _pen_stroke(layer: np.ndarray, points: np.ndarray, pen: Pen, px_per_mm: float, width_factor: float = 1.0) -> None:
    _stroke(layer, points, pen.stroke_mm * px_per_mm * width_factor, pen.bleed_mm * px_per_mm)


def _wobbly(points: np.ndarray, rng: np.random.Generator, amount_px: float, steps: int = 6) -> np.ndarray:
    """Resample a polyline and push its inner points a little off the line, as a hand does."""
    out = [points[0]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        for t in np.linspace(0, 1, steps + 1)[1:]:
            p = a + (b - a) * t
            if t < 1:
                p = p + rng.normal(0, amount_px, 2)
            out.append(p)
    return np.array(out)


def _box_frame(
    box_px: tuple[float, float, float, float], rng: np.random.Generator, pen: Pen, px_per_mm: float
) -> tuple[np.ndarray, float, float]:
    x, y, w, h = box_px
    centre = np.array([x + w / 2, y + h / 2]) + rng.normal(0, pen.offset_mm * px_per_mm / 2, 2)
    size = pen.size * rng.uniform(0.85, 1.15)
    if rng.random() < pen.overflow_rate:
        size *= rng.uniform(1.5, 2.1)
    angle = np.deg2rad(rng.normal(0, 10))
    return centre, size * w, angle


def _transform(unit_points: list[tuple[float, float]], centre: np.ndarray, scale: float, angle: float) -> np.ndarray:
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.array(unit_points) @ rotation.T * scale + centre


def draw_tick(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    centre, scale, angle = _box_frame(box_px, rng, pen, px_per_mm)
    knee = (rng.uniform(-0.15, 0.0), rng.uniform(0.25, 0.4))
    start = (rng.uniform(-0.45, -0.3), rng.uniform(-0.05, 0.1))
    end = (rng.uniform(0.35, 0.55), rng.uniform(-0.55, -0.35))
    points = _transform([start, knee, end], centre, scale, angle)
    _pen_stroke(layer, _wobbly(points, rng, 0.015 * scale), pen, px_per_mm)


def draw_reaching_tick(layer: np.ndarray, box_px, next_box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    """A tick made in one flick too many: start and knee in the box (that is
    the answer), the long arm running on into the next box of the row."""
    x, y, w, h = box_px
    nx, ny, nw, nh = next_box_px
    start = np.array([x + w * rng.uniform(0.05, 0.3), y + h * rng.uniform(0.3, 0.55)])
    knee = np.array([x + w * rng.uniform(0.35, 0.6), y + h * rng.uniform(0.8, 1.02)])
    end = np.array([nx + nw * rng.uniform(0.2, 0.6), ny + nh * rng.uniform(0.05, 0.45)])
    # A flick bows: the long arm rises above the straight line to its end.
    arm = end - knee
    bow = np.array([arm[1], -arm[0]]) * rng.uniform(0.02, 0.07)  # the arm turned a quarter, upwards
    points = np.array([start, knee, knee + arm * 0.5 + bow, end])
    _pen_stroke(layer, _wobbly(points, rng, 0.015 * w), pen, px_per_mm)


def draw_cross(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    centre, scale, angle = _box_frame(box_px, rng, pen, px_per_mm)
    for a, b in (((-0.4, -0.4), (0.4, 0.4)), ((0.4, -0.4), (-0.4, 0.4))):
        jitter = rng.normal(0, 0.05, (2, 2))
        points = _transform([tuple(np.add(a, jitter[0])), tuple(np.add(b, jitter[1]))], centre, scale, angle)
        _pen_stroke(layer, _wobbly(points, rng, 0.012 * scale), pen, px_per_mm)


def draw_slash(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    """One stroke from the lower left up to the upper right: half a cross."""
    centre, scale, angle = _box_frame(box_px, rng, pen, px_per_mm)
    start = (rng.uniform(-0.5, -0.3), rng.uniform(0.3, 0.5))
    end = (rng.uniform(0.3, 0.5), rng.uniform(-0.5, -0.3))
    points = _transform([start, end], centre, scale, angle)
    _pen_stroke(layer, _wobbly(points, rng, 0.012 * scale), pen, px_per_mm)


def draw_blob(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    """A filled dot or blob, 1.5-4 mm across, kept inside the box: how people
    who learnt to 'colour in' the answer mark it."""
    x, y, w, h = box_px
    half_axes = rng.uniform(*BLOB_DIAMETER_MM, 2) * px_per_mm / 2
    tilt = rng.uniform(0, np.pi)
    t = np.linspace(0, 2 * np.pi, 28, endpoint=False)
    # A blob is scribbled, not stamped: its outline bulges a little (by up to BLOB_BULGE).
    radius = 1 + 0.06 * np.sin(2 * t + rng.uniform(0, 2 * np.pi)) + np.clip(rng.normal(0, 0.025, t.size), -0.05, 0.05)
    # It wanders from the centre only as far as the box leaves room.
    room = np.maximum(np.array([w, h]) / 2 - half_axes.max() * BLOB_BULGE, 0)
    centre = np.array([x + w / 2, y + h / 2]) + np.clip(rng.normal(0, pen.offset_mm * px_per_mm / 2, 2), -room, room)
    local = np.stack([half_axes[0] * radius * np.cos(t), half_axes[1] * radius * np.sin(t)], axis=1)
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    _fill(layer, local @ rotation.T + centre, strength=rng.uniform(0.85, 1.0), bleed_px=pen.bleed_mm * px_per_mm)


def draw_loop(
    layer: np.ndarray,
    box_px,
    pen: Pen,
    rng: np.random.Generator,
    px_per_mm: float,
    *,
    start: float | None = None,
    turns: float | None = None,
) -> None:
    """A ring drawn round the box instead of a mark inside it: an ellipse,
    not quite regular, wide (clear of the box, 1.5-4 mm to the sides) or
    tight (on or across the printed edge, as the pen's ``wide_loops`` says),
    closed (the ends overlap) or open (a gap where the hand stopped short).
    ``start`` (radians, 0 = right, clockwise on the page) and ``turns``
    (1 = exactly round) fix what is otherwise drawn at random."""
    x, y, w, h = box_px
    jitter = np.clip(rng.normal(0, LOOP_CENTRE_JITTER_MM, 2), -0.5, 0.5) * px_per_mm
    centre = np.array([x + w / 2, y + h / 2]) + jitter
    if pen.wide_loops:
        radius_x = w / 2 + rng.uniform(*WIDE_LOOP_SIDE_MM) * px_per_mm
        # Tall enough that the ring passes outside the box's corners.
        clearance = WIDE_LOOP_CORNER_CLEARANCE_MM * px_per_mm
        corner_fit = (h / 2 + clearance) / np.sqrt(1 - ((w / 2 + clearance) / radius_x) ** 2)
        radius_y = min(max(h / 2 + rng.uniform(*WIDE_LOOP_TOP_MM) * px_per_mm, corner_fit), h / 2 + WIDE_LOOP_MAX_TOP_MM * px_per_mm)
    else:
        radius_x = w / 2 * rng.uniform(*TIGHT_LOOP_RADIUS)
        radius_y = h / 2 * rng.uniform(*TIGHT_LOOP_RADIUS)
    start = rng.uniform(0, 2 * np.pi) if start is None else start
    turns = rng.uniform(*LOOP_TURNS) if turns is None else turns
    t = np.linspace(0, 1, LOOP_POINTS)
    angle = start + 2 * np.pi * turns * t
    # Slow bumps in the radius and a drift so the overlapping ends do not
    # retrace each other: a hand's ring, not a compass's.
    bumps = (
        1
        + rng.uniform(0, 0.04) * np.sin(2 * angle + rng.uniform(0, 2 * np.pi))
        + rng.uniform(0, 0.03) * np.sin(3 * angle + rng.uniform(0, 2 * np.pi))
    )
    drift = 1 + np.clip(rng.normal(0, 0.03), -0.05, 0.05) * t
    tilt = np.deg2rad(np.clip(rng.normal(0, LOOP_TILT_DEG), -10, 10))
    local = np.stack([radius_x * np.cos(angle), radius_y * np.sin(angle)], axis=1) * (bumps * drift)[:, None]
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    points = local @ rotation.T + centre + rng.normal(0, 0.05 * px_per_mm, (LOOP_POINTS, 2))
    _pen_stroke(layer, points, pen, px_per_mm)


def draw_fill(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    """A box filled in completely (the form's way to cancel a mark): a solid
    patch a little past the border, then zig-zag strokes over it."""
    x, y, w, h = box_px
    spill = 0.4 * px_per_mm
    corners = np.array(
        [[x - spill, y - spill], [x + w + spill, y - spill], [x + w + spill, y + h + spill], [x - spill, y + h + spill]]
    ) + rng.normal(0, 0.25 * px_per_mm, (4, 2))
    _fill(layer, corners, strength=rng.uniform(0.9, 1.0))
    zigzag = [(x - spill + (i % 2) * (w + 2 * spill), y - spill + i * (h + 2 * spill) / 7) for i in range(8)]
    _pen_stroke(layer, _wobbly(np.array(zigzag), rng, 0.3 * px_per_mm, steps=2), pen, px_per_mm, width_factor=1.5)


def draw_half_fill(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    """A cancel given up half way: the left, lower or a diagonal half of the
    box filled, so nobody can say for sure whether it is cancelled."""
    x, y, w, h = box_px
    spill = 0.3 * px_per_mm
    reach = rng.uniform(0.4, 0.6)  # how far across the box the filling got
    left, top, right, bottom = x - spill, y - spill, x + w + spill, y + h + spill
    side = int(rng.integers(3))
    if side == 0:  # left part
        polygon = [(left, top), (x + w * reach, top), (x + w * reach, bottom), (left, bottom)]
    elif side == 1:  # lower part
        polygon = [(left, y + h * (1 - reach)), (right, y + h * (1 - reach)), (right, bottom), (left, bottom)]
    else:  # lower-left triangle, up to the diagonal
        polygon = [(left, top), (right, bottom), (left, bottom)]
    corners = np.array(polygon) + rng.normal(0, 0.2 * px_per_mm, (len(polygon), 2))
    _fill(layer, corners, strength=rng.uniform(0.85, 1.0), bleed_px=pen.bleed_mm * px_per_mm)
    # The pen's strokes show at the filling's edge.
    _pen_stroke(layer, _wobbly(corners[[0, 1]], rng, 0.15 * px_per_mm, steps=3), pen, px_per_mm)


def draw_dot(layer: np.ndarray, centre_px: tuple[float, float], rng: np.random.Generator, px_per_mm: float) -> None:
    radius = rng.uniform(0.2, 0.45) * px_per_mm
    canvas, local, corner = _patch(layer, np.array([centre_px]), radius + 2)
    cv2.circle(
        canvas,
        (int(round(local[0, 0] * _SCALE)), int(round(local[0, 1] * _SCALE))),
        int(round(radius * _SCALE)),
        255,
        -1,
        lineType=cv2.LINE_AA,
        shift=SUBPIXEL_BITS,
    )
    _merge(layer, canvas, corner)


def draw_mark(layer: np.ndarray, shape: str, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float, next_box_px=None) -> None:
    """Draw one mark of ``shape`` (a MarkShape); a 'reach' tick needs the
    next box of the row in ``next_box_px`` and is a plain tick without it."""
    if shape == "reach" and next_box_px is not None:
        draw_reaching_tick(layer, box_px, next_box_px, pen, rng, px_per_mm)
        return
    drawers = {
        "tick": draw_tick,
        "reach": draw_tick,
        "cross": draw_cross,
        "slash": draw_slash,
        "blob": draw_blob,
        "loop": draw_loop,
        "fill": draw_fill,
        "half-fill": draw_half_fill,
    }
    drawers[shape](layer, box_px, pen, rng, px_per_mm)


def apply_ink(page_rgb: np.ndarray, layer: np.ndarray, pen: Pen) -> np.ndarray:
    """Lay the ink layer onto an RGB uint8 page, multiplicatively as ink on
    paper: each channel keeps (1 - coverage * (1 - ink colour)) of its light."""
    return apply_colour(page_rgb, layer, pen.colour, pen.opacity)


def apply_colour(page_rgb: np.ndarray, layer: np.ndarray, colour: tuple[int, int, int], opacity: float) -> np.ndarray:
    coverage = cv2.convertScaleAbs(layer, alpha=255.0 * opacity)
    channels = []
    for value, channel in zip(colour, cv2.split(page_rgb), strict=True):
        kept = cv2.convertScaleAbs(coverage, alpha=-(1.0 - value / 255.0), beta=255)
        channels.append(cv2.multiply(channel, kept, scale=1 / 255))
    return cv2.merge(channels)
