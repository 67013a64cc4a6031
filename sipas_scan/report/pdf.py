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
    CondPageBreak,
    Flowable,
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
FRAME_HEIGHT = A4[1] - 2 * MARGIN
HEADER_FILL = colors.HexColor("#dfe8f1")
RULE = colors.HexColor("#9aa9b8")
# A table with more rows than this may start on a page with room for a few
# of its rows (its header repeats); a shorter one moves whole to the next page.
SPLIT_TABLE_ROWS = 12
# A chart may shrink to this share of its size to finish a page rather than
# leave the rest of the page empty.
CHART_MIN_SCALE = 0.6
HEADING_ROOM = 11 * mm  # a heading's height with the space around it
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


class _FittingImage(Flowable):
    """A chart that takes the room left on the page when it can do so at
    CHART_MIN_SCALE of its size or more; otherwise it goes to the next page whole."""

    def __init__(self, png: bytes, width: float, height: float, reserve: float):
        super().__init__()
        self.png, self.full_width, self.full_height = png, width, height
        self.reserve = reserve  # room kept for the caption under it
        self.scale = 1.0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.scale = 1.0
        room = available_height - self.reserve
        if self.full_height > room >= self.full_height * CHART_MIN_SCALE:
            self.scale = room / self.full_height
        return self.full_width, self.full_height * self.scale

    def draw(self) -> None:
        width, height = self.full_width * self.scale, self.full_height * self.scale
        Image(io.BytesIO(self.png), width=width, height=height).drawOn(self.canv, (self.full_width - width) / 2, 0)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=13.5, spaceAfter=4)
    return {
        "body": base,
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444")),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=16, leading=20, alignment=TA_CENTER, spaceAfter=6),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontName=BOLD, fontSize=12, leading=16, alignment=TA_CENTER, spaceAfter=14
        ),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=13, leading=17, spaceBefore=10, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=11, leading=14.5, spaceBefore=8, spaceAfter=4),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=BOLD,
            fontSize=10,
            leading=13.5,
            spaceBefore=6,
            spaceAfter=3,
            textColor=colors.HexColor("#1c4466"),
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "cellr": ParagraphStyle("cellr", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=2),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0),
        "headr": ParagraphStyle("headr", parent=base, fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=2),
        "caption": ParagraphStyle(
            "caption",
            parent=base,
            fontSize=8.5,
            leading=11,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#333333"),
            spaceBefore=2,
            spaceAfter=8,
        ),
        "big": ParagraphStyle(
            "big", parent=base, fontName=BOLD, fontSize=24, leading=28, alignment=TA_CENTER, textColor=colors.HexColor("#1c4466")
        ),
    }


