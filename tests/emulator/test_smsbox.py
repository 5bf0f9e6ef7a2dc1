"""The SMSBOX flavour: the seed's requests and responses, every documented error, webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rcskit.emulator import ManualClock
from rcskit.emulator.config import BotConfig, EmulatorConfig, PhoneConfig
from rcskit.emulator.core.user_actions import (
    send_file,
    send_text,
    share_location,
    start_typing,
    tap,
)
from rcskit.emulator.flavours.smsbox import normalise_number
from rcskit.emulator.flavours.smsbox.errors import DESCRIPTIONS
from tests.seeds import entries, load

from .asgi_call import Reply
from .conftest import Emu, make_config
from .receiver import Receiver
from .test_conformance import same_shape

AGENT = "SMSBOXDEMO0001"
OTHER_AGENT = "SMSBOXOTHER002"
USER = "+33612345678"
SEED_NUMBER = "+336XXXXXXXX"
NOT_RCS = "+914253136788"
OFFLINE = "+14255550100"


def smsbox_config(webhook_url: str | None = None) -> EmulatorConfig:
    config = make_config(webhook_url)
    config.phones.append(PhoneConfig(number=USER, delivered_delay_s=0, displayed_delay_s=0))
    config.bots.append(
        BotConfig(id=OTHER_AGENT, provider="smsbox", client_id="smsbox-other-account")
    )
    return config


class Smsbox(Emu):
    """The emulator with the SMSBOX key and a call helper."""

    def key(self, agent: str = AGENT) -> str:
        bot = self.config.bot(agent)
        assert bot is not None and bot.api_key is not None
        return bot.api_key.get_secret_value()

    async def call(
        self,
        operation: str,
        body: Any,
        *,
        agent: str = AGENT,
        key: str | None = None,
        method: str = "POST",
    ) -> Reply:
        headers = {"Authorization": f"App {key or self.key(agent)}"}
        return await self.client.request(
            method, f"/smsbox/rcs/1.0/json/{agent}/{operation}", json=body, headers=headers
        )


@pytest.fixture
async def smsbox(receiver: Receiver, clock: ManualClock) -> AsyncIterator[Smsbox]:
    e = Smsbox(smsbox_config(receiver.url), clock)
    yield e
    await e.state.aclose()


def seed_body(name: str, number: str = USER) -> Any:
    """A reconstructed seed request with its ``+336XXXXXXXX`` placeholder made a real number."""
    body = load(f"smsbox/{name}_request_reconstructed.json")
    body["recipients"] = [number if r == SEED_NUMBER else r for r in body["recipients"]]
    return body


def assert_error(reply: Reply, status: int, error: str | None = None) -> None:
    assert reply.status == status, reply.body
    body = reply.json()
    assert body["response"] == {
        "response_code": str(status),
        "response_desc": DESCRIPTIONS[status],
    }
    assert isinstance(body["error"], str)
    if error is not None:
        assert body["error"] == error


def test_the_index_has_every_smsbox_request() -> None:
    files = {e["file"] for e in entries(kind="request", format="smsbox")}
    assert {f for f in files if f.endswith("_reconstructed.json")} == {
        f"smsbox/{n}_request_reconstructed.json"
        for n in ("send_message", "revoke", "add_testers", "capabilities", "read_event")
    }


async def test_send_message_as_the_seed_shows(smsbox: Smsbox, receiver: Receiver) -> None:
    reply = await smsbox.call("message", seed_body("send_message"))
    assert reply.status == 202, reply.body
    body = reply.json()
    expected = load("smsbox/send_message_response_reconstructed.json")
    same_shape(expected, body)
    assert body["response"] == expected["response"] and body["details"] == expected["details"]
    assert len(body["reference"]) == 14
    assert body["recipients"] == [
        {"submitted": USER, "rewrited": USER[1:], "state": "ACCEPTED", "reason_code": "PROCESSING"}
    ]
    msg = smsbox.state.find_message(AGENT, body["reference"] + USER)
    assert msg is not None and msg.content_json() == {"text": "example message"}
    assert msg.expire_at == smsbox.state.ts() + 720 * 60
    await smsbox.state.run_due()
    updates = [b for b in receiver.received if b["requestType"] == "status_update"]
    assert [u["data"]["eventType"] for u in updates] == ["SENT", "DELIVERED", "READ"]
    same_shape(load("smsbox/webhook_status_update_reconstructed.json"), updates[0])
    assert {u["reference"] for u in updates} == {body["reference"]}
    assert updates[0]["clientId"] == 12123 and updates[0]["agentId"] == AGENT
    [logged] = smsbox.state.log.query(kind="api", phone=USER)
    assert logged.bot_id == AGENT and logged.status == 202


async def test_revoke_as_the_seed_shows(smsbox: Smsbox, receiver: Receiver) -> None:
    smsbox.state.phones.materialize(OFFLINE)
    sent = await smsbox.call("message", seed_body("send_message", OFFLINE))
    reference = sent.json()["reference"]
    request = seed_body("revoke", OFFLINE)
    request["reference"] = reference
    reply = await smsbox.call("revoke", request)
    assert reply.status == 202, reply.body
    same_shape(load("smsbox/revoke_response_reconstructed.json"), reply.json())
    assert reply.json()["reference"] == reference
    assert reply.json()["recipients"][0]["state"] == "ACCEPTED"
    msg = smsbox.state.find_message(AGENT, reference + OFFLINE)
    assert msg is not None and msg.status == "cancelled"
    again = await smsbox.call("revoke", request)
    assert again.json()["recipients"][0]["reason_code"] == "ALREADY_DELIVERED"
    unknown = await smsbox.call("revoke", {**request, "reference": "NOPE"})
    assert unknown.json()["recipients"][0]["reason_code"] == "NOT_FOUND"
    assert_error(await smsbox.call("revoke", {"recipients": [USER]}), 400)


async def test_add_testers_as_the_seed_shows(smsbox: Smsbox) -> None:
    first = await smsbox.call("add-testers", seed_body("add_testers"))
    assert first.status == 200, first.body
    assert first.json()["recipients"][0]["state"] == "SUCCESS"
    assert USER in smsbox.state.bots[AGENT].testers
    again = await smsbox.call("add-testers", seed_body("add_testers"))
    expected = load("smsbox/add_testers_response_reconstructed.json")
    same_shape(expected, again.json())
    assert again.json()["details"] == expected["details"]
    assert again.json()["recipients"][0]["state"] == "DELETED"
    assert again.json()["recipients"][0]["reason_code"] == "ALREADY_ADDED"


async def test_capabilities_as_the_seed_shows(smsbox: Smsbox) -> None:
    reply = await smsbox.call("capabilities", seed_body("capabilities"))
    assert reply.status == 200, reply.body
    expected = load("smsbox/capabilities_response_reconstructed.json")
    same_shape(expected, reply.json())
    [entry] = reply.json()["recipients"]
    assert (entry["state"], entry["reason_code"]) == ("SUCCESS", "REACHABLE")
    assert {"chatBotCommunication", "RICHCARD_STANDALONE"} <= set(entry["capabilities"])
    many = await smsbox.call("capabilities", {"recipients": [USER, NOT_RCS, "abc"]})
    states = [(e["state"], e["reason_code"], e["capabilities"]) for e in many.json()["recipients"]]
    assert states[1:] == [("FAILED", "UNREACHABLE", []), ("REFUSED", "INVALID_NUMBER", [])]


async def test_read_event_as_the_seed_shows(smsbox: Smsbox) -> None:
    from_user = send_text(smsbox.state, AGENT, USER, "hi")
    reply = await smsbox.call("event", seed_body("read_event"))
    assert reply.status == 202, reply.body
    same_shape(load("smsbox/read_event_response_reconstructed.json"), reply.json())
    assert from_user.displayed_at == smsbox.state.ts()
    bad = await smsbox.call("event", {"recipients": [USER], "event": "IS_TYPING"})
    assert_error(bad, 400)
    two = await smsbox.call("event", {"recipients": [USER, USER], "event": "READ"})
    assert_error(two, 413, "Too many recipients (max.: 1).")


async def test_5000_recipients_pass_and_5001_do_not(smsbox: Smsbox) -> None:
    numbers = [f"+1555{i:07d}" for i in range(5001)]
    body = {"contentMessage": {"text": "hello"}}
    ok = await smsbox.call("message", {**body, "recipients": numbers[:5000]})
    assert ok.status == 202
    assert len(ok.json()["recipients"]) == 5000
    too_many = await smsbox.call("message", {**body, "recipients": numbers})
    assert_error(too_many, 413, "Too many recipients (max.: 5000).")
    assert_error(await smsbox.call("revoke", {"recipients": numbers, "reference": "R"}), 413)
    eleven = await smsbox.call("add-testers", {"recipients": numbers[:11]})
    assert_error(eleven, 413, "Too many recipients (max.: 10).")
    ok_caps = await smsbox.call("capabilities", {"recipients": numbers[:500]})
    assert ok_caps.status == 200
    assert_error(await smsbox.call("capabilities", {"recipients": numbers[:501]}), 413)


@pytest.mark.parametrize(
    ("validity", "status"),
    [(0, 400), (1, 202), (10080, 202), (10081, 400), (-5, 400), ("720", 400), (True, 400)],
)
async def test_validity_bounds(smsbox: Smsbox, validity: Any, status: int) -> None:
    body = {"recipients": [USER], "contentMessage": {"text": "hi"}, "validity": validity}
    reply = await smsbox.call("message", body)
    assert reply.status == status, reply.body
    if status == 400:
        assert_error(reply, 400)
        assert "validity" in reply.json()["error"]
    else:
        msg = smsbox.state.find_message(AGENT, reply.json()["reference"] + USER)
        assert msg is not None and msg.expire_at == smsbox.state.ts() + validity * 60


async def test_expired_validity_reports_expired(smsbox: Smsbox, receiver: Receiver) -> None:
    smsbox.state.phones.materialize(OFFLINE)
    body = {"recipients": [OFFLINE], "contentMessage": {"text": "hi"}, "validity": 1}
    reference = (await smsbox.call("message", body)).json()["reference"]
    await smsbox.state.advance(60)
    kinds = [b["data"]["eventType"] for b in receiver.received if b["reference"] == reference]
    assert kinds == ["SENT", "EXPIRED"]


async def test_400_errors(smsbox: Smsbox) -> None:
    url = f"/smsbox/rcs/1.0/json/{AGENT}/message"
    headers = {"Authorization": f"App {smsbox.key()}", "Content-Type": "application/json"}
    assert_error(await smsbox.client.post(url, data=b"{", headers=headers), 400)
    none_valid = await smsbox.call(
        "message", {"recipients": ["abc"], "contentMessage": {"text": "x"}}
    )
    assert_error(none_valid, 400, "No valid recipient found.")
    assert_error(await smsbox.call("message", {"contentMessage": {"text": "x"}}), 400)
    assert_error(await smsbox.call("message", {"recipients": USER, "contentMessage": {}}), 400)
    no_content = await smsbox.call("message", {"recipients": [USER]})
    assert_error(no_content, 400)
    assert "contentMessage" in no_content.json()["error"]
    two = {"text": "x", "richCard": {"standaloneCard": {"cardContent": {"title": "t"}}}}
    assert_error(await smsbox.call("message", {"recipients": [USER], "contentMessage": two}), 400)
    assert_error(await smsbox.call("message", [USER]), 400)


async def test_402_when_the_balance_is_short(smsbox: Smsbox) -> None:
    smsbox.state.bots[AGENT].balance = 1
    body = {"recipients": [USER, "+14251234567"], "contentMessage": {"text": "x"}}
    assert_error(await smsbox.call("message", body), 402, "No credit or insufficient.")
    assert smsbox.state.messages[AGENT] == {}
    assert (await smsbox.call("message", {**body, "recipients": [USER]})).status == 202
    assert smsbox.state.bots[AGENT].balance == 0


async def test_403_for_a_bad_key_or_a_closed_account(smsbox: Smsbox) -> None:
    expected = "API Key not allowed or account discontinued."
    body = seed_body("send_message")
    assert_error(await smsbox.call("message", body, key="wrong"), 403, expected)
    url = f"/smsbox/rcs/1.0/json/{AGENT}/message"
    assert_error(await smsbox.client.post(url, json=body), 403, expected)
    bearer = {"Authorization": f"Bearer {smsbox.key()}"}
    assert_error(await smsbox.client.post(url, json=body, headers=bearer), 403, expected)
    smsbox.state.bots[AGENT].client_active = False
    assert_error(await smsbox.call("message", body), 403, expected)


async def test_404_for_an_unknown_agent_or_operation(smsbox: Smsbox) -> None:
    expected = "Invalid RCSagentId value (not found)."
    body = seed_body("send_message")
    assert_error(await smsbox.call("message", body, agent="NOPE", key=smsbox.key()), 404, expected)
    other = await smsbox.call("message", body, agent=OTHER_AGENT, key=smsbox.key())
    assert_error(other, 404, expected)
    assert_error(await smsbox.call("send", body), 404)


async def test_405_for_other_methods(smsbox: Smsbox) -> None:
    for method in ("GET", "PUT", "DELETE"):
        reply = await smsbox.call("message", None, method=method)
        assert_error(reply, 405, "Invalid HTTP method.")


async def test_503_and_429(smsbox: Smsbox) -> None:
    bot = smsbox.state.bots[AGENT]
    body = seed_body("send_message")
    bot.faults = bot.faults.model_copy(update={"rate_502": 1.0})
    assert_error(await smsbox.call("message", body), 503, "Request failed.")
    bot.faults = bot.faults.model_copy(update={"rate_502": 0.0, "rate_429": 1.0})
    assert_error(await smsbox.call("message", body), 429)
    bot.faults = bot.faults.model_copy(update={"rate_429": 0.0})
    bot.tps = 2
    assert (await smsbox.call("message", body)).status == 202
    assert (await smsbox.call("capabilities", seed_body("capabilities"))).status == 200
    assert_error(await smsbox.call("message", body), 429)


async def test_recipient_states(smsbox: Smsbox) -> None:
    smsbox.state.phones.materialize("+14255550122")
    recipients = ["0612345678", USER, "nope", "+14255550122"]
    reply = await smsbox.call(
        "message", {"recipients": recipients, "contentMessage": {"text": "x"}}
    )
    assert reply.status == 202
    states = [
        (r["submitted"], r["rewrited"], r["state"], r["reason_code"])
        for r in reply.json()["recipients"]
    ]
    assert states == [
        ("0612345678", "33612345678", "ACCEPTED", "PROCESSING"),
        (USER, "33612345678", "REFUSED", "DUPLICATE"),
        ("nope", "", "REFUSED", "INVALID_NUMBER"),
        ("+14255550122", "14255550122", "REFUSED", "OPTED_OUT"),
    ]
    smsbox.state.bots[AGENT].launched = False
    unlaunched = await smsbox.call(
        "message", {"recipients": [USER], "contentMessage": {"text": "x"}}
    )
    assert unlaunched.json()["recipients"][0]["reason_code"] == "NOT_A_TESTER"
    assert normalise_number("06 12 34 56 78") == USER and normalise_number("12") is None


async def test_non_rcs_recipient_is_rejected_by_webhook(smsbox: Smsbox, receiver: Receiver) -> None:
    reply = await smsbox.call("message", {"recipients": [NOT_RCS], "contentMessage": {"text": "x"}})
    assert reply.json()["recipients"][0]["state"] == "ACCEPTED"
    await smsbox.state.run_due()
    assert [b["data"]["eventType"] for b in receiver.received] == ["REJECTED"]


WEBHOOKS = {
    "incoming_message_text": "webhook_text",
    "incoming_message_reply": "webhook_reply",
    "incoming_message_action": "webhook_action",
    "incoming_message_file": "webhook_document",
    "incoming_message_location": "webhook_location",
    "incoming_event": "webhook_event",
}


async def test_user_actions_give_each_webhook_type(smsbox: Smsbox, receiver: Receiver) -> None:
    suggestions = [
        {"reply": {"text": "See offer", "postbackData": "example-of-posbackData"}},
        {
            "action": {
                "text": "open this url",
                "postbackData": "data_url_link-1",
                "openUrlAction": {"url": "https://example.com"},
            }
        },
    ]
    body = {"recipients": [USER], "contentMessage": {"text": "menu", "suggestions": suggestions}}
    reference = (await smsbox.call("message", body)).json()["reference"]
    await smsbox.state.run_due()
    receiver.received.clear()
    send_text(smsbox.state, AGENT, USER, "hello smsbox!")
    tap(smsbox.state, AGENT, USER, msg_id=reference + USER, index=0)
    tap(smsbox.state, AGENT, USER, msg_id=reference + USER, index=1)
    send_file(
        smsbox.state,
        AGENT,
        USER,
        url="url_of_the_file",
        mime_type="image/jpeg",
        size=205487,
        name="example.jpg",
    )
    share_location(smsbox.state, AGENT, USER, 42.08761, 6.0755356)
    start_typing(smsbox.state, AGENT, USER)
    await smsbox.state.run_due()
    by_type = {b["requestType"]: b for b in receiver.received}
    assert set(by_type) == set(WEBHOOKS)
    for request_type, fixture in WEBHOOKS.items():
        expected = load(f"smsbox/{fixture}_reconstructed.json")
        actual = by_type[request_type]
        same_shape(expected, actual)
        assert {k: v for k, v in actual["data"].items() if k != "timestamp"} == {
            k: v for k, v in expected["data"].items() if k != "timestamp"
        }
        assert actual["data"]["timestamp"] == str(int(smsbox.state.ts()))
        assert actual["msisdn"] == USER and actual["requestSubProd"] == "rcs"
