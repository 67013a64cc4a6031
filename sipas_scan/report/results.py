"""III. Results: other questions, the satisfaction indices (overall, by
factor, by criterion, by unit), expectations, comments and the comparison
with last year."""

from __future__ import annotations

from sipas_scan.report import charts
from sipas_scan.report.comments import report_comments
from sipas_scan.report.expectations import expectation_items
from sipas_scan.report.formats import (
    by_label,
    count,
    criterion_label,
    criterion_text,
    index_label,
    interval_text,
    node_label,
    pct,
)
from sipas_scan.report.inputs import ReportInput, index_nodes
from sipas_scan.report.model import Block, Bullets, Chart, Figure, Heading, Paragraph, Table
from sipas_scan.scoring.compute import UnitScores, root_index
from sipas_scan.scoring.indices import OptionShare, other_questions
from sipas_scan.scoring.intervals import MIN_RESPONDENTS
from sipas_scan.scoring.units import ALL
from sipas_scan.survey import Grid, IndexNode, Question, Survey


def _publish_note(n: int) -> str:
    return "" if n >= MIN_RESPONDENTS else f"dưới {MIN_RESPONDENTS} người: chỉ tham khảo"


def _share_table(question: Question, shares: list[OptionShare]) -> Table:
    n = shares[0].n if shares else 0
    multi = " (chọn nhiều phương án, tổng có thể vượt 100%)" if question.kind == "multi" else ""
    return Table(
        ("Phương án", "Tỷ lệ (%)"),
        tuple((f"{s.code}. {s.label}", pct(s.value, 1)) for s in shares),
        widths=(5, 1),
        numeric=(1,),
        caption=f"{question.label}. {question.text} (n = {count(n)}){multi}",
    )


def _grid_table(survey: Survey, grid: Grid, unit: UnitScores) -> Table:
    rows = []
    n = 0
    for row in grid.rows:
        shares = unit.others.get(row.id, [])
        n = max(n, shares[0].n if shares else 0)
        rows.append((f"{row.label} {row.text}", *(pct(s.value, 1) for s in shares)))
    return Table(
        ("Nội dung", *(o.label for o in grid.options)),
        tuple(rows),
        widths=(4, *(1,) * len(grid.options)),
        numeric=tuple(range(1, len(grid.options) + 1)),
        caption=f"{grid.label}. {grid.text} (tỷ lệ %, n đến {count(n)})",
    )


def _process_blocks(data: ReportInput) -> list[Block]:
    """Other indices of every section, except expectations (their own part)."""
    survey = data.scores.survey
    others = {q.id for q in other_questions(survey)}
    expectations = {item.id for item in expectation_items(survey)}
    unit = data.scores.all
    blocks: list[Block] = [Heading("1. Phản ánh của người dân về quá trình giải quyết công việc; thông tin người trả lời", 2)]
    for section in survey.sections:
        section_blocks: list[Block] = []
        for item in section.items:
            if item.id in expectations:
                continue
            if isinstance(item, Grid) and all(row.id in others for row in item.rows):
                section_blocks.append(_grid_table(survey, item, unit))
            elif isinstance(item, Question) and item.id in others:
                section_blocks.append(_share_table(item, unit.others[item.id]))
        if section_blocks:
            blocks += [Heading(section.title, 3), *section_blocks]
    return blocks


def _bars_for_nodes(unit: UnitScores, nodes: list[IndexNode]) -> list[charts.Bar]:
    bars = []
    for node in nodes:
        value = unit.indices[node.id]
        if value.value is None:
            continue
        interval = unit.intervals[node.id]
        bars.append(charts.Bar(f"{node.id}. {node.label}", value.value, interval.low, interval.high, faint=value.n < MIN_RESPONDENTS))
    return bars


