"""IV. Assessment and recommendations, drawn automatically from the numbers:
the target, strengths, weaknesses and what to improve first."""

from __future__ import annotations

from sipas_scan.records import FormStatus
from sipas_scan.report.expectations import expectation_items
from sipas_scan.report.formats import count, criterion_label, criterion_text, node_label, pct
from sipas_scan.report.inputs import ReportInput, index_nodes
from sipas_scan.report.model import Block, Bullets, Heading, Paragraph
from sipas_scan.scoring.compute import root_index
from sipas_scan.scoring.intervals import MIN_RESPONDENTS
from sipas_scan.survey import Grid


def _top_expectations(data: ReportInput) -> list[str]:
    unit = data.scores.all
    found: list[tuple[float, str]] = []
    for item in expectation_items(data.scores.survey):
        if isinstance(item, Grid):
            # The share choosing the scale's highest level ("Rất cần ưu tiên").
            top = item.options[-1].code
            found += [(next(s.value or 0 for s in unit.others[r.id] if s.code == top), r.text) for r in item.rows]
        else:
            found += [(s.value or 0, s.label) for s in unit.others[item.id] if s.value]
    return [f"{label} ({pct(value, 1)}%)" for value, label in sorted(found, key=lambda f: -f[0])[:3]]


def _reliable(items: list[tuple]) -> list[tuple]:
    """Items with a value, highest first; those with at least MIN_RESPONDENTS
    answers only, unless none has that many (a judgement on 4 answers is noise)."""
    present = [item for item in items if item[1].value is not None]
    enough = [item for item in present if item[1].n >= MIN_RESPONDENTS] or present
    return sorted(enough, key=lambda item: -item[1].value)


def assessment(data: ReportInput) -> list[Block]:
    survey = data.scores.survey
    unit = data.scores.all
    index = root_index(survey)
    root = unit.indices[index.id]
    factors = _reliable([(node, unit.indices[node.id]) for node in index_nodes(survey) if node.criteria])
    criteria = _reliable([(c, unit.indices[c]) for c in index.all_criteria()])
    strengths, weaknesses, advice = [], [], []
    summary = "–"
    if root.value is not None:
        target = data.settings.target(data.year)
        relation = "đạt" if root.value >= target.percent else "chưa đạt"
        summary = (
            f"Chỉ số {index.id} năm {data.year} là {pct(root.value)}%, {relation} mục tiêu tối thiểu "
            f"{pct(target.percent, 0)}% đến năm {target.year} ({target.source})."
        )
    if factors:
        best, worst = factors[0], factors[-1]
        strengths.append(f"Yếu tố được đánh giá cao nhất: {node_label(best[0])} ({pct(best[1].value)}%).")
        weaknesses.append(f"Yếu tố thấp nhất: {node_label(worst[0])} ({pct(worst[1].value)}%).")
        advice.append(f"Ưu tiên cải thiện {worst[0].label.lower()} ({worst[0].id}).")
    if criteria:
        strengths.append(
            "Các tiêu chí cao nhất: " + "; ".join(f"{criterion_text(survey, c)} ({pct(v.value)}%)" for c, v in criteria[:3]) + "."
        )
        weaknesses.append(
            "Các tiêu chí thấp nhất: "
            + "; ".join(f"{criterion_text(survey, c)} ({pct(v.value)}%)" for c, v in criteria[-3:][::-1])
            + "."
        )
        advice.append(
            "Rà soát nguyên nhân và có giải pháp cụ thể cho các tiêu chí thấp nhất: "
            + ", ".join(criterion_label(survey, c) for c, _ in criteria[-3:][::-1])
            + "."
        )
    expectations = _top_expectations(data)
    if expectations:
        advice.append("Người dân mong đợi nhiều nhất: " + "; ".join(expectations) + ".")
    pending = data.records.excluded.get(FormStatus.NEEDS_REVIEW, 0)
    if pending:
        weaknesses.append(f"Còn {count(pending)} phiếu chờ rà soát chưa được tính vào kết quả.")
        advice.append("Hoàn tất rà soát các phiếu còn chờ trước khi công bố kết quả chính thức.")
    small = [u for u in data.scores.groups if u.respondents < MIN_RESPONDENTS]
    if small:
        weaknesses.append(f"{len(small)} đơn vị có dưới {MIN_RESPONDENTS} người trả lời: kết quả chỉ mang tính tham khảo.")
        advice.append("Tăng cỡ mẫu ở các đơn vị có ít người trả lời nếu cần công bố kết quả theo đơn vị.")
    return [
        Heading("IV. NHẬN XÉT, ĐÁNH GIÁ VÀ KIẾN NGHỊ"),
        Paragraph(summary),
        Heading("1. Ưu điểm", 2),
        Bullets(tuple(strengths) or ("–",)),
        Heading("2. Hạn chế", 2),
        Bullets(tuple(weaknesses) or ("–",)),
        Heading("3. Kiến nghị", 2),
        Bullets(tuple(advice) or ("–",)),
        Paragraph(
            "Các nhận xét trên được lập tự động từ số liệu; cơ quan chủ trì bổ sung phân tích nguyên nhân, "
            "bài học kinh nghiệm và đề xuất cụ thể.",
            note=True,
        ),
    ]
