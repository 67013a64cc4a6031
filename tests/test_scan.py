"""Reading scanned returns end to end: print, simulate, scan, export, compare
with the truth; bad input; re-runs and interruptions."""

import csv
import hashlib
import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest
from PIL import Image

from conftest import grey_page, make_households, one_bit_pdf, write_households
from sipas_scan import defs
from sipas_scan.export import export_flags, export_records
from sipas_scan.printing.batch import print_batch
from sipas_scan.reading import pipeline
from sipas_scan.reading.marks import Thresholds
from sipas_scan.reading.page import ReadOptions, read_page
from sipas_scan.records import SUFFIX
from sipas_scan.scan import scan_inputs
from sipas_scan.simulate.stacks import PROFILES, simulate_returns
from sipas_scan.store.db import Store


@pytest.fixture(scope="module")
def printed(tmp_path_factory, secret):
    root = tmp_path_factory.mktemp("scan")
    households = write_households(root / "h.csv", make_households(6, villages=2))
    print_batch(None, households, root / "print", secret, root / "ledger.sqlite", workers=1)
    return root


def _rows(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as f:
        return {r["form_id"]: r for r in csv.DictReader(f)}


def _scan(printed, secret, inputs, db, **kwargs):
    return scan_inputs(inputs, db, ReadOptions(secret, **kwargs), workers=1, ledger_path=printed / "ledger.sqlite")


def test_clean_returns_export_exactly_the_truth(printed, secret, tmp_path):
    simulate_returns(printed / "print", tmp_path / "sim", seed=5, profile="clean", workers=1)
    summary = _scan(printed, secret, [tmp_path / "sim" / "scans"], tmp_path / "r.db")
    assert summary.pages_read == 24 and not summary.quarantined
    export_records(tmp_path / "r.db", tmp_path / "records.csv")
    truth, read = _rows(tmp_path / "sim" / "truth.csv"), _rows(tmp_path / "records.csv")
    assert list(read) == list(truth)
    with (tmp_path / "records.csv").open(encoding="utf-8") as f:
        assert next(csv.reader(f)) == [*next(iter(truth.values())), *SUFFIX]
    for serial, row in truth.items():
        for column, value in row.items():
            if column == "t1":
                assert bool(read[serial][column]) == bool(value)  # OCR text: to transcribe in review
            else:
                assert read[serial][column] == value, (serial, column)


def test_office_returns_no_silent_errors_and_every_anomaly_flagged(printed, secret, tmp_path, monkeypatch):
    # Office scanning, with respondents' mistakes and missing pages frequent
    # enough that six forms show every kind the checks below look at.
    office = PROFILES["office"]
    monkeypatch.setitem(
        PROFILES,
        "office",
        replace(
            office,
            respondent=replace(office.respondent, double_mark_rate=0.6, over_max_rate=0.6, cancel_rate=0.6, skip_violation_rate=0.6),
            stack=replace(office.stack, missing_page_rate=0.3),
        ),
    )
    simulate_returns(printed / "print", tmp_path / "sim", seed=7, profile="office", workers=1)
    summary = _scan(printed, secret, [tmp_path / "sim" / "scans"], tmp_path / "r.db", run_ocr=False)
    export_records(tmp_path / "r.db", tmp_path / "records.csv")
    export_flags(tmp_path / "r.db", tmp_path / "flags.csv")
    truth, read = _rows(tmp_path / "sim" / "truth.csv"), _rows(tmp_path / "records.csv")
    with (tmp_path / "flags.csv").open(encoding="utf-8") as f:
        flags = list(csv.DictReader(f))
    whole_form = {f["form_id"] for f in flags if not f["field"] and f["blocking"] == "1"}
    with (tmp_path / "sim" / "anomalies.csv").open(encoding="utf-8") as f:
        anomalies = list(csv.DictReader(f))
    # A cancellation done as the form says, or a circled answer, is read as
    # the answer: such a form may be accepted, with every value right.
    answered_so = {a["serial"] for a in anomalies if a["kind"] in ("cancelled", "circled")}
    other_doubt = {
        a["serial"] for a in anomalies if a["kind"] in ("multiple", "over-max", "skip-rule", "missing-page", "photocopy", "forged")
    }
    blocking = {(f["form_id"], f["field"]) for f in flags if f["blocking"] == "1"}
    for serial, row in truth.items():
        values_right = all(read[serial][c] == row[c] for c in row if c not in ("t1", "status"))
        if row["status"] == "accepted" and serial not in whole_form:
            assert read[serial]["status"] == "accepted", serial
        elif serial in answered_so and serial not in other_doubt and serial not in whole_form and values_right:
            assert read[serial]["status"] in ("accepted", "needs_review"), serial
        else:
            assert read[serial]["status"] == "needs_review", serial
        for column in row:
            if column not in ("t1", "status") and read[serial][column] != row[column]:
                assert (serial, column) in blocking or serial in whole_form, (serial, column)
    assert {a["kind"] for a in anomalies} >= {
        "multiple",
        "over-max",
        "cancelled",
        "skip-rule",
        "missing-page",
        "forged",
        "stray-page",
        "photocopy",
    }
    photocopied = {a["serial"] for a in anomalies if a["kind"] == "photocopy"}
    for a in anomalies:
        if a["kind"] in ("multiple", "over-max", "cancelled", "skip-rule"):
            # On a photocopied form the copy's page may be the one read: the
            # field is then held as two scans that disagree.
            reasons = {a["kind"], "duplicate-conflict"} if a["serial"] in photocopied else {a["kind"]}
            if not a["stack"]:  # on a page that never reached the scanner: the missing page is what is flagged
                assert any(f["form_id"] == a["serial"] and f["reason"] == "missing-page" for f in flags), a
                continue
            assert any(f["form_id"] == a["serial"] and f["field"] == a["field"] and f["reason"] in reasons for f in flags), a
        if a["kind"] == "forged":
            assert summary.quarantined["forged-code"] == 4
        if a["kind"] == "missing-page":
            # Unless a photocopy of the form brought that page in: then the
            # two differing copies of the other pages hold the form.
            reasons = {"duplicate-conflict", "missing-page"} if a["serial"] in photocopied else {"missing-page"}
            assert any(f["form_id"] == a["serial"] and f["reason"] in reasons for f in flags)
        if a["kind"] == "photocopy":
            assert any(f["form_id"] == a["serial"] and f["reason"] == "duplicate-conflict" for f in flags)
    # Every stray page, and nothing else, is quarantined as not a form (or as
    # a page without a code, when its print looks like one).
    strays = sum(a["kind"] == "stray-page" for a in anomalies)
    assert strays == PROFILES["office"].stack.stray_pages
    assert summary.quarantined["not-a-form"] + summary.quarantined["no-code"] == strays


def test_rescanning_adds_nothing_and_an_interrupted_run_resumes(printed, secret, tmp_path, monkeypatch):
    simulate_returns(printed / "print", tmp_path / "sim", seed=3, profile="clean", workers=1)
    db = tmp_path / "r.db"
    real_add_page = Store.add_page
    calls = {"n": 0}

    def add_page_then_die(self, *args, **kwargs):
        if calls["n"] == 7:
            raise KeyboardInterrupt  # the clerk closes the window mid-run
        calls["n"] += 1
        return real_add_page(self, *args, **kwargs)

    monkeypatch.setattr(Store, "add_page", add_page_then_die)
    with pytest.raises(KeyboardInterrupt):
        _scan(printed, secret, [tmp_path / "sim" / "scans"], db, run_ocr=False)
    monkeypatch.undo()
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == 7  # what was stored stays stored
    con.close()
    resumed = _scan(printed, secret, [tmp_path / "sim" / "scans"], db, run_ocr=False)
    assert resumed.pages_read == 24 - 7
    again = _scan(printed, secret, [tmp_path / "sim" / "scans", tmp_path / "sim" / "scans"], db, run_ocr=False)
    assert again.pages_read == 0 and again.files_skipped == again.files
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == 24
    assert con.execute("SELECT COUNT(*) FROM forms").fetchone()[0] == 6
    assert (
        con.execute("SELECT COUNT(*) FROM (SELECT source_id, page_index FROM pages GROUP BY 1, 2 HAVING COUNT(*) > 1)").fetchone()[0]
        == 0
    )


def _png(image: np.ndarray, path: Path) -> Path:
    cv2.imwrite(str(path), image)
    return path


def test_bad_input_is_quarantined_with_a_reason_and_the_rest_is_read(printed, secret, forged_page, tmp_path):
    good = grey_page(printed / "print" / "forms.pdf", 0, 200)
    inputs = tmp_path / "in"
    inputs.mkdir()
    _png(good, inputs / "01-good.png")
    (inputs / "02-empty.pdf").write_bytes(b"")
    (inputs / "03-truncated.pdf").write_bytes((printed / "print" / "forms.pdf").read_bytes()[:5000])
    with pikepdf.open(printed / "print" / "forms.pdf") as pdf:
        pdf.save(inputs / "04-locked.pdf", encryption=pikepdf.Encryption(owner="o", user="secret-user"))
    (inputs / "05-notes.png").write_text("not an image", encoding="utf-8")
    photo = np.dstack([np.tile(np.linspace(60, 220, 800, dtype=np.uint8), (1100, 1))] * 3)
    for centre, radius, colour in (((300, 400), 180, (30, 80, 40)), ((600, 800), 120, (20, 20, 90))):
        cv2.circle(photo, centre, radius, colour, -1)
    _png(photo, inputs / "06-photo.png")
    _png(np.full((2339, 1654), 250, np.uint8), inputs / "07-blank.png")
    # Another secret signs a code on an otherwise genuine page: a forged form.
    _png(forged_page, inputs / "08-forged.png")
    covered = good.copy()
    covered[1600:2339, 1300:1654] = 255  # bottom-right marker hidden
    _png(covered, inputs / "09-marker-covered.png")
    _png(
        cv2.rotate(grey_page(printed / "print" / "forms.pdf", 1, 200), cv2.ROTATE_90_CLOCKWISE),
        inputs / "10-sideways.png",
    )
    # A scanner set to 16-bit grey, its file stating no resolution (TIFF's 1 dpi).
    cv2.imwrite(str(inputs / "11-sixteen-bit.tif"), grey_page(printed / "print" / "forms.pdf", 2, 200).astype(np.uint16) * 257)
    # A black-and-white scan a PDF tool stored as a stencil mask.
    one_bit_pdf(inputs / "12-stencil.pdf", grey_page(printed / "print" / "forms.pdf", 3, 200) < 160, 200, stencil=True)
    summary = _scan(printed, secret, [inputs, tmp_path / "does-not-exist"], tmp_path / "r.db", run_ocr=False)
    failures = dict(summary.failed_files)
    reasons = " ".join(failures.values())
    for expected in ("empty file (0 bytes)", "password-protected", "not a PDF, TIFF, PNG or JPEG", "no such file"):
        assert expected in reasons, (expected, failures)
    assert any("03-truncated" in k for k in failures)
    assert all("\n" not in v for v in failures.values())
    assert summary.quarantined == {"not-a-form": 1, "blank-page": 1, "forged-code": 1}
    con = sqlite3.connect(tmp_path / "r.db")
    ok = con.execute(
        "SELECT s.path, p.serial, p.page_no, p.orientation, p.readings, p.residual_mm FROM pages p"
        " JOIN sources s ON s.id = p.source_id WHERE p.status = 'ok' ORDER BY s.path"
    ).fetchall()
    assert [(Path(r[0]).name, *r[1:4]) for r in ok] == [
        ("01-good.png", "0000018", 1, 0),
        ("09-marker-covered.png", "0000018", 1, 0),
        ("10-sideways.png", "0000018", 2, 90),
        ("11-sixteen-bit.tif", "0000018", 3, 0),
        ("12-stencil.pdf", "0000018", 4, 0),
    ]
    sixteen = "SELECT p.dpi FROM pages p JOIN sources s ON s.id = p.source_id WHERE s.path LIKE '%sixteen%'"
    assert con.execute(sixteen).fetchone()[0] == pytest.approx(200, abs=1)
    good, covered = (json.loads(r[4]) for r in ok[:2])
    # The covered page is aligned by its three other markers, as exactly as
    # by four, and reads as the uncovered page does.
    assert good["markers"] == [0, 1, 2, 3] and covered["markers"] == [0, 1, 3]
    assert ok[1][5] < 0.1
    assert [(f["field_id"], f["value"]) for f in covered["fields"]] == [(f["field_id"], f["value"]) for f in good["fields"]]
    # The four files that could not be read, and the input that was never there.
    assert sorted((Path(r[0]).name, r[1]) for r in con.execute("SELECT path, reason FROM source_failures")) == [
        ("02-empty.pdf", "empty-file"),
        ("03-truncated.pdf", "corrupt-pdf"),
        ("04-locked.pdf", "password-protected"),
        ("05-notes.png", "not-an-image"),
        ("does-not-exist", "not-reached"),
    ]


def test_pages_of_another_survey_are_quarantined(printed, secret, tmp_path):
    other = tmp_path / "national"
    print_batch(
        "sipas-national-2023",
        write_households(tmp_path / "h.csv", make_households(1)),
        other,
        secret,
        tmp_path / "l.sqlite",
        workers=1,
    )
    image = grey_page(other / "forms.pdf", 0, 200)
    result = read_page(image, 200, ReadOptions(secret, survey="sipas-household", run_ocr=False))
    assert (result.status, result.reason) == ("quarantined", "other-survey")
    accepted = read_page(image, 200, ReadOptions(secret, run_ocr=False))
    assert accepted.status == "ok" and accepted.survey == "sipas-national-2023"


def test_thresholds_rise_above_a_noisy_page_floor():
    noisy = Thresholds().for_page([0.03] * 50 + [0.3] * 10)
    assert noisy.empty > 0.03 and noisy.marked > noisy.empty
    assert Thresholds().for_page([0.0] * 60) == Thresholds()


def test_a_page_answered_in_full_keeps_its_empty_boxes_floor():
    # Twenty-one boxes, twelve of them inked (short questions, all answered,
    # a multiple-choice one ticked often): the floor is the empty boxes', so
    # a light tick (0.1) still reads.
    page = Thresholds().for_page([0.0] * 9 + [0.1, 0.24, 0.27, 0.31, 0.43, 0.53, 0.55, 0.62, 0.65, 0.78, 0.8, 0.9])
    assert page == Thresholds() and page.marked < 0.1


def test_formats_tiff_and_jpeg_are_read(printed, secret, tmp_path):
    simulate_returns(printed / "print", tmp_path / "tif", seed=2, profile="clean", fmt="tiff", workers=1, dpi=150)
    simulate_returns(printed / "print", tmp_path / "jpg", seed=2, profile="clean", fmt="jpeg", workers=1, dpi=150)
    a = _scan(printed, secret, [tmp_path / "tif" / "scans"], tmp_path / "a.db", run_ocr=False)
    b = _scan(printed, secret, [tmp_path / "jpg" / "scans"], tmp_path / "b.db", run_ocr=False)
    assert a.pages_read == b.pages_read == 24 and not a.quarantined and not b.quarantined
    assert a.forms["accepted"] == b.forms["accepted"] == 6
    # Not only read: read right, every value as the truth has it.
    for fmt, db in (("tif", "a.db"), ("jpg", "b.db")):
        export_records(tmp_path / db, tmp_path / f"{fmt}.csv")
        truth, read = _rows(tmp_path / fmt / "truth.csv"), _rows(tmp_path / f"{fmt}.csv")
        assert list(read) == list(truth), fmt
        for serial, row in truth.items():
            assert {c: read[serial][c] for c in row if c != "t1"} == {c: v for c, v in row.items() if c != "t1"}, (fmt, serial)


def test_page_images_are_stored_in_the_database(printed, secret, tmp_path):
    simulate_returns(printed / "print", tmp_path / "sim", seed=4, profile="clean", workers=1)
    _scan(printed, secret, [tmp_path / "sim" / "scans"], tmp_path / "r.db", run_ocr=False)
    con = sqlite3.connect(tmp_path / "r.db")
    rows = con.execute("SELECT p.image_path, i.sha256, i.jpeg FROM pages p JOIN page_images i ON p.image_path = 'sha256:' || i.sha256")
    images = [(held, digest, jpeg) for held, digest, jpeg in rows]
    assert len(images) == 24 and all(hashlib.sha256(jpeg).hexdigest() == digest for _, digest, jpeg in images)
    assert not (tmp_path / "r.db.pages").exists()  # nothing beside the database
    with Image.open(io.BytesIO(images[0][2])) as image:
        assert image.size == (1680, 2376)  # the page on the layout grid, 8 px/mm


def test_a_crashing_page_reader_quarantines_the_page_not_the_batch(printed, secret, tmp_path, monkeypatch):
    simulate_returns(printed / "print", tmp_path / "sim", seed=4, profile="clean", workers=1)
    real = pipeline.read_page
    count = {"n": 0}

    def flaky(*args, **kwargs):
        count["n"] += 1
        if count["n"] == 3:
            raise RuntimeError("simulated decoder crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_page", flaky)
    summary = _scan(printed, secret, [tmp_path / "sim" / "scans"], tmp_path / "r.db", run_ocr=False)
    assert summary.pages_read == 24 and summary.quarantined == {"read-error": 1}
    assert summary.forms["needs_review"] == 1  # the form with the lost page: missing-page


def test_two_markers_lost_align_with_the_code_only_when_they_span_the_page(printed, secret):
    """Markers cut off by the scanner: two on different sides plus the code pin
    the page and read as the clean page does; two along one edge do not."""
    page = grey_page(printed / "print" / "forms.pdf", 1, 200)
    options = ReadOptions(secret, run_ocr=False)
    clean = read_page(page, 200, options)
    diagonal = page.copy()
    diagonal[:200, :200] = 255  # top-left marker gone
    diagonal[-200:, -200:] = 255  # bottom-right marker gone
    result = read_page(diagonal, 200, options)
    assert result.status == "ok" and result.markers == (1, 3) and result.residual_mm < 0.5
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]
    top_only = page.copy()
    top_only[-200:, :] = 255  # both bottom markers gone: the printed boxes and rules align it
    result = read_page(top_only, 200, options)
    assert result.status == "ok" and result.markers == (0, 1) and result.residual_mm < 0.5
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]
    blank = np.full_like(page, 255)
    blank[:200, :200] = page[:200, :200]  # one marker and nothing else: no structure to align
    blank[:250, -600:] = page[:250, -600:]
    result = read_page(blank, 200, options)
    assert result.status == "quarantined" and result.reason == "markers-not-found"


