"""The review queue: what is waiting for a person, and who holds what.

An item is everything one decision settles: a question's answer, a page
(missing, scanned twice with different marks, without marks), a form (never
issued), or a quarantined page. Items are derived from the flags and the
decisions in force each time, so the queue can never disagree with them.
Two reviewers never hold one item: a lease, renewed while the item is open,
lapses by itself when a browser is closed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sipas_scan.reading.page import survey_and_layout
from sipas_scan.store import decisions as keys
from sipas_scan.store.db import Store

LEASE_MINUTES = 5
NOT_FOR_REVIEW = ("blank-page",)  # quarantined back sides need nobody's decision


@dataclass(frozen=True)
class ReviewItem:
    survey: str
    serial: str
    key: str
    kind: str                       # answer | comment | page | form | quarantine
    reasons: tuple[str, ...]
    details: tuple[str, ...]
    confidence: float
    page_ids: tuple[int, ...]       # scans to show; two for a page scanned twice
    page_no: int = 0

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


def _copies(store: Store, survey: str, serial: str, page_no: int) -> tuple[int, ...]:
    return tuple(r[0] for r in store.db.execute(
        "SELECT id FROM pages WHERE status = 'ok' AND survey = ? AND serial = ? AND page_no = ? ORDER BY id",
        (survey, serial, page_no)))


def open_items(store: Store) -> list[ReviewItem]:
    """Every undecided item, in a stable order (survey, serial, key), then
    the quarantined pages."""
    decided = store.decisions()
    grouped: dict[tuple[str, str, str], list[tuple]] = defaultdict(list)
    for row in store.db.execute(
            "SELECT f.survey, f.serial, f.item, f.reason, f.confidence, f.detail, f.page_id, f.page_no FROM flags f"
            " JOIN forms m ON m.survey = f.survey AND m.serial = f.serial"
            # Comments to transcribe do not hold a form back, but they are review work.
            " WHERE (f.blocking = 1 AND m.status = 'needs_review') OR (f.reason = 'ocr-review' AND m.status != 'rejected')"
            " ORDER BY f.survey, f.serial, f.item, f.id"):
        if (row[0], row[1], row[2]) not in decided:
            grouped[(row[0], row[1], row[2])].append(row)
    items = []
    for (survey, serial, key), rows in grouped.items():
        kind = _kind(survey, key)
        page_no = max(r[7] for r in rows)
        if kind == "page":
            # Every scan of the page: those read, and a copy that could not be.
            page_ids = tuple(dict.fromkeys([*_copies(store, survey, serial, page_no),
                                            *(r[6] for r in rows if r[6] is not None)]))
        else:
            page_ids = tuple(dict.fromkeys(r[6] for r in rows if r[6] is not None))
        items.append(ReviewItem(survey, serial, key, kind, tuple(dict.fromkeys(r[3] for r in rows)),
                                tuple(dict.fromkeys(r[5] for r in rows if r[5])), min(r[4] for r in rows),
                                page_ids, page_no))
    for page_id, reason, detail in store.db.execute(
            "SELECT id, reason, detail FROM pages WHERE status = 'quarantined' AND reason NOT IN"
            f" ({', '.join('?' * len(NOT_FOR_REVIEW))}) ORDER BY id", NOT_FOR_REVIEW):
        key = keys.quarantine_key(page_id)
        if ("", "", key) not in decided:
            items.append(ReviewItem("", "", key, "quarantine", (reason,), (detail,), 0.0, (page_id,)))
    return items


def find_item(store: Store, ident: str) -> ReviewItem | None:
    return next((item for item in open_items(store) if item.ident == ident), None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def holders(store: Store) -> dict[str, str]:
    """Item ident -> reviewer, for the leases that have not lapsed."""
    now = _now().isoformat(timespec="seconds")
    return dict(store.db.execute("SELECT item, reviewer FROM leases WHERE expires_at > ?", (now,)))


def take_lease(store: Store, ident: str, reviewer: str) -> str | None:
    """Lease the item to ``reviewer``; returns who else holds it, if someone does."""
    now = _now()
    with store.transaction() as db:
        row = db.execute("SELECT reviewer, expires_at FROM leases WHERE item = ?", (ident,)).fetchone()
        if row and row[0] != reviewer and row[1] > now.isoformat(timespec="seconds"):
            return row[0]
        expires = (now + dt.timedelta(minutes=LEASE_MINUTES)).isoformat(timespec="seconds")
        db.execute("INSERT OR REPLACE INTO leases (item, reviewer, expires_at) VALUES (?, ?, ?)", (ident, reviewer, expires))
    return None


def release_lease(store: Store, ident: str, reviewer: str) -> None:
    with store.transaction() as db:
        db.execute("DELETE FROM leases WHERE item = ? AND reviewer = ?", (ident, reviewer))


def _rank(ident: str) -> tuple:
    """Where an item stands in the queue's order (flags by form, then quarantined pages)."""
    survey, serial, key = parse_ident(ident)
    if key.startswith(keys.QUARANTINE):
        return (1, "", "", keys.page_of(key))
    return (0, survey, serial, key)


def neighbour(store: Store, reviewer: str, ident: str | None, step: int = 1) -> ReviewItem | None:
    """The next (step 1) or previous (step -1) open item from ``ident`` that
    nobody else holds, wrapping around; the first one when ``ident`` is None."""
    items = open_items(store)
    held = holders(store)
    free = [i for i in items if held.get(i.ident, reviewer) == reviewer]
    if not free:
        return None
    if ident is None:
        return free[0] if step > 0 else free[-1]
    order = {item.ident: n for n, item in enumerate(items)}
    # A just-decided item has left the queue: continue from where it stood.
    position = order[ident] if ident in order else sum(1 for other in order if _rank(other) < _rank(ident)) - 0.5
    ahead = sorted((i for i in free if (order[i.ident] - position) * step > 0), key=lambda i: order[i.ident] * step)
    behind = sorted((i for i in free if (order[i.ident] - position) * step < 0), key=lambda i: order[i.ident] * step)
    return next(iter(ahead + behind), None)
