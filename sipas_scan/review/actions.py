"""What a reviewer's decision does: append the event, derive the form again.

Nothing here deletes or edits a machine reading: decisions are appended and
the forms, answers and flags are derived again from pages plus decisions.
A decision and its form's new status are written in one transaction: a
server killed between them leaves neither.
"""

from __future__ import annotations

import cv2
import numpy as np

from sipas_scan.assembly import decisions as keys
from sipas_scan.assembly.derive import rebuild_form
from sipas_scan.assembly.forms import unproven
from sipas_scan.errors import SipasError
from sipas_scan.layout import survey_and_layout
from sipas_scan.printing.codes import PageCode, Secret, serial_is_valid
from sipas_scan.printing.ledger import LedgerLocation
from sipas_scan.reading.page import PageResult, ReadOptions, read_as
from sipas_scan.reading.printed import read_printed_identity
from sipas_scan.reading.sources import SourceError, reopen_page
from sipas_scan.review.labels import label
from sipas_scan.review.queue import ReviewItem, release_lease, take_lease
from sipas_scan.store.db import Store, StoreError
from sipas_scan.store.queue import answer
from sipas_scan.survey.model import join_codes

# A page a reviewer assigns is read under the identity they gave; its code
# is not verified, so the reading options need no real key.
ASSIGNED_PAGE_SECRET = Secret(b"assigned-by-a-reviewer")

# A code was read on these pages and did not verify (or names another
# survey): the code is evidence against the page, and no reviewer overrules
# it. Such a page can only be rejected.
REJECT_ONLY = ("forged-code", "malformed-code", "other-survey")

# Bounds on what a decision may carry: a comment box on the paper holds a few
# hundred characters; a note is a sentence or two. The log page shows them all.
MAX_NOTE_LENGTH = 1000
MAX_TRANSCRIPTION_LENGTH = 4000
# A supervisor assigning a page whose printed serial does not match writes
# why: a few words at least.
MIN_ASSIGN_REASON_LENGTH = 10


class ReviewError(SipasError):
    """A decision that cannot be taken. ``message`` is a key of the review
    app's labels (shown in the reviewer's language, with ``values``);
    ``status`` is the HTTP status the app answers with."""

    def __init__(self, message: str, status: int = 400, **values: str):
        self.message, self.status, self.values = message, status, values
        super().__init__(label(message, "en", **values))


def normalise_codes(value: str) -> str:
    """Codes as stored: each once, ascending ('1;1;3' -> '1;3')."""
    return join_codes({c.strip() for c in value.split(";") if c.strip()})


def current_value(store: Store, survey: str, serial: str, key: str) -> str | None:
    """What counts now: the decision in force, else the machine's answer."""
    decided = store.decisions([(survey, serial)]).get((survey, serial, key))
    if decided is not None or not keys.is_answer_key(key):
        return decided
    found = answer(store, survey, serial, key)
    return found[0] if found else None


def allowed_values(item: ReviewItem) -> set[str] | None:
    """The values a decision on this item may take (None: any text)."""
    if item.kind == "comment":
        return None
    if item.kind == "answer":
        return None  # checked against the question's codes in decide()
    if item.kind == "form":
        return {keys.REJECTED} if unproven(item.reasons) else {keys.KEPT, keys.REJECTED}
    if item.kind == "quarantine":
        return {keys.REJECTED}  # or assign:..., checked separately
    if item.key.startswith("#missing:"):
        return {keys.NOT_RETURNED, keys.REJECTED}
    if item.key.startswith(keys.PLACED):
        return {keys.CONFIRMED, keys.TAKEN_OUT, keys.REJECTED}
    if item.key.startswith("#marks:"):
        return {keys.CONFIRMED, keys.ANSWER_EACH, keys.REJECTED}
    return {keys.REJECTED} | {f"{keys.USE}{page_id}" for page_id in item.page_ids}


def assignable(item: ReviewItem) -> bool:
    """Whether a quarantined page may be assigned to a form at all."""
    return item.kind == "quarantine" and not set(item.reasons) & set(REJECT_ONLY)


