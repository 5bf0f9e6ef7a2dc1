"""The tables, as SQLAlchemy Core metadata (the migrations create exactly these; a test checks).

Times are stored in UTC: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite, and always
read back as aware UTC datetimes (:class:`UtcDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UtcDateTime",
    "billing_events",
    "campaign_recipients",
    "campaigns",
    "capability_results",
    "inbound_messages",
    "message_history",
    "metadata",
    "outbound_messages",
    "workers",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)
"""All rcskit tables."""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive values are refused (they name no instant)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive UTC on SQLite, which has no time zone type)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime names no instant: {value!r}; give a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


def _serial() -> Any:
    """An auto-incrementing integer key (INTEGER on SQLite so that it aliases the rowid)."""
    return BigInteger().with_variant(Integer(), "sqlite")


campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=True),
    Column("template", String(200), nullable=True),
    Column("tps", Float, nullable=True),
    Column("starts_at", UtcDateTime, nullable=True),
    Column("quiet_hours", String(32), nullable=True),
    Column("options", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    Column("campaign_id", String(64), ForeignKey("campaigns.id"), nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("msisdn", String(32), nullable=True),
    Column("params", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("due_at", UtcDateTime, nullable=True),
    Column("claim_owner", String(128), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("fence", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("campaign_id", "line_number"),
    UniqueConstraint("campaign_id", "msisdn"),
    Index(None, "campaign_id", "status", "line_number"),
)

outbound_messages = Table(
    "outbound_messages",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("campaign_id", String(64), ForeignKey("campaigns.id"), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("provider_message_id", String(128), nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("last_error_code", String(64), nullable=True),
    Column("last_error_reason", Text, nullable=True),
    Column("due_at", UtcDateTime, nullable=True),
    Column("claim_owner", String(128), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Index(None, "campaign_id", "state"),
    Index(None, "provider", "provider_message_id", **_where("provider_message_id IS NOT NULL")),
    Index(None, "recipient"),
    Index(None, "created_at"),
    Index(
        "ix_outbound_messages_pending_created_at_id",
        "created_at",
        "id",
        **_where("state = 'pending'"),
    ),
)
"""Each index costs an entry when a message is recorded and another at its outcome (never a
HOT update: it sets the provider's message id), so only those a query needs at scale are
kept (migration 0004 says which query needs which): the campaign's messages by state; the
provider's message ids, where there is one (from the outcome on); a number's messages; the
newest first; the ``pending`` messages oldest first (a relay's claim), which an ended message
leaves."""

message_history = Table(
    "message_history",
    metadata,
    Column("id", _serial(), primary_key=True, autoincrement=True),
    Column("message_id", String(128), ForeignKey("outbound_messages.id"), nullable=True),
    Column("provider", String(32), nullable=False),
    Column("provider_message_id", String(128), nullable=True),
    Column("recipient", String(64), nullable=True),
    Column("status", String(64), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=True),
    Column("moved", Boolean, nullable=False),
    Column("source", String(32), nullable=False),
    Column("reason", Text, nullable=True),
    Column("code", String(64), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index(None, "message_id", "id"),
    Index(None, "provider", "provider_message_id", **_where("message_id IS NULL")),
)
"""Indexed by message, and by provider id only for the statuses that wait for their message
(``message_id IS NULL``: the only rows looked up by provider id)."""

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", _serial(), primary_key=True, autoincrement=True),
    Column("dedup_key", String(512), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sender", String(64), nullable=True),
    Column("provider_message_id", String(128), nullable=True),
    Column("in_reply_to", String(128), nullable=True),
    Column("text", Text, nullable=True),
    Column("postback_data", Text, nullable=True),
    Column("occurred_at", UtcDateTime, nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("dedup_key"),
    Index(None, "sender"),
    Index(None, "in_reply_to"),
)

billing_events = Table(
    "billing_events",
    metadata,
    Column("id", _serial(), primary_key=True, autoincrement=True),
    Column("dedup_key", String(512), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("provider_message_id", String(128), nullable=True),
    Column("billing_event_id", String(128), nullable=True),
    Column("action", String(64), nullable=True),
    Column("billing_type", String(64), nullable=True),
    Column("category", String(64), nullable=True),
    Column("recipient", String(64), nullable=True),
    Column("time_text", String(64), nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("dedup_key"),
    Index(None, "provider_message_id"),
)

capability_results = Table(
    "capability_results",
    metadata,
    Column("provider", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("rcs", Boolean, nullable=False),
    Column("features", JSON, nullable=True),
    Column("checked_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("provider", "number"),
    Index(None, "provider", "checked_at"),
)

workers = Table(
    "workers",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("campaign_id", String(64), nullable=True),
    Column("shared_limiter", Boolean, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Index(None, "seen_at"),
)
"""Live campaign workers: each beats every few seconds (``seen_at``); a row not seen for
:data:`~rcskit.store.workers.WORKER_TIMEOUT_S` is dead and the reaper removes it."""
