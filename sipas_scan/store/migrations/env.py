"""Alembic's entry point for the results database. sipas-scan runs it itself
(sipas_scan.store.migrate), on a connection whose transaction the caller
holds, so no alembic.ini is needed and two processes migrating one new
database at once follow one another."""

from __future__ import annotations

from alembic import context

from sipas_scan.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
context.run_migrations()
