import numpy as np
import pytest

from sipas_scan.simulate.profiles import PROFILES
from sipas_scan.simulate.scanner import draw_settings, scan


@pytest.mark.parametrize("profile", ["clean", "office", "hard"])
@pytest.mark.parametrize("mode", ["gray", "colour"])
def test_a_blank_page_stays_paper_coloured(profile, mode):
    """Degradations darken a little; none may turn paper black (no overflow)."""
    page = np.full((877, 620, 3), 255, np.uint8)  # A4 at 75 dpi
    for seed in range(12):
        rng = np.random.default_rng(seed)
        settings = draw_settings(PROFILES[profile].scanner, 75, mode, rng)
        out = scan(page, settings, rng)
        assert out.shape[:2] == page.shape[:2]
        assert out.ndim == (3 if mode == "colour" else 2)
        assert (out < 60).mean() < 0.003, (seed, settings)


def test_black_ink_stays_black_and_geometry_moves_it():
    page = np.full((877, 620, 3), 255, np.uint8)
    page[400:480, 300:380] = 0
    rng = np.random.default_rng(1)
    settings = draw_settings(PROFILES["office"].scanner, 75, "gray", rng)
    out = scan(page, settings, rng)
    ys, xs = np.nonzero(out < 100)
    assert abs(ys.mean() - 440) < 20 and abs(xs.mean() - 340) < 20
    flipped = scan(page, settings.__class__(**{**settings.__dict__, "upside_down": True}), np.random.default_rng(1))
    ys, xs = np.nonzero(flipped < 100)
    assert abs(ys.mean() - (877 - 440)) < 20 and abs(xs.mean() - (620 - 340)) < 20


def test_bw_mode_is_bilevel():
    page = np.full((877, 620, 3), 255, np.uint8)
    page[100:200, 100:200] = 90
    rng = np.random.default_rng(2)
    out = scan(page, draw_settings(PROFILES["hard"].scanner, 75, "bw", rng), rng)
    assert set(np.unique(out)) <= {0, 255}
