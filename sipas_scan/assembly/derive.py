"""Forms derived from the stored pages: after a scan (every form) and after a
review decision (one form).

The store is reached only through ``FormsStore``, the calls this stage
needs; ``sipas_scan.store.db.Store`` provides them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from itertools import groupby
from pathlib import Path
from typing import Any, Protocol

from sipas_scan.assembly.forms import Decisions, FormRecord, IssuedForms, PageRecord, assemble
from sipas_scan.errors import LedgerError
from sipas_scan.layout import survey_and_layout
from sipas_scan.printing.ledger import Ledger

log = logging.getLogger(__name__)

FormKey = tuple[str, str]  # (survey, serial)

# How often a derivation is made again because pages arrived meanwhile,
# before it is left to the run still storing them.
REBUILD_ATTEMPTS = 3


class FormsStore(Protocol):
    """What deriving forms reads from and writes to the database."""

    def snapshot(self) -> AbstractContextManager[Any]: ...
    def transaction(self) -> AbstractContextManager[Any]: ...
    def pages_mark(self) -> tuple[int, int]: ...
    def last_decision_id(self) -> int: ...
    def decisions(self, only: FormKey | None = None) -> Decisions: ...
    def issued_forms(self, only: FormKey | None = None) -> IssuedForms: ...
    def page_records(self, only: FormKey | None = None) -> Iterator[PageRecord]: ...
    def replace_forms(
        self,
        forms: list[FormRecord],
        only: FormKey | None = None,
        *,
        through: int | None = None,
        pages_mark: tuple[int, int] | None = None,
    ) -> bool: ...
    def others_reading(self, owner: str) -> bool: ...
    def stale_forms(self) -> list[FormKey]: ...


def issued_forms(ledger_path: Path | None, store: FormsStore, only: FormKey | None = None) -> IssuedForms:
    """Who each serial was issued to: from the ledger; without one, what the
    forms already record (a household, or not-issued where it was flagged)
    and unknown for the rest."""
    if ledger_path is None:
        return store.issued_forms(only)
    if not Path(ledger_path).is_file():  # opening would create an empty one and flag every form
        raise LedgerError(f"{ledger_path}: no such ledger (moved or deleted?)")
    with Ledger(ledger_path) as ledger:
        return IssuedForms({key: form.household for key, form in ledger.all_issued(only).items()}, default=None)


def rebuild(store: FormsStore, ledger_path: Path | None) -> Counter:
    """Derive forms from every stored page, one form at a time; returns the
    count per status. Pages and decisions are read in one snapshot, and each
    form records the last decision that snapshot held: a decision taken
    while this runs leaves its form stale, and ``rederive_stale`` finds it."""
    return rebuild_beside_other_runs(store, ledger_path)[0]


def rebuild_beside_other_runs(store: FormsStore, ledger_path: Path | None, owner: str | None = None) -> tuple[Counter, bool]:
    """``rebuild``, safe beside other scan runs: a derivation is stored only
    if no page was stored or forgotten since its snapshot; else it is made
    again, or, while another run (not ``owner``) is still storing pages, left
    to that run, which derives the forms again when it ends. Returns the
    counts and whether the derivation was stored."""
    attempt = 0
    while True:
        attempt += 1
        surveys, counts = {}, {}
        statuses: Counter = Counter()
        forms = []
        with store.snapshot():
            mark = store.pages_mark()
            through = store.last_decision_id()
            issued = issued_forms(ledger_path, store)
            decisions = store.decisions()
            for (survey_id, _), group in groupby(store.page_records(), key=lambda p: (p.survey, p.serial)):
                if survey_id not in surveys:
                    survey, layout = survey_and_layout(survey_id)
                    surveys[survey_id], counts[survey_id] = survey, layout.page_count
                for form in assemble(list(group), surveys, counts, issued, decisions):
                    statuses[form.status] += 1
                    forms.append(form)
        if store.replace_forms(forms, through=through, pages_mark=mark):
            return statuses, True
        if attempt >= REBUILD_ATTEMPTS and store.others_reading(owner or ""):
            return statuses, False
        log.info("pages were stored while the forms were derived: deriving them again")


def rebuild_form(store: FormsStore, survey_id: str, serial: str, ledger_path: Path | None = None) -> str:
    """Derive one form again (after a review decision); returns its status.
    Reads and writes in one write transaction, or in the caller's, so the
    decision and the form's new status are stored together."""
    with store.transaction():
        issued = issued_forms(ledger_path, store, (survey_id, serial))
        survey, layout = survey_and_layout(survey_id)
        pages = list(store.page_records((survey_id, serial)))
        forms = assemble(pages, {survey_id: survey}, {survey_id: layout.page_count}, issued, store.decisions((survey_id, serial)))
        store.replace_forms(forms, only=(survey_id, serial))
    return forms[0].status if forms else ""


def rederive_stale(store: FormsStore, ledger_path: Path | None = None) -> int:
    """Derive again every form whose derivation is older than a decision on
    it (a server killed mid-way by an older version, a full rebuild that ran
    while reviewers worked); returns how many there were."""
    stale = store.stale_forms()
    for survey_id, serial in stale:
        rebuild_form(store, survey_id, serial, ledger_path)
    return len(stale)
