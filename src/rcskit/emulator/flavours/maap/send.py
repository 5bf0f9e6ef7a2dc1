"""The GSMA operations the generic MaaP and the Orange BotHub flavours share.

- :func:`send`: a ``{"RCSMessage", "messageContact"}`` body checked by the shared GSMA wire
  checks (:mod:`rcskit.emulator.bodies.gsma`), then an isTyping indication or a message handed
  to the delivery core. ``RCSMessage.msgId``, when given, is the message's id (FNW.11 lets the
  chatbot choose it; reusing one is a 409); otherwise the platform makes a UUID. Dotgo's
  ``templateMessage`` is not part of the GSMA API (400).
- :func:`message_status` / :func:`update_status`: ``GET``/``PUT .../messages/{msgId}/status``;
  ``displayed`` is a read receipt for a user message, ``cancelled`` (or ``canceled``) revokes
  a bot message not yet delivered (409 once it was delivered).
- :func:`capabilities`: the phone's GSMA feature tags, or 404 for a number that is not RCS
  or that an unlaunched bot may not reach.
- :func:`guard`: injected faults and the bot's ``tps`` limit (429), before any work.

Every refusal is a :class:`~.errors.MaapError` that each flavour renders
in its own shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...bodies.checks import WireError
from ...bodies.gsma import parse_gsma_send
from ...bodies.strict import check_strictly
from ...config import BotConfig
from ...core.delivery import accept, cancel, read_by_bot
from ...core.faults import inject
from ...core.records import A2P, FMT_GSMA, P2A
from ...core.state import EmulatorState
from ...core.throttle import allow_per_second
from .contacts import contact_of
from .errors import MaapError

__all__ = [
    "MAX_CLIENT_MSG_ID",
    "Sent",
    "capabilities",
    "check_reachable",
    "gsma_time",
    "guard",
    "message_status",
    "send",
    "update_status",
]

MAX_CLIENT_MSG_ID = 256
"""Longest ``RCSMessage.msgId`` a chatbot may choose (an emulator bound; FNW.11 sets none)."""

_FAULTS = {
    "429": (429, "Too many requests"),
    "500": (500, "Internal server error"),
    "502": (502, "Bad gateway"),
    "timeout": (504, "Gateway timeout"),
}


def gsma_time(ts: float) -> str:
    """``2017-09-26T01:33:20.315Z``: the timestamp form of GSMA bodies (seed 003)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def guard(state: EmulatorState, bot: BotConfig) -> None:
    """Injected faults and latency, then the bot's per-second limit; raises MaapError."""
    fault = await inject(state.faults[bot.id], bot.faults)
    if fault is not None:
        raise MaapError(*_FAULTS[fault])
    if not allow_per_second(state.counters_of(bot.id).group1, state.ts(), bot.tps):
        raise MaapError(
            429, f"Too many requests: bot {bot.id} is limited to {bot.tps:g} per second"
        )


def check_reachable(state: EmulatorState, bot: BotConfig, phone: str) -> None:
    """403 for a non-tester of a bot not launched, and for a user who blocked the bot."""
    if not bot.launched and phone not in bot.testers:
        raise MaapError(403, f"bot {bot.id} is not launched and {phone} is not one of its testers")
    target = state.phones.get(phone)
    if target is not None and target.opted_out_of(bot.id):
        raise MaapError(403, f"{phone} has blocked bot {bot.id}")


@dataclass(frozen=True, slots=True)
class Sent:
    """An accepted send: the message id, the user's number, and ``message`` or ``typing``."""

    msg_id: str
    phone: str
    kind: str


def _client_msg_id(rcs: dict[str, Any]) -> str | None:
    value = rcs.get("msgId")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MaapError(400, "RCSMessage.msgId must be a non-empty string when given")
    if len(value) > MAX_CLIENT_MSG_ID:
        raise MaapError(
            400, f"RCSMessage.msgId is {len(value)} characters (max {MAX_CLIENT_MSG_ID})"
        )
    return value