def _qr_px(dpi: int) -> tuple[slice, slice]:
    from sipas_scan.layout import qr_rect

    x, y, w, h = (v * dpi / 25.4 for v in qr_rect())
    return slice(int(y) - 4, int(y + h) + 4), slice(int(x) - 4, int(x + w) + 4)


def _clean_page(printed, secret, index: int):
    """A printed page at 200 dpi, how it reads undamaged, and the options."""
    page = grey_page(printed / "print" / "forms.pdf", index, 200)
    options = ReadOptions(secret, run_ocr=False)
    return page, read_page(page, 200, options), options


def test_a_page_whose_code_is_torn_is_identified_by_its_printed_serial(printed, secret):
    page, clean, options = _clean_page(printed, secret, 5)
    torn = page.copy()
    torn[_qr_px(200)] = 255
    result = read_page(torn, 200, options)
    assert (result.status, result.identified_by) == ("ok", "print")
    assert (result.survey, result.serial, result.page_no) == (clean.survey, clean.serial, clean.page_no)
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]
    assert clean.identified_by == "code"
    assert result.detail.startswith("identified by the serial printed on it: header serial: " + clean.serial)
    # With the printed serials gone too, nothing names the page.
    mm = 200 / 25.4
    torn[int(10 * mm) : int(26 * mm), int(18 * mm) : int(120 * mm)] = 255  # header, markers kept
    torn[int(280 * mm) : int(292 * mm), int(18 * mm) : int(188 * mm)] = 255  # footer, markers kept
    result = read_page(torn, 200, options)
    assert (result.status, result.reason) == ("quarantined", "no-code") and "serial-unreadable" in result.detail
    assert len(result.markers) == 4


