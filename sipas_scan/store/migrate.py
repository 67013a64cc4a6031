"""Bring a results database to the latest schema with Alembic, run from
here (the revisions ship in store/migrations/; no alembic.ini).

A new database is created at the latest revision. A SQLite file from before
Alembic (schema versioned by PRAGMA user_version) is brought to the last of
those versions by its own scripts (store/legacy.py), stamped with the
baseline revision, which is that same schema, and upgraded from there. On
SQLite, PRAGMA user_version stays at the last pre-Alembic version plus one
per revision after the baseline, so an older sipas-scan refuses a file it
does not know rather than misread it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from sipas_scan.store.engine import Database
from sipas_scan.store.legacy import LEGACY_MIGRATIONS, LEGACY_VERSION

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BASELINE = "0001"


class NewerSchema(Exception):
    """The database was written by a newer sipas-scan (its revision or version)."""


def _config(db: Database | None = None) -> Config:
    # Alembic is imported only to migrate: every command opens a store, few migrate one.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db is not None:
        config.attributes["connection"] = db.connection
    return config


@functools.cache
def _revisions() -> tuple[str, ...]:
    """Every revision, oldest first. Read from the file names (``NNNN_what.py``,
    the revision id first; a test holds them to Alembic's own reading), so
    opening a store that is up to date needs no Alembic."""
    return tuple(sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")))


def alembic_revisions() -> tuple[str, ...]:
    """Every revision as Alembic reads the scripts, oldest first."""
    from alembic.script import ScriptDirectory

    return tuple(reversed([r.revision for r in ScriptDirectory.from_config(_config()).walk_revisions()]))


def head() -> str:
    return _revisions()[-1]


def sqlite_user_version() -> int:
    return LEGACY_VERSION + len(_revisions()) - 1


def current(db: Database) -> str | None:
    """The database's revision; None when Alembic never ran on it."""
    if not sa.inspect(db.connection).has_table("alembic_version"):
        return None
    return db.query("SELECT version_num FROM alembic_version").scalar()


def is_current(db: Database) -> bool:
    revision = current(db)
    if revision is not None and revision not in _revisions():
        raise NewerSchema(f"revision {revision}")
    return revision == head()


def version_of(db: Database) -> str:
    """The database's schema, for messages."""
    revision = current(db)
    if revision is not None:
        return f"revision {revision}"
    if db.dialect.name == "sqlite":
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version:
            return f"schema {version} (before Alembic)"
    return "empty"


def upgrade(db: Database) -> None:
    """Migrate to the latest revision; the caller holds a write transaction
    on ``db`` and has checked ``is_current`` again inside it."""
    from alembic import command

    config = _config(db)
    if current(db) is None and db.dialect.name == "sqlite":
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > LEGACY_VERSION:
            raise NewerSchema(f"schema {version}")
        if version > 0:
            for number, script in enumerate(LEGACY_MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")
            command.stamp(config, BASELINE)
    command.upgrade(config, "head")
    if db.dialect.name == "sqlite":
        db.execute(f"PRAGMA user_version={sqlite_user_version()}")