def _check_answer(item: ReviewItem, value: str) -> None:
    """Only codes the question has. Two marks on a single-choice question, or
    more than the maximum, may be what the paper says: they are recorded as
    read, and scoring counts them as spoiled."""
    question = survey_and_layout(item.survey)[0].field(item.key)
    known = {o.code for o in question.options}
    unknown = [c for c in value.split(";") if c.strip() and c.strip() not in known]
    if unknown:
        raise ReviewError("error_not_an_answer", codes=";".join(unknown), question=item.key)


def decide(
    store: Store,
    item: ReviewItem,
    value: str,
    reviewer: str,
    note: str = "",
    ledger_path: LedgerLocation | None = None,
    *,
    supervisor: bool = False,
) -> str:
    """Record a reviewer's decision on an open item; returns the form's new status."""
    if len(note) > MAX_NOTE_LENGTH:
        raise ReviewError("error_note_too_long", n=str(MAX_NOTE_LENGTH))
    holder = take_lease(store, item.ident, reviewer)
    if holder:
        raise ReviewError("leased_by", 409, who=holder)
    if item.kind == "answer":
        _check_answer(item, value)
        value = normalise_codes(value)
    elif item.kind == "comment":
        value = value.strip()
        if len(value) > MAX_TRANSCRIPTION_LENGTH:
            raise ReviewError("error_text_too_long", n=str(MAX_TRANSCRIPTION_LENGTH))
    elif value.startswith(keys.ASSIGN):
        if item.kind != "quarantine":
            raise ReviewError("error_assign_not_quarantined")
        return _assign(store, item, value, reviewer, note, ledger_path, supervisor)
    elif value not in (allowed_values(item) or set()):
        raise ReviewError("error_not_a_decision", value=value[:40])
    elif value == keys.TAKEN_OUT:
        return _take_out(store, item, reviewer, note, ledger_path)
    # Rejecting from a page item rejects the form: one event, so reopening it
    # brings every item of the form back.
    key = keys.FORM if value == keys.REJECTED and item.kind in ("page", "form") else item.key
    try:
        with store.transaction():
            store.add_decision(
                item.survey,
                item.serial,
                key,
                current_value(store, item.survey, item.serial, key),
                value,
                reviewer,
                note,
                expect_open=True,
            )
            release_lease(store, item.ident, reviewer)
            return rebuild_form(store, item.survey, item.serial, ledger_path) if item.survey else value
    except StoreError:
        raise ReviewError("already_decided", 409) from None


def _take_out(store: Store, item: ReviewItem, reviewer: str, note: str, ledger_path: LedgerLocation | None) -> str:
    """A page its place in the stack gave this form is not the form's: it
    goes back to the quarantined pages (where it can be assigned), with the
    decision, and the form is derived again without it."""
    page_id = keys.page_of(item.key)
    decision = (item.survey, item.serial, item.key, None, keys.TAKEN_OUT, reviewer)
    try:
        with store.transaction():
            store.take_back_placed(page_id, decision, note)
            release_lease(store, item.ident, reviewer)
            return rebuild_form(store, item.survey, item.serial, ledger_path)
    except StoreError:
        raise ReviewError("already_decided", 409) from None


def _scan_of(store: Store, page_id: int) -> tuple[np.ndarray, float]:
    """The page as scanned (grey, dpi), opened again from its file, which
    must be the very file that was read."""
    scanned = store.scanned_file(page_id)
    try:
        image = reopen_page(scanned.path, scanned.page_index, scanned.sha256)
    except SourceError as exc:
        message = "error_scan_changed" if exc.reason == "changed" else "error_scan_unavailable"
        raise ReviewError(message, path=scanned.path.name) from None
    return image.gray, image.dpi


