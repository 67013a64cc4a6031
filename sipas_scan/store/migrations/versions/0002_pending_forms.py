"""Forms waiting to be derived: a scan derives only the forms whose pages it
changed, so a batch costs the same however much is stored.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_forms",
        sa.Column("survey", TEXT, nullable=False),
        sa.Column("serial", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("survey", "serial"),
    )


def downgrade() -> None:
    op.drop_table("pending_forms")