def _satisfaction_blocks(data: ReportInput) -> list[Block]:
    survey = data.scores.survey
    unit = data.scores.all
    index = root_index(survey)
    sipas = unit.indices[index.id]
    nodes = index_nodes(survey)
    blocks: list[Block] = [
        Heading("2. Chỉ số hài lòng về sự phục vụ hành chính", 2),
        Figure(
            f"Chỉ số {index.id} năm {data.year}",
            f"{pct(sipas.value)}%",
            f"khoảng tin cậy 95%: {interval_text(unit.intervals[index.id])}%; n = {count(sipas.n)} người trả lời",
        ),
    ]
    if sipas.n < MIN_RESPONDENTS:
        blocks.append(
            Paragraph(f"Lưu ý: chỉ có {sipas.n} người trả lời (dưới {MIN_RESPONDENTS}); kết quả chỉ mang tính tham khảo.", note=True)
        )
    bars = _bars_for_nodes(unit, nodes)
    chart = (
        charts.vertical_bars(
            [charts.Bar(b.label.split(".")[0], b.value, b.low, b.high, b.faint) for b in bars],
            reference=sipas.value,
            reference_label=f"Chỉ số {index.id}: {pct(sipas.value)}%",
        )
        if len(bars) <= 6
        else charts.horizontal_bars(bars, reference=sipas.value, reference_label=f"Chỉ số {index.id}: {pct(sipas.value)}%")
    )
    blocks += [
        Heading("2.1. Chỉ số hài lòng theo yếu tố", 3),
        Chart(chart, "Chỉ số hài lòng theo yếu tố (%), với khoảng tin cậy 95%"),
        Table(
            ("Yếu tố", "Chỉ số (%)", "KTC 95% (%)", "n"),
            tuple(
                (
                    node_label(node),
                    pct(unit.indices[node.id].value),
                    interval_text(unit.intervals[node.id]),
                    count(unit.indices[node.id].n),
                )
                for node in [index, *nodes]
            ),
            widths=(5, 1.3, 2, 1),
            numeric=(1, 2, 3),
        ),
    ]
    criteria = index.all_criteria()
    ranked = sorted(
        ((c, value) for c in criteria if (value := unit.indices[c].value) is not None), key=lambda ranked_value: -ranked_value[1]
    )
    blocks += [
        Heading("2.2. Chỉ số hài lòng theo tiêu chí", 3),
        Table(
            ("Câu", "Tiêu chí", "Chỉ số (%)", "n"),
            tuple(
                (criterion_label(survey, c), survey.field(c).text, pct(unit.indices[c].value), count(unit.indices[c].n))
                for c in criteria
            ),
            widths=(0.8, 6, 1.3, 0.9),
            numeric=(2, 3),
        ),
        Chart(
            charts.horizontal_bars(
                [charts.Bar(criterion_text(survey, c), value, faint=unit.indices[c].n < MIN_RESPONDENTS) for c, value in ranked],
                reference=sipas.value,
                reference_label=f"Chỉ số {index.id}: {pct(sipas.value)}%",
                label_width=58,
            ),
            "Các tiêu chí xếp theo chỉ số hài lòng, từ cao đến thấp (%)",
        ),
    ]
    return blocks


def _units_blocks(data: ReportInput) -> list[Block]:
    scores = data.scores
    survey = scores.survey
    index = root_index(survey)
    root = index.id
    by = by_label(survey, scores.by)
    factor_ids = [node.id for node in index_nodes(survey)]
    shown = factor_ids if len(factor_ids) <= 6 else [n.id for n in index.children]
    bars = [
        charts.Bar(u.label, value, u.intervals[root].low, u.intervals[root].high, faint=u.indices[root].n < MIN_RESPONDENTS)
        for u in scores.groups
        if (value := u.indices[root].value) is not None
    ]
    small = [u for u in scores.groups if u.respondents < MIN_RESPONDENTS]
    blocks: list[Block] = [
        Heading(f"3. Chỉ số hài lòng theo {by}", 2),
        Chart(
            charts.horizontal_bars(
                bars, reference=scores.all.indices[root].value, reference_label=f"Toàn bộ mẫu: {pct(scores.all.indices[root].value)}%"
            ),
            f"Chỉ số {root} theo {by} (%), với khoảng tin cậy 95%",
        ),
        Table(
            (by[:1].upper() + by[1:], "n", root, "KTC 95%", *shown, "Ghi chú"),
            tuple(
                (
                    u.label if u.key != ALL else "Toàn bộ",
                    count(u.respondents),
                    pct(u.indices[root].value),
                    interval_text(u.intervals[root]),
                    *(pct(u.indices[f].value) for f in shown),
                    _publish_note(u.respondents),
                )
                for u in scores.units
            ),
            widths=(2, 0.8, 1.5, 2.2, *(1.15,) * len(shown), 1.6),
            numeric=tuple(range(1, 4 + len(shown))),
        ),
    ]
    if small:
        blocks.append(
            Paragraph(
                f"{len(small)} trong {len(scores.groups)} đơn vị có dưới {MIN_RESPONDENTS} người trả lời; "
                "kết quả của các đơn vị này chỉ mang tính tham khảo.",
                note=True,
            )
        )
    return blocks


