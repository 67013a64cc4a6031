"""The report as an editable Word document (python-docx), laid out as a
Vietnamese administrative report (Nghị định 30/2020/NĐ-CP, Phụ lục I):

- A4; margins top and bottom 20 mm, left 30 mm, right 15 mm;
- a two-column header: the body above the issuer and the issuer (bold, a
  short rule under it) with "Số: .../BC-...", facing the national name and
  motto (a rule as long as the motto under it) with the place and date line;
- "BÁO CÁO" and the subject, bold and centred;
- Times New Roman 13 pt body, justified, first lines indented;
- real Word tables, charts as pictures, page numbers at the top from page 2;
- "Nơi nhận:" on the left and the signature block on the right.

Times New Roman has every Vietnamese letter; where it is missing (Linux),
LibreOffice uses the metric-compatible Liberation Serif, which has them too.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from sipas_scan.report import model

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 11
NOTE_PT = 11
TEXT_WIDTH_CM = 21.0 - 3.0 - 1.5
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
HEADER_FILL = "DFE8F1"


def _set_font(style_or_run, size: float | None = None, *, bold: bool | None = None, italic: bool | None = None) -> None:
    """Times New Roman for every script slot, so Word does not swap in
    another font for Vietnamese letters it files under another script."""
    font = style_or_run.font
    font.name = FONT
    element = style_or_run.element
    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), FONT)
    # A theme font (the template's headings use one) would win over the names above.
    for slot in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(slot), None)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if italic is not None:
        font.italic = italic


def _styles(document) -> None:
    normal = document.styles["Normal"]
    _set_font(normal, BODY_PT)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for level, (size, italic) in {1: (BODY_PT, False), 2: (BODY_PT, False), 3: (BODY_PT, True)}.items():
        style = document.styles[f"Heading {level}"]
        _set_font(style, size, bold=True, italic=italic)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(8 if level == 1 else 6)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True


def _page(section) -> None:
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)


def _paragraph(
    container,
    text: str = "",
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    space_after: float = 0,
    indent: bool = False,
) -> DocxParagraph:
    paragraph = container.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        _set_font(run, size, bold=bold, italic=italic)
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0 if not indent else 1.15
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    return paragraph


def _rule_under(container, cell_width_cm: float, rule_cm: float) -> None:
    """A solid rule of ``rule_cm``, centred: the bottom border of an empty,
    tiny paragraph narrowed by equal indents."""
    paragraph = _paragraph(container, "", size=2)
    side = max((cell_width_cm - rule_cm) / 2, 0)
    paragraph.paragraph_format.left_indent = Cm(side)
    paragraph.paragraph_format.right_indent = Cm(side)
    paragraph.paragraph_format.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _widths(table, widths_cm: list[float]) -> None:
    """Column widths that Word and LibreOffice both keep: the grid's and every cell's, in a fixed layout."""
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _no_borders(table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def _letterhead(document, head: model.Letterhead) -> None:
    left_cm, right_cm = 6.5, TEXT_WIDTH_CM - 6.5
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    table.autofit = False
    _widths(table, [left_cm, right_cm])
    left, right = table.rows[0].cells
    if head.authority:
        _paragraph(left, head.authority, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(left, head.issuer, size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _rule_under(left, left_cm, 2.2)
    _paragraph(left, head.number_line, size=BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER).paragraph_format.space_before = Pt(6)
    _paragraph(right, NATIONAL_NAME, size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(right, MOTTO, size=BODY_PT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _rule_under(right, right_cm, 6.2)
    date = _paragraph(right, head.date_line, size=BODY_PT, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    date.paragraph_format.space_before = Pt(6)
    for cell in (left, right):
        first = cell.paragraphs[0]
        if not first.text:
            first._p.getparent().remove(first._p)


def _title(document, report: model.Report) -> None:
    _paragraph(document, report.title, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER).paragraph_format.space_before = Pt(18)
    subject = _paragraph(document, report.subtitle, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    subject.paragraph_format.left_indent = subject.paragraph_format.right_indent = Cm(1)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _cell_text(cell: _Cell, text: str, *, bold: bool, right: bool) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    _set_font(paragraph.add_run(text), TABLE_PT, bold=bold)


def _table(document, table: model.Table) -> None:
    if table.caption:
        caption = _paragraph(document, table.caption, size=BODY_PT, bold=True, italic=True, space_after=3)
        caption.paragraph_format.keep_with_next = True
        caption.paragraph_format.space_before = Pt(6)
    weights = table.widths or (1,) * len(table.header)
    widths = [TEXT_WIDTH_CM * w / sum(weights) for w in weights]
    grid = document.add_table(rows=1 + len(table.rows), cols=len(table.header))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for index, heading in enumerate(table.header):
        cell = grid.rows[0].cells[index]
        _cell_text(cell, heading, bold=True, right=index in table.numeric)
        _shade(cell, HEADER_FILL)
    _repeat_header(grid.rows[0])
    for row_index, row in enumerate(table.rows):
        cells = grid.rows[row_index + 1].cells
        for index, value in enumerate(row):
            _cell_text(cells[index], value, bold=row_index in table.bold_rows, right=index in table.numeric)
    _widths(grid, widths)
    _paragraph(document, "", size=6)


def _chart(document, chart: model.Chart) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(chart.png)) as image:
        width_px, height_px = image.size
    width_cm = TEXT_WIDTH_CM - 0.5
    # Taller than the page's text: shrink to fit, keeping the proportions.
    limit_cm = 29.7 - 4.0 - 3.0
    if width_cm * height_px / width_px > limit_cm:
        width_cm = limit_cm * width_px / height_px
    picture = document.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    picture.paragraph_format.space_after = Pt(0)
    picture.add_run().add_picture(io.BytesIO(chart.png), width=Cm(width_cm))
    _paragraph(document, chart.caption, size=NOTE_PT, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=8)


def _block(document, block: model.Block) -> None:
    if isinstance(block, model.Heading):
        document.add_heading(block.text, level=block.level)
    elif isinstance(block, model.Paragraph):
        paragraph = _paragraph(
            document, block.text, size=NOTE_PT if block.note else BODY_PT, italic=block.note, space_after=6, indent=True
        )
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    elif isinstance(block, model.Bullets):
        for item in block.items:
            depth = (len(item) - len(item.lstrip())) // 4
            paragraph = _paragraph(document, f"- {item.strip()}", space_after=4, indent=True)
            paragraph.paragraph_format.left_indent = Cm(depth * 0.75)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    elif isinstance(block, model.Table):
        _table(document, block)
    elif isinstance(block, model.Chart):
        _chart(document, block)
    elif isinstance(block, model.Figure):
        paragraph = _paragraph(document, f"{block.label}: ", bold=True, space_after=6, indent=True)
        _set_font(paragraph.add_run(block.value), 15, bold=True)
        _set_font(paragraph.add_run(f" ({block.detail})"), BODY_PT)
    else:
        raise TypeError(f"unknown report block {type(block).__name__}")


def _signature(document, head: model.Letterhead) -> None:
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    table.autofit = False
    _widths(table, [8.0, TEXT_WIDTH_CM - 8.0])
    left, right = table.rows[0].cells
    recipients = left.paragraphs[0]
    _set_font(recipients.add_run("Nơi nhận:"), 12, bold=True, italic=True)
    for name in head.recipients:
        _paragraph(left, f"- {name}", size=11)
    first = right.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if head.signing_for:
        _set_font(first.add_run(head.signing_for), BODY_PT, bold=True)
        _paragraph(right, head.signer_title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    else:
        _set_font(first.add_run(head.signer_title), BODY_PT, bold=True)
    _paragraph(right, "(Chữ ký, dấu)", size=BODY_PT, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=60)
    _paragraph(right, head.signer, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def _page_numbers(section) -> None:
    """Arabic page numbers centred at the top, not on the first page."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    _set_font(run, BODY_PT)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def render_docx(report: model.Report) -> bytes:
    document = Document()
    _styles(document)
    section = document.sections[0]
    _page(section)
    _page_numbers(section)
    core = document.core_properties
    core.title, core.author, core.language = report.subtitle, report.letterhead.issuer if report.letterhead else "", "vi-VN"
    if report.letterhead:
        _letterhead(document, report.letterhead)
    _title(document, report)
    for block in report.blocks:
        _block(document, block)
    if report.letterhead:
        _paragraph(document, "", size=6)
        _signature(document, report.letterhead)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_docx(report: model.Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_docx(report))
    return path
