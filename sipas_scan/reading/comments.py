"""Handwritten comment boxes: is there writing, and what does Tesseract make of it.

Pure apart from the OCR call. The printed rules and frame are removed using
the reference page, so only the respondent's ink is judged and recognised.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sipas_scan import defs
from sipas_scan.layout import FieldLayout
from sipas_scan.reading import ocr
from sipas_scan.reading.reference import darkness_level

WRITING_MIN_INK = 0.002  # share of the box's pixels that must be ink to count as writing
# Light enough for pencil: blank boxes measured at most 0.0004 of their pixels
# this dark (office scans, 352 forms), written ones 0.01 and up.
INK_LEVEL = darkness_level(0.12)
# Writing is strokes: after a top-hat the size of a letter (which drops fold
# shadows and drum-drift, wider than any pen stroke) and with specks removed,
# comments on hard simulated scans left at least 2,900 px (45 mm^2) of strokes
# (5th percentile; 5,400 px on office scans), blank boxes at most 520 px but
# for 4 dirty ones in 225. Less than this is hairs and dust: shown to a
# person, never given to OCR, whose guesses from dust read as text.
WRITING_MIN_STROKE_MM2 = 20.0
STROKE_TOPHAT_MM = 1.6  # wider dark areas than this are shadows, not strokes
SPECK_PX = 20  # connected ink smaller than this (0.3 mm^2) is a speck
# A straight run of ink this long across a comment box's lines is no
# handwriting: a scanner's drum line or streak running the length of the
# page (slanted with the page's skew, so the scan's vertical-line eraser
# misses it). On hard simulated scans two drum lines through empty boxes
# passed for writing and Tesseract read them, with the hairs beside them, as
# "Kon si | CC : Ea] bóp tối". They are painted out before anything is
# judged. (Along the lines, a row of writing is such a run: only runs
# within STRAIGHT_LINE_TILT_DEG of square to them are taken.)
STRAIGHT_LINE_MIN_MM = 30.0
STRAIGHT_LINE_GAP_MM = 2.0  # ... its ink may break for this long (a faint line; the guide lines taken out with the print)
STRAIGHT_LINE_TILT_DEG = 10.0
STRAIGHT_LINE_ERASE_MM = 0.8  # ... and it is painted out this wide
OCR_SCALE = 1.5  # 8 px/mm -> 12 px/mm (~300 dpi), where Tesseract reads best
ACCEPT_MEAN_CONFIDENCE = 96  # Tesseract says ~94 for a word with one wrong diacritic
ACCEPT_MIN_WORD_CONFIDENCE = 90
# Below this mean confidence Tesseract says it could not read the box: its
# text is not offered to the reviewer, who transcribes from the image. On
# hard simulated scans (800 forms) the readings below it were noise read as
# text in 7 blank boxes and garbage for 12 real comments (none right; 5 more
# on office scans); a proposal that must be deleted is worse than none.
PROPOSE_MIN_CONFIDENCE = 20
# ... nor one whose typical word Tesseract could not read: a few words read
# well lift the mean of a reading that is mostly noise. On hard simulated
# scans, the dotted guide lines of an empty box, bolded by toner, read as 33
# "words" at mean confidence 21 but median 8; of 473 readings offered on
# hard and office stacks, the 25 with a median word confidence under 20
# (that box and 24 comments) were each garbage past their first word or two.
PROPOSE_MIN_MEDIAN_WORD_CONFIDENCE = 20
# A comment is words: a reading with fewer letters and digits than this is a
# lone stroke or smudge read as a character (hard scans: "1" from a bracket
# of ink beside a fold's shadow, at confidence 89), not offered either.
PROPOSE_MIN_CHARACTERS = 2
# ... nor is a reading mostly of bars and dots: a column of strokes (a hatched
# margin, a scanner's comb) read as "| | | |. bê hC đo: | |" at confidence 70
# on hard scans; writing is mostly letters (Vietnamese comments on office
# scans: 90 % and more of their characters).
PROPOSE_MIN_LETTER_SHARE = 0.6


@dataclass(frozen=True)
class CommentReading:
    field_id: str
    has_writing: bool
    ink_share: float
    text: str
    mean_confidence: float
    word_confidences: tuple[int, ...]
    flags: tuple[str, ...]


def read_comment(fld: FieldLayout, added: np.ndarray, *, run_ocr: bool = True) -> CommentReading:
    if fld.box is None:
        raise ValueError(f"{fld.id}: a text field without a writing area")
    s = defs.READ_PX_PER_MM
    x, y, w, h = fld.box
    inset = 1.0
    crop = _without_straight_lines(
        added[int((y + inset) * s) : int((y + h - inset) * s), int((x + inset) * s) : int((x + w - inset) * s)]
    )
    ink = crop > INK_LEVEL
    share = float(ink.mean()) if ink.size else 0.0
    if share < WRITING_MIN_INK:
        return CommentReading(fld.id, False, round(share, 4), "", 100.0, (), ())
    if not run_ocr or _stroke_area_mm2(crop) < WRITING_MIN_STROKE_MM2:
        return CommentReading(fld.id, True, round(share, 4), "", 0.0, (), ("ocr-review",))
    # Dark writing on white, without the print, scaled up for Tesseract.
    picture = np.clip(255 - crop.astype(np.float32) * 1.4, 0, 255).astype(np.uint8)
    picture = cv2.resize(picture, None, fx=OCR_SCALE, fy=OCR_SCALE, interpolation=cv2.INTER_CUBIC)
    result = ocr.recognise(picture)
    confident = (
        result.text
        and result.mean_confidence >= ACCEPT_MEAN_CONFIDENCE
        and min(result.word_confidences, default=0) >= ACCEPT_MIN_WORD_CONFIDENCE
    )
    return CommentReading(
        fld.id,
        True,
        round(share, 4),
        result.text if _worth_proposing(result) else "",
        round(result.mean_confidence, 1),
        result.word_confidences,
        () if confident else ("ocr-review",),
    )


def _worth_proposing(result: ocr.OcrResult) -> bool:
    """Whether Tesseract's reading is worth offering a reviewer to correct."""
    characters = sum(ch.isalnum() for ch in result.text)
    printed = sum(not ch.isspace() for ch in result.text)
    return (
        result.mean_confidence >= PROPOSE_MIN_CONFIDENCE
        and float(np.median(result.word_confidences)) >= PROPOSE_MIN_MEDIAN_WORD_CONFIDENCE
        and characters >= PROPOSE_MIN_CHARACTERS
        and characters >= PROPOSE_MIN_LETTER_SHARE * printed
    )


