"""II. Implementation: the sample achieved (forms by status) and the
returns by place."""

from __future__ import annotations

from collections import Counter

from sipas_scan.report import charts
from sipas_scan.report.formats import count, pct
from sipas_scan.report.inputs import ReportInput
from sipas_scan.report.model import Block, Chart, Heading, Paragraph, Table
from sipas_scan.scoring.records_in import RecordSet

# Charts of places switch to a coarser level above this many bars.
MAX_CHART_BARS = 40
STATUS_LABELS = {"accepted": "Được chấp nhận (accepted)", "resolved": "Đã rà soát xong (resolved)",
                 "needs_review": "Còn chờ rà soát (needs_review)", "rejected": "Bị loại (rejected)"}


def _place_level(records: RecordSet) -> tuple[int, str]:
    """How finely to show returns: village, else commune, else district."""
    for depth, name in ((3, "thôn"), (2, "xã"), (1, "huyện")):
        if len({key[:depth] for key in records.returns}) <= MAX_CHART_BARS:
            return depth, name
    return 1, "huyện"


def implementation(data: ReportInput) -> list[Block]:
    records = data.records
    statuses = Counter({"accepted": 0, "resolved": 0, "needs_review": 0, "rejected": 0})
    for (*_, status), n in records.returns.items():
        statuses[status] += n
    total = max(records.total, 1)
    rows = tuple((STATUS_LABELS[s], count(n), pct(100 * n / total, 1)) for s, n in statuses.items())
    counted = len(records.counted)
    blocks: list[Block] = [
        Heading("II. TÌNH HÌNH TRIỂN KHAI"),
        Heading("1. Mẫu khảo sát đạt được", 2),
        Paragraph(f"Tổng số phiếu thu về và đã đọc: {count(records.total)}; số phiếu được tính: {count(counted)}; "
                  f"không tính: {count(records.total - counted)} (còn chờ rà soát: {count(statuses['needs_review'])}, "
                  f"bị loại: {count(statuses['rejected'])})."),
        Table(("Tình trạng phiếu", "Số phiếu", "Tỷ lệ (%)"), (*rows, ("Tổng cộng", count(records.total), "100")),
              widths=(3, 1, 1), numeric=(1, 2)),
    ]
    spoiled = sum(records.spoiled.values())
    if spoiled:
        blocks.append(Paragraph(f"Có {count(spoiled)} câu trả lời không hợp lệ (đánh nhiều ô hơn cho phép) trong các "
                                "phiếu được tính; các câu này được tính như bỏ trống.", note=True))
    depth, level = _place_level(records)
    per_place: dict[tuple[str, ...], list[int]] = {}
    for key, n in records.returns.items():
        place, status = key[:depth], key[3]
        per_place.setdefault(place, [0, 0])[0 if status in ("accepted", "resolved") else 1] += n
    places = sorted(per_place)
    labels = [" / ".join(p for p in place[-2:] if p) or "(trống)" for place in places]
    blocks += [
        Heading(f"2. Phiếu thu về theo {level}", 2),
        Chart(charts.returns_bars(labels, [per_place[p][0] for p in places], [per_place[p][1] for p in places],
                                  counted_label="được tính", excluded_label="không tính"),
              f"Số phiếu thu về theo {level}"),
        Paragraph("Số phiếu phát ra không có trong tệp kết quả: tỷ lệ thu hồi được đối chiếu với danh sách giao phiếu "
                  "theo thôn của bưu điện.", note=True),
    ]
    return blocks
