"""Every Dotgo request example of the seeds, sent verbatim, gets the documented status and shape.

Requests come from tests/data/seeds/index.json (kind "request" and "request_description",
provider dotgo_*). Identifiers the examples refer to (message ids, file ids) are created first
with exactly those values, so the path is sent as the seed prints it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rcskit.emulator import ManualClock
from rcskit.emulator.config import BotConfig, EmulatorConfig
from rcskit.emulator.core.records import StoredFile
from tests.seeds import entries, load

from .asgi_call import Reply, basic, bearer, multipart
from .conftest import GSMA_BOT, START, Emu, make_config

OTHER_BOT = "OsQ0GwNvUdLTV9Bd"  # the id the seed's capability and file examples use


def conformance_config(provider: str) -> EmulatorConfig:
    config = make_config(None)
    main = config.bot(GSMA_BOT)
    assert main is not None
    main.provider = provider
    config.bots.append(BotConfig(id=OTHER_BOT, provider="dotgo", client_id="other-client"))
    return config


def same_shape(expected: Any, actual: Any, path: str = "$") -> None:
    """Same keys at every level and the same JSON types (lists: every item like the first)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            same_shape(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if expected and actual:
            for i, item in enumerate(actual):
                same_shape(expected[0], item, f"{path}[{i}]")
    elif isinstance(expected, bool):
        assert isinstance(actual, bool), f"{path}: {actual!r} is not a boolean"
    elif isinstance(expected, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), path
    elif isinstance(expected, str):
        assert isinstance(actual, str), f"{path}: {actual!r} is not a string"
    else:
        assert actual is None, f"{path}: expected null"


def description(kind_file: str) -> dict[str, Any]:
    found = load(kind_file)
    assert isinstance(found, dict)
    return found


def url_of(desc: dict[str, Any], bot_id: str) -> str:
    """The request URL relative to the emulator: the seed's URL with the Dotgo hosts swapped."""
    url = str(desc["url"])
    url = url.replace("{serverRoot}", "/dotgo/rcs")
    url = url.replace("https://api.dotgo.com/rcs", "/dotgo/rcs")
    url = url.replace("https://auth.dotgo.com", "/dotgo")
    url = url.replace("{botId}", bot_id).replace("{phone_number}", "+914253136789")
    return url.replace("? ", "?%20")


async def send(emu: Emu, desc: dict[str, Any], body: Any, url: str | None = None) -> Reply:
    url = url or url_of(desc, GSMA_BOT)
    bot_id = OTHER_BOT if f"/{OTHER_BOT}/" in url else GSMA_BOT
    headers = await emu.auth(bot_id)
    if desc["body_kind"] == "json":
        return await emu.client.request(desc["method"], url, json=body, headers=headers)
    return await emu.client.request(desc["method"], url, headers=headers)


@pytest.fixture
async def gsma(clock: ManualClock) -> Any:
    e = Emu(conformance_config("dotgo"), clock)
    yield e
    await e.state.aclose()


@pytest.fixture
async def google(clock: ManualClock) -> Any:
    e = Emu(conformance_config("dotgo_google"), clock)
    yield e
    await e.state.aclose()


SEND_GSMA = [
    e
    for e in entries(kind="request", format="gsma")
    if e["file"].startswith("dotgo_gsma/") and e["path"].endswith("/messages/async")
]
SEND_GOOGLE = [
    e
    for e in entries(kind="request", format="google")
    if e["file"].startswith("dotgo_google/") and e["path"].endswith("/async")
]


def test_the_index_has_the_dotgo_examples() -> None:
    files = {e["file"] for e in entries(kind="request")}
    assert len(SEND_GSMA) == 9  # 2.1 basic, 2.1.1.1 examples 1-7, 2.1.2.1 isTyping
    assert len(SEND_GOOGLE) == 8  # 3.2 examples 1-8
    assert "dotgo_gsma/bulk_capability_request.json" in files


@pytest.mark.parametrize("entry", SEND_GSMA, ids=lambda e: e["file"])
async def test_gsma_send_examples(gsma: Emu, entry: dict[str, Any]) -> None:
    desc = description("dotgo_gsma/send_request_description.json")
    reply = await send(gsma, desc, load(entry))
    assert reply.status == 202, reply.body
    expected = load("dotgo_gsma/send_response_202.json")
    same_shape(expected, reply.json())
    assert reply.json()["RCSMessage"]["status"] == "pending"


@pytest.mark.parametrize("entry", SEND_GOOGLE, ids=lambda e: e["file"])
async def test_google_send_examples(google: Emu, entry: dict[str, Any]) -> None:
    desc = description("dotgo_google/send_request_description.json")
    body = load(entry)
    if entry["file"].endswith("send_file_id_request.json"):
        name = body["contentMessage"]["fileName"]
        google.state.files[name] = StoredFile(
            name, GSMA_BOT, "upload", "image/png", 3, START.timestamp(), 2e9, b"png"
        )
    reply = await send(google, desc, body)
    if body.get("expireTime", "").startswith("2014"):
        # Example 5 carries a 2014 expireTime: the seed says older dates are rejected.
        assert reply.status == 400
        same_shape(load("dotgo_google/send_response_failed_403.json"), reply.json())
        assert "expireTime" in reply.json()["reason"]
        return
    assert reply.status == 200, reply.body
    expected = {**load("dotgo_google/send_response_200.json"), "contentMessage": {}}
    same_shape(expected, {**reply.json(), "contentMessage": {}})
    assert reply.json()["contentMessage"] == body["contentMessage"]
    assert reply.json()["name"] == (
        "phones/+914253136789/agentMessages/d2f81052-37c7-469c-997b-9576023b4220"
    )


async def test_token_request(gsma: Emu) -> None:
    desc = description("dotgo_gsma/auth_token_request_description.json")
    bot = gsma.config.bot(GSMA_BOT)
    assert bot is not None
    reply = await gsma.client.post(
        url_of(desc, GSMA_BOT), headers=basic(bot.client_id, gsma.secret(GSMA_BOT))
    )
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "Chatbot-message"


async def test_message_status_example(gsma: Emu) -> None:
    desc = description("dotgo_gsma/message_status_request_description.json")
    created = await gsma.client.post(
        f"/_emulator/bots/{GSMA_BOT}/messages",
        json={
            "phone": "+14255550100",  # offline: the message stays "sent"
            "content": {"textMessage": "hi"},
            "msg_id": "ddc24c2-cff5-48ac-baaa-4f286bc28061",
        },
    )
    assert created.status == 201
    await gsma.state.run_due()
    reply = await send(gsma, desc, None)
    assert reply.status == 200
    expected = load("dotgo_gsma/message_status_response_200.json")
    same_shape(expected, reply.json())
    assert reply.json()["RCSMessage"] == {
        **expected["RCSMessage"],
        "timestamp": "2024-01-01T00:00:00",
    }


async def test_read_receipt_example(gsma: Emu) -> None:
    desc = description("dotgo_gsma/read_request_description.json")
    made = await gsma.client.post(
        "/_emulator/phones/+14251234567/actions",
        json={
            "bot_id": GSMA_BOT,
            "type": "text",
            "text": "hi",
            "msg_id": "MsYMv92L4HS5GJ54rW5Xm2JA",
        },
    )
    assert made.status == 201
    reply = await send(gsma, desc, load(desc["body_fixture"]))
    assert (reply.status, reply.body) == (204, b"")
    msg = gsma.state.find_message(GSMA_BOT, "MsYMv92L4HS5GJ54rW5Xm2JA")
    assert msg is not None and msg.status == "displayed"


async def test_revoke_example(gsma: Emu) -> None:
    desc = description("dotgo_gsma/revoke_request_description.json")
    await gsma.client.post(
        f"/_emulator/bots/{GSMA_BOT}/messages",
        json={
            "phone": "+14255550100",
            "content": {"textMessage": "x"},
            "msg_id": "MsW6S-iK49TuCRSwG=mfNP7Q",
        },
    )
    reply = await send(gsma, desc, load(desc["body_fixture"]))
    assert (reply.status, reply.body) == (204, b"")
    msg = gsma.state.find_message(GSMA_BOT, "MsW6S-iK49TuCRSwG=mfNP7Q")
    assert msg is not None and msg.status == "cancelled"


async def test_capability_examples(gsma: Emu) -> None:
    desc = description("dotgo_gsma/capabilities_request_description.json")
    reply = await send(gsma, desc, None)
    assert reply.status == 404
    assert reply.json() == load("dotgo_gsma/capabilities_response_404.json")
    rcs = await gsma.client.get(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/contactCapabilities?userContact=+914253136789",
        headers=await gsma.auth(),
    )
    assert rcs.status == 200
    same_shape(load("dotgo_gsma/capabilities_response_format.json"), rcs.json())
    assert rcs.json()["capabilities"][:3] == ["chatBotCommunication", "chat", "fileTransfer"]


async def test_bulk_capability_example(gsma: Emu) -> None:
    desc = description("dotgo_gsma/bulk_capability_request_description.json")
    reply = await send(gsma, desc, load(desc["body_fixture"]))
    assert reply.status == 200
    assert reply.json() == load("dotgo_gsma/bulk_capability_response_200.json")


@pytest.mark.parametrize(
    ("desc_file", "response_file"),
    [
        ("upload_raw_file_request_description.json", "upload_raw_file_response_202.json"),
        ("upload_file_by_url_request_description.json", "upload_file_by_url_response_202.json"),
    ],
)
async def test_upload_examples(gsma: Emu, desc_file: str, response_file: str) -> None:
    gsma.clock.set(START.replace(year=2020, month=11, day=1))
    desc = description(f"dotgo_gsma/{desc_file}")
    fields: dict[str, str | tuple[str, bytes, str]] = {}
    for name, value in desc["form"].items():
        fields[name] = (
            (value, b"\x89PNG fake", "image/png") if name in desc["file_fields"] else value
        )
    headers, body = multipart(fields)
    headers.update(await gsma.auth(OTHER_BOT))
    reply = await gsma.client.post(url_of(desc, GSMA_BOT), data=body, headers=headers)
    assert reply.status == 202, reply.body
    expected = load(f"dotgo_gsma/{response_file}")
    same_shape(expected, reply.json())
    got = reply.json()["File"]
    assert got["status"] == "ready"
    assert got["validity"] == expected["File"]["validity"]
    assert got["fileUrl"].endswith("/" + expected["File"]["fileUrl"].rsplit("/", 1)[1])


@pytest.mark.parametrize(
    ("desc_file", "status"),
    [("file_status_request_description.json", 200), ("delete_file_request_description.json", 204)],
)
async def test_file_id_examples(gsma: Emu, desc_file: str, status: int) -> None:
    desc = description(f"dotgo_gsma/{desc_file}")
    file_id = desc["url"].rsplit("/", 1)[1]
    gsma.state.files[file_id] = StoredFile(
        file_id, OTHER_BOT, "picture1.png", "image/png", 15022, START.timestamp(), 2e9, b"x"
    )
    reply = await send(gsma, desc, None)
    assert reply.status == status
    if status == 200:
        same_shape(load("dotgo_gsma/file_status_response_format.json"), reply.json())
    else:
        assert file_id not in gsma.state.files


async def test_google_event_examples(google: Emu) -> None:
    made = await google.client.post(
        "/_emulator/phones/+914253136789/actions",
        json={
            "bot_id": GSMA_BOT,
            "type": "text",
            "text": "hello",
            "msg_id": "6924cc84-dc0b-4679-a4ab-50c0875b309f",
        },
    )
    assert made.status == 201
    for name in ("read_event_request_description.json", "typing_event_request_description.json"):
        desc = description(f"dotgo_google/{name}")
        reply = await send(google, desc, load(desc["body_fixture"]))
        assert (reply.status, reply.body) == (200, b""), name
    msg = google.state.find_message(GSMA_BOT, "6924cc84-dc0b-4679-a4ab-50c0875b309f")
    assert msg is not None and msg.displayed_at is not None
    conv = google.state.conversation(GSMA_BOT, "+914253136789")
    assert conv.agent_typing_until > google.state.ts()


async def test_google_revoke_example(google: Emu) -> None:
    desc = description("dotgo_google/revoke_request_description.json")
    google.state.phones.materialize("+914253136789").online = False  # type: ignore[union-attr]
    sent = await google.client.post(
        "/dotgo/rcs/v1/phones/+914253136789/agentMessages/async?botId="
        f"{GSMA_BOT}&messageId=to-revoke",
        json={"contentMessage": {"text": "soon revoked"}},
        headers=await google.auth(),
    )
    assert sent.status == 200
    url = url_of(desc, GSMA_BOT).replace("{message_id}", "to-revoke")
    reply = await send(google, desc, load(desc["body_fixture"]), url)
    assert (reply.status, reply.body) == (200, b"")
    again = await send(google, desc, load(desc["body_fixture"]), url)
    assert again.status == 404
    assert again.json() == load("dotgo_google/revoke_response_404.json")


async def test_google_capability_example(google: Emu) -> None:
    desc = description("dotgo_google/capabilities_request_description.json")
    reply = await send(google, desc, None)
    assert reply.status == 200
    assert reply.json() == load("dotgo_google/capabilities_response_200.json")
    other = await google.client.get(
        f"/dotgo/rcs/v1/phones/+914253136788/capabilities?botId={GSMA_BOT}",
        headers=await google.auth(),
    )
    assert other.status == 404
    assert other.json() == load("dotgo_google/capabilities_response_404.json")


async def test_google_add_tester_example(google: Emu) -> None:
    desc = description("dotgo_google/add_tester_request_description.json")
    reply = await send(google, desc, None)
    assert reply.status == 200
    assert reply.json() == load("dotgo_google/add_tester_response_200.json")
    bot = google.state.bot(GSMA_BOT)
    assert bot is not None and "+914253136789" in bot.testers


async def test_google_upload_example(google: Emu) -> None:
    desc = description("dotgo_google/upload_file_request_description.json")
    headers = {**await google.auth(), "Content-Type": "image/png"}
    reply = await google.client.post(url_of(desc, GSMA_BOT), data=b"\x89PNG...", headers=headers)
    assert reply.status == 200
    same_shape(load("dotgo_google/upload_file_response_200.json"), reply.json())
    stored = google.state.files[reply.json()["name"]]
    assert (stored.data, stored.mime_type) == (b"\x89PNG...", "image/png")


def test_descriptions_cover_every_dotgo_request_path() -> None:
    tested = {
        "/auth/oauth/token",
        "/bot/v1/{botId}/messages/async",
        "/bot/v1/{botId}/messages/{msgId}/status",
        "/bot/v1/{botId}/contactCapabilities",
        "/bot/v1/{botId}/files",
        "/bot/v1/{botId}/files/{fileId}",
        "/bot/v1/{botId}/rcsEnabledContacts",
        "/v1/phones/{phone_number}/agentMessages/async",
        "/rcs/v1/phones/{phone_number}/agentEvents",
        "/rcs/v1/phones/{phone_number}/agentMessages/{message_id}",
        "/rcs/v1/phones/{phone_number}/capabilities",
        "/rcs/v1/phones/{phone_number}/testers",
        "/rcs/upload/v1/files",
    }
    described = {
        e["path"]
        for e in entries(kind="request_description")
        if e["file"].startswith(("dotgo_gsma/", "dotgo_google/"))
    }
    assert described == tested, json.dumps(sorted(described ^ tested))


async def test_bearer_header_from_description_is_required(gsma: Emu) -> None:
    desc = description("dotgo_gsma/send_request_description.json")
    reply = await gsma.client.post(
        url_of(desc, GSMA_BOT), json=load(SEND_GSMA[0]), headers=bearer("not-a-token")
    )
    assert reply.status == 401
    same_shape(load("dotgo_gsma/error_response_401.json"), reply.json())
    assert reply.json()["reason"] == {"text": "Unauthorized", "code": "401-A"}
