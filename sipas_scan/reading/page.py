"""One scanned page, start to finish: identify, register, read.

``read_page`` is the per-page task the pipeline runs in worker processes:
pure apart from OCR, it returns a PageResult that crosses back to the single
writer. A page that cannot be trusted is returned quarantined with a reason
code, never raised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.layout import FormLayout, Marker, PageLayout, marker_rects, qr_rect, survey_and_layout
from sipas_scan.printing.codes import PageCode, Secret
from sipas_scan.reading.comments import CommentReading, read_comment
from sipas_scan.reading.identify import find_codes, identify, symbol_rect_mm
from sipas_scan.reading.lines import erase_feed_lines
from sipas_scan.reading.marks import FieldReading, Thresholds, read_fields
from sipas_scan.reading.printed import (
    MIN_WORD_CONFIDENCE,
    PrintedIdentity,
    Unidentified,
    forms_surveys,
    read_page_number,
    read_printed_identity,
)
from sipas_scan.reading.reference import added_ink, darkness, local_print_tolerance, page_likeness, printed_darkness
from sipas_scan.reading.register import (
    Failed,
    Registration,
    detect_markers,
    project,
    rect_corners,
    register,
    scale_of,
    warp_to_layout,
)
from sipas_scan.reading.structure import align_from_structure, coarse_homography, frame_homography, rough_registration
from sipas_scan.survey.loader import SurveyDefinitionError

STORED_JPEG_QUALITY = 80
BLANK_INK_SHARE = 0.002  # a page with less ink than this is a blank back side
# A page's print matches its own blank page this well (correlation at 1 px/mm)
# and this much better than any other page's: on 25 hard-scan pages whose
# printed number or serial was illegible, the right page scored 0.38-0.84,
# the next best at least 0.2 lower.
CLEAR_LIKENESS = 0.3
LIKENESS_MARGIN = 0.12
# A page with neither markers nor code is tried as this many of the pages its
# print looks most like (each way up), likeliest first: on hard stacks the
# right page of form pages whose four markers a far off-centre feed cut off
# was among the first three 8 times in 10, and aligned (0.01-0.07 mm).
FRAME_CANDIDATES = 3
TRUSTED_RESIDUAL_MM = 0.25  # four markers agreeing this well pin the page; otherwise the printed structure checks it
# Quarantine reasons of a page whose code verified: its form knows of it.
UNREADABLE_IDENTIFIED = ("markers-not-found", "poor-alignment")


@dataclass(frozen=True)
class ReadOptions:
    secret: Secret
    survey: str | None = None  # only accept this survey's forms
    thresholds: Thresholds = Thresholds()
    run_ocr: bool = True


@dataclass
class PageResult:
    status: str  # ok | quarantined
    reason: str = ""
    detail: str = ""
    survey: str = ""
    serial: str = ""
    page_no: int = 0
    orientation: int = 0
    residual_mm: float = 0.0
    markers: tuple[int, ...] = ()
    dpi: float = 0.0
    fields: list[FieldReading] = field(default_factory=list)
    comments: list[CommentReading] = field(default_factory=list)
    image_jpeg: bytes = b""
    identified_by: str = "code"  # code (signed, verified) | print (serial printed on the page, unverified) | stack
    # A page whose serial did not read but whose page is known (survey and
    # page_no set, its marks read): what each printed serial line read most
    # often, seven digits valid or not, to check where the stack places it.
    serial_digits: tuple[str, ...] = ()
    # ... and for such a page whose page is not known either, (survey, page)
    # of the pages its print looks like, likeliest first.
    likely_pages: tuple[tuple[str, int], ...] = ()


def _jpeg(gray: np.ndarray, max_side: int | None = None) -> bytes:
    if max_side and max(gray.shape) > max_side:
        scale = max_side / max(gray.shape)
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, STORED_JPEG_QUALITY])
    return data.tobytes() if ok else b""


def _is_blank(gray: np.ndarray) -> bool:
    small = gray[::4, ::4]  # every 16th pixel is plenty to tell a blank page
    paper = np.percentile(small, defs.PAPER_PERCENTILE)
    return float((small < paper * 0.6).mean()) < BLANK_INK_SHARE


def read_page(gray: np.ndarray, dpi: float, options: ReadOptions) -> PageResult:
    if _is_blank(gray):
        return PageResult("quarantined", "blank-page", "the page is blank (a back side?)", dpi=dpi, image_jpeg=_jpeg(gray, 1200))
    gray = erase_feed_lines(gray)
    markers = detect_markers(gray)
    payloads = find_codes(gray)
    # Every marker cut off or lost and no code read: a stray sheet, or a form
    # page fed far off-centre, which its print still places.
    by_markers = _ByMarkers(gray, markers, options, _align_by_print(gray, options) if not payloads and not markers else None)
    if not payloads and (markers or by_markers.start is not None):
        # Look again where the code is printed: markers and code sit in the
        # same place on every survey's pages.
        registration = by_markers.registration
        if registration:
            payloads = find_codes(gray, project(rect_corners(qr_rect()), registration))
    identified = identify(payloads, options.secret, options.survey)
    if not identified:
        reason = identified.reason
        if reason == "no-code" and not markers and by_markers.start is None:
            reason, detail = "not-a-form", "no form code, no corner markers and no form's print: not a page of a form"
        elif reason == "no-code":
            printed = _printed_identity(gray, markers, by_markers, options)
            if printed:
                # The code is unreadable (torn, inked over, bled), but what is
                # printed on the page names it: read it, marked as unverified.
                code = PageCode(printed.survey, printed.serial, printed.page)
                result = read_identified_page(gray, dpi, code, markers, options, start=by_markers.start)
                result.identified_by = "print"
                if result.status == "ok":  # a page set aside keeps why it was
                    result.detail = f"identified by the serial printed on it: {printed.detail}"
                return result
            detail = f"{identified.detail}; serial printed on the page: {printed.reason} ({printed.detail})"
            if isinstance(printed, Unidentified):
                unplaced = _read_unidentified(gray, dpi, markers, by_markers, options)
                if unplaced is not None:
                    unplaced.status, unplaced.reason, unplaced.detail = "quarantined", reason, detail
                    unplaced.serial_digits = tuple(d for d in printed.digits if d)
                    return unplaced
        else:
            detail = identified.detail
        return PageResult("quarantined", reason, detail, markers=tuple(sorted(markers)), dpi=dpi, image_jpeg=_jpeg(gray, 1600))
    code_corners = None
    if identified.corners is not None and len(markers) < 3:
        # Only a page short of markers aligns by the code's corners; where the
        # symbol was printed costs an encoding of its payload to find.
        code_corners = (rect_corners(symbol_rect_mm(identified.payload, qr_rect())), identified.corners)
    return read_identified_page(gray, dpi, identified.code, markers, options, code_corners, start=by_markers.start)


def _align_by_print(gray: np.ndarray, options: ReadOptions) -> Registration | None:
    """Where a page lies that has neither markers nor code, from its print
    alone: taken to fill the scan either way up, it is aligned as each of
    the ``FRAME_CANDIDATES`` pages its print then looks most like in turn
    (``align_from_structure``); the first whose boxes and rules are found
    where it lies gives the registration. None when none is: a stray sheet
    (its print is no form's), or a page too damaged to tell."""
    height, width = gray.shape
    scored = []
    for turns in (0, 2) if height >= width else (1, 3):
        start = frame_homography((height, width), turns)
        dark = darkness(warp_to_layout(gray, Registration(start, (), math.inf, 90 * turns, scale_of(start))))
        scored += [(score, start, page) for score, _, page in _page_scores(dark, options)]
    scored.sort(key=lambda item: item[0], reverse=True)
    for _, start, page in scored[:FRAME_CANDIDATES]:
        aligned = align_from_structure(gray, page, start)
        if aligned:
            return aligned
    return None


def _marker_registration(markers: dict[int, np.ndarray]) -> Registration | Failed:
    """Where the page lies, from its corner markers alone (the same place on
    every survey's pages): exact from three or four, to a few mm from one
    or two (enough to find the code or the printed serial)."""
    registration = register(markers, marker_rects())
    return registration if registration else rough_registration(markers, marker_rects())


class _ByMarkers:
    """Where the corner markers alone put a page (``_marker_registration``),
    the page warped there, and the pages its print looks like there,
    likeliest first (``_likely_pages``): each worked out once, when first
    needed (looking for the code again, reading the printed serial, reading
    a page without one all start from them)."""

    def __init__(
        self, gray: np.ndarray, markers: dict[int, np.ndarray], options: ReadOptions, by_print: Registration | None = None
    ) -> None:
        self._gray, self._markers, self._options = gray, markers, options
        self._by_print = by_print

    @property
    def start(self) -> np.ndarray | None:
        """Where the page's print put a page without markers (``_align_by_print``), for its reading to start from."""
        return self._by_print.homography if self._by_print is not None else None

    @cached_property
    def registration(self) -> Registration | Failed:
        if not self._markers and self._by_print is not None:
            return self._by_print
        return _marker_registration(self._markers)

    @cached_property
    def aligned(self) -> np.ndarray:
        """The page warped by ``registration`` (which must have succeeded)."""
        registration = self.registration
        assert isinstance(registration, Registration)
        return warp_to_layout(self._gray, registration)

    @cached_property
    def likely(self) -> tuple[tuple[str, PageLayout], ...]:
        return tuple(_likely_pages(darkness(self.aligned), self._options))


def _printed_identity(
    gray: np.ndarray, markers: dict[int, np.ndarray], by_markers: _ByMarkers, options: ReadOptions
) -> PrintedIdentity | Failed:
    """Survey, serial and page from the text printed on a page whose code
    could not be read; the markers (the same place on every survey's pages)
    put the text where the layout printed it. With one or two markers the
    page lies only roughly there: it is aligned by the printed structure of
    each page the form could be, and the page whose structure fits must be
    the page the text names."""
    registration = by_markers.registration
    if not registration:
        return registration
    aligned = by_markers.aligned
    found = _read_printed(aligned, options)
    exact = math.isfinite(registration.residual_mm)
    if exact and not found and found.reason in ("serials-disagree", "page-out-of-range"):
        return found
    anchors = _marker_anchors(markers, marker_rects())
    candidates = list(by_markers.likely)
    named = (found.survey, found.page) if found and _names_a_likely_page(found, candidates) else None
    if named and exact:
        return found
    if named:
        # Placed only roughly: the page the text names stands if its boxes
        # and rules are where that page has them; it is tried first.
        candidates.sort(key=lambda candidate: (candidate[0], candidate[1].number) != named)
    # The page lies only roughly where the markers say (text read there may
    # be cut or misread: "4/4" read "4/6" names another survey's page, a
    # footer serial read one digit off disagrees with the header), or its
    # page number is illegible: which page it is shows in its print (boxes
    # and tables differ from page to page), and its serial is read knowing
    # that, on the page as the markers place it when they pin it, else
    # aligned by that page's printed structure.
    # Print that clearly looks like one page is that page, whatever its
    # number reads.
    sure = len(candidates) == 1
    for survey_id, page in candidates:
        _, layout = survey_and_layout(survey_id)
        if exact:
            reading = read_printed_identity(
                aligned, survey=survey_id, page_count=layout.page_count, known_page=page.number, structure_sure=sure
            )
            if reading:
                return reading
        refined = align_from_structure(gray, page, registration.homography, anchors=anchors)
        if refined and (survey_id, page.number) == named:
            return found
        if refined:
            return read_printed_identity(
                warp_to_layout(gray, refined),
                survey=survey_id,
                page_count=layout.page_count,
                known_page=page.number,
                structure_sure=sure,
            )
    return found


def _read_unidentified(
    gray: np.ndarray, dpi: float, markers: dict[int, np.ndarray], by_markers: _ByMarkers, options: ReadOptions
) -> PageResult | None:
    """A page neither its code nor its printed text identified (``Unidentified``),
    read as the one page it can be (its print clearly that page's, or its legible "Trang
    k/N" naming one page of one survey), so that its place in the stack can
    give it its form (``assembly.placement``); when the page is not known,
    not read but with the pages it looks like, likeliest first (the stack
    may tell which); None when the markers place it nowhere or it does not
    align as the page it is."""
    registration = by_markers.registration
    if not registration:
        return None
    likely = list(by_markers.likely)
    candidates = likely
    number = read_page_number(by_markers.aligned) if len(candidates) > 1 else None
    legible = number if isinstance(number, tuple) and number[2] >= MIN_WORD_CONFIDENCE else None
    if legible is not None:
        candidates = [
            (survey_id, page)
            for survey_id, page in candidates
            if page.number == legible[0] and survey_and_layout(survey_id)[1].page_count == legible[1]
        ]
    elif len(candidates) > 1 and not math.isfinite(registration.residual_mm):
        # Placed only roughly (one or two markers), the print may look like
        # several pages: the page is the one whose boxes and rules are
        # where the page lies (of ten pages tried on a coarse scan, one
        # aligned to 0.13 mm, none of the others found its features).
        anchors = _marker_anchors(markers, marker_rects())
        candidates = [
            (survey_id, page)
            for survey_id, page in candidates
            if align_from_structure(gray, page, registration.homography, anchors=anchors)
        ]
    if len(candidates) != 1:
        return PageResult(
            "quarantined",
            markers=tuple(sorted(markers)),
            dpi=dpi,
            image_jpeg=_jpeg(gray, 1600),
            likely_pages=tuple((survey_id, page.number) for survey_id, page in likely),
        )
    survey_id, page = candidates[0]
    code = PageCode(survey_id, "", page.number)
    result = read_identified_page(gray, dpi, code, markers, options, page_known=legible is not None, start=by_markers.start)
    return result if result.status == "ok" else None


def _names_a_likely_page(found: PrintedIdentity, candidates: list[tuple[str, PageLayout]]) -> bool:
    """Whether the page the printed text names may be the page printed
    there: any page may when the print looks like several, only that one
    when it clearly looks like one (a survey's name too small to read
    leaves the survey to "Trang k/N", and "2/4" misread "2/6" names another
    survey's page 2)."""
    return len(candidates) > 1 or (found.survey, found.page) == (candidates[0][0], candidates[0][1].number)


def _page_scores(dark: np.ndarray, options: ReadOptions) -> list[tuple[float, str, PageLayout]]:
    """How much a page, as ``dark`` (its darkness map on the reading grid)
    shows it, looks like each page of the surveys it may be of
    (``page_likeness``): (score, survey, page)."""
    scored = []
    for survey_id in [options.survey] if options.survey else list(forms_surveys()):
        _, layout = survey_and_layout(survey_id)
        scored += [(score, survey_id, page) for score, page in zip(page_likeness(dark, layout), layout.pages, strict=True)]
    return scored


def _likely_pages(dark: np.ndarray, options: ReadOptions) -> list[tuple[str, PageLayout]]:
    """The pages a page of unknown number may be, likeliest first: only the
    likeliest when its print matches clearly better than any other page's."""
    scored = sorted(_page_scores(dark, options), key=lambda item: item[0], reverse=True)
    if len(scored) > 1 and scored[0][0] >= CLEAR_LIKENESS and scored[0][0] - scored[1][0] >= LIKENESS_MARGIN:
        scored = scored[:1]
    return [(survey_id, page) for _, survey_id, page in scored]


def _read_printed(aligned: np.ndarray, options: ReadOptions) -> PrintedIdentity | Failed:
    found = read_printed_identity(aligned, survey=options.survey)
    if found or found.reason != "survey-unknown":
        return found
    # The survey's name is small print that a poor scan loses: try each
    # survey the printed page count fits, and take the one that reads.
    readings = []
    for survey_id in forms_surveys():
        _, layout = survey_and_layout(survey_id)
        reading = read_printed_identity(aligned, survey=survey_id, page_count=layout.page_count)
        if reading:
            readings.append(reading)
    return readings[0] if len(readings) == 1 else found


def _marker_anchors(markers: dict[int, np.ndarray], printed: Sequence[Marker]) -> tuple[np.ndarray, np.ndarray] | None:
    """(layout mm, image px) of the corners of the markers found."""
    used = [m for m in printed if m.id in markers]
    if not used:
        return None
    return np.concatenate([rect_corners(m.rect) for m in used]), np.concatenate([markers[m.id] for m in used])


def align(
    gray: np.ndarray,
    layout: FormLayout,
    page_no: int,
    markers: dict[int, np.ndarray],
    code_corners: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    page_known: bool = True,
    start: np.ndarray | None = None,
) -> Registration | Failed:
    """The page's registration: from its corner markers (with the code's
    corners when two are lost); where they are lost or disagree, from the
    printed structure (boxes, rules) starting from whatever markers and code
    corners were found. Only a page that aligns badly every way fails.
    ``page_known``: its code or print named the page (see
    ``align_from_structure``). ``start``: a rough homography layout mm ->
    image px to start from where neither markers nor code give one."""
    registration = register(markers, layout.markers, code_corners)
    trusted = len(markers) == len(layout.markers) and registration.residual_mm <= TRUSTED_RESIDUAL_MM if registration else False
    if trusted:
        return registration
    # Three markers leave the fourth corner to extrapolation, and markers
    # that disagree say the paper is not flat: check against the whole
    # printed page, and take whichever fits better.
    coarse = registration.homography if registration else coarse_homography(markers, layout.markers, code_corners)
    if coarse is None:
        coarse = start
    if coarse is None:
        return registration
    anchors = _marker_anchors(markers, layout.markers)
    if code_corners is not None:
        # The code's corners pin the page where its markers are lost.
        anchors = (
            code_corners
            if anchors is None
            else (np.concatenate([anchors[0], code_corners[0]]), np.concatenate([anchors[1], code_corners[1]]))
        )
    refined = align_from_structure(gray, layout.pages[page_no - 1], coarse, anchors=anchors, page_known=page_known)
    if not refined:
        if registration and registration.residual_mm <= defs.MAX_ALIGNMENT_RESIDUAL_MM:
            return registration
        return registration if registration else Failed(registration.reason, f"{registration.detail}; {refined.detail}")
    return replace(refined, markers_found=tuple(sorted(markers)))


def read_as(gray: np.ndarray, dpi: float, code: PageCode, options: ReadOptions) -> PageResult:
    """A scanned page read as the page ``code`` names, whatever is printed
    on it (its feed lines erased and its markers found as ``read_page``
    does): for a page the stack placed whose page was not known."""
    gray = erase_feed_lines(gray)
    markers = detect_markers(gray)
    by_print = None if markers else _align_by_print(gray, options)
    start = by_print.homography if by_print is not None else None
    return read_identified_page(gray, dpi, code, markers, options, page_known=False, start=start)


def read_identified_page(
    gray: np.ndarray,
    dpi: float,
    code: PageCode,
    markers: dict[int, np.ndarray],
    options: ReadOptions,
    code_corners: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    page_known: bool = True,
    start: np.ndarray | None = None,
) -> PageResult:
    """Read a page whose identity is known: from its verified code, or from a
    reviewer who read the serial off a page whose code was damaged.
    ``page_known`` False: the page is only what its place or its look
    suggests, and must align as that page to be read as it (``align``).
    ``start``: where its print put a page without markers or code."""
    try:
        _, layout = survey_and_layout(code.survey)
    except SurveyDefinitionError:
        return PageResult(
            "quarantined",
            "unknown-survey",
            f"no survey definition '{code.survey}' in forms/",
            survey=code.survey,
            serial=code.serial,
            page_no=code.page,
            dpi=dpi,
            image_jpeg=_jpeg(gray, 1600),
        )
    base = PageResult("ok", survey=code.survey, serial=code.serial, page_no=code.page, markers=tuple(sorted(markers)), dpi=dpi)
    if not 1 <= code.page <= layout.page_count:
        base.status, base.reason = "quarantined", "unknown-page"
        base.detail = f"page {code.page} of a {layout.page_count}-page form"
        return base
    registration = align(gray, layout, code.page, markers, code_corners, page_known=page_known, start=start)
    if isinstance(registration, Failed):
        base.status, base.reason, base.detail = "quarantined", registration.reason, registration.detail
        base.image_jpeg = _jpeg(gray, 1600)
        return base
    base.orientation, base.residual_mm = registration.orientation, round(registration.residual_mm, 3)
    aligned = warp_to_layout(gray, registration)
    base.image_jpeg = _jpeg(aligned)
    if registration.residual_mm > defs.MAX_ALIGNMENT_RESIDUAL_MM:
        base.status, base.reason = "quarantined", "poor-alignment"
        base.detail = f"markers disagree by {registration.residual_mm:.2f} mm (page bent or torn?)"
        return base
    dark = darkness(aligned)
    added = added_ink(dark, printed_darkness(layout, code.page))
    page = layout.pages[code.page - 1]
    base.fields = read_fields(
        dark,
        added,
        list(page.fields),
        options.thresholds,
        printed=printed_darkness(layout, code.page, local_print_tolerance(registration.px_per_mm)),
    )
    base.comments = [read_comment(f, added, run_ocr=options.run_ocr) for f in page.fields if f.kind == "text"]
    return base
