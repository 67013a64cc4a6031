"""What the outputs read from the database: the records and flags export,
the returns report and the overview's counts."""

from __future__ import annotations

from collections.abc import Iterator

from sipas_scan.store.db import Store

# (serial, household code, province, district, commune, village, status)
FormRow = tuple[str, str, str, str, str, str, str]


def machine_answers(store: Store, survey: str) -> Iterator[tuple[str, str, str]]:
    """(serial, field id, value) of every answer read on the survey's forms."""
    yield from store.db.query("SELECT serial, field_id, value FROM answers WHERE survey = :survey", survey=survey)


def form_flag_reasons(store: Store, survey: str) -> Iterator[tuple[str, str]]:
    """(serial, reason) of every flag on a whole form (not on one answer)."""
    yield from store.db.query("SELECT serial, reason FROM flags WHERE survey = :survey AND field_id = ''", survey=survey)


def form_rows(store: Store, survey: str) -> list[FormRow]:
    """Every form of the survey with its household, place and status, by serial."""
    return store.db.rows(
        "SELECT serial, household_code, province, district, commune, village, status FROM forms"
        " WHERE survey = :survey ORDER BY serial",
        survey=survey,
    )


def flag_rows(store: Store) -> list[tuple]:
    """Every flag with the file and page it was read from: (survey, serial,
    field id, reason, confidence, detail, file, page in the file, image,
    blocking), as the flags CSV lists them."""
    return store.db.rows(
        "SELECT f.survey, f.serial, f.field_id, f.reason, f.confidence, f.detail, s.path, p.page_index + 1,"
        " p.image_path, f.blocking FROM flags f LEFT JOIN pages p ON p.id = f.page_id"
        " LEFT JOIN sources s ON s.id = p.source_id ORDER BY f.survey, f.serial, f.field_id, f.reason"
    )


def quarantined_page_rows(store: Store) -> list[tuple]:
    """Every quarantined page in the flags CSV's columns (reason
    ``quarantined:<why>``), by file and page."""
    return store.db.rows(
        "SELECT p.survey, p.serial, '', 'quarantined:' || p.reason, 0, p.detail, s.path, p.page_index + 1,"
        " p.image_path, 1 FROM pages p JOIN sources s ON s.id = p.source_id WHERE p.status = 'quarantined'"
        " ORDER BY s.path, p.page_index"
    )


def form_statuses(store: Store) -> dict[tuple[str, str], str]:
    """(survey, serial) -> status of every form derived."""
    return {(survey, serial): status for survey, serial, status in store.db.query("SELECT survey, serial, status FROM forms")}


def identified_pages(store: Store) -> Iterator[tuple[str, str, int]]:
    """(survey, serial, page number) of every stored page that carries a
    serial (read, or quarantined after its code verified)."""
    yield from store.db.query("SELECT survey, serial, page_no FROM pages WHERE serial != ''")


# ---- the overview's counts ----------------------------------------------------


def count_by_status(store: Store) -> dict[str, int]:
    return dict(iter(store.db.query("SELECT status, count(*) FROM forms GROUP BY status")))


def quarantined_by_reason(store: Store) -> dict[str, int]:
    return dict(iter(store.db.query("SELECT reason, count(*) FROM pages WHERE status = 'quarantined' GROUP BY reason")))


def forms_by_file_and_status(store: Store) -> Iterator[tuple[str, str, int]]:
    """(file path, status, forms with a page in that file)."""
    yield from store.db.query(
        "SELECT s.path, f.status, count(DISTINCT f.serial) FROM pages p JOIN sources s ON s.id = p.source_id"
        " JOIN forms f ON f.survey = p.survey AND f.serial = p.serial GROUP BY s.path, f.status"
    )


def quarantined_by_file(store: Store) -> Iterator[tuple[str, int]]:
    """(file path, quarantined pages in it)."""
    yield from store.db.query(
        "SELECT s.path, count(*) FROM pages p JOIN sources s ON s.id = p.source_id WHERE p.status = 'quarantined' GROUP BY s.path"
    )


def forms_by_village_and_status(store: Store) -> Iterator[tuple[str, str, str, int]]:
    """(commune, village, status, forms)."""
    yield from store.db.query("SELECT commune, village, status, count(*) FROM forms GROUP BY commune, village, status")


def decisions_by_reviewer(store: Store) -> Iterator[tuple[str, int, str, str]]:
    """(reviewer, decisions, first at, last at), by reviewer."""
    yield from store.db.query("SELECT reviewer, count(*), min(at), max(at) FROM decisions GROUP BY reviewer ORDER BY reviewer")
