"""Markers -> homography from layout millimetres to page pixels.

Pure functions. A page aligns from four markers, or from three when one is
covered (each marker gives four corners, so three give twelve points). The
reprojection residual in mm is kept with the result; a page that does not
align is a falsy Failed value carrying its reason, not an exception.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, final

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.layout import Marker


@final  # never falsy: "if registration" tells it from a Failed
@dataclass(frozen=True)
class Registration:
    homography: np.ndarray  # (3, 3): layout mm -> image px
    markers_found: tuple[int, ...]
    residual_mm: float
    orientation: int  # degrees the page was turned (0, 90, 180, 270)
    px_per_mm: float


@dataclass(frozen=True)
class Failed:
    reason: str
    detail: str = ""

    def __bool__(self) -> Literal[False]:
        return False


@functools.cache
def _detector() -> cv2.aruco.ArucoDetector:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, defs.ARUCO_DICTIONARY))
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    # A page fed off-centre brings a marker to the image's edge, and a crop
    # of a corner window puts it near the crop's: accept markers there (only
    # ids 0-3 of the dictionary are taken, so nothing else gets in).
    # (minMarkerDistanceRate stays: at 0 a marker's inner outline competes
    # with its outer one and the corners come out 0.4 mm off.)
    parameters.minDistanceToBorder = 0
    parameters.minCornerDistanceRate = 0.0
    # A 150 dpi scan draws a marker's cell in 6-8 px, blurred and JPEG'd:
    # sampled at 4 px a cell with the default thin margin, the bits of an
    # upside-down or tilted marker came out wrong and whole pages were taken
    # for "not a form" (27 of 1,430 on hard simulated stacks); 8 px a cell,
    # reading only each cell's middle half, decodes them.
    parameters.perspectiveRemovePixelPerCell = 8
    parameters.perspectiveRemoveIgnoredMarginPerCell = 0.25
    return cv2.aruco.ArucoDetector(dictionary, parameters)


def _detect(gray: np.ndarray) -> list[tuple[int, np.ndarray]]:
    # A page fed off-centre or skewed brings a marker up against the image's
    # edge: its outline then runs along the edge and is no closed square to
    # the detector. A margin of paper round the image gives it back its quiet
    # zone (form pages of hard simulated stacks were taken for "not a form"
    # or quarantined for lack of markers the scan showed whole).
    pad = defs.MARKER_EDGE_PAD_PX
    paper = int(np.percentile(gray[::8, ::8], defs.PAPER_PERCENTILE))
    framed = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=paper)
    corners, ids, _ = _detector().detectMarkers(framed)
    if ids is None:
        return []
    return [(int(i), quad.reshape(4, 2).astype(np.float32) - pad) for i, quad in zip(ids.ravel(), corners, strict=True)]


def _search_corners(gray: np.ndarray, side_px: int, found: dict[int, np.ndarray], enlarge: float = 1.0) -> None:
    """Add to ``found`` the markers in the four corner windows of ``gray``
    not found yet, each window searched ``enlarge`` times its size."""
    for x0, y0, x1, y1 in _corner_windows(gray.shape, side_px):
        window = gray[y0:y1, x0:x1]
        if enlarge != 1.0:
            window = cv2.resize(window, None, fx=enlarge, fy=enlarge, interpolation=cv2.INTER_CUBIC)
        for marker_id, points in _detect(window):
            if marker_id in defs.MARKER_IDS and marker_id not in found:
                found[marker_id] = points / enlarge + np.array([x0, y0], np.float32)


def _corner_windows(shape: tuple[int, int], side_px: int) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of the four corner windows where the markers are printed."""
    h, w = shape
    side_x, side_y = min(side_px, w // 2), min(side_px, h // 2)
    return [(0, 0, side_x, side_y), (w - side_x, 0, w, side_y), (w - side_x, h - side_y, w, h), (0, h - side_y, side_x, h)]


def detect_markers(gray: np.ndarray) -> dict[int, np.ndarray]:
    """Marker id -> its 4 corners (4, 2) in image px.

    The markers sit in the page's corners whichever way it was fed, so they
    are looked for in four corner windows first (an eighth of the page's
    pixels); only when fewer than three turn up are the windows of a
    low-resolution scan searched again scaled up, then the whole page, on a
    scaled copy, with the corners refined at full resolution."""
    # The scan's scale from its long side (an A4 page, whichever way it lies),
    # not from a dpi the file may not state.
    side_px = int(defs.MARKER_WINDOW_MM * max(gray.shape) / defs.PAGE_HEIGHT_MM)
    found: dict[int, np.ndarray] = {}
    _search_corners(gray, side_px, found)
    if len(found) >= 3:
        return found
    if side_px < defs.MARKER_UPSCALE_BELOW_PX:
        # A blurred low-resolution scan draws a marker's cells a few pixels
        # wide: the detector's thresholds lose them at that size, and find
        # them on the window scaled up.
        _search_corners(gray, side_px, found, enlarge=2.0)
        if len(found) >= 3:
            return found
    # The whole page's search finds markers the windows missed (a page fed
    # far off-centre) and places each it finds; a marker only the windows
    # found keeps their place.
    in_windows, found = found, {}
    scale = min(1.0, defs.MARKER_DETECT_MAX_SIDE_PX / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    for marker_id, quad in _detect(small):
        if marker_id in defs.MARKER_IDS and marker_id not in found:
            points = quad / scale
            if scale < 1:
                window = max(3, int(round(2 / scale)))
                # A marker at the image's edge: refine only corners with room round them.
                h, w = gray.shape
                inside = (
                    (points[:, 0] > window)
                    & (points[:, 0] < w - window - 1)
                    & (points[:, 1] > window)
                    & (points[:, 1] < h - window - 1)
                )
                if not inside.all():
                    found[marker_id] = points
                    continue
                points = cv2.cornerSubPix(
                    gray,
                    points.reshape(-1, 1, 2),
                    (window, window),
                    (-1, -1),
                    (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05),
                ).reshape(4, 2)
            found[marker_id] = points
    return in_windows | found


def rect_corners(rect: tuple[float, float, float, float]) -> np.ndarray:
    """(4, 2) corners of an [x, y, w, h] rectangle, clockwise from top-left."""
    x, y, w, h = rect
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float32)


def project(points_mm: np.ndarray, registration: Registration) -> np.ndarray:
    """Layout points (N, 2) in mm to image pixels."""
    return cv2.perspectiveTransform(points_mm.reshape(-1, 1, 2).astype(np.float32), registration.homography).reshape(-1, 2)


def _spans_page(found: set[int]) -> bool:
    """Two markers plus the code (top right) pin the whole page only when one
    marker is on the left and one at the bottom; two along one edge would
    leave the far side to extrapolation."""
    return bool(found & {0, 3}) and bool(found & {2, 3}) and len(found) >= 2


def register(
    markers: dict[int, np.ndarray], printed: Sequence[Marker], code: tuple[np.ndarray, np.ndarray] | None = None
) -> Registration | Failed:
    """``printed``: where the markers are on the page (a layout's ``markers``).
    ``code``: the QR symbol's corners in mm and in image px, used when a
    marker or two are lost (cut off by the scanner, covered)."""
    usable_code = code if code is not None and len(markers) < 3 and _spans_page(set(markers)) else None
    if len(markers) < 3 and usable_code is None:
        return Failed(
            "markers-not-found",
            f"found corner markers {sorted(markers)}; need at least 3 of 0-3, or 2 on different sides with a readable code",
        )
    src, dst = [], []
    for marker in printed:
        if marker.id in markers:
            src.append(rect_corners(marker.rect))
            dst.append(markers[marker.id])
    if usable_code is not None:
        src.append(usable_code[0].astype(np.float32))
        dst.append(usable_code[1].astype(np.float32))
    src_points, dst_points = np.concatenate(src), np.concatenate(dst)
    homography, _ = cv2.findHomography(src_points, dst_points, 0)
    if homography is None:
        return Failed("markers-not-found", "the markers do not define a page")
    projected = cv2.perspectiveTransform(src_points.reshape(-1, 1, 2), homography).reshape(-1, 2)
    px_per_mm = scale_of(homography)
    residual = float(np.sqrt(np.mean(np.sum((projected - dst_points) ** 2, axis=1)))) / px_per_mm
    return Registration(homography, tuple(sorted(markers)), residual, orientation_of(homography), px_per_mm)


def scale_of(homography: np.ndarray) -> float:
    """Image px per layout mm, from the projected page diagonal."""
    ends = cv2.perspectiveTransform(np.array([[[0, 0]], [[defs.PAGE_WIDTH_MM, defs.PAGE_HEIGHT_MM]]], dtype=np.float64), homography)
    return float(np.linalg.norm(ends[1] - ends[0]) / np.hypot(defs.PAGE_WIDTH_MM, defs.PAGE_HEIGHT_MM))


def orientation_of(homography: np.ndarray) -> int:
    """Degrees the page was turned (0, 90, 180, 270): where its "up" points in the image."""
    up = cv2.perspectiveTransform(np.array([[[105, 200]], [[105, 100]]], dtype=np.float64), homography).reshape(2, 2)
    dx, dy = up[1] - up[0]
    return int(round(np.degrees(np.arctan2(dx, -dy)) / 90.0)) % 4 * 90


def warp_to_layout(gray: np.ndarray, registration: Registration, px_per_mm: float = defs.READ_PX_PER_MM) -> np.ndarray:
    """The page resampled onto the layout's grid: (297*s, 210*s) uint8."""
    to_canonical = np.diag([px_per_mm, px_per_mm, 1.0]) @ np.linalg.inv(registration.homography)
    size = (int(round(defs.PAGE_WIDTH_MM * px_per_mm)), int(round(defs.PAGE_HEIGHT_MM * px_per_mm)))
    return cv2.warpPerspective(gray, to_canonical, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
