"""Checkboxes: measure the ink in each box and decide what it says.

Pure functions on the aligned page's darkness map (8 px/mm). A box decision
is a record: its state, a confidence from the measurement's margin to the
nearest threshold, and the metrics behind it (SDAPS style). Thresholds adapt
to the page (the noise floor of its empty boxes) and live in one dataclass a
scanner calibration profile can adjust.

Three kinds of evidence, because coverage alone cannot tell a light pencil
tick from dust or a loop round a box from nothing:

- coverage: the share of inked pixels inside the box;
- stroke: how far the largest connected stroke inside the box reaches, traced
  at a lighter ink level (a tick, cross, slash or dot is one connected stroke
  across the box; dust, hairs and JPEG noise are specks);
- ring: how many of 16 angular sectors around the box a stroke crosses (a
  loop round the box crosses nearly all of them, a tick that overflowed or a
  neighbour's mark only a few).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.layout import FieldLayout, OptionBox, Rect
from sipas_scan.reading.reference import darkness_level
from sipas_scan.survey.model import join_codes

BoxState = Literal["empty", "marked", "filled", "doubtful"]
INK_LEVEL = darkness_level(0.2)  # a pixel is ink when this much darker than its paper
LIGHT_INK_LEVEL = darkness_level(0.1)  # strokes are traced down to this (light pencil, low ink)
STROKE_CORE_LEVEL = darkness_level(0.16)  # a light stroke's darkest tenth reaches this; show-through does not
TRACE_CORE_LEVEL = LIGHT_INK_LEVEL + darkness_level(0.05)  # a trace whose darkest tenth is lighter than this is worth no look
INSET_MM = 0.6  # measured inside the printed border by this much
RING_INNER_MM = 1.0  # ink share for an overflowing tick: ink between these
RING_OUTER_MM = 3.2  # distances outside the border
RING_GAP_MM = 0.45  # loops are traced from this far outside the border (the border and its blur excluded) ...
HALO_MM = 2.0  # ... or further, where this page's box borders bleed (black-and-white, ink spread)
MAX_BLEED_INSET_MM = 0.5  # a border bleeds inwards at most this much further (on a 5 mm box)
RIM_SHARE = 0.4  # a line along an edge of the inside this much inked is the border, bled further there
RIM_CLEAR = 0.1  # ... where the line inside it is clear paper (a blob or a fill goes on inwards)
HALO_SHARE = 0.1  # the border's halo ends where the page's boxes typically have less ink than this
RING_REACH_MM = 4.5  # a loop round a box lies within this distance of its border
OUTLINE_ZONE_MM = 1.2  # nearer than this only the box's own outline is printed (labels start 1.8 mm away)
OTHER_BOX_MARGIN_MM = 0.8  # a neighbouring box and this much around it belong to the neighbour
RING_SECTORS = 16
BORDER_INNER_MM = INSET_MM  # the band along the printed border: from where the inside is measured ...
BORDER_OUTER_MM = 0.7  # ... to this far outside (about twice the printed line's width with its blur)
FADED_OUTLINE = 0.4  # an outline this much lighter than the page's typical one has faded from the scan
FADED_DARKNESS = 0.6  # a blank (or multiple-choice) question with an outline drawn this much lighter (a faded streak on a grey
# scan): a light mark there may have vanished (1 % of boxes on hard stacks, 4 silent errors)
FADED_PAGE_DARKNESS = 20.0  # boxes' outlines typically no darker than this (0..255, the band along them): the
# scan lost the page's print (hard stacks: 36-170 on 150 pages, 4.6 on one washed out with its marks)
BORDER_EXCESS = 0.15  # a border band this much inkier than the page's typical one has a stroke drawn on it
SECTOR_MIN_PX = 6  # ink pixels (0.1 mm^2) for a stroke to count as crossing a sector
BESIDE_MIN_PX = 12  # beside the outline, twice that: print a scan made bolder leaves a pixel-wide seam
BOLD_OUTLINE_SECTORS = 10  # an outline thicker than the page's typical in this many sectors ...
TIGHT_LOOP_EVIDENCE = 2  # ... is a loop only with a stroke round the box or beside its outline in this many
# (hard stacks: outlines of unfaded boxes on pages whose other boxes faded read as loops, 11-16 sectors, no stroke)
RING_STROKE_MIN_PX = 20  # a connected piece of ink this big (0.3 mm^2) is a stroke, smaller is noise ...
DOTTED_SPAN_MM = 3.0  # ... unless, with its neighbours a pixel or two away, it makes a line this long
DOTTED_THINNESS = 20.0  # and thin: joined area (px) at most this many times its span (px); a loop round a box,
# its joined band 4-5 px wide, is about pi times that (12-16), a straight line 3-5, a clump of noise about its span
DOTTED_DENSITY = 0.2  # and dense: its dots cover this share of the joined band (pencil loops on hard stacks
# 0.33-0.53, a third of a thin line's pixels left 0.27; chains of salt noise a dilation joins 0.16-0.37) ...
DOTTED_SHARE = 0.7  # and such lines hold this share of the dots round the box (pencil loops 0.76-0.81; salt
# noise 0.14-0.58) ...
DOTTED_MAX_SPECKLE = 0.01  # ... on surroundings cleaner than this (pencil strokes round boxes on hard stacks 0.001-0.006
# in specks; denser salt noise chains up everywhere: a hand-made patch at 0.012 read as a loop 14 sectors round)
NOISY_SPECK_SHARE = 0.02  # specks covering this share of the surroundings: a noisy scan
NOISE_LIKE = 1.5  # there a box with less than this many times the ink round it (or than that plus the marked
# limit, for sparse noise a box samples unevenly) holds only the noise (hard stacks: 29 of 48 unmarked boxes with
# ink on noisy patches; 1 of 16 marked ones, itself a loop in the noise)
SPECKLE_WEIGHT = 4.0  # there a mark needs this many times the specks' share more ink than the marked limit
CIRCLE_SECTORS = 10  # a loop round the box: strokes all round but an opening of at most ~135 degrees
RING_DOUBT_SECTORS = 6  # strokes a third of the way round: perhaps circled, a person looks
RING_DOUBT_BESIDE_CLEAR = 8  # ... half way round, beside a clear answer to a single-choice question
LONE_LOOP_SECTORS = 8  # the only ink in a question, whole strokes half way round a box with ...
LONE_LOOP_INK = 0.02  # ... this share of the band round it inked: that box's answer, a loop left open
LONE_LOOP_CONFIDENCE = 0.6  # less sure than a closed loop (1.0)
EDGE_TICK_SECTORS = 3  # a pen's line crossing the border of a box in this many sectors runs out of it (dust: 1-2)
CIRCLER_DOUBT_SECTORS = 4  # ... a quarter of the way round, in a blank question on a page answered by circling
CIRCLER_MIN_LOOPS = 2  # loops round boxes on a page that show its respondent answers by circling
STROKE_MARK_SPAN = 0.6  # a connected stroke reaching across this share of the box is a mark, however light
STROKE_NOISE_SPAN = 0.3  # ink that reaches no further than this is specks, not a stroke
STROKE_DOUBT_SPAN = 0.45  # a pale stroke this long through the middle of a box is worth a look
STROKE_SPREAD_SHARE = 0.3  # a stroke across the box spreads at least this much both ways
STROKE_CENTRE_SHARE = 0.25  # and passes this close to the centre (share of the side)
EDGE_TRACE_DEPTH = 0.1  # light ink all within this share of the side from the box's edges hugs its outline ...
EDGE_TRACE_CORE = darkness_level(0.4)  # ... and, no darker than this, with strokes in at most EDGE_TRACE_RING
EDGE_TRACE_RING = 1  # sectors round the box, is the printed outline's blur or shadow (hard stacks: 296 such boxes,
# none marked; the respondents' strokes there reach in further or are darker, a loop tight on the outline leaves it)
# A box with dark ink inside it (darkest tenth of its largest stroke at
# least this) and an outline at least this much darker than the page's
# typical box, in a question where nothing was read: a loop drawn tight on
# the outline, cutting the corners inside, on a page noisy enough that
# little ink inside reads as nothing. Over the hard, office and variant
# stacks, 6 questions read blank had such a box: all 6 were answered (2
# lost silently on a new hard seed, 4 held already). Ink that dark and no
# darker (0.6 of black, not 0.8): tight loops drawn with an ordinary pen on
# an office variant were 0.78 (two left out of a multiple-choice answer);
# over 12 stored stacks it held one more answer lost and no blank question.
TIGHT_LOOP_CORE = darkness_level(0.6)
TIGHT_LOOP_OUTLINE = 1.3
# Such a box, the only ink in its question, is its answer when the loop also
# cuts this share of the inside's corners (a hand cannot follow a square's)
# or leaves the outline in this many sectors, and no other box of the
# question is printed bold or faded. (19 stored stacks decided again: 43
# fewer right answers held, no wrong answer more.)
TIGHT_LOOP_CORNERS = 0.1
TIGHT_LOOP_RING = 4
# A loop as tight drawn with a light pen: no dark ink inside, but strokes
# along or across the border in this many of its sectors, both counts (a
# hand's circle round the square), cutting this share of the inside's
# corners, the outline drawn this much darker than the page's typical box.
# The only ink in its question, it is that answer (independently generated
# stacks: blue and grey loops tight round a box read blank and held;
# stored pages of 41 stacks and 3 such stacks: 6 such boxes, all answers).
LIGHT_LOOP_SECTORS = 6
LIGHT_LOOP_CORNERS = 0.15
LIGHT_LOOP_OUTLINE = 1.15
# Ink in this share of a blank box's inside corners, nothing read in its
# question: what a loop drawn round it within a few tenths of a mm leaves
# where the black printed outline hides the rest (of 320 loops drawn on a
# test sheet, 44 read blank without a doubt, 18 of them now held so; stored
# pages of 41 stacks: 3 blank questions so inked, 1 answered).
LOOP_CORNERS_TRACE = 0.25
# An outline that bold, with no stroke in the band round it, is print scanned
# bolder when an untouched box of the same question has an outline at least
# this share as dark (hard stacks: a column of boxes 1.75-1.78 times the
# page's typical, 5-8 sectors over the mark; loops drawn tight on an outline
# stood at 1.37-1.46 beside unmarked boxes of 0.59-1.21).
BOLD_PRINT_MATCH = 0.95
STROKE_TRUST_EMPTY = 0.12  # where empty boxes hold more ink than this, noise forms strokes too: shape says nothing
HEAVY_CROSS_FROM = 0.6  # from this coverage the white left inside is looked at (a cross drawn heavily)
WHITE_PIECE_SHARE = 0.015  # ... in patches of at least this share of the inside
HEAVY_CROSS_PIECES = 3  # this many separate patches: the arms of a cross, not a fill
CORNER_MM = 0.5  # the inside's corner squares looked at for a fill
BLOB_CORNERS = 0.5  # a nearly full box whose corners are less inked than this is a blob
HEAVY_HAND_COVERAGE = 0.55  # a respondent whose marks typically cover this much answers with blobs
HEAVY_HAND_MIN_MARKS = 3
OVERFLOW_CONFIDENCE = 0.5
LIGHT_STROKE_CONFIDENCE = 0.5
CLEAR_MARK_FACTOR = 2.0  # a box this many times over the marked limit is a clear mark
STRAY_RATIO = 4.0  # a light box beside a mark this many times inkier is a stray touch
STRAY_CONFIDENCE = 0.6  # an answer read past a stray touch is less sure
PALE_SHARE = 0.9  # a light stroke whose darkest tenth is below this share of the page's clear marks' is
# another pen's or the back page's: on office stacks the respondent's own light marks
# lie at 0.92-1.0 but for 3 in 107, ink from the back at 0.15-0.89
LONE_PALE_SHARE = 0.8  # a whole stroke across the box, alone in a single-choice question, this close to the page's
# clear marks is the respondent's (a pencil or a drying pen varies this much within a page:
# hard stacks 0.75-0.9 for 33 marks); show-through is paler (no lone one above 0.74 on any stack)
GHOST_SHARE = 0.5  # paler than any of the respondents' own light marks (0.53 the palest of 107 on office
# stacks): show-through, whatever the question
PALE_MIN_MARKS = 3  # clear marks on the page needed to know its pen's darkness
PEN_SOLID_SHARE = 0.5  # a page's clear marks typically this solid (share of their ink 3 px across) were made
# with a pen (office stacks: 0.75 typical; pages in pencil 0.2-0.3) ...
HAIR_SOLID_SHARE = 0.15  # ... and a light line this much less solid there is a hair or a scratch, not that pen
# (office stacks: hairs on the glass 0-0.13)
TRACE_COVERAGE = 0.01  # a trace: this share of a box inked ...
TRACE_STROKE = 0.15  # ... in a stroke reaching this share of the box
INK_CLIPPED = 250  # clear marks' strokes this dark (0..255) were clipped to black (a black-and-white or saturated
# scan): how pale a lighter stroke is tells nothing there (hard black-and-white stacks: of 8 lone hair-like
# lines on such pages, 2 were what the scan left of a light tick)
HALF_FILL = 0.45  # a box this full may be a cancellation half done (unless the hand is heavy): no other ink is a stray
# ... when its ink is a fill: nearly all of it with ink all round (hard stacks:
# half fills 0.90-0.92, thick crosses 0.74-0.85 however much of the box they
# cover), reaching into the box's corners (``BLOB_CORNERS``) as a cancellation
# does, not a round blob (hard stacks: blobs 0.11-0.16, half fills 0.50-0.66)
FILL_SOLID = 0.88
KNEE_MARGIN_MM = 0.8  # a tick's knee is this much lower in the box it was meant for than its arm in the next
STRAY_BOX_MM = 0.5  # a box found this far from where its question's other boxes sit (in step) was misplaced
# (hard stacks: 14 questions no longer held, all read right)
MISALIGNED_OFFSET_MM = 0.95 * defs.BOX_SEARCH_MM  # never reached on clean or office scans (432 forms each)
OVERFLOW_TRACE = 0.008  # ink inside a box that, with ink around it, is worth a look
STREAK_SIDE_MM = 0.75  # a scanner streak is a line narrower than this, with paper this far either side
STREAK_CONTRAST = darkness_level(0.05)  # ... and at least this much darker than that paper
STREAK_BAND_MM = 1.0  # the page is looked at in bands this tall
STREAK_SPAN = 0.6  # a straight line through this share of the page's bands is no pen stroke
STREAK_ENDS = 0.15  # ... and it runs through the page's top and bottom (this share of its height) ...
STREAK_ENDS_SEEN = 0.3  # ... in at least this share of their bands (a dark header or a shadow hides it there)
STREAK_MAX_TILT_DEG = 6.0  # streaks run along the feed: vertical on the page, give or take its skew

# Flags that record how an answer was given without doubting it: the answer
# counts, the flag stays in the export for whoever checks the paper.
NOTE_FLAGS = frozenset({"cancelled", "circled"})


NOISE_FLOOR_PERCENTILE = 25  # the page's empty boxes' ink: this percentile of all its boxes' coverage


@dataclass(frozen=True)
class Thresholds:
    """Coverage (share of inked pixels inside a box) limits."""

    empty: float = 0.025  # below: empty
    marked: float = 0.06  # from here: marked
    fill_doubt: float = 0.80  # from here to ``filled``: a heavy cross or a fill (thick crosses reach 0.77)
    filled: float = 0.92  # from here: filled in completely (a cancelled answer)
    overflow_ring: float = 0.025  # a little ink inside and this much around: a tick that overflowed its box
    noise_margin: float = 0.015  # the empty limit sits this far above the page's noise floor

    def for_page(self, coverages: list[float]) -> Thresholds:
        """Raise the empty/marked limits above this page's noise floor."""
        if not coverages:
            return self
        # A quarter of the boxes, not half: on a page of short questions
        # (two to four options) answered in full, half the boxes may be marked.
        floor = float(np.percentile(coverages, NOISE_FLOOR_PERCENTILE))
        empty = max(self.empty, floor + self.noise_margin)
        return replace(self, empty=empty, marked=max(self.marked, empty + 0.03))


