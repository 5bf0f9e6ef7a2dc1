"""Hostile webhook input: every bad request gets a 4xx with a short reason, never a 5xx.

Through the ASGI and the WSGI adapters alike: bounded JSON (400), verification on the raw
bytes before anything but the envelope is read (401), decompression streamed and capped
(413), ``Content-Type`` checked where the provider documents it (415); and a bounded
hypothesis fuzz test over bodies and headers.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import resource
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcskit.app import Bot
from rcskit.events import Event, StatusEvent, Subscription, UserMessage
from rcskit.inbound import PROVIDERS, parse
from rcskit.inbound.verify import GoogleSignature
from tests.app.asgi_caller import call
from tests.app.test_webhook import TOKEN, gsma_text, signed_google

JSON = {"Content-Type": "application/json"}
USER = "+14251234567"


def gzip_bomb(mebibytes: int) -> bytes:
    """A gzip body expanding to ``mebibytes`` MiB of zeros, made without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * 1_048_576
    parts = [packer.compress(chunk) for _ in range(mebibytes)]
    return b"".join([*parts, packer.flush()])


def bot_for(provider: str, **kw: Any) -> tuple[Bot, list[Event]]:
    seen: list[Event] = []
    kw.setdefault("dedup", "memory")
    bot = Bot(provider=provider, **kw)

    @bot.on_event
    async def record(event: Event) -> None:
        seen.append(event)

    return bot, seen


async def test_a_gzip_bomb_is_refused_with_413_within_bounded_memory() -> None:
    bot, seen = bot_for("dotgo", max_body_bytes=1_048_576)
    bomb = gzip_bomb(950)
    assert len(bomb) < 1_048_576  # a body within the limit ...
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer = await call(bot.asgi, "POST", "/webhook", bomb, {"Content-Encoding": "gzip", **JSON})
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert answer.status == 413  # ... that would expand to 950 MiB
    assert answer.text == "body larger than 1048576 bytes once decompressed"
    assert grown_kb < 64 * 1024  # never more than a few MiB held at once
    assert seen == [] and bot.stats["too_large"] == 1
    await bot.stop()


async def test_compressed_bodies_within_the_limit_are_read() -> None:
    bot, seen = bot_for("maap")
    body = gsma_text("m1")
    for encoding, data in (
        ("gzip", gzip.compress(body)),
        ("deflate", zlib.compress(body)),
        ("deflate", zlib.compress(body)[2:-4]),  # raw deflate, as some senders do
    ):
        answer = await call(bot.asgi, "POST", "/webhook", data, {"Content-Encoding": encoding})
        assert answer.status == 200, (encoding, answer.text)
    await bot.join()
    assert len(seen) == 1 and bot.stats["duplicates"] == 2
    answer = await call(bot.asgi, "POST", "/webhook", body, {"Content-Encoding": "br"})
    assert (answer.status, answer.text) == (
        415,
        "Content-Encoding 'br' is not supported (use gzip, deflate or none)",
    )
    answer = await call(bot.asgi, "POST", "/webhook", b"\x1f\x8bnot", {"Content-Encoding": "gzip"})
    assert answer.status == 400 and answer.text.startswith("body is not valid gzip data")
    await bot.stop()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 1500 + b"]" * 1500, "not JSON: depth limit exceeded at character 1025"),
        (b'{"a": ' + b"[" * 80 + b"]" * 80 + b"}", "JSON nested deeper than 64 levels"),
        (b'{"n": ' + b"7" * 5000 + b"}", "number out of range"),
        (b'{"t": "\\ud800"}', "text contains a lone UTF-16 surrogate"),
        (b"\xff\xfe{}", "body is not UTF-8 text"),
        (b"", "the body is empty; expected a JSON object"),
    ],
)
async def test_bodies_out_of_bounds_get_400_with_a_short_reason(body: bytes, reason: str) -> None:
    bot, _ = bot_for("maap")
    answer = await call(bot.asgi, "POST", "/webhook", body, JSON)
    assert answer.status == 400
    assert reason in answer.text and len(answer.text) < 200
    await bot.stop()


