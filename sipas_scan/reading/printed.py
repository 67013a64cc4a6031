"""A page's identity from its printed header and footer, for when its QR code cannot be read.

Every printed page says in type which form it belongs to: the serial in the
header ("Số phiếu: 0000018") and again in the footer ("Số phiếu 0000018"),
the page number in the footer's centre ("Trang 2/4") and the survey id and
version at the footer's left (render.py ``_draw_form_details``, layout.py
``_finish``). A page whose QR code is torn, scribbled over or blurred past
decoding still aligns from its corner markers; this module reads those texts
from the aligned page with Tesseract so the page can still be filed.

Printed text carries no signature, so what is read is checked instead: the
serial's Luhn digit, the header and footer agreeing (two different valid
serials fail: one is a misread or the page was tampered with; two invalid
readings are mended only where one valid serial is one digit from both), the page
number read twice alike and inside the form's page count, and the survey id
being exactly one we know. Anything short of that is a falsy ``Failed`` with
a reason, never a guess.

Pure function of the aligned page apart from the OCR engine.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import final

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.printing.codes import serial_is_valid
from sipas_scan.reading import ocr
from sipas_scan.reading.ocr import OcrResult
from sipas_scan.reading.register import Failed
from sipas_scan.reading.spans import runs

# ---- where the layout prints the identity ----------------------------------

HEADER_SERIAL_BASELINE_MM = defs.HEADER_SERIAL_BASELINE_MM
HEADER_SERIAL_SIZE_PT = defs.HEADER_SERIAL_SIZE_PT
HEADER_SERIAL_WIDTH_MM = 41.0  # "Số phiếu: 0000000", DejaVu Sans Bold 11 pt: 40.9 mm
FOOTER_SERIAL_SIZE_PT = defs.FONT_SIZE_HEADER_PT
FOOTER_SERIAL_WIDTH_MM = 32.5  # "Số phiếu 0000000" at 9 pt: 32.2 mm, right-aligned
FOOTER_PAGE_SIZE_PT = defs.FONT_SIZE_HEADER_PT
FOOTER_PAGE_HALF_WIDTH_MM = 11.0  # "Trang 12/12" at 9 pt: 21.5 mm, centred
FOOTER_SURVEY_SIZE_PT = defs.FONT_SIZE_SMALL_PT
FOOTER_SURVEY_RIGHT_MM = defs.PAGE_WIDTH_MM / 2 - 14.0  # stops short of "Trang k/N"

# How far text on an aligned page may sit from where the layout puts it:
# the registration residual (at most defs.MAX_ALIGNMENT_RESIDUAL_MM), paper
# stretch, printer offset. Crops reach this far beyond the text.
MISALIGNMENT_MM = 2.0
# A line's ink reaches about one em above its baseline (accents over
# capitals) and under a third of an em below (descenders).
ASCENT_EM = 1.0
DESCENT_EM = 0.3
CAP_HEIGHT_EM = 0.73  # digits and capitals of DejaVu Sans
# Gaps in the ink's rows up to this size separate letters from their
# accents, not lines (header lines are 1.4 mm apart).
LINE_GAP_MM = 0.5
# Gaps in the ink's columns wider than this separate the line's text from
# stray marks beside it (a word space is a third of an em).
WORD_GAP_EM = 1.0
# A dark component taller than this is no glyph: a corner marker reaching
# into the crop, a pen stroke, a fold.
MAX_GLYPH_HEIGHT_EM = 1.2
DENOISE_SIGMA_PX = 0.7  # see _find_line
MIN_SPECK_PX = 2  # smaller blobs are scanner noise (a 7.5 pt full stop is ~4 px)
MIN_INK_CONTRAST = 60  # grey levels between paper and the darkest ink; less: nothing printed
# Ink is what is darker than paper by this fraction of the paper-to-ink
# range: nearer paper than Otsu's split, so thin or blurred strokes survive.
INK_THRESHOLD_FRACTION = 0.4
OCR_PAD_EM = 0.5  # white around the line: Tesseract misreads glyphs touching the edge

# Lines are enlarged so capitals are this high before OCR. Measured on 300
# randomly degraded pages: serials read as well at the grid's own 18-23 px
# as at 30 px (within 2 %), but page numbers read once at 18 px came out
# wrong 5 times, at 30 px never. The page number has no check digit, so it
# is read again at a second size and both readings must agree.
TARGET_CAP_HEIGHT_PX = 30.0
CONFIRM_CAP_HEIGHT_PX = 36.0
# The small survey text reads best larger; a second try with a lighter
# threshold rescues faint print: (cap height px, ink threshold fraction).
SURVEY_ATTEMPTS = ((36.0, 0.4), (30.0, 0.3))
# Word confidence (0-100) below which a reading counts as unreadable.
MIN_WORD_CONFIDENCE = 50
# A serial that does not read at once is read these other ways (cap height
# px, ink threshold fraction); this many readings must give the same valid
# serial, and none another. On 16 hard-scan pages that failed, 3 read so,
# each right; a serial read validly only once or twice was wrong as often.
SERIAL_RETRIES = tuple((size, fraction) for fraction in (0.25, 0.4, 0.55) for size in (24.0, 30.0, 40.0))
SERIAL_VOTES = 3
# A coarse black-and-white scan spreads toner: digits come out bold, their
# counters closed (an 8 read as 6, a 0 lost in a blob). The serial alone is
# read again thinned by these many px (at 8 px/mm; the spread reaches 2):
# of 55 pages of a hard black-and-white stack that neither code nor print
# identified, 15 then gave their serial, each a neighbour's in the stack.
THINNING_PX = (1, 2)
# The serial is the line's last word: the label ends at least a space (about
# a third of an em) before it, the digits are closer together. Read alone,
# digits only, it survives blur that makes the whole line unreadable: of 12
# hard-scan pages quarantined without a code, 4 then gave a serial by vote.
NUMBER_GAP_EM = 0.3
SERIAL_ALPHABET = "0123456789"
PAGE_NUMBER_ALPHABET = "0123456789/"
# A page number known from the page's printed structure is sure (0-100).
KNOWN_PAGE_CONFIDENCE = 100.0
# One readable serial (the other covered or misread) is believable, less so.
SINGLE_SOURCE_FACTOR = 0.8

_PX_PER_MM = defs.READ_PX_PER_MM
_SERIAL = re.compile(rf"(?<!\d)\d{{{defs.SERIAL_DIGITS + 1}}}(?!\d)")
_PAGE = re.compile(r"(?<!\d)(\d{1,3})\s*[/\u2044]\s*(\d{1,3})(?!\d)")  # Tesseract may give a fraction slash


@final  # never falsy: "if found" tells it from a Failed
@dataclass(frozen=True)
class PrintedIdentity:
    survey: str
    serial: str
    page: int
    page_count: int
    confidence: float  # 0..1: the weaker of the serial's and the page number's readings
    detail: str  # what each text read as, for the log and review


@final
@dataclass(frozen=True)
class Unidentified(Failed):
    """The text printed on the page did not identify it (its serial did not
    read, its two lines read two different serials, or its page number did
    not read): what each serial line (header, footer) read most often,
    seven digits valid or not, or '' (falsy). The page's place in the stack
    may still give its form (``assembly.placement``)."""

    digits: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Line:
    """One printed line cut from the page: its grey pixels and its glyphs."""

    grey: np.ndarray  # uint8, 255 = paper
    glyphs: np.ndarray  # bool: pixels of the components kept as glyphs
    paper: float
    ink: float
    size_pt: float


# ---- finding the line --------------------------------------------------------


def _px(mm: float) -> int:
    return int(round(mm * _PX_PER_MM))


def _em_mm(size_pt: float) -> float:
    return size_pt / defs.PT_PER_MM


def _find_line(aligned: np.ndarray, x0_mm: float, x1_mm: float, baseline_mm: float, size_pt: float) -> _Line | None:
    """The line printed on ``baseline_mm`` between x0 and x1, cut to its
    ink; None when nothing is printed there."""
    em = _em_mm(size_pt)
    y0 = max(0, _px(baseline_mm - ASCENT_EM * em - MISALIGNMENT_MM))
    y1 = min(aligned.shape[0], _px(baseline_mm + DESCENT_EM * em + MISALIGNMENT_MM))
    xa = max(0, _px(x0_mm - MISALIGNMENT_MM))
    xb = min(aligned.shape[1], _px(x1_mm + MISALIGNMENT_MM))
    crop = aligned[y0:y1, xa:xb]
    if crop.size == 0:
        return None
    # Scanner noise and JPEG ringing break thin strokes (hyphens, full stops,
    # the 7.5 pt survey text) at the threshold; a slight blur first keeps them whole.
    crop = cv2.GaussianBlur(crop, (0, 0), DENOISE_SIGMA_PX)
    # Median = paper (text covers a few per cent of the crop); 0.5th percentile = the ink.
    paper, ink = (float(v) for v in np.percentile(crop, (50, 0.5)))
    if paper - ink < MIN_INK_CONTRAST:
        return None
    dark = (crop <= paper - INK_THRESHOLD_FRACTION * (paper - ink)).astype(np.uint8)

    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    keep = (stats[:, cv2.CC_STAT_AREA] >= MIN_SPECK_PX) & (stats[:, cv2.CC_STAT_HEIGHT] <= MAX_GLYPH_HEIGHT_EM * em * _PX_PER_MM)
    keep[0] = False
    glyphs = keep[labels]

    rows = np.flatnonzero(glyphs.any(axis=1))
    if rows.size == 0:
        return None
    # The crop also catches the edges of the lines above and below, cut off
    # at its top or bottom; the wanted line is the one centred nearest to
    # where its capitals should be.
    want = (baseline_mm - CAP_HEIGHT_EM * em / 2) * _PX_PER_MM - y0
    top, bottom = min(runs(rows, LINE_GAP_MM * _PX_PER_MM), key=lambda run: abs((run[0] + run[1]) / 2 - want))
    band = glyphs[top : bottom + 1]
    # Stray marks beside the text are dropped: keep the stretch with the most ink.
    words = runs(np.flatnonzero(band.any(axis=0)), WORD_GAP_EM * em * _PX_PER_MM)
    left, right = max(words, key=lambda run: int(band[:, run[0] : run[1] + 1].sum()))
    pad = 2  # px: blur spreads glyphs a little beyond their thresholded outline
    top, bottom = max(0, top - pad), min(crop.shape[0], bottom + 1 + pad)
    left, right = max(0, left - pad), min(crop.shape[1], right + 1 + pad)
    return _Line(crop[top:bottom, left:right], glyphs[top:bottom, left:right], paper, ink, size_pt)


def _for_ocr(line: _Line, cap_height_px: float, threshold_fraction: float = INK_THRESHOLD_FRACTION) -> np.ndarray:
    """Black glyphs on white with capitals ``cap_height_px`` high.

    The grey crop is enlarged before thresholding, so glyph edges come out
    smooth rather than as enlarged pixel steps; pixels away from the kept
    glyphs (noise, marker edges) are blanked."""
    scale = cap_height_px / (CAP_HEIGHT_EM * _em_mm(line.size_pt) * _PX_PER_MM)
    grey = cv2.resize(line.grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    near_glyphs = cv2.dilate(line.glyphs.astype(np.uint8), np.ones((3, 3), np.uint8))
    near_glyphs = cv2.resize(near_glyphs, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_NEAREST)
    ink = (grey <= line.paper - threshold_fraction * (line.paper - line.ink)) & (near_glyphs > 0)
    image = np.where(ink, 0, 255).astype(np.uint8)
    pad = int(round(OCR_PAD_EM * cap_height_px / CAP_HEIGHT_EM))
    return cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


# ---- OCR -----------------------------------------------------------------------


def _recognise(image: np.ndarray) -> OcrResult:
    return ocr.recognise(image)


def _recognise_survey(image: np.ndarray, alphabet: str) -> OcrResult:
    read = ocr.recognise_printed(image, alphabet)
    return read if read is not None else _recognise(image)  # without tesserocr: no whitelist


def _confidence_of(reading: OcrResult, start: int, end: int) -> float:
    """Tesseract's confidence (0-100) in the words spanning text[start:end]."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", reading.text)]
    if len(words) != len(reading.word_confidences):
        return float(min(reading.word_confidences, default=0))
    spanned = [c for (a, b), c in zip(words, reading.word_confidences, strict=True) if a < end and b > start]
    return float(min(spanned, default=0))


