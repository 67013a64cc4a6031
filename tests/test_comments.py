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


def _drum_lines(added: np.ndarray) -> np.ndarray:
    # A scanner's drum lines across the page, slanted 2 degrees with it, the
    # second one faint and broken.
    cv2.line(added, (int(60 * S), 0), (int(62 * S), added.shape[0] - 1), 200, 2)
    for y in range(0, added.shape[0], int(3 * S)):
        cv2.line(added, (int(120 * S + y * 0.035), y), (int(120 * S + (y + 2 * S) * 0.035), int(y + 2 * S)), 120, 2)
    return added


def test_drum_lines_through_an_empty_box_are_no_writing(monkeypatch):
    def no_ocr(image):
        raise AssertionError("OCR must not be asked to read drum lines")

    monkeypatch.setattr(ocr, "recognise", no_ocr)
    assert comments._stroke_area_mm2(_drum_lines(_canvas())) >= comments.WRITING_MIN_STROKE_MM2  # ink enough to pass for writing
    reading = read_comment(FIELD, _drum_lines(_canvas()))
    assert not reading.has_writing, reading
    # Writing across them is read, the lines left out.
    seen = []
    monkeypatch.setattr(ocr, "recognise", lambda image: seen.append(image) or ocr.OcrResult("Cán bộ nhiệt tình", (97, 97, 97)))
    reading = read_comment(FIELD, _written(_drum_lines(_canvas())))
    assert reading.text == "Cán bộ nhiệt tình" and len(seen) == 1
    column = int(round((60 + 0.5 - BOX[0] - 1.0) * S * comments.OCR_SCALE))
    assert seen[0][-int(8 * S) :, column - 4 : column + 4].min() > 200  # the line's lower end is paper in what Tesseract saw


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
