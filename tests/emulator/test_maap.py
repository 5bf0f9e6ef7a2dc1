"""The generic GSMA MaaP flavour: OAuth, messages, status, capabilities, files, the seven
webhook events of seed 003 and their authentication header."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web

from rcskit.emulator import ManualClock
from rcskit.emulator.core.user_actions import (
    UserActionError,
    disable_anonymization,
    open_chat,
    send_text,
    start_typing,
    tap,
)
from rcskit.emulator.flavours.maap.contacts import chat_id
from tests.seeds import entries, load

from .asgi_call import Reply, basic, bearer, multipart
from .conftest import Emu, make_config
from .receiver import Receiver
from .test_conformance import same_shape

BOT = "maap-demo-bot"
USER = "+14251234567"
NOT_RCS = "+914253136788"
OFFLINE = "+14255550100"


class HeaderReceiver(Receiver):
    """A receiver that also keeps the headers of each webhook it accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[dict[str, str]] = []

    async def _handle(self, request: web.Request) -> web.Response:
        reply = await super()._handle(request)
        if reply.status == 200:
            self.headers.append(dict(request.headers))
        return reply


@pytest.fixture
async def hooks() -> AsyncIterator[HeaderReceiver]:
    r = HeaderReceiver()
    await r.start()
    yield r
    await r.stop()