def _text(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def _table(table: model.Table, styles: dict[str, ParagraphStyle]) -> list:
    weights = table.widths or (1,) * len(table.header)
    widths = [FRAME_WIDTH * w / sum(weights) for w in weights]
    head = [Paragraph(_text(h), styles["headr" if i in table.numeric else "head"]) for i, h in enumerate(table.header)]

    def style(row: int, column: int) -> ParagraphStyle:
        bold = "head" if row in table.bold_rows else "cell"
        return styles[f"{bold}r" if column in table.numeric else bold]

    body = [[Paragraph(_text(cell), style(r, i)) for i, cell in enumerate(row)] for r, row in enumerate(table.rows)]
    grid = RLTable([head, *body], colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),  # else the table declares Helvetica, not embedded
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    if len(table.rows) > SPLIT_TABLE_ROWS:
        # Starts where there is room for its caption, header and a few rows.
        caption = [Paragraph(_text(table.caption), styles["h3"])] if table.caption else []
        return [CondPageBreak(45 * mm), *caption, grid, Spacer(1, 6)]
    if table.caption:
        return [KeepTogether([Paragraph(_text(table.caption), styles["h3"]), grid]), Spacer(1, 6)]
    return [grid, Spacer(1, 6)]


def _chart(chart: model.Chart, styles: dict[str, ParagraphStyle]) -> list:
    with PILImage.open(io.BytesIO(chart.png)) as image:
        width_px, height_px = image.size
    width = FRAME_WIDTH
    height = width * height_px / width_px
    limit = FRAME_HEIGHT - 30 * mm
    if height > limit:  # a very long ranking: shrink to fit one page
        width, height = width * limit / height, limit
    caption = Paragraph(_text(chart.caption), styles["caption"])
    reserve = caption.wrap(FRAME_WIDTH, FRAME_HEIGHT)[1] + styles["caption"].spaceBefore + styles["caption"].spaceAfter
    # Not a KeepTogether: inside one the picture could not shrink to the room left.
    return [CondPageBreak(height * CHART_MIN_SCALE + reserve), _FittingImage(chart.png, width, height, reserve), caption]


def _block_flowables(block: model.Block, styles: dict[str, ParagraphStyle]) -> list:
    if isinstance(block, model.Heading):
        return [Paragraph(_text(block.text), styles[f"h{block.level}"])]
    if isinstance(block, model.Paragraph):
        return [Paragraph(_text(block.text), styles["note" if block.note else "body"])]
    if isinstance(block, model.Bullets):
        items = [
            ListItem(Paragraph(_text(item.strip()), styles["body"]), leftIndent=12 + 12 * ((len(item) - len(item.lstrip())) // 4))
            for item in block.items
        ]
        # One list per item: a long list may start at the foot of a page.
        return [
            ListFlowable([item], bulletType="bullet", bulletFontName=REGULAR, bulletFontSize=8, start="•", leftIndent=12)
            for item in items
        ]
    if isinstance(block, model.Table):
        return _table(block, styles)
    if isinstance(block, model.Chart):
        return _chart(block, styles)
    if isinstance(block, model.Figure):
        return [
            KeepTogether(
                [
                    Paragraph(_text(block.label), styles["caption"]),
                    Paragraph(_text(block.value), styles["big"]),
                    Paragraph(_text(block.detail), styles["caption"]),
                ]
            )
        ]
    raise TypeError(f"unknown report block {type(block).__name__}")


def _letterhead(head: model.Letterhead, styles: dict[str, ParagraphStyle]) -> list:
    """Nghị định 30/2020: the issuer (a short rule under it) and the number
    on the left; the national name and motto (a rule under it) and the place
    and date on the right."""
    center = ParagraphStyle("lh", parent=styles["body"], fontSize=10.5, leading=13, alignment=TA_CENTER, spaceAfter=0)
    bold = ParagraphStyle("lhb", parent=center, fontName=BOLD)
    italic = ParagraphStyle("lhi", parent=center, fontName=REGULAR, textColor=colors.HexColor("#222222"))
    left = [
        *([Paragraph(_text(head.authority), center)] if head.authority else []),
        Paragraph(_text(head.issuer), bold),
        _Rule(0.3),
        Paragraph(_text(head.number_line), center),
    ]
    right = [
        Paragraph(_text(NATIONAL_NAME), bold),
        Paragraph(_text(MOTTO), bold),
        _Rule(0.62),
        Paragraph(f"<i>{_text(head.date_line)}</i>", italic),
    ]
    grid = RLTable([[left, right]], colWidths=[FRAME_WIDTH * 0.42, FRAME_WIDTH * 0.58])
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [grid, Spacer(1, 10)]


class _Rule(Flowable):
    """A centred solid rule, ``share`` of the column wide."""

    def __init__(self, share: float):
        super().__init__()
        self.share = share

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, 5

    def draw(self) -> None:
        length = self.width * self.share
        self.canv.setLineWidth(0.6)
        self.canv.line((self.width - length) / 2, 3, (self.width + length) / 2, 3)


def _signature(head: model.Letterhead, styles: dict[str, ParagraphStyle]) -> list:
    small = ParagraphStyle("rcp", parent=styles["body"], fontSize=8.5, leading=10.5, spaceAfter=0)
    center = ParagraphStyle("sig", parent=styles["body"], fontName=BOLD, alignment=TA_CENTER, spaceAfter=0)
    left = [
        Paragraph("Nơi nhận:", ParagraphStyle("rcph", parent=small, fontName=BOLD)),
        *(Paragraph(_text(f"- {r}"), small) for r in head.recipients),
    ]
    right = [
        *([Paragraph(_text(head.signing_for), center)] if head.signing_for else []),
        Paragraph(_text(head.signer_title), center),
        Paragraph("<i>(Chữ ký, dấu)</i>", ParagraphStyle("sigi", parent=center, fontName=REGULAR)),
        Spacer(1, 48),
        Paragraph(_text(head.signer), center),
    ]
    grid = RLTable([[left, right]], colWidths=[FRAME_WIDTH * 0.5, FRAME_WIDTH * 0.5])
    grid.setStyle(
        TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), REGULAR), ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        )
    )
    return [Spacer(1, 14), KeepTogether([grid])]


def _unwrapped(flowables: list) -> list:
    """The content of a KeepTogether, to go into another one: nested, the
    inner one reports an endless height and always forces a page break."""
    out: list = []
    for flowable in flowables:
        out += flowable._content if isinstance(flowable, KeepTogether) else [flowable]
    return out


def _flowables(report: model.Report, styles: dict[str, ParagraphStyle]) -> list:
    story: list = _letterhead(report.letterhead, styles) if report.letterhead else []
    story += [Paragraph(_text(report.title), styles["title"]), Paragraph(_text(report.subtitle), styles["subtitle"])]
    headings: list = []  # headings waiting for the block they introduce
    for block in report.blocks:
        flowables = _block_flowables(block, styles)
        if isinstance(block, model.Heading):
            headings += flowables
            continue
        if headings:
            # A heading never ends a page alone: it travels with the start of
            # its block (a long table brings its own page-break condition).
            first, *rest = flowables
            if isinstance(first, CondPageBreak):
                # A chart or a long table: room for the headings and its start, or a new page.
                flowables = [CondPageBreak(first.height + HEADING_ROOM * len(headings)), *headings, *rest]
            else:
                flowables = [KeepTogether([*headings, *_unwrapped([first])]), *rest]
            headings = []
        story += flowables
    story += headings
    if report.letterhead:
        story += _signature(report.letterhead, styles)
    return story


def _footer(canvas, document) -> None:  # noqa: ANN001 - ReportLab's callback signature
    canvas.saveState()
    canvas.setFont(REGULAR, 8)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"Trang {document.page}")
    canvas.restoreState()


def write_pdf(report: model.Report, path: Path) -> Path:
    register_fonts()
    path.parent.mkdir(parents=True, exist_ok=True)
    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=report.subtitle,
        author="sipas-scan",
        lang="vi",
        initialFontName=REGULAR,
        invariant=1,
    )
    document.build(_flowables(report, _styles()), onFirstPage=_footer, onLaterPages=_footer)
    return path
