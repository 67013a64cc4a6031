"""``calibrate read``: a scan of the sheet in, a saved scanner profile out."""

from __future__ import annotations

from pathlib import Path

from sipas_scan.calibration.measure import measure_sheet
from sipas_scan.calibration.profile import DEFAULT_DIRECTORY, ScannerProfile, build_profile, check_name, save_profile
from sipas_scan.errors import InputFileError
from sipas_scan.reading.register import Failed
from sipas_scan.reading.sources import load_page, open_source


def calibrate_scan(scan_path: Path, name: str, directory: Path = DEFAULT_DIRECTORY, *,
                   dpi: float | None = None) -> tuple[ScannerProfile, Path]:
    """Measure the first page of ``scan_path`` (PDF, TIFF, PNG or JPEG) and
    save the profile as ``directory``/NAME.json.

    ``dpi`` is the resolution the scanner was set to; without it, what the
    file says (or, failing that, what an A4 page of its size implies)."""
    check_name(name)
    source, pages = open_source(Path(scan_path))
    if pages < 1:
        raise InputFileError(f"{scan_path}: no pages")
    page = load_page(source, 0)
    if dpi:
        nominal, dpi_source = float(dpi), "option"
    else:
        # Files store dpi as dots per metre or per cm: 200 comes back as 199.9996.
        nominal, dpi_source = round(page.dpi, 1), "file"
    measurement = measure_sheet(page.gray, nominal)
    if isinstance(measurement, Failed):
        raise InputFileError(f"{scan_path}: the calibration sheet's markers were not found ({measurement.detail});"
                             " scan the whole sheet, markers included")
    profile = build_profile(name, measurement, source=Path(scan_path).name, dpi_source=dpi_source)
    return profile, save_profile(profile, directory)


def describe(profile: ScannerProfile) -> list[str]:
    """The measurements in plain lines, for the terminal."""
    lightest = f"{profile.lightest_mark_read * 100:.0f} %" if profile.lightest_mark_read else "none"
    return [
        f"resolution: {profile.measured_dpi:.1f} dpi measured ({profile.nominal_dpi:.0f} stated, {profile.dpi_source});"
        f" scale across {profile.scale_x:.4f}, down {profile.scale_y:.4f}",
        f"skew: {profile.skew_deg:+.2f}° (page turned {profile.orientation}°); marker residual {profile.residual_mm:.3f} mm",
        f"mode: {'black-and-white' if profile.mode == 'bw' else 'grey'}; paper {profile.paper_level:.0f},"
        f" black {profile.black_level:.0f}; noise {profile.noise_sigma:.1f} grey levels",
        "tone (printed -> measured): " + ", ".join(f"{p.printed * 100:.0f}->{p.darkness * 100:.0f}" for p in profile.tone),
        f"sharpness: {profile.resolved_lp_per_mm:g} line pairs per mm resolved",
        f"marks: lightest read {lightest}; empty boxes read {profile.empty_box_coverage * 100:.1f} % ink;"
        f" pen marks keep {profile.coverage_gain * 100:.0f} % of their size",
    ]
