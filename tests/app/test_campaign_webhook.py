"""``rcskit campaign webhook`` is a Bot: the same handshake, verification, bounds and
de-duplication as any bot, with its inbox in the campaign store's own database."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import pytest

from rcskit.campaign.webhook import webhook_app, webhook_bot
from rcskit.inbound.verify import GoogleSignature
from rcskit.store import Store
from rcskit.store.inbox_postgres import PostgresInbox
from rcskit.store.inbox_sqlite import SqliteInbox
from tests.app.asgi_caller import call
from tests.app.conftest import InboxDatabase
from tests.app.test_webhook import TOKEN, gsma_text, signed_google

HANDSHAKE = json.dumps({"clientToken": TOKEN, "secret": "1234567890"}).encode()
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def store(inbox_database: InboxDatabase) -> AsyncIterator[Store]:
    """A migrated campaign store on SQLite or on a PostgreSQL schema of the test's own."""
    opened = await Store.open(inbox_database.url, schema=inbox_database.schema, upgrade=True)
    try:
        yield opened
    finally:
        await opened.close()


async def test_google_handshake_is_answered_with_the_secret(store: Store) -> None:
    # the bug: the separate Starlette app answered {"ok": true, "stored": 0}
    app = webhook_app(store, "google", verifier=GoogleSignature(TOKEN))
    answer = await call(app, "POST", "/webhook", HANDSHAKE, JSON)
    assert (answer.status, answer.text) == (200, "1234567890")
    wrong = json.dumps({"clientToken": "not-it", "secret": "1234567890"}).encode()
    answer = await call(app, "POST", "/webhook", wrong, JSON)
    assert (answer.status, answer.text) == (403, "forbidden")
    await app.bot.stop()


async def test_events_are_stored_once_with_the_inbox_in_the_store_database(
    store: Store, inbox_database: InboxDatabase
) -> None:
    bot = webhook_bot(store, "maap")
    expected = PostgresInbox if inbox_database.kind == "postgresql" else SqliteInbox
    assert isinstance(bot.inbox, expected)
    for msg_id in ("m1", "m2", "m1"):
        answer = await call(bot.asgi, "POST", "/webhook", gsma_text(msg_id, text=msg_id))
        assert answer.status == 200
    await bot.join()
    stored = await store.inbound.find_inbound(kind="message")
    assert sorted(r.text or "" for r in stored) == ["m1", "m2"]
    assert bot.stats["duplicates"] == 1
    records = await bot.inbox.records("campaign-webhook")  # type: ignore[union-attr]
    assert [r.state for r in records] == ["done", "done"]
    await bot.stop()


async def test_hostile_bodies_get_4xx_never_5xx(store: Store) -> None:
    app = webhook_app(store, "google", verifier=GoogleSignature(TOKEN))
    deep = b'{"message": {"data": ' + b"[" * 2000 + b"]" * 2000 + b"}}"
    answer = await call(app, "POST", "/webhook", deep, {**JSON, "X-Goog-Signature": "x"})
    assert answer.status == 401  # the signature is checked before anything is parsed further
    answer = await call(app, "POST", "/webhook", b"<xml/>", {"Content-Type": "text/xml"})
    assert (answer.status, answer.text) == (415, "Content-Type must be application/json")
    body, headers = signed_google({"senderPhoneNumber": "+14251234567", "eventType": "NEW_KIND"})
    answer = await call(app, "POST", "/webhook", body, headers)
    assert (answer.status, answer.text) == (200, "OK")  # unknown event types are acknowledged
    assert app.bot.stats["unknown"] == 1
    plain = webhook_app(store, "dotgo", inbox="memory")
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))
    answer = await call(plain, "POST", "/webhook", bomb, {"Content-Encoding": "gzip", **JSON})
    assert answer.status == 413 and "decompressed" in answer.text
    nested = b'{"event": "message", "RCSMessage": ' + b"[" * 100 + b"]" * 100 + b"}"
    answer = await call(plain, "POST", "/webhook", nested, JSON)
    assert (answer.status, answer.text) == (400, "JSON nested deeper than 64 levels")
    for bot_app in (app, plain):
        await bot_app.bot.stop()
    await asyncio.sleep(0)
