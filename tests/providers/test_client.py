"""RcsClient behaviour shared by all providers: 401 once, retries, limits, secrets."""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import replace
from typing import Any

import pytest

from rcskit import limits
from rcskit.auth import StaticToken
from rcskit.client import DotgoConfig, DotgoGoogleConfig, MaapConfig, RcsClient
from rcskit.errors import (
    AuthError,
    InvalidMessage,
    ProviderError,
    RcsError,
    ServerError,
    TransportError,
    UnsupportedFeature,
)
from rcskit.message import Message, Reply, Template
from rcskit.providers import (
    OPERATIONS,
    capability_markdown,
    capability_table,
    dotgo,
    dotgo_google,
    maap,
)
from rcskit.ratelimit import TokenBucket
from rcskit.retry import RetryPolicy
from rcskit.transport import ConnectError, HttpRequest, HttpResponse

from .conftest import BOT, CANARY, FakeClock, FakePlatform, answer_with, token_response

PHONE = "+914253136789"
ACCEPTED = {"RCSMessage": {"msgId": "m-1", "status": "pending"}}


def dotgo_client(platform: FakePlatform, **kw: Any) -> RcsClient:
    secret = kw.pop("secret", "client-secret")
    return RcsClient(DotgoConfig(BOT, "client-id", secret), transport=platform.transport, **kw)


def test_capability_table_lists_every_provider_module() -> None:
    table = dict(capability_table())
    assert set(table) >= {"dotgo", "dotgo_google", "maap"}
    assert table["dotgo"]["bulk_capabilities"] and not table["dotgo"]["add_tester"]
    assert table["dotgo_google"]["add_tester"] and not table["dotgo_google"]["status"]
    assert not table["maap"]["bulk_capabilities"] and table["maap"]["delete_file"]
    assert all(list(row) == list(OPERATIONS) for row in table.values())
    md = capability_markdown()
    assert "| Dotgo, GSMA API (`dotgo`) |" in md and md.count("\n") == len(table) + 1


@pytest.mark.parametrize(
    ("module", "cfg"),
    [
        (dotgo, DotgoConfig(BOT, "c", "s")),
        (dotgo_google, DotgoGoogleConfig(BOT, "c", "s")),
        (maap, MaapConfig("https://m.example", BOT, token="t")),
    ],
)
def test_bound_providers_offer_what_their_info_says(module: Any, cfg: Any) -> None:
    assert cfg.provider().offers == module.SPEC.operations
    assert cfg.name == module.SPEC.name == cfg.provider().name


@pytest.mark.parametrize("op", ["add_tester"])
async def test_unsupported_operation_makes_no_call_at_all(op: str) -> None:
    platform = answer_with(200)
    async with dotgo_client(platform) as c:
        with pytest.raises(UnsupportedFeature, match="add_tester is not supported by dotgo"):
            await c.add_tester(PHONE)
    assert platform.transport.requests == [] and platform.token_count == 0


async def test_401_refreshes_the_token_and_retries_once() -> None:
    answers = iter(
        [
            HttpResponse.of_json(401, {"reason": {"text": "Unauthorized", "code": "401-A"}}),
            HttpResponse.of_json(202, ACCEPTED),
        ]
    )
    platform = FakePlatform(lambda r: next(answers))
    async with dotgo_client(platform) as c:
        result = await c.send(PHONE, "hi")
    assert result.message_id == "m-1"
    assert platform.token_count == 2
    first, second = platform.api_requests
    assert first.header("authorization") == "Bearer tok-1"
    assert second.header("authorization") == "Bearer tok-2"


async def test_second_401_is_auth_error() -> None:
    body = {"reason": {"text": "Invalid ClientID", "code": "401-B"}}
    platform = answer_with(401, body)
    async with dotgo_client(platform) as c:
        with pytest.raises(AuthError, match="Invalid ClientID") as info:
            await c.send(PHONE, "hi")
    assert info.value.code == "401-B" and platform.token_count == 2
    assert len(platform.api_requests) == 2


