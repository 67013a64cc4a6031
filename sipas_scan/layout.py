"""Where everything is on a page, computed once from the survey.

Printing draws exactly the operations listed here, reading measures the boxes
listed here, and layout.json is this model's dump: the three cannot disagree.
All lengths in millimetres from the page's top-left corner; text positions are
baselines.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from sipas_scan import defs
from sipas_scan.fonts import text_width_mm
from sipas_scan.survey.loader import find_survey
from sipas_scan.survey.model import Grid, Question, Survey

Rect = tuple[float, float, float, float]  # x, y, w, h in mm

SHORT_GRID_ROWS = 6


@dataclass(frozen=True)
class TextRun:
    x: float
    y: float  # baseline
    text: str
    size_pt: float
    bold: bool = False
    align: Literal["left", "center", "right"] = "left"
    grey: float = 0.0


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    width_pt: float
    grey: float = 0.0
    dashed: bool = False


@dataclass(frozen=True)
class Frame:
    """A stroked rectangle: a checkbox or a comment box."""

    x: float
    y: float
    w: float
    h: float
    width_pt: float

    @property
    def rect(self) -> Rect:
        return (self.x, self.y, self.w, self.h)


Drawing = TextRun | Rule | Frame


@dataclass(frozen=True)
class OptionBox:
    code: str
    box: Rect


@dataclass(frozen=True)
class FieldLayout:
    id: str
    kind: Literal["single", "multi", "text"]
    page: int
    options: tuple[OptionBox, ...] = ()
    box: Rect | None = None  # text fields: the writing area
    max_choices: int | None = None
    region: Rect = (0.0, 0.0, 0.0, 0.0)  # what a reviewer is shown

    def to_contract(self) -> dict:
        out: dict = {"id": self.id, "kind": self.kind}
        if self.kind == "multi":
            out["max"] = self.max_choices
        if self.kind == "text":
            out["box_mm"] = _round_rect(self.box)
        else:
            out["options"] = [{"code": o.code, "box_mm": _round_rect(o.box)} for o in self.options]
        out["region_mm"] = _round_rect(self.region)
        return out


@dataclass(frozen=True)
class Marker:
    id: int
    rect: Rect


@dataclass(frozen=True)
class PageLayout:
    number: int
    drawing: tuple[Drawing, ...]
    fields: tuple[FieldLayout, ...]


@dataclass(frozen=True)
class FormLayout:
    survey_id: str
    survey_version: str
    pages: tuple[PageLayout, ...]
    markers: tuple[Marker, ...]
    qr: Rect
    page_size: tuple[float, float] = (defs.PAGE_WIDTH_MM, defs.PAGE_HEIGHT_MM)
    _fields: dict[str, FieldLayout] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._fields.update({f.id: f for page in self.pages for f in page.fields})

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def field(self, field_id: str) -> FieldLayout:
        return self._fields[field_id]

    def to_contract(self) -> dict:
        """The layout.json document of docs/formats.md (plus markers and QR)."""
        return {
            "survey": self.survey_id,
            "survey_version": self.survey_version,
            "page_size_mm": list(self.page_size),
            "markers": [{"id": m.id, "box_mm": _round_rect(m.rect)} for m in self.markers],
            "qr_mm": _round_rect(self.qr),
            "pages": [{"page": page.number, "fields": [f.to_contract() for f in page.fields]} for page in self.pages],
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_contract(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _round_rect(rect: Rect | None) -> list[float]:
    assert rect is not None
    return [round(v, 2) for v in rect]


def leading_mm(size_pt: float) -> float:
    return size_pt * defs.LEADING_FACTOR / defs.PT_PER_MM


def wrap_words(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Greedy word wrap: lines whose ``measure`` stays within ``width`` (any
    unit); a word longer than the width stands alone."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and measure(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def wrap(text: str, width_mm: float, size_pt: float, *, bold: bool = False) -> list[str]:
    """Printed text wrapped to ``width_mm``; at least one (possibly empty) line."""
    return wrap_words(text, width_mm, lambda line: text_width_mm(line, size_pt, bold=bold)) or [""]


def marker_rects() -> tuple[Marker, ...]:
    m, s = defs.MARKER_MARGIN_MM, defs.MARKER_SIZE_MM
    right, bottom = defs.PAGE_WIDTH_MM - m - s, defs.PAGE_HEIGHT_MM - m - s
    corners = ((m, m), (right, m), (right, bottom), (m, bottom))
    return tuple(Marker(id=i, rect=(x, y, s, s)) for i, (x, y) in zip(defs.MARKER_IDS, corners, strict=True))


def text_rule_offset_mm(line: int) -> float:
    """Depth of a comment box's ruled line ``line`` (1-based) below the box's top."""
    return 1.0 + line * defs.TEXT_LINE_PITCH_MM - 0.6


def qr_rect() -> Rect:
    """Where every page's code is printed, whatever the survey."""
    return (defs.QR_X_MM, defs.QR_Y_MM, defs.QR_SIZE_MM, defs.QR_SIZE_MM)


