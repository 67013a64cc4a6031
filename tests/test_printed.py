"""Reading a page's identity from its printed header and footer (no QR code).

Pages are printed by the real renderer and rasterised straight onto the
reader's layout grid (8 px/mm), so they stand for a page the reader has
aligned from its markers; damage is applied in code.
"""

import csv

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from sipas_scan import defs, fonts
from sipas_scan.printing.codes import make_serial, serial_is_valid
from sipas_scan.reading.printed import PrintedIdentity, Unidentified, read_printed_identity
from sipas_scan.reading.register import Failed

S = defs.READ_PX_PER_MM
SURVEY = "sipas-household"
PAGES_PER_FORM = 4
KNOWN = {SURVEY: "2025.1", "sipas-national-2023": "2023.1"}


def px(mm: float) -> int:
    return int(round(mm * S))


@pytest.fixture(scope="module")
def forms(printed):
    """(serials, pages): the batch's serials and its pages on the layout grid, in print order."""
    summary, print_dir = printed
    with (print_dir / "manifest.csv").open(encoding="utf-8") as f:
        serials = [row["serial"] for row in csv.DictReader(f)]
    assert summary.pages_per_form == PAGES_PER_FORM and summary.survey_id == SURVEY
    size = (int(round(defs.PAGE_WIDTH_MM * S)), int(round(defs.PAGE_HEIGHT_MM * S)))
    document = pdfium.PdfDocument(print_dir / "forms.pdf")
    pages = []
    for index in range(2 * PAGES_PER_FORM):  # the first two forms are enough
        image = document[index].render(scale=S * defs.MM_PER_INCH / 72, grayscale=True).to_numpy()
        image = image[..., 0] if image.ndim == 3 else image
        # pdfium rounds the page to 2377 rows; the grid has 2376.
        pages.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    document.close()
    return serials, pages


def page_of(forms, form: int, page: int) -> np.ndarray:
    return forms[1][form * PAGES_PER_FORM + page - 1].copy()


def read(image: np.ndarray, **kwargs) -> PrintedIdentity | Failed:
    return read_printed_identity(image, **{"page_count": PAGES_PER_FORM, "known_surveys": KNOWN, **kwargs})


def whiten(image: np.ndarray, x0_mm: float, y0_mm: float, x1_mm: float, y1_mm: float) -> None:
    image[px(y0_mm) : px(y1_mm), px(x0_mm) : px(x1_mm)] = 255


HEADER_SERIAL_BOX_MM = (20.0, 13.0, 70.0, 20.0)  # x0, y0, x1, y1 around "Số phiếu: 0000018"
FOOTER_SERIAL_BOX_MM = (150.0, 282.0, 190.0, 289.0)  # around "Số phiếu 0000018"


# ---- clean and damaged pages -------------------------------------------------


@pytest.mark.parametrize(("form", "page"), [(0, 1), (0, 4), (1, 2)])
def test_clean_page_reads_exactly(forms, form, page):
    result = read(page_of(forms, form, page))
    assert isinstance(result, PrintedIdentity), result
    assert (result.survey, result.serial, result.page, result.page_count) == (SURVEY, forms[0][form], page, PAGES_PER_FORM)
    assert result.confidence > 0.8


def test_survey_definitions_in_forms_are_the_default(forms):
    result = read_printed_identity(page_of(forms, 0, 3))
    assert result and (result.survey, result.serial, result.page) == (SURVEY, forms[0][0], 3)


def shifted(image: np.ndarray, dx_mm: float, dy_mm: float) -> np.ndarray:
    matrix = np.float32([[1, 0, dx_mm * S], [0, 1, dy_mm * S]])
    return cv2.warpAffine(image, matrix, image.shape[::-1], flags=cv2.INTER_LINEAR, borderValue=255)


def blurred(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), 1.0)


def noisy(image: np.ndarray) -> np.ndarray:
    noise = np.random.default_rng(7).normal(0, 15, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int = 30) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def black_and_white(image: np.ndarray) -> np.ndarray:
    return np.where(image > 150, 255, 0).astype(np.uint8)


