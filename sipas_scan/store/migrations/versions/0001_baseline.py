"""The baseline: the schema of the last PRAGMA user_version (4) of the
SQLite-only store, for every engine. A file at that version is stamped with
this revision rather than migrated.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Text sorts by code point on PostgreSQL, as SQLite's BINARY does.
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("survey", TEXT, nullable=False),
        sa.Column("serial", TEXT, nullable=False),
        sa.Column("field_id", TEXT, nullable=False),
        sa.Column("value", TEXT, nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("survey", "serial", "field_id"),
    )
    op.create_table(
        "claims",
        sa.Column("sha256", TEXT, nullable=False),
        sa.Column("owner", TEXT, nullable=False),
        sa.Column("host", TEXT, nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("renewed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", TEXT, nullable=False),
        sa.Column("serial", TEXT, nullable=False),
        sa.Column("field_id", TEXT, server_default="", nullable=False),
        sa.Column("old_value", TEXT, nullable=True),
        sa.Column("new_value", TEXT, nullable=True),
        sa.Column("reviewer", TEXT, nullable=False),
        sa.Column("at", TEXT, nullable=False),
        sa.Column("reason", TEXT, server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("decisions_key", ["survey", "serial", "field_id"], unique=False)

    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", TEXT, nullable=False),
        sa.Column("serial", TEXT, nullable=False),
        sa.Column("field_id", TEXT, server_default="", nullable=False),
        sa.Column("reason", TEXT, nullable=False),
        sa.Column("confidence", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("detail", TEXT, server_default="", nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("blocking", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("page_no", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("item", TEXT, server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index("flags_form", ["survey", "serial"], unique=False)

    op.create_table(
        "forms",
        sa.Column("survey", TEXT, nullable=False),
        sa.Column("serial", TEXT, nullable=False),
        sa.Column("status", TEXT, nullable=False),
        sa.Column("household_code", TEXT, server_default="", nullable=False),
        sa.Column("province", TEXT, server_default="", nullable=False),
        sa.Column("district", TEXT, server_default="", nullable=False),
        sa.Column("commune", TEXT, server_default="", nullable=False),
        sa.Column("village", TEXT, server_default="", nullable=False),
        sa.Column("issued", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("derived_through", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("survey", "serial"),
    )
    op.create_table(
        "leases",
        sa.Column("item", TEXT, nullable=False),
        sa.Column("reviewer", TEXT, nullable=False),
        sa.Column("expires_at", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("item"),
    )
    op.create_table(
        "qc_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drawn_by", TEXT, nullable=False),
        sa.Column("at", TEXT, nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", TEXT, nullable=False),
        sa.Column("user", TEXT, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("active_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("sessions_user", ["user"], unique=False)

    op.create_table(
        "source_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", TEXT, nullable=False),
        sa.Column("reason", TEXT, nullable=False),
        sa.Column("detail", TEXT, nullable=False),
        sa.Column("at", TEXT, nullable=False),
        sa.Column("cleared_at", TEXT, server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("source_failures", schema=None) as batch_op:
        batch_op.create_index("source_failures_path", ["path"], unique=False)

    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", TEXT, nullable=False),
        sa.Column("sha256", TEXT, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("pages", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", TEXT, nullable=False),
        sa.Column("reason", TEXT, server_default="", nullable=False),
        sa.Column("detail", TEXT, server_default="", nullable=False),
        sa.Column("added_at", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "users",
        sa.Column("name", TEXT, nullable=False),
        sa.Column("role", TEXT, nullable=False),
        sa.Column("password_hash", TEXT, nullable=False),
        sa.Column("created_at", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("status", TEXT, nullable=False),
        sa.Column("reason", TEXT, server_default="", nullable=False),
        sa.Column("detail", TEXT, server_default="", nullable=False),
        sa.Column("survey", TEXT, server_default="", nullable=False),
        sa.Column("serial", TEXT, server_default="", nullable=False),
        sa.Column("page_no", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("orientation", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("residual_mm", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("dpi", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("image_path", TEXT, server_default="", nullable=False),
        sa.Column("readings", TEXT, server_default="{}", nullable=False),
        sa.Column("read_at", TEXT, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "page_index"),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index("pages_serial", ["survey", "serial", "page_no"], unique=False)

    op.create_table(
        "qc_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("survey", TEXT, nullable=False),
        sa.Column("serial", TEXT, nullable=False),
        sa.Column("field_id", TEXT, nullable=False),
        sa.Column("value", TEXT, nullable=False),
        sa.Column("machine_value", TEXT, nullable=False),
        sa.Column("reviewer", TEXT, nullable=False),
        sa.Column("at", TEXT, nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["qc_samples.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_id", "survey", "serial", "field_id"),
    )
    op.create_table(
        "qc_forms",
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("survey", TEXT, nullable=False),
        sa.Column("serial", TEXT, nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["qc_samples.id"],
        ),
        sa.PrimaryKeyConstraint("sample_id", "survey", "serial"),
    )


def downgrade() -> None:
    op.drop_table("qc_forms")
    op.drop_table("qc_entries")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("pages_serial")

    op.drop_table("pages")
    op.drop_table("users")
    op.drop_table("sources")
    with op.batch_alter_table("source_failures", schema=None) as batch_op:
        batch_op.drop_index("source_failures_path")

    op.drop_table("source_failures")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("sessions_user")

    op.drop_table("sessions")
    op.drop_table("qc_samples")
    op.drop_table("leases")
    op.drop_table("forms")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index("flags_form")

    op.drop_table("flags")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("decisions_key")

    op.drop_table("decisions")
    op.drop_table("claims")
    op.drop_table("answers")
