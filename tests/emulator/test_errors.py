"""Every error code of seed 002 section 7 (and the seed's error examples) can be provoked."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from rcskit.emulator.config import CurfewConfig, FaultConfig, MaapErrorConfig
from tests.seeds import load

from .asgi_call import Reply, bearer
from .conftest import GOOGLE_BOT, GSMA_BOT, Emu, text_body
from .receiver import Receiver
from .test_conformance import same_shape

TEMPLATE = {"templateCode": "template_123", "customParams": '{"name":"user"}'}


def reason(reply: Reply) -> dict[str, Any]:
    body = reply.json()
    same_shape(load("dotgo_gsma/error_response_401.json")["RCSMessage"], body["RCSMessage"])
    assert body["RCSMessage"]["status"] == "failed"
    result: dict[str, Any] = body["reason"]
    return result


def template_body(phone: str = "+14251234567", **block: Any) -> dict[str, Any]:
    return {
        "RCSMessage": {"templateMessage": {**TEMPLATE, **block}},
        "messageContact": {"userContact": phone},
    }


def bot(emu: Emu, bot_id: str = GSMA_BOT) -> Any:
    found = emu.state.bot(bot_id)
    assert found is not None
    return found


async def test_400_a_missing_template_params(emu: Emu) -> None:
    reply = await emu.send_gsma(template_body(customParams='{"other":"x"}'))
    assert reply.status == 400
    assert reason(reply)["code"] == "400-A"
    assert "Template provided with insufficient params" in reason(reply)["text"]
    assert "name" in reason(reply)["text"]


async def test_400_b_template_not_approved(emu: Emu) -> None:
    reply = await emu.send_gsma(template_body(templateCode="awaiting_approval"))
    assert (reply.status, reason(reply)["code"]) == (400, "400-B")


async def test_400_c_test_template_limit(emu: Emu) -> None:
    b = bot(emu)
    b.launched = False
    b.testers = ["+14251234567"]
    b.test_template_limit = 1
    first = await emu.send_gsma(template_body())
    assert first.status == 202
    second = await emu.send_gsma(template_body())
    assert (second.status, reason(second)["code"]) == (400, "400-C")


async def test_400_d_unknown_template(emu: Emu) -> None:
    reply = await emu.send_gsma(template_body(templateCode="nope"))
    assert (reply.status, reason(reply)["code"]) == (400, "400-D")
    assert reason(reply)["text"].startswith("Template code with bot doesn't exist.")


async def test_400_e_unknown_bot(emu: Emu) -> None:
    reply = await emu.client.post(
        "/dotgo/rcs/bot/v1/NoSuchBot/messages/async", json=text_body(), headers=await emu.auth()
    )
    assert (reply.status, reason(reply)) == (400, {"text": "Agent Not found", "code": "400-E"})


@pytest.mark.parametrize("raw", [b'{"RCSMessage": {"textMessage": "x",}}', b"not json", b""])
async def test_400_f_not_json(emu: Emu, raw: bytes) -> None:
    headers = {**await emu.auth(), "Content-Type": "application/json"}
    reply = await emu.client.post(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async", data=raw, headers=headers
    )
    assert (reply.status, reason(reply)["code"]) == (400, "400-F")


@pytest.mark.parametrize(
    "rcs",
    [
        {"chatMessage": "x"},
        {"textMessage": "x", "fileMessage": {"fileUrl": "https://e.com/a.png"}},
        {"isTyping": "sometimes"},
        {},
    ],
)
async def test_400_g_message_type_not_supported(emu: Emu, rcs: dict[str, Any]) -> None:
    body = {"RCSMessage": rcs, "messageContact": {"userContact": "+14251234567"}}
    reply = await emu.send_gsma(body)
    assert (reply.status, reason(reply)["code"]) == (400, "400-G")


@pytest.mark.parametrize("phone", ["914253136789", "+0123", "+1 425 123 4567", None])
async def test_400_h_invalid_phone(emu: Emu, phone: Any) -> None:
    reply = await emu.send_gsma(text_body(phone=phone))
    assert (reply.status, reason(reply)["code"]) == (400, "400-H")


async def test_401_a_missing_unknown_or_expired_token(emu: Emu) -> None:
    url = f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async"
    missing = await emu.client.post(url, json=text_body())
    unknown = await emu.client.post(url, json=text_body(), headers=bearer("forged"))
    headers = await emu.auth()
    emu.clock.advance(3600)
    expired = await emu.client.post(url, json=text_body(), headers=headers)
    for reply in (missing, unknown, expired):
        assert (reply.status, reason(reply)) == (401, {"text": "Unauthorized", "code": "401-A"})


async def test_401_a_gsma_token_on_google_api(emu: Emu) -> None:
    reply = await emu.client.post(
        f"/dotgo/rcs/v1/phones/+14251234567/agentMessages/async?botId={GSMA_BOT}",
        json={"contentMessage": {"text": "x"}},
        headers=await emu.auth(GSMA_BOT),
    )
    assert reply.status == 401
    assert reply.json()["code"] == "401-A"
    assert reply.json()["eventType"] == "FAILED"


async def test_401_b_deactivated_client_matches_seed_example(emu: Emu) -> None:
    headers = await emu.auth()
    patched = await emu.client.patch(f"/_emulator/bots/{GSMA_BOT}", json={"client_active": False})
    assert patched.status == 200
    reply = await emu.send_gsma(text_body(), headers=headers)
    assert reply.status == 401
    expected = load("dotgo_gsma/error_response_401.json")
    same_shape(expected, reply.json())
    assert reply.json()["reason"] == expected["reason"]


async def test_401_c_ip_not_allowed(emu: Emu) -> None:
    headers = await emu.auth()
    bot(emu).allowed_ips = ["10.1.2.3"]
    reply = await emu.send_gsma(text_body(), headers=headers)
    assert (reply.status, reason(reply)["code"]) == (401, "401-C")
    bot(emu).allowed_ips = ["127.0.0.1"]
    assert (await emu.send_gsma(text_body(), headers=headers)).status == 202


async def test_401_d_not_in_conversation(emu: Emu) -> None:
    bot(emu).require_template_outside_conversation = True
    refused = await emu.send_gsma(text_body())
    assert (refused.status, reason(refused)["code"]) == (401, "401-D")
    assert (await emu.send_gsma(template_body())).status == 202
    await emu.client.post(
        "/_emulator/phones/+14251234567/actions",
        json={"bot_id": GSMA_BOT, "type": "text", "text": "hi"},
    )
    assert (await emu.send_gsma(text_body())).status == 202
    emu.clock.advance(86_400)
    later = await emu.send_gsma(text_body())
    assert (later.status, reason(later)["code"]) == (401, "401-D")


async def test_402_a_low_balance_and_refund(emu: Emu, receiver: Receiver) -> None:
    bot(emu).balance = 1
    first = await emu.send_gsma(text_body(phone="+914253136788"))  # not RCS: fails, refunded
    assert first.status == 202
    assert bot(emu).balance == 0
    refused = await emu.send_gsma(text_body())
    assert (refused.status, reason(refused)["code"]) == (402, "402-A")
    await emu.state.run_due()
    assert bot(emu).balance == 1
    assert (await emu.send_gsma(text_body())).status == 202


async def test_403_a_bot_not_launched(emu: Emu) -> None:
    bot(emu).launched = False
    bot(emu).testers = ["+914253136789"]
    refused = await emu.send_gsma(text_body())
    assert (refused.status, reason(refused)) == (403, {"text": "Bot not launched", "code": "403-A"})
    assert (await emu.send_gsma(text_body(phone="+914253136789"))).status == 202


async def test_403_b_user_opted_out(emu: Emu) -> None:
    reply = await emu.send_gsma(text_body(phone="+14255550122"))
    assert (reply.status, reason(reply)) == (403, {"text": "User opted out", "code": "403-B"})
    await emu.client.patch("/_emulator/phones/+14251234567", json={"opted_out": [GSMA_BOT]})
    again = await emu.send_gsma(text_body())
    assert reason(again)["code"] == "403-B"


async def test_403_c_bot_blocked_for_spam(emu: Emu) -> None:
    bot(emu).blocked_for_spam = True
    reply = await emu.send_gsma(text_body())
    assert (reply.status, reason(reply)["code"]) == (403, "403-C")


async def test_403_invalid_client_id_matches_seed_example(emu: Emu) -> None:
    reply = await emu.send_gsma(text_body(), headers=await emu.auth(GOOGLE_BOT))
    assert reply.status == 403
    expected = load("dotgo_gsma/send_response_403.json")
    same_shape(expected, reply.json())
    assert reply.json()["reason"] == expected["reason"]
    google = await emu.client.post(
        f"/dotgo/rcs/v1/phones/+919686960276/agentMessages/async?botId={GOOGLE_BOT}&messageId=m1",
        json={"contentMessage": {"text": "x"}},
        headers=await emu.auth(GSMA_BOT),
    )
    assert google.status == 401  # a GSMA-only token has no 'google' scope


async def test_403_invalid_client_id_google_example(emu: Emu) -> None:
    b = bot(emu)
    b.provider = "dotgo_google"
    reply = await emu.client.post(
        f"/dotgo/rcs/v1/phones/+919686960276/agentMessages/async?botId={GSMA_BOT}&messageId=m1",
        json={"contentMessage": {"text": "x"}},
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert reply.status == 403
    expected = load("dotgo_google/send_response_failed_403.json")
    same_shape(expected, reply.json())
    assert (reply.json()["reason"], reply.json()["code"]) == (expected["reason"], 403)
    assert reply.json()["senderPhoneNumber"] == "+919686960276"
    assert reply.json()["messageId"] == "m1"


async def test_404_a_rcs_disabled_is_a_failure_event(emu: Emu, receiver: Receiver) -> None:
    reply = await emu.send_gsma(text_body(phone="+914253136788"))
    assert reply.status == 202
    msg_id = reply.json()["RCSMessage"]["msgId"]
    await emu.state.run_due()
    failed = [b for b in receiver.events("messageStatus") if b["RCSMessage"]["msgId"] == msg_id]
    assert len(failed) == 1
    assert failed[0]["RCSMessage"]["status"] == "failed"
    assert failed[0]["reason"] == {"text": "Rcs disabled", "code": "404-A"}
    refunds = [b for b in receiver.billing() if "billing_event_action" in b]
    assert [r["message_id"] for r in refunds] == [msg_id]


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("400-M01", "Invalid suggestion"),
        ("409-M12", "Conflict at MaaP"),
        ("429-M04", "Too many requests at Jio"),
        ("502-M01", "MaaP timeout"),
    ],
)
async def test_maap_errors_arrive_as_failure_events(
    emu: Emu, receiver: Receiver, code: str, text: str
) -> None:
    emu.state.phones.materialize("+14251234567").maap_error = MaapErrorConfig(  # type: ignore[union-attr]
        code=code, text=text
    )
    msg_id = (await emu.send_gsma(text_body())).json()["RCSMessage"]["msgId"]
    await emu.state.run_due()
    assert receiver.statuses_of(msg_id) == ["failed"]
    event = receiver.events("messageStatus")[0]
    assert event["reason"] == {"text": text, "code": code}


async def test_429_a_injected(emu: Emu) -> None:
    bot(emu).faults = FaultConfig(rate_429=1.0)
    reply = await emu.send_gsma(text_body())
    assert (reply.status, reason(reply)) == (429, {"text": "Too many requests", "code": "429-A"})


async def test_429_b_monthly_limit(emu: Emu) -> None:
    bot(emu).monthly_message_limit = 1
    assert (await emu.send_gsma(text_body())).status == 202
    refused = await emu.send_gsma(text_body())
    assert (refused.status, reason(refused)["code"]) == (429, "429-B")
    emu.clock.advance(31 * 86_400)  # next month
    assert (await emu.send_gsma(text_body(), headers=await emu.auth())).status == 202


@pytest.mark.parametrize(
    ("faults", "status", "code"),
    [
        (FaultConfig(rate_500=1.0), 500, "500-A"),
        (FaultConfig(rate_502=1.0), 502, "502-A"),
        (FaultConfig(rate_timeout=1.0, timeout_s=0.01), 504, "504-A"),
    ],
)
async def test_5xx_injected(emu: Emu, faults: FaultConfig, status: int, code: str) -> None:
    bot(emu).faults = faults
    reply = await emu.send_gsma(text_body())
    assert (reply.status, reason(reply)["code"]) == (status, code)


async def test_503_a_curfew(emu: Emu) -> None:
    # 00:00 UTC is 05:30 in India: inside a 21:00-09:00 curfew.
    bot(emu).curfew = CurfewConfig(start=time(21), end=time(9), utc_offset_minutes=330)
    reply = await emu.send_gsma(text_body())
    assert (reply.status, reason(reply)) == (503, {"text": "Curfew hours", "code": "503-A"})
    emu.clock.advance(5 * 3600)  # 10:30 local
    assert (await emu.send_gsma(text_body(), headers=await emu.auth())).status == 202


@pytest.mark.parametrize(
    "extra",
    [
        {"ttl": "8"},
        {"ttl": "-3s"},
        {"ttl": "0s"},
        {"ttl": 8},
        {"expireTime": "2023-12-31T23:59:59Z"},
        {"expireTime": "2024-10-02 15:01:23"},
        {"expireTime": "2024-02-30T00:00:00Z"},
        {"ttl": "8s", "expireTime": "2024-10-02T15:01:23Z"},
    ],
)
async def test_bad_expiry_is_rejected(emu: Emu, extra: dict[str, Any]) -> None:
    reply = await emu.send_gsma(text_body(**extra))
    assert reply.status == 400
    assert reason(reply)["code"] == 400
    assert "ttl" in reason(reply)["text"] or "expireTime" in reason(reply)["text"]


async def test_content_limits_are_enforced(emu: Emu) -> None:
    chip = {"reply": {"displayText": "x", "postback": {"data": "x"}}}
    body = text_body()
    body["RCSMessage"]["suggestedChipList"] = {"suggestions": [chip] * 12}
    reply = await emu.send_gsma(body)
    assert reply.status == 400
    assert "12 items (max 11)" in reason(reply)["text"]
    long = {"reply": {"displayText": "x" * 26, "postback": {"data": "x"}}}
    body["RCSMessage"]["suggestedChipList"] = {"suggestions": [long]}
    reply = await emu.send_gsma(body)
    assert "26 characters (max 25)" in reason(reply)["text"]


async def test_message_size_limit(emu: Emu) -> None:
    reply = await emu.send_gsma(text_body(text="x" * (256 * 1024)))
    assert reply.status == 400
    assert "max 256KB" in reason(reply)["text"]


async def test_google_errors_use_the_failed_shape(emu: Emu) -> None:
    bot(emu, GOOGLE_BOT).launched = False
    reply = await emu.client.post(
        f"/dotgo/rcs/v1/phones/+14251234567/agentMessages/async?botId={GOOGLE_BOT}&messageId=x1",
        json={"contentMessage": {"text": "hi"}},
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert reply.status == 403
    expected = {**load("dotgo_google/send_response_failed_403.json"), "code": "403-A"}
    same_shape(expected, reply.json())  # the seed's letter codes are strings
    assert (reply.json()["reason"], reply.json()["code"]) == ("Bot not launched", "403-A")