async def test_google_signature_is_checked_before_the_event_is_parsed() -> None:
    bot, seen = bot_for("google", verifier=GoogleSignature(TOKEN))
    deep_data = base64.b64encode(b'{"x": ' + b"[" * 3000 + b"]" * 3000 + b"}").decode()
    forged = json.dumps({"message": {"data": deep_data}}).encode()
    answer = await call(bot.asgi, "POST", "/webhook", forged, {**JSON, "X-Goog-Signature": "AAAA"})
    assert (answer.status, answer.text) == (401, "unauthorized")
    deep_envelope = b'{"message": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    answer = await call(bot.asgi, "POST", "/webhook", deep_envelope, {"X-Goog-Signature": "x"})
    assert answer.status == 401
    assert bot.stats["unauthorized"] == 2 and bot.stats["malformed"] == 0
    body, headers = signed_google({"senderPhoneNumber": USER, "messageId": "m", "text": "hi"})
    assert (await call(bot.asgi, "POST", "/webhook", body, headers)).status == 200
    await bot.join()
    assert len(seen) == 1
    await bot.stop()


async def test_content_type_is_checked_where_the_provider_documents_it() -> None:
    google, _ = bot_for("google")
    body, _ = signed_google({"senderPhoneNumber": USER, "messageId": "m", "text": "hi"})
    for declared, status in (
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("application/cloudevents+json", 200),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
    ):
        answer = await call(google.asgi, "POST", "/webhook", body, {"Content-Type": declared})
        assert answer.status == status, declared
    assert answer.text == "Content-Type must be application/json"
    # no header at all: read as JSON
    assert (await call(google.asgi, "POST", "/webhook", body)).status == 200
    await google.stop()
    # Dotgo documents nothing: any declared type is read
    dotgo, _ = bot_for("dotgo")
    answer = await call(
        dotgo.asgi, "POST", "/webhook", gsma_text("m"), {"Content-Type": "text/plain"}
    )
    assert answer.status == 200
    await dotgo.stop()
    strict, _ = bot_for("dotgo", content_types=["application/json"])
    answer = await call(
        strict.asgi, "POST", "/webhook", gsma_text("m"), {"Content-Type": "text/plain"}
    )
    assert answer.status == 415
    await strict.stop()


def test_the_wsgi_adapter_gives_the_same_answers() -> None:
    bot, seen = bot_for("google", max_body_bytes=4096)
    app = bot.wsgi

    def post(body: bytes, **headers: str) -> tuple[str, bytes]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/webhook",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": "127.0.0.1",
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
        status: list[str] = []
        chunks = app(environ, lambda s, h: status.append(s))
        return status[0], b"".join(chunks)

    try:
        bomb = gzip.compress(b" " * (10 * 1024 * 1024))
        assert post(bomb, content_encoding="gzip")[0].startswith("413")
        assert post(b"{}", content_type="text/xml")[0].startswith("415")
        status, body = post(b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}")
        assert (status, body) == ("400 Bad Request", b"JSON nested deeper than 64 levels")
        ok, _ = signed_google({"senderPhoneNumber": USER, "eventType": "UNSUBSCRIBE"})
        assert post(ok, content_type="application/json")[0] == "200 OK"
    finally:
        app.close()
    assert [type(e) for e in seen] == [Subscription]


# ---------------------------------------------------------------- Google's 2026 additions


async def test_unsubscribe_and_resubscribe_reach_their_decorators() -> None:
    bot = Bot(provider="google", dedup="memory")
    got: list[tuple[str, str | None, str | None]] = []

    @bot.on_unsubscribe
    async def stopped(event: Subscription) -> None:
        got.append(("unsubscribe", event.event_id, event.webhook_type))

    @bot.on_resubscribe
    async def back(event: Subscription) -> None:
        got.append(("resubscribe", event.event_id, event.webhook_type))

    for event_id, kind in (("e1", "UNSUBSCRIBE"), ("e2", "SUBSCRIBE"), ("e3", "RESUBSCRIBE")):
        event = {"senderPhoneNumber": USER, "eventType": kind, "eventId": event_id, "agentId": "a"}
        body, headers = signed_google(event)
        answer = await call(
            bot.asgi, "POST", "/webhook", body, {**headers, "X-Goog-Webhook-Type": "USER_EVENT"}
        )
        assert answer.status == 200
    await bot.join()
    assert got == [
        ("unsubscribe", "e1", "USER_EVENT"),
        ("resubscribe", "e2", "USER_EVENT"),
        ("resubscribe", "e3", "USER_EVENT"),
    ]
    await bot.stop()


