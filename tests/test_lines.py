"""Scanner feed lines painted over on hand-made pages."""

import numpy as np
import pytest

from sipas_scan.reading.lines import erase_feed_lines

H, W = 2339, 1654  # A4 at 200 dpi
PX_PER_MM = H / 297


def _page() -> np.ndarray:
    page = np.full((H, W), 245, np.uint8)
    page[300:1100, 400:403] = 90  # a printed rule 100 mm long: the form's own
    page[500:540, 600:900] = 30  # a block of print
    for i in range(600):  # a long slanted pen stroke
        page[1200 + i, 300 + i // 3 : 303 + i // 3] = 40
    return page


@pytest.mark.parametrize("width", [1, 2, 3])
def test_a_drum_line_down_the_page_is_painted_over(width):
    page = _page()
    page[:, 1000 : 1000 + width] = 60
    cleaned = erase_feed_lines(page)
    assert (cleaned[:, 1000 : 1000 + width] > 200).all()


def test_what_is_printed_or_drawn_stays():
    page = _page()
    cleaned = erase_feed_lines(page)
    assert cleaned is page or np.array_equal(cleaned, page)
    page[:, 1000:1002] = 60
    cleaned = erase_feed_lines(page)
    mask = np.ones_like(page, bool)
    mask[:, 999:1003] = False
    assert np.array_equal(cleaned[mask], page[mask])


def test_a_line_broken_by_a_gap_of_a_third_of_the_page_is_kept():
    page = _page()
    page[:700, 1200] = 60
    page[1500:, 1200] = 60
    assert np.array_equal(erase_feed_lines(page), page)


def test_print_the_line_crosses_stays_under_it():
    """A drum line through a corner marker's border: painting it over there
    would cut the marker in two."""
    page = _page()
    page[100:160, 990:1050] = 20  # a marker's black border, 60 px wide
    page[:, 1000:1002] = 60
    cleaned = erase_feed_lines(page)
    assert (cleaned[100:160, 990:999] == 20).all() and (cleaned[100:160, 1003:1050] == 20).all()
    assert (cleaned[100:160, 999:1003] < 100).all()  # under the line: still ink
    assert (cleaned[200:, 1000:1002] > 200).all() and (cleaned[:90, 1000:1002] > 200).all()  # elsewhere: painted over


def test_a_line_the_scan_lightened_for_a_pixel_or_two_is_one_line():
    """JPEG beside print a line crosses lightens it for a pixel or two: its
    halves, each shorter than a line, are painted over as one line (office
    seed 71 at 200 dpi kept 139 mm of such a line beside a question's boxes)."""
    page = _page()
    page[:, 1000] = 60
    page[1240, 1000] = 190  # lighter than ink, for one pixel, past the middle
    page[1900:1902, 1000] = 200  # and two more, lower down
    cleaned = erase_feed_lines(page)
    assert (cleaned[:, 1000] > 200).all()


def test_the_dark_band_at_a_pages_edge_is_not_bridged_into_lines():
    """The shadow beyond a page's edge is dark and noisy, many columns wide:
    bridging its gaps made lines of half its columns and left specks beside
    the boxes when they were painted over (hard seed 41)."""
    page = _page()
    rng = np.random.default_rng(5)
    band = rng.integers(20, 120, size=(H, 60)).astype(np.uint8)
    band[rng.random((H, 60)) < 0.02] = 230  # light specks break every column, every few millimetres
    page[:, W - 60 :] = band
    assert np.array_equal(erase_feed_lines(page)[:, W - 60 :], band)
