"""Aligning a page from its printed structure when its markers are gone.

Pages of the printed batch are rasterised at 200 dpi, then turned, shifted
and scaled by a known transform, so the true homography layout mm -> image px
is known exactly; markers are painted over as a pen or a scanner's crop
would lose them.
"""

import json

import cv2
import numpy as np
import pytest

from conftest import rasterize
from sipas_scan import defs
from sipas_scan.layout import PageLayout, layout_survey, marker_rects, qr_rect
from sipas_scan.reading.identify import find_codes, symbol_rect_mm
from sipas_scan.reading.register import Failed, Registration, detect_markers, rect_corners, register
from sipas_scan.reading.structure import align_from_structure, coarse_homography, frame_homography
from sipas_scan.survey import find_survey

DPI = 200
ACCURACY_MM = 0.3  # the refined homography against the true one, at every box centre


@pytest.fixture(scope="module")
def form(printed):
    """(layout, the first three pages at 200 dpi)."""
    _, folder = printed
    survey_id = json.loads((folder / "layout.json").read_text(encoding="utf-8"))["survey"]
    layout = layout_survey(find_survey(survey_id))
    return layout, rasterize(folder / "forms.pdf", DPI, first=1, last=3)


def _raster_homography(dpi: float = DPI) -> np.ndarray:
    """Layout mm -> px of an unmoved raster (pixel centres at half-pixels)."""
    s = dpi / defs.MM_PER_INCH
    return np.array([[s, 0, -0.5], [0, s, -0.5], [0, 0, 1.0]])


