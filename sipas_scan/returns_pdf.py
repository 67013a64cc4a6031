"""Collection lists: per village, the households whose form has not come back
(or came back with pages missing), for the postal worker's second visit.

Landscape A4 like the delivery lists, in Vietnamese; household code, head's
name and address as in the ledger, never answers.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from sipas_scan import fonts
from sipas_scan.printing.delivery import _styles, village_file_stem
from sipas_scan.returns import MissingForm, VillageReturns

HEADER = ("STT", "Số phiếu", "Mã hộ", "Chủ hộ", "Địa chỉ", "Còn thiếu", "Ngày thu lại", "Ký nhận khi thu",
          "Ghi chú (lý do chưa nộp)")
WIDTHS_MM = (11, 20, 24, 38, 52, 24, 22, 32, 50)
ROW_HEIGHT_MM = 9


def _survey_title(survey_id: str) -> str:
    from sipas_scan.reading.page import survey_and_layout
    from sipas_scan.survey.loader import SurveyDefinitionError

    try:
        return survey_and_layout(survey_id)[0].short_title
    except SurveyDefinitionError:
        return survey_id


def _what_is_missing(item: MissingForm) -> str:
    if not item.pages:
        return "Cả phiếu"
    return "Trang " + ", ".join(map(str, item.pages))


def write_collection_list(path: Path, village: VillageReturns) -> None:
    styles = _styles()
    _, province, district, commune, name = village.place
    t = village.tally
    story = [
        Paragraph("DANH SÁCH HỘ CHƯA NỘP PHIẾU KHẢO SÁT — THU LẠI", styles["title"]),
        Paragraph(_survey_title(village.survey), styles["head"]),
        Spacer(1, 4 * mm),
        Paragraph(f"{name} · {commune} · {district} · {province}", styles["body"]),
        Paragraph(f"Đã phát {t.printed} phiếu · đã nhận {t.received} · chưa nộp {t.missing}"
                  f" · nhận thiếu trang: {t.incomplete} phiếu", styles["body"]),
        Spacer(1, 3 * mm),
    ]
    rows = [[Paragraph(text, styles["head"]) for text in HEADER]]
    for i, item in enumerate(village.missing, start=1):
        h = item.form.household
        rows.append([str(i), item.form.serial, Paragraph(h.household_code, styles["cell"]),
                     Paragraph(h.head_name, styles["cell"]), Paragraph(h.address, styles["cell"]),
                     Paragraph(_what_is_missing(item), styles["cell"]), "", "", ""])
    table = Table(rows, colWidths=[w * mm for w in WIDTHS_MM], repeatRows=1,
                  rowHeights=[None] + [ROW_HEIGHT_MM * mm] * len(village.missing))
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), fonts.REGULAR, 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 1), (1, -1), "CENTER"),
    ]))
    story += [table, Spacer(1, 6 * mm),
              Paragraph("Phiếu thu lại được nộp cùng các phiếu khác để quét; không ghi câu trả lời của hộ vào danh sách này.",
                        styles["cell"]),
              Spacer(1, 6 * mm),
              Paragraph("Nhân viên bưu điện thu phiếu (ký, ghi rõ họ tên)", styles["body"])]

    def footer(canvas, doc) -> None:
        canvas.setFont(fonts.REGULAR, 8)
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 8 * mm, f"{name} · {commune} — thu lại — trang {doc.page}")

    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=14 * mm, title=f"Danh sách thu lại phiếu {name}",
                            invariant=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def write_collection_lists(folder: Path, villages: list[VillageReturns]) -> list[Path]:
    """One PDF per village given; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for village in villages:
        stem = village_file_stem(village.missing[0].form)
        path = folder / (f"{stem}.pdf" if _single_survey(villages) else f"{village.survey}_{stem}.pdf")
        write_collection_list(path, village)
        written.append(path)
    return written


def _single_survey(villages: list[VillageReturns]) -> bool:
    return len({v.survey for v in villages}) <= 1
