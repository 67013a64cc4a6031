"""The simulator's pens, respondents and scanner effects, each on hand-made
arrays: where a mark's ink goes, and what a scanner effect does to a page."""

from dataclasses import replace

import numpy as np
import pytest

from sipas_scan.layout import layout_survey
from sipas_scan.simulate.paper import Ink, show_through
from sipas_scan.simulate.pen import (
    BLUE_INK,
    Pen,
    draw_blob,
    draw_fill,
    draw_half_fill,
    draw_loop,
    draw_reaching_tick,
    draw_slash,
    new_ink_layer,
)
from sipas_scan.simulate.profiles import HARD, OFFICE, PROFILES, RespondentProfile
from sipas_scan.simulate.respondents import FilledForm, Mark, circling_by_habit, fill_form
from sipas_scan.simulate.scanner import DrumLine, FadeStreak, ScanSettings, draw_drum_lines, draw_settings, scan
from sipas_scan.survey import load_survey

PX_PER_MM = 10.0  # 254 dpi: a 5 mm box is 50 px
BOX = (60.0, 60.0, 50.0, 50.0)  # x, y, w, h in px
NEXT_BOX = (222.0, 60.0, 50.0, 50.0)  # the next box of a grid row, 11.2 mm further on
LAYER_SHAPE = (170, 340)
SEEDS = range(12)


def _pen(**changes) -> Pen:
    pen = Pen(colour=BLUE_INK, opacity=1.0, stroke_mm=0.5, size=0.9, hand="tick", offset_mm=0.3, overflow_rate=0.0)
    return replace(pen, **changes)


def _region(layer: np.ndarray, box, grow_px: float = 0.0) -> np.ndarray:
    x, y, w, h = box
    return layer[int(y - grow_px) : int(np.ceil(y + h + grow_px)), int(x - grow_px) : int(np.ceil(x + w + grow_px))]


def _ink_outside(layer: np.ndarray, box, grow_px: float) -> float:
    """Ink outside the box grown by ``grow_px``."""
    outside = layer.copy()
    _region(outside, box, grow_px)[:] = 0
    return float(outside.sum())


# ---- pens -------------------------------------------------------------------


def test_a_slash_is_one_stroke_from_lower_left_to_upper_right_in_the_box():
    for seed in SEEDS:
        layer = new_ink_layer(LAYER_SHAPE)
        draw_slash(layer, BOX, _pen(), np.random.default_rng(seed), PX_PER_MM)
        # In its box; like a tick it may poke a little past the edge.
        assert _ink_outside(layer, BOX, 1.0 * PX_PER_MM) < 0.05 * layer.sum(), seed
        box = _region(layer, BOX)
        half = box.shape[0] // 2
        lower_left, upper_right = box[half + 8 :, : half - 8], box[: half - 8, half + 8 :]
        upper_left, lower_right = box[: half - 8, : half - 8], box[half + 8 :, half + 8 :]
        assert lower_left.sum() > 0 and upper_right.sum() > 0, seed
        assert upper_left.sum() + lower_right.sum() < 0.1 * box.sum(), seed


def test_a_blob_is_a_filled_ellipse_inside_the_box():
    for seed in SEEDS:
        for bleed_mm in (0.0, 0.08):
            layer = new_ink_layer(LAYER_SHAPE)
            draw_blob(layer, BOX, _pen(offset_mm=2.0, bleed_mm=bleed_mm), np.random.default_rng(seed), PX_PER_MM)
            assert _ink_outside(layer, BOX, 1) < 0.01 * layer.sum(), (seed, bleed_mm)
            area_mm2 = (layer > 0.5).sum() / PX_PER_MM**2
            assert 0.8 * np.pi * 0.75**2 < area_mm2 < 1.2 * np.pi * 2.0**2, (seed, area_mm2)
            ys, xs = np.nonzero(layer > 0.5)
            assert layer[int(ys.mean()), int(xs.mean())] > 0.8  # filled, not a ring


