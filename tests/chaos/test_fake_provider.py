"""The chaos harness's fake Dotgo platform, driven by rcskit's own client and by raw HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from rcskit.client import RcsClient
from rcskit.errors import NotFound, RateLimited, ServerError, TransportError
from rcskit.message import Message, Text
from rcskit.providers.dotgo import DotgoConfig
from rcskit.retry import RetryPolicy
from tests.chaos.fake_provider import FakeDotgo, Faults, make_app
from tests.chaos.windows import utilisation, worst_window, worst_window_start

Serve = Callable[[FakeDotgo], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[TestServer] = []

    async def start(platform: FakeDotgo) -> str:
        server = TestServer(make_app(platform), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for s in servers:
        await s.close()


def client_for(base: str, platform: FakeDotgo, **kw: Any) -> RcsClient:
    config = DotgoConfig(
        platform.bot_id,
        "client",
        "secret",
        server_root=f"{base}/rcs",
        auth_url=f"{base}/auth/oauth/token",
    )
    return RcsClient(config, retry=RetryPolicy(max_attempts=1), **kw)


def body(to: str, msg_id: str | None = None) -> dict[str, Any]:
    rcs: dict[str, Any] = {"textMessage": "hi"}
    if msg_id:
        rcs["msgId"] = msg_id
    return {"RCSMessage": rcs, "messageContact": {"userContact": to}}


async def post_send(session: aiohttp.ClientSession, base: str, b: dict[str, Any]) -> int:
    async with session.post(
        f"{base}/rcs/bot/v1/chaosbot/messages/async",
        json=b,
        headers={"Authorization": "Bearer chaos-token"},
    ) as r:
        await r.read()
        return r.status


def test_worst_window_counts_closed_sliding_windows() -> None:
    assert worst_window([], 1.0) == 0
    assert worst_window([0.0, 0.5, 1.0, 1.5, 3.0], 1.0) == 3
    assert worst_window([0.0, 1.01, 2.02], 1.0) == 1
    assert utilisation([0.0, 1.0, 2.0], 1.0) == pytest.approx(1.0)
    assert worst_window_start([0.0, 2.0, 2.5, 3.0, 5.0], 1.0) == 2.0
    assert worst_window_start([], 1.0) is None


async def test_rcskit_client_sends_and_looks_up_status(serve: Serve) -> None:
    platform = FakeDotgo(tps=100)
    base = await serve(platform)
    async with client_for(base, platform) as client:
        result = await client.send("+15550000001", Message(Text("hi"), message_id="m-1"))
        assert result.message_id == "m-1"
        status = await client.status("m-1")
        assert status.status == "sent"
        with pytest.raises(NotFound):
            await client.status("never-sent")
    report = platform.report()
    assert report["per_recipient"] == {"+15550000001": 1}
    assert report["status_lookups"] == {"found": 1, "not_found": 1}
    assert len(report["accepted"]) == 1


async def test_rule_is_enforced_with_429_and_retry_after(serve: Serve) -> None:
    platform = FakeDotgo(tps=20)  # 24 in any second
    base = await serve(platform)
    async with aiohttp.ClientSession() as session:
        codes = await asyncio.gather(
            *(post_send(session, base, body(f"+1555000{i:04d}")) for i in range(30))
        )
        assert codes.count(202) == 24 and codes.count(429) == 6
        async with session.post(
            f"{base}/rcs/bot/v1/chaosbot/messages/async",
            json=body("+15559999999"),
            headers={"Authorization": "Bearer chaos-token"},
        ) as r:
            assert r.status == 429
            assert int(r.headers["Retry-After"]) >= 1
            assert (await r.json())["reason"]["code"] == "429-A"
    report = platform.report()
    assert report["worst_1s_accepted"] == 24 and report["worst_1s"] == 31
    assert report["throttled"] == 7
    async with client_for(base, platform) as client:
        with pytest.raises(RateLimited):
            await client.send("+15558888888", Message(Text("hi")))


@pytest.mark.parametrize("dedupe", [True, False])
async def test_dedupe_switch(serve: Serve, dedupe: bool) -> None:
    platform = FakeDotgo(tps=100, dedupe=dedupe)
    base = await serve(platform)
    async with aiohttp.ClientSession() as session:
        assert await post_send(session, base, body("+15550000001", "same")) == 202
        assert await post_send(session, base, body("+15550000001", "same")) == 202
        assert await post_send(session, base, body("+15550000002")) == 202
        assert await post_send(session, base, body("+15550000002")) == 202  # no id: new ones
    report = platform.report()
    assert report["per_recipient"]["+15550000002"] == 2
    if dedupe:
        assert report["ignored"] == 1 and report["duplicates"] == 0
        assert report["per_recipient"]["+15550000001"] == 1
    else:
        assert report["ignored"] == 0 and report["duplicates"] == 1
        assert report["per_recipient"]["+15550000001"] == 2


async def test_status_route_absent_when_switched_off(serve: Serve) -> None:
    platform = FakeDotgo(tps=100, status_lookup=False)
    base = await serve(platform)
    async with client_for(base, platform) as client:
        await client.send("+15550000001", Message(Text("hi"), message_id="m-1"))
        with pytest.raises(NotFound):
            await client.status("m-1")
    assert platform.report()["status_lookups"] == {}


async def test_faults_5xx_and_injected_429_are_not_accepted(serve: Serve) -> None:
    platform = FakeDotgo(tps=100, faults=Faults(rate_5xx=1.0), seed=1)
    base = await serve(platform)
    async with client_for(base, platform) as client:
        with pytest.raises(ServerError):
            await client.send("+15550000001", Message(Text("hi")))
        platform.faults = Faults(rate_429=1.0, retry_after_s=2)
        with pytest.raises(RateLimited) as caught:
            await client.send("+15550000001", Message(Text("hi")))
        assert caught.value.retry_after == pytest.approx(2)
    report = platform.report()
    assert report["deliveries"] == {} and report["faults"] == {"5xx": 1, "429": 1}


async def test_lost_answer_is_accepted_but_the_client_sees_an_error(serve: Serve) -> None:
    platform = FakeDotgo(tps=100, faults=Faults(rate_lost=1.0))
    base = await serve(platform)
    async with client_for(base, platform) as client:
        with pytest.raises(TransportError):
            await client.send("+15550000001", Message(Text("hi"), message_id="lost-1"))
        platform.faults = Faults()
        assert (await client.status("lost-1")).status == "sent"  # the lookup settles it
    assert platform.report()["per_recipient"] == {"+15550000001": 1}


async def test_timeout_is_not_accepted(serve: Serve) -> None:
    platform = FakeDotgo(tps=100, faults=Faults(rate_timeout=1.0, timeout_s=2.0))
    base = await serve(platform)
    async with client_for(base, platform, timeout=0.2) as client:
        with pytest.raises(TransportError):
            await client.send("+15550000001", Message(Text("hi"), message_id="slow-1"))
        with pytest.raises(NotFound):
            await client.status("slow-1")
    assert platform.report()["faults"] == {"timeout": 1}


async def test_fault_rates_can_change_mid_run(serve: Serve) -> None:
    platform = FakeDotgo(tps=100)
    base = await serve(platform)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/_chaos/faults", json={"rate_5xx": 1}) as r,
    ):
        assert (await r.json())["rate_5xx"] == 1.0
        assert await post_send(session, base, body("+15550000001")) in (500, 502)