async def test_401_that_is_not_about_credentials_does_not_refresh() -> None:
    body = {"reason": {"text": "User is not in conversation", "code": "401-D"}}
    platform = answer_with(401, body)
    async with dotgo_client(platform) as c:
        with pytest.raises(ProviderError) as info:
            await c.send(PHONE, "hi")
    assert not isinstance(info.value, AuthError)
    assert platform.token_count == 1 and len(platform.api_requests) == 1


async def test_401_with_a_static_token_is_final() -> None:
    platform = answer_with(401, {"reason": {"text": "bad token"}})
    cfg = MaapConfig("https://m.example", BOT, token="t")
    async with RcsClient(cfg, transport=platform.transport) as c:
        with pytest.raises(AuthError):
            await c.status("m")
    assert len(platform.transport.requests) == 1


async def test_thousand_concurrent_sends_fetch_one_token() -> None:
    platform = FakePlatform(lambda r: HttpResponse.of_json(202, ACCEPTED), token_delay=0.01)
    async with dotgo_client(platform, validation="off") as c:
        results = await asyncio.gather(*(c.send(PHONE, "hi") for _ in range(1000)))
    assert len(results) == 1000 and platform.token_count == 1
    assert len(platform.api_requests) == 1000


async def test_concurrent_401s_refresh_once() -> None:
    state = {"revoked": "tok-1"}

    def api(req: HttpRequest) -> HttpResponse:
        if req.header("authorization") == f"Bearer {state['revoked']}":
            return HttpResponse.of_json(401, {"reason": {"text": "expired", "code": "401-A"}})
        return HttpResponse.of_json(202, ACCEPTED)

    platform = FakePlatform(api, token_delay=0.01)
    async with dotgo_client(platform) as c:
        results = await asyncio.gather(*(c.send(PHONE, "hi") for _ in range(50)))
    assert len(results) == 50
    # the first token is refused by every request; exactly one refresh replaces it
    assert platform.token_count == 2


async def test_retry_after_is_honoured(clock: FakeClock) -> None:
    answers = iter(
        [
            HttpResponse.of_json(429, {"reason": {"text": "slow down"}}, {"Retry-After": "3"}),
            HttpResponse.of_json(202, ACCEPTED),
        ]
    )
    platform = FakePlatform(lambda r: next(answers))
    async with dotgo_client(platform, sleep=clock.sleep) as c:
        result = await c.send(PHONE, "hi")
    assert result.message_id == "m-1" and clock.sleeps == [3.0]


async def test_backoff_budget_then_the_last_error(clock: FakeClock) -> None:
    platform = answer_with(503, {"status": "Error", "message": "busy"})
    policy = RetryPolicy(max_attempts=4, base_delay=1.0, random=lambda: 1.0)
    async with dotgo_client(platform, sleep=clock.sleep, retry=policy) as c:
        with pytest.raises(ServerError, match="busy"):
            await c.status("m-1")
    assert clock.sleeps == [1.0, 2.0, 4.0] and len(platform.api_requests) == 4


async def test_sends_without_client_ids_are_not_resent_after_a_5xx_or_timeout(
    clock: FakeClock,
) -> None:
    platform = answer_with(500, {"reason": {"text": "oops", "code": "500-A"}})
    async with dotgo_client(platform, sleep=clock.sleep) as c:
        with pytest.raises(ServerError):
            await c.send(PHONE, "hi")
    assert len(platform.api_requests) == 1 and clock.sleeps == []

    def timeout(req: HttpRequest) -> HttpResponse:
        raise TransportError("no answer within 30 s")

    platform = FakePlatform(timeout)
    async with dotgo_client(platform, sleep=clock.sleep) as c:
        with pytest.raises(TransportError):
            await c.send(PHONE, "hi")
    assert len(platform.api_requests) == 1


async def test_sends_are_resent_when_they_surely_did_not_arrive(clock: FakeClock) -> None:
    calls = {"n": 0}

    def flaky(req: HttpRequest) -> HttpResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectError("cannot connect")
        return HttpResponse.of_json(202, ACCEPTED)

    tokens = iter([HttpResponse(502), token_response("tok-ok")])
    platform = FakePlatform(flaky, tokens=lambda n: next(tokens))
    async with dotgo_client(platform, sleep=clock.sleep) as c:
        result = await c.send(PHONE, "hi")
    assert result.message_id == "m-1"
    assert platform.token_count == 2 and calls["n"] == 2 and len(clock.sleeps) == 2


