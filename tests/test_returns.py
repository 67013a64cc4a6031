"""Returns against the sample: printed vs received per village and commune,
the households to visit again, forms never issued listed apart."""

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import make_households, write_grey_pages, write_households
from sipas_scan.printing.batch import print_batch
from sipas_scan.printing.households import Household
from sipas_scan.printing.ledger import IssuedForm
from sipas_scan.reading.page import ReadOptions
from sipas_scan.returns import Received, tally_returns, write_returns
from sipas_scan.scan import scan_inputs
from sipas_scan.simulate.stacks import simulate_returns

PAGES = 4  # the standard household form


def _form(serial: str, village: str, commune: str = "Xã Hợp Thành", code: str = "") -> IssuedForm:
    return IssuedForm(
        serial, Household("Lạng Sơn", "Huyện Cao Lộc", commune, village, code or f"H{serial}", f"Chủ hộ {serial}", f"Số {serial}")
    )


def test_tally_counts_per_village_commune_and_total():
    issued = {
        ("s", f"{i}"): _form(f"{i}", v, c)
        for i, (v, c) in enumerate([("Thôn A", "Xã 1")] * 4 + [("Thôn B", "Xã 1")] * 3 + [("Thôn C", "Xã 2")] * 2)
    }
    received = {
        ("s", "0"): Received("accepted", frozenset({1, 2})),
        ("s", "1"): Received("resolved", frozenset({1, 2})),
        ("s", "2"): Received("needs_review", frozenset({1})),  # page 2 never came
        ("s", "4"): Received("rejected", frozenset({1, 2})),
        ("s", "5"): Received("held", frozenset({2, 1})),  # quarantined pages only
        ("s", "7"): Received("accepted", frozenset({1, 2})),
        ("s", "99"): Received("needs_review", frozenset({1, 2})),  # never issued
        ("other", "0"): Received("accepted", frozenset({1})),  # another survey's serial 0
    }
    report = tally_returns(issued, received, {"s": 2})
    by_village = {v.place[4]: v for v in report.villages}
    a, b, c = by_village["Thôn A"].tally, by_village["Thôn B"].tally, by_village["Thôn C"].tally
    assert (a.printed, a.received, a.accepted, a.to_review, a.rejected, a.missing, a.incomplete) == (4, 3, 2, 1, 0, 1, 1)
    assert (b.printed, b.received, b.accepted, b.to_review, b.rejected, b.missing) == (3, 2, 0, 1, 1, 1)
    assert (c.printed, c.received, c.missing, c.return_rate) == (2, 1, 1, 50.0)
    assert [(m.form.serial, m.pages) for m in by_village["Thôn A"].missing] == [("2", (2,)), ("3", ())]
    communes = dict(report.communes)
    assert communes[("s", "Lạng Sơn", "Huyện Cao Lộc", "Xã 1")].printed == 7
    assert communes[("s", "Lạng Sơn", "Huyện Cao Lộc", "Xã 1")].missing == 2
    assert (report.total.printed, report.total.received, report.total.missing) == (9, 6, 3)
    assert [(n.survey, n.serial) for n in report.not_issued] == [("other", "0"), ("s", "99")]
    # Without a page count the pages are not checked.
    assert tally_returns(issued, received, {}).total.incomplete == 0


