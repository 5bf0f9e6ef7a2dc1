"""Dotgo billing events (seed 002 section 8): A2P, P2A, conversation, Trans 24 and refund flows.

Per bot and phone the ledger keeps one session that lasts ``window_s`` (24 h) from its first
message:

- A2P flow: first agent message ``New`` (``A2P Single Message``, or ``Basic Message`` for a
  plain text of at most 160 characters without suggestions); the user's answer ``New``
  ``P2A Message``; the agent's next message ``Update`` ``A2P Conversation`` with billing id
  ``<first id>_conv`` and ``billingEventIdP2A``; later messages in the window repeat the
  conversation id without ``billingEventAction``.
- P2A flow: user first (``New`` ``P2A Message``), then the agent (``Update``
  ``P2A Conversation``), then messages in the window.
- Trans 24 (bots with ``trans24``): a second agent message before any answer is ``Update``
  ``Trans 24``; later messages in the window repeat it.
- Refund: a charged message that fails at the MaaP or is revoked gets ``refund_complete``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import UtcSecondFormat

__all__ = ["BASIC", "BillingLedger", "Party"]

BASIC = "Basic Message"
SINGLE = "A2P Single Message"
P2A_MESSAGE = "P2A Message"
A2P_CONV = "A2P Conversation"
P2A_CONV = "P2A Conversation"
TRANS24 = "Trans 24"
CONVERSATIONAL = "Conversational"


@dataclass(frozen=True, slots=True)
class Party:
    """Who a billing event is about: the bot and the user."""

    agent_id: str
    agent_name: str
    user: str
    country: str | None
    carrier: str | None


@dataclass(slots=True)
class _Session:
    first_id: str
    origin: str
    started: float
    p2a_id: str | None = None
    conv: str | None = None


_time = UtcSecondFormat("%Y-%m-%d %H:%M:%S")


def _snake(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def _category(kind: str) -> str:
    """The billing category of a conversation's messages: Trans 24's own, else conversational."""
    return TRANS24 if kind == TRANS24 else CONVERSATIONAL


def _payload(
    party: Party,
    *,
    billing_id: str,
    msg_id: str,
    event_type: str,
    category: str,
    now: float,
    action: str | None,
    p2a_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"billingEventId": billing_id, "messageId": msg_id}
    if p2a_id is not None:
        body["billingEventIdP2A"] = p2a_id
    if action is not None:
        body["billingEventAction"] = action
    body.update(
        billingEventType=event_type,
        billingCategory=category,
        billingEventTime=_time(now),
        agentId=party.agent_id,
        agentName=party.agent_name,
        userId=party.user,
    )
    if party.country:
        body["countryId"] = party.country
    if party.carrier:
        body["carrierId"] = party.carrier
    return body


def _new(party: Party, msg_id: str, kind: str, now: float) -> dict[str, Any]:
    """``New``: a message billed on its own (``kind`` is both its type and its category)."""
    return _payload(
        party,
        billing_id=msg_id,
        msg_id=msg_id,
        event_type=kind,
        category=kind,
        now=now,
        action="New",
    )


def _conversation_start(
    party: Party,
    session: _Session,
    msg_id: str,
    now: float,
    kind: str,
    *,
    p2a_id: str | None = None,
) -> dict[str, Any]:
    """``Update``: the message that turns ``session`` into a conversation of ``kind``."""
    session.conv = kind
    return _payload(
        party,
        billing_id=f"{session.first_id}_conv",
        msg_id=msg_id,
        event_type=kind,
        category=_category(kind),
        now=now,
        action="Update",
        p2a_id=p2a_id,
    )


def _in_conversation(party: Party, session: _Session, msg_id: str, now: float) -> dict[str, Any]:
    """A later message of a conversation: its id and type again, no ``billingEventAction``."""
    assert session.conv is not None
    return _payload(
        party,
        billing_id=f"{session.first_id}_conv",
        msg_id=msg_id,
        event_type=session.conv,
        category=_category(session.conv),
        now=now,
        action=None,
    )


class BillingLedger:
    """Decides which billing event each message produces."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._sessions: dict[tuple[str, str], _Session] = {}

    def _session(self, key: tuple[str, str], now: float) -> _Session | None:
        session = self._sessions.get(key)
        if session is not None and now - session.started >= self.window_s:
            del self._sessions[key]
            return None
        return session

    def a2p(
        self, party: Party, bot_id: str, msg_id: str, now: float, *, basic: bool, trans24: bool
    ) -> tuple[str, dict[str, Any]]:
        """The charge type and billing event for an agent message."""
        key = (bot_id, party.user)
        session = self._session(key, now)
        kind = BASIC if basic else SINGLE
        if session is None:
            self._sessions[key] = _Session(msg_id, "A2P", now)
            return kind, _new(party, msg_id, kind, now)
        if session.conv is not None:
            return session.conv, _in_conversation(party, session, msg_id, now)
        if session.origin == "P2A":
            return P2A_CONV, _conversation_start(party, session, msg_id, now, P2A_CONV)
        if session.p2a_id is not None:
            return A2P_CONV, _conversation_start(
                party, session, msg_id, now, A2P_CONV, p2a_id=session.p2a_id
            )
        if trans24:
            return TRANS24, _conversation_start(party, session, msg_id, now, TRANS24)
        return kind, _new(party, msg_id, kind, now)

    def p2a(self, party: Party, bot_id: str, msg_id: str, now: float) -> dict[str, Any]:
        """The billing event for a user message."""
        key = (bot_id, party.user)
        session = self._session(key, now)
        if session is None:
            self._sessions[key] = _Session(msg_id, "P2A", now, p2a_id=msg_id)
        elif session.conv is not None:
            return _in_conversation(party, session, msg_id, now)
        else:
            session.p2a_id = msg_id
        return _new(party, msg_id, P2A_MESSAGE, now)

    @staticmethod
    def refund(party: Party, msg_id: str, charge: str, now: float) -> dict[str, Any]:
        """The refund event for a charged message that failed or was revoked (snake_case keys)."""
        body: dict[str, Any] = {
            "message_id": msg_id,
            "billing_event_id": msg_id,
            "billing_event_action": "refund_complete",
            "billing_category": _snake(charge),
            "billing_event_type": _snake(charge),
            "billing_event_time": _time(now),
            "agent_id": party.agent_id,
            "agent_name": party.agent_name,
            "user_id": party.user.lstrip("+"),
        }
        if party.country:
            body["country_id"] = party.country
        return body

    def clear(self) -> None:
        """Forget every session."""
        self._sessions.clear()
