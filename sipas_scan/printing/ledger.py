"""The ledger of issued serials, shared by every print run of a round: a
SQLite file, or two tables in a PostgreSQL database (a URL, most often the
results database several stations share).

Every serial ever printed for a survey is recorded here with the household it
went to, so serials never repeat (a reprint gets new ones) and reading can
tell an issued form from one that never was.

The SQL is written once, with ``?`` parameters, for both engines' DB-API
drivers (sqlite3, psycopg); psycopg's ``%s`` is put in when it runs.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sipas_scan.dbfile import SqliteFile, is_url, shown_url
from sipas_scan.errors import LedgerError
from sipas_scan.printing.codes import make_serial
from sipas_scan.printing.households import Household

if TYPE_CHECKING:
    import psycopg

# The ledger's tables, written once for both engines: a SQLite file gets
# them as its schema version 1; a PostgreSQL database when the ledger is
# first opened there (one process at a time, under an advisory lock), with
# serials sorted by code point as SQLite sorts them.
_TABLES_SQL = """
CREATE TABLE {if_new}print_runs (
    id {run_id} PRIMARY KEY,
    survey_id TEXT NOT NULL,
    survey_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    forms INTEGER NOT NULL
);
CREATE TABLE {if_new}issued (
    survey_id TEXT{code_points} NOT NULL,
    serial TEXT{code_points} NOT NULL,
    number INTEGER NOT NULL,
    run_id INTEGER NOT NULL REFERENCES print_runs(id),
    province TEXT NOT NULL,
    district TEXT NOT NULL,
    commune TEXT NOT NULL,
    village TEXT NOT NULL,
    household_code TEXT NOT NULL,
    head_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (survey_id, serial),
    UNIQUE (survey_id, number)
);
"""
_SCHEMA = _TABLES_SQL.format(if_new="", run_id="INTEGER", code_points="")
_SERVER_SCHEMA = _TABLES_SQL.format(if_new="IF NOT EXISTS ", run_id="SERIAL", code_points=' COLLATE "C"')
_SCHEMA_LOCK = 0x5195A5  # pg_advisory_xact_lock key: one process creates the tables

SQLITE_HEADER = b"SQLite format 3\x00"
_TABLES = {"print_runs", "issued"}

LedgerLocation = Path | str  # a SQLite file, or a PostgreSQL URL
ISSUED_TO_CHUNK = 500  # serials looked up in one query (SQLite allows 32,766 parameters)


def ledger_location(given: str | Path) -> LedgerLocation:
    """What ``--ledger`` was given: a URL as it is, anything else as a path."""
    return str(given) if is_url(given) else Path(given)


def ledger_name(location: LedgerLocation) -> str:
    """The ledger for messages: a file's absolute path, a URL without its password."""
    return shown_url(str(location)) if is_url(location) else str(Path(location).absolute())


def _connect(url: str) -> psycopg.Connection:
    # Imported here: most commands never open a server's ledger.
    import psycopg
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url).set(drivername="postgresql")
    try:
        return psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True)
    except psycopg.Error as exc:
        raise LedgerError(f"{ledger_name(url)}: cannot open the ledger ({_first_line(exc)})") from None


def _value(cursor: Any) -> Any:
    """The one value a query returns."""
    row = cursor.fetchone()
    assert row is not None  # an aggregate, or RETURNING of an INSERT: always a row
    return row[0]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def ledger_exists(location: LedgerLocation) -> bool:
    """Whether anything is at ``location`` (a server database: whether it holds the ledger's tables)."""
    if not is_url(location):
        return Path(location).exists()
    with _connect(str(location)) as db:
        return _server_tables(db) >= _TABLES