def _expectation_blocks(data: ReportInput, number: int) -> list[Block]:
    survey = data.scores.survey
    unit = data.scores.all
    items = expectation_items(survey)
    blocks: list[Block] = [Heading(f"{number}. Mong đợi của người dân", 2)]
    if not items:
        return [*blocks, Paragraph("Phiếu khảo sát này không có câu hỏi về mong đợi.")]
    for item in items:
        if isinstance(item, Grid):
            series = [
                (option.label, [next(s.value or 0 for s in unit.others[row.id] if s.code == option.code) for row in item.rows])
                for option in item.options
            ]
            blocks += [
                Chart(
                    charts.stacked_shares([f"{r.label}. {r.text}" for r in item.rows], series),
                    f"{item.label}: tỷ lệ người trả lời theo từng mức (%)",
                ),
                _grid_table(survey, item, unit),
            ]
        else:
            shares = sorted(
                ((s, value) for s in unit.others[item.id] if (value := s.value) is not None), key=lambda share_value: -share_value[1]
            )
            n = shares[0][0].n if shares else 0
            blocks += [
                Chart(
                    charts.horizontal_bars([charts.Bar(s.label, value) for s, value in shares], label_width=40),
                    f"{item.label}: tỷ lệ người chọn từng phương án, từ cao đến thấp (%, n = {count(n)})",
                ),
                _share_table(item, unit.others[item.id]),
            ]
    return blocks


def _comment_blocks(data: ReportInput, number: int) -> list[Block]:
    survey = data.scores.survey
    text_ids = [q.id for q in survey.fields() if q.kind == "text"]
    comments = report_comments(data.records.counted, text_ids, data.records.identifiers)
    blocks: list[Block] = [Heading(f"{number}. Ý kiến khác của người dân", 2)]
    unreviewed = (
        f"{count(comments.unreviewed)} ý kiến chưa được rà soát: chỉ được đếm, không trích dẫn cho đến khi "
        "người rà soát chép lại hoặc xác nhận nội dung."
    )
    if not comments.groups:
        return [*blocks, Paragraph(unreviewed if comments.unreviewed else "Không có ý kiến khác.")]
    blocks.append(
        Paragraph(
            f"{count(comments.quoted)} ý kiến đã được người rà soát chép lại hoặc xác nhận, xếp theo "
            "chủ đề; không kèm tên, mã hộ, số phiếu hay địa bàn của người viết (tên người, số điện "
            "thoại và các số nhận diện đã được ẩn)." + (f" Ngoài ra có {unreviewed}" if comments.unreviewed else ""),
            note=True,
        )
    )
    for group in comments.groups:
        blocks += [
            Heading(f"{group.theme} ({group.total})", 3),
            Bullets(tuple(f"{text}" + (f" (×{n})" if n > 1 else "") for text, n in group.comments)),
        ]
    return blocks


def _comparison_blocks(data: ReportInput, number: int) -> list[Block]:
    blocks: list[Block] = [Heading(f"{number}. So sánh với năm trước", 2)]
    if data.changes is None:
        return [*blocks, Paragraph("Không có số liệu năm trước để so sánh.")]
    survey = data.scores.survey
    index = root_index(survey)
    headline = [index.id, *(node.id for node in index_nodes(survey))]
    all_rows = {c.index: c for c in data.changes if c.unit == ALL}
    shown = [i for i in headline if i in all_rows]
    blocks += [
        Chart(
            charts.grouped_change(
                shown,
                [all_rows[i].previous for i in shown],
                [all_rows[i].value for i in shown],
                previous_label="năm trước",
                current_label=f"năm {data.year}",
            ),
            "Chỉ số năm trước và năm nay (%); số trên cột: thay đổi (điểm %)",
        ),
        Table(
            ("Chỉ số", "Năm trước (%)", f"Năm {data.year} (%)", "Thay đổi (điểm %)"),
            tuple(
                (
                    index_label(survey, i),
                    pct(all_rows[i].previous),
                    pct(all_rows[i].value),
                    pct(all_rows[i].change, signed=True),
                )
                for i in [*shown, *(c for c in index.all_criteria() if c in all_rows and all_rows[c].previous is not None)]
            ),
            widths=(2, 1.5, 1.5, 1.5),
            numeric=(1, 2, 3),
            caption="Toàn bộ mẫu",
        ),
    ]
    root = index.id
    unit_rows = [c for c in data.changes if c.unit != ALL and c.index == root]
    if unit_rows:
        blocks.append(
            Table(
                ("Đơn vị", "Năm trước (%)", f"Năm {data.year} (%)", "Thay đổi (điểm %)"),
                tuple((c.unit, pct(c.previous), pct(c.value), pct(c.change, signed=True)) for c in unit_rows),
                widths=(3, 1.5, 1.5, 1.5),
                numeric=(1, 2, 3),
                caption=f"Chỉ số {root} theo đơn vị",
            )
        )
    return blocks


def results(data: ReportInput) -> list[Block]:
    blocks: list[Block] = [Heading("III. KẾT QUẢ"), *_process_blocks(data), *_satisfaction_blocks(data)]
    number = 3
    if data.scores.by:
        blocks += _units_blocks(data)
        number += 1
    blocks += _expectation_blocks(data, number)
    blocks += _comment_blocks(data, number + 1)
    blocks += _comparison_blocks(data, number + 2)
    return blocks
