"""The review queue: what is waiting for a person, and who holds what.

An item is everything one decision settles: a question's answer (with the
questions a filter answer says do not apply), a page (missing, scanned twice
with different marks, without marks), a form (never issued), or a
quarantined page. Items are derived from the flags and the decisions in
force each time, so the queue can never disagree with them.

Two reviewers never hold one item: picking the next item and leasing it are
one write transaction, so two reviewers asking at once get two different
items. A lease, renewed while the item is open, lapses by itself when a
browser is closed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sipas_scan.assembly import decisions as keys
from sipas_scan.layout import survey_and_layout
from sipas_scan.store import queue as stored
from sipas_scan.store.db import Store

LEASE_MINUTES = 5
# A lease with more than this left is not written again when its holder
# opens the item or the browser renews it: a page view is no write.
LEASE_RENEW_BELOW = dt.timedelta(minutes=LEASE_MINUTES / 2)
NOT_FOR_REVIEW = ("blank-page",)  # quarantined back sides need nobody's decision


@dataclass(frozen=True)
class ReviewItem:
    survey: str
    serial: str
    key: str
    kind: str  # answer | comment | page | form | quarantine
    reasons: tuple[str, ...]
    details: tuple[str, ...]
    confidence: float
    page_ids: tuple[int, ...]  # scans to show; two for a page scanned twice; an answer's own page first
    page_no: int = 0
    fields: tuple[str, ...] = ()  # the questions flagged (a filter's item: those answered although it says not to)

    @property
    def ident(self) -> str:
        return f"{self.survey}|{self.serial}|{self.key}"


def parse_ident(ident: str) -> tuple[str, str, str]:
    survey, serial, key = ident.split("|", 2)
    return survey, serial, key


def _kind(survey_id: str, key: str) -> str:
    if key.startswith(keys.PAGE_KEYS):
        return "page"
    if key == keys.FORM:
        return "form"
    survey, _ = survey_and_layout(survey_id)
    return "comment" if survey.field(key).kind == "text" else "answer"


def _items(store: Store, flags: list[stored.OpenFlag], decided: dict) -> list[ReviewItem]:
    grouped: dict[tuple[str, str, str], list[stored.OpenFlag]] = defaultdict(list)
    for flag in flags:
        if (flag.survey, flag.serial, flag.item) not in decided:
            grouped[(flag.survey, flag.serial, flag.item)].append(flag)
    items = []
    for (survey, serial, key), group in grouped.items():
        kind = _kind(survey, key)
        page_no = max(f.page_no for f in group)
        page_ids = [f.page_id for f in group if f.page_id is not None]
        if key.startswith(keys.PLACED):
            # The page placed, then its form's pages it lay beside.
            page_ids = [*page_ids, *stored.placed_beside(store, keys.page_of(key))]
        elif kind == "page":
            # Every scan of the page: those read, and a copy that could not be.
            page_ids = [*stored.page_copies(store, survey, serial, page_no), *page_ids]
        elif kind == "answer" and any(f.field_id != key for f in group):
            # A filter answer whose questions were answered although it says
            # they do not apply: its own page comes first.
            found = stored.answer(store, survey, serial, key)
            page_ids = [found[1]] + page_ids if found and found[1] is not None else page_ids
        items.append(
            ReviewItem(
                survey,
                serial,
                key,
                kind,
                tuple(dict.fromkeys(f.reason for f in group)),
                tuple(dict.fromkeys(f.detail for f in group if f.detail)),
                min(f.confidence for f in group),
                tuple(dict.fromkeys(page_ids)),
                page_no,
                tuple(dict.fromkeys(f.field_id for f in group if f.field_id)),
            )
        )
    return items


def _quarantine_item(page_id: int, reason: str, detail: str) -> ReviewItem:
    return ReviewItem("", "", keys.quarantine_key(page_id), "quarantine", (reason,), (detail,), 0.0, (page_id,))


def open_items(store: Store) -> list[ReviewItem]:
    """Every undecided item, in a stable order (survey, serial, key), then
    the quarantined pages."""
    decided = store.decisions()
    items = _items(store, stored.open_flags(store), decided)
    for page_id, reason, detail in stored.quarantined_pages(store, NOT_FOR_REVIEW):
        if ("", "", keys.quarantine_key(page_id)) not in decided:
            items.append(_quarantine_item(page_id, reason, detail))
    return items


def open_idents(store: Store) -> list[str]:
    """The idents of every undecided item, in the queue's order: what
    picking the next item needs, without reading each item whole."""
    idents = [f"{survey}|{serial}|{key}" for survey, serial, key in stored.open_keys(store)]
    idents += [f"||{keys.quarantine_key(page_id)}" for page_id in stored.quarantined_ids(store, NOT_FOR_REVIEW, undecided=True)]
    return idents


def find_item(store: Store, ident: str) -> ReviewItem | None:
    """One open item by its ident (None when decided or unknown); reads only
    what concerns it."""
    try:
        survey, serial, key = parse_ident(ident)
    except ValueError:
        return None
    if key.startswith(keys.QUARANTINE):
        try:
            page_id = keys.page_of(key)
        except ValueError:
            return None
        if survey or serial or ("", "", key) in store.decisions([("", "")]):
            return None
        found = stored.quarantined_pages(store, NOT_FOR_REVIEW, page_id)
        return _quarantine_item(*found[0]) if found else None
    flags = stored.open_flags(store, (survey, serial, key))
    items = _items(store, flags, store.decisions([(survey, serial)])) if flags else []
    return items[0] if items else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def holders(store: Store) -> dict[str, str]:
    """Item ident -> reviewer, for the leases that have not lapsed."""
    return stored.lease_holders(store, _stamp(_now()))


def take_lease(store: Store, ident: str, reviewer: str) -> str | None:
    """Lease the item to ``reviewer`` (or keep their lease); returns who
    else holds it, if someone does."""
    now = _now()
    held = stored.lease_of(store, ident)
    if held and held[0] == reviewer and held[1] > _stamp(now + LEASE_RENEW_BELOW):
        return None  # theirs, with time to spare: nothing to write
    with store.transaction():
        held = stored.lease_of(store, ident)
        if held and held[0] != reviewer and held[1] > _stamp(now):
            return held[0]
        stored.set_lease(store, ident, reviewer, _stamp(now + dt.timedelta(minutes=LEASE_MINUTES)))
    return None


def release_lease(store: Store, ident: str, reviewer: str) -> None:
    stored.drop_lease(store, ident, reviewer)


def _rank(ident: str) -> tuple:
    """Where an item stands in the queue's order (flags by form, then quarantined pages)."""
    survey, serial, key = parse_ident(ident)
    if key.startswith(keys.QUARANTINE):
        return (1, "", "", keys.page_of(key))
    return (0, survey, serial, key)


