"""The results store: sources, pages, forms, answers, flags and review
decisions, in a SQLite file or a PostgreSQL database (see store/engine.py).

Raw page readings are stored as they come, each page in its own
transaction, so an interrupted run loses nothing and a re-run skips what is
stored. Forms, answers and flags are derived from the pages (and the review
decisions): a page stored, forgotten or assigned puts its form on the
pending list in the same transaction, and the derivation takes it off in
its own (see sipas_scan.assembly.derive). Review decisions
are append-only and never touched by a rebuild. The tables are defined in
store/schema.py and migrated forward by Alembic (store/migrate.py).

SQL here is dialect-neutral (``text()`` with named parameters, or Core):
it runs unchanged on both engines.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from sipas_scan.assembly.decisions import QUARANTINE, in_force
from sipas_scan.assembly.forms import FormKey, FormRecord, IssuedForms, PageRecord
from sipas_scan.assembly.placement import PLACEMENT_DECLINED, SERIAL_DISPUTED, UNPLACED, Placement, StackPage
from sipas_scan.dbfile import holding, is_url, writer_of
from sipas_scan.errors import SipasError
from sipas_scan.printing.households import Household
from sipas_scan.reading.page import UNREADABLE_IDENTIFIED, PageResult
from sipas_scan.store import migrate
from sipas_scan.store.engine import DIALECTS, ENV_DB, Database, database_url, default_location, describe, engine_for
from sipas_scan.store.legacy import LEGACY_MIGRATIONS
from sipas_scan.store.schema import pages as pages_table


class StoreError(SipasError):
    pass


IMAGE_IN_DATABASE = "sha256:"  # pages.image_path of an image held in page_images


# The pre-Alembic schema scripts (SQLite files written by older versions).
MIGRATIONS = LEGACY_MIGRATIONS

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
class StoredImage:
    """A stored page's image: ``key`` names its content (the same key, the
    same bytes: safe to cache by), ``read`` fetches it (raises OSError)."""

    key: str
    read: Callable[[], bytes]


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
    identified_by: str  # code (signed, verified) | print | hand; see PageResult


class Store:
    """The results database at ``location``: a file path (SQLite, created
    if new) or a URL (``postgresql://user@host/db``); ``$SIPAS_DB`` when
    None. Opening it migrates it to the latest schema."""

    MIGRATIONS = MIGRATIONS

    def __init__(self, location: Path | str | None = None):
        if location is None:
            location = default_location()
            if location is None:
                raise StoreError(f"no results database: give --db FILE or URL, or set ${ENV_DB}")
        self.location = location
        self.where = describe(location)
        url = database_url(location)
        if is_url(location):
            # No folder of its own: paths stored relative (by older versions)
            # are taken from where the store is opened.
            self.path: Path | None = None
            self.folder = Path.cwd().resolve()
            writer_key = url.render_as_string(hide_password=True)
        else:
            self.path = Path(location)
            self.folder = self.path.parent.resolve()
            writer_key = str(self.path.resolve())
        self._writer = writer_of(writer_key)
        self._open = False
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            engine = engine_for(url)
            self.db = Database(engine.connect(), DIALECTS[engine.dialect.name])
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"{self.where}: not a usable sipas-scan database ({_one_line(exc)})") from None
        try:
            self._migrate()
        except BaseException as exc:
            self.db.close()
            if isinstance(exc, migrate.NewerSchema):
                raise StoreError(f"{self.where}: database written by a newer sipas-scan ({exc})") from None
            if isinstance(exc, sa.exc.SQLAlchemyError | sqlite3.Error):
                raise StoreError(f"{self.where}: not a usable sipas-scan database ({_one_line(exc)})") from None
            raise

    def _migrate(self) -> None:
        """Bring the database to the latest schema; ``upgraded_from`` says
        from what (None when it already was)."""
        self.upgraded_from: str | None = None
        if migrate.is_current(self.db):
            return
        with self.transaction():
            # Again under the write lock: another process opening the same
            # new database at the same moment may have migrated it meanwhile.
            if not migrate.is_current(self.db):
                self.upgraded_from = migrate.version_of(self.db)
                migrate.upgrade(self.db)

    @property
    def revision(self) -> str:
        return migrate.head()

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """A write transaction that holds the write lock from its start;
        inside one already open it joins it, so a review decision and the
        derivation of its form commit together or not at all."""
        if self._open:
            yield self.db
            return
        with holding(self._writer, StoreError(f"{self.where}: a write transaction inside another one on a second connection")):
            self.db.run(self.db.dialect.begin_write)
            self._open = True
            try:
                yield self.db
            except BaseException:
                self.db.run(("ROLLBACK",))
                raise
            else:
                self.db.run(("COMMIT",))
            finally:
                self._open = False

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """A read transaction: every query inside sees the database as it was
        at the first, so a long derivation reads pages and decisions that
        belong together while reviewers keep writing. Read only: what it
        derived is written after it ends."""
        if self._open:
            yield self.db
            return
        self.db.run(self.db.dialect.begin_snapshot)
        self._open = True
        try:
            yield self.db
        finally:
            self._open = False
            self.db.run(("COMMIT",))

    def resolve(self, stored: str) -> Path:
        """A path stored relative to the database's folder as a path that
        works from any working directory."""
        path = Path(stored)
        return path if path.is_absolute() else self.folder / path

    # ---- sources and pages --------------------------------------------------
    def source_state(self, sha256: str) -> tuple[int, str, set[int]] | None:
        """(source id, status, page indexes stored) of a known file."""
        row = self.db.query("SELECT id, status FROM sources WHERE sha256 = :sha", sha=sha256).first()
        if row is None:
            return None
        stored = {r[0] for r in self.db.query("SELECT page_index FROM pages WHERE source_id = :id", id=row[0])}
        return row[0], row[1], stored

    def add_source(self, path: Path, sha256: str, size: int, kind: str, pages: int) -> int:
        """The id of the source with this content, added if new (another run
        may have added it since this one looked)."""
        # Absolute, not relative to wherever scan ran: the review app opens
        # the file again (to assign a page) from any directory.
        stored = str(Path(path).resolve())
        with self.transaction() as db:
            db.query(
                "INSERT INTO sources (path, sha256, size, kind, pages, status, added_at)"
                " VALUES (:path, :sha, :size, :kind, :pages, 'reading', :at) ON CONFLICT DO NOTHING",
                path=stored,
                sha=sha256,
                size=size,
                kind=kind,
                pages=pages,
                at=now(),
            )
            return db.query("SELECT id FROM sources WHERE sha256 = :sha", sha=sha256).scalar_one()

    def finish_source(self, source_id: int) -> None:
        """The file is read: marked done and its claim dropped, together."""
        with self.transaction() as db:
            db.query("UPDATE sources SET status = 'done' WHERE id = :id", id=source_id)
            db.query("DELETE FROM claims WHERE sha256 = (SELECT sha256 FROM sources WHERE id = :id)", id=source_id)

    def claim_source(self, sha256: str, owner: str) -> Claim | None:
        """Claim the file with this content for the run ``owner``, atomically:
        None when claimed (or already held), else the live claim of the run
        reading it. A stale claim (see Claim.is_stale) is taken over."""
        at = time.time()
        with self.transaction() as db:
            row = db.query("SELECT owner, host, pid, renewed_at FROM claims WHERE sha256 = :sha", sha=sha256).first()
            if row is not None and row[0] != owner and not Claim(*row).is_stale(at):
                return Claim(*row)
            db.query(
                "INSERT INTO claims (sha256, owner, host, pid, renewed_at) VALUES (:sha, :owner, :host, :pid, :at)"
                " ON CONFLICT (sha256) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,"
                " renewed_at = excluded.renewed_at",
                sha=sha256,
                owner=owner,
                host=socket.gethostname(),
                pid=os.getpid(),
                at=at,
            )
        return None

    def release_claims(self, owner: str) -> None:
        """Drop what a run still holds (files it did not finish: a later run takes them)."""
        with self.transaction() as db:
            db.query("DELETE FROM claims WHERE owner = :owner", owner=owner)

    def pages_mark(self) -> tuple[int, int]:
        """The last page id and the number of pages: changes whenever a page
        is stored or forgotten."""
        return tuple(self.db.query("SELECT coalesce(max(id), 0), count(*) FROM pages").one())

    def record_source_failure(self, path: Path | str, reason: str, detail: str) -> None:
        """``path``: absolute, as printable text (see reading.sources.printable)."""
        with self.transaction() as db:
            db.query(
                "INSERT INTO source_failures (path, reason, detail, at) VALUES (:path, :reason, :detail, :at)",
                path=str(path),
                reason=reason,
                detail=detail,
                at=now(),
            )

    def clear_source_failures(self, paths: Sequence[str]) -> None:
        """These files opened this time (put right since they failed): kept
        in the history, no longer listed as not read."""
        with self.transaction() as db:
            db.many(
                "UPDATE source_failures SET cleared_at = :at WHERE path = :path AND cleared_at = ''",
                [{"at": now(), "path": path} for path in paths],
            )

    def unread_files(self) -> list[tuple[str, str, str]]:
        """(path, reason, detail) of every file or folder whose latest attempt
        failed: not opened since."""
        return self.db.rows(
            "SELECT path, reason, detail FROM source_failures WHERE cleared_at = ''"
            " AND id IN (SELECT max(id) FROM source_failures GROUP BY path) ORDER BY path"
        )

    @staticmethod
    def store_image(db: Database, jpeg: bytes) -> str:
        """Store a page's image in the database (once per content) inside
        the caller's transaction; returns what names it in pages.image_path."""
        if not jpeg:
            return ""
        digest = hashlib.sha256(jpeg).hexdigest()
        db.query("INSERT INTO page_images (sha256, jpeg) VALUES (:sha256, :jpeg) ON CONFLICT DO NOTHING", sha256=digest, jpeg=jpeg)
        return f"{IMAGE_IN_DATABASE}{digest}"

    @staticmethod
    def _readings(result: PageResult) -> str:
        return json.dumps(
            {
                "fields": [asdict(f) for f in result.fields],
                "comments": [asdict(c) for c in result.comments],
                "markers": list(result.markers),
                "identified_by": result.identified_by,
                **({"serial_digits": list(result.serial_digits)} if result.serial_digits else {}),
                **({"likely_pages": [list(p) for p in result.likely_pages]} if result.likely_pages else {}),
            },
            ensure_ascii=False,
        )

    def add_page(self, source_id: int, page_index: int, result: PageResult) -> int | None:
        """Store one page's reading and its image; a page already stored is
        kept. The file's claim is renewed in the same transaction."""
        readings = self._readings(result)
        with self.transaction() as db:
            image_path = self.store_image(db, result.image_jpeg)
            db.query(
                "UPDATE claims SET renewed_at = :at WHERE sha256 = (SELECT sha256 FROM sources WHERE id = :id) AND pid = :pid",
                at=time.time(),
                id=source_id,
                pid=os.getpid(),
            )
            page_id = db.query(
                "INSERT INTO pages (source_id, page_index, status, reason, detail, survey, serial, page_no,"
                " orientation, residual_mm, dpi, image_path, readings, read_at)"
                " VALUES (:source_id, :page_index, :status, :reason, :detail, :survey, :serial, :page_no,"
                " :orientation, :residual_mm, :dpi, :image_path, :readings, :read_at)"
                " ON CONFLICT DO NOTHING RETURNING id",
                source_id=source_id,
                page_index=page_index,
                status=result.status,
                reason=result.reason,
                detail=result.detail,
                survey=result.survey,
                serial=result.serial,
                page_no=result.page_no,
                orientation=result.orientation,
                residual_mm=result.residual_mm,
                dpi=result.dpi,
                image_path=image_path,
                readings=readings,
                read_at=now(),
            ).scalar()
            if page_id is not None:
                self._mark_pending(db, [(result.survey, result.serial)])
            return page_id

    def assign_page(
        self, page_id: int, result: PageResult, decision: tuple[str, str | None, str, str], how: str, note: str = ""
    ) -> None:
        """A quarantined page read again under the identity a reviewer gave
        it; the page and the decision that made it are stored together (and
        with the form's derivation, inside the caller's transaction). The
        quarantine reason and how the identity was established stay in the
        page's detail. Refused when the page is no longer quarantined: two
        submissions of one assignment cannot both land."""
        key, old_value, new_value, reviewer = decision
        with self.transaction() as db:
            image_path = self.store_image(db, result.image_jpeg)
            status, reason, detail = db.query("SELECT status, reason, detail FROM pages WHERE id = :id", id=page_id).one()
            if status != "quarantined":
                raise StoreError(f"page {page_id}: already decided")
            self._identify(
                db,
                page_id,
                "assigned",
                f"assigned by {reviewer} ({how}); was quarantined: {reason}: {detail}",
                (result.survey, result.serial, result.page_no),
                (result.orientation, result.residual_mm, image_path),
                self._readings(result),
            )
            self._insert_decision(db, "", "", key, old_value, new_value, reviewer, note)
            self._mark_pending(db, [(result.survey, result.serial)])

    def stack(self, source_id: int) -> list[StackPage]:
        """The pages stored of one file, in file order, with what placing a
        page by its neighbours needs."""
        p = pages_table.c
        rows = self.db.execute(
            sa.select(
                p.id,
                p.page_index,
                p.status,
                p.reason,
                p.survey,
                p.serial,
                p.page_no,
                # Only a page not identified needs its readings (the serial digits read).
                sa.case((p.status == "quarantined", p.readings), else_=sa.literal("{}")),
                sa.case((p.status == "ok", self._identified_by()), else_=sa.null()),
            )
            .where(p.source_id == source_id)
            .order_by(p.page_index)
        )
        stack = []
        for page_id, index, status, reason, survey, serial, page_no, raw, identified_by in rows:
            readings = json.loads(raw or "{}")
            digits = tuple(readings.get("serial_digits", ()))
            likely = tuple((str(s), int(n)) for s, n in readings.get("likely_pages", ()))
            by_print = status == "ok" and identified_by == "print"
            stack.append(StackPage(page_id, index, status, reason, survey, serial, page_no, digits, likely, by_print))
        return stack

    def dispute_page(self, page_id: int, why: str) -> bool:
        """A page identified by the serial printed on it that its place in
        its file contradicts (``placement.disputed``): quarantined
        (``SERIAL_DISPUTED``) for a person to assign, its form derived again
        without it. False when it is no longer such a page."""
        with self.transaction() as db:
            row = db.query(
                "SELECT survey, serial, readings, detail FROM pages WHERE id = :id AND status = 'ok' AND serial <> ''", id=page_id
            ).first()
            if row is None:
                return False
            survey, serial, stored, detail = row
            readings = json.loads(stored or "{}")
            if readings.get("identified_by") != "print":
                return False
            readings.pop("identified_by")
            self._unidentify(db, page_id, SERIAL_DISPUTED, f"{why}; {detail}", readings)
            self._mark_pending(db, [(survey, serial)])
        return True

    @staticmethod
    def _unidentify(db: Database, page_id: int, reason: str, detail: str, readings: dict) -> None:
        """A page read as a form's put back among the quarantined pages, its
        serial gone (its page number and marks kept, for whoever assigns it)."""
        db.query(
            "UPDATE pages SET status = 'quarantined', reason = :reason, detail = :detail, serial = '', readings = :readings"
            " WHERE id = :id",
            reason=reason,
            detail=detail,
            readings=json.dumps(readings, ensure_ascii=False),
            id=page_id,
        )

    def _identified_by(self) -> sa.ColumnElement:
        """How a page was identified (``readings.identified_by``), in SQL."""
        # The readings are JSON held as text: SQLite reads it as it is (a CAST
        # there would make it a number); PostgreSQL needs it cast to JSON.
        as_json = sa.type_coerce if self.db.dialect.name == "sqlite" else sa.cast
        return as_json(pages_table.c.readings, sa.JSON)["identified_by"].as_string()

    def page_values(self, source_id: int) -> dict[int, dict[str, str]]:
        """Page id -> field id -> the value read, for the pages of one file
        whose page is known (read, or quarantined with its marks read)."""
        rows = self.db.query("SELECT id, readings FROM pages WHERE source_id = :id AND page_no > 0", id=source_id)
        return {
            page_id: {str(f["field_id"]): str(f.get("value", "")) for f in json.loads(raw or "{}").get("fields", [])}
            for page_id, raw in rows
        }

    def read_page_numbers(self, forms: Sequence[FormKey]) -> set[tuple[str, str, int]]:
        """(survey, serial, page) of every page read of the forms ``forms``."""
        where, names, args = _forms_clause(forms, keyword="AND")
        rows = self.db.query(expanding(f"SELECT survey, serial, page_no FROM pages WHERE status = 'ok'{where}", *names), **args)
        return {(survey, serial, page_no) for survey, serial, page_no in rows}

    def place_page(self, placement: Placement, reading: PageResult | None = None) -> bool:
        """Give a page its form from where it lies in its file (with
        ``reading``, the page read as that page, for a page whose page was
        not known); its form is derived again. False when the page is no
        longer one to place (a reviewer or another station got there first)."""
        with self.transaction() as db:
            row = db.query(
                "SELECT readings, detail, image_path, orientation, residual_mm FROM pages"
                " WHERE id = :id AND status = 'quarantined' AND reason = :reason",
                id=placement.page_id,
                reason=UNPLACED,
            ).first()
            if row is None:
                return False
            stored, detail, image_path, orientation, residual_mm = row
            readings = json.loads(stored or "{}")
            if reading is not None:
                # Read again as the page placed; what was read of it before stays.
                kept = {key: readings[key] for key in ("serial_digits", "likely_pages") if key in readings}
                readings = {**json.loads(self._readings(reading)), **kept}
                image_path = self.store_image(db, reading.image_jpeg) or image_path
                orientation, residual_mm = reading.orientation, reading.residual_mm
            readings = {
                **readings,
                "identified_by": "stack",
                "placed": placement.neighbours,
                "placed_beside": list(placement.beside),
            }
            self._identify(
                db,
                placement.page_id,
                "placed",
                f"placed by its neighbours in the file: {placement.neighbours}; was quarantined: {UNPLACED}: {detail}",
                (placement.survey, placement.serial, placement.page_no),
                (orientation, residual_mm, image_path),
                json.dumps(readings, ensure_ascii=False),
            )
            self._mark_pending(db, [(placement.survey, placement.serial)])
        return True

    @staticmethod
    def _identify(
        db: Database,
        page_id: int,
        reason: str,
        detail: str,
        identity: tuple[str, str, int],
        placing: tuple[int, float, str],
        readings: str,
    ) -> None:
        """A quarantined page given its identity (survey, serial, page) and
        read (orientation, residual, image path, readings), inside the
        caller's transaction: it now counts, ``reason`` says how."""
        (survey, serial, page_no), (orientation, residual_mm, image_path) = identity, placing
        db.query(
            "UPDATE pages SET status = 'ok', reason = :reason, detail = :detail, survey = :survey, serial = :serial,"
            " page_no = :page_no, orientation = :orientation, residual_mm = :residual_mm, image_path = :image_path,"
            " readings = :readings WHERE id = :id",
            reason=reason,
            detail=detail,
            survey=survey,
            serial=serial,
            page_no=page_no,
            orientation=orientation,
            residual_mm=residual_mm,
            image_path=image_path,
            readings=readings,
            id=page_id,
        )

    def take_back_placed(self, page_id: int, decision: tuple[str, str, str, str | None, str, str], note: str = "") -> None:
        """A page placed by the stack that a reviewer says is not its form's:
        quarantined again (``PLACEMENT_DECLINED``, never placed again), the
        decision stored with it, its form derived again."""
        survey, serial, key, old_value, new_value, reviewer = decision
        with self.transaction() as db:
            row = db.query("SELECT readings, detail FROM pages WHERE id = :id AND reason = 'placed'", id=page_id).first()
            if row is None:
                raise StoreError(f"page {page_id}: not a page placed by the stack")
            readings = json.loads(row[0] or "{}")
            for placement_note in ("identified_by", "placed", "placed_beside"):
                readings.pop(placement_note, None)
            self._unidentify(db, page_id, PLACEMENT_DECLINED, f"{reviewer} took it out of form {serial}: {row[1]}", readings)
            self._insert_decision(db, survey, serial, key, old_value, new_value, reviewer, note)
            self._mark_pending(db, [(survey, serial)])

    @staticmethod
    def _insert_decision(
        db: Database, survey: str, serial: str, key: str, old_value: str | None, new_value: str | None, reviewer: str, reason: str
    ) -> None:
        db.query(
            "INSERT INTO decisions (survey, serial, field_id, old_value, new_value, reviewer, at, reason)"
            " VALUES (:survey, :serial, :key, :old, :new, :reviewer, :at, :reason)",
            survey=survey,
            serial=serial,
            key=key,
            old=old_value,
            new=new_value,
            reviewer=reviewer,
            at=now(),
            reason=reason,
        )

    def scanned_file(self, page_id: int) -> ScannedFile:
        """The file a stored page was read from. A path stored relative (by
        an older version) is relative to wherever scan ran, most often the
        database's folder or one above it (`scan ... --db output/demo/...`
        run from the project): those are tried, then the working directory.
        The caller checks the file's SHA-256 against the one stored."""
        stored, index, sha256 = self.db.query(
            "SELECT s.path, p.page_index, s.sha256 FROM pages p JOIN sources s ON s.id = p.source_id WHERE p.id = :id", id=page_id
        ).one()
        path = Path(stored)
        if not path.is_absolute():
            candidates = [base / path for base in (self.folder, *self.folder.parents)] + [Path.cwd() / path]
            path = next((c for c in candidates if c.is_file()), candidates[0])
        return ScannedFile(path, index, sha256)

    def stored_page(self, page_id: int) -> StoredPage | None:
        row = self.db.query(
            "SELECT id, status, reason, detail, survey, serial, page_no, readings FROM pages WHERE id = :id", id=page_id
        ).first()
        if row is None:
            return None
        page, status, reason, detail, survey, serial, page_no, raw = row
        readings = json.loads(raw or "{}")
        return StoredPage(page, status, reason, detail, survey, serial, page_no, readings.get("identified_by", "code"))

    def page_image(self, page_id: int) -> StoredImage | None:
        """The stored image of a page (aligned, or as scanned when it could
        not be): in the database, or a file beside it (pages stored by an
        older version); None without one."""
        row = self.db.query("SELECT image_path FROM pages WHERE id = :id", id=page_id).first()
        if not row or not row[0]:
            return None
        stored: str = row[0]
        if stored.startswith(IMAGE_IN_DATABASE):
            return StoredImage(stored, functools.partial(self.image_bytes, stored.removeprefix(IMAGE_IN_DATABASE)))
        path = self.resolve(stored)
        try:
            status = path.stat()
        except OSError:
            return StoredImage(str(path), path.read_bytes)  # reading it names what is wrong
        return StoredImage(f"{path}|{status.st_mtime_ns}|{status.st_size}", path.read_bytes)

    def image_bytes(self, sha256: str) -> bytes:
        data = self.db.query("SELECT jpeg FROM page_images WHERE sha256 = :sha256", sha256=sha256).scalar()
        if data is None:
            raise OSError(f"image {sha256[:12]}: not in the database")
        return bytes(data)

    def surveys(self) -> list[str]:
        """The surveys of the forms stored."""
        return list(self.db.query("SELECT DISTINCT survey FROM forms ORDER BY survey").scalars())

    def forms_flagged(self, reason: str) -> int:
        """How many forms carry a flag with this reason."""
        return self.db.query(
            "SELECT count(*) FROM (SELECT DISTINCT survey, serial FROM flags WHERE reason = :reason) f", reason=reason
        ).scalar_one()

    def needs_schema_2_rebuild(self) -> bool:
        """Flags derived before schema 2 do not say which decision settles them."""
        return self.db.query("SELECT 1 FROM flags WHERE item = '' LIMIT 1").first() is not None

    def decisions(self, only: Sequence[FormKey] | None = None) -> dict[tuple[str, str, str], str]:
        """(survey, serial, key) -> the decision in force (for every form, or those ``only``)."""
        where, names, args = _forms_clause(only)
        query = expanding(f"SELECT survey, serial, field_id, new_value FROM decisions{where} ORDER BY id", *names)
        return in_force(self.db.query(query, **args))

    def add_decision(
        self,
        survey: str,
        serial: str,
        key: str,
        old_value: str | None,
        new_value: str | None,
        reviewer: str,
        reason: str = "",
        *,
        expect_open: bool = False,
        expect_decided: bool = False,
    ) -> None:
        """Append a decision event; with ``expect_open``, refuse (in the same
        transaction) when a decision on the key is already in force, so two
        submissions of one item cannot both land; with ``expect_decided``,
        refuse when none is (reopening what was never decided)."""
        with self.transaction() as db:
            if expect_open or expect_decided:
                latest = db.query(
                    "SELECT new_value FROM decisions WHERE survey = :survey AND serial = :serial"
                    " AND field_id = :key ORDER BY id DESC LIMIT 1",
                    survey=survey,
                    serial=serial,
                    key=key,
                ).first()
                decided = latest is not None and latest[0] is not None
                if expect_open and decided:
                    raise StoreError(f"{serial} {key}: already decided")
                if expect_decided and not decided:
                    raise StoreError(f"{serial} {key}: not decided")
            self._insert_decision(db, survey, serial, key, old_value, new_value, reviewer, reason)
            # Derived again in this same transaction by the review app; left
            # pending should anything come between (the next derivation takes it).
            self._mark_pending(db, [(survey, serial)])

    def decision_log(self, limit: int, before: int | None = None) -> list[tuple]:
        """The latest decisions, newest first: (id, survey, serial, key, old
        value, new value, reviewer, at, note); ``before``: older than that id."""
        return self.db.rows(
            "SELECT id, survey, serial, field_id, old_value, new_value, reviewer, at, reason FROM decisions"
            " WHERE id < :before ORDER BY id DESC LIMIT :limit",
            before=before if before is not None else 2**62,
            limit=limit,
        )

    def last_decision_id(self) -> int:
        return self.db.query("SELECT coalesce(max(id), 0) FROM decisions").scalar_one()

    def forget_quarantined(self, source_id: int, reasons: Sequence[str] | None, up_to: int | None = None) -> set[int]:
        """Forget the source's quarantined pages with one of ``reasons`` (any
        reason with None) so they are read again, except pages a reviewer has
        decided on; marks the source unfinished in the same transaction (a run
        killed before it reads them again leaves them to the next). With
        ``up_to`` (a page id), only pages stored up to it: not what a run
        going on beside this one stored since. Returns the indexes of the
        pages forgotten."""
        which = "" if reasons is None else " AND reason IN :reasons"
        when = "" if up_to is None else " AND id <= :up_to"
        query = expanding(
            f"SELECT id, page_index, survey, serial FROM pages WHERE source_id = :source_id AND status = 'quarantined'{which}{when}"
            # A page a reviewer took out of the form it was placed in stays out.
            f" AND reason <> '{PLACEMENT_DECLINED}'"
            " AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.survey = '' AND d.serial = ''"
            "                 AND d.field_id = :prefix || CAST(pages.id AS TEXT))",
            *(["reasons"] if reasons is not None else []),
        )
        with self.transaction() as db:
            rows = db.query(
                query,
                source_id=source_id,
                prefix=f"{QUARANTINE}:",
                **({} if reasons is None else {"reasons": list(reasons)}),
                **({} if up_to is None else {"up_to": up_to}),
            ).all()
            if rows:
                db.many("DELETE FROM pages WHERE id = :id", [{"id": page_id} for page_id, *_ in rows])
                db.query("UPDATE sources SET status = 'reading' WHERE id = :id", id=source_id)
                self._mark_pending(db, [(survey, serial) for _, _, survey, serial in rows])
        return {index for _, index, *_ in rows}

    def any_page_verified(self) -> bool:
        """Whether any page read here was identified by its verified code."""
        identified_by = self._identified_by()
        query = sa.select(sa.exists().where(pages_table.c.status == "ok", pages_table.c.reason != "assigned", identified_by == "code"))
        return bool(self.db.execute(query).scalar())

    def stale_forms(self) -> list[tuple[str, str]]:
        """Forms whose derivation is older than a decision that concerns them:
        one of their own, or the assignment of a page to them. A form nobody
        derived since its page was assigned counts too."""
        own = self.db.query(
            "SELECT f.survey, f.serial FROM forms f JOIN (SELECT survey, serial, max(id) AS last FROM decisions"
            " WHERE serial != '' GROUP BY survey, serial) d ON d.survey = f.survey AND d.serial = f.serial"
            " WHERE f.derived_through < d.last"
        ).all()
        assigned = self.db.query(
            "SELECT DISTINCT p.survey, p.serial FROM pages p"
            " JOIN decisions d ON d.survey = '' AND d.serial = '' AND d.field_id = :prefix || CAST(p.id AS TEXT)"
            " LEFT JOIN forms f ON f.survey = p.survey AND f.serial = p.serial"
            " WHERE p.reason = 'assigned' AND p.status = 'ok' AND (f.serial IS NULL OR f.derived_through < d.id)",
            prefix=f"{QUARANTINE}:",
        ).all()
        return sorted({tuple(r) for r in [*own, *assigned]})

    # ---- forms (derived; see sipas_scan.assembly.derive) ----------------------
    def issued_forms(self, only: Sequence[FormKey] | None = None) -> IssuedForms:
        """Who each serial was issued to as the forms already record it (no
        ledger given): a household, or not-issued where it was flagged;
        unknown for the rest."""
        where, names, args = _forms_clause(only, "f")
        rows = self.db.query(
            expanding(
                "SELECT f.survey, f.serial, f.household_code, f.province, f.district, f.commune, f.village, f.issued,"
                " EXISTS (SELECT 1 FROM flags g WHERE g.survey = f.survey AND g.serial = f.serial AND g.reason = 'not-issued')"
                f" FROM forms f{where}",
                *names,
            ),
            **args,
        ).all()
        households: dict = {}
        for survey, serial, code, province, district, commune, village, was_issued, flagged in rows:
            if was_issued:
                households[(survey, serial)] = Household(province, district, commune, village, code)
            elif flagged:
                households[(survey, serial)] = None
        return IssuedForms(households)

    def page_records(self, only: Sequence[FormKey] | None = None) -> Iterator[PageRecord]:
        """Pages ordered by form, with only what forms need (no box metrics),
        streamed from the database so memory stays flat: the pages read, and
        the pages whose code verified but which could not be read (so a form
        knows of its unreadable copies)."""
        where, names, args = _forms_clause(only, "p", keyword="AND")
        rows = self.db.query(
            expanding(
                "SELECT p.id, s.path, s.sha256, p.page_index, p.status, p.reason, p.detail, p.survey, p.serial, p.page_no,"
                " p.readings FROM pages p JOIN sources s ON s.id = p.source_id"
                f" WHERE (p.status = 'ok' OR p.reason IN :unreadable){where}"
                " ORDER BY p.survey, p.serial, p.page_no, p.id",
                "unreadable",
                *names,
            ),
            unreadable=list(UNREADABLE_IDENTIFIED),
            **args,
        )
        for page_id, path, sha256, index, status, reason, detail, survey, serial, page_no, raw in rows:
            readings = json.loads(raw)
            fields = [{k: f[k] for k in ("field_id", "value", "confidence", "flags")} for f in readings.get("fields", [])]
            comments = [
                {k: c[k] for k in ("field_id", "has_writing", "text", "mean_confidence", "flags")}
                for c in readings.get("comments", [])
            ]
            name = Path(path).name
            origin = f"{name} p. {index + 1}"
            verified = readings.get("identified_by", "code") == "code"
            yield PageRecord(
                page_id,
                origin,
                survey,
                serial,
                page_no,
                fields,
                comments,
                verified=verified,
                quarantined="" if status == "ok" else reason,
                # A person gave this page its identity: the form says so.
                assigned=detail if reason == "assigned" and not verified else "",
                placed=readings.get("placed", "") if reason == "placed" else "",
                position=(name, sha256, index),
            )

    def replace_forms(self, forms: list[FormRecord], keys: Sequence[FormKey] | None = None) -> None:
        """Replace the derived rows of the forms ``keys`` (every form when
        None) with ``forms``, and take them off the pending list, in one
        write transaction (the caller's, when it holds one: the pages and
        decisions it derived from are then the ones stored). A key without
        a form in ``forms`` (its pages all forgotten) loses its form."""
        where, names, args = _forms_clause(keys)
        with self.transaction() as db:
            through = self.last_decision_id()
            for table in ("flags", "answers", "forms", "pending_forms"):
                db.query(expanding(f"DELETE FROM {table}{where}", *names), **args)
            db.many(
                "INSERT INTO forms (survey, serial, status, household_code, province, district, commune, village,"
                " issued, derived_through) VALUES (:survey, :serial, :status, :household_code, :province, :district,"
                " :commune, :village, :issued, :through)",
                [
                    dict(
                        survey=form.survey,
                        serial=form.serial,
                        status=str(form.status),
                        **dict(
                            zip(
                                ("household_code", "province", "district", "commune", "village"),
                                (form.issued.household_code, *form.issued.village_key) if form.issued else ("",) * 5,
                                strict=True,
                            )
                        ),
                        issued=int(bool(form.issued)),
                        through=through,
                    )
                    for form in forms
                ],
            )
            db.many(
                "INSERT INTO answers (survey, serial, field_id, value, confidence, page_id)"
                " VALUES (:survey, :serial, :field_id, :value, :confidence, :page_id)",
                [
                    dict(survey=form.survey, serial=form.serial, field_id=f, value=v, confidence=c, page_id=p)
                    for form in forms
                    for f, (v, c, p) in form.answers.items()
                ],
            )
            db.many(
                "INSERT INTO flags (survey, serial, field_id, reason, confidence, detail, page_id, blocking, page_no, item)"
                " VALUES (:survey, :serial, :field_id, :reason, :confidence, :detail, :page_id, :blocking, :page_no, :item)",
                [
                    dict(
                        survey=form.survey,
                        serial=form.serial,
                        field_id=f.field_id,
                        reason=f.reason,
                        confidence=f.confidence,
                        detail=f.detail,
                        page_id=f.page_id,
                        blocking=int(f.blocking),
                        page_no=f.page_no,
                        item=f.key,
                    )
                    for form in forms
                    for f in form.flags
                ],
            )

    # ---- forms waiting to be derived --------------------------------------------
    @staticmethod
    def _mark_pending(db: Database, keys: Iterable[FormKey]) -> None:
        db.many(
            "INSERT INTO pending_forms (survey, serial) VALUES (:survey, :serial) ON CONFLICT DO NOTHING",
            [{"survey": survey, "serial": serial} for survey, serial in sorted(set(keys)) if serial],
        )

    def mark_stale_pending(self) -> None:
        """Forms derived before a decision on them (see ``stale_forms``) are
        derived again by the next ``derive_pending``."""
        with self.transaction() as db:
            self._mark_pending(db, self.stale_forms())

    def pending_forms(self, limit: int) -> list[FormKey]:
        """Up to ``limit`` forms whose pages changed since they were derived."""
        return [
            (survey, serial)
            for survey, serial in self.db.query(
                "SELECT survey, serial FROM pending_forms ORDER BY survey, serial LIMIT :limit", limit=limit
            )
        ]

    def pending_count(self) -> int:
        return self.db.query("SELECT count(*) FROM pending_forms").scalar_one()

    def mark_every_form_pending(self) -> None:
        """Every form (those derived, and those with pages) is derived again
        (after a new version's rules, or a database from before this list)."""
        with self.transaction() as db:
            db.query(
                "INSERT INTO pending_forms (survey, serial)"
                " SELECT survey, serial FROM forms"
                " UNION SELECT DISTINCT survey, serial FROM pages WHERE serial != ''"
                " ON CONFLICT DO NOTHING"
            )

    def mark_unknown_issue_pending(self) -> int:
        """Forms derived without a ledger (issue unknown: neither a household
        nor flagged never issued) are derived again when one is given; returns
        how many."""
        with self.transaction() as db:
            return db.query(
                "INSERT INTO pending_forms (survey, serial)"
                " SELECT f.survey, f.serial FROM forms f WHERE f.issued = 0 AND NOT EXISTS"
                " (SELECT 1 FROM flags g WHERE g.survey = f.survey AND g.serial = f.serial AND g.reason = 'not-issued')"
                " ON CONFLICT DO NOTHING"
            ).rowcount


_expanded: dict[tuple[str, tuple[str, ...]], sa.TextClause] = {}


def expanding(sql: str, *names: str) -> sa.TextClause:
    """``sql`` whose text parameters ``names`` take a list (``x IN :names``)."""
    key = (sql, names)
    clause = _expanded.get(key)
    if clause is None:
        clause = _expanded[key] = sa.text(sql).bindparams(*(sa.bindparam(name, expanding=True, type_=sa.Text) for name in names))
    return clause


def _forms_clause(keys: Sequence[FormKey] | None, table: str = "", keyword: str = "WHERE") -> tuple[str, list[str], dict[str, object]]:
    """The clause (`` WHERE ((survey = ... AND serial IN ...) OR ...)``, or
    joined with ``keyword`` AND), the names of its list parameters (see
    ``expanding``) and its arguments, that keep the rows of the forms
    ``keys`` of ``table`` (an alias); nothing when ``keys`` is None."""
    if keys is None:
        return "", [], {}
    column = f"{table}." if table else ""
    by_survey: dict[str, list[str]] = {}
    for survey, serial in keys:
        by_survey.setdefault(survey, []).append(serial)
    if not by_survey:
        return f" {keyword} 1 = 0", [], {}
    parts: list[str] = []
    names: list[str] = []
    args: dict[str, object] = {}
    for number, (survey, serials) in enumerate(sorted(by_survey.items())):
        parts.append(f"({column}survey = :forms_survey_{number} AND {column}serial IN :forms_serials_{number})")
        names.append(f"forms_serials_{number}")
        args[f"forms_survey_{number}"], args[f"forms_serials_{number}"] = survey, sorted(set(serials))
    return f" {keyword} ({' OR '.join(parts)})", names, args


def _one_line(exc: BaseException) -> str:
    """What went wrong, without SQLAlchemy's statement and links."""
    reason = getattr(exc, "orig", None) or exc
    return (str(reason).strip().splitlines() or [type(reason).__name__])[0]
