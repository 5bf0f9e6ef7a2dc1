"""Dotgo GSMA API (seed 002 §2): every operation against the golden fixtures."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rcskit.client import DotgoConfig, RcsClient
from rcskit.errors import (
    AuthError,
    NotFound,
    NotRcsCapable,
    OutsideAllowedWindow,
    ProviderError,
    RateLimited,
    RcsError,
    ServerError,
)
from rcskit.formats import gsma
from rcskit.message import IsTyping
from rcskit.providers import dotgo
from rcskit.results import BulkCapabilities, Capabilities, FileInfo, MessageStatus, SendResult
from rcskit.retry import NO_RETRY
from rcskit.transport import HttpRequest, HttpResponse
from tests.seeds import entries, load

from .conftest import BOT, ROOT, FakePlatform, answer_with, query_of, wire_json

SEND_PATH = "/bot/v1/{botId}/messages/async"
ACCEPTED = load("dotgo_gsma/send_response_202.json")


def config(bot: str = BOT) -> DotgoConfig:
    return DotgoConfig(bot, "client-id", "client-secret")


def client(platform: FakePlatform, bot: str = BOT, **kw: Any) -> RcsClient:
    kw.setdefault("validation", "off")
    return RcsClient(config(bot), transport=platform.transport, **kw)


def described(file: str) -> tuple[dict[str, Any], str]:
    """A request_description fixture and the bot id its URL names."""
    desc = load(file)
    match = re.search(r"/bot/v1/([^/?]+)", desc["url"])
    assert match
    return desc, match.group(1)


def check(req: HttpRequest, desc: dict[str, Any], bot: str) -> None:
    """Method, URL, query and headers as the seed describes them (token: tok-1)."""
    assert req.method == desc["method"]
    assert req.url == desc["url"].replace("{serverRoot}", ROOT).split("?")[0].strip()
    assert query_of(req) == desc["query"]
    wire = req.encode()
    want = {k: ("Bearer tok-1" if k == "Authorization" else v) for k, v in desc["headers"].items()}
    if desc["body_kind"] == "multipart":
        assert wire.headers.pop("Content-Type").startswith("multipart/form-data; boundary=")
        want.pop("Content-Type")
    assert wire.headers == want
    if desc["body_kind"] == "none":
        assert wire.body is None


# ---------------------------------------------------------------- requests


@pytest.mark.parametrize(
    "entry",
    entries(seed="002", kind="request", path=SEND_PATH),
    ids=lambda e: e["file"],
)
async def test_send_and_typing_bodies_are_the_seed_bodies(entry: dict[str, Any]) -> None:
    body = load(entry)
    envelope = gsma.decode(body)
    platform = answer_with(202, ACCEPTED)
    async with client(platform) as c:
        if isinstance(envelope.message.content, IsTyping):
            await c.send_typing(envelope.to or "", envelope.message.content.active)
        else:
            assert envelope.to is not None
            result = await c.send(envelope.to, envelope.message)
            assert result.message_id == "63c30986-3222-4369-a8e8-16c09b36f34f"
    (req,) = platform.api_requests
    desc, bot = described("dotgo_gsma/send_request_description.json")
    check(req, desc, bot)
    assert wire_json(req) == body


def test_every_send_example_is_covered() -> None:
    files = {e["file"] for e in entries(seed="002", kind="request", path=SEND_PATH)}
    assert {"dotgo_gsma/send_template_request.json", "dotgo_gsma/istyping_request.json"} <= files
    assert len(files) >= 9


async def test_typing_idle() -> None:
    platform = answer_with(202, ACCEPTED)
    async with client(platform) as c:
        await c.send_typing("+914253136789", active=False)
    assert wire_json(platform.api_requests[0])["RCSMessage"] == {"isTyping": "idle"}


async def test_status_request() -> None:
    desc, bot = described("dotgo_gsma/message_status_request_description.json")
    platform = answer_with(200, load("dotgo_gsma/message_status_response_200.json"))
    async with client(platform, bot) as c:
        status = await c.status("ddc24c2-cff5-48ac-baaa-4f286bc28061")
    check(platform.api_requests[0], desc, bot)
    assert status == MessageStatus(
        provider="dotgo",
        message_id="ddc24c2-cff5-48ac-baaa-4f286bc28061",
        status="sent",
        timestamp="2020-11-10T11:06:26",
        raw=load("dotgo_gsma/message_status_response_200.json"),
    )


@pytest.mark.parametrize(
    ("file", "call"),
    [
        ("read", lambda c, m: c.mark_read(m)),
        ("revoke", lambda c, m: c.revoke(m)),
    ],
)
async def test_read_and_revoke_requests(
    file: str, call: Callable[[RcsClient, str], Awaitable[Any]]
) -> None:
    desc, bot = described(f"dotgo_gsma/{file}_request_description.json")
    msg_id = desc["url"].split("/messages/")[1].split("/status")[0]
    platform = answer_with(204)
    async with client(platform, bot) as c:
        result = await call(c, msg_id)
    (req,) = platform.api_requests
    check(req, desc, bot)
    assert req.url.endswith(f"/messages/{msg_id}/status")  # '=' kept literally in the path
    assert wire_json(req) == load(desc["body_fixture"])
    if file == "revoke":
        assert result.message_id == msg_id and result.accepted


async def test_capabilities_request() -> None:
    desc, bot = described("dotgo_gsma/capabilities_request_description.json")
    platform = answer_with(200, load("dotgo_gsma/capabilities_response_format.json"))
    async with client(platform, bot) as c:
        caps = await c.capabilities("+914253136788")
    req = platform.api_requests[0]
    check(req, desc, bot)
    assert req.full_url.endswith("/contactCapabilities?userContact=%2B914253136788")
    assert caps.rcs_enabled and caps.features == {"chatBotCommunication", "chat", "fileTransfer"}


async def test_upload_raw_file_request() -> None:
    desc, bot = described("dotgo_gsma/upload_raw_file_request_description.json")
    platform = answer_with(202, load("dotgo_gsma/upload_raw_file_response_202.json"))
    form = desc["form"]
    async with client(platform, bot) as c:
        info = await c.upload_file(
            b"\x89PNG-bytes",
            mime_type=form["fileType"],
            until=form["until"],
            filename=form["fileContent"],
        )
    req = platform.api_requests[0]
    check(req, desc, bot)
    assert req.multipart is not None
    fields = {f.name: f for f in req.multipart}
    assert list(fields) == ["fileType", "until", "fileContent"]
    assert (
        fields["fileType"].value == "Image/png" and fields["until"].value == "2020-11-12T11:06:26"
    )
    assert fields["fileContent"].filename == "picture1.png"
    assert fields["fileContent"].value == b"\x89PNG-bytes"
    assert info.file_id == "YB5tV2prGiY2eAyIuFZ6AiEJlzPnaXGk" and info.status == "ready"


async def test_upload_by_url_request() -> None:
    desc, bot = described("dotgo_gsma/upload_file_by_url_request_description.json")
    platform = answer_with(202, load("dotgo_gsma/upload_file_by_url_response_202.json"))
    form = desc["form"]
    async with client(platform, bot) as c:
        await c.upload_file(form["fileUrl"], mime_type=form["fileType"], until=form["until"])
    req = platform.api_requests[0]
    check(req, desc, bot)
    assert req.multipart is not None
    assert {f.name: f.value for f in req.multipart} == form
    assert all(f.filename is None for f in req.multipart)


async def test_file_status_and_delete_requests() -> None:
    desc, bot = described("dotgo_gsma/file_status_request_description.json")
    platform = answer_with(200, load("dotgo_gsma/file_status_response_200_expired.json"))
    async with client(platform, bot) as c:
        info = await c.file_info("YB5tV2prGiY2eAyIuFZ6AiEJ1zPnaXGk")
    check(platform.api_requests[0], desc, bot)
    assert info.status == "expired" and info.size == 15022
    desc, bot = described("dotgo_gsma/delete_file_request_description.json")
    platform = answer_with(204)
    async with client(platform, bot) as c:
        assert await c.delete_file("DqVpWEf8E7N7tnpXwPSiuMT99YDC74yn") is None
    check(platform.api_requests[0], desc, bot)


async def test_bulk_capabilities_request() -> None:
    desc, bot = described("dotgo_gsma/bulk_capability_request_description.json")
    platform = answer_with(200, load("dotgo_gsma/bulk_capability_response_200.json"))
    users = load(desc["body_fixture"])["users"]
    async with client(platform, bot) as c:
        result = await c.bulk_capabilities(users)
    req = platform.api_requests[0]
    check(req, desc, bot)
    assert wire_json(req) == {"users": users}
    assert result.reachable == {"+919686960876"}
    assert result.unreachable == {"+919687895543", "+919688757768"}


async def test_bulk_capabilities_splits_above_ten_thousand() -> None:
    def reachable_evens(req: HttpRequest) -> HttpResponse:
        users = wire_json(req)["users"]
        return HttpResponse.of_json(
            200, {"rcsEnabledContacts": [u for u in users if int(u[-1]) % 2 == 0]}
        )

    platform = FakePlatform(reachable_evens)
    numbers = [f"+9198{i:08d}" for i in range(10_001)] + ["+919800000000"]  # one duplicate
    async with client(platform) as c:
        result = await c.bulk_capabilities(numbers)
    sizes = [len(wire_json(r)["users"]) for r in platform.api_requests]
    assert sizes == [10_000, 1]
    assert len(result.reachable) + len(result.unreachable) == 10_001
    assert "+919800010000" in result.reachable and "+919800000001" in result.unreachable
    assert len(result.raw) == 2


# ---------------------------------------------------------------- every documented response


def _send(c: RcsClient) -> Awaitable[Any]:
    return c.send("+914253136789", "hello world")


CALLS: dict[tuple[str | None, str | None], Callable[[RcsClient], Awaitable[Any]]] = {
    ("POST", SEND_PATH): _send,
    (None, None): _send,
    ("GET", "/bot/v1/{botId}/messages/{msgId}/status"): lambda c: c.status(
        "ddc24c2-cff5-48ac-baaa-4f286bc28061"
    ),
    ("GET", "/bot/v1/{botId}/contactCapabilities"): lambda c: c.capabilities("+914253136788"),
    ("POST", "/bot/v1/{botId}/files"): lambda c: c.upload_file(b"x", mime_type="image/png"),
    ("GET", "/bot/v1/{botId}/files/{fileId}"): lambda c: c.file_info(
        "YB5tV2prGiY2eAyIuFZ6AiEJ1zPnaXGk"
    ),
    ("POST", "/bot/v1/{botId}/rcsEnabledContacts"): lambda c: c.bulk_capabilities(
        ["+919687895543", "+919686960876", "+919688757768"]
    ),
}


def sent(msg_id: str) -> Callable[[Any], None]:
    def check_result(r: Any) -> None:
        assert isinstance(r, SendResult) and r.message_id == msg_id and r.status == "pending"
        assert r.provider == "dotgo" and r.to == "+914253136789"

    return check_result


def error(
    cls: type[RcsError], message: str, code: str | None = None, retryable: bool | None = None
) -> Callable[[Any], None]:
    def check_error(e: Any) -> None:
        assert type(e) is cls, repr(e)
        assert isinstance(e, ProviderError)
        assert e.message == message and e.code == code and e.provider == "dotgo"
        assert e.raw is not None
        if retryable is not None:
            assert e.retryable is retryable

    return check_error


def file_info(file_id: str, status: str, size: int) -> Callable[[Any], None]:
    def check_file(r: Any) -> None:
        assert isinstance(r, FileInfo) and (r.file_id, r.status, r.size) == (file_id, status, size)
        assert r.url is not None and r.url.startswith("https://stagingrcsapi.kirusa.com/")
        assert r.validity == "2020-11-12T11:06:26"

    return check_file


def capabilities(enabled: bool, features: set[str]) -> Callable[[Any], None]:
    def check_caps(r: Any) -> None:
        assert isinstance(r, Capabilities) and r.rcs_enabled is enabled and r.features == features
        assert r.number == "+914253136788"

    return check_caps


def bulk(r: Any) -> None:
    assert isinstance(r, BulkCapabilities) and r.reachable == {"+919686960876"}


def status(r: Any) -> None:
    assert isinstance(r, MessageStatus) and r.status == "sent"


EXPECT: dict[str, Callable[[Any], None]] = {
    "send_response_format.json": sent("6cd095cd-62f6-4338-bba2-4b14b98b0537"),
    "send_response_202.json": sent("63c30986-3222-4369-a8e8-16c09b36f34f"),
    "istyping_response_202.json": sent("e125527c-1af3-4158-8db9-9cc4f16d4733"),
    "send_response_403.json": error(AuthError, "Invalid client id!"),
    "message_status_response_200.json": status,
    "capabilities_response_format.json": capabilities(
        True, {"chatBotCommunication", "chat", "fileTransfer"}
    ),
    "capabilities_response_404.json": capabilities(False, set()),
    "upload_file_response_format.json": file_info(
        "GiYosOsQ0GwNvUdLTV9Bd2naXGkuz8bmDA", "ready", 15022
    ),
    "upload_raw_file_response_202.json": file_info(
        "YB5tV2prGiY2eAyIuFZ6AiEJlzPnaXGk", "ready", 15022
    ),
    "upload_file_by_url_response_202.json": file_info(
        "wPT9VpDqEfW98EnYDpSiuMC74yn7N7tX", "ready", 14052
    ),
    "file_status_response_format.json": file_info(
        "YB5tV2prGiY2eAyIuFZ6AiEJlzPnaXGk", "ready", 15022
    ),
    "file_status_response_200_expired.json": file_info(
        "YB5tV2prGiY2eAyIuFZ6AiEJ1zPnaXGk", "expired", 15022
    ),
    "bulk_capability_response_200.json": bulk,
    "bulk_capability_response_400.json": error(
        ProviderError, "Requested users shouldn't be more than 10000 in a request"
    ),
    "bulk_capability_response_424_multiple_maaps.json": error(
        ProviderError, "bulk capability check is not supported for agent with multiple MaaPs"
    ),
    "bulk_capability_response_424_maap_unsupported.json": error(
        ProviderError, "telcel MaaP doesn't support bulk capability check"
    ),
    "throttling_response_429.json": error(
        RateLimited,
        "Number of API requests allowed per second exceeded. Please retry",
        retryable=True,
    ),
    "error_response_401.json": error(AuthError, "Invalid ClientID", "401-B", retryable=False),
}

RESPONSES = entries(seed="002", kind="response", file=lambda f: f.startswith("dotgo_gsma/"))


def test_every_documented_response_has_an_expectation() -> None:
    assert {e["file"].split("/", 1)[1] for e in RESPONSES} == set(EXPECT)


@pytest.mark.parametrize("entry", RESPONSES, ids=lambda e: e["file"])
async def test_documented_responses(entry: dict[str, Any]) -> None:
    platform = answer_with(entry["status"], load(entry))
    call = CALLS[(entry["method"], entry["path"])]
    async with client(platform, retry=NO_RETRY) as c:
        try:
            outcome: Any = await call(c)
        except RcsError as err:
            outcome = err
    EXPECT[entry["file"].split("/", 1)[1]](outcome)


def test_capability_404_is_not_rcs_capable_even_for_other_operations() -> None:
    body = load("dotgo_gsma/capabilities_response_404.json")
    err = dotgo.map_error(HttpResponse.of_json(404, body), "status")
    assert isinstance(err, NotRcsCapable)
    assert isinstance(
        dotgo.map_error(HttpResponse.of_json(404, {"status": "Error", "message": "x"}), "status"),
        NotFound,
    )


# ---------------------------------------------------------------- the error-code catalogue (§7)


@pytest.mark.parametrize(
    ("status", "code", "cls", "retryable", "maap"),
    [
        (400, "400-A", ProviderError, False, None),
        (400, "400-M08", ProviderError, False, "Orange"),
        (401, "401-A", AuthError, False, None),
        (401, "401-C", AuthError, False, None),
        (401, "401-D", ProviderError, False, None),
        (402, "402-A", ProviderError, False, None),
        (403, "403-B", ProviderError, False, None),
        (404, "404-A", NotRcsCapable, False, None),
        (409, "409-M12", ProviderError, False, "Vodafone"),
        (429, "429-A", RateLimited, True, None),
        (429, "429-B", RateLimited, False, None),
        (429, "429-M01", RateLimited, True, "Google"),
        (500, "500-A", ServerError, True, None),
        (502, "502-M13", ServerError, True, "Konnect"),
        (503, "503-A", OutsideAllowedWindow, False, None),
        (504, "504-A", ServerError, True, None),
    ],
)
def test_error_codes(
    status: int, code: str, cls: type[ProviderError], retryable: bool, maap: str | None
) -> None:
    body = {
        "RCSMessage": {"msgId": "m", "status": "failed"},
        "reason": {"text": "why", "code": code},
    }
    err = dotgo.map_error(HttpResponse.of_json(status, body, {"Retry-After": "2"}), "revoke")
    assert type(err) is cls
    assert (err.code, err.status, err.retryable) == (code, status, retryable)
    assert err.message == (f"why (MaaP {maap})" if maap else "why")
    assert f"[dotgo {status} {code}]" in str(err)
    if isinstance(err, RateLimited):
        assert err.retry_after == 2.0


def test_non_json_error_bodies() -> None:
    err = dotgo.map_error(HttpResponse(502, {}, b"<html>Bad Gateway</html>"), "send")
    assert isinstance(err, ServerError) and err.message == "<html>Bad Gateway</html>"
    empty = dotgo.map_error(HttpResponse(500), "status")
    assert empty.message == "HTTP 500 on status" and empty.raw is None


def test_maap_names() -> None:
    assert dotgo.maap_name("400-M08") == "Orange"
    assert dotgo.maap_name("400-A") is None and dotgo.maap_name(None) is None
    assert len(dotgo.MAAP_CODES) == 13


def test_config_repr_hides_the_secret() -> None:
    cfg = DotgoConfig(BOT, "client-id", "top-secret-value")
    assert "top-secret-value" not in repr(cfg)
    with pytest.raises(ValueError, match="server_root"):
        DotgoConfig(BOT, "c", "s", server_root="api.dotgo.com")