def _without_identity(page: np.ndarray) -> np.ndarray:
    """The page with its code and every printed line that names it (header
    and footer) gone, its corner markers and questions kept."""
    mm = 200 / 25.4
    torn = page.copy()
    torn[_qr_px(200)] = 255
    torn[int(10 * mm) : int(26 * mm), int(18 * mm) : int(120 * mm)] = 255
    torn[int(280 * mm) : int(292 * mm), int(18 * mm) : int(188 * mm)] = 255
    return torn


def test_a_page_nothing_names_is_still_read_as_the_page_its_print_shows(printed, secret):
    page, clean, options = _clean_page(printed, secret, 5)
    result = read_page(_without_identity(page), 200, options)
    assert (result.status, result.reason, result.serial) == ("quarantined", "no-code", "")
    assert (result.survey, result.page_no) == (clean.survey, clean.page_no)
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]


def test_a_page_nothing_names_roughly_placed_is_the_page_whose_structure_fits(printed, secret, monkeypatch):
    # Two markers along one edge place the page only roughly, and its print
    # looks like any page (as on a coarse scan): the page is the one whose
    # boxes and rules are found where the page lies.
    import sipas_scan.reading.page as reading_page
    from sipas_scan.layout import survey_and_layout

    page, clean, options = _clean_page(printed, secret, 6)
    damaged = _without_identity(page)
    damaged[:250, :] = 255  # both top markers
    every_page = [(s, p) for s in ("sipas-national-2023", "sipas-household") for p in survey_and_layout(s)[1].pages]
    monkeypatch.setattr(reading_page, "_likely_pages", lambda dark, options: list(every_page))
    result = read_page(damaged, 200, options)
    assert (result.status, result.reason, result.markers) == ("quarantined", "no-code", (2, 3))
    assert (result.survey, result.page_no) == (clean.survey, clean.page_no)
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]


