"""Simulated returns: the truth must match the paper, the rules must hold,
every listed anomaly must be there, and a seed must fix every byte."""

import csv
from collections import Counter
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from conftest import make_households, write_households
from sipas_scan import defs
from sipas_scan.printing.batch import print_batch
from sipas_scan.printing.codes import CodeError, parse, verify
from sipas_scan.records import PREFIX
from sipas_scan.simulate import stacks as sim
from sipas_scan.simulate.paper import plan_marks, printed_page
from sipas_scan.simulate.pen import HANDS
from sipas_scan.simulate.profiles import CLEAN, HARD, OFFICE, PROFILES
from sipas_scan.simulate.respondents import fill_form
from sipas_scan.simulate.scanner import draw_settings
from sipas_scan.survey import load_survey

DPI = 150


@pytest.fixture(scope="module")
def batch(tmp_path_factory, secret):
    root = tmp_path_factory.mktemp("sim")
    households = write_households(root / "h.csv", make_households(6, villages=2))
    print_batch(None, households, root / "print", secret, root / "ledger.sqlite", workers=1)
    return root / "print"


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _ink_in(paper: np.ndarray, blank: np.ndarray, rect_mm, inset_mm: float) -> float:
    """Share of pixels inside a box (inset from its border) darkened by ink."""
    s = DPI / defs.MM_PER_INCH
    x, y, w, h = rect_mm
    x0, y0 = int((x + inset_mm) * s), int((y + inset_mm) * s)
    x1, y1 = int((x + w - inset_mm) * s), int((y + h - inset_mm) * s)
    diff = blank[y0:y1, x0:x1].astype(int).min(axis=2) - paper[y0:y1, x0:x1].astype(int).min(axis=2)
    return float((diff > 40).mean())


def _ring_ink(paper, blank, rect_mm) -> float:
    s = DPI / defs.MM_PER_INCH
    x, y, w, h = rect_mm
    outer = (x - 3.2, y - 3.2, w + 6.4, h + 6.4)
    ox0, oy0, ox1, oy1 = (int(v * s) for v in (outer[0], outer[1], outer[0] + outer[2], outer[1] + outer[3]))
    diff = blank[oy0:oy1, ox0:ox1].astype(int).min(axis=2) - paper[oy0:oy1, ox0:ox1].astype(int).min(axis=2)
    inner = np.zeros(diff.shape, bool)
    m = int(3.7 * s)
    inner[m:-m, m:-m] = True
    return float(((diff > 40) & ~inner).mean())


# Hard, with every way to mark and cancel frequent enough that six forms show them all.
EVERY_MARK = replace(
    HARD,
    respondent=replace(HARD.respondent, cancel_rate=0.5, unclear_cancel_rate=0.8, circle_rate=0.5),
    pen=replace(HARD.pen, hands=tuple((hand, 1.0) for hand in HANDS), other_mark_rate=0.5, reach_rate=0.6),
)