# ---- the texts -----------------------------------------------------------------


@dataclass(frozen=True)
class _Serial:
    serial: str | None  # a valid serial read with confidence, or None
    confidence: float  # 0..100
    failed_check: bool  # seven digits were read but their check digit is wrong
    note: str
    digits: str = ""  # the digits read, valid or not
    voted: bool = False  # believed only after retries at other sizes and thresholds agreed


def _read_serial(
    aligned: np.ndarray, x0_mm: float, x1_mm: float, baseline_mm: float, size_pt: float, *, retry: bool = True
) -> _Serial:
    """The serial printed on one line; without ``retry``, read once only."""
    line = _find_line(aligned, x0_mm, x1_mm, baseline_mm, size_pt)
    if line is None:
        return _Serial(None, 0.0, False, "nothing printed")
    first = _read_serial_once(line, TARGET_CAP_HEIGHT_PX, INK_THRESHOLD_FRACTION)
    if first.serial or not retry:
        return first
    # A worn or coarse scan: read again at other sizes and ink thresholds,
    # the serial alone too, and thinned when that does not settle it.
    # A misread passes the check digit one time in ten, so only a serial
    # that several readings give, and no reading contradicts, is believed.
    readings = [r.digits for r in (_read_serial_once(line, size, fraction) for size, fraction in SERIAL_RETRIES)]
    number = _last_word(line)
    for thinned in [number, *(_thinned(number, px) for px in THINNING_PX)]:
        readings += [_recognise_digits(_for_ocr(thinned, size, fraction)).text for size, fraction in SERIAL_RETRIES]
        seven = [d for d in readings if _SERIAL.fullmatch(d)]
        valid = [d for d in seven if serial_is_valid(d)]
        if len(set(valid)) == 1 and len(valid) >= SERIAL_VOTES:
            return _Serial(valid[0], MIN_WORD_CONFIDENCE, False, f"{valid[0]} in {len(valid)} of {len(readings)} readings", voted=True)
    # What the line most often read, valid or not, speaks against a serial
    # the other line gives (``_contradicts``): a footer's "9000217" voted
    # from blobs beside a header read "0000227" again and again.
    usual, count = (Counter(seven).most_common(1) or [("", 0)])[0]
    return replace(first, digits=usual) if count >= SERIAL_VOTES else first


