"""A page whose signed code names a page the form does not have."""

import numpy as np

from sipas_scan.printing.codes import PageCode, Secret
from sipas_scan.reading.page import ReadOptions, read_identified_page


def test_a_code_naming_a_page_the_form_does_not_have_is_quarantined_as_unknown_page():
    page = np.full((400, 300), 255, np.uint8)
    options = ReadOptions(Secret(b"k" * 32), run_ocr=False)
    result = read_identified_page(page, 200.0, PageCode("sipas-household", "0000018", 9), {}, options)
    assert (result.status, result.reason, result.detail) == ("quarantined", "unknown-page", "page 9 of a 4-page form")
    assert (result.serial, result.page_no) == ("0000018", 9)
    zero = read_identified_page(page, 200.0, PageCode("sipas-household", "0000018", 0), {}, options)
    assert zero.reason == "unknown-page"