def _server_tables(db: psycopg.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def check_ledger(location: LedgerLocation) -> int:
    """Make sure ``location`` is an existing issued-serials ledger, without
    creating or changing anything; returns how many serials it holds. Raises
    LedgerError with one line saying what the file is instead."""
    hint = "give the ledger that 'sipas-scan print --ledger' wrote"
    if is_url(location):
        with _connect(str(location)) as server:
            if not _server_tables(server) >= _TABLES:
                raise LedgerError(f"{ledger_name(location)}: no ledger in this database: {hint}")
            return _value(server.execute("SELECT count(*) FROM issued"))
    path = Path(location)
    if not path.exists():
        raise LedgerError(f"{path}: no such ledger: {hint}")
    if not path.is_file():
        raise LedgerError(f"{path}: not a file: {hint}")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the ledger ({exc.strerror})") from None
    if head != SQLITE_HEADER:
        what = "an empty file" if not head else "not an SQLite file"
        raise LedgerError(f"{path}: not a sipas-scan ledger ({what}): {hint}")
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables >= _TABLES:
                what = "a results database" if "pages" in tables else "an SQLite file of something else"
                raise LedgerError(f"{path}: not a sipas-scan ledger ({what}): {hint}")
            version = _value(db.execute("PRAGMA user_version"))
            if version > len(Ledger.MIGRATIONS):
                raise LedgerError(f"{path}: ledger written by a newer sipas-scan (schema {version})")
            return _value(db.execute("SELECT count(*) FROM issued"))
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path}: not a usable sipas-scan ledger ({exc})") from None


class NoLedger(LedgerError):
    """No ledger where one was to be opened (and none made)."""


@dataclass(frozen=True)
class IssuedForm:
    serial: str
    household: Household


@dataclass(frozen=True)
class PrintRun:
    id: int
    forms: list[IssuedForm]


class _LedgerFile(SqliteFile):
    MIGRATIONS = [_SCHEMA]
    ERROR = LedgerError
    WHAT = "ledger"


class _ServerLedger:
    """The ledger's tables in a PostgreSQL database, through psycopg; the
    server's refusals become one-line LedgerErrors."""

    def __init__(self, url: str, *, create: bool):
        self.name = ledger_name(url)
        self.db = _connect(url)
        try:
            with self._refusals("cannot use the ledger"):
                if not _server_tables(self.db) >= _TABLES:
                    if not create:
                        raise NoLedger(f"{self.name}: no ledger in this database")
                    with self.db.transaction():
                        self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                        for statement in filter(str.strip, _SERVER_SCHEMA.split(";")):
                            self.db.execute(statement)
        except LedgerError:
            self.db.close()
            raise

    @contextmanager
    def _refusals(self, what: str = "the ledger's database refused") -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise LedgerError(f"{self.name}: {what} ({_first_line(exc)})") from None

    def execute(self, sql: str, args: Iterable = ()) -> psycopg.Cursor:
        with self._refusals():
            return self.db.execute(sql.replace("?", "%s"), tuple(args))

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        with self._refusals(), self.db.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)

    @contextmanager
    def transaction(self) -> Iterator[_ServerLedger]:
        """A write transaction; issuing serials locks the runs table so
        that two print runs anywhere never hand out the same serial."""
        with self._refusals(), self.db.transaction():
            self.execute("LOCK TABLE print_runs IN EXCLUSIVE MODE")
            yield self

    def close(self) -> None:
        self.db.close()


