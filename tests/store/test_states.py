"""The message state machine, exhaustively."""

from __future__ import annotations

from itertools import product

import pytest

from rcskit.events import MessageStatus
from rcskit.store.states import (
    ENDINGS,
    FINAL_STATES,
    PROGRESS,
    MessageState,
    is_final,
    moves,
    next_state,
    state_for_status,
)

S = MessageState
P, SE, D, DI, F, R, E = (
    S.PENDING,
    S.SENT,
    S.DELIVERED,
    S.DISPLAYED,
    S.FAILED,
    S.REVOKED,
    S.EXPIRED,
)

# The specification, written out for all 49 pairs: EXPECTED[current][incoming] = next state.
EXPECTED: dict[MessageState, dict[MessageState, MessageState]] = {
    P: {P: P, SE: SE, D: D, DI: DI, F: F, R: R, E: E},
    SE: {P: SE, SE: SE, D: D, DI: DI, F: F, R: R, E: E},
    D: {P: D, SE: D, D: D, DI: DI, F: D, R: D, E: D},
    DI: {P: DI, SE: DI, D: DI, DI: DI, F: DI, R: DI, E: DI},
    F: {P: F, SE: F, D: F, DI: F, F: F, R: F, E: F},
    R: {P: R, SE: R, D: R, DI: R, F: R, R: R, E: R},
    E: {P: E, SE: E, D: E, DI: E, F: E, R: E, E: E},
}


@pytest.mark.parametrize(("current", "incoming"), list(product(MessageState, MessageState)))
def test_every_pair_follows_the_table(current: MessageState, incoming: MessageState) -> None:
    assert next_state(current, incoming) is EXPECTED[current][incoming]
    assert moves(current, incoming) is (EXPECTED[current][incoming] is not current)


def _rank(state: MessageState) -> int:
    return PROGRESS.index(state) if state in PROGRESS else len(PROGRESS)


def test_no_sequence_of_three_events_ever_moves_backwards() -> None:
    """From every state, every sequence of three events: progress never decreases, an ending
    is final, and nothing ends a message once the device has it."""
    for start, *events in product(MessageState, repeat=4):
        state = start
        delivered = start in (D, DI)
        for incoming in events:
            after = next_state(state, incoming)
            if state in PROGRESS and after in PROGRESS:
                assert _rank(after) >= _rank(state), (start, events)
            if state in ENDINGS or state is DI:
                assert after is state, (start, events)
            if delivered:
                assert after not in ENDINGS, (start, events)
            delivered = delivered or after in (D, DI)
            state = after


def test_out_of_order_displayed_then_delivered() -> None:
    state = next_state(SE, DI)  # displayed arrives first: jump forward
    assert state is DI
    assert next_state(state, D) is DI  # the late delivered is ignored


def test_final_states() -> None:
    assert {s for s in MessageState if is_final(s)} == FINAL_STATES == {F, R, E, DI}


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("pending", P),
        ("sent", SE),
        ("SENT", SE),
        ("delivered", D),
        ("DELIVERED", D),
        ("displayed", DI),
        ("READ", DI),
        ("read", DI),
        ("failed", F),
        ("FAILED", F),
        ("REJECTED", F),
        ("cancelled", R),
        ("canceled", R),
        ("revoked", R),
        ("ttl_expiration_revoked", E),
        ("TTL_EXPIRATION_REVOKED", E),
        ("EXPIRED", E),
        (" Delivered ", D),
        ("ttl_expiration_revoke_failed", None),
        ("TTL_EXPIRATION_REVOKED_FAILED", None),
        ("IS_TYPING", None),
        ("something new", None),
    ],
)
def test_provider_words(word: str, state: MessageState | None) -> None:
    assert state_for_status(word) is state


def test_every_normalized_event_status_is_understood() -> None:
    """Each rcskit.events.MessageStatus maps to a state, except the informational one."""
    unmapped = {s for s in MessageStatus if state_for_status(s.value) is None}
    assert unmapped == {MessageStatus.TTL_EXPIRATION_REVOKE_FAILED}
    assert state_for_status(MessageStatus.CANCELLED) is R
    assert state_for_status(MessageStatus.TTL_EXPIRATION_REVOKED) is E
