"""Sheets of paper before the scanner: printed pages with a respondent's ink,
blank backs, stray pages that are not forms, and forged copies.

All images are RGB uint8 (H, W, 3) rasters of A4 at ``dpi``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from sipas_scan import defs
from sipas_scan.fonts import find_font_files
from sipas_scan.layout import FieldLayout, FormLayout, Rect, text_rule_offset_mm
from sipas_scan.printing.cells import qr_cells
from sipas_scan.printing.codes import format_payload, make_serial, parse
from sipas_scan.simulate.handwriting import write_in_box
from sipas_scan.simulate.pen import (
    OTHER_MARKS,
    MarkShape,
    Pen,
    apply_colour,
    apply_ink,
    draw_dot,
    draw_mark,
    new_ink_layer,
)
from sipas_scan.simulate.respondents import FilledForm, Mark

REACH_MAX_GAP_MM = 12.0  # a tick's arm runs into the next box only where boxes sit this close (grid rows)
# Show-through: another page's marks seen through thin paper, grey, faint and
# soft. Drawn at a quarter of the page's resolution: it is blurred anyway.
SHOW_THROUGH_DOWNSCALE = 4
SHOW_THROUGH_BLUR_MM = (0.3, 0.6)
SHOW_THROUGH_STRENGTH = (0.1, 0.22)  # share of the ghost colour's darkness at full coverage: 13-30 grey levels
SHOW_THROUGH_GAIN = 2.5  # blur spreads a thin stroke's ink thin; brought back up (capped) after the blur
SHOW_THROUGH_GREY = (120, 120, 126)
# Independent random streams drawn from a page's ink seed; the strokes
# themselves use the seed directly.
_PLAN_STREAM, _SHOW_THROUGH_STREAM = 1, 2


def page_size_px(dpi: int) -> tuple[int, int]:
    """(width, height) of A4 at ``dpi``."""
    return (int(round(defs.PAGE_WIDTH_MM / defs.MM_PER_INCH * dpi)), int(round(defs.PAGE_HEIGHT_MM / defs.MM_PER_INCH * dpi)))


@functools.lru_cache(maxsize=4)
def _document(path: str) -> pdfium.PdfDocument:
    return pdfium.PdfDocument(path)


def printed_page(forms_pdf: Path, index: int, dpi: int) -> np.ndarray:
    """Page ``index`` (0-based) of the printed batch, rasterized at ``dpi``."""
    page = _document(str(forms_pdf))[index]
    bitmap = page.render(scale=dpi / 72, rev_byteorder=True)
    image = bitmap.to_numpy()[..., :3]
    width, height = page_size_px(dpi)
    # pdfium rounds the page size its own way: pad or crop the odd pixel.
    image = image[:height, :width]
    if image.shape[:2] != (height, width):
        image = cv2.copyMakeBorder(
            image, 0, height - image.shape[0], 0, width - image.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)
        )
    return np.ascontiguousarray(image)


@dataclass(frozen=True)
class Ink:
    """Everything the respondent puts on one page."""

    filled: FilledForm
    pen: Pen
    seed: int
    stray_dot_rate: float = 0.0
    show_through_rate: float = 0.0  # chance another page's marks show faintly through this one


@dataclass(frozen=True)
class PlannedMark:
    """One mark as it goes on the paper."""

    field_id: str
    code: str
    shape: MarkShape
    box_mm: Rect
    next_box_mm: Rect | None = None  # a 'reach' tick: the box its long arm runs into


def _next_in_row(fld: FieldLayout, box: Rect) -> Rect | None:
    """The field's next box to the right on the same row, if close enough
    for a tick's arm to reach."""
    x, y, w, _ = box
    right = [o.box for o in fld.options if abs(o.box[1] - y) < 0.5 and o.box[0] > x]
    if not right:
        return None
    nearest = min(right, key=lambda b: b[0])
    return nearest if nearest[0] - (x + w) <= REACH_MAX_GAP_MM else None


def _shape(mark: Mark, fld: FieldLayout, box: Rect, pen: Pen, rng: np.random.Generator) -> PlannedMark:
    if mark.style in ("fill", "half-fill"):
        return PlannedMark(mark.field_id, mark.code, mark.style, box)
    if mark.style == "circle":
        return PlannedMark(mark.field_id, mark.code, "loop", box)
    shape = pen.hand
    if rng.random() < pen.other_mark_rate:
        others = [s for s in OTHER_MARKS if s != shape]
        shape = others[int(rng.integers(len(others)))]
    if shape == "tick" and rng.random() < pen.reach_rate and (neighbour := _next_in_row(fld, box)):
        return PlannedMark(mark.field_id, mark.code, "reach", box, neighbour)
    return PlannedMark(mark.field_id, mark.code, shape, box)