def faded(image: np.ndarray) -> np.ndarray:
    """Grey paper, grey toner."""
    return (70 + image.astype(np.float32) * (215 - 70) / 255).astype(np.uint8)


DAMAGE = {
    "blur sigma 1 px": blurred,
    "noise": noisy,
    "jpeg quality 30": jpeg,
    "0.8 mm shift": lambda im: shifted(im, 0.8, -0.8),
    "1.5 mm shift": lambda im: shifted(im, -1.5, 1.5),
    "black and white": black_and_white,
    "grey paper and toner": faded,
    "all at once": lambda im: black_and_white(jpeg(noisy(blurred(shifted(im, -0.8, 0.8))))),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_page_still_reads_right(forms, damage):
    image = DAMAGE[damage](page_of(forms, 1, 3))
    assert np.mean(np.abs(image.astype(int) - page_of(forms, 1, 3))) > 0.1  # the damage did something
    result = read(image)
    assert result and (result.survey, result.serial, result.page) == (SURVEY, forms[0][1], 3), result


def test_faded_page_damaged_every_way_reads_when_the_survey_is_known(forms):
    """Grey toner blurred and thresholded loses the 7.5 pt survey text's
    hyphen, so that text no longer matches; serial and page still read."""
    image = black_and_white(jpeg(noisy(blurred(shifted(faded(page_of(forms, 0, 4)), -0.8, 0.8)))))
    result = read(image, survey=SURVEY)
    assert result and (result.survey, result.serial, result.page) == (SURVEY, forms[0][0], 4), result


# ---- one source of the serial lost, or the two disagreeing ---------------------------


def scribble(image: np.ndarray, x0_mm: float, y0_mm: float, x1_mm: float, y1_mm: float) -> None:
    """A dense pen zig-zag over a box: 0.5 mm strokes 0.6 mm apart."""
    xs = np.arange(x0_mm, x1_mm, 0.6)
    ys = np.where(np.arange(xs.size) % 2 == 0, y0_mm, y1_mm)
    points = np.int32(np.stack([xs, ys], axis=1) * S).reshape(-1, 1, 2)
    cv2.polylines(image, [points], False, 30, thickness=px(0.5), lineType=cv2.LINE_AA)


def test_header_serial_scribbled_over_reads_from_the_footer(forms):
    clean = read(page_of(forms, 0, 2))
    image = page_of(forms, 0, 2)
    scribble(image, 40.0, 13.5, 66.0, 19.5)
    header_only = image.copy()
    whiten(header_only, *FOOTER_SERIAL_BOX_MM)
    assert not read(header_only)  # the scribble really hides the header's serial
    result = read(image)
    assert result and (result.serial, result.page) == (forms[0][0], 2), result
    assert result.confidence < clean.confidence  # one source is less sure than two


def test_footer_serial_alone_or_header_serial_alone_is_enough(forms):
    for box in (HEADER_SERIAL_BOX_MM, FOOTER_SERIAL_BOX_MM):
        image = page_of(forms, 1, 4)
        whiten(image, *box)
        result = read(image)
        assert result and (result.serial, result.page) == (forms[0][1], 4), (box, result)


def test_header_and_footer_with_different_valid_serials_fail(forms):
    image = page_of(forms, 0, 1)
    other = page_of(forms, 1, 1)
    x0, y0, x1, y1 = (px(v) for v in HEADER_SERIAL_BOX_MM)
    image[y0:y1, x0:x1] = other[y0:y1, x0:x1]  # the header of another form pasted in
    footer_only = image.copy()
    whiten(footer_only, *HEADER_SERIAL_BOX_MM)
    header_only = image.copy()
    whiten(header_only, *FOOTER_SERIAL_BOX_MM)
    assert read(footer_only).serial == forms[0][0] and read(header_only).serial == forms[0][1]
    result = read(image)
    assert isinstance(result, Failed) and result.reason == "serials-disagree", result
    assert isinstance(result, Unidentified) and set(result.digits) == {forms[0][0], forms[0][1]}, result


@pytest.mark.parametrize("voted", ["header", "footer", "both"])
def test_a_serial_read_at_once_beats_a_different_one_believed_after_retries(forms, monkeypatch, voted):
    # The footer cut off at the page's edge: its retries agreed on a
    # misreading. The header, read at once, is what is printed; two lines
    # read the same way and disagreeing still fail.
    import sipas_scan.reading.printed as printed

    right, wrong = forms[0][0], forms[0][1]
    lines = iter(
        [
            printed._Serial(wrong if voted == "header" else right, 95.0, False, "header", voted=voted in ("header", "both")),
            printed._Serial(right if voted == "header" else wrong, 95.0, False, "footer", voted=voted in ("footer", "both")),
        ]
    )
    monkeypatch.setattr(printed, "_read_serial", lambda *args, **kwargs: next(lines))
    result = read(page_of(forms, 0, 1))
    if voted == "both":
        assert isinstance(result, Failed) and result.reason == "serials-disagree", result
    else:
        assert result and result.serial == right and "after retries" in result.detail, result


@pytest.mark.parametrize(
    ("header_digits", "believed"), [("0044093", False), ("0000907", True), ("", True)], ids=["far", "one-off", "nothing"]
)
def test_a_serial_read_on_the_footer_alone_is_not_believed_against_other_digits_in_the_header(
    forms, monkeypatch, header_digits, believed
):
    # 0000091 read "0000901" in the footer (valid: the check digit misses
    # 09 <-> 90) while the header read "0044093": seven digits far from it,
    # so one line is misread and nothing tells which. One digit off, or
    # nothing read, is no contradiction.
    import sipas_scan.reading.printed as printed

    serial = "0000901"
    header = printed._Serial(None, 60.0, bool(header_digits), "header", header_digits)
    lines = iter([header, printed._Serial(serial, 79.0, False, "footer", serial)])
    monkeypatch.setattr(printed, "_read_serial", lambda *args, **kwargs: next(lines))
    result = read(page_of(forms, 0, 1))
    if believed:
        assert result and result.serial == serial, result
    else:
        assert isinstance(result, Failed) and result.reason == "serials-disagree", result


def test_a_serial_read_on_the_header_is_believed_against_other_digits_in_the_footer(forms, monkeypatch):
    # The footer's 9 pt print read coarsely gives other digits (0003970
    # beside a header's 0001370): the header's larger print is believed.
    import sipas_scan.reading.printed as printed

    serial = forms[0][0]
    lines = iter([printed._Serial(serial, 94.0, False, "header", serial), printed._Serial(None, 20.0, True, "footer", "0003970")])
    monkeypatch.setattr(printed, "_read_serial", lambda *args, **kwargs: next(lines))
    result = read(page_of(forms, 0, 1))
    assert result and result.serial == serial, result


# ---- nothing to read, or nothing believable ------------------------------------


def test_blank_page_fails_with_a_reason():
    result = read(np.full((px(defs.PAGE_HEIGHT_MM), px(defs.PAGE_WIDTH_MM)), 255, np.uint8))
    assert isinstance(result, Failed) and not result and result.reason == "serial-unreadable"


def test_page_with_its_identity_removed_fails(forms):
    image = page_of(forms, 0, 3)
    whiten(image, *HEADER_SERIAL_BOX_MM)
    whiten(image, *FOOTER_SERIAL_BOX_MM)
    result = read(image)
    assert isinstance(result, Failed) and result.reason == "serial-unreadable", result
    image = page_of(forms, 0, 3)
    whiten(image, 90.0, 282.0, 120.0, 289.0)  # "Trang 3/4"
    result = read(image)
    assert isinstance(result, Failed) and result.reason == "page-unreadable", result
    # What the serial lines read goes with it: the page's neighbours in the
    # stack may still give its page.
    assert isinstance(result, Unidentified) and forms[0][0] in result.digits, result


def draw_serials(image: np.ndarray, serial: str, footer_serial: str | None = None) -> np.ndarray:
    """The page with another serial printed where the renderer puts it."""
    whiten(image, *HEADER_SERIAL_BOX_MM)
    whiten(image, *FOOTER_SERIAL_BOX_MM)
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    bold = str(fonts.find_font_files().bold)
    pt_px = S / defs.PT_PER_MM
    header = ImageFont.truetype(bold, round((defs.FONT_SIZE_HEADER_PT + 2) * pt_px))
    footer = ImageFont.truetype(bold, round(defs.FONT_SIZE_HEADER_PT * pt_px))
    draw.text((defs.HEADER_TEXT_X_MM * S, 18.0 * S), f"Số phiếu: {serial}", fill=0, font=header, anchor="ls")
    footer_text = f"Số phiếu {footer_serial or serial}"
    draw.text((defs.FOOTER_RIGHT_MM * S, defs.FOOTER_BASELINE_MM * S), footer_text, fill=0, font=footer, anchor="rs")
    return np.asarray(canvas).copy()


def test_serial_with_a_wrong_check_digit_fails(forms):
    valid = make_serial(4711)
    invalid = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert not serial_is_valid(invalid)
    control = read(draw_serials(page_of(forms, 0, 2), valid))
    assert control and control.serial == valid  # drawn this way, a serial is read
    result = read(draw_serials(page_of(forms, 0, 2), invalid))
    assert isinstance(result, Failed) and result.reason == "serial-check-failed", result


def test_header_and_footer_each_one_digit_off_mend_to_the_one_serial_near_both(forms):
    # As OCR misreads a worn page: the header's check digit read one too
    # high, the footer's two; only the printed serial is valid and one digit
    # from both. The same misreading in both places says nothing.
    valid = make_serial(471)
    header, footer = (valid[:-1] + str((int(valid[-1]) + n) % 10) for n in (1, 2))
    assert not serial_is_valid(header) and not serial_is_valid(footer)
    result = read(draw_serials(page_of(forms, 0, 2), header, footer))
    assert result and result.serial == valid, result
    twice = read(draw_serials(page_of(forms, 0, 2), header))
    assert isinstance(twice, Failed) and twice.reason == "serial-check-failed", twice


def test_page_number_must_fit_the_form(forms):
    image = page_of(forms, 0, 4)
    result = read_printed_identity(image, page_count=5, known_surveys=KNOWN)
    assert isinstance(result, Failed) and result.reason == "page-count-mismatch", result
    assert read_printed_identity(image, known_surveys=KNOWN).page_count == PAGES_PER_FORM  # no count given: as printed

    whiten(image, 90.0, 282.0, 120.0, 289.0)
    canvas = Image.fromarray(image)
    font = ImageFont.truetype(str(fonts.find_font_files().bold), round(defs.FONT_SIZE_HEADER_PT * S / defs.PT_PER_MM))
    ImageDraw.Draw(canvas).text((defs.PAGE_WIDTH_MM / 2 * S, defs.FOOTER_BASELINE_MM * S), "Trang 5/4", fill=0, font=font, anchor="ms")
    result = read_printed_identity(np.asarray(canvas).copy(), known_surveys=KNOWN)
    assert isinstance(result, Failed) and result.reason == "page-out-of-range", result


def test_survey_must_be_known_unless_the_caller_says_which(forms):
    image = page_of(forms, 1, 1)
    result = read(image, known_surveys={"sipas-national-2023": "2023.1"})
    assert isinstance(result, Failed) and result.reason == "survey-unknown", result
    whiten(image, 20.0, 282.0, 88.0, 289.0)  # the survey text gone: only the caller can say
    assert not read(image)
    result = read(image, survey=SURVEY)
    assert result and (result.survey, result.serial, result.page) == (SURVEY, forms[0][1], 1)


def test_a_page_known_from_its_structure_needs_no_legible_page_number(forms):
    image = page_of(forms, 0, 3)
    whiten(image, 90.0, 282.0, 120.0, 289.0)  # "Trang 3/4"
    result = read(image, survey=SURVEY, known_page=3)
    assert isinstance(result, PrintedIdentity) and (result.serial, result.page) == (forms[0][0], 3), result
    # Where the number is legible it must agree with the structure.
    result = read(page_of(forms, 0, 3), survey=SURVEY, known_page=2)
    assert isinstance(result, Failed) and result.reason == "page-disagrees", result
    # ... unless the print clearly is that page: then the number is a misread.
    result = read(page_of(forms, 0, 3), survey=SURVEY, known_page=2, structure_sure=True)
    assert isinstance(result, PrintedIdentity) and result.page == 2, result
    assert "page: 3/4, structure of page 2, believed" in result.detail


def header_serial_line() -> tuple[float, float, float, float]:
    """Where the header's "Số phiếu: ..." is read: x0, x1, baseline (mm), size (pt)."""
    import sipas_scan.reading.printed as printed

    x0 = defs.HEADER_TEXT_X_MM
    return x0, x0 + printed.HEADER_SERIAL_WIDTH_MM, printed.HEADER_SERIAL_BASELINE_MM, printed.HEADER_SERIAL_SIZE_PT


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        # The first reading fails its check digit; nine more follow.
        (["0000399"] + ["0000398"] * 3 + ["0000399"] * 6, "0000398"),  # three agree, none contradicts
        (["0000399"] + ["0000398"] * 2 + ["0000399"] * 7, None),  # two are not enough
        (["0000399"] + ["0000398"] * 3 + ["0000380"] + ["0000399"] * 5, None),  # another valid serial contradicts
    ],
)
def test_a_serial_that_does_not_read_at_once_is_believed_only_when_readings_agree(forms, monkeypatch, readings, expected):
    import sipas_scan.reading.printed as printed

    assert serial_is_valid("0000398") and serial_is_valid("0000380") and not serial_is_valid("0000399")
    script = iter(f"Số phiếu: {r}" for r in readings)
    monkeypatch.setattr(printed, "_recognise", lambda image: printed.OcrResult(next(script), (90, 90, 90)))
    monkeypatch.setattr(printed, "_recognise_digits", lambda image, alphabet="": printed.OcrResult("", ()))
    result = printed._read_serial(page_of(forms, 0, 1), *header_serial_line())
    assert result.serial == expected, result


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        # The whole line never gives seven digits (bold, blurred print); the
        # serial read alone, digits only, does.
        (["0000398"] * 3 + ["000039"] * 6, "0000398"),
        (["0000398"] * 2 + ["000039"] * 7, None),  # two are not enough
        (["0000398"] * 3 + ["0000380"] + ["000039"] * 5, None),  # another valid serial contradicts
        # Read as scanned, nothing; read thinned (bled black-and-white print), three agree.
        (["000039"] * 9 + ["0000398"] * 3, "0000398"),
        (["000039"] * 9 + ["0000398"] * 3 + ["0000380"], None),
    ],
)
def test_a_blurred_serial_is_read_alone_digits_only(forms, monkeypatch, digits, expected):
    import sipas_scan.reading.printed as printed

    monkeypatch.setattr(printed, "_recognise", lambda image: printed.OcrResult("$ố phiếu: 000039®", (40, 40, 40)))
    script = iter(digits)
    widths = []

    def digits_only(image, alphabet=printed.SERIAL_ALPHABET):
        widths.append(image.shape[1])
        return printed.OcrResult(next(script, ""), (90,))

    monkeypatch.setattr(printed, "_recognise_digits", digits_only)
    result = printed._read_serial(page_of(forms, 0, 1), *header_serial_line())
    assert result.serial == expected, result
    # Only the number is read, not its label: "0000018" is about 18 mm of the
    # 41 mm line at 11 pt, enlarged to 24-40 px capitals (x 1.4-2.3) plus padding.
    assert all(w < 2.3 * 20 * defs.READ_PX_PER_MM + 60 for w in widths), widths