class Ledger:
    """The ledger at ``location``: a SQLite file or a PostgreSQL URL (its
    tables created if new; with ``create`` False, a LedgerError instead:
    opening must not make an empty ledger that would flag every form)."""

    MIGRATIONS = _LedgerFile.MIGRATIONS

    def __init__(self, location: LedgerLocation, *, create: bool = True):
        self.location = location
        if is_url(location):
            self._store: _LedgerFile | _ServerLedger = _ServerLedger(str(location), create=create)
        elif not create and not Path(location).is_file():
            raise NoLedger(f"{location}: no such ledger (moved or deleted?)")
        else:
            self._store = _LedgerFile(Path(location))
        self.db: Any = self._store.db if isinstance(self._store, _LedgerFile) else self._store

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[Any]:
        """A write transaction holding the ledger's write lock."""
        return self._store.transaction()

    @contextmanager
    def issuing(self, survey_id: str, survey_version: str, households: list[Household], out_dir: Path) -> Iterator[PrintRun]:
        """Allocate the next serials for ``households``, in order.

        The allocation commits only if the body (rendering the forms) finishes;
        a failed run issues nothing. The write lock is held meanwhile, so two
        print runs cannot hand out the same serial.
        """
        with self.transaction() as db:
            last = _value(db.execute("SELECT COALESCE(MAX(number), 0) FROM issued WHERE survey_id = ?", (survey_id,)))
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            run_id = _value(
                db.execute(
                    "INSERT INTO print_runs (survey_id, survey_version, created_at, out_dir, forms)"
                    " VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (survey_id, survey_version, now, str(out_dir), len(households)),
                )
            )
            forms = [IssuedForm(make_serial(last + i), h) for i, h in enumerate(households, start=1)]
            db.executemany(
                "INSERT INTO issued (survey_id, serial, number, run_id, province, district, commune, village,"
                " household_code, head_name, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        survey_id,
                        f.serial,
                        last + i,
                        run_id,
                        *f.household.village_key,
                        f.household.household_code,
                        f.household.head_name,
                        f.household.address,
                    )
                    for i, f in enumerate(forms, start=1)
                ],
            )
            yield PrintRun(run_id, forms)

    def issued(self, survey_id: str) -> dict[str, IssuedForm]:
        """Every serial issued for one survey, in issue order."""
        return {serial: form for (_, serial), form in self.all_issued(survey_id).items()}

    def all_issued(self, survey_id: str | None = None) -> dict[tuple[str, str], IssuedForm]:
        """(survey id, serial) -> the issued form, for every survey (or one), in issue order."""
        where, args = (" WHERE survey_id = ?", (survey_id,)) if survey_id is not None else ("", ())
        return self._issued(f"{where} ORDER BY survey_id, number", args)

    def issued_to(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], IssuedForm]:
        """(survey id, serial) -> the issued form, for those of ``keys`` issued."""
        by_survey: dict[str, list[str]] = {}
        for survey_id, serial in sorted(set(keys)):
            by_survey.setdefault(survey_id, []).append(serial)
        found: dict[tuple[str, str], IssuedForm] = {}
        for survey_id, serials in by_survey.items():
            for start in range(0, len(serials), ISSUED_TO_CHUNK):
                chunk = serials[start : start + ISSUED_TO_CHUNK]
                found.update(self._issued(f" WHERE survey_id = ? AND serial IN ({', '.join('?' * len(chunk))})", (survey_id, *chunk)))
        return found

    def _issued(self, clause: str, args: tuple) -> dict[tuple[str, str], IssuedForm]:
        rows = self.db.execute(
            f"SELECT survey_id, serial, province, district, commune, village, household_code, head_name, address FROM issued{clause}",
            args,
        )
        return {(r[0], r[1]): IssuedForm(r[1], Household(*r[2:])) for r in rows}

    def is_issued(self, survey_id: str, serial: str) -> bool:
        return self.db.execute("SELECT 1 FROM issued WHERE survey_id = ? AND serial = ?", (survey_id, serial)).fetchone() is not None

    def holding_serials(self, survey_id: str, households: Iterable[Household]) -> list[Household]:
        """Those of ``households`` already issued a serial of this survey (a
        reprint), in the order given."""
        held = {
            tuple(r)
            for r in self.db.execute(
                "SELECT province, district, commune, village, household_code FROM issued WHERE survey_id = ?", (survey_id,)
            )
        }
        return [h for h in households if (*h.village_key, h.household_code) in held]


def is_ledger_file(path: Path) -> bool:
    """Whether ``path`` is a ledger file (rather than a results database)."""
    try:
        check_ledger(path)
    except LedgerError:
        return False
    return True


def copy_ledger(source: LedgerLocation, destination: LedgerLocation) -> dict[str, int]:
    """Copy every print run and issued serial of ``source`` into
    ``destination``, which must hold none (a laptop's ledger file into the
    shared database); ids are kept. Returns the rows copied per table."""
    check_ledger(source)
    copied: dict[str, int] = {}
    with Ledger(source) as src, Ledger(destination) as dst, dst.transaction() as db:
        held = _value(db.execute("SELECT count(*) FROM print_runs"))
        if held:
            raise LedgerError(f"{ledger_name(destination)}: already holds {held} print runs; copy into a ledger without any")
        for table in ("print_runs", "issued"):  # runs before the serials that name them
            cursor = src.db.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
            columns = [d[0] for d in cursor.description]
            rows = [tuple(r) for r in cursor]
            db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
            copied[table] = len(rows)
        if is_url(destination):  # run ids go on after the copied ones
            db.execute(
                "SELECT setval(pg_get_serial_sequence('print_runs', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM print_runs"
            )
    return copied
