"""Align a page from its printed structure when its corner markers are lost.

Pure functions. ``register`` needs three corner markers (or two and the QR
code); scanners cut markers off and pens cover them. The page still carries
everything else the layout printed: dozens of checkbox outlines, grid rules,
the header rule, comment frames and lines of text. From a rough homography
(``coarse_homography``: one marker's corners or the QR symbol's), the
structure is found in the scan and the exact homography fitted to it:

1. The scan is resampled onto the layout at ``COARSE_PX_PER_MM`` through the
   rough homography, and large patches of a rendering of the page (boxes,
   rules, frames, and text lines as grey bars) are matched there, each within
   ``search_mm``. A patch gives a few candidate displacements (the boxes of a
   row look alike); a similarity fitted with RANSAC picks those that agree,
   and an affine fitted to them corrects the rough homography.
2. The scan is resampled again at ``FINE_PX_PER_MM`` through the corrected
   homography, the layout's text blanked out, and every box, rule junction,
   rule end and frame corner located to a fraction of a pixel within
   ``refine_mm``.
3. A homography layout mm -> image px is fitted to those points with RANSAC
   (an affine instead when it fits as well: it extrapolates better to parts
   of the page without structure); its inliers' RMS distance in mm is the
   alignment's residual.

A page whose structure is not found (a blank page, a foreign page, another
page of the form) is a falsy ``Failed("structure-not-found", detail)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.fonts import text_width_mm
from sipas_scan.layout import Frame, Marker, PageLayout, Rule, TextRun
from sipas_scan.reading.register import Failed, Registration, orientation_of, rect_corners, scale_of

REASON = "structure-not-found"

# Step 1: the rough homography corrected from large patches.
COARSE_PX_PER_MM = 2.0  # resolution of the coarse search
PATCH_MM = 20.0  # side of a matched patch of the page's rendering
PATCH_STEP_MM = 20.0  # patches are centred on a grid this fine ...
PATCH_MIN_EDGES = 0.04  # ... where they hold this much edge (mean |gradient| of the 0..1 rendering per px) both ways
PEAKS_PER_PATCH = 3  # candidate displacements kept per patch
PEAK_SEPARATION_MM = 2.5  # candidates at least this far apart
MIN_PATCH_SCORE = 0.25  # normalised correlation a candidate needs ...
PEAK_RATIO = 0.6  # ... and this share of its patch's best
COARSE_TOLERANCE_MM = 1.5  # candidates within this of the RANSAC similarity agree with it
TEXT_DARKNESS = 0.25  # a line of body text seen as a grey bar (bold: x1.4)
TEXT_CAP_HEIGHT = 0.72  # bar height above the baseline, share of the font size

# Step 2: every feature located precisely.
FINE_PX_PER_MM = 5.0  # resolution of the precise search
FEATURE_PATCH_MM = 7.0  # side of the rendering cut around a box, junction, rule end or corner
MIN_FEATURE_SCORE = 0.5  # normalised correlation a located feature needs
TEXT_ABOVE = 1.0  # text is blanked from this share of its font size above the baseline
TEXT_BELOW = 0.25  # ... to this share below it (descenders)
TEXT_MARGIN_MM = 0.5  # ... and this much around: bold text beside a thin grey rule would pull its match

# Step 3: the fit and its acceptance.
FIT_TOLERANCE_MM = 0.5  # RANSAC inlier threshold of the final homography
AFFINE_SLACK_MM = 0.03  # an affine is kept when its RMS is within this of the homography's
MIN_INLIERS = 12
MIN_INLIER_SHARE = 0.4  # of the page's features
MIN_BOX_SHARE = 0.6  # of the page's boxes: another page of the form shares grid rules, not boxes
PINNING_ANCHORS = 8  # anchor points (two markers' corners, or one marker's and the code's) that pin a page with its boxes
# Of a page whose code or print names it and two markers pin, the boxes
# need only confirm where it lies, not which page it is: a band of faded
# print can take half of them (hard stacks: 12 of 21 and 40-41 of 70 boxes
# agreeing with two markers at 0.05-0.12 mm, the rest of the print gone).
KNOWN_PAGE_BOX_SHARE = 0.5
ALL_BOXES_SHARE = 0.85  # this share of the boxes agreeing stands in for the rules (hard scans: 54-69 of 63-70 agree at 0.01-0.05 mm)
MIN_SPAN = 0.5  # inliers' extent, share of the page's width and height ...
MIN_QUADRANTS = 3  # ... or inliers in this many of the page's quadrants

_EPS_MM = 0.05  # rules this close meet


# --------------------------------------------------------------------------
# The page's printed structure, rendered once per page layout.


@dataclass(frozen=True)
class _PageModel:
    coarse: np.ndarray  # (H, W) float32 at COARSE_PX_PER_MM: -darkness of structure and text bars
    fine: np.ndarray  # (H, W) float32 at FINE_PX_PER_MM: -darkness of the structure alone
    text: np.ndarray  # (H, W) float32 at FINE_PX_PER_MM: 255 where text is printed, else 0
    anchors: np.ndarray  # (N, 2) mm: centres of the patches matched in step 1
    features: np.ndarray  # (M, 2) mm: boxes' centres first, then rule junctions and ends, frame corners
    boxes: int  # how many of the features are boxes


_MODELS: dict[int, tuple[PageLayout, _PageModel]] = {}
_MAX_MODELS = 64


def _page_shape(scale: float) -> tuple[int, int]:
    return int(round(defs.PAGE_HEIGHT_MM * scale)), int(round(defs.PAGE_WIDTH_MM * scale))


def _draw_rect(image: np.ndarray, rect: tuple[float, float, float, float], value: float, scale: float) -> None:
    """Darken an axis-aligned (x0, y0, x1, y1) mm rectangle to ``value``,
    area-weighted at its edges (pixel centres at mm * scale)."""
    h, w = image.shape
    px0, py0, px1, py1 = (v * scale + 0.5 for v in rect)
    c0, r0 = max(0, int(np.floor(px0))), max(0, int(np.floor(py0)))
    c1, r1 = min(w, int(np.ceil(px1))), min(h, int(np.ceil(py1)))
    if c1 <= c0 or r1 <= r0:
        return
    cols, rows = np.arange(c0, c1, dtype=np.float32), np.arange(r0, r1, dtype=np.float32)
    wx = np.clip(np.minimum(cols + 1, px1) - np.maximum(cols, px0), 0, 1)
    wy = np.clip(np.minimum(rows + 1, py1) - np.maximum(rows, py0), 0, 1)
    image[r0:r1, c0:c1] = np.maximum(image[r0:r1, c0:c1], value * np.outer(wy, wx))


def _draw_stroke(image: np.ndarray, rule: Rule, scale: float, *, square_ends: bool = False) -> None:
    """An axis-parallel stroke. PDF rules end flush (butt caps); a frame's
    sides run on by half their width to cover its corners."""
    width = rule.width_pt / defs.PT_PER_MM
    half = max(width, 1.0 / scale) / 2  # thinner than a pixel: one pixel, proportionally paler
    value = (1.0 - rule.grey) * min(1.0, width * scale)
    x0, x1 = sorted((rule.x1, rule.x2))
    y0, y1 = sorted((rule.y1, rule.y2))
    along = half if square_ends else 0.0
    if x1 - x0 < _EPS_MM:
        _draw_rect(image, (x0 - half, y0 - along, x1 + half, y1 + along), value, scale)
    else:
        _draw_rect(image, (x0 - along, y0 - half, x1 + along, y1 + half), value, scale)


def _straight(item: Rule) -> bool:
    return not item.dashed and (abs(item.x1 - item.x2) < _EPS_MM or abs(item.y1 - item.y2) < _EPS_MM)


def _text_extent(item: TextRun) -> tuple[float, float, float]:
    """(left, right, font size) of a text run, in mm."""
    width = text_width_mm(item.text, item.size_pt, bold=item.bold)
    left = item.x - {"left": 0.0, "center": width / 2, "right": width}[item.align]
    return left, left + width, item.size_pt / defs.PT_PER_MM


def _render(page: PageLayout, scale: float, *, text: bool) -> np.ndarray:
    """(H, W) float32: the page's printed darkness (0 paper .. 1 black) at
    ``scale`` px/mm: frames and solid rules, and text lines as grey bars
    when ``text``."""
    image = np.zeros(_page_shape(scale), np.float32)
    for item in page.drawing:
        if isinstance(item, Rule) and _straight(item):
            _draw_stroke(image, item, scale)
        elif isinstance(item, Frame):
            x, y, w, h = item.rect
            for x1, y1, x2, y2 in ((x, y, x + w, y), (x, y + h, x + w, y + h), (x, y, x, y + h), (x + w, y, x + w, y + h)):
                _draw_stroke(image, Rule(x1, y1, x2, y2, item.width_pt), scale, square_ends=True)
        elif text and isinstance(item, TextRun) and item.text.strip():
            left, right, size = _text_extent(item)
            darkness = TEXT_DARKNESS * (1.4 if item.bold else 1.0) * (1.0 - item.grey)
            _draw_rect(image, (left, item.y - TEXT_CAP_HEIGHT * size, right, item.y), darkness, scale)
    return image


def _text_mask(page: PageLayout, scale: float) -> np.ndarray:
    """(H, W) float32: 255 where the page's text is printed (with a margin), else 0."""
    mask = np.zeros(_page_shape(scale), np.float32)
    m = TEXT_MARGIN_MM
    for item in page.drawing:
        if isinstance(item, TextRun) and item.text.strip():
            left, right, size = _text_extent(item)
            _draw_rect(mask, (left - m, item.y - TEXT_ABOVE * size - m, right + m, item.y + TEXT_BELOW * size + m), 1.0, scale)
    return np.where(mask > 0, np.float32(255), np.float32(0))


