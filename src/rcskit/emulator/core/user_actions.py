"""What a simulated user does: type text, tap a suggestion, share a location, send a file,
start typing, read a message, open a chat for the first time, disable anonymization. Each is
stored in the conversation and posted to the bot's webhook in its flavour (used by the admin
API, tests and the web UI).
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

from ..config import BotConfig
from .delivery import display
from .events import (
    AliasEvent,
    BillingEvent,
    NewUserEvent,
    ResponseEvent,
    SubscriptionEvent,
    TypingEvent,
    UserFile,
    UserLocation,
    UserMessageEvent,
)
from .phones import Phone
from .records import A2P, DELIVERED, FMT_USER, P2A, RECEIVED, StoredMessage, compact_json
from .state import EmulatorState
from .suggestions import find_suggestion, template_metadata

__all__ = [
    "UserActionError",
    "disable_anonymization",
    "open_chat",
    "read",
    "respond",
    "send_file",
    "send_text",
    "share_location",
    "start_typing",
    "tap",
    "user_message_id",
]


class UserActionError(ValueError):
    """A user action that cannot happen; ``status`` is the HTTP status the admin API answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def user_message_id() -> str:
    """An id for a user's message, in the platform's style (``Ms`` + 22 characters)."""
    return "Ms" + secrets.token_urlsafe(17)[:22]


def _parties(state: EmulatorState, bot_id: str, number: str) -> tuple[BotConfig, Phone]:
    bot = state.bot(bot_id)
    if bot is None:
        raise UserActionError(404, f"unknown bot {bot_id!r}")
    phone = state.phones.get(number)
    if phone is None:
        raise UserActionError(404, f"unknown phone {number!r}")
    if not phone.rcs:
        raise UserActionError(409, f"phone {number} is not RCS-enabled: it cannot message a bot")
    return bot, phone


def _p2a(
    state: EmulatorState, bot: BotConfig, number: str, content: dict[str, Any], msg_id: str | None
) -> StoredMessage:
    msg_id = msg_id or user_message_id()
    if state.find_message(bot.id, msg_id) is not None:
        raise UserActionError(409, f"message id {msg_id!r} already exists for bot {bot.id}")
    now = state.ts()
    msg = StoredMessage(
        msg_id=msg_id,
        bot_id=sys.intern(bot.id),
        phone=sys.intern(number),
        direction=P2A,
        fmt=FMT_USER,
        content=compact_json(content),
        created=now,
        status=RECEIVED,
    )
    state.store(msg)
    conv = state.conversation(bot.id, number)
    conv.last_p2a_at = now
    conv.user_typing_until = 0.0
    payload = state.billing.p2a(state.party(bot, number), bot.id, msg_id, now)
    state.emit(BillingEvent(bot.id, number, payload))
    return msg


def send_text(
    state: EmulatorState, bot_id: str, number: str, text: str, msg_id: str | None = None
) -> StoredMessage:
    """The user types and sends ``text``."""
    if not isinstance(text, str) or not text:
        raise UserActionError(400, "text must be a non-empty string")
    bot, _ = _parties(state, bot_id, number)
    msg = _p2a(state, bot, number, {"text": text}, msg_id)
    state.emit(UserMessageEvent(bot.id, number, msg.msg_id, state.now(), text=text))
    return msg


def share_location(
    state: EmulatorState,
    bot_id: str,
    number: str,
    latitude: float,
    longitude: float,
    label: str | None = None,
    msg_id: str | None = None,
) -> StoredMessage:
    """The user shares a location."""
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise UserActionError(400, f"location ({latitude}, {longitude}) is out of range")
    bot, _ = _parties(state, bot_id, number)
    content = {"location": {"latitude": latitude, "longitude": longitude, "label": label}}
    msg = _p2a(state, bot, number, content, msg_id)
    location = UserLocation(latitude, longitude, label)
    state.emit(UserMessageEvent(bot.id, number, msg.msg_id, state.now(), location=location))
    return msg


def send_file(
    state: EmulatorState,
    bot_id: str,
    number: str,
    *,
    url: str,
    mime_type: str,
    size: int,
    name: str,
    msg_id: str | None = None,
) -> StoredMessage:
    """The user sends a file (already hosted at ``url``)."""
    if size < 0:
        raise UserActionError(400, f"file size {size} must be >= 0")
    bot, _ = _parties(state, bot_id, number)
    content = {"file": {"url": url, "mime_type": mime_type, "size": size, "name": name}}
    msg = _p2a(state, bot, number, content, msg_id)
    file = UserFile(url, mime_type, size, name)
    state.emit(UserMessageEvent(bot.id, number, msg.msg_id, state.now(), file=file))
    return msg


