"""The calibration sheet: where everything is, computed once.

One model drives both printing the sheet and measuring its scan (as the
survey layout does for forms). Lengths in mm from the page's top-left corner,
rectangles ``(x, y, w, h)``; darkness is the share of ink printed, 0 = paper,
1 = black.

The sheet carries the four corner markers exactly where the forms have them,
a QR code saying what the sheet is, a grey wedge, a grid of checkboxes (the
forms' own size and line) with reference marks of known darkness and size,
line-pair patches for the optical resolution, and millimetre rulers to check
that the sheet was printed at 100 %.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sipas_scan import defs
from sipas_scan.layout import FormLayout, Marker, Rect, marker_rects
from sipas_scan.reading.marks import INSET_MM

SHEET_VERSION = "1"
QR_PAYLOAD = f"SIPAS-CALIBRATION|{SHEET_VERSION}"

# Grey wedge: finer steps at the light end, where pencil and faint ticks live.
PATCH_LEVELS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 1.0)
PATCH_TOP_MM = 40.0
PATCH_SIZE_MM = 12.0
PATCH_PITCH_MM = 12.8
PATCH_LEFT_MM = defs.CONTENT_LEFT_MM + 0.5

# Reference marks: rows of darkness, columns of coverage (share of the
# measured inside of the box that the mark covers; 0 = an empty box).
MARK_LEVELS = (0.15, 0.22, 0.30, 0.38, 0.45, 0.55, 0.70, 1.0)
MARK_COVERAGES = (0.0, 0.0, 0.04, 0.08, 0.15, 0.30, 0.50)
MARK_GRID_LEFT_MM = 36.0
MARK_GRID_TOP_MM = 80.0
MARK_COLUMN_PITCH_MM = 13.0
MARK_ROW_PITCH_MM = 10.0


# Line pairs: black and white bars, one pair per 1/f mm, across x and y.
BAR_FREQUENCIES = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)  # line pairs per mm
BAR_PATCH_W_MM = 14.0
BAR_PATCH_H_MM = 8.0
BAR_LEFT_MM = 140.0
BAR_TOP_MM = 80.0
BAR_ROW_PITCH_MM = 10.0
BAR_COLUMN_PITCH_MM = 19.0

# Rulers along the content's top and left edges.
RULER_Y_MM = 262.0
RULER_X0_MM = defs.CONTENT_LEFT_MM + 5.0
RULER_LENGTH_MM = 170.0
VRULER_X_MM = 12.0
VRULER_Y0_MM = 35.0
VRULER_LENGTH_MM = 220.0


@dataclass(frozen=True)
class Patch:
    darkness: float
    rect: Rect


@dataclass(frozen=True)
class ReferenceMark:
    darkness: float
    coverage: float  # share of the measured inside of the box
    box: Rect  # the printed checkbox (forms' size and line)
    mark: Rect | None  # the filled square inside it; None for an empty box


@dataclass(frozen=True)
class BarPatch:
    frequency: float  # line pairs per mm
    axis: str  # "x": bars are vertical, the grey level varies along x; "y": the other way
    rect: Rect


@dataclass(frozen=True)
class SheetLayout:
    markers: tuple[Marker, ...]
    qr: Rect
    patches: tuple[Patch, ...]
    marks: tuple[ReferenceMark, ...]
    bars: tuple[BarPatch, ...]

    @property
    def form_layout(self) -> FormLayout:
        """A page-less form layout with the sheet's markers, so the reader's
        own registration aligns the sheet."""
        return FormLayout("calibration", SHEET_VERSION, (), self.markers, self.qr)


def _mark_rect(box: Rect, coverage: float) -> Rect | None:
    if coverage <= 0:
        return None
    inner = box[2] - 2 * INSET_MM
    side = inner * coverage**0.5
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return (cx - side / 2, cy - side / 2, side, side)


@functools.cache
def sheet_layout() -> SheetLayout:
    patches = tuple(
        Patch(level, (PATCH_LEFT_MM + i * PATCH_PITCH_MM, PATCH_TOP_MM, PATCH_SIZE_MM, PATCH_SIZE_MM))
        for i, level in enumerate(PATCH_LEVELS)
    )
    marks = []
    side = defs.BOX_SIZE_MM
    for row, level in enumerate(MARK_LEVELS):
        for column, coverage in enumerate(MARK_COVERAGES):
            box = (MARK_GRID_LEFT_MM + column * MARK_COLUMN_PITCH_MM, MARK_GRID_TOP_MM + row * MARK_ROW_PITCH_MM, side, side)
            marks.append(ReferenceMark(level, coverage, box, _mark_rect(box, coverage)))
    bars = tuple(
        BarPatch(
            f, axis, (BAR_LEFT_MM + column * BAR_COLUMN_PITCH_MM, BAR_TOP_MM + row * BAR_ROW_PITCH_MM, BAR_PATCH_W_MM, BAR_PATCH_H_MM)
        )
        for row, f in enumerate(BAR_FREQUENCIES)
        for column, axis in enumerate(("x", "y"))
    )
    qr = (defs.QR_X_MM, defs.QR_Y_MM, defs.QR_SIZE_MM, defs.QR_SIZE_MM)
    return SheetLayout(marker_rects(), qr, patches, tuple(marks), bars)
