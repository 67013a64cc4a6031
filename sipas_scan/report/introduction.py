"""I. Introduction: objectives, scope, the questionnaire and its index,
and how the indices are computed."""

from __future__ import annotations

from sipas_scan.report.formats import by_label, count, criterion_label, node_label
from sipas_scan.report.inputs import ReportInput, index_nodes
from sipas_scan.report.model import Block, Bullets, Heading, Paragraph
from sipas_scan.scoring.intervals import BOOTSTRAP_RESAMPLES, MIN_RESPONDENTS
from sipas_scan.survey import IndexNode, Survey


def _conditions(survey: Survey) -> list[str]:
    """The filters on criteria, in words: 'yếu tố F5 (5.1 đến 5.4) chỉ tính cho người trả lời câu A5 là “Có”'."""
    notes = []
    for node in index_nodes(survey):
        criteria = node.criteria
        if not criteria:
            continue
        condition = survey.field(criteria[0]).applies_if
        if condition is None:
            continue
        filter_question = survey.field(condition.question)
        labels = {o.code: o.label for o in filter_question.options}
        answer = " hoặc ".join(f"“{labels.get(c, c)}”" for c in condition.codes)
        notes.append(
            f"yếu tố {node.id} (tiêu chí {criterion_label(survey, criteria[0])} đến "
            f"{criterion_label(survey, criteria[-1])}) chỉ tính cho người trả lời câu "
            f"{filter_question.label} là {answer}"
        )
    return notes


def introduction(data: ReportInput) -> list[Block]:
    survey = data.scores.survey
    places = [key[:3] for key in data.records.returns]
    districts = len({p[0] for p in places})
    communes = len({p[:2] for p in places})
    villages = len(set(places))
    criteria = survey.index.all_criteria() if survey.index else ()
    factors = [node for node in index_nodes(survey) if node.criteria]
    blocks: list[Block] = [
        Heading("I. GIỚI THIỆU CHUNG"),
        Heading("1. Mục tiêu", 2),
        Paragraph(
            "Đo lường sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính nhà nước "
            "nhằm đánh giá khách quan chất lượng cung ứng dịch vụ hành chính công; qua đó các cơ quan nắm bắt "
            "yêu cầu, mong muốn của người dân để có biện pháp cải thiện chất lượng phục vụ."
        ),
        Heading("2. Đối tượng, phạm vi", 2),
        Paragraph(
            f"Người dân tại các hộ gia đình được chọn khảo sát ở {count(villages)} thôn, tổ dân phố thuộc "
            f"{count(communes)} xã, phường, thị trấn của {count(districts)} huyện, thành phố."
        ),
        Heading("3. Nội dung", 2),
        Paragraph(
            f"Phiếu khảo sát “{survey.short_title}” (phiên bản {survey.version}) "
            f"gồm {len(survey.fields())} câu hỏi; chỉ số hài lòng được tính trên {len(criteria)} tiêu chí "
            f"thuộc {len(factors)} yếu tố:"
        ),
        Bullets(
            tuple(
                f"{'    ' * (_depth(survey, node) - 1)}{node_label(node)} ({len(node.all_criteria())} tiêu chí)"
                for node in index_nodes(survey)
            )
        ),
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
        notes.append(
            "Chỉ số chung được tính trên toàn bộ người trả lời như một mẫu chung, đúng công thức của Đề án; "
            "chỉ số của mỗi đơn vị tính trên người trả lời của đơn vị đó."
        )
    else:
        unit = by_label(scores.survey, scores.mean_unit)
        notes.append(
            f"Chỉ số chung là trung bình cộng chỉ số của các đơn vị cấp {unit} (mỗi đơn vị có trọng số như "
            "nhau); chỉ số của mỗi đơn vị tính trên người trả lời của đơn vị đó."
        )
    notes.append(
        f"Khoảng tin cậy 95% của SIPAS và từng yếu tố được ước lượng bằng phương pháp bootstrap theo người trả "
        f"lời ({count(BOOTSTRAP_RESAMPLES)} lần lấy mẫu lặp có hoàn lại, lấy khoảng phân vị; tính lại cho "
        "cùng kết quả" + ("; lấy mẫu lặp trong từng đơn vị" if scores.combine == "mean" else "") + ")."
    )
    notes.append(
        f"Đơn vị có dưới {MIN_RESPONDENTS} người trả lời: kết quả chỉ mang tính tham khảo, không dùng để công bố hay xếp hạng."
    )
    notes.append(
        "Chỉ tính các phiếu đã được chấp nhận hoặc đã rà soát xong; phiếu còn chờ rà soát và phiếu bị loại "
        "không được tính. Báo cáo không nêu mã hộ, số phiếu hay bất kỳ thông tin nào nhận diện người trả lời."
    )
    return tuple(notes)