def test_a_wide_loop_rings_the_box_and_leaves_it_empty():
    for seed in SEEDS:
        layer = new_ink_layer(LAYER_SHAPE)
        draw_loop(layer, BOX, _pen(wide_loops=True), np.random.default_rng(seed), PX_PER_MM, turns=1.05)
        assert _region(layer, BOX, -5).sum() == 0, seed  # nothing inside the box (0.5 mm in from its edge)
        # Some 4 mm out at most, 5 with its bumps, drift and the stroke's width.
        assert _ink_outside(layer, BOX, 5 * PX_PER_MM) == 0, seed
        x, y, w, h = (int(v) for v in BOX)
        centre_y, centre_x = y + h // 2, x + w // 2
        # Round the box: ink left, right, above and below it.
        assert layer[centre_y - 5 : centre_y + 5, :x].sum() > 0 and layer[centre_y - 5 : centre_y + 5, x + w :].sum() > 0
        assert layer[:y, centre_x - 5 : centre_x + 5].sum() > 0 and layer[y + h :, centre_x - 5 : centre_x + 5].sum() > 0


def test_a_tight_loop_runs_on_the_box_edge():
    for seed in SEEDS:
        layer = new_ink_layer(LAYER_SHAPE)
        draw_loop(layer, BOX, _pen(wide_loops=False), np.random.default_rng(seed), PX_PER_MM)
        near_edge = _region(layer, BOX, 1.5 * PX_PER_MM).sum() - _region(layer, BOX, -1.2 * PX_PER_MM).sum()
        assert near_edge > 0.9 * layer.sum(), seed
        assert _region(layer, BOX, -1.5 * PX_PER_MM).sum() == 0, seed  # the middle of the box stays clear


def _ink_by_direction(layer: np.ndarray, box) -> np.ndarray:
    """Ink per 10-degree sector round the box centre (0 = right, clockwise on the page)."""
    x, y, w, h = box
    ys, xs = np.nonzero(layer > 0.3)
    angles = np.degrees(np.arctan2(ys - (y + h / 2), xs - (x + w / 2))) % 360
    return np.histogram(angles, bins=36, range=(0, 360))[0]


def test_an_open_loop_leaves_a_gap_where_the_hand_stopped_short():
    for seed in SEEDS:
        layer = new_ink_layer(LAYER_SHAPE)
        # From 0 degrees round to 0.75 turns (270): open from 270 to 360, less
        # the loop's tilt (up to 10 degrees) and the stroke's width.
        draw_loop(layer, BOX, _pen(wide_loops=seed % 2 == 0), np.random.default_rng(seed), PX_PER_MM, start=0.0, turns=0.75)
        sectors = _ink_by_direction(layer, BOX)
        assert sectors[30:34].sum() == 0, (seed, sectors)  # 300-340 degrees: the gap
        assert (sectors[3:25] > 0).all(), (seed, sectors)  # 30-250 degrees: drawn
        closed = new_ink_layer(LAYER_SHAPE)
        draw_loop(closed, BOX, _pen(wide_loops=seed % 2 == 0), np.random.default_rng(seed), PX_PER_MM, start=0.0, turns=1.05)
        assert (_ink_by_direction(closed, BOX) > 0).all(), seed


def test_a_reaching_tick_has_its_knee_in_its_box_and_its_arm_in_the_next():
    for seed in SEEDS:
        layer = new_ink_layer(LAYER_SHAPE)
        draw_reaching_tick(layer, BOX, NEXT_BOX, _pen(), np.random.default_rng(seed), PX_PER_MM)
        x, y, w, h = (int(v) for v in BOX)
        nx, _, nw, _ = (int(v) for v in NEXT_BOX)
        own = layer[:, x : x + w]
        lowest = np.nonzero(own.max(axis=1) > 0.5)[0].max()
        assert y + h * 0.6 < lowest < y + h + 8, seed  # the knee: low in its own box
        assert _region(layer, NEXT_BOX).sum() > 0, seed  # the arm ends in the neighbour ...
        assert layer[:, nx + nw :].sum() == 0, seed  # ... and not past it
        assert layer[:, x + w + 5 : nx - 5].max() > 0.5  # crossing the gap between


def _coverage(layer: np.ndarray, box, inset_px: float) -> float:
    return float((_region(layer, box, -inset_px) > 0.5).mean())


