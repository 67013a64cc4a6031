"""What the report says, following seed 004, section 6: introduction,
implementation and sample achieved, results, assessment and recommendations.

Built once as a list of blocks (model.py) that pdf.py and html.py both
render, so the two versions cannot say different things. Nothing here
identifies a respondent: only counts, shares and anonymised comments.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sipas_scan.report import charts
from sipas_scan.report.comments import group_comments
from sipas_scan.report.model import Block, Bullets, Chart, Figure, Heading, Paragraph, Report, Table
from sipas_scan.scoring.compare import Change
from sipas_scan.scoring.compute import Scores, UnitScores
from sipas_scan.scoring.indices import OptionShare, other_questions
from sipas_scan.scoring.intervals import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, MIN_RESPONDENTS, Interval
from sipas_scan.scoring.records_in import RecordSet
from sipas_scan.scoring.units import ALL
from sipas_scan.survey import Grid, IndexNode, Question, Survey

# Nghị quyết 76/NQ-CP: at least 90 % satisfied by 2025 (seed 004, part I).
TARGET_PERCENT = 90.0
# A question about what respondents expect: its section is titled "mong đợi"
# (household form, section C) or it asks what should be improved first
# (national form, B19). Matched case-insensitively.
EXPECTATION_MARKERS = ("mong đợi", "ưu tiên cải thiện")
# Charts of places switch to a coarser level above this many bars.
MAX_CHART_BARS = 40
STATUS_LABELS = {"accepted": "Được chấp nhận (accepted)", "resolved": "Đã rà soát xong (resolved)",
                 "needs_review": "Còn chờ rà soát (needs_review)", "rejected": "Bị loại (rejected)"}
BY_LABELS = {"province": "tỉnh", "district": "huyện", "commune": "xã", "village": "thôn"}


@dataclass(frozen=True)
class ReportInput:
    records: RecordSet
    scores: Scores
    year: int
    changes: list[Change] | None = None
    previous_name: str = ""


def pct(value: float | None, digits: int = 2) -> str:
    """Vietnamese style: decimal comma, '–' when there is no value."""
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


def interval_text(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return "–"
    return f"{pct(interval.low)} – {pct(interval.high)}"


def count(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _province(records: RecordSet) -> str:
    provinces = {key for key in (r.columns.get("province", "") for r in records.counted) if key}
    return next(iter(provinces)) if len(provinces) == 1 else ""


def title_of(data: ReportInput) -> tuple[str, str]:
    province = _province(data.records)
    where = f"tỉnh {province}" if province else "tỉnh"
    return ("BÁO CÁO",
            f"Chỉ số hài lòng của người dân, tổ chức đối với sự phục vụ của các cơ quan hành chính nhà nước "
            f"trên địa bàn {where} năm {data.year} (SIPAS năm {data.year})")


def expectation_items(survey: Survey) -> list[Question | Grid]:
    """The questions about what respondents expect (see EXPECTATION_MARKERS)."""
    found: list[Question | Grid] = []
    for section in survey.sections:
        in_section = any(marker in section.title.lower() for marker in EXPECTATION_MARKERS)
        for item in section.items:
            if isinstance(item, Question) and item.kind == "text":
                continue
            if in_section or any(marker in item.text.lower() for marker in EXPECTATION_MARKERS):
                found.append(item)
    return found


def _nodes(survey: Survey) -> list[IndexNode]:
    return list(survey.index.walk())[1:] if survey.index else []


def _node_label(node: IndexNode) -> str:
    return f"{node.id}. {node.label}"


def _publish_note(n: int) -> str:
    return "" if n >= MIN_RESPONDENTS else f"dưới {MIN_RESPONDENTS} người: chỉ tham khảo"


# --- I. Introduction --------------------------------------------------------


def _conditions(survey: Survey) -> list[str]:
    """The filters on criteria, in words: 'F5 (c5_1..c5_4): chỉ khi A5 = Có'."""
    notes = []
    for node in _nodes(survey):
        criteria = node.criteria
        if not criteria:
            continue
        condition = survey.field(criteria[0]).applies_if
        if condition is None:
            continue
        filter_question = survey.field(condition.question)
        labels = {o.code: o.label for o in filter_question.options}
        answer = " hoặc ".join(f"“{labels.get(c, c)}”" for c in condition.codes)
        notes.append(f"yếu tố {node.id} ({criteria[0]}..{criteria[-1]}) chỉ tính cho người trả lời câu "
                     f"{filter_question.label} ({condition.question}) là {answer}")
    return notes


def _introduction(data: ReportInput) -> list[Block]:
    survey = data.scores.survey
    places = [key[:3] for key in data.records.returns]
    districts = len({p[0] for p in places})
    communes = len({p[:2] for p in places})
    villages = len(set(places))
    criteria = survey.index.all_criteria() if survey.index else ()
    factors = [node for node in _nodes(survey) if node.criteria]
    blocks: list[Block] = [
        Heading("I. GIỚI THIỆU CHUNG"),
        Heading("1. Mục tiêu", 2),
        Paragraph("Đo lường sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính nhà nước "
                  "nhằm đánh giá khách quan chất lượng cung ứng dịch vụ hành chính công; qua đó các cơ quan nắm bắt "
                  "yêu cầu, mong muốn của người dân để có biện pháp cải thiện chất lượng phục vụ."),
        Heading("2. Đối tượng, phạm vi", 2),
        Paragraph(f"Người dân tại các hộ gia đình được chọn khảo sát ở {count(villages)} thôn, tổ dân phố thuộc "
                  f"{count(communes)} xã, phường, thị trấn của {count(districts)} huyện, thành phố."),
        Heading("3. Nội dung", 2),
        Paragraph(f"Phiếu khảo sát “{short(survey.short_title, 80)}” (mã {survey.id}, phiên bản {survey.version}) "
                  f"gồm {len(survey.fields())} câu hỏi; chỉ số hài lòng được tính trên {len(criteria)} tiêu chí "
                  f"thuộc {len(factors)} yếu tố:"),
        Bullets(tuple(f"{'    ' * (_depth(survey, node) - 1)}{_node_label(node)} ({len(node.all_criteria())} tiêu chí)"
                      for node in _nodes(survey))),
        Heading("4. Phương pháp thực hiện", 2),
        Bullets(_method_notes(data)),
    ]
    return blocks


def _depth(survey: Survey, target: IndexNode) -> int:
    def search(node: IndexNode, depth: int) -> int:
        if node is target:
            return depth
        for child in node.children:
            found = search(child, depth + 1)
            if found:
                return found
        return 0

    return search(survey.index, 0) if survey.index else 1


def _method_notes(data: ReportInput) -> tuple[str, ...]:
    scores = data.scores
    notes = [
        "Chỉ số hài lòng về sự phục vụ hành chính: SIPAS = (1/n) × Σ (bᵢ / aᵢ) × 100%, trong đó aᵢ là số câu hỏi "
        "hài lòng người thứ i phải trả lời, bᵢ là số câu người đó trả lời “Hài lòng” hoặc “Rất hài lòng”, n là số "
        "người trả lời các câu hỏi hài lòng (Đề án, mục 5.2).",
        "Chỉ số từng yếu tố: cùng công thức, chỉ với các tiêu chí của yếu tố và những người thuộc diện trả lời yếu tố đó. "
        "Chỉ số từng tiêu chí: tỷ lệ người trả lời “Hài lòng” hoặc “Rất hài lòng” trên số người trả lời tiêu chí đó. "
        "Các chỉ số khác: tỷ lệ người chọn từng phương án trên số người trả lời câu hỏi.",
        "Câu bỏ trống (hoặc đánh dấu không hợp lệ, như hai ô ở câu chỉ được chọn một) vẫn tính vào aᵢ nhưng không "
        "tính vào bᵢ; người bỏ trống toàn bộ các tiêu chí của một chỉ số không được tính vào n của chỉ số đó.",
    ]
    conditions = _conditions(scores.survey)
    if conditions:
        notes.append("Theo phiếu khảo sát: " + "; ".join(conditions) + ".")
    if scores.combine == "pooled":
        notes.append("Chỉ số chung được tính gộp trên toàn bộ người trả lời (phương pháp “pooled”, đúng công thức "
                     "của Đề án); chỉ số của mỗi đơn vị tính trên người trả lời của đơn vị đó.")
    else:
        unit = BY_LABELS.get(scores.mean_unit or "", scores.mean_unit)
        notes.append(f"Chỉ số chung là trung bình cộng chỉ số của các đơn vị cấp {unit} (phương pháp “mean”, mỗi đơn vị "
                     "có trọng số như nhau); chỉ số của mỗi đơn vị tính gộp trên người trả lời của đơn vị đó.")
    notes.append(f"Khoảng tin cậy 95% của SIPAS và từng yếu tố được ước lượng bằng phương pháp bootstrap theo người trả "
                 f"lời ({count(BOOTSTRAP_RESAMPLES)} lần lấy mẫu lặp, hạt giống cố định {BOOTSTRAP_SEED}, khoảng phân vị"
                 + ("; lấy mẫu lặp trong từng đơn vị" if scores.combine == "mean" else "") + ").")
    notes.append(f"Đơn vị có dưới {MIN_RESPONDENTS} người trả lời: kết quả chỉ mang tính tham khảo, không dùng để "
                 "công bố hay xếp hạng.")
    notes.append("Chỉ tính các phiếu đã được chấp nhận hoặc đã rà soát xong; phiếu còn chờ rà soát và phiếu bị loại "
                 "không được tính. Báo cáo không nêu mã hộ, số phiếu hay bất kỳ thông tin nào nhận diện người trả lời.")
    return tuple(notes)


# --- II. Implementation -----------------------------------------------------


def _place_level(records: RecordSet) -> tuple[int, str]:
    """How finely to show returns: village, else commune, else district."""
    for depth, name in ((3, "thôn"), (2, "xã"), (1, "huyện")):
        if len({key[:depth] for key in records.returns}) <= MAX_CHART_BARS:
            return depth, name
    return 1, "huyện"


def _implementation(data: ReportInput) -> list[Block]:
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


# --- III. Results -----------------------------------------------------------


def _share_table(question: Question, shares: list[OptionShare]) -> Table:
    n = shares[0].n if shares else 0
    multi = " (chọn nhiều phương án, tổng có thể vượt 100%)" if question.kind == "multi" else ""
    return Table(("Phương án", "Tỷ lệ (%)"),
                 tuple((f"{s.code}. {s.label}", pct(s.value, 1)) for s in shares),
                 widths=(5, 1), numeric=(1,),
                 caption=f"{question.label}. {question.text} (n = {count(n)}){multi}")


def _grid_table(survey: Survey, grid: Grid, unit: UnitScores) -> Table:
    rows = []
    n = 0
    for row in grid.rows:
        shares = unit.others.get(row.id, [])
        n = max(n, shares[0].n if shares else 0)
        rows.append((f"{row.label} {row.text}", *(pct(s.value, 1) for s in shares)))
    return Table(("Nội dung", *(o.label for o in grid.options)), tuple(rows),
                 widths=(4, *(1,) * len(grid.options)), numeric=tuple(range(1, len(grid.options) + 1)),
                 caption=f"{grid.label}. {grid.text} (tỷ lệ %, n đến {count(n)})")


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
        bars.append(charts.Bar(f"{node.id}. {node.label}", value.value, interval.low, interval.high,
                               faint=value.n < MIN_RESPONDENTS))
    return bars


def _satisfaction_blocks(data: ReportInput) -> list[Block]:
    survey = data.scores.survey
    unit = data.scores.all
    sipas = unit.indices[survey.index.id]
    nodes = _nodes(survey)
    blocks: list[Block] = [
        Heading("2. Chỉ số hài lòng về sự phục vụ hành chính", 2),
        Figure(f"Chỉ số {survey.index.id} năm {data.year}", f"{pct(sipas.value)}%",
               f"khoảng tin cậy 95%: {interval_text(unit.intervals[survey.index.id])}%; "
               f"n = {count(sipas.n)} người trả lời"),
    ]
    if sipas.n < MIN_RESPONDENTS:
        blocks.append(Paragraph(f"Lưu ý: chỉ có {sipas.n} người trả lời (dưới {MIN_RESPONDENTS}); kết quả chỉ mang "
                                "tính tham khảo.", note=True))
    bars = _bars_for_nodes(unit, nodes)
    chart = (charts.vertical_bars([charts.Bar(b.label.split(".")[0], b.value, b.low, b.high, b.faint) for b in bars],
                                  reference=sipas.value, reference_label=f"{survey.index.id} {pct(sipas.value)}")
             if len(bars) <= 6 else
             charts.horizontal_bars(bars, reference=sipas.value, reference_label=survey.index.id))
    blocks += [
        Heading("2.1. Chỉ số hài lòng theo yếu tố", 3),
        Chart(chart, "Chỉ số hài lòng theo yếu tố (%), với khoảng tin cậy 95%"),
        Table(("Yếu tố", "Chỉ số (%)", "KTC 95% (%)", "n"),
              tuple((_node_label(node), pct(unit.indices[node.id].value), interval_text(unit.intervals[node.id]),
                     count(unit.indices[node.id].n)) for node in [survey.index, *nodes]),
              widths=(5, 1.3, 2, 1), numeric=(1, 2, 3)),
    ]
    criteria = survey.index.all_criteria()
    ranked = sorted((c for c in criteria if unit.indices[c].value is not None),
                    key=lambda c: -(unit.indices[c].value or 0))
    blocks += [
        Heading("2.2. Chỉ số hài lòng theo tiêu chí", 3),
        Chart(charts.horizontal_bars([charts.Bar(f"{c} {short(survey.field(c).text, 60)}", unit.indices[c].value,
                                                 faint=unit.indices[c].n < MIN_RESPONDENTS) for c in ranked],
                                     reference=sipas.value, reference_label=survey.index.id, label_width=52),
              "Các tiêu chí xếp theo chỉ số hài lòng, từ cao đến thấp (%)"),
        Table(("Mã", "Tiêu chí", "Chỉ số (%)", "n"),
              tuple((c, survey.field(c).text, pct(unit.indices[c].value), count(unit.indices[c].n)) for c in criteria),
              widths=(0.8, 6, 1.3, 0.9), numeric=(2, 3)),
    ]
    return blocks


def _units_blocks(data: ReportInput) -> list[Block]:
    scores = data.scores
    survey = scores.survey
    root = survey.index.id
    by = BY_LABELS.get(scores.by or "", scores.by)
    factor_ids = [node.id for node in _nodes(survey)]
    shown = factor_ids if len(factor_ids) <= 6 else [n.id for n in survey.index.children]
    bars = [charts.Bar(short(u.label, 50), u.indices[root].value, u.intervals[root].low, u.intervals[root].high,
                       faint=u.indices[root].n < MIN_RESPONDENTS)
            for u in scores.groups if u.indices[root].value is not None]
    small = [u for u in scores.groups if u.respondents < MIN_RESPONDENTS]
    blocks: list[Block] = [
        Heading(f"3. Chỉ số hài lòng theo {by}", 2),
        Chart(charts.horizontal_bars(bars, reference=scores.all.indices[root].value,
                                     reference_label=f"Toàn bộ {pct(scores.all.indices[root].value)}"),
              f"Chỉ số {root} theo {by} (%), với khoảng tin cậy 95%; cột nhạt: dưới {MIN_RESPONDENTS} người trả lời"),
        Table((by.capitalize() if by else "Đơn vị", "n", root, "KTC 95%", *shown, "Ghi chú"),
              tuple((u.label if u.key != ALL else "Toàn bộ", count(u.respondents), pct(u.indices[root].value),
                     interval_text(u.intervals[root]), *(pct(u.indices[f].value) for f in shown),
                     _publish_note(u.respondents))
                    for u in scores.units),
              widths=(2, 0.8, 1.2, 2.2, *(1.15,) * len(shown), 1.6), numeric=tuple(range(1, 4 + len(shown)))),
    ]
    if small:
        blocks.append(Paragraph(f"{len(small)} trong {len(scores.groups)} đơn vị có dưới {MIN_RESPONDENTS} người trả lời; "
                                "kết quả của các đơn vị này chỉ mang tính tham khảo.", note=True))
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
            series = [(option.label, [next(s.value or 0 for s in unit.others[row.id] if s.code == option.code)
                                      for row in item.rows]) for option in item.options]
            blocks += [Chart(charts.stacked_shares([f"{r.label} {short(r.text, 60)}" for r in item.rows], series),
                             f"{item.label}: tỷ lệ người trả lời theo từng mức (%)"),
                       _grid_table(survey, item, unit)]
        else:
            shares = sorted((s for s in unit.others[item.id] if s.value is not None), key=lambda s: -(s.value or 0))
            n = shares[0].n if shares else 0
            blocks += [Chart(charts.horizontal_bars([charts.Bar(short(s.label, 70), s.value) for s in shares],
                                                    label_width=40),
                             f"{item.label}: tỷ lệ người chọn từng phương án, từ cao đến thấp (%, n = {count(n)})"),
                       _share_table(item, unit.others[item.id])]
    return blocks


def _comment_blocks(data: ReportInput, number: int) -> list[Block]:
    survey = data.scores.survey
    text_ids = [q.id for q in survey.fields() if q.kind == "text"]
    texts = [r.answers[t] for r in data.records.counted for t in text_ids if r.answers.get(t, "").strip()]
    groups = group_comments(texts, data.records.identifiers)
    blocks: list[Block] = [Heading(f"{number}. Ý kiến khác của người dân", 2)]
    if not groups:
        return [*blocks, Paragraph("Không có ý kiến khác.")]
    blocks.append(Paragraph(f"{count(sum(g.total for g in groups))} ý kiến, xếp theo chủ đề; ghi lại như đã nhận dạng, "
                            "không kèm tên, mã hộ, số phiếu hay địa bàn của người viết (các số nhận diện đã được ẩn).",
                            note=True))
    for group in groups:
        blocks += [Heading(f"{group.theme} ({group.total})", 3),
                   Bullets(tuple(f"{text}" + (f" (×{n})" if n > 1 else "") for text, n in group.comments))]
    return blocks


def _comparison_blocks(data: ReportInput, number: int) -> list[Block]:
    blocks: list[Block] = [Heading(f"{number}. So sánh với năm trước", 2)]
    if data.changes is None:
        return [*blocks, Paragraph("Không có số liệu năm trước để so sánh (tùy chọn --compare).")]
    survey = data.scores.survey
    headline = [survey.index.id, *(node.id for node in _nodes(survey))]
    all_rows = {c.index: c for c in data.changes if c.unit == ALL}
    shown = [i for i in headline if i in all_rows]
    blocks += [
        Chart(charts.grouped_change(shown, [all_rows[i].previous for i in shown], [all_rows[i].value for i in shown],
                                    previous_label=f"năm trước ({data.previous_name})", current_label=f"năm {data.year}"),
              "Chỉ số năm trước và năm nay (%); số trên cột: thay đổi (điểm %)"),
        Table(("Chỉ số", "Năm trước (%)", f"Năm {data.year} (%)", "Thay đổi (điểm %)"),
              tuple((i, pct(all_rows[i].previous), pct(all_rows[i].value),
                     "–" if all_rows[i].change is None else f"{all_rows[i].change:+.2f}".replace(".", ","))
                    for i in [*shown, *(c for c in survey.index.all_criteria()
                                        if c in all_rows and all_rows[c].previous is not None)]),
              widths=(2, 1.5, 1.5, 1.5), numeric=(1, 2, 3), caption="Toàn bộ mẫu"),
    ]
    root = survey.index.id
    unit_rows = [c for c in data.changes if c.unit != ALL and c.index == root]
    if unit_rows:
        blocks.append(Table(("Đơn vị", "Năm trước (%)", f"Năm {data.year} (%)", "Thay đổi (điểm %)"),
                            tuple((c.unit, pct(c.previous), pct(c.value),
                                   "–" if c.change is None else f"{c.change:+.2f}".replace(".", ","))
                                  for c in unit_rows),
                            widths=(3, 1.5, 1.5, 1.5), numeric=(1, 2, 3), caption=f"Chỉ số {root} theo đơn vị"))
    return blocks


def _results(data: ReportInput) -> list[Block]:
    blocks: list[Block] = [Heading("III. KẾT QUẢ"), *_process_blocks(data), *_satisfaction_blocks(data)]
    number = 3
    if data.scores.by:
        blocks += _units_blocks(data)
        number += 1
    blocks += _expectation_blocks(data, number)
    blocks += _comment_blocks(data, number + 1)
    blocks += _comparison_blocks(data, number + 2)
    return blocks


# --- IV. Assessment ---------------------------------------------------------


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


def _assessment(data: ReportInput) -> list[Block]:
    survey = data.scores.survey
    unit = data.scores.all
    root = unit.indices[survey.index.id]
    factors = _reliable([(node, unit.indices[node.id]) for node in _nodes(survey) if node.criteria])
    criteria = _reliable([(c, unit.indices[c]) for c in survey.index.all_criteria()])
    strengths, weaknesses, advice = [], [], []
    summary = "–"
    if root.value is not None:
        relation = "đạt" if root.value >= TARGET_PERCENT else "chưa đạt"
        summary = (f"Chỉ số {survey.index.id} năm {data.year} là {pct(root.value)}%, {relation} mục tiêu tối thiểu "
                   f"{pct(TARGET_PERCENT, 0)}% đến năm 2025 (Nghị quyết 76/NQ-CP).")
    if factors:
        best, worst = factors[0], factors[-1]
        strengths.append(f"Yếu tố được đánh giá cao nhất: {_node_label(best[0])} ({pct(best[1].value)}%).")
        weaknesses.append(f"Yếu tố thấp nhất: {_node_label(worst[0])} ({pct(worst[1].value)}%).")
        advice.append(f"Ưu tiên cải thiện {worst[0].label.lower()} ({worst[0].id}).")
    if criteria:
        strengths.append("Các tiêu chí cao nhất: " + "; ".join(f"{c} {short(survey.field(c).text, 70)} ({pct(v.value)}%)"
                                                               for c, v in criteria[:3]) + ".")
        weaknesses.append("Các tiêu chí thấp nhất: " + "; ".join(f"{c} {short(survey.field(c).text, 70)} ({pct(v.value)}%)"
                                                                 for c, v in criteria[-3:][::-1]) + ".")
        advice.append("Rà soát nguyên nhân và có giải pháp cụ thể cho các tiêu chí thấp nhất: "
                      + ", ".join(c for c, _ in criteria[-3:][::-1]) + ".")
    expectations = _top_expectations(data)
    if expectations:
        advice.append("Người dân mong đợi nhiều nhất: " + "; ".join(expectations) + ".")
    pending = data.records.excluded.get("needs_review", 0)
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
        Heading("1. Ưu điểm", 2), Bullets(tuple(strengths) or ("–",)),
        Heading("2. Hạn chế", 2), Bullets(tuple(weaknesses) or ("–",)),
        Heading("3. Kiến nghị", 2), Bullets(tuple(advice) or ("–",)),
        Paragraph("Các nhận xét trên được lập tự động từ số liệu; cơ quan chủ trì bổ sung phân tích nguyên nhân, "
                  "bài học kinh nghiệm và đề xuất cụ thể.", note=True),
    ]


def build_report(data: ReportInput) -> Report:
    title, subtitle = title_of(data)
    blocks = [*_introduction(data), *_implementation(data), *_results(data), *_assessment(data)]
    return Report(title, subtitle, blocks)