@pytest.mark.parametrize(("profile", "seed"), [(HARD, 1), (HARD, 2), (EVERY_MARK, 3)])
def test_truth_matches_the_ink_on_the_paper(batch, profile, seed):
    """Re-render every page without the scanner and measure the ink in each box:
    every answer is inked however it is marked (a loop round the box rather
    than in it), a cancelled box is filled (half filled in an unclear cancel),
    and no other box has ink but where a tick's long arm ran on into it."""
    survey, layout, issued = sim.read_printed_batch(batch)
    ctx = sim._Context(survey, layout, batch / "forms.pdf", issued, profile, seed)
    stacks, returned, missing, _ = sim.plan(ctx)
    checked = Counter()
    for stack in stacks:
        stack = sim.StackPlan(stack.name, DPI, "gray", stack.sheets)
        done = set()
        for sheet in stack.sheets:
            if sheet.kind != "form" or sheet.copy or sheet.forged_number or (sheet.form_index, sheet.page) in done:
                continue
            done.add((sheet.form_index, sheet.page))
            paper = sim.render_sheet(ctx, stack, sheet)
            blank = printed_page(batch / "forms.pdf", sheet.form_index * layout.page_count + sheet.page - 1, DPI)
            filled = returned[sheet.form_index]
            kinds = {a.field_id: a for a in filled.anomalies}
            shapes = {(m.field_id, m.code): m for m in plan_marks(layout, sheet.page, sheet.ink)}
            for fld in layout.pages[sheet.page - 1].fields:
                truth = filled.truth.get(fld.id, "")
                if fld.kind == "text":
                    inked = _ink_in(paper, blank, fld.box, 1.0) > 0.002
                    assert inked == bool(truth), (fld.id, truth)
                    checked["text"] += 1
                    continue
                expected = set(truth.split(";")) - {""}
                anomaly = kinds.get(fld.id)
                if anomaly and anomaly.kind == "cancelled":
                    assert anomaly.code not in expected, "a cancelled code is not the answer"
                    box = next(o.box for o in fld.options if o.code == anomaly.code)
                    coverage = _ink_in(paper, blank, box, 0.6)
                    if anomaly.half:
                        assert 0.25 < coverage < 0.85, "an unclear cancel fills about half the box"
                    else:
                        assert coverage > 0.85, "a cancelled box is filled in completely"
                    checked["half-fill" if anomaly.half else "fill"] += 1
                inked = {o.code for o in fld.options if _ink_in(paper, blank, o.box, 0.6) > 0.03}
                reached_into = set()
                for code in expected:
                    mark = shapes[fld.id, code]
                    checked[mark.shape] += 1
                    if mark.shape == "loop":
                        box = next(o.box for o in fld.options if o.code == code)
                        assert _ring_ink(paper, blank, box) > 0.02, (fld.id, code)
                        if sheet.ink.pen.wide_loops:
                            assert code not in inked, "a wide loop leaves the box itself empty"
                    else:
                        assert code in inked, (fld.id, code, mark.shape)
                    if mark.shape == "reach":
                        reached_into |= {o.code for o in fld.options if o.box == mark.next_box_mm}
                if anomaly and anomaly.kind == "cancelled":
                    expected.add(anomaly.code)
                assert inked <= expected | reached_into, (fld.id, truth, inked)
                checked["box"] += 1
    assert checked["box"] > 50 and checked["text"] >= 1
    if profile is EVERY_MARK:
        assert set(checked) >= {*HANDS, "reach", "fill", "half-fill"}, checked


def test_skip_rule_and_at_most_three_hold_unless_broken_on_purpose():
    survey = load_survey()
    rng = np.random.default_rng(11)
    broken = Counter()
    for _ in range(400):
        form = fill_form(survey, HARD.respondent, rng)
        listed = {(a.kind, a.field_id) for a in form.anomalies}
        for field_id in ("c5_1", "c5_2", "c5_3", "c5_4"):
            if form.truth.get(field_id) and not survey.field(field_id).applies_if.holds(form.truth.get("a5")):
                assert ("skip-rule", field_id) in listed
                broken["skip"] += 1
        e1 = [c for c in form.truth.get("e1", "").split(";") if c]
        if len(e1) > 3:
            assert ("over-max", "e1") in listed
            broken["over"] += 1
        for question in survey.fields():
            values = [c for c in form.truth.get(question.id, "").split(";") if c]
            if question.kind == "single" and len(values) > 1:
                assert ("multiple", question.id) in listed
            assert set(values) <= set(question.codes) or question.kind == "text"
    assert broken["skip"] and broken["over"]  # the hard profile does break them sometimes


def test_clean_respondents_never_break_the_rules():
    survey = load_survey()
    rng = np.random.default_rng(5)
    positive = total = 0
    for _ in range(300):
        form = fill_form(survey, PROFILES["clean"].respondent, rng)
        assert form.anomalies == []
        assert all(v for k, v in form.truth.items())  # nothing left blank
        for criterion in survey.index.all_criteria():
            if form.truth.get(criterion):
                total += 1
                positive += form.truth[criterion] in ("4", "5")
    assert 0.7 < positive / total < 0.92  # most criteria rated 4 or 5, some 1-3


def _decode(image: np.ndarray) -> str | None:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found[0].text if found else None


def _render(document, index: int, dpi: int) -> np.ndarray:
    page = document[index].render(scale=dpi / 72, grayscale=True).to_numpy()
    return np.ascontiguousarray(page[..., 0] if page.ndim == 3 else page)


def _pages_and_codes(stack_pdf: Path) -> tuple[list[np.ndarray], list[str | None]]:
    """Each page (at 150 dpi) and its QR text, looked for at 200 then 300 dpi;
    a loose rescan (one page as a JPEG or PNG file) at its own resolution."""
    import pypdfium2 as pdfium

    if stack_pdf.suffix in (".jpg", ".png"):
        with Image.open(stack_pdf) as picture:
            image = np.asarray(picture.convert("L"))
        width, height = (int(round(v / defs.MM_PER_INCH * DPI)) for v in (defs.PAGE_WIDTH_MM, defs.PAGE_HEIGHT_MM))
        return [cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)], [_decode(image)]
    document = pdfium.PdfDocument(stack_pdf)
    pages, codes = [], []
    for i in range(len(document)):
        pages.append(_render(document, i, DPI))
        codes.append(_decode(_render(document, i, 200)) or _decode(_render(document, i, 300)))
    return pages, codes