@dataclass(frozen=True)
class BoxMetrics:
    """What was measured of one box. Shares are 0..1."""

    coverage: float  # inked share of the box's inside
    ring: float  # inked share of the band RING_INNER_MM..RING_OUTER_MM outside it
    corners: float = 0.0  # inked share of the inside's four corners (a fill reaches them, a blob does not)
    white_pieces: int = 0  # separate white patches left inside a nearly full box (a heavy cross leaves four)
    speckle: float = 0.0  # share of the surroundings in specks too small for a pen stroke (scan noise)
    around: float = 0.0  # on a noisy patch, inked share of the band round the box, measured as ``coverage`` is
    stroke: float = 0.0  # reach of the largest connected stroke inside, as a share of the inside's side
    solid: float = 0.0  # share of the ink inside with ink all round it (3 x 3 px): a line 0.4 mm wide or more has some
    ring_solid: float = 0.0  # the same of the strokes round the box (a loop's line)
    stroke_core: int = 0  # darkness (0..255) of that stroke's darkest tenth
    stroke_crosses: bool = False  # that stroke crosses the box (not a hair along its border)
    stroke_depth: float = 0.0  # how far traced ink reaches in from the box's nearest edge (share of the side)
    traced: float = 0.0  # share of the inside traced at the light ink level (a pale fill covers it, a pale X a third)
    dotted_stroke: float = 0.0  # reach of a line of dots crossing the box (pencil broken up by black and white), share
    halo: tuple[float, ...] = ()  # inked share of the ring at each px of distance outside the border, to HALO_MM
    ring_hits: int = 0  # of RING_SECTORS angular sectors round it, those a stroke crosses (bit k: sector k)
    loose_hits: int = 0  # the same, dotted lines too, without ink that runs on into another box (its mark spilling over)
    border: tuple[float, ...] = ()  # inked share of the band along the printed border, per sector
    on_border: tuple[int, ...] = ()  # ink px beside the printed border (print taken out), per sector
    outline_darkness: float = 0.0  # mean darkness (0..255) of the band along the printed border

    @property
    def ring_sectors(self) -> int:
        return self.ring_hits.bit_count()

    @property
    def loose_sectors(self) -> int:
        return self.loose_hits.bit_count()

    offset_mm: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class BoxReading:
    code: str
    state: BoxState
    confidence: float
    coverage: float
    ring: float
    offset_mm: tuple[float, float] = (0.0, 0.0)
    ring_sectors: int = 0
    stroke: float = 0.0
    circled: bool = False
    loose_sectors: int = 0
    faded: bool = False  # its printed outline has faded from the scan
    outline: float = 1.0  # its printed outline's darkness, as a share of the page's typical outline
    crosses: bool = False  # its largest stroke crosses the box (a tick, cross, slash or dot; not a touch)
    corners: float = 0.0  # inked share of its inside's corners
    core: int = 0  # darkness (0..255) of its largest stroke's darkest tenth
    tone: float = 1.0  # a light box's stroke darkness as a share of this page's clear marks' (1: unknown)
    depth: float = 0.0  # how far its traced ink reaches in from the nearest edge (share of the side)
    speckle: float = 0.0  # share of its surroundings in specks (a noisy scan)
    around: float = 0.0  # on a noisy patch, inked share of the band round it, measured as its coverage is
    noisy: bool = False  # on a noisy patch, no more ink inside than the noise puts round it
    solid: float = 0.0  # share of its ink inside with ink all round it (none in a hair's line)
    ring_solid: float = 0.0  # the same of the strokes round it (a loop's line)

    @property
    def line_solid(self) -> float:
        """``solid`` of its mark's line: the loop's, if circled."""
        return self.ring_solid if self.circled else self.solid

    @property
    def pale(self) -> bool:
        """Light, and drawn much paler than this page's clear marks (show-through, a graze)."""
        return self.tone < PALE_SHARE


@dataclass(frozen=True)
class FieldReading:
    field_id: str
    value: str
    confidence: float
    flags: tuple[str, ...] = ()
    boxes: tuple[BoxReading, ...] = field(default_factory=tuple)

    @property
    def doubts(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f not in NOTE_FLAGS)


_OPENING = np.ones((2, 2), np.uint8)
_CLOSING = np.ones((3, 3), np.uint8)
_WIDE_OPENING = np.ones((3, 3), np.uint8)
# Joins the pieces of one stroke across print taken out (a rule or a box's
# border with its margin): gaps up to 1.75 mm.
_BRIDGE = np.ones((15, 15), np.uint8)
_DOT_JOIN = np.ones((3, 3), np.uint8)  # joins dots up to 2 px (0.25 mm) apart
_TEXT_MARGIN = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))  # print further out widened by 3 px more


def _px(value_mm: float) -> int:
    return int(round(value_mm * defs.READ_PX_PER_MM))


@functools.cache
def _frame_kernel() -> np.ndarray:
    """A box's printed outline, to find where the box really is."""
    size = _px(defs.BOX_SIZE_MM)
    kernel = np.zeros((size + 1, size + 1), np.float32)
    cv2.rectangle(kernel, (0, 0), (size, size), 1.0, thickness=2)
    return kernel - kernel.mean()


def locate_box(dark: np.ndarray, box: Rect) -> tuple[int, int, int]:
    """The box's top-left (x, y) in px after a local search for its printed
    outline, and its side in px."""
    x, y = _px(box[0]), _px(box[1])
    side = _px(defs.BOX_SIZE_MM)
    search = _px(defs.BOX_SEARCH_MM)
    y0, x0 = max(0, y - search), max(0, x - search)
    window = dark[y0 : y + side + search + 1, x0 : x + side + search + 1]
    kernel = _frame_kernel()
    if window.shape[0] < kernel.shape[0] or window.shape[1] < kernel.shape[1]:
        return x, y, side
    scores = cv2.matchTemplate(window.astype(np.float32), kernel, cv2.TM_CCORR)
    _, _, _, best = cv2.minMaxLoc(scores)
    return x0 + best[0], y0 + best[1], side


@dataclass(frozen=True)
class _Zones:
    """The fixed masks round a box of one size, for one ring gap (mm)."""

    near: np.ndarray  # within HALO_MM outside the border
    steps: np.ndarray  # px of distance outside the border, where ``near``
    ring: np.ndarray  # from the ring gap out
    outside: np.ndarray  # outside the border
    band: np.ndarray  # RING_INNER_MM..RING_OUTER_MM
    reach: np.ndarray  # within RING_REACH_MM
    along: np.ndarray  # beside the border, inside and out, past its halo
    outline: np.ndarray  # the border itself with a margin each side
    outline_counts: np.ndarray  # pixels of ``outline`` per sector
    wide_print: np.ndarray  # where labels and rules keep a wide margin


@functools.cache
def _zones(side: int, ring_gap_mm: float) -> _Zones:
    distance, sector, _ = _ring_geometry(side)
    near = (distance >= 0) & (distance < HALO_MM)
    bled = ring_gap_mm - RING_GAP_MM  # how much further this page's borders bled, both ways
    inner = (distance >= -BORDER_INNER_MM - bled) & (distance < -bled)
    outline = (distance >= -BORDER_INNER_MM) & (distance < BORDER_OUTER_MM)
    return _Zones(
        near,
        (distance[near] * defs.READ_PX_PER_MM).astype(np.int32),
        distance >= ring_gap_mm,
        distance >= 0,
        (distance >= RING_INNER_MM) & (distance < RING_OUTER_MM),
        distance < RING_REACH_MM,
        inner | ((distance >= ring_gap_mm) & (distance < BORDER_OUTER_MM)),
        outline,
        np.maximum(np.bincount(sector[outline], minlength=RING_SECTORS), 1),
        distance >= OUTLINE_ZONE_MM,
    )


@functools.cache
def _ring_geometry(side: int) -> tuple[np.ndarray, np.ndarray, int]:
    """For a window of the box plus RING_REACH_MM all round: each pixel's
    distance outside the box's border in mm (negative inside) and its angular
    sector around the box's centre; and the window's margin in px."""
    reach = _px(RING_REACH_MM)
    coords = np.arange(-reach, side + reach + 1, dtype=np.float32)
    ys, xs = np.meshgrid(coords, coords, indexing="ij")
    centre = side / 2
    outside = np.maximum(np.abs(xs - centre), np.abs(ys - centre)) - centre
    sector = ((np.arctan2(ys - centre, xs - centre) + np.pi) / (2 * np.pi) * RING_SECTORS).astype(np.int32)
    return outside / defs.READ_PX_PER_MM, np.minimum(sector, RING_SECTORS - 1), reach


def _stroke_reach(inside_dark: np.ndarray) -> tuple[float, int, bool, float, float]:
    """The largest connected stroke traced at the light ink level: its reach
    (share of the inside's side), its darkest tenth's darkness, and whether
    it crosses the box (spreads both ways and passes near the centre, as a
    tick, cross, slash or dot does; a hair along the border does not); then
    how far traced ink reaches in from the nearest edge (share of the side)
    and the share of the inside traced."""
    # Closing first joins a light stroke that a black-and-white scan broke into dashes.
    traced = cv2.morphologyEx((inside_dark > LIGHT_INK_LEVEL).astype(np.uint8), cv2.MORPH_CLOSE, _CLOSING)
    traced = cv2.morphologyEx(traced, cv2.MORPH_OPEN, _OPENING)
    if not traced.any():
        return 0.0, 0, False, 0.0, 0.0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(traced, connectivity=8)
    if count <= 1:
        return 0.0, 0, False, 0.0, 0.0
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    side = max(inside_dark.shape)
    width, height = stats[largest, cv2.CC_STAT_WIDTH], stats[largest, cv2.CC_STAT_HEIGHT]
    ys, xs = np.nonzero(labels == largest)
    crosses = _crosses(ys, xs, (width, height), inside_dark.shape)
    values = inside_dark[ys, xs]
    core = int(np.partition(values, int(0.9 * (values.size - 1)))[int(0.9 * (values.size - 1))])
    # How far into the box any traced ink reaches from its nearest edge (share of the side).
    h, w = inside_dark.shape
    all_ys, all_xs = np.nonzero(traced)
    depth = float(np.max(np.minimum(np.minimum(all_ys, h - 1 - all_ys), np.minimum(all_xs, w - 1 - all_xs)))) / side
    return float(max(width, height) / side), core, bool(crosses), round(depth, 3), float(traced.mean())


