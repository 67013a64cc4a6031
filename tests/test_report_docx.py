"""report.docx: an administrative report (Nghị định 30/2020/NĐ-CP) officials
edit, number and sign in Word; the same content and numbers as the PDF and
HTML; LibreOffice converts it to PDF with every Vietnamese letter in its font."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.shared import Pt
from test_score import HOUSEHOLD, simulated_rows, write_csv

from sipas_scan.errors import InputFileError
from sipas_scan.report.content import ReportInput, build_report
from sipas_scan.report.docx import write_docx
from sipas_scan.report.html import write_html
from sipas_scan.report.model import Chart, Table
from sipas_scan.report.pdf import write_pdf
from sipas_scan.report.settings import ReportSettings, load_settings
from sipas_scan.scoring.compute import score
from sipas_scan.scoring.records_in import read_records

SETTINGS = ReportSettings(
    authority="UBND tỉnh Lạng Sơn",
    issuer="Sở Nội vụ",
    issuer_abbreviation="SNV",
    number="12",
    place="Lạng Sơn",
    date=dt.date(2027, 1, 5),
    signer="Nguyễn Văn A",
    signer_title="Giám đốc",
    recipients=("UBND tỉnh (để báo cáo);", "Lưu: VT, CCHC."),
)
HEADINGS = ("I. GIỚI THIỆU CHUNG", "II. TÌNH HÌNH TRIỂN KHAI", "III. KẾT QUẢ", "IV. NHẬN XÉT, ĐÁNH GIÁ VÀ KIẾN NGHỊ")
NUMBER = re.compile(r"(?<![\d,.])\d{1,3},\d{1,2}(?![\d,])")  # 78,84 / 94,4: the report's decimals


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("docx")
    records = read_records(write_csv(root / "records.csv", simulated_rows(HOUSEHOLD, 48)), HOUSEHOLD)
    scores = score(records, by="district")
    report = build_report(ReportInput(records, scores, 2026, printed={("Huyện Cao Lộc", "Xã Hợp Thành"): 60}, settings=SETTINGS))
    return (
        root,
        report,
        scores,
        write_docx(report, root / "report.docx"),
        write_pdf(report, root / "report.pdf"),
        write_html(report, root / "report.html"),
    )


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_header_motto_number_date_and_signature_as_the_decree_asks(written):
    _, _, _, path, _, _ = written
    document = docx.Document(str(path))
    head = [cell.text for cell in document.tables[0].rows[0].cells]
    assert head[0].split("\n") == ["UBND TỈNH LẠNG SƠN", "SỞ NỘI VỤ", "", "Số: 12/BC-SNV"]
    assert head[1].split("\n") == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        "Lạng Sơn, ngày 05 tháng 01 năm 2027",
    ]
    title = [p.text for p in document.paragraphs if p.text][:2]
    assert title[0] == "BÁO CÁO" and title[1].startswith("Chỉ số hài lòng của người dân")
    signature = [cell.text for cell in document.tables[-1].rows[0].cells]
    assert signature[0].startswith("Nơi nhận:\n- UBND tỉnh (để báo cáo);") and "GIÁM ĐỐC" in signature[1]
    assert signature[1].endswith("Nguyễn Văn A")
    section = document.sections[0]
    sizes = (section.page_width, section.page_height, section.left_margin, section.right_margin, section.top_margin)
    assert [round(size.mm) for size in sizes] == [210, 297, 30, 15, 20]  # A4; stored in twips
    assert section.different_first_page_header_footer and "PAGE" in section.header._element.xml
    normal = document.styles["Normal"].font
    assert (normal.name, normal.size) == ("Times New Roman", Pt(13))
    assert all(document.styles[f"Heading {n}"].font.name == "Times New Roman" for n in (1, 2, 3))


def test_real_word_tables_and_charts_as_pictures(written):
    _, report, _, path, _, _ = written
    document = docx.Document(str(path))
    tables = [b for b in report.blocks if isinstance(b, Table)]
    assert len(document.tables) == len(tables) + 2  # and the header and signature tables
    for block, table in zip(tables, document.tables[1:-1], strict=True):
        assert [c.text for c in table.rows[0].cells] == list(block.header)
        assert [c.text for c in table.rows[1].cells] == list(block.rows[0])
    assert len(document.inline_shapes) == sum(isinstance(b, Chart) for b in report.blocks)


def test_without_settings_every_missing_piece_is_a_placeholder(written, tmp_path):
    _, report, _, _, _, _ = written
    records = read_records(write_csv(tmp_path / "r.csv", simulated_rows(HOUSEHOLD, 10)), HOUSEHOLD)
    plain = build_report(ReportInput(records, score(records), 2026))
    head = [cell.text for cell in docx.Document(str(write_docx(plain, tmp_path / "r.docx"))).tables[0].rows[0].cells]
    assert head[0].split("\n") == ["...", "", "Số: .../BC-..."]
    assert head[1].endswith("Lạng Sơn, ngày ... tháng ... năm ...")


def test_pdf_html_and_docx_carry_the_same_numbers(written):
    _, _, scores, docx_path, pdf_path, html_path = written
    pdf = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    html = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]+"', "", html_path.read_text(encoding="utf-8")))
    numbers = [sorted(NUMBER.findall(text)) for text in (docx_text(docx_path), pdf, html)]
    assert numbers[0] == numbers[1] == numbers[2]
    sipas = f"{scores.all.indices['SIPAS'].value:.2f}".replace(".", ",")
    assert sipas in numbers[0] and len(numbers[0]) > 100


def test_settings_file_and_options(tmp_path):
    path = tmp_path / "report.yaml"
    path.write_text(
        "issuer: Sở Nội vụ\nnumber: '7'\ndate: 2027-02-01\ntarget_percent: 93\ntarget_year: 2026\nrecipients:\n  - 'Lưu: VT.'\n",
        encoding="utf-8",
    )
    settings = load_settings(path, signer="Trần Thị B", number=None)
    assert (settings.issuer, settings.number, settings.signer, settings.recipients) == ("Sở Nội vụ", "7", "Trần Thị B", ("Lưu: VT.",))
    assert settings.number_line == "Số: 7/BC-..." and settings.date_line("Lạng Sơn").endswith("ngày 01 tháng 02 năm 2027")
    assert (settings.target(2026).percent, settings.target(2026).year) == (93, 2026)
    assert (ReportSettings().target(2025).percent, ReportSettings().target(2027).percent) == (90, 95)
    path.write_text("issuer: Sở Nội vụ\nsigner_name: x\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown setting.*signer_name"):
        load_settings(path)
    path.write_text("recipients: [Lưu: VT]\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="recipients"):
        load_settings(path)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice (./run test installs it)")
def test_libreoffice_converts_the_docx_with_every_vietnamese_letter_in_its_font(written, tmp_path):
    _, _, scores, path, _, _ = written
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "report.pdf"
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    for heading in HEADINGS:
        assert heading in text, heading
    for key in ("SIPAS", "F1", "F5"):
        assert f"{scores.all.indices[key].value:.2f}".replace(".", ",") in text, key
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1] for line in fonts}
    # Times New Roman, or its metric twin: no letter fell back to another font.
    assert names and all(n.startswith(("TimesNewRoman", "LiberationSerif")) for n in names), names
