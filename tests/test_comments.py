"""Comment boxes on hand-made darkness maps: what counts as writing, and
what is never handed to OCR."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sipas_scan import defs, fonts
from sipas_scan.layout import FieldLayout
from sipas_scan.reading import comments, ocr
from sipas_scan.reading.comments import read_comment

S = defs.READ_PX_PER_MM
BOX = (5.0, 5.0, 170.0, 50.0)  # x, y, w, h mm
FIELD = FieldLayout("t1", "text", 1, box=BOX)


def _canvas() -> np.ndarray:
    return np.zeros((int(65 * S), int(185 * S)), np.uint8)  # darkness: 0 = paper


def _hairs_dust_and_a_fold(added: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # A fold's shadow: a soft band 5 mm wide, 40 % dark.
    band = np.exp(-(((np.arange(added.shape[0]) - 45 * S) / (2.5 * S)) ** 2)) * 100
    added = np.maximum(added, band[:, None].astype(np.uint8))
    for _ in range(3):  # hairs: short thin curves
        x, y = rng.uniform(20, 160) * S, rng.uniform(10, 50) * S
        cv2.ellipse(added, (int(x), int(y)), (int(2.5 * S), int(1.5 * S)), 0, 0, 70, 200, 1)
    for _ in range(30):  # dust
        cv2.circle(added, (int(rng.uniform(6, 174) * S), int(rng.uniform(6, 54) * S)), 1, 220, -1)
    return added


def _written(added: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.fromarray(added)
    font = ImageFont.truetype(str(fonts.find_font_files().regular), int(5 * S))
    ImageDraw.Draw(picture).text((10 * S, 15 * S), "Cán bộ nhiệt tình", fill=230, font=font)
    return np.asarray(picture).copy()


def test_hairs_dust_and_a_fold_shadow_are_shown_to_a_person_never_read_as_text(monkeypatch):
    def no_ocr(image):
        raise AssertionError("OCR must not be asked to read dust")

    monkeypatch.setattr(ocr, "recognise", no_ocr)
    reading = read_comment(FIELD, _hairs_dust_and_a_fold(_canvas(), np.random.default_rng(1)))
    assert reading.has_writing and reading.text == "" and reading.flags == ("ocr-review",)
    # The same box quite empty is no comment at all.
    assert not read_comment(FIELD, _canvas()).has_writing


def test_writing_is_handed_to_ocr(monkeypatch):
    seen = []
    monkeypatch.setattr(ocr, "recognise", lambda image: seen.append(image) or ocr.OcrResult("Cán bộ nhiệt tình", (97, 97, 97)))
    reading = read_comment(FIELD, _written(_hairs_dust_and_a_fold(_canvas(), np.random.default_rng(2))))
    assert seen and reading.text == "Cán bộ nhiệt tình" and reading.flags == ()
    assert comments._stroke_area_mm2(_written(_canvas())) >= comments.WRITING_MIN_STROKE_MM2


@pytest.mark.parametrize("seed", [3, 4])
def test_stroke_area_of_dust_and_shadow_is_small(seed):
    crop = _hairs_dust_and_a_fold(_canvas(), np.random.default_rng(seed))
    assert comments._stroke_area_mm2(crop) < comments.WRITING_MIN_STROKE_MM2 / 2


def test_text_tesseract_could_not_read_is_not_offered_but_the_writing_goes_to_a_person(monkeypatch):
    written = _written(_canvas())
    monkeypatch.setattr(ocr, "recognise", lambda image: ocr.OcrResult("ĐỀ tt, €ÒÀ È ớt", (12, 8, 9, 7)))
    unread = read_comment(FIELD, written)
    assert unread.has_writing and unread.text == "" and unread.flags == ("ocr-review",) and unread.mean_confidence < 20
    monkeypatch.setattr(ocr, "recognise", lambda image: ocr.OcrResult("Cán bộ nhiệt tình", (55, 40, 62, 51)))
    offered = read_comment(FIELD, written)
    assert offered.text == "Cán bộ nhiệt tình" and offered.flags == ("ocr-review",)
    # Two words read well among noise: the mean passes, the typical word does not.
    noise = ocr.OcrResult("Cần thêm ah n⁄ÄÄj an n6n na đM ~aÀ", (91, 88, 9, 4, 12, 8, 10, 6, 3))
    assert noise.mean_confidence > 20
    monkeypatch.setattr(ocr, "recognise", lambda image: noise)
    assert read_comment(FIELD, written).text == ""


def test_a_single_character_read_from_a_stroke_is_not_offered(monkeypatch):
    written = _written(_canvas())
    monkeypatch.setattr(ocr, "recognise", lambda image: ocr.OcrResult("1", (89,)))
    lone = read_comment(FIELD, written)
    assert lone.has_writing and lone.text == "" and lone.flags == ("ocr-review",)
    monkeypatch.setattr(ocr, "recognise", lambda image: ocr.OcrResult("Có", (91,)))
    assert read_comment(FIELD, written).text == "Có"
    # Nor a column of strokes read as bars with a few letters between them.
    monkeypatch.setattr(ocr, "recognise", lambda image: ocr.OcrResult("| | | | | | | |. bê hC đo: | |", (70, 68, 75, 71)))
    assert read_comment(FIELD, written).text == ""
    monkeypatch.setattr(ocr, "recognise", lambda image: ocr.OcrResult("Cán bộ nhiệt tình, chu đáo.", (70, 68, 75, 71)))
    assert read_comment(FIELD, written).text == "Cán bộ nhiệt tình, chu đáo."