def plan_marks(layout: FormLayout, page_number: int, ink: Ink) -> list[PlannedMark]:
    """The marks on one page and the shape of each: the pen's usual one, now
    and then another, now and then a tick run on into the next box. Drawn
    from ``ink.seed`` alone, so a page scanned twice carries the same marks."""
    rng = np.random.default_rng([ink.seed, _PLAN_STREAM])
    on_page = {f.id: f for f in layout.pages[page_number - 1].fields}
    planned = []
    for mark in ink.filled.marks:
        fld = on_page.get(mark.field_id)
        if fld is None:
            continue
        box = next(o.box for o in fld.options if o.code == mark.code)
        planned.append(_shape(mark, fld, box, ink.pen, rng))
    return planned


def _draw_marks(layer: np.ndarray, marks: list[PlannedMark], pen: Pen, rng: np.random.Generator, px_per_mm: float) -> None:
    for mark in marks:
        next_box = tuple(v * px_per_mm for v in mark.next_box_mm) if mark.next_box_mm else None
        draw_mark(layer, mark.shape, tuple(v * px_per_mm for v in mark.box_mm), pen, rng, px_per_mm, next_box)


def show_through(
    image: np.ndarray, layout: FormLayout, page_number: int, ink: Ink, dpi: int, rng: np.random.Generator, mirrored: bool | None = None
) -> np.ndarray:
    """Another page's marks seen faintly through thin paper: the back of the
    sheet's (``mirrored``) or the next sheet's in the pile (as they lie;
    which of the two is drawn at random unless given). Grey, blurred and low
    in contrast; the marks are made up, like the other page's but not the
    same strokes (its seed is not known here)."""
    n_pages = len(layout.pages)
    if n_pages < 2:
        return image
    other = page_number + 1 if page_number < n_pages else page_number - 1
    drawn_mirrored = bool(rng.random() < 0.5)  # drawn even when given, so the rest of the ghost stays the same
    mirrored = drawn_mirrored if mirrored is None else mirrored
    ghost_ink = replace(ink, seed=int(rng.integers(2**31)))
    h, w = image.shape[:2]
    small_px_per_mm = dpi / defs.MM_PER_INCH / SHOW_THROUGH_DOWNSCALE
    small = new_ink_layer((math.ceil(h / SHOW_THROUGH_DOWNSCALE), math.ceil(w / SHOW_THROUGH_DOWNSCALE)))
    _draw_marks(small, plan_marks(layout, other, ghost_ink), ink.pen, np.random.default_rng(ghost_ink.seed), small_px_per_mm)
    rows = np.flatnonzero(small.max(axis=1) > 0.01)
    if rows.size == 0:
        return image
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(*SHOW_THROUGH_BLUR_MM) * small_px_per_mm)
    small = np.minimum(small * SHOW_THROUGH_GAIN, 1.0)
    if mirrored:
        small = np.ascontiguousarray(small[:, ::-1])
    # Only the rows the ghost covers (plus its blur) are scaled up and laid on.
    blur_rows = 3
    top, bottom = max(0, rows[0] - blur_rows), min(small.shape[0], rows[-1] + blur_rows + 1)
    y0, y1 = top * SHOW_THROUGH_DOWNSCALE, min(h, bottom * SHOW_THROUGH_DOWNSCALE)
    band = cv2.resize(small[top:bottom], (w, (bottom - top) * SHOW_THROUGH_DOWNSCALE), interpolation=cv2.INTER_LINEAR)[: y1 - y0]
    out = image.copy()
    out[y0:y1] = apply_colour(image[y0:y1], band, SHOW_THROUGH_GREY, rng.uniform(*SHOW_THROUGH_STRENGTH))
    return out


def ink_page(image: np.ndarray, layout: FormLayout, page_number: int, ink: Ink, dpi: int) -> np.ndarray:
    """Draw the respondent's marks and comments for one page onto ``image``.

    The same ``ink.seed`` draws the same strokes, so a page scanned twice
    carries the same marks."""
    rng = np.random.default_rng(ink.seed)
    px_per_mm = dpi / defs.MM_PER_INCH
    layer = new_ink_layer(image.shape[:2])
    page = layout.pages[page_number - 1]
    on_page = {f.id: f for f in page.fields}
    _draw_marks(layer, plan_marks(layout, page_number, ink), ink.pen, rng, px_per_mm)
    for field_id, text in ink.filled.comments.items():
        fld = on_page.get(field_id)
        if fld is None or fld.box is None:  # not on this page, or no writing area
            continue
        x, y, w, h = (v * px_per_mm for v in fld.box)
        pitch = defs.TEXT_LINE_PITCH_MM * px_per_mm
        first_rule = y + text_rule_offset_mm(1) * px_per_mm
        write_in_box(
            layer, text, (x, y, w, h), pitch, first_rule, px_per_mm, rng, stroke_px=max(1.0, ink.pen.stroke_mm * 0.8 * px_per_mm)
        )
    if rng.random() < ink.stray_dot_rate:
        # A pen rested on the paper: somewhere in the content, never inside a box.
        boxes = [o.box for f in page.fields for o in f.options]
        for _ in range(20):
            x = rng.uniform(defs.CONTENT_LEFT_MM, defs.CONTENT_RIGHT_MM)
            y = rng.uniform(defs.CONTENT_TOP_MM, defs.CONTENT_BOTTOM_MM)
            if all(not (bx - 1.5 <= x <= bx + bw + 1.5 and by - 1.5 <= y <= by + bh + 1.5) for bx, by, bw, bh in boxes):
                draw_dot(layer, (x * px_per_mm, y * px_per_mm), rng, px_per_mm)
                break
    image = apply_ink(image, layer, ink.pen)
    through_rng = np.random.default_rng([ink.seed, _SHOW_THROUGH_STREAM])
    if through_rng.random() < ink.show_through_rate:
        image = show_through(image, layout, page_number, ink, dpi, through_rng)
    return image


