"""Forms derived from the stored pages: after a scan (the forms whose pages
changed) and after a review decision (one form).

A page stored, forgotten or assigned, or a decision taken, puts its form on the store's pending
list in the same transaction; ``derive_pending`` derives those forms, a
chunk at a time, each chunk read and written in one write transaction. So a
batch costs what its own forms cost, however many are stored; several scan
runs on one database may derive at once (the last to store a page of a form
derives it after that page, so it sees all of them); and a run killed
before deriving leaves its forms pending for the next run.

The store is reached only through ``FormsStore``, the calls this stage
needs; ``sipas_scan.store.db.Store`` provides them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sipas_scan.assembly.forms import Decisions, FormKey, FormRecord, IssuedForms, PageRecord, assemble
from sipas_scan.layout import survey_and_layout
from sipas_scan.printing.ledger import Ledger, LedgerLocation

log = logging.getLogger(__name__)

# Forms derived in one write transaction: long enough to pay for the
# queries, short enough (well under a second) that another station storing
# pages meanwhile hardly waits.
DERIVE_CHUNK = 200


class FormsStore(Protocol):
    """What deriving forms reads from and writes to the database."""

    def transaction(self) -> AbstractContextManager[Any]: ...
    def decisions(self, only: Sequence[FormKey] | None = None) -> Decisions: ...
    def issued_forms(self, only: Sequence[FormKey] | None = None) -> IssuedForms: ...
    def page_records(self, only: Sequence[FormKey] | None = None) -> Iterator[PageRecord]: ...
    def replace_forms(self, forms: list[FormRecord], keys: Sequence[FormKey] | None = None) -> None: ...
    def pending_forms(self, limit: int) -> list[FormKey]: ...
    def mark_every_form_pending(self) -> None: ...
    def mark_unknown_issue_pending(self) -> int: ...


def issued_forms(ledger_path: LedgerLocation | None, store: FormsStore, keys: Sequence[FormKey]) -> IssuedForms:
    """Who each of the forms ``keys`` was issued to: from the ledger; without
    one, what the forms already record (a household, or not-issued where it
    was flagged) and unknown for the rest."""
    if ledger_path is None:
        return store.issued_forms(keys)
    with Ledger(ledger_path, create=False) as ledger:
        return IssuedForms({key: form.household for key, form in ledger.issued_to(keys).items()}, default=None)


def derive_forms(store: FormsStore, keys: Sequence[FormKey], ledger_path: LedgerLocation | None = None) -> list[FormRecord]:
    """Derive the forms ``keys`` from their pages and decisions and store
    them, in one write transaction (or the caller's: a review decision and
    its form's new status are stored together); returns the forms."""
    with store.transaction():
        issued = issued_forms(ledger_path, store, keys)
        decisions = store.decisions(keys)
        pages = list(store.page_records(keys))
        surveys, counts = {}, {}
        for survey_id in sorted({page.survey for page in pages}):
            surveys[survey_id], layout = survey_and_layout(survey_id)
            counts[survey_id] = layout.page_count
        forms = assemble(pages, surveys, counts, issued, decisions)
        store.replace_forms(forms, keys)
    return forms


def derive_pending(store: FormsStore, ledger_path: LedgerLocation | None = None) -> Counter:
    """Derive every form on the pending list (pages stored, forgotten or
    assigned since it was derived: by this run, another, or one killed
    before it derived them); returns the count per status of the forms
    derived."""
    statuses: Counter = Counter()
    while keys := store.pending_forms(DERIVE_CHUNK):
        statuses.update(form.status for form in derive_forms(store, keys, ledger_path))
    return statuses


def rebuild(store: FormsStore, ledger_path: LedgerLocation | None) -> Counter:
    """Derive every form again (a database derived by an older version's
    rules); returns the count per status."""
    store.mark_every_form_pending()
    return derive_pending(store, ledger_path)


def rebuild_form(store: FormsStore, survey_id: str, serial: str, ledger_path: LedgerLocation | None = None) -> str:
    """Derive one form again (after a review decision); returns its status."""
    forms = derive_forms(store, [(survey_id, serial)], ledger_path)
    return forms[0].status if forms else ""
