"""The report: the score command end to end, fonts embedded, Vietnamese text,
nothing that identifies a respondent; the pieces (comments, charts) alone."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_score import HOUSEHOLD, NATIONAL, simulated_rows, write_csv

from sipas_scan.fonts import missing_glyphs
from sipas_scan.report import charts
from sipas_scan.report.comments import REDACTED, group_comments
from sipas_scan.report.content import ReportInput, build_report, expectation_items
from sipas_scan.report.html import render_html
from sipas_scan.report.model import Bullets, Chart, Figure, Heading, Paragraph, Table
from sipas_scan.scoring.compute import score
from sipas_scan.scoring.records_in import read_records

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = (
    "GIỚI THIỆU CHUNG",
    "TÌNH HÌNH TRIỂN KHAI",
    "KẾT QUẢ",
    "NHẬN XÉT, ĐÁNH GIÁ VÀ KIẾN NGHỊ",
    "Chỉ số hài lòng theo yếu tố",
    "Mong đợi của người dân",
    "Ý kiến khác của người dân",
)
# A respondent who writes identifying details into the comment box.
LEAKY_COMMENT = "Nhà tôi mã HGD07003, số phiếu 0009003, gọi 0912 345 678 nếu cần. Cán bộ nhiệt tình."
# What OCR made of handwriting nobody has checked: never quoted.
UNREVIEWED_OCR = ("Cán bộ #ả !Ờ/ điện £hogi nan", "7hủ ục C;ứnG thựC còn rườm ?à")
# Words that are not Vietnamese or are internal codes.
NOT_VIETNAMESE = ("(accepted)", "(resolved)", "needs_review", "pooled", "hạt giống", "c4_4", "c1_1", "(a5)", "--compare")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sipas_scan", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The command line on realistic records: by district, compared with last year."""
    root = tmp_path_factory.mktemp("score")
    rows = simulated_rows(HOUSEHOLD, 64, statuses=("accepted",) * 6 + ("needs_review", "resolved"))
    rows[3].update(t1=LEAKY_COMMENT, reviewed="c1_1;t1")
    for row, text in zip(rows[4:6], UNREVIEWED_OCR, strict=True):
        row.update(t1=text, reviewed="")
    rows[8].update(t1="Chị Lan ở bộ phận một cửa hướng dẫn tận tình", reviewed="t1", form_flags="identified-by-hand")
    rows[6]["form_flags"] = "identified-by-hand"  # needs_review: counted among the forms, not scored
    records = write_csv(root / "records.csv", rows)
    (root / "last.csv").write_text(
        "unit,index,value,n\nALL,SIPAS,75.00,500\nALL,F1,80.00,500\nHuyện Cao Lộc,SIPAS,70.00,250\n", encoding="utf-8"
    )
    result = run("score", str(records), "--out", "out", "--by", "district", "--compare", "last.csv", "--year", "2024", cwd=root)
    return root, records, result


def test_score_command_writes_indices_report_and_says_so(scored):
    root, _, result = scored
    assert result.returncode == 0, result.stderr
    assert "Scored 56 of 64 forms (excluded: 8 needs_review)" in result.stdout  # one in eight is still to review
    assert "excluded: 8 needs_review" in result.stdout
    assert "SIPAS = " in result.stdout and "95 % interval" in result.stdout
    assert str(Path("out") / "report.pdf") in result.stdout
    assert "fewer than 30 respondents" in result.stderr  # the two districts are small
    out = root / "out"
    for name in ("indices.csv", "intervals.csv", "other_indices.csv", "compare.csv", "report.pdf", "report.html"):
        assert (out / name).is_file(), name
    assert (out / "indices.csv").read_text(encoding="utf-8").startswith("unit,index,value,n\nALL,SIPAS,")
    compare_rows = (out / "compare.csv").read_text(encoding="utf-8").splitlines()
    assert compare_rows[1].startswith("ALL,SIPAS,") and ",75.00," in compare_rows[1]


def test_report_pdf_embeds_its_fonts_and_speaks_vietnamese(scored):
    root, _, _ = scored
    pdf = root / "out" / "report.pdf"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all("DejaVuSans" in line and " yes " in line for line in fonts), fonts
    text = pdf_text(pdf)
    for heading in HEADINGS:
        assert heading in text, heading
    assert "So sánh với năm trước" in text and "Chỉ số hài lòng theo huyện" in text


def test_report_never_shows_a_household_code_or_serial(scored):
    root, records, _ = scored
    identifiers = set()
    for line in records.read_text(encoding="utf-8").splitlines()[1:]:
        form_id, household_code = line.split(",")[:2]
        identifiers |= {form_id, household_code}
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    for text in (pdf_text(root / "out" / "report.pdf"), html):
        assert not [i for i in identifiers if i in text]
        assert "0912 345 678" not in text and not re.search(r"\bLan\b", text)
        # The reviewed comment stays, with what identifies the household masked.
        flat = " ".join(text.split())
        assert f"Nhà tôi mã {REDACTED}, số phiếu {REDACTED}, gọi {REDACTED} nếu cần. Cán bộ nhiệt tình." in flat
        assert f"Chị {REDACTED} ở bộ phận một cửa hướng dẫn tận tình" in flat