def _rim_px(inked: np.ndarray, most: int) -> tuple[int, int, int, int]:
    """How many lines deep, at most ``most``, ``inked`` (h, w) is inked
    along each of its edges (top, bottom, left, right): lines RIM_SHARE
    inked or more, the line past them nearly clear (under RIM_CLEAR,
    bands along the other edges left out); 0 where ink goes on inwards."""
    h, w = inked.shape
    # Each edge's lines as rows: top, bottom, left, right.
    sides = (inked, inked[::-1], inked.T, inked.T[::-1])
    limit = min(most, min(h, w) // 4)
    deep = []
    for lines in sides:
        depth = 0
        while depth < limit and float(lines[depth].mean()) >= RIM_SHARE:
            depth += 1
        deep.append(depth)
    top, bottom, left, right = deep
    across = ((left, w - right), (left, w - right), (top, h - bottom), (top, h - bottom))
    # Print ends in clear paper (the line just past the band may hold its
    # ragged edge); a blob or a fill goes on inwards.
    kept = [
        depth if depth and float(lines[depth + 1][a:b].mean()) < RIM_CLEAR else 0
        for lines, depth, (a, b) in zip(sides, deep, across, strict=True)
    ]
    return kept[0], kept[1], kept[2], kept[3]


def measure_box(
    dark: np.ndarray,
    added: np.ndarray,
    box: Rect,
    *,
    printed: np.ndarray | None = None,
    owner: np.ndarray | None = None,
    label: int = 0,
    found: tuple[int, int, int] | None = None,
    claimed: np.ndarray | None = None,
    spill_from: np.ndarray | None = None,
    ring_gap_mm: float = RING_GAP_MM,
) -> BoxMetrics:
    """Measure one box on the aligned page.

    ``dark`` and ``added`` are (H, W) uint8 darkness maps of the page and of
    the ink the printer did not put there. ``printed`` (H, W) uint8, the
    blank page's print widened only a little: round the box it is moved to
    where the box was found, so curled paper and a loop drawn tight round the
    box are told apart from print (without it, ``added`` is used). ``owner`` (H, W) uint16 optionally
    labels the pixels of every box's square (and a margin) with its number,
    so the marks inside a neighbour (``!= label``) are not counted round this
    box; ``claimed`` (H, W) bool marks ink already explained (a loop round a
    neighbour); ``spill_from`` (H, W) bool, the surroundings of neighbouring
    boxes with ink inside, whose strokes ``loose_sectors`` leaves out."""
    x, y, side = found or locate_box(dark, box)
    # A border that bled outwards bled inwards as much, up to what ink
    # spread does to a printed line; more "halo" than that is bold text or a
    # dirty patch round the boxes, and would leave no inside to measure.
    page_bleed = min(ring_gap_mm - RING_GAP_MM, MAX_BLEED_INSET_MM)
    inset = _px(INSET_MM + page_bleed)
    inside = dark[y + inset : y + side - inset + 1, x + inset : x + side - inset + 1]
    # Opening drops hairs and dust a pixel wide; pen strokes (>= 0.25 mm, 2 px) stay.
    inked_inside = cv2.morphologyEx((inside > INK_LEVEL).astype(np.uint8), cv2.MORPH_OPEN, _OPENING)
    # A border bolder here than on the page as a whole (the scan's lighting
    # darker on one side, thresholded to black and white) lines the inside
    # with a band of ink along that side: print, not a mark.
    top, bottom, left, right = _rim_px(inked_inside, _px(MAX_BLEED_INSET_MM - page_bleed))
    if top or bottom or left or right:
        inside = inside[top : inside.shape[0] - bottom, left : inside.shape[1] - right]
        inked_inside = inked_inside[top : inked_inside.shape[0] - bottom, left : inked_inside.shape[1] - right]
    coverage = float(inked_inside.mean()) if inked_inside.size else 0.0
    corners = _corner_share(inked_inside)
    stroke, core, crosses, depth, traced_share = _stroke_reach(inside) if inside.size else (0.0, 0, False, 0.0, 0.0)
    dotted = _dotted_reach(inside) if inside.size and stroke < STROKE_MARK_SPAN else 0.0
    white_pieces = _white_pieces(inked_inside) if coverage >= HEAVY_CROSS_FROM else 0
    ink_px = int(cv2.countNonZero(inked_inside)) if inked_inside.size else 0
    solid = cv2.countNonZero(cv2.erode(inked_inside, _WIDE_OPENING)) / ink_px if ink_px else 0.0
    distance, sector, reach = _ring_geometry(side)
    h, w = dark.shape
    y0, x0, y1, x1 = y - reach, x - reach, y + side + reach + 1, x + side + reach + 1
    cy0, cx0, cy1, cx1 = max(0, y0), max(0, x0), min(h, y1), min(w, x1)
    cut = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
    zones = _zones(side, round(ring_gap_mm, 3))
    whole = (cy0, cx0, cy1, cx1) == (y0, x0, y1, x1)
    if whole:
        z = zones
    else:  # a box at the page's edge: its zones cut to the page
        z = _Zones(
            zones.near[cut],
            (distance[cut][zones.near[cut]] * defs.READ_PX_PER_MM).astype(np.int32),
            zones.ring[cut],
            zones.outside[cut],
            zones.band[cut],
            zones.reach[cut],
            zones.along[cut],
            zones.outline[cut],
            np.maximum(np.bincount(sector[cut][zones.outline[cut]], minlength=RING_SECTORS), 1),
            zones.wide_print[cut],
        )
    sector = sector[cut]
    if printed is None:
        local_added = added[cy0:cy1, cx0:cx1]
    else:
        local_print = _shifted(printed, (cy0, cy1, cx0, cx1), (x - _px(box[0]), y - _px(box[1])))
        # Only the box's own outline is matched closely; labels and rules
        # further out keep a wider margin, since a scan's text is bolder or
        # thinner than the rendering and would otherwise leave ink round it.
        local_print = np.where(z.wide_print, cv2.dilate(local_print, _TEXT_MARGIN), local_print)
        local_added = cv2.subtract(dark[cy0:cy1, cx0:cx1], local_print)
    inked = local_added > INK_LEVEL
    halo_px = _px(HALO_MM)
    halo = np.bincount(z.steps[inked[z.near]], minlength=halo_px) / np.maximum(np.bincount(z.steps, minlength=halo_px), 1)
    ring_ink = (inked & z.ring).astype(np.uint8)
    ink, speckle = _strokes(ring_ink)
    # Dotted lines count where they run, as the band of their joined dots
    # (the dots alone are too sparse to fill a sector), but add no ink; on a
    # speckled patch the specks join into lines of their own.
    strokes_round = (ink | _dotted_lines(ring_ink, ink)) if speckle < DOTTED_MAX_SPECKLE else ink
    spill = np.zeros_like(inked)
    if spill_from is not None:
        # Strokes that run on into a neighbouring box with ink inside are that
        # box's mark spilling over (or a tick started in one box, ending in
        # the next). Pieces are joined across the thin gaps where print was
        # taken out (a stroke crossing a grid rule).
        source = spill_from[cy0:cy1, cx0:cx1]
        outside = inked & z.outside
        _, pieces = cv2.connectedComponents(cv2.dilate(outside.astype(np.uint8), _BRIDGE), connectivity=8)
        touching = np.unique(pieces[source])
        spill = np.isin(pieces, touching[touching > 0]) & outside
    foreign = np.zeros_like(ink)
    if owner is not None:
        region = owner[cy0:cy1, cx0:cx1]
        foreign = (region != 0) & (region != label)
    explained = foreign if claimed is None else foreign | claimed[cy0:cy1, cx0:cx1]
    ink &= ~explained
    strokes_round &= ~explained
    ring_px = int(np.count_nonzero(ink))
    ring_solid = float(np.count_nonzero(cv2.erode(ink.astype(np.uint8), _WIDE_OPENING))) / ring_px if ring_px else 0.0
    ring_share = float(ink[z.band].mean()) if z.band.any() else 0.0
    # On a noisy patch, the ink round the box measured as the inside is
    # (print and other boxes left out): what the noise alone puts in a box.
    zone = z.band & ~foreign
    around = 0.0
    if round(speckle, 4) >= NOISY_SPECK_SHARE and zone.any():
        around = float(cv2.morphologyEx(inked.astype(np.uint8), cv2.MORPH_OPEN, _OPENING)[zone].mean())
    # Only solid strokes make a loop an answer: dotted lines, and the
    # feathered ends they add to a neighbour's loop, can only raise doubt.
    hits = _sector_hits(ink & z.reach, sector)
    loose = _sector_hits(strokes_round & z.reach & ~spill, sector)
    # Along the border itself, print taken out: a loop drawn tight on the
    # box's outline shows there (inside at the corners, just outside at the
    # middle of each side).
    on_border = np.bincount(sector[z.along & inked & ~foreign & ~spill], minlength=RING_SECTORS)
    # ... and where it runs on the outline itself, it makes the outline
    # thicker than this page's boxes typically are there.
    outline_values = dark[cy0:cy1, cx0:cx1][z.outline]
    border_ink = outline_values > INK_LEVEL
    border = np.bincount(sector[z.outline][border_ink], minlength=RING_SECTORS) / z.outline_counts
    offset = ((x - box[0] * defs.READ_PX_PER_MM) / defs.READ_PX_PER_MM, (y - box[1] * defs.READ_PX_PER_MM) / defs.READ_PX_PER_MM)
    return BoxMetrics(
        coverage,
        ring_share,
        corners=corners,
        speckle=round(speckle, 4),
        around=round(around, 4),
        white_pieces=white_pieces,
        stroke=stroke,
        solid=solid,
        ring_solid=ring_solid,
        stroke_core=core,
        stroke_crosses=crosses,
        stroke_depth=depth,
        traced=traced_share,
        dotted_stroke=dotted,
        ring_hits=hits,
        loose_hits=loose,
        border=tuple(float(v) for v in border),
        on_border=tuple(int(v) for v in on_border),
        offset_mm=offset,
        outline_darkness=float(outline_values.mean()) if outline_values.size else 0.0,
        halo=tuple(float(v) for v in halo[:halo_px]),
    )


def _dotted_reach(inside_dark: np.ndarray) -> float:
    """The reach (share of the side) of a thin line a black-and-white scan
    broke into dots, where it crosses the box (``inside_dark``: the box's
    inside, (H, W) uint8 darkness): its dots, joined across gaps of a pixel
    or two, pass near the centre and spread both ways, and hold most of the
    box's ink. 0.0 when there is none."""
    # The dots are black (a threshold made them): a pale patch is no line of dots.
    ink = (inside_dark > INK_LEVEL).astype(np.uint8)
    if not ink.any():
        return 0.0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(ink, _DOT_JOIN), connectivity=8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    member = labels == largest
    if np.count_nonzero(member & ink.astype(bool)) < DOTTED_SHARE * np.count_nonzero(ink):
        return 0.0
    width, height = stats[largest, cv2.CC_STAT_WIDTH], stats[largest, cv2.CC_STAT_HEIGHT]
    ys, xs = np.nonzero(member)
    if not _crosses(ys, xs, (width, height), inside_dark.shape):
        return 0.0
    return float(max(width, height) / max(inside_dark.shape))


def _crosses(ys: np.ndarray, xs: np.ndarray, extent: tuple[int, int], shape: tuple[int, ...]) -> bool:
    """Whether a piece of ink (its pixels' rows ``ys`` and columns ``xs``,
    its (width, height) ``extent`` in px) crosses a box's inside of
    ``shape``: it spreads both ways and passes near the centre, as a tick,
    cross, slash or dot does; a hair along the border does not."""
    side = max(shape)
    centre = (np.array(shape) - 1) / 2
    near_centre = float(np.min(np.hypot(ys - centre[0], xs - centre[1]))) <= STROKE_CENTRE_SHARE * side
    return near_centre and min(extent) >= STROKE_SPREAD_SHARE * side


def _corner_share(inked: np.ndarray) -> float:
    """Inked share of the four CORNER_MM squares of a box's inside (``inked``: (H, W) uint8 0/1)."""
    if not inked.size:
        return 0.0
    c = _px(CORNER_MM)
    return float(np.mean([inked[:c, :c].mean(), inked[:c, -c:].mean(), inked[-c:, :c].mean(), inked[-c:, -c:].mean()]))


def _white_pieces(inked: np.ndarray) -> int:
    """Separate patches of paper left inside a box (``inked``: (H, W) uint8
    0/1), each at least WHITE_PIECE_SHARE of it: a cross drawn heavily
    leaves one between each pair of arms, a fill being done one at most."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(1 - inked, connectivity=4)
    return int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= WHITE_PIECE_SHARE * inked.size))


def _strokes(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """(H, W) bool: the pieces of a binary ink map (uint8 0/1) big enough to
    be pen strokes, and the share of the map in specks. Specks of dust and
    noise go; where the scan is so noisy that specks merge into pieces, a
    wider opening clears them (losing only the thinnest pen lines, on a page
    a person will look at anyway)."""
    opened = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _OPENING)
    if not opened.any():  # most boxes: nothing round them at all
        return opened.astype(bool), float(ink.mean())
    count, components, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA]
    specks = int(areas[1:][areas[1:] < RING_STROKE_MIN_PX].sum())
    if specks > NOISY_SPECK_SHARE * ink.size:
        opened = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _WIDE_OPENING)
        count, components, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
        areas = stats[:, cv2.CC_STAT_AREA]
    strokes = np.flatnonzero(areas >= RING_STROKE_MIN_PX)
    return np.isin(components, strokes[strokes > 0]), specks / ink.size


def _dotted_lines(ink: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """(H, W) bool: light pencil lines that a black-and-white scan broke
    into dots (``ink``: (H, W) uint8 0/1; ``strokes``: (H, W) bool, its
    pieces already big enough to be strokes), each dot too small to be a
    stroke but the dots in a row: joined across gaps of a pixel or two, they
    run a long and thin way and fill much of the band joining them. Specks
    of noise lie apart, clump, or chain up sparsely here and there: where
    most dots round the box are in no such line, none is believed."""
    loose = ink.astype(bool) & ~cv2.dilate(strokes.astype(np.uint8), _DOT_JOIN).astype(bool)
    if not loose.any():  # most boxes: no dots at all, or only whole strokes
        return loose
    joined = cv2.dilate(ink, _DOT_JOIN)
    count, components, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA]
    span = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    dots = np.bincount(components[ink.astype(bool)], minlength=count)
    lines = np.flatnonzero((span >= _px(DOTTED_SPAN_MM)) & (area <= DOTTED_THINNESS * span) & (dots >= DOTTED_DENSITY * area))
    found = np.isin(components, lines[lines > 0])
    if np.count_nonzero(loose & found) < DOTTED_SHARE * np.count_nonzero(loose):
        return np.zeros_like(found)
    return found


def _sector_hits(ink: np.ndarray, sector: np.ndarray) -> int:
    """The angular sectors holding a stroke's worth of ink, as a bit mask."""
    counts = np.bincount(sector[ink], minlength=RING_SECTORS)
    return sum(1 << int(k) for k in np.flatnonzero(counts >= SECTOR_MIN_PX))


def with_border(m: BoxMetrics, typical: tuple[np.ndarray, np.ndarray]) -> BoxMetrics:
    """Count as crossed, too, the sectors where a stroke runs along the box's
    outline: ink beside the printed border, or an outline much thicker than
    this page's boxes typically have there (``typical``: the page's median
    ``border`` and ``on_border``). A loop drawn tight on the outline shows
    only so."""
    if not m.border:
        return m
    typical_border, typical_beside = typical
    thick = np.asarray(m.border) - typical_border >= BORDER_EXCESS
    beside = np.asarray(m.on_border) - typical_beside >= BESIDE_MIN_PX
    if int(thick.sum()) >= BOLD_OUTLINE_SECTORS and m.ring_sectors + int(beside.sum()) < TIGHT_LOOP_EVIDENCE:
        # An outline thicker most of the way round with no stroke leaving it
        # anywhere is print scanned bolder than the page's typical box (whose
        # outlines faded elsewhere on the page), not a loop: a hand cannot
        # follow a square's corners, so a tight loop cuts them or runs outside.
        thick[:] = False
    extra = sum(1 << int(k) for k in np.flatnonzero(thick | beside))
    return replace(m, ring_hits=m.ring_hits | extra, loose_hits=m.loose_hits | extra)


def _shifted(image: np.ndarray, window: tuple[int, int, int, int], shift: tuple[int, int]) -> np.ndarray:
    """``image[y0:y1, x0:x1]`` as it lies when moved by ``shift`` (dx, dy) px;
    white (0) where the move brings in nothing."""
    y0, y1, x0, x1 = window
    dx, dy = shift
    out = np.zeros((y1 - y0, x1 - x0), image.dtype)
    h, w = image.shape
    sy0, sy1, sx0, sx1 = max(0, y0 - dy), min(h, y1 - dy), max(0, x0 - dx), min(w, x1 - dx)
    if sy1 > sy0 and sx1 > sx0:
        out[sy0 + dy - y0 : sy1 + dy - y0, sx0 + dx - x0 : sx1 + dx - x0] = image[sy0:sy1, sx0:sx1]
    return out


def classify(coverage: float, t: Thresholds) -> tuple[BoxState, float]:
    """State and confidence (0..1, from the distance to the nearest limit)."""

    def margin(distance: float, scale: float) -> float:
        return min(1.0, max(0.0, distance / scale))

    if coverage < t.empty:
        return "empty", margin(t.empty - coverage, t.empty)
    if coverage < t.marked:
        return "doubtful", 0.0
    if coverage < t.fill_doubt:
        return "marked", margin(min(coverage - t.marked, t.fill_doubt - coverage), 0.04)
    if coverage < t.filled:
        return "doubtful", 0.0
    return "filled", margin(coverage - t.filled, 0.1)


def by_stroke(state: BoxState, confidence: float, m: BoxMetrics, t: Thresholds) -> tuple[BoxState, float]:
    """Settle a light box from the shape of its ink: a connected stroke
    across the box is a mark however light the pen; specks are nothing; a
    long but very pale trace (bleed-through, a pencil barely touching) is
    for a person to see."""
    if m.coverage >= t.marked or t.empty > STROKE_TRUST_EMPTY:
        return state, confidence
    if (
        state != "marked"
        and not m.stroke_crosses
        and m.stroke_depth <= EDGE_TRACE_DEPTH
        and m.stroke_core < EDGE_TRACE_CORE
        and m.ring_sectors <= EDGE_TRACE_RING
    ):
        # Pale ink only along the inside of the printed outline, never
        # reaching into the box, and nothing round it: the outline blurred
        # by the scan (or its shadow), not a stroke. A loop drawn tight on
        # the outline wanders out of it somewhere.
        return "empty", 0.5 if state == "doubtful" else confidence
    if m.traced >= t.fill_doubt and m.stroke_core >= TRACE_CORE_LEVEL:
        # Light ink over the whole box: a fill in pencil (the form's
        # cancellation), not a stroke. A person looks. (Paler still is the
        # back page's print or a shadow showing through.)
        return "doubtful", 0.0
    if state == "empty" and m.dotted_stroke >= STROKE_MARK_SPAN:
        # A line of dots across the box: light pencil a black-and-white scan
        # broke up (or dust in a row). Never blank: a person looks.
        return "doubtful", 0.0
    long_stroke = m.stroke >= STROKE_MARK_SPAN
    if long_stroke and m.stroke_crosses and m.stroke_core >= STROKE_CORE_LEVEL:
        return "marked", LIGHT_STROKE_CONFIDENCE
    if long_stroke and state == "empty" and m.coverage >= t.empty / 2:
        return "doubtful", 0.0
    if state == "doubtful" and m.stroke < STROKE_NOISE_SPAN and m.ring_sectors == 0:
        return "empty", 0.5
    traced = long_stroke or (m.stroke >= STROKE_DOUBT_SPAN and m.stroke_crosses)
    if state == "empty" and traced and m.stroke_core >= TRACE_CORE_LEVEL:
        return "doubtful", 0.0
    return state, confidence


def _overflow(state: BoxState, confidence: float, m: BoxMetrics, t: Thresholds) -> tuple[BoxState, float]:
    """Ink inside the box that carries on past its border is a tick drawn too
    big: a mark when there is enough of both, doubt when there is a little."""
    if m.coverage >= t.empty / 2 and m.ring >= t.overflow_ring:
        return "marked", OVERFLOW_CONFIDENCE
    if m.coverage >= OVERFLOW_TRACE and m.ring >= t.overflow_ring * 0.6 and state == "empty":
        return "doubtful", 0.0
    return state, confidence


def box_reading(code: str, m: BoxMetrics, t: Thresholds) -> BoxReading:
    """One box's state from its metrics."""
    state, confidence = classify(m.coverage, t)
    if m.speckle >= NOISY_SPECK_SHARE and state != "empty" and m.coverage < max(NOISE_LIKE * m.around, m.around + t.marked):
        # On a noisy patch (heavy JPEG, a dirty glass, grey thresholded to
        # black and white), a box holding no more ink than the noise puts
        # round it: nothing was drawn there that stands out. Doubt, which a
        # clear answer beside it settles (``decide``).
        return replace(_reading(code, "doubtful", 0.0, m), noisy=True)
    if m.speckle >= NOISY_SPECK_SHARE and m.coverage < t.marked + SPECKLE_WEIGHT * m.speckle:
        # Specks all over the surroundings: a dirty or noisy patch of the
        # scan. Ink round the box is no loop there, and ink inside no more
        # than the noise would put there is no mark: a person looks. A clear
        # tick still reads.
        state = "doubtful" if m.coverage >= t.empty or m.ring_sectors >= RING_DOUBT_SECTORS else "empty"
        return _reading(code, state, 0.0 if state == "doubtful" else 0.5, m)
    if m.speckle >= NOISY_SPECK_SHARE and state in ("marked", "filled") and m.solid < HAIR_SOLID_SHARE:
        # Ink enough for a mark on a noisy patch, but specks, never a pen's
        # solid line: no answer by its amount, and not one that makes a
        # small tick beside it a stray touch. A person looks. (Hard stacks:
        # 37 such boxes read as marks, none was; the respondents' marks on
        # such patches are 0.15 solid and up. Nothing here is settled as
        # noise beside a clear answer: noise clumps as solid as a pen's
        # line make clear answers there too.)
        return _reading(code, "doubtful", 0.0, m)
    if state != "filled" and m.ring_sectors >= CIRCLE_SECTORS and m.speckle < NOISY_SPECK_SHARE:
        # A loop round the box (whatever is inside it apart from a fill):
        # the respondent's way of choosing this option.
        return _reading(code, "marked", 1.0, m, circled=True)
    if state != "marked" and m.coverage < t.marked:
        state, confidence = _overflow(state, confidence, m, t)
        state, confidence = by_stroke(state, confidence, m, t)
        if state == "doubtful" and m.dotted_stroke >= STROKE_MARK_SPAN > m.stroke:
            # Its stroke is the line of dots: no graze, whatever its shade.
            m = replace(m, stroke=m.dotted_stroke, stroke_crosses=True)
    elif state in ("doubtful", "filled") and m.coverage >= t.fill_doubt and m.corners < BLOB_CORNERS:
        # Nearly full but round, its corners left white: a blob, the
        # respondent's mark; a cancellation fills the box to its corners.
        state, confidence = "marked", LIGHT_STROKE_CONFIDENCE
    elif state == "doubtful" and m.coverage >= t.fill_doubt and m.white_pieces >= HEAVY_CROSS_PIECES:
        # Nearly full, but the paper left between its arms: a cross drawn
        # with a heavy pen (or thickened by the scan), not a fill.
        state, confidence = "marked", LIGHT_STROKE_CONFIDENCE

    return _reading(code, state, confidence, m)


def _reading(code: str, state: BoxState, confidence: float, m: BoxMetrics, *, circled: bool = False) -> BoxReading:
    return BoxReading(
        code,
        state,
        confidence,
        round(m.coverage, 4),
        round(m.ring, 4),
        _rounded(m.offset_mm),
        int(m.ring_sectors),
        round(float(m.stroke), 3),
        circled=circled,
        loose_sectors=m.loose_sectors,
        crosses=bool(m.stroke_crosses),
        corners=round(float(m.corners), 3),
        core=int(m.stroke_core),
        depth=m.stroke_depth,
        speckle=m.speckle,
        around=m.around,
        solid=round(m.solid, 3),
        ring_solid=round(m.ring_solid, 3),
    )


def _rounded(offset: tuple[float, float]) -> tuple[float, float]:
    return round(offset[0], 2), round(offset[1], 2)


def scanner_streaks(added: np.ndarray, covered: np.ndarray) -> list[np.ndarray]:
    """The streaks the scanner drew down the page: for each, its centre
    column on every row of the page (int). Dirt on a scanner's glass or
    sensor draws a thin straight line along the whole length of every page
    it feeds: darker than the paper either side (a dirty drum line), or,
    beside a brighter one, a fringe. No pen stroke runs straight through
    most of a page and its top and bottom. Seen on ``added`` (ink the
    printer did not put there, uint8); ``covered`` (H, W) bool, where print
    hides it."""
    h, w = added.shape
    side, band = _px(STREAK_SIDE_MM), _px(STREAK_BAND_MM)
    rows = h // band
    if w <= 2 * side + 2 or rows < 8:
        return []
    # Paper either side, near (a line's own width away) and further (clear of its blur).
    near = _px(STREAK_SIDE_MM / 2)
    beside = np.full_like(added, 255)
    beside[:, side:-side] = cv2.max(
        cv2.max(added[:, : -2 * side], added[:, 2 * side :]),
        cv2.max(added[:, side - near : w - side - near], added[:, side + near : w - side + near]),
    )
    thin: np.ndarray = np.asarray((cv2.subtract(added, beside) >= STREAK_CONTRAST)[: rows * band].reshape(rows, band, w).any(axis=1))
    hidden: np.ndarray = np.asarray(covered[: rows * band].reshape(rows, band, w).any(axis=1))
    # In bands a tilt is magnified by the band's height.
    tilt = float(np.arctan(np.tan(np.radians(STREAK_MAX_TILT_DEG)) * band))
    # Only ink that runs on into the bands above and below (within the tilt) can be a streak: not specks.
    wide = cv2.dilate(thin.astype(np.uint8), np.ones((1, 5), np.uint8))
    running = thin & (cv2.boxFilter(wide, -1, (1, 5), normalize=False, borderType=cv2.BORDER_CONSTANT) >= 4)
    found = cv2.HoughLines(
        np.ascontiguousarray(running.T, dtype=np.uint8),
        1,
        np.pi / 180,
        int(STREAK_SPAN / 2 * rows),
        min_theta=np.pi / 2 - tilt,
        max_theta=np.pi / 2 + tilt,
    )
    if found is None:
        return []
    band_rows = np.arange(rows)
    ends = max(1, int(STREAK_ENDS * rows))

    def seen(x: np.ndarray) -> np.ndarray:
        inside = (x >= 1) & (x < w - 1)
        out = np.zeros(rows, bool)
        r, c = band_rows[inside], x[inside]
        out[inside] = thin[r, c - 1] | thin[r, c] | thin[r, c + 1]
        return out

    streaks = []
    for rho, theta in found.reshape(-1, 2)[:20]:
        # Transposed, a band r and a column x lie on the line where r cos + x sin = rho;
        # refined to the thin ink found near it (the accumulator's steps are coarse).
        x = _refined(thin, (rho - band_rows * np.cos(theta)) / np.sin(theta), side)
        on = seen(x)
        along = on | hidden[band_rows, np.clip(x, 0, w - 1)]
        # A noisy patch has thin specks in every band, beside the line as much as on it.
        beside_rate = max(seen(x - 3 * side).mean(), seen(x + 3 * side).mean())
        if (
            on.mean() - beside_rate < STREAK_SPAN / 2
            or along.mean() < STREAK_SPAN
            or along[:ends].mean() < STREAK_ENDS_SEEN
            or along[-ends:].mean() < STREAK_ENDS_SEEN
        ):
            continue
        slope, offset = np.polyfit(band_rows, x, 1)
        streaks.append(np.rint(offset + slope * (np.arange(h) / band)).astype(np.int64))
    return streaks


def without_streaks(image: np.ndarray, streaks: list[np.ndarray]) -> np.ndarray:
    """``image`` (H, W) with each streak's band painted over by what lies
    either side of it (the lighter side, row by row): paper stays paper, a
    fill or a rule the streak crosses stays whole, and no ink beside the
    streak (a box's edge, a letter) is spread into it. A slanting stroke
    it crosses loses the band's width (0.9 mm)."""
    if not streaks:
        return image
    out = image.copy()
    h, w = image.shape
    near = _px(STREAK_SIDE_MM / 2)
    ys = np.arange(h)
    for centre in streaks:
        left = image[ys, np.clip(centre - near - 1, 0, w - 1)]
        right = image[ys, np.clip(centre + near + 1, 0, w - 1)]
        cols = np.clip(centre[:, None] + np.arange(-near, near + 1), 0, w - 1)
        out[ys[:, None], cols] = np.minimum(left, right)[:, None]
    return out


def _refined(thin: np.ndarray, x: np.ndarray, reach: int) -> np.ndarray:
    """The columns (one per band) of the straight line through the thin ink
    within ``reach`` px of the line ``x`` (float, one per band)."""
    rows, w = thin.shape
    offsets = np.arange(-reach, reach + 1)
    cols = np.clip(np.rint(x).astype(np.int64)[:, None] + offsets, 0, w - 1)
    near = thin[np.arange(rows)[:, None], cols]
    bands = np.flatnonzero(near.any(axis=1))
    if bands.size >= 2:
        # In each band, the inked column nearest the line.
        nearest = np.argmin(np.where(near[bands], np.abs(offsets), reach + 1), axis=1)
        slope, offset = np.polyfit(bands, cols[bands, nearest], 1)
        x = offset + slope * np.arange(rows)
    return np.rint(x).astype(np.int64)


def read_fields(
    dark: np.ndarray, added: np.ndarray, fields: list[FieldLayout], thresholds: Thresholds, *, printed: np.ndarray | None = None
) -> list[FieldReading]:
    """Measure every box of the page's choice fields, classify them against
    thresholds adapted to this page's empty boxes, and decide each field.
    ``printed``: see ``measure_box``."""
    choice = [f for f in fields if f.kind != "text"]
    streaks = scanner_streaks(added, printed > 0 if printed is not None else dark > added)
    # What a scanner drew down the page is neither print nor a mark.
    dark, added = without_streaks(dark, streaks), without_streaks(added, streaks)
    found = {(f.id, o.code): locate_box(dark, o.box) for f in choice for o in f.options}
    for fld in choice:
        found.update(stray_box_moved(fld, found))
    # Each box owns its square and a margin round it, so a loop round one box
    # is not confused with the marks inside its neighbours.
    owner = np.zeros(dark.shape, np.uint16)
    labels = {key: n for n, key in enumerate(found, start=1)}
    margin = _px(OTHER_BOX_MARGIN_MM)
    for key, (x, y, side) in found.items():
        owner[max(0, y - margin) : y + side + margin + 1, max(0, x - margin) : x + side + margin + 1] = labels[key]

    def measure(
        fid: str,
        option: OptionBox,
        *,
        claimed: np.ndarray | None = None,
        gap: float = RING_GAP_MM,
        spill_from: np.ndarray | None = None,
    ) -> BoxMetrics:
        return measure_box(
            dark,
            added,
            option.box,
            printed=printed,
            owner=owner,
            label=labels[(fid, option.code)],
            found=found[(fid, option.code)],
            claimed=claimed,
            spill_from=spill_from,
            ring_gap_mm=gap,
        )

    def territories(keys: set[tuple[str, str]], reach: int) -> np.ndarray:
        area = np.zeros(dark.shape, bool)
        for key in keys:
            x, y, side = found[key]
            area[max(0, y - reach) : y + side + reach + 1, max(0, x - reach) : x + side + reach + 1] = True
        return area

    def again(which: set[tuple[str, str]], **kwargs) -> dict[str, list[tuple[str, BoxMetrics]]]:
        return {
            f.id: [
                (o.code, measure(f.id, o, **kwargs) if (f.id, o.code) in which else m)
                for o, (_, m) in zip(f.options, measured[f.id], strict=True)
            ]
            for f in choice
        }

    measured = {f.id: [(o.code, measure(f.id, o)) for o in f.options] for f in choice}
    every = set(found)
    gap = ring_gap([m for items in measured.values() for _, m in items])
    if gap > RING_GAP_MM:
        measured = again(every, gap=gap)
    every_metric = [m for items in measured.values() for _, m in items if m.border]
    typical = (
        (np.median([m.border for m in every_metric], axis=0), np.median([m.on_border for m in every_metric], axis=0))
        if every_metric
        else (np.zeros(RING_SECTORS), np.zeros(RING_SECTORS))
    )

    def bordered(items: dict[str, list[tuple[str, BoxMetrics]]]) -> dict[str, list[tuple[str, BoxMetrics]]]:
        return {fid: [(code, with_border(m, typical)) for code, m in pairs] for fid, pairs in items.items()}

    measured = bordered(measured)
    metrics = {(fid, code): m for fid, items in measured.items() for code, m in items}
    # Ink round a circled box is explained: the boxes near it are measured
    # again without it, so a wide loop is not also half a loop round the
    # neighbour it passes. Then ink half way round a box may be a
    # neighbour's mark running on: leave out strokes from boxes with ink.
    circled = {k for k, m in metrics.items() if m.ring_sectors >= CIRCLE_SECTORS and m.coverage < thresholds.filled}
    doubt_from = CIRCLER_DOUBT_SECTORS if len(circled) >= CIRCLER_MIN_LOOPS else RING_DOUBT_SECTORS
    doubted = {k for k, m in metrics.items() if k not in circled and m.ring_sectors >= doubt_from}
    if doubted:
        claimed = territories(circled, _px(RING_REACH_MM)) if circled else None
        inked = territories({k for k, m in metrics.items() if m.coverage >= thresholds.empty}, margin)
        measured = bordered(again(doubted, claimed=claimed, gap=gap, spill_from=inked))
    page_t = thresholds.for_page([m.coverage for boxes in measured.values() for _, m in boxes])
    boxes = {fid: [box_reading(code, m, page_t) for code, m in items] for fid, items in measured.items()}
    # A box whose own printed outline has (nearly) vanished lies in a faded
    # streak of the scan: what was drawn there may have vanished with it.
    outline = float(np.mean(typical[0]))
    typical_darkness = max(float(np.median([m.outline_darkness for items in measured.values() for _, m in items])), 1.0)
    for fid, items in measured.items():
        boxes[fid] = [
            replace(
                b,
                outline=round(m.outline_darkness / typical_darkness, 3),
                faded=bool(m.border) and bool(np.mean(m.border) < FADED_OUTLINE * outline),
            )
            for b, (_, m) in zip(boxes[fid], items, strict=True)
        ]
    # Strokes cross box borders: with the print widened only a little, a
    # stroke's pieces either side of a border stay close enough to join.
    for fld in choice:
        if fld.kind == "single":
            boxes[fld.id] = _reached_over(
                dark,
                added if printed is None else printed,
                printed is not None,
                boxes[fld.id],
                {o.code: found[(fld.id, o.code)] for o in fld.options},
            )
    return decide_page(choice, boxes, page_t, print_faded=typical_darkness < FADED_PAGE_DARKNESS)


def decide_page(
    choice: list[FieldLayout], boxes: dict[str, list[BoxReading]], page_t: Thresholds, *, print_faded: bool = False
) -> list[FieldReading]:
    """Decide every choice question of a page (``choice``) from its boxes as
    measured and classified (``boxes``, by question id, against the page's
    thresholds ``page_t``): each question alone, then what the page as a
    whole says of them (the respondent's hand, light marks that may have
    lost others, ``print_faded``: a page whose print the scan all but lost).
    Pure: the same boxes give the same readings."""
    hand = respondent_hand([b for items in boxes.values() for b in items], page_t)
    boxes = pale_marks(boxes, hand.pen_core, page_t)
    readings = [decide(f, boxes[f.id], page_t, hand=hand) for f in choice]
    readings = _hairs_left_alone(readings, hand, page_t)
    readings = _traces_where_marks_are_light(readings, page_t)
    if any("faint" in r.flags or any(_barely_kept(b, page_t) for b in r.boxes) for r in readings):
        # Marks on this page are so light that some barely survived the scan:
        # a multiple-choice answer with a trace of ink in another box may
        # have lost that mark (a clean box says nothing was drawn there).
        readings = _may_have_lost(choice, readings, "faint-page", traced=True)
    if any(_edge_tick_read(b, page_t) for r in readings for b in r.boxes):
        # A respondent whose ticks run over the boxes' edges, little of them
        # inside: ink over another box's edge may be another such tick the
        # scan kept less of (hard seeds 22 and 41: two lost, one in a blank
        # question, one beside a multiple-choice answer).
        readings = [_doubted(r, "faint-page") if not r.doubts and _edge_trace(r) else r for r in readings]
    if print_faded:
        # The scan all but lost the page's print: marks may have gone with it.
        readings = _may_have_lost(choice, readings, "faded", traced=False)
    return readings


def _barely_kept(box: BoxReading, t: Thresholds) -> bool:
    """An answer of which the scan kept next to nothing: a light stroke with
    almost no ink. On its page other marks may not have survived at all."""
    return _read_from_light_stroke(box) and box.coverage < t.empty


def _read_from_thin_loop(box: BoxReading) -> bool:
    """An answer read from a loop round its box with less ink there than a
    lone loop's (``LONE_LOOP_INK``): drawn tight on the outline, or light."""
    return box.circled and box.confidence == LONE_LOOP_CONFIDENCE and box.ring < LONE_LOOP_INK


def _read_from_light_stroke(box: BoxReading) -> bool:
    """An answer read from the shape of a light stroke, not its ink
    (``LIGHT_STROKE_CONFIDENCE`` records how it was read)."""
    return box.state == "marked" and not box.pale and not box.circled and box.confidence == LIGHT_STROKE_CONFIDENCE


def _edge_tick_read(box: BoxReading, t: Thresholds) -> bool:
    """An answer read from a tick over its box's edge (``_lone_edge_tick``)
    or from a loop tight round it (``_read_from_thin_loop``), less than a
    mark's ink inside."""
    return (_read_from_light_stroke(box) or _read_from_thin_loop(box)) and box.coverage < t.marked and _runs_over_its_border(box)


def _edge_trace(reading: FieldReading) -> bool:
    """A box not read as an answer holding a little ink that runs over its
    border (hard stacks: 4 answers lost so on 7 stacks, beside ticks over
    other boxes' edges; where blank questions on such pages were doubted
    whatever their boxes held, office stacks held 58 right answers more for
    none)."""
    return any(b.state != "marked" and b.coverage > 0 and _runs_over_its_border(b) for b in reading.boxes)


def _hairs_left_alone(readings: list[FieldReading], hand: Hand, t: Thresholds) -> list[FieldReading]:
    """Blank questions whose only ink is a hair (``_lone_hair``) on a page
    whose every mark is clear are blank: a person looking at the paper sees
    dust on the glass, not a tick (office and hard stacks: 8 such
    questions, none answered). Where another mark on the page is light
    (a pen running dry) or doubtful, the hair may be what the scan left of a
    light tick, and stays looked at (hard stacks: 4 answered of 21)."""
    light = _light_readings(readings, t)
    hairs = [r for r in light if _lone_hair(r, hand, t)]
    if len(hairs) != 1 or len(light) != 1:
        return readings
    return [replace(r, flags=(), confidence=STRAY_CONFIDENCE) if r is hairs[0] else r for r in readings]


def _traces_where_marks_are_light(readings: list[FieldReading], t: Thresholds) -> list[FieldReading]:
    """A blank question with a trace of ink in one box (``_lone_trace``) on
    a page where another mark is light goes to a person (``faint``): the
    respondent's pen left little there, and the trace may be all the scan
    kept of a tick (hard stacks: 8 of 34 such traces were answers, most
    read blank unseen; office stacks had none on such pages). On a page of
    clear marks a trace is dust (office stacks: 32 such, 3 answers)."""
    light = _light_readings(readings, t)
    if not light:
        return readings
    return [_doubted(r, "faint") if _lone_trace(r) and any(o is not r for o in light) else r for r in readings]


def _lone_trace(reading: FieldReading) -> bool:
    """A question read blank with nothing to doubt whose only ink is a
    trace in one box: a little ink (``TRACE_COVERAGE``) in a stroke reaching
    some way in (``TRACE_STROKE``), every other box clean."""
    if reading.value or reading.flags:
        return False
    traced = [b for b in reading.boxes if b.coverage >= TRACE_COVERAGE and b.stroke >= TRACE_STROKE]
    return len(traced) == 1 and all(b.coverage == 0 and b.stroke == 0 for b in reading.boxes if b is not traced[0])


def _light_readings(readings: list[FieldReading], t: Thresholds) -> list[FieldReading]:
    """The questions holding a light mark (``_light``) that still counts:
    one read, or doubted. A hair ``_hairs_left_alone`` found to be dust no
    longer makes the page one of light marks."""
    return [r for r in readings if (r.value or r.flags) and any(_light(b, t) for b in r.boxes)]


def _light(box: BoxReading, t: Thresholds) -> bool:
    """Ink in a box that is neither nothing nor a clear mark of the page's pen."""
    return box.state == "doubtful" or (box.state == "marked" and (box.pale or box.coverage < CLEAR_MARK_FACTOR * t.marked))


def _lone_hair(reading: FieldReading, hand: Hand, t: Thresholds) -> bool:
    """A blank question held only for one box holding a hair (``_hair``)
    paler than the page's clear marks (told only where the scan kept their
    grey: ``INK_CLIPPED``)."""
    inked = [b for b in reading.boxes if b.state != "empty"]
    if reading.value or reading.flags != ("faint",) or len(inked) != 1:
        return False
    box = inked[0]
    return box.state == "doubtful" and box.tone < LONE_PALE_SHARE and 0 < hand.pen_core < INK_CLIPPED and _hair(box, hand.pen_solid, t)


def _may_have_lost(choice: list[FieldLayout], readings: list[FieldReading], reason: str, *, traced: bool) -> list[FieldReading]:
    """Doubt (``reason``) on the questions of a page where a mark may have
    vanished from the scan: a question left blank may be one whose mark did,
    and a multiple-choice answer may have lost one of its marks (where
    ``traced``, only one with a trace of ink inside an unmarked box)."""

    def lost(fld: FieldLayout, r: FieldReading) -> bool:
        answers = [b for b in r.boxes if b.state == "marked"]
        return not r.doubts and _may_hide_a_lost_mark(fld.kind, r.value, r.boxes, answers, traced=traced)

    return [_doubted(r, reason) if lost(f, r) else r for f, r in zip(choice, readings, strict=True)]


def _doubted(reading: FieldReading, reason: str) -> FieldReading:
    """``reading`` sent to a person for ``reason`` besides its own flags."""
    return replace(reading, flags=(*reading.flags, reason), confidence=0.0)


def _may_hide_a_lost_mark(
    kind: str, value: str, boxes: Sequence[BoxReading], answers: Sequence[BoxReading], *, traced: bool = True
) -> bool:
    """Whether a question read as ``value`` may be missing a mark the scan
    lost: left blank, or a multiple-choice answer (where ``traced``, only
    one with a trace of ink in another box, ``_trace_beside``)."""
    return not value or (kind == "multi" and (not traced or _trace_beside(boxes, answers)))


def stray_box_moved(
    fld: FieldLayout, found: dict[tuple[str, str], tuple[int, int, int]]
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """A box found far from where the rest of its question's boxes sit, they
    all in step: the search took a mark's heavy ink beside its outline for
    the print (curled paper moves neighbouring boxes together). It is put
    where its neighbours say. Returns the moved box, if any. (Of two
    boxes neither can be told to be the one misplaced: both lie equally
    far from their median.)"""
    offsets = np.array([(found[(fld.id, o.code)][0] - _px(o.box[0]), found[(fld.id, o.code)][1] - _px(o.box[1])) for o in fld.options])
    typical = np.median(offsets, axis=0)
    far = np.flatnonzero(np.abs(offsets - typical).max(axis=1) >= _px(STRAY_BOX_MM))
    if len(far) != 1:
        return {}
    option = fld.options[int(far[0])]
    side = found[(fld.id, option.code)][2]
    return {(fld.id, option.code): (_px(option.box[0]) + int(round(typical[0])), _px(option.box[1]) + int(round(typical[1])), side)}


def _reached_over(
    dark: np.ndarray, reference: np.ndarray, is_print: bool, boxes: list[BoxReading], found: dict[str, tuple[int, int, int]]
) -> list[BoxReading]:
    """A tick started in one box whose long arm ends in the next: one stroke
    joins the two boxes' ink, and the tick's knee (its lowest point) is in
    the box meant. The other box is not a second answer. Only on
    single-choice questions, where a second answer would void the question
    anyway; where the knee is not clearly in one box, both stay. The arm
    may leave only a trace in the second box (doubtful): the same holds.
    And the knee may leave only a trace in its box (too little ink to count),
    the arm crossing the next box: the ink says one box, the knee the other,
    and a person decides."""
    marked = [b for b in boxes if b.state == "marked" and not b.circled]
    touched = [b for b in boxes if b.state == "doubtful"]
    lows = functools.partial(_stroke_lows, dark, reference, is_print, found)
    if len(marked) == 1 and not touched:
        knees = [b for b in boxes if _knee_trace(marked[0], b, lows)]
        if not knees:
            return boxes
        return [replace(b, state="doubtful", confidence=0.0) if b is marked[0] or b in knees else b for b in boxes]
    if len(marked) == 2 and not touched:
        first, second = marked
    elif len(marked) == 1 and len(touched) == 1:
        first, second = marked[0], touched[0]
    else:
        return boxes
    depth = lows(first, second)
    if min(depth) < 0 or abs(depth[0] - depth[1]) < _px(KNEE_MARGIN_MM):
        return boxes
    reached = second if depth[0] > depth[1] else first
    return [replace(b, state="empty", confidence=STRAY_CONFIDENCE) if b is reached else b for b in boxes]


def _knee_trace(mark: BoxReading, box: BoxReading, lows: Callable[[BoxReading, BoxReading], tuple[float, float]]) -> bool:
    """Ink too little to count in ``box``, joined to ``mark``'s stroke and lower than it reaches there."""
    if box.state != "empty" or box.coverage <= 0:
        return False
    in_mark, in_box = lows(mark, box)
    return in_box > in_mark >= 0


def _stroke_lows(
    dark: np.ndarray,
    reference: np.ndarray,
    is_print: bool,
    found: dict[str, tuple[int, int, int]],
    first: BoxReading,
    second: BoxReading,
) -> tuple[float, float]:
    """How low (px from the box's top) one stroke joining the inked insides
    of two boxes reaches in each; (-1, -1) when no stroke joins them."""
    (ax, ay, side), (bx, by, _) = found[first.code], found[second.code]
    x0, y0 = max(0, min(ax, bx) - _px(1.0)), max(0, min(ay, by) - _px(1.0))
    x1, y1 = max(ax, bx) + side + _px(1.0), max(ay, by) + side + _px(1.0)
    # ``reference``: the print (taken out here) or, without it, the added ink.
    strokes = cv2.subtract(dark[y0:y1, x0:x1], reference[y0:y1, x0:x1]) if is_print else reference[y0:y1, x0:x1]
    ink = (strokes > INK_LEVEL).astype(np.uint8)
    # Join the stroke's pieces across the box borders the print took out.
    _, pieces = cv2.connectedComponents(cv2.dilate(ink, _BRIDGE), connectivity=8)
    inset = _px(INSET_MM)

    def inside(x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
        window = np.s_[y - y0 + inset : y - y0 + side - inset, x - x0 + inset : x - x0 + side - inset]
        return pieces[window], ink[window] > 0

    (a_pieces, a_ink), (b_pieces, b_ink) = inside(ax, ay), inside(bx, by)
    shared = (set(np.unique(a_pieces[a_ink])) & set(np.unique(b_pieces[b_ink]))) - {0}
    if not shared:
        return -1.0, -1.0
    piece = shared.pop()

    def low(p: np.ndarray, i: np.ndarray) -> float:
        return float(np.nonzero(((p == piece) & i).any(axis=1))[0].max(initial=-1))

    return low(a_pieces, a_ink), low(b_pieces, b_ink)


def ring_gap(metrics: list[BoxMetrics]) -> float:
    """How far outside the border loops are traced on this page (mm): past
    where the page's boxes typically still show ink, since a border that
    bled on a black-and-white or low-ink scan would otherwise read as a loop
    round every box."""
    profiles = np.array([m.halo for m in metrics if m.halo])
    if not profiles.size:
        return RING_GAP_MM
    typical = np.median(profiles, axis=0)
    bled = np.nonzero(typical >= HALO_SHARE)[0]
    if not bled.size:
        return RING_GAP_MM
    return max(RING_GAP_MM, (int(bled[-1]) + 1) / defs.READ_PX_PER_MM)


def pale_marks(boxes: dict[str, list[BoxReading]], pen_core: float, t: Thresholds) -> dict[str, list[BoxReading]]:
    """Mark as pale the light boxes whose strokes are much lighter than this
    page's clear marks (``pen_core``: how dark their strokes typically are,
    0 when too few to tell, see ``respondent_hand``): the back page's marks
    showing through, a pen grazing the paper. The respondent's own light
    ticks have the page's darkness, only less ink."""
    if not pen_core:
        return boxes
    clear = CLEAR_MARK_FACTOR * t.marked
    return {
        fid: [
            replace(b, tone=round(b.core / pen_core, 3))
            if b.state in ("marked", "doubtful") and not b.circled and b.coverage < clear
            else b
            for b in items
        ]
        for fid, items in boxes.items()
    }


@dataclass(frozen=True)
class Hand:
    """How this page's respondent marks answers, judged from all their marks on it."""

    blobs: bool = False  # fills boxes in (blobs): a nearly full box alone is an answer, not a cancellation
    square_fills: bool = False  # ... and the fills reach the boxes' corners as a cancellation does
    circles: bool = False  # draws loops round boxes: part of a loop round a blank question's box is doubted
    pen_solid: float = 0.0  # the ``line_solid`` its clear marks typically have (0: too few marks to tell)
    pen_core: float = 0.0  # the darkness (0..255) of its clear marks' strokes, typically (0: too few marks to tell)


def respondent_hand(boxes: list[BoxReading], t: Thresholds = Thresholds()) -> Hand:
    """The respondent's habits from the boxes of one page (noise left out)."""
    inked = [b for b in boxes if not b.noisy and (b.state in ("marked", "filled") or b.coverage >= 0.5)]
    blobs = len(inked) >= HEAVY_HAND_MIN_MARKS and float(np.median([b.coverage for b in inked])) >= HEAVY_HAND_COVERAGE
    heavy = [b.corners for b in inked if b.coverage >= HEAVY_HAND_COVERAGE]
    square = blobs and float(np.median(heavy)) >= BLOB_CORNERS
    pen = _pen_lines(boxes, t)
    pen_solid = float(np.median(pen)) if len(pen) >= PALE_MIN_MARKS else 0.0
    cores = [b.core for b in boxes if b.state in ("marked", "filled") and b.coverage >= CLEAR_MARK_FACTOR * t.marked and b.core]
    pen_core = float(np.median(cores)) if len(cores) >= PALE_MIN_MARKS else 0.0
    return Hand(blobs, square, circles=sum(b.circled for b in boxes) >= CIRCLER_MIN_LOOPS, pen_solid=pen_solid, pen_core=pen_core)


def _pen_lines(boxes: Sequence[BoxReading], t: Thresholds) -> list[float]:
    """``line_solid`` of the clear marks among ``boxes`` (ticks, crosses,
    blobs, loops): how wide the respondent's pen draws."""
    clear = CLEAR_MARK_FACTOR * t.marked
    return [b.line_solid for b in boxes if b.state == "marked" and (b.coverage >= clear or b.circled)]


def _answered_beside_fade(
    fld: FieldLayout, boxes: list[BoxReading], marked: list[BoxReading], doubtful: list[BoxReading], t: Thresholds, hand: Hand
) -> bool:
    """A single-choice question answered by one clear mark (a mark's ink,
    wherever in its box: a tick drawn in a corner crosses nothing) or loop
    outside a faded streak, the faded boxes holding no trace of ink in or
    round them (a lost tick's arm running on would leave one): what
    the fade may have taken would be a second answer, which the form does
    not allow; the answer on the paper is the stroke that is there. (A
    multiple-choice question, or a blank one, may have lost its answer; and
    a box filled half way into its corners (``_filled_half_way``) may be a
    cancellation whose new answer the fade took, unless the respondent's
    marks are such fills. A round blob or a thick cross covering as much is
    no cancellation: hard stacks held 65 such answers, all read right; and
    48 loops and 19 marks off centre, all read right.)"""
    if fld.kind != "single" or len(marked) != 1 or doubtful:
        return False
    mark = marked[0]
    inked = CLEAR_MARK_FACTOR * t.marked <= mark.coverage < t.fill_doubt and not _cancellation_begun(mark, hand)
    clear = not mark.faded and not mark.pale and (mark.circled or inked)
    untouched = all(b.coverage < t.empty / 2 and b.ring_sectors == 0 for b in boxes if b.faded)
    return clear and untouched


def _trace_beside(boxes: Sequence[BoxReading], answers: Sequence[BoxReading]) -> bool:
    """Ink inside a box that is not an answer: perhaps what the scan left of
    a mark (hard stacks: every multiple-choice answer that lost a mark to a
    faded or faint scan had one; a clean box says nothing was drawn)."""
    return any(b not in answers and (b.coverage > 0 or b.stroke > 0) for b in boxes)


def _no_mark_of_its_own(box: BoxReading, pen_solid: float, t: Thresholds) -> bool:
    """Ink in a box, beside a clear answer, that makes no mark of its own:
    not much of it, going no way round the box, and either a short stroke
    passing nowhere near the box's middle (a touch: a pen resting, a
    neighbour's stroke running on) or a line far thinner than the
    respondent's pen, whose clear marks' ``line_solid`` is ``pen_solid``
    (a hair on the glass or a scratch: a pen 0.3 mm wide or more leaves
    much of its line 3 px, 0.4 mm, across once scanned). A pencil's light
    lines are thin too: thinness is told only beside a pen's solid lines."""
    if not _slight(box, t):
        return False
    touch = not box.crosses and box.stroke < STROKE_MARK_SPAN
    return touch or _thinner_than_pen(box, pen_solid)


def _filled_half_way(box: BoxReading) -> bool:
    """A box filled in half way or more, as a cancellation begins: its ink
    a fill into the box's corners, not the lines of a thick cross covering
    as much, nor a blob."""
    return box.coverage >= HALF_FILL and box.solid >= FILL_SOLID and box.corners >= BLOB_CORNERS


def _cancellation_begun(box: BoxReading, hand: Hand) -> bool:
    """A box filled half way (``_filled_half_way``) by a respondent whose
    marks are not such fills: a cancellation begun, its new answer perhaps
    elsewhere."""
    return not hand.blobs and _filled_half_way(box)


def _slight(box: BoxReading, t: Thresholds) -> bool:
    """Little ink, going no way round its box: too little to be a mark by
    its amount alone."""
    return not box.circled and box.loose_sectors < RING_DOUBT_SECTORS and box.coverage < CLEAR_MARK_FACTOR * t.marked


def _thinner_than_pen(box: BoxReading, pen_solid: float) -> bool:
    """A line far thinner than a solid pen's (``pen_solid``: the share of
    its lines' ink 3 px across): a hair on the glass or a scratch. Beside a
    pencil's thin lines nothing is told thinner."""
    return pen_solid >= PEN_SOLID_SHARE and _hair_thin(box)


def _hair_thin(box: BoxReading) -> bool:
    """A line whose ink is hardly ever 3 px across: a hair's or a
    scratch's width, not a pen's."""
    return box.solid < HAIR_SOLID_SHARE


def _hair(box: BoxReading, pen_solid: float, t: Thresholds) -> bool:
    """A hair on the glass or a scratch: a line far thinner than the pen
    (``_thinner_than_pen``) with little ink, through nothing and round
    nothing."""
    return _slight(box, t) and not box.crosses and _thinner_than_pen(box, pen_solid)


def _hair_alone(box: BoxReading, hand: Hand, t: Thresholds) -> bool:
    """A mark that is only a thin line (little ink, not round its box) on a
    page whose clear marks were drawn with a solid pen, much thinner than
    that pen's lines."""
    return not box.circled and box.coverage < CLEAR_MARK_FACTOR * t.marked and _thinner_than_pen(box, hand.pen_solid)


def _pale_trace(box: BoxReading) -> bool:
    """Ink too light or too short to read as a mark that is still a stroke
    reaching half across the box and into it (not the outline's blur).

    How dark a trace must be to be worth a look follows the box's printed
    outline (``outline``, 1 where drawn as dark as the page's typical box):
    a fade streak lightens the print and a mark under it alike, so there
    the trace may be lighter, down to the fade at which a blank question is
    doubted anyway (``FADED_DARKNESS``)."""
    fade = min(max(box.outline, FADED_DARKNESS), 1.0)
    reaches_in = box.stroke >= STROKE_DOUBT_SPAN and box.depth > EDGE_TRACE_DEPTH
    return box.state == "empty" and reaches_in and box.core >= TRACE_CORE_LEVEL * fade


def _ink_reaching_in(box: BoxReading, t: Thresholds) -> bool:
    """A box read empty that holds more ink than the page's empty limit
    (``t.empty``), its traced ink reaching in from the edge further than
    the outline's blur does: pieces of a stroke, each too short to be read
    as one (``by_stroke``)."""
    return box.state == "empty" and box.coverage > t.empty and box.depth > EDGE_TRACE_DEPTH


def _tight_loop_trace(box: BoxReading) -> bool:
    """Dark ink inside an empty box whose outline is drawn much darker than
    the page's other boxes': what a loop tight on the outline leaves."""
    return box.state == "empty" and box.coverage > 0 and box.core >= TIGHT_LOOP_CORE and box.outline >= TIGHT_LOOP_OUTLINE


def _print_scanned_bolder(box: BoxReading, boxes: Sequence[BoxReading]) -> bool:
    """Nothing round ``box`` but its outline drawn thicker, as thick as an
    untouched box's in the question: the print of a column of boxes scanned
    bolder, not a loop drawn tight on this one."""
    return (
        box.ring == 0.0
        and box.outline >= TIGHT_LOOP_OUTLINE
        and any(
            other is not box and other.state == "empty" and other.ring_sectors == 0 and other.outline >= BOLD_PRINT_MATCH * box.outline
            for other in boxes
        )
    )


def _lone_edge_tick(boxes: list[BoxReading], t: Thresholds) -> BoxReading | None:
    """The only ink in the question: a box too little inked to read, whose
    ink is a line a pen's width (not a hair's) running out across the box's
    border. A small tick drawn off centre, over a corner or an edge: its
    answer (office and hard stacks: 120 such boxes on 21 stacks, every one
    an answer; dust and hairs are thin or cross the border once or twice).
    Ink paler than the page's clear marks is still doubted as show-through
    (``decide``'s pale marks)."""
    inked = [b for b in boxes if b.coverage > 0 or b.ring_sectors > 0 or b.stroke > 0]
    if len(inked) != 1:
        return None
    box = inked[0]
    slight = box.state == "doubtful" and box.coverage < t.marked
    if slight and _runs_over_its_border(box) and not _hair_thin(box):
        return box
    return None


def _own_light_stroke(box: BoxReading) -> bool:
    """A whole stroke across the box, or one running out over its border,
    only a little lighter than the page's clear marks (``LONE_PALE_SHARE``)."""
    return box.tone >= LONE_PALE_SHARE and ((box.crosses and box.stroke >= STROKE_MARK_SPAN) or _runs_over_its_border(box))


def _runs_over_its_border(box: BoxReading) -> bool:
    """Ink crossing the box's border in several places: a stroke drawn over
    its edge or corner (dust and a pen's graze cross it once or twice)."""
    return box.loose_sectors >= EDGE_TICK_SECTORS


def _lone_loop(boxes: list[BoxReading]) -> BoxReading | None:
    """The only ink in the question: whole strokes at least half way round
    one box, with real ink there (a loop left open, a big tick drawn over
    the box), and nothing else in or round the others. That box is the
    answer, as a closed loop is (hard and office stacks: 21 such, all right;
    a hairline or dots that far round are not enough, 1 of 29 wrong)."""
    inked = [b for b in boxes if b.state != "empty" or b.loose_sectors >= CIRCLER_DOUBT_SECTORS]
    if len(inked) != 1 or inked[0].state not in ("empty", "doubtful") or inked[0].circled:
        return None
    box = inked[0]
    if min(box.ring_sectors, box.loose_sectors) >= LONE_LOOP_SECTORS and box.ring >= LONE_LOOP_INK:
        return box
    return None


def _lone_tight_loop(boxes: list[BoxReading], t: Thresholds) -> BoxReading | None:
    """The only ink in the question: a loop drawn tight on one box's outline
    (``_tight_loop_trace``) that cuts the box's corners or runs out of its
    outline here and there, or one drawn so with a light pen
    (``_light_tight_loop``), the other boxes printed as the page's typical
    box. That box is the answer, as a loop drawn wider is."""
    inked = [b for b in boxes if b.state != "empty" or b.coverage > 0 or b.loose_sectors >= CIRCLER_DOUBT_SECTORS]
    if len(inked) != 1:
        return None
    box = inked[0]
    # Print scanned unevenly (a bolder column, a fade) makes outlines differ
    # for want of any loop, and a fade may have taken the real answer.
    if any(other is not box and (other.outline >= TIGHT_LOOP_OUTLINE or other.faded) for other in boxes):
        return None
    if _tight_loop_trace(box):
        return box if box.corners >= TIGHT_LOOP_CORNERS or box.ring_sectors >= TIGHT_LOOP_RING else None
    return box if _light_tight_loop(box, t) else None


def _light_tight_loop(box: BoxReading, t: Thresholds) -> bool:
    """A loop drawn tight round the box with a light pen: less than a mark's
    ink inside, strokes along or across its border all round
    (``LIGHT_LOOP_SECTORS``), cutting its corners, its outline drawn darker."""
    return (
        not box.circled
        and box.coverage < t.marked  # not filled either
        and min(box.ring_sectors, box.loose_sectors) >= LIGHT_LOOP_SECTORS
        and box.corners >= LIGHT_LOOP_CORNERS
        and box.outline >= LIGHT_LOOP_OUTLINE
    )


def decide(fld: FieldLayout, boxes: list[BoxReading], thresholds: Thresholds, *, hand: Hand = Hand()) -> FieldReading:
    """What a choice question says, with the reasons for any doubt.

    Doubt flags send the answer to a person; note flags (``NOTE_FLAGS``)
    record how a clear answer was given."""
    if hand.blobs:
        # This respondent's marks are blobs: a nearly full box is one of
        # them. A box filled out to its corners is still the form's way of
        # taking an answer back, unless the blobs themselves fill corners.
        boxes = [
            replace(b, state="marked")
            if b.coverage >= thresholds.fill_doubt and (b.state != "filled" or b.corners < BLOB_CORNERS or hand.square_fills)
            else b
            for b in boxes
        ]
    lone = _lone_loop(boxes) or _lone_tight_loop(boxes, thresholds)
    if lone is not None:
        boxes = [replace(b, state="marked", confidence=LONE_LOOP_CONFIDENCE, circled=True) if b is lone else b for b in boxes]
    edge_tick = _lone_edge_tick(boxes, thresholds)
    if edge_tick is not None:
        boxes = [replace(b, state="marked", confidence=LIGHT_STROKE_CONFIDENCE) if b is edge_tick else b for b in boxes]
    marked = [b for b in boxes if b.state == "marked"]
    filled = [b for b in boxes if b.state == "filled"]
    doubtful = [b for b in boxes if b.state == "doubtful"]
    # Pale ink beside a clear answer is not this respondent's pen: in a
    # single-choice question it is a stray, and so is a short pale stroke
    # that crosses nothing (a graze), or ink as pale as show-through, in a
    # multiple-choice one. Otherwise, and always when nothing else in the
    # question is clear, a person looks: it may be all a black-and-white
    # scan left of a light mark (hard stacks: D3 read blank).
    answered = any(not b.pale for b in marked)
    inked = [b for b in boxes if b.state != "empty"]
    # The only ink in the question, a whole stroke across one box (or one
    # running out over its border, a tick drawn off centre) only a little
    # lighter than the page's clear marks: the respondent's own light hand,
    # not show-through (far paler) nor a graze (short, crossing the border
    # once or twice). (An office stack with careless marks: two such ticks
    # at 0.87 of the page's darkness held; hard and office stacks' stored
    # pages decided again: 7 fewer right answers held, no wrong one more.)
    # So is a loop round one box, the only ink in the question, paler than
    # the page's clear marks but no ghost of the back page's (independently
    # generated stacks: a blue loop tight round a box at 0.80 of the page's
    # darkness held).
    own_light = (
        inked[0]
        if fld.kind == "single"
        and len(inked) == 1
        and inked[0].state == "marked"
        and (_own_light_stroke(inked[0]) or (inked[0].circled and inked[0].tone >= GHOST_SHARE))
        else None
    )

    def pale(b: BoxReading) -> bool:
        return b.pale and b is not own_light

    # ... unless a clear mark is a box filled half way: a cancellation half
    # done, whose new answer may be that paler stroke (hard seed 22: a pale
    # cross beside a half-filled box dropped, the half fill read as the
    # answer).
    not_pale = [b for b in marked if not b.pale]
    half_filled = fld.kind == "single" and any(_cancellation_begun(b, hand) for b in not_pale)
    strays = [
        b
        for b in doubtful + marked
        if answered
        and not half_filled
        and pale(b)
        and (
            fld.kind == "single"
            or b.tone < GHOST_SHARE
            # a graze stays in its box; a stroke running out of it may be a
            # tick whose arm lies outside (hard stacks: one read as nothing)
            or (b.stroke < STROKE_DOUBT_SPAN and not b.crosses and b.loose_sectors < RING_DOUBT_SECTORS)
        )
    ]
    doubtful += [b for b in marked if pale(b) and b not in strays]
    marked = [b for b in marked if not pale(b)]
    clearest = max((b.coverage for b in marked if b.coverage >= CLEAR_MARK_FACTOR * thresholds.marked), default=0.0)
    circled = any(b.circled for b in marked)
    if fld.kind == "single" and (clearest or circled) and (clearest < HALF_FILL or hand.blobs):
        # Beside a clear mark, a light touch (a speck, a pen resting) is not
        # a second answer: two real marks differ in ink by less than 1.5x.
        # Only for single choice: there a second answer is void anyway. A
        # loop's ink is round its box, not in it: measured there.
        clear_ink = max([clearest, *(b.ring for b in marked if b.circled)])
        strays += [
            b
            for b in doubtful + marked
            if not b.circled
            and b not in strays
            and b.loose_sectors < RING_DOUBT_SECTORS
            and not (b.crosses and b.stroke >= STROKE_MARK_SPAN)
            and b.coverage < clear_ink
            and (
                b.coverage < thresholds.marked / 2
                or (b.coverage < CLEAR_MARK_FACTOR * thresholds.marked and clear_ink >= STRAY_RATIO * b.coverage)
            )
        ]
    pen_solid = max([hand.pen_solid, *_pen_lines(marked, thresholds)])
    if fld.kind == "single" and (clearest or circled):
        # A short stroke that neither passes through its box nor goes round
        # it is no tick: beside a clear answer it is a touch (a pen resting,
        # a neighbour's stroke running on), even beside a box so full it
        # may be a cancellation half done (office stacks with loops, slashes
        # and blobs: 3 clean forms held, all read right). So is a line far
        # thinner than the pen of the page's clear marks or of this answer,
        # wherever it runs: a hair on the glass. Not beside a box filled
        # half way, though, if it holds a mark's ink: there it may be the
        # new answer of a cancellation half done (hard seed 23: a slash
        # broken by the scan dropped, the half fill read as the answer);
        # nor is a line thin there, a fill saying nothing of the pen.
        thin_beside = 0.0 if half_filled else pen_solid
        strays += [
            b
            for b in doubtful + marked
            if b not in strays
            and _no_mark_of_its_own(b, thin_beside, thresholds)
            and not (half_filled and b.coverage >= thresholds.marked)
        ]
    if fld.kind == "multi" and clearest:
        # Beside clear answers to a multiple-choice question, a line far
        # thinner than their pen that does not pass through its box is a
        # hair on the glass, not another answer (hard and office stacks: 12
        # such lines, none an answer; of 18 such lines across their box, 3
        # were answers: a person still looks at those).
        strays += [b for b in doubtful + marked if b not in strays and _hair(b, pen_solid, thresholds)]
    if fld.kind == "single" and clearest and len([b for b in marked if b not in strays]) == 1:
        # Beside a clear answer, boxes on a noisy patch holding no more ink
        # than the noise round them: the noise, not a second answer (which
        # would void the question anyway).
        strays += [b for b in doubtful if b.noisy and b not in strays]
    doubtful = [b for b in doubtful if b not in strays]
    marked = [b for b in marked if b not in strays]
    flags: list[str] = []
    confidence = min([b.confidence for b in boxes if b not in strays] + ([STRAY_CONFIDENCE] if strays else []), default=1.0)
    if doubtful:
        faint = [b for b in doubtful if b.coverage < thresholds.fill_doubt]
        flags.append("faint" if faint else "unclear-fill")
    if filled:
        # The form's way to take an answer back: fill the box, tick another.
        # Done so, the other mark is the answer; with no mark left, or with
        # other doubt, a person decides.
        flags.append("cancelled")
        if not marked and not doubtful:
            flags.append("unclear-cancel")
    if any(b.circled for b in marked):
        flags.append("circled")
    value = join_codes([b.code for b in marked])
    if fld.kind == "single" and len(marked) > 1:
        flags.append("multiple")
    if fld.kind == "single" and len(marked) == 1 and not doubtful and _hair_alone(marked[0], hand, thresholds):
        # A single-choice answer that is only a line far thinner than the
        # page's pen: a hair on the glass read as the answer, or an answer
        # the scan lost beside it (hard stacks: 8 of 36 such answers were
        # a blank question's; office stacks had 1, a blank question's).
        flags.append("faint")
    if fld.kind == "multi" and clearest and any(_slight(b, thresholds) and _hair_thin(b) for b in marked):
        # Beside clear answers to a multiple-choice question, an answer that
        # is only a hair-thin line with little ink: a hair or a stray line
        # read as another answer, or a light mark the scan all but lost. A
        # person looks, whatever the page's pen (an office seed no one tuned
        # on: a thin dark line beside two pencil crosses read as a third
        # answer unseen; 19 stacks' stored pages decided again: 2 wrong
        # answers held, no form held that was not already).
        flags.append("faint")
    if fld.kind == "multi" and fld.max_choices and len(marked) > fld.max_choices:
        flags.append("over-max")
    # Beside a clear answer to a single-choice question, ink a third of the
    # way round another box is a stray stroke; half way round, a person looks.
    # A respondent who circles answers elsewhere on the page may have
    # circled here too, the loop lost in part: a blank question with a
    # quarter of a loop round a box is doubted.
    beside_clear = fld.kind == "single" and bool(clearest) and bool(marked)
    if beside_clear:
        doubt_from = RING_DOUBT_BESIDE_CLEAR
    elif hand.circles and not marked and not doubtful:
        doubt_from = CIRCLER_DOUBT_SECTORS
    else:
        doubt_from = RING_DOUBT_SECTORS

    def around(b: BoxReading) -> int:
        # Dots in a row count towards a loop only where they may be the
        # answer (a pencil loop a black-and-white scan broke up): beside a
        # clear answer to a single-choice question only whole strokes do
        # (hard stacks: 26 doubts from dots there, every answer right).
        return min(b.loose_sectors, b.ring_sectors) if beside_clear else b.loose_sectors

    rings = sorted(
        (
            b
            for b in boxes
            if not b.circled
            and b.state in ("empty", "doubtful")
            and around(b) >= doubt_from
            and not (b.noisy and b in strays)
            and not _print_scanned_bolder(b, boxes)
        ),
        key=around,
        reverse=True,
    )
    if rings:
        # Ink half way round a box: a loop drawn loosely, or a neighbour's
        # mark spilling over. A person looks; with nothing else in the
        # question, the most circled box is proposed.
        flags.append("outside-box")
        if not marked and (len(rings) == 1 or around(rings[0]) > around(rings[1])):
            value = rings[0].code
    # A light mark in a box whose print the scan drew much lighter may have
    # vanished with it: in a blank question, or beside the answers to a
    # multiple-choice one where a trace of ink is left.
    in_fade = any(b.outline < FADED_DARKNESS for b in boxes if b not in marked)
    if (any(b.faded for b in boxes) and not _answered_beside_fade(fld, boxes, marked, doubtful, thresholds, hand)) or (
        in_fade and _may_hide_a_lost_mark(fld.kind, value, boxes, marked)
    ):
        flags.append("faded")
    if not value and not flags and any(_pale_trace(b) or _ink_reaching_in(b, thresholds) for b in boxes):
        # Nothing read in the question but what the scan left of a mark it
        # lost most of: a light stroke reaching half across a box and into
        # it (a light pencil tick; office and hard stacks: 2 of 5 such
        # questions were answered, none held a clean form more; traces
        # lighter still under a fade streak: 9 on 24 stacks, all answers,
        # two a light pencil's crosses read blank unseen), or more ink than
        # the page's empty boxes hold, reaching in from the edge in pieces
        # too short to read as a stroke (dust that big is rare; stored pages
        # of hard and office stacks: 12 such questions, 6 answered). A
        # person looks.
        flags.append("faint")
    if not value and not flags and any(_tight_loop_trace(b) or b.corners >= LOOP_CORNERS_TRACE for b in boxes):
        # Nothing read, but a box drawn round on its outline, or its inside
        # corners cut by a loop: a person looks.
        flags.append("outside-box")
    elif fld.kind == "multi" and value and not flags and any(_tight_loop_trace(b) for b in boxes if b not in marked):
        # ... or beside the answers to a multiple-choice question: a further
        # answer circled tight (in a single-choice one it would be void, and
        # columns of boxes printed bolder are common there).
        flags.append("outside-box")
    if any(max(abs(d) for d in b.offset_mm) >= MISALIGNED_OFFSET_MM for b in boxes):
        # A printed box found only at the edge of its search window: this part
        # of the page is not where the markers say (curled or creased paper),
        # so what was measured may be a neighbour's box.
        flags.append("misaligned")
    if any(f not in NOTE_FLAGS for f in flags):
        confidence = 0.0
    return FieldReading(fld.id, value, round(confidence, 3), tuple(flags), tuple(boxes))