def blank_page(dpi: int) -> np.ndarray:
    width, height = page_size_px(dpi)
    return np.full((height, width, 3), 255, np.uint8)


@functools.cache
def _font(size_px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    files = find_font_files()
    return ImageFont.truetype(str(files.bold if bold else files.regular), size_px)


STRAY_LETTER = (
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "",
    "GIẤY MỜI HỌP",
    "Kính mời ông/bà đến dự cuộc họp thôn vào lúc 8 giờ sáng Chủ nhật",
    "tại nhà văn hóa thôn để bàn về việc sửa chữa đường liên thôn",
    "và đóng góp quỹ khuyến học năm nay.",
    "Đề nghị các hộ gia đình đến đúng giờ.",
    "",
    "Trưởng thôn",
)


def stray_page(dpi: int, rng: np.random.Generator) -> np.ndarray:
    """A page that is not a form: a village letter or a photo."""
    width, height = page_size_px(dpi)
    px_per_mm = dpi / defs.MM_PER_INCH
    if rng.random() < 0.5:
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        y = 25 * px_per_mm
        for i, line in enumerate(STRAY_LETTER):
            font = _font(int(4.2 * px_per_mm), bold=i in (0, 3))
            draw.text((width / 2 if i < 4 else 25 * px_per_mm, y), line, fill=(20, 20, 20), font=font, anchor="mt" if i < 4 else "lt")
            y += 8 * px_per_mm
        return np.asarray(image)
    # A photo: smooth colour fields with a few shapes, filling the page.
    # Drawn at 1/8 size and scaled up: a photo is smooth at this scale.
    small_w, small_h = width // 8, height // 8
    photo = cv2.resize(rng.uniform(0, 255, (6, 4, 3)).astype(np.float32), (small_w, small_h), interpolation=cv2.INTER_CUBIC)
    for _ in range(8):
        centre = (int(rng.integers(small_w)), int(rng.integers(small_h)))
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cv2.circle(photo, centre, int(rng.uniform(10, 50) * px_per_mm / 8), colour, -1, cv2.LINE_AA)
    photo = cv2.GaussianBlur(photo, (0, 0), 3 * px_per_mm / 8)
    photo = cv2.resize(photo, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(photo, 0, 255).astype(np.uint8)


def forge_code(image: np.ndarray, layout: FormLayout, dpi: int, fake_number: int) -> np.ndarray:
    """Replace a page's serial with ``fake_number``'s, keeping the old
    signature: what a forger without the secret can do."""
    px_per_mm = dpi / defs.MM_PER_INCH
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    code, signature = parse(found[0].text)
    fake = make_serial(fake_number)
    payload = format_payload(replace(code, serial=fake), signature)
    cells = qr_cells(payload)
    x, y, size, _ = (v * px_per_mm for v in layout.qr)
    pattern: np.ndarray = np.where(cells, 0, 255).astype(np.uint8)
    pattern = cv2.resize(pattern, (int(round(size)), int(round(size))), interpolation=cv2.INTER_NEAREST)
    out = image.copy()
    out[int(round(y)) : int(round(y)) + pattern.shape[0], int(round(x)) : int(round(x)) + pattern.shape[1]] = pattern[..., None]
    # The serial printed in the header and footer is changed to match.
    canvas = Image.fromarray(out)
    draw = ImageDraw.Draw(canvas)
    hx = defs.HEADER_TEXT_X_MM * px_per_mm
    draw.rectangle((hx, 13.5 * px_per_mm, hx + 60 * px_per_mm, 19.5 * px_per_mm), fill="white")
    draw.text((hx, 18.0 * px_per_mm), f"Số phiếu: {fake}", fill="black", font=_font(int(4.0 * px_per_mm), True), anchor="ls")
    fx = defs.FOOTER_RIGHT_MM * px_per_mm
    fy = defs.FOOTER_BASELINE_MM * px_per_mm
    draw.rectangle((fx - 35 * px_per_mm, fy - 3.5 * px_per_mm, fx, fy + 1 * px_per_mm), fill="white")
    draw.text((fx, fy), f"Số phiếu {fake}", fill="black", font=_font(int(3.2 * px_per_mm), True), anchor="rs")
    return np.asarray(canvas)
