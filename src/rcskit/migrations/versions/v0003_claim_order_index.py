"""Claims walk a campaign's recipients of one status in line order: index them in that order.

A worker claims ``WHERE campaign_id = ? AND status = ? ... ORDER BY line_number LIMIT n``. On
the (campaign_id, status) index the database had to read every recipient of the status and sort
them for each claim (a million at the start of a large campaign); on (campaign_id, status,
line_number) it reads them in order and stops after ``n`` free ones. The new index serves
every query the old one did, so the old one is dropped (no extra cost per write).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Replace ``(campaign_id, status)`` by ``(campaign_id, status, line_number)``."""
    op.create_index(
        "ix_campaign_recipients_campaign_id_status_line_number",
        "campaign_recipients",
        ["campaign_id", "status", "line_number"],
    )
    op.drop_index("ix_campaign_recipients_campaign_id_status", "campaign_recipients")


def downgrade() -> None:
    """Back to the ``(campaign_id, status)`` index."""
    op.create_index(
        "ix_campaign_recipients_campaign_id_status",
        "campaign_recipients",
        ["campaign_id", "status"],
    )
    op.drop_index("ix_campaign_recipients_campaign_id_status_line_number", "campaign_recipients")