def test_the_webhook_type_header_routes_the_body() -> None:
    status = {"senderPhoneNumber": USER, "eventType": "READ", "eventId": "e", "messageId": "m"}
    body = json.dumps(status).encode()
    events = parse("google", body, {"x-goog-webhook-type": "user_event"})
    assert isinstance(events[0], StatusEvent) and events[0].webhook_type == "user_event"
    # the header names a message, the body is an event: refused, naming the header
    with pytest.raises(Exception, match="X-Goog-Webhook-Type USER_MESSAGE: no text"):
        parse("google", body, {"X-Goog-Webhook-Type": "USER_MESSAGE"})
    text = json.dumps({"senderPhoneNumber": USER, "messageId": "m", "text": "hi"}).encode()
    with pytest.raises(Exception, match=r"X-Goog-Webhook-Type SERVER_EVENT: \$.eventType"):
        parse("google", text, {"X-Goog-Webhook-Type": "SERVER_EVENT"})
    # a value rcskit does not know yet: the body is read by its members, the value kept
    events = parse("dotgo_google", text, {"X-Goog-Webhook-Type": "AGENT_LAUNCH_STATE"})
    assert isinstance(events[0], UserMessage) and events[0].webhook_type == "AGENT_LAUNCH_STATE"
    # without the header nothing changes
    assert parse("google", text)[0].webhook_type is None


# ---------------------------------------------------------------- fuzz


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["RCSMessage", "event", "messageContact", "message", "data", "text", "eventType",
             "senderPhoneNumber", "requestType", "msgId", "status", "clientToken", "secret",
             "suggestionResponse", "userFile", "location", "x"]
        ),
        children,
        max_size=5,
    ),
    max_leaves=20,
)  # fmt: skip


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "bytes", "deep", "bignum", "envelope"]))
    if kind == "json":
        body = json.dumps(draw(JSON_VALUES)).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=512))
    elif kind == "deep":
        depth = draw(st.integers(min_value=60, max_value=3000))
        body = b'{"event": ' + b"[" * depth + b"]" * depth + b"}"
    elif kind == "bignum":
        body = b'{"RCSMessage": {"msgId": ' + b"9" * draw(st.integers(1, 6000)) + b"}}"
    else:
        inner = json.dumps(draw(JSON_VALUES)).encode()
        data = base64.b64encode(inner).decode() if draw(st.booleans()) else draw(st.text())
        body = json.dumps({"message": {"data": data, "messageId": "p"}}).encode()
    encoding = draw(st.sampled_from([None, "gzip", "deflate", "br", "identity"]))
    if encoding == "gzip" and draw(st.booleans()):
        body = gzip.compress(body)
    elif encoding == "deflate" and draw(st.booleans()):
        body = zlib.compress(body)
    return body


HEADER_VALUES = st.one_of(st.text(max_size=40), st.sampled_from(["", "gzip", "application/json"]))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    provider=st.sampled_from(sorted(PROVIDERS)),
    body=bodies(),
    content_type=st.one_of(
        st.none(), st.sampled_from(["application/json", "text/plain"]), HEADER_VALUES
    ),
    encoding=st.one_of(st.none(), st.sampled_from(["gzip", "deflate", "br"]), HEADER_VALUES),
    signature=st.one_of(st.none(), HEADER_VALUES),
    webhook_type=st.one_of(
        st.none(), st.sampled_from(["USER_MESSAGE", "USER_EVENT", "SERVER_EVENT"]), HEADER_VALUES
    ),
    verified=st.booleans(),
)
def test_fuzz_no_request_gets_a_5xx(
    provider: str,
    body: bytes,
    content_type: str | None,
    encoding: str | None,
    signature: str | None,
    webhook_type: str | None,
    verified: bool,
) -> None:
    headers = {
        name: value
        for name, value in (
            ("Content-Type", content_type),
            ("Content-Encoding", encoding),
            ("X-Goog-Signature", signature),
            ("X-Goog-Webhook-Type", webhook_type),
        )
        if value is not None and value.isprintable() and value.isascii()
    }

    async def one() -> int:
        verifier = GoogleSignature(TOKEN) if verified else None
        bot, _ = bot_for(provider, verifier=verifier, max_body_bytes=65_536)
        try:
            answer = await call(bot.asgi, "POST", "/webhook", body, headers)
            return answer.status
        finally:
            await bot.stop()

    status = asyncio.run(one())
    assert status < 500, (provider, headers, body[:200])
