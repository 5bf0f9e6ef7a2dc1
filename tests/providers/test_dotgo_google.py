"""Dotgo Google API (seed 002 §3): every operation against the golden fixtures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rcskit.client import DotgoGoogleConfig, RcsClient
from rcskit.errors import (
    AuthError,
    InvalidMessage,
    NotFound,
    ProviderError,
    RateLimited,
    RcsError,
    ServerError,
    UnsupportedFeature,
)
from rcskit.formats import google
from rcskit.message import Contact, File, Message
from rcskit.providers import dotgo_google
from rcskit.results import Capabilities, FileInfo, SendResult, TesterResult
from rcskit.retry import NO_RETRY, RetryPolicy
from rcskit.transport import HttpRequest, HttpResponse
from tests.seeds import entries, load

from .conftest import BOT, ROOT, FakeClock, FakePlatform, answer_with, query_of, wire_json

SEND_PATH = "/v1/phones/{phone_number}/agentMessages/async"
PHONE = "+914253136789"
MESSAGE_ID = "d2f81052-37c7-469c-997b-9576023b4220"
EVENT_ID = "6924cc84-dc0b-4679-a4ab-50c0875b309f"


def client(platform: FakePlatform, **kw: Any) -> RcsClient:
    kw.setdefault("validation", "off")
    return RcsClient(
        DotgoGoogleConfig(BOT, "client-id", "client-secret"), transport=platform.transport, **kw
    )


def check(req: HttpRequest, desc: dict[str, Any], *, url: str | None = None) -> None:
    assert req.method == desc["method"]
    assert req.url == (url or desc["url"].split("?")[0])
    assert query_of(req) == desc["query"]
    want = {k: ("Bearer tok-1" if k == "Authorization" else v) for k, v in desc["headers"].items()}
    assert req.encode().headers == want


@pytest.mark.parametrize(
    "entry", entries(seed="002", kind="request", path=SEND_PATH), ids=lambda e: e["file"]
)
async def test_send_bodies_are_the_seed_bodies(entry: dict[str, Any]) -> None:
    body = load(entry)
    message = google.decode(body).message.with_id(MESSAGE_ID)
    platform = answer_with(200, load("dotgo_google/send_response_200.json"))
    async with client(platform) as c:
        result = await c.send(PHONE, message)
    (req,) = platform.api_requests
    check(req, load("dotgo_google/send_request_description.json"))
    assert wire_json(req) == body
    assert result.message_id == "19e538c9-69ad-4c76-ac20-3e092a87f97a"


async def test_send_always_carries_a_message_id_and_retries_reuse_it(clock: FakeClock) -> None:
    answers = iter([HttpResponse(503), HttpResponse(502), HttpResponse.of_json(200, {})])
    platform = FakePlatform(lambda req: next(answers))
    async with client(platform, sleep=clock.sleep, retry=RetryPolicy(random=lambda: 0.5)) as c:
        result = await c.send(PHONE, "hello")
    ids = [query_of(r)["messageId"] for r in platform.api_requests]
    assert len(ids) == 3 and len(set(ids)) == 1
    assert result.message_id == ids[0] and len(ids[0]) == 36
    assert len(clock.sleeps) == 2


async def test_given_message_id_is_used() -> None:
    platform = answer_with(200, {})
    async with client(platform) as c:
        result = await c.send(PHONE, Message("hi", message_id="my-id-1"))
    assert query_of(platform.api_requests[0])["messageId"] == "my-id-1"
    assert result.message_id == "my-id-1" and result.status == "pending"


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("read_event", lambda c: c.mark_read("6924cc84-dc0b-4679-a4ab-50c0875b309f ", PHONE)),
        ("typing_event", lambda c: c.send_typing(PHONE)),
    ],
)
async def test_agent_events(name: str, call: Callable[[RcsClient], Awaitable[None]]) -> None:
    desc = load(f"dotgo_google/{name}_request_description.json")
    platform = answer_with(200)
    async with client(platform) as c:
        await call(c)
    (req,) = platform.api_requests
    check(req, {**desc, "query": {"botId": BOT, "eventId": query_of(req)["eventId"]}})
    assert len(query_of(req)["eventId"]) == 36  # a fresh uuid4 per event
    assert wire_json(req) == load(desc["body_fixture"])


async def test_revoke_with_and_without_conversation_id() -> None:
    desc = load("dotgo_google/revoke_request_description.json")
    url = desc["url"].split("?")[0].replace("{message_id}", MESSAGE_ID)
    platform = answer_with(200)
    async with client(platform) as c:
        r = await c.revoke(MESSAGE_ID, PHONE, conversation_id="a5a96c284d90ff352ac415e5a8ec213a")
        await c.revoke(MESSAGE_ID, PHONE)
    with_body, without = platform.api_requests
    check(with_body, desc, url=url)
    assert wire_json(with_body) == load("dotgo_google/revoke_request.json")
    assert without.method == "DELETE" and without.url == url and without.encode().body is None
    assert without.encode().headers == {"Authorization": "Bearer tok-1"}
    assert r.message_id == MESSAGE_ID


async def test_capabilities_request() -> None:
    desc = load("dotgo_google/capabilities_request_description.json")
    platform = answer_with(200, load("dotgo_google/capabilities_response_200.json"))
    async with client(platform) as c:
        caps = await c.capabilities(PHONE)
    (req,) = platform.api_requests
    check(req, {**desc, "query": {"botId": BOT, "requestId": query_of(req)["requestId"]}})
    assert caps.supports("RICHCARD_CAROUSEL") and len(caps.features) == 8


async def test_binary_upload_request() -> None:
    desc = load("dotgo_google/upload_file_request_description.json")
    platform = answer_with(200, load("dotgo_google/upload_file_response_200.json"))
    async with client(platform) as c:
        info = await c.upload_file(b"\xff\xd8jpeg", mime_type="image/jpeg")
    (req,) = platform.api_requests
    assert req.method == "POST" and req.url == f"{ROOT}/upload/v1/files"
    assert query_of(req) == {"botId": BOT}
    assert set(desc["headers"]) == {"Authorization", "Content-Type"}
    assert req.encode().headers == {"Content-Type": "image/jpeg", "Authorization": "Bearer tok-1"}
    assert req.encode().body == b"\xff\xd8jpeg"
    assert info.file_id == "9mEFZnVTBsyncGwtVTH7BovQwuz0Msr9p"
    # the id goes straight into a file message
    body = google.encode(Message(File(file_id=info.file_id)))
    assert body == load("dotgo_google/send_file_id_request.json") | {
        "contentMessage": {"fileName": info.file_id}
    }


async def test_add_tester_request() -> None:
    desc = load("dotgo_google/add_tester_request_description.json")
    platform = answer_with(200, load("dotgo_google/add_tester_response_200.json"))
    async with client(platform) as c:
        result = await c.add_tester(PHONE)
    (req,) = platform.api_requests
    check(req, desc, url=desc["url"].split("?")[0].replace("{phone_number}", PHONE))
    assert req.encode().body is None
    assert result == TesterResult(
        provider="dotgo_google",
        number=PHONE,
        status="Success",
        detail="Submitted, Tester Invite Sent",
        raw=load("dotgo_google/add_tester_response_200.json"),
    )


async def test_tester_refusal_in_a_200_is_an_error() -> None:
    platform = answer_with(200, {"statusCode": "Failure", "response": "Tester limit reached"})
    async with client(platform) as c:
        with pytest.raises(ProviderError, match="Tester limit reached") as info:
            await c.add_tester(PHONE)
    assert info.value.code == "Failure"


async def test_bulk_uses_the_common_gsma_endpoint() -> None:
    platform = answer_with(200, {"rcsEnabledContacts": ["+919686960876"]})
    async with client(platform) as c:
        result = await c.bulk_capabilities(["+919686960876", "+919688757768"])
    assert platform.api_requests[0].url == f"{ROOT}/bot/v1/{BOT}/rcsEnabledContacts"
    assert result.provider == "dotgo_google" and result.unreachable == {"+919688757768"}


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.mark_read("m1"),  # no recipient
        lambda c: c.revoke("m1"),
        lambda c: c.send(Contact(chat_id="93JF93SEIJFE"), "hi"),
    ],
)
async def test_recipient_needed_before_any_network_call(
    call: Callable[[RcsClient], Awaitable[Any]],
) -> None:
    platform = answer_with(200)
    async with client(platform) as c:
        with pytest.raises(InvalidMessage, match="to"):
            await call(c)
    assert platform.transport.requests == []


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.send_typing(PHONE, active=False),
        lambda c: c.upload_file("https://example.com/a.png"),
        lambda c: c.status("m1"),
        lambda c: c.file_info("f"),
        lambda c: c.delete_file("f"),
    ],
)
async def test_unsupported_before_any_network_call(
    call: Callable[[RcsClient], Awaitable[Any]],
) -> None:
    platform = answer_with(200)
    async with client(platform) as c:
        with pytest.raises(UnsupportedFeature):
            await call(c)
    assert platform.transport.requests == []


def error(cls: type[RcsError], message: str, retryable: bool = False) -> Callable[[Any], None]:
    def check_error(e: Any) -> None:
        assert type(e) is cls, repr(e)
        assert e.message == message and e.provider == "dotgo_google" and e.retryable is retryable

    return check_error


def _sent(r: Any) -> None:
    assert isinstance(r, SendResult) and r.message_id == "19e538c9-69ad-4c76-ac20-3e092a87f97a"


def _features(r: Any) -> None:
    assert isinstance(r, Capabilities) and r.rcs_enabled and "ACTION_DIAL" in r.features


def _not_rcs(r: Any) -> None:
    assert isinstance(r, Capabilities) and not r.rcs_enabled and r.features == frozenset()
    assert r.raw == load("dotgo_google/capabilities_response_404.json")


def _uploaded(r: Any) -> None:
    assert isinstance(r, FileInfo) and r.file_id == "9mEFZnVTBsyncGwtVTH7BovQwuz0Msr9p"


def _tester(r: Any) -> None:
    assert isinstance(r, TesterResult) and r.status == "Success"


EXPECT: dict[str, tuple[Callable[[RcsClient], Awaitable[Any]], Callable[[Any], None]]] = {
    "send_response_200.json": (lambda c: c.send(PHONE, "hi"), _sent),
    "send_response_failed_403.json": (
        lambda c: c.send(PHONE, "hi"),
        error(AuthError, "Invalid client id!"),
    ),
    "revoke_response_404.json": (
        lambda c: c.revoke(MESSAGE_ID, PHONE),
        error(NotFound, "Not found : Message Id"),
    ),
    "capabilities_response_200.json": (lambda c: c.capabilities(PHONE), _features),
    "capabilities_response_404.json": (lambda c: c.capabilities(PHONE), _not_rcs),
    "upload_file_response_200.json": (
        lambda c: c.upload_file(b"x", mime_type="image/png"),
        _uploaded,
    ),
    "upload_file_response_500.json": (
        lambda c: c.upload_file(b"x", mime_type="image/png"),
        error(ServerError, "Processing failed : Unable to store the file.", retryable=True),
    ),
    "add_tester_response_200.json": (lambda c: c.add_tester(PHONE), _tester),
    "throttling_response_429.json": (
        lambda c: c.send(PHONE, "hi"),
        error(
            RateLimited,
            "Number of API requests allowed per second exceeded. Please retry",
            retryable=True,
        ),
    ),
}

RESPONSES = entries(seed="002", kind="response", file=lambda f: f.startswith("dotgo_google/"))


def test_every_documented_response_has_an_expectation() -> None:
    assert {e["file"].split("/", 1)[1] for e in RESPONSES} == set(EXPECT)


@pytest.mark.parametrize("entry", RESPONSES, ids=lambda e: e["file"])
async def test_documented_responses(entry: dict[str, Any]) -> None:
    call, expect = EXPECT[entry["file"].split("/", 1)[1]]
    platform = answer_with(entry["status"], load(entry))
    async with client(platform, retry=NO_RETRY) as c:
        try:
            outcome: Any = await call(c)
        except RcsError as err:
            outcome = err
    expect(outcome)


def test_failed_event_in_a_2xx_is_an_error() -> None:
    body = load("dotgo_google/send_response_failed_403.json")
    with pytest.raises(ProviderError, match="Invalid client id!"):
        dotgo_google.parse_send(None, HttpResponse.of_json(200, body))  # type: ignore[arg-type]


async def test_google_text_limit_is_checked_before_any_call() -> None:
    """The Google-style API takes Google's AgentContentMessage: 3072 characters of text at
    most (the emulator and Google refuse more), refused here before any request."""
    platform = answer_with(200, load("dotgo_google/send_response_200.json"))
    async with client(platform, validation="strict") as c:  # the client's default policy
        with pytest.raises(InvalidMessage, match=r"text.*3072"):
            await c.send(PHONE, "x" * 3073)
        assert platform.transport.requests == []
        await c.send(PHONE, "x" * 3072)
    assert len(platform.api_requests) == 1