async def test_limits_are_checked_before_any_call() -> None:
    platform = answer_with(202, ACCEPTED)
    too_many = Message("pick one", suggestions=[Reply(f"o{i}", f"o{i}") for i in range(12)])
    async with dotgo_client(platform) as c:
        with pytest.raises(InvalidMessage, match="suggestions"):
            await c.send(PHONE, too_many)
        with pytest.raises(InvalidMessage, match="to: '0612345678'"):
            await c.send("0612345678", "hi")
        with pytest.raises(InvalidMessage, match="number: '0612345678'"):
            await c.capabilities("0612345678")
    assert platform.transport.requests == []
    async with dotgo_client(platform, validation="warn") as c:
        await c.send(PHONE, too_many)
    assert len(platform.api_requests) == 1


async def test_one_message_to_many_is_checked_once_but_never_skipped_wrongly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last clean message is remembered by identity; anything that could change its
    verdict (a template's params dict, an expiry, the policy being off) is checked every time."""
    checked: list[Message] = []
    real = limits.validate

    def counting(msg: Message, *args: Any, **kw: Any) -> Any:
        checked.append(msg)
        return real(msg, *args, **kw)

    monkeypatch.setattr(limits, "validate", counting)
    platform = answer_with(202, ACCEPTED)
    hello = Message("hello")
    expiring = Message("soon", expire_time="2999-01-01T00:00:00Z")
    template = Message(Template("t1", {"name": "Ada"}))
    too_many = Message("pick", suggestions=[Reply(f"o{i}", f"o{i}") for i in range(12)])
    async with dotgo_client(platform, validation="warn") as c:
        for _ in range(3):
            await c.send(PHONE, hello)
        assert checked == [hello]
        for _ in range(2):
            await c.send(PHONE, too_many)  # with findings: checked (and warned) each time
            await c.send(PHONE, expiring)
            await c.send(PHONE, template)
        assert checked == [hello] + [too_many, expiring, template] * 2
        c.validation = limits.Policy.STRICT
        with pytest.raises(InvalidMessage, match="suggestions"):
            await c.send(PHONE, too_many)
    async with dotgo_client(platform, validation="off") as c:
        await c.send(PHONE, too_many)  # unchecked, so not remembered as clean
        c.validation = limits.Policy.STRICT
        with pytest.raises(InvalidMessage, match="suggestions"):
            await c.send(PHONE, too_many)


async def test_national_numbers_with_a_region() -> None:
    platform = answer_with(202, ACCEPTED)
    async with dotgo_client(platform, region="FR") as c:
        result = await c.send("06 12 34 56 78", "bonjour")
    assert result.to == "+33612345678"


async def test_upload_errors_before_any_call(tmp_path: Any) -> None:
    platform = answer_with(202)
    async with dotgo_client(platform) as c:
        with pytest.raises(InvalidMessage, match="mime_type"):
            await c.upload_file(b"bytes")
        with pytest.raises(InvalidMessage, match="cannot be read"):
            await c.upload_file(tmp_path / "missing.png")
        with pytest.raises(InvalidMessage, match="at most"):
            await c.upload_file(b"x" * (100 * 1024 * 1024 + 1), mime_type="image/png")
        with pytest.raises(InvalidMessage, match="until: 'yesterday'"):
            await c.upload_file(b"x", mime_type="image/png", until="yesterday")
    assert platform.transport.requests == []


async def test_limiter_groups() -> None:
    clock = FakeClock()
    send_limiter = TokenBucket(10, clock=clock, sleep=clock.sleep)
    bulk_limiter = TokenBucket.per_minute(60, clock=clock, sleep=clock.sleep)
    platform = FakePlatform(
        lambda r: HttpResponse.of_json(202, {**ACCEPTED, "rcsEnabledContacts": []})
    )
    async with dotgo_client(platform, limiter={"send": send_limiter, "bulk": bulk_limiter}) as c:
        t0 = clock()
        for _ in range(3):
            await c.send(PHONE, "hi")
        assert clock() == pytest.approx(t0 + 0.2)
        await c.status("m-1")  # not rate-limited
        assert clock() == pytest.approx(t0 + 0.2)
        await c.bulk_capabilities([PHONE])
        await c.bulk_capabilities([PHONE])
        assert clock() == pytest.approx(t0 + 1.2)


async def test_bulk_batches_follow_the_operation() -> None:
    cfg = DotgoConfig(BOT, "c", "s")
    provider = cfg.provider()
    assert provider.bulk_capabilities is not None
    small = replace(provider, bulk_capabilities=replace(provider.bulk_capabilities, batch_size=2))
    platform = answer_with(200, {"rcsEnabledContacts": ["+919686960876"]})
    async with RcsClient(small, auth=StaticToken("t"), transport=platform.transport) as c:
        result = await c.bulk_capabilities(["+919686960876", "+919686960877", "+919686960878"])
        empty = await c.bulk_capabilities([])
    assert len(platform.transport.requests) == 2
    assert result.reachable == {"+919686960876"} and len(result.unreachable) == 2
    assert empty.reachable == frozenset() and len(platform.transport.requests) == 2


async def test_owned_transport_is_closed() -> None:
    async with RcsClient(DotgoConfig(BOT, "c", "s")) as c:
        assert "AiohttpTransport" in repr(c)
    platform = answer_with(200)
    async with dotgo_client(platform):
        pass
    assert not platform.transport.closed  # a given transport belongs to the caller


async def test_no_secret_in_any_log_line_exception_or_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A canary secret and a canary token through failing flows: never visible."""
    caplog.set_level(logging.DEBUG, logger="rcskit")
    token_value = "TOKEN-" + CANARY[::-1]
    basic = base64.b64encode(f"client-id:{CANARY}".encode()).decode()
    seen: list[str] = []

    # 1. the token endpoint refuses the credentials
    platform = FakePlatform(
        tokens=lambda n: HttpResponse.of_json(
            401, {"error": "invalid_client", "error_description": "Bad client credentials"}
        )
    )
    async with dotgo_client(platform, secret=CANARY) as c:
        seen.append(repr(c))
        with pytest.raises(AuthError) as e1:
            await c.send(PHONE, "hi")
    seen += [str(e1.value), repr(e1.value), repr(e1.value.raw)]

    # 2. a token, then API failures of every kind
    answers = iter(
        [
            HttpResponse.of_json(401, {"reason": {"text": "Unauthorized", "code": "401-A"}}),
            HttpResponse.of_json(401, {"reason": {"text": "Unauthorized", "code": "401-A"}}),
            HttpResponse.of_json(500, {"reason": {"text": "boom", "code": "500-A"}}),
        ]
    )

    def api(req: HttpRequest) -> HttpResponse:
        try:
            return next(answers)
        except StopIteration:
            raise TransportError("no answer within 30 s") from None

    platform = FakePlatform(api, tokens=lambda n: token_response(token_value))
    async with dotgo_client(platform, secret=CANARY, retry=RetryPolicy(max_attempts=1)) as c:
        for call in (c.send(PHONE, "hi"), c.status("m"), c.capabilities(PHONE)):
            with pytest.raises(RcsError) as info:
                await call
            seen += [str(info.value), repr(info.value), repr(getattr(info.value, "raw", None))]
        seen += [repr(r) for r in platform.transport.requests]
        seen += [repr(r.encode()) for r in platform.transport.requests]
        seen.append(repr(c.auth))
    seen.append(repr(DotgoConfig(BOT, "client-id", CANARY)))
    seen += [r.getMessage() for r in caplog.records]
    assert caplog.records, "the flows log something"
    blob = "\n".join(seen)
    for needle in (CANARY, token_value, basic):
        assert needle not in blob


async def test_an_auth_without_the_fast_path_is_awaited_every_time() -> None:
    """``ready_headers`` is optional: an auth with only ``headers`` works as before."""

    class Minimal:
        refreshable = False
        calls = 0

        async def headers(self, send: Any) -> dict[str, str]:
            Minimal.calls += 1
            return {"Authorization": "Custom x"}

        def invalidate(self, used: Any) -> None:
            pass

    platform = answer_with(202, ACCEPTED)
    async with RcsClient(
        DotgoConfig(BOT, "client-id", "s"), transport=platform.transport, auth=Minimal()
    ) as c:
        await c.send(PHONE, "a")
        await c.send(PHONE, "b")
    assert Minimal.calls == 2
    assert [r.header("authorization") for r in platform.api_requests] == ["Custom x"] * 2


async def test_recipients_are_parsed_once_and_bad_ones_always_refused() -> None:
    platform = answer_with(202, ACCEPTED)
    async with dotgo_client(platform, region="FR") as c:
        first = await c.send("06 12 34 56 78", "a")
        second = await c.send("06 12 34 56 78", "b")
        assert first.to == second.to == "+33612345678"
        for _ in range(2):  # a refused number is not remembered as anything
            with pytest.raises(InvalidMessage, match="to: '12'"):
                await c.send("12", "c")
        for i in range(5000):  # the memory is bounded: it starts afresh when full
            c._contact(f"+3361234{i:04d}")
        assert len(c._contacts) <= 4096
    assert len(platform.api_requests) == 2


async def test_e164_numbers_are_taken_as_they_are_and_the_others_still_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``e164=True`` (a campaign's stored numbers): a number in E.164 form is not parsed
    again; any other is normalised as without the flag, or refused naming its field."""
    import rcskit.client as client_module

    parsed: list[str] = []
    real = client_module.normalize_msisdn

    def spy(number: str, region: str | None = None, *, field: str = "msisdn") -> str:
        parsed.append(number)
        return real(number, region, field=field)

    monkeypatch.setattr(client_module, "normalize_msisdn", spy)
    platform = answer_with(200, {**ACCEPTED, "rcsEnabledContacts": ["+33612345678"]})
    async with dotgo_client(platform, region="FR") as c:
        numbers = ["+33612345678", "06 12 34 56 79", "+33612345678"]
        result = await c.bulk_capabilities(numbers, e164=True)
        assert parsed == ["06 12 34 56 79"], "only the number not in E.164 form is parsed"
        assert result.reachable == {"+33612345678"}
        assert result.unreachable == {"+33612345679"}
        with pytest.raises(InvalidMessage, match=r"numbers\[1\]: '12'"):
            await c.bulk_capabilities(["+33612345678", "12"], e164=True)
        with pytest.raises(InvalidMessage, match=r"numbers\[0\]: '\+0612345678'"):
            await c.bulk_capabilities(["+0612345678"], e164=True)  # a 0 country code
        parsed.clear()
        await c.bulk_capabilities(["+33612345678"])  # without the flag: parsed as ever
        assert parsed == ["+33612345678"]

        parsed.clear()
        sent = await c.send("+33612345678", "hi", e164=True)
        national = await c.send("06 12 34 56 78", "hi", e164=True)
        assert sent.to == national.to == "+33612345678"
        assert parsed == ["06 12 34 56 78"]
        with pytest.raises(InvalidMessage, match="to: '12'"):
            await c.send("12", "hi", e164=True)
        with pytest.raises(InvalidMessage, match=r"to: '\+33 6'"):
            await c.send("+33 6", "hi", e164=True)
    bodies = [r.json for r in platform.api_requests if r.json and "RCSMessage" in r.json]
    assert [b["messageContact"]["userContact"] for b in bodies] == ["+33612345678"] * 2


async def test_the_limiters_are_readable_by_rate_group_but_not_writable() -> None:
    clock = FakeClock()
    send = TokenBucket(10, clock=clock, sleep=clock.sleep)
    bulk = TokenBucket.per_minute(60, clock=clock, sleep=clock.sleep)
    async with dotgo_client(answer_with(200), limiter={"send": send, "bulk": bulk}) as c:
        assert dict(c.limiters) == {"send": send, "bulk": bulk}
        with pytest.raises(TypeError):
            c.limiters["send"] = bulk  # type: ignore[index]
    async with dotgo_client(answer_with(200), limiter=send) as c:
        assert dict(c.limiters) == {"send": send}
    async with dotgo_client(answer_with(200)) as c:
        assert dict(c.limiters) == {}