def start_typing(state: EmulatorState, bot_id: str, number: str, active: bool = True) -> None:
    """The user starts (or stops) typing."""
    bot, _ = _parties(state, bot_id, number)
    conv = state.conversation(bot.id, number)
    conv.user_typing_until = state.ts() + state.config.typing_timeout_s if active else 0.0
    state.emit(TypingEvent(bot.id, number, state.now(), state.new_id(), active))


def open_chat(state: EmulatorState, bot_id: str, number: str) -> str:
    """The user opens the bot's chat for the first time (GSMA ``newUser``); returns its id."""
    bot, _ = _parties(state, bot_id, number)
    state.conversation(bot.id, number)
    msg_id = user_message_id()
    state.emit(NewUserEvent(bot.id, number, msg_id, state.now()))
    return msg_id


def set_subscribed(state: EmulatorState, bot_id: str, number: str, subscribed: bool) -> str:
    """The user unsubscribes from the bot (``subscribed=False``: its messages are then refused
    as for a user who opted out) or subscribes again; returns the event's id.

    The bot gets Google's ``UNSUBSCRIBE`` / ``SUBSCRIBE`` user event where its provider reports
    them (Google RBM); other providers report nothing.
    """
    bot, _ = _parties(state, bot_id, number)
    kept = state.phones.materialize(number)
    assert kept is not None  # _parties found it
    if subscribed:
        kept.opted_out.discard(bot.id)
    else:
        kept.opted_out.add(bot.id)
    state.conversation(bot.id, number)
    event_id = user_message_id()
    state.emit(SubscriptionEvent(bot.id, number, event_id, state.now(), subscribed))
    return event_id


def disable_anonymization(state: EmulatorState, bot_id: str, number: str) -> str:
    """The user shares their number with the bot (GSMA ``alias``); returns the event's id."""
    bot, _ = _parties(state, bot_id, number)
    state.conversation(bot.id, number)
    msg_id = user_message_id()
    state.emit(AliasEvent(bot.id, number, msg_id, state.now()))
    return msg_id


def respond(
    state: EmulatorState,
    bot_id: str,
    number: str,
    *,
    kind: str,
    text: str,
    postback: str,
    msg_id: str | None = None,
) -> StoredMessage:
    """A suggestion response given directly (no stored message to tap)."""
    if kind not in ("reply", "action"):
        raise UserActionError(400, f"kind {kind!r} must be 'reply' or 'action'")
    bot, _ = _parties(state, bot_id, number)
    content = {"response": {"kind": kind, "text": text, "postback": postback}}
    msg = _p2a(state, bot, number, content, msg_id)
    state.emit(ResponseEvent(bot.id, number, msg.msg_id, state.now(), kind, text, postback))
    return msg


def _bot_message(state: EmulatorState, bot_id: str, number: str, msg_id: str) -> StoredMessage:
    target = state.find_message(bot_id, msg_id)
    if target is None or target.direction != A2P or target.phone != number:
        raise UserActionError(404, f"no message {msg_id!r} from bot {bot_id} to {number}")
    return target


def tap(
    state: EmulatorState,
    bot_id: str,
    number: str,
    *,
    msg_id: str,
    index: int,
    card_index: int | None = None,
    response_id: str | None = None,
) -> StoredMessage:
    """The user taps suggestion ``index`` (of card ``card_index``, or of the chip list)."""
    bot, _ = _parties(state, bot_id, number)
    target = _bot_message(state, bot.id, number, msg_id)
    found = find_suggestion(target, card_index, index)
    if found is None:
        where = "the chip list" if card_index is None else f"card {card_index}"
        raise UserActionError(404, f"message {msg_id} has no suggestion {index} in {where}")
    if target.status == DELIVERED:
        display(state, target)
    metadata = None
    if target.template is not None:
        template = bot.templates.get(target.template)
        metadata = template_metadata(target, found, template.kind if template else "text")
    content = {
        "response": {
            "kind": found.kind,
            "text": found.text,
            "postback": found.postback,
            "in_reply_to": msg_id,
        }
    }
    msg = _p2a(state, bot, number, content, response_id)
    state.emit(
        ResponseEvent(
            bot.id,
            number,
            msg.msg_id,
            state.now(),
            found.kind,
            found.text,
            found.postback,
            metadata,
        )
    )
    return msg


def read(state: EmulatorState, bot_id: str, number: str, msg_id: str) -> bool:
    """The user opens a delivered bot message (``displayed``); False if it was not delivered."""
    _parties(state, bot_id, number)
    return display(state, _bot_message(state, bot_id, number, msg_id))
