"""A scanner's profile: what its calibration scan measured, whether it is fit
for reading forms, and the reader thresholds it calls for.

Profiles are JSON files, one per scanner setting (calibration/NAME.json).
Not to be confused with ``sipas_scan.simulate.profiles.ScannerProfile``,
which describes a simulated scanner.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from sipas_scan.calibration.measure import BW_EXTREME_SHARE, MID_GREYS, BarPoint, MarkPoint, SheetMeasurement, TonePoint
from sipas_scan.calibration.sheet import SHEET_VERSION
from sipas_scan.defs import MAX_ALIGNMENT_RESIDUAL_MM, MM_PER_INCH
from sipas_scan.errors import BadArgsError, InputFileError
from sipas_scan.reading.marks import Thresholds

PROFILE_FORMAT = 1
DEFAULT_DIRECTORY = Path("calibration")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# What reading needs of a scanner.
MIN_DPI = 200  # the reader warps to 203 dpi; less loses the pen strokes' detail
DPI_TOLERANCE = 0.05  # a 200 dpi scanner that is 3 % short still passes (with a scale warning)
LIGHT_MARK_DARKNESS = 0.30  # light pencil and faint ballpoint: marks this light must still read
MIN_BLACK_DARKNESS = 0.6  # black print must come out at least this dark against the paper
SCALE_WARNING = 0.02  # the markers correct scale, but beyond this the scanner setting is wrong
SKEW_WARNING_DEG = 2.0  # the markers correct skew; beyond this the feed guides need setting
NOISE_WARNING = 8.0  # grey levels (standard deviation) on flat grey
NOISE_FLOOR_WARNING = 0.01  # coverage of empty boxes
RESOLVED_MODULATION = 0.25  # a line-pair patch counts as resolved from this modulation
MIN_RESOLVED_LP_PER_MM = 2.0  # 0.25 mm lines, the thinnest pen strokes
PEN_DARKNESS = 0.55  # reference marks at least this dark stand for ordinary pen marks
PEN_COVERAGE = 0.15  # ... and at least this big
BW_EMPTY_FACTOR = 0.6  # binarised scans: empty limit lowered by this factor (see thresholds_for_profile)
MIN_COVERAGE_GAIN = 0.5


@dataclass(frozen=True)
class ScannerProfile:
    name: str
    created_at: str
    source: str  # the scan the profile was measured from
    sheet_version: str
    nominal_dpi: float  # what the file (or the operator) says
    dpi_source: str  # file | page-size | option
    measured_dpi: float  # from the distances between the sheet's markers
    scale_x: float  # measured / nominal, across the sheet
    scale_y: float  # measured / nominal, down the sheet
    skew_deg: float
    orientation: int
    residual_mm: float
    mode: str  # grey | bw
    paper_level: float  # grey level of the white patch, 0..255
    black_level: float  # grey level of the black patch
    noise_sigma: float  # grey levels, on mid-grey patches
    resolved_lp_per_mm: float  # finest line pairs resolved on both axes
    empty_box_coverage: float  # the reader's coverage of the sheet's empty boxes (median): the noise floor
    coverage_gain: float  # measured / printed coverage of pen-like reference marks (median)
    lightest_mark_read: float | None  # lightest darkness from which every reference mark reads as marked
    qr_found: bool
    fit: bool
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    tone: tuple[TonePoint, ...]
    marks: tuple[MarkPoint, ...]
    bars: tuple[BarPoint, ...]
    format: int = PROFILE_FORMAT

    def summary(self) -> str:
        verdict = "FIT for reading" if self.fit else "NOT FIT for reading"
        return f"{self.name}: {verdict}" + (": " + "; ".join(self.problems) if self.problems else "")


def _mode(tone: tuple[TonePoint, ...]) -> str:
    mid = [p.extreme_share for p in tone if MID_GREYS[0] <= p.printed <= MID_GREYS[1]]
    return "bw" if mid and float(np.mean(mid)) >= BW_EXTREME_SHARE else "grey"


def lightest_mark_read(marks: tuple[MarkPoint, ...]) -> float | None:
    """The lightest darkness from which every non-empty reference mark of at
    least PEN_COVERAGE reads as marked; None if even black marks do not."""
    levels = sorted({m.darkness for m in marks}, reverse=True)
    lightest = None
    for level in levels:
        row = [m for m in marks if m.darkness == level and m.coverage >= PEN_COVERAGE]
        if not row or any(m.state != "marked" for m in row):
            break
        lightest = level
    return lightest


def resolved_frequency(bars: tuple[BarPoint, ...], px_per_mm: float) -> float:
    """Finest line-pair frequency resolved on both axes, with every coarser one.

    Nothing beyond the sampling limit (half the pixels per mm) counts: bars
    that fine alias to a nearby frequency and can fake a modulation."""
    resolved = 0.0
    for frequency in sorted({b.frequency for b in bars}):
        if frequency < px_per_mm / 2 and all(b.modulation >= RESOLVED_MODULATION for b in bars if b.frequency == frequency):
            resolved = frequency
        else:
            break
    return resolved


def _coverage_gain(marks: tuple[MarkPoint, ...]) -> float:
    ratios = [m.measured / m.coverage for m in marks if m.darkness >= PEN_DARKNESS and m.coverage >= PEN_COVERAGE]
    return round(float(np.median(ratios)), 3) if ratios else 1.0


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def assess(
    m: SheetMeasurement, mode: str, lightest: float | None, resolved: float, floor: float, noise: float
) -> tuple[list[str], list[str]]:
    """(problems that make the setting unfit, warnings), in plain words."""
    problems: list[str] = []
    warnings: list[str] = []
    dpi = (m.px_per_mm_x + m.px_per_mm_y) / 2 * MM_PER_INCH
    words = "black-and-white" if mode == "bw" else "grey"
    missed = f": marks lighter than {_pct(lightest)} will be missed" if lightest else ": even black marks are not read"
    if dpi < MIN_DPI * (1 - DPI_TOLERANCE) or mode == "bw":
        problems.append(f"{MIN_DPI} dpi grey or better needed; this scan is {dpi:.0f} dpi {words}" + (missed if mode == "bw" else ""))
    if mode != "bw" and (lightest is None or lightest > LIGHT_MARK_DARKNESS):
        problems.append(f"light marks are lost{missed} (light pencil is about {_pct(LIGHT_MARK_DARKNESS)})")
    black = m.tone[-1].darkness
    if black < MIN_BLACK_DARKNESS:
        problems.append(f"too little contrast: black print comes out only {_pct(black)} dark (raise the contrast)")
    if m.residual_mm > MAX_ALIGNMENT_RESIDUAL_MM:
        problems.append(f"the page is distorted: the markers disagree by {m.residual_mm:.2f} mm (feed slipping?)")
    errors = {axis: px / (m.nominal_dpi / MM_PER_INCH) - 1 for axis, px in (("across", m.px_per_mm_x), ("down", m.px_per_mm_y))}
    if any(abs(e) > SCALE_WARNING for e in errors.values()):
        warnings.append(
            f"scale is off by {errors['across'] * 100:+.1f} % across and {errors['down'] * 100:+.1f} % "
            f"down the page ({dpi:.0f} dpi measured, {m.nominal_dpi:.0f} dpi stated): the markers correct "
            "it, but check the scanner's resolution and paper-size settings, and that the sheet was "
            "printed at 100 %"
        )
    if abs(m.skew_deg) > SKEW_WARNING_DEG:
        warnings.append(f"the sheet went in {m.skew_deg:+.1f}° skewed: set the feed guides")
    if mode != "bw" and noise > NOISE_WARNING:
        warnings.append(f"noisy: {noise:.1f} grey levels on flat grey")
    if floor > NOISE_FLOOR_WARNING:
        warnings.append(f"empty boxes read {_pct(floor)} ink: the empty/marked limits are raised by that much")
    if resolved < MIN_RESOLVED_LP_PER_MM:
        warnings.append(f"fine lines blur: only {resolved:g} line pairs per mm resolved ({MIN_RESOLVED_LP_PER_MM:g} wanted)")
    if not m.qr_found:
        warnings.append("the sheet's QR code was not read (is this the calibration sheet?)")
    return problems, warnings


def build_profile(
    name: str, measurement: SheetMeasurement, *, source: str, dpi_source: str, created_at: str | None = None
) -> ScannerProfile:
    """The profile (with its verdict) from one sheet's measurements."""
    m = measurement
    tone = m.tone
    mode = _mode(tone)
    mid_noise = [p.noise for p in tone if MID_GREYS[0] <= p.printed <= MID_GREYS[1]]
    noise = round(float(np.median(mid_noise)), 2) if mid_noise else 0.0
    empty = [p.measured for p in m.marks if p.coverage == 0]
    floor = round(float(np.median(empty)), 4) if empty else 0.0
    lightest = lightest_mark_read(m.marks)
    resolved = resolved_frequency(m.bars, min(m.px_per_mm_x, m.px_per_mm_y))
    problems, warnings = assess(m, mode, lightest, resolved, floor, noise)
    nominal_px = m.nominal_dpi / MM_PER_INCH
    return ScannerProfile(
        name=name,
        created_at=created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        source=source,
        sheet_version=SHEET_VERSION,
        nominal_dpi=m.nominal_dpi,
        dpi_source=dpi_source,
        measured_dpi=round((m.px_per_mm_x + m.px_per_mm_y) / 2 * MM_PER_INCH, 1),
        scale_x=round(m.px_per_mm_x / nominal_px, 4),
        scale_y=round(m.px_per_mm_y / nominal_px, 4),
        skew_deg=m.skew_deg,
        orientation=m.orientation,
        residual_mm=m.residual_mm,
        mode=mode,
        paper_level=tone[0].level,
        black_level=tone[-1].level,
        noise_sigma=noise,
        resolved_lp_per_mm=resolved,
        empty_box_coverage=floor,
        coverage_gain=_coverage_gain(m.marks),
        lightest_mark_read=lightest,
        qr_found=m.qr_found,
        fit=not problems,
        problems=tuple(problems),
        warnings=tuple(warnings),
        tone=tone,
        marks=m.marks,
        bars=m.bars,
    )


