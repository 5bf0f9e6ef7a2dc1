"""The campaign's webhook endpoint: a provider's events into the store, for campaign statuses.

``rcskit campaign webhook --provider dotgo --port 9000`` serves :func:`webhook_app`, which is
a :class:`~rcskit.app.Bot` (:func:`webhook_bot`) whose one handler stores every event: message
statuses move the outbox (:meth:`~rcskit.store.MessageRepository.apply_status_event`: never
backwards, early statuses kept until the send is recorded), suggestion taps and user messages are
stored once each (the report counts the taps), billing events likewise.

Being a Bot, it answers exactly as a bot does (the README's webhook error table): Google's
set-up handshake with the secret, 401 when the verifier refuses, 413/415/400 for bodies that
are too large, of another type or malformed, 200 for an event type rcskit does not know. Each
event is committed to the durable inbox in the store's own database (same SQLite file, or the
same PostgreSQL schema) before the 200, de-duplicated there, and stored by the handler right
after; one accepted before a crash is stored at the next start.

A bot of your own can do the same from its handlers::

    @bot.on_status()
    async def status(event):
        await store_event(store, event)
"""

from __future__ import annotations

import logging
from typing import Any

from ..app import Bot
from ..app.asgi import AsgiApp
from ..events import BillingEvent, Event, StatusEvent
from ..inbound import PROVIDERS, Verifier
from ..store import Store
from ..store.engine import sqlite_path
from ..store.inbox import Inbox
from ..store.inbox_postgres import PostgresInbox
from ..store.inbox_sqlite import SqliteInbox
from .errors import CampaignError

__all__ = ["store_event", "store_inbox", "webhook_app", "webhook_bot"]

log = logging.getLogger("rcskit.campaign.webhook")


async def store_event(store: Store, event: Event) -> bool:
    """Store one inbound event where it belongs; return whether it changed anything (a state
    moved, or an event not seen before was recorded)."""
    if isinstance(event, StatusEvent):
        if event.message_id is None:
            log.warning("status event without a message id ignored: %s", event.describe())
            return False
        return await store.messages.apply_status_event(event)
    if isinstance(event, BillingEvent):
        return await store.inbound.record_billing(event)
    return await store.inbound.record_inbound(event)


def store_inbox(store: Store) -> Inbox:
    """The durable webhook inbox in ``store``'s database: its SQLite file, or its PostgreSQL
    connections (and so its schema)."""
    engine = store.engine
    if engine.dialect.name == "postgresql":
        return PostgresInbox.on_engine(engine)
    path = sqlite_path(engine.url)
    if path is None:
        raise CampaignError(f"the store's database {engine.url.render_as_string()} has no file")
    return SqliteInbox(path)


def webhook_bot(
    store: Store,
    provider: str,
    *,
    verifier: Verifier | None = None,
    inbox: Inbox | str | None = None,
    close_store: bool = False,
    **bot_options: Any,
) -> Bot:
    """A :class:`~rcskit.app.Bot` that stores ``provider``'s webhook events in ``store``.

    ``inbox`` is where accepted events wait for their handler: by default the store's own
    database (:func:`store_inbox`); ``"memory"`` keeps them in memory only. ``close_store``
    closes the store when the bot stops. Other keywords go to :class:`~rcskit.app.Bot`
    (``path``, ``max_body_bytes`` ...).
    """
    if provider not in PROVIDERS:
        raise CampaignError(f"--provider {provider!r}: one of {', '.join(sorted(PROVIDERS))}")
    bot = Bot(
        provider=provider,
        verifier=verifier,
        dedup=store_inbox(store) if inbox is None else inbox,
        name="campaign-webhook",
        **bot_options,
    )

    @bot.on_event
    async def into_the_store(event: Event) -> None:
        await store_event(store, event)

    if close_store:

        @bot.on_shutdown
        async def close() -> None:
            await store.close()

    return bot


def webhook_app(
    store: Store,
    provider: str,
    *,
    verifier: Verifier | None = None,
    close_store: bool = False,
    inbox: Inbox | str | None = None,
) -> AsgiApp:
    """The ASGI app of :func:`webhook_bot` (``POST /webhook``; ``GET /health``);
    ``close_store`` closes the store when the app shuts down."""
    return webhook_bot(
        store, provider, verifier=verifier, inbox=inbox, close_store=close_store
    ).asgi