def _scanned_stack(sim: Path) -> list[np.ndarray]:
    """Every page of the largest simulated stack file, grey at 200 dpi."""
    import pypdfium2

    from sipas_scan.simulate.paper import printed_page

    stack = max(sim.glob("*.pdf"), key=lambda path: path.stat().st_size)
    document = pypdfium2.PdfDocument(stack)
    count = len(document)
    document.close()
    return [cv2.cvtColor(printed_page(stack, index, 200), cv2.COLOR_RGB2GRAY) for index in range(count)]


def _write_pdf(pages: list[np.ndarray], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(page) for page in pages]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=200)
    return path


def _a_stack_with_a_page_nothing_names(printed, secret, tmp_path: Path):
    """tmp_path/in/stack.pdf: a simulated stack whose third page has lost its
    code and printed serial; returns how that page reads undamaged."""
    simulate_returns(printed / "print", tmp_path / "sim", seed=5, profile="clean", workers=1)
    pages = _scanned_stack(tmp_path / "sim" / "scans")
    clean = read_page(pages[2], 200, ReadOptions(secret, run_ocr=False))
    assert clean.status == "ok" and clean.page_no > 1  # a form's page with the page before it in the file
    pages[2] = _without_identity(pages[2])
    _write_pdf(pages, tmp_path / "in" / "stack.pdf")
    return clean


