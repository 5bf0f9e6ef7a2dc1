"""Generic GSMA MaaP (seed 003): every operation rcs_chatbot documents, working."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from rcskit.client import MaapConfig, RcsClient
from rcskit.errors import AuthError, NotFound, ProviderError, ServerError, UnsupportedFeature
from rcskit.formats import gsma
from rcskit.message import (
    Card,
    Contact,
    DialPhoneNumber,
    Media,
    Message,
    OpenUrl,
    Reply,
)
from rcskit.providers import gsma_api, maap
from rcskit.providers.base import StatusArgs
from rcskit.retry import NO_RETRY
from rcskit.transport import HttpResponse

from .conftest import FakePlatform, answer_with, query_of, wire_json

ROOT = "https://maap.example.com/rcs"
BOT = "mybot@botplatform.example"
BASE = f"{ROOT}/bot/v1/{BOT}"
USER = "+14251234567"


def config(**kw: Any) -> MaapConfig:
    kw.setdefault("client_secret", "bot-secret")
    return MaapConfig(ROOT, BOT, **kw)


def client(platform: FakePlatform, **kw: Any) -> RcsClient:
    return RcsClient(kw.pop("cfg", None) or config(), transport=platform.transport, **kw)


async def test_oauth2_token_flow_and_send() -> None:
    platform = answer_with(202, {"RCSMessage": {"msgId": "Xs8CI3tdf", "status": "pending"}})
    msg = Message(
        Card(
            title="Hello",
            media=Media.image("https://cdn.example.com/a.png", size=1000, height="MEDIUM"),
            suggestions=[Reply("Yes", "yes")],
        ),
        suggestions=[
            OpenUrl("Site", "https://example.com", "url"),
            DialPhoneNumber("Call", "+16502530000", "dial"),
        ],
        traffic_type="advertisement",
    )
    async with client(platform) as c:
        result = await c.send(USER, msg)
    token_req, send_req = platform.transport.requests
    assert token_req.method == "POST" and token_req.url == f"{ROOT}/oauth2/v1/token"
    basic = base64.b64encode(f"{BOT}:bot-secret".encode()).decode()
    assert token_req.encode().headers == {
        "Authorization": f"Basic {basic}",
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert token_req.encode().body == b"grant_type=client_credentials&scope=botmessage"
    assert send_req.method == "POST" and send_req.url == f"{BASE}/messages"
    assert send_req.encode().headers == {
        "Content-Type": "application/json",
        "Authorization": "Bearer tok-1",
    }
    assert wire_json(send_req) == gsma.encode(msg, Contact(USER))
    assert result.message_id == "Xs8CI3tdf" and result.provider == "maap"


async def test_static_token_and_client_id() -> None:
    platform = answer_with(202, {"RCSMessage": {"msgId": "m"}})
    async with client(platform, cfg=MaapConfig(ROOT, BOT, token="static-tok")) as c:
        await c.send(USER, "hi")
    (req,) = platform.transport.requests
    assert req.header("authorization") == "Bearer static-tok"
    auth = config(client_id="other-client").auth()
    assert "other-client" in repr(auth) and "bot-secret" not in repr(auth)


@pytest.mark.parametrize(("active", "value"), [(True, "active"), (False, "idle")])
async def test_typing(active: bool, value: str) -> None:
    platform = answer_with(202)
    async with client(platform) as c:
        await c.send_typing(USER, active)
    (req,) = platform.api_requests
    assert req.url == f"{BASE}/messages"
    assert wire_json(req) == {
        "RCSMessage": {"isTyping": value},
        "messageContact": {"userContact": USER},
    }


async def test_status_get_and_put() -> None:
    answers = iter(
        [
            HttpResponse.of_json(
                200,
                {
                    "RCSMessage": {
                        "msgId": "M1",
                        "status": "displayed",
                        "timestamp": "2017-09-26T01:33:20.315Z",
                    }
                },
            ),
            HttpResponse(204),
            HttpResponse(204),
        ]
    )
    platform = FakePlatform(lambda r: next(answers))
    async with client(platform) as c:
        status = await c.status("M1")
        await c.mark_read("MzJmajlm")
        revoked = await c.revoke("M1")
    get, read, revoke = platform.api_requests
    assert (get.method, get.url) == ("GET", f"{BASE}/messages/M1/status")
    assert status.status == "displayed" and status.timestamp == "2017-09-26T01:33:20.315Z"
    assert (read.method, read.url) == ("PUT", f"{BASE}/messages/MzJmajlm/status")
    assert wire_json(read) == {"RCSMessage": {"status": "displayed"}}
    assert get.encode().headers == {"Authorization": "Bearer tok-1"} and get.encode().body is None
    json_headers = {"Content-Type": "application/json", "Authorization": "Bearer tok-1"}
    assert read.encode().headers == json_headers == revoke.encode().headers
    assert (revoke.method, revoke.url) == ("PUT", f"{BASE}/messages/M1/status")
    assert wire_json(revoke) == {"RCSMessage": {"status": "cancelled"}}
    assert revoked.accepted


async def test_revoke_spelling_is_configurable() -> None:
    platform = answer_with(204)
    async with client(platform, cfg=config(revoke_status="canceled")) as c:
        await c.revoke("M1")
    assert wire_json(platform.api_requests[0]) == {"RCSMessage": {"status": "canceled"}}


async def test_capabilities_by_number_and_by_chat_id() -> None:
    platform = answer_with(200, {"capabilities": ["chat", "chatBotCommunication"]})
    async with client(platform) as c:
        caps = await c.capabilities(USER)
        anon = await c.capabilities(Contact(chat_id="93JF93SEIJFE"))
    by_number, by_chat = platform.api_requests
    assert by_number.url == f"{BASE}/contactCapabilities" and query_of(by_number) == {
        "userContact": USER
    }
    assert by_number.full_url.endswith("?userContact=%2B14251234567")
    assert query_of(by_chat) == {"chatId": "93JF93SEIJFE"}
    assert by_chat.encode().headers == {"Authorization": "Bearer tok-1"}
    assert caps.features == {"chat", "chatBotCommunication"} and anon.number == "chat:93JF93SEIJFE"


async def test_capabilities_not_rcs() -> None:
    platform = answer_with(404, {"reason": {"text": "User not found"}})
    async with client(platform) as c:
        caps = await c.capabilities(USER)
    assert not caps.rcs_enabled and caps.raw == {"reason": {"text": "User not found"}}


async def test_files_upload_info_delete(tmp_path: Any) -> None:
    picture = tmp_path / "picture1.png"
    picture.write_bytes(b"\x89PNG")
    file_body = {
        "file": {
            "fileId": "F1",
            "fileUrl": "http://www.example.com/files/f.jpg",
            "fileSize": 4,
            "status": "ready",
            "validity": "2017-10-03T22:31:00.597Z",
        }
    }
    answers = iter(
        [
            HttpResponse.of_json(202, file_body),
            HttpResponse.of_json(202, {"fileId": "F2", "status": "ready"}),
            HttpResponse.of_json(200, file_body),
            HttpResponse(204),
        ]
    )
    platform = FakePlatform(lambda r: next(answers))
    async with client(platform) as c:
        uploaded = await c.upload_file(picture, until="2017-10-03T22:31:00Z")
        by_url = await c.upload_file("https://cdn.example.com/v.mp4")
        info = await c.file_info("F1")
        await c.delete_file("F1")
    up, up_url, get, delete = platform.api_requests
    assert (up.method, up.url) == ("POST", f"{BASE}/files")
    wire = up.encode(boundary="B0")
    assert wire.headers == {
        "Authorization": "Bearer tok-1",
        "Content-Type": "multipart/form-data; boundary=B0",
    }
    assert delete.encode().headers == {"Authorization": "Bearer tok-1"}
    assert up.multipart is not None
    assert [(f.name, f.value, f.filename, f.content_type) for f in up.multipart] == [
        ("fileType", "image/png", None, None),
        ("until", "2017-10-03T22:31:00Z", None, None),
        ("fileContent", b"\x89PNG", "picture1.png", "image/png"),
    ]
    assert up_url.multipart is not None
    fields = {f.name: f.value for f in up_url.multipart}
    assert (
        fields["fileType"] == "video/mp4" and fields["fileUrl"] == "https://cdn.example.com/v.mp4"
    )
    assert str(fields["until"]).endswith("Z")  # default expiry: 30 days from now
    assert uploaded.file_id == "F1" and uploaded.size == 4 and by_url.file_id == "F2"
    assert (get.method, get.url, delete.method, delete.url) == (
        "GET",
        f"{BASE}/files/F1",
        "DELETE",
        f"{BASE}/files/F1",
    )
    assert info.url == "http://www.example.com/files/f.jpg"


async def test_bulk_and_testers_are_unsupported_before_any_call() -> None:
    platform = answer_with(200)
    async with client(platform) as c:
        with pytest.raises(UnsupportedFeature, match="bulk_capabilities is not supported by maap"):
            await c.bulk_capabilities([USER])
        with pytest.raises(UnsupportedFeature, match="add_tester"):
            await c.add_tester(USER)
    assert platform.transport.requests == []


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (400, {"reason": {"text": "Invalid RCSMessage"}}, ProviderError, "Invalid RCSMessage"),
        (403, {"error": "forbidden"}, ProviderError, "forbidden"),
        (
            404,
            {"error": {"code": 404, "message": "msgId unknown", "status": "NOT_FOUND"}},
            NotFound,
            "msgId unknown",
        ),
        (502, None, ServerError, "HTTP 502 on status"),
        (401, {"reason": {"text": "token expired"}}, AuthError, "token expired"),
    ],
)
def test_error_shapes(status: int, body: Any, cls: type[ProviderError], message: str) -> None:
    resp = HttpResponse(status) if body is None else HttpResponse.of_json(status, body)
    err = maap.map_error(resp, "status")
    assert type(err) is cls and err.message == message and err.provider == "maap"


async def test_send_without_msgid_in_the_answer() -> None:
    platform = answer_with(202)
    async with client(platform, retry=NO_RETRY) as c:
        result = await c.send(USER, Message("hi", message_id="client-42"))
    assert wire_json(platform.api_requests[0])["RCSMessage"]["msgId"] == "client-42"
    assert result.message_id == "client-42" and result.status == "pending"


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MaapConfig(ROOT, BOT)
    with pytest.raises(ValueError, match="exactly one"):
        MaapConfig(ROOT, BOT, client_secret="a", token="b")
    with pytest.raises(ValueError, match="server_root"):
        MaapConfig("maap.example.com", BOT, token="t")
    assert (
        MaapConfig(ROOT + "/", "b", token="t", api_path="/rcs/bot/v1").base
        == f"{ROOT}/rcs/bot/v1/b"
    )
    assert "bot-secret" not in repr(config()) and "static" not in repr(
        MaapConfig(ROOT, BOT, token="static")
    )


def test_build_functions_are_pure() -> None:
    first = gsma_api.build_status(BASE, StatusArgs("M/1"))
    assert first == gsma_api.build_status(BASE, StatusArgs("M/1"))
    assert first.url == f"{BASE}/messages/M%2F1/status"