def thresholds_for_profile(profile: ScannerProfile, base: Thresholds | None = None) -> Thresholds:
    """The reader's box thresholds adjusted to one scanner. Pure.

    - The empty limit sits above the scanner's noise floor (the ink the
      reader finds in the sheet's empty boxes), as ``Thresholds.for_page``
      does per page; the marked limit keeps its distance above it.
    - A scanner that thins marks (blur, a light binarisation threshold) makes
      a pen mark cover less of the box than it does on paper: the marked
      limit is lowered in proportion (coverage_gain), so thinned marks are
      still read rather than held as doubtful.
    - A binarised scan keeps no grey: a light mark survives only as a sparse
      scatter of black pixels. Lowering the empty limit sends such boxes to
      review as doubtful instead of reading them silently as empty (dust
      specks a pixel wide are removed by the reader's opening anyway).
    """
    base = base or Thresholds()
    gain = min(1.0, max(MIN_COVERAGE_GAIN, profile.coverage_gain))
    empty = base.empty * (BW_EMPTY_FACTOR if profile.mode == "bw" else 1.0)
    empty = max(empty, profile.empty_box_coverage + base.noise_margin)
    marked = max(base.marked * gain, empty + (base.marked - base.empty) * gain)
    return Thresholds(
        empty=round(empty, 4), marked=round(marked, 4), fill_doubt=base.fill_doubt, filled=base.filled, noise_margin=base.noise_margin
    )