def _last_word(line: _Line) -> _Line:
    """The line cut to its last word (the serial after its label)."""
    columns = np.flatnonzero(line.glyphs.any(axis=0))
    if columns.size == 0:
        return line
    start, end = runs(columns, NUMBER_GAP_EM * _em_mm(line.size_pt) * _PX_PER_MM)[-1]
    pad = 2  # px, as _find_line leaves round the line
    left, right = max(0, start - pad), end + 1 + pad
    return replace(line, grey=line.grey[:, left:right], glyphs=line.glyphs[:, left:right])


def _thinned(line: _Line, px: int) -> _Line:
    """The line with its ink's edges pared ``px`` px away (paper spreads
    over ink: the grey image's local maximum), its glyphs where they were."""
    return replace(line, grey=cv2.dilate(line.grey, np.ones((px + 1, px + 1), np.uint8)))


def _recognise_digits(image: np.ndarray, alphabet: str = SERIAL_ALPHABET) -> OcrResult:
    """One word of digits (the English model reads printed digits better)."""
    read = ocr.recognise_printed(image, alphabet, one_word=True)
    return OcrResult(read.text.replace(" ", ""), read.word_confidences) if read else OcrResult("", ())


def _read_serial_once(line: _Line, cap_height_px: float, threshold_fraction: float) -> _Serial:
    reading = _recognise(_for_ocr(line, cap_height_px, threshold_fraction))
    found = list(_SERIAL.finditer(reading.text))
    if len(found) != 1:
        return _Serial(None, 0.0, False, f"no serial in {reading.text!r}")
    serial = found[0].group()
    confidence = _confidence_of(reading, found[0].start(), found[0].end())
    if not serial_is_valid(serial):
        return _Serial(None, confidence, True, f"{serial} fails its check digit", serial)
    if confidence < MIN_WORD_CONFIDENCE:
        return _Serial(None, confidence, False, f"{serial} at confidence {confidence:.0f}", serial)
    return _Serial(serial, confidence, False, f"{serial} ({confidence:.0f})", serial)


