"""Throttling exactly as seed 002 section 6, on the injectable clock."""

from __future__ import annotations

from rcskit.emulator.core.throttle import SlidingWindow, allow_group1, allow_per_minute
from tests.seeds import load

from .asgi_call import basic
from .conftest import GOOGLE_BOT, GSMA_BOT, Emu, text_body
from .test_conformance import same_shape

T0 = 1_700_000_000.0


def test_group1_allows_20_percent_spikes_in_one_second() -> None:
    window = SlidingWindow(30)
    accepted = sum(allow_group1(window, T0 + i / 100, tps=50) for i in range(70))
    assert accepted == 60  # 50 TPS + 20 %
    assert allow_group1(window, T0 + 1.0, tps=50)  # the next second starts afresh


def test_group1_caps_30_second_window_at_30_times_tps() -> None:
    window = SlidingWindow(30)
    for second in range(25):  # 25 s at the 60/s spike rate = 1500 = 30 * 50
        assert sum(allow_group1(window, T0 + second + i / 100, tps=50) for i in range(60)) == 60
    assert not allow_group1(window, T0 + 25, tps=50)
    assert not allow_group1(window, T0 + 29.99, tps=50)
    # At T0+30 the bucket of second 0 leaves the window: 60 more fit.
    assert sum(allow_group1(window, T0 + 30 + i / 100, tps=50) for i in range(70)) == 60


def test_rejected_requests_do_not_count() -> None:
    window = SlidingWindow(60)
    assert [allow_per_minute(window, T0, 2) for _ in range(5)] == [True, True, False, False, False]
    assert window.counts(T0) == (2, 2)
    assert allow_per_minute(window, T0 + 60, 2)


async def test_send_is_throttled_with_the_seed_body(emu: Emu) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.tps = 5
    headers = await emu.auth()
    statuses = [(await emu.send_gsma(text_body(), headers=headers)).status for _ in range(6)]
    assert statuses == [202] * 6
    refused = await emu.send_gsma(text_body(), headers=headers)
    assert refused.status == 429
    expected = load("dotgo_gsma/throttling_response_429.json")
    same_shape(expected, refused.json())
    assert refused.json()["reason"] == {"text": expected["reason"]["text"]}
    emu.clock.advance(1)
    assert (await emu.send_gsma(text_body(), headers=headers)).status == 202


async def test_capability_check_and_revoke_share_group1(emu: Emu) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.tps = 2.5  # 3 per second
    headers = await emu.auth()
    sent = await emu.send_gsma(text_body(phone="+14255550100"), headers=headers)
    caps = await emu.client.get(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/contactCapabilities?userContact=+14251234567",
        headers=headers,
    )
    msg_id = sent.json()["RCSMessage"]["msgId"]
    url = f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/{msg_id}/status"
    revoke = await emu.client.put(
        url, json={"RCSMessage": {"status": "cancelled"}}, headers=headers
    )
    assert (sent.status, caps.status, revoke.status) == (202, 200, 204)
    fourth = await emu.client.get(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/contactCapabilities?userContact=+14251234567",
        headers=headers,
    )
    assert fourth.status == 429
    status = await emu.client.get(url, headers=headers)  # status queries are not throttled
    assert status.status == 200


async def test_google_throttling_body(emu: Emu) -> None:
    bot = emu.state.bot(GOOGLE_BOT)
    assert bot is not None
    bot.tps = 1
    headers = await emu.auth(GOOGLE_BOT)
    url = f"/dotgo/rcs/v1/phones/+919686960276/agentMessages/async?botId={GOOGLE_BOT}"
    ok = await emu.client.post(
        url + "&messageId=a", json={"contentMessage": {"text": "x"}}, headers=headers
    )
    assert ok.status == 200
    refused = await emu.client.post(
        url + "&messageId=b", json={"contentMessage": {"text": "x"}}, headers=headers
    )
    assert refused.status == 429
    expected = load("dotgo_google/throttling_response_429.json")
    same_shape(expected, refused.json())
    assert refused.json()["senderPhoneNumber"] == "+919686960276"
    assert refused.json()["messageId"] == "b"
    assert refused.json()["reason"].strip() == expected["reason"].strip()


async def test_bulk_capability_is_group2_per_minute(emu: Emu) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.tpm = 2
    headers = await emu.auth()
    url = f"/dotgo/rcs/bot/v1/{GSMA_BOT}/rcsEnabledContacts"
    body = {"users": ["+14251234567"]}
    replies = [await emu.client.post(url, json=body, headers=headers) for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 429]
    assert replies[2].json()["reason"]["text"].startswith("Number of API requests allowed per min")
    emu.clock.advance(30)
    assert (await emu.client.post(url, json=body, headers=headers)).status == 429
    emu.clock.advance(30)
    assert (await emu.client.post(url, json=body, headers=headers)).status == 200


async def test_token_endpoint_allows_60_per_minute(emu: Emu) -> None:
    bot = emu.config.bot(GSMA_BOT)
    assert bot is not None
    headers = basic(bot.client_id, emu.secret(GSMA_BOT))
    url = "/dotgo/auth/oauth/token?grant_type=client_credentials"
    statuses = [(await emu.client.post(url, headers=headers)).status for _ in range(61)]
    assert statuses == [200] * 60 + [429]
    emu.clock.advance(60)
    assert (await emu.client.post(url, headers=headers)).status == 200
