"""`scan --calibration`: a scanner profile sets the reader's box thresholds."""

import csv
from pathlib import Path

import pytest
from test_cli import run
from typer.testing import CliRunner

from conftest import TEST_SECRET
from sipas_scan import scan
from sipas_scan.calibration.profile import ScannerProfile, save_profile, thresholds_for_profile
from sipas_scan.calibration.sheet import SHEET_VERSION
from sipas_scan.cli import app
from sipas_scan.reading.marks import Thresholds
from sipas_scan.simulate.stacks import simulate_returns

CRITERIA = [f"c{factor}_{i}" for factor, count in ((1, 3), (2, 5), (3, 6), (4, 4)) for i in range(1, count + 1)]


def make_profile(name: str, **changes) -> ScannerProfile:
    """A profile as 'calibrate read' saves it, for a good grey 200 dpi scanner."""
    values = dict(
        name=name,
        created_at="2025-01-01T00:00:00+00:00",
        source="sheet.pdf",
        sheet_version=SHEET_VERSION,
        nominal_dpi=200.0,
        dpi_source="file",
        measured_dpi=200.0,
        scale_x=1.0,
        scale_y=1.0,
        skew_deg=0.0,
        orientation=0,
        residual_mm=0.1,
        mode="grey",
        paper_level=250.0,
        black_level=20.0,
        noise_sigma=2.0,
        resolved_lp_per_mm=3.0,
        empty_box_coverage=0.0,
        coverage_gain=1.0,
        lightest_mark_read=0.2,
        qr_found=True,
        fit=True,
        problems=(),
        warnings=(),
        tone=(),
        marks=(),
        bars=(),
    )
    values.update(changes)
    return ScannerProfile(**values)


@pytest.fixture
def clean_scans(printed, tmp_path):
    _, print_dir = printed
    simulate_returns(print_dir, tmp_path / "sim", seed=3, profile="clean", workers=1)
    return print_dir.parent / "ledger.sqlite", tmp_path / "sim"


def _rows(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as f:
        return {r["form_id"]: r for r in csv.DictReader(f)}


def test_a_profile_with_a_noise_floor_raises_the_thresholds_the_scan_reads_with(tmp_path, monkeypatch):
    noisy = make_profile("noisy-200-grey", empty_box_coverage=0.04)
    save_profile(noisy, tmp_path / "profiles")
    used = []

    def fake_scan(inputs, db, options, **kwargs):  # the seam: what the pipeline would be given
        used.append(options)
        raise SystemExit(0)

    monkeypatch.setattr(scan, "scan_inputs", fake_scan)
    result = CliRunner().invoke(
        app,
        [
            "scan",
            str(tmp_path),
            "--db",
            str(tmp_path / "r.db"),
            "--secret",
            TEST_SECRET,
            "--calibration",
            "noisy-200-grey",
            "--calibration-dir",
            str(tmp_path / "profiles"),
        ],
    )
    assert result.exit_code == 0, result.output
    (options,) = used
    assert options.thresholds == thresholds_for_profile(noisy)
    assert options.thresholds.empty == pytest.approx(0.04 + Thresholds().noise_margin)
    assert options.thresholds.empty > Thresholds().empty and options.thresholds.marked > Thresholds().marked
    assert "Scanner profile noisy-200-grey: a box is empty below 5.5 % ink" in result.output
    # Without --calibration the reader keeps its defaults.
    used.clear()
    CliRunner().invoke(app, ["scan", str(tmp_path), "--db", str(tmp_path / "r.db"), "--secret", TEST_SECRET])
    assert used[0].thresholds == Thresholds()


def test_scan_reads_with_the_profile_thresholds_end_to_end(clean_scans, tmp_path):
    ledger, sim = clean_scans
    truth = _rows(sim / "truth.csv")
    # An absurd noise floor: half of every empty box reads as ink, so the
    # pen marks of the clean scans fall under the empty limit.
    save_profile(make_profile("broken", empty_box_coverage=0.5, fit=False, problems=("test",)), tmp_path / "p")
    runner = CliRunner()
    for name, extra in (("plain", []), ("broken", ["--calibration", "broken", "--calibration-dir", str(tmp_path / "p")])):
        result = runner.invoke(
            app,
            [
                "scan",
                str(sim / "scans"),
                "--db",
                str(tmp_path / f"{name}.db"),
                "--ledger",
                str(ledger),
                "--secret",
                TEST_SECRET,
                "--no-ocr",
                "--workers",
                "1",
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
        assert (
            runner.invoke(app, ["export", "--db", str(tmp_path / f"{name}.db"), "--out", str(tmp_path / f"{name}.csv")]).exit_code == 0
        )
    plain, broken = _rows(tmp_path / "plain.csv"), _rows(tmp_path / "broken.csv")
    assert list(plain) == list(truth) == list(broken)
    answered = sum(bool(truth[f][c]) for f in truth for c in CRITERIA)
    assert answered > 0
    assert sum(plain[f][c] == truth[f][c] for f in truth for c in CRITERIA) == len(truth) * len(CRITERIA)
    # Read with the profile's thresholds, hardly a mark is left.
    assert sum(bool(broken[f][c]) for f in truth for c in CRITERIA) < answered / 4


def test_unknown_profile_is_one_line_and_reads_nothing(tmp_path):
    (tmp_path / "calibration").mkdir()
    save_profile(make_profile("canon-200-grey"), tmp_path / "calibration")
    result = run("scan", str(tmp_path), "--db", "r.db", "--calibration", "no-such-scanner", cwd=tmp_path, env_secret=TEST_SECRET)
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0
    assert "no such scanner profile" in result.stderr and "canon-200-grey" in result.stderr
    assert not (tmp_path / "r.db").exists()
