"""Fewer index entries per message: the outbox and history indexes the queries need, no more.

Every send inserts an outbox row and updates it at its outcome, and that update is never HOT
(it sets the provider's message id, which an index holds): each index of ``outbound_messages``
costs an entry at both, each index of ``message_history`` one per history row. Two of the
seven outbox indexes served no query better than another index:

* ``state``: every query on it but one also names the campaign (``campaign_id, state``
  serves it) or is the listing (``rcskit messages --state``, newest first: ``created_at``);
  the exception, a relay's claim of due ``pending`` rows oldest first, is served by a partial
  index of the ``pending`` rows in that order (``created_at, id``), which holds only the
  messages not ended yet: a row enters it when recorded and leaves it at its outcome without
  a new entry;
* ``campaign_id, recipient``: the report's joins of a campaign's messages with its
  recipients start from the messages of a state (``campaign_id, state``) and find the
  recipients by their key; ``recipient`` serves a lookup by number.

``created_at`` (the newest-first listing, a scan of the whole table without it) and
``recipient`` (``rcskit messages --to``, the replies matched to messages) stay: at 200,000
messages the listing took 27 ms without the first, 0.04 ms with it, and grows with the table.

Two indexes become partial: the provider's message ids of the outbox only where there is one
(a message has none until its provider accepted it: no entry at the attempt), and the
history's (provider, provider id) only for the statuses waiting for their message (``message_id
IS NULL``, the only rows looked up that way), not for every history row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PID = "ix_outbound_messages_provider_provider_message_id"
_WAITING = "ix_message_history_provider_provider_message_id"
_PENDING = "ix_outbound_messages_pending_created_at_id"
_DROPPED = (["state"], ["campaign_id", "recipient"])


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def upgrade() -> None:
    """Drop two outbox indexes, add the partial index of pending messages, make the provider
    id indexes partial."""
    for columns in _DROPPED:
        op.drop_index(f"ix_outbound_messages_{'_'.join(columns)}", "outbound_messages")
    op.create_index(
        _PENDING, "outbound_messages", ["created_at", "id"], **_where("state = 'pending'")
    )
    op.drop_index(_PID, "outbound_messages")
    op.create_index(
        _PID,
        "outbound_messages",
        ["provider", "provider_message_id"],
        **_where("provider_message_id IS NOT NULL"),
    )
    op.drop_index(_WAITING, "message_history")
    op.create_index(
        _WAITING,
        "message_history",
        ["provider", "provider_message_id"],
        **_where("message_id IS NULL"),
    )


def downgrade() -> None:
    """Back to the indexes of revision 0003."""
    op.drop_index(_WAITING, "message_history")
    op.create_index(_WAITING, "message_history", ["provider", "provider_message_id"])
    op.drop_index(_PID, "outbound_messages")
    op.create_index(_PID, "outbound_messages", ["provider", "provider_message_id"])
    op.drop_index(_PENDING, "outbound_messages")
    for columns in _DROPPED:
        op.create_index(
            f"ix_outbound_messages_{'_'.join(columns)}", "outbound_messages", list(columns)
        )
