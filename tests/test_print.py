import csv
import subprocess

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp

from conftest import make_households, rasterize, write_households
from sipas_scan import defs
from sipas_scan.errors import OutputFileError
from sipas_scan.layout import layout_survey
from sipas_scan.printing import batch
from sipas_scan.printing.batch import print_batch
from sipas_scan.printing.codes import CodeError, verify
from sipas_scan.printing.ledger import Ledger
from sipas_scan.survey import load_survey


def decode_qr(image: np.ndarray) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def detect_markers(image: np.ndarray) -> dict[int, np.ndarray]:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, defs.ARUCO_DICTIONARY))
    corners, ids, _ = cv2.aruco.ArucoDetector(dictionary).detectMarkers(image)
    return {} if ids is None else {int(i): c.reshape(4, 2) for i, c in zip(ids.ravel(), corners, strict=True)}


def test_the_batch_has_every_form_and_page_in_order(printed):
    summary, folder = printed
    assert summary.forms == 3 and summary.pages_per_form == 4 and summary.pages == 12
    assert len(pdfium.PdfDocument(folder / "forms.pdf")) == 12
    with (folder / "manifest.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["household_code"] for r in rows] == ["HGD0000", "HGD0001", "HGD0002"]
    assert [r["serial"] for r in rows] == ["0000018", "0000026", "0000034"]


# 150 and 300 dpi bracket what scanners give; 200 between them is left to `-m slow`.
@pytest.mark.parametrize("dpi", [150, pytest.param(200, marks=pytest.mark.slow), 300])
def test_every_page_decodes_verifies_and_shows_four_markers(printed, secret, dpi):
    _, folder = printed
    layout = layout_survey(load_survey())
    pages = rasterize(folder / "forms.pdf", dpi, first=1, last=12 if dpi < 300 else 4)
    px_per_mm = dpi / defs.MM_PER_INCH
    with (folder / "manifest.csv").open(encoding="utf-8") as f:
        serials = [r["serial"] for r in csv.DictReader(f)]
    for index, image in enumerate(pages):
        texts = decode_qr(image)
        assert len(texts) == 1, f"page {index + 1}: {texts}"
        code = verify(texts[0], secret, survey="sipas-household")
        assert code.serial == serials[index // 4] and code.page == index % 4 + 1
        markers = detect_markers(image)
        assert sorted(markers) == [0, 1, 2, 3], f"page {index + 1}"
        for marker in layout.markers:
            x, y, w, h = marker.rect
            expected = np.array([x + w / 2, y + h / 2]) * px_per_mm
            assert np.linalg.norm(markers[marker.id].mean(axis=0) - expected) < 0.5 * px_per_mm


def _strip_mean(image, x0, y0, x1, y1) -> float:
    return float(image[int(round(y0)) : int(round(y1)) + 1, int(round(x0)) : int(round(x1)) + 1].mean())


def test_every_box_in_layout_json_lands_on_a_drawn_box(printed):
    """Each box of layout.json has a dark border where the layout says, white
    inside, and white paper just outside it."""
    _, folder = printed
    layout = layout_survey(load_survey())
    dpi = 150
    s = dpi / defs.MM_PER_INCH
    pages = rasterize(folder / "forms.pdf", dpi, first=1, last=layout.page_count)
    checked = 0
    for page, image in zip(layout.pages, pages, strict=True):
        boxes = [o.box for f in page.fields for o in f.options]
        boxes += [f.box for f in page.fields if f.kind == "text"]
        for x, y, w, h in boxes:
            x0, y0, x1, y1 = x * s, y * s, (x + w) * s, (y + h) * s
            edge = 1.5  # px either side of the printed line
            mid_x0, mid_x1 = x0 + 0.2 * w * s, x1 - 0.2 * w * s
            mid_y0, mid_y1 = y0 + 0.2 * h * s, y1 - 0.2 * h * s
            borders = [
                image[int(y0 - edge) : int(y0 + edge) + 1, int(mid_x0) : int(mid_x1)].min(axis=0).mean(),
                image[int(y1 - edge) : int(y1 + edge) + 1, int(mid_x0) : int(mid_x1)].min(axis=0).mean(),
                image[int(mid_y0) : int(mid_y1), int(x0 - edge) : int(x0 + edge) + 1].min(axis=1).mean(),
                image[int(mid_y0) : int(mid_y1), int(x1 - edge) : int(x1 + edge) + 1].min(axis=1).mean(),
            ]
            assert max(borders) < 110, (page.number, (x, y, w, h), borders)
            if h < 10:  # checkboxes: empty inside, paper around
                assert _strip_mean(image, mid_x0, mid_y0, mid_x1, mid_y1) > 245
                ring = 1.0 * s
                outside = [
                    _strip_mean(image, mid_x0, y0 - ring - 1, mid_x1, y0 - ring + 1),
                    _strip_mean(image, mid_x0, y1 + ring - 1, mid_x1, y1 + ring + 1),
                    _strip_mean(image, x0 - ring - 1, mid_y0, x0 - ring + 1, mid_y1),
                    _strip_mean(image, x1 + ring - 1, mid_y0, x1 + ring + 1, mid_y1),
                ]
                assert min(outside) > 200, (page.number, (x, y, w, h), outside)
            checked += 1
    assert checked == sum(len(q.options) for q in load_survey().fields()) + 1


def test_the_pdf_text_has_the_survey_wording_in_vietnamese_and_no_household_details(printed):
    summary, folder = printed
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(folder / "forms.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for phrase in [
        "PHIẾU KHẢO SÁT SỰ HÀI LÒNG",
        "Rất không hài lòng",
        "Tiếp cận dịch vụ hành chính công",
        "Công chức có thái độ giao tiếp lịch sự",
        "Chọn tối đa 3 phương án",
        "Trang 4/4",
        "Số phiếu: 0000018",
        "Thôn Bản Vằn 1",
        "Xin trân trọng cảm ơn sự hợp tác của Ông/Bà!",
        "tô kín ô đó, rồi đánh dấu vào ô khác",
    ]:
        assert phrase in flat, phrase
    # Names and household codes go on delivery lists, never on a form.
    assert "HGD0001" not in flat and "Hoàng Thị Ước" not in flat and "Lê Lợi" not in flat
    fonts = subprocess.run(["pdffonts", str(folder / "forms.pdf")], capture_output=True, text=True, check=True).stdout
    assert "DejaVuSans" in fonts or "NotoSans" in fonts
    assert all(" yes " in line for line in fonts.splitlines()[2:]), fonts  # every font embedded


def test_delivery_lists_per_village_carry_the_households(printed):
    _, folder = printed
    pdfs = sorted((folder / "delivery").glob("*.pdf"))
    assert [p.stem for p in pdfs] == ["huyen-cao-loc_xa-hop-thanh_thon-ban-van-1", "huyen-cao-loc_xa-hop-thanh_thon-ban-van-2"]
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdfs[0]), "-"], capture_output=True, text=True, check=True).stdout
    for phrase in [
        "DANH SÁCH PHÁT VÀ THU PHIẾU KHẢO SÁT",
        "0000018",
        "HGD0000",
        "Hoàng Thị Ước 0",
        "Ký nhận phiếu",
        "Ký khi thu",
        "0000034",
    ]:
        assert phrase in text, phrase
    assert "HGD0001" not in text  # that household lives in the other village
    with (folder / "delivery" / f"{pdfs[1].stem}.csv").open(encoding="utf-8") as f:
        assert [r["serial"] for r in csv.DictReader(f)] == ["0000026"]


