"""The report as a list of blocks, rendered alike by pdf.py and html.py."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1 part (I., II., ...), 2 section, 3 sub-section


@dataclass(frozen=True)
class Paragraph:
    text: str
    note: bool = False  # small print: method notes, warnings


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # Relative column widths; the text column gets the most.
    widths: tuple[float, ...] = ()
    # Columns (by position) holding numbers, aligned right.
    numeric: tuple[int, ...] = ()
    caption: str = ""
    # Rows (by position) printed in bold: totals and subtotals.
    bold_rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class Chart:
    png: bytes
    caption: str


@dataclass(frozen=True)
class Figure:
    """A headline number: SIPAS with its interval."""

    label: str
    value: str
    detail: str


Block = Heading | Paragraph | Bullets | Table | Chart | Figure


@dataclass(frozen=True)
class Letterhead:
    """What an administrative document (Nghị định 30/2020/NĐ-CP) carries
    around its text: issuing body, number, place and date, addressees and
    signature. Missing pieces are dotted placeholders, never invented."""

    authority: str  # the body above the issuer (UBND TỈNH ...); may be ''
    issuer: str
    number_line: str  # "Số: .../BC-SNV"
    date_line: str  # "Lạng Sơn, ngày ... tháng ... năm ..."
    signer_title: str
    signing_for: str  # "KT. GIÁM ĐỐC" when a deputy signs; may be ''
    signer: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str
    blocks: list[Block] = field(default_factory=list)
    letterhead: Letterhead | None = None
