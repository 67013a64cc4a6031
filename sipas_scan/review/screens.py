"""What the review screens show, in the reviewer's language: an item's
explanations, scans and files, a filter question's dependants, a page's
status, the decision log with human labels and Vietnam's clock. Pure
presentation over the store; nothing here decides or writes."""

from __future__ import annotations

from dataclasses import dataclass

from sipas_scan.assembly import decisions as keys
from sipas_scan.errors import SipasError
from sipas_scan.layout import survey_and_layout
from sipas_scan.review.labels import detail_text, label, local_time, option_key, reason_help, reason_label
from sipas_scan.review.queue import ReviewItem
from sipas_scan.store import queue as stored
from sipas_scan.store.db import Store

LOG_PAGE_ROWS = 500


def _survey(survey_id: str):
    try:
        return survey_and_layout(survey_id)[0]
    except (SipasError, KeyError):
        return None


def question_name(survey_id: str, field_id: str) -> str:
    """What the form prints for a question or grid: A5, 1.2, 5."""
    survey = _survey(survey_id)
    if survey is None:
        return field_id
    grid = next((g for g in survey.grids() if g.id == field_id), None)
    if grid is not None:
        return grid.label.rstrip(".")
    try:
        return survey.field(field_id).label
    except KeyError:
        return field_id


def answer_text(survey_id: str, field_id: str, value: str | None, lang: str, *, keyed: bool = False) -> str:
    """An answer's codes with the labels the form prints: '2 – Không';
    ``keyed``: with the key that picks each option instead of its code
    (the tenth option's code is 10, its key a)."""
    if not value:
        return label("value_blank", lang)
    survey = _survey(survey_id)
    try:
        options = survey.field(field_id).options if survey else ()
    except KeyError:
        options = ()
    if not options:
        return value  # a transcription
    names = {o.code: f"{option_key(n) if keyed else o.code} – {o.label}" for n, o in enumerate(options, start=1)}
    return "; ".join(names.get(code, code) for code in value.split(";"))


def scan_caption(store: Store, page_id: int, lang: str) -> str:
    """The file a scan came from and the page in that file."""
    try:
        scanned = store.scanned_file(page_id)
    except (TypeError, LookupError):
        return ""
    return label("scan_of", lang, file=scanned.path.name, page=str(scanned.page_index + 1))


@dataclass(frozen=True)
class Scan:
    page_id: int
    title: str  # left / right, for a choice between two
    caption: str  # the file and the page in it


@dataclass(frozen=True)
class Dependant:
    """A question a filter answer says does not apply, answered anyway."""

    name: str
    text: str
    answer: str


def item_context(store: Store, item: ReviewItem, lang: str, machine: str = "") -> dict:
    """What item.html shows beyond the item itself."""
    survey = _survey(item.survey) if item.survey else None
    context: dict = {
        "survey_title": survey.short_title if survey else "",
        "details": [text for text in (detail_text(d, lang, lambda q: question_name(item.survey, q)) for d in item.details) if text],
        "help": reason_help(item.reasons[0], lang) if item.kind == "quarantine" else "",
        "machine_text": answer_text(item.survey, item.key, machine, lang, keyed=True) if machine else label("machine_blank", lang),
        "question_name": question_name(item.survey, item.key) if item.survey else "",
    }
    if item.kind == "quarantine":
        context["survey_names"] = {s: (found.short_title if (found := _survey(s)) else s) for s in store.surveys()}
    sides = [label("scan_left", lang), label("scan_right", lang)] if len(item.page_ids) >= 2 else [label("scan", lang)]
    if item.key.startswith(keys.PLACED):
        sides = [label("scan_placed", lang), label("scan_beside", lang)]
    context["scans"] = [
        Scan(page_id, side, scan_caption(store, page_id, lang)) for page_id, side in zip(item.page_ids[:2], sides, strict=False)
    ]
    dependants = [f for f in item.fields if f != item.key]
    if "skip-rule" in item.reasons and dependants and survey is not None:
        answers = stored.answers_of(store, item.survey, item.serial)
        context["dependants"] = [
            Dependant(
                question_name(item.survey, f), survey.field(f).text, answer_text(item.survey, f, answers.get(f, ("", None))[0], lang)
            )
            for f in dependants
        ]
        # The grid (or question) they belong to, on the page they were read from.
        page_id = answers.get(dependants[0], ("", None))[1]
        grid = survey.field(dependants[0]).grid
        context["dependants_crop"] = (page_id, grid or dependants[0]) if page_id is not None else None
    return context