class Maap(Emu):
    """The emulator with MaaP token and call helpers."""

    async def maap_token(
        self, body: bytes = b"grant_type=client_credentials&scope=botmessage"
    ) -> Reply:
        bot = self.config.bot(BOT)
        assert bot is not None
        return await self.client.post(
            "/maap/oauth2/v1/token",
            data=body,
            headers={
                **basic(bot.client_id, self.secret(BOT)),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

    async def bearer(self) -> dict[str, str]:
        reply = await self.maap_token()
        assert reply.status == 200, reply.body
        return bearer(reply.json()["access_token"])

    async def send(self, body: Any, headers: dict[str, str] | None = None) -> Reply:
        if headers is None:
            headers = await self.bearer()
        return await self.client.post(f"/maap/bot/v1/{BOT}/messages", json=body, headers=headers)


@pytest.fixture
async def maap(hooks: HeaderReceiver, clock: ManualClock) -> AsyncIterator[Maap]:
    e = Maap(make_config(hooks.url), clock)
    yield e
    await e.state.aclose()


def message(rcs: dict[str, Any], phone: str = USER) -> dict[str, Any]:
    return {"RCSMessage": rcs, "messageContact": {"userContact": phone}}


def assert_reason(reply: Reply, status: int) -> str:
    assert reply.status == status, reply.body
    body = reply.json()
    assert set(body) == {"reason"} and body["reason"]["code"] == status
    text: str = body["reason"]["text"]
    return text


# --------------------------------------------------------------------- OAuth


async def test_client_credentials_and_refresh(maap: Maap) -> None:
    first = await maap.maap_token()
    assert first.status == 200, first.body
    body = first.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["scope"] == "botmessage" and body["refresh_token"]
    without_scope = await maap.maap_token(b"grant_type=client_credentials")
    assert without_scope.status == 200
    refresh = f"grant_type=refresh_token&refresh_token={body['refresh_token']}&scope=botmessage"
    renewed = await maap.maap_token(refresh.encode())
    assert renewed.status == 200 and renewed.json()["access_token"] != body["access_token"]
    reused = await maap.maap_token(refresh.encode())
    assert reused.status == 400 and reused.json()["error"] == "invalid_grant"
    scope = await maap.maap_token(b"grant_type=client_credentials&scope=other")
    assert scope.status == 400 and scope.json()["error"] == "invalid_scope"
    grant = await maap.maap_token(b"grant_type=password")
    assert grant.status == 400 and grant.json()["error"] == "unsupported_grant_type"
    bad = await maap.client.post(
        "/maap/oauth2/v1/token",
        data=b"grant_type=client_credentials",
        headers={**basic(BOT, "wrong"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bad.status == 401 and bad.json()["error"] == "invalid_client"
    log = maap.state.log.query(contains="/oauth2/v1/token")
    assert all(body["refresh_token"] not in e.request_body + e.response_body for e in log)


async def test_static_token_and_401_403_404(maap: Maap) -> None:
    assert_reason(await maap.send(message({"textMessage": "x"}), {}), 401)
    assert_reason(await maap.send(message({"textMessage": "x"}), bearer("nope")), 401)
    maap.state.bots[BOT].static_token = "static-secret-token"  # type: ignore[assignment]
    static = await maap.send(message({"textMessage": "x"}), bearer("static-secret-token"))
    assert static.status == 202, static.body
    headers = await maap.bearer()
    maap.clock.advance(3601)
    assert "expired" in assert_reason(await maap.send(message({"textMessage": "x"}), headers), 401)
    headers = await maap.bearer()
    unknown = await maap.client.post(
        "/maap/bot/v1/nope/messages", json=message({"textMessage": "x"}), headers=headers
    )
    assert_reason(unknown, 404)
    dotgo = await maap.client.post(
        "/maap/bot/v1/OsOsQ0GwNvUdLTV9Bd/messages",
        json=message({"textMessage": "x"}),
        headers=headers,
    )
    assert_reason(dotgo, 404)
    maap.state.bots["other-maap"] = maap.state.bots[BOT].model_copy(
        update={"id": "other-maap", "client_id": "other-maap", "static_token": None}
    )
    other = await maap.client.post(
        "/maap/bot/v1/other-maap/messages", json=message({"textMessage": "x"}), headers=headers
    )
    assert_reason(other, 403)


# --------------------------------------------------------------------- messages

SUGGESTIONS = [
    e for e in entries(kind="suggestion", format="gsma") if e["file"].startswith("maap/")
]


def test_the_index_has_the_seed_003_examples() -> None:
    assert len(SUGGESTIONS) == 14
    assert len([e for e in entries(kind="webhook") if e["file"].startswith("maap/")]) == 7


@pytest.mark.parametrize("entry", SUGGESTIONS, ids=lambda e: e["file"])
async def test_each_seed_suggestion_in_a_chip_list(maap: Maap, entry: dict[str, Any]) -> None:
    rcs = {"textMessage": "Pick one", "suggestedChipList": {"suggestions": [load(entry)]}}
    reply = await maap.send(message(rcs))
    assert reply.status == 202, reply.body
    assert reply.json()["RCSMessage"]["status"] == "pending"
    stored = maap.state.find_message(BOT, reply.json()["RCSMessage"]["msgId"])
    assert stored is not None and stored.content_json() == rcs


CONTENTS: dict[str, dict[str, Any]] = {
    "text": {"textMessage": "hello world", "trafficType": "advertisement"},
    "file": {
        "fileMessage": {
            "fileUrl": "https://example.com/f.jpg",
            "fileName": "f.jpg",
            "fileMIMEType": "image/jpeg",
            "fileSize": 1000,
            "thumbnailUrl": "https://example.com/t.jpg",
            "thumbnailMIMEType": "image/jpeg",
            "thumbnailFileSize": 100,
        }
    },
    "audio": {"audioMessage": {"fileUrl": "https://example.com/a.mp3", "playingLength": 12}},
    "geolocation": {"geolocationPushMessage": {"pos": "26.1181289 -80.1283921", "label": "here"}},
    "rich card": {
        "richcardMessage": {
            "message": {
                "generalPurposeCard": {
                    "layout": {"cardOrientation": "HORIZONTAL", "imageAlignment": "LEFT"},
                    "content": {
                        "media": {
                            "mediaUrl": "https://example.com/m.png",
                            "mediaContentType": "image/png",
                            "mediaFileSize": 1000,
                            "height": "MEDIUM_HEIGHT",
                        },
                        "title": "Title",
                        "description": "Description",
                        "suggestions": [load("maap/suggestion_reply.json")],
                    },
                }
            }
        }
    },
    "carousel": {
        "richcardMessage": {
            "message": {
                "generalPurposeCardCarousel": {
                    "layout": {"cardWidth": "SMALL_WIDTH"},
                    "content": [{"title": "One"}, {"title": "Two"}],
                }
            }
        }
    },
}


@pytest.mark.parametrize("kind", list(CONTENTS))
async def test_every_content_kind(maap: Maap, hooks: HeaderReceiver, kind: str) -> None:
    reply = await maap.send(message(CONTENTS[kind]))
    assert reply.status == 202, reply.body
    msg_id = reply.json()["RCSMessage"]["msgId"]
    await maap.state.run_due()
    assert hooks.statuses_of(msg_id) == ["sent", "delivered", "displayed"]


async def test_typing_and_client_message_ids(maap: Maap) -> None:
    headers = await maap.bearer()
    for state in ("active", "idle"):
        reply = await maap.send(message({"isTyping": state}), headers)
        assert reply.status == 202
    assert maap.state.conversation(BOT, USER).agent_typing_until == 0.0
    chosen = await maap.send(message({"msgId": "mine-1", "textMessage": "x"}), headers)
    assert chosen.json()["RCSMessage"]["msgId"] == "mine-1"
    assert_reason(await maap.send(message({"msgId": "mine-1", "textMessage": "x"}), headers), 409)
    assert_reason(await maap.send(message({"msgId": 7, "textMessage": "x"}), headers), 400)


async def test_400_413_and_403(maap: Maap) -> None:
    headers = await maap.bearer()
    url = f"/maap/bot/v1/{BOT}/messages"
    raw = await maap.client.post(
        url, data=b"[", headers={**headers, "Content-Type": "application/json"}
    )
    assert_reason(raw, 400)
    assert "userContact" in assert_reason(
        await maap.send({"RCSMessage": {"textMessage": "x"}}, headers), 400
    )
    both = {
        "RCSMessage": {"textMessage": "x"},
        "messageContact": {"userContact": USER, "chatId": "C"},
    }
    assert_reason(await maap.send(both, headers), 400)
    chips = {
        "textMessage": "x",
        "suggestedChipList": {"suggestions": [load("maap/suggestion_reply.json")] * 12},
    }
    assert "max 11" in assert_reason(await maap.send(message(chips), headers), 400)
    template = {"templateMessage": {"templateCode": "template_123"}}
    assert_reason(await maap.send(message(template), headers), 400)
    big = message({"textMessage": "x" * (maap.config.max_message_bytes + 1)})
    assert_reason(await maap.send(big, headers), 413)
    assert_reason(await maap.send(message({"textMessage": "x"}, "+14255550122"), headers), 403)
    maap.state.bots[BOT].launched = False
    assert_reason(await maap.send(message({"textMessage": "x"}), headers), 403)


async def test_429_and_injected_faults(maap: Maap) -> None:
    headers = await maap.bearer()
    bot = maap.state.bots[BOT]
    for rate, status in (("rate_429", 429), ("rate_500", 500), ("rate_502", 502)):
        bot.faults = bot.faults.model_copy(update={rate: 1.0})
        assert_reason(await maap.send(message({"textMessage": "x"}), headers), status)
        bot.faults = bot.faults.model_copy(update={rate: 0.0})
    bot.faults = bot.faults.model_copy(update={"rate_timeout": 1.0, "timeout_s": 0.0})
    assert_reason(await maap.send(message({"textMessage": "x"}), headers), 504)
    bot.faults = bot.faults.model_copy(update={"rate_timeout": 0.0})
    bot.tps = 1
    assert (await maap.send(message({"textMessage": "x"}), headers)).status == 202
    assert "per second" in assert_reason(
        await maap.send(message({"textMessage": "x"}), headers), 429
    )


async def test_status_get_and_put(maap: Maap, hooks: HeaderReceiver) -> None:
    headers = await maap.bearer()
    maap.state.phones.materialize(OFFLINE)
    queued = (await maap.send(message({"textMessage": "x"}, OFFLINE), headers)).json()
    msg_id = queued["RCSMessage"]["msgId"]
    url = f"/maap/bot/v1/{BOT}/messages/{msg_id}/status"
    await maap.state.run_due()
    got = await maap.client.get(url, headers=headers)
    assert got.json() == {
        "RCSMessage": {"msgId": msg_id, "status": "sent", "timestamp": "2024-01-01T00:00:00.000Z"}
    }
    cancel = await maap.client.put(
        url, json={"RCSMessage": {"status": "canceled"}}, headers=headers
    )
    assert cancel.status == 204
    await maap.state.run_due()
    assert hooks.statuses_of(msg_id) == ["sent", "cancelled"]
    delivered = (await maap.send(message({"textMessage": "y"}), headers)).json()["RCSMessage"][
        "msgId"
    ]
    await maap.state.run_due()
    late = await maap.client.put(
        f"/maap/bot/v1/{BOT}/messages/{delivered}/status",
        json={"RCSMessage": {"status": "cancelled"}},
        headers=headers,
    )
    assert_reason(late, 409)
    from_user = send_text(maap.state, BOT, USER, "hi")
    read = await maap.client.put(
        f"/maap/bot/v1/{BOT}/messages/{from_user.msg_id}/status",
        json={"RCSMessage": {"status": "displayed"}},
        headers=headers,
    )
    assert read.status == 204 and from_user.displayed_at is not None
    wrong = await maap.client.put(url, json={"RCSMessage": {"status": "read"}}, headers=headers)
    assert_reason(wrong, 400)
    missing = await maap.client.get(f"/maap/bot/v1/{BOT}/messages/nope/status", headers=headers)
    assert_reason(missing, 404)


async def test_capabilities_by_number_or_chat_id(maap: Maap) -> None:
    headers = await maap.bearer()
    url = f"/maap/bot/v1/{BOT}/contactCapabilities"
    found = await maap.client.get(f"{url}?userContact={quote(USER)}", headers=headers)
    assert found.status == 200 and "chatBotCommunication" in found.json()["capabilities"]
    assert_reason(await maap.client.get(f"{url}?userContact={NOT_RCS}", headers=headers), 404)
    assert_reason(await maap.client.get(url, headers=headers), 400)
    assert_reason(await maap.client.get(f"{url}?userContact=12", headers=headers), 400)
    chat = chat_id(BOT, USER)
    assert_reason(await maap.client.get(f"{url}?chatId={chat}", headers=headers), 404)
    send_text(maap.state, BOT, USER, "hi")
    by_chat = await maap.client.get(f"{url}?chatId={chat}", headers=headers)
    assert by_chat.status == 200 and by_chat.json() == found.json()


# --------------------------------------------------------------------- files


async def test_files_upload_status_get_delete(maap: Maap, hooks: HeaderReceiver) -> None:
    headers = await maap.bearer()
    form_headers, body = multipart(
        {
            "fileType": "image/png",
            "until": "2024-01-05T00:00:00Z",
            "fileContent": ("pic.png", b"\x89PNG-bytes", "image/png"),
        }
    )
    uploaded = await maap.client.post(
        f"/maap/bot/v1/{BOT}/files", data=body, headers={**headers, **form_headers}
    )
    assert uploaded.status == 202, uploaded.body
    file_id = uploaded.json()["fileId"]
    await maap.state.run_due()
    [event] = hooks.events("fileStatus")
    same_shape(load("maap/webhook_file_status.json"), event)
    assert event["file"]["fileId"] == file_id and event["file"]["fileSize"] == 10
    assert event["file"]["validity"] == "2024-01-05T00:00:00.000Z"
    url = f"/maap/bot/v1/{BOT}/files/{file_id}"
    got = await maap.client.get(url, headers=headers)
    assert got.json() == {"file": event["file"]}
    served = await maap.client.get(event["file"]["fileUrl"].replace("http://127.0.0.1:8000", ""))
    assert served.status == 200 and served.body == b"\x89PNG-bytes"
    assert (await maap.client.delete(url, headers=headers)).status == 204
    assert_reason(await maap.client.get(url, headers=headers), 404)
    by_url_headers, by_url = multipart(
        {"fileType": "video/mp4", "fileUrl": "https://example.com/v.mp4"}
    )
    linked = await maap.client.post(
        f"/maap/bot/v1/{BOT}/files", data=by_url, headers={**headers, **by_url_headers}
    )
    assert linked.status == 202
    for fields in (
        {"fileType": "text/plain", "fileUrl": "https://example.com/a.txt"},
        {"fileType": "image/png"},
        {"fileType": "image/png", "fileUrl": "ftp://example.com/a.png"},
        {"fileType": "image/png", "fileUrl": "https://e.com/a.png", "until": "yesterday"},
        {
            "fileType": "image/png",
            "fileUrl": "https://e.com/a.png",
            "until": "2023-01-01T00:00:00Z",
        },
    ):
        bad_headers, bad = multipart(dict(fields))
        reply = await maap.client.post(
            f"/maap/bot/v1/{BOT}/files", data=bad, headers={**headers, **bad_headers}
        )
        assert_reason(reply, 400)


# --------------------------------------------------------------------- webhooks


async def test_the_seven_events_with_the_token_header(maap: Maap, hooks: HeaderReceiver) -> None:
    token = maap.state.bots[BOT].webhook_token
    assert token is not None
    rcs = {
        "textMessage": "Visit?",
        "suggestedChipList": {
            "suggestions": [
                {
                    "action": {
                        "displayText": "Visit Website",
                        "postback": {"data": "set_by_chatbot_reply_yes"},
                        "urlAction": {"openUrl": {"url": "https://www.google.com"}},
                    }
                }
            ]
        },
    }
    sent = await maap.send(message(rcs))
    await maap.state.run_due()
    actions = f"/_emulator/phones/{USER}/actions"
    new_user = await maap.client.post(actions, json={"bot_id": BOT, "type": "new_user"})
    assert new_user.status == 200 and new_user.json()["msg_id"].startswith("Ms")
    send_text(maap.state, BOT, USER, "hello world")
    start_typing(maap.state, BOT, USER)
    tap(maap.state, BOT, USER, msg_id=sent.json()["RCSMessage"]["msgId"], index=0)
    alias = await maap.client.post(actions, json={"bot_id": BOT, "type": "alias"})
    assert alias.status == 200 and alias.json()["ok"] is True
    form_headers, body = multipart(
        {"fileType": "image/png", "fileContent": ("a.png", b"x", "image/png")}
    )
    await maap.client.post(
        f"/maap/bot/v1/{BOT}/files", data=body, headers={**(await maap.bearer()), **form_headers}
    )
    await maap.state.run_due()
    names = {
        "message": "webhook_message",
        "isTyping": "webhook_is_typing",
        "messageStatus": "webhook_message_status",
        "fileStatus": "webhook_file_status",
        "response": "webhook_response",
        "alias": "webhook_alias",
        "newUser": "webhook_new_user",
    }
    for event, fixture in names.items():
        found = hooks.events(event)
        assert found, event
        same_shape(load(f"maap/{fixture}.json"), found[0])
    response = hooks.events("response")[0]["RCSMessage"]["suggestedResponse"]
    assert response == load("maap/webhook_response.json")["RCSMessage"]["suggestedResponse"]
    new_user = hooks.events("newUser")[0]["RCSMessage"]["suggestedResponse"]
    assert new_user == load("maap/webhook_new_user.json")["RCSMessage"]["suggestedResponse"]
    alias = hooks.events("alias")[0]["messageContact"]
    assert alias == {"userContact": USER, "chatId": chat_id(BOT, USER)}
    assert len(hooks.headers) == len(hooks.received) >= 9
    assert {h["Authorization"] for h in hooks.headers} == {token.get_secret_value()}


async def test_anonymous_contacts(maap: Maap, hooks: HeaderReceiver) -> None:
    maap.state.bots[BOT].anonymous_contacts = True
    send_text(maap.state, BOT, USER, "hello")
    await maap.state.run_due()
    [event] = hooks.events("message")
    chat = chat_id(BOT, USER)
    assert event["messageContact"] == {"chatId": chat}
    reply = await maap.send(
        {"RCSMessage": {"textMessage": "hi"}, "messageContact": {"chatId": chat}}
    )
    assert reply.status == 202, reply.body
    stored = maap.state.find_message(BOT, reply.json()["RCSMessage"]["msgId"])
    assert stored is not None and stored.phone == USER
    unknown = await maap.send(
        {"RCSMessage": {"textMessage": "hi"}, "messageContact": {"chatId": "X"}}
    )
    assert_reason(unknown, 404)
    await maap.state.run_due()
    statuses = hooks.events("messageStatus")
    assert statuses and all(s["messageContact"] == {"chatId": chat} for s in statuses)
    assert json.dumps(hooks.received).count(USER) == 0


async def test_new_user_and_alias_need_an_rcs_user(maap: Maap) -> None:
    with pytest.raises(UserActionError, match="not RCS-enabled"):
        open_chat(maap.state, BOT, NOT_RCS)
    with pytest.raises(UserActionError, match="unknown bot"):
        disable_anonymization(maap.state, "nope", USER)
    assert open_chat(maap.state, BOT, USER) != disable_anonymization(maap.state, BOT, USER)
    assert (BOT, USER) in maap.state.conversations
    bad = await maap.client.post(
        f"/_emulator/phones/{USER}/actions", json={"bot_id": BOT, "type": "wave"}
    )
    assert bad.status == 400
    assert "new_user, alias, unsubscribe or resubscribe" in bad.json()["error"]
