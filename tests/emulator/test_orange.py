"""The Orange BotHub flavour: both token layers, JWT verification, messages, capabilities."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rcskit.emulator import ManualClock
from rcskit.emulator.config import (
    BotConfig,
    EmulatorConfig,
    EmulatorConfigError,
    PhoneConfig,
    load_config,
    parse_config,
)
from rcskit.emulator.core.user_actions import send_text
from rcskit.emulator.flavours.orange.auth import JWT_AUDIENCE
from rcskit.emulator.flavours.orange.capabilities import BULK_PROCESSING_S
from rcskit.emulator.flavours.orange.window import WINDOW_MESSAGE, in_window, paris_time
from tests.seeds import load

from .asgi_call import Reply, basic, bearer
from .conftest import Emu, make_config
from .receiver import Receiver
from .test_conformance import same_shape

BOT = "bothub-demo-bot"
OTHER = "bothub-other-bot"
USER = "+33612345678"
NOT_RCS = "+914253136788"


@functools.cache
def key_pair(name: str) -> tuple[str, str]:
    """A test RSA key pair (private PEM, public PEM), made once per name."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@functools.cache
def signing_key(name: str) -> rsa.RSAPrivateKey:
    """The loaded private key of :func:`key_pair` (loading a PEM is slow: do it once)."""
    key = serialization.load_pem_private_key(key_pair(name)[0].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def orange_config(webhook_url: str | None = None) -> EmulatorConfig:
    config = make_config(webhook_url)
    bot = config.bot(BOT)
    assert bot is not None
    bot.public_key = key_pair(BOT)[1]
    bot.private_key = None
    config.bots.append(
        BotConfig(
            id=OTHER,
            provider="orange",
            client_id="orange-other-app",
            public_key=key_pair(OTHER)[1],
            webhook_url=webhook_url,
        )
    )
    config.phones.append(PhoneConfig(number=USER, delivered_delay_s=0, displayed_delay_s=0))
    return config


class Orange(Emu):
    """The emulator with helpers for Orange's two tokens."""

    async def developer_token(self, bot_id: str = BOT) -> str:
        bot = self.config.bot(bot_id)
        assert bot is not None
        reply = await self.client.post(
            "/orange/oauth/v3/token",
            data=b"grant_type=client_credentials",
            headers={
                **basic(bot.client_id, self.secret(bot_id)),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        assert reply.status == 200, reply.body
        token: str = reply.json()["access_token"]
        return token

    def bot_jwt(
        self, bot_id: str = BOT, *, key: rsa.RSAPrivateKey | None = None, **claims: Any
    ) -> str:
        now = int(self.state.ts())
        payload: dict[str, Any] = {
            "iss": bot_id,
            "scope": "Chatbot message",
            "aud": JWT_AUDIENCE,
            "exp": now + 3600,
            "iat": now,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or signing_key(bot_id), algorithm="RS256")

    async def gsma_reply(self, jwt_token: str, developer: str | None = None) -> Reply:
        developer = developer or await self.developer_token()
        return await self.client.post(
            f"/orange/bothub/v1/auth?JWT%20token={jwt_token}",
            headers={
                "accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                **bearer(developer),
            },
        )

    async def headers(self, bot_id: str = BOT) -> dict[str, str]:
        developer = await self.developer_token(bot_id)
        reply = await self.gsma_reply(self.bot_jwt(bot_id), developer)
        assert reply.status == 200, reply.body
        return {**bearer(developer), "AccessToken": reply.json()["accessToken"]}

    async def send(self, body: Any, headers: dict[str, str], bot_id: str = BOT) -> Reply:
        return await self.client.post(
            f"/orange/bothub/v1/bot/v1/{bot_id}/messages", json=body, headers=headers
        )


@pytest.fixture
async def orange(receiver: Receiver, clock: ManualClock) -> AsyncIterator[Orange]:
    e = Orange(orange_config(receiver.url), clock)
    yield e
    await e.state.aclose()


def assert_orange_error(reply: Reply, status: int, code: int) -> dict[str, Any]:
    assert reply.status == status, reply.body
    body: dict[str, Any] = reply.json()
    assert set(body) == {"code", "message", "description"}
    assert body["code"] == code
    return body


def text(phone: str = USER, message: str = "Hello, world") -> dict[str, Any]:
    return {"RCSMessage": {"textMessage": message}, "messageContact": {"userContact": phone}}


# --------------------------------------------------------------------- Orange Developer token


async def test_developer_token_as_the_seed_shows(orange: Orange) -> None:
    desc = load("orange/oauth_token_request_description_reconstructed.json")
    bot = orange.config.bot(BOT)
    assert bot is not None
    headers = dict(desc["headers"])
    headers["Authorization"] = basic(bot.client_id, orange.secret(BOT))["Authorization"]
    url = desc["url"].replace("https://api.orange.com", "/orange")
    reply = await orange.client.request(
        desc["method"], url, data=urlencode(desc["form"]).encode(), headers=headers
    )
    assert reply.status == 200, reply.body
    expected = load("orange/oauth_token_response.json")
    same_shape(expected, reply.json())
    assert reply.json()["token_type"] == "Bearer"
    assert reply.json()["expires_in"] == "3600"


async def test_developer_token_errors(orange: Orange) -> None:
    bot = orange.config.bot(BOT)
    assert bot is not None
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    url = "/orange/oauth/v3/token"
    grant = b"grant_type=client_credentials"
    missing = await orange.client.post(url, data=grant, headers=form)
    assert missing.status == 401 and missing.json()["error"] == "invalid_client"
    wrong = await orange.client.post(
        url, data=grant, headers={**form, **basic(bot.client_id, "not-the-secret")}
    )
    assert wrong.status == 401
    good = {**form, **basic(bot.client_id, orange.secret(BOT))}
    bad_grant = await orange.client.post(url, data=b"grant_type=password", headers=good)
    assert bad_grant.status == 400 and bad_grant.json()["error"] == "unsupported_grant_type"
    for _ in range(bot.token_tpm - 1):  # the bad-grant request above counted too
        assert (await orange.client.post(url, data=grant, headers=good)).status == 200
    limited = await orange.client.post(url, data=grant, headers=good)
    assert limited.status == 429
    orange.clock.advance(61)
    assert (await orange.client.post(url, data=grant, headers=good)).status == 200


# --------------------------------------------------------------------- GSMA token


async def test_gsma_token_for_a_verified_jwt(orange: Orange) -> None:
    desc = load("orange/gsma_token_request_description.json")
    header = load("orange/gsma_jwt_header.json")
    claims = load("orange/gsma_jwt_payload.json")
    now = int(orange.state.ts())
    claims.update({"iss": BOT, "iat": now, "exp": now + 3600})
    token = jwt.encode(claims, signing_key(BOT), algorithm=header["alg"], headers=header)
    assert jwt.get_unverified_header(token) == header
    developer = await orange.developer_token()
    url = desc["url"].replace("https://api.orange.com", "/orange")
    url = url.replace(desc["query"]["JWT token"], token)
    headers = {**desc["headers"], "Authorization": f"Bearer {developer}"}
    reply = await orange.client.request(desc["method"], url, data=b"", headers=headers)
    assert reply.status == 200, reply.body
    body = reply.json()
    same_shape(load("orange/gsma_token_response.json"), body)
    assert body["scope"] == "Chatbot message" and body["tokenType"] == "Bearer"
    assert body["expiresIn"] == "3600" and body["timeStamp"] == "2024-01-01T00:00:00.000Z"
    plus = await orange.client.post(
        f"/orange/bothub/v1/auth?JWT+token={orange.bot_jwt()}", headers=bearer(developer)
    )
    assert plus.status == 200


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong key", "signature"),
        ("wrong aud", "aud"),
        ("wrong iss", "iss"),
        ("expired", "exp"),
        ("wrong scope", "scope"),
        ("iat in the future", "iat"),
        ("iat after exp", "iat"),
        ("string exp", "exp"),
        ("missing iat", "iat"),
        ("HS256", "alg"),
        ("not a jwt", "not a JWT"),
    ],
)
async def test_gsma_token_refuses_a_bad_jwt(orange: Orange, case: str, expected: str) -> None:
    now = int(orange.state.ts())
    tokens: dict[str, Callable[[], str]] = {
        "wrong key": lambda: orange.bot_jwt(key=signing_key("stranger")),
        "wrong aud": lambda: orange.bot_jwt(aud="https://api.orange.com/bothub/v1"),
        "wrong iss": lambda: orange.bot_jwt(iss="not-a-bot", key=signing_key(BOT)),
        "expired": lambda: orange.bot_jwt(iat=now - 7200, exp=now - 1),
        "wrong scope": lambda: orange.bot_jwt(scope="Chatbot-message"),
        "iat in the future": lambda: orange.bot_jwt(iat=now + 600, exp=now + 3600),
        "iat after exp": lambda: orange.bot_jwt(iat=now + 100, exp=now + 50),
        "string exp": lambda: orange.bot_jwt(exp=str(now + 3600)),
        "missing iat": lambda: orange.bot_jwt(iat=None),
        "HS256": lambda: jwt.encode(
            {"iss": BOT, "scope": "Chatbot message", "aud": JWT_AUDIENCE, "exp": now + 60},
            "shared-secret-of-at-least-32-bytes!!",
            algorithm="HS256",
        ),
        "not a jwt": lambda: "_JWTToken _-mB2Dw",
    }
    reply = await orange.gsma_reply(tokens[case]())
    body = assert_orange_error(reply, 401, 41)
    assert expected in body["description"]


async def test_gsma_token_needs_the_developer_token_of_the_same_bot(orange: Orange) -> None:
    no_bearer = await orange.client.post(f"/orange/bothub/v1/auth?JWT%20token={orange.bot_jwt()}")
    assert_orange_error(no_bearer, 401, 40)
    unknown = await orange.gsma_reply(orange.bot_jwt(), developer="not-a-token")
    assert_orange_error(unknown, 401, 41)
    other_app = await orange.developer_token(OTHER)
    crossed = await orange.gsma_reply(orange.bot_jwt(BOT), developer=other_app)
    assert_orange_error(crossed, 403, 50)
    no_jwt = await orange.client.post(
        "/orange/bothub/v1/auth", headers=bearer(await orange.developer_token())
    )
    assert_orange_error(no_jwt, 400, 28)


async def test_the_log_never_shows_tokens_or_the_jwt(orange: Orange) -> None:
    headers = await orange.headers()
    entries = orange.state.log.query(kind="api", contains="/auth")
    assert entries
    for entry in entries:
        assert "[redacted]" in entry.target and "eyJ" not in entry.target
        assert headers["AccessToken"] not in entry.response_body
    for entry in orange.state.log.query(kind="api", contains="/token"):
        assert headers["Authorization"].split()[1] not in entry.response_body


# --------------------------------------------------------------------- messages


async def test_send_examples_of_the_seed(orange: Orange, receiver: Receiver) -> None:
    tokens = await orange.headers()
    sent = []
    for name, phone in (("send_text", None), ("send_text_with_msgid", USER)):
        desc = load(f"orange/{name}_request_description.json")
        body = load(desc["body_fixture"])
        if phone is not None:  # the seed's "{{msisdn}}" placeholder
            body["messageContact"]["userContact"] = phone
        path = desc["path"].replace("[BotID]", BOT).replace("{{botId}}", BOT)
        headers = {k: v for k, v in desc["headers"].items() if k not in ("Host", "AccessToken")}
        headers.update(tokens)
        reply = await orange.client.request(
            desc["method"], f"/orange{path}", json=body, headers=headers
        )
        assert reply.status == 202, reply.body
        assert reply.json()["RCSMessage"]["status"] == "pending"
        msg_id = reply.json()["RCSMessage"]["msgId"]
        assert msg_id != body.get("msgId")
        stored = orange.state.find_message(BOT, msg_id)
        assert stored is not None and stored.content_json() == body["RCSMessage"]
        sent.append(msg_id)
    await orange.state.run_due()
    for msg_id in sent:
        assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]
    same_shape(load("maap/webhook_message_status.json"), receiver.events("messageStatus")[0])


