"""The initial store: outbox, history, inbound, billing, capabilities, campaigns.

Revision ID: 0001
Revises:
Create Date: 2025-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create every table with its keys and indexes."""
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("template", sa.String(200), nullable=True),
        sa.Column("tps", sa.Float(), nullable=True),
        sa.Column("starts_at", _TS, nullable=True),
        sa.Column("quiet_hours", sa.String(32), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("msisdn", sa.String(32), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("claim_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "line_number", name="pk_campaign_recipients"),
        sa.UniqueConstraint(
            "campaign_id", "msisdn", name="uq_campaign_recipients_campaign_id_msisdn"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_campaign_recipients_campaign_id_campaigns",
        ),
    )
    op.create_index(
        "ix_campaign_recipients_campaign_id_status",
        "campaign_recipients",
        ["campaign_id", "status"],
    )
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("last_error_code", sa.String(64), nullable=True),
        sa.Column("last_error_reason", sa.Text(), nullable=True),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("claim_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_messages"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_outbound_messages_campaign_id_campaigns"
        ),
    )
    for columns in (
        ["state"],
        ["campaign_id", "state"],
        ["campaign_id", "recipient"],
        ["provider", "provider_message_id"],
        ["recipient"],
        ["created_at"],
    ):
        op.create_index(f"ix_outbound_messages_{'_'.join(columns)}", "outbound_messages", columns)
    op.create_table(
        "message_history",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("recipient", sa.String(64), nullable=True),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("moved", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_history"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbound_messages.id"],
            name="fk_message_history_message_id_outbound_messages",
        ),
    )
    op.create_index("ix_message_history_message_id_id", "message_history", ["message_id", "id"])
    op.create_index(
        "ix_message_history_provider_provider_message_id",
        "message_history",
        ["provider", "provider_message_id"],
    )
    op.create_table(
        "inbound_messages",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(512), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sender", sa.String(64), nullable=True),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("in_reply_to", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("postback_data", sa.Text(), nullable=True),
        sa.Column("occurred_at", _TS, nullable=True),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("dedup_key", name="uq_inbound_messages_dedup_key"),
    )
    op.create_index("ix_inbound_messages_sender", "inbound_messages", ["sender"])
    op.create_index("ix_inbound_messages_in_reply_to", "inbound_messages", ["in_reply_to"])
    op.create_table(
        "billing_events",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(512), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("billing_event_id", sa.String(128), nullable=True),
        sa.Column("action", sa.String(64), nullable=True),
        sa.Column("billing_type", sa.String(64), nullable=True),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("recipient", sa.String(64), nullable=True),
        sa.Column("time_text", sa.String(64), nullable=True),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_billing_events"),
        sa.UniqueConstraint("dedup_key", name="uq_billing_events_dedup_key"),
    )
    op.create_index(
        "ix_billing_events_provider_message_id", "billing_events", ["provider_message_id"]
    )
    op.create_table(
        "capability_results",
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("rcs", sa.Boolean(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.Column("checked_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("provider", "number", name="pk_capability_results"),
    )
    op.create_index(
        "ix_capability_results_provider_checked_at",
        "capability_results",
        ["provider", "checked_at"],
    )


def downgrade() -> None:
    """Drop every table (their data with them)."""
    for table in (
        "capability_results",
        "billing_events",
        "inbound_messages",
        "message_history",
        "outbound_messages",
        "campaign_recipients",
        "campaigns",
    ):
        op.drop_table(table)
