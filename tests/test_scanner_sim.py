import numpy as np
import pytest

from sipas_scan.simulate.profiles import PROFILES
from sipas_scan.simulate.scanner import Curl, _curl, draw_settings, scan


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


@pytest.mark.parametrize("edge", [0, 1, 2, 3])
def test_a_curled_edge_draws_the_print_together_towards_it(edge):
    """A sheet whose edge stands 12 mm off the glass over its last 60 mm:
    print near that edge moves in, away from it, by about the paper's
    length lost to the slope (2 * lift**2 / (3 * zone) = 1.6 mm at the
    edge); print outside the zone stays where it was."""
    dpi = 200
    px_per_mm = dpi / 25.4
    page = np.full((2339, 1654), 255, np.uint8)  # A4 at 200 dpi
    near, far = 2339 - int(5 * px_per_mm), 1000  # rows: 5 mm from the bottom, and well outside the zone
    page[near : near + 3] = 0
    page[far : far + 3] = 0
    turns = {2: 0, 1: 1, 0: 2, 3: 3}[edge]  # put the curled edge where the lines are
    out = np.rot90(_curl(np.ascontiguousarray(np.rot90(page, -turns)), Curl(edge, 60.0, 12.0), px_per_mm), turns)
    column = out[:, 800].astype(int)
    moved_in = near + 1 - (1500 + np.argmin(column[1500:]))
    assert 0.5 * px_per_mm < moved_in < 1.6 * px_per_mm, moved_in
    assert np.argmin(column[:1500]) in (far, far + 1, far + 2)
    # Beyond the paper's end the glass shows, in shadow: no ink.
    assert column[-3:].min() > 120
    # Lifted paper is lit less and out of focus.
    assert column[near - 100] < column[far - 100]
