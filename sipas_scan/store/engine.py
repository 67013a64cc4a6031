"""Where the results database lives and how to talk to it: a SQLite file
(the embedded default) or a PostgreSQL server, through SQLAlchemy.

``--db`` takes a file path or a URL (``postgresql://user@host/sipas``, the
psycopg 3 driver is chosen for it). The connection runs in autocommit and
the store opens its transactions itself, as the SQLite code always did:

- SQLite: WAL, a busy timeout, foreign keys on (set on every new connection
  by an engine hook); writers BEGIN IMMEDIATE so they queue for the lock at
  the start rather than fail half-way; readers that must see one state
  BEGIN DEFERRED (a WAL snapshot).
- PostgreSQL: writers take one transaction-level advisory lock, so they
  follow one another as SQLite's do (the store's read-then-write steps stay
  correct with several stations); readers use REPEATABLE READ for a snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from sipas_scan.dbfile import BUSY_TIMEOUT_S, is_url, shown_url

ENV_DB = "SIPAS_DB"
# Any number that is the same in every sipas-scan process: the key of the
# advisory lock PostgreSQL writers take (see the module's docstring).
WRITERS_LOCK = 0x51DA5


def database_url(location: str | Path) -> sa.URL:
    """The SQLAlchemy URL of a file path or a database URL; PostgreSQL URLs
    get the psycopg 3 driver."""
    if not is_url(location):
        return sa.URL.create("sqlite+pysqlite", database=str(Path(location)))
    url = sa.make_url(str(location))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def describe(location: str | Path) -> str:
    """The location as shown in messages: a URL without its password."""
    return shown_url(database_url(location)) if is_url(location) else str(location)


@dataclass(frozen=True)
class Dialect:
    """The statements that differ between engines."""

    name: str
    begin_write: tuple[str, ...]
    begin_snapshot: tuple[str, ...]


DIALECTS = {
    "sqlite": Dialect("sqlite", ("BEGIN IMMEDIATE",), ("BEGIN DEFERRED",)),
    "postgresql": Dialect(
        "postgresql", ("BEGIN", f"SELECT pg_advisory_xact_lock({WRITERS_LOCK})"), ("BEGIN ISOLATION LEVEL REPEATABLE READ",)
    ),
}


SQLITE_CACHE_KIB = 64 * 1024  # page cache per connection, allocated as used


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A database of tens of thousands of forms is gigabytes: SQLite's default
    # 2 MiB page cache re-reads the indexes a batch walks for every form.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


_engines: dict[str, sa.Engine] = {}


def engine_for(url: sa.URL) -> sa.Engine:
    """One engine per database and process. SQLite opens a new connection
    each time (a file may be replaced between two opens); PostgreSQL keeps
    a small pool."""
    key = url.render_as_string(hide_password=False)
    engine = _engines.get(key)
    if engine is None:
        if url.get_backend_name() == "sqlite":
            engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={"timeout": BUSY_TIMEOUT_S})
            sa.event.listen(engine, "connect", _sqlite_connected)
        else:
            engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        _engines[key] = engine
    return engine


def _forget_in_child() -> None:
    """A forked child (a scan worker) must not use, nor close, its parent's connections."""
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_in_child)


def dispose_engines() -> None:
    """Close pooled connections (a test's server is about to stop; after a fork)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


class Database:
    """One connection of the store. ``query``/``many`` take dialect-neutral
    ``text()`` SQL with :named parameters; ``execute`` takes a Core
    statement, or (for tests and one-off tools) SQL in the driver's own
    dialect and parameter style."""

    def __init__(self, connection: sa.Connection, dialect: Dialect):
        self.connection = connection
        self.dialect = dialect

    def execute(self, statement: str | sa.Executable, parameters: Any = None) -> Any:
        if isinstance(statement, str):
            return DriverResult(self.connection.exec_driver_sql(statement, tuple(parameters) if parameters else None))
        return self.connection.execute(statement, parameters)

    def query(self, sql: str | sa.TextClause, **parameters: Any) -> sa.CursorResult:
        return self.connection.execute(_text(sql) if isinstance(sql, str) else sql, parameters)

    def rows(self, sql: str | sa.TextClause, **parameters: Any) -> list[tuple]:
        """Every row of a query, as plain tuples."""
        return [tuple(row) for row in self.query(sql, **parameters)]

    def many(self, statement: str | sa.Executable, rows: Iterable[Mapping[str, Any]]) -> None:
        """The statement once per row; nothing for no rows."""
        rows = list(rows)
        if rows:
            self.connection.execute(_text(statement) if isinstance(statement, str) else statement, rows)

    def run(self, statements: tuple[str, ...]) -> None:
        for statement in statements:
            self.connection.exec_driver_sql(statement)

    def close(self) -> None:
        self.connection.close()


class DriverResult:
    """The rows of driver SQL, used as a DB-API cursor is (iterated, fetched;
    no ``keys``, so ``dict(rows)`` pairs its two columns)."""

    def __init__(self, result: sa.CursorResult):
        self._result = result

    def __iter__(self):
        return iter(self._result)

    def fetchone(self) -> Any:
        return self._result.fetchone()

    def fetchall(self) -> list:
        return list(self._result.fetchall())

    @property
    def rowcount(self) -> int:
        return self._result.rowcount

    @property
    def lastrowid(self) -> Any:
        return self._result.lastrowid


_texts: dict[str, sa.TextClause] = {}


def _text(sql: str) -> sa.TextClause:
    """``sa.text``, compiled once per statement (the store runs few, often)."""
    clause = _texts.get(sql)
    if clause is None:
        clause = _texts[sql] = sa.text(sql)
    return clause


def default_location() -> str | None:
    return os.environ.get(ENV_DB) or None
