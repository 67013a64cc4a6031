"""Checkbox decisions on hand-made pages: each rule of the reader, one case
at a time, drawn at the reading grid (8 px/mm) with known strokes.

The page is a small canvas with a row (or column) of printed boxes; marks
are drawn with OpenCV in mm; darkness maps are built as the reader builds
them (the printed boxes, widened, are the reference)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from sipas_scan import defs
from sipas_scan.layout import FieldLayout, OptionBox
from sipas_scan.reading.marks import (
    HAIR_SOLID_SHARE,
    INSET_MM,
    NOTE_FLAGS,
    RING_DOUBT_BESIDE_CLEAR,
    RING_SECTORS,
    BoxMetrics,
    BoxReading,
    FieldReading,
    Hand,
    Thresholds,
    _no_mark_of_its_own,
    _rim_px,
    box_reading,
    classify,
    decide,
    decide_page,
    measure_box,
    read_fields,
    respondent_hand,
    stray_box_moved,
    with_border,
)
from sipas_scan.reading.reference import LOCAL_PRINT_TOLERANCE_PX, PRINT_TOLERANCE_PX, darkness, darkness_level

S = defs.READ_PX_PER_MM
BOX = defs.BOX_SIZE_MM
CANVAS_MM = (60.0, 60.0)  # width, height


def _pt(x_mm: float, y_mm: float) -> tuple[int, int]:
    return int(round(x_mm * S * 16)), int(round(y_mm * S * 16))


class Sheet:
    """A canvas of printed boxes that marks are drawn onto (255 = paper)."""

    def __init__(self, codes: str = "12345", *, vertical: bool = False, pitch_mm: float = 16.0, width_mm: float = CANVAS_MM[0]):
        w, h = int(round(width_mm * S)), int(round(CANVAS_MM[1] * S))
        self.printed = np.full((h, w), 255, np.uint8)
        self.options = []
        for n, code in enumerate(codes):
            x, y = (20.0, 6.0 + n * pitch_mm) if vertical else (4.0 + n * pitch_mm * 0.7, 25.0)
            self.options.append(OptionBox(code, (x, y, BOX, BOX)))
            cv2.rectangle(self.printed, _pt(x, y), _pt(x + BOX, y + BOX), 0, thickness=3, lineType=cv2.LINE_AA, shift=4)
        self.ink = self.printed.copy()

    def field(self, kind: str = "single", max_choices: int | None = None) -> FieldLayout:
        return FieldLayout("q", kind, 1, tuple(self.options), max_choices=max_choices)

    def centre(self, code: str) -> tuple[float, float]:
        x, y, w, h = next(o.box for o in self.options if o.code == code)
        return x + w / 2, y + h / 2

    def line(self, points_mm: list[tuple[float, float]], width_mm: float = 0.5, grey: int = 30) -> Sheet:
        pts = np.array([_pt(*p) for p in points_mm], np.int32).reshape(-1, 1, 2)
        cv2.polylines(self.ink, [pts], False, grey, thickness=max(1, int(round(width_mm * S))), lineType=cv2.LINE_AA, shift=4)
        return self

    def tick(self, code: str, *, scale: float = 1.0, width_mm: float = 0.5, grey: int = 30) -> Sheet:
        cx, cy = self.centre(code)
        return self.line(
            [(cx - 1.6 * scale, cy), (cx - 0.4 * scale, cy + 1.5 * scale), (cx + 1.8 * scale, cy - 1.8 * scale)], width_mm, grey
        )

    def cross(self, code: str, grey: int = 30) -> Sheet:
        cx, cy = self.centre(code)
        self.line([(cx - 1.7, cy - 1.7), (cx + 1.7, cy + 1.7)], grey=grey)
        return self.line([(cx + 1.7, cy - 1.7), (cx - 1.7, cy + 1.7)], grey=grey)

    def slash(self, code: str, grey: int = 30) -> Sheet:
        cx, cy = self.centre(code)
        return self.line([(cx - 1.5, cy + 1.8), (cx + 1.5, cy - 1.8)], grey=grey)

    def blob(self, code: str, radius_mm: float, grey: int = 30) -> Sheet:
        cx, cy = self.centre(code)
        cv2.circle(self.ink, _pt(cx, cy), int(round(radius_mm * S * 16)), grey, -1, lineType=cv2.LINE_AA, shift=4)
        return self

    def fill(self, code: str, share: float = 1.0) -> Sheet:
        x, y, w, h = next(o.box for o in self.options if o.code == code)
        cv2.rectangle(self.ink, _pt(x - 0.3, y - 0.3), _pt(x + w + 0.3, y - 0.3 + (h + 0.6) * share), 25, -1, shift=4)
        return self

    def loop(
        self,
        code: str,
        gap_mm: float,
        sweep_deg: float = 360.0,
        start_deg: float = 30.0,
        grey: int = 30,
        width_mm: float = 0.45,
        squash: float = 1.0,
    ) -> Sheet:
        """A loop round the box, ``gap_mm`` outside its corners."""
        cx, cy = self.centre(code)
        radius = BOX / 2 * np.sqrt(2) + gap_mm
        t = np.deg2rad(np.linspace(start_deg, start_deg + sweep_deg, 72))
        return self.line(list(zip(cx + radius * np.cos(t), cy + radius * squash * np.sin(t), strict=True)), width_mm, grey)

    def specks(self, code: str, count: int, rng: np.random.Generator) -> Sheet:
        cx, cy = self.centre(code)
        for _ in range(count):
            px, py = rng.uniform(-1.7, 1.7, 2)
            cv2.circle(self.ink, _pt(cx + px, cy + py), int(0.12 * S * 16), 60, -1, shift=4)
        return self

    def maps(self) -> tuple[np.ndarray, np.ndarray]:
        dark = 255 - self.ink
        return dark, cv2.subtract(dark, self.printed_map(PRINT_TOLERANCE_PX))

    def printed_map(self, tolerance_px: int = LOCAL_PRINT_TOLERANCE_PX) -> np.ndarray:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance_px + 1,) * 2)
        return cv2.dilate(255 - self.printed, kernel)

    def read(self, kind: str = "single", max_choices: int | None = None):
        return self.read_fields([self.field(kind, max_choices)])[0]

    def read_fields(self, fields: list[FieldLayout]):
        dark, added = self.maps()
        return read_fields(dark, added, fields, Thresholds(), printed=self.printed_map())


def blocking(reading) -> bool:
    return any(f not in NOTE_FLAGS for f in reading.flags)


@pytest.mark.parametrize(
    ("coverage", "state"),
    [(0.0, "empty"), (0.02, "empty"), (0.04, "doubtful"), (0.1, "marked"), (0.7, "marked"), (0.85, "doubtful"), (0.95, "filled")],
)
def test_box_states_by_coverage(coverage, state):
    assert classify(coverage, Thresholds())[0] == state


@pytest.mark.parametrize("draw", ["tick", "cross", "slash"])
def test_a_tick_a_cross_or_a_slash_is_the_answer(draw):
    reading = getattr(Sheet(), draw)("3").read()
    assert (reading.value, reading.flags) == ("3", ())


@pytest.mark.parametrize("radius_mm", [0.8, 1.2, 1.8])
def test_a_dot_or_blob_inside_the_box_is_the_answer(radius_mm):
    reading = Sheet().blob("2", radius_mm).read()
    assert (reading.value, reading.flags) == ("2", ())


def test_blobs_that_fill_the_box_are_answers_for_a_heavy_hand():
    # A respondent who answers every question with a blob covering the box:
    # on such a page a filled box is an answer, not a cancellation.
    sheet, fields = _blob_answers("1357", 2.4)
    assert [(r.value, r.flags) for r in sheet.read_fields(fields)] == [(c, ()) for c in "1357"]


def _blob_answers(codes: str, radius_mm: float) -> tuple[Sheet, list[FieldLayout]]:
    """A page of two-option questions, each answered with a blob in its first box (``codes``: odd codes of 1-8)."""
    sheet = Sheet("12345678", vertical=False, pitch_mm=9.0)
    fields = []
    for n, code in enumerate(codes):
        sheet.blob(code, radius_mm)
        fields.append(FieldLayout(f"q{n}", "single", 1, (sheet.options[int(code) - 1], sheet.options[int(code)])))
    return sheet, fields


def test_a_light_pencil_tick_is_a_mark_by_its_stroke():
    # Light grey, thin: little coverage, but one stroke across the box.
    reading = Sheet().tick("4", width_mm=0.3, grey=165).read()
    assert reading.value == "4" and not blocking(reading)


def _streak(sheet: Sheet, x_mm: float, tilt_deg: float = 0.0, grey: int = 100, width_mm: float = 0.2) -> Sheet:
    # Dirt on the scanner's glass: a thin line down the whole page, tilted with the page's skew.
    height = CANVAS_MM[1]
    drift = height * np.tan(np.radians(tilt_deg))
    return sheet.line([(x_mm, 0.0), (x_mm + drift, height)], width_mm=width_mm, grey=grey)


def test_rim_depths_are_bands_along_an_edge_with_clear_paper_past_them():
    inked = np.zeros((12, 12), np.uint8)
    inked[:, :2] = 1  # two columns along the left edge
    inked[::4, 2] = 1  # its ragged edge, a quarter inked
    assert _rim_px(inked, 4) == (0, 0, 2, 0)
    inked[:2, :] = 1  # and two rows along the top, which the left band's columns do not clear
    assert _rim_px(inked, 4) == (2, 0, 2, 0)
    blob = np.zeros((12, 12), np.uint8)
    blob[:, :7] = 1  # ink that goes on inwards is no band
    assert _rim_px(blob, 4) == (0, 0, 0, 0)


def _bolder_border(sheet: Sheet, code: str, sides: str, depth_mm: float) -> Sheet:
    """The box's printed border grown inwards on ``sides`` (of "tblr") by
    ``depth_mm``, raggedly, as a black-and-white scan thresholds print on
    the darker side of its lighting: in the scan only, not in the print."""
    x, y, w, h = next(o.box for o in sheet.options if o.code == code)
    inner = 0.6  # mm: where the inside is measured from
    band = {
        "t": (x, y, x + w, y + inner + depth_mm),
        "b": (x, y + h - inner - depth_mm, x + w, y + h),
        "l": (x, y, x + inner + depth_mm, y + h),
        "r": (x + w - inner - depth_mm, y, x + w, y + h),
    }
    rng = np.random.default_rng(3)
    for side in sides:
        x0, y0, x1, y1 = (int(round(v * S)) for v in band[side])
        patch = sheet.ink[y0:y1, x0:x1]
        # Ragged: a black-and-white threshold leaves gaps along a bled line.
        patch[rng.random(patch.shape) < 0.75] = 0
    return sheet


@pytest.mark.parametrize("sides", ["l", "tl", "tblr"])
def test_a_border_bolder_on_one_side_is_print_not_a_mark(sides):
    # The left of a black-and-white page scanned under darker light: the
    # boxes' borders there came out two or three pixels bolder than the
    # print the reader expects, a ragged band inside them (A3 and A4 read
    # as answered, A2 and A5 as two answers).
    assert Sheet().read().value == ""
    bled = _bolder_border(Sheet(), "2", sides, 0.3).read()
    assert (bled.value, blocking(bled)) == ("", False), bled
    # A mark inside such a border is still the answer.
    ticked = _bolder_border(Sheet(), "2", sides, 0.3).tick("2").read()
    assert (ticked.value, ticked.flags) == ("2", ()), ticked


@pytest.mark.parametrize(("tilt_deg", "grey"), [(0.0, 100), (3.0, 60), (-4.0, 150)])
def test_a_scanner_streak_down_the_page_is_neither_a_mark_nor_a_doubt(tilt_deg, grey):
    sheet = Sheet()
    x, y, w, h = sheet.options[2].box
    x_mid = x + w * 0.4 - CANVAS_MM[1] / 2 * np.tan(np.radians(tilt_deg))
    blank = _streak(Sheet(), x_mid, tilt_deg, grey).read()
    assert (blank.value, blank.flags) == ("", ()), blank
    answered = _streak(Sheet().tick("1"), x_mid, tilt_deg, grey).read()
    assert (answered.value, answered.flags) == ("1", ()), answered
    # A tick the streak runs through is still the answer, a filled box still a cancellation.
    crossed = _streak(Sheet().tick("3"), x_mid, tilt_deg, grey).read()
    assert (crossed.value, crossed.flags) == ("3", ()), crossed
    cancelled = _streak(Sheet().fill("3").tick("5"), x_mid, tilt_deg, grey).read()
    assert (cancelled.value, cancelled.flags) == ("5", ("cancelled",)), cancelled


def test_a_long_stroke_through_a_box_is_no_scanner_streak():
    # A slash drawn past the box, even far: not straight down the page, so still a mark.
    sheet = Sheet()
    cx, cy = sheet.centre("3")
    reading = sheet.line([(cx - 4.0, cy + 12.0), (cx + 4.0, cy - 12.0)]).read()
    assert "3" in reading.value.split(";") or blocking(reading), reading


def test_pale_ink_hugging_the_inside_of_the_outline_is_its_blur_not_a_stroke():
    # A blurry grey scan: the printed outline's blur reaches a little into
    # the box, pale, along its edges; it never crosses the box.
    sheet = Sheet().tick("1")
    x, y, w, h = sheet.options[2].box
    cv2.rectangle(sheet.ink, _pt(x + 0.65, y + 0.65), _pt(x + w - 0.65, y + h - 0.65), 215, thickness=2, shift=4)
    reading = sheet.read()
    assert (reading.value, reading.flags) == ("1", ()), reading
    assert next(b for b in reading.boxes if b.code == "3").state == "empty"
    # A pale loop drawn tight on the outline hugs its inside at the corners
    # too, but wanders outside it along the sides: not settled so.
    looped = Sheet().tick("1").loop("3", gap_mm=-0.75, sweep_deg=150, grey=190, width_mm=0.7).read("multi")
    assert blocking(looped) or "3" in looped.value.split(";"), looped
    # Nor is a pale stroke that reaches into the box.
    pale = Sheet().tick("1").line([(x + 1.0, y + 1.0), (x + w / 2, y + h / 2)], width_mm=0.4, grey=215).read("multi")
    assert blocking(pale) or "3" in pale.value.split(";"), pale


def test_dust_and_specks_inside_a_box_are_not_a_mark():
    reading = Sheet().specks("2", 9, np.random.default_rng(3)).read()
    assert reading.value == "" and "faint" not in reading.flags


def test_bleed_through_is_not_read_as_a_mark():
    # A tick showing faintly through the paper from the other side: stroke
    # shaped but pale; never an answer, at most a doubt.
    sheet = Sheet().tick("2", grey=225)
    sheet.ink = cv2.GaussianBlur(sheet.ink, (0, 0), 1.2)
    reading = sheet.read()
    assert reading.value == ""


def test_a_cancellation_done_as_the_form_says_is_the_other_answer():
    reading = Sheet().fill("2").tick("4").read()
    assert reading.value == "4" and reading.flags == ("cancelled",) and not blocking(reading)


@pytest.mark.parametrize("share", [0.5, 0.65, 0.7])
def test_a_half_filled_box_beside_a_tick_goes_to_review(share):
    reading = Sheet().fill("2", share=share).tick("4").read()
    assert blocking(reading)


def test_a_filled_box_and_no_other_mark_goes_to_review():
    reading = Sheet().fill("2").read()
    assert blocking(reading) and "cancelled" in reading.flags


def test_a_filled_box_and_two_ticks_go_to_review():
    # Eight boxes, so the page's noise floor (the median box) is an empty one.
    reading = Sheet("12345678", pitch_mm=10.0).fill("1").tick("3").tick("5").read()
    assert blocking(reading) and "multiple" in reading.flags


@pytest.mark.parametrize(
    ("gap_mm", "sweep", "squash"),
    [(0.6, 360, 1.0), (1.5, 360, 1.0), (3.2, 360, 0.9), (1.2, 290, 1.0), (2.0, 300, 0.8), (0.0, 360, 1.0)],
)
def test_a_loop_round_a_box_is_the_answer(gap_mm, sweep, squash):
    reading = Sheet().loop("3", gap_mm, sweep, squash=squash).read()
    assert reading.value == "3" and reading.flags == ("circled",), reading


def test_a_loop_in_a_vertical_list_is_that_options_answer():
    sheet = Sheet("1234", vertical=True, pitch_mm=7.6).loop("2", 1.6)
    reading = sheet.read()
    assert reading.value == "2" and not blocking(reading), reading


def test_a_circled_option_counts_beside_ticks_in_a_multiple_choice_question():
    reading = Sheet().tick("1").loop("4", 1.2).read("multi", 3)
    assert reading.value == "1;4" and not blocking(reading)


def test_ink_part_way_round_a_box_goes_to_review_never_blank():
    reading = Sheet().loop("3", 1.5, 140).read()
    assert blocking(reading) and "outside-box" in reading.flags


def test_a_loop_left_open_half_way_round_the_only_ink_in_the_question_is_its_answer():
    reading = Sheet().loop("3", 1.5, 170).read()
    assert (reading.value, reading.flags) == ("3", ("circled",)), reading
    # No light stroke: a blank question beside it is simply blank.
    sheet = Sheet("123456", pitch_mm=16.0, width_mm=80.0).loop("2", 1.5, 170)
    fields = [FieldLayout("q1", "single", 1, tuple(sheet.options[:3])), FieldLayout("q2", "single", 1, tuple(sheet.options[3:]))]
    assert [(r.value, r.flags) for r in sheet.read_fields(fields)] == [("2", ("circled",)), ("", ())]
    # Beside other ink in the question it is worth a look.
    beside = Sheet().tick("1").loop("3", 1.5, 170).read("multi")
    assert "outside-box" in beside.flags, beside
    # A hairline or a row of dots that far round, leaving the band round the
    # box all but empty, is not enough.
    field = Sheet("12").field()
    empty = BoxReading("1", "empty", 1.0, 0.0, 0.0)

    def round_box(ring: float, sectors: int = 9, loose: int = 9) -> BoxReading:
        return BoxReading("2", "empty", 1.0, 0.0, ring, ring_sectors=sectors, loose_sectors=loose)

    answered = decide(field, [empty, round_box(0.03)], Thresholds())
    assert (answered.value, answered.flags) == ("2", ("circled",)), answered
    for thin in (round_box(0.01), round_box(0.03, sectors=5), round_box(0.03, loose=7)):
        held = decide(field, [empty, thin], Thresholds())
        assert "outside-box" in held.flags and blocking(held), (thin, held)


def test_an_overflowing_tick_is_a_mark_not_a_circle():
    reading = Sheet().tick("2", scale=1.9).read()
    assert reading.value == "2" and "circled" not in reading.flags


def test_a_clear_tick_beside_a_light_touch_is_the_answer():
    sheet = Sheet().cross("4")
    cx, cy = sheet.centre("2")
    sheet.line([(cx - 0.3, cy), (cx + 0.3, cy + 0.2)], 0.4, 60)
    reading = sheet.read()
    assert reading.value == "4" and not blocking(reading)


def test_two_ticks_on_a_single_choice_question_go_to_review():
    reading = Sheet().tick("1").tick("4").read()
    assert reading.flags == ("multiple",)


def test_ring_sectors_count_a_loop_all_round_and_a_tick_only_where_it_spills():
    sheet = Sheet().loop("1", 1.5).tick("4", scale=1.8)
    dark, added = sheet.maps()
    boxes = {o.code: measure_box(dark, added, o.box, printed=sheet.printed_map()) for o in sheet.options}
    assert boxes["1"].ring_sectors >= 14 and boxes["1"].coverage == 0.0
    assert boxes["4"].ring_sectors <= 6
    assert boxes["3"].ring_sectors == 0


def test_decide_reports_only_note_flags_for_clear_answers():
    t = Thresholds()
    sheet = Sheet().fill("1").tick("2")
    dark, added = sheet.maps()
    readings = [box_reading(o.code, measure_box(dark, added, o.box, printed=sheet.printed_map()), t) for o in sheet.options]
    reading = decide(sheet.field(), readings, t)
    assert reading.doubts == () and reading.confidence > 0


def test_print_round_a_box_on_curled_paper_is_not_a_loop():
    # Grid rules 2 mm above and below the boxes, the paper shifted 0.7 mm
    # against the layout: the print must not read as ink round the boxes.
    sheet = Sheet()
    for y in (23.0, 32.0):
        cv2.line(sheet.printed, _pt(0, y), _pt(CANVAS_MM[0], y), 0, 3, cv2.LINE_AA, shift=4)
    sheet.ink = np.roll(sheet.printed, (6, 5), axis=(0, 1))
    sheet.ink[:, :6] = 255
    reading = sheet.tick("2").read()
    assert (reading.value, reading.flags) == ("2", ())
    assert all(b.ring_sectors == 0 for b in reading.boxes)


def test_a_tick_running_on_into_the_next_box_is_not_a_loop_round_it():
    # A tick started in box 2 whose long arm ends in box 3's surroundings.
    sheet = Sheet()
    cx, cy = sheet.centre("2")
    sheet.line([(cx - 1.6, cy), (cx - 0.4, cy + 1.5), (cx + 5.0, cy - 4.0), (cx + 11.0, cy - 3.5)])
    reading = sheet.read()
    assert (reading.value, reading.flags) == ("2", ())


def test_a_short_stroke_in_a_corner_is_never_read_as_a_mark():
    sheet = Sheet()
    x, y, _, _ = sheet.options[4].box
    # Light and short: too little ink for a mark by coverage, long enough
    # to be taken for a light stroke if its place were not looked at.
    sheet.line([(x + 1.0, y + 4.3), (x + 2.0, y + 3.9), (x + 2.8, y + 3.3)], 0.25, 170)
    reading = sheet.read()
    assert reading.value == ""


def test_the_blank_page_reference_counts_grey_print_as_print(printed):
    # Grey grid rules come out black on black-and-white scans: the reference
    # holds every printed pixel at full darkness.
    from sipas_scan.layout import layout_survey
    from sipas_scan.reading.reference import printed_darkness
    from sipas_scan.survey import find_survey

    reference = printed_darkness(layout_survey(find_survey("sipas-household")), 2, LOCAL_PRINT_TOLERANCE_PX)
    assert set(np.unique(reference)) == {0, 255}


def test_box_borders_that_bled_on_the_scan_are_not_loops():
    # Black-and-white scan with ink spread: every printed border comes out
    # 1 mm thick, a halo round every box; none of them is circled.
    sheet = Sheet()
    for option in sheet.options:
        x, y, w, h = option.box
        cv2.rectangle(sheet.ink, _pt(x, y), _pt(x + w, y + h), 0, thickness=int(1.0 * S), shift=4)
    reading = sheet.tick("3").read()
    assert (reading.value, reading.flags) == ("3", ()), reading


def test_speckle_noise_round_the_boxes_is_not_a_loop():
    # A noisy black-and-white scan: dark specks of 2-3 px all over the page.
    sheet = Sheet().tick("3")
    rng = np.random.default_rng(5)
    h, w = sheet.ink.shape
    for _ in range(int(h * w * 0.006)):
        y, x = int(rng.integers(h - 3)), int(rng.integers(w - 3))
        sheet.ink[y : y + int(rng.integers(2, 4)), x : x + int(rng.integers(2, 4))] = 0
    reading = sheet.read()
    assert reading.value == "3" and "circled" not in reading.flags and "outside-box" not in reading.flags, reading


def test_a_wide_loop_in_a_tight_list_is_read_or_held_never_silent():
    # A loose loop in a vertical list that cuts through the boxes above and
    # below: read as the circled box, or held for a person; never silent.
    for gap_mm, sweep in ((1.2, 250), (2.2, 250), (2.2, 300)):
        reading = Sheet("1234", vertical=True, pitch_mm=7.6).loop("2", gap_mm, sweep).read()
        assert reading.value == "2" or blocking(reading), reading


def test_heavy_salt_noise_is_not_a_loop():
    sheet = Sheet().tick("3")
    rng = np.random.default_rng(8)
    noise = rng.random(sheet.ink.shape) < 0.3
    sheet.ink[noise] = 0
    reading = sheet.read()
    assert "circled" not in reading.flags and (reading.value in ("3", "") or blocking(reading)), reading


def test_a_neighbours_tick_cut_by_a_grid_rule_is_not_a_loop_round_this_box():
    # Rows 8 mm apart with a rule between them; the tick of the row below
    # shoots up past this row's box, crossing the rule.
    sheet = Sheet()
    below = OptionBox("9", (sheet.options[1].box[0] + 2.0, 34.0, BOX, BOX))
    cv2.rectangle(sheet.printed, _pt(below.box[0], 34.0), _pt(below.box[0] + BOX, 39.0), 0, 3, cv2.LINE_AA, shift=4)
    cv2.line(sheet.printed, _pt(0, 31.5), _pt(CANVAS_MM[0], 31.5), 0, 3, cv2.LINE_AA, shift=4)
    sheet.ink = sheet.printed.copy()
    bx, by = below.box[0] + 2.5, 36.5
    sheet.line([(bx - 1.6, by), (bx - 0.4, by + 1.5), (bx + 1.0, by - 9.0), (bx + 1.5, by - 12.0)], 0.6)
    sheet.tick("4")
    dark, added = sheet.maps()
    fields = [sheet.field(), FieldLayout("r", "single", 1, (below,))]
    reading = read_fields(dark, added, fields, Thresholds(), printed=sheet.printed_map())[0]
    assert (reading.value, reading.flags) == ("4", ()), reading


def test_stroke_shape_is_no_evidence_where_empty_boxes_are_full_of_noise():
    # A page (or scanner profile) whose empty boxes hold 30 % ink: a light
    # tick is doubt, never a mark by its shape.
    sheet = Sheet().tick("4", width_mm=0.3, grey=165)
    dark, added = sheet.maps()
    noisy = Thresholds(empty=0.3, marked=0.35)
    reading = read_fields(dark, added, [sheet.field()], noisy, printed=sheet.printed_map())[0]
    assert reading.value == ""


@pytest.mark.parametrize(("gap_mm", "width_mm"), [(-0.9, 0.8), (-0.6, 0.5), (-1.0, 0.9)])
def test_a_loop_drawn_on_the_box_outline_is_read_or_held(gap_mm, width_mm):
    # Tight felt-tip loops that run along the printed border, cutting the
    # corners: read as that box's answer, or held for a person; never blank.
    reading = Sheet().loop("3", gap_mm, 340, width_mm=width_mm).read()
    assert reading.value == "3" or (reading.value == "" and blocking(reading)), reading


def test_a_tick_whose_arm_ends_in_the_next_box_answers_the_first():
    sheet = Sheet()
    cx, cy = sheet.centre("2")
    nx, ny = sheet.centre("3")
    sheet.line([(cx - 1.6, cy), (cx - 0.4, cy + 1.5), (nx - 0.5, ny - 0.8)])
    reading = sheet.read()
    assert (reading.value, reading.flags) == ("2", ()), reading


def test_two_separate_ticks_in_neighbouring_boxes_stay_two_answers():
    reading = Sheet().tick("2").tick("3", scale=0.7).read()
    assert reading.value == "2;3" and "multiple" in reading.flags


def test_a_big_round_blob_is_a_mark_and_a_fill_to_the_corners_a_cancellation():
    blob = Sheet().blob("2", 2.25).read()
    assert (blob.value, blob.flags) == ("2", ()), blob
    fill = Sheet().fill("2").tick("4").read()
    assert (fill.value, fill.flags) == ("4", ("cancelled",))


def test_a_tick_whose_long_arm_runs_across_the_next_box_answers_the_box_of_its_knee():
    # More ink in the box the arm crosses than in the knee's box.
    sheet = Sheet()
    cx, cy = sheet.centre("3")
    nx, ny = sheet.centre("4")
    sheet.line([(cx - 1.2, cy + 0.3), (cx - 0.3, cy + 1.6), (cx + 3.0, cy - 0.4), (nx - 2.2, ny - 1.0), (nx + 2.0, ny - 1.2)], 0.7)
    reading = sheet.read()
    assert (reading.value, reading.flags) == ("3", ()), reading


def _fade_box(sheet: Sheet, index: int, left: float = 0.0) -> Sheet:
    # A streak of low toner took the box's outline and whatever was in it,
    # but for ``left`` of the outline's pixels (black and white: dashes).
    x, y, w, h = sheet.options[index].box
    window = np.s_[int((y - 1) * S) : int((y + h + 1) * S), int((x - 1) * S) : int((x + w + 1) * S)]
    kept = (np.random.default_rng(5).random(sheet.ink[window].shape) < left) & (sheet.printed[window] < 128)
    sheet.ink[window] = np.where(kept, sheet.printed[window], 255)
    return sheet


def test_a_box_whose_print_faded_from_the_scan_goes_to_review():
    # Blank, or a multiple-choice question: what the fade took may be an answer.
    for reading in (_fade_box(Sheet(), 3).read(), _fade_box(Sheet().tick("2"), 3).read("multi")):
        assert "faded" in reading.flags and blocking(reading), reading


def test_a_single_choice_answered_clearly_beside_a_faded_box_is_the_answer():
    # What the fade may have taken would be a second answer, which a
    # single-choice question does not allow: the clear tick is the answer.
    reading = _fade_box(Sheet().tick("2"), 3, left=0.3).read()
    assert (reading.value, reading.flags) == ("2", ()), reading
    assert next(b for b in reading.boxes if b.code == "4").faded
    # A light stroke is no clear answer: the fade may have taken the real one.
    light = _fade_box(Sheet().tick("2", width_mm=0.3, grey=205), 3, left=0.3).read()
    assert "faded" in light.flags and blocking(light), light


def test_a_blob_beside_a_faded_box_is_the_answer_of_a_hand_that_draws_blobs():
    # A box filled half way, into its corners, beside a faded one may be a
    # cancellation whose new answer the fade took; from a respondent whose
    # marks are all such fills it is the answer. A round blob or a thick
    # cross covering as much is an answer whatever the hand (hard stacks: 65
    # such answers held, every one read right). A box filled to a
    # cancellation's darkness is not.
    field = Sheet().field()
    faded = BoxReading("4", "empty", 1.0, 0.0, 0.0, faded=True)
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "135"]

    def read(coverage: float, hand: Hand, *, solid: float = 0.9, corners: float = 0.6) -> FieldReading:
        mark = BoxReading("2", "marked", 1.0, coverage, 0.0, stroke=1.0, crosses=True, solid=solid, corners=corners)
        return decide(field, [empty[0], mark, empty[1], faded, empty[2]], Thresholds(), hand=hand)

    blobs = Hand(blobs=True)
    assert (read(0.6, blobs).value, read(0.6, blobs).flags) == ("2", ())
    assert "faded" in read(0.6, Hand()).flags and "faded" in read(0.85, blobs).flags
    assert read(0.3, Hand()).flags == ()
    round_blob, thick_cross = read(0.6, Hand(), corners=0.16), read(0.6, Hand(), solid=0.78)
    assert (round_blob.value, round_blob.flags) == ("2", ()) and (thick_cross.value, thick_cross.flags) == ("2", ())


def _dirty_patch(sheet: Sheet, index: int, density: float = 0.45, seed: int = 4) -> Sheet:
    # Specks over a box and round it: a dirty glass, grey thresholded to black and white.
    rng = np.random.default_rng(seed)
    x, y, w, h = sheet.options[index].box
    patch = sheet.ink[int((y - 4) * S) : int((y + h + 4) * S), int((x - 4) * S) : int((x + w + 4) * S)]
    patch[rng.random(patch.shape) < density] = 20
    return sheet


def test_a_dirty_patch_over_a_box_is_doubt_not_a_mark_or_a_loop():
    # Nothing else in the question: a mark may hide in the patch.
    reading = _dirty_patch(Sheet(), 3).read()
    assert blocking(reading), reading
    # A tick drawn in the patch stands out from it: never dropped.
    ticked = _dirty_patch(Sheet().tick("4"), 3).read()
    assert "4" in ticked.value.split(";") or blocking(ticked), ticked


def test_noise_is_not_a_heavy_hand():
    # Boxes filled by a noisy patch say nothing of how the respondent marks.
    def box(code: str, noisy: bool) -> BoxReading:
        return BoxReading(code, "doubtful", 0.0, 0.6, 0.0, noisy=noisy)

    assert respondent_hand([box(c, False) for c in "123"]).blobs
    assert not respondent_hand([box(c, True) for c in "123"]).blobs


@pytest.mark.parametrize("density", [0.3, 0.45, 0.6])
def test_a_dirty_patch_beside_a_clear_answer_is_not_a_second_answer(density):
    # The box under the patch holds no more ink than the noise round it:
    # beside a clear tick to a single-choice question it is the noise.
    reading = _dirty_patch(Sheet().tick("1"), 3, density).read()
    assert (reading.value, reading.flags) == ("1", ()), reading
    # In a multiple-choice question the patch could hide a second choice.
    assert blocking(_dirty_patch(Sheet().tick("1"), 3, density).read("multi"))


def _speck_clumps(sheet: Sheet, index: int, density: float, inside_extra: float, seed: int = 5) -> Sheet:
    # Clumps of specks 2 px across over a box and 4 mm round it, thicker
    # inside the box: a grey band thresholded to black and white.
    rng = np.random.default_rng(seed)
    x, y, w, h = sheet.options[index].box
    y0, y1, x0, x1 = int((y - 4) * S), int((y + h + 4) * S), int((x - 4) * S), int((x + w + 4) * S)
    field = rng.random((y1 - y0, x1 - x0))
    inset = INSET_MM
    field[int((y + inset) * S) - y0 : int((y + h - inset) * S) - y0, int((x + inset) * S) - x0 : int((x + w - inset) * S) - x0] -= (
        inside_extra
    )
    specks = cv2.dilate((field < density).astype(np.uint8), np.ones((2, 2), np.uint8)) > 0
    patch = sheet.ink[y0:y1, x0:x1]
    patch[specks] = np.minimum(patch[specks], 20)
    return sheet


@pytest.mark.parametrize("scale", [0.3, 0.8])
def test_specks_thick_in_a_box_are_no_answer_and_hide_no_small_tick(scale):
    # A box on a noisy patch holding specks enough for a mark, none of them
    # a pen's solid line: no answer, and no clear one beside which a small
    # tick would be a stray touch. A person looks.
    reading = _speck_clumps(Sheet().tick("3", scale=scale), 0, 0.03, 0.1).read()
    noise, tick = reading.boxes[0], reading.boxes[2]
    assert noise.coverage > 0.3 and noise.solid < HAIR_SOLID_SHARE and noise.state == "doubtful", noise
    assert tick.state == "marked" and tick.solid > 0.4, tick
    assert reading.value == "3" and blocking(reading), reading


def test_a_coarse_scan_widens_the_print_round_a_box():
    from sipas_scan.reading.reference import local_print_tolerance

    assert local_print_tolerance(300 / 25.4) == local_print_tolerance(200 / 25.4) == 2
    assert local_print_tolerance(150 / 25.4) == 3


def test_a_blank_question_on_a_page_of_barely_visible_marks_goes_to_review():
    # Two questions on one page: one answered so lightly it barely shows,
    # the other blank (its mark may not have survived the scan).
    sheet = Sheet("12345678", pitch_mm=10.0)
    sheet.tick("2", width_mm=0.3, grey=205)
    first = FieldLayout("q1", "single", 1, tuple(sheet.options[:4]))
    second = FieldLayout("q2", "single", 1, tuple(sheet.options[4:]))
    dark, added = sheet.maps()
    readings = read_fields(dark, added, [first, second], Thresholds(), printed=sheet.printed_map())
    assert readings[0].value == "2" and not blocking(readings[0])
    assert readings[1].value == "" and readings[1].flags == ("faint-page",)
    # A multiple-choice answer there with a trace of ink in another box may
    # have lost that mark; with its other boxes clean, nothing was drawn.
    sheet = Sheet("12345678", pitch_mm=10.0)
    sheet.tick("2", width_mm=0.3, grey=205).tick("6")
    several = FieldLayout("q2", "multi", 1, tuple(sheet.options[4:]))
    assert sheet.read_fields([first, several])[1].flags == ()
    cx, cy = sheet.centre("7")
    sheet.line([(cx - 1.0, cy + 0.5), (cx + 1.0, cy - 0.5)], 0.3, 225)
    readings = sheet.read_fields([first, several])
    assert next(b for b in readings[1].boxes if b.code == "7").state == "empty"
    assert readings[1].value == "6" and readings[1].flags == ("faint-page",)
    # With an ordinary pen the blank question is simply blank, the answer whole.
    sheet = Sheet("12345678", pitch_mm=10.0).tick("2").tick("6")
    dark, added = sheet.maps()
    readings = read_fields(dark, added, [first, second], Thresholds(), printed=sheet.printed_map())
    assert readings[1].flags == ()
    readings = read_fields(dark, added, [first, several], Thresholds(), printed=sheet.printed_map())
    assert (readings[1].value, readings[1].flags) == ("6", ())


def test_a_light_tick_beside_a_heavy_half_fill_is_not_taken_for_a_stray_touch():
    sheet = Sheet().fill("4", share=0.5).tick("1", width_mm=0.25, grey=150)
    reading = sheet.read()
    assert blocking(reading) and "1" in reading.value.split(";"), reading


def test_readings_are_plain_values_the_store_can_write():
    import json
    from dataclasses import asdict

    reading = Sheet().tick("2").loop("4", 1.2).read("multi", 3)
    assert json.loads(json.dumps(asdict(reading)))["value"] == "2;4"


def test_a_stray_stroke_part_way_round_a_box_beside_a_clear_answer_is_no_doubt():
    sheet = Sheet().cross("4").loop("2", 1.2, 110, start_deg=60)
    reading = sheet.read()
    assert (reading.value, reading.flags) == ("4", ()), reading
    # Further round it is worth a look; most of the way, a second answer.
    reading = Sheet().cross("4").loop("2", 1.2, 150, start_deg=60).read()
    assert "outside-box" in reading.flags, reading
    reading = Sheet().cross("4").loop("2", 1.2, 250, start_deg=60).read()
    assert "multiple" in reading.flags, reading


def test_a_tick_whose_arm_leaves_a_trace_in_the_next_box_answers_the_first():
    sheet = Sheet()
    cx, cy = sheet.centre("2")
    nx, ny = sheet.centre("3")
    sheet.line([(cx - 1.6, cy), (cx - 0.4, cy + 1.5), (nx - 2.2, ny - 1.5)], 0.4)
    reading = sheet.read()
    assert (reading.value, reading.flags) == ("2", ()), reading


def test_a_light_broken_tick_beside_a_half_filled_box_is_held():
    # A cancellation half done: the box half filled, the new answer ticked
    # lightly; the tick is no stray touch.
    sheet = Sheet().fill("4", share=0.55)
    cx, cy = sheet.centre("1")
    sheet.line([(cx - 1.2, cy), (cx - 0.6, cy + 0.8)], 0.3, 120).line([(cx - 0.2, cy + 0.6), (cx + 0.6, cy - 0.6)], 0.3, 120)
    reading = sheet.read()
    assert blocking(reading), reading


def _page_of_questions(sheet: Sheet, groups: list[str], kind: str = "single") -> list[FieldLayout]:
    by_code = {o.code: o for o in sheet.options}
    return [FieldLayout(f"q{n}", kind, 1, tuple(by_code[c] for c in codes)) for n, codes in enumerate(groups, 1)]


def _read_page(sheet: Sheet, groups: list[str], kind: str = "single"):
    dark, added = sheet.maps()
    return read_fields(dark, added, _page_of_questions(sheet, groups, kind), Thresholds(), printed=sheet.printed_map())


def _pale_slash(sheet: Sheet, code: str) -> Sheet:
    # Grey 175 is about a third of the pen's darkness; thin, as show-through is.
    cx, cy = sheet.centre(code)
    return sheet.line([(cx - 1.5, cy + 1.8), (cx + 1.5, cy - 1.8)], width_mm=0.3, grey=175)


def _page(marked: str) -> Sheet:
    # Four questions of four boxes in a row: crosses in the boxes given.
    sheet = Sheet("123456789abcdefg", pitch_mm=9.0, width_mm=110.0)
    for code in marked:
        sheet.cross(code)
    return sheet


QUESTIONS = ["1234", "5678", "9abc", "defg"]


def test_pale_ink_beside_a_clear_answer_is_not_a_second_answer():
    # The back page's tick showing through: a whole stroke, but far paler
    # than the respondent's pen on this page.
    readings = _read_page(_pale_slash(_page("159d"), "g"), QUESTIONS)
    assert [(r.value, r.flags) for r in readings] == [(c, ()) for c in "159d"]
    assert next(b for b in readings[3].boxes if b.code == "g").pale


def test_pale_ink_alone_in_a_question_goes_to_review_never_to_the_data():
    last = _read_page(_pale_slash(_page("159"), "g"), QUESTIONS)[3]
    assert last.value == "" and "faint" in last.flags


def test_a_light_mark_drawn_as_dark_as_the_page_is_not_pale():
    # A respondent's own light tick (thin, little ink) has the page's darkness.
    last = _read_page(_page("159").tick("g", width_mm=0.25), QUESTIONS)[3]
    assert last.value == "g" and not blocking(last)


def test_a_pixel_wide_seam_beside_the_outline_is_not_a_stroke_along_it():
    # A black-and-white scan made one box's print a pixel bolder along half
    # its outline: about 8 px per sector beside the border. A pen stroke run
    # along the outline leaves two or three times that.
    typical = (np.full(RING_SECTORS, 0.55), np.zeros(RING_SECTORS))
    half = tuple([8] * 8 + [0] * 8)
    seam = with_border(BoxMetrics(0.0, 0.0, border=(0.55,) * RING_SECTORS, on_border=half), typical)
    assert seam.ring_sectors == 0
    stroke = with_border(BoxMetrics(0.0, 0.0, border=(0.55,) * RING_SECTORS, on_border=tuple(3 * v for v in half)), typical)
    assert stroke.ring_sectors == 8


def test_an_outline_as_bold_as_an_untouched_neighbours_is_print_not_a_loop():
    # Measured on a hard scan: a column of boxes (1, 3, 5, 7, 9) printed
    # bolder than the page's typical box, 1.75-1.78 times as dark; their
    # thickness passed the limit in 5-8 sectors, with no stroke round them.
    field = Sheet("123456789a").field("multi", 3)

    def box(code: str, outline: float, sectors: int = 0, ring: float = 0.0) -> BoxReading:
        return BoxReading(code, "empty", 1.0, 0.0, ring, ring_sectors=sectors, loose_sectors=sectors, outline=outline)

    tick = BoxReading("1", "marked", 1.0, 0.45, 0.0, stroke=0.87, crosses=True, outline=1.76, ring_sectors=9, loose_sectors=9)
    column = [tick, box("2", 1.0), box("3", 1.78), box("4", 1.0), box("5", 1.75, 8), box("6", 0.98)]
    column += [box("7", 1.78, 5), box("8", 0.98), box("9", 1.77, 7), box("a", 0.97)]
    reading = decide(field, column, Thresholds())
    assert (reading.value, reading.flags) == ("1", ()), reading
    # One box's outline that bold beside ordinary ones is a loop drawn tight
    # on it (1.44 beside 1.1): held, the box proposed.
    single = Sheet("123").field()
    hugged = decide(single, [box("1", 1.12), box("2", 1.1), box("3", 1.44, 7)], Thresholds())
    assert (hugged.value, hugged.flags) == ("3", ("outside-box",)), hugged
    # A stroke in the band round it makes it a loop, however bold its neighbours.
    stroked = decide(single, [box("1", 1.5), box("2", 1.1), box("3", 1.44, 7, ring=0.05)], Thresholds())
    assert "outside-box" in stroked.flags, stroked


def test_a_touch_with_ink_a_third_of_the_way_round_its_box_is_no_stray():
    # Beside a heavy tick, a box with a trace inside and strokes on seven of
    # sixteen sectors round it (a tight loop the scan broke up): held.
    field = Sheet().field()
    boxes = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "125"]
    boxes.insert(2, BoxReading("3", "doubtful", 0.0, 0.027, 0.0, ring_sectors=7, loose_sectors=7))
    boxes.insert(3, BoxReading("4", "marked", 1.0, 0.42, 0.0, stroke=1.0, crosses=True))
    reading = decide(field, boxes, Thresholds())
    assert blocking(reading), reading


def test_a_cross_drawn_heavily_enough_to_nearly_fill_the_box_is_the_answer():
    # Arms 1.4 mm wide cover about 85 % of the inside, as much as a fill
    # two thirds done; the paper left between the arms tells them apart.
    sheet = Sheet()
    cx, cy = sheet.centre("2")
    sheet.line([(cx - 1.8, cy - 1.8), (cx + 1.8, cy + 1.8)], width_mm=1.4)
    reading = sheet.line([(cx + 1.8, cy - 1.8), (cx - 1.8, cy + 1.8)], width_mm=1.4).read()
    assert reading.boxes[1].coverage >= Thresholds().fill_doubt
    assert (reading.value, reading.flags) == ("2", ())
    half_done = Sheet().fill("2", share=0.7).read()
    assert half_done.boxes[1].coverage >= Thresholds().fill_doubt
    assert (half_done.value, half_done.flags) == ("", ("unclear-fill",))


def test_a_tick_off_centre_reads_on_a_page_whose_boxes_are_ringed_with_ink():
    # Bold labels and a dirty scan put ink all round every box, as far out
    # as a border bleeding 2 mm would: the inside measured must not shrink
    # to the box's centre, where an off-centre tick leaves nothing.
    sheet = Sheet()
    for option in sheet.options:
        x, y, w, h = option.box
        for gap in (0.6, 1.1, 1.6):
            cv2.rectangle(sheet.ink, _pt(x - gap, y - gap), _pt(x + w + gap, y + h + gap), 60, thickness=2, shift=4)
    cx, cy = sheet.centre("3")
    reading = sheet.line([(cx - 1.9, cy + 0.4), (cx - 1.3, cy + 1.9), (cx + 1.2, cy + 0.6)]).read()
    assert reading.value == "3", reading


def _faded_outline(sheet: Sheet, code: str) -> Sheet:
    # A faded streak of a grey scan: the box's outline printed at 40 % of its darkness.
    x, y, w, h = next(o.box for o in sheet.options if o.code == code)
    cv2.rectangle(sheet.ink, _pt(x - 0.5, y - 0.5), _pt(x + w + 0.5, y + h + 0.5), 255, -1, shift=4)
    cv2.rectangle(sheet.ink, _pt(x, y), _pt(x + w, y + h), 155, thickness=3, lineType=cv2.LINE_AA, shift=4)
    return sheet


def test_a_blank_question_with_a_box_in_a_faded_streak_goes_to_review():
    blank = _faded_outline(Sheet(), "3").read()
    assert blank.value == "" and "faded" in blank.flags, blank
    assert next(b for b in blank.boxes if b.code == "3").outline < 0.6
    # Answered clearly elsewhere, the faded box holds nothing back: a mark
    # there would be a second answer to a single-choice question ...
    answered = _faded_outline(Sheet().tick("1"), "3").read()
    assert (answered.value, answered.flags) == ("1", ())
    # ... but one more answer to a multiple-choice one, which may have
    # vanished where the scan left a trace of ink.
    assert _faded_outline(Sheet().tick("1"), "3").read("multi").flags == ()
    traced = _faded_outline(Sheet().tick("1"), "3")
    cx, cy = traced.centre("3")
    several = traced.line([(cx - 0.8, cy), (cx + 0.8, cy - 0.4)], 0.3, 225).read("multi")
    assert next(b for b in several.boxes if b.code == "3").state == "empty", several
    assert several.value == "1" and "faded" in several.flags and blocking(several), several
    # The answer's own box drawn lighter hides nothing.
    own = _faded_outline(Sheet(), "3").tick("3").read("multi")
    assert (own.value, own.flags) == ("3", ()), own


def test_show_through_beside_clear_answers_to_a_multiple_choice_question_is_no_answer():
    readings = _read_page(_pale_slash(_page("159d"), "g"), QUESTIONS, "multi")
    assert (readings[3].value, readings[3].flags) == ("d", ())
    # A short stroke paler than the page's marks but darker than
    # show-through (a respondent's light second choice?): a person looks.
    sheet = _page("159d")
    cx, cy = sheet.centre("g")
    lighter = _read_page(sheet.line([(cx - 1.0, cy + 1.2), (cx + 1.0, cy - 1.2)], width_mm=0.3, grey=110), QUESTIONS, "multi")[3]
    assert 0.5 <= next(b for b in lighter.boxes if b.code == "g").tone < 0.9
    assert lighter.value == "d" and "faint" in lighter.flags, lighter


def _light_slash(sheet: Sheet, code: str, grey: int) -> Sheet:
    # Across the box but short enough to leave it light (under twice the
    # marked limit), where its tone against the page's crosses is measured.
    cx, cy = sheet.centre(code)
    return sheet.line([(cx - 1.1, cy + 1.1), (cx + 1.1, cy - 1.1)], width_mm=0.2, grey=grey)


def test_a_whole_light_stroke_alone_in_a_question_is_the_answer():
    # A pencil or a drying pen: the slash is a little lighter than the
    # page's clear crosses, but it crosses its box and nothing else in the
    # question has ink.
    last = _read_page(_light_slash(_page("159"), "f", grey=55), QUESTIONS)[3]
    box = next(b for b in last.boxes if b.code == "f")
    assert 0.8 <= box.tone < 0.9, box
    assert (last.value, blocking(last)) == ("f", False), last


def test_a_light_stroke_is_not_the_answer_beside_other_ink_or_when_much_paler():
    # Paler than a respondent's own light hand: show-through, a person looks.
    paler = _read_page(_light_slash(_page("159"), "f", grey=110), QUESTIONS)[3]
    assert next(b for b in paler.boxes if b.code == "f").tone < 0.8
    assert paler.value == "" and "faint" in paler.flags, paler
    # Two such strokes in one question: which one is meant is for a person.
    both = _read_page(_light_slash(_light_slash(_page("159"), "f", grey=55), "e", grey=55), QUESTIONS)[3]
    assert both.value == "" and blocking(both), both
    # In a multiple-choice question a light stroke alone stays a doubt.
    multi = _read_page(_light_slash(_page("159"), "f", grey=55), QUESTIONS, "multi")[3]
    assert multi.value == "" and blocking(multi), multi


def test_a_box_found_at_the_edge_of_its_search_window_is_misaligned():
    # Curled paper: the printed box was found 0.95 mm or more from where the
    # markers put it, so what was measured may be a neighbour's box.
    field = Sheet().field()
    edge = defs.BOX_SEARCH_MM * 0.95
    boxes = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1235"]
    boxes.insert(3, BoxReading("4", "marked", 1.0, 0.3, 0.0, offset_mm=(0.1, edge), stroke=1.0, crosses=True))
    reading = decide(field, boxes, Thresholds())
    assert (reading.value, reading.flags, reading.confidence) == ("4", ("misaligned",), 0.0)
    # A little off is no doubt.
    boxes[3] = BoxReading("4", "marked", 1.0, 0.3, 0.0, offset_mm=(0.1, edge - 0.2), stroke=1.0, crosses=True)
    assert decide(field, boxes, Thresholds()).flags == ()


def test_a_box_filled_to_its_corners_is_a_cancellation_even_for_a_hand_that_answers_with_blobs():
    # Round blobs on the page: a heavy hand. A box filled out to its corners
    # with nothing else in the question is still a cancellation whose
    # answer was lost, not one more blob.
    sheet, fields = _blob_answers("135", 2.2)
    sheet.fill("8")
    readings = sheet.read_fields([*fields, FieldLayout("q3", "single", 1, (sheet.options[6], sheet.options[7]))])
    assert [r.value for r in readings[:3]] == list("135")
    assert readings[3].value == "" and "unclear-cancel" in readings[3].flags


def test_a_hand_whose_fills_reach_the_corners_answers_with_them():
    boxes = [BoxReading(c, "filled", 1.0, 0.97, 0.0, corners=0.9) for c in "123"]
    assert respondent_hand(boxes) == Hand(blobs=True, square_fills=True)
    round_blobs = [BoxReading(c, "marked", 1.0, 0.7, 0.0, corners=0.2) for c in "123"]
    assert respondent_hand(round_blobs) == Hand(blobs=True, square_fills=False)
    field = Sheet("12").field()
    lone_fill = [BoxReading("1", "filled", 1.0, 0.97, 0.0, corners=0.9), BoxReading("2", "empty", 1.0, 0.0, 0.0)]
    assert decide(field, lone_fill, Thresholds(), hand=Hand(blobs=True, square_fills=True)).value == "1"
    assert "unclear-cancel" in decide(field, lone_fill, Thresholds(), hand=Hand(blobs=True)).flags


def test_a_pale_fill_over_the_whole_box_is_doubt_not_a_stroke():
    # A cancellation in light pencil: shaded all over, lighter than the ink
    # level everywhere, so no coverage; its traced "stroke" crosses the box.
    sheet = Sheet()
    x, y, w, h = next(o.box for o in sheet.options if o.code == "2")
    cv2.rectangle(sheet.ink, _pt(x + 0.3, y + 0.3), _pt(x + w - 0.3, y + h - 0.3), 208, -1, shift=4)
    reading = sheet.read()
    box = next(b for b in reading.boxes if b.code == "2")
    assert box.coverage < Thresholds().empty and box.state == "doubtful", box
    assert reading.value == "" and blocking(reading)
    # A light stroke across the box alone is still a mark, and so is a pale
    # round blob (its corners left white).
    assert Sheet().tick("4", width_mm=0.3, grey=165).read().value == "4"
    assert Sheet().blob("4", 1.5, grey=208).read().value == "4"
    # A pale cross reaches the corners too, but covers a third of the box.
    assert Sheet().cross("4", grey=208).read().value == "4"


def test_part_of_a_loop_round_a_blank_question_is_doubted_on_a_page_answered_by_circling():
    # Two answers circled on the page; a third loop lost in part (a quarter
    # of it left) round a box of a question otherwise blank.
    sheet = Sheet("12345678", vertical=False, pitch_mm=11.0)
    sheet.loop("1", 1.0).loop("4", 1.0).loop("7", 1.0, sweep_deg=75.0, start_deg=200.0)
    fields = [
        FieldLayout("q1", "single", 1, tuple(sheet.options[0:3])),
        FieldLayout("q2", "single", 1, tuple(sheet.options[3:6])),
        FieldLayout("q3", "single", 1, tuple(sheet.options[6:8])),
    ]
    readings = sheet.read_fields(fields)
    assert [r.value for r in readings[:2]] == ["1", "4"]
    lost = readings[2]
    loose = next(b for b in lost.boxes if b.code == "7").loose_sectors
    assert 4 <= loose < 6, loose  # below the doubt limit of a page with no circling
    assert blocking(lost), lost
    # The same partial loop where nothing on the page is circled: no
    # evidence of the habit, and a quarter loop is a stray stroke.
    alone = Sheet("12345678", vertical=False, pitch_mm=11.0).loop("7", 1.0, sweep_deg=75.0, start_deg=200.0)
    assert "outside-box" not in alone.read().flags


def test_tinted_paper_beside_brighter_paper_is_not_ink():
    # A curled page's edge: tinted paper (grey 200) ends 2 mm right of a box
    # and the scanner's white lid shows beyond. The box's inside is paper.
    sheet = Sheet("1")
    x, y, w, h = sheet.options[0].box
    scan = np.where(sheet.printed < 128, 40, 200).astype(np.uint8)
    edge = int(round((x + w + 2.0) * S))
    scan[:, edge:] = 255
    inside = darkness(scan)[int((y + 1) * S) : int((y + h - 1) * S), int((x + 1) * S) : int((x + w - 1) * S)]
    assert inside.max() < darkness_level(0.1), inside.max()
    # A tick drawn there still stands out from that paper.
    ticked = Sheet("1").tick("1")
    scan = np.where(ticked.ink < 128, 40, 200).astype(np.uint8)
    scan[:, edge:] = 255
    assert darkness(scan)[int((y + 1) * S) : int((y + h - 1) * S), int((x + 1) * S) : int((x + w - 1) * S)].max() > darkness_level(0.5)


def _dotted_loop(sheet: Sheet, code: str) -> Sheet:
    # Light pencil thresholded to black and white: of the loop's pixels a
    # third or so stay black, in dots a pixel or two across, each too small
    # to be a stroke.
    before = sheet.ink.copy()
    sheet.loop(code, 1.0, width_mm=0.3)
    loop = (sheet.ink < 128) & (before >= 128)
    keep = np.random.default_rng(2).random(loop.shape) < 0.35
    sheet.ink[loop & ~keep] = before[loop & ~keep]
    return sheet


def test_a_loop_a_black_and_white_scan_broke_into_dots_is_held_with_its_box_proposed():
    reading = _dotted_loop(Sheet(), "3").read()
    assert reading.value == "3" and "outside-box" in reading.flags, reading  # never blank: held, the box proposed
    # Beside a clear answer to a single-choice question, dots round another
    # box are no second loop; whole strokes there still are (see above).
    beside = _dotted_loop(Sheet().tick("1"), "3").read()
    assert (beside.value, beside.flags) == ("1", ()), beside
    assert next(b for b in beside.boxes if b.code == "3").loose_sectors >= RING_DOUBT_BESIDE_CLEAR
    several = _dotted_loop(Sheet().tick("1"), "3").read("multi")
    assert "outside-box" in several.flags, several
    # Specks of noise round a box make no loop, scattered thinly or densely
    # enough to chain up.
    for count in (110, 600):
        assert _salted(count).loose_sectors < 6, count


def _salted(count: int) -> BoxReading:
    """Box 3 of a sheet with ``count`` specks of salt noise scattered over 12 mm round it."""
    rng = np.random.default_rng(5)
    noisy = Sheet()
    for _ in range(count):
        px, py = (np.array(noisy.centre("3")) + rng.uniform(-6.0, 6.0, 2)) * S
        noisy.ink[int(py) : int(py) + 2, int(px) : int(px) + 1] = 30
    return next(b for b in noisy.read().boxes if b.code == "3")


def test_a_pale_short_stroke_is_a_graze_only_beside_an_answer():
    # Paler than the page's clear marks, reaching only part way into the
    # box: beside a clear answer a graze; alone in the question it may be
    # all a black-and-white scan left of a light mark (D3 read blank on a
    # hard stack), and a tick's foot when it runs out of the box half way
    # round: a person looks at both.
    field = Sheet("123").field()
    empty = BoxReading("1", "empty", 1.0, 0.0, 0.0)
    answer = BoxReading("3", "marked", 1.0, 0.3, 0.0, stroke=1.0, crosses=True)

    def foot(sectors: int) -> BoxReading:
        return BoxReading("2", "marked", 0.5, 0.043, 0.058, ring_sectors=sectors, loose_sectors=sectors, stroke=0.387, tone=0.487)

    assert decide(field, [empty, foot(0), answer], Thresholds()).flags == ()
    for sectors in (0, 6):
        held = decide(field, [empty, foot(sectors), BoxReading("3", "empty", 1.0, 0.0, 0.0)], Thresholds())
        assert held.value == "" and blocking(held), (sectors, held)


def test_an_outline_scanned_bolder_than_the_pages_faded_boxes_is_not_a_loop():
    # Most boxes of the page faded on the scan; the last two came out as
    # printed, their outlines thicker than the page's typical one all round,
    # no stroke leaving them: print, not loops drawn tight on them.
    sheet = Sheet("12345678", vertical=False, pitch_mm=9.0)
    faded = sheet.printed.copy()
    for option in sheet.options[:6]:
        x, y, w, h = option.box
        box = (slice(int((y - 1) * S), int((y + h + 1) * S)), slice(int((x - 1) * S), int((x + w + 1) * S)))
        faded[box] = np.maximum(faded[box], 225)
    sheet.ink = faded
    fields = [FieldLayout("faded", "single", 1, tuple(sheet.options[:6])), FieldLayout("q", "single", 1, tuple(sheet.options[6:]))]
    reading = sheet.read_fields(fields)[1]
    # (Held all the same: the page's print all but vanished, a mark may have too.)
    assert reading.value == "" and not {"circled", "outside-box"} & set(reading.flags), reading
    # A loop drawn tight on that outline still shows where it leaves it.
    looped = Sheet("12345678", vertical=False, pitch_mm=9.0).loop("7", -0.6, 340, width_mm=0.5).read()
    assert looped.value == "7" or blocking(looped), looped


def test_a_thin_cross_a_black_and_white_scan_broke_into_dots_is_held_never_blank():
    # A thin pencil cross thresholded to black and white: a third of its
    # pixels left, in dots too small and too thin for a stroke.
    sheet = Sheet()
    cx, cy = sheet.centre("2")
    sheet.line([(cx - 1.5, cy - 1.5), (cx + 1.5, cy + 1.5)], width_mm=0.12).line(
        [(cx + 1.5, cy - 1.5), (cx - 1.5, cy + 1.5)], width_mm=0.12
    )
    cross = (sheet.ink < 200) & (sheet.printed == 255)
    sheet.ink[cross & (np.random.default_rng(4).random(cross.shape) >= 0.35)] = 255
    reading = sheet.read()
    assert reading.value == "" and "faint" in reading.flags, reading
    # The same ink scattered over the box is dust: nothing.
    dust = Sheet()
    x, y, w, h = next(o.box for o in dust.options if o.code == "2")
    rng = np.random.default_rng(4)
    for _ in range(int(np.count_nonzero(cross & (np.random.default_rng(4).random(cross.shape) < 0.35)))):
        px, py = rng.uniform(x + 0.8, x + w - 0.8), rng.uniform(y + 0.8, y + h - 0.8)
        dust.ink[int(py * S), int(px * S)] = 30
    assert not blocking(dust.read()), dust.read()
    # A pale patch of the back page showing through, grainy, is no line of dots.
    patch = Sheet()
    disc = np.zeros_like(patch.ink)
    cv2.circle(disc, _pt(cx, cy), int(3.0 * S * 16), 1, -1, shift=4)
    grain = np.clip(230 + np.random.default_rng(6).normal(0, 6, patch.ink.shape), 0, 255).astype(np.uint8)
    patch.ink = np.where((disc == 1) & (patch.printed == 255), grain, patch.ink)
    assert not blocking(patch.read()), patch.read()


def test_a_tick_whose_knee_barely_lies_in_its_box_and_arm_crosses_the_next_is_held():
    # The knee drawn low in the corner of box 3, only a short piece of the
    # stroke inside it; the long arm runs on across box 4. The ink says 4,
    # the knee says 3: a person decides, never 4 silently.
    sheet = Sheet()
    x, y, w, h = sheet.options[2].box
    nx, ny = sheet.centre("4")
    sheet.line([(x + w - 0.64, y + h - 0.75), (x + w - 0.6, y + h - 0.7), (x + w + 1.0, y + h - 1.4), (nx + 1.8, ny - 1.0)], 0.5)
    reading = sheet.read()
    assert next(b for b in reading.boxes if b.code == "3").coverage < 0.008, reading  # a trace, no mark
    assert blocking(reading), reading
    # The same stroke beginning outside box 3 is box 4's tick overflowing.
    sheet = Sheet()
    sheet.line([(x + w + 0.6, y + h - 1.0), (x + w + 1.0, y + h - 1.4), (nx + 1.8, ny - 1.0)], 0.5)
    reading = sheet.read()
    assert (reading.value, blocking(reading)) == ("4", False), reading


def _washed_out(sheet: Sheet) -> Sheet:
    # The scan all but lost the page's print: outlines at 15 % of their darkness.
    print_only = sheet.printed < 255
    sheet.ink[print_only] = 255 - ((255 - sheet.printed[print_only]) * 0.15).astype(np.uint8)
    return sheet


def test_a_page_whose_print_the_scan_lost_holds_its_blank_questions():
    # A mark may have gone with the print: a blank question, or a
    # multiple-choice answer, goes to review; a clear single answer stands.
    sheet = _washed_out(Sheet("12345678", pitch_mm=10.0)).tick("6")
    first = FieldLayout("q1", "single", 1, tuple(sheet.options[:4]))
    second = FieldLayout("q2", "multi", 1, tuple(sheet.options[4:]))
    single = FieldLayout("q2", "single", 1, tuple(sheet.options[4:]))
    blank, several = sheet.read_fields([first, second])
    assert blank.value == "" and "faded" in blank.flags and blocking(blank), blank
    assert several.value == "6" and "faded" in several.flags, several
    assert sheet.read_fields([first, single])[1].flags == ()
    # Printed as usual, the blank question is blank.
    sheet = Sheet("12345678", pitch_mm=10.0).tick("6")
    assert [(r.value, r.flags) for r in sheet.read_fields([first, second])] == [("", ()), ("6", ())]


def test_a_box_found_far_from_its_neighbours_in_step_is_put_where_they_say():
    # Five boxes of a question found where the layout says but one, 8 px
    # (1 mm) off: the search took ink beside it for the print. It is moved
    # to where the others sit; boxes drifting together (curled paper) stay.
    sheet = Sheet("12345", width_mm=80.0)
    fld = sheet.field()

    def found(offsets: list[tuple[int, int]]) -> dict:
        return {
            ("q", o.code): (int(round(o.box[0] * S)) + dx, int(round(o.box[1] * S)) + dy, int(round(BOX * S)))
            for o, (dx, dy) in zip(sheet.options, offsets, strict=True)
        }

    stray = found([(1, 0), (1, 0), (1, 0), (1, 0), (9, 0)])
    assert stray_box_moved(fld, stray) == {("q", "5"): found([(1, 0)] * 5)[("q", "5")]}
    assert stray_box_moved(fld, found([(0, 0), (2, 0), (4, 0), (6, 0), (8, 0)])) == {}  # curled: all in step
    assert stray_box_moved(fld, found([(0, 0), (0, 0), (0, 0), (8, 0), (9, 0)])) == {}  # two off: no telling
    two = Sheet("12")
    one_off = {
        ("q", o.code): (int(round(o.box[0] * S)) + dx, int(round(o.box[1] * S)), 40) for o, dx in zip(two.options, (0, 9), strict=True)
    }
    assert stray_box_moved(two.field(), one_off) == {}  # two boxes: no telling which is off


def test_a_pen_resting_in_a_box_beside_a_circled_answer_is_no_second_answer():
    # A loop round box 4, and a short hook inside box 2 by its edge where
    # the pen rested: the loop's ink lies round its box, none in it, and the
    # hook is measured against that (hand-drawn forms: 7 such on 91 forms,
    # every one a stray).
    sheet = Sheet().loop("4", 1.0)
    cx, cy = sheet.centre("2")
    sheet.line([(cx + 1.3, cy - 0.8), (cx + 1.7, cy - 0.1), (cx + 1.4, cy + 0.5)], 0.3, 50)
    reading = sheet.read()
    boxes = {b.code: b for b in reading.boxes}
    assert boxes["2"].state == "doubtful" and boxes["4"].circled  # what the rule decides between
    assert (reading.value, reading.flags) == ("4", ("circled",)), reading
    # A second loop, or a real tick, is still a second answer.
    assert "multiple" in Sheet().loop("4", 1.0).tick("2").read().flags


@pytest.mark.parametrize("answer", ["blob", "loop"])
def test_a_short_stroke_at_a_box_edge_beside_a_clear_answer_is_a_touch(answer):
    # A pen resting by the box's edge, or a hair: no tick, not through the
    # middle, nowhere round the box. Beside a blob so big it might be a
    # cancellation half done, or beside a loop (no ink in its box to
    # compare with), it is still no second answer.
    sheet = Sheet().blob("4", 1.6) if answer == "blob" else Sheet().loop("4", 0.5)
    x, y, _, _ = sheet.options[1].box
    sheet.line([(x + 0.7, y + 1.0), (x + 1.6, y + 0.8), (x + 2.2, y + 1.1)], 0.4)
    reading = sheet.read()
    assert reading.value == "4" and not blocking(reading), reading
    assert next(b for b in reading.boxes if b.code == "2").state != "empty"
    # The same short stroke through the box's middle may be a small tick:
    # beside a box that full, a person looks.
    if answer == "blob":
        sheet = Sheet().blob("4", 1.6)
        cx, cy = sheet.centre("2")
        sheet.line([(cx - 0.8, cy + 0.2), (cx + 0.6, cy - 0.3)], 0.4)
        assert blocking(sheet.read())


def _page_of_ticks(width_mm: float, grey: int) -> tuple[Sheet, list[FieldLayout]]:
    """Four two-option questions, each answered by a tick in its first box."""
    sheet = Sheet("12345678", pitch_mm=9.0)
    fields = []
    for n in range(4):
        sheet.tick(str(2 * n + 1), width_mm=width_mm, grey=grey)
        fields.append(FieldLayout(f"q{n}", "single", 1, (sheet.options[2 * n], sheet.options[2 * n + 1])))
    return sheet, fields


def _hair(sheet: Sheet, code: str) -> Sheet:
    # A hair on the scanner's glass: a dark line a pixel wide, bent, across the box.
    x, y, _, _ = next(o.box for o in sheet.options if o.code == code)
    return sheet.line([(x + 0.4, y + 0.6), (x + 2.0, y + 2.2), (x + 3.6, y + 3.4)], 0.1, 40)


def test_a_hair_across_a_box_beside_a_pen_answer_is_no_second_answer():
    sheet, fields = _page_of_ticks(0.5, 30)
    readings = _hair(sheet, "2").read_fields(fields)
    assert (readings[0].value, readings[0].flags) == ("1", ()), readings[0]
    hand = respondent_hand([b for r in readings for b in r.boxes])
    assert _no_mark_of_its_own(next(b for b in readings[0].boxes if b.code == "2"), hand.pen_solid, Thresholds())
    # A second tick with the page's pen is a second answer.
    sheet, fields = _page_of_ticks(0.5, 30)
    assert "multiple" in sheet.tick("2").read_fields(fields)[0].flags
    # With no other clear mark on the page, the answer beside the hair shows
    # the pen: a tick's line, or a loop's round its box.
    reading = _hair(Sheet().tick("4"), "2").read()
    assert (reading.value, reading.flags) == ("4", ()), reading
    reading = _hair(Sheet().loop("4", 0.5), "2").read()
    assert (reading.value, reading.flags) == ("4", ("circled",)), reading
    # On a page answered in thin light pencil a hair's line is no thinner
    # than the respondent's own: a person looks.
    sheet, fields = _page_of_ticks(0.15, 150)
    readings = _hair(sheet, "2").read_fields(fields)
    hand = respondent_hand([b for r in readings for b in r.boxes])
    hair = next(b for b in readings[0].boxes if b.code == "2")
    assert blocking(readings[0]) and not _no_mark_of_its_own(hair, hand.pen_solid, Thresholds()), readings[0]


def _curl(sheet: Sheet, code: str, *, width_mm: float = 0.1, grey: int = 40) -> Sheet:
    # A curled hair lying inside a box along its left side: through nothing.
    x, y, _, _ = next(o.box for o in sheet.options if o.code == code)
    return sheet.line([(x + 1.2, y + 0.7), (x + 0.8, y + 2.0), (x + 1.2, y + 3.3)], width_mm, grey)


def test_a_hair_beside_multiple_choice_answers_is_no_further_answer():
    def read(sheet: Sheet) -> FieldReading:
        return sheet.read_fields([sheet.field("multi", 3)])[0]

    reading = read(_curl(Sheet().tick("1").tick("4"), "2"))
    assert (reading.value, blocking(reading)) == ("1;4", False), reading
    assert next(b for b in reading.boxes if b.code == "2").state != "empty"
    # The same hair across the box may be a tick the scan thinned: a person looks.
    assert blocking(read(_hair(Sheet().tick("1").tick("4"), "2")))
    # A stroke as wide as the answers' pen is an answer; a hair beside
    # answers in thin light pencil is not told from a mark.
    assert read(_curl(Sheet().tick("1").tick("4"), "2", width_mm=0.5, grey=30)).value == "1;2;4"
    pencil = Sheet().tick("1", width_mm=0.15, grey=150).tick("4", width_mm=0.15, grey=150)
    assert blocking(read(_curl(pencil, "2")))


def _ticked_page_with_a_blank_question(*, grey: int = 60) -> tuple[Sheet, list[FieldLayout]]:
    """Four two-option questions answered by a pen tick in their first box,
    a fifth left blank (options 9 and 0)."""
    sheet = Sheet("1234567890", pitch_mm=9.0, width_mm=75.0)
    fields = []
    for n in range(5):
        if n < 4:
            sheet.tick(str(2 * n + 1), width_mm=0.5, grey=grey)
        fields.append(FieldLayout(f"q{n}", "single", 1, (sheet.options[2 * n], sheet.options[2 * n + 1])))
    return sheet, fields


def test_a_hair_alone_in_a_blank_question_on_a_page_of_clear_marks_is_nothing():
    sheet, fields = _ticked_page_with_a_blank_question()
    readings = _curl(sheet, "9", grey=150).read_fields(fields)
    hair = next(b for b in readings[4].boxes if b.code == "9")
    assert hair.state == "doubtful" and not hair.crosses and hair.tone < 0.8, hair
    assert (readings[4].value, readings[4].flags) == ("", ()), readings[4]
    # Another light mark on the page (a pen running dry): the hair may be
    # what the scan left of a light tick, and a person looks.
    sheet, fields = _ticked_page_with_a_blank_question()
    sheet.tick("4", width_mm=0.25, grey=150, scale=0.6)
    assert blocking(_curl(sheet, "9", grey=150).read_fields(fields)[4])
    # Clear marks clipped to black (a black-and-white scan) tell nothing of
    # how pale the hair is; nor does a hair as dark as the pen, or a line
    # across its box.
    sheet, fields = _ticked_page_with_a_blank_question(grey=0)
    assert blocking(_curl(sheet, "9", grey=150).read_fields(fields)[4])
    sheet, fields = _ticked_page_with_a_blank_question()
    assert blocking(_curl(sheet, "9", grey=60).read_fields(fields)[4])
    sheet, fields = _ticked_page_with_a_blank_question()
    x, y, _, _ = sheet.options[8].box
    assert blocking(sheet.line([(x + 0.4, y + 0.6), (x + 2.0, y + 2.2), (x + 3.6, y + 3.4)], 0.1, 150).read_fields(fields)[4])


def test_a_trace_in_a_blank_question_is_looked_at_where_the_pages_marks_are_light():
    def read(light_mark: bool) -> FieldReading:
        sheet, fields = _ticked_page_with_a_blank_question()
        if light_mark:
            sheet.tick("4", width_mm=0.25, grey=150, scale=0.6)
        x, y, _, _ = sheet.options[8].box
        sheet.line([(x + 1.5, y + 1.5), (x + 2.5, y + 1.8)], 0.15, 100)  # a little ink, too little to read
        return sheet.read_fields(fields)[4]

    alone = read(light_mark=False)
    trace = next(b for b in alone.boxes if b.code == "9")
    assert trace.state == "empty" and trace.coverage >= 0.01, trace
    # On a page of clear marks a trace is dust; where the pen left little
    # elsewhere, it may be all the scan kept of a tick.
    assert (alone.value, alone.flags) == ("", ())
    assert (read(light_mark=True).value, read(light_mark=True).flags) == ("", ("faint",))


def test_a_hair_found_to_be_dust_makes_no_page_of_light_marks():
    # A hair in one blank question and a trace in another, on a page whose
    # marks are clear: both are dust. The hair, once left alone, does not
    # count as a light mark that would make the trace worth a look.
    sheet = Sheet("123456789012", pitch_mm=9.0, width_mm=85.0)
    fields = []
    for n in range(6):
        if n < 4:
            sheet.tick(sheet.options[2 * n].code, width_mm=0.5, grey=60)
        fields.append(FieldLayout(f"q{n}", "single", 1, (sheet.options[2 * n], sheet.options[2 * n + 1])))
    x, y, _, _ = sheet.options[8].box
    sheet.line([(x + 1.2, y + 0.7), (x + 0.8, y + 2.0), (x + 1.2, y + 3.3)], 0.1, 150)  # the hair (as _curl)
    x, y, _, _ = sheet.options[10].box
    sheet.line([(x + 1.5, y + 1.5), (x + 2.5, y + 1.8)], 0.15, 100)  # the trace
    readings = sheet.read_fields(fields)
    assert next(b for b in readings[4].boxes if b.code == "9").state == "doubtful", readings[4]
    assert next(b for b in readings[5].boxes if b.code == "1").coverage >= 0.01, readings[5]
    assert [(r.value, r.flags) for r in readings[4:]] == [("", ()), ("", ())], readings[4:]


def test_thin_lines_are_told_against_the_pages_pen():
    def box(code: str, coverage: float, solid: float) -> BoxReading:
        # A whole stroke across its box: no touch, only its width can make it no mark.
        return BoxReading(code, "marked", 1.0, coverage, 0.0, stroke=1.0, crosses=True, solid=solid)

    t = Thresholds()
    light = box("x", t.marked * 1.5, 0.1)

    def thin(boxes: list[BoxReading], line: BoxReading = light) -> bool:
        return _no_mark_of_its_own(line, respondent_hand([*boxes, line], t).pen_solid, t)

    assert thin([box(c, 0.3, 0.7) for c in "abc"])
    # As solid as a pencil's line, or with too few clear marks to judge, nothing is thin.
    assert not thin([box(c, 0.3, 0.3) for c in "abc"])
    assert not thin([box(c, 0.3, 0.7) for c in "ab"])
    # A line as solid as a thin pen's is no hair.
    assert not thin([box(c, 0.3, 0.7) for c in "abc"], box("x", t.marked * 1.5, 0.3))


def test_a_light_stroke_left_alone_in_a_blank_question_is_looked_at():
    # A light pencil tick most of which the scan lost: a short pale stroke
    # reaching half across the box and into it, too little to read.
    sheet = Sheet()
    cx, cy = sheet.centre("3")
    sheet.line([(cx - 1.0, cy - 1.1), (cx + 1.0, cy - 0.9)], 0.25, 210)
    reading = sheet.read()
    box = next(b for b in reading.boxes if b.code == "3")
    assert box.state == "empty" and 0.45 <= box.stroke < 0.6 and not box.crosses, box
    assert (reading.value, reading.flags) == ("", ("faint",)), reading
    # Pale ink along the inside of the outline is its blur: nothing to see.
    sheet = Sheet()
    x, y, w, _ = sheet.options[2].box
    sheet.line([(x + 0.7, y + 0.65), (x + w - 0.7, y + 0.65)], 0.15, 215)
    assert Sheet().read().flags == sheet.read().flags == ()


def test_a_stroke_the_scan_broke_into_short_pieces_is_looked_at():
    # What a scan left of a slash: two short dark pieces either side of the
    # box's middle, neither long enough to read as a stroke, together more
    # ink than the page's empty boxes hold. Never blank unseen.
    sheet = Sheet()
    cx, cy = sheet.centre("3")
    for start in (-1.4, 1.0):
        sheet.line([(cx + start, cy - start), (cx + start + 0.4, cy - start - 0.4)], 0.3, 40)
    reading = sheet.read()
    box = next(b for b in reading.boxes if b.code == "3")
    assert box.state == "empty" and box.stroke < 0.3 and box.coverage > Thresholds().empty, box
    assert (reading.value, reading.flags) == ("", ("faint",)), reading
    # Less ink than that, or all of it along the outline: nothing to see.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1245"]
    for piece in (replace(box, coverage=0.02), replace(box, depth=0.08)):
        assert decide(field, [*empty[:2], piece, *empty[2:]], Thresholds()).flags == ()


def test_a_blank_question_with_a_box_drawn_round_on_its_outline_is_looked_at():
    # A loop tight on the outline, on a noisy page: its outline much darker
    # than the page's other boxes', dark ink where it cuts the corners
    # inside, too little to read as a mark.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1235"]

    def with_box(coverage: float = 0.06, **metrics) -> FieldReading:
        box = BoxReading("4", "empty", 1.0, coverage, 0.0, **{"stroke": 0.23, "core": 255, "outline": 1.76, **metrics})
        return decide(field, [*empty[:3], box, empty[3]], Thresholds())

    assert (with_box().value, with_box().flags) == ("", ("outside-box",))
    # An outline as dark as the page's others, or only pale ink inside: nothing to see.
    assert with_box(outline=1.1).flags == with_box(core=120).flags == with_box(coverage=0.0).flags == ()


def test_a_loop_drawn_tight_round_the_only_box_inked_is_its_answer():
    # An office variant (C1.3): a loop drawn tight on box 5's outline, its
    # ink cutting a fifth of the inside's corners, too little inside to read
    # as a mark; the question's other boxes untouched and printed as the
    # page's typical box. Circled: that answer, as a wider loop is.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1234"]
    loop = BoxReading("5", "empty", 0.13, 0.0217, 0.0, stroke=0.154, corners=0.203, core=156, outline=1.83, depth=0.038)

    def read(box: BoxReading = loop, others: list[BoxReading] = empty) -> FieldReading:
        return decide(field, [*others, box], Thresholds())

    assert (read().value, read().flags) == ("5", ("circled",))
    # A loop that leaves the outline in four sectors reads so too.
    assert read(replace(loop, corners=0.0, ring_sectors=4)).value == "5"
    # Neither cutting the corners nor leaving the outline (hard seed 22: a
    # speck inside a box printed darker than its faded neighbour): a
    # person looks.
    assert (read(replace(loop, corners=0.05, ring_sectors=3)).value, read(replace(loop, corners=0.05)).flags) == ("", ("outside-box",))
    # Another box of the question printed bold (hard seed 2: a column scanned
    # darker, the answer lost in a fade), or faded: a person looks.
    for other in (replace(empty[0], outline=1.89), replace(empty[0], outline=0.4, faded=True)):
        reading = read(others=[other, *empty[1:]])
        assert reading.value == "" and blocking(reading), reading
    # Pale ink inside, or other ink in the question: not a lone loop.
    assert read(replace(loop, core=120)).value == ""
    assert read(others=[replace(empty[0], coverage=0.01), *empty[1:]]).value == ""
    # No ink inside at all, the loop on or just outside the outline: a
    # person looks (an unseen hard seed: an outline scanned thick half way
    # round a box, its answer lost next to it).
    outside = BoxReading("1", "empty", 1.0, 0.0, 0.0, ring_sectors=8, loose_sectors=8, outline=1.79)
    held = decide(field, [outside, *[replace(b, code=c) for b, c in zip(empty, "2345", strict=True)]], Thresholds())
    assert (held.value, held.flags) == ("1", ("outside-box",)), held


@pytest.mark.parametrize("grey", [40, 90])
@pytest.mark.parametrize("sweep_deg, start_deg", [(360, 30), (270, 200)])
def test_a_loop_drawn_so_tight_that_the_print_hides_it_is_never_read_blank(grey, sweep_deg, start_deg):
    # A loop drawn round box 4 within a tenth of a mm of its sides: along
    # them the black printed outline hides it, only its arcs cutting the
    # inside corners show. It read blank without a doubt; a person looks.
    reading = Sheet().loop("4", gap_mm=-0.9, grey=grey, width_mm=0.3, sweep_deg=sweep_deg, start_deg=start_deg).read()
    assert reading.value == "4" or blocking(reading), reading
    # Ink in the corners of no box: blank, no doubt.
    assert Sheet().read().flags == ()


def test_a_light_loop_drawn_tight_round_the_only_box_inked_is_its_answer():
    # Independently generated stacks: a blue or grey loop drawn tight round
    # box 4 (just outside the outline along the sides, cutting the corners
    # inside): half the sectors round it crossed, its outline darker, too
    # little ink inside for a mark and paler than the page's clear marks.
    # It was read blank (faint) or proposed with a doubt (outside-box); it
    # is the answer, as a loop drawn wider is.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1235"]
    pale = BoxReading(
        "4",
        "marked",
        0.5,
        0.0312,
        0.007,
        ring_sectors=8,
        loose_sectors=8,
        stroke=0.258,
        corners=0.312,
        core=126,
        tone=0.797,
        outline=1.401,
    )
    no_ink_inside = BoxReading(
        "4", "empty", 0.5, 0.0125, 0.0, ring_sectors=8, loose_sectors=8, stroke=0.258, corners=0.156, outline=1.583
    )

    def read(box: BoxReading, others: list[BoxReading] = empty) -> FieldReading:
        return decide(field, [*others[:3], box, *others[3:]], Thresholds())

    for loop in (pale, no_ink_inside):
        assert (read(loop).value, read(loop).flags) == ("4", ("circled",)), read(loop)
    # Not cutting the corners (an outline scanned thick half way round a box,
    # its answer lost next to it), or round less of the box: a person looks.
    for short in (replace(no_ink_inside, corners=0.03), replace(pale, ring_sectors=4, loose_sectors=4)):
        assert read(short).value in ("", "4") and blocking(read(short)), read(short)
    # Other ink in the question, or another box printed bold: no lone loop.
    assert blocking(read(pale, [replace(empty[0], coverage=0.01), *empty[1:]]))
    assert blocking(read(pale, [replace(empty[0], outline=1.89), *empty[1:]]))


def test_a_hair_thin_answer_beside_clear_multiple_choice_answers_is_looked_at():
    # Office seed 42 (C1, choose up to 3): two pencil crosses, and across
    # box 2 a short line thinner and darker than they are, read from its
    # stroke as a third answer, unseen. A person looks.
    field = FieldLayout("e1", "multi", 1, Sheet("123456789").options, max_choices=3)
    empty = {c: BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "123456789"}
    cross = BoxReading("6", "marked", 1.0, 0.2914, 0.0021, stroke=1.0, crosses=True, corners=0.219, core=69, solid=0.429)
    line = BoxReading("2", "marked", 0.5, 0.0489, 0.0, stroke=0.677, crosses=True, core=151, tone=2.157, depth=0.419)

    def read(*marks: BoxReading) -> FieldReading:
        found = {m.code: m for m in marks}
        return decide(field, [found.get(c, empty[c]) for c in "123456789"], Thresholds())

    crosses = (cross, replace(cross, code="9", coverage=0.3091))
    assert (read(line, *crosses).value, read(line, *crosses).flags) == ("2;6;9", ("faint",))
    # The two crosses alone, or the line drawn with a pen's width: nothing to doubt.
    assert read(*crosses).flags == read(replace(line, solid=0.3), *crosses).flags == ()


def test_an_answer_that_is_only_a_hair_thin_line_on_a_pen_page_is_looked_at():
    # The only mark in a single-choice question is a line far thinner than
    # the page's pen: a hair on the glass read as an answer, or the real
    # answer lost beside it. A person looks.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1245"]

    def read(hand: Hand, **line) -> FieldReading:
        mark = BoxReading("3", "marked", 1.0, line.pop("coverage", 0.07), 0.0, stroke=1.0, crosses=True, **{"solid": 0.02, **line})
        return decide(field, [*empty[:2], mark, *empty[2:]], Thresholds(), hand=hand)

    pen = Hand(pen_solid=0.75)
    assert (read(pen).value, read(pen).flags) == ("3", ("faint",))
    # A line as solid as a pen's, a clear mark, or a page whose own lines are that thin: the answer.
    for reading in (read(pen, solid=0.4), read(pen, coverage=0.2), read(Hand(pen_solid=0.3))):
        assert (reading.value, blocking(reading)) == ("3", False), reading


def test_a_pale_cross_beside_a_box_filled_half_way_goes_to_a_person():
    # Measured on hard seed 22 (C1.2): a cancellation half done, box 4 filled
    # half way, and its new answer a cross through box 1 that the scan left
    # thin and paler than the page's marks. Dropped as show-through and as a
    # hair, the half fill was read as the answer. A person looks.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "235"]
    cross = BoxReading("1", "marked", 0.5, 0.0, 0.0, stroke=1.0, crosses=True, core=46, tone=0.58, depth=0.48)
    fill = BoxReading("4", "marked", 1.0, 0.565, 0.0, ring_sectors=8, stroke=1.0, loose_sectors=8, crosses=True)
    fill = replace(fill, corners=0.66, solid=0.9)
    hand = Hand(pen_solid=0.6, pen_core=79.0)
    reading = decide(field, [cross, empty[0], empty[1], fill, empty[2]], Thresholds(), hand=hand)
    assert blocking(reading), reading
    # Beside a whole tick, a thick cross covering as much of its box as the
    # fill (its lines, not a fill: hard stacks, 0.74-0.85 of its ink with
    # ink all round) or a round blob, the same pale cross is show-through:
    # the mark is the answer.
    tick = replace(fill, coverage=0.2, corners=0.0, solid=0.6, ring_sectors=0, loose_sectors=0)
    thick = replace(fill, coverage=0.61, corners=0.75, solid=0.76, ring_sectors=2, loose_sectors=2)
    blob = replace(fill, coverage=0.69, corners=0.16, solid=0.9, ring_sectors=0, loose_sectors=0)  # round, not to the corners
    for mark in (tick, thick, blob):
        reading = decide(field, [cross, empty[0], empty[1], mark, empty[2]], Thresholds(), hand=hand)
        assert (reading.value, blocking(reading)) == ("4", False), reading


def test_a_short_stroke_with_a_marks_ink_beside_a_box_filled_half_way_goes_to_a_person():
    # Measured on hard seed 23 (C3.1): a cancellation half done, box 4 filled
    # half way and a slash through box 3 that the scan broke (no piece of it
    # crosses the box). Dropped as a touch, the half fill was read as the
    # answer. A person looks: the slash holds a mark's ink.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "125"]
    slash = BoxReading("3", "marked", 1.0, 0.1009, 0.0198, ring_sectors=3, stroke=0.548, loose_sectors=3, solid=0.505)
    fill = BoxReading("4", "marked", 1.0, 0.4662, 0.0, ring_sectors=8, stroke=1.0, loose_sectors=8, crosses=True)
    fill = replace(fill, corners=0.547, solid=0.886)
    hand = Hand(pen_solid=0.543, pen_core=255.0)
    reading = decide(field, [empty[0], empty[1], slash, fill, empty[2]], Thresholds(), hand=hand)
    assert blocking(reading) and "3" in reading.value.split(";"), reading
    # Beside a tick, the same short stroke is a touch (a neighbour's stroke
    # running on); so is a stroke with less than a mark's ink beside the fill.
    tick = replace(fill, coverage=0.3, corners=0.1, solid=0.6, ring_sectors=0, loose_sectors=0)
    reading = decide(field, [empty[0], empty[1], slash, tick, empty[2]], Thresholds(), hand=hand)
    assert (reading.value, blocking(reading)) == ("4", False), reading
    touch = replace(slash, coverage=0.05)
    reading = decide(field, [empty[0], empty[1], touch, fill, empty[2]], Thresholds(), hand=hand)
    assert (reading.value, blocking(reading)) == ("4", False), reading


def _light_cross_under_a_fade(fade: float, grey: int) -> FieldReading:
    # A light pencil cross in box 1, the box and all in it drawn lighter by
    # ``fade`` (a streak of low toner: 1 none, 0.7 three tenths lighter).
    sheet = Sheet()
    cx, cy = sheet.centre("1")
    sheet.line([(cx - 1.7, cy - 1.7), (cx + 1.7, cy + 1.7)], 0.3, grey).line([(cx + 1.7, cy - 1.7), (cx - 1.7, cy + 1.7)], 0.3, grey)
    x, y, w, h = sheet.options[0].box
    window = np.s_[int((y - 1) * S) : int((y + h + 1) * S), int((x - 1) * S) : int((x + w + 1) * S)]
    sheet.ink[window] = (255 - (255 - sheet.ink[window].astype(float)) * fade).astype(np.uint8)
    return sheet.read()


def test_a_light_cross_under_a_fade_streak_goes_to_a_person():
    # Measured on an office stack: a light pencil's crosses under a streak
    # that drew the print 0.7 as dark, their darkest tenth at 35 (of 255),
    # read blank unseen. Under the fade a trace that light is worth a look.
    faded = _light_cross_under_a_fade(0.7, grey=205)
    box = faded.boxes[0]
    assert box.state == "empty" and box.core <= 36 and 0.65 < box.outline < 0.75, box
    assert (faded.value, faded.flags) == ("", ("faint",)), faded
    # Where the print is drawn as dark as elsewhere, a cross that light is
    # no more than the dust and bleed seen in blank boxes.
    clear = _light_cross_under_a_fade(1.0, grey=220)
    assert clear.boxes[0].core <= 36 and clear.boxes[0].outline > 0.95, clear.boxes[0]
    assert (clear.value, clear.flags) == ("", ()), clear


def _tick_over_the_corner(dx: float, dy: float, *, width_mm: float = 0.4, grey: int = 30) -> FieldReading:
    # A small tick (as ``Sheet.tick``) drawn over box 3's lower right corner,
    # its centre ``dx``, ``dy`` mm from the corner: most of it outside the box.
    sheet = Sheet("123", pitch_mm=24.0)
    x, y, w, h = sheet.options[2].box
    cx, cy = x + w + dx, y + h + dy
    sheet.line([(cx - 1.6, cy), (cx - 0.4, cy + 1.5), (cx + 1.8, cy - 1.8)], width_mm, grey)
    return sheet.read()


def test_a_small_tick_over_a_boxs_corner_alone_in_the_question_is_its_answer():
    # Marks drawn off centre (an office stack with other pens, seed 51: ticks
    # over a box's corner held as faint). A pen's line running out across
    # the border in three sectors or more, the only ink in the question.
    for dx, dy in ((0.0, -1.0), (0.2, -0.8), (0.2, -0.6)):
        reading = _tick_over_the_corner(dx, dy)
        box = reading.boxes[2]
        assert box.coverage < Thresholds().marked and box.loose_sectors >= 3, box
        assert (reading.value, blocking(reading)) == ("3", False), reading
    # Crossing the border only twice, a person looks.
    reading = _tick_over_the_corner(-0.4, -1.0)
    assert reading.boxes[2].loose_sectors <= 2 and (reading.value, reading.flags) == ("", ("faint",)), reading


def test_a_small_tick_over_a_corner_is_an_answer_only_alone_and_in_the_pages_pen():
    # Beside ink in another box the corner tick may be that mark's stroke
    # running on: decided as before, by a person.
    field = Sheet("123").field()
    tick = BoxReading("3", "doubtful", 0.0, 0.0343, 0.0, ring_sectors=3, stroke=0.258, loose_sectors=3, solid=0.515, core=225)
    dust = BoxReading("1", "empty", 1.0, 0.004, 0.0, stroke=0.1)
    clean = BoxReading("2", "empty", 1.0, 0.0, 0.0)
    assert decide(field, [BoxReading("1", "empty", 1.0, 0.0, 0.0), clean, tick], Thresholds()).value == "3"
    reading = decide(field, [dust, clean, tick], Thresholds())
    assert (reading.value, reading.flags) == ("", ("faint",)), reading
    # Paler than the page's clear marks (show-through), or a line as thin
    # as a hair's: not the respondent's pen, a person looks.
    for other in (replace(tick, tone=0.6), replace(tick, solid=0.1)):
        assert decide(field, [BoxReading("1", "empty", 1.0, 0.0, 0.0), clean, other], Thresholds()).flags == ("faint",)


def test_a_loop_beside_a_faded_box_is_the_answer_as_a_tick_is():
    # Circling is answering (hard stacks: 48 loops beside a faded box held,
    # every one read right): what the fade may have taken would be a second
    # answer. Unless the faded box has ink round it, or the loop is pale.
    field = Sheet().field()
    faded = BoxReading("4", "empty", 1.0, 0.0, 0.0, faded=True)
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "135"]
    loop = BoxReading("2", "marked", 1.0, 0.0, 0.05, ring_sectors=14, loose_sectors=14, circled=True, ring_solid=0.6)

    def read(mark: BoxReading, beside: BoxReading) -> FieldReading:
        return decide(field, [empty[0], mark, empty[1], beside, empty[2]], Thresholds())

    assert (read(loop, faded).value, read(loop, faded).flags) == ("2", ("circled",))
    assert "faded" in read(loop, replace(faded, ring_sectors=3)).flags
    assert "faded" in read(replace(loop, tone=0.5), faded).flags


def test_a_tick_in_a_corner_beside_a_faded_box_is_the_answer():
    # Measured on hard stacks (A2): a tick drawn in a corner of box 1, a
    # mark's ink but crossing nothing, beside faded boxes with no ink in or
    # round them: the answer. With ink round a faded box (a lost tick's arm
    # running on into box 1?), a person looks.
    field = Sheet().field()
    tick = BoxReading("1", "marked", 1.0, 0.1561, 0.0, ring_sectors=4, loose_sectors=4, stroke=0.5, solid=0.613)
    faded = BoxReading("2", "empty", 1.0, 0.0, 0.0, faded=True, outline=0.32)
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "345"]
    reading = decide(field, [tick, faded, *empty], Thresholds())
    assert (reading.value, reading.flags) == ("1", ()), reading
    reading = decide(field, [tick, replace(faded, ring_sectors=2), *empty], Thresholds())
    assert (reading.value, reading.flags) == ("1", ("faded",)), reading


def test_a_lone_tick_over_a_boxs_edge_a_little_paler_than_the_page_is_the_respondents():
    # An office stack with careless marks: a tick drawn over box 5's corner,
    # its darkest tenth 0.87 of the page's clear marks' (a small stroke
    # blurs lighter), the only ink in the question: the answer, as a whole
    # stroke across the box that pale is. Paler still it may be the back
    # page showing through; crossing the border once or twice, a graze.
    field = Sheet().field()
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1234"]
    tick = BoxReading("5", "marked", 0.5, 0.0375, 0.0, ring_sectors=8, stroke=0.194, loose_sectors=9, solid=0.5, core=165, tone=0.873)
    reading = decide(field, [*empty, tick], Thresholds())
    assert (reading.value, blocking(reading)) == ("5", False), reading
    for other in (replace(tick, tone=0.7), replace(tick, loose_sectors=2, ring_sectors=2)):
        reading = decide(field, [*empty, other], Thresholds())
        assert (reading.value, reading.flags) == ("", ("faint",)), reading


def test_a_pages_stored_boxes_decided_again_give_the_same_readings():
    # What the store keeps of a page (its boxes as read) is enough to decide
    # the page again without its image: how rules are tried on stored scans.
    sheet = Sheet("123456789abcdefg", pitch_mm=9.0, width_mm=110.0)
    sheet.cross("1").tick("6", width_mm=0.25, grey=150).slash("b").fill("d").tick("e")
    _pale_slash(sheet, "g")
    fields = _page_of_questions(sheet, QUESTIONS)
    readings = sheet.read_fields(fields)
    page_t = Thresholds().for_page([b.coverage for r in readings for b in r.boxes])
    again = decide_page(fields, {r.field_id: list(r.boxes) for r in readings}, page_t)
    assert [(r.value, r.flags) for r in again] == [(r.value, r.flags) for r in readings]
    assert [r.value for r in readings] == ["1", "6", "b", "e"], readings


def test_a_box_circled_tight_beside_a_multiple_choice_answer_is_looked_at():
    # An office variant (C1, choose up to 3): boxes 6 and 9 circled tight on
    # their outlines with an ordinary pen; box 9's loop cut enough of its
    # corners to read, box 6's (darkest tenth 200 of 255) was left out of
    # the answer unseen. A person looks.
    field = FieldLayout("e1", "multi", 1, Sheet("123456789").options, max_choices=3)
    empty = [BoxReading(c, "empty", 1.0, 0.0, 0.0) for c in "1234578"]
    nine = BoxReading("9", "marked", 0.66, 0.0864, 0.0, stroke=0.419, corners=0.828, core=183, outline=1.773, solid=0.482)
    six = BoxReading("6", "empty", 0.5, 0.0437, 0.0, stroke=0.226, corners=0.5, core=200, outline=1.629, solid=0.524)
    reading = decide(field, [*empty[:5], six, *empty[5:], nine], Thresholds())
    assert (reading.value, reading.flags) == ("9", ("outside-box",)), reading
    # Its outline as dark as the page's others: no loop, the answer stands.
    reading = decide(field, [*empty[:5], replace(six, outline=1.05), *empty[5:], nine], Thresholds())
    assert (reading.value, reading.flags) == ("9", ()), reading
    # In a single-choice question the same box is left to the rules of a
    # clear answer (a bolder column of print is common there).
    single = Sheet("123456789").field()
    assert decide(single, [*empty[:5], six, *empty[5:], replace(nine, coverage=0.2, confidence=1.0)], Thresholds()).flags == ()


def test_beside_a_tick_over_a_boxs_edge_a_trace_in_a_multiple_choice_answer_is_looked_at():
    # Hard seed 41 (page 4): D2 answered by a tick over box 3's edge, little
    # of it inside; in E1, beside two clear answers, a dark trace over box
    # 2's edge was another such tick, left out unseen. This respondent's
    # ticks run over the boxes' edges: a person looks.
    sheet = Sheet("123456789")
    d2 = FieldLayout("d2", "single", 4, tuple(sheet.options[:5]))
    e1 = FieldLayout("e1", "multi", 4, tuple(sheet.options), max_choices=3)
    empty = {o.code: BoxReading(o.code, "empty", 1.0, 0.0, 0.0) for o in sheet.options}
    edge = BoxReading("3", "doubtful", 0.0, 0.0354, 0.0, ring_sectors=6, stroke=0.194, loose_sectors=6, solid=0.412, core=255)
    clear = BoxReading("3", "marked", 1.0, 0.3, 0.0, stroke=1.0, crosses=True, solid=0.7, core=255)
    trace = BoxReading("2", "empty", 0.1, 0.0229, 0.0021, ring_sectors=4, stroke=0.226, loose_sectors=4, solid=0.545, core=255)
    answers = [replace(clear, code=c) for c in "89"]

    def e1_read(d2_answer: BoxReading, beside: BoxReading = trace) -> FieldReading:
        boxes = {
            "d2": [d2_answer if o.code == "3" else empty[o.code] for o in d2.options],
            "e1": [beside if o.code == "2" else next((a for a in answers if a.code == o.code), empty[o.code]) for o in e1.options],
        }
        readings = decide_page([d2, e1], boxes, Thresholds())
        assert readings[0].value == "3" and not blocking(readings[0]), readings[0]
        return readings[1]

    assert (e1_read(edge).value, e1_read(edge).flags) == ("8;9", ("faint-page",))
    assert (e1_read(clear).value, e1_read(clear).flags) == ("8;9", ())
    # The same ink in D2 cutting box 3's corners, its outline drawn darker:
    # a loop drawn tight round it (``_light_tight_loop``), read as circled,
    # with as little ink as the tick: E1 is still looked at.
    loop = replace(edge, corners=0.469, outline=1.341)
    assert (e1_read(loop).value, e1_read(loop).flags) == ("8;9", ("faint-page",))
    # Without ink over another box's edge, nothing more is doubted on that
    # page: a blank question there is blank (office stacks: 58 right answers
    # held when every blank question on such pages was).
    no_ink_inside = replace(trace, coverage=0.0, stroke=0.0)
    assert (e1_read(edge, no_ink_inside).value, e1_read(edge, no_ink_inside).flags) == ("8;9", ())