def _features(page: PageLayout) -> tuple[np.ndarray, int]:
    """(M, 2) mm: points the printed structure pins in both directions, the
    checkboxes' centres first; and how many of them are checkboxes."""
    box_rects = {o.box for f in page.fields for o in f.options}
    boxes: list[tuple[float, float]] = []
    points: list[tuple[float, float]] = []
    horizontal: list[tuple[float, float, float]] = []  # (x0, x1, y)
    vertical: list[tuple[float, float, float]] = []  # (y0, y1, x)
    for item in page.drawing:
        if isinstance(item, Frame):
            if item.rect in box_rects:
                boxes.append((item.x + item.w / 2, item.y + item.h / 2))
            else:
                points.extend((float(x), float(y)) for x, y in rect_corners(item.rect))
        elif isinstance(item, Rule) and _straight(item):
            if abs(item.y1 - item.y2) < _EPS_MM:
                horizontal.append((min(item.x1, item.x2), max(item.x1, item.x2), item.y1))
            else:
                vertical.append((min(item.y1, item.y2), max(item.y1, item.y2), item.x1))
    # Where rules meet or cross (grid corners, T and + junctions).
    for x0, x1, y in horizontal:
        for y0, y1, x in vertical:
            if x0 - _EPS_MM <= x <= x1 + _EPS_MM and y0 - _EPS_MM <= y <= y1 + _EPS_MM:
                points.append((x, y))
    # Ends of rules that meet nothing (the header rule's).
    for lines, across in ((horizontal, vertical), (vertical, horizontal)):
        for a0, a1, c in lines:
            for end in (a0, a1):
                meets = any(abs(end - c2) < _EPS_MM and b0 - _EPS_MM <= c <= b1 + _EPS_MM for b0, b1, c2 in across)
                goes_on = any(
                    abs(c3 - c) < _EPS_MM and (b0, b1) != (a0, a1) and (abs(end - b0) < _EPS_MM or abs(end - b1) < _EPS_MM)
                    for b0, b1, c3 in lines
                )
                if not meets and not goes_on:
                    points.append((end, c) if lines is horizontal else (c, end))
    others = np.unique(np.round(np.array(points, dtype=np.float32).reshape(-1, 2), 2), axis=0)
    return np.concatenate([np.array(boxes, dtype=np.float32).reshape(-1, 2), others]).astype(np.float32), len(boxes)