def _contradicts(line: _Serial, serial: str) -> bool:
    """Whether a line that gave no serial read seven digits that differ from
    ``serial`` in more than one place (one misread digit is no contradiction)."""
    if len(line.digits) != len(serial):
        return False
    return sum(a != b for a, b in zip(line.digits, serial, strict=True)) > 1


def _one_digit_mends(digits: str) -> set[str]:
    """The valid serials that differ from ``digits`` in exactly one place."""
    return {
        mended
        for i in range(len(digits))
        for d in "0123456789"
        if d != digits[i] and serial_is_valid(mended := digits[:i] + d + digits[i + 1 :])
    }


def read_page_number(aligned: np.ndarray) -> tuple[int, int, float] | str:
    """(k, N, confidence 0-100) from the footer's "Trang k/N" on an aligned
    page, or why not."""
    centre = defs.PAGE_WIDTH_MM / 2
    line = _find_line(
        aligned, centre - FOOTER_PAGE_HALF_WIDTH_MM, centre + FOOTER_PAGE_HALF_WIDTH_MM, defs.FOOTER_BASELINE_MM, FOOTER_PAGE_SIZE_PT
    )
    if line is None:
        return "nothing printed"
    read = _read_page_as(line, _recognise)
    if isinstance(read, str):
        # Blurred print: "k/N" alone, digits and the slash only.
        number = _last_word(line)
        alone = _read_page_as(number, lambda image: _recognise_digits(image, PAGE_NUMBER_ALPHABET))
        return alone if not isinstance(alone, str) else read
    return read


