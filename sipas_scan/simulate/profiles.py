"""Named simulation profiles: how careful the respondents are, how good the
scanner is, how messy the stacks get. Rates are probabilities per form, per
question or per page as named; lengths in mm, angles in degrees."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RespondentProfile:
    blank_rate: float = 0.0            # per question: left empty
    double_mark_rate: float = 0.0      # per form: two marks on one single-choice question
    over_max_rate: float = 0.0         # per form: more than the maximum in a multi question
    cancel_rate: float = 0.0           # per form: one answer cancelled (box filled) and another marked
    skip_violation_rate: float = 0.0   # per form: filtered questions answered although the filter says no
    circle_rate: float = 0.0           # per form: one answer circled instead of ticked
    comment_rate: float = 0.2          # per form: handwritten comment
    feedback_rate: float = 0.25        # per form: a5 = 1 (gave feedback), so factor 5 applies
    satisfied_rate: float = 0.82       # per criterion, mean chance of 4 or 5


@dataclass(frozen=True)
class PenProfile:
    pencil_rate: float = 0.0           # per form: light pencil instead of ink
    black_ink_rate: float = 0.4        # per form: black rather than blue ink
    size_range: tuple[float, float] = (0.7, 1.1)     # mark size / box size
    overflow_rate: float = 0.0         # per mark: mark much larger than the box
    offset_mm: float = 0.3             # mark centre jitter
    stroke_mm: tuple[float, float] = (0.35, 0.6)
    stray_dot_rate: float = 0.0        # per page: a stray pen dot somewhere on the page
    cross_rate: float = 0.4            # per form: crosses rather than ticks


@dataclass(frozen=True)
class ScannerProfile:
    dpi_choices: tuple[int, ...] = (200,)
    mode_choices: tuple[str, ...] = ("gray",)   # colour | gray | bw
    max_rotation_deg: float = 0.5
    max_perspective_mm: float = 0.0
    max_shift_mm: float = 1.0
    blur_sigma_px: tuple[float, float] = (0.0, 0.3)
    noise_sigma: tuple[float, float] = (0.0, 2.0)
    jpeg_quality: tuple[int, int] = (85, 95)
    lighting_amplitude: float = 0.0    # fraction of brightness lost at the darkest corner
    shadow_edge_rate: float = 0.0      # per page: a dark band along one edge
    dust_specks: tuple[int, int] = (0, 0)
    paper_tint: float = 0.0            # how far from white the paper is, 0..1
    bw_threshold: tuple[int, int] = (150, 170)


@dataclass(frozen=True)
class StackProfile:
    return_rate: float = 1.0           # per form: the household sent it back
    upside_down_rate: float = 0.0      # per page
    swaps: float = 0.0                 # per page: chance a page swaps with the next one
    duplicate_page_rate: float = 0.0   # per form
    blank_back_rate: float = 0.0       # per form: a blank back side scanned after a page
    missing_page_rate: float = 0.0     # per form
    stray_pages: int = 0               # per run: pages that are not forms
    photocopies: int = 0               # per run: a second, differently filled copy of a form
    forged_forms: int = 0              # per run: a form whose code was altered


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
        blank_rate=0.02, double_mark_rate=0.03, over_max_rate=0.03, cancel_rate=0.04,
        skip_violation_rate=0.02, circle_rate=0.02, comment_rate=0.25,
    ),
    pen=PenProfile(pencil_rate=0.03, size_range=(0.6, 1.3), overflow_rate=0.05, offset_mm=0.6,
                   stroke_mm=(0.3, 0.8), stray_dot_rate=0.1),
    scanner=ScannerProfile(
        dpi_choices=(200, 300), mode_choices=("gray", "gray", "colour", "bw"), max_rotation_deg=2.0,
        max_perspective_mm=1.0, max_shift_mm=3.0, blur_sigma_px=(0.0, 0.8), noise_sigma=(1.0, 5.0),
        jpeg_quality=(60, 90), lighting_amplitude=0.12, shadow_edge_rate=0.1, dust_specks=(0, 30), paper_tint=0.05,
    ),
    stack=StackProfile(
        return_rate=0.95, upside_down_rate=0.1, swaps=0.05, duplicate_page_rate=0.03, blank_back_rate=0.05,
        missing_page_rate=0.02, stray_pages=1, photocopies=1, forged_forms=1,
    ),
)

HARD = Profile(
    name="hard",
    respondent=RespondentProfile(
        blank_rate=0.05, double_mark_rate=0.08, over_max_rate=0.08, cancel_rate=0.08,
        skip_violation_rate=0.05, circle_rate=0.05, comment_rate=0.35,
    ),
    pen=PenProfile(pencil_rate=0.12, black_ink_rate=0.5, size_range=(0.5, 1.5), overflow_rate=0.15, offset_mm=1.0,
                   stroke_mm=(0.25, 1.0), stray_dot_rate=0.3, cross_rate=0.5),
    scanner=ScannerProfile(
        dpi_choices=(150, 200, 300), mode_choices=("gray", "colour", "bw", "bw"), max_rotation_deg=4.0,
        max_perspective_mm=2.5, max_shift_mm=5.0, blur_sigma_px=(0.3, 1.4), noise_sigma=(3.0, 10.0),
        jpeg_quality=(35, 75), lighting_amplitude=0.3, shadow_edge_rate=0.3, dust_specks=(10, 120),
        paper_tint=0.12, bw_threshold=(120, 185),
    ),
    stack=StackProfile(
        return_rate=0.85, upside_down_rate=0.3, swaps=0.15, duplicate_page_rate=0.08, blank_back_rate=0.15,
        missing_page_rate=0.06, stray_pages=2, photocopies=2, forged_forms=2,
    ),
)

PROFILES = {p.name: p for p in (CLEAN, OFFICE, HARD)}