async def test_both_headers_are_required(orange: Orange) -> None:
    tokens = await orange.headers()
    only_access = await orange.send(text(), {"AccessToken": tokens["AccessToken"]})
    assert_orange_error(only_access, 401, 40)
    only_bearer = await orange.send(text(), {"Authorization": tokens["Authorization"]})
    assert_orange_error(only_bearer, 401, 40)
    swapped = {
        "Authorization": f"Bearer {tokens['AccessToken']}",
        "AccessToken": tokens["Authorization"].split()[1],
    }
    assert_orange_error(await orange.send(text(), swapped), 401, 41)
    bogus = {**tokens, "AccessToken": "nope"}
    assert_orange_error(await orange.send(text(), bogus), 401, 41)
    assert (await orange.send(text(), tokens)).status == 202
    orange.clock.advance(3601)
    expired = await orange.send(text(), tokens)
    assert_orange_error(expired, 401, 42)


async def test_tokens_only_open_their_own_bot(orange: Orange) -> None:
    tokens = await orange.headers()
    other = await orange.send(text(), tokens, bot_id=OTHER)
    assert_orange_error(other, 403, 50)
    unknown = await orange.send(text(), tokens, bot_id="no-such-bot")
    assert_orange_error(unknown, 404, 60)


async def test_message_errors(orange: Orange) -> None:
    tokens = await orange.headers()
    url = f"/orange/bothub/v1/bot/v1/{BOT}/messages"
    not_json = await orange.client.post(
        url, data=b"{", headers={**tokens, "Content-Type": "application/json"}
    )
    assert_orange_error(not_json, 400, 25)
    no_content = await orange.send(
        {"RCSMessage": {}, "messageContact": {"userContact": USER}}, tokens
    )
    assert_orange_error(no_content, 400, 25)
    template = {
        "RCSMessage": {"templateMessage": {"templateCode": "template_123"}},
        "messageContact": {"userContact": USER},
    }
    assert_orange_error(await orange.send(template, tokens), 400, 25)
    bad_number = await orange.send(text(phone="{{msisdn}}"), tokens)
    assert "userContact" in assert_orange_error(bad_number, 400, 25)["description"]
    chosen = {
        "RCSMessage": {"msgId": "m-1", "textMessage": "x"},
        "messageContact": {"userContact": USER},
    }
    first = await orange.send(chosen, tokens)
    assert first.status == 202 and first.json()["RCSMessage"]["msgId"] == "m-1"
    assert_orange_error(await orange.send(chosen, tokens), 409, 25)
    orange.state.bots[BOT].launched = False
    assert_orange_error(await orange.send(text(), tokens), 403, 50)
    big = text(message="x" * (orange.config.max_message_bytes + 1))
    assert_orange_error(await orange.send(big, tokens), 413, 25)


