"""The replay of statuses that arrived before their provider id was stored: one pure function
(:func:`rcskit.store.states.replay_waiting`) for the store's ``mark_sent`` and the campaign
journal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rcskit.store.states import MessageState, replay_waiting

EARLY = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)


def _entry(id: int, status: str, recipient: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "message_id": None,
        "provider": "dotgo",
        "provider_message_id": "p1",
        "recipient": recipient,
        "status": status,
        "from_state": None,
        "to_state": None,
        "moved": False,
        "source": "webhook",
        "reason": None,
        "code": None,
        "at": EARLY,
        "recorded_at": LATER,
        **extra,
    }


def test_statuses_move_the_message_in_arrival_order() -> None:
    rows, state = replay_waiting(
        [_entry(7, "DELIVERED"), _entry(9, "read")], "m1", "+33612345678", MessageState.SENT
    )
    assert state is MessageState.DISPLAYED
    assert [(r["from_state"], r["to_state"], r["moved"]) for r in rows] == [
        ("sent", "delivered", True),
        ("delivered", "displayed", True),
    ]
    # attached to the message, every other column kept, the id dropped (rows are re-inserted)
    assert all("id" not in r for r in rows)
    assert [r["message_id"] for r in rows] == ["m1", "m1"]
    assert [r["status"] for r in rows] == ["DELIVERED", "read"]
    assert {(r["at"], r["recorded_at"], r["source"], r["provider_message_id"]) for r in rows} == {
        (EARLY, LATER, "webhook", "p1")
    }


def test_the_message_recipient_fills_in_only_where_an_entry_named_none() -> None:
    rows, _ = replay_waiting(
        [_entry(1, "delivered"), _entry(2, "displayed", recipient="+15550001111")],
        "m1",
        "+33612345678",
        MessageState.SENT,
    )
    assert [r["recipient"] for r in rows] == ["+33612345678", "+15550001111"]


def test_words_that_mean_no_state_and_late_endings_do_not_move_it() -> None:
    rows, state = replay_waiting(
        [
            _entry(1, "ttl_expiration_revoke_failed"),  # informational: no state
            _entry(2, "delivered"),
            _entry(3, "failed"),  # an ending after delivery is ignored
            _entry(4, "delivered"),  # a repeat
        ],
        "m1",
        "+33612345678",
        MessageState.SENT,
    )
    assert state is MessageState.DELIVERED
    assert [(r["from_state"], r["to_state"], r["moved"]) for r in rows] == [
        ("sent", "sent", False),
        ("sent", "delivered", True),
        ("delivered", "delivered", False),
        ("delivered", "delivered", False),
    ]


def test_an_ending_before_delivery_is_final() -> None:
    rows, state = replay_waiting(
        [_entry(1, "cancelled"), _entry(2, "displayed")], "m1", "+1", MessageState.SENT
    )
    assert state is MessageState.REVOKED
    assert [r["to_state"] for r in rows] == ["revoked", "revoked"]


def test_nothing_waiting_leaves_the_state() -> None:
    assert replay_waiting([], "m1", "+1", MessageState.PENDING) == ([], MessageState.PENDING)


def test_the_entries_given_are_not_changed() -> None:
    entry = _entry(5, "delivered")
    before = dict(entry)
    replay_waiting([entry], "m1", "+1", MessageState.SENT)
    assert entry == before