def send(state: EmulatorState, bot: BotConfig, body: Any, *, chat_ids: bool) -> Sent:
    """Check and accept a GSMA send body (``chat_ids``: ``messageContact.chatId`` allowed)."""
    if chat_ids and isinstance(body, dict):
        phone = contact_of(state, bot.id, body.get("messageContact"))
        body = {**body, "messageContact": {"userContact": phone}}
    try:
        parsed = parse_gsma_send(body, state.ts())
        if parsed.kind != "typing":
            check_strictly(bot, "gsma", body, state.now())
    except WireError as exc:
        raise MaapError(400, exc.message) from None
    if parsed.kind == "template":
        raise MaapError(400, "RCSMessage.templateMessage is not part of the GSMA MaaP API")
    rcs = parsed.rcs_message
    msg_id = _client_msg_id(rcs) or state.new_id()
    if state.find_message(bot.id, msg_id) is not None:
        raise MaapError(409, f"RCSMessage.msgId {msg_id!r} was already used by bot {bot.id}")
    check_reachable(state, bot, parsed.phone)
    if parsed.kind == "typing":
        conv = state.conversation(bot.id, parsed.phone)
        active = rcs["isTyping"] == "active"
        conv.agent_typing_until = state.ts() + state.config.typing_timeout_s if active else 0.0
        return Sent(msg_id, parsed.phone, "typing")
    content = {k: v for k, v in rcs.items() if k != "msgId"}
    accept(
        state,
        bot,
        parsed.phone,
        fmt=FMT_GSMA,
        content=content,
        msg_id=msg_id,
        expire_at=parsed.expire_at,
    )
    return Sent(msg_id, parsed.phone, "message")


def message_status(state: EmulatorState, bot: BotConfig, msg_id: str) -> dict[str, Any]:
    """``{"RCSMessage": {"msgId", "status", "timestamp"}}`` of a message (404 if unknown)."""
    msg = state.find_message(bot.id, msg_id)
    if msg is None:
        raise MaapError(404, f"no message {msg_id!r} for bot {bot.id}")
    return {
        "RCSMessage": {
            "msgId": msg.msg_id,
            "status": msg.status,
            "timestamp": gsma_time(msg.last_change()),
        }
    }


def update_status(state: EmulatorState, bot: BotConfig, msg_id: str, body: Any) -> str:
    """Apply a ``PUT .../status`` body; returns the number the message concerns."""
    rcs = body.get("RCSMessage") if isinstance(body, dict) else None
    wanted = rcs.get("status") if isinstance(rcs, dict) else None
    if wanted not in ("displayed", "cancelled", "canceled"):
        raise MaapError(
            400, f"RCSMessage.status {wanted!r} must be 'displayed' or 'cancelled' (or 'canceled')"
        )
    msg = state.find_message(bot.id, msg_id)
    if msg is None:
        raise MaapError(404, f"no message {msg_id!r} for bot {bot.id}")
    if wanted == "displayed":
        if msg.direction != P2A:
            raise MaapError(400, "status 'displayed' is a read receipt for a user's message")
        read_by_bot(state, msg)
    else:
        if msg.direction != A2P:
            raise MaapError(400, "only a message the bot sent can be cancelled")
        if not cancel(state, msg):
            raise MaapError(409, f"message {msg_id!r} is {msg.status}: it can no longer be revoked")
    return msg.phone


def capabilities(state: EmulatorState, bot: BotConfig, number: str) -> list[str]:
    """The GSMA capability tags of an RCS phone this bot may reach; 404 otherwise."""
    phone = state.phones.get(number)
    if phone is None or not phone.rcs or not (bot.launched or number in bot.testers):
        raise MaapError(404, f"{number} is not RCS-enabled or not reachable by bot {bot.id}")
    return list(phone.features)
