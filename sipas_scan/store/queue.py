"""What the review queue reads and writes: the flags waiting for a person,
the quarantined pages, the answers' pages, and the leases that keep two
reviewers off one item."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sipas_scan.assembly.decisions import QUARANTINE
from sipas_scan.records import FormStatus
from sipas_scan.store.db import Store, expanding


@dataclass(frozen=True)
class OpenFlag:
    """A flag that needs a person: blocking on a form to review, or a
    comment to transcribe on a form not rejected."""

    survey: str
    serial: str
    item: str  # the decision key that settles it
    field_id: str  # '' for a page or the whole form
    reason: str
    confidence: float
    detail: str
    page_id: int | None
    page_no: int


_OPEN = (
    " FROM flags f JOIN forms m ON m.survey = f.survey AND m.serial = f.serial"
    # Comments to transcribe do not hold a form back, but they are review work.
    f" WHERE ((f.blocking = 1 AND m.status = '{FormStatus.NEEDS_REVIEW}')"
    f" OR (f.reason = 'ocr-review' AND m.status != '{FormStatus.REJECTED}'))"
)
_ORDER = " ORDER BY f.survey, f.serial, f.item"


def open_flags(store: Store, only: tuple[str, str, str] | None = None) -> list[OpenFlag]:
    """Every open flag in the queue's order (survey, serial, key), or those
    of one item (survey, serial, key)."""
    where = " AND f.survey = :survey AND f.serial = :serial AND f.item = :item" if only else ""
    args = dict(zip(("survey", "serial", "item"), only, strict=True)) if only else {}
    return [
        OpenFlag(*row)
        for row in store.db.query(
            "SELECT f.survey, f.serial, f.item, f.field_id, f.reason, f.confidence, f.detail, f.page_id, f.page_no"
            f"{_OPEN}{where}{_ORDER}, f.id",
            **args,
        )
    ]


# The value in force for a decision key: its latest event's (NULL when
# undecided, or reopened by its latest event). Read through the decisions'
# index, so finding the open items costs what the queue holds, not what was
# ever decided.
_IN_FORCE = (
    "(SELECT d.new_value FROM decisions d WHERE d.survey = {survey} AND d.serial = {serial} AND d.field_id = {key}"
    " ORDER BY d.id DESC LIMIT 1)"
)


def open_keys(store: Store) -> list[tuple[str, str, str]]:
    """(survey, serial, key) of every item with an open flag and no decision
    in force, in the queue's order."""
    undecided = " AND " + _IN_FORCE.format(survey="f.survey", serial="f.serial", key="f.item") + " IS NULL"
    return [tuple(r) for r in store.db.query(f"SELECT DISTINCT f.survey, f.serial, f.item{_OPEN}{undecided}{_ORDER}")]


def page_copies(store: Store, survey: str, serial: str, page_no: int) -> list[int]:
    """The pages read as page ``page_no`` of a form, oldest first."""
    return list(
        store.db.query(
            "SELECT id FROM pages WHERE status = 'ok' AND survey = :survey AND serial = :serial AND page_no = :page_no ORDER BY id",
            survey=survey,
            serial=serial,
            page_no=page_no,
        ).scalars()
    )


def placed_beside(store: Store, page_id: int) -> list[int]:
    """The pages of its form beside which a page was placed by the stack."""
    raw = store.db.query("SELECT readings FROM pages WHERE id = :id", id=page_id).scalar()
    return [int(i) for i in json.loads(raw or "{}").get("placed_beside", [])]


def quarantined_ids(store: Store, excluded_reasons: tuple[str, ...], *, undecided: bool = False) -> list[int]:
    """The ids of quarantined pages, in order (``undecided``: those without
    a decision in force)."""
    decided = ""
    if undecided:
        decided = " AND " + _IN_FORCE.format(survey="''", serial="''", key=":prefix || CAST(pages.id AS TEXT)") + " IS NULL"
    return list(
        store.db.query(
            expanding(
                f"SELECT id FROM pages WHERE status = 'quarantined' AND reason NOT IN :excluded{decided} ORDER BY id", "excluded"
            ),
            excluded=list(excluded_reasons),
            **({"prefix": f"{QUARANTINE}:"} if undecided else {}),
        ).scalars()
    )


def quarantined_pages(store: Store, excluded_reasons: tuple[str, ...], page_id: int | None = None) -> list[tuple]:
    """(page id, reason, detail) of quarantined pages, by id; or of one."""
    where, args = (" AND id = :id", {"id": page_id}) if page_id is not None else ("", {})
    return store.db.rows(
        expanding(
            f"SELECT id, reason, detail FROM pages WHERE status = 'quarantined' AND reason NOT IN :excluded{where} ORDER BY id",
            "excluded",
        ),
        excluded=list(excluded_reasons),
        **args,
    )


def answer(store: Store, survey: str, serial: str, field_id: str) -> tuple[str, int | None] | None:
    """(the machine's reading, the page it was read from) of a form's answer; None when it has none."""
    row = store.db.query(
        "SELECT value, page_id FROM answers WHERE survey = :survey AND serial = :serial AND field_id = :field_id",
        survey=survey,
        serial=serial,
        field_id=field_id,
    ).first()
    return (row[0], row[1]) if row else None


def answers_of(store: Store, survey: str, serial: str) -> dict[str, tuple[str, int | None]]:
    """field id -> (value, page id) of a form's answers."""
    return {
        r[0]: (r[1], r[2])
        for r in store.db.query(
            "SELECT field_id, value, page_id FROM answers WHERE survey = :survey AND serial = :serial", survey=survey, serial=serial
        )
    }


def page_survey(store: Store, page_id: int) -> str:
    """The survey a stored page belongs to ('' when it was never identified)."""
    row = store.db.query("SELECT survey FROM pages WHERE id = :id", id=page_id).first()
    return row[0] if row else ""


def lease_holders(store: Store, now: str) -> dict[str, str]:
    """Item ident -> reviewer, for the leases that have not lapsed at ``now``."""
    return dict(iter(store.db.query("SELECT item, reviewer FROM leases WHERE expires_at > :now", now=now)))


def lease_of(store: Store, ident: str) -> tuple[str, str] | None:
    """(reviewer, expires at) of an item's lease, lapsed or not."""
    row = store.db.query("SELECT reviewer, expires_at FROM leases WHERE item = :item", item=ident).first()
    return (row[0], row[1]) if row else None


def set_lease(store: Store, ident: str, reviewer: str, expires: str) -> None:
    with store.transaction() as db:
        db.query(
            "INSERT INTO leases (item, reviewer, expires_at) VALUES (:item, :reviewer, :expires) ON CONFLICT (item)"
            " DO UPDATE SET reviewer = excluded.reviewer, expires_at = excluded.expires_at",
            item=ident,
            reviewer=reviewer,
            expires=expires,
        )


def drop_lease(store: Store, ident: str, reviewer: str) -> None:
    with store.transaction() as db:
        db.query("DELETE FROM leases WHERE item = :item AND reviewer = :reviewer", item=ident, reviewer=reviewer)


def drop_leases_of(store: Store, reviewer: str, keep: str = "") -> None:
    """Every lease ``reviewer`` holds but ``keep``'s: a reviewer works on one item at a time."""
    with store.transaction() as db:
        db.query("DELETE FROM leases WHERE reviewer = :reviewer AND item != :keep", reviewer=reviewer, keep=keep)
