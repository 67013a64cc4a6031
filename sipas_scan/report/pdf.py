"""The report as PDF (ReportLab platypus), every letter in the embedded
DejaVu Sans of sipas_scan/fonts.py: the built-in fonts would drop Vietnamese
letters silently."""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable

from sipas_scan.fonts import BOLD, REGULAR, register_fonts
from sipas_scan.report import model

MARGIN = 18 * mm
FRAME_WIDTH = A4[0] - 2 * MARGIN
HEADER_FILL = colors.HexColor("#dfe8f1")
RULE = colors.HexColor("#9aa9b8")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=13.5, spaceAfter=4)
    return {
        "body": base,
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444")),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=16, leading=20, alignment=TA_CENTER,
                                spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontName=BOLD, fontSize=12, leading=16,
                                   alignment=TA_CENTER, spaceAfter=14),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=13, leading=17, spaceBefore=10, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=11, leading=14.5, spaceBefore=8, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=base, fontName=BOLD, fontSize=10, leading=13.5, spaceBefore=6, spaceAfter=3,
                             textColor=colors.HexColor("#1c4466")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "cellr": ParagraphStyle("cellr", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=2),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0),
        "headr": ParagraphStyle("headr", parent=base, fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0,
                                alignment=2),
        "caption": ParagraphStyle("caption", parent=base, fontSize=8.5, leading=11, alignment=TA_CENTER,
                                  textColor=colors.HexColor("#333333"), spaceBefore=2, spaceAfter=8),
        "big": ParagraphStyle("big", parent=base, fontName=BOLD, fontSize=24, leading=28, alignment=TA_CENTER,
                              textColor=colors.HexColor("#1c4466")),
    }


def _text(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def _table(table: model.Table, styles: dict[str, ParagraphStyle]) -> list:
    weights = table.widths or (1,) * len(table.header)
    widths = [FRAME_WIDTH * w / sum(weights) for w in weights]
    head = [Paragraph(_text(h), styles["headr" if i in table.numeric else "head"]) for i, h in enumerate(table.header)]
    body = [[Paragraph(_text(cell), styles["cellr" if i in table.numeric else "cell"]) for i, cell in enumerate(row)]
            for row in table.rows]
    grid = RLTable([head, *body], colWidths=widths, repeatRows=1)
    grid.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),  # else the table declares Helvetica, not embedded
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    if table.caption:
        return [KeepTogether([Paragraph(_text(table.caption), styles["h3"]), grid]), Spacer(1, 6)]
    return [grid, Spacer(1, 6)]


def _chart(chart: model.Chart, styles: dict[str, ParagraphStyle]) -> list:
    with PILImage.open(io.BytesIO(chart.png)) as image:
        width_px, height_px = image.size
    width = FRAME_WIDTH
    height = width * height_px / width_px
    limit = A4[1] - 2 * MARGIN - 30 * mm
    if height > limit:  # a very long ranking: shrink to fit one page
        width, height = width * limit / height, limit
    return [KeepTogether([Image(io.BytesIO(chart.png), width=width, height=height),
                          Paragraph(_text(chart.caption), styles["caption"])])]


def _block_flowables(block: model.Block, styles: dict[str, ParagraphStyle]) -> list:
    if isinstance(block, model.Heading):
        return [Paragraph(_text(block.text), styles[f"h{block.level}"])]
    if isinstance(block, model.Paragraph):
        return [Paragraph(_text(block.text), styles["note" if block.note else "body"])]
    if isinstance(block, model.Bullets):
        items = [ListItem(Paragraph(_text(item.strip()), styles["body"]),
                          leftIndent=12 + 12 * ((len(item) - len(item.lstrip())) // 4)) for item in block.items]
        return [ListFlowable(items, bulletType="bullet", bulletFontName=REGULAR, bulletFontSize=8, start="•",
                             leftIndent=12)]
    if isinstance(block, model.Table):
        return _table(block, styles)
    if isinstance(block, model.Chart):
        return _chart(block, styles)
    if isinstance(block, model.Figure):
        return [KeepTogether([Paragraph(_text(block.label), styles["caption"]), Paragraph(_text(block.value), styles["big"]),
                              Paragraph(_text(block.detail), styles["caption"])])]
    raise TypeError(f"unknown report block {type(block).__name__}")


def _flowables(report: model.Report, styles: dict[str, ParagraphStyle]) -> list:
    story: list = [Paragraph(_text(report.title), styles["title"]), Paragraph(_text(report.subtitle), styles["subtitle"])]
    headings: list = []  # headings waiting for the block they introduce
    for block in report.blocks:
        flowables = _block_flowables(block, styles)
        if isinstance(block, model.Heading):
            headings += flowables
            continue
        if headings:
            # A heading never ends a page alone: it travels with the start of its block.
            first, *rest = flowables
            flowables = [KeepTogether([*headings, first]), *rest]
            headings = []
        story += flowables
    return story + headings


def _footer(canvas, document) -> None:  # noqa: ANN001 - ReportLab's callback signature
    canvas.saveState()
    canvas.setFont(REGULAR, 8)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"Trang {document.page}")
    canvas.restoreState()


def write_pdf(report: model.Report, path: Path) -> Path:
    register_fonts()
    path.parent.mkdir(parents=True, exist_ok=True)
    document = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                 bottomMargin=MARGIN, title=report.subtitle, author="sipas-scan", lang="vi",
                                 initialFontName=REGULAR, invariant=1)
    document.build(_flowables(report, _styles()), onFirstPage=_footer, onLaterPages=_footer)
    return path
