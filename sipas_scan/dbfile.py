"""What the project's SQLite files share: WAL, a busy timeout, IMMEDIATE
write transactions, and a schema versioned by PRAGMA user_version that is
migrated forward (the issued-serials ledger and the results store)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sipas_scan.errors import SipasError

BUSY_TIMEOUT_S = 30


class SqliteFile:
    """Subclasses set ``MIGRATIONS`` (SQL scripts, one per schema version),
    ``ERROR`` (the exception to raise) and ``WHAT`` (for messages)."""

    MIGRATIONS: list[str] = []
    ERROR: type[SipasError] = SipasError
    WHAT = "database"

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise self.ERROR(f"{self.path}: not a usable sipas-scan {self.WHAT} ({exc})") from None

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(self.MIGRATIONS):
            raise self.ERROR(f"{self.path}: {self.WHAT} written by a newer sipas-scan (schema {version})")
        for number, script in enumerate(self.MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in filter(str.strip, script.split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the write lock from its start."""
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
