"""Named simulation profiles: how careful the respondents are, how good the
scanner is, how messy the stacks get. Rates are probabilities per form, per
question, per mark, per page or per stack as named; lengths in mm, angles in
degrees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sipas_scan.simulate.pen import Hand


@dataclass(frozen=True)
class RespondentProfile:
    blank_rate: float = 0.0  # per question: left empty
    double_mark_rate: float = 0.0  # per form: two marks on one single-choice question
    over_max_rate: float = 0.0  # per form: more than the maximum in a multi question
    cancel_rate: float = 0.0  # per form: one answer cancelled (box filled) and another marked
    unclear_cancel_rate: float = 0.0  # per form: a cancel whose box is only half filled (needs a person)
    skip_violation_rate: float = 0.0  # per form: filtered questions answered although the filter says no
    circle_rate: float = 0.0  # per form: one answer circled by someone who otherwise ticks
    comment_rate: float = 0.2  # per form: handwritten comment
    feedback_rate: float = 0.25  # per form: a5 = 1 (gave feedback), so factor 5 applies
    satisfied_rate: float = 0.82  # per criterion, mean chance of 4 or 5


@dataclass(frozen=True)
class PenProfile:
    pencil_rate: float = 0.0  # per form: light pencil instead of ink
    felt_tip_rate: float = 0.0  # per form: a felt tip (wide, dark, bleeds a little) instead of a ballpoint
    black_ink_rate: float = 0.4  # per form: black rather than blue ink
    size_range: tuple[float, float] = (0.7, 1.1)  # mark size / box size
    overflow_rate: float = 0.0  # per mark: mark much larger than the box
    offset_mm: float = 0.3  # mark centre jitter
    stroke_mm: tuple[float, float] = (0.35, 0.6)  # ballpoint and pencil line width
    felt_stroke_mm: tuple[float, float] = (0.6, 0.9)
    stray_dot_rate: float = 0.0  # per page: a stray pen dot somewhere on the page
    # Per form: how the respondent marks an answer, as (hand, weight); hands
    # are tick | cross | slash | blob | loop (circling the box).
    hands: tuple[tuple[Hand, float], ...] = (("tick", 0.6), ("cross", 0.4))
    other_mark_rate: float = 0.0  # per mark: a tick, cross, slash or blob other than the usual one
    reach_rate: float = 0.0  # per tick: the long arm runs on into the next box of the row
    wide_loop_rate: float = 0.6  # per form (loop hands): wide rings rather than tight ones on the box edge
    show_through_rate: float = 0.0  # per page: another page's marks faintly visible through thin paper


@dataclass(frozen=True)
class ScannerProfile:
    dpi_choices: tuple[int, ...] = (200,)
    mode_choices: tuple[str, ...] = ("gray",)  # colour | gray | bw (a fixed threshold)
    max_rotation_deg: float = 0.5
    max_perspective_mm: float = 0.0
    max_shift_mm: float = 1.0
    blur_sigma_px: tuple[float, float] = (0.0, 0.3)
    noise_sigma: tuple[float, float] = (0.0, 2.0)
    jpeg_quality: tuple[int, int] = (85, 95)
    lighting_amplitude: float = 0.0  # fraction of brightness lost at the darkest corner
    shadow_edge_rate: float = 0.0  # per page: a dark band along one edge
    dust_specks: tuple[int, int] = (0, 0)
    paper_tint: float = 0.0  # how far from white the paper is, 0..1
    bw_threshold: tuple[int, int] = (150, 170)
    ink_spread_rate: float = 0.0  # per page: dark strokes spread by a pixel or two
    fade_rate: float = 0.0  # per page: streaks where page and marks come out lighter
    max_fade: float = 0.0  # share of the darkness a fade streak takes away, at most
    fold_rate: float = 0.0  # per page: the sheet was folded (in three or in half) and shows the crease
    max_fold_shadow: float = 0.0  # brightness lost at the middle of the fold's shadow, at most
    drum_line_rate: float = 0.0  # per stack: dirt on the scanner glass draws 1-3 lines down every page
    curl_rate: float = 0.0  # per page: an edge of the sheet stands off the glass (curled in the envelope)
    max_curl_lift_mm: float = 0.0  # how high that edge stands, at most


@dataclass(frozen=True)
class StackProfile:
    return_rate: float = 1.0  # per form: the household sent it back
    upside_down_rate: float = 0.0  # per page
    swaps: float = 0.0  # per page: chance a page swaps with the next one
    duplicate_page_rate: float = 0.0  # per form
    blank_back_rate: float = 0.0  # per form: a blank back side scanned after a page
    missing_page_rate: float = 0.0  # per form
    stray_pages: int = 0  # per run: pages that are not forms
    photocopies: int = 0  # per run: a second, differently filled copy of a form
    forged_forms: int = 0  # per run: a form whose code was altered
    rescan_rate: float = 0.0  # per page: jammed, taken out, rescanned alone into a loose image file
    split_rate: float = 0.0  # per stack: scanned in two jobs, the break falling inside a form


@dataclass(frozen=True)
class Profile:
    name: str
    respondent: RespondentProfile = field(default_factory=RespondentProfile)
    pen: PenProfile = field(default_factory=PenProfile)
    scanner: ScannerProfile = field(default_factory=ScannerProfile)
    stack: StackProfile = field(default_factory=StackProfile)


CLEAN = Profile(name="clean")

OFFICE = Profile(
    name="office",
    respondent=RespondentProfile(
        blank_rate=0.02,
        double_mark_rate=0.03,
        over_max_rate=0.03,
        cancel_rate=0.04,
        skip_violation_rate=0.02,
        circle_rate=0.02,
        comment_rate=0.25,
    ),
    pen=PenProfile(
        pencil_rate=0.03,
        felt_tip_rate=0.1,
        size_range=(0.6, 1.3),
        overflow_rate=0.05,
        offset_mm=0.6,
        stroke_mm=(0.3, 0.6),
        stray_dot_rate=0.1,
        hands=(("tick", 0.47), ("cross", 0.30), ("slash", 0.10), ("blob", 0.10), ("loop", 0.03)),
        other_mark_rate=0.04,
        reach_rate=0.03,
        show_through_rate=0.1,
    ),
    scanner=ScannerProfile(
        dpi_choices=(150, 200, 200, 300),
        mode_choices=("gray", "gray", "colour", "bw"),
        max_rotation_deg=2.0,
        max_perspective_mm=1.0,
        max_shift_mm=3.0,
        blur_sigma_px=(0.0, 0.8),
        noise_sigma=(1.0, 5.0),
        jpeg_quality=(55, 90),
        lighting_amplitude=0.12,
        shadow_edge_rate=0.1,
        dust_specks=(0, 30),
        paper_tint=0.06,
        ink_spread_rate=0.15,
        fade_rate=0.08,
        max_fade=0.35,
        fold_rate=0.3,
        max_fold_shadow=0.1,
        drum_line_rate=0.15,
        curl_rate=0.05,
        max_curl_lift_mm=6.0,
    ),
    stack=StackProfile(
        return_rate=0.95,
        upside_down_rate=0.1,
        swaps=0.05,
        duplicate_page_rate=0.03,
        blank_back_rate=0.05,
        missing_page_rate=0.02,
        stray_pages=1,
        photocopies=1,
        forged_forms=1,
        rescan_rate=0.01,
        split_rate=0.25,
    ),
)

HARD = Profile(
    name="hard",
    respondent=RespondentProfile(
        blank_rate=0.05,
        double_mark_rate=0.08,
        over_max_rate=0.08,
        cancel_rate=0.08,
        unclear_cancel_rate=0.03,
        skip_violation_rate=0.05,
        circle_rate=0.05,
        comment_rate=0.35,
    ),
    pen=PenProfile(
        pencil_rate=0.12,
        felt_tip_rate=0.2,
        black_ink_rate=0.5,
        size_range=(0.5, 1.5),
        overflow_rate=0.15,
        offset_mm=1.0,
        stroke_mm=(0.3, 0.6),
        stray_dot_rate=0.3,
        hands=(("tick", 0.37), ("cross", 0.25), ("slash", 0.13), ("blob", 0.15), ("loop", 0.10)),
        other_mark_rate=0.1,
        reach_rate=0.08,
        wide_loop_rate=0.5,
        show_through_rate=0.3,
    ),
    scanner=ScannerProfile(
        dpi_choices=(150, 200, 300),
        mode_choices=("gray", "colour", "bw", "bw"),
        max_rotation_deg=5.0,
        max_perspective_mm=2.5,
        max_shift_mm=5.0,
        blur_sigma_px=(0.3, 1.4),
        noise_sigma=(3.0, 10.0),
        jpeg_quality=(30, 75),
        lighting_amplitude=0.3,
        shadow_edge_rate=0.3,
        dust_specks=(10, 120),
        paper_tint=0.15,
        bw_threshold=(120, 185),
        ink_spread_rate=0.4,
        fade_rate=0.25,
        max_fade=0.5,
        fold_rate=0.6,
        max_fold_shadow=0.18,
        drum_line_rate=0.5,
        curl_rate=0.2,
        max_curl_lift_mm=12.0,
    ),
    stack=StackProfile(
        return_rate=0.85,
        upside_down_rate=0.3,
        swaps=0.15,
        duplicate_page_rate=0.08,
        blank_back_rate=0.15,
        missing_page_rate=0.06,
        stray_pages=2,
        photocopies=2,
        forged_forms=2,
        rescan_rate=0.03,
        split_rate=0.5,
    ),
)

PROFILES = {p.name: p for p in (CLEAN, OFFICE, HARD)}
