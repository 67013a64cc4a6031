"""What the project's SQLite files share: WAL, a busy timeout, IMMEDIATE
write transactions, and a schema versioned by PRAGMA user_version that is
migrated forward (the issued-serials ledger). The results store does the
same through SQLAlchemy (store/engine.py, Alembic migrations) and shares
the writers' lock below.

Writers in one process (the review app's request threads) queue for a
file's write lock in Python before asking SQLite: SQLite's own wait polls
with growing sleeps, so under steady writes one writer could miss the lock
for the whole busy timeout while newcomers took it (20 reviewers at once
saw 30 s stalls). Other processes still meet the busy timeout."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sipas_scan.errors import SipasError

if TYPE_CHECKING:
    import sqlalchemy as sa

BUSY_TIMEOUT_S = 30


def is_url(location: str | Path) -> bool:
    """Whether a database location (``--db``, ``--ledger``) is a server's URL rather than a file."""
    return "://" in str(location)


def shown_url(url: str | sa.URL) -> str:
    """A database URL as messages show it: without its password."""
    import sqlalchemy as sa  # only for a server's URL

    return sa.make_url(url).render_as_string(hide_password=True)


class _Writer:
    """The lock the writers of this process take, one per file, and which
    thread holds it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: int | None = None


_writers: dict[str, _Writer] = {}
_writers_guard = threading.Lock()


def writer_of(key: str) -> _Writer:
    """The writers' lock of this process for one database (a resolved file
    path, or a server database's URL)."""
    with _writers_guard:
        return _writers.setdefault(key, _Writer())


def _writer_of(path: Path) -> _Writer:
    return writer_of(str(path.resolve()))


@contextmanager
def holding(writer: _Writer, error: SipasError) -> Iterator[None]:
    """Hold this process's write lock of a database; ``error`` is raised
    when this thread already holds it through another connection."""
    if writer.thread == threading.get_ident():
        # Another connection of this very thread holds the lock: waiting
        # for it would stall every writer for the busy timeout.
        raise error
    with writer.lock:
        writer.thread = threading.get_ident()
        try:
            yield
        finally:
            writer.thread = None


class SqliteFile:
    """Subclasses set ``MIGRATIONS`` (SQL scripts, one per schema version),
    ``ERROR`` (the exception to raise) and ``WHAT`` (for messages)."""

    MIGRATIONS: list[str] = []
    ERROR: type[SipasError] = SipasError
    WHAT = "database"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._writer = _writer_of(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise self.ERROR(f"{self.path}: not a usable sipas-scan {self.WHAT} ({exc})") from None

    def _version(self) -> int:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(self.MIGRATIONS):
            raise self.ERROR(f"{self.path}: {self.WHAT} written by a newer sipas-scan (schema {version})")
        return version

    def _migrate(self) -> None:
        if self._version() == len(self.MIGRATIONS):
            return
        with self.transaction():
            # Read again under the write lock: another process opening the
            # same new file at the same moment may have migrated it meanwhile.
            version = self._version()
            for number, script in enumerate(self.MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the write lock from its start."""
        with holding(self._writer, self.ERROR(f"{self.path}: a write transaction inside another one on a second connection")):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