def _read_page_as(line: _Line, recognise) -> tuple[int, int, float] | str:
    readings = []
    for cap_height in (TARGET_CAP_HEIGHT_PX, CONFIRM_CAP_HEIGHT_PX):
        reading = recognise(_for_ocr(line, cap_height))
        found = list(_PAGE.finditer(reading.text))
        if len(found) != 1:
            return f"no k/N in {reading.text!r}"
        match = found[0]
        readings.append((int(match.group(1)), int(match.group(2)), _confidence_of(reading, match.start(), match.end())))
    (page, total, first), (page2, total2, second) = readings
    if (page, total) != (page2, total2):
        return f"read {page}/{total} and {page2}/{total2}"
    return page, total, min(first, second)


@functools.cache
def forms_surveys() -> dict[str, str]:
    """Survey id -> version of every definition in forms/."""
    from sipas_scan.survey.loader import available_surveys

    return {survey.id: survey.version for survey in available_surveys()}


def _match_survey(text: str, known: Mapping[str, str]) -> str | None:
    """The known survey the footer's "<id> <version>" names: exactly, but
    for whitespace (OCR splits and joins words at '-' and '.'); or, with the
    version misread, the id exactly as all but the last word. Nothing looser:
    with a '-' lost, "sipas household" must not become a survey "sipas"."""
    squeezed = "".join(text.split())
    matches = {survey_id for survey_id, version in known.items() if squeezed == "".join(f"{survey_id}{version}".split())}
    if not matches:
        head = "".join(text.split()[:-1])
        matches = {survey_id for survey_id in known if head and head == "".join(survey_id.split())}
    return matches.pop() if len(matches) == 1 else None


