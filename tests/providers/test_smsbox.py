"""SMSBOX (seed 004): every call against the golden fixtures, limits, errors, secrecy."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from rcskit.client import DotgoConfig, RcsClient, SmsboxConfig
from rcskit.errors import (
    AuthError,
    InvalidMessage,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    UnsupportedFeature,
)
from rcskit.formats import google
from rcskit.message import Card, Contact, Media, Message, Reply
from rcskit.providers import capability_table, smsbox
from rcskit.retry import NO_RETRY
from rcskit.transport import FakeTransport, HttpRequest, HttpResponse
from tests.seeds import load

from .conftest import BOT, CANARY, wire_json

AGENT = "my_agent_smsbox"
BASE = f"https://api.rcsbox.net/rcs/1.0/json/{AGENT}"
PHONE = "+33612345678"
SEED_NUMBER = "+336XXXXXXXX"  # the seeds' placeholder recipient


def fixture(name: str) -> Any:
    return load(f"smsbox/{name}_reconstructed.json")


def with_number(body: dict[str, Any], number: str = PHONE) -> dict[str, Any]:
    """A seed request body with its placeholder recipient replaced by a real number."""
    return {**body, "recipients": [number if n == SEED_NUMBER else n for n in body["recipients"]]}


class Recorder:
    """A fake SMSBOX: records requests and answers with ``answer(request)``."""

    def __init__(self, answer: Any) -> None:
        self.transport = FakeTransport(answer if callable(answer) else lambda req: answer)

    @property
    def requests(self) -> list[HttpRequest]:
        return self.transport.requests


def client(answer: Any, **kw: Any) -> tuple[RcsClient, Recorder]:
    recorder = Recorder(answer)
    kw.setdefault("validation", "off")
    config_kw = kw.pop("config", {})
    cfg = SmsboxConfig(AGENT, api_key=f"KEY-{CANARY}", **config_kw)
    return RcsClient(cfg, transport=recorder.transport, **kw), recorder


def accepted() -> HttpResponse:
    return HttpResponse.of_json(202, fixture("send_message_response"))


def check(req: HttpRequest, operation: str) -> None:
    assert req.method == "POST"
    assert req.url == f"{BASE}/{operation}"
    assert req.encode().headers == {
        "Content-Type": "application/json",
        "Authorization": f"App KEY-{CANARY}",
    }


# ---------------------------------------------------------------- message


@pytest.mark.parametrize("how", ["ttl", "validity_minutes", "config default"])
async def test_send_matches_the_seed(how: str) -> None:
    want = fixture("send_message_request")
    options: dict[str, Any] = {}
    if how == "config default":
        options["config"] = {"default_validity_minutes": 720}
    c, rec = client(accepted(), **options)
    async with c:
        if how == "ttl":
            sent = await c.send(PHONE, Message("example message", ttl="43200s"))
        elif how == "validity_minutes":
            many = await c.send_many([PHONE], "example message", validity_minutes=720)
            sent = many.results[0]
        else:
            sent = await c.send(PHONE, "example message")
    (req,) = rec.requests
    check(req, "message")
    assert wire_json(req) == with_number(want)
    assert list(wire_json(req)) == list(want)
    assert sent.message_id == "XXXXXXXXXXXXXX"
    assert (sent.status, sent.detail) == ("accepted", "PROCESSING")


async def test_send_without_validity_leaves_it_out() -> None:
    c, rec = client(accepted())
    async with c:
        await c.send(PHONE, "hello")
    assert wire_json(rec.requests[0]) == {
        "recipients": [PHONE],
        "contentMessage": {"text": "hello"},
    }


async def test_content_message_is_the_google_agent_content_message() -> None:
    message = Message(
        Card(title="Sale", description="50% off", media=Media.image("https://e.com/a.jpg")),
        suggestions=[Reply("Yes", "yes")],
    )
    c, rec = client(accepted())
    async with c:
        await c.send(PHONE, message)
    body = wire_json(rec.requests[0])
    assert body["contentMessage"] == google.encode(message)["contentMessage"]
    assert body["contentMessage"]["richCard"]["standaloneCard"]["cardContent"]["title"] == "Sale"


async def test_send_many_parses_every_recipient_and_deduplicates() -> None:
    other = "+33612345679"
    answer = HttpResponse.of_json(
        202,
        {
            "response": {"response_code": "202", "response_desc": "Request successfully queued."},
            "details": "Request accepted for processing.",
            "reference": "REF-1",
            "recipients": [
                {"submitted": PHONE, "rewrited": PHONE[1:], "state": "ACCEPTED"},
                {
                    "submitted": other,
                    "rewrited": other[1:],
                    "state": "REJECTED",
                    "reason_code": "X",
                },
            ],
        },
    )
    c, rec = client(answer)
    async with c:
        result = await c.send_many([PHONE, "+33 6 12 34 56 79", PHONE], "hi", validity_minutes=1)
    assert wire_json(rec.requests[0])["recipients"] == [PHONE, other]
    assert wire_json(rec.requests[0])["validity"] == 1
    assert result.message_id == "REF-1"
    mine = result.result_for(other)
    assert mine is not None and (mine.status, mine.detail) == ("rejected", "X")
    assert [r.to for r in result.results] == [PHONE, other]


async def test_more_than_5000_recipients_is_refused_before_any_call() -> None:
    numbers = [f"+3361{i:07d}" for i in range(5001)]
    c, rec = client(accepted())
    async with c:
        with pytest.raises(InvalidMessage) as info:
            await c.send_many(numbers, "hi")
    assert rec.requests == []
    assert "recipients" in str(info.value) and "at most 5000" in str(info.value)


@pytest.mark.parametrize("minutes", [0, -5, 10081, 100_000])
async def test_validity_bounds_are_checked_before_any_call(minutes: int) -> None:
    c, rec = client(accepted())
    async with c:
        with pytest.raises(InvalidMessage) as info:
            await c.send_many([PHONE], "hi", validity_minutes=minutes)
    assert rec.requests == []
    text = str(info.value)
    assert "validity" in text and "between 1 and 10080" in text and str(minutes) in text


@pytest.mark.parametrize("minutes", [1, 10080])
async def test_validity_bounds_are_inclusive(minutes: int) -> None:
    c, rec = client(accepted())
    async with c:
        await c.send_many([PHONE], "hi", validity_minutes=minutes)
    assert wire_json(rec.requests[0])["validity"] == minutes


@pytest.mark.parametrize(
    ("message", "error", "text"),
    [
        (Message("hi", ttl="90s"), InvalidMessage, "whole minutes"),
        (Message("hi", ttl="605400s"), InvalidMessage, "ttl: '605400s' .*between 1 and 10080"),
        (Message("hi", expire_time="2030-01-01T00:00:00Z"), UnsupportedFeature, "expire_time"),
        (Message("hi", traffic_type="advertisement"), UnsupportedFeature, "traffic_type"),
    ],
)
async def test_what_smsbox_cannot_carry_is_refused(
    message: Message, error: type[Exception], text: str
) -> None:
    c, rec = client(accepted())
    async with c:
        with pytest.raises(error, match=text):
            await c.send(PHONE, message)
    assert rec.requests == []


def test_a_bad_default_validity_names_the_field() -> None:
    with pytest.raises(ValueError, match="default_validity_minutes"):
        SmsboxConfig(AGENT, api_key="k", default_validity_minutes=20000)


# ---------------------------------------------------------------- the other calls


async def test_revoke_matches_the_seed() -> None:
    want = fixture("revoke_request")
    c, rec = client(HttpResponse.of_json(202, fixture("revoke_response")))
    async with c:
        result = await c.revoke(want["reference"], PHONE)
        with pytest.raises(InvalidMessage, match="to"):
            await c.revoke("REF")
    (req,) = rec.requests
    check(req, "revoke")
    assert wire_json(req) == with_number(want)
    assert result.message_id == want["reference"] and result.accepted


async def test_read_event_matches_the_seed() -> None:
    want = fixture("read_event_request")
    c, rec = client(HttpResponse.of_json(202, fixture("read_event_response")))
    async with c:
        await c.mark_read("user-message-1", PHONE)
    (req,) = rec.requests
    check(req, "event")
    assert wire_json(req) == with_number(want)


async def test_add_tester_matches_the_seed_and_reads_the_state() -> None:
    want = fixture("add_testers_request")
    c, rec = client(HttpResponse.of_json(200, fixture("add_testers_response")))
    async with c:
        result = await c.add_tester(PHONE)
    (req,) = rec.requests
    check(req, "add-testers")
    assert wire_json(req) == with_number(want)
    assert (result.number, result.status, result.detail) == (PHONE, "DELETED", "ALREADY_ADDED")


def test_at_most_ten_testers_per_call() -> None:
    cfg = SmsboxConfig(AGENT, api_key="k")
    contacts = tuple(Contact(f"+336123456{i:02d}") for i in range(11))
    with pytest.raises(InvalidMessage, match="at most 10"):
        smsbox.build_add_testers(cfg, contacts)
    assert len(wire_json(smsbox.build_add_testers(cfg, contacts[:10]))["recipients"]) == 10


async def test_capabilities_match_the_seed() -> None:
    want = fixture("capabilities_request")
    c, rec = client(HttpResponse.of_json(200, fixture("capabilities_response")))
    async with c:
        caps = await c.capabilities(PHONE)
    (req,) = rec.requests
    check(req, "capabilities")
    assert wire_json(req) == with_number(want)
    assert caps.rcs_enabled and caps.features == {"chatBotCommunication", "RICHCARD_STANDALONE"}


async def test_a_number_that_is_not_reachable() -> None:
    answer = HttpResponse.of_json(
        200,
        {"recipients": [{"submitted": PHONE, "state": "FAILED", "reason_code": "UNREACHABLE"}]},
    )
    c, _ = client(answer)
    async with c:
        caps = await c.capabilities(PHONE)
    assert not caps.rcs_enabled and not caps.features


async def test_bulk_capabilities_split_1200_numbers_into_500_500_200() -> None:
    numbers = [f"+3361234{i:04d}" for i in range(1200)]

    def answer(req: HttpRequest) -> HttpResponse:
        asked = wire_json(req)["recipients"]
        entries = []
        for n in asked:
            last = int(n[-4:])
            if last % 10 == 9:
                continue  # left out of the answer: unknown
            reachable = last % 2 == 0
            entries.append(
                {
                    "submitted": n,
                    "rewrited": n[1:],
                    "state": "SUCCESS" if reachable else "FAILED",
                    "reason_code": "REACHABLE" if reachable else "NOT_RCS",
                    "capabilities": ["chatBotCommunication"] if reachable else [],
                }
            )
        return HttpResponse.of_json(200, {"recipients": entries})

    c, rec = client(answer)
    async with c:
        result = await c.bulk_capabilities(numbers)
    sizes = [len(wire_json(r)["recipients"]) for r in rec.requests]
    assert sizes == [500, 500, 200]
    assert [n for r in rec.requests for n in wire_json(r)["recipients"]] == numbers
    assert all(r.url == f"{BASE}/capabilities" for r in rec.requests)
    assert len(result.reachable) == 600
    assert len(result.unknown) == 120 and len(result.unreachable) == 480
    assert "+33612340009" in result.unknown and "+33612340002" in result.reachable
    assert len(result.raw) == 3


# ---------------------------------------------------------------- errors


ERRORS = [
    (400, "No valid recipient found.", "Wrong query syntax or missing mandatory field."),
    (402, "No credit or insufficient.", "Insufficient balance to process the request."),
    (
        403,
        "API Key not allowed or account discontinued.",
        "Access to the requested resource has been denied.",
    ),
    (404, "Invalid RCSagentId value (not found).", "The requested resource was not found."),
    (
        405,
        "Invalid HTTP method.",
        "The requested method is not supported for the requested resource.",
    ),
    (
        413,
        "Too many recipients (max.: 5000).",
        "The request payload exceeds the maximum allowed size.",
    ),
    (503, "Request failed.", "Service temporarily unavailable."),
    (429, "Slow down.", "Too many requests."),
]
"""providers.md section 1.4 (every documented code) plus a 429, which SMSBOX does not document."""
KINDS = {403: AuthError, 404: NotFound, 503: ServerError, 429: RateLimited}


@pytest.mark.parametrize(("status", "error", "text"), ERRORS)
async def test_documented_errors(status: int, error: str, text: str) -> None:
    body = {"response": {"response_code": str(status), "response_desc": text}, "error": error}
    c, rec = client(HttpResponse.of_json(status, body), retry=NO_RETRY)
    async with c:
        with pytest.raises(ProviderError) as info:
            await c.capabilities(PHONE)
    assert type(info.value) is KINDS.get(status, ProviderError)
    assert info.value.message == f"{error} ({text})" and info.value.status == status
    assert info.value.code is None and info.value.raw == body
    assert len(rec.requests) == 1


async def test_the_api_key_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rcskit")
    c, rec = client(HttpResponse.of_json(403, {"error": "API Key not allowed"}), retry=NO_RETRY)
    async with c:
        with pytest.raises(AuthError) as info:
            await c.send(PHONE, "hi")
        seen = [repr(c), repr(c.auth), str(info.value), repr(info.value.raw)]
    seen += [repr(r) for r in rec.requests] + [repr(r.encode()) for r in rec.requests]
    seen += [r.getMessage() for r in caplog.records]
    seen.append(repr(SmsboxConfig(AGENT, api_key=CANARY)))
    assert CANARY not in "\n".join(seen)


async def test_send_many_is_refused_where_not_offered() -> None:
    transport = FakeTransport(lambda req: HttpResponse(500))
    async with RcsClient(DotgoConfig(BOT, "c", "s"), transport=transport) as c:
        with pytest.raises(UnsupportedFeature, match="send_many is not supported by dotgo"):
            await c.send_many([PHONE], "hi")
    assert transport.requests == []


def test_smsbox_in_the_capability_table() -> None:
    row = dict(capability_table())["smsbox"]
    assert row["send"] and row["send_many"] and row["bulk_capabilities"] and row["add_tester"]
    assert not row["status"] and not row["upload_file"] and not row["send_typing"]
    cfg = SmsboxConfig(AGENT, api_key="k", base_url="http://127.0.0.1:9/smsbox/")
    assert cfg.provider().offers == smsbox.SPEC.operations
    assert cfg.base == f"http://127.0.0.1:9/smsbox/rcs/1.0/json/{AGENT}"


async def test_every_operation_against_the_emulator() -> None:
    """The other side of the wire: the emulator's SMSBOX flavour, in-process."""
    from rcskit.emulator.app import create_app
    from rcskit.emulator.config import default_config
    from rcskit.emulator.flavours import smsbox as smsbox_flavour
    from rcskit.transport import AsgiTransport

    emulated = default_config()
    emulated.bots = [b for b in emulated.bots if b.provider == "smsbox"]
    app = create_app(emulated, flavours=(smsbox_flavour.FLAVOUR,))
    bot = emulated.bots[0]
    assert bot.api_key is not None
    cfg = SmsboxConfig(bot.id, api_key=bot.api_key, base_url="http://emulator.test/smsbox")
    rcs_user, not_rcs = "+914253136789", "+914253136788"
    async with RcsClient(cfg, transport=AsgiTransport(app)) as c:
        sent = await c.send(rcs_user, Message("hello", suggestions=[Reply("Yes", "yes")]))
        assert sent.message_id and sent.status == "accepted"
        many = await c.send_many([rcs_user, not_rcs], "hi all", validity_minutes=60)
        assert {r.to for r in many.results} == {rcs_user, not_rcs} and many.message_id
        assert (await c.revoke(many.message_id or "", rcs_user)).accepted
        await c.mark_read("any", rcs_user)
        tester = await c.add_tester(rcs_user)
        assert tester.number == rcs_user and tester.status
        caps = await c.capabilities(rcs_user)
        bulk = await c.bulk_capabilities([rcs_user, not_rcs])
        assert not_rcs in bulk.unreachable and not (await c.capabilities(not_rcs)).rcs_enabled
        assert (rcs_user in bulk.reachable) == caps.rcs_enabled
