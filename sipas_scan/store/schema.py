"""The results database's tables, defined once for every engine (SQLite,
PostgreSQL). Alembic migrations (store/migrations/) create and change them;
this module is the schema at the latest revision.

Text columns sort by code point on PostgreSQL (collation "C"), as SQLite's
BINARY does: an export lists forms in the same order on either engine."""

from __future__ import annotations

import sqlalchemy as sa

Text = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _text(name: str, *, default: bool = True, primary_key: bool = False, unique: bool = False) -> sa.Column:
    """A NOT NULL text column, empty by default unless ``default`` is False."""
    return sa.Column(name, Text, nullable=False, server_default="" if default else None, primary_key=primary_key, unique=unique)


def _int(name: str, default: int | None = 0) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default=None if default is None else sa.text(str(default)))


def _real(name: str, default: float | None = 0) -> sa.Column:
    return sa.Column(name, sa.Float, nullable=False, server_default=None if default is None else sa.text(str(default)))


metadata = sa.MetaData()

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _text("path", default=False),
    _text("sha256", default=False, unique=True),
    _int("size", None),
    _text("kind", default=False),
    _int("pages"),
    _text("status", default=False),  # reading | done | failed
    _text("reason"),
    _text("detail"),
    _text("added_at", default=False),
)

source_failures = sa.Table(
    "source_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _text("path", default=False),
    _text("reason", default=False),
    _text("detail", default=False),
    _text("at", default=False),
    _text("cleared_at"),
    sa.Index("source_failures_path", "path"),
)

pages = sa.Table(
    "pages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    _int("page_index", None),
    _text("status", default=False),  # ok | quarantined
    _text("reason"),
    _text("detail"),
    _text("survey"),
    _text("serial"),
    _int("page_no"),
    _int("orientation"),
    _real("residual_mm"),
    _real("dpi"),
    _text("image_path"),
    sa.Column("readings", Text, nullable=False, server_default="{}"),
    _text("read_at", default=False),
    sa.UniqueConstraint("source_id", "page_index"),
    sa.Index("pages_serial", "survey", "serial", "page_no"),
)

forms = sa.Table(
    "forms",
    metadata,
    _text("survey", default=False, primary_key=True),
    _text("serial", default=False, primary_key=True),
    _text("status", default=False),  # accepted | needs_review | resolved | rejected
    _text("household_code"),
    _text("province"),
    _text("district"),
    _text("commune"),
    _text("village"),
    _int("issued", 1),
    _int("derived_through"),  # the last decision its derivation saw
)

answers = sa.Table(
    "answers",
    metadata,
    _text("survey", default=False, primary_key=True),
    _text("serial", default=False, primary_key=True),
    _text("field_id", default=False, primary_key=True),
    _text("value", default=False),
    _real("confidence", None),
    sa.Column("page_id", sa.Integer),
)

flags = sa.Table(
    "flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _text("survey", default=False),
    _text("serial", default=False),
    _text("field_id"),  # '' for a form-level flag
    _text("reason", default=False),
    _real("confidence"),
    _text("detail"),
    sa.Column("page_id", sa.Integer),
    _int("blocking", 1),  # 0: recorded for the record, needs no review
    _int("page_no"),
    _text("item"),  # the decision key that settles it
    sa.Index("flags_form", "survey", "serial"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _text("survey", default=False),
    _text("serial", default=False),
    _text("field_id"),
    sa.Column("old_value", Text),
    sa.Column("new_value", Text),
    _text("reviewer", default=False),
    _text("at", default=False),
    _text("reason"),
    sa.Index("decisions_key", "survey", "serial", "field_id"),
)

users = sa.Table(
    "users",
    metadata,
    _text("name", default=False, primary_key=True),
    _text("role", default=False),  # reviewer | supervisor
    _text("password_hash", default=False),
    _text("created_at", default=False),
)

leases = sa.Table(
    "leases",
    metadata,
    _text("item", default=False, primary_key=True),  # survey|serial|key
    _text("reviewer", default=False),
    _text("expires_at", default=False),
)

qc_samples = sa.Table(
    "qc_samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _text("drawn_by", default=False),
    _text("at", default=False),
    _int("seed", None),
)

qc_forms = sa.Table(
    "qc_forms",
    metadata,
    sa.Column("sample_id", sa.Integer, sa.ForeignKey("qc_samples.id"), primary_key=True),
    _text("survey", default=False, primary_key=True),
    _text("serial", default=False, primary_key=True),
)

qc_entries = sa.Table(
    "qc_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sample_id", sa.Integer, sa.ForeignKey("qc_samples.id"), nullable=False),
    _text("survey", default=False),
    _text("serial", default=False),
    _text("field_id", default=False),
    _text("value", default=False),
    _text("machine_value", default=False),
    _text("reviewer", default=False),
    _text("at", default=False),
    sa.UniqueConstraint("sample_id", "survey", "serial", "field_id"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    _text("id", default=False, primary_key=True),  # SHA-256 of the browser's token, never the token
    _text("user", default=False),
    _real("created_at", None),  # Unix seconds
    _real("active_at", None),  # the user's last action (not background lease renewals)
    sa.Index("sessions_user", "user"),
)

claims = sa.Table(
    "claims",
    metadata,
    _text("sha256", default=False, primary_key=True),
    _text("owner", default=False),  # host:pid:token of the scan run
    _text("host", default=False),
    _int("pid", None),
    _real("renewed_at", None),  # Unix seconds
)

pending_forms = sa.Table(
    "pending_forms",
    metadata,
    # A form whose pages changed (stored, forgotten, assigned) since it was
    # last derived. Written in the page's own transaction and cleared in the
    # derivation's, so a run killed in between leaves the form to the next.
    _text("survey", default=False, primary_key=True),
    _text("serial", default=False, primary_key=True),
)

page_images = sa.Table(
    "page_images",
    metadata,
    # Each stored page's image (JPEG), named by its SHA-256: in the database,
    # so the review server shows pages without reaching a station's disk.
    # pages.image_path holds "sha256:<hex>" for these (a file path for
    # pages stored before, beside a SQLite file).
    _text("sha256", default=False, primary_key=True),
    sa.Column("jpeg", sa.LargeBinary, nullable=False),
)
