"""Page files as scanners write them: bit depths and stated resolutions."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import one_bit_pdf
from sipas_scan.reading.sources import load_page, open_source


def _page() -> np.ndarray:
    """An A4 page at 200 dpi: light grey paper, a mid-grey and a dark patch."""
    page = np.full((2339, 1654), 235, np.uint8)
    page[300:400, 300:500] = 120
    page[600:700, 300:500] = 30
    return page


def _loaded(path: Path):
    source, count = open_source(path)
    assert count == 1
    return load_page(source, 0)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_grey_reads_as_the_same_greys(suffix, tmp_path):
    # A scanner set to 16-bit grey: 0..65535. Clipped to 8 bits, all but
    # pure black would turn white and the page read as blank.
    path = tmp_path / f"page{suffix}"
    cv2.imwrite(str(path), _page().astype(np.uint16) * 257)
    with Image.open(path) as image:
        assert image.mode.startswith("I;16")
    gray = _loaded(path).gray
    assert gray.dtype == np.uint8
    assert (gray[350, 400], gray[650, 400], gray[1500, 1000]) == (120, 30, 235)


@pytest.mark.parametrize(("stated", "expected"), [((1, 1), 200.0), ((72, 72), 200.0), ((300, 300), 300.0)])
def test_a_resolution_no_scanner_uses_is_taken_from_the_page_size(stated, expected, tmp_path):
    # Files written without a unit say 1 (TIFF) or 72 (a default); a page
    # 2339 px tall is A4 at 200 dpi. A plausible stated resolution stands.
    path = tmp_path / "page.png"
    Image.fromarray(_page()).save(path, dpi=stated)
    assert _loaded(path).dpi == pytest.approx(expected, abs=0.5)


@pytest.mark.parametrize(("stencil", "bottom_up"), [(False, False), (True, False), (False, True)])
def test_a_black_and_white_pdf_page_reads_as_a_viewer_shows_it_however_it_is_stored(stencil, bottom_up, tmp_path):
    black = _page()[::2, ::2] < 128  # A4 at 100 dpi
    page = _loaded(one_bit_pdf(tmp_path / "bw.pdf", black, 100, stencil=stencil, bottom_up=bottom_up))
    assert np.abs(np.subtract(page.gray.shape, black.shape)).max() <= 1 and page.dpi == pytest.approx(100, abs=0.5)
    assert (page.gray[325, 200], page.gray[750, 500]) == (0, 255)
    assert page.gray[175, 200] == 0 and page.gray[993, 200] == 255  # the right way up, not mirrored


def test_transparent_paper_is_white(tmp_path):
    # A page saved with an alpha channel, its paper transparent over black samples.
    rgba = np.zeros((2339, 1654, 4), np.uint8)
    rgba[600:700, 300:500] = (30, 30, 30, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "page.png")
    gray = _loaded(tmp_path / "page.png").gray
    assert (gray[650, 400], gray[1500, 1000]) == (30, 255)
