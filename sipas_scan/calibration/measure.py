"""Measure a scanned calibration sheet: pure functions, grey page in.

Everything is measured where the sheet model says it is, through the same
marker registration the reader uses: the scale from the distances between
marker centres, the skew from their direction, grey levels and noise from the
raw pixels of the grey wedge, the optical resolution from the line-pair
patches, and what the reader makes of marks of known darkness and size with
the reader's own box measure. A sheet that will not align is a falsy Failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sipas_scan.calibration.sheet import QR_PAYLOAD, SheetLayout, sheet_layout
from sipas_scan.layout import Rect
from sipas_scan.reading.identify import find_payloads
from sipas_scan.reading.marks import Thresholds, classify, measure_box
from sipas_scan.reading.reference import darkness
from sipas_scan.reading.register import Failed, Registration, detect_markers, project, rect_corners, register, warp_to_layout

PATCH_INSET = 0.2  # share of a patch's side left out on each edge (print and scan edges)
EXTREME_LOW, EXTREME_HIGH = 48, 208  # a binarised scan has (almost) no pixels between these
BW_EXTREME_SHARE = 0.9  # mid-grey patches this much extreme: the scanner binarised
MID_GREYS = (0.3, 0.7)  # patches whose pixels neither clip nor binarise on a grey scanner
BAR_SAMPLE_PX_PER_MM = 20  # line-pair patches are resampled this finely (bilinear: adds no detail)
BAR_MARGIN_MM = 1.0  # across the bars, left out at each side


@dataclass(frozen=True)
class TonePoint:
    printed: float  # darkness printed, 0..1
    level: float  # mean raw grey level, 0..255
    darkness: float  # measured darkness against the paper patch, 0..1
    noise: float  # standard deviation of the raw grey levels
    extreme_share: float  # share of pixels below EXTREME_LOW or above EXTREME_HIGH


@dataclass(frozen=True)
class MarkPoint:
    darkness: float  # printed
    coverage: float  # printed share of the measured inside of the box
    measured: float  # coverage as the reader measures it
    state: str  # what the default reader thresholds make of it


@dataclass(frozen=True)
class BarPoint:
    frequency: float  # line pairs per mm
    axis: str
    modulation: float  # amplitude at that frequency / a perfect square wave's, ~1 when resolved


@dataclass(frozen=True)
class SheetMeasurement:
    nominal_dpi: float
    px_per_mm_x: float
    px_per_mm_y: float
    skew_deg: float
    orientation: int
    residual_mm: float
    markers_found: tuple[int, ...]
    qr_found: bool
    tone: tuple[TonePoint, ...]
    marks: tuple[MarkPoint, ...]
    bars: tuple[BarPoint, ...]


def _centre(rect: Rect) -> np.ndarray:
    return np.array([rect[0] + rect[2] / 2, rect[1] + rect[3] / 2])


def marker_scales(found: dict[int, np.ndarray], sheet: SheetLayout) -> tuple[float, float]:
    """(px per mm across, px per mm down the sheet) from the distances between
    the centres of the markers found; NaN for a direction with no pair."""
    centres_mm = {m.id: _centre(m.rect) for m in sheet.markers}
    centres_px = {i: quad.mean(axis=0) for i, quad in found.items()}

    def scale(pairs: tuple[tuple[int, int], ...]) -> float:
        ratios = [
            np.linalg.norm(centres_px[a] - centres_px[b]) / np.linalg.norm(centres_mm[a] - centres_mm[b])
            for a, b in pairs
            if a in centres_px and b in centres_px
        ]
        return float(np.mean(ratios)) if ratios else float("nan")

    return scale(((0, 1), (3, 2))), scale(((0, 3), (1, 2)))


def skew_degrees(registration: Registration) -> float:
    """How far the sheet's top edge turns from the image rows, beyond the
    quarter turns, in degrees (positive: clockwise on screen)."""
    left, right = project(np.array([[50, 150], [160, 150]], dtype=np.float32), registration)
    dx, dy = right - left
    angle = float(np.degrees(np.arctan2(dy, dx))) - registration.orientation
    return (angle + 180.0) % 360.0 - 180.0


def _region_pixels(gray: np.ndarray, rect: Rect, registration: Registration, inset: float = PATCH_INSET) -> np.ndarray:
    """Raw pixels (1-D) inside a sheet rectangle shrunk by ``inset`` of its sides."""
    x, y, w, h = rect
    inner = (x + inset * w, y + inset * h, w * (1 - 2 * inset), h * (1 - 2 * inset))
    polygon = project(rect_corners(inner), registration)
    bx, by, bw, bh = cv2.boundingRect(polygon.astype(np.float32))
    bx, by = max(bx, 0), max(by, 0)
    crop = gray[by : by + bh, bx : bx + bw]
    mask = np.zeros(crop.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(polygon - [bx, by]).astype(np.int32), 1)
    return crop[mask.astype(bool)]


def measure_tone(gray: np.ndarray, registration: Registration, sheet: SheetLayout) -> tuple[TonePoint, ...]:
    stats = []
    for patch in sheet.patches:
        pixels = _region_pixels(gray, patch.rect, registration).astype(np.float32)
        extreme = float(np.mean((pixels < EXTREME_LOW) | (pixels > EXTREME_HIGH))) if pixels.size else 0.0
        stats.append((patch.darkness, float(pixels.mean()), float(pixels.std()), extreme))
    paper = max(next(level for printed, level, _, _ in stats if printed == 0.0), 1.0)
    return tuple(
        TonePoint(printed, round(level, 2), round(float(np.clip(1 - level / paper, 0, 1)), 4), round(noise, 2), round(extreme, 4))
        for printed, level, noise, extreme in stats
    )


def measure_marks(
    gray: np.ndarray, registration: Registration, sheet: SheetLayout, thresholds: Thresholds | None = None
) -> tuple[MarkPoint, ...]:
    """Each reference mark as the reader would measure and classify it."""
    thresholds = thresholds or Thresholds()
    dark = darkness(warp_to_layout(gray, registration))
    points = []
    for mark in sheet.marks:
        coverage = measure_box(dark, dark, mark.box).coverage
        points.append(MarkPoint(mark.darkness, mark.coverage, round(coverage, 4), classify(coverage, thresholds)[0]))
    return tuple(points)


def bar_modulation(profile: np.ndarray, frequency: float, sample_mm: float, contrast: float) -> float:
    """Amplitude of ``profile`` (1-D grey levels, one sample every ``sample_mm``)
    at ``frequency`` (per mm), over that of a perfect black-and-white square
    wave of ``contrast`` grey levels. Aliased detail lands on other
    frequencies and does not count."""
    if profile.size < 4 or contrast <= 0:
        return 0.0
    t = np.arange(profile.size) * sample_mm
    amplitude = 2.0 / profile.size * abs(np.sum((profile - profile.mean()) * np.exp(-2j * np.pi * frequency * t)))
    return float(amplitude / (2.0 / np.pi * contrast))


def measure_bars(gray: np.ndarray, registration: Registration, sheet: SheetLayout, contrast: float) -> tuple[BarPoint, ...]:
    points = []
    step = 1.0 / BAR_SAMPLE_PX_PER_MM
    for patch in sheet.bars:
        x, y, w, h = patch.rect
        period = 1.0 / patch.frequency
        along = w if patch.axis == "x" else h
        # Whole periods only, one left out at each end (the patch's edges).
        periods = max(int(along / period) - 2, 1)
        start, length = period, periods * period
        if patch.axis == "x":
            region = (x + start, y + BAR_MARGIN_MM, length, h - 2 * BAR_MARGIN_MM)
        else:
            region = (x + BAR_MARGIN_MM, y + start, w - 2 * BAR_MARGIN_MM, length)
        size = (int(round(region[2] / step)), int(round(region[3] / step)))
        to_mm = np.array([[step, 0, region[0]], [0, step, region[1]], [0, 0, 1]])
        samples = cv2.warpPerspective(
            gray, registration.homography @ to_mm, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255
        )
        profile = samples.astype(np.float32).mean(axis=0 if patch.axis == "x" else 1)
        modulation = bar_modulation(profile, patch.frequency, step, contrast)
        points.append(BarPoint(patch.frequency, patch.axis, round(modulation, 3)))
    return tuple(points)


def measure_sheet(gray: np.ndarray, nominal_dpi: float) -> SheetMeasurement | Failed:
    """Every measurement of one scanned calibration sheet ((H, W) uint8)."""
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"expected a (H, W) uint8 grey page, got {gray.dtype} of shape {gray.shape}")
    if nominal_dpi <= 0:
        raise ValueError(f"nominal_dpi must be positive, got {nominal_dpi}")
    sheet = sheet_layout()
    found = detect_markers(gray)
    registration = register(found, sheet.form_layout.markers)
    if isinstance(registration, Failed):
        return registration
    qr_found = QR_PAYLOAD in find_payloads(gray, project(rect_corners(sheet.qr), registration))
    across, down = marker_scales(found, sheet)
    if np.isnan(across) or np.isnan(down):
        return Failed("markers-not-found", f"found corner markers {sorted(found)}; all four are needed to measure scale")
    tone = measure_tone(gray, registration, sheet)
    contrast = tone[0].level - tone[-1].level
    return SheetMeasurement(
        nominal_dpi=float(nominal_dpi),
        px_per_mm_x=round(across, 4),
        px_per_mm_y=round(down, 4),
        skew_deg=round(skew_degrees(registration), 3),
        orientation=registration.orientation,
        residual_mm=round(registration.residual_mm, 3),
        markers_found=registration.markers_found,
        qr_found=qr_found,
        tone=tone,
        marks=measure_marks(gray, registration, sheet),
        bars=measure_bars(gray, registration, sheet, contrast),
    )