def neighbour(idents: list[str], held: dict[str, str], reviewer: str, ident: str | None, step: int = 1) -> str | None:
    """Of ``idents`` (the queue, in order), the next (step 1) or previous
    (step -1) one from ``ident`` that nobody else holds, wrapping around;
    the first one when ``ident`` is None."""
    free = [i for i in idents if held.get(i, reviewer) == reviewer]
    if not free:
        return None
    if ident is None:
        return free[0] if step > 0 else free[-1]
    order = {other: n for n, other in enumerate(idents)}
    # A just-decided item has left the queue: continue from where it stood.
    if ident in order:
        position: float = order[ident]
    else:
        rank = _rank(ident)
        position = sum(1 for other in idents if _rank(other) < rank) - 0.5
    ahead = [i for i in free if (order[i] - position) * step > 0]
    behind = [i for i in free if (order[i] - position) * step < 0]
    if step < 0:
        ahead.reverse()
        behind.reverse()
    return next(iter(ahead + behind), None)


def take_next(store: Store, reviewer: str, after: str | None = None, step: int = 1) -> ReviewItem | None:
    """Pick the next free item from ``after`` and lease it to ``reviewer``,
    in one write transaction: two reviewers asking at once never get the
    same item. The reviewer's other leases end (one item at a time)."""
    now = _now()
    with store.transaction():
        chosen = neighbour(open_idents(store), stored.lease_holders(store, _stamp(now)), reviewer, after, step)
        stored.drop_leases_of(store, reviewer, keep=chosen or "")
        if chosen is None:
            return None
        stored.set_lease(store, chosen, reviewer, _stamp(now + dt.timedelta(minutes=LEASE_MINUTES)))
        return find_item(store, chosen)
