"""Simulated users: each action reaches the bot's webhook in its flavour, shaped as the seed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.seeds import load

from .conftest import GOOGLE_BOT, GSMA_BOT, Emu, text_body
from .receiver import Receiver
from .test_conformance import same_shape

PHONE = "+914253136789"


async def act(emu: Emu, bot_id: str, phone: str = PHONE, **body: Any) -> Any:
    reply = await emu.client.post(
        f"/_emulator/phones/{phone}/actions", json={"bot_id": bot_id, **body}
    )
    await emu.state.run_due()
    return reply


def user_events(receiver: Receiver) -> list[dict[str, Any]]:
    return [b for b in receiver.received if "billingEventType" not in b]


async def test_gsma_text_message(emu: Emu, receiver: Receiver) -> None:
    reply = await act(emu, GSMA_BOT, type="text", text="hello world")
    assert reply.status == 201
    [event] = user_events(receiver)
    expected = load("dotgo_gsma/webhook_message.json")
    same_shape(expected, event)
    assert event["RCSMessage"]["textMessage"] == "hello world"
    assert event["RCSMessage"]["msgId"] == reply.json()["msg_id"]
    assert event["RCSMessage"]["msgId"].startswith("Ms")
    assert event["messageContact"] == expected["messageContact"]


async def test_google_text_message(emu: Emu, receiver: Receiver) -> None:
    await act(emu, GOOGLE_BOT, type="text", text="hello world")
    [event] = user_events(receiver)
    same_shape(load("dotgo_google/webhook_user_message_text_reconstructed.json"), event)
    assert (event["text"], event["senderPhoneNumber"]) == ("hello world", PHONE)


async def test_typing(emu: Emu, receiver: Receiver) -> None:
    await act(emu, GSMA_BOT, type="typing")
    await act(emu, GOOGLE_BOT, type="typing")
    gsma, google = user_events(receiver)
    same_shape(load("dotgo_gsma/webhook_istyping.json"), gsma)
    same_shape(load("dotgo_google/webhook_is_typing_reconstructed.json"), google)
    conv = emu.state.conversation(GSMA_BOT, PHONE)
    assert conv.user_typing_until == emu.state.ts() + 20


async def send_and_deliver(emu: Emu, body: dict[str, Any]) -> str:
    reply = await emu.send_gsma(body)
    assert reply.status == 202, reply.body
    await emu.state.run_due()
    msg_id: str = reply.json()["RCSMessage"]["msgId"]
    return msg_id


async def test_tap_a_reply_chip(emu: Emu, receiver: Receiver) -> None:
    body = load("dotgo_gsma/send_richcard_request.json")
    body["messageContact"]["userContact"] = PHONE
    msg_id = await send_and_deliver(emu, body)
    receiver.received.clear()
    reply = await act(emu, GSMA_BOT, type="tap", msg_id=msg_id, index=0)
    assert reply.status == 201
    [event] = user_events(receiver)
    expected = load("dotgo_gsma/webhook_response_reply.json")
    same_shape(expected, event)
    assert event["RCSMessage"]["suggestedResponse"] == {
        "response": {
            "reply": {"displayText": "Yes", "postback": {"data": "set_by_chatbot_reply_yes"}}
        }
    }


async def test_tap_marks_a_delivered_message_displayed(emu: Emu, receiver: Receiver) -> None:
    await emu.client.patch(f"/_emulator/phones/{PHONE}", json={"displayed_delay_s": None})
    body = load("dotgo_gsma/send_text_all_suggestions_request.json")
    body["messageContact"]["userContact"] = PHONE
    msg_id = await send_and_deliver(emu, body)
    assert receiver.statuses_of(msg_id) == ["sent", "delivered"]
    await act(emu, GSMA_BOT, type="tap", msg_id=msg_id, index=2)
    assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]
    action = receiver.events("response")[0]["RCSMessage"]["suggestedResponse"]["response"]
    assert action == {
        "action": {
            "displayText": "Open website or deep link",
            "postback": {"data": "set_by_chatbot_open_url"},
        }
    }


async def test_tap_inside_a_template_carries_metadata(emu: Emu, receiver: Receiver) -> None:
    body = {
        "RCSMessage": {
            "templateMessage": {"templateCode": "test template", "customParams": '{"name": "Ada"}'}
        },
        "messageContact": {"userContact": PHONE},
    }
    msg_id = await send_and_deliver(emu, body)
    await act(emu, GSMA_BOT, type="tap", msg_id=msg_id, card_index=1, index=0)
    event = receiver.events("response")[0]
    expected = load("dotgo_gsma/webhook_response_template_action.json")
    same_shape(expected, event)
    postback = event["RCSMessage"]["suggestedResponse"]["response"]["action"]["postback"]
    seed_meta = json.loads(
        expected["RCSMessage"]["suggestedResponse"]["response"]["action"]["postback"]["metadata"]
    )
    meta = json.loads(postback["metadata"])
    assert postback["metadata"].startswith('{ "suggestionType": ')
    assert list(meta) == list(seed_meta)
    assert meta == {
        "suggestionType": "url_action",
        "templateType": "carousel",
        "cardIndex": 1,
        "suggestionIndex": 0,
        "msgId": msg_id,
        "a2pMsgDate": "2024-01-01T00:00:00.000",
        "templateCode": "test template",
    }
    assert postback["data"] == "user_clicked_Reach_Us"


async def test_google_template_tap_has_object_metadata(emu: Emu, receiver: Receiver) -> None:
    reply = await emu.client.post(
        f"/dotgo/rcs/v1/phones/{PHONE}/agentMessages/async?botId={GOOGLE_BOT}&messageId=t1",
        json={
            "contentMessage": {
                "templateMessage": {"templateCode": "test template", "customParams": '{"name":"x"}'}
            }
        },
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert reply.status == 200
    await emu.state.run_due()
    await act(emu, GOOGLE_BOT, type="tap", msg_id="t1", card_index=0, index=0)
    [event] = [b for b in receiver.received if "suggestionResponse" in b]
    expected = load("dotgo_google/webhook_suggestion_response_template.json")
    same_shape(expected, event)
    assert event["suggestionResponse"]["type"] == "REPLY"
    assert event["suggestionResponse"]["metadata"]["suggestionType"] == "reply"
    assert event["suggestionResponse"]["metadata"]["cardIndex"] == 0


async def test_google_tap_on_google_content(emu: Emu, receiver: Receiver) -> None:
    body = load("dotgo_google/send_text_with_suggestions_request.json")
    reply = await emu.client.post(
        f"/dotgo/rcs/v1/phones/{PHONE}/agentMessages/async?botId={GOOGLE_BOT}&messageId=s1",
        json=body,
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert reply.status == 200
    await emu.state.run_due()
    await act(emu, GOOGLE_BOT, type="tap", msg_id="s1", index=1)
    [event] = [b for b in receiver.received if "suggestionResponse" in b]
    seed = load("dotgo_google/webhook_suggestion_response.json")
    same_shape({**seed, "suggestionResponse": {**seed["suggestionResponse"], "type": ""}}, event)
    assert event["suggestionResponse"] == {
        "postbackData": "user_action_open_url",
        "text": "visit our website",
        "type": "ACTION",
    }


async def test_location_and_file(emu: Emu, receiver: Receiver) -> None:
    await act(emu, GSMA_BOT, type="location", latitude=37.42, longitude=-122.08, label="Office")
    await act(
        emu,
        GSMA_BOT,
        type="file",
        url="https://example.com/a.png",
        mime_type="image/png",
        size=123,
        name="a.png",
    )
    await act(emu, GOOGLE_BOT, type="location", latitude=1.5, longitude=2.5)
    await act(
        emu,
        GOOGLE_BOT,
        type="file",
        url="https://example.com/b.gif",
        mime_type="image/gif",
        size=9,
        name="b.gif",
    )
    gsma_loc, gsma_file, google_loc, google_file = user_events(receiver)
    assert gsma_loc["event"] == "message"
    assert gsma_loc["RCSMessage"]["geolocationPushMessage"] == {
        "pos": "37.42 -122.08",
        "label": "Office",
    }
    assert gsma_file["RCSMessage"]["fileMessage"] == {
        "fileUrl": "https://example.com/a.png",
        "fileName": "a.png",
        "fileMIMEType": "image/png",
        "fileSize": 123,
    }
    assert google_loc["location"] == {"latitude": 1.5, "longitude": 2.5}
    assert google_file["userFile"]["payload"] == {
        "mimeType": "image/gif",
        "fileSizeBytes": 9,
        "fileUri": "https://example.com/b.gif",
        "fileName": "b.gif",
    }


@pytest.mark.parametrize(
    ("phone", "body", "status"),
    [
        ("+19999999999", {"type": "text", "text": "x"}, 404),
        ("+914253136788", {"type": "text", "text": "x"}, 409),
        (PHONE, {"type": "tap", "msg_id": "missing", "index": 0}, 404),
        (PHONE, {"type": "location", "latitude": 91, "longitude": 0}, 400),
        (PHONE, {"type": "dance"}, 400),
        (PHONE, {"type": "text", "text": ""}, 400),
    ],
)
async def test_impossible_actions(emu: Emu, phone: str, body: dict[str, Any], status: int) -> None:
    reply = await emu.client.post(
        f"/_emulator/phones/{phone}/actions", json={"bot_id": GSMA_BOT, **body}
    )
    assert reply.status == status
    assert reply.json()["error"]


async def test_tap_a_missing_suggestion_names_it(emu: Emu) -> None:
    msg_id = await send_and_deliver(emu, text_body(phone=PHONE))
    reply = await act(emu, GSMA_BOT, type="tap", msg_id=msg_id, index=3)
    assert reply.status == 404
    assert "no suggestion 3 in the chip list" in reply.json()["error"]


async def test_user_read_marks_displayed(emu: Emu, receiver: Receiver) -> None:
    await emu.client.patch(f"/_emulator/phones/{PHONE}", json={"displayed_delay_s": None})
    msg_id = await send_and_deliver(emu, text_body(phone=PHONE))
    assert receiver.statuses_of(msg_id) == ["sent", "delivered"]
    reply = await act(emu, GSMA_BOT, type="read", msg_id=msg_id)
    assert reply.json() == {"ok": True}
    assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]


async def test_unsubscribing_where_the_provider_has_no_such_event(
    emu: Emu, receiver: Receiver
) -> None:
    action = f"/_emulator/phones/{PHONE}/actions"
    gone = await emu.client.post(action, json={"bot_id": GSMA_BOT, "type": "unsubscribe"})
    assert gone.status == 200, gone.body
    await emu.state.run_due()
    assert receiver.received == []  # Dotgo reports no unsubscribe
    refused = await emu.send_gsma(text_body(PHONE))
    assert refused.status == 403 and refused.json()["reason"]["code"] == "403-B"
    back = await emu.client.post(action, json={"bot_id": GSMA_BOT, "type": "resubscribe"})
    assert back.status == 200
    assert (await emu.send_gsma(text_body(PHONE))).status == 202
