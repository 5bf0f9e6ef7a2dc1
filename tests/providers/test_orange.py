"""Orange BotHub (seeds 000/001): two-layer auth, the JWT, messages, capabilities, the window."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rcskit.client import OrangeConfig, RcsClient
from rcskit.errors import AuthError, OutsideAllowedWindow, ProviderError, RcsError
from rcskit.message import Message
from rcskit.providers import capability_table
from rcskit.providers.orange import (
    AUDIENCE,
    DEFAULT_API_URL,
    DEFAULT_TOKEN_URL,
    ORANGE_WINDOW,
    SPEC,
    WINDOW_MESSAGE,
    OrangeAuth,
    OrangeDeveloperToken,
    OrangeGsmaToken,
    read_bulk_answer,
)
from rcskit.results import BulkJob
from rcskit.retry import NO_RETRY
from rcskit.transport import FakeTransport, HttpRequest, HttpResponse
from tests.seeds import load

from .conftest import CANARY, FakeClock, query_of, wire_json

BOT = "orange-bot-1"
PARIS = ZoneInfo("Europe/Paris")
PHONE = "+33612345678"
AUTH_HEADER = "Basic " + base64.b64encode(f"app-id:{CANARY}".encode()).decode()
DEV_TOKEN = "DEV-" + CANARY[::-1]
GSMA_TOKEN = "GSMA-" + CANARY.upper()
AUTH_URL = f"{DEFAULT_API_URL}/auth"
BASE = f"{DEFAULT_API_URL}/bot/v1/{BOT}"
BULK_URL = f"{DEFAULT_API_URL}/bot/v2/{BOT}/bulkContactCapabilities"
NIGHT = datetime(2025, 1, 15, 23, 0, tzinfo=PARIS)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def pem(key: rsa.RSAPrivateKey) -> str:
    return pem_of(key, serialization.PrivateFormat.PKCS8).decode()


def config(key: rsa.RSAPrivateKey, **kw: Any) -> OrangeConfig:
    kw.setdefault("clock", lambda: NIGHT)
    return OrangeConfig(BOT, authorization_header=AUTH_HEADER, private_key=pem(key), **kw)


class OrangePlatform:
    """Answers both token endpoints itself and the API with ``api``."""

    def __init__(
        self,
        api: Callable[[HttpRequest], HttpResponse] | None = None,
        *,
        dev: Callable[[int], HttpResponse] | None = None,
        gsma: Callable[[int], HttpResponse] | None = None,
    ) -> None:
        self.api = api or (lambda req: HttpResponse.of_json(202, {}))
        self.dev = dev or (
            lambda n: HttpResponse.of_json(
                200,
                {"token_type": "Bearer", "access_token": f"{DEV_TOKEN}{n}", "expires_in": "3600"},
            )
        )
        self.gsma = gsma or (
            lambda n: HttpResponse.of_json(
                200,
                {
                    "accessToken": f"{GSMA_TOKEN}{n}",
                    "expiresIn": "3600",
                    "scope": "Chatbot message",
                    "timeStamp": "1736978400",
                    "tokenType": "Bearer",
                },
            )
        )
        self.transport = FakeTransport(self._answer)
        self.dev_requests: list[HttpRequest] = []
        self.gsma_requests: list[HttpRequest] = []

    async def _answer(self, req: HttpRequest) -> HttpResponse:
        await asyncio.sleep(0)
        if req.url == DEFAULT_TOKEN_URL:
            self.dev_requests.append(req)
            return self.dev(len(self.dev_requests))
        if req.url == AUTH_URL:
            self.gsma_requests.append(req)
            return self.gsma(len(self.gsma_requests))
        return self.api(req)

    @property
    def api_requests(self) -> list[HttpRequest]:
        return [r for r in self.transport.requests if r.url not in (DEFAULT_TOKEN_URL, AUTH_URL)]


def client(cfg: OrangeConfig, platform: OrangePlatform, **kw: Any) -> RcsClient:
    kw.setdefault("validation", "off")
    return RcsClient(cfg, transport=platform.transport, **kw)


def lower_headers(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


# ---------------------------------------------------------------- the two tokens


def test_developer_token_request_matches_the_seed(key: rsa.RSAPrivateKey) -> None:
    want = load("orange/oauth_token_request_description_reconstructed.json")
    req = config(key).auth().developer.token_request()
    wire = req.encode()
    assert req.method == want["method"] and wire.url == want["url"]
    assert lower_headers(wire.headers) == lower_headers(
        {**want["headers"], "Authorization": AUTH_HEADER}
    )
    assert wire.body == b"grant_type=client_credentials"
    assert want["form"] == {"grant_type": "client_credentials"}


def test_a_bare_console_credential_gets_the_basic_scheme(key: rsa.RSAPrivateKey) -> None:
    bare = base64.b64encode(b"id:pw").decode()
    cfg = OrangeConfig(BOT, authorization_header=bare, private_key=pem(key))
    assert cfg.auth().developer.token_request().headers["Authorization"] == f"Basic {bare}"


async def test_gsma_exchange_matches_the_seed_and_the_jwt_has_exactly_its_claims(
    key: rsa.RSAPrivateKey,
) -> None:
    want = load("orange/gsma_token_request_description.json")
    platform = OrangePlatform()
    async with client(config(key), platform) as c:
        await c.send(PHONE, "hi")
    (dev,) = platform.dev_requests
    (req,) = platform.gsma_requests
    wire = req.encode()
    assert req.method == want["method"] == "POST"
    assert wire.url.startswith(f"{AUTH_URL}?JWT%20token=")
    assert list(query_of(req)) == list(want["query"]) == ["JWT token"]
    assert lower_headers(wire.headers) == lower_headers(
        {**want["headers"], "Authorization": f"Bearer {DEV_TOKEN}1"}
    )
    assert wire.body == b"" and want["body"] == ""

    token = query_of(req)["JWT token"]
    assert jwt.get_unverified_header(token) == load("orange/gsma_jwt_header.json")
    claims = jwt.decode(
        token,
        key.public_key(),
        algorithms=["RS256"],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    issued = int(NIGHT.timestamp())
    assert claims == {
        "iss": BOT,
        "scope": "Chatbot message",
        "aud": "https://api.orange.com/bothub/v1/gsma",
        "iat": issued,
        "exp": issued + 3600,
    }
    assert set(claims) == set(load("orange/gsma_jwt_payload.json"))
    assert dev.method == "POST"


def key_forms(key: rsa.RSAPrivateKey) -> dict[str, str | bytes]:
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pkcs1 = pem_of(key, serialization.PrivateFormat.TraditionalOpenSSL)
    body = base64.b64encode(der).decode()
    return {
        "pem pkcs8": pem(key),
        "pem pkcs1": pkcs1.decode(),
        "portal base64 der": body,
        "portal base64 der, wrapped": "\n".join(body[i : i + 64] for i in range(0, len(body), 64)),
        "base64 of a pem file": base64.b64encode(pkcs1).decode(),
        "der bytes": der,
    }


@pytest.mark.parametrize(
    "form",
    [
        "pem pkcs8",
        "pem pkcs1",
        "portal base64 der",
        "portal base64 der, wrapped",
        "base64 of a pem file",
        "der bytes",
    ],
)
def test_both_key_forms_sign_verifiable_jwts(key: rsa.RSAPrivateKey, form: str) -> None:
    cfg = OrangeConfig(BOT, authorization_header=AUTH_HEADER, private_key=key_forms(key)[form])
    token = OrangeGsmaToken(cfg, OrangeDeveloperToken(DEFAULT_TOKEN_URL, AUTH_HEADER)).assertion()
    claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience=AUDIENCE, leeway=60)
    assert claims["iss"] == BOT and claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"-----BEGIN PRIVATE KEY-----\n{CANARY}\n-----END PRIVATE KEY-----", "PEM block"),
        (base64.b64encode(CANARY.encode()).decode(), "DER block"),
        (f"not a key {CANARY}", "not a PEM key"),
        ("", "empty"),
    ],
)
def test_a_key_that_does_not_load_names_the_field(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=r"OrangeConfig\.private_key") as info:
        OrangeConfig(BOT, authorization_header=AUTH_HEADER, private_key=value)
    assert reason in str(info.value) and CANARY not in str(info.value)


def test_a_non_rsa_key_is_refused() -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="RS256 needs an RSA private key"):
        OrangeConfig(BOT, authorization_header=AUTH_HEADER, private_key=ec_pem.decode())


async def test_both_tokens_are_cached_and_refreshed_independently(
    key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    cfg = config(key)
    platform = OrangePlatform(
        gsma=lambda n: HttpResponse.of_json(200, {"accessToken": f"G{n}", "expiresIn": "1800"})
    )
    developer = OrangeDeveloperToken(cfg.token_url, cfg.authorization_header, clock=clock)
    auth = OrangeAuth(developer, OrangeGsmaToken(cfg, developer, clock=clock))
    async with client(cfg, platform, auth=auth) as c:
        await asyncio.gather(*(c.send(PHONE, "hi") for _ in range(50)))
        assert (len(platform.dev_requests), len(platform.gsma_requests)) == (1, 1)
        clock.now += 1800 - 59  # the GSMA token (1800 s) is due, the developer one is not
        await c.send(PHONE, "hi")
        assert (len(platform.dev_requests), len(platform.gsma_requests)) == (1, 2)
        clock.now += 1000  # 2741 s: the GSMA token is not due again (3481 s) nor the other
        await c.send(PHONE, "hi")
        assert (len(platform.dev_requests), len(platform.gsma_requests)) == (1, 2)
        clock.now += 800  # 3541 s: the developer token (3600 s, a string) and G2 are due
        await c.send(PHONE, "hi")
        assert (len(platform.dev_requests), len(platform.gsma_requests)) == (2, 3)
    last = platform.api_requests[-1]
    assert last.header("Authorization") == f"Bearer {DEV_TOKEN}2"
    assert last.header("AccessToken") == "G3"
    assert platform.gsma_requests[-1].header("Authorization") == f"Bearer {DEV_TOKEN}2"


async def test_a_401_on_the_exchange_renews_the_developer_token(key: rsa.RSAPrivateKey) -> None:
    platform = OrangePlatform(
        gsma=lambda n: (
            HttpResponse.of_json(401, {"code": 42, "message": "Expired credentials"})
            if n == 1
            else HttpResponse.of_json(200, {"accessToken": "G", "expiresIn": "3600"})
        )
    )
    async with client(config(key), platform) as c:
        await c.send(PHONE, "hi")
    first, second = platform.gsma_requests
    assert first.header("Authorization") == f"Bearer {DEV_TOKEN}1"
    assert second.header("Authorization") == f"Bearer {DEV_TOKEN}2"


async def test_a_401_on_the_api_refreshes_both_tokens_once(key: rsa.RSAPrivateKey) -> None:
    answers = iter([HttpResponse.of_json(401, {"code": 42, "message": "Expired"})])

    def api(req: HttpRequest) -> HttpResponse:
        return next(answers, HttpResponse.of_json(202, {"RCSMessage": {"msgId": "m1"}}))

    platform = OrangePlatform(api)
    async with client(config(key), platform) as c:
        sent = await c.send(PHONE, "hi")
    assert sent.message_id == "m1"
    assert (len(platform.dev_requests), len(platform.gsma_requests)) == (2, 2)
    assert platform.api_requests[1].header("AccessToken") == f"{GSMA_TOKEN}2"


async def test_refused_credentials_are_auth_errors_with_the_gateway_code(
    key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rcskit")
    refused = {"code": 41, "message": "Invalid credentials", "description": "Bad header"}
    platform = OrangePlatform(dev=lambda n: HttpResponse.of_json(401, refused))
    cfg = config(key)
    async with client(cfg, platform, retry=NO_RETRY) as c:
        with pytest.raises(AuthError) as info:
            await c.send(PHONE, "hi")
        seen = [str(info.value), repr(info.value.raw), repr(c), repr(c.auth), repr(cfg)]
    assert info.value.code == "41" and "Invalid credentials: Bad header" in str(info.value)
    seen += [repr(r) for r in platform.transport.requests]
    seen += [repr(r.encode()) for r in platform.transport.requests]
    seen += [r.getMessage() for r in caplog.records]
    blob = "\n".join(seen)
    for needle in (CANARY, AUTH_HEADER.split()[1], pem(key).splitlines()[1]):
        assert needle not in blob


async def test_tokens_never_show_in_reprs_logs_or_errors(
    key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rcskit")
    platform = OrangePlatform(lambda req: HttpResponse.of_json(500, {"message": "boom"}))
    async with client(config(key), platform, retry=NO_RETRY) as c:
        with pytest.raises(RcsError) as info:
            await c.send(PHONE, "hi")
        seen = [str(info.value), repr(info.value), repr(c.auth)]
    seen += [repr(r) for r in platform.transport.requests]
    seen += [repr(r.encode()) for r in platform.transport.requests]
    seen += [r.getMessage() for r in caplog.records]
    blob = "\n".join(seen)
    assert DEV_TOKEN not in blob and GSMA_TOKEN not in blob and CANARY not in blob


# ---------------------------------------------------------------- messages


async def test_send_matches_the_seed(key: rsa.RSAPrivateKey) -> None:
    want = load("orange/send_text_request_description.json")
    platform = OrangePlatform(
        lambda req: HttpResponse.of_json(202, {"RCSMessage": {"msgId": "m-9", "status": "pending"}})
    )
    async with client(config(key), platform) as c:
        sent = await c.send(PHONE, Message("Hello, world", traffic_type="advertisement"))
    (req,) = platform.api_requests
    wire = req.encode()
    assert req.method == want["method"]
    assert wire.url == want["url"].replace("[BotID]", BOT)
    assert lower_headers(wire.headers) == lower_headers(
        {
            **want["headers"],
            "AccessToken": f"{GSMA_TOKEN}1",
            "Authorization": f"Bearer {DEV_TOKEN}1",
        }
    )
    assert wire_json(req) == load(want["body_fixture"])
    assert (sent.message_id, sent.status, sent.to) == ("m-9", "pending", PHONE)


async def test_a_reply_carries_the_top_level_msg_id_of_the_second_example(
    key: rsa.RSAPrivateKey,
) -> None:
    want = load("orange/send_text_with_msgid_request.json")
    platform = OrangePlatform()
    message = Message(
        want["RCSMessage"]["textMessage"], traffic_type="advertisement", in_reply_to="u-msg-1"
    )
    async with client(config(key), platform) as c:
        await c.send(PHONE, message)
    body = wire_json(platform.api_requests[0])
    assert body == {
        **want,
        "msgId": "u-msg-1",
        "messageContact": {"userContact": PHONE},
    }
    assert list(body) == list(want)


async def test_typing_goes_through_the_messages_endpoint(key: rsa.RSAPrivateKey) -> None:
    platform = OrangePlatform(lambda req: HttpResponse(204))
    async with client(config(key), platform) as c:
        await c.send_typing(PHONE)
    (req,) = platform.api_requests
    assert (req.method, req.url) == ("POST", f"{BASE}/messages")
    assert wire_json(req) == {
        "RCSMessage": {"isTyping": "active"},
        "messageContact": {"userContact": PHONE},
    }


# ---------------------------------------------------------------- capabilities


async def test_unitary_capabilities_and_the_loop_warning(
    key: rsa.RSAPrivateKey, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rcskit.providers.orange")
    answers = {PHONE: HttpResponse.of_json(200, {"capabilities": ["chat", "fileTransfer"]})}
    platform = OrangePlatform(
        lambda req: answers.get(query_of(req)["userContact"], HttpResponse.of_json(404, {}))
    )
    cfg = config(key, unitary_capabilities_per_minute=2, monotonic=clock)
    async with client(cfg, platform) as c:
        caps = await c.capabilities(PHONE)
        assert caps.rcs_enabled and caps.features == {"chat", "fileTransfer"}
        assert not (await c.capabilities("+33612345679")).rcs_enabled
        assert not caplog.records
        await c.capabilities(PHONE)  # a third call within the minute
        await c.capabilities(PHONE)
        assert len(caplog.records) == 1 and "strongly limits" in caplog.records[0].getMessage()
        clock.now += 61
        await c.capabilities(PHONE)
        assert len(caplog.records) == 1
    req = platform.api_requests[0]
    assert (req.method, req.url) == ("GET", f"{BASE}/contactCapabilities")
    assert req.encode().url == f"{BASE}/contactCapabilities?userContact=%2B33612345678"
    assert req.header("Accept") == "application/json"
    assert req.header("AccessToken") == f"{GSMA_TOKEN}1"


@pytest.mark.parametrize(
    ("local", "allowed"),
    [
        ((2025, 1, 15, 21, 59), False),
        ((2025, 1, 15, 22, 0), True),
        ((2025, 1, 16, 6, 59), True),
        ((2025, 1, 16, 7, 0), False),
        ((2025, 7, 15, 21, 59), False),  # summer: Paris is UTC+2
        ((2025, 7, 15, 22, 0), True),
    ],
)
async def test_the_bulk_window_is_enforced_before_any_request(
    key: rsa.RSAPrivateKey, local: tuple[int, ...], allowed: bool
) -> None:
    now = datetime(*local, tzinfo=PARIS)
    platform = OrangePlatform(lambda req: HttpResponse.of_json(202, {"requestId": "job-1"}))
    async with client(config(key, clock=lambda: now), platform) as c:
        if allowed:
            job = await c.submit_bulk_capabilities([PHONE])
            assert job.job_id == "job-1" and job.numbers == (PHONE,)
            return
        with pytest.raises(OutsideAllowedWindow) as info:
            await c.bulk_capabilities([PHONE, "+33612345679"])
    assert platform.transport.requests == []  # not even a token request
    expected = datetime(now.year, now.month, now.day, 22, 0, tzinfo=PARIS)
    assert info.value.next_allowed == expected
    assert info.value.next_allowed.utcoffset() == expected.utcoffset()
    assert "22:00-07:00 Europe/Paris" in str(info.value)


async def test_a_405_with_the_window_message_is_outside_allowed_window(
    key: rsa.RSAPrivateKey,
) -> None:
    platform = OrangePlatform(lambda req: HttpResponse.of_json(405, {"message": WINDOW_MESSAGE}))
    now = datetime(2025, 3, 3, 23, 30, tzinfo=PARIS)  # inside our window: the server disagrees
    async with client(config(key, clock=lambda: now), platform, retry=NO_RETRY) as c:
        with pytest.raises(OutsideAllowedWindow) as info:
            await c.bulk_capabilities([PHONE])
    assert info.value.status == 405
    assert info.value.next_allowed == datetime(2025, 3, 4, 22, 0, tzinfo=PARIS)
    other = OrangePlatform(lambda req: HttpResponse.of_json(405, {"message": "Invalid method"}))
    async with client(config(key), other, retry=NO_RETRY) as c:
        with pytest.raises(ProviderError) as plain:
            await c.bulk_capabilities([PHONE])
    assert not isinstance(plain.value, OutsideAllowedWindow) and plain.value.status == 405


async def test_bulk_pair_posts_then_polls_the_result(
    key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    other = "+33612345679"
    answers = iter(
        [
            HttpResponse.of_json(202, {"requestId": "r-1"}),
            HttpResponse.of_json(200, {"status": "IN_PROGRESS"}),
            HttpResponse(204),
            HttpResponse.of_json(200, {"rcsEnabledContacts": [PHONE]}),
        ]
    )
    platform = OrangePlatform(lambda req: next(answers))
    cfg = config(key, bulk_poll_interval=30.0)
    async with client(cfg, platform, sleep=clock.sleep) as c:
        result = await c.bulk_capabilities([PHONE, other, PHONE])
    post, *gets = platform.api_requests
    assert (post.method, post.url) == ("POST", BULK_URL)
    assert wire_json(post) == {"users": [PHONE, other]}
    assert post.header("AccessToken") == f"{GSMA_TOKEN}1"
    assert [(g.method, g.url, g.encode().body) for g in gets] == [("GET", BULK_URL, None)] * 3
    assert clock.sleeps == [30.0, 30.0]
    assert result.reachable == {PHONE} and result.unreachable == {other} and not result.unknown
    assert result.raw == ({"rcsEnabledContacts": [PHONE]},)


async def test_a_bulk_job_that_never_ends_gives_its_handle_back(
    key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    def api(req: HttpRequest) -> HttpResponse:
        if req.method == "POST":
            return HttpResponse.of_json(202, {"id": "j-7"})
        return HttpResponse.of_json(200, {"status": "PENDING"})

    platform = OrangePlatform(api)
    cfg = config(key, bulk_poll_interval=60.0, bulk_max_wait=120.0)
    async with client(cfg, platform, sleep=clock.sleep) as c:
        with pytest.raises(ProviderError, match="not finished after 120 s") as info:
            await c.bulk_capabilities([PHONE])
        job = info.value.raw
        assert isinstance(job, BulkJob) and job.job_id == "j-7" and job.submitted_at == NIGHT
        assert await c.bulk_capabilities_result(job) is None
    assert clock.sleeps == [60.0, 60.0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "PROCESSING"}, None),
        ({"reachableUsers": ["+33612345678"]}, ({"+33612345678"}, {"+33699999999"}, set())),
        (
            {
                "users": [
                    {"userContact": "+33612345678", "rcsEnabled": True},
                    {"userContact": "33699999999", "rcsEnabled": False},
                ]
            },
            ({"+33612345678"}, {"+33699999999"}, set()),
        ),
        (
            [{"msisdn": "+33612345678", "capabilities": ["chat"]}],
            ({"+33612345678"}, set(), {"+33699999999"}),
        ),
        (
            {"results": [{"contact": "+33699999999", "status": "NOT_RCS"}]},
            (set(), {"+33699999999"}, {"+33612345678"}),
        ),
        ({"something": "else"}, (set(), set(), {"+33612345678", "+33699999999"})),
    ],
)
def test_bulk_answers_are_read_on_a_best_effort_basis(body: Any, expected: Any) -> None:
    asked = ("+33612345678", "+33699999999")
    assert read_bulk_answer(body, asked) == (
        None if expected is None else tuple(frozenset(s) for s in expected)
    )


def test_orange_is_in_the_capability_table(key: rsa.RSAPrivateKey) -> None:
    table = dict(capability_table())
    assert table["orange"]["bulk_capabilities"] and table["orange"]["capabilities"]
    assert not table["orange"]["status"] and not table["orange"]["send_many"]
    cfg = config(key)
    assert cfg.provider().offers == SPEC.operations and cfg.name == SPEC.name
    shown = repr(cfg)
    assert "private_key" not in shown and "BEGIN" not in shown and "authorization" not in shown
    assert CANARY not in shown and AUTH_HEADER not in shown


def test_window_helpers_cross_dst() -> None:
    march = datetime(2025, 3, 30, 12, 0, tzinfo=UTC)  # the day Paris moves to CEST
    start = ORANGE_WINDOW.next_start(march)
    assert start.utcoffset() == timedelta(hours=2) and start.astimezone(UTC).hour == 20


# ---------------------------------------------------------------- against the emulator


async def test_every_operation_against_the_emulator() -> None:
    """The other side of the wire: the emulator's Orange flavour, in-process."""
    from rcskit.emulator.app import create_app
    from rcskit.emulator.config import default_config
    from rcskit.emulator.flavours import orange as orange_flavour
    from rcskit.transport import AsgiTransport

    emulated = default_config()
    emulated.bots = [b for b in emulated.bots if b.provider == "orange"]
    app = create_app(emulated, flavours=(orange_flavour.FLAVOUR,))
    state = app.state.emulator
    now = state.now()
    night = datetime(now.year, now.month, now.day, 23, 0, tzinfo=PARIS)
    state.clock.offset_s = (night - now).total_seconds()
    bot = emulated.bots[0]
    assert bot.private_key is not None
    basic = base64.b64encode(f"{bot.client_id}:{bot.client_secret.get_secret_value()}".encode())
    cfg = OrangeConfig(
        bot.id,
        authorization_header=f"Basic {basic.decode()}",
        private_key=bot.private_key.get_secret_value(),
        token_url="http://emulator.test/orange/oauth/v3/token",
        api_url="http://emulator.test/orange/bothub/v1",
        bulk_poll_interval=5.0,
        clock=state.now,
    )
    rcs_user, not_rcs = "+914253136789", "+914253136788"

    async def platform_sleep(seconds: float) -> None:
        await state.advance(seconds)

    async with RcsClient(cfg, transport=AsgiTransport(app), sleep=platform_sleep) as c:
        sent = await c.send(rcs_user, "hello from rcskit")
        assert sent.message_id and sent.status == "pending"
        await c.send_typing(rcs_user)
        caps = await c.capabilities(rcs_user)
        assert caps.rcs_enabled and caps.features
        assert not (await c.capabilities(not_rcs)).rcs_enabled
        bulk = await c.bulk_capabilities([rcs_user, not_rcs])
        assert bulk.reachable == {rcs_user} and bulk.unreachable == {not_rcs}
        state.clock.offset_s += 9 * 3600  # 08:00 Paris: refused before any request
        with pytest.raises(OutsideAllowedWindow):
            await c.bulk_capabilities([rcs_user])