def page_context(store: Store, page_id: int, lang: str) -> dict | None:
    """What page.html says about a stored page: which form and page, read
    or held and why, the file it came from."""
    page = store.stored_page(page_id)
    if page is None:
        return None
    if page.serial:
        where = label("page_of_form", lang, page=str(page.page_no or "?"), serial=page.serial)
    else:
        where = label("page_unidentified", lang)
    status = label("page_status_ok" if page.status == "ok" else "page_status_quarantined", lang)
    reason = reason_label(page.reason, lang) if page.reason else ""
    detail = detail_text(page.detail, lang) if page.status == "quarantined" else ""
    return {
        "where": where,
        "status": status,
        "reason": reason,
        "detail": detail,
        "file": scan_caption(store, page_id, lang),
        "quarantined": page.status == "quarantined",
    }


# ---- the decision log -------------------------------------------------------
@dataclass(frozen=True)
class LogRow:
    id: int
    when: str
    reviewer: str
    serial: str
    what: str
    old: str
    new: str
    note: str
    survey: str
    key: str
    in_force: bool  # the decision a supervisor may reopen


def _page_name(store: Store, page_id: int, lang: str) -> str:
    caption = scan_caption(store, page_id, lang)
    return caption or f"#{page_id}"


def key_text(store: Store, survey: str, key: str, lang: str) -> str:
    """What a decision is about, as a person says it."""
    if key == keys.FORM:
        return label("key_form", lang)
    if key.startswith(keys.QUARANTINE):
        return label("key_quarantine", lang, where=_page_name(store, keys.page_of(key), lang))
    if key.startswith(keys.PLACED):
        return label("key_placed", lang, where=_page_name(store, keys.page_of(key), lang))
    for prefix, name in (("#page:", "key_page"), ("#missing:", "key_missing"), ("#marks:", "key_marks")):
        if key.startswith(prefix):
            return label(name, lang, page=str(keys.page_of(key)))
    name = question_name(survey, key)
    return label("question_label", lang, label=name)


def value_text(store: Store, survey: str, key: str, value: str | None, lang: str) -> str:
    """A decision's value (or the value it replaced) as a person says it."""
    if value is None:
        return label("reopened", lang)
    named = {
        keys.REJECTED: "value_rejected",
        keys.KEPT: "value_kept",
        keys.NOT_RETURNED: "value_not_returned",
        keys.CONFIRMED: "value_confirmed",
        keys.ANSWER_EACH: "value_answer_each",
        keys.TAKEN_OUT: "value_taken_out",
    }
    if key.startswith(keys.PLACED) and value == keys.CONFIRMED:
        return label("value_placed_confirmed", lang)
    if not keys.is_answer_key(key) and value in named:
        return label(named[value], lang)
    if value.startswith(keys.USE) and value.removeprefix(keys.USE).isdigit():
        return label("value_use", lang, where=_page_name(store, int(value.removeprefix(keys.USE)), lang))
    if value.startswith(keys.ASSIGN):
        parts = value.removeprefix(keys.ASSIGN).split("|")
        if len(parts) == 3:
            return label("value_assign", lang, serial=parts[1], page=parts[2])
    if keys.is_answer_key(key):
        return answer_text(survey, key, value, lang)
    return value


def log_page(store: Store, lang: str, before: int | None = None) -> tuple[list[LogRow], int | None]:
    """One page of the decision log, newest first, and the id to page on
    from (None on the last page)."""
    rows = store.decision_log(LOG_PAGE_ROWS + 1, before)
    more = rows[LOG_PAGE_ROWS - 1][0] if len(rows) > LOG_PAGE_ROWS else None
    in_force = store.decisions()
    shown = []
    for event_id, survey, serial, key, old, new, reviewer, at, note in rows[:LOG_PAGE_ROWS]:
        shown.append(
            LogRow(
                event_id,
                local_time(at),
                reviewer,
                serial,
                key_text(store, survey, key, lang),
                value_text(store, survey, key, old, lang) if old is not None else "",
                value_text(store, survey, key, new, lang),
                label("reopened", lang) if note == "reopened" and new is None else note,
                survey,
                key,
                new is not None and in_force.get((survey, serial, key)) == new,
            )
        )
    return shown, more