def test_serials_stay_unique_across_print_runs_and_a_failed_run_issues_none(tmp_path, secret, monkeypatch):
    households = write_households(tmp_path / "h.csv", make_households(2))
    ledger = tmp_path / "ledger.sqlite"
    first = print_batch(None, households, tmp_path / "run1", secret, ledger, workers=1)

    def broken_renderer(*args, **kwargs):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(batch, "render_forms", broken_renderer)
    with pytest.raises(RuntimeError):
        print_batch(None, households, tmp_path / "run-failed", secret, ledger, workers=1)
    assert not (tmp_path / "run-failed" / "forms.pdf").exists()
    monkeypatch.undo()

    second = print_batch(None, households, tmp_path / "reprint", secret, ledger, workers=1)
    assert (first.first_serial, first.last_serial) == ("0000018", "0000026")
    assert (second.first_serial, second.last_serial) == ("0000034", "0000042")
    with Ledger(ledger) as book:
        issued = book.issued("sipas-household")
        assert list(issued) == ["0000018", "0000026", "0000034", "0000042"]
        assert book.is_issued("sipas-household", "0000042") and not book.is_issued("sipas-household", "0000059")
    with pytest.raises(OutputFileError, match="already exists"):
        print_batch(None, households, tmp_path / "run1", secret, ledger, workers=1)


def test_parallel_rendering_keeps_the_csv_order(tmp_path, secret):
    households = write_households(tmp_path / "h.csv", make_households(batch.FORMS_PER_CHUNK + 5, villages=3))
    summary = print_batch(None, households, tmp_path / "out", secret, tmp_path / "l.sqlite", workers=2)
    assert summary.pages == (batch.FORMS_PER_CHUNK + 5) * 4
    document = pdfium.PdfDocument(tmp_path / "out" / "forms.pdf")
    assert len(document) == summary.pages
    with (tmp_path / "out" / "manifest.csv").open(encoding="utf-8") as f:
        serials = [r["serial"] for r in csv.DictReader(f)]
    for page_index in (0, 4 * batch.FORMS_PER_CHUNK - 1, 4 * batch.FORMS_PER_CHUNK, summary.pages - 1):
        image = document[page_index].render(scale=150 / 72, grayscale=True).to_numpy()
        code = verify(decode_qr(np.ascontiguousarray(image[..., 0] if image.ndim == 3 else image))[0], secret)
        assert code.serial == serials[page_index // 4] and code.page == page_index % 4 + 1
    assert not list((tmp_path / "out").glob("*.part*")) and not list((tmp_path / "out").glob(".printing-*"))


def test_national_form_prints_and_its_pages_decode(tmp_path, secret):
    households = write_households(tmp_path / "h.csv", make_households(1))
    summary = print_batch("sipas-national-2023", households, tmp_path / "out", secret, tmp_path / "l.sqlite")
    assert summary.pages_per_form == layout_survey(load_survey("sipas-national-2023")).page_count >= 4
    for index, image in enumerate(rasterize(tmp_path / "out" / "forms.pdf", 150)):
        code = verify(decode_qr(image)[0], secret, survey="sipas-national-2023")
        assert code.page == index + 1
        assert sorted(detect_markers(image)) == [0, 1, 2, 3]
    with pytest.raises(CodeError):
        verify(decode_qr(image)[0], secret, survey="sipas-household")