def _read_survey(aligned: np.ndarray, known: Mapping[str, str]) -> tuple[str | None, str]:
    line = _find_line(aligned, defs.FOOTER_LEFT_MM, FOOTER_SURVEY_RIGHT_MM, defs.FOOTER_BASELINE_MM, FOOTER_SURVEY_SIZE_PT)
    if line is None:
        return None, "nothing printed"
    alphabet = "".join(sorted({ch for survey_id, version in known.items() for ch in f"{survey_id} {version}"}))
    texts = []
    for cap_height, threshold_fraction in SURVEY_ATTEMPTS:
        reading = _recognise_survey(_for_ocr(line, cap_height, threshold_fraction), alphabet)
        survey = _match_survey(reading.text, known)
        if survey is not None:
            return survey, repr(reading.text)
        texts.append(repr(reading.text))
    return None, " / ".join(texts)


# ---- the reading -----------------------------------------------------------------


def read_printed_identity(
    aligned: np.ndarray,
    *,
    page_count: int | None = None,
    survey: str | None = None,
    known_surveys: Mapping[str, str] | None = None,
    known_page: int | None = None,
    structure_sure: bool = False,
) -> PrintedIdentity | Failed:
    """Survey, serial and page number from the text printed on an aligned page.

    ``aligned``: the page on the layout grid (``warp_to_layout``), uint8,
    255 = paper. ``page_count``: the form's number of pages when the caller
    knows the layout; the printed "k/N" must agree. ``survey``: the expected
    survey id; given, the footer's survey text is not read. ``known_surveys``:
    survey id -> version the footer may name; by default the definitions in
    forms/.

    ``known_page``: the page number when the caller knows it (from the
    page's printed structure); then "Trang k/N" need not be legible, and
    must agree where it is, unless ``structure_sure``: the page's print
    matched that page clearly better than any other's, and a legible number
    that disagrees is a misread (bold 9 pt "2/4" read "3/4" on a coarse
    black-and-white scan), noted in the detail.

    Failed reasons: page-disagrees, serial-unreadable, serial-check-failed, serials-disagree,
    page-unreadable, page-out-of-range, page-count-mismatch, survey-unknown.
    """
    if aligned.ndim != 2 or aligned.dtype != np.uint8:
        raise ValueError(f"expected a uint8 greyscale page, got {aligned.dtype} {aligned.shape}")
    header = _read_serial(
        aligned,
        defs.HEADER_TEXT_X_MM,
        defs.HEADER_TEXT_X_MM + HEADER_SERIAL_WIDTH_MM,
        HEADER_SERIAL_BASELINE_MM,
        HEADER_SERIAL_SIZE_PT,
    )
    # A header read at once is believed over anything the footer's retries
    # could give: they are not run (a coarse scan's 9 pt footer rarely reads
    # at once; a hard black-and-white stack read in 61 s instead of 73).
    footer = _read_serial(
        aligned,
        defs.FOOTER_RIGHT_MM - FOOTER_SERIAL_WIDTH_MM,
        defs.FOOTER_RIGHT_MM,
        defs.FOOTER_BASELINE_MM,
        FOOTER_SERIAL_SIZE_PT,
        retry=not header.serial or header.voted,
    )
    details = [f"header serial: {header.note}", f"footer serial: {footer.note}"]

    def unidentified(reason: str, *more: str) -> Unidentified:
        # What the serial lines read goes with the page: its place in the
        # stack may still tell which form's page it is.
        return Unidentified(reason, "; ".join([*details, *more]), (header.digits, footer.digits))

    single = header if header.serial else footer
    if header.serial and footer.serial:
        if header.serial == footer.serial:
            serial, serial_confidence = header.serial, max(header.confidence, footer.confidence)
        elif header.voted != footer.voted:
            # One line read at once, the other believed only after retries (a
            # line cut off at the page's edge or smudged, whose retries agreed
            # on a misreading): the line read at once is what is printed.
            serial, serial_confidence = (footer.serial, footer.confidence) if header.voted else (header.serial, header.confidence)
            serial_confidence *= SINGLE_SOURCE_FACTOR
            details.append(f"{serial} read at once, the other only after retries")
        else:
            return unidentified("serials-disagree")
    elif footer.serial and _contradicts(header, footer.serial):
        # The footer's small print alone gave a serial, and the header's
        # larger print read seven digits far from it: one of the two is
        # misread, and a check digit does not tell which (the Luhn digit
        # misses 09 <-> 90, and a run of zeros read one too many or too few
        # shifts the rest): 0000091 was read 0000901 beside 0044093. (The
        # other way round the header is believed: of 9 pages on a hard
        # stack whose footer read other digits beside a header's serial,
        # every footer was the misread one: 9 pt bold scanned coarsely.)
        return unidentified("serials-disagree", f"{header.digits} read against {footer.serial}")
    elif single.serial:
        serial, serial_confidence = single.serial, single.confidence * SINGLE_SOURCE_FACTOR
    elif len(mended := _one_digit_mends(header.digits) & _one_digit_mends(footer.digits)) == 1:
        # Header and footer each misread one digit, differently: the one
        # valid serial a single digit away from both is what is printed.
        serial = mended.pop()
        serial_confidence = min(header.confidence, footer.confidence) * SINGLE_SOURCE_FACTOR
        details.append(f"both one digit from {serial}")
    else:
        return unidentified("serial-check-failed" if header.failed_check or footer.failed_check else "serial-unreadable")

    page_read = read_page_number(aligned)
    if known_page is not None:
        # The page's printed structure already told which page it is: the
        # printed number, if legible, must agree.
        legible = page_read if not isinstance(page_read, str) and page_read[2] >= MIN_WORD_CONFIDENCE else None
        if legible is not None and legible[0] != known_page:
            disagreement = f"page: {legible[0]}/{legible[1]}, structure of page {known_page}"
            if not structure_sure:
                return unidentified("page-disagrees", disagreement)
            details.append(f"{disagreement}, believed")
        total = page_count or (legible[1] if legible is not None else known_page)
        page_read = (known_page, total, KNOWN_PAGE_CONFIDENCE)
    if isinstance(page_read, str):
        return unidentified("page-unreadable", f"page: {page_read}")
    page, total, page_confidence = page_read
    details.append(f"page: {page}/{total} ({page_confidence:.0f})")
    if page_confidence < MIN_WORD_CONFIDENCE:
        return unidentified("page-unreadable")
    if not 1 <= page <= total:
        return unidentified("page-out-of-range")
    if page_count is not None and total != page_count:
        return unidentified("page-count-mismatch", f"the form has {page_count} pages")

    if survey is None:
        survey, note = _read_survey(aligned, forms_surveys() if known_surveys is None else known_surveys)
        details.append(f"survey: {note}")
        if survey is None:
            return unidentified("survey-unknown")

    confidence = min(serial_confidence, page_confidence) / 100.0
    return PrintedIdentity(survey, serial, page, total, round(confidence, 3), "; ".join(details))
