"""Copy a results database to another (a laptop's SQLite file into the
shared PostgreSQL database, or any engine to any): every table, parents
before children, in one transaction on the destination, which must be
empty. Rows keep their ids, so decisions still name their pages. Page
images an older version kept as files beside a SQLite file are read into
the destination's page_images table: the copy needs nothing of the
source's folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from sipas_scan.errors import BadArgsError, OutputFileError
from sipas_scan.store.db import IMAGE_IN_DATABASE, Store
from sipas_scan.store.engine import Database, database_url
from sipas_scan.store.schema import metadata

BATCH_ROWS = 2000


@dataclass(frozen=True)
class CopySummary:
    rows: dict[str, int]  # table -> rows copied, in the order copied
    images_from_files: int = 0  # page images read from files beside the source into page_images

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _same(a: Path | str, b: Path | str) -> bool:
    url_a, url_b = database_url(a), database_url(b)
    if url_a.get_backend_name() == url_b.get_backend_name() == "sqlite":
        return Path(url_a.database or "").resolve() == Path(url_b.database or "").resolve()
    return url_a.render_as_string(hide_password=False) == url_b.render_as_string(hide_password=False)


def table_rows(store: Store, table: sa.Table) -> sa.Result:
    """A table's rows in primary-key order."""
    return store.db.execute(sa.select(table).order_by(*table.primary_key.columns))


def row_counts(store: Store) -> dict[str, int]:
    return {t.name: store.db.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


def copy_database(source: Path | str, destination: Path | str, progress: Callable[[str, int], None] | None = None) -> CopySummary:
    """Copy every row of ``source`` into the empty database ``destination``
    (created, or migrated, to the latest schema first; so is the source)."""
    if _same(source, destination):
        raise BadArgsError("the source and the destination are the same database")
    copied: dict[str, int] = {}
    from_files = 0
    with Store(source) as src, Store(destination) as dst, src.snapshot(), dst.transaction() as db:
        filled = {name: n for name, n in row_counts(dst).items() if n}
        if filled:
            raise OutputFileError(
                f"{dst.where}: not empty ({', '.join(f'{n} {name}' for name, n in filled.items())}); copy into a new database"
            )
        # The images first: pages whose images were files add theirs beside them.
        for table in sorted(metadata.sorted_tables, key=lambda t: t.name != "page_images"):
            count = 0
            rows = table_rows(src, table)
            while batch := rows.fetchmany(BATCH_ROWS):
                values = [dict(row._mapping) for row in batch]
                if table.name == "pages":
                    for page in values:
                        held = page["image_path"]
                        page["image_path"] = _image_into(src, db, held)
                        from_files += page["image_path"] != held
                db.execute(sa.insert(table), values)
                count += len(batch)
            copied[table.name] = count
            if progress:
                progress(table.name, count)
        if db.dialect.name == "postgresql":
            _restart_sequences(dst)
    return CopySummary(copied, from_files)


def _image_into(source: Store, db: Database, stored: str) -> str:
    """A page's image as the destination names it: an image in the source
    database was copied with its table; a file beside the source is read
    into the destination (a file gone missing keeps its path, and the page
    shows no image, as it did in the source)."""
    if not stored or stored.startswith(IMAGE_IN_DATABASE):
        return stored
    try:
        jpeg = source.resolve(stored).read_bytes()
    except OSError:
        return stored
    return Store.store_image(db, jpeg)


def _restart_sequences(store: Store) -> None:
    """Rows came with their ids: each id sequence continues after the largest."""
    for table in metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        store.db.query(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
            f" coalesce(max({column.name}), 1), max({column.name}) IS NOT NULL) FROM {table.name}"
        )