def _anchors(rendering: np.ndarray, scale: float) -> np.ndarray:
    """(N, 2) mm: centres of patches with edges both ways (a lone rule or
    blank paper would slide)."""
    side = int(round(PATCH_MM * scale))
    ex = cv2.boxFilter(np.abs(cv2.Sobel(rendering, cv2.CV_32F, 1, 0, ksize=3)), -1, (side, side))
    ey = cv2.boxFilter(np.abs(cv2.Sobel(rendering, cv2.CV_32F, 0, 1, ksize=3)), -1, (side, side))
    half = PATCH_MM / 2
    centres = [
        (x, y)
        for y in np.arange(half, defs.PAGE_HEIGHT_MM - half + _EPS_MM, PATCH_STEP_MM)
        for x in np.arange(half, defs.PAGE_WIDTH_MM - half + _EPS_MM, PATCH_STEP_MM)
        if min(ex[int(round(y * scale)), int(round(x * scale))], ey[int(round(y * scale)), int(round(x * scale))]) >= PATCH_MIN_EDGES
    ]
    return np.array(centres, dtype=np.float32).reshape(-1, 2)


def _model(page: PageLayout) -> _PageModel:
    """The page's renderings and features, cached per PageLayout object."""
    cached = _MODELS.get(id(page))
    if cached is not None and cached[0] is page:
        return cached[1]
    coarse = _render(page, COARSE_PX_PER_MM, text=True)
    # Stored negated: matched against the scan's grey levels (ink is low),
    # not a darkness map that would have to be computed for every scan.
    model = _PageModel(
        -coarse,
        -_render(page, FINE_PX_PER_MM, text=False),
        _text_mask(page, FINE_PX_PER_MM),
        _anchors(coarse, COARSE_PX_PER_MM),
        *_features(page),
    )
    if len(_MODELS) >= _MAX_MODELS:
        _MODELS.clear()
    _MODELS[id(page)] = (page, model)
    return model