def test_a_page_nothing_names_whose_page_is_unclear_is_read_as_the_page_its_neighbours_call_for(
    printed, secret, tmp_path, monkeypatch
):
    # Its print looks a little more like another survey's page than like
    # its own (as on a coarse scan), and nothing else tells its page: it is
    # kept with the pages it looks like, and the stack picks the one its
    # neighbours call for; it is read as that page when placed.
    import sipas_scan.reading.page as reading_page
    from sipas_scan.layout import survey_and_layout

    clean = _a_stack_with_a_page_nothing_names(printed, secret, tmp_path)
    national = [("sipas-national-2023", p) for p in survey_and_layout("sipas-national-2023")[1].pages]
    household = survey_and_layout(clean.survey)[1].pages
    likely = [national[0], (clean.survey, household[clean.page_no - 1]), *national[1:]]
    likely += [(clean.survey, p) for p in household if p.number != clean.page_no]
    monkeypatch.setattr(reading_page, "_likely_pages", lambda dark, options: list(likely))
    summary = _scan(printed, secret, [tmp_path / "in"], tmp_path / "r.db", run_ocr=False)
    assert summary.placed == 1
    with sqlite3.connect(tmp_path / "r.db") as con:
        status, reason, serial, page_no, raw = con.execute(
            "SELECT status, reason, serial, page_no, readings FROM pages WHERE page_index = 2"
        ).fetchone()
    assert (status, reason, serial, page_no) == ("ok", "placed", clean.serial, clean.page_no)
    readings = json.loads(raw)
    assert [(f["field_id"], f["value"]) for f in readings["fields"]] == [(f.field_id, f.value) for f in clean.fields]
    assert readings["likely_pages"][:2] == [["sipas-national-2023", 1], [clean.survey, clean.page_no]]