# ---- files --------------------------------------------------------------


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise BadArgsError(f"scanner name '{name}': use letters, digits, '.', '_' or '-' (at most 64)")
    return name


def profile_path(name: str, directory: Path = DEFAULT_DIRECTORY) -> Path:
    return Path(directory) / f"{check_name(name)}.json"


def save_profile(profile: ScannerProfile, directory: Path = DEFAULT_DIRECTORY) -> Path:
    path = profile_path(profile.name, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(profile), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def _from_dict(data: dict, where: str) -> ScannerProfile:
    if data.get("format") != PROFILE_FORMAT:
        raise InputFileError(f"{where}: not a scanner profile of format {PROFILE_FORMAT}")
    nested = {"tone": TonePoint, "marks": MarkPoint, "bars": BarPoint}
    known = {f.name for f in fields(ScannerProfile)}
    try:
        values = {k: v for k, v in data.items() if k in known}
        for key, kind in nested.items():
            values[key] = tuple(kind(**item) for item in values[key])
        for key in ("problems", "warnings"):
            values[key] = tuple(values[key])
        return ScannerProfile(**values)
    except (KeyError, TypeError) as exc:
        raise InputFileError(f"{where}: incomplete scanner profile ({exc})") from None


def load_profile(name_or_path: str | Path, directory: Path = DEFAULT_DIRECTORY) -> ScannerProfile:
    """A profile by scanner name (``directory``/NAME.json) or by file path."""
    candidate = Path(name_or_path)
    is_file = candidate.suffix == ".json" or candidate.is_file()
    path = candidate if is_file else profile_path(str(name_or_path), directory)
    if not path.is_file():
        known = sorted(p.stem for p in Path(directory).glob("*.json")) if Path(directory).is_dir() else []
        hint = (
            f" (profiles in {directory}: {', '.join(known)})"
            if known
            else " (make one with 'sipas-scan calibrate read SCAN --name NAME')"
        )
        raise InputFileError(f"{path}: no such scanner profile{hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: not a readable scanner profile ({exc})") from None
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: not a scanner profile")
    return _from_dict(data, str(path))
