"""Collection lists: per village, the households whose form has not come back
(or came back with pages missing), for the postal worker's second visit.

Landscape A4 like the delivery lists, in Vietnamese; household code, head's
name and address as in the ledger, never answers.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from sipas_scan.printing.delivery import list_styles, village_file_stem, write_household_list
from sipas_scan.returns_tally import MissingForm, VillageReturns

HEADER = ("STT", "Số phiếu", "Mã hộ", "Chủ hộ", "Địa chỉ", "Còn thiếu", "Ngày thu lại", "Ký nhận khi thu", "Ghi chú (lý do chưa nộp)")
WIDTHS_MM = (11, 20, 24, 38, 52, 24, 22, 32, 50)
ROW_HEIGHT_MM = 9


def _survey_title(survey_id: str) -> str:
    from sipas_scan.layout import survey_and_layout
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
    styles = list_styles()
    _, province, district, commune, name = village.place
    t = village.tally
    heading = [
        Paragraph("DANH SÁCH HỘ CHƯA NỘP PHIẾU KHẢO SÁT — THU LẠI", styles["title"]),
        Paragraph(_survey_title(village.survey), styles["head"]),
        Spacer(1, 4 * mm),
        Paragraph(f"{name} · {commune} · {district} · {province}", styles["body"]),
        Paragraph(
            (
                f"Đã phát {t.printed} phiếu"
                if not t.reprinted
                else f"Đã phát {t.printed} phiếu cho {t.households} hộ (phát lại {t.reprinted} phiếu)"
            )
            + f" · đã nhận {t.received} · chưa nộp {t.missing} · nhận thiếu trang: {t.incomplete} phiếu",
            styles["body"],
        ),
        Spacer(1, 3 * mm),
    ]
    rows = []
    for i, item in enumerate(village.missing, start=1):
        h = item.form.household
        rows.append(
            [
                str(i),
                item.form.serial,
                Paragraph(h.household_code, styles["cell"]),
                Paragraph(h.head_name, styles["cell"]),
                Paragraph(h.address, styles["cell"]),
                Paragraph(_what_is_missing(item), styles["cell"]),
                "",
                "",
                "",
            ]
        )
    closing = [
        Spacer(1, 6 * mm),
        Paragraph(
            "Phiếu thu lại được nộp cùng các phiếu khác để quét; không ghi câu trả lời của hộ vào danh sách này.", styles["cell"]
        ),
        Spacer(1, 6 * mm),
        Paragraph("Nhân viên bưu điện thu phiếu (ký, ghi rõ họ tên)", styles["body"]),
    ]
    write_household_list(
        path,
        title=f"Danh sách thu lại phiếu {name}",
        heading=heading,
        header=HEADER,
        rows=rows,
        widths_mm=WIDTHS_MM,
        row_height_mm=ROW_HEIGHT_MM,
        closing=closing,
        footer=f"{name} · {commune} — thu lại",
    )


def write_collection_lists(folder: Path, villages: list[VillageReturns]) -> list[Path]:
    """One PDF per village given; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    one_survey = len({v.survey for v in villages}) <= 1
    for village in villages:
        stem = village_file_stem(village.missing[0].form)
        path = folder / (f"{stem}.pdf" if one_survey else f"{village.survey}_{stem}.pdf")
        write_collection_list(path, village)
        written.append(path)
    return written