def test_the_report_quotes_only_comments_a_reviewer_confirmed(scored):
    root, records, _ = scored
    with records.open(encoding="utf-8") as handle:
        unreviewed = sum(
            1
            for r in csv.DictReader(handle)
            if r["t1"].strip() and "t1" not in r["reviewed"] and r["status"] in ("accepted", "resolved")
        )
    assert unreviewed >= 2
    for text in (pdf_text(root / "out" / "report.pdf"), (root / "out" / "report.html").read_text(encoding="utf-8")):
        flat = " ".join(text.split())
        assert not [ocr for ocr in UNREVIEWED_OCR if ocr in flat or ocr.split()[-1] in flat]
        assert f"{unreviewed} ý kiến chưa được rà soát" in flat


def test_the_report_speaks_vietnamese_and_numbers_criteria_as_the_form(scored):
    root, _, _ = scored
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    for text in (pdf_text(root / "out" / "report.pdf"), html):
        flat = " ".join(text.split())
        assert not [word for word in NOT_VIETNAMESE if word in flat]
        assert "…" not in flat  # nothing cut short
        assert "mục tiêu tối thiểu 90% đến năm 2025" in flat  # the 2024 result against the target in force
        assert "Số phiếu do người rà soát xác định số phiếu" in flat and "trong đó 1 phiếu được tính" in flat


def test_every_criterion_is_labelled_as_on_the_form(tmp_path):
    records = read_records(write_csv(tmp_path / "r.csv", simulated_rows(HOUSEHOLD, 40)), HOUSEHOLD)
    report = build_report(ReportInput(records, score(records), 2026))
    table = next(b for b in report.blocks if isinstance(b, Table) and b.header[:2] == ("Câu", "Tiêu chí"))
    criteria = HOUSEHOLD.index.all_criteria()
    assert [row[0] for row in table.rows] == [HOUSEHOLD.field(c).label for c in criteria]
    assert [row[1] for row in table.rows] == [HOUSEHOLD.field(c).text for c in criteria]  # in full
    assert "4.4" in [row[0] for row in table.rows]
    summary = next(b for b in report.blocks if isinstance(b, Paragraph) and "mục tiêu" in b.text)
    assert "95% đến năm 2030" in summary.text  # 2026 is measured against the 2030 target


def test_html_is_self_contained_with_the_same_content(scored):
    root, _, _ = scored
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="vi"' in html
    assert html.count("data:image/png;base64,") >= 5
    assert "http://" not in html and "https://" not in html
    for heading in HEADINGS:
        assert heading in html


def test_malformed_records_give_one_line_and_exit_code(tmp_path):
    (tmp_path / "r.csv").write_text("form_id,household_code\n1,2\n", encoding="utf-8")
    result = run("score", "r.csv", "--out", "out", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0 and "row 1, column province" in result.stderr
    assert not (tmp_path / "out").exists()


def test_every_letter_of_the_report_is_in_the_embedded_font(tmp_path):
    records = read_records(write_csv(tmp_path / "n.csv", simulated_rows(NATIONAL, 12), survey=NATIONAL), NATIONAL)
    report = build_report(ReportInput(records, score(records, by="a1", combine="mean"), 2023))
    texts = [report.title, report.subtitle]
    for block in report.blocks:
        if isinstance(block, Heading | Paragraph):
            texts.append(block.text)
        elif isinstance(block, Bullets):
            texts += block.items
        elif isinstance(block, Table):
            texts += [block.caption, *block.header, *(cell for row in block.rows for cell in row)]
        elif isinstance(block, Chart | Figure):
            texts.append(block.caption if isinstance(block, Chart) else block.label + block.value + block.detail)
    assert missing_glyphs("".join(texts)) == set()
    html = render_html(report)
    assert "trung bình cộng" in html and "Chỉ số hài lòng theo câu A1" in html and "mean" not in html
    assert "Phiếu khảo sát này không có câu hỏi về mong đợi" not in html  # B19 is found


def test_expectation_questions_are_found_in_both_forms():
    assert [item.id for item in expectation_items(HOUSEHOLD)] == ["e1"]
    assert [item.id for item in expectation_items(NATIONAL)] == ["b19"]


def test_comments_grouped_merged_and_anonymised():
    groups = group_comments(
        [LEAKY_COMMENT, "Không có ý kiến gì thêm.", "  ", "Cần thêm ghế ngồi chờ.", "Cần thêm ghế ngồi chờ.", "Trời đẹp."],
        identifiers=["HGD07003", "0009003"],
    )
    flat = {theme.theme: theme.comments for theme in groups}
    assert flat["Trụ sở, trang thiết bị, tiếp cận dịch vụ"] == [("Cần thêm ghế ngồi chờ.", 2)]
    assert flat["Ý kiến khác"] == [("Trời đẹp.", 1)]
    ((leaky, _),) = flat["Công chức trực tiếp giải quyết công việc"]
    assert "HGD07003" not in leaky and "0009003" not in leaky and "0912" not in leaky
    assert leaky.count(REDACTED) == 3 and "Cán bộ nhiệt tình" in leaky
    assert sum(g.total for g in groups) == 4


def test_charts_draw_vietnamese_in_dejavu_on_agg():
    import matplotlib
    from matplotlib import font_manager

    assert matplotlib.get_backend().lower() == "agg"
    assert Path(font_manager.findfont(font_manager.FontProperties(family=charts.FONT))).name == "DejaVuSans.ttf"
    # A glyph missing from the font would raise here (warnings are errors in the tests).
    png = charts.horizontal_bars(
        [charts.Bar("Rút ngắn thời gian giải quyết thủ tục; Đường vào ủy ban", 41.5, 30, 50)], reference=40, reference_label="Toàn bộ"
    )
    assert png.startswith(b"\x89PNG")
