"""Many workers: a fence on every recipient claim, and the table of live workers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add ``campaign_recipients.fence`` and create ``workers``."""
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.add_column(
            sa.Column("fence", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("shared_limiter", sa.Boolean(), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("seen_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workers"),
    )
    op.create_index("ix_workers_seen_at", "workers", ["seen_at"])


def downgrade() -> None:
    """Drop ``workers`` and the fence."""
    op.drop_index("ix_workers_seen_at", "workers")
    op.drop_table("workers")
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.drop_column("fence")