# --------------------------------------------------------------------------
# Blocks: a piece of page laid out from y = 0, placed later at the cursor.


@dataclass
class _Block:
    height: float
    drawing: list[Drawing] = field(default_factory=list)
    fields: list[FieldLayout] = field(default_factory=list)
    keep_with_next: bool = False


def _shift_rect(rect: Rect, dy: float) -> Rect:
    return (rect[0], rect[1] + dy, rect[2], rect[3])


def _shift(item: Drawing, dy: float) -> Drawing:
    if isinstance(item, Rule):
        return replace(item, y1=item.y1 + dy, y2=item.y2 + dy)
    return replace(item, y=item.y + dy)


def _shift_field(item: FieldLayout, dy: float, page: int) -> FieldLayout:
    return replace(
        item,
        page=page,
        options=tuple(replace(o, box=_shift_rect(o.box, dy)) for o in item.options),
        box=_shift_rect(item.box, dy) if item.box else None,
        region=_shift_rect(item.region, dy),
    )


def _paragraph(
    x: float,
    width: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    align: Literal["left", "center", "right"] = "left",
    y0: float = 0.0,
) -> tuple[list[TextRun], float]:
    """Wrapped lines from top ``y0``; returns the runs and the height used."""
    lead = leading_mm(size)
    runs = []
    anchor = {"left": x, "center": x + width / 2, "right": x + width}[align]
    for i, line in enumerate(wrap(text, width, size, bold=bold)):
        runs.append(TextRun(anchor, y0 + lead * (i + 1) - lead * 0.25, line, size, bold, align))
    return runs, lead * len(runs)


