"""What a reviewer's decision does: append the event, derive the form again.

Nothing here deletes or edits a machine reading: decisions are appended and
the forms, answers and flags are derived again from pages plus decisions.
"""

from __future__ import annotations

from pathlib import Path

from sipas_scan.errors import SipasError
from sipas_scan.printing.codes import PageCode, Secret
from sipas_scan.reading.page import ReadOptions, read_identified_page, survey_and_layout
from sipas_scan.reading.pipeline import rebuild_form
from sipas_scan.reading.register import detect_markers
from sipas_scan.reading.sources import SourceError, load_page, open_source
from sipas_scan.review.queue import ReviewItem, release_lease, take_lease
from sipas_scan.store import decisions as keys
from sipas_scan.store.db import Store, StoreError
from sipas_scan.survey.model import join_codes

# A page a reviewer assigns is read under the identity they gave; its code
# is not verified, so the reading options need no real key.
ASSIGNED_PAGE_SECRET = Secret(b"assigned-by-a-reviewer")


class ReviewError(SipasError):
    """A decision that cannot be taken; the message is shown to the reviewer."""


def current_value(store: Store, survey: str, serial: str, key: str) -> str | None:
    """What counts now: the decision in force, else the machine's answer."""
    decided = store.decisions().get((survey, serial, key))
    if decided is not None or not keys.is_answer_key(key):
        return decided
    row = store.db.execute("SELECT value FROM answers WHERE survey = ? AND serial = ? AND field_id = ?",
                           (survey, serial, key)).fetchone()
    return row[0] if row else None


def allowed_values(item: ReviewItem) -> set[str] | None:
    """The values a decision on this item may take (None: any text)."""
    if item.kind == "comment":
        return None
    if item.kind == "answer":
        return None  # checked against the question's codes in decide()
    if item.kind == "form":
        return {keys.KEPT, keys.REJECTED}
    if item.kind == "quarantine":
        return {keys.REJECTED}  # or assign:..., checked separately
    if item.key.startswith("#missing:"):
        return {keys.NOT_RETURNED, keys.REJECTED}
    if item.key.startswith("#marks:"):
        return {keys.CONFIRMED, keys.ANSWER_EACH, keys.REJECTED}
    return {keys.REJECTED} | {f"{keys.USE}{page_id}" for page_id in item.page_ids}


def _check_answer(item: ReviewItem, value: str) -> None:
    """Only codes the question has. Two marks on a single-choice question, or
    more than the maximum, may be what the paper says: they are recorded as
    read, and scoring counts them as spoiled."""
    question = survey_and_layout(item.survey)[0].field(item.key)
    known = {o.code for o in question.options}
    unknown = [c for c in value.split(";") if c and c not in known]
    if unknown:
        raise ReviewError(f"'{';'.join(unknown)}' is not an answer to {item.key}")


def decide(store: Store, item: ReviewItem, value: str, reviewer: str, note: str = "",
           ledger_path: Path | None = None) -> str:
    """Record a reviewer's decision on an open item; returns the form's new status."""
    holder = take_lease(store, item.ident, reviewer)
    if holder:
        raise ReviewError(f"{holder} is reviewing this item")
    if item.kind == "answer":
        _check_answer(item, value)
        value = join_codes([c for c in value.split(";") if c])
    elif item.kind == "comment":
        value = value.strip()
    elif value.startswith(keys.ASSIGN):
        if item.kind != "quarantine":
            raise ReviewError("only a quarantined page can be assigned to a form")
        return _assign(store, item, value, reviewer, ledger_path)
    elif value not in (allowed_values(item) or set()):
        raise ReviewError(f"'{value}' is not a decision for this item")
    # Rejecting from a page item rejects the form: one event, so reopening it
    # brings every item of the form back.
    key = keys.FORM if value == keys.REJECTED and item.kind in ("page", "form") else item.key
    try:
        store.add_decision(item.survey, item.serial, key, current_value(store, item.survey, item.serial, key), value,
                           reviewer, note, expect_open=True)
    except StoreError as exc:
        raise ReviewError(str(exc)) from None
    release_lease(store, item.ident, reviewer)
    return rebuild_form(store, item.survey, item.serial, ledger_path) if item.survey else value


def _assign(store: Store, item: ReviewItem, value: str, reviewer: str, ledger_path: Path | None) -> str:
    try:
        survey, serial, page = value.removeprefix(keys.ASSIGN).split("|")
        code = PageCode(survey, serial.strip(), int(page))
    except ValueError:
        raise ReviewError("give the survey, the serial and the page number") from None
    try:
        survey_and_layout(code.survey)
    except SipasError:
        raise ReviewError(f"no survey '{code.survey}'") from None
    page_id = item.page_ids[0]
    path, index = store.source_of(page_id)
    try:
        source, _ = open_source(Path(path))
        image = load_page(source, index)
    except (SourceError, OSError) as exc:
        raise ReviewError(f"cannot open the scan {path} again: {exc}") from None
    result = read_identified_page(image.gray, image.dpi, code, detect_markers(image.gray),
                                  ReadOptions(ASSIGNED_PAGE_SECRET))
    if result.status != "ok":
        raise ReviewError(f"{result.reason}: {result.detail}")
    store.assign_page(page_id, result, (item.key, None, value, reviewer))
    release_lease(store, item.ident, reviewer)
    return rebuild_form(store, code.survey, code.serial, ledger_path)


def reopen(store: Store, survey: str, serial: str, key: str, supervisor: str, note: str = "",
           ledger_path: Path | None = None) -> str:
    """Take a decision back (supervisors only): the item returns to the queue."""
    if key.startswith(keys.QUARANTINE) and (store.decisions().get((survey, serial, key)) or "").startswith(keys.ASSIGN):
        raise ReviewError("an assigned page is part of its form now; reject the form or change its answers instead")
    store.add_decision(survey, serial, key, current_value(store, survey, serial, key), None, supervisor, note or "reopened")
    return rebuild_form(store, survey, serial, ledger_path) if survey else ""
