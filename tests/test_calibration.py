"""Scanner calibration: the sheet is printed, rendered with pdftoppm, passed
through the simulated scanner with known faults, and measured; the measured
figures must come out near the faults."""

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import rasterize
from sipas_scan.calibration.calibrate import calibrate_scan
from sipas_scan.calibration.measure import bar_modulation, measure_sheet
from sipas_scan.calibration.profile import build_profile, load_profile, save_profile, thresholds_for_profile
from sipas_scan.calibration.render import write_sheet
from sipas_scan.errors import BadArgsError, InputFileError
from sipas_scan.fonts import missing_glyphs
from sipas_scan.reading.marks import Thresholds
from sipas_scan.reading.register import Failed
from sipas_scan.simulate.scanner import ScanSettings, scan


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    return write_sheet(tmp_path_factory.mktemp("calibration") / "sheet.pdf")


@pytest.fixture(scope="module")
def rendered(sheet):
    """The sheet as a perfect printer and a perfect 200 and 150 dpi scanner see it."""
    return {dpi: rasterize(sheet, dpi)[0] for dpi in (200, 150)}


def settings(
    page: np.ndarray,
    dpi: int,
    *,
    scale: float = 1.0,
    rotation: float = 0.0,
    mode: str = "gray",
    noise: float = 1.0,
    tint: float = 0.0,
    blur: float = 0.3,
    bw_threshold: int = 160,
) -> ScanSettings:
    """A scanner with exactly these faults; scale is applied about the page centre."""
    h, w = page.shape[:2]
    corners = ((0, 0), (w, 0), (w, h), (0, h))
    perspective = tuple(((scale - 1) * (x - w / 2), (scale - 1) * (y - h / 2)) for x, y in corners)
    return ScanSettings(
        dpi=dpi,
        mode=mode,
        rotation_deg=rotation,
        perspective_px=perspective,
        shift_px=(3.0, -2.0),
        blur_sigma_px=blur,
        noise_sigma=noise,
        jpeg_quality=95,
        lighting_amplitude=0.0,
        lighting_direction=0.0,
        shadow_edge=-1,
        dust_specks=0,
        paper_tint=tint,
        bw_threshold=bw_threshold,
    )


def scanned(page: np.ndarray, s: ScanSettings, seed: int = 1) -> np.ndarray:
    return scan(cv2.cvtColor(page, cv2.COLOR_GRAY2RGB), s, np.random.default_rng(seed))


def profile_of(image: np.ndarray, nominal_dpi: float, name: str = "test"):
    measurement = measure_sheet(image, nominal_dpi)
    assert not isinstance(measurement, Failed), measurement
    return build_profile(name, measurement, source="test.png", dpi_source="file", created_at="2024-11-25T00:00:00+00:00")


def test_sheet_has_its_markers_qr_and_vietnamese_text(sheet, rendered):
    from sipas_scan.calibration.render import INSTRUCTIONS

    assert not missing_glyphs("".join(INSTRUCTIONS) + "Thang xám Dấu mẫu trong ô Độ phân giải")
    profile = profile_of(rendered[200], 200)
    assert profile.qr_found and profile.fit and not profile.warnings, profile.warnings
    assert abs(profile.measured_dpi - 200) < 0.5 and abs(profile.skew_deg) < 0.05
    # A perfect scan reads the printed grey levels back.
    for point in profile.tone:
        assert abs(point.darkness - point.printed) < 0.02, point


def test_good_scanner_is_fit_and_its_skew_measured(rendered):
    profile = profile_of(scanned(rendered[200], settings(rendered[200], 200, rotation=1.5)), 200)
    assert profile.fit, profile.problems
    assert abs(profile.skew_deg - 1.5) < 0.1
    assert profile.mode == "grey" and profile.lightest_mark_read is not None and profile.lightest_mark_read <= 0.25
    assert thresholds_for_profile(profile) == Thresholds()


def test_scale_error_is_measured(rendered):
    page = rendered[200]
    profile = profile_of(scanned(page, settings(page, 200, scale=0.97)), 200)
    assert abs(profile.scale_x - 0.97) < 0.003 and abs(profile.scale_y - 0.97) < 0.003
    assert abs(profile.measured_dpi - 194) < 1
    assert profile.fit  # the markers correct scale ...
    assert any("-3.0 %" in w for w in profile.warnings)  # ... but the operator is told


def test_150_dpi_is_measured_and_not_fit(rendered):
    page = rendered[150]
    profile = profile_of(scanned(page, settings(page, 150)), 150)
    assert abs(profile.measured_dpi - 150) < 1 and abs(profile.scale_x - 1) < 0.003
    assert not profile.fit
    assert "200 dpi grey or better needed; this scan is 150 dpi grey" in profile.problems[0]
    # Fewer line pairs are resolved than at 200 dpi.
    sharp = profile_of(scanned(rendered[200], settings(rendered[200], 200)), 200)
    assert profile.resolved_lp_per_mm < sharp.resolved_lp_per_mm
    assert 1.5 <= profile.resolved_lp_per_mm <= 2.5 and 2.5 <= sharp.resolved_lp_per_mm <= 3.5