class _Layouter:
    left = defs.CONTENT_LEFT_MM
    width = defs.CONTENT_RIGHT_MM - defs.CONTENT_LEFT_MM
    indent = 9.0  # question text hangs right of its label

    def __init__(self, survey: Survey):
        self.survey = survey
        self.pages: list[tuple[list[Drawing], list[FieldLayout]]] = []
        self.y = 0.0
        self._new_page()

    # ---- pagination -----------------------------------------------------
    def _new_page(self) -> None:
        self.pages.append(([], []))
        self.y = defs.CONTENT_TOP_MM

    def _room(self) -> float:
        return defs.CONTENT_BOTTOM_MM - self.y

    def place(self, block: _Block, *, gap_after: float = 0.0) -> None:
        if block.height > self._room() and self.y > defs.CONTENT_TOP_MM:
            self._new_page()
        drawing, fields = self.pages[-1]
        page = len(self.pages)
        drawing.extend(_shift(d, self.y) for d in block.drawing)
        fields.extend(_shift_field(f, self.y, page) for f in block.fields)
        self.y += block.height + gap_after

    def place_together(self, blocks: list[_Block], *, gap_after: float = 0.0) -> None:
        """Place blocks so that the first ones do not end a page alone."""
        needed = sum(b.height for b in blocks)
        if needed > self._room() and self.y > defs.CONTENT_TOP_MM:
            self._new_page()
        for i, block in enumerate(blocks):
            self.place(block, gap_after=gap_after if i == len(blocks) - 1 else 0.0)

    # ---- blocks ---------------------------------------------------------
    def text_block(self, text: str, size: float, *, bold: bool = False, align="left", gap: float = 0.0) -> _Block:
        runs, height = _paragraph(self.left, self.width, text, size, bold=bold, align=align)
        return _Block(height + gap, list(runs))

    def question_head(self, label: str, text: str, note: str) -> _Block:
        size = defs.FONT_SIZE_BODY_PT
        label = f"{label}.".replace("..", ".")
        indent = max(self.indent, text_width_mm(label, size, bold=True) + 1.5)
        runs, height = _paragraph(self.left + indent, self.width - indent, text, size)
        drawing: list[Drawing] = [TextRun(self.left, runs[0].y, label, size, bold=True)]
        drawing.extend(runs)
        if note:
            note_runs, note_h = _paragraph(self.left + indent, self.width - indent, note, defs.FONT_SIZE_SMALL_PT, y0=height)
            drawing.extend(note_runs)
            height += note_h
        return _Block(height + 1.2, drawing)

    def choice_block(self, question: Question) -> _Block:
        """Question text, then its options in columns, row by row."""
        head = self.question_head(question.label, question.text, question.note)
        size = defs.FONT_SIZE_BODY_PT
        lead = leading_mm(size)
        x0 = self.left + self.indent
        avail = self.width - self.indent
        n_cols = question.columns or self._auto_columns(question, avail)
        col_w = (avail + defs.OPTION_COLUMN_GAP_MM) / n_cols - defs.OPTION_COLUMN_GAP_MM
        label_w = col_w - defs.BOX_SIZE_MM - defs.BOX_LABEL_GAP_MM
        drawing = list(head.drawing)
        options: list[OptionBox] = []
        y = head.height
        box = defs.BOX_SIZE_MM
        for row_start in range(0, len(question.options), n_cols):
            row = question.options[row_start : row_start + n_cols]
            row_h = box
            for col, option in enumerate(row):
                x = x0 + col * (col_w + defs.OPTION_COLUMN_GAP_MM)
                drawing.append(Frame(x, y, box, box, defs.BOX_LINE_WIDTH_PT))
                options.append(OptionBox(option.code, (x, y, box, box)))
                lines = wrap(option.label, label_w, size)
                # First text line centred on the box.
                first_baseline = y + box / 2 + size * 0.35 / defs.PT_PER_MM
                for i, line in enumerate(lines):
                    drawing.append(TextRun(x + box + defs.BOX_LABEL_GAP_MM, first_baseline + i * lead, line, size))
                row_h = max(row_h, box / 2 + lead * (len(lines) - 0.5) + 1.0)
            y += row_h + defs.OPTION_ROW_GAP_MM
        height = y - defs.OPTION_ROW_GAP_MM
        region = (self.left - 1.0, 0.0, self.width + 2.0, height + 1.0)
        kind = question.kind
        fld = FieldLayout(question.id, kind, 0, tuple(options), None, question.max_choices if kind == "multi" else None, region)
        return _Block(height, drawing, [fld])

    def _auto_columns(self, question: Question, avail: float) -> int:
        size = defs.FONT_SIZE_BODY_PT
        widest = max(text_width_mm(o.label, size) for o in question.options)
        needed = widest + defs.BOX_SIZE_MM + defs.BOX_LABEL_GAP_MM + defs.OPTION_COLUMN_GAP_MM
        return max(1, min(len(question.options), int((avail + defs.OPTION_COLUMN_GAP_MM) // needed), 6))

    def text_field_block(self, question: Question) -> _Block:
        head = self.question_head(question.label, question.text, question.note)
        x = self.left + self.indent
        w = self.width - self.indent
        h = question.lines * defs.TEXT_LINE_PITCH_MM + 2.0
        y = head.height + 0.8
        drawing = list(head.drawing)
        drawing.append(Frame(x, y, w, h, defs.TEXT_BOX_LINE_WIDTH_PT))
        for i in range(1, question.lines + 1):
            ry = y + text_rule_offset_mm(i)
            drawing.append(Rule(x + 3.0, ry, x + w - 3.0, ry, 0.4, defs.TEXT_RULE_GREY, dashed=True))
        region = (self.left - 1.0, 0.0, self.width + 2.0, y + h + 1.0)
        fld = FieldLayout(question.id, "text", 0, (), (x, y, w, h), None, region)
        return _Block(y + h, drawing, [fld])

    def grid_blocks(self, grid: Grid) -> list[_Block]:
        """Heading, header row and one block per row; the header is repeated
        when a grid continues on the next page."""
        n = len(grid.options)
        col_w = min(18.0, (self.width * 0.45) / n)
        pad = defs.GRID_CELL_PADDING_MM
        body = defs.FONT_SIZE_BODY_PT
        number_w = max(9.0, max(text_width_mm(r.label, body, bold=True) for r in grid.rows) + 2 * pad)
        text_w = self.width - n * col_w
        grid_x = self.left
        small = defs.FONT_SIZE_SMALL_PT
        grey, lw = defs.GRID_LINE_GREY, defs.GRID_LINE_WIDTH_PT
        right = grid_x + self.width

        head = self.question_head(grid.label, grid.text, grid.note)
        head.drawing = [replace(d, bold=True) if isinstance(d, TextRun) and d.size_pt == body else d for d in head.drawing]

        def header_row() -> _Block:
            drawing: list[Drawing] = []
            lines_per_label = [wrap(o.label, col_w - 2 * pad, small) for o in grid.options]
            lead = leading_mm(small)
            h = max(len(lines) for lines in lines_per_label) * lead + 2 * pad + 0.6
            for i, lines in enumerate(lines_per_label):
                cx = grid_x + text_w + (i + 0.5) * col_w
                top = (h - len(lines) * lead) / 2
                for j, line in enumerate(lines):
                    drawing.append(TextRun(cx, top + lead * (j + 1) - lead * 0.25, line, small, align="center"))
            drawing.append(Rule(grid_x, 0.0, right, 0.0, lw, grey))
            drawing.extend(Rule(grid_x + text_w + i * col_w, 0.0, grid_x + text_w + i * col_w, h, lw, grey) for i in range(n + 1))
            drawing.append(Rule(grid_x, 0.0, grid_x, h, lw, grey))
            drawing.append(Rule(grid_x, h, right, h, lw, grey))
            return _Block(h, drawing)

        blocks = [head, header_row()]
        for row in grid.rows:
            lines = wrap(row.text, text_w - number_w - 2 * pad, body)
            lead = leading_mm(body)
            h = max(defs.GRID_MIN_ROW_HEIGHT_MM, len(lines) * lead + 2 * pad)
            top = (h - len(lines) * lead) / 2
            drawing: list[Drawing] = [TextRun(grid_x + pad, top + lead * 0.75, row.label, body, bold=True)]
            drawing.extend(TextRun(grid_x + number_w + pad, top + lead * (j + 0.75), line, body) for j, line in enumerate(lines))
            options = []
            box = defs.BOX_SIZE_MM
            for i, option in enumerate(grid.options):
                bx = grid_x + text_w + (i + 0.5) * col_w - box / 2
                by = (h - box) / 2
                drawing.append(Frame(bx, by, box, box, defs.BOX_LINE_WIDTH_PT))
                options.append(OptionBox(option.code, (bx, by, box, box)))
            drawing.append(Rule(grid_x, h, right, h, lw, grey))
            drawing.extend(
                Rule(x, 0.0, x, h, lw, grey) for x in [grid_x, grid_x + number_w, *(grid_x + text_w + i * col_w for i in range(n + 1))]
            )
            region = (grid_x - 1.0, -0.5, self.width + 2.0, h + 1.0)
            blocks.append(_Block(h, drawing, [FieldLayout(row.id, "single", 0, tuple(options), None, None, region)]))
        return blocks

    # ---- the whole form ---------------------------------------------------
    def issuer_block(self, lines: tuple[str, ...]) -> _Block:
        """The issuing body, centred in the left part of the page as on official
        documents; its last line (the body itself) in bold."""
        runs: list[Drawing] = []
        height = 0.0
        for i, line in enumerate(lines):
            line_runs, line_height = _paragraph(
                self.left, self.width * 0.45, line, defs.FONT_SIZE_BODY_PT, bold=i == len(lines) - 1, align="center", y0=height
            )
            runs += line_runs
            height += line_height
        return _Block(height, runs)

    def run(self) -> list[PageLayout]:
        s = self.survey
        if s.issuer:
            self.place(self.issuer_block(s.issuer), gap_after=2.5)
        self.place(self.text_block(s.title, defs.FONT_SIZE_TITLE_PT, bold=True, align="center"), gap_after=1.0)
        if s.subtitle:
            self.place(self.text_block(s.subtitle, defs.FONT_SIZE_BODY_PT, align="center"), gap_after=2.5)
        for paragraph in s.intro:
            self.place(self.text_block(paragraph, defs.FONT_SIZE_BODY_PT), gap_after=defs.PARAGRAPH_GAP_MM)
        for paragraph in s.instructions:
            self.place(self.text_block(paragraph, defs.FONT_SIZE_BODY_PT, bold=True), gap_after=defs.PARAGRAPH_GAP_MM)
        self.y += defs.SECTION_GAP_MM - defs.PARAGRAPH_GAP_MM
        for section in s.sections:
            heading = [self.text_block(section.title, defs.FONT_SIZE_HEADING_PT, bold=True, gap=1.0)]
            if section.note:
                heading.append(self.text_block(section.note, defs.FONT_SIZE_BODY_PT, gap=1.5))
            for n_item, item in enumerate(section.items):
                if isinstance(item, Grid):
                    blocks = self.grid_blocks(item)
                    # A short grid stays on one page; a long one may break
                    # after its first rows, with the scale header repeated.
                    keep = len(blocks) if len(item.rows) <= SHORT_GRID_ROWS else 4
                    first, rest = blocks[:keep], blocks[keep:]
                    self.place_together((heading if n_item == 0 else []) + first)
                    header = blocks[1]
                    for block in rest:
                        if block.height > self._room():
                            self._new_page()
                            self.place(header)
                        self.place(block)
                    self.y += defs.QUESTION_GAP_MM
                else:
                    block = self.text_field_block(item) if item.kind == "text" else self.choice_block(item)
                    self.place_together((heading if n_item == 0 else []) + [block], gap_after=defs.QUESTION_GAP_MM)
            self.y += defs.SECTION_GAP_MM - defs.QUESTION_GAP_MM
        if s.closing:
            self.place(self.text_block(s.closing, defs.FONT_SIZE_HEADING_PT, bold=True, align="center"))
        return self._finish()

    def _finish(self) -> list[PageLayout]:
        total = len(self.pages)
        header_rule_y = defs.CONTENT_TOP_MM - 2.5
        pages = []
        for number, (drawing, fields) in enumerate(self.pages, start=1):
            frame: list[Drawing] = [
                TextRun(defs.HEADER_TEXT_X_MM, 12.0, self.survey.short_title, defs.FONT_SIZE_HEADER_PT, bold=True),
                Rule(defs.CONTENT_LEFT_MM, header_rule_y, defs.CONTENT_RIGHT_MM, header_rule_y, 0.6),
                TextRun(
                    defs.PAGE_WIDTH_MM / 2,
                    defs.FOOTER_BASELINE_MM,
                    f"Trang {number}/{total}",
                    defs.FONT_SIZE_HEADER_PT,
                    bold=True,
                    align="center",
                ),
            ]
            pages.append(PageLayout(number, tuple(frame + drawing), tuple(fields)))
        return pages


def layout_survey(survey: Survey) -> FormLayout:
    """Lay the survey out on A4 pages. Pure: same survey, same layout."""
    pages = _Layouter(survey).run()
    return FormLayout(survey.id, survey.version, tuple(pages), marker_rects(), qr_rect())


@functools.lru_cache(maxsize=8)
def survey_and_layout(survey_id: str) -> tuple[Survey, FormLayout]:
    """The bundled survey definition with this id (see survey.find_survey) and its layout."""
    survey = find_survey(survey_id)
    return survey, layout_survey(survey)


def all_boxes(layout: FormLayout) -> Iterable[tuple[FieldLayout, OptionBox]]:
    for page in layout.pages:
        for fld in page.fields:
            for option in fld.options:
                yield fld, option