def _project(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(np.asarray(points, np.float64).reshape(-1, 1, 2), homography).reshape(-1, 2)


def _move(image: np.ndarray, degrees: float, shift_mm: tuple[float, float], scale: float, turn: int) -> tuple[np.ndarray, np.ndarray]:
    """The page turned by ``turn`` + ``degrees`` about its centre, scaled and
    shifted onto a canvas that holds it; and the true homography."""
    h, w = image.shape
    a = np.radians(turn + degrees)
    rotation = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = (np.array([[0, 0], [w, 0], [w, h], [0, h]]) - [w / 2, h / 2]) @ rotation.T
    size = np.ceil(np.ptp(corners, axis=0)).astype(int) + 40
    move = np.eye(3)
    move[:2, :2] = rotation
    move[:2, 2] = size / 2 + np.array(shift_mm) * DPI / defs.MM_PER_INCH * scale - rotation @ [w / 2, h / 2]
    moved = cv2.warpPerspective(image, move, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR, borderValue=255)
    return moved, move @ _raster_homography()


def _erase_markers(image: np.ndarray, truth: np.ndarray, layout, ids: set[int]) -> np.ndarray:
    """Paint over markers (2 mm beyond their edges)."""
    out = image.copy()
    for marker in layout.markers:
        if marker.id in ids:
            x, y, w, h = marker.rect
            quad = _project(rect_corners((x - 2, y - 2, w + 4, h + 4)), truth)
            cv2.fillConvexPoly(out, np.int32(np.round(quad)), 255)
    return out


def _mark_and_soil(image: np.ndarray, truth: np.ndarray, page: PageLayout, seed: int) -> np.ndarray:
    """Ticks in a third of the boxes, one box blacked out, blur, noise and JPEG."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    s = DPI / defs.MM_PER_INCH
    boxes = [o.box for f in page.fields for o in f.options]
    for i, (x, y, _, _) in enumerate(boxes):
        if i % 3 == 0:
            tick = _project([[x + 1, y + 2.5], [x + 2.2, y + 4.2], [x + 5.5, y - 0.5]], truth)
            cv2.polylines(out, [np.int32(np.round(tick))], False, 40, max(1, int(0.4 * s)), cv2.LINE_AA)
    cv2.fillConvexPoly(out, np.int32(np.round(_project(rect_corners(boxes[1]), truth))), 30)
    out = cv2.GaussianBlur(out, (0, 0), 1.0).astype(np.float32) + rng.normal(0, 6, out.shape).astype(np.float32)
    _, data = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 60])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def _box_error_mm(homography: np.ndarray, truth: np.ndarray, page: PageLayout) -> float:
    """Largest distance (mm) between where the two homographies put the page's box centres."""
    centres = np.array([[x + w / 2, y + h / 2] for f in page.fields for x, y, w, h in (o.box for o in f.options)])
    px_per_mm = np.linalg.norm(_project([[0, 0], [1, 0]], truth)[1] - _project([[0, 0]], truth)[0])
    return float(np.linalg.norm(_project(centres, homography) - _project(centres, truth), axis=1).max() / px_per_mm)


def _code_corners(image: np.ndarray):
    payloads = find_codes(image)
    assert payloads, "the QR code should still be readable"
    return rect_corners(symbol_rect_mm(payloads[0].text, qr_rect())), payloads[0].corners


def _rotation_about(degrees: float, centre_mm: tuple[float, float], shift_mm: tuple[float, float]) -> np.ndarray:
    """Layout mm -> layout mm: a rotation about ``centre_mm``, then a shift."""
    a = np.radians(degrees)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    out = np.eye(3)
    out[:2, :2] = rotation
    out[:2, 2] = np.array(centre_mm) - rotation @ centre_mm + shift_mm
    return out


@pytest.mark.parametrize(
    ("page_no", "degrees", "shift_mm", "scale", "turn", "kept", "coarse_from", "soiled"),
    [
        (1, 3.0, (4.0, -2.0), 1.0, 0, set(), "code", False),
        (2, -3.0, (-4.0, 3.0), 300 / 200, 180, {2}, "marker", False),
        (3, 2.0, (4.0, 4.0), 1.0, 90, {1, 3}, "code", True),
        (2, 1.0, (-3.0, -4.0), 150 / 200, 270, {0}, "marker", True),
    ],
)
def test_a_moved_page_without_its_markers_aligns_on_its_boxes_and_rules(
    form, page_no, degrees, shift_mm, scale, turn, kept, coarse_from, soiled
):
    layout, pages = form
    page = layout.pages[page_no - 1]
    image, truth = _move(pages[page_no - 1], degrees, shift_mm, scale, turn)
    image = _erase_markers(image, truth, layout, {0, 1, 2, 3} - kept)
    if soiled:
        image = _mark_and_soil(image, truth, page, seed=page_no)
    markers = detect_markers(image)
    assert set(markers) == kept
    assert not register(markers, layout.markers)  # the markers alone no longer align the page

    if coarse_from == "code":
        coarse = coarse_homography({}, layout.markers, _code_corners(image))
    else:
        coarse = coarse_homography(markers, layout.markers, None)
    assert coarse is not None
    result = align_from_structure(image, page, coarse)

    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM
    assert result.orientation == turn
    assert result.px_per_mm == pytest.approx(DPI / defs.MM_PER_INCH * scale, rel=0.005)
    assert result.residual_mm < 0.2
    assert result.markers_found == ()


@pytest.mark.parametrize(("page_no", "degrees", "shift_mm"), [(1, 2.0, (3.0, 0.0)), (2, -2.0, (0.0, 3.0)), (3, 2.0, (-2.1, 2.1))])
def test_a_rough_homography_off_by_2_degrees_and_3_mm_still_converges(form, page_no, degrees, shift_mm):
    """One marker left, its homography turned 2 degrees about that marker and
    shifted 3 mm: 6-10 mm off at the boxes far from it, more than the rows
    of boxes are apart, so they could be matched one box over."""
    layout, pages = form
    page = layout.pages[page_no - 1]
    image, truth = _move(pages[page_no - 1], 2.5, (2.0, -3.0), 1.0, 0)
    image = _erase_markers(image, truth, layout, {1, 2, 3})
    markers = detect_markers(image)
    assert set(markers) == {0}
    x, y, w, h = layout.markers[0].rect
    coarse = coarse_homography(markers, layout.markers, None) @ _rotation_about(degrees, (x + w / 2, y + h / 2), shift_mm)
    assert _box_error_mm(coarse, truth, page) > 5.0

    result = align_from_structure(image, page, coarse)

    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM


def test_the_coarse_homography_comes_from_one_marker_or_the_code_alone():
    truth = np.array([[7.0, -0.4, 30.0], [0.4, 7.0, 12.0], [0, 0, 1]])  # a similarity
    printed = marker_rects()
    one_marker = {3: _project(rect_corners(printed[3].rect), truth)}
    np.testing.assert_allclose(coarse_homography(one_marker, printed, None), truth, atol=1e-3)
    code_mm = rect_corners((160.0, 8.0, 16.0, 16.0))
    np.testing.assert_allclose(coarse_homography({}, printed, (code_mm, _project(code_mm, truth))), truth, atol=1e-3)
    # Both: one corner of the code read 20 px off does not pull the fit.
    code_px = _project(code_mm, truth)
    code_px[2] += 20
    np.testing.assert_allclose(coarse_homography(one_marker, printed, (code_mm, code_px)), truth, atol=1e-2)
    assert coarse_homography({}, printed, None) is None
    assert coarse_homography({9: one_marker[3]}, printed, None) is None  # not a marker of this layout


def _random_text_page(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    page = np.full((2339, 1654), 255, np.uint8)
    letters = np.array(list("abcdeghiklmnopqrstuvxyODQ0123456789 "))
    for baseline in range(120, 2250, 34):
        text = "".join(rng.choice(letters, 60))
        cv2.putText(page, text, (120, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2, cv2.LINE_AA)
    return page


@pytest.mark.parametrize("kind", ["blank", "random text"])
def test_a_page_without_the_forms_structure_fails_with_a_reason(form, kind):
    layout, _ = form
    image = np.full((2339, 1654), 255, np.uint8) if kind == "blank" else _random_text_page(seed=5)
    for page in layout.pages[:3]:
        result = align_from_structure(image, page, _raster_homography())
        assert isinstance(result, Failed)
        assert result.reason == "structure-not-found"
        assert "printed" in result.detail


@pytest.mark.parametrize(("image_page", "layout_page"), [(2, 1), (1, 2), (3, 2), (2, 3)])
def test_another_page_of_the_form_does_not_report_a_good_alignment(form, image_page, layout_page):
    """Pages 2 and 3 share their grids' rules and columns; only their boxes differ."""
    layout, pages = form
    image, truth = _move(pages[image_page - 1], 1.5, (2.0, 2.0), 1.0, 0)
    image = _erase_markers(image, truth, layout, {1, 2, 3})
    coarse = coarse_homography(detect_markers(image), layout.markers, None)
    assert coarse is not None
    # The right page does align from the same inputs.
    assert align_from_structure(image, layout.pages[image_page - 1], coarse)

    result = align_from_structure(image, layout.pages[layout_page - 1], coarse)

    assert not result or result.residual_mm > defs.MAX_ALIGNMENT_RESIDUAL_MM
    assert isinstance(result, Failed) and result.reason == "structure-not-found"


def test_a_page_whose_grey_rules_vanished_aligns_on_its_boxes(form):
    # A black-and-white scan drops the thin grey grid rules: only the boxes
    # (and the black print) are left to align by.
    layout, pages = form
    page = layout.pages[1]
    image, truth = _move(pages[1], 1.5, (2.0, -3.0), 1.0, 0)
    image = np.where(image < 100, 0, 255).astype(np.uint8)
    image = _erase_markers(image, truth, layout, {0, 1, 3})
    coarse = coarse_homography(detect_markers(image), layout.markers, None)
    assert coarse is not None
    result = align_from_structure(image, page, coarse)
    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM


def test_each_page_looks_most_like_its_own_blank_page():
    # The print of page k, thin (as scanned, not widened) and with marks
    # and noise on it, matches blank page k clearly better than any other.
    import numpy as np

    from sipas_scan.layout import survey_and_layout
    from sipas_scan.reading.page import CLEAR_LIKENESS, LIKENESS_MARGIN
    from sipas_scan.reading.reference import page_likeness, printed_darkness

    _, layout = survey_and_layout("sipas-household")
    rng = np.random.default_rng(0)
    for number in range(1, layout.page_count + 1):
        scan = printed_darkness(layout, number, 0).copy()
        scan[rng.random(scan.shape) < 0.01] = 255  # specks and marks
        scores = page_likeness(scan, layout)
        best = int(np.argmax(scores))
        runner_up = max(s for n, s in enumerate(scores) if n != best)
        assert best == number - 1 and scores[best] >= CLEAR_LIKENESS and scores[best] - runner_up >= LIKENESS_MARGIN


def _fade_left_of(image: np.ndarray, truth: np.ndarray, x_mm: float) -> np.ndarray:
    """Everything printed left of ``x_mm`` (layout) gone, as a fade streak or a
    black-and-white threshold takes the thin print and labels."""
    out = image.copy()
    quad = _project([[-20, -20], [x_mm, -20], [x_mm, defs.PAGE_HEIGHT_MM + 20], [-20, defs.PAGE_HEIGHT_MM + 20]], truth)
    cv2.fillConvexPoly(out, np.int32(np.round(quad)), 255)
    return out


def test_a_page_left_with_only_its_answer_columns_aligns_on_them(form):
    # The grid page's label column faded away and its left markers with it:
    # every box agrees, along the page's height but not across it. An affine
    # through them is taken (it cannot tilt away past them); the left edge of
    # the page, far from every box, still lands within half a millimetre.
    layout, pages = form
    page = layout.pages[1]
    image, truth = _move(pages[1], 1.2, (2.0, -1.5), 1.0, 0)
    left_of_boxes = min(o.box[0] for f in page.fields for o in f.options) - 3
    image = _fade_left_of(image, truth, left_of_boxes)
    coarse = coarse_homography(detect_markers(image), layout.markers, None)
    assert coarse is not None
    result = align_from_structure(image, page, coarse)
    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM
    px_per_mm = DPI / defs.MM_PER_INCH
    far = np.array([[15.0, 40.0], [15.0, 250.0]])
    assert np.linalg.norm(_project(far, result.homography) - _project(far, truth), axis=1).max() / px_per_mm < 0.5


def test_a_cluster_of_boxes_alone_does_not_align_the_page(form):
    # Only the boxes of a few rows left: they neither span the page nor run
    # along it, so nothing says where the rest of the page lies.
    layout, pages = form
    page = layout.pages[1]
    image, truth = _move(pages[1], 1.2, (2.0, -1.5), 1.0, 0)
    boxes = [o.box for f in page.fields for o in f.options]
    top = sorted({y for _, y, _, _ in boxes})[4]
    image = _fade_left_of(image, truth, min(x for x, _, _, _ in boxes) - 3)
    below = _project([[-20, top], [defs.PAGE_WIDTH_MM + 20, top], [defs.PAGE_WIDTH_MM + 20, 320], [-20, 320]], truth)
    cv2.fillConvexPoly(image, np.int32(np.round(below)), 255)
    coarse = coarse_homography(detect_markers(image), layout.markers, None)
    assert coarse is not None  # the top-right marker is left
    result = align_from_structure(image, page, coarse)
    assert isinstance(result, Failed), result


def _erase_boxes(image: np.ndarray, truth: np.ndarray, page: PageLayout, every: int) -> np.ndarray:
    """Every ``every``-th box painted over (1 mm beyond it), as a fade streak takes them."""
    out = image.copy()
    boxes = [o.box for f in page.fields for o in f.options]
    for x, y, w, h in boxes[::every]:
        quad = _project(rect_corners((x - 1, y - 1, w + 2, h + 2)), truth)
        cv2.fillConvexPoly(out, np.int32(np.round(quad)), 255)
    return out


def _black_and_white_on_two_markers(form, page_index: int):
    """Page ``page_index`` moved and thresholded as a black-and-white scanner
    does (the grey rules gone), only markers 1 and 2 (one side) left:
    (image, truth, coarse homography, the markers' corners as anchors)."""
    layout, pages = form
    image, truth = _move(pages[page_index], 1.5, (2.0, -3.0), 1.0, 0)
    image = _erase_markers(np.where(image < 100, 0, 255).astype(np.uint8), truth, layout, {0, 3})
    markers = detect_markers(image)
    assert set(markers) == {1, 2}
    kept = [m for m in layout.markers if m.id in markers]
    anchors = (np.concatenate([rect_corners(m.rect) for m in kept]), np.concatenate([markers[m.id] for m in kept]))
    return image, truth, coarse_homography(markers, layout.markers, None), anchors


def test_two_markers_and_most_boxes_pin_a_page_whose_rules_vanished(form):
    # A coarse black-and-white scan: the grey rules gone, a third of the
    # boxes faded, two markers left on one side. The boxes left agree with
    # the markers, which rule out a grid matched a row off: that is enough.
    layout, _ = form
    page = layout.pages[1]
    image, truth, coarse, anchors = _black_and_white_on_two_markers(form, 1)
    image = _erase_boxes(image, truth, page, every=3)
    # The boxes alone are too few to be sure of.
    assert isinstance(align_from_structure(image, page, coarse), Failed)
    result = align_from_structure(image, page, coarse, anchors=anchors)
    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM


def test_two_markers_pin_the_answer_columns_left_alone(form):
    # The grid page's label column faded away with its left markers, and a
    # quarter of the boxes with it: too few boxes to stand for the page on
    # their own, but the two markers left, on the columns' side, agree with
    # them. An affine through both is taken.
    layout, _ = form
    page = layout.pages[1]
    image, truth, coarse, anchors = _black_and_white_on_two_markers(form, 1)
    image = _fade_left_of(image, truth, min(o.box[0] for f in page.fields for o in f.options) - 3)
    image = _erase_boxes(image, truth, page, every=4)
    assert isinstance(align_from_structure(image, page, coarse), Failed)
    result = align_from_structure(image, page, coarse, anchors=anchors)
    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM
    px_per_mm = DPI / defs.MM_PER_INCH
    far = np.array([[15.0, 40.0], [15.0, 250.0]])
    assert np.linalg.norm(_project(far, result.homography) - _project(far, truth), axis=1).max() / px_per_mm < 0.5
    # Page 3's columns lie where page 2's do, its rows elsewhere: they do not fit.
    assert isinstance(align_from_structure(image, layout.pages[2], coarse, anchors=anchors), Failed)


@pytest.mark.parametrize(("image_page", "layout_page"), [(2, 3), (3, 2)])
def test_two_markers_do_not_make_another_pages_boxes_fit(form, image_page, layout_page):
    layout, _ = form
    image, _, coarse, anchors = _black_and_white_on_two_markers(form, image_page - 1)
    assert align_from_structure(image, layout.pages[image_page - 1], coarse, anchors=anchors)
    result = align_from_structure(image, layout.pages[layout_page - 1], coarse, anchors=anchors)
    assert isinstance(result, Failed), result


def test_two_markers_and_half_the_boxes_align_a_page_its_code_or_print_named(form):
    # Measured on hard stacks: page 1 upside down, a band of its print faded
    # with two of its markers, 12 of its 21 boxes left beside markers 1 and
    # 2. Which page it is, the boxes cannot tell from so few; where it lies,
    # they can when its code or print said which page it is.
    layout, _ = form
    page = layout.pages[0]
    image, truth, coarse, anchors = _black_and_white_on_two_markers(form, 0)
    boxes = [o.box for f in page.fields for o in f.options]
    assert len(boxes) == 21
    for x, y, w, h in boxes[:9]:
        quad = _project(rect_corners((x - 1, y - 1, w + 2, h + 2)), truth)
        cv2.fillConvexPoly(image, np.int32(np.round(quad)), 255)
    assert isinstance(align_from_structure(image, page, coarse, anchors=anchors), Failed)
    result = align_from_structure(image, page, coarse, anchors=anchors, page_known=True)
    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM
    # Without the markers pinning it, the boxes left are too few either way.
    assert isinstance(align_from_structure(image, page, coarse, page_known=True), Failed)


def _fed_off_centre(image: np.ndarray, shift_mm: tuple[float, float], degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The page fed far off-centre and crooked onto a scanner's frame the
    page's own size, which cuts off its four corner markers; and the true
    homography."""
    h, w = image.shape
    a = np.radians(degrees)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    move = np.eye(3)
    move[:2, :2] = rotation
    move[:2, 2] = np.array(shift_mm) * DPI / defs.MM_PER_INCH + [w / 2, h / 2] - rotation @ [w / 2, h / 2]
    moved = cv2.warpPerspective(image, move, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    return moved, move @ _raster_homography()


@pytest.mark.parametrize(("page_no", "shift_mm", "degrees", "turned"), [(2, (11.0, -9.5), 2.0, False), (1, (-10.5, 9.0), -1.5, True)])
def test_a_page_whose_markers_the_frame_cut_off_aligns_from_the_frame(form, page_no, shift_mm, degrees, turned):
    # Measured on hard stacks: form pages fed 9-12 mm off-centre lost all
    # four markers to the scan's edge, and their code with them, and were
    # taken for stray sheets. The scan's own frame is start enough.
    layout, pages = form
    page = layout.pages[page_no - 1]
    image, truth = _fed_off_centre(pages[page_no - 1], shift_mm, degrees)
    # What the edge leaves of them, noise and a dark band hid on the scans.
    image = _erase_markers(image, truth, layout, {0, 1, 2, 3})
    quad = _project(rect_corners(qr_rect()), truth)
    cv2.fillConvexPoly(image, np.int32(np.round(quad)), 255)
    if turned:  # fed upside down
        image = cv2.rotate(image, cv2.ROTATE_180)
        h, w = image.shape
        truth = np.array([[-1.0, 0, w - 1], [0, -1.0, h - 1], [0, 0, 1]]) @ truth
    assert detect_markers(image) == {}
    start = frame_homography(image.shape, 2 if turned else 0)
    result = align_from_structure(image, page, start)
    assert isinstance(result, Registration), result
    assert _box_error_mm(result.homography, truth, page) < ACCURACY_MM
    # The wrong way up, the frame finds nothing.
    assert isinstance(align_from_structure(image, page, frame_homography(image.shape, 0 if turned else 2)), Failed)


def test_the_frame_homography_puts_an_unmoved_page_where_it_lies():
    h, w = 2339, 1654  # A4 at 200 dpi
    corners = np.array([[0.0, 0.0], [defs.PAGE_WIDTH_MM, defs.PAGE_HEIGHT_MM]])
    upright = _project(corners, frame_homography((h, w), 0))
    margin = (w - h * defs.PAGE_WIDTH_MM / defs.PAGE_HEIGHT_MM) / 2  # px left and right of the page
    assert np.allclose(upright, [[margin, 0], [w - margin, h]], atol=0.5)
    # Upside down, the page's top-left corner is the scan's bottom-right.
    assert np.allclose(_project(corners, frame_homography((h, w), 2)), upright[::-1], atol=0.5)
    # A quarter turn on a landscape scan: the page's top-left corner at the top right.
    top_left = _project(corners[:1], frame_homography((w, h), 1))[0]
    assert top_left[0] > h * 0.9 and top_left[1] < w * 0.1