def _upside_down(image: np.ndarray) -> bool:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, defs.ARUCO_DICTIONARY))
    corners, ids, _ = cv2.aruco.ArucoDetector(dictionary).detectMarkers(image)
    found = {int(i): c.reshape(4, 2).mean(axis=0) for i, c in zip(ids.ravel(), corners, strict=True)}
    assert 0 in found or 2 in found
    marker = found.get(0, found.get(2))
    top_left = marker[1] < image.shape[0] / 2 and marker[0] < image.shape[1] / 2
    return top_left != (0 in found)


LISTED_KINDS = {
    "not-returned",
    "missing-page",
    "duplicate-page",
    "photocopy",
    "forged",
    "stray-page",
    "blank-page",
    "upside-down",
    "out-of-order",
    "multiple",
    "over-max",
    "cancelled",
    "skip-rule",
    "circled",
}


# Without jams the stacks are simpler still: the run with them checks every
# position, in moved files too, so the plain run is left to `-m slow`.
@pytest.mark.parametrize("jams", [pytest.param(False, marks=pytest.mark.slow), True])
def test_every_listed_anomaly_is_in_the_scans(batch, tmp_path, secret, monkeypatch, jams):
    """Every anomaly is where anomalies.csv says (file stem, page in it);
    with jams, pages rescanned alone into loose images and stacks scanned in
    two jobs move them into other files, and are not anomalies themselves."""
    if jams:
        office = sim.PROFILES["office"]
        monkeypatch.setitem(sim.PROFILES, "office", replace(office, stack=replace(office.stack, rescan_rate=0.15, split_rate=1.0)))
    summary = sim.simulate_returns(batch, tmp_path, seed=7, profile="office", fmt="pdf", workers=2)
    anomalies = _read_csv(summary.anomalies_file)
    kinds = Counter(a["kind"] for a in anomalies)
    for kind in ("photocopy", "forged", "stray-page", "upside-down"):
        assert kinds[kind] >= 1, kind
    assert set(kinds) <= LISTED_KINDS
    stacks, codes = {}, {}
    for path in summary.stacks:
        stacks[path.stem], codes[path.stem] = _pages_and_codes(path)
    rescans = [p for p in summary.stacks if p.stem.startswith("rescan-")]
    jobs = sorted(p.stem for p in summary.stacks if p.stem.endswith(("-job1", "-job2")))
    if jams:
        assert rescans and all(p.suffix in (".jpg", ".png") and len(stacks[p.stem]) == 1 for p in rescans)
        assert jobs and len(jobs) % 2 == 0
        for first in jobs[::2]:  # the break falls inside a form: the same serial either side of it
            second = first.removesuffix("-job1") + "-job2"
            assert parse(codes[first][-1])[0].serial == parse(codes[second][0])[0].serial
    assert sum(len(p) for p in stacks.values()) == summary.pages
    for a in anomalies:
        positions = [int(p) for p in a["position"].split(";") if p]
        pages = stacks.get(a["stack"], [])
        found = [codes[a["stack"]][p - 1] for p in positions] if positions else []
        if a["kind"] == "upside-down":
            assert _upside_down(pages[positions[0] - 1])
        elif a["kind"] in ("blank-page", "stray-page"):
            assert found == [None]
            if a["kind"] == "blank-page":
                assert (pages[positions[0] - 1] < 100).mean() < 0.01
        elif a["kind"] == "duplicate-page":
            assert len(found) == 2 and found[0] == found[1] and found[0] is not None
            assert parse(found[0])[0].page == int(a["page"])
        elif a["kind"] == "photocopy":
            assert {parse(c)[0].serial for c in found} == {a["serial"]}
            everywhere = [c for cs in codes.values() for c in cs if c and parse(c)[0].serial == a["serial"]]
            assert len(everywhere) >= 2 * len(found) - (1 if kinds["missing-page"] else 0)
        elif a["kind"] == "forged":
            assert len(found) == 4
            for code in found:
                assert parse(code)[0].serial == a["serial"]
                with pytest.raises(CodeError):
                    verify(code, secret)
        elif a["kind"] == "missing-page":
            for code in (c for cs in codes.values() for c in cs if c):
                parsed = parse(code)[0]
                if parsed.serial == a["serial"] and parsed.page == int(a["page"]):
                    raise AssertionError(f"page {a['page']} of {a['serial']} should be missing")
        elif a["kind"] == "out-of-order":
            pages_in_order = [parse(codes[a["stack"]][p - 1])[0].page for p in positions]
            assert pages_in_order != sorted(pages_in_order)
        elif a["kind"] in ("multiple", "over-max", "cancelled", "circled", "skip-rule"):
            assert parse(found[0])[0].serial == a["serial"] and parse(found[0])[0].page == int(a["page"])
    truth = _read_csv(summary.truth)
    flagged = {
        a["serial"]
        for a in anomalies
        if a["kind"] in ("multiple", "over-max", "cancelled", "circled", "skip-rule", "missing-page", "photocopy")
    }
    for row in truth:
        assert row["status"] == ("needs_review" if row["form_id"] in flagged else "accepted")
    assert list(truth[0])[:7] == list(PREFIX)
    assert list(truth[0])[7:] == load_survey().field_ids()