def test_a_run_stopped_before_placing_leaves_it_to_the_next(printed, secret, tmp_path, monkeypatch):
    import sipas_scan.scan as scan_module

    clean = _a_stack_with_a_page_nothing_names(printed, secret, tmp_path)

    def stopped(*args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(scan_module, "_place_by_stack", stopped)
        with pytest.raises(KeyboardInterrupt):
            _scan(printed, secret, [tmp_path / "in"], tmp_path / "r.db", run_ocr=False)
    again = _scan(printed, secret, [tmp_path / "in"], tmp_path / "r.db", run_ocr=False)
    assert (again.pages_read, again.placed) == (0, 1)
    with sqlite3.connect(tmp_path / "r.db") as con:
        assert con.execute("SELECT reason, serial FROM pages WHERE page_index = 2").fetchone() == ("placed", clean.serial)


def test_a_page_nothing_names_joins_its_form_by_its_neighbours_for_a_person_to_confirm(printed, secret, tmp_path):
    from conftest import copy_database
    from sipas_scan.assembly import decisions as keys
    from sipas_scan.review import actions
    from sipas_scan.review.queue import open_items

    clean = _a_stack_with_a_page_nothing_names(printed, secret, tmp_path)
    options = ReadOptions(secret, run_ocr=False)
    db = tmp_path / "r.db"
    summary = _scan(printed, secret, [tmp_path / "in"], db, run_ocr=False)
    assert summary.placed == 1 and not summary.quarantined.get("markers-not-found")
    with sqlite3.connect(db) as con:
        page_id, status, reason, serial, page_no = con.execute(
            "SELECT id, status, reason, serial, page_no FROM pages WHERE page_index = 2"
        ).fetchone()
        flags = con.execute("SELECT reason, blocking, detail FROM flags WHERE serial = ? AND field_id = ''", (serial,)).fetchall()
    assert (status, reason, serial, page_no) == ("ok", "placed", clean.serial, clean.page_no)
    placed = [f for f in flags if f[0] == "placed-by-stack"]
    k = clean.page_no
    assert [f[1] for f in placed] == [1]
    between = f"between pages {k - 1} and {k + 1} (stack.pdf p. 2; stack.pdf p. 4)"
    assert placed[0][2] == f"page {k} (stack.pdf p. 3) placed by its neighbours: {between}"
    assert "missing-page" not in {f[0] for f in flags}
    export_records(db, tmp_path / "records.csv")
    truth = _rows(tmp_path / "sim" / "truth.csv")[clean.serial]
    read = _rows(tmp_path / "records.csv")[clean.serial]
    assert read["status"] == "needs_review"
    assert all(read[f.field_id] == truth[f.field_id] for f in clean.fields)

    # A person takes it out: it is quarantined again, its form misses the
    # page, and no later scan puts it back.
    (tmp_path / "copy").mkdir()
    other = copy_database(db, tmp_path / "copy")
    with Store(other) as store:
        [item] = [i for i in open_items(store) if i.key == keys.placed_key(page_id)]
        actions.decide(store, item, keys.TAKEN_OUT, "lan")
    with sqlite3.connect(other) as con:
        assert con.execute("SELECT status, reason, serial FROM pages WHERE id = ?", (page_id,)).fetchone() == (
            "quarantined",
            "placement-declined",
            "",
        )
        reasons = {r for (r,) in con.execute("SELECT reason FROM flags WHERE serial = ?", (clean.serial,))}
        decided = con.execute("SELECT serial, field_id, new_value, reviewer FROM decisions").fetchall()
    assert "missing-page" in reasons and "placed-by-stack" not in reasons
    assert decided == [(clean.serial, keys.placed_key(page_id), keys.TAKEN_OUT, "lan")]
    with Store(other) as store, pytest.raises(actions.ReviewError, match="back among the quarantined pages"):
        actions.reopen(store, "sipas-household", clean.serial, keys.placed_key(page_id), "boss")
    again = scan_inputs([tmp_path / "in"], other, options, workers=1, retry_quarantined=True)
    assert again.placed == 0
    with sqlite3.connect(other) as con:
        assert con.execute("SELECT reason FROM pages WHERE page_index = 2").fetchall() == [("placement-declined",)]

    # A person confirms it: the placement is settled, the page counts.
    with Store(db) as store:
        [item] = [i for i in open_items(store) if i.key == keys.placed_key(page_id)]
        actions.decide(store, item, keys.CONFIRMED, "lan")
        assert not [i for i in open_items(store) if i.key == keys.placed_key(page_id)]
    export_records(db, tmp_path / "records.csv")
    read = _rows(tmp_path / "records.csv")[clean.serial]
    assert all(read[f.field_id] == truth[f.field_id] for f in clean.fields)


def test_a_page_whose_print_clearly_is_one_page_is_that_page_whatever_its_number_reads(printed, secret):
    # Page 2 with its code torn and "Trang 3/4" where "Trang 2/4" was (a
    # bold "2" misread as "3" on a coarse scan): its boxes and tables are
    # page 2's, so it is page 2.
    page, clean, options = _clean_page(printed, secret, 5)
    next_page, _, _ = _clean_page(printed, secret, 6)
    mm = 200 / 25.4
    footer = (slice(int(280 * mm), int(292 * mm)), slice(int(85 * mm), int(125 * mm)))
    torn = page.copy()
    torn[_qr_px(200)] = 255
    torn[footer] = next_page[footer]
    result = read_page(torn, 200, options)
    assert (result.status, result.identified_by, result.serial, result.page_no) == ("ok", "print", clean.serial, clean.page_no)
    assert "page: 3/4, structure of page 2, believed" in result.detail


def test_a_page_named_by_its_print_but_set_aside_keeps_why(printed, secret, monkeypatch):
    # Named by its printed serial, then quarantined while being read: the
    # reason a person is shown is why it was set aside, not how it was named.
    import sipas_scan.reading.page as reading_page

    page, _, options = _clean_page(printed, secret, 5)
    torn = page.copy()
    torn[_qr_px(200)] = 255
    set_aside = reading_page.PageResult("quarantined", "markers-not-found", "found corner markers [1, 2]")
    monkeypatch.setattr(reading_page, "read_identified_page", lambda *args, **kwargs: set_aside)
    result = read_page(torn, 200, options)
    assert (result.status, result.reason, result.detail) == ("quarantined", "markers-not-found", "found corner markers [1, 2]")


def test_a_page_with_a_torn_code_and_one_marker_is_found_by_its_structure_and_print(printed, secret):
    page, clean, options = _clean_page(printed, secret, 6)
    damaged = page.copy()
    damaged[_qr_px(200)] = 255
    damaged[:250, -250:] = 255  # top-right marker
    damaged[-250:, :250] = 255  # bottom-left marker
    damaged[-250:, -250:] = 255  # bottom-right marker
    turned = cv2.warpAffine(damaged, cv2.getRotationMatrix2D((800, 1100), 2.0, 1.0), damaged.shape[::-1], borderValue=255)
    result = read_page(turned, 200, options)
    assert (result.status, result.identified_by, result.markers) == ("ok", "print", (0,)), result.detail
    assert (result.serial, result.page_no) == (clean.serial, clean.page_no)
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]


