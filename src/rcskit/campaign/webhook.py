"""A webhook endpoint that feeds a provider's events into the store, for campaign statuses.

``rcskit campaign webhook --provider dotgo --port 9000`` serves :func:`webhook_app`:
``POST /webhook`` (or ``/``) parses the body with :func:`rcskit.inbound.parse` and stores
every event: message statuses move the outbox (:meth:`~rcskit.store.Store.apply_status_event`:
never backwards, early statuses kept until the send is recorded), suggestion taps and user
messages are stored once each (the report counts the taps), billing events likewise.

A bot built with :mod:`rcskit.app` can do the same from its status handler instead::

    @bot.on_status()
    async def status(event):
        await store.apply_status_event(event)

Answers: 200 once stored (a provider retries anything else), 400 for a body that is not a
webhook payload, 401 when a configured verifier refuses the request; an event type rcskit
does not know is logged and acknowledged (200) so that it is not redelivered forever.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InvalidSignature, MalformedPayload, UnknownPayload
from ..events import BillingEvent, Event, StatusEvent
from ..inbound import PROVIDERS, NoVerification, Verifier, WebhookRequest, parse
from ..store import Store
from .errors import CampaignError

__all__ = ["store_event", "webhook_app"]

log = logging.getLogger("rcskit.campaign.webhook")


async def store_event(store: Store, event: Event) -> bool:
    """Store one inbound event where it belongs; return whether it changed anything (a state
    moved, or an event not seen before was recorded)."""
    if isinstance(event, StatusEvent):
        if event.message_id is None:
            log.warning("status event without a message id ignored: %s", event.describe())
            return False
        return await store.apply_status_event(event)
    if isinstance(event, BillingEvent):
        return await store.record_billing(event)
    return await store.record_inbound(event)


def webhook_app(
    store: Store,
    provider: str,
    *,
    verifier: Verifier | None = None,
    close_store: bool = False,
) -> Starlette:
    """An ASGI app receiving ``provider``'s webhooks into ``store`` (see the module
    docstring); ``close_store`` closes the store when the app shuts down."""
    if provider not in PROVIDERS:
        raise CampaignError(f"--provider {provider!r}: one of {', '.join(sorted(PROVIDERS))}")
    check = verifier or NoVerification()

    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            check.verify(
                WebhookRequest(
                    body,
                    dict(request.headers),
                    request.client.host if request.client else None,
                    request.method,
                )
            )
        except InvalidSignature as err:
            return JSONResponse({"error": str(err)}, status_code=401)
        try:
            events = parse(provider, body, dict(request.headers))
        except MalformedPayload as err:
            return JSONResponse({"error": err.reason}, status_code=400)
        except UnknownPayload as err:
            log.info("unknown webhook payload acknowledged: %s", err)
            return JSONResponse({"ok": True, "stored": 0})
        stored = 0
        for event in events:
            stored += await store_event(store, event)
        return JSONResponse({"ok": True, "stored": stored})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_store:
                await store.close()

    return Starlette(
        routes=[
            Route("/", receive, methods=["POST"]),
            Route("/webhook", receive, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
