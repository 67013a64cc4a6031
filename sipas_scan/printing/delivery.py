"""Per-village delivery lists for the postal survey staff, and manifests.

A delivery list is what a postal worker carries: every form for the village
with its serial, household, head's name and address, and columns for the
signatures on delivery and on collection. Names and addresses appear here and
never on the forms themselves.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from itertools import groupby
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from sipas_scan import fonts
from sipas_scan.printing.households import Household
from sipas_scan.printing.ledger import IssuedForm
from sipas_scan.printing.render import place_line

MANIFEST_COLUMNS = ("serial", "province", "district", "commune", "village", "household_code", "head_name", "address")


def slug(text: str) -> str:
    """ASCII file-name part for a Vietnamese place name: 'Thôn Bản Vằn' -> 'thon-ban-van'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def village_file_stem(form: IssuedForm) -> str:
    h = form.household
    return "_".join(slug(part) for part in (h.district, h.commune, h.village))


def write_manifest(path: Path, forms: Iterable[IssuedForm]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(MANIFEST_COLUMNS)
        for form in forms:
            h = form.household
            writer.writerow((form.serial, *h.village_key, h.household_code, h.head_name, h.address))


def read_manifest(path: Path) -> list[IssuedForm]:
    """The forms of a manifest written by ``write_manifest``, in order."""
    with path.open(encoding="utf-8") as handle:
        return [IssuedForm(row["serial"], Household(**{k: row[k] for k in MANIFEST_COLUMNS[1:]})) for row in csv.DictReader(handle)]


def list_styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles of the lists postal workers carry."""
    fonts.register_fonts()
    base = ParagraphStyle("cell", fontName=fonts.REGULAR, fontSize=9, leading=11)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=fonts.BOLD, fontSize=13, leading=16, alignment=1),
        "body": ParagraphStyle("body", parent=base, fontSize=10, leading=13),
        "cell": base,
        "head": ParagraphStyle("head", parent=base, fontName=fonts.BOLD, alignment=1),
    }


def write_household_list(
    path: Path,
    *,
    title: str,
    heading: list,
    header: tuple[str, ...],
    rows: list[list],
    widths_mm: tuple[float, ...],
    row_height_mm: float,
    closing: list,
    footer: str,
) -> None:
    """A landscape A4 list of households (delivery or collection): heading
    paragraphs, a ruled table with room to sign, closing paragraphs, and a
    footer naming the village and page on every page."""
    styles = list_styles()
    table = Table(
        [[Paragraph(text, styles["head"]) for text in header], *rows],
        colWidths=[w * mm for w in widths_mm],
        repeatRows=1,
        rowHeights=[None] + [row_height_mm * mm] * len(rows),
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.REGULAR, 9),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (0, 1), (1, -1), "CENTER"),
            ]
        )
    )

    def draw_footer(canvas, doc) -> None:
        canvas.setFont(fonts.REGULAR, 8)
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 8 * mm, f"{footer} — trang {doc.page}")

    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=title,
        invariant=1,
    )
    doc.build([*heading, table, *closing], onFirstPage=draw_footer, onLaterPages=draw_footer)


DELIVERY_HEADER = ("STT", "Số phiếu", "Mã hộ", "Chủ hộ", "Địa chỉ", "Ngày phát", "Ký nhận phiếu", "Ngày thu", "Ký khi thu phiếu")
DELIVERY_WIDTHS_MM = (12, 20, 25, 40, 58, 20, 32, 20, 32)


def write_delivery_list(path: Path, survey_title: str, forms: list[IssuedForm]) -> None:
    """One landscape PDF for one village's forms."""
    styles = list_styles()
    h = forms[0].household
    heading = [
        Paragraph("DANH SÁCH PHÁT VÀ THU PHIẾU KHẢO SÁT", styles["title"]),
        Paragraph(survey_title, styles["head"]),
        Spacer(1, 4 * mm),
        Paragraph(f"{place_line(forms[0])} — {len(forms)} phiếu", styles["body"]),
        Spacer(1, 3 * mm),
    ]
    rows = [
        [
            str(i),
            form.serial,
            Paragraph(form.household.household_code, styles["cell"]),
            Paragraph(form.household.head_name, styles["cell"]),
            Paragraph(form.household.address, styles["cell"]),
            "",
            "",
            "",
            "",
        ]
        for i, form in enumerate(forms, start=1)
    ]
    closing = [
        Spacer(1, 8 * mm),
        Paragraph(
            "Nhân viên bưu điện phát phiếu (ký, ghi rõ họ tên) &nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;"
            "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;"
            "Nhân viên bưu điện thu phiếu (ký, ghi rõ họ tên)",
            styles["body"],
        ),
    ]
    write_household_list(
        path,
        title=f"Danh sách phát phiếu {h.village}",
        heading=heading,
        header=DELIVERY_HEADER,
        rows=rows,
        widths_mm=DELIVERY_WIDTHS_MM,
        row_height_mm=10,
        closing=closing,
        footer=f"{h.village} · {h.commune}",
    )


def write_delivery_lists(folder: Path, survey_title: str, forms: list[IssuedForm]) -> list[Path]:
    """A delivery list PDF and a manifest CSV per village; returns the PDFs."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    ordered = sorted(forms, key=lambda f: f.household.village_key)
    for _, group in groupby(ordered, key=lambda f: f.household.village_key):
        village_forms = list(group)
        stem = village_file_stem(village_forms[0])
        pdf = folder / f"{stem}.pdf"
        write_delivery_list(pdf, survey_title, village_forms)
        write_manifest(folder / f"{stem}.csv", village_forms)
        written.append(pdf)
    return written
