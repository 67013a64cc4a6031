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
import os
import socket
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from sipas_scan.assembly.decisions import QUARANTINE, in_force
from sipas_scan.assembly.forms import FormRecord, IssuedForms, PageRecord
from sipas_scan.dbfile import SqliteFile
from sipas_scan.errors import SipasError
from sipas_scan.printing.households import Household
from sipas_scan.reading.page import UNREADABLE_IDENTIFIED, PageResult


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
    # 3: a form records the last decision its derivation saw, so one left
    # behind by a decision (a crash, a full rebuild running meanwhile) is
    # found and derived again; reviewers' sessions live here, so logging out
    # or changing a password ends them. Pages assigned before schema 3 were
    # stored as if their code had verified (a forged page could pass): they
    # count as identified by hand.
    """
    ALTER TABLE forms ADD COLUMN derived_through INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,                 -- SHA-256 of the token in the browser's cookie, never the token
        user TEXT NOT NULL,
        created_at REAL NOT NULL,            -- Unix seconds
        active_at REAL NOT NULL              -- the user's last action (not background lease renewals)
    );
    CREATE INDEX sessions_user ON sessions (user);
    UPDATE pages SET readings = json_set(readings, '$.identified_by', 'hand') WHERE reason = 'assigned';
    """,
    # 4: scan runs on one database at once share the files: a run claims a
    # file (by content) before reading it, renews the claim as its pages are
    # stored and drops it when the file is done. A claim whose process is
    # gone, or not renewed for CLAIM_STALE_S, is taken over.
    """
    CREATE TABLE claims (
        sha256 TEXT PRIMARY KEY,
        owner TEXT NOT NULL,                 -- host:pid:token of the scan run
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        renewed_at REAL NOT NULL             -- Unix seconds
    );
    CREATE INDEX source_failures_path ON source_failures (path);
    ALTER TABLE source_failures ADD COLUMN cleared_at TEXT NOT NULL DEFAULT '';
    """,
]

# A claim not renewed for this long is taken over even when its process
# seems alive (another host, or a process id used again).
CLAIM_STALE_S = 600.0


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ScannedFile:
    """Where a stored page came from: the file (resolved against the
    database's folder), the page in it, and the file's SHA-256 when read."""

    path: Path
    page_index: int
    sha256: str


@dataclass(frozen=True)
class Claim:
    """Who is reading a file: the scan run that claimed it."""

    owner: str
    host: str
    pid: int
    renewed_at: float

    def is_stale(self, at: float) -> bool:
        """The claiming run is gone: its process no longer runs on this host,
        or it has not renewed the claim for CLAIM_STALE_S."""
        if at - self.renewed_at > CLAIM_STALE_S:
            return True
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False


