"""Sheets of paper before the scanner: printed pages with a respondent's ink,
blank backs, stray pages that are not forms, and forged copies.

All images are RGB uint8 (H, W, 3) rasters of A4 at ``dpi``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from sipas_scan import defs
from sipas_scan.fonts import find_font_files
from sipas_scan.layout import FormLayout, text_rule_offset_mm
from sipas_scan.printing.codes import format_payload, make_serial, parse
from sipas_scan.printing.render import qr_cells
from sipas_scan.simulate.handwriting import write_in_box
from sipas_scan.simulate.pen import Pen, apply_ink, draw_dot, draw_mark, new_ink_layer
from sipas_scan.simulate.respondents import FilledForm


def page_size_px(dpi: int) -> tuple[int, int]:
    """(width, height) of A4 at ``dpi``."""
    return (int(round(defs.PAGE_WIDTH_MM / defs.MM_PER_INCH * dpi)),
            int(round(defs.PAGE_HEIGHT_MM / defs.MM_PER_INCH * dpi)))


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
        image = cv2.copyMakeBorder(image, 0, height - image.shape[0], 0, width - image.shape[1],
                                   cv2.BORDER_CONSTANT, value=(255, 255, 255))
    return np.ascontiguousarray(image)


@dataclass(frozen=True)
class Ink:
    """Everything the respondent puts on one page."""

    filled: FilledForm
    pen: Pen
    seed: int
    stray_dot_rate: float = 0.0


def ink_page(image: np.ndarray, layout: FormLayout, page_number: int, ink: Ink, dpi: int) -> np.ndarray:
    """Draw the respondent's marks and comments for one page onto ``image``.

    The same ``ink.seed`` draws the same strokes, so a page scanned twice
    carries the same marks."""
    rng = np.random.default_rng(ink.seed)
    px_per_mm = dpi / defs.MM_PER_INCH
    layer = new_ink_layer(image.shape[:2])
    page = layout.pages[page_number - 1]
    on_page = {f.id: f for f in page.fields}
    for mark in ink.filled.marks:
        fld = on_page.get(mark.field_id)
        if fld is None:
            continue
        box = next(o.box for o in fld.options if o.code == mark.code)
        draw_mark(layer, mark.style, tuple(v * px_per_mm for v in box), ink.pen, rng, px_per_mm)
    for field_id, text in ink.filled.comments.items():
        fld = on_page.get(field_id)
        if fld is None:
            continue
        x, y, w, h = (v * px_per_mm for v in fld.box)
        pitch = defs.TEXT_LINE_PITCH_MM * px_per_mm
        first_rule = y + text_rule_offset_mm(1) * px_per_mm
        write_in_box(layer, text, (x, y, w, h), pitch, first_rule, px_per_mm, rng,
                     stroke_px=max(1.0, ink.pen.stroke_mm * 0.8 * px_per_mm))
    if rng.random() < ink.stray_dot_rate:
        # A pen rested on the paper: somewhere in the content, never inside a box.
        boxes = [o.box for f in page.fields for o in f.options]
        for _ in range(20):
            x = rng.uniform(defs.CONTENT_LEFT_MM, defs.CONTENT_RIGHT_MM)
            y = rng.uniform(defs.CONTENT_TOP_MM, defs.CONTENT_BOTTOM_MM)
            if all(not (bx - 1.5 <= x <= bx + bw + 1.5 and by - 1.5 <= y <= by + bh + 1.5)
                   for bx, by, bw, bh in boxes):
                draw_dot(layer, (x * px_per_mm, y * px_per_mm), rng, px_per_mm)
                break
    return apply_ink(image, layer, ink.pen)


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
            draw.text((width / 2 if i < 4 else 25 * px_per_mm, y), line, fill=(20, 20, 20), font=font,
                      anchor="mt" if i < 4 else "lt")
            y += 8 * px_per_mm
        return np.asarray(image)
    # A photo: smooth colour fields with a few shapes, filling the page.
    # Drawn at 1/8 size and scaled up: a photo is smooth at this scale.
    small_w, small_h = width // 8, height // 8
    photo = cv2.resize(rng.uniform(0, 255, (6, 4, 3)).astype(np.float32), (small_w, small_h),
                       interpolation=cv2.INTER_CUBIC)
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
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    code, signature = parse(found[0].text)
    fake = make_serial(fake_number)
    payload = format_payload(replace(code, serial=fake), signature)
    cells = qr_cells(payload)
    x, y, size, _ = (v * px_per_mm for v in layout.qr)
    pattern = np.where(cells, 0, 255).astype(np.uint8)
    pattern = cv2.resize(pattern, (int(round(size)), int(round(size))), interpolation=cv2.INTER_NEAREST)
    out = image.copy()
    out[int(round(y)):int(round(y)) + pattern.shape[0], int(round(x)):int(round(x)) + pattern.shape[1]] = pattern[..., None]
    # The serial printed in the header and footer is changed to match.
    canvas = Image.fromarray(out)
    draw = ImageDraw.Draw(canvas)
    hx = defs.HEADER_TEXT_X_MM * px_per_mm
    draw.rectangle((hx, 13.5 * px_per_mm, hx + 60 * px_per_mm, 19.5 * px_per_mm), fill="white")
    draw.text((hx, 18.0 * px_per_mm), f"Số phiếu: {fake}", fill="black", font=_font(int(4.0 * px_per_mm), True),
              anchor="ls")
    fx = defs.FOOTER_RIGHT_MM * px_per_mm
    fy = defs.FOOTER_BASELINE_MM * px_per_mm
    draw.rectangle((fx - 35 * px_per_mm, fy - 3.5 * px_per_mm, fx, fy + 1 * px_per_mm), fill="white")
    draw.text((fx, fy), f"Số phiếu {fake}", fill="black", font=_font(int(3.2 * px_per_mm), True), anchor="rs")
    return np.asarray(canvas)
