"""SQLite store of sources, pages, forms, answers, flags and review decisions.

One file (WAL), one writer. Raw page readings are stored as they come, each
page in its own transaction, so an interrupted run loses nothing and a re-run
skips what is stored. Forms, answers and flags are derived from the pages
(and the review decisions) and rebuilt in one transaction after each run.
Review decisions are append-only and never touched by a rebuild. The schema
is versioned by PRAGMA user_version and migrated forward.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

from sipas_scan.dbfile import SqliteFile
from sipas_scan.errors import SipasError
from sipas_scan.reading.page import PageResult
from sipas_scan.store.decisions import in_force


class StoreError(SipasError):
    pass


MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        kind TEXT NOT NULL,
        pages INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,            -- reading | done | failed
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        added_at TEXT NOT NULL
    );
    CREATE TABLE source_failures (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        page_index INTEGER NOT NULL,
        status TEXT NOT NULL,            -- ok | quarantined
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        survey TEXT NOT NULL DEFAULT '',
        serial TEXT NOT NULL DEFAULT '',
        page_no INTEGER NOT NULL DEFAULT 0,
        orientation INTEGER NOT NULL DEFAULT 0,
        residual_mm REAL NOT NULL DEFAULT 0,
        dpi REAL NOT NULL DEFAULT 0,
        image_path TEXT NOT NULL DEFAULT '',
        readings TEXT NOT NULL DEFAULT '{}',
        read_at TEXT NOT NULL,
        UNIQUE (source_id, page_index)
    );
    CREATE INDEX pages_serial ON pages (survey, serial, page_no);
    CREATE TABLE forms (
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        status TEXT NOT NULL,            -- accepted | needs_review | resolved | rejected
        household_code TEXT NOT NULL DEFAULT '',
        province TEXT NOT NULL DEFAULT '',
        district TEXT NOT NULL DEFAULT '',
        commune TEXT NOT NULL DEFAULT '',
        village TEXT NOT NULL DEFAULT '',
        issued INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (survey, serial)
    );
    CREATE TABLE answers (
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL,
        value TEXT NOT NULL,
        confidence REAL NOT NULL,
        page_id INTEGER,
        PRIMARY KEY (survey, serial, field_id)
    );
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL DEFAULT '',  -- '' for a form-level flag
        reason TEXT NOT NULL,
        confidence REAL NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '',
        page_id INTEGER,
        blocking INTEGER NOT NULL DEFAULT 1  -- 0: recorded for the record, needs no review
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL DEFAULT '',
        old_value TEXT,
        new_value TEXT,
        reviewer TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: review - what settles each flag, reviewers, leases, blind re-entry
    """
    ALTER TABLE flags ADD COLUMN page_no INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE flags ADD COLUMN item TEXT NOT NULL DEFAULT '';
    CREATE INDEX flags_form ON flags (survey, serial);
    CREATE INDEX decisions_key ON decisions (survey, serial, field_id);
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,                  -- reviewer | supervisor
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE leases (
        item TEXT PRIMARY KEY,               -- survey|serial|key
        reviewer TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE qc_samples (
        id INTEGER PRIMARY KEY,
        drawn_by TEXT NOT NULL,
        at TEXT NOT NULL,
        seed INTEGER NOT NULL
    );
    CREATE TABLE qc_forms (
        sample_id INTEGER NOT NULL REFERENCES qc_samples(id),
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        PRIMARY KEY (sample_id, survey, serial)
    );
    CREATE TABLE qc_entries (
        id INTEGER PRIMARY KEY,
        sample_id INTEGER NOT NULL REFERENCES qc_samples(id),
        survey TEXT NOT NULL,
        serial TEXT NOT NULL,
        field_id TEXT NOT NULL,
        value TEXT NOT NULL,
        machine_value TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (sample_id, survey, serial, field_id)
    );
    """,
]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store(SqliteFile):
    MIGRATIONS = MIGRATIONS
    ERROR = StoreError
    WHAT = "database"

    def __init__(self, path: Path):
        super().__init__(path)
        self.images_dir = self.path.with_name(self.path.name + ".pages")

    # ---- sources and pages --------------------------------------------------
    def source_state(self, sha256: str) -> tuple[int, str, set[int]] | None:
        """(source id, status, page indexes stored) of a known file."""
        row = self.db.execute("SELECT id, status FROM sources WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return None
        stored = {r[0] for r in self.db.execute("SELECT page_index FROM pages WHERE source_id = ?", (row[0],))}
        return row[0], row[1], stored

    def add_source(self, path: Path, sha256: str, size: int, kind: str, pages: int) -> int:
        with self.transaction() as db:
            return db.execute(
                "INSERT INTO sources (path, sha256, size, kind, pages, status, added_at) VALUES (?, ?, ?, ?, ?, 'reading', ?)",
                (str(path), sha256, size, kind, pages, now())).lastrowid

    def finish_source(self, source_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE sources SET status = 'done' WHERE id = ?", (source_id,))

    def record_source_failure(self, path: Path, reason: str, detail: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO source_failures (path, reason, detail, at) VALUES (?, ?, ?, ?)",
                       (str(path), reason, detail, now()))

    def _store_image(self, name: str, jpeg: bytes) -> str:
        if not jpeg:
            return ""
        self.images_dir.mkdir(parents=True, exist_ok=True)
        target = self.images_dir / name
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(jpeg)
        temporary.replace(target)
        return str(target.relative_to(self.path.parent))

    @staticmethod
    def _readings(result: PageResult) -> str:
        return json.dumps({"fields": [asdict(f) for f in result.fields], "comments": [asdict(c) for c in result.comments],
                           "markers": list(result.markers), "identified_by": result.identified_by}, ensure_ascii=False)

    def add_page(self, source_id: int, page_index: int, result: PageResult) -> int | None:
        """Store one page's reading and its image; a page already stored is kept."""
        image_path = self._store_image(f"{source_id:05d}-{page_index + 1:05d}.jpg", result.image_jpeg)
        readings = self._readings(result)
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO pages (source_id, page_index, status, reason, detail, survey, serial, page_no,"
                " orientation, residual_mm, dpi, image_path, readings, read_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source_id, page_index, result.status, result.reason, result.detail, result.survey, result.serial,
                 result.page_no, result.orientation, result.residual_mm, result.dpi, image_path, readings, now()))
            return cursor.lastrowid if cursor.rowcount else None

    def assign_page(self, page_id: int, result: PageResult, decision: tuple[str, str | None, str, str]) -> None:
        """A quarantined page read again under the identity a reviewer gave
        it; the page and the decision that made it are stored together. The
        quarantine reason stays in the page's detail."""
        key, old_value, new_value, reviewer = decision
        image_path = self._store_image(f"assigned-{page_id:06d}.jpg", result.image_jpeg)
        with self.transaction() as db:
            reason, detail = db.execute("SELECT reason, detail FROM pages WHERE id = ?", (page_id,)).fetchone()
            db.execute(
                "UPDATE pages SET status = 'ok', reason = 'assigned', detail = ?, survey = ?, serial = ?, page_no = ?,"
                " orientation = ?, residual_mm = ?, image_path = ?, readings = ? WHERE id = ?",
                (f"assigned by {reviewer}; was quarantined: {reason}: {detail}", result.survey, result.serial,
                 result.page_no, result.orientation, result.residual_mm, image_path, self._readings(result), page_id))
            db.execute("INSERT INTO decisions (survey, serial, field_id, old_value, new_value, reviewer, at, reason)"
                       " VALUES ('', '', ?, ?, ?, ?, ?, '')", (key, old_value, new_value, reviewer, now()))

    def source_of(self, page_id: int) -> tuple[str, int]:
        """(file path, page index) a stored page was read from."""
        return self.db.execute("SELECT s.path, p.page_index FROM pages p JOIN sources s ON s.id = p.source_id"
                               " WHERE p.id = ?", (page_id,)).fetchone()

    def decisions(self, only: tuple[str, str] | None = None) -> dict[tuple[str, str, str], str]:
        """(survey, serial, key) -> the decision in force (for every form, or one)."""
        where, args = (" WHERE survey = ? AND serial = ?", only) if only else ("", ())
        return in_force(self.db.execute(
            f"SELECT survey, serial, field_id, new_value FROM decisions{where} ORDER BY id", args))

    def add_decision(self, survey: str, serial: str, key: str, old_value: str | None, new_value: str | None,
                     reviewer: str, reason: str = "", *, expect_open: bool = False) -> None:
        """Append a decision event; with ``expect_open``, refuse (in the same
        transaction) when a decision on the key is already in force, so two
        submissions of one item cannot both land."""
        with self.transaction() as db:
            if expect_open:
                latest = db.execute("SELECT new_value FROM decisions WHERE survey = ? AND serial = ? AND field_id = ?"
                                    " ORDER BY id DESC LIMIT 1", (survey, serial, key)).fetchone()
                if latest is not None and latest[0] is not None:
                    raise StoreError(f"{serial} {key}: already decided")
            db.execute("INSERT INTO decisions (survey, serial, field_id, old_value, new_value, reviewer, at, reason)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (survey, serial, key, old_value, new_value, reviewer, now(), reason))


def rebuild_forms(store: Store, forms: list, only: tuple[str, str] | None = None) -> None:
    """Replace the derived tables with ``forms`` (FormRecords) in one
    transaction: all of them, or only those of one (survey, serial)."""
    where, args = (" WHERE survey = ? AND serial = ?", only) if only else ("", ())
    with store.transaction() as db:
        for table in ("flags", "answers", "forms"):
            db.execute(f"DELETE FROM {table}{where}", args)
        for form in forms:
            place = (form.issued.household_code, *form.issued.village_key) if form.issued else ("",) * 5
            db.execute(
                "INSERT INTO forms (survey, serial, status, household_code, province, district, commune, village, issued)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (form.survey, form.serial, form.status, *place, int(bool(form.issued))))
            db.executemany(
                "INSERT INTO answers (survey, serial, field_id, value, confidence, page_id) VALUES (?, ?, ?, ?, ?, ?)",
                [(form.survey, form.serial, f, v, c, p) for f, (v, c, p) in form.answers.items()])
            db.executemany(
                "INSERT INTO flags (survey, serial, field_id, reason, confidence, detail, page_id, blocking, page_no, item)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(form.survey, form.serial, f.field_id, f.reason, f.confidence, f.detail, f.page_id, int(f.blocking),
                  f.page_no, f.key) for f in form.flags])
