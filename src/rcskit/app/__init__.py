"""Bots: handlers for inbound events, served as an ASGI or WSGI webhook app.

::

    from rcskit.app import Bot

    bot = Bot(client)

    @bot.on_message()
    async def echo(event, reply):
        await reply(f"You wrote: {event.text}")

See :class:`Bot` for the options, :mod:`rcskit.app.handlers` for what a handler may ask for,
:mod:`rcskit.store.inbox` for the durable inbox (de-duplication, no lost events) and
conversation state.
"""

from __future__ import annotations

from ..store.inbox import (
    DedupStore,
    Inbox,
    InboxEntry,
    InboxRecord,
    MemoryDedup,
    MemoryState,
    StateStore,
    open_inbox,
)
from ..store.inbox_sqlite import SqliteInbox
from .bot import DEFAULT_DB, Bot, HttpAnswer, Middleware
from .context import ConversationState, MessageSender, Responder, build_message
from .router import Router

__all__ = [
    "DEFAULT_DB",
    "Bot",
    "ConversationState",
    "DedupStore",
    "HttpAnswer",
    "Inbox",
    "InboxEntry",
    "InboxRecord",
    "MemoryDedup",
    "MemoryState",
    "MessageSender",
    "Middleware",
    "Responder",
    "Router",
    "SqliteInbox",
    "StateStore",
    "build_message",
    "open_inbox",
]
