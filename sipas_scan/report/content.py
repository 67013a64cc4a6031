"""What the report says, following the Lạng Sơn scheme, section 6: introduction,
implementation and sample achieved, results, assessment and recommendations.

Built once as a list of blocks (model.py) that pdf.py and html.py both
render, so the two versions cannot say different things. Nothing here
identifies a respondent: only counts, shares and anonymised comments.

Each part of the report has its own module: introduction.py (I),
implementation.py (II), results.py (III) and assessment.py (IV); this one
puts the title and the parts together.
"""

from __future__ import annotations

from sipas_scan.report.assessment import assessment
from sipas_scan.report.expectations import EXPECTATION_MARKERS, expectation_items
from sipas_scan.report.formats import BY_LABELS, count, interval_text, pct, short
from sipas_scan.report.implementation import MAX_CHART_BARS, STATUS_LABELS, implementation
from sipas_scan.report.inputs import ReportInput
from sipas_scan.report.introduction import introduction
from sipas_scan.report.model import Letterhead, Report
from sipas_scan.report.results import results
from sipas_scan.report.settings import DOTS
from sipas_scan.scoring.records_in import RecordSet

__all__ = [
    "BY_LABELS",
    "EXPECTATION_MARKERS",
    "MAX_CHART_BARS",
    "STATUS_LABELS",
    "ReportInput",
    "build_report",
    "count",
    "expectation_items",
    "interval_text",
    "pct",
    "short",
    "title_of",
]


def _province(records: RecordSet) -> str:
    provinces = {key for key in (r.columns.get("province", "") for r in records.counted) if key}
    return next(iter(provinces)) if len(provinces) == 1 else ""


def title_of(data: ReportInput) -> tuple[str, str]:
    province = _province(data.records)
    where = f"tỉnh {province}" if province else "tỉnh"
    return (
        "BÁO CÁO",
        f"Chỉ số hài lòng của người dân, tổ chức đối với sự phục vụ của các cơ quan hành chính nhà nước "
        f"trên địa bàn {where} năm {data.year} (SIPAS năm {data.year})",
    )


def letterhead_of(data: ReportInput) -> Letterhead:
    settings = data.settings
    return Letterhead(
        authority=settings.authority.upper(),
        issuer=(settings.issuer or DOTS).upper(),
        number_line=settings.number_line,
        date_line=settings.date_line(_province(data.records)),
        signer_title=(settings.signer_title or DOTS).upper(),
        signing_for=settings.signing_for.upper(),
        signer=settings.signer or DOTS,
        recipients=settings.recipients,
    )


def build_report(data: ReportInput) -> Report:
    title, subtitle = title_of(data)
    blocks = [*introduction(data), *implementation(data), *results(data), *assessment(data)]
    return Report(title, subtitle, blocks, letterhead_of(data))
