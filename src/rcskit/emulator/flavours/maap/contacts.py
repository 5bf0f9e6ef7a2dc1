"""Who a GSMA message is for: ``messageContact`` with ``userContact`` (the number) or ``chatId``.

FNW.11 anonymization gives each user an opaque ``chatId`` per bot. The emulator derives it from
the bot id and the number (:func:`chat_id`: stable across restarts, opaque to a bot) and maps
it back through the bot's conversations, since a bot can only have learnt a chat id from a
webhook about a user who talked to it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ...core.phones import is_e164
from ...core.state import EmulatorState
from .errors import MaapError

__all__ = ["EXTENSION", "chat_id", "contact_of", "number_of_chat"]

EXTENSION = "maap.chat_ids"
"""``state.extensions`` key of the resolved ``(bot id, chat id) -> number`` cache."""


def chat_id(bot_id: str, number: str) -> str:
    """The anonymous chat id of ``number`` for bot ``bot_id`` (16 base32 characters)."""
    digest = hashlib.blake2b(f"{bot_id}|{number}".encode(), digest_size=10).digest()
    return base64.b32encode(digest).decode().rstrip("=")


def number_of_chat(state: EmulatorState, bot_id: str, chat: str) -> str | None:
    """The number behind a chat id of this bot, or ``None`` if no conversation has it."""
    cache: dict[tuple[str, str], str] = state.extensions.setdefault(EXTENSION, {})
    found = cache.get((bot_id, chat))
    if found is not None:
        return found
    for bot, phone in state.conversations:
        if bot == bot_id and chat_id(bot_id, phone) == chat:
            cache[(bot_id, chat)] = phone
            return phone
    return None


def contact_of(state: EmulatorState, bot_id: str, contact: Any) -> str:
    """The number a ``messageContact`` designates (exactly one of userContact or chatId)."""
    if not isinstance(contact, dict):
        raise MaapError(400, "messageContact (an object with userContact or chatId) is required")
    user, chat = contact.get("userContact"), contact.get("chatId")
    if (user is None) == (chat is None):
        raise MaapError(400, "messageContact needs exactly one of userContact or chatId")
    if user is not None:
        if not is_e164(user):
            raise MaapError(400, f"messageContact.userContact {user!r} is not an E.164 number")
        assert isinstance(user, str)
        return user
    number = number_of_chat(state, bot_id, str(chat))
    if number is None:
        raise MaapError(404, f"messageContact.chatId {chat!r} is not a user of this bot")
    return number
