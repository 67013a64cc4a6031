"""Draw the calibration sheet (ReportLab), from ``sheet_layout()``.

Markers and QR are drawn exactly as on the forms (same code), boxes with the
forms' line width, grey levels as solid fills of known grey.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from sipas_scan import defs, fonts
from sipas_scan.calibration import sheet as S
from sipas_scan.printing.cells import marker_cells, qr_cells
from sipas_scan.printing.render import fill_cells, points, y_points


def _fill(canvas: Canvas, rect: S.Rect, darkness: float) -> None:
    x, y, w, h = rect
    canvas.setFillGray(1.0 - darkness)
    canvas.rect(points(x), y_points(y + h), points(w), points(h), stroke=0, fill=1)
    canvas.setFillGray(0)


def _text(
    canvas: Canvas, x: float, y: float, text: str, size: float = defs.FONT_SIZE_SMALL_PT, *, bold: bool = False, align: str = "left"
) -> None:
    canvas.setFont(fonts.BOLD if bold else fonts.REGULAR, size)
    draw = {"left": canvas.drawString, "center": canvas.drawCentredString, "right": canvas.drawRightString}[align]
    draw(points(x), y_points(y), text)


def _bars(canvas: Canvas, patch: S.BarPatch) -> None:
    x, y, w, h = patch.rect
    period = 1.0 / patch.frequency
    bar = period / 2
    canvas.setFillGray(0)
    path = canvas.beginPath()
    along, across = (w, h) if patch.axis == "x" else (h, w)
    n = int(along / period)
    for i in range(n):
        start = i * period
        if patch.axis == "x":
            path.rect(points(x + start), y_points(y + h), points(bar), points(across))
        else:
            path.rect(points(x), y_points(y + start + bar), points(across), points(bar))
    canvas.drawPath(path, stroke=0, fill=1)


def _ruler(canvas: Canvas, horizontal: bool) -> None:
    canvas.setLineWidth(0.3)
    length = S.RULER_LENGTH_MM if horizontal else S.VRULER_LENGTH_MM
    for mm in range(int(length) + 1):
        tick = 3.0 if mm % 10 == 0 else 2.0 if mm % 5 == 0 else 1.2
        if horizontal:
            x = S.RULER_X0_MM + mm
            canvas.line(points(x), y_points(S.RULER_Y_MM), points(x), y_points(S.RULER_Y_MM + tick))
            if mm % 10 == 0:
                _text(canvas, x, S.RULER_Y_MM + 5.5, str(mm // 10), 6, align="center")
        else:
            y = S.VRULER_Y0_MM + mm
            canvas.line(points(S.VRULER_X_MM), y_points(y), points(S.VRULER_X_MM - tick), y_points(y))
    if horizontal:
        canvas.line(points(S.RULER_X0_MM), y_points(S.RULER_Y_MM), points(S.RULER_X0_MM + length), y_points(S.RULER_Y_MM))
        _text(canvas, S.RULER_X0_MM + length + 2, S.RULER_Y_MM + 3, "cm", 6)
    else:
        canvas.line(points(S.VRULER_X_MM), y_points(S.VRULER_Y0_MM), points(S.VRULER_X_MM), y_points(S.VRULER_Y0_MM + length))


INSTRUCTIONS = (
    "Cách dùng tờ hiệu chuẩn:",
    "1. In tờ này ở tỷ lệ 100 % (“Kích thước thật”, không chọn “Vừa trang”). Thước bên dưới: 10 cm phải dài đúng 10 cm.",
    "2. Quét tờ này bằng đúng máy và đúng thiết lập dùng cho phiếu khảo sát (độ phân giải, chế độ màu/xám/đen trắng).",
    "3. Chạy: sipas-scan calibrate read <tệp quét> --name <tên máy quét>",
    "Chương trình đo độ phân giải thật, sai số tỷ lệ, độ nghiêng, thang xám, nhiễu và độ đậm nhỏ nhất của dấu",
    "còn đọc được, rồi cho biết thiết lập có dùng được để đọc phiếu không. Không viết, không đánh dấu lên tờ này.",
)


def write_sheet(path: Path) -> Path:
    """Write the one-page calibration sheet PDF to ``path``."""
    fonts.register_fonts()
    layout = S.sheet_layout()
    canvas = Canvas(str(path), pagesize=A4, pageCompression=1, invariant=1, initialFontName=fonts.REGULAR)
    canvas.setTitle("Tờ hiệu chuẩn máy quét SIPAS")
    canvas.setCreator("sipas-scan")
    for marker in layout.markers:
        x, y, size, _ = marker.rect
        fill_cells(canvas, marker_cells(marker.id), x, y, size)
    x, y, size, _ = layout.qr
    fill_cells(canvas, qr_cells(S.QR_PAYLOAD), x, y, size)

    left = defs.HEADER_TEXT_X_MM
    _text(canvas, left, 16.0, "TỜ HIỆU CHUẨN MÁY QUÉT", defs.FONT_SIZE_TITLE_PT, bold=True)
    _text(canvas, left, 22.5, f"Khảo sát SIPAS — phiên bản tờ {S.SHEET_VERSION}", defs.FONT_SIZE_HEADER_PT)

    _text(canvas, defs.CONTENT_LEFT_MM, S.PATCH_TOP_MM - 3.0, "Thang xám (độ đậm khi in)", defs.FONT_SIZE_BODY_PT, bold=True)
    for patch in layout.patches:
        px, py, pw, ph = patch.rect
        _fill(canvas, patch.rect, patch.darkness)
        canvas.setLineWidth(0.2)
        canvas.setStrokeGray(0.6)
        canvas.rect(points(px), y_points(py + ph), points(pw), points(ph), stroke=1, fill=0)
        canvas.setStrokeGray(0)
        _text(canvas, px + pw / 2, py + ph + 4.0, f"{patch.darkness * 100:.0f} %", 6.5, align="center")

    _text(
        canvas,
        defs.CONTENT_LEFT_MM,
        S.MARK_GRID_TOP_MM - 13.0,
        "Dấu mẫu trong ô (hàng: độ đậm, cột: diện tích dấu)",
        defs.FONT_SIZE_BODY_PT,
        bold=True,
    )
    first_row = [m for m in layout.marks if m.darkness == S.MARK_LEVELS[0]]
    for mark in first_row:
        bx, by, bw, _ = mark.box
        label = "trống" if mark.coverage == 0 else f"{mark.coverage * 100:.0f} %"
        _text(canvas, bx + bw / 2, by - 2.5, label, 6.5, align="center")
    for level in S.MARK_LEVELS:
        by = next(m.box[1] for m in layout.marks if m.darkness == level)
        _text(canvas, S.MARK_GRID_LEFT_MM - 4.0, by + 3.7, f"{level * 100:.0f} %", 6.5, align="right")
    canvas.setLineWidth(defs.BOX_LINE_WIDTH_PT)
    for mark in layout.marks:
        bx, by, bw, bh = mark.box
        if mark.mark is not None:
            _fill(canvas, mark.mark, mark.darkness)
        canvas.rect(points(bx), y_points(by + bh), points(bw), points(bh), stroke=1, fill=0)

    _text(canvas, S.BAR_LEFT_MM, S.BAR_TOP_MM - 13.0, "Độ phân giải (cặp vạch/mm)", defs.FONT_SIZE_BODY_PT, bold=True)
    for bar_patch in layout.bars:
        _bars(canvas, bar_patch)
        if bar_patch.axis == "x":
            _text(canvas, bar_patch.rect[0] - 1.5, bar_patch.rect[1] + 5.2, f"{bar_patch.frequency:g}", 6.5, align="right")
    _text(canvas, S.BAR_LEFT_MM + S.BAR_PATCH_W_MM / 2, S.BAR_TOP_MM - 2.5, "ngang", 6.5, align="center")
    _text(canvas, S.BAR_LEFT_MM + S.BAR_COLUMN_PITCH_MM + S.BAR_PATCH_W_MM / 2, S.BAR_TOP_MM - 2.5, "dọc", 6.5, align="center")

    y = 180.0
    for i, line in enumerate(INSTRUCTIONS):
        _text(canvas, defs.CONTENT_LEFT_MM + 5, y, line, defs.FONT_SIZE_BODY_PT - 1, bold=i == 0)
        y += 5.5

    _ruler(canvas, horizontal=True)
    _ruler(canvas, horizontal=False)
    _text(canvas, S.RULER_X0_MM, S.RULER_Y_MM - 2.0, "Thước kiểm tra tỷ lệ in (mm)", 6.5)
    _text(canvas, defs.FOOTER_LEFT_MM, defs.FOOTER_BASELINE_MM, "sipas-scan calibrate", defs.FONT_SIZE_SMALL_PT)
    canvas.showPage()
    canvas.save()
    return path
