"""II. Implementation: the sample achieved (forms printed, received, valid and
the return rate per district and commune; forms by status) and the returns
by place."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sipas_scan.records import FormStatus
from sipas_scan.report import charts
from sipas_scan.report.formats import count, pct
from sipas_scan.report.inputs import ReportInput
from sipas_scan.report.model import Block, Chart, Heading, Paragraph, Table
from sipas_scan.scoring.records_in import COUNTED_STATUSES, RecordSet

# Charts of places switch to a coarser level above this many bars.
MAX_CHART_BARS = 40
STATUS_LABELS = {
    FormStatus.ACCEPTED: "Được chấp nhận",
    FormStatus.RESOLVED: "Đã rà soát xong",
    FormStatus.NEEDS_REVIEW: "Còn chờ rà soát",
    FormStatus.REJECTED: "Bị loại",
}
# The form-level note of a form whose page a reviewer identified (the code on it was damaged).
IDENTIFIED_BY_HAND = "identified-by-hand"


@dataclass(frozen=True)
class SampleRow:
    district: str
    commune: str
    printed: int | None  # None without a ledger
    received: int
    valid: int
    total: bool = False  # a district's (or, without a district, the province's) total

    @property
    def return_rate(self) -> float | None:
        return 100 * self.received / self.printed if self.printed else None


def sample_rows(records: RecordSet, printed: dict[tuple[str, str], int] | None) -> list[SampleRow]:
    """Per district: its total row, then one row per commune; the province total last."""
    received: Counter[tuple[str, str]] = Counter()
    valid: Counter[tuple[str, str]] = Counter()
    for (district, commune, _village, status), n in records.returns.items():
        received[(district, commune)] += n
        if status in COUNTED_STATUSES:
            valid[(district, commune)] += n
    communes = sorted(set(received) | set(printed or {}))
    rows: list[SampleRow] = []
    for district in sorted({d for d, _ in communes}):
        mine = [c for c in communes if c[0] == district]
        district_rows = [
            SampleRow(
                district,
                commune,
                printed.get((district, commune), 0) if printed is not None else None,
                received[(district, commune)],
                valid[(district, commune)],
            )
            for _, commune in mine
        ]
        rows.append(_total(district_rows, district or "(không ghi huyện)"))
        rows += district_rows
    rows.append(_total([r for r in rows if not r.total], "Tổng cộng"))
    return rows


def _total(rows: list[SampleRow], district: str) -> SampleRow:
    printed = None if any(r.printed is None for r in rows) else sum(r.printed or 0 for r in rows)
    return SampleRow(district, "", printed, sum(r.received for r in rows), sum(r.valid for r in rows), total=True)


def _sample_table(rows: list[SampleRow], with_ledger: bool) -> Table:
    def place(row: SampleRow) -> str:
        if row.total:
            return row.district
        return row.commune or "(không ghi xã)"

    header: tuple[str, ...]
    body: tuple[tuple[str, ...], ...]
    if with_ledger:
        header = ("Đơn vị", "Phiếu phát ra", "Phiếu thu về", "Phiếu hợp lệ", "Tỷ lệ thu hồi (%)")
        body = tuple((place(r), count(r.printed or 0), count(r.received), count(r.valid), pct(r.return_rate, 1)) for r in rows)
    else:
        header = ("Đơn vị", "Phiếu thu về", "Phiếu hợp lệ", "Tỷ lệ hợp lệ (%)")
        body = tuple(
            (place(r), count(r.received), count(r.valid), pct(100 * r.valid / r.received if r.received else None, 1)) for r in rows
        )
    return Table(
        header,
        body,
        widths=(3.2, *(1.2,) * (len(header) - 1)),
        numeric=tuple(range(1, len(header))),
        caption="Mẫu khảo sát đạt được theo huyện, xã",
        bold_rows=tuple(i for i, r in enumerate(rows) if r.total),
    )


def _place_level(records: RecordSet) -> tuple[int, str]:
    """How finely to show returns: village, else commune, else district."""
    for depth, name in ((3, "thôn"), (2, "xã"), (1, "huyện")):
        if len({key[:depth] for key in records.returns}) <= MAX_CHART_BARS:
            return depth, name
    return 1, "huyện"


def implementation(data: ReportInput) -> list[Block]:
    records = data.records
    statuses = Counter(dict.fromkeys(STATUS_LABELS, 0))
    for (*_, status), n in records.returns.items():
        statuses[FormStatus(status)] += n  # read_records let only known statuses through
    total = max(records.total, 1)
    counted = len(records.counted)
    rows = sample_rows(records, data.printed)
    overall = rows[-1]
    achieved = (
        f"Số phiếu phát ra: {count(overall.printed or 0)}; số phiếu thu về: {count(records.total)} "
        f"(tỷ lệ thu hồi {pct(overall.return_rate, 1)}%); "
        if data.printed is not None
        else f"Số phiếu thu về: {count(records.total)}; "
    )
    achieved += (
        f"số phiếu hợp lệ được tính: {count(counted)}; không tính: {count(records.total - counted)} "
        f"(còn chờ rà soát: {count(statuses[FormStatus.NEEDS_REVIEW])}, bị loại: {count(statuses[FormStatus.REJECTED])})."
    )
    by_hand = sum(n for (note, _status), n in records.form_flags.items() if note == IDENTIFIED_BY_HAND)
    by_hand_counted = sum(
        n for (note, status), n in records.form_flags.items() if note == IDENTIFIED_BY_HAND and status in COUNTED_STATUSES
    )
    blocks: list[Block] = [
        Heading("II. TÌNH HÌNH TRIỂN KHAI"),
        Heading("1. Mẫu khảo sát đạt được", 2),
        Paragraph(achieved),
        Paragraph(
            f"Số phiếu do người rà soát xác định số phiếu (mã trên phiếu bị hỏng, được đối chiếu với số phiếu in "
            f"trên trang hoặc được cán bộ phụ trách xác nhận): {count(by_hand)}"
            + (f", trong đó {count(by_hand_counted)} phiếu được tính." if by_hand else ".")
        ),
        _sample_table(rows, data.printed is not None),
        Table(
            ("Tình trạng phiếu thu về", "Số phiếu", "Tỷ lệ (%)"),
            (
                *((STATUS_LABELS[s], count(n), pct(100 * n / total, 1)) for s, n in statuses.items()),
                ("Tổng cộng", count(records.total), "100,0"),
            ),
            widths=(3, 1, 1),
            numeric=(1, 2),
            bold_rows=(len(statuses),),
        ),
    ]
    if data.printed is None:
        blocks.append(Paragraph("Chưa có số phiếu phát ra (sổ theo dõi phiếu đã in) nên chưa tính được tỷ lệ thu hồi.", note=True))
    spoiled = sum(records.spoiled.values())
    if spoiled:
        blocks.append(
            Paragraph(
                f"Có {count(spoiled)} câu trả lời không hợp lệ (đánh nhiều ô hơn cho phép) trong các "
                "phiếu được tính; các câu này được tính như bỏ trống.",
                note=True,
            )
        )
    depth, level = _place_level(records)
    per_place: dict[tuple[str, ...], list[int]] = {}
    for key, n in records.returns.items():
        place, status = key[:depth], key[3]
        per_place.setdefault(place, [0, 0])[0 if status in COUNTED_STATUSES else 1] += n
    places = sorted(per_place)
    labels = [" / ".join(p for p in place[-2:] if p) or "(trống)" for place in places]
    blocks += [
        Heading(f"2. Phiếu thu về theo {level}", 2),
        Chart(
            charts.returns_bars(
                labels,
                [per_place[p][0] for p in places],
                [per_place[p][1] for p in places],
                counted_label="được tính",
                excluded_label="không tính",
            ),
            f"Số phiếu thu về theo {level}",
        ),
    ]
    return blocks