def test_binarised_scan_is_detected_with_the_marks_it_loses(rendered):
    page = rendered[150]
    # Threshold 160 of 255: printed darkness below 1 - 160/255 = 37 % turns white.
    profile = profile_of(scanned(page, settings(page, 150, mode="bw", bw_threshold=160)), 150)
    assert profile.mode == "bw" and not profile.fit
    assert profile.lightest_mark_read == 0.38
    assert profile.problems[0] == (
        "200 dpi grey or better needed; this scan is 150 dpi black-and-white: marks lighter than 38 % will be missed"
    )
    tone = {p.printed: p.darkness for p in profile.tone}
    assert tone[0.3] == 0.0 and tone[0.4] == 1.0
    adjusted = thresholds_for_profile(profile)
    assert adjusted.empty < Thresholds().empty and adjusted.marked > adjusted.empty


def test_dark_noisy_scanner_is_measured(rendered):
    page = rendered[200]
    # Paper tint 0.4 on a grey scanner: paper at 255 * (1 - 0.2) = 204.
    profile = profile_of(scanned(page, settings(page, 200, tint=0.4, noise=6.0)), 200)
    assert abs(profile.paper_level - 204) < 2
    assert abs(profile.noise_sigma - 6.0) < 0.6
    # Measured against its own paper, the tone still follows the print.
    assert all(abs(p.darkness - p.printed) < 0.03 for p in profile.tone)
    assert profile.fit


def test_thresholds_rise_with_a_noise_floor_and_fall_with_thinned_marks(rendered):
    profile = profile_of(rendered[200], 200)
    noisy = thresholds_for_profile(replace(profile, empty_box_coverage=0.04))
    assert noisy.empty == pytest.approx(0.055) and noisy.marked == pytest.approx(0.09)
    thin = thresholds_for_profile(replace(profile, coverage_gain=0.8))
    assert thin.empty == Thresholds().empty and thin.marked == pytest.approx(0.053)
    assert thin.marked > thin.empty


def test_a_page_without_the_sheet_fails_as_a_value():
    assert isinstance(measure_sheet(np.full((2339, 1654), 255, np.uint8), 200), Failed)
    with pytest.raises(ValueError, match="uint8"):
        measure_sheet(np.zeros((10, 10), np.float32), 200)


def test_bar_modulation_of_a_square_wave():
    t = np.arange(400) * 0.05  # 20 mm sampled every 0.05 mm
    square = np.where((t * 2.0) % 1 < 0.5, 255.0, 0.0)  # 2 line pairs per mm
    assert bar_modulation(square, 2.0, 0.05, 255) == pytest.approx(1.0, abs=0.03)
    assert bar_modulation(square, 3.0, 0.05, 255) < 0.05
    assert bar_modulation(np.full(400, 128.0), 2.0, 0.05, 255) == 0


def test_calibrate_read_saves_a_profile_that_loads(rendered, tmp_path):
    page = rendered[200]
    image = scanned(page, settings(page, 200, scale=0.97))
    scan_file = tmp_path / "scanner.png"
    Image.fromarray(image).save(scan_file, dpi=(200, 200))
    profile, path = calibrate_scan(scan_file, "office-canon", tmp_path / "calibration")
    assert path == tmp_path / "calibration" / "office-canon.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["name"] == "office-canon" and data["nominal_dpi"] == 200 and data["format"] == 1
    assert load_profile("office-canon", tmp_path / "calibration") == profile
    assert load_profile(path) == profile
    assert save_profile(profile, tmp_path / "again") == tmp_path / "again" / "office-canon.json"
    with pytest.raises(InputFileError, match="office-canon"):
        load_profile("other", tmp_path / "calibration")
    with pytest.raises(BadArgsError):
        calibrate_scan(scan_file, "../evil", tmp_path)
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((2339, 1654), 255, np.uint8)).save(blank, dpi=(200, 200))
    with pytest.raises(InputFileError, match="markers"):
        calibrate_scan(blank, "x", tmp_path)


def test_upside_down_sheet_is_measured_the_same(rendered):
    page = rendered[200]
    s = replace(settings(page, 200, rotation=-1.0), upside_down=True)
    profile = profile_of(scanned(page, s), 200)
    assert profile.orientation == 180 and abs(profile.skew_deg + 1.0) < 0.1
    assert abs(profile.measured_dpi - 200) < 1 and profile.fit


def test_calibrate_commands(rendered, tmp_path):
    from typer.testing import CliRunner

    from sipas_scan.cli import app

    runner = CliRunner()
    printed = runner.invoke(app, ["calibrate", "print", "--out", str(tmp_path / "sheet.pdf")])
    assert printed.exit_code == 0 and (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")
    page = rendered[150]
    Image.fromarray(scanned(page, settings(page, 150, mode="bw"))).save(tmp_path / "scan.png", dpi=(150, 150))
    result = runner.invoke(
        app, ["calibrate", "read", str(tmp_path / "scan.png"), "--name", "post-office", "--dir", str(tmp_path / "profiles")]
    )
    assert result.exit_code == 0, result.output
    assert "post-office: NOT FIT for reading: 200 dpi grey or better needed; this scan is 150 dpi black-and-white" in result.output
    assert (tmp_path / "profiles" / "post-office.json").is_file()