def _printed_serial(result: PageResult, code: PageCode) -> str:
    """The serial printed on a page read under ``code`` (header and footer,
    with the check digit, and the page number where legible agreeing with
    ``code``'s), or '' when it does not read."""
    _, layout = survey_and_layout(code.survey)
    aligned = cv2.imdecode(np.frombuffer(result.image_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if aligned is None:
        return ""
    printed = read_printed_identity(aligned, survey=code.survey, page_count=layout.page_count, known_page=code.page)
    return printed.serial if printed else ""


def _assign(
    store: Store, item: ReviewItem, value: str, reviewer: str, note: str, ledger_path: LedgerLocation | None, supervisor: bool
) -> str:
    """Give a quarantined page the identity a reviewer read off it. A page
    whose code failed verification never; a page whose code verified only
    to the identity it carries; any other page when the serial printed on
    it matches, or when a supervisor writes why."""
    if not assignable(item):
        raise ReviewError("error_assign_refused_code", 403)
    try:
        survey, serial, page = value.removeprefix(keys.ASSIGN).split("|")
        code = PageCode(survey, serial.strip(), int(page))
    except ValueError:
        raise ReviewError("error_assign_fields") from None
    try:
        survey_and_layout(code.survey)
    except SipasError:
        raise ReviewError("error_no_survey", survey=code.survey[:40]) from None
    if not serial_is_valid(code.serial):
        raise ReviewError("error_bad_serial", serial=code.serial[:20])
    page_id = item.page_ids[0]
    stored = store.stored_page(page_id)
    if stored is None or stored.status != "quarantined":
        raise ReviewError("already_decided", 409)
    signed = stored.identified_by == "code" and bool(stored.serial)
    if signed and (stored.survey, stored.serial, stored.page_no) != (code.survey, code.serial, code.page):
        raise ReviewError("error_assign_against_code", 403, serial=stored.serial, page=str(stored.page_no))
    gray, dpi = _scan_of(store, page_id)
    result = read_as(gray, dpi, code, ReadOptions(ASSIGNED_PAGE_SECRET))
    if result.status != "ok":
        raise ReviewError("error_reread", reason=result.reason)
    if signed:
        how, result.identified_by = "its signed code verified when it was scanned", "code"
    else:
        printed = _printed_serial(result, code)
        if printed == code.serial:
            how, result.identified_by = "the serial printed on the page matches", "print"
        elif not supervisor:
            raise ReviewError("error_print_mismatch", 403, serial=code.serial, printed=printed or "?")
        elif len(note.strip()) < MIN_ASSIGN_REASON_LENGTH:
            raise ReviewError("error_reason_needed", serial=code.serial, printed=printed or "?", n=str(MIN_ASSIGN_REASON_LENGTH))
        else:
            how = f"by a supervisor; the serial printed on the page reads '{printed or '?'}'; reason: {note.strip()}"
            result.identified_by = "hand"
    try:
        with store.transaction():
            store.assign_page(page_id, result, (item.key, None, value, reviewer), how, note)
            release_lease(store, item.ident, reviewer)
            return rebuild_form(store, code.survey, code.serial, ledger_path)
    except StoreError:
        raise ReviewError("already_decided", 409) from None


def reopen(
    store: Store, survey: str, serial: str, key: str, supervisor: str, note: str = "", ledger_path: LedgerLocation | None = None
) -> str:
    """Take a decision back (supervisors only): the item returns to the
    queue. Only a decision in force can be taken back; nothing is written
    otherwise."""
    if len(note) > MAX_NOTE_LENGTH:
        raise ReviewError("error_note_too_long", n=str(MAX_NOTE_LENGTH))
    decided = store.decisions([(survey, serial)]).get((survey, serial, key))
    if decided is None:
        raise ReviewError("error_nothing_to_reopen")
    if key.startswith(keys.QUARANTINE) and decided.startswith(keys.ASSIGN):
        raise ReviewError("error_assigned_reopen", 409)
    if decided == keys.TAKEN_OUT:
        raise ReviewError("error_taken_out_reopen", 409)
    try:
        with store.transaction():
            store.add_decision(
                survey,
                serial,
                key,
                current_value(store, survey, serial, key),
                None,
                supervisor,
                note or "reopened",
                expect_decided=True,
            )
            return rebuild_form(store, survey, serial, ledger_path) if survey else ""
    except StoreError:
        raise ReviewError("error_nothing_to_reopen") from None