def test_a_cancel_fills_the_box_and_an_unclear_cancel_about_half_of_it():
    for seed in SEEDS:
        full, half = new_ink_layer(LAYER_SHAPE), new_ink_layer(LAYER_SHAPE)
        draw_fill(full, BOX, _pen(), np.random.default_rng(seed), PX_PER_MM)
        draw_half_fill(half, BOX, _pen(), np.random.default_rng(seed), PX_PER_MM)
        assert _coverage(full, BOX, 6) > 0.95, seed
        assert 0.3 < _coverage(half, BOX, 6) < 0.75, seed


def test_a_felt_tip_bleeds_a_soft_fringe_round_a_dark_core():
    ballpoint, felt = new_ink_layer(LAYER_SHAPE), new_ink_layer(LAYER_SHAPE)
    draw_slash(ballpoint, BOX, _pen(stroke_mm=0.8), np.random.default_rng(1), PX_PER_MM)
    draw_slash(felt, BOX, _pen(stroke_mm=0.8, bleed_mm=0.1), np.random.default_rng(1), PX_PER_MM)
    assert (felt > 0.05).sum() > 1.2 * (ballpoint > 0.05).sum()
    assert (felt > 0.95).sum() > 0.7 * (ballpoint > 0.95).sum()  # the middle of the stroke stays dark


def test_show_through_is_faint_blurred_and_mirrored_from_the_back():
    """Page 1 of a blank form, with page 2's one mark showing through."""
    layout = layout_survey(load_survey())
    dpi = 100
    px_per_mm = dpi / 25.4
    field = layout.pages[1].fields[0]
    x, y, w, h = field.options[0].box
    form = FilledForm(marks=[Mark(field.id, field.options[0].code, "mark")])
    ink = Ink(form, _pen(hand="blob", offset_mm=0.0), seed=5)
    page = np.full((1170, 827, 3), 255, np.uint8)  # A4 at 100 dpi
    for mirrored in (True, False):
        out = show_through(page, layout, 1, ink, dpi, np.random.default_rng(3), mirrored=mirrored)
        darkening = 255 - out.min(axis=2).astype(int)
        assert 5 < darkening.max() <= 35, darkening.max()  # seen, but far from ink dark
        ys, xs = np.nonzero(darkening > 3)
        centre_x = (x + w / 2) * px_per_mm
        expected_x = page.shape[1] - centre_x if mirrored else centre_x
        assert abs(xs.mean() - expected_x) < 3 * px_per_mm
        assert abs(ys.mean() - (y + h / 2) * px_per_mm) < 3 * px_per_mm
        assert xs.max() - xs.min() > 2.5 * px_per_mm  # blurred wider than the blob itself


# ---- respondents ----------------------------------------------------------


def test_an_unclear_cancel_is_listed_and_the_other_code_is_the_truth():
    survey = load_survey()
    profile = RespondentProfile(unclear_cancel_rate=1.0)
    for seed in range(20):
        form = fill_form(survey, profile, np.random.default_rng(seed))
        (cancel,) = [a for a in form.anomalies if a.kind == "cancelled"]
        assert cancel.half and form.truth[cancel.field_id] != cancel.code
        styles = {(m.code, m.style) for m in form.marks if m.field_id == cancel.field_id}
        assert styles == {(cancel.code, "half-fill"), (form.truth[cancel.field_id], "mark")}


def test_circling_by_habit_is_an_answer_not_an_anomaly():
    survey = load_survey()
    form = fill_form(survey, RespondentProfile(circle_rate=1.0), np.random.default_rng(2))
    assert [a.kind for a in form.anomalies] == ["circled"]
    habit = circling_by_habit(form)
    assert habit.anomalies == [] and habit.truth == form.truth
    assert {m.style for m in habit.marks} == {"mark"}


# ---- scanner --------------------------------------------------------------


def _plain(**changes) -> ScanSettings:
    """A scanner with no faults but those given."""
    settings = ScanSettings(
        dpi=75,
        mode="gray",
        rotation_deg=0.0,
        perspective_px=((0, 0),) * 4,
        shift_px=(0.0, 0.0),
        blur_sigma_px=0.0,
        noise_sigma=0.0,
        jpeg_quality=95,
        lighting_amplitude=0.0,
        lighting_direction=0.0,
        shadow_edge=-1,
        dust_specks=0,
        paper_tint=0.0,
        bw_threshold=160,
    )
    return replace(settings, **changes)


