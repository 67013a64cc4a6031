"""What a review decision is about, and what it says.

A decision is an append-only event keyed by (survey, serial, key). The key
is a question id for an answer, or one of the '#'-prefixed keys below for
what concerns a page or the whole form (question ids never start with '#').
The latest event for a key is in force; an event with no value (a
supervisor reopening it) leaves the key undecided again.
"""

from __future__ import annotations

from collections.abc import Iterable

FORM = "#form"  # the whole form: REJECTED or KEPT
QUARANTINE = "#quarantine"  # a quarantined page, with survey = serial = ''

# Values
REJECTED = "rejected"  # the form (or the quarantined page) does not count
KEPT = "kept"  # a form the ledger does not know is kept all the same
NOT_RETURNED = "not-returned"  # a missing page is recorded as not returned
CONFIRMED = "confirmed"  # a page with no marks really is unanswered
ANSWER_EACH = "answer-each"  # a page with no marks on the scan: a reviewer answers each question from the paper
USE = "use:"  # use:<page id> - which of two scans of a page counts
ASSIGN = "assign:"  # assign:<survey>|<serial>|<page> - a quarantined page's identity
TAKEN_OUT = "taken-out"  # a page placed by the stack is not this form's: quarantined again


PLACED = "#placed:"
PAGE_KEYS = ("#page:", "#missing:", "#marks:", PLACED)


def page_key(page_no: int) -> str:
    """Which of two different scans of a page counts (``use:<page id>``)."""
    return f"#page:{page_no}"


def missing_key(page_no: int) -> str:
    """A page nobody scanned (``not-returned``)."""
    return f"#missing:{page_no}"


def marks_key(page_no: int) -> str:
    """A page or grid without marks (``confirmed`` blank, or ``answer-each``)."""
    return f"#marks:{page_no}"


def placed_key(page_id: int) -> str:
    """A page placed in the form by its place in the stack (``confirmed``,
    or ``taken-out``): keyed by the page, so a decision on one placed page
    never settles another placed later."""
    return f"{PLACED}{page_id}"


def page_of(key: str) -> int:
    """The page number of a page key."""
    return int(key.rsplit(":", 1)[1])


def quarantine_key(page_id: int) -> str:
    return f"{QUARANTINE}:{page_id}"


def is_answer_key(key: str) -> bool:
    return bool(key) and not key.startswith("#")


def in_force(events: Iterable[tuple[str, str, str, str | None]]) -> dict[tuple[str, str, str], str]:
    """(survey, serial, key, value) events in order -> the values in force."""
    current: dict[tuple[str, str, str], str] = {}
    for survey, serial, key, value in events:
        if value is None:
            current.pop((survey, serial, key), None)
        else:
            current[(survey, serial, key)] = value
    return current