# --------------------------------------------------------------------------
# Geometry.


def _project(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """(N, 2) points through a 3x3 homography."""
    return cv2.perspectiveTransform(np.asarray(points, np.float64).reshape(-1, 1, 2), homography).reshape(-1, 2)


def _resample(gray: np.ndarray, homography: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) float32 grey levels: the scan on the layout's grid at ``scale``
    px/mm (pixel centres at mm * scale); off the scan is paper (255)."""
    source, h = gray, homography
    # Halve the scan (Gaussian pyramid) while it is twice as fine as needed:
    # sampled directly, thin grey rules would fall between the samples.
    while scale_of(h) >= 2 * scale and min(source.shape) > 64:
        source = cv2.pyrDown(source)
        h = np.diag([0.5, 0.5, 1.0]) @ h
    to_image = h @ np.diag([1 / scale, 1 / scale, 1.0])
    shape = _page_shape(scale)
    warped = cv2.warpPerspective(
        source,
        to_image,
        (shape[1], shape[0]),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    return warped.astype(np.float32)


def _window(image: np.ndarray, centre_px: tuple[float, float], half: int) -> np.ndarray | None:
    """The (2 half + 1)-pixel square of ``image`` around ``centre_px`` (x, y); None past its edge."""
    c, r = int(round(centre_px[0])), int(round(centre_px[1]))
    if r < half or c < half or r + half + 1 > image.shape[0] or c + half + 1 > image.shape[1]:
        return None
    return image[r - half : r + half + 1, c - half : c + half + 1]


def _subpixel(scores: np.ndarray, r: int, c: int) -> tuple[float, float]:
    """(x, y) of a correlation peak, refined by a parabola through its neighbours per axis."""

    def vertex(before: float, peak: float, after: float) -> float:
        curvature = before - 2 * peak + after
        return 0.0 if curvature >= 0 else float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))

    h, w = scores.shape
    dx = vertex(scores[r, c - 1], scores[r, c], scores[r, c + 1]) if 0 < c < w - 1 else 0.0
    dy = vertex(scores[r - 1, c], scores[r, c], scores[r + 1, c]) if 0 < r < h - 1 else 0.0
    return c + dx, r + dy


def _as_3x3(affine: np.ndarray) -> np.ndarray:
    return np.vstack([np.asarray(affine, np.float64), [0.0, 0.0, 1.0]])


# --------------------------------------------------------------------------
# Step 1: candidate displacements of large patches, agreed on by RANSAC.


def _patch_candidates(scan: np.ndarray, model: _PageModel, search_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) (K, 2) mm: patch centres on the layout, and where on the
    resampled scan the candidate matches put them."""
    s = COARSE_PX_PER_MM
    half = int(round(PATCH_MM * s / 2))
    reach = int(round(search_mm * s))
    separation = max(1, int(round(PEAK_SEPARATION_MM * s)))
    suppress = np.ones((2 * separation + 1,) * 2, np.uint8)
    pad = half + reach  # paper around the page, so patches near its edges are searched too
    scan = cv2.copyMakeBorder(scan, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    src, dst = [], []
    for x, y in model.anchors:
        template = _window(model.coarse, (x * s, y * s), half)
        window = _window(scan, (x * s + pad, y * s + pad), pad)
        if template is None or window is None or float(window.std()) < 1e-3:
            continue
        scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
        best = float(scores.max())
        if best < MIN_PATCH_SCORE:
            continue
        peaks = (scores >= cv2.dilate(scores, suppress)) & (scores >= max(MIN_PATCH_SCORE, PEAK_RATIO * best))
        rows, cols = np.nonzero(peaks)
        for i in np.argsort(-scores[rows, cols])[:PEAKS_PER_PATCH]:
            px, py = _subpixel(scores, int(rows[i]), int(cols[i]))
            src.append((x, y))
            dst.append((x + (px - reach) / s, y + (py - reach) / s))
    return np.array(src, dtype=np.float32).reshape(-1, 2), np.array(dst, dtype=np.float32).reshape(-1, 2)


def _correction(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    """3x3 affine layout mm -> resampled-scan mm that the candidates agree on."""
    if len(src) < 3:
        return None
    similarity, agree = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=COARSE_TOLERANCE_MM, maxIters=4000, confidence=0.999, refineIters=10
    )
    if similarity is None:
        return None
    keep = agree.ravel().astype(bool)
    if keep.sum() >= 6:
        # Refined to an affine: scanners (and rough homographies) scale x
        # and y a little differently.
        affine, _ = cv2.estimateAffine2D(src[keep], dst[keep], method=cv2.LMEDS)
        if affine is not None:
            similarity = affine
    return _as_3x3(similarity)


# --------------------------------------------------------------------------
# Step 2: every feature located precisely.


def _locate_features(scan: np.ndarray, model: _PageModel, refine_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the features found, (K, 2) their offsets in mm on the resampled scan)."""
    s = FINE_PX_PER_MM
    half = int(round(FEATURE_PATCH_MM * s / 2))
    reach = max(2, int(round(refine_mm * s)))
    found, offsets = [], []
    for i, (x, y) in enumerate(model.features):
        template = _window(model.fine, (x * s, y * s), half)
        window = _window(scan, (x * s, y * s), half + reach)
        if template is None or window is None or float(template.std()) < 1e-3:
            continue
        scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (c, r) = cv2.minMaxLoc(scores)
        # A peak on the window's edge is a neighbour's (or nothing's) pull.
        if best < MIN_FEATURE_SCORE or not (0 < c < scores.shape[1] - 1 and 0 < r < scores.shape[0] - 1):
            continue
        px, py = _subpixel(scores, r, c)
        found.append(i)
        offsets.append(((px - reach) / s, (py - reach) / s))
    return np.array(found, dtype=np.int64), np.array(offsets, dtype=np.float32).reshape(-1, 2)


# --------------------------------------------------------------------------
# Step 3: the homography the features agree on.


def _errors_mm(homography: np.ndarray, layout_points: np.ndarray, image_points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(_project(layout_points, homography) - image_points, axis=1) / scale_of(homography)


def _fit(layout_points: np.ndarray, image_points: np.ndarray) -> np.ndarray | None:
    """Least-squares homography through the points, or the affine when it
    fits about as well (it extrapolates better past the points' hull)."""
    homography, _ = cv2.findHomography(layout_points, image_points, 0)
    if homography is None:
        return None
    affine = _affine(layout_points, image_points)

    def rms(h: np.ndarray) -> float:
        return float(np.sqrt(np.mean(_errors_mm(h, layout_points, image_points) ** 2)))

    return affine if rms(affine) <= rms(homography) + AFFINE_SLACK_MM else homography


def _affine(layout_points: np.ndarray, image_points: np.ndarray) -> np.ndarray:
    """Least-squares affine (3, 3) through the points."""
    design = np.hstack([layout_points, np.ones((len(layout_points), 1))])
    return _as_3x3(np.linalg.lstsq(design, image_points, rcond=None)[0].T)


def _spans_one_way(points: np.ndarray) -> bool:
    """Points over MIN_SPAN of the page's width or of its height (a strip)."""
    extent = points.max(axis=0) - points.min(axis=0)
    return bool(extent[0] > MIN_SPAN * defs.PAGE_WIDTH_MM or extent[1] > MIN_SPAN * defs.PAGE_HEIGHT_MM)


def _spans_page(points: np.ndarray) -> bool:
    """Points in >= MIN_QUADRANTS quadrants of the page, or over MIN_SPAN of its width and height."""
    if len(points) == 0:
        return False
    quadrants = {(bool(x >= defs.PAGE_WIDTH_MM / 2), bool(y >= defs.PAGE_HEIGHT_MM / 2)) for x, y in points}
    extent = points.max(axis=0) - points.min(axis=0)
    wide = extent[0] > MIN_SPAN * defs.PAGE_WIDTH_MM and extent[1] > MIN_SPAN * defs.PAGE_HEIGHT_MM
    return len(quadrants) >= MIN_QUADRANTS or bool(wide)


def align_from_structure(
    gray: np.ndarray,
    page: PageLayout,
    coarse: np.ndarray,
    *,
    anchors: tuple[np.ndarray, np.ndarray] | None = None,
    search_mm: float = 16.0,
    refine_mm: float = 2.0,
    page_known: bool = False,
) -> Registration | Failed:
    """Homography layout mm -> image px from the page's printed structure.

    ``gray``: the scan, uint8 (H, W), 150-300 dpi. ``page``: the layout of
    the page printed on it. ``coarse``: (3, 3) homography layout mm -> image
    px that is roughly right, including any quarter turn of the page (see
    ``coarse_homography``). ``search_mm``: how far (mm) the structure may lie
    from where ``coarse`` puts it, anywhere on the page: the default covers
    3 mm of shift plus 3 degrees of rotation about a page corner.
    ``refine_mm``: how far a feature may lie from where the corrected
    homography puts it. ``anchors``: (layout mm (N, 2), image px (N, 2))
    points known besides the structure (the corners of the markers found):
    fitted with it, so a page whose boxes all lie on one side is pinned on
    the other. ``page_known``: the page's code or print named it, so the
    boxes need not tell it from the form's other pages (which share its
    rules): with two markers pinning it, ``KNOWN_PAGE_BOX_SHARE`` of them
    agreeing is enough.

    Returns a Registration: ``homography`` (3, 3) layout mm -> image px,
    ``markers_found`` empty (no marker was used), ``residual_mm`` the RMS
    distance in mm between the features found and where the homography puts
    them (inliers only), ``orientation`` and ``px_per_mm`` as ``register``
    gives them. Or ``Failed("structure-not-found", detail)`` when fewer than
    ``MIN_INLIERS`` features (or ``MIN_INLIER_SHARE`` of the page's features,
    or ``MIN_BOX_SHARE`` of its boxes) agree, when they do not span the page,
    or when they disagree by more than ``defs.MAX_ALIGNMENT_RESIDUAL_MM``.
    """
    coarse = np.asarray(coarse, np.float64)
    model = _model(page)
    total = len(model.features)
    if total == 0:
        return Failed(REASON, "the page has no boxes, rules or frames to align on")
    # Step 1.
    src, dst = _patch_candidates(_resample(gray, coarse, COARSE_PX_PER_MM), model, search_mm)
    correction = _correction(src, dst)
    if correction is None:
        return Failed(
            REASON,
            f"the page's printed structure is not near where it should be "
            f"({len(src)} candidate matches of {len(model.anchors)} patches)",
        )
    corrected = coarse @ correction
    # Step 2.
    scan = cv2.max(_resample(gray, corrected, FINE_PX_PER_MM), model.text)
    found, offsets = _locate_features(scan, model, refine_mm)
    if len(found) < MIN_INLIERS:
        return Failed(REASON, f"found {len(found)} of {total} printed features (boxes, rule junctions, corners); need {MIN_INLIERS}")
    layout_points = model.features[found].astype(np.float64)
    image_points = _project(layout_points + offsets, corrected)
    is_box = found < model.boxes
    if anchors is not None and len(anchors[0]):
        layout_points = np.concatenate([layout_points, np.asarray(anchors[0], np.float64).reshape(-1, 2)])
        image_points = np.concatenate([image_points, np.asarray(anchors[1], np.float64).reshape(-1, 2)])
    is_feature = np.arange(len(layout_points)) < len(found)
    is_box = np.concatenate([is_box, np.zeros(len(layout_points) - len(found), bool)])
    # Step 3.
    homography, mask = cv2.findHomography(
        layout_points, image_points, cv2.RANSAC, FIT_TOLERANCE_MM * scale_of(corrected), maxIters=2000, confidence=0.999
    )
    if homography is None:
        return Failed(REASON, f"found {len(found)} of {total} printed features; no page fits them")
    inliers = mask.ravel().astype(bool)
    for _ in range(2):
        # Refit on the inliers, then take in whatever the refit agrees with.
        refit = _fit(layout_points[inliers], image_points[inliers]) if inliers.sum() >= 4 else None
        if refit is None:
            break
        homography = refit
        inliers = _errors_mm(homography, layout_points, image_points) <= FIT_TOLERANCE_MM
    errors = _errors_mm(homography, layout_points, image_points)[inliers]
    residual = float(np.sqrt(np.mean(errors**2))) if len(errors) else float("inf")
    count, boxes = int((inliers & is_feature).sum()), int((inliers & is_box).sum())
    detail = f"{count} of {total} printed features agree ({boxes} of {model.boxes} boxes), residual {residual:.2f} mm"
    need = max(MIN_INLIERS, int(np.ceil(MIN_INLIER_SHARE * total)))
    # Nearly every box agreeing is enough on its own: on a black-and-white
    # or faded scan the thin grey rules vanish, the boxes do not. So are the
    # boxes that must agree anyway when two markers' corners (or one
    # marker's and the code's) agree with them: a grid matched a row or a
    # column off would put them millimetres out (hard black-and-white
    # scans: 48-58 of 63-70 boxes agreeing with two markers to 0.04-0.09 mm).
    pinned = len(layout_points) - len(found) >= PINNING_ANCHORS and bool(inliers[~is_feature].all())
    boxes_suffice = boxes >= ALL_BOXES_SHARE * model.boxes or pinned
    need_boxes = int(np.ceil((KNOWN_PAGE_BOX_SHARE if pinned and page_known else MIN_BOX_SHARE) * model.boxes))
    if (count < need and not boxes_suffice) or boxes < need_boxes:
        return Failed(REASON, f"{detail}; need {need} and {need_boxes} boxes")
    if not _spans_page(layout_points[inliers]):
        # Nearly every box agreeing along a strip of the page (the answer
        # columns, top to bottom) with the rest of the print faded, or the
        # boxes that must agree anyway pinned there by two markers' corners
        # (hard stacks: 43-58 of 70 boxes, the markers and code on the same
        # side as the columns, at 0.06-0.08 mm): an affine fit through them
        # cannot tilt away past them as a homography can.
        if not boxes_suffice or not _spans_one_way(layout_points[inliers]):
            return Failed(REASON, f"{detail}, but they do not span the page")
        homography = affine = _affine(layout_points[inliers], image_points[inliers])
        residual = float(np.sqrt(np.mean(_errors_mm(affine, layout_points[inliers], image_points[inliers]) ** 2)))
    if residual > defs.MAX_ALIGNMENT_RESIDUAL_MM:
        return Failed(REASON, f"{detail}; more than {defs.MAX_ALIGNMENT_RESIDUAL_MM} mm")
    return Registration(homography, (), residual, orientation_of(homography), scale_of(homography))


def frame_homography(shape: tuple[int, int], turns: int) -> np.ndarray:
    """A rough (3, 3) homography layout mm -> image px for a page that fills
    the scan, turned ``turns`` quarter turns (clockwise in the image), for
    ``align_from_structure`` to start from where neither markers nor code
    say where the page lies (all four markers cut off by a page fed far
    off-centre).

    ``shape``: the scan's (H, W) in px. The page's long side spans the
    scan's long side; its centre is the scan's centre."""
    height, width = shape
    scale = max(height, width) / defs.PAGE_HEIGHT_MM
    angle = np.pi / 2 * turns
    cos, sin = round(np.cos(angle)), round(np.sin(angle))
    centred = np.array([[1.0, 0.0, -defs.PAGE_WIDTH_MM / 2], [0.0, 1.0, -defs.PAGE_HEIGHT_MM / 2], [0.0, 0.0, 1.0]])
    turned = np.array([[cos * scale, -sin * scale, width / 2], [sin * scale, cos * scale, height / 2], [0.0, 0.0, 1.0]])
    return turned @ centred


def coarse_homography(
    markers: Mapping[int, np.ndarray], printed_markers: Sequence[Marker], code: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray | None:
    """A rough (3, 3) homography layout mm -> image px from what is left of
    the page's fiducials, for ``align_from_structure``.

    ``markers``: marker id -> its (4, 2) corners in image px, as
    ``detect_markers`` gives them (one is enough); ``printed_markers``: where
    the markers are printed (a layout's ``markers``); ``code``: the QR
    symbol's (4, 2) corners in mm and in image px, or None. A similarity
    (rotation, scale, shift) is fitted to the corresponding points (RANSAC,
    1 mm tolerance): from one marker or the code alone a full homography
    would tilt wildly. None when there are fewer than 4 points.
    """
    src, dst = [], []
    for marker in printed_markers:
        if marker.id in markers:
            src.append(rect_corners(marker.rect))
            dst.append(np.asarray(markers[marker.id], np.float32).reshape(4, 2))
    if code is not None:
        src.append(np.asarray(code[0], np.float32).reshape(-1, 2))
        dst.append(np.asarray(code[1], np.float32).reshape(-1, 2))
    if not src or sum(len(s) for s in src) < 4:
        return None
    src_points, dst_points = np.concatenate(src), np.concatenate(dst)
    # The points' own scale, for a tolerance of 1 mm in image px.
    spread_mm = float(np.linalg.norm(src_points - src_points.mean(axis=0), axis=1).mean())
    spread_px = float(np.linalg.norm(dst_points - dst_points.mean(axis=0), axis=1).mean())
    if spread_mm <= 0 or spread_px <= 0:
        return None
    similarity, _ = cv2.estimateAffinePartial2D(
        src_points,
        dst_points,
        method=cv2.RANSAC,
        ransacReprojThreshold=spread_px / spread_mm,
        maxIters=2000,
        confidence=0.999,
        refineIters=10,
    )
    return None if similarity is None else _as_3x3(similarity)


def rough_registration(
    markers: Mapping[int, np.ndarray], printed_markers: Sequence[Marker], code: tuple[np.ndarray, np.ndarray] | None = None
) -> Registration | Failed:
    """A registration good to a few mm from whatever markers and code corners
    were found (``coarse_homography``), enough to find printed text where the
    layout put it; its residual is unknown (infinite)."""
    homography = coarse_homography(markers, printed_markers, code)
    if homography is None:
        return Failed("markers-not-found", f"found corner markers {sorted(markers)} and no code: nothing to align by")
    return Registration(homography, tuple(sorted(markers)), float("inf"), orientation_of(homography), scale_of(homography))