def test_a_page_whose_markers_and_code_are_all_lost_is_found_by_its_print(printed, secret):
    # Hard stacks: pages fed 9-12 mm off-centre, their four markers cut off
    # by the scan's edge and their code with them, were taken for stray
    # sheets. Their print still says where they lie and which page they are.
    page, clean, options = _clean_page(printed, secret, 6)
    damaged = page.copy()
    damaged[_qr_px(200)] = 255
    for rows, columns in ((slice(0, 250), slice(0, 250)), (slice(0, 250), slice(-250, None))):
        damaged[rows, columns] = 255
    for rows, columns in ((slice(-250, None), slice(0, 250)), (slice(-250, None), slice(-250, None))):
        damaged[rows, columns] = 255
    fed = cv2.getRotationMatrix2D((800, 1100), -1.5, 1.0)
    fed[:, 2] += (70, -75)  # px at 200 dpi: 9 mm right, 9.5 mm up
    upside_down = cv2.rotate(cv2.warpAffine(damaged, fed, damaged.shape[::-1], borderValue=255), cv2.ROTATE_180)
    result = read_page(upside_down, 200, options)
    assert (result.status, result.identified_by, result.markers, result.orientation) == ("ok", "print", (), 180), result.detail
    assert (result.serial, result.page_no) == (clean.serial, clean.page_no)
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]
    # A sheet of other print is still a stray sheet.
    letter = np.full_like(page, 255)
    for baseline in range(150, 2200, 40):
        cv2.putText(letter, "Kinh gui Ong Ba 0123456789 " * 3, (120, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    assert read_page(letter, 200, options).reason == "not-a-form"


def test_markers_pin_a_clean_page_to_a_hundredth_of_a_millimetre_at_any_resolution(printed):
    from sipas_scan.layout import survey_and_layout
    from sipas_scan.reading.register import detect_markers, register

    _, layout = survey_and_layout("sipas-household")
    for dpi in (150, 200, 300):
        page = grey_page(printed / "print" / "forms.pdf", 1, dpi)
        registration = register(detect_markers(page), layout.markers)
        assert registration and registration.residual_mm < 0.1, (dpi, registration)


def test_markers_touching_the_images_edge_are_found(printed, secret):
    """A page fed off-centre: the scan begins at the markers' outer edges."""
    from sipas_scan.reading.register import detect_markers

    page, clean, options = _clean_page(printed, secret, 1)
    edge = int(round(defs.MARKER_MARGIN_MM * 200 / defs.MM_PER_INCH))
    shifted = np.ascontiguousarray(page[edge:, edge:])
    assert sorted(detect_markers(shifted)) == [0, 1, 2, 3]
    result = read_page(shifted, 200, options)
    assert (result.status, result.markers) == ("ok", (0, 1, 2, 3)) and result.residual_mm < 0.1
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]


def _paint_footer_page_number(page: np.ndarray, text: str, dpi: int) -> np.ndarray:
    """The page with its "Trang k/N" replaced by ``text``, as the printer sets it."""
    from PIL import ImageDraw, ImageFont

    from sipas_scan.fonts import find_font_files

    mm = dpi / defs.MM_PER_INCH
    centre, baseline = defs.PAGE_WIDTH_MM / 2 * mm, defs.FOOTER_BASELINE_MM * mm
    out = page.copy()
    out[int(baseline - 5 * mm) : int(baseline + 2 * mm), int(centre - 15 * mm) : int(centre + 15 * mm)] = 255
    image = Image.fromarray(out)
    font = ImageFont.truetype(str(find_font_files().bold), round(defs.FONT_SIZE_HEADER_PT / 72 * dpi))
    ImageDraw.Draw(image).text((centre, baseline), text, fill=0, font=font, anchor="ms")
    return np.asarray(image).copy()


@pytest.mark.parametrize("markers", [(1, 3), (0, 1, 2, 3)])
def test_a_page_number_misread_as_another_surveys_is_settled_by_the_pages_print(printed, secret, markers):
    """Code torn, the survey's name in the footer lost and "Trang 3/4"
    reading "3/6": the print names page 3 of the six-page survey, whose boxes
    are not there; the page's boxes and rules say which page it is, and its
    serial joins it. With two markers left the page is placed only to a few
    mm; with four, exactly."""
    page, clean, options = _clean_page(printed, secret, 6)
    assert clean.page_no == 3
    mm = 200 / defs.MM_PER_INCH
    damaged = _paint_footer_page_number(page, "Trang 3/6", 200)
    damaged[_qr_px(200)] = 255
    if 0 not in markers:
        damaged[:250, :250] = 255  # top-left marker
    if 2 not in markers:
        damaged[-250:, -250:] = 255  # bottom-right marker
    damaged[int(280 * mm) : int(292 * mm), int(defs.FOOTER_LEFT_MM * mm) : int(80 * mm)] = 255  # the survey's name
    result = read_page(damaged, 200, options)
    assert (result.status, result.identified_by, result.markers) == ("ok", "print", markers), result.detail
    assert (result.survey, result.serial, result.page_no) == (clean.survey, clean.serial, clean.page_no)
    assert [(f.field_id, f.value) for f in result.fields] == [(f.field_id, f.value) for f in clean.fields]


def test_serials_that_disagree_on_a_page_placed_roughly_are_read_again_aligned(printed, secret, monkeypatch):
    """Placed by two markers only, the text may be read a few mm off and a
    serial misread: that reading is not the last word, the page aligned by its
    boxes and rules is read again. Placed exactly, a disagreement stands."""
    from sipas_scan.reading import page as page_module
    from sipas_scan.reading.register import Failed

    page, clean, options = _clean_page(printed, secret, 6)
    monkeypatch.setattr(page_module, "_read_printed", lambda aligned, options: Failed("serials-disagree", "misread"))
    rough = page.copy()
    rough[_qr_px(200)] = 255
    rough[:250, :250] = 255  # top-left marker
    rough[-250:, -250:] = 255  # bottom-right marker
    result = read_page(rough, 200, options)
    assert (result.status, result.identified_by, result.markers) == ("ok", "print", (1, 3)), result.detail
    assert (result.serial, result.page_no) == (clean.serial, clean.page_no)
    exact = page.copy()
    exact[_qr_px(200)] = 255
    result = read_page(exact, 200, options)
    assert (result.status, result.reason, result.markers) == ("quarantined", "no-code", (0, 1, 2, 3))
    assert "serials-disagree" in result.detail


def test_faded_markers_on_a_150_dpi_scan_with_a_stroke_at_a_corner_are_found(printed):
    """At 150 dpi a marker's cells are 10 px wide: faded, blurred and touched
    by a pen stroke, the detector's outline test loses them at that size and
    finds them on the corner window scaled up."""
    from sipas_scan.reading.register import detect_markers

    page = grey_page(printed / "print" / "forms.pdf", 0, 150)
    h, w = page.shape
    page = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), 4.0, 1.0), (w, h), borderValue=255)
    clean = detect_markers(page)
    assert {1, 3} <= set(clean)  # (the turn takes the other two corners off the image)
    for corners in clean.values():
        outward = (corners[3] - corners[1]) / np.linalg.norm(corners[3] - corners[1])
        cv2.line(page, tuple(int(v) for v in corners[3]), tuple(int(v) for v in corners[3] + outward * 40), 0, 1)
    faded = cv2.GaussianBlur((255 - (255 - page.astype(np.float32)) * 0.5).astype(np.uint8), (0, 0), 0.8)
    found = detect_markers(faded)
    assert {1, 3} <= set(found)
    for marker_id in found:
        # Where they are, not only which: the centre to a pixel (fading
        # moves the outline's edges inwards, the same on every side).
        assert np.abs(found[marker_id].mean(axis=0) - clean[marker_id].mean(axis=0)).max() < 1.0


