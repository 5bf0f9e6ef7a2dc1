"""The state machine of an outbound message: a pure function, no I/O.

::

    pending ──► sent ──► delivered ──► displayed        (progress: only ever forward)
       │          │
       └──────────┴──► failed | revoked | expired       (endings: only before delivery)

Rules, applied by :func:`next_state` to the current state and an incoming one:

1. **Progress only moves forward.** ``pending < sent < delivered < displayed``; an incoming
   progress state higher than the current one is taken, even when it skips steps
   (``displayed`` arriving before ``delivered`` jumps straight to ``displayed``). A lower or
   equal one (``delivered`` after ``displayed``, a duplicate ``sent``) does not move the state.
2. **Endings happen only before delivery.** ``failed`` (the provider or the device gave up),
   ``revoked`` (the bot revoked it, GSMA ``cancelled``) and ``expired`` (the TTL elapsed and the
   platform revoked it, ``ttl_expiration_revoked``) are taken from ``pending`` or ``sent``
   only. Once the device has the message (``delivered``/``displayed``) it can no longer fail,
   be revoked or expire: such late events are ignored.
3. **Endings are final.** Nothing moves a message out of ``failed``, ``revoked`` or
   ``expired``. The campaign runner decides a fallback (SMS) from an ending; a later
   contradictory event (``delivered`` after ``expired``) must not turn a fallen-back message
   into an RCS-delivered one too. ``displayed`` is final as well (nothing follows it).

The store records every incoming status in the message's history, moved or not, so an ignored
event is never lost. :func:`state_for_status` maps the providers' status words to states;
``ttl_expiration_revoke_failed`` (the message expired but could not be revoked: it is probably
with the user already) is informational and maps to ``None``, as does any unknown word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

__all__ = [
    "ENDINGS",
    "FINAL_STATES",
    "PROGRESS",
    "MessageState",
    "is_final",
    "moves",
    "next_state",
    "replay_waiting",
    "state_for_status",
]


class MessageState(StrEnum):
    """Where an outbound message is; see the module docstring for the transitions."""

    PENDING = "pending"
    """Recorded in the outbox; not (yet) accepted by the provider."""
    SENT = "sent"
    """Accepted by the provider (it returned an id or the platform reported ``sent``)."""
    DELIVERED = "delivered"
    """The user's device has it."""
    DISPLAYED = "displayed"
    """The user opened it (a read receipt)."""
    FAILED = "failed"
    """The provider or the device gave up, or the send was refused for good."""
    REVOKED = "revoked"
    """The bot revoked it before delivery (GSMA ``cancelled``)."""
    EXPIRED = "expired"
    """Its TTL elapsed and the platform revoked it (``ttl_expiration_revoked``)."""


PROGRESS: tuple[MessageState, ...] = (
    MessageState.PENDING,
    MessageState.SENT,
    MessageState.DELIVERED,
    MessageState.DISPLAYED,
)
"""The forward path, in order."""

ENDINGS: frozenset[MessageState] = frozenset(
    {MessageState.FAILED, MessageState.REVOKED, MessageState.EXPIRED}
)
"""States that end a message before delivery."""

FINAL_STATES: frozenset[MessageState] = ENDINGS | {MessageState.DISPLAYED}
"""States nothing moves out of."""

_RANK = {state: rank for rank, state in enumerate(PROGRESS)}
_BEFORE_DELIVERY = frozenset({MessageState.PENDING, MessageState.SENT})


def next_state(current: MessageState, incoming: MessageState) -> MessageState:
    """The state after ``incoming`` arrives in ``current`` (``current`` when it does not move).

    >>> next_state(MessageState.SENT, MessageState.DISPLAYED)
    <MessageState.DISPLAYED: 'displayed'>
    >>> next_state(MessageState.DISPLAYED, MessageState.DELIVERED)
    <MessageState.DISPLAYED: 'displayed'>
    """
    if current in ENDINGS:
        return current
    if incoming in ENDINGS:
        return incoming if current in _BEFORE_DELIVERY else current
    return incoming if _RANK[incoming] > _RANK[current] else current


def moves(current: MessageState, incoming: MessageState) -> bool:
    """Whether ``incoming`` changes ``current`` (see :func:`next_state`)."""
    return next_state(current, incoming) is not current


def is_final(state: MessageState) -> bool:
    """Whether nothing can move ``state`` any more (an ending, or ``displayed``)."""
    return state in FINAL_STATES


_STATUS_WORDS: dict[str, MessageState | None] = {
    # rcskit's own names
    **{state.value: state for state in MessageState},
    # GSMA MaaP / Dotgo GSMA flavour (seed 002 section 2.2, 2.5)
    "read": MessageState.DISPLAYED,
    "cancelled": MessageState.REVOKED,
    "canceled": MessageState.REVOKED,
    "ttl_expiration_revoked": MessageState.EXPIRED,
    "ttl_expiration_revoke_failed": None,
    "ttl_expiration_revoked_failed": None,
    # SMSBOX status_update (its webhook documentation): REJECTED means the device refused it
    "rejected": MessageState.FAILED,
}


def state_for_status(status: str) -> MessageState | None:
    """The state a provider's status word means, or ``None`` (informational or unknown).

    Case-insensitive; knows rcskit's names, GSMA words (``displayed``, ``cancelled``,
    ``ttl_expiration_revoked``), Google event types (``DELIVERED``, ``READ``,
    ``TTL_EXPIRATION_REVOKED``) and SMSBOX ones (``SENT``, ``READ``, ``REJECTED``, ``FAILED``,
    ``EXPIRED``).

    >>> state_for_status("READ")
    <MessageState.DISPLAYED: 'displayed'>
    >>> state_for_status("ttl_expiration_revoke_failed") is None
    True
    """
    return _STATUS_WORDS.get(str(status).strip().lower())


def replay_waiting(
    entries: Iterable[Mapping[str, Any]], message_id: str, recipient: str, state: MessageState
) -> tuple[list[dict[str, Any]], MessageState]:
    """Statuses that arrived for a provider id before any message had it (history entries
    with no ``message_id``, in arrival order), attached to message ``message_id`` once the
    id is known, the message being in ``state`` (after its ``sent`` entry).

    Returns the entries as they are to be written again after everything already in the
    message's history (every column but ``id``; ``at`` and ``recorded_at`` kept; the
    message's ``recipient`` where an entry named none; the states each one moved the message
    between), and the state they lead to.

    >>> rows, after = replay_waiting(
    ...     [{"id": 7, "status": "READ", "recipient": None}], "m1", "+33612345678",
    ...     MessageState.SENT,
    ... )
    >>> after, rows[0]["from_state"], rows[0]["to_state"], rows[0]["moved"]
    (<MessageState.DISPLAYED: 'displayed'>, 'sent', 'displayed', True)
    """
    rows: list[dict[str, Any]] = []
    for entry in entries:
        incoming = state_for_status(entry["status"])
        after = state if incoming is None else next_state(state, incoming)
        row = {k: v for k, v in entry.items() if k != "id"}
        row.update(
            message_id=message_id,
            recipient=entry["recipient"] or recipient,
            from_state=state.value,
            to_state=after.value,
            moved=after is not state,
        )
        rows.append(row)
        state = after
    return rows, state