@pytest.fixture(scope="module")
def field_round(tmp_path_factory, secret):
    """6 households in 2 villages printed and returned (clean scans, one JPEG
    per page); then one form is lost, one loses a page, and a form printed
    outside the official ledger comes back."""
    root = tmp_path_factory.mktemp("returns")
    households = make_households(6, villages=2)
    print_batch(None, write_households(root / "h.csv", households), root / "print", secret, root / "ledger.sqlite", workers=1)
    simulate_returns(root / "print", root / "sim", seed=4, profile="clean", fmt="jpeg", workers=1)
    stacks = sorted(p for p in (root / "sim" / "scans").iterdir() if p.is_dir())
    assert len(stacks) == 2
    lost = sorted(stacks[0].glob("*.jpg"))
    for page in lost[:PAGES]:  # the village's first form never came back
        page.unlink()
    lost[PAGES + 1].unlink()  # the second form's page 2 is missing
    # A genuine-looking form issued from a copy of the ledger, off the books.
    shutil.copy(root / "ledger.sqlite", root / "rogue-ledger.sqlite")
    print_batch(
        None, write_households(root / "h2.csv", make_households(1)), root / "rogue", secret, root / "rogue-ledger.sqlite", workers=1
    )
    extra = root / "sim" / "scans" / "extra"
    extra.mkdir()
    write_grey_pages(root / "rogue" / "forms.pdf", extra, PAGES)
    scan_inputs(
        [root / "sim" / "scans"],
        root / "results.sqlite",
        ReadOptions(secret, run_ocr=False),
        workers=1,
        ledger_path=root / "ledger.sqlite",
    )
    return root


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_returns_report_from_a_scanned_round(field_round, tmp_path):
    root = field_round
    summary = write_returns(root / "results.sqlite", root / "ledger.sqlite", tmp_path / "out")
    rows = _csv(summary.returns_csv)
    assert [r["level"] for r in rows] == ["village", "village", "commune", "all"]
    total = rows[-1]
    assert (total["printed"], total["received"], total["missing"], total["incomplete"]) == ("6", "5", "1", "1")
    assert int(total["accepted"]) + int(total["to_review"]) + int(total["rejected"]) == 5
    assert total["return_rate"] == "83.3"
    first = rows[0]
    assert first["village"] == "Thôn Bản Vằn 1" and (first["printed"], first["received"], first["missing"]) == ("3", "2", "1")
    missing = _csv(summary.missing_csv)
    ledger_households = make_households(6, villages=2)
    first_village = [h for h in ledger_households if h["village"] == "Thôn Bản Vằn 1"]
    assert [(m["household_code"], m["head_name"], m["address"], m["missing"], m["pages"]) for m in missing] == [
        (first_village[0]["household_code"], first_village[0]["head_name"], first_village[0]["address"], "form", ""),
        (first_village[1]["household_code"], first_village[1]["head_name"], first_village[1]["address"], "pages", "2"),
    ]
    assert "c1_1" not in missing[0] and "value" not in missing[0]  # never answers
    not_issued = _csv(summary.not_issued_csv)
    assert [(n["serial"], n["pages_received"]) for n in not_issued] == [("0000075", "4")]
    assert [p.name for p in summary.village_pdfs] == ["huyen-cao-loc_xa-hop-thanh_thon-ban-van-1.pdf"]
    text = subprocess.run(
        ["pdftotext", "-layout", str(summary.village_pdfs[0]), "-"], check=True, capture_output=True, text=True
    ).stdout
    for expected in (
        "DANH SÁCH HỘ CHƯA NỘP PHIẾU",
        "Thôn Bản Vằn 1",
        first_village[0]["head_name"],
        first_village[1]["address"],
        "Cả phiếu",
        "Trang 2",
        "Đã phát 3 phiếu · đã nhận 2",
    ):
        assert expected in text, expected


def test_returns_cli_and_bad_input(field_round, tmp_path):
    from typer.testing import CliRunner

    from sipas_scan.cli import app

    root = field_round
    result = CliRunner().invoke(
        app, ["returns", "--db", str(root / "results.sqlite"), "--ledger", str(root / "ledger.sqlite"), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "6 printed, 5 received" in result.output and "1 never issued" in result.output
    assert (tmp_path / "r" / "missing.csv").is_file()
    missing_db = CliRunner().invoke(app, ["returns", "--db", str(tmp_path / "nope.sqlite"), "--ledger", str(root / "ledger.sqlite")])
    assert missing_db.exit_code != 0 and not (tmp_path / "nope.sqlite").exists()
