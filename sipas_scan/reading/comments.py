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

WRITING_MIN_INK = 0.002     # share of the box's pixels that must be ink to count as writing
# Light enough for pencil: blank boxes measured at most 0.0004 of their pixels
# this dark (office scans, 352 forms), written ones 0.01 and up.
INK_LEVEL = darkness_level(0.12)
OCR_SCALE = 1.5             # 8 px/mm -> 12 px/mm (~300 dpi), where Tesseract reads best
ACCEPT_MEAN_CONFIDENCE = 96  # Tesseract says ~94 for a word with one wrong diacritic
ACCEPT_MIN_WORD_CONFIDENCE = 90


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
    s = defs.READ_PX_PER_MM
    x, y, w, h = fld.box
    inset = 1.0
    crop = added[int((y + inset) * s):int((y + h - inset) * s), int((x + inset) * s):int((x + w - inset) * s)]
    ink = crop > INK_LEVEL
    share = float(ink.mean()) if ink.size else 0.0
    if share < WRITING_MIN_INK:
        return CommentReading(fld.id, False, round(share, 4), "", 100.0, (), ())
    if not run_ocr:
        return CommentReading(fld.id, True, round(share, 4), "", 0.0, (), ("ocr-review",))
    # Dark writing on white, without the print, scaled up for Tesseract.
    picture = np.clip(255 - crop.astype(np.float32) * 1.4, 0, 255).astype(np.uint8)
    picture = cv2.resize(picture, None, fx=OCR_SCALE, fy=OCR_SCALE, interpolation=cv2.INTER_CUBIC)
    result = ocr.recognise(picture)
    confident = (result.text and result.mean_confidence >= ACCEPT_MEAN_CONFIDENCE
                 and min(result.word_confidences, default=0) >= ACCEPT_MIN_WORD_CONFIDENCE)
    return CommentReading(fld.id, True, round(share, 4), result.text, round(result.mean_confidence, 1),
                          result.word_confidences, () if confident else ("ocr-review",))
