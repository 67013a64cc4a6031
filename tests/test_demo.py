"""The demo end to end, as `./run demo` runs it, on a small sample: every
stage's output exists and what was read matches what was ticked."""

import csv
import os
import subprocess
import sys
from pathlib import Path

from sipas_scan.report.pipeline import score_records
from sipas_scan.survey import load_survey


def _rows(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as f:
        return {r["form_id"]: r for r in csv.DictReader(f)}


def test_small_demo_runs_the_whole_chain_and_reads_the_truth(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SIPAS_SECRET", "SIPAS_LEDGER")}
    result = subprocess.run([sys.executable, "-m", "sipas_scan", "demo", "--per-village", "2", "--villages", "6",
                             "--profile", "clean", "--seed", "11"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "output" / "demo"
    for step in ("1. sample:   12 households in 6 villages", "2. print:    12 forms", "3. simulate: 12 of 12 forms",
                 "4. scan:", "5. export:", "6. score:    12 of 12 forms scored", "7. returns:  12 of 12 forms received",
                 "Summary:"):
        assert step in result.stdout, step

    truth = _rows(out / "returns" / "truth.csv")
    records = _rows(out / "records.csv")
    assert len(truth) == 12 and list(records) == list(truth)
    for form_id, expected in truth.items():
        row = records[form_id]
        assert row["status"] == "accepted", form_id  # clean scans: nothing to review
        for column, value in expected.items():
            if column == "t1":  # handwriting: OCR text, transcribed in review
                assert bool(row[column]) == bool(value), form_id
            elif column != "status":
                assert row[column] == value, (form_id, column)

    # The indices of what was read are those of what was ticked.
    from_truth = score_records(out / "returns" / "truth.csv", load_survey(None), tmp_path / "truth-scores")
    assert (out / "results" / "indices.csv").read_text(encoding="utf-8") == \
        from_truth.indices.read_text(encoding="utf-8")
    assert f"SIPAS = {from_truth.scores.all.indices['SIPAS'].value:.2f} %" in result.stdout
    assert (out / "results" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "results" / "report.html").is_file()

    with (out / "returns-report" / "returns.csv").open(encoding="utf-8") as f:
        returns = list(csv.DictReader(f))
    (total,) = [r for r in returns if r["level"] == "all"]
    assert len([r for r in returns if r["level"] == "village"]) == 6
    assert (total["printed"], total["received"], total["accepted"], total["missing"]) == ("12", "12", "12", "0")
    for name in ("missing.csv", "not_issued.csv"):
        assert (out / "returns-report" / name).is_file()