def new_claim_owner() -> str:
    """An owner name for one scan run: unique even when a process id is used again."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


@dataclass(frozen=True)
class StoredPage:
    """A stored page as the review app shows and assigns it."""

    id: int
    status: str
    reason: str
    detail: str
    survey: str
    serial: str
    page_no: int
    identified_by: str      # code (signed, verified) | print | hand; see PageResult


class Store(SqliteFile):
    MIGRATIONS = MIGRATIONS
    ERROR = StoreError
    WHAT = "database"

    def __init__(self, path: Path):
        super().__init__(path)
        self.images_dir = self.path.with_name(self.path.name + ".pages")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; inside one already open it joins it, so a
        review decision and the derivation of its form commit together or
        not at all."""
        if self.db.in_transaction:
            yield self.db
            return
        with super().transaction() as db:
            yield db

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the database as it was
        at the first (WAL), so a long derivation reads pages and decisions
        that belong together while reviewers keep writing. Read only: what
        it derived is written after it ends."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN DEFERRED")
        try:
            yield self.db
        finally:
            self.db.execute("COMMIT")

    def resolve(self, stored: str) -> Path:
        """A path stored relative to the database's folder as a path that
        works from any working directory."""
        path = Path(stored)
        return path if path.is_absolute() else self.path.parent.resolve() / path

    # ---- sources and pages --------------------------------------------------
    def source_state(self, sha256: str) -> tuple[int, str, set[int]] | None:
        """(source id, status, page indexes stored) of a known file."""
        row = self.db.execute("SELECT id, status FROM sources WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return None
        stored = {r[0] for r in self.db.execute("SELECT page_index FROM pages WHERE source_id = ?", (row[0],))}
        return row[0], row[1], stored

    def add_source(self, path: Path, sha256: str, size: int, kind: str, pages: int) -> int:
        """The id of the source with this content, added if new (another run
        may have added it since this one looked)."""
        # Absolute, not relative to wherever scan ran: the review app opens
        # the file again (to assign a page) from any directory.
        stored = str(Path(path).resolve())
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO sources (path, sha256, size, kind, pages, status, added_at)"
                " VALUES (?, ?, ?, ?, ?, 'reading', ?)", (stored, sha256, size, kind, pages, now()))
            return db.execute("SELECT id FROM sources WHERE sha256 = ?", (sha256,)).fetchone()[0]

    def finish_source(self, source_id: int) -> None:
        """The file is read: marked done and its claim dropped, together."""
        with self.transaction() as db:
            db.execute("UPDATE sources SET status = 'done' WHERE id = ?", (source_id,))
            db.execute("DELETE FROM claims WHERE sha256 = (SELECT sha256 FROM sources WHERE id = ?)", (source_id,))

    def claim_source(self, sha256: str, owner: str) -> Claim | None:
        """Claim the file with this content for the run ``owner``, atomically:
        None when claimed (or already held), else the live claim of the run
        reading it. A stale claim (see Claim.is_stale) is taken over."""
        at = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT owner, host, pid, renewed_at FROM claims WHERE sha256 = ?", (sha256,)).fetchone()
            if row is not None and row[0] != owner and not Claim(*row).is_stale(at):
                return Claim(*row)
            db.execute("INSERT OR REPLACE INTO claims (sha256, owner, host, pid, renewed_at) VALUES (?, ?, ?, ?, ?)",
                       (sha256, owner, socket.gethostname(), os.getpid(), at))
        return None

    def release_claims(self, owner: str) -> None:
        """Drop what a run still holds (files it did not finish: a later run takes them)."""
        with self.transaction() as db:
            db.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def others_reading(self, owner: str) -> bool:
        """Whether another run holds a live claim (it is still storing pages)."""
        at = time.time()
        rows = self.db.execute("SELECT owner, host, pid, renewed_at FROM claims WHERE owner != ?", (owner,))
        return any(not Claim(*row).is_stale(at) for row in rows)

    def pages_mark(self) -> tuple[int, int]:
        """Changes whenever a page is stored or forgotten: a derivation made
        from one mark is out of date under another."""
        return tuple(self.db.execute("SELECT coalesce(max(id), 0), count(*) FROM pages").fetchone())

    def record_source_failure(self, path: Path | str, reason: str, detail: str) -> None:
        """``path``: absolute, as printable text (see reading.sources.printable)."""
        with self.transaction() as db:
            db.execute("INSERT INTO source_failures (path, reason, detail, at) VALUES (?, ?, ?, ?)",
                       (str(path), reason, detail, now()))

    def clear_source_failures(self, paths: Sequence[str]) -> None:
        """These files opened this time (put right since they failed): kept
        in the history, no longer listed as not read."""
        with self.transaction() as db:
            db.executemany("UPDATE source_failures SET cleared_at = ? WHERE path = ? AND cleared_at = ''",
                           [(now(), path) for path in paths])

    def unread_files(self) -> list[tuple[str, str, str]]:
        """(path, reason, detail) of every file or folder whose latest attempt
        failed: not opened since."""
        return self.db.execute(
            "SELECT path, reason, detail FROM source_failures WHERE cleared_at = ''"
            " AND id IN (SELECT max(id) FROM source_failures GROUP BY path) ORDER BY path").fetchall()

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
        """Store one page's reading and its image; a page already stored is
        kept. The file's claim is renewed in the same transaction."""
        image_path = self._store_image(f"{source_id:05d}-{page_index + 1:05d}.jpg", result.image_jpeg)
        readings = self._readings(result)
        with self.transaction() as db:
            db.execute("UPDATE claims SET renewed_at = ? WHERE sha256 = (SELECT sha256 FROM sources WHERE id = ?)"
                       " AND pid = ?", (time.time(), source_id, os.getpid()))
            cursor = db.execute(
                "INSERT OR IGNORE INTO pages (source_id, page_index, status, reason, detail, survey, serial, page_no,"
                " orientation, residual_mm, dpi, image_path, readings, read_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source_id, page_index, result.status, result.reason, result.detail, result.survey, result.serial,
                 result.page_no, result.orientation, result.residual_mm, result.dpi, image_path, readings, now()))
            return cursor.lastrowid if cursor.rowcount else None

    def assign_page(self, page_id: int, result: PageResult, decision: tuple[str, str | None, str, str],
                    how: str, note: str = "") -> None:
        """A quarantined page read again under the identity a reviewer gave
        it; the page and the decision that made it are stored together (and
        with the form's derivation, inside the caller's transaction). The
        quarantine reason and how the identity was established stay in the
        page's detail. Refused when the page is no longer quarantined: two
        submissions of one assignment cannot both land."""
        key, old_value, new_value, reviewer = decision
        image_path = self._store_image(f"assigned-{page_id:06d}.jpg", result.image_jpeg)
        with self.transaction() as db:
            status, reason, detail = db.execute("SELECT status, reason, detail FROM pages WHERE id = ?",
                                                (page_id,)).fetchone()
            if status != "quarantined":
                raise StoreError(f"page {page_id}: already decided")
            db.execute(
                "UPDATE pages SET status = 'ok', reason = 'assigned', detail = ?, survey = ?, serial = ?, page_no = ?,"
                " orientation = ?, residual_mm = ?, image_path = ?, readings = ? WHERE id = ?",
                (f"assigned by {reviewer} ({how}); was quarantined: {reason}: {detail}", result.survey, result.serial,
                 result.page_no, result.orientation, result.residual_mm, image_path, self._readings(result), page_id))
            db.execute("INSERT INTO decisions (survey, serial, field_id, old_value, new_value, reviewer, at, reason)"
                       " VALUES ('', '', ?, ?, ?, ?, ?, ?)", (key, old_value, new_value, reviewer, now(), note))

    def scanned_file(self, page_id: int) -> ScannedFile:
        """The file a stored page was read from. A path stored relative (by
        an older version) is relative to wherever scan ran, most often the
        database's folder or one above it (`scan ... --db output/demo/...`
        run from the project): those are tried, then the working directory.
        The caller checks the file's SHA-256 against the one stored."""
        stored, index, sha256 = self.db.execute(
            "SELECT s.path, p.page_index, s.sha256 FROM pages p JOIN sources s ON s.id = p.source_id WHERE p.id = ?",
            (page_id,)).fetchone()
        path = Path(stored)
        if not path.is_absolute():
            folder = self.path.parent.resolve()
            candidates = [base / path for base in (folder, *folder.parents)] + [Path.cwd() / path]
            path = next((c for c in candidates if c.is_file()), candidates[0])
        return ScannedFile(path, index, sha256)

    def stored_page(self, page_id: int) -> StoredPage | None:
        row = self.db.execute("SELECT id, status, reason, detail, survey, serial, page_no, readings FROM pages"
                              " WHERE id = ?", (page_id,)).fetchone()
        if row is None:
            return None
        readings = json.loads(row[7] or "{}")
        return StoredPage(*row[:7], identified_by=readings.get("identified_by", "code"))

    def page_image(self, page_id: int) -> Path | None:
        """The stored image of a page (aligned, or as scanned when it could
        not be), resolved against the database's folder; None without one."""
        row = self.db.execute("SELECT image_path FROM pages WHERE id = ?", (page_id,)).fetchone()
        return self.resolve(row[0]) if row and row[0] else None

    def surveys(self) -> list[str]:
        """The surveys of the forms stored."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT survey FROM forms ORDER BY survey")]

    def forms_flagged(self, reason: str) -> int:
        """How many forms carry a flag with this reason."""
        return self.db.execute("SELECT count(*) FROM (SELECT DISTINCT survey, serial FROM flags WHERE reason = ?)",
                               (reason,)).fetchone()[0]

    def needs_schema_2_rebuild(self) -> bool:
        """Flags derived before schema 2 do not say which decision settles them."""
        return self.db.execute("SELECT 1 FROM flags WHERE item = '' LIMIT 1").fetchone() is not None

    def decisions(self, only: tuple[str, str] | None = None) -> dict[tuple[str, str, str], str]:
        """(survey, serial, key) -> the decision in force (for every form, or one)."""
        where, args = _one_form(only)
        return in_force(self.db.execute(
            f"SELECT survey, serial, field_id, new_value FROM decisions{where} ORDER BY id", args))

    def add_decision(self, survey: str, serial: str, key: str, old_value: str | None, new_value: str | None,
                     reviewer: str, reason: str = "", *, expect_open: bool = False, expect_decided: bool = False) -> None:
        """Append a decision event; with ``expect_open``, refuse (in the same
        transaction) when a decision on the key is already in force, so two
        submissions of one item cannot both land; with ``expect_decided``,
        refuse when none is (reopening what was never decided)."""
        with self.transaction() as db:
            if expect_open or expect_decided:
                latest = db.execute("SELECT new_value FROM decisions WHERE survey = ? AND serial = ? AND field_id = ?"
                                    " ORDER BY id DESC LIMIT 1", (survey, serial, key)).fetchone()
                decided = latest is not None and latest[0] is not None
                if expect_open and decided:
                    raise StoreError(f"{serial} {key}: already decided")
                if expect_decided and not decided:
                    raise StoreError(f"{serial} {key}: not decided")
            db.execute("INSERT INTO decisions (survey, serial, field_id, old_value, new_value, reviewer, at, reason)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (survey, serial, key, old_value, new_value, reviewer, now(), reason))

    def decision_log(self, limit: int, before: int | None = None) -> list[tuple]:
        """The latest decisions, newest first: (id, survey, serial, key, old
        value, new value, reviewer, at, note); ``before``: older than that id."""
        return self.db.execute(
            "SELECT id, survey, serial, field_id, old_value, new_value, reviewer, at, reason FROM decisions"
            " WHERE id < ? ORDER BY id DESC LIMIT ?", (before if before is not None else 2**62, limit)).fetchall()

    def last_decision_id(self) -> int:
        return self.db.execute("SELECT coalesce(max(id), 0) FROM decisions").fetchone()[0]

    def forget_quarantined(self, source_id: int, reasons: Sequence[str] | None, up_to: int | None = None) -> set[int]:
        """Forget the source's quarantined pages with one of ``reasons`` (any
        reason with None) so they are read again, except pages a reviewer has
        decided on; marks the source unfinished in the same transaction (a run
        killed before it reads them again leaves them to the next). With
        ``up_to`` (a page id), only pages stored up to it: not what a run
        going on beside this one stored since. Returns the indexes of the
        pages forgotten."""
        which = "" if reasons is None else f" AND reason IN ({', '.join('?' * len(reasons))})"
        when = "" if up_to is None else " AND id <= ?"
        with self.transaction() as db:
            rows = db.execute(
                f"SELECT id, page_index FROM pages WHERE source_id = ? AND status = 'quarantined'{which}{when}"
                " AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.survey = '' AND d.serial = ''"
                "                 AND d.field_id = ? || ':' || pages.id)",
                (source_id, *(reasons or ()), *(() if up_to is None else (up_to,)), QUARANTINE)).fetchall()
            if rows:
                db.executemany("DELETE FROM pages WHERE id = ?", [(page_id,) for page_id, _ in rows])
                db.execute("UPDATE sources SET status = 'reading' WHERE id = ?", (source_id,))
        return {index for _, index in rows}

    def any_page_verified(self) -> bool:
        """Whether any page read here was identified by its verified code."""
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM pages WHERE status = 'ok' AND reason != 'assigned'"
                               " AND json_extract(readings, '$.identified_by') = 'code')").fetchone()[0] == 1

    def stale_forms(self) -> list[tuple[str, str]]:
        """Forms whose derivation is older than a decision that concerns them:
        one of their own, or the assignment of a page to them. A form nobody
        derived since its page was assigned counts too."""
        own = self.db.execute(
            "SELECT f.survey, f.serial FROM forms f JOIN (SELECT survey, serial, max(id) AS last FROM decisions"
            " WHERE serial != '' GROUP BY survey, serial) d ON d.survey = f.survey AND d.serial = f.serial"
            " WHERE f.derived_through < d.last").fetchall()
        assigned = self.db.execute(
            "SELECT DISTINCT p.survey, p.serial FROM pages p"
            " JOIN decisions d ON d.survey = '' AND d.serial = '' AND d.field_id = ? || p.id"
            " LEFT JOIN forms f ON f.survey = p.survey AND f.serial = p.serial"
            " WHERE p.reason = 'assigned' AND p.status = 'ok' AND (f.serial IS NULL OR f.derived_through < d.id)",
            (f"{QUARANTINE}:",)).fetchall()
        return sorted({tuple(r) for r in [*own, *assigned]})


    # ---- forms (derived; see sipas_scan.assembly.derive) ----------------------
    def issued_forms(self, only: tuple[str, str] | None = None) -> IssuedForms:
        """Who each serial was issued to as the forms already record it (no
        ledger given): a household, or not-issued where it was flagged;
        unknown for the rest."""
        where, args = _one_form(only, "f")
        rows = self.db.execute(
            "SELECT f.survey, f.serial, f.household_code, f.province, f.district, f.commune, f.village, f.issued,"
            " EXISTS (SELECT 1 FROM flags g WHERE g.survey = f.survey AND g.serial = f.serial AND g.reason = 'not-issued')"
            f" FROM forms f{where}", args).fetchall()
        households: dict = {}
        for survey, serial, code, province, district, commune, village, was_issued, flagged in rows:
            if was_issued:
                households[(survey, serial)] = Household(province, district, commune, village, code)
            elif flagged:
                households[(survey, serial)] = None
        return IssuedForms(households)

    def page_records(self, only: tuple[str, str] | None = None) -> Iterator[PageRecord]:
        """Pages ordered by form, with only what forms need (no box metrics),
        streamed from the database so memory stays flat: the pages read, and
        the pages whose code verified but which could not be read (so a form
        knows of its unreadable copies)."""
        where, args = _one_form(only, "p", keyword="AND")
        rows = self.db.execute(
            "SELECT p.id, s.path, p.page_index, p.status, p.reason, p.detail, p.survey, p.serial, p.page_no, p.readings"
            " FROM pages p JOIN sources s ON s.id = p.source_id"
            f" WHERE (p.status = 'ok' OR p.reason IN ({', '.join('?' * len(UNREADABLE_IDENTIFIED))})){where}"
            " ORDER BY p.survey, p.serial, p.page_no, p.id", (*UNREADABLE_IDENTIFIED, *args))
        for page_id, path, index, status, reason, detail, survey, serial, page_no, raw in rows:
            readings = json.loads(raw)
            fields = [{k: f[k] for k in ("field_id", "value", "confidence", "flags")} for f in readings.get("fields", [])]
            comments = [{k: c[k] for k in ("field_id", "has_writing", "text", "mean_confidence", "flags")}
                        for c in readings.get("comments", [])]
            origin = f"{Path(path).name} p. {index + 1}"
            verified = readings.get("identified_by", "code") == "code"
            yield PageRecord(page_id, origin, survey, serial, page_no, fields, comments, verified=verified,
                             quarantined="" if status == "ok" else reason,
                             # A person gave this page its identity: the form says so.
                             assigned=detail if reason == "assigned" and not verified else "")

    def replace_forms(self, forms: list[FormRecord], only: tuple[str, str] | None = None, *,
                      through: int | None = None, pages_mark: tuple[int, int] | None = None) -> bool:
        """Replace the derived tables with ``forms`` in one transaction: all
        of them, or only those of one (survey, serial). ``through``: the
        last decision the derivation saw (read in the same snapshot as the
        pages and decisions it used); None when it was derived inside this
        same write transaction, so it saw every decision. ``pages_mark``: the
        pages the derivation saw (``pages_mark``); when pages were stored
        since (another scan run), nothing is written and the result is False."""
        where, args = _one_form(only)
        with self.transaction() as db:
            if pages_mark is not None and self.pages_mark() != pages_mark:
                return False
            if through is None:
                through = self.last_decision_id()
            for table in ("flags", "answers", "forms"):
                db.execute(f"DELETE FROM {table}{where}", args)
            for form in forms:
                place = (form.issued.household_code, *form.issued.village_key) if form.issued else ("",) * 5
                db.execute(
                    "INSERT INTO forms (survey, serial, status, household_code, province, district, commune, village,"
                    " issued, derived_through) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (form.survey, form.serial, form.status, *place, int(bool(form.issued)), through))
                db.executemany(
                    "INSERT INTO answers (survey, serial, field_id, value, confidence, page_id) VALUES (?, ?, ?, ?, ?, ?)",
                    [(form.survey, form.serial, f, v, c, p) for f, (v, c, p) in form.answers.items()])
                db.executemany(
                    "INSERT INTO flags (survey, serial, field_id, reason, confidence, detail, page_id, blocking, page_no,"
                    " item) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(form.survey, form.serial, f.field_id, f.reason, f.confidence, f.detail, f.page_id, int(f.blocking),
                      f.page_no, f.key) for f in form.flags])
        return True


def _one_form(only: tuple[str, str] | None, table: str = "", keyword: str = "WHERE") -> tuple[str, tuple[str, ...]]:
    """The clause (`` WHERE survey = ? AND serial = ?``, or joined with
    ``keyword`` AND) and its arguments that keep the rows of one (survey,
    serial) of ``table`` (an alias); nothing when ``only`` is None."""
    column = f"{table}." if table else ""
    return (f" {keyword} {column}survey = ? AND {column}serial = ?", only) if only else ("", ())