async def test_typing_status_and_revoke(orange: Orange, receiver: Receiver) -> None:
    tokens = await orange.headers()
    typing = {"RCSMessage": {"isTyping": "active"}, "messageContact": {"userContact": USER}}
    assert (await orange.send(typing, tokens)).status == 202
    assert orange.state.conversation(BOT, USER).agent_typing_until > orange.state.ts()
    orange.state.phones.materialize("+14255550100")
    queued = await orange.send(text(phone="+14255550100"), tokens)
    msg_id = queued.json()["RCSMessage"]["msgId"]
    status_url = f"/orange/bothub/v1/bot/v1/{BOT}/messages/{msg_id}/status"
    assert (await orange.client.get(status_url, headers=tokens)).json()["RCSMessage"][
        "status"
    ] == "pending"
    revoke = await orange.client.put(
        status_url, json={"RCSMessage": {"status": "cancelled"}}, headers=tokens
    )
    assert revoke.status == 204
    await orange.state.run_due()
    assert receiver.statuses_of(msg_id) == ["cancelled"]


async def test_webhooks_for_user_actions(orange: Orange, receiver: Receiver) -> None:
    send_text(orange.state, BOT, USER, "hello world")
    await orange.state.run_due()
    [event] = receiver.events("message")
    same_shape(load("maap/webhook_message.json"), event)
    assert event["messageContact"] == {"userContact": USER}
    assert event["RCSMessage"]["textMessage"] == "hello world"
    assert receiver.billing() == []