def _paint_serial(page: np.ndarray, serial: str, dpi: int) -> np.ndarray:
    """The page with its code torn off and its printed serials (header and
    footer) reading ``serial``, as OCR misreading a worn print would."""
    from PIL import ImageDraw, ImageFont

    from sipas_scan.fonts import find_font_files

    mm = dpi / defs.MM_PER_INCH
    out = page.copy()
    out[_qr_px(dpi)] = 255
    image = Image.fromarray(out)
    draw = ImageDraw.Draw(image)
    bold = str(find_font_files().bold)
    hx, fx, fy = defs.HEADER_TEXT_X_MM * mm, defs.FOOTER_RIGHT_MM * mm, defs.FOOTER_BASELINE_MM * mm
    header, footer = ImageFont.truetype(bold, round(4.0 * mm)), ImageFont.truetype(bold, round(3.2 * mm))
    draw.rectangle((hx, 13.5 * mm, hx + 60 * mm, 19.5 * mm), fill=255)
    draw.text((hx, defs.HEADER_SERIAL_BASELINE_MM * mm), f"Số phiếu: {serial}", fill=0, font=header, anchor="ls")
    draw.rectangle((fx - 35 * mm, fy - 3.5 * mm, fx, fy + 1 * mm), fill=255)
    draw.text((fx, fy), f"Số phiếu {serial}", fill=0, font=footer, anchor="rs")
    return np.asarray(image).copy()


def test_a_printed_serial_naming_another_form_inside_a_form_lacking_the_page_goes_to_a_person(printed, secret, tmp_path):
    # Hard seed 71: page 2 of form A, its code unreadable, between A's pages
    # 1 and 3; its printed serial read as form B's (a valid serial), whose
    # own page 2 was never read. Taken at its print, A's page 2 would be B's
    # and its answers B's, unseen. The stack says otherwise: a person decides.
    simulate_returns(printed / "print", tmp_path / "sim", seed=5, profile="clean", workers=1)
    pages = _scanned_stack(tmp_path / "sim" / "scans")
    options = ReadOptions(secret, run_ocr=False)
    reads = [read_page(page, 200, options) for page in pages]
    at = next(i for i in range(1, len(pages) - 1) if reads[i - 1].serial == reads[i].serial == reads[i + 1].serial)
    a, k = reads[at].serial, reads[at].page_no
    # B's pages far from it in the file (its pages close by would make two forms interleaved).
    other = [i for i, r in enumerate(reads) if r.serial not in ("", a) and r.page_no == k][-1]
    assert not any(r.serial == reads[other].serial for r in reads[max(0, at - 3) : at + 4])
    b = reads[other].serial
    pages[at] = _paint_serial(pages[at], b, 200)
    misread = read_page(pages[at], 200, options)
    assert (misread.status, misread.identified_by, misread.serial, misread.page_no) == ("ok", "print", b, k)
    del pages[other]  # B's own page k never reached the scanner
    _write_pdf(pages, tmp_path / "in" / "stack.pdf")
    db = tmp_path / "r.db"
    summary = _scan(printed, secret, [tmp_path / "in"], db, run_ocr=False)
    assert summary.disputed == 1 and summary.placed == 0
    with sqlite3.connect(db) as con:
        query = "SELECT status, reason, serial, detail FROM pages WHERE page_index = ?"
        status, reason, serial, detail = con.execute(query, (at,)).fetchone()
        missing = {s: d for s, d in con.execute("SELECT serial, detail FROM flags WHERE reason = 'missing-page'")}
    assert (status, reason, serial) == ("quarantined", "serial-disputed", "")
    assert detail.startswith(
        f"its printed serial reads {b}, but it lies between pages {k - 1} and {k + 1} of form {a}"
        f" (stack.pdf p. {at}; stack.pdf p. {at + 2}), which has no page {k}; identified by the serial printed on it"
    )
    assert set(missing) == {a, b}  # both forms held, neither given the page's answers
    export_records(db, tmp_path / "records.csv")
    read = _rows(tmp_path / "records.csv")
    assert read[a]["status"] == read[b]["status"] == "needs_review"
    assert all(read[b][f.field_id] == "" for f in misread.fields)
    # Read again, nothing changes: the page stays with a person.
    assert _scan(printed, secret, [tmp_path / "in"], db, run_ocr=False).disputed == 0
