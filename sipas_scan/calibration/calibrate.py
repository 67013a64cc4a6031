"""``calibrate read``: a scan of the sheet in, a saved scanner profile out."""

from __future__ import annotations

from pathlib import Path

from sipas_scan.calibration.measure import SheetMeasurement, measure_sheet
from sipas_scan.calibration.profile import DEFAULT_DIRECTORY, ScannerProfile, build_profile, check_name, save_profile
from sipas_scan.errors import InputFileError
from sipas_scan.reading.identify import find_payloads
from sipas_scan.reading.register import Failed
from sipas_scan.reading.sources import load_page, open_source


def calibrate_scan(
    scan_path: Path, name: str, directory: Path = DEFAULT_DIRECTORY, *, dpi: float | None = None
) -> tuple[ScannerProfile, Path]:
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
        raise InputFileError(
            f"{scan_path}: the calibration sheet's markers were not found ({measurement.detail});"
            " scan the whole sheet, markers included"
        )
    not_the_sheet = _not_the_sheet(page.gray, measurement)
    if not_the_sheet:
        raise InputFileError(
            f"{scan_path}: this is not the calibration sheet ({not_the_sheet}); no profile was saved. "
            "Print the sheet with 'sipas-scan calibrate print' and scan that"
        )
    profile = build_profile(name, measurement, source=Path(scan_path).name, dpi_source=dpi_source)
    return profile, save_profile(profile, directory)


# The darkest patch of the grey wedge is solid black: on any scan fit to
# measure it reads far darker than this; a form has blank paper there.
MIN_WEDGE_DARKNESS = 0.35


def _not_the_sheet(gray, measurement: SheetMeasurement) -> str:
    """Why the page is not the calibration sheet, or '' when it may be. A form
    carries the same corner markers, so it aligns; its QR code and the empty
    paper where the sheet has its grey wedge give it away."""
    if measurement.qr_found:
        return ""
    if find_payloads(gray):
        return "its QR code is not the sheet's: a questionnaire page?"
    if measurement.tone[-1].darkness < MIN_WEDGE_DARKNESS:
        return "no grey wedge where the sheet has one"
    return ""


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