WHITE = np.full((877, 620, 3), 255, np.uint8)  # A4 at 75 dpi


def test_drum_lines_draw_dark_columns_down_the_whole_page():
    out = scan(WHITE, _plain(drum_lines=(DrumLine(0.5, 0.35, 0.8), DrumLine(0.2, 0.1, 0.6))), np.random.default_rng(1))
    dark_columns = np.nonzero(out.max(axis=0) < 200)[0]
    assert set(dark_columns) <= {123, 124, 309, 310, 311} and {124, 310} <= set(dark_columns)
    assert out[:, 310].max() < 100  # top to bottom
    assert (out[:, :100] == 255).all()


def test_drum_lines_come_with_the_scanner_one_to_three_a_stack():
    counts = [len(draw_drum_lines(HARD.scanner, np.random.default_rng(seed))) for seed in range(200)]
    assert set(counts) == {0, 1, 2, 3} and 0.3 < np.mean([c > 0 for c in counts]) < 0.7
    assert all(draw_drum_lines(PROFILES["clean"].scanner, np.random.default_rng(s)) == () for s in range(50))


@pytest.mark.parametrize(("folds", "rows"), [((0.5,), (0.5,)), ((1 / 3, 2 / 3), (1 / 3, 2 / 3))])
def test_a_fold_shadows_a_soft_band_across_the_page(folds, rows):
    out = scan(WHITE, _plain(folds=folds, fold_shadow=0.15, fold_width_mm=5.0), np.random.default_rng(1))
    profile = out.mean(axis=1)
    h = out.shape[0]
    for row in rows:
        band = profile[int(row * h) - 15 : int(row * h) + 15]
        assert band.min() < 255 * 0.9, band.min()
        assert band.min() > 255 * 0.8  # soft: a shadow, not a line
    assert profile[int(0.1 * h)] > 250 and profile[int(0.9 * h)] > 250


def test_a_fold_turns_with_the_page():
    out = scan(WHITE, _plain(folds=(0.5,), fold_shadow=0.15, rotation_deg=4.0), np.random.default_rng(1))
    left, right = out[:, 60].argmin(), out[:, 560].argmin()
    assert right - left == pytest.approx(500 * np.tan(np.deg2rad(4.0)), abs=6)


def test_faded_toner_lightens_print_and_marks_in_a_streak():
    page = WHITE.copy()
    page[400:440] = 0
    out = scan(page, _plain(fade=(FadeStreak(0.3, 0.05, 0.6),)), np.random.default_rng(1))
    streak, elsewhere = out[420, int(0.3 * 620)], out[420, int(0.8 * 620)]
    assert elsewhere < 5 and 255 * 0.5 < streak < 255 * 0.7
    assert (out[100] == 255).all()  # paper stays paper


@pytest.mark.parametrize("spread", [1, 2])
def test_ink_spreads_dark_strokes_by_a_pixel_or_two(spread):
    page = WHITE.copy()
    page[:, 300:302] = 0
    out = scan(page, _plain(ink_spread_px=spread), np.random.default_rng(1))
    assert (out[400] < 128).sum() == 2 + spread


@pytest.mark.parametrize(("profile", "max_deg", "quality"), [(OFFICE, 2.0, (55, 90)), (HARD, 5.0, (30, 75))])
def test_skew_and_jpeg_quality_stay_within_the_profile(profile, max_deg, quality):
    settings = [draw_settings(profile.scanner, 200, "gray", np.random.default_rng(seed)) for seed in range(300)]
    rotations = np.abs([s.rotation_deg for s in settings])
    assert rotations.max() <= max_deg and rotations.max() > 0.9 * max_deg
    qualities = [s.jpeg_quality for s in settings]
    assert quality[0] <= min(qualities) and max(qualities) <= quality[1]
    assert set(profile.scanner.dpi_choices) <= {150, 200, 300}