def test_the_same_seed_gives_the_same_bytes(batch, tmp_path):
    # At 150 dpi: the bytes are as reproducible as at 300, in a quarter of the pixels.
    first = sim.simulate_returns(batch, tmp_path / "a", seed=3, profile="hard", workers=2, dpi=150)
    second = sim.simulate_returns(batch, tmp_path / "b", seed=3, profile="hard", workers=1, dpi=150)
    for name in ("truth.csv", "anomalies.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    stacks = [p.read_bytes() for p in first.stacks]
    assert first.pages > 0 and len(set(stacks)) == len(stacks)  # pages were drawn, not one file copied
    assert stacks == [p.read_bytes() for p in second.stacks]


# PNG is written as JPEG is, one file a page; it is left to `-m slow`.
@pytest.mark.parametrize("fmt", ["tiff", pytest.param("png", marks=pytest.mark.slow), "jpeg"])
def test_other_output_formats(batch, tmp_path, fmt):
    summary = sim.simulate_returns(batch, tmp_path, seed=2, profile="clean", fmt=fmt, workers=1, dpi=150)
    if fmt == "tiff":
        frames = 0
        for path in summary.stacks:
            with Image.open(path) as tiff:
                frames += tiff.n_frames
        assert frames == summary.pages and all(p.suffix == ".tif" for p in summary.stacks)
    else:
        files = [f for p in summary.stacks for f in sorted(p.iterdir())]
        assert len(files) == summary.pages
        assert all(f.suffix == (".png" if fmt == "png" else ".jpg") for f in files)
        with Image.open(files[0]) as picture:
            image = np.asarray(picture.convert("L"))
        assert _decode(image) is not None


def test_clean_profile_returns_every_form_cleanly(batch, tmp_path):
    summary = sim.simulate_returns(batch, tmp_path, seed=1, profile="clean", workers=1)
    truth = _read_csv(summary.truth)
    assert len(truth) == 6 and {r["status"] for r in truth} == {"accepted"}
    assert _read_csv(summary.anomalies_file) == []
    assert summary.pages == 24
    assert [p.name for p in summary.stacks] == ["stack-001-thon-ban-van-1.pdf", "stack-002-thon-ban-van-2.pdf"]


def test_office_profile_is_messier_than_clean_but_kinder_than_hard(batch):
    """What each profile makes, not its settings: respondents' mistakes,
    how crooked and noisy the scanner is, and the faults of the stacks."""
    survey, layout, issued = sim.read_printed_batch(batch)
    mistakes, tilt, noise, faults = {}, {}, {}, {}
    for profile in (CLEAN, OFFICE, HARD):
        rng = np.random.default_rng(11)
        mistakes[profile.name] = sum(bool(fill_form(survey, profile.respondent, rng).anomalies) for _ in range(400))
        settings = [draw_settings(profile.scanner, 200, "gray", rng) for _ in range(400)]
        tilt[profile.name] = float(np.mean([abs(s.rotation_deg) for s in settings]))
        noise[profile.name] = float(np.mean([s.noise_sigma for s in settings]))
        faults[profile.name] = sum(
            len(sim.plan(sim._Context(survey, layout, batch / "forms.pdf", issued, profile, seed))[3]) for seed in range(20)
        )
    assert mistakes["clean"] == 0 < mistakes["office"] < mistakes["hard"], mistakes
    assert tilt["clean"] < tilt["office"] < tilt["hard"], tilt
    assert noise["clean"] < noise["office"] < noise["hard"], noise
    assert faults["clean"] == 0 < faults["office"] < faults["hard"], faults