# --------------------------------------------------------------------- capabilities


async def test_unitary_capabilities_are_strongly_limited(orange: Orange) -> None:
    tokens = await orange.headers()
    url = f"/orange/bothub/v1/bot/v1/{BOT}/contactCapabilities?userContact="
    found = await orange.client.get(url + "%2B33612345678", headers=tokens)
    assert found.status == 200 and "chatBotCommunication" in found.json()["capabilities"]
    missing = await orange.client.get(url + NOT_RCS, headers=tokens)
    assert_orange_error(missing, 404, 60)
    bad = await orange.client.get(url + "0612", headers=tokens)
    assert_orange_error(bad, 400, 28)
    limit = orange.state.bots[BOT].capability_tpm
    for _ in range(limit - 3):
        assert (await orange.client.get(url + USER, headers=tokens)).status == 200
    limited = await orange.client.get(url + USER, headers=tokens)
    assert "bulkContactCapabilities" in assert_orange_error(limited, 429, 53)["description"]
    orange.clock.advance(60)
    assert (await orange.client.get(url + USER, headers=tokens)).status == 200


def paris(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Paris wall-clock time as UTC (winter: UTC+1, summer: UTC+2, per paris_time)."""
    guess = datetime(year, month, day, hour, minute, tzinfo=UTC)
    offset = paris_time(guess.timestamp()).utcoffset()
    assert offset is not None
    return guess - offset


@pytest.mark.parametrize("month", [1, 7], ids=["winter CET", "summer CEST"])
@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(21, 59, False), (22, 0, True), (6, 59, True), (7, 0, False), (12, 0, False), (2, 30, True)],
)
async def test_bulk_window(
    orange: Orange, month: int, hour: int, minute: int, allowed: bool
) -> None:
    orange.clock.set(paris(2024, month, 10, hour, minute))
    tokens = await orange.headers()
    local = paris_time(orange.state.ts())
    assert (local.hour, local.minute) == (hour, minute)
    url = f"/orange/bothub/v1/bot/v2/{BOT}/bulkContactCapabilities"
    post = await orange.client.post(url, json={"users": [USER]}, headers=tokens)
    get = await orange.client.get(url, headers=tokens)
    if allowed:
        assert post.status == 202 and get.status == 200
    else:
        for reply in (post, get):
            body = assert_orange_error(reply, 405, 61)
            assert body["description"] == WINDOW_MESSAGE
            assert body["message"] == "Method Not Allowed"


def test_window_message_is_the_seeds() -> None:
    # Copied by hand from seed 000 (the FAQ's "information message").
    assert WINDOW_MESSAGE == (
        "Execute those requests only on timeslots from 10 PM CET to 7 AM CET in order to NOT "
        "overload the whole business bandwidth during business hours."
    )


def test_paris_time_follows_the_eu_rule() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        zone = zoneinfo.ZoneInfo("Europe/Paris")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database")
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for hours in range(0, 2 * 366 * 24, 5):
        moment = start + timedelta(hours=hours, minutes=30)
        assert paris_time(moment.timestamp()).utcoffset() == moment.astimezone(zone).utcoffset()
    switch = datetime(2024, 3, 31, 1, 0, tzinfo=UTC).timestamp()
    assert paris_time(switch - 1).hour == 1 and paris_time(switch).hour == 3
    assert in_window(datetime(2024, 3, 31, 4, 59, tzinfo=UTC).timestamp())  # 06:59 CEST
    assert not in_window(datetime(2024, 3, 31, 5, 0, tzinfo=UTC).timestamp())  # 07:00 CEST


async def test_bulk_job_post_then_get(orange: Orange) -> None:
    orange.clock.set(paris(2024, 1, 10, 23, 0))
    tokens = await orange.headers()
    url = f"/orange/bothub/v1/bot/v2/{BOT}/bulkContactCapabilities"
    none_yet = await orange.client.get(url, headers=tokens)
    assert_orange_error(none_yet, 404, 60)
    users = [USER, NOT_RCS, USER, "+14255550100"]
    posted = await orange.client.post(url, json={"users": users}, headers=tokens)
    assert posted.status == 202
    job = posted.json()
    assert job["status"] == "PENDING" and job["usersCount"] == 3
    pending = (await orange.client.get(url, headers=tokens)).json()
    assert pending["status"] == "PENDING" and pending["results"] == []
    await orange.state.advance(BULK_PROCESSING_S)
    done = await orange.client.get(f"{url}?requestId={job['requestId']}", headers=tokens)
    body = done.json()
    assert body["status"] == "COMPLETED" and body["requestId"] == job["requestId"]
    assert [(r["userContact"], r["rcsEnabled"]) for r in body["results"]] == [
        (USER, True),
        (NOT_RCS, False),
        ("+14255550100", True),
    ]
    assert body["results"][1]["capabilities"] == []
    unknown = await orange.client.get(f"{url}?requestId=nope", headers=tokens)
    assert_orange_error(unknown, 404, 60)


async def test_bulk_limits(orange: Orange) -> None:
    orange.clock.set(paris(2024, 1, 10, 23, 0))
    tokens = await orange.headers()
    url = f"/orange/bothub/v1/bot/v2/{BOT}/bulkContactCapabilities"
    most = [f"+1555{i:07d}" for i in range(10_000)]
    assert (await orange.client.post(url, json={"users": most}, headers=tokens)).status == 202
    too_many = await orange.client.post(
        url, json={"users": [*most, "+15559999999"]}, headers=tokens
    )
    assert "10000" in assert_orange_error(too_many, 400, 25)["description"]
    empty = await orange.client.post(url, json={"users": []}, headers=tokens)
    assert_orange_error(empty, 400, 25)
    bad = await orange.client.post(url, json={"users": [USER, "06 12"]}, headers=tokens)
    assert "users[1]" in assert_orange_error(bad, 400, 25)["description"]


async def test_injected_faults_use_the_orange_shape(orange: Orange) -> None:
    tokens = await orange.headers()
    bot = orange.state.bots[BOT]
    bot.faults = bot.faults.model_copy(update={"rate_500": 1.0})
    assert_orange_error(await orange.send(text(), tokens), 500, 1)
    bot.faults = bot.faults.model_copy(update={"rate_500": 0.0, "rate_429": 1.0})
    assert_orange_error(await orange.send(text(), tokens), 429, 53)
    bot.faults = bot.faults.model_copy(update={"rate_429": 0.0})
    bot.tps = 1
    assert (await orange.send(text(), tokens)).status == 202
    assert_orange_error(await orange.send(text(), tokens), 429, 53)


def test_default_orange_bot_has_a_working_key_pair() -> None:
    from rcskit.emulator.config import default_config

    bot = default_config().bot(BOT)
    assert bot is not None and bot.private_key is not None and bot.public_key is not None
    token = jwt.encode({"iss": BOT}, bot.private_key.get_secret_value(), algorithm="RS256")
    assert jwt.decode(token, bot.public_key, algorithms=["RS256"])["iss"] == BOT
    assert bot.private_key.get_secret_value() not in repr(bot)
    assert bot.private_key.get_secret_value() not in json.dumps(bot.model_dump(mode="json"))
    assert "private_key" in bot.secret_credentials()


def test_keys_from_a_private_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "orange-bot.pem"
    toml = tmp_path / "emulator.toml"
    toml.write_text(
        "[[bots]]\n"
        'id = "my-orange-bot"\nprovider = "orange"\nclient_id = "my-app"\n'
        f'private_key_path = "{key_file}"\n'
        "[[bots]]\n"
        'id = "my-smsbox"\nprovider = "smsbox"\nclient_id = "acct"\napi_key = "k-123"\n'
    )
    first = load_config(toml)
    assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
    bot = first.bot("my-orange-bot")
    assert bot is not None and bot.private_key is not None
    assert bot.private_key.get_secret_value() == key_file.read_text()
    again = load_config(toml).bot("my-orange-bot")
    assert again is not None and again.public_key == bot.public_key
    smsbox = first.bot("my-smsbox")
    assert smsbox is not None and smsbox.api_key is not None
    assert smsbox.api_key.get_secret_value() == "k-123" and "k-123" not in repr(smsbox)


def test_bad_keys_are_refused(tmp_path: Path) -> None:
    base = {"id": "b", "provider": "orange", "client_id": "c"}
    with pytest.raises(EmulatorConfigError, match="public_key is not a PEM public key"):
        parse_config({"bots": [{**base, "public_key": "not a key"}]})
    with pytest.raises(EmulatorConfigError, match="private_key is not an unencrypted PEM"):
        parse_config({"bots": [{**base, "private_key": "nope"}]})
    bad_file = tmp_path / "bad.pem"
    bad_file.write_text("garbage")
    with pytest.raises(EmulatorConfigError, match="private_key_path"):
        parse_config({"bots": [{**base, "private_key_path": str(bad_file)}]})
    derived = parse_config({"bots": [{**base, "private_key": key_pair(BOT)[0]}]}).bots[0]
    assert derived.public_key == key_pair(BOT)[1]