def _without_straight_lines(crop: np.ndarray) -> np.ndarray:
    """A darkness crop ((H, W) uint8 on the reading grid, the box's lines
    along W) with straight runs of ink ``STRAIGHT_LINE_MIN_MM`` long or more
    across them painted out (the input itself when there are none)."""
    length = int(STRAIGHT_LINE_MIN_MM * defs.READ_PX_PER_MM)
    if max(crop.shape[:2]) < length:
        return crop
    ink = (_thin_strokes(crop) > INK_LEVEL).astype(np.uint8)  # a fold's wide shadow is no line
    gap = int(STRAIGHT_LINE_GAP_MM * defs.READ_PX_PER_MM)
    lines = cv2.HoughLinesP(ink, 1, np.pi / 360, threshold=length // 2, minLineLength=length, maxLineGap=gap)
    if lines is None:
        return crop
    across = [
        (int(x1), int(y1), int(x2), int(y2))
        for x1, y1, x2, y2 in np.asarray(lines).reshape(-1, 4)
        if abs(int(x2) - int(x1)) <= np.tan(np.radians(STRAIGHT_LINE_TILT_DEG)) * abs(int(y2) - int(y1))
    ]
    if not across:
        return crop
    out = crop.copy()
    width = max(1, int(round(STRAIGHT_LINE_ERASE_MM * defs.READ_PX_PER_MM)))
    for x1, y1, x2, y2 in across:
        cv2.line(out, (x1, y1), (x2, y2), 0, thickness=width)
    return out


def _thin_strokes(crop: np.ndarray) -> np.ndarray:
    """The dark lines of a darkness crop narrower than a letter (a top-hat
    ``STROKE_TOPHAT_MM`` wide: fold shadows and drum drift, wider than any
    pen stroke, drop out)."""
    size = int(round(STROKE_TOPHAT_MM * defs.READ_PX_PER_MM)) | 1
    return cv2.morphologyEx(crop, cv2.MORPH_TOPHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))


def _stroke_area_mm2(crop: np.ndarray) -> float:
    """Area (mm^2) of pen strokes in a darkness crop ((H, W) uint8 on the
    reading grid): dark lines narrower than a letter, in pieces bigger than
    a speck."""
    ink = cv2.morphologyEx((_thin_strokes(crop) > INK_LEVEL).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return float(areas[areas >= SPECK_PX].sum()) / defs.READ_PX_PER_MM**2
