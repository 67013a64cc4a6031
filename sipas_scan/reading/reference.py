"""What an unfilled page looks like on the reading grid, and how dark the
scan is against it.

The reference pages are rendered once per survey layout (per process) from
the same drawing the printer used. Ink "added" by a respondent is where the
scan is darker than the reference, after the reference's printed strokes are
widened a little to absorb residual misalignment.

Darkness maps are uint8, 0 = paper, 255 = black (``DARKNESS_FULL``): OpenCV's
saturating uint8 arithmetic is several times faster than float maps of a
whole page, and 1/255 steps are far finer than any threshold used.
"""

from __future__ import annotations

import cv2
import numpy as np
import pypdfium2 as pdfium

from sipas_scan import defs
from sipas_scan.layout import FormLayout
from sipas_scan.printing.render import render_blank_pages

PRINT_TOLERANCE_PX = 5  # printed strokes widened by this (0.6 mm at 8 px/mm)
# Round a box the print is matched to the box's own found place, so it is
# widened only by the scanner's blur: a loop drawn tight round the box shows.
LOCAL_PRINT_TOLERANCE_PX = 2  # at the reading grid's own resolution; coarser scans blur more
DARKNESS_FULL = 255  # darkness map value of black
PAPER_FLOOR = 40  # grey level below which a "paper" estimate is not believed
PAPER_WINDOW_MM = 9  # paper is looked for this far round a point (wider than a filled box)
PAPER_SMOOTHING_MM = 3  # and smoothed over this (Gaussian sigma)
PRINTED_LEVEL = 20  # darkness (0..255) from which a pixel of the blank page counts as printed
LIKENESS_PX_PER_MM = 1  # pages are compared at this coarse scale: the print's layout, not its letters


def darkness_level(fraction: float) -> int:
    """A darkness fraction (0..1 of black) as a darkness-map value."""
    return int(round(fraction * DARKNESS_FULL))


_CACHE: dict[tuple[str, str, int], tuple[np.ndarray, ...]] = {}


def _reference_pages(layout: FormLayout, tolerance_px: int = PRINT_TOLERANCE_PX) -> tuple[np.ndarray, ...]:
    key = (layout.survey_id, layout.survey_version, tolerance_px)
    if key not in _CACHE:
        _CACHE[key] = _render_reference(layout, tolerance_px)
    return _CACHE[key]


def _render_reference(layout: FormLayout, tolerance_px: int) -> tuple[np.ndarray, ...]:
    document = pdfium.PdfDocument(render_blank_pages(layout))
    scale = defs.READ_PX_PER_MM * defs.MM_PER_INCH / 72
    size = (int(round(defs.PAGE_WIDTH_MM * defs.READ_PX_PER_MM)), int(round(defs.PAGE_HEIGHT_MM * defs.READ_PX_PER_MM)))
    pages = []
    for page in document:
        image = page.render(scale=scale, grayscale=True).to_numpy()
        image = image[..., 0] if image.ndim == 3 else image
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if image.shape[::-1] != size else image
        # Any printed pixel counts as fully printed: grey rules come out black
        # on a black-and-white scan and must not read as a respondent's ink.
        darkness = np.where(image < 255 - PRINTED_LEVEL, DARKNESS_FULL, 0).astype(np.uint8)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance_px + 1,) * 2)
        pages.append(cv2.dilate(darkness, kernel))
    return tuple(pages)


def local_print_tolerance(scan_px_per_mm: float) -> int:
    """How far the print is widened round a box for a scan of this
    resolution: a 150 dpi scan, enlarged onto the 8 px/mm grid, blurs the
    print by a third more."""
    return int(round(LOCAL_PRINT_TOLERANCE_PX * max(1.0, defs.READ_PX_PER_MM / max(scan_px_per_mm, 1e-6))))


def printed_darkness(layout: FormLayout, page_number: int, tolerance_px: int = PRINT_TOLERANCE_PX) -> np.ndarray:
    """(H, W) uint8 darkness map: printed ink of the blank page, widened by
    ``tolerance_px``."""
    return _reference_pages(layout, tolerance_px)[page_number - 1]


def darkness(aligned: np.ndarray) -> np.ndarray:
    """(H, W) uint8 darkness map of an aligned scan, relative to its local
    paper colour, so uneven lighting, tinted paper and grey scanner settings
    do not read as ink."""
    h, w = aligned.shape
    # At 1 px/mm, so the window below is in mm.
    small = cv2.resize(aligned, (int(w / defs.READ_PX_PER_MM), int(h / defs.READ_PX_PER_MM)), interpolation=cv2.INTER_AREA)
    # Paper level: a closing takes away anything dark narrower than the
    # window (marks, text, a filled box) and, unlike the brightest nearby
    # value alone, keeps a step where the paper ends or a fold's shadow
    # begins, so tinted paper beside brighter paper does not read as ink.
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (PAPER_WINDOW_MM,) * 2))
    paper = np.maximum(np.minimum(cv2.GaussianBlur(paper, (0, 0), PAPER_SMOOTHING_MM), paper), PAPER_FLOOR)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    # divide saturates at 255 where the scan is brighter than its paper: no ink.
    return DARKNESS_FULL - cv2.divide(aligned, paper, scale=DARKNESS_FULL)


def added_ink(dark: np.ndarray, printed: np.ndarray) -> np.ndarray:
    """Darkness the printer did not put there (uint8, saturating)."""
    return cv2.subtract(dark, printed)


def _coarse(image: np.ndarray) -> np.ndarray:
    """A darkness map at LIKENESS_PX_PER_MM, flattened, centred and of unit length."""
    h, w = image.shape
    scale = LIKENESS_PX_PER_MM / defs.READ_PX_PER_MM
    small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    return small / max(float(np.linalg.norm(small)), 1e-6)


_COARSE_CACHE: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}


def page_likeness(dark: np.ndarray, layout: FormLayout) -> list[float]:
    """How much an aligned scan looks like each blank page of ``layout``:
    the correlation (-1..1) of its darkness map ``dark`` ((H, W) uint8 on
    the reading grid) with each page's print, both at
    ``LIKENESS_PX_PER_MM``. A page's boxes and tables differ from every
    other page's, so the right page stands out even when its printed page
    number is illegible; a respondent's marks are too sparse to matter."""
    key = (layout.survey_id, layout.survey_version)
    if key not in _COARSE_CACHE:
        _COARSE_CACHE[key] = tuple(_coarse(page) for page in _reference_pages(layout))
    scan = _coarse(dark)
    return [float(scan @ page) for page in _COARSE_CACHE[key]]
