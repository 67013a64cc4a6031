"""Pen marks drawn as a person draws them, onto an ink layer.

The ink layer is a float32 array (H, W) of ink coverage in 0..1 at the page
raster; ``apply_ink`` lays it onto the page in the pen's colour. Box and page
coordinates are pixels; sizes given in mm are converted with ``px_per_mm``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SUBPIXEL_BITS = 4  # cv2 drawing with 1/16-pixel precision
_SCALE = 1 << SUBPIXEL_BITS

BLUE_INK = (35, 55, 150)
BLACK_INK = (25, 25, 32)
PENCIL = (95, 95, 100)


@dataclass(frozen=True)
class Pen:
    colour: tuple[int, int, int]  # RGB
    opacity: float                # 1 for ink, ~0.35-0.6 for light pencil
    stroke_mm: float
    size: float                   # mark size relative to the box
    cross: bool                   # crosses rather than ticks
    offset_mm: float              # how far marks wander from the box centre
    overflow_rate: float


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


def _merge(layer: np.ndarray, canvas: np.ndarray, corner: tuple[int, int], strength: float = 1.0) -> None:
    x0, y0 = corner
    region = layer[y0:y0 + canvas.shape[0], x0:x0 + canvas.shape[1]]
    np.maximum(region, canvas[:region.shape[0], :region.shape[1]].astype(np.float32) * (strength / 255.0), out=region)


def _stroke(layer: np.ndarray, points: np.ndarray, width_px: float) -> None:
    """An anti-aliased polyline; points (N, 2) in pixel x, y."""
    canvas, local, corner = _patch(layer, points, width_px + 2)
    pts = np.round(local * _SCALE).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [pts], False, 255, thickness=max(1, int(round(width_px))), lineType=cv2.LINE_AA,
                  shift=SUBPIXEL_BITS)
    _merge(layer, canvas, corner)


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


def _box_frame(box_px: tuple[float, float, float, float], rng: np.random.Generator, pen: Pen,
               px_per_mm: float) -> tuple[np.ndarray, float, float]:
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
    _stroke(layer, _wobbly(points, rng, 0.015 * scale), pen.stroke_mm * px_per_mm)


def draw_cross(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    centre, scale, angle = _box_frame(box_px, rng, pen, px_per_mm)
    for a, b in (((-0.4, -0.4), (0.4, 0.4)), ((0.4, -0.4), (-0.4, 0.4))):
        jitter = rng.normal(0, 0.05, (2, 2))
        points = _transform([tuple(np.add(a, jitter[0])), tuple(np.add(b, jitter[1]))], centre, scale, angle)
        _stroke(layer, _wobbly(points, rng, 0.012 * scale), pen.stroke_mm * px_per_mm)


def draw_fill(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    """A box filled in completely (the form's way to cancel a mark): a solid
    patch a little past the border, then zig-zag strokes over it."""
    x, y, w, h = box_px
    spill = 0.4 * px_per_mm
    corners = np.array([[x - spill, y - spill], [x + w + spill, y - spill], [x + w + spill, y + h + spill],
                        [x - spill, y + h + spill]]) + rng.normal(0, 0.25 * px_per_mm, (4, 2))
    canvas, local, corner = _patch(layer, corners, 2)
    cv2.fillPoly(canvas, [np.round(local * _SCALE).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    _merge(layer, canvas, corner, strength=rng.uniform(0.9, 1.0))
    zigzag = [(x - spill + (i % 2) * (w + 2 * spill), y - spill + i * (h + 2 * spill) / 7) for i in range(8)]
    _stroke(layer, _wobbly(np.array(zigzag), rng, 0.3 * px_per_mm, steps=2), pen.stroke_mm * px_per_mm * 1.5)


def draw_circle(layer: np.ndarray, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    """A ring drawn around the box instead of a mark inside it."""
    x, y, w, h = box_px
    centre = np.array([x + w / 2, y + h / 2]) + rng.normal(0, 0.3 * px_per_mm, 2)
    # Big enough to go round the box's corners, as a ring drawn around an option does.
    radius_x = w / 2 * np.sqrt(2) + rng.uniform(0.8, 2.0) * px_per_mm
    radius_y = h / 2 * np.sqrt(2) + rng.uniform(0.6, 1.3) * px_per_mm
    start = rng.uniform(0, 2 * np.pi)
    sweep = rng.uniform(1.85, 2.1) * np.pi
    t = np.linspace(start, start + sweep, 48)
    points = np.stack([centre[0] + radius_x * np.cos(t), centre[1] + radius_y * np.sin(t)], axis=1)
    _stroke(layer, points + rng.normal(0, 0.08 * px_per_mm, points.shape), pen.stroke_mm * px_per_mm)


def draw_dot(layer: np.ndarray, centre_px: tuple[float, float], rng: np.random.Generator, px_per_mm: float) -> None:
    radius = rng.uniform(0.2, 0.45) * px_per_mm
    canvas, local, corner = _patch(layer, np.array([centre_px]), radius + 2)
    cv2.circle(canvas, (int(round(local[0, 0] * _SCALE)), int(round(local[0, 1] * _SCALE))),
               int(round(radius * _SCALE)), 255, -1, lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    _merge(layer, canvas, corner)


def draw_mark(layer: np.ndarray, style: str, box_px, pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    if style == "fill":
        draw_fill(layer, box_px, pen, rng, px_per_mm)
    elif style == "circle":
        draw_circle(layer, box_px, pen, rng, px_per_mm)
    elif pen.cross:
        draw_cross(layer, box_px, pen, rng, px_per_mm)
    else:
        draw_tick(layer, box_px, pen, rng, px_per_mm)


def apply_ink(page_rgb: np.ndarray, layer: np.ndarray, pen: Pen) -> np.ndarray:
    """Lay the ink layer onto an RGB uint8 page, multiplicatively as ink on
    paper: each channel keeps (1 - coverage * (1 - ink colour)) of its light."""
    coverage = cv2.convertScaleAbs(layer, alpha=255.0 * pen.opacity)
    channels = []
    for value, channel in zip(pen.colour, cv2.split(page_rgb), strict=True):
        kept = cv2.convertScaleAbs(coverage, alpha=-(1.0 - value / 255.0), beta=255)
        channels.append(cv2.multiply(channel, kept, scale=1 / 255))
    return cv2.merge(channels)
