"""Which questions ask what respondents expect: they get their own part of
the results and feed the recommendations."""

from __future__ import annotations

from sipas_scan.survey import Grid, Question, Survey

# A question about what respondents expect: its section is titled "mong đợi"
# (household form, section C) or it asks what should be improved first
# (national form, B19). Matched case-insensitively.
EXPECTATION_MARKERS = ("mong đợi", "ưu tiên cải thiện")


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
