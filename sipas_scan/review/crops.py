"""Images shown to reviewers: a question's region of the aligned scan with
its boxes outlined and each box's key beside it (a grid row under its
grid's column headings), or a whole stored page, turned upright when it was
quarantined lying the wrong way. Coordinates come from the layout (mm) on
the reading grid.

Decoding a stored page costs more than everything else a crop takes, and a
reviewer's next items are mostly on the same page: the last pages decoded
are kept.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.layout import FieldLayout, FormLayout, Rect, Rule, survey_and_layout
from sipas_scan.reading.register import detect_markers
from sipas_scan.review.labels import option_key
from sipas_scan.store.db import StoredImage

CROP_MARGIN_MM = 3.0
HEADER_MARGIN_MM = 1.0  # above a grid's column headings
CROP_SCALE = 1.5  # 8 px/mm shown at 12 px/mm: marks read at a glance
OUTLINE_BGR = (40, 110, 230)  # boxes outlined in orange, the page stays grey
KEY_BGR = (30, 95, 215)  # the key beside each box, a darker orange
KEY_ALPHA = 0.75  # ink under a key still shows through it
KEY_GAP_MM = 1.2  # between a key and its box: the box and its edge stay clear
KEY_BAND_PX = 40  # a grid's keys, in a band of their own above the row
SEPARATOR_PX = 6  # between the column headings and a row further down
SEPARATOR_GREY = 200
JPEG_QUALITY = 85
DECODED_PAGES = 24  # about 4 MB each
UPRIGHT_PAGES = 64  # quarantined pages turned upright, as JPEG


@dataclass(frozen=True)
class CropPlan:
    """What a crop shows: regions of the page (mm) stacked top to bottom,
    each option box (mm) with its key, and whether the keys go in a band
    (a grid's columns) or beside each box."""

    strips: tuple[Rect, ...]
    boxes: tuple[tuple[str, Rect], ...]
    key_band: bool
    joined: bool = False  # the strips are one piece of the page (a grid's first row under its headings)


def _encode(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("cannot encode the image")
    return data.tobytes()


class _Cache:
    """The last ``size`` values computed, by a key that names their content
    (a stored image's key); shared by the server's threads."""

    def __init__(self, size: int):
        self.size, self.values, self.lock = size, OrderedDict[str, Any](), threading.Lock()

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
        value = compute()  # outside the lock: another page may be decoded meanwhile
        with self.lock:
            self.values[key] = value
            while len(self.values) > self.size:
                self.values.popitem(last=False)
        return value


_decoded = _Cache(DECODED_PAGES)
_upright = _Cache(UPRIGHT_PAGES)


def _decode(image: StoredImage) -> np.ndarray:
    page = cv2.imdecode(np.frombuffer(image.read(), np.uint8), cv2.IMREAD_GRAYSCALE)
    if page is None:
        raise OSError(f"{image.key}: not an image")
    page.setflags(write=False)  # shared between requests
    return page


def decoded_page(image: StoredImage) -> np.ndarray:
    """The stored page, greyscale (read only)."""
    return _decoded.get(image.key, lambda: _decode(image))


def _grid_header(layout: FormLayout, rows: list[FieldLayout]) -> Rect | None:
    """Where the column headings of the grid whose ``rows`` (on one page)
    are given were printed on that page: the full-width rule nearest above
    the first row is the top of the header row (repeated on each page a grid
    runs on)."""
    first = min(rows, key=lambda f: f.region[1])
    x, y, w, _ = first.region
    left, right, top = x + 1.0, x + w - 1.0, y + 0.5  # the region's margins (layout.grid_blocks)
    above = [
        d.y1
        for d in layout.pages[first.page - 1].drawing
        if isinstance(d, Rule)
        and abs(d.y1 - d.y2) < 1e-6
        and abs(d.x1 - left) < 0.05
        and abs(d.x2 - right) < 0.05
        and d.y1 < top - 0.05
    ]
    if not above or top - max(above) > 25.0:
        return None
    header_top = max(above)
    return (x, header_top - HEADER_MARGIN_MM, w, top - header_top + HEADER_MARGIN_MM)


def _union(rects: list[Rect]) -> Rect:
    x0, y0 = min(r[0] for r in rects), min(r[1] for r in rects)
    x1, y1 = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
    return (x0, y0, x1 - x0, y1 - y0)


@functools.lru_cache(maxsize=1024)
def crop_plan(survey_id: str, page_no: int, field_id: str) -> CropPlan:
    """The plan of a question's crop, or of a whole grid's (its rows on page
    ``page_no``). LookupError when the survey has no such question or grid."""
    survey, layout = survey_and_layout(survey_id)
    grid = next((g for g in survey.grids() if g.id == field_id), None)
    try:
        if grid is not None:
            rows = [layout.field(r.id) for r in grid.rows]
            rows = [f for f in rows if f.page == page_no]
            if not rows:
                raise KeyError(field_id)
        else:
            rows = [layout.field(field_id)]
            question = survey.field(field_id)
            grid = next((g for g in survey.grids() if g.id == question.grid), None) if question.grid else None
    except KeyError:
        raise LookupError(f"{survey_id} has no question {field_id}") from None
    region = _union([f.region for f in rows])
    margin = CROP_MARGIN_MM
    main = (region[0] - margin, region[1] - margin, region[2] + 2 * margin, region[3] + 2 * margin)
    boxes = tuple((option_key(n), o.box) for f in rows for n, o in enumerate(f.options, start=1))
    if not boxes and rows[0].box:
        boxes = (("", rows[0].box),)
    header = _grid_header(layout, [layout.field(r.id) for r in grid.rows if layout.field(r.id).page == rows[0].page]) if grid else None
    if header is None:
        return CropPlan((main,), boxes, False)
    header = (main[0], header[1], main[2], header[3])
    header_bottom = header[1] + header[3]
    if main[1] <= header_bottom + 0.01:
        # The first row: headings and row are one piece of the page, cut
        # where they meet for the keys to go between.
        main = (main[0], header_bottom, main[2], main[1] + main[3] - header_bottom)
        return CropPlan((header, main), boxes, True, joined=True)
    return CropPlan((header, main), boxes, True)


def _cut(page: np.ndarray, rect: Rect) -> tuple[np.ndarray, int, int]:
    s = defs.READ_PX_PER_MM
    x, y, w, h = rect
    x0, y0 = max(0, int(x * s)), max(0, int(y * s))
    x1, y1 = min(page.shape[1], int((x + w) * s)), min(page.shape[0], int((y + h) * s))
    return page[y0:y1, x0:x1], x0, y0


def _badge(image: np.ndarray, text: str, centre: tuple[int, int], height: int) -> None:
    """``text`` in white on an orange tag centred at ``centre``, blended so
    that ink beneath still shows."""
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, height / 40, 2
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    w = max(height, tw + height // 3)
    x0, y0 = centre[0] - w // 2, centre[1] - height // 2
    x0, y0 = max(0, min(x0, image.shape[1] - w)), max(0, min(y0, image.shape[0] - height))
    patch = image[y0 : y0 + height, x0 : x0 + w]
    tag = np.empty_like(patch)
    tag[:] = KEY_BGR
    cv2.addWeighted(tag, KEY_ALPHA, patch, 1 - KEY_ALPHA, 0, dst=patch)
    cv2.putText(image, text, (x0 + (w - tw) // 2, y0 + (height + th) // 2), font, scale, (255, 255, 255), thick, cv2.LINE_AA)


def _draw_strip(page: np.ndarray, rect: Rect, plan: CropPlan) -> np.ndarray:
    s, k = defs.READ_PX_PER_MM, CROP_SCALE
    grey, x0, y0 = _cut(page, rect)
    strip = cv2.cvtColor(cv2.resize(grey, None, fx=k, fy=k, interpolation=cv2.INTER_LINEAR), cv2.COLOR_GRAY2BGR)
    for key, (bx, by, bw, bh) in plan.boxes:
        left, top = int((bx * s - x0) * k), int((by * s - y0) * k)
        right, bottom = int(((bx + bw) * s - x0) * k), int(((by + bh) * s - y0) * k)
        if right < 0 or left > strip.shape[1] or bottom < 0 or top > strip.shape[0]:
            continue  # a box of another strip
        pad = int(3 * k)
        cv2.rectangle(strip, (left - pad, top - pad), (right + pad, bottom + pad), OUTLINE_BGR, 2)
        if key and not plan.key_band:
            height = int(3.4 * s * k)
            gap = int(KEY_GAP_MM * s * k)
            _badge(strip, key, (left - gap - height // 2, (top + bottom) // 2), height)
    return strip


def _key_band(width: int, rect: Rect, plan: CropPlan) -> np.ndarray:
    """A white band with each column's key above the column of its box."""
    s, k = defs.READ_PX_PER_MM, CROP_SCALE
    band = np.full((KEY_BAND_PX, width, 3), 255, np.uint8)
    x0 = max(0, int(rect[0] * s))
    for key, (bx, _, bw, _) in dict((key, box) for key, box in plan.boxes).items():
        _badge(band, key, (int(((bx + bw / 2) * s - x0) * k), KEY_BAND_PX // 2), KEY_BAND_PX - 6)
    return band


def field_crop(image: StoredImage, survey_id: str, page_no: int, field_id: str) -> bytes:
    """JPEG of a question's region of the stored page ``image`` (or a whole
    grid's), option boxes outlined and keyed, a grid under its headings."""
    plan = crop_plan(survey_id, page_no, field_id)
    page = decoded_page(image)
    strips = [_draw_strip(page, rect, plan) for rect in plan.strips]
    width = min(strip.shape[1] for strip in strips)
    parts: list[np.ndarray] = []
    for n, strip in enumerate(strips):
        if n and not plan.joined:
            parts.append(np.full((SEPARATOR_PX, width, 3), SEPARATOR_GREY, np.uint8))
        if plan.key_band and n == len(strips) - 1:
            parts.append(_key_band(width, plan.strips[-1], plan))
        parts.append(strip[:, :width])
    return _encode(np.vstack(parts))


# ---- whole pages ------------------------------------------------------------
ROTATIONS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def page_turn(gray: np.ndarray) -> int:
    """How far (0, 90, 180, 270 degrees clockwise) the page lies turned,
    from its corner markers: each is printed upright, and the detector
    returns its corners from the marker's own top-left, so the direction of
    its top edge is the page's. 0 when no marker is found."""
    votes: dict[int, int] = {}
    for quad in detect_markers(gray).values():
        dx, dy = quad[1] - quad[0]
        turn = round(math.degrees(math.atan2(dy, dx)) / 90) % 4 * 90
        votes[turn] = votes.get(turn, 0) + 1
    return max(votes, key=lambda t: (votes[t], t == 0)) if votes else 0


def page_view(image: StoredImage, *, upright: bool = False) -> bytes:
    """The stored page as a JPEG; ``upright``: turned the right way up (a
    page quarantined as scanned, which may lie any way round)."""
    if not upright:
        return image.read()

    def turned() -> bytes:
        gray = decoded_page(image)
        turn = page_turn(gray)
        return image.read() if turn == 0 else _encode(cv2.rotate(gray, ROTATIONS[turn]), 90)

    return _upright.get(image.key, turned)