def test_the_serial_alone_is_cut_from_its_label(forms):
    import sipas_scan.reading.printed as printed

    line = printed._find_line(page_of(forms, 0, 1), *header_serial_line())
    number = printed._last_word(line)
    assert 0.35 < number.grey.shape[1] / line.grey.shape[1] < 0.55, (number.grey.shape, line.grey.shape)
    assert printed._recognise_digits(printed._for_ocr(number, printed.TARGET_CAP_HEIGHT_PX, 0.4)).text == forms[0][0]


def test_a_page_number_read_with_a_fraction_slash_counts():
    import sipas_scan.reading.printed as printed

    match = printed._PAGE.search("Trang 3\u20444")
    assert match and match.groups() == ("3", "4")


def coarse_black_and_white_scan(printed, index: int) -> np.ndarray:
    """Printed page ``index`` scanned at 150 dpi in black and white with
    toner spread 3 px (the digits' counters close, neighbouring digits
    touch), on the layout grid."""
    from sipas_scan.simulate.scanner import ScanSettings, scan

    _, print_dir = printed
    document = pdfium.PdfDocument(print_dir / "forms.pdf")
    rgb = document[index].render(scale=150 / 72).to_numpy()[..., :3].copy()
    document.close()
    flat = ((0.0, 0.0),) * 4
    settings = ScanSettings(150, "bw", 0.0, flat, (0.0, 0.0), 0.6, 6.0, 95, 0.0, 0.0, -1, 0, 0.0, 140, ink_spread_px=3)
    image = scan(rgb, settings, np.random.default_rng(2))
    return cv2.resize(image, (px(defs.PAGE_WIDTH_MM), px(defs.PAGE_HEIGHT_MM)), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("page", [2, 3])
def test_a_serial_bolded_by_toner_spread_is_read_thinned(forms, printed, monkeypatch, page):
    image = coarse_black_and_white_scan(printed, PAGES_PER_FORM + page - 1)
    result = read(image, survey=SURVEY, known_page=page)
    assert result and result.serial == forms[0][1], result
    # Read only as scanned, the blobs give no serial.
    monkeypatch.setattr("sipas_scan.reading.printed.THINNING_PX", ())
    assert not read(image, survey=SURVEY, known_page=page)


def test_a_line_that_gives_no_serial_speaks_with_the_digits_it_read_most(forms, monkeypatch):
    # A header blobbed by toner: no valid serial in any reading, but the
    # same seven digits again and again. Against a serial the footer gave
    # only after retries, two places from them, it speaks: one is misread.
    import sipas_scan.reading.printed as printed
    from sipas_scan.reading.ocr import OcrResult

    assert not serial_is_valid("0000227") and not serial_is_valid("0000127") and serial_is_valid("9000217")
    once = iter(["00090137", *["0000227"] * 5, *["0000127"] * 4])  # the first reading, then the retries
    monkeypatch.setattr(printed, "_read_serial_once", lambda *args: printed._Serial(None, 40.0, False, "", next(once)))
    monkeypatch.setattr(printed, "_recognise_digits", lambda *args, **kwargs: OcrResult("", ()))
    box = (defs.HEADER_TEXT_X_MM, defs.HEADER_TEXT_X_MM + printed.HEADER_SERIAL_WIDTH_MM)
    header = printed._read_serial(page_of(forms, 0, 1), *box, printed.HEADER_SERIAL_BASELINE_MM, printed.HEADER_SERIAL_SIZE_PT)
    assert header.serial is None and header.digits == "0000227", header
    lines = iter([header, printed._Serial("9000217", printed.MIN_WORD_CONFIDENCE, False, "footer", "9000217", voted=True)])
    monkeypatch.setattr(printed, "_read_serial", lambda *args, **kwargs: next(lines))
    result = read(page_of(forms, 0, 1))
    assert isinstance(result, Failed) and result.reason == "serials-disagree", result


@pytest.mark.parametrize(("header_voted", "footer_retried"), [(False, False), (True, True)], ids=["at-once", "voted"])
def test_the_footer_is_read_again_only_when_the_header_did_not_read_at_once(forms, monkeypatch, header_voted, footer_retried):
    # A header read at once is believed over whatever the footer's retries
    # could give: they are not run.
    import sipas_scan.reading.printed as printed

    serial = forms[0][0]
    retried = []

    def line(*args, retry: bool = True):
        retried.append(retry)
        return printed._Serial(serial, 90.0, False, "", serial, voted=header_voted and len(retried) == 1)

    monkeypatch.setattr(printed, "_read_serial", line)
    assert read(page_of(forms, 0, 1)).serial == serial
    assert retried == [True, footer_retried]
