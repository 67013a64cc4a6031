"""Render issued forms to one PDF with ReportLab.

Each page's static content (markers, wording, boxes) is drawn once as a PDF
form XObject and reused by every form, so a batch of thousands of forms stays
small and renders fast; only the QR code, serial and place differ per page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from sipas_scan import defs, fonts
from sipas_scan.layout import Drawing, FormLayout, Frame, PageLayout, Rule, TextRun
from sipas_scan.printing.cells import marker_cells, qr_cells
from sipas_scan.printing.codes import PageCode, Secret, encode
from sipas_scan.printing.ledger import IssuedForm


def points(mm: float) -> float:
    return mm * defs.PT_PER_MM


def y_points(mm: float) -> float:
    """Page y in mm from the top to PDF points from the bottom."""
    return points(defs.PAGE_HEIGHT_MM - mm)


def fill_cells(canvas: Canvas, cells: np.ndarray, x_mm: float, y_mm: float, size_mm: float) -> None:
    """Black cells of a boolean grid as filled rectangles; runs along a row
    are merged into one rectangle to keep the page light."""
    n_rows, n_cols = cells.shape
    cell_w, cell_h = size_mm / n_cols, size_mm / n_rows
    path = canvas.beginPath()
    for r in range(n_rows):
        row = cells[r]
        c = 0
        while c < n_cols:
            if row[c]:
                start = c
                while c < n_cols and row[c]:
                    c += 1
                # A hair of overlap avoids white seams between cells in viewers.
                path.rect(
                    points(x_mm + start * cell_w),
                    y_points(y_mm + (r + 1) * cell_h),
                    points((c - start) * cell_w) + 0.05,
                    points(cell_h) + 0.05,
                )
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)


def _draw(canvas: Canvas, item: Drawing) -> None:
    if isinstance(item, TextRun):
        canvas.setFillGray(item.grey)
        canvas.setFont(fonts.BOLD if item.bold else fonts.REGULAR, item.size_pt)
        draw = {"left": canvas.drawString, "center": canvas.drawCentredString, "right": canvas.drawRightString}
        draw[item.align](points(item.x), y_points(item.y), item.text)
        canvas.setFillGray(0)
    elif isinstance(item, Rule):
        canvas.setStrokeGray(item.grey)
        canvas.setLineWidth(item.width_pt)
        canvas.setDash(1, 2) if item.dashed else canvas.setDash()
        canvas.line(points(item.x1), y_points(item.y1), points(item.x2), y_points(item.y2))
        canvas.setDash()
        canvas.setStrokeGray(0)
    elif isinstance(item, Frame):
        canvas.setLineWidth(item.width_pt)
        canvas.rect(points(item.x), y_points(item.y + item.h), points(item.w), points(item.h), stroke=1, fill=0)


def _draw_static_page(canvas: Canvas, layout: FormLayout, page: PageLayout) -> None:
    """What every form's page shares: the markers and the page's drawing."""
    for marker in layout.markers:
        x, y, size, _ = marker.rect
        fill_cells(canvas, marker_cells(marker.id), x, y, size)
    for item in page.drawing:
        _draw(canvas, item)


def _new_canvas(target: str | io.BytesIO) -> Canvas:
    # invariant=1: the same input gives the same bytes (no dates, fixed ids).
    return Canvas(target, pagesize=A4, pageCompression=1, invariant=1, initialFontName=fonts.REGULAR)


def place_line(form: IssuedForm) -> str:
    h = form.household
    return f"{h.village} · {h.commune} · {h.district} · {h.province}"


class FormRenderer:
    """Draws forms from a FormLayout onto one PDF, page by page."""

    def __init__(self, layout: FormLayout, secret: Secret):
        fonts.register_fonts()
        self.layout = layout
        self.secret = secret

    def _define_static_pages(self, canvas: Canvas) -> None:
        for page in self.layout.pages:
            canvas.beginForm(f"page{page.number}")
            _draw_static_page(canvas, self.layout, page)
            canvas.endForm()

    def _draw_page_code(self, canvas: Canvas, code: PageCode) -> None:
        x, y, size, _ = self.layout.qr
        fill_cells(canvas, qr_cells(encode(code, self.secret)), x, y, size)

    def _draw_form_details(self, canvas: Canvas, form: IssuedForm) -> None:
        size = defs.FONT_SIZE_HEADER_PT
        x = defs.HEADER_TEXT_X_MM
        canvas.setFont(fonts.BOLD, defs.HEADER_SERIAL_SIZE_PT)
        canvas.drawString(points(x), y_points(defs.HEADER_SERIAL_BASELINE_MM), f"Số phiếu: {form.serial}")
        place = place_line(form)
        max_w = defs.QR_X_MM - 3.0 - x
        place_size = size
        while fonts.text_width_mm(place, place_size) > max_w and place_size > 5.5:
            place_size -= 0.5
        canvas.setFont(fonts.REGULAR, place_size)
        canvas.drawString(points(x), y_points(defs.HEADER_PLACE_BASELINE_MM), place)
        canvas.setFont(fonts.BOLD, size)
        canvas.drawRightString(points(defs.FOOTER_RIGHT_MM), y_points(defs.FOOTER_BASELINE_MM), f"Số phiếu {form.serial}")
        canvas.setFont(fonts.REGULAR, defs.FONT_SIZE_SMALL_PT)
        canvas.drawString(
            points(defs.FOOTER_LEFT_MM), y_points(defs.FOOTER_BASELINE_MM), f"{self.layout.survey_id} {self.layout.survey_version}"
        )

    def render(self, path: Path, forms: Iterable[IssuedForm], on_page: Callable[[], None] | None = None) -> int:
        """Write every form, its pages in order, to ``path``; returns pages written."""
        canvas = _new_canvas(str(path))
        canvas.setTitle(self.layout.survey_id)
        canvas.setCreator("sipas-scan")
        self._define_static_pages(canvas)
        pages = 0
        for form in forms:
            for page in self.layout.pages:
                canvas.doForm(f"page{page.number}")
                self._draw_page_code(canvas, PageCode(self.layout.survey_id, form.serial, page.number))
                self._draw_form_details(canvas, form)
                canvas.showPage()
                pages += 1
                if on_page:
                    on_page()
        canvas.save()
        return pages


def render_blank_pages(layout: FormLayout) -> bytes:
    """A PDF of the layout's pages with only what every form shares (no QR,
    serial or place): the reference a reader compares scans against."""
    fonts.register_fonts()
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer)
    for page in layout.pages:
        _draw_static_page(canvas, layout, page)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
